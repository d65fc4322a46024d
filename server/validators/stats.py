"""Dashboard counts per sub-district, community and grid for a week, month or year, as pure functions.

The follower keeps a few facts per shop (`ShopFacts`: the days of its self-checks and patrols, its hazards' and
alarms' status steps by day) from each projection, so a sub-district's statistics need no store reads. Every
count is "as of the end of a day" (`as_of`): a past period is counted to its last day, the current one to today,
and a hazard's or alarm's status is the one its history had reached by then, so last year's figures recomputed
today agree with what the dashboard showed then (unless late events arrived). Only the shops open on a period's as-of
day are counted (`ShopFacts.open_on`).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any, Final

from server.models.projections import Figures, Stats
from server.models.registry import closed_between
from server.models.rules import Rules
from server.validators import rules as R

Steps = tuple[tuple[date, str], ...]  # (local day, status) in history order
# Who delivered the shop's events: (user, the newest `performed_at` of theirs from a device, that device), by user
# and device. The sync monitor's "newest event delivered" per user and per device (a grid worker with two phones:
# each one's own newest, not only the user's, which left the other silent); kept with the facts so that it costs no
# read of its own (a shop's users seldom have more than one phone: a row or two more at most).
Authors = tuple[tuple[str, str, str], ...]
EVENT_TYPES = frozenset({"self_check", "patrol", "rectification", "verification"})


@dataclass(frozen=True)
class Tracked:
    """A hazard or an alarm: when it appeared, its status steps, and its deadline (hazards only)."""

    id: str
    since: date
    steps: Steps
    deadline: date | None = None

    def status_on(self, day: date) -> str | None:
        """The status at the end of `day` (None before it appeared)."""
        status = None
        for when, step in self.steps:
            if when <= day:
                status = step
        return status if self.since <= day else None

    def closed_in_time(self, day: date) -> bool:
        """Closed by the end of `day` without ever having been overdue."""
        seen = [step for when, step in self.steps if when <= day]
        return bool(seen) and seen[-1] == "closed" and "overdue" not in seen


@dataclass(frozen=True)
class ShopFacts:
    code: str
    active: bool
    community: str | None
    grid: str | None
    self_checks: tuple[date, ...]
    patrols: tuple[date, ...]
    hazards: tuple[Tracked, ...]
    alarms: tuple[Tracked, ...]
    authors: Authors = ()
    # The registry's closures: (closed on, reopened on or None), in order (`models.registry.Closure`).
    closures: tuple[tuple[date, date | None], ...] = ()
    # Who patrolled it on which day: (day, grid worker), once each, in order (the workers' screen: a grid shared by
    # two workers is covered by both, and each did their part).
    patrolled_by: tuple[tuple[date, str], ...] = ()

    def open_on(self, day: date) -> bool:
        """Whether the shop was open (active) at the end of `day`: a period's figures count the shops open on its
        last day. A shop closed before closures were noted was never open; one never closed, always."""
        if not self.active and not any(until is None for _, until in self.closures):
            return False
        return not closed_between(self.closures, day, day)

    def first_day(self) -> date | None:
        return min((*self.self_checks, *self.patrols), default=None)

    def with_alarm(self, alarm: Tracked) -> ShopFacts:
        others = tuple(a for a in self.alarms if a.id != alarm.id)
        alarms = tuple(sorted((*others, alarm), key=lambda a: a.id))
        return replace(self, alarms=alarms)


def facts_json(facts: ShopFacts) -> dict[str, Any]:
    """`facts` as JSON (the office view's snapshot); `facts_of_json` reads it back, equal."""
    return {
        "code": facts.code,
        "active": facts.active,
        "community": facts.community,
        "grid": facts.grid,
        "self_checks": [day.isoformat() for day in facts.self_checks],
        "patrols": [day.isoformat() for day in facts.patrols],
        "hazards": [_tracked_json(t) for t in facts.hazards],
        "alarms": [_tracked_json(t) for t in facts.alarms],
        "authors": [list(author) for author in facts.authors],
        "closures": [[since.isoformat(), until.isoformat() if until else None] for since, until in facts.closures],
        "patrolled_by": [[day.isoformat(), by] for day, by in facts.patrolled_by],
    }


def facts_of_json(doc: Mapping[str, Any]) -> ShopFacts:
    """What `facts_json` wrote; raises KeyError, TypeError or ValueError on anything else."""

    def tracked(t: Mapping[str, Any]) -> Tracked:
        steps = tuple((date.fromisoformat(day), str(status)) for day, status in t["steps"])
        deadline = date.fromisoformat(t["deadline"]) if t["deadline"] else None
        return Tracked(str(t["id"]), date.fromisoformat(t["since"]), steps, deadline)

    return ShopFacts(
        code=str(doc["code"]),
        active=bool(doc["active"]),
        community=doc["community"],
        grid=doc["grid"],
        self_checks=tuple(date.fromisoformat(day) for day in doc["self_checks"]),
        patrols=tuple(date.fromisoformat(day) for day in doc["patrols"]),
        hazards=tuple(tracked(t) for t in doc["hazards"]),
        alarms=tuple(tracked(t) for t in doc["alarms"]),
        authors=tuple((str(by), str(at), str(device)) for by, at, device in doc["authors"]),
        closures=tuple(
            (date.fromisoformat(since), date.fromisoformat(until) if until else None)
            for since, until in doc.get("closures", ())
        ),
        patrolled_by=tuple((date.fromisoformat(day), str(by)) for day, by in doc.get("patrolled_by", ())),
    )


def _closures(registry: Mapping[str, Any] | None) -> tuple[tuple[date, date | None], ...]:
    """The registry's closures, and before the day the shop was registered (`opened`) one since always: a period
    before it counts the shop no more than a period it was closed in."""
    out: list[tuple[date, date | None]] = []
    try:
        opened = date.fromisoformat(str((registry or {}).get("opened")))
    except ValueError:
        pass
    else:
        out.append((date.min, opened))
    for c in (registry or {}).get("closures") or ():
        try:
            out.append((date.fromisoformat(c["since"]), date.fromisoformat(c["until"]) if c.get("until") else None))
        except (KeyError, TypeError, ValueError):
            continue  # the registry's model refuses these; the facts do without
    return tuple(out)


def _tracked_json(t: Tracked) -> dict[str, Any]:
    return {
        "id": t.id,
        "since": t.since.isoformat(),
        "steps": [[day.isoformat(), status] for day, status in t.steps],
        "deadline": t.deadline.isoformat() if t.deadline else None,
    }


def shop_facts(
    code: str,
    registry: Mapping[str, Any] | None,
    events: Iterable[Mapping[str, Any]],
    hazards: Iterable[Mapping[str, Any]],
    alarms: Iterable[Mapping[str, Any]],
    rules: Rules,
) -> ShopFacts:
    """The facts of one shop from its registry document, its events and its (stored or projected) hazards and
    alarms. Events are the ones the gateway accepted, so a self-check or patrol counts on its `performed_at` day."""
    days: dict[str, set[tuple[str, date]]] = {"self_check": set(), "patrol": set()}
    authors: dict[tuple[str, str], tuple[datetime, str]] = {}
    patrolled_by: set[tuple[date, str]] = set()
    for event in events:
        kind = event.get("type")
        if kind not in EVENT_TYPES or event.get("shop") != code or event.get("_deleted"):
            continue
        at = event.get("performed_at")
        moment = _moment(at)
        if moment is None:
            continue
        by = event.get("created_by")
        if kind in days:
            days[str(kind)].add((str(event["_id"]), R.day_of(moment, rules)))
            if kind == "patrol" and isinstance(by, str):
                patrolled_by.add((R.day_of(moment, rules), by))
        if isinstance(by, str):
            key = (by, str(event.get("device") or ""))
            if key not in authors or moment > authors[key][0]:
                authors[key] = (moment, str(at))
    return ShopFacts(
        code=code,
        active=registry is not None and registry.get("status") == "active",
        closures=_closures(registry),
        community=str(registry["community"]) if registry and registry.get("community") else None,
        grid=str(registry["grid"]) if registry and registry.get("grid") else None,
        self_checks=tuple(sorted(day for _, day in days["self_check"])),
        patrols=tuple(sorted(day for _, day in days["patrol"])),
        hazards=_all_tracked(hazards, rules),
        alarms=_all_tracked(alarms, rules),
        authors=tuple((by, at, device) for (by, device), (_, at) in sorted(authors.items())),
        patrolled_by=tuple(sorted(patrolled_by)),
    )


def tracked(doc: Mapping[str, Any], rules: Rules) -> Tracked | None:
    """A hazard or alarm document as `Tracked`; None when it lacks the times a count needs."""
    since = _day(doc.get("found_at") or doc.get("created_at"), rules)
    if since is None:
        return None
    steps = []
    for step in doc.get("history") or ():
        day = _day(step.get("at"), rules) if isinstance(step, Mapping) else None
        if day is not None:
            steps.append((day, str(step.get("status"))))
    deadline = doc.get("deadline")
    return Tracked(str(doc["_id"]), since, tuple(steps), date.fromisoformat(deadline) if deadline else None)


def _all_tracked(docs: Iterable[Mapping[str, Any]], rules: Rules) -> tuple[Tracked, ...]:
    found = (tracked(doc, rules) for doc in docs)
    return tuple(sorted((t for t in found if t is not None), key=lambda t: t.id))


def period_bounds(period: str) -> tuple[date, date]:
    """First and last day of `2026`, `2026-11` or `2026-W48`."""
    if "-W" in period:
        iso_year, week = period.split("-W")
        monday = date.fromisocalendar(int(iso_year), int(week), 1)
        return monday, monday + timedelta(days=6)
    if "-" in period:
        year, month = (int(part) for part in period.split("-"))
        following = date(year + month // 12, month % 12 + 1, 1)
        return date(year, month, 1), following - timedelta(days=1)
    return date(int(period), 1, 1), date(int(period), 12, 31)


def same_span(period: str, earlier: str, today: date) -> tuple[date, date]:
    """`earlier` (the same period a year before) cut to as many days as `period` has run by `today`, and whole once
    `period` has ended: 同期, so that a month three days old is not set against a whole month."""
    start, end = period_bounds(period)
    first, last = period_bounds(earlier)
    return first, min(last, first + (min(end, today) - start))


def periods(today: date) -> list[tuple[str, date]]:
    """The periods written on `today`, each with the day it is counted to: the current ISO week, month and year
    (to today), and the same three of last year (whole)."""
    iso_year, week, _ = today.isocalendar()
    current = [f"{iso_year}-W{week:02d}", f"{today.year}-{today.month:02d}", f"{today.year}"]
    last = [f"{today.year - 1}-{today.month:02d}", f"{today.year - 1}"]
    try:
        date.fromisocalendar(iso_year - 1, week, 1)
        last.insert(0, f"{iso_year - 1}-W{week:02d}")
    except ValueError:
        pass  # week 53 has no counterpart last year
    return [(p, today) for p in current] + [(p, period_bounds(p)[1]) for p in last]


def figures(shops: Sequence[ShopFacts], start: date, end: date, today: date | None = None) -> dict[str, int]:
    """The counts of `Figures` for those of these shops open on `end` (`ShopFacts.open_on`) between `start` and
    `end` (inclusive; `end` is the as-of day): last year's month counts the shops open then, not today's. `today`:
    when `end` is today, a day not over yet (`_counts`)."""
    open_then = [shop for shop in shops if shop.open_on(end)]
    running = today is not None and end >= today
    return _summed([_counts(shop, start, end, running) for shop in open_then])


# The counts of `Figures`, in its order: a shop's part is a tuple of them (`_counts`), and a group's figures are
# those tuples summed column by column. A sub-district's statistics sum each shop's counts three times (its total,
# its community, its grid) for six periods, and summing dicts key by key was most of their time.
FIGURE_NAMES: Final = (
    "active_shops",
    "self_checks",
    "self_checked_shops",
    "patrols",
    "patrolled_shops",
    "hazards_found",
    "hazards_rectified",
    "open_alarms",
    "overdue_hazards",
    "hazards_due",
    "hazards_rectified_in_time",
)
if tuple(Figures.model_fields) != FIGURE_NAMES:  # `_counts` answers in this order
    raise AssertionError(f"FIGURE_NAMES must list the fields of Figures: {tuple(Figures.model_fields)}")


def _counts(shop: ShopFacts, start: date, end: date, running: bool = False) -> tuple[int, ...]:
    """One shop's part of `figures` (every count is a sum over the shops), in the order of FIGURE_NAMES;
    `active_shops` is 0 (`_summed` counts the shops). `running`: `end` is today, and a hazard due today is not late
    before the day is over: one still open is not counted due yet (on the 1st, the hazards due that day made a
    month's rectification rate 14%), one closed in time is."""
    checks = bisect_right(shop.self_checks, end) - bisect_left(shop.self_checks, start)  # the days are sorted
    patrols = bisect_right(shop.patrols, end) - bisect_left(shop.patrols, start)
    found = rectified = overdue = due = in_time = 0
    for hazard in shop.hazards:
        status = hazard.status_on(end)
        if start <= hazard.since <= end:
            found += 1
            rectified += 1 if status == "closed" else 0
        if hazard.deadline is not None and start <= hazard.deadline <= end:
            closed_in_time = hazard.closed_in_time(end)
            if closed_in_time or not (running and hazard.deadline == end):
                due += 1
                in_time += 1 if closed_in_time else 0
        overdue += 1 if status == "overdue" else 0
    alarms = 0
    for alarm in shop.alarms:
        alarms += 0 if alarm.status_on(end) in (None, "resolved") else 1
    checked, patrolled = (1 if checks else 0), (1 if patrols else 0)
    return 0, checks, checked, patrols, patrolled, found, rectified, alarms, overdue, due, in_time


def _summed(parts: Sequence[tuple[int, ...]]) -> dict[str, int]:
    """The figures of a group of shops from their `_counts`: `active_shops` is how many they are."""
    totals = [sum(column) for column in zip(*parts, strict=True)] if parts else [0] * len(FIGURE_NAMES)
    totals[0] = len(parts)
    return dict(zip(FIGURE_NAMES, totals, strict=True))


def stats_doc(subdistrict: str, period: str, as_of: date, shops: Sequence[ShopFacts]) -> dict[str, Any]:
    """`office:stats:{subdistrict}:{period}` for the shops of one sub-district open on the period's as-of day."""
    start, last = period_bounds(period)
    end = min(last, as_of)
    active = sorted((shop for shop in shops if shop.open_on(end)), key=lambda shop: shop.code)
    each = {shop.code: _counts(shop, start, end, end >= as_of) for shop in active}  # once, then summed by group
    by_community: dict[str, list[ShopFacts]] = {}
    by_grid: dict[str, list[ShopFacts]] = {}
    for shop in active:
        if shop.community:
            by_community.setdefault(shop.community, []).append(shop)
        if shop.grid:
            by_grid.setdefault(shop.grid, []).append(shop)

    def summed(group: Sequence[ShopFacts]) -> dict[str, int]:
        return _summed([each[shop.code] for shop in group])

    doc = {
        "_id": f"office:stats:{subdistrict}:{period}",
        "type": "stats",
        "schema": 1,
        "subdistrict": subdistrict,
        "period": period,
        "as_of": end,
        "figures": summed(active),
        "by_community": {code: summed(group) for code, group in sorted(by_community.items())},
        "by_grid": {code: summed(group) for code, group in sorted(by_grid.items())},
    }
    return Stats.model_validate(doc).to_doc()


def _day(value: object, rules: Rules) -> date | None:
    moment = _moment(value)
    return R.day_of(moment, rules) if moment else None


def _moment(value: object) -> datetime | None:
    """An ISO time with its offset (as the gateway accepts them), else None."""
    if not isinstance(value, str):
        return None
    try:
        moment = R.parse_moment(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else None
