"""An owner rectifies a hazard offline: the hazard's photo, kept on the phone while there was signal, shows; the home
says the fix waits to upload and offers no second rectify button, the rectify screen refuses another one, and once
online the server holds exactly one rectification."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import httpx

from tests.browser.field import sign_in_owner, wait_controlled, wait_true
from tests.browser.test_owner_rectify import hazard_when_rectified, open_hazard, owner_auth
from tests.gateway import Gateway


def test_a_rectification_saved_offline_is_not_offered_twice(
    gateway: Gateway, context: Any, logins: dict[str, Any]
) -> None:
    owner, hazard = open_hazard(gateway, logins)
    shop, hazard_id = owner["shop"], hazard["_id"]
    page = context.new_page()
    sign_in_owner(page, gateway, owner)
    item = f"[data-hazard='{hazard_id}']"
    page.wait_for_selector(f"{item}[data-shown=fix] a[data-action=rectify]", timeout=30_000)
    wait_controlled(page)
    page.wait_for_selector("[data-sync-state=synced]", timeout=60_000)
    # With signal, the home keeps the grid worker's photo of the hazard on the phone, for the back of the shop.
    shot = hazard["photos"][0]
    wait_true(
        page,
        """async (a) => !!(await (await caches.open('mashang-grid-photos:owner:' + a.shop))
            .match(`/sync/${encodeURIComponent(a.shot)}/photo.jpg`))""",
        {"shop": shop, "shot": shot},
    )

    context.set_offline(True)
    page.click(f"{item} a[data-action=rectify]")
    page.wait_for_selector("[data-form=rectification]")
    page.fill("textarea[name=note]", "已清理通道")
    page.click("[data-form=rectification] button[type=submit]")
    page.wait_for_selector("[data-owner-home]")
    page.wait_for_selector(f"{item}[data-shown=unsent]", timeout=30_000)
    assert page.locator(f"{item} a").count() == 0  # no second rectify button
    assert "待上传" in page.inner_text(item)

    # Opening the rectify screen again (a bookmark, the back button) refuses a second rectification.
    page.goto(f"{gateway.url}/s/{quote(shop)}/rectify/{quote(hazard_id, safe='')}")
    page.wait_for_selector(".page.rectify[data-rectify-state=unsent]", timeout=20_000)
    assert page.locator("[data-form=rectification]").count() == 0
    assert "无需重复提交" in page.inner_text(".page.rectify")
    # A page loaded with no signal (nothing in memory) shows the hazard's photo, decoded, from the phone's copy.
    page.wait_for_function(
        """(id) => [...document.querySelectorAll('.page.rectify [data-hazard-photos] img')]
            .some((img) => img.dataset.photo === id && img.complete && img.naturalWidth > 0)""",
        arg=shot,
        timeout=20_000,
    )
    assert page.locator(".page.rectify [data-photo-offline]").count() == 0
    page.click("[data-action=back]")
    page.wait_for_selector(f"{item}[data-shown=unsent]", timeout=20_000)

    context.set_offline(False)
    page.wait_for_selector("[data-sync-state=synced]", timeout=60_000)
    auth = owner_auth(gateway, owner)
    doc = hazard_when_rectified(gateway, auth, hazard_id)
    before = set(hazard.get("rectifications") or [])  # a demo hazard may have had a fix that failed verification
    added = [r for r in doc["rectifications"] if r not in before]
    assert len(added) == 1
    params = {
        "startkey": json.dumps(f"{shop}:rectification:"),
        "endkey": json.dumps(f"{shop}:rectification:\ufff0"),
        "include_docs": "true",
    }
    rows = httpx.get(f"{gateway.url}/sync/_all_docs", params=params, headers=auth).json()["rows"]
    mine = [row["doc"] for row in rows if row["doc"].get("hazard") == hazard_id and row["id"] not in before]
    assert [d["_id"] for d in mine] == added  # exactly one rectification reached the server
    assert mine[0]["note"] == "已清理通道"
    # Once the server's hazard lists it, the home follows the server: waiting for the grid worker.
    page.wait_for_selector(f"{item}[data-status=rectified][data-shown=rectified]", timeout=30_000)
    assert page.locator(f"{item} a").count() == 0
