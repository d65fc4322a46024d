"""A phone's exported file brought in on the office's sync monitor, in a real Chromium on the demo district.

A grid worker's phone that can no longer upload hands the office the file of its sync panel (导出未上传的数据,
`exportPending` in pwa/src/db.ts). The office chooses it on the sync monitor: the page reads it, sends it
(`POST /api/office/device-exports`) and shows what came of each record, the refused ones first with the server's
reason. Here the file holds a new patrol with a serious finding for one of the worker's shops, its photo, and a
patrol for a shop outside his grids: two records stored, one refused naming the shop, and the finding's alarm on
the desk. A file that is not JSON is said so on the page and never sent."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import httpx

from tests.api.test_device_exports import JPEG, kept, photo_of
from tests.browser.office import office_headers, office_page, open_screen, settle
from tests.gateway import Gateway
from tests.validators.builders import gas_leak_patrol

FORM = "[data-form=device-export]"
ENDPOINT = "/api/office/device-exports"
SHOTS = os.environ.get("MASHANG_SHOTS")  # a folder to keep screenshots in (none: no screenshots)


def shot(page: Any, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / name), full_page=True)


def test_the_office_brings_in_a_phones_exported_file(
    gateway: Gateway, browser: Any, logins: dict[str, Any], tmp_path: Path
) -> None:
    worker = logins["grid_workers"][0]
    author = f"grid:{worker['username']}"
    shop = worker["shops"][0]
    others = [s for other in logins["grid_workers"][1:] for s in other["shops"]] + [o["shop"] for o in logins["owners"]]
    elsewhere = next(s for s in others if s not in worker["shops"])  # a shop outside his grids
    patrol = kept(gas_leak_patrol(shop, author, "d-x"))  # a serious finding: an alarm once it is in
    photo = photo_of(patrol)
    not_his = kept(gas_leak_patrol(elsewhere, author, "d-x"))
    exported = {
        "exported_at": "2026-11-29T10:00:00.000Z",
        "device": "d-x",
        "docs": [patrol, photo, not_his],
        "refused": [],
    }
    file = tmp_path / "mashang-export-d-x.json"
    file.write_text(json.dumps(exported, ensure_ascii=False, indent=1), encoding="utf-8")  # as the phone writes it
    broken = tmp_path / "broken.json"
    broken.write_text('{"docs": [', encoding="utf-8")

    page = office_page(browser, gateway, logins, "/office/sync")
    settle(page)
    sent: list[str] = []
    monitor_reads: list[str] = []
    page.on("request", lambda r: sent.append(r.method) if r.url.endswith(ENDPOINT) else None)
    page.on("request", lambda r: monitor_reads.append(r.url) if "/api/office/sync-monitor" in r.url else None)
    form = page.locator(FORM)
    assert "导入手机导出的数据" in page.locator("section.panel", has=form).inner_text()
    assert form.locator("input[type=file]").get_attribute("accept") == ".json,application/json"

    # A file that is not JSON: said so, with the reason, and never sent.
    form.locator("input[type=file]").set_input_files(str(broken))
    form.locator("button[type=submit]").click()
    error = form.locator(".form-status.error")
    error.wait_for()
    assert "JSON" in error.inner_text()
    assert sent == [] and page.locator("[data-export-result]").count() == 0

    # The phone's file: the page says it is bringing it in (the button disabled), then what came of each record.
    page.evaluate(
        """(selector) => {
          const form = document.querySelector(selector);
          const status = form.querySelector('.form-status');
          const button = form.querySelector('button[type=submit]');
          window.__seen = [];
          new MutationObserver(() => window.__seen.push([status.textContent, button.disabled]))
            .observe(form, { subtree: true, childList: true, characterData: true, attributes: true });
        }""",
        FORM,
    )
    form.locator("input[type=file]").set_input_files(str(file))
    form.locator("button[type=submit]").click()
    result = page.locator("[data-export-result]")
    result.wait_for(timeout=30_000)
    assert sent == ["POST"]
    seen = page.evaluate("window.__seen")
    assert ["正在导入…", True] in seen
    assert not form.locator("button[type=submit]").is_disabled()
    assert (result.get_attribute("data-stored"), result.get_attribute("data-already")) == ("2", "0")
    assert result.get_attribute("data-refused") == "1"
    assert "已保存 2 · 服务器已有 0 · 被拒绝 1" in result.inner_text()
    rows = result.locator("tbody tr")
    assert rows.count() == 3
    assert rows.first.get_attribute("data-outcome") == "refused"  # the refused first
    refused = result.locator("tr[data-outcome=refused]")
    assert not_his["_id"] in refused.inner_text() and elsewhere in refused.locator("td").last.inner_text()
    stored = result.locator("tr[data-outcome=stored]")
    assert stored.count() == 2
    stored_text = " ".join(stored.all_inner_texts())
    assert patrol["_id"] in stored_text and photo["_id"] in stored_text
    assert author in stored.first.inner_text()  # by name, the account beside it
    page.wait_for_function("document.querySelectorAll('.office-content [aria-busy=true]').length === 0")
    assert len(monitor_reads) >= 1  # the monitor read again after the file came in
    shot(page, "office-device-export.png")

    # The serious finding's alarm reaches the desk; the photo is the server's; the refused patrol is not.
    alarm_id = f"{shop}:alarm:{patrol['_id'].rsplit(':', 1)[1]}"
    open_screen(page, "alarms")
    page.locator(f'[data-alarm-id="{alarm_id}"][data-status=open]').wait_for(timeout=30_000)
    office = office_headers(gateway, logins)
    picture = httpx.get(f"{gateway.url}/api/office/photos/{photo['_id']}", headers=office, timeout=30)
    assert picture.status_code == 200 and picture.content == JPEG
    with gateway.client() as admin:
        assert admin.get(f"/sync/{not_his['_id']}").status_code == 404
    page.context.close()
