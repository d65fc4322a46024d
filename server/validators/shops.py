"""One shop's projections in the store: read its partition, project, and write only the documents that differ.

One range read (`{shop}:` … `{shop}:\ufff0`) brings the registry document, the events and the stored projections.
`plan_writes` is the pure comparison: the office's part of an alarm and the ranking's part of a score are kept
(`merge_alarm`, `merge_score`), ledger entries and hazards the events no longer give are deleted, alarms never
are. The writes go in one `_bulk_docs` with the stored `_rev`s; a conflict (the office changed an alarm meanwhile)
re-reads and plans again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Final

from server import quarantine
from server.errors import CouchError
from server.models.common import NOT_SHOPS
from server.models.registry import shop_doc_id
from server.store.protocol import AllDocsQuery, Doc, Store
from server.validators import projections
from server.validators.context import Context
from server.validators.projections import merge_alarm, merge_score
from server.validators.stats import ShopFacts, shop_facts

# Documents of a shop's partition that only the follower writes (the office changes an alarm's status only;
# its redemptions are events the follower reads, like a device's).
PROJECTED: Final = frozenset({"score", "ledger", "hazard", "alarm", "rewards"})
DELETABLE: Final = frozenset({"ledger", "hazard"})
COUCH_META: Final = frozenset({"_rev", "_revisions", "_conflicts", "_deleted_conflicts"})
ATTEMPTS: Final = 3


@dataclass
class Plan:
    writes: list[Doc] = field(default_factory=list)
    new_alarms: list[Doc] = field(default_factory=list)
    deleted: int = 0


@dataclass
class Outcome:
    code: str
    written: int
    deleted: int
    new_alarms: list[Doc]
    facts: ShopFacts
    score: Doc | None
    past: dict[date, Doc | None] = field(default_factory=dict)  # the scores as of the days asked for


@dataclass(frozen=True)
class PastDays:
    """The days the sub-district pass wants past scores for, by the sub-district of a shop's community."""

    communities: Mapping[str, str] = field(default_factory=dict)  # community -> sub-district
    days: Mapping[str, Sequence[date]] = field(default_factory=dict)  # sub-district -> days

    def of(self, registry: Mapping[str, Any] | None) -> list[date]:
        community = registry.get("community") if registry else None
        return list(self.days.get(self.communities.get(str(community), ""), ())) if community else []


NO_PAST_DAYS: Final = PastDays()


@dataclass
class Partition:
    registry: Doc | None
    events: list[Doc]
    stored: dict[str, Doc]
    # Events stored with more than one body (two gateways took two bodies of one id at once): id -> the losing
    # revisions. The projection uses the winner, as every reader does; the follower notes them in the quarantine.
    conflicts: dict[str, list[str]] = field(default_factory=dict)


def same(stored: Mapping[str, Any], doc: Mapping[str, Any]) -> bool:
    """Equal bodies, CouchDB's metadata aside."""
    return _body(stored) == _body(doc)


def _body(doc: Mapping[str, Any]) -> Mapping[str, Any]:
    """`doc` without CouchDB's metadata: a copy with it popped (a rebuild compares every stored projection, ~40,000
    in a district year, and copying a dict is several times faster than filtering it key by key)."""
    if COUCH_META.isdisjoint(doc):
        return doc
    body = dict(doc)
    for key in COUCH_META:
        body.pop(key, None)
    return body


