"""The alarm desk in a real Chromium: a grid worker's patrol with a serious finding appears on an open desk without
a reload (server-sent events read with fetch), and is acknowledged, dispatched to a department and resolved through
the page, with notes. The shop's name is hostile markup, shown as text."""

from __future__ import annotations

import base64
import shutil
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from server.ids import new_ulid
from tests.browser.office import (
    SHANGHAI,
    follow,
    grid_login,
    office_headers,
    office_page,
    open_screen,
    owners_self_check,
    push_patrol,
    serious_patrol,
)
from tests.browser.test_grid_patrol import _camera_jpeg
from tests.gateway import Gateway, free_port

HOSTILE = "<img src=x onerror=alert(1)>"


def test_a_patrol_alarm_goes_live_to_the_desk_and_through_its_lifecycle(
    gateway: Gateway, browser: Any, logins: dict[str, Any]
) -> None:
    office = office_headers(gateway, logins)
    grid, grid_user, shop = grid_login(gateway, logins)
    renamed = httpx.patch(f"{gateway.url}/api/office/shops/{shop}", headers=office, json={"name": HOSTILE}, timeout=30)
    assert renamed.status_code == 200, renamed.text

    page = office_page(browser, gateway, logins, "/office/alarms")
    dialogs: list[str] = []  # alerts: the hostile name must never raise one
    confirms: list[str] = []

    def on_dialog(dialog: Any) -> None:
        if dialog.type == "confirm":
            confirms.append(dialog.message)
            dialog.accept()
            return
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.wait_for_selector(".live[data-stream-state=live]", timeout=20_000)
    page.evaluate("window.__sameDocument = true")

    patrol = serious_patrol(shop, grid_user)
    alarm_id = push_patrol(gateway, grid, patrol)

    card = page.locator(f'[data-alarm-id="{alarm_id}"]')
    card.wait_for(timeout=20_000)
    assert page.evaluate("window.__sameDocument") is True  # no reload
    assert card.get_attribute("data-status") == "open"
    assert card.locator("[data-field=shop-name]").inner_text() == HOSTILE
    assert card.locator("img:not([data-photo])").count() == 0  # only the finding's photo, no injected image
    assert "燃气" in card.inner_text()  # the item, in Chinese
    staff = httpx.get(f"{gateway.url}/api/office/users", headers=office, timeout=30).json()["items"]
    names = {user["id"]: user["name"] for user in staff}
    worker = httpx.get(f"{gateway.url}/api/office/alarms/{alarm_id}", headers=office, timeout=30).json()["grid_worker"]
    meta = card.locator(".meta").inner_text()
    assert f"网格员 {names[worker]}" in meta and worker not in meta  # people by their names, not their ids
    assert card.locator(".history li").inner_text().endswith("系统")  # the system raised it
    assert page.locator(".new-alarm").is_visible()

    card.locator("textarea[name=note]").fill("已电话联系店主")
    card.locator("[data-action=ack]").click()
    card = page.locator(f'[data-alarm-id="{alarm_id}"][data-status=acknowledged]')
    card.wait_for()
    card.locator("select[name=department]").select_option("gas")
    card.locator("textarea[name=note]").fill("转燃气公司上门")
    card.locator("[data-action=dispatch]").click()
    card = page.locator(f'[data-alarm-id="{alarm_id}"][data-status=dispatched]')
    card.wait_for()
    assert "燃气" in card.locator(".badge.dept").inner_text()
    card.locator("textarea[name=note]").fill("已更换软管")
    card.locator("[data-action=resolve]").click()
    card = page.locator(f'[data-alarm-id="{alarm_id}"][data-status=resolved]')
    card.wait_for()
    # Asked before a step nothing undoes, with the card's warning: the gas hazard is still to be fixed.
    due = patrol["findings"][0]["deadline"]
    warning = f"隐患尚未销号：燃气瓶/管道及报警器不安全（待整改 · 整改期限 {due}）"
    assert confirms == [f"{warning}\n确认办结该报警？办结后不能撤回。"]
    assert card.locator(".history li").count() == 4
    office_name = names[f"office:{logins['office'][0]['username']}"]
    assert card.locator(".history li").nth(3).inner_text().startswith("已办结 · ")
    assert office_name in card.locator(".history li").nth(3).inner_text()
    assert "已更换软管" in card.locator(".history").inner_text()

    stored = httpx.get(f"{gateway.url}/api/office/alarms/{alarm_id}", headers=office, timeout=30).json()
    assert stored["status"] == "resolved" and stored["department"] == "gas"
    steps = [(s["status"], s.get("department"), s.get("note", "")) for s in stored["history"]]
    assert steps[1:] == [
        ("acknowledged", None, "已电话联系店主"),
        ("dispatched", "gas", "转燃气公司上门"),
        ("resolved", None, "已更换软管"),
    ]
    assert all(s["by"] == f"office:{logins['office'][0]['username']}" for s in stored["history"][1:])

    # The resolved tab lists it; the open count went back down.
    page.click(".tabs a[href$='status=resolved']")
    page.locator(f'[data-alarm-id="{alarm_id}"][data-status=resolved]').wait_for()
    assert dialogs == []
    page.context.close()


