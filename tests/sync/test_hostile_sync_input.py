"""Hostile input to every `/sync/` route and method, as the operator and as two devices (a shop owner and a grid
worker): CouchDB's 4xx with `{"error", "reason"}` for bad input, never a 5xx, never a body that is not a JSON object
or a parameter value its kind refuses taken as if it were good, and never a device shown a document of a shop
outside its scope.

The routes are the app's own (a route added under `/sync` is walked the day it is added, with the methods it does
not take too), and the query parameters and body fields are read from each handler's source (`q_int`, `q_bool`,
`q_json`, `query_params.get`, `body.get`), so a parameter added is fuzzed too. Each case has one part odd and the
others good: a query value, a header, a path segment, or the body (not JSON, not an object, or the good body with one
field wrong, one field of its first inner object wrong, one left out or an odd one added).

Bounded and seeded (about 2,400 requests a caller, sent in the app's event loop): a parameter gets every odd value
at the first method and good query that read it, one value elsewhere; a path segment every odd value at its route's
first method, a few elsewhere; headers and authorizations are spread over the routes. HEAD is sent the good requests
and answers as GET.
Shops S0002 and S0003 hold documents with a marker of their own: outside the owner's scope both, outside the grid
worker's S0003.
"""

from __future__ import annotations

import base64
import inspect
import itertools
import json
import random
import re
import urllib.parse
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from starlette.routing import Route

from server.app import create_app
from server.http import ANY_METHOD, no_route
from server.ids import new_ulid
from server.settings import Settings
from server.sync import routes as sync_routes
from tests.api.conftest import SECRET, World, open_world
from tests.security.docs import PNG, patrol, self_check

Json = dict[str, Any]
T = TypeVar("T")
SEED = 20_260_301
SAMPLED = 2  # segments and inner fields sent where they are not sent in full; headers and authorizations a route
OTHER_SHOP = "S0009"  # no such shop: what odd values name, so that no stored document names a real one

# ----- what is sent -----

