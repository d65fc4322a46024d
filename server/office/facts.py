"""What the office's read side counts on, kept in memory: the registry (communities, grids, shops), every shop's
score, and its `ShopFacts`, the very facts the validators' statistics are computed from (`shop_facts`).

The first read loads every shop of the registry's grids; later reads follow the changes feed from the last seq
and reload only the shops (and the registry) that changed, so a dashboard refresh costs a few small reads. The
rules (time zone, today) come from the validators' context loader.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Final

from server.models.registry import shop_doc_id
from server.models.rules import Rules
from server.store.protocol import ChangesQuery, Doc, Store
from server.store.reads import docs_by_id, docs_with_prefix
from server.validators import rules as R
from server.validators.context import load_rules
from server.validators.shops import NOT_SHOPS
from server.validators.stats import ShopFacts, shop_facts

CHANGES_PAGE: Final = 5000
MAX_INCREMENTAL: Final = 20000  # more changes than this since the last read: load everything again
CONCURRENCY: Final = 4
FACT_TYPES: Final = frozenset({"self_check", "patrol", "rectification", "verification", "hazard", "alarm"})


@dataclass
class ShopState:
    """One shop as the office sees it: its registry document, score and facts."""

    code: str
    doc: Doc | None
    score: Doc | None
    facts: ShopFacts


@dataclass
class View:
    rules: Rules
    communities: dict[str, Doc] = field(default_factory=dict)
    grids: dict[str, Doc] = field(default_factory=dict)
    shops: dict[str, ShopState] = field(default_factory=dict)
    seq: Any = 0

    def today(self) -> date:
        return R.day_of(datetime.now(UTC), self.rules)

    def subdistricts(self) -> list[str]:
        return sorted({str(c["subdistrict"]) for c in self.communities.values() if c.get("subdistrict")})

    def subdistrict_of(self, shop: ShopState) -> str | None:
        community = self.communities.get(shop.facts.community or "")
        return str(community["subdistrict"]) if community and community.get("subdistrict") else None

    def active(self) -> list[ShopState]:
        return [shop for code, shop in sorted(self.shops.items()) if shop.facts.active]


async def _shop(store: Store, code: str, rules: Rules, registry: Doc | None, score: Doc | None) -> ShopState:
    """One shop from the ranges of the types the office counts (its ledger and photos, most of a partition, are
    left unread)."""
    ranges = [await docs_with_prefix(store, f"{code}:{kind}:") for kind in sorted(FACT_TYPES)]
    events, hazards, alarms = [], [], []
    for doc in (doc for docs in ranges for doc in docs):
        kind = doc.get("type")
        if kind == "hazard":
            hazards.append(doc)
        elif kind == "alarm":
            alarms.append(doc)
        elif kind in FACT_TYPES:
            events.append(doc)
    facts = shop_facts(code, registry, events, hazards, alarms, rules)
    return ShopState(code, registry, score, facts)


Known = Callable[[], tuple[Rules | None, Mapping[str, ShopFacts]]]


class Facts:
    """The office's view of the store, refreshed on each read from the changes feed (one refresh at a time).

    `known` may hand over the facts the validators running in this process already hold (with the rules they
    were made with): the first load then takes those instead of reading every shop's events, which is most of
    its cost. Shops that change later are read from the store, like every shop when there is no such follower."""

    def __init__(self, store: Store, known: Known | None = None) -> None:
        self.store = store
        self.known = known
        self._view: View | None = None
        self._lock = asyncio.Lock()

    async def view(self) -> View:
        async with self._lock:
            rules = await load_rules(self.store)
            if self._view is None or self._view.rules != rules:
                self._view = await self._load(rules)
            else:
                await self._refresh(self._view)
            return self._view

    async def _load(self, rules: Rules) -> View:
        view = View(rules, seq=(await self.store.info())["update_seq"])
        await self._registry(view)
        known_rules, known = self.known() if self.known else (None, {})
        await self._shops(view, self._codes(view), known if known_rules == rules else {})
        return view

    async def _registry(self, view: View) -> None:
        view.communities = {
            str(d["code"]): d for d in await docs_with_prefix(self.store, "registry:community:") if "code" in d
        }
        view.grids = {str(d["code"]): d for d in await docs_with_prefix(self.store, "registry:grid:") if "code" in d}

    @staticmethod
    def _codes(view: View) -> set[str]:
        return {str(code) for grid in view.grids.values() for code in grid.get("shops", ())}

    async def _shops(self, view: View, codes: Iterable[str], known: Mapping[str, ShopFacts] | None = None) -> None:
        limit = asyncio.Semaphore(CONCURRENCY)
        known = known or {}

        ordered = sorted(codes)
        docs = await docs_by_id(self.store, [key for code in ordered for key in (shop_doc_id(code), f"{code}:score")])

        async def one(code: str) -> None:
            registry, score = docs.get(shop_doc_id(code)), docs.get(f"{code}:score")
            if code in known:
                view.shops[code] = ShopState(code, registry, score, known[code])
                return
            async with limit:
                view.shops[code] = await _shop(self.store, code, view.rules, registry, score)

        await asyncio.gather(*(one(code) for code in ordered))

    async def _refresh(self, view: View) -> None:
        touched: set[str] = set()
        registry = False
        seen = 0
        while True:
            answer = await self.store.changes(ChangesQuery(since=view.seq, limit=CHANGES_PAGE))
            results = answer["results"]
            for row in results:
                partition = str(row["id"]).split(":", 1)[0]
                if partition == "registry":
                    registry = True
                elif ":" in str(row["id"]) and partition not in NOT_SHOPS:
                    touched.add(partition)
            seen += len(results)
            view.seq = answer["last_seq"]
            if len(results) < CHANGES_PAGE:
                break
            if seen > MAX_INCREMENTAL:
                self._view = await self._load(view.rules)
                return
        if registry:
            await self._registry(view)
            known = self._codes(view)
            touched |= known - view.shops.keys()
            for gone in view.shops.keys() - known:
                del view.shops[gone]
        await self._shops(view, touched & self._codes(view))
