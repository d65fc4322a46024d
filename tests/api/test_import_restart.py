"""An import job outlives the server: acknowledged with its 202, it is finished by the next start, counted once."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from server import import_jobs
from server.app import create_app
from server.auth import Principal, Tokens
from server.ids import new_ulid
from server.import_jobs import JOB_PREFIX, ROWS_PREFIX, STALE_AFTER, ImportJobs
from server.importer import CHUNK, Report, parse
from server.registry import Registry
from server.settings import Settings
from server.store.couchdb import CouchStore
from server.store.sqlite import SqliteStore
from tests.api.conftest import SECRET, open_world
from tests.api.test_import import HEADER, csv_bytes
from tests.gateway import Gateway


def _rows(count: int, prefix: str = "R") -> list[list[str]]:
    return [HEADER] + [[f"{prefix}{n:04d}", f"杂货{n}", f"老街{n}号", "零售", "文三社区", "g1"] for n in range(count)]


def _wait(client: Any, job: str, headers: dict[str, str], seconds: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while True:
        report: dict[str, Any] = client.get(f"/api/office/import/{job}", headers=headers).json()
        if report["status"] != "running" or time.monotonic() > deadline:
            return report
        time.sleep(0.1)


class Killed(BaseException):
    """The server died here (a BaseException, as nothing in the job may catch a death)."""


TOTAL, DIES_AT = 5 * CHUNK, 2 * CHUNK + CHUNK // 2


def _die_in_the_third_chunk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A gateway that dies in the middle of writing the third chunk of a 500-row import; answers the job."""
    put_shop = Registry.put_shop
    written = 0

    async def dying(self: Registry, shop: dict[str, Any]) -> Any:
        nonlocal written
        if written == DIES_AT:
            raise Killed
        written += 1
        return await put_shop(self, shop)

    with open_world(tmp_path) as world:
        monkeypatch.setattr(Registry, "put_shop", dying)
        office = world.login("wang", "wang-password")
        resp = world.client.post(
            "/api/office/import", content=csv_bytes(_rows(TOTAL)), headers={**office, "Content-Type": "text/csv"}
        )
        assert resp.status_code == 202, resp.text
        deadline = time.monotonic() + 60
        while written < DIES_AT or world.state.imports._tasks:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        # Dead between writing shops and listing them in their grid: the third chunk's 50 are in no grid's list.
        codes = [f"R{n:04d}" for n in range(TOTAL)]
        assert len(world.call(world.state.registry.shops, codes)) == DIES_AT
        assert len(world.call(world.state.registry.shops_of, None, "g1")) == 2 + 2 * CHUNK
    monkeypatch.setattr(Registry, "put_shop", put_shop)
    return str(resp.json()["job"])


def test_a_job_a_killed_server_left_half_written_is_finished_on_start_and_counted_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The next start writes the rest, and the report counts every row once, as created."""
    job, total = _die_in_the_third_chunk(tmp_path, monkeypatch), TOTAL
    app = create_app(Settings(data_dir=tmp_path / "data", secret=SECRET))
    with TestClient(app, raise_server_exceptions=False) as client:
        office = _login(client)
        done = _wait(client, job, office)
        assert done["status"] == "done", str({k: v for k, v in done.items() if k not in ("errors",)})
        assert (done["done"], done["created"], done["unchanged"], done["refused"]) == (total, total, 0, 0)
        assert done["resumed"] == 1
        shops = client.get("/api/office/registry/shops?grid=g1", headers=office).json()["items"]
        assert {s["code"] for s in shops} == {"S0001", "S0002"} | {f"R{n:04d}" for n in range(total)}
        admin = {"Authorization": "Bearer " + Tokens(SECRET).issue(Principal("admin", "admin"), 3600)}
        assert client.get(f"/sync/{ROWS_PREFIX}{job}", headers=admin).status_code == 404  # the rows are forgotten
        assert client.get(f"/sync/{JOB_PREFIX}{job}", headers=admin).json()["report"]["status"] == "done"


def test_kill_9_in_the_middle_of_an_import_loses_no_row(tmp_path: Path) -> None:
    """A real `mashang serve`, killed with SIGKILL while a 5,000-row import runs; started again, it finishes it."""
    gateway = Gateway(tmp_path / "data").start()
    try:
        with gateway.client() as client:
            body = csv_bytes(_rows(5000, prefix="K"))
            headers = {**gateway.headers, "Content-Type": "text/csv"}
            started = client.post("/api/office/import?create=1&subdistrict=minglou", content=body, headers=headers)
            assert started.status_code == 202, started.text
            job = started.json()["job"]
            deadline = time.monotonic() + 60
            while (report := client.get(f"/api/office/import/{job}", headers=gateway.headers).json())["done"] < 1000:
                assert report["status"] == "running" and time.monotonic() < deadline, report
                time.sleep(0.05)
        gateway.kill()
        gateway.start()
        with gateway.client() as client:
            report = _wait(client, job, gateway.headers)
            assert report["status"] == "done", report
            assert (report["total"], report["created"], report["refused"], report["resumed"]) == (5000, 5000, 0, 1)
            assert report["communities_created"] == ["文三社区"] and report["grids_created"] == ["文三社区/g1"]
            shops = client.get("/api/office/registry/shops", headers=gateway.headers).json()["items"]
            assert len(shops) == 5000
            communities = client.get("/api/office/registry/communities", headers=gateway.headers).json()["items"]
            assert [g["shops"] for c in communities for g in c["grids"]] == [5000]
    finally:
        gateway.stop()


def _login(client: TestClient) -> dict[str, str]:
    resp = client.post("/api/auth/login", json={"username": "wang", "password": "wang-password"})
    assert resp.status_code == 200, resp.text
    return {"Authorization": "Bearer " + resp.json()["token"]}


def test_two_gateways_starting_at_once_finish_a_left_job_counted_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two gateways of one database start together (CouchDB behind two gateways): one takes the job up, or one
    takes it over from the other at its next chunk. Either way it ends once, with every row counted once."""
    job = _die_in_the_third_chunk(tmp_path, monkeypatch)

    async def both() -> tuple[list[str], list[str], dict[str, Any] | None]:
        store = await SqliteStore.open(tmp_path / "data")
        try:
            first, second = (ImportJobs(store, Registry(store), lambda: None) for _ in range(2))
            taken = await asyncio.gather(first.resume(), second.resume())
            await asyncio.gather(first.drain(), second.drain())
            return taken[0], taken[1], await first.report(job)
        finally:
            await store.close()

    one, other, report = asyncio.run(both())
    assert set(one + other) == {job}
    assert report is not None and report["status"] == "done" and report["created"] == TOTAL


