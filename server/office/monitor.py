"""The sync monitor: per user and device, what the device last reported (A1's `accounts:device:*` reports), the
newest event the user's devices delivered, the documents the gateway refused (the quarantine), and who has been
silent for more than `SILENT_DAYS` days. An owner's account is named by its shop (`shop`, `shop_name`), since
that is how the office knows them. Devices come first when they are silent with records or photos still waiting on
them (what may be lost if the phone is), then the other silent ones, longest silent first.

A sub-district's office sees the rows of its own users only (`keep`), and of their refused documents only those
the quarantine list shows it (`visible`: `server.api.office`'s rule, by the refused document's shop): a grid worker
shared with another sub-district does not bring that sub-district's refusals along.

Device reports are read defensively (any of a few field names for the user, device and time), since their
writer is another module; a report that names no user is listed under `user_id: null`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from server.office.facts import View
from server.quarantine import CONFLICT
from server.quarantine import PREFIX as QUARANTINE
from server.store.protocol import AllDocsQuery, Doc, Store

SILENT_DAYS: Final = 3
DEVICE_PREFIX: Final = "accounts:device:"
MAX_REFUSED: Final = 10000  # the newest quarantine entries counted per user
USER_FIELDS: Final = ("user_id", "user")
TIME_FIELDS: Final = ("reported_at", "received_at", "last_seen", "updated_at", "at")
ROLES: Final = ("owner", "grid")


async def _range(store: Store, start: str, end: str, descending: bool = False, limit: int | None = None) -> list[Doc]:
    query = AllDocsQuery(startkey=start, endkey=end, descending=descending, limit=limit, include_docs=True)
    return [row["doc"] for row in (await store.all_docs(query))["rows"] if row.get("doc")]


def _first(doc: Mapping[str, Any], names: Sequence[str]) -> Any:
    return next((doc[name] for name in names if isinstance(doc.get(name), str)), None)


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _shop_of(user_id: str | None, view: View) -> dict[str, Any]:
    """`shop` and `shop_name` of an owner's account; nothing for staff."""
    if not user_id or not user_id.startswith("owner:"):
        return {}
    code = user_id.split(":", 1)[1]
    shop = view.shops.get(code)
    name = shop.doc.get("name") if shop is not None and shop.doc else None
    return {"shop": code, "shop_name": name if isinstance(name, str) else None}


def _waiting(doc: Mapping[str, Any]) -> int:
    """Records and photos the device said were still waiting on it."""
    return sum(value for key in ("pending_docs", "pending_photos") if type(value := doc.get(key)) is int)


def _newest(*values: Any) -> str | None:
    known = [(m, v) for v in values if (m := _moment(v)) is not None]
    return max(known)[1] if known else None


async def sync_monitor(
    store: Store,
    view: View,
    now: datetime,
    keep: Callable[[Doc], bool] | None = None,
    visible: Callable[[list[Doc]], Awaitable[list[Doc]]] | None = None,
) -> dict[str, Any]:
    """The monitor of the users `keep` passes (every user when None; devices that named no user only then), with
    the quarantine entries `visible` keeps of those given it, newest first (every one when None)."""
    users = {
        str(doc["user_id"]): doc
        for doc in await _range(store, "accounts:user:", "accounts:user:\ufff0")
        if doc.get("role") in ROLES and doc.get("user_id")
    }

    def kept(user_id: str | None) -> bool:
        if keep is None:
            return True
        return user_id is not None and keep(users.get(user_id) or {"user_id": user_id})

    users = {user_id: doc for user_id, doc in users.items() if kept(user_id)}
    reports: dict[str | None, list[Doc]] = {}
    for doc in await _range(store, DEVICE_PREFIX, DEVICE_PREFIX + "\ufff0"):
        report = {k: v for k, v in doc.items() if k != "_rev"}
        if kept(_first(doc, USER_FIELDS)):
            reports.setdefault(_first(doc, USER_FIELDS), []).append(report)
    refused: dict[str, list[Doc]] = {}
    entries = await _range(store, QUARANTINE + "\ufff0", QUARANTINE, descending=True, limit=MAX_REFUSED)
    for entry in entries if visible is None else await visible(entries):
        # A note of two bodies stored is not a refusal (the quarantine lists it).
        if entry.get("type") != CONFLICT and kept(str(entry.get("user"))):
            refused.setdefault(str(entry.get("user")), []).append(entry)
    delivered: dict[str, tuple[str, str]] = {}
    for shop in view.shops.values():
        for user_id, at, device in shop.facts.authors:
            if user_id not in delivered or _newest(at, delivered[user_id][0]) == at:
                delivered[user_id] = (at, device)
    silent_before = now - timedelta(days=SILENT_DAYS)
    rows = []
    for user_id in sorted(set(users) | {u for u in reports if u} | set(refused) & set(users)):
        user = users.get(user_id, {})
        devices = sorted(reports.get(user_id, []), key=lambda d: str(_first(d, ("device", "_id"))))
        last_event, last_device = delivered.get(user_id, (None, None))
        last_report = _newest(*(_first(d, TIME_FIELDS) for d in devices))
        last_seen = _newest(last_event, last_report)
        mine = refused.get(user_id, [])
        rows.append(
            {
                "user_id": user_id,
                "role": user.get("role", user_id.split(":", 1)[0]),
                "name": user.get("name"),
                **_shop_of(user_id, view),
                "devices": devices,
                "last_event_at": last_event,
                "last_event_device": last_device,
                "last_report_at": last_report,
                "last_push": _newest(*(d.get("last_push") for d in devices)),  # as the devices reported
                "last_pull": _newest(*(d.get("last_pull") for d in devices)),
                "last_seen": last_seen,
                "silent": last_seen is not None and (_moment(last_seen) or now) < silent_before,
                "never_seen": last_seen is None,
                "refused": len(mine),
                "last_refused": {k: mine[0].get(k) for k in ("received_at", "reason", "doc_id")} if mine else None,
            }
        )
    devices = []
    for owner, docs in reports.items():
        for doc in docs:
            seen = _moment(_first(doc, TIME_FIELDS))
            days = round((now - seen).total_seconds() / 86400, 1) if seen else None
            name = users.get(owner or "", {}).get("name")
            devices.append(
                {
                    **doc,
                    "user_id": owner,
                    "name": name,
                    **_shop_of(owner, view),
                    "silent_days": days,
                    "silent": seen is None or seen < silent_before,
                }
            )
    devices.sort(
        key=lambda d: (
            not (d["silent"] and _waiting(d)),
            not d["silent"],
            -(d["silent_days"] or 0),
            str(d.get("device")),
        )
    )
    return {
        "silent_days": SILENT_DAYS,
        "devices": devices,
        "users": rows,
        "unassigned_devices": reports.get(None, []),
        "refused_total": sum(len(v) for v in refused.values()),
    }