def plan_writes(projected: Iterable[Mapping[str, Any]], stored: Mapping[str, Doc], ranked: bool = True) -> Plan:
    """What to write so the stored projections become `projected` (deletions are `_deleted` stubs); `ranked`: the
    shop is active, and its score keeps the rank the sub-district pass gave it (`merge_score`)."""
    plan = Plan()
    wanted: set[str] = set()
    alarmed: set[str] = set()  # the hazards the projected alarms name
    for doc in projected:
        doc_id = str(doc["_id"])
        if doc["type"] == "alarm":
            alarmed.update(str(item["hazard"]) for item in doc["items"])
        old = stored.get(doc_id)
        merged = _merged(doc, old, ranked)
        wanted.add(doc_id)
        if old is not None and same(old, merged):
            continue
        if old is not None:
            merged["_rev"] = old["_rev"]
        elif merged["type"] == "alarm":
            plan.new_alarms.append(merged)
        plan.writes.append(merged)
    for doc_id, old in sorted(stored.items()):
        if doc_id not in wanted and (old.get("type") in DELETABLE or _superseded(old, alarmed)):
            # The stub keeps the type and shop: a phone's pull selects by type, and a stub without one matches
            # no such selector on CouchDB (where the phones' `_deleted: true` branch is the other way in).
            kept: dict[str, Any] = {key: old[key] for key in ("type", "shop") if key in old}
            plan.writes.append({"_id": doc_id, "_rev": old["_rev"], "_deleted": True, **kept})
            plan.deleted += 1
    return plan


def _superseded(stored: Mapping[str, Any], alarmed: set[str]) -> bool:
    """A stored alarm no longer projected whose hazards another alarm names, and that the office has not touched:
    a submission's modules arrived out of order, and its alarm now has its first event's id. An alarm the office
    acted on, or one that the rules no longer raise, stays."""
    if stored.get("type") != "alarm" or stored.get("status") != "open":
        return False
    if any(step.get("by") != "server" for step in stored.get("history", [])):
        return False
    return any(item.get("hazard") in alarmed for item in stored.get("items", []))


def _merged(doc: Mapping[str, Any], stored: Mapping[str, Any] | None, ranked: bool) -> Doc:
    if doc["type"] == "alarm":
        return merge_alarm(doc, stored)
    if doc["type"] == "score":
        return merge_score(doc, stored, ranked)
    return dict(doc)


async def read_partition(store: Store, code: str) -> Partition:
    query = AllDocsQuery(startkey=f"{code}:", endkey=f"{code}:\ufff0", include_docs=True, conflicts=True)
    return partition(code, (row.get("doc") for row in (await store.all_docs(query))["rows"]))


def partition(code: str, docs: Iterable[Doc | None]) -> Partition:
    """A shop's partition from the documents of its key range (a deleted one's row has no document). An event's
    `_conflicts` go to `Partition.conflicts`, not into the projection."""
    registry, events, stored, conflicts = None, [], {}, {}
    registry_id = shop_doc_id(code)
    for doc in docs:
        if not doc:
            continue
        if "_conflicts" in doc:
            losing = [str(rev) for rev in doc["_conflicts"]]
            doc = {k: v for k, v in doc.items() if k != "_conflicts"}
            if doc["_id"] != registry_id and doc.get("type") not in PROJECTED:
                conflicts[doc["_id"]] = losing
        if doc["_id"] == registry_id:
            registry = doc
        elif doc.get("type") in PROJECTED:
            stored[doc["_id"]] = doc
        else:
            events.append(doc)
    return Partition(registry, events, stored, conflicts)


def _project(code: str, part: Partition, context: Context, as_of: date) -> tuple[Plan, ShopFacts, Doc | None]:
    """The CPU-bound part (run in a thread, so the gateway's event loop keeps answering)."""
    plan, facts, score, _ = project_with_past(code, part, context, as_of, ())
    return plan, facts, score


