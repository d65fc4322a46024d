"""One sub-district's office (街道安监所) in a real Chromium on the demo district: the layout names its sub-district,
the district's rules and checklists are read-only with a line saying the district office edits them, no webhook
log is asked for, and the new-account form offers no choice of sub-district. The district's office, on the same
district, still edits the rules, is shown as the whole district, may file a new account under a sub-district, and
sees each account's sub-district in the users table."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from server.accounts import Accounts
from server.store.protocol import Store
from tests.browser.office import (
    demo_copy,
    grid_login,
    office_headers,
    open_screen,
    push_patrol,
    serious_patrol,
    settle,
    signed_in,
)
from tests.gateway import Gateway

SUBDISTRICT, SUBDISTRICT_NAME = "minglou", "明楼街道"  # the demo district's (server/demo/names.py)
SCOPED = {"username": "sun", "password": "sun-password", "name": "孙"}
SCREENS = ["", "alarms", "ranking", "shops", "workers", "sync", "registry", "rules", "rewards", "exports"]
SHOTS = os.environ.get("MASHANG_SHOTS")  # a folder to keep screenshots in (none: no screenshots)


async def _add_scoped_office(_store: Store, accounts: Accounts) -> None:
    """The sub-district's office account."""
    await accounts.create_staff("office", SCOPED["username"], SCOPED["password"], SCOPED["name"], SUBDISTRICT)


@pytest.fixture
def district(demo_district: Path, tmp_path: Path) -> Iterator[Gateway]:
    """A gateway on this test's own copy of the demo district, with an office account of its one sub-district."""
    data = demo_copy(demo_district, tmp_path / "data", _add_scoped_office)
    gw = Gateway(data).start()
    try:
        yield gw
    finally:
        gw.stop()


def shot(page: Any, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / name), full_page=True)


def test_a_sub_district_office_is_named_in_the_layout_and_reads_the_rules_only(district: Gateway, browser: Any) -> None:
    page = signed_in(browser, district, SCOPED["username"], SCOPED["password"])
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))

    # The layout names the sub-district the office serves, by its registry name.
    reach = page.locator(".office-side .office-reach")
    assert reach.get_attribute("data-reach") == "subdistrict"
    assert reach.get_attribute("data-subdistrict") == SUBDISTRICT
    page.wait_for_function(
        "(name) => document.querySelector('.office-reach').textContent === `本街道：${name}`", arg=SUBDISTRICT_NAME
    )
    settle(page)
    shot(page, "subdistrict-office-overview.png")

    # The rules and checklists: shown, read-only, with the line saying the district's office edits them.
    open_screen(page, "rules")
    page.locator("[data-form=rules] input").first.wait_for()
    notice = page.locator("[data-notice=district-only]")
    assert notice.is_visible()
    assert "区安监所" in notice.inner_text()
    assert page.locator("[data-form=rules] button[type=submit]").count() == 0
    assert page.locator("[data-form=rules] input:not([disabled])").count() == 0
    assert page.locator("[data-form=template]").count() >= 1
    assert page.locator("[data-form=template] button").count() == 0  # no save, add, remove or reorder
    editable = "[data-form=template] input:not([disabled]), [data-form=template] select:not([disabled])"
    assert page.locator(editable).count() == 0
    shot(page, "subdistrict-office-rules.png")

    # The new-account form offers no sub-district; the naming form names its own only.
    open_screen(page, "registry")
    page.locator("[data-form=user]").wait_for()
    assert page.locator("[data-form=user] select[name=subdistrict]").count() == 0
    code = page.locator("[data-form=subdistrict] input[name=code]")
    assert code.input_value() == SUBDISTRICT and code.get_attribute("readonly") is not None

    # Every screen: none asks for the webhook's delivery log (the district's own).
    for screen in SCREENS:
        open_screen(page, screen)
    assert not [url for url in asked if "/webhook" in url]
    assert page.locator("text=/webhook/i").count() == 0

    page.click("#lang-toggle")  # the same in English
    page.wait_for_function(
        "(name) => document.querySelector('.office-reach').textContent === `Sub-district: ${name}`",
        arg=SUBDISTRICT_NAME,
    )
    page.context.close()


