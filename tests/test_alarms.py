"""The alarm desk on both backends: the index is loaded from the store and follows it, steps never overwrite each
other, and subscribers hear of every new and changed alarm."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from server import alarms as alarm_module
from server.alarms import Alarms
from server.errors import CouchError
from server.store.protocol import Store
from server.store.upsert import read
from tests.api.projections import alarm_doc, write


@pytest.fixture
async def desk(store: Store) -> AsyncIterator[Alarms]:
    alarms = Alarms(store)
    await alarms.start()
    await alarms.ready()
    try:
        yield alarms
    finally:
        await alarms.stop()


async def test_the_index_is_loaded_from_the_store_then_follows_it(store: Store) -> None:
    old, acked, new = (
        alarm_doc(shop, f"2026-03-0{day}T10:00:00+08:00") for shop, day in (("S0001", 1), ("S0002", 2), ("S0003", 3))
    )
    acked["status"] = "acknowledged"
    acked["history"] = [
        *acked["history"],
        {
            "status": "acknowledged",
            "at": "2026-03-02T11:00:00+08:00",
            "by": "office:wang",
            "department": None,
            "note": "",
        },
    ]
    await write(store, old, acked, new, {"_id": "S0001:score", "type": "score"})
    alarms = Alarms(store)  # a server starting on a store that already holds alarms
    await alarms.start()
    try:
        open_now, following = await alarms.by_status("open", 10)
        assert [doc["_id"] for doc in open_now] == [new["_id"], old["_id"]] and following is None
        assert [doc["_id"] for doc in (await alarms.by_status("acknowledged", 10))[0]] == [acked["_id"]]
        assert alarms.counts() == {"open": 2, "acknowledged": 1, "dispatched": 0, "resolved": 0}
        subscription, missed = alarms.subscribe()
        assert missed == []
        later = alarm_doc("S0001", "2026-03-04T10:00:00+08:00")
        await write(store, later)  # by another process: no notify
        event = await subscription.next(30)
        assert event is not None and event.change == "new" and event.alarm["_id"] == later["_id"]
        assert "_rev" not in event.alarm
    finally:
        await alarms.stop()


async def test_a_feed_longer_than_a_page_is_read_to_its_end(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(alarm_module, "PAGE", 3)
    docs = [alarm_doc("S0001", f"2026-03-0{day}T10:00:00+08:00") for day in range(1, 8)]
    others = [{"_id": f"S0002:note:{n}", "type": "note"} for n in range(8)]
    await write(store, *[doc for pair in zip(docs, others, strict=False) for doc in pair], *others[len(docs) :])
    alarms = Alarms(store)
    await alarms.start()
    try:
        found, _ = await alarms.by_status("open", 100)
        assert [doc["_id"] for doc in found] == [doc["_id"] for doc in reversed(docs)]
    finally:
        await alarms.stop()


async def test_under_a_stream_of_commits_the_index_reads_the_feed_a_few_times_a_second_and_misses_nothing(
    store: Store, desk: Alarms, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A phone's push commits every few milliseconds: the index must not read the feed after each commit (it took
    the push's time), yet every alarm among the commits still reaches the desk. A count of commits, not a second of
    them: a loaded machine (CouchDB over HTTP) made fewer than the 50 a second this needed. The reads allowed follow
    the time the commits took (one per `TAIL_EVERY`), which stays far below one a commit down to 10 commits a second."""
    reads = 0
    changes = store.changes

    async def counted(query: Any) -> Any:
        nonlocal reads
        reads += 1
        return await changes(query)

    monkeypatch.setattr(store, "changes", counted)
    subscription, _ = desk.subscribe()
    raised = []
    loop = asyncio.get_running_loop()
    start = loop.time()
    commits = 0
    for n in range(1, 101):
        await write(store, {"_id": f"S0002:note:{n:04d}", "type": "note"})
        commits += 1
        if n % 10 == 0:
            alarm = alarm_doc("S0001", f"2026-03-01T10:{n // 10:02d}:00+08:00")
            raised.append(alarm["_id"])
            await write(store, alarm)
            commits += 1
        await asyncio.sleep(0.005)
    heard = []
    while len(heard) < len(raised):
        event = await subscription.next(5)
        assert event is not None, f"heard {len(heard)} of {len(raised)} alarms"
        heard.append(event.alarm["_id"])
    feed_reads, took = reads, loop.time() - start  # until the last alarm was heard
    assert sorted(heard) == sorted(raised)
    allowed = took / alarm_module.TAIL_EVERY + 3
    assert feed_reads <= allowed, f"{feed_reads} reads of the feed for {commits} commits in {took:.2f} s"
    assert allowed < commits / 2, f"{commits} commits took {took:.2f} s: too slow to tell a read a commit from fewer"


