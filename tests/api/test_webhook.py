"""The alarm webhook as a receiver sees it: signed, retried with back-off until it answers, every attempt logged."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.testclient import TestClient

from server.app import create_app
from server.settings import Settings
from tests.api.conftest import SECRET, World, open_world
from tests.api.live import serve
from tests.api.projections import alarm_doc, write
from tests.gateway import free_port

WEBHOOK_SECRET = "hook-secret-" + "k" * 20


class Receiver:
    """A partner's endpoint: fails the first `failures` requests with a 500, then accepts; remembers each one."""

    def __init__(self, failures: int = 2, delay: float = 0.0) -> None:
        self.failures = failures
        self.delay = delay
        self.received: list[tuple[dict[str, str], bytes, float]] = []
        self.lock = threading.Lock()
        self.app = Starlette(routes=[Route("/hook", self.hook, methods=["POST"])])

    async def hook(self, request: Request) -> Response:
        body = await request.body()
        with self.lock:
            self.received.append((dict(request.headers), body, time.monotonic()))
            failing = len(self.received) <= self.failures
        await asyncio.sleep(self.delay)
        return Response("down for maintenance" if failing else "ok", status_code=500 if failing else 200)


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    hook = Receiver()
    with serve(hook.app) as url:
        yield hook, f"{url}/hook"


def deliveries(world: World) -> dict[str, Any]:
    resp = world.client.get("/api/office/webhook/deliveries", headers=world.login("wang", "wang-password"))
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


def wait_for(world: World, done: Any, timeout: float = 10.0) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        items: list[dict[str, Any]] = deliveries(world)["items"]
        if done(items):
            return items
        assert time.monotonic() < deadline, items
        time.sleep(0.05)


def test_a_new_alarm_is_signed_retried_and_logged(tmp_path: Path, receiver: tuple[Receiver, str]) -> None:
    hook, url = receiver
    with open_world(
        tmp_path,
        webhook_url=url,
        webhook_secret=WEBHOOK_SECRET,
        webhook_attempts=5,
        webhook_backoff_seconds=0.1,
        run_validators=False,
    ) as world:
        doc = alarm_doc("S0001", "2026-03-02T10:00:00+08:00")
        world.call(write, world.state.store, doc)
        world.call(world.state.webhook.enqueue, doc)  # what the follower's on_alarm hook does
        items = wait_for(world, lambda items: any(item["ok"] for item in items))
        assert deliveries(world)["configured"] is True
    assert [(i["attempt"], i["status"], i["ok"]) for i in items] == [(3, 200, True), (2, 500, False), (1, 500, False)]
    assert {i["alarm"] for i in items} == {doc["_id"]} and len({i["delivery"] for i in items}) == 1
    assert items[1]["error"] == "HTTP 500" and items[0]["error"] is None and items[0]["of"] == 5
    assert len(hook.received) == 3
    (first, _, t1), (_, _, t2), (_, body, t3) = hook.received
    assert t2 - t1 >= 0.09 and t3 - t2 >= 0.19  # back-off: 1 then 2 times the base
    headers = hook.received[-1][0]
    assert headers["x-mashang-delivery"] == first["x-mashang-delivery"] == items[0]["delivery"]
    assert headers["content-type"] == "application/json" and headers["x-mashang-attempt"] == "3"
    expected = "sha256=" + hmac.new(WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["x-mashang-signature"], expected)
    forged = "sha256=" + hmac.new(b"another secret", body, hashlib.sha256).hexdigest()
    assert headers["x-mashang-signature"] != forged
    payload = orjson.loads(body)
    assert payload["event"] == "alarm.new" and payload["delivery"] == items[0]["delivery"]
    assert payload["alarm"]["_id"] == doc["_id"] and payload["alarm"]["shop_name"] == "小吃店S0001"
    assert "_rev" not in payload["alarm"]


def test_an_unreachable_receiver_is_tried_then_given_up(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/hook"  # nobody listens there
    with open_world(
        tmp_path,
        webhook_url=url,
        webhook_secret=WEBHOOK_SECRET,
        webhook_attempts=3,
        webhook_backoff_seconds=0.01,
        run_validators=False,
    ) as world:
        doc = alarm_doc("S0002", "2026-03-02T10:00:00+08:00")
        world.call(world.state.webhook.enqueue, doc)
        items = wait_for(world, lambda items: len(items) == 3)
        time.sleep(0.1)
        assert len(deliveries(world)["items"]) == 3  # three tries in all, no more
        assert world.call(world.state.webhook.pending) == []  # given up on: not tried again after a restart
    assert [i["attempt"] for i in items] == [3, 2, 1] and not any(i["ok"] for i in items)
    assert all(i["status"] is None and i["error"].startswith("ConnectError") for i in items)


def test_a_slow_receiver_does_not_hold_the_follower(tmp_path: Path) -> None:
    slow = Receiver(failures=0, delay=0.5)
    with (
        serve(slow.app) as base,
        open_world(tmp_path, webhook_url=f"{base}/hook", webhook_secret=WEBHOOK_SECRET, run_validators=False) as world,
    ):
        docs = [alarm_doc(shop, "2026-03-02T10:00:00+08:00") for shop in ("S0001", "S0002", "S0003")]
        started = time.monotonic()
        for doc in docs:
            world.call(world.state.webhook.enqueue, doc)
        assert time.monotonic() - started < 0.4
        items = wait_for(world, lambda items: len(items) == 3)
    assert {i["alarm"] for i in items} == {doc["_id"] for doc in docs} and all(i["ok"] for i in items)


def test_without_a_url_nothing_is_sent(world: World) -> None:
    world.call(world.state.webhook.enqueue, alarm_doc("S0001", "2026-03-02T10:00:00+08:00"))
    assert deliveries(world) == {"configured": False, "items": []}


def test_a_delivery_the_server_had_not_finished_is_delivered_after_a_restart(tmp_path: Path) -> None:
    """The receiver is down while the alarm is raised and the server restarts: the next start delivers it, with the
    same delivery id, and the outbox is empty afterwards. A delivery given up on is not tried again."""
    hook = Receiver(failures=10**6)
    settings = {"webhook_secret": WEBHOOK_SECRET, "webhook_attempts": 100, "webhook_backoff_seconds": 0.05}
    with serve(hook.app) as base:
        with open_world(tmp_path, webhook_url=f"{base}/hook", run_validators=False, **settings) as world:
            doc = alarm_doc("S0001", "2026-03-02T10:00:00+08:00")
            world.call(world.state.webhook.enqueue, doc)
            [delivery] = world.call(world.state.webhook.pending)
            wait_for(world, lambda items: len(items) >= 2)  # tried, failing
        hook.failures = 0  # the receiver is back

        app = create_app(Settings(data_dir=tmp_path / "data", secret=SECRET, webhook_url=f"{base}/hook", **settings))
        with TestClient(app, raise_server_exceptions=False) as client:
            again = World(client)
            [done, *_] = wait_for(again, lambda items: any(item["ok"] for item in items))
            assert done["ok"] and done["delivery"] == delivery and done["alarm"] == doc["_id"]
            assert hook.received[-1][0]["x-mashang-delivery"] == delivery
            deadline = time.monotonic() + 10
            while again.call(app.state.webhook.pending):
                assert time.monotonic() < deadline
                time.sleep(0.05)
