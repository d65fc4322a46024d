"""Fixtures for replication with a real PouchDB client: the gateway as a process, a CouchDB-protocol peer."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.gateway import Gateway
from tests.pouch import PouchSession, Remote, node_or_fail


@pytest.fixture(params=["sqlite", "couchdb"])
def gateway(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Gateway]:
    """`mashang serve` on the embedded store in a fresh folder, or on a fresh CouchDB database (pouchdb-server
    in memory, or the CouchDB at COUCHDB_URL): the replication suite proves the gateway on both backends."""
    node_or_fail()
    if request.param == "sqlite":
        gw = Gateway(tmp_path / "data")
    else:
        couchdb_url: str = request.getfixturevalue("couchdb_url")
        name = f"gw-{uuid.uuid4().hex[:12]}"
        gw = Gateway(tmp_path / "data", couchdb_url=couchdb_url, env={"MASHANG_COUCHDB_DB": name})
        # pouchdb-server rewrites an attachment's revpos where CouchDB keeps the one the client sent.
        gw.rewrites_revpos = "COUCHDB_URL" not in os.environ
    gw.start()
    try:
        yield gw
    finally:
        gw.stop()
        if request.param == "couchdb":
            httpx.delete(f"{couchdb_url.rstrip('/')}/{name}", timeout=10)


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