async def test_concurrent_steps_never_overwrite_each_other(store: Store, desk: Alarms) -> None:
    doc = alarm_doc("S0001", "2026-03-02T10:00:00+08:00")
    await write(store, doc)
    steps = await asyncio.gather(
        desk.transition(doc["_id"], "acknowledged", "office:wang"),
        desk.transition(doc["_id"], "dispatched", "office:li", department="fire"),
        desk.transition(doc["_id"], "resolved", "office:zhao"),
        return_exceptions=True,
    )
    done = [step for step in steps if isinstance(step, dict)]
    refused = [step for step in steps if isinstance(step, CouchError)]
    assert done and len(done) + len(refused) == 3 and all(e.status == 409 for e in refused)
    stored = await read(store, doc["_id"])
    assert stored is not None
    assert len(stored["history"]) == 1 + len(done)  # every step that was answered 200 is in the history
    order = ["open", "acknowledged", "dispatched", "resolved"]
    statuses = [step["status"] for step in stored["history"]]
    assert statuses == sorted(statuses, key=order.index) and stored["status"] == statuses[-1]


async def test_notify_reports_each_change_once_and_never_rolls_back(store: Store, desk: Alarms) -> None:
    doc = alarm_doc("S0002", "2026-03-02T10:00:00+08:00")
    subscription, _ = desk.subscribe()
    await write(store, doc)
    await desk.notify(doc)  # as the follower hands it over: without `_rev`
    first = await subscription.next(10)
    assert first is not None and first.change == "new"
    stale = await read(store, doc["_id"])
    assert stale is not None
    acked = await desk.transition(doc["_id"], "acknowledged", "office:wang")
    second = await subscription.next(10)
    assert second is not None and second.change == "changed" and second.alarm == acked
    await desk.notify(stale)  # an older revision, late: ignored
    assert await subscription.next(0.5) is None  # and the feed's copies of both revisions were not news either
    assert desk.counts()["acknowledged"] == 1 and desk.counts()["open"] == 0


async def test_an_alarm_the_validators_withdraw_leaves_the_queue(store: Store, desk: Alarms) -> None:
    doc = alarm_doc("S0003", "2026-03-02T10:00:00+08:00")
    await write(store, doc)
    await desk.notify(doc)
    assert desk.counts()["open"] == 1
    stored = await read(store, doc["_id"])
    assert stored is not None
    [answer] = await store.bulk_docs([{"_id": doc["_id"], "_rev": stored["_rev"], "_deleted": True}])
    assert answer.get("ok")
    for _ in range(200):
        if desk.counts()["open"] == 0:
            break
        await asyncio.sleep(0.05)
    assert desk.counts()["open"] == 0 and (await desk.by_status("open", 10))[0] == []


async def test_a_withdrawn_alarm_read_before_its_withdrawal_does_not_come_back(store: Store, desk: Alarms) -> None:
    """The follower hands an alarm over (`notify`), and the validators withdraw it before the desk read it back: a
    copy read before the withdrawal, arriving after the feed told it, must not put it on the desk again (the office's
    open desk kept a withdrawn first-module alarm beside the submission's)."""
    doc = alarm_doc("S0004", "2026-03-02T10:00:00+08:00")
    await write(store, doc)
    stale = await read(store, doc["_id"])  # what a slow `notify` read back
    assert stale is not None
    [answer] = await store.bulk_docs([{"_id": doc["_id"], "_rev": stale["_rev"], "_deleted": True}])
    assert answer.get("ok")
    seq = (await store.info())["update_seq"]
    for _ in range(200):  # the feed has told the withdrawal
        if desk._since == seq:
            break
        await asyncio.sleep(0.05)
    subscription, _ = desk.subscribe()
    await desk.notify(stale)
    assert await subscription.next(0.5) is None
    assert desk.counts()["open"] == 0 and (await desk.by_status("open", 10))[0] == []


async def test_a_list_read_that_finds_an_alarm_withdrawn_tells_the_open_desks(store: Store) -> None:
    """An office's list read a step ahead of the feed found the alarm deleted and dropped it from the index quietly:
    when the feed came to the deletion there was nothing left to tell, and the open desks kept its card for good."""
    alarms = Alarms(store)  # the feed is not followed here: the list read is the first to find the withdrawal
    alarms._loaded.set()
    doc = alarm_doc("S0005", "2026-03-02T10:00:00+08:00")
    await write(store, doc)
    await alarms.notify(doc)
    subscription, _ = alarms.subscribe()
    stored = await read(store, doc["_id"])
    assert stored is not None
    [answer] = await store.bulk_docs([{"_id": doc["_id"], "_rev": stored["_rev"], "_deleted": True}])
    assert answer.get("ok")
    assert (await alarms.by_status("open", 10))[0] == []
    event = await subscription.next(1)
    assert event is not None and event.change == "withdrawn" and event.alarm["_id"] == doc["_id"]
    await alarms.notify(stored)  # the copy read before, late: not back on the desk
    assert await subscription.next(0.3) is None and alarms.counts()["open"] == 0
