"""Public routes, no sign-in: the shop card behind the QR poster, and its badge for delivery and review platforms."""

from __future__ import annotations

from typing import Final

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.card import badge_svg, missing_badge_svg, shop_card
from server.errors import CouchError
from server.http import json_response
from server.store.protocol import Store

# A minute of caching takes the load of a busy platform off the store; points change a few times a week.
PUBLIC: Final = {"Cache-Control": "public, max-age=60", "Access-Control-Allow-Origin": "*"}
# An SVG opened on its own is a document: no scripts, no outside resources, whatever it holds.
SVG_TYPE: Final = "image/svg+xml; charset=utf-8"
SVG: Final = {
    **PUBLIC,
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
    "X-Content-Type-Options": "nosniff",
}


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


async def card(request: Request) -> Response:
    """`GET /api/public/shops/{code}`: name, address, points, rank of how many, the list of the latest published
    month with that month (`list`, `list_month`), last self-check and patrol. The 404 of a closed shop or an
    unknown code carries the same headers, so a platform's page reads its reason (`closed`, `missing`) too."""
    try:
        found = await shop_card(_store(request), request.path_params["code"])
    except CouchError as error:
        if error.status == 404:
            error.headers = {**error.headers, **PUBLIC}
        raise
    return json_response(request, found, headers=PUBLIC)


async def badge(request: Request) -> Response:
    """`GET /api/public/shops/{code}/badge.svg`. An unknown code or a closed shop gets a grey badge saying so, still
    with its 404: an `<img>` shows an SVG whatever the status, where a JSON body would show as a broken image."""
    try:
        found = await shop_card(_store(request), request.path_params["code"])
    except CouchError as error:
        if error.status != 404:
            raise
        return Response(missing_badge_svg(error), status_code=404, media_type=SVG_TYPE, headers=SVG)
    return Response(badge_svg(found), media_type=SVG_TYPE, headers=SVG)


routes = [
    Route("/api/public/shops/{code}", card, methods=["GET"]),
    Route("/api/public/shops/{code}/badge.svg", badge, methods=["GET"]),
]
