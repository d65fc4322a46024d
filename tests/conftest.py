"""Shared fixtures: a CouchDB-protocol server for the couchdb backend, and a fresh `store` on each backend."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from server.settings import Settings
from server.store.protocol import Store
from tests.gateway import NODE_DIR, free_port, wait_http

POUCHDB_SERVER = NODE_DIR / "node_modules" / ".bin" / "pouchdb-server"


@pytest.fixture(scope="session")
def couchdb_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real CouchDB at COUCHDB_URL when set, else pouchdb-server in memory, started for this session."""
    url = Settings.from_env().couchdb_url
    if url:
        yield url
        return
    if not POUCHDB_SERVER.exists():
        pytest.fail(f"{POUCHDB_SERVER} is missing: run `make install` (npm ci in tests/node) first")
    workdir = tmp_path_factory.mktemp("pouchdb-server")  # it writes config.json and log.txt where it runs
    port = free_port()
    with (workdir / "stdout.log").open("wb") as log:
        proc = subprocess.Popen(
            [str(POUCHDB_SERVER), "--in-memory", "--host", "127.0.0.1", "--port", str(port)],
            cwd=workdir,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_http(url + "/", timeout=30, proc=proc)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(params=["sqlite", "couchdb"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    """A fresh, empty store: sqlite in a temporary folder, couchdb as a new uniquely named database."""
    if request.param == "sqlite":
        from server.store.sqlite import SqliteStore

        sqlite = await SqliteStore.open(tmp_path / "data", revs_limit=1000)
        try:
            yield sqlite
        finally:
            await sqlite.close()
        return
    from server.store.couchdb import CouchStore

    url: str = request.getfixturevalue("couchdb_url")
    couch = await CouchStore.open(url, f"mashang-test-{uuid.uuid4().hex[:16]}")
    try:
        yield couch
    finally:
        await couch.drop()
        await couch.close()


def _in_browser_tests(item: pytest.Item) -> bool:
    return "tests/browser/" in str(item.path).replace(os.sep, "/")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests run last, with a longer timeout: Playwright's sync API keeps an event loop running in the
    main thread while its (session-wide) browser is open, and no asyncio test can run beside it."""
    items.sort(key=_in_browser_tests)  # stable: the order within each part is kept
    for item in items:
        if _in_browser_tests(item):
            item.add_marker(pytest.mark.timeout(180))
