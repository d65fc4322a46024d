"""The office's alarm queue: alarms of every shop by status, each step with who and when, refusals, roles; its index
kept as a snapshot. On either backend (tests/backends.py)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from server import alarms as alarms_module
from server.alarms import SNAPSHOT_DOC, STATUSES, Alarms
from server.models import Alarm
from server.store.protocol import ChangesQuery, Store
from server.store.snapshots import load_snapshot
from server.store.sqlite import SqliteStore
from server.store.upsert import read, read_local
from tests.api.conftest import World, open_world
from tests.api.projections import alarm_doc, write
from tests.backends import BACKENDS, sqlite_only, store_settings


@pytest.fixture(params=BACKENDS)
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    """Without the validators: the projections in the store are exactly those the test writes."""
    with store_settings(request, request.param) as on, open_world(tmp_path, run_validators=False, **on) as w:
        yield w


def raise_alarm(world: World, shop: str, created_at: str, notify: bool = True) -> str:
    """An alarm as the follower writes it; `notify` calls the `on_alarm` hook as the follower does."""
    doc = alarm_doc(shop, created_at)
    world.call(write, world.state.store, doc)
    if notify:
        world.call(world.state.alarms.notify, doc)
    return str(doc["_id"])


def office(world: World) -> dict[str, str]:
    return world.login("wang", "wang-password")


def listed(world: World, query: str = "", headers: dict[str, str] | None = None) -> list[str]:
    resp = world.client.get(f"/api/office/alarms{query}", headers=headers or office(world))
    assert resp.status_code == 200, resp.text
    return [item["_id"] for item in resp.json()["items"]]


def test_the_office_lists_alarms_of_every_shop_by_status_newest_first(world: World) -> None:
    older = raise_alarm(world, "S0001", "2026-03-01T09:00:00+08:00")
    newest = raise_alarm(world, "S0003", "2026-03-03T09:00:00+08:00")
    middle = raise_alarm(world, "S0002", "2026-03-02T09:00:00+08:00")
    headers = office(world)
    assert listed(world, "?status=open", headers) == [newest, middle, older]
    assert world.client.post(f"/api/office/alarms/{middle}/ack", headers=headers).status_code == 200
    assert listed(world, "?status=open", headers) == [newest, older]
    assert listed(world, "?status=acknowledged", headers) == [middle]
    assert listed(world, "?status=resolved", headers) == []
    assert listed(world, "", headers) == [newest, middle, older]
    body = world.client.get("/api/office/alarms?status=open", headers=headers).json()
    assert body["counts"] == {"open": 2, "acknowledged": 1, "dispatched": 0, "resolved": 0}
    item = body["items"][0]
    assert item["shop"] == "S0003" and item["shop_name"] == "小吃店S0003" and item["items"][0]["photos"]
    assert "_rev" not in item
    bad = world.client.get("/api/office/alarms?status=closed", headers=headers)
    assert bad.status_code == 400 and bad.json()["error"] == "bad_request" and "open" in bad.json()["reason"]


def test_a_long_queue_comes_in_pages(world: World) -> None:
    start = datetime.fromisoformat("2026-03-01T08:00:00+08:00")
    ids = [raise_alarm(world, "S0001", (start + timedelta(hours=n)).isoformat()) for n in range(5)]
    headers = office(world)
    seen: list[str] = []
    query = "?status=open&limit=2"
    while True:
        body = world.client.get(f"/api/office/alarms{query}", headers=headers).json()
        seen += [item["_id"] for item in body["items"]]
        if body["next"] is None:
            break
        query = f"?status=open&limit=2&before={body['next']}"
    assert seen == ids[::-1]
    assert world.client.get("/api/office/alarms?limit=501", headers=headers).status_code == 400


def test_each_step_is_recorded_with_who_and_when(world: World) -> None:
    alarm = raise_alarm(world, "S0001", "2026-03-02T10:00:00+08:00")
    wang = office(world)
    before = datetime.now().astimezone() - timedelta(seconds=2)
    resp = world.client.post(f"/api/office/alarms/{alarm}/ack", headers=wang, json={"note": "已电话联系店主"})
    assert resp.status_code == 200, resp.text
    assert resp.json()["status"] == "acknowledged"
    resp = world.client.post(f"/api/office/alarms/{alarm}/dispatch", headers=wang, json={"department": "gas"})
    assert resp.status_code == 200 and resp.json()["department"] == "gas"
    resp = world.client.post(f"/api/office/alarms/{alarm}/resolve", headers=world.admin(), json={"note": "已整改"})
    assert resp.status_code == 200
    shown = world.client.get(f"/api/office/alarms/{alarm}", headers=wang).json()
    steps = [(s["status"], s["by"], s["department"], s["note"]) for s in shown["history"]]
    assert steps == [
        ("open", "server", None, ""),
        ("acknowledged", "office:wang", None, "已电话联系店主"),
        ("dispatched", "office:wang", "gas", ""),
        ("resolved", "admin", None, "已整改"),
    ]
    for step in shown["history"][1:]:
        at = datetime.fromisoformat(step["at"])
        assert at.utcoffset() == timedelta(hours=8) and before <= at <= datetime.now().astimezone()
    assert shown["status"] == "resolved" and shown["department"] == "gas"
    stored = world.call(read, world.state.store, alarm)
    Alarm.model_validate(stored)  # what the office wrote is still a valid alarm, for the follower and the phones
    assert listed(world, "?status=resolved", wang) == [alarm]


def test_dispatch_and_resolve_may_skip_steps(world: World) -> None:
    wang = office(world)
    first = raise_alarm(world, "S0001", "2026-03-02T10:00:00+08:00")
    second = raise_alarm(world, "S0002", "2026-03-02T11:00:00+08:00")
    resp = world.client.post(f"/api/office/alarms/{first}/dispatch", headers=wang, json={"department": "fire"})
    assert resp.status_code == 200 and [s["status"] for s in resp.json()["history"]] == ["open", "dispatched"]
    resp = world.client.post(f"/api/office/alarms/{second}/resolve", headers=wang)
    assert resp.status_code == 200 and [s["status"] for s in resp.json()["history"]] == ["open", "resolved"]


@sqlite_only("world")
def test_illegal_steps_are_refused_with_a_reason(world: World) -> None:
    wang = office(world)
    alarm = raise_alarm(world, "S0001", "2026-03-02T10:00:00+08:00")
    url = f"/api/office/alarms/{alarm}"
    assert world.client.post(f"{url}/ack", headers=wang).status_code == 200
    again = world.client.post(f"{url}/ack", headers=wang)
    assert again.status_code == 409
    assert again.json() == {
        "error": "conflict",
        "reason": "该报警现为「已确认」：只有待处理的报警可以确认。"
        "The alarm is acknowledged: only an open alarm can be acknowledged.",
    }
    no_department = world.client.post(f"{url}/dispatch", headers=wang, json={})
    assert no_department.status_code == 400 and "department" in no_department.json()["reason"]
    police = world.client.post(f"{url}/dispatch", headers=wang, json={"department": "police"})
    assert police.status_code == 400 and "fire, gas, market, emergency" in police.json()["reason"]
    long_note = world.client.post(f"{url}/resolve", headers=wang, json={"note": "x" * 501})
    assert long_note.status_code == 400
    assert world.client.post(f"{url}/resolve", headers=wang).status_code == 200
    for step, body in (("ack", None), ("dispatch", {"department": "fire"}), ("resolve", None)):
        resp = world.client.post(f"{url}/{step}", headers=wang, json=body)
        assert resp.status_code == 409 and "。The alarm is resolved: " in resp.json()["reason"], step
    history = world.client.get(url, headers=wang).json()["history"]
    assert [s["status"] for s in history] == ["open", "acknowledged", "resolved"]  # refusals left no trace
    for missing in ("S0001:alarm:01JE0000000000000000000000", "S0001:hazard:x", "nonsense"):
        resp = world.client.post(f"/api/office/alarms/{missing}/ack", headers=wang)
        assert resp.status_code == 404 and resp.json()["error"] == "not_found", missing
        assert world.client.get(f"/api/office/alarms/{missing}", headers=wang).status_code == 404


@sqlite_only("world")
def test_only_the_office_drives_alarms(world: World) -> None:
    alarm = raise_alarm(world, "S0001", "2026-03-02T10:00:00+08:00")
    zhou = world.login("zhou", "zhou-password")
    code = world.client.post("/api/shops/S0001/activation", headers=zhou).json()["code"]
    owner_login = world.client.post("/api/auth/activate", json={"shop": "S0001", "code": code, "pin": "246810"})
    owner = {"Authorization": "Bearer " + owner_login.json()["token"]}
    calls = [
        ("GET", "/api/office/alarms?status=open"),
        ("GET", f"/api/office/alarms/{alarm}"),
        ("GET", "/api/office/alarms/stream"),
        ("POST", f"/api/office/alarms/{alarm}/ack"),
        ("POST", f"/api/office/alarms/{alarm}/dispatch"),
        ("POST", f"/api/office/alarms/{alarm}/resolve"),
        ("GET", "/api/office/webhook/deliveries"),
    ]
    for method, url in calls:
        assert world.client.request(method, url).status_code == 401, url
        assert world.client.request(method, url, headers={"Authorization": "Bearer nonsense"}).status_code == 401
        for someone in (zhou, owner):
            resp = world.client.request(method, url, headers=someone)
            assert resp.status_code == 403 and resp.json()["error"] == "forbidden", url
    assert world.client.get(f"/api/office/alarms/{alarm}", headers=zhou).status_code == 403
    assert world.client.get(f"/api/office/alarms/{alarm}", headers=world.admin()).json()["status"] == "open"


def test_an_alarm_another_process_wrote_reaches_the_queue(world: World) -> None:
    """No `on_alarm` call: the index follows the store's changes feed (another gateway, the validator worker)."""
    alarm = raise_alarm(world, "S0002", "2026-03-02T10:00:00+08:00", notify=False)
    headers = office(world)
    deadline = time.monotonic() + 10
    while alarm not in listed(world, "?status=open", headers):
        assert time.monotonic() < deadline, "the alarm never reached the queue"
        time.sleep(0.05)


