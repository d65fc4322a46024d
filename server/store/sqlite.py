"""The embedded store: CouchDB's replication semantics on one SQLite file and a blob folder.

Each document has a row in `docs` (winner, deleted, partition, the sequence of its last change) and one row
per known revision in `revs` (parent pointer, deleted, leaf, body). Bodies are kept for leaves only: a
revision that gets a child is compacted at once, as CouchDB after compaction. See sqlite_io.py for the
write path and the durability policy.
"""

from __future__ import annotations

import asyncio
import base64
import sqlite3
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import orjson

from server.errors import CouchError, bad_request, conflict, not_found
from server.store import mango, revtree
from server.store.protocol import (
    AllDocsQuery,
    AttachmentBody,
    ChangesQuery,
    Doc,
    GetOptions,
    no_chunks,
    partition_of,
)
from server.store.revtree import Node, Tree
from server.store.sqlite_io import (
    SCHEMA,
    BlobFolder,
    ForeignWrites,
    Job,
    Readers,
    TxState,
    Writer,
    connect,
    load_trees,
    read_state,
)

CHUNK = 64 * 1024
SMALL_READ = 200  # document ids a `_revs_diff` read on the loop's thread may ask about (a push batch is 100)


class SqliteStore:
    kind = "sqlite"
    parallel_reads = 1

    def __init__(self, data_dir: Path, revs_limit: int, synchronous: str) -> None:
        self.data_dir = data_dir
        self.revs_limit = revs_limit
        path = data_dir / "mashang.sqlite3"
        init = connect(path, synchronous)
        init.executescript(SCHEMA)
        seq, live, dead = read_state(init)
        init.close()
        self._state = TxState(seq, live, dead)
        self._committed = (seq, live, dead)
        self._changed = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        self._started = str(int(time.time() * 1_000_000))
        self.blobs = BlobFolder(data_dir / "blobs", fsync=synchronous in ("FULL", "EXTRA"))
        self._writer = Writer(path, synchronous, self._state, self._loop, self._publish)
        self._readers = Readers(path, synchronous)
        self._foreign = ForeignWrites(path, synchronous, lambda: self._loop.call_soon_threadsafe(self._wake_feeds))

    @classmethod
    async def open(cls, data_dir: Path, *, revs_limit: int = 1000, synchronous: str = "FULL") -> SqliteStore:
        data_dir.mkdir(parents=True, exist_ok=True)
        return cls(data_dir, revs_limit, synchronous.upper())

    async def close(self) -> None:
        await asyncio.to_thread(self._foreign.close)
        await asyncio.to_thread(self._writer.close)
        await asyncio.to_thread(self._readers.close)

    def _publish(self, snap: tuple[int, int, int]) -> None:  # on the loop, after a commit that moved the sequence
        if snap[0] != self._committed[0]:
            self._committed = snap
            self._wake_feeds()

    def _wake_feeds(self) -> None:
        """Longpolling feeds look again (a commit here, or by another process on the same folder)."""
        old, self._changed = self._changed, asyncio.Event()
        old.set()

    @property
    def update_seq(self) -> int:
        seq: int = self._committed[0]
        return seq

    async def info(self) -> Doc:
        seq, live, dead = self._committed
        return {
            "db_name": "mashang",
            "doc_count": live,
            "doc_del_count": dead,
            "update_seq": seq,
            "purge_seq": 0,
            "compact_running": False,
            "instance_start_time": self._started,
            "disk_format_version": 8,
            "committed_update_seq": seq,
        }

    # ----- reading -----

    @staticmethod
    def _tree(conn: sqlite3.Connection, doc_id: str) -> Tree:
        rows = conn.execute(
            "SELECT rev, parent, deleted, body IS NOT NULL FROM revs WHERE doc_id = ?", (doc_id,)
        ).fetchall()
        return {r: Node(p, bool(d), bool(a)) for r, p, d, a in rows}

    def _doc(self, conn: sqlite3.Connection, doc_id: str, rev: str, tree: Tree, opts: GetOptions) -> Doc:
        """One revision as CouchDB shows it; the revision must be available."""
        row = conn.execute("SELECT body FROM revs WHERE doc_id = ? AND rev = ?", (doc_id, rev)).fetchone()
        doc: Doc = {"_id": doc_id, "_rev": rev}
        doc.update(orjson.loads(row[0]))
        if tree[rev].deleted:
            doc["_deleted"] = True
        atts = self._atts(conn, doc_id, rev, opts.attachments)
        if atts:
            doc["_attachments"] = atts
        if opts.conflicts or opts.deleted_conflicts:
            live, dead = revtree.conflicts(tree)
            if opts.conflicts and live:
                doc["_conflicts"] = live
            if opts.deleted_conflicts and dead:
                doc["_deleted_conflicts"] = dead
        if opts.revs:
            doc["_revisions"] = revtree.revisions_field(revtree.ancestry(tree, rev))
        if opts.revs_info:
            doc["_revs_info"] = [
                {
                    "rev": r,
                    "status": "deleted" if tree[r].deleted else ("available" if tree[r].available else "missing"),
                }
                for r in revtree.ancestry(tree, rev)
            ]
        return doc

    def _atts(self, conn: sqlite3.Connection, doc_id: str, rev: str, with_data: bool) -> Doc:
        rows = conn.execute(
            "SELECT name, content_type, digest, length, revpos, blob FROM atts WHERE doc_id = ? AND rev = ?"
            " ORDER BY name",
            (doc_id, rev),
        ).fetchall()
        out: Doc = {}
        for name, ctype, digest, length, revpos, blob in rows:
            if with_data:
                data = self.blobs.path(blob).read_bytes()
                out[name] = {
                    "content_type": ctype,
                    "digest": digest,
                    "revpos": revpos,
                    "data": base64.b64encode(data).decode(),
                }
            else:
                out[name] = {"content_type": ctype, "digest": digest, "length": length, "revpos": revpos, "stub": True}
        return out

    def _get(self, conn: sqlite3.Connection, doc_id: str, opts: GetOptions) -> Doc:
        tree = self._tree(conn, doc_id)
        if not tree:
            raise not_found("missing")
        if opts.rev is None:
            rev = revtree.winner(tree)
            if tree[rev].deleted:
                raise not_found("deleted")
        else:
            rev = opts.rev
            if rev not in tree:
                raise not_found("missing")
            if opts.latest:
                rev = revtree.leaves_under(tree, rev)[0]
            if not tree[rev].available:
                raise not_found("missing")
        return self._doc(conn, doc_id, rev, tree, opts)

    async def get(self, doc_id: str, opts: GetOptions) -> Doc:
        return await self._readers.run(lambda c: self._get(c, doc_id, opts))

    def _open_revs(
        self, conn: sqlite3.Connection, doc_id: str, revs: Sequence[str] | None, opts: GetOptions
    ) -> list[Doc]:
        tree = self._tree(conn, doc_id)
        if revs is None:
            return [{"ok": self._doc(conn, doc_id, r, tree, opts)} for r in revtree.leaves(tree) if tree[r].available]
        out: list[Doc] = []
        seen: set[str] = set()
        for rev in revs:
            wanted = [rev]
            if rev in tree and opts.latest:
                wanted = revtree.leaves_under(tree, rev)
            for r in wanted:
                if r in seen:
                    continue
                seen.add(r)
                if r in tree and tree[r].available:
                    out.append({"ok": self._doc(conn, doc_id, r, tree, opts)})
                else:
                    out.append({"missing": r})
        return out

    async def open_revs(self, doc_id: str, revs: Sequence[str] | None, opts: GetOptions) -> list[Doc]:
        return await self._readers.run(lambda c: self._open_revs(c, doc_id, revs, opts))

    async def bulk_get(
        self, requests: Sequence[Doc], revs: bool = False, latest: bool = False, attachments: bool = False
    ) -> list[Doc]:
        opts = GetOptions(revs=revs, latest=latest, attachments=attachments)

        def run(conn: sqlite3.Connection) -> list[Doc]:
            results: list[Doc] = []
            for req in requests:
                doc_id, rev = req.get("id"), req.get("rev")
                if not isinstance(doc_id, str) or (rev is not None and not isinstance(rev, str)):
                    err = {"id": doc_id, "rev": rev, "error": "bad_request", "reason": "Invalid request"}
                    results.append({"id": doc_id, "docs": [{"error": err}]})
                    continue
                docs: list[Doc] = []
                if rev is None:
                    try:
                        docs.append({"ok": self._get(conn, doc_id, opts)})
                    except CouchError as e:
                        docs.append({"error": {"id": doc_id, "rev": "undefined", "error": e.error, "reason": e.reason}})
                else:
                    for item in self._open_revs(conn, doc_id, [rev], opts):
                        if "ok" in item:
                            docs.append(item)
                        else:
                            docs.append(
                                {
                                    "error": {
                                        "id": doc_id,
                                        "rev": item["missing"],
                                        "error": "not_found",
                                        "reason": "missing",
                                    }
                                }
                            )
                results.append({"id": doc_id, "docs": docs})
            return results

        return await self._readers.run(run)

    async def revs_diff(self, revs: dict[str, list[str]]) -> dict[str, Doc]:
        def run(conn: sqlite3.Connection) -> dict[str, Doc]:
            out: dict[str, Doc] = {}
            trees = load_trees(conn, list(revs))
            for doc_id, wanted in revs.items():
                missing, ancestors = revtree.missing_revs(trees[doc_id], wanted)
                if missing:
                    entry: Doc = {"missing": missing}
                    if ancestors:
                        entry["possible_ancestors"] = ancestors
                    out[doc_id] = entry
            return out

        return await self._readers.run(run, small=len(revs) <= SMALL_READ)

    # ----- feeds -----

    @staticmethod
    def _change_filter(q: ChangesQuery, since: int) -> tuple[str, list[Any]]:
        where, args = ["seq > ?"], list[Any]([since])
        if q.partitions is not None:
            where.append(f"partition IN ({','.join('?' * len(q.partitions))})")
            args.extend(sorted(q.partitions))
        if q.doc_ids is not None:
            where.append(f"id IN ({','.join('?' * len(q.doc_ids))})")
            args.extend(q.doc_ids)
        if q.types is not None:
            # The type is what follows the id's first ':', up to the next one or the end (`:` appended for that).
            kinds = " OR ".join("substr(id || ':', instr(id, ':') + 1, ?) = ?" for _ in q.types)
            where.append(f"instr(id, ':') > 0 AND ({kinds or '0'})")
            for kind in sorted(q.types):
                args.extend((len(kind) + 1, f"{kind}:"))
        return " AND ".join(where), args

    def _change_rows(
        self, conn: sqlite3.Connection, q: ChangesQuery, since: int, limit: int
    ) -> tuple[list[tuple[str, int, str, int]], int]:
        where, args = self._change_filter(q, since)
        order = "DESC" if q.descending else "ASC"
        sql = f"SELECT id, seq, winner, deleted FROM docs WHERE {where} ORDER BY seq {order} LIMIT ?"
        rows = conn.execute(sql, (*args, limit)).fetchall()
        return rows, conn.execute("SELECT coalesce(max(seq), 0) FROM docs").fetchone()[0]

    def _changes(self, conn: sqlite3.Connection, q: ChangesQuery) -> Doc:
        since = 0 if q.descending else _int_seq(q.since)
        if since < 0:  # since=now
            since = conn.execute("SELECT coalesce(max(seq), 0) FROM docs").fetchone()[0]
        limit = q.limit if q.limit is not None else -1
        page = 500 if q.selector is not None else limit
        results: list[Doc] = []
        last = since
        exhausted = False
        top = since
        while not exhausted and (limit < 0 or len(results) < limit):
            rows, top = self._change_rows(conn, q, last, page)
            exhausted = page < 0 or len(rows) < page
            for doc_id, seq, winner, deleted in rows:
                last = seq
                tree = self._tree(conn, doc_id) if (q.all_docs or q.include_docs or q.selector) else {}
                doc = None
                if q.include_docs or q.selector is not None:
                    opts = GetOptions(conflicts=q.conflicts, attachments=q.attachments)
                    doc = self._doc(conn, doc_id, winner, tree, opts)
                    if q.selector is not None and not mango.matches(q.selector, doc):
                        continue
                revs = revtree.leaves(tree) if q.all_docs else [winner]
                row: Doc = {"seq": seq, "id": doc_id, "changes": [{"rev": r} for r in revs]}
                if deleted:
                    row["deleted"] = True
                if q.include_docs:
                    row["doc"] = doc
                results.append(row)
                if limit >= 0 and len(results) >= limit:
                    break
            if q.descending:
                break
        if q.descending:
            last_seq = results[-1]["seq"] if results else top
        elif limit >= 0 and len(results) >= limit:
            last_seq = results[-1]["seq"]
        else:
            last_seq = max(top, since)
        pending = 0
        if not q.descending and q.selector is None and results and limit >= 0 and len(results) >= limit:
            where, args = self._change_filter(q, int(last_seq))
            pending = conn.execute(f"SELECT count(*) FROM docs WHERE {where}", args).fetchone()[0]
        return {"results": results, "last_seq": last_seq, "pending": pending}

    async def changes(self, query: ChangesQuery) -> Doc:
        deadline = time.monotonic() + query.wait_ms / 1000
        while True:
            waiter = self._changed
            out = await self._readers.run(lambda c: self._changes(c, query))
            left = deadline - time.monotonic()
            if out["results"] or left <= 0:
                return out
            try:
                # Not asyncio.wait_for: on Python 3.11 it swallows a cancellation that arrives as the event fires
                # (gh-86296), and a follower stopped then longpolls on, holding its server's shutdown.
                async with asyncio.timeout(left):
                    await waiter.wait()
            except TimeoutError:
                return await self._readers.run(lambda c: self._changes(c, query))

    def _all_docs(self, conn: sqlite3.Connection, q: AllDocsQuery) -> Doc:
        total = self._committed[1]
        opts = GetOptions(conflicts=q.conflicts)
        rows: list[Doc] = []
        if q.keys is not None:
            # CouchDB 3 reads `keys` backwards for `descending`, then skips and limits (fabric_view_all_docs.erl).
            asked = list(reversed(q.keys)) if q.descending else list(q.keys)
            for key in asked[q.skip :][: q.limit]:
                if not isinstance(key, str) or (q.partitions is not None and partition_of(key) not in q.partitions):
                    rows.append({"key": key, "error": "not_found"})
                    continue
                found = conn.execute("SELECT winner, deleted FROM docs WHERE id = ?", (key,)).fetchone()
                if found is None:
                    rows.append({"key": key, "error": "not_found"})
                elif found[1]:
                    row: Doc = {"id": key, "key": key, "value": {"rev": found[0], "deleted": True}}
                    if q.include_docs:
                        row["doc"] = None
                    rows.append(row)
                else:
                    rows.append(self._all_docs_row(conn, key, found[0], q, opts))
            return {"total_rows": total, "offset": 0, "rows": rows}
        lo, hi = (q.endkey, q.startkey) if q.descending else (q.startkey, q.endkey)
        lo_incl, hi_incl = (q.inclusive_end, True) if q.descending else (True, q.inclusive_end)
        where, args = ["deleted = 0"], []
        if lo is not None:
            where.append("id >= ?" if lo_incl else "id > ?")
            args.append(lo)
        if hi is not None:
            where.append("id <= ?" if hi_incl else "id < ?")
            args.append(hi)
        if q.partitions is not None:
            where.append(f"partition IN ({','.join('?' * len(q.partitions))})")
            args.extend(sorted(q.partitions))
        cond = " AND ".join(where)
        order = "DESC" if q.descending else "ASC"
        page = f"SELECT id, winner FROM docs WHERE {cond} ORDER BY id {order} LIMIT ? OFFSET ?"
        args_page = (*args, q.limit if q.limit is not None else -1, q.skip)
        if q.include_docs:
            rows = self._range_with_docs(conn, page, args_page, order, q.conflicts)
        else:
            for doc_id, winner in conn.execute(page, args_page).fetchall():
                rows.append(self._all_docs_row(conn, doc_id, winner, q, opts))
        return {"total_rows": total, "offset": q.skip, "rows": rows}

    @staticmethod
    def _range_with_docs(
        conn: sqlite3.Connection, page: str, args: tuple[Any, ...], order: str, conflicts: bool
    ) -> list[Doc]:
        """A page of a key range with its documents in two queries, the bodies and the attachments' stubs, instead
        of three per document (the revision tree, the body, the attachments): the winners of a range are live, and
        of the rest of the tree only the live losing leaves show (`_conflicts`, a third query when asked). The
        office's reads and the validators' partition reads are such ranges."""
        losing: dict[str, list[str]] = {}
        if conflicts:
            leaf_rows = conn.execute(
                f"SELECT r.doc_id, r.rev FROM ({page}) p"
                " JOIN revs r ON r.doc_id = p.id AND r.leaf = 1 AND r.deleted = 0 AND r.rev != p.winner",
                args,
            ).fetchall()
            for doc_id, rev in leaf_rows:
                losing.setdefault(doc_id, []).append(rev)
            for revs in losing.values():  # CouchDB's order: the most winning first (`revtree.leaves`)
                revs.sort(key=lambda rev: revtree.sort_key(rev, False), reverse=True)
        stubs: dict[str, Doc] = {}
        att_rows = conn.execute(
            f"SELECT a.doc_id, a.name, a.content_type, a.digest, a.length, a.revpos FROM ({page}) p"
            " JOIN atts a ON a.doc_id = p.id AND a.rev = p.winner ORDER BY a.doc_id, a.name",
            args,
        ).fetchall()
        for doc_id, name, ctype, digest, length, revpos in att_rows:
            stub = {"content_type": ctype, "digest": digest, "length": length, "revpos": revpos, "stub": True}
            stubs.setdefault(doc_id, {})[name] = stub
        rows: list[Doc] = []
        bodies = conn.execute(
            f"SELECT p.id, p.winner, r.body FROM ({page}) p JOIN revs r ON r.doc_id = p.id AND r.rev = p.winner"
            f" ORDER BY p.id {order}",
            args,
        ).fetchall()
        for doc_id, winner, body in bodies:
            doc: Doc = {"_id": doc_id, "_rev": winner}
            doc.update(orjson.loads(body))
            if doc_id in stubs:
                doc["_attachments"] = stubs[doc_id]
            if doc_id in losing:
                doc["_conflicts"] = losing[doc_id]
            rows.append({"id": doc_id, "key": doc_id, "value": {"rev": winner}, "doc": doc})
        return rows

    def _all_docs_row(
        self, conn: sqlite3.Connection, doc_id: str, winner: str, q: AllDocsQuery, opts: GetOptions
    ) -> Doc:
        row: Doc = {"id": doc_id, "key": doc_id, "value": {"rev": winner}}
        if q.include_docs:
            row["doc"] = self._doc(conn, doc_id, winner, self._tree(conn, doc_id), opts)
        return row

    async def all_docs(self, query: AllDocsQuery) -> Doc:
        return await self._readers.run(lambda c: self._all_docs(c, query))

    # ----- local documents (checkpoints): not replicated, not in any feed -----

    async def get_local(self, local_id: str) -> Doc:
        def run(conn: sqlite3.Connection) -> Doc:
            row = conn.execute("SELECT rev, body FROM local_docs WHERE id = ?", (local_id,)).fetchone()
            if row is None:
                raise not_found("missing")
            return {"_id": f"_local/{local_id}", "_rev": f"0-{row[0]}", **orjson.loads(row[1])}

        return await self._readers.run(run, small=True)

    async def put_local(self, local_id: str, doc: Doc) -> Doc:
        body = {k: v for k, v in doc.items() if k not in ("_id", "_rev", "_revisions")}
        given = doc.get("_rev")
        data = orjson.dumps(body).decode()

        def job(conn: sqlite3.Connection, _s: TxState) -> Doc:
            row = conn.execute("SELECT rev FROM local_docs WHERE id = ?", (local_id,)).fetchone()
            if row is not None and given != f"0-{row[0]}":
                raise conflict()
            if doc.get("_deleted") is True:
                if row is None:
                    raise not_found("missing")
                conn.execute("DELETE FROM local_docs WHERE id = ?", (local_id,))
                return {"ok": True, "id": f"_local/{local_id}", "rev": "0-0"}
            rev = (row[0] if row else 0) + 1
            conn.execute("INSERT OR REPLACE INTO local_docs(id, rev, body) VALUES (?, ?, ?)", (local_id, rev, data))
            return {"ok": True, "id": f"_local/{local_id}", "rev": f"0-{rev}"}

        result: Doc = await self._writer.submit(job)
        return result

    async def delete_local(self, local_id: str, rev: str | None) -> Doc:
        return await self.put_local(local_id, {"_rev": rev, "_deleted": True})

    # ----- attachments -----

    async def read_attachment(
        self, doc_id: str, name: str, rev: str | None = None, body: bool = True
    ) -> AttachmentBody:
        def run(conn: sqlite3.Connection) -> tuple[str, str, int, str]:
            tree = self._tree(conn, doc_id)
            if not tree:
                raise not_found("missing")
            r = rev or revtree.winner(tree)
            if r not in tree or (rev is None and tree[r].deleted):
                raise not_found("missing" if rev else "deleted")
            row = conn.execute(
                "SELECT content_type, digest, length, blob FROM atts WHERE doc_id = ? AND rev = ? AND name = ?",
                (doc_id, r, name),
            ).fetchone()
            if row is None:
                raise not_found("Document is missing attachment")
            return row[0], row[1], row[2], row[3]

        ctype, digest, length, blob = await self._readers.run(run)
        path = self.blobs.path(blob)
        if not path.exists():
            raise CouchError(500, "internal_server_error", f"attachment body {blob} is missing")
        return AttachmentBody(ctype, length, digest, _stream(path) if body else no_chunks())

    # ----- writing -----

    async def run_write(self, job: Job, durable: bool = True) -> Any:
        """Run `job(conn, state)` in the writer thread, inside its group commit: the store's sequence, document
        counts and changes feed stay its own. For the store package's bulk paths (server/store/sqlite_bulk.py),
        which must keep the tables as `bulk_docs` would."""
        return await self._writer.submit(job, durable)

    async def bulk_docs(self, docs: Sequence[Doc], new_edits: bool = True, durable: bool = True) -> list[Doc]:
        from server.store.sqlite_write import prepare, write_job

        if any(isinstance(d, dict) and d.get("_attachments") for d in docs):
            prepared = await asyncio.to_thread(prepare, docs, new_edits, self.blobs)  # bodies go to files
        else:
            # Without attachments preparing is a little parsing (~5 us a document), less than the hop to a thread
            # and back cost a replicated batch under load (~1 ms).
            prepared = prepare(docs, new_edits, self.blobs)
        results: list[Doc] = await self._writer.submit(write_job(prepared, new_edits, self.revs_limit), durable)
        return results


def _int_seq(seq: object) -> int:
    if isinstance(seq, int) and not isinstance(seq, bool) and 0 <= seq < 2**62:
        return seq
    if isinstance(seq, str):
        if seq == "now":
            return -1
        head = seq.split("-", 1)[0]
        if head.isascii() and head.isdigit() and len(head) <= 18:
            return int(head)
    raise bad_request("Malformed sequence supplied in 'since' parameter.")


async def _stream(path: Path) -> AsyncIterator[bytes]:
    f = await asyncio.to_thread(open, path, "rb")
    try:
        while True:
            chunk = await asyncio.to_thread(f.read, CHUNK)
            if not chunk:
                return
            yield chunk
    finally:
        f.close()