def test_an_alarm_heard_while_the_desk_reads_its_list_stays_on_it(
    gateway: Gateway, browser: Any, logins: dict[str, Any]
) -> None:
    """The stream is live from the sign-in on, so a new alarm can come while the desk is still reading its list (a
    loaded machine, a clerk opening the desk as the alarm comes in): the list, read before the alarm was written,
    replaced the card the stream had drawn, and the desk never showed the alarm until it was opened again."""
    grid, grid_user, shop = grid_login(gateway, logins)
    page = office_page(browser, gateway, logins, "/office")
    page.wait_for_selector(".office[data-alarm-stream=live]", timeout=20_000)
    held: list[tuple[Any, Any]] = []  # the list's pages, read at once, handed to the desk when the test says
    page.route("**/api/office/alarms?*", lambda route: held.append((route, route.fetch())))
    follow(page, "/office/alarms")
    page.wait_for_function(
        "document.querySelector('.alarm-list')?.getAttribute('aria-busy') === 'true'", timeout=20_000
    )
    deadline = time.monotonic() + 20
    while len(held) < 3:  # one page for each status the desk shows (open, acknowledged, dispatched)
        assert time.monotonic() < deadline, [route.request.url for route, _ in held]
        page.wait_for_timeout(50)

    alarm_id = push_patrol(gateway, grid, serious_patrol(shop, grid_user))
    card = page.locator(f'[data-alarm-id="{alarm_id}"]')
    card.wait_for(timeout=30_000)  # from the stream
    card.locator("textarea[name=note]").fill("已电话联系店主")  # a step under way on it
    for route, response in held:
        route.fulfill(response=response)
    page.unroute("**/api/office/alarms?*")
    page.wait_for_selector(".alarm-list:not([aria-busy])", timeout=30_000)
    assert card.count() == 1 and card.get_attribute("data-status") == "open"
    assert card.locator("textarea[name=note]").input_value() == "已电话联系店主"
    assert page.locator(".alarm-list .empty").count() == 0
    page.context.close()


def test_a_withdrawn_alarm_leaves_the_open_desk(gateway: Gateway, browser: Any, logins: dict[str, Any]) -> None:
    """A two-module patrol whose second module's event arrived first: its early alarm goes from the open desk when
    the submission's alarm comes, so the desk shows one card for one submission."""
    worker = logins["grid_workers"][1]
    resp = httpx.post(
        f"{gateway.url}/api/auth/login", json={"username": worker["username"], "password": worker["password"]}
    )
    grid = {"Authorization": f"Bearer {resp.json()['token']}"}
    user, shop = resp.json()["user"]["id"], worker["shops"][0]
    a, b = serious_patrol(shop, user), serious_patrol(shop, user)
    a["performed_at"] = b["performed_at"]
    # Each module has its own items (one item found twice while unresolved is one hazard).
    b["findings"] = [{**b["findings"][0], "item": "ebike_indoor_charging", "note": "电瓶车在店内充电"}]
    first, second = sorted((a, b), key=lambda doc: str(doc["_id"]))

    page = office_page(browser, gateway, logins, "/office/alarms")
    page.wait_for_selector(".live[data-stream-state=live]", timeout=20_000)
    card = "[data-alarm-id='{}:alarm:{}']"
    for doc in (second, first):
        push_patrol(gateway, grid, doc)
        page.wait_for_selector(card.format(shop, doc["_id"].rsplit(":", 1)[1]), timeout=30_000)
    page.wait_for_selector(card.format(shop, second["_id"].rsplit(":", 1)[1]), state="detached", timeout=30_000)
    assert page.locator(card.format(shop, first["_id"].rsplit(":", 1)[1])).count() == 1
    page.context.close()


