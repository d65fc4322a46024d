"""A store written by an earlier release: its documents are moved to where this one keeps them, on both backends."""

from __future__ import annotations

import asyncio
from typing import Any

from server.migrations import migrate
from server.models.templates import DEFAULT_TEMPLATE_ID, Template, default_template
from server.office.rules import changes
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


def _unflagged_v1() -> dict[str, Any]:
    """`district:template:fire-gas` v1 as an earlier release stored it: no item may be answered 不适用."""
    doc = {k: v for k, v in default_template().to_doc().items() if k != "_id"}
    doc["items"] = [{k: v for k, v in item.items() if k != "not_applicable"} for item in doc["items"]]
    return doc


async def _templates(store: Store) -> dict[str, dict[str, Any]]:
    query = AllDocsQuery(startkey="district:template:", endkey="district:template:\ufff0")
    rows = (await store.all_docs(query))["rows"]
    return await docs_by_id(store, [row["id"] for row in rows])


def _flags(doc: dict[str, Any]) -> set[str]:
    return {item["id"] for item in doc["items"] if item.get("not_applicable")}


async def test_the_shipped_checklist_stored_by_an_earlier_release_gets_its_not_applicable_items(store: Store) -> None:
    old = _unflagged_v1()
    await _put(store, DEFAULT_TEMPLATE_ID, old)
    await _put(store, f"{DEFAULT_TEMPLATE_ID}:v1", old)

    assert await migrate(store) == 1
    found = await _templates(store)
    assert sorted(found) == [DEFAULT_TEMPLATE_ID, f"{DEFAULT_TEMPLATE_ID}:v1", f"{DEFAULT_TEMPLATE_ID}:v2"]
    current = found[DEFAULT_TEMPLATE_ID]
    assert current["version"] == 2 and _flags(current) == {"extinguisher_valid", "gas_safe"}
    assert {k: v for k, v in found[f"{DEFAULT_TEMPLATE_ID}:v2"].items() if k not in ("_id", "_rev")} == {
        k: v for k, v in current.items() if k not in ("_id", "_rev")
    }
    # Checks made before keep v1 as it was; v2 says the same but for the flags.
    assert _flags(found[f"{DEFAULT_TEMPLATE_ID}:v1"]) == set()
    assert found[f"{DEFAULT_TEMPLATE_ID}:v1"]["items"] == old["items"]
    v1, v2 = Template.model_validate(found[f"{DEFAULT_TEMPLATE_ID}:v1"]), Template.model_validate(current)
    assert [i.model_copy(update={"not_applicable": False}) for i in v2.items] == list(v1.items)
    # Saved as the office saves a version: logged, by the migration.
    [logged] = await changes(store, DEFAULT_TEMPLATE_ID)
    assert (logged["version"], logged["by"], logged["action"]) == (2, "server:migration", "edit")

    # A second start (or another gateway's) changes nothing.
    before = (await store.all_docs(AllDocsQuery()))["rows"]
    assert await migrate(store) == 0
    assert (await store.all_docs(AllDocsQuery()))["rows"] == before


async def test_the_not_applicable_step_leaves_an_edited_or_a_flagged_checklist_alone(store: Store) -> None:
    assert await migrate(store) == 0  # nothing stored: the shipped template, flags included, is read
    assert await _templates(store) == {}

    edited = _unflagged_v1()
    edited["items"][0]["label_zh"] = "店内是否使用明火"
    await _put(store, DEFAULT_TEMPLATE_ID, edited)
    assert await migrate(store) == 0
    assert (await _templates(store))[DEFAULT_TEMPLATE_ID]["items"][0]["label_zh"] == "店内是否使用明火"

    # An edited later version, even one whose items are v1's: the office's; it ticks the boxes itself.
    doc = (await _templates(store))[DEFAULT_TEMPLATE_ID]
    await _put(store, DEFAULT_TEMPLATE_ID, {**_unflagged_v1(), "version": 2, "_rev": doc["_rev"]})
    assert await migrate(store) == 0
    assert (await _templates(store))[DEFAULT_TEMPLATE_ID]["version"] == 2

    # A district built by this release stored v1 with its flags already.
    doc = (await _templates(store))[DEFAULT_TEMPLATE_ID]
    await _put(store, DEFAULT_TEMPLATE_ID, {**default_template().to_doc(), "_rev": doc["_rev"]})
    assert await migrate(store) == 0
    assert list(await _templates(store)) == [DEFAULT_TEMPLATE_ID]


async def test_two_processes_starting_together_save_one_version_with_the_flags(store: Store) -> None:
    old = _unflagged_v1()
    await _put(store, DEFAULT_TEMPLATE_ID, old)
    await _put(store, f"{DEFAULT_TEMPLATE_ID}:v1", old)
    assert sum(await asyncio.gather(migrate(store), migrate(store))) <= 1  # the other one's 409 is its success
    found = await _templates(store)
    assert sorted(found) == [DEFAULT_TEMPLATE_ID, f"{DEFAULT_TEMPLATE_ID}:v1", f"{DEFAULT_TEMPLATE_ID}:v2"]
    assert found[DEFAULT_TEMPLATE_ID]["version"] == 2 and _flags(found[DEFAULT_TEMPLATE_ID]) == {
        "extinguisher_valid",
        "gas_safe",
    }
