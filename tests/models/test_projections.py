"""Server-owned projections: DESIGN's shapes, deterministic ids tied to their source events."""

from __future__ import annotations

from typing import Any

import pydantic
import pytest

from server.models import Alarm, Figures, Ranking, Score, Stats, parse_doc, parse_event, reason_of
from tests.models.examples import (
    HAZARD_ID,
    PATROL_ID,
    PATROL_ULID,
    PHOTOS,
    SELF_CHECK_ID,
    SELF_CHECK_ULID,
    assert_round_trip,
)


def score() -> dict[str, Any]:
    return {
        "_id": "S0001:score",
        "type": "score",
        "schema": 1,
        "shop": "S0001",
        "points": 97,
        "rank": 412,
        "of": 1523,
        "list": None,
        "open_hazards": 1,
        "updated_at": "2026-12-02T14:05:00+08:00",
    }


def entry(**fields: Any) -> dict[str, Any]:
    return {
        "key": f"{PATROL_ULID}-f1",
        "rule": "hazard",
        "points": -2,
        "source": HAZARD_ID,
        "day": "2026-12-02",
        "rules_version": 1,
        "note": "extinguisher_valid",
    } | fields


def ledger() -> dict[str, Any]:
    return {
        "_id": "S0001:ledger:2026-12",
        "type": "ledger",
        "schema": 1,
        "shop": "S0001",
        "month": "2026-12",
        "entries": [entry(), entry(rule="refund", points=1, day="2026-12-05")],
    }


def hazard() -> dict[str, Any]:
    return {
        "_id": HAZARD_ID,
        "type": "hazard",
        "schema": 1,
        "shop": "S0001",
        "status": "open",
        "source": PATROL_ID,
        "alarm": None,
        "item": "extinguisher_valid",
        "finding": "f1",
        "severity": "general",
        "self_reported": False,
        "found_at": "2026-12-02T14:05:00+08:00",
        "deadline": "2026-12-05",
        "cost": 2,
        "note": "灭火器刚过保质期",
        "photos": [PHOTOS[1]],
        "rectifications": [],
        "verification": None,
        "closed_at": None,
        "updated_at": "2026-12-02T14:05:00+08:00",
    }


def alarm() -> dict[str, Any]:
    return {
        "_id": f"S0001:alarm:{PATROL_ULID}",
        "type": "alarm",
        "schema": 1,
        "shop": "S0001",
        "status": "dispatched",
        "source": PATROL_ID,
        "shop_name": "老王面馆",
        "address": "杭州市西湖区文三路 128 号",
        "grid": "wensan-03",
        "grid_worker": "grid:zhou",
        "items": [
            {
                "item": "gas_safe",
                "severity": "serious",
                "hazard": f"S0001:hazard:{PATROL_ULID}-f2",
                "photos": [PHOTOS[1]],
            }
        ],
        "cost": 10,
        "department": "gas",
        "created_at": "2026-12-02T14:05:00+08:00",
        "history": [
            {"status": "open", "at": "2026-12-02T14:05:03+08:00", "by": "server"},
            {"status": "acknowledged", "at": "2026-12-02T14:07:40+08:00", "by": "office:chen"},
            {
                "status": "dispatched",
                "at": "2026-12-02T14:09:12+08:00",
                "by": "office:chen",
                "department": "gas",
                "note": "燃气公司已派员",
            },
        ],
    }


def ranking() -> dict[str, Any]:
    return {
        "_id": "office:ranking:xixi:2026-11",
        "type": "ranking",
        "schema": 1,
        "subdistrict": "xixi",
        "month": "2026-11",
        "as_of": "2026-11-30",
        "rules_version": 1,
        "entries": [
            {"shop": "S0417", "points": 112, "rank": 1, "open_hazards": 0, "list": "red"},
            {"shop": "S0001", "points": 97, "rank": 2, "open_hazards": 1, "list": None},
            {"shop": "S0999", "points": 61, "rank": 3, "open_hazards": 4, "list": "black"},
        ],
        "working_group": ["S0999"],
    }


FIGURES = {
    "active_shops": 1523,
    "self_checks": 1290,
    "self_checked_shops": 1275,
    "patrols": 1502,
    "patrolled_shops": 1498,
    "hazards_found": 212,
    "hazards_rectified": 197,
    "open_alarms": 2,
    "overdue_hazards": 9,
}


def stats() -> dict[str, Any]:
    return {
        "_id": "office:stats:xixi:2026-11",
        "type": "stats",
        "schema": 1,
        "subdistrict": "xixi",
        "period": "2026-11",
        "as_of": "2026-11-30",
        "figures": FIGURES,
        "by_community": {"wensan": FIGURES},
        "by_grid": {"wensan-03": FIGURES},
    }


