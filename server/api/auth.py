"""Sign-in for people: staff with username and password, owners with activation code then PIN."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.accounts import WEAK_PIN_REASON, is_pin, weak_pin
from server.api.common import accounts_of, caller, client_address, registry_of, text_field
from server.errors import forbidden, no_such
from server.http import json_response, read_object
from server.models.registry import shop_doc_id
from server.office.reach import Reach
from server.store.upsert import read


async def login(request: Request) -> Response:
    body = await read_object(request)
    session = await accounts_of(request).login(
        text_field(body, "username", 64),
        text_field(body, "password", 256),
        client_address(request),
        body.get("device_key"),
    )
    return json_response(request, session.answer())


async def owner(request: Request) -> Response:
    body = await read_object(request)
    session = await accounts_of(request).owner_login(
        text_field(body, "shop", 64), text_field(body, "pin", 6), client_address(request), body.get("device_key")
    )
    return json_response(request, session.answer())


async def activate(request: Request) -> Response:
    body = await read_object(request)
    accounts = accounts_of(request)
    pin = text_field(body, "pin", 64)
    if not is_pin(pin):
        return json_response(request, {"error": "bad_request", "reason": "pin: exactly 6 digits"}, 400)
    if weak_pin(pin):  # the owner's own choice only: a PIN set before, or by the operator, still signs in
        return json_response(request, {"error": "bad_request", "reason": WEAK_PIN_REASON}, 400)
    session = await accounts.activate(
        text_field(body, "shop", 64), text_field(body, "code", 64), pin, client_address(request)
    )
    return json_response(request, session.answer())


async def renew(request: Request) -> Response:
    principal = await caller(request)
    if principal.is_admin:
        raise forbidden("Operator tokens are made with `mashang admin-token`.")
    return json_response(request, (await accounts_of(request).renew(principal)).answer())


async def sign_out(request: Request) -> Response:
    """`POST /api/auth/sign-out`: the token it comes with stops working, on every gateway within seconds (a phone
    handed on, a shared office computer). `{"ok": true, "everywhere": false}`; a token made before tokens had ids
    signs the user out everywhere (`"everywhere": true`)."""
    principal = await caller(request)
    if principal.is_admin:
        raise forbidden("Operator tokens are revoked with `mashang admin-token --revoke`.")
    alone = await accounts_of(request).sign_out(principal)
    request.app.state.authenticator.end_feeds(principal.user_id)
    return json_response(request, {"ok": True, "everywhere": not alone})


async def activation_code(request: Request) -> Response:
    """A grid worker (for a shop of their grids) or the office hands an owner a one-time code. A shop out of the
    caller's reach (not in a grid worker's grids, another sub-district's for a sub-district's office) is answered
    as an unknown shop: the codes of the district's shops are not to be told apart from codes of none."""
    principal = await caller(request, "grid", "office")
    shop = request.path_params["code"]
    missing = no_such("shop", shop)
    if principal.role == "grid":
        mine = await registry_of(request).shops_of_worker(principal.user_id.split(":", 1)[1])
        if shop not in mine:
            raise missing
    else:
        await Reach.of(principal).shop(accounts_of(request).store, shop, missing)
    if await read(accounts_of(request).store, shop_doc_id(shop)) is None:
        raise missing
    return json_response(request, await accounts_of(request).issue_activation(shop, principal.user_id), 201)


routes = [
    Route("/api/auth/login", login, methods=["POST"]),
    Route("/api/auth/owner", owner, methods=["POST"]),
    Route("/api/auth/activate", activate, methods=["POST"]),
    Route("/api/auth/renew", renew, methods=["POST"]),
    Route("/api/auth/sign-out", sign_out, methods=["POST"]),
    Route("/api/shops/{code}/activation", activation_code, methods=["POST"]),
]
