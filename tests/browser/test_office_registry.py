"""The registry desk in a real Chromium: a 200-shop survey spreadsheet (XLSX) imported through the page, with its
progress bar and validation report, then the QR posters of one community printed: every page's QR code decodes
to the public card of exactly the right shop."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pypdfium2
import pytest
import zxingcpp
from openpyxl import Workbook

from server.accounts import Accounts
from server.store.protocol import Store
from tests.browser.office import demo_copy, office_headers, office_page
from tests.gateway import Gateway

XINQIAO, CHUNHUI = "新桥社区", "春晖社区"
HOSTILE = "<img src=x onerror=alert(1)>"


def survey(path: Path) -> dict[str, str]:
    """200 shops (120 in 新桥社区, 80 in 春晖社区), plus one row without an address and one duplicate code;
    answers each good shop's community."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["店铺编号", "店铺名称", "地址", "类别", "社区", "网格"])
    communities: dict[str, str] = {}
    for n in range(1, 201):
        code = f"X{n:04d}"
        community = XINQIAO if n <= 120 else CHUNHUI
        grid = f"{community[:2]}{(n - 1) % 4 + 1}网格"
        name = HOSTILE if n == 7 else f"新开小店{n}号"
        sheet.append([code, name, f"新桥路{n}号", "餐饮", community, grid])
        communities[code] = community
    sheet.append(["X0201", "没有地址的店", "", "餐饮", XINQIAO, "新桥1网格"])  # line 202: refused
    sheet.append(["X0005", "重复的店", "新桥路5号", "餐饮", XINQIAO, "新桥1网格"])  # line 203: duplicate
    book.save(path)
    return communities


def qr_codes(pdf: bytes) -> list[str]:
    found: list[str] = []
    doc = pypdfium2.PdfDocument(io.BytesIO(pdf))
    try:
        for page in doc:
            image = page.render(scale=1.5).to_pil()
            codes = [r.text for r in zxingcpp.read_barcodes(image) if r.format == zxingcpp.BarcodeFormat.QRCode]
            assert len(codes) == 1, f"page {len(found) + 1}: {len(codes)} QR codes"
            found.append(codes[0])
    finally:
        doc.close()
    return found


def test_import_a_survey_then_print_one_communitys_posters(
    gateway: Gateway, browser: Any, logins: dict[str, Any], tmp_path: Path
) -> None:
    communities = survey(tmp_path / "survey.xlsx")
    page = office_page(browser, gateway, logins, "/office/registry")
    # The first three progress requests find no server (as while it restarts): the page keeps asking.
    lost: list[str] = []

    def restarting(route: Any) -> None:
        if len(lost) < 3:
            lost.append(route.request.url)
            route.abort("connectionrefused")
        else:
            route.continue_()

    page.route("**/api/office/import/*", restarting)
    page.set_input_files("[data-form=import] input[name=file]", str(tmp_path / "survey.xlsx"))
    page.click("[data-form=import] button[type=submit]")
    page.wait_for_selector("text=暂时连不上服务器，正在重试", timeout=60_000)
    page.wait_for_selector("[data-import-status=done]", timeout=60_000)
    assert len(lost) == 3
    assert page.locator("text=暂时连不上服务器").count() == 0  # answered again: the progress says no more

    bar = page.locator("[data-import-progress]")
    assert bar.get_attribute("max") == "202" and bar.get_attribute("value") == "202"
    report = page.locator("[data-table=import-errors]").inner_text()
    assert "202\t地址" in report  # the row without an address, by line and field (as the survey names it)
    assert "203" in report and "X0005" in report  # the duplicate code
    assert "新增 200" in page.locator(".import-report").inner_text()

    office = office_headers(gateway, logins)
    shops = httpx.get(f"{gateway.url}/api/office/shops?limit=500", headers=office, timeout=30).json()["items"]
    imported = {s["code"]: s for s in shops if s["code"].startswith("X")}
    assert set(imported) == set(communities)
    assert imported["X0007"]["name"] == HOSTILE

    # The communities the import created are listed for printing; print 新桥社区's posters.
    row = page.locator("[data-table=communities] tr", has_text=XINQIAO)
    row.wait_for()
    with page.expect_download(timeout=120_000) as info:
        row.locator("button[data-posters]").click()
    pdf = Path(info.value.path()).read_bytes()
    assert pdf.startswith(b"%PDF")
    # 120 posters take seconds: the screen said it was making them, and now says they are downloaded.
    page.wait_for_selector(f".form-status.ok:has-text('{info.value.suggested_filename}')")

    urls = qr_codes(pdf)
    expected = {code for code, community in communities.items() if community == XINQIAO}
    assert len(urls) == len(expected) == 120
    assert {url.rsplit("/s/", 1)[1] for url in urls} == expected
    assert all(url == f"{gateway.url}/s/{url.rsplit('/s/', 1)[1]}" for url in urls)
    assert page.locator("img[src='x']").count() == 0
    page.context.close()