@pytest.mark.parametrize("make", [score, ledger, hazard, alarm, ranking, stats])
def test_projections_round_trip(make: Any) -> None:
    assert_round_trip(make())


def test_score_has_designs_shape() -> None:
    model = parse_doc(score() | {"list": "red"})
    assert isinstance(model, Score) and model.list_ == "red"
    assert set(score()) <= set(model.to_doc()) and model.to_doc()["list"] == "red"
    assert parse_doc(score()).to_doc()["list"] is None


def test_a_self_check_hazard_is_keyed_by_item() -> None:
    doc = hazard() | {
        "_id": f"S0001:hazard:{SELF_CHECK_ULID}-gas_safe",
        "source": SELF_CHECK_ID,
        "item": "gas_safe",
        "finding": None,
        "self_reported": True,
    }
    assert parse_doc(doc).key == f"{SELF_CHECK_ULID}-gas_safe"


def test_derived_figures() -> None:
    model = parse_doc(stats())
    assert isinstance(model, Stats)
    assert model.figures.rectification_rate == pytest.approx(197 / 212)
    assert model.figures.patrol_rate == pytest.approx(1498 / 1523)
    assert Figures.model_validate(dict.fromkeys(FIGURES, 0)).rectification_rate is None


def test_ranking_lists() -> None:
    model = parse_doc(ranking())
    assert isinstance(model, Ranking) and model.listed("red") == ["S0417"] and model.listed("black") == ["S0999"]


def test_alarm_history() -> None:
    model = parse_doc(alarm())
    assert isinstance(model, Alarm) and [step.status for step in model.history][-1] == model.status == "dispatched"


@pytest.mark.parametrize(
    ("doc", "reason"),
    [
        (score() | {"_id": "S0002:score"}, "shop 'S0001' must equal the id's partition 'S0002'"),
        (score() | {"rank": 2000}, "1 ≤ rank ≤ of"),
        (score() | {"list": "grey"}, "list: input should be 'red' or 'black'"),
        (score() | {"updated_at": "2026-12-02T14:05:00"}, "updated_at: has no UTC offset"),
        (ledger() | {"entries": [entry(rule="bonus")]}, "rule: input should be"),
        (ledger() | {"entries": [entry(key="a b")]}, "key: must be a source key"),
        (ledger() | {"_id": f"S0001:ledger:{PATROL_ULID}-f1:refund"}, "_id must have the form {shop}:ledger:"),
        (ledger() | {"_id": "S0001:ledger:2026-11"}, "_id must be S0001:ledger:2026-12"),
        (ledger() | {"entries": []}, "entries: "),
        (ledger() | {"entries": [entry(day="2026-11-30")]}, "entries: every day must be in 2026-12"),
        (ledger() | {"entries": [entry(), entry(points=-3)]}, "entries: a key and rule appear twice"),
        (hazard() | {"_id": f"S0001:hazard:{PATROL_ULID}-f9"}, f"_id must be S0001:hazard:{PATROL_ULID}-f1"),
        (hazard() | {"self_reported": True}, "self_reported must be true exactly when"),
        (hazard() | {"status": "fixed"}, "status: input should be"),
        (hazard() | {"status": "closed"}, "closed_at is set exactly when"),
        (hazard() | {"source": "S0001:photo:01JDY2A3B4C5D6E7F8G9H0J1K2"}, "source must be a self-check or patrol"),
        (hazard() | {"alarm": f"S0002:alarm:{PATROL_ULID}"}, "alarm must be an alarm of the same shop"),
        (hazard() | {"alarm": f"S0001:hazard:{PATROL_ULID}"}, "alarm: must be a alarm id"),
        (alarm() | {"status": "resolved"}, "status must be the status of the last history step"),
        (alarm() | {"department": None}, "a dispatched alarm names its department"),
        (alarm() | {"department": "police"}, "department: input should be"),
        (alarm() | {"_id": f"S0001:alarm:{SELF_CHECK_ULID}"}, "source must be the event"),
        (ranking() | {"_id": "office:ranking:xixi:2026-10"}, "_id must be office:ranking:xixi:2026-11"),
        (ranking() | {"entries": ranking()["entries"] * 2}, "entries: a shop appears twice"),
        (stats() | {"period": "November"}, "period: must be a period"),
    ],
)
def test_broken_projections_are_refused(doc: dict[str, Any], reason: str) -> None:
    with pytest.raises(pydantic.ValidationError) as info:
        parse_doc(doc)
    assert reason in reason_of(info.value)


@pytest.mark.parametrize("make", [score, ledger, hazard, alarm, ranking, stats])
def test_no_device_may_write_a_projection(make: Any) -> None:
    with pytest.raises(pydantic.ValidationError) as info:
        parse_event(make())
    assert reason_of(info.value).startswith("type: must be an event type")
