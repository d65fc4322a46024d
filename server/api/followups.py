"""The office's follow-up of a month's black list (黑榜跟进): what was done about each black-listed shop, and
recording a talk (约谈), a special inspection (专项检查) or a working group (专班整治). Office (or operator) token.

A sub-district's office (`server.office.reach`) reads and records its own sub-district's shops only: another
sub-district's shop is the 404 of an unknown one. The ranking page (`GET /api/office/ranking`) carries the same
follow-ups on its black-listed rows; `server.office.followups` says what is checked.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.api.common import audited, office
from server.api.dashboard import office_view, reached
from server.errors import bad_request, no_such
from server.http import json_response, read_json
from server.models.followups import ACTION_NAMES, parse_request
from server.models.registry import shop_doc_id
from server.office import followups, rankings
from server.store.protocol import Store


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


async def month_followups(request: Request) -> Response:
    """`GET /api/office/rankings/{month}/followups?subdistrict=`: `{"subdistrict", "month", "counts", "items"}`:
    each shop of the month's black list in rank order (`shop`, `name`, `rank`, `points`, `working_group`), with its
    `followup` (the latest `talk`, `inspection` and `working_group`, null for none yet, and every action, newest
    first, each with `recorded_by` and `recorded_at`; null when nothing is recorded) and what is `outstanding`. A
    working group recorded in an earlier month and not ended since is carried into the month's `working_group` (with
    the `month` it was recorded in and `carried: true`) unless the month records its own; `actions` are the month's;
    `counts`: `black`, `talked`, `inspected`, `inspection_planned`, `working_group`, `group_active`, `group_ended`,
    `outstanding`, `off_list`. `off_list`: the shops not on the month's black list with a working group there, as the
    items are (nothing is `outstanding` for them): one still there when the month began (in place, or ended since),
    whose end the office records there, or one recorded in the month for a shop the month flags (`working_group`
    true: black-listed often enough, on this month's list or not). 404 for a month without a ranking."""
    reach, view = await reached(request)
    subdistrict = rankings.subdistrict_of(view, reach.subdistrict_param(request.query_params.get("subdistrict")))
    month = rankings.month_param(view, request.path_params["month"])
    snapshot, publication = await rankings.snapshot(_store(request), subdistrict, month)
    black = followups.BlackList.of(subdistrict, month, snapshot, publication)
    done = await rankings.month_followups(_store(request), black)
    ranked = {str(e["shop"]): e for e in snapshot.get("entries", ())}

    def item(code: str, listed: bool) -> dict[str, Any]:
        entry, shop = ranked.get(code, {}), view.shops.get(code)
        flagged = code in black.group
        return {
            "shop": code,
            "name": (shop.doc or {}).get("name") if shop else None,
            "rank": entry.get("rank"),
            "points": entry.get("points"),
            "list": entry.get("list"),
            "working_group": flagged,
            "followup": done.get(code),
            "outstanding": followups.outstanding(done.get(code), flagged) if listed else [],
        }

    answer = {
        "subdistrict": subdistrict,
        "month": month,
        "counts": followups.counts(black, done),
        "items": [item(code, True) for code in black.shops],
        "off_list": [item(code, False) for code in followups.off_list(black, done)],
    }
    return json_response(request, answer)


async def record(request: Request) -> Response:
    """`POST /api/office/rankings/{month}/followups/{shop}`: records one action for a shop of the month's black list,
    `{"action": "talk", "on", "talked_to", "by", "note"?}`, `{"action": "inspection", "status": "done"|"planned",
    "on" (done) or "due" (planned), "by", "note"?}` or `{"action": "working_group", "status": "active"|"ended",
    "started", "ended"?, "members", "note"?}` (ending the group in place, own or carried from an earlier month:
    `{"action": "working_group", "status": "ended", "ended"}`, its start and members kept); 201 with the shop's
    follow-up of the month. A shop the month flags for a working group may have one recorded (and nothing else)
    off the black list too. 400 with a reason, Chinese first, for a shop not on that month's black list (a working
    group: not flagged for one and none carried), a talk or inspection for a flagged shop off the list, ending a
    working group that is not in place, a day done after today or before the month, a note over 500 characters, an
    unknown action, anything but the end of its working group for a shop that left the list with one still there
    and that the month does not flag; 404 for an unknown shop or a month without a
    ranking."""
    principal, reach = await office(request)
    view = await office_view(request)
    code = str(request.path_params["shop"])
    reach.view_shop(view, code)
    shop = view.shops.get(code)
    subdistrict = view.subdistrict_of(shop) if shop else None
    if shop is None or subdistrict is None:
        raise no_such("shop", code)
    month = rankings.month_param(view, request.path_params["month"])
    try:
        action = parse_request(await read_json(request))
    except ValueError as e:
        raise bad_request(str(e)) from None
    black, _done = await rankings.black_list(_store(request), subdistrict, month)
    now = datetime.now(ZoneInfo(view.rules.timezone))
    answer = await followups.record(_store(request), black, code, action, principal.user_id, now, view.today())
    answer["outstanding"] = followups.outstanding(answer, code in black.group) if code in black.shops else []
    await audited(request, principal, "followup_recorded", shop_doc_id(code), f"{month} {ACTION_NAMES[action.action]}")
    return json_response(request, answer, status=201)


routes = [
    Route("/api/office/rankings/{month}/followups", month_followups, methods=["GET"]),
    Route("/api/office/rankings/{month}/followups/{shop}", record, methods=["POST"]),
]
