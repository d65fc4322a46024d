"""The office's handling of accounts: revoking a user's tokens, the sign-in audit log, moving shops."""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.api.common import accounts_of, client_address, office, registry_of, text_field
from server.api.dashboard import office_view
from server.errors import bad_request
from server.http import json_response, q_int, read_object
from server.models.common import ULID
from server.store.protocol import Doc
from server.store.reads import docs_with_prefix

# The audit log is the district's, newest first. A sub-district's office reads the entries of its own accounts: one
# answer looks through at most this many entries, and says where to go on (`next`) when older ones are left.
AUDIT_SCAN = 5000
AUDIT_ID = re.compile(rf"accounts:audit:{ULID}")


async def revoke(request: Request) -> Response:
    principal, reach = await office(request)
    accounts = accounts_of(request)
    user_id = request.path_params["user_id"]
    await reach.user(accounts.store, user_id)
    version = await accounts.revoke(user_id)
    request.app.state.authenticator.forget()
    await accounts.audit("signed_out", user_id, client_address(request), f"by {principal.user_id}")
    return json_response(request, {"ok": True, "token_version": version})


async def audit(request: Request) -> Response:
    """`GET /api/office/audit?limit=&before=`: failed sign-ins, activation codes handed out and used, staff accounts
    made, passwords reset, users signed out everywhere and phones' files brought in, newest first, as `{"items",
    "next"}`; `next` (an entry's id, for `before=`) is there while older entries are left. A sub-district's office
    sees the entries of its own accounts."""
    _principal, reach = await office(request)
    limit = min(q_int(request, "limit", 100, minimum=1) or 100, 1000)
    before = request.query_params.get("before")
    if before is not None and not AUDIT_ID.fullmatch(before):
        raise bad_request("before: an audit entry's id (accounts:audit:...), as `next` gives it")
    accounts = accounts_of(request)
    keep = None
    users: dict[str, Doc] = {}
    if not reach.everywhere:
        keep = reach.user_filter(await office_view(request))
        users = {str(doc["user_id"]): doc for doc in await docs_with_prefix(accounts.store, "accounts:user:")}
    items: list[Doc] = []
    scanned, position, left = 0, before, False
    async for entry in accounts.audit_entries(before, page=min(limit + 1, 500) if keep is None else 500):
        if len(items) == limit or scanned == AUDIT_SCAN:
            left = True  # an older entry is there
            break
        scanned += 1
        position = str(entry["_id"])
        account = _audited_account(str(entry.get("account")), users) if keep is not None else None
        if keep is None or (account is not None and keep(users.get(account) or {"user_id": account})):
            items.append(entry)
    return json_response(request, {"items": items, "next": position if left else None})


def _audited_account(account: str, users: dict[str, Doc]) -> str | None:
    """The user id an audit entry is about: `owner:{shop}`, or a staff sign-in's `staff:{username}`."""
    if account.startswith("staff:"):
        name = account.split(":", 1)[1]
        return next((f"{role}:{name}" for role in ("grid", "office") if f"{role}:{name}" in users), None)
    return account if account.startswith(("owner:", "grid:", "office:")) else None


async def move_shop(request: Request) -> Response:
    _principal, reach = await office(request)
    body = await read_object(request)
    grid = text_field(body, "grid", 64)
    await reach.shop(registry_of(request).store, request.path_params["code"])
    await reach.grid(registry_of(request).store, grid)
    touched = await registry_of(request).move_shop(request.path_params["code"], grid)
    request.app.state.authenticator.forget()
    return json_response(request, {"ok": True, "grid_workers": touched})


routes = [
    Route("/api/office/users/{user_id}/revoke", revoke, methods=["POST"]),
    Route("/api/office/audit", audit, methods=["GET"]),
    Route("/api/office/shops/{code}/move", move_shop, methods=["POST"]),
]
