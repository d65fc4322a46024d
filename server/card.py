"""A shop's public card (what scanning its QR poster shows anyone) and the badge delivery and review platforms embed.

Only what the poster on the wall already tells the street: name, address, points, rank, red/black list and the
days of the last self-check and patrol. Never the owner, a phone number, a hazard's detail or a photo.

The list is the one the safety office published (公示): the shop's list in the latest publication of its
sub-district (`office:publication:{subdistrict}:{month}`, `server.office.rankings.publish`), with its month. The
live list of `{code}:score` is provisional until the month ends and the office publishes it, and is never shown to
the street. Points, rank and of stay live.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from datetime import date, datetime
from typing import Any, Final
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from server.errors import CouchError, not_found
from server.models import community_doc_id, default_rules, shop_doc_id
from server.models.common import is_shop_code
from server.office.rankings import publication_id
from server.store.protocol import AllDocsQuery, Doc, Store
from server.store.upsert import read

NAME_CHARS: Final = 16  # a longer name is cut with "…" on the badge
LABEL: Final = "码上安全"
COLOURS: Final = {"red": "#cf1322", "black": "#1f1f1f", None: "#2f6fb0"}
# The badge of a code with no active shop behind it. Every fill keeps its white 12 px text legible: a contrast of at
# least 4.5:1 (WCAG AA), which #9f9f9f (2.6:1) did not.
GREY: Final = "#707070"
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
    listed, month = await published_list(store, code, shop)
    return {
        "code": code,
        "name": shop.get("name"),
        "address": shop.get("address"),
        "points": score.get("points"),
        "rank": score.get("rank"),
        "of": score.get("of"),
        "list": listed,
        "list_month": month,
        "last_self_check": _iso(await last_day(store, code, "self_check")),
        "last_patrol": _iso(await last_day(store, code, "patrol")),
        "badge": f"/api/public/shops/{code}/badge.svg",
    }


# Each publication's shops on a list (code → red/black), by its id and revision: a publication is written once and
# never changes, and a revision names its content, so an entry never goes stale. A card reads one of them per scan
# (its sub-district's latest); a few months of a few sub-districts are all that is ever asked for.
_LISTS: OrderedDict[tuple[str, str], dict[str, str]] = OrderedDict()
_LISTS_KEPT: Final = 32


async def published_list(store: Store, code: str, shop: Doc) -> tuple[str | None, str | None]:
    """The shop's list (`red`, `black` or None: on neither) in the latest publication of its sub-district (through
    its community), and that publication's month; (None, None) while the sub-district has published nothing."""
    community = await read(store, community_doc_id(str(shop["community"]))) if shop.get("community") else None
    subdistrict = (community or {}).get("subdistrict")
    if not subdistrict:
        return None, None
    prefix = publication_id(str(subdistrict), "")
    query = AllDocsQuery(startkey=prefix + "\ufff0", endkey=prefix, descending=True, limit=1)
    rows = (await store.all_docs(query))["rows"]
    if not rows:
        return None, None
    key = (str(rows[0]["id"]), str(rows[0]["value"]["rev"]))
    lists = _LISTS.get(key)
    if lists is None:
        doc = await read(store, key[0]) or {}
        lists = {
            str(entry["shop"]): str(entry["list"])
            for entry in doc.get("entries", ())
            if isinstance(entry, dict) and entry.get("list") in LIST_NAMES and entry.get("shop")
        }
        _LISTS[key] = lists
        while len(_LISTS) > _LISTS_KEPT:
            _LISTS.popitem(last=False)
    else:
        _LISTS.move_to_end(key)
    return lists.get(code), key[0].removeprefix(prefix)


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
    """A 20-pixel-high badge: `码上安全 | {name} {points}分 第{rank}/{of} 2026-11 红榜` (the published list with its
    month), red for the red list, black for the black list. Every piece of text is escaped, so a shop name can never
    become markup."""
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
        month = card.get("list_month")
        parts.append(f"{_clean(str(month))} {LIST_NAMES[listed]}" if month else LIST_NAMES[listed])
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
