"""A shop's QR code (segno) and its printable A4 poster (reportlab): what grid workers post on the shop's wall.

The code encodes `{public base URL}/s/{code}`: any phone camera opens the public card in the browser, no app to
install. Posters use reportlab's built-in CID font STSong-Light, so Chinese renders with no font file shipped; text
is drawn as text (never markup), so a hostile shop name is printed, not interpreted.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping
from typing import Any, Final
from urllib.parse import quote

import segno
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

FONT: Final = "STSong-Light"
ERROR_LEVEL: Final = "m"  # 15 % of the code may be dirty or torn and it still scans
MAX_SCALE: Final = 40
# The how-to, in the seed report's words: scan, self-check weekly, see the score and rank.
HOW_TO: Final = (
    "① 打开手机微信或相机，扫一扫上方二维码，无需下载安装",
    "② 店主：登录后每星期自查一次，如实填写、拍照上传",
    "③ 网格员：每月到店扫码巡查，核实检查记录",
    "④ 扫码即可查看本店安全积分和排名名次",
)
pdfmetrics.registerFont(UnicodeCIDFont(FONT))


def shop_url(base_url: str, code: str) -> str:
    """What a shop's QR code encodes."""
    return f"{base_url.rstrip('/')}/s/{quote(code, safe='')}"


def qr(url: str) -> segno.QRCode:
    return segno.make_qr(url, error=ERROR_LEVEL, boost_error=False)


def qr_svg(url: str, scale: int = 8) -> bytes:
    out = io.BytesIO()
    qr(url).save(out, kind="svg", scale=scale, border=4, xmldecl=True, svgns=True, title="码上安全")
    return out.getvalue()


def qr_png(url: str, scale: int = 8) -> bytes:
    out = io.BytesIO()
    qr(url).save(out, kind="png", scale=scale, border=4)
    return out.getvalue()


def posters_pdf(shops: Iterable[Mapping[str, Any]], base_url: str, community_name: str = "") -> bytes:
    """One A4 poster per shop (registry documents with `code`, `name`, `address`), in the order given."""
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=A4, pageCompression=1, invariant=True)
    canvas.setTitle("码上安全 店铺二维码")
    canvas.setAuthor("码上安全")
    for shop in shops:
        _poster(canvas, shop, shop_url(base_url, str(shop["code"])), community_name)
        canvas.showPage()
    canvas.save()
    return out.getvalue()


def _poster(canvas: Canvas, shop: Mapping[str, Any], url: str, community_name: str) -> None:
    width, height = A4
    centre = width / 2
    canvas.setFillColorRGB(0.75, 0.1, 0.1)
    canvas.rect(0, height - 42 * mm, width, 42 * mm, stroke=0, fill=1)
    canvas.setFillColorRGB(1, 1, 1)
    canvas.setFont(FONT, 40)
    canvas.drawCentredString(centre, height - 24 * mm, "码上安全")
    canvas.setFont(FONT, 14)
    canvas.drawCentredString(centre, height - 35 * mm, "店铺安全电子档案 · 扫码自查")

    canvas.setFillColorRGB(0, 0, 0)
    name = _fit(str(shop.get("name", "")), 26, width - 30 * mm)
    canvas.setFont(FONT, name[1])
    canvas.drawCentredString(centre, height - 60 * mm, name[0])
    address = _fit(str(shop.get("address", "")), 14, width - 30 * mm)
    canvas.setFont(FONT, address[1])
    where = address[0] if not community_name else f"{community_name} · {address[0]}"
    canvas.drawCentredString(centre, height - 70 * mm, _fit(where, address[1], width - 30 * mm)[0])

    side = 110 * mm
    code = qr(url)
    modules = code.symbol_size(scale=1, border=4)[0]
    cell = side / modules
    left, top = centre - side / 2, height - 80 * mm
    for r, row in enumerate(code.matrix_iter(scale=1, border=4)):
        for c, dark in enumerate(row):
            if dark:
                canvas.rect(left + c * cell, top - (r + 1) * cell, cell, cell, stroke=0, fill=1)
    canvas.setFont(FONT, 12)
    canvas.drawCentredString(centre, top - side - 6 * mm, f"店铺编号 {shop.get('code', '')}")

    canvas.setFont(FONT, 13)
    y = top - side - 20 * mm
    for line in HOW_TO:
        canvas.drawString(25 * mm, y, line)
        y -= 9 * mm
    canvas.setFont(FONT, 10)
    canvas.setFillColorRGB(0.35, 0.35, 0.35)
    canvas.drawCentredString(centre, 14 * mm, "发现重大隐患系统立即报警 · 安全生产红黑榜每月公布")


def _fit(text: str, size: float, room: float) -> tuple[str, float]:
    """The text at the largest size up to `size` (not below 9 pt) that fits `room`; cut with … if still too wide."""
    while size > 9 and pdfmetrics.stringWidth(text, FONT, size) > room:
        size -= 1
    while len(text) > 1 and pdfmetrics.stringWidth(text, FONT, size) > room:
        text = text[:-2] + "…"
    return text, size
