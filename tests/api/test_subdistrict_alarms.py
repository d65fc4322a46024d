"""A sub-district's office (街道安监所) has the alarms, reward points, refused documents and devices of its own
shops only: lists and their counts hold no other sub-district's, a named one of another sub-district is a 403 (a
shop or community: the 404 of an unknown one) that changes nothing, its live stream is silent about other
sub-districts' alarms, and the webhook is the district's.

The world: 明楼 (minglou, community 文三 with S0001-S0003, grid workers zhou and li) and 西溪 (xihu, community 西溪
with T0001, grid worker qian); office accounts sun (xihu), zhao (minglou) and wang (the whole district)."""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from server.api import alarms as alarm_api
from server.api import office as office_api
from server.app import create_app
from server.auth import Principal
from server.quarantine import Refusal, entry
from server.settings import Settings
from tests.api.conftest import SECRET, World, open_world
from tests.api.live import serve
from tests.api.projections import alarm_doc, write
from tests.api.test_alarm_stream import ADMIN, next_event, write_alarm
from tests.worlds import shop_fields

SUN = ("sun", "sun-password")  # 西溪 (xihu)
ZHAO = ("zhao", "zhao-password")  # 明楼 (minglou)
WANG = ("wang", "wang-password")  # the district's office


def add_xihu(world: World) -> None:
    """A second sub-district (西溪, with shop T0001 and grid worker qian) and its office and 明楼's."""
    reg, acc = world.state.registry, world.state.accounts
    world.call(acc.create_staff, "grid", "qian", "qian-password", "小钱")
    world.call(reg.put_community, "xc", "西溪社区", "xihu")
    world.call(reg.put_grid, "xg", "西溪一网格", "xc", ["qian"], ["T0001"])
    world.call(reg.put_shop, shop_fields("T0001", "xg", community="xc"))
    world.call(acc.create_staff, "office", "sun", "sun-password", "孙", "xihu")
    world.call(acc.create_staff, "office", "zhao", "zhao-password", "赵", "minglou")


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    """Without the validators: the alarms in the store are exactly those the test writes."""
    with open_world(tmp_path, run_validators=False) as w:
        add_xihu(w)
        yield w


def raise_alarm(world: World, shop: str, created_at: str) -> str:
    doc = alarm_doc(shop, created_at)
    world.call(write, world.state.store, doc)
    world.call(world.state.alarms.notify, doc)
    return str(doc["_id"])


def get(world: World, who: tuple[str, str], url: str) -> Any:
    return world.client.get(url, headers=world.login(*who))


def body_of(world: World, who: tuple[str, str], url: str) -> dict[str, Any]:
    resp = get(world, who, url)
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


def ids(body: dict[str, Any], key: str = "_id") -> list[str]:
    return [str(item[key]) for item in body["items"]]


def paged(world: World, path: str, query: str, headers: dict[str, str]) -> list[dict[str, Any]]:
    """Every page of a list, following its `next` (the `before` of the following page)."""
    bodies: list[dict[str, Any]] = []
    url = f"{path}?{query}"
    while True:
        body: dict[str, Any] = world.client.get(url, headers=headers).json()
        bodies.append(body)
        if body["next"] is None:
            return bodies
        url = f"{path}?{query}&before={body['next']}"


def assert_missing(resp: Any, reason: str) -> None:
    """A 404 as of a thing there is not."""
    assert (resp.status_code, resp.json()) == (404, {"error": "not_found", "reason": reason}), resp.text


def assert_forbidden(resp: Any) -> None:
    """A 403 of 西溪's office, with its reason."""
    assert resp.status_code == 403, resp.text
    assert resp.json()["error"] == "forbidden" and "xihu" in resp.json()["reason"]


# ----- the alarm queue -----


