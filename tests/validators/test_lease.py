"""One active follower per database: of two workers only the lease holder projects; the other takes over when
the holder stops cleanly (at once) or dies (once its lease has expired)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest

from server.store.protocol import Store
from server.store.sqlite import SqliteStore
from server.validators.lease import LEASE_ID, Lease, Validators, process_ended, this_process
from tests.validators.builders import self_check
from tests.validators.world import FAST, as_shop, clock, code, fill, until

TTL, RENEW = 2.0, 0.1


def _worker(store: Store, name: str) -> Validators:
    return Validators(store, holder=name, clock=clock, options=FAST, ttl=TTL, renew_every=RENEW)


async def test_two_workers_only_the_holder_projects_and_the_other_takes_over(tmp_path: Path) -> None:
    store = await SqliteStore.open(tmp_path / "data", revs_limit=1000)
    first, second = _worker(store, "first"), _worker(store, "second")
    try:
        await fill(store, shops=3)
        first.start()

        async def first_holds() -> bool:
            return first.holding

        await until(first_holds)
        second.start()
        await first.follower.settled()
        await asyncio.sleep(3 * RENEW)  # the second polls the lease a few times meanwhile
        assert first.follower.counters.projected >= 3
        assert second.follower.counters.projected == 0 and not second.holding
        assert (await store.get_local(LEASE_ID))["holder"] == "first"

        await first.stop()  # a clean stop releases the lease: the second takes it at its next poll

        async def second_holds() -> bool:
            return second.holding

        assert await until(second_holds) < TTL
        await store.bulk_docs([as_shop(self_check("2026-03-20 08:00"), code(2))])
        await second.follower.settled()
        assert second.follower.counters.projected >= 1
    finally:
        await first.stop()
        await second.stop()
        await store.close()


async def test_a_dead_holders_lease_is_taken_once_it_expires(tmp_path: Path) -> None:
    store = await SqliteStore.open(tmp_path / "data", revs_limit=1000)
    try:
        now = [1000.0]
        dead = Lease(store, "dead", ttl=30, now=lambda: now[0])
        alive = Lease(store, "alive", ttl=30, now=lambda: now[0])
        assert await dead.acquire()
        assert not await alive.acquire()
        now[0] += 29
        assert not await alive.acquire()
        assert await dead.acquire()  # renewed
        now[0] += 31
        assert await alive.acquire()  # expired: taken
        assert not await dead.acquire()  # the old holder learns it lost it at its next renewal
        await dead.release()  # releasing a lease one does not hold leaves it alone
        assert (await store.get_local(LEASE_ID))["holder"] == "alive"
    finally:
        await store.close()


async def test_of_two_racing_for_a_free_lease_one_wins(store: Store) -> None:
    leases = [Lease(store, f"w{n}") for n in range(4)]
    won = await asyncio.gather(*(lease.acquire() for lease in leases))
    assert sum(won) == 1
    holder = (await store.get_local(LEASE_ID))["holder"]
    assert [lease.holder for lease, ok in zip(leases, won, strict=True) if ok] == [holder]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="processes are told apart by /proc")
async def test_a_lease_whose_process_of_this_machine_ended_is_free_at_once(store: Store) -> None:
    """The webhook's lease names its process: a gateway restarted after a kill -9 takes its dead predecessor's lease
    at once. One whose process runs (this one), or that names none (another machine's, an older version's), is
    waited out."""
    code = "import json; from server.validators.lease import this_process; print(json.dumps(this_process()))"
    ended = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, check=True).stdout)
    here = this_process()
    assert process_ended({"process": ended}) and not process_ended({"process": here})
    assert not process_ended({}) and not process_ended({"process": {**ended, "host": "another-machine"}})
    for named, free in ((ended, True), (here, False), (None, False)):
        gone = Lease(store, "gone", ttl=30, local_id="test-lease", process=named)
        assert await gone.acquire()
        taker = Lease(store, "taker", ttl=30, local_id="test-lease", process=this_process())
        assert await taker.acquire() is free
        if free:
            await taker.release()
        else:
            await gone.release()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="processes are told apart by /proc")
async def test_a_gateway_restarted_after_a_kill_derives_at_once(tmp_path: Path) -> None:
    """The validators' lease left by a gateway killed on this machine (its process ended, its lease 30 s from
    expiring): the restarted gateway's validators take it at their first try and project, not 30 s later."""
    script = "import json; from server.validators.lease import this_process; print(json.dumps(this_process()))"
    ended = json.loads(subprocess.run([sys.executable, "-c", script], capture_output=True, check=True).stdout)
    store = await SqliteStore.open(tmp_path / "data", revs_limit=1000)
    restarted = Validators(store, holder="restarted", clock=clock, options=FAST, ttl=30, renew_every=30)
    try:
        assert await Lease(store, "killed", ttl=30, process=ended).acquire()
        await fill(store, shops=2)
        restarted.start()

        async def holds() -> bool:
            return restarted.holding

        await until(holds)
        await restarted.follower.settled()
        assert restarted.follower.counters.projected >= 2
    finally:
        await restarted.stop()
        await store.close()
