"""A sub-district's first week at the registry desk, on a store that starts from nothing: the sub-district is named
before any community, the survey comes as Excel writes it (GBK, a title row above the headings), the clerk makes
the grid workers' accounts. Each step works where it used to be refused, and a refusal says in Chinese what to do."""

from __future__ import annotations

import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from starlette.testclient import TestClient

from server.app import create_app
from server.settings import Settings
from server.store.upsert import read
from tests.api.conftest import SECRET, World
from tests.api.test_import import csv_bytes, xlsx

SURVEY = [
    ["店铺编号", "店铺名称", "经营地址", "行业类别", "所属社区", "所属网格", "负责人", "联系电话"],
    ["XQ001", "老王面馆", "幸福路1号", "面馆", "幸福社区", "幸福一网格", "王建国", "13800000001"],
    ["XQ002", "好又多超市", "幸福路3号", "超市", "幸福社区", "幸福一网格", "李梅", "13800000002"],
    ["XQ003", "平安五金", "和平街2号", "五金", "和平社区", "和平一网格", "赵平", "13800000004"],
]
TITLE = ["幸福街道“多小散”店铺安全普查表（2026年11月）", "", "", "", "", "", "", ""]


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    """An empty store with one office account and the sub-district named, as `mashang setup` leaves it."""
    app = create_app(Settings(data_dir=tmp_path / "data", secret=SECRET))
    with TestClient(app, raise_server_exceptions=False) as client:
        w = World(client)
        w.call(w.state.accounts.create_staff, "office", "zhangli", "anjian-2026", "张丽")
        w.call(w.state.registry.save_subdistrict, "xingfu", "幸福街道")
        yield w


def office(world: World) -> dict[str, str]:
    return world.login("zhangli", "anjian-2026")


def imported(world: World, body: bytes, content_type: str, query: str = "?create=1") -> dict[str, Any]:
    resp = world.client.post(
        f"/api/office/import{query}", content=body, headers={**office(world), "Content-Type": content_type}
    )
    assert resp.status_code == 202, resp.text
    for _ in range(200):
        report: dict[str, Any] = world.client.get(
            f"/api/office/import/{resp.json()['job']}", headers=office(world)
        ).json()
        if report["status"] != "running":
            return report
        time.sleep(0.05)
    raise AssertionError("the import did not finish")


def test_the_first_community_goes_to_the_only_sub_district_named(world: World) -> None:
    # The form's hint says a new community's sub-district may be left empty when there is only one: it was refused
    # ("the registry has no single sub-district to default to") while that one had no community yet.
    resp = world.client.put("/api/office/registry/communities/xf", json={"name": "幸福社区"}, headers=office(world))
    assert resp.status_code == 200, resp.text
    assert resp.json()["subdistrict"] == "xingfu"


