"""What scanning the QR shows in a real Chromium: the public card (also offline, from the last visit), the
owner's first-time activation with a grid worker's code, a wrong PIN refused with its reason, and staff sign-in."""

from __future__ import annotations

import time
from typing import Any

import httpx

from tests.browser.field import sign_in_owner, wait_controlled
from tests.gateway import Gateway


def ranked_card(gateway: Gateway, shop: str) -> dict[str, Any]:
    """The card once the validators' sub-district pass has ranked the shops (seconds after start)."""
    deadline = time.monotonic() + 30
    while True:
        card: dict[str, Any] = httpx.get(f"{gateway.url}/api/public/shops/{shop}").json()
        if card["rank"] is not None or time.monotonic() > deadline:
            return card
        time.sleep(0.3)


def test_the_public_card_shows_the_shop_and_stays_readable_offline(gateway: Gateway, context: Any) -> None:
    card = ranked_card(gateway, "S0002")
    assert card["rank"] is not None
    page = context.new_page()
    page.goto(f"{gateway.url}/s/S0002")
    page.wait_for_function(f"document.querySelector('[data-shop-name]').textContent === {card['name']!r}")
    assert page.inner_text("[data-score]") == str(card["points"])
    assert page.inner_text("[data-rank]") == str(card["rank"])
    assert str(card["of"]) in page.inner_text(".scoreboard")
    assert page.inner_text("[data-last-self-check]") == (card["last_self_check"] or "暂无")
    if card["list"]:
        assert page.get_attribute("[data-list]", "data-list") == card["list"]
    assert page.locator("input[name=pin]").count() == 1  # the owner's way in
    assert page.locator("a[href='/login?role=grid&shop=S0002']").count() == 1  # and the grid worker's

    # Chinese first; English one tap away, remembered on this phone.
    assert "安全积分" in page.inner_text(".scoreboard")
    page.click("#lang-toggle")
    page.wait_for_function("document.querySelector('.scoreboard').textContent.includes('Safety score')")
    assert page.locator("input[name=pin]").count() == 1
    page.reload()
    page.wait_for_function("document.querySelector('.scoreboard').textContent.includes('Safety score')")
    page.click("#lang-toggle")

    wait_controlled(page)
    context.set_offline(True)
    page.reload()
    page.wait_for_function(f"document.querySelector('[data-shop-name]').textContent === {card['name']!r}")
    assert page.inner_text("[data-score]") == str(card["points"])
    assert "离线" in page.inner_text(".card-note")


def test_first_time_activation_and_a_wrong_pin(gateway: Gateway, context: Any, logins: dict[str, Any]) -> None:
    activated = {o["shop"] for o in logins["owners"]}
    worker = logins["grid_workers"][0]
    shop = next(s for s in worker["shops"] if s not in activated)
    token = httpx.post(
        f"{gateway.url}/api/auth/login", json={"username": worker["username"], "password": worker["password"]}
    ).json()["token"]
    code = httpx.post(
        f"{gateway.url}/api/shops/{shop}/activation", headers={"Authorization": f"Bearer {token}"}
    ).json()["code"]

    page = context.new_page()
    page.goto(f"{gateway.url}/s/{shop}")
    page.fill("input[name=pin]", "123456")
    page.click("[data-form=owner-login] button[type=submit]")
    page.wait_for_selector("[data-form=owner-login] .error:not([hidden])")
    assert "登录失败" in page.inner_text("[data-form=owner-login] .error")

    page.click("details.activation summary")
    page.fill("input[name=code]", code)
    page.fill("input[name=new_pin]", "135790")
    page.fill("input[name=confirm_pin]", "135790")
    page.click("[data-form=activate] button[type=submit]")
    page.wait_for_selector("[data-owner-home]", timeout=20_000)
    page.wait_for_selector("[data-sync-state=synced]", timeout=30_000)
    # The new PIN works from now on.
    again = httpx.post(f"{gateway.url}/api/auth/owner", json={"shop": shop, "pin": "135790"})
    assert again.status_code == 200 and again.json()["user"]["id"] == f"owner:{shop}"


def test_signing_out_with_nothing_waiting_leaves_nothing_on_the_phone(
    gateway: Gateway, context: Any, logins: dict[str, Any]
) -> None:
    owner = logins["owners"][2]
    page = context.new_page()
    sign_in_owner(page, gateway, owner)
    page.wait_for_selector("[data-sync-state=synced]", timeout=30_000)
    assert "_pouch_mashang" in page.evaluate("indexedDB.databases().then(d => d.map(x => x.name))")
    token = page.evaluate("JSON.parse(localStorage.getItem('mashang.session')).token")
    held = {"Authorization": f"Bearer {token}"}
    assert httpx.get(f"{gateway.url}/sync/", headers=held).status_code == 200

    page.click("[data-action=sign-out]")
    page.wait_for_selector("[data-form=owner-login] input[name=pin]")
    # The token the phone held stops working on the server too (someone who copied it, a phone handed on).
    page.wait_for_function("localStorage.getItem('mashang.signedOut') === '[]'", timeout=30_000)
    refused = httpx.get(f"{gateway.url}/sync/", headers=held)
    assert refused.status_code == 401 and "Signed out" in refused.json()["reason"]
    page.wait_for_function(
        "indexedDB.databases().then(d => !d.some(x => x.name.startsWith('_pouch_mashang')))", timeout=30_000
    )
    assert "mashang.session" not in page.evaluate("Object.keys(localStorage)")
    page.reload()
    page.wait_for_selector("[data-form=owner-login] input[name=pin]")


