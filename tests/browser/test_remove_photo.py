"""A photo taken in a form not sent can be taken out of it: a blurred or wrong picture is removed instead of going up
beside the right one. Removed, it is gone from the form (after a reload too), from the phone, and it never reaches
the server; the photos kept go up with the form."""

from __future__ import annotations

from typing import Any

import httpx

from tests.browser.field import fill_weekly_check, sign_in_owner, wait_true
from tests.browser.test_draft_photos import (
    DRAFT_PHOTOS,
    LIVE_DOCS,
    held_photos,
    open_flame_patrol,
    open_self_check,
    server_photos,
)
from tests.browser.test_grid_patrol import _camera_jpeg, _events
from tests.browser.test_owner_offline import camera_jpeg
from tests.browser.test_owner_photos_kept import server_doc
from tests.browser.test_owner_rectify import hazard_when_rectified, open_hazard, owner_auth
from tests.gateway import Gateway


def _held(page: Any, n: int) -> None:
    wait_true(page, f"async () => (await ({LIVE_DOCS})('{DRAFT_PHOTOS}')) === {n}")


def _remove(page: Any, photo: str) -> list[str]:
    """Click the photo's remove button and accept the question; the question asked."""
    asked: list[str] = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    page.click(f'[data-remove-photo="{photo}"]')
    page.wait_for_selector(f'[data-photo-thumb="{photo}"]', state="detached")
    return asked


def _thumbs(page: Any, scope: str) -> list[str]:
    return [str(t.get_attribute("data-photo-thumb")) for t in page.locator(f"{scope} [data-photo-thumb]").all()]


def test_an_owner_removes_a_wrong_photo_and_only_the_right_ones_go_up(
    gateway: Gateway, context: Any, logins: dict[str, Any]
) -> None:
    owner = logins["owners"][2]
    shop = owner["shop"]
    page = context.new_page()
    before = open_self_check(page, gateway, owner)
    for n, size in enumerate([(800, 600), (1000, 700)], start=1):
        page.set_input_files(
            "[data-photo-for=gas_safe]",
            files=[{"name": f"gas-{n}.jpg", "mimeType": "image/jpeg", "buffer": camera_jpeg(*size)}],
        )
        page.wait_for_function(f"document.querySelectorAll('[data-item=gas_safe] [data-photo-thumb]').length === {n}")
    wrong, kept = _thumbs(page, "[data-item=gas_safe]")
    _held(page, 2)

    asked = _remove(page, wrong)
    assert asked == ["删除这张照片？删除后不会上传。"]
    _held(page, 1)  # gone from the phone, not only from the form

    # The draft kept the removal: back in the form after a reload, only the right photo is there.
    page.reload()
    page.wait_for_selector(f"[data-item=gas_safe] [data-photo-thumb='{kept}'] img[src^='blob:']")
    assert _thumbs(page, "[data-item=gas_safe]") == [kept]

    picture = camera_jpeg(1200, 900)
    fill_weekly_check(page, picture)  # answers everything, one more photo for the gas and one for the extinguisher
    page.click("[data-form=self-check] button[type=submit]")
    page.wait_for_selector("[data-owner-home]")
    page.wait_for_selector("#sync-status[data-sync-state=synced][data-pending='0']")
    token = httpx.post(f"{gateway.url}/api/auth/owner", json={"shop": shop, "pin": owner["pin"]}).json()["token"]
    check = server_doc(gateway, {"Authorization": f"Bearer {token}"}, f"{shop}:self_check:")
    gas = check["answers"]["gas_safe"]["photos"]
    assert gas[0] == kept and wrong not in gas and len(gas) == 2
    referred = {p for answer in check["answers"].values() for p in answer.get("photos", [])}
    arrived = set(server_photos(gateway, shop)) - before
    assert referred == arrived and wrong not in arrived, (referred, arrived)
    assert held_photos(page) == 0


