"""A grid worker with a city grid's list in a real Chromium: the list draws its cards a page at a time and the rest as
the worker scrolls; opened again (a reload) it shows the same list from what the phone saved, and a patrol submitted
then is on its card as soon as the list is back."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.field import sign_in_grid, wait_true
from tests.gateway import Gateway, mashang

SHOPS = 60  # more than a page of the list (pwa/src/grid/list.ts PAGE)
PAGE = 40
SAVED = """() => new Promise((resolve) => {
  const open = indexedDB.open('_pouch_mashang');
  open.onerror = () => resolve(false);
  open.onsuccess = () => {
    const get = open.result.transaction('local-store').objectStore('local-store').get('_local/grid-list');
    get.onsuccess = () => resolve(!!get.result);
    get.onerror = () => resolve(false);
  };
})"""


@pytest.fixture(scope="module")
def city_grid(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Gateway, dict[str, Any]]]:
    """One grid worker with all the shops, two months of history, and a gateway on it."""
    data = tmp_path_factory.mktemp("city-grid") / "data"
    # In its own process: the browser's event loop may be running in this one already.
    mashang("demo", "--data", str(data), "--shops", str(SHOPS), "--grid-workers", "1", "--months", "2", "--seed", "5")
    logins: dict[str, Any] = json.loads((data / "logins.json").read_text(encoding="utf-8"))
    gateway = Gateway(Path(data)).start()
    try:
        yield gateway, logins
    finally:
        gateway.stop()


def _cards(page: Any) -> list[str]:
    codes: list[str] = page.eval_on_selector_all("a.g-shop", "links => links.map((a) => a.dataset.shop)")
    return codes


def _self_checked(gateway: Gateway, codes: list[str]) -> str:
    """A shop of `codes` with an owner's self-check (the patrol is prefilled from it, so it can be submitted)."""
    with gateway.client() as client:
        for code in codes:
            params = {"startkey": json.dumps(f"{code}:self_check:"), "endkey": json.dumps(f"{code}:self_check:\ufff0")}
            if client.get("/sync/_all_docs", params=params).json()["rows"]:
                return code
    raise AssertionError("no shop on the list's first page has a self-check")


def test_a_city_grid_list_pages_reopens_and_follows_a_patrol(
    demo_district: Path, city_grid: tuple[Gateway, dict[str, Any]], context: Any
) -> None:
    # `demo_district` (unused here) is built before the browser starts: the other tests' demo runs in this process,
    # and cannot once Playwright's event loop runs in it.
    del demo_district
    gateway, logins = city_grid
    worker = logins["grid_workers"][0]
    assert len(worker["shops"]) == SHOPS
    page = context.new_page()
    page.set_default_timeout(60_000)  # a busy CI machine is slow, not broken
    sign_in_grid(page, gateway, worker)
    page.wait_for_selector('[data-sync-state="synced"]', timeout=90_000)
    page.wait_for_function(
        "(m => m && !m.hidden && m.dataset.left === '20')(document.querySelector('[data-action=more-shops]'))"
    )
    assert len(_cards(page)) == PAGE

    # Scrolled to the end of the list, the rest comes by itself.
    page.locator("[data-action=more-shops]").scroll_into_view_if_needed()
    page.wait_for_function(f"document.querySelectorAll('a.g-shop').length === {SHOPS}")
    assert page.is_hidden("[data-action=more-shops]")
    listed = _cards(page)
    assert sorted(listed) == sorted(worker["shops"])
    # Once the download has caught up, the list is saved on the phone (a `_local` document of PouchDB's database).
    wait_true(page, SAVED)

    # Opened again: the same list, in the same order.
    page.reload()
    page.wait_for_function(f"document.querySelectorAll('a.g-shop').length === {PAGE}")
    assert _cards(page) == listed[:PAGE]

    # A patrol at a shop still to patrol, submitted: back on the list, its card says so.
    due = page.eval_on_selector_all("a.g-shop:has([data-due=patrol])", "links => links.map((a) => a.dataset.shop)")
    code = _self_checked(gateway, due)
    page.click(f'a.g-shop[data-shop="{code}"]')
    page.click('a[data-action="patrol"]')
    page.wait_for_selector('form.g-patrol fieldset[data-item="open_flame"]')
    page.click('form.g-patrol button[type="submit"]')
    page.wait_for_selector("[data-flash]")
    page.wait_for_selector(f'a.g-shop[data-shop="{code}"] [data-due="patrolled"]')
