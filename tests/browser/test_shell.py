"""The app shell in a real Chromium: served by the gateway, and loaded again offline after the first visit."""

from __future__ import annotations

from typing import Any

from tests.browser.field import wait_controlled
from tests.gateway import Gateway


def test_the_shell_reloads_offline_after_the_first_visit(gateway: Gateway, context: Any) -> None:
    page = context.new_page()
    page.goto(f"{gateway.url}/s/S0001")
    wait_controlled(page)
    context.set_offline(True)
    page.reload()
    # The shell's sync chip is there (hidden for a visitor while it has nothing to say: whether Chromium tells the
    # page it is offline after such a reload differs between its versions).
    page.wait_for_selector("[data-sync-state]", state="attached")
    assert page.locator("h1").first.inner_text() != ""
    assert "S0001" in page.content()


def test_staff_sign_in_leads_grid_workers_to_grid_and_the_office_to_office(
    gateway: Gateway, context: Any, logins: dict[str, Any]
) -> None:
    page = context.new_page()
    worker = logins["grid_workers"][0]
    page.goto(f"{gateway.url}/login?role=grid")
    page.fill("input[name=username]", worker["username"])
    page.fill("input[name=password]", "wrong-password")
    page.click("button[type=submit]")
    page.wait_for_selector(".error:not([hidden])")
    assert page.url.endswith("/login?role=grid")
    page.fill("input[name=password]", worker["password"])
    page.click("button[type=submit]")
    page.wait_for_url(f"{gateway.url}/grid")

    office = logins["office"][0]
    other = context.browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        desk = other.new_page()
        desk.goto(f"{gateway.url}/login?role=office")
        desk.fill("input[name=username]", office["username"])
        desk.fill("input[name=password]", office["password"])
        desk.click("button[type=submit]")
        desk.wait_for_url(f"{gateway.url}/office")
        # The office token is kept in memory only: nothing about it is left in the browser's storage.
        assert "token" not in desk.evaluate("JSON.stringify(localStorage)")
    finally:
        other.close()