ODD_ANY = ("", "null", "a\x00b", "\udcff", "中文", "a" * 5000)  # "\udcff" goes as %ED%B3%BF: not UTF-8
ODD_BY_KIND: dict[str, tuple[str, ...]] = {
    "int": (
        "-1",
        str(2**64),
        str(2**53 + 1),
        "-" + "9" * 40,
        "1e309",
        "1.5",
        "0x10",
        "\u00b2",  # ²: isdigit() is true, int() refuses it
        "\u0661\u0662",  # Arabic-Indic 12
        "\uff11\uff12",  # full-width 12
        " 12 ",
        "\t1",
        "1_0",
        "NaN",
        "Infinity",
        "-Infinity",
    ),
    "bool": ("maybe", "TRUE", " true", "2", "\uff11", "-0"),
    "json": (
        "{",
        "{}",
        '{"a": 1}',
        "[" * 1000 + "]" * 1000,
        '{"a": ' * 1000 + "1" + "}" * 1000,
        '"a\\u0000b"',
        '["a\\u0000b"]',
        "[1, 2]",
        f'"{OTHER_SHOP}"',
        "1e309",
        "NaN",
        "true",
        '"\\ud800"',
    ),
    "raw": (
        "now",
        "all",
        "-1",
        str(2**64),
        "9" * 20,
        "9" * 20 + "-x",
        "9" * 25 + "-abc",
        "\u00b2",
        "\uff11\uff12",
        "1_0",
        " 1",
        "1-abc",
        "x-1",
        "0-" + "f" * 32,
        "1-" + "f" * 32,
        "normal",
        "longpoll",
        "continuous",
        "_doc_ids",
        "_selector",
        "_view",
        "[1, 2]",
    ),
}
HEADERS: tuple[tuple[str, str | bytes], ...] = (
    ("Content-Type", "text/plain"),
    ("Content-Type", "multipart/related; boundary=xyz"),
    ("Content-Type", "multipart/form-data"),
    ("Content-Type", "application/x-www-form-urlencoded"),
    ("Content-Type", "application/json; charset=latin-1"),
    ("Content-Type", ";;;=garbage"),
    ("Content-Type", "中文".encode()),
    ("Content-Length", "abc"),
    ("Content-Length", "-1"),
    ("Content-Length", "１２".encode()),
    ("Content-Length", "1_0"),
    ("Content-Length", " 5"),
    ("Content-Length", str(2**64)),
    ("Accept-Encoding", "gzip;q=0"),
    ("Accept-Encoding", "x-gzip"),
    ("Accept-Encoding", "*"),
    ("Accept-Encoding", "identity;q=0, *;q=0"),
    ("Accept-Encoding", "br"),
    ("Accept-Encoding", "gzip, " * 500),
    ("Accept-Encoding", "中文".encode()),
    ("If-Match", "garbage"),
    ("If-Match", '"1-abc"'),
    ("X-Mashang-Device", "d" * 10_000),
    ("X-Mashang-Device", "设备".encode()),
)
ODD_SEGMENTS = (  # as they go in the URL
    "%2F",
    "a%2Fb",
    "%00",
    "a%00b",
    "x" * 10_000,
    "S0001:self_check:" + "x" * 1000,
    "%E4%B8%AD%E6%96%87",
    "_design%2Fx",
    "_design/x",
    "_local%2Fx",
    "_local/x/y",
    "%2e%2e",
    "..%2F..%2Fapi",
    "%FF%FE",
    "%20",
    "x%0Ay",
    "S0001%3Aself_check%3Ax",
    "a/b/c",
)
WRONG: dict[str, Any] = {
    "null": None,
    "number": 12345,
    "negative": -1,
    "float": 1.5,
    "huge_int": 10**30,
    "int64_overflow": 2**64,
    "string": "x",
    "empty": "",
    "bool": True,
    "object": {"a": 1},
    "deep": json.loads("[" * 60 + "]" * 60),
    "array": [1, "x", None],
    "strings": ["a\x00b", f"{OTHER_SHOP}:self_check:x"],
    "100KB": "长" * 30_000 + "a" * 10_000,
    "nul": "a\x00b",
    "rev_like": "1-" + "f" * 32,
    "huge_rev": "9" * 25 + "-abc",
}
# The fields of a document the handlers never name but the writes read: a document's body is fuzzed in them too.
DOC_FIELDS = ("_rev", "_deleted", "_attachments", "_revisions", "_conflicts")
NOT_JSON = (
    b"",
    b"not json",
    b"{",
    b'{"docs": [',
    b"\xff\xfe\x00",
    b'{"a": NaN}',
    b'{"a": Infinity}',
    b'{"a": 1e400}',
    b'{"a": "\\ud800"}',  # a lone surrogate
    b"\x00" * 16,
    b'{"a": "\xff"}',
    b'{"a": ' + b"[" * 1000 + b"]" * 1000 + b"}",
)
WRONG_KIND = (b"[]", b"[{}]", b'"x"', b"1", b"-1.5", b"null", b"true")


# ----- what the handlers read, from their source -----

_Q_NAMED = re.compile(r"\bq_(int|bool)\(request, \"(\w+)\"")
_Q_JSON = re.compile(r"\bq_json\(request((?:, \"\w+\")+)\)")
_Q_RAW = re.compile(r"query_params\.get\(\"(\w+)\"")
_BODY_FIELD = re.compile(r"\bbody\.get\(\"(\w+)\"")
_ENTRY_FIELD = re.compile(r"\br\.get\(\"(\w+)\"")  # of an entry of the body's list (`_bulk_get`'s docs)


def _source(fn: Callable[..., Any], seen: set[str] | None = None) -> str:
    """The source of `fn` and of the functions of its module it calls, as far as they go."""
    seen = set() if seen is None else seen
    seen.add(fn.__name__)
    text = inspect.getsource(fn)
    module = inspect.getmodule(fn)
    for name in sorted(set(re.findall(r"\b(_?[a-z]\w*)\(", text)) - seen):
        called = getattr(module, name, None)
        if inspect.isfunction(called) and called.__module__ == fn.__module__:
            text += _source(called, seen)
    return text


