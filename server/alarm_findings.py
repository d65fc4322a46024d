"""What an alarm found, as the office's desk is sent it: each item with the grid worker's (or owner's) note and where
its hazard stands now (`hazard_status`, `deadline`), joined from the hazard documents the alarm names.

The alarm document is a projection frozen at the submission, while its hazards go on (rectified, overdue, closed):
the office resolving an alarm needs to know whether they are closed. So the join is made when an answer is sent,
one batched read of every hazard of a page of alarms, and once per event of the live stream (every open desk
shares it), never one read per alarm.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from server.alarms import AlarmEvent, shop_of
from server.errors import CouchError
from server.store.protocol import Doc, Store
from server.store.reads import docs_by_id

log = logging.getLogger(__name__)


def hazard_ids(alarm: Mapping[str, Any]) -> list[str]:
    """The hazards an alarm's items name, of its own shop only (an alarm is read within its shop's reach)."""
    items = alarm.get("items")
    shop = shop_of(str(alarm.get("_id", "")))
    named = [item.get("hazard") for item in (items if isinstance(items, list) else ()) if isinstance(item, dict)]
    return [hazard for hazard in named if isinstance(hazard, str) and shop_of(hazard) == shop]


def told(alarm: Doc, hazards: Mapping[str, Doc]) -> Doc:
    """The alarm with each item's `note` ("" when there is none), `hazard_status` and `deadline` from its hazard in
    `hazards` (both null when it cannot be read: withdrawn with its submission, or not written yet)."""
    items = alarm.get("items")
    if not isinstance(items, list):
        return alarm  # a withdrawn alarm, as the stream tells it: only its id
    shop = shop_of(str(alarm.get("_id", "")))
    shown: list[Any] = []
    for item in items:
        if not isinstance(item, dict):
            shown.append(item)
            continue
        name = item.get("hazard")
        hazard = hazards.get(name) if isinstance(name, str) and shop_of(name) == shop else None
        if hazard is None or hazard.get("type") != "hazard":
            shown.append({**item, "note": "", "hazard_status": None, "deadline": None})
        else:
            note = hazard.get("note")
            shown.append(
                {
                    **item,
                    "note": note if isinstance(note, str) else "",
                    "hazard_status": hazard.get("status"),
                    "deadline": hazard.get("deadline"),
                }
            )
    return {**alarm, "items": shown}


async def with_findings(store: Store, alarms: Sequence[Doc]) -> list[Doc]:
    """`alarms` as `told`, their hazards read in one batch."""
    ids = list(dict.fromkeys(hazard for alarm in alarms for hazard in hazard_ids(alarm)))
    hazards = await docs_by_id(store, ids) if ids else {}
    return [told(alarm, hazards) for alarm in alarms]


async def event_findings(store: Store, event: AlarmEvent) -> Doc:
    """The event's alarm as `told`, read once for every stream that sends it. A failed read sends the alarm as
    stored (its items without their state) rather than ending the desks' stream."""
    if event.shown is None:
        event.shown = asyncio.ensure_future(with_findings(store, [event.alarm]))
    try:
        # Shielded: a desk that goes away while it waits must not cancel the read the other desks wait for.
        [alarm] = await asyncio.shield(event.shown)
    except CouchError as e:
        log.warning("alarm stream: the hazards of %s were not read (%s)", event.alarm.get("_id"), e)
        return event.alarm
    return alarm