def test_a_new_alarm_reaches_the_office_on_any_screen(gateway: Gateway, browser: Any, logins: dict[str, Any]) -> None:
    """The office works in the registry: a serious finding shows there at once (a banner, the count beside the alarm
    desk, the tab's title), and the desk it leads to draws from the same one stream."""
    office = office_headers(gateway, logins)
    grid, grid_user, shop = grid_login(gateway, logins)
    page = office_page(browser, gateway, logins, "/office/registry")
    page.wait_for_selector(".office[data-alarm-stream=live]", timeout=20_000)
    streams: list[str] = []
    page.on("request", lambda r: streams.append(r.url) if r.url.endswith("/api/office/alarms/stream") else None)
    count = page.locator(".office-nav a[data-screen=alarms] .count")
    count.wait_for(state="attached")
    page.wait_for_function("document.querySelector('.office-nav .count').dataset.openAlarms !== undefined")
    before = int(count.get_attribute("data-open-alarms"))
    assert page.locator(".new-alarm").is_hidden()

    patrol = serious_patrol(shop, grid_user)
    alarm_id = push_patrol(gateway, grid, patrol)

    banner = page.locator(".new-alarm")
    banner.wait_for(state="visible", timeout=20_000)
    name = httpx.get(f"{gateway.url}/api/office/alarms/{alarm_id}", headers=office, timeout=30).json()["shop_name"]
    assert banner.inner_text().startswith(f"新报警：{name} · ") and "燃气" in banner.inner_text()
    page.wait_for_function(f"document.querySelector('.office-nav .count').dataset.openAlarms === '{before + 1}'")
    assert count.is_visible() and count.inner_text() == str(before + 1)
    assert page.title().startswith(f"({before + 1}) ")
    assert page.locator("[data-screen=registry] h1, .office-content h1").first.is_visible()  # still in the registry

    # The banner leads to the desk, which shows the alarm from the stream already open.
    banner.locator("[data-action=open-desk]").click()
    page.locator(f'[data-alarm-id="{alarm_id}"][data-status=open]').wait_for(timeout=20_000)
    assert page.locator(".live[data-stream-state=live]").is_visible()
    assert page.locator(".new-alarm [data-action=open-desk]").count() == 0  # on the desk, no link to it

    # Acknowledged elsewhere (another clerk): the count on the next screen goes back down, live.
    follow(page, "/office/shops")
    acked = httpx.post(f"{gateway.url}/api/office/alarms/{alarm_id}/ack", headers=office, json={}, timeout=30)
    assert acked.status_code == 200, acked.text
    page.wait_for_function(f"document.querySelector('.office-nav .count').dataset.openAlarms === '{before}'")
    assert not page.title().startswith(f"({before + 1}) ")
    # One stream for the whole session, opened at sign-in: neither the desk nor the other screens opened another.
    assert streams == []
    # Signing out ends it.
    with page.expect_event("requestfailed", lambda r: r.url.endswith("/api/office/alarms/stream"), timeout=30_000):
        page.click(".sign-out")
    page.context.close()


def test_the_overview_counts_a_new_alarm_without_a_reload(
    gateway: Gateway, browser: Any, logins: dict[str, Any]
) -> None:
    grid, grid_user, shop = grid_login(gateway, logins)
    page = office_page(browser, gateway, logins, "/office")
    figure = page.locator("[data-figure=open_alarms]")
    figure.wait_for(timeout=30_000)
    page.wait_for_selector(".office[data-alarm-stream=live]", timeout=20_000)
    before = int(figure.get_attribute("data-value"))
    page.evaluate("window.__sameDocument = true")

    patrol = serious_patrol(shop, grid_user)
    push_patrol(gateway, grid, patrol)
    page.wait_for_selector(f"[data-figure=open_alarms][data-value='{before + 1}']", timeout=30_000)
    assert page.locator("[data-figure=open_alarms] .big").inner_text() == str(before + 1)
    assert page.evaluate("window.__sameDocument") is True  # no reload
    page.context.close()


