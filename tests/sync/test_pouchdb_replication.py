"""A real PouchDB 9 client replicates through the gateway: what phones send arrives whole, what they pull is
what was sent, and it is what the same client gets from a CouchDB-protocol reference server."""

from __future__ import annotations

import hashlib
import random
import time
from typing import Any
from urllib.parse import quote

import httpx

from tests.gateway import Gateway
from tests.pouch import Json, PouchSession, Remote, attachment, checked, md5_digest, self_check, ulid


def _hash(label: str) -> str:
    return hashlib.md5(label.encode(), usedforsecurity=False).hexdigest()


def _put(pouch: PouchSession, db: str, docs: list[Json], new_edits: bool = True) -> list[str]:
    out = checked(pouch.run({"op": "put", "db": db, "docs": docs, "new_edits": new_edits}), f"put into {db}")
    return [r.get("rev", "") for r in out["results"]]


def _branch(
    doc_id: str, path: list[str], body: Json, deleted: bool = False, atts: dict[str, Json] | None = None
) -> Json:
    """A leaf written with new_edits=false: `path` lists labels from the root down to the leaf."""
    ids = [_hash(f"{doc_id}/{label}") for label in reversed(path)]
    doc: Json = {"_id": doc_id, "_rev": f"{len(path)}-{ids[0]}", "_revisions": {"start": len(path), "ids": ids}, **body}
    if deleted:
        doc["_deleted"] = True
    if atts:
        doc["_attachments"] = atts
    return doc


class History:
    """What a phone's database holds after a season of use; `blobs` are the attachment bytes by (id, name)."""

    def __init__(self) -> None:
        self.blobs: dict[tuple[str, str], bytes] = {}
        self.ids: list[str] = []


def build_history(pouch: PouchSession, db: str, seed: int = 7) -> History:
    """Self-checks, photos, updates (a long chain, one keeping its attachment), deletions, a re-creation,
    and conflicts written as replication does (new_edits=false), deleted conflicts and all-deleted docs."""
    rng = random.Random(seed)
    h = History()
    checks = [self_check(shop, rng, i) for i, shop in enumerate(["S0001", "S0002", "S0003"] * 4)]
    revs = _put(pouch, db, checks)

    big = bytes(range(256)) * 600 + rng.randbytes(100_000)  # every byte value, ~250 KB like a phone photo
    small, tiny = rng.randbytes(3000), b"\x00\xff\x00"
    photo: Json = {
        "_id": f"S0001:photo:{ulid(rng, 1_764_000_000_000)}",
        "type": "photo",
        "schema": 1,
        "shop": "S0001",
        "taken_at": "2026-11-28T09:31:00+08:00",
        "_attachments": {"photo.jpg": attachment(big)},
    }
    pair: Json = {
        "_id": f"S0002:photo:{ulid(rng, 1_764_000_000_000)}",
        "type": "photo",
        "schema": 1,
        "shop": "S0002",
        "_attachments": {
            "a.webp": attachment(small, "image/webp"),
            "b.jpg": attachment(tiny),
            "现场 照片#1.jpg": attachment(small[::-1]),  # a name that must be escaped in a URL
        },
    }
    _put(pouch, db, [photo, pair])
    h.blobs |= {
        (photo["_id"], "photo.jpg"): big,
        (pair["_id"], "a.webp"): small,
        (pair["_id"], "b.jpg"): tiny,
        (pair["_id"], "现场 照片#1.jpg"): small[::-1],
    }

    # A long chain of edits, then an edit that keeps the attachment as a stub.
    doc, rev = dict(checks[0]), revs[0]
    for n in range(25):
        doc |= {"_rev": rev, "edit": n}
        [rev] = _put(pouch, db, [doc])
    got = checked(pouch.run({"op": "get", "db": db, "id": photo["_id"]}))["doc"]
    _put(pouch, db, [{**got, "note": "补拍"}])
    # A deletion, and a deletion followed by a re-creation.
    _put(pouch, db, [{"_id": checks[1]["_id"], "_rev": revs[1], "_deleted": True}])
    [gone] = _put(pouch, db, [{"_id": checks[2]["_id"], "_rev": revs[2], "_deleted": True}])
    _put(pouch, db, [{**checks[2], "recreated": True}])

    # Conflicts as two phones would make them, written the way replication writes (new_edits=false).
    c1, c2, c3, c4 = (
        f"S0003:{t}:{ulid(rng, 1_764_000_000_000)}" for t in ("patrol", "rectification", "verification", "photo")
    )
    img1, img2 = rng.randbytes(5000), rng.randbytes(7000)
    _put(
        pouch,
        db,
        [
            _branch(c1, ["a"], {"v": "root"}),
            _branch(c1, ["a", "b"], {"v": "phone b"}),
            _branch(c1, ["a", "c"], {"v": "phone c", "中文": "检查"}),
            _branch(c2, ["a", "b", "d"], {}, deleted=True),  # a longer, deleted branch loses to a live one
            _branch(c2, ["a", "e"], {"v": "live"}),
            _branch(c3, ["a", "b"], {}, deleted=True),  # every leaf deleted: the document is deleted
            _branch(c3, ["a", "c"], {"why": "duplicate"}, deleted=True),
            _branch(c4, ["a", "b"], {"v": 1}, atts={"x.jpg": attachment(img1)}),
            _branch(c4, ["a", "c"], {"v": 2}, atts={"y.png": attachment(img2, "image/png")}),
        ],
        new_edits=False,
    )
    h.blobs |= {(c4, "x.jpg"): img1, (c4, "y.png"): img2}
    h.ids = [d["_id"] for d in checks] + [photo["_id"], pair["_id"], c1, c2, c3, c4]
    assert gone.startswith("2-")
    return h


