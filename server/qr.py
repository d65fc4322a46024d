"""A shop's QR code (segno) and its printable A4 poster (reportlab): what grid workers post on the shop's wall.

The code encodes `{public base URL}/s/{code}`: any phone camera opens the public card in the browser, no app to
install. Posters use reportlab's built-in CID font STSong-Light, so Chinese renders with no font file shipped; text
is drawn as text (never markup), so a hostile shop name is printed, not interpreted.
"""

from __future__ import annotations

import io
import ipaddress
from collections.abc import Iterable, Mapping
from typing import Any, Final
from urllib.parse import quote, urlsplit

import segno
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

FONT: Final = "STSong-Light"
ERROR_LEVEL: Final = "m"  # 15 % of the code may be dirty or torn and it still scans
MAX_SCALE: Final = 40
# The how-to, in the seed report's words: scan, the activation code a first-time owner needs (the grid worker
# hands it out), self-check weekly, see the score and rank.
HOW_TO: Final = (
    "① 打开手机微信或相机，扫一扫上方二维码，无需下载安装",
    "② 店主：首次使用请向网格员索取激活码",
    "③ 店主：登录后每星期自查一次，如实填写、拍照上传",
    "④ 网格员：每月到店扫码巡查，核实检查记录",
    "⑤ 扫码即可查看本店安全积分和排名名次",
)
# Host names that only a local network resolves (a bare name such as `office-pc` is one too).
LAN_SUFFIXES: Final = (".local", ".lan", ".home.arpa", ".internal", ".intranet", ".localdomain", ".corp")
pdfmetrics.registerFont(UnicodeCIDFont(FONT))


def shop_url(base_url: str, code: str) -> str:
    """What a shop's QR code encodes."""
    return f"{base_url.rstrip('/')}/s/{quote(code, safe='')}"


def address_flags(base_url: str) -> dict[str, bool]:
    """What keeps a phone from opening `{base_url}/s/{code}` (every flag false: nothing known does).

    `localhost`: the name localhost (or *.localhost); `loopback`: this computer itself (localhost, 127.0.0.0/8, ::1,
    0.0.0.0); `private`: an address or name only a local network reaches (10/8, 172.16/12, 192.168/16, 100.64/10,
    fc00::/7, link-local, a bare name or .local/.lan ...); `http`: not https, so a phone that opens it gets no
    service worker (no offline use) even where it reaches it.
    """
    parts = urlsplit(base_url.strip())
    host = (parts.hostname or "").lower().rstrip(".")
    localhost = host == "localhost" or host.endswith(".localhost")
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address | None
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        ip = None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    loopback = localhost or (ip is not None and (ip.is_loopback or ip.is_unspecified))
    if ip is not None:
        private = not loopback and not ip.is_global
    else:
        private = not loopback and ("." not in host or host.endswith(LAN_SUFFIXES))
    return {"loopback": loopback, "localhost": localhost, "private": private, "http": parts.scheme != "https"}


def poster_address(base_url: str, configured: bool) -> dict[str, Any]:
    """The office's poster screen's answer: the base every QR code and poster holds, the URL pattern, whether it
    is `MASHANG_PUBLIC_URL` (`configured`) or the address of the office's own request, and `address_flags`;
    `ok` when no flag is raised."""
    base = base_url.strip().rstrip("/")
    flags = address_flags(base)
    return {"base": base, "url": f"{base}/s/{{code}}", "configured": configured, **flags, "ok": not any(flags.values())}


def serve_note(public_url: str | None) -> str | None:
    """`mashang serve`'s start-up line about the address posters will hold, or None when it looks right."""
    if not public_url:
        return (
            "mashang serve: MASHANG_PUBLIC_URL is unset: QR codes and posters will hold the address the office's "
            "browser uses (a loopback or LAN address reaches no phone): set it to the https address phones reach"
        )
    flags = address_flags(public_url)
    raised = [name for name, up in flags.items() if up and not (name == "localhost" and flags["loopback"])]
    if not raised:
        return None
    return (
        f"mashang serve: MASHANG_PUBLIC_URL={public_url} is {'/'.join(raised)}: QR codes and posters may reach no "
        "phone (or work online only); set it to the https address phones reach"
    )


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
    # What the code holds, in small print: a poster made with a wrong address shows it on paper.
    printed = _fit(url, 9, width - 30 * mm, smallest=6)
    canvas.setFont(FONT, printed[1])
    canvas.setFillColorRGB(0.35, 0.35, 0.35)
    canvas.drawCentredString(centre, top - side - 11 * mm, printed[0])
    canvas.setFillColorRGB(0, 0, 0)

    canvas.setFont(FONT, 13)
    y = top - side - 20 * mm
    for line in HOW_TO:
        canvas.drawString(25 * mm, y, line)
        y -= 9 * mm
    canvas.setFont(FONT, 10)
    canvas.setFillColorRGB(0.35, 0.35, 0.35)
    canvas.drawCentredString(centre, 14 * mm, "发现严重隐患系统立即报警 · 安全生产红黑榜每月公布")


def _fit(text: str, size: float, room: float, smallest: float = 9) -> tuple[str, float]:
    """The text at the largest size up to `size` (not below `smallest`) that fits `room`; cut with … if still too
    wide."""
    while size > smallest and pdfmetrics.stringWidth(text, FONT, size) > room:
        size -= 1
    while len(text) > 1 and pdfmetrics.stringWidth(text, FONT, size) > room:
        text = text[:-2] + "…"
    return text, size
