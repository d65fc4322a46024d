"""What the field's browser tests share: signing in on the phone."""

from __future__ import annotations

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
