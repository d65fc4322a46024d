"""Shops, shop e-files (安全电子档案) and grid-worker workloads, as the office reads them."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime, time
from typing import Any, Final
from zoneinfo import ZoneInfo

from server.errors import bad_request, no_such, unknown_in
from server.models.common import is_shop_code
from server.models.projections import ledger_entries
from server.models.registry import clean_phone, shop_doc_id
from server.office.facts import ShopState, View
from server.store.protocol import Doc, Store
from server.store.reads import docs_with_prefix
from server.validators.district import shift_month
from server.validators.stats import ShopFacts, period_bounds

LISTS: Final = ("red", "black", "none")
# A search that is part of a phone number: digits (at least this many), spaces, + and -.
PHONE_TYPED: Final = re.compile(r"[+\d\s-]+")
PHONE_SEARCH_DIGITS: Final = 4
STATUSES: Final = ("active", "closed")
# `?hazards=`: the shops with at least one hazard not closed out, or at least one overdue; most urgent first.
HAZARDS: Final = {"open": "有未销号隐患", "overdue": "有逾期隐患"}
# Not closed out (销号): open, rectified and waiting for a grid worker's verification, or overdue; as the score's
# `open_hazards` counts them, which the ranking and the shops export show.
OPEN: Final = frozenset({"open", "rectified", "overdue"})
# The time each kind of document of a shop's partition is placed at in the timeline.
TIME_FIELDS: Final = {
    "self_check": "performed_at",
    "patrol": "performed_at",
    "rectification": "performed_at",
    "verification": "performed_at",
    "photo": "taken_at",
    "hazard": "found_at",
    "alarm": "created_at",
}


def _last(days: Sequence[date]) -> str | None:
    return max(days).isoformat() if days else None


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def hazard_counts(facts: ShopFacts, today: date) -> tuple[int, int]:
    """(open, overdue) hazards at the end of today: those not closed out, and of them the overdue ones."""
    statuses = [hazard.status_on(today) for hazard in facts.hazards]
    return sum(1 for s in statuses if s in OPEN), sum(1 for s in statuses if s == "overdue")


def earliest_deadline(facts: ShopFacts, today: date) -> date | None:
    """The earliest rectification deadline of the hazards not closed out at the end of today (None: none has one)."""
    return min((h.deadline for h in facts.hazards if h.deadline and h.status_on(today) in OPEN), default=None)


def _urgency(shop: ShopState, today: date) -> tuple[int, int, date, str]:
    """The order of `?hazards=`: most overdue hazards, then most open, then the earliest deadline (none: last),
    then code."""
    open_hazards, overdue = hazard_counts(shop.facts, today)
    return -overdue, -open_hazards, earliest_deadline(shop.facts, today) or date.max, shop.code


def shop_row(view: View, shop: ShopState, today: date) -> dict[str, Any]:
    doc, score = shop.doc or {}, shop.score or {}
    open_hazards, overdue = hazard_counts(shop.facts, today)
    community = view.communities.get(str(doc.get("community")), {})
    grid = view.grids.get(str(doc.get("grid")), {})
    return {
        "code": shop.code,
        "name": doc.get("name"),
        "address": doc.get("address"),
        "category": doc.get("category"),
        "community": doc.get("community"),
        "community_name": community.get("name"),
        "grid": doc.get("grid"),
        "grid_name": grid.get("name"),
        "status": doc.get("status"),
        "owner_activated": doc.get("owner_activated"),
        "points": score.get("points"),
        "rank": score.get("rank"),
        "of": score.get("of"),
        "list": score.get("list"),
        "working_group": bool(score.get("working_group")),
        "open_hazards": open_hazards,
        "overdue_hazards": overdue,
        "earliest_deadline": _iso(earliest_deadline(shop.facts, today)),
        "last_self_check": _last(shop.facts.self_checks),
        "last_patrol": _last(shop.facts.patrols),
    }


def found(q: str, code: str, doc: Doc) -> bool:
    """Whether the office's search `q` (lower case) finds the shop: in its code, name or address, or its contact's
    name (负责人) or phone (联系电话). A phone is found by its digits, however either is written: 13800138000 or the
    last four digits, 8000, find +86 138-0013-8000."""
    contact = doc.get("contact") or {}
    said = (*(doc.get(k) for k in ("code", "name", "address")), contact.get("name"), code)
    if any(isinstance(text, str) and q in text.lower() for text in said):
        return True
    typed = clean_phone(q)  # full-width digits (a Chinese keyboard's ８０００) and dashes made plain
    digits = re.sub(r"\D", "", typed)
    phone = re.sub(r"\D", "", str(contact.get("phone") or ""))
    return len(digits) >= PHONE_SEARCH_DIGITS and PHONE_TYPED.fullmatch(typed) is not None and digits in phone


def list_shops(view: View, params: Mapping[str, str], limit: int, offset: int) -> dict[str, Any]:
    """`?community=&grid=&q=&list=&status=&hazards=`: the matching shops in code order, one page of them, and their
    total; `hazards=open|overdue` keeps the shops with a hazard not closed out (an overdue one), most urgent first
    (`_urgency`), the office's daily list of what to chase."""
    community, grid, q = params.get("community"), params.get("grid"), (params.get("q") or "").strip().lower()
    listed, status = params.get("list") or None, params.get("status") or None
    hazards = params.get("hazards") or None
    if listed is not None and listed not in LISTS:
        raise bad_request(f"list: one of {', '.join(LISTS)}")
    if status is not None and status not in STATUSES:
        raise bad_request(f"status: one of {', '.join(STATUSES)}")
    if hazards is not None and hazards not in HAZARDS:
        named = "、".join(f"{key}（{name}）" for key, name in HAZARDS.items())
        raise bad_request(f"隐患筛选只能是 {named}。hazards: one of {', '.join(HAZARDS)}")
    if community and community not in view.communities:
        raise unknown_in("community", "community", community)
    if grid and grid not in view.grids:
        raise unknown_in("grid", "grid", grid)
    today = view.today()
    rows = []
    for code, shop in sorted(view.shops.items()):
        doc = shop.doc or {}
        if (community and doc.get("community") != community) or (grid and doc.get("grid") != grid):
            continue
        if status and doc.get("status") != status:
            continue
        if listed and ((shop.score or {}).get("list") or "none") != listed:
            continue
        if q and not found(q, code, doc):
            continue
        if hazards and not hazard_counts(shop.facts, today)[1 if hazards == "overdue" else 0]:
            continue
        rows.append(shop)
    if hazards:
        rows.sort(key=lambda shop: _urgency(shop, today))
    page = [shop_row(view, shop, today) for shop in rows[offset : offset + limit]]
    return {"items": page, "total": len(rows), "limit": limit, "offset": offset}


