"""What the office did about a black-listed shop (黑榜跟进): a talk with its owner (约谈), a special inspection
(专项检查) and, for a shop flagged for one, a dedicated working group (专班整治).

`office:followup:{shop}:{YYYY-MM}` holds every action the office recorded for the shop on that month's black list,
oldest first, each with who recorded it and when; the latest action of each kind is its state. Shop codes are
district-wide, so the id needs no sub-district (the document names it) and a shop's e-file reads its follow-ups
with one key range. A shop that moved to another sub-district during a month may be on both sub-districts' lists of
it: the second office to record one for that month writes `office:followup:{shop}:{YYYY-MM}:{subdistrict}`, so
neither office's actions land in the other's document. Written by the office API only; no device replicates the
`office` partition.
"""

from __future__ import annotations

from typing import Annotated, Any, Final, Literal, Self

from pydantic import Field, RootModel, StrictStr, StringConstraints, ValidationError, model_validator

from server.models.common import (
    KEY,
    MAX_NOTE,
    Code,
    Day,
    Doc,
    Note,
    Part,
    ShopCode,
    Text,
    Timestamp,
    UserId,
    reason_of,
    refuse,
)
from server.models.projections import Month

Action = Literal["talk", "inspection", "working_group"]
ACTIONS: Final[tuple[Action, ...]] = ("talk", "inspection", "working_group")
ACTION_NAMES: Final[dict[str, str]] = {"talk": "约谈", "inspection": "专项检查", "working_group": "专班整治"}
MAX_ACTIONS: Final = 200  # actions kept for one shop and month: far more than an office records
# What the office types, without the spaces around it (as the other office forms keep it): a name of spaces alone is
# refused as empty, and a note of spaces alone is no note.
Name = Annotated[StrictStr, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Remark = Annotated[StrictStr, StringConstraints(strip_whitespace=True, max_length=MAX_NOTE)]


class Talk(Part):
    """约谈: the shop's owner (or manager) summoned for a talk, on a day, by whom."""

    action: Literal["talk"]
    on: Day
    talked_to: Name  # who was talked to: 店主王某
    by: Name  # who held the talk: 安监所张丽
    note: Remark = ""


class Inspection(Part):
    """专项检查: planned with a due day, or done on a day, by whom (people or a department), with its result."""

    action: Literal["inspection"]
    status: Literal["planned", "done"]
    on: Day | None = None  # done on
    due: Day | None = None  # planned: to be done by
    by: Name
    note: Remark = ""  # the result

    @model_validator(mode="after")
    def _check_inspection(self) -> Self:
        if self.status == "done" and self.on is None:
            raise refuse("已完成的专项检查须填写检查日期。on: required when the inspection is done")
        if self.status == "planned" and self.due is None:
            raise refuse("计划中的专项检查须填写完成期限。due: required when the inspection is planned")
        if self.status == "planned" and self.on is not None:
            raise refuse("计划中的专项检查还没有检查日期。on: only when the inspection is done")
        return self


class WorkingGroup(Part):
    """专班整治: a dedicated working group in the shop (进驻中) or finished (已结束), its members or departments.

    A working group in the shop stays there from month to month until its end is recorded (`server.office.followups`
    carries it): ending it needs only the day it ended, its start and members are the group's in place unless given.
    """

    action: Literal["working_group"]
    status: Literal["active", "ended"]
    started: Day | None = None  # required when active; when ended, the group in place's unless given
    ended: Day | None = None
    members: Name | None = None  # likewise
    note: Remark = ""

    @model_validator(mode="after")
    def _check_group(self) -> Self:
        if self.status == "active" and self.started is None:
            raise refuse("进驻中的专班整治须填写进驻日期。started: required when the working group is active")
        if self.status == "active" and self.members is None:
            raise refuse("进驻中的专班整治须填写专班成员或部门。members: required when the working group is active")
        if self.status == "ended" and self.ended is None:
            raise refuse("已结束的专班整治须填写结束日期。ended: required when the working group has ended")
        if self.status == "active" and self.ended is not None:
            raise refuse("进驻中的专班整治没有结束日期。ended: only when the working group has ended")
        if self.ended is not None and self.started is not None and self.ended < self.started:
            raise refuse("结束日期早于进驻日期。ended: before started")
        return self


Request = Annotated[Talk | Inspection | WorkingGroup, Field(discriminator="action")]


class FollowUpRequest(RootModel[Request]):
    """The body of `POST /api/office/rankings/{month}/followups/{shop}`: one action, by its `action`."""


class Recorded(Part):
    """An action as stored: what the office sent, with who recorded it and when (the server's clock)."""

    action: Action
    on: Day | None = None
    due: Day | None = None
    status: Literal["planned", "done", "active", "ended"] | None = None
    started: Day | None = None
    ended: Day | None = None
    talked_to: Text | None = None
    by: Text | None = None
    members: Text | None = None
    note: Note = ""
    recorded_by: UserId | Literal["admin"]  # an office account, or the operator (`mashang admin-token`)
    recorded_at: Timestamp


def followup_id(shop: str, month: str, subdistrict: str | None = None) -> str:
    """The shop's follow-up of the month; with `subdistrict`, the one of a sub-district whose office recorded for the
    month after another sub-district's had (the shop moved between them)."""
    return f"office:followup:{shop}:{month}" + (f":{subdistrict}" if subdistrict else "")


class FollowUp(Doc):
    """`office:followup:{shop}:{YYYY-MM}` (or `...:{subdistrict}`): the office's actions for a shop on that month's
    black list."""

    type: Literal["followup"]
    subdistrict: Code
    month: Month
    shop: ShopCode
    actions: tuple[Recorded, ...] = Field(min_length=1, max_length=MAX_ACTIONS)
    updated_at: Timestamp

    @model_validator(mode="after")
    def _check_followup(self) -> Self:
        self.check_id(rf"office:followup:{KEY}:\d{{4}}-\d{{2}}(:{KEY})?", "office:followup:{shop}:{YYYY-MM}")
        if self.id not in (followup_id(self.shop, self.month), followup_id(self.shop, self.month, self.subdistrict)):
            raise refuse(f"_id must be {followup_id(self.shop, self.month)}")
        return self


# How a refused field reads in Chinese, before the English reason.
FIELD_NAMES: Final = {
    "action": "跟进事项",
    "on": "日期",
    "due": "完成期限",
    "status": "状态",
    "started": "进驻日期",
    "ended": "结束日期",
    "talked_to": "约谈对象",
    "by": "负责人或部门",
    "members": "专班成员或部门",
    "note": "备注",
}


def reason_zh(exc: ValidationError) -> str:
    """A refused request's reason, Chinese first (what to correct), then the English one (`reason_of`)."""
    [first, *_] = exc.errors(include_url=False, include_input=False)
    kind, loc, ctx = first["type"], [str(part) for part in first["loc"]], first.get("ctx") or {}
    name = next((FIELD_NAMES[part] for part in reversed(loc) if part in FIELD_NAMES), "")
    if kind == "invalid":  # a refusal of our own: its message is Chinese first already
        return str(first["msg"])
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        zh = "跟进事项须为约谈（talk）、专项检查（inspection）或专班整治（working_group）"
    elif kind == "missing":
        zh = f"未填写{name}"
    elif kind == "string_too_long":
        zh = f"{name}超过 {ctx.get('max_length', '')} 字"
    elif kind == "string_too_short":
        zh = f"{name}不能为空"
    elif kind == "extra_forbidden":
        zh = f"不认识的字段 {loc[-1] if loc else ''}"
    elif kind == "date":
        zh = f"{name}须填写日期，如 2026-11-05"
    else:
        zh = f"{name or '记录'}填写有误"
    return f"{zh}。{reason_of(exc, limit=1)}"


def parse_request(body: Any) -> Talk | Inspection | WorkingGroup:
    """The action a request body names; `ValueError` with a Chinese-first reason when it is not one."""
    try:
        return FollowUpRequest.model_validate(body).root
    except ValidationError as e:
        raise ValueError(reason_zh(e)) from None