def test_a_report_this_version_cannot_read_does_not_stop_the_gateway_from_starting(tmp_path: Path) -> None:
    with open_world(tmp_path) as world:
        odd = {
            "_id": f"{JOB_PREFIX}01JODD0000000000000000000",
            "type": "import",
            "schema": 1,
            "report": {"job": "01JODD0000000000000000000", "status": "running", "from_the_future": 1},
        }
        assert world.client.post("/sync/_bulk_docs", json={"docs": [odd]}, headers=world.admin()).status_code == 201
    app = create_app(Settings(data_dir=tmp_path / "data", secret=SECRET))
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get("/api/office/import/01JODD0000000000000000000", headers=_login(client)).status_code == 200


def test_a_job_another_gateway_runs_is_left_to_it_until_its_saves_stop(
    couchdb_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two gateways of one CouchDB: one that starts while the other runs an import leaves the job to it (taking it
    up would write the running chunk twice). Once the other is gone and the job's report goes unsaved for
    `STALE_AFTER`, the watch of the one left takes the job up and finishes it, each row counted once."""
    put_shop = Registry.put_shop
    hanging = [True]

    async def run() -> tuple[list[str], dict[str, Any] | None, int]:
        reached = asyncio.Event()

        async def hangs(self: Registry, shop: dict[str, Any]) -> Any:
            if hanging[0] and shop["code"] == f"R{DIES_AT:04d}":
                reached.set()
                await asyncio.Event().wait()  # until its gateway is stopped
            return await put_shop(self, shop)

        monkeypatch.setattr(Registry, "put_shop", hangs)
        monkeypatch.setattr(import_jobs, "WATCH_EVERY", 0.05)
        database = f"imports-{uuid.uuid4().hex[:12]}"
        store = await CouchStore.open(couchdb_url, database)
        try:
            registry = Registry(store)
            await registry.put_community("wensan", "文三社区", "minglou")
            await registry.put_grid("g1", "文三一网格", "wensan", ["zhou"], [])
            now = [datetime.now(UTC)]
            first = ImportJobs(store, registry, lambda: None)
            second = ImportJobs(store, Registry(store), lambda: None, clock=lambda: now[0])
            report = Report(new_ulid(), dry_run=False, create=False)
            await first.start(report, parse(csv_bytes(_rows(TOTAL)), "text/csv"), None)
            await asyncio.wait_for(reached.wait(), 30)
            early = await second.resume()  # `first` runs it: it is left alone
            second.watch()
            await first.stop()  # `first` is gone, its report still says running
            hanging[0] = False
            await asyncio.sleep(0.3)  # the watch looked several times: the report is not stale yet
            assert (await second.report(report.job) or {}).get("resumed") == 0
            now[0] = datetime.now(UTC) + STALE_AFTER + timedelta(seconds=1)
            deadline = time.monotonic() + 60
            while (await second.report(report.job) or {}).get("status") == "running":
                assert time.monotonic() < deadline
                await asyncio.sleep(0.05)
            await second.stop()
            return early, await second.report(report.job), len(await registry.shops_of(None, "g1"))
        finally:
            await store.close()
            httpx.delete(f"{couchdb_url.rstrip('/')}/{database}", timeout=10)

    early, report, listed = asyncio.run(run())
    assert early == []
    assert report is not None and report["status"] == "done", report
    assert (report["created"], report["refused"], report["resumed"]) == (TOTAL, 0, 1)
    assert listed == TOTAL  # the chunk that hung is in its grid's list too
