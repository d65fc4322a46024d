"""SPEC's "Points and alarms", one small function per rule; every number comes from the `Rules` document.

Where SPEC is silent, these readings hold for the whole package (the tests in tests/validators pin each one):
- Time: an event counts at its `performed_at` (the device clock: a check done offline on Friday belongs to Friday),
  read in `rules.timezone` (Asia/Shanghai), except where the server's receipt bounds it (below).
- Receipts and the offline allowance: the gateway notes, in a `Receipt` written with them, when it first received an
  owner's self-checks and rectifications. An owner's phone may hold what it did offline for `missed_week_grace_days`
  days (the allowance SPEC gives a self-check, a week's grace): such an event is credited at
  `max(performed_at, received_at - allowance)` (`credited`), by the version in force on its `performed_at` day.
  So a phone whose clock was set back (or is weeks behind) gets no more than the allowance, and one that synced
  within it keeps its own time. An event without a receipt (from before receipts, or the operator's) counts by its
  `performed_at`; a grid worker's events (patrols, verifications) need none and count by their `performed_at`.
- Scoring year: the calendar year in that zone. Each ledger entry has a `day` and counts in that day's year;
  the score is the sum of the entries of the year of `as_of`.
- Weeks: ISO weeks, Monday to Sunday, keyed `2026-W48`; a week that straddles New Year is one week.
- Missed week: a week without a self-check costs once `missed_week_grace_days` whole days have passed after its
  Sunday (2026-W48 ends on Sunday 2026-11-29; it is missed from 2026-12-07 on), and the cost is dated on that day,
  when it is charged (its entry's key still names the week): it counts in the scoring year it is charged in, so a
  week whose Sunday is 24-31 December costs in the new year (before, dated on that Sunday, it counted in no year).
  A self-check performed in the week saves it when the server received it within the week's grace (one without a
  receipt, whenever it arrives: the next recompute drops the cost).
  A shop owes self-checks from the week after the week it came onto the platform: that of the earliest moment the
  server knows it was active, a self-check's credited moment or a patrol's `performed_at` (so a phone whose clock
  is weeks behind does not make a new shop owe weeks from before it came); never before the week of
  `rules.effective_from`, and only while it is active.
- Rounding: a share of points (self-reported cost, refund, list size) is rounded to the nearest whole number,
  halves away from zero, so points stay whole: a self-reported major costs 3 (½ × 5), a refund of 5 gives 3.
- Costs: an item's own `points` replaces the severity's cost when the hazard has the item's own severity (an
  escalated item costs what its new severity costs); patrol findings on `other` use the severity's cost.
- Versions: each published version of the rules is in force from its `effective_from` until a later version's
  (a version published later replaces every earlier one from its own `effective_from` on; before the first one,
  the first applies). An event is scored by the version in force on its day, a missed week by its Sunday's, a
  year's start points by its 1 January's; a hazard keeps the version it was found under (cost, deadline, refund,
  overdue weeks), and a submission raises an alarm by its day's version. So a change of the rules from a day on
  never rescores, nor raises alarms for, what happened before that day. Time zone and the lists' sizes are the
  current version's.
- Deadlines: a day, inclusive. Overdue from 00:00 the next day; every 7 days a new week of delay starts and
  costs at once, until the day of the fix that a verification accepts (a fix reported by a rectification stops
  the clock while it awaits verification). "In time" means that fix was made on or before the deadline. A
  rectification's fix is made at its credited moment (see "Receipts"): one dated back to the deadline but
  received weeks after it is late, overdue until then and refunds nothing; one made offline in time and synced
  within the allowance keeps the refund. A rectification takes its place among the shop's events at that moment
  (its hazard's history says "rectified" then).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Iterator
from datetime import date, datetime, time, timedelta
from functools import cache, lru_cache
from typing import Final
from zoneinfo import ZoneInfo

from server.models.common import Severity
from server.models.rules import Rules
from server.models.templates import TemplateItem

WEEK = timedelta(days=7)
# The ledger rules whose points also earn reward points (积分, exchanged for prizes): the safety work itself.
# Deductions cost the score and the rank, not prizes already earned; a refund gives back a deduction, not a reward.
REWARD_RULES: Final = ("self_check", "patrol_clean")


@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local(moment: datetime, rules: Rules) -> datetime:
    """The moment in the rules' time zone (how every projection writes its times)."""
    return moment.astimezone(_zone(rules.timezone))


def day_of(moment: datetime, rules: Rules) -> date:
    return _day_of(moment, rules.timezone)


@lru_cache(maxsize=1 << 16)
def parse_moment(text: str) -> datetime:
    """`datetime.fromisoformat(text)`, one shared (immutable) object for equal strings. A shop's projection and its
    facts each read every event's `performed_at` (and a submission's modules share theirs): `_day_of`'s cache
    finds an object it has seen by identity, where an equal one, with another tzinfo object, costs working out
    both UTC offsets (~1 us, most of what finding a day cost)."""
    return datetime.fromisoformat(text)


def midnight(day: date, rules: Rules) -> datetime:
    """00:00 of `day` in the rules' time zone: when a time rule that fires on that day takes effect."""
    return _midnight(day, rules.timezone)


# A projection asks for the day of each event's moment several times, and for the midnights of the same weeks in
# every shop: both are pure, and their answers immutable.
@lru_cache(maxsize=1 << 16)
def _day_of(moment: datetime, zone: str) -> date:
    return moment.astimezone(_zone(zone)).date()


@lru_cache(maxsize=1 << 14)
def _midnight(day: date, zone: str) -> datetime:
    return datetime.combine(day, time(), _zone(zone))


