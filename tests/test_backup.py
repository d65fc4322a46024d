"""`mashang backup` while a gateway takes pushes, and `mashang restore` into an empty folder: every document the
gateway acknowledged before the backup began comes back with its revision and its photos byte for byte, the
tokens handed out before still work, a second backup into the same folder copies no photo again, and a restore
refuses what would lose or damage data."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.gateway import ROOT, Gateway


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "server.cli", *args], cwd=ROOT, capture_output=True, text=True, env=os.environ.copy()
    )


def photo(n: int) -> bytes:
    return b"\xff\xd8\xff\xe0" + f"photo {n} ".encode() * 200 + b"\xff\xd9"


def docs(start: int, count: int) -> list[dict[str, Any]]:
    """Self-checks of a few shops, every fifth with a photo attached."""
    out = []
    for n in range(start, start + count):
        doc: dict[str, Any] = {"_id": f"S{n % 7:04d}:note:{n:08d}", "n": n, "note": "店内通道畅通"}
        if n % 5 == 0:
            doc["_attachments"] = {"p.jpg": {"content_type": "image/jpeg", "data": base64.b64encode(photo(n)).decode()}}
        out.append(doc)
    return out


def push(gateway: Gateway, batch: list[dict[str, Any]]) -> dict[str, str]:
    resp = httpx.post(f"{gateway.url}/sync/_bulk_docs", headers=gateway.headers, json={"docs": batch}, timeout=30)
    assert resp.status_code == 201, resp.text
    return {a["id"]: a["rev"] for a in resp.json()}


def backup_status(gateway: Gateway) -> Any:
    answer = httpx.get(f"{gateway.url}/api/office/sync-monitor", headers=gateway.headers, timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()["backup"]


@pytest.fixture
def gateway(tmp_path: Path) -> Any:
    gw = Gateway(tmp_path / "data").start()
    try:
        yield gw
    finally:
        gw.stop()


def test_a_backup_taken_during_pushes_restores_everything_acknowledged_before_it(
    gateway: Gateway, tmp_path: Path
) -> None:
    assert backup_status(gateway)["last"] is None  # the sync monitor warns: never backed up
    acknowledged = push(gateway, docs(0, 200))
    pushing, later = threading.Event(), {}
    pushing.set()
    acked_at: dict[str, float] = {}

    def keep_pushing() -> None:
        n = 1000
        while pushing.is_set():
            for doc_id, rev in push(gateway, docs(n, 20)).items():
                later[doc_id] = rev
                acked_at[doc_id] = time.monotonic()
            n += 20

    writer = threading.Thread(target=keep_pushing)
    writer.start()
    try:
        time.sleep(0.3)
        began = time.monotonic()
        made = run("backup", "--data", str(gateway.data_dir), "--to", str(tmp_path / "backup"))
    finally:
        pushing.clear()
        writer.join()
    assert made.returncode == 0, made.stderr
    assert "backup complete" in made.stdout
    noted = backup_status(gateway)  # the running gateway's sync monitor says so
    assert noted["stale"] is False and "folder" not in noted["last"]  # the server's paths are not the office's
    assert f"{noted['last']['documents']} documents up to sequence {noted['last']['seq']}" in made.stdout
    before = {doc_id: rev for doc_id, rev in later.items() if acked_at[doc_id] < began}
    assert before, "no push was acknowledged while the backup was taken"
    expected = {**acknowledged, **before}

    restored = run("restore", "--from", str(tmp_path / "backup"), "--data", str(tmp_path / "restored"))
    assert restored.returncode == 0, restored.stderr
    again = Gateway(tmp_path / "restored").start()
    try:
        # The operator token of the first gateway: the secret that signs tokens is in the backup.
        headers = gateway.headers
        rows = httpx.post(
            f"{again.url}/sync/_all_docs", headers=headers, json={"keys": sorted(expected)}, timeout=30
        ).json()["rows"]
        assert {row["id"]: row.get("value", {}).get("rev") for row in rows} == expected
        for doc_id in sorted(expected)[:60]:
            n = int(doc_id.rsplit(":", 1)[1])
            if n % 5 == 0:
                body = httpx.get(f"{again.url}/sync/{doc_id}/p.jpg", headers=headers, timeout=30)
                assert body.status_code == 200 and body.content == photo(n), doc_id
    finally:
        again.stop()

    # Into the same folder again: the database anew, and only the photos pushed since (none the second time).
    for _ in range(2):
        again_made = run("backup", "--data", str(gateway.data_dir), "--to", str(tmp_path / "backup"))
        assert again_made.returncode == 0, again_made.stderr
    assert ", 0 new in this backup" in again_made.stdout, again_made.stdout


def test_a_restore_refuses_what_would_lose_or_damage_data(gateway: Gateway, tmp_path: Path) -> None:
    push(gateway, docs(0, 50))
    backup = tmp_path / "backup"
    assert run("backup", "--data", str(gateway.data_dir), "--to", str(backup)).returncode == 0

    def refused(source: Path, target: Path, words: str) -> None:
        answer = run("restore", "--from", str(source), "--data", str(target))
        assert answer.returncode == 1 and words in answer.stderr, answer.stderr
        assert not (target / "mashang.sqlite3").exists()

    # Over a store that is there: never.
    answer = run("restore", "--from", str(backup), "--data", str(gateway.data_dir))
    assert answer.returncode == 1 and "already holds a store" in answer.stderr
    # A backup cut short (no manifest), one with a photo missing, one whose database is damaged.
    (backup / "manifest.json").rename(tmp_path / "manifest.json")
    refused(backup, tmp_path / "a", "cut short")
    (tmp_path / "manifest.json").rename(backup / "manifest.json")
    blob = next(p for p in (backup / "blobs").rglob("*") if p.is_file())
    blob.rename(tmp_path / "blob")
    refused(backup, tmp_path / "b", "missing from the backup")
    (tmp_path / "blob").rename(blob)
    db = backup / "mashang.sqlite3"
    data = bytearray(db.read_bytes())
    data[len(data) // 2 : len(data) // 2 + 8192] = b"\x00" * 8192
    db.write_bytes(bytes(data))
    refused(backup, tmp_path / "c", "damaged")
    # Not a backup at all, and a CouchDB store (backed up with CouchDB's own tools).
    refused(tmp_path / "nothing", tmp_path / "d", "not a backup")
    couch = run("backup", "--couchdb", "http://127.0.0.1:1", "--to", str(tmp_path / "e"))
    assert couch.returncode == 2 and "CouchDB" in couch.stderr


def test_a_backup_that_fails_leaves_the_earlier_one_in_its_folder_restorable(
    gateway: Gateway, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from server import backup as backup_module

    push(gateway, docs(0, 30))
    folder = tmp_path / "backup"
    assert run("backup", "--data", str(gateway.data_dir), "--to", str(folder)).returncode == 0

    class Failing:
        """A read connection whose snapshot fails half-way (a full disk, say)."""

        def backup(self, target: Any) -> None:
            target.execute("CREATE TABLE half (x)")
            raise OSError("No space left on device")

        def close(self) -> None:
            pass

    monkeypatch.setattr(backup_module, "connect", lambda *args, **kwargs: Failing())
    with pytest.raises(OSError):
        backup_module.backup(gateway.data_dir, folder, say=lambda line: None)
    assert backup_module.read_manifest(folder).documents == 30
    answer = run("restore", "--from", str(folder), "--data", str(tmp_path / "restored"))
    assert answer.returncode == 0, answer.stderr
