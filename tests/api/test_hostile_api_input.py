"""Hostile input to every `/api/` operation, from a caller allowed to call it: the product promises a 4xx with a
reason for bad input, never a 500 and never a body that is not JSON taken as if it were.

The operations are those of the OpenAPI document the gateway serves (a new route is walked the day it is added).
Each operation that takes path parameters, query parameters or a JSON body is sent, with the other parts good: odd
path values, query values of the wrong type or huge, bodies that are not JSON or not an object, and a body good but
for one field: of the wrong type, huge, missing, or an unknown field beside them. The body fields are the declared
schema's and those of the operation's good body (`Fuzz.bodies`: one that passes the handler's look-ups, so that
each field reaches the handler's own checks).

One world for the module: the good bodies name things of their own (a new shop, grid, community, template and
user; shop S0002 to edit, S0003's owner to sign in, li's password, an alarm per step) so that no operation's
variants change what another's read, and the callers sign in before any case (sign-in attempts are throttled per
address). Operations that act on their path alone (close a shop, revoke an account) are sent odd paths only.
"""

from __future__ import annotations

import itertools
import json
import urllib.parse
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from server.api.openapi import document
from server.app import create_app
from server.settings import Settings
from tests.api.conftest import SECRET, World, open_world
from tests.api.projections import alarm_doc, write
from tests.api.test_every_route import assert_reasoned

Json = dict[str, Any]
Op = tuple[str, str]

# Operations that take nothing but their path (or nothing at all): sent no body, lest a good path act on it.
NO_BODY: frozenset[Op] = frozenset(
    {
        ("post", "/api/auth/renew"),
        ("post", "/api/auth/sign-out"),
        ("post", "/api/shops/{code}/activation"),
        ("post", "/api/office/shops/{code}/close"),
        ("post", "/api/office/shops/{code}/reopen"),
        ("post", "/api/office/users/{user_id}/revoke"),
        ("post", "/api/office/rankings/{month}/publish"),
    }
)
# Operations whose body may be left out (acknowledging an alarm needs no note).
OPTIONAL_BODY: frozenset[Op] = frozenset(
    {("post", "/api/office/alarms/{id}/ack"), ("post", "/api/office/alarms/{id}/resolve")}
)
# The import's body is a spreadsheet; its query is walked with a small CSV, as a dry run.
CSV = "name,address,grid\n新店,曙光北路2号,g1\n".encode()
# Path values that reach the handler, by name, then by operation.
GOOD_PATH: dict[str, str] = {
    "code": "S0001",
    "shop": "S0001",
    "kind": "checks",
    "fmt": "csv",
    "user_id": "grid:li",
}
GOOD_PATH_OF: dict[Op, dict[str, str]] = {
    ("patch", "/api/office/shops/{code}"): {"code": "S0002"},
    ("post", "/api/office/shops/{code}/move"): {"code": "S0002"},
    ("put", "/api/office/registry/communities/{code}"): {"code": "fuzzc"},
    ("put", "/api/office/registry/grids/{code}"): {"code": "g9"},
    ("put", "/api/office/registry/subdistricts/{code}"): {"code": "minglou"},
}
ODD_SEGMENTS = (
    "%00",
    "a%00b",
    "a" * 2000,
    "中文店铺",
    "..",
    "%2e%2e",
    "%2F",
    "..%2F..%2Fsync",
    "%FF%FE",
    "%20",
    "x%0Ay",
    "S0001:alarm:x",
    "-1",
    "1" + "0" * 30,
    "NaN",
)
ODD_QUERY = (
    "",
    "x",
    "-1",
    "0",
    "1.5",
    "1" + "0" * 30,
    "-" + "9" * 30,
    "1e999",
    "NaN",
    "Infinity",
    "true",
    "[]",
    "{}",
    "%00",
    "%FF%FE",
    "%ZZ",
    "中文",
    "a" * 5000,
)
WRONG: dict[str, Any] = {
    "null": None,
    "number": 12345,
    "negative": -1,
    "float": 1.5,
    "string": "x",
    "empty": "",
    "blank": "   ",
    "bool": True,
    "object": {"a": 1},
    "array": [1, "x", None],
    "100KB": "长" * 50_000 + "a" * 50_000,
    "huge_int": 10**30,  # a float once parsed
    "int64_overflow": 2**63,  # still an int: SQLite's integers end below it
    "NaN": "NaN",
    "Infinity": "-Infinity",
    "nul": "a\x00b",
}
NOT_JSON = (
    b"",
    b"not json",
    b"{",
    b'{"a": 1',
    b"\xff\xfe\x00",
    b'{"a": NaN}',
    b'{"a": 1e400}',
    b'{"a": "\\ud800"}',  # a lone surrogate
    b"\x00" * 16,
    b'{"a": ' + b"[" * 5000 + b"]" * 5000 + b"}",
)
WRONG_KIND = (b"[]", b"[{}]", b'"x"', b"1", b"-1.5", b"null", b"true")


