"""The office works its open and overdue hazards from the shops list: `GET /api/office/shops?hazards=open|overdue`
keeps the shops with such a hazard, most urgent first (most overdue, then most open, then the earliest deadline,
then code), a page at a time; a sub-district's office gets its own shops only; any other value is a 400.

The world is the two sub-districts' (tests/api/test_subdistrict_offices.py: a gas leak, open, in S0001 and T0001)
and a fourth minglou shop with no hazard; the grid workers' phones push patrols found ten days ago whose deadlines
have passed, as they would after a week without signal."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from server.store.protocol import AllDocsQuery
from tests.api.conftest import wait_until
from tests.api.test_alarm_flow import push
from tests.api.test_dashboard import check, finding
from tests.api.test_subdistrict_offices import District, open_district
from tests.worlds import shop_fields

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime.now(SHANGHAI).replace(microsecond=0) - timedelta(minutes=1)
TODAY = NOW.date()
FOUND = NOW - timedelta(days=10)
SHOPS = "/api/office/shops"


def _deadline(days: int) -> Any:
    return TODAY + timedelta(days=days)


def _overdue(d: District) -> int:
    rows = d.world.call(d.world.state.store.all_docs, AllDocsQuery(include_docs=True))["rows"]
    return sum(
        1 for row in rows if (row.get("doc") or {}).get("type") == "hazard" and row["doc"]["status"] == "overdue"
    )


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory) -> Iterator[District]:
    with open_district(tmp_path_factory.mktemp("shop-hazards")) as d:
        world = d.world
        world.call(world.state.registry.put_shop, shop_fields("S0004"))
        world.call(world.state.registry.put_grid, "g1", "文三一网格", "wensan", ["zhou"], ["S0001", "S0002", "S0004"])
        zhou, li = world.login("zhou", "zhou-password"), world.login("li", "li-password")
        # S0001: the gas leak (due tomorrow) and wiring 4 days overdue. S0002: an RCD 8 days overdue and an open
        # flame due in 5 days: as many as S0001, but the older deadline. S0003: two overdue, the most urgent.
        push(
            world.client,
            zhou,
            check("patrol", "S0001", FOUND, finding("f1", "wiring_ok", "general", _deadline(-4), "S0001")),
        )
        push(
            world.client,
            zhou,
            check(
                "patrol",
                "S0002",
                FOUND,
                finding("f1", "rcd_installed", "major", _deadline(-8), "S0002"),
                finding("f2", "open_flame", "general", _deadline(5), "S0002"),
            ),
        )
        push(
            world.client,
            li,
            check(
                "patrol",
                "S0003",
                FOUND,
                finding("f1", "extinguisher_valid", "general", _deadline(-2), "S0003"),
                finding("f2", "escape_route", "major", _deadline(-3), "S0003"),
            ),
        )
        wait_until(lambda: _overdue(d) == 4, timeout=30)
        yield d


def _shops(d: District, who: dict[str, str], **params: Any) -> dict[str, Any]:
    answer = d.world.client.get(SHOPS, params=params, headers=who)
    assert answer.status_code == 200, answer.text[:300]
    body: dict[str, Any] = answer.json()
    return body


def _codes(answer: dict[str, Any]) -> list[str]:
    return [row["code"] for row in answer["items"]]


def test_the_shops_with_overdue_hazards_come_most_urgent_first(district: District) -> None:
    overdue = _shops(district, district.wang, hazards="overdue")
    assert _codes(overdue) == ["S0003", "S0002", "S0001"] and overdue["total"] == 3
    rows = {row["code"]: row for row in overdue["items"]}
    assert [(rows[c]["overdue_hazards"], rows[c]["open_hazards"]) for c in _codes(overdue)] == [(2, 2), (1, 2), (1, 2)]
    assert rows["S0002"]["earliest_deadline"] == _deadline(-8).isoformat()  # before S0001's, whose code comes first
    assert rows["S0001"]["earliest_deadline"] == _deadline(-4).isoformat()
    # Together they are the overview's figure: the office reaches every overdue hazard it is shown.
    summary = district.get("/api/office/summary", district.wang)
    assert summary["overdue_hazards"] == sum(row["overdue_hazards"] for row in overdue["items"]) == 4
    # A page of the list is a page of that order.
    page = _shops(district, district.wang, hazards="overdue", limit=1, offset=1)
    assert _codes(page) == ["S0002"] and page["total"] == 3
    # The other filters still apply.
    assert _codes(_shops(district, district.wang, hazards="overdue", grid="g1")) == ["S0002", "S0001"]


def test_the_shops_with_open_hazards_include_those_not_yet_due(district: District) -> None:
    opened = _shops(district, district.wang, hazards="open")
    assert _codes(opened) == ["S0003", "S0002", "S0001", "T0001"]  # T0001: its gas leak is due tomorrow
    assert opened["items"][-1]["overdue_hazards"] == 0 and opened["items"][-1]["open_hazards"] == 1
    everything = _shops(district, district.wang)
    assert _codes(everything) == ["S0001", "S0002", "S0003", "S0004", "T0001"]  # no filter: by code, as before
    assert everything["items"][3]["earliest_deadline"] is None  # S0004 has nothing to chase


def test_a_sub_district_office_chases_its_own_shops_only(district: District) -> None:
    assert _codes(_shops(district, district.sun, hazards="open")) == ["T0001"]
    assert _shops(district, district.sun, hazards="overdue") == {"items": [], "total": 0, "limit": 50, "offset": 0}
    assert _codes(_shops(district, district.zhao, hazards="open")) == ["S0003", "S0002", "S0001"]
    # Another sub-district's grid is an unknown one, with the filter as without it.
    elsewhere = district.world.client.get(SHOPS, params={"hazards": "overdue", "grid": "g1"}, headers=district.sun)
    assert (elsewhere.status_code, elsewhere.json()["reason"]) == (400, "grid: 没有编号为 g1 的网格。no grid g1")


@pytest.mark.parametrize("value", ["all", "OVERDUE", "closed", "1"])
def test_another_hazard_filter_is_refused_with_a_reason_chinese_first(district: District, value: str) -> None:
    answer = district.world.client.get(SHOPS, params={"hazards": value}, headers=district.wang)
    assert answer.status_code == 400 and answer.json()["error"] == "bad_request"
    reason = answer.json()["reason"]
    assert reason.startswith("隐患筛选只能是") and "有逾期隐患" in reason and "hazards: one of open, overdue" in reason
