"""The grid worker's list left open while the day turns, in a real Chromium: a shop patrolled this month is due again
on the first of the next (and its hazards' deadlines have passed). The list works out what is due on the day it
draws; it drew only when the phone's data changed, so a list left open overnight (offline, nothing comes) kept
saying 本月已巡 in the new month."""

from __future__ import annotations

import time
from typing import Any

from tests.browser.field import sign_in_grid
from tests.browser.test_grid_city_list import _self_checked
from tests.gateway import Gateway

DAY = 86_400
# The local database's latest sequence: what the server worked out of a patrol (its score, its hazards) comes down a
# moment after it, and each arrival redraws the list (for the day of that drawing).
LAST_SEQ = """() => new Promise((resolve) => {
  const open = indexedDB.open('_pouch_mashang');
  open.onsuccess = () => {
    const last = open.result.transaction('by-sequence').objectStore('by-sequence').openCursor(null, 'prev');
    last.onsuccess = () => resolve(last.result ? last.result.key : 0);
  };
})"""


def _settled(page: Any) -> int:
    """Once nothing has come down for a while (the server works a patrol out ~5 s after it): the latest sequence."""
    deadline = time.monotonic() + 60
    last, since = None, time.monotonic()
    while time.monotonic() < deadline:
        seq = page.evaluate(LAST_SEQ)
        if seq != last:
            last, since = seq, time.monotonic()
        elif time.monotonic() - since > 8:
            return int(seq)
        page.wait_for_timeout(250)
    raise AssertionError("the phone's data never settled")


def test_the_list_left_open_follows_the_turn_of_the_month(
    gateway: Gateway, context: Any, logins: dict[str, Any]
) -> None:
    worker = logins["grid_workers"][0]
    context.clock.install(time=time.time())
    page = context.new_page()
    page.set_default_timeout(60_000)
    sign_in_grid(page, gateway, worker)
    page.wait_for_selector('[data-sync-state="synced"]', timeout=90_000)
    page.wait_for_selector("a.g-shop")
    due = page.eval_on_selector_all("a.g-shop:has([data-due=patrol])", "links => links.map((a) => a.dataset.shop)")
    code = _self_checked(gateway, due)
    card = f'a.g-shop[data-shop="{code}"]'
    page.click(card)
    page.click('a[data-action="patrol"]')
    page.wait_for_selector('form.g-patrol fieldset[data-item="open_flame"]')
    page.click('form.g-patrol button[type="submit"]')
    page.wait_for_selector(f'{card} [data-due="patrolled"]')
    page.wait_for_selector('[data-sync-state="synced"][data-pending="0"]', timeout=60_000)
    seq = _settled(page)
    done = page.inner_text("[data-progress]")

    # A month later, nothing has arrived (nothing was written anywhere), and the worker looks at the list again.
    context.clock.set_system_time(time.time() + 31 * DAY)
    page.wait_for_timeout(3000)
    assert page.evaluate(LAST_SEQ) == seq and page.locator(f'{card} [data-due="patrolled"]').count() == 1, (
        "something came down and redrew the list: this tests nothing"
    )
    page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")  # the worker turns to the phone again
    page.wait_for_selector(f'{card} [data-due="patrol"]', timeout=10_000)
    assert page.locator(f'{card} [data-due="patrolled"]').count() == 0
    # Patrolled last month: this month's patrol is due, none was missed (not 逾期未巡查, as the office counts it).
    assert page.locator(f"{card} [data-overdue]").count() == 0
    assert page.inner_text(f'{card} [data-due="patrol"]') == "本月未巡查"
    assert page.inner_text("[data-progress]") != done
    assert page.inner_text("[data-progress]").startswith("本月已巡查 0/")
