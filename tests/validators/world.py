"""A small district for the follower tests: two communities of one sub-district, a grid each, a few shops with a
few weeks of checks, patrols, fixes and verdicts, and a fixed clock (2026-03-20 12:00 in Shanghai)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from server.store.protocol import AllDocsQuery, Doc, Store
from server.validators.feed import Options
from server.validators.follower import Follower
from tests.validators.builders import SHOP, finding, hazard_id, patrol, photo, rectification, self_check, shop
from tests.validators.builders import verification as verify

SUBDISTRICT = "xixi"
NOW = datetime(2026, 3, 20, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai
FAST = Options(
    longpoll_ms=300,
    debounce=0.02,
    max_delay=0.3,
    retry_base=0.01,
    max_tries=3,
    workers=3,
    queue=3,
    batch=7,
    tick_poll=0.02,
)


def clock() -> datetime:
    return NOW


def code(n: int) -> str:
    return f"S{n:04d}"


def as_shop(doc: dict[str, Any], shop_code: str) -> dict[str, Any]:
    """A builder's document (made for S0001) moved to another shop: ids, references and the owner follow."""
    moved: dict[str, Any] = json.loads(json.dumps(doc).replace(SHOP, shop_code))
    return moved


def registry(shops: int) -> list[Doc]:
    docs: list[Doc] = []
    for community in ("wensan", "cuiyuan"):
        docs.append(
            {
                "_id": f"registry:community:{community}",
                "type": "community",
                "schema": 1,
                "code": community,
                "name": community,
                "subdistrict": SUBDISTRICT,
            }
        )
    for n in range(1, shops + 1):
        community = "wensan" if n % 2 else "cuiyuan"
        doc = shop(code=code(n)) | {"community": community, "grid": f"{community}-01"}
        docs.append(doc)
    return docs


def history(shop_code: str, seed: int) -> list[Doc]:
    """A few weeks of one shop, different for every seed, the same for the same seed."""
    rng = random.Random(seed)
    events: list[Doc] = []
    for day in range(2, 19, rng.choice([3, 5, 7])):
        when = f"2026-03-{day:02d} {rng.choice(['09:00', '14:30'])}"
        kind = rng.random()
        if kind < 0.45:
            events.append(self_check(when, *rng.sample(["wiring_ok", "escape_route", "gas_safe"], rng.randint(0, 1))))
        elif kind < 0.8:
            found = [
                finding(
                    "f1",
                    rng.choice(["extinguisher_valid", "open_flame"]),
                    rng.choice(["general", "serious"]),
                    f"2026-03-{min(day + 2, 28):02d}",
                )
            ]
            visit = patrol(when, *found[: rng.randint(0, 1)])
            events.append(visit)
            if visit["findings"] and rng.random() < 0.7:
                target = hazard_id(visit, "f1")
                fix = rectification(f"2026-03-{day + 1:02d} 10:00", target)
                events += [fix, verify(f"2026-03-{day + 1:02d} 16:00", target, rectified=fix["_id"])]
        else:
            events.append(photo(when))
    return [as_shop(event, shop_code) for event in events]


async def fill(store: Store, shops: int = 6, seed: int = 7) -> list[Doc]:
    """The registry and every shop's history, written in one go (a backlog for the follower)."""
    docs = registry(shops)
    for n in range(1, shops + 1):
        docs += history(code(n), seed * 100 + n)
    await store.bulk_docs(docs)
    return docs


async def contents(store: Store) -> dict[str, str]:
    """Every document's body (its `_rev` aside) as canonical JSON, by id: what "byte-identical" compares."""
    rows = (await store.all_docs(AllDocsQuery(include_docs=True)))["rows"]
    return {
        row["id"]: json.dumps({k: v for k, v in row["doc"].items() if k != "_rev"}, ensure_ascii=False) for row in rows
    }


async def running(follower: Follower) -> asyncio.Task[None]:
    task = asyncio.create_task(follower.run())
    await asyncio.sleep(0)
    return task


async def settle(store: Store, clock_fn: Callable[[], datetime] = clock) -> Follower:
    """Run a follower until everything in the store is projected, then stop it; answers it (its facts, context)."""
    follower = Follower(store, clock_fn, FAST)
    task = await running(follower)
    try:
        await follower.settled()
    finally:
        await stop(task)
    return follower


async def stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def until(check: Callable[[], Awaitable[bool]], timeout: float = 5.0) -> float:
    """Poll `check` until it holds; answers the seconds it took."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    while not await check():
        if loop.time() - started > timeout:
            raise TimeoutError("the condition did not hold in time")
        await asyncio.sleep(0.002)
    return loop.time() - started
