"""The refusals an office user (or a grid worker, an owner) can meet on a screen are said Chinese first, the English
after the last 。 (the field's name in front where one is: "grid: 没有编号为 g9 的网格。no grid g9"), so that a
Chinese screen shows the Chinese part and an English one the English part (`reasonIn` in pwa/src/i18n.ts): the
export's days in the wrong order, a month not begun, too many posters, a file that is no phone's export, an unknown
shop, grid, community or sub-district typed or chosen in a form, a staff form's role, a password reset of an unknown
account, an alarm dispatched without a department, an alarm's step in the wrong state or on an unknown alarm, a month
published twice, what only the district's office may do.
What only an API client sending a malformed request meets (`limit` too big, a `before` id, a wrong query type) stays
English."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from server.ids import new_ulid
from server.store.protocol import Doc
from tests.api.conftest import World, open_world
from tests.api.test_alarms import raise_alarm
from tests.api.test_device_exports import bring_in, export
from tests.api.test_subdistrict_offices import District
from tests.api.test_subdistrict_offices import district as district  # the fixture: minglou and xihu

CJK = re.compile(r"[\u4e00-\u9fff]")


def chinese_first(resp: Any, status: int, english: str, field: str = "") -> str:
    """The reason of `resp`, after checking it starts with Chinese (after the field's name, if any) and ends, after
    its last 。, with `english` as it was said before."""
    assert resp.status_code == status, resp.text
    reason = str(resp.json()["reason"])
    head = reason.removeprefix(f"{field}: ") if field else reason
    assert head != reason or not field, reason  # the field's name in front
    assert CJK.match(head), reason
    assert reason.rsplit("。", 1)[1] == english, reason
    return reason


def test_the_offices_forms_and_choices_are_refused_chinese_first(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    office = world.login("wang", "wang-password")
    get = lambda path: world.client.get(path, headers=office)  # noqa: E731
    post = lambda path, body: world.client.post(path, json=body, headers=office)  # noqa: E731

    # Exports: the days in the wrong order, a report of a month not begun.
    reason = chinese_first(
        get("/api/office/exports/checks.csv?from=2026-11-28&to=2026-11-01"),
        400,
        "from (2026-11-28) is after to (2026-11-01): the days are the first and the last to export",
    )
    assert reason.startswith("开始日期 2026-11-28 晚于结束日期 2026-11-01")
    chinese_first(get("/api/office/reports/2999-01.html"), 400, "2999-01 has not begun", "month")

    # Posters: too many at once.
    monkeypatch.setattr("server.api.qr.MAX_POSTERS", 1)
    reason = chinese_first(get("/api/office/posters.pdf?grid=g1"), 400, "at most 1 posters at once")
    assert reason.startswith("一次最多打印 1 张海报")

    # A phone's exported file that is none, or holds nothing.
    chinese_first(bring_in(world, {"docs": {}}, office), 400, "not a phone's export: docs (and refused) must be lists")
    chinese_first(bring_in(world, export([]), office), 400, "the file holds no documents")

    # An unknown shop code typed in the rewards, follow-up, shop and activation forms.
    for resp in (
        get("/api/office/rewards/S9999"),
        post("/api/office/rewards/S9999/redemptions", {"points": 1, "prize": "灭火器"}),
        post("/api/office/rankings/2026-10/followups/S9999", {"action": "talk"}),
        world.client.patch("/api/office/shops/S9999", json={"grid": "g1"}, headers=office),
        post("/api/shops/S9999/activation", {}),
        get("/api/office/shops/S9999/efile"),
    ):
        assert chinese_first(resp, 404, "No shop S9999.") == "没有编号为 S9999 的店铺。No shop S9999."
    chinese_first(get("/api/office/rewards?community=nowhere"), 404, "No community nowhere.")

    # Filters and forms naming a community, grid or sub-district there is not.
    chinese_first(get("/api/office/shops?community=nowhere"), 400, "no community nowhere", "community")
    chinese_first(get("/api/office/summary?grid=nogrid"), 400, "no grid nogrid", "grid")
    chinese_first(get("/api/office/ranking?subdistrict=nowhere"), 400, "no sub-district nowhere", "subdistrict")
    chinese_first(post("/api/office/shops/S0001/move", {"grid": "nogrid"}), 400, "no grid nogrid", "grid")
    grid = {"name": "文三一网格", "community": "nowhere"}
    resp = world.client.put("/api/office/registry/grids/g1", json=grid, headers=office)
    assert chinese_first(resp, 400, "no community nowhere", "community").startswith(
        "community: 没有编号为 nowhere 的社区"
    )

    # The staff form: a role it does not make, a sub-district there is not; a password reset of no account.
    staff = {"role": "owner", "username": "xu", "password": "xu-password", "name": "小徐"}
    reason = chinese_first(
        post("/api/office/users", staff), 400, "grid or office (owners sign up with an activation code)", "role"
    )
    assert reason.startswith("role: 只能新建网格员或安监所账号")
    staff |= {"role": "grid", "subdistrict": "nowhere"}
    chinese_first(post("/api/office/users", staff), 400, "no sub-district nowhere", "subdistrict")
    chinese_first(
        post("/api/office/users/grid:ghost/password", {"password": "ghost-password"}),
        404,
        "No such staff account (owners set their PIN with a new activation code).",
    )
    chinese_first(post("/api/office/users/grid:ghost/revoke", {}), 404, "No such user.")

    # An alarm dispatched without a department.
    resp = post(f"/api/office/alarms/S0001:alarm:{new_ulid()}/dispatch", {})
    assert chinese_first(resp, 400, "required to dispatch, one of fire, gas, market, emergency", "department")


def test_a_grid_moved_with_its_shops_is_refused_chinese_first(world: World) -> None:
    office = world.login("wang", "wang-password")
    world.client.put("/api/office/registry/communities/mingnan", json={"name": "明南社区"}, headers=office)
    resp = world.client.put(
        "/api/office/registry/grids/g1", json={"name": "文三一网格", "community": "mingnan"}, headers=office
    )
    chinese_first(resp, 400, "move the grid's shops out before moving it to another community", "community")


def test_the_rules_form_refuses_a_threshold_and_a_time_zone_chinese_first(world: World) -> None:
    """The rules editor's refusals are written 中文（English）, as its others are."""
    office = world.login("wang", "wang-password")
    resp = world.client.put("/api/office/rules", json={"alarm_threshold": 0}, headers=office)
    assert resp.status_code == 400 and resp.json()["reason"].startswith(
        "alarm_threshold: 报警阈值至少为 1 分（at least"
    )
    resp = world.client.put("/api/office/rules", json={"timezone": "Asia/Beijing"}, headers=office)
    assert resp.status_code == 400
    assert resp.json()["reason"] == (
        "timezone: 时区须为 Asia/Shanghai 这样的名称（'Asia/Beijing' is not a time zone such as Asia/Shanghai）"
    )


def test_a_sub_district_office_is_told_what_is_not_its_own_chinese_first(district: District) -> None:
    client = district.world.client
    # A grid code another sub-district has, saved by the grid form.
    resp = client.put("/api/office/registry/grids/g1", json={"name": "x", "community": "xc"}, headers=district.sun)
    reason = chinese_first(resp, 403, "Grid g1 is outside your sub-district (xihu).")
    assert reason.startswith("网格 g1 不在本街道（xihu）的管理范围内。")
    # The district's rules.
    resp = client.put("/api/office/rules", json={"alarm_threshold": 3}, headers=district.sun)
    reason = chinese_first(
        resp, 403, "The rules are the district's: only the district's office may do this (yours is xihu)."
    )
    assert reason.startswith("检查规则由全区统一设置：只有全区的安监所账号可以操作")


class _Conflicting:
    """The store, but every write of the alarm desk's loses to another one (someone's step, a re-projection)."""

    def __init__(self, store: Any) -> None:
        self._store = store

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    async def bulk_docs(self, docs: list[Doc], *args: Any, **kwargs: Any) -> list[Doc]:
        return [{"id": doc["_id"], "error": "conflict", "reason": "Document update conflict."} for doc in docs]


def test_the_alarm_desks_steps_are_refused_chinese_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A step on an alarm someone else moved on first (acknowledged twice, dispatched or resolved once resolved),
    one that kept changing under the desk, an unknown alarm, a note too long, a department the desk does not offer:
    the 409s were English only, on the desk's Chinese screen when it could not read the alarm again."""
    with open_world(tmp_path, run_validators=False) as world:  # the alarms are exactly those the test writes
        office = world.login("wang", "wang-password")
        post = lambda path, body=None: world.client.post(path, json=body, headers=office)  # noqa: E731
        alarm = raise_alarm(world, "S0001", "2026-03-02T10:00:00+08:00")
        url = f"/api/office/alarms/{alarm}"
        assert post(f"{url}/ack").status_code == 200
        reason = chinese_first(
            post(f"{url}/ack"), 409, "The alarm is acknowledged: only an open alarm can be acknowledged."
        )
        assert reason.startswith("该报警现为「已确认」：只有待处理的报警可以确认。"), reason
        assert post(f"{url}/resolve").status_code == 200
        for step, body, english in (
            ("ack", None, "only an open alarm can be acknowledged"),
            ("dispatch", {"department": "fire"}, "only an open or acknowledged alarm can be dispatched"),
            ("resolve", None, "it is already resolved"),
        ):
            reason = chinese_first(post(f"{url}/{step}", body), 409, f"The alarm is resolved: {english}.")
            assert reason.startswith("该报警现为「已办结」："), reason

        missing = f"S0001:alarm:{new_ulid()}"
        reason = chinese_first(post(f"/api/office/alarms/{missing}/ack"), 404, f"No alarm {missing}.")
        assert reason.startswith(f"没有编号为 {missing} 的报警。"), reason
        other = raise_alarm(world, "S0002", "2026-03-02T11:00:00+08:00")
        other_url = f"/api/office/alarms/{other}"
        chinese_first(post(f"{other_url}/resolve", {"note": "x" * 501}), 400, "at most 500 characters", "note")
        chinese_first(
            post(f"{other_url}/dispatch", {"department": "police"}),
            400,
            "one of fire, gas, market, emergency",
            "department",
        )
        monkeypatch.setattr(world.state.alarms, "store", _Conflicting(world.state.alarms.store))
        reason = chinese_first(post(f"{other_url}/ack"), 409, f"{other} kept changing; try again.")
        assert reason.startswith(f"报警 {other} 正被同时修改，请稍后再试。"), reason
