"""Writes through `/sync/`: the access check per document, then the store, answered per document.

PouchDB's replicator skips a document refused with `forbidden` and aborts the whole batch on any other
per-document error, so a document the store cannot take (bad attachment, bad revision path) is answered
as `forbidden` with the store's reason: one bad document never stalls a phone's replication.
"""

from __future__ import annotations

from typing import Any

from server import access
from server.auth import Principal
from server.errors import CouchError
from server.store.protocol import Doc, Store

# Per-document errors PouchDB may see as they are; any other becomes `forbidden` in a batch.
PASS_THROUGH = {"conflict", "forbidden", "unauthorized"}


async def write_docs(state: Any, principal: Principal, docs: list[Any], new_edits: bool,
                     single: bool = False) -> list[Doc]:
    store: Store = state.store
    answers: list[Doc | None] = []
    allowed: list[Doc] = []
    for doc in docs:
        try:
            access.check_write(principal, doc)
        except CouchError as e:
            doc_id = doc.get("_id") if isinstance(doc, dict) else None
            answers.append({"id": doc_id, **e.body()})
            continue
        answers.append(None)
        allowed.append(doc)
    written = await store.bulk_docs(allowed, new_edits=new_edits) if allowed else []
    if new_edits:
        it = iter(written)
        merged = [a if a is not None else next(it) for a in answers]
    else:
        merged = [a for a in answers if a is not None] + written
    return merged if single else [_for_batch(a) for a in merged]


def _for_batch(answer: Doc) -> Doc:
    if "error" in answer and answer["error"] not in PASS_THROUGH:
        return {"id": answer.get("id"), "error": "forbidden", "reason": f"{answer['error']}: {answer.get('reason')}"}
    return answer
