"""`mashang rebuild`'s shop pass on the embedded store: worker processes read and project, the store writes.

Projection is pure and CPU-bound, so it runs in a pool of worker processes (one per core). They come from
multiprocessing's fork server, a clean single-threaded process that has imported the validators once: forking
the rebuilding process itself could copy a lock that one of the store's threads (writer, readers, WAL
checkpointer) holds at that moment, and the worker would wait for it forever. Each worker opens its own read-only
connection (`sqlite_bulk.Reader`), and for each shop of a chunk reads its partition in one query, projects it
(`shops.project_with_past`: the documents, the comparison with what is stored, the facts, and the past scores
the sub-district pass will want), and answers what to write, the brand-new documents already as the rows the
store keeps (`sqlite_bulk.new_row`). The rebuilding process writes: the new documents of ~5,000 at a time in one
transaction (`sqlite_bulk.insert_new`), the edits and deletions in one `bulk_docs`. It also projects the last
chunks itself while the pool starts (`_Shares`): the fork server's start takes ~0.3 s, a core left idle. A shop
whose write meets a conflict (the office changed an alarm meanwhile) or whose projection failed in a worker is
projected again the ordinary way (`shops.project_shop_into`), which re-reads, retries and reports an error.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import date
from multiprocessing.context import BaseContext
from pathlib import Path
from typing import Any

import orjson

from server.errors import CouchError
from server.models.common import NOT_SHOPS
from server.store.protocol import Doc
from server.store.sqlite import SqliteStore
from server.store.sqlite_bulk import NewRow, Reader, insert_new, new_row
from server.validators.context import Context
from server.validators.shops import Outcome, PastDays, partition, project_shop_into, project_with_past
from server.validators.stats import ShopFacts

log = logging.getLogger("mashang.validators")

# Shops per task: small enough that writing overlaps with projecting the next ones.
CHUNK = 20
WORKER_GC = (100_000, 50, 1000)  # gc.set_threshold in the workers (see `tune_gc`)
# Documents per write transaction (one fsync each); a chunk of a district year has about 1,500.
WRITE_BATCH = 5000
OWNER_POLL = 0.5  # seconds between a worker's looks at whether the rebuilding process is still there


@dataclass
class Projected:
    code: str
    facts: ShopFacts | None = None
    score: Doc | None = None
    rows: list[NewRow] = field(default_factory=list)  # documents the shop did not have
    alarms: list[str] = field(default_factory=list)  # the ids of the new alarms among them
    edits: list[Doc] = field(default_factory=list)  # changed documents and deletions, with their `_rev`
    deleted: int = 0
    past: dict[date, Doc | None] = field(default_factory=dict)
    error: str | None = None


@dataclass(frozen=True)
class Job:
    data_dir: str
    context: Context
    today: date
    past_days: PastDays
    owner: int = 0  # the rebuilding process: a worker ends when it is gone (killed), never left running on its own


_job: Job | None = None
_reader: Reader | None = None


def tune_gc() -> None:
    """For a process that only projects: it makes millions of short-lived objects and hardly any cycles, and the
    cyclic collector's default thresholds made it spend ~30% of its time collecting (the imported modules are
    moved out of its way, and it runs after 100,000 allocations instead of 700)."""
    gc.freeze()
    gc.set_threshold(*WORKER_GC)


def _start(job: Job) -> None:
    global _job, _reader
    tune_gc()
    _job, _reader = job, Reader(Path(job.data_dir))
    if job.owner:
        threading.Thread(target=_end_with, args=(job.owner,), name="mashang-replay-owner", daemon=True).start()


def _end_with(owner: int) -> None:
    """End this worker once the rebuilding process is gone. A worker is the fork server's child, so a kill -9 of
    the rebuild left it running (the fork server ends with its parent, the workers did not), holding the pipes of
    whoever started the rebuild."""
    while True:
        time.sleep(OWNER_POLL)
        try:
            os.kill(owner, 0)
        except ProcessLookupError:
            os._exit(1)
        except PermissionError:
            pass  # there, under another user: not ours to end


def project_chunk(codes: Sequence[str]) -> tuple[list[Projected], float]:
    """In a worker: read and project these shops; answers also the process time it took."""
    assert _job is not None and _reader is not None
    started = time.process_time()
    projected = [_project_one(_job, _reader, code) for code in codes]
    return projected, time.process_time() - started


def _project_one(job: Job, reader: Reader, code: str) -> Projected:
    try:
        part = partition(code, reader.range(f"{code}:", f"{code}:\ufff0"))
        days = job.past_days.of(part.registry)
        plan, facts, score, past = project_with_past(code, part, job.context, job.today, days)
    except Exception as e:  # projected again in the rebuilding process, which reports it
        return Projected(code, error=f"{type(e).__name__}: {e}")
    out = Projected(code, facts, score, past=dict(zip(days, past, strict=True)), deleted=plan.deleted)
    for doc in plan.writes:
        if "_rev" in doc:
            out.edits.append(doc)
        else:
            out.rows.append(new_row(doc))
    out.alarms = [str(doc["_id"]) for doc in plan.new_alarms]
    return out


def _processes() -> BaseContext:
    """The fork server's context; it starts once per process, with the validators imported."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    return context


