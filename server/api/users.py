"""The office's handling of accounts: revoking a user's tokens, the sign-in audit log, moving shops."""

from __future__ import annotations

import re
from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.accounts import NO_USER
from server.api.common import accounts_of, audited, line_field, moved_shop, office, only_fields, registry_of
from server.api.dashboard import office_view
from server.errors import bad_request, not_found, unknown_in
from server.http import json_response, q_int, read_object
from server.import_jobs import ImportJobs
from server.models.common import ULID
from server.office.reach import Reach
from server.store.protocol import Doc
from server.store.reads import docs_with_prefix

# The audit log is the district's, newest first. A sub-district's office reads the entries of its own accounts: one
# answer looks through at most this many entries, and says where to go on (`next`) when older ones are left.
AUDIT_SCAN = 5000
AUDIT_ID = re.compile(rf"accounts:audit:{ULID}")


async def revoke(request: Request) -> Response:
    principal, reach = await office(request)
    accounts = accounts_of(request)
    user_id = request.path_params["user_id"]
    await reach.user(accounts.store, user_id, not_found(NO_USER))  # as `Accounts.revoke` says of an unknown one
    version = await accounts.revoke(user_id)
    request.app.state.authenticator.forget()
    request.app.state.authenticator.end_feeds(user_id)  # its phones' live replication ends now, refused next
    await audited(request, principal, "signed_out", user_id)
    return json_response(request, {"ok": True, "token_version": version})


async def audit(request: Request) -> Response:
    """`GET /api/office/audit?limit=&before=`: failed sign-ins, activation codes handed out and used, staff accounts
    made, passwords reset, users signed out everywhere, phones' files brought in, the registry's changes (shops
    registered, changed, moved, closed and reopened; communities and grids saved or moved; imports started), rules
    and checklists saved and red/black lists published, newest first, as `{"items", "next"}`; `next` (an entry's
    id, for `before=`) is there while older entries are left. An office's own actions name it (`detail`: "by
    office:..."); an import's entries carry `import`: its `job`, `file` and, while its report is kept, `status`,
    `total`, `created`, `updated` and `refused`. A sub-district's office sees the entries of its own accounts, shops,
    communities, grids, imports and lists, and those of the district's rules and checklists."""
    _principal, reach = await office(request)
    limit = min(q_int(request, "limit", 100, minimum=1) or 100, 1000)
    before = request.query_params.get("before")
    if before is not None and not AUDIT_ID.fullmatch(before):
        raise bad_request("before: an audit entry's id (accounts:audit:...), as `next` gives it")
    accounts = accounts_of(request)
    visible = None if reach.everywhere else await _visible(request, reach)
    items: list[Doc] = []
    scanned, position, left = 0, before, False
    async for entry in accounts.audit_entries(before, page=min(limit + 1, 500) if visible is None else 500):
        if len(items) == limit or scanned == AUDIT_SCAN:
            left = True  # an older entry is there
            break
        scanned += 1
        position = str(entry["_id"])
        if visible is None or visible(entry):
            items.append(entry)
    await _told_imports(request, items)
    return json_response(request, {"items": items, "next": position if left else None})


async def _told_imports(request: Request, items: list[Doc]) -> None:
    """An import's entries say what it did, as a person recognises it: `import`, its `job`, `file` and, while the
    job's report is kept, its `status` and counts (`ImportJobs.outcomes`)."""
    told = [(entry, str(entry.get("account")).removeprefix("import:")) for entry in items if _of_import(entry)]
    imports: ImportJobs = request.app.state.imports
    outcomes = await imports.outcomes(job for _entry, job in told)
    for entry, job in told:
        outcome = outcomes.get(job, {})
        entry["import"] = {"job": job, **outcome, "file": outcome.get("file") or entry.get("file")}


def _of_import(entry: Doc) -> bool:
    return str(entry.get("account")).startswith("import:")


async def _visible(request: Request, reach: Reach) -> Callable[[Doc], bool]:
    """Whether a sub-district's office sees an audit entry: one about its own account, shop, community or grid,
    or an import by one of its own office accounts."""
    view = await office_view(request)
    keep = reach.user_filter(view)
    users = {str(doc["user_id"]): doc for doc in await docs_with_prefix(accounts_of(request).store, "accounts:user:")}

    def visible(entry: Doc) -> bool:
        subject = str(entry.get("account"))
        kind, _, key = subject.partition(":")
        if subject.startswith("registry:community:"):
            community = view.communities.get(subject.removeprefix("registry:community:"))
            return community is not None and reach.allows(community.get("subdistrict"))
        if subject.startswith("registry:subdistrict:"):
            return reach.allows(subject.removeprefix("registry:subdistrict:"))
        if subject.startswith("registry:grid:"):
            grid = view.grids.get(subject.removeprefix("registry:grid:"))
            community = view.communities.get(str(grid.get("community"))) if grid else None
            return community is not None and reach.allows(community.get("subdistrict"))
        if key.startswith("shop:"):
            return reach.has(view, kind)
        if kind == "district":  # the rules and checklists: every office's
            return True
        if subject.startswith("office:publication:"):  # office:publication:{sub-district}:{month}
            return reach.allows(subject.split(":")[2])
        if kind == "import":  # by whom: "by office:{name}..."
            by = str(entry.get("detail", "")).removeprefix("by ").split(":", 2)
            return len(by) >= 2 and _kept(f"{by[0]}:{by[1]}", users, keep)
        account = _audited_account(subject, users)
        return account is not None and _kept(account, users, keep)

    return visible


def _kept(account: str, users: dict[str, Doc], keep: Callable[[Doc], bool]) -> bool:
    return keep(users.get(account) or {"user_id": account})


def _audited_account(account: str, users: dict[str, Doc]) -> str | None:
    """The user id an audit entry is about: `owner:{shop}`, or a staff sign-in's `staff:{username}`."""
    if account.startswith("staff:"):
        name = account.split(":", 1)[1]
        return next((f"{role}:{name}" for role in ("grid", "office") if f"{role}:{name}" in users), None)
    return account if account.startswith(("owner:", "grid:", "office:")) else None


async def move_shop(request: Request) -> Response:
    principal, reach = await office(request)
    body = await read_object(request)
    only_fields(body, ("grid",))
    grid = line_field(body, "grid", 64)
    await reach.shop(registry_of(request).store, request.path_params["code"])
    await reach.grid(registry_of(request).store, grid, unknown_in("grid", "grid", grid))  # as an unknown grid
    before = await registry_of(request).shop(request.path_params["code"])
    from_grid = before.get("grid") if before is not None else grid  # no shop: the move answers its 404
    touched = await moved_shop(request, principal, request.path_params["code"], from_grid, grid)
    return json_response(request, {"ok": True, "grid_workers": touched})


routes = [
    Route("/api/office/users/{user_id}/revoke", revoke, methods=["POST"]),
    Route("/api/office/audit", audit, methods=["GET"]),
    Route("/api/office/shops/{code}/move", move_shop, methods=["POST"]),
]
