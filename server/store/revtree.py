"""CouchDB revision trees as pure functions.

A document's history is a tree of revisions `N-hash`, where N is the depth from the original root. Since a
revision's parent never changes, the tree is kept as a map rev -> node with a parent pointer: merging a
replicated path is a union of nodes, and stemming cuts parents. CouchDB's rules, which these functions keep:
- the winner is the leaf that is not deleted, then has the greatest position, then the greatest hash string;
- `_conflicts` are the other leaves that are not deleted, `_deleted_conflicts` the deleted ones;
- a path is stemmed to the last `revs_limit` revisions; a stemmed root keeps its position.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

import orjson

REV_RE = re.compile(r"^([1-9][0-9]{0,9})-([0-9A-Za-z]{1,64})$")


@dataclass(slots=True)
class Node:
    parent: str | None
    deleted: bool
    # Whether the body of this revision is kept (leaves only, after instant compaction).
    available: bool = True


Tree = dict[str, Node]


class InvalidRev(ValueError):
    pass


def parse_rev(rev: object) -> tuple[int, str]:
    if not isinstance(rev, str):
        raise InvalidRev("Invalid rev format")
    m = REV_RE.match(rev)
    if not m:
        raise InvalidRev("Invalid rev format")
    return int(m.group(1)), m.group(2)


def rev_pos(rev: str) -> int:
    return int(rev.split("-", 1)[0])


def sort_key(rev: str, deleted: bool) -> tuple[bool, int, str]:
    pos, h = rev.split("-", 1)
    return (not deleted, int(pos), h)


def children_of(tree: Tree) -> dict[str, list[str]]:
    kids: dict[str, list[str]] = {}
    for rev, node in tree.items():
        if node.parent is not None and node.parent in tree:
            kids.setdefault(node.parent, []).append(rev)
    return kids


def leaves(tree: Tree) -> list[str]:
    """All leaves, the winner first, then by CouchDB's order (most winning first)."""
    has_child = {n.parent for n in tree.values() if n.parent is not None}
    found = [r for r in tree if r not in has_child]
    found.sort(key=lambda r: sort_key(r, tree[r].deleted), reverse=True)
    return found


def winner(tree: Tree) -> str:
    return leaves(tree)[0]


def conflicts(tree: Tree) -> tuple[list[str], list[str]]:
    """(`_conflicts`, `_deleted_conflicts`) of the tree: the losing leaves, split by deletion."""
    ls = leaves(tree)[1:]
    return [r for r in ls if not tree[r].deleted], [r for r in ls if tree[r].deleted]


def ancestry(tree: Tree, rev: str) -> list[str]:
    """The path from `rev` up to its (possibly stemmed) root, newest first."""
    out = [rev]
    node = tree[rev]
    while node.parent is not None and node.parent in tree:
        out.append(node.parent)
        node = tree[node.parent]
    return out


def revisions_field(path: list[str]) -> dict[str, object]:
    """CouchDB's `_revisions` for a path newest first."""
    start = rev_pos(path[0])
    return {"start": start, "ids": [r.split("-", 1)[1] for r in path]}


def path_from_revisions(rev: str, revisions: object) -> list[str]:
    """The newest-first path a `_rev` + `_revisions` pair names; only `[rev]` without `_revisions`."""
    pos, h = parse_rev(rev)
    if revisions is None:
        return [rev]
    if not isinstance(revisions, dict):
        raise InvalidRev("_revisions must be an object")
    start, ids = revisions.get("start"), revisions.get("ids")
    if not isinstance(start, int) or isinstance(start, bool) or not isinstance(ids, list) or not ids:
        raise InvalidRev("_revisions needs an integer start and a non-empty list of ids")
    if start != pos or ids[0] != h:
        raise InvalidRev("_rev and _revisions disagree")
    if start - len(ids) < 0:
        raise InvalidRev("_revisions is longer than its start")
    # The first is `rev`'s own, parsed above; a new document's path (most of a push) has no other.
    path = [f"{start}-{h}"]
    for i, rid in enumerate(ids[1:], 1):
        if not isinstance(rid, str):
            raise InvalidRev("Invalid rev format")
        r = f"{start - i}-{rid}"
        parse_rev(r)
        path.append(r)
    return path


def merge_path(tree: Tree, path: list[str], deleted: bool) -> list[str]:
    """Merge a newest-first path into `tree` in place; returns the revisions that were new.

    The leaf of the path carries `deleted`; ancestors that the tree does not know yet are recorded as
    unavailable (their bodies were never sent). Known revisions keep their parent unless it was stemmed.
    """
    added: list[str] = []
    for i, rev in enumerate(path):
        parent = path[i + 1] if i + 1 < len(path) else None
        node = tree.get(rev)
        if node is None:
            tree[rev] = Node(parent=parent, deleted=deleted if i == 0 else False, available=i == 0)
            added.append(rev)
        elif node.parent is None and parent is not None:
            node.parent = parent  # the path reaches further back than a stemmed root
    return added


def stem(tree: Tree, limit: int) -> list[str]:
    """Keep only the last `limit` revisions of every root-to-leaf path; returns the removed revisions."""
    if len(tree) <= limit:
        return []
    keep: set[str] = set()
    for leaf in leaves(tree):
        keep.update(ancestry(tree, leaf)[:limit])
    removed = [r for r in tree if r not in keep]
    for r in removed:
        del tree[r]
    for node in tree.values():
        if node.parent is not None and node.parent not in tree:
            node.parent = None
    return removed


def leaves_under(tree: Tree, rev: str) -> list[str]:
    """The leaves that descend from `rev` (itself when it is a leaf): what `latest=true` answers."""
    kids = children_of(tree)
    out: list[str] = []
    stack = [rev]
    while stack:
        r = stack.pop()
        ks = kids.get(r)
        if ks:
            stack.extend(ks)
        else:
            out.append(r)
    out.sort(key=lambda r: sort_key(r, tree[r].deleted), reverse=True)
    return out


def missing_revs(tree: Tree, revs: Iterable[str]) -> tuple[list[str], list[str]]:
    """`_revs_diff` for one document: (missing, possible_ancestors)."""
    if not tree:  # a document the store has never seen (most of a push): everything is missing, nothing precedes
        return list(dict.fromkeys(revs)), []
    missing = [r for r in dict.fromkeys(revs) if r not in tree]
    if not missing:
        return [], []
    top = max(rev_pos(r) for r in missing if REV_RE.match(r)) if any(REV_RE.match(r) for r in missing) else 0
    ancestors = [leaf for leaf in leaves(tree) if rev_pos(leaf) < top]
    return missing, ancestors


def new_rev(parent: str | None, deleted: bool, body: dict[str, object], att_digests: list[str]) -> str:
    """A deterministic revision id for an edit: the same edit of the same parent gives the same rev."""
    pos = rev_pos(parent) + 1 if parent else 1
    digest = hashlib.md5(
        orjson.dumps([parent or "", deleted, body, sorted(att_digests)], option=orjson.OPT_SORT_KEYS),
        usedforsecurity=False,
    ).hexdigest()
    return f"{pos}-{digest}"
