"""The office's read side: communities, the summary figures, rankings, e-files, grid workers, the sync monitor.

Every route needs an office (or operator) token. The figures are counted by `server.office.figures` from the
validators' shop facts (see that module for the exact definitions); `server.office.facts` keeps them in memory
and follows the changes feed, so a refresh of the dashboard costs a few reads.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, time
from typing import Final
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from server import backup as backups
from server.api.common import audited, office
from server.errors import bad_request, not_found
from server.http import json_response, q_bool, q_int
from server.models.common import PARTITION, ULID
from server.office import figures, followups, monitor, rankings, shops
from server.office.facts import Facts, View
from server.office.reach import Reach
from server.store.protocol import Doc, Store
from server.store.upsert import read, read_local
from server.validators.checkpoint import RETRIES_ID
from server.validators.follower import Follower

PAGE: Final = 50  # rows a list answers unless asked for another `limit`
MAX_PAGE: Final = 500
PHOTO_ID: Final = re.compile(rf"{PARTITION}:photo:{ULID}")


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def _facts(request: Request) -> Facts:
    """The office's in-memory view of the store, made on first use and kept on the app; it starts from the facts
    of the validators running in this process, when they run here."""
    state = request.app.state
    facts: Facts | None = getattr(state, "office_facts", None)
    if facts is None or facts.store is not state.store:
        follower: Follower | None = state.follower
        facts = state.office_facts = Facts(state.store, follower)
    return facts


async def office_view(request: Request) -> View:
    """The office's view of the store, for every office route that counts (the dashboard's, the exports')."""
    return await _facts(request).view()


def _params(request: Request) -> dict[str, str]:
    return dict(request.query_params)


async def reached(request: Request) -> tuple[Reach, View]:
    """The caller's reach and the office's view narrowed to it; a `?subdistrict=`, `?community=` or `?grid=` filter
    naming what is outside the reach is a 403 (unknown codes stay the 400s of the routes' own checks)."""
    _principal, reach = await office(request)
    view = await office_view(request)
    params = request.query_params
    reach.subdistrict_param(params.get("subdistrict"))
    reach.view_community(view, params.get("community"))
    reach.view_grid(view, params.get("grid"))
    return reach, reach.narrow(view)


def page_of(request: Request) -> tuple[int, int]:
    """A listing's `limit` (1 to `MAX_PAGE`, `PAGE` unless given) and `offset` (0 or more)."""
    limit = q_int(request, "limit", PAGE, minimum=1) or PAGE
    if limit > MAX_PAGE:
        raise bad_request(f"limit: at most {MAX_PAGE}")
    return limit, q_int(request, "offset", 0) or 0


def _scoped_params(request: Request, reach: Reach) -> dict[str, str]:
    """The query, with a sub-district's office held to its own sub-district."""
    params = _params(request)
    if not reach.everywhere:
        params["subdistrict"] = str(reach.subdistrict)
    return params


async def communities(request: Request) -> Response:
    """`GET /api/office/communities`: `[{"id", "name", "subdistrict", "shops"}]`, shops = its active shops."""
    _reach, view = await reached(request)
    counts: dict[str, int] = {}
    for shop in view.active():
        if shop.facts.community:
            counts[shop.facts.community] = counts.get(shop.facts.community, 0) + 1
    items = [
        {"id": code, "name": doc.get("name"), "subdistrict": doc.get("subdistrict"), "shops": counts.get(code, 0)}
        for code, doc in sorted(view.communities.items())
    ]
    return json_response(request, items)