def comparable(dump: Json, revpos: bool = True) -> dict[str, Any]:
    """A replica's documents with what must be equal across replicas (not the local sequence numbers).

    PouchDB's memory (leveldb-core) adapter sets an attachment's `revpos` to the revision that brought its
    bytes whenever it stores them (`saveAttachment`), so a phone that pulled a document shows a later
    `revpos` than the phone that kept the attachment as a stub across edits, whatever the server. Compare
    `revpos` only between replicas made the same way (`revpos=True`), not with the source.
    """
    skip = {"data"} if revpos else {"data", "revpos"}
    out: dict[str, Any] = {}
    for doc_id, d in checked(dump, "dump")["docs"].items():
        leaves = {
            rev: {
                **leaf,
                "attachments": {
                    n: {k: v for k, v in a.items() if k not in skip} for n, a in leaf["attachments"].items()
                },
            }
            for rev, leaf in d["leaves"].items()
        }
        out[doc_id] = {**d, "leaves": leaves}
    return out


def dump(pouch: PouchSession, db: str, revpos: bool = True) -> dict[str, Any]:
    return comparable(pouch.run({"op": "dump", "db": db}), revpos)


def comparable_without_revpos(replica: dict[str, Any]) -> dict[str, Any]:
    return comparable({"ok": True, "docs": replica}, revpos=False)


def assert_same_replica(got: dict[str, Any], want: dict[str, Any], what: str) -> None:
    assert sorted(got) == sorted(want), f"{what}: different document ids"
    for doc_id in want:
        assert got[doc_id] == want[doc_id], f"{what}: {doc_id} differs"


def gateway_leaves(client: httpx.Client, doc_id: str) -> dict[str, Json]:
    """Every leaf of a document as the gateway serves it over HTTP (open_revs=all, revs=true)."""
    resp = client.get(
        f"/sync/{doc_id}", params={"open_revs": "all", "revs": "true"}, headers={"Accept": "application/json"}
    )
    assert resp.status_code == 200, resp.text
    leaves: dict[str, Json] = {}
    for item in resp.json():
        doc = item["ok"]
        leaves[doc["_rev"]] = {
            "deleted": doc.get("_deleted", False),
            "revisions": doc["_revisions"],
            "body": {k: v for k, v in doc.items() if not k.startswith("_")},
            "attachments": {n: (a["digest"], a["revpos"]) for n, a in doc.get("_attachments", {}).items()},
        }
    return leaves


