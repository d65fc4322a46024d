"""Reward points (积分) as the office and the owner notice them: safety work earns them, the office exchanges them
for prizes (never more than the balance, never twice for one retried request), the safety score and rank are left
alone, and the owner's phone replicates its balance. On either backend (tests/backends.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from server.ids import new_ulid
from server.validators.context import load_context
from server.validators.rewards import Redeemed, redeem
from tests.api.conftest import World, open_world, wait_until
from tests.backends import BACKENDS, sqlite_only, store_settings
from tests.validators.builders import IN_ORDER

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(params=BACKENDS)
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    with store_settings(request, request.param) as on, open_world(tmp_path, **on) as w:
        yield w


def _event(kind: str, shop: str, by: str, minutes_ago: int, **fields: Any) -> dict[str, Any]:
    when = datetime.now(SHANGHAI).replace(microsecond=0) - timedelta(minutes=minutes_ago)
    photo = [f"{shop}:photo:{new_ulid()}"]
    return {
        "_id": f"{shop}:{kind}:{new_ulid()}",
        "type": kind,
        "schema": 1,
        "shop": shop,
        "template": "district:template:fire-gas",
        "template_version": 1,
        "performed_at": when.isoformat(),
        "created_by": by,
        "device": "d-test",
        "answers": {item: {"value": value, "photos": photo} for item, value in IN_ORDER.items()},
        **fields,
    }


def clean_patrol(shop: str, minutes_ago: int = 30) -> dict[str, Any]:
    return _event("patrol", shop, "grid:zhou", minutes_ago, verified_self_checks=[], findings=[])


def self_check(shop: str, minutes_ago: int = 20) -> dict[str, Any]:
    return _event("self_check", shop, f"owner:{shop}", minutes_ago)


def push(world: World, headers: dict[str, str], *docs: dict[str, Any]) -> list[dict[str, Any]]:
    resp = world.client.post("/sync/_bulk_docs", headers=headers, json={"docs": list(docs)})
    assert resp.status_code == 201, resp.text
    answers: list[dict[str, Any]] = resp.json()
    return answers


def owner(world: World, shop: str) -> dict[str, str]:
    office = world.login("wang", "wang-password")
    code = world.client.post(f"/api/shops/{shop}/activation", headers=office).json()["code"]
    resp = world.client.post("/api/auth/activate", json={"shop": shop, "code": code, "pin": "246810"})
    assert resp.status_code == 200, resp.text
    return {"Authorization": "Bearer " + resp.json()["token"]}


def stored_rewards(world: World, headers: dict[str, str], shop: str) -> dict[str, Any] | None:
    resp = world.client.get(f"/sync/{shop}:rewards", headers=headers)
    return resp.json() if resp.status_code == 200 else None


@pytest.fixture
def earned(world: World) -> dict[str, str]:
    """S0001 earns 7 points (a clean patrol +5, a weekly self-check +2); answers the office's headers."""
    shop_owner = owner(world, "S0001")
    assert all(a.get("ok") for a in push(world, world.login("zhou", "zhou-password"), clean_patrol("S0001")))
    assert all(a.get("ok") for a in push(world, shop_owner, self_check("S0001")))
    wait_until(lambda: (stored_rewards(world, world.admin(), "S0001") or {}).get("earned") == 7)
    return world.login("wang", "wang-password")