def served_operations() -> list[tuple[str, str, Json]]:
    """The operations of the document the gateway serves (`GET /api/openapi.json` answers `document` of the app's
    routes; `test_the_walked_operations_are_those_served` checks that it still does)."""
    app = create_app(Settings(data_dir=Path("unused"), secret=SECRET))
    paths = document(list(app.routes))["paths"]
    return [(method, path, op) for path, ops in paths.items() for method, op in ops.items()]


def takes_input(method: str, path: str, op: Json) -> bool:
    return bool(op.get("parameters")) or (method in ("post", "put", "patch") and (method, path) not in NO_BODY)


OPERATIONS = [(m, p, op) for m, p, op in served_operations() if takes_input(m, p, op)]


class Fuzz:
    """The module's world, its callers signed in, and the good body of each operation that takes one."""

    def __init__(self, world: World) -> None:
        self.world = world
        client, call = world.client, world.call
        call(world.state.accounts.create_staff, "grid", "fuzz", "fuzz-password", "模糊")
        self.office = world.login("wang", "wang-password")
        self.grid = world.login("zhou", "zhou-password")
        code = client.post("/api/shops/S0001/activation", headers=self.grid).json()["code"]
        owner = client.post("/api/auth/activate", json={"shop": "S0001", "code": code, "pin": "246810"})
        assert owner.status_code == 200, owner.text
        self.owner = {"Authorization": "Bearer " + owner.json()["token"]}
        activation = client.post("/api/shops/S0002/activation", headers=self.grid).json()["code"]
        # The owner sign-in is walked with a shop of its own: each sign-in revokes the shop's earlier tokens.
        code = client.post("/api/shops/S0003/activation", headers=self.office).json()["code"]
        assert client.post("/api/auth/activate", json={"shop": "S0003", "code": code, "pin": "135790"}).is_success
        rules = client.get("/api/office/rules", headers=self.office).json()["rules"]
        current = client.get("/api/office/templates", headers=self.office).json()["items"][0]
        template = {k: current[k] for k in ("title", "categories", "items")}
        alarms = {}
        for step in ("ack", "dispatch", "resolve"):
            doc = alarm_doc("S0001", datetime.now(UTC).isoformat(timespec="seconds"))
            call(write, world.state.store, doc)
            call(world.state.alarms.notify, doc)
            alarms[step] = str(doc["_id"])
        month = datetime.now(ZoneInfo(rules["timezone"])).strftime("%Y-%m")  # a month a follow-up may be of
        self.paths: dict[Op, dict[str, str]] = {
            **{(m, p): {"month": month} for m, p, _ in OPERATIONS if "{month}" in p},
            **GOOD_PATH_OF,
            ("put", "/api/office/templates/{id}"): {"id": str(current["_id"]).rsplit(":", 1)[1]},
            **{("post", f"/api/office/alarms/{{id}}/{step}"): {"id": alarm} for step, alarm in alarms.items()},
        }
        shop = {"name": "新店", "address": "曙光北路2号", "category": "food", "grid": "g1"}
        contact = {"name": "张三", "phone": "13800000000"}
        self.bodies: dict[Op, Json] = {
            ("post", "/api/auth/login"): {"username": "fuzz", "password": "fuzz-password", "device_key": "k1"},
            ("post", "/api/auth/owner"): {"shop": "S0003", "pin": "135790", "device_key": "k1"},
            ("post", "/api/auth/activate"): {"shop": "S0002", "code": activation, "pin": "246810"},
            ("post", "/api/devices/report"): {
                "device": "fuzz-phone",
                "app_version": "1.0.0",
                "pending_docs": 0,
                "pending_photos": 0,
                "last_push": "2026-01-01T08:00:00+08:00",
                "last_pull": "2026-01-01T08:00:00+08:00",
                "storage": {"usage": 1, "quota": 2},
                "refused": 0,
            },
            ("post", "/api/office/alarms/{id}/ack"): {"note": "收到"},
            ("post", "/api/office/alarms/{id}/dispatch"): {"department": "fire", "note": "派"},
            ("post", "/api/office/alarms/{id}/resolve"): {"note": "好了"},
            ("post", "/api/office/device-exports"): {
                "device": "fuzz-phone",
                "exported_at": "2026-01-01T08:00:00+08:00",
                "docs": [
                    {
                        "_id": "S0001:self_check:01J00000000000000000000000",
                        "_rev": "1-a",
                        "type": "self_check",
                        "created_by": "owner:S0001",
                    }
                ],
                "refused": [{"id": "S0001:self_check:01J00000000000000000000001", "reason": "x"}],
            },
            ("post", "/api/office/rankings/{month}/followups/{shop}"): {
                "action": "talk",
                "on": f"{month}-01",
                "talked_to": "张三",
                "by": "王科长",
                "note": "约谈",
            },
            ("post", "/api/office/rewards/{shop}/redemptions"): {
                "points": 1,
                "prize": "毛巾",
                "note": "兑换",
                "request_id": "fuzz-1",
            },
            ("put", "/api/office/rules"): rules,
            ("post", "/api/office/templates"): {"id": "fuzz-module", **template},
            ("put", "/api/office/templates/{id}"): template,
            ("post", "/api/office/shops"): {"code": "S0100", **shop, "contact": contact},
            ("patch", "/api/office/shops/{code}"): {**shop, "name": "小吃店S0002", "contact": contact},
            ("post", "/api/office/shops/{code}/move"): {"grid": "g1"},
            ("put", "/api/office/registry/communities/{code}"): {"name": "模糊社区", "subdistrict": "minglou"},
            ("put", "/api/office/registry/grids/{code}"): {"name": "九网格", "community": "wensan", "workers": ["li"]},
            ("put", "/api/office/registry/subdistricts/{code}"): {"name": "明楼街道"},
            ("post", "/api/office/users"): {
                "role": "grid",
                "username": "fuzzer",
                "password": "fuzzer-password",
                "name": "模糊",
                "subdistrict": "minglou",
            },
            ("post", "/api/office/users/{user_id}/password"): {"password": "li-new-password"},
        }

    def callers(self, path: str, op: Json) -> list[dict[str, str]]:
        if "security" not in op:
            return [{}]
        if path.startswith("/api/office/"):
            return [self.office]
        return [self.grid, self.owner] if path.startswith("/api/devices/") else [self.grid]


