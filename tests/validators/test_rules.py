"""SPEC "Points and alarms", one table per rule: the events of a shop, the day it is evaluated on, and the exact
points the ledger then holds (the year's start of 100 left out). March 2026: W10 is 03-02..03-08, W11 03-09..15."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from server.models.templates import Template
from server.validators import rules as R
from server.validators.projections import project_shop, project_with_past
from server.validators.shops import plan_writes
from tests.validators.builders import (
    IN_ORDER,
    RULES,
    SHOP,
    TEMPLATE,
    TEMPLATES,
    Events,
    case,
    check_table,
    entries,
    finding,
    hazard_id,
    ledger,
    of_type,
    one,
    patrol,
    photo,
    project,
    receipt,
    rectification,
    score,
    self_check,
    shop,
    verification,
)


def _received(*moments: str) -> list[dict[str, Any]]:
    """A check of W10 received in time, and one of W11 (9-15 March; its grace ends with 22 March) received at
    `moments`."""
    late = self_check("2026-03-10 10:00")
    return [self_check("2026-03-02 10:00"), late, *(receipt(moment, late) for moment in moments)]


@pytest.mark.parametrize(
    ("events", "as_of", "expected"),
    [
        case(
            "week with a self-check → +2", lambda: [self_check("2026-03-02 10:00")], "2026-03-08", {"self_check": [2]}
        ),
        case(
            "two self-checks in one week → +2 once",
            lambda: [self_check("2026-03-02 10:00"), self_check("2026-03-08 22:00")],
            "2026-03-08",
            {"self_check": [2]},
        ),
        case(
            "self-checks in two weeks → +2 twice",
            lambda: [self_check("2026-03-02 10:00"), self_check("2026-03-09 10:00")],
            "2026-03-15",
            {"self_check": [2, 2]},
        ),
        case(
            "weeks are Shanghai's: Sunday 23:30 and Monday 00:30 are two weeks",
            lambda: [self_check("2026-03-08 23:30"), self_check("2026-03-09 00:30")],
            "2026-03-15",
            {"self_check": [2, 2]},
        ),
        case(
            "missed week within grace → 0",
            lambda: [self_check("2026-03-02 10:00")],
            "2026-03-22",
            {"self_check": [2]},
        ),
        case(
            "missed week after grace → −1",
            lambda: [self_check("2026-03-02 10:00")],
            "2026-03-23",
            {"self_check": [2], "missed_week": [-1]},
        ),
        case(
            "two missed weeks after their grace → −1 twice",
            lambda: [self_check("2026-03-02 10:00")],
            "2026-03-30",
            {"self_check": [2], "missed_week": [-1, -1]},
        ),
        case(
            "a check received within its week's grace saves it (received at 23:00 on the grace's last day)",
            lambda: _received("2026-03-22 23:00"),
            "2026-03-30",
            {"self_check": [2, 2], "missed_week": [-1]},
        ),
        case(
            "a check received after its week's grace earns nothing and saves nothing (SPEC: none *received*)",
            lambda: _received("2026-03-23 09:00"),
            "2026-03-30",
            {"self_check": [2], "missed_week": [-1, -1]},
        ),
        case(
            "a check received twice counts from its first receipt",
            lambda: _received("2026-03-20 09:00", "2026-03-25 09:00"),
            "2026-03-30",
            {"self_check": [2, 2], "missed_week": [-1]},
        ),
        case(
            "a check without a receipt (from before receipts, or the operator's) counts by its own time",
            lambda: [self_check("2026-03-15 23:30"), self_check("2026-03-02 10:00")],
            "2026-03-23",
            {"self_check": [2, 2]},
        ),
        case(
            "a shop owes self-checks from the week after its first patrol",
            lambda: [patrol("2026-03-04 10:00")],
            "2026-03-23",
            {"patrol_clean": [5], "missed_week": [-1]},
        ),
    ],
)
def test_weekly_self_check(events: Events, as_of: str, expected: dict[str, list[int]]) -> None:
    check_table(events, as_of, expected)


@pytest.mark.parametrize("registry", [shop("closed"), None], ids=["closed", "not in the registry"])
def test_only_an_active_shop_owes_self_checks(registry: dict[str, Any] | None) -> None:
    docs = project_shop(registry, [self_check("2026-03-02 10:00")], RULES, date(2026, 4, 30), TEMPLATES)
    assert ledger(docs) == {"self_check": [2]} and score(docs)["points"] == 102


def test_a_shop_closed_owes_the_weeks_before_it_closed_and_none_while_closed() -> None:
    """Closing a black-listed shop took away every missed week of its year (its points rose from 56 to 103): the
    weeks it was active still count, the weeks it was closed (any day of them) do not, and from its reopening on
    it owes them again."""
    checks = [self_check("2026-03-02 10:00")]
    closed = {**shop("closed"), "closures": [{"since": "2026-03-25", "until": None}]}
    docs = project_shop(closed, checks, RULES, date(2026, 4, 30), TEMPLATES)
    assert ledger(docs) == {"self_check": [2], "missed_week": [-1, -1]}  # W11, W12; W13 (23-29 March) closed
    reopened = {**shop(), "closures": [{"since": "2026-03-25", "until": "2026-04-08"}]}
    docs = project_shop(reopened, checks, RULES, date(2026, 4, 30), TEMPLATES)
    # W11, W12, then from W15 (6-12 April, reopened on the 8th: closed part of it) on: W16 (its grace ends 26 April)
    assert ledger(docs) == {"self_check": [2], "missed_week": [-1, -1, -1]}
    # The score as of a past day (the monthly rankings) counts alike.
    _, [as_of] = project_with_past(closed, checks, RULES, None, TEMPLATES, [date(2026, 4, 30)])
    assert (
        as_of is not None
        and as_of["points"] == score(project_shop(closed, checks, RULES, date(2026, 4, 30), TEMPLATES))["points"]
    )


def test_no_week_is_owed_before_the_rules_take_effect() -> None:
    rules = RULES.model_copy(update={"effective_from": date(2026, 3, 16)})
    docs = project([self_check("2026-03-02 10:00")], "2026-03-30", rules=rules)
    assert ledger(docs) == {"self_check": [2], "missed_week": [-1]}  # W12 only; W11 was before the rules


def test_each_version_of_the_rules_scores_what_happened_while_it_was_in_force() -> None:
    """The office publishes v2 on 1 March, in force from 16 March: what happened before keeps v1's points, its
    missed weeks and its alarms; what happens from 16 March on is scored by v2. A v3 published later, in force
    from 10 March, replaces v2 from that day on."""
    v2 = RULES.model_copy(
        update={
            "version": 2,
            "effective_from": date(2026, 3, 16),
            "self_check_points": 3,
            "alarm_threshold": 30,
            "alarm_on_serious": False,
            "hazard_cost": RULES.hazard_cost.model_copy(update={"general": 4}),
        }
    )
    events = [
        self_check("2026-03-02 10:00"),  # W10: v1's +2
        patrol("2026-03-03 10:00", finding("f1", "gas_safe", "serious", "2026-03-04")),  # v1: −10 and an alarm
        patrol("2026-03-17 10:00", finding("f2", "wiring_ok", "general", "2026-03-24")),  # v2: −4
        self_check("2026-03-18 10:00"),  # W12: v2's +3; W11 was missed under v1
    ]
    docs = project(events, "2026-03-30", rules=R.RulesHistory([RULES, v2]))
    # Each hazard: its cost, −3 as the self-check before it declared the item in order, −2 per overdue week.
    found = {"hazard": [-10, -4], "false_self_report": [-3, -3], "overdue": [-2] * 5}
    assert ledger(docs) == {**found, "missed_week": [-1], "self_check": [2, 3]}
    assert len(of_type(docs, "alarm")) == 1  # v2 raises none for a serious item, but the 3 March one was v1's
    versions: dict[str, set[int]] = {}
    for entry in entries(docs):
        versions.setdefault(str(entry["rule"]), set()).add(int(entry["rules_version"]))
    assert versions == {
        "start": {1},
        "self_check": {1, 2},
        "missed_week": {1},
        "hazard": {1, 2},
        "false_self_report": {1, 2},
        "overdue": {1, 2},  # a hazard's overdue weeks follow the version it was found under
    }
    assert score(docs)["rules_version"] == 2
    v3 = v2.model_copy(update={"version": 3, "effective_from": date(2026, 3, 10), "self_check_points": 5})
    docs = project(events, "2026-03-30", rules=R.RulesHistory([RULES, v2, v3]))
    assert ledger(docs) == {**found, "missed_week": [-1], "self_check": [2, 5]}
    # Before the first version's day nothing is owed, whichever version came later.
    assert R.RulesHistory([v2, v3]).start == date(2026, 3, 10)
    assert R.RulesHistory([RULES, v2, v3]).on(date(2025, 6, 1)) is RULES


@pytest.mark.parametrize(
    ("events", "as_of", "expected"),
    [
        case("clean patrol → +5", lambda: [patrol("2026-03-02 10:00")], "2026-03-08", {"patrol_clean": [5]}),
        case(
            "one visit, two modules' clean patrols → +5 once",
            lambda: [patrol("2026-03-02 10:00"), patrol("2026-03-02 10:20")],
            "2026-03-08",
            {"patrol_clean": [5]},
        ),
        case(
            "one visit, a clean module then a finding → no +5",
            lambda: [
                patrol("2026-03-02 10:00"),
                patrol("2026-03-02 10:20", finding("f1", "wiring_ok", "general", "2026-03-09")),
            ],
            "2026-03-08",
            {"hazard": [-2]},
        ),
        case(
            "clean patrols on two days → +5 each",
            lambda: [patrol("2026-03-02 10:00"), patrol("2026-03-03 10:00")],
            "2026-03-08",
            {"patrol_clean": [5, 5]},
        ),
        case(
            "patrol with a general finding → −2 and no +5",
            lambda: [patrol("2026-03-02 10:00", finding("f1", "wiring_ok", "general", "2026-03-09"))],
            "2026-03-08",
            {"hazard": [-2]},
        ),
        case(
            "patrol with a major finding → −5",
            lambda: [patrol("2026-03-02 10:00", finding("f1", "escape_route", "major", "2026-03-05"))],
            "2026-03-05",
            {"hazard": [-5]},
        ),
        case(
            "patrol with a serious finding → −10",
            lambda: [patrol("2026-03-02 10:00", finding("f1", "gas_safe", "serious", "2026-03-03"))],
            "2026-03-03",
            {"hazard": [-10]},
        ),
        case(
            "a finding the template has no item for costs by its severity",
            lambda: [patrol("2026-03-02 10:00", finding("f1", "other", "major", "2026-03-05"))],
            "2026-03-05",
            {"hazard": [-5]},
        ),
        case(
            "self-reported general → −1",
            lambda: [self_check("2026-03-02 10:00", "wiring_ok")],
            "2026-03-08",
            {"self_check": [2], "hazard": [-1]},
        ),
        case(
            "self-reported major → −2.5, rounded away from zero to −3",
            lambda: [self_check("2026-03-02 10:00", "escape_route")],
            "2026-03-05",
            {"self_check": [2], "hazard": [-3]},
        ),
        case(
            "self-reported serious → −5",
            lambda: [self_check("2026-03-02 10:00", "open_flame")],
            "2026-03-03",
            {"self_check": [2], "hazard": [-5]},
        ),
        case(
            "people sleeping in a “三合一” shop escalate to serious → −5 each",
            lambda: [self_check("2026-03-02 10:00", "sleeping_people", "three_in_one")],
            "2026-03-03",
            {"self_check": [2], "hazard": [-5, -5]},
        ),
        case(
            "photos do not score",
            lambda: [photo("2026-03-02 09:59"), self_check("2026-03-02 10:00")],
            "2026-03-08",
            {"self_check": [2]},
        ),
    ],
)
def test_patrols_and_hazards(events: Events, as_of: str, expected: dict[str, list[int]]) -> None:
    check_table(events, as_of, expected)


def _template_v2(points: int) -> Template:
    items = [item.model_dump() | ({"points": points} if item.id == "wiring_ok" else {}) for item in TEMPLATE.items]
    return Template.model_validate(TEMPLATE.to_doc() | {"version": 2, "items": items})


@pytest.mark.parametrize(("severity", "cost"), [("general", 4), ("major", 5)])
def test_an_item_may_override_its_cost(severity: str, cost: int) -> None:
    v2 = _template_v2(4)
    templates = {(TEMPLATE.template_id, 1): TEMPLATE, (v2.template_id, 2): v2}
    events = [patrol("2026-03-02 10:00", finding("f1", "wiring_ok", severity, "2026-03-09"), template=v2)]
    assert ledger(project(events, "2026-03-02", templates=templates)) == {"hazard": [-cost]}


def _false_report(declared: str) -> list[dict[str, Any]]:
    checks = {
        "in order": [self_check("2026-03-02 10:00")],
        "unanswered": [self_check("2026-03-02 10:00", answers={"open_flame": False})],
        "in order, then as a hazard": [self_check("2026-03-01 10:00"), self_check("2026-03-02 10:00", "wiring_ok")],
        "in order after the patrol": [self_check("2026-03-04 10:00")],
        "never": [],
    }[declared]
    return [*checks, patrol("2026-03-03 10:00", finding("f1", "wiring_ok", "general", "2026-03-10"))]


@pytest.mark.parametrize(
    ("declared", "expected"),
    [
        ("in order", {"self_check": [2], "hazard": [-2], "false_self_report": [-3]}),
        ("unanswered", {"self_check": [2], "hazard": [-2]}),
        # The owner declared it (−1, self-reported): the patrol finds the same unresolved hazard, not a new one, so
        # it is a patrol that found no new hazard (+5), as the app, which offers no finding on it, makes it.
        ("in order, then as a hazard", {"self_check": [2, 2], "hazard": [-1], "patrol_clean": [5]}),
        ("in order after the patrol", {"self_check": [2], "hazard": [-2]}),
        ("never", {"hazard": [-2]}),
    ],
)
def test_false_self_report(declared: str, expected: dict[str, list[int]]) -> None:
    """A hazard the shop's latest self-check before the patrol declared in order costs an extra −3."""
    check_table(lambda: _false_report(declared), "2026-03-04", expected)