def served_leaves(remote: Remote, doc_id: str) -> dict[str, Json]:
    """`GET {db}/{id}?open_revs=all&revs=true` as JSON: each leaf as the server stores it, stubs included.

    Without the stubs' `revpos`: pouchdb-server's adapter rewrites it to the revision that brought the bytes,
    where the gateway keeps the one the client sent, as CouchDB does (checked in the push test).
    """
    headers = {"Accept": "application/json"}
    if remote.token:
        headers["Authorization"] = f"Bearer {remote.token}"
    resp = httpx.get(f"{remote.url}/{quote(doc_id)}", params={"open_revs": "all", "revs": "true"}, headers=headers)
    assert resp.status_code == 200, resp.text
    leaves = {}
    for item in resp.json():
        doc = item["ok"]
        for stub in doc.get("_attachments", {}).values():
            stub.pop("revpos", None)
        leaves[doc["_rev"]] = doc
    return leaves


# ----- push -----


def test_push_lands_every_revision_and_every_byte(
    pouch: PouchSession, gateway: Gateway, gateway_remote: Remote
) -> None:
    history = build_history(pouch, "phone")
    pushed = checked(pouch.run(gateway_remote.step("push", db="phone")), "push")
    assert pushed["doc_write_failures"] == 0 and pushed["docs_written"] == pushed["docs_read"] > 0

    local = dump(pouch, "phone")
    with gateway.client() as client:
        for doc_id, d in local.items():
            want = {
                rev: {
                    "deleted": leaf["deleted"],
                    "revisions": leaf["revisions"],
                    "body": leaf["body"],
                    "attachments": {n: (a["digest"], a["revpos"]) for n, a in leaf["attachments"].items()},
                }
                for rev, leaf in d["leaves"].items()
            }
            got = gateway_leaves(client, doc_id)
            if gateway.rewrites_revpos:
                for leaves in (got, want):
                    for leaf in leaves.values():
                        leaf["attachments"] = {n: digest for n, (digest, _revpos) in leaf["attachments"].items()}
            assert got == want, doc_id
        for (doc_id, name), data in history.blobs.items():
            rev = next(r for r, leaf in local[doc_id]["leaves"].items() if name in leaf["attachments"])
            resp = client.get(f"/sync/{doc_id}/{quote(name)}", params={"rev": rev})
            assert resp.status_code == 200, resp.text
            assert resp.content == data, f"{doc_id}/{name}: bytes differ"
            assert resp.headers["etag"].strip('"') == md5_digest(data)
            assert local[doc_id]["leaves"][rev]["attachments"][name]["digest"] == md5_digest(data)

    again = checked(pouch.run(gateway_remote.step("push", db="phone")), "second push")
    assert again["docs_read"] == 0 and again["docs_written"] == 0  # the checkpoint held


# ----- pull -----


def test_a_fresh_phone_pulls_exactly_what_was_pushed(pouch: PouchSession, gateway_remote: Remote) -> None:
    history = build_history(pouch, "phone_a")
    checked(pouch.run(gateway_remote.step("push", db="phone_a")), "push")
    pulled = checked(pouch.run(gateway_remote.step("pull", db="phone_b", batch_size=200)), "pull")
    assert pulled["doc_write_failures"] == 0 and pulled["docs_written"] > 0

    a, b = dump(pouch, "phone_a", revpos=False), dump(pouch, "phone_b", revpos=False)
    assert_same_replica(b, a, "pulled replica")
    raw = checked(pouch.run({"op": "dump", "db": "phone_b"}))["docs"]
    for (doc_id, name), data in history.blobs.items():
        holders = [leaf for leaf in raw[doc_id]["leaves"].values() if name in leaf["attachments"]]
        assert holders, f"{doc_id}/{name} was not pulled"
        att = holders[0]["attachments"][name]
        assert att["sha256"] == hashlib.sha256(data).hexdigest() and att["digest"] == md5_digest(data)
    assert b[history.ids[1]]["deleted"] and not b[history.ids[2]]["deleted"]
    assert len(b[history.ids[0]]["revisions"]["ids"]) == 26


