"""The office's handling of accounts: revoking a user's tokens, the sign-in audit log, moving shops."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.api.common import accounts_of, office, registry_of, text_field
from server.api.dashboard import office_view
from server.http import json_response, q_int, read_object
from server.store.protocol import Doc
from server.store.reads import docs_with_prefix

# A sub-district's office reads its entries from this many of the newest (the log is the district's, newest first).
AUDIT_SCAN = 5000


async def revoke(request: Request) -> Response:
    _principal, reach = await office(request)
    await reach.user(accounts_of(request).store, request.path_params["user_id"])
    version = await accounts_of(request).revoke(request.path_params["user_id"])
    request.app.state.authenticator.forget()
    return json_response(request, {"ok": True, "token_version": version})


async def audit(request: Request) -> Response:
    """`GET /api/office/audit?limit=`: sign-ins, failures and codes handed out, newest first; a sub-district's office
    sees the entries of its own accounts."""
    _principal, reach = await office(request)
    limit = min(q_int(request, "limit", 100, minimum=1) or 100, 1000)
    accounts = accounts_of(request)
    if reach.everywhere:
        return json_response(request, {"items": await accounts.audit_log(limit)})
    keep = reach.user_filter(await office_view(request))
    users = {str(doc["user_id"]): doc for doc in await docs_with_prefix(accounts.store, "accounts:user:")}
    items = []
    for entry in await accounts.audit_log(AUDIT_SCAN):
        account = _audited_account(str(entry.get("account")), users)
        if account is not None and keep(users.get(account) or {"user_id": account}):
            items.append(entry)
            if len(items) == limit:
                break
    return json_response(request, {"items": items})


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