@pytest.mark.parametrize(
    ("item", "severity", "cost"),
    [
        ("gas_safe", "serious", 10),
        ("extinguisher_valid", "general", 2),
        ("sleeping_people", "major", 5),  # a number item takes no "na": an operator's write, projected all the same
    ],
)
def test_a_not_applicable_answer_is_no_hazard_but_a_finding_there_shows_it_false(
    item: str, severity: str, cost: int
) -> None:
    """The owner answered 不适用 (no gas in the shop): no hazard of theirs. When the grid worker finds one there, the
    owner said there was nothing wrong: a false self-report (−3), as a "safe" answer would be; 不适用 is not a free
    answer. A number item takes no "na" (an operator's write): that answer does not fit and declares nothing."""
    owner = self_check("2026-03-02 10:00", answers={**IN_ORDER, item: "na"})
    assert not of_type(project([owner], "2026-03-02"), "hazard")
    check_table(lambda: [owner], "2026-03-02", {"self_check": [2]})
    found = patrol("2026-03-03 10:00", finding("f1", item, severity, "2026-03-10"))
    false_report = {} if item == "sleeping_people" else {"false_self_report": [-3]}
    check_table(lambda: [owner, found], "2026-03-04", {"self_check": [2], "hazard": [-cost], **false_report})


