"""The grid worker's e-file of a shop on the phone, in a real Chromium: the latest records in view, the older ones
under one tap, which stays open while the e-file redraws for a record that arrives meanwhile."""

from __future__ import annotations

from typing import Any

import httpx

from tests.browser.field import sign_in_grid
from tests.browser.office import owners_self_check
from tests.browser.test_owner_rectify import owner_auth
from tests.gateway import Gateway
from tests.validators.served import self_check

RECENT = 10  # efile.ts's RECENT
RECORDS = "section.g-section:has(> [data-older]) > ul.g-list > li.g-event"
HISTORY = ("self_check", "patrol", "rectification", "verification")  # what the e-file's history lists


def _records(gateway: Gateway, shop: str) -> int:
    """How many records the e-file of `shop` lists, as the server holds them."""
    params = {"startkey": f'"{shop}:"', "endkey": f'"{shop}:\ufff0"'}
    with gateway.client() as client:
        answer = client.get("/sync/_all_docs", params=params)
    answer.raise_for_status()
    return sum(row["id"].split(":")[1] in HISTORY for row in answer.json()["rows"])


def _busy_shop(gateway: Gateway, worker: dict[str, Any], owners: list[dict[str, Any]]) -> dict[str, Any]:
    """The activated owner of the worker's busiest shop, with more records than the e-file shows at first: the
    demo's history is drawn anew each day, so the owner's phone sends older self-checks (made earlier today,
    offline until now) when the shop has too few."""
    mine = [owner for owner in owners if owner["shop"] in worker["shops"]]
    counts = {owner["shop"]: _records(gateway, owner["shop"]) for owner in mine}
    owner = max(mine, key=lambda o: counts[o["shop"]])
    missing = RECENT + 3 - counts[owner["shop"]]
    if missing > 0:
        checks = [self_check(owner["shop"], minutes_ago=30 + 5 * n) for n in range(missing)]
        answer = httpx.post(
            f"{gateway.url}/sync/_bulk_docs", headers=owner_auth(gateway, owner), json={"docs": checks}, timeout=30
        )
        assert answer.status_code == 201 and all(row.get("ok") for row in answer.json()), answer.text
    assert _records(gateway, owner["shop"]) > RECENT
    return owner


def test_older_records_are_one_tap_away_and_stay_open(gateway: Gateway, context: Any, logins: dict[str, Any]) -> None:
    worker = logins["grid_workers"][0]
    owner = _busy_shop(gateway, worker, logins["owners"])
    shop = owner["shop"]
    page = context.new_page()
    page.set_default_timeout(60_000)
    sign_in_grid(page, gateway, worker)
    page.wait_for_selector(f'a.g-shop[data-shop="{shop}"]')
    page.click(f'a.g-shop[data-shop="{shop}"]')
    older = page.locator("[data-older]")
    older.wait_for()
    assert page.locator(RECORDS).count() == RECENT
    hidden = older.locator("li.g-event").count()
    assert hidden > 0 and older.locator("summary").inner_text() == f"更早的记录 {hidden} 条"
    assert not older.locator("li.g-event").first.is_visible()
    older.locator("summary").click()
    assert older.locator("li.g-event").first.is_visible()

    # The owner's self-check of today reaches the phone: the e-file redraws with it on top, the older ones still open.
    check = owners_self_check(gateway, owner)
    page.wait_for_selector(f"{RECORDS}[data-event='{check['_id']}']")
    page.wait_for_function("n => document.querySelectorAll('[data-older] li.g-event').length === n", arg=hidden + 1)
    assert page.locator("[data-older]").evaluate("d => d.open")
    assert page.locator(RECORDS).count() == RECENT
