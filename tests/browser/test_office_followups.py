"""The black list's follow-up in a real Chromium on the demo district: the office opens a month of the red/black list,
records a talk (约谈) with a black-listed shop's owner from the shop's row, sees the row and the month's figure say
so, and sees it again after a reload (a new sign-in: the office token lives in memory only); the shop's e-file shows
it in the timeline."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from tests.browser.office import DESKTOP, follow, office_headers, office_page, settle
from tests.gateway import Gateway


def _month_with_a_black_list(gateway: Gateway, office: dict[str, str]) -> str:
    """A month whose snapshot has a black list, a past one first (the current month's is re-ranked as scores move)."""
    deadline = time.monotonic() + 60
    while True:
        months = httpx.get(f"{gateway.url}/api/office/rankings", headers=office).json()["months"]
        listed = [m["month"] for m in months if m["black"]]
        if listed:
            return str(listed[1] if len(listed) > 1 else listed[0])
        assert time.monotonic() < deadline, f"no black list: {months}"
        time.sleep(0.5)


def test_the_office_records_a_talk_with_a_black_listed_shop_and_sees_it_after_a_reload(
    gateway: Gateway, browser: Any, logins: dict[str, Any]
) -> None:
    office = office_headers(gateway, logins)
    month = _month_with_a_black_list(gateway, office)
    before = httpx.get(f"{gateway.url}/api/office/rankings/{month}/followups", headers=office).json()
    assert before["counts"]["talked"] == 0 and before["counts"]["black"] >= 1
    page = office_page(browser, gateway, logins)
    follow(page, f"/office/ranking?month={month}")
    settle(page)
    figure = page.locator("[data-followups-counts]")
    assert figure.get_attribute("data-talked") == "0"
    assert f"黑榜 {before['counts']['black']} 家：已约谈 0" in figure.inner_text()

    row = page.locator("[data-ranking=black] tbody tr").first
    shop = row.get_attribute("data-shop")
    cell = page.locator(f"[data-ranking=black] [data-followup={shop}]")
    assert cell.get_attribute("data-talked") == "false" and "未约谈" in cell.inner_text()
    # On a 1024 px desk too the follow-up column (记录跟进) is on screen beside each black-listed shop: the red and
    # black lists stack there, rather than hide it past the panel's edge, to be scrolled to sideways under 75 rows.
    page.set_viewport_size({"width": 1024, "height": 768})
    black = page.locator("[data-ranking=black] >> xpath=..")
    assert black.evaluate("wrap => wrap.scrollWidth <= wrap.clientWidth"), "the black list scrolls sideways at 1024 px"
    page.set_viewport_size(DESKTOP)
    cell.locator("[data-action=followup]").click()
    form = page.locator(f"[data-form=followup][data-shop={shop}]")
    day = form.locator("input[name=on]").input_value()  # today, as the form offers it
    form.locator("input[name=talked_to]").fill("店主王某")
    form.locator("input[name=by]").fill("安监所张丽")
    form.locator("input[name=note]").fill("已签整改承诺书")
    form.locator("button[type=submit]").click()
    page.wait_for_selector(f"[data-ranking=black] [data-followup={shop}][data-talked=true]")
    assert f"已约谈 {day[5:]}" in page.locator(f"[data-ranking=black] [data-followup={shop}]").inner_text()
    assert page.locator("[data-followups-counts]").get_attribute("data-talked") == "1"

    # The server has it, with who recorded it; a reload (a new sign-in) shows it again.
    [item] = [
        i
        for i in httpx.get(f"{gateway.url}/api/office/rankings/{month}/followups", headers=office).json()["items"]
        if i["shop"] == shop
    ]
    assert item["followup"]["talk"]["talked_to"] == "店主王某" and item["followup"]["talk"]["on"] == day
    page.reload()
    page.fill("[data-form=office-signin] input[name=username]", logins["office"][0]["username"])
    page.fill("[data-form=office-signin] input[name=password]", logins["office"][0]["password"])
    page.click("[data-form=office-signin] button[type=submit]")
    page.wait_for_selector(".office-nav")
    settle(page)
    page.wait_for_selector(f"[data-ranking=black] [data-followup={shop}][data-talked=true]")
    assert f"已约谈 {day[5:]}" in page.locator(f"[data-ranking=black] [data-followup={shop}]").inner_text()
    assert "已约谈 1" in page.locator("[data-followups-counts]").inner_text()

    # The shop's e-file lists the talk in its timeline.
    follow(page, f"/office/shops/{shop}")
    settle(page)
    entry = page.locator("[data-timeline] li[data-kind=followup]")
    assert entry.count() == 1 and "店主王某" in entry.inner_text() and "约谈" in entry.inner_text()
    page.context.close()


def test_the_running_months_working_groups_say_they_are_last_months(
    gateway: Gateway, browser: Any, logins: dict[str, Any]
) -> None:
    """The month still running flags the shops its last month's final lists flagged: its working-group table says so
    (a finished month's says nothing), so the office does not read this month's black list into it."""
    office = office_headers(gateway, logins)
    months = [m["month"] for m in httpx.get(f"{gateway.url}/api/office/rankings", headers=office).json()["months"]]
    current = datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m")
    assert months[0] == current and len(months) > 1, months
    page = office_page(browser, gateway, logins)
    follow(page, f"/office/ranking?month={current}")
    settle(page)
    assert "沿用上月" in page.locator("[data-group-basis=last-month]").inner_text()
    follow(page, f"/office/ranking?month={months[1]}")
    settle(page)
    page.wait_for_selector("[data-ranking=red] tbody tr")  # the month's tables are drawn
    assert page.locator("[data-group-basis]").count() == 0
    page.context.close()
