"""Bearer tokens: signed (HS256), expiring, and revocable by bumping the user's token version.

The signing secret is `MASHANG_SECRET` when set, otherwise a random one kept in the store itself (a `_local`
document no client can reach), so several gateways on one CouchDB share it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

import jwt

from server.errors import CouchError, unauthorized
from server.store.protocol import Store

SECRET_DOC = "server/secret"
VERSIONS_DOC = "server/token-versions"
ALGORITHM = "HS256"


@dataclass(frozen=True)
class Principal:
    """Who is asking: `admin`, or (later) `owner:{shop}`, `grid:{name}`, `office:{name}`."""

    user_id: str
    role: str
    version: int = 0
    device: str | None = None
    # Bumped when the user's scope changes (a shop moved grids): checkpoints of the old scope are forgotten.
    scope_version: int = 0
    # An office account's sub-district (街道) when it is one sub-district's office; None: the whole district.
    subdistrict: str | None = None
    # The token's own id and expiry (its `jti` and `exp`): signing out on one device revokes that token alone.
    token_id: str | None = None
    expires: int = 0
    issued: int = 0  # its `iat`

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


class Tokens:
    # Tokens whose signature checked out, with their expiry: a phone sends the same token with every request,
    # and checking the signature again is most of the cost of authenticating one (revocation is checked on
    # every request all the same, by `server.sync.auth.Authenticator`).
    VERIFIED_MAX = 4096

    def __init__(self, secret: str) -> None:
        self._secret = secret
        self._verified: dict[str, tuple[Principal, int]] = {}

    def issue(self, principal: Principal, ttl_seconds: int) -> str:
        now = int(time.time())
        claims = {
            "sub": principal.user_id,
            "role": principal.role,
            "ver": principal.version,
            "iat": now,
            "exp": now + ttl_seconds,
            "jti": secrets.token_urlsafe(12),
        }
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def mac(self, purpose: str, message: str) -> str:
        """An HMAC-SHA256 of `message` under the server's secret, for one `purpose` (so that one kind of signed
        value can never pass for another)."""
        key = hmac.new(self._secret.encode(), purpose.encode(), hashlib.sha256).digest()
        return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()

    def verify(self, token: str) -> Principal:
        known = self._verified.get(token)
        if known is not None:
            if time.time() < known[1]:
                return known[0]
            del self._verified[token]
        principal, expires = self._verify(token)
        if len(self._verified) >= self.VERIFIED_MAX:
            self._verified.clear()
        self._verified[token] = (principal, expires)
        return principal

    def _verify(self, token: str) -> tuple[Principal, int]:
        try:
            claims = jwt.decode(
                token, self._secret, algorithms=[ALGORITHM], options={"require": ["sub", "role", "exp", "ver"]}
            )
        except jwt.ExpiredSignatureError:
            raise unauthorized("Token expired; sign in again.") from None
        except jwt.InvalidTokenError:
            raise unauthorized("Invalid token.") from None
        sub, role, ver, exp = claims.get("sub"), claims.get("role"), claims.get("ver"), claims.get("exp")
        if not (isinstance(sub, str) and isinstance(role, str) and isinstance(ver, int) and isinstance(exp, int)):
            raise unauthorized("Invalid token.")
        jti, iat = claims.get("jti"), claims.get("iat")  # tokens made before 2026-11-29 have no jti
        token_id = jti if isinstance(jti, str) else None
        issued = iat if isinstance(iat, int) else 0
        return Principal(sub, role, ver, token_id=token_id, expires=exp, issued=issued), exp


async def load_secret(store: Store, configured: str | None) -> str:
    if configured:
        return configured
    try:
        doc = await store.get_local(SECRET_DOC)
        secret = doc.get("secret")
        if isinstance(secret, str) and len(secret) >= 32:
            return secret
    except CouchError as e:
        if e.status != 404:
            raise
    fresh = secrets.token_urlsafe(48)
    try:
        await store.put_local(SECRET_DOC, {"secret": fresh})
    except CouchError as e:
        if e.status != 409:
            raise
        return await load_secret(store, None)  # another gateway wrote it first
    return fresh


async def token_versions(store: Store) -> dict[str, int]:
    try:
        doc = await store.get_local(VERSIONS_DOC)
    except CouchError as e:
        if e.status == 404:
            return {}
        raise
    versions = doc.get("versions", {})
    return {k: v for k, v in versions.items() if isinstance(v, int)} if isinstance(versions, dict) else {}


async def bump_version(store: Store, user_id: str) -> int:
    """Revoke every token of `user_id` issued so far; returns the new version."""
    while True:
        try:
            doc = await store.get_local(VERSIONS_DOC)
        except CouchError as e:
            if e.status != 404:
                raise
            doc = {}
        versions = dict(doc.get("versions", {}))
        version = int(versions.get(user_id, 0)) + 1
        versions[user_id] = version
        new = {"versions": versions}
        if "_rev" in doc:
            new["_rev"] = doc["_rev"]
        try:
            await store.put_local(VERSIONS_DOC, new)
            return version
        except CouchError as e:
            if e.status != 409:
                raise
