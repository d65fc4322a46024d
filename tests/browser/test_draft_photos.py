"""Photos of a form not sent stay on the phone: an owner who takes a photo in a self-check and leaves it has nothing
waiting and nothing on the server (on a poor signal, an abandoned form must not cost an upload); the photo is there
when the form opens again, and goes up once it is sent. A grid worker who discards a patrol draft discards its
photo with it."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx

from tests.browser.field import fill_weekly_check, sign_in_grid, sign_in_owner, wait_true
from tests.browser.test_grid_patrol import _camera_jpeg, _pick_shops
from tests.browser.test_grid_verify import _rectified_hazard, _sign_in
from tests.browser.test_owner_offline import camera_jpeg
from tests.browser.test_owner_photos_kept import server_doc
from tests.gateway import Gateway

# The ids of the live (not deleted) documents of a local database, read from PouchDB's IndexedDB store as the phone
# keeps it, and how many there are.
LIVE_IDS = """async (name) => {
  const known = (await indexedDB.databases()).some((d) => d.name === name);
  if (!known) return [];
  const db = await new Promise((ok, fail) => {
    const open = indexedDB.open(name);
    open.onsuccess = () => ok(open.result);
    open.onerror = () => fail(open.error);
  });
  try {
    const live = db.transaction('document-store').objectStore('document-store').index('deletedOrLocal');
    return await new Promise((ok) => { const all = live.getAllKeys('0'); all.onsuccess = () => ok(all.result); });
  } finally {
    db.close();
  }
}"""
LIVE_DOCS = f"async (name) => (await ({LIVE_IDS})(name)).length"
DRAFT_PHOTOS = "_pouch_mashang-draft-photos"


def held_photos(page: Any) -> int:
    return int(page.evaluate(LIVE_DOCS, DRAFT_PHOTOS))


def open_self_check(page: Any, gateway: Gateway, owner: dict[str, Any]) -> set[str]:
    """`owner` signed in and synced, on this week's self-check form: the photos the server had of the shop."""
    before = set(server_photos(gateway, owner["shop"]))
    page.set_default_timeout(60_000)  # a busy CI machine is slow, not broken
    sign_in_owner(page, gateway, owner)
    page.wait_for_selector("[data-sync-state=synced]")
    page.click("[data-action=check]")
    page.wait_for_selector("input[name=open_flame]")
    return before


def open_flame_patrol(page: Any, gateway: Gateway, worker: dict[str, Any]) -> tuple[str, set[str]]:
    """`worker` signed in and synced, on the patrol of a shop never found with an open flame, the flame marked:
    that shop, and the photos the server had of it."""
    serious, _ = _pick_shops(gateway, worker["shops"])
    before = set(server_photos(gateway, serious))
    page.set_default_timeout(60_000)
    sign_in_grid(page, gateway, worker)
    page.wait_for_selector(f'a.g-shop[data-shop="{serious}"]')
    page.wait_for_selector('[data-sync-state="synced"]')
    page.click(f'a.g-shop[data-shop="{serious}"]')
    page.click('a[data-action="patrol"]')
    page.check('input[name="open_flame"][value="true"]')
    return serious, before


def server_photos(gateway: Gateway, shop: str) -> list[str]:
    prefix = f"{shop}:photo:"
    with gateway.client() as client:
        rows = client.get(
            "/sync/_all_docs", params={"startkey": json.dumps(prefix), "endkey": json.dumps(prefix + "\ufff0")}
        ).json()["rows"]
    return [row["id"] for row in rows]


