"""The changes-feed follower: one per database, it keeps every projection in step with the events.

It reads the feed from its checkpoint (`_local/server/validators`) in longpoll batches, skips what it writes itself,
and puts the changed shops on a bounded queue; the feed pauses while the queue is full (CHT's sentinel does the
same). Workers project one shop at a time (`shops.project_shop_into`) as soon as it changes, so a serious finding
becomes an alarm within milliseconds; the checkpoint moves past a batch only once all of its shops are written,
so a crash replays, and replays are harmless. A shop that fails is retried with exponential back-off and, after
`max_tries`, parked and logged; the history lives in `_local/server/validators-retries`, and the others go on.
The sub-district pass (rankings, scores' ranks, statistics) is debounced; a daily tick (00:05, and at start)
projects every shop with the new day, so the time rules (missed weeks, overdue hazards) apply.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from server.models.common import split_id
from server.models.rules import Rules
from server.store.protocol import AllDocsQuery, ChangesQuery, Doc, Seq, Store
from server.store.snapshots import Saved, due
from server.validators.checkpoint import LocalDocs
from server.validators.context import Clock, Context, load_context, utc_now
from server.validators.district import district_pass
from server.validators.feed import Options, classify, next_tick
from server.validators.shops import project_shop_into, shop_codes
from server.validators.snapshot import EVERY as SNAPSHOT_EVERY
from server.validators.snapshot import save_facts
from server.validators.stats import ShopFacts, tracked

log = logging.getLogger("mashang.validators")

AlarmHook = Callable[[Doc], Awaitable[None]]


@dataclass
class _Batch:
    seq: Seq | None  # the feed position it ends at (None for a tick)
    left: int
    done: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class _Job:
    code: str
    batches: list[_Batch]
    background: bool = False  # a tick or a rules change: changes from devices go first
    started: bool = False


@dataclass
class Counters:
    projected: int = 0
    written: int = 0
    deleted: int = 0
    alarms: int = 0
    failures: int = 0
    district_passes: int = 0


class Follower:
    def __init__(self, store: Store, clock: Clock = utc_now, options: Options | None = None) -> None:
        self.store = store
        self.clock = clock
        self.options = options or Options()
        self.on_alarm: list[AlarmHook] = []  # called for each new alarm document written
        self.facts: dict[str, ShopFacts] = {}
        self.retries: dict[str, dict[str, Any]] = {}
        self.counters = Counters()
        self.context: Context | None = None
        self._active = False  # running: `run` has loaded the context and not returned
        self._hook_tasks: set[asyncio.Task[None]] = set()
        self._reset()

    def _reset(self) -> None:
        self._queue: asyncio.Queue[_Job] = asyncio.Queue(self.options.queue)  # shops changed in the feed
        self._background: collections.deque[_Job] = collections.deque()  # every shop, for a tick or new rules
        self._background_busy = 0
        self._work = asyncio.Event()
        self._pending: dict[str, _Job] = {}  # jobs not started yet, by shop
        self._running: dict[str, asyncio.Event] = {}
        self._batches: collections.deque[_Batch] = collections.deque()
        self._start = _Batch(None, 1)
        self._timers: set[asyncio.Task[None]] = set()
        self._save_lock = asyncio.Lock()
        self._dirty = asyncio.Event()
        self._dirty_first = self._dirty_last = 0.0
        self._district_running = False
        self._warm = False
        self._busy = 0
        self._seq: Seq = 0
        self._queued_seq: Seq = 0  # the feed is read up to here and every shop it changed is queued
        self._done_seq: Seq = 0
        self._saved_seq: Seq | None = None
        self._locals = LocalDocs(self.store)
        self._rules_batch: _Batch | None = None  # the batch of the last change of rules
        self._facts_saved: Saved | None = None  # the seq of the facts last kept, and when

    # ----- running -----

    async def run(self) -> None:
        """Follow the feed until cancelled."""
        self._reset()
        self.context = await load_context(self.store)
        self._active = True
        saved, self.retries = await self._locals.load()
        self._done_seq, self._saved_seq = saved or 0, saved
        # The start-up tick reads every shop's documents, so it covers the feed up to here: the reader starts here,
        # and the checkpoint moves here only once the tick is done (a crash before that starts over).
        self._seq = self._start.seq = (await self.store.info())["update_seq"]
        self._queued_seq = self._seq  # the start-up pass projects every shop: none is covered before it ends
        self._batches.append(self._start)
        tasks = [asyncio.create_task(self._worker()) for _ in range(self.options.workers)]
        tasks += [asyncio.create_task(job()) for job in (self._reader, self._ticker, self._district_loop)]
        try:
            await asyncio.gather(*tasks)
        finally:
            self._active = False
            for task in (*tasks, *self._timers):
                task.cancel()
            await asyncio.gather(*tasks, *self._timers, return_exceptions=True)
            if self._hook_tasks:  # let the alarm hooks already called finish their (short) work
                await asyncio.wait(set(self._hook_tasks), timeout=2)

    async def settled(self, timeout: float = 30.0) -> None:
        """Wait until everything in the store is projected and the sub-district pass has run (for tests, rebuild
        comparisons and benchmarks)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            busy = not self._warm or not self._idle() or self._dirty.is_set() or self._district_running
            if not busy and not self._timers and self._saved_seq is not None:
                after = await self.store.changes(ChangesQuery(since=self._saved_seq, limit=1))
                if not after["results"]:  # nothing in the feed past the saved checkpoint
                    return
            await asyncio.sleep(0.01)
        raise TimeoutError("the follower did not settle")

    def covers(self, code: str, seq: Seq) -> bool:
        """Whether the shop's facts here take in every change to it up to `seq` (the embedded store's sequence, a
        number; never for CouchDB's, which are not ordered by their text): the start-up pass is done, the feed is
        read past `seq` with every shop it changed queued, and nothing is queued, running or failing for this one.
        The office view takes such facts instead of reading the shop's documents again."""
        queued = self._queued_seq
        return (
            self._warm
            and type(seq) is int
            and type(queued) is int
            and queued >= seq
            and code in self.facts
            and code not in self._pending
            and code not in self._running
            and code not in self.retries
        )

    @property
    def rules(self) -> Rules | None:
        """The rules the shops are projected under, while the follower runs (None when it does not)."""
        return self.context.rules if self._active and self.context is not None else None

    @property
    def applying_rules(self) -> bool:
        """New rules (or a template) are being applied: not every shop is projected under them yet."""
        return self._rules_batch is not None and not self._rules_batch.done.is_set()

    def _idle(self) -> bool:
        return not self._busy and not self._pending

    def _mark_dirty(self) -> None:
        now = time.monotonic()
        if not self._dirty.is_set():
            self._dirty_first = now
            self._dirty.set()
        self._dirty_last = now

    # ----- the feed -----

    async def _reader(self) -> None:
        backoff = 1.0
        while True:
            try:
                query = ChangesQuery(since=self._seq, limit=self.options.batch, wait_ms=self.options.longpoll_ms)
                feed = await self.store.changes(query)
                context = self.context
                shops, everything = await self._take(await self._with_alarms(feed["results"]))
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("reading the changes feed failed; again in %.0f s", backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 30.0)
                continue
            backoff = 1.0
            batch = _Batch(feed["last_seq"], len(shops) + len(everything))
            if self.context is not context:  # new rules: every shop's facts are redone under them with this batch
                self._rules_batch = batch
            self._batches.append(batch)
            self._seq = feed["last_seq"]
            for code in sorted(shops):
                await self._enqueue(code, batch)  # waits while the queue is full: the feed pauses
            for code in everything:
                await self._enqueue(code, batch, background=True)
            self._queued_seq = feed["last_seq"]
            if batch.left == 0:
                batch.done.set()
                await self._advance()

    async def _with_alarms(self, results: list[Doc]) -> list[Doc]:
        """The feed is read without documents: most of it is the follower's own projections and the events of the
        shops it projects next, which it reads anyway. Only alarms are read here (the office may have moved one on)."""
        ids = [row["id"] for row in results if not row.get("deleted") and split_id(str(row["id"]))[1] == "alarm"]
        if not ids:
            return results
        found = await self.store.all_docs(AllDocsQuery(keys=ids, include_docs=True))
        docs = {row["id"]: row["doc"] for row in found["rows"] if row.get("doc")}
        return [{**row, "doc": docs[row["id"]]} if row["id"] in docs else row for row in results]

    async def _take(self, results: list[Doc]) -> tuple[set[str], list[str]]:
        """The shops a batch of changes asks to project again, and every other shop when the rules or a template
        changed."""
        shops: set[str] = set()
        everything = False
        for row in results:
            change = classify(row)
            if change.shop:
                shops.add(change.shop)
            everything |= change.everything
            if change.district or (change.alarm is not None and self._track_alarm(change.alarm)):
                self._mark_dirty()
        if not everything:
            return shops, []
        context = await load_context(self.store)
        codes = await shop_codes(self.store)
        # No await from here until the reader has queued the batch: the facts are never taken as made under the new
        # rules (`_keep_facts`) before every shop is queued to be projected under them.
        self.context = context
        self._mark_dirty()
        return shops, [code for code in codes if code not in shops]

    def _track_alarm(self, doc: Doc) -> bool:
        """Keep an alarm's status (the office's part) in the facts; answers whether it changed."""
        facts = self.facts.get(str(doc.get("shop")))
        alarm = tracked(doc, self.context.rules) if self.context and not doc.get("_deleted") else None
        if facts is None or alarm is None or alarm in facts.alarms:
            return False
        self.facts[facts.code] = facts.with_alarm(alarm)
        return True

    async def _enqueue(self, code: str, batch: _Batch | None, background: bool = False) -> None:
        waiting = self._pending.get(code)
        if waiting is not None:  # not started yet: it will read the latest documents anyway
            if batch is not None:
                waiting.batches.append(batch)
            if waiting.background and not background:  # a device changed it: it goes first now
                waiting.background = False
                await self._queue.put(waiting)
                self._work.set()
            return
        job = _Job(code, [batch] if batch else [], background)
        self._pending[code] = job
        if background:
            self._background.append(job)
        else:
            await self._queue.put(job)
        self._work.set()

    def _next_job(self) -> _Job | None:
        """A changed shop first; else, unless that would leave no worker for the feed, a background one."""
        while not self._queue.empty():
            job = self._queue.get_nowait()
            if not job.started:
                return job
        while self._background and self._background_busy < max(1, self.options.workers - 1):
            job = self._background.popleft()
            if not job.started and job.background:
                return job
        return None

    async def _advance(self) -> None:
        """Move the checkpoint past every batch whose shops are all written."""
        while self._batches and self._batches[0].left <= 0:
            seq = self._batches.popleft().seq
            if seq is not None:
                self._done_seq = seq
        async with self._save_lock:  # one save at a time, so the checkpoint never goes back
            seq = self._done_seq
            if seq != self._saved_seq and await self._locals.save_checkpoint(seq):
                self._saved_seq = seq

    # ----- projecting shops -----

    async def _worker(self) -> None:
        while True:
            job = self._next_job()
            if job is None:
                self._work.clear()
                await self._work.wait()
                continue
            job.started = True
            background = job.background
            if self._pending.get(job.code) is job:
                del self._pending[job.code]
            self._busy += 1
            self._background_busy += background
            try:
                while job.code in self._running:  # one projection of a shop at a time
                    await self._running[job.code].wait()
                self._running[job.code] = asyncio.Event()
                try:
                    await self._project(job)
                finally:
                    self._running.pop(job.code).set()
            finally:
                self._busy -= 1
                self._background_busy -= background
                self._work.set()  # a background slot may be free again
                for batch in job.batches:
                    batch.left -= 1
                    if batch.left == 0:
                        batch.done.set()
                await self._advance()

    async def _project(self, job: _Job) -> None:
        assert self.context is not None
        code = job.code
        try:
            outcome = await project_shop_into(self.store, code, self.context, self.context.today(self.clock))
        except asyncio.CancelledError:
            raise
        except Exception as e:
            await self._failed(code, e)
            return
        self.counters.projected += 1
        self.counters.written += outcome.written
        self.counters.deleted += outcome.deleted
        if outcome.written or outcome.deleted or self.facts.get(code) != outcome.facts:
            self._mark_dirty()
        self.facts[code] = outcome.facts
        if code in self.retries:
            log.info("shop %s is projected again after %s failure(s)", code, self.retries[code]["tries"])
            del self.retries[code]
            await self._locals.save_retries(self.retries)
        for alarm in outcome.new_alarms:
            self.counters.alarms += 1
            self._announce(alarm)

    async def _failed(self, code: str, error: Exception) -> None:
        self.counters.failures += 1
        tries = int(self.retries.get(code, {}).get("tries", 0)) + 1
        parked = tries >= self.options.max_tries
        reason = f"{type(error).__name__}: {error}"[:500]
        self.retries[code] = {"tries": tries, "parked": parked, "error": reason, "at": self.clock().isoformat()}
        await self._locals.save_retries(self.retries)
        if parked:
            log.error("shop %s is parked after %d failures: %s", code, tries, reason, exc_info=error)
            return
        delay = self.options.retry_base * 2 ** (tries - 1)
        log.warning(
            "shop %s failed (%d of %d), again in %.1f s: %s", code, tries, self.options.max_tries, delay, reason
        )
        timer = asyncio.create_task(self._retry_later(code, delay))
        self._timers.add(timer)
        timer.add_done_callback(self._timers.discard)

    async def _retry_later(self, code: str, delay: float) -> None:
        await asyncio.sleep(delay)
        await self._enqueue(code, None)

    def _announce(self, alarm: Doc) -> None:
        try:
            created = datetime.fromisoformat(str(alarm.get("created_at")))
        except ValueError:
            return
        if created < self.clock() - self.options.alarm_hook_max_age:
            return
        for hook in self.on_alarm:
            task = asyncio.create_task(self._call(hook, alarm))
            self._hook_tasks.add(task)
            task.add_done_callback(self._hook_tasks.discard)

    @staticmethod
    async def _call(hook: AlarmHook, alarm: Doc) -> None:
        try:
            await hook(alarm)
        except Exception:
            log.exception("an on_alarm hook failed for %s", alarm.get("_id"))

    # ----- the daily tick and the sub-district pass -----

    async def _ticker(self) -> None:
        while True:
            await self._tick()
            if self._start.left:
                self._start.left = 0
                await self._advance()
            assert self.context is not None
            target = next_tick(self.clock(), self.options.tick_at, ZoneInfo(self.context.rules.timezone))
            while self.clock() < target:
                await asyncio.sleep(min(self.options.tick_poll, max(0.05, (target - self.clock()).total_seconds())))

    async def _tick(self) -> None:
        """Project every shop as of today (at start, and each day after midnight)."""
        while True:
            try:
                self.context = await load_context(self.store)
                codes = await shop_codes(self.store)
                break
            except Exception as e:
                log.warning("the daily tick cannot list the shops (%s); again in 5 s", e)
                await asyncio.sleep(5)
        batch = _Batch(None, len(codes))
        for code in codes:
            await self._enqueue(code, batch, background=True)
        if codes:
            await batch.done.wait()
        self._warm = True
        self._mark_dirty()

    async def _district_loop(self) -> None:
        while True:
            await self._dirty.wait()
            while True:
                now = time.monotonic()
                quiet = now - self._dirty_last >= self.options.debounce and self._idle()
                if self._warm and (quiet or now - self._dirty_first >= self.options.max_delay):
                    break
                await asyncio.sleep(min(0.05, self.options.debounce / 2))
            self._dirty.clear()
            self._district_running = True
            try:
                assert self.context is not None
                today = self.context.today(self.clock)
                counts = await district_pass(self.store, self.context, today, dict(self.facts))
                self.counters.district_passes += 1
                if counts.conflicts:
                    self._mark_dirty()
                await self._keep_facts()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("the sub-district pass failed; again in %.0f s", self.options.max_delay)
                await asyncio.sleep(self.options.max_delay)
                self._mark_dirty()
            finally:
                self._district_running = False

    async def _keep_facts(self) -> None:
        """Keep every shop's facts for the office view (`validators.snapshot`), with the seq they are true at: every
        change up to the checkpoint's position is in them. Not before the start-up pass has made them all, nor while
        new rules are being applied (they would be labelled with rules some were not made under)."""
        rules_batch, context = self._rules_batch, self.context
        if not self._warm or context is None or (rules_batch is not None and not rules_batch.done.is_set()):
            return
        seq = self._done_seq
        if not due(self._facts_saved, seq, SNAPSHOT_EVERY):
            return
        self._facts_saved = (seq, time.monotonic())
        # A shop whose projection failed may have changed past its facts: the office reads it from the store.
        facts = {code: f for code, f in self.facts.items() if code not in self.retries}
        try:
            await save_facts(self.store, seq, context.rules, facts, by="validators")
        except Exception as e:  # a shortcut for the office's next start: projecting goes on regardless
            log.warning("the shops' facts were not kept for the office view (%s)", e)
