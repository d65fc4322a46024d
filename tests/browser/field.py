"""What the field's browser tests share: signing in on the phone."""

from __future__ import annotations

import time
from typing import Any

from tests.gateway import Gateway


def sign_in_grid(page: Any, gateway: Gateway, worker: dict[str, Any]) -> None:
    """Sign `worker` (an entry of logins.json) in through /login, as on the phone; ends on their shop list."""
    page.goto(f"{gateway.url}/login?role=grid")
    page.fill('input[name="username"]', worker["username"])
    page.fill('input[name="password"]', worker["password"])
    page.click('button[type="submit"]')
    page.wait_for_url("**/grid")


def sign_in_owner(page: Any, gateway: Gateway, owner: dict[str, Any]) -> None:
    """Sign `owner` (an entry of logins.json) in with their PIN on their shop's card, as after scanning the QR
    code; ends on the owner's home."""
    page.goto(f"{gateway.url}/s/{owner['shop']}")
    page.fill("input[name=pin]", owner["pin"])
    page.click("[data-form=owner-login] button[type=submit]")
    page.wait_for_selector("[data-owner-home]", timeout=20_000)


# The owner's answers to the weekly checklist: one self-reported hazard (the extinguisher), everything else in order.
WEEKLY_ANSWERS = {
    "open_flame": "false",
    "three_in_one": "false",
    "escape_route": "true",
    "extinguisher_present": "true",
    "extinguisher_valid": "false",  # a self-reported hazard
    "rcd_installed": "true",
    "ebike_indoor_charging": "false",
    "gas_safe": "true",
    "wiring_ok": "true",
}


def fill_weekly_check(page: Any, picture: bytes) -> None:
    """On the open self-check form: `WEEKLY_ANSWERS`, nobody sleeping in the shop, and `picture` for the two items
    whose template asks for a photo (extinguisher, gas); the caller submits."""
    for item, value in WEEKLY_ANSWERS.items():
        page.check(f"input[name={item}][value={value}]")
    page.fill("input[name=sleeping_people]", "0")
    for item in ("extinguisher_valid", "gas_safe"):
        page.set_input_files(
            f"[data-photo-for={item}]", files=[{"name": f"{item}.jpg", "mimeType": "image/jpeg", "buffer": picture}]
        )
        page.wait_for_selector(f"[data-item={item}] img[data-photo]", timeout=20_000)


# The service worker's state, for the message of a page that never came under its control.
_WORKER_STATE = """async () => {
  const r = await navigator.serviceWorker.getRegistration();
  if (!r) return 'no registration';
  const s = (w) => (w ? `${w.state} ${w.scriptURL}` : '-');
  return `installing: ${s(r.installing)}; waiting: ${s(r.waiting)}; active: ${s(r.active)}`;
}"""


def wait_controlled(page: Any, timeout: float = 60_000) -> None:
    """Until the app's service worker controls the page (it has precached the shell, so the page opens offline).
    A page that never comes under its control fails with the worker's state: installing (the precache is still
    downloading), no registration, or an active worker that did not claim the page."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=timeout)
    except PlaywrightTimeout:
        raise AssertionError(f"no service worker controls {page.url}: {page.evaluate(_WORKER_STATE)}") from None


def wait_true(page: Any, expression: str, arg: Any = None, timeout: float = 60_000) -> None:
    """Until `expression` (a function of `arg`, which may be async) gives a truthy value. `page.wait_for_function`
    takes the promise an async function returns for a truthy value, and returns at once: a Cache Storage or IndexedDB
    condition must be polled with `page.evaluate`, which awaits it."""
    deadline = time.monotonic() + timeout / 1000
    while not page.evaluate(expression, arg):
        if time.monotonic() > deadline:
            raise AssertionError(f"never true within {timeout / 1000:.0f} s: {expression[:200]}")
        page.wait_for_timeout(200)
