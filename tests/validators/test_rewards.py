"""Reward points (积分) in `project_shop`: earned by weekly self-checks and clean patrols over every year, untouched
by deductions, spent by the office's redemptions; the safety score never sees a redemption."""

from __future__ import annotations

from tests.validators.builders import (
    RULES,
    entries,
    finding,
    one,
    patrol,
    project,
    redemption,
    score,
    self_check,
)


def rewards(docs: list[dict[str, object]]) -> dict[str, object]:
    return dict(one(docs, "S0001:rewards"))


def test_safety_work_earns_and_deductions_do_not_take_it_back() -> None:
    events = [
        self_check("2026-03-02 09:00"),  # +2
        self_check("2026-03-04 09:00"),  # the same ISO week: nothing
        patrol("2026-03-05 10:00"),  # clean: +5
        patrol("2026-03-06 10:00", finding("f1", "open_flame", "serious", "2026-03-07")),  # −10 score, 0 rewards
        self_check("2026-03-10 09:00", "wiring_ok"),  # +2, and a self-reported hazard (−1 score)
    ]
    got = rewards(project(events, "2026-03-10"))
    assert (got["earned"], got["redeemed"], got["balance"], got["redemptions"]) == (9, 0, 9, 0)
    assert got["earned_by_rule"] == {"patrol_clean": 5, "self_check": 4}
    assert got["updated_at"] == "2026-03-10T09:00:00+08:00"


def test_earnings_carry_over_the_new_year_while_the_score_starts_again() -> None:
    events = [self_check("2025-12-29 09:00"), patrol("2026-01-05 10:00")]
    docs = project(events, "2026-01-06")
    assert rewards(docs)["earned"] == 7
    assert score(docs)["points"] == 100 + 5  # 2026 only


def test_redemptions_spend_the_balance_and_leave_the_score_alone() -> None:
    events = [self_check("2026-03-02 09:00"), patrol("2026-03-05 10:00")]
    spent = [*events, redemption("S0001", 1, "2026-03-06 15:00", points=4), redemption("S0001", 2, "2026-03-07 15:00")]
    before, after = project(events, "2026-03-08"), project(spent, "2026-03-08")
    got = rewards(after)
    assert (got["earned"], got["redeemed"], got["balance"], got["redemptions"]) == (7, 6, 1, 2)
    assert got["updated_at"] == "2026-03-07T15:00:00+08:00"
    assert score(after) == score(before)
    assert entries(after) == entries(before)


def test_a_broken_or_foreign_redemption_counts_for_nothing() -> None:
    events = [patrol("2026-03-05 10:00")]
    broken = redemption("S0001", 1, "2026-03-06 15:00") | {"points": -3}
    foreign = redemption("S0002", 1, "2026-03-06 15:00")
    misnumbered = redemption("S0001", 2, "2026-03-06 15:00") | {"_id": "S0001:redemption:000009"}
    got = rewards(project([*events, broken, foreign, misnumbered], "2026-03-08"))
    assert (got["earned"], got["redeemed"], got["balance"]) == (5, 0, 5)


def test_new_rules_reprice_earnings_and_may_leave_a_debt() -> None:
    events = [patrol("2026-03-05 10:00"), redemption("S0001", 1, "2026-03-06 15:00", points=5)]
    free_patrols = RULES.model_copy(update={"patrol_clean_points": 0, "version": 2})
    got = rewards(project(events, "2026-03-08", rules=free_patrols))
    assert (got["earned"], got["redeemed"], got["balance"], got["rules_version"]) == (0, 5, -5, 2)