def test_a_grid_worker_removes_a_patrol_photo_after_a_reload_and_retakes_it(
    gateway: Gateway, context: Any, logins: dict[str, Any]
) -> None:
    page = context.new_page()
    serious, before = open_flame_patrol(page, gateway, logins["grid_workers"][0])
    page.fill('textarea[name="note-open_flame"]', "阁楼住人处使用煤气灶做饭")
    flame = '[data-item="open_flame"]'
    page.set_input_files('input[data-photo-for="open_flame"]', files=[_photo()])
    page.wait_for_selector(f"{flame} [data-photo-thumb]")
    (wrong,) = _thumbs(page, flame)

    # An other problem with a photo, then the problem removed: its photo leaves the phone with it.
    page.click('[data-action="add-other"]')
    page.set_input_files('input[data-photo-for="other-1"]', files=[_photo()])
    page.wait_for_selector('[data-finding-for="other-1"] [data-photo-thumb]')
    _held(page, 2)
    page.click('[data-finding-for="other-1"] [data-action="remove-other"]')
    _held(page, 1)
    page.wait_for_timeout(800)  # the draft is saved a moment after the last change

    # After a reload the photo taken before it is in the form, and it can be removed there too.
    page.reload()
    page.wait_for_selector(f"{flame} [data-photo-thumb='{wrong}']")
    assert _remove(page, wrong) == ["删除这张照片？删除后不会上传。"]
    _held(page, 0)
    page.set_input_files('input[data-photo-for="open_flame"]', files=[_photo()])
    page.wait_for_selector(f"{flame} [data-photo-thumb]")
    (retaken,) = _thumbs(page, flame)
    assert retaken != wrong

    page.click('button[type="submit"]')
    page.wait_for_selector("[data-flash]")
    page.wait_for_selector('[data-sync-state="synced"][data-pending="0"]')
    patrols = [
        d
        for d in _events(gateway, serious)
        if d.get("type") == "patrol" and any(f.get("item") == "open_flame" for f in d.get("findings", []))
    ]
    assert len(patrols) == 1, patrols
    (finding,) = [f for f in patrols[0]["findings"] if f["item"] == "open_flame"]
    assert finding["photos"] == [retaken]
    # The header may still say 已同步 from before the submit for a moment (its count follows the push ledgers'
    # recount): wait for the photo, which goes up after the text, on the server itself.
    for _ in range(120):
        if retaken in server_photos(gateway, serious):
            break
        page.wait_for_timeout(500)
    page.wait_for_selector('[data-sync-state="synced"][data-pending="0"]')
    assert set(server_photos(gateway, serious)) - before == {retaken}
    # Online all along: never 「联网后自动上传」; once up, the list says the alarm is on its way
    # (巡查已上传，报警即将送达安监所, as the e-file), then, once the server's alarm is on the phone, that the office
    # was alarmed, as the form promised.
    page.wait_for_selector('[data-flash][data-saved="answered"]')
    assert page.inner_text("[data-flash]") == "巡查已上传，已向安监所报警。"
    assert held_photos(page) == 0


def _photo() -> dict[str, Any]:
    return {"name": "flame.jpg", "mimeType": "image/jpeg", "buffer": _camera_jpeg()}


def test_an_owner_removes_a_rectification_photo_before_sending_it(
    gateway: Gateway, context: Any, logins: dict[str, Any]
) -> None:
    owner, hazard = open_hazard(gateway, logins)
    shop = owner["shop"]
    before = set(server_photos(gateway, shop))
    page = context.new_page()
    page.set_default_timeout(60_000)
    sign_in_owner(page, gateway, owner)
    page.locator(f"[data-hazard='{hazard['_id']}'] a").click()
    form = "[data-form=rectification]"
    page.wait_for_selector(form)
    for n in (1, 2):
        page.set_input_files(
            "[data-photo-for=rectification]",
            files=[{"name": f"fixed-{n}.jpg", "mimeType": "image/jpeg", "buffer": camera_jpeg(900 + n, 700)}],
        )
        page.wait_for_function(f"document.querySelectorAll('{form} [data-photo-thumb]').length === {n}")
    wrong, kept = _thumbs(page, form)
    _remove(page, wrong)
    _held(page, 1)
    page.fill("textarea[name=note]", "已更换新灭火器")
    page.click(f"{form} button[type=submit]")
    page.wait_for_selector("[data-owner-home]")
    page.wait_for_selector("#sync-status[data-sync-state=synced][data-pending='0']")
    auth = owner_auth(gateway, owner)
    fix = hazard_when_rectified(gateway, auth, hazard["_id"])
    sent = httpx.get(f"{gateway.url}/sync/{fix['rectifications'][-1]}", headers=auth).json()
    assert sent["photos"] == [kept]
    assert set(server_photos(gateway, shop)) - before == {kept}
    assert held_photos(page) == 0