@pytest.mark.parametrize(
    ("severity", "found", "deadline"),
    [
        ("general", "2026-03-02", "2026-03-09"),
        ("major", "2026-03-02", "2026-03-05"),
        ("serious", "2026-03-02", "2026-03-03"),
    ],
)
def test_deadline_by_severity(severity: str, found: str, deadline: str) -> None:
    item = {"general": "wiring_ok", "major": "escape_route", "serious": "gas_safe"}[severity]
    check = self_check(f"{found} 23:59", item)
    assert one(project([check], found), hazard_id(check, item))["deadline"] == deadline


def test_a_findings_own_deadline_wins() -> None:
    check = patrol("2026-03-02 10:00", finding("f1", "gas_safe", "serious", "2026-03-20"))
    assert one(project([check], "2026-03-02"), hazard_id(check, "f1"))["deadline"] == "2026-03-20"


def _follow_up(fixed: str | None, verified: str | None, severity: str = "general") -> list[dict[str, Any]]:
    """A patrol on 03-02 finds a hazard due 03-05; the owner fixes it on `fixed`, the grid worker verifies it on
    `verified` (the rectification it names, or on the spot when nothing was reported)."""
    item = {"general": "wiring_ok", "major": "escape_route"}[severity]
    check = patrol("2026-03-02 10:00", finding("f1", item, severity, "2026-03-05"))
    hazard = hazard_id(check, "f1")
    events = [check]
    rectified = None
    if fixed:
        events.append(rectification(f"{fixed} 09:00", hazard))
        rectified = events[-1]["_id"]
    if verified:
        events.append(verification(f"{verified} 17:00", hazard, rectified=rectified))
    return events


