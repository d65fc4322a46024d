"""The quarantine: every document the gateway refused from a device, with who sent it, from where, when and why.

PouchDB never resends a document refused with `forbidden`, so this is its only trace; the office reads it in the
sync monitor. Entries are `quarantine:refused:{ulid}` in the `quarantine` partition, which only the admin scope
reaches, so nothing here replicates to a phone. Attachment bodies are not kept, only their length and digest.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import orjson

from server.auth import Principal
from server.ids import new_ulid
from server.store.docs import md5_digest
from server.store.protocol import AllDocsQuery, Doc, Store

PARTITION: Final = "quarantine"
PREFIX: Final = f"{PARTITION}:refused:"
MAX_KEPT_BYTES: Final = 64 * 1024  # a refused document larger than this is kept as its outline only
MAX_DEVICE: Final = 64
MAX_ID: Final = 500


@dataclass(frozen=True)
class Refusal:
    doc: Any  # as the device sent it (not necessarily a JSON object)
    error: str
    reason: str


def entry(principal: Principal, refusal: Refusal, now: datetime) -> Doc:
    """The quarantine document for one refusal. The device is the one the document names, else the request's
    `X-Mashang-Device` header (`principal.device`)."""
    doc = refusal.doc
    doc_id = doc.get("_id") if isinstance(doc, dict) else None
    named = doc.get("device") if isinstance(doc, dict) else None
    device = named if isinstance(named, str) and named else principal.device
    return {
        "_id": f"{PREFIX}{new_ulid(int(now.timestamp() * 1000))}",
        "type": "refused",
        "schema": 1,
        "user": principal.user_id,
        "role": principal.role,
        "device": device[:MAX_DEVICE] if device else None,
        "received_at": now.isoformat(timespec="milliseconds"),
        "error": refusal.error,
        "reason": refusal.reason,
        "doc_id": doc_id[:MAX_ID] if isinstance(doc_id, str) else None,
        "doc": kept(doc),
    }


async def record(store: Store, principal: Principal, refusals: Sequence[Refusal], now: datetime) -> None:
    """Keep every refusal of one request, in one write. A failure raises, so the device retries the batch rather
    than losing a refused document without a trace."""
    if not refusals:
        return
    answers = await store.bulk_docs([entry(principal, r, now) for r in refusals])
    failed = [a for a in answers if "error" in a]
    if failed:
        raise RuntimeError(f"quarantine write failed: {failed[0]}")


async def list_quarantine(store: Store, *, limit: int = 100, before: str | None = None) -> list[Doc]:
    """The newest entries first (ULIDs sort by time); `before` is the id of the last entry of the previous page."""
    query = AllDocsQuery(
        startkey=before or PREFIX + "\ufff0", endkey=PREFIX, descending=True, limit=limit + 1, include_docs=True
    )
    rows = (await store.all_docs(query))["rows"]
    docs = [row["doc"] for row in rows if row.get("doc") and row["id"] != before]
    return [{k: v for k, v in doc.items() if k != "_rev"} for doc in docs[:limit]]


def kept(doc: Any) -> Any:
    """`doc` with each attachment's `data` replaced by its length, content type and digest; a document still
    larger than `MAX_KEPT_BYTES` is kept as an outline (id, type, field names, size)."""
    out = doc
    if isinstance(doc, dict) and isinstance(doc.get("_attachments"), dict):
        out = {**doc, "_attachments": {name: _summary(att) for name, att in doc["_attachments"].items()}}
    size = len(orjson.dumps(out))
    if size <= MAX_KEPT_BYTES:
        return out
    outline: Doc = {"truncated": True, "bytes": size}
    if isinstance(doc, dict):
        outline.update({k: doc[k][:MAX_ID] for k in ("_id", "_rev", "type") if isinstance(doc.get(k), str)})
        outline["fields"] = sorted(str(k)[:64] for k in doc)[:100]
    return outline


def _summary(att: Any) -> Any:
    if not isinstance(att, dict):
        return {"invalid": True}
    data = att.get("data")
    if not isinstance(data, str):
        return att
    try:
        body = base64.b64decode(data, validate=True)
        length, digest = len(body), md5_digest(body)
    except (binascii.Error, ValueError):
        length, digest = len(data), None
    return {"content_type": att.get("content_type"), "length": length, "digest": digest}
