"""What the office's screens are told, in Chinese first: an empty district's red/black list, a community's posters
with no shop to print, a grid worker without an account, the district's office not saying which sub-district, and a
grid whose grid workers are all taken off (its workers field sent empty)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from server.app import create_app
from server.settings import Settings
from tests.api.conftest import SECRET, World
from tests.api.test_subdistrict_offices import District
from tests.api.test_subdistrict_offices import district as district  # the fixture: minglou and xihu


def test_a_grid_sent_an_empty_workers_list_has_none_and_they_re_read_their_scope(world: World) -> None:
    office = world.login("wang", "wang-password")
    before = world.call(world.state.accounts.user, "grid:zhou")["scope_version"]
    # Not sent: unchanged (API callers that rename a grid do not touch its workers).
    resp = world.client.put(
        "/api/office/registry/grids/g1", json={"name": "文三1网格", "community": "wensan"}, headers=office
    )
    assert resp.status_code == 200 and resp.json()["workers"] == ["zhou"], resp.text
    resp = world.client.put(
        "/api/office/registry/grids/g1",
        json={"name": "文三1网格", "community": "wensan", "workers": []},
        headers=office,
    )
    assert resp.status_code == 200 and resp.json()["workers"] == [], resp.text
    assert world.call(world.state.accounts.user, "grid:zhou")["scope_version"] == before + 1
    world.state.registry.forget()
    assert world.call(world.state.registry.shops_of_worker, "zhou") == frozenset()  # no shop of g1 to sync


def test_a_communitys_posters_with_no_active_shop_say_so_in_chinese(world: World) -> None:
    office = world.login("wang", "wang-password")
    world.client.put("/api/office/registry/communities/heping", json={"name": "和平社区"}, headers=office)
    for path in ("/api/office/posters.pdf?community=heping", "/api/office/posters.pdf?community=nowhere"):
        resp = world.client.get(path, headers=office)
        assert (resp.status_code, resp.json()["error"]) == (404, "not_found")
        assert resp.json()["reason"].startswith("社区 ") and "没有在营业的店铺" in resp.json()["reason"]
    resp = world.client.get("/api/office/posters.pdf?shop=S9999", headers=office)
    assert resp.status_code == 404 and resp.json()["reason"].startswith("没有编号为 S9999 的店铺。")


@pytest.fixture
def empty(tmp_path: Path) -> Iterator[World]:
    app = create_app(Settings(data_dir=tmp_path / "data", secret=SECRET))
    with TestClient(app, raise_server_exceptions=False) as client:
        w = World(client)
        w.call(w.state.accounts.create_staff, "office", "zhangli", "anjian-2026", "张丽")
        yield w


def test_an_empty_districts_red_black_list_says_what_to_do_first(empty: World) -> None:
    resp = empty.client.get("/api/office/ranking", headers=empty.login("zhangli", "anjian-2026"))
    assert (resp.status_code, resp.json()["error"]) == (404, "not_found")
    assert resp.json()["reason"].startswith("还没有登记街道和店铺：请先在“登记管理”中填写街道名称")


def test_a_grid_worker_without_an_account_is_refused_in_chinese(world: World) -> None:
    office = world.login("wang", "wang-password")
    body = {"name": "文三1网格", "community": "wensan", "workers": ["zhou", "ghost"]}
    resp = world.client.put("/api/office/registry/grids/g1", json=body, headers=office)
    assert resp.status_code == 400, resp.text
    reason = resp.json()["reason"]
    assert reason.startswith("没有用户名为 ghost 的网格员账号") and reason.endswith("workers: no grid worker ghost")


def test_the_district_office_is_asked_which_sub_district_in_chinese(district: District) -> None:
    d = district
    # wang's reach is the whole district (minglou and xihu): the red/black list and its publishing need one of them.
    for method, path in (("GET", "/api/office/ranking"), ("POST", "/api/office/rankings/2025-03/publish")):
        resp = d.world.client.request(method, path, headers=d.wang)
        assert resp.status_code == 400, resp.text
        reason = resp.json()["reason"]
        assert reason.startswith("本区有 2 个街道（minglou、xihu）") and reason.endswith(
            "subdistrict: required, one of minglou, xihu"
        ), reason


def test_a_grid_worker_typed_by_name_is_put_on_the_grid_by_username(world: World) -> None:
    """The office types the person it means (小周), not the account's username (zhou): the grid gets zhou. The
    model's reason ("workers[0]: must be a username of lower-case letters and digits") was all it was told."""
    office = world.login("wang", "wang-password")
    body = {"name": "文三1网格", "community": "wensan", "workers": ["小周", "li", "zhou"]}
    resp = world.client.put("/api/office/registry/grids/g1", json=body, headers=office)
    assert resp.status_code == 200 and sorted(resp.json()["workers"]) == ["li", "zhou"], resp.text

    body["workers"] = ["王芳"]
    resp = world.client.put("/api/office/registry/grids/g1", json=body, headers=office)
    assert resp.status_code == 400, resp.text
    reason = resp.json()["reason"]
    assert reason.startswith("没有姓名为“王芳”的网格员账号：请填写网格员账号的用户名"), reason
    assert resp.json()["reason"].endswith("workers: no grid worker named 王芳")

    world.call(world.state.accounts.create_staff, "grid", "zhou2", "zhou2-password", "小周")
    body["workers"] = ["小周"]
    resp = world.client.put("/api/office/registry/grids/g1", json=body, headers=office)
    assert resp.status_code == 400, resp.text
    assert resp.json()["reason"].startswith("有 2 个网格员的姓名是“小周”（用户名 zhou、zhou2）：请填写其中一个的用户名")
