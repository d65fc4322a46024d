"""The receipts as the follower reads them from the store, on either backend: an owner's rectification the server
received past the offline allowance counts from `received_at - allowance` (tests/validators/test_receipts.py, on
the pure projection), whether the receipt came with it or in a later write, and what the follower writes is what
the projection of the same events gives."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from server.store.protocol import AllDocsQuery, Store
from tests.validators.builders import SHOP, ledger, project
from tests.validators.test_receipts import _fixed
from tests.validators.world import registry, settle

AS_OF = "2026-03-31"


def clock() -> datetime:
    return datetime(2026, 3, 31, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai


async def _shop_docs(store: Store) -> list[dict[str, Any]]:
    query = AllDocsQuery(startkey=f"{SHOP}:", endkey=f"{SHOP}:\ufff0", include_docs=True)
    return [row["doc"] for row in (await store.all_docs(query))["rows"] if row.get("doc")]


@pytest.mark.parametrize("receipt_later", [False, True], ids=["with the receipt", "receipt written later"])
async def test_the_follower_counts_a_late_rectification_from_its_receipt(store: Store, receipt_later: bool) -> None:
    docs = registry(1)
    [shop] = [doc for doc in docs if doc["type"] == "shop"]
    events = _fixed("2026-02-26 23:00", "2026-03-31 10:00", "2026-03-31 15:00")
    receipt = next(e for e in events if e["type"] == "receipt")
    first = [e for e in events if e is not receipt] if receipt_later else events
    await store.bulk_docs(docs + first)
    await settle(store, clock)
    if receipt_later:
        before = ledger(await _shop_docs(store))
        assert before.get("refund") == [3] and "overdue" not in before  # dated in time, no receipt yet
        await store.bulk_docs([receipt])
        await settle(store, clock)
    got = ledger(await _shop_docs(store))
    expected = ledger(project(events, AS_OF, registry=shop))
    assert expected["hazard"] == [-5] and expected["overdue"] == [-2] * 4 and "refund" not in expected
    assert got == expected
