"""The points-and-alarms rules document (`district:rules`), versioned like templates.

Every number of SPEC's "Points and alarms" lives here so the office can edit it; the validators
(`server/validators/rules.py`) apply them. Costs are positive numbers of points taken away, so no sign
can be got wrong; percentages are whole numbers, and a share of points is rounded to the nearest whole point,
halves away from zero (a self-reported major hazard costs 3 of 5, half of 5 comes back as 3). Times are read in
`timezone`: ISO weeks, days, deadlines and the scoring year (the calendar year) are that zone's. The current rules
live at `district:rules`, a frozen copy of every published version at `district:rules:v{version}`.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any, Final, Literal, Self

from pydantic import Field, StrictBool, StrictStr, ValidationError, model_validator

from server.models.common import Count, Day, Doc, Part, Severity, Version, editor_reason, load_data, refuse

RULES_ID: Final = "district:rules"

Percent = Count


class PerSeverity(Part):
    general: Count
    major: Count
    serious: Count

    def of(self, severity: Severity) -> int:
        value: int = getattr(self, severity)
        return value


class Rules(Doc):
    type: Literal["rules"]
    version: Version
    effective_from: Day  # the day this version starts to apply (Asia/Shanghai)
    timezone: StrictStr = "Asia/Shanghai"  # ISO weeks and deadlines are counted in this zone
    start_points: Count  # every active shop at the start of a scoring year
    self_check_points: Count  # per weekly self-check, at most one per ISO week
    missed_week_cost: Count  # per ISO week without a self-check ...
    missed_week_grace_days: Count  # ... once this many days have passed after that week
    patrol_clean_points: Count  # a patrol that finds no new hazard
    hazard_cost: PerSeverity  # a template item's `points` overrides this
    self_reported_percent: Percent = Field(le=100)  # a self-reported hazard costs this share
    false_self_report_cost: Count  # extra, when the latest self-check declared the item in order
    deadline_days: PerSeverity  # rectification deadlines
    refund_percent: Percent = Field(le=100)  # of the cost, rectified and verified in time
    overdue_cost_per_week: Count  # per started week past the deadline until verified
    alarm_threshold: Count  # one submission's costs reaching this raise an alarm at once
    alarm_on_serious: StrictBool = True  # any serious item raises an alarm too
    list_share_percent: Percent = Field(le=100)  # red list: top share, black list: bottom share ...
    list_min_shops: Count  # ... but at least this many shops each
    working_group_black_months: Count  # black-listed in this many ...
    working_group_window_months: Count  # ... of the last this many monthly snapshots → 专班整治

    @model_validator(mode="after")
    def _check_rules(self) -> Self:
        self.check_id(rf"district:rules(:v{self.version})?", f"district:rules or district:rules:v{self.version}")
        if self.working_group_black_months > self.working_group_window_months:
            # Named as a field's error, so the rules form shows it at the field to change; Chinese first, as the
            # form's other refusals (`editor_reason`).
            raise refuse(
                "working_group_black_months: 不能超过专班统计窗口的月数（cannot exceed working_group_window_months）"
            )
        if not 1 <= self.deadline_days.serious <= self.deadline_days.major <= self.deadline_days.general:
            raise refuse(
                "deadline_days: 须为 严重 ≤ 较大 ≤ 一般，且每项至少 1 天"
                "（serious ≤ major ≤ general, each at least 1 day）"
            )
        return self

    @property
    def snapshot_id(self) -> str:
        return f"{RULES_ID}:v{self.version}"


@cache
def default_rules() -> Rules:
    """Version 1: SPEC's defaults."""
    return Rules.model_validate(load_data("rules.json"))


# How the rules form's refusals of a field read in Chinese, before the English in brackets (`rules_reason`).
_SAID: Final = {
    "int_type": "须为整数",  # a boolean or a fraction too: JSON's true is no 1, and 1.5 points no whole number
    "bool_type": "须为 是 或 否",
    "string_type": "须为文字",
    "missing": "必须填写",
    "extra_forbidden": "不是检查规则的字段",
    "model_type": "须为一组数值",
    "date": "须为日期，如 2026-12-05",
}


def _said(kind: str, loc: tuple[int | str, ...], ctx: Mapping[str, Any], msg: str) -> str | None:
    if kind == "greater_than_equal":
        return f"不能小于 {ctx.get('ge')}"
    if kind == "less_than_equal":
        return f"不能超过 {ctx.get('le')}"
    return _SAID.get(kind)


def rules_reason(exc: ValidationError, limit: int = 3) -> str:
    """A refused rules document in the words of the office's rules form: `editor_reason`
    (`start_points: 须为整数（start_points: must be a whole number）`)."""
    return editor_reason(exc, _said, limit)
