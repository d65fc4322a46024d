"""The per-document guard of `/sync/` writes: a request holds all its ids or none, overlapping requests take turns,
and disjoint ones do not wait for each other."""

from __future__ import annotations

import asyncio

import pytest

from server.sync.writes import IdLocks


async def test_overlapping_requests_take_turns_and_disjoint_ones_do_not_wait() -> None:
    locks = IdLocks()
    log: list[str] = []
    first_in = asyncio.Event()
    release_first = asyncio.Event()

    async def first() -> None:
        async with locks.hold(["S0001:a", "S0001:b"]):
            log.append("first in")
            first_in.set()
            await release_first.wait()
            log.append("first out")

    async def overlapping() -> None:
        await first_in.wait()
        async with locks.hold(["S0001:c", "S0001:b"]):
            log.append("overlapping in")

    async def disjoint() -> None:
        await first_in.wait()
        async with locks.hold(["S0002:a"]):
            log.append("disjoint in")

    tasks = [asyncio.create_task(f()) for f in (first, overlapping, disjoint)]
    await first_in.wait()
    for _ in range(5):
        await asyncio.sleep(0)
    assert log == ["first in", "disjoint in"]  # the overlapping request waits; S0001:c is not taken meanwhile
    async with locks.hold(["S0001:c"]):  # a request for an id the waiting one wants but does not hold yet
        log.append("c alone")
    release_first.set()
    await asyncio.gather(*tasks)
    assert log == ["first in", "disjoint in", "c alone", "first out", "overlapping in"]
    async with locks.hold(["S0001:a", "S0001:b", "S0001:c", "S0002:a"]):  # nothing is left held
        pass


async def test_a_request_that_fails_lets_the_next_one_in() -> None:
    locks = IdLocks()

    async def failing() -> None:
        async with locks.hold(["S0001:a"]):
            raise RuntimeError("refused")

    with pytest.raises(RuntimeError):
        await failing()
    await asyncio.wait_for(_take(locks, ["S0001:a"]), 1)


async def _take(locks: IdLocks, ids: list[str]) -> None:
    async with locks.hold(ids):
        pass
