"""Bulk paths on the embedded store for `mashang rebuild`: a key range read in one query, and brand-new documents
inserted without the generic `_bulk_docs` machinery.

- `Reader` is a read-only connection of its own (a rebuild's worker processes each open one; WAL lets them read
  while the store writes). `Reader.range` answers what `all_docs(startkey, endkey, include_docs=True)` answers,
  document for document (the winning revision of each live document, attachment stubs included), in two queries
  instead of three per document.
- `new_row` is what `bulk_docs` stores for a document whose id the store has never seen: the same deterministic
  revision (`revtree.new_rev` of no parent) and the same body, so a worker process can compute it.
- `insert_new` runs in the store's writer thread, inside its group commit (so the sequence, the document counts
  and the changes feed's wake-up are the store's own): it inserts the rows whose id has no row in `docs` yet, as
  `_edit` + `_store` would (one leaf revision, no parent, nothing to compact or stem), and answers the ids it
  left alone (a deleted document keeps its tombstone's branch): those go through `bulk_docs`.

It reads and writes the tables of sqlite_io.SCHEMA directly: a change of that schema must change this file too.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

import orjson

from server.store import revtree
from server.store.protocol import Doc, partition_of
from server.store.sqlite import SqliteStore
from server.store.sqlite_io import TxState, connect

NewRow = tuple[str, str, str]  # id, rev, body (JSON)
CHUNK = 500
ROWS_PER_INSERT = 100  # at most 4 parameters each: within SQLite's oldest limit of 999 a statement
# A brand-new document's only revision (no parent, live, a leaf) and its row in `docs` (live): (table, one row).
NEW_REV: Final = ("revs(doc_id, rev, parent, deleted, leaf, body)", "(?, ?, NULL, 0, 1, ?)")
NEW_DOC: Final = ("docs(id, partition, seq, winner, deleted)", "(?, ?, ?, ?, 0)")
_PLAIN: dict[tuple[str, ...], bool] = {}  # the key lists of projections, known to hold no CouchDB field


class Reader:
    def __init__(self, data_dir: Path) -> None:
        self.conn = connect(data_dir / "mashang.sqlite3", "NORMAL", readonly=True)

    def range(self, start: str, end: str) -> list[Doc]:
        """The live documents with `start` <= id <= `end`, by id, each as `all_docs(include_docs=True)` gives it."""
        conn = self.conn
        conn.execute("BEGIN")  # one snapshot for both queries
        try:
            rows = conn.execute(
                "SELECT d.id, d.winner, r.body FROM docs d JOIN revs r ON r.doc_id = d.id AND r.rev = d.winner"
                " WHERE d.deleted = 0 AND d.id >= ? AND d.id <= ? ORDER BY d.id",
                (start, end),
            ).fetchall()
            atts: dict[tuple[str, str], Doc] = {}
            for doc_id, rev, name, ctype, digest, length, revpos in conn.execute(
                "SELECT doc_id, rev, name, content_type, digest, length, revpos FROM atts"
                " WHERE doc_id >= ? AND doc_id <= ? ORDER BY doc_id, rev, name",
                (start, end),
            ):
                stub = {"content_type": ctype, "digest": digest, "length": length, "revpos": revpos, "stub": True}
                atts.setdefault((doc_id, rev), {})[name] = stub
        finally:
            conn.execute("COMMIT")
        docs: list[Doc] = []
        for doc_id, rev, body in rows:
            doc: Doc = {"_id": doc_id, "_rev": rev}
            doc.update(orjson.loads(body))
            found = atts.get((doc_id, rev)) if atts else None
            if found:
                doc["_attachments"] = found
            docs.append(doc)
        return docs

    def partitions(self) -> list[str]:
        """Every partition holding a live document whose id has a `:` (not `_design/...`), sorted as their ids are:
        one index seek per partition (and one to check it has a live document), not a read of every id."""
        conn, found, last = self.conn, [], ""
        conn.execute("BEGIN")
        try:
            while True:
                row = conn.execute(
                    "SELECT partition FROM docs WHERE partition > ? ORDER BY partition LIMIT 1", (last,)
                ).fetchone()
                if row is None:
                    break
                last = row[0]
                live = conn.execute(
                    "SELECT 1 FROM docs WHERE id >= ? AND id < ? AND deleted = 0 LIMIT 1", (f"{last}:", f"{last};")
                ).fetchone()
                if live is not None and not last.startswith("_"):
                    found.append(last)
        finally:
            conn.execute("COMMIT")
        return sorted(found, key=lambda partition: f"{partition}:")

    def close(self) -> None:
        self.conn.close()


def new_row(doc: Doc) -> NewRow:
    """The row `bulk_docs` would store for `doc` if the store had never seen its id; `doc` has no CouchDB field but
    `_id` (a projection as built; anything else raises ValueError)."""
    body = dict(doc)
    doc_id = body.pop("_id", None)
    keys = tuple(body)
    plain = _PLAIN.get(keys)
    if plain is None:
        if len(_PLAIN) > 256:
            _PLAIN.clear()
        plain = _PLAIN[keys] = not any(key.startswith("_") for key in keys)
    if not isinstance(doc_id, str) or not plain:
        raise ValueError(f"{doc_id} is not a new document without CouchDB fields")
    return doc_id, revtree.new_rev(None, False, body, []), orjson.dumps(body).decode()


async def insert_new(store: SqliteStore, rows: Sequence[NewRow]) -> list[str]:
    """Insert the rows whose id the store has no document for, in one transaction; answers the other ids."""
    if not rows:
        return []

    def job(conn: sqlite3.Connection, state: TxState) -> list[str]:
        ids = [row[0] for row in rows]
        known: set[str] = set()
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            sql = f"SELECT id FROM docs WHERE id IN ({','.join('?' * len(chunk))})"
            known.update(doc_id for (doc_id,) in conn.execute(sql, chunk))
        fresh: dict[str, NewRow] = {}
        for row in rows:
            if row[0] in fresh:
                known.add(row[0])  # twice in one call: the second is an edit of the first, for bulk_docs
            elif row[0] not in known:
                fresh[row[0]] = row
        new = list(fresh.values())
        for start in range(0, len(new), ROWS_PER_INSERT):
            part = new[start : start + ROWS_PER_INSERT]
            revs = [value for doc_id, rev, body in part for value in (doc_id, rev, body)]
            docs: list[Any] = []
            for doc_id, rev, _body in part:
                state.seq += 1
                docs += (doc_id, partition_of(doc_id), state.seq, rev)
            conn.execute(_insert(NEW_REV, len(part)), revs)
            conn.execute(_insert(NEW_DOC, len(part)), docs)
        state.doc_count += len(new)
        return [row[0] for row in rows if row[0] in known and fresh.get(row[0]) is not row]

    # The store's own writer (its group commit and sequence); see the module's docstring.
    refused: list[str] = await store.run_write(job)
    return refused


@lru_cache(maxsize=16)
def _insert(into: tuple[str, str], rows: int) -> str:
    """One INSERT of `rows` rows: a statement per row (`executemany`) cost a third more of the rebuild's writes,
    each row's statement run, halted and reset in turn."""
    table, row = into
    return f"INSERT INTO {table} VALUES {', '.join([row] * rows)}"