def test_each_office_lists_and_counts_the_alarms_of_its_own_shops(world: World) -> None:
    ours = raise_alarm(world, "T0001", "2026-03-01T09:00:00+08:00")
    theirs = raise_alarm(world, "S0001", "2026-03-02T09:00:00+08:00")
    acked = raise_alarm(world, "S0002", "2026-03-03T09:00:00+08:00")
    wang = world.login(*WANG)
    assert world.client.post(f"/api/office/alarms/{acked}/ack", headers=wang).status_code == 200

    sun = body_of(world, SUN, "/api/office/alarms")
    assert ids(sun) == [ours]
    assert sun["counts"] == {"open": 1, "acknowledged": 0, "dispatched": 0, "resolved": 0}
    zhao = body_of(world, ZHAO, "/api/office/alarms")
    assert ids(zhao) == [acked, theirs]
    assert zhao["counts"] == {"open": 1, "acknowledged": 1, "dispatched": 0, "resolved": 0}
    assert ids(body_of(world, ZHAO, "/api/office/alarms?status=open")) == [theirs]
    assert ids(body_of(world, SUN, "/api/office/alarms?status=acknowledged")) == []
    everyone = body_of(world, WANG, "/api/office/alarms")
    assert ids(everyone) == [acked, theirs, ours]
    assert everyone["counts"] == {"open": 2, "acknowledged": 1, "dispatched": 0, "resolved": 0}


def test_a_sub_districts_pages_hold_its_alarms_and_lead_on_to_the_next(world: World) -> None:
    """Other sub-districts' alarms between and after its own neither shorten a page nor end the paging early."""
    start = datetime.fromisoformat("2026-03-01T08:00:00+08:00")
    ours: list[str] = []
    for n in range(5):
        ours.append(raise_alarm(world, "T0001", (start + timedelta(hours=3 * n)).isoformat()))
        raise_alarm(world, "S0001", (start + timedelta(hours=3 * n + 1)).isoformat())
        raise_alarm(world, "S0003", (start + timedelta(hours=3 * n + 2)).isoformat())
    bodies = paged(world, "/api/office/alarms", "status=open&limit=2", world.login(*SUN))
    assert all(body["counts"]["open"] == 5 for body in bodies)
    assert [ids(body) for body in bodies] == [ours[:2:-1], ours[2:0:-1], ours[:1]]


def test_another_sub_districts_alarm_is_a_403_and_is_left_as_it_was(world: World) -> None:
    ours = raise_alarm(world, "T0001", "2026-03-01T09:00:00+08:00")
    theirs = raise_alarm(world, "S0001", "2026-03-02T09:00:00+08:00")
    sun = world.login(*SUN)
    assert_forbidden(world.client.get(f"/api/office/alarms/{theirs}", headers=sun))
    for step, body in (("ack", None), ("dispatch", {"department": "gas"}), ("resolve", {"note": "已整改"})):
        assert_forbidden(world.client.post(f"/api/office/alarms/{theirs}/{step}", headers=sun, json=body))
    # An alarm of another sub-district's shop that does not exist is a 403 too: nothing told about its shop.
    assert_forbidden(world.client.get("/api/office/alarms/S0002:alarm:01JE0000000000000000000000", headers=sun))
    shown = body_of(world, WANG, f"/api/office/alarms/{theirs}")
    assert shown["status"] == "open" and [s["status"] for s in shown["history"]] == ["open"]
    # Paging from it tells nothing either: it is as unknown as an alarm that does not exist (it answered 200).
    for cursor in (theirs, "S0001:alarm:01JE0000000000000000000000"):
        paged = world.client.get(f"/api/office/alarms?before={cursor}", headers=sun)
        assert paged.status_code == 400 and paged.json()["reason"].startswith("before:"), paged.text
    assert world.client.get(f"/api/office/alarms?before={ours}", headers=sun).status_code == 200

    # Its own alarms it handles as the district's office does; 明楼's office may not touch 西溪's.
    resp = world.client.post(f"/api/office/alarms/{ours}/ack", headers=sun, json={"note": "收到"})
    assert resp.status_code == 200 and resp.json()["history"][-1]["by"] == "office:sun"
    assert body_of(world, SUN, f"/api/office/alarms/{ours}")["status"] == "acknowledged"
    zhao = world.login(*ZHAO)
    refused = world.client.post(f"/api/office/alarms/{ours}/resolve", headers=zhao)
    assert refused.status_code == 403 and "minglou" in refused.json()["reason"]
    assert world.client.post(f"/api/office/alarms/{theirs}/ack", headers=zhao).status_code == 200
    assert body_of(world, WANG, f"/api/office/alarms/{ours}")["status"] == "acknowledged"


