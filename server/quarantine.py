"""The quarantine: every document the gateway refused from a device, with who sent it, from where, when and why.

PouchDB never resends a document refused with `forbidden`, so this is its only trace; the office reads it in the
sync monitor. Entries are `quarantine:refused:{ulid}` in the `quarantine` partition, which only the admin scope
reaches, so nothing here replicates to a phone. The follower notes there too an event stored with two bodies
(`conflict_entry`), which only two gateways taking them at once can do. Attachment bodies are not kept, only
their length and digest.

The quarantine is bounded per user and day (`Budget`): a broken or hostile app could otherwise fill the server's
disk with refusals, 32 MB a request. The first `MAX_PER_DAY` refusals of a user in a day are kept, then one entry
says that the rest of the day's are not (the phone still lists every document refused to it, with the reason).
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import orjson

from server.auth import Principal
from server.ids import new_ulid
from server.store.docs import md5_digest
from server.store.protocol import AllDocsQuery, Doc, Store
from server.store.reads import docs_by_id

PARTITION: Final = "quarantine"
PREFIX: Final = f"{PARTITION}:refused:"
MAX_KEPT_BYTES: Final = 64 * 1024  # a refused document larger than this is kept as its outline only
MAX_DEVICE: Final = 64
MAX_ID: Final = 500
MAX_PER_DAY: Final = 200  # refusals kept per user and (UTC) day; a phone that honestly fails makes a few
TOO_MANY: Final = "too_many_refusals"
CONFLICT: Final = "conflict"  # not a refusal: an event stored with two bodies (`conflict_entry`)
log = logging.getLogger("mashang.quarantine")


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


class Budget:
    """How many refusals of each user were kept today, in this process (a restart counts again from zero, which
    bounds the quarantine all the same)."""

    def __init__(self, per_day: int = MAX_PER_DAY) -> None:
        self.per_day = per_day
        self._day = ""
        self._kept: dict[str, int] = {}

    def take(self, user: str, now: datetime, wanted: int) -> tuple[int, bool]:
        """How many of `wanted` refusals may be kept, and whether this is the moment the user ran out."""
        day = now.date().isoformat()
        if day != self._day:
            self._day, self._kept = day, {}
        kept = self._kept.get(user, 0)
        allowed = max(0, min(wanted, self.per_day - kept))
        self._kept[user] = kept + wanted
        return allowed, kept <= self.per_day < kept + wanted


def overflow(per_day: int) -> Refusal:
    reason = (
        f"今天拒收的记录超过 {per_day} 条，其余的不再记在这里。"
        f"More than {per_day} documents refused today: the rest of today's are not kept here."
    )
    return Refusal(None, TOO_MANY, reason)


async def record(
    store: Store, principal: Principal, refusals: Sequence[Refusal], now: datetime, budget: Budget | None = None
) -> None:
    """Keep the refusals of one request, in one write, as far as the user's `budget` for the day allows. A failure
    raises, so the device retries the batch rather than losing a refused document without a trace."""
    if not refusals:
        return
    if budget is not None:
        allowed, ran_out = budget.take(principal.user_id, now, len(refusals))
        if allowed < len(refusals):
            log.warning(
                "%s: %d refusals not kept (over %d today)", principal.user_id, len(refusals) - allowed, budget.per_day
            )
        refusals = [*refusals[:allowed], *([overflow(budget.per_day)] if ran_out else [])]
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


def conflict_entry(doc: Doc, losing: Sequence[str], now: datetime) -> Doc:
    """The quarantine's note of an event stored with more than one body. A phone never sends two bodies of one id;
    a broken or hostile device can, and two gateways in front of CouchDB that take them at the same moment both
    store theirs (each checked, before writing, that the event was new). Every reader, the projection included,
    takes CouchDB's winner; the others stay stored as conflicts. One note per event: its id comes from the event's,
    so the note written again is refused as a conflict and changes nothing."""
    doc_id = str(doc["_id"])
    by = doc.get("created_by")
    device = doc.get("device")
    return {
        "_id": f"{PREFIX}{doc_id.rsplit(':', 1)[-1][:MAX_ID]}-{CONFLICT}",
        "type": CONFLICT,
        "schema": 1,
        "user": by if isinstance(by, str) else None,
        "role": by.split(":", 1)[0] if isinstance(by, str) else None,
        "device": device[:MAX_DEVICE] if isinstance(device, str) else None,
        "received_at": now.isoformat(timespec="milliseconds"),
        "error": CONFLICT,
        "reason": f"Two bodies of this event were stored at once (two gateways took them together). The scores "
        f"use revision {doc.get('_rev')}; {', '.join(losing)} stay stored beside it.",
        "doc_id": doc_id[:MAX_ID],
        "doc": kept(doc),
    }


async def note_conflicts(store: Store, conflicted: Sequence[tuple[Doc, Sequence[str]]], now: datetime) -> None:
    """Note each (event, its losing revisions) in the quarantine, once (see `conflict_entry`). A shop is projected
    again at every change and every day: the notes written before are read, not written again (a write goes
    through the store's one writer, a read does not)."""
    entries = [conflict_entry(doc, losing, now) for doc, losing in conflicted]
    noted = await docs_by_id(store, [entry["_id"] for entry in entries]) if entries else {}
    entries = [entry for entry in entries if entry["_id"] not in noted]
    if not entries:
        return
    answers = await store.bulk_docs(entries)
    failed = [a for a in answers if "error" in a and a.get("error") != "conflict"]  # a conflict: noted before
    if failed:
        log.warning("the quarantine's note of %d conflicted events was not written: %s", len(failed), failed[0])


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
