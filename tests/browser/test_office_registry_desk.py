"""The registry desk in a real Chromium, on the demo district: a wrong password said in Chinese at the office's
sign-in, a grid whose grid workers are all taken off through its 修改 form, and a survey without codes (given the
next free ones, listed for the posters) with a misspelt community (refused, naming the registered one), and a
shop added and then edited through the shop form with no failed request and no error in the console."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from tests.browser.office import DESKTOP, office_headers, office_page
from tests.gateway import Gateway


def test_a_wrong_password_is_said_in_chinese_at_the_offices_sign_in(gateway: Gateway, browser: Any) -> None:
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{gateway.url}/office")
    page.fill("[data-form=office-signin] input[name=username]", "nobody")
    page.fill("[data-form=office-signin] input[name=password]", "wrong-password")
    page.click("[data-form=office-signin] button[type=submit]")
    status = page.locator("[data-form=office-signin] .form-status.error")
    status.wait_for()
    assert "用户名或密码错误" in status.inner_text() and "Wrong" not in status.inner_text()
    context.close()


def grids(gateway: Gateway, logins: dict[str, Any]) -> dict[str, dict[str, Any]]:
    office = office_headers(gateway, logins)
    items = httpx.get(f"{gateway.url}/api/office/registry/communities", headers=office, timeout=30).json()["items"]
    return {g["code"]: g for c in items for g in c["grids"]}


def test_every_grid_worker_of_a_grid_is_taken_off_through_its_form(
    gateway: Gateway, browser: Any, logins: dict[str, Any]
) -> None:
    code, grid = next((code, g) for code, g in grids(gateway, logins).items() if g["workers"])
    page = office_page(browser, gateway, logins, "/office/registry")
    asked: list[str] = []

    def answer(dialog: Any) -> None:
        asked.append(dialog.message)
        dialog.accept()

    page.on("dialog", answer)
    page.locator(f"[data-edit-grid='{code}']").click()
    form = page.locator("[data-form=grid]")
    form.locator("input[name=workers]").fill("")
    form.locator("button[type=submit]").click()
    form.locator(".form-status.ok").wait_for()
    assert grids(gateway, logins)[code]["workers"] == []
    assert len(asked) == 1 and grid["workers"][0] in asked[0]  # asked first, naming them
    page.context.close()


def test_a_survey_without_codes_and_with_a_misspelt_community(
    gateway: Gateway, browser: Any, logins: dict[str, Any], tmp_path: Path
) -> None:
    survey = tmp_path / "普查表.csv"
    survey.write_text(
        "店铺名称,地址,类别,社区,网格\r\n"
        "新开面馆,曙光北路99号,面馆,划船社区,huachuan-01\r\n"
        "打错社区的店,曙光北路98号,超市,划般社区,一网格\r\n",
        encoding="utf-8-sig",
    )
    page = office_page(browser, gateway, logins, "/office/registry")
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.url) if r.method == "POST" and "/api/office/import" in r.url else None)
    assert "自动编号" in page.locator("[data-import-codes]").inner_text()
    page.check("[data-form=import] input[name=dry_run]")
    page.set_input_files("[data-form=import] input[name=file]", str(survey))
    page.click("[data-form=import] button[type=submit]")
    page.wait_for_selector("[data-import-status=done]", timeout=60_000)
    assert [parse_qs(urlsplit(url).query)["file"] for url in sent] == [["普查表.csv"]]  # the audit log's name for it
    assigned = page.locator("[data-table=import-assigned] tbody tr").all_inner_texts()
    assert [row.split("\t")[:3] for row in assigned] == [["2", "S0031", "新开面馆"]]
    errors = page.locator("[data-table=import-errors]").inner_text()
    assert "“划般社区”与已登记的社区“划船社区”只差一个字，是否写错？" in errors
    assert "只差一个字" in page.locator("[data-import-warnings]").inner_text()
    page.context.close()


def test_a_shop_is_added_and_edited_from_the_registry_form_with_a_clean_console(
    gateway: Gateway, browser: Any, logins: dict[str, Any]
) -> None:
    # Adding a shop first tried a PATCH, whose 404 the console logged as an error, before it created the shop.
    grid = next(iter(grids(gateway, logins)))
    page = office_page(browser, gateway, logins, "/office/registry")
    form = page.locator("[data-form=shop]")
    form.wait_for()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"failed: {r.method} {r.url}"))
    page.on(
        "response", lambda r: problems.append(f"{r.status}: {r.request.method} {r.url}") if r.status >= 400 else None
    )
    methods: list[str] = []
    page.on(
        "request", lambda r: methods.append(r.method) if "/api/office/shops" in r.url and r.method != "GET" else None
    )

    def save(**fields: str) -> None:
        for name, value in fields.items():
            form.locator(f"input[name={name}]").fill(value)
        form.locator("button[type=submit]").click()
        form.locator(".form-status.ok").wait_for()

    save(code="N0001", name="新开茶铺", address="曙光路1号", category="餐饮", grid=grid)
    assert methods == ["POST"]  # created at once
    save(code="N0001", name="新开茶铺（二店）", address="", category="", grid="")
    assert methods == ["POST", "PATCH"]  # the same code again edits it
    assert problems == []
    office = office_headers(gateway, logins)
    shop = httpx.get(f"{gateway.url}/api/office/shops/N0001/efile", headers=office, timeout=30).json()["shop"]
    assert (shop["name"], shop["address"], shop["grid"]) == ("新开茶铺（二店）", "曙光路1号", grid)
    page.context.close()