def params_read(endpoint: Callable[..., Any]) -> dict[str, str]:
    """The query parameters a handler reads, each with its kind: int, bool, json or raw."""
    text = _source(endpoint)
    found = {name: kind for kind, name in _Q_NAMED.findall(text)}
    for names in _Q_JSON.findall(text):
        found.update({name: "json" for name in re.findall(r"\"(\w+)\"", names)})
    found.update({name: "raw" for name in _Q_RAW.findall(text) if name not in found})
    return found


def fields_read(endpoint: Callable[..., Any]) -> tuple[list[str], list[str]]:
    """The fields of a JSON body a handler reads, and those of the entries of a list in it."""
    text = _source(endpoint)
    return sorted(set(_BODY_FIELD.findall(text))), sorted(set(_ENTRY_FIELD.findall(text)))


def valid(kind: str, value: str) -> bool:
    """Whether a parameter of `kind` takes `value` (for CouchDB `?include_docs` alone is true)."""
    if kind == "bool":
        return value in ("true", "false", "1", "0", "")
    return kind != "int" or bool(re.fullmatch(r"[0-9]{1,15}", value))


METHOD_ORDER = ["PUT", "POST", "GET", "HEAD", "DELETE", "PATCH", "OPTIONS"]  # written before read, deleted last


def routes_walked() -> list[tuple[str, Route]]:
    """Every route of the app under `/sync` with each method: those it takes (HEAD where GET), then the others."""
    app = create_app(Settings(data_dir=Path("unused"), secret=SECRET))
    found = []
    for route in app.routes:
        if isinstance(route, Route) and route.path.startswith("/sync"):
            taken = sorted(route.methods or (), key=METHOD_ORDER.index)
            found += [(method, route) for method in taken + sorted(set(ANY_METHOD) - set(taken))]
    return found


ROUTES = routes_walked()


# ----- the world -----


@dataclass(frozen=True)
class Caller:
    name: str
    role: str
    headers: dict[str, str]
    outside: frozenset[str]  # shops outside its scope (none: the operator)


@dataclass(frozen=True)
class Fuzz:
    world: World
    callers: dict[str, Caller]
    check_id: str  # S0001's self-check, which the good requests read
    check_rev: str
    photo_id: str  # S0001's photo, holding `photo.png`
    revs_of: dict[str, frozenset[str]]  # the revisions of the marked documents, by shop
    doomed: dict[str, tuple[str, str]]  # by caller: the id and revision of S0001's document it deletes
    # By shop: what stands for `check_id`, `check_rev` and `photo_id` in requests for a marked shop's documents.
    marked: dict[str, dict[str, str]]


def marker(shop: str) -> str:
    return f"marker-of-{shop}-7f3a"


def _write(world: World, admin: dict[str, str], docs: list[Json]) -> list[Json]:
    answer = world.client.post("/sync/_bulk_docs", json={"docs": docs}, headers=admin)
    assert answer.status_code == 201, answer.text
    result: list[Json] = answer.json()
    assert all(a.get("ok") for a in result), result
    return result


def _photo(shop: str, picture: bytes = PNG, **fields: Any) -> Json:
    atts = {"photo.png": {"content_type": "image/png", "data": base64.b64encode(picture).decode()}}
    return {"_id": f"{shop}:photo:{new_ulid()}", "type": "photo", "shop": shop, "_attachments": atts, **fields}


