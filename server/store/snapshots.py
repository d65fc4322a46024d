"""Snapshots of the server's in-memory views (the office's facts, the alarm index), kept in `_local` documents in
parts, so that a view of any size fits: CouchDB refuses a document over 8 MB (`max_document_size`), and a
district's 30,000 shops make ~30 MB of facts.

`_local/{name}` is the head: the caller's own fields (the seq the view is true at, the rules it was made under),
plus who saved it and when (`saved_by`: several processes keep the same view), the slot its parts are in, how many
there are and a token of the write. The parts are
`_local/{name}/{slot}/{i}`, each `{"writer": token, "items": {...}}`. A write fills the slot the head does not point
to, then moves the head there with a revision-checked put, so a reader never sees a head whose parts are being
written, and two slots are all a snapshot ever takes (a write cut short leaves its parts to be overwritten by the
next one). A reader checks that every part carries the head's token: a part that another writer has overwritten
meanwhile (two gateways saving at once) makes the snapshot unusable rather than half of one view and half of
another, and the caller reads the store instead.

Local documents never replicate, and a device's `_local` ids are namespaced by `access.local_id`, so no phone
reads or writes these.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Mapping
from typing import Any, Final, TypeVar

from server.store.protocol import Doc, Store
from server.store.upsert import read_local

T = TypeVar("T")
Saved = tuple[Any, float]  # the seq a view was saved at, and when (time.monotonic)
SLOTS: Final = ("a", "b")
HEAD_KEYS: Final = frozenset({"slot", "parts", "writer", "by", "at"})


class TornSnapshot(ValueError):
    """A part is missing or was written by another save than the head's: the snapshot cannot be used."""


def due(saved: Saved | None, seq: Any, every: float) -> bool:
    """Whether a view at `seq` is to be saved: it never was, or it moved on since and `every` seconds have passed
    (`every` 0 when the process stops: whatever moved on)."""
    return saved is None or (seq != saved[0] and time.monotonic() - saved[1] >= every)


def _part_id(name: str, slot: str, i: int) -> str:
    return f"{name}/{slot}/{i}"


async def save_snapshot(
    store: Store,
    name: str,
    head: Doc,
    items: Mapping[str, T],
    per_part: int,
    encode: Callable[[T], Any] = lambda item: item,
    by: str = "",
) -> int:
    """Write `items` (as `encode` makes each JSON) in parts of `per_part`, then `head` (with the parts' slot, `by`
    and the time) over `_local/{name}`; answers the number of parts. Items are encoded a part at a time, so that a
    large view does not hold up the event loop for the whole of it. Raises `CouchError` when the store refuses a
    write; a conflict on the head means another save moved it meanwhile, and theirs stands."""
    current = await read_local(store, name)
    slot = SLOTS[1] if current is not None and current.get("slot") == SLOTS[0] else SLOTS[0]
    writer = secrets.token_hex(8)
    keys = sorted(items)
    chunks = [keys[i : i + per_part] for i in range(0, len(keys), per_part)] or [[]]
    for i, chunk in enumerate(chunks):
        part_id = _part_id(name, slot, i)
        old = await read_local(store, part_id)
        part: Doc = {"writer": writer, "items": {key: encode(items[key]) for key in chunk}}
        await store.put_local(part_id, {**part, "_rev": old["_rev"]} if old else part)
    extra = len(chunks)
    while (old := await read_local(store, _part_id(name, slot, extra))) is not None:  # a larger save's tail
        await store.delete_local(_part_id(name, slot, extra), old["_rev"])
        extra += 1
    body = {k: v for k, v in head.items() if k not in HEAD_KEYS}
    body |= {"slot": slot, "parts": len(chunks), "writer": writer, "by": by, "at": time.time()}
    await store.put_local(name, {**body, "_rev": current["_rev"]} if current else body)
    return len(chunks)


async def saved_by(store: Store, name: str, within: float) -> str | None:
    """Who saved the snapshot `name` (the `by` of its save), when that was less than `within` seconds ago."""
    head = await read_local(store, name) or {}
    at = head.get("at")
    return str(head.get("by", "")) if isinstance(at, (int, float)) and time.time() - at < within else None


async def load_snapshot(store: Store, name: str, inline: str | None = None) -> tuple[Doc, dict[str, Any]] | None:
    """The head and the items of the snapshot `name`, or None when there is none. A head written before snapshots
    had parts holds its items in its field `inline`. Raises `TornSnapshot` (a `ValueError`) when a part was
    overwritten by another save twice in a row, `CouchError` when the store cannot be read."""
    try:
        return await _load(store, name, inline)
    except TornSnapshot:  # a save may have moved the head while its parts were read: once more, from the new head
        return await _load(store, name, inline)


async def _load(store: Store, name: str, inline: str | None) -> tuple[Doc, dict[str, Any]] | None:
    head = await read_local(store, name)
    if head is None:
        return None
    if "slot" not in head and inline is not None:
        return head, dict(head[inline])
    return head, await _parts(store, name, head)


async def _parts(store: Store, name: str, head: Doc) -> dict[str, Any]:
    items: dict[str, Any] = {}
    for i in range(int(head["parts"])):
        part = await read_local(store, _part_id(name, str(head["slot"]), i))
        if part is None or part.get("writer") != head["writer"]:
            raise TornSnapshot(f"part {i} of {name} is not the head's ({head['writer']})")
        items.update(part["items"])
    return items