async def summary(request: Request) -> Response:
    """`GET /api/office/summary?subdistrict=&community=&grid=&breakdown=1`: the seven headline figures beside the
    same period last year (`last_year`), with `counts`, `periods`, `as_of`, `recomputing` (true for the moments
    after a change of rules, while the validators project every shop under them and the figures follow) and
    `shops_registered` (open or closed: 0 until the first import, when the overview shows the first steps);
    `breakdown=1` adds `by_community` and `by_grid`, lists of `{"id", "name", ...the same figures}`."""
    reach, view = await reached(request)
    scope = figures.scope_of(view, _scoped_params(request, reach))
    answer = figures.summary(view, scope.shops(view))
    answer["recomputing"] = view.recomputing  # the rules changed: the figures follow as the shops are projected
    answer["shops_registered"] = scope.registered(view)
    if q_bool(request, "breakdown"):
        answer["by_community"] = figures.breakdown(view, scope, "community")
        answer["by_grid"] = figures.breakdown(view, scope, "grid")
    return json_response(request, answer)


async def breakdown(request: Request) -> Response:
    """`GET /api/office/breakdown?by=community|grid&subdistrict=&community=&grid=`: `{"by", "items"}`, the
    summary of each community or grid of the scope."""
    reach, view = await reached(request)
    scope = figures.scope_of(view, _scoped_params(request, reach))
    by = request.query_params.get("by", "community")
    return json_response(request, {"by": by, "items": figures.breakdown(view, scope, by)})


async def trend(request: Request) -> Response:
    """`GET /api/office/trend?months=13&subdistrict=&community=&grid=`: `{"months": [...]}`, oldest first, each
    with `patrol_rate`, `hazards_found`, `rectification_rate`, `self_check_coverage` and the counts."""
    reach, view = await reached(request)
    scope = figures.scope_of(view, _scoped_params(request, reach))
    months = q_int(request, "months", 13, minimum=1) or 13
    return json_response(request, {"months": figures.trend(view, scope.shops(view), months)})


async def ranking(request: Request) -> Response:
    """`GET /api/office/ranking?month=YYYY-MM&subdistrict=&list=red|black|none&working_group=1&q=&limit=&offset=`:
    one month's red/black list (the current month when omitted), a page of it: `entries` of rank, shop, name,
    points, open hazards, list, working_group, in rank order, of the shops on that list (`none`: on neither),
    flagged for a working group, or whose code or name holds `q`; their `total`, `limit` (50 unless given, at most
    500) and `offset`; `counts` of the whole month's list (`red`, `black`, `none`, `working_group`), `of` (its
    shops), `working_group` (their codes) and `published`. The whole list is the rankings export."""
    reach, view = await reached(request)
    subdistrict = rankings.subdistrict_of(view, reach.subdistrict_param(request.query_params.get("subdistrict")))
    month = rankings.month_param(view, request.query_params.get("month"))
    wanted = rankings.Wanted.of(request.query_params, q_bool(request, "working_group"))
    limit, offset = page_of(request)
    answer = await rankings.ranking_page(_store(request), view, subdistrict, month, wanted, limit, offset)
    return json_response(request, answer)


async def ranking_months(request: Request) -> Response:
    """`GET /api/office/rankings?subdistrict=`: `{"subdistrict", "months": [...]}`, every month with a snapshot,
    newest first, with the sizes of its lists and who published it when (null while unpublished)."""
    reach, view = await reached(request)
    subdistrict = rankings.subdistrict_of(view, reach.subdistrict_param(request.query_params.get("subdistrict")))
    months = await rankings.rankings(_store(request), subdistrict)
    return json_response(request, {"subdistrict": subdistrict, "months": months})


async def publish(request: Request) -> Response:
    """`POST /api/office/rankings/{month}/publish?subdistrict=`: freezes the month's list as published, with who
    and when (201); 400 for a month that has not ended, 409 when the month was published before, 404 when it has no
    snapshot."""
    principal, reach = await office(request)
    view = reach.narrow(await office_view(request))
    subdistrict = rankings.subdistrict_of(view, reach.subdistrict_param(request.query_params.get("subdistrict")))
    month = rankings.ended(view, rankings.month_param(view, request.path_params["month"]))
    doc = await rankings.publish(_store(request), subdistrict, month, principal.user_id, datetime.now(UTC))
    await audited(request, principal, "ranking_published", str(doc["_id"]), f"{subdistrict}, {month}")
    return json_response(request, doc, status=201)


