"""Issue 4 from end to end: a grid worker's patrol finds a serious hazard, and the alarm reaches the office's queue,
its live stream and the partner's webhook, with nothing but the validators in between. On either backend
(tests/backends.py)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import orjson
import pytest

from server.app import create_app
from server.settings import Settings
from tests.api.conftest import SECRET, World, open_world, wait_until
from tests.api.live import serve
from tests.api.test_alarm_stream import ADMIN, next_event
from tests.api.test_webhook import WEBHOOK_SECRET, Receiver
from tests.backends import BACKENDS, store_settings
from tests.validators.builders import gas_leak_patrol

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(params=BACKENDS)
def on(request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    """The settings that put the gateway on each backend in turn."""
    with store_settings(request, request.param) as settings:
        yield settings


def zhou_gas_leak(shop: str = "S0001") -> dict[str, Any]:
    """Zhou's patrol, just now, finding the gas hose unsafe: a serious item, so an alarm at once."""
    return gas_leak_patrol(shop, "grid:zhou", "d-zhou")


def zhou_gas_leak_and_ebike(shop: str = "S0001") -> dict[str, Any]:
    """The other module of a patrol: its serious find on another item (each module has its items; one item found
    twice while unresolved is one hazard)."""
    other = zhou_gas_leak(shop)
    other["findings"] = [{**other["findings"][0], "item": "ebike_indoor_charging", "note": "电瓶车在店内充电"}]
    return other


def push(client: httpx.Client | Any, headers: dict[str, str], doc: dict[str, Any]) -> None:
    resp = client.post("/sync/_bulk_docs", headers=headers, json={"docs": [doc]})
    assert resp.status_code == 201 and resp.json()[0].get("ok"), resp.text


def test_a_serious_finding_reaches_the_queue_and_the_webhook(tmp_path: Path, on: dict[str, Any]) -> None:
    hook = Receiver(failures=0)
    with (
        serve(hook.app) as receiver,
        open_world(
            tmp_path,
            webhook_url=f"{receiver}/hook",
            webhook_secret=WEBHOOK_SECRET,
            webhook_backoff_seconds=0.05,
            **on,
        ) as world,
    ):
        patrol = zhou_gas_leak()
        push(world.client, world.login("zhou", "zhou-password"), patrol)
        office = world.login("wang", "wang-password")

        def open_alarms() -> list[dict[str, Any]]:
            items: list[dict[str, Any]] = world.client.get("/api/office/alarms?status=open", headers=office).json()[
                "items"
            ]
            return items

        [alarm] = wait_until(open_alarms)
        assert alarm["_id"] == f"S0001:alarm:{patrol['_id'].rsplit(':', 1)[1]}" and alarm["source"] == patrol["_id"]
        assert alarm["grid_worker"] == "grid:zhou" and alarm["shop_name"] == "小吃店S0001"
        assert [item["item"] for item in alarm["items"]] == ["gas_safe"]
        wait_until(lambda: hook.received)
        assert _delivered(world) == [alarm["_id"]]
    headers, body, _ = hook.received[0]
    expected = "sha256=" + hmac.new(WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert headers["x-mashang-signature"] == expected and orjson.loads(body)["alarm"]["_id"] == alarm["_id"]
    assert len(hook.received) == 1  # announced once, though the queue, the feed and the hook all saw it


def _delivered(world: World) -> list[str]:
    items = world.client.get("/api/office/webhook/deliveries", headers=world.admin()).json()["items"]
    return [item["alarm"] for item in items if item["ok"]]


def test_an_open_dashboard_sees_the_alarm_as_it_is_raised(tmp_path: Path, on: dict[str, Any]) -> None:
    app = create_app(Settings(data_dir=tmp_path / "data", secret=SECRET, **on))
    with serve(app) as url, httpx.Client(base_url=url, timeout=20.0) as client:
        for doc in (
            {
                "_id": "registry:community:wensan",
                "type": "community",
                "schema": 1,
                "code": "wensan",
                "name": "文三社区",
                "subdistrict": "minglou",
            },
            {
                "_id": "registry:grid:g1",
                "type": "grid",
                "schema": 1,
                "code": "g1",
                "name": "文三一网格",
                "community": "wensan",
                "workers": ["zhou"],
                "shops": ["S0001"],
            },
            {
                "_id": "S0001:shop:S0001",
                "type": "shop",
                "schema": 1,
                "code": "S0001",
                "name": "老王面馆",
                "address": "文三路128号",
                "category": "food",
                "community": "wensan",
                "grid": "g1",
                "status": "active",
                "owner_activated": True,
            },
        ):
            push(client, ADMIN, doc)
        with client.stream("GET", "/api/office/alarms/stream", headers=ADMIN) as stream:
            lines = stream.iter_lines()
            next_event(lines)  # retry
            earlier, patrol = _one_submission(zhou_gas_leak(), zhou_gas_leak_and_ebike())
            push(client, ADMIN, patrol)  # as the grid worker's phone replicates it
            event = next_event(lines)
            data = orjson.loads(event["data"])
            assert event["event"] == "alarm" and data["change"] == "new"
            assert data["alarm"]["source"] == patrol["_id"] and data["alarm"]["shop_name"] == "老王面馆"
            # The same submission's other module, with the lower id, arrives later: the desk is told the first
            # alarm is withdrawn, and gets the submission's alarm.
            push(client, ADMIN, earlier)
            changes = [orjson.loads(next_event(lines)["data"]) for _ in range(2)]
            assert sorted((c["change"], c["alarm"]["_id"]) for c in changes) == [
                ("new", f"S0001:alarm:{earlier['_id'].rsplit(':', 1)[1]}"),
                ("withdrawn", data["alarm"]["_id"]),
            ]


def _one_submission(a: dict[str, Any], b: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Two modules' events of one patrol (one moment), the one with the lower id first."""
    a["performed_at"] = b["performed_at"]
    first, second = sorted((a, b), key=lambda doc: str(doc["_id"]))
    return first, second


def test_a_submission_of_two_modules_arriving_last_first_leaves_one_alarm(tmp_path: Path, on: dict[str, Any]) -> None:
    """A patrol of two checklist modules is two events with one moment. The phone's second arrives first and raises
    an alarm alone; when the first arrives, the office's queue holds the submission's one alarm, not two."""
    with open_world(tmp_path, **on) as world:
        zhou, office = world.login("zhou", "zhou-password"), world.login("wang", "wang-password")
        first, second = _one_submission(zhou_gas_leak(), zhou_gas_leak_and_ebike())

        def open_alarms() -> list[dict[str, Any]]:
            answer = world.client.get("/api/office/alarms?status=open", headers=office).json()
            return [a for a in answer["items"] if a["shop"] == "S0001"]

        push(world.client, zhou, second)
        [early] = wait_until(open_alarms)
        assert early["source"] == second["_id"]
        push(world.client, zhou, first)
        [alarm] = wait_until(lambda: [a for a in open_alarms() if a["source"] == first["_id"]])
        assert len(alarm["items"]) == 2 and alarm["cost"] == 20
        wait_until(lambda: len(open_alarms()) == 1)
        gone = world.client.get(f"/sync/{early['_id']}", headers=world.admin())
        assert gone.status_code == 404 and gone.json()["reason"] == "deleted"
