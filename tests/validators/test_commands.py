"""Where the validators run: inside the gateway by default (`MASHANG_VALIDATORS=0` or `serve --no-validators` turn
them off), alone as `mashang worker` (released lease on SIGTERM), and once over everything as `mashang rebuild`."""

from __future__ import annotations

import asyncio
import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from server.app import create_app
from server.cli import main
from server.errors import CouchError
from server.settings import Settings
from server.store.protocol import GetOptions, Store
from server.store.sqlite import SqliteStore
from server.validators.lease import LEASE_ID
from server.validators.rebuild import Progress
from tests.gateway import ROOT
from tests.validators.builders import self_check
from tests.validators.world import as_shop, code, fill, registry


async def _has(store: Store, doc_id: str) -> bool:
    try:
        await store.get(doc_id, GetOptions())
        return True
    except CouchError:
        return False


def _wait(client: TestClient, doc_id: str, timeout: float = 10.0) -> bool:
    store = client.app.state.store  # type: ignore[attr-defined]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if client.portal.call(_has, store, doc_id):  # type: ignore[union-attr]
            return True
        time.sleep(0.02)
    return False


@pytest.mark.parametrize("run_validators", [True, False])
def test_the_gateway_runs_the_validators_unless_told_not_to(tmp_path: Path, run_validators: bool) -> None:
    app = create_app(Settings(data_dir=tmp_path / "data", secret="s" * 40, run_validators=run_validators))
    with TestClient(app) as client:
        state = client.app.state  # type: ignore[attr-defined]
        docs = [*registry(1), as_shop(self_check("2026-03-16 09:00"), code(1))]
        client.portal.call(state.store.bulk_docs, docs)  # type: ignore[union-attr]
        assert _wait(client, f"{code(1)}:score", timeout=10 if run_validators else 0.5) is run_validators
        assert state.validators.holding is run_validators
        assert state.follower is state.validators.follower  # where the alarm desk registers its on_alarm hooks


def test_the_setting_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MASHANG_VALIDATORS", raising=False)
    assert Settings.from_env().run_validators is True
    for off in ("0", "false", "no", "off"):
        monkeypatch.setenv("MASHANG_VALIDATORS", off)
        assert Settings.from_env().run_validators is False
    monkeypatch.setenv("MASHANG_VALIDATORS", "1")
    assert Settings.from_env().run_validators is True


def test_rebuild_prints_what_it_wrote_then_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    async def prepare() -> None:
        store = await SqliteStore.open(tmp_path / "data", revs_limit=1000)
        await fill(store, shops=3)
        await store.close()

    asyncio.run(prepare())
    assert main(["rebuild", "--data", str(tmp_path / "data")]) == 0
    first, told = capsys.readouterr()
    assert "shops projected      3" in first and "documents written    0" not in first
    # Progress on stderr, for the minutes a district takes: the start and the end of the shops at least.
    lines = told.splitlines()
    assert lines[0] == "rebuild: projecting 3 shops"
    assert lines[-1].startswith("rebuild: 3 of 3 shops projected in ")
    assert main(["rebuild", "--data", str(tmp_path / "data")]) == 0
    again = capsys.readouterr().out
    assert "documents written    0" in again and "scores re-ranked     0" in again and "statistics           0" in again


def test_rebuild_progress_says_how_far_and_how_long_is_left_every_few_seconds() -> None:
    out, now = io.StringIO(), [100.0]
    progress = Progress(out, every=5.0, clock=lambda: now[0])
    for seconds, done in ((0, 0), (2, 100), (6, 200), (7, 300), (12, 400), (13, 1000), (14, 1000)):
        now[0] = 100.0 + seconds
        progress(done, 1000)
    assert out.getvalue().splitlines() == [
        "rebuild: projecting 1000 shops",
        "rebuild: 200 of 1000 shops (20%), 6 s, about 24 s left",  # 2 s after the start: too soon
        "rebuild: 400 of 1000 shops (40%), 12 s, about 18 s left",
        "rebuild: 1000 of 1000 shops projected in 13 s; now the rankings and statistics",  # at once, and once
    ]


def test_the_worker_projects_and_gives_the_lease_back_on_sigterm(tmp_path: Path) -> None:
    data = tmp_path / "data"

    async def prepare() -> None:
        store = await SqliteStore.open(data, revs_limit=1000)
        await fill(store, shops=2)
        await store.close()

    async def check(doc_id: str) -> bool:
        store = await SqliteStore.open(data, revs_limit=1000)
        try:
            return await _has(store, doc_id)
        finally:
            await store.close()

    async def lease_gone() -> bool:
        store = await SqliteStore.open(data, revs_limit=1000)
        try:
            await store.get_local(LEASE_ID)
            return False
        except CouchError:
            return True
        finally:
            await store.close()

    asyncio.run(prepare())
    worker = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "worker", "--data", str(data), "--log-level", "warning"],
        cwd=ROOT,
        env=dict(os.environ),
    )
    try:
        deadline = time.monotonic() + 20
        while not asyncio.run(check(f"{code(2)}:score")):
            assert time.monotonic() < deadline, "the worker projected nothing"
            assert worker.poll() is None, "the worker exited"
            time.sleep(0.1)
    finally:
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=15) == 0
    assert asyncio.run(lease_gone())