@pytest.fixture(scope="module")
def fuzz(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fuzz]:
    with open_world(tmp_path_factory.mktemp("hostile")) as world:
        yield Fuzz(world)


def url_of(path: str, values: dict[str, str]) -> str:
    return path.format(**{name: urllib.parse.quote(value, safe="%") for name, value in values.items()})


def path_values(fuzz: Fuzz, method: str, path: str, op: Json) -> dict[str, str]:
    names = [p["name"] for p in op.get("parameters", []) if p["in"] == "path"]
    given = fuzz.paths.get((method, path), {})
    return {name: given.get(name, GOOD_PATH.get(name, "x")) for name in names}


def fields_of(fuzz: Fuzz, schemas: Json, method: str, path: str, op: Json) -> list[str]:
    """The body's fields: those of the good body, and those the declared schema names besides."""
    ref = (op.get("requestBody") or {}).get("content", {}).get("application/json", {}).get("schema", {})
    schema: Json = schemas[ref["$ref"].rsplit("/", 1)[1]] if "$ref" in ref else ref
    return list(dict.fromkeys([*fuzz.bodies.get((method, path), {}), *schema.get("properties", {})]))


def bodies(good: Json, fields: list[str]) -> Iterator[tuple[str, bytes]]:
    """Bodies not JSON or not an object, then the good body with one field wrong (one of its own fields too, for an
    object or a list of objects), missing, or one unknown added."""
    for body in NOT_JSON:
        yield "not JSON", body
    for body in WRONG_KIND:
        yield "not an object", body
    yield "empty object", b"{}"
    for field, (kind, value) in itertools.product(fields, WRONG.items()):
        yield f"{field}={kind}", json.dumps({**good, field: value}, ensure_ascii=False).encode()
    for field, inner in good.items():  # a field of an object the body holds, or of the first of a list of them
        first = inner[0] if isinstance(inner, list) and inner else None
        part = inner if isinstance(inner, dict) else first if isinstance(first, dict) else None
        for name, (kind, value) in itertools.product(part or {}, WRONG.items()):
            wrong = {**(part or {}), name: value}
            changed = wrong if isinstance(inner, dict) else [wrong, *inner[1:]]
            yield f"{field}.{name}={kind}", json.dumps({**good, field: changed}, ensure_ascii=False).encode()
    for field in good:
        yield f"no {field}", json.dumps({k: v for k, v in good.items() if k != field}, ensure_ascii=False).encode()
    for extra in ({"unknown_field": 1}, {"_id": "S0003:self_check:x", "_deleted": True}, {"__proto__": {"a": 1}}):
        yield f"extra {next(iter(extra))}", json.dumps({**good, **extra}).encode()


