"""One shop's server-owned documents (ledger, score, hazards, alarms) as a pure function of its events.

`project_shop` reads nothing but its arguments (no clock, no store): the events are taken in a canonical order
(`performed_at`, then `_id`; a rectification received late, at its credited moment: `_Projector.timeline`), so the
order they arrived in does not matter and a replay is byte-identical. Each
rule of `server.validators.rules` that fires is one ledger entry with a deterministic name (`{key}:{rule}`), kept in
its month's ledger document (`{shop}:ledger:{YYYY-MM}`). The office owns an
alarm's status and history, the monthly ranking a score's rank and lists: `merge_alarm` and `merge_score` keep
those parts of the stored document when a projection is written over it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any, Final, NamedTuple

from pydantic import ValidationError

from server.models import Event
from server.models.common import Severity
from server.models.events import Answer, Finding, Patrol, Rectification, SelfCheck, Verification
from server.models.projections import LedgerRule, Redemption
from server.models.registry import Shop, closed_between
from server.models.rules import Rules
from server.models.templates import Template, hazard_items
from server.validators import rules as R
from server.validators.hazards import FollowUp, HazardState, as_json
from server.validators.rules import RulesHistory
from server.validators.trusted import trusted_event

Templates = Mapping[tuple[str, int], Template]

# Photos never score; anything else not listed here (unknown or server-owned types) is ignored.
SCORED_TYPES: Final = frozenset({"self_check", "patrol", "rectification", "verification"})
DAY: Final = timedelta(days=1)
SIX_DAYS: Final = timedelta(days=6)
EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND: Final = timedelta(microseconds=1)
ALARM_OWNED: Final = ("status", "history", "department")  # the office changes these through its API
SCORE_OWNED: Final = ("rank", "of", "list", "working_group")  # the sub-district ranking fills these
# Ledger entries, hazards, alarms, scores and rewards are built here field by field in their models' order (the
# defaults written out) and written with `as_json`, not validated: a replay makes hundreds of thousands of them.
# The models stay the contract, and tests/validators checks every projected document against its model, byte for
# byte. (Validating each alarm cost as much as a hundred ledger entries.)


def project_shop(
    shop: Mapping[str, Any] | None,
    events: Iterable[Mapping[str, Any]],
    rules: Rules | RulesHistory,
    as_of: date,
    templates: Templates,
) -> list[dict[str, Any]]:
    """Every server-owned document of one shop, sorted by `_id`, as JSON-ready dicts without `_rev`.

    `shop` is the registry document (null when the shop is not registered: then its name is unknown and no
    self-check is owed); `events` are the shop's events (others, photos and unknown types are skipped);
    `as_of` is the day time rules (missed weeks, overdue) are evaluated on and picks the scoring year."""
    docs, _ = project_with_past(shop, events, rules, as_of, templates, ())
    return docs


def scores_as_of(
    shop: Mapping[str, Any] | None,
    events: Iterable[Mapping[str, Any]],
    rules: Rules | RulesHistory,
    days: Iterable[date],
    templates: Templates,
) -> list[dict[str, Any] | None]:
    """The score `project_shop` gives as of each of `days` from the events performed by then (for the monthly
    snapshots a ranking is missing), reading the events once."""
    _, scores = project_with_past(shop, events, rules, None, templates, days)
    return scores


def project_with_past(
    shop: Mapping[str, Any] | None,
    events: Iterable[Mapping[str, Any]],
    rules: Rules | RulesHistory,
    as_of: date | None,
    templates: Templates,
    days: Iterable[date],
) -> tuple[list[dict[str, Any]], list[dict[str, Any] | None]]:
    """`project_shop` as of `as_of` (no documents when None) and `scores_as_of` for `days`, in one pass over the
    events: the projector takes the events in order and, when the next one falls after one of `days`, the score
    as of that day is taken from a copy of it (what a projection of the events performed by then gives)."""
    events = list(events)
    registry, ordered = _registry(shop), canonical_events(events)
    wanted = sorted(enumerate(days), key=lambda pair: pair[1])
    scores: list[dict[str, Any] | None] = [None] * len(wanted)
    code = registry.code if registry else (ordered[0].shop if ordered else None)
    if code is None:
        return [], scores
    projector = _Projector(code, registry, rules, as_of or date.min, templates)
    projector.receipts = receipts(events)
    taken = registry is not None  # without a registry, a shop with no event yet has no projection
    pending = 0
    for moment, event in projector.timeline(ordered):
        if pending < len(wanted):
            day = R.day_of(moment, projector.rules)
            while pending < len(wanted) and day > wanted[pending][1]:
                index, past = wanted[pending]
                scores[index] = projector.score_as_of(past) if taken else None
                pending += 1
        if event.shop == code:
            projector.take(event, moment)
        taken = True
    for index, past in wanted[pending:]:
        scores[index] = projector.score_as_of(past) if taken else None
    if as_of is None:
        return [], scores
    projector.redemptions = [r for r in redemptions(events) if r.shop == projector.code]
    return projector.documents(), scores


def canonical_events(events: Iterable[Mapping[str, Any]]) -> list[Event]:
    """The valid scoring events, one per `_id`, by (`performed_at`, `_id`). Two bodies under one id (conflicting
    revisions) resolve to the greater canonical JSON, so even that does not depend on the arrival order."""
    chosen: dict[str, tuple[Mapping[str, Any], Event]] = {}
    for doc in events:
        if doc.get("type") not in SCORED_TYPES:
            continue
        try:
            event = trusted_event(doc if isinstance(doc, dict) else dict(doc))
        except ValidationError:
            continue  # the gateway refuses these; a projection must not stop at one
        seen = chosen.get(event.id)
        if seen is None or _canonical_json(doc) > _canonical_json(seen[0]):
            chosen[event.id] = (doc, event)
    return sorted((event for _, event in chosen.values()), key=_canonical_order)


def _canonical_order(event: Event) -> tuple[int, str]:
    """(`performed_at`, `_id`), the moment as whole microseconds since 1970 UTC: ordered exactly as the aware
    datetimes are, without every comparison of two of them (parsed, each with a tzinfo object of its own) working
    out both UTC offsets, which made sorting a shop's events take twice as long."""
    return (event.performed_at - EPOCH) // MICROSECOND, event.id


