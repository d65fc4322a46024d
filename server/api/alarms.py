"""The office's alarm queue: list by status, the live event stream, acknowledge / dispatch / resolve, and the
webhook's delivery log. Every route needs an office (or operator) token."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Final

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from server.alarms import DEPARTMENTS, STATUSES, AlarmEvent, Alarms, Status
from server.api.common import caller
from server.errors import bad_request
from server.http import json_response, q_int, read_body
from server.webhook import LOG_KEEP, Webhook

MAX_PAGE: Final = 500
KEEPALIVE_SECONDS: Final = 15.0  # a comment line this often keeps proxies and the browser from timing out
RETRY_MS: Final = 3000  # how soon a browser's EventSource reconnects after the stream ends
STREAM_HEADERS: Final = {
    "Cache-Control": "no-cache, no-transform",  # no-transform: no proxy may compress (and so buffer) the stream
    "X-Accel-Buffering": "no",  # nginx: pass each event on at once
}


def alarms_of(request: Request) -> Alarms:
    alarms: Alarms = request.app.state.alarms
    return alarms


def webhook_of(request: Request) -> Webhook:
    webhook: Webhook = request.app.state.webhook
    return webhook


async def list_alarms(request: Request) -> Response:
    """`GET /api/office/alarms?status=&limit=&before=`: newest first, with the count of each status."""
    await caller(request, "office")
    status = request.query_params.get("status")
    if status is not None and status not in STATUSES:
        raise bad_request(f"status: one of {', '.join(STATUSES)}")
    limit = q_int(request, "limit", 100, minimum=1) or 100
    if limit > MAX_PAGE:
        raise bad_request(f"limit: at most {MAX_PAGE}")
    alarms = alarms_of(request)
    items, following = await alarms.by_status(status, limit, request.query_params.get("before"))
    return json_response(request, {"items": items, "next": following, "counts": alarms.counts()})


async def one_alarm(request: Request) -> Response:
    await caller(request, "office")
    return json_response(request, await alarms_of(request).get(request.path_params["id"]))


async def _step(request: Request, to: Status) -> Response:
    principal = await caller(request, "office")
    body = await _optional_object(request)
    note = body.get("note", "")
    if not isinstance(note, str):
        raise bad_request("note: a string")
    department = body.get("department")
    if to == "dispatched" and not isinstance(department, str):
        raise bad_request(f"department: required to dispatch, one of {', '.join(DEPARTMENTS)}")
    alarm = await alarms_of(request).transition(
        request.path_params["id"], to, principal.user_id, note.strip(), department if to == "dispatched" else None
    )
    return json_response(request, alarm)


async def acknowledge(request: Request) -> Response:
    return await _step(request, "acknowledged")


async def dispatch(request: Request) -> Response:
    return await _step(request, "dispatched")


async def resolve(request: Request) -> Response:
    return await _step(request, "resolved")


async def stream(request: Request) -> Response:
    """`GET /api/office/alarms/stream`: server-sent events, `event: alarm` with `{"change": "new"|"changed",
    "alarm": {...}}` for each new or changed alarm. A client that reconnects with `Last-Event-ID` gets what it
    missed, or `event: reset` when that is no longer known (it should then reload the list)."""
    await caller(request, "office")
    alarms = alarms_of(request)
    subscription, missed = alarms.subscribe(request.headers.get("last-event-id"))

    async def events() -> AsyncIterator[bytes]:
        try:
            yield f"retry: {RETRY_MS}\n\n".encode()
            if missed is None:
                yield b"event: reset\ndata: {}\n\n"
            for earlier in missed or ():
                yield _sse(earlier)
            while True:
                event = await subscription.next(KEEPALIVE_SECONDS)
                if event is not None:
                    yield _sse(event)
                elif subscription.dropped or subscription.closing.is_set():
                    return  # fell behind, or the server is stopping: the client reconnects with Last-Event-ID
                else:
                    yield b": keepalive\n\n"
        finally:
            alarms.unsubscribe(subscription)

    return StreamingResponse(events(), media_type="text/event-stream", headers=STREAM_HEADERS)


def _sse(event: AlarmEvent) -> bytes:
    data = orjson.dumps({"change": event.change, "alarm": event.alarm})
    return b"id: " + event.id.encode() + b"\nevent: alarm\ndata: " + data + b"\n\n"


async def deliveries(request: Request) -> Response:
    """`GET /api/office/webhook/deliveries?limit=`: the webhook's last attempts, newest first."""
    await caller(request, "office")
    limit = min(q_int(request, "limit", LOG_KEEP, minimum=1) or LOG_KEEP, LOG_KEEP)
    webhook = webhook_of(request)
    return json_response(request, {"configured": webhook.configured, "items": await webhook.deliveries(limit)})


async def _optional_object(request: Request) -> dict[str, Any]:
    """A JSON object body, or {} when there is none (acknowledging needs no body)."""
    body = await read_body(request)
    if not body.strip():
        return {}
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise bad_request("invalid UTF-8 JSON") from None
    if not isinstance(data, dict):
        raise bad_request("Request body must be a JSON object")
    return data


routes = [
    Route("/api/office/alarms", list_alarms, methods=["GET"]),
    Route("/api/office/alarms/stream", stream, methods=["GET"]),
    Route("/api/office/alarms/{id}", one_alarm, methods=["GET"]),
    Route("/api/office/alarms/{id}/ack", acknowledge, methods=["POST"]),
    Route("/api/office/alarms/{id}/dispatch", dispatch, methods=["POST"]),
    Route("/api/office/alarms/{id}/resolve", resolve, methods=["POST"]),
    Route("/api/office/webhook/deliveries", deliveries, methods=["GET"]),
]
