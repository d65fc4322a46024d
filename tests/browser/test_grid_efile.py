"""The grid worker's e-file of a shop on the phone, in a real Chromium: the latest records in view, the older ones
under one tap, which stays open while the e-file redraws for a record that arrives meanwhile."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from tests.browser.field import sign_in_grid
from tests.gateway import Gateway
from tests.validators.builders import PHOTO, self_check

RECENT = 10  # efile.ts's RECENT
RECORDS = "section.g-section:has(> [data-older]) > ul.g-list > li.g-event"


def test_older_records_are_one_tap_away_and_stay_open(gateway: Gateway, context: Any, logins: dict[str, Any]) -> None:
    worker = logins["grid_workers"][0]
    shop = "S0001"  # fifteen records in the browser tests' demo district
    assert shop in worker["shops"]
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
    pin = next(o["pin"] for o in logins["owners"] if o["shop"] == shop)
    token = httpx.post(f"{gateway.url}/api/auth/owner", json={"shop": shop, "pin": pin}, timeout=30).json()["token"]
    check = self_check(datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M"))
    check["answers"]["extinguisher_valid"]["photos"] = [PHOTO]  # the demo's checklist asks for this photo too
    answer = httpx.post(
        f"{gateway.url}/sync/_bulk_docs", headers={"Authorization": f"Bearer {token}"}, json={"docs": [check]}
    ).json()
    assert answer[0].get("ok"), answer
    page.wait_for_selector(f"{RECORDS}[data-event='{check['_id']}']")
    page.wait_for_function("n => document.querySelectorAll('[data-older] li.g-event').length === n", arg=hidden + 1)
    assert page.locator("[data-older]").evaluate("d => d.open")
    assert page.locator(RECORDS).count() == RECENT
