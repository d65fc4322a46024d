"""`mashang rebuild`'s fast paths give what the ordinary ones give: the past scores taken in the same pass as the
projection are the scores of the events performed by then, and the shop pass in worker processes (direct reads,
brand-new documents inserted as rows) writes exactly what the ordinary per-shop path writes, revisions included,
also over a deleted document's tombstone."""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path
from typing import Any, TypeVar

import pytest

from server.demo.build import _registry, months_before
from server.demo.district import plan_district
from server.demo.history import TZ, ShopHistory
from server.models import default_rules, default_template
from server.registry import shipped_documents
from server.store.protocol import AllDocsQuery, Doc, Store
from server.store.sqlite import SqliteStore
from server.validators import projections
from server.validators import rules as R
from server.validators.rebuild import rebuild
from tests.validators.builders import finding, patrol
from tests.validators.builders import shop as shop_doc

S = TypeVar("S", bound=Store)
END = date(2026, 11, 20)
SEED = 5


def _district_year(shops: int = 8, months: int = 8) -> tuple[Any, list[Doc]]:
    district = plan_district(SEED, shops, 1)
    start = datetime.combine(months_before(END, months), time(), TZ)
    end = datetime.combine(END, time(), TZ)
    template, rules = default_template(), default_rules()
    events: list[Doc] = []
    for shop in district.shops:
        history = ShopHistory(SEED, shop, district.worker(shop.patroller), template, rules, start, end).run()
        events += [e.doc for e in history if e.doc["type"] != "photo"]
    return district, events


def clock() -> datetime:
    return datetime.combine(END, time(12), TZ)


# The default rules, and rules under which time passing costs nothing (then a hazard's overdue step is the only
# trace of its deadline passing in the score's `updated_at`).
FREE_TIME = {"overdue_cost_per_week": 0, "missed_week_cost": 0, "start_points": 0}


@pytest.mark.parametrize("changes", [{}, FREE_TIME], ids=["default rules", "time costs nothing"])
def test_the_past_scores_are_the_scores_of_the_events_performed_by_then(changes: dict[str, int]) -> None:
    district, events = _district_year(shops=4, months=14)  # from 2025-09-20: a new year inside
    rules = default_rules().model_copy(update=changes)
    templates = {(t.template_id, t.version): t for t in [default_template()]}
    days = [date(2026, 9, 30), date(2025, 9, 1), date(2025, 12, 31), date(2026, 1, 1), date(2026, 6, 30)]
    days += [date(2026, 1, 20), date(2026, 11, 19)]
    for shop in district.shops:
        registry = {"_id": f"{shop.code}:shop:{shop.code}", "type": "shop", "schema": 1, **shop.registry_doc()}
        own = [e for e in events if e["shop"] == shop.code]
        # Also registered two days into the history: after S0001's and S0002's first checks, before the others'
        # (their 2025 starts on the earlier of the two days, `_start_day`).
        for given in (registry, {**registry, "opened": "2025-09-22"}, None):
            docs, past = projections.project_with_past(given, own, rules, END, templates, days)
            assert docs == projections.project_shop(given, own, rules, END, templates)
            assert past == projections.scores_as_of(given, own, rules, days, templates)
            for day, score in zip(days, past, strict=True):
                by_then = [e for e in own if R.day_of(datetime.fromisoformat(e["performed_at"]), rules) <= day]
                expected = [
                    d for d in projections.project_shop(given, by_then, rules, day, templates) if d["type"] == "score"
                ]
                assert ([score] if score is not None else []) == expected


async def _filled(path: Path, district: Any, events: list[Doc]) -> SqliteStore:
    return await _fill(await SqliteStore.open(path), district, events)


async def _fill(store: S, district: Any, events: list[Doc]) -> S:
    await shipped_documents(store)
    await _registry(store, district)
    await store.bulk_docs(events)
    # A document the rebuild gives again was written and deleted before: its id has a tombstone.
    code = district.shops[0].code
    [made] = await store.bulk_docs([{"_id": f"{code}:score", "type": "score", "schema": 1}])
    [gone] = await store.bulk_docs([{"_id": made["id"], "_rev": made["rev"], "_deleted": True}])
    assert gone["ok"]
    return store


async def _everything(store: Store) -> dict[str, Doc]:
    rows = (await store.all_docs(AllDocsQuery(include_docs=True)))["rows"]
    return {row["id"]: row["doc"] for row in rows}


