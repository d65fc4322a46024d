"""The `couchdb` backend: the `Store` protocol on a CouchDB-protocol server (CouchDB 3 in production).

Plain calls go through the ibmcloudant SDK, which is synchronous and so runs in a thread; httpx (async)
carries what the SDK cannot express or should not block a thread on: attachment streams, `open_revs`,
`_bulk_get` and `_changes` (a longpoll must be cancellable). Server errors become `CouchError` with the
server's own `error`/`reason`, so the gateway passes them on unchanged. The tests run this backend on
pouchdb-server, which lacks a few CouchDB features; `_emulate` fills those in (see `_PouchdbServerGaps`), and
refuses, as CouchDB 3 does, what a partitioned database refuses and pouchdb-server (which has no partitions) takes
(see `_Partitioned`): every suite run on this backend checks every id it writes and reads.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Callable, Sequence
from functools import partial
from typing import Any
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import httpx
import orjson
import requests
from ibm_cloud_sdk_core import ApiException
from ibm_cloud_sdk_core.authenticators import BasicAuthenticator, NoAuthAuthenticator
from ibmcloudant.cloudant_v1 import CloudantV1

from server.errors import CouchError
from server.store import revtree
from server.store.protocol import (
    AllDocsQuery,
    AttachmentBody,
    ChangesQuery,
    Doc,
    GetOptions,
    no_changes,
    no_chunks,
    partition_of,
)

log = logging.getLogger(__name__)

# The databases already said to be unpartitioned in this process (`mashang serve` opens its store twice to start).
_warned_unpartitioned: set[tuple[str, str]] = set()

# The highest character CouchDB's docs use to close a key range (`"S1:"` .. `"S1:\ufff0"`).
HIGH = "\ufff0"


def _couch_error(status: int, body: Any) -> CouchError:
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        return CouchError(status, body["error"], str(body.get("reason") or ""))
    return CouchError(status, "unknown_error", str(body)[:500])


def _from_api_exception(exc: ApiException) -> CouchError:
    body: Any = exc.message
    if exc.http_response is not None:
        try:
            body = exc.http_response.json()
        except ValueError:
            body = exc.http_response.text
    return _couch_error(exc.status_code or 500, body)


def _json(content: bytes) -> Any:
    """A JSON body, or its text when a proxy in between answered something else."""
    try:
        return orjson.loads(content) if content.strip() else None
    except orjson.JSONDecodeError:
        return content.decode(errors="replace")


def _unavailable(exc: Exception) -> CouchError:
    return CouchError(503, "service_unavailable", f"CouchDB is unreachable: {exc}")


def _about_a_document(e: CouchError) -> bool:
    """Whether CouchDB refused a request for what a document holds, not for being unable to answer."""
    return e.status in (400, 412, 413) or (e.status == 500 and e.error in ("badarg", "doc_validation"))


def _doc_path(doc_id: str) -> str:
    return quote(doc_id, safe="")


def _partition_selector(partitions: frozenset[str]) -> dict[str, Any]:
    names = "|".join(re.escape(p) for p in sorted(partitions))
    return {"_id": {"$regex": f"^(?:{names}):"}}


class CouchStore:
    """A `Store` on one database of a CouchDB-protocol server."""

    kind = "couchdb"
    parallel_reads = 8

    def __init__(self, service: Any, http: httpx.AsyncClient, db_name: str, emulate: bool) -> None:
        self._service = service
        self._http = http
        self.db_name = db_name
        # pouchdb-server (tests only) misses `_deleted_conflicts`, `possible_ancestors`, `doc_del_count`,
        # the `deleted` reason and the longpoll timeout, answers `_bulk_get` in its own shape, numbers its
        # sequences, and has no partitioned databases (`_Partitioned`).
        self._emulate = emulate
        self._db = "/" + quote(db_name, safe="")

    @classmethod
    async def open(cls, url: str, db_name: str, create: bool = True) -> CouchStore:
        """Connect to the server at `url` (credentials in the URL) and, with `create`, make the database."""
        parts = urlsplit(url)
        netloc = parts.hostname or ""
        if parts.port:
            netloc += f":{parts.port}"
        service_url = urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))
        auth: httpx.BasicAuth | None = None
        if parts.username:
            user, password = unquote(parts.username), unquote(parts.password or "")
            service = CloudantV1(authenticator=BasicAuthenticator(user, password))
            auth = httpx.BasicAuth(user, password)
        else:
            service = CloudantV1(authenticator=NoAuthAuthenticator())
        service.set_service_url(service_url)
        http = httpx.AsyncClient(base_url=service_url, auth=auth, timeout=httpx.Timeout(150.0, connect=60.0))
        try:
            root = await cls._root(http)
            store = cls(service, http, db_name, emulate="express-pouchdb" in root)
            if create:
                await store._create()
        except BaseException:
            await http.aclose()
            raise
        return store

    @staticmethod
    async def _root(http: httpx.AsyncClient) -> Doc:
        try:
            resp = await http.get("/")
        except httpx.HTTPError as exc:
            raise _unavailable(exc) from exc
        if resp.status_code != 200:
            raise _couch_error(resp.status_code, resp.json())
        root: Doc = resp.json()
        return root

    async def _create(self) -> None:
        # CouchDB 3 keeps a shop's documents together in a partitioned database; a server that refuses
        # the flag (an older CouchDB, or a cluster with partitioning disabled) gets a plain one, said in the log.
        refused: CouchError | None = None
        for partitioned in (True, None):
            try:
                await self._sdk(self._service.put_database, self.db_name, partitioned=partitioned)
                break
            except CouchError as exc:
                if exc.error == "file_exists":
                    break
                if partitioned is None or exc.status not in (400, 501):
                    raise
                refused = exc
        await self._warn_unless_partitioned(refused)

    async def _warn_unless_partitioned(self, refused: CouchError | None) -> None:
        """Say once, at start, that the database is a plain one: made so after CouchDB refused `?partitioned=true`,
        made by a server that ignores the flag (CouchDB 2), or made earlier without it. Nothing breaks, but the
        scale-out the README describes assumes a partitioned one."""
        if self._emulate:
            return  # pouchdb-server has no partitions: `_Partitioned` stands in for them, and `info` says so
        info = await self._sdk(self._service.get_database_information, self.db_name)
        where = (str(self._http.base_url), self.db_name)
        if (info.get("props") or {}).get("partitioned") is True or where in _warned_unpartitioned:
            return
        _warned_unpartitioned.add(where)
        if refused is not None:
            why = f"CouchDB refused ?partitioned=true ({refused.error}: {refused.reason}) and a plain one was made"
        else:
            why = "made without ?partitioned=true, or by a server that ignores it"
        log.warning(
            "CouchDB database %r is not partitioned (%s): each shop's documents are spread over every shard, with no "
            "partition-local shard, so each read of a shop (the validators' key ranges, a phone's replication) asks "
            'every shard and a cluster does not scale out with its shops. GET /%s says "props": '
            '{"partitioned": true} of a partitioned one; README, "CouchDB: a partitioned database", says how '
            "to move to one",
            self.db_name,
            why,
            self.db_name,
        )

    async def drop(self) -> None:
        """Delete the whole database (tests and `couch-setup` teardown); not part of `Store`."""
        await self._sdk(self._service.delete_database, self.db_name)

    async def close(self) -> None:
        await self._http.aclose()
        self._service.get_http_client().close()

    # -- transport -------------------------------------------------------------------------------

    async def _sdk(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        try:
            resp = await asyncio.to_thread(partial(fn, *args, **kwargs))
        except ApiException as exc:
            raise _from_api_exception(exc) from exc
        except requests.RequestException as exc:
            raise _unavailable(exc) from exc
        return resp.get_result()

    async def _request(self, method: str, path: str, params: dict[str, str] | None = None, json: Any = None) -> Any:
        headers = {"Accept": "application/json"}
        content = None
        if json is not None:
            content = orjson.dumps(json)
            headers["Content-Type"] = "application/json"
        try:
            resp = await self._http.request(method, self._db + path, params=params, content=content, headers=headers)
        except httpx.HTTPError as exc:
            raise _unavailable(exc) from exc
        body = _json(resp.content)
        if resp.status_code >= 400:
            raise _couch_error(resp.status_code, body)
        return body

    # -- database and documents ------------------------------------------------------------------

    async def info(self) -> Doc:
        info: Doc = await self._sdk(self._service.get_database_information, self.db_name)
        if self._emulate and "doc_del_count" not in info:
            feed = await self._request("GET", "/_changes")
            info["doc_del_count"] = sum(1 for row in feed["results"] if row.get("deleted"))
        if self._emulate:
            info["update_seq"] = _PouchdbServerGaps.seq_out(info["update_seq"])
            info.setdefault("props", {"partitioned": True})  # the database `_create` makes on CouchDB 3
        return info

    async def get(self, doc_id: str, opts: GetOptions) -> Doc:
        if doc_id.startswith("_"):
            # The SDK refuses such ids before asking; answer as CouchDB would.
            raise CouchError(400, "bad_request", "Only reserved document ids may start with underscore.")
        if self._emulate:
            _Partitioned.check_read(doc_id)
        if self._emulate and opts.latest and opts.rev and await self._unknown([(doc_id, opts.rev)]):
            raise CouchError(404, "not_found", "missing")
        try:
            doc: Doc = await self._sdk(
                self._service.get_document,
                self.db_name,
                doc_id,
                rev=opts.rev,
                revs=opts.revs or None,
                revs_info=opts.revs_info or None,
                conflicts=opts.conflicts or None,
                deleted_conflicts=opts.deleted_conflicts or None,
                attachments=opts.attachments or None,
                latest=opts.latest or None,
            )
        except CouchError as exc:
            if self._emulate and exc.status == 404 and opts.rev is None and await self._is_deleted(doc_id):
                raise CouchError(404, "not_found", "deleted") from exc
            raise
        if self._emulate and opts.deleted_conflicts and "_deleted_conflicts" not in doc:
            tree = await self._leaves(doc_id)
            dead = [r for r in tree if tree[r] and r != doc["_rev"]]
            dead.sort(key=lambda r: revtree.sort_key(r, True), reverse=True)
            if dead:
                doc["_deleted_conflicts"] = dead
        return doc

    async def _leaves(self, doc_id: str) -> dict[str, bool]:
        """Every leaf revision of a document and whether it is deleted."""
        found = await self._request("GET", "/" + _doc_path(doc_id), {"open_revs": "all"})
        return {e["ok"]["_rev"]: bool(e["ok"].get("_deleted")) for e in found if "ok" in e}

    async def _is_deleted(self, doc_id: str) -> bool:
        try:
            leaves = await self._leaves(doc_id)
        except CouchError:
            return False
        return bool(leaves) and all(leaves.values())

    async def open_revs(self, doc_id: str, revs: Sequence[str] | None, opts: GetOptions) -> list[Doc]:
        if self._emulate:
            _Partitioned.check_read(doc_id)
        missing: list[Doc] = []
        if self._emulate and opts.latest and revs is not None:
            unknown = await self._unknown([(doc_id, r) for r in revs])
            missing = [{"missing": r} for r in revs if (doc_id, r) in unknown]
            revs = [r for r in revs if (doc_id, r) not in unknown]
            if not revs:
                return missing
        params = {"open_revs": "all" if revs is None else orjson.dumps(list(revs)).decode()}
        params.update(self._read_params(opts.revs, opts.latest, opts.attachments))
        found: list[Doc] = await self._request("GET", "/" + _doc_path(doc_id), params)
        return found + missing

    async def _unknown(self, pairs: Sequence[tuple[str, str]]) -> set[tuple[str, str]]:
        """The (id, rev) pairs the server lacks: pouchdb-server dies on `latest=true` with one of them."""
        asked: dict[str, list[str]] = {}
        for doc_id, rev in pairs:
            asked.setdefault(doc_id, []).append(rev)
        diff = await self._sdk(self._service.post_revs_diff, self.db_name, asked) if asked else {}
        return {(i, r) for i, d in diff.items() for r in d.get("missing", [])}

    @staticmethod
    def _read_params(revs: bool, latest: bool, attachments: bool) -> dict[str, str]:
        params = {}
        if revs:
            params["revs"] = "true"
        if latest:
            params["latest"] = "true"
        if attachments:
            params["attachments"] = "true"
        return params

    async def bulk_docs(self, docs: Sequence[Doc], new_edits: bool = True, durable: bool = True) -> list[Doc]:
        body = {"docs": list(docs), "new_edits": new_edits}
        try:
            if self._emulate:
                _Partitioned.check_writes(docs)
            answers: list[Doc] = await self._sdk(self._service.post_bulk_docs, self.db_name, body)
        except CouchError as e:
            if len(docs) < 2 or not _about_a_document(e):
                raise
            # CouchDB refuses the whole request for one document it cannot read (a bad `_rev`, bad base64, a
            # missing stub), where the embedded store answers that document alone: one bad document must not
            # hold back a phone's batch. It checks them all before writing any, so each is sent again alone.
            return [a for doc in docs for a in await self._one_of_batch(doc, new_edits)]
        out = []
        for a in answers:
            if "error" in a:
                out.append({"id": a.get("id"), "error": a["error"], "reason": a.get("reason", "")})
            elif new_edits:
                out.append({"ok": True, "id": a["id"], "rev": a["rev"]})
        return out

    async def _one_of_batch(self, doc: Doc, new_edits: bool) -> list[Doc]:
        try:
            return await self.bulk_docs([doc], new_edits)
        except CouchError as e:
            if not _about_a_document(e):
                raise  # CouchDB is unavailable: the batch fails whole, and the phone sends it again
            doc_id = doc.get("_id") if isinstance(doc, dict) else None
            return [{"id": doc_id, "error": e.error, "reason": e.reason}]

    async def revs_diff(self, revs: dict[str, list[str]]) -> dict[str, Doc]:
        if not revs:
            return {}
        if self._emulate:
            for doc_id in revs:
                _Partitioned.check_read(doc_id)
        diff: dict[str, Doc] = await self._sdk(self._service.post_revs_diff, self.db_name, revs)
        if self._emulate:
            await self._add_possible_ancestors(diff)
        return diff

    async def _add_possible_ancestors(self, diff: dict[str, Doc]) -> None:
        # CouchDB's rule: the leaves positioned before the newest missing revision.
        ids = [i for i, d in diff.items() if d.get("missing") and "possible_ancestors" not in d]
        if not ids:
            return
        feed = await self._request("POST", "/_changes", {"filter": "_doc_ids", "style": "all_docs"}, {"doc_ids": ids})
        for row in feed["results"]:
            # A revision a phone sent malformed is missing like any other, and names no position.
            top = max((revtree.rev_pos(r) for r in diff[row["id"]]["missing"] if revtree.REV_RE.match(r)), default=0)
            ancestors = [c["rev"] for c in row["changes"] if revtree.rev_pos(c["rev"]) < top]
            if ancestors:
                diff[row["id"]]["possible_ancestors"] = ancestors

    async def bulk_get(
        self, requests: Sequence[Doc], revs: bool = False, latest: bool = False, attachments: bool = False
    ) -> list[Doc]:
        params = self._read_params(revs, latest, attachments)
        if not self._emulate:
            answer = await self._request("POST", "/_bulk_get", params, {"docs": list(requests)})
            results: list[Doc] = answer["results"]
            return results
        refused = {i: e for i, r in enumerate(requests) if (e := _Partitioned.refusal(r.get("id")))}
        asked = [r for i, r in enumerate(requests) if i not in refused]
        unknown = set()
        if latest:
            unknown = await self._unknown([(r["id"], r["rev"]) for r in asked if r.get("rev")])
        sent = [r for r in asked if (r.get("id"), r.get("rev")) not in unknown]
        answer = await self._request("POST", "/_bulk_get", params, {"docs": sent}) if sent else {"results": []}
        found = iter(_PouchdbServerGaps.bulk_get(asked, answer["results"], unknown))
        return [
            _Partitioned.bulk_get_error(r.get("id"), refused[i]) if i in refused else next(found)
            for i, r in enumerate(requests)
        ]

    # -- feeds -----------------------------------------------------------------------------------

    async def changes(self, query: ChangesQuery) -> Doc:
        if query.partitions is not None and not query.partitions:  # a scope with no shop sees nothing
            await asyncio.sleep(query.wait_ms / 1000)
            return no_changes(query.since)
        since = _PouchdbServerGaps.seq_in(query.since) if self._emulate else query.since
        params: dict[str, str] = {"since": str(since)}
        for name in ("include_docs", "conflicts", "attachments", "descending"):
            if getattr(query, name):
                params[name] = "true"
        if query.all_docs:
            params["style"] = "all_docs"
            if self._emulate:  # the doc tells the winner, which pouchdb-server does not list first
                params["include_docs"] = "true"
        if query.limit is not None:
            params["limit"] = str(query.limit)
        body: Doc = {}
        selector = self._changes_selector(query)
        if selector is not None:
            params["filter"] = "_selector"
            body["selector"] = selector
            if self._emulate:  # pouchdb-server reads the selector from the query string only
                params["selector"] = orjson.dumps(selector).decode()
        elif query.doc_ids is not None:
            params["filter"] = "_doc_ids"
            body["doc_ids"] = list(query.doc_ids)
        if query.wait_ms <= 0:
            feed: Doc = await self._request("POST", "/_changes", params, body)
        else:
            params.update(feed="longpoll", timeout=str(query.wait_ms))
            # pouchdb-server ignores `timeout`, so the deadline is kept here; CouchDB gets some slack.
            deadline = query.wait_ms / 1000 + (0 if self._emulate else 5)
            try:
                async with asyncio.timeout(deadline):
                    feed = await self._request("POST", "/_changes", params, body)
            except TimeoutError:
                since = (await self.info())["update_seq"] if query.since == "now" else query.since
                return no_changes(since)
        if self._emulate and query.all_docs:
            _PouchdbServerGaps.winner_first(feed["results"], query.include_docs)
        if self._emulate:
            _PouchdbServerGaps.opaque_seqs(feed)
        return feed

    @staticmethod
    def _changes_selector(query: ChangesQuery) -> dict[str, Any] | None:
        """One Mango selector for the filters CouchDB can only combine that way (one filter per feed)."""
        parts: list[dict[str, Any]] = []
        if query.partitions is not None:
            parts.append(_partition_selector(query.partitions))
        if query.selector is not None:
            parts.append(query.selector)
        if not parts:
            return None
        if query.doc_ids is not None:
            parts.append({"_id": {"$in": list(query.doc_ids)}})
        return parts[0] if len(parts) == 1 else {"$and": parts}

    async def all_docs(self, query: AllDocsQuery) -> Doc:
        if query.keys is not None:
            # CouchDB 3 reads `keys` backwards for `descending`, then skips and limits (fabric_view_all_docs.erl);
            # pouchdb-server skips and limits first. The page of keys is taken here and sent forwards, so that
            # both answer it alike, and the rows come back in the order of the keys sent.
            turned = list(reversed(query.keys)) if query.descending else list(query.keys)
            paged = turned[query.skip :][: query.limit]

            # A key outside the scope answers as a missing document would, in its place: the same rows as the
            # embedded store's, and nothing told about what the key names. So does a key without a partition,
            # which no document of a partitioned database has: CouchDB 3 refuses the whole read of one (400
            # `illegal_docid`), where the embedded store answers it missing.
            def inside(key: object) -> bool:
                if not isinstance(key, str) or _Partitioned.unreadable(key):
                    return False
                return query.partitions is None or partition_of(key) in query.partitions

            asked = [k for k in paged if inside(k)]
            page: Doc = await self._all_docs(None, None, query, None, 0, asked) if asked else {"total_rows": 0}
            found = iter(page.get("rows", []))
            answered = [next(found) if inside(k) else {"key": k, "error": "not_found"} for k in paged]
            return {"total_rows": page.get("total_rows", 0), "offset": query.skip, "rows": answered}
        if query.partitions is None:
            return await self._all_docs(query.startkey, query.endkey, query, query.limit, query.skip)
        # One key range per partition, in key order, so `limit` counts only rows of these partitions.
        wanted = None if query.limit is None else query.skip + query.limit
        rows: list[Doc] = []
        total = 0
        for p in sorted(query.partitions, reverse=query.descending):
            lo, hi = f"{p}:", f"{p}:{HIGH}"
            if query.descending:
                lo, hi = hi, lo
            start, end = query.startkey, query.endkey
            if start is None or _before(start, lo, query.descending):
                start = lo
            if end is None or _before(hi, end, query.descending):
                end = hi
            if _before(end, start, query.descending):
                continue
            need = None if wanted is None else wanted - len(rows)
            page = await self._all_docs(start, end, query, need, 0)
            total = page.get("total_rows", total)
            rows.extend(page["rows"])
            if wanted is not None and len(rows) >= wanted:
                break
        rows = rows[query.skip :]
        if query.limit is not None:
            rows = rows[: query.limit]
        return {"total_rows": total, "offset": query.skip, "rows": rows}

    async def _all_docs(
        self,
        start: str | None,
        end: str | None,
        query: AllDocsQuery,
        limit: int | None,
        skip: int,
        keys: Sequence[str] | None = None,
    ) -> Doc:
        if self._emulate:
            for key in keys or ():
                _Partitioned.check_read(key)
        result: Doc = await self._sdk(
            self._service.post_all_docs,
            self.db_name,
            start_key=start if keys is None else None,
            end_key=end if keys is None else None,
            keys=list(keys) if keys is not None else None,
            inclusive_end=None if query.inclusive_end else False,
            descending=(query.descending and keys is None) or None,  # `keys` come turned already (`all_docs`)
            limit=limit,
            skip=skip or None,
            include_docs=query.include_docs or None,
            conflicts=query.conflicts or None,
        )
        return result

    # -- local documents -------------------------------------------------------------------------

    async def get_local(self, local_id: str) -> Doc:
        doc: Doc = await self._sdk(self._service.get_local_document, self.db_name, local_id, accept="application/json")
        return doc

    async def put_local(self, local_id: str, doc: Doc) -> Doc:
        body = {k: v for k, v in doc.items() if k != "_id"}
        answer: Doc = await self._sdk(self._service.put_local_document, self.db_name, local_id, body)
        return answer

    async def delete_local(self, local_id: str, rev: str | None) -> Doc:
        # The SDK's delete cannot send `rev`; a deleting PUT is what CouchDB's DELETE does inside.
        body: Doc = {"_deleted": True}
        if rev is not None:
            body["_rev"] = rev
        answer: Doc = await self._sdk(self._service.put_local_document, self.db_name, local_id, body)
        return answer

    # -- attachments -----------------------------------------------------------------------------

    async def read_attachment(
        self, doc_id: str, name: str, rev: str | None = None, body: bool = True
    ) -> AttachmentBody:
        # The stub gives length and digest for this revision; the body is then read at that exact rev.
        doc = await self.get(doc_id, GetOptions(rev=rev))
        stub = (doc.get("_attachments") or {}).get(name)
        if stub is None:
            raise CouchError(404, "not_found", "Document is missing attachment")
        if not body:  # a HEAD: the stub says all of it, and the body is not fetched from CouchDB to be dropped
            return _attachment(stub, doc["_rev"], httpx.Headers(), no_chunks())
        path = f"{self._db}/{_doc_path(doc_id)}/{quote(name, safe='')}"
        request = self._http.build_request("GET", path, params={"rev": doc["_rev"]})
        try:
            resp = await self._http.send(request, stream=True)
        except httpx.HTTPError as exc:
            raise _unavailable(exc) from exc
        if resp.status_code >= 400:
            error = await resp.aread()
            await resp.aclose()
            raise _couch_error(resp.status_code, _json(error))

        async def chunks() -> AsyncIterator[bytes]:
            try:
                async for chunk in resp.aiter_bytes():
                    yield chunk
            finally:
                await resp.aclose()

        return _attachment(stub, doc["_rev"], resp.headers, chunks())


def _attachment(stub: Doc, rev: str, headers: httpx.Headers, chunks: AsyncIterator[bytes]) -> AttachmentBody:
    """An attachment as its stub describes it (CouchDB's answer's headers where the stub says nothing)."""
    return AttachmentBody(
        content_type=stub.get("content_type") or headers.get("content-type", ""),
        length=int(stub.get("length", headers.get("content-length", 0))),
        digest=stub.get("digest", ""),
        chunks=chunks,
        extra={"revpos": stub.get("revpos"), "rev": rev},
    )


def _before(a: str, b: str, descending: bool) -> bool:
    """Whether key `a` comes before key `b` in the direction of the read."""
    return a > b if descending else a < b


class _PouchdbServerGaps:
    """Shape fixes for pouchdb-server's answers, which the tests' server gives and CouchDB does not."""

    @staticmethod
    def bulk_get(requests: Sequence[Doc], results: list[Doc], unknown: set[tuple[str, str]]) -> list[Doc]:
        # pouchdb-server groups the answers by document, answers `{}` for a missing document and
        # `{"missing": rev}` for a missing revision; CouchDB answers each request in order with an error.
        # The `unknown` requests were not sent (see `_unknown`): they are missing.
        by_id: dict[str, list[Doc]] = {}
        for r in results:
            by_id.setdefault(r["id"], []).extend(r["docs"])
        out = []
        for req in requests:
            doc_id, rev = req.get("id"), req.get("rev")
            queue = [] if (doc_id, rev) in unknown else by_id.get(str(doc_id), [])
            entry = queue.pop(0) if queue else {}
            if "ok" not in entry and not isinstance(entry.get("error"), dict):
                entry = {
                    "error": {
                        "id": doc_id,
                        "rev": entry.get("missing", rev or "undefined"),
                        "error": entry.get("error") or "not_found",
                        "reason": entry.get("reason") or "missing",
                    }
                }
            out.append({"id": doc_id, "docs": [entry]})
        return out

    # pouchdb-server's sequences are numbers; CouchDB's are opaque strings ("12-g1AAAA...") that may only be passed
    # back. Its numbers are passed on as such strings, so that the tests take the paths a CouchDB takes (the embedded
    # store's integer shortcuts, `Follower.covers` and `past_the_store`, are not taken on either).
    SEQ_TAIL = "-pouchdb"

    @staticmethod
    def seq_out(seq: Any) -> Any:
        return f"{seq}{_PouchdbServerGaps.SEQ_TAIL}" if isinstance(seq, int) else seq

    @staticmethod
    def seq_in(seq: Any) -> Any:
        if isinstance(seq, str) and seq.endswith(_PouchdbServerGaps.SEQ_TAIL):
            return seq[: -len(_PouchdbServerGaps.SEQ_TAIL)]
        return seq

    @staticmethod
    def opaque_seqs(feed: Doc) -> None:
        feed["last_seq"] = _PouchdbServerGaps.seq_out(feed.get("last_seq"))
        for row in feed.get("results", ()):
            if "seq" in row:
                row["seq"] = _PouchdbServerGaps.seq_out(row["seq"])

    @staticmethod
    def winner_first(rows: list[Doc], keep_docs: bool) -> None:
        # pouchdb-server lists the leaves of a style=all_docs row in tree order; CouchDB the winner first.
        for row in rows:
            doc = row["doc"] if keep_docs else row.pop("doc", None)
            if doc:
                row["changes"].sort(key=lambda c: c["rev"] != doc["_rev"])


class _Partitioned:
    """What a partitioned CouchDB 3 database refuses, as it refuses it; pouchdb-server, which has no partitions,
    takes all of it. The rule (docs.couchdb.org, Partitioned Databases): "Every document in a partitioned database
    (except _design and _local documents) must have the format “partition:docid”. More specifically, the partition
    for a given document is everything before the first colon. The document id is everything after the first colon,
    which may include more colons." The errors are CouchDB's own (couch_partition.erl, couch_doc.erl):

    - a write (`couch_db:validate_docid`): an id without a colon, or a document without `_id` (the UUID CouchDB gives
      it names no partition), is `illegal_docid` "Doc id must be of form partition:id"; an empty partition is
      `illegal_partition`; the id after the colon must itself be a valid document id (not empty, not `_...`). A
      `_bulk_docs` with one such document is refused whole, 400.
    - a read by id (`GET`, `open_revs`, an attachment, `_revs_diff`, `_all_docs` keys): the id is hashed to its
      shard by its partition, and one without a colon is refused, the whole request 400 `illegal_docid` (an empty
      partition is only missing); `_bulk_get` refuses that entry alone (`{"error": {"id", "rev": null, "error",
      "reason"}}`). `CouchStore.all_docs` sends no such key: it answers it missing, as the embedded store does.
    - ids starting with `_` (`_design/`, `_local/`, or refused in any database), `_changes` (with `_doc_ids` or
      `_selector`) and key ranges of `_all_docs` follow the rules of any database.
    """

    FORM = "Doc id must be of form partition:id"

    @classmethod
    def refusal(cls, doc_id: object) -> CouchError | None:
        """Why a partitioned database refuses a document id that any database would take."""
        if not isinstance(doc_id, str) or not doc_id or doc_id.startswith("_"):
            return None
        partition, colon, rest = doc_id.partition(":")
        if not colon:
            return CouchError(400, "illegal_docid", cls.FORM)
        if not partition:
            return CouchError(400, "illegal_partition", "Partition must not be empty")
        if not rest:
            return CouchError(400, "illegal_docid", "Document id must not be empty")
        if rest in ("_design/", "_local/"):
            return CouchError(400, "illegal_docid", f"Illegal document id `{rest}`")
        if rest.startswith("_") and not rest.startswith(("_design/", "_local/")):
            return CouchError(400, "illegal_docid", "Only reserved document ids may start with underscore.")
        return None

    @classmethod
    def check_writes(cls, docs: Sequence[Any]) -> None:
        for doc in docs:
            if isinstance(doc, dict) and "_id" not in doc:
                raise CouchError(400, "illegal_docid", cls.FORM)
            if isinstance(doc, dict) and (refused := cls.refusal(doc["_id"])) is not None:
                raise refused

    @staticmethod
    def unreadable(doc_id: str) -> bool:
        """Whether a read by this id is refused: CouchDB 3 finds a document's shard by its partition."""
        return not doc_id.startswith("_") and ":" not in doc_id

    @classmethod
    def check_read(cls, doc_id: object) -> None:
        if isinstance(doc_id, str) and cls.unreadable(doc_id):
            raise CouchError(400, "illegal_docid", cls.FORM)

    @staticmethod
    def bulk_get_error(doc_id: object, refused: CouchError) -> Doc:
        error = {"id": doc_id, "rev": None, "error": refused.error, "reason": refused.reason}
        return {"id": doc_id, "docs": [{"error": error}]}
