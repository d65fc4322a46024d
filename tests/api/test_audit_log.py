"""The office's audit log: the office's own account actions are in it with who did them, it is read a page at a
time back to its first entry, and a sub-district's office reads all of its own entries, however many of other
sub-districts' are newer (it read only those among the newest 5,000 before)."""

from __future__ import annotations

from typing import Any

import pytest

from server.api import users as users_module
from tests.api.test_followups import MONTH, march_snapshots
from tests.api.test_subdistrict_offices import District, district  # noqa: F401  (the two sub-districts' world)


def pages(d: District, who: dict[str, str], limit: int) -> list[list[dict[str, Any]]]:
    """Every page of the log as `who` reads it, following `next` to the end."""
    out: list[list[dict[str, Any]]] = []
    url = f"/api/office/audit?limit={limit}"
    while True:
        answer = d.get(url, who)
        out.append(answer["items"])
        if answer["next"] is None:
            return out
        assert len(out) < 100, "the log's pages never end"
        url = f"/api/office/audit?limit={limit}&before={answer['next']}"


def test_the_office_s_account_actions_are_logged_and_the_log_pages_back_to_its_start(district: District) -> None:  # noqa: F811
    d, client = district, district.world.client
    made = {"role": "grid", "username": "chen", "password": "chen-password", "name": "小陈"}
    assert client.post("/api/office/users", json=made, headers=d.wang).status_code == 201
    reset = client.post("/api/office/users/grid:li/password", json={"password": "li-new-password"}, headers=d.wang)
    assert reset.status_code == 200
    assert client.post("/api/office/users/grid:zhou/revoke", headers=d.wang).status_code == 200
    assert client.post("/api/auth/login", json={"username": "zhou", "password": "not-it"}).status_code == 401

    whole = d.get("/api/office/audit?limit=1000", d.wang)
    assert whole["next"] is None
    entries = whole["items"]
    assert [e["_id"] for e in entries] == sorted((e["_id"] for e in entries), reverse=True)  # newest first
    by_event = {e["event"]: e for e in entries}
    assert by_event["staff_created"]["account"] == "grid:chen"
    assert by_event["password_reset"]["account"] == "grid:li"
    assert by_event["signed_out"]["account"] == "grid:zhou"
    assert all(by_event[k]["detail"] == "by office:wang" for k in ("staff_created", "password_reset", "signed_out"))
    assert by_event["login_failed"]["account"] == "staff:zhou"

    paged = pages(d, d.wang, 2)
    assert all(len(page) == 2 for page in paged[:-1]) and 1 <= len(paged[-1]) <= 2
    assert [e["_id"] for page in paged for e in page] == [e["_id"] for e in entries]

    for bad in ("x", "accounts:user:grid:zhou", "accounts:audit:" + "0" * 25):
        answer = client.get("/api/office/audit", params={"before": bad}, headers=d.wang)
        assert answer.status_code == 400 and answer.json()["reason"].startswith("before"), answer.text


