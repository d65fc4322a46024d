"""The embedded store's plumbing: one writer thread, a pool of readers, the attachment blob folder.

Durability policy (written down, tested by tests/test_crash.py and tests/store/test_sqlite.py):
- SQLite in WAL mode; every write goes through one writer thread that groups the queued jobs into one
  `BEGIN IMMEDIATE` transaction (group commit), each job inside its own SAVEPOINT so that one failing job
  cannot undo another's (a job alone in its transaction needs none: its failure rolls it back). A caller's
  future resolves only after COMMIT returned, so an acknowledged write is in the WAL, in the OS's cache at
  least: it survives a killed process, always.
- With `synchronous=FULL` (the default) a durable commit is answered only after an fsync of the WAL that began
  after its COMMIT, so it survives a power cut too. The fsync runs on a flusher thread while the writer goes
  on with the next group (SQLite itself commits at NORMAL); one fsync answers every commit made before it
  began. Every write is durable unless its caller says otherwise. Readers see a commit from COMMIT on, a
  moment before its fsync ends: a power cut in that moment can lose a document someone read, but not one whose
  writer was answered (a replicated one comes back from its phone, see below; a projection from its events).
- Replicated writes are the exception (`_bulk_docs` with new_edits=false, which only a replicator sends): they
  are answered right after COMMIT, and the flusher starts their fsync at once in the background. This is
  CouchDB's "delayed commit" and it is safe for the same reason: a replicator keeps every document at its
  source until it has written a checkpoint to the target, and it writes the checkpoint (`PUT _local/...`, a
  durable write) only after the batch was answered. The fsync that answers the checkpoint covers the WAL up
  to it, the batch's frames included, and the replicator records the checkpoint at its source only after
  that. A power cut between the two loses the batch and the checkpoint together (the WAL loses a suffix, in
  order), and the replicator sends the batch again. A push thus pays the fsync once per batch, mostly
  hidden behind the replicator's own work between the two requests.
- Other processes may write the same folder (`mashang worker` or `rebuild` beside a gateway): SQLite serializes
  their transactions, and each writer takes up the sequence and counts the others left when its transaction
  begins (a highest sequence above its own says someone else committed), so every change keeps a sequence of
  its own; a sequence given twice fails its write (`docs` rows are upserted on the id, never replaced).
  `ForeignWrites` wakes the longpolling feeds for the other processes' commits within a second.
- Attachment bodies are written to `blobs/` (named by their SHA-256, written once per content) and fsynced,
  file and folder, before the row that references them is committed: a crash can leave an unreferenced
  blob, never a row without its body.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import queue
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from server.errors import CouchError
from server.store.revtree import Node, Tree

T = TypeVar("T")
log = logging.getLogger(__name__)

# `revs` keeps a rowid: its rows hold the document bodies (a self-check is ~600 bytes), and SQLite's WITHOUT ROWID
# tables suit small rows only. Keyed on (doc_id, rev) itself, each row went into the middle of the tree: a push of
# 100 documents dirtied ~370 pages where it now dirties ~230 (new rows are appended; only the key's index takes
# random inserts), and its commit took 40% longer. A database made before keeps its WITHOUT ROWID table: the
# statements are the same for both.
SCHEMA = """
CREATE TABLE IF NOT EXISTS docs (
    id TEXT PRIMARY KEY,
    partition TEXT NOT NULL,
    seq INTEGER NOT NULL,
    winner TEXT NOT NULL,
    deleted INTEGER NOT NULL
) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS docs_seq ON docs(seq);
CREATE INDEX IF NOT EXISTS docs_partition_seq ON docs(partition, seq);
CREATE TABLE IF NOT EXISTS revs (
    doc_id TEXT NOT NULL,
    rev TEXT NOT NULL,
    parent TEXT,
    deleted INTEGER NOT NULL,
    leaf INTEGER NOT NULL,
    body TEXT,
    PRIMARY KEY (doc_id, rev)
);
CREATE TABLE IF NOT EXISTS atts (
    doc_id TEXT NOT NULL,
    rev TEXT NOT NULL,
    name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    digest TEXT NOT NULL,
    length INTEGER NOT NULL,
    revpos INTEGER NOT NULL,
    blob TEXT NOT NULL,
    PRIMARY KEY (doc_id, rev, name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS local_docs (
    id TEXT PRIMARY KEY,
    rev INTEGER NOT NULL,
    body TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
"""


def load_trees(conn: sqlite3.Connection, doc_ids: list[str]) -> dict[str, Tree]:
    """The revision trees of many documents in a few queries (a replication batch asks about a hundred)."""
    trees: dict[str, Tree] = {i: {} for i in doc_ids}
    for start in range(0, len(doc_ids), 500):
        chunk = doc_ids[start : start + 500]
        sql = (
            f"SELECT doc_id, rev, parent, deleted, body IS NOT NULL FROM revs"
            f" WHERE doc_id IN ({','.join('?' * len(chunk))})"
        )
        for doc_id, r, p, d, a in conn.execute(sql, chunk):
            trees[doc_id][r] = Node(p, bool(d), bool(a))
    return trees


def connect(path: Path, synchronous: str, readonly: bool = False) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={synchronous}")
    conn.execute("PRAGMA foreign_keys=OFF")
    conn.execute("PRAGMA cache_size=-32000")
    if readonly:
        conn.execute("PRAGMA query_only=ON")
    return conn


def last_seq(conn: sqlite3.Connection) -> int:
    """The highest sequence in the database (one step down the `docs_seq` index)."""
    return int(conn.execute("SELECT coalesce(max(seq), 0) FROM docs").fetchone()[0])


def read_state(conn: sqlite3.Connection) -> tuple[int, int, int]:
    """The sequence and the live and deleted document counts, as the database holds them."""
    live, dead = conn.execute("SELECT coalesce(sum(deleted = 0), 0), coalesce(sum(deleted), 0) FROM docs").fetchone()
    return last_seq(conn), int(live), int(dead)


def data_version(conn: sqlite3.Connection) -> int:
    """SQLite's counter of commits by other connections (other processes included) seen by `conn`."""
    return int(conn.execute("PRAGMA data_version").fetchone()[0])


class TxState:
    """What one write transaction changes besides rows: the sequence and the document counts."""

    def __init__(self, seq: int, doc_count: int, del_count: int) -> None:
        self.seq = seq
        self.doc_count = doc_count
        self.del_count = del_count

    def snapshot(self) -> tuple[int, int, int]:
        return (self.seq, self.doc_count, self.del_count)

    def restore(self, snap: tuple[int, int, int]) -> None:
        self.seq, self.doc_count, self.del_count = snap


Job = Callable[[sqlite3.Connection, TxState], Any]


class Writer:
    """One thread owns the write connection; jobs queue up and commit together.

    A group wakes the event loop once, after its commit, with its answers and its new sequence together (`publish`,
    run there), and only to answer for a commit that moved no sequence (a replicator's checkpoint, whose answer the
    flusher sends): each wake is a thread the loop's thread then waits on for the GIL, and under a push, on a
    machine whose cores are busy, every hand-off between threads costs more than the work it hands over."""

    MAX_GROUP = 64

    def __init__(
        self,
        path: Path,
        synchronous: str,
        state: TxState,
        loop: asyncio.AbstractEventLoop,
        publish: Callable[[tuple[int, int, int]], None],
    ) -> None:
        # At FULL (or EXTRA) the connection commits at NORMAL and the WalFlusher fsyncs the WAL behind it: the
        # same durability (a durable job is answered only after an fsync that began after its COMMIT), but the
        # writer goes on with the next group while the disk works, and a light group does not wait at all.
        self._flushes = synchronous.upper() in ("FULL", "EXTRA")
        self._conn = connect(path, "NORMAL" if self._flushes else synchronous)
        self._conn.execute("PRAGMA wal_autocheckpoint=0")  # the WalCheckpointer's thread does it
        # The savepoints of a group's jobs keep the pages they change in memory, not in a temporary file: a group's
        # transaction is bounded (MAX_GROUP jobs), and the writer's own sorts are small.
        self._conn.execute("PRAGMA temp_store=MEMORY")
        self._checkpointer = WalCheckpointer(path, synchronous)
        self._flusher = WalFlusher(Path(f"{path}-wal"))
        self._state = state
        self._loop = loop
        self._publish = publish
        self._published = state.seq  # the sequence `publish` was last called with (writer thread)
        self.commits = {"durable": 0, "light": 0}  # for the tests of the durability policy
        self._queue: queue.SimpleQueue[tuple[Job, asyncio.Future[Any], bool] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="mashang-sqlite-writer", daemon=True)
        self._thread.start()

    async def submit(self, job: Job, durable: bool = True) -> Any:
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queue.put((job, fut, durable))
        return await fut

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=30)
        self._flusher.close()
        self._checkpointer.close()
        self._conn.close()

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            group = [first]
            stop = False
            while len(group) < self.MAX_GROUP:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    stop = True
                    break
                group.append(nxt)
            self._run_group(group)
            if stop:
                return

    def _run_group(self, group: list[tuple[Job, asyncio.Future[Any], bool]]) -> None:
        conn, state = self._conn, self._state
        before = state.snapshot()
        outcomes: list[tuple[bool, Any]] = []
        committed = False
        try:
            conn.execute("BEGIN IMMEDIATE")
            if last_seq(conn) > state.seq:
                # Another process wrote (`mashang worker` or `rebuild` beside a gateway on the same folder): every
                # write of a document takes the next sequence, so a higher one than ours is theirs. Go on from their
                # sequence and counts, which this transaction now holds the lock on. (SQLite's `data_version` missed
                # a commit made between the store's first read of the sequence and its writer's first look.)
                state.restore(read_state(conn))
            before = state.snapshot()
            for i, (job, _fut, _durable) in enumerate(group):
                if len(group) == 1:
                    # Alone in its transaction, a job needs no savepoint: its error rolls the transaction back
                    # (below). A savepoint keeps the old content of every page the job changes, which cost a
                    # replicated batch of 100 documents 1 ms in a file and 0.15 ms in memory.
                    outcomes.append((True, job(conn, state)))
                    continue
                snap = state.snapshot()
                conn.execute(f"SAVEPOINT j{i}")
                try:
                    outcomes.append((True, job(conn, state)))
                    conn.execute(f"RELEASE j{i}")
                except BaseException as e:  # the job's error goes to its caller, the group goes on
                    conn.execute(f"ROLLBACK TO j{i}")
                    conn.execute(f"RELEASE j{i}")
                    state.restore(snap)
                    outcomes.append((False, e))
            conn.execute("COMMIT")
            committed = True
        except BaseException as e:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            state.restore(before)
            outcomes = [(False, e)] * len(group)
        answers = [(fut, ok, value) for (_job, fut, _durable), (ok, value) in zip(group, outcomes, strict=True)]
        durable = any(d for _job, _fut, d in group)
        if committed:
            self.commits["durable" if durable else "light"] += 1
        if committed and self._flushes:
            # A durable group is answered once its frames are on disk; a light one at once, and flushed anyway
            # so that the durable write that follows (a replicator's checkpoint) finds little left to flush.
            self._flusher.flush(answers if durable else [])
            if durable:
                answers = []
        behind = self._checkpointer.behind
        if not behind:
            self._checkpointer.poke()
        seq = None
        if committed and state.seq != self._published:
            seq = state.snapshot()
            self._published = state.seq
        self._answer(answers, seq)
        if behind:
            # Under writes without a pause the checkpointer cannot move the whole WAL (each round finds new
            # frames), so the WAL never restarts: between two transactions here, nothing is newer than it.
            self._checkpointer.checkpoint(conn)

    def _answer(self, answers: list[Answer], seq: tuple[int, int, int] | None) -> None:
        """The group's answers settled and its new sequence published, in one call into the loop's thread (a caller
        waiting in another event loop is answered in its own)."""
        ours = [answer for answer in answers if answer[0].get_loop() is self._loop]
        if len(ours) < len(answers):
            _settle_soon([answer for answer in answers if answer[0].get_loop() is not self._loop])
        if seq is not None or ours:
            self._loop.call_soon_threadsafe(_after_group, self._publish, seq, ours)


Answer = tuple[asyncio.Future[Any], bool, Any]


class WalFlusher:
    """fsyncs the WAL on a thread of its own and only then answers the durable jobs committed before it began.
    Commits that arrive while a flush runs wait for the next one, which covers them all (group commit)."""

    def __init__(self, wal: Path) -> None:
        self._wal = wal
        self._lock = threading.Lock()
        self._waiting: list[Answer] = []
        self._wake = threading.Event()
        self._stopping = False
        self.flushes = 0
        self._thread = threading.Thread(target=self._run, name="mashang-sqlite-flush", daemon=True)
        self._thread.start()

    def flush(self, answers: list[Answer]) -> None:
        """Flush soon; settle `answers` (of jobs already committed) once the WAL is on disk."""
        with self._lock:
            self._waiting.extend(answers)
        self._wake.set()

    def _run(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            with self._lock:
                waiting, self._waiting = self._waiting, []
                stopping = self._stopping
            failure: OSError | None = None
            try:
                fd = os.open(self._wal, os.O_RDONLY)
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)
                self.flushes += 1
            except FileNotFoundError:  # no WAL: SQLite checkpointed and removed it, everything is in the db file
                pass
            except OSError as e:  # the disk failed us: never claim durability we do not have
                log.exception("fsync of the WAL failed")
                failure = e
            if failure is not None:
                error = CouchError(500, "disk_error", f"The write could not be flushed: {failure}")
                waiting = [(fut, False, error) for fut, _ok, _value in waiting]
            _settle_soon(waiting)  # one call into the loop's thread for all of them
            if stopping:
                return

    def close(self) -> None:
        """After the writer stopped: flush and answer what is left, then stop."""
        with self._lock:
            self._stopping = True
        self._wake.set()
        self._thread.join(timeout=30)


class WalCheckpointer:
    """Moves the WAL's pages into the database file on a thread of its own, so that no commit waits for it:
    SQLite's automatic checkpoint runs inside the commit that crosses 1,000 pages, which cost a replication push
    about 5 ms per batch on average and spikes of 50 ms. A PASSIVE checkpoint never blocks the writer or a
    reader; what it cannot move yet waits for the next round. It syncs the WAL before it writes the database
    file (at NORMAL and FULL alike), so it never moves a transaction the WAL does not hold safely."""

    INTERVAL = 0.5  # seconds between two rounds while writes go on
    BEHIND = 4_096  # WAL frames (16 MB of 4 KB pages) after which the writer checkpoints between transactions

    def __init__(self, path: Path, synchronous: str) -> None:
        self._conn = connect(path, synchronous)
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self.behind = False
        self._thread = threading.Thread(target=self._run, name="mashang-sqlite-checkpoint", daemon=True)
        self._thread.start()

    def poke(self) -> None:
        self._wake.set()

    def checkpoint(self, conn: sqlite3.Connection) -> None:
        """A checkpoint on `conn`, for the writer's thread when the WAL is far behind."""
        conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        self.behind = False

    def _run(self) -> None:
        while True:
            self._wake.wait()
            if self._stopping.is_set():
                return
            self._wake.clear()
            try:
                _busy, frames, _moved = self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            except sqlite3.Error:
                log.exception("WAL checkpoint failed; the next round tries again")
            else:
                self.behind = frames > self.BEHIND  # the WAL did not restart since this much was written
            if self._stopping.wait(self.INTERVAL):
                return

    def close(self) -> None:
        self._stopping.set()
        self._wake.set()
        self._thread.join(timeout=30)
        self._conn.close()


def _settle(fut: asyncio.Future[Any], ok: bool, value: Any) -> None:
    if fut.cancelled():
        return
    if ok:
        fut.set_result(value)
    else:
        fut.set_exception(value)


def _settle_all(answers: list[Answer]) -> None:
    for fut, ok, value in answers:
        _settle(fut, ok, value)


def _settle_soon(answers: list[Answer]) -> None:
    """Settle `answers` from another thread: one call into each event loop they wait in."""
    by_loop: dict[asyncio.AbstractEventLoop, list[Answer]] = {}
    for answer in answers:
        by_loop.setdefault(answer[0].get_loop(), []).append(answer)
    for loop, theirs in by_loop.items():
        loop.call_soon_threadsafe(_settle_all, theirs)


def _after_group(
    publish: Callable[[tuple[int, int, int]], None], seq: tuple[int, int, int] | None, answers: list[Answer]
) -> None:
    """On the loop's thread: the feeds learn of the group's commit before its writers are answered (a writer that
    reads its own change in a feed finds it), as when each was a call of its own."""
    if seq is not None:
        publish(seq)
    _settle_all(answers)


class ForeignWrites:
    """Notices commits by other processes on the same database (`mashang worker` or `rebuild` beside a gateway) and
    calls `changed`, so that longpolling feeds wake for them as for this process's own. One connection checks
    SQLite's `data_version` every `POLL` seconds; this process's own commits count too, which only costs a
    waiting feed one more look."""

    POLL = 1.0

    def __init__(self, path: Path, synchronous: str, changed: Callable[[], object]) -> None:
        self._conn = connect(path, synchronous, readonly=True)
        self._changed = changed
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="mashang-sqlite-foreign", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        last = data_version(self._conn)
        while not self._stopping.wait(self.POLL):
            try:
                version = data_version(self._conn)
            except sqlite3.Error:
                log.exception("reading data_version failed; trying again")
                continue
            if version != last:
                last = version
                try:
                    self._changed()
                except RuntimeError:  # the store's event loop is gone (it was never closed): nobody to wake
                    return

    def close(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=30)
        self._conn.close()


class Readers:
    """A small pool of threads, each with its own read-only connection (WAL lets them read while we write)."""

    def __init__(self, path: Path, synchronous: str, size: int = 4) -> None:
        self._path = path
        self._sync = synchronous
        self._local = threading.local()
        self._conns: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=size, thread_name_prefix="mashang-sqlite-read")

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect(self._path, self._sync, readonly=True)
            self._local.conn = conn
            with self._lock:
                self._conns.append(conn)
        return conn

    async def run(self, fn: Callable[[sqlite3.Connection], T], small: bool = False) -> T:
        """`fn(conn)` in one read transaction on a reader thread; a `small` read (a few rows by key: a checkpoint, a
        replicator's `_revs_diff`) runs on the calling thread instead: under a push, the hop to a thread and back cost
        more than the read (~1 ms against ~0.2 ms)."""
        if small:
            return self._call(fn)
        return await asyncio.get_running_loop().run_in_executor(self._pool, self._call, fn)

    def _call(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        conn = self._conn()
        conn.execute("BEGIN")  # one consistent snapshot for the whole read
        try:
            return fn(conn)
        finally:
            conn.execute("COMMIT")

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        with self._lock:
            for c in self._conns:
                c.close()
            self._conns.clear()


def blob_path(root: Path, name: str) -> Path:
    """Where an attachment body named `name` (its SHA-256) lies in the blob folder `root` (the backups' too)."""
    return root / name[:2] / name


class BlobFolder:
    """Attachment bodies, content-addressed by SHA-256, each written once and fsynced before use."""

    def __init__(self, root: Path, fsync: bool) -> None:
        self.root = root
        self._fsync = fsync
        (root / "tmp").mkdir(parents=True, exist_ok=True)

    def path(self, name: str) -> Path:
        return blob_path(self.root, name)

    def put(self, data: bytes) -> str:
        name = hashlib.sha256(data).hexdigest()
        final = self.path(name)
        if final.exists():
            return name
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.root / "tmp" / f"{name}.{os.getpid()}.{threading.get_ident()}"
        with open(tmp, "wb") as f:
            f.write(data)
            if self._fsync:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, final)
        if self._fsync:
            fd = os.open(final.parent, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        return name
