"""The header right after a submit, online: the owner's self-check is written on the phone and the home shows it
done, but the server has not taken it yet. The header must say it waits (待上传) from that moment, never 已同步: the
offline promise is that the app always shows what waits. It used to count the new documents a moment later, so
已同步 from before the submit stood under a check that had not gone up."""

from __future__ import annotations

from typing import Any

from tests.browser.field import fill_weekly_check, sign_in_owner
from tests.browser.test_owner_offline import camera_jpeg
from tests.gateway import Gateway

# Kept on the page: resolves, the moment the home shows this week's check done, with what the header says then.
_HEADER_WHEN_DONE = """() => { window.headerWhenDone = new Promise((resolve) => {
  const read = () => {
    if (!document.querySelector('[data-owner-home] [data-week-done=true]')) return false;
    const header = document.querySelector('[data-sync-state]');
    resolve({ state: header.dataset.syncState, pending: Number(header.dataset.pending) });
    return true;
  };
  if (read()) return;
  const watch = new MutationObserver(() => { if (read()) watch.disconnect(); });
  watch.observe(document.body, { subtree: true, childList: true, attributes: true });
}); }"""


def test_the_header_counts_a_submitted_check_at_once(gateway: Gateway, context: Any, logins: dict[str, Any]) -> None:
    owner = logins["owners"][2]
    page = context.new_page()
    page.set_default_timeout(60_000)
    sign_in_owner(page, gateway, owner)
    page.click("[data-action=check]")
    page.wait_for_selector("input[name=open_flame]")
    page.wait_for_selector("[data-sync-state=synced][data-pending='0']")

    # The server takes nothing until the check is shown done: the push is held at `_bulk_docs`.
    held: list[Any] = []

    def hold(route: Any) -> None:
        held.append(route)

    page.route("**/sync/_bulk_docs", hold)
    fill_weekly_check(page, camera_jpeg(1200, 800))
    page.evaluate(_HEADER_WHEN_DONE)
    page.click("[data-form=self-check] button[type=submit]")
    header = page.evaluate("window.headerWhenDone")
    assert header["state"] == "pending", header
    assert header["pending"] >= 1, header

    # Released, the check and its two photos go up and the header says so. The push may start after the home shows
    # the check done (on a loaded machine it did): wait for it to reach the held route.
    for _ in range(600):
        if held:
            break
        page.wait_for_timeout(100)
    assert held, "the push was not held"
    for route in held:
        route.continue_()
    page.unroute("**/sync/_bulk_docs")
    page.wait_for_selector("[data-sync-state=synced][data-pending='0']")
