"""The address QR posters hold: the office's poster screen is told it and what keeps phones from opening it (a
loopback or LAN address, plain http), `mashang serve` says so at start, and every poster prints it under its code
beside the activation-code line for first-time owners."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.qr import HOW_TO, address_flags, poster_address, serve_note
from tests.api.conftest import World, open_world
from tests.api.test_qr import decode_pages

ADDRESS = "/api/office/posters/address"
ACTIVATION = "首次使用请向网格员索取激活码"


@pytest.mark.parametrize(
    ("base", "raised"),
    [
        ("https://mashang.example.cn", set()),
        ("https://mashang.example.cn/", set()),
        ("https://8.8.8.8:8443/app", set()),
        ("http://mashang.example.cn", {"http"}),
        ("http://127.0.0.1:8000/", {"loopback", "http"}),
        ("https://127.8.0.1", {"loopback"}),
        ("http://[::1]:8000", {"loopback", "http"}),
        ("http://0.0.0.0:8000", {"loopback", "http"}),
        ("http://localhost:8000", {"loopback", "localhost", "http"}),
        ("https://LOCALHOST.", {"loopback", "localhost"}),
        ("https://office.localhost", {"loopback", "localhost"}),
        ("http://192.168.1.20:8000", {"private", "http"}),
        ("https://10.0.0.5", {"private"}),
        ("https://172.20.1.1", {"private"}),
        ("https://100.64.3.3", {"private"}),
        ("https://169.254.0.9", {"private"}),
        ("https://[fd00::1]", {"private"}),
        ("https://[::ffff:192.168.0.1]", {"private"}),
        ("https://office-pc:8443", {"private"}),
        ("https://mashang.local", {"private"}),
        ("mashang.example.cn", {"http", "private"}),  # no scheme: a phone camera reads it as text
    ],
)
def test_what_keeps_phones_from_an_address(base: str, raised: set[str]) -> None:
    assert {name for name, up in address_flags(base).items() if up} == raised
    answer = poster_address(base, configured=True)
    assert answer["ok"] is (not raised) and answer["url"] == f"{answer['base']}/s/{{code}}"
    assert not answer["base"].endswith("/")


def test_the_poster_screen_is_told_the_request_address_and_its_flags(world: World) -> None:
    office = world.login("wang", "wang-password")
    answer = world.client.get(ADDRESS, headers=office)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/json")
    assert answer.json() == {
        "base": "http://testserver",
        "url": "http://testserver/s/{code}",
        "configured": False,
        "loopback": False,
        "localhost": False,
        "private": True,  # a bare host name: only a local network resolves it
        "http": True,
        "ok": False,
    }
    # The office printing from the gateway's own computer, and from a LAN address: as the codes would be made.
    local = world.client.get("http://127.0.0.1:8000" + ADDRESS, headers=office).json()
    assert local["base"] == "http://127.0.0.1:8000" and local["loopback"] and local["http"] and not local["ok"]
    lan = world.client.get("http://192.168.1.20:8000" + ADDRESS, headers=office).json()
    assert lan["base"] == "http://192.168.1.20:8000" and lan["private"] and not lan["loopback"] and not lan["ok"]
    named = world.client.get("http://localhost:8000" + ADDRESS, headers=office).json()
    assert named["localhost"] and named["loopback"]


def test_the_public_url_setting_is_the_address_and_raises_nothing(tmp_path: Path) -> None:
    with open_world(tmp_path, public_url="https://mashang.example.cn/") as world:
        office = world.login("wang", "wang-password")
        answer = world.client.get("http://127.0.0.1:8000" + ADDRESS, headers=office).json()
        assert answer["base"] == "https://mashang.example.cn" and answer["configured"] is True
        assert answer["ok"] is True and not any(answer[k] for k in ("loopback", "localhost", "private", "http"))


def test_only_the_office_is_told(world: World) -> None:
    assert world.client.get(ADDRESS).status_code == 401
    zhou = world.login("zhou", "zhou-password")
    answer = world.client.get(ADDRESS, headers=zhou)
    assert answer.status_code == 403 and answer.json()["reason"]


def test_a_poster_prints_the_address_its_code_holds_and_the_activation_code_line(world: World) -> None:
    office = world.login("wang", "wang-password")
    resp = world.client.get("http://127.0.0.1:8000/api/office/posters.pdf?community=wensan", headers=office)
    assert resp.status_code == 200  # allowed from a loopback address (tests, demos): the screen warns instead
    pages = decode_pages(resp.content)
    assert len(pages) == 3  # one A4 page a shop, as before the added lines
    for (codes, text), code in zip(pages, ("S0001", "S0002", "S0003"), strict=True):
        url = f"http://127.0.0.1:8000/s/{code}"
        assert codes == [url]
        assert url in text and ACTIVATION in text and f"店铺编号 {code}" in text


def test_a_long_public_address_still_fits_its_poster(tmp_path: Path) -> None:
    base = "https://mashang-safety-inspections.some-long-district-name.example.gov.cn/gateway/public"
    with open_world(tmp_path, public_url=base) as world:
        office = world.login("wang", "wang-password")
        resp = world.client.get("/api/office/posters.pdf?shop=S0002", headers=office)
        [(codes, text)] = decode_pages(resp.content)
        assert codes == [f"{base}/s/S0002"] and f"{base}/s/S0002" in text and ACTIVATION in text


def test_the_how_to_tells_a_first_time_owner_of_the_activation_code() -> None:
    assert any(ACTIVATION in line for line in HOW_TO)


def test_serve_says_what_the_posters_will_hold() -> None:
    unset = serve_note(None)
    assert unset is not None and "MASHANG_PUBLIC_URL" in unset and "browser" in unset and "\n" not in unset
    assert serve_note("") == unset
    assert serve_note("https://mashang.example.cn") is None
    local = serve_note("http://localhost:8000")
    assert local is not None and "loopback/http" in local and "\n" not in local
