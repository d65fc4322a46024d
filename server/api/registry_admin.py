"""The office's registry desk: the survey import (a background job with progress and a validation report),
shops, communities, grids and staff accounts."""

from __future__ import annotations

import contextlib
import re
from collections import Counter
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.accounts import USERNAME, public_user
from server.api.common import accounts_of, audited, line_field, moved_shop, office, only_fields, registry_of
from server.api.dashboard import office_view
from server.errors import CouchError, bad_request, no_such, not_found, unknown_in
from server.http import ascii_int, json_response, q_bool, read_body, read_object
from server.ids import new_ulid
from server.import_jobs import KEEP_JOBS, ImportJobs
from server.importer import MAX_BYTES, Report, category_code, parse, too_big, unknown_category
from server.models.common import is_shop_code
from server.models.registry import Shop, community_doc_id, grid_doc_id, shop_doc_id, subdistrict_doc_id
from server.office.reach import Reach
from server.registry import contact_of, no_grid_worker
from server.store.protocol import Doc, Store
from server.store.reads import docs_with_prefix
from server.store.upsert import read

SHOP_FIELDS: Final[tuple[str, ...]] = ("name", "address", "category")
FILE_NAME_MAX: Final = 200


async def start_import(request: Request) -> Response:
    """`POST /api/office/import?dry_run=&create=&create_similar=&subdistrict=&file=`: starts importing the CSV or XLSX
    sent as the body, 202 with the job's report; dry_run=1 writes nothing, create=1 makes unknown communities and
    grids, create_similar=1 also those one character away from one in reach (see `server/importer.py`); `file` is the
    file's name, which the report and the audit log show. The job is kept in the store before the answer, and a
    restarted server goes on with it (`server/import_jobs.py`)."""
    principal, reach = await office(request)
    declared = request.headers.get("content-length")
    if declared is not None and (ascii_int(declared) or 0) > MAX_BYTES:
        raise CouchError(413, "too_large", too_big())
    rows = parse(await read_body(request), request.headers.get("content-type", ""))
    subdistrict = reach.subdistrict_param(request.query_params.get("subdistrict"))
    dry_run, create = q_bool(request, "dry_run"), q_bool(request, "create")
    similar = q_bool(request, "create_similar")
    file = file_name(request.query_params.get("file"))
    report = Report(
        new_ulid(), dry_run=dry_run, create=create, create_similar=similar, within=reach.subdistrict, file=file
    )
    await _jobs(request).start(report, rows, subdistrict)
    if not dry_run:
        named = {"file": file} if file else {}
        await audited(request, principal, "import_started", f"import:{report.job}", f"{len(rows)} row(s)", **named)
    return json_response(request, report.to_json(), status=202)


def file_name(given: str | None) -> str | None:
    """The imported file's name as the screen sends it: its last path part (a browser may send the whole path),
    printable, at most `FILE_NAME_MAX` characters; None when there is none."""
    name = "".join(c for c in re.split(r"[\\/]", given or "")[-1] if c.isprintable()).strip()
    return name[:FILE_NAME_MAX] or None


async def import_job(request: Request) -> Response:
    """`GET /api/office/import/{job}`: progress (`done` of `total` rows), then the validation report."""
    _principal, reach = await office(request)
    report = await _jobs(request).report(request.path_params["job"])
    if report is None:
        raise not_found(_no_job())
    if not reach.everywhere and report.get("within") != reach.subdistrict:
        raise not_found(_no_job())
    return json_response(request, report)


def _no_job() -> str:
    return (
        f"找不到这次导入（只保留最近 {KEEP_JOBS} 次导入的结果）：请重新导入这份表格。"
        f"No such import job (the last {KEEP_JOBS} finished imports are kept)."
    )


def _jobs(request: Request) -> ImportJobs:
    jobs: ImportJobs = request.app.state.imports
    return jobs


# ----- shops -----


