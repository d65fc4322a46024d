"""Replay benchmark: how fast the validators turn a year of a district's events into its projections.

A district year is generated with the demo's own generators (`server.demo`: the same shops, owners' weekly
self-checks, monthly patrols, hazards, rectifications and verifications `mashang demo` writes), for `--shops`
shops; a city district (~30,000 shops) makes ~2.3M events a year (1.3M of them scored, the rest photos), too many
for `make bench`'s time, so by default the figures are measured on 600 shops and extrapolated (printed as such).
`--shops 30000` runs the whole of one: ~6 minutes and 5.6 GB here (2026-12-02), where a rebuild from events ran at
the 600 shops' rate (21,043/s against 21,090/s) and a caught-up one below it (29,118/s against 35,541/s: a store
of 3.4M documents reads and writes slower than one of 70,000).

Three figures, events per second (photos are not scored and are left out of the count and the store):
1. projection only: `_project` (`project_shop` + the comparison with what is stored + the shop's facts) for every
   shop, in memory, in this one process with the workers' garbage-collector settings (`replay.tune_gc`): the CPU
   cost of projecting, per core (process time, so other load on the machine counts as little as it can). A
   rebuild on a fresh store also takes each shop's past scores for the monthly rankings it is missing, in the
   same pass, which this figure leaves out.
2. `mashang rebuild` on an embedded store holding only the events (wall time, `Rebuilt.seconds`): worker
   processes, one per core, read each shop's partition straight from SQLite and project it; this process
   inserts the new documents as rows, ~5,000 per transaction, then runs the sub-district pass (rankings of the
   past months from the past scores the workers gave, scores re-ranked, statistics);
3. `mashang rebuild` again right after: reads and projects everything, writes nothing (the byte-identical check).
The process time printed with 2 and 3 is this process's (its writer and reader threads included) plus what the
worker processes report: on a machine that other work keeps busy it is the steadier figure.
Target: 30,000 events/s. Prints figures only; no assertion on time.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # run as a script: make the tests package importable
    sys.path.insert(0, str(ROOT))

from server.demo.build import _registry, months_before  # noqa: E402
from server.demo.district import District, plan_district  # noqa: E402
from server.demo.history import TZ, ShopHistory  # noqa: E402
from server.models import default_rules, default_template  # noqa: E402
from server.registry import shipped_documents  # noqa: E402
from server.store.sqlite import SqliteStore  # noqa: E402
from server.validators.context import load_context  # noqa: E402
from server.validators.rebuild import rebuild  # noqa: E402
from server.validators.replay import tune_gc  # noqa: E402
from server.validators.shops import Partition, _project  # noqa: E402

CITY_DISTRICT_EVENTS = 2_300_000
TARGET = 30_000
WRITE_BATCH = 1000

Shops = list[tuple[str, dict[str, Any], list[dict[str, Any]]]]


def generate(shops: int, months: int, seed: int) -> tuple[District, Shops]:
    district = plan_district(seed, shops, max(1, round(shops / 19)))
    today = datetime.now(TZ).date()
    start = datetime.combine(months_before(today, months), datetime.min.time(), TZ)
    end = datetime.combine(today, datetime.min.time(), TZ)
    template, rules = default_template(), default_rules()
    out: Shops = []
    for shop in district.shops:
        history = ShopHistory(seed, shop, district.worker(shop.patroller), template, rules, start, end).run()
        registry = {"_id": f"{shop.code}:shop:{shop.code}", "type": "shop", "schema": 1, **shop.registry_doc()}
        out.append((shop.code, registry, [e.doc for e in history if e.doc["type"] != "photo"]))
    return district, out


def project_in_memory(shops: Shops) -> tuple[float, float]:
    """Process and wall seconds of the CPU-bound half of `project_shop_into`, for every shop."""
    context = asyncio.run(_default_context())
    today = context.today(lambda: datetime.now(TZ))
    threshold = gc.get_threshold()
    tune_gc()  # as in the rebuild's worker processes
    try:
        cpu, wall = time.process_time(), time.perf_counter()
        for code, registry, events in shops:
            _project(code, Partition(registry, events, {}), context, today)
        return time.process_time() - cpu, time.perf_counter() - wall
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


async def _default_context() -> Any:
    with tempfile.TemporaryDirectory() as tmp:
        store = await SqliteStore.open(Path(tmp))
        try:
            return await load_context(store)
        finally:
            await store.close()


async def replay_in_store(district: District, shops: Shops, data: Path) -> list[tuple[str, float, int, float, float]]:
    store = await SqliteStore.open(data, revs_limit=1000)
    try:
        await shipped_documents(store)
        await _registry(store, district)
        events = sorted((doc for _, _, docs in shops for doc in docs), key=lambda doc: str(doc["performed_at"]))
        started = time.perf_counter()
        for i in range(0, len(events), WRITE_BATCH):
            await store.bulk_docs(events[i : i + WRITE_BATCH])
        print(f"  (events written to the store in {time.perf_counter() - started:.1f} s)")
        runs = []
        for name in ("rebuild, from events only", "rebuild again, caught up"):
            cpu = time.process_time()
            result = await rebuild(store)
            runs.append((name, result.seconds, result.changed, time.process_time() - cpu, result.worker_seconds))
        return runs
    finally:
        await store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shops", type=int, default=600)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    started = time.perf_counter()
    district, shops = generate(args.shops, args.months, args.seed)
    count = sum(len(events) for _, _, events in shops)
    print(f"district year: {args.shops} shops, {args.months} months, {count} scored events ", end="")
    print(f"({count / args.shops:.0f} per shop), generated in {time.perf_counter() - started:.1f} s")
    print(f"a city district year (~{CITY_DISTRICT_EVENTS:,} events) is extrapolated from these; target {TARGET:,}/s")
    print()
    print(f"{'path':34} {'seconds':>8} {'events/s':>10} {'2.3M events':>12}")

    def row(name: str, seconds: float, note: str = "") -> None:
        rate = count / seconds if seconds else float("inf")
        print(f"{name:34} {seconds:8.2f} {rate:10,.0f} {CITY_DISTRICT_EVENTS / rate / 60:10.1f} m  {note}")

    cpu, wall = project_in_memory(shops)
    row("projection only (process time)", cpu, f"wall {wall:.2f} s")
    with tempfile.TemporaryDirectory(prefix="mashang-bench-replay-") as tmp:
        for name, seconds, changed, cpu, workers in asyncio.run(replay_in_store(district, shops, Path(tmp) / "data")):
            note = f"process time {cpu + workers:.2f} s (this process {cpu:.2f} s, workers {workers:.2f} s)"
            row(name, seconds, f"{changed} documents written; {note}")


if __name__ == "__main__":
    main()
