"""A self-check half filled in when the tab is killed: after the reload (offline) the answers and the photo
are still there. (Clearing the draft on submit is pinned by pwa/tests/checklist.test.ts.)"""

from __future__ import annotations

from typing import Any

from tests.browser.field import sign_in_owner, wait_controlled
from tests.browser.test_owner_offline import camera_jpeg
from tests.gateway import Gateway


def test_a_half_filled_self_check_survives_a_reload(gateway: Gateway, context: Any, logins: dict[str, Any]) -> None:
    owner = logins["owners"][4]
    page = context.new_page()
    sign_in_owner(page, gateway, owner)
    page.click("[data-action=check]")
    page.wait_for_selector("input[name=open_flame]", timeout=30_000)
    wait_controlled(page)

    context.set_offline(True)
    page.check("input[name=open_flame][value=false]")
    page.check("input[name=escape_route][value=false]")
    page.fill("input[name=sleeping_people]", "2")
    page.set_input_files(
        "[data-photo-for=escape_route]",
        files=[{"name": "exit.jpg", "mimeType": "image/jpeg", "buffer": camera_jpeg(1200, 900)}],
    )
    page.wait_for_selector("[data-item=escape_route] img[data-photo]", timeout=20_000)
    page.wait_for_timeout(600)  # the draft is written a moment after the last change
    page.reload()

    page.wait_for_selector("input[name=open_flame]", timeout=20_000)
    assert "已恢复" in page.inner_text("[data-form=self-check]")
    assert page.is_checked("input[name=open_flame][value=false]")
    assert page.is_checked("input[name=escape_route][value=false]")
    assert page.input_value("input[name=sleeping_people]") == "2"
    page.wait_for_selector("[data-item=escape_route] img[data-photo][src^='blob:']")
    # The escape route answer is a hazard: the item says so.
    assert "hazard" in (page.get_attribute("[data-item=escape_route]", "class") or "")

    # Back to the home with the screen's own link (an installed app has no browser bar), and in again: the
    # answers wait there too.
    page.click("[data-action=back]")
    page.wait_for_selector("[data-owner-home]", timeout=20_000)
    page.click("[data-action=check]")
    page.wait_for_selector("input[name=open_flame]", timeout=20_000)
    assert page.is_checked("input[name=escape_route][value=false]")
    assert page.input_value("input[name=sleeping_people]") == "2"
