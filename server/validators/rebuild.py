"""`mashang rebuild`: every projection recomputed from the events, writing only what differs.

It runs the follower's own steps (each shop, then the sub-district pass) once over the whole store, so right after
the follower has caught up it writes nothing, and on a store holding only events it writes everything.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from server.store.protocol import Store
from server.store.sqlite import SqliteStore
from server.validators import replay
from server.validators.context import Clock, load_context, utc_now
from server.validators.district import district_pass, past_days
from server.validators.shops import Outcome, project_shop_into, shop_codes
from server.validators.stats import ShopFacts

REBUILD_WRITE_CHUNK = 1000  # the re-ranked scores: a rebuild has no device waiting behind its writes


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
    store: Store, clock: Clock = utc_now, concurrency: int | None = None, workers: int | None = None
) -> Rebuilt:
    """Project every shop, then run the sub-district pass. On the embedded store the shops are read and projected
    in worker processes (`replay`; `workers`, one per core by default, 0 for none) while this process writes. On
    CouchDB a few shops in parallel hide the network's latency (`concurrency`). Either way each shop's projection
    also gives its scores as of the past days the sub-district pass is missing rankings for."""
    started = time.monotonic()
    context = await load_context(store)
    today = context.today(clock)
    wanted = await past_days(store, context, today)
    results: Sequence[Outcome | BaseException]
    worker_seconds = 0.0
    if workers != 0 and replay.available(store):
        assert isinstance(store, SqliteStore)
        codes = await replay.shop_codes(store)
        results, worker_seconds = await replay.project_shops(store, context, today, codes, wanted, workers)
    else:
        codes = await shop_codes(store)
        if concurrency is None:
            concurrency = 1 if store.kind == "sqlite" else 4
        limit = asyncio.Semaphore(concurrency)

        async def one(code: str) -> Outcome:
            async with limit:
                return await project_shop_into(store, code, context, today, wanted)

        results = await asyncio.gather(*(one(code) for code in codes), return_exceptions=True)
    outcomes = [r for r in results if isinstance(r, Outcome)]
    failed = {
        code: f"{type(r).__name__}: {r}" for code, r in zip(codes, results, strict=True) if isinstance(r, BaseException)
    }
    facts: dict[str, ShopFacts] = {outcome.code: outcome.facts for outcome in outcomes}
    past = {outcome.code: outcome.past for outcome in outcomes}
    district = await district_pass(store, context, today, facts, past, write_chunk=REBUILD_WRITE_CHUNK)
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
