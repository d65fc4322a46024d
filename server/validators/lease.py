"""One active follower per database: a lease in `_local/server/validators-lease` (local documents never replicate
to devices), taken when free or expired, renewed every `renew_every` seconds, released on a clean stop.

Taking and renewing are compare-and-swap writes on the local document's `_rev`, so of two workers that race for
an expired lease exactly one wins; the other waits and tries again. `Validators` runs a `Follower` only while it
holds the lease (inside `mashang serve`, or as `mashang worker` beside CouchDB). The webhook's senders share the
`Lease` (`server.webhook`, another document). Both write down which process holds it (`this_process`), so that a
gateway restarted on the same machine after a kill -9 takes its dead predecessor's lease at once (`process_ended`)
instead of waiting for it to expire: scores and alarms are derived again from the restart on, not 30 s later.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Final

from server.errors import CouchError
from server.store.protocol import Doc, Store
from server.tasks import cancel
from server.validators.context import Clock, utc_now
from server.validators.feed import Options
from server.validators.follower import Follower

log = logging.getLogger("mashang.validators")

LEASE_ID: Final = "server/validators-lease"


def default_holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def _read_text(path: str) -> str | None:
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return None


def _started(pid: int) -> str | None:
    """When the process `pid` started (clock ticks after boot: with the boot, the pid and the pid namespace it names
    one process for good, a pid being reused); None when no such process runs, or it has ended and awaits its
    parent (a zombie), or there is no /proc (not Linux)."""
    stat = _read_text(f"/proc/{pid}/stat")
    if stat is None:
        return None
    fields = stat.rpartition(")")[2].split()  # after the command's name, which may hold spaces and parentheses
    if len(fields) < 20 or fields[0] in ("Z", "X"):
        return None
    return fields[19]  # field 22 of proc(5): starttime


def this_process() -> Doc:
    """The process a lease document names (`"process"`), for `process_ended`."""
    namespace: str | None
    try:
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        namespace = None
    return {
        "host": socket.gethostname(),
        "boot": _read_text("/proc/sys/kernel/random/boot_id"),
        "namespace": namespace,
        "pid": os.getpid(),
        "started": _started(os.getpid()),
    }


def process_ended(doc: Doc) -> bool:
    """Whether the process a lease document names has ended for sure: one of this machine (the same host name, boot
    and pid namespace) that no longer runs. False when it may run (another machine's, or one of this machine that
    cannot be told): its lease is then waited out."""
    named, here = doc.get("process"), this_process()
    if not isinstance(named, dict) or not isinstance(named.get("pid"), int) or named.get("started") is None:
        return False
    if here["boot"] is None or here["namespace"] is None:
        return False
    if any(named.get(key) != here[key] for key in ("host", "boot", "namespace")):
        return False
    return _started(named["pid"]) != str(named["started"])


class Lease:
    def __init__(
        self,
        store: Store,
        holder: str,
        ttl: float = 30.0,
        now: Callable[[], float] = time.time,
        local_id: str = LEASE_ID,
        process: Doc | None = None,
    ) -> None:
        """`process` (`this_process()`): written down with the lease, whose holder is then taken as gone once
        that process has ended (`process_ended`), before its lease expires."""
        self.store = store
        self.holder = holder
        self.ttl = ttl
        self.now = now
        self.local_id = local_id
        self.process = process
        self.expires_at = 0.0

    async def acquire(self) -> bool:
        """Take (or renew) the lease; False while another holder's lease runs or when another won the race."""
        doc = await self._read()
        now = self.now()
        if doc is not None and doc.get("holder") != self.holder and _expiry(doc) > now and not self._gone(doc):
            return False
        body: Doc = {"holder": self.holder, "expires_at": datetime.fromtimestamp(now + self.ttl, UTC).isoformat()}
        if self.process is not None:
            body["process"] = self.process
        if doc is not None:
            body["_rev"] = doc["_rev"]
        try:
            await self.store.put_local(self.local_id, body)
        except CouchError as e:
            if e.status == 409:
                return False
            raise
        self.expires_at = now + self.ttl
        return True

    async def release(self) -> None:
        doc = await self._read()
        if doc is not None and doc.get("holder") == self.holder:
            with contextlib.suppress(CouchError):
                await self.store.delete_local(self.local_id, doc["_rev"])
        self.expires_at = 0.0

    def held(self, margin: float = 0.0) -> bool:
        """Whether this holder's lease still runs `margin` seconds from now, by this clock (as last taken or renewed):
        a holder that cannot renew stops a margin before it runs out."""
        return self.now() < self.expires_at - margin

    def _gone(self, doc: Doc) -> bool:
        return self.process is not None and process_ended(doc)

    async def _read(self) -> Doc | None:
        try:
            return await self.store.get_local(self.local_id)
        except CouchError as e:
            if e.status == 404:
                return None
            raise


def _expiry(doc: Doc) -> float:
    try:
        return datetime.fromisoformat(str(doc.get("expires_at"))).timestamp()
    except ValueError:
        return 0.0


class Validators:
    """The follower under the lease: `start()` and `stop()` from the app's lifespan or the worker command."""

    def __init__(
        self,
        store: Store,
        holder: str | None = None,
        clock: Clock = utc_now,
        options: Options | None = None,
        ttl: float = 30.0,
        renew_every: float = 10.0,
    ) -> None:
        self.follower = Follower(store, clock, options)
        # Its process named, so that a gateway restarted after a kill -9 derives at once, not after the dead one's ttl.
        self.lease = Lease(store, holder or default_holder(), ttl, process=this_process())
        self.renew_every = renew_every
        self.holding = False
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name="validators")

    async def stop(self) -> None:
        await cancel(self._task)
        self._task = None
        with contextlib.suppress(Exception):
            await self.lease.release()
        self.holding = False

    async def run(self) -> None:
        waiting_logged = False
        while True:
            try:
                self.holding = await self.lease.acquire()
            except Exception as e:
                log.warning("the validators lease cannot be read: %s", e)
                self.holding = False
            if not self.holding:
                if not waiting_logged:
                    log.info("another worker holds the validators lease; waiting")
                    waiting_logged = True
                await asyncio.sleep(self.renew_every)
                continue
            waiting_logged = False
            log.info("validators lease taken by %s", self.lease.holder)
            await self._follow()

    async def _follow(self) -> None:
        """Run the follower until the lease is lost (or the follower stops on a bug, then again in a while)."""
        task = asyncio.create_task(self.follower.run(), name="follower")
        try:
            while True:
                await asyncio.wait({task}, timeout=self.renew_every)
                if task.done():
                    error = task.exception()
                    log.error("the follower stopped; restarting in %.0f s", self.renew_every, exc_info=error)
                    await asyncio.sleep(self.renew_every)
                    return
                try:
                    renewed = await self.lease.acquire()
                except Exception as e:
                    log.warning("renewing the validators lease failed: %s", e)
                    renewed = self.lease.held(self.renew_every)
                if not renewed:
                    log.warning("the validators lease is lost; the follower stops")
                    self.holding = False
                    return
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
