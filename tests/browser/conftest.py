"""Browser tests: Debian's Chromium driven by Playwright against a real `mashang serve` on a small demo district.

The district (30 shops, 3 grid workers, 2 months of history, a fixed seed) is built once per session; every test
gets its own copy of it and its own gateway process with the validators running, so tests never see each other's
writes. `logins` is the district's logins.json (office, grid workers with their shops, activated owners' PINs).

The demo's history is drawn from the seed and the day it is built, so which shop has how many records, hazards or
fixes changes from one day to the next: a test makes the state it needs rather than count on the demo's. To build the
district as on another (past) day, set `MASHANG_TEST_DEMO_TODAY=YYYY-MM-DD` (the demo's `--today`).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from server.cli import main
from tests.gateway import ROOT, Gateway

CHROMIUM = os.environ.get("MASHANG_CHROMIUM", "/usr/bin/chromium")
DEMO = ["--shops", "30", "--grid-workers", "3", "--months", "2", "--seed", "11"]
if os.environ.get("MASHANG_TEST_DEMO_TODAY"):
    DEMO += ["--today", os.environ["MASHANG_TEST_DEMO_TODAY"]]


@pytest.fixture(scope="session")
def demo_district(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not (ROOT / "pwa" / "dist" / "index.html").exists():
        pytest.fail("The PWA is not built: run `make install` (browser tests serve pwa/dist).")
    data = tmp_path_factory.mktemp("browser-demo") / "data"
    assert main(["demo", "--data", str(data), *DEMO]) == 0
    return data


@pytest.fixture(scope="session")
def logins(demo_district: Path) -> dict[str, Any]:
    found: dict[str, Any] = json.loads((demo_district / "logins.json").read_text(encoding="utf-8"))
    return found


@pytest.fixture
def gateway(demo_district: Path, tmp_path: Path) -> Iterator[Gateway]:
    """A gateway with the validators on, on this test's own copy of the demo district."""
    data = tmp_path / "data"
    shutil.copytree(demo_district, data)
    gw = Gateway(data).start()
    try:
        yield gw
    finally:
        gw.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"No Chromium at {CHROMIUM}: `apt-get install -y chromium` (.ci/run does it).")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-background-networking"])
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    """A fresh profile (its own IndexedDB and service worker) with a phone's viewport."""
    ctx = browser.new_context(viewport={"width": 360, "height": 740}, locale="zh-CN", service_workers="allow")
    try:
        yield ctx
    finally:
        ctx.close()
