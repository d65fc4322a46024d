"""The follower against a real store: a serious finding becomes an alarm within a fraction of a second, its own
writes do not wake it again, and a shop that keeps failing is parked without holding up the others."""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any
from unittest.mock import ANY

import pytest

from server.errors import CouchError
from server.office.facts import Facts
from server.store.protocol import Doc, GetOptions, Store
from server.store.reads import docs_with_prefix
from server.store.snapshots import load_snapshot
from server.store.sqlite import SqliteStore
from server.validators import follower as follower_module
from server.validators import projections, snapshot
from server.validators.checkpoint import CHECKPOINT_ID, RETRIES_ID
from server.validators.follower import Follower
from server.validators.shops import project_shop_into
from tests.office_reads import shops_read
from tests.validators.builders import finding, patrol, self_check
from tests.validators.world import FAST, as_shop, clock, code, fill, registry, running, settle, stop, until


@pytest.fixture
async def sqlite(tmp_path: Path) -> Any:
    store = await SqliteStore.open(tmp_path / "data", revs_limit=1000)
    yield store
    await store.close()


async def _get(store: Store, doc_id: str) -> Doc | None:
    try:
        return await store.get(doc_id, GetOptions())
    except CouchError:
        return None


async def test_a_serious_finding_is_an_alarm_at_once_and_costs_points(store: Store) -> None:
    await store.bulk_docs([*registry(2), as_shop(self_check("2026-03-16 09:00"), code(1))])
    follower = Follower(store, clock, FAST)
    announced: list[Doc] = []

    async def hook(alarm: Doc) -> None:
        announced.append(alarm)

    follower.on_alarm.append(hook)
    task = await running(follower)
    try:
        await follower.settled()
        before = await _get(store, f"{code(1)}:score")
        assert before is not None and before["points"] == 102 and before["rank"] in (1, 2) and before["of"] == 2
        visit = as_shop(patrol("2026-03-20 11:00", finding("f1", "open_flame", "serious", "2026-03-21")), code(1))
        await store.bulk_docs([visit])
        alarm_id = f"{code(1)}:alarm:{visit['_id'].rsplit(':', 1)[1]}"

        async def alarm_written() -> bool:
            return await _get(store, alarm_id) is not None

        latency = await until(alarm_written)
        assert latency < 0.5, f"the alarm took {latency:.3f} s"
        await follower.settled()
        alarm = await _get(store, alarm_id)
        assert alarm is not None and alarm["status"] == "open" and alarm["grid_worker"] == "grid:zhou"
        assert [item["item"] for item in alarm["items"]] == ["open_flame"]
        assert [a["_id"] for a in announced] == [alarm_id]  # the hook hears of each new alarm once
        after = await _get(store, f"{code(1)}:score")
        # −10 for the serious hazard, −3 as the self-check of Monday had declared no open flame.
        assert after is not None and after["points"] == 102 - 10 - 3 and after["open_hazards"] == 1
    finally:
        await stop(task)


async def test_the_office_keeps_its_part_of_an_alarm(sqlite: SqliteStore) -> None:
    visit = as_shop(patrol("2026-03-19 11:00", finding("f1", "gas_safe", "serious", "2026-03-20")), code(1))
    await sqlite.bulk_docs([*registry(1), visit])
    follower = Follower(sqlite, clock, FAST)
    task = await running(follower)
    try:
        await follower.settled()
        alarm_id = f"{code(1)}:alarm:{visit['_id'].rsplit(':', 1)[1]}"
        alarm = await _get(sqlite, alarm_id)
        assert alarm is not None
        step = {"status": "acknowledged", "at": "2026-03-20T12:00:00+08:00", "by": "office:chen"}
        await sqlite.bulk_docs([{**alarm, "status": "acknowledged", "history": [*alarm["history"], step]}])
        await sqlite.bulk_docs([as_shop(self_check("2026-03-20 09:00"), code(1))])  # the shop is projected again
        await follower.settled()
        kept = await _get(sqlite, alarm_id)
        assert kept is not None and kept["status"] == "acknowledged" and kept["history"][-1] == step
        stats = await _get(sqlite, "office:stats:xixi:2026-03")
        assert stats is not None and stats["figures"]["open_alarms"] == 1
    finally:
        await stop(task)