async def list_shops(request: Request) -> Response:
    """`GET /api/office/registry/shops?community=&grid=&status=&code=`: registry documents by code; `code=` lists
    that one shop or none (the registry form asks it to know whether it adds a shop or edits one)."""
    _principal, reach = await office(request)
    status = request.query_params.get("status")
    if status not in (None, "active", "closed"):
        raise bad_request("status: active or closed")
    registry = registry_of(request)
    community, grid = request.query_params.get("community"), request.query_params.get("grid")
    # Only the shops of communities in reach are listed: another sub-district's community or grid lists none, as an
    # unknown one does (no 403 to tell them apart).
    ours = await _communities_in_reach(request, reach)
    code = request.query_params.get("code")
    if code is None:
        shops = await registry.shops_of(community, grid)
    else:
        shops = [
            s
            for s in await registry.shops([code])
            if community in (None, s.get("community")) and grid in (None, s.get("grid"))
        ]
    items = [
        _shop_out(s) for s in shops if (status is None or s.get("status") == status) and s.get("community") in ours
    ]
    return json_response(request, {"items": items, "total": len(items)})


async def create_shop(request: Request) -> Response:
    """`POST /api/office/shops {code, name, address, category, grid, contact?}`: 201 with the shop; `contact` is
    `{"name", "phone"}`, its responsible person (负责人) and phone."""
    principal, reach = await office(request)
    body = await read_object(request)
    only_fields(body, ("code", *SHOP_FIELDS, "grid", "contact"))
    fields: dict[str, Any] = {name: line_field(body, name, 200) for name in ("code", "name", "address", "grid")}
    if not is_shop_code(fields["code"]):
        raise bad_request(
            "code: 店铺编号只能由字母、数字、_ 和 - 组成，如 S0001。a shop code of letters, digits, _ and -"
        )
    fields["grid"] = await _grid_code(request, reach, fields["grid"])
    fields["category"] = _category(body) if body.get("category") is not None else "other"
    fields["contact"] = contact_of(body.get("contact"))
    shop = await registry_of(request).create_shop(fields, (await office_view(request)).today())
    request.app.state.authenticator.forget()
    await audited(
        request, principal, "shop_registered", shop_doc_id(shop["code"]), f"{shop['name']}, grid {shop['grid']}"
    )
    return json_response(request, _shop_out(shop), status=201)


async def edit_shop(request: Request) -> Response:
    """`PATCH /api/office/shops/{code} {name?, address?, category?, grid?, contact?}`; a new grid moves the shop;
    `contact` (`{"name", "phone"}`) replaces the shop's, and null (or both empty) removes it. The audit log says that
    the contact changed, never the name or number (the log is kept for good; a number replaced must not stay in it)."""
    principal, reach = await office(request)
    body = await read_object(request)
    only_fields(body, (*SHOP_FIELDS, "grid", "contact"))
    code = request.path_params["code"]
    registry = registry_of(request)
    await reach.shop(registry.store, code)
    changes: dict[str, Any] = {name: line_field(body, name, 200) for name in SHOP_FIELDS if name in body}
    if "category" in changes:
        changes["category"] = _category(body)
    if "contact" in body:
        changes["contact"] = contact_of(body["contact"])
    if "grid" in body:
        shop = await registry.shop(code)
        if shop is None:
            raise no_such("shop", code)
        grid = await _grid_code(request, reach, line_field(body, "grid", 200))
        if grid != shop["grid"]:
            await moved_shop(request, principal, code, shop["grid"], grid)
        before: Doc | None = shop  # what the fields were (the move changed only the grid)
    else:
        before = await registry.shop(code) if changes else None
    shop = await registry.edit_shop(code, changes)
    changed = [f"{k}: {_said(k, v)}" for k, v in changes.items() if before is not None and before.get(k) != v]
    if changed:
        await audited(request, principal, "shop_changed", shop_doc_id(code), "; ".join(changed))
    return json_response(request, _shop_out(shop))


def _said(name: str, value: Any) -> Any:
    """A changed field as the audit log says it: the contact only as changed or removed."""
    if name != "contact":
        return value
    return "removed" if value is None else "changed"


