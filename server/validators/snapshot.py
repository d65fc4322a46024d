"""Every shop's facts (`ShopFacts`) as a snapshot, `_local/server/office-facts`, with the seq of the changes feed
they are true at and the rules they were counted under: what the office view (`server.office.facts`) starts from
instead of reading every shop's events.

The follower keeps it, as it holds every shop's facts once its start-up pass is done (in `mashang serve` and in
`mashang worker`, so the gateways in front of CouchDB, which run no validators, find it too). A gateway's office
view keeps it only where the validators do not (none run, or theirs is older than twice `EVERY`). A reader takes
the shops changed since its seq from the store.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from server.gcpause import gc_paused
from server.models.rules import Rules
from server.store.protocol import Seq, Store
from server.store.snapshots import load_snapshot, save_snapshot, saved_by
from server.store.upsert import past_the_store
from server.validators.stats import ShopFacts, facts_json, facts_of_json

OFFICE_FACTS: Final = "server/office-facts"
SHOPS_PER_PART: Final = 1000  # ~1 KB a shop: parts of ~1 MB, well below CouchDB's 8 MB document limit
EVERY: Final = 300.0  # seconds between two snapshots of changing facts, by either writer
# What the facts hold, told in the head: a snapshot of another (older) one is not read, every shop is (version 2: the
# authors by user and device, `stats.Authors`).
FORMAT: Final = 2


async def save_facts(store: Store, seq: Seq, rules: Rules, facts: Mapping[str, ShopFacts], by: str = "office") -> None:
    """`by`: "validators" or "office" (a gateway's view). Raises `CouchError` when the store refuses it (another
    writer moved the snapshot meanwhile: theirs stands)."""
    head = {"seq": seq, "rules": rules.model_dump(mode="json", by_alias=True), "format": FORMAT}
    with gc_paused():
        await save_snapshot(store, OFFICE_FACTS, head, facts, SHOPS_PER_PART, facts_json, by)


async def kept_by_validators(store: Store) -> bool:
    """Whether the validators keep the snapshot (they wrote it within twice `EVERY`): then a gateway need not write
    its own. Each save of a district's view writes ~30 MB, and there are several gateways."""
    return await saved_by(store, OFFICE_FACTS, 2 * EVERY) == "validators"


async def load_facts(store: Store, rules: Rules) -> tuple[Seq, dict[str, ShopFacts]] | None:
    """The snapshot's seq and facts, when there is one of this `FORMAT` made under `rules` that describes this store.
    Raises `CouchError` when it cannot be read, `ValueError` (and its kin) when it is unreadable or torn."""
    with gc_paused():
        found = await load_snapshot(store, OFFICE_FACTS, inline="shops")
        if found is None:
            return None
        head, shops = found
        if head.get("format") != FORMAT or Rules.model_validate(head["rules"]) != rules:
            return None
        facts = {str(code): facts_of_json(f) for code, f in shops.items()}
    if await past_the_store(store, head["seq"]):
        return None
    return head["seq"], facts
