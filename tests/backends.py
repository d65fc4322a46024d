"""The store an in-process gateway (tests/api/conftest.py `open_world`) runs on, for suites parametrized over both
backends: the embedded store (nothing to add to the settings), or a fresh, uniquely named database on the
CouchDB-protocol server of the session (`couchdb_url` in tests/conftest.py: pouchdb-server in memory, or the CouchDB
at COUCHDB_URL), dropped afterwards."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from typing import Any, Final

import httpx
import pytest

BACKENDS: Final = ["sqlite", "couchdb"]


def sqlite_only(fixture: str) -> pytest.MarkDecorator:
    """For a suite parametrized over `BACKENDS` at `fixture`: a test whose outcome does not hang on the store (a
    request refused before anything is read, a role's reach) runs on the embedded store alone, which keeps the time
    the suite takes (each CouchDB world is a database made and filled over HTTP)."""
    return pytest.mark.parametrize(fixture, ["sqlite"], indirect=True)


@contextlib.contextmanager
def store_settings(request: pytest.FixtureRequest, backend: str) -> Iterator[dict[str, Any]]:
    """The `Settings` fields that put a gateway on `backend` (a parametrized fixture's `request.param`)."""
    if backend == "sqlite":
        yield {}
        return
    assert backend == "couchdb", backend
    url: str = request.getfixturevalue("couchdb_url")
    name = f"api-{uuid.uuid4().hex[:16]}"
    try:
        yield {"couchdb_url": url, "couchdb_db": name}
    finally:
        httpx.delete(f"{url.rstrip('/')}/{name}", timeout=10)
