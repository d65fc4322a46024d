"""Backups of the embedded store, taken while the gateway runs (`mashang backup`), and their restore into an empty
data folder (`mashang restore`).

A backup folder keeps the last few backups (`keep`, 3 by default), which share their photos:
- `snapshots/{stamp}.sqlite3`: one consistent snapshot of the database, made with SQLite's online backup API from a
  read connection in one step (in WAL mode a reader holds its snapshot while the gateway goes on writing). It holds
  every document, revision, checkpoint and the token secret, so the tokens handed out before still work after a
  restore. `{stamp}` is when it was taken (UTC, `20261129T020000Z`).
- `blobs/`: the attachment bodies (the photos) the snapshots name. They are content-addressed and never rewritten
  or deleted (server/store/sqlite_io.py), so a body named by a row of a snapshot is in the store's folder when it
  is copied after it. A body already in the backup folder is the same bytes and is not copied again: backing up
  into the same folder every night copies the day's new photos only.
- `snapshots/{stamp}.json`: that backup's manifest (when, its sequence, documents, bodies and bytes), written once
  its photos are all in: a snapshot without one is a backup cut short.
- `manifest.json`: the manifest of the newest whole backup, replaced (atomically) only once a new one is whole.
  A backup that fails at any step (a full disk half-way through the photos, a killed process) leaves it naming
  the earlier backup, which stays restorable; the backups older than the `keep` newest are removed after it.

`restore` takes the backup `manifest.json` names, or an earlier one kept (`at`), and checks it before it writes
anything: the manifest, SQLite's `quick_check`, and every body the rows name. It writes into a folder that holds no
store (it never overwrites one), the database last, so that a restore cut short leaves no store a gateway would
open. A folder in the first layout (`mashang.sqlite3` and `manifest.json` beside `blobs/`) restores too.

What the gateway received after the backup was taken is lost with it, the receipts of self-checks included, and the
phones send those checks again. So a restore notes itself in the store it writes (`_local/server/restores`: when
the backup was taken and when it was restored, one entry per restore, kept by later backups), and a self-check or
rectification performed before a restore that arrives in the `RESYNC` (14 days) after it is received, by its
receipt, at the earliest moment it could first have come (`first_arrival`: its own time, or the backup's when it
is older), not days later: a check made on time does not cost its shop a missed week because the server lost
data. Later, a restore re-dates nothing: an owner cannot date events into the lost window for months.

Each backup is also noted in the store (`_local/server/last-backup`, `record`), so that the office's sync monitor
says when the last one was made, and warns when none was made for `STALE_DAYS` (`status`).

A CouchDB cluster is backed up with CouchDB's own tools (replication to another cluster, or its file copies).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import logging
import math
import os
import shutil
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from server.errors import CouchError
from server.store.protocol import Doc, Store
from server.store.sqlite_io import blob_path, connect, last_seq
from server.store.upsert import read_local

DB = "mashang.sqlite3"
LAST_BACKUP = "server/last-backup"  # the local document noting the last backup
FAILED = "server/backup-failed"  # the local document noting the last scheduled backup that failed
RESTORES = "server/restores"  # the local document noting the restores the store came from (`restores`)
# How long after a restore what phones send again is dated as it could first have arrived (`first_arrival`): the
# week's grace a phone may stay offline, and a week more.
RESYNC = timedelta(days=14)
RETRY_HOURS = 1.0  # a scheduled backup that failed is tried again after this (or a round, when shorter)
STALE_DAYS = 2  # the sync monitor warns when no backup was made for longer
MANIFEST = "manifest.json"
BLOBS = "blobs"
SNAPSHOTS = "snapshots"
KEEP = 3  # backups kept in a folder (the newest first); their photos are shared
PROGRESS_EVERY = 2.0  # seconds between two progress lines while bodies are copied

Say = Callable[[str], None]
log = logging.getLogger("mashang.backup")


class BackupError(Exception):
    """Why a backup or a restore cannot be made; nothing was changed where it would have been written."""


@dataclass(frozen=True)
class Restore:
    """A restore the store came from: the backup was taken at `taken_at`, and put back at `restored_at`; what the
    gateway received in between was lost."""

    taken_at: datetime
    restored_at: datetime


@dataclass(frozen=True)
class Manifest:
    created_at: str
    seq: int
    documents: int
    blobs: int
    bytes: int
    database: str = DB  # the snapshot's path in the backup folder (the first layout's by default)

    @property
    def stamp(self) -> str:
        """The name a backup is chosen by (`restore --at`): its snapshot's file name without `.sqlite3`."""
        return Path(self.database).name.removesuffix(".sqlite3")

    def line(self) -> str:
        return (
            f"{self.documents} documents up to sequence {self.seq}, {self.blobs} photos and other attachments "
            f"({self.bytes / 2**20:.1f} MB), taken {self.created_at}"
        )


