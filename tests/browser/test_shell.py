"""The app shell in a real Chromium: served by the gateway, and loaded again offline after the first visit."""

from __future__ import annotations

from typing import Any

from tests.gateway import Gateway


def test_the_shell_reloads_offline_after_the_first_visit(gateway: Gateway, context: Any) -> None:
    page = context.new_page()
    page.goto(f"{gateway.url}/s/S0001")
    page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=20_000)
    context.set_offline(True)
    page.reload()
    page.wait_for_selector("[data-sync-state]")
    assert page.locator("h1").first.inner_text() != ""
    assert "S0001" in page.content()
