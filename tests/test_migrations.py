"""A store written by an earlier release: its documents are moved to where this one keeps them, on both backends."""

from __future__ import annotations

from typing import Any

from server.migrations import migrate
from server.store.protocol import AllDocsQuery, ChangesQuery, Store
from server.store.reads import docs_by_id

RANKING = {"type": "ranking", "subdistrict": "minglou", "month": "2026-10", "entries": [{"shop": "S0001", "rank": 1}]}
STATS = {"type": "stats", "subdistrict": "minglou", "period": "2026-11", "figures": {"active_shops": 3}}
PUBLISHED = {"type": "publication", "subdistrict": "minglou", "month": "2026-10", "published_by": "office:wang"}


async def _put(store: Store, doc_id: str, body: dict[str, Any]) -> None:
    [answer] = await store.bulk_docs([{"_id": doc_id, **body}])
    assert answer.get("ok"), answer


async def test_the_office_documents_leave_the_district_partition(store: Store) -> None:
    await _put(store, "district:ranking:minglou:2026-10", RANKING)
    await _put(store, "district:stats:minglou:2026-11", STATS)
    await _put(store, "district:publication:minglou:2026-10", PUBLISHED)
    await _put(store, "district:rules", {"type": "rules", "version": 1})
    # The validators wrote this month's statistics at the new id already: theirs is kept.
    await _put(store, "office:stats:minglou:2026-11", {**STATS, "figures": {"active_shops": 4}})

    assert await migrate(store) == 3
    moved = await docs_by_id(
        store, ["office:ranking:minglou:2026-10", "office:stats:minglou:2026-11", "office:publication:minglou:2026-10"]
    )
    strip = ("_id", "_rev")
    assert {k: v for k, v in moved["office:ranking:minglou:2026-10"].items() if k not in strip} == RANKING
    assert {k: v for k, v in moved["office:publication:minglou:2026-10"].items() if k not in strip} == PUBLISHED
    assert moved["office:stats:minglou:2026-11"]["figures"] == {"active_shops": 4}
    rows = (await store.all_docs(AllDocsQuery(startkey="district:", endkey="district:\ufff0")))["rows"]
    assert [row["id"] for row in rows] == ["district:rules"]
    # The deletions are in the feed, for the phones that replicated the old documents to drop them.
    feed = (await store.changes(ChangesQuery(partitions=frozenset({"district"}))))["results"]
    assert {row["id"] for row in feed if row.get("deleted")} == {
        "district:ranking:minglou:2026-10",
        "district:stats:minglou:2026-11",
        "district:publication:minglou:2026-10",
    }
    # A second start moves nothing and changes nothing.
    before = (await store.all_docs(AllDocsQuery()))["rows"]
    assert await migrate(store) == 0
    assert (await store.all_docs(AllDocsQuery()))["rows"] == before
