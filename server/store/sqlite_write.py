"""The embedded store's write path: `_bulk_docs` with new_edits true (edits) and false (replication).

`prepare` runs off the writer thread (JSON, base64, blob files); `write_job` runs on it, inside the group
transaction, and checks every document fully before it writes any row of it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from server.errors import CouchError, bad_request, conflict
from server.store import revtree
from server.store.docs import Attachment, NewAttachment, StubAttachment, check_id, parse_attachments, split_body
from server.store.protocol import Doc, partition_of
from server.store.revtree import Tree
from server.store.sqlite_io import BlobFolder, Job, TxState, load_trees


@dataclass(slots=True)
class Prepared:
    id: str
    rev: str | None
    path: list[str] | None
    deleted: bool
    body: dict[str, Any]
    atts: dict[str, Attachment]
    blobs: dict[str, str] = field(default_factory=dict)


def prepare(docs: Sequence[Any], new_edits: bool, blobs: BlobFolder) -> list[Prepared | Doc]:
    out: list[Prepared | Doc] = []
    for doc in docs:
        doc_id = doc.get("_id") if isinstance(doc, dict) else None
        try:
            if not isinstance(doc, dict):
                raise bad_request("Document must be a JSON object")
            rev = doc.get("_rev")
            if new_edits:
                if doc_id is None:
                    raise bad_request("Document must have an _id")
                if rev is not None:
                    revtree.parse_rev(rev)
                path = None
            else:
                if doc_id is None or rev is None:
                    raise bad_request("new_edits=false needs _id and _rev")
                path = revtree.path_from_revisions(rev, doc.get("_revisions"))
            deleted = doc.get("_deleted", False)
            if not isinstance(deleted, bool):
                raise bad_request("_deleted must be a boolean")
            item = Prepared(check_id(doc_id), rev, path, deleted, split_body(doc), parse_attachments(doc))
            for name, att in item.atts.items():
                if isinstance(att, NewAttachment):
                    item.blobs[name] = blobs.put(att.data)
            out.append(item)
        except revtree.InvalidRev as e:
            out.append({"id": doc_id, "error": "bad_request", "reason": str(e)})
        except CouchError as e:
            out.append(e.for_doc(doc_id) if isinstance(doc_id, str) else {"id": doc_id, **e.body()})
    return out


def write_job(items: list[Prepared | Doc], new_edits: bool, revs_limit: int) -> Job:
    def job(conn: sqlite3.Connection, state: TxState) -> list[Doc]:
        batch = Batch(conn, [i.id for i in items if isinstance(i, Prepared)])
        results: list[Doc] = []
        for item in items:
            if not isinstance(item, Prepared):
                results.append(item)
                continue
            try:
                if new_edits:
                    results.append(_edit(batch, state, item, revs_limit))
                else:
                    _replicate(batch, state, item, revs_limit)
            except CouchError as e:
                results.append(e.for_doc(item.id))
        batch.flush()
        return results

    return job


class Batch:
    """One job's reads done up front (the trees and doc rows of all its ids) and its writes collected for
    `executemany`: a batch of a hundred documents costs a handful of statements, not four hundred."""

    def __init__(self, conn: sqlite3.Connection, ids: list[str]) -> None:
        self.conn = conn
        unique = list(dict.fromkeys(ids))
        self.trees: dict[str, Tree] = load_trees(conn, unique)
        # Whether each document is deleted now (None: new): its winner's flag, as its `docs` row keeps it.
        self.deleted: dict[str, bool | None] = {
            doc_id: tree[revtree.winner(tree)].deleted if tree else None for doc_id, tree in self.trees.items()
        }
        self.touched: set[str] = set()
        self._clear()

    def _clear(self) -> None:
        self.rev_rows: list[tuple[Any, ...]] = []
        self.att_rows: list[tuple[Any, ...]] = []
        self.compacted: list[tuple[str, str]] = []
        self.reparented: list[tuple[str | None, str, str]] = []
        self.removed: list[tuple[str, str]] = []
        self.doc_rows: list[tuple[Any, ...]] = []

    def att_rows_of(self, doc_id: str, rev: str | None) -> dict[str, tuple[Any, ...]]:
        if doc_id in self.touched:
            self.flush()  # this job wrote the doc already: read what it wrote
        sql = "SELECT name, content_type, digest, length, revpos, blob FROM atts WHERE doc_id = ?"
        args: tuple[Any, ...] = (doc_id,)
        if rev is not None:
            sql += " AND rev = ?"
            args = (doc_id, rev)
        return {row[0]: row[1:] for row in self.conn.execute(sql, args).fetchall()}

    def flush(self) -> None:
        """The collected writes, in this order; a statement with no rows is not run (a push batch of new documents
        has rows for two of the seven)."""
        c = self.conn
        # A body comes as orjson's UTF-8 bytes and is stored as the same TEXT: no decoding to a Python string here,
        # and no encoding back by sqlite3.
        statements: list[tuple[str, list[tuple[Any, ...]]]] = [
            (
                "INSERT INTO revs(doc_id, rev, parent, deleted, leaf, body) VALUES (?, ?, ?, ?, ?, CAST(? AS TEXT))",
                self.rev_rows,
            ),
            (
                "INSERT INTO atts(doc_id, rev, name, content_type, digest, length, revpos, blob)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                self.att_rows,
            ),
            ("UPDATE revs SET leaf = 0, body = NULL WHERE doc_id = ? AND rev = ?", self.compacted),
            ("DELETE FROM atts WHERE doc_id = ? AND rev = ?", self.compacted + self.removed),
            ("UPDATE revs SET parent = ? WHERE doc_id = ? AND rev = ?", self.reparented),
            ("DELETE FROM revs WHERE doc_id = ? AND rev = ?", self.removed),
            # An upsert on the id: OR REPLACE would also settle a clash on `docs_seq` by deleting the other
            # document's row; a sequence given twice must fail the write instead, never make a document vanish
            # from the feed.
            (
                "INSERT INTO docs(id, partition, seq, winner, deleted) VALUES (?, ?, ?, ?, ?) ON CONFLICT(id) DO"
                " UPDATE SET partition = excluded.partition, seq = excluded.seq, winner = excluded.winner,"
                " deleted = excluded.deleted",
                self.doc_rows,
            ),
        ]
        for sql, rows in statements:
            if rows:
                c.executemany(sql, rows)
        self._clear()


def _resolve_atts(
    batch: Batch, item: Prepared, parent: str | None, pos: int
) -> dict[str, tuple[str, str, int, int, str]]:
    """name -> (content_type, digest, length, revpos, blob) for the new revision."""
    if not item.atts:
        return {}
    known = batch.att_rows_of(item.id, parent)
    by_digest: dict[tuple[str, str], tuple[Any, ...]] = {}
    if item.path is not None and any(isinstance(a, StubAttachment) for a in item.atts.values()):
        # A replicated stub may name an attachment of any revision this document has.
        for row in batch.conn.execute(
            "SELECT name, content_type, digest, length, revpos, blob FROM atts WHERE doc_id = ?", (item.id,)
        ):
            by_digest[(row[0], row[2])] = row[1:]
    out: dict[str, tuple[str, str, int, int, str]] = {}
    for name, att in item.atts.items():
        if isinstance(att, NewAttachment):
            revpos = att.revpos if (item.path is not None and att.revpos) else pos
            out[name] = (att.content_type, att.digest, len(att.data), revpos, item.blobs[name])
            continue
        row = by_digest.get((name, att.digest or "")) if item.path is not None else known.get(name)
        if row is None and item.path is not None:
            row = known.get(name)
        if row is None or (att.digest is not None and row[1] != att.digest):
            raise CouchError(412, "missing_stub", f"Invalid attachment stub in {item.id} for {name}")
        out[name] = (row[0], row[1], row[2], row[3], row[4])
    return out


def _edit(batch: Batch, state: TxState, item: Prepared, revs_limit: int) -> Doc:
    tree = batch.trees[item.id]
    if not tree:
        if item.rev is not None:
            raise conflict()
        parent = None
    else:
        top = revtree.winner(tree)
        if item.rev is None:
            if not tree[top].deleted:
                raise conflict()
            parent = top  # re-creating a deleted document extends its deleted branch
        else:
            if item.rev not in tree or item.rev not in revtree.leaves(tree):
                raise conflict()
            parent = item.rev
    pos = revtree.rev_pos(parent) + 1 if parent else 1
    atts = _resolve_atts(batch, item, parent, pos)
    rev = revtree.new_rev(parent, item.deleted, item.body, [a[1] for a in atts.values()])
    if rev in tree:
        raise conflict()
    revtree.merge_path(tree, [rev] + ([parent] if parent else []), item.deleted)
    _store(batch, state, item, rev, [rev], atts, revs_limit)
    return {"ok": True, "id": item.id, "rev": rev}


def _replicate(batch: Batch, state: TxState, item: Prepared, revs_limit: int) -> None:
    assert item.path is not None
    tree = batch.trees[item.id]
    if not tree and not item.atts and len(item.path) <= revs_limit:
        _replicate_new(batch, state, item)
        return
    had_parent = {r: n.parent for r, n in tree.items()}
    leaf = item.path[0]
    atts = {} if leaf in tree else _resolve_atts(batch, item, None, revtree.rev_pos(leaf))
    added = revtree.merge_path(tree, item.path, item.deleted)
    for r, n in tree.items():
        if r in had_parent and had_parent[r] != n.parent:  # a stemmed root learnt its parent
            batch.reparented.append((n.parent, item.id, r))
    if leaf in added:
        _store(batch, state, item, leaf, added, atts, revs_limit)


def _replicate_new(batch: Batch, state: TxState, item: Prepared) -> None:
    """`_replicate` of a document the store has never seen, without attachments (most of a phone's push): its path
    is its whole tree, its leaf the winner, and nothing is compacted or stemmed."""
    assert item.path is not None
    leaf = item.path[0]
    added = revtree.merge_path(batch.trees[item.id], item.path, item.deleted)
    _add_revisions(batch, item, leaf, added)
    _move_doc(batch, state, item.id, leaf, item.deleted)


def _store(
    batch: Batch,
    state: TxState,
    item: Prepared,
    leaf: str,
    added: list[str],
    atts: dict[str, tuple[str, str, int, int, str]],
    revs_limit: int,
) -> None:
    """Record the new revisions, compact the revision that got a child, stem, and move the doc's seq."""
    tree = batch.trees[item.id]
    _add_revisions(batch, item, leaf, added)
    for name, (ctype, digest, length, revpos, blob) in atts.items():
        batch.att_rows.append((item.id, leaf, name, ctype, digest, length, revpos, blob))
    parent = tree[leaf].parent
    if parent is not None and parent not in added:
        # The parent is no longer a leaf: drop its body, as CouchDB's compaction would.
        batch.compacted.append((item.id, parent))
        tree[parent].available = False
    stemmed = revtree.stem(tree, revs_limit)
    batch.removed.extend((item.id, r) for r in stemmed)
    if stemmed:  # the new roots lose their parent pointers
        batch.reparented.extend((None, item.id, r) for r, n in tree.items() if n.parent is None)
    top = revtree.winner(tree)
    _move_doc(batch, state, item.id, top, tree[top].deleted)


def _add_revisions(batch: Batch, item: Prepared, leaf: str, added: list[str]) -> None:
    """The rows of the revisions `added` to the document's tree: the body with the leaf, none with its ancestors."""
    tree = batch.trees[item.id]
    body = orjson.dumps(item.body)  # stored as TEXT (`Batch.flush`)
    for r in added:
        node = tree[r]
        is_leaf = r == leaf
        batch.rev_rows.append((item.id, r, node.parent, int(node.deleted), int(is_leaf), body if is_leaf else None))


def _move_doc(batch: Batch, state: TxState, doc_id: str, top: str, deleted: bool) -> None:
    """The document's row takes the next seq and its winner `top`; the store's counts follow its deletion."""
    old = batch.deleted[doc_id]
    state.seq += 1
    batch.doc_rows.append((doc_id, partition_of(doc_id), state.seq, top, int(deleted)))
    batch.deleted[doc_id] = deleted
    batch.touched.add(doc_id)
    if old is not None:
        state.doc_count -= 0 if old else 1
        state.del_count -= 1 if old else 0
    state.doc_count += 0 if deleted else 1
    state.del_count += 1 if deleted else 0