async def shop_list(request: Request) -> Response:
    """`GET /api/office/shops?community=&grid=&q=&list=&status=&hazards=&limit=&offset=`: `{"items", "total",
    "limit", "offset"}`; each shop with its score, rank, list (`list=red|black|none`), status (`status=active|closed`),
    open / overdue hazards and the earliest deadline of its open ones (`earliest_deadline`), in code order; `q` finds
    a shop by its code, name, address, or its contact's name or phone (by the phone's digits, `shops.found`).
    `hazards=open` (`overdue`) keeps the shops with at least one hazard not closed out (overdue), most urgent first:
    most overdue, then most open, then the earliest deadline, then code; any other value is a 400, Chinese first.
    A sub-district's office lists its own shops only."""
    _reach, view = await reached(request)
    limit, offset = page_of(request)
    return json_response(request, shops.list_shops(view, _params(request), limit, offset))


async def efile(request: Request) -> Response:
    """`GET /api/office/shops/{code}/efile`: `{"shop", "summary", "score", "timeline"}`; the timeline holds every
    document of the shop (checks, patrols, rectifications, verifications, photos, hazards with their history,
    alarms, ledger entries) and what the office did about its black-listed months (`followup`: a talk, a special
    inspection, a working group), newest first, each with its `at`; `working_group`: the working group in the shop now
    (进驻中, the latest recorded in any month, with the `month` it was recorded in; null: none). A sub-district's
    office reads the follow-ups recorded for its own lists only (a shop moved in brings none of another's along)."""
    _principal, reach = await office(request)
    view = await office_view(request)
    code = request.path_params["code"]
    reach.view_shop(view, code)
    answer = await shops.efile(_store(request), view, code)
    months, group = await followups.of_shop(_store(request), code, reach.subdistrict)
    answer["working_group"] = group
    done = followups.timeline(months)
    if done:
        zone = ZoneInfo(view.rules.timezone)
        answer["timeline"] = sorted([*answer["timeline"], *done], key=lambda e: _moment(e, zone), reverse=True)
    return json_response(request, answer)


def _moment(entry: dict[str, object], zone: ZoneInfo) -> datetime:
    """A timeline entry's `at` as a moment: a day (a follow-up's) at its end in the district's time zone, as the
    e-file places a ledger entry's day; one with none goes last of all."""
    at = str(entry.get("at"))
    try:
        if len(at) == 10:
            return datetime.combine(date.fromisoformat(at), time(23, 59, 59), zone)
        moment = datetime.fromisoformat(at)
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def photo(request: Request) -> Response:
    """`GET /api/office/photos/{id}`: the image of a photo document (`{shop}:photo:{ulid}`)."""
    _principal, reach = await office(request)
    photo_id = request.path_params["id"]
    if not PHOTO_ID.fullmatch(photo_id):
        raise bad_request("id: a photo id such as S0001:photo:<ulid>")
    reach.view_shop(await office_view(request), photo_id.split(":", 1)[0])
    store = _store(request)
    doc = await read(store, photo_id)
    names = sorted((doc or {}).get("_attachments") or {})
    if doc is None or doc.get("type") != "photo" or not names:
        raise not_found(f"No photo {photo_id}.")
    body = await store.read_attachment(photo_id, names[0])
    headers = {"Content-Length": str(body.length), "Cache-Control": "private, max-age=31536000, immutable"}
    return StreamingResponse(body.chunks, media_type=body.content_type, headers=headers)


async def workers(request: Request) -> Response:
    """`GET /api/office/workers`: `{"workers": [...]}`, each grid worker's grids, active shops, shops patrolled this
    month (`patrolled_month`, `coverage`), overdue patrols (no patrol since the start of last month), open and
    overdue hazards, last patrol and last event delivered."""
    reach, view = await reached(request)
    return json_response(request, {"workers": await shops.workers(_store(request), view, reach.user_filter(view))})


