"""`mashang demo`: a small district whose logins work, whose scopes match the logins file, and which the same
seed builds again identically."""

from __future__ import annotations

import asyncio
import json
import random
import re
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from server.alarms import SNAPSHOT_DOC as ALARMS_SNAPSHOT
from server.app import create_app
from server.cli import main
from server.demo.build import MARKER, Options, months_before
from server.demo.desk import FIRE_ITEMS
from server.demo.district import plan_district
from server.demo.history import TZ, ShopHistory
from server.demo.names import chinese_number
from server.ids import new_ulid, seeded_ulid
from server.models import EVENT_TYPES, default_rules, default_template, parse_event
from server.models.common import ULID
from server.models.registry import Contact, clean_phone
from server.office.facts import Facts
from server.registry import Registry
from server.settings import Settings
from server.store import open_store
from server.store.protocol import AllDocsQuery, GetOptions
from server.store.snapshots import load_snapshot
from server.validators.snapshot import OFFICE_FACTS as FACTS_SNAPSHOT

SMALL = ["--shops", "40", "--grid-workers", "4", "--months", "2", "--today", "2026-03-02"]


def build(data: Path, seed: int = 7) -> int:
    return main(["demo", "--data", str(data), "--seed", str(seed), *SMALL])


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("demo") / "data"
    assert build(data) == 0
    return data


@pytest.fixture(scope="module")
def logins(district: Path) -> dict[str, Any]:
    logins: dict[str, Any] = json.loads((district / "logins.json").read_text(encoding="utf-8"))
    return logins


@pytest.fixture
def client(district: Path) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(data_dir=district)), raise_server_exceptions=False) as client:
        yield client


def all_docs(data: Path) -> dict[str, dict[str, Any]]:
    async def read() -> dict[str, dict[str, Any]]:
        store = await open_store(Settings(data_dir=data))
        try:
            rows = (await store.all_docs(AllDocsQuery(include_docs=True)))["rows"]
            return {row["id"]: row["doc"] for row in rows}
        finally:
            await store.close()

    return asyncio.run(read())


def attachment(data: Path, doc_id: str) -> tuple[dict[str, Any], bytes]:
    async def read() -> tuple[dict[str, Any], bytes]:
        store = await open_store(Settings(data_dir=data))
        try:
            doc = await store.get(doc_id, GetOptions())
            body = await store.read_attachment(doc_id, "photo.jpg")
            return doc, b"".join([chunk async for chunk in body.chunks])
        finally:
            await store.close()

    return asyncio.run(read())


def test_the_logins_file_has_the_promised_shape(logins: dict[str, Any]) -> None:
    assert set(logins) == {"office", "grid_workers", "owners"}
    assert [set(u) for u in logins["office"]] == [{"username", "password"}, {"username", "password", "subdistrict"}]
    assert [(u["username"], u.get("subdistrict")) for u in logins["office"]] == [
        ("office", None),
        ("anjian", "minglou"),
    ]
    assert len(logins["grid_workers"]) == 4
    assert all(set(w) == {"username", "password", "shops"} for w in logins["grid_workers"])
    assert all(re.fullmatch(r"[a-z]+\d\d", w["username"]) for w in logins["grid_workers"])
    assert all(len(w["password"]) >= 16 for w in (*logins["office"], *logins["grid_workers"]))
    assert all(set(o) == {"shop", "pin"} and re.fullmatch(r"\d{6}", o["pin"]) for o in logins["owners"])
    every_shop = {f"S{n:04d}" for n in range(1, 41)}
    assert set().union(*(w["shops"] for w in logins["grid_workers"])) == every_shop
    assert {o["shop"] for o in logins["owners"]} <= every_shop


def test_office_grid_worker_and_owner_sign_in_with_the_listed_secrets(
    client: TestClient, logins: dict[str, Any]
) -> None:
    office = logins["office"][0]
    resp = client.post("/api/auth/login", json=office)
    assert resp.status_code == 200, resp.text
    assert resp.json()["user"]["role"] == "office"
    worker = logins["grid_workers"][0]
    resp = client.post("/api/auth/login", json={"username": worker["username"], "password": worker["password"]})
    assert resp.status_code == 200 and resp.json()["user"]["id"] == f"grid:{worker['username']}"
    owner = logins["owners"][0]
    resp = client.post("/api/auth/owner", json=owner)
    assert resp.status_code == 200 and resp.json()["user"]["id"] == f"owner:{owner['shop']}"
    assert client.post("/api/auth/login", json={**office, "password": "not-the-password"}).status_code == 401
    # The sub-district's own office account: the same shops as the district's, and the rules to read only.
    district = {"Authorization": "Bearer " + client.post("/api/auth/login", json=office).json()["token"]}
    own = logins["office"][1]
    signed_in = client.post("/api/auth/login", json={"username": own["username"], "password": own["password"]}).json()
    assert signed_in["user"]["subdistrict"] == "minglou"
    mine = {"Authorization": "Bearer " + signed_in["token"]}
    totals = [client.get("/api/office/shops?limit=1", headers=h).json()["total"] for h in (district, mine)]
    assert totals[0] == totals[1] > 0
    assert client.put("/api/office/rules", json={}, headers=mine).status_code == 403