def _category(body: dict[str, Any]) -> str:
    """The category code of the form's category: a code, or a survey's word (餐饮, 超市, …) as the import takes it."""
    given = line_field(body, "category", 64)
    code = category_code(given)
    if code is None:
        raise bad_request(f"category: {unknown_category(given)}")  # the field first: the form puts it beside it
    return code


async def _grid_code(request: Request, reach: Reach, given: str) -> str:
    """The grid the form names, by its code or by its name (the one grid in reach of that name); 400 (the field
    first, Chinese first) for none or several."""
    registry = registry_of(request)
    missing = bad_request(f"grid: 没有网格“{given}”：请填写网格编号或名称。no grid {given}")
    if await registry.grid(given) is not None:
        await reach.grid(registry.store, given, missing)
        return given
    named = []
    for grid in await registry.grids():
        if grid.get("name") == given:
            with contextlib.suppress(CouchError):  # another sub-district's grid of that name is not for this office
                await reach.grid(registry.store, str(grid["code"]), missing)
                named.append(str(grid["code"]))
    if not named:
        raise missing
    if len(named) > 1:
        raise bad_request(f"grid: 有 {len(named)} 个网格名为“{given}”：请填写网格编号。{given} names several grids")
    return named[0]


async def close_shop(request: Request) -> Response:
    """`POST /api/office/shops/{code}/close`: the shop is closed; it leaves the ranking and the posters, and its
    owner's account is disabled until it is reopened (signed out, and refused sign-in and activation)."""
    return await _set_status(request, "closed")


async def reopen_shop(request: Request) -> Response:
    """`POST /api/office/shops/{code}/reopen`: a closed shop is active again; its owner signs in again with the
    shop code and PIN (a new owner: with an activation code from the office or the grid worker)."""
    return await _set_status(request, "active")


async def _set_status(request: Request, status: str) -> Response:
    principal, reach = await office(request)
    code = request.path_params["code"]
    await reach.shop(registry_of(request).store, code)
    before = await registry_of(request).shop(code)
    today = (await office_view(request)).today()
    shop = await registry_of(request).set_status(code, status, today)
    if before is not None and before.get("status") != status:
        # The owner is signed out, and while the shop is closed refused everywhere (`Accounts.shop_status_changed`).
        await accounts_of(request).shop_status_changed(code, status)
        request.app.state.authenticator.forget(f"owner:{code}")
        await audited(request, principal, "shop_closed" if status == "closed" else "shop_reopened", shop_doc_id(code))
    return json_response(request, _shop_out(shop))


async def _communities_in_reach(request: Request, reach: Reach) -> set[str]:
    communities = await registry_of(request).communities()
    return {str(c["code"]) for c in communities if reach.allows(c.get("subdistrict"))}


def _shop_out(doc: dict[str, Any]) -> dict[str, Any]:
    return {name: doc.get(name) for name in Shop.model_fields if name not in ("id", "type", "schema_")}


# ----- communities and grids -----


async def list_communities(request: Request) -> Response:
    """`GET /api/office/registry/communities`: communities with their grids (workers, shop counts)."""
    _principal, reach = await office(request)
    registry = registry_of(request)
    grids = await registry.grids()
    out = []
    for c in await registry.communities():
        if not reach.allows(c.get("subdistrict")):
            continue
        mine = [g for g in grids if g.get("community") == c["code"]]
        out.append(
            {
                "code": c["code"],
                "name": c["name"],
                "subdistrict": c["subdistrict"],
                "shops": sum(len(g.get("shops", [])) for g in mine),
                "grids": [
                    {"code": g["code"], "name": g["name"], "workers": g.get("workers", []), "shops": len(g["shops"])}
                    for g in mine
                ],
            }
        )
    return json_response(request, {"items": out})