@pytest.fixture(scope="module")
def fuzz(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fuzz]:
    # A longpoll waits 20 ms at most: any timeout a case sends is cut to it.
    with open_world(tmp_path_factory.mktemp("hostile-sync"), longpoll_max_ms=20, run_validators=False) as world:
        admin = world.admin()
        grid = world.login("zhou", "zhou-password")
        code = world.client.post("/api/shops/S0001/activation", headers=grid).json()["code"]
        owner = world.client.post("/api/auth/activate", json={"shop": "S0001", "code": code, "pin": "246810"})
        assert owner.status_code == 200, owner.text
        check, photo = self_check("S0001", "owner:S0001"), _photo("S0001")
        doomed = {name: self_check("S0001", "owner:S0001") for name in ("admin", "owner", "grid")}
        [written, _, *deletable] = _write(world, admin, [check, photo, *doomed.values()])
        revs_of, marked = {}, {}
        for shop in ("S0002", "S0003"):
            mark = marker(shop)
            docs = [{**self_check(shop, f"owner:{shop}"), "note": mark}, _photo(shop, PNG + mark.encode(), note=mark)]
            answers = _write(world, admin, docs)
            revs_of[shop] = frozenset(a["rev"] for a in answers)
            ids = {check["_id"]: docs[0]["_id"], written["rev"]: answers[0]["rev"], photo["_id"]: docs[1]["_id"]}
            marked[shop] = {**ids, "S0001:": f"{shop}:", '"S0001"': f'"{shop}"'}  # the ids first
        callers = {
            "admin": Caller("admin", "admin", admin, frozenset()),
            "owner": Caller("owner", "owner", {"Authorization": "Bearer " + owner.json()["token"]}, frozenset(revs_of)),
            "grid": Caller("grid", "grid", grid, frozenset({"S0003"})),
        }
        for caller in callers.values():  # the checkpoint each reads and deletes (the odd writes make their own)
            answer = world.client.put("/sync/_local/fuzz-checkpoint", json={"last_seq": "1"}, headers=caller.headers)
            assert answer.json()["rev"] == "0-1", answer.text
        gone = {name: (doc["_id"], a["rev"]) for (name, doc), a in zip(doomed.items(), deletable, strict=True)}
        yield Fuzz(world, callers, check["_id"], written["rev"], photo["_id"], revs_of, gone, marked)


# ----- the cases -----


@dataclass(frozen=True)
class Case:
    what: str
    method: str
    url: str
    body: bytes | None = None
    headers: tuple[tuple[str, str | bytes], ...] = ()
    not_json: bool = False  # a body that is not a JSON object: never taken
    refused: bool = False  # a parameter value its kind refuses, where it is read: never taken
    outside: bool = False  # a good request made to name a shop outside a device's scope: never a write taken


def good_doc(caller: Caller) -> Json:
    """A document `caller` may write, with an id of its own: a grid worker's patrol, anyone else's self-check."""
    return patrol("S0001", "grid:zhou") if caller.role == "grid" else self_check("S0001", "owner:S0001")


def good_path(fuzz: Fuzz, caller: Caller, route: Route, method: str) -> dict[str, str]:
    """A path that reaches the handler: a document in every caller's scope, a new one to write, one to delete."""
    values = {"local_id": "fuzz-checkpoint", "rest": "design/x", "name": "photo.png", "doc_id": fuzz.check_id}
    if "name" in route.param_convertors:
        values["doc_id"] = fuzz.photo_id
    elif method == "PUT":
        values["doc_id"] = f"S0001:{'patrol' if caller.role == 'grid' else 'self_check'}:{new_ulid()}"
        values["local_id"] = f"fuzz-{new_ulid()}"
    elif method == "DELETE":
        values["doc_id"] = fuzz.doomed[caller.name][0]
    return {name: values.get(name, "x") for name in route.param_convertors}


def good_bases(fuzz: Fuzz, caller: Caller, method: str, route: Route) -> list[tuple[dict[str, str], Json | None]]:
    """The good queries and bodies of a route and method, the main one first."""
    ids = [fuzz.check_id, fuzz.photo_id]
    writes = method in ("POST", "PUT", "PATCH")
    empty: Json | None = {} if writes else None
    if route.path == "/sync/_changes":
        longpoll = {"feed": "longpoll", "timeout": "1"}
        by_ids = ({"filter": "_doc_ids"}, {"doc_ids": ids})
        by_selector = ({"filter": "_selector"}, {"selector": {"type": "self_check"}})
        return [  # a longpoll first: an error of the store's found once its answer has begun would be a 200
            ({**longpoll, "since": "0"}, empty),
            ({}, empty),
            ({**longpoll, "since": "now", "heartbeat": "1"}, empty),
            *([by_ids, by_selector] if writes else [({**by_ids[0], "doc_ids": json.dumps(ids)}, None)]),
            *([] if writes else [({"style": "all_docs"}, None)]),
        ]
    if route.path == "/sync/_all_docs":
        return [({"include_docs": "true"}, {"keys": ids} if writes else None), ({"keys": json.dumps(ids)}, empty)]
    if route.path == "/sync/{doc_id}" and method in ("GET", "HEAD"):
        return [
            ({"revs": "true"}, None),
            ({"open_revs": json.dumps([fuzz.check_rev])}, None),
            ({"open_revs": "all"}, None),
        ]
    if route.path == "/sync/{doc_id}" and method == "DELETE":
        return [({"rev": fuzz.doomed[caller.name][1]}, None)]
    if route.path == "/sync/_local/{local_id:path}" and method == "DELETE":
        return [({"rev": "0-1"}, None)]  # the checkpoint the fixture wrote
    bodies: dict[str, Json] = {
        "/sync/_revs_diff": {fuzz.check_id: [fuzz.check_rev, "2-" + "a" * 32]},
        "/sync/_bulk_get": {"docs": [{"id": fuzz.check_id, "rev": fuzz.check_rev}, {"id": fuzz.photo_id}]},
        "/sync/_bulk_docs": {"docs": [good_doc(caller)], "new_edits": True},
        "/sync/_local/{local_id:path}": {"last_seq": "12", "session_id": "s"},
        "/sync/{doc_id}": good_doc(caller),
    }
    return [({}, bodies.get(route.path, {}) if writes else None)]


