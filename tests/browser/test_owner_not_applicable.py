"""A shop with no gas (clothes, phone repair): the owner answers the gas item 不适用 and takes no photo of it, the
server accepts the check with "na" and counts no hazard, and the grid worker's patrol shows what the owner said, to
confirm or change. Both forms, with their longest answer (Not applicable), fit a 360 px phone in both languages."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from server.models.projections import ledger_entries
from tests.browser.field import WEEKLY_ANSWERS, sign_in_grid, sign_in_owner
from tests.browser.test_owner_offline import camera_jpeg
from tests.gateway import Gateway


def _events(gateway: Gateway, shop: str, kind: str) -> list[dict[str, Any]]:
    with gateway.client() as client:
        answer = client.get(
            "/sync/_all_docs",
            params={
                "startkey": json.dumps(f"{shop}:{kind}:"),
                "endkey": json.dumps(f"{shop}:{kind}:\ufff0"),
                "include_docs": "true",
            },
        )
    answer.raise_for_status()
    return [row["doc"] for row in answer.json()["rows"] if row.get("doc")]


# Whether the page scrolls sideways, and the answers that are no thumb-sized target inside the window.
_FIT = """() => ({
  page: document.documentElement.scrollWidth,
  window: window.innerWidth,
  small: [...document.querySelectorAll('form label.choice')]
    .filter((c) => { const r = c.getBoundingClientRect(); return r.height < 44 || r.left < 0 || r.right > innerWidth; })
    .map((c) => `${c.htmlFor}: ${c.getBoundingClientRect().width}x${c.getBoundingClientRect().height}`),
})"""


def _fits_in_both_languages(page: Any) -> None:
    """The open checklist form (its gas item offers 是 / 否 / 不适用) in Chinese and, switched with the header's
    language button, in English ("Not applicable" was 387 px wide on a 360 px phone): no sideways scroll, every answer
    at least 44 px tall and inside the window. Ends in Chinese again."""
    for lang, na in (("zh-CN", "不适用"), ("en", "Not applicable"), ("zh-CN", "不适用")):
        if page.evaluate("document.documentElement.lang") != lang:
            page.click("#lang-toggle")
            page.wait_for_function(f"document.documentElement.lang === {lang!r}")
        page.wait_for_selector(f"label[for=q-gas_safe-na] >> text={na}")
        fit = page.evaluate(_FIT)
        assert fit["page"] <= fit["window"], f"{lang}: the form scrolls sideways: {fit}"
        assert fit["small"] == [], f"{lang}: answers too small or cut: {fit}"


def _no_check_this_week(gateway: Gateway, owners: list[dict[str, Any]]) -> dict[str, Any]:
    """An owner whose shop has no self-check this week, so the one made here earns the week's points: the ledger
    entry is the sign that the server has projected it."""
    now = datetime.now(ZoneInfo("Asia/Shanghai"))
    monday = (now - timedelta(days=now.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    for owner in owners:
        checks = _events(gateway, owner["shop"], "self_check")
        if all(datetime.fromisoformat(doc["performed_at"]) < monday for doc in checks):
            return owner
    raise AssertionError("every demo shop made its self-check this week")


def test_an_owner_answers_not_applicable_to_the_gas_item_without_a_photo(
    gateway: Gateway, context: Any, browser: Any, logins: dict[str, Any]
) -> None:
    owner = _no_check_this_week(gateway, logins["owners"])
    shop = owner["shop"]
    before = {doc["_id"] for doc in _events(gateway, shop, "self_check")}
    page = context.new_page()
    page.set_default_timeout(60_000)  # a busy CI machine is slow, not broken
    sign_in_owner(page, gateway, owner)
    page.click("[data-action=check]")
    page.wait_for_selector("input[name=gas_safe]")
    _fits_in_both_languages(page)

    # 是 / 否 / 不适用 where the shop may not have the thing; 是 / 否 elsewhere.
    assert page.locator("input[name=gas_safe]").evaluate_all("rs => rs.map(r => r.value)") == ["true", "false", "na"]
    assert page.locator("input[name=open_flame][value=na]").count() == 0
    gas_photo = page.locator("[data-item=gas_safe] label.photo")
    assert gas_photo.inner_text() == "拍照（必须）"
    for item, value in {**WEEKLY_ANSWERS, "extinguisher_valid": "true", "gas_safe": "na"}.items():
        page.check(f"input[name={item}][value={value}]")
    page.fill("input[name=sleeping_people]", "0")
    assert gas_photo.inner_text() == "拍照"  # nothing to photograph where there is no gas
    assert page.is_visible("label[for=q-gas_safe-na] >> text=不适用")
    page.set_input_files(
        "[data-photo-for=extinguisher_valid]",
        files=[{"name": "extinguisher.jpg", "mimeType": "image/jpeg", "buffer": camera_jpeg(1200, 900)}],
    )
    page.wait_for_selector("[data-item=extinguisher_valid] img[data-photo]", timeout=20_000)
    page.click("[data-form=self-check] button[type=submit]")
    page.wait_for_selector("[data-owner-home]")

    # The server took it: nothing refused, nothing waiting.
    page.wait_for_selector("[data-sync-state=synced][data-pending='0']")
    assert page.get_attribute("#sync-status", "data-refused") in (None, "0")
    page.click("#sync-status")
    assert page.locator("#sync-panel [data-refused-id]").count() == 0
    page.keyboard.press("Escape")
    [check] = [doc for doc in _events(gateway, shop, "self_check") if doc["_id"] not in before]
    assert check["answers"]["gas_safe"] == {"value": "na"}
    assert len(check["answers"]["extinguisher_valid"]["photos"]) == 1
    # No hazard of it: once the projection has scored the check (the week's +2), it has found none.
    key = check["_id"].rsplit(":", 1)[1]
    deadline = time.monotonic() + 30
    scored = f"{shop}:ledger:{key}:self_check"
    while not [e for doc in _events(gateway, shop, "ledger") for e in ledger_entries(doc) if e["_id"] == scored]:
        assert time.monotonic() < deadline, "the check was not scored"
        time.sleep(0.2)
    hazards = [doc["_id"] for doc in _events(gateway, shop, "hazard") if key in doc["_id"]]
    assert hazards == []

    # The grid worker's patrol, prefilled from this check, says the owner answered 不适用; confirmed as it stands.
    worker = next(w for w in logins["grid_workers"] if shop in w["shops"])
    grid_context = browser.new_context(viewport={"width": 360, "height": 740}, locale="zh-CN", service_workers="allow")
    try:
        grid = grid_context.new_page()
        grid.set_default_timeout(60_000)
        sign_in_grid(grid, gateway, worker)
        grid.wait_for_selector('[data-sync-state="synced"]')
        grid.click(f'a.g-shop[data-shop="{shop}"]')
        grid.click('a[data-action="patrol"]')
        fieldset = grid.locator('form.g-patrol fieldset[data-item="gas_safe"]')
        fieldset.wait_for()
        assert fieldset.locator(".prior").inner_text() == "店主自查：不适用"
        assert grid.is_checked('input[name="gas_safe"][value="na"]')
        assert fieldset.locator("[data-check]").get_attribute("data-check") == "confirmed"
        assert fieldset.locator("label.photo").inner_text() == "拍照"
        # The worker finds a gas cylinder after all: a dispute, a finding, and a photo is asked for again.
        grid.check('input[name="gas_safe"][value="false"]')
        assert fieldset.locator("[data-check]").get_attribute("data-check") == "disputed"
        grid.wait_for_selector('[data-finding-for="gas_safe"] select[name="severity-gas_safe"]')
        assert fieldset.locator("label.photo").inner_text() == "拍照（必须）"
        _fits_in_both_languages(grid)
    finally:
        grid_context.close()