def test_a_photo_in_an_unsent_self_check_stays_on_the_phone_until_it_is_sent(
    gateway: Gateway, context: Any, logins: dict[str, Any]
) -> None:
    owner = logins["owners"][3]
    shop = owner["shop"]
    page = context.new_page()
    before = open_self_check(page, gateway, owner)
    picture = camera_jpeg(1200, 900)
    page.set_input_files(
        "[data-photo-for=gas_safe]", files=[{"name": "gas.jpg", "mimeType": "image/jpeg", "buffer": picture}]
    )
    page.wait_for_selector("[data-item=gas_safe] img[data-photo]")
    page.wait_for_timeout(800)  # the draft is saved a moment after the last change

    # The owner leaves the form unsent: nothing waits, nothing went up, the photo is kept with the draft.
    page.click("[data-action=back]")
    page.wait_for_selector("[data-owner-home]")
    time.sleep(3)  # the photos' push would have sent it by now
    page.wait_for_selector("#sync-status[data-sync-state=synced][data-pending='0']")
    assert set(server_photos(gateway, shop)) == before
    assert held_photos(page) == 1

    # Back in the form, the photo is there; sent, it goes up with the check and leaves the drafts.
    page.click("[data-action=check]")
    page.wait_for_selector("[data-item=gas_safe] img[data-photo][src^='blob:']")
    fill_weekly_check(page, picture)  # answers everything; a second photo for the extinguisher (the gas one again)
    page.click("[data-form=self-check] button[type=submit]")
    page.wait_for_selector("[data-owner-home]")
    page.wait_for_selector("#sync-status[data-sync-state=synced][data-pending='0']")
    token = httpx.post(f"{gateway.url}/api/auth/owner", json={"shop": shop, "pin": owner["pin"]}).json()["token"]
    check = server_doc(gateway, {"Authorization": f"Bearer {token}"}, f"{shop}:self_check:")
    referred = {p for answer in check["answers"].values() for p in answer.get("photos", [])}
    arrived = set(server_photos(gateway, shop)) - before
    assert referred and referred == arrived, (referred, arrived)  # every photo the check shows, and no other
    assert held_photos(page) == 0


def test_a_discarded_patrol_draft_takes_its_photo_with_it(
    gateway: Gateway, context: Any, logins: dict[str, Any]
) -> None:
    page = context.new_page()
    serious, before = open_flame_patrol(page, gateway, logins["grid_workers"][0])
    picture = {"name": "flame.jpg", "mimeType": "image/jpeg", "buffer": _camera_jpeg()}
    page.set_input_files('input[data-photo-for="open_flame"]', files=[picture])
    page.wait_for_selector('fieldset[data-item="open_flame"] img[data-photo]')
    page.wait_for_timeout(800)
    assert held_photos(page) == 1

    page.reload()
    page.wait_for_selector('[data-action="discard-draft"]')
    page.click('[data-action="discard-draft"]')
    page.wait_for_selector('form.g-patrol fieldset[data-item="open_flame"]')
    assert page.is_checked('input[name="open_flame"][value="false"]')  # fresh from the owner's self-check
    wait_true(page, f"async () => (await ({LIVE_DOCS})('{DRAFT_PHOTOS}')) === 0")
    page.wait_for_selector("[data-sync-state=synced][data-pending='0']")
    assert set(server_photos(gateway, serious)) == before


def test_signing_out_with_a_drafts_photo_asks_first_and_then_forgets_the_draft(
    gateway: Gateway, context: Any, logins: dict[str, Any]
) -> None:
    owner = logins["owners"][4]
    page = context.new_page()
    open_self_check(page, gateway, owner)
    page.check("input[name=open_flame][value=false]")
    page.set_input_files(
        "[data-photo-for=gas_safe]",
        files=[{"name": "gas.jpg", "mimeType": "image/jpeg", "buffer": camera_jpeg(800, 600)}],
    )
    page.wait_for_selector("[data-item=gas_safe] img[data-photo]")
    page.wait_for_timeout(800)
    page.click("[data-action=back]")
    page.wait_for_selector("[data-owner-home]")

    asked: list[str] = []

    def answer(dialog: Any, accept: bool) -> None:
        asked.append(dialog.message)
        if accept:
            dialog.accept()
        else:
            dialog.dismiss()

    page.once("dialog", lambda dialog: answer(dialog, accept=False))
    page.click("[data-action=sign-out]")
    deadline = time.monotonic() + 20
    while not asked and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert asked and "自查草稿" in asked[0], asked  # 还有未提交的自查草稿，退出后将被删除
    assert page.locator("[data-owner-home]").count() == 1 and held_photos(page) == 1

    page.once("dialog", lambda dialog: answer(dialog, accept=True))
    page.click("[data-action=sign-out]")
    page.wait_for_selector("[data-form=owner-login] input[name=pin]")
    page.wait_for_function(
        "indexedDB.databases().then(d => !d.some(x => x.name.startsWith('_pouch_mashang')))", timeout=30_000
    )
    assert not [k for k in page.evaluate("Object.keys(localStorage)") if k.startswith("mashang.draft.")]
    page.wait_for_timeout(1_000)  # longer than an autosave's pause: nothing puts the draft back afterwards
    assert not [k for k in page.evaluate("Object.keys(localStorage)") if k.startswith("mashang.draft.")]


