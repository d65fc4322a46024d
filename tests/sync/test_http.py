"""HTTP details PouchDB and poor networks depend on: gzip for large answers, heartbeats while a longpoll waits."""

from __future__ import annotations

import threading
import time

import httpx
import orjson

from tests.gateway import Gateway


def _docs(n: int) -> list[dict[str, object]]:
    return [{"_id": f"S0001:self_check:01JDX{i:021d}", "note": "灭火器刚过保质期" * 5} for i in range(n)]


def test_large_answers_are_gzipped_when_the_client_accepts_it(gateway: Gateway) -> None:
    with gateway.client() as client:
        assert client.post("/sync/_bulk_docs", json={"docs": _docs(60)}).status_code == 201
    url = f"{gateway.url}/sync/_changes?include_docs=true"
    with httpx.Client(headers=gateway.headers) as raw:
        zipped = raw.get(url, headers={"Accept-Encoding": "gzip"})
        plain = raw.get(url, headers={"Accept-Encoding": "identity"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert "content-encoding" not in plain.headers
    # The bytes on the wire are a third of the plain answer, and decode to the same JSON.
    assert int(zipped.headers["content-length"]) < len(plain.content) / 3
    assert orjson.loads(zipped.content) == orjson.loads(plain.content)
    with httpx.Client(headers=gateway.headers) as raw:  # small answers are not worth compressing
        small = raw.get(f"{gateway.url}/sync/_local/missing", headers={"Accept-Encoding": "gzip"})
    assert small.status_code == 404 and "content-encoding" not in small.headers


def test_longpoll_sends_heartbeats_then_the_change(gateway: Gateway) -> None:
    with gateway.client() as client:
        since = client.get("/sync/_changes").json()["last_seq"]

    def write_later() -> None:
        time.sleep(0.8)
        with gateway.client() as client:
            client.post("/sync/_bulk_docs", json={"docs": _docs(1)})

    writer = threading.Thread(target=write_later)
    writer.start()
    chunks: list[bytes] = []
    url = f"{gateway.url}/sync/_changes?feed=longpoll&heartbeat=200&timeout=10000&since={since}"
    with httpx.stream("GET", url, headers=gateway.headers, timeout=15) as resp:
        assert resp.status_code == 200
        for chunk in resp.iter_raw():
            chunks.append(chunk)
    writer.join()
    body = b"".join(chunks)
    assert body.startswith(b"\n\n")  # at least two heartbeats while nothing happened
    answer = orjson.loads(body.strip())
    assert [r["id"] for r in answer["results"]] == ["S0001:self_check:01JDX000000000000000000000"]


def test_longpoll_times_out_with_an_empty_answer(gateway: Gateway) -> None:
    with gateway.client() as client:
        start = time.monotonic()
        resp = client.get("/sync/_changes", params={"feed": "longpoll", "timeout": 600, "since": "now"})
        took = time.monotonic() - start
    assert resp.status_code == 200 and resp.json()["results"] == []
    assert 0.5 < took < 5
    # `since=now` answers where "now" was, so that the next request goes on from there.
    with gateway.client() as client:
        client.post("/sync/_bulk_docs", json={"docs": _docs(1)})
        last = resp.json()["last_seq"]
        assert last != "now"
        assert [r["id"] for r in client.get("/sync/_changes", params={"since": last}).json()["results"]] == [
            "S0001:self_check:01JDX000000000000000000000"
        ]


def test_changes_limit_and_since_as_couchdb_reads_them(gateway: Gateway) -> None:
    with gateway.client() as client:
        assert client.post("/sync/_bulk_docs", json={"docs": _docs(3)}).status_code == 201
        one = client.get("/sync/_changes", params={"limit": 0})
        assert one.status_code == 200 and len(one.json()["results"]) == 1  # CouchDB: 0 means 1
        for since in ("abc", "-5", "[1,2]", "1.5"):
            bad = client.get("/sync/_changes", params={"since": since})
            assert bad.status_code == 400, (since, bad.text)
            assert bad.json()["reason"] == "Malformed sequence supplied in 'since' parameter."


def test_one_unreadable_document_does_not_hold_back_its_batch(gateway: Gateway) -> None:
    good, bad, also = _docs(3)
    with gateway.client() as client:
        resp = client.post("/sync/_bulk_docs", json={"docs": [good, {**bad, "_rev": "garbage"}, also]})
        assert resp.status_code == 201, resp.text
        first, refused, last = resp.json()
        assert first["ok"] and last["ok"] and refused["id"] == bad["_id"] and refused["error"], resp.json()
        assert client.get(f"/sync/{also['_id']}").status_code == 200
        diff = client.post("/sync/_revs_diff", json={good["_id"]: ["garbage"]})
        assert diff.status_code == 200 and diff.json() == {good["_id"]: {"missing": ["garbage"]}}


async def test_a_client_gone_mid_upload_ends_the_request_with_a_plain_error() -> None:
    """A phone that loses its signal half-way through a `_bulk_docs` body: the server stops reading with a
    CouchDB-style 400 (nobody reads it, but no traceback is logged and nothing is written)."""
    from types import SimpleNamespace

    from starlette.requests import Request

    from server.errors import CouchError
    from server.http import read_body
    from server.settings import Settings

    messages = [
        {"type": "http.request", "body": b'{"docs": [{"_id": "S0001:', "more_body": True},
        {"type": "http.disconnect"},
    ]

    async def receive() -> dict[str, object]:
        return messages.pop(0)

    app = SimpleNamespace(state=SimpleNamespace(settings=Settings()))
    request = Request({"type": "http", "method": "POST", "headers": [], "app": app}, receive)
    try:
        await read_body(request)
    except CouchError as e:
        assert e.status == 400 and "disconnected" in e.body()["reason"]
    else:
        raise AssertionError("a body cut short was read as complete")