def backup(data_dir: Path, out: Path, say: Say = print, keep: int = KEEP) -> Manifest:
    """Back the store in `data_dir` up into the folder `out` (made if missing), keeping the `keep` newest backups
    there; the photos an earlier backup copied are not copied again."""
    source = data_dir / DB
    if not source.is_file():
        raise BackupError(f"{data_dir} holds no embedded store (no {DB})")
    if out.resolve() == data_dir.resolve():
        raise BackupError("the backup folder must not be the data folder")
    if keep < 1:
        raise BackupError("keep at least one backup")
    (out / SNAPSHOTS).mkdir(parents=True, exist_ok=True)
    with _only_backup(out):
        return _backup(data_dir, out, say, keep)


@contextlib.contextmanager
def _only_backup(out: Path) -> Iterator[None]:
    """One backup at a time into a folder (a scheduled one and one from cron, say): each removes what an earlier
    one left unfinished, which would be the other's snapshot half-way."""
    with (out / "backup.lock").open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BackupError(f"another backup is being made into {out}: try again once it is done") from None
        except OSError:
            pass  # a filesystem without locks (some network mounts): one backup at a time is the operator's care
        yield


def _backup(data_dir: Path, out: Path, say: Say, keep: int) -> Manifest:
    source = data_dir / DB
    started = time.monotonic()
    _take_over_first_layout(out)
    now = datetime.now(UTC)
    database = _new_snapshot_name(out, now)
    snapshot = out / database
    partial = snapshot.with_name(f"{snapshot.name}.partial")
    try:
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
        os.replace(partial, snapshot)
    finally:
        partial.unlink(missing_ok=True)
    say(f"database: {documents} documents up to sequence {seq} ({snapshot.stat().st_size / 2**20:.1f} MB)")
    copied, size = _copy_blobs(data_dir / BLOBS, out / BLOBS, names, say)
    manifest = Manifest(now.isoformat(timespec="seconds"), seq, documents, len(names), size, database)
    # Whole now: its own manifest, then the folder's, which names it instead of the earlier one.
    _write_json(snapshot.with_suffix(".json"), asdict(manifest))
    _write_json(out / MANIFEST, asdict(manifest))
    say(f"photos and attachments: {len(names)}, {copied} new in this backup")
    removed = _prune(out, keep, manifest)
    if removed:
        say(f"removed {removed} older backup{'s' if removed > 1 else ''} (keeping the {keep} newest)")
    say(f"backup complete in {time.monotonic() - started:.1f} s: {manifest.line()}")
    return manifest


def _take_over_first_layout(out: Path) -> None:
    """A folder of the first layout (one backup: `mashang.sqlite3` and `manifest.json` beside `blobs/`) becomes one
    kept backup of this layout. Linked, not moved: at every step the folder restores."""
    if not (out / DB).is_file() or not (out / MANIFEST).is_file():
        return
    try:
        first = _manifest(out / MANIFEST)
    except BackupError:
        return  # not a whole backup: the new one replaces it
    if first.database != DB:
        (out / DB).unlink()  # left over: the manifest names a backup of this layout already
        return
    moment = parse_time(first.created_at) or datetime.now(UTC)
    database = _new_snapshot_name(out, moment)
    try:
        os.link(out / DB, out / database)
    except OSError:  # a filesystem without hard links (a USB stick's FAT): a copy, made whole before it is named
        aside = (out / database).with_name(f"{Path(database).name}.partial")
        shutil.copyfile(out / DB, aside)
        _fsync(aside)
        os.replace(aside, out / database)
    taken = replace(first, database=database)
    _write_json((out / database).with_suffix(".json"), asdict(taken))
    _write_json(out / MANIFEST, asdict(taken))
    (out / DB).unlink()


