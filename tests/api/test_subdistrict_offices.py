"""A sub-district's office (an office account with a sub-district) reaches its own sub-district only.

The world holds two sub-districts: minglou (文三社区, S0001-S0003, grid workers zhou and li, office zhao) and xihu
(西溪社区, T0001, grid worker qian, office sun); wang is the district's office. Every office operation is taken from
the app's OpenAPI document, so an operation added later is held to the reach the day it is added."""

from __future__ import annotations

import contextlib
import itertools
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from server.store.protocol import AllDocsQuery
from tests.api.conftest import World, open_world
from tests.api.test_alarm_flow import push, wait_until
from tests.api.test_every_route import ENDLESS, operations
from tests.api.test_import import csv_bytes
from tests.api.test_qr import decode_pages
from tests.validators.builders import gas_leak_patrol
from tests.worlds import shop_fields

# What sun (xihu) must never read: minglou's shops, their names, its community, grid workers and office.
MINGLOU = ("S0001", "S0002", "S0003", "小吃店", "wensan", "文三", "grid:zhou", "grid:li", "office:zhao", '"zhou"')
IMPORT_HEADER = ["店铺编号", "店铺名称", "地址", "类别", "社区", "网格"]


class District:
    def __init__(self, world: World) -> None:
        self.world = world
        self.sun = world.login("sun", "sun-password")
        self.zhao = world.login("zhao", "zhao-password")
        self.wang = world.login("wang", "wang-password")
        self.alarm: dict[str, str] = {}
        self.job = "x"  # an import job of the district's office, once a test starts one

    def get(self, url: str, who: dict[str, str]) -> Any:
        resp = self.world.client.get(url, headers=who)
        assert resp.status_code == 200, f"{url}: {resp.text[:300]}"
        return resp.json()


@pytest.fixture
def district(tmp_path: Path) -> Iterator[District]:
    with open_district(tmp_path) as d:
        yield d


@contextlib.contextmanager
def open_district(tmp_path: Path, **settings: Any) -> Iterator[District]:
    """The world of the module docstring (`settings`: as `open_world` takes them, e.g. another store)."""
    with open_world(tmp_path, **settings) as world:
        registry, accounts = world.state.registry, world.state.accounts
        world.call(accounts.create_staff, "grid", "qian", "qian-password", "小钱", "xihu")
        world.call(registry.put_community, "xc", "西溪社区", "xihu")
        world.call(registry.put_grid, "xg", "西溪一网格", "xc", ["qian"], ["T0001"])
        world.call(registry.put_shop, shop_fields("T0001", "xg", community="xc", name="西溪茶馆T0001"))
        world.call(accounts.create_staff, "office", "sun", "sun-password", "孙所长", "xihu")
        world.call(accounts.create_staff, "office", "zhao", "zhao-password", "赵所长", "minglou")
        d = District(world)
        # Something of each kind in both sub-districts: a serious patrol (an alarm), a device report.
        for shop, worker in (("S0001", "zhou"), ("T0001", "qian")):
            headers = world.login(worker, f"{worker}-password")
            push(world.client, headers, gas_leak_patrol(shop, f"grid:{worker}", f"d-{worker}"))
            report = {"device": f"d-{worker}-phone", "app_version": "0.1.0", "pending_docs": 1, "pending_photos": 0}
            assert world.client.post("/api/devices/report", json=report, headers=headers).status_code == 200
        for shop in ("S0001", "T0001"):
            d.alarm[shop] = wait_until(lambda shop=shop: _alarm_of(d, shop))
        yield d


def _alarm_of(d: District, shop: str) -> str | None:
    items = d.get("/api/office/alarms?status=open", d.wang)["items"]
    return next((str(a["_id"]) for a in items if a["shop"] == shop), None)


def _path(d: District, path: str) -> str:
    """`path` with values naming minglou's things."""
    good = {
        "code": "S0001",
        "shop": "S0001",
        "id": d.alarm["S0001"],
        "user_id": "grid:li",
        "kind": "checks",
        "fmt": "csv",
        "month": "2026-11",
        "job": d.job,
    }
    return path.format(**{name: good.get(name, "x") for name in _names(path)})