def spread(items: Sequence[T], index: int, per: int, rng: random.Random) -> list[T]:
    """The `index`-th target's `per` of `items`, turn by turn from a seeded start: targets enough take every item."""
    start = rng.randrange(len(items))
    return [items[(start + index * per + k) % len(items)] for k in range(min(per, len(items)))]


def odd_bodies(
    good: Json, read: Sequence[str], entries_read: Sequence[str], document: bool, rng: random.Random
) -> Iterator[Case]:
    """Bodies not JSON or not an object, then the good body with one field wrong (of those it has and those the
    handler reads, a document's own fields too), or one field of its first inner object (every wrong value for a
    field the handler or the writes read of it, a few for the others), missing, or an odd one added."""
    if document:
        read = [*read, *DOC_FIELDS]
    for raw in NOT_JSON:
        yield Case(f"not JSON {raw[:12]!r}", "", "", raw, not_json=True)
    for raw in WRONG_KIND:
        yield Case(f"not an object {raw!r}", "", "", raw, not_json=True)
    yield Case("BOM", "", "", b"\xef\xbb\xbf" + json.dumps(good).encode())
    yield Case("empty object", "", "", b"{}")
    for name, (kind, value) in itertools.product(dict.fromkeys([*good, *read]), WRONG.items()):
        yield Case(f"{name}={kind}", "", "", json.dumps({**good, name: value}, ensure_ascii=False).encode())
    for name, inner in good.items():
        first = inner[0] if isinstance(inner, list) and inner else None
        part = inner if isinstance(inner, dict) else first if isinstance(first, dict) else None
        if part is None:
            continue
        full = [*(entries_read if isinstance(inner, list) else ()), *(DOC_FIELDS if "type" in part else ())]
        for field in dict.fromkeys([*part, *full]):
            values = WRONG.items() if field in full else rng.sample(list(WRONG.items()), SAMPLED)
            for kind, value in values:
                wrong = {**part, field: value}
                changed = wrong if isinstance(inner, dict) else [wrong, *inner[1:]]
                body = json.dumps({**good, name: changed}, ensure_ascii=False).encode()
                yield Case(f"{name}.{field}={kind}", "", "", body)
    for name in good:
        yield Case(f"no {name}", "", "", json.dumps({k: v for k, v in good.items() if k != name}).encode())
    for key in ("", "a\x00b", "_local/x", f"{OTHER_SHOP}:self_check:x"):
        yield Case(f"extra {key!r}", "", "", json.dumps({**good, key: ["1-a"]}).encode())


def outside_segments(name: str) -> list[str]:
    """Paths to documents of shops outside the devices' scopes."""
    return ["S0003:self_check:" + new_ulid(), "S0003%3Aphoto%3Ax", "S0002:photo:x"] if name == "doc_id" else []


def authorizations(caller: Caller) -> list[str | bytes]:
    token = caller.headers["Authorization"].split(" ", 1)[1]
    return [
        "",
        "Bearer",
        "Bearer ",
        "Bearer garbage",
        "Bearer a.b.c",
        "Bearer " + "a" * 100_000,
        "Basic YWRtaW46YWRtaW4=",
        "Bearer 令牌".encode(),
        f"Bearer {token}x",
        f"Bearer {token[:-2]}",
        f"bearer  {token} ",
        f"Bearer {token}\x7f",
        f"Bearer {token} {token}",
    ]


