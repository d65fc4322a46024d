"""A store written by yesterday's release (4772eee), opened by today's: what yesterday left behind that today's rules
would not have (an unused activation code of a closed shop, a device report under `accounts:device:{device}`, a shop
without `moves`) is made right, or read as it is, at start."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from server.migrations import migrate, void_closed_shops_activations
from server.models.registry import shop_doc_id
from server.store.protocol import Store
from server.store.reads import docs_by_id, docs_with_prefix
from server.store.upsert import read
from tests.api.conftest import World, open_world

PIN = "246810"


async def _put(store: Store, doc_id: str, body: dict[str, Any]) -> None:
    [answer] = await store.bulk_docs([{"_id": doc_id, **body}])
    assert answer.get("ok"), answer


def _activation(shop: str, **over: Any) -> dict[str, Any]:
    return {
        "type": "activation",
        "shop": shop,
        "code_hash": "$argon2id$v=19$m=12288,t=3,p=1$x$y",
        "issued_by": "office:wang",
        "issued_at": "2026-11-29T01:46:53+00:00",
        "expires_at": "2026-12-06T01:46:53+00:00",
        **over,
    }


async def test_unused_activation_codes_of_shops_closed_yesterday_are_voided(store: Store) -> None:
    shop = {"type": "shop", "name": "店", "community": "c", "grid": "g"}
    await _put(store, shop_doc_id("S0001"), {**shop, "code": "S0001", "status": "closed"})
    await _put(store, shop_doc_id("S0002"), {**shop, "code": "S0002", "status": "active"})
    await _put(store, shop_doc_id("S0003"), {**shop, "code": "S0003", "status": "closed"})
    await _put(store, "accounts:activation:S0001", _activation("S0001"))  # closed, unused: voided
    await _put(store, "accounts:activation:S0002", _activation("S0002"))  # open: kept
    await _put(store, "accounts:activation:S0003", _activation("S0003", used_at="2026-11-29T02:00:00+00:00"))
    await _put(store, "accounts:activation:S0009", _activation("S0009"))  # no such shop: kept

    assert await migrate(store) == 1
    left = {doc["_id"] for doc in await docs_with_prefix(store, "accounts:activation:")}
    assert left == {"accounts:activation:S0002", "accounts:activation:S0003", "accounts:activation:S0009"}
    # A second start finds nothing.
    assert await void_closed_shops_activations(store) == 0
    assert await migrate(store) == 0
    assert set(await docs_by_id(store, [shop_doc_id(c) for c in ("S0001", "S0003")])) == {
        shop_doc_id("S0001"),
        shop_doc_id("S0003"),
    }


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with open_world(tmp_path) as w:
        yield w


def test_a_shop_closed_by_yesterdays_release_keeps_no_activation_code_for_after_it_reopens(world: World) -> None:
    office = world.login("wang", "wang-password")
    code = world.client.post("/api/shops/S0001/activation", headers=office).json()["code"]
    # Yesterday's close: the registry only (no account was touched, the code stayed).
    world.call(world.state.registry.set_status, "S0001", "closed", date(2026, 11, 29))
    assert world.call(read, world.state.store, "accounts:activation:S0001") is not None

    assert world.call(migrate, world.state.store) == 1  # today's gateway starts on the store
    assert world.client.post("/api/office/shops/S0001/reopen", headers=office).status_code == 200
    resp = world.client.post("/api/auth/activate", json={"shop": "S0001", "code": code, "pin": PIN})
    assert resp.status_code != 200, resp.text
    # A new code, handed out once the shop is open again, works.
    fresh = world.client.post("/api/shops/S0001/activation", headers=office).json()["code"]
    resp = world.client.post("/api/auth/activate", json={"shop": "S0001", "code": fresh, "pin": PIN})
    assert resp.status_code == 200, resp.text


def test_yesterdays_device_rows_are_listed_and_replaced_by_the_next_report(world: World) -> None:
    office = world.login("wang", "wang-password")
    zhou = world.login("zhou", "zhou-password")
    old = {
        "type": "device",
        "device": "d-0a1b2c3d4e5f",
        "app_version": "0.1.0",
        "pending_docs": 3,
        "pending_photos": 0,
        "last_push": None,
        "last_pull": None,
        "storage": None,
        "refused": 0,
        "user": "grid:zhou",
        "role": "grid",
        "received_at": "2026-11-29T01:46:52+00:00",
    }
    world.call(_put, world.state.store, "accounts:device:d-0a1b2c3d4e5f", old)
    world.call(migrate, world.state.store)

    def rows() -> list[tuple[str, str, int]]:
        resp = world.client.get("/api/office/devices", headers=office)
        assert resp.status_code == 200, resp.text
        return [(i["user"], i["device"], i["pending_docs"]) for i in resp.json()["items"]]

    assert rows() == [("grid:zhou", "d-0a1b2c3d4e5f", 3)]
    assert "d-0a1b2c3d4e5f" in world.client.get("/api/office/sync-monitor", headers=office).text
    report = {"device": "d-0a1b2c3d4e5f", "app_version": "0.2.0", "pending_docs": 0, "pending_photos": 0}
    assert world.client.post("/api/devices/report", json=report, headers=zhou).status_code == 200
    assert rows() == [("grid:zhou", "d-0a1b2c3d4e5f", 0)]  # one row for the device, not two
    assert world.call(read, world.state.store, "accounts:device:d-0a1b2c3d4e5f") is None
