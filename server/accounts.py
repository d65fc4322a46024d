"""Accounts: office staff and grid workers (username + password), owners (activation code, then a PIN).

Account documents live in the `accounts` partition (`accounts:user:{user_id}`, `accounts:activation:{shop}`,
`accounts:audit:{ulid}`), which only the operator's scope includes: they are backed up with everything else
and never replicate to a device. Secrets are argon2 hashes. Guessing is throttled per account and per address.

A phone that has signed in to an account gets a device key for it (OWASP's "device cookie"): signed by the server,
kept by the phone, sent with its next sign-ins. A sign-in with a valid key is throttled on its own, per account
and key, and not per address: owners behind a carrier's shared address (CGNAT) are not locked out by someone else's
guessing there, nor is an owner by a stranger guessing their PIN. Without a key, both throttles apply as before.

While the registry has a shop closed, its owner's account is disabled: tokens, sign-in and activation are refused
with `SHOP_CLOSED` (`Accounts.shop_status_changed`); reopened, the owner signs in again with the shop code and PIN.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import itertools
import re
import secrets
import time
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from server.auth import Principal, Tokens
from server.errors import CouchError, bad_request, forbidden, no_such, not_found, unauthorized
from server.ids import new_ulid
from server.models.registry import shop_doc_id
from server.store.protocol import AllDocsQuery, Doc, Store
from server.store.upsert import read, upsert

# OWASP's argon2id profile m=12 MiB, t=3, p=1: about 35 ms a hash on the small servers we target.
HASHER = PasswordHasher(time_cost=3, memory_cost=12288, parallelism=1)
TOKEN_TTL = {"owner": 180 * 86400, "grid": 30 * 86400, "office": 12 * 3600}
ACTIVATION_DAYS = 7
FAILURES_PER_ACCOUNT = 5
FAILURES_PER_ADDRESS = 30
FAILURE_WINDOW = 15 * 60.0
# Why a closed shop's owner is refused (a token on every endpoint, a sign-in, an activation): the phone shows it.
SHOP_CLOSED = "本店已停业，账号已停用。This shop is closed; its account is disabled."
# A new staff account's username: what a grid (`server/models/registry.py`, `Username`) can list. Upper case was
# taken here before and refused there, so an account was made that no grid could ever be given.
USERNAME: Final = re.compile(r"[a-z0-9][a-z0-9_.-]{0,31}")
USERNAME_RULE: Final = (
    "用户名只能用小写英文字母、数字和 - _ .（以字母或数字开头，最多 32 位），例如 lina 或 wang-fang。"
    "username: lower-case letters, digits, '-', '_' and '.', starting with a letter or digit, at most 32"
)
NO_USER: Final = "没有这个账号。No such user."  # what signing out an unknown account is answered


def user_doc_id(user_id: str) -> str:
    return f"accounts:user:{user_id}"


def now_iso() -> str:
    return datetime.now(UTC).astimezone().isoformat(timespec="seconds")


def shop_closed() -> CouchError:
    """The refusal of a closed shop's owner: a 403 `forbidden`, which PouchDB takes as final (it stops and reports the
    reason, where a 401 would sign the phone out), with the reason the phone shows."""
    return forbidden(SHOP_CLOSED)


async def is_closed(store: Store, shop: str) -> bool:
    """Whether the registry has `shop` closed (`POST /api/office/shops/{code}/close`)."""
    doc = await read(store, shop_doc_id(shop))
    return doc is not None and doc.get("status") == "closed"


def public_user(doc: Doc) -> Doc:
    """What the client may know about its own account."""
    keep = ("user_id", "role", "name", "shop", "username", "subdistrict")
    return {"id": doc["user_id"], **{k: doc[k] for k in keep if k in doc and k != "user_id"}}


class Throttle:
    """Failed attempts in a sliding window, per key; `retry_after` says how long a key must wait. An attempt is
    counted as it starts (`fail`), before its password is checked, and taken back (`undo`) if it succeeds: counted
    after the check, sixty guesses sent at once were all checked, the right one among them signed in. A key
    without failures holds no entry, and at most `MAX_KEYS` keys are kept (the oldest go first)."""

    MAX_KEYS = 100_000

    def __init__(self, limit: int, window: float) -> None:
        self.limit, self.window = limit, window
        self._fails: dict[str, deque[float]] = {}

    def _recent(self, key: str) -> deque[float] | None:
        q = self._fails.get(key)
        if q is None:
            return None
        cutoff = time.monotonic() - self.window
        while q and q[0] < cutoff:
            q.popleft()
        if not q:
            del self._fails[key]
            return None
        return q

    def retry_after(self, key: str) -> int:
        q = self._recent(key)
        if q is None or len(q) < self.limit:
            return 0
        return max(1, int(q[0] + self.window - time.monotonic()) + 1)

    def fail(self, key: str) -> float:
        """Count an attempt of `key`; answers its mark, for `undo`."""
        q = self._recent(key)
        if q is None:
            if len(self._fails) >= self.MAX_KEYS:
                del self._fails[next(iter(self._fails))]
            q = self._fails[key] = deque()
        mark = time.monotonic()
        q.append(mark)
        return mark

    def undo(self, key: str, mark: float) -> None:
        q = self._fails.get(key)
        if q is not None:
            with contextlib.suppress(ValueError):
                q.remove(mark)
            if not q:
                del self._fails[key]

    def clear(self, key: str) -> None:
        self._fails.pop(key, None)


@dataclass
class Attempt:
    """A sign-in being checked, counted already (`Throttle`): its marks, taken back when it succeeds."""

    marks: list[tuple[Throttle, str, float]]


@dataclass(frozen=True)
class Session:
    token: str
    user: Doc
    device_key: str | None = None  # for the phone's next sign-ins to this account

    def answer(self) -> Doc:
        key = {"device_key": self.device_key} if self.device_key else {}
        return {"token": self.token, "user": public_user(self.user), **key}


class Accounts:
    def __init__(self, store: Store, tokens: Tokens) -> None:
        self.store = store
        self.tokens = tokens
        self.by_account = Throttle(FAILURES_PER_ACCOUNT, FAILURE_WINDOW)
        self.by_address = Throttle(FAILURES_PER_ADDRESS, FAILURE_WINDOW)

    # ----- creating accounts -----

    async def create_staff(
        self, role: str, username: str, password: str, name: str, subdistrict: str | None = None
    ) -> Doc:
        """A staff account; `subdistrict` makes an office account one sub-district's office (the whole district's
        without it) and files a grid worker under the sub-district whose office may manage them."""
        if role not in ("office", "grid"):
            raise bad_request("role must be office or grid")
        if not USERNAME.fullmatch(username) and await self.user(f"{role}:{username}") is None:
            raise bad_request(USERNAME_RULE)  # an account made before the rule keeps its name (a new password)
        # Sign-in strips what is typed (`server.api.auth.login`): a password kept with its spaces (a script's stdin,
        # a pasted one) would make an account that no sign-in could ever open.
        password = password.strip()
        if len(password) < 8:
            raise bad_request("密码至少 8 位。password: at least 8 characters")
        password_hash = await asyncio.to_thread(HASHER.hash, password)
        home = {"subdistrict": subdistrict} if subdistrict else {}
        return await self._put_user(
            f"{role}:{username}", role, {"password_hash": password_hash}, username=username, name=name, **home
        )

    async def issue_activation(self, shop: str, issued_by: str) -> Doc:
        """A one-time 8-digit code the owner types on first use; a new code replaces the old one. A closed shop's
        owner is given none (it could not be used): the office reopens the shop first."""
        await self._require_shop(shop)
        if await is_closed(self.store, shop):
            raise CouchError(
                409,
                "conflict",
                "本店已停业，不能发放激活码：请先恢复营业。"
                "This shop is closed: reopen it before handing out an activation code.",
            )
        code = f"{secrets.randbelow(10**8):08d}"
        expires = datetime.now(UTC) + timedelta(days=ACTIVATION_DAYS)
        doc = {
            "_id": f"accounts:activation:{shop}",
            "type": "activation",
            "shop": shop,
            "code_hash": await asyncio.to_thread(HASHER.hash, code),
            "issued_by": issued_by,
            "issued_at": now_iso(),
            "expires_at": expires.astimezone().isoformat(timespec="seconds"),
        }
        await upsert(self.store, doc)
        # A new code lets its holder replace the owner's PIN: who handed it out is on the record.
        await self.audit("activation_issued", f"owner:{shop}", issued_by, "activation code issued")
        return {"shop": shop, "code": code, "expires_at": doc["expires_at"]}

    async def set_owner_pin(self, shop: str, pin: str) -> Doc:
        check_pin(pin)
        await self._require_shop(shop)
        return await self._put_owner(shop, await asyncio.to_thread(HASHER.hash, pin))

    async def set_owner_pin_hash(self, shop: str, pin_hash: str) -> Doc:
        """`set_owner_pin` for a PIN hashed already (`hash_pin`), for callers that hash many PINs in threads of
        their own (the demo district)."""
        await self._require_shop(shop)
        return await self._put_owner(shop, pin_hash)

    async def _require_shop(self, shop: str) -> None:
        if await read(self.store, shop_doc_id(shop)) is None:
            raise no_such("shop", shop)

    async def _put_owner(self, shop: str, pin_hash: str) -> Doc:
        return await self._put_user(f"owner:{shop}", "owner", {"pin_hash": pin_hash}, shop=shop)

    async def _put_user(self, user_id: str, role: str, secret: dict[str, str], **fields: str) -> Doc:
        """Write an account with a new secret: a new password or PIN signs out every device that had the old one.
        The scope version carries over; an account without a `name` keeps its old one (owners: the shop code)."""
        existing = await read(self.store, user_doc_id(user_id))
        name = fields.pop("name") if "name" in fields else (existing or {}).get("name", user_id.split(":", 1)[1])
        if existing and existing.get("subdistrict") and "subdistrict" not in fields:
            fields["subdistrict"] = existing["subdistrict"]  # a new password keeps the account's sub-district
        doc = {
            "_id": user_doc_id(user_id),
            "type": "user",
            "user_id": user_id,
            "role": role,
            **fields,
            "name": name,
            **secret,
            "token_version": (existing.get("token_version", 0) + 1) if existing else 0,
            "scope_version": existing.get("scope_version", 0) if existing else 0,
            # A new password or PIN does not enable an account the operator disabled.
            "disabled": bool(existing.get("disabled")) if existing else False,
            # An account made anew under an earlier one's id (deleted by the operator) starts again at token
            # version 0: the earlier holder's tokens, of that version too, are refused as older than the account.
            "tokens_since": existing.get("tokens_since", 0) if existing else int(time.time()),
        }
        return await upsert(self.store, doc)

    # ----- signing in -----

    # ----- device keys -----

    def device_key(self, account: str, version: int) -> str:
        """A key for the phone's next sign-ins to `account`, valid while the account's token version is `version`:
        revoking the user's tokens or a new password or PIN (a lost phone) voids the keys with the tokens."""
        nonce = secrets.token_urlsafe(12)
        return f"{nonce}.{self.tokens.mac('device-key', f'{account}|{version}|{nonce}')}"

    def known_device(self, account: str, key: object, user: Doc | None) -> str | None:
        """The throttle key of a sign-in to `account` with a valid device key for it, else None."""
        if user is None or not isinstance(key, str) or key.count(".") != 1 or len(key) > 200:
            return None
        nonce, mac = key.split(".")
        if not key.isascii():
            return None  # compare_digest takes ASCII strings only (a key of ours is base64 and hex)
        version = int(user.get("token_version", 0))
        if not secrets.compare_digest(mac, self.tokens.mac("device-key", f"{account}|{version}|{nonce}")):
            return None
        return f"{account}|{nonce}"

    def _begin(self, account: str, address: str, known: str | None = None) -> Attempt:
        """Refuse a sign-in whose account or address has failed too often; count it as a failure now (nothing is
        awaited between the look and the count, so attempts sent at once are counted one after another)."""
        network = address_network(address)
        if known is not None:
            wait = self.by_account.retry_after(known)
        else:
            wait = max(self.by_account.retry_after(account), self.by_address.retry_after(network))
        if wait:
            raise CouchError(
                429,
                "too_many_requests",
                f"Too many failed attempts; try again in {wait} s.",
                {"Retry-After": str(wait)},
            )
        if known is not None:
            return Attempt([(self.by_account, known, self.by_account.fail(known))])
        return Attempt(
            [
                (self.by_account, account, self.by_account.fail(account)),
                (self.by_address, network, self.by_address.fail(network)),
            ]
        )

    async def _failed(self, account: str, address: str, reason: str, known: str | None = None) -> CouchError:
        """The attempt failed (counted already, by `_begin`): on the record, and the 401."""
        await self.audit("login_failed", account, address, reason + (" (a known device)" if known else ""))
        return unauthorized(reason)

    def _succeeded(self, attempt: Attempt, account: str) -> None:
        for throttle, key, mark in attempt.marks:
            throttle.undo(key, mark)
        self.by_account.clear(account)

    def _signed_in(self, user: Doc, account: str, known: str | None, key: object, attempt: Attempt) -> Session:
        self._succeeded(attempt, known or account)
        session = self._session(user)
        if not (known and isinstance(key, str)):
            key = self.device_key(account, int(user.get("token_version", 0)))
        return Session(session.token, session.user, key)

    def _session(self, user: Doc) -> Session:
        principal = Principal(user["user_id"], user["role"], int(user.get("token_version", 0)))
        return Session(self.tokens.issue(principal, TOKEN_TTL[user["role"]]), user)

    async def login(self, username: str, password: str, address: str, device_key: object = None) -> Session:
        account = f"staff:{username}"
        for role in ("grid", "office"):
            user = await read(self.store, user_doc_id(f"{role}:{username}"))
            if user is not None:
                break
        known = self.known_device(account, device_key, user)
        attempt = self._begin(account, address, known)
        usable = user is not None and not user.get("disabled")
        # A missing or disabled account costs a hash all the same: the time of the answer tells nothing.
        if not await _verify(user.get("password_hash") if usable and user else None, password) or not usable:
            raise await self._failed(account, address, "Wrong username or password.", known)
        assert user is not None
        return self._signed_in(user, account, known, device_key, attempt)

    async def owner_login(self, shop: str, pin: str, address: str, device_key: object = None) -> Session:
        account = f"owner:{shop}"
        user = await read(self.store, user_doc_id(account))
        known = self.known_device(account, device_key, user)
        attempt = self._begin(account, address, known)
        usable = user is not None and not user.get("disabled")
        if not await _verify(user.get("pin_hash") if usable and user else None, pin) or not usable:
            raise await self._failed(account, address, "Wrong shop code or PIN.", known)
        assert user is not None
        if await is_closed(self.store, shop):
            # The right PIN (said only to its holder): not a guess, so not counted; on the record, and refused.
            self._succeeded(attempt, known or account)
            await self.audit("login_failed", account, address, "the shop is closed")
            raise shop_closed()
        return self._signed_in(user, account, known, device_key, attempt)

    async def activate(self, shop: str, code: str, pin: str, address: str) -> Session:
        account = f"activation:{shop}"
        attempt = self._begin(account, address)
        act = await read(self.store, f"accounts:activation:{shop}")
        valid = (
            act is not None and not act.get("used_at") and datetime.fromisoformat(act["expires_at"]) > datetime.now(UTC)
        )
        if not await _verify(act.get("code_hash") if valid and act else None, code) or not valid:
            raise await self._failed(account, address, "Wrong or expired activation code.")
        assert act is not None
        if await is_closed(self.store, shop):
            self._succeeded(attempt, account)  # the code stays unused, for when the shop is reopened
            raise shop_closed()
        owner = await self.user(f"owner:{shop}")
        if owner is not None and owner.get("disabled"):
            raise forbidden("This shop's account is disabled: ask the safety office.")
        # The code is used once: marked so on its revision before the PIN is set, so of two sign-ins sent at once
        # with it, the second finds it used (a conflict) and is refused.
        [marked] = await self.store.bulk_docs([{**act, "used_at": now_iso()}])
        if not marked.get("ok"):
            raise await self._failed(account, address, "Wrong or expired activation code.")
        user = await self.set_owner_pin(shop, pin)
        registered = await read(self.store, shop_doc_id(shop))
        if registered is not None and not registered.get("owner_activated"):
            # What the grid worker's e-file, the office's shop list and the exports say: the owner has come in.
            await upsert(self.store, {**registered, "owner_activated": True})
        await self.audit("owner_activated", f"owner:{shop}", address, "activation code used")
        self._succeeded(attempt, account)
        return self._signed_in(user, f"owner:{shop}", None, None, Attempt([]))

    async def renew(self, principal: Principal) -> Session:
        user = await self.user(principal.user_id)
        if user is None or user.get("disabled"):
            raise unauthorized("This account no longer exists.")
        return self._session(user)

    async def shop_status_changed(self, shop: str, status: str) -> bool:
        """The shop was closed or reopened (`status`): its owner is signed out everywhere (tokens and device keys
        alike), so that no token of before works again, whoever holds the shop next; closing also voids an
        activation code not used yet. While the shop is closed its owner is refused as a whole, with the reason
        (`server.sync.auth.Authenticator`, `owner_login`, `activate`); reopened, the owner signs in again with the
        shop code and PIN. Answers whether the shop has an owner account."""
        if status == "closed":
            act = await read(self.store, f"accounts:activation:{shop}")
            if act is not None and not act.get("used_at"):
                await self.store.bulk_docs([{"_id": act["_id"], "_rev": act["_rev"], "_deleted": True}])
        if await self.user(f"owner:{shop}") is None:
            return False
        await self.revoke(f"owner:{shop}")
        return True

    async def revoke(self, user_id: str) -> int:
        """Sign the user out everywhere (lost phone, staff leaving)."""
        user = await self.user(user_id)
        if user is None:
            raise not_found(NO_USER)
        version = int(user.get("token_version", 0)) + 1
        await upsert(self.store, {**user, "token_version": version})
        return version

    async def sign_out(self, principal: Principal) -> bool:
        """Revoke the token `principal` came with, on this device only (a shared or handed-on phone), and forget
        the ones signed out earlier that have expired since. A token made before tokens had ids cannot be told
        apart: the user is signed out everywhere instead. Answers whether only this token was revoked."""
        if principal.token_id is None:
            await self.revoke(principal.user_id)
            return False
        now = int(time.time())
        for _ in range(5):
            user = await self.user(principal.user_id)
            if user is None:
                raise unauthorized("This account no longer exists.")
            kept = {
                jti: exp for jti, exp in (user.get("signed_out") or {}).items() if isinstance(exp, int) and exp > now
            }
            kept[principal.token_id] = principal.expires
            [answer] = await self.store.bulk_docs([{**user, "signed_out": kept}])
            if answer.get("ok"):
                return True
            if answer.get("error") != "conflict":
                raise CouchError(500, str(answer.get("error")), str(answer.get("reason")))
        raise CouchError(409, "conflict", f"{principal.user_id} kept changing; try again")

    async def user(self, user_id: str) -> Doc | None:
        return await read(self.store, user_doc_id(user_id))

    # ----- the audit log -----

    async def audit(self, event: str, account: str, address: str, detail: str, **about: str) -> None:
        """One entry of the log; `about`: fields a screen shows beside the detail (an import's `file`)."""
        doc = {
            "_id": f"accounts:audit:{new_ulid()}",
            "type": "audit",
            "event": event,
            "account": account,
            "address": address,
            "detail": detail,
            "at": now_iso(),
            **about,
        }
        await self.store.bulk_docs([doc])

    async def audit_log(self, limit: int = 100, before: str | None = None) -> list[Doc]:
        """The newest `limit` entries, older than the entry `before` when given, newest first."""
        out = await self.store.all_docs(
            AllDocsQuery(
                startkey=before or "accounts:audit:\ufff0",
                endkey="accounts:audit:",
                descending=True,
                limit=limit + (1 if before else 0),  # the key range starts at `before` itself
                include_docs=True,
            )
        )
        return [row["doc"] for row in out["rows"] if row["id"] != before][:limit]

    async def audit_entries(self, before: str | None = None, page: int = 500) -> AsyncIterator[Doc]:
        """Every entry older than `before` (all when None), newest first, read a page at a time."""
        while True:
            docs = await self.audit_log(page, before)
            for doc in docs:
                yield doc
            if len(docs) < page:
                return
            before = str(docs[-1]["_id"])