async def test_the_rebuild_in_worker_processes_writes_what_the_ordinary_path_writes(tmp_path: Path) -> None:
    district, events = _district_year()
    fast, ordinary = [await _filled(tmp_path / name, district, events) for name in ("fast", "ordinary")]
    try:
        first = await rebuild(fast, clock, workers=2)
        reference = await rebuild(ordinary, clock, workers=0)
        assert not first.failed and first.written > 2 * len(district.shops)  # a score, rewards and ledger months each
        assert first.lines()[1:-1] == reference.lines()[1:-1]  # the counts, timings aside
        assert first.rankings > 1  # past months were ranked, on the past scores the projections gave
        # Bodies and revisions; a new score's revision aside: the ordinary way writes it and then its rank (2-…),
        # the worker processes' way holds it back and writes it once, ranked (1-…; 3-… over the tombstone above).
        fast_docs, ordinary_docs = await _everything(fast), await _everything(ordinary)
        assert fast_docs.keys() == ordinary_docs.keys()
        for doc_id, doc in fast_docs.items():
            if doc["type"] == "score":
                doc, ordinary_docs[doc_id] = (
                    {k: v for k, v in d.items() if k != "_rev"} for d in (doc, ordinary_docs[doc_id])
                )
            assert doc == ordinary_docs[doc_id], doc_id
        scores = [doc for doc in fast_docs.values() if doc["type"] == "score"]
        assert scores and all(doc["rank"] is not None for doc in scores)
        assert sorted(doc["_rev"][:2] for doc in scores) == ["1-"] * (len(scores) - 1) + ["3-"]  # written once
        again = await rebuild(fast, clock, workers=2)
        assert again.changed == 0 and not again.failed, again.lines()
        # The ordinary way wrote every new score twice.
        assert (await ordinary.info())["update_seq"] - (await fast.info())["update_seq"] == len(scores)
    finally:
        await fast.close()
        await ordinary.close()


async def test_on_either_backend_the_rebuild_gives_the_same_documents(store: Store, tmp_path: Path) -> None:
    district, events = _district_year(shops=3, months=7)
    reference = await _filled(tmp_path / "reference", district, events)
    try:
        await _fill(store, district, events)
        first = await rebuild(store, clock)  # on CouchDB: shop by shop, through the Store protocol
        assert not first.failed and first.rankings > 1
        assert first.lines()[1:-1] == (await rebuild(reference, clock)).lines()[1:-1]

        def bodies(docs: dict[str, Doc]) -> dict[str, Doc]:
            return {doc_id: {k: v for k, v in doc.items() if k != "_rev"} for doc_id, doc in docs.items()}

        assert bodies(await _everything(store)) == bodies(await _everything(reference))
        assert (await rebuild(store, clock)).changed == 0
    finally:
        await reference.close()


def test_a_past_score_knows_when_a_hazard_became_overdue() -> None:
    """When time costs nothing, the overdue step (00:00 after the deadline) alone moves the score's `updated_at`."""
    rules = default_rules().model_copy(update=FREE_TIME)
    templates = {(t.template_id, t.version): t for t in [default_template()]}
    events = [patrol("2026-03-02 10:00", finding("f1", "extinguisher_valid", "general", "2026-03-05"))]
    days = [date(2026, 3, 4), date(2026, 3, 10)]
    _, past = projections.project_with_past(shop_doc(), events, rules, date(2026, 3, 20), templates, days)
    for day, score in zip(days, past, strict=True):
        assert [score] == [
            d for d in projections.project_shop(shop_doc(), events, rules, day, templates) if d["type"] == "score"
        ]
    assert past[0] is not None and past[1] is not None and past[0]["updated_at"] < past[1]["updated_at"]


def _descendants(pid: int) -> set[int]:
    """The processes below `pid` now (its children, theirs, ...), from /proc."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        parents[int(stat.parent.name)] = int(fields[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


async def test_a_rebuild_killed_with_kill_9_leaves_no_worker_running(tmp_path: Path) -> None:
    """Its worker processes belong to the fork server, not to it: they must end with it, not go on holding the
    pipes of whoever started it (a script waiting for its output waited for ever)."""
    import os
    import signal
    import subprocess
    import sys
    import time as clock_time

    from tests.gateway import ROOT

    district, events = _district_year(shops=40)
    store = await _filled(tmp_path / "data", district, events)
    await store.close()
    proc = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "rebuild", "--data", str(tmp_path / "data")],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    workers: set[int] = set()
    deadline = clock_time.monotonic() + 60
    while len(workers) < 3 and proc.poll() is None:  # the fork server and its two workers
        assert clock_time.monotonic() < deadline, "the rebuild started no worker"
        workers = _descendants(proc.pid)
        clock_time.sleep(0.01)
    assert proc.poll() is None, "the rebuild ended before its workers could be seen: give it more shops"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    deadline = clock_time.monotonic() + 10
    while left := {pid for pid in workers if Path(f"/proc/{pid}").exists() and _alive(pid)}:
        assert clock_time.monotonic() < deadline, f"still running after the rebuild was killed: {sorted(left)}"
        clock_time.sleep(0.1)
    assert proc.stdout is not None and proc.stdout.read() is not None  # the pipe is closed: nobody holds it


def _alive(pid: int) -> bool:
    """Not ended, nor a zombie waiting for a parent that is gone."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
