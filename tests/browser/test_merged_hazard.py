"""Events arrive out of order: a grid worker's patrol finds an open flame, its hazard reaches the phones; then the
owner's self-check made earlier, offline, declaring the same open flame, arrives. The server's hazard is now the
self-check's (the patrol found it again), and the patrol's hazard is deleted. The grid worker's phone must follow:
one hazard, the server's, not the deleted one beside it forever. The phone pulls deletions, and no points ledger
(which only the office reads: over half of a shop's documents). The owner's fix of the patrol's hazard, made before
the merge, is the merged hazard's fix on the worker's phone too (the hazard lists the patrol's id as an alias)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from server.ids import new_ulid
from tests.browser.field import sign_in_grid
from tests.browser.office import owners_self_check
from tests.browser.test_draft_photos import LIVE_IDS
from tests.browser.test_grid_patrol import _camera_jpeg, _events, _ever_open_flame, _patrol
from tests.gateway import Gateway


def _shop_with_owner(gateway: Gateway, worker: dict[str, Any], owners: list[dict[str, Any]]) -> dict[str, Any]:
    """An activated owner of one of the worker's shops that has a self-check and never had an open flame."""
    by_shop = {owner["shop"]: owner for owner in owners}
    for code in worker["shops"]:
        docs = _events(gateway, code)
        if code in by_shop and any(d.get("type") == "self_check" for d in docs) and not _ever_open_flame(docs):
            return by_shop[code]
    raise AssertionError("no shop of the worker fits")


def test_a_hazard_the_server_merged_leaves_the_grid_workers_phone(
    gateway: Gateway, context: Any, logins: dict[str, Any]
) -> None:
    worker = logins["grid_workers"][0]
    owner = _shop_with_owner(gateway, worker, logins["owners"])
    shop = owner["shop"]
    page = context.new_page()
    page.set_default_timeout(60_000)  # a busy CI machine is slow, not broken
    sign_in_grid(page, gateway, worker)
    page.wait_for_selector(f'a.g-shop[data-shop="{shop}"]')
    page.wait_for_selector('[data-sync-state="synced"]')
    started = datetime.now(ZoneInfo("Asia/Shanghai")).replace(microsecond=0)
    _patrol(page, shop, photo=_camera_jpeg(), offline=False)
    page.wait_for_selector('[data-sync-state="synced"][data-pending="0"]')
    page.click(f'a.g-shop[data-shop="{shop}"]')
    flame = 'li.g-hazard[data-hazard$="-open_flame"]'
    page.wait_for_selector(f'{flame}[data-status="open"]:not(:has([data-provisional]))')
    [patrols] = [page.get_attribute(flame, "data-hazard")]

    # The owner fixes the patrol's hazard (as their phone showed it) ...
    token = httpx.post(f"{gateway.url}/api/auth/owner", json={"shop": shop, "pin": owner["pin"]}).json()["token"]
    owner_auth = {"Authorization": f"Bearer {token}"}
    fix = {
        "_id": f"{shop}:rectification:{new_ulid()}",
        "type": "rectification",
        "schema": 1,
        "shop": shop,
        "performed_at": datetime.now(ZoneInfo("Asia/Shanghai")).replace(microsecond=0).isoformat(),
        "created_by": f"owner:{shop}",
        "device": "d-owner-phone",
        "hazard": patrols,
        "note": "已熄灭明火，炉灶移到后厨",
        "photos": [],
    }
    answer = httpx.put(f"{gateway.url}/sync/{fix['_id']}", json=fix, headers=owner_auth)
    assert answer.status_code == 201, answer.text
    page.wait_for_selector(f'li.g-hazard[data-hazard="{patrols}"][data-status="rectified"]')
    # ... then their check of two hours before the patrol arrives, from a phone that was offline until now.
    ago = (datetime.now(ZoneInfo("Asia/Shanghai")) - (started - timedelta(hours=2))).total_seconds() / 60
    check = owners_self_check(gateway, owner, minutes_ago=ago, open_flame=True)

    # On the worker's phone: the self-check's hazard, and the patrol's gone (it was still shown before the fix).
    merged = f"{shop}:hazard:{check['_id'].rsplit(':', 1)[1]}-open_flame"
    page.wait_for_selector(f'li.g-hazard[data-hazard="{merged}"]')
    page.wait_for_selector(f'li.g-hazard[data-hazard="{patrols}"]', state="detached")
    assert page.locator(flame).count() == 1
    # The fix of the patrol's hazard is this hazard's: shown on its card, and on the verify screen it leads to.
    card = page.locator(f'li.g-hazard[data-hazard="{merged}"][data-status="rectified"]')
    card.wait_for()
    assert "已熄灭明火" in card.inner_text()
    card.locator("[data-action=verify]").click()
    page.wait_for_selector(f'form.g-verify-form[data-hazard="{merged}"]')
    assert "已熄灭明火" in page.inner_text("main")

    ids = page.evaluate(LIVE_IDS, "_pouch_mashang")
    assert any(":hazard:" in i for i in ids) and not [i for i in ids if ":ledger:" in i or ":photo:" in i]