def _names(path: str) -> list[str]:
    return [part[1:-1] for part in path.replace(".", "/").split("/") if part.startswith("{")]


def _leaks(text: str) -> list[str]:
    return [marker for marker in MINGLOU if marker in text]


def test_a_sub_district_office_reads_nothing_of_another_sub_district(district: District) -> None:
    d, client = district, district.world.client
    job = client.post(
        "/api/office/import?dry_run=1",
        content=csv_bytes([IMPORT_HEADER, ["S0001", "小吃店S0001", "曙光北路1号", "餐饮", "wensan", "g1"]]),
        headers={**d.wang, "Content-Type": "text/csv"},
    ).json()["job"]
    d.job = job
    reads = [(m, p, op) for m, p, op in operations(d.world) if m == "get" and p.startswith("/api/office/")]
    assert len(reads) > 25
    checked = 0
    for _method, path, op in reads:
        if ("get", path) in ENDLESS:
            continue
        url = _path(d, path)
        queries = {p["name"] for p in op.get("parameters", []) if p["in"] == "query"}
        # As it is, then with each filter naming minglou's: the filtered ones are answered as a filter naming
        # nothing (tests/api/test_scope_oracles.py: the same reason too), a sub-district other than its own a 403.
        filters = (("subdistrict", "minglou", "nowhere"), ("community", "wensan", "nowhere"), ("grid", "g1", "nogrid"))
        asked = [(url, "")] + [
            (f"{url}?{name}={value}", f"{url}?{name}={unknown}")
            for name, value, unknown in (*filters, ("shop", "S0001", "S9999"))
            if name in queries
        ]
        for i, (one, missing) in enumerate(asked):
            answer = client.get(one, headers=d.sun)
            if i:
                expected = client.get(missing, headers=d.sun).status_code
                assert answer.status_code == expected, f"{one}: {answer.status_code} {answer.text[:200]}"
                assert answer.status_code != 403 or "subdistrict=" in one, f"{one}: {answer.text[:200]}"
            assert answer.status_code < 500, f"{one}: {answer.text[:300]}"
            if answer.status_code < 300:
                kind = answer.headers.get("content-type", "")
                assert kind.startswith(("application/json", "text/")), f"{one}: a file of minglou's ({kind})"
                assert not _leaks(answer.text), f"{one}: {_leaks(answer.text)} in {answer.text[:300]}"
            checked += 1
    assert checked > 30
    # The same reads are not empty for the office of minglou: the markers would be found were they leaked.
    assert "S0001" in client.get("/api/office/shops", headers=d.zhao).text
    assert "T0001" not in client.get("/api/office/shops", headers=d.zhao).text