def test_the_survey_from_excel_makes_the_communities_and_grids_in_the_only_sub_district(world: World) -> None:
    # Excel in China saves CSV as GBK, and surveys carry a title row above the headings: the title row was taken
    # for the headings ("missing columns"), and each row was refused ("give the import a subdistrict"), which the
    # registry screen has no field for.
    body = csv_bytes([TITLE, *SURVEY], bom=False, encoding="gbk")
    report = imported(world, body, "text/csv")
    assert (report["created"], report["refused"]) == (3, 0), report["errors"]
    assert report["communities_created"] == ["幸福社区", "和平社区"]
    assert report["warnings"][0].startswith("表头在第 2 行")
    # The survey's 负责人 and 联系电话 are the shops' contacts, whom the office calls in when one is black-listed.
    assert not any(w.startswith("这些列不会导入") for w in report["warnings"])
    shops = world.client.get("/api/office/registry/shops", headers=office(world)).json()["items"]
    assert {s["code"]: s["contact"] for s in shops}["XQ001"] == {"name": "王建国", "phone": "13800000001"}
    communities = world.client.get("/api/office/registry/communities", headers=office(world)).json()["items"]
    assert {c["name"]: c["subdistrict"] for c in communities} == {"幸福社区": "xingfu", "和平社区": "xingfu"}
    # The same from an XLSX whose title is merged across the columns (a single cell with a value).
    again = xlsx(
        [[TITLE[0]], [], [*SURVEY[0]], ["XQ004", "小张水果", "和平街14号", "水果店", "和平社区", "和平一网格"]]
    )
    report = imported(world, again, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert (report["created"], report["refused"]) == (1, 0), report["errors"]


def test_the_overview_knows_there_are_no_shops_and_the_audit_log_names_an_import_by_its_file(world: World) -> None:
    """Before the first import the overview shows the first steps (`shops_registered` 0: its figures are all 0
    anyway). The audit log named an import by its job id, which no clerk recognises: its entries carry the file's
    name and what the import did, the job id kept beside them."""
    headers = office(world)
    assert world.client.get("/api/office/summary", headers=headers).json()["shops_registered"] == 0
    name = "幸福街道店铺普查（11月）.csv"
    rows = [*SURVEY, ["XQ004", "没有地址", "", "零售", "幸福社区", "幸福一网格", "", ""]]
    # A browser may send the whole path: the name is its last part.
    path = quote("C:\\fakepath\\" + name)
    first = imported(world, csv_bytes(rows), "text/csv", f"?create=1&file={path}")
    assert (first["file"], first["created"], first["refused"]) == (name, 3, 1)
    assert world.client.get("/api/office/summary", headers=headers).json()["shops_registered"] == 3
    imported(world, csv_bytes(rows), "text/csv", f"?dry_run=1&file={quote(name)}")  # a dry run is not logged
    fixed = "更正.csv"  # one shop's address corrected, one as it was
    corrected = [SURVEY[0], SURVEY[1], [*SURVEY[2][:2], "幸福路5号", *SURVEY[2][3:]]]
    second = imported(world, csv_bytes(corrected), "text/csv", f"?file={quote(fixed)}")

    def told() -> list[dict[str, Any]]:
        items = world.client.get("/api/office/audit", headers=headers).json()["items"]
        started = [e for e in items if e["event"] == "import_started"]
        assert [e["account"] for e in started] == [f"import:{second['job']}", f"import:{first['job']}"]
        return [e["import"] for e in started]

    assert told() == [
        {"job": second["job"], "file": fixed, "status": "done", "total": 2, "created": 0, "updated": 1, "refused": 0},
        {"job": first["job"], "file": name, "status": "done", "total": 4, "created": 3, "updated": 0, "refused": 1},
    ]
    # Once the job's report is no longer kept (the newest 50 are), the file's name is still said.
    kept = world.call(read, world.state.store, f"registry:import:{first['job']}")
    world.call(world.state.store.bulk_docs, [{"_id": kept["_id"], "_rev": kept["_rev"], "_deleted": True}])
    assert told()[1] == {"job": first["job"], "file": name}


def test_each_refused_row_says_in_chinese_what_to_do(world: World) -> None:
    rows = [
        SURVEY[0][:6],
        ["XQ101", "正常店", "幸福路9号", "超市", "幸福社区", "幸福一网格"],
        ["XQ101", "重复店", "幸福路10号", "超市", "幸福社区", "幸福一网格"],
        ["", "无编号店", "幸福路11号", "超市", "幸福社区", "幸福一网格"],  # given a code
        ["新店1", "中文编号", "幸福路14号", "超市", "幸福社区", "幸福一网格"],
        ["XQ107", "类别错", "幸福路16号", "奶粉店", "幸福社区", "幸福一网格"],  # taken, as 其他
        ["XQ108", "社区错", "幸福路17号", "超市", "幸幅社区", "幸福一网格"],
    ]
    headers = office(world)
    world.client.put("/api/office/registry/communities/xf", json={"name": "幸福社区"}, headers=headers)
    world.client.put(
        "/api/office/registry/grids/xf-g1", json={"name": "幸福一网格", "community": "xf"}, headers=headers
    )
    report = imported(world, csv_bytes(rows), "text/csv", "?dry_run=1")  # nothing created: the typo is refused
    reasons = {(e["line"], e["field"]): e["reason"] for e in report["errors"]}
    assert reasons[(3, "code")].startswith("店铺编号 XQ101 与第 2 行重复。")
    assert (4, "code") not in reasons and report["assigned"][0]["line"] == 4  # no code: one is given
    assert reasons[(5, "code")].startswith("店铺编号只能用英文字母、数字")
    assert (6, "category") not in reasons  # a trade of no category: the shop is imported as 其他, and told
    assert any(w.startswith("第 6 行“类别错”的类别“奶粉店”不是已有的类别，已按“其他”导入") for w in report["warnings"])
    assert reasons[(7, "community")].startswith("没有“幸幅社区”这个社区") and "自动新建" in reasons[(7, "community")]
    for refused in (b"", "店铺编号,店铺名称\r\nA,B\r\n".encode()):  # an empty file, a header missing columns
        resp = world.client.post("/api/office/import", content=refused, headers={**headers, "Content-Type": "text/csv"})
        assert resp.status_code == 400 and resp.json()["reason"][0] in "文表", resp.json()


def test_a_grid_workers_account_can_always_be_given_a_grid(world: World) -> None:
    # Upper case was taken for a new account and refused on a grid: an account made that no grid could list.
    headers = office(world)
    world.client.put("/api/office/registry/communities/xf", json={"name": "幸福社区"}, headers=headers)
    for username in ("WangFang", "王芳", "-wf"):
        body = {"role": "grid", "username": username, "password": "12345678", "name": "王芳"}
        resp = world.client.post("/api/office/users", json=body, headers=headers)
        assert resp.status_code == 400 and resp.json()["reason"].startswith("用户名只能用小写英文字母"), resp.text
    body = {"role": "grid", "username": "wang.fang", "password": "12345678", "name": "王芳"}
    assert world.client.post("/api/office/users", json=body, headers=headers).status_code == 201
    grid = {"name": "幸福一网格", "community": "xf", "workers": ["wang.fang"]}
    resp = world.client.put("/api/office/registry/grids/xf-g1", json=grid, headers=headers)
    assert resp.status_code == 200 and resp.json()["workers"] == ["wang.fang"], resp.text
    taken = world.client.post("/api/office/users", json=body, headers=headers)
    assert taken.status_code == 409 and taken.json()["reason"].startswith("用户名 wang.fang 已被占用")


def test_a_new_password_for_an_account_made_before_the_rule_is_still_given(world: World) -> None:
    """An upper-case account an earlier release made keeps working: the office can give it a new password."""
    made_before = partial(world.state.accounts._put_user, username="OldName", name="老账号")
    world.call(made_before, "grid:OldName", "grid", {"password_hash": "x"})
    resp = world.client.post(
        "/api/office/users/grid:OldName/password", json={"password": "12345678"}, headers=office(world)
    )
    assert resp.status_code == 200, resp.text


SHIPPED = ("district:template:fire-gas", "district:template:fire-gas:v1", "district:rules", "district:rules:v1")


def _shipped_on_the_server(world: World) -> list[str]:
    return [
        doc_id for doc_id in SHIPPED if world.client.get(f"/sync/{doc_id}", headers=world.admin()).status_code == 200
    ]


@pytest.mark.parametrize("how", ["import", "form"])
def test_a_district_set_up_without_mashang_setup_gets_the_phones_checklist_with_its_first_shop(
    world: World, how: str
) -> None:
    # An office account made some other way than `mashang setup` (here directly, as an operator's script would
    # through the API): the checklist and rules the phones replicate came only from `setup` and `demo`, so the first
    # owner's phone said 本机还没有检查表 however often it synced.
    assert _shipped_on_the_server(world) == []
    if how == "import":
        report = imported(world, csv_bytes(SURVEY[:2], bom=True), "text/csv")
        assert report["created"] == 1, report["errors"]
    else:
        headers = office(world)
        assert world.client.put(
            "/api/office/registry/communities/xf", json={"name": "幸福社区"}, headers=headers
        ).is_success
        grid = {"name": "幸福一网格", "community": "xf"}
        assert world.client.put("/api/office/registry/grids/xf-g1", json=grid, headers=headers).is_success
        shop = {"code": "XQ001", "name": "老王面馆", "address": "幸福路1号", "category": "food", "grid": "xf-g1"}
        assert world.client.post("/api/office/shops", json=shop, headers=headers).status_code == 201
    assert _shipped_on_the_server(world) == list(SHIPPED)
