"""Every `/api/` operation, taken from the app's own OpenAPI document so that a new route is covered the day it is
added: who may call it, and what it answers to bad input (always a 4xx with a JSON reason, never a 500)."""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.api.conftest import World

Json = dict[str, Any]
# The live alarm stream never ends with a good request; its refusals are checked like the others.
ENDLESS = {("get", "/api/office/alarms/stream")}
# Path values that reach the handler (a real shop, an export that exists, ...; "x" for the rest), and bad ones put in
# one at a time: a word, a very long one, Chinese, something like a document id. The staff account is li's: zhou is
# the grid worker who calls, and the office revokes the account it names.
GOOD = {"code": "S0001", "shop": "S0001", "kind": "checks", "fmt": "csv", "month": "2026-11", "user_id": "grid:li"}
SEGMENTS = ("x", "a" * 300, "中文", "S0001:alarm:01J00000000000000000000000", "2026-13")
# The body fields of the operations whose body the document leaves without a schema (their handlers check each).
SHOP_FIELDS = ("code", "name", "address", "category", "community", "grid")
FIELDS = {
    ("post", "/api/auth/owner"): ("shop", "pin", "device_key"),
    ("post", "/api/auth/activate"): ("shop", "code", "pin"),
    ("post", "/api/office/alarms/{id}/dispatch"): ("department", "note"),
    ("post", "/api/office/shops"): SHOP_FIELDS,
    ("patch", "/api/office/shops/{code}"): SHOP_FIELDS,
    ("post", "/api/office/shops/{code}/move"): ("grid",),
    ("put", "/api/office/registry/communities/{code}"): ("name", "subdistrict", "move"),
    ("put", "/api/office/registry/grids/{code}"): ("name", "community", "workers"),
    ("put", "/api/office/registry/subdistricts/{code}"): ("name",),
    ("post", "/api/office/users"): ("role", "username", "password", "name", "subdistrict"),
    ("post", "/api/office/device-exports"): ("docs", "refused", "device", "exported_at"),
    ("post", "/api/office/users/{user_id}/password"): ("password",),
    ("post", "/api/office/rewards/{shop}/redemptions"): ("points", "prize", "note", "request_id"),
    ("post", "/api/office/rankings/{month}/followups/{shop}"): (
        "action",
        "on",
        "due",
        "status",
        "started",
        "ended",
        "talked_to",
        "by",
        "members",
        "note",
    ),
}
QUERY_VALUES = ("", "x", "-1", "99999999999999999999999", "2026-13-45", "1e400", "中文", "a" * 3000, "[]")
BODIES = (b"", b"{", b"[]", b'"x"', b"1", b"null", b"{}", b"\xff\xfe", b'{"a": {"b": [1, {"c": null}]}}')
WRONG_KINDS: tuple[Any, ...] = (12345, "x", [], {}, None, -1, "a" * 5000, 1e308)


@pytest.fixture
def owner(world: World) -> dict[str, str]:
    """The owner of S0001, activated through its grid worker's code as on the phone."""
    code = world.client.post("/api/shops/S0001/activation", headers=world.login("zhou", "zhou-password")).json()["code"]
    answer = world.client.post("/api/auth/activate", json={"shop": "S0001", "code": code, "pin": "246810"})
    assert answer.status_code == 200, answer.text
    return {"Authorization": "Bearer " + answer.json()["token"]}


def operations(world: World) -> list[tuple[str, str, Json]]:
    paths = world.client.get("/api/openapi.json").json()["paths"]
    found = [(method, path, op) for path, ops in paths.items() for method, op in ops.items()]
    assert len(found) > 50
    return found


def urls(path: str) -> Iterator[str]:
    """`path` with good values, then with each of its parameters bad in turn."""
    names = re.findall(r"{(\w+)}", path)
    good = {name: GOOD.get(name, "x") for name in names}
    yield path.format(**good)
    for name, segment in itertools.product(names, SEGMENTS):
        yield path.format(**{**good, name: segment})


def fields_of(schemas: Json, method: str, path: str, op: Json) -> list[str]:
    ref = (op.get("requestBody") or {}).get("content", {}).get("application/json", {}).get("schema")
    if ref is None:
        return list(FIELDS.get((method, path), ()))
    schema: Json = schemas[ref["$ref"].rsplit("/", 1)[1]] if "$ref" in ref else ref
    return list(schema.get("properties", {}))


def bad_bodies(fields: list[str]) -> Iterator[bytes]:
    """Bodies that are not JSON objects, and objects whose fields (all at once, then one at a time) are of the
    wrong kind or out of range."""
    yield from BODIES
    for kind in WRONG_KINDS:
        yield json.dumps(dict.fromkeys(fields, kind)).encode()
    for field, kind in itertools.product(fields, WRONG_KINDS[:6]):
        yield json.dumps({field: kind}).encode()


