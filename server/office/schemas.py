"""Pydantic models of answers the API builds as plain dicts (the office's figures, sign-in), for the OpenAPI
document; the tests validate real answers against them, so the contract cannot drift from the code."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from server.models import Alarm
from server.models.common import Day, Note
from server.models.projections import AlarmItem


class Answer(BaseModel):
    model_config = ConfigDict(extra="allow")  # answers may grow fields; clients ignore the ones they don't know


class Figures(Answer):
    shops_active: int = Field(ge=0, description="active shops of the scope")
    self_check_coverage_week: float | None = Field(
        ge=0, le=1, description="share of active shops with ≥1 self-check in the ISO week (Asia/Shanghai)"
    )
    patrol_coverage_month: float | None = Field(
        ge=0, le=1, description="share of active shops with ≥1 patrol in the calendar month"
    )
    hazards_found_month: int = Field(ge=0, description="hazards found in the month")
    rectification_rate: float | None = Field(
        ge=0, le=1, description="share of hazards due in the month verified rectified by their deadline"
    )
    open_alarms: int = Field(ge=0, description="alarms not resolved at the end of the period")
    overdue_hazards: int = Field(ge=0, description="hazards overdue at the end of the period")


class Summary(Figures):
    """`GET /api/office/summary`: this ISO week and month (to today) beside the same ones last year, counted to the
    same point (`periods.last_year_week_to`, `periods.last_year_month_to`)."""

    as_of: str
    periods: dict[str, str | None]
    last_year: Figures
    recomputing: bool = Field(
        description="the rules changed and the shops are being projected under them: the figures are following"
    )
    shops_registered: int = Field(ge=0, description="shops of the scope in the registry, open or closed")
    by_community: list[Figures] | None = None
    by_grid: list[Figures] | None = None


class TrendMonth(Answer):
    month: str
    as_of: str
    shops_active: int
    patrol_rate: float | None
    hazards_found: int
    rectification_rate: float | None
    self_check_coverage: float | None = Field(description="mean of the month's weekly self-check coverage")


class Trend(Answer):
    months: list[TrendMonth]


class CommunityRow(Answer):
    id: str
    name: str | None
    subdistrict: str | None
    shops: int = Field(ge=0, description="active shops")


class Credentials(BaseModel):
    username: str
    password: str


class User(Answer):
    id: str
    role: str
    name: str | None = None


class Session(Answer):
    """What every sign-in answers; the token goes in `Authorization: Bearer …`."""

    token: str
    user: User
    device_key: str | None = Field(
        None, description="this phone's key for the account: sent as `device_key` with its next sign-ins"
    )


class DeskAlarmItem(AlarmItem):
    """An alarm's item as the office's desk is sent it (`server.alarm_findings`): what was found, and where its
    hazard stands now."""

    note: Note = Field("", description="the grid worker's or owner's note of the finding; empty when none")
    hazard_status: Literal["open", "rectified", "closed", "overdue"] | None = Field(
        None, description="the hazard's status now (closed: verified, 销号); null when it cannot be read"
    )
    deadline: Day | None = Field(None, description="the hazard's rectification deadline")


class DeskAlarm(Alarm):
    """`GET /api/office/alarms` (each of `items`), `/alarms/{id}`, the steps' answers and the stream's alarms: the
    stored alarm, its items joined with their hazards."""

    items: tuple[DeskAlarmItem, ...] = Field(min_length=1)