class Walk:
    """One caller's walk of every route: what was sent in full so far, and the statuses of the good requests."""

    def __init__(self, fuzz: Fuzz, caller: Caller, client: httpx.AsyncClient) -> None:
        self.fuzz, self.caller, self.client = fuzz, caller, client
        self.rng = random.Random(f"{SEED}-{caller.name}")
        self.turn = 0  # of the parameters sent one value, and of the routes sent a few headers
        self.params_sent: set[tuple[str, str]] = set()
        self.segments_sent: set[str] = set()
        self.good: dict[tuple[str, str, str], int] = {}  # by method, path and query

    async def send(self, case: Case) -> httpx.Response:
        headers: dict[str, str | bytes] = dict(self.caller.headers)
        if case.body is not None:
            headers["Content-Type"] = "application/json"
        headers.update(case.headers)
        raw = [(k.encode(), v if isinstance(v, bytes) else v.encode()) for k, v in headers.items()]
        return await self.client.request(case.method, case.url, content=case.body, headers=raw)

    async def cases(self, method: str, route: Route) -> AsyncIterator[Case]:
        """The cases of one route and method."""
        at = Target(self, method, route)
        bases = good_bases(self.fuzz, self.caller, method, route)
        for number, (query, body) in enumerate(bases):
            yield at.case("good" if number == 0 else f"good {query}", at.url(query), body)
        if method not in (route.methods or ()) or method in ("HEAD", "OPTIONS", "PATCH"):
            return
        for query, body in bases:
            async for case in self.queries(at, query, body):
                yield case
        query, body = bases[0]
        for shop in sorted(self.caller.outside):
            if (named := self.outside(at, shop, query, body)) is not None:
                yield at.case(f"outside {shop}", *named, outside=True)
        if isinstance(body, dict):
            document = route.endpoint in (sync_routes.document, sync_routes.local_doc)
            for odd in odd_bodies(body, *fields_read(route.endpoint), document, self.rng):
                yield at.case(f"body {odd.what}", at.url(query), odd.body, not_json=odd.not_json)
        self.turn += 1
        for name, value in spread(HEADERS, self.turn, SAMPLED, self.rng):
            yield at.case(f"header {name}={value[:24]!r}", at.url(query), body, headers=((name, value),))
        for auth in spread(authorizations(self.caller), self.turn, SAMPLED, self.rng):
            yield at.case(f"authorization {auth[:24]!r}", at.url(query), body, headers=(("Authorization", auth),))
        first = route.path not in self.segments_sent
        self.segments_sent.add(route.path)
        for name in route.param_convertors:
            segments = (*ODD_SEGMENTS, *outside_segments(name))
            for segment in segments if first else self.rng.sample(segments, SAMPLED):
                yield at.case(f"path {name}={segment[:24]!r}", at.url(query, {name: segment}), body)

    def outside(
        self, at: Target, shop: str, query: dict[str, str], body: Json | None
    ) -> tuple[str, bytes | None] | None:
        """The main good request with the documents it names, and its shop, those of `shop` (None: it names none)."""
        url = given = at.url(query)
        raw = source = at.case("", url, body).body or b""
        for ours, theirs in self.fuzz.marked[shop].items():
            url = url.replace(ours, theirs).replace(urllib.parse.quote(ours, safe=""), urllib.parse.quote(theirs))
            raw = raw.replace(ours.encode(), theirs.encode())
        return (url, raw if body is not None else None) if (url, raw) != (given, source) else None

    async def queries(self, at: Target, query: dict[str, str], body: Json | None) -> AsyncIterator[Case]:
        """Every odd value of a parameter where it is first read, one elsewhere; there a value its kind refuses must
        be refused (a value no parameter takes changes the answer where the handler reads it: elsewhere it is
        ignored, as CouchDB ignores it)."""
        good: int | None = None
        for name, kind in params_read(at.route.endpoint).items():
            everything = False
            if (at.route.path, name) not in self.params_sent:
                good = good or (await self.send(at.case("", at.url(query), body))).status_code
                probe = at.case("", at.url({**query, name: "\x00?"}), body)
                everything = (await self.send(probe)).status_code != good
            odd = (*ODD_ANY, *ODD_BY_KIND[kind])
            if everything:
                self.params_sent.add((at.route.path, name))
                for first, second in (("1", "x"), ("x", "1"), ("", "")):
                    repeated = at.url([*query.items(), (name, first), (name, second)])
                    yield at.case(f"query {name} repeated {first!r},{second!r}", repeated, body)
            else:
                self.turn += 1
            for value in odd if everything else spread(odd, self.turn, 1, self.rng):
                refused = everything and not valid(kind, value)
                yield at.case(f"query {name}={value[:24]!r}", at.url({**query, name: value}), body, refused=refused)


