"""What the server's receipts bound (server/validators/rules.py "Receipts and the offline allowance"): an owner's
phone may keep what it did offline for the allowance (`missed_week_grace_days`, 7 days); beyond it, a self-check
or rectification counts from the allowance before the server first received it, whatever date the phone gave it.

Found by an audit with probes on a real gateway:
- a rectification dated back to its deadline, pushed weeks later and verified at once, got the "in time" refund
  and no overdue weeks;
- a new shop's first self-check from a phone whose clock was weeks behind made it owe the weeks before it came.

February-March 2026: a major hazard is found on Monday 02-23 (W09), due Thursday 02-26."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from server.validators.projections import project_with_past
from tests.validators.builders import (
    RULES,
    TEMPLATES,
    Events,
    case,
    check_table,
    finding,
    hazard_id,
    ledger,
    of_type,
    one,
    patrol,
    project,
    receipt,
    rectification,
    score,
    self_check,
    shop,
    verification,
)

FOUND = "2026-02-23 10:00"
DEADLINE = "2026-02-26"


def _fixed(performed: str, received: str | None, verified: str | None) -> list[dict[str, Any]]:
    """The major hazard of 02-23; the owner's rectification, dated `performed`, that the server received at
    `received` (None: no receipt, as before receipts or when the operator wrote it); the grid worker verifies it at
    `verified`."""
    found = patrol(FOUND, finding("f1", "escape_route", "major", DEADLINE))
    hazard = hazard_id(found, "f1")
    fix = rectification(performed, hazard)
    events = [found, fix, *([receipt(received, fix)] if received else [])]
    if verified:
        events.append(verification(verified, hazard, rectified=str(fix["_id"])))
    return events


def _checked(performed: str, received: str) -> list[dict[str, Any]]:
    """A self-check dated `performed` that the server received at `received`."""
    check = self_check(performed)
    return [check, receipt(received, check)]


@pytest.mark.parametrize(
    ("events", "as_of", "expected"),
    [
        case(
            "the audit's probe: dated 02-26 23:00, pushed and verified 03-31 → late (fixed 03-24), no refund",
            lambda: _fixed("2026-02-26 23:00", "2026-03-31 10:00", "2026-03-31 15:00"),
            "2026-03-31",
            {"hazard": [-5], "overdue": [-2] * 4},  # weeks of delay from 02-27, 03-06, 03-13, 03-20
        ),
        case(
            "fixed offline on the deadline, synced 3 days later → in time, half back",
            lambda: _fixed("2026-02-26 18:00", "2026-03-01 09:00", "2026-03-02 10:00"),
            "2026-03-31",
            {"hazard": [-5], "refund": [3]},
        ),
        case(
            "synced at the very end of the allowance (7 days) → in time",
            lambda: _fixed("2026-02-26 18:00", "2026-03-05 18:00", "2026-03-06 10:00"),
            "2026-03-31",
            {"hazard": [-5], "refund": [3]},
        ),
        case(
            "synced 15 hours past the allowance → fixed on 02-27: one week overdue, no refund",
            lambda: _fixed("2026-02-26 18:00", "2026-03-06 09:00", "2026-03-06 10:00"),
            "2026-03-31",
            {"hazard": [-5], "overdue": [-2]},
        ),
        case(
            "received late and not verified yet → the clock stops at the credited fix (03-24), not at 02-26",
            lambda: _fixed("2026-02-26 23:00", "2026-03-31 10:00", None),
            "2026-04-10",
            {"hazard": [-5], "overdue": [-2] * 4},
        ),
        case(
            "no receipt (older data, the operator's) → counts by its performed_at, as before",
            lambda: _fixed("2026-02-26 23:00", None, "2026-03-31 15:00"),
            "2026-03-31",
            {"hazard": [-5], "refund": [3]},
        ),
    ],
)
def test_a_rectification_counts_from_the_allowance_before_the_server_received_it(
    events: Events, as_of: str, expected: dict[str, list[int]]
) -> None:
    docs = project(events(), as_of)
    weeks = ledger(docs).get("missed_week", [])  # the shop came onto the platform with the patrol of 02-23
    assert ledger(docs) == expected | ({"missed_week": weeks} if weeks else {})
    assert score(docs)["points"] == 100 + sum(sum(points) for points in expected.values()) + sum(weeks)


def test_a_backdated_rectification_takes_its_place_at_its_credited_moment() -> None:
    """The hazard's history says what the score counts: overdue from 02-27, rectified on 03-24 (7 days before it
    was received), closed on 03-31; a monthly snapshot of 03-10 sees it open and two weeks overdue."""
    events = _fixed("2026-02-26 23:00", "2026-03-31 10:00", "2026-03-31 15:00")
    hazard = one(project(events, "2026-03-31"), hazard_id(events[0], "f1"))
    assert [(step["status"], step["at"]) for step in hazard["history"]] == [
        ("open", "2026-02-23T10:00:00+08:00"),
        ("overdue", "2026-02-27T00:00:00+08:00"),
        ("rectified", "2026-03-24T10:00:00+08:00"),
        ("closed", "2026-03-31T15:00:00+08:00"),
    ]
    assert hazard["status"] == "closed" and hazard["rectifications"] == [events[1]["_id"]]
    _, [snapshot] = project_with_past(shop(), events, RULES, None, TEMPLATES, [date(2026, 3, 10)])
    assert snapshot is not None and snapshot["points"] == 100 - 5 - 2 * 2 and snapshot["open_hazards"] == 1


@pytest.mark.parametrize(
    ("events", "as_of", "expected"),
    [
        case(
            "the audit's probe: a first self-check dated 03-07 arrives 05-06 → on the platform from 04-29 (W18)",
            lambda: _checked("2026-03-07 10:00", "2026-05-06 10:00"),
            "2026-05-06",
            {},  # W10's check came after W10's grace: it earns nothing; no week owed before W19 (05-04..10)
        ),
        case(
            "an honest shop: its first self-check on 05-06, received at once",
            lambda: _checked("2026-05-06 10:00", "2026-05-06 10:01"),
            "2026-05-06",
            {"self_check": [2]},
        ),
        case(
            "a first self-check kept offline 5 days → on the platform from its own week (W10): owes W11..W13",
            lambda: _checked("2026-03-07 10:00", "2026-03-12 10:00"),
            "2026-04-06",
            {"self_check": [2], "missed_week": [-1] * 3},
        ),
        case(
            "a grid worker's patrol on 03-04 puts the shop on the platform by its own time: owes W11..W17",
            lambda: [patrol("2026-03-04 10:00"), *_checked("2026-03-07 10:00", "2026-05-06 10:00")],
            "2026-05-06",
            {"patrol_clean": [5], "missed_week": [-1] * 7},
        ),
        case(
            "a first self-check without a receipt (older data, the operator's) counts by its own time, as before",
            lambda: [self_check("2026-03-07 10:00")],
            "2026-05-06",
            {"self_check": [2], "missed_week": [-1] * 7},
        ),
    ],
)
def test_a_shop_comes_onto_the_platform_when_the_server_knows_it_was_active(
    events: Events, as_of: str, expected: dict[str, list[int]]
) -> None:
    assert not of_type(check_table(events, as_of, expected), "alarm")
