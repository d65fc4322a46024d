"""A sub-district's first week, from an empty data folder (no demo): `mashang setup`, then the office imports the
survey as Excel saved it (GBK, a title row above the headings, a total line below), makes a grid worker's account
and puts it on its grid (typing her name); the grid worker, on a 360 px phone, opens a patrol, and the owner
activates with the code the grid worker handed out (typed first where the PIN goes) and opens the weekly
self-check. Both find the checklist there: a store set up without the demo gave the phones none ("本机还没有检查表",
on a phone that was online and synced)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.field import sign_in_grid
from tests.browser.office import signed_in
from tests.gateway import ROOT, Gateway

OFFICE = {"username": "zhangli", "password": "anjian-2026"}
SUBDISTRICT = ("--subdistrict", "xingfu", "--subdistrict-name", "幸福街道")
WORKER = {"username": "lina", "password": "lina-2026"}
SURVEY = "\r\n".join(
    [
        "幸福街道“多小散”店铺安全普查表（2026年11月）,,,,,,,",
        "店铺编号,店铺名称,经营地址,行业类别,所属社区,所属网格,负责人,联系电话",
        "XQ001,老王面馆,幸福路1号,面馆,幸福社区,幸福一网格,王建国,13800000001",
        "XQ002,好又多超市,幸福路3号,超市,幸福社区,幸福一网格,李梅,13800000002",
        "XQ003,平安五金,和平街2号,五金,和平社区,和平一网格,赵平,13800000004",
        "XQ003,平安五金（重复）,和平街2号,五金,和平社区,和平一网格,赵平,13800000004",
        "合计,3 家,,,,,,",
    ]
).encode("gbk")


@pytest.fixture
def new_district(tmp_path: Path) -> Iterator[Gateway]:
    """`mashang setup` on an empty folder, as the README says, and a gateway on it. (Its own process: Playwright's
    sync API keeps an event loop running in the test's thread.)"""
    data = tmp_path / "data"
    setup = [*("--username", OFFICE["username"], "--name", "张丽"), *SUBDISTRICT]
    done = subprocess.run(
        [sys.executable, "-m", "server.cli", "setup", "--data", str(data), *setup],
        input=OFFICE["password"] + "\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    gateway = Gateway(data).start()
    try:
        yield gateway
    finally:
        gateway.stop()


def _registry_week(browser: Any, gateway: Gateway) -> None:
    page = signed_in(browser, gateway, OFFICE["username"], OFFICE["password"], "/office/registry")
    page.set_default_timeout(60_000)  # a busy CI machine is slow, not broken
    try:
        page.wait_for_selector("[data-import-help] [data-action=import-template]")
        survey = {"name": "普查表.csv", "mimeType": "text/csv", "buffer": SURVEY}
        page.set_input_files("[data-form=import] input[type=file]", files=[survey])
        page.click("[data-form=import] button[type=submit]")
        report = page.wait_for_selector(".import-report[data-import-status=done]")
        said = report.inner_text()
        assert "新增 3" in said and "出错 1" in said, said
        # The title row said; 负责人 and 联系电话 are the shops' contacts now, imported, not columns left out.
        assert "表头在第 2 行" in said and "联系电话" not in said
        assert "第 7 行“合计 3 家”是合计行" in said  # the total line is no shop without an address
        assert "幸福一网格（幸福社区）" in said  # the grids made, by their community's name (not c1)
        errors = page.locator("[data-table=import-errors] tbody tr")
        assert errors.count() == 1 and "与第 5 行重复" in errors.inner_text()
        assert errors.locator("td").nth(1).inner_text() == "店铺编号"
        page.wait_for_selector("[data-table=grids] [data-edit-grid]")  # the screen read the registry again

        user = "[data-form=user]"
        page.fill(f"{user} input[name=username]", WORKER["username"])
        page.fill(f"{user} input[name=name]", "李娜")
        page.fill(f"{user} input[name=password]", WORKER["password"])
        page.click(f"{user} button[type=submit]")  # the role was left as it was shown: 网格员
        page.wait_for_selector(f"[data-table=users] [data-user='grid:{WORKER['username']}']")

        row = page.locator("[data-table=grids] tbody tr", has_text="幸福社区").filter(has_text="幸福一网格")
        row.locator("[data-edit-grid]").click()
        assert page.input_value("[data-form=grid] input[name=name]") == "幸福一网格"
        # The office types the person it means: her name, not her account's username.
        page.fill("[data-form=grid] input[name=workers]", "李娜")
        page.click("[data-form=grid] button[type=submit]")
        page.wait_for_selector("[data-form=grid] .form-status.ok")
        assert page.input_value("[data-form=grid] input[name=workers]") == WORKER["username"]
        # The table says who is on the grid now (it went on showing nobody, as if the save had done nothing).
        row.locator("[data-grid-workers]", has_text="李娜（lina）").wait_for()
    finally:
        page.context.close()


def test_a_new_sub_district_from_setup_to_the_first_patrol_and_self_check(
    browser: Any, new_district: Gateway, context: Any
) -> None:
    gateway = new_district
    _registry_week(browser, gateway)

    phone = context.new_page()
    phone.set_default_timeout(60_000)
    sign_in_grid(phone, gateway, WORKER)
    phone.click('a.g-shop[data-shop="XQ001"]')
    phone.click('a[data-action="activation"]')
    phone.click('button[data-action="issue"]')
    code = phone.locator("[data-activation-code]").inner_text()
    phone.go_back()
    phone.click('a[data-action="patrol"]')
    phone.wait_for_selector('form.g-patrol fieldset[data-item="open_flame"]')
    assert phone.locator("text=本机还没有检查表").count() == 0

    owner = context.browser.new_context(viewport={"width": 360, "height": 740}, locale="zh-CN").new_page()
    owner.set_default_timeout(60_000)
    try:
        owner.goto(f"{gateway.url}/s/XQ001")  # the poster's QR code
        # A first-time owner types the code in the one field shown, the PIN's: it goes where it activates the shop
        # (cut to 6 digits it was a wrong PIN, and five of those locked the shop's sign-in for 15 minutes).
        owner.fill("input[name=pin]", code)
        owner.click("[data-form=owner-login] button[type=submit]")
        owner.wait_for_selector("details.activation[open]")
        assert owner.input_value("input[name=code]") == code and owner.input_value("input[name=pin]") == ""
        assert "这是激活码" in owner.locator("[data-form=activate]").inner_text()
        owner.fill("input[name=new_pin]", "480731")
        owner.fill("input[name=confirm_pin]", "480731")
        owner.click("[data-form=activate] button[type=submit]")
        owner.wait_for_selector("[data-owner-home]")
        owner.click("[data-action=check]")
        owner.wait_for_selector("input[name=open_flame]")
        assert owner.locator("text=本机还没有检查表").count() == 0
    finally:
        owner.context.close()
