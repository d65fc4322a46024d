"""The sync monitor says when the embedded store was last backed up, and warns when it never was or not for two
days (`server.backup.status`); `mashang backup` notes each backup (tests/test_backup.py runs it for real)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from server import backup as backups
from tests.api.conftest import World


def monitor(world: World) -> dict[str, object]:
    answer = world.client.get("/api/office/sync-monitor", headers=world.login("wang", "wang-password"))
    assert answer.status_code == 200, answer.text
    status: dict[str, object] = answer.json()["backup"]
    return status


def test_the_sync_monitor_says_when_the_store_was_last_backed_up(world: World, tmp_path: Path) -> None:
    never = {"kind": "sqlite", "last": None, "stale": True, "stale_after_days": 2, "every_hours": None, "failed": None}
    assert monitor(world) == never  # never backed up: a warning

    made = backups.backup(world.state.store.data_dir, tmp_path / "backup", say=lambda line: None)
    world.call(backups.record, world.state.store, made, tmp_path / "backup")
    status = monitor(world)
    assert status["stale"] is False
    assert status["last"] == {
        "created_at": made.created_at,
        "seq": made.seq,
        "documents": made.documents,
        "blobs": made.blobs,
        "bytes": made.bytes,
    }

    three_days = (datetime.now(UTC) - timedelta(days=3)).isoformat(timespec="seconds")
    old = backups.Manifest(three_days, made.seq, made.documents, made.blobs, made.bytes)
    world.call(backups.record, world.state.store, old, tmp_path / "backup")
    assert monitor(world)["stale"] is True