def receipts(events: Iterable[Mapping[str, Any]]) -> dict[str, datetime]:
    """When the server first received each self-check and rectification, from the `Receipt`s among `events` (the
    earliest, when one was received twice; a receipt that does not parse is skipped, as the gateway never writes
    one)."""
    first: dict[str, datetime] = {}
    for doc in events:
        if doc.get("type") != "receipt":
            continue
        try:
            moment = R.parse_moment(str(doc["received_at"]).replace("Z", "+00:00"))
            ids = [str(event) for event in doc["events"]]
        except (KeyError, TypeError, ValueError):
            continue
        if moment.tzinfo is None:
            continue
        for event in ids:
            if event not in first or moment < first[event]:
                first[event] = moment
    return first


def redemptions(events: Iterable[Mapping[str, Any]]) -> list[Redemption]:
    """The valid redemptions among `events`, by number (the server numbers them, so an id has one body)."""
    found: dict[str, Redemption] = {}
    for doc in events:
        if doc.get("type") != "redemption":
            continue
        try:
            redemption = Redemption.model_validate(dict(doc))
        except ValidationError:
            continue
        found[redemption.id] = redemption
    return sorted(found.values(), key=lambda r: r.number)


def merge_alarm(projected: Mapping[str, Any], stored: Mapping[str, Any] | None) -> dict[str, Any]:
    """The alarm to store: what the events say, with the office's status, history and department kept from the
    stored alarm (the projection only ever creates an alarm, open, with the server's opening step)."""
    merged = dict(projected)
    if stored and stored.get("history"):
        merged.update({key: stored.get(key) for key in ALARM_OWNED})
    return merged


def merge_score(projected: Mapping[str, Any], stored: Mapping[str, Any] | None, ranked: bool = True) -> dict[str, Any]:
    """The score to store: points from the events, rank, lists and working-group flag kept from the stored one. A
    shop that is not `ranked` (closed, or not in the registry: the ranking is of the active shops) keeps none: its
    rank of before is gone as soon as it is projected, not when the sub-district pass next runs (up to `max_delay`
    later), which the office's lists and e-file showed meanwhile."""
    merged = dict(projected)
    if stored and ranked:
        merged.update({key: stored[key] for key in SCORE_OWNED if key in stored})
    return merged


