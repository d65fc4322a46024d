"""A grid worker's other duties in a real Chromium: verifying an owner's fix from the shop's e-file, and handing
out an owner activation code (online only; offline the screen says so instead of failing silently)."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx

from tests.browser.field import sign_in_grid, wait_controlled
from tests.browser.test_owner_rectify import hazard_when_rectified, open_hazard, owner_auth
from tests.gateway import Gateway
from tests.security.docs import rectification


def _docs(gateway: Gateway, start: str, end: str) -> list[dict[str, Any]]:
    with gateway.client() as client:
        answer = client.get(
            "/sync/_all_docs", params={"startkey": json.dumps(start), "endkey": json.dumps(end), "include_docs": "true"}
        )
    answer.raise_for_status()
    return [row["doc"] for row in answer.json()["rows"] if row.get("doc")]


def _hazard(gateway: Gateway, hazard_id: str) -> dict[str, Any]:
    with gateway.client() as client:
        found: dict[str, Any] = client.get(f"/sync/{hazard_id}").json()
    return found


def _rectified_hazard(gateway: Gateway, logins: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A grid worker, and a hazard of one of their shops that the owner reported fixed. The demo's history is drawn
    anew each day and stops at the hour it was built, so on some days every fix in it is verified already: then the
    owner of an open hazard (one a grid worker's patrol finds, if the demo has none) reports it fixed, as their phone
    sends it, and the validators move the hazard to `rectified`."""
    deadline = time.monotonic() + 10  # the validators project the demo's hazards at start
    while time.monotonic() < deadline:
        for worker in logins["grid_workers"]:
            for code in worker["shops"]:
                for doc in _docs(gateway, f"{code}:hazard:", f"{code}:hazard:\ufff0"):
                    if doc.get("status") == "rectified":
                        return worker, doc
        time.sleep(0.5)

    owner, hazard = open_hazard(gateway, logins)
    worker = next(worker for worker in logins["grid_workers"] if owner["shop"] in worker["shops"])
    auth = owner_auth(gateway, owner)
    fix = rectification(owner["shop"], f"owner:{owner['shop']}", hazard=hazard["_id"], photos=[])
    answer = httpx.put(f"{gateway.url}/sync/{fix['_id']}", json=fix, headers=auth, timeout=30)
    assert answer.status_code == 201, answer.text
    return worker, hazard_when_rectified(gateway, auth, hazard["_id"])


def _sign_in(page: Any, gateway: Gateway, worker: dict[str, Any]) -> None:
    sign_in_grid(page, gateway, worker)
    page.wait_for_function(f"document.querySelectorAll('a.g-shop').length === {len(worker['shops'])}", timeout=60_000)


def test_verifying_a_fix_closes_the_hazard(gateway: Gateway, context: Any, logins: dict[str, Any]) -> None:
    worker, hazard = _rectified_hazard(gateway, logins)
    shop = hazard["shop"]
    page = context.new_page()
    page.set_default_timeout(60_000)  # a busy CI machine is slow, not broken
    _sign_in(page, gateway, worker)
    # The list says a fix is waiting at that shop.
    page.wait_for_selector(f'a.g-shop[data-shop="{shop}"] [data-due="verify"]', timeout=60_000)
    page.click(f'a.g-shop[data-shop="{shop}"]')
    card = page.locator(f'li.g-hazard[data-hazard="{hazard["_id"]}"]')
    card.locator('a[data-action="verify"]').click()
    page.wait_for_selector(f'form[data-hazard="{hazard["_id"]}"]')
    page.click('button[type="submit"]')  # no verdict chosen yet
    assert page.locator('[role="alert"]:visible').count() == 1
    page.check('input[name="passed"][value="true"]')
    page.fill('textarea[name="note"]', "现场复核，整改到位")
    page.click('button[type="submit"]')
    page.wait_for_selector(f'[data-shop="{shop}"] [data-shop-name]')
    page.wait_for_selector('[data-sync-state="synced"]', timeout=60_000)

    # The server closes the hazard, and the closed hazard comes back down to the e-file.
    deadline = time.monotonic() + 20
    while _hazard(gateway, hazard["_id"]).get("status") != "closed" and time.monotonic() < deadline:
        time.sleep(0.5)
    closed = _hazard(gateway, hazard["_id"])
    assert closed["status"] == "closed"
    verification = _docs(gateway, f"{shop}:verification:", f"{shop}:verification:\ufff0")
    mine = [v for v in verification if v["_id"] == closed["verification"]]
    assert mine and mine[0]["created_by"] == f"grid:{worker['username']}" and mine[0]["passed"] is True
    assert mine[0]["rectification"] == closed["rectifications"][-1]
    page.wait_for_selector(f'li.g-hazard[data-hazard="{hazard["_id"]}"][data-status="closed"]', state="attached")
    # The history says which hazard the fix and the verdict were about.
    for kind in ("rectification", "verification"):
        line = page.locator(f'li.g-event[data-type="{kind}"] [data-hazard-of="{hazard["_id"]}"]').first
        assert line.inner_text().startswith("隐患："), kind


