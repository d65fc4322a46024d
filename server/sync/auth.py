"""Authentication of `/sync/` and `/api/` requests: the bearer token, checked against the account.

A token is refused when its account is gone or disabled, when the account's token version moved on (revoked:
lost phone, staff leaving, new PIN), or when it was signed out on its device (`Accounts.sign_out`). An owner's
token is refused, 403 with the reason (`server.accounts.SHOP_CLOSED`), while the registry has their shop closed.
Accounts and shops' status are cached for a moment (`CACHE_SECONDS`) to keep this off the hot path: a change made
through this gateway is seen at its next request (`forget`), one made through another gateway within the moment.

A phone's live replication waits in a `_changes` longpoll for up to a minute, and a signed-out token is refused
only at its next request. So a sign-out made through this gateway (the office's for a lost phone, or the device's
own) also ends the user's open longpolls here (`end_feeds`): they answer no change at once, and the next request is
refused. One open on another gateway ends at its timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import Iterator

from starlette.requests import Request

from server.accounts import is_closed, shop_closed, user_doc_id
from server.auth import Principal, Tokens, token_versions
from server.errors import unauthorized
from server.store.protocol import Doc, Store
from server.store.upsert import read

CACHE_SECONDS = 2.0


class Authenticator:
    def __init__(self, tokens: Tokens, store: Store) -> None:
        self.tokens = tokens
        self._store = store
        self._users: dict[str, tuple[float, Doc | None]] = {}
        self._closed: dict[str, tuple[float, bool]] = {}  # by shop: whether the registry has it closed
        self._admin_versions: tuple[float, dict[str, int]] = (-1e9, {})
        # By user: the open longpolls' signals to end, each with the event loop it waits in (set from that loop).
        self._feeds: dict[str, set[tuple[asyncio.AbstractEventLoop, asyncio.Event]]] = {}

    @contextlib.contextmanager
    def open_feed(self, user_id: str) -> Iterator[asyncio.Event]:
        """A longpoll of `user_id` while it is open: the event is set when the user is signed out here."""
        entry = (asyncio.get_running_loop(), asyncio.Event())
        self._feeds.setdefault(user_id, set()).add(entry)
        try:
            yield entry[1]
        finally:
            feeds = self._feeds.get(user_id)
            if feeds is not None:
                feeds.discard(entry)
                if not feeds:
                    del self._feeds[user_id]

    def end_feeds(self, user_id: str) -> None:
        """`user_id` was signed out (everywhere, or on one device): its open longpolls answer now, and its next
        request is checked again."""
        self.forget(user_id)
        for loop, ended in list(self._feeds.get(user_id, ())):
            loop.call_soon_threadsafe(ended.set)

    def forget(self, user_id: str | None = None) -> None:
        """Read the accounts again at the next request (`user_id`'s alone, when given; an owner's with their shop's
        status)."""
        if user_id is not None:
            self._users.pop(user_id, None)
            if user_id.startswith("owner:"):
                self._closed.pop(user_id.split(":", 1)[1], None)
            return
        self._users.clear()
        self._closed.clear()
        self._admin_versions = (-1e9, {})

    async def _user(self, user_id: str) -> Doc | None:
        cached = self._users.get(user_id)
        if cached is not None and time.monotonic() - cached[0] < CACHE_SECONDS:
            return cached[1]
        doc = await read(self._store, user_doc_id(user_id))
        self._users[user_id] = (time.monotonic(), doc)
        return doc

    async def _shop_closed(self, shop: str) -> bool:
        cached = self._closed.get(shop)
        if cached is not None and time.monotonic() - cached[0] < CACHE_SECONDS:
            return cached[1]
        closed = await is_closed(self._store, shop)
        self._closed[shop] = (time.monotonic(), closed)
        return closed

    async def principal(self, request: Request) -> Principal:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise unauthorized("You are not authorized to access this db.")
        principal = self.tokens.verify(token.strip())
        if principal.is_admin:
            loaded_at, versions = self._admin_versions
            if time.monotonic() - loaded_at > CACHE_SECONDS:
                versions = await token_versions(self._store)
                self._admin_versions = (time.monotonic(), versions)
            if principal.version < versions.get(principal.user_id, 0):
                raise unauthorized("Token revoked; sign in again.")
            return principal
        user = await self._user(principal.user_id)
        if user is None or user.get("disabled") or user.get("role") != principal.role:
            raise unauthorized("This account no longer exists; sign in again.")
        shop = str(user.get("shop") or principal.user_id.split(":", 1)[1]) if principal.role == "owner" else None
        if shop is not None and await self._shop_closed(shop):
            # Before the token version: closing the shop signed the owner out too, and this is the reason to show.
            raise shop_closed()
        if principal.version != int(user.get("token_version", 0)):
            raise unauthorized("Token revoked; sign in again.")
        if principal.issued < int(user.get("tokens_since", 0)):
            raise unauthorized("This account was made anew; sign in again.")  # an earlier holder's token
        if principal.token_id is not None and principal.token_id in (user.get("signed_out") or {}):
            raise unauthorized("Signed out on this device; sign in again.")
        device = request.headers.get("x-mashang-device")
        subdistrict = user.get("subdistrict") if principal.role == "office" else None
        return dataclasses.replace(
            principal,
            scope_version=int(user.get("scope_version", 0)),
            device=device[:64] if device else None,
            subdistrict=str(subdistrict) if subdistrict else None,
        )