async def test_its_own_writes_do_not_wake_it_again(sqlite: SqliteStore) -> None:
    await fill(sqlite, shops=4)
    follower = Follower(sqlite, clock, FAST)
    task = await running(follower)
    try:
        await follower.settled()
        seq, passes, projected = (
            (await sqlite.info())["update_seq"],
            follower.counters.district_passes,
            follower.counters.projected,
        )
        assert passes >= 1 and projected >= 4
        await asyncio.sleep(0.5)  # longer than the debounce and the longpoll
        assert (await sqlite.info())["update_seq"] == seq
        assert (follower.counters.district_passes, follower.counters.projected) == (passes, projected)
    finally:
        await stop(task)


async def test_a_poison_shop_is_parked_and_the_others_go_on(sqlite: SqliteStore, monkeypatch: Any) -> None:
    await fill(sqlite, shops=5)
    real = projections.project_shop

    def poisoned(shop: Any, events: Any, *args: Any) -> list[dict[str, Any]]:
        if shop and shop["code"] == code(3):
            raise ValueError("poison")
        return real(shop, events, *args)

    monkeypatch.setattr(projections, "project_shop", poisoned)
    follower = Follower(sqlite, clock, FAST)
    task = await running(follower)
    try:
        await follower.settled()
        for n in (1, 2, 4, 5):
            assert await _get(sqlite, f"{code(n)}:score") is not None
        assert await _get(sqlite, f"{code(3)}:score") is None
        history = await sqlite.get_local(RETRIES_ID)
        assert history["shops"][code(3)]["parked"] is True
        # Parked after max_tries; the start-up tick and the feed may each have tried it once more, nothing else.
        assert FAST.max_tries <= history["shops"][code(3)]["tries"] <= FAST.max_tries + 2
        tries = history["shops"][code(3)]["tries"]
        await asyncio.sleep(0.2)  # many times the back-off: a parked shop is not retried on its own
        assert (await sqlite.get_local(RETRIES_ID))["shops"][code(3)]["tries"] == tries
        assert "poison" in history["shops"][code(3)]["error"]
        # New events of other shops still go through while S0003 is parked.
        await sqlite.bulk_docs([as_shop(self_check("2026-03-20 08:00"), code(5))])
        await follower.settled()
        score = await _get(sqlite, f"{code(5)}:score")
        assert score is not None and score["updated_at"] == "2026-03-20T08:00:00+08:00"
        # Fixed (a release), its next change projects it and clears its history.
        monkeypatch.setattr(projections, "project_shop", real)
        await sqlite.bulk_docs([as_shop(self_check("2026-03-20 08:30"), code(3))])
        await follower.settled()
        assert await _get(sqlite, f"{code(3)}:score") is not None
        assert code(3) not in (await sqlite.get_local(RETRIES_ID))["shops"]
    finally:
        await stop(task)


async def test_a_projection_writes_only_what_changed(sqlite: SqliteStore) -> None:
    await fill(sqlite, shops=1)
    follower = Follower(sqlite, clock, FAST)
    assert follower.context is None
    from server.validators.context import load_context

    context = await load_context(sqlite)
    today = context.today(clock)
    first = await project_shop_into(sqlite, code(1), context, today)
    assert first.written > 0 and first.deleted == 0
    again = await project_shop_into(sqlite, code(1), context, today)
    assert (again.written, again.deleted, again.new_alarms) == (0, 0, [])


async def test_a_ledger_kept_an_entry_a_document_is_grouped_by_month_at_the_next_projection(store: Store) -> None:
    """A store written before the ledger was grouped by month holds a document per entry
    (`{shop}:ledger:{key}:{rule}`): the shop's next projection deletes them and writes its months, the same entries
    and the same score."""
    from server.models.projections import ledger_entries
    from server.validators.context import load_context

    await fill(store, shops=1)
    context = await load_context(store)
    today = context.today(clock)
    await project_shop_into(store, code(1), context, today)
    months = await docs_with_prefix(store, f"{code(1)}:ledger:")
    entries = sorted((entry for doc in months for entry in ledger_entries(doc)), key=lambda entry: entry["_id"])
    assert months and len(entries) > len(months)
    score = await _get(store, f"{code(1)}:score")
    # As the release before wrote them: the months gone, an entry a document.
    await store.bulk_docs([{"_id": doc["_id"], "_rev": doc["_rev"], "_deleted": True} for doc in months])
    await store.bulk_docs([{**entry, "schema": 1} for entry in entries])

    again = await project_shop_into(store, code(1), context, today)
    assert again.deleted == len(entries)
    after = await docs_with_prefix(store, f"{code(1)}:ledger:")
    assert sorted(doc["_id"] for doc in after) == sorted(doc["_id"] for doc in months)
    assert [{k: v for k, v in doc.items() if k != "_rev"} for doc in after] == [
        {k: v for k, v in doc.items() if k != "_rev"} for doc in months
    ]
    assert await _get(store, f"{code(1)}:score") == score


