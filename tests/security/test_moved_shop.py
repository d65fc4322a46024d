"""A shop the office moves to another grid, and the patrols its previous grid worker did there before the move but
pushes after it (a phone offline for a day): accepted within `MOVED_SHOP_GRACE` of the move, as if pushed in time,
and counted by the shop's projections; anything else outside the worker's scope is refused as before, and the
worker reads only the shops of their grids now.

In-process gateway (tests/api/conftest.py) with the validators running, on either backend (tests/backends.py):
grid g1 (zhou) holds S0001 and S0002, grid g2 (li) holds S0003; grid g3 (wu) holds none.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from server.sync.validate import MOVED_SHOP_GRACE
from tests.api.conftest import World, open_world, wait_until
from tests.backends import BACKENDS, store_settings
from tests.security.docs import CST, patrol, photo, replicated, verification
from tests.validators.builders import full_answers, gas_leak_patrol

Json = dict[str, Any]
SCOPE = "is not in this account's scope"


@pytest.fixture(params=BACKENDS)
def moved(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    with store_settings(request, request.param) as on, open_world(tmp_path, **on) as w:
        w.call(w.state.accounts.create_staff, "grid", "wu", "wu-password", "小吴")
        w.call(w.state.registry.put_grid, "g3", "文三三网格", "wensan", ["wu"], [])
        yield w


def at(delta: timedelta) -> str:
    return (datetime.now(UTC) + delta).astimezone(CST).isoformat(timespec="seconds")


def clean_patrol(shop: str, by: str, when: timedelta) -> Json:
    """A patrol finding nothing, performed `when` from now."""
    return patrol(shop, by, performed_at=at(when), answers=full_answers(shop), findings=[])


def move(world: World, code: str, grid: str) -> None:
    office = world.login("wang", "wang-password")
    resp = world.client.post(f"/api/office/shops/{code}/move", json={"grid": grid}, headers=office)
    assert resp.status_code == 200, resp.text


def moved_ago(world: World, code: str, grid: str, ago: timedelta) -> None:
    """Move the shop as the office did `ago` (the registry's clock argument; the API moves it now)."""
    world.call(world.state.registry.move_shop, code, grid, datetime.now(UTC) - ago)
    world.state.authenticator.forget()


def push(world: World, headers: dict[str, str], docs: list[Json]) -> list[Json]:
    """As the phone's replicator pushes: new_edits=false, the revisions the phone gave them."""
    resp = world.client.post("/sync/_bulk_docs", json={"docs": docs, "new_edits": False}, headers=headers)
    assert resp.status_code == 201, resp.text
    answers: list[Json] = resp.json()
    return answers


def stored(world: World, doc_id: str) -> Json | None:
    resp = world.client.get(f"/sync/{doc_id}", headers=world.admin())
    if resp.status_code == 404:
        return None
    assert resp.status_code == 200, resp.text
    doc: Json = resp.json()
    return doc


def quarantined(world: World, doc_id: str) -> list[Json]:
    office = world.login("wang", "wang-password")
    resp = world.client.get("/api/office/quarantine", params={"limit": 500}, headers=office)
    assert resp.status_code == 200, resp.text
    return [e for e in resp.json()["items"] if e["doc_id"] == doc_id]


def refused(world: World, answers: list[Json], doc: Json, words: str = SCOPE) -> None:
    [answer] = answers
    assert answer["id"] == doc["_id"] and answer["error"] == "forbidden" and words in answer["reason"], answer
    assert stored(world, doc["_id"]) is None
    assert quarantined(world, doc["_id"])


def test_a_patrol_done_before_the_move_and_pushed_after_it_is_taken_and_counted(moved: World) -> None:
    zhou, li = moved.login("zhou", "zhou-password"), moved.login("li", "li-password")
    found = replicated(gas_leak_patrol("S0001", "grid:zhou", "d-zhou"), "a1")  # a minute ago, offline
    checked = replicated(verification("S0001", "grid:zhou", performed_at=at(-timedelta(minutes=2))), "a2")
    pic = replicated({**photo("S0001", "grid:zhou"), "performed_at": at(-timedelta(minutes=1))}, "a3")
    move(moved, "S0001", "g2")
    assert push(moved, zhou, [found, checked, pic]) == []  # new_edits=false answers only refusals
    for doc in (found, checked, pic):
        kept = stored(moved, doc["_id"])
        assert kept is not None and kept["_rev"] == doc["_rev"], doc["_id"]
        assert not quarantined(moved, doc["_id"])
    # The shop's projections count it as any patrol: its serious finding is an alarm on the office's desk, and a
    # hazard the shop's grid worker now (li) reads with the patrol itself.
    office = moved.login("wang", "wang-password")
    alarm_id = f"S0001:alarm:{found['_id'].rsplit(':', 1)[1]}"

    def alarms() -> list[Json]:
        items: list[Json] = moved.client.get("/api/office/alarms?status=open", headers=office).json()["items"]
        return [a for a in items if a["_id"] == alarm_id]

    [alarm] = wait_until(alarms)
    assert alarm["source"] == found["_id"] and alarm["grid_worker"] == "grid:zhou"
    hazard = f"S0001:hazard:{found['_id'].rsplit(':', 1)[1]}-f1"
    wait_until(lambda: moved.client.get(f"/sync/{hazard}", headers=li).status_code == 200)
    assert moved.client.get(f"/sync/{found['_id']}", headers=li).status_code == 200
    # Sending the batch again (a replication that crashed before its checkpoint) is the no-op it always was...
    assert push(moved, zhou, [found]) == []
    # ...but no change to what was taken: the exception is for new events only.
    lenient = replicated({**found, "findings": []}, "b2", "a1")
    refused_edit = push(moved, zhou, [lenient])
    assert refused_edit[0]["error"] == "forbidden" and "immutable" in refused_edit[0]["reason"]
    assert (stored(moved, found["_id"]) or {}).get("_rev") == found["_rev"]


def test_a_patrol_done_after_the_move_is_refused(moved: World) -> None:
    zhou = moved.login("zhou", "zhou-password")
    earlier = replicated(clean_patrol("S0001", "grid:zhou", -timedelta(minutes=5)), "c0")
    move(moved, "S0001", "g2")
    late = replicated(clean_patrol("S0001", "grid:zhou", timedelta(seconds=5)), "c1")
    answers = push(moved, zhou, [earlier, late])  # in one batch: only the time tells them apart
    refused(moved, answers, late)
    assert stored(moved, earlier["_id"]) is not None


def test_a_patrol_pushed_after_the_grace_is_refused(moved: World) -> None:
    zhou = moved.login("zhou", "zhou-password")
    moved_ago(moved, "S0001", "g2", MOVED_SHOP_GRACE + timedelta(days=1))
    stale = replicated(clean_patrol("S0001", "grid:zhou", -(MOVED_SHOP_GRACE + timedelta(days=2))), "d1")
    refused(moved, push(moved, zhou, [stale]), stale)
    # Within the grace, the same patrol would have been taken: the refusal is the grace's.
    moved_ago(moved, "S0002", "g2", MOVED_SHOP_GRACE - timedelta(days=1))
    timely = replicated(clean_patrol("S0002", "grid:zhou", -(MOVED_SHOP_GRACE + timedelta(days=2))), "d2")
    assert push(moved, zhou, [timely]) == []
    assert stored(moved, timely["_id"]) is not None


def test_a_worker_who_never_had_the_shop_is_refused(moved: World) -> None:
    wu, zhou = moved.login("wu", "wu-password"), moved.login("zhou", "zhou-password")
    move(moved, "S0001", "g2")
    stranger = replicated(clean_patrol("S0001", "grid:wu", -timedelta(hours=2)), "e1")
    refused(moved, push(moved, wu, [stranger]), stranger)
    same = replicated(clean_patrol("S0001", "grid:zhou", -timedelta(hours=2)), "e0")
    assert push(moved, zhou, [same]) == []  # the same patrol by the shop's worker then is taken
    # Nor a shop that never moved, however far back the patrol says it was done.
    never = replicated(clean_patrol("S0003", "grid:zhou", -timedelta(days=20)), "e2")
    refused(moved, push(moved, zhou, [never]), never)
    # Nor another role's event, nor another author, in the moved shop.
    forged = replicated(clean_patrol("S0001", "grid:li", -timedelta(hours=2)), "e3")
    answers = push(moved, zhou, [forged])
    assert answers[0]["error"] == "forbidden" and stored(moved, forged["_id"]) is None


def test_the_previous_worker_no_longer_reads_the_moved_shop(moved: World) -> None:
    zhou = moved.login("zhou", "zhou-password")
    before = replicated(clean_patrol("S0001", "grid:zhou", -timedelta(hours=1)), "f1")
    move(moved, "S0001", "g2")
    assert push(moved, zhou, [before]) == []  # taken, yet not readable by its author any more
    changes = moved.client.get("/sync/_changes", headers=zhou).json()["results"]
    assert {c["id"].split(":", 1)[0] for c in changes} <= {"S0002", "district"}
    for doc_id in ("S0001:shop:S0001", before["_id"]):
        assert moved.client.get(f"/sync/{doc_id}", headers=zhou).status_code == 404
    rows = moved.client.post("/sync/_all_docs", json={"keys": [before["_id"]]}, headers=zhou).json()["rows"]
    assert rows == [{"key": before["_id"], "error": "not_found"}]
    asked = {"docs": [{"id": before["_id"], "rev": before["_rev"]}]}
    got = moved.client.post("/sync/_bulk_get", json=asked, headers=zhou).json()["results"]
    assert all("ok" not in d for r in got for d in r["docs"])


def test_the_move_is_noted_on_the_shop(moved: World) -> None:
    move(moved, "S0001", "g2")
    move(moved, "S0001", "g2")  # to the grid it is in: not a move
    shop = stored(moved, "S0001:shop:S0001")
    assert shop is not None and shop["grid"] == "g2"
    [noted] = shop["moves"]
    assert (noted["from"], noted["to"]) == ("g1", "g2")
    assert abs(datetime.fromisoformat(noted["at"]) - datetime.now(UTC)) < timedelta(minutes=1)
    office = moved.login("wang", "wang-password")  # a shop noted without moves (before they were noted) still edits
    resp = moved.client.patch("/api/office/shops/S0003", json={"name": "老李面馆"}, headers=office)
    assert resp.status_code == 200, resp.text
