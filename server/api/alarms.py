"""The office's alarm queue: list by status, the live event stream, acknowledge / dispatch / resolve, and the
webhook's delivery log. Every route needs an office (or operator) token. Every alarm they answer or stream carries,
on each item, what was found and where its hazard stands now (`server.alarm_findings`: `note`, `hazard_status`,
`deadline`).

A sub-district's office (`server.office.reach`) has the alarms of its own shops only: the list, its counts and
the stream hold no other, and a named alarm of another sub-district's shop is a 403. The webhook is the district's.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Any, Final

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from server.alarm_findings import event_findings, replayed, with_findings
from server.alarms import ALARM_ID, DEPARTMENTS, STATUSES, AlarmEvent, Alarms, Status, shop_of
from server.api.common import office
from server.api.dashboard import office_view
from server.errors import CouchError, bad_request
from server.http import json_response, q_int, read_body
from server.office.facts import View
from server.office.reach import Reach
from server.webhook import LOG_KEEP, Webhook

log = logging.getLogger(__name__)

MAX_PAGE: Final = 500
KEEPALIVE_SECONDS: Final = 15.0  # a comment line this often keeps proxies and the browser from timing out
RETRY_MS: Final = 3000  # how soon a browser's EventSource reconnects after the stream ends
REACH_REFRESH_SECONDS: Final = 60.0  # how often a sub-district's open stream takes its shops from the view again
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


def holding(reach: Reach, view: View) -> Callable[[str], bool | None]:
    """Whether a shop (by code) is in `reach` as the office's view places it; None for a shop the view does not
    know (yet). The view is the office's own, which every office read brings up to date in place."""

    return lambda code: reach.has(view, code) if code in view.shops else None


async def in_reach(request: Request, reach: Reach) -> Callable[[str], bool | None] | None:
    """The shops whose alarms `reach` may see; None: every shop (the district's office needs no view)."""
    return None if reach.everywhere else holding(reach, await office_view(request))


async def _named(request: Request, reach: Reach) -> str:
    """The alarm of the path, after a 403 when it is another sub-district's shop's (told by its id's partition,
    so that whether such an alarm exists is not told either). A malformed id is left to the lookup's 404."""
    alarm_id = str(request.path_params["id"])
    shops = await in_reach(request, reach)
    if shops is not None and ALARM_ID.fullmatch(alarm_id) and not shops(shop_of(alarm_id)):
        raise reach.outside(f"The alarm of shop {shop_of(alarm_id)}", f"店铺 {shop_of(alarm_id)} 的报警")
    return alarm_id


async def list_alarms(request: Request) -> Response:
    """`GET /api/office/alarms?status=&limit=&before=`: newest first, with the count of each status; both of the
    shops in the caller's reach only. Each item of an alarm carries the finding's `note` ("" when none) and its
    hazard's `hazard_status` (open, rectified, overdue, closed) and `deadline` as they are now (null when the hazard
    cannot be read)."""
    _principal, reach = await office(request)
    status = request.query_params.get("status")
    if status is not None and status not in STATUSES:
        raise bad_request(f"status: one of {', '.join(STATUSES)}")
    limit = q_int(request, "limit", 100, minimum=1) or 100
    if limit > MAX_PAGE:
        raise bad_request(f"limit: at most {MAX_PAGE}")
    alarms = alarms_of(request)
    shops = await in_reach(request, reach)
    items, following = await alarms.by_status(status, limit, request.query_params.get("before"), shops)
    items = await with_findings(alarms.store, items)
    return json_response(request, {"items": items, "next": following, "counts": alarms.counts(shops)})


async def one_alarm(request: Request) -> Response:
    """`GET /api/office/alarms/{id}`: the alarm, its items with their findings as in the list."""
    _principal, reach = await office(request)
    alarms = alarms_of(request)
    [alarm] = await with_findings(alarms.store, [await alarms.get(await _named(request, reach))])
    return json_response(request, alarm)