@pytest.mark.parametrize(
    ("events", "as_of", "expected"),
    [
        case(
            "rectified and verified in time → half of −2 back",
            lambda: _follow_up("2026-03-04", "2026-03-05"),
            "2026-03-20",
            {"hazard": [-2], "refund": [1]},
        ),
        case(
            "rectified and verified in time → half of −5, rounded away from zero, back",
            lambda: _follow_up("2026-03-04", "2026-03-05", "major"),
            "2026-03-20",
            {"hazard": [-5], "refund": [3]},
        ),
        case(
            "fixed on the spot in time → half back",
            lambda: _follow_up(None, "2026-03-03"),
            "2026-03-20",
            {"hazard": [-2], "refund": [1]},
        ),
        case(
            "rectified in time, verified later → half back, nothing overdue",
            lambda: _follow_up("2026-03-05", "2026-03-09"),
            "2026-03-20",
            {"hazard": [-2], "refund": [1]},
        ),
        case(
            "rectified in time, not verified yet → nothing overdue while it waits",
            lambda: _follow_up("2026-03-05", None),
            "2026-03-20",
            {"hazard": [-2]},
        ),
        case("on the deadline day → nothing overdue", lambda: _follow_up(None, None), "2026-03-05", {"hazard": [-2]}),
        case("overdue 1 day → −2", lambda: _follow_up(None, None), "2026-03-06", {"hazard": [-2], "overdue": [-2]}),
        case("overdue 7 days → −2", lambda: _follow_up(None, None), "2026-03-12", {"hazard": [-2], "overdue": [-2]}),
        case(
            "overdue 8 days → −2 × 2 started weeks",
            lambda: _follow_up(None, None),
            "2026-03-13",
            {"hazard": [-2], "overdue": [-2, -2]},
        ),
        case(
            "fixed 9 days late → −2 × 2, no refund, whenever verified",
            lambda: _follow_up("2026-03-14", "2026-03-30"),
            "2026-04-02",
            {"hazard": [-2], "overdue": [-2, -2]},
        ),
    ],
)
def test_rectification(events: Events, as_of: str, expected: dict[str, list[int]]) -> None:
    docs = project(events(), as_of)
    weeks = [entry["points"] for entry in entries(docs) if entry["rule"] == "missed_week"]
    assert ledger(docs) == expected | ({"missed_week": weeks} if weeks else {})


