"""The live alarm stream, read over a real HTTP connection as the office dashboard reads it, on either backend
(tests/backends.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from server.api import alarms as alarm_api
from server.app import create_app
from server.auth import Principal, Tokens
from server.settings import Settings
from tests.api.conftest import SECRET
from tests.api.live import serve
from tests.api.projections import alarm_doc
from tests.backends import BACKENDS, store_settings

ADMIN = {"Authorization": "Bearer " + Tokens(SECRET).issue(Principal("admin", "admin"), 3600)}


@pytest.fixture(params=BACKENDS)
def gateway(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with store_settings(request, request.param) as on:
        settings = Settings(data_dir=tmp_path / "data", secret=SECRET, run_validators=False, **on)
        with serve(create_app(settings)) as url:
            yield url


def next_event(lines: Iterator[str]) -> dict[str, Any]:
    """Read lines up to the end of the next event (a blank line) that has data; comments are collected too."""
    event: dict[str, Any] = {"comments": []}
    for line in lines:
        if not line:
            if "data" in event or "retry" in event:
                return event
            continue
        field, _, value = line.partition(":")
        if field == "":
            event["comments"].append(value.strip())
        else:
            event[field] = value.strip()
    raise AssertionError("the stream ended")


def write_alarm(url: str, doc: dict[str, Any]) -> None:
    """An alarm written the way another process writes one: through the store, not the alarm service."""
    resp = httpx.post(f"{url}/sync/_bulk_docs", headers=ADMIN, json={"docs": [doc]})
    assert resp.status_code == 201 and resp.json()[0].get("ok"), resp.text


def test_a_dashboard_sees_new_and_changed_alarms_live(gateway: str) -> None:
    timeout = httpx.Timeout(10.0)
    headers = {**ADMIN, "Accept-Encoding": "gzip"}
    with (
        httpx.Client(timeout=timeout) as client,
        client.stream("GET", f"{gateway}/api/office/alarms/stream", headers=headers) as stream,
    ):
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        assert "content-encoding" not in stream.headers and "no-cache" in stream.headers["cache-control"]
        lines = stream.iter_lines()
        assert next_event(lines)["retry"] == "3000"
        doc = alarm_doc("S0001", "2026-03-02T10:00:00+08:00")
        write_alarm(gateway, doc)  # written after the dashboard subscribed
        first = next_event(lines)
        assert first["event"] == "alarm"
        data = orjson.loads(first["data"])
        assert data["change"] == "new" and data["alarm"]["_id"] == doc["_id"] and data["alarm"]["status"] == "open"
        ack = httpx.post(f"{gateway}/api/office/alarms/{doc['_id']}/ack", headers=ADMIN, json={"note": "收到"})
        assert ack.status_code == 200
        second = next_event(lines)
        data = orjson.loads(second["data"])
        assert data["change"] == "changed" and data["alarm"]["status"] == "acknowledged"
        assert data["alarm"]["history"][-1]["note"] == "收到"
    # A dashboard that lost its connection after the first event gets the second on reconnecting.
    with (
        httpx.Client(timeout=timeout) as client,
        client.stream(
            "GET", f"{gateway}/api/office/alarms/stream", headers={**ADMIN, "Last-Event-ID": first["id"]}
        ) as stream,
    ):
        lines = stream.iter_lines()
        next_event(lines)  # retry
        replayed = next_event(lines)
        assert replayed["id"] == second["id"] and orjson.loads(replayed["data"])["change"] == "changed"
    # One that remembers an event this server never sent is told to reload its list.
    with (
        httpx.Client(timeout=timeout) as client,
        client.stream(
            "GET", f"{gateway}/api/office/alarms/stream", headers={**ADMIN, "Last-Event-ID": "0000-1"}
        ) as stream,
    ):
        lines = stream.iter_lines()
        next_event(lines)
        assert next_event(lines)["event"] == "reset"


def test_an_idle_stream_sends_keepalives(gateway: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(alarm_api, "KEEPALIVE_SECONDS", 0.2)
    with (
        httpx.Client(timeout=10.0) as client,
        client.stream("GET", f"{gateway}/api/office/alarms/stream", headers=ADMIN) as stream,
    ):
        lines = stream.iter_lines()
        assert next(lines) == "retry: 3000"
        assert next(lines) == ""
        assert next(lines) == ": keepalive"


def test_stopping_the_server_ends_open_streams_at_once(tmp_path: Path) -> None:
    """`mashang serve` stopped (SIGTERM) while a dashboard listens: the stream ends and the process exits,
    instead of waiting for the graceful-shutdown timeout and killing the connection with a traceback."""
    import time

    from tests.gateway import Gateway

    gw = Gateway(tmp_path / "data", env={"MASHANG_VALIDATORS": "0"}).start()
    try:
        with (
            httpx.Client(timeout=httpx.Timeout(10.0)) as client,
            client.stream("GET", f"{gw.url}/api/office/alarms/stream", headers=gw.headers) as stream,
        ):
            lines = stream.iter_lines()
            assert "retry" in next_event(lines)
            assert gw.proc is not None
            started = time.monotonic()
            gw.proc.terminate()
            assert list(lines) == []  # the stream ends cleanly: no error, nothing more
            gw.proc.wait(timeout=10)
            assert time.monotonic() - started < 3.0  # well under the 5 s graceful-shutdown timeout
    finally:
        gw.stop()