async def test_a_start_takes_the_alarm_index_from_its_snapshot_and_reads_the_feed_from_there(store: Store) -> None:
    """The index a stopped server kept, with the feed read from its seq on: the same index as a read of the whole
    feed, with the alarms raised, changed and withdrawn meanwhile, and without reading the feed from the start."""
    kept, changed, withdrawn = (alarm_doc(shop, "2026-03-02T10:00:00+08:00") for shop in ("S0001", "S0002", "S0003"))
    await write(store, kept, changed, withdrawn)
    alarms = Alarms(store)
    await alarms.start()
    await alarms.ready()
    await alarms.stop()  # keeps the snapshot
    found = await load_snapshot(store, SNAPSHOT_DOC)
    assert found is not None
    snapshot, saved = found
    assert set(saved) == {kept["_id"], changed["_id"], withdrawn["_id"]}

    stored = {doc["_id"]: await read(store, doc["_id"]) for doc in (changed, withdrawn)}
    late = alarm_doc("S0001", "2026-03-05T10:00:00+08:00")
    assert all(
        a.get("ok")
        for a in await store.bulk_docs(
            [
                {**stored[changed["_id"]], "status": "acknowledged"},
                {"_id": withdrawn["_id"], "_rev": stored[withdrawn["_id"]]["_rev"], "_deleted": True},
                late,
            ]
        )
    )

    asked: list[Any] = []
    real_changes = store.changes

    async def changes(query: ChangesQuery) -> Any:
        asked.append(query.since)
        return await real_changes(query)

    again = Alarms(store)
    store.changes = changes  # type: ignore[method-assign]
    try:
        await again.start()
        await again.ready()
    finally:
        store.changes = real_changes  # type: ignore[method-assign]
        await again.stop()
    assert asked[0] == snapshot["seq"] != 0  # from the snapshot's seq, not from the start

    await store.delete_local(SNAPSHOT_DOC, (await store.get_local(SNAPSHOT_DOC))["_rev"])
    whole = Alarms(store)
    await whole.start()
    await whole.ready()
    await whole.stop()
    epoch = datetime(2000, 1, 1, tzinfo=UTC)
    assert again.created_since(epoch) == whole.created_since(epoch)
    assert set(again.created_since(epoch)) == {kept["_id"], changed["_id"], late["_id"]}
    assert again.counts() == whole.counts() == {**dict.fromkeys(STATUSES, 0), "open": 2, "acknowledged": 1}


