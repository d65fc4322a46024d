"""`mashang backup` while a gateway takes pushes, and `mashang restore` into an empty folder: every document the
gateway acknowledged before the backup began comes back with its revision and its photos byte for byte, the
tokens handed out before still work, a second backup into the same folder copies no photo again, and a restore
refuses what would lose or damage data. A folder keeps the newest backups (an earlier one restores on request),
a backup that fails at any step leaves the earlier one restorable, and `mashang serve --backup-to` makes them on
its own schedule, telling the office's sync monitor when one failed."""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import time_machine

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
        # Once a push during the run has been acknowledged (0.3 s of sleep was not always enough on a busy machine).
        deadline = time.monotonic() + 60
        while not acked_at and time.monotonic() < deadline and writer.is_alive():
            time.sleep(0.05)
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
    from server import backup as backup_module

    push(gateway, docs(0, 50))
    backup = tmp_path / "backup"
    assert run("backup", "--data", str(gateway.data_dir), "--to", str(backup)).returncode == 0

    def refused(source: Path, target: Path, words: str) -> None:
        answer = run("restore", "--from", str(source), "--data", str(target))
        assert answer.returncode == 1 and words in answer.stderr, answer.stderr
        assert not (target / "mashang.sqlite3").exists()

    # Under a running gateway: never, even once its store was moved away (its WAL holds what it acknowledged).
    answer = run("restore", "--from", str(backup), "--data", str(gateway.data_dir))
    assert answer.returncode == 1 and "stop it first" in answer.stderr, answer.stderr
    moved = tmp_path / "moved"
    moved.mkdir()
    (gateway.data_dir / "mashang.sqlite3").rename(moved / "mashang.sqlite3")
    answer = run("restore", "--from", str(backup), "--data", str(gateway.data_dir))
    assert answer.returncode == 1 and "stop it first" in answer.stderr, answer.stderr
    gateway.stop()
    (moved / "mashang.sqlite3").rename(gateway.data_dir / "mashang.sqlite3")
    # Over a store that is there, or beside the WAL of one moved away: never.
    answer = run("restore", "--from", str(backup), "--data", str(gateway.data_dir))
    assert answer.returncode == 1 and "already holds a store" in answer.stderr
    (tmp_path / "wal").mkdir()
    (tmp_path / "wal" / "mashang.sqlite3-wal").write_bytes(b"\0" * 4096)
    refused(backup, tmp_path / "wal", "without its store")
    assert (tmp_path / "wal" / "mashang.sqlite3-wal").exists()
    # A backup into a place it cannot write says so in a line, and the backups there are kept.
    failed = run("backup", "--data", str(gateway.data_dir), "--to", "/proc/mashang-backup")
    assert failed.returncode == 1 and "mashang backup: failed" in failed.stderr and "Traceback" not in failed.stderr
    # A backup cut short (no manifest), one with a photo missing, one whose database is damaged.
    (backup / "manifest.json").rename(tmp_path / "manifest.json")
    refused(backup, tmp_path / "a", "cut short")
    (tmp_path / "manifest.json").rename(backup / "manifest.json")
    blob = next(p for p in (backup / "blobs").rglob("*") if p.is_file())
    blob.rename(tmp_path / "blob")
    refused(backup, tmp_path / "b", "missing from the backup")
    (tmp_path / "blob").rename(blob)
    db = backup / backup_module.read_manifest(backup).database
    data = bytearray(db.read_bytes())
    data[len(data) // 2 : len(data) // 2 + 8192] = b"\x00" * 8192
    db.write_bytes(bytes(data))
    refused(backup, tmp_path / "c", "damaged")
    # Not a backup at all, and a CouchDB store (backed up with CouchDB's own tools).
    refused(tmp_path / "nothing", tmp_path / "d", "not a backup")
    couch = run("backup", "--couchdb", "http://127.0.0.1:1", "--to", str(tmp_path / "e"))
    assert couch.returncode == 2 and "CouchDB" in couch.stderr


@pytest.mark.parametrize("step", ["snapshot", "photos"])
def test_a_backup_that_fails_leaves_the_earlier_one_in_its_folder_restorable(
    gateway: Gateway, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, step: str
) -> None:
    from server import backup as backup_module

    push(gateway, docs(0, 30))
    folder = tmp_path / "backup"
    assert run("backup", "--data", str(gateway.data_dir), "--to", str(folder)).returncode == 0
    push(gateway, docs(100, 30))  # new photos: the next backup has some to copy

    class Failing:
        """A read connection whose snapshot fails half-way (a full disk, say)."""

        def backup(self, target: Any) -> None:
            target.execute("CREATE TABLE half (x)")
            raise OSError("No space left on device")

        def close(self) -> None:
            pass

    copies = []

    def copy_fails_after_two(src: Any, dst: Any) -> None:
        """The disk fills up while the new photos are copied."""
        copies.append(dst)
        if len(copies) > 2:
            raise OSError("No space left on device")
        shutil.copyfile(src, dst)

    if step == "snapshot":
        monkeypatch.setattr(backup_module, "connect", lambda *args, **kwargs: Failing())
    else:
        monkeypatch.setattr(backup_module.shutil, "copyfile", copy_fails_after_two)
    # This one and the next within one second, not the first's: the one cut short is named {stamp}, the next
    # {stamp}-2 (which sorts before it by name).
    clock = time_machine.travel(datetime.now(UTC) + timedelta(seconds=5), tick=False)
    clock.start()
    with pytest.raises(OSError):
        backup_module.backup(gateway.data_dir, folder, say=lambda line: None)
    assert step == "snapshot" or len(copies) == 3  # it failed half-way through the photos
    monkeypatch.undo()
    assert backup_module.read_manifest(folder).documents == 30
    answer = run("restore", "--from", str(folder), "--data", str(tmp_path / "restored"))
    assert answer.returncode == 0, answer.stderr
    assert "30 documents" in answer.stdout

    # The next backup is whole, and leaves nothing of the one cut short (within the same second too: its name
    # then has a suffix).
    made = backup_module.backup(gateway.data_dir, folder, say=lambda line: None)
    clock.stop()
    assert made.documents == 60 and made.stamp.endswith("Z-2") == (step == "photos")  # its snapshot was left
    snapshots = sorted(p.name for p in (folder / "snapshots").iterdir())
    assert snapshots == sorted(f"{m.stamp}{ext}" for m in backup_module.kept(folder) for ext in (".json", ".sqlite3"))
    assert len(snapshots) == 4


def test_a_folder_keeps_the_newest_backups_and_restores_an_earlier_one_on_request(
    gateway: Gateway, tmp_path: Path
) -> None:
    folder = tmp_path / "backup"
    made = []
    for n in range(3):
        push(gateway, docs(n * 100, 10))  # 10, 20, then 30 documents, two photos each time
        if n == 2:  # what a backup killed half-way leaves: the snapshot's journal, never read again
            (folder / "snapshots" / "20261129T000000Z.sqlite3.partial-journal").write_bytes(b"\0" * 512)
        answer = run("backup", "--data", str(gateway.data_dir), "--to", str(folder), "--keep", "2")
        assert answer.returncode == 0, answer.stderr
        made.append(answer.stdout)
    assert not list((folder / "snapshots").glob("*.partial*"))
    assert "removed 1 older backup (keeping the 2 newest)" in made[2]
    listed = run("restore", "--from", str(folder), "--list")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert [line.split("  ", 1)[1].split(" documents")[0] for line in lines] == ["30", "20"]  # newest first
    photos = [p for p in (folder / "blobs").rglob("*") if p.is_file()]
    assert len(photos) == 6  # shared by the backups: each photo once

    earlier = lines[1].split("  ", 1)[0]
    answer = run("restore", "--from", str(folder), "--at", earlier, "--data", str(tmp_path / "restored"))
    assert answer.returncode == 0, answer.stderr
    again = Gateway(tmp_path / "restored").start()
    try:
        rows = httpx.get(f"{again.url}/sync/_all_docs", headers=gateway.headers, timeout=30).json()["rows"]
        assert sorted(row["id"] for row in rows) == sorted(doc["_id"] for n in range(2) for doc in docs(n * 100, 10))
    finally:
        again.stop()
    gone = run("restore", "--from", str(folder), "--at", "20200101T000000Z", "--data", str(tmp_path / "none"))
    assert gone.returncode == 1 and "keeps no whole backup 20200101T000000Z" in gone.stderr, gone.stderr


@pytest.mark.parametrize("links", [True, False], ids=["hard links", "no hard links (a USB stick's FAT)"])
def test_a_backup_folder_of_the_first_layout_restores_and_is_taken_over(
    gateway: Gateway, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, links: bool
) -> None:
    """Before a folder kept several backups it held one: `mashang.sqlite3` and `manifest.json` beside `blobs/`."""
    from server import backup as backup_module

    if not links:

        def no_links(*args: Any) -> None:
            raise OSError(1, "Operation not permitted")

        monkeypatch.setattr(backup_module.os, "link", no_links)

    push(gateway, docs(0, 10))
    folder = tmp_path / "backup"
    made = backup_module.backup(gateway.data_dir, folder, say=lambda line: None)
    (folder / made.database).rename(folder / "mashang.sqlite3")
    shutil.rmtree(folder / "snapshots")
    first = {k: v for k, v in dataclasses.asdict(made).items() if k != "database"}
    (folder / "manifest.json").write_text(json.dumps(first), encoding="utf-8")

    answer = run("restore", "--from", str(folder), "--data", str(tmp_path / "restored"))
    assert answer.returncode == 0 and "10 documents" in answer.stdout, answer.stderr
    push(gateway, docs(100, 10))
    taken = backup_module.backup(gateway.data_dir, folder, say=lambda line: None, keep=2)  # in this process
    assert [m.documents for m in backup_module.kept(folder)] == [20, 10] and taken.documents == 20
    answer = run("backup", "--data", str(gateway.data_dir), "--to", str(folder), "--keep", "1")
    assert answer.returncode == 0 and "removed 2 older backups" in answer.stdout, answer.stderr
    assert not (folder / "mashang.sqlite3").exists()
    assert [m.documents for m in backup_module.kept(folder)] == [20]


def test_the_gateway_backs_up_on_its_schedule_and_says_when_one_failed(tmp_path: Path) -> None:
    from server import backup as backup_module

    folder = tmp_path / "backup"
    every = 2 / 3600  # two seconds
    env = {"MASHANG_BACKUP_DIR": str(folder), "MASHANG_BACKUP_EVERY_HOURS": str(every), "MASHANG_BACKUP_KEEP": "2"}
    gw = Gateway(tmp_path / "data", env=env).start()

    def status_when(ok: Any, seconds: float = 30) -> Any:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            found = backup_status(gw)
            if ok(found):
                return found
            time.sleep(0.2)
        raise AssertionError(f"the sync monitor still says {found}")

    try:
        push(gw, docs(0, 10))
        first = status_when(lambda s: s["last"] is not None)  # never backed up: at once
        assert first["every_hours"] == every and first["failed"] is None and first["stale"] is False
        push(gw, docs(100, 10))
        status_when(lambda s: s["last"]["documents"] >= 20)  # and again a round later

        # The backup disk goes (here: something else where its folder of snapshots was): the office is told.
        (folder / "snapshots").rename(tmp_path / "snapshots")
        (folder / "snapshots").write_text("not a folder")
        failed = status_when(lambda s: s["failed"] is not None)
        assert "snapshots" in failed["failed"]["error"]
        (folder / "snapshots").unlink()
        (tmp_path / "snapshots").rename(folder / "snapshots")
        push(gw, docs(200, 10))
        back = status_when(lambda s: s["failed"] is None and s["last"]["documents"] >= 30)
        assert back["stale"] is False
    finally:
        gw.stop()
    kept = backup_module.kept(folder)
    assert len(kept) == 2 and kept[0].documents >= 30

    # A CouchDB cluster is backed up with CouchDB's own tools: the schedule is refused, not ignored.
    couch = run("serve", "--couchdb", "http://127.0.0.1:1", "--backup-to", str(tmp_path / "elsewhere"))
    assert couch.returncode == 2 and "CouchDB" in couch.stderr