async def put_community(request: Request) -> Response:
    """`PUT /api/office/registry/communities/{code} {name, subdistrict?, move?}`: create or rename. Another
    sub-district than its own moves the community, with its grids and shops, their rankings and figures: only
    with `"move": true`; without it the answer is 409 `move_unconfirmed`, saying what would move."""
    principal, reach = await office(request)
    body = await read_object(request)
    only_fields(body, ("name", "subdistrict", "move"))
    sub = line_field(body, "subdistrict", 64) if body.get("subdistrict") is not None else None
    move = body.get("move", False)
    if not isinstance(move, bool):
        raise bad_request("move: must be true or false")
    registry = registry_of(request)
    code = request.path_params["code"]
    await reach.own_community(registry.store, code)
    sub = reach.subdistrict_param(sub)  # a sub-district's office names its own, or none
    current = await registry.community(code)
    if current is not None and sub is not None and sub != current.get("subdistrict") and not move:
        grids = [g for g in await registry.grids() if g.get("community") == code]
        shops = sum(len(g.get("shops", [])) for g in grids)
        raise CouchError(
            409,
            "move_unconfirmed",
            f"社区 {code} 属于街道 {current.get('subdistrict')}：改到街道 {sub} 会把它的 {len(grids)} 个网格、"
            f"{shops} 家店铺及其排名和统计一并迁移，请确认后再保存。"
            f"community {code} is in sub-district {current.get('subdistrict')}: moving it to {sub} takes its "
            f"{len(grids)} grid(s) and {shops} shop(s), their rankings and figures with it; "
            'send "move": true to move it',
        )
    doc = await registry.save_community(code, line_field(body, "name"), sub)
    if current is not None and current.get("subdistrict") != doc["subdistrict"]:
        detail = f"sub-district {current.get('subdistrict')} to {doc['subdistrict']}"
        await audited(request, principal, "community_moved", community_doc_id(code), detail)
    elif current is None or current.get("name") != doc["name"]:
        await audited(
            request, principal, "community_saved", community_doc_id(code), f"{doc['name']}, {doc['subdistrict']}"
        )
    return json_response(request, {k: doc[k] for k in ("code", "name", "subdistrict")})


async def list_subdistricts(request: Request) -> Response:
    """`GET /api/office/registry/subdistricts`: the sub-districts (街道) with their names (null while unnamed) and
    how many communities each has (a sub-district named before its first community has none: nothing to rank)."""
    _principal, reach = await office(request)
    registry = registry_of(request)
    named = await registry.subdistricts()
    counts = Counter(str(c.get("subdistrict")) for c in await registry.communities())
    items = [
        {"code": code, "name": name, "communities": counts.get(code, 0)}
        for code, name in named.items()
        if reach.allows(code)
    ]
    return json_response(request, {"items": items})


async def put_subdistrict(request: Request) -> Response:
    """`PUT /api/office/registry/subdistricts/{code} {name}`: name a sub-district (reports show the name)."""
    principal, reach = await office(request)
    code = request.path_params["code"]
    reach.require(code, f"Sub-district {code}", f"街道 {code} ")
    body = await read_object(request)
    only_fields(body, ("name",))
    registry = registry_of(request)
    before = ((await read(registry.store, subdistrict_doc_id(code))) or {}).get("name")  # not all the communities
    doc = await registry.save_subdistrict(code, line_field(body, "name", 64))
    if before != doc["name"]:  # reports and posters print the name: who changed it is kept
        detail = str(doc["name"]) if before is None else f"{before} to {doc['name']}"
        await audited(request, principal, "subdistrict_named", subdistrict_doc_id(code), detail)
    return json_response(request, {k: doc[k] for k in ("code", "name")})


async def put_grid(request: Request) -> Response:
    """`PUT /api/office/registry/grids/{code} {name, community, workers?}`: create or edit; `workers` are
    grid-worker usernames; those added or removed re-read their scope."""
    principal, reach = await office(request)
    body = await read_object(request)
    only_fields(body, ("name", "community", "workers"))
    workers = body.get("workers")
    if workers is not None and (not isinstance(workers, list) or not all(isinstance(w, str) for w in workers)):
        raise bad_request("workers: a list of grid-worker usernames")
    store = registry_of(request).store
    await reach.own_grid(store, request.path_params["code"])
    community = line_field(body, "community", 64)
    await reach.community(store, community, unknown_in("community", "community", community))
    if workers:
        workers = await _grid_usernames(request, reach, workers)
    for worker in workers or []:
        await reach.user(store, f"grid:{worker}", bad_request(no_grid_worker(worker)))
    before = await registry_of(request).grid(request.path_params["code"])
    doc = await registry_of(request).save_grid(
        request.path_params["code"], line_field(body, "name"), line_field(body, "community", 64), workers
    )
    request.app.state.authenticator.forget()
    fields = ("name", "community", "workers")
    if before is None or any(before.get(k) != doc.get(k) for k in fields):
        detail = f"{doc['name']}, {doc['community']}, workers: {'、'.join(doc.get('workers', [])) or '-'}"
        await audited(request, principal, "grid_saved", grid_doc_id(doc["code"]), detail)
    return json_response(request, {k: doc[k] for k in ("code", "name", "community", "workers", "shops")})


