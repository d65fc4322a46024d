"""Server-side writes of server-owned documents (accounts, registry, projections): read, compare, put."""

from __future__ import annotations

from server.errors import CouchError
from server.store.protocol import Doc, GetOptions, Seq, Store


async def read(store: Store, doc_id: str) -> Doc | None:
    try:
        return await store.get(doc_id, GetOptions())
    except CouchError as e:
        if e.status == 404:
            return None
        raise


async def read_local(store: Store, local_id: str) -> Doc | None:
    """The `_local` document, or None when there is none."""
    try:
        return await store.get_local(local_id)
    except CouchError as e:
        if e.status == 404:
            return None
        raise


async def past_the_store(store: Store, seq: Seq) -> bool:
    """Whether `seq` lies beyond the store's last change: a snapshot of a copy of it that had gone further (the
    store was restored from an older one), which does not describe it. CouchDB's sequences cannot be compared."""
    latest = (await store.info())["update_seq"]
    return isinstance(latest, int) and isinstance(seq, int) and seq > latest


def _same(current: Doc, doc: Doc) -> bool:
    strip = {"_rev", "_revisions", "_conflicts"}
    return {k: v for k, v in current.items() if k not in strip} == {k: v for k, v in doc.items() if k not in strip}


async def upsert(store: Store, doc: Doc, attempts: int = 5) -> Doc:
    """Write `doc` as the new winner of its id unless it is already that; answers the stored document."""
    for _ in range(attempts):
        current = await read(store, doc["_id"])
        if current is not None and _same(current, doc):
            return current
        new = {k: v for k, v in doc.items() if k != "_rev"}
        if current is not None:
            new["_rev"] = current["_rev"]
        [result] = await store.bulk_docs([new])
        if result.get("ok"):
            new["_rev"] = result["rev"]
            return new
        if result.get("error") != "conflict":
            raise CouchError(500, result.get("error", "error"), result.get("reason", "write failed"))
    raise CouchError(409, "conflict", f"{doc['_id']} kept changing under a server write")