def project_with_past(
    code: str, part: Partition, context: Context, as_of: date, days: Sequence[date]
) -> tuple[Plan, ShopFacts, Doc | None, list[Doc | None]]:
    """`_project`, and the shop's scores as of `days` (what `scores_as_of` answers) from the same pass."""
    if days:
        docs, past = projections.project_with_past(
            part.registry, part.events, context.rules_history, as_of, context.templates, days
        )
    else:
        docs, past = (
            projections.project_shop(part.registry, part.events, context.rules_history, as_of, context.templates),
            [],
        )
    plan = plan_writes(docs, part.stored, ranked=(part.registry or {}).get("status") == "active")
    written = {doc["_id"]: doc for doc in plan.writes}
    current = [written.get(doc["_id"]) or part.stored[doc["_id"]] for doc in docs]
    ids = {doc["_id"] for doc in docs}
    alarms = [doc for doc in current if doc["type"] == "alarm"]
    alarms += [doc for doc_id, doc in part.stored.items() if doc["type"] == "alarm" and doc_id not in ids]
    hazards = [doc for doc in current if doc["type"] == "hazard"]
    facts = shop_facts(code, part.registry, part.events, hazards, alarms, context.rules)
    score = next((doc for doc in current if doc["type"] == "score"), None)
    return plan, facts, score, past


async def project_shop_into(
    store: Store, code: str, context: Context, as_of: date, past_days: PastDays = NO_PAST_DAYS
) -> Outcome:
    """Project one shop as of `as_of` and write what differs; answers what was written and the shop's facts (and
    its scores as of the `past_days` of its sub-district)."""
    written = deleted = 0
    new_alarms: list[Doc] = []
    for attempt in range(ATTEMPTS):
        part = await read_partition(store, code)
        if part.conflicts and part.registry is not None and attempt == 0:  # a shop of the registry: projected
            conflicted = [(doc, part.conflicts[doc["_id"]]) for doc in part.events if doc["_id"] in part.conflicts]
            await quarantine.note_conflicts(store, conflicted, datetime.now(UTC))
        days = past_days.of(part.registry)
        plan, facts, score, scores = await asyncio.to_thread(project_with_past, code, part, context, as_of, days)
        past = dict(zip(days, scores, strict=True))
        if not plan.writes:
            return Outcome(code, written, deleted, new_alarms, facts, score, past)
        answers = {a.get("id"): a for a in await store.bulk_docs(plan.writes)}
        done = [doc for doc in plan.writes if answers.get(doc["_id"], {}).get("ok")]
        deleted += sum(1 for doc in done if doc.get("_deleted"))
        written += sum(1 for doc in done if not doc.get("_deleted"))
        new_alarms += [
            {**doc, "_rev": answers[doc["_id"]]["rev"]}
            for doc in plan.new_alarms
            if answers.get(doc["_id"], {}).get("ok")
        ]
        failed = [a for a in answers.values() if not a.get("ok")]
        if not failed:
            return Outcome(code, written, deleted, new_alarms, facts, score, past)
        refused = [a for a in failed if a.get("error") != "conflict"]
        if refused:
            raise CouchError(
                500, str(refused[0].get("error", "error")), f"{refused[0].get('id')}: {refused[0].get('reason')}"
            )
    raise CouchError(409, "conflict", f"the projections of shop {code} kept changing under the follower")


async def scores_as_of(store: Store, code: str, context: Context, days: Sequence[date]) -> list[Doc | None]:
    """The score `project_shop` gives a shop as of each of these past days (for missing monthly snapshots), from
    one read of its partition and the events performed by then; writes nothing."""
    part = await read_partition(store, code)
    return await asyncio.to_thread(
        projections.scores_as_of, part.registry, part.events, context.rules_history, days, context.templates
    )


async def shop_codes(store: Store, page: int = 200) -> list[str]:
    """Every shop partition that holds a document, in order. A shop's ids lie in [`{code}:`, `{code};`), so each
    page jumps past the last partition it saw instead of reading the rest of its documents."""
    codes: list[str] = []
    start: str | None = None
    while True:
        rows = (await store.all_docs(AllDocsQuery(startkey=start, limit=page)))["rows"]
        for row in rows:
            doc_id = str(row["id"])
            code = doc_id.split(":", 1)[0]
            if ":" in doc_id and not doc_id.startswith("_") and code not in NOT_SHOPS and code not in codes[-1:]:
                codes.append(code)
        if len(rows) < page:
            return codes
        start = str(rows[-1]["id"]).split(":", 1)[0] + ";"
