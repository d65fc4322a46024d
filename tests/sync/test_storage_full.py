"""The server's storage full: a push is refused with a 507 that says so (not a bare 500), nothing of it is kept, and
once there is space again the same push goes through. The embedded store is filled for real: SQLite's own cap on
the database's pages (`max_page_count`), set on the store's writer connection, gives the error a full disk gives."""

from __future__ import annotations

import errno
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from server.errors import disk_full
from tests.api.conftest import World, open_world


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with open_world(tmp_path) as w:
        yield w


def cap_pages(world: World, extra: int | None) -> None:
    """Let the database grow by `extra` pages at most (None: as far as SQLite allows), on the writer's own thread."""

    def job(conn: sqlite3.Connection, _state: Any) -> None:
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count={pages + extra if extra is not None else 2**31 - 2}")

    async def submit() -> None:
        await world.state.store._writer.submit(job)

    world.call(submit)


def notes(n: int) -> list[dict[str, Any]]:
    return [{"_id": f"S0001:note:{i:04d}", "type": "note", "text": "记录" * 1000} for i in range(n)]


def test_a_push_to_a_full_store_is_a_507_and_goes_through_once_there_is_space(world: World) -> None:
    admin = world.admin()
    before = world.client.get("/sync/", headers=admin).json()["doc_count"]
    cap_pages(world, 2)

    refused = world.client.post("/sync/_bulk_docs", json={"docs": notes(200)}, headers=admin)
    assert refused.status_code == 507, refused.text
    assert refused.json()["error"] == "insufficient_storage" and "storage is full" in refused.json()["reason"]
    assert refused.headers["Retry-After"] == "60"
    # Nothing of the batch was kept, not even the documents that fitted before the store filled up.
    assert world.client.get("/sync/", headers=admin).json()["doc_count"] == before
    assert world.client.get("/sync/S0001:note:0000", headers=admin).status_code == 404

    cap_pages(world, None)  # the operator made room
    again = world.client.post("/sync/_bulk_docs", json={"docs": notes(200)}, headers=admin)
    assert again.status_code == 201 and all(row.get("ok") for row in again.json()), again.text
    assert world.client.get("/sync/", headers=admin).json()["doc_count"] == before + 200


def test_no_space_for_a_file_is_told_apart_from_other_errors() -> None:
    try:
        try:
            raise OSError(errno.ENOSPC, "No space left on device")
        except OSError as e:
            raise RuntimeError("the attachment's body was not written") from e
    except RuntimeError as wrapped:
        assert isinstance(disk_full(wrapped), OSError)
    assert disk_full(OSError(errno.EACCES, "Permission denied")) is None
    assert disk_full(sqlite3.OperationalError("database is locked")) is None