def _moment(value: Any, zone: ZoneInfo) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), time(23, 59, 59), zone)
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _outline(doc: Doc) -> Doc:
    """A document as the e-file shows it: no revision; attachments as their names and sizes."""
    out = {k: v for k, v in doc.items() if k not in ("_rev", "_attachments")}
    attachments = doc.get("_attachments")
    if isinstance(attachments, dict):
        out["attachments"] = {
            name: {"content_type": att.get("content_type"), "length": att.get("length")}
            for name, att in attachments.items()
            if isinstance(att, dict)
        }
    return out


async def efile(store: Store, view: View, code: str) -> dict[str, Any]:
    """The shop's details and its whole timeline, newest first: every check, patrol, rectification, verification,
    photo, hazard (with its history), alarm and ledger entry. A ledger entry sits at the time of its source;
    documents with no time (reward points) are listed apart under `other`."""
    if not is_shop_code(code):
        raise bad_request("code: a shop code of letters, digits, _ and -")
    docs = await docs_with_prefix(store, f"{code}:")
    by_id = {doc["_id"]: doc for doc in docs}
    shop = by_id.get(shop_doc_id(code))
    if shop is None:
        raise no_such("shop", code)
    zone = ZoneInfo(view.rules.timezone)
    timeline, other = [], []
    # A month's ledger is listed as its entries, each at the time of its source.
    listed = (entry for doc in docs for entry in (ledger_entries(doc) if doc.get("type") == "ledger" else [doc]))
    for doc in listed:
        kind = str(doc.get("type"))
        if kind == "receipt":
            continue  # the server's note of when self-checks arrived (`models.Receipt`): its bookkeeping
        if kind == "ledger":
            source = by_id.get(str(doc.get("source")), {})
            at = _moment(source.get(TIME_FIELDS.get(str(source.get("type")), "")), zone) or _moment(
                doc.get("day"), zone
            )
        elif kind in TIME_FIELDS:
            at = _moment(doc.get(TIME_FIELDS[kind]), zone)
        else:
            if doc["_id"] not in (shop_doc_id(code), f"{code}:score"):
                other.append(_outline(doc))  # documents with no place in time (reward points, ...)
            continue
        timeline.append((at or datetime.min.replace(tzinfo=UTC), doc["_id"], _outline(doc)))
    timeline.sort(key=lambda entry: (entry[0], entry[1]), reverse=True)
    state = view.shops.get(code)
    community = view.communities.get(str(shop.get("community")), {})
    grid = view.grids.get(str(shop.get("grid")), {})
    return {
        "shop": {**_outline(shop), "community_name": community.get("name"), "grid_name": grid.get("name")},
        "summary": shop_row(view, state, view.today()) if state else None,
        "score": _outline(by_id[f"{code}:score"]) if f"{code}:score" in by_id else None,
        "timeline": [{**doc, "at": at.isoformat() if at.year > 1 else None} for at, _, doc in timeline],
        "other": other,
    }


