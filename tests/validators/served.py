"""A real `mashang serve` (validators on) over a district prepared in its data folder before it starts, its users'
tokens, and the office's alarm stream read over HTTP in a thread, as an open dashboard reads it.

Used by the end-to-end alarm test and by tests/bench/bench_alarm_latency.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import orjson

from server.accounts import Accounts, hash_pin
from server.auth import Principal, Tokens
from server.ids import new_ulid
from server.registry import Registry
from server.store.couchdb import CouchStore
from server.store.protocol import Store
from server.store.sqlite import SqliteStore
from tests.gateway import Gateway
from tests.validators.builders import full_answers, gas_leak_patrol

SECRET = "served-district-secret-" + "q" * 40
SHANGHAI = ZoneInfo("Asia/Shanghai")
COMMUNITY = "wensan"
GRID_PASSWORD = "grid-password-1"
OFFICE = ("wang", "office-password-1")


@dataclass(frozen=True)
class District:
    shops: list[str]
    grids: dict[str, list[str]]  # grid worker username → shop codes


def prepare(data: Path, shops: int, per_grid: int = 20, couchdb: tuple[str, str] | None = None) -> District:
    """Registry (one community, grids of `per_grid` shops with a worker each), staff and activated owners, in the
    embedded store in `data`, or in the CouchDB database `couchdb` (its server's URL, the database's name)."""
    codes = [f"S{n:04d}" for n in range(1, shops + 1)]
    grids = {f"zhou{g:02d}": codes[i : i + per_grid] for g, i in enumerate(range(0, shops, per_grid), start=1)}

    async def build() -> None:
        store: Store = await (CouchStore.open(*couchdb) if couchdb else SqliteStore.open(data, revs_limit=1000))
        try:
            registry, accounts = Registry(store), Accounts(store, Tokens(SECRET))
            await registry.put_community(COMMUNITY, "文三社区", "minglou")
            for worker, mine in grids.items():
                grid = f"g{worker[-2:]}"
                await registry.put_grid(grid, f"文三{worker[-2:]}网格", COMMUNITY, [worker], mine)
                for code in mine:
                    await registry.put_shop(
                        {
                            "code": code,
                            "name": f"小吃店{code}",
                            "address": f"曙光北路{code[1:]}号",
                            "category": "food",
                            "community": COMMUNITY,
                            "grid": grid,
                            "status": "active",
                            "owner_activated": True,
                        }
                    )
                await accounts.create_staff("grid", worker, GRID_PASSWORD, f"网格员{worker[-2:]}")
            await accounts.create_staff("office", OFFICE[0], OFFICE[1], "王科长")
            pin = await asyncio.to_thread(hash_pin, "135790")
            for code in codes:
                await accounts.set_owner_pin_hash(code, pin)
        finally:
            await store.close()

    asyncio.run(build())
    return District(codes, grids)


def serve(data: Path, couchdb: tuple[str, str] | None = None) -> Gateway:
    """`mashang serve` on what `prepare` filled (the same `data`, or the same `couchdb` server and database)."""
    if couchdb is None:
        return Gateway(data, env={"MASHANG_SECRET": SECRET}).start()
    url, name = couchdb
    return Gateway(data, couchdb_url=url, env={"MASHANG_SECRET": SECRET, "MASHANG_COUCHDB_DB": name}).start()


def owner_token(shop: str) -> str:
    """What `/api/auth/owner` would answer for a freshly activated owner (minted: signing in 1,500 owners would
    spend a minute hashing PINs, which is not what is measured)."""
    return Tokens(SECRET).issue(Principal(f"owner:{shop}", "owner", 0), 3600)


def login(gw: Gateway, username: str, password: str) -> str:
    resp = httpx.post(f"{gw.url}/api/auth/login", json={"username": username, "password": password}, timeout=30)
    assert resp.status_code == 200, resp.text
    token: str = resp.json()["token"]
    return token


def _now_minus(minutes: float) -> str:
    return (datetime.now(SHANGHAI).replace(microsecond=0) - timedelta(minutes=minutes)).isoformat()


def self_check(shop: str, serious: bool = False, minutes_ago: float = 1, **declared: Any) -> dict[str, Any]:
    """An owner's weekly self-check; a serious one declares e-bikes charged inside (serious: an alarm at once);
    `declared` answers other items as `full_answers` takes them (`open_flame=True`)."""
    return {
        "_id": f"{shop}:self_check:{new_ulid()}",
        "type": "self_check",
        "schema": 1,
        "shop": shop,
        "template": "district:template:fire-gas",
        "template_version": 1,
        "performed_at": _now_minus(minutes_ago),
        "created_by": f"owner:{shop}",
        "device": f"d-{shop}",
        "answers": full_answers(shop, **({"ebike_indoor_charging": True} if serious else {}), **declared),
    }


def serious_patrol(shop: str, worker: str) -> dict[str, Any]:
    """A patrol finding the gas hose unsafe (serious) with a photo, as the grid worker's phone writes it."""
    return gas_leak_patrol(shop, f"grid:{worker}", f"d-{worker}")


def alarm_id(source: dict[str, Any]) -> str:
    return f"{source['shop']}:alarm:{str(source['_id']).rsplit(':', 1)[1]}"


@dataclass
class AlarmStream:
    """The office's `GET /api/office/alarms/stream`, read in a thread: every alarm event with the monotonic time it
    was read (`seen[alarm id] = (time, change)` for the first event of each alarm)."""

    url: str
    token: str
    seen: dict[str, tuple[float, str]] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    opened: threading.Event = field(default_factory=threading.Event)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _response: httpx.Response | None = None
    error: Exception | None = None

    def start(self) -> AlarmStream:
        self._thread = threading.Thread(target=self._read, name="alarm-stream", daemon=True)
        self._thread.start()
        assert self.opened.wait(20) and self.error is None, f"the alarm stream did not open: {self.error}"
        return self

    def _read(self) -> None:
        try:
            self._follow()
        except Exception as e:  # closed under it by `close`, or the server went away
            if not self._stop.is_set():
                self.error = e
                self.opened.set()

    def _follow(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        with (
            httpx.Client(timeout=httpx.Timeout(30, read=None)) as client,
            client.stream("GET", f"{self.url}/api/office/alarms/stream", headers=headers) as resp,
        ):
            self._response = resp
            assert resp.status_code == 200, resp.read()
            data: bytes | None = None
            for line in resp.iter_lines():
                if self._stop.is_set():
                    return
                if line.startswith("retry:"):
                    self.opened.set()
                elif line.startswith("data:"):
                    data = line[5:].strip().encode()
                elif not line and data is not None:
                    event = orjson.loads(data)
                    data = None
                    if isinstance(event.get("alarm"), dict):
                        self.events.append(event)
                        self.seen.setdefault(event["alarm"]["_id"], (time.monotonic(), event["change"]))

    def wait_for(self, ids: set[str], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not ids <= self.seen.keys():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    def close(self) -> None:
        """Hang up (shutting the socket down wakes the reading thread at once, and the server sees it go)."""
        self._stop.set()
        stream = self._response.extensions.get("network_stream") if self._response is not None else None
        sock = stream.get_extra_info("socket") if stream is not None else None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=5)