def test_registry_forms_add_a_community_grid_user_and_shop_and_hand_out_an_activation_code(
    gateway: Gateway, browser: Any, logins: dict[str, Any]
) -> None:
    page = office_page(browser, gateway, logins, "/office/registry")
    page.on("dialog", lambda d: d.accept("new-password-123") if d.type == "prompt" else d.accept())
    page.wait_for_selector("[data-form=community]")

    def submit(form: str, **fields: str) -> None:
        f = page.locator(f"[data-form={form}]")
        for name, value in fields.items():
            control = f.locator(f"[name={name}]")
            if control.evaluate("e => e.tagName") == "SELECT":
                control.select_option(value)
            else:
                control.fill(value)
        f.locator("button[type=submit]").click()
        f.locator(".form-status.ok").wait_for()

    submit("user", role="grid", username="xiaoma", name="小马", password="xiaoma-password")
    page.locator("[data-table=users] tr", has_text="xiaoma").wait_for()
    submit("community", code="xinqiao", name="新桥社区")  # offered at once by the grid form
    submit("grid", code="xq1", name="新桥一网格", community="xinqiao", workers="xiaoma")
    submit("shop", code="X0001", name="新桥面馆", address="新桥路1号", category="restaurant", grid="xq1")
    submit("shop", code="X0001", name="新桥面馆（总店）")  # the same code again edits it
    # The category and the grid are offered from lists, and taken in words: a survey's word, a grid's name.
    offered = page.locator("[data-form=shop] datalist#shop-category-choices option")
    assert "餐饮" in offered.all_inner_texts() and page.locator("#shop-grid-choices option").count() >= 1
    submit("shop", code="X0002", name="新桥超市", address="新桥路2号", category="超市", grid="新桥一网格")

    office = office_headers(gateway, logins)
    shop = httpx.get(f"{gateway.url}/api/office/shops/X0001/efile", headers=office, timeout=30).json()["shop"]
    assert (shop["name"], shop["address"], shop["grid"], shop["community"]) == (
        "新桥面馆（总店）",
        "新桥路1号",
        "xq1",
        "xinqiao",
    )
    second = httpx.get(f"{gateway.url}/api/office/shops/X0002/efile", headers=office, timeout=30).json()["shop"]
    assert (second["category"], second["grid"]) == ("retail", "xq1")
    # Sub-districts are named for the monthly report's heading: the demo's is offered, a new one can be named.
    assert page.locator("#subdistrict-codes option[value=minglou]").inner_text() == "明楼街道"
    submit("subdistrict", code="dongliu", name="东柳街道")
    named = httpx.get(f"{gateway.url}/api/office/registry/subdistricts", headers=office, timeout=30).json()["items"]
    assert {(d["code"], d["name"], d["communities"]) for d in named} >= {
        ("dongliu", "东柳街道", 0),
        ("minglou", "明楼街道", 3),
    }

    # The new grid worker signs in and sees the new shop's partition.
    worker = httpx.post(
        f"{gateway.url}/api/auth/login", json={"username": "xiaoma", "password": "xiaoma-password"}, timeout=30
    )
    assert worker.status_code == 200, worker.text

    # An owner activation code handed out here activates the owner's account.
    f = page.locator("[data-form=activation]")
    f.locator("input[name=shop]").fill("X0001")
    f.locator("button[type=submit]").click()
    text = f.locator(".form-status.ok").inner_text()
    code = text.split("激活码 ", 1)[1].split("，", 1)[0].strip()
    owner = httpx.post(
        f"{gateway.url}/api/auth/activate", json={"shop": "X0001", "code": code, "pin": "246810"}, timeout=30
    )
    assert owner.status_code == 200 and owner.json()["user"]["id"] == "owner:X0001", owner.text

    # A password reset from the users table: the old password stops working, the new one works.
    page.locator("[data-table=users] tr", has_text="xiaoma").locator("button", has_text="重置密码").click()
    page.locator(".form-status.ok", has_text="xiaoma").or_(page.locator(".form-status.ok", has_text="小马")).wait_for()
    old = httpx.post(f"{gateway.url}/api/auth/login", json={"username": "xiaoma", "password": "xiaoma-password"})
    new = httpx.post(f"{gateway.url}/api/auth/login", json={"username": "xiaoma", "password": "new-password-123"})
    assert (old.status_code, new.status_code) == (401, 200)
    page.context.close()