# Every write of an office operation, with a valid body naming minglou's things (or reaching the district's own
# documents): a sub-district's office of xihu is refused every one, and nothing of minglou changes. A thing of minglou's
# named is refused as an unknown one is (a 404, or the 400 of a body field: tests/api/test_scope_oracles.py); what
# only the district's office may do, another sub-district named, or a code taken made anew is a 403 (409).
WRITES: dict[tuple[str, str], Any] = {
    ("post", "/api/office/alarms/{id}/ack"): {},
    ("post", "/api/office/alarms/{id}/dispatch"): {"department": "fire"},
    ("post", "/api/office/alarms/{id}/resolve"): {},
    ("post", "/api/office/rankings/{month}/publish"): ("?subdistrict=minglou", {}),
    ("post", "/api/office/rankings/{month}/followups/{shop}"): {
        "action": "talk",
        "on": "2026-11-02",
        "talked_to": "店主",
        "by": "安监所",
    },
    ("post", "/api/office/shops"): {"code": "S0009", "name": "新店", "address": "文三路", "grid": "g1"},
    ("patch", "/api/office/shops/{code}"): {"name": "改名的店"},
    ("post", "/api/office/shops/{code}/close"): {},
    ("post", "/api/office/shops/{code}/reopen"): {},
    ("post", "/api/office/shops/{code}/move"): {"grid": "xg"},
    ("put", "/api/office/registry/communities/{code}"): ("wensan", {"name": "改名社区"}),
    ("put", "/api/office/registry/subdistricts/{code}"): ("minglou", {"name": "明楼"}),
    ("put", "/api/office/registry/grids/{code}"): ("g1", {"name": "改名网格", "community": "wensan"}),
    ("post", "/api/office/users"): {
        "role": "office",
        "username": "mole",
        "password": "password123",
        "name": "内鬼",
        "subdistrict": "minglou",
    },
    ("post", "/api/office/users/{user_id}/password"): {"password": "password123"},
    ("post", "/api/office/users/{user_id}/revoke"): {},
    ("post", "/api/office/rewards/{shop}/redemptions"): {"points": 1, "prize": "灭火毯"},
    ("put", "/api/office/rules"): {"self_check_points": 3},
    ("post", "/api/office/templates"): {"id": "x", "title": "x", "categories": [], "items": []},
    ("put", "/api/office/templates/{id}"): ("fire_gas", {"title": "x"}),
    ("post", "/api/office/import"): None,  # refused row by row: test_an_import_is_held_to_the_sub_district
    ("post", "/api/office/device-exports"): None,  # refused document by document: tests/api/test_device_exports.py
}
# Besides: a grid of its own given a grid worker of minglou, a community of its own moved to minglou, a shop of its
# own moved into minglou's grid, an activation code for minglou's shop.
MORE: list[tuple[str, str, Any]] = [
    ("put", "/api/office/registry/grids/xg", {"name": "西溪一网格", "community": "xc", "workers": ["qian", "zhou"]}),
    ("put", "/api/office/registry/communities/xc", {"name": "西溪社区", "subdistrict": "minglou"}),
    ("post", "/api/office/shops/T0001/move", {"grid": "g1"}),
    ("patch", "/api/office/shops/T0001", {"grid": "g1"}),
    ("post", "/api/office/shops", {"code": "T0009", "name": "新店", "address": "西溪路", "grid": "g1"}),
    ("post", "/api/shops/S0001/activation", {}),
]


def _fingerprint(world: World) -> dict[str, str]:
    """The revisions of minglou's registry and accounts, its alarms and rewards, and the district's rules."""
    rows = world.call(world.state.store.all_docs, AllDocsQuery())["rows"]
    kept = ("registry:", "accounts:user:", "accounts:activation:", "district:rules", "district:template")
    return {
        r["id"]: r["value"]["rev"]
        for r in rows
        if (r["id"].startswith(kept) or r["id"].startswith(("S0001:alarm:", "S0001:redemption:")))
        and not any(x in r["id"] for x in ("T0", ":xc", ":xg", ":xihu", ":qian", ":sun"))
    }


def test_a_sub_district_office_changes_nothing_of_another_sub_district(district: District) -> None:
    d, world = district, district.world
    writes = {(m, p) for m, p, _ in operations(world) if m in ("post", "put", "patch") and p.startswith("/api/office/")}
    assert writes == set(WRITES), "a new write operation: add it to WRITES"
    before = _fingerprint(world)
    for (method, path), spec in itertools.chain(WRITES.items(), (((m, p), b) for m, p, b in MORE)):
        if spec is None:
            continue
        url = _path(d, path)
        if isinstance(spec, tuple):
            extra, spec = spec
            url = url + extra if extra.startswith("?") else path.replace("{code}", extra).replace("{id}", extra)
        answer = world.client.request(method.upper(), url, json=spec, headers=d.sun)
        assert answer.status_code in (400, 403, 404, 409), f"{method.upper()} {url}: {answer.status_code} {answer.text}"
        assert answer.json()["reason"]
    time.sleep(0.3)
    assert _fingerprint(world) == before
    # zhou still signs in (li's password was not reset, nor his tokens revoked).
    world.login("li", "li-password")