async def _verify(hashed: Any, secret: str) -> bool:
    if not isinstance(hashed, str):
        await asyncio.to_thread(HASHER.hash, secret)  # same cost whether or not the account exists
        return False
    try:
        return await asyncio.to_thread(HASHER.verify, hashed, secret)
    except (VerificationError, InvalidHashError):
        return False


def address_network(address: str) -> str:
    """What the per-address throttle counts by: an IPv4 address, or an IPv6 address's /64 (one phone or home
    network is given a whole /64, and would otherwise try 2^64 addresses' worth of guesses)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 6 and ip.ipv4_mapped is None:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip.ipv4_mapped or ip) if ip.version == 6 else address


def is_pin(pin: str) -> bool:
    """Six ASCII digits: `str.isdigit` also takes ¹ ② and other scripts' digits, which a phone's keypad cannot type
    again (and `int` refuses some of them)."""
    return len(pin) == 6 and pin.isascii() and pin.isdigit()


def check_pin(pin: str) -> None:
    if not is_pin(pin):
        raise bad_request("pin: exactly 6 digits")


# PINs people choose first (one digit repeated and digits in a row are refused by rule): a stranger's guesses are
# throttled per device, not per shop, so one of these would open many shops in a few tries each.
COMMON_PINS: Final = frozenset(
    {"123123", "112233", "121212", "101010", "520520", "521521", "147258", "159357", "789456"}
)
WEAK_PIN_REASON: Final = "pin: too easy to guess (one digit repeated, digits in a row, or a common PIN); choose another"


def weak_pin(pin: str) -> bool:
    """Whether an owner's new PIN is one a stranger would try first: 111111, 123456, 654321, 123123 ..."""
    steps = {int(b) - int(a) for a, b in itertools.pairwise(pin)}
    return (len(steps) == 1 and steps <= {-1, 0, 1}) or pin in COMMON_PINS


def hash_pin(pin: str) -> str:
    """The argon2 hash `set_owner_pin_hash` takes; blocking (~35 ms), so call it in a thread."""
    check_pin(pin)
    return HASHER.hash(pin)


def require_role(principal: Principal, *roles: str) -> None:
    if principal.role not in roles and not principal.is_admin:
        raise forbidden(f"This needs one of the roles: {', '.join(roles)}.")