def _new_snapshot_name(out: Path, now: datetime) -> str:
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    name, n = stamp, 1
    while (out / SNAPSHOTS / f"{name}.sqlite3").exists() or (out / SNAPSHOTS / f"{name}.json").exists():
        n += 1
        name = f"{stamp}-{n}"  # two backups within a second
    return f"{SNAPSHOTS}/{name}.sqlite3"


def kept(folder: Path) -> list[Manifest]:
    """The whole backups in `folder`, the newest first (the first layout's single one included)."""
    found: list[Manifest] = []
    for path in (folder / SNAPSHOTS).glob("*.json") if (folder / SNAPSHOTS).is_dir() else []:
        try:
            manifest = _manifest(path)
        except BackupError:
            continue
        if (folder / manifest.database).is_file():
            found.append(manifest)
    if (folder / DB).is_file() and (folder / MANIFEST).is_file():
        try:
            legacy = _manifest(folder / MANIFEST)
            if legacy.database == DB:
                found.append(legacy)
        except BackupError:
            pass
    return sorted(found, key=lambda m: (m.created_at, m.stamp), reverse=True)


def _prune(out: Path, keep: int, newest: Manifest) -> int:
    """Remove the backups older than the `keep` newest, and the leftovers of backups cut short; answers how many
    whole backups were removed. The photos stay: the store never deletes one either."""
    whole = kept(out)
    names = {m.database for m in whole[:keep]} | {newest.database}
    removed = 0
    for manifest in whole[keep:]:
        if manifest.database in names:
            continue
        (out / manifest.database).unlink(missing_ok=True)
        (out / manifest.database).with_suffix(".json").unlink(missing_ok=True)
        removed += 1
    for path in (out / SNAPSHOTS).iterdir():
        database = f"{SNAPSHOTS}/{path.name}"
        if path.name.endswith((".partial", ".partial-journal")):
            path.unlink(missing_ok=True)  # written aside by a process killed half-way (this one holds the lock)
        elif path.suffix == ".sqlite3" and database not in names and not path.with_suffix(".json").exists():
            # A snapshot whose photos never all came: a backup cut short (this one holds the folder's lock, so
            # no other is under way).
            path.unlink(missing_ok=True)
    _fsync(out / SNAPSHOTS)
    return removed


def restore(source: Path, data_dir: Path, say: Say = print, at: str | None = None) -> Manifest:
    """Put the backup in `source` into `data_dir`, which must hold no store: the newest, or the one kept `at`."""
    manifest = read_manifest(source, at)
    database = source / manifest.database
    if (data_dir / DB).exists():
        raise BackupError(
            f"{data_dir} already holds a store: restore into an empty folder (stop the gateway, then move the old "
            f"store away: {DB} with its -wal and -shm files)"
        )
    if (data_dir / f"{DB}-wal").exists():
        # The WAL of a store moved away under a running gateway holds writes it acknowledged: never delete it.
        raise BackupError(
            f"{data_dir} holds {DB}-wal without its store: a gateway may still be writing there; stop it, and "
            f"move {DB}-wal and {DB}-shm away with the store they belong to"
        )
    check = _read_only(database)
    try:
        verdict = [row[0] for row in check.execute("PRAGMA quick_check")]
    except sqlite3.DatabaseError as e:
        raise BackupError(f"the backup's database is damaged: {e}") from None
    finally:
        check.close()
    if verdict != ["ok"]:
        raise BackupError(f"the backup's database is damaged: {'; '.join(verdict[:3])}")
    seq, documents, names = _contents(database)
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
    for left in (f"{DB}.partial-wal", f"{DB}.partial-shm", f"{DB}.partial-journal"):
        (data_dir / left).unlink(missing_ok=True)  # of a restore cut short: never applied to this copy
    try:
        shutil.copyfile(database, partial)
        _note_restore(partial, manifest, datetime.now(UTC))
        _fsync(partial)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    (data_dir / f"{DB}-shm").unlink(missing_ok=True)  # of no store: the folder held none (nor its WAL, above)
    os.replace(partial, data_dir / DB)
    _fsync(data_dir)
    say(f"restored into {data_dir}: start the gateway on it (mashang serve --data {data_dir})")
    return manifest