@dataclass(frozen=True)
class Target:
    """A route and method of one walk: its URLs and cases."""

    walk: Walk
    method: str
    route: Route

    def url(self, query: dict[str, str] | list[tuple[str, str]], segments: dict[str, str] | None = None) -> str:
        path = self.route.path
        values = good_path(self.walk.fuzz, self.walk.caller, self.route, self.method)
        values = {k: urllib.parse.quote(v, safe=":") for k, v in values.items()} | (segments or {})
        for name, value in values.items():
            param = re.search(r"\{" + name + r"(:\w+)?\}", path)
            assert param is not None
            tail = param[0] == f"{{{name}:tail}}"  # what follows `/sync`: from its slash on
            path = path[: param.start()] + (f"/{value}" if tail else value) + path[param.end() :]
        pairs = list(query.items()) if isinstance(query, dict) else query
        qs = urllib.parse.urlencode(pairs, quote_via=urllib.parse.quote, errors="surrogatepass")
        return path + (f"?{qs}" if qs else "")

    def case(self, what: str, url: str, body: Json | bytes | None, **kw: Any) -> Case:
        if isinstance(body, dict) and self.route.path == "/sync/{doc_id}":  # the body's id is the path's
            body = {**body, "_id": urllib.parse.unquote(url.split("?")[0].rsplit("/", 1)[1])}
        raw = json.dumps(body).encode() if isinstance(body, dict) else body
        return Case(what, self.method, url, raw, **kw)


# ----- the checks -----


def sent_text(case: Case) -> str:
    headers = " ".join(v.decode("utf-8", "replace") if isinstance(v, bytes) else v for _, v in case.headers)
    return urllib.parse.unquote(case.url) + (case.body or b"").decode("utf-8", "replace") + headers


def problems(fuzz: Fuzz, caller: Caller, case: Case, answer: httpx.Response) -> list[str]:
    status, found = answer.status_code, []
    if status >= 500:
        found.append("a 5xx")
    if 200 <= status < 300 and case.not_json:
        found.append("a body that is not a JSON object taken")
    if 200 <= status < 300 and case.refused:
        found.append("a parameter value its kind refuses taken")
    if case.method == "HEAD":
        return found
    if status >= 400:
        try:
            body = answer.json()
        except ValueError:
            return [*found, "a 4xx not JSON"]
        if not (
            isinstance(body, dict) and body.get("error") and isinstance(body.get("reason"), str) and body["reason"]
        ):
            found.append("a 4xx with no reason")
    elif answer.headers.get("content-type", "").startswith("application/json"):
        try:
            body = json.loads(answer.text)
        except ValueError:
            found.append("a 2xx whose JSON does not parse")
        else:
            if isinstance(body, dict) and "error" in body and "reason" in body:
                found.append("an error answered as a 2xx")
    text, sent = answer.text, sent_text(case)
    if case.outside and 200 <= status < 300 and re.search(r'"ok":\s*true', text):
        found.append("a write outside the scope taken")
    for shop in sorted(caller.outside):
        if marker(shop) in text:
            found.append(f"a document of {shop} shown")
        if shop in text and shop not in sent:
            found.append(f"{shop} named")
        found += [f"a revision of {shop} shown" for rev in fuzz.revs_of[shop] if rev in text and rev not in sent]
    return found


