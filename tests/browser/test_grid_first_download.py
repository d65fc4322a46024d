"""A grid worker's first sign-in on a slow connection: the phone downloads the grid's shops, scores, hazards and
events, and until that download has caught up the list is not complete (no points yet, findings whose hazards
have not arrived). The header must say it is still downloading, never 已同步, until everything is there."""

from __future__ import annotations

import time
from typing import Any

from tests.browser.field import sign_in_grid
from tests.gateway import Gateway


def assert_complete_list(page: Any, worker: dict[str, Any]) -> None:
    """Once the header says 已同步, the list is complete as soon as it has drawn what arrived last (it redraws a
    moment after the database changes): every shop of the worker, each with the points the server gave it."""
    shops = page.locator("a.g-shop")
    for _ in range(20):
        points = [shops.nth(i).locator(".g-points").inner_text() for i in range(shops.count())]
        if len(points) == len(worker["shops"]) and all(p.endswith("分") and p != "暂无积分" for p in points):
            return
        time.sleep(0.1)
    raise AssertionError(f"已同步, but the list is not complete: {points}")


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
        assert "pulling" in seen, f"the download was never shown; states seen: {seen}"
        assert_complete_list(page, worker)
        # The label says it (waited for: a live change after the catch-up shows 正在下载 for a moment).
        page.wait_for_function(
            "(e => e.dataset.syncState === 'synced' && e.textContent === '已同步')"
            "(document.querySelector('[data-sync-state]'))"
        )
    finally:
        context.close()


def test_a_failing_download_is_never_shown_as_synced(gateway: Gateway, context: Any, logins: dict[str, Any]) -> None:
    """The server's changes feed fails (a proxy's hiccup, a timeout on a poor signal) while uploads work: the
    download has not caught up, so the header must not say 已同步 until it has."""
    worker = logins["grid_workers"][1]
    page = context.new_page()
    page.set_default_timeout(60_000)  # a busy CI machine is slow, not broken
    page.route("**/sync/_changes*", lambda route: route.abort())
    sign_in_grid(page, gateway, worker)
    deadline = time.monotonic() + 5  # the push has long been idle by then: it has nothing to send
    while time.monotonic() < deadline:
        assert page.get_attribute("[data-sync-state]", "data-sync-state") != "synced"
        time.sleep(0.1)
    page.unroute("**/sync/_changes*")
    context.set_offline(True)  # back into signal: the app starts again at once instead of after its back-off
    context.set_offline(False)
    page.wait_for_selector("[data-sync-state=synced]")
    assert_complete_list(page, worker)


def test_a_server_that_does_not_answer_is_not_shown_as_no_signal(
    gateway: Gateway, context: Any, logins: dict[str, Any]
) -> None:
    """The phone has a network but the gateway is down: the header says it cannot reach the server (连不上服务器),
    which a grid worker can report, not 离线, which would send them looking for signal."""
    worker = logins["grid_workers"][0]
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(f"{gateway.url}/login?role=grid")
    sign_in_grid(page, gateway, worker)
    page.wait_for_selector('[data-sync-state="synced"]')
    gateway.stop()
    page.wait_for_function(
        "(e => e.dataset.syncState === 'offline' && e.textContent.startsWith('连不上服务器'))"
        "(document.querySelector('[data-sync-state]'))",
        timeout=90_000,
    )
    gateway.start()  # the same folder and port: the phone goes on by itself
    page.wait_for_selector('[data-sync-state="synced"]', timeout=90_000)


# Kept in the page from its first script on: the header's chip each time it, the path or the list changes (a
# mutation, or a frame: what a paint could show), so a state shown for a moment between two polls is not missed.
RECORD_HEADER = """
(() => {
  const seen = [];
  window.__headerSeen = seen;
  const note = () => {
    const chip = document.getElementById('sync-status');
    if (!chip) return;
    const now = {
      at: Math.round(performance.now()), path: location.pathname, text: chip.textContent,
      state: chip.dataset.syncState || '', shown: !chip.hidden, shops: document.querySelectorAll('a.g-shop').length,
      list: document.querySelector('.g-shops')?.textContent || '',
    };
    const last = seen[seen.length - 1];
    if (!last || ['path', 'text', 'state', 'shown', 'shops', 'list'].some((k) => last[k] !== now[k])) seen.push(now);
  };
  const all = { subtree: true, childList: true, characterData: true, attributes: true };
  new MutationObserver(note).observe(document, all);
  const frame = () => { note(); requestAnimationFrame(frame); };
  requestAnimationFrame(frame);
})();
"""


def test_the_header_never_says_synced_before_the_first_download(
    gateway: Gateway, context: Any, logins: dict[str, Any]
) -> None:
    """Right after a first sign-in nothing has been downloaded: from the first paint of the shop list the header
    says it is downloading until the grid is there, never 已同步 over an empty list (it did for about a second: the
    list redraws at most once a second while batches arrive), and the empty list says the shops are on their way."""
    worker = logins["grid_workers"][2]
    context.add_init_script(RECORD_HEADER)
    page = context.new_page()
    page.set_default_timeout(60_000)
    sign_in_grid(page, gateway, worker)
    page.wait_for_selector("[data-sync-state=synced]")
    assert_complete_list(page, worker)
    seen: list[dict[str, Any]] = page.evaluate("window.__headerSeen")
    shown = [s for s in seen if s["path"].startswith("/grid") and s["shown"]]
    assert shown and shown[0]["state"] == "pulling" and shown[0]["text"].startswith("正在下载"), shown[:5]
    early = [s for s in shown if s["text"] == "已同步" and s["shops"] == 0]
    assert not early, f"已同步 over an empty list: {early[:3]} in {shown[:8]}"
    empty = [s for s in shown if s["shops"] == 0 and s["list"]]
    assert empty and all(s["list"] == "正在下载你负责的店铺…" for s in empty), empty[:5]