def test_the_webhooks_delivery_log_is_the_district_offices(world: World) -> None:
    assert_forbidden(get(world, SUN, "/api/office/webhook/deliveries"))
    assert get(world, ZHAO, "/api/office/webhook/deliveries").status_code == 403
    assert get(world, WANG, "/api/office/webhook/deliveries").status_code == 200


# ----- the live stream -----


def login(url: str, who: tuple[str, str]) -> dict[str, str]:
    resp = httpx.post(f"{url}/api/auth/login", json={"username": who[0], "password": who[1]})
    assert resp.status_code == 200, resp.text
    return {"Authorization": "Bearer " + resp.json()["token"]}


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[str]:
    """The world served over a real connection (an in-process client cannot read a stream as it is written)."""
    with open_world(tmp_path, run_validators=False) as w:
        add_xihu(w)
    with serve(create_app(Settings(data_dir=tmp_path / "data", secret=SECRET, run_validators=False))) as url:
        yield url


def test_a_sub_districts_stream_carries_its_own_alarms_only(gateway: str) -> None:
    sun, zhao, wang = login(gateway, SUN), login(gateway, ZHAO), login(gateway, WANG)
    stream_url = f"{gateway}/api/office/alarms/stream"
    theirs = alarm_doc("S0001", "2026-03-02T10:00:00+08:00")
    ours = alarm_doc("T0001", "2026-03-02T11:00:00+08:00")
    with (
        httpx.Client(timeout=httpx.Timeout(10.0)) as client,
        client.stream("GET", stream_url, headers=sun) as sun_stream,
        client.stream("GET", stream_url, headers=zhao) as zhao_stream,
        client.stream("GET", stream_url, headers=wang) as wang_stream,
    ):
        heard = {
            name: s.iter_lines() for name, s in (("sun", sun_stream), ("zhao", zhao_stream), ("wang", wang_stream))
        }
        for lines in heard.values():
            assert next_event(lines)["retry"] == "3000"
        write_alarm(gateway, theirs)
        write_alarm(gateway, ours)

        ids: dict[str, list[str]] = {name: [] for name in heard}

        def alarms(name: str, n: int) -> list[tuple[str, str]]:
            events = [next_event(heard[name]) for _ in range(n)]
            ids[name] += [event["id"] for event in events]
            found = [orjson.loads(event["data"]) for event in events]
            return [(data["change"], data["alarm"]["_id"]) for data in found]

        assert alarms("wang", 2) == [("new", theirs["_id"]), ("new", ours["_id"])]
        assert alarms("sun", 1) == [("new", ours["_id"])]  # 明楼's alarm, written first, never came
        assert alarms("zhao", 1) == [("new", theirs["_id"])]
        assert httpx.post(f"{gateway}/api/office/alarms/{theirs['_id']}/ack", headers=wang).status_code == 200
        assert httpx.post(f"{gateway}/api/office/alarms/{ours['_id']}/ack", headers=wang).status_code == 200
        assert alarms("sun", 1) == [("changed", ours["_id"])]
        assert alarms("zhao", 1) == [("changed", theirs["_id"])]
        assert alarms("wang", 2) == [("changed", theirs["_id"]), ("changed", ours["_id"])]
        # The district's office heard the same events by the same ids; a sub-district's ids say nothing of the
        # alarms between two of its own (a counter showed how many the other sub-district had).
        assert set(ids["sun"]) | set(ids["zhao"]) == set(ids["wang"]) and len(set(ids["wang"])) == 4
        # Each id ends in 12 random hex digits, not a count. (It checked "not all digits", which 12 random hex digits
        # are once in ~280 ids: a fresh-clone run failed on 296063480025.)
        assert all(re.fullmatch(r"[0-9a-f]{12}", event_id.rpartition("-")[2]) for event_id in ids["wang"]), ids["wang"]
    # Reconnecting after it, 西溪's office is replayed its own missed events only.
    first_id = None
    with (
        httpx.Client(timeout=httpx.Timeout(10.0)) as client,
        client.stream("GET", stream_url, headers=wang) as wang_stream,
    ):
        lines = wang_stream.iter_lines()
        next_event(lines)
        write_alarm(gateway, alarm_doc("S0002", "2026-03-02T12:00:00+08:00"))
        first_id = next_event(lines)["id"]
        later = alarm_doc("T0001", "2026-03-02T13:00:00+08:00")
        write_alarm(gateway, later)
        write_alarm(gateway, alarm_doc("S0003", "2026-03-02T14:00:00+08:00"))
        next_event(lines)
        next_event(lines)
    with (
        httpx.Client(timeout=httpx.Timeout(10.0)) as client,
        client.stream("GET", stream_url, headers={**sun, "Last-Event-ID": first_id}) as sun_stream,
    ):
        lines = sun_stream.iter_lines()
        next_event(lines)
        replayed = orjson.loads(next_event(lines)["data"])
        assert replayed["alarm"]["_id"] == later["_id"]
        write_alarm(gateway, alarm_doc("S0001", "2026-03-02T15:00:00+08:00"))
        last = alarm_doc("T0001", "2026-03-02T16:00:00+08:00")
        write_alarm(gateway, last)
        assert orjson.loads(next_event(lines)["data"])["alarm"]["_id"] == last["_id"]  # S0003's, S0001's: not sent


