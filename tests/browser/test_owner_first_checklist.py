"""An owner's first sign-in on a phone that has not downloaded the checklist yet: the check screen says so, and
shows the checklist as soon as the download brings it, without the owner doing anything."""

from __future__ import annotations

from typing import Any

from tests.browser.field import sign_in_owner
from tests.gateway import Gateway


def test_the_check_screen_waits_for_the_checklist_the_first_download_brings(
    gateway: Gateway, context: Any, logins: dict[str, Any]
) -> None:
    page = context.new_page()
    page.set_default_timeout(60_000)  # a busy CI machine is slow, not broken
    held = [True]
    page.route("**/sync/_changes*", lambda route: route.abort() if held[0] else route.continue_())
    sign_in_owner(page, gateway, logins["owners"][2])
    page.click("[data-action=check]")
    page.wait_for_selector("text=本机还没有检查表")
    assert page.locator("input[name=open_flame]").count() == 0
    held[0] = False  # the signal comes back: the download brings the checklist
    page.wait_for_selector("input[name=open_flame]")
    assert page.locator("text=本机还没有检查表").count() == 0