async def test_a_closed_shop_loses_its_rank_with_its_own_projection(sqlite: SqliteStore) -> None:
    """The ranking is of the active shops: a shop the office closes is unranked as soon as it is projected again
    (at once), not only when the debounced sub-district pass next runs (up to two minutes later, while the office's
    list and e-file showed its rank of before). The shop reopened is ranked again by the pass."""
    await fill(sqlite, shops=3)
    follower = await settle(sqlite)
    assert follower.context is not None
    ranked = await _get(sqlite, f"{code(1)}:score")
    assert ranked is not None and ranked["rank"] is not None and ranked["of"] == 3
    shop = await _get(sqlite, f"{code(1)}:shop:{code(1)}")
    assert shop is not None
    await sqlite.bulk_docs([{**shop, "status": "closed"}])
    # The shop's own projection, and no sub-district pass.
    await project_shop_into(sqlite, code(1), follower.context, follower.context.today(clock))
    closed = await _get(sqlite, f"{code(1)}:score")
    assert closed is not None and closed["points"] == ranked["points"]
    assert (closed["rank"], closed["of"], closed["list"], closed["working_group"]) == (None, None, None, False)
    # The other shops keep their ranks until the pass ranks them among two.
    other = await _get(sqlite, f"{code(2)}:score")
    assert other is not None and other["of"] == 3

    reopened = await _get(sqlite, f"{code(1)}:shop:{code(1)}")
    assert reopened is not None
    await sqlite.bulk_docs([{**reopened, "status": "active"}])
    await settle(sqlite)
    again = await _get(sqlite, f"{code(1)}:score")
    assert again is not None and again["rank"] is not None and again["of"] == 3


async def test_a_device_change_goes_before_the_daily_tick(sqlite: SqliteStore, monkeypatch: Any) -> None:
    shops = 40
    await sqlite.bulk_docs(registry(shops))
    real = projections.project_shop

    def slow(*args: Any) -> list[dict[str, Any]]:
        time.sleep(0.02)  # 40 shops: the start-up tick takes at least 0.4 s (0.8 s on its one worker)
        return real(*args)

    caught_up = Follower(sqlite, clock, FAST)
    task = await running(caught_up)
    await caught_up.settled()
    await stop(task)
    monkeypatch.setattr(projections, "project_shop", slow)
    follower = Follower(sqlite, clock, replace(FAST, queue=256))  # its start-up tick projects every shop again
    task = await running(follower)
    try:
        await asyncio.sleep(0.05)  # the tick is under way
        visit = as_shop(patrol("2026-03-20 11:00", finding("f1", "three_in_one", "serious", "2026-03-21")), code(shops))
        await sqlite.bulk_docs([visit])
        alarm_id = f"{code(shops)}:alarm:{visit['_id'].rsplit(':', 1)[1]}"

        async def alarm_written() -> bool:
            return await _get(sqlite, alarm_id) is not None

        latency = await until(alarm_written)
        # First come, first served, it would have waited for the 39 shops the tick had queued before it.
        assert follower.counters.projected <= shops // 2, "the alarm waited behind the tick"
        assert latency < 1.0
        await follower.settled()
    finally:
        await stop(task)