def test_an_alarms_photo_shows_when_it_arrives_after_the_alarm_and_opens_large(
    gateway: Gateway, browser: Any, logins: dict[str, Any]
) -> None:
    """The phone sends the text first, the photos after it: the desk shows the alarm before its photo exists on the
    server, then the photo by itself once it has arrived, without a redraw; a tap opens it over the screen."""
    grid, grid_user, shop = grid_login(gateway, logins)
    page = office_page(browser, gateway, logins, "/office/alarms")
    page.wait_for_selector(".live[data-stream-state=live]", timeout=20_000)
    patrol = serious_patrol(shop, grid_user)
    alarm_id = push_patrol(gateway, grid, patrol)
    [photo_id] = patrol["findings"][0]["photos"]
    thumb = page.locator(f'[data-alarm-id="{alarm_id}"] .photo-thumb:has(img[data-photo="{photo_id}"])')
    thumb.wait_for(timeout=20_000)
    page.wait_for_selector(f'[data-alarm-id="{alarm_id}"] .photo-thumb[data-photo-state=uploading]')
    assert thumb.is_disabled() and thumb.get_attribute("data-photo-label") == "照片上传中…"  # said, not a broken image

    picture = _camera_jpeg()
    photo = {
        "_id": photo_id,
        "type": "photo",
        "schema": 1,
        "shop": shop,
        "performed_at": patrol["performed_at"],
        "taken_at": patrol["performed_at"],
        "created_by": grid_user,
        "device": "d-browser-test",
        "_attachments": {"photo.jpg": {"content_type": "image/jpeg", "data": base64.b64encode(picture).decode()}},
    }
    sent = httpx.put(f"{gateway.url}/sync/{photo_id}", headers=grid, json=photo, timeout=30)
    assert sent.status_code == 201, sent.text
    page.wait_for_selector(f'[data-alarm-id="{alarm_id}"] .photo-thumb[data-photo-state=shown]', timeout=30_000)
    assert thumb.get_attribute("data-photo-label") is None
    thumb.click()
    viewer = page.locator("dialog.photo-viewer[open] img")
    viewer.wait_for()
    size = viewer.evaluate("(img) => img.decode().then(() => [img.naturalWidth, img.clientWidth])")
    assert size[0] == 1200 and size[1] > 96 * 4  # the whole picture, far larger than its thumbnail
    page.keyboard.press("Escape")
    page.wait_for_selector("dialog.photo-viewer", state="detached")


def test_a_step_a_colleague_overtook_says_so_and_keeps_the_note(
    gateway: Gateway, browser: Any, logins: dict[str, Any]
) -> None:
    """Two clerks on one alarm: one closes it while the other is dispatching it with a note. The second is told, on
    the closed card, that it was closed meanwhile, and sees the note they typed (it was not saved). Closing an alarm
    nobody was sent to asks first, and says so."""
    office = office_headers(gateway, logins)
    grid, grid_user, shop = grid_login(gateway, logins)
    patrol = serious_patrol(shop, grid_user)
    alarm_id = push_patrol(gateway, grid, patrol)
    page = office_page(browser, gateway, logins, "/office/alarms")
    card = page.locator(f'[data-alarm-id="{alarm_id}"]')
    card.wait_for(timeout=20_000)
    questions: list[str] = []

    def dismiss(dialog: Any) -> None:
        questions.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
    card.locator("[data-action=resolve]").click()
    # The hazard the patrol found is not closed: said first, then the question (7f3ad13).
    [question] = questions
    warning, ask = question.split("\n")
    assert warning.startswith("隐患尚未销号：") and "待整改" in warning
    assert ask == "该报警尚未派单。确认不派单直接办结？办结后不能撤回。"
    assert card.get_attribute("data-status") == "open"  # dismissed: nothing happened

    # The colleague closes it in the moment this clerk's dispatch is on its way.
    def colleague_first(route: Any) -> None:
        closed = httpx.post(f"{gateway.url}/api/office/alarms/{alarm_id}/resolve", headers=office, json={}, timeout=30)
        assert closed.status_code == 200, closed.text
        route.continue_()

    page.route(lambda url: url.endswith("/dispatch"), colleague_first)
    card.locator("textarea[name=note]").fill("派燃气公司上门检修")
    card.locator("[data-action=dispatch]").click()
    said = page.locator(f'[data-alarm-id="{alarm_id}"][data-status=resolved] .form-status.error')
    said.wait_for(timeout=20_000)
    assert "该报警刚被他人处理，现为「已办结」" in said.inner_text() and "派燃气公司上门检修" in said.inner_text()