def _note_restore(db: Path, manifest: Manifest, now: datetime) -> None:
    """Add this restore to the restores noted in the copy `db` (those of the store the backup was taken from come
    with it), as `put_local` writes a local document. The copy is left in rollback mode, one file (the gateway
    turns it to WAL when it opens it)."""
    entry = {
        "taken_at": manifest.created_at,
        "restored_at": now.isoformat(timespec="seconds"),
        "backup": manifest.stamp,
    }
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=DELETE")
        conn.execute("BEGIN IMMEDIATE")
        row = conn.execute("SELECT rev, body FROM local_docs WHERE id = ?", (RESTORES,)).fetchone()
        try:
            body = json.loads(row[1]) if row is not None else {}
        except ValueError:
            body = {}  # never written so: this restore is noted still
        earlier = body.get("restores") if isinstance(body, dict) else None
        restores = [*(earlier if isinstance(earlier, list) else []), entry]
        data = json.dumps({"restores": restores}, ensure_ascii=False, separators=(",", ":"))
        conn.execute(
            "INSERT OR REPLACE INTO local_docs(id, rev, body) VALUES (?, ?, ?)",
            (RESTORES, (int(row[0]) if row is not None else 0) + 1, data),
        )
        conn.execute("COMMIT")
    except sqlite3.DatabaseError as e:
        raise BackupError(f"the restored database cannot be written: {e}") from None
    finally:
        conn.close()


async def restores(store: Store) -> tuple[Restore, ...]:
    """The restores the store came from (`_note_restore`), the oldest first; an entry that does not parse is
    skipped (none on a CouchDB cluster, which is not restored by `restore`)."""
    noted = await read_local(store, RESTORES)
    entries = noted.get("restores") if noted else None
    found = []
    for entry in entries if isinstance(entries, list) else []:
        taken = parse_time(entry.get("taken_at")) if isinstance(entry, dict) else None
        restored = parse_time(entry.get("restored_at")) if isinstance(entry, dict) else None
        if taken is not None and restored is not None:
            found.append(Restore(taken, restored))
    return tuple(found)


def first_arrival(performed_at: datetime, now: datetime, noted: tuple[Restore, ...]) -> datetime:
    """When the server is taken to have received, `now`, something performed at `performed_at`: `now`, unless it
    was performed before a restore the store came from, and it comes within `RESYNC` of that restore; then it may
    have arrived once already and been lost with what came after the backup, and it is dated at the earliest moment
    it could have first arrived (its own time, or the backup's when it is older; never later than `now`).

    Phones send again what a restore lost at their next sync: a restore re-dates only what comes in the `RESYNC`
    after it. Without that bound, an owner could date a check or a fix into the lost window for as long as the
    gateway accepts old events (90 days) after any restore, and be received in time."""
    earliest = now
    for restore_ in noted:
        if performed_at < restore_.restored_at <= now <= restore_.restored_at + RESYNC:
            earliest = min(earliest, max(performed_at, restore_.taken_at))
    return earliest


async def record(store: Store, manifest: Manifest, folder: Path) -> None:
    """Note the backup just made in the store, for the sync monitor (two backups at once: the later note wins)."""
    await _note(store, LAST_BACKUP, {**asdict(manifest), "folder": str(folder)})


async def _note(store: Store, local_id: str, body: Doc) -> None:
    for _ in range(3):
        rev = (await read_local(store, local_id) or {}).get("_rev")
        try:
            await store.put_local(local_id, {**body, "_rev": rev})
            return
        except CouchError as e:
            if e.status != 409:
                raise


async def _noted(store: Store) -> tuple[Doc | None, datetime | None, Doc | None, datetime | None]:
    """The last backup's note and when it was made; the scheduled backup that failed since (none when a backup
    was made after it) and when."""
    noted = await read_local(store, LAST_BACKUP)
    made = parse_time(noted.get("created_at")) if noted else None
    failure = await read_local(store, FAILED)
    failed_at = parse_time(failure.get("at")) if failure else None
    if failed_at is None or (made is not None and failed_at <= made):
        return noted, made, None, None
    return noted, made, failure, failed_at


async def status(store: Store, now: datetime, every_hours: float | None = None) -> Doc:
    """What the sync monitor says of backups: `{"kind": "couchdb"}` (CouchDB's own tools back it up), or
    `{"kind": "sqlite", "last": the last backup's manifest or None, "stale": no backup for STALE_DAYS (or two of the
    schedule's rounds, when longer), "stale_after_days": that many days, "every_hours": the gateway's schedule or
    None, "failed": the scheduled backup that failed since the last one made ({"at", "error"}) or None}`."""
    if store.kind != "sqlite":
        return {"kind": store.kind}
    noted, made, failure, _ = await _noted(store)
    # Its folder and file, paths on the server, are not for the office.
    last = {k: v for k, v in noted.items() if k not in ("_id", "_rev", "folder", "database")} if noted else None
    failed = {"at": failure.get("at"), "error": failure.get("error")} if failure else None
    allowed = max(timedelta(days=STALE_DAYS), timedelta(hours=2 * every_hours) if every_hours else timedelta())
    return {
        "kind": "sqlite",
        "last": last,
        "stale": made is None or now - made >= allowed,
        "stale_after_days": math.ceil(allowed / timedelta(days=1)),
        "every_hours": every_hours,
        "failed": failed,
    }