def test_each_office_sees_and_counts_its_own_shops(district: District) -> None:
    d = district
    codes = {who: [s["code"] for s in d.get("/api/office/shops", h)["items"]] for who, h in _offices(d)}
    assert codes == {
        "sun": ["T0001"],
        "zhao": ["S0001", "S0002", "S0003"],
        "wang": ["S0001", "S0002", "S0003", "T0001"],
    }
    active = {who: d.get("/api/office/summary", h)["shops_active"] for who, h in _offices(d)}
    assert active == {"sun": 1, "zhao": 3, "wang": 4}
    alarms = {who: d.get("/api/office/alarms?status=open", h) for who, h in _offices(d)}
    assert [a["shop"] for a in alarms["sun"]["items"]] == ["T0001"]
    assert [a["shop"] for a in alarms["zhao"]["items"]] == ["S0001"]
    assert alarms["sun"]["counts"]["open"] == 1 and alarms["wang"]["counts"]["open"] == 2
    communities = {who: [c["id"] for c in d.get("/api/office/communities", h)] for who, h in _offices(d)}
    assert communities == {"sun": ["xc"], "zhao": ["wensan"], "wang": ["wensan", "xc"]}
    users = {who: sorted(u["id"] for u in d.get("/api/office/users", h)["items"]) for who, h in _offices(d)}
    assert users["sun"] == ["grid:qian", "office:sun"]
    assert users["zhao"] == ["grid:li", "grid:zhou", "office:zhao"]
    workers = [w["user_id"] for w in d.get("/api/office/workers", d.sun)["workers"]]
    assert workers == ["grid:qian"]
    # The names its screens show: its own staff, and the district's office, who act on its alarms too.
    names = {who: d.get("/api/office/staff-names", h)["names"] for who, h in _offices(d)}
    assert sorted(names["sun"]) == ["grid:qian", "office:sun", "office:wang"] and names["sun"]["office:sun"] == "孙所长"
    assert sorted(names["zhao"]) == ["grid:li", "grid:zhou", "office:wang", "office:zhao"]
    assert {"grid:qian", "office:sun", "office:zhao"} <= set(names["wang"])
    monitor = d.get("/api/office/sync-monitor", d.sun)
    assert {u["user_id"] for u in monitor["users"]} == {"grid:qian"}
    assert [dev["device"] for dev in monitor["devices"]] == ["d-qian-phone"]
    assert d.get("/api/office/registry/subdistricts", d.sun)["items"] == [
        {"code": "xihu", "name": None, "communities": 1}
    ]
    # A sub-district's office acts on its own: acknowledges its alarm, renames its shop, reads the rules.
    client = d.world.client
    assert client.post(f"/api/office/alarms/{d.alarm['T0001']}/ack", headers=d.sun).status_code == 200
    assert client.patch("/api/office/shops/T0001", json={"name": "西溪茶楼"}, headers=d.sun).status_code == 200
    assert client.get("/api/office/rules", headers=d.sun).status_code == 200
    assert (
        client.put("/api/office/registry/subdistricts/xihu", json={"name": "西溪街道"}, headers=d.sun).status_code
        == 200
    )


def test_a_sub_district_office_prints_its_own_grids_posters_only(district: District) -> None:
    d, client = district, district.world.client
    resp = client.get("/api/office/posters.pdf?grid=xg", headers=d.sun)
    assert resp.status_code == 200
    [(codes, text)] = decode_pages(resp.content)
    assert codes == ["http://testserver/s/T0001"] and "西溪茶馆T0001" in text and "西溪社区" in text
    assert [c for c, _ in decode_pages(client.get("/api/office/posters.pdf?grid=g1", headers=d.zhao).content)] == [
        [f"http://testserver/s/{c}"] for c in ("S0001", "S0002")
    ]
    # minglou's grid is to xihu's office a grid that does not exist: the same 404, the same words.
    foreign = client.get("/api/office/posters.pdf?grid=g1", headers=d.sun)
    unknown = client.get("/api/office/posters.pdf?grid=g9", headers=d.sun)
    assert foreign.status_code == unknown.status_code == 404
    assert foreign.json()["reason"] == "没有编号为 g1 的网格。No grid g1."
    assert unknown.json()["reason"] == "没有编号为 g9 的网格。No grid g9."
    # The district's office prints either.
    assert client.get("/api/office/posters.pdf?grid=xg", headers=d.wang).status_code == 200
    assert client.get("/api/office/posters.pdf?grid=g1", headers=d.wang).status_code == 200