def test_incremental_pull_fetches_only_the_new_changes(pouch: PouchSession, gateway_remote: Remote) -> None:
    rng = random.Random(3)
    first = [self_check(f"S{i % 5 + 1:04d}", rng, i) for i in range(20)]
    checked(pouch.run(gateway_remote.step("push", db="phone_a", docs=first)), "push")
    one = checked(pouch.run(gateway_remote.step("pull", db="phone_b", batch_size=200)), "first pull")
    assert one["docs_written"] == 20

    more = [self_check("S0009", rng, 100 + i) for i in range(5)]
    revs = _put(pouch, "phone_a", more)
    _put(
        pouch,
        "phone_a",
        [{**more[0], "_rev": revs[0], "note": "updated"}, {"_id": more[1]["_id"], "_rev": revs[1], "_deleted": True}],
    )
    checked(pouch.run(gateway_remote.step("push", db="phone_a")), "second push")

    two = checked(pouch.run(gateway_remote.step("pull", db="phone_b", batch_size=200)), "second pull")
    assert two["docs_read"] == 5 and two["docs_written"] == 5, two
    assert two["requests"]["changes"][0]["since"] == str(one["last_seq"]), "the pull did not resume"
    assert two["requests"]["total"] <= 10, two["requests"]
    three = checked(pouch.run(gateway_remote.step("pull", db="phone_b", batch_size=200)), "third pull")
    assert three["docs_read"] == 0 and three["docs_written"] == 0
    assert_same_replica(dump(pouch, "phone_b"), dump(pouch, "phone_a"), "after incremental pulls")


def test_live_pull_delivers_documents_as_they_are_written(
    pouch: PouchSession, gateway: Gateway, gateway_remote: Remote
) -> None:
    rng = random.Random(5)
    docs = [self_check("S0002", rng, i) for i in range(5)]
    pouch.send(
        gateway_remote.step(
            "live_pull",
            db="office",
            batch_size=200,
            expect_ids=[d["_id"] for d in docs],
            timeout_ms=20_000,
            options={"heartbeat": 500},
        )
    )
    assert pouch.receive(timeout=20).get("event") == "live"
    acked: dict[str, float] = {}
    with gateway.client() as client:
        for i, doc in enumerate(docs):
            time.sleep(1.5 if i == 0 else 0.3)  # idle first: the feed waits, with heartbeats, for the first one
            resp = client.put(f"/sync/{doc['_id']}", json=doc)
            assert resp.status_code == 201, resp.text
            acked[doc["_id"]] = time.time() * 1000
    result = pouch.receive(timeout=40)
    assert result["ok"], result
    lags = {doc_id: result["arrived"][doc_id] - at for doc_id, at in acked.items()}
    assert all(lag < 2000 for lag in lags.values()), f"documents arrived late (ms): {lags}"
    feeds = [c["feed"] for c in result["requests"]["changes"]]
    assert "longpoll" in feeds, feeds
    assert len(feeds) <= 2 * len(docs) + 3, f"the client polled instead of waiting: {len(feeds)} requests"


def test_two_phones_sync_both_ways(pouch: PouchSession, gateway_remote: Remote) -> None:
    rng = random.Random(11)
    a_docs = [self_check("S0001", rng, i) for i in range(5)]
    b_docs = [self_check("S0002", rng, 10 + i) for i in range(5)]
    checked(pouch.run(gateway_remote.step("sync", db="a", docs=a_docs)), "sync a")
    b = checked(pouch.run(gateway_remote.step("sync", db="b", docs=b_docs)), "sync b")
    assert b["push"]["docs_written"] == 5 and b["pull"]["docs_written"] == 5
    checked(pouch.run(gateway_remote.step("sync", db="a")), "sync a again")
    a_dump, b_dump = dump(pouch, "a"), dump(pouch, "b")
    assert len(a_dump) == 10
    assert_same_replica(b_dump, a_dump, "two phones")


