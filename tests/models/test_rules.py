"""The default rules document carries SPEC's numbers, and a broken one is refused."""

from __future__ import annotations

import json
from importlib.resources import files
from typing import Any

import pydantic
import pytest

from server.models import RULES_ID, Rules, default_rules, parse_doc, reason_of
from tests.models.examples import assert_round_trip


def test_default_rules_are_specs_numbers() -> None:
    rules = default_rules()
    assert rules.id == RULES_ID and rules.version == 1 and rules.timezone == "Asia/Shanghai"
    assert (rules.start_points, rules.self_check_points, rules.missed_week_cost, rules.missed_week_grace_days) == (
        100,
        2,
        1,
        7,
    )
    assert rules.patrol_clean_points == 5
    assert [rules.hazard_cost.of(s) for s in ("general", "major", "serious")] == [2, 5, 10]
    assert (rules.self_reported_percent, rules.false_self_report_cost) == (50, 3)
    assert [rules.deadline_days.of(s) for s in ("general", "major", "serious")] == [7, 3, 1]
    assert (rules.refund_percent, rules.overdue_cost_per_week) == (50, 2)
    assert (rules.alarm_threshold, rules.alarm_on_serious) == (10, True)
    assert (rules.list_share_percent, rules.list_min_shops) == (5, 10)
    assert (rules.working_group_black_months, rules.working_group_window_months) == (3, 6)


def test_default_rules_round_trip() -> None:
    raw = json.loads((files("server.models") / "data" / "rules.json").read_text(encoding="utf-8"))
    assert assert_round_trip(raw) == default_rules()
    snapshot = parse_doc(raw | {"_id": default_rules().snapshot_id})
    assert isinstance(snapshot, Rules) and snapshot.id == "district:rules:v1"


def _rules(**changes: Any) -> dict[str, Any]:
    return default_rules().to_doc() | changes


@pytest.mark.parametrize(
    ("doc", "reason"),
    [
        (_rules(_id="district:rules:v2"), "_id must have the form district:rules or district:rules:v1"),
        (_rules(self_reported_percent=150), "self_reported_percent: input should be less than or equal to 100"),
        (_rules(missed_week_cost=-1), "missed_week_cost: input should be greater than or equal to 0"),
        (_rules(deadline_days={"general": 1, "major": 3, "serious": 7}), "deadline_days: 须为 严重 ≤ 较大 ≤ 一般"),
        (_rules(working_group_black_months=7), "working_group_black_months: 不能超过专班统计窗口的月数"),
        (_rules(start_points=100.0), "start_points: must be a whole number"),
        (_rules(bonus=1), "bonus: unknown field"),
    ],
)
def test_broken_rules_are_refused(doc: dict[str, Any], reason: str) -> None:
    with pytest.raises(pydantic.ValidationError) as info:
        parse_doc(doc)
    assert reason in reason_of(info.value)
