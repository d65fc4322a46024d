"""What only the embedded store promises: stemming at revs_limit, instant compaction, bodies stored once."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import orjson
import pytest

from server.errors import CouchError
from server.store import sqlite as sqlite_module
from server.store.protocol import AllDocsQuery, ChangesQuery, GetOptions
from server.store.sqlite import SqliteStore
from server.store.sqlite_bulk import insert_new, new_row
from server.store.sqlite_io import SCHEMA, WalCheckpointer

DOC = "S0001:photo:01JDX000000000000000000000"


async def test_history_is_stemmed_at_revs_limit(tmp_path: Path) -> None:
    store = await SqliteStore.open(tmp_path, revs_limit=1000)
    try:
        ids = [f"{i:04x}" for i in range(1005, 0, -1)]
        doc = {"_id": DOC, "_rev": f"1005-{ids[0]}", "_revisions": {"start": 1005, "ids": ids}, "n": 1}
        assert await store.bulk_docs([doc], new_edits=False) == []
        got = await store.get(DOC, GetOptions(revs=True))
        assert got["_revisions"]["start"] == 1005
        assert len(got["_revisions"]["ids"]) == 1000
        # An edit on top keeps the window at 1000 revisions.
        [res] = await store.bulk_docs([{"_id": DOC, "_rev": got["_rev"], "n": 2}])
        again = await store.get(DOC, GetOptions(revs=True))
        assert again["_rev"] == res["rev"] and len(again["_revisions"]["ids"]) == 1000
    finally:
        await store.close()


async def test_old_revisions_are_compacted_at_once(tmp_path: Path) -> None:
    store = await SqliteStore.open(tmp_path)
    try:
        [first] = await store.bulk_docs([{"_id": DOC, "v": 1}])
        [second] = await store.bulk_docs([{"_id": DOC, "_rev": first["rev"], "v": 2}])
        assert (await store.get(DOC, GetOptions()))["v"] == 2
        [entry] = await store.open_revs(DOC, [first["rev"]], GetOptions())
        assert entry == {"missing": first["rev"]}
        [latest] = await store.open_revs(DOC, [first["rev"]], GetOptions(latest=True))
        assert latest["ok"]["_rev"] == second["rev"]
    finally:
        await store.close()


async def test_attachment_bodies_are_stored_once_per_content(tmp_path: Path) -> None:
    store = await SqliteStore.open(tmp_path)
    try:
        data = base64.b64encode(b"\xff\xd8\xff" + b"same photo" * 1000).decode()
        docs = [
            {
                "_id": f"S000{i}:photo:01JDX00000000000000000000{i}",
                "_attachments": {"photo.jpg": {"content_type": "image/jpeg", "data": data}},
            }
            for i in range(1, 4)
        ]
        assert all(r["ok"] for r in await store.bulk_docs(docs))
        blobs = [p for p in (tmp_path / "blobs").rglob("*") if p.is_file() and p.parent.name != "tmp"]
        assert len(blobs) == 1
    finally:
        await store.close()


async def test_a_rebuilds_new_documents_are_stored_as_bulk_docs_stores_them_a_hundred_rows_a_statement(
    tmp_path: Path,
) -> None:
    """`sqlite_bulk.insert_new` (a rebuild's brand-new projections): the rows `_bulk_docs` would store, revision,
    body, sequence and counts, each table's rows in statements of 100 (one statement run per row cost a third more
    of a rebuild's writing); an id the store has a tombstone of is left to `_bulk_docs`."""
    ids = [f"S0001:ledger:{i:04d}:self_check" for i in range(250)]
    docs = [{"_id": doc_id, "type": "ledger", "points": i, "note": "周"} for i, doc_id in enumerate(ids)]
    bulk, fast = await SqliteStore.open(tmp_path / "bulk"), await SqliteStore.open(tmp_path / "fast")
    try:
        for store in (bulk, fast):
            [gone] = await store.bulk_docs([{"_id": docs[7]["_id"], "points": -1}])
            await store.bulk_docs([{"_id": docs[7]["_id"], "_rev": gone["rev"], "_deleted": True}])
        await bulk.bulk_docs(docs)
        statements: list[str] = []
        fast._writer._conn.set_trace_callback(statements.append)
        try:
            assert await insert_new(fast, [new_row(doc) for doc in docs]) == [docs[7]["_id"]]
        finally:
            fast._writer._conn.set_trace_callback(None)
        await fast.bulk_docs([docs[7]])  # as the rebuild writes a refused row
        assert len([sql for sql in statements if sql.startswith("INSERT")]) == 2 * 3  # 249 rows: 100, 100, 49
        assert await _everything(fast) == await _everything(bulk)
        counts = ("update_seq", "doc_count", "doc_del_count")
        assert [(await fast.info())[key] for key in counts] == [(await bulk.info())[key] for key in counts]
    finally:
        await bulk.close()
        await fast.close()


async def _everything(store: SqliteStore) -> tuple[list[Any], list[Any]]:
    """Every document, and the changes feed (by id: the tombstoned one is written after the others here)."""
    rows = (await store.all_docs(AllDocsQuery(include_docs=True)))["rows"]
    changes = sorted((c["id"], c["changes"]) for c in (await store.changes(ChangesQuery()))["results"])
    return [(row["id"], row["value"], row["doc"]) for row in rows], changes


async def test_concurrent_writers_each_get_their_own_answer(tmp_path: Path) -> None:
    """Group commit: many writers at once, one of them conflicting, none disturbs the others."""
    store = await SqliteStore.open(tmp_path)
    try:
        [base] = await store.bulk_docs([{"_id": "S0001:shop:S0001", "v": 0}])
        writes = [store.bulk_docs([{"_id": f"S0001:self_check:01JDX{i:021d}", "i": i}]) for i in range(50)]
        writes.append(store.bulk_docs([{"_id": "S0001:shop:S0001", "_rev": "1-stale", "v": 1}]))
        results = await asyncio.gather(*writes)
        assert all(r[0].get("ok") for r in results[:50])
        assert results[50][0]["error"] == "conflict"
        feed = await store.changes(ChangesQuery())
        assert len(feed["results"]) == 51 and feed["last_seq"] == 51
        assert (await store.get("S0001:shop:S0001", GetOptions()))["_rev"] == base["rev"]
    finally:
        await store.close()


async def test_a_failing_job_leaves_nothing_behind_alone_or_beside_others(tmp_path: Path) -> None:
    """A job that fails after writing rows, alone in its transaction (no savepoint) or in a group (its own
    savepoint): none of its rows stay, its sequence numbers are not used, and the other jobs land."""
    from server.store.sqlite_write import prepare, write_job

    store = await SqliteStore.open(tmp_path)

    def failing(i: int) -> Any:
        inner = write_job(prepare([{"_id": f"S0001:self_check:01JDY{i:021d}"}], True, store.blobs), True, 1000)

        def job(conn: Any, state: Any) -> Any:
            inner(conn, state)
            raise RuntimeError("the disk said no")

        return job

    try:
        with pytest.raises(RuntimeError):
            await store.run_write(failing(1))
        good = [store.bulk_docs([{"_id": f"S0001:self_check:01JDX{i:021d}"}]) for i in range(20)]
        results = await asyncio.gather(store.run_write(failing(2)), *good, return_exceptions=True)
        assert isinstance(results[0], RuntimeError)
        assert all(r[0]["ok"] for r in results[1:])  # type: ignore[index]
        feed = await store.changes(ChangesQuery())
        assert sorted(r["id"] for r in feed["results"]) == [f"S0001:self_check:01JDX{i:021d}" for i in range(20)]
        assert feed["last_seq"] == 20 and (await store.info())["doc_count"] == 20
    finally:
        await store.close()


async def test_data_survives_reopening(tmp_path: Path) -> None:
    store = await SqliteStore.open(tmp_path)
    [res] = await store.bulk_docs([{"_id": DOC, "v": 1}])
    await store.put_local("checkpoint", {"last_seq": 1})
    await store.close()
    reopened = await SqliteStore.open(tmp_path)
    try:
        assert (await reopened.get(DOC, GetOptions()))["_rev"] == res["rev"]
        assert (await reopened.get_local("checkpoint"))["last_seq"] == 1
        info = await reopened.info()
        assert info["update_seq"] == 1 and info["doc_count"] == 1
    finally:
        await reopened.close()


async def test_a_database_made_with_the_earlier_revs_table_keeps_working(tmp_path: Path) -> None:
    """Databases made before `revs` had a rowid keep their WITHOUT ROWID table, and every path still works on it."""
    import sqlite3

    old = SCHEMA.replace("    PRIMARY KEY (doc_id, rev)\n);", "    PRIMARY KEY (doc_id, rev)\n) WITHOUT ROWID;", 1)
    assert old != SCHEMA
    conn = sqlite3.connect(tmp_path / "mashang.sqlite3")
    conn.executescript(old)
    conn.close()
    store = await SqliteStore.open(tmp_path)
    try:
        [first] = await store.bulk_docs([{"_id": DOC, "v": 1}])
        [second] = await store.bulk_docs([{"_id": DOC, "_rev": first["rev"], "v": 2}])
        other = {"_id": DOC, "_rev": "2-" + "f" * 32, "_revisions": {"start": 2, "ids": ["f" * 32, first["rev"][2:]]}}
        assert await store.bulk_docs([{**other, "v": 3}], new_edits=False) == []
        doc = await store.get(DOC, GetOptions(conflicts=True, revs=True))
        assert {doc["_rev"], *doc["_conflicts"]} == {second["rev"], other["_rev"]}
        assert doc["_revisions"]["ids"][-1] == first["rev"][2:]
        diff = (await store.revs_diff({DOC: [first["rev"], "3-" + "a" * 32]}))[DOC]
        assert diff["missing"] == ["3-" + "a" * 32]
        assert set(diff["possible_ancestors"]) == {second["rev"], other["_rev"]}
        feed = await store.changes(ChangesQuery(all_docs=True))
        [change] = feed["results"]
        assert change["id"] == DOC and len(change["changes"]) == 2
    finally:
        await store.close()
    conn = sqlite3.connect(tmp_path / "mashang.sqlite3")
    [sql] = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'revs'").fetchone()
    conn.close()
    assert sql.rstrip().endswith("WITHOUT ROWID")  # opening it did not change the table


async def test_durable_writes_wait_for_the_fsync_and_replicated_batches_do_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A replicator's batch (new_edits=false, durable=False) is answered at COMMIT; its checkpoint, every edit
    and the server's own local documents only once an fsync of the WAL that began after their COMMIT is done: a
    commit made while a flush runs waits for the next one (that flush may not have read its frames)."""
    store = await SqliteStore.open(tmp_path)
    writer = store._writer
    # The disk, held back: each fsync of the WAL says it began, then waits until the test lets one finish.
    began = [threading.Event() for _ in range(2)]
    finish = threading.Semaphore(0)
    fsyncs = itertools.count()
    real_fsync = os.fsync

    def held_fsync(fd: int) -> None:
        n = next(fsyncs)
        if n < len(began):
            began[n].set()
        finish.acquire(timeout=60)
        real_fsync(fd)

    async def until(event: threading.Event) -> None:
        assert await asyncio.to_thread(event.wait, 30)

    async def committed() -> None:
        """Until a reader sees the three writes below: committed, whether or not they were answered."""
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(CouchError):
                checkpoint = await store.get_local("user/u/s0/checkpoint")
                secret = await store.get_local("server/secret")
                if (
                    checkpoint["last_seq"] == 1
                    and secret["key"] == "k"
                    and (await store.get(DOC, GetOptions()))["v"] == 2
                ):
                    return
            assert time.monotonic() < deadline, "the writes were never committed"
            await asyncio.sleep(0.02)

    try:
        assert writer._conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL: the flusher syncs
        monkeypatch.setattr(os, "fsync", held_fsync)
        replicated = {"_id": DOC, "_rev": "1-a", "_revisions": {"start": 1, "ids": ["a"]}, "v": 1}
        # Answered while its fsync cannot end (had it waited for the disk, it would wait for ever).
        assert await asyncio.wait_for(store.bulk_docs([replicated], new_edits=False, durable=False), 30) == []
        await until(began[0])  # its flush began: the writes below all commit during it
        writes = [
            asyncio.ensure_future(store.put_local("user/u/s0/checkpoint", {"last_seq": 1})),
            asyncio.ensure_future(store.put_local("server/secret", {"key": "k"})),
            asyncio.ensure_future(store.bulk_docs([{"_id": DOC, "_rev": "1-a", "v": 2}])),
        ]
        await committed()
        await asyncio.sleep(0.2)
        assert not any(w.done() for w in writes)  # committed, visible, but not answered before the disk is
        finish.release()  # the flush that began before their COMMIT ends: it does not answer them
        await until(began[1])  # the next one began, and the first one's answers (none of them) went out before it
        await asyncio.sleep(0.2)
        assert not any(w.done() for w in writes)
        finish.release(100)  # the next flush ends, and any after it
        await asyncio.wait_for(asyncio.gather(*writes), 30)
        assert writer.commits["light"] == 1 and writer.commits["durable"] >= 1
    finally:
        finish.release(100)
        await store.close()


async def test_the_wal_restarts_under_writes_without_a_pause(tmp_path: Path) -> None:
    """No commit runs SQLite's automatic checkpoint (a thread does it), and writes that never pause still let
    the WAL start over instead of growing with everything written."""
    store = await SqliteStore.open(tmp_path)
    wal = tmp_path / "mashang.sqlite3-wal"
    try:
        assert store._writer._conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0
        body = "x" * 2000
        started, batches, restarts = time.monotonic(), 0, 0

        async def writer(n: int) -> None:
            """~1 MB of WAL frames a batch (4 KB pages scattered over 200 partitions), again and again."""
            nonlocal batches, restarts
            while batches < 60 or (restarts == 0 and time.monotonic() - started < 20):
                batch, batches = batches, batches + 1
                ids = [f"p{(batch * 7 + i) % 200:03d}:event:{batch:05d}{i:03d}" for i in range(100)]
                assert all(r.get("ok") for r in await store.bulk_docs([{"_id": i, "v": body} for i in ids]))
                if time.monotonic() - started >= 3 * WalCheckpointer.INTERVAL:
                    restarts = int.from_bytes(wal.read_bytes()[12:16], "big")

        # Four writers keep the store's writer busy for at least three of the checkpointer's rounds (a fast machine
        # wrote the first 60 MB in 0.6 s, barely a round: the WAL had no time to start over) and until the WAL
        # restarts or 20 s have passed. Whether the checkpointer's round or the writer's fallback (the next test)
        # lets it start over depends on the machine: on a slow one the checkpointer never caught up.
        await asyncio.gather(*(writer(n) for n in range(4)))
        # The WAL header counts its restarts (the checkpoint sequence number). The file keeps its largest size,
        # which depends on how busy the machine is; that it started over is what the design promises.
        largest = wal.stat().st_size
        assert restarts >= 1, f"restarted {restarts} times in {batches} batches, largest {largest / 2**20:.1f} MB"
        assert (await store.info())["doc_count"] == batches * 100
    finally:
        await store.close()


async def test_the_writer_checkpoints_between_transactions_when_the_checkpointer_falls_behind(tmp_path: Path) -> None:
    """Under writes that never pause, the checkpointer's rounds find new frames each time and cannot move the whole
    WAL; once it says it is behind, the writer checkpoints between two transactions, when nothing can be newer,
    and the WAL starts over at the next one."""
    store = await SqliteStore.open(tmp_path)
    wal = tmp_path / "mashang.sqlite3-wal"
    checkpointer = store._writer._checkpointer
    checkpointer._stopping.set()  # its thread stops: only the writer's fallback is left to checkpoint
    checkpointer._wake.set()
    checkpointer._thread.join(timeout=10)

    async def write(batch: int) -> None:
        docs = [{"_id": f"p{i:03d}:event:{batch:05d}", "v": "x" * 2000} for i in range(100)]
        assert all(r.get("ok") for r in await store.bulk_docs(docs))

    def restarts() -> int:
        return int.from_bytes(wal.read_bytes()[12:16], "big")

    try:
        for batch in range(10):
            await write(batch)
        assert restarts() == 0 and wal.stat().st_size > 2**20  # nothing checkpoints (SQLite's own is off)
        checkpointer.behind = True
        await write(10)  # the writer checkpoints after this one's commit (its answer may come a moment before)
        for _ in range(500):
            if not checkpointer.behind:
                break
            await asyncio.sleep(0.01)
        assert checkpointer.behind is False
        await write(11)  # and this one starts the WAL over
        assert restarts() == 1
    finally:
        await store.close()


async def test_a_longpoll_is_cancelled_even_as_a_change_arrives(tmp_path: Path) -> None:
    """Stopping a follower cancels its longpoll; a change that arrives in the same moment must not swallow the
    cancellation (asyncio.wait_for does on Python 3.11), or the follower polls on and holds the shutdown."""
    store = await SqliteStore.open(tmp_path)
    try:
        for ticks in range(6):  # the cancellation lands 0..5 event-loop turns after the change
            poll = asyncio.ensure_future(store.changes(ChangesQuery(since=0, wait_ms=5_000)))
            await asyncio.sleep(0.05)
            store._changed.set()  # what a commit does (`_publish`)
            for _ in range(ticks):
                await asyncio.sleep(0)
            poll.cancel()
            done, _ = await asyncio.wait([poll], timeout=2)
            assert poll in done and poll.cancelled(), f"cancellation lost {ticks} turns after a change"
            store._changed = asyncio.Event()
    finally:
        await store.close()


WRITER = """
import asyncio, sys
from pathlib import Path
from server.store.sqlite import SqliteStore

async def main(folder: str, prefix: str, count: int) -> None:
    store = await SqliteStore.open(Path(folder))
    try:
        for i in range(count):
            [answer] = await store.bulk_docs([{"_id": f"{prefix}:doc:{i:04d}", "n": i}])
            assert answer.get("ok"), answer
    finally:
        await store.close()

asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
"""


async def _other_process(folder: Path, prefix: str, count: int) -> asyncio.subprocess.Process:
    root = Path(__file__).resolve().parents[2]
    return await asyncio.create_subprocess_exec(sys.executable, "-c", WRITER, str(folder), prefix, str(count), cwd=root)


async def test_a_commit_of_another_process_while_this_store_opens_is_not_overwritten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store reads the sequence, then opens its writer. Another process that commits in between (a worker
    starting beside a gateway) must not go unnoticed: this store would give its next write the same sequence, and
    that document's row would take the other one's place in the changes feed (a clean-checkout CI run lost one)."""
    root = Path(__file__).resolve().parents[2]
    read_state = sqlite_module.read_state

    def then_another_process_commits(conn: object) -> tuple[int, int, int]:
        state = read_state(conn)  # type: ignore[arg-type]
        subprocess.run([sys.executable, "-c", WRITER, str(tmp_path), "S0003", "1"], cwd=root, check=True)
        return state

    first = await SqliteStore.open(tmp_path)
    await first.bulk_docs([{"_id": "S0001:doc:a"}])
    await first.close()
    monkeypatch.setattr(sqlite_module, "read_state", then_another_process_commits)
    store = await SqliteStore.open(tmp_path)
    monkeypatch.undo()
    try:
        [answer] = await store.bulk_docs([{"_id": "S0002:doc:b"}])
        assert answer.get("ok"), answer
        feed = await store.changes(ChangesQuery(since=0))
        assert sorted(row["id"] for row in feed["results"]) == ["S0001:doc:a", "S0002:doc:b", "S0003:doc:0000"]
        assert [row["seq"] for row in feed["results"]] == [1, 2, 3]
        assert (await store.info())["doc_count"] == 3
    finally:
        await store.close()


async def test_another_process_writing_the_same_folder(tmp_path: Path) -> None:
    """`mashang worker` or `rebuild` beside a gateway on one folder: two processes write in turns. Every write of
    both gets its own place in the changes feed (a phone that replicated up to a sequence misses none), the counts
    add up, and a longpolling feed here wakes for the other process's write."""
    store = await SqliteStore.open(tmp_path)
    try:
        other = await _other_process(tmp_path, "S0002", 60)
        for i in range(60):
            [answer] = await store.bulk_docs([{"_id": f"S0001:doc:{i:04d}", "n": i}])
            assert answer.get("ok"), answer
            await asyncio.sleep(0.002)
        assert await other.wait() == 0
        [answer] = await store.bulk_docs([{"_id": "S0001:doc:last"}])  # after the other's last commit
        assert answer.get("ok"), answer

        feed = await store.changes(ChangesQuery(since=0))
        seqs = [row["seq"] for row in feed["results"]]
        assert len(seqs) == len(set(seqs)) == 121 and seqs == sorted(seqs)
        assert (await store.info())["doc_count"] == 121

        top = feed["last_seq"]
        poll = asyncio.ensure_future(store.changes(ChangesQuery(since=top, wait_ms=20_000)))
        await asyncio.sleep(0.2)
        assert await (await _other_process(tmp_path, "S0003", 1)).wait() == 0
        woke = await asyncio.wait_for(poll, timeout=10)
        assert [row["id"] for row in woke["results"]] == ["S0003:doc:0000"]
    finally:
        await store.close()


async def test_the_feed_leaves_out_the_documents_of_types_not_asked_for(tmp_path: Path) -> None:
    """`ChangesQuery.types` (the alarm index's read of a busy feed): a document's type is its id's part after the
    partition, whole; `limit` counts only the documents asked for, and the feed's end is still its end."""
    store = await SqliteStore.open(tmp_path)
    try:
        asked = ["S1:alarm:01A", "S1:alarm", "district:hazard:x:y", "S2:alarm:01B"]
        others = ["S1:alarms:01C", "S1:note:x:alarm:y", "alarm", "S1:self_check:01D", "S1:hazardous:01E"]
        for doc_id in [others[0], asked[0], *others[1:3], asked[1], asked[2], asked[3], *others[3:]]:
            [answer] = await store.bulk_docs([{"_id": doc_id}])
            assert answer.get("ok"), answer
        kinds = frozenset({"alarm", "hazard"})
        feed = await store.changes(ChangesQuery(types=kinds))
        assert [row["id"] for row in feed["results"]] == asked
        assert feed["last_seq"] == 9 and feed["pending"] == 0  # read to the end, past the last one asked for
        page = await store.changes(ChangesQuery(types=kinds, limit=2))
        assert [row["id"] for row in page["results"]] == asked[:2] and page["pending"] == 2
        rest = await store.changes(ChangesQuery(types=kinds, since=page["last_seq"]))
        assert [row["id"] for row in rest["results"]] == asked[2:]
        assert (await store.changes(ChangesQuery(types=frozenset())))["results"] == []
        every = await store.changes(ChangesQuery())
        assert len(every["results"]) == 9
    finally:
        await store.close()


async def test_a_body_is_stored_as_the_text_of_its_json(tmp_path: Path) -> None:
    """Bodies reach SQLite as orjson's bytes (no decoding to a string and encoding back per document) and are kept
    as TEXT all the same: what every reader of the table, a backup's included, finds."""
    store = await SqliteStore.open(tmp_path)
    body = {"note": "店内通道畅通", "n": 1, "nested": {"ok": True}}
    try:
        [answer] = await store.bulk_docs([{"_id": "S1:note:a", **body}])
        replicated = {"_id": "S1:note:b", "_rev": "1-a", "_revisions": {"start": 1, "ids": ["a"]}, **body}
        assert await store.bulk_docs([replicated], new_edits=False) == []
        assert (await store.get("S1:note:a", GetOptions())) == {"_id": "S1:note:a", "_rev": answer["rev"], **body}
    finally:
        await store.close()
    conn = sqlite3.connect(tmp_path / "mashang.sqlite3")
    rows = conn.execute("SELECT typeof(body), body FROM revs ORDER BY doc_id").fetchall()
    conn.close()
    assert rows == [("text", orjson.dumps(body).decode())] * 2


async def test_a_replicated_batch_and_its_checkpoint_each_wake_the_event_loop_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each call from the store's threads into the event loop's is a thread the loop then waits on for the GIL:
    under a push on a busy machine, such hand-offs cost more than the work they hand over. A group's commit wakes
    the loop once, with its answers and its news for the feeds together, and a checkpoint's commit (no sequence
    moved, nothing for the feeds) only to answer once its fsync is done."""
    store = await SqliteStore.open(tmp_path)
    loop = asyncio.get_running_loop()
    real = loop.call_soon_threadsafe
    wakes: list[Any] = []

    def counted(callback: Any, *args: Any, **kwargs: Any) -> Any:
        if callback != store._wake_feeds:  # a commit seen by the watch on other processes' writes (once a second)
            wakes.append(callback)
        return real(callback, *args, **kwargs)

    monkeypatch.setattr(loop, "call_soon_threadsafe", counted)
    try:
        batch = [
            {"_id": f"S1:self_check:{i:03d}", "_rev": f"1-{i:03d}", "_revisions": {"start": 1, "ids": [f"{i:03d}"]}}
            for i in range(100)
        ]
        assert await store.bulk_docs(batch, new_edits=False, durable=False) == []
        assert (await store.info())["update_seq"] == 100  # the feeds heard of it before the writer's answer
        assert len(wakes) == 1
        wakes.clear()
        await store.put_local("user/u/s0/checkpoint", {"last_seq": 100})
        assert len(wakes) == 1
    finally:
        await store.close()
