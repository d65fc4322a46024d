"""`/sync/`: the endpoints PouchDB's replicator calls, with CouchDB's status codes and error bodies.

Handlers parse, ask `access` what the principal may see or write, call the store and answer.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import AbstractContextManager
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from server import access
from server.auth import Principal
from server.errors import CouchError, bad_request, not_found
from server.http import (
    ascii_int,
    json_response,
    method_not_allowed,
    q_bool,
    q_int,
    q_json,
    read_object,
    settings_of,
)
from server.store import mango, revtree
from server.store.protocol import AllDocsQuery, ChangesQuery, GetOptions, Store, no_changes
from server.sync.writes import write_docs

# Bounds on what one request from a device may make the gateway do (an operator's token is bound by the body
# limit only): each was a small request that held the gateway, or a large answer built in memory.
MAX_DOC_IDS = 10_000  # `_changes?filter=_doc_ids` (SQLite takes 250,000 variables in one query, then fails)
MAX_BULK_GET = 1_000  # entries of one `_bulk_get`; PouchDB asks for a batch (the phone's pull: 500)
MAX_BULK_GET_ATTACHMENTS = 20  # with attachments=true (a photo is up to 2 MB; the phone gets them one by one)
MAX_KEYS = 1_000  # `_all_docs` keys; PouchDB asks for a batch's first revisions this way
MAX_LOCAL_BYTES = 64 * 1024  # a `_local` checkpoint
# An update sequence as the stores give them (CouchDB's `{number}-{opaque}`), its number below 10**18 as the embedded
# store reads one: a larger one passed here, and the store's refusal came after a longpoll's 200 had begun.
SEQ_DIGITS = 18
SEQ = re.compile(rf"[0-9]{{1,{SEQ_DIGITS}}}(-[A-Za-z0-9_-]{{1,2000}})?")
MIN_HEARTBEAT_MS = 1_000  # a longpoll's heartbeat
LONGPOLL_FIRST_S = 1.0  # a longpoll answered within this long gets its own status (see `changes`)


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


async def _who(request: Request) -> tuple[Principal, access.Scope]:
    principal = await request.app.state.authenticator.principal(request)
    shops: frozenset[str] = frozenset()
    if principal.role == "grid":
        shops = await request.app.state.registry.shops_of_worker(principal.user_id.split(":", 1)[1])
    return principal, access.scope_for(principal, shops)


def _readable(scope: access.Scope, doc_id: str) -> None:
    if not scope.allows(doc_id):
        raise not_found("missing")


async def db_info(request: Request) -> Response:
    _principal, scope = await _who(request)
    if request.method == "PUT":
        raise CouchError(412, "file_exists", "The database could not be created, the file already exists.")
    info = await _store(request).info()
    info["db_name"] = "sync"
    if scope.partitions is not None:
        # Counts of the whole database would tell a user about shops outside their scope.
        info.update(doc_count=0, doc_del_count=0, data_size=0, disk_size=0)
    return json_response(request, info)


# ----- _local: replication checkpoints, namespaced per user -----


async def local_doc(request: Request) -> Response:
    principal, _scope = await _who(request)
    client_id = request.path_params["local_id"]
    store_id = access.local_id(principal, client_id)
    store = _store(request)
    if request.method in ("GET", "HEAD"):  # HEAD was taken for a PUT of no body: a 400
        doc = await store.get_local(store_id)
        doc["_id"] = f"_local/{client_id}"
        return json_response(request, doc)
    if request.method == "DELETE":
        rev = request.query_params.get("rev")
        out = await store.delete_local(store_id, rev)
    else:
        doc = await read_object(request)
        if not principal.is_admin and len(orjson.dumps(doc)) > MAX_LOCAL_BYTES:
            # A checkpoint is a few hundred bytes; any larger is a device filling the server's disk.
            raise CouchError(413, "document_too_large", f"_local documents hold at most {MAX_LOCAL_BYTES} bytes")
        out = await store.put_local(store_id, doc)
    out["id"] = f"_local/{client_id}"
    return json_response(request, out, 200 if request.method == "DELETE" else 201)


# ----- the changes feed -----


async def changes(request: Request) -> Response:
    principal, scope = await _who(request)
    body = await read_object(request) if request.method == "POST" else {}
    feed = request.query_params.get("feed", "normal")
    if feed not in ("normal", "longpoll"):
        raise bad_request("Supported feeds are normal and longpoll")
    style = request.query_params.get("style", "main_only")
    if style not in ("main_only", "all_docs"):
        raise bad_request("style must be main_only or all_docs")
    filt = request.query_params.get("filter")
    doc_ids = selector = None
    if filt == "_doc_ids":
        doc_ids = body.get("doc_ids", q_json(request, "doc_ids"))
        if not isinstance(doc_ids, list) or not all(isinstance(d, str) for d in doc_ids):
            raise bad_request("filter=_doc_ids needs a doc_ids list of strings")
        if len(doc_ids) > MAX_DOC_IDS:
            raise bad_request(f"filter=_doc_ids takes at most {MAX_DOC_IDS} ids")
    elif filt == "_selector":
        selector = body.get("selector")
        if not isinstance(selector, dict):
            raise bad_request("filter=_selector needs a selector object")
        mango.validate(selector, allow_regex=principal.is_admin)
    elif filt is not None:
        raise bad_request(f"Unsupported filter: {filt}")
    since_raw = request.query_params.get("since", "0")
    since: Any = since_raw
    if (number := ascii_int(since_raw)) is not None and 0 <= number < 10**SEQ_DIGITS:
        since = number
    elif since_raw != "now" and not SEQ.fullmatch(since_raw):  # CouchDB's are `{number}-{opaque}`
        raise bad_request("Malformed sequence supplied in 'since' parameter.")
    settings = settings_of(request)
    timeout = q_int(request, "timeout", settings.longpoll_max_ms) or 0
    wait = min(timeout, settings.longpoll_max_ms) if feed == "longpoll" else 0
    query = ChangesQuery(
        since=since,
        limit=max(1, limit) if (limit := q_int(request, "limit")) is not None else None,  # CouchDB: 0 means 1
        all_docs=style == "all_docs",
        include_docs=q_bool(request, "include_docs"),
        conflicts=q_bool(request, "conflicts"),
        attachments=q_bool(request, "attachments"),
        descending=q_bool(request, "descending"),
        partitions=scope.partitions,
        doc_ids=doc_ids,
        selector=selector,
        wait_ms=wait,
    )
    if doc_ids is not None and scope.partitions is not None:
        query = ChangesQuery(**{**query.__dict__, "doc_ids": [d for d in doc_ids if scope.allows(d)]})
    store = _store(request)
    if feed == "normal":
        return json_response(request, await store.changes(query))
    heartbeat = q_int(request, "heartbeat", None, minimum=1)
    if heartbeat is not None and not principal.is_admin:
        heartbeat = max(heartbeat, MIN_HEARTBEAT_MS)  # a newline a millisecond kept a core busy per connection
    authenticator = request.app.state.authenticator
    stream = _longpoll(store, query, heartbeat, authenticator.open_feed(principal.user_id))
    # The status goes with the first bytes. An answer (or a refusal of the store's) within the first moment is sent
    # as a normal feed's, with its own status: a 503 of a CouchDB that is down was a 200 carrying the error. A longer
    # wait is streamed, so a phone that goes away ends it (Starlette cancels the stream).
    first = asyncio.ensure_future(anext(stream))
    done, _ = await asyncio.wait({first}, timeout=LONGPOLL_FIRST_S)
    if first in done:
        try:
            chunk = first.result()
        except BaseException:
            await stream.aclose()
            raise
        if chunk != b"\n":
            await stream.aclose()
            return Response(chunk, media_type="application/json")
    return StreamingResponse(_streamed(first, stream), media_type="application/json")


async def _streamed(first: asyncio.Future[bytes], rest: AsyncGenerator[bytes, None]) -> AsyncIterator[bytes]:
    """The longpoll's bytes once its 200 has gone: a refusal of the store's is then the body, as CouchDB ends a feed
    it cannot go on with."""
    try:
        try:
            yield await first
            async for chunk in rest:
                yield chunk
        except CouchError as e:
            yield orjson.dumps(e.body()) + b"\n"
    finally:
        first.cancel()
        await rest.aclose()


async def _longpoll(
    store: Store, query: ChangesQuery, heartbeat_ms: int | None, feed: AbstractContextManager[asyncio.Event]
) -> AsyncGenerator[bytes, None]:
    """Wait for changes, writing a newline every heartbeat as CouchDB does, then the answer. A sign-out of its user
    through this gateway (`feed`'s event, server/sync/auth.py) ends the wait with no change: the phone's next request
    is refused, instead of the phone reading on for the rest of the minute."""
    task = asyncio.ensure_future(store.changes(query))
    with feed as ended:
        signed_out = asyncio.ensure_future(ended.wait())
        try:
            while True:
                done, _ = await asyncio.wait(
                    {task, signed_out}, timeout=(heartbeat_ms or 60_000) / 1000, return_when=asyncio.FIRST_COMPLETED
                )
                if task in done:
                    break
                if signed_out in done:
                    yield orjson.dumps(no_changes(query.since)) + b"\n"
                    return
                if heartbeat_ms:
                    yield b"\n"
            # The store's refusal is raised: `changes` answers it with its status, or `_streamed` as the body.
            yield orjson.dumps(task.result()) + b"\n"
        finally:
            task.cancel()
            signed_out.cancel()


# ----- revs_diff, bulk_get, bulk_docs -----


async def revs_diff(request: Request) -> Response:
    _principal, scope = await _who(request)
    body = await read_object(request)
    wanted: dict[str, list[str]] = {}
    for doc_id, revs in body.items():
        if not isinstance(revs, list) or not all(isinstance(r, str) for r in revs):
            raise bad_request("_revs_diff needs a list of revision strings per document id")
        wanted[doc_id] = revs
    inside = {k: v for k, v in wanted.items() if scope.allows(k)}
    out = await _store(request).revs_diff(inside)
    for doc_id, revs in wanted.items():
        if doc_id not in inside:  # never tell what exists outside the scope
            out[doc_id] = {"missing": list(dict.fromkeys(revs))}
    return json_response(request, out)


async def bulk_get(request: Request) -> Response:
    principal, scope = await _who(request)
    body = await read_object(request)
    reqs = body.get("docs")
    if not isinstance(reqs, list) or not all(isinstance(r, dict) for r in reqs):
        raise bad_request("_bulk_get needs a docs list of {id, rev} objects")
    _bounded_bulk_get(reqs, principal.is_admin, q_bool(request, "attachments"))
    inside = [r for r in reqs if isinstance(r.get("id"), str) and scope.allows(r["id"])]
    found = iter(
        await _store(request).bulk_get(
            inside,
            revs=q_bool(request, "revs"),
            latest=q_bool(request, "latest"),
            attachments=q_bool(request, "attachments"),
        )
    )
    results = []
    for r in reqs:
        if isinstance(r.get("id"), str) and scope.allows(r["id"]):
            results.append(next(found))
        else:
            err = {"id": r.get("id"), "rev": r.get("rev", "undefined"), "error": "not_found", "reason": "missing"}
            results.append({"id": r.get("id"), "docs": [{"error": err}]})
    return json_response(request, {"results": results})


def _bounded_bulk_get(reqs: list[dict[str, Any]], admin: bool, attachments: bool) -> None:
    """One answer per entry is built in memory: an entry asked twice (a 10 KB request naming one 2 MB photo 200
    times made a 384 MB answer) or too many entries are refused. PouchDB asks for each revision once, a batch at
    a time; a device gets photos one by one. The operator's tools are bound by the body limit only."""
    if admin:
        return
    if len(reqs) > MAX_BULK_GET:
        raise bad_request(f"_bulk_get takes at most {MAX_BULK_GET} documents")
    if attachments and len(reqs) > MAX_BULK_GET_ATTACHMENTS:
        raise bad_request(f"_bulk_get with attachments=true takes at most {MAX_BULK_GET_ATTACHMENTS} documents")
    asked = {(str(r.get("id")), str(r.get("rev")), str(r.get("atts_since"))) for r in reqs}
    if len(asked) != len(reqs):
        raise bad_request("_bulk_get asks for a document revision more than once")


async def bulk_docs(request: Request) -> Response:
    principal, scope = await _who(request)
    body = await read_object(request)
    docs = body.get("docs")
    if not isinstance(docs, list):
        raise bad_request("POST body must include `docs` parameter.")
    new_edits = body.get("new_edits", True)
    if not isinstance(new_edits, bool):
        raise bad_request("`new_edits` parameter must be a boolean.")
    results = await write_docs(request.app.state, principal, docs, new_edits, scope=scope)
    return json_response(request, results, 201)


# ----- all_docs -----


async def all_docs(request: Request) -> Response:
    principal, scope = await _who(request)
    body = await read_object(request) if request.method == "POST" else {}
    keys = body.get("keys", q_json(request, "keys"))
    if keys is not None and not isinstance(keys, list):
        raise bad_request("`keys` must be an array")
    if keys is not None and len(keys) > MAX_KEYS and not principal.is_admin:
        # One row per key (a key may repeat): a 4 MB request of one id 100,000 times made a 100 MB answer.
        raise bad_request(f"`keys` holds at most {MAX_KEYS} ids")
    start = q_json(request, "startkey", "start_key")
    end = q_json(request, "endkey", "end_key")
    for k in (start, end):
        if k is not None and not isinstance(k, str):
            raise bad_request("_all_docs keys are document ids (strings)")
    query = AllDocsQuery(
        startkey=start,
        endkey=end,
        keys=keys,
        inclusive_end=q_bool(request, "inclusive_end", True),
        descending=q_bool(request, "descending"),
        limit=q_int(request, "limit"),
        skip=q_int(request, "skip", 0) or 0,
        include_docs=q_bool(request, "include_docs"),
        conflicts=q_bool(request, "conflicts"),
        partitions=scope.partitions,
    )
    out = await _store(request).all_docs(query)
    if scope.partitions is not None:
        out["total_rows"] = len(out["rows"])
    return json_response(request, out)


# ----- single documents and attachments -----


def _get_options(request: Request) -> GetOptions:
    rev = request.query_params.get("rev")
    if rev is not None:
        try:
            revtree.parse_rev(rev)
        except revtree.InvalidRev as e:
            raise bad_request(str(e)) from None
    return GetOptions(
        rev=request.query_params.get("rev"),
        revs=q_bool(request, "revs"),
        revs_info=q_bool(request, "revs_info"),
        conflicts=q_bool(request, "conflicts"),
        deleted_conflicts=q_bool(request, "deleted_conflicts"),
        attachments=q_bool(request, "attachments"),
        latest=q_bool(request, "latest"),
    )


async def document(request: Request) -> Response:
    principal, scope = await _who(request)
    doc_id = request.path_params["doc_id"]
    if request.method in ("PUT", "DELETE"):
        if request.method == "PUT":
            doc = await read_object(request)
            doc["_id"] = doc_id
            new_edits = q_bool(request, "new_edits", True)
        else:
            rev = request.query_params.get("rev")
            doc, new_edits = {"_id": doc_id, "_rev": rev, "_deleted": True}, True
        results = await write_docs(request.app.state, principal, [doc], new_edits, single=True, scope=scope)
        # new_edits=false answers only refusals (as CouchDB's _bulk_docs does): none is the document written.
        result = results[0] if results else {"ok": True, "id": doc_id, "rev": doc.get("_rev")}
        if "error" in result:
            raise CouchError(_ERROR_STATUS.get(result["error"], 400), result["error"], result["reason"])
        return json_response(request, result, 200 if request.method == "DELETE" else 201)
    _readable(scope, doc_id)
    store = _store(request)
    opts = _get_options(request)
    open_revs = request.query_params.get("open_revs")
    if open_revs is not None:
        revs = None if open_revs == "all" else q_json(request, "open_revs")
        if revs is not None and (not isinstance(revs, list) or not all(isinstance(r, str) for r in revs)):
            raise bad_request('open_revs must be "all" or a JSON array of revisions')
        return json_response(request, await store.open_revs(doc_id, revs, opts))
    return json_response(request, await store.get(doc_id, opts))


_ERROR_STATUS = {"conflict": 409, "forbidden": 403, "unauthorized": 401, "not_found": 404, "missing_stub": 412}


async def attachment(request: Request) -> Response:
    _principal, scope = await _who(request)
    doc_id, name = request.path_params["doc_id"], request.path_params["name"]
    if request.method not in ("GET", "HEAD"):
        raise CouchError(405, "method_not_allowed", "Attachments are written inline with their document.")
    _readable(scope, doc_id)
    head = request.method == "HEAD"
    att = await _store(request).read_attachment(doc_id, name, request.query_params.get("rev"), body=not head)
    headers = {"Content-Length": str(att.length), "ETag": f'"{att.digest}"', "Cache-Control": "private"}
    return StreamingResponse(att.chunks, media_type=att.content_type, headers=headers)


async def unknown(request: Request) -> Response:
    """`/sync/_...` that no endpoint takes: an endpoint that exists but not with this method is CouchDB's 405 (`PUT
    /sync/_revs_diff`); anything else looks missing, as to a user who may not read it."""
    await _who(request)
    endpoint = next((route for route in ENDPOINTS if route.path == request.url.path), None)
    if endpoint is not None and endpoint.methods:
        raise method_not_allowed(sorted(endpoint.methods))
    raise not_found("missing")


# The endpoints under `/sync/_` with a fixed path (`unknown` names their methods).
ENDPOINTS = [
    Route("/sync/_changes", changes, methods=["GET", "POST"]),
    Route("/sync/_revs_diff", revs_diff, methods=["POST"]),
    Route("/sync/_bulk_get", bulk_get, methods=["POST"]),
    Route("/sync/_bulk_docs", bulk_docs, methods=["POST"]),
    Route("/sync/_all_docs", all_docs, methods=["GET", "POST"]),
]

routes = [
    Route("/sync", db_info, methods=["GET", "HEAD", "PUT"]),
    Route("/sync/", db_info, methods=["GET", "HEAD", "PUT"]),
    Route("/sync/_local/{local_id:path}", local_doc, methods=["GET", "PUT", "DELETE"]),
    *ENDPOINTS,
    Route("/sync/_{rest:path}", unknown, methods=["GET", "POST", "PUT", "DELETE"]),
    Route("/sync/{doc_id}", document, methods=["GET", "PUT", "DELETE"]),
    Route("/sync/{doc_id}/{name:path}", attachment, methods=["GET", "PUT", "DELETE"]),
]
