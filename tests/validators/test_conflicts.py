"""An event stored with two bodies: what two gateways in front of CouchDB leave when a device sends two bodies of one
id to both at the same moment (each checked that the event was new, each wrote its own). The projection takes the
winner, as every reader does, and the quarantine notes the event once, for the office. On both backends: the
replicator's own writes (`new_edits=false`) make the two leaves."""

from __future__ import annotations

from typing import Any

from server.office.facts import Facts
from server.office.monitor import sync_monitor
from server.quarantine import CONFLICT, list_quarantine
from server.store.protocol import AllDocsQuery, Store
from server.validators.rebuild import rebuild
from tests.validators.builders import self_check
from tests.validators.world import as_shop, clock, code, registry

LOSER = "1-" + "a" * 32
WINNER = "1-" + "f" * 32  # of two first revisions, CouchDB's winner is the greater


async def hazards(store: Store, shop: str) -> list[str]:
    rows = (await store.all_docs(AllDocsQuery(startkey=f"{shop}:hazard:", endkey=f"{shop}:hazard:\ufff0")))["rows"]
    return [row["id"] for row in rows]


async def test_an_event_with_two_bodies_is_projected_from_the_winner_and_noted_once(store: Store) -> None:
    shop = code(1)
    await store.bulk_docs(registry(1))
    fine = as_shop(self_check("2026-03-16 09:00"), shop)
    unsafe: dict[str, Any] = as_shop(self_check("2026-03-16 09:00", "gas_safe"), shop)
    unsafe["_id"] = fine["_id"]  # the same event, another body
    assert await store.bulk_docs([{**fine, "_rev": LOSER}], new_edits=False) == []
    assert await store.bulk_docs([{**unsafe, "_rev": WINNER}], new_edits=False) == []

    await rebuild(store, clock, workers=0)
    # The winner's body was projected: its self-reported gas hazard is there.
    assert len(await hazards(store, shop)) == 1
    [note] = [entry for entry in await list_quarantine(store) if entry["type"] == CONFLICT]
    assert note["doc_id"] == fine["_id"] and note["error"] == CONFLICT
    assert WINNER in note["reason"] and LOSER in note["reason"]
    assert note["user"] == fine["created_by"] and note["doc"]["_rev"] == WINNER
    assert "_conflicts" not in note["doc"]

    # The sync monitor does not count it as a refusal of the owner's: nothing was refused.
    monitor = await sync_monitor(store, await Facts(store).view(), clock())
    assert monitor["refused_total"] == 0

    # Projected again (any later event of the shop): still one note, and nothing else moves.
    assert (await rebuild(store, clock, workers=0)).changed == 0
    assert len([entry for entry in await list_quarantine(store) if entry["type"] == CONFLICT]) == 1


async def test_a_shop_without_conflicts_leaves_the_quarantine_alone(store: Store) -> None:
    shop = code(1)
    await store.bulk_docs([*registry(1), as_shop(self_check("2026-03-16 09:00", "gas_safe"), shop)])
    await rebuild(store, clock, workers=0)
    assert len(await hazards(store, shop)) == 1
    assert await list_quarantine(store) == []