class Schedule:
    """The gateway's own backups (`mashang serve --backup-to DIR`): one every `every_hours` into `folder`, as
    `mashang backup` makes them, in a thread while the gateway serves. The first is made at start when the store
    was never backed up, or its last backup is older than a round. Each is noted for the sync monitor like a
    manual one; a backup that fails is noted too (`FAILED`: when, and why, which the office sees) and tried again
    after `RETRY_HOURS` (or a round, when shorter)."""

    def __init__(self, store: Store, data_dir: Path, folder: Path, every_hours: float, keep: int = KEEP) -> None:
        self.store, self.data_dir, self.folder = store, data_dir, folder
        self.every = timedelta(hours=every_hours)
        self.keep = keep
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="mashang-backups")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def wait(self) -> float:
        """Seconds until the next backup is due."""
        now = datetime.now(UTC)
        _, made, _, failed_at = await _noted(self.store)
        if failed_at is not None:
            due = failed_at + min(self.every, timedelta(hours=RETRY_HOURS))
        elif made is not None:
            due = made + self.every
        else:
            return 0.0
        return max(0.0, (due - now).total_seconds())

    async def run_once(self) -> Manifest | None:
        """Make one backup now; None when it failed (noted, and logged)."""
        try:
            manifest = await asyncio.to_thread(backup, self.data_dir, self.folder, log.info, self.keep)
        except (BackupError, OSError, sqlite3.Error) as e:
            log.error("scheduled backup into %s failed: %s", self.folder, e)
            await _note(self.store, FAILED, {"at": datetime.now(UTC).isoformat(timespec="seconds"), "error": str(e)})
            return None
        await record(self.store, manifest, self.folder.resolve())
        return manifest

    async def _run(self) -> None:
        while True:
            try:
                await asyncio.sleep(await self.wait())
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:  # the store refused a note: try again in a while, never stop backing up
                log.exception("scheduled backups")
                await asyncio.sleep(60)


def parse_time(value: object) -> datetime | None:
    """An ISO time with its zone (as the store and the phones write them), or None."""
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def read_manifest(source: Path, at: str | None = None) -> Manifest:
    """The manifest of the newest backup in `source`, or of the one kept `at` (its stamp)."""
    whole = kept(source)
    if at is not None:
        chosen = [m for m in whole if m.stamp == at]
        if not chosen:
            raise BackupError(f"{source} keeps no whole backup {at}: {_listing(whole)}")
        return chosen[0]
    path = source / MANIFEST
    if not path.is_file():
        if whole:
            raise BackupError(
                f"{source} has no {MANIFEST}: its last backup was cut short; restore a kept one with --at "
                f"({_listing(whole)})"
            )
        if (source / DB).is_file() or (source / SNAPSHOTS).is_dir():
            raise BackupError(f"{source} is a backup cut short (no {MANIFEST}): make it again")
        raise BackupError(f"{source} is not a backup (no {MANIFEST})")
    manifest = _manifest(path)
    if not (source / manifest.database).is_file():
        raise BackupError(f"{source} is not a whole backup: {manifest.database}, which {MANIFEST} names, is missing")
    return manifest


def _listing(whole: list[Manifest]) -> str:
    if not whole:
        return "it holds none"
    return "it keeps " + ", ".join(f"{m.stamp} ({m.documents} documents)" for m in whole)


def _manifest(path: Path) -> Manifest:
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
        fields = {k: found[k] for k in ("created_at", "seq", "documents", "blobs", "bytes")}
        database = found.get("database", DB)
        if not isinstance(database, str) or Path(database).is_absolute() or ".." in Path(database).parts:
            raise ValueError(f"database: {database!r}")
        return Manifest(**fields, database=database)
    except (OSError, ValueError, KeyError, TypeError) as e:
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
