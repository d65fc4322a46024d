"""Device reports: phones report their sync state for themselves; only the office lists them, silent ones first.
On either backend (tests/backends.py): a report's id `accounts:device:{user_id}:{device}` holds several colons (and
a device id may hold more), and the office's list reads the ids of the `accounts:device:` prefix."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from server.store.upsert import read, upsert
from tests.api.conftest import World, open_world
from tests.backends import BACKENDS, store_settings


@pytest.fixture(params=BACKENDS)
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    with store_settings(request, request.param) as on, open_world(tmp_path, **on) as w:
        yield w


def report(**over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "device": "d-0a1b2c3d4e5f",
        "app_version": "0.1.0",
        "pending_docs": 2,
        "pending_photos": 5,
        "last_push": "2026-11-28T09:30:00+08:00",
        "last_pull": "2026-11-28T09:31:00+08:00",
        "storage": {"usage": 12_000_000, "quota": 2_000_000_000},
    }
    body.update(over)
    return body


def owner_headers(world: World, shop: str = "S0001") -> dict[str, str]:
    zhou = world.login("zhou", "zhou-password")
    code = world.client.post(f"/api/shops/{shop}/activation", headers=zhou).json()["code"]
    answer = world.client.post("/api/auth/activate", json={"shop": shop, "code": code, "pin": "246810"})
    return {"Authorization": "Bearer " + answer.json()["token"]}


def test_a_report_is_stored_under_the_callers_own_user(world: World) -> None:
    zhou = world.login("zhou", "zhou-password")
    resp = world.client.post("/api/devices/report", json=report(), headers=zhou)
    assert resp.status_code == 200, resp.text
    assert resp.json()["user"] == "grid:zhou" and resp.json()["silent"] is False
    stored = world.call(read, world.state.store, "accounts:device:grid:zhou:d-0a1b2c3d4e5f")  # the user's own row
    assert stored["user"] == "grid:zhou" and stored["role"] == "grid"
    assert stored["pending_docs"] == 2 and stored["pending_photos"] == 5
    assert datetime.fromisoformat(stored["received_at"]) > datetime.now(UTC) - timedelta(minutes=1)

    # A claimed user or receive time in the body is refused, not believed.
    forged = world.client.post("/api/devices/report", json=report(user="grid:li"), headers=zhou)
    assert forged.status_code == 400 and "user" in forged.json()["reason"]
    forged = world.client.post(
        "/api/devices/report", json=report(received_at="2030-01-01T00:00:00+08:00"), headers=zhou
    )
    assert forged.status_code == 400

    # The same phone, now in an owner's hands, reports as the owner.
    owner = owner_headers(world)
    again = world.client.post("/api/devices/report", json=report(pending_docs=0), headers=owner)
    assert again.status_code == 200 and again.json()["user"] == "owner:S0001" and again.json()["role"] == "owner"


def test_bad_reports_get_a_reason(world: World) -> None:
    zhou = world.login("zhou", "zhou-password")
    cases = [
        (report(pending_docs=-1), "pending_docs"),
        (report(pending_photos="5"), "pending_photos"),
        (report(device="../../etc"), "device"),
        (report(last_push="yesterday"), "last_push"),
        (report(last_push="2026-11-28T09:30:00"), "last_push"),
        (report(storage={"usage": 1}), "storage"),
        ({"device": "d-1"}, "app_version"),
    ]
    for body, field in cases:
        resp = world.client.post("/api/devices/report", json=body, headers=zhou)
        assert resp.status_code == 400, (body, resp.text)
        assert resp.json()["error"] == "bad_request" and field in resp.json()["reason"], (field, resp.json())
    not_json = world.client.post("/api/devices/report", content=b"[1,2]", headers=zhou)
    assert not_json.status_code == 400
    assert world.client.post("/api/devices/report", json=report()).status_code == 401


def test_the_office_lists_devices_with_the_silent_ones_first(world: World) -> None:
    zhou = world.login("zhou", "zhou-password")
    wang = world.login("wang", "wang-password")
    assert world.client.post("/api/devices/report", json=report(device="d-fresh"), headers=zhou).status_code == 200
    old = (datetime.now(UTC) - timedelta(days=4)).isoformat(timespec="seconds")
    world.call(
        upsert,
        world.state.store,
        {
            "_id": "accounts:device:d-old",
            "type": "device",
            **report(device="d-old"),
            "user": "grid:li",
            "role": "grid",
            "received_at": old,
        },
    )
    resp = world.client.get("/api/office/devices", headers=wang)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert [i["device"] for i in body["items"]] == ["d-old", "d-fresh"]
    assert body["silent"] == 1 and body["silent_after_days"] == 3
    first = body["items"][0]
    assert first["silent"] is True and 3.9 < first["silent_days"] < 4.1 and first["user"] == "grid:li"
    assert "_id" not in first and "_rev" not in first
    only = world.client.get("/api/office/devices?silent=1", headers=wang).json()["items"]
    assert [i["device"] for i in only] == ["d-old"]

    for headers in (zhou, owner_headers(world)):
        denied = world.client.get("/api/office/devices", headers=headers)
        assert denied.status_code == 403 and denied.json()["error"] == "forbidden"


def test_no_device_reads_another_ones_report_over_sync(world: World) -> None:
    zhou = world.login("zhou", "zhou-password")
    world.client.post("/api/devices/report", json=report(), headers=zhou)
    resp = world.client.get("/sync/accounts:device:grid:zhou:d-0a1b2c3d4e5f", headers=zhou)
    assert resp.status_code == 404


def test_device_ids_with_colons_are_kept_apart_per_user_and_listed(world: World) -> None:
    zhou, li, wang = (world.login(u, f"{u}-password") for u in ("zhou", "li", "wang"))
    sent = [(zhou, "d:1", 1), (zhou, "d:1:2", 2), (li, "d:1", 3), (zhou, "d", 4)]
    for headers, device, pending in sent:
        resp = world.client.post(
            "/api/devices/report", json=report(device=device, pending_docs=pending), headers=headers
        )
        assert resp.status_code == 200, resp.text
    for user, device, pending in [("grid:zhou", "d:1", 1), ("grid:zhou", "d:1:2", 2), ("grid:li", "d:1", 3)]:
        stored = world.call(read, world.state.store, f"accounts:device:{user}:{device}")
        assert (stored["user"], stored["device"], stored["pending_docs"]) == (user, device, pending)
    # A neighbour of the range (an id just past `accounts:device:`) is not listed.
    world.call(upsert, world.state.store, {"_id": "accounts:devicf", "type": "x"})
    items = world.client.get("/api/office/devices", headers=wang).json()["items"]
    listed = sorted((i["user"], i["device"], i["pending_docs"]) for i in items)
    assert listed == [("grid:li", "d:1", 3), ("grid:zhou", "d", 4), ("grid:zhou", "d:1", 1), ("grid:zhou", "d:1:2", 2)]
    # Reporting again replaces the row of that user and device only.
    world.client.post("/api/devices/report", json=report(device="d:1", pending_docs=0), headers=zhou)
    items = world.client.get("/api/office/devices", headers=wang).json()["items"]
    assert sorted((i["user"], i["device"], i["pending_docs"]) for i in items) == [
        ("grid:li", "d:1", 3),
        ("grid:zhou", "d", 4),
        ("grid:zhou", "d:1", 0),
        ("grid:zhou", "d:1:2", 2),
    ]