GUESSES = 60  # failed sign-ins: more than one page of the log (50)


async def _guessed(store: Store, accounts: Accounts) -> None:
    """Someone guessed the passwords of many staff names, before the office looks."""
    for n in range(GUESSES):
        await accounts.audit("login_failed", f"staff:guess{n:02d}", "203.0.113.7", "Wrong username or password.")


@pytest.fixture
def guessed(demo_district: Path, tmp_path: Path) -> Iterator[Gateway]:
    gw = Gateway(demo_copy(demo_district, tmp_path / "data", _guessed)).start()
    try:
        yield gw
    finally:
        gw.stop()


def test_the_sign_in_and_account_log_reads_back_a_page_at_a_time(
    guessed: Gateway, browser: Any, logins: dict[str, Any]
) -> None:
    office = office_headers(guessed, logins)
    made = {"role": "grid", "username": "xiaoniu", "password": "xiaoniu-password", "name": "小牛"}
    assert httpx.post(f"{guessed.url}/api/office/users", json=made, headers=office, timeout=30).status_code == 201
    page = office_page(browser, guessed, logins, "/office/registry")
    log = page.locator("[data-table=audit]")
    log.wait_for()
    rows = log.locator("tbody tr")
    assert rows.count() == 50
    newest = rows.first
    assert newest.get_attribute("data-event") == "staff_created"
    assert [newest.locator("td").nth(i).inner_text() for i in (1, 2)] == ["新建账号", "xiaoniu"]
    assert rows.nth(1).locator("td").nth(1).inner_text() == "登录失败"
    assert rows.nth(1).locator("td").nth(3).inner_text() == "203.0.113.7"
    # Older entries, a page at a time, to the first: every guess is there once.
    older = page.locator("[data-audit] button", has_text="更早的记录")
    while older.count():
        older.click()
        page.wait_for_selector("[data-audit] [aria-busy=true]", state="detached")
    page.locator("[data-audit-end]").wait_for()
    guesses = log.locator("tbody tr[data-event=login_failed]").evaluate_all(
        "rows => rows.map(r => r.children[2].textContent)"
    )
    assert sorted(g for g in guesses if g.startswith("guess")) == [f"guess{n:02d}" for n in range(GUESSES)]
    page.context.close()
