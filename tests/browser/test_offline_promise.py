"""The offline promise (SPEC, "Offline promise") on a grid worker's day: patrols with photos done with no network,
then the signal comes back. Text syncs first, photos after: no photo goes up before every patrol has (an alarm must
not wait behind a 300 KB picture on a poor signal). And the network drops in the middle of a photo's upload: the
server took it, the phone never heard so; nothing is lost and nothing is doubled."""

from __future__ import annotations

import json
from typing import Any

from tests.browser.field import sign_in_grid, wait_controlled
from tests.browser.test_grid_patrol import _camera_jpeg, _events
from tests.gateway import Gateway

SHOPS = 5  # patrols of the day, each with a photo


def test_photos_go_up_after_the_text_and_a_dropped_upload_is_sent_again_once(
    gateway: Gateway, context: Any, logins: dict[str, Any]
) -> None:
    worker = logins["grid_workers"][1]
    events = {code: _events(gateway, code) for code in worker["shops"]}
    # Shops with a self-check: the patrol form comes prefilled, every item confirmed as the owner answered.
    shops = [code for code in worker["shops"] if any(d.get("type") == "self_check" for d in events[code])][:SHOPS]
    assert len(shops) == SHOPS
    before = {code: {d["_id"] for d in events[code]} for code in shops}

    page = context.new_page()
    page.set_default_timeout(60_000)  # a busy CI machine is slow, not broken
    sign_in_grid(page, gateway, worker)
    wait_controlled(page)
    page.wait_for_function(f"document.querySelectorAll('a.g-shop').length === {len(worker['shops'])}")
    page.wait_for_selector('[data-sync-state="synced"]')

    context.set_offline(True)
    page.wait_for_selector('[data-sync-state="offline"]')
    picture = {"name": "extinguisher.jpg", "mimeType": "image/jpeg", "buffer": _camera_jpeg()}
    for code in shops:
        page.click(f'a.g-shop[data-shop="{code}"]')
        page.click('a[data-action="patrol"]')
        page.wait_for_selector('form.g-patrol fieldset[data-item="extinguisher_present"]')
        page.set_input_files('input[data-photo-for="extinguisher_present"]', files=[picture])
        page.wait_for_selector('fieldset[data-item="extinguisher_present"] [data-photo-thumb]')
        page.click('button[type="submit"]')
        page.wait_for_selector("[data-flash]")
        page.wait_for_selector(f'a.g-shop[data-shop="{code}"] [data-due="patrolled"]')
    page.wait_for_function(f"Number(document.querySelector('[data-sync-state]').dataset.pending) === {2 * SHOPS}")
    # The list shows where something waits: the shops patrolled today, no other.
    for code in worker["shops"]:
        card = f'a.g-shop[data-shop="{code}"] [data-waiting]'
        page.wait_for_selector(card, state="attached" if code in shops else "detached")
    page.click(f'a.g-shop[data-shop="{shops[0]}"]')
    page.wait_for_selector('li.g-event[data-type="patrol"] [data-unsent]')  # and the e-file, which record
    page.go_back()

    # What reaches the server, in order; the first photo's upload is taken by the server and its answer lost.
    sent: list[set[str]] = []
    dropped: list[int] = []

    def on_bulk_docs(route: Any) -> None:
        docs = json.loads(route.request.post_data or "{}").get("docs", [])
        kinds = {str(d.get("type")) for d in docs}
        sent.append(kinds)
        if "photo" in kinds and not dropped:
            dropped.append(route.fetch().status)  # the server has it ...
            route.abort("connectionreset")  # ... and the phone never hears so
            return
        route.continue_()

    page.route("**/sync/_bulk_docs", on_bulk_docs)
    context.set_offline(False)
    page.wait_for_selector('[data-sync-state="synced"][data-pending="0"]')
    page.wait_for_function("document.querySelectorAll('a.g-shop [data-waiting]').length === 0")

    assert dropped == [201]
    patrol_batches = [i for i, kinds in enumerate(sent) if "patrol" in kinds]
    photo_batches = [i for i, kinds in enumerate(sent) if "photo" in kinds]
    assert patrol_batches and photo_batches
    assert max(patrol_batches) < min(photo_batches), f"a photo went up before a patrol: {sent}"
    # After the drop the phone asks the server what it lacks (_revs_diff) and sends only that: the dropped photo is
    # not sent twice, the others once each.
    assert len(photo_batches) == SHOPS, sent

    with gateway.client() as client:
        for code in shops:
            new = [d for d in _events(gateway, code) if d["_id"] not in before[code]]
            [patrol] = [d for d in new if d.get("type") == "patrol"]
            [photo] = patrol["answers"]["extinguisher_present"]["photos"]
            assert [d["_id"] for d in new if d.get("type") == "photo"] == [photo]
            doc = client.get(f"/sync/{photo}", params={"conflicts": "true"}).json()
            assert doc["_rev"].startswith("1-") and "_conflicts" not in doc  # sent twice, written once
            assert client.get(f"/sync/{photo}/photo.jpg").headers["content-type"] == "image/jpeg"