def test_each_grid_worker_replicates_exactly_the_shops_listed_for_them(
    client: TestClient, logins: dict[str, Any]
) -> None:
    for worker in logins["grid_workers"]:
        resp = client.post("/api/auth/login", json={"username": worker["username"], "password": worker["password"]})
        headers = {"Authorization": "Bearer " + resp.json()["token"]}
        changes = client.get("/sync/_changes", headers=headers)
        assert changes.status_code == 200
        partitions = {row["id"].split(":", 1)[0] for row in changes.json()["results"]}
        assert partitions == {*worker["shops"], "district"}


def test_the_history_is_valid_events_with_real_photos(district: Path) -> None:
    docs = all_docs(district)
    events = [doc for doc in docs.values() if doc.get("type") in EVENT_TYPES]
    kinds = {doc["type"] for doc in events}
    assert kinds == set(EVENT_TYPES)  # self-checks, patrols, photos, rectifications and verifications
    for doc in events:
        event = parse_event(doc)
        assert event.shop == event.partition
        assert event.performed_at.isoformat() < "2026-03-02"
    findings = [f for doc in events if doc["type"] == "patrol" for f in doc["findings"]]
    assert findings and {f["severity"] for f in findings} <= {"general", "major", "serious"}
    photo = next(doc for doc in events if doc["type"] == "photo")
    stored, body = attachment(district, photo["_id"])
    assert stored["_attachments"]["photo.jpg"]["content_type"] == "image/jpeg"
    assert body.startswith(b"\xff\xd8\xff") and body.endswith(b"\xff\xd9")
    assert photo["_id"].encode() in body  # the comment segment: no two photos alike


