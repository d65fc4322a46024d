"""The sub-district pass: the monthly ranking snapshot, every shop's rank, list and working-group flag, and the
dashboard statistics, from the facts the shop projections left.

A shop belongs to the sub-district of its community (`registry:community:{code}`); only active shops are ranked.
The current month's snapshot `office:ranking:{subdistrict}:{YYYY-MM}` is rewritten as the scores change; an
earlier month's is kept as it was last written (a published list is history). A missing earlier month inside the
working-group window (from the sub-district's first check on) is filled in once, ranked on the scores as of that
month's last day. A finished month's snapshot flags for a working group each shop black-listed in
`working_group_black_months` of the last `working_group_window_months` snapshots, its own included. The month
still running flags the shops its last month flagged: its own lists are provisional (on the 1st they are a copy
of last month's standings, which counted twice would flag a shop black in only two finished months), so a flag
changes at a month's turn only and means the same on the snapshot, on each score and for the follow-ups. A
month's snapshot, last written while it ran, has its flags counted with its own lists once it has finished.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from server.errors import CouchError
from server.models.projections import Ranking
from server.models.rules import Rules
from server.store.protocol import Doc, Store
from server.store.reads import docs_by_id, docs_with_prefix
from server.validators.context import Context
from server.validators.ranking import rank_shops
from server.validators.shops import PastDays, same, scores_as_of
from server.validators.stats import ShopFacts, period_bounds, periods, stats_doc

# Writes go in smaller chunks: the store has one writer, and a device's push or an alarm's projection waiting
# behind a 500-document chunk of re-ranked scores is what made alarms late during a burst of self-checks.
WRITE_CHUNK = 100
Rank = tuple[int | None, int | None, str | None, bool]  # rank, of, list, working group
UNRANKED: Rank = (None, None, None, False)


@dataclass
class DistrictCounts:
    rankings: int = 0
    scores: int = 0
    stats: int = 0
    conflicts: int = 0  # a score changed under the pass: it has to run again

    @property
    def written(self) -> int:
        return self.rankings + self.scores + self.stats


def month_of(day: date) -> str:
    return f"{day.year}-{day.month:02d}"


def shift_month(month: str, by: int) -> str:
    year, number = (int(part) for part in month.split("-"))
    index = year * 12 + number - 1 + by
    return f"{index // 12}-{index % 12 + 1:02d}"


def ranking_doc(
    subdistrict: str,
    month: str,
    as_of: date,
    rules: Rules,
    scores: Sequence[Mapping[str, Any]],
    earlier: Mapping[str, Mapping[str, Any]],
    running: bool = False,
) -> Doc:
    """The snapshot of `month` ranked on `scores`; `earlier` are the sub-district's snapshots by month. The month
    still `running` takes its working group from the month before (the module's text)."""
    entries = rank_shops(scores, rules)
    ranked = {entry["shop"] for entry in entries}
    if running:
        before = earlier.get(shift_month(month, -1))
        group = ranked.intersection(before.get("working_group", ()) if before is not None else ())
    else:
        group = working_group(month, entries, rules, earlier)
    doc = {
        "_id": f"office:ranking:{subdistrict}:{month}",
        "type": "ranking",
        "schema": 1,
        "subdistrict": subdistrict,
        "month": month,
        "as_of": as_of,
        "rules_version": rules.version,
        "entries": entries,
        "working_group": sorted(group),
    }
    return Ranking.model_validate(doc).to_doc()


def working_group(
    month: str, entries: Sequence[Mapping[str, Any]], rules: Rules, earlier: Mapping[str, Mapping[str, Any]]
) -> set[str]:
    """The shops ranked in `entries` (the finished `month`'s) black-listed there and in the snapshots before it in
    `earlier` often enough for a working group."""
    black = Counter(entry["shop"] for entry in entries if entry.get("list") == "black")
    for back in range(1, rules.working_group_window_months):
        before = earlier.get(shift_month(month, -back))
        if before is not None:
            black.update(entry["shop"] for entry in before.get("entries", ()) if entry.get("list") == "black")
    ranked = {entry["shop"] for entry in entries}
    return {shop for shop, n in black.items() if n >= rules.working_group_black_months and shop in ranked}


def finished(snapshot: Mapping[str, Any], rules: Rules, earlier: Mapping[str, Mapping[str, Any]]) -> Doc | None:
    """`snapshot` (of a month that has ended, last written while it ran) with its working group counted on its own
    lists, or None when that is the group it has."""
    group = sorted(working_group(str(snapshot["month"]), snapshot.get("entries", ()), rules, earlier))
    if group == list(snapshot.get("working_group", ())):
        return None
    return {**snapshot, "working_group": group}


def subdistricts(facts: Mapping[str, ShopFacts], communities: Mapping[str, str]) -> dict[str, list[ShopFacts]]:
    """The shops of each sub-district, by shop code, closed ones too (a period's statistics count the shops open
    then; only the active ones are ranked)."""
    groups: dict[str, list[ShopFacts]] = {}
    for code in sorted(facts):
        shop = facts[code]
        subdistrict = communities.get(shop.community) if shop.community else None
        if subdistrict and (shop.active or shop.closures):
            groups.setdefault(subdistrict, []).append(shop)
    return groups


# A shop's scores as of past days, when its projection already gave them (`rebuild` does): shop -> day -> score.
PastScores = Mapping[str, Mapping[date, Doc | None]]


async def district_pass(
    store: Store,
    context: Context,
    today: date,
    facts: Mapping[str, ShopFacts],
    past: PastScores | None = None,
    write_chunk: int = WRITE_CHUNK,
    unwritten: Mapping[str, Doc] | None = None,
    create: Callable[[list[Doc]], Awaitable[int]] | None = None,
) -> DistrictCounts:
    """`write_chunk`: documents per write (`rebuild`, which nothing waits behind, writes bigger ones). `unwritten`:
    scores projected and not written yet, by id (a rebuild holds back the new ones so that each is written once,
    ranked, not twice): written by `create` (bulk_docs by default), and counted as re-ranked when their rank
    changed them, as if they had been written before."""
    counts = DistrictCounts()
    communities = await community_subdistricts(store)
    held = unwritten or {}
    scores = await docs_by_id(store, [doc_id for code in sorted(facts) if (doc_id := f"{code}:score") not in held])
    scores.update(held)
    ranks: dict[str, Rank] = {}
    for subdistrict, every in subdistricts(facts, communities).items():
        shops = [shop for shop in every if shop.active]
        if shops:
            snapshot = await _rankings(store, context, today, subdistrict, shops, scores, counts, past or {})
            group = set(snapshot["working_group"])
            for entry in snapshot["entries"]:
                ranks[entry["shop"]] = (entry["rank"], len(snapshot["entries"]), entry["list"], entry["shop"] in group)
        stored = {doc["_id"]: doc for doc in await docs_with_prefix(store, f"office:stats:{subdistrict}:")}
        docs = await asyncio.to_thread(_stats_docs, subdistrict, today, every)
        counts.stats += (await _write(store, _changed(docs, stored)))[0]
    updates, fresh = [], []
    for code in sorted(facts):
        score = scores.get(f"{code}:score")
        if score is None:
            continue
        rank, of, listed, flagged = ranks.get(code, UNRANKED)
        new = {**score, "rank": rank, "of": of, "list": listed, "working_group": flagged}
        if score["_id"] in held:
            fresh.append(new)
            counts.scores += not same(score, new)
        elif not same(score, new):
            updates.append(new)
    if fresh:
        await (create(fresh) if create is not None else _write(store, fresh, write_chunk))
    written, conflicts = await _write(store, updates, write_chunk)
    counts.scores += written
    counts.conflicts += conflicts
    return counts


async def past_days(store: Store, context: Context, today: date) -> PastDays:
    """The communities' sub-districts, and per sub-district the days the pass would want past scores for: the
    last days of the months of the working-group window it has no snapshot of (from `rules.effective_from` on;
    the pass narrows them to its shops' first check)."""
    communities = await community_subdistricts(store)
    stored: dict[str, set[str]] = {}
    for doc in await docs_with_prefix(store, "office:ranking:"):
        if "month" in doc and doc.get("subdistrict"):
            stored.setdefault(str(doc["subdistrict"]), set()).add(str(doc["month"]))
    oldest = month_of(context.rules_history.start)
    days = {
        subdistrict: [
            period_bounds(month)[1]
            for month in missing_months(context.rules, today, oldest, stored.get(subdistrict, set()))
        ]
        for subdistrict in set(communities.values())
    }
    return PastDays(communities, days)


async def community_subdistricts(store: Store) -> dict[str, str]:
    """Each community's sub-district (communities without one belong to none)."""
    return {
        str(doc["code"]): str(doc["subdistrict"])
        for doc in await docs_with_prefix(store, "registry:community:")
        if doc.get("code") and doc.get("subdistrict")
    }


def missing_months(rules: Rules, today: date, oldest: str, have: Collection[str]) -> list[str]:
    """The months of the working-group window before this one, from `oldest` on, that have no snapshot in `have`."""
    current = month_of(today)
    window = [shift_month(current, -back) for back in range(rules.working_group_window_months - 1, 0, -1)]
    return [month for month in window if month >= oldest and month not in have]


async def _rankings(
    store: Store,
    context: Context,
    today: date,
    subdistrict: str,
    shops: Sequence[ShopFacts],
    scores: Mapping[str, Doc],
    counts: DistrictCounts,
    known: PastScores,
) -> Doc:
    rules = context.rules
    stored = {
        doc["month"]: doc for doc in await docs_with_prefix(store, f"office:ranking:{subdistrict}:") if "month" in doc
    }
    history: dict[str, Mapping[str, Any]] = dict(stored)
    current = month_of(today)
    first = min((day for day in (shop.first_day() for shop in shops) if day is not None), default=None)
    writes: list[Doc] = []
    if first is not None:
        missing = missing_months(rules, today, max(month_of(first), month_of(context.rules_history.start)), history)
        days = [period_bounds(month)[1] for month in missing]
        past = await _scores_as_of(store, context, [shop.code for shop in shops], days, known) if missing else []
        for month, day, month_scores in zip(missing, days, past, strict=True):
            history[month] = doc = ranking_doc(subdistrict, month, day, rules, month_scores, history)
            writes.append(doc)
    last = shift_month(current, -1)
    if last in stored and (ended := finished(stored[last], rules, history)) is not None:
        history[last] = ended  # last month's flags, counted on its final lists, are this month's
        writes.append(ended)
    ranked = [scores[f"{shop.code}:score"] for shop in shops if f"{shop.code}:score" in scores]
    # CPU-bound for a whole sub-district: in a thread, so the gateway and the shop projections keep going.
    snapshot = await asyncio.to_thread(ranking_doc, subdistrict, current, today, rules, ranked, history, True)
    writes += _changed([snapshot], {doc["_id"]: doc for doc in stored.values()})
    counts.rankings += (await _write(store, writes))[0]
    return snapshot


def _stats_docs(subdistrict: str, today: date, shops: Sequence[ShopFacts]) -> list[Doc]:
    return [stats_doc(subdistrict, period, as_of, shops) for period, as_of in periods(today)]


async def _scores_as_of(
    store: Store, context: Context, codes: Sequence[str], days: Sequence[date], known: PastScores
) -> list[list[Doc]]:
    """Per day, the scores of these shops as of that day (read and projected again unless `known` has them)."""
    limit = asyncio.Semaphore(store.parallel_reads)
    # A rebuild's shop projections gave every shop's past scores: those are taken as they are, and only the others
    # are read and projected, in tasks (a task for each of 3,000 shops that needed none cost ~0.1 s).
    per_shop: dict[str, Sequence[Doc | None]] = {}
    unknown: list[str] = []
    for code in codes:
        given = known.get(code, {})
        if all(day in given for day in days):
            per_shop[code] = [given[day] for day in days]
        else:
            unknown.append(code)

    async def read(code: str) -> list[Doc | None]:
        async with limit:
            return await scores_as_of(store, code, context, days)

    per_shop.update(zip(unknown, await asyncio.gather(*(read(code) for code in unknown)), strict=True))
    return [[score for code in codes if (score := per_shop[code][i]) is not None] for i in range(len(days))]


def _changed(docs: Sequence[Doc], stored: Mapping[str, Doc]) -> list[Doc]:
    out = []
    for doc in docs:
        old = stored.get(doc["_id"])
        if old is None:
            out.append(doc)
        elif not same(old, doc):
            out.append({**doc, "_rev": old["_rev"]})
    return out


async def _write(store: Store, docs: Sequence[Doc], chunk: int = WRITE_CHUNK) -> tuple[int, int]:
    """Write in chunks; answers (written, conflicts). Any other refusal is an error."""
    written = conflicts = 0
    for start in range(0, len(docs), chunk):
        for answer in await store.bulk_docs(list(docs[start : start + chunk])):
            if answer.get("ok"):
                written += 1
            elif answer.get("error") == "conflict":
                conflicts += 1
            else:
                raise CouchError(500, str(answer.get("error")), f"{answer.get('id')}: {answer.get('reason')}")
    return written, conflicts
