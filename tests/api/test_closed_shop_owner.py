"""A closed shop's owner account is disabled: the owner's tokens stop working on every endpoint at once, with the
reason the phone shows, and sign-in and activation are refused; reopening lets the owner sign in again with the
shop code and PIN (the tokens of before stay dead). The grid worker's access to the shop is unchanged. On either
backend (tests/backends.py)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from server.accounts import SHOP_CLOSED
from tests.api.conftest import World, open_world
from tests.api.test_rewards import clean_patrol, self_check
from tests.backends import BACKENDS, store_settings

PIN = "246810"
CLOSED_REASON = "本店已停业，账号已停用"
# What `owner_calls` answer while the account works (no checkpoint is kept: 404).
WORKS = {"changes": 200, "bulk_docs": 201, "checkpoint": 404, "report": 200, "renew": 200}


@pytest.fixture(params=BACKENDS)
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    with store_settings(request, request.param) as on, open_world(tmp_path, **on) as w:
        yield w


def activated_owner(world: World, shop: str = "S0001") -> dict[str, str]:
    office = world.login("wang", "wang-password")
    code = world.client.post(f"/api/shops/{shop}/activation", headers=office).json()["code"]
    resp = world.client.post("/api/auth/activate", json={"shop": shop, "code": code, "pin": PIN})
    assert resp.status_code == 200, resp.text
    return {"Authorization": "Bearer " + resp.json()["token"]}


def owner_sign_in(world: World, shop: str = "S0001", pin: str = PIN) -> Any:
    return world.client.post("/api/auth/owner", json={"shop": shop, "pin": pin})


def device_report() -> dict[str, Any]:
    return {"device": "d-0a1b2c3d4e5f", "app_version": "0.1.0", "pending_docs": 1, "pending_photos": 0}


def owner_calls(world: World, headers: dict[str, str]) -> dict[str, Any]:
    """What an owner's phone does: pull, push a self-check, report itself, renew its token."""
    return {
        "changes": world.client.get("/sync/_changes", headers=headers),
        "bulk_docs": world.client.post("/sync/_bulk_docs", json={"docs": [self_check("S0001")]}, headers=headers),
        "checkpoint": world.client.get("/sync/_local/owner-phone", headers=headers),
        "report": world.client.post("/api/devices/report", json=device_report(), headers=headers),
        "renew": world.client.post("/api/auth/renew", headers=headers),
    }


def assert_closed(resp: Any) -> None:
    assert resp.status_code == 403, resp.text
    assert resp.json() == {"error": "forbidden", "reason": SHOP_CLOSED}
    assert resp.json()["reason"].startswith(CLOSED_REASON)