def test_the_same_seed_builds_the_same_district(
    district: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    again, other = tmp_path / "again", tmp_path / "other"
    assert build(again) == 0
    # While it builds (a minute or two for the default 1,500 shops) it says what it is doing, step by step.
    steps = [line.strip() for line in capsys.readouterr().err.splitlines()]
    assert steps[0].startswith("building the 明楼街道 demo district (seed 7)")
    assert steps[1] == "the registry: 40 shops in their grids, and the accounts"
    assert [re.sub(r"\d{3,}", "N", line) for line in steps if not line.endswith("% written")][2:] == [
        "2 months of self-checks, patrols and photos",
        "writing the N events, as the phones would",
        "scores, hazards, alarms and rankings from the events, and the office's work at the alarm desk",
        "the red/black lists the office published (公示), each on the 2nd of the month after",
        "the office's view and alarm index, for a quick first start",
    ]
    assert (again / "logins.json").read_text(encoding="utf-8") == (district / "logins.json").read_text(encoding="utf-8")
    first, second = built(all_docs(district)), built(all_docs(again))
    assert first.keys() == second.keys()
    events = [doc_id for doc_id, doc in first.items() if doc["type"] in EVENT_TYPES]
    assert len(events) > 100
    assert all(first[doc_id] == second[doc_id] for doc_id in events)
    shops = [doc_id for doc_id, doc in first.items() if doc["type"] == "shop"]
    assert len(shops) == 40 and all(first[doc_id].get("contact") == second[doc_id].get("contact") for doc_id in shops)
    assert build(other, seed=8) == 0
    assert (other / "logins.json").read_text(encoding="utf-8") != (district / "logins.json").read_text(encoding="utf-8")


def test_most_shops_have_a_person_in_charge_and_a_made_up_phone_and_some_have_none(
    client: TestClient, logins: dict[str, Any]
) -> None:
    """The demo's shops have a 负责人 and a phone the office sees (an obviously made-up 138-0000-xxxx number, one per
    shop, as the registry writes it), but for a few the survey gave none: the office's screens say 未登记 for them."""
    office = client.post("/api/auth/login", json=logins["office"][0]).json()
    headers = {"Authorization": "Bearer " + office["token"]}
    items = client.get("/api/office/registry/shops", headers=headers).json()["items"]
    contacts = {shop["code"]: shop["contact"] for shop in items}
    assert len(contacts) == 40
    known = {code: c for code, c in contacts.items() if c is not None}
    assert 0.7 * len(contacts) <= len(known) < len(contacts)  # most, not all
    for code, contact in known.items():
        assert Contact.model_validate(contact).model_dump() == contact
        assert contact["phone"] == clean_phone(contact["phone"]) == f"138-0000-{code[1:]}"
        assert re.fullmatch(r"[\u4e00-\u9fff]{2,3}", contact["name"])
    # Drawn from the seed: the same seed plans the same people, another seed others.
    assert [s.contact for s in plan_district(7, 40, 4).shops] == [contacts[f"S{n:04d}"] for n in range(1, 41)]
    assert [s.contact for s in plan_district(8, 40, 4).shops] != [contacts[f"S{n:04d}"] for n in range(1, 41)]
    # Searched for by the person's name (the office's shop search finds a contact).
    code, contact = next(iter(known.items()))
    found = client.get("/api/office/shops", params={"q": contact["name"]}, headers=headers).json()["items"]
    assert code in {row["code"] for row in found}


def test_a_second_run_changes_nothing(district: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = all_docs(district)
    assert build(district, seed=99) == 0
    out = capsys.readouterr().out
    assert f"the demo district already exists in {district} (seed 7)" in out
    assert f"logins: {district / 'logins.json'}" in out
    assert all_docs(district) == before


def test_seeded_ulids_repeat_with_the_seed_and_sort_by_time() -> None:
    first = [seeded_ulid(ms, random.Random(1)) for ms in (0, 1_700_000_000_000, 2**48 - 1)]
    assert first == [seeded_ulid(ms, random.Random(1)) for ms in (0, 1_700_000_000_000, 2**48 - 1)]
    assert first == sorted(first) and all(re.fullmatch(ULID, u) for u in first)
    assert new_ulid(1_700_000_000_000)[:10] == first[1][:10] != new_ulid()[:10]


def built(docs: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """What the demo wrote: events, registry, shared documents and users; not what serving it added since
    (projections, sign-in audit entries)."""
    kinds = {*EVENT_TYPES, "shop", "community", "grid", "template", "rules", "user"}
    return {doc_id: doc for doc_id, doc in docs.items() if doc.get("type") in kinds}


def test_sizes_that_cannot_make_a_district_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--data", str(tmp_path / "d"), "--shops", "1", "--grid-workers", "5"]) == 2
    assert "at least one shop per two workers" in capsys.readouterr().err


def test_a_district_it_did_not_build_or_did_not_finish_is_left_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async def prepare(data: Path, marker: dict[str, Any] | None) -> None:
        store = await open_store(Settings(data_dir=data))
        try:
            if marker is None:
                await Registry(store).put_community("wensan", "文三社区", "minglou")
            else:
                await store.put_local(MARKER, marker)
        finally:
            await store.close()

    office, interrupted = tmp_path / "office", tmp_path / "interrupted"
    asyncio.run(prepare(office, None))
    assert build(office) == 0
    assert f"a district already exists in {office} (not one the demo built)" in capsys.readouterr().out
    assert not (office / "logins.json").exists()
    asyncio.run(prepare(interrupted, {"complete": False, "seed": 7}))
    assert build(interrupted) == 2
    assert "did not finish; remove it and run again" in capsys.readouterr().err


def test_thirteen_months_of_history_with_diligent_absent_and_repeat_offending_shops() -> None:
    """The history itself (no store): the default length, the kinds of owners, the platform settling in."""
    assert Options().months == 13
    today = date(2026, 11, 28)
    start = datetime.combine(months_before(today, 13), datetime.min.time(), TZ)
    end = datetime.combine(today, datetime.min.time(), TZ)
    district = plan_district(3, 120, 6)
    per_shop: dict[str, Counter[str]] = {}
    patrol_months: Counter[str] = Counter()
    for shop in district.shops:
        events = ShopHistory(3, shop, district.worker(shop.patroller), default_template(), default_rules(), start, end)
        counts: Counter[str] = Counter()
        for event in events.run():
            counts[event.doc["type"]] += 1
            counts["findings"] += len(event.doc.get("findings", ()))
            if event.doc["type"] == "patrol":
                patrol_months[event.doc["performed_at"][:7]] += 1
        per_shop[shop.code] = counts
    weeks = (end - start).days / 7
    owners = {shop.code: shop.owner for shop in district.shops}
    never = [c for c, o in owners.items() if o.weekly == 0]
    diligent = [c for c, o in owners.items() if o.weekly > 0.9]
    offenders = [c for c, o in owners.items() if o.repeat_offender]
    assert never and diligent and offenders
    assert all(per_shop[c]["self_check"] == 0 for c in never)
    assert all(per_shop[c]["self_check"] > 0.7 * weeks for c in diligent)

    def mean_findings(codes: list[str]) -> float:
        return sum(per_shop[c]["findings"] for c in codes) / len(codes)

    others = [c for c in owners if c not in offenders]
    assert mean_findings(offenders) > 2 * mean_findings(others)
    # A year ago grid workers patrolled far less than now (the seed's "patrol rate +50 % on last year").
    assert patrol_months["2025-11"] * 1.3 < patrol_months["2026-10"]


def test_the_office_worked_the_years_alarms_and_left_the_last_days_open(district: Path) -> None:
    """The demo's alarm desk is a desk at work: alarms raised more than 3 days before the last day of history were
    acknowledged, dispatched to the department their items call for and resolved by an office user, in that order
    and after they were raised; the recent ones wait on the desk."""
    alarms = [doc for doc_id, doc in all_docs(district).items() if ":alarm:" in doc_id]
    assert alarms, "the history raised no alarm"
    cutoff = date(2026, 3, 1) - timedelta(days=3)  # the last day of history is the day before --today
    for alarm in alarms:
        raised = datetime.fromisoformat(alarm["created_at"])
        steps = [step["status"] for step in alarm["history"]]
        if raised.date() > cutoff:
            assert steps == ["open"] and alarm["status"] == "open"
            continue
        assert steps == ["open", "acknowledged", "dispatched", "resolved"] and alarm["status"] == "resolved"
        times = [datetime.fromisoformat(step["at"]) for step in alarm["history"]]
        assert times == sorted(times) and times[0] == raised
        assert {step["by"] for step in alarm["history"][1:]} <= {"office:office", "office:anjian"}
        items = {item["item"] for item in alarm["items"]}
        assert alarm["department"] == ("gas" if "gas_safe" in items else "fire" if items & FIRE_ITEMS else "market")


def test_the_first_start_finds_the_office_view_and_alarm_index_ready(district: Path) -> None:
    """The demo keeps the office's view and alarm index as their snapshots, worked desk included: the first start
    reads neither every shop nor the whole feed (its first dashboard took 32 s on `make run`'s 1,500 shops)."""
    alarms = {doc_id: doc["status"] for doc_id, doc in all_docs(district).items() if ":alarm:" in doc_id}
    assert alarms

    async def check() -> None:
        store = await open_store(Settings(data_dir=district))
        try:
            found = [await load_snapshot(store, name) for name in (FACTS_SNAPSHOT, ALARMS_SNAPSHOT)]
            assert None not in found
            [(_, facts), (_, index)] = found  # type: ignore[misc]
            assert len(facts) == len(plan_district(7, 40, 4).shops)
            view = await Facts(store).view()  # from the snapshot, and equal to a read of every shop
            await store.delete_local(FACTS_SNAPSHOT, (await store.get_local(FACTS_SNAPSHOT))["_rev"])
            read = await Facts(store).view()
            assert {code: s.facts for code, s in view.shops.items()} == {
                code: s.facts for code, s in read.shops.items()
            }
            assert {alarm_id: status for alarm_id, (status, *_) in index.items()} == alarms
        finally:
            await store.close()

    asyncio.run(check())


def test_the_finished_months_lists_are_published_but_the_last_one_is_left_to_the_office(
    district: Path, client: TestClient
) -> None:
    """The public cards show a published list (公示) from the start, and the office's month-end step, publishing the
    month just ended, is there to do: January is published on 2 February, February (ended on the build day's eve)
    is not."""
    docs = all_docs(district)
    published = {doc_id: doc for doc_id, doc in docs.items() if doc_id.startswith("office:publication:")}
    assert sorted(published) == ["office:publication:minglou:2026-01"]
    january = published["office:publication:minglou:2026-01"]
    assert january["published_at"] == "2026-02-02T09:30:00+08:00" and january["published_by"] == "office:office"
    assert "office:ranking:minglou:2026-02" in docs  # there to publish
    listed = next(entry for entry in january["entries"] if entry["list"] in ("red", "black"))
    card = client.get(f"/api/public/shops/{listed['shop']}").json()
    assert (card["list"], card["list_month"]) == (listed["list"], "2026-01")


@pytest.mark.parametrize(
    ("n", "said"),
    [
        *[(1, "一"), (10, "十"), (12, "十二"), (23, "二十三"), (100, "一百"), (101, "一百零一"), (110, "一百一十")],
        *[(1005, "一千零五"), (1050, "一千零五十"), (10012, "一万零一十二"), (20305, "二万零三百零五")],
    ],
)
def test_grids_are_numbered_in_chinese_past_ninety_nine(n: int, said: str) -> None:
    assert chinese_number(n) == said


def test_a_city_districts_communities_have_more_than_ninety_nine_grids_each_named_once() -> None:
    """A district of 30,000 shops (`mashang demo --shops 30000`, the replay benchmark's city district) has communities
    of more than 99 grids: naming the 100th was an IndexError."""
    grids = plan_district(1, 30_000, round(30_000 / 19)).grids
    names = [grid.name for grid in grids]
    assert len(set(names)) == len(names)
    assert any(name.endswith("第一百零一网格") for name in names)