def requests_for(schemas: Json, method: str, path: str, op: Json) -> Iterator[tuple[str, bytes | None]]:
    queries = [p["name"] for p in op.get("parameters", []) if p["in"] == "query"]
    fields = fields_of(schemas, method, path, op)
    for url in urls(path):
        if method in ("post", "put", "patch"):
            yield from ((url, body) for body in bad_bodies(fields))
        elif (method, path) not in ENDLESS:
            yield url, None
        for name, value in itertools.product(queries, QUERY_VALUES):
            if (method, path) not in ENDLESS:
                yield f"{url}?{name}={value}", b"{}" if method in ("post", "put", "patch") else None


def assert_reasoned(answer: Any, what: str) -> None:
    assert answer.status_code < 500, f"{what}: {answer.status_code} {answer.text[:300]}"
    if answer.status_code >= 400:
        if answer.headers["content-type"].startswith("image/svg+xml") and answer.url.path.endswith("/badge.svg"):
            # The badge is an image wherever it is embedded: its 404 is a grey badge that says why, not JSON.
            assert answer.status_code == 404 and ("未登记" in answer.text or "已停业" in answer.text), what
            return
        assert answer.headers["content-type"].startswith("application/json"), f"{what}: {answer.text[:300]}"
        body = answer.json()
        assert body["error"] and body["reason"], f"{what}: {body}"


def test_bad_input_to_any_operation_is_a_4xx_with_a_reason(world: World) -> None:
    """As the office (every operation reaches its handler) and as a grid worker (the field's operations do)."""
    office, grid = world.login("wang", "wang-password"), world.login("zhou", "zhou-password")
    schemas = world.client.get("/api/openapi.json").json()["components"]["schemas"]
    sent = 0
    for method, path, op in operations(world):
        callers = [office] if path.startswith("/api/office/") else [office, grid]
        for headers, (url, body) in itertools.product(callers, requests_for(schemas, method, path, op)):
            answer = world.client.request(
                method.upper(), url, content=body, headers={**headers, "Content-Type": "application/json"}
            )
            assert_reasoned(answer, f"{method.upper()} {url[:100]} {(body or b'')[:80]!r}")
            sent += 1
    assert sent > 2000


def test_the_office_operations_refuse_everyone_but_the_office(world: World, owner: dict[str, str]) -> None:
    grid = world.login("zhou", "zhou-password")
    office_ops = [(m, p) for m, p, _ in operations(world) if p.startswith("/api/office/")]
    assert len(office_ops) > 40
    for method, path in office_ops:
        url = next(urls(path))
        for who, headers, status in (("nobody", {}, 401), ("grid", grid, 403), ("owner", owner, 403)):
            answer = world.client.request(method.upper(), url, json={}, headers=headers)
            assert answer.status_code == status, f"{who}: {method.upper()} {url}: {answer.text[:200]}"
            assert_reasoned(answer, f"{who}: {method.upper()} {url}")


def test_every_operation_but_the_public_ones_asks_who_is_calling(world: World) -> None:
    for method, path, op in operations(world):
        answer = world.client.request(method.upper(), next(urls(path)), json={})
        if "security" in op:
            assert answer.status_code == 401, f"{method.upper()} {path}: {answer.text[:200]}"
            assert answer.headers["WWW-Authenticate"].startswith("Bearer")
        assert_reasoned(answer, f"{method.upper()} {path}")


@pytest.mark.parametrize(
    ("method", "url", "status", "reason", "allow"),
    [
        ("GET", "/api/nothing/here", 404, "No such path: /api/nothing/here", None),
        ("POST", "/api/office/summary", 405, "Only GET,HEAD allowed", "GET, HEAD"),
        # One path, a route per method: both are allowed.
        ("DELETE", "/api/office/rules", 405, "Only GET,HEAD,PUT allowed", "GET, HEAD, PUT"),
        ("GET", "/api/office/alarms/S0001:alarm:x/ack", 405, "Only POST allowed", "POST"),
        # The PWA's files, mounted at /, used to take these and allow only GET.
        ("PATCH", "/sync/S0001:self_check:x", 405, "Only DELETE,GET,HEAD,PUT allowed", "DELETE, GET, HEAD, PUT"),
        ("PATCH", "/sync/_local/x", 405, "Only DELETE,GET,HEAD,PUT allowed", "DELETE, GET, HEAD, PUT"),
        # CouchDB's endpoints with another method; one that does not exist here looks missing (tests/security).
        ("PUT", "/sync/_revs_diff", 405, "Only POST allowed", "POST"),
        ("DELETE", "/sync/_changes", 405, "Only GET,HEAD,POST allowed", "GET, HEAD, POST"),
        ("GET", "/sync/_find", 404, "missing", None),
    ],
)
def test_a_path_or_method_no_route_takes_is_answered_with_a_reason(
    world: World, method: str, url: str, status: int, reason: str, allow: str | None
) -> None:
    answer = world.client.request(method, url, headers=world.login("wang", "wang-password"))
    assert (answer.status_code, answer.json()) == (status, {"error": answer.json()["error"], "reason": reason})
    assert answer.headers.get("Allow") == allow