async def _step(request: Request, to: Status) -> Response:
    principal, reach = await office(request)
    alarm_id = await _named(request, reach)
    body = await _optional_object(request)
    note = body.get("note", "")
    if not isinstance(note, str):
        raise bad_request("note: a string")
    department = body.get("department")
    if to == "dispatched" and not isinstance(department, str):
        raise bad_request(f"department: 派发时须选择处置部门。required to dispatch, one of {', '.join(DEPARTMENTS)}")
    alarms = alarms_of(request)
    alarm = await alarms.transition(
        alarm_id, to, principal.user_id, note.strip(), department if to == "dispatched" else None
    )
    [shown] = await with_findings(alarms.store, [alarm])
    return json_response(request, shown)


async def acknowledge(request: Request) -> Response:
    return await _step(request, "acknowledged")


async def dispatch(request: Request) -> Response:
    return await _step(request, "dispatched")


async def resolve(request: Request) -> Response:
    return await _step(request, "resolved")


async def stream(request: Request) -> Response:
    """`GET /api/office/alarms/stream`: server-sent events, `event: alarm` with `{"change": "new"|"changed",
    "alarm": {...}}` for each new or changed alarm (its items with their findings, as in the list). A client that
    reconnects with `Last-Event-ID` gets what it missed (each alarm as its event told it, its hazards as they are
    now), or `event: reset` when that is no longer known (it should then reload the list). A sub-district's office
    hears of its own shops' alarms only (which shops those are is taken from the office's view again every
    `REACH_REFRESH_SECONDS`, so a shop moved to another sub-district leaves its stream, and at once for an alarm of
    a shop the view does not know yet, one registered since). A hazard's own later change (rectified, closed,
    overdue) sends each unresolved alarm naming it again, `changed`."""
    _principal, reach = await office(request)
    alarms = alarms_of(request)
    subscription, missed = alarms.subscribe(request.headers.get("last-event-id"), await in_reach(request, reach))

    async def refresh() -> None:
        try:
            subscription.shops = holding(reach, await office_view(request))
        except CouchError as e:  # the shops as they were stay in force until the next try
            log.warning("alarm stream: the shops of %s were not taken again (%s)", reach.subdistrict, e)

    refreshed = time.monotonic()

    async def allowed(event: AlarmEvent) -> bool:
        """Whether the event's shop is in reach; a shop the view does not know yet (registered since it was read)
        makes the stream take its shops again first."""
        nonlocal refreshed
        if subscription.shops is None:
            return True
        if subscription.shops(event.shop) is None:
            await refresh()
            refreshed = time.monotonic()
        return subscription.shops(event.shop) is True

    async def events() -> AsyncIterator[bytes]:
        nonlocal refreshed
        try:
            yield f"retry: {RETRY_MS}\n\n".encode()
            if missed is None:
                yield b"event: reset\ndata: {}\n\n"
            # Replayed with their hazards as they are now, read in one batch: not as the live streams were sent them.
            earlier = [event for event in missed or () if await allowed(event)]
            for told, alarm in zip(earlier, await replayed(alarms.store, earlier), strict=True):
                yield _sse(told, alarm)
            while True:
                event = await subscription.next(KEEPALIVE_SECONDS)
                if subscription.shops is not None and time.monotonic() - refreshed >= REACH_REFRESH_SECONDS:
                    await refresh()
                    refreshed = time.monotonic()
                if event is not None:
                    if await allowed(event):
                        yield _sse(event, await event_findings(alarms.store, event))
                elif subscription.dropped or subscription.closing.is_set():
                    return  # fell behind, or the server is stopping: the client reconnects with Last-Event-ID
                else:
                    yield b": keepalive\n\n"
        finally:
            alarms.unsubscribe(subscription)

    return StreamingResponse(events(), media_type="text/event-stream", headers=STREAM_HEADERS)


def _sse(event: AlarmEvent, alarm: dict[str, Any]) -> bytes:
    data = orjson.dumps({"change": event.change, "alarm": alarm})
    return b"id: " + event.id.encode() + b"\nevent: alarm\ndata: " + data + b"\n\n"


async def deliveries(request: Request) -> Response:
    """`GET /api/office/webhook/deliveries?limit=`: the webhook's last attempts, newest first (the district's
    office only: the webhook carries every sub-district's alarms)."""
    _principal, reach = await office(request)
    reach.whole("The webhook's delivery log", "报警推送记录")
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
