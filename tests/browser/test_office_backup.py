"""The sync monitor in a real Chromium tells the office about backups: a demo district never backed up is a
warning; once `mashang backup` has run beside the gateway, the screen says when, and how much it holds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.browser.office import office_page, open_screen, settle
from tests.gateway import Gateway
from tests.test_backup import run


def test_the_sync_monitor_warns_until_the_store_is_backed_up(
    gateway: Gateway, browser: Any, logins: dict[str, Any], tmp_path: Path
) -> None:
    page = office_page(browser, gateway, logins, "/office/sync")
    settle(page)
    line = page.locator("[data-backup]")
    line.wait_for()
    assert line.get_attribute("data-warn") == "true" and "数据尚未备份" in line.inner_text()

    made = run("backup", "--data", str(gateway.data_dir), "--to", str(tmp_path / "backup"))
    assert made.returncode == 0, made.stderr
    documents = made.stdout.split("database: ", 1)[1].split(" documents", 1)[0]
    open_screen(page, "")  # away and back: the screen reads the monitor again (a reload would sign the office out)
    open_screen(page, "sync")
    page.locator("[data-backup][data-warn=false]").wait_for()
    assert "最近一次备份" in line.inner_text() and f"{documents} 条文档" in line.inner_text()
    page.context.close()
