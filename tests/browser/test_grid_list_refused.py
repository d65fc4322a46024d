"""A patrol the server refuses while the grid worker is on the list, in a real Chromium. The phone's clock runs a day
ahead: the worker submits a patrol and is back on the list, which says the shop was patrolled; a moment later the
server refuses the patrol. A refused patrol is no visit: the card must say the shop is still to patrol at once, not
after the next change of the phone's data (a refusal is kept in the phone's storage, not in its database, so no
change of the database redrew the list, and the shop risked going unvisited this month)."""

from __future__ import annotations

import time
from typing import Any

from tests.browser.field import sign_in_grid
from tests.gateway import Gateway


def test_the_list_shown_follows_a_refusal_of_its_patrol(gateway: Gateway, context: Any, logins: dict[str, Any]) -> None:
    worker = logins["grid_workers"][0]
    context.clock.install(time=time.time() + 86_400)
    page = context.new_page()
    page.set_default_timeout(60_000)
    sign_in_grid(page, gateway, worker)
    code = worker["shops"][0]
    card = f'a.g-shop[data-shop="{code}"]'
    page.wait_for_selector(f'{card} [data-due="patrol"]')
    page.wait_for_selector('[data-sync-state="synced"]')
    page.click(card)
    page.click('a[data-action="patrol"]')
    page.wait_for_selector('form.g-patrol fieldset[data-item="open_flame"]')
    page.check('input[name="open_flame"][value="false"]')
    page.click('form.g-patrol button[type="submit"]')
    page.wait_for_selector("[data-flash]")
    page.wait_for_selector(f'{card} [data-due="patrolled"]')  # written on the phone: a visit, for now

    page.wait_for_function("Number(document.querySelector('#sync-status').dataset.refused) >= 1")
    # Still on the list, nothing written since: the card follows the refusal.
    page.wait_for_selector(f'{card} [data-due="patrol"]', timeout=10_000)
    assert page.locator(f'{card} [data-due="patrolled"]').count() == 0
