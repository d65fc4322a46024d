"""What the follower reads and when: its options, what one change of the feed asks for, and when the daily tick
comes. Pure; the follower (`follower.py`) does the reading and writing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import time as clock_time
from typing import Final
from zoneinfo import ZoneInfo

from server.models.common import NOT_SHOPS, split_id
from server.store.protocol import Doc

OWN_TYPES: Final = frozenset({"score", "ledger", "hazard", "alarm", "ranking", "stats", "rewards"})
REPROJECT_ALL: Final = frozenset({"rules", "template"})  # district documents every projection reads
DISTRICT_KINDS: Final = frozenset({"community", "grid"})  # registry documents the sub-district pass reads


@dataclass(frozen=True)
class Options:
    batch: int = 500  # changes per feed read
    queue: int = 256  # changed shops waiting to be projected; the feed pauses when this many wait
    workers: int = 2  # projections are CPU-bound (one core): more workers only contend; one is kept for the feed
    longpoll_ms: int = 10_000
    debounce: float = 5.0  # the sub-district pass runs this long after the last change ...
    # ... but never later than this after the first one. Re-ranking a sub-district rewrites most of its scores,
    # which during a burst of checks (a Monday morning) held alarms up by seconds: ranks may wait two minutes.
    max_delay: float = 120.0
    retry_base: float = 1.0  # a failed shop is retried after 1, 2, 4, ... seconds
    max_tries: int = 5  # then parked until one of its documents changes or the next tick
    tick_at: clock_time = clock_time(0, 5)  # the daily tick, in the rules' time zone
    tick_poll: float = 60.0  # how often the clock is read while waiting for it (survives suspends and clock jumps)
    alarm_hook_max_age: timedelta = timedelta(days=3)  # older new alarms (a replayed backlog) are not announced


@dataclass(frozen=True)
class Change:
    shop: str | None = None  # project this shop again
    everything: bool = False  # the rules or a template changed: project every shop again
    district: bool = False  # the registry changed: run the sub-district pass
    alarm: Doc | None = None  # an alarm document (the office may have changed its status)


def classify(row: Doc) -> Change:
    """What one change of the feed asks for, from its id (`{partition}:{type}:{key}`) alone."""
    doc_id = str(row["id"])
    if doc_id.startswith("_") or ":" not in doc_id:
        return Change()
    partition, kind, _ = split_id(doc_id)
    if partition == "district":
        return Change(everything=kind in REPROJECT_ALL)
    if partition == "registry":
        return Change(district=kind in DISTRICT_KINDS)  # not a sub-district's name, nor an import's rows or report
    if partition in NOT_SHOPS:
        return Change()
    if kind == "alarm":
        return Change(alarm=row.get("doc"))
    if kind in OWN_TYPES or kind == "photo":
        return Change()
    return Change(shop=partition)


def next_tick(now: datetime, at: clock_time, zone: ZoneInfo) -> datetime:
    """The first `at` (local time in `zone`) strictly after `now`."""
    local = now.astimezone(zone)
    candidate = datetime.combine(local.date(), at, zone)
    return candidate if candidate > local else datetime.combine(local.date() + timedelta(days=1), at, zone)