def test_accounts_made_by_a_sub_district_office_belong_to_it(district: District) -> None:
    d, client = district, district.world.client
    made = client.post(
        "/api/office/users",
        json={"role": "grid", "username": "zhu", "password": "zhu-password", "name": "小朱"},
        headers=d.sun,
    )
    assert made.status_code == 201 and made.json()["subdistrict"] == "xihu"
    # It may put its new grid worker on its grid, and the district's office sees the account too.
    grid = {"name": "西溪一网格", "community": "xc", "workers": ["qian", "zhu"]}
    assert client.put("/api/office/registry/grids/xg", json=grid, headers=d.sun).status_code == 200
    assert "grid:zhu" in {u["id"] for u in d.get("/api/office/users", d.wang)["items"]}
    assert "grid:zhu" not in {u["id"] for u in d.get("/api/office/users", d.zhao)["items"]}
    # The district's office makes another sub-district's office; a new password keeps its sub-district.
    body = {"role": "office", "username": "wu", "password": "wu-password", "name": "吴", "subdistrict": "xihu"}
    assert client.post("/api/office/users", json=body, headers=d.wang).status_code == 201
    assert (
        client.post(
            "/api/office/users/office:wu/password", json={"password": "wu-password-2"}, headers=d.sun
        ).status_code
        == 200
    )
    wu = d.world.login("wu", "wu-password-2")
    assert [s["code"] for s in d.get("/api/office/shops", wu)["items"]] == ["T0001"]
    unknown = {**body, "username": "wu2", "subdistrict": "nowhere"}
    resp = client.post("/api/office/users", json=unknown, headers=d.wang)
    assert resp.status_code == 400 and "nowhere" in resp.json()["reason"]
    signed_in = client.post("/api/auth/login", json={"username": "sun", "password": "sun-password"}).json()
    assert signed_in["user"]["subdistrict"] == "xihu"


def test_a_grid_worker_shared_with_another_sub_district_gets_a_new_password_from_the_district_office_only(
    district: District,
) -> None:
    """The district's office puts xihu's qian on a minglou grid too: minglou's office now sees qian, and may sign
    qian out (a lost phone), but a new password would lock qian out of xihu and let minglou's office sign in as
    qian, into xihu's shops."""
    d, client = district, district.world.client
    grid = {"name": "文三一网格", "community": "wensan", "workers": ["zhou", "qian"]}
    assert client.put("/api/office/registry/grids/g1", json=grid, headers=d.wang).status_code == 200
    assert "grid:qian" in {u["id"] for u in d.get("/api/office/users", d.zhao)["items"]}
    reset = client.post("/api/office/users/grid:qian/password", json={"password": "taken-over-1"}, headers=d.zhao)
    assert reset.status_code == 403 and "another sub-district" in reset.json()["reason"]
    assert client.post("/api/auth/login", json={"username": "qian", "password": "taken-over-1"}).status_code == 401
    assert client.post("/api/office/users/grid:qian/revoke", headers=d.zhao).status_code == 200
    d.world.login("qian", "qian-password")  # qian still signs in as before
    # Neither may xihu's own office, for the same reason; the district's office may.
    assert (
        client.post("/api/office/users/grid:qian/password", json={"password": "taken-over-2"}, headers=d.sun)
    ).status_code == 403
    assert (
        client.post("/api/office/users/grid:qian/password", json={"password": "qian-password-2"}, headers=d.wang)
    ).status_code == 200
    d.world.login("qian", "qian-password-2")
    # A worker of minglou's alone is still minglou's office's to reset.
    assert (
        client.post("/api/office/users/grid:li/password", json={"password": "li-password-2"}, headers=d.zhao)
    ).status_code == 200


