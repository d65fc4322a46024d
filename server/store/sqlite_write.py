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
from server.store.revtree import Node, Tree
from server.store.sqlite_io import BlobFolder, Job, TxState


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
        results: list[Doc] = []
        for item in items:
            if not isinstance(item, Prepared):
                results.append(item)
                continue
            try:
                if new_edits:
                    results.append(_edit(conn, state, item, revs_limit))
                else:
                    _replicate(conn, state, item, revs_limit)
            except CouchError as e:
                results.append(e.for_doc(item.id))
        return results

    return job


def _load(conn: sqlite3.Connection, doc_id: str) -> Tree:
    rows = conn.execute("SELECT rev, parent, deleted, body IS NOT NULL FROM revs WHERE doc_id = ?",
                        (doc_id,)).fetchall()
    return {r: Node(p, bool(d), bool(a)) for r, p, d, a in rows}


def _att_rows(conn: sqlite3.Connection, doc_id: str, rev: str | None) -> dict[str, tuple[Any, ...]]:
    sql = "SELECT name, content_type, digest, length, revpos, blob FROM atts WHERE doc_id = ?"
    args: tuple[Any, ...] = (doc_id,)
    if rev is not None:
        sql += " AND rev = ?"
        args = (doc_id, rev)
    return {row[0]: row[1:] for row in conn.execute(sql, args).fetchall()}


def _resolve_atts(conn: sqlite3.Connection, item: Prepared, parent: str | None, pos: int
                  ) -> dict[str, tuple[str, str, int, int, str]]:
    """name -> (content_type, digest, length, revpos, blob) for the new revision."""
    known = _att_rows(conn, item.id, parent) if item.atts else {}
    if item.path is not None and any(isinstance(a, StubAttachment) for a in item.atts.values()):
        everywhere = conn.execute(
            "SELECT name, content_type, digest, length, revpos, blob FROM atts WHERE doc_id = ?", (item.id,)
        ).fetchall()
        by_digest = {(r[0], r[2]): r[1:] for r in everywhere}
    else:
        by_digest = {}
    out: dict[str, tuple[str, str, int, int, str]] = {}
    for name, att in item.atts.items():
        if isinstance(att, NewAttachment):
            revpos = att.revpos if (item.path is not None and att.revpos) else pos
            out[name] = (att.content_type, att.digest, len(att.data), revpos, item.blobs[name])
            continue
        row = by_digest.get((name, att.digest)) if item.path is not None else known.get(name)
        if row is None and item.path is not None:
            row = known.get(name)
        if row is None or (att.digest is not None and row[1] != att.digest):
            raise CouchError(412, "missing_stub", f"Invalid attachment stub in {item.id} for {name}")
        out[name] = (row[0], row[1], row[2], row[3], row[4])
    return out


def _edit(conn: sqlite3.Connection, state: TxState, item: Prepared, revs_limit: int) -> Doc:
    tree = _load(conn, item.id)
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
    atts = _resolve_atts(conn, item, parent, pos)
    rev = revtree.new_rev(parent, item.deleted, item.body, [a[1] for a in atts.values()])
    if rev in tree:
        raise conflict()
    revtree.merge_path(tree, [rev] + ([parent] if parent else []), item.deleted)
    _store(conn, state, item, tree, rev, [rev], atts, revs_limit)
    return {"ok": True, "id": item.id, "rev": rev}


def _replicate(conn: sqlite3.Connection, state: TxState, item: Prepared, revs_limit: int) -> None:
    assert item.path is not None
    tree = _load(conn, item.id)
    had_parent = {r: n.parent for r, n in tree.items()}
    leaf = item.path[0]
    if leaf in tree:
        # Known already: at most a stemmed root learns its parent; nothing to store.
        revtree.merge_path(tree, item.path, item.deleted)
        for r, n in tree.items():
            if r in had_parent and had_parent[r] != n.parent:
                conn.execute("UPDATE revs SET parent = ? WHERE doc_id = ? AND rev = ?", (n.parent, item.id, r))
        return
    atts = _resolve_atts(conn, item, None, revtree.rev_pos(leaf))
    added = revtree.merge_path(tree, item.path, item.deleted)
    for r, n in tree.items():
        if r in had_parent and had_parent[r] != n.parent:
            conn.execute("UPDATE revs SET parent = ? WHERE doc_id = ? AND rev = ?", (n.parent, item.id, r))
    _store(conn, state, item, tree, leaf, added, atts, revs_limit)


def _store(conn: sqlite3.Connection, state: TxState, item: Prepared, tree: Tree, leaf: str, added: list[str],
           atts: dict[str, tuple[str, str, int, int, str]], revs_limit: int) -> None:
    """Write the new revisions, compact the revisions that got children, stem, and move the doc's seq."""
    body = orjson.dumps(item.body).decode()
    for r in added:
        node = tree[r]
        is_leaf = r == leaf
        conn.execute("INSERT INTO revs(doc_id, rev, parent, deleted, leaf, body) VALUES (?, ?, ?, ?, ?, ?)",
                     (item.id, r, node.parent, int(node.deleted), int(is_leaf), body if is_leaf else None))
    for name, (ctype, digest, length, revpos, blob) in atts.items():
        conn.execute("INSERT INTO atts(doc_id, rev, name, content_type, digest, length, revpos, blob)"
                     " VALUES (?, ?, ?, ?, ?, ?, ?, ?)", (item.id, leaf, name, ctype, digest, length, revpos, blob))
    parent = tree[leaf].parent
    if parent is not None and parent not in added:
        # The parent is no longer a leaf: drop its body, as CouchDB's compaction would.
        conn.execute("UPDATE revs SET leaf = 0, body = NULL WHERE doc_id = ? AND rev = ?", (item.id, parent))
        conn.execute("DELETE FROM atts WHERE doc_id = ? AND rev = ?", (item.id, parent))
        tree[parent].available = False
    stemmed = revtree.stem(tree, revs_limit)
    for r in stemmed:
        conn.execute("DELETE FROM revs WHERE doc_id = ? AND rev = ?", (item.id, r))
        conn.execute("DELETE FROM atts WHERE doc_id = ? AND rev = ?", (item.id, r))
    if stemmed:  # the new roots lose their parent pointers
        for r, n in tree.items():
            if n.parent is None:
                conn.execute("UPDATE revs SET parent = NULL WHERE doc_id = ? AND rev = ?", (item.id, r))
    top = revtree.winner(tree)
    deleted = tree[top].deleted
    old = conn.execute("SELECT deleted FROM docs WHERE id = ?", (item.id,)).fetchone()
    state.seq += 1
    conn.execute("INSERT OR REPLACE INTO docs(id, partition, seq, winner, deleted) VALUES (?, ?, ?, ?, ?)",
                 (item.id, partition_of(item.id), state.seq, top, int(deleted)))
    if old is not None:
        state.doc_count -= 0 if old[0] else 1
        state.del_count -= 1 if old[0] else 0
    state.doc_count += 0 if deleted else 1
    state.del_count += 1 if deleted else 0
