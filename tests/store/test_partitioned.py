"""The CouchDB backend's database is partitioned (`CouchStore._create`), and a partitioned CouchDB 3 database refuses
ids that any other database takes: "Every document in a partitioned database (except _design and _local documents)
must have the format “partition:docid”" (docs.couchdb.org, Partitioned Databases). pouchdb-server has no partitions,
so the backend refuses them itself there, with CouchDB 3's status and body (`_Partitioned`); these tests hold on a
real CouchDB 3 (COUCHDB_URL) too. The last one is the `Store` contract on both backends; the first, that a database
without partitions is said in the log."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import httpx
import pytest

from server.errors import CouchError
from server.store.couchdb import CouchStore
from server.store.protocol import AllDocsQuery, ChangesQuery, GetOptions, Store

A, B = "S1:self_check:01JDXA", "S1:self_check:01JDXB"
FORM = "Doc id must be of form partition:id"
couchdb_only = pytest.mark.parametrize("store", ["couchdb"], indirect=True)


async def refusal(call: Any) -> tuple[int, str, str]:
    with pytest.raises(CouchError) as info:
        await call
    return info.value.status, info.value.error, info.value.reason


@couchdb_only
async def test_the_database_says_it_is_partitioned(store: Store) -> None:
    assert (await store.info())["props"] == {"partitioned": True}


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "server.store.couchdb" and r.levelno == logging.WARNING]


async def test_a_database_without_partitions_is_warned_of_once_at_start(
    couchdb_url: str, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The scale-out (README, "CouchDB: a partitioned database") assumes a partitioned database; a plain one works,
    so nothing else would tell. The tests' own stores say nothing: pouchdb-server has no partitions and the backend
    knows it (`_Partitioned` stands in for them), and a CouchDB 3 makes the database partitioned."""
    caplog.set_level(logging.WARNING, logger="server.store.couchdb")
    quiet = await CouchStore.open(couchdb_url, f"mashang-test-{uuid.uuid4().hex[:16]}")
    await quiet.drop()
    await quiet.close()
    assert warnings_of(caplog) == []

    # A CouchDB without partitions: pouchdb-server not known for what it is takes `?partitioned=true` and makes a
    # plain database, as a server that refuses the flag ends up with; on a CouchDB 3 the plain one is made first.
    name = f"mashang-test-{uuid.uuid4().hex[:16]}"
    async with httpx.AsyncClient() as http:
        if "express-pouchdb" not in (await http.get(couchdb_url)).json():
            assert (await http.put(f"{couchdb_url.rstrip('/')}/{name}")).status_code == 201
    root = CouchStore._root

    async def as_couchdb(http: httpx.AsyncClient) -> dict[str, Any]:
        return {k: v for k, v in (await root(http)).items() if k != "express-pouchdb"}

    monkeypatch.setattr(CouchStore, "_root", staticmethod(as_couchdb))
    plain = await CouchStore.open(couchdb_url, name)
    try:
        [warning] = warnings_of(caplog)
        assert f"CouchDB database '{name}' is not partitioned" in warning
        assert "no partition-local shard" in warning and f'GET /{name} says "props": {{"partitioned": true}}' in warning
        # Once: `mashang serve` opens its store twice as it starts.
        await (await CouchStore.open(couchdb_url, name)).close()
        assert len(warnings_of(caplog)) == 1
    finally:
        await plain.drop()
        await plain.close()


@couchdb_only
async def test_a_write_of_an_id_without_a_partition_is_refused_and_a_batch_answered_per_document(store: Store) -> None:
    assert await refusal(store.bulk_docs([{"_id": "nopartition"}])) == (400, "illegal_docid", FORM)
    assert await refusal(store.bulk_docs([{"type": "no id: CouchDB gives it a UUID"}])) == (400, "illegal_docid", FORM)
    # CouchDB refuses the whole `_bulk_docs`; the backend sends each document again alone (one bad document of a
    # phone's batch must not hold back the others), as it does for any document CouchDB cannot read.
    good, bad, also_good = await store.bulk_docs([{"_id": A}, {"_id": "nopartition"}, {"_id": B}])
    assert good["ok"] and also_good["ok"]
    assert bad == {"id": "nopartition", "error": "illegal_docid", "reason": FORM}
    rows = (await store.all_docs(AllDocsQuery(startkey="S1:", endkey="S1:\ufff0")))["rows"]
    assert [row["id"] for row in rows] == [A, B]


@couchdb_only
async def test_the_partition_and_the_id_after_it_must_be_ids_themselves(store: Store) -> None:
    for doc_id, error, reason in (
        (":self_check:01JDXA", "illegal_partition", "Partition must not be empty"),
        ("S1:", "illegal_docid", "Document id must not be empty"),
        ("S1:_self_check", "illegal_docid", "Only reserved document ids may start with underscore."),
        ("S1:_design/", "illegal_docid", "Illegal document id `_design/`"),
    ):
        assert await refusal(store.bulk_docs([{"_id": doc_id}])) == (400, error, reason), doc_id
    # Design and local documents have no partition; more colons belong to the id after the first.
    [design, deeper] = await store.bulk_docs([{"_id": "_design/mashang"}, {"_id": "S1:ledger:01JDXA:weekly"}])
    assert design["ok"] and deeper["ok"]
    assert (await store.put_local("server/validators", {"seq": 1}))["ok"]


@couchdb_only
async def test_a_read_by_an_id_without_a_partition_is_refused_as_couchdb_3_refuses_it(store: Store) -> None:
    [written] = await store.bulk_docs([{"_id": A}])
    refused = (400, "illegal_docid", FORM)
    assert await refusal(store.get("nopartition", GetOptions())) == refused
    assert await refusal(store.open_revs("nopartition", None, GetOptions())) == refused
    assert await refusal(store.read_attachment("nopartition", "photo.jpg")) == refused
    assert await refusal(store.revs_diff({A: [written["rev"]], "nopartition": ["1-" + "a" * 32]})) == refused
    # `_bulk_get` refuses that entry alone.
    [found, entry] = await store.bulk_get([{"id": A}, {"id": "nopartition"}])
    assert found["docs"][0]["ok"]["_id"] == A
    assert entry == {
        "id": "nopartition",
        "docs": [{"error": {"id": "nopartition", "rev": None, "error": "illegal_docid", "reason": FORM}}],
    }
    # An id with an empty partition is only missing to a read, and the changes feed filters by any id.
    assert await refusal(store.get(":self_check", GetOptions())) == (404, "not_found", "missing")
    feed = await store.changes(ChangesQuery(doc_ids=["nopartition", A]))
    assert [row["id"] for row in feed["results"]] == [A]


async def test_all_docs_answers_a_key_without_a_partition_missing(store: Store) -> None:
    """`_all_docs` by keys (the server's reads of many documents by id, and PouchDB's, through `/sync/`) answers a key
    no partitioned database holds as missing, in its place, on both backends: CouchDB 3 would refuse the whole read.
    A device's own shop code (`S1`) is such a key, inside its scope's partitions or not."""
    await store.bulk_docs([{"_id": A}])
    for partitions in (None, frozenset({"S1"})):
        page = await store.all_docs(AllDocsQuery(keys=["S1", A, "nopartition"], partitions=partitions))
        assert [row.get("error") for row in page["rows"]] == ["not_found", None, "not_found"], partitions
        assert [row["key"] for row in page["rows"]] == ["S1", A, "nopartition"]