async def test_the_checkpoint_passes_a_change_only_once_its_shop_is_written(
    sqlite: SqliteStore, monkeypatch: Any
) -> None:
    await fill(sqlite, shops=2)
    follower = Follower(sqlite, clock, FAST)
    task = await running(follower)
    try:
        await follower.settled()
        entered, gate = threading.Event(), threading.Event()
        real = projections.project_shop

        def gated(shop: Any, *args: Any) -> list[dict[str, Any]]:
            if shop and shop["code"] == code(2):
                entered.set()
                gate.wait(10)
            return real(shop, *args)

        monkeypatch.setattr(projections, "project_shop", gated)
        await sqlite.bulk_docs([as_shop(self_check("2026-03-20 08:00"), code(2))])
        held = (await sqlite.info())["update_seq"]

        async def projecting() -> bool:
            return entered.is_set()

        await until(projecting)
        projected = follower.counters.projected
        later = as_shop(self_check("2026-03-20 08:30"), code(1))  # a later change of another shop goes through
        await sqlite.bulk_docs([later])

        async def other_written() -> bool:
            return follower.counters.projected > projected

        await until(other_written)
        await asyncio.sleep(0.05)
        assert (await sqlite.get_local(CHECKPOINT_ID))["seq"] < held  # not past the shop still being projected
        gate.set()
        await follower.settled()
        assert (await sqlite.get_local(CHECKPOINT_ID))["seq"] > held
    finally:
        gate.set()
        await stop(task)


async def test_a_gateway_without_validators_starts_its_office_view_from_the_facts_they_keep(
    store: Store, monkeypatch: Any
) -> None:
    """In front of CouchDB the gateways run no validators (`mashang worker` does): the first office request of each
    read every shop's events, ~6 minutes for a district's 30,000. The worker keeps every shop's facts, in parts, and
    a gateway starts from them, reading only the shops changed since."""
    monkeypatch.setattr(snapshot, "SHOPS_PER_PART", 2)
    monkeypatch.setattr(follower_module, "SNAPSHOT_EVERY", 0.0)
    grid = {"_id": "registry:grid:g1", "type": "grid", "schema": 1, "code": "g1", "name": "g1", "community": "wensan"}
    checks = [as_shop(self_check(f"2026-03-1{n} 09:00"), code(n)) for n in (1, 2, 3)]
    await store.bulk_docs([*registry(3), grid | {"shops": [code(n) for n in (1, 2, 3)]}, *checks])
    follower = await settle(store)
    found = await load_snapshot(store, snapshot.OFFICE_FACTS)
    assert found is not None, "the validators kept no facts for the office"
    head, _ = found
    assert head["parts"] == 2  # two shops a part here; a thousand in a district
    assert follower.context is not None
    kept = await snapshot.load_facts(store, follower.context.rules)
    assert kept is not None and kept[1] == follower.facts

    read = shops_read(monkeypatch)
    await store.bulk_docs([as_shop(self_check("2026-03-19 09:00"), code(2))])  # after the snapshot
    office = Facts(store)
    gateway = await office.view()  # a gateway that runs no validators, starting now
    assert read == [code(2)]
    kept = await store.get_local(snapshot.OFFICE_FACTS)
    assert kept["by"] == "validators" and kept["writer"] == head["writer"]  # theirs is kept: the gateway wrote none
    assert date(2026, 3, 19) in gateway.shops[code(2)].facts.self_checks
    # The validators re-rank every few minutes: a shop whose score alone changed is not read again, only its score.
    score = await store.get(f"{code(1)}:score", GetOptions())
    assert (await store.bulk_docs([{**score, "rank": 3}]))[0]["ok"]
    assert (await office.view()).shops[code(1)].score == {**score, "rank": 3, "_rev": ANY}
    assert read == [code(2)]
    monkeypatch.setattr(snapshot, "EVERY", 0.0)  # the validators have stopped keeping it: a gateway keeps its own
    await Facts(store).view()
    assert (await store.get_local(snapshot.OFFICE_FACTS))["by"] == "office"
    await store.delete_local(snapshot.OFFICE_FACTS, (await store.get_local(snapshot.OFFICE_FACTS))["_rev"])
    read.clear()
    whole = await Facts(store).view()  # no snapshot: every shop read, to the same facts
    assert sorted(read) == [code(1), code(2), code(3)]
    assert {c: s.facts for c, s in gateway.shops.items()} == {c: s.facts for c, s in whole.shops.items()}
    assert {c: s.score for c, s in gateway.shops.items()} == {c: s.score for c, s in whole.shops.items()}
