"""What the office browser tests share: a desktop page signed in as the office, and a grid worker's patrol."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import httpx

from tests.gateway import Gateway
from tests.validators.builders import gas_leak_patrol

SHANGHAI = ZoneInfo("Asia/Shanghai")
DESKTOP = {"width": 1280, "height": 900}


def office_page(browser: Any, gateway: Gateway, logins: dict[str, Any], path: str = "/office") -> Any:
    """A fresh desktop profile on `path`, signed in through the office's own sign-in form."""
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN", accept_downloads=True)
    page = context.new_page()
    page.goto(f"{gateway.url}{path}")
    office = logins["office"][0]
    page.fill("[data-form=office-signin] input[name=username]", office["username"])
    page.fill("[data-form=office-signin] input[name=password]", office["password"])
    page.click("[data-form=office-signin] button[type=submit]")
    page.wait_for_selector(".office-nav")
    return page


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
