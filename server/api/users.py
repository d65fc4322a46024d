"""The office's handling of accounts: revoking a user's tokens, the sign-in audit log, moving shops."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.api.common import accounts_of, caller, registry_of, text_field
from server.http import json_response, q_int, read_object


async def revoke(request: Request) -> Response:
    await caller(request, "office")
    version = await accounts_of(request).revoke(request.path_params["user_id"])
    request.app.state.authenticator.forget()
    return json_response(request, {"ok": True, "token_version": version})


async def audit(request: Request) -> Response:
    await caller(request, "office")
    limit = min(q_int(request, "limit", 100, minimum=1) or 100, 1000)
    return json_response(request, {"items": await accounts_of(request).audit_log(limit)})


async def move_shop(request: Request) -> Response:
    await caller(request, "office")
    body = await read_object(request)
    touched = await registry_of(request).move_shop(request.path_params["code"], text_field(body, "grid", 64))
    request.app.state.authenticator.forget()
    return json_response(request, {"ok": True, "grid_workers": touched})


routes = [
    Route("/api/office/users/{user_id}/revoke", revoke, methods=["POST"]),
    Route("/api/office/audit", audit, methods=["GET"]),
    Route("/api/office/shops/{code}/move", move_shop, methods=["POST"]),
]
