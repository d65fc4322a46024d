"""Property tests of the revision tree against the rules CouchDB documents for revisions and conflicts."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.store import revtree
from server.store.revtree import Tree

HASHES = st.text(alphabet="0123456789abcdef", min_size=1, max_size=4)


@st.composite
def histories(draw: st.DrawFn) -> tuple[list[list[str]], dict[str, bool]]:
    """A random edit history: a root, then edits of random earlier revisions (branches are conflicts).

    Returns every root-to-leaf path (newest first), as replication would send them, and the deleted flags.
    """
    nodes: dict[str, str | None] = {f"1-{draw(HASHES)}": None}
    deleted: dict[str, bool] = {}
    for _ in range(draw(st.integers(0, 25))):
        parent = draw(st.sampled_from(sorted(nodes)))
        rev = f"{revtree.rev_pos(parent) + 1}-{draw(HASHES)}"
        if rev in nodes:
            continue
        nodes[rev] = parent
    has_child = {p for p in nodes.values() if p}
    paths = []
    for leaf in (r for r in nodes if r not in has_child):
        deleted[leaf] = draw(st.booleans())
        path, cur = [], leaf
        while cur is not None:
            path.append(cur)
            cur = nodes[cur]
        paths.append(path)
    return paths, deleted


def build(paths: list[list[str]], deleted: dict[str, bool]) -> Tree:
    tree: Tree = {}
    for p in paths:
        revtree.merge_path(tree, p, deleted.get(p[0], False))
    return tree


def shape(tree: Tree) -> dict[str, tuple[str | None, bool]]:
    return {r: (n.parent, n.deleted) for r, n in tree.items()}


@given(histories(), st.randoms())
def test_merge_order_does_not_matter(h: tuple[list[list[str]], dict[str, bool]], rnd: object) -> None:
    paths, deleted = h
    shuffled = list(paths)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    a, b = build(paths, deleted), build(shuffled, deleted)
    assert shape(a) == shape(b)
    assert revtree.winner(a) == revtree.winner(b)
    assert revtree.conflicts(a) == revtree.conflicts(b)


@given(histories())
def test_winner_follows_couchdb_rule(h: tuple[list[list[str]], dict[str, bool]]) -> None:
    paths, deleted = h
    tree = build(paths, deleted)
    leaves = [p[0] for p in paths]
    # Not deleted beats deleted, then the longer path (higher position), then the greater rev string.
    expected = max(leaves, key=lambda r: (not deleted[r], revtree.rev_pos(r), r.split("-", 1)[1]))
    assert revtree.winner(tree) == expected
    live, dead = revtree.conflicts(tree)
    assert sorted([expected, *live, *dead]) == sorted(leaves)
    assert all(not deleted[r] for r in live) and all(deleted[r] for r in dead)


@given(histories())
def test_merging_again_changes_nothing(h: tuple[list[list[str]], dict[str, bool]]) -> None:
    paths, deleted = h
    tree = build(paths, deleted)
    before = shape(tree)
    for p in paths:
        assert revtree.merge_path(tree, p, deleted[p[0]]) == []
    assert shape(tree) == before


@given(histories(), st.integers(1, 6))
@settings(max_examples=200)
def test_stemming_keeps_leaves_and_limits_paths(h: tuple[list[list[str]], dict[str, bool]], limit: int) -> None:
    paths, deleted = h
    tree = build(paths, deleted)
    leaves, win = set(revtree.leaves(tree)), revtree.winner(tree)
    revtree.stem(tree, limit)
    assert set(revtree.leaves(tree)) == leaves
    assert revtree.winner(tree) == win
    for leaf in leaves:
        kept = revtree.ancestry(tree, leaf)
        full = next(p for p in paths if p[0] == leaf)
        assert kept == full[: len(kept)]
        assert len(kept) == min(limit, len(full)) or len(kept) > limit - 1


@given(histories(), st.integers(1, 4))
def test_stemmed_root_learns_its_parent_again(h: tuple[list[list[str]], dict[str, bool]], limit: int) -> None:
    paths, deleted = h
    tree = build(paths, deleted)
    revtree.stem(tree, limit)
    for p in paths:
        revtree.merge_path(tree, p, deleted[p[0]])
    assert shape(tree) == shape(build(paths, deleted))


@given(histories())
def test_revisions_field_round_trips(h: tuple[list[list[str]], dict[str, bool]]) -> None:
    paths, _deleted = h
    for p in paths:
        assert revtree.path_from_revisions(p[0], revtree.revisions_field(p)) == p


@given(histories())
def test_revs_diff_reports_only_unknown_revisions(h: tuple[list[list[str]], dict[str, bool]]) -> None:
    paths, deleted = h
    tree = build(paths, deleted)
    known = sorted(tree)
    unknown = f"{max(revtree.rev_pos(r) for r in known) + 1}-zz"
    missing, ancestors = revtree.missing_revs(tree, [*known, unknown])
    assert missing == [unknown]
    assert set(ancestors) == set(revtree.leaves(tree))


@pytest.mark.parametrize("rev", ["", "1", "0-abc", "-abc", "1-", "a-b", "1-ab cd", 3, None, "1-" + "a" * 65])
def test_bad_revision_formats_are_refused(rev: object) -> None:
    with pytest.raises(revtree.InvalidRev):
        revtree.parse_rev(rev)


def test_latest_finds_the_leaves_below_an_ancestor() -> None:
    tree = build([["3-c", "2-b", "1-a"], ["2-x", "1-a"]], {"3-c": False, "2-x": True})
    assert revtree.leaves_under(tree, "1-a") == ["3-c", "2-x"]
    assert revtree.leaves_under(tree, "2-b") == ["3-c"]
