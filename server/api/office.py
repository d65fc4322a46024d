"""The office's desk: documents the gateway refused from devices (the sync monitor's quarantine list).

A sub-district's office (`server.office.reach`) lists the entries of its own shops only: an entry belongs to the
shop of the refused document (its id's partition), else to the shop of the owner who sent it; an entry tied to no
shop (a grid worker's or office account's document outside every shop, the note that a user's refusals of the day
are no longer kept) belongs to where its user belongs. Each page names the shop of the owners who sent its entries
(`people`), as far as their shops are in reach: the screen names an owner by their shop, on every page it turns to.
"""

from __future__ import annotations

from typing import Any, Final

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.api.common import office
from server.api.dashboard import office_view
from server.errors import bad_request
from server.http import json_response, q_int
from server.office.facts import View
from server.office.monitor import owner_shop
from server.office.reach import Reach, users_in_reach
from server.quarantine import PREFIX, list_quarantine
from server.store.protocol import Doc, Store

MAX_PAGE: Final = 500
SCAN: Final = 200  # entries read at a time while a sub-district's office's page is filled
MAX_SCAN: Final = 5_000  # entries read at most for one page: a page may then come short, with its `next`


def shop_of_entry(view: View, entry: Doc) -> str | None:
    """The shop of the view a quarantine entry is tied to: the refused document's, else its owner's."""
    doc_id, user = entry.get("doc_id"), entry.get("user")
    partition = doc_id.split(":", 1)[0] if isinstance(doc_id, str) else ""
    if partition in view.shops:
        return partition
    role, _, name = user.partition(":") if isinstance(user, str) else ("", "", "")
    return name if role == "owner" and name in view.shops else None


async def _visible(store: Store, view: View, reach: Reach, entries: list[Doc]) -> list[Doc]:
    """The entries in reach, in their order."""
    tied = [(entry, shop_of_entry(view, entry)) for entry in entries]
    users = await users_in_reach(store, view, reach, (entry.get("user") for entry, code in tied if code is None))
    return [
        entry for entry, code in tied if (reach.has(view, code) if code is not None else entry.get("user") in users)
    ]


def owners_named(view: View, reach: Reach, entries: list[Doc]) -> dict[str, dict[str, Any]]:
    """`{user id: {"shop", "shop_name"}}` of the owners who sent these entries, those whose shop is in reach (an
    owner of another sub-district's shop who wrote into one of ours stays a code, as the monitor's `people` has it)."""
    named: dict[str, dict[str, Any]] = {}
    for entry in entries:
        user = str(entry.get("user"))
        shop = view.shops.get(user.removeprefix("owner:")) if user.startswith("owner:") else None
        if shop is not None and reach.holds(view, shop):
            named[user] = owner_shop(user, view)
    return named


def _page(request: Request, view: View, reach: Reach, items: list[Doc], following: str | None) -> Response:
    return json_response(request, {"items": items, "next": following, "people": owners_named(view, reach, items)})


async def quarantine(request: Request) -> Response:
    """`GET /api/office/quarantine?limit=&before=`: newest first; `next` is the `before` of the following page, and
    `people` the shop of each owner the page names."""
    _principal, reach = await office(request)
    limit = q_int(request, "limit", 100, minimum=1) or 100
    if limit > MAX_PAGE:
        raise bad_request(f"limit: at most {MAX_PAGE}")
    before = request.query_params.get("before")
    if before is not None and not before.startswith(PREFIX):
        raise bad_request(f"before: an entry id starting with {PREFIX}")
    store: Store = request.app.state.store
    view = await office_view(request)
    if reach.everywhere:
        items = await list_quarantine(store, limit=limit + 1, before=before)
        following = items[limit - 1]["_id"] if len(items) > limit else None
        return _page(request, view, reach, items[:limit], following)
    # A sub-district's office: entries are read on past those of other sub-districts until the page (and one
    # more, which tells that there is a next page) is full, the quarantine ends, or `MAX_SCAN` were read.
    kept: list[Doc] = []
    cursor, scanned = before, 0
    while True:
        batch = await list_quarantine(store, limit=SCAN, before=cursor)
        scanned += len(batch)
        for entry in await _visible(store, view, reach, batch):
            kept.append(entry)
            if len(kept) > limit:
                return _page(request, view, reach, kept[:limit], kept[limit - 1]["_id"])
        if len(batch) < SCAN:
            return _page(request, view, reach, kept, None)
        cursor = batch[-1]["_id"]
        if scanned >= MAX_SCAN:  # a short page: the next one goes on from the last entry read
            return _page(request, view, reach, kept, cursor)


routes = [
    Route("/api/office/quarantine", quarantine, methods=["GET"]),
]
