"""Writes through `/sync/`: the rules per document, then the store, answered per document; refusals are quarantined.

PouchDB's replicator skips a document refused with `forbidden` and aborts the whole batch on any other
per-document error, so a document the store cannot take (bad attachment, bad revision path) is answered
as `forbidden` with the store's reason: one bad document never stalls a phone's replication. PouchDB never
resends a refused document, so every refusal of a device is kept in the quarantine for the office.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from server import access, backup, quarantine
from server.auth import Principal
from server.errors import CouchError
from server.ids import new_ulid
from server.models import Receipt, Template
from server.store import revtree
from server.store.protocol import Doc, Store
from server.store.reads import docs_with_prefix
from server.sync.validate import WriteContext, check_event_write

# Per-document errors PouchDB may see as they are; any other becomes `forbidden` in a batch.
PASS_THROUGH = {"conflict", "forbidden", "unauthorized"}
# Store answers that are not a refusal of the document: a conflict is PouchDB's to resolve, not the office's.
NOT_REFUSALS = {"conflict", "unauthorized"}
# The events the server notes the arrival of (`Receipt`): an owner's, whose phone's clock alone could be set back.
RECEIPTED = frozenset({"self_check", "rectification"})


async def write_docs(
    state: Any,
    principal: Principal,
    docs: list[Any],
    new_edits: bool,
    single: bool = False,
    *,
    scope: access.Scope,
    quarantined: bool = True,
    durable: bool | None = None,
) -> list[Doc]:
    """Write `docs` for `principal` within `scope`; refusals are answered per document and quarantined (unless
    `quarantined` is False: the office, bringing in a phone's file, sees them in its answer). `durable` (by
    default: unless new_edits is false, a replicator's batch) waits for the disk before answering."""
    ids = [d["_id"] for d in docs if isinstance(d, dict) and isinstance(d.get("_id"), str)]
    # Checking that an event is new and writing it must be one step: two racing copies of one event
    # (same id, other revision) would otherwise both pass the check and both land.
    async with _id_locks(state).hold(ids):
        return await _write(
            state, principal, docs, new_edits, single, scope, quarantined, new_edits if durable is None else durable
        )


async def _write(
    state: Any,
    principal: Principal,
    docs: list[Any],
    new_edits: bool,
    single: bool,
    scope: access.Scope,
    quarantined: bool,
    durable: bool,
) -> list[Doc]:
    store: Store = state.store
    ctx = WriteContext(store, datetime.now(UTC), templates=_template_cache(state))
    if not principal.is_admin:  # admin (the operator token) skips the domain rules, never the store's protocol
        await ctx.prepare(docs, new_edits)
    answers: list[Doc | None] = []
    allowed: list[Doc] = []
    fresh: list[Doc] = []  # of the allowed, those the store does not hold yet
    replays: list[Doc] = []  # and those it does (a batch sent again)
    refusals: list[quarantine.Refusal] = []
    for doc in docs:
        try:
            if principal.is_admin:
                access.check_write(principal, doc)
                replay = False
            else:
                replay = await check_event_write(ctx, principal, scope, doc, new_edits)
        except CouchError as e:
            doc_id = doc.get("_id") if isinstance(doc, dict) else None
            answers.append({"id": doc_id, **e.body()})
            refusals.append(quarantine.Refusal(doc, e.error, e.reason))
            continue
        answers.append(None)
        allowed.append(doc)
        (replays if replay else fresh).append(doc)
    if replays and not principal.is_admin:
        new_ids = {doc["_id"] for doc in fresh}  # a copy sent twice in one batch is noted once
        fresh += [doc for doc in await _unreceipted(store, replays) if doc["_id"] not in new_ids]
    receipts = [] if principal.is_admin else receipts_for(fresh, ctx.now, new_edits, await _restores(state))
    # Only a replicator writes with new_edits=false, and it resends what no durable checkpoint covers yet
    # (the durability policy in server/store/sqlite_io.py): its batches need not wait for the disk.
    written = await store.bulk_docs(allowed + receipts, new_edits=new_edits, durable=durable) if allowed else []
    if receipts:  # in the same write as the checks they name; the device is answered for its own documents
        ours = {receipt["_id"] for receipt in receipts}
        noted = written[len(allowed) :] if new_edits else [a for a in written if a.get("id") in ours]
        written = written[: len(allowed)] if new_edits else [a for a in written if a.get("id") not in ours]
        refused = {str(a.get("id")) for a in written if "error" in a}
        if refused:
            await _unnote(store, receipts, noted, refused, durable)
    if new_edits:
        it = iter(written)
        merged = [a if a is not None else next(it) for a in answers]
    else:
        merged = [a for a in answers if a is not None] + written
    if not principal.is_admin and quarantined:
        sent = {doc["_id"]: doc for doc in reversed(allowed)}
        refusals += [
            quarantine.Refusal(sent.get(a.get("id"), {"_id": a.get("id")}), a["error"], a.get("reason", ""))
            for a in written
            if "error" in a and a["error"] not in NOT_REFUSALS
        ]
        await quarantine.record(store, principal, refusals, ctx.now, _quarantine_budget(state))
    return merged if single else [_for_batch(a) for a in merged]


def receipts_for(
    docs: list[Doc], now: datetime, new_edits: bool, restores: tuple[backup.Restore, ...] = ()
) -> list[Doc]:
    """One `Receipt` per shop and moment for the self-checks and rectifications among `docs` (an owner's events
    whose time counts only as far as their arrival allows: server/validators/rules.py "Receipts"): when the server
    received them, `now`. After a restore (`restores`, of the store), an event performed before it may be one the
    server received once and lost with it: its moment is the earliest it could first have arrived
    (`backup.first_arrival`); the receipt's id still says when it came. In a replicator's batch (new_edits=false)
    each carries the revision `_bulk_docs` would have given it."""
    by_receipt: dict[tuple[str, datetime], list[str]] = {}
    for doc in docs:
        if doc.get("type") in RECEIPTED and isinstance(doc.get("shop"), str):
            received = now
            performed = backup.parse_time(doc.get("performed_at")) if restores else None
            if performed is not None:
                received = backup.first_arrival(performed, now, restores).astimezone(UTC)
            by_receipt.setdefault((doc["shop"], received), []).append(str(doc["_id"]))
    out = []
    for (shop, received), ids in sorted(by_receipt.items()):
        body = {
            "_id": f"{shop}:receipt:{new_ulid()}",
            "type": "receipt",
            "schema": 1,
            "shop": shop,
            "events": ids,
            "received_at": received.isoformat(),
        }
        receipt = Receipt.model_validate(body).to_doc()
        if not new_edits:
            fields = {k: v for k, v in receipt.items() if k != "_id"}
            receipt["_rev"] = revtree.new_rev(None, False, fields, [])
        out.append(receipt)
    return out


async def _unreceipted(store: Store, replayed: list[Doc]) -> list[Doc]:
    """Of the replayed events (revisions the store holds, sent again), the receipted kinds that no receipt names: on
    CouchDB, whose `_bulk_docs` is no transaction, a request can store the events and fail before their receipt; the
    phone sends them again, and they are noted now, later than they came but never earlier. Read only for a batch
    sent again, which is rare (a replication that died mid-batch)."""
    kinds = [doc for doc in replayed if doc.get("type") in RECEIPTED and isinstance(doc.get("shop"), str)]
    named: set[str] = set()
    for shop in {str(doc["shop"]) for doc in kinds}:
        for receipt in await docs_with_prefix(store, f"{shop}:receipt:"):
            named.update(str(e) for e in receipt.get("events", []))
    return [doc for doc in kinds if doc["_id"] not in named]


async def _unnote(store: Store, receipts: list[Doc], noted: list[Doc], refused: set[str], durable: bool) -> None:
    """Take the documents the store refused (a conflict, a bad revision path) out of the receipts written with them.
    A receipt names only events the store holds: one naming a refused id would date that id's arrival, so a
    document sent with the id later (the event for real, or one made up to fit) would count from the earlier
    moment, as if it had come then. Rewritten at once, before the device is answered (a crash in between leaves
    the receipt as it was)."""
    failed = {str(a.get("id")) for a in noted if "error" in a}  # a receipt the store refused: nothing to take out
    revs = {str(a.get("id")): a.get("rev") for a in noted if a.get("ok")}  # new_edits=true: the store's answers
    fixes: list[Doc] = []
    for receipt in receipts:
        doc_id, events = receipt["_id"], [e for e in receipt["events"] if e not in refused]
        rev = revs.get(doc_id, receipt.get("_rev"))  # new_edits=false: the revision it was written with
        if len(events) == len(receipt["events"]) or doc_id in failed or not isinstance(rev, str):
            continue
        body = {**receipt, "events": events} if events else {"_id": doc_id, "_deleted": True}
        fixes.append({**body, "_rev": rev})
    if fixes:
        await store.bulk_docs(fixes, durable=durable)


async def _restores(state: Any) -> tuple[backup.Restore, ...]:
    """The restores the store came from, read at the first write and kept for the app's life: a restore is only
    ever made into a folder no gateway serves (`mashang restore` holds the gateway's lock), so none comes later."""
    found: tuple[backup.Restore, ...] | None = getattr(state, "restores_noted", None)
    if found is None:
        store: Store = state.store
        found = await backup.restores(store) if store.kind == "sqlite" else ()  # a cluster is never restored so
        state.restores_noted = found
    return found


def _for_batch(answer: Doc) -> Doc:
    if "error" in answer and answer["error"] not in PASS_THROUGH:
        return {"id": answer.get("id"), "error": "forbidden", "reason": f"{answer['error']}: {answer.get('reason')}"}
    return answer


class IdLocks:
    """The document ids requests are checking and writing, each held by one request at a time. A request takes all
    its ids at once or waits for a holder of one of them to finish and looks again, so two requests never wait on
    each other crosswise, and a request costs one event however many ids it writes (a push batch has a hundred).
    Guards one gateway process: on CouchDB behind several gateways, a race between two gateways is still possible
    (see the closing note of issue 3)."""

    def __init__(self) -> None:
        self._held: dict[str, asyncio.Event] = {}

    @contextlib.asynccontextmanager
    async def hold(self, ids: list[str]) -> AsyncIterator[None]:
        wanted = set(ids)
        while not self._held.keys().isdisjoint(wanted):  # in C, over the smaller: a push batch has a hundred ids
            busy = next(self._held[i] for i in wanted if i in self._held)
            await busy.wait()
        done = asyncio.Event()
        self._held.update(dict.fromkeys(wanted, done))
        try:
            yield
        finally:
            if len(self._held) == len(wanted):
                self._held.clear()  # no other request holds any: all are this one's
            else:
                for i in wanted:
                    del self._held[i]
            done.set()


def _id_locks(state: Any) -> IdLocks:
    locks: IdLocks | None = getattr(state, "id_locks", None)
    if locks is None:
        locks = IdLocks()
        state.id_locks = locks
    return locks


def _quarantine_budget(state: Any) -> quarantine.Budget:
    budget: quarantine.Budget | None = getattr(state, "quarantine_budget", None)
    if budget is None:
        budget = quarantine.Budget()
        state.quarantine_budget = budget
    return budget


def _template_cache(state: Any) -> dict[tuple[str, int], Template]:
    """Template versions read so far, kept for the app's life: a published version never changes."""
    cache: dict[tuple[str, int], Template] | None = getattr(state, "template_cache", None)
    if cache is None:
        cache = {}
        state.template_cache = cache
    return cache