def test_safety_work_earns_points_and_the_office_exchanges_them_for_prizes(
    world: World, earned: dict[str, str]
) -> None:
    office = earned
    listed = world.client.get("/api/office/rewards?community=wensan", headers=office).json()
    by_shop = {item["shop"]: item for item in listed["items"]}
    assert set(by_shop) == {"S0001", "S0002", "S0003"}
    assert by_shop["S0001"]["earned"] == 7 and by_shop["S0001"]["balance"] == 7 and by_shop["S0001"]["redeemed"] == 0
    assert by_shop["S0001"]["name"] == "小吃店S0001" and by_shop["S0002"]["balance"] == 0
    assert listed["totals"] == {"shops": 3, "earned": 7, "redeemed": 0, "balance": 7}
    score_before = world.client.get("/sync/S0001:score", headers=world.admin()).json()["points"]

    resp = world.client.post(
        "/api/office/rewards/S0001/redemptions",
        headers=office,
        json={"points": 5, "prize": "灭火器一具", "note": "红榜"},
    )
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body["replayed"] is False and body["rewards"]["balance"] == 2 and body["rewards"]["redeemed"] == 5
    redemption = body["redemption"]
    assert redemption["_id"] == "S0001:redemption:000001" and redemption["created_by"] == "office:wang"
    assert redemption["points"] == 5 and redemption["prize"] == "灭火器一具" and redemption["performed_at"]

    shop = world.client.get("/api/office/rewards/S0001", headers=office).json()
    assert (shop["earned"], shop["redeemed"], shop["balance"]) == (7, 5, 2)
    assert shop["earned_by_rule"] == {"patrol_clean": 5, "self_check": 2}
    assert [item["_id"] for item in shop["history"]] == [redemption["_id"]]

    refused = world.client.post(
        "/api/office/rewards/S0001/redemptions", headers=office, json={"points": 3, "prize": "安全锤"}
    )
    assert refused.status_code == 409
    assert refused.json() == {
        "error": "insufficient_points",
        "reason": "可兑换积分不足：店铺 S0001 只有 2 分，本次要兑换 3 分。shop S0001 has 2 reward points; 3 were asked",
    }

    # The follower folds the redemption into the shop's rewards document; the score and rank do not move.
    wait_until(lambda: (stored_rewards(world, world.admin(), "S0001") or {}).get("balance") == 2)
    assert world.client.get("/sync/S0001:score", headers=world.admin()).json()["points"] == score_before
    listed = world.client.get("/api/office/rewards", headers=office).json()
    assert listed["totals"] == {"shops": 3, "earned": 7, "redeemed": 5, "balance": 2}


def test_the_owner_replicates_the_balance_and_cannot_forge_a_redemption(world: World, earned: dict[str, str]) -> None:
    resp = world.client.post(
        "/api/office/rewards/S0001/redemptions", headers=earned, json={"points": 4, "prize": "燃气报警器"}
    )
    assert resp.status_code == 201
    signed_in = world.client.post("/api/auth/owner", json={"shop": "S0001", "pin": "246810"})
    shop_owner = {"Authorization": "Bearer " + signed_in.json()["token"]}
    mine = wait_until(lambda: (r := stored_rewards(world, shop_owner, "S0001")) and r["balance"] == 3 and r)
    assert (mine["earned"], mine["redeemed"], mine["redemptions"]) == (7, 4, 1)
    changes = world.client.get("/sync/_changes", headers=shop_owner).json()["results"]
    assert {"S0001:rewards", "S0001:redemption:000001"} <= {row["id"] for row in changes}

    forged = {
        "_id": "S0001:redemption:000002",
        "type": "redemption",
        "schema": 1,
        "shop": "S0001",
        "number": 2,
        "points": 1,
        "prize": "x",
        "performed_at": datetime.now(SHANGHAI).isoformat(),
        "created_by": "owner:S0001",
    }
    [answer] = push(world, shop_owner, forged)
    assert answer["error"] == "forbidden" and "written by the server" in answer["reason"]
    [answer] = push(world, shop_owner, {"_id": "S0001:rewards", "type": "rewards", "schema": 1, "balance": 999})
    assert answer["error"] == "forbidden"
    assert stored_rewards(world, shop_owner, "S0001")["balance"] == 3  # type: ignore[index]


def test_a_retried_request_is_recorded_once(world: World, earned: dict[str, str]) -> None:
    request = {"points": 2, "prize": "灭火毯", "request_id": "01JF3Z6N3M9W0PQRS7TUVWXY2Z"}
    first = world.client.post("/api/office/rewards/S0001/redemptions", headers=earned, json=request)
    again = world.client.post("/api/office/rewards/S0001/redemptions", headers=earned, json=request)
    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["replayed"] is True and again.json()["redemption"] == first.json()["redemption"]
    assert world.client.get("/api/office/rewards/S0001", headers=earned).json()["balance"] == 5
    changed = world.client.post("/api/office/rewards/S0001/redemptions", headers=earned, json=request | {"points": 3})
    assert changed.status_code == 409 and "already recorded S0001:redemption:000001" in changed.json()["reason"]


def test_the_operator_records_a_redemption(world: World, earned: dict[str, str]) -> None:
    # The route takes an office or operator token; the operator's user id ("admin") was refused by the stored
    # document's model after the balance check, a 500 with nothing written (as the black list's follow-up was).
    resp = world.client.post(
        "/api/office/rewards/S0001/redemptions", headers=world.admin(), json={"points": 4, "prize": "灭火器一具"}
    )
    assert resp.status_code == 201, resp.text
    assert resp.json()["redemption"]["created_by"] == "admin" and resp.json()["rewards"]["balance"] == 3
    # The follower folds it in like an office account's, and the office reads it in the shop's history.
    wait_until(lambda: (stored_rewards(world, world.admin(), "S0001") or {}).get("balance") == 3)
    shop = world.client.get("/api/office/rewards/S0001", headers=earned).json()
    assert [(item["created_by"], item["points"]) for item in shop["history"]] == [("admin", 4)]