async def _grid_usernames(request: Request, reach: Reach, entries: list[str]) -> list[str]:
    """The usernames a grid's `workers` name, each once: a username as it is, and what is not one (王芳, as an
    office types the person it means) the username of the one grid worker in reach of that name. Two of that name,
    or none, is refused in Chinese first: the model's reason ("workers[0]: must be a username ...") told the office
    nothing it could act on."""
    accounts: list[Doc] | None = None
    usernames: list[str] = []
    for entry in entries:
        if USERNAME.fullmatch(entry):
            usernames.append(entry)
            continue
        if accounts is None:
            keep = reach.user_filter(await office_view(request))
            grid_accounts = await docs_with_prefix(registry_of(request).store, "accounts:user:grid:")
            accounts = [doc for doc in grid_accounts if keep(doc)]
        named = sorted(str(doc.get("username")) for doc in accounts if str(doc.get("name") or "").strip() == entry)
        if len(named) > 1:
            raise bad_request(
                f"有 {len(named)} 个网格员的姓名是“{entry}”（用户名 {'、'.join(named)}）：请填写其中一个的用户名。"
                f"workers: {len(named)} grid workers are named {entry} ({', '.join(named)}): give the username"
            )
        if not named:
            raise bad_request(
                f"没有姓名为“{entry}”的网格员账号：请填写网格员账号的用户名（如 lina），或先在“新增用户”中新建该账号。"
                f"workers: no grid worker named {entry}"
            )
        usernames.append(named[0])
    return list(dict.fromkeys(usernames))


# ----- staff accounts -----


async def list_users(request: Request) -> Response:
    """`GET /api/office/users?role=`: staff and owner accounts (no secrets)."""
    _principal, reach = await office(request)
    role = request.query_params.get("role")
    if role not in (None, "office", "grid", "owner"):
        raise bad_request("role: office, grid or owner")
    start = f"accounts:user:{role}:" if role else "accounts:user:"
    store: Store = request.app.state.store
    keep = reach.user_filter(await office_view(request))
    items = [
        {**public_user(doc), "disabled": bool(doc.get("disabled"))}
        for doc in await docs_with_prefix(store, start)
        if keep(doc)
    ]
    return json_response(request, {"items": items})


async def staff_names(request: Request) -> Response:
    """`GET /api/office/staff-names`: `{"names": {user id: name}}`, the staff the office's screens name where a
    document names them by id (who took an alarm's step, who patrolled): the office and grid accounts in the caller's
    reach, and the district's own office accounts, which act on every sub-district's alarms (a sub-district's office
    saw their steps as `office:wang`). Names only: no usernames, roles or scope."""
    _principal, reach = await office(request)
    store: Store = request.app.state.store
    keep = reach.user_filter(await office_view(request))
    names: dict[str, str] = {}
    for role in ("office", "grid"):
        for doc in await docs_with_prefix(store, f"accounts:user:{role}:"):
            if keep(doc) or (role == "office" and not doc.get("subdistrict")):
                names[str(doc["user_id"])] = str(doc.get("name") or doc.get("username") or doc["user_id"])
    return json_response(request, {"names": names})