def test_a_verification_open_in_one_tab_keeps_its_photo_when_another_tab_discards_a_patrol(
    gateway: Gateway, context: Any, logins: dict[str, Any]
) -> None:
    """The verification form keeps no draft: its photo is named by no saved draft while the form is open. A patrol
    draft discarded meanwhile (the installed app and a browser tab) removes its own photos only, so the verification
    still goes up with its photo; and a photo left behind by a form given up is no reason to ask at sign-out."""
    worker, hazard = _rectified_hazard(gateway, logins)
    shop, hazard_id = hazard["shop"], hazard["_id"]
    before = set(server_photos(gateway, shop))
    picture = {"name": "fixed.jpg", "mimeType": "image/jpeg", "buffer": _camera_jpeg()}
    page = context.new_page()
    page.set_default_timeout(60_000)
    _sign_in(page, gateway, worker)
    page.wait_for_selector('[data-sync-state="synced"]')

    def open_verification() -> None:
        page.goto(f"{gateway.url}/grid")
        page.click(f'a.g-shop[data-shop="{shop}"]')
        page.locator(f'li.g-hazard[data-hazard="{hazard_id}"] a[data-action="verify"]').click()
        page.wait_for_selector(f'form[data-hazard="{hazard_id}"]')
        page.set_input_files('input[data-photo-for="verification"]', files=[picture])
        page.wait_for_selector("form.g-verify-form .photos img[data-photo][src^='blob:']")

    open_verification()  # a photo taken, and the form given up: it stays on the phone, and never uploads
    open_verification()
    page.check('input[name="passed"][value="true"]')
    photo = page.get_attribute("form.g-verify-form .photos img[data-photo]", "data-photo")  # not the hazard's

    other = context.new_page()
    other.set_default_timeout(60_000)
    code = next(c for c in worker["shops"] if c != shop)
    other.goto(f"{gateway.url}/grid/s/{code}/patrol")
    other.check('input[name="open_flame"][value="true"]')
    other.set_input_files('input[data-photo-for="open_flame"]', files=[{**picture, "name": "flame.jpg"}])
    other.wait_for_selector('fieldset[data-item="open_flame"] img[data-photo]')
    other.wait_for_timeout(800)
    other.reload()
    other.click('[data-action="discard-draft"]')
    wait_true(other, f"async () => (await ({LIVE_DOCS})('{DRAFT_PHOTOS}')) === 2")  # the patrol's went
    other.close()

    page.click('form.g-verify-form button[type="submit"]')
    page.wait_for_function("!location.pathname.includes('/verify/')")
    page.wait_for_selector('[data-sync-state="synced"][data-pending="0"]')
    deadline = time.monotonic() + 30
    while (arrived := set(server_photos(gateway, shop)) - before) != {photo}:
        assert time.monotonic() < deadline, f"the server has {arrived}, the verification names {photo}"
        time.sleep(0.5)

    # The given-up form's photo is still held, but no form can send it: signing out does not count it as waiting.
    assert held_photos(page) == 1
    asked: list[str] = []
    page.on("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    page.goto(f"{gateway.url}/grid")
    page.wait_for_selector('[data-sync-state="synced"]')
    page.click('[data-action="sign-out"]')
    page.wait_for_selector('input[name="username"]')  # signed out, at once: nothing was asked
    assert asked == []
