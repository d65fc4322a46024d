"""Authentication of `/sync/` and `/api/` requests: the bearer token, checked against revocations."""

from __future__ import annotations

import time

from starlette.requests import Request

from server.auth import Principal, Tokens, token_versions
from server.errors import unauthorized
from server.store.protocol import Store

VERSION_CACHE_SECONDS = 2.0


class Authenticator:
    def __init__(self, tokens: Tokens, store: Store) -> None:
        self.tokens = tokens
        self._store = store
        self._versions: dict[str, int] = {}
        self._loaded_at = 0.0

    def forget_versions(self) -> None:
        self._loaded_at = 0.0

    async def principal(self, request: Request) -> Principal:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise unauthorized("You are not authorized to access this db.")
        principal = self.tokens.verify(token.strip())
        if time.monotonic() - self._loaded_at > VERSION_CACHE_SECONDS:
            self._versions = await token_versions(self._store)
            self._loaded_at = time.monotonic()
        if principal.version < self._versions.get(principal.user_id, 0):
            raise unauthorized("Token revoked; sign in again.")
        return principal