def move(url: str, shop: str, community: str) -> None:
    """The registry's shop moved to another community (and so perhaps another sub-district)."""
    doc = httpx.get(f"{url}/sync/{shop}:shop:{shop}", headers=ADMIN).json()
    resp = httpx.post(f"{url}/sync/_bulk_docs", headers=ADMIN, json={"docs": [doc | {"community": community}]})
    assert resp.status_code == 201 and resp.json()[0].get("ok"), resp.text


@contextlib.contextmanager
def sun_stream(gateway: str) -> Iterator[Iterator[str]]:
    """西溪's office's alarm stream, open, its first line read: the lines that follow."""
    with (
        httpx.Client(timeout=httpx.Timeout(10.0)) as client,
        client.stream("GET", f"{gateway}/api/office/alarms/stream", headers=login(gateway, SUN)) as stream,
    ):
        lines = stream.iter_lines()
        assert next_event(lines)["retry"] == "3000"
        yield lines


def test_a_shop_moved_while_a_stream_is_open_changes_what_it_carries(
    gateway: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(alarm_api, "KEEPALIVE_SECONDS", 0.1)
    monkeypatch.setattr(alarm_api, "REACH_REFRESH_SECONDS", 0.0)  # its shops taken again at each keepalive
    with sun_stream(gateway) as lines:
        move(gateway, "T0001", "wensan")  # 西溪's shop to 明楼
        move(gateway, "S0003", "xc")  # and one of 明楼's to 西溪
        time.sleep(1.0)  # no other office reads meanwhile: the stream itself takes the move in
        gone = alarm_doc("T0001", "2026-03-02T10:00:00+08:00")
        came = alarm_doc("S0003", "2026-03-02T11:00:00+08:00")
        write_alarm(gateway, gone)
        write_alarm(gateway, came)
        assert orjson.loads(next_event(lines)["data"])["alarm"]["_id"] == came["_id"]


def test_an_alarm_of_a_shop_registered_while_a_stream_is_open_reaches_it_at_once(gateway: str) -> None:
    """A shop registered after the stream took its shops (nothing else read the office's view since): its alarm
    makes the stream look again, instead of being dropped until the next look a minute later."""
    with sun_stream(gateway) as lines:
        grid = httpx.get(f"{gateway}/sync/registry:grid:xg", headers=ADMIN).json()
        docs = [
            {"_id": "T0002:shop:T0002", "type": "shop", "schema": 1, **shop_fields("T0002", "xg", community="xc")},
            grid | {"shops": ["T0001", "T0002"]},
            {"_id": "S0009:shop:S0009", "type": "shop", "schema": 1, **shop_fields("S0009", "g1")},
        ]
        resp = httpx.post(f"{gateway}/sync/_bulk_docs", headers=ADMIN, json={"docs": docs})
        assert resp.status_code == 201 and all(a.get("ok") for a in resp.json()), resp.text
        write_alarm(gateway, alarm_doc("S0009", "2026-03-02T10:00:00+08:00"))  # not in a grid of 西溪's: not sent
        new = alarm_doc("T0002", "2026-03-02T11:00:00+08:00")
        write_alarm(gateway, new)
        started = time.monotonic()
        assert orjson.loads(next_event(lines)["data"])["alarm"]["_id"] == new["_id"]
        assert time.monotonic() - started < alarm_api.REACH_REFRESH_SECONDS / 2


# ----- reward points -----


def test_reward_balances_are_of_the_offices_own_shops(world: World) -> None:
    sun = body_of(world, SUN, "/api/office/rewards")
    assert ids(sun, "shop") == ["T0001"] and sun["totals"]["shops"] == 1
    assert sorted(ids(body_of(world, ZHAO, "/api/office/rewards"), "shop")) == ["S0001", "S0002", "S0003"]
    assert sorted(ids(body_of(world, WANG, "/api/office/rewards"), "shop")) == ["S0001", "S0002", "S0003", "T0001"]
    # Another sub-district's community or shop is answered as one there is not (tests/api/test_scope_oracles.py).
    unknown = "没有编号为 wensan 的社区。No community wensan."
    assert_missing(get(world, SUN, "/api/office/rewards?community=wensan"), unknown)
    assert ids(body_of(world, SUN, "/api/office/rewards?community=xc"), "shop") == ["T0001"]

    assert body_of(world, SUN, "/api/office/rewards/T0001")["shop"] == "T0001"
    assert_missing(get(world, SUN, "/api/office/rewards/S0001"), "没有编号为 S0001 的店铺。No shop S0001.")
    assert_missing(get(world, ZHAO, "/api/office/rewards/T0001"), "没有编号为 T0001 的店铺。No shop T0001.")
    assert_missing(get(world, SUN, "/api/office/rewards/S9999"), "没有编号为 S9999 的店铺。No shop S9999.")
    redemption = {"points": 1, "prize": "灭火器"}
    resp = world.client.post("/api/office/rewards/S0001/redemptions", headers=world.login(*SUN), json=redemption)
    assert_missing(resp, "没有编号为 S0001 的店铺。No shop S0001.")
    assert body_of(world, WANG, "/api/office/rewards/S0001")["history"] == []


# ----- the quarantine -----


def refused(world: World, user: str, doc: Any, at: datetime) -> str:
    role = user.split(":", 1)[0]
    quarantined = entry(Principal(user, role, device="d-test"), Refusal(doc, "forbidden", "not yours"), at)
    world.call(write, world.state.store, quarantined)
    return str(quarantined["_id"])


def test_the_quarantine_holds_the_entries_of_the_offices_own_shops_and_users(world: World) -> None:
    at = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
    t0001 = refused(world, "owner:T0001", {"_id": "T0001:self_check:01JE1", "type": "self_check"}, at)
    qian_none = refused(world, "grid:qian", None, at + timedelta(minutes=1))  # tied to no shop: qian's
    s0001 = refused(world, "grid:zhou", {"_id": "S0001:patrol:01JE2", "type": "patrol"}, at + timedelta(minutes=2))
    zhou_none = refused(world, "grid:zhou", None, at + timedelta(minutes=3))
    # qian (西溪) writing 明楼's shop: the entry is S0001's.
    qian_s0002 = refused(world, "grid:qian", {"_id": "S0002:patrol:01JE3"}, at + timedelta(minutes=4))
    assert ids(body_of(world, SUN, "/api/office/quarantine")) == [qian_none, t0001]
    assert ids(body_of(world, ZHAO, "/api/office/quarantine")) == [qian_s0002, zhou_none, s0001]
    assert ids(body_of(world, WANG, "/api/office/quarantine")) == [qian_s0002, zhou_none, s0001, qian_none, t0001]


def test_a_sub_districts_quarantine_comes_in_full_pages(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(office_api, "SCAN", 3)  # read in small batches, so a page spans several
    at = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
    ours: list[str] = []
    for n in range(4):
        for k in range(4):  # 明楼's entries between 西溪's
            refused(world, "grid:zhou", {"_id": f"S0001:patrol:{n}{k}"}, at + timedelta(minutes=10 * n + k))
        ours.append(refused(world, "owner:T0001", {"_id": f"T0001:self_check:{n}"}, at + timedelta(minutes=10 * n + 5)))
    ours.reverse()
    bodies = paged(world, "/api/office/quarantine", "limit=3", world.login(*SUN))
    assert [ids(body) for body in bodies] == [ours[:3], ours[3:]]


def test_every_page_of_the_quarantine_names_its_owners_by_their_shop_in_reach(world: World) -> None:
    """The screen names an owner by their shop on an older page too (the monitor names the newest page's only);
    an owner of another sub-district's shop who wrote into one of ours stays a code to that office."""
    at = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
    old = refused(world, "owner:S0002", {"_id": "S0002:self_check:01JE0"}, at)
    intruder = refused(world, "owner:T0001", {"_id": "S0001:self_check:01JE1"}, at + timedelta(minutes=1))
    for n in range(3):
        refused(world, "owner:S0001", {"_id": f"S0001:self_check:01JE{n + 2}"}, at + timedelta(minutes=2 + n))
    first, older = paged(world, "/api/office/quarantine", "limit=3", world.login(*ZHAO))
    assert first["people"] == {"owner:S0001": {"shop": "S0001", "shop_name": "小吃店S0001"}}
    assert ids(older) == [intruder, old]
    assert older["people"] == {"owner:S0002": {"shop": "S0002", "shop_name": "小吃店S0002"}}
    _, older = paged(world, "/api/office/quarantine", "limit=3", world.login(*WANG))
    assert older["people"] == {
        "owner:S0002": {"shop": "S0002", "shop_name": "小吃店S0002"},
        "owner:T0001": {"shop": "T0001", "shop_name": "小吃店T0001"},
    }
    assert body_of(world, SUN, "/api/office/quarantine")["people"] == {}  # nothing of 西溪's own in the quarantine


# ----- devices -----


def test_the_devices_are_those_of_the_offices_own_users(world: World) -> None:
    report = {"app_version": "0.1.0", "pending_docs": 0, "pending_photos": 0}
    for (user, password), device in ((("qian", "qian-password"), "d-qian"), (("zhou", "zhou-password"), "d-zhou")):
        resp = world.client.post(
            "/api/devices/report", headers=world.login(user, password), json=report | {"device": device}
        )
        assert resp.status_code == 200, resp.text
    for who, device in ((SUN, "d-sun"), (WANG, "d-wang")):
        assert (
            world.client.post(
                "/api/devices/report", headers=world.login(*who), json=report | {"device": device}
            ).status_code
            == 200
        )
    code = world.client.post("/api/shops/T0001/activation", headers=world.login(*WANG)).json()["code"]
    owner = world.client.post("/api/auth/activate", json={"shop": "T0001", "code": code, "pin": "246810"}).json()
    owner_headers = {"Authorization": "Bearer " + owner["token"]}
    assert (
        world.client.post("/api/devices/report", headers=owner_headers, json=report | {"device": "d-t0001"}).status_code
        == 200
    )

    assert sorted(ids(body_of(world, SUN, "/api/office/devices"), "device")) == ["d-qian", "d-sun", "d-t0001"]
    assert sorted(ids(body_of(world, ZHAO, "/api/office/devices"), "device")) == ["d-zhou"]
    assert sorted(ids(body_of(world, WANG, "/api/office/devices"), "device")) == [
        "d-qian",
        "d-sun",
        "d-t0001",
        "d-wang",
        "d-zhou",
    ]