def test_concurrent_redemptions_never_spend_more_than_the_balance(world: World, earned: dict[str, str]) -> None:
    store = world.state.store

    async def race() -> list[Redeemed | BaseException]:
        context = await load_context(store)
        tries = [
            redeem(store, "S0001", context, points=3, prize=f"奖品{n}", note="", request_id=None, by="office:wang")
            for n in range(6)
        ]
        return await asyncio.gather(*tries, return_exceptions=True)

    results = world.call(race)
    done = [r for r in results if isinstance(r, Redeemed)]
    assert len(done) == 2  # 7 points buy two prizes of 3, whichever two get there first
    assert all(getattr(r, "error", None) == "insufficient_points" for r in results if not isinstance(r, Redeemed))
    assert sorted(r.redemption["number"] for r in done) == [1, 2]
    assert world.client.get("/api/office/rewards/S0001", headers=earned).json()["balance"] == 1


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"points": 0, "prize": "x"}, "points: 兑换积分须为 1 至 100000 的整数。a whole number from 1 to 100000"),
        ({"points": "5", "prize": "x"}, "points: 兑换积分须为 1 至 100000 的整数。a whole number from 1 to 100000"),
        ({"points": 1.5, "prize": "x"}, "points: 兑换积分须为 1 至 100000 的整数。a whole number from 1 to 100000"),
        ({"points": 1}, "prize: 不能为空。a non-empty string is required"),
        ({"points": 1, "prize": "x", "note": "n" * 501}, "note: 备注最多 500 个字。a string of at most 500 characters"),
        (
            {"points": 1, "prize": "x", "request_id": "no spaces"},
            "request_id: letters, digits, _ and - (at most 64), e.g. a ULID the client made",
        ),
    ],
)
@sqlite_only("world")
def test_bad_requests_are_400_with_a_reason(world: World, body: dict[str, Any], reason: str) -> None:
    office = world.login("wang", "wang-password")
    resp = world.client.post("/api/office/rewards/S0001/redemptions", headers=office, json=body)
    assert resp.status_code == 400 and resp.json() == {"error": "bad_request", "reason": reason}


def test_only_the_office_sees_and_records_rewards(world: World) -> None:
    office = world.login("wang", "wang-password")
    zhou = world.login("zhou", "zhou-password")
    for method, path in (
        ("GET", "/api/office/rewards"),
        ("GET", "/api/office/rewards/S0001"),
        ("POST", "/api/office/rewards/S0001/redemptions"),
    ):
        assert world.client.request(method, path, json={"points": 1, "prize": "x"}).status_code == 401
        assert world.client.request(method, path, headers=zhou, json={"points": 1, "prize": "x"}).status_code == 403
    assert world.client.get("/api/office/rewards/S9999", headers=office).status_code == 404
    missing = world.client.post(
        "/api/office/rewards/S9999/redemptions", headers=office, json={"points": 1, "prize": "x"}
    )
    assert missing.status_code == 404 and missing.json()["reason"] == "没有编号为 S9999 的店铺。No shop S9999."
    assert world.client.get("/api/office/rewards?community=nowhere", headers=office).status_code == 404

    # The server's own partitions are no shop: answered at once, without reading them (the audit log in `accounts`
    # grows with every failed sign-in, which anyone can add).
    store = world.state.store
    asked: list[str] = []
    all_docs = store.all_docs

    async def watched(query: Any) -> Any:
        asked.append(str(query.startkey))
        return await all_docs(query)

    store.all_docs = watched  # type: ignore[method-assign]
    try:
        for partition in ("accounts", "registry", "office", "district", "quarantine"):
            for method, path in (("GET", ""), ("POST", "/redemptions")):
                resp = world.client.request(
                    method, f"/api/office/rewards/{partition}{path}", headers=office, json={"points": 1, "prize": "x"}
                )
                unknown = f"没有编号为 {partition} 的店铺。No shop {partition}."
                assert resp.status_code == 404 and resp.json()["reason"] == unknown, resp.text
    finally:
        del store.all_docs
    assert not [key for key in asked if key.split(":")[0] in ("accounts", "registry", "office", "quarantine")], asked
    nothing = world.client.post(
        "/api/office/rewards/S0002/redemptions", headers=office, json={"points": 1, "prize": "x"}
    )
    assert nothing.status_code == 409 and nothing.json()["error"] == "insufficient_points"
