"""The owner's weekly self-check in a real Chromium: signed in with the PIN, done offline with a photo, still
waiting after an offline reload, uploaded when the signal comes back, and the public card's points change."""

from __future__ import annotations

import base64
import io
import json
import random
import re
import time
from pathlib import Path
from typing import Any

import httpx
from PIL import Image

from tests.browser.field import fill_weekly_check, wait_controlled
from tests.gateway import Gateway


def camera_jpeg(width: int = 3000, height: int = 2000) -> bytes:
    """A large, noisy picture like a phone camera's (several MB), so the resize has work to do."""
    rng = random.Random(7)
    small = Image.new("RGB", (width // 10, height // 10))
    small.putdata(
        [(rng.randrange(256), rng.randrange(256), rng.randrange(256)) for _ in range(small.width * small.height)]
    )
    out = io.BytesIO()
    small.resize((width, height), Image.Resampling.BICUBIC).save(out, "JPEG", quality=95)
    return out.getvalue()


def card(gateway: Gateway, shop: str) -> dict[str, Any]:
    resp = httpx.get(f"{gateway.url}/api/public/shops/{shop}")
    assert resp.status_code == 200, resp.text
    found: dict[str, Any] = resp.json()
    return found


# How many lines each part (child span) of an element's text takes on screen.
LINES_OF_PARTS = """(selector) => [...document.querySelector(selector).children].map((part) => {
  const text = document.createRange();
  text.selectNodeContents(part);
  const tops = new Set([...text.getClientRects()].map((r) => Math.round(r.top)));
  return { text: part.textContent, lines: tops.size };
})"""


def pending(page: Any) -> int:
    return int(page.get_attribute("[data-sync-state]", "data-pending"))


def test_weekly_self_check_offline_with_a_photo_then_synced(
    gateway: Gateway, context: Any, logins: dict[str, Any]
) -> None:
    owner = logins["owners"][0]
    shop, pin = owner["shop"], owner["pin"]
    before = card(gateway, shop)["points"]
    picture = camera_jpeg()
    assert len(picture) > 1_000_000

    page = context.new_page()
    page.goto(f"{gateway.url}/s/{shop}")
    wait_controlled(page)
    page.fill("input[name=pin]", pin)
    page.click("[data-form=owner-login] button[type=submit]")
    page.wait_for_selector("[data-owner-home]", timeout=20_000)
    # The checklist comes from the templates replicated to the phone.
    page.click("[data-action=check]")
    page.wait_for_selector("input[name=open_flame]", timeout=30_000)
    page.wait_for_selector("[data-sync-state=synced]", timeout=30_000)

    context.set_offline(True)
    page.reload()
    page.wait_for_selector("input[name=open_flame]", timeout=20_000)
    assert page.get_attribute("[data-sync-state]", "data-sync-state") == "offline"
    fill_weekly_check(page, picture)
    page.click("[data-form=self-check] button[type=submit]")
    page.wait_for_selector("[data-owner-home] [data-week-done=true]", timeout=20_000)
    assert page.get_attribute("[data-sync-state]", "data-sync-state") == "offline"
    assert page.inner_text("[data-action=check]") == "本周已自查，再次自查"  # it counted: the button says so
    assert page.inner_text("[data-saved]") == "自查已保存，联网后自动上传。"  # said once, on the home it went back to
    # The card's 最近自查 at 360 px: the day, then 「（待上传）」 whole, not broken as 「2026-12-01（待上」/「传）」.
    page.wait_for_selector("[data-last-self-check][data-pending=unsent]")
    parts = page.evaluate(LINES_OF_PARTS, "[data-last-self-check]")
    assert len(parts) == 2 and re.fullmatch(r"\d{4}-\d{2}-\d{2}", parts[0]["text"]), parts
    assert parts[1]["text"] == "（待上传）", parts
    assert all(part["lines"] == 1 for part in parts), parts
    # The self-check and its photos wait.
    page.wait_for_function("Number(document.querySelector('[data-sync-state]').dataset.pending) >= 3")

    # A reload offline (the tab was killed) keeps everything waiting.
    page.reload()
    page.wait_for_selector("[data-owner-home] [data-week-done=true]", timeout=20_000)
    assert page.locator("[data-saved]").count() == 0  # said once only
    page.wait_for_function("Number(document.querySelector('[data-sync-state]').dataset.pending) >= 3")
    assert page.get_attribute("[data-sync-state]", "data-sync-state") == "offline"

    # The last resort: everything waiting, exported to a file (the photos inline).
    page.click("#sync-status")
    with page.expect_download() as download:
        page.click("#sync-panel [data-action=export]")
    exported = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    kinds = sorted(doc["type"] for doc in exported["docs"])
    assert kinds == ["photo", "photo", "self_check"]
    photo_doc = next(doc for doc in exported["docs"] if doc["type"] == "photo")
    assert base64.b64decode(photo_doc["_attachments"]["photo.jpg"]["data"])[:2] == b"\xff\xd8"  # a JPEG
    page.keyboard.press("Escape")

    context.set_offline(False)
    page.wait_for_selector("[data-sync-state=synced]", timeout=60_000)
    assert pending(page) == 0

    # The server has the check with its resized photo, and the validators changed the points.
    token = httpx.post(f"{gateway.url}/api/auth/owner", json={"shop": shop, "pin": pin}).json()["token"]
    auth = {"Authorization": f"Bearer {token}"}
    rows = httpx.get(
        f"{gateway.url}/sync/_all_docs",
        params={
            "startkey": f'"{shop}:self_check:\ufff0"',
            "endkey": f'"{shop}:self_check:"',
            "descending": "true",
            "limit": "1",
            "include_docs": "true",
        },
        headers=auth,
    ).json()["rows"]
    check = rows[0]["doc"]
    assert check["answers"]["extinguisher_valid"]["value"] is False
    [photo] = check["answers"]["extinguisher_valid"]["photos"]
    jpeg = httpx.get(f"{gateway.url}/sync/{photo}/photo.jpg", headers=auth)
    assert jpeg.status_code == 200 and jpeg.headers["content-type"] == "image/jpeg"
    assert len(jpeg.content) <= 310 * 1024
    assert max(Image.open(io.BytesIO(jpeg.content)).size) == 1600

    deadline = time.monotonic() + 30
    while card(gateway, shop)["points"] == before and time.monotonic() < deadline:
        time.sleep(0.3)
    after = card(gateway, shop)["points"]
    assert after != before
    page.goto(f"{gateway.url}/s/{shop}")
    page.wait_for_function(f"document.querySelector('[data-score]').textContent === '{after}'", timeout=20_000)

    # The phone told the office's sync monitor: nothing waiting, and when it last pushed. (Text goes up before
    # photos: a report sent between the two still counts the photo, and the next one says it is up.)
    office = logins["office"][0]
    staff = httpx.post(f"{gateway.url}/api/auth/login", json=office).json()["token"]
    deadline = time.monotonic() + 30
    mine: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        devices = httpx.get(f"{gateway.url}/api/office/devices", headers={"Authorization": f"Bearer {staff}"})
        mine = [d for d in devices.json()["items"] if d["user"] == f"owner:{shop}" and d["last_push"]]
        if mine and mine[0]["pending_docs"] == 0 and mine[0]["pending_photos"] == 0:
            break
        time.sleep(0.5)
    [device] = mine
    assert device["pending_docs"] == 0 and device["pending_photos"] == 0 and device["silent"] is False
    assert device["app_version"] and device["storage"]["quota"] > 0