async def shop_codes(store: SqliteStore) -> list[str]:
    """`shops.shop_codes`, from the index of partitions."""

    def read() -> list[str]:
        reader = Reader(store.data_dir)
        try:
            return [code for code in reader.partitions() if code not in NOT_SHOPS]
        finally:
            reader.close()

    return await asyncio.to_thread(read)


def available(store: object) -> bool:
    return isinstance(store, SqliteStore) and "forkserver" in multiprocessing.get_all_start_methods()


async def project_shops(
    store: SqliteStore,
    context: Context,
    today: date,
    codes: Sequence[str],
    past_days: PastDays,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    held: dict[str, Doc] | None = None,
) -> tuple[list[Outcome | BaseException], float]:
    """Every shop's `Outcome` (or the error that stopped it), in the order of `codes`, and the process time the
    workers spent (they are not this process's children, so its own process time does not count them).
    `progress` hears how many shops are written after each write (those left to the ordinary way at the end).
    With `held`, a score the store has no document for is not written but put there (id -> document), for the
    caller to write once with its rank (`create`); its shop's `Outcome` counts it as written all the same."""
    workers = workers or os.cpu_count() or 1
    job = Job(str(store.data_dir), context, today, past_days, owner=os.getpid())
    outcomes: dict[str, Outcome | BaseException] = {}
    again: list[str] = []
    cpu = 0.0
    tasks: list[asyncio.Future[tuple[list[Projected], float]]] = []
    threshold = gc.get_threshold()
    gc.set_threshold(*WORKER_GC)  # this process too makes mostly short-lived objects meanwhile (see `tune_gc`)
    chunks = [codes[i : i + CHUNK] for i in range(0, len(codes), CHUNK)]
    shares = _Shares(chunks, reserve=workers + 1)
    here: asyncio.Future[dict[int, list[Projected]]] | None = None
    try:
        with ProcessPoolExecutor(workers, mp_context=_processes(), initializer=_start, initargs=(job,)) as pool:
            # Both in threads: the first submission waits for the fork server to start (it imports the validators,
            # ~0.3 s), and this process projects chunks from the end meanwhile instead of waiting idle.
            here = asyncio.ensure_future(asyncio.to_thread(shares.project_here, job))
            submitted = await asyncio.to_thread(shares.submit, pool)
            tasks = [asyncio.wrap_future(future) for future in submitted]
            projected_here = await here
            pending: list[Projected] = []
            for i in range(len(chunks)):
                if i < len(tasks):
                    projected, spent = await tasks[i]
                    cpu += spent
                else:
                    projected = projected_here[i]
                pending += projected
                if i == len(chunks) - 1 or sum(len(p.rows) + len(p.edits) for p in pending) >= WRITE_BATCH:
                    again += await _write(store, pending, outcomes, held)
                    pending = []
                    if progress is not None:
                        progress(len(outcomes), len(codes))
    except BrokenProcessPool as e:
        # A worker died (killed, out of memory, or a script that starts a rebuild without the
        # `if __name__ == "__main__":` guard multiprocessing needs): the shops not written yet go the ordinary way.
        log.warning("rebuild: the worker processes stopped (%s); the other shops are projected here", e)
        await asyncio.gather(*tasks, *([here] if here is not None else []), return_exceptions=True)
        again += [code for code in codes if code not in outcomes and code not in again]
    finally:
        gc.set_threshold(*threshold)
    for code in again:
        try:
            outcomes[code] = await project_shop_into(store, code, context, today)
        except Exception as e:
            outcomes[code] = e
    if progress is not None and again:
        progress(len(codes), len(codes))
    return [outcomes[code] for code in codes], cpu


