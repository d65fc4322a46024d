"""What the office's read side counts on, kept in memory: the registry (communities, grids, shops), every shop's
score, and its `ShopFacts`, the very facts the validators' statistics are computed from (`shop_facts`).

The first read loads every shop of the registry's grids; later reads follow the changes feed from the last seq
and reload only the shops (and the registry) that changed, so a dashboard refresh costs a few small reads. The
rules (time zone, today) come from the validators' context loader.

Loading every shop costs ~5 ms a shop on the embedded store (7-9 s for a sub-district of 1,500; it was 12 ms while
shops were read four at a time, see `Store.parallel_reads`), and in the first minute after a start
it competes with the validators' own pass over every shop (the office's first dashboard took 33 s). So the view's
facts are kept in `_local/server/office-facts` (`server.validators.snapshot`: at most every `SNAPSHOT_EVERY`
seconds, and when the gateway stops), with the feed's seq they are true at: a start takes them and reads only the
shops changed since. The validators keep the same snapshot, so a gateway in front of CouchDB that runs none (a
district: minutes to read 30,000 shops) starts from theirs. A snapshot made under other rules is not used.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Final, Protocol

from server.errors import CouchError
from server.models.common import NOT_SHOPS
from server.models.registry import shop_doc_id
from server.models.rules import Rules
from server.store.protocol import ChangesQuery, Doc, Store
from server.store.reads import docs_by_id, docs_with_prefix
from server.store.snapshots import Saved, due
from server.validators import rules as R
from server.validators.context import load_rules
from server.validators.snapshot import EVERY as SNAPSHOT_EVERY
from server.validators.snapshot import kept_by_validators, load_facts, save_facts
from server.validators.stats import ShopFacts, shop_facts

log = logging.getLogger(__name__)

CHANGES_PAGE: Final = 5000
MAX_INCREMENTAL: Final = 20000  # more changes than this since the last read: load again, from the latest snapshot
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
    # The rules changed and the validators are projecting every shop under them: some figures are still the old.
    recomputing: bool = False

    def today(self) -> date:
        return R.day_of(datetime.now(UTC), self.rules)

    def subdistricts(self) -> list[str]:
        return sorted({str(c["subdistrict"]) for c in self.communities.values() if c.get("subdistrict")})

    def subdistrict_of(self, shop: ShopState) -> str | None:
        community = self.communities.get(shop.facts.community or "")
        return str(community["subdistrict"]) if community and community.get("subdistrict") else None

    def active(self) -> list[ShopState]:
        return [shop for code, shop in sorted(self.shops.items()) if shop.facts.active]

    def counted(self) -> list[ShopState]:
        """The shops a period's figures may count: the active ones, and those closed on a day their closures say
        (`figures` counts each for the periods it was open; one closed before closures were noted, never)."""
        return [shop for code, shop in sorted(self.shops.items()) if shop.facts.active or shop.facts.closures]


async def _shop(store: Store, code: str, rules: Rules, registry: Doc | None, score: Doc | None) -> ShopState:
    """One shop from the ranges of the types the office counts (its photos, most of a partition, and its ledger are
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


class Validators(Protocol):
    """What the validators running in this process (`validators.follower.Follower`) tell the office view."""

    @property
    def facts(self) -> Mapping[str, ShopFacts]: ...

    @property
    def rules(self) -> Rules | None: ...

    @property
    def applying_rules(self) -> bool: ...

    def covers(self, code: str, seq: Any) -> bool: ...


class Facts:
    """The office's view of the store, refreshed on each read from the changes feed (one refresh at a time).

    `validators` are those running in this process, if any. A shop whose facts they hold with every change the
    view has read (`Validators.covers`) is taken from them instead of reading its events again, which is most of
    the cost of a load or a refresh. When the rules change, the view keeps its figures, marked `recomputing`,
    while the validators project every shop under the new rules, and takes theirs as they go: the office's
    screens stay quick instead of reading every shop again beside that pass (12.7 s for a summary of 1,500
    shops, 22-29 s on a slower machine). Without validators here (a gateway beside `mashang worker`) a change
    of rules loads the view again from the store, and changed shops are read from it."""

    def __init__(self, store: Store, validators: Validators | None = None) -> None:
        self.store = store
        self.validators = validators
        self._view: View | None = None
        self._lock = asyncio.Lock()
        self._saved: Saved | None = None  # (the seq of the last snapshot, when it was written)

    async def view(self) -> View:
        async with self._lock:
            rules = await load_rules(self.store)
            view = self._view
            here = self.validators is not None and self.validators.rules is not None  # they run in this process
            if view is None:
                view = await self._load(rules, await self._snapshot(rules))
            elif (view.rules != rules or view.recomputing) and not here:
                view = await self._load(rules)
            else:
                if view.rules != rules:
                    view.rules, view.recomputing = rules, True
                await self._refresh(view)
                if view.recomputing:
                    await self._recomputed(view)
            self._view = view
            if not view.recomputing and due(self._saved, view.seq, SNAPSHOT_EVERY):
                await self._save(view)
            return view

    async def save(self) -> None:
        """Keep the view as it is now for the next start (when the gateway stops)."""
        async with self._lock:
            if self._view is not None and due(self._saved, self._view.seq, 0.0):
                await self._save(self._view)

    async def _load(self, rules: Rules, snapshot: tuple[Any, dict[str, ShopFacts]] | None = None) -> View:
        """Every shop, from the facts the validators running here hold, then the snapshot's (both as of a seq
        the feed is then followed from), then from the store."""
        seq, taken = snapshot if snapshot is not None else ((await self.store.info())["update_seq"], {})
        view = View(rules, seq=seq)
        await self._registry(view)
        codes = self._codes(view)
        await self._shops(view, codes, {**taken, **self._covered(rules, codes, seq)})
        if snapshot is not None:
            await self._refresh(view, reload=False)  # the shops changed since the snapshot
        return view

    async def _snapshot(self, rules: Rules) -> tuple[Any, dict[str, ShopFacts]] | None:
        """The saved view's seq and facts, when they were made under these rules."""
        try:
            return await load_facts(self.store, rules)
        except CouchError as e:
            log.warning("the office view's snapshot cannot be read (%s): every shop is read", e)
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            log.warning("the office view's snapshot is unreadable (%s): every shop is read", e)
        return None

    async def _save(self, view: View) -> None:
        self._saved = (view.seq, time.monotonic())
        try:
            if await kept_by_validators(self.store):
                return
            await save_facts(self.store, view.seq, view.rules, {code: shop.facts for code, shop in view.shops.items()})
        except CouchError as e:  # another gateway, or the validators, wrote one meanwhile: theirs will do
            log.info("the office view's snapshot was not written (%s)", e)

    async def _registry(self, view: View) -> None:
        view.communities = {
            str(d["code"]): d for d in await docs_with_prefix(self.store, "registry:community:") if "code" in d
        }
        view.grids = {str(d["code"]): d for d in await docs_with_prefix(self.store, "registry:grid:") if "code" in d}

    def _covered(self, rules: Rules, codes: Iterable[str], seq: Any) -> dict[str, ShopFacts]:
        """The facts the validators here hold, under `rules`, with every change up to `seq`, of these shops."""
        validators = self.validators
        if validators is None or validators.rules != rules:
            return {}
        return {code: validators.facts[code] for code in codes if validators.covers(code, seq)}

    async def _recomputed(self, view: View) -> None:
        """Once the validators here have projected every shop under the view's rules, every shop's facts are
        theirs (read from the store for the few they do not cover), and the view is no longer `recomputing`."""
        validators = self.validators
        if validators is None or validators.rules != view.rules or validators.applying_rules:
            return
        codes = self._codes(view)
        await self._shops(view, codes, self._covered(view.rules, codes, view.seq))
        view.recomputing = False

    @staticmethod
    def _codes(view: View) -> set[str]:
        return {str(code) for grid in view.grids.values() for code in grid.get("shops", ())}

    async def _shops(self, view: View, codes: Iterable[str], known: Mapping[str, ShopFacts] | None = None) -> None:
        limit = asyncio.Semaphore(self.store.parallel_reads)
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

    async def _refresh(self, view: View, reload: bool = True) -> None:
        """Follow the feed from the view's seq: a shop whose counted documents (`FACT_TYPES`, its registry document)
        changed is read again; one whose score alone changed (the validators re-rank every few minutes) gets its new
        score; the rest of a partition (ledger, photos, rewards) is not counted here. A view left unread for long
        (more than `MAX_INCREMENTAL` changes behind: a day of a district) is loaded again, from the snapshot the
        validators keep every few minutes when there is one."""
        touched: set[str] = set()
        rescored: set[str] = set()
        registry = False
        seen = 0
        while True:
            answer = await self.store.changes(ChangesQuery(since=view.seq, limit=CHANGES_PAGE))
            results = answer["results"]
            for row in results:
                partition, _, rest = str(row["id"]).partition(":")
                kind = rest.split(":", 1)[0]
                if partition == "registry":
                    registry = True
                elif not rest or partition in NOT_SHOPS:
                    continue
                elif kind in FACT_TYPES or kind == "shop":
                    touched.add(partition)
                elif kind == "score":
                    rescored.add(partition)
            seen += len(results)
            view.seq = answer["last_seq"]
            if len(results) < CHANGES_PAGE:
                break
            if seen > MAX_INCREMENTAL and reload:
                fresh = await self._load(view.rules, await self._snapshot(view.rules))
                view.communities, view.grids, view.shops, view.seq = (
                    fresh.communities,
                    fresh.grids,
                    fresh.shops,
                    fresh.seq,
                )
                return
        if registry:
            await self._registry(view)
            known = self._codes(view)
            touched |= known - view.shops.keys()
            for gone in view.shops.keys() - known:
                del view.shops[gone]
        touched &= self._codes(view)
        await self._shops(view, touched, self._covered(view.rules, touched, view.seq))
        await self._scores(view, rescored - touched)

    async def _scores(self, view: View, codes: set[str]) -> None:
        ids = [f"{code}:score" for code in sorted(codes) if code in view.shops]
        scores = await docs_by_id(self.store, ids) if ids else {}
        for code in codes & view.shops.keys():
            view.shops[code].score = scores.get(f"{code}:score")
