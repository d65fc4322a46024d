"""A shop's public card (what scanning its QR poster shows anyone) and the badge delivery and review platforms embed.

Only what the poster on the wall already tells the street: name, address, points, rank, red/black list and the
days of the last self-check and patrol. Never the owner, a phone number, a hazard's detail or a photo.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any, Final
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from server.errors import CouchError, not_found
from server.models import default_rules, shop_doc_id
from server.models.common import is_shop_code
from server.store.protocol import AllDocsQuery, Doc, Store
from server.store.upsert import read

NAME_CHARS: Final = 16  # a longer name is cut with "…" on the badge
LABEL: Final = "码上安全"
COLOURS: Final = {"red": "#cf1322", "black": "#1f1f1f", None: "#2f6fb0"}
GREY: Final = "#9f9f9f"  # the badge of a code with no active shop behind it
LIST_NAMES: Final = {"red": "红榜", "black": "黑榜"}
# Characters XML 1.0 cannot carry at all, not even escaped.
NOT_XML: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


# The reason of the 404 for a closed shop (an unknown code's says "missing"): the poster still hangs on the wall, and
# the phone says the shop is closed rather than that there is no such shop. Nothing else of the shop is told.
CLOSED: Final = "closed"
MISSING: Final = "missing"


async def shop_card(store: Store, code: str) -> Doc:
    """The card of an active shop; 404 for an unknown code (reason `missing`) or a closed shop (reason `closed`)."""
    shop = await read(store, shop_doc_id(code)) if is_shop_code(code) else None
    if shop is not None and shop.get("type") == "shop" and shop.get("status") == "closed":
        raise not_found(CLOSED)
    if shop is None or shop.get("type") != "shop" or shop.get("status") != "active":
        raise not_found(MISSING)
    score = await read(store, f"{code}:score") or {}
    return {
        "code": code,
        "name": shop.get("name"),
        "address": shop.get("address"),
        "points": score.get("points"),
        "rank": score.get("rank"),
        "of": score.get("of"),
        "list": score.get("list"),
        "last_self_check": _iso(await last_day(store, code, "self_check")),
        "last_patrol": _iso(await last_day(store, code, "patrol")),
        "badge": f"/api/public/shops/{code}/badge.svg",
    }


async def last_day(store: Store, code: str, kind: str) -> date | None:
    """The day (in the rules' time zone) of the shop's latest event of `kind`: ULIDs sort by time, so it is the
    last id of the `{code}:{kind}:` range."""
    query = AllDocsQuery(
        startkey=f"{code}:{kind}:\ufff0", endkey=f"{code}:{kind}:", descending=True, limit=1, include_docs=True
    )
    rows = (await store.all_docs(query))["rows"]
    doc = rows[0].get("doc") if rows else None
    try:
        moment = datetime.fromisoformat(doc["performed_at"]) if isinstance(doc, dict) else None
    except (KeyError, TypeError, ValueError):
        return None
    if moment is None or moment.utcoffset() is None:
        return None
    return moment.astimezone(ZoneInfo(default_rules().timezone)).date()


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def badge_svg(card: dict[str, Any]) -> str:
    """A 20-pixel-high badge: `码上安全 | {name} {points}分 第{rank}/{of} 红榜`, red for the red list, black for the
    black list. Every piece of text is escaped, so a shop name can never become markup."""
    name = _clean(str(card.get("name") or card.get("code") or ""))
    if len(name) > NAME_CHARS:
        name = name[: NAME_CHARS - 1] + "…"
    parts = [name]
    if card.get("points") is None:
        parts.append("暂无积分")
    else:
        parts.append(f"{card['points']}分")
        if card.get("rank") and card.get("of"):
            parts.append(f"第{card['rank']}/{card['of']}")
    listed = card.get("list")
    if listed in LIST_NAMES:
        parts.append(LIST_NAMES[listed])
    colour = COLOURS.get(listed if listed in LIST_NAMES else None, COLOURS[None])
    return _badge(" ".join(parts), colour)


def missing_badge_svg(error: CouchError) -> str:
    """The grey badge of a code with no card (`shop_card`'s 404): `码上安全 | 已停业` for a closed shop, else
    `码上安全 | 未登记`, so an embedded badge never shows as a broken image."""
    return _badge("已停业" if error.reason == CLOSED else "未登记", GREY)


def _badge(message: str, colour: str) -> str:
    left, right = _width(LABEL) + 12, _width(message) + 12
    total = left + right
    title = escape(f"{LABEL}: {message}")
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{total}" height="20" role="img" aria-label="{_attr(title)}">'
        f"<title>{title}</title>"
        f'<rect width="{left}" height="20" rx="3" fill="#555"/>'
        f'<rect x="{left}" width="{right}" height="20" rx="3" fill="{colour}"/>'
        f'<rect x="{left}" width="4" height="20" fill="{colour}"/>'
        '<g fill="#fff" text-anchor="middle" font-size="12" '
        'font-family="PingFang SC,Microsoft YaHei,Noto Sans CJK SC,Verdana,sans-serif">'
        f'<text x="{left / 2:g}" y="14">{escape(LABEL)}</text>'
        f'<text x="{left + right / 2:g}" y="14">{escape(message)}</text>'
        "</g></svg>"
    )


def _clean(text: str) -> str:
    return NOT_XML.sub("", text)


def _attr(escaped: str) -> str:
    """Text already escaped for element content, made safe inside a double-quoted attribute too."""
    return escaped.replace('"', "&quot;")


def _width(text: str) -> int:
    """Roughly how wide `text` is at 12 px: CJK and full-width characters are square, the rest about half."""
    return sum(12 if ord(char) >= 0x2E80 else 7 for char in text)
