"""One conformance suite for the `Store` protocol, run on every backend through the `store` fixture.

It asserts what CouchDB documents and what PouchDB's replicator relies on. Sequences are opaque: they are
only passed back, never compared. Old non-leaf bodies are not read: CouchDB keeps them until compaction,
the sqlite store compacts them at once.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import time
from dataclasses import replace
from typing import Any

import httpx
import pytest

from server.errors import CouchError
from server.store.couchdb import CouchStore
from server.store.protocol import AllDocsQuery, ChangesQuery, Doc, GetOptions, Store


def sid(key: str, shop: str = "S1", kind: str = "self_check") -> str:
    return f"{shop}:{kind}:01JDX{key}"


A, B, C, D = sid("A"), sid("B"), sid("C"), sid("D")


async def put(store: Store, doc: Doc) -> str:
    [answer] = await store.bulk_docs([doc])
    assert answer.get("ok") is True, answer
    assert answer["id"] == doc["_id"]
    rev: str = answer["rev"]
    return rev


async def replicate(store: Store, doc_id: str, path: list[str], deleted: bool = False, **body: Any) -> None:
    """Write one revision as the replicator does: `new_edits=false` with its `_revisions` path."""
    pos = int(path[0].split("-")[0])
    doc: Doc = {"_id": doc_id, "_rev": path[0], "_revisions": {"start": pos, "ids": [r.split("-", 1)[1] for r in path]}}
    if deleted:
        doc["_deleted"] = True
    assert await store.bulk_docs([{**doc, **body}], new_edits=False) == []


async def get_error(store: Store, doc_id: str, opts: GetOptions | None = None) -> CouchError:
    with pytest.raises(CouchError) as info:
        await store.get(doc_id, opts or GetOptions())
    return info.value


def ids(feed: Doc) -> list[str]:
    return [row["id"] for row in feed["results"]]


def md5_digest(data: bytes) -> str:
    return "md5-" + base64.b64encode(hashlib.md5(data).digest()).decode()


async def read_all(store: Store, doc_id: str, name: str, rev: str | None = None) -> bytes:
    body = await store.read_attachment(doc_id, name, rev)
    return b"".join([chunk async for chunk in body.chunks])


# -- info and new_edits=true -------------------------------------------------------------------------


async def test_info_counts_and_update_seq_move(store: Store) -> None:
    empty = await store.info()
    assert (empty["doc_count"], empty["doc_del_count"]) == (0, 0)
    rev = await put(store, {"_id": A, "type": "self_check"})
    await put(store, {"_id": B, "type": "self_check"})
    two = await store.info()
    assert (two["doc_count"], two["doc_del_count"]) == (2, 0)
    assert two["update_seq"] != empty["update_seq"]
    await put(store, {"_id": A, "_rev": rev, "_deleted": True})
    one = await store.info()
    assert (one["doc_count"], one["doc_del_count"]) == (1, 1)
    assert one["update_seq"] != two["update_seq"]


async def test_create_update_and_conflict(store: Store) -> None:
    rev1 = await put(store, {"_id": A, "type": "self_check", "answers": {"open_flame": {"value": False}}})
    assert rev1.startswith("1-")
    doc = await store.get(A, GetOptions())
    assert doc == {"_id": A, "_rev": rev1, "type": "self_check", "answers": {"open_flame": {"value": False}}}
    rev2 = await put(store, {**doc, "note": "second"})
    assert rev2.startswith("2-")
    assert (await store.get(A, GetOptions()))["note"] == "second"
    stale, blind = await store.bulk_docs([{**doc, "note": "stale"}, {"_id": B}])
    assert stale["id"] == A and stale["error"] == "conflict"
    assert blind.get("ok") is True
    [again] = await store.bulk_docs([{"_id": B, "v": 2}])  # an existing id without `_rev`
    assert again["error"] == "conflict"
    assert (await store.get(A, GetOptions()))["_rev"] == rev2


async def test_missing_document(store: Store) -> None:
    err = await get_error(store, sid("NOPE"))
    assert (err.status, err.error, err.reason) == (404, "not_found", "missing")


async def test_delete_leaves_a_readable_tombstone_and_recreate(store: Store) -> None:
    rev1 = await put(store, {"_id": A, "type": "self_check"})
    rev2 = await put(store, {"_id": A, "_rev": rev1, "_deleted": True})
    err = await get_error(store, A)
    assert (err.status, err.error, err.reason) == (404, "not_found", "deleted")
    tomb = await store.get(A, GetOptions(rev=rev2))
    assert tomb["_deleted"] is True and tomb["_rev"] == rev2
    rev3 = await put(store, {"_id": A, "type": "self_check", "again": True})
    assert int(rev3.split("-")[0]) == int(rev2.split("-")[0]) + 1
    assert (await store.get(A, GetOptions()))["again"] is True


# -- new_edits=false: revision trees -------------------------------------------------------------------


async def test_not_deleted_beats_a_longer_deleted_branch(store: Store) -> None:
    await replicate(store, A, ["2-bbb", "1-aaa"], v="live")
    await replicate(store, A, ["3-ddd", "2-ccc", "1-aaa"], deleted=True)
    doc = await store.get(A, GetOptions(conflicts=True, deleted_conflicts=True))
    assert doc["_rev"] == "2-bbb" and doc["v"] == "live"
    assert "_conflicts" not in doc
    assert doc["_deleted_conflicts"] == ["3-ddd"]


async def test_longer_path_then_greater_rev_wins(store: Store) -> None:
    await replicate(store, A, ["2-zzz", "1-aaa"], v="short")
    await replicate(store, A, ["3-bbb", "2-bbb", "1-aaa"], v="long")
    doc = await store.get(A, GetOptions(conflicts=True))
    assert (doc["_rev"], doc["v"], doc["_conflicts"]) == ("3-bbb", "long", ["2-zzz"])
    # Same length: the greater rev string wins, whatever order the branches came in.
    for order in (["2-ccc", "2-bbb"], ["2-bbb", "2-ccc"]):
        doc_id = sid("W" + order[0][-1].upper())
        for rev in order:
            await replicate(store, doc_id, [rev, "1-aaa"], v=rev)
        doc = await store.get(doc_id, GetOptions(conflicts=True))
        assert (doc["_rev"], doc["v"], doc["_conflicts"]) == ("2-ccc", "2-ccc", ["2-bbb"])


async def test_new_edits_false_is_idempotent_and_answers_nothing(store: Store) -> None:
    await replicate(store, A, ["2-bbb", "1-aaa"], v=1)
    await replicate(store, A, ["2-bbb", "1-aaa"], v=1)
    feed = await store.changes(ChangesQuery(all_docs=True))
    assert [[c["rev"] for c in r["changes"]] for r in feed["results"]] == [["2-bbb"]]


async def test_revs_and_revs_info(store: Store) -> None:
    await replicate(store, A, ["3-ccc", "2-bbb", "1-aaa"], v=3)
    doc = await store.get(A, GetOptions(revs=True, revs_info=True))
    assert doc["_revisions"] == {"start": 3, "ids": ["ccc", "bbb", "aaa"]}
    assert [i["rev"] for i in doc["_revs_info"]] == ["3-ccc", "2-bbb", "1-aaa"]
    assert doc["_revs_info"][0]["status"] == "available"
    # Ancestors that were only named in `_revisions` never had a body here.
    assert [i["status"] for i in doc["_revs_info"][1:]] == ["missing", "missing"]


async def test_open_revs(store: Store) -> None:
    await replicate(store, A, ["2-bbb", "1-aaa"], v="b")
    await replicate(store, A, ["2-ccc", "1-aaa"], deleted=True)
    every = await store.open_revs(A, None, GetOptions())
    assert {e["ok"]["_rev"]: e["ok"].get("_deleted", False) for e in every} == {"2-bbb": False, "2-ccc": True}
    some = await store.open_revs(A, ["2-bbb", "9-zzz"], GetOptions(revs=True))
    assert len(some) == 2
    [ok] = [e["ok"] for e in some if "ok" in e]
    assert (ok["_rev"], ok["v"], ok["_revisions"]) == ("2-bbb", "b", {"start": 2, "ids": ["bbb", "aaa"]})
    assert [e for e in some if "ok" not in e] == [{"missing": "9-zzz"}]


async def test_open_revs_latest_on_an_ancestor_gives_the_leaf(store: Store) -> None:
    rev1 = await put(store, {"_id": A, "v": 1})
    rev2 = await put(store, {"_id": A, "_rev": rev1, "v": 2})
    rev3 = await put(store, {"_id": A, "_rev": rev2, "v": 3})
    [entry] = await store.open_revs(A, [rev1], GetOptions(latest=True))
    assert (entry["ok"]["_rev"], entry["ok"]["v"]) == (rev3, 3)
    assert (await store.get(A, GetOptions(rev=rev2, latest=True)))["_rev"] == rev3
    with_missing = await store.open_revs(A, [rev2, "9-zzz"], GetOptions(latest=True))
    assert sorted(with_missing, key=str) == [{"missing": "9-zzz"}, {"ok": {"_id": A, "_rev": rev3, "v": 3}}]
    err = await get_error(store, A, GetOptions(rev="9-zzz", latest=True))
    assert (err.status, err.error) == (404, "not_found")


async def test_revs_diff(store: Store) -> None:
    rev1 = await put(store, {"_id": A, "v": 1})
    rev2 = await put(store, {"_id": A, "_rev": rev1, "v": 2})
    await replicate(store, B, ["1-aaa"])
    diff = await store.revs_diff({A: [rev1, rev2, "3-ccc"], B: ["1-aaa"], C: ["1-xxx", "2-yyy"]})
    assert set(diff) == {A, C}
    assert diff[A]["missing"] == ["3-ccc"]
    assert diff[A]["possible_ancestors"] == [rev2]
    assert sorted(diff[C]["missing"]) == ["1-xxx", "2-yyy"]
    assert not diff[C].get("possible_ancestors")
    # A revision sent malformed is missing like any other (a phone's bug, never the server's error).
    assert await store.revs_diff({A: ["garbage"]}) == {A: {"missing": ["garbage"]}}


async def test_one_unreadable_document_is_answered_alone_and_the_rest_written(store: Store) -> None:
    docs = [{"_id": A, "v": 1}, {"_id": B, "_rev": "garbage", "v": 2}, {"_id": C, "v": 3}]
    good_a, bad, good_c = await store.bulk_docs(docs)
    assert good_a["ok"] and good_c["ok"], (good_a, good_c)
    assert (bad["id"], bad["error"]) == (B, "bad_request"), bad
    assert (await store.get(A, GetOptions()))["v"] == 1 and (await store.get(C, GetOptions()))["v"] == 3
    assert (await get_error(store, B)).status == 404
    stub = {"_id": D, "_rev": "1-abc", "_revisions": {"start": 1, "ids": ["abc"]}}
    stub["_attachments"] = {"p.jpg": {"content_type": "image/jpeg", "stub": True, "digest": "md5-AAAA", "revpos": 1}}
    replicated = [{"_id": sid("E"), "_rev": "1-e", "_revisions": {"start": 1, "ids": ["e"]}}, stub]
    [refused] = await store.bulk_docs(replicated, new_edits=False)
    assert refused["id"] == D and "error" in refused, refused
    assert (await store.get(sid("E"), GetOptions()))["_rev"] == "1-e"


async def test_bulk_get(store: Store) -> None:
    rev_a = await put(store, {"_id": A, "v": "a"})
    rev_b1 = await put(store, {"_id": B, "v": 1})
    rev_b2 = await put(store, {"_id": B, "_rev": rev_b1, "v": 2})
    requests = [{"id": A, "rev": rev_a}, {"id": B, "rev": rev_b1}, {"id": C}, {"id": A, "rev": "9-zzz"}]
    results = await store.bulk_get(requests, revs=True, latest=True)
    assert [r["id"] for r in results] == [A, B, C, A]
    assert all(len(r["docs"]) == 1 for r in results)
    first, latest, missing_doc, missing_rev = (r["docs"][0] for r in results)
    assert (first["ok"]["_rev"], first["ok"]["v"], first["ok"]["_revisions"]["start"]) == (rev_a, "a", 1)
    assert (latest["ok"]["_rev"], latest["ok"]["v"]) == (rev_b2, 2)
    assert latest["ok"]["_revisions"]["start"] == 2
    assert (missing_doc["error"]["id"], missing_doc["error"]["error"]) == (C, "not_found")
    assert (missing_rev["error"]["rev"], missing_rev["error"]["error"]) == ("9-zzz", "not_found")


# -- changes ---------------------------------------------------------------------------------------------


async def test_changes_since_and_limit(store: Store) -> None:
    rev_a = await put(store, {"_id": A})
    await put(store, {"_id": B})
    await put(store, {"_id": C})
    feed = await store.changes(ChangesQuery())
    assert ids(feed) == [A, B, C]
    assert ids(await store.changes(ChangesQuery(since=feed["results"][0]["seq"]))) == [B, C]
    await put(store, {"_id": A, "_rev": rev_a, "v": 2})  # an update moves the document to the end
    assert ids(await store.changes(ChangesQuery(since=feed["last_seq"]))) == [A]
    page = await store.changes(ChangesQuery(limit=2))
    assert ids(page) == [B, C]
    rest = await store.changes(ChangesQuery(since=page["last_seq"], limit=2))
    assert ids(rest) == [A]
    assert ids(await store.changes(ChangesQuery(since=rest["last_seq"]))) == []


async def test_changes_all_docs_style_lists_every_leaf_winner_first(store: Store) -> None:
    await replicate(store, A, ["2-bbb", "1-aaa"], v="b")
    await replicate(store, A, ["2-ccc", "1-aaa"], v="c")
    await replicate(store, A, ["2-ddd", "1-aaa"], deleted=True)
    feed = await store.changes(ChangesQuery(all_docs=True, include_docs=True, conflicts=True))
    [row] = feed["results"]
    revs = [c["rev"] for c in row["changes"]]
    assert revs[0] == "2-ccc" and sorted(revs) == ["2-bbb", "2-ccc", "2-ddd"]
    assert (row["doc"]["_rev"], row["doc"]["v"], row["doc"]["_conflicts"]) == ("2-ccc", "c", ["2-bbb"])
    winner_only = await store.changes(ChangesQuery())
    assert [c["rev"] for c in winner_only["results"][0]["changes"]] == ["2-ccc"]


async def test_changes_deleted_flag_doc_ids_and_descending(store: Store) -> None:
    rev_a = await put(store, {"_id": A})
    await put(store, {"_id": B})
    await put(store, {"_id": C})
    await put(store, {"_id": A, "_rev": rev_a, "_deleted": True})
    feed = await store.changes(ChangesQuery(include_docs=True))
    assert ids(feed) == [B, C, A]
    assert feed["results"][2]["deleted"] is True and feed["results"][2]["doc"]["_deleted"] is True
    assert not feed["results"][0].get("deleted")
    assert ids(await store.changes(ChangesQuery(doc_ids=[C, A, D]))) == [C, A]
    assert ids(await store.changes(ChangesQuery(descending=True))) == [A, C, B]
    assert ids(await store.changes(ChangesQuery(descending=True, limit=1))) == [A]


async def test_changes_partitions_count_only_matching_rows_in_limit(store: Store) -> None:
    # Other shops first: a page of S1 rows must not come back short because of them, or the
    # replicator would take the short page for the end of the feed.
    await store.bulk_docs([{"_id": sid(str(i), shop="S2")} for i in range(5)])
    await put(store, {"_id": sid("X", shop="S10")})  # "S1" must not match the partition "S10"
    await store.bulk_docs([{"_id": sid(k)} for k in "ABC"])
    await put(store, {"_id": sid("Y", shop="district", kind="template")})
    page = await store.changes(ChangesQuery(partitions=frozenset({"S1"}), limit=2))
    assert ids(page) == [A, B]
    rest = await store.changes(ChangesQuery(partitions=frozenset({"S1"}), limit=2, since=page["last_seq"]))
    assert ids(rest) == [C]
    both = await store.changes(ChangesQuery(partitions=frozenset({"S1", "district"})))
    assert ids(both) == [A, B, C, sid("Y", shop="district", kind="template")]
    picked = await store.changes(ChangesQuery(partitions=frozenset({"S1", "S2"}), doc_ids=[B, sid("1", shop="S2")]))
    assert ids(picked) == [sid("1", shop="S2"), B]
    assert ids(await store.changes(ChangesQuery(partitions=frozenset()))) == []


async def test_changes_selector_alone_and_with_partitions(store: Store) -> None:
    await put(store, {"_id": sid("A"), "type": "self_check"})
    await put(store, {"_id": sid("B", kind="patrol"), "type": "patrol"})
    await put(store, {"_id": sid("C", shop="S2", kind="patrol"), "type": "patrol"})
    patrols = await store.changes(ChangesQuery(selector={"type": "patrol"}))
    assert ids(patrols) == [sid("B", kind="patrol"), sid("C", shop="S2", kind="patrol")]
    mine = await store.changes(ChangesQuery(selector={"type": "patrol"}, partitions=frozenset({"S2"}), limit=1))
    assert ids(mine) == [sid("C", shop="S2", kind="patrol")]


async def test_longpoll_returns_as_soon_as_another_task_writes(store: Store) -> None:
    now = (await store.changes(ChangesQuery()))["last_seq"]

    async def write_later() -> None:
        await asyncio.sleep(0.3)
        await put(store, {"_id": A})

    started = time.monotonic()
    writer = asyncio.create_task(write_later())
    feed = await store.changes(ChangesQuery(since=now, wait_ms=20_000))
    await writer
    assert ids(feed) == [A]
    assert time.monotonic() - started < 10


async def test_longpoll_returns_empty_after_the_wait(store: Store) -> None:
    await put(store, {"_id": A})
    now = (await store.changes(ChangesQuery()))["last_seq"]
    started = time.monotonic()
    feed = await store.changes(ChangesQuery(since=now, wait_ms=400))
    assert feed["results"] == []
    assert 0.3 <= time.monotonic() - started < 10
    await put(store, {"_id": B})
    assert ids(await store.changes(ChangesQuery(since=feed["last_seq"]))) == [B]


# -- local documents ----------------------------------------------------------------------------------


async def test_local_documents(store: Store) -> None:
    first = await store.put_local("ckpt-device1", {"last_seq": 1})
    assert (first["ok"], first["id"], first["rev"]) == (True, "_local/ckpt-device1", "0-1")
    assert await store.get_local("ckpt-device1") == {"_id": "_local/ckpt-device1", "_rev": "0-1", "last_seq": 1}
    second = await store.put_local("ckpt-device1", {"_rev": "0-1", "last_seq": 2})
    assert second["rev"] == "0-2"
    with pytest.raises(CouchError) as stale:
        await store.put_local("ckpt-device1", {"_rev": "0-1", "last_seq": 3})
    assert (stale.value.status, stale.value.error) == (409, "conflict")
    assert (await store.get_local("ckpt-device1"))["last_seq"] == 2
    # Local documents never replicate: not in changes, not in all_docs, not counted.
    assert (await store.changes(ChangesQuery()))["results"] == []
    assert (await store.all_docs(AllDocsQuery()))["rows"] == []
    assert (await store.info())["doc_count"] == 0
    deleted = await store.delete_local("ckpt-device1", "0-2")
    assert deleted["ok"] is True
    with pytest.raises(CouchError) as gone:
        await store.get_local("ckpt-device1")
    assert (gone.value.status, gone.value.error) == (404, "not_found")


# -- all_docs --------------------------------------------------------------------------------------------


async def seed_all_docs(store: Store) -> dict[str, str]:
    revs = {}
    for doc_id in [A, B, C, D, sid("Z", shop="S10"), sid("Q", shop="S2")]:
        revs[doc_id] = await put(store, {"_id": doc_id, "n": doc_id[-1]})
    revs[D] = await put(store, {"_id": D, "_rev": revs[D], "_deleted": True})
    return revs


def keys(result: Doc) -> list[str]:
    return [row["key"] for row in result["rows"]]


async def test_all_docs_ranges(store: Store) -> None:
    revs = await seed_all_docs(store)
    every = await store.all_docs(AllDocsQuery())
    assert keys(every) == sorted([A, B, C, sid("Z", shop="S10"), sid("Q", shop="S2")])
    assert every["rows"][keys(every).index(A)] == {"id": A, "key": A, "value": {"rev": revs[A]}}
    assert keys(await store.all_docs(AllDocsQuery(startkey=B, endkey=C))) == [B, C]
    assert keys(await store.all_docs(AllDocsQuery(startkey=B, endkey=C, inclusive_end=False))) == [B]
    assert keys(await store.all_docs(AllDocsQuery(startkey=C, endkey=A, descending=True))) == [C, B, A]
    shop = AllDocsQuery(startkey="S1:", endkey="S1:\ufff0")
    assert keys(await store.all_docs(shop)) == [A, B, C]
    paged = AllDocsQuery(startkey="S1:", endkey="S1:\ufff0", limit=1, skip=1, include_docs=True)
    [row] = (await store.all_docs(paged))["rows"]
    assert (row["key"], row["doc"]["n"], row["doc"]["_rev"]) == (B, "B", revs[B])


async def test_all_docs_keys_with_missing_and_deleted(store: Store) -> None:
    revs = await seed_all_docs(store)
    missing = sid("NOPE")
    result = await store.all_docs(AllDocsQuery(keys=[C, missing, D, A], include_docs=True))
    rows = {row["key"]: row for row in result["rows"]}
    assert [row["key"] for row in result["rows"]] == [C, missing, D, A]
    assert rows[missing]["error"] == "not_found" and "value" not in rows[missing]
    assert rows[D]["value"] == {"rev": revs[D], "deleted": True} and rows[D]["doc"] is None
    assert rows[C]["doc"]["n"] == "C"


async def test_all_docs_keys_outside_the_partitions_answer_as_missing_in_their_place(store: Store) -> None:
    revs = await seed_all_docs(store)
    other = sid("Q", shop="S2")
    result = await store.all_docs(AllDocsQuery(keys=[other, A, "nope", C], partitions=frozenset({"S1"})))
    assert result["rows"] == [
        {"key": other, "error": "not_found"},
        {"id": A, "key": A, "value": {"rev": revs[A]}},
        {"key": "nope", "error": "not_found"},
        {"id": C, "key": C, "value": {"rev": revs[C]}},
    ]
    paged = await store.all_docs(AllDocsQuery(keys=[other, A, C], partitions=frozenset({"S1"}), skip=1, limit=1))
    assert [row["key"] for row in paged["rows"]] == [A]


async def test_all_docs_keys_descending_answers_them_backwards_then_skips_and_limits(store: Store) -> None:
    # CouchDB 3 (fabric_view_all_docs.erl): the keys reversed for `descending`, then `skip`, then `limit`.
    revs = await seed_all_docs(store)
    missing = sid("NOPE")
    asked = [C, missing, D, A]
    result = await store.all_docs(AllDocsQuery(keys=asked, descending=True, include_docs=True))
    assert keys(result) == [A, D, missing, C]
    assert [row.get("value") for row in result["rows"]] == [
        {"rev": revs[A]},
        {"rev": revs[D], "deleted": True},
        None,
        {"rev": revs[C]},
    ]
    assert result["rows"][0]["doc"]["n"] == "A" and result["rows"][3]["doc"]["n"] == "C"
    assert keys(await store.all_docs(AllDocsQuery(keys=asked, descending=True, limit=2))) == [A, D]
    assert keys(await store.all_docs(AllDocsQuery(keys=asked, descending=True, skip=3))) == [C]
    # A key outside the partitions is missing in its place, counted by `limit` as CouchDB counts any key.
    other = sid("Q", shop="S2")
    scoped = AllDocsQuery(keys=[A, other, B, C], partitions=frozenset({"S1"}), descending=True, limit=3)
    assert (await store.all_docs(scoped))["rows"] == [
        {"id": C, "key": C, "value": {"rev": revs[C]}},
        {"id": B, "key": B, "value": {"rev": revs[B]}},
        {"key": other, "error": "not_found"},
    ]


async def test_all_docs_include_docs_with_conflicts(store: Store) -> None:
    await replicate(store, A, ["2-bbb", "1-aaa"], v="b")
    await replicate(store, A, ["2-ccc", "1-aaa"], v="c")
    [row] = (await store.all_docs(AllDocsQuery(include_docs=True, conflicts=True)))["rows"]
    assert (row["value"], row["doc"]["v"], row["doc"]["_conflicts"]) == ({"rev": "2-ccc"}, "c", ["2-bbb"])


async def test_all_docs_partitions_limit_counts_only_their_rows(store: Store) -> None:
    await seed_all_docs(store)
    s1_s2 = frozenset({"S1", "S2"})
    result = await store.all_docs(AllDocsQuery(partitions=s1_s2, limit=4))
    assert keys(result) == [A, B, C, sid("Q", shop="S2")]
    result = await store.all_docs(AllDocsQuery(partitions=s1_s2, descending=True, limit=2))
    assert keys(result) == [sid("Q", shop="S2"), C]
    result = await store.all_docs(AllDocsQuery(partitions=s1_s2, startkey=B, skip=1, limit=5))
    assert keys(result) == [C, sid("Q", shop="S2")]
    assert keys(await store.all_docs(AllDocsQuery(partitions=frozenset()))) == []


# -- attachments ----------------------------------------------------------------------------------------


PHOTO = os.urandom(200_000)


def photo_doc(doc_id: str, data: bytes = PHOTO, **body: Any) -> Doc:
    att = {"content_type": "image/jpeg", "data": base64.b64encode(data).decode()}
    return {"_id": doc_id, "type": "photo", "_attachments": {"photo.jpg": att}, **body}


async def test_a_range_with_its_documents_gives_each_as_a_get_does(store: Store) -> None:
    """The office's and the validators' reads are key ranges with their documents: each row's document is the one a
    GET gives (winner of a conflict, every attachment's stub, no deleted document, the live losing leaves when
    asked), in either direction."""
    await replicate(store, A, ["2-bbb", "1-aaa"], v="b")
    await replicate(store, A, ["2-ccc", "1-aaa"], v="c")
    await replicate(store, A, ["2-aab", "1-aaa"], v="a")
    await replicate(store, A, ["3-ddd", "2-ddd", "1-aaa"], deleted=True)  # a deleted leaf: no conflict
    photo = sid("P", kind="photo")
    two = photo_doc(photo, PHOTO[:1000])
    two["_attachments"]["a-first.jpg"] = {"content_type": "image/png", "data": base64.b64encode(b"png").decode()}
    await put(store, two)
    gone = await put(store, {"_id": C, "n": "C"})
    assert (await store.bulk_docs([{"_id": C, "_rev": gone, "_deleted": True}]))[0]["ok"]
    await put(store, {"_id": B, "n": "B"})
    for descending in (False, True):
        lo, hi = "S1:", "S1:\ufff0"
        query = AllDocsQuery(startkey=hi if descending else lo, endkey=lo if descending else hi, descending=descending)
        rows = (await store.all_docs(replace(query, include_docs=True)))["rows"]
        assert [row["id"] for row in rows] == sorted([A, B, photo], reverse=descending)  # C is deleted
        for row in rows:
            assert row["doc"] == await store.get(row["id"], GetOptions()), row["id"]
            assert row["value"] == {"rev": row["doc"]["_rev"]}
        photo_row = next(row for row in rows if row["id"] == photo)
        assert sorted(photo_row["doc"]["_attachments"]) == ["a-first.jpg", "photo.jpg"]
        assert "_conflicts" not in next(row for row in rows if row["id"] == A)["doc"]
        # With `conflicts`, as a GET with conflicts (in the backend's order): the losing live leaves.
        rows = (await store.all_docs(replace(query, include_docs=True, conflicts=True)))["rows"]
        for row in rows:
            assert row["doc"] == await store.get(row["id"], GetOptions(conflicts=True)), row["id"]
        assert sorted(next(row for row in rows if row["id"] == A)["doc"]["_conflicts"]) == ["2-aab", "2-bbb"]
        assert all("_conflicts" not in row["doc"] for row in rows if row["id"] != A)


async def test_inline_attachment_becomes_a_stub_and_streams_back(store: Store) -> None:
    doc_id = sid("P", kind="photo")
    rev = await put(store, photo_doc(doc_id))
    doc = await store.get(doc_id, GetOptions())
    assert doc["_attachments"] == {
        "photo.jpg": {
            "content_type": "image/jpeg",
            "digest": md5_digest(PHOTO),
            "length": len(PHOTO),
            "revpos": 1,
            "stub": True,
        }
    }
    full = await store.get(doc_id, GetOptions(attachments=True))
    assert base64.b64decode(full["_attachments"]["photo.jpg"]["data"]) == PHOTO
    body = await store.read_attachment(doc_id, "photo.jpg")
    assert (body.content_type, body.length, body.digest) == ("image/jpeg", len(PHOTO), md5_digest(PHOTO))
    assert b"".join([chunk async for chunk in body.chunks]) == PHOTO
    assert await read_all(store, doc_id, "photo.jpg", rev) == PHOTO
    with pytest.raises(CouchError) as missing:
        await store.read_attachment(doc_id, "other.jpg")
    assert (missing.value.status, missing.value.error) == (404, "not_found")


async def test_an_attachment_read_for_a_head_says_its_size_and_reads_no_body(store: Store) -> None:
    """`body=False` answers what a HEAD says; on CouchDB the body was fetched to be dropped, a photo's worth of
    traffic from the cluster per HEAD."""
    doc_id = sid("P", kind="photo")
    rev = await put(store, photo_doc(doc_id))
    fetched: list[str] = []
    if isinstance(store, CouchStore):
        send = store._http.send

        async def counting(request: httpx.Request, **kwargs: Any) -> httpx.Response:
            fetched.append(request.url.path)
            return await send(request, **kwargs)

        store._http.send = counting  # type: ignore[method-assign]
    for asked in (None, rev):
        head = await store.read_attachment(doc_id, "photo.jpg", asked, body=False)
        assert (head.content_type, head.length, head.digest) == ("image/jpeg", len(PHOTO), md5_digest(PHOTO))
        assert [chunk async for chunk in head.chunks] == []
    assert not [path for path in fetched if path.endswith("/photo.jpg")]
    with pytest.raises(CouchError) as missing:
        await store.read_attachment(doc_id, "other.jpg", body=False)
    assert (missing.value.status, missing.value.error) == (404, "not_found")
    assert await read_all(store, doc_id, "photo.jpg") == PHOTO  # and the body is still there to read


async def test_attachment_stub_kept_across_update_and_removed_by_update(store: Store) -> None:
    doc_id = sid("P", kind="photo")
    await put(store, photo_doc(doc_id))
    doc = await store.get(doc_id, GetOptions())  # the stub as a client keeps it, with its digest
    rev2 = await put(store, {**doc, "note": "kept"})
    kept = await store.get(doc_id, GetOptions())
    assert kept["_attachments"]["photo.jpg"]["revpos"] == 1
    assert kept["_attachments"]["photo.jpg"]["digest"] == md5_digest(PHOTO)
    assert await read_all(store, doc_id, "photo.jpg") == PHOTO
    await put(store, {"_id": doc_id, "_rev": rev2, "type": "photo", "note": "dropped"})
    assert "_attachments" not in await store.get(doc_id, GetOptions())
    with pytest.raises(CouchError) as gone:
        await store.read_attachment(doc_id, "photo.jpg")
    assert (gone.value.status, gone.value.error) == (404, "not_found")


async def test_same_bytes_in_two_documents(store: Store) -> None:
    one, two = sid("P1", kind="photo"), sid("P2", kind="photo")
    await put(store, photo_doc(one))
    rev = await put(store, photo_doc(two))
    await put(store, {"_id": two, "_rev": rev, "_deleted": True})
    assert await read_all(store, one, "photo.jpg") == PHOTO
    assert (await store.get(one, GetOptions()))["_attachments"]["photo.jpg"]["digest"] == md5_digest(PHOTO)


async def test_replicated_document_with_inline_attachment(store: Store) -> None:
    doc_id = sid("R", kind="photo")
    small = b"\xff\xd8\xff\xe0 tiny jpeg"
    doc = photo_doc(doc_id, small)
    doc["_attachments"]["photo.jpg"]["revpos"] = 2
    await replicate(store, doc_id, ["2-bbb", "1-aaa"], **{k: v for k, v in doc.items() if k != "_id"})
    stub = (await store.get(doc_id, GetOptions()))["_attachments"]["photo.jpg"]
    assert (stub["digest"], stub["length"], stub["revpos"]) == (md5_digest(small), len(small), 2)
    assert await read_all(store, doc_id, "photo.jpg") == small
    results = await store.bulk_get([{"id": doc_id, "rev": "2-bbb"}], revs=True, attachments=True)
    ok = results[0]["docs"][0]["ok"]
    assert base64.b64decode(ok["_attachments"]["photo.jpg"]["data"]) == small
