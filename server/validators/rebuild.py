"""`mashang rebuild`: every projection recomputed from the events, writing only what differs.

It runs the follower's own steps (each shop, then the sub-district pass) once over the whole store, so right after
the follower has caught up it writes nothing, and on a store holding only events it writes everything.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TextIO

from server.store.protocol import Doc, Store
from server.store.sqlite import SqliteStore
from server.validators import replay
from server.validators.context import Clock, load_context, utc_now
from server.validators.district import district_pass, past_days
from server.validators.shops import Outcome, project_shop_into, shop_codes
from server.validators.stats import ShopFacts

# The re-ranked scores: a rebuild has no device waiting behind its writes, and each write waits for its fsync
# (~0.05 s at a few thousand scores, this process idle meanwhile), so they go in transactions as big as the shops'
# (`replay.WRITE_BATCH`): 3,000 shops' scores in one write, not three.
REBUILD_WRITE_CHUNK = 5000
PROGRESS_EVERY = 5.0  # seconds between two lines of `Progress`

# How far the shops are: (projected, of).
OnProgress = Callable[[int, int], None]


class Progress:
    """`mashang rebuild`'s progress on `out`: a line when it starts, one every `every` seconds with the share done and
    an estimate of the time left (a district on CouchDB takes many minutes), and one when every shop is projected."""

    def __init__(self, out: TextIO, every: float = PROGRESS_EVERY, clock: Callable[[], float] = time.monotonic):
        self.out, self.every, self.clock = out, every, clock
        self.started = clock()
        self.last: float | None = None
        self.finished = False

    def __call__(self, done: int, total: int) -> None:
        now = self.clock()
        if self.last is None:
            self._say(f"projecting {total} shops")
        elif self.finished or (done < total and now - self.last < self.every):
            return
        self.last = now
        if done == 0:
            return
        self.finished = done >= total
        spent = now - self.started
        if done < total:
            left = spent / done * (total - done)
            self._say(f"{done} of {total} shops ({100 * done // total}%), {spent:.0f} s, about {_duration(left)} left")
        else:
            self._say(f"{done} of {total} shops projected in {spent:.0f} s; now the rankings and statistics")

    def _say(self, text: str) -> None:
        print(f"rebuild: {text}", file=self.out, flush=True)


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"


@dataclass
class Rebuilt:
    shops: int = 0
    written: int = 0  # shop projections created or changed
    deleted: int = 0  # ledger entries and hazards the events no longer give
    alarms: int = 0  # of the written, new alarms
    rankings: int = 0
    scores_ranked: int = 0
    stats: int = 0
    failed: dict[str, str] = field(default_factory=dict)  # shop → error: its projections are left as they were
    seconds: float = 0.0
    worker_seconds: float = 0.0  # process time of the worker processes (embedded store)

    @property
    def changed(self) -> int:
        return self.written + self.deleted + self.rankings + self.scores_ranked + self.stats

    def lines(self) -> list[str]:
        rate = self.shops / self.seconds if self.seconds else 0.0
        return [
            f"shops projected      {self.shops} ({rate:.0f} shops/s)",
            f"documents written    {self.written} (new alarms {self.alarms})",
            f"documents deleted    {self.deleted}",
            f"ranking snapshots    {self.rankings}",
            f"scores re-ranked     {self.scores_ranked}",
            f"statistics           {self.stats}",
            f"seconds              {self.seconds:.2f}",
            *(f"FAILED {code}: {error}" for code, error in sorted(self.failed.items())),
        ]


async def rebuild(
    store: Store,
    clock: Clock = utc_now,
    concurrency: int | None = None,
    workers: int | None = None,
    progress: OnProgress | None = None,
) -> Rebuilt:
    """Project every shop, then run the sub-district pass. On the embedded store the shops are read and projected
    in worker processes (`replay`; `workers`, one per core by default, 0 for none) while this process writes. On
    CouchDB a few shops in parallel hide the network's latency (`concurrency`). Either way each shop's projection
    also gives its scores as of the past days the sub-district pass is missing rankings for. `progress` hears how
    many shops are projected, first with none."""
    tell: OnProgress = progress or (lambda done, total: None)
    started = time.monotonic()
    context = await load_context(store)
    today = context.today(clock)
    wanted = await past_days(store, context, today)
    results: Sequence[Outcome | BaseException]
    worker_seconds = 0.0
    # New scores, held back by the embedded store's shop pass and written once, ranked, by the sub-district pass.
    held: dict[str, Doc] = {}
    create: Callable[[list[Doc]], Awaitable[int]] | None = None
    if workers != 0 and replay.available(store):
        assert isinstance(store, SqliteStore)
        codes = await replay.shop_codes(store)
        tell(0, len(codes))
        results, worker_seconds = await replay.project_shops(
            store, context, today, codes, wanted, workers, tell, held=held
        )
        create = partial(replay.create, store)
    else:
        codes = await shop_codes(store)
        tell(0, len(codes))
        if concurrency is None:
            concurrency = 1 if store.kind == "sqlite" else 4
        limit = asyncio.Semaphore(concurrency)
        done = 0

        async def one(code: str) -> Outcome:
            nonlocal done
            async with limit:
                try:
                    return await project_shop_into(store, code, context, today, wanted)
                finally:
                    done += 1
                    tell(done, len(codes))

        results = await asyncio.gather(*(one(code) for code in codes), return_exceptions=True)
    outcomes = [r for r in results if isinstance(r, Outcome)]
    failed = {
        code: f"{type(r).__name__}: {r}" for code, r in zip(codes, results, strict=True) if isinstance(r, BaseException)
    }
    facts: dict[str, ShopFacts] = {outcome.code: outcome.facts for outcome in outcomes}
    past = {outcome.code: outcome.past for outcome in outcomes}
    # The pass makes short-lived documents by the hundred thousand and hardly any cycles, beside the long-lived
    # facts and past scores of every shop: at the default thresholds the collector walked those ~20 times, 0.14 s of
    # a 3,000-shop district's ~0.9 s pass. The shops' projection raises them the same way (`replay.project_shops`).
    threshold = gc.get_threshold()
    gc.set_threshold(*replay.WORKER_GC)
    try:
        district = await district_pass(
            store, context, today, facts, past, write_chunk=REBUILD_WRITE_CHUNK, unwritten=held, create=create
        )
    finally:
        gc.set_threshold(*threshold)
    return Rebuilt(
        shops=len(codes),
        written=sum(o.written for o in outcomes),
        deleted=sum(o.deleted for o in outcomes),
        alarms=sum(len(o.new_alarms) for o in outcomes),
        rankings=district.rankings,
        scores_ranked=district.scores,
        stats=district.stats,
        failed=failed,
        seconds=time.monotonic() - started,
        worker_seconds=worker_seconds,
    )