def test_a_verdict_given_offline_shows_on_the_shop_list_at_once(
    gateway: Gateway, context: Any, logins: dict[str, Any]
) -> None:
    """No signal all day: the list must not keep asking to verify a fix the worker has just verified."""
    worker, hazard = _rectified_hazard(gateway, logins)
    shop = hazard["shop"]
    page = context.new_page()
    page.set_default_timeout(60_000)
    _sign_in(page, gateway, worker)
    waiting = f'a.g-shop[data-shop="{shop}"] [data-due="verify"]'
    page.wait_for_selector(waiting)
    page.wait_for_selector('[data-sync-state="synced"]')
    fixes = int(page.inner_text(waiting).split()[-1])  # 待复核整改 N
    wait_controlled(page)  # the list is opened again offline below, from the service worker's cache
    context.set_offline(True)
    page.click(f'a.g-shop[data-shop="{shop}"]')
    page.locator(f'li.g-hazard[data-hazard="{hazard["_id"]}"] a[data-action="verify"]').click()
    page.check('input[name="passed"][value="true"]')
    page.click('button[type="submit"]')
    page.wait_for_selector(f'[data-shop="{shop}"] [data-shop-name]')
    page.goto(f"{gateway.url}/grid")  # the list, from the service worker
    page.wait_for_selector(f'a.g-shop[data-shop="{shop}"]')
    if fixes == 1:
        page.wait_for_selector(waiting, state="detached")
    else:
        page.wait_for_function(f"document.querySelector('{waiting}')?.textContent.endsWith(' {fixes - 1}')")
    assert page.get_attribute("[data-sync-state]", "data-sync-state") == "offline"


def test_an_activation_code_online_and_a_clear_message_offline(
    gateway: Gateway, context: Any, logins: dict[str, Any]
) -> None:
    worker = logins["grid_workers"][0]
    activated = {owner["shop"] for owner in logins["owners"]}
    shop = next((code for code in worker["shops"] if code not in activated), worker["shops"][0])
    page = context.new_page()
    page.set_default_timeout(60_000)  # a busy CI machine is slow, not broken
    _sign_in(page, gateway, worker)
    page.click(f'a.g-shop[data-shop="{shop}"]')
    page.click('a[data-action="activation"]')
    page.click('button[data-action="issue"]')
    code = page.locator("[data-activation-code]").inner_text()
    assert shop in page.locator(".g-activation").inner_text()  # the how-to names the shop code to type

    # The owner redeems it.
    answer = httpx.post(f"{gateway.url}/api/auth/activate", json={"shop": shop, "code": code, "pin": "135790"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["user"]["id"] == f"owner:{shop}"

    # Offline, a tap says why nothing happens and leaves the code on the screen.
    context.set_offline(True)
    page.wait_for_selector("[data-offline]:visible")
    assert "网络" in page.locator("[data-offline]").inner_text()
    page.click('button[data-action="issue"]')
    page.wait_for_timeout(500)
    assert page.locator("[data-activation-code]").inner_text() == code and page.locator("[data-error]").count() == 0

    # Online, a second code would void the first, and the owner (activated now) could reset the PIN: asked first.
    context.set_offline(False)
    page.wait_for_selector("[data-offline]", state="hidden")
    asked: list[str] = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    page.click('button[data-action="issue"]')
    page.wait_for_timeout(500)
    assert asked and "作废" in asked[0]
    assert page.locator("[data-activation-code]").inner_text() == code


def test_a_closed_shops_file_says_so_and_hands_out_no_activation_code(
    gateway: Gateway, context: Any, logins: dict[str, Any]
) -> None:
    worker, office = logins["grid_workers"][0], logins["office"][0]
    shop = worker["shops"][-1]
    staff = httpx.post(f"{gateway.url}/api/auth/login", json=office).json()["token"]
    closed = httpx.post(f"{gateway.url}/api/office/shops/{shop}/close", headers={"Authorization": f"Bearer {staff}"})
    assert closed.status_code == 200, closed.text
    page = context.new_page()
    page.set_default_timeout(60_000)
    _sign_in(page, gateway, worker)
    page.click(f'a.g-shop[data-shop="{shop}"]')
    page.wait_for_selector(f'[data-shop="{shop}"] [data-shop-closed]')
    assert page.locator('a[data-action="activation"]').count() == 0
    page.goto(f"{gateway.url}/grid/s/{shop}/activation")  # an old link still open somewhere
    page.wait_for_selector("[data-closed]")
    assert page.locator('button[data-action="issue"]').is_disabled()
