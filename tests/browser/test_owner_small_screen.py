"""What a 360x640 phone shows in a real Chromium: the app's name stays whole beside the longest sync badge, in both
languages; the QR of a closed or unknown shop says so without a sign-in; their badge is an image, not a broken one;
a code in lower case finds its shop; a form's photo has a small round remove button inside its corner."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.browser.field import sign_in_owner
from tests.browser.test_owner_offline import camera_jpeg
from tests.gateway import Gateway

# The longest badge: the browser online, the server out of reach, uploads waiting (main.ts `renderSync`).
LONGEST = {"zh-CN": "连不上服务器 · 128 条待上传", "en": "Server unreachable · 128 waiting"}

MEASURE = """() => {
  const brand = document.getElementById('brand');
  const sync = document.getElementById('sync-status');
  const shown = [...brand.children].find((el) => getComputedStyle(el).display !== 'none');
  const b = brand.getBoundingClientRect();
  const s = sync.getBoundingClientRect();
  const n = shown.getBoundingClientRect();
  return {
    text: shown.textContent,
    clientWidth: brand.clientWidth,
    scrollWidth: brand.scrollWidth,
    nameRight: n.right,
    nameWidth: n.width,
    brandRight: b.right,
    syncLeft: s.left,
    syncRight: s.right,
    syncText: sync.textContent,
    pageWidth: document.documentElement.scrollWidth,
  };
}"""


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(viewport={"width": 360, "height": 640}, locale="zh-CN", service_workers="block")
    try:
        yield ctx
    finally:
        ctx.close()


def show_badge(page: Any, text: str) -> None:
    """The header's sync badge as the app shows it offline with uploads waiting, with the longest text."""
    page.evaluate(
        """(text) => {
          const sync = document.getElementById('sync-status');
          sync.hidden = false;
          sync.dataset.syncState = 'offline';
          sync.textContent = text;
        }""",
        text,
    )


def test_the_app_name_stays_whole_beside_the_longest_badge(gateway: Gateway, phone: Any) -> None:
    page = phone.new_page()
    page.goto(f"{gateway.url}/s/S0001")
    page.wait_for_selector("[data-card]")
    for lang, name in (("zh-CN", "码上安全"), ("en", "Mashang")):
        if lang == "en":
            page.click("#lang-toggle")
            page.wait_for_function("document.documentElement.lang === 'en'")
        show_badge(page, LONGEST[lang])
        m = page.evaluate(MEASURE)
        assert m["text"] == name and m["syncText"] == LONGEST[lang], m
        assert m["scrollWidth"] <= m["clientWidth"], f"{lang}: the name is cut: {m}"
        assert m["nameRight"] <= m["brandRight"] + 0.5 and m["brandRight"] <= m["syncLeft"], f"{lang}: overlap: {m}"
        assert m["syncRight"] <= 360 and m["pageWidth"] <= 360, f"{lang}: the header is wider than the phone: {m}"
        assert m["nameWidth"] > 40, f"{lang}: the name is a stroke: {m}"  # not 码.. nor a single stroke


def close_a_shop(gateway: Gateway, logins: dict[str, Any], shops: list[str]) -> str:
    office = logins["office"][0]
    token = httpx.post(
        f"{gateway.url}/api/auth/login", json={"username": office["username"], "password": office["password"]}
    ).json()["token"]
    for code in shops:
        resp = httpx.post(f"{gateway.url}/api/office/shops/{code}/close", headers={"Authorization": f"Bearer {token}"})
        if resp.status_code == 200:
            return code
    raise AssertionError("the office could close none of the shops")


