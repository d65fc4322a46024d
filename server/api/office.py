"""The office's desk: documents the gateway refused from devices (the sync monitor's quarantine list)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.api.common import caller
from server.errors import bad_request
from server.http import json_response, q_int
from server.quarantine import PREFIX, list_quarantine
from server.store.protocol import Store

MAX_PAGE = 500


async def quarantine(request: Request) -> Response:
    """`GET /api/office/quarantine?limit=&before=`: newest first; `next` is the `before` of the following page."""
    await caller(request, "office")
    limit = q_int(request, "limit", 100, minimum=1) or 100
    if limit > MAX_PAGE:
        raise bad_request(f"limit: at most {MAX_PAGE}")
    before = request.query_params.get("before")
    if before is not None and not before.startswith(PREFIX):
        raise bad_request(f"before: an entry id starting with {PREFIX}")
    store: Store = request.app.state.store
    items = await list_quarantine(store, limit=limit + 1, before=before)
    following = items[limit - 1]["_id"] if len(items) > limit else None
    return json_response(request, {"items": items[:limit], "next": following})


routes = [
    Route("/api/office/quarantine", quarantine, methods=["GET"]),
]
