"""The public shop card behind the QR poster and the badge platforms embed: what anyone may see, and nothing more."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from server.ids import new_ulid
from tests.api.conftest import World, open_world
from tests.api.projections import score_doc, write
from tests.worlds import shop_fields

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    """Without the validators: the projections in the store are exactly those the test writes."""
    with open_world(tmp_path, run_validators=False) as w:
        yield w


def event(shop: str, kind: str, performed_at: str, ms: int) -> dict[str, object]:
    """Enough of an event for the card: the card reads only ids and `performed_at`."""
    return {
        "_id": f"{shop}:{kind}:{new_ulid(ms)}",
        "type": kind,
        "schema": 1,
        "shop": shop,
        "performed_at": performed_at,
        "created_by": f"owner:{shop}",
        "device": "d-1",
    }


def rename(world: World, code: str, **fields: object) -> None:
    world.call(world.state.registry.put_shop, shop_fields(code, **{"owner_activated": True, **fields}))


def test_the_card_shows_score_rank_list_and_the_last_visits(world: World) -> None:
    world.call(
        write,
        world.state.store,
        score_doc("S0001", 112, rank=3, of=1500, listed="red"),
        # ULIDs sort by time: the later id is the later check, whatever its day says in UTC.
        event("S0001", "self_check", "2026-02-20T09:00:00+08:00", 1_771_000_000_000),
        event("S0001", "self_check", "2026-03-01T23:30:00+00:00", 1_772_000_000_000),
        event("S0001", "patrol", "2026-02-25T15:00:00+08:00", 1_771_500_000_000),
        event("S0002", "patrol", "2026-03-05T15:00:00+08:00", 1_772_500_000_000),
    )
    resp = world.client.get("/api/public/shops/S0001")  # no token: anyone who scans the poster
    assert resp.status_code == 200, resp.text
    assert resp.headers["cache-control"] == "public, max-age=60"
    assert resp.json() == {
        "code": "S0001",
        "name": "小吃店S0001",
        "address": "曙光北路1号",
        "points": 112,
        "rank": 3,
        "of": 1500,
        "list": "red",
        "last_self_check": "2026-03-02",
        "last_patrol": "2026-02-25",
        "badge": "/api/public/shops/S0001/badge.svg",
    }


def test_nothing_personal_is_on_the_card(world: World) -> None:
    zhou = world.login("zhou", "zhou-password")
    code = world.client.post("/api/shops/S0001/activation", headers=zhou).json()["code"]
    world.client.post("/api/auth/activate", json={"shop": "S0001", "code": code, "pin": "246810"})
    rename(world, "S0001", owner_activated=True)
    text = world.client.get("/api/public/shops/S0001").text
    for private in ("owner", "phone", "pin", "grid", "zhou", "community", "activated", "hazard"):
        assert private not in text, private


def test_a_shop_without_a_score_yet_has_no_points(world: World) -> None:
    body = world.client.get("/api/public/shops/S0002").json()
    assert body["points"] is None and body["rank"] is None and body["list"] is None
    assert body["last_self_check"] is None and body["last_patrol"] is None
    badge = world.client.get("/api/public/shops/S0002/badge.svg")
    assert badge.status_code == 200 and "暂无积分" in badge.text


def test_unknown_and_closed_shops_are_not_found(world: World) -> None:
    rename(world, "S0003", status="closed")
    for code in ("S9999", "S0003", "district", "accounts", "a:b", "%20"):
        resp = world.client.get(f"/api/public/shops/{code}")
        assert resp.status_code == 404 and resp.json()["error"] == "not_found", code
        badge = world.client.get(f"/api/public/shops/{code}/badge.svg")  # an image wherever it is embedded
        assert badge.status_code == 404 and badge.headers["content-type"].startswith("image/svg+xml"), code
        assert ("已停业" if code == "S0003" else "未登记") in badge.text, code


def test_the_badge_names_points_rank_and_list_in_its_colour(world: World) -> None:
    world.call(
        write,
        world.state.store,
        score_doc("S0001", 112, rank=3, of=1500, listed="red"),
        score_doc("S0002", 61, rank=1500, of=1500, listed="black"),
        score_doc("S0003", 98, rank=700, of=1500),
    )
    colours = {}
    for code in ("S0001", "S0002", "S0003"):
        resp = world.client.get(f"/api/public/shops/{code}/badge.svg")
        assert resp.status_code == 200
        assert resp.headers["content-type"] == "image/svg+xml; charset=utf-8"
        assert resp.headers["cache-control"] == "public, max-age=60"
        assert "default-src 'none'" in resp.headers["content-security-policy"]
        svg = ET.fromstring(resp.content)
        assert svg.tag == f"{SVG}svg" and svg.get("height") == "20"
        texts = [t.text for t in svg.iter(f"{SVG}text")]
        colours[code] = svg.findall(f"{SVG}rect")[1].get("fill")
        if code == "S0001":
            assert texts == ["码上安全", "小吃店S0001 112分 第3/1500 红榜"]
        if code == "S0002":
            assert texts[1] == "小吃店S0002 61分 第1500/1500 黑榜"
    assert colours == {"S0001": "#cf1322", "S0002": "#1f1f1f", "S0003": "#2f6fb0"}


def test_a_shop_name_cannot_inject_markup(world: World) -> None:
    rename(world, "S0001", name='<script>"&')
    world.call(write, world.state.store, score_doc("S0001", 100))
    resp = world.client.get("/api/public/shops/S0001/badge.svg")
    svg = ET.fromstring(resp.content)  # still well-formed XML
    assert all(not element.tag.endswith("script") for element in svg.iter())
    assert [t.text for t in svg.iter(f"{SVG}text")][1] == '<script>"& 100分'
    title = svg.find(f"{SVG}title")
    assert title is not None and title.text == '码上安全: <script>"& 100分'
    assert "<script>" not in resp.text and "&lt;script&gt;" in resp.text
    assert world.client.get("/api/public/shops/S0001").json()["name"] == '<script>"&'