def test_a_sub_district_office_reads_its_own_entries_behind_many_newer_ones(
    district: District,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    d = district
    accounts = d.world.state.accounts
    monkeypatch.setattr(users_module, "AUDIT_SCAN", 4)  # a busy district: 5,000 here
    d.world.call(accounts.audit, "login_failed", "staff:qian", "10.0.0.9", "Wrong username or password.")
    for n in range(9):  # newer: minglou's
        d.world.call(accounts.audit, "login_failed", f"staff:{('zhou', 'li')[n % 2]}", "10.0.0.1", "x")

    first = d.get("/api/office/audit?limit=10", d.sun)
    assert first["items"] == [] and first["next"] is not None  # nothing of its own among the 4 looked at: go on
    seen = [e for page in pages(d, d.sun, 10) for e in page]
    assert [e["account"] for e in seen] == ["staff:qian"]
    assert not [e for e in seen if e["account"] in ("staff:zhou", "staff:li")]
    # The district's office reads them all, and minglou's office its own nine.
    assert len([e for page in pages(d, d.zhao, 3) for e in page if e["account"] != "staff:qian"]) >= 9
    assert not [e for page in pages(d, d.zhao, 3) for e in page if e["account"] == "staff:qian"]


def test_the_registry_s_changes_are_logged_with_who_made_them_for_the_offices_that_reach_them(
    district: District,  # noqa: F811
) -> None:
    d, client = district, district.world.client
    shop = {"code": "S0100", "name": "新面馆", "address": "文三路100号", "category": "restaurant", "grid": "g1"}
    assert client.post("/api/office/shops", json=shop, headers=d.wang).status_code == 201
    assert client.patch("/api/office/shops/S0100", json={"name": "新面馆（总店）"}, headers=d.wang).status_code == 200
    assert client.patch("/api/office/shops/S0100", json={"name": "新面馆（总店）"}, headers=d.wang).status_code == 200
    assert client.post("/api/office/shops/S0100/move", json={"grid": "g2"}, headers=d.zhao).status_code == 200
    assert client.post("/api/office/shops/S0100/close", headers=d.zhao).status_code == 200
    assert client.post("/api/office/shops/S0100/reopen", headers=d.zhao).status_code == 200
    grid = {"name": "文三二网格", "community": "wensan", "workers": ["li", "zhou"]}
    assert client.put("/api/office/registry/grids/g2", json=grid, headers=d.zhao).status_code == 200
    renamed = {"name": "文三新社区"}
    assert client.put("/api/office/registry/communities/wensan", json=renamed, headers=d.zhao).status_code == 200
    for name in ("明楼街道", "明楼街道", "明楼新街道"):  # the same name again changes nothing, and is not logged
        named = client.put("/api/office/registry/subdistricts/minglou", json={"name": name}, headers=d.zhao)
        assert named.status_code == 200, named.text
    assert client.post("/api/office/shops/T0001/close", headers=d.sun).status_code == 200

    def log(who: dict[str, str]) -> list[tuple[str, str, str]]:
        entries = [e for page in pages(d, who, 100) for e in page]
        return [
            (e["event"], e["account"], e["detail"]) for e in reversed(entries) if not e["event"].startswith("login")
        ]

    minglou = [
        ("shop_registered", "S0100:shop:S0100", "by office:wang: 新面馆, grid g1"),
        ("shop_changed", "S0100:shop:S0100", "by office:wang: name: 新面馆（总店）"),  # the same again: nothing changed
        ("shop_moved", "S0100:shop:S0100", "by office:zhao: grid g1 to g2"),
        ("shop_closed", "S0100:shop:S0100", "by office:zhao"),
        ("shop_reopened", "S0100:shop:S0100", "by office:zhao"),
        ("grid_saved", "registry:grid:g2", "by office:zhao: 文三二网格, wensan, workers: li、zhou"),
        ("community_saved", "registry:community:wensan", "by office:zhao: 文三新社区, minglou"),
    ]
    # The demo names no sub-district: the first name is logged as given, a change from what it was.
    minglou += [
        ("subdistrict_named", "registry:subdistrict:minglou", "by office:zhao: 明楼街道"),
        ("subdistrict_named", "registry:subdistrict:minglou", "by office:zhao: 明楼街道 to 明楼新街道"),
    ]
    xihu = [("shop_closed", "T0001:shop:T0001", "by office:sun")]
    assert log(d.zhao) == minglou
    assert log(d.sun) == xihu
    assert [e for e in log(d.wang) if e in minglou + xihu] == [*minglou, *xihu]


def test_rules_checklists_and_published_lists_are_logged_for_the_offices_that_read_them(
    district: District,  # noqa: F811
) -> None:
    d, client = district, district.world.client
    saved = client.put("/api/office/rules", json={"start_points": 120}, headers=d.wang)
    assert saved.status_code == 200, saved.text
    version = saved.json()["rules"]["version"]
    assert client.put("/api/office/rules", json={"start_points": 120}, headers=d.wang).json()["unchanged"]
    modules = client.get("/api/office/templates", headers=d.wang).json()["available"]
    added = client.post("/api/office/templates", json=modules[0], headers=d.wang)
    assert added.status_code == 201, added.text
    # A month that has ended (the month still running is not published): March 2025's lists.
    assert all(r.get("ok") for r in d.world.call(d.world.state.store.bulk_docs, march_snapshots()))
    month = MONTH
    published = client.post(f"/api/office/rankings/{month}/publish?subdistrict=minglou", headers=d.zhao)
    assert published.status_code == 201, published.text

    def log(who: dict[str, str]) -> list[tuple[str, str, str]]:
        entries = [e for page in pages(d, who, 100) for e in page]
        kinds = ("rules_saved", "template_saved", "ranking_published")
        return [(e["event"], e["account"], e["detail"]) for e in reversed(entries) if e["event"] in kinds]

    everyone = [
        ("rules_saved", "district:rules", f"by office:wang: version {version}"),  # the unchanged save: none
        ("template_saved", added.json()["_id"], f"by office:wang: {added.json()['title']}, version 1"),
    ]
    listed = ("ranking_published", f"office:publication:minglou:{month}", f"by office:zhao: minglou, {month}")
    assert log(d.wang) == log(d.zhao) == [*everyone, listed]
    assert log(d.sun) == everyone  # 西溪's office reads the district's rules, not 明楼's list