async def workers(store: Store, view: View, keep: Callable[[Doc], bool] = lambda _user: True) -> list[dict[str, Any]]:
    """Every grid worker with their grids, active shops, shops patrolled this month (by anyone: the grid's coverage;
    `patrolled_by_them_month`: by this worker, where two share a grid), overdue patrols (active shops registered
    before this month with no patrol since the start of last month: last month's patrol was missed) and open /
    overdue hazards.
    `keep` says which grid-worker accounts to list beside those named by the view's grids."""
    users = {
        str(doc["user_id"]): doc
        for doc in await docs_with_prefix(store, "accounts:user:grid:")
        if doc.get("user_id") and keep(doc)
    }
    today = view.today()
    this_month = period_bounds(f"{today.year}-{today.month:02d}")[0]
    last_month = period_bounds(shift_month(f"{today.year}-{today.month:02d}", -1))[0]
    first_day = today.replace(day=1).isoformat()
    grids_of: dict[str, list[str]] = {}
    for code, grid in sorted(view.grids.items()):
        for name in grid.get("workers", ()):
            grids_of.setdefault(f"grid:{name}", []).append(code)
    out = []
    for user_id in sorted(set(users) | set(grids_of)):
        user = users.get(user_id, {})
        grids = grids_of.get(user_id, [])
        codes = sorted({str(c) for g in grids for c in view.grids[g].get("shops", ())})
        shops = [view.shops[c] for c in codes if c in view.shops and view.shops[c].facts.active]
        active = [shop.facts for shop in shops]
        # A shop registered this month missed no patrol of last month (one registered during it did).
        owing = [shop.facts for shop in shops if str((shop.doc or {}).get("opened") or "") < first_day]
        hazards = [hazard_counts(facts, today) for facts in active]
        last = max((max(f.patrols) for f in active if f.patrols), default=None)
        patrolled = sum(1 for f in active if any(d >= this_month for d in f.patrols))
        own = sum(1 for f in active if any(d >= this_month and by == user_id for d, by in f.patrolled_by))
        out.append(
            {
                "user_id": user_id,
                "username": user.get("username", user_id.split(":", 1)[1]),
                "name": user.get("name"),
                "disabled": bool(user.get("disabled")),
                "grids": [{"code": g, "name": view.grids[g].get("name")} for g in grids],
                "shops": len(active),
                "patrolled_month": patrolled,
                "patrolled_by_them_month": own,
                "coverage": patrolled / len(active) if active else None,
                "overdue_patrols": sum(1 for f in owing if not any(d >= last_month for d in f.patrols)),
                "open_hazards": sum(h[0] for h in hazards),
                "overdue_hazards": sum(h[1] for h in hazards),
                "last_patrol": last.isoformat() if last else None,
            }
        )
    return out
