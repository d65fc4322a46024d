"""What an alarm found, as the office's desk is sent it: each item with the grid worker's (or owner's) note and where
its hazard stands now (`hazard_status`, `deadline`), joined from the hazard documents the alarm names.

The alarm document is a projection frozen at the submission, while its hazards go on (rectified, overdue, closed):
the office resolving an alarm needs to know whether they are closed. So the join is made when an answer is sent,
one batched read of every hazard of a page of alarms, once per event of the live stream (every open desk
shares it) and once for all the events a reconnecting desk is replayed, never one read per alarm.

The webhook's receiver (a duty phone, a group bot) has no desk to draw the items: `in_words` gives it each finding as
a line of the desk's card, in Chinese (严重 燃气瓶/管道及报警器不安全 · 阁楼住人处使用煤气灶做饭 · 待整改 ·
整改期限 2026-03-03) and as the desk in English says it (Serious Gas cylinder, hose or alarm unsafe · 阁楼住人处使用
煤气灶做饭 · Open · Deadline 2026-03-03): the note is the grid worker's own words in either.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from server.alarms import AlarmEvent, shop_of
from server.errors import CouchError
from server.exports import HAZARD_STATUS, SEVERITY, checklist_labels
from server.store.protocol import Doc, Store
from server.store.reads import docs_by_id

log = logging.getLogger(__name__)

# The desk's words (pwa/src/office/i18n.ts `item.*`, `hazard.*`, `efile.deadline`): a hazard's item as found
# (燃气瓶/管道及报警器不安全), not the checklist's question; an item the office added has its checklist's words.
ITEM_WORDS: Final = {
    "open_flame": "居住区域使用明火",
    "sleeping_people": "店内住宿",
    "three_in_one": "“三合一”",
    "escape_route": "逃生通道不畅",
    "extinguisher_present": "未配备灭火器/消防栓",
    "extinguisher_valid": "灭火器过期",
    "rcd_installed": "未安装漏电保护装置",
    "ebike_indoor_charging": "电瓶车店内充电",
    "gas_safe": "燃气瓶/管道及报警器不安全",
    "wiring_ok": "电线私拉乱接",
    "other": "其他",
}
HAZARD_WORDS: Final = HAZARD_STATUS  # the exports and the monthly report say them alike
DEADLINE_WORDS: Final = "整改期限"
# The same in English (the `en` table of pwa/src/office/i18n.ts), for a receiver that reads no Chinese.
ITEM_WORDS_EN: Final = {
    "open_flame": "Open flame in the living area",
    "sleeping_people": "People sleeping in the shop",
    "three_in_one": '"Three in one" space',
    "escape_route": "Escape route blocked",
    "extinguisher_present": "No extinguisher or hydrant",
    "extinguisher_valid": "Extinguisher expired",
    "rcd_installed": "No residual-current device",
    "ebike_indoor_charging": "E-bike charged inside",
    "gas_safe": "Gas cylinder, hose or alarm unsafe",
    "wiring_ok": "Improvised wiring",
    "other": "Other",
}
HAZARD_WORDS_EN: Final = {
    "open": "Open",
    "rectified": "Rectified, awaiting check",
    "closed": "Closed",
    "overdue": "Overdue",
}
SEVERITY_EN: Final = {"general": "General", "major": "Major", "serious": "Serious"}
DEADLINE_WORDS_EN: Final = "Deadline"


@dataclass(frozen=True)
class Words:
    """A language's words of the lines: the desk's for an item, a severity, a hazard's state and its deadline."""

    items: Mapping[str, str]
    severity: Mapping[str, str]
    hazard: Mapping[str, str]
    deadline: str


ZH: Final = Words(ITEM_WORDS, SEVERITY, HAZARD_WORDS, DEADLINE_WORDS)
EN: Final = Words(ITEM_WORDS_EN, SEVERITY_EN, HAZARD_WORDS_EN, DEADLINE_WORDS_EN)


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


async def replayed(store: Store, events: Sequence[AlarmEvent]) -> list[Doc]:
    """The alarms of the events a reconnecting desk missed, as `told` now, in one batch: the read each event kept
    for the live streams (`event_findings`) is of when it was first sent, and a desk shown those states would keep
    them (a resolved alarm is not told again when its hazards are closed). A failed read sends them as stored."""
    try:
        return await with_findings(store, [event.alarm for event in events])
    except CouchError as e:
        log.warning("alarm stream: the hazards of %d replayed events were not read (%s)", len(events), e)
        return [event.alarm for event in events]


def hazard_now(item: Mapping[str, Any], today: str, words: Words = ZH) -> str | None:
    """Where an item's hazard stands on `today` (YYYY-MM-DD) as the desk's card says it: its status, overdue once its
    deadline has passed (the server marks it just after midnight), with the deadline while it is to be fixed."""
    status, deadline = item.get("hazard_status"), item.get("deadline")
    if not isinstance(status, str) or not status:
        return None
    if status == "open" and isinstance(deadline, str) and deadline < today:
        status = "overdue"
    due = f" · {words.deadline} {deadline}" if status in ("open", "overdue") and isinstance(deadline, str) else ""
    return f"{words.hazard.get(status, status)}{due}"


def finding_lines(alarm: Mapping[str, Any], labels: Mapping[str, str], today: str, words: Words = ZH) -> list[str]:
    """Each item of a `told` alarm as a line of the desk's card in `words`' language: severity, the item in words,
    the note (as written), the hazard today. `labels`: the checklists' words in that language of the items the desk
    has none of its own for."""
    items = alarm.get("items")
    lines: list[str] = []
    for item in items if isinstance(items, list) else ():
        if not isinstance(item, dict):
            continue
        name, severity, note = str(item.get("item")), str(item.get("severity")), item.get("note")
        said = words.items.get(name) or labels.get(name) or name
        line = f"{words.severity.get(severity, severity)} {said}"
        if isinstance(note, str) and note:
            line += f" · {note}"
        if (now := hazard_now(item, today, words)) is not None:
            line += f" · {now}"
        lines.append(line)
    return lines


@dataclass(frozen=True)
class InWords:
    """An alarm as the webhook sends it: as `told`, and its `finding_lines` in Chinese and in English."""

    alarm: Doc
    zh: list[str]
    en: list[str]


async def in_words(store: Store, alarm: Doc, today: str) -> InWords:
    """The alarm as `told` and its `finding_lines` in both languages, for the webhook. The checklists are read (once,
    for both) only for an item the desk has no words of its own for. A failed read leaves out what it would have told
    (the hazards' states, or the checklist's words: the item's id), rather than the alarm."""
    try:
        [shown] = await with_findings(store, [alarm])
    except CouchError as e:
        log.warning("webhook: the hazards of %s were not read (%s)", alarm.get("_id"), e)
        shown = alarm
    items = shown.get("items")
    named = {str(item.get("item")) for item in items if isinstance(item, dict)} if isinstance(items, list) else set()
    labels: tuple[Mapping[str, str], Mapping[str, str]] = ({}, {})
    if named - ITEM_WORDS.keys():
        try:
            labels = await checklist_labels(store)
        except CouchError as e:
            log.warning("webhook: the checklists' words of %s were not read (%s)", alarm.get("_id"), e)
    return InWords(shown, finding_lines(shown, labels[0], today, ZH), finding_lines(shown, labels[1], today, EN))