def test_closing_a_shop_disables_its_owner_and_reopening_lets_them_sign_in_again(world: World) -> None:
    owner = activated_owner(world)
    office = world.login("wang", "wang-password")
    # Everything works (and the account and the shop's status are in the gateway's cache now).
    assert {name: resp.status_code for name, resp in owner_calls(world, owner).items()} == WORKS

    assert world.client.post("/api/office/shops/S0001/close", headers=office).status_code == 200
    # At once, on /sync/ and /api/ alike: 403 `forbidden` (PouchDB stops, and shows the reason) with the reason.
    for name, resp in owner_calls(world, owner).items():
        assert resp.status_code == 403, f"{name}: {resp.status_code} {resp.text}"
        assert_closed(resp)
    # Nothing of the refused push was kept.
    ids = [r["id"] for r in world.client.get("/sync/_changes", headers=world.admin()).json()["results"]]
    assert sum(i.startswith("S0001:self_check:") for i in ids) == 1

    # Signing in again is refused with the reason (for the right PIN only: a wrong one learns nothing of it), and
    # no activation code is handed out for the shop while it is closed.
    assert_closed(owner_sign_in(world))
    wrong = owner_sign_in(world, pin="135790")
    assert wrong.status_code == 401 and CLOSED_REASON not in wrong.text
    issued = world.client.post("/api/shops/S0001/activation", headers=office)
    assert issued.status_code == 409 and "closed" in issued.json()["reason"], issued.text
    # Chinese first, as the office's e-file shows it: a clerk reads why, and what to do, in Chinese.
    assert issued.json()["reason"].startswith("本店已停业，不能发放激活码：请先恢复营业。"), issued.text
    zhou = world.login("zhou", "zhou-password")
    assert world.client.post("/api/shops/S0001/activation", headers=zhou).status_code == 409

    # The grid worker still sees the shop and may patrol it, as before.
    pulled = world.client.get("/sync/_changes", headers=zhou)
    assert pulled.status_code == 200 and "S0001:shop:S0001" in {r["id"] for r in pulled.json()["results"]}
    [patrolled] = world.client.post("/sync/_bulk_docs", json={"docs": [clean_patrol("S0001")]}, headers=zhou).json()
    assert patrolled.get("ok"), patrolled
    # Other owners are not touched.
    neighbour = activated_owner(world, "S0002")
    assert world.client.get("/sync/_changes", headers=neighbour).status_code == 200

    assert world.client.post("/api/office/shops/S0001/reopen", headers=office).status_code == 200
    # The token of before the closure stays dead (whoever held it): the phone is asked to sign in again ...
    stale = world.client.get("/sync/_changes", headers=owner)
    assert stale.status_code == 401 and "revoked" in stale.json()["reason"]
    # ... and the owner does, with the shop code and PIN.
    again = owner_sign_in(world)
    assert again.status_code == 200, again.text
    fresh = {"Authorization": "Bearer " + again.json()["token"]}
    assert {name: resp.status_code for name, resp in owner_calls(world, fresh).items()} == WORKS
    [answer] = world.client.post("/sync/_bulk_docs", json={"docs": [self_check("S0001")]}, headers=fresh).json()
    assert answer.get("ok"), answer


def test_an_activation_code_is_voided_by_the_closing_and_refused_on_a_closed_shop(world: World) -> None:
    office = world.login("wang", "wang-password")
    # A code handed out before the shop closed is void after it: it opens nothing once the shop is reopened.
    code = world.client.post("/api/shops/S0003/activation", headers=office).json()["code"]
    assert world.client.post("/api/office/shops/S0003/close", headers=office).status_code == 200
    assert world.client.post("/api/office/shops/S0003/reopen", headers=office).status_code == 200
    resp = world.client.post("/api/auth/activate", json={"shop": "S0003", "code": code, "pin": PIN})
    assert resp.status_code == 401, resp.text
    # Reopened, the shop's (new) owner is handed a code as usual.
    code = world.client.post("/api/shops/S0003/activation", headers=office).json()["code"]
    # A shop closed otherwise (before closing disabled the owner, or by the operator) with a code outstanding:
    # the code is refused with the reason and stays unused.
    world.call(world.state.registry.set_status, "S0003", "closed", date.today())
    assert_closed(world.client.post("/api/auth/activate", json={"shop": "S0003", "code": code, "pin": PIN}))
    world.call(world.state.registry.set_status, "S0003", "active", date.today())
    resp = world.client.post("/api/auth/activate", json={"shop": "S0003", "code": code, "pin": PIN})
    assert resp.status_code == 200, resp.text


def test_an_owner_of_a_shop_closed_without_the_office_desk_is_refused_too(world: World) -> None:
    """The registry's status is what counts (a shop closed before closing disabled owners, or by the operator):
    the owner's token is refused within the accounts' cache time, at once once the gateway forgets."""
    owner = activated_owner(world)
    assert world.client.get("/sync/_changes", headers=owner).status_code == 200
    world.call(world.state.registry.set_status, "S0001", "closed", date.today())
    world.state.authenticator.forget()
    assert_closed(world.client.get("/sync/_changes", headers=owner))
    assert_closed(world.client.post("/api/devices/report", json=device_report(), headers=owner))
    assert_closed(owner_sign_in(world))
    world.call(world.state.registry.set_status, "S0001", "active", date.today())
    world.state.authenticator.forget()
    assert world.client.get("/sync/_changes", headers=owner).status_code == 200
