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

A district's 30,000 shops make ~30,000 owners and devices: the office asks for a page of each list (`Wanted`) with
the rows it looks for (a search, only the problems), and the counts of the whole monitor come beside it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final, TypeVar

from server.errors import bad_request
from server.office.facts import View
from server.quarantine import CONFLICT
from server.quarantine import PREFIX as QUARANTINE
from server.store.protocol import AllDocsQuery, Doc, Store

_T = TypeVar("_T")

SILENT_DAYS: Final = 3
DEVICE_PREFIX: Final = "accounts:device:"
USERS: Final = "accounts:user:"
OWNERS: Final = f"{USERS}owner:"
GRID_WORKERS: Final = f"{USERS}grid:"
MAX_REFUSED: Final = 10000  # the newest quarantine entries counted per user
USER_FIELDS: Final = ("user_id", "user")
TIME_FIELDS: Final = ("reported_at", "received_at", "last_seen", "updated_at", "at")
ROLES: Final = ("owner", "grid")
# The rows `?only=` keeps. A device's problem: silent, or records and photos waiting on it; a user's: silent, their
# devices' waiting records, or refused documents (a device "refused": its user's). `seen`: every device, and the
# users that ever delivered an event or reported a device.
ONLY: Final = ("problems", "silent", "waiting", "refused", "seen")
NAMED: Final = 200  # the newest quarantine entries whose users the answer names (`people`): the screen's page of them


@dataclass(frozen=True)
class Wanted:
    """The rows of both lists the office asks for, and the page of each (`limit` None: every row)."""

    only: str | None = None
    role: str | None = None
    q: str = ""
    limit: int | None = None
    users_offset: int = 0
    devices_offset: int = 0

    @classmethod
    def of(cls, params: Mapping[str, str], limit: int | None, users_offset: int, devices_offset: int) -> Wanted:
        only, role = params.get("only") or None, params.get("role") or None
        if only is not None and only not in ONLY:
            raise bad_request(f"only: one of {', '.join(ONLY)}")
        if role is not None and role not in ROLES:
            raise bad_request(f"role: one of {', '.join(ROLES)}")
        q = (params.get("q") or "").strip().lower()
        return cls(only, role, q, limit, users_offset, devices_offset)

    def takes(self, user_id: str | None, flags: Mapping[str, bool], names: Callable[[], Iterable[Any]]) -> bool:
        """Whether a row of `user_id` (None: a device naming no user) with these `flags` is asked for; `names` gives
        what a search looks in, asked only when there is one."""
        if self.only is not None and not flags[self.only]:
            return False
        if self.role is not None and (user_id is None or user_id.split(":", 1)[0] != self.role):
            return False
        return not self.q or any(isinstance(name, str) and self.q in name.lower() for name in names())

    def page(self, rows: list[_T], offset: int) -> list[_T]:
        return rows[offset:] if self.limit is None else rows[offset : offset + self.limit]


async def _range(store: Store, start: str, end: str, descending: bool = False, limit: int | None = None) -> list[Doc]:
    query = AllDocsQuery(startkey=start, endkey=end, descending=descending, limit=limit, include_docs=True)
    return [row["doc"] for row in (await store.all_docs(query))["rows"] if row.get("doc")]


async def _accounts(store: Store) -> dict[str, Doc]:
    """The owners' and grid workers' accounts by user id. An owner's is known by its id alone (its name is its shop's
    code, and what the monitor shows of an owner comes from the shop): the ids of a district's 30,000 owners are read
    in a fraction of the time their documents would take."""
    owners = await store.all_docs(AllDocsQuery(startkey=OWNERS, endkey=OWNERS + "\ufff0"))
    found: dict[str, Doc] = {}
    for row in owners["rows"]:
        user_id = str(row["id"]).removeprefix(USERS)
        found[user_id] = {"user_id": user_id, "role": "owner", "name": user_id.split(":", 1)[1]}
    for doc in await _range(store, GRID_WORKERS, GRID_WORKERS + "\ufff0"):
        if doc.get("role") == "grid" and doc.get("user_id"):
            found[str(doc["user_id"])] = doc
    return found


def _first(doc: Mapping[str, Any], names: Sequence[str]) -> Any:
    for name in names:
        if isinstance(value := doc.get(name), str):
            return value
    return None


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def owner_shop(user_id: str | None, view: View) -> dict[str, Any]:
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


