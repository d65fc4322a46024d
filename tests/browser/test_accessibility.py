"""Accessibility of the key screens in a real Chromium: axe-core (pwa's devDependency) finds no serious or critical
violation of the WCAG 2 A/AA rules on the public card, the owner's weekly self-check, the grid worker's patrol form
and the office's overview; and the checklist's yes/no answers work from the keyboard, with the hazard said in words."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.field import sign_in_grid, sign_in_owner
from tests.browser.office import office_page, settle
from tests.gateway import ROOT, Gateway

AXE = ROOT / "pwa" / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def serious_violations(page: Any) -> list[str]:
    """axe's serious and critical violations on the page as it is, one line each (rule, element, why)."""
    if not AXE.exists():
        pytest.fail("axe-core is missing from pwa/node_modules: run `make install`.")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    found = page.evaluate("(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags}})", TAGS)
    return [
        f"{v['id']} ({v['impact']}): {node['target']} {node.get('failureSummary', '')}"
        for v in found["violations"]
        if v["impact"] in ("serious", "critical")
        for node in v["nodes"]
    ]


def test_the_owners_screens_pass_axe_and_the_checklist_works_by_keyboard(
    gateway: Gateway, context: Any, logins: dict[str, Any]
) -> None:
    page = context.new_page()
    page.set_default_timeout(60_000)  # a busy CI machine is slow, not broken
    owner = logins["owners"][0]
    page.goto(f"{gateway.url}/s/{owner['shop']}")
    page.wait_for_selector("input[name=pin]")
    page.click("details.activation summary")  # the activation form too
    page.wait_for_selector("input[name=code]")
    assert serious_violations(page) == []

    sign_in_owner(page, gateway, owner)
    page.click("[data-action=check]")
    page.wait_for_selector("input[name=open_flame]")
    assert serious_violations(page) == []

    # The first answer by keyboard: Tab reaches it, Space picks 是, an arrow moves to 否.
    page.focus("input[name=gps]")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == "open_flame"
    page.keyboard.press("Space")
    assert page.locator("input[name=open_flame]:checked").get_attribute("value") == "true"
    # An open flame is a hazard: said in words, not by the red border alone.
    mark = page.locator("fieldset[data-item=open_flame] [data-hazard-mark]")
    assert mark.is_visible() and "隐患" in mark.inner_text()
    page.keyboard.press("ArrowRight")
    assert page.locator("input[name=open_flame]:checked").get_attribute("value") == "false"
    assert mark.is_hidden()
    assert serious_violations(page) == []


def test_the_grid_workers_patrol_form_passes_axe(gateway: Gateway, context: Any, logins: dict[str, Any]) -> None:
    page = context.new_page()
    page.set_default_timeout(60_000)
    worker = logins["grid_workers"][0]
    sign_in_grid(page, gateway, worker)
    code = worker["shops"][0]
    page.click(f'a.g-shop[data-shop="{code}"]')
    page.wait_for_selector(f'[data-shop="{code}"] [data-shop-name]')
    page.click('a[data-action="patrol"]')
    page.wait_for_selector('form.g-patrol fieldset[data-item="open_flame"]')
    page.check('input[name="open_flame"][value="true"]')  # with a finding's severity, deadline and note open
    page.wait_for_selector('[data-finding-for="open_flame"] select[name="severity-open_flame"]')
    assert serious_violations(page) == []


def test_the_office_overview_passes_axe(gateway: Gateway, browser: Any, logins: dict[str, Any]) -> None:
    page = office_page(browser, gateway, logins, "/office")
    page.set_viewport_size({"width": 1366, "height": 768})
    settle(page)
    try:
        assert serious_violations(page) == []
    finally:
        page.context.close()
