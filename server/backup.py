"""Backups of the embedded store, taken while the gateway runs (`mashang backup`), and their restore into an empty
data folder (`mashang restore`).

A backup is a folder:
- `mashang.sqlite3`: one consistent snapshot of the database, made with SQLite's online backup API from a read
  connection in one step (in WAL mode a reader holds its snapshot while the gateway goes on writing). It holds
  every document, revision, checkpoint and the token secret, so the tokens handed out before still work after a
  restore.
- `blobs/`: the attachment bodies (the photos) that snapshot names. They are content-addressed and never rewritten
  or deleted (server/store/sqlite_io.py), so a body named by a row of the snapshot is in the store's folder when
  it is copied after it. A body already in the backup folder is the same bytes and is not copied again: backing up
  into the same folder every night copies the day's new photos only.
- `manifest.json`, written last: when, the snapshot's sequence, documents, bodies and bytes. A folder without it
  is a backup cut short, which `restore` refuses.

`restore` checks the backup before it writes anything: the manifest, SQLite's `quick_check`, and every body the
rows name. It writes into a folder that holds no store (it never overwrites one), the database last, so that a
restore cut short leaves no store a gateway would open.

Each backup is also noted in the store (`_local/server/last-backup`, `record`), so that the office's sync monitor
says when the last one was made, and warns when none was made for `STALE_DAYS` (`status`).

A CouchDB cluster is backed up with CouchDB's own tools (replication to another cluster, or its file copies).
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from server.errors import CouchError
from server.store.protocol import Doc, Store
from server.store.sqlite_io import blob_path, connect, last_seq

DB = "mashang.sqlite3"
LAST_BACKUP = "server/last-backup"  # the local document noting the last backup
STALE_DAYS = 2  # the sync monitor warns when no backup was made for longer
MANIFEST = "manifest.json"
BLOBS = "blobs"
PROGRESS_EVERY = 2.0  # seconds between two progress lines while bodies are copied

Say = Callable[[str], None]


class BackupError(Exception):
    """Why a backup or a restore cannot be made; nothing was changed where it would have been written."""


@dataclass(frozen=True)
class Manifest:
    created_at: str
    seq: int
    documents: int
    blobs: int
    bytes: int

    def line(self) -> str:
        return (
            f"{self.documents} documents up to sequence {self.seq}, {self.blobs} photos and other attachments "
            f"({self.bytes / 2**20:.1f} MB), taken {self.created_at}"
        )


def backup(data_dir: Path, out: Path, say: Say = print) -> Manifest:
    """Copy the store in `data_dir` to the folder `out` (made if missing; an earlier backup there is brought up to
    date, copying only the bodies it lacks)."""
    source = data_dir / DB
    if not source.is_file():
        raise BackupError(f"{data_dir} holds no embedded store (no {DB})")
    if out.resolve() == data_dir.resolve():
        raise BackupError("the backup folder must not be the data folder")
    out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    partial = out / f"{DB}.partial"
    partial.unlink(missing_ok=True)
    reader = connect(source, "NORMAL", readonly=True)
    try:
        copy = sqlite3.connect(partial)
        try:
            reader.backup(copy)  # one step: one snapshot, however the gateway writes meanwhile
        finally:
            copy.close()
    finally:
        reader.close()
    seq, documents, names = _contents(partial)
    _fsync(partial)
    # An earlier backup here stays whole until the new snapshot is made; from here on the folder is complete again
    # only once the new manifest is written (a backup that fails meanwhile leaves one that `restore` refuses).
    (out / MANIFEST).unlink(missing_ok=True)
    os.replace(partial, out / DB)
    say(f"database: {documents} documents up to sequence {seq} ({(out / DB).stat().st_size / 2**20:.1f} MB)")
    copied, size = _copy_blobs(data_dir / BLOBS, out / BLOBS, names, say)
    manifest = Manifest(datetime.now(UTC).isoformat(timespec="seconds"), seq, documents, len(names), size)
    _write_json(out / MANIFEST, asdict(manifest))
    say(f"photos and attachments: {len(names)}, {copied} new in this backup")
    say(f"backup complete in {time.monotonic() - started:.1f} s: {manifest.line()}")
    return manifest


def restore(source: Path, data_dir: Path, say: Say = print) -> Manifest:
    """Put the backup in `source` into `data_dir`, which must hold no store."""
    manifest = read_manifest(source)
    if (data_dir / DB).exists():
        raise BackupError(
            f"{data_dir} already holds a store: restore into an empty folder (move the old one away first)"
        )
    check = _read_only(source / DB)
    try:
        verdict = [row[0] for row in check.execute("PRAGMA quick_check")]
    except sqlite3.DatabaseError as e:
        raise BackupError(f"the backup's database is damaged: {e}") from None
    finally:
        check.close()
    if verdict != ["ok"]:
        raise BackupError(f"the backup's database is damaged: {'; '.join(verdict[:3])}")
    seq, documents, names = _contents(source / DB)
    if (seq, documents) != (manifest.seq, manifest.documents):
        raise BackupError(
            f"the backup's database ({documents} documents up to {seq}) is not the one its manifest describes "
            f"({manifest.documents} up to {manifest.seq})"
        )
    missing = [name for name in names if not blob_path(source / BLOBS, name).is_file()]
    if missing:
        raise BackupError(f"{len(missing)} attachment bodies are missing from the backup, {missing[0]} first")
    say(f"backup: {manifest.line()}")
    data_dir.mkdir(parents=True, exist_ok=True)
    _copy_blobs(source / BLOBS, data_dir / BLOBS, names, say)
    partial = data_dir / f"{DB}.partial"
    shutil.copyfile(source / DB, partial)
    _fsync(partial)
    for stale in (f"{DB}-wal", f"{DB}-shm"):  # of no store: the folder held none
        (data_dir / stale).unlink(missing_ok=True)
    os.replace(partial, data_dir / DB)
    _fsync(data_dir)
    say(f"restored into {data_dir}: start the gateway on it (mashang serve --data {data_dir})")
    return manifest


async def record(store: Store, manifest: Manifest, folder: Path) -> None:
    """Note the backup just made in the store, for the sync monitor (two backups at once: the later note wins)."""
    for _ in range(3):
        try:
            rev = (await store.get_local(LAST_BACKUP)).get("_rev")
        except CouchError as e:
            if e.status != 404:
                raise
            rev = None
        try:
            await store.put_local(LAST_BACKUP, {**asdict(manifest), "folder": str(folder), "_rev": rev})
            return
        except CouchError as e:
            if e.status != 409:
                raise


async def status(store: Store, now: datetime) -> Doc:
    """What the sync monitor says of backups: `{"kind": "couchdb"}` (CouchDB's own tools back it up), or
    `{"kind": "sqlite", "last": the last backup's manifest or None, "stale": no backup for STALE_DAYS}`."""
    if store.kind != "sqlite":
        return {"kind": store.kind}
    try:
        noted = await store.get_local(LAST_BACKUP)  # its folder, a path on the server, is not for the office
        last: Doc | None = {k: v for k, v in noted.items() if k not in ("_id", "_rev", "folder")}
    except CouchError as e:
        if e.status != 404:
            raise
        last = None
    made = _moment(last.get("created_at")) if last else None
    return {"kind": "sqlite", "last": last, "stale": made is None or (now - made).days >= STALE_DAYS}


def _moment(value: object) -> datetime | None:
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def read_manifest(source: Path) -> Manifest:
    path = source / MANIFEST
    if not (source / DB).is_file():
        raise BackupError(f"{source} is not a backup (no {DB})")
    if not path.is_file():
        raise BackupError(f"{source} is a backup cut short (no {MANIFEST}): make it again")
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
        return Manifest(**{k: found[k] for k in ("created_at", "seq", "documents", "blobs", "bytes")})
    except (ValueError, KeyError, TypeError) as e:
        raise BackupError(f"{path} is unreadable: {e}") from None


def _contents(db: Path) -> tuple[int, int, list[str]]:
    """The snapshot's highest sequence, its live documents, and the attachment bodies its rows name."""
    conn = _read_only(db)
    try:
        seq = last_seq(conn)
        documents = int(conn.execute("SELECT COUNT(*) FROM docs WHERE deleted = 0").fetchone()[0])
        names = [str(row[0]) for row in conn.execute("SELECT DISTINCT blob FROM atts ORDER BY blob")]
    except sqlite3.DatabaseError as e:
        raise BackupError(f"{db} is not a Mashang store: {e}") from None
    finally:
        conn.close()
    return seq, documents, names


def _read_only(db: Path) -> sqlite3.Connection:
    """A connection that reads a database file no one writes (a backup's), leaving nothing beside it."""
    return sqlite3.connect(f"file:{db}?mode=ro&immutable=1", uri=True)


def _copy_blobs(source: Path, target: Path, names: list[str], say: Say) -> tuple[int, int]:
    """Copy the bodies `names` the target lacks (each written aside and renamed); answers how many were copied and
    the bytes of them all."""
    copied = size = 0
    said = time.monotonic()
    for done, name in enumerate(names, 1):
        src, dst = blob_path(source, name), blob_path(target, name)
        if not src.is_file():
            raise BackupError(f"the attachment body {name} is missing from {source}: the store is damaged")
        size += src.stat().st_size
        if not dst.is_file():
            dst.parent.mkdir(parents=True, exist_ok=True)
            aside = dst.with_name(f"{name}.partial")
            shutil.copyfile(src, aside)
            _fsync(aside)
            os.replace(aside, dst)
            copied += 1
        if time.monotonic() - said >= PROGRESS_EVERY:
            say(f"photos and attachments: {done} of {len(names)} ({copied} copied)")
            said = time.monotonic()
    if copied:
        for folder in {blob_path(target, name).parent for name in names}:
            _fsync(folder)
    return copied, size


def _write_json(path: Path, data: object) -> None:
    aside = path.with_name(f"{path.name}.partial")
    aside.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    _fsync(aside)
    os.replace(aside, path)
    _fsync(path.parent)


def _fsync(path: Path) -> None:
    """A file's bytes, or a folder's names, on the disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
