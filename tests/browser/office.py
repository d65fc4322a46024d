"""What the office browser tests share: a desktop page signed in as the office, and a grid worker's patrol."""

from __future__ import annotations

import asyncio
import shutil
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from server.accounts import Accounts
from server.auth import Tokens, load_secret
from server.settings import Settings
from server.store import open_store
from server.store.protocol import Store
from tests.gateway import Gateway
from tests.validators.builders import gas_leak_patrol
from tests.validators.served import alarm_id, self_check

SHANGHAI = ZoneInfo("Asia/Shanghai")
DESKTOP = {"width": 1280, "height": 900}


def demo_copy(demo: Path, data: Path, prepare: Callable[[Store, Accounts], Awaitable[None]]) -> Path:
    """A copy of the demo district in `data`, changed by `prepare` before any gateway opens it. `prepare` runs in a
    thread of its own: Playwright's sync API keeps an event loop running in the test's."""
    shutil.copytree(demo, data)

    async def run() -> None:
        settings = Settings.from_env(data_dir=data, couchdb_url=None)
        store = await open_store(settings)
        try:
            await prepare(store, Accounts(store, Tokens(await load_secret(store, settings.secret))))
        finally:
            await store.close()

    failed: list[BaseException] = []

    def thread() -> None:
        try:
            asyncio.run(run())
        except BaseException as err:  # handed to the test's thread
            failed.append(err)

    writer = threading.Thread(target=thread)
    writer.start()
    writer.join()
    if failed:
        raise failed[0]
    return data


def office_page(browser: Any, gateway: Gateway, logins: dict[str, Any], path: str = "/office") -> Any:
    """A fresh desktop profile on `path`, signed in as the demo's office."""
    office = logins["office"][0]
    return signed_in(browser, gateway, office["username"], office["password"], path)


def signed_in(browser: Any, gateway: Gateway, username: str, password: str, path: str = "/office") -> Any:
    """A fresh desktop profile on `path`, signed in through the office's own sign-in form."""
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN", accept_downloads=True)
    page = context.new_page()
    page.goto(f"{gateway.url}{path}")
    page.fill("[data-form=office-signin] input[name=username]", username)
    page.fill("[data-form=office-signin] input[name=password]", password)
    page.click("[data-form=office-signin] button[type=submit]")
    page.wait_for_selector(".office-nav")
    return page


def settle(page: Any) -> None:
    """Wait until the screen finished loading what it asked the server for."""
    page.wait_for_selector(".office-content > .screen")
    page.wait_for_function("document.querySelectorAll('.office-content [aria-busy=true]').length === 0")


def open_screen(page: Any, screen: str) -> None:
    """Open an office screen from the menu (`""`: the overview) and wait until it has loaded."""
    page.click(f".office-nav a[data-screen={screen or 'overview'}]")
    page.wait_for_selector(f".office[data-screen={screen or 'overview'}]")
    settle(page)


def follow(page: Any, path: str) -> None:
    """Go to `path` inside the app as a link click would (a page load would forget the in-memory office session)."""
    page.evaluate(
        """(path) => { const a = document.createElement('a'); a.href = path; document.body.append(a); a.click();
        a.remove(); }""",
        path,
    )
    page.wait_for_function("(path) => location.pathname + location.search === path", arg=path)


def office_headers(gateway: Gateway, logins: dict[str, Any]) -> dict[str, str]:
    office = logins["office"][0]
    resp = httpx.post(f"{gateway.url}/api/auth/login", json=office, timeout=30)
    resp.raise_for_status()
    return {"Authorization": f"Bearer {resp.json()['token']}"}


def grid_login(gateway: Gateway, logins: dict[str, Any]) -> tuple[dict[str, str], str, str]:
    """The first grid worker's headers, user id and first shop."""
    worker = logins["grid_workers"][0]
    resp = httpx.post(
        f"{gateway.url}/api/auth/login",
        json={"username": worker["username"], "password": worker["password"]},
        timeout=30,
    )
    resp.raise_for_status()
    return {"Authorization": f"Bearer {resp.json()['token']}"}, resp.json()["user"]["id"], worker["shops"][0]


def serious_patrol(shop: str, user_id: str) -> dict[str, Any]:
    return gas_leak_patrol(shop, user_id, "d-browser-test")


def owners_self_check(
    gateway: Gateway, owner: dict[str, Any], minutes_ago: float = 0, **declared: Any
) -> dict[str, Any]:
    """A weekly self-check of `owner` (an entry of logins.json) sent now from their phone, made `minutes_ago` (a phone
    offline until now), answering `declared` as `full_answers` takes them (`open_flame=True`); answers the check."""
    signed = httpx.post(f"{gateway.url}/api/auth/owner", json={"shop": owner["shop"], "pin": owner["pin"]}, timeout=30)
    check = self_check(owner["shop"], minutes_ago=minutes_ago, **declared)
    auth = {"Authorization": f"Bearer {signed.json()['token']}"}
    answer = httpx.put(f"{gateway.url}/sync/{check['_id']}", json=check, headers=auth, timeout=30)
    assert answer.status_code == 201, answer.text
    return check


def push_patrol(gateway: Gateway, headers: dict[str, str], patrol: dict[str, Any]) -> str:
    """`patrol` sent as its grid worker's phone sends it (`headers`: the worker's); answers the id of the alarm it
    raises when it finds a serious item."""
    pushed = httpx.post(f"{gateway.url}/sync/_bulk_docs", headers=headers, json={"docs": [patrol]}, timeout=30)
    assert pushed.status_code == 201 and pushed.json()[0].get("ok"), pushed.text
    return alarm_id(patrol)