def test_the_district_office_edits_the_rules_and_files_accounts_under_a_sub_district(
    district: Gateway, browser: Any, logins: dict[str, Any]
) -> None:
    office = logins["office"][0]
    page = signed_in(browser, district, office["username"], office["password"], "/office/rules")
    reach = page.locator(".office-side .office-reach")
    assert (reach.get_attribute("data-reach"), reach.inner_text()) == ("district", "全区")

    settle(page)
    page.locator("[data-form=rules] input").first.wait_for()
    assert page.locator("[data-notice=district-only]").count() == 0
    assert page.locator("[data-form=rules] button[type=submit]").is_enabled()
    assert page.locator("[data-form=rules] input[name='hazard_cost.general']").is_editable()

    # The users table names each account's sub-district; a new one may be filed under one.
    open_screen(page, "registry")
    row = page.locator(f"[data-table=users] tr[data-user='office:{SCOPED['username']}']")
    row.wait_for()
    assert SUBDISTRICT_NAME in row.inner_text()
    chooser = page.locator("[data-form=user] select[name=subdistrict]")
    assert chooser.locator(f"option[value={SUBDISTRICT}]").inner_text() == SUBDISTRICT_NAME
    f = page.locator("[data-form=user]")
    # An office account under none (the district's: its reach stays district-wide) unless chosen; a grid worker under
    # the district's only sub-district (the demo has one).
    f.locator("[name=role]").select_option("office")
    assert chooser.input_value() == ""
    f.locator("[name=role]").select_option("grid")
    assert chooser.input_value() == SUBDISTRICT
    f.locator("[name=username]").fill("xiaoli")
    f.locator("[name=name]").fill("小李")
    f.locator("[name=password]").fill("xiaoli-password")
    with page.expect_request(lambda r: r.url.endswith("/api/office/users") and r.method == "POST") as sent:
        f.locator("button[type=submit]").click()
    assert sent.value.post_data_json == {
        "role": "grid",
        "username": "xiaoli",
        "name": "小李",
        "password": "xiaoli-password",
        "subdistrict": SUBDISTRICT,
    }
    f.locator(".form-status.ok").wait_for()
    page.locator("[data-table=users] tr[data-user='grid:xiaoli']").wait_for()
    shot(page, "district-office-registry.png")
    page.context.close()


def test_a_sub_district_office_sees_the_district_offices_steps_by_name(
    district: Gateway, browser: Any, logins: dict[str, Any]
) -> None:
    """The district's office acknowledges an alarm of the sub-district: the sub-district's desk names who did it."""
    office = office_headers(district, logins)
    grid, grid_user, shop = grid_login(district, logins)
    patrol = serious_patrol(shop, grid_user)
    alarm_id = push_patrol(district, grid, patrol)
    for _ in range(100):  # the validators raise it within moments
        if httpx.get(f"{district.url}/api/office/alarms/{alarm_id}", headers=office, timeout=30).is_success:
            break
        time.sleep(0.2)
    acked = httpx.post(f"{district.url}/api/office/alarms/{alarm_id}/ack", headers=office, json={}, timeout=30)
    assert acked.status_code == 200, acked.text
    by = f"office:{logins['office'][0]['username']}"
    names = httpx.get(f"{district.url}/api/office/users?role=office", headers=office, timeout=30).json()["items"]
    name = next(user["name"] for user in names if user["id"] == by)

    page = signed_in(browser, district, SCOPED["username"], SCOPED["password"], "/office/alarms")
    step = page.locator(f'[data-alarm-id="{alarm_id}"] .history li[data-step=acknowledged]')
    step.wait_for(timeout=20_000)
    assert name in step.inner_text() and by not in step.inner_text()