def test_an_import_is_held_to_the_sub_district(district: District) -> None:
    d, client = district, district.world.client
    rows = [
        IMPORT_HEADER,
        ["S0001", "抢来的店", "文三路", "餐饮", "wensan", "g1"],  # minglou's shop and grid
        ["S0002", "搬走的店", "西溪路", "餐饮", "xc", "xg"],  # minglou's shop, moved into xihu
        ["T0002", "西溪面馆", "西溪路", "餐饮", "xc", "xg"],
        ["T0003", "新社区的店", "西溪路", "餐饮", "西溪新社区", "新网格"],
        ["X0001", "闯入的店", "文三路9号", "餐饮", "wensan", "newgrid"],  # minglou's community code: unknown
        ["T0001", "西溪茶馆T0001", "西溪路", "餐饮", "文三社区", "newgrid2"],  # by minglou's community's name
        ["X0002", "另一家", "文三路", "餐饮", "", "文三一网格"],  # minglou's grid by its name alone: unknown
    ]
    resp = client.post(
        "/api/office/import?create=1",
        content=csv_bytes(rows),
        headers={**d.sun, "Content-Type": "text/csv"},
    )
    assert resp.status_code == 202, resp.text
    job = resp.json()["job"]
    report = wait_until(lambda: (r := d.get(f"/api/office/import/{job}", d.sun))["status"] != "running" and r)
    # minglou's community and grids are unknown to xihu's import: as unknown ones, created in xihu (create=1) by the
    # names the rows gave; a code of minglou's shop is "already registered" (codes are district-wide).
    assert (report["created"], report["moved"], report["refused"]) == (3, 1, 3), report
    assert [(e["line"], e["field"]) for e in report["errors"]] == [(2, "code"), (3, "code"), (8, "community")]
    assert [e["reason"] for e in report["errors"][:2]] == [
        "店铺编号 S0001 已被登记。shop S0001: code already registered",
        "店铺编号 S0002 已被登记。shop S0002: code already registered",
    ]
    # The reasons name nothing of minglou the row did not name itself.
    assert not any("outside your sub-district" in e["reason"] for e in report["errors"]), report["errors"]
    assert not any(word in str(report) for word in ("minglou", "g1", "文三一网格 belongs")), report
    shops = {s["code"]: s for s in d.get("/api/office/registry/shops", d.wang)["items"]}
    assert shops["S0001"]["name"] == "小吃店S0001" and shops["S0002"]["grid"] == "g1"
    assert shops["T0002"]["grid"] == "xg" and "X0002" not in shops
    communities = {c["code"]: c for c in d.get("/api/office/registry/communities", d.wang)["items"]}
    assert {g["code"] for g in communities["wensan"]["grids"]} == {"g1", "g2"}  # minglou's: nothing added
    for code in ("T0003", "X0001", "T0001"):
        assert communities[shops[code]["community"]]["subdistrict"] == "xihu", code
    assert communities[shops["T0001"]["community"]]["name"] == "文三社区"  # a community of xihu's of that name
    # Another sub-district's office reads the job as one there is not; the district's office reads it.
    assert client.get(f"/api/office/import/{job}", headers=d.zhao).status_code == 404
    assert client.get(f"/api/office/import/{job}", headers=d.wang).status_code == 200
    # Two communities now have the name 文三社区: a row of the district's office naming it must give the code.
    again = client.post(
        "/api/office/import?dry_run=1",
        content=csv_bytes([IMPORT_HEADER, ["S0001", "小吃店S0001", "曙光北路1号", "餐饮", "文三社区", "g1"]]),
        headers={**d.wang, "Content-Type": "text/csv"},
    ).json()["job"]
    report = wait_until(lambda: (r := d.get(f"/api/office/import/{again}", d.wang))["status"] != "running" and r)
    assert [(e["field"], "give its code" in e["reason"]) for e in report["errors"]] == [("community", True)]
    # Naming another sub-district is refused before anything is read.
    other = client.post(
        "/api/office/import?subdistrict=minglou", content=csv_bytes(rows), headers={**d.sun, "Content-Type": "text/csv"}
    )
    assert other.status_code == 403


def _offices(d: District) -> list[tuple[str, dict[str, str]]]:
    return [("sun", d.sun), ("zhao", d.zhao), ("wang", d.wang)]
