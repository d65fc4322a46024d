"""The `Store` protocol: the replication primitives the gateway and the validators use, on any backend.

Documents travel as plain JSON dicts in CouchDB's form (`_id`, `_rev`, `_revisions`, `_attachments`, ...),
so the sqlite and couchdb backends answer byte-for-byte what a CouchDB would, and the gateway passes them on.
Sequences are opaque (`int` on sqlite, strings on CouchDB): compare them only by passing them back.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

Doc = dict[str, Any]
Seq = int | str


def no_changes(since: Seq) -> Doc:
    """A `_changes` answer with nothing in it: a longpoll ended with no change, at `since`."""
    return {"results": [], "last_seq": since, "pending": 0}


@dataclass(frozen=True)
class ChangesQuery:
    since: Seq = 0
    limit: int | None = None
    # style=all_docs: every leaf revision in `changes`, not only the winner.
    all_docs: bool = False
    include_docs: bool = False
    conflicts: bool = False
    attachments: bool = False
    descending: bool = False
    # Only documents whose partition (the id up to the first ':') is in this set; None means all.
    partitions: frozenset[str] | None = None
    doc_ids: Sequence[str] | None = None
    # A Mango selector the documents must match (CouchDB's `filter=_selector`).
    selector: dict[str, Any] | None = None
    # For a reader in the server that wants a few kinds of documents among many (the alarm index: alarms and hazards
    # among a push's events): the types asked for (an id's part after its partition, `{partition}:{type}:...`). The
    # embedded store leaves the other documents out, `limit` counting only these; a CouchDB store answers them too
    # (its feed could leave them out only by reading every document), so the reader tells the kinds apart itself.
    types: frozenset[str] | None = None
    # Longpoll: wait up to this many milliseconds for a first result when there is none yet.
    wait_ms: int = 0


@dataclass(frozen=True)
class AllDocsQuery:
    startkey: str | None = None
    endkey: str | None = None
    keys: Sequence[str] | None = None
    inclusive_end: bool = True
    descending: bool = False
    limit: int | None = None
    skip: int = 0
    include_docs: bool = False
    conflicts: bool = False
    partitions: frozenset[str] | None = None


@dataclass(frozen=True)
class GetOptions:
    rev: str | None = None
    revs: bool = False
    revs_info: bool = False
    conflicts: bool = False
    deleted_conflicts: bool = False
    attachments: bool = False
    latest: bool = False


@dataclass
class AttachmentBody:
    content_type: str
    length: int
    digest: str
    chunks: AsyncIterator[bytes]
    extra: dict[str, Any] = field(default_factory=dict)


async def no_chunks() -> AsyncIterator[bytes]:
    """The body of an attachment read for a HEAD (`Store.read_attachment(body=False)`)."""
    return
    yield


class Store(Protocol):
    """What every backend implements. Errors are `server.errors.CouchError` with CouchDB's wording."""

    kind: str
    # How many reads are worth having in flight at once. On the embedded store a read is mostly JSON decoding in a
    # reader thread that shares the interpreter's lock: one at a time read the office view of 1,500 shops in 8-9 s,
    # four at a time in 19 s. CouchDB's are network round trips, which overlap.
    parallel_reads: int

    async def info(self) -> Doc:
        """`GET /db`: db_name, doc_count, doc_del_count, update_seq, instance_start_time."""
        ...

    async def get(self, doc_id: str, opts: GetOptions) -> Doc:
        """One revision of a document (the winner unless `rev`); 404 `missing` / `deleted`."""
        ...

    async def open_revs(self, doc_id: str, revs: Sequence[str] | None, opts: GetOptions) -> list[Doc]:
        """`open_revs`: `[{"ok": doc} | {"missing": rev}]`; `revs=None` means all leaves."""
        ...

    async def bulk_docs(self, docs: Sequence[Doc], new_edits: bool = True, durable: bool = True) -> list[Doc]:
        """Write documents; one answer per document, `{"id", "rev", "ok"}` or `{"id", "error", "reason"}`.

        With `new_edits=False` successful writes are not listed, as CouchDB does. `durable=False` is for a
        replicator's batches only: a backend may acknowledge them before they are flushed to disk, because
        the replicator resends them unless a durable checkpoint (`put_local`) followed.
        """
        ...

    async def revs_diff(self, revs: dict[str, list[str]]) -> dict[str, Doc]: ...

    async def bulk_get(
        self, requests: Sequence[Doc], revs: bool = False, latest: bool = False, attachments: bool = False
    ) -> list[Doc]:
        """`_bulk_get` results: `[{"id", "docs": [{"ok": doc} | {"error": {...}}]}]`."""
        ...

    async def changes(self, query: ChangesQuery) -> Doc:
        """`{"results": [...], "last_seq": seq, "pending": n}` in sequence order."""
        ...

    async def all_docs(self, query: AllDocsQuery) -> Doc: ...

    async def get_local(self, local_id: str) -> Doc:
        """`local_id` without the `_local/` prefix."""
        ...

    async def put_local(self, local_id: str, doc: Doc) -> Doc:
        """Write a local document, durably: a replicator's checkpoint vouches for every batch it sent before
        (see `bulk_docs`)."""
        ...

    async def delete_local(self, local_id: str, rev: str | None) -> Doc: ...

    async def read_attachment(
        self, doc_id: str, name: str, rev: str | None = None, body: bool = True
    ) -> AttachmentBody:
        """An attachment of the winning revision, or of `rev`; with `body=False` what a HEAD answers (type, length,
        digest), its `chunks` empty and the body never read."""
        ...

    async def close(self) -> None: ...


def partition_of(doc_id: str) -> str:
    return doc_id.split(":", 1)[0]
