"""Bad input through `/sync/`: always a 4xx with CouchDB's `{"error", "reason"}`, never a 500, nothing stored."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from starlette.testclient import TestClient

from server.app import create_app
from server.auth import Principal, Tokens
from server.errors import CouchError
from server.settings import Settings
from server.sync import routes

SECRET = "test-secret-" + "x" * 40
GOOD = "S0001:self_check:01JDX000000000000000000000"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(data_dir=tmp_path / "data", secret=SECRET, max_body_bytes=64 * 1024)
    token = Tokens(SECRET).issue(Principal("admin", "admin"), 3600)
    with TestClient(create_app(settings), raise_server_exceptions=False) as c:
        c.headers["Authorization"] = f"Bearer {token}"
        yield c


def assert_error(resp: object, status: int, error: str | None = None) -> dict[str, str]:
    assert resp.status_code == status, resp.text  # type: ignore[attr-defined]
    body = resp.json()  # type: ignore[attr-defined]
    assert set(body) == {"error", "reason"} and body["reason"], body
    if error:
        assert body["error"] == error, body
    return body  # type: ignore[no-any-return]


def changes_count(client: TestClient) -> int:
    return len(client.get("/sync/_changes").json()["results"])


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/sync/_bulk_docs"),
        ("post", "/sync/_revs_diff"),
        ("post", "/sync/_bulk_get"),
        ("put", f"/sync/{GOOD}"),
        ("put", "/sync/_local/checkpoint"),
        ("post", "/sync/_all_docs"),
        ("post", "/sync/_changes?filter=_selector"),
    ],
)
def test_malformed_json_is_a_400(client: TestClient, method: str, path: str) -> None:
    resp = client.request(method, path, content=b'{"docs": [', headers={"Content-Type": "application/json"})
    assert_error(resp, 400, "bad_request")
    resp = client.request(method, path, content=b"\xff\xfe not utf-8")
    assert_error(resp, 400, "bad_request")


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/sync/_bulk_docs", {"docs": {"_id": GOOD}}),
        ("post", "/sync/_bulk_docs", {"docs": [], "new_edits": "no"}),
        ("post", "/sync/_bulk_docs", ["not", "an", "object"]),
        ("post", "/sync/_revs_diff", {GOOD: "1-abc"}),
        ("post", "/sync/_bulk_get", {"docs": "all"}),
        ("post", "/sync/_all_docs", {"keys": "S0001:x:1"}),
        ("put", f"/sync/{GOOD}", [1, 2]),
        ("post", "/sync/_changes?filter=_doc_ids", {"doc_ids": [1, 2]}),
        ("post", "/sync/_changes?filter=_selector", {"selector": [1]}),
        ("post", "/sync/_changes?filter=_selector", {"selector": {"x": {"$bogus": 1}}}),
    ],
)
def test_wrong_types_are_a_400(client: TestClient, method: str, path: str, body: object) -> None:
    assert_error(client.request(method, path, json=body), 400, "bad_request")


@pytest.mark.parametrize(
    "query",
    [
        "limit=abc",
        "limit=-1",
        "since=yesterday",
        "feed=continuous",
        "style=everything",
        "filter=_view",
        "include_docs=maybe",
        "timeout=soon",
        # Not ASCII digits: Python's int() takes "1_0", " 7" and full-width "１２"; "²" passed isdigit() and then
        # int() failed, a 500.
        "since=%C2%B2",
        "since=%C2%B2-abc",
        "limit=1_0",
        "limit=%EF%BC%91%EF%BC%92",
        "timeout=%207",
    ],
)
def test_bad_changes_parameters_are_a_400(client: TestClient, query: str) -> None:
    assert_error(client.get(f"/sync/_changes?{query}"), 400, "bad_request")


@pytest.mark.parametrize("since", ["99999999999999999999", str(2**64), "9999999999999999999-x"])
@pytest.mark.parametrize("feed", ["normal", "longpoll"])
def test_a_since_past_the_stores_sequences_is_a_400(client: TestClient, since: str, feed: str) -> None:
    """A sequence number of 19 or 20 digits passed the handler and the store refused it: a longpoll had begun its 200
    by then and answered the refusal as its body (tests/sync/test_hostile_sync_input.py found it)."""
    assert_error(client.get(f"/sync/_changes?feed={feed}&timeout=1&since={since}"), 400, "bad_request")


@pytest.mark.parametrize(
    "query",
    [
        "_all_docs?keys=" + "%5B" * 300 + "%5D" * 300,
        "_all_docs?startkey=" + "%5B" * 300 + "%5D" * 300,
        f"{GOOD}?open_revs=" + "%5B" * 300 + "%5D" * 300,
    ],
)
def test_json_parameters_nested_deeper_than_a_body_are_a_400(client: TestClient, query: str) -> None:
    """`_all_docs` answers each key back: keys 300 levels deep were past what orjson writes, a 500."""
    body = assert_error(client.get(f"/sync/{query}"), 400, "bad_request")
    assert "nested deeper" in body["reason"]


@pytest.mark.parametrize("delay", [0.0, 0.3])
def test_a_longpoll_the_store_refuses_at_once_has_the_refusals_status(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, delay: float
) -> None:
    """A store that could not answer (CouchDB down: a 503) made a longpoll's 200 with the error as its body; a phone
    read that as an answer. Refused within its first moment, it is the refusal's status; later, a heartbeat's 200
    has gone, and the reason is the body as before."""
    store = client.app.state.store  # type: ignore[attr-defined]

    async def down(query: object) -> dict[str, object]:
        await asyncio.sleep(delay)
        raise CouchError(503, "service_unavailable", "the database did not answer")

    monkeypatch.setattr(store, "changes", down)
    body = assert_error(client.get("/sync/_changes?feed=longpoll&since=0&timeout=5000"), 503, "service_unavailable")
    assert body["reason"] == "the database did not answer"
    monkeypatch.setattr(routes, "LONGPOLL_FIRST_S", 0.1)  # a heartbeat (admin: 50 ms) then the refusal
    late = client.get("/sync/_changes?feed=longpoll&since=0&timeout=5000&heartbeat=50")
    if delay:
        assert late.status_code == 200 and late.text.startswith("\n")
        assert orjson.loads(late.text.strip()) == {
            "error": "service_unavailable",
            "reason": "the database did not answer",
        }
    else:
        assert_error(late, 503, "service_unavailable")


def test_head_answers_as_get(client: TestClient) -> None:
    """HEAD of a checkpoint was taken for a PUT of no body (a 400), HEAD of an attachment refused (a 405)."""
    assert client.put("/sync/_local/checkpoint", json={"last_seq": "1"}).status_code == 201
    photo = {"photo.jpg": {"content_type": "image/jpeg", "data": base64.b64encode(b"\xff\xd8\xff jpeg").decode()}}
    assert client.put(f"/sync/{GOOD}", json={"_attachments": photo}).status_code == 201
    for path, status in [
        ("/sync/_local/checkpoint", 200),
        ("/sync/_local/missing", 404),
        (f"/sync/{GOOD}/photo.jpg", 200),
        (f"/sync/{GOOD}/missing.jpg", 404),
    ]:
        get, head = client.get(path), client.head(path)
        assert (get.status_code, head.status_code) == (status, status), (path, head.status_code)
        assert head.headers["content-type"] == get.headers["content-type"] and head.content == b""
        assert head.headers.get("content-length") == get.headers.get("content-length", str(len(get.content)))


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("DELETE", "/sync", 405),  # CouchDB's delete database
        ("POST", "/sync", 405),
        ("OPTIONS", "/sync", 405),
        ("GET", "/sync/_local/a%0Ab", 404),
        ("PUT", "/sync/_local/a%0Ab", 404),
        ("GET", f"/sync/{GOOD}/a%0Ab.jpg", 404),
        ("POST", "/sync/_x%0Ay", 405),
    ],
)
def test_what_starlette_answered_in_plain_text_is_a_couchdb_error(
    client: TestClient, method: str, path: str, status: int
) -> None:
    """`/sync` itself for a method it does not take, and a path with a newline (`%0A`, where Starlette's `path` stops)
    where a path parameter is: Starlette, or the PWA's files, answered them in plain text."""
    resp = client.request(method, path)
    assert_error(resp, status, "method_not_allowed" if status == 405 else "not_found")
    if status == 405:
        assert resp.headers["allow"]


def test_bad_document_parameters_are_a_400(client: TestClient) -> None:
    assert_error(client.get(f"/sync/{GOOD}?rev=notarev"), 400, "bad_request")
    assert_error(client.get(f"/sync/{GOOD}?open_revs=[1,"), 400, "bad_request")
    assert_error(client.get(f"/sync/{GOOD}?open_revs=%7B%7D"), 400, "bad_request")
    assert_error(client.get("/sync/_all_docs?startkey=notjson"), 400, "bad_request")
    assert_error(client.get("/sync/_all_docs?startkey=5"), 400, "bad_request")


@pytest.mark.parametrize("rev", ["abc", "1-", "x-1", "1-not hex!", "0-abc"])
def test_bad_rev_formats(client: TestClient, rev: str) -> None:
    assert_error(client.put(f"/sync/{GOOD}", json={"_rev": rev, "x": 1}), 400, "bad_request")
    # Replicated (new_edits=false): refused per document as `forbidden`, so PouchDB skips it and goes on.
    resp = client.post("/sync/_bulk_docs", json={"new_edits": False, "docs": [{"_id": GOOD, "_rev": rev}]})
    assert resp.status_code == 201
    [answer] = resp.json()
    assert answer["id"] == GOOD and answer["error"] == "forbidden" and "rev" in answer["reason"].lower()
    resp = client.post(
        "/sync/_bulk_docs",
        json={"new_edits": False, "docs": [{"_id": GOOD, "_rev": "2-abc", "_revisions": {"start": 2, "ids": ["def"]}}]},
    )
    assert resp.json()[0]["error"] == "forbidden"
    assert changes_count(client) == 0


@pytest.mark.parametrize(
    "doc_id",
    [
        "nopartition",
        "S0001:",
        "S0001:self_check:",
        ":x:y",
        "S0001::k",
        "_design/evil",
        "S 1:self_check:k",
        "S0001:Type:k",
        "_local/x",
    ],
)
def test_ids_not_in_partition_form_are_refused(client: TestClient, doc_id: str) -> None:
    resp = client.post("/sync/_bulk_docs", json={"docs": [{"_id": doc_id, "x": 1}, {"_id": GOOD, "x": 2}]})
    assert resp.status_code == 201
    refused, written = resp.json()
    assert refused["id"] == doc_id and refused["error"] == "forbidden" and "partition" in refused["reason"]
    assert written["ok"] is True
    assert [r["id"] for r in client.get("/sync/_changes").json()["results"]] == [GOOD]


def test_oversize_bodies_are_a_413(client: TestClient) -> None:
    big = {"docs": [{"_id": GOOD, "blob": "x" * (80 * 1024)}]}
    assert_error(client.post("/sync/_bulk_docs", json=big), 413, "too_large")

    def chunked() -> Iterator[bytes]:  # no Content-Length: the limit still holds while reading
        yield b'{"docs": [{"_id": "' + GOOD.encode() + b'", "blob": "'
        for _ in range(100):
            yield b"y" * 1024
        yield b'"}]}'

    assert_error(client.post("/sync/_bulk_docs", content=chunked()), 413, "too_large")
    assert changes_count(client) == 0


def test_attachments_without_content_type_or_with_bad_base64(client: TestClient) -> None:
    data = base64.b64encode(b"\xff\xd8\xff jpeg").decode()
    no_type = {"_id": GOOD, "_attachments": {"photo.jpg": {"data": data}}}
    bad_b64 = {"_id": GOOD, "_attachments": {"photo.jpg": {"data": "%%%not base64", "content_type": "image/jpeg"}}}
    no_data = {"_id": GOOD, "_attachments": {"photo.jpg": {"content_type": "image/jpeg"}}}
    for doc, words in ((no_type, "content_type"), (bad_b64, "attachment data"), (no_data, "no data")):
        body = assert_error(client.put(f"/sync/{GOOD}", json=doc), 400, "bad_request")
        assert words in body["reason"]
        [answer] = client.post("/sync/_bulk_docs", json={"docs": [doc]}).json()
        assert answer["error"] == "forbidden" and words in answer["reason"]
    stub = {"_id": GOOD, "_attachments": {"photo.jpg": {"stub": True, "digest": "md5-AAAA"}}}
    assert_error(client.put(f"/sync/{GOOD}", json=stub), 412, "missing_stub")
    assert changes_count(client) == 0


def test_unknown_underscore_fields_and_endpoints(client: TestClient) -> None:
    assert_error(client.put(f"/sync/{GOOD}", json={"_secret": 1}), 400, "doc_validation")
    assert_error(client.get("/sync/_design/x/_view/y"), 404, "not_found")
    assert_error(client.put(f"/sync/{GOOD}/photo.jpg", content=b"x"), 405, "method_not_allowed")


def test_every_endpoint_needs_a_valid_token(client: TestClient) -> None:
    forged = Tokens("another-secret-" + "y" * 40).issue(Principal("admin", "admin"), 3600)
    expired = Tokens(SECRET).issue(Principal("admin", "admin"), -10)
    endpoints = [
        ("get", "/sync/"),
        ("get", "/sync/_changes"),
        ("post", "/sync/_bulk_docs"),
        ("post", "/sync/_revs_diff"),
        ("post", "/sync/_bulk_get"),
        ("get", "/sync/_all_docs"),
        ("get", "/sync/_local/x"),
        ("get", f"/sync/{GOOD}"),
        ("get", f"/sync/{GOOD}/a.jpg"),
    ]
    for auth in (
        None,
        "Bearer",
        "Basic YWRtaW46YWRtaW4=",
        f"Bearer {forged}",
        f"Bearer {expired}",
        "Bearer " + forged[:-4] + "AAAA",
    ):
        for method, path in endpoints:
            headers = {"Authorization": auth} if auth else {}
            client.headers.pop("Authorization", None)
            resp = client.request(method, path, headers=headers, json={})
            assert_error(resp, 401, "unauthorized")