def test_a_revoked_office_session_goes_back_to_the_sign_in(
    gateway: Gateway, browser: Any, logins: dict[str, Any]
) -> None:
    page = office_page(browser, gateway, logins, "/office/alarms")
    page.wait_for_selector(".office-content > .screen")
    office = office_headers(gateway, logins)
    user_id = f"office:{logins['office'][0]['username']}"
    revoked = httpx.post(f"{gateway.url}/api/office/users/{user_id}/revoke", headers=office, timeout=30)
    assert revoked.status_code == 200, revoked.text
    page.click(".office-nav a[href='/office']")  # the next call to the server meets a revoked token
    page.wait_for_selector("[data-form=office-signin]", timeout=20_000)


def test_an_alarm_an_owners_self_check_raised_names_the_shops_grid_worker(
    gateway: Gateway, browser: Any, logins: dict[str, Any]
) -> None:
    """A self-check's alarm has no patrol author: the desk names the grid workers of the shop's grid (the people the
    office calls first), and says where the alarm came from."""
    owner = logins["owners"][0]
    shop = owner["shop"]
    [worker] = [w for w in logins["grid_workers"] if shop in w["shops"]]
    check = owners_self_check(gateway, owner, open_flame=True)
    page = office_page(browser, gateway, logins, "/office/alarms")
    card = page.locator(f'[data-alarm-id="{shop}:alarm:{check["_id"].rsplit(":", 1)[1]}"]')
    card.wait_for(timeout=30_000)
    staff = httpx.get(f"{gateway.url}/api/office/users", headers=office_headers(gateway, logins), timeout=30)
    name = {user["id"]: user["name"] for user in staff.json()["items"]}[f"grid:{worker['username']}"]
    meta = card.locator(".meta").inner_text()
    assert f"网格员 {name}" in meta and "来源：每周自查" in meta


def test_the_district_office_sees_whether_its_webhook_got_each_alarm(
    demo_district: Path, tmp_path: Path, browser: Any, logins: dict[str, Any]
) -> None:
    """The webhook's receiver is down: the desk's delivery log says each attempt failed, and when the next comes."""
    data = tmp_path / "data"
    shutil.copytree(demo_district, data)
    closed = free_port()  # nothing listens there
    env = {"MASHANG_WEBHOOK_URL": f"http://127.0.0.1:{closed}/hook", "MASHANG_WEBHOOK_BACKOFF_SECONDS": "30"}
    gateway = Gateway(data, env=env).start()
    try:
        grid, grid_user, shop = grid_login(gateway, logins)
        patrol = serious_patrol(shop, grid_user)
        push_patrol(gateway, grid, patrol)
        page = office_page(browser, gateway, logins, "/office/alarms")
        log = page.locator("details[data-webhook-log]")
        log.locator("summary").click()
        row = log.locator(f'tr[data-ok="false"]:not([data-sending]):has(a[href="/office/shops/{shop}"])').first
        for _ in range(20):  # the first attempt follows the alarm within moments
            if row.count():
                break
            page.wait_for_timeout(500)
            log.locator("button").click()
        assert "失败" in row.inner_text() and "重试" in row.inner_text()
    finally:
        gateway.stop()


