"""The public shop card behind the QR poster and the badge platforms embed: what anyone may see, and nothing more.

The red/black list on them is the one the safety office published (公示), with its month, never the provisional
list of the shop's score document: in a world of two sub-districts, minglou (S0001-S0003) and xihu (T0001).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from server.ids import new_ulid
from server.models import Ranking
from tests.api.conftest import World, open_world
from tests.api.projections import score_doc, write
from tests.backends import BACKENDS, store_settings
from tests.worlds import shop_fields

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    """Without the validators: the projections in the store are exactly those the test writes."""
    with open_world(tmp_path, run_validators=False) as w:
        yield w


@pytest.fixture(params=BACKENDS)
def two(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    """Two sub-districts (on either backend): minglou's 文三社区 (S0001-S0003) and xihu's 西溪社区 (T0001)."""
    with store_settings(request, request.param) as on, open_world(tmp_path, run_validators=False, **on) as w:
        w.call(w.state.registry.put_community, "xc", "西溪社区", "xihu")
        w.call(w.state.registry.put_grid, "xg", "西溪一网格", "xc", ["zhou"], ["T0001"])
        w.call(w.state.registry.put_shop, shop_fields("T0001", "xg", community="xc", name="西溪茶馆T0001"))
        yield w


def snapshot(subdistrict: str, month: str, entries: list[tuple[str, str | None]]) -> dict[str, Any]:
    """A month's ranking snapshot as the validators write it, in rank order."""
    doc = {
        "_id": f"office:ranking:{subdistrict}:{month}",
        "type": "ranking",
        "schema": 1,
        "subdistrict": subdistrict,
        "month": month,
        "as_of": f"{month}-28",
        "rules_version": 1,
        "entries": [
            {"shop": shop, "points": 100 - n, "rank": n + 1, "open_hazards": 0, "list": listed}
            for n, (shop, listed) in enumerate(entries)
        ],
    }
    return Ranking.model_validate(doc).to_doc()


def publish(world: World, subdistrict: str, month: str) -> None:
    """The office's 公示 of the month's list (ranking screen → 发布)."""
    wang = world.login("wang", "wang-password")
    resp = world.client.post(f"/api/office/rankings/{month}/publish?subdistrict={subdistrict}", headers=wang)
    assert resp.status_code == 201, resp.text


def listed(world: World, code: str) -> tuple[str | None, str | None]:
    body = world.client.get(f"/api/public/shops/{code}").json()
    return body["list"], body["list_month"]


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
        "list": None,  # the score's list is provisional: nothing is published yet
        "list_month": None,
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


def test_the_badge_names_points_rank_and_the_published_list_with_its_month_in_its_colour(world: World) -> None:
    world.call(
        write,
        world.state.store,
        score_doc("S0001", 112, rank=3, of=1500, listed="red"),
        score_doc("S0002", 61, rank=1500, of=1500, listed="black"),
        score_doc("S0003", 98, rank=700, of=1500),
        snapshot("minglou", "2026-11", [("S0001", "red"), ("S0003", None), ("S0002", "black")]),
    )
    publish(world, "minglou", "2026-11")
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
            assert texts == ["码上安全", "小吃店S0001 112分 第3/1500 2026-11 红榜"]
        if code == "S0002":
            assert texts[1] == "小吃店S0002 61分 第1500/1500 2026-11 黑榜"
        if code == "S0003":
            assert texts[1] == "小吃店S0003 98分 第700/1500"
    assert colours == {"S0001": "#cf1322", "S0002": "#1f1f1f", "S0003": "#2f6fb0"}


def test_the_card_shows_the_published_list_not_the_provisional_one(two: World) -> None:
    store = two.state.store
    two.call(write, store, score_doc("S0002", 61, rank=3, of=3, listed="black"))
    # Before the office published anything, the street sees no list, whatever the score document says.
    assert listed(two, "S0002") == (None, None)
    badge = two.client.get("/api/public/shops/S0002/badge.svg").text
    assert "黑榜" not in badge and "#1f1f1f" not in badge

    two.call(
        write,
        store,
        snapshot("minglou", "2026-10", [("S0001", "red"), ("S0003", None), ("S0002", None)]),
        snapshot("minglou", "2026-11", [("S0001", "red"), ("S0003", None), ("S0002", "black")]),
    )
    assert listed(two, "S0002") == (None, None)  # a snapshot is not a publication
    publish(two, "minglou", "2026-10")
    assert listed(two, "S0001") == ("red", "2026-10")
    assert listed(two, "S0002") == (None, "2026-10")  # on neither list of October's, black in its score or not
    publish(two, "minglou", "2026-11")
    assert [listed(two, code) for code in ("S0001", "S0002", "S0003")] == [
        ("red", "2026-11"),
        ("black", "2026-11"),
        (None, "2026-11"),
    ]

    # The scores move on: points and rank follow at once, the list only with the next publication.
    two.call(write, store, score_doc("S0003", 40, rank=3, of=3, listed="black"))
    card = two.client.get("/api/public/shops/S0003").json()
    assert (card["points"], card["rank"], card["list"], card["list_month"]) == (40, 3, None, "2026-11")
    two.call(write, store, snapshot("minglou", "2026-09", [("S0003", "black")]))
    publish(two, "minglou", "2026-09")  # an older month published late is not the latest
    assert listed(two, "S0003") == (None, "2026-11")


def test_a_publication_of_one_sub_district_leaves_the_other_alone(two: World) -> None:
    two.call(
        write,
        two.state.store,
        score_doc("T0001", 50, rank=1, of=1, listed="black"),
        snapshot("minglou", "2026-11", [("S0001", "red"), ("S0002", "black")]),
        snapshot("xihu", "2026-10", [("T0001", "red")]),
    )
    publish(two, "minglou", "2026-11")
    assert listed(two, "S0001") == ("red", "2026-11")
    assert listed(two, "T0001") == (None, None)
    assert "2026-11" not in two.client.get("/api/public/shops/T0001/badge.svg").text
    publish(two, "xihu", "2026-10")
    assert listed(two, "T0001") == ("red", "2026-10")
    assert listed(two, "S0001") == ("red", "2026-11")


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