def test_the_walked_operations_are_those_served(fuzz: Fuzz) -> None:
    served = fuzz.world.client.get("/api/openapi.json").json()["paths"]
    assert {(m, p) for p, ops in served.items() for m in ops} == {(m, p) for m, p, _ in served_operations()}
    assert len(OPERATIONS) > 50


@pytest.mark.parametrize(("method", "path", "op"), OPERATIONS, ids=[f"{m.upper()} {p}" for m, p, _ in OPERATIONS])
def test_hostile_input_is_a_4xx_with_a_reason(fuzz: Fuzz, method: str, path: str, op: Json) -> None:
    client = fuzz.world.client
    schemas = client.get("/api/openapi.json").json()["components"]["schemas"]
    good_path = path_values(fuzz, method, path, op)
    good_url = url_of(path, good_path)
    writes = method in ("post", "put", "patch")
    good_body = fuzz.bodies.get((method, path), {})
    body_required = bool(good_body) or "requestBody" in op
    content_type = "text/csv" if path == "/api/office/import" else "application/json"
    good_content = CSV if path == "/api/office/import" else json.dumps(good_body).encode() if writes else None
    queries = [p["name"] for p in op.get("parameters", []) if p["in"] == "query"]
    endless = path == "/api/office/alarms/stream"

    cases: list[tuple[str, str, bytes | None]] = []
    for name, segment in itertools.product(good_path, ODD_SEGMENTS):
        cases.append((f"path {name}={segment[:20]}", url_of(path, {**good_path, name: segment}), good_content))
    if not endless:
        base_query = {"dry_run": "1"} if path == "/api/office/import" else {}
        for name, value in itertools.product(queries, ODD_QUERY):
            query = urllib.parse.urlencode({**base_query, name: value}, safe="%")
            cases.append((f"query {name}={value[:20]}", f"{good_url}?{query}", good_content))
    if writes and path != "/api/office/import":
        fields = fields_of(fuzz, schemas, method, path, op)
        cases += [(what, good_url, body) for what, body in bodies(good_body, fields)]

    failures = []
    for (what, url, body), headers in itertools.product(cases, fuzz.callers(path, op)):
        answer = client.request(method.upper(), url, content=body, headers={**headers, "Content-Type": content_type})
        try:
            assert_reasoned(answer, "")
            left_out = body == b"" and (method, path) in OPTIONAL_BODY
            if body_required and what in ("not JSON", "not an object") and not left_out:
                assert answer.status_code >= 400, "taken"
        except (AssertionError, KeyError, ValueError) as e:
            sent = f"{what} ({url[:80]}, {(body or b'')[:60]!r})"
            failures.append(f"{sent}: {answer.status_code} {answer.text[:200]} {e}")
    assert not failures, f"{len(failures)} of {len(cases)}:\n" + "\n".join(failures[:40])
