"""Reward points (积分): the balances of a community's shops, one shop's balance and redemptions, and the office
recording a redemption (points exchanged for a prize). Every route needs an office (or operator) token.

- `GET /api/office/rewards?community=`: `{"items": [{shop, name, community, grid, status, points, rank, of, list,
  earned, redeemed, balance, updated_at}], "totals": {shops, earned, redeemed, balance}}`, ranked shops first by
  rank, then by code; without `community`, every shop of the registry's grids.
- `GET /api/office/rewards/{shop}`: `{shop, name, community, grid, status, earned, earned_by_rule, redeemed,
  redemptions, balance, updated_at, history: [redemption documents, newest first]}`.
- `POST /api/office/rewards/{shop}/redemptions {"points", "prize", "note"?, "request_id"?}`: 201 `{"redemption",
  "rewards": {earned, redeemed, redemptions, balance, updated_at}, "replayed": false}`; a retry with the same
  `request_id` and body is 200 with the recorded redemption and `"replayed": true` (another body: 409); more than
  the balance is 409 `insufficient_points`.

A sub-district's office (`server.office.reach`) lists its own shops only (and their totals), and another
sub-district's shop or community is the 404 of an unknown one.

The balances come from the `{shop}:rewards` projections (`server.models.projections.Rewards` says what earns), the
single shop's from its events at the time of the request, so a redemption just recorded is already in it.
"""

from __future__ import annotations

import re
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.api.common import line_field, office, registry_of
from server.api.dashboard import office_view
from server.errors import bad_request, no_such
from server.http import json_response, read_object
from server.models.common import KEY, MAX_NOTE, is_shop_code
from server.models.registry import community_doc_id, shop_doc_id
from server.store.protocol import AllDocsQuery, Doc, Store
from server.store.upsert import read
from server.validators.context import load_context
from server.validators.rewards import balance, public, redeem

MAX_POINTS: Final = 100_000
REQUEST_ID: Final = re.compile(KEY)
CHUNK: Final = 500
REWARD_FIELDS: Final = ("earned", "redeemed", "balance", "updated_at")


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def _shop_code(request: Request) -> str:
    code = str(request.path_params["shop"])
    if not is_shop_code(code):
        raise no_such("shop", code)
    return code


async def balances(request: Request) -> Response:
    """`GET /api/office/rewards?community=`."""
    _principal, reach = await office(request)
    store = _store(request)
    community = request.query_params.get("community")
    if community is not None:  # another sub-district's community is missing, as an unknown one
        await reach.community(store, community, no_such("community", community))
    if community is not None and await read(store, community_doc_id(community)) is None:
        raise no_such("community", community)
    grids = await registry_of(request).grids()
    codes = sorted(
        {code for grid in grids if community is None or grid.get("community") == community for code in grid["shops"]}
    )
    if not reach.everywhere:
        view = await office_view(request)
        codes = [code for code in codes if reach.has(view, code)]
    docs = await _by_keys(
        store, [key for code in codes for key in (shop_doc_id(code), f"{code}:score", f"{code}:rewards")]
    )
    items = []
    for code in codes:
        shop, score, rewards = docs.get(shop_doc_id(code)), docs.get(f"{code}:score"), docs.get(f"{code}:rewards")
        if shop is None or (community is not None and shop.get("community") != community):
            continue  # listed by a grid but moved on, or not registered
        item = _shop_fields(code, shop)
        item |= {key: (score or {}).get(key) for key in ("points", "rank", "of", "list")}
        item |= {key: (rewards or {}).get(key, 0 if key != "updated_at" else None) for key in REWARD_FIELDS}
        items.append(item)
    items.sort(key=lambda item: (item["rank"] is None, item["rank"] or 0, item["shop"]))
    totals = {"shops": len(items)} | {key: sum(int(item[key]) for item in items) for key in REWARD_FIELDS[:3]}
    return json_response(request, {"items": items, "totals": totals})


async def one_shop(request: Request) -> Response:
    """`GET /api/office/rewards/{shop}`."""
    _principal, reach = await office(request)
    store = _store(request)
    code = _shop_code(request)
    await reach.shop(store, code)
    now = await balance(store, code, await load_context(store))
    rewards = {k: v for k, v in now.rewards.items() if k not in ("_id", "type", "schema", "shop", "rules_version")}
    history = [public(doc) for doc in reversed(now.redemptions)]
    return json_response(request, _shop_fields(now.registry["code"], now.registry) | rewards | {"history": history})


async def record(request: Request) -> Response:
    """`POST /api/office/rewards/{shop}/redemptions`."""
    principal, reach = await office(request)
    code = _shop_code(request)
    await reach.shop(_store(request), code)
    body = await read_object(request)
    points = body.get("points")
    if type(points) is not int or not 1 <= points <= MAX_POINTS:
        raise bad_request(f"points: 兑换积分须为 1 至 {MAX_POINTS} 的整数。a whole number from 1 to {MAX_POINTS}")
    prize = line_field(body, "prize")
    note = body.get("note", "")
    if not isinstance(note, str) or len(note) > MAX_NOTE:
        raise bad_request(f"note: 备注最多 {MAX_NOTE} 个字。a string of at most {MAX_NOTE} characters")
    request_id = body.get("request_id")
    if request_id is not None and (not isinstance(request_id, str) or not REQUEST_ID.fullmatch(request_id)):
        raise bad_request("request_id: letters, digits, _ and - (at most 64), e.g. a ULID the client made")
    store = _store(request)
    done = await redeem(
        store,
        code,
        await load_context(store),
        points=points,
        prize=prize,
        note=note.strip(),
        request_id=request_id,
        by=principal.user_id,
    )
    answer = {
        "redemption": public(done.redemption),
        "rewards": _rewards_fields(done.rewards),
        "replayed": done.replayed,
    }
    return json_response(request, answer, status=200 if done.replayed else 201)


def _shop_fields(code: str, shop: Doc) -> dict[str, Any]:
    return {
        "shop": code,
        "name": shop.get("name"),
        "community": shop.get("community"),
        "grid": shop.get("grid"),
        "status": shop.get("status"),
    }


def _rewards_fields(rewards: Doc) -> dict[str, Any]:
    return {key: rewards.get(key) for key in ("earned", "redeemed", "redemptions", "balance", "updated_at")}


async def _by_keys(store: Store, ids: list[str]) -> dict[str, Doc]:
    found: dict[str, Doc] = {}
    for start in range(0, len(ids), CHUNK):
        rows = (await store.all_docs(AllDocsQuery(keys=ids[start : start + CHUNK], include_docs=True)))["rows"]
        found |= {row["id"]: row["doc"] for row in rows if row.get("doc")}
    return found


routes = [
    Route("/api/office/rewards", balances, methods=["GET"]),
    Route("/api/office/rewards/{shop}", one_shop, methods=["GET"]),
    Route("/api/office/rewards/{shop}/redemptions", record, methods=["POST"]),
]
