"""An owner fixes a hazard: the home lists it with its deadline, the rectification goes up with a photo, and
the server's hazard moves to `rectified` (waiting for the grid worker's verification)."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx

from tests.browser.office import push_patrol
from tests.browser.test_owner_offline import camera_jpeg
from tests.gateway import Gateway
from tests.security.docs import patrol, photo
from tests.validators.served import login


def owner_auth(gateway: Gateway, owner: dict[str, Any]) -> dict[str, str]:
    answer = httpx.post(f"{gateway.url}/api/auth/owner", json={"shop": owner["shop"], "pin": owner["pin"]})
    return {"Authorization": f"Bearer {answer.json()['token']}"}


def hazard_when_rectified(gateway: Gateway, auth: dict[str, str], hazard_id: str) -> dict[str, Any]:
    """The hazard as the owner's phone reads it from the server, once the server has it rectified (30 s at most)."""
    deadline = time.monotonic() + 30
    while True:
        doc: dict[str, Any] = httpx.get(f"{gateway.url}/sync/{hazard_id}", headers=auth).json()
        if doc["status"] == "rectified" or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert doc["status"] == "rectified", doc
    return doc


def open_hazard(gateway: Gateway, logins: dict[str, Any]) -> tuple[dict[str, str], dict[str, Any]]:
    """An activated owner and one of their shop's open hazards with a photo, read as the shop's grid worker. The
    demo's history is drawn anew each day, so on some days every hazard in it is closed: then the grid worker's patrol
    finds an expired extinguisher at the first activated owner's shop, with its photo, as their phone sends them."""
    for worker in logins["grid_workers"]:
        auth = {"Authorization": f"Bearer {login(gateway, worker['username'], worker['password'])}"}
        for owner in logins["owners"]:
            if owner["shop"] not in worker["shops"]:
                continue
            params = {
                "startkey": json.dumps(f"{owner['shop']}:hazard:"),
                "endkey": json.dumps(f"{owner['shop']}:hazard:\ufff0"),
                "include_docs": "true",
            }
            rows = httpx.get(f"{gateway.url}/sync/_all_docs", params=params, headers=auth).json()["rows"]
            for row in rows:
                if row["doc"]["status"] in ("open", "overdue") and row["doc"].get("photos"):
                    return owner, row["doc"]

    worker = logins["grid_workers"][0]
    owner = next(owner for owner in logins["owners"] if owner["shop"] in worker["shops"])
    auth = {"Authorization": f"Bearer {login(gateway, worker['username'], worker['password'])}"}
    picture = photo(owner["shop"], f"grid:{worker['username']}", camera_jpeg(300, 200), "photo.jpg", "image/jpeg")
    sent = httpx.put(f"{gateway.url}/sync/{picture['_id']}", headers=auth, json=picture, timeout=30)
    assert sent.status_code == 201, sent.text
    found = patrol(owner["shop"], f"grid:{worker['username']}")
    found["findings"][0]["photos"] = [picture["_id"]]
    push_patrol(gateway, auth, found)
    hazard_id = f"{owner['shop']}:hazard:{found['_id'].rsplit(':', 1)[1]}-f1"
    deadline = time.monotonic() + 30
    while True:
        doc: dict[str, Any] = httpx.get(f"{gateway.url}/sync/{hazard_id}", headers=auth).json()
        if doc.get("status") == "open" or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert doc.get("status") == "open", doc
    return owner, doc


def test_an_owner_rectifies_a_hazard_with_a_photo(gateway: Gateway, context: Any, logins: dict[str, Any]) -> None:
    owner, hazard = open_hazard(gateway, logins)
    shop = owner["shop"]
    page = context.new_page()
    page.goto(f"{gateway.url}/s/{shop}")
    page.fill("input[name=pin]", owner["pin"])
    page.click("[data-form=owner-login] button[type=submit]")
    item = page.locator(f"[data-hazard='{hazard['_id']}']")
    item.wait_for(timeout=30_000)
    assert hazard["deadline"] in item.inner_text()
    item.locator("a").click()

    page.wait_for_selector("[data-form=rectification]")
    page.click("[data-form=rectification] button[type=submit]")
    page.wait_for_selector("[data-form=rectification] .notice.error")  # neither photo nor note: refused here
    page.set_input_files(
        "[data-photo-for=rectification]",
        files=[{"name": "fixed.jpg", "mimeType": "image/jpeg", "buffer": camera_jpeg()}],
    )
    page.wait_for_selector("[data-form=rectification] img[data-photo]", timeout=20_000)
    page.fill("textarea[name=note]", "已更换新灭火器")
    page.click("[data-form=rectification] button[type=submit]")
    page.wait_for_selector("[data-owner-home]")
    # Online all along: never 「联网后自动上传」; once the header says 已同步, it says the fix went up.
    assert "联网后" not in page.inner_text("[data-saved]")
    page.wait_for_selector("[data-sync-state=synced]", timeout=60_000)
    page.wait_for_selector("[data-saved=uploaded]", timeout=30_000)
    assert page.inner_text("[data-saved]") == "整改已上传。"

    auth = owner_auth(gateway, owner)
    doc = hazard_when_rectified(gateway, auth, hazard["_id"])
    [rectification] = doc["rectifications"]
    sent = httpx.get(f"{gateway.url}/sync/{rectification}", headers=auth).json()
    assert sent["note"] == "已更换新灭火器" and len(sent["photos"]) == 1
    assert httpx.get(f"{gateway.url}/sync/{sent['photos'][0]}/photo.jpg", headers=auth).status_code == 200
    # The home now says the fix waits for the grid worker.
    page.wait_for_selector(f"[data-hazard='{hazard['_id']}'][data-status=rectified]", timeout=30_000)
    # Its card shows the fix's photo beside the hazard's, each labelled.
    card = f"[data-hazard='{hazard['_id']}']"
    page.wait_for_selector(f"{card} [data-photo-group=fix] img[data-photo='{sent['photos'][0]}'][src^='blob:']")
    assert page.inner_text(f"{card} [data-photo-group=found] .photo-label") == "隐患照片"
    assert page.inner_text(f"{card} [data-photo-group=fix] .photo-label") == "整改照片"