def _report(doc: Doc) -> Doc:
    """A device report as the monitor shows it: without its revision."""
    return {k: v for k, v in doc.items() if k != "_rev"}


def _newest(*values: Any) -> str | None:
    known = [(m, v) for v in values if (m := _moment(v)) is not None]
    return max(known)[1] if known else None


def _flags(silent: bool, waiting: bool, refused: bool, seen: bool) -> dict[str, bool]:
    """A row's answer to each `?only=`."""
    return {
        "problems": silent or waiting or refused,
        "silent": silent,
        "waiting": waiting,
        "refused": refused,
        "seen": seen,
    }


def _count(counts: dict[str, int], flags: Mapping[str, bool]) -> None:
    counts["all"] += 1
    for name, on in flags.items():
        if on:
            counts[name] += 1


async def sync_monitor(
    store: Store,
    view: View,
    now: datetime,
    keep: Callable[[Doc], bool] | None = None,
    visible: Callable[[list[Doc]], Awaitable[list[Doc]]] | None = None,
    wanted: Wanted = Wanted(),
) -> dict[str, Any]:
    """The monitor of the users `keep` passes (every user when None; devices that named no user only then), with
    the quarantine entries `visible` keeps of those given it, newest first (every one when None): the page of each
    list that `wanted` asks for (`users`, `devices`; their `total` and `offset`, and the `limit`), and `counts` of
    every row in reach whatever was asked for: of `users` (`all`, and each of `ONLY`) and of `devices` (the same, and
    `silent_waiting`: silent with records or photos still on it). Every row is counted and tested, and only the
    page's rows are written out (all of a district's took as long as reading its accounts and phones)."""
    users = await _accounts(store)

    def kept(user_id: str | None) -> bool:
        if keep is None:
            return True
        return user_id is not None and keep(users.get(user_id) or {"user_id": user_id})

    users = {user_id: doc for user_id, doc in users.items() if kept(user_id)}
    reports: dict[str | None, list[Doc]] = {}
    for doc in await _range(store, DEVICE_PREFIX, DEVICE_PREFIX + "\ufff0"):
        owner = _first(doc, USER_FIELDS)
        if kept(owner):
            reports.setdefault(owner, []).append(doc)
    refused: dict[str, list[Doc]] = {}
    entries = await _range(store, QUARANTINE + "\ufff0", QUARANTINE, descending=True, limit=MAX_REFUSED)
    shown = entries if visible is None else await visible(entries)
    for entry in shown:
        # A note of two bodies stored is not a refusal (the quarantine lists it).
        if entry.get("type") != CONFLICT and kept(str(entry.get("user"))):
            refused.setdefault(str(entry.get("user")), []).append(entry)
    delivered: dict[str, tuple[str, str]] = {}
    from_device: dict[tuple[str, str], str] = {}  # the newest event delivered by each user's each device
    for shop in view.shops.values():
        for user_id, at, device in shop.facts.authors:
            if user_id not in delivered or _newest(at, delivered[user_id][0]) == at:
                delivered[user_id] = (at, device)
            if (user_id, device) not in from_device or _newest(at, from_device[user_id, device]) == at:
                from_device[user_id, device] = at
    silent_before = now - timedelta(days=SILENT_DAYS)

    def heard(*moments: Any) -> tuple[datetime | None, bool]:
        """When a device or a user was last heard from (the newest of `moments`: its reports, the events it
        delivered), and whether that was more than `SILENT_DAYS` ago: the one rule of the devices' and the users'
        silence, and of both counts (a phone that reported 5 days ago but delivered a patrol today was counted silent
        in the screen's line while its user's row said it was not)."""
        moment = _moment(_newest(*moments))
        return moment, moment is not None and moment < silent_before

    def device_heard(owner: str | None, doc: Doc) -> tuple[datetime | None, bool]:
        """A device's report, or the newest event its user delivered from it, whichever is newer."""
        return heard(_first(doc, TIME_FIELDS), from_device.get((owner or "", str(doc.get("device") or ""))))

    def names(user_id: str | None, *more: Any) -> Callable[[], Iterable[Any]]:
        return lambda: (user_id, users.get(user_id or "", {}).get("name"), *owner_shop(user_id, view).values(), *more)

    def last_seen(user_id: str) -> tuple[str | None, str | None]:
        """The newest report of the user's devices, and the newest of it and their newest event delivered."""
        last_report = _newest(*(_first(d, TIME_FIELDS) for d in reports.get(user_id, ())))
        return last_report, _newest(delivered.get(user_id, (None,))[0], last_report)

    def user_row(user_id: str) -> dict[str, Any]:
        user = users.get(user_id, {})
        devices = sorted(map(_report, reports.get(user_id, [])), key=lambda d: str(_first(d, ("device", "_id"))))
        last_event, last_device = delivered.get(user_id, (None, None))
        last_report, seen = last_seen(user_id)
        mine = refused.get(user_id, [])
        return {
            "user_id": user_id,
            "role": user.get("role", user_id.split(":", 1)[0]),
            "name": user.get("name"),
            **owner_shop(user_id, view),
            "devices": devices,
            "last_event_at": last_event,
            "last_event_device": last_device,
            "last_report_at": last_report,
            "last_push": _newest(*(d.get("last_push") for d in devices)),  # as the devices reported
            "last_pull": _newest(*(d.get("last_pull") for d in devices)),
            "last_seen": seen,
            "silent": heard(seen)[1],
            "never_seen": seen is None,
            "waiting": sum(_waiting(d) for d in devices),
            "refused": len(mine),
            "last_refused": {k: mine[0].get(k) for k in ("received_at", "reason", "doc_id")} if mine else None,
        }

    user_counts = dict.fromkeys(("all", *ONLY), 0)
    chosen_users = []
    for user_id in sorted(set(users) | {u for u in reports if u} | set(refused) & set(users)):
        _, seen = last_seen(user_id)
        silent = heard(seen)[1]
        waiting = sum(_waiting(d) for d in reports.get(user_id, ()))
        flags = _flags(silent, waiting > 0, user_id in refused, seen is not None)
        _count(user_counts, flags)
        if wanted.takes(user_id, flags, names(user_id)):
            chosen_users.append(user_id)

    # Devices by what may be lost: silent with records or photos waiting on them, then the other silent ones,
    # longest silent first.
    device_counts = dict.fromkeys(("all", *ONLY, "silent_waiting"), 0)
    devices: list[tuple[tuple[bool, bool, float, str], str | None, Doc, float | None]] = []
    for owner, docs in reports.items():
        for doc in docs:
            moment, silent = device_heard(owner, doc)
            days = round((now - moment).total_seconds() / 86400, 1) if moment else None
            waiting = _waiting(doc) > 0
            flags = _flags(silent, waiting, owner in refused, True)
            _count(device_counts, flags)
            device_counts["silent_waiting"] += int(silent and waiting)
            if wanted.takes(owner, flags, names(owner, doc.get("device"))):
                devices.append(
                    ((not (silent and waiting), not silent, -(days or 0), str(doc.get("device"))), owner, doc, days)
                )
    devices.sort(key=lambda chosen: chosen[0])
    return {
        "silent_days": SILENT_DAYS,
        "devices": [
            {
                **_report(doc),
                "user_id": owner,
                "name": users.get(owner or "", {}).get("name"),
                **owner_shop(owner, view),
                "silent_days": days,
                "silent": not key[1],
            }
            for key, owner, doc, days in wanted.page(devices, wanted.devices_offset)
        ],
        "users": [user_row(user_id) for user_id in wanted.page(chosen_users, wanted.users_offset)],
        "limit": wanted.limit,
        "offset": {"users": wanted.users_offset, "devices": wanted.devices_offset},
        "total": {"users": len(chosen_users), "devices": len(devices)},
        "counts": {"users": user_counts, "devices": device_counts},
        "people": _people(shown, users, kept, view),
        "unassigned_devices": [_report(doc) for doc in reports.get(None, [])],
        "refused_total": sum(len(v) for v in refused.values()),
    }


def _people(
    entries: Sequence[Doc], users: Mapping[str, Doc], kept: Callable[[str | None], bool], view: View
) -> dict[str, dict[str, Any]]:
    """The name (and an owner's shop) of each user of the newest `NAMED` entries of the quarantine in reach: the
    screen's list of refused documents names them, whatever page of users it shows."""
    people: dict[str, dict[str, Any]] = {}
    for entry in entries[:NAMED]:
        user_id = entry.get("user")
        if isinstance(user_id, str) and user_id not in people and kept(user_id):
            people[user_id] = {"name": users.get(user_id, {}).get("name"), **owner_shop(user_id, view)}
    return people
