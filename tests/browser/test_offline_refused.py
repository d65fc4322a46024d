"""A phone whose clock is a day ahead: the server refuses its self-check (performed_at in the future), and the
phone says so with the server's reason instead of pretending it synced or retrying forever."""

from __future__ import annotations

import time
from typing import Any

from tests.browser.field import sign_in_owner
from tests.browser.test_owner_offline import camera_jpeg
from tests.gateway import Gateway

ANSWERS = {
    "open_flame": "false",
    "three_in_one": "false",
    "escape_route": "true",
    "extinguisher_present": "true",
    "extinguisher_valid": "true",
    "rcd_installed": "true",
    "ebike_indoor_charging": "false",
    "gas_safe": "true",
    "wiring_ok": "true",
}


def test_a_refused_self_check_is_shown_with_the_servers_reason(
    gateway: Gateway, context: Any, logins: dict[str, Any]
) -> None:
    owner = logins["owners"][1]
    shop = owner["shop"]
    context.clock.install(time=time.time() + 86_400)
    page = context.new_page()
    sign_in_owner(page, gateway, owner)
    page.click("[data-action=check]")
    page.wait_for_selector("input[name=open_flame]", timeout=30_000)
    for item, value in ANSWERS.items():
        page.check(f"input[name={item}][value={value}]")
    page.fill("input[name=sleeping_people]", "0")
    # Photos are required for two items; a note-free check without them never leaves the form.
    page.click("[data-form=self-check] button[type=submit]")
    page.wait_for_selector("[data-form=self-check] .problems")
    assert "须拍照" in page.inner_text("[data-form=self-check] .problems")
    picture = camera_jpeg(800, 600)
    for item in ("extinguisher_valid", "gas_safe"):
        page.set_input_files(
            f"[data-photo-for={item}]", files=[{"name": f"{item}.jpg", "mimeType": "image/jpeg", "buffer": picture}]
        )
        page.wait_for_selector(f"[data-item={item}] img[data-photo]", timeout=20_000)
    page.click("[data-form=self-check] button[type=submit]")
    page.wait_for_selector("[data-owner-home]")

    page.wait_for_selector("[data-sync-state=error]", timeout=60_000)
    # The check and its two photos all carry the wrong time: all three come back refused.
    page.wait_for_selector("#sync-status[data-refused='3']", timeout=60_000)
    page.click("#sync-status")
    page.wait_for_selector("#sync-panel [data-refused-id]")
    refused = page.inner_text("#sync-panel .refused")
    assert f"{shop}:self_check:" in refused and "clock" in refused
    # A refused document no longer counts as waiting: nothing else is stuck. The open panel follows the count,
    # which the phone takes again a moment after each refusal.
    page.wait_for_selector("#sync-panel [data-pending-docs='0']", timeout=10_000)
    page.wait_for_selector("#sync-panel [data-pending-photos='0']", timeout=10_000)

    # Seen and dismissed: the phone is in sync again, and the refusal does not come back after a reload.
    page.click("#sync-panel [data-action=dismiss-refused]")
    page.wait_for_selector("[data-sync-state=synced]", timeout=30_000)
    page.reload()
    page.wait_for_selector("[data-owner-home]")
    page.wait_for_selector("[data-sync-state=synced]", timeout=30_000)
