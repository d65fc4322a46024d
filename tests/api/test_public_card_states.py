"""A QR poster still on the wall of a shop that closed, or of a code never registered: the card says which (and
nothing else), and the badge platforms embed is a grey image saying so, never a broken one."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.conftest import World, open_world
from tests.api.projections import score_doc, write
from tests.worlds import shop_fields

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with open_world(tmp_path, run_validators=False) as w:
        yield w


def close(world: World, code: str) -> None:
    world.call(world.state.registry.put_shop, shop_fields(code, owner_activated=True, status="closed"))


def test_a_closed_shop_answers_404_closed_and_nothing_of_the_shop(world: World) -> None:
    world.call(write, world.state.store, score_doc("S0003", 98, rank=7, of=30))
    close(world, "S0003")
    resp = world.client.get("/api/public/shops/S0003")
    assert resp.status_code == 404
    # Not its name, address, points or owner: only that the shop is closed.
    assert resp.json() == {"error": "not_found", "reason": "closed"}


def test_an_unknown_code_answers_404_missing(world: World) -> None:
    for code in ("S9999", "district", "accounts", "a:b"):
        resp = world.client.get(f"/api/public/shops/{code}")
        assert resp.status_code == 404 and resp.json() == {"error": "not_found", "reason": "missing"}, code


@pytest.mark.parametrize("code", ["S0003", "S9999", "S0001<b>", "A" * 300])
def test_a_platform_page_can_read_why_there_is_no_card(world: World, code: str) -> None:
    """A delivery platform's page fetches the card from its own origin: without the card's CORS header on the 404,
    the browser hides the answer and the page cannot tell a closed shop from an unknown code (or a network fault)."""
    close(world, "S0003")
    resp = world.client.get(f"/api/public/shops/{code}", headers={"Origin": "https://waimai.example"})
    assert resp.status_code == 404
    assert resp.json()["reason"] == ("closed" if code == "S0003" else "missing")
    assert resp.headers["access-control-allow-origin"] == "*"
    assert resp.headers["cache-control"] == "public, max-age=60"  # a shop may be registered or reopened soon


def contrast(one: str, other: str) -> float:
    """The WCAG contrast ratio of two colours (#rgb or #rrggbb)."""

    def luminance(colour: str) -> float:
        digits = colour.lstrip("#")
        if len(digits) == 3:
            digits = "".join(d * 2 for d in digits)
        channels = [int(digits[i : i + 2], 16) / 255 for i in (0, 2, 4)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    lighter, darker = sorted((luminance(one), luminance(other)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def badge_texts(content: bytes) -> list[str | None]:
    svg = ET.fromstring(content)  # well-formed SVG
    assert svg.tag == f"{SVG}svg" and svg.get("height") == "20"
    return [t.text for t in svg.iter(f"{SVG}text")]


@pytest.mark.parametrize(("code", "says"), [("S0003", "已停业"), ("S9999", "未登记"), ("accounts", "未登记")])
def test_the_badge_of_a_closed_or_unknown_shop_is_a_grey_image(world: World, code: str, says: str) -> None:
    close(world, "S0003")
    resp = world.client.get(f"/api/public/shops/{code}/badge.svg")
    assert resp.status_code == 404  # still not found: an <img> shows the SVG all the same (tests/browser)
    assert resp.headers["content-type"] == "image/svg+xml; charset=utf-8"
    assert resp.headers["cache-control"] == "public, max-age=60"  # a short time: a shop may be registered soon
    assert "default-src 'none'" in resp.headers["content-security-policy"]
    assert badge_texts(resp.content) == ["码上安全", says]
    svg = ET.fromstring(resp.content)
    fill, text = svg.findall(f"{SVG}rect")[1].get("fill") or "", svg.find(f"{SVG}g")
    assert fill != "#555" and text is not None  # grey, apart from the label's
    assert contrast(text.get("fill") or "", fill) >= 4.5  # its white 12 px words legible (WCAG AA)
    title = svg.find(f"{SVG}title")
    assert title is not None and title.text == f"码上安全: {says}"


def test_an_active_shop_keeps_its_card_and_badge(world: World) -> None:
    world.call(write, world.state.store, score_doc("S0001", 100))
    assert world.client.get("/api/public/shops/S0001").status_code == 200
    badge = world.client.get("/api/public/shops/S0001/badge.svg")
    assert badge.status_code == 200 and badge_texts(badge.content)[1] == "小吃店S0001 100分"
