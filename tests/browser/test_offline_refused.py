"""A phone whose clock is a day ahead: the server refuses its self-check (performed_at in the future), and the
phone says so with the server's reason instead of pretending it synced or retrying forever. What was refused is
never on the server: the phone exports it with the reason, and keeps its photos past the 30 days it keeps uploaded
ones until the owner has seen the refusal."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from typing import Any

from tests.browser.field import sign_in_grid, sign_in_owner
from tests.browser.test_owner_offline import camera_jpeg
from tests.browser.test_owner_photos_kept import DAY, photo_databases
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
    # Said in the owner's words first: which record, and what to do.
    assert f"{shop} · 自查记录" in refused and "请把手机时间设为自动" in refused
    # A refused document no longer counts as waiting: nothing else is stuck. The open panel follows the count,
    # which the phone takes again a moment after each refusal.
    page.wait_for_selector("#sync-panel [data-pending-docs='0']", timeout=30_000)
    page.wait_for_selector("#sync-panel [data-pending-photos='0']", timeout=30_000)

    # The export holds what the server refused, with its reason: the check and both photos, inline.
    with page.expect_download() as download:
        page.click("#sync-panel [data-action=export]")
    exported = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    assert exported["docs"] == []  # nothing waits
    kinds = sorted(entry["doc"]["type"] for entry in exported["refused"])
    assert kinds == ["photo", "photo", "self_check"]
    assert all("clock" in entry["reason"] for entry in exported["refused"])
    photo = next(entry["doc"] for entry in exported["refused"] if entry["doc"]["type"] == "photo")
    assert base64.b64decode(photo["_attachments"]["photo.jpg"]["data"])[:2] == b"\xff\xd8"  # a JPEG
    page.keyboard.press("Escape")

    # Forty days on, the refused photos are older than the 30 days uploaded ones are kept: their database retires
    # (a new one takes the next photos) but stays, since the owner has not seen the refusal yet.
    context.clock.set_system_time(time.time() + 41 * DAY)
    page.reload()
    page.wait_for_selector("[data-owner-home]")
    deadline = time.monotonic() + 60
    while not any(name.startswith("_pouch_mashang-photos-") for name in photo_databases(page)):
        assert time.monotonic() < deadline, f"the photos' database did not retire: {photo_databases(page)}"
        time.sleep(0.2)
    time.sleep(2)  # the same pass would have destroyed it right after
    found = photo_databases(page)
    assert "_pouch_mashang-photos" in found, f"refused photos forgotten before the owner saw the refusal: {found}"
    page.click("#sync-status")
    assert page.locator("#sync-panel [data-photos-forgotten]").count() == 0
    assert "保留在本机" in page.inner_text("#sync-panel .refused")

    # Seen and dismissed: the phone is in sync again, and the refusal does not come back after a reload.
    page.click("#sync-panel [data-action=dismiss-refused]")
    page.wait_for_selector("[data-sync-state=synced]", timeout=30_000)
    page.reload()
    page.wait_for_selector("[data-owner-home]")
    page.wait_for_selector("[data-sync-state=synced]", timeout=30_000)
    # Now the refused photos are cleared like any others.
    deadline = time.monotonic() + 60
    while "_pouch_mashang-photos" in (found := photo_databases(page)):
        assert time.monotonic() < deadline, f"the refused photos were kept after the owner saw the refusal: {found}"
        time.sleep(0.2)
    page.click("#sync-status")
    assert page.get_attribute("#sync-panel [data-photos-forgotten]", "data-photos-forgotten") == "2"


def test_a_refused_patrol_is_no_visit_on_the_grid_workers_list(
    gateway: Gateway, context: Any, logins: dict[str, Any]
) -> None:
    """The phone's clock runs a day ahead: the server refuses the patrol. The list must not say the shop was patrolled
    this month (it would go unvisited): not the list shown when the refusal comes, nor the list opened again; and the
    e-file marks the record as refused. A refusal is kept in the phone's storage, not in its database, so no change
    of the database redraws the list shown: it follows the refused count."""
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
    # The notice and the card's 已巡查 last as long as the refusal takes to come back, which can be less than a
    # poll of the page's: what the page showed meanwhile is recorded as it changes.
    page.evaluate(
        """card => {
            const seen = (window.__seen = { flash: false, patrolled: false });
            const look = () => {
                seen.flash ||= !!document.querySelector('[data-flash]');
                seen.patrolled ||= !!document.querySelector(`${card} [data-due="patrolled"]`);
            };
            const all = { subtree: true, childList: true, attributes: true };
            new MutationObserver(look).observe(document.documentElement, all);
        }""",
        card,
    )
    page.click('form.g-patrol button[type="submit"]')
    # The notice of what was saved, and the card written on the phone: a visit, for now.
    page.wait_for_function("window.__seen.flash && window.__seen.patrolled")
    page.wait_for_function("Number(document.querySelector('#sync-status').dataset.refused) >= 1")
    # Still on the list, nothing written since: the card follows the refusal.
    page.wait_for_selector(f'{card} [data-due="patrol"]', timeout=10_000)
    assert page.locator(f'{card} [data-due="patrolled"]').count() == 0
    page.wait_for_selector("[data-flash]", state="detached")  # no 「巡查已上传」 for a patrol the server refused
    page.goto(f"{gateway.url}/grid")
    page.wait_for_selector(card)
    page.wait_for_selector(f'{card} [data-due="patrolled"]', state="detached")
    page.click(card)
    page.wait_for_selector('li.g-event[data-type="patrol"] [data-refused]')