class _Entry(NamedTuple):  # a tuple: a replay makes hundreds of thousands
    key: str
    rule: LedgerRule
    points: int
    source: str
    day: date
    moment: datetime  # when it took effect, for the score's `updated_at`
    note: str = ""
    version: int = 0  # of the rules that gave it


class _OwedWeek(NamedTuple):
    """A week a self-check is owed for, as `_time_rules` and `score_as_of` see it (`_owed_week`)."""

    week: str  # ISO week
    sunday: date
    rules: Rules  # the version in force on its Sunday
    due: date  # the day a miss is charged on (`R.missed_week_due`)
    due_at: datetime  # its midnight (`_Projector._due`)
    missed: int  # what a miss costs from `due` on (`R.missed_week_points` as of any day from then)


@lru_cache(maxsize=1 << 12)
def _owed_week(monday: date, history: RulesHistory) -> _OwedWeek:
    """The week of `monday` under `history` (the same in every shop, so worked out once per process):
    `score_as_of` goes through every owed week again for each past day asked, and working these out each time
    was most of its time. Whether a shop checked or was closed that week is the shop's, and not in here."""
    sunday = monday + SIX_DAYS
    rules = history.on(sunday)
    due = R.missed_week_due(sunday, rules)
    missed = R.missed_week_points(rules, False, sunday, due)
    return _OwedWeek(R.week_of(monday), sunday, rules, due, R.midnight(due, history.current), missed)


@lru_cache(maxsize=1 << 12)
def _owed_weeks(first_monday: date, history: RulesHistory, as_of: date) -> tuple[tuple[date, _OwedWeek], ...]:
    """`R.owed_weeks` with each week's `_owed_week`, for a shop that came onto the platform in the week of
    `first_monday`: shops that came in the same week share them, so `score_as_of` (for each past day asked) and
    `_time_rules` loop over a tuple instead of walking the calendar again for every shop."""
    return tuple((monday, _owed_week(monday, history)) for monday in R.owed_weeks(first_monday, history, as_of))


