"""The office's screens while a change of rules is applied: the summary keeps answering from what the office view
holds, says it is recomputing, and follows the validators' projections as they come, without reading every shop's
events from the store again beside their pass (12.7 s for the first summary of a 1,500-shop sub-district)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from server.models.projections import ledger_entries
from server.office.facts import Facts
from server.store.reads import docs_with_prefix
from server.store.upsert import read
from server.validators import follower as follower_module
from tests.api.conftest import World, open_world
from tests.api.test_alarm_flow import wait_until
from tests.api.test_dashboard import NOW, TODAY, at_noon, check, finding, office  # noqa: F401  (at_noon: the clock)
from tests.office_reads import shops_read


class Gate:
    """Holds every call of an async function of the follower until opened (the validators' pass, made slow)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
        self.open = threading.Event()
        self.open.set()
        self.waiting = 0
        real = getattr(follower_module, name)

        async def held(*args: Any, **kwargs: Any) -> Any:
            self.waiting += 1
            try:
                while not self.open.is_set():
                    await asyncio.sleep(0.01)
            finally:
                self.waiting -= 1
            return await real(*args, **kwargs)

        monkeypatch.setattr(follower_module, name, held)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with open_world(tmp_path) as w:
        yield w


def test_a_change_of_rules_keeps_the_summary_quick_and_its_figures_follow(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, follower = world.state.store, world.state.follower
    headers = office(world)
    # A self-reported general hazard two days old: overdue only once its deadline is a day after it was found.
    found = check("self_check", "S0001", NOW - timedelta(days=2), {"item": "wiring_ok"})
    events = [found, check("self_check", "S0002", NOW), check("patrol", "S0003", NOW)]
    assert all(a.get("ok") for a in world.call(store.bulk_docs, events))
    world.call(follower.settled)
    before = world.client.get("/api/office/summary", headers=headers).json()
    assert before["recomputing"] is False and before["overdue_hazards"] == 0

    adopting, projecting = Gate(monkeypatch, "load_context"), Gate(monkeypatch, "project_shop_into")
    adopting.open.clear()
    projecting.open.clear()
    read = shops_read(monkeypatch)
    rules = world.client.get("/api/office/rules", headers=headers).json()["rules"]
    # In force from the current version's day (without one, from today): the hazard of two days ago is held to it.
    shorter = {"deadline_days": dict.fromkeys(rules["deadline_days"], 1), "effective_from": rules["effective_from"]}
    changed = world.client.put("/api/office/rules", headers=headers, json=shorter)
    assert changed.status_code == 200, changed.text

    # The validators have not taken up the new rules yet: the office sees its figures as they were, marked.
    wait_until(lambda: adopting.waiting > 0, timeout=10)
    during = world.client.get("/api/office/summary", headers=headers).json()
    assert during["recomputing"] is True
    assert during["overdue_hazards"] == 0 and during["shops_active"] == before["shops_active"]
    assert read == []  # no shop's events read again from the store

    # They have, and are projecting every shop under them: still marked, still no shop read.
    adopting.open.set()
    wait_until(lambda: follower.applying_rules and projecting.waiting > 0, timeout=10)
    assert world.client.get("/api/office/summary", headers=headers).json()["recomputing"] is True
    assert read == []

    # Done: the figures are the new rules' (the hazard is overdue now), taken from the validators' projections. The
    # view takes a shop's facts from the validators once they have followed the feed past the view's place, their own
    # projections included; a summary asked in between reads the few they have not yet (a loaded machine showed it):
    # asked once they have settled, it reads none.
    projecting.open.set()
    world.call(follower.settled)

    def recomputed() -> bool:
        return world.client.get("/api/office/summary", headers=headers).json()["recomputing"] is False

    wait_until(recomputed, timeout=30)
    after = world.client.get("/api/office/summary", headers=headers).json()
    assert after["overdue_hazards"] == 1
    assert read == []
    # ... the same facts as a gateway that reads every shop from the store under the new rules.
    view = world.call(world.state.office_facts.view)
    fresh = world.call(Facts(store).view)
    assert sorted(read) == ["S0001", "S0002", "S0003"]
    assert {c: s.facts for c, s in view.shops.items()} == {c: s.facts for c, s in fresh.shops.items()}
    assert {c: s.score for c, s in view.shops.items()} == {c: s.score for c, s in fresh.shops.items()}


def test_rules_in_force_from_a_later_day_leave_what_happened_before_as_it_was(world: World) -> None:
    """The office raises the cost of a serious hazard and lowers the alarm threshold from tomorrow: the hazard found
    today keeps today's cost and nothing old raises an alarm; the day the new version applies it scores."""
    store, follower = world.state.store, world.state.follower
    headers = office(world)
    serious = finding("f1", "gas_safe", "serious", TODAY + timedelta(days=1), "S0003")
    general = finding("f2", "wiring_ok", "general", TODAY + timedelta(days=7), "S0002")
    events = [check("patrol", "S0003", NOW - timedelta(hours=1), serious)]
    events.append(check("patrol", "S0002", NOW - timedelta(hours=1), general))  # −2: under the threshold of 10
    assert all(a.get("ok") for a in world.call(store.bulk_docs, events))
    world.call(follower.settled)

    def points() -> dict[str, int]:
        return {code: world.call(read, store, f"{code}:score")["points"] for code in ("S0002", "S0003")}

    def alarms() -> int:
        return len(world.client.get("/api/office/alarms", headers=headers).json()["items"])

    before, alarms_before = points(), alarms()
    assert alarms_before == 1
    rules = world.client.get("/api/office/rules", headers=headers).json()["rules"]
    tomorrow = (TODAY + timedelta(days=1)).isoformat()
    change = {"effective_from": tomorrow, "alarm_threshold": 1, "hazard_cost": {**rules["hazard_cost"], "serious": 20}}
    assert world.client.put("/api/office/rules", headers=headers, json=change).status_code == 200
    wait_until(lambda: world.call(read, store, "S0003:score")["rules_version"] == rules["version"] + 1, timeout=30)
    world.call(follower.settled)
    assert points() == before
    assert alarms() == alarms_before
    months = world.call(docs_with_prefix, store, "S0003:ledger:")
    hazard = [e for doc in months for e in ledger_entries(doc) if e["rule"] == "hazard"]
    assert [(e["points"], e["rules_version"]) for e in hazard] == [(-10, rules["version"])]


def test_without_validators_here_a_change_of_rules_reads_the_store_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A gateway beside a separate `mashang worker` has no facts to take: it loads the view again under the new
    rules, and never says it is recomputing."""
    with open_world(tmp_path, run_validators=False) as world:
        headers = office(world)
        found = check("self_check", "S0001", NOW - timedelta(days=2), {"item": "wiring_ok"})
        assert all(a.get("ok") for a in world.call(world.state.store.bulk_docs, [found]))
        assert world.client.get("/api/office/summary", headers=headers).json()["recomputing"] is False
        read = shops_read(monkeypatch)
        days = world.client.get("/api/office/rules", headers=headers).json()["rules"]["deadline_days"]
        changed = world.client.put("/api/office/rules", headers=headers, json={"deadline_days": dict.fromkeys(days, 1)})
        assert changed.status_code == 200, changed.text
        assert world.client.get("/api/office/summary", headers=headers).json()["recomputing"] is False
        assert sorted(read) == ["S0001", "S0002", "S0003"]


def test_a_refresh_takes_the_shops_the_validators_have_projected(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """Between two reads of the office, a shop whose change the validators here have projected is taken from them;
    one they have not projected yet is read from the store, so the office never sees less than the store holds."""
    store = world.state.store
    headers = office(world)
    assert all(a.get("ok") for a in world.call(store.bulk_docs, [check("patrol", "S0003", NOW)]))
    projected(world, "S0003")
    assert world.client.get("/api/office/summary", headers=headers).json()["counts"]["week"]["self_checks"] == 0
    read = shops_read(monkeypatch)

    assert world.call(store.bulk_docs, [check("self_check", "S0001", NOW)])[0]["ok"]
    projected(world, "S0001")
    summary = world.client.get("/api/office/summary", headers=headers).json()
    assert summary["counts"]["week"]["self_checks"] == 1
    assert read == []  # projected by the validators here: their facts

    projecting = Gate(monkeypatch, "project_shop_into")
    projecting.open.clear()
    assert world.call(store.bulk_docs, [check("self_check", "S0002", NOW)])[0]["ok"]
    wait_until(lambda: projecting.waiting > 0, timeout=10)
    summary = world.client.get("/api/office/summary", headers=headers).json()
    assert summary["counts"]["week"]["self_checks"] == 2
    assert read == ["S0002"]  # not projected yet: read from the store
    projecting.open.set()
    projected(world, "S0002")
    view = world.call(world.state.office_facts.view)
    fresh = world.call(Facts(store).view)
    assert {c: s.facts for c, s in view.shops.items()} == {c: s.facts for c, s in fresh.shops.items()}


def projected(world: World, code: str) -> None:
    """Wait until the validators here have projected every change of the store so far to this shop."""
    seq = world.call(world.state.store.info)["update_seq"]
    wait_until(lambda: world.state.follower.covers(code, seq), timeout=10)