def test_the_desk_shows_what_was_found_and_whether_its_hazards_are_closed(
    gateway: Gateway, browser: Any, logins: dict[str, Any]
) -> None:
    """The card says what the grid worker found, in words and with their note, and where each hazard stands; beside
    办结 it says which are not closed yet. A hazard verified fixed since shows 已销号 when the desk reads again; the
    office may still resolve the alarm with the other one open, and the resolved card keeps saying so."""
    office = office_headers(gateway, logins)
    grid, grid_user, shop = grid_login(gateway, logins)
    page = office_page(browser, gateway, logins, "/office/alarms")
    page.on("dialog", lambda dialog: dialog.accept())
    page.wait_for_selector(".live[data-stream-state=live]", timeout=20_000)

    patrol = serious_patrol(shop, grid_user)
    gas = patrol["findings"][0]
    gas["note"] = "阁楼住人处使用煤气灶做饭"
    patrol["findings"].append({**gas, "id": "f2", "item": "ebike_indoor_charging", "note": ""})
    alarm_id = push_patrol(gateway, grid, patrol)
    due = f"整改期限 {gas['deadline']}"

    card = page.locator(f'[data-alarm-id="{alarm_id}"]')
    card.wait_for(timeout=20_000)  # from the live stream: its items carry their findings too
    gas_row, ebike_row = card.locator("[data-item=gas_safe]"), card.locator("[data-item=ebike_indoor_charging]")
    assert gas_row.locator("[data-field=item]").inner_text() == "燃气瓶/管道及报警器不安全"  # words, not the id
    assert gas_row.locator("[data-field=note]").inner_text().endswith("阁楼住人处使用煤气灶做饭")
    assert gas_row.get_attribute("data-hazard-status") == "open"
    assert gas_row.locator(".badge.hz").inner_text() == f"待整改 · {due}"
    assert ebike_row.locator("[data-field=item]").inner_text() == "电瓶车店内充电"
    assert ebike_row.locator("[data-field=note]").count() == 0  # no note, no empty line
    warning = card.locator(".alarm-actions [data-hazards-not-closed]")
    assert warning.get_attribute("data-hazards-not-closed") == "2"
    both = f"燃气瓶/管道及报警器不安全（待整改 · {due}）、电瓶车店内充电（待整改 · {due}）"
    assert warning.inner_text() == f"隐患尚未销号：{both}"

    # The grid worker makes the shop take the e-bike out and verifies it on the spot: that hazard is closed.
    ebike = f"{alarm_id.split(':')[0]}:hazard:{patrol['_id'].rsplit(':', 1)[1]}-f2"
    verification = {
        "_id": f"{shop}:verification:{new_ulid()}",
        "type": "verification",
        "schema": 1,
        "shop": shop,
        "performed_at": datetime.now(SHANGHAI).replace(microsecond=0).isoformat(),
        "created_by": grid_user,
        "device": "d-browser-test",
        "hazard": ebike,
        "rectification": None,
        "passed": True,
        "note": "电瓶车已移出店外",
    }
    sent = httpx.post(f"{gateway.url}/sync/_bulk_docs", headers=grid, json={"docs": [verification]}, timeout=30)
    assert sent.status_code == 201 and sent.json()[0].get("ok"), sent.text
    deadline = time.monotonic() + 30
    while True:  # the validators close it behind the write
        shown = httpx.get(f"{gateway.url}/api/office/alarms/{alarm_id}", headers=office, timeout=30).json()
        if shown["items"][1]["hazard_status"] == "closed":
            break
        assert time.monotonic() < deadline, shown
        time.sleep(0.2)

    follow(page, "/office/shops")
    open_screen(page, "alarms")
    card = page.locator(f'[data-alarm-id="{alarm_id}"]')
    card.wait_for()
    assert card.locator("[data-item=ebike_indoor_charging] .badge.hz").inner_text() == "已销号"
    warning = card.locator(".alarm-actions [data-hazards-not-closed]")
    assert warning.get_attribute("data-hazards-not-closed") == "1"
    assert warning.inner_text() == f"隐患尚未销号：燃气瓶/管道及报警器不安全（待整改 · {due}）"

    # Resolving is the office's call, not forbidden: the resolved card still shows the open hazard.
    card.locator("[data-action=resolve]").click()
    card = page.locator(f'[data-alarm-id="{alarm_id}"][data-status=resolved]')
    card.wait_for(timeout=20_000)
    assert card.locator("[data-item=gas_safe] .badge.hz").inner_text() == f"待整改 · {due}"
    assert card.locator("[data-item=gas_safe] [data-field=note]").inner_text().endswith("阁楼住人处使用煤气灶做饭")
    assert card.locator("[data-hazards-not-closed]").count() == 0  # no step left to take
    page.context.close()