def test_a_closed_or_unknown_shop_says_so_with_no_way_in(gateway: Gateway, phone: Any, logins: dict[str, Any]) -> None:
    closed = close_a_shop(gateway, logins, [f"S{n:04d}" for n in range(30, 0, -1)])
    page = phone.new_page()
    for code, says in ((closed, "该店铺已停业"), ("S9999", "未找到该店铺")):
        page.goto(f"{gateway.url}/s/{code}")
        page.wait_for_selector("[data-card][data-card-state]")
        assert page.inner_text("[data-shop-name]") == says
        assert not page.is_visible(".scoreboard")  # no dashes for a score
        for gone in ("input[name=pin]", "details.activation", "a[href^='/login?role=grid']"):
            assert not page.is_visible(gone), (code, gone)

    # Their badges, embedded in a page as a platform would: grey images, displayed, not broken.
    page.goto(f"{gateway.url}/")
    sizes = page.evaluate(
        """async (codes) => Promise.all(codes.map((code) => new Promise((resolve) => {
             const img = new Image();
             img.onload = () => resolve([img.naturalWidth, img.naturalHeight]);
             img.onerror = () => resolve([0, 0]);
             img.src = `/api/public/shops/${code}/badge.svg?embed=1`;
           })))""",
        [closed, "S9999", "S0001"],
    )
    assert all(width > 50 and height == 20 for width, height in sizes), sizes


def test_a_lower_case_code_or_a_trailing_blank_finds_the_shop(gateway: Gateway, phone: Any) -> None:
    name = httpx.get(f"{gateway.url}/api/public/shops/S0002").json()["name"]
    page = phone.new_page()
    page.goto(f"{gateway.url}/s/s0002")
    page.wait_for_url("**/s/S0002")
    page.wait_for_function(f"document.querySelector('[data-shop-name]').textContent === {name!r}")
    page.goto(f"{gateway.url}/s/S0002%20")
    page.wait_for_function(f"document.querySelector('[data-shop-name]')?.textContent === {name!r}")
    assert page.locator("input[name=pin]").count() == 1


# The remove button of a form's photo, and where a finger 15 px from its centre lands: left, right, up, down.
REMOVE_BUTTON = """() => {
  const thumb = document.querySelector('[data-item=gas_safe] [data-photo-thumb]');
  const button = thumb.querySelector('[data-remove-photo]');
  const rect = (el) => {
    const r = el.getBoundingClientRect();
    return { left: r.left, top: r.top, right: r.right, bottom: r.bottom, width: r.width, height: r.height };
  };
  const b = rect(button);
  const [x, y] = [(b.left + b.right) / 2, (b.top + b.bottom) / 2];
  const around = [[x - 15, y], [x + 15, y], [x, y - 15], [x, y + 15]];
  const hits = around.map(([px, py]) => document.elementFromPoint(px, py) === button);
  const radius = getComputedStyle(button).borderTopLeftRadius;
  return { img: rect(thumb.querySelector('img')), button: b, radius, hits };
}"""


def test_a_photo_s_remove_button_is_a_small_round_one_inside_its_corner(
    gateway: Gateway, phone: Any, logins: dict[str, Any]
) -> None:
    # The audit's owner saw a tall box sticking out over the photo's top-right corner (the form's 52 px buttons' rule).
    page = phone.new_page()
    page.set_default_timeout(60_000)
    sign_in_owner(page, gateway, logins["owners"][1])
    page.click("[data-action=check]")
    page.set_input_files(
        "[data-photo-for=gas_safe]",
        files=[{"name": "gas.jpg", "mimeType": "image/jpeg", "buffer": camera_jpeg(800, 600)}],
    )
    page.wait_for_selector("[data-item=gas_safe] [data-photo-thumb] img[src^='blob:']")
    page.locator("[data-item=gas_safe] [data-photo-thumb]").scroll_into_view_if_needed()
    m = page.evaluate(REMOVE_BUTTON)
    img, button = m["img"], m["button"]
    assert img["left"] <= button["left"] and button["right"] <= img["right"], m  # inside the photo
    assert img["top"] <= button["top"] and button["bottom"] <= img["bottom"], m
    assert button["right"] >= img["right"] - 8 and button["top"] <= img["top"] + 8, m  # in its top-right corner
    assert button["width"] == button["height"] <= 28 and m["radius"] == "50%", m  # a small round mark
    assert all(m["hits"]), m  # a 32 px target for the finger