class _Projector:
    def __init__(
        self, code: str, registry: Shop | None, rules: Rules | RulesHistory, as_of: date, templates: Templates
    ) -> None:
        self.code = code
        self.registry = registry
        self.history = rules if isinstance(rules, RulesHistory) else RulesHistory([rules])
        self.rules = self.history.current  # its time zone reads every moment
        self.hazard_rules: dict[str, Rules] = {}  # hazard id -> the version it was found under
        self.as_of = as_of
        self.templates = templates
        self.entries: dict[tuple[str, LedgerRule], _Entry] = {}
        # The latest `moment` of the `entries` (None with none), kept as they are added, while `_latest_known`:
        # `score_as_of` wants it for each past day, and comparing moments parsed with tzinfo objects of their own
        # works out both UTC offsets each time (`_latest_entry`).
        self._latest: datetime | None = None
        self._latest_known = True
        self.hazards: dict[str, HazardState] = {}
        self.parked: dict[str, list[tuple[FollowUp, datetime]]] = {}  # follow-ups of hazards not (yet) found
        # A hazard found again while still unresolved is that hazard (`_unresolved`), and the id the second finding
        # would have had names it too: events arrive out of order (an owner's older self-check after the patrol
        # that found the same item), so a phone may have shown the second id, and fixed or verified it, before the
        # server merged the two. Alias id -> the hazard's id.
        self.aliases: dict[str, str] = {}
        self.weeks: set[str] = set()  # ISO weeks with a counted self-check
        self.latest_self_check: SelfCheck | None = None
        self.first_check: date | None = None  # the day the shop came onto the platform (see `take`)
        # One submission (a patrol or self-check of several checklist modules is one event per module, all with one
        # author and moment) raises at most one alarm, on the deductions of all its modules together:
        # (type, author, moment) -> the submission's first event (by `_id`), its new hazards, its cost.
        self.submissions: dict[tuple[str, str, datetime], tuple[SelfCheck | Patrol, list[HazardState], int]] = {}
        self.redemptions: list[Redemption] = []
        self.receipts: dict[str, datetime] = {}  # event id -> when the server first received it
        # One patrol visit (a shop's patrols of one day: one event per checklist module) earns the clean-patrol
        # points once, and only when none of its patrols found a hazard: day -> the key holding the points.
        self.visits: dict[date, str | None] = {}

    def timeline(self, events: list[Event]) -> list[tuple[datetime, Event]]:
        """The canonical `events` with the moment each is taken at: its `performed_at`, but a rectification's
        credited moment (`R.credited`: the server received it later than the offline allowance after it says it
        was made), where it then takes its place, by (moment, `_id`). Set `receipts` first."""
        timeline = [(event.performed_at, event) for event in events]
        if not self.receipts:
            return timeline
        moved = False
        for index, (performed, event) in enumerate(timeline):
            if type(event) is Rectification and event.id in self.receipts:
                moment = self._credited(event)
                if moment != performed:
                    timeline[index], moved = (moment, event), True
        if moved:
            timeline.sort(key=lambda pair: (pair[0], pair[1].id))
        return timeline

    def take(self, event: Event, moment: datetime | None = None) -> None:
        """One event, at `moment` (its place in the `timeline`; by default its `performed_at`). Told apart by their
        exact class: the models are ABCs, whose `isinstance` costs ~0.5 us when it answers no (~2 us for a union),
        a few times for every event of a replay."""
        if type(event) is SelfCheck:
            # The shop came onto the platform on the earliest day the server knows it was active: a patrol's
            # (the grid worker's) own time, a self-check's credited moment (a phone's clock may be weeks behind).
            self._active_on(R.day_of(self._credited(event), self.rules))
            self._self_check(event)
        elif type(event) is Patrol:
            self._active_on(R.day_of(event.performed_at, self.rules))
            self._patrol(event)
        elif type(event) is Rectification or type(event) is Verification:
            at = event.performed_at if moment is None else moment
            hazard = self.hazards.get(self.aliases.get(event.hazard, event.hazard))
            if hazard is None:
                self.parked.setdefault(event.hazard, []).append((event, at))
            else:
                hazard.apply(event, at)

    def _active_on(self, day: date) -> None:
        if self.first_check is None or day < self.first_check:
            self.first_check = day

    def _credited(self, event: SelfCheck | Rectification) -> datetime:
        """When an owner's event counts (`R.credited`, by the version in force on its day)."""
        received = self.receipts.get(event.id)
        if received is None:
            return event.performed_at
        return R.credited(event.performed_at, received, self.history.on(R.day_of(event.performed_at, self.rules)))

    def _self_check(self, check: SelfCheck) -> None:
        day = R.day_of(check.performed_at, self.rules)
        rules = self.history.on(day)
        week = R.week_of(day)
        if self._received_in_time(check, day):
            points = R.self_check_points(rules, week in self.weeks)
            self._entry_for(check.key, "self_check", points, check.id, check, rules=rules)
            self.weeks.add(week)
        # else: received after its week's grace (SPEC: a week with none *received* within it is missed): it earns
        # nothing and saves no week, but what it declares is declared all the same.
        self.latest_self_check = check
        template = self.templates.get((check.template, check.template_version))
        found: list[HazardState] = []
        for item_id, severity in hazard_items(template, check.answers) if template else []:
            if self._unresolved(item_id):
                self._alias(f"{self.code}:hazard:{check.key}-{item_id}", item_id)
                continue  # declared again while still unresolved: the same hazard, not a new one
            cost = R.hazard_cost(rules, severity, template.item(item_id) if template else None, True)
            due = R.deadline(rules, severity, day)
            found.append(self._hazard(check, item_id, None, severity, cost, due, check.answers[item_id], rules))
        self._alarm(check, found, sum(h.cost for h in found))

    def _patrol(self, patrol: Patrol) -> None:
        template = self.templates.get((patrol.template, patrol.template_version))
        rules = self.history.on(R.day_of(patrol.performed_at, self.rules))
        found: list[HazardState] = []
        extra = 0
        for finding in patrol.findings:
            item = template.item(finding.item) if template else None
            if item is not None and self._unresolved(item.id):
                # Found again while still unresolved (a second visit the same day, a phone that had not seen the
                # first patrol's hazard yet): the same hazard, as with a self-check, not a second deduction and alarm.
                # A finding on `other` names no item: each is its own hazard.
                self._alias(f"{self.code}:hazard:{patrol.key}-{finding.id}", item.id)
                continue
            cost = R.hazard_cost(rules, finding.severity, item, False)
            hazard = self._hazard(
                patrol, finding.item, finding.id, finding.severity, cost, finding.deadline, finding, rules
            )
            found.append(hazard)
            false_report = R.false_self_report_points(rules, self._declared_in_order(finding.item))
            self._entry_for(hazard.key, "false_self_report", false_report, hazard.id, patrol, finding.item, rules)
            extra -= false_report
        self._visit(patrol, len(found), rules)
        self._alarm(patrol, found, sum(h.cost for h in found) + extra)

    def _visit(self, patrol: Patrol, new_hazards: int, rules: Rules) -> None:
        day = R.day_of(patrol.performed_at, self.rules)
        if day not in self.visits:
            self.visits[day] = patrol.key if new_hazards == 0 else None
            points = R.patrol_clean_points(rules, new_hazards)
            self._entry_for(patrol.key, "patrol_clean", points, patrol.id, patrol, rules=rules)
        elif new_hazards and (earlier := self.visits[day]) is not None:
            if self.entries.pop((earlier, "patrol_clean"), None) is not None:  # the visit found a hazard after all
                self._latest_known = False  # it may have been the latest
            self.visits[day] = None

    def _alias(self, alias: str, item_id: str) -> None:
        """`alias` (the id of a finding merged into the item's unresolved hazard) names that hazard from now on; the
        follow-ups parked under it apply to it."""
        hazard = next(h for h in self.hazards.values() if h.item == item_id and h.unresolved)
        self.aliases[alias] = hazard.id
        if alias not in hazard.aliases:
            hazard.aliases.append(alias)
        for event, at in self.parked.pop(alias, []):
            hazard.apply(event, at)

    def _unresolved(self, item_id: str) -> bool:
        """Whether a hazard on this item is still unresolved: found again, it is that hazard, not a new one."""
        return any(h.item == item_id and h.unresolved for h in self.hazards.values())

    def _declared_in_order(self, item_id: str) -> bool:
        check = self.latest_self_check
        template = self.templates.get((check.template, check.template_version)) if check else None
        if check is None or template is None or item_id not in check.answers:
            return False
        item, value = template.item(item_id), check.answers[item_id].value
        if isinstance(value, str):  # NOT_APPLICABLE
            # "This does not concern my shop" (不适用: no gas here) says there is nothing wrong there: a patrol that
            # finds the hazard finds it false, as it finds a "safe" answer false. Where the item takes no "na" (an
            # operator's write), the answer does not fit and declares nothing.
            return item is not None and item.not_applicable
        if item is None or isinstance(value, bool) != (item.answer == "yes_no") or value < 0:
            return False  # an answer that does not fit the item declares nothing
        return not item.is_hazard(value)

    def _hazard(
        self,
        check: SelfCheck | Patrol,
        item: str,
        finding: str | None,
        severity: Severity,
        cost: int,
        due: date,
        detail: Answer | Finding,
        rules: Rules,
    ) -> HazardState:
        hazard = HazardState(
            id=f"{self.code}:hazard:{check.key}-{finding or item}",
            source=check.id,
            item=item,
            finding=finding,
            severity=severity,
            self_reported=finding is None,
            found_at=check.performed_at,
            found_by=check.created_by,
            deadline=due,
            cost=cost,
            note=detail.note,
            photos=tuple(detail.photos),
            overdue_from=R.midnight(due + DAY, self.rules),
        )
        self.hazards[hazard.id] = hazard
        self.hazard_rules[hazard.id] = rules
        self._entry_for(hazard.key, "hazard", -cost, hazard.id, check, item, rules)
        for event, at in self.parked.pop(hazard.id, []):
            hazard.apply(event, at)
        return hazard

    def _alarm(self, check: SelfCheck | Patrol, found: list[HazardState], cost: int) -> None:
        """Count a check's new hazards and deductions toward its submission's alarm (`alarms`)."""
        if not found:
            return
        key = (check.type, check.created_by, check.performed_at)
        first, hazards, total = self.submissions.get(key, (check, [], 0))
        self.submissions[key] = (first, hazards + found, total + cost)

    def alarms(self) -> list[tuple[SelfCheck | Patrol, list[HazardState], int]]:
        """The submissions whose deductions reach the threshold or that found a serious item, each an alarm: its
        first event with a new hazard (whose id the alarm's carries: the modules' events may arrive in any order),
        its new hazards and its cost."""
        return [
            (check, found, cost)
            for check, found, cost in self.submissions.values()
            if R.raises_alarm(
                self.history.on(R.day_of(check.performed_at, self.rules)), cost, [h.severity for h in found]
            )
        ]

    def _alarm_id(self, check: SelfCheck | Patrol) -> str:
        return f"{self.code}:alarm:{check.key}"

    def _alarm_doc(self, check: SelfCheck | Patrol, found: list[HazardState], cost: int) -> dict[str, Any]:
        created_at = R.local(check.performed_at, self.rules)
        doc = {
            "_id": self._alarm_id(check),
            "type": "alarm",
            "schema": 1,
            "shop": self.code,
            "status": "open",
            "source": check.id,
            "shop_name": self.registry.name if self.registry else None,
            "address": self.registry.address if self.registry else None,
            "grid": self.registry.grid if self.registry else None,
            "grid_worker": check.created_by if type(check) is Patrol else None,
            "items": [{"item": h.item, "severity": h.severity, "hazard": h.id, "photos": h.photos} for h in found],
            "cost": cost,
            "department": None,
            "created_at": created_at,
            "history": [{"status": "open", "at": created_at, "by": "server", "department": None, "note": ""}],
        }
        return as_json(doc)

    def _entry_for(
        self,
        key: str,
        rule: LedgerRule,
        points: int,
        source: str,
        when: Event | date,
        note: str = "",
        rules: Rules | None = None,
    ) -> None:
        """An entry caused by an event (it counts on the event's day, from the moment it was performed) or by time
        passing (`when` is a day: it counts on that day, from 00:00). `rules`: the version that gave it (by default
        the one in force that day)."""
        if isinstance(when, date):
            day, moment = when, R.midnight(when, self.rules)
        else:
            day, moment = R.day_of(when.performed_at, self.rules), when.performed_at
        self._entry(_Entry(key, rule, points, source, day, moment, note, self._version(day, rules)))

    def _version(self, day: date, rules: Rules | None) -> int:
        return (rules or self.history.on(day)).version

    def _entry(self, entry: _Entry) -> None:
        if entry.points != 0:
            key = (entry.key, entry.rule)
            if key in self.entries:
                self._latest_known = False  # the entry it replaces may have been the latest
            elif self._latest_known and (self._latest is None or entry.moment > self._latest):
                self._latest = entry.moment
            self.entries[key] = entry

    def _latest_entry(self) -> datetime | None:
        """The latest `moment` of the `entries` (of equal moments, maybe another one than `max` gives: the same
        instant, written alike by `R.local`), worked out again only after an entry was replaced or removed."""
        if not self._latest_known:
            self._latest = max((entry.moment for entry in self.entries.values()), default=None)
            self._latest_known = True
        return self._latest

    def _time_rules(self) -> None:
        first_year = min(self.first_check.year, self.as_of.year) if self.first_check else self.as_of.year
        for year in range(first_year, self.as_of.year + 1):
            new_year = date(year, 1, 1)
            rules = self.history.on(new_year)
            self._entry_for(str(year), "start", R.start_points(rules), str(year), self._start_day(year), rules=rules)
        if self.first_check and self._owes_weeks():
            for monday, owed in _owed_weeks(R.monday_of(self.first_check), self.history, self.as_of):
                if owed.week in self.weeks or self._closed_in(monday):
                    continue  # self-checked, or closed: no entry (`_entry` keeps none of 0 points)
                points = owed.missed if self.as_of >= owed.due else 0  # `R.missed_week_points` as of `as_of`
                if points:  # dated on the day it is charged: it counts in that day's year
                    version = owed.rules.version
                    self._entry(_Entry(owed.week, "missed_week", points, owed.week, owed.due, owed.due_at, "", version))
        for hazard in self.hazards.values():
            hazard.finish(self.as_of, self.rules)
            rules = self.hazard_rules[hazard.id]
            weeks = R.overdue_weeks(hazard.deadline, hazard.delay_end(self.as_of, self.rules))
            for number, start in enumerate(weeks, start=1):
                note = f"week {number} past the deadline {hazard.deadline.isoformat()}"
                points = R.overdue_points(rules)
                self._entry_for(f"{hazard.key}.w{number}", "overdue", points, hazard.id, start, note, rules)
            if hazard.status == "closed" and hazard.fixed_at and hazard.verification:
                fixed = R.day_of(hazard.fixed_at, self.rules)
                points = R.refund_points(rules, hazard.cost, fixed, hazard.deadline)
                verification = hazard.verification
                self._entry_for(hazard.key, "refund", points, hazard.id, verification, verification.id, rules)

    def _start_day(self, year: int) -> date:
        """The day the shop's `year` starts in its ledger: 1 January, or the day in it the shop came, registered
        (`opened`) or earlier active (`first_check`), not a day before it existed. A shop registered before the day
        was noted starts on 1 January. The points are 1 January's version's all the same."""
        opened = self.registry.opened if self.registry else None
        came = opened if opened is None or self.first_check is None else min(opened, self.first_check)
        return came if came is not None and came.year == year else date(year, 1, 1)

    def _owes_weeks(self) -> bool:
        """Whether the shop owes weekly self-checks at all: a registered shop, active, or closed on a day its
        closures say (one closed before closures were noted owes none, as before)."""
        registry = self.registry
        if registry is None:
            return False
        return registry.status == "active" or any(c.until is None for c in registry.closures)

    def _closed_in(self, monday: date) -> bool:
        """Whether the shop was closed on any day of the week of `monday` (a week it was closed owes nothing)."""
        closures = self.registry.closures if self.registry else ()
        if not closures:  # most shops: asked for every owed week, for each past day, so spare the generator
            return False
        return closed_between(((c.since, c.until) for c in closures), monday, monday + SIX_DAYS)

    def _received_in_time(self, check: SelfCheck, day: date) -> bool:
        """Whether the server received `check` before its week turned missed (`_due`). A check without a receipt
        (from before receipts were written, or the operator's) counts by its own time, as before."""
        received = self.receipts.get(check.id)
        return received is None or received < self._due(day + timedelta(days=6 - day.weekday()))

    def _due(self, sunday: date) -> datetime:
        return R.midnight(R.missed_week_due(sunday, self.history.on(sunday)), self.rules)

    def score(self) -> dict[str, Any]:
        """The score alone (what `documents` gives as the score, without building the rest)."""
        self._time_rules()
        return self._score()

    def score_as_of(self, day: date) -> dict[str, Any]:
        """The score as of `day` of the events taken so far, leaving this projector as it was: what `score` would
        give after `_time_rules` as of `day`, added up without building those entries. tests/validators checks
        it against a projection of the events performed by then."""
        rules, year = self.rules, day.year
        points = sum(entry.points for entry in self.entries.values() if entry.day.year == year)
        latest = self._latest_entry()

        def entry(points_: int, on: date, moment: datetime) -> None:  # what `_entry` would keep
            nonlocal points, latest
            if points_ != 0:
                points += points_ if on.year == year else 0
                latest = moment if latest is None or moment > latest else latest

        first_year = min(self.first_check.year, year) if self.first_check else year
        for start_year in range(first_year, year + 1):
            on = self._start_day(start_year)
            entry(R.start_points(self.history.on(date(start_year, 1, 1))), on, R.midnight(on, rules))
        if self.first_check and self._owes_weeks():
            # `entry` for each missed week, inlined: this loop is most of the time of a past day's score. The weeks'
            # midnights share one tzinfo, so they are compared among themselves first, then once with `latest`.
            missed_at: datetime | None = None
            for monday, owed in _owed_weeks(R.monday_of(self.first_check), self.history, day):
                if owed.week in self.weeks or day < owed.due or not owed.missed or self._closed_in(monday):
                    continue  # self-checked, not charged yet (`R.missed_week_points`), free, or closed
                points += owed.missed if owed.due.year == year else 0
                missed_at = owed.due_at if missed_at is None or owed.due_at > missed_at else missed_at
            if missed_at is not None:
                latest = missed_at if latest is None or missed_at > latest else latest
        midnight, open_hazards = R.midnight(day, rules), 0
        for hazard in self.hazards.values():
            updated_at = hazard.updated_at
            if hazard.status == "open" and midnight >= hazard.overdue_from:  # `finish` would add this step
                updated_at = max(updated_at, hazard.overdue_from)
            latest = updated_at if latest is None or updated_at > latest else latest
            open_hazards += 1 if hazard.unresolved else 0
            found_under = self.hazard_rules[hazard.id]
            for start in R.overdue_weeks(hazard.deadline, hazard.delay_end(day, rules)):
                entry(R.overdue_points(found_under), start, R.midnight(start, rules))
            if hazard.status == "closed" and hazard.fixed_at and hazard.verification:
                fixed = R.day_of(hazard.fixed_at, rules)
                verified = hazard.verification.performed_at
                refund = R.refund_points(found_under, hazard.cost, fixed, hazard.deadline)
                entry(refund, R.day_of(verified, rules), verified)
        return self._score_doc(year, points, open_hazards, latest)

    def documents(self) -> list[dict[str, Any]]:
        self._time_rules()
        docs = self._ledger_docs()
        alarms = self.alarms()
        # Each hazard names its submission's alarm, or none: written with it, so no phone infers "none" from the
        # hazards reaching it before the alarm.
        raised = {hazard.id: self._alarm_id(check) for check, found, _ in alarms for hazard in found}
        docs += [hazard.to_doc(self.code, self.rules, raised.get(hazard.id)) for hazard in self.hazards.values()]
        docs += [self._alarm_doc(check, found, cost) for check, found, cost in alarms]
        docs.append(self._score())
        docs.append(self._rewards())
        return sorted(docs, key=lambda doc: str(doc["_id"]))

    def _ledger_docs(self) -> list[dict[str, Any]]:
        """The ledger, a document per month of the entries' days (`models.Ledger`), each by day, key and rule."""
        months: dict[str, list[dict[str, Any]]] = {}
        for entry in sorted(self.entries.values(), key=lambda entry: (entry.day, entry.key, entry.rule)):
            day = entry.day.isoformat()  # the only field that is not JSON already (as `as_json` writes a date)
            months.setdefault(day[:7], []).append(
                {
                    "key": entry.key,
                    "rule": entry.rule,
                    "points": entry.points,
                    "source": entry.source,
                    "day": day,
                    "rules_version": entry.version,
                    "note": entry.note,
                }
            )
        return [
            {
                "_id": f"{self.code}:ledger:{month}",
                "type": "ledger",
                "schema": 1,
                "shop": self.code,
                "month": month,
                "entries": entries,
            }
            for month, entries in months.items()
        ]

    def _score(self) -> dict[str, Any]:
        latest = self._latest_entry()
        moments = [hazard.updated_at for hazard in self.hazards.values()]
        moments += [latest] if latest is not None else []
        year = self.as_of.year
        return self._score_doc(
            year,
            sum(entry.points for entry in self.entries.values() if entry.day.year == year),
            sum(1 for hazard in self.hazards.values() if hazard.unresolved),
            max(moments, default=None),
        )

    def _score_doc(self, year: int, points: int, open_hazards: int, latest: datetime | None) -> dict[str, Any]:
        updated_at = latest if latest is not None else R.midnight(date(year, 1, 1), self.rules)
        doc = {
            "_id": f"{self.code}:score",
            "type": "score",
            "schema": 1,
            "shop": self.code,
            "points": points,
            "rank": None,
            "of": None,
            "list": None,
            "open_hazards": open_hazards,
            "working_group": False,
            "rules_version": self.rules.version,
            "updated_at": R.local(updated_at, self.rules),
        }
        return as_json(doc)

    def _rewards(self) -> dict[str, Any]:
        earning = [entry for entry in self.entries.values() if entry.rule in R.REWARD_RULES and entry.points > 0]
        by_rule: dict[str, int] = {}
        for entry in earning:
            by_rule[entry.rule] = by_rule.get(entry.rule, 0) + entry.points
        earned = sum(by_rule.values())
        redeemed = sum(r.points for r in self.redemptions)
        moments = [entry.moment for entry in earning] + [r.performed_at for r in self.redemptions]
        doc = {
            "_id": f"{self.code}:rewards",
            "type": "rewards",
            "schema": 1,
            "shop": self.code,
            "earned": earned,
            "earned_by_rule": dict(sorted(by_rule.items())),
            "redeemed": redeemed,
            "redemptions": len(self.redemptions),
            "balance": earned - redeemed,
            "rules_version": self.rules.version,
            "updated_at": R.local(max(moments), self.rules) if moments else None,
        }
        return as_json(doc)


def _registry(shop: Mapping[str, Any] | None) -> Shop | None:
    if shop is None:
        return None
    try:
        return Shop.model_validate(dict(shop))
    except ValidationError:
        return None


def _canonical_json(doc: Mapping[str, Any]) -> str:
    return json.dumps(doc, sort_keys=True, ensure_ascii=False, default=str)