# Good requests that CouchDB refuses too: the database exists, attachments are written inline with their document.
REFUSED_GOOD = {
    ("PUT", "/sync"): 412,
    ("PUT", "/sync/"): 412,
    ("PUT", "/sync/{doc_id}/{name:path}"): 405,
    ("DELETE", "/sync/{doc_id}/{name:path}"): 405,
}


def good_problems(walk: Walk) -> list[str]:
    """The good requests reach their handler and are taken (a device deletes no event), and HEAD answers as GET."""
    found = []
    routes = {route.path: route for _, route in ROUTES}
    for (method, path, what), status in walk.good.items():
        if routes[path].endpoint in (sync_routes.unknown, no_route):
            continue
        expected = REFUSED_GOOD.get((method, path))
        if walk.caller.outside and (method, path) == ("DELETE", "/sync/{doc_id}"):
            expected = 403
        if method == "HEAD":
            expected = walk.good[("GET", path, what)]
        if status != expected and (expected is not None or status >= 400):
            found.append(f"{method} {path} {what}: {status}, not {expected or '2xx'}")
    return found


def test_every_sync_route_is_walked() -> None:
    """The routes walked are the app's, those PouchDB calls among them, and what is read from the handlers' source
    is what they read."""
    walked = {(method, route.path) for method, route in ROUTES}
    for expected in [
        ("GET", "/sync/"),
        ("DELETE", "/sync"),
        ("PUT", "/sync/_local/{local_id:path}"),
        ("GET", "/sync/_changes"),
        ("POST", "/sync/_changes"),
        ("POST", "/sync/_revs_diff"),
        ("POST", "/sync/_bulk_get"),
        ("POST", "/sync/_bulk_docs"),
        ("GET", "/sync/_all_docs"),
        ("POST", "/sync/_all_docs"),
        ("GET", "/sync/_{rest:path}"),
        ("DELETE", "/sync/{doc_id}"),
        ("PUT", "/sync/{doc_id}/{name:path}"),
    ]:
        assert expected in walked
    assert params_read(sync_routes.changes) == {
        "feed": "raw",
        "style": "raw",
        "filter": "raw",
        "doc_ids": "json",
        "since": "raw",
        "timeout": "int",
        "limit": "int",
        "include_docs": "bool",
        "conflicts": "bool",
        "attachments": "bool",
        "descending": "bool",
        "heartbeat": "int",
    }
    assert {"rev", "open_revs", "revs", "latest", "new_edits"} <= set(params_read(sync_routes.document))
    assert {"keys", "startkey", "end_key", "skip"} <= set(params_read(sync_routes.all_docs))
    assert fields_read(sync_routes.bulk_docs) == (["docs", "new_edits"], [])
    assert fields_read(sync_routes.bulk_get) == (["docs"], ["atts_since", "id", "rev"])


async def walk_all(fuzz: Fuzz, caller: Caller) -> tuple[list[str], int]:
    """Every case of `caller`, sent in the app's own event loop (a test client's request costs four times as much:
    each part of it crosses between threads), and what was wrong with the answers."""
    app = fuzz.world.client.app
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        walk = Walk(fuzz, caller, client)
        failures, sent = [], 0
        for method, route in ROUTES:
            async for case in walk.cases(method, route):
                answer = await walk.send(case)
                sent += 1
                if case.what.startswith("good") and method in (route.methods or ()):
                    walk.good[(method, route.path, case.what)] = answer.status_code
                if found := problems(fuzz, caller, case, answer):
                    failures.append(
                        f"{case.method} {route.path} {case.what} ({case.url[:90]}, {(case.body or b'')[:60]!r}): "
                        f"{answer.status_code} {answer.text[:160]} -> {', '.join(found)}"
                    )
    return failures + good_problems(walk), sent


@pytest.mark.parametrize("who", ["admin", "owner", "grid"])
def test_hostile_sync_input_is_a_4xx_with_a_reason(fuzz: Fuzz, who: str) -> None:
    failures, sent = fuzz.world.call(walk_all, fuzz, fuzz.callers[who])
    assert sent > 1000
    assert not failures, f"{who}, seed {SEED}: {len(failures)} of {sent}:\n" + "\n".join(failures[:60])
