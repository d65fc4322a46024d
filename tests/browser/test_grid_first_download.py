"""A grid worker's first sign-in on a slow connection: the phone downloads the grid's shops, scores, hazards and
events, and until that download has caught up the list is not complete (no points yet, findings whose hazards
have not arrived). The header must say it is still downloading, never 已同步, until everything is there."""

from __future__ import annotations

import time
from typing import Any

from tests.browser.field import sign_in_grid
from tests.gateway import Gateway


def test_the_header_says_downloading_until_the_grid_is_complete(
    gateway: Gateway, browser: Any, logins: dict[str, Any]
) -> None:
    worker = logins["grid_workers"][0]
    # No service worker: the network emulation below applies to the page's own requests.
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="zh-CN", service_workers="block")
    try:
        page = context.new_page()
        page.set_default_timeout(60_000)  # a busy CI machine is slow, not broken
        page.goto(f"{gateway.url}/login?role=grid")
        slow = {"offline": False, "latency": 150, "downloadThroughput": 60 * 1024, "uploadThroughput": 60 * 1024}
        context.new_cdp_session(page).send("Network.emulateNetworkConditions", slow)
        sign_in_grid(page, gateway, worker)

        seen: set[str] = set()
        deadline = time.monotonic() + 120
        while True:
            state = page.get_attribute("[data-sync-state]", "data-sync-state") or ""
            seen.add(state)
            if state == "synced":
                break
            assert time.monotonic() < deadline, f"never synced; states seen: {seen}"
            time.sleep(0.1)
        # The moment the header says 已同步, the list is complete: every shop shows the points the server gave it.
        shops = page.locator("a.g-shop")
        points = [shops.nth(i).locator(".g-points").inner_text() for i in range(shops.count())]
        assert shops.count() == len(worker["shops"]) and all(p.endswith("分") and p != "暂无积分" for p in points), (
            points
        )
        assert "pulling" in seen, f"the download was never shown; states seen: {seen}"
        assert page.inner_text("[data-sync-state]") == "已同步"
    finally:
        context.close()