def test_a_revoked_sign_in_asks_for_the_pin_again(gateway: Gateway, context: Any, logins: dict[str, Any]) -> None:
    owner = logins["owners"][3]
    page = context.new_page()
    sign_in_owner(page, gateway, owner)
    page.wait_for_selector("[data-sync-state=synced]", timeout=30_000)

    office = logins["office"][0]
    staff = httpx.post(f"{gateway.url}/api/auth/login", json=office).json()["token"]
    revoked = httpx.post(
        f"{gateway.url}/api/office/users/owner:{owner['shop']}/revoke", headers={"Authorization": f"Bearer {staff}"}
    )
    assert revoked.status_code == 200, revoked.text
    page.wait_for_selector("[data-form=owner-login] input[name=pin]", timeout=90_000)
    assert page.get_attribute("[data-sync-state]", "data-sync-state") == "error"
    page.fill("input[name=pin]", owner["pin"])
    page.click("[data-form=owner-login] button[type=submit]")
    page.wait_for_selector("[data-owner-home]", timeout=20_000)
    page.wait_for_selector("[data-sync-state=synced]", timeout=30_000)


def test_the_owners_phone_still_signs_in_while_a_stranger_has_locked_the_pin(
    gateway: Gateway, context: Any, logins: dict[str, Any]
) -> None:
    """The phone keeps the device key of its first sign-in and sends it with the next: five wrong PINs from
    elsewhere lock the account, not the owner's own phone."""
    owner = logins["owners"][2]
    page = context.new_page()
    sign_in_owner(page, gateway, owner)
    page.wait_for_selector("[data-sync-state=synced]", timeout=30_000)
    page.click("[data-action=sign-out]")
    page.wait_for_selector("input[name=pin]")
    wrong = owner["pin"][:-1] + str((int(owner["pin"][-1]) + 1) % 10)
    for _ in range(5):
        httpx.post(f"{gateway.url}/api/auth/owner", json={"shop": owner["shop"], "pin": wrong})
    locked = httpx.post(f"{gateway.url}/api/auth/owner", json={"shop": owner["shop"], "pin": owner["pin"]})
    assert locked.status_code == 429  # anyone else, even with the right PIN
    page.fill("input[name=pin]", owner["pin"])
    page.click("[data-form=owner-login] button[type=submit]")
    page.wait_for_selector("[data-owner-home]", timeout=20_000)


def test_the_owners_home_shows_the_reward_points_and_a_redemption_at_the_office(
    gateway: Gateway, context: Any, logins: dict[str, Any]
) -> None:
    """The points the owner can exchange for prizes (SPEC: 积分兑换) are on the home; the office records a prize,
    and the phone shows what is left without a reload."""
    owner = logins["owners"][1]
    shop = owner["shop"]
    office = {
        "Authorization": "Bearer "
        + httpx.post(f"{gateway.url}/api/auth/login", json=logins["office"][0]).json()["token"]
    }
    balance = httpx.get(f"{gateway.url}/api/office/rewards/{shop}", headers=office).json()["balance"]
    assert balance > 0
    page = context.new_page()
    sign_in_owner(page, gateway, owner)
    page.wait_for_selector(f"[data-rewards='{balance}']", timeout=30_000)
    assert f"可兑换积分：{balance}" in page.inner_text("[data-rewards]")

    redeemed = httpx.post(
        f"{gateway.url}/api/office/rewards/{shop}/redemptions",
        headers=office,
        json={"points": 5, "prize": "灭火器一具"},
    )
    assert redeemed.status_code in (200, 201), redeemed.text
    page.wait_for_selector(f"[data-rewards='{balance - 5}']", timeout=30_000)


def test_the_english_header_fits_a_phone(gateway: Gateway, context: Any, logins: dict[str, Any]) -> None:
    """Signed in, the header holds the sync badge and the language button beside the app's name. In English
    ("Mashang Safety", twice as long as 码上安全) it was cut to "Mashang Safe…" on a phone: a phone shows the short
    name, whole, beside a badge of records waiting. (Beside the longest badges, "Offline · 12 waiting" or
    "Downloading · 120 left", it is still cut: the badge says what matters more then.)"""
    page = context.new_page()
    page.set_viewport_size({"width": 340, "height": 740})
    sign_in_owner(page, gateway, logins["owners"][0])
    page.click("#lang-toggle")
    page.wait_for_function("document.querySelector('#brand').innerText === 'Mashang'")
    fits = """() => {
      const badge = document.querySelector('#sync-status');  // in one turn: the app cannot redraw it in between
      badge.hidden = false;
      badge.textContent = '12 waiting';
      const b = document.querySelector('#brand');
      return b.scrollWidth <= b.clientWidth;
    }"""
    assert page.evaluate(fits), "the name is cut"
    page.set_viewport_size({"width": 1024, "height": 740})  # a tablet or a desktop: the full name
    page.wait_for_function("document.querySelector('#brand').innerText === 'Mashang Safety'")
    page.click("#lang-toggle")
    page.wait_for_function("document.querySelector('#brand').innerText === '码上安全'")