@cache  # a replay asks for the same few hundred weeks again and again
def week_of(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def share(points: int, percent: int) -> int:
    """`percent` % of `points`, rounded to the nearest whole point, halves away from zero."""
    whole, rest = divmod(abs(points) * percent, 100)
    rounded = whole + (1 if 2 * rest >= 100 else 0)
    return rounded if points >= 0 else -rounded


def start_points(rules: Rules) -> int:
    """A scoring year starts at this many points."""
    return rules.start_points


def self_check_points(rules: Rules, week_already_counted: bool) -> int:
    """+2 for a weekly self-check, at most one per ISO week."""
    return 0 if week_already_counted else rules.self_check_points


def missed_week_due(sunday: date, rules: Rules) -> date:
    """The first day on which a week ending on `sunday` without a self-check counts as missed."""
    return sunday + timedelta(days=rules.missed_week_grace_days + 1)


def credited(performed_at: datetime, received_at: datetime | None, rules: Rules) -> datetime:
    """The moment an owner's event counts at: its `performed_at`, but no earlier than the offline allowance
    (`missed_week_grace_days` days) before the server first received it; without a receipt, its `performed_at`."""
    if received_at is None:
        return performed_at
    return max(performed_at, received_at - timedelta(days=rules.missed_week_grace_days))


def missed_week_points(rules: Rules, self_checked: bool, sunday: date, as_of: date) -> int:
    """−1 for a week with no self-check, once its grace period has passed by `as_of`."""
    if self_checked or as_of < missed_week_due(sunday, rules):
        return 0
    return -rules.missed_week_cost


def owed_weeks(first_check: date, history: RulesHistory, as_of: date) -> Iterator[date]:
    """The Mondays of the weeks a shop owes a self-check for (never before the first version's week) and whose
    grace, by the version in force on their Sunday, has passed by `as_of`."""
    monday = max(monday_of(first_check) + WEEK, monday_of(history.start))
    last = as_of - timedelta(days=history.shortest_grace + 7)  # no week after it can be due by `as_of`
    one = len(history) == 1  # then every week up to `last` is due (`last` is the due date's bound)
    while monday <= last:
        if one or as_of >= missed_week_due(monday + timedelta(days=6), history.on(monday + timedelta(days=6))):
            yield monday
        monday += WEEK


class RulesHistory:
    """Every published version of the rules on a time line (see the module's "Versions")."""

    def __init__(self, versions: Iterable[Rules], current: Rules | None = None) -> None:
        by_version = {rules.version: rules for rules in versions}
        if current is not None:
            by_version[current.version] = current
        if not by_version:
            raise ValueError("a history of rules needs a version")
        spans: list[tuple[date, Rules]] = []
        for version in sorted(by_version):
            rules = by_version[version]
            spans = [span for span in spans if span[0] < rules.effective_from] + [(rules.effective_from, rules)]
        self._starts = [start for start, _ in spans]
        self._rules = [rules for _, rules in spans]
        self.current = current if current is not None else by_version[max(by_version)]
        self.shortest_grace = min(rules.missed_week_grace_days for rules in self._rules)

    @property
    def start(self) -> date:
        """The first day any version applies from (no self-check is owed before its week)."""
        return self._starts[0]

    def on(self, day: date) -> Rules:
        if len(self._rules) == 1:
            return self._rules[0]
        index = bisect_right(self._starts, day) - 1
        return self._rules[max(index, 0)]

    def __len__(self) -> int:
        return len(self._rules)


def patrol_clean_points(rules: Rules, new_hazards: int) -> int:
    """+5 for a patrol that finds no new hazard."""
    return rules.patrol_clean_points if new_hazards == 0 else 0


def hazard_cost(rules: Rules, severity: Severity, item: TemplateItem | None, self_reported: bool) -> int:
    """The points a hazard costs (a positive number): by severity or the item's own, half when self-reported."""
    cost = rules.hazard_cost.of(severity)
    if item is not None and item.points is not None and item.severity == severity:
        cost = item.points
    return share(cost, rules.self_reported_percent) if self_reported else cost


def false_self_report_points(rules: Rules, declared_in_order: bool) -> int:
    """−3 extra when the shop's latest self-check before the patrol declared the found item in order."""
    return -rules.false_self_report_cost if declared_in_order else 0


def deadline(rules: Rules, severity: Severity, found: date, given: date | None = None) -> date:
    """The last day to rectify: the finding's own deadline when given, else 7/3/1 days by severity."""
    return given if given is not None else found + timedelta(days=rules.deadline_days.of(severity))


def refund_points(rules: Rules, cost: int, fixed: date, due: date) -> int:
    """Rectified and verified in time: half of the hazard's cost comes back."""
    return share(cost, rules.refund_percent) if fixed <= due else 0


def overdue_weeks(due: date, until: date) -> list[date]:
    """The first days of the weeks of delay started after the deadline `due` up to and including `until`."""
    late_days = (until - due).days
    started = -(-late_days // 7) if late_days > 0 else 0
    return [due + timedelta(days=1) + k * WEEK for k in range(started)]


def overdue_points(rules: Rules) -> int:
    """−2 per started week past the deadline."""
    return -rules.overdue_cost_per_week


def raises_alarm(rules: Rules, cost: int, severities: Iterable[Severity]) -> bool:
    """At once, when one submission's deductions reach the threshold or any serious item is found."""
    if cost > 0 and cost >= rules.alarm_threshold:
        return True
    return rules.alarm_on_serious and "serious" in severities


def list_size(rules: Rules, shops: int) -> int:
    """How many shops each of the red and black lists holds: the share, at least the minimum, never more than
    half of the shops (a shop is never on both lists)."""
    wanted = max(share(shops, rules.list_share_percent), rules.list_min_shops)
    return min(wanted, shops // 2)