async def create_user(request: Request) -> Response:
    """`POST /api/office/users {role: grid|office, username, password, name, subdistrict?}`: 201; 409 when the
    username exists. `subdistrict` makes an office account that sub-district's office, and files a grid worker
    under it; a sub-district's office creates accounts of its own sub-district only."""
    principal, reach = await office(request)
    body = await read_object(request)
    only_fields(body, ("role", "username", "password", "name", "subdistrict"))
    role, username = line_field(body, "role", 16), line_field(body, "username", 32)
    if role not in ("grid", "office"):
        raise bad_request(
            "role: 只能新建网格员或安监所账号（店主用激活码自行开通）。"
            "grid or office (owners sign up with an activation code)"
        )
    given = line_field(body, "subdistrict", 64) if body.get("subdistrict") is not None else None
    subdistrict = reach.subdistrict_param(given)
    if subdistrict is not None and subdistrict not in await registry_of(request).subdistricts():
        raise unknown_in("subdistrict", "subdistrict", subdistrict)
    accounts = accounts_of(request)
    # Usernames are district-wide (one sign-in form for every office), so a 409 for a username another
    # sub-district's account has cannot be helped: it tells only that the name is taken, as it does for its own.
    for existing in ("grid", "office"):
        if await accounts.user(f"{existing}:{username}") is not None:
            raise CouchError(409, "conflict", f"用户名 {username} 已被占用，请换一个。username: {username} is taken")
    doc = await accounts.create_staff(role, username, _password(body), line_field(body, "name", 64), subdistrict)
    await audited(request, principal, "staff_created", str(doc["user_id"]))
    return json_response(request, public_user(doc), status=201)


async def reset_password(request: Request) -> Response:
    """`POST /api/office/users/{user_id}/password {password}`: a new password signs the user out everywhere."""
    principal, reach = await office(request)
    user_id = request.path_params["user_id"]
    accounts = accounts_of(request)
    missing = not_found(
        "没有这个网格员或安监所账号（店主须用新的激活码重设密码）。"
        "No such staff account (owners set their PIN with a new activation code)."
    )
    # Another sub-district's account is missing as an unknown one; one shared with another sub-district is refused.
    await reach.user_alone(accounts.store, user_id, missing)
    user = await accounts.user(user_id)
    if user is None or user.get("role") not in ("grid", "office"):
        raise missing
    body = await read_object(request)
    only_fields(body, ("password",))
    password = _password(body)
    doc = await accounts.create_staff(user["role"], user["username"], password, user["name"], user.get("subdistrict"))
    request.app.state.authenticator.forget()
    await audited(request, principal, "password_reset", user_id)
    return json_response(request, {**public_user(doc), "token_version": doc["token_version"]})


def _password(body: dict[str, Any]) -> str:
    value = body.get("password")
    if not isinstance(value, str) or len(value) > 200:
        raise bad_request("密码须为 8 至 200 位。password: a string of 8 to 200 characters is required")
    return value


routes = [
    Route("/api/office/import", start_import, methods=["POST"]),
    Route("/api/office/import/{job}", import_job, methods=["GET"]),
    Route("/api/office/registry/shops", list_shops, methods=["GET"]),
    Route("/api/office/shops", create_shop, methods=["POST"]),
    Route("/api/office/shops/{code}", edit_shop, methods=["PATCH"]),
    Route("/api/office/shops/{code}/close", close_shop, methods=["POST"]),
    Route("/api/office/shops/{code}/reopen", reopen_shop, methods=["POST"]),
    Route("/api/office/registry/communities", list_communities, methods=["GET"]),
    Route("/api/office/registry/communities/{code}", put_community, methods=["PUT"]),
    Route("/api/office/registry/subdistricts", list_subdistricts, methods=["GET"]),
    Route("/api/office/registry/subdistricts/{code}", put_subdistrict, methods=["PUT"]),
    Route("/api/office/registry/grids/{code}", put_grid, methods=["PUT"]),
    Route("/api/office/users", list_users, methods=["GET"]),
    Route("/api/office/staff-names", staff_names, methods=["GET"]),
    Route("/api/office/users", create_user, methods=["POST"]),
    Route("/api/office/users/{user_id}/password", reset_password, methods=["POST"]),
]
