"""Device reports and the sync monitor across two sub-districts: a report is its sender's own (naming another
user's device id replaces nothing of theirs), and a sub-district's office sees only its own refused documents. On
either backend (tests/backends.py): a report's id `accounts:device:{user_id}:{device}` holds several colons, and the
office's list reads the `accounts:device:` range of ids."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from server.api.devices import DEVICES_PER_USER
from server.store.upsert import read, upsert
from tests.api.test_subdistrict_offices import District, open_district
from tests.backends import BACKENDS, store_settings
from tests.validators.builders import gas_leak_patrol


@pytest.fixture(params=BACKENDS)
def district(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[District]:
    """The two sub-districts' world (tests/api/test_subdistrict_offices.py)."""
    with store_settings(request, request.param) as on, open_district(tmp_path, **on) as d:
        yield d


def _owner_of_t0001(d: District) -> dict[str, str]:
    qian = d.world.login("qian", "qian-password")
    code = d.world.client.post("/api/shops/T0001/activation", headers=qian).json()["code"]
    answer = d.world.client.post("/api/auth/activate", json={"shop": "T0001", "code": code, "pin": "246810"})
    return {"Authorization": "Bearer " + answer.json()["token"]}


def _devices(d: District, who: dict[str, str]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = d.get("/api/office/devices", who)["items"]
    return items


def test_a_report_naming_another_users_device_leaves_theirs_alone(district: District) -> None:
    d, client = district, district.world.client
    owner = _owner_of_t0001(d)
    # zhou's device id is no secret (every event he writes carries it): T0001's owner reports it as theirs.
    taken = {"device": "d-zhou-phone", "app_version": "0.1.0", "pending_docs": 0, "pending_photos": 0}
    resp = client.post("/api/devices/report", json=taken, headers=owner)
    assert resp.status_code == 200, resp.text
    assert resp.json()["user"] == "owner:T0001" and resp.json()["device"] == "d-zhou-phone"

    # zhou's row stays his, with the document still waiting on his phone, in his own sub-district's list.
    [zhous] = [i for i in _devices(d, d.zhao) if i["device"] == "d-zhou-phone"]
    assert zhous["user"] == "grid:zhou" and zhous["pending_docs"] == 1
    monitor = d.get("/api/office/sync-monitor", d.zhao)
    [row] = [u for u in monitor["users"] if u["user_id"] == "grid:zhou"]
    assert [(dev["device"], dev["pending_docs"]) for dev in row["devices"]] == [("d-zhou-phone", 1)]
    # xihu's office sees the owner's own report, and nothing of zhou's.
    suns = _devices(d, d.sun)
    assert {(i["user"], i["device"]) for i in suns} == {("grid:qian", "d-qian-phone"), ("owner:T0001", "d-zhou-phone")}
    assert "grid:zhou" not in d.world.client.get("/api/office/devices", headers=d.sun).text
    # The district's office sees both: two users of one phone keep a row each.
    both = [(i["user"], i["pending_docs"]) for i in _devices(d, d.wang) if i["device"] == "d-zhou-phone"]
    assert sorted(both) == [("grid:zhou", 1), ("owner:T0001", 0)]


def test_a_report_of_the_earlier_form_is_read_and_replaced_by_its_own_users_next_report(
    district: District,
) -> None:
    d, world = district, district.world
    store = world.state.store
    earlier = {
        "_id": "accounts:device:d-li-phone",
        "type": "device",
        "device": "d-li-phone",
        "app_version": "0.0.9",
        "pending_docs": 4,
        "pending_photos": 0,
        "user": "grid:li",
        "role": "grid",
        "received_at": "2026-11-01T08:00:00+00:00",
    }
    world.call(upsert, store, earlier)
    assert [i["pending_docs"] for i in _devices(d, d.zhao) if i["device"] == "d-li-phone"] == [4]
    # Another user naming li's device leaves li's earlier row as it is.
    zhou = world.login("zhou", "zhou-password")
    body = {"device": "d-li-phone", "app_version": "0.1.0", "pending_docs": 0, "pending_photos": 0}
    assert world.client.post("/api/devices/report", json=body, headers=zhou).status_code == 200
    assert world.call(read, store, "accounts:device:d-li-phone")["user"] == "grid:li"
    # li's own next report takes the earlier row's place: one row of his phone, the new one.
    li = world.login("li", "li-password")
    assert world.client.post("/api/devices/report", json={**body, "pending_docs": 2}, headers=li).status_code == 200
    assert world.call(read, store, "accounts:device:d-li-phone") is None
    lis = [i for i in _devices(d, d.zhao) if i["user"] == "grid:li"]
    assert [(i["device"], i["pending_docs"], i["app_version"]) for i in lis] == [("d-li-phone", 2, "0.1.0")]


def test_the_sync_monitor_shows_a_shared_grid_worker_only_the_offices_own_refusals(
    district: District,
) -> None:
    d, client = district, district.world.client
    # The district's office puts zhou (minglou) on xihu's grid too.
    grid = {"name": "西溪一网格", "community": "xc", "workers": ["qian", "zhou"]}
    assert client.put("/api/office/registry/grids/xg", json=grid, headers=d.wang).status_code == 200
    zhou = d.world.login("zhou", "zhou-password")
    bad = gas_leak_patrol("S0001", "grid:zhou", "d-zhou")
    bad["created_by"] = "grid:li"  # not the sender: refused and quarantined
    refused = client.post("/sync/_bulk_docs", headers=zhou, json={"docs": [bad]})
    assert refused.status_code == 201 and refused.json()[0].get("error"), refused.text

    # minglou's office sees the refusal of its shop's document.
    mine = d.get("/api/office/sync-monitor", d.zhao)
    [row] = [u for u in mine["users"] if u["user_id"] == "grid:zhou"]
    assert row["refused"] == 1 and row["last_refused"]["doc_id"] == bad["_id"] and mine["refused_total"] == 1
    # xihu's office lists zhou now, as its quarantine does not show minglou's refused document, nor does its monitor.
    assert bad["_id"] not in client.get("/api/office/quarantine", headers=d.sun).text
    theirs = d.get("/api/office/sync-monitor", d.sun)
    [row] = [u for u in theirs["users"] if u["user_id"] == "grid:zhou"]
    assert row["refused"] == 0 and row["last_refused"] is None and theirs["refused_total"] == 0
    text = client.get("/api/office/sync-monitor", headers=d.sun).text
    assert bad["_id"] not in text and "S0001" not in text
    # The district's office sees it as minglou's does.
    assert d.get("/api/office/sync-monitor", d.wang)["refused_total"] == 1


def test_a_user_keeps_only_their_most_recent_device_reports(district: District) -> None:
    """Each new device id was a new row for ever: a script could add hundreds a second, each read by every sync
    monitor. The newest DEVICES_PER_USER are kept; other users' rows are untouched."""
    d, client = district, district.world.client
    owner = _owner_of_t0001(d)
    for n in range(DEVICES_PER_USER + 5):
        report = {"device": f"d-{n:03d}", "app_version": "0.1.0", "pending_docs": n, "pending_photos": 0}
        assert client.post("/api/devices/report", json=report, headers=owner).status_code == 200
    mine = sorted(i["device"] for i in _devices(d, d.wang) if i["user"] == "owner:T0001")
    assert mine == [f"d-{n:03d}" for n in range(5, DEVICES_PER_USER + 5)]
    assert {i["user"] for i in _devices(d, d.wang)} >= {"grid:zhou", "grid:qian"}  # the others' stay