class _Shares:
    """Which chunks the worker processes project and which this process projects itself, while the first
    submission starts the pool: the pool takes them from the first on, this process from the last back, until
    they meet (then the rest are the pool's). A chunk's results are written in the chunks' order either way.

    The pool keeps its first `reserve` chunks whatever happens, enough to start every worker (and a rebuild of a
    few shops stays in the workers). With the fork server already running (a second rebuild in one process) the
    pool has them all at once and this process takes none, or the one it had begun with."""

    def __init__(self, chunks: Sequence[Sequence[str]], reserve: int) -> None:
        self.chunks = chunks
        self.reserve = reserve
        self.lock = threading.Lock()
        self.head = 0  # chunks[:head] are the pool's
        self.tail = len(chunks)  # chunks[tail:] are this process's

    def submit(self, pool: ProcessPoolExecutor) -> list[Future[tuple[list[Projected], float]]]:
        """In a thread: every chunk this process has not taken, to the pool, in order."""
        futures: list[Future[tuple[list[Projected], float]]] = []
        try:
            while True:
                with self.lock:
                    if self.head >= self.tail:
                        return futures
                    index = self.head
                    self.head += 1
                futures.append(pool.submit(project_chunk, self.chunks[index]))
        finally:
            with self.lock:  # also when the pool broke: this process takes no more
                self.head = self.tail

    def project_here(self, job: Job) -> dict[int, list[Projected]]:
        """In a thread: project chunks from the last back while the pool is not given them yet."""
        done: dict[int, list[Projected]] = {}
        reader: Reader | None = None
        try:
            while True:
                with self.lock:
                    if self.tail - 1 < max(self.head, self.reserve):
                        return done
                    self.tail -= 1
                    index = self.tail
                reader = reader or Reader(Path(job.data_dir))
                done[index] = [_project_one(job, reader, code) for code in self.chunks[index]]
        finally:
            if reader is not None:
                reader.close()


async def _write(
    store: SqliteStore,
    projected: list[Projected],
    outcomes: dict[str, Outcome | BaseException],
    held: dict[str, Doc] | None = None,
) -> list[str]:
    """Write one chunk's projections; answers the shops to project again the ordinary way. With `held`, new scores
    are left out and put there once their shop's other documents are written (`project_shops`)."""
    again = [p.code for p in projected if p.error is not None or p.facts is None]
    done = [p for p in projected if p.error is None and p.facts is not None]
    holding = {f"{p.code}:score" for p in done} if held is not None else set()
    refused = set(await insert_new(store, [row for p in done for row in p.rows if row[0] not in holding]))
    edits: list[Doc] = []
    owner: dict[str, Projected] = {}
    for p in done:
        for doc in p.edits:
            edits.append(doc)
            owner[str(doc["_id"])] = p
        for doc_id, _rev, body in p.rows if refused else ():
            if doc_id in refused:  # the store knew the id (a deleted document): an ordinary edit
                edits.append({"_id": doc_id, **orjson.loads(body)})
                owner[doc_id] = p
    answers: dict[str, Any] = {}
    if edits:
        answers = {str(a.get("id")): a for a in await store.bulk_docs(edits)}
    failed = {owner[doc_id].code for doc_id, a in answers.items() if not a.get("ok") and doc_id in owner}
    for p in done:
        if p.code in failed:
            again.append(p.code)
            continue
        assert p.facts is not None
        # Every new row is written, inserted or (refused) as an edit; of the edits, all but the deletions.
        written = len(p.rows) + sum(1 for doc in p.edits if not doc.get("_deleted"))
        alarms = [{"_id": doc_id} for doc_id in p.alarms]  # their ids only: the rebuild counts them
        outcomes[p.code] = Outcome(p.code, written, p.deleted, alarms, p.facts, p.score, p.past)
        if held is not None and p.score is not None and any(row[0] in holding for row in p.rows):
            held[str(p.score["_id"])] = p.score
    return again


async def create(store: SqliteStore, docs: list[Doc]) -> int:
    """Write documents the store has no live document for (the held scores, ranked), as `_write` writes new rows;
    answers how many."""
    rows = [new_row(doc) for doc in docs]
    refused = set(await insert_new(store, rows))
    if refused:  # a deleted document of the id: an edit of its tombstone
        answers = await store.bulk_docs([doc for doc in docs if doc["_id"] in refused])
        failed = [a for a in answers if not a.get("ok")]
        if failed:
            raise CouchError(500, str(failed[0].get("error")), f"{failed[0].get('id')}: {failed[0].get('reason')}")
    return len(docs)
