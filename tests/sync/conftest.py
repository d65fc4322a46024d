"""Fixtures for replication with a real PouchDB client: the gateway as a process, a CouchDB-protocol peer."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.gateway import Gateway
from tests.pouch import PouchSession, Remote, node_or_fail


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[Gateway]:
    """`mashang serve` on the embedded store in a fresh folder."""
    node_or_fail()
    gw = Gateway(tmp_path / "data").start()
    try:
        yield gw
    finally:
        gw.stop()


@pytest.fixture
def gateway_remote(gateway: Gateway) -> Remote:
    return Remote(f"{gateway.url}/sync", gateway.token)


@pytest.fixture
def peer_remote(couchdb_url: str) -> Iterator[Remote]:
    """A fresh database on the reference server (pouchdb-server in memory, or CouchDB at COUCHDB_URL)."""
    url = f"{couchdb_url.rstrip('/')}/peer-{uuid.uuid4().hex[:12]}"
    httpx.put(url, timeout=10).raise_for_status()
    try:
        yield Remote(url, None)
    finally:
        httpx.delete(url, timeout=10)


@pytest.fixture
def pouch() -> Iterator[PouchSession]:
    """A PouchDB client process whose local (memory) databases live as long as the test."""
    with PouchSession(timeout=120) as session:
        yield session