async def projection_failures(store: Store, view: View, reach: Reach) -> list[dict[str, object]]:
    """The shops in reach whose projection failed (`Follower._failed`: the validators' retry history, kept in the
    store whichever process runs them): `[{"shop", "name", "tries", "parked", "error", "at"}]`. Until it succeeds
    the shop's points, hazards and alarms stay as they were, which the office would otherwise not know (a parked
    one is tried again when one of its documents changes, or at the next day's tick)."""
    noted = await read_local(store, RETRIES_ID)
    failing = noted.get("shops", {}) if noted else {}
    out = []
    for code, entry in sorted(failing.items() if isinstance(failing, dict) else ()):
        if not isinstance(entry, dict) or not (reach.everywhere or reach.has(view, code)):
            continue
        shop = view.shops.get(code)
        name = (shop.doc or {}).get("name") if shop else None
        keys = ("tries", "parked", "error", "at")
        out.append({"shop": code, "name": name, **{key: entry.get(key) for key in keys}})
    return out


async def sync_monitor(request: Request) -> Response:
    """`GET /api/office/sync-monitor?only=&role=&q=&limit=&offset=&devices_offset=`: a page of every device's last
    report (`devices`, silent ones with records or photos still on them first) and of the owners and grid workers
    (`users`, by id: their devices, the newest event delivered, refused documents, whether silent for more than 3
    days). Both lists hold the rows `only` keeps (problems, silent, waiting, refused or seen), of a `role` (owner or
    grid), naming `q` (user id, name, shop code or name, device); `limit` (50 unless given, at most 500) is both
    pages', `offset` the users' and `devices_offset` the devices'. `total` (`users`, `devices`) counts the rows asked
    for, `counts` every row in reach (`users`, `devices`: `all` and each `only`, and `silent_waiting` devices), so the
    screen's figures stay right on any page. Beside them `silent_days`, `refused_total`, `people` (the name and shop
    of the users of the newest refused documents), `unassigned_devices`, `projection_failures`, and when the
    embedded store was last backed up (`backup`)."""
    reach, view = await reached(request)
    limit, users_offset = page_of(request)
    devices_offset = q_int(request, "devices_offset", 0) or 0
    wanted = monitor.Wanted.of(request.query_params, limit, users_offset, devices_offset)
    keep = reach.user_filter(view)  # the narrowed view holds every grid and shop that tells a user's reach
    now = datetime.now(UTC)
    visible: Callable[[list[Doc]], Awaitable[list[Doc]]] | None = None
    if not reach.everywhere:
        # The quarantine list's own rule; imported here, since `server.api.office` reads `office_view` of this
        # module. It takes the whole view: a refused document's shop outside the reach is told by its partition.
        from server.api.office import _visible

        visible = functools.partial(_visible, _store(request), await office_view(request), reach)
    answer = await monitor.sync_monitor(_store(request), view, now, keep, visible, wanted)
    settings = request.app.state.settings
    every = settings.backup_every_hours if request.app.state.backups is not None else None
    answer["backup"] = await backups.status(_store(request), now, every)
    answer["projection_failures"] = await projection_failures(_store(request), view, reach)
    return json_response(request, answer)


routes = [
    Route("/api/office/communities", communities, methods=["GET"]),
    Route("/api/office/summary", summary, methods=["GET"]),
    Route("/api/office/breakdown", breakdown, methods=["GET"]),
    Route("/api/office/trend", trend, methods=["GET"]),
    Route("/api/office/ranking", ranking, methods=["GET"]),
    Route("/api/office/rankings", ranking_months, methods=["GET"]),
    Route("/api/office/rankings/{month}/publish", publish, methods=["POST"]),
    Route("/api/office/shops", shop_list, methods=["GET"]),
    Route("/api/office/shops/{code}/efile", efile, methods=["GET"]),
    Route("/api/office/photos/{id}", photo, methods=["GET"]),
    Route("/api/office/workers", workers, methods=["GET"]),
    Route("/api/office/sync-monitor", sync_monitor, methods=["GET"]),
]