def test_a_failed_verification_restarts_the_clock_from_the_deadline() -> None:
    events = _follow_up("2026-03-04", None)
    hazard = str(events[1]["hazard"])
    events.append(verification("2026-03-07 10:00", hazard, passed=False, rectified=str(events[1]["_id"])))
    assert ledger(project(events, "2026-03-13")) == {"hazard": [-2], "overdue": [-2, -2]}
    events.append(rectification("2026-03-15 10:00", hazard))
    events.append(verification("2026-03-16 10:00", hazard, rectified=str(events[-1]["_id"])))
    assert ledger(project(events, "2026-03-20")) == {"hazard": [-2], "overdue": [-2, -2]}  # 10 days late


def _alarm_case(*findings: tuple[str, str], declared: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """A patrol with these findings, after a self-check that declared the items `declared` in order."""
    checks = [self_check("2026-03-01 10:00", answers=dict.fromkeys(declared, True))] if declared else []
    made = [finding(f"f{n}", item, severity, "2026-03-10") for n, (item, severity) in enumerate(findings, start=1)]
    return [*checks, patrol("2026-03-02 10:00", *made)]


@pytest.mark.parametrize(
    ("events", "alarm"),
    [
        (lambda: [self_check("2026-03-02 10:00", "open_flame")], True),
        (lambda: [self_check("2026-03-02 10:00", "escape_route", "rcd_installed")], False),  # 3 + 3
        (lambda: _alarm_case(("gas_safe", "serious")), True),
        (lambda: _alarm_case(("escape_route", "major"), ("rcd_installed", "major")), True),  # 5 + 5
        (lambda: _alarm_case(("escape_route", "major")), False),
        (lambda: _alarm_case(("escape_route", "major"), declared=("escape_route",)), False),  # 5 + 3
        (lambda: _alarm_case(("escape_route", "major"), ("wiring_ok", "general"), declared=("escape_route",)), True),
        (lambda: [patrol("2026-03-02 10:00")], False),
        (lambda: _two_modules("10:00", "10:00"), True),  # 5 + 5
        (lambda: _two_modules("10:00", "10:20"), False),  # 5, then 5
    ],
    ids=[
        "self-reported serious item → alarm",
        "two self-reported majors (−6) → no alarm",
        "serious finding → alarm",
        "two majors (−10) in one patrol → alarm",
        "one major → no alarm",
        "one major falsely declared in order (−8) → no alarm",
        "major, general and a false self-report (−10) → alarm",
        "clean patrol → no alarm",
        "one submission of two modules, a major in each (−10) → alarm",
        "two patrols 20 minutes apart, a major in each → no alarm",
    ],
)
def test_alarm(events: Events, alarm: bool) -> None:
    assert len(of_type(project(events(), "2026-03-02"), "alarm")) == (1 if alarm else 0)


def _patrolled_twice() -> tuple[dict[str, Any], dict[str, Any]]:
    """The same day's two patrols of a shop (a phone that had not synced the first): the 明火 found by both, and a
    finding on `other` (no item) by the second."""
    first = patrol("2026-03-02 10:00", finding("f1", "open_flame", "serious", "2026-03-03"))
    again = patrol(
        "2026-03-02 11:00",
        finding("f1", "open_flame", "serious", "2026-03-03"),
        finding("f2", "other", "general", "2026-03-09"),
    )
    return first, again


def test_a_second_patrol_does_not_find_an_unresolved_hazard_again() -> None:
    """Patrolled twice the same day (a phone that had not synced the first): the 明火 found twice is one hazard, one
    deduction and one alarm; a finding on `other` names no item and is a hazard of its own."""
    first, again = _patrolled_twice()
    docs = project([first, again], "2026-03-02")
    assert ledger(docs) == {"hazard": [-10, -2]}
    assert len(of_type(docs, "hazard")) == 2 and len(of_type(docs, "alarm")) == 1


def _two_modules(first: str, second: str, severity: str = "major") -> list[dict[str, Any]]:
    """A grid worker's patrol of a shop with two checklist modules: one event per module, each with a finding."""
    return [
        patrol(f"2026-03-02 {first}", finding("f1", "escape_route", "major", "2026-03-10")),
        patrol(f"2026-03-02 {second}", finding("f2", "rcd_installed", severity, "2026-03-10")),
    ]


def test_a_submissions_alarm_names_every_modules_items_under_its_first_events_id() -> None:
    events = _two_modules("10:00", "10:00")
    [alarm] = of_type(project(events, "2026-03-02"), "alarm")
    first = str(events[0]["_id"]).rsplit(":", 1)[1]
    assert alarm["_id"] == f"{SHOP}:alarm:{first}" and alarm["source"] == events[0]["_id"]
    assert alarm["cost"] == 10 and [i["item"] for i in alarm["items"]] == ["escape_route", "rcd_installed"]
    assert [i["hazard"] for i in alarm["items"]] == [hazard_id(events[0], "f1"), hazard_id(events[1], "f2")]


@pytest.mark.parametrize("office_acted", [False, True])
def test_a_modules_alarm_raised_before_its_submissions_first_event_arrived(office_acted: bool) -> None:
    """The second module's event arrives first and raises an alarm alone (a serious item). When the first arrives,
    the submission's one alarm has the first event's id: the early one is withdrawn, unless the office already
    acted on it (then it stays, with what the office did)."""
    events = _two_modules("10:00", "10:00", severity="serious")
    [early] = of_type(project(events[1:], "2026-03-02"), "alarm")
    stored = {str(early["_id"]): {**early, "_rev": "1-a"}}
    if office_acted:
        ack = {"status": "acknowledged", "at": "2026-03-02T10:05:00+08:00", "by": "office:wang"}
        stored[str(early["_id"])] |= {"status": "acknowledged", "history": [*early["history"], ack]}
    projected = project(events, "2026-03-02")
    [alarm] = of_type(projected, "alarm")
    assert alarm["_id"] != early["_id"] and len(alarm["items"]) == 2
    plan = plan_writes(projected, stored)
    withdrawn = [w["_id"] for w in plan.writes if w.get("_deleted")]
    assert withdrawn == ([] if office_acted else [early["_id"]])
    assert [a["_id"] for a in plan.new_alarms] == [alarm["_id"]]


def test_an_alarm_the_rules_no_longer_raise_stays() -> None:
    """The office raised the threshold: an open alarm raised under the old rules is not withdrawn."""
    events = _two_modules("10:00", "10:00")
    [alarm] = of_type(project(events, "2026-03-02"), "alarm")
    higher = RULES.model_copy(update={"alarm_threshold": 15})
    projected = project(events, "2026-03-02", rules=higher)
    assert of_type(projected, "alarm") == []
    plan = plan_writes(projected, {str(alarm["_id"]): {**alarm, "_rev": "1-a"}})
    assert not [w for w in plan.writes if w.get("_deleted")]


def _alarm_of(event: dict[str, Any]) -> str:
    """The id of the alarm a submission whose first event is `event` raises."""
    return f"{SHOP}:alarm:{str(event['_id']).rsplit(':', 1)[1]}"


def _alarm_named(docs: list[dict[str, Any]]) -> dict[str, str | None]:
    """Each hazard's `alarm`, by hazard id (a KeyError where one does not say)."""
    return {str(doc["_id"]): doc["alarm"] for doc in of_type(docs, "hazard")}


def test_a_hazard_names_the_alarm_its_submission_raised_or_none() -> None:
    """What a grid worker's phone concludes from when the hazards of its patrol come down before the alarm (a
    CouchDB cluster's changes feed keeps no order within a `_bulk_docs`): each hazard says which alarm its
    submission raised, or that it raised none, whatever order the events came in."""
    serious = patrol("2026-03-02 10:00", finding("f1", "gas_safe", "serious", "2026-03-03"))
    assert _alarm_named(project([serious], "2026-03-02")) == {hazard_id(serious, "f1"): _alarm_of(serious)}
    major = patrol("2026-03-02 10:00", finding("f1", "escape_route", "major", "2026-03-10"))
    assert _alarm_named(project([major], "2026-03-02")) == {hazard_id(major, "f1"): None}
    owner = self_check("2026-03-02 09:00", "open_flame")
    assert _alarm_named(project([owner], "2026-03-02")) == {hazard_id(owner, "open_flame"): _alarm_of(owner)}
    # A submission of two modules: every hazard names its one alarm, under its first event's id, in any order.
    events = _two_modules("10:00", "10:00")
    expected = {hazard_id(events[0], "f1"): _alarm_of(events[0]), hazard_id(events[1], "f2"): _alarm_of(events[0])}
    assert _alarm_named(project(events, "2026-03-02")) == expected
    assert project(events[::-1], "2026-03-02") == project(events, "2026-03-02")
    # Its second module alone (the first not received yet) raises none: its hazard says so until the first comes.
    assert _alarm_named(project(events[1:], "2026-03-02")) == {hazard_id(events[1], "f2"): None}


def test_a_hazard_found_again_names_its_own_sources_alarm_not_the_later_patrols() -> None:
    """A later patrol that finds an unresolved hazard again adds no hazard and raises no alarm: the hazard it joined
    still names the alarm of the submission that found it, and the later patrol's new hazard its own (none here)."""
    first, again = _patrolled_twice()
    docs = project([first, again], "2026-03-02")
    [alarm] = of_type(docs, "alarm")
    assert _alarm_named(docs) == {hazard_id(first, "f1"): alarm["_id"], hazard_id(again, "f2"): None}
    assert one(docs, hazard_id(first, "f1"))["aliases"] == [hazard_id(again, "f1")]
    # Merged into an owner's older self-check that arrived late: the hazard is the self-check's, with its alarm.
    older = self_check("2026-03-02 09:00", "open_flame")
    docs = project([first, older], "2026-03-02")
    [merged] = of_type(docs, "hazard")
    [alarm] = of_type(docs, "alarm")
    assert merged["aliases"] == [hazard_id(first, "f1")] and merged["alarm"] == alarm["_id"] == _alarm_of(older)


def test_a_scoring_year_starts_at_100() -> None:
    assert score(project([], "2026-05-01"))["points"] == 100
    docs = project([self_check("2026-12-30 10:00", "wiring_ok")], "2027-01-05")
    assert [(e["_id"], e["points"]) for e in entries(docs) if e["rule"] == "start"] == [
        ("S0001:ledger:2026:start", 100),
        ("S0001:ledger:2027:start", 100),
    ]
    assert score(docs)["points"] == 100  # last year's +2 and −1 stay in 2026


@pytest.mark.parametrize(
    ("checked", "as_of", "weeks", "points"),
    [
        # The last check in 2026-W51 (14-20 December): W52 (Sunday 12-27) is charged on 2027-01-04, W53 (28
        # December to Sunday 2027-01-03) on 2027-01-11. Before, W52's cost was dated 12-27: not yet due for the
        # 2026 score, and last year's for the 2027 one, it was charged nowhere.
        ("2026-12-16 10:00", "2026-12-31", [], 102),
        ("2026-12-16 10:00", "2027-01-03", [], 100),
        ("2026-12-16 10:00", "2027-01-04", [("2026-W52", "2027-01-04")], 99),
        ("2026-12-16 10:00", "2027-01-11", [("2026-W52", "2027-01-04"), ("2026-W53", "2027-01-11")], 98),
        # 2028-W51 ends on Sunday 24 December: its cost is due on 2029-01-01, the first day a week can cost late.
        ("2028-12-13 10:00", "2029-01-01", [("2028-W51", "2029-01-01")], 99),
    ],
)
def test_a_missed_week_counts_in_the_year_it_is_charged(
    checked: str, as_of: str, weeks: list[tuple[str, str]], points: int
) -> None:
    events = [self_check(checked)]
    docs = project(events, as_of)
    missed = [(e["_id"], e["day"]) for e in entries(docs) if e["rule"] == "missed_week"]
    assert missed == [(f"{SHOP}:ledger:{week}:missed_week", day) for week, day in weeks]
    assert score(docs)["points"] == points
    # The monthly ranking's past score agrees.
    _, [past] = project_with_past(shop(), events, RULES, None, TEMPLATES, [date.fromisoformat(as_of)])
    assert past is not None and past["points"] == points


@pytest.mark.parametrize(
    ("points", "percent", "share"), [(5, 50, 3), (3, 50, 2), (2, 50, 1), (1, 50, 1), (-5, 50, -3), (1523, 5, 76)]
)
def test_shares_round_half_away_from_zero(points: int, percent: int, share: int) -> None:
    assert R.share(points, percent) == share