# ----- refusals -----


def test_a_refused_document_is_skipped_and_the_rest_of_the_batch_lands(
    pouch: PouchSession, gateway: Gateway, gateway_remote: Remote
) -> None:
    rng = random.Random(13)
    good = [self_check("S0004", rng, i) for i in range(10)]
    bad = {"_id": "self_check-without-partition", "type": "self_check"}
    pushed = pouch.run(gateway_remote.step("push", db="phone", docs=[*good[:5], bad, *good[5:]]))
    assert pushed["ok"] and pushed["status"] == "complete", pushed
    assert pushed["doc_write_failures"] == 1 and pushed["docs_written"] == 10, pushed
    assert [(e["id"], e["name"]) for e in pushed["denied"]] == [(bad["_id"], "forbidden")]
    with gateway.client() as client:
        rows = client.post("/sync/_all_docs", json={"keys": [d["_id"] for d in good] + [bad["_id"]]}).json()["rows"]
    assert [r.get("error") for r in rows] == [None] * 10 + ["not_found"]
    again = checked(pouch.run(gateway_remote.step("push", db="phone")), "second push")
    assert again["docs_read"] == 0, "the refused document stalled the replication"


# ----- the reference: pouchdb-server -----


def test_the_client_reads_back_what_it_gets_from_pouchdb_server(
    pouch: PouchSession, gateway_remote: Remote, peer_remote: Remote
) -> None:
    build_history(pouch, "phone")
    source = dump(pouch, "phone", revpos=False)
    via: dict[str, Any] = {}
    for name, remote in (("gateway", gateway_remote), ("peer", peer_remote)):
        pushed = checked(pouch.run(remote.step("push", db="phone", batch_size=5)), f"push to {name}")
        assert pushed["doc_write_failures"] == 0, pushed
        checked(pouch.run(remote.step("pull", db=f"from_{name}", batch_size=200)), f"pull from {name}")
        via[name] = dump(pouch, f"from_{name}")
        via[name + " push"] = {k: pushed[k] for k in ("docs_read", "docs_written", "doc_write_failures")}
    assert via["gateway push"] == via["peer push"]
    # What each server holds, as it answers over HTTP: every leaf, its history and its attachment stubs.
    for doc_id in source:
        assert served_leaves(gateway_remote, doc_id) == served_leaves(peer_remote, doc_id), doc_id
    # The reference is sound: what it hands back is what the phone had.
    assert_same_replica(comparable_without_revpos(via["peer"]), source, "pouchdb-server's replica")
    assert_same_replica(via["gateway"], via["peer"], "the gateway's replica")


def _get(pouch: PouchSession, db: str, doc_id: str) -> Json:
    doc: Json = checked(pouch.run({"op": "get", "db": db, "id": doc_id}), f"get {doc_id}")["doc"]
    return doc


