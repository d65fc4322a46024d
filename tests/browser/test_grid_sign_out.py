"""A grid worker signs out on a shared or handed-on phone: 退出登录 under the shop list ends the session here and
on the server (it asks first while records have not reached the server, or a patrol draft holds what the worker
entered: `pwa/src/sign-out.ts`, shared with the owner's screen; pwa/tests/grid-patrol-sign-out.test.ts and
test_draft_photos.py cover that question)."""

from __future__ import annotations

from typing import Any

import httpx

from tests.browser.field import sign_in_grid
from tests.gateway import Gateway


def test_a_grid_worker_signs_out_and_the_token_stops_working(
    gateway: Gateway, context: Any, logins: dict[str, Any]
) -> None:
    worker = logins["grid_workers"][0]
    page = context.new_page()
    page.set_default_timeout(60_000)
    sign_in_grid(page, gateway, worker)
    page.wait_for_selector('[data-sync-state="synced"]')
    token = page.evaluate("JSON.parse(localStorage.getItem('mashang.session')).token")
    assert httpx.get(f"{gateway.url}/sync/", headers={"Authorization": f"Bearer {token}"}).status_code == 200

    page.click('[data-action="sign-out"]')
    page.wait_for_url("**/login?role=grid")
    assert page.evaluate("localStorage.getItem('mashang.session')") is None
    # The server has it too: the token copied off the phone no longer works.
    for _ in range(50):
        if httpx.get(f"{gateway.url}/sync/", headers={"Authorization": f"Bearer {token}"}).status_code == 401:
            break
        page.wait_for_timeout(100)
    else:
        raise AssertionError("the token still works after signing out")
    page.goto(f"{gateway.url}/grid")
    page.wait_for_selector("text=请先以网格员身份登录")  # no shop list without a session
    assert page.locator("a.g-shop").count() == 0
