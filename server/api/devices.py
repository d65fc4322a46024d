"""Devices report their sync state (pending documents and photos, last sync, app version, storage), and the
office reads the reports for its sync monitor: who has data stuck on a phone, and which phones went silent.

A report is kept server-side as `accounts:device:{user_id}:{device}` (a partition no device replicates), always
under the caller's own user id and role, with the server's `received_at`: a device cannot report for someone else,
nor replace another user's report by naming their device (device ids are not secret: every event carries its
writer's). Two users of one shared phone each keep their own row. A row of the earlier `accounts:device:{device}`
form is still read as it is; the caller's own is removed when they report that device again. A sub-district's office
lists the devices of its own users only (`server.office.reach.users_in_reach`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Final

from pydantic import Field, StrictStr, ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.api.common import caller, office
from server.api.dashboard import office_view
from server.errors import bad_request
from server.http import json_response, read_object
from server.models.common import Count, DeviceId, Part, Timestamp, reason_of
from server.office.reach import users_in_reach
from server.store.protocol import Store
from server.store.reads import docs_with_prefix
from server.store.upsert import read, upsert

PREFIX: Final = "accounts:device:"
SILENT_DAYS: Final = 3  # a device not heard from for longer is flagged for the office
DEVICES_PER_USER: Final = 10  # the reports kept per user, the most recent: phones replaced, a shared phone or two

AppVersion = Annotated[StrictStr, Field(min_length=1, max_length=40)]


class Storage(Part):
    usage: Count
    quota: Count


class DeviceReport(Part):
    """What a phone sends: `POST /api/devices/report`."""

    device: DeviceId
    app_version: AppVersion
    pending_docs: Count
    pending_photos: Count
    last_push: Timestamp | None = None
    last_pull: Timestamp | None = None
    storage: Storage | None = None
    refused: Count = 0


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def _now() -> datetime:
    return datetime.now(UTC)


async def report(request: Request) -> Response:
    """`POST /api/devices/report`: any signed-in user, about the device they use; answers the stored record."""
    principal = await caller(request, "owner", "grid", "office")
    try:
        body = DeviceReport.model_validate(await read_object(request))
    except ValidationError as e:
        raise bad_request(reason_of(e)) from None
    doc: dict[str, Any] = {
        "_id": device_id(principal.user_id, body.device),
        "type": "device",
        **body.model_dump(mode="json"),
        "user": principal.user_id,
        "role": principal.role,
        "received_at": _now().isoformat(timespec="seconds"),
    }
    stored = await upsert(_store(request), doc)
    await _drop_earlier(_store(request), principal.user_id, body.device)
    await _keep_newest(_store(request), principal.user_id)
    return json_response(request, _public(stored, _now()))


def device_id(user_id: str, device: str) -> str:
    """The id of `user_id`'s report of `device`. User ids are `{role}:{name}` with no colon in either part (a
    username or a shop code), so the user's part of the id is told apart from a device id with colons in it."""
    return f"{PREFIX}{user_id}:{device}"


async def _drop_earlier(store: Store, user_id: str, device: str) -> None:
    """Removes the caller's report of `device` kept under the earlier id `accounts:device:{device}`, now replaced
    by their own row; another user's report kept there stays theirs. Best effort: a row that changed meanwhile is
    left."""
    earlier = await read(store, PREFIX + device)
    # The `device` field tells an earlier row from a new one whose id reads the same (a device id with colons).
    if earlier is None or earlier.get("user") != user_id or earlier.get("device") != device:
        return
    await store.bulk_docs([{"_id": earlier["_id"], "_rev": earlier["_rev"], "_deleted": True}])


async def _keep_newest(store: Store, user_id: str) -> None:
    """Keeps the user's `DEVICES_PER_USER` most recent reports, removing older ones: a phone replaced, or a script
    naming new device ids, would otherwise add a row for ever (300 in a second, each read by every sync monitor)."""
    rows = await docs_with_prefix(store, f"{PREFIX}{user_id}:")
    if len(rows) <= DEVICES_PER_USER:
        return
    rows.sort(key=lambda row: (str(row.get("received_at", "")), str(row["_id"])), reverse=True)
    await store.bulk_docs(
        [{"_id": row["_id"], "_rev": row["_rev"], "_deleted": True} for row in rows[DEVICES_PER_USER:]]
    )


def _public(doc: dict[str, Any], now: datetime) -> dict[str, Any]:
    out = {k: v for k, v in doc.items() if not k.startswith("_") and k != "type"}
    try:
        silent = (now - datetime.fromisoformat(doc["received_at"])).total_seconds() / 86400
    except (KeyError, TypeError, ValueError):
        silent = float("inf")
    out["silent_days"] = round(silent, 1) if silent != float("inf") else None
    out["silent"] = silent > SILENT_DAYS
    return out


async def list_devices(request: Request) -> Response:
    """`GET /api/office/devices?silent=1`: every device's last report (a sub-district's office: of its own users),
    the silent ones (> 3 days) first."""
    _principal, reach = await office(request)
    only_silent = request.query_params.get("silent") in ("1", "true")
    now = _now()
    store = _store(request)
    docs = await docs_with_prefix(store, PREFIX)
    if not reach.everywhere:
        reached = await users_in_reach(store, await office_view(request), reach, (doc.get("user") for doc in docs))
        docs = [doc for doc in docs if doc.get("user") in reached]
    items = [_public(doc, now) for doc in docs]
    if only_silent:
        items = [item for item in items if item["silent"]]
    items.sort(key=lambda item: (not item["silent"], -(item["silent_days"] or 0)))
    return json_response(
        request, {"items": items, "silent_after_days": SILENT_DAYS, "silent": sum(1 for i in items if i["silent"])}
    )


routes: list[Route] = [
    Route("/api/devices/report", report, methods=["POST"]),
    Route("/api/office/devices", list_devices, methods=["GET"]),
]