async def test_of_several_gateways_one_keeps_the_snapshot_every_few_minutes(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every gateway of one database follows the same feed to the same index: one snapshot every few minutes is
    all a start needs, not one from each gateway (they grow with the district's alarms)."""
    await write(store, alarm_doc("S0001", "2026-03-02T10:00:00+08:00"))
    first, second = Alarms(store), Alarms(store)
    await first.start()
    await first.ready()  # the first to load keeps the snapshot
    while (kept := await read_local(store, SNAPSHOT_DOC)) is None:
        await asyncio.sleep(0.01)
    await write(store, alarm_doc("S0002", "2026-03-03T10:00:00+08:00"))
    await second.start()
    await second.ready()
    await second._save(periodic=True)  # what its follow loop does after five minutes
    assert (await store.get_local(SNAPSHOT_DOC))["writer"] == kept["writer"]
    monkeypatch.setattr(alarms_module, "SNAPSHOT_EVERY", 0.0)  # the other's is too old now
    await second._save(periodic=True)
    assert (await store.get_local(SNAPSHOT_DOC))["writer"] != kept["writer"]
    await first.stop()
    await second.stop()


async def test_the_index_reads_the_alarms_of_a_busy_embedded_store_without_its_events(tmp_path: Path) -> None:
    """A push's events are most of a busy feed, and the index wants its alarms and hazards alone: the embedded
    store leaves the events out of what it reads (`ChangesQuery.types`), where each was a row built and looked at,
    and an alarm among them still reaches the index at once."""
    store = await SqliteStore.open(tmp_path)
    alarms = Alarms(store)
    rows: list[str] = []
    real_changes = store.changes

    async def changes(query: ChangesQuery) -> Any:
        feed = await real_changes(query)
        rows.extend(row["id"] for row in feed["results"])
        return feed

    store.changes = changes  # type: ignore[method-assign]
    try:
        await alarms.start()
        await alarms.ready()
        alarm = alarm_doc("S0002", "2026-03-02T10:00:00+08:00")
        for batch in range(3):
            events = [{"_id": f"S0001:self_check:{batch}{i:03d}", "type": "self_check"} for i in range(100)]
            await write(store, *events, *([alarm] if batch == 1 else []))
        deadline = time.monotonic() + 10
        while alarm["_id"] not in alarms.created_since(datetime(2000, 1, 1, tzinfo=UTC)):
            assert time.monotonic() < deadline, "the alarm never reached the index"
            await asyncio.sleep(0.05)
        # The alarm, and at most one row per longpoll that waited for a change of any kind.
        assert alarm["_id"] in rows and len(rows) < 20, len(rows)
    finally:
        await alarms.stop()
        store.changes = real_changes  # type: ignore[method-assign]
        await store.close()