def offline_edits(pouch: PouchSession, remote: Remote, tag: str) -> tuple[dict[str, Any], dict[str, bytes]]:
    """Two phones share documents, edit them across several pushes, and edit the same ones while offline.

    Returns the replicas of both phones and of a third one that pulls at the end, and the attachment bytes.
    Revision ids are deterministic in PouchDB, so the same story told to two servers gives the same ids.
    """
    rng = random.Random(21)
    a, b, c = f"{tag}-a", f"{tag}-b", f"{tag}-c"
    p, q, r = (f"S0005:photo:{ulid(rng, 1_764_000_000_000 + i)}" for i in range(3))
    d = self_check("S0005", rng, 50)
    blobs = {
        name: rng.randbytes(size)
        for name, size in (("p1", 40_000), ("q1", 9000), ("q2", 12_000), ("r1", 700), ("thumb", 1500))
    }
    _put(
        pouch,
        a,
        [
            {"_id": p, "type": "photo", "_attachments": {"photo.jpg": attachment(blobs["p1"])}},
            {"_id": q, "type": "photo", "_attachments": {"photo.jpg": attachment(blobs["q1"])}},
            {"_id": r, "type": "photo", "_attachments": {"photo.jpg": attachment(blobs["r1"])}},
            d,
        ],
    )
    checked(pouch.run(remote.step("push", db=a)), f"{a} first push")
    checked(pouch.run(remote.step("pull", db=b, batch_size=200)), f"{b} first pull")

    # Phone a: a body edit keeping the photo as a stub plus a new attachment, a replaced photo, a deletion.
    pa, qa, ra, da = (_get(pouch, a, i) for i in (p, q, r, d["_id"]))
    pa["_attachments"]["thumb.webp"] = attachment(blobs["thumb"], "image/webp")
    _put(
        pouch,
        a,
        [
            {**pa, "caption": "门口"},
            {**qa, "_attachments": {"photo.jpg": attachment(blobs["q2"])}},
            {"_id": r, "_rev": ra["_rev"], "_deleted": True},
            {**da, "note": "edited on a"},
        ],
    )
    checked(pouch.run(remote.step("push", db=a)), f"{a} second push")
    # Phone b, offline meanwhile, edits two of the same documents: conflicts once it pushes.
    pb, db_ = _get(pouch, b, p), _get(pouch, b, d["_id"])
    _put(pouch, b, [{**pb, "caption": "后门"}, {**db_, "note": "edited on b"}])
    pushed = checked(pouch.run(remote.step("push", db=b)), f"{b} push")
    assert pushed["docs_written"] == 2 and pushed["doc_write_failures"] == 0
    checked(pouch.run(remote.step("sync", db=a)), f"{a} sync")
    checked(pouch.run(remote.step("sync", db=b)), f"{b} sync")
    checked(pouch.run(remote.step("pull", db=c, batch_size=200)), f"{c} pull")
    replicas = {"a": dump(pouch, a), "b": dump(pouch, b), "c": dump(pouch, c)}
    files = {f"{p}/photo.jpg": blobs["p1"], f"{p}/thumb.webp": blobs["thumb"], f"{q}/photo.jpg": blobs["q2"]}
    return replicas, files


def test_offline_edits_and_conflicts_end_the_same_on_every_phone_and_as_on_pouchdb_server(
    pouch: PouchSession, gateway: Gateway, gateway_remote: Remote, peer_remote: Remote
) -> None:
    via_gateway, files = offline_edits(pouch, gateway_remote, "gw")
    via_peer, _ = offline_edits(pouch, peer_remote, "peer")

    # Every phone ends with the same documents, conflicts included.
    for replicas in (via_gateway, via_peer):
        a = comparable_without_revpos(replicas["a"])
        assert_same_replica(comparable_without_revpos(replicas["b"]), a, "phones a and b")
        assert_same_replica(comparable_without_revpos(replicas["c"]), a, "phones a and c")
    conflicted = [i for i, doc in via_gateway["c"].items() if doc["conflicts"]]
    assert len(conflicted) == 2, "the two offline edits of the same documents did not both survive"
    deleted = [i for i, doc in via_gateway["c"].items() if doc["deleted"]]
    assert len(deleted) == 1
    # And the same as through the reference server, attachment positions included.
    for phone in ("a", "b", "c"):
        assert_same_replica(via_gateway[phone], via_peer[phone], f"phone {phone}, gateway vs pouchdb-server")
    for doc_id in via_gateway["c"]:
        assert served_leaves(gateway_remote, doc_id) == served_leaves(peer_remote, doc_id), doc_id
    with gateway.client() as client:
        for path, data in files.items():
            resp = client.get(f"/sync/{path}")
            assert resp.status_code == 200 and resp.content == data, path
