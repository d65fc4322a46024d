"""Replays are harmless: a follower stopped anywhere (50 times, at random points, while the backlog grows) ends
where one uninterrupted run ends, and `rebuild` on the same events gives the same documents, byte for byte."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

from server.models.rules import default_rules
from server.store.protocol import Doc, GetOptions
from server.store.sqlite import SqliteStore
from server.validators.follower import Follower
from server.validators.rebuild import rebuild
from tests.validators.builders import redemption
from tests.validators.world import FAST, clock, code, contents, history, registry, running, settle, stop

SHOPS = 8
RESTARTS = 50


def _backlog() -> tuple[list[Doc], Doc]:
    """The registry and the shops' histories, and a redemption of reward points for every other shop; two thirds
    in, the office publishes rules v2 (a clean patrol earns nothing now: every shop is projected again and those
    ledger entries vanish) and closes the last shop."""
    docs = registry(SHOPS)
    for n in range(1, SHOPS + 1):
        docs += history(code(n), 4200 + n)
        if n % 2:
            docs.append(redemption(code(n), 1, f"2026-03-1{n % 10} 15:00"))
    rules = default_rules().to_doc() | {"version": 2, "patrol_clean_points": 0}
    closed = next(doc for doc in docs if doc["_id"] == f"{code(SHOPS)}:shop:{code(SHOPS)}") | {"status": "closed"}
    cut = 2 * len(docs) // 3
    return [*docs[:cut], rules, *docs[cut:]], closed


async def _open(tmp_path: Path, name: str) -> SqliteStore:
    return await SqliteStore.open(tmp_path / name, revs_limit=1000)


async def _close_last_shop(store: SqliteStore, closed: Doc) -> None:
    current = await store.get(closed["_id"], GetOptions())
    [answer] = await store.bulk_docs([closed | {"_rev": current["_rev"]}])
    assert answer["ok"]


async def test_stopped_anywhere_and_restarted_it_ends_as_one_run_and_as_rebuild(tmp_path: Path) -> None:
    docs, closed = _backlog()
    once, rebuilt, interrupted = [await _open(tmp_path, name) for name in ("once", "rebuilt", "interrupted")]
    try:
        await once.bulk_docs(docs)
        await _close_last_shop(once, closed)
        await settle(once)
        expected = await contents(once)
        assert sum(1 for doc_id in expected if doc_id.endswith(":score")) == SHOPS
        assert any(":alarm:" in doc_id for doc_id in expected)
        assert "office:ranking:xixi:2026-03" in expected and "office:stats:xixi:2026-W12" in expected
        assert not any(doc_id.endswith(":patrol_clean") for doc_id in expected)
        assert '"rank": null' in expected[f"{code(SHOPS)}:score"]
        assert '"redeemed": 2' in expected[f"{code(1)}:rewards"] and '"redeemed": 0' in expected[f"{code(2)}:rewards"]

        await rebuilt.bulk_docs(docs)
        await _close_last_shop(rebuilt, closed)
        first = await rebuild(rebuilt, clock)
        assert first.shops == SHOPS and first.written > 0 and not first.failed
        assert await contents(rebuilt) == expected

        rng = random.Random(20261128)
        pieces = sorted(rng.sample(range(1, len(docs)), RESTARTS - 1))
        for start, end in zip([0, *pieces], [*pieces, len(docs)], strict=True):
            # The backlog grows while the follower comes and goes: part of each piece is there when it starts
            # (its start-up tick reads it), the rest arrives through the feed while it runs.
            middle = rng.randint(start, end)
            await interrupted.bulk_docs(docs[start:middle])
            follower = Follower(interrupted, clock, FAST)
            task = await running(follower)
            await asyncio.sleep(rng.uniform(0, 0.02))
            await interrupted.bulk_docs(docs[middle:end])
            if end == len(docs):
                await _close_last_shop(interrupted, closed)
            await asyncio.sleep(rng.uniform(0, 0.03))
            await stop(task)  # anywhere: mid-read, mid-projection, mid-write, before the checkpoint
        await settle(interrupted)
        assert await contents(interrupted) == expected

        again = await rebuild(interrupted, clock)
        assert again.changed == 0, again.lines()  # caught up, a rebuild writes nothing
        assert await contents(interrupted) == expected
    finally:
        for store in (once, rebuilt, interrupted):
            await store.close()
