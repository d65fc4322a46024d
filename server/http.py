"""HTTP helpers shared by every route: bounded JSON bodies, CouchDB-style query parameters, gzip answers."""

from __future__ import annotations

import gzip
import re
import zlib
from collections.abc import AsyncIterator
from typing import Any

import orjson
from starlette.convertors import Convertor, register_url_convertor
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Match, Route

from server.errors import CouchError, bad_request, not_found, too_large
from server.settings import Settings


def settings_of(request: Request) -> Settings:
    s: Settings = request.app.state.settings
    return s


async def read_body(request: Request) -> bytes:
    """The request body, refused with a 413 as soon as it passes the configured limit."""
    limit = settings_of(request).max_body_bytes
    declared = request.headers.get("content-length")
    if declared is not None:
        size = ascii_int(declared)
        if size is None or size < 0:
            raise bad_request("Invalid Content-Length")
        if size > limit:
            raise too_large()
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise too_large()
            chunks.append(chunk)
    except ClientDisconnect:
        # The phone lost its signal mid-upload: nothing was written, and nobody is left to answer. A plain
        # error ends the request without the traceback an unhandled exception would log.
        raise bad_request("The client disconnected before the request body was complete") from None
    return b"".join(chunks)


# A whole number as CouchDB reads one from a query or a header: ASCII digits only. Python's int() also takes "1_0",
# " 7 " and full-width "１２", and str.isdigit() is true of "²", which int() refuses: a 500 where a 400 was due.
_INTEGER = re.compile(r"-?[0-9]{1,30}")


def ascii_int(raw: str) -> int | None:
    """`raw` as an integer when it is one written in ASCII digits (an optional leading minus), else None."""
    return int(raw) if _INTEGER.fullmatch(raw) else None


MAX_JSON_DEPTH = 64
MAX_QUERY_INT = 2**53  # JSON's safe integers; SQLite's are 64-bit


async def read_json(request: Request) -> Any:
    body = await read_body(request)
    if not body:
        raise bad_request("Request body is empty; a JSON document is required")
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise bad_request("invalid UTF-8 JSON") from None
    if isinstance(data, dict | list) and too_deep(body, MAX_JSON_DEPTH):
        raise bad_request(f"JSON is nested deeper than {MAX_JSON_DEPTH} levels")
    return data


# Every byte but quotes and brackets (deleted); one kind of bracket for both (mapped); an escape; a string (once its
# escapes are gone).
_NOT_STRUCTURE = bytes(b for b in range(256) if b not in b'"[]{}')
_ONE_KIND = bytes.maketrans(b"{}", b"[]")
_ESCAPE = re.compile(rb"\\.", re.DOTALL)
_STRING = re.compile(rb'"[^"]*"')


def too_deep(body: bytes, limit: int) -> bool:
    """Whether the valid JSON `body` nests arrays and objects deeper than `limit` (a hostile body may be 1,000
    levels deep), in a few passes in C: the escapes go (a body without a backslash has none to look for), then
    everything but quotes and brackets, objects' braces becoming brackets; then the strings. What is left is the
    containers alone, and each pass after that removes the innermost (`[]`: one scan of `bytes.replace` removes
    the pairs that were innermost when it began, so exactly one level). A third of the time regular expressions
    for the containers took (0.5 ms for a 100-document `_bulk_docs`); walking the parsed value took 4 ms."""
    rest = _ESCAPE.sub(b"", body) if b"\\" in body else body
    rest = rest.translate(_ONE_KIND, _NOT_STRUCTURE)
    # Two adjacent quotes are an empty string or the end of one string and the start of the next: dropping them
    # leaves every bracket inside or outside a string as it was, and only strings that hold a bracket are left.
    rest = _STRING.sub(b"", rest.replace(b'""', b""))
    for _ in range(limit):
        if not rest:
            return False
        rest = rest.replace(b"[]", b"")
    return bool(rest)


async def read_object(request: Request) -> dict[str, Any]:
    data = await read_json(request)
    if not isinstance(data, dict):
        raise bad_request("Request body must be a JSON object")
    return data


def json_response(request: Request, data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """orjson-encoded answer, gzip-compressed when large and the client accepts it."""
    body, hdrs = gzipped(request, orjson.dumps(data), headers)
    return Response(body, status_code=status, media_type="application/json", headers=hdrs)


def accepts_gzip(request: Request) -> bool:
    return "gzip" in request.headers.get("accept-encoding", "")


def gzipped(request: Request, body: bytes, headers: dict[str, str] | None = None) -> tuple[bytes, dict[str, str]]:
    """`body` gzip-compressed when large and the client accepts it, with the headers that say so."""
    hdrs = dict(headers or {})
    if len(body) >= settings_of(request).gzip_min_bytes and accepts_gzip(request):
        body = gzip.compress(body, compresslevel=5)
        hdrs["Content-Encoding"] = "gzip"
        hdrs["Vary"] = "Accept-Encoding"
    return body, hdrs


async def gzip_stream(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """A streamed answer's chunks as one gzip stream (send it with `Content-Encoding: gzip`)."""
    packer = zlib.compressobj(5, zlib.DEFLATED, 31)  # wbits 31: the gzip format
    async for chunk in chunks:
        if packed := packer.compress(chunk):
            yield packed
    yield packer.flush()


# ----- query parameters, as CouchDB reads them -----


def q_bool(request: Request, name: str, default: bool = False) -> bool:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if raw in ("true", "1", ""):
        return True
    if raw in ("false", "0"):
        return False
    raise bad_request(f"Invalid boolean parameter: {name}")


def q_int(request: Request, name: str, default: int | None = None, minimum: int = 0) -> int | None:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    value = ascii_int(raw)
    if value is None:
        raise bad_request(f"Invalid value for {name}: integer expected")
    if value < minimum:
        raise bad_request(f"Invalid value for {name}: must be at least {minimum}")
    if value > MAX_QUERY_INT:
        raise bad_request(f"Invalid value for {name}: too large")
    return value


def q_json(request: Request, *names: str) -> Any:
    """A JSON-encoded parameter (keys, startkey, open_revs), under the first of `names` present, nested no deeper than
    a body may be: `_all_docs` answers each key back, and one 300 levels deep was past what orjson writes (a 500)."""
    for name in names:
        raw = request.query_params.get(name)
        if raw is not None:
            try:
                value = orjson.loads(raw)
            except orjson.JSONDecodeError:
                raise bad_request(f"Invalid JSON in parameter {name}") from None
            if isinstance(value, dict | list) and too_deep(raw.encode(), MAX_JSON_DEPTH):
                raise bad_request(f"JSON in parameter {name} is nested deeper than {MAX_JSON_DEPTH} levels")
            return value
    return None


# Every method a fallback route takes: it answers whatever no other route took.
ANY_METHOD = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def allowed_methods(request: Request) -> list[str]:
    """The methods that the path of the first route taking this request's path, but not its method, takes (the
    route Starlette itself would answer with a 405; one path may have a route per method); empty when no route
    takes the path."""
    partial = [
        route
        for route in request.app.router.routes
        if isinstance(route, Route) and route.methods and route.endpoint is not no_route
        if route.matches(request.scope)[0] is Match.PARTIAL
    ]
    return sorted({m for route in partial if route.path == partial[0].path for m in route.methods or ()})


def method_not_allowed(allowed: list[str]) -> CouchError:
    """CouchDB's answer to a method a path does not take."""
    return CouchError(405, "method_not_allowed", f"Only {','.join(allowed)} allowed", {"Allow": ", ".join(allowed)})


async def no_route(request: Request) -> Response:
    """Under `/api/` and `/sync/`: a method the path does not take (405) or a path nothing takes (404), answered
    as JSON with a reason like every other error. Without it Starlette answers plain text, and the PWA's static
    files, mounted at `/`, took such a request and answered a 405 that allowed only GET."""
    allowed = allowed_methods(request)
    if allowed:
        raise method_not_allowed(allowed)
    raise not_found(f"No such path: {request.url.path}")


class _Tail(Convertor[str]):
    """What follows a prefix in a path: nothing, or a slash and anything after it, newlines too. Starlette's `path`
    stops at a newline (`%0A`), and `/sync/_local/a%0Ab` fell through to the PWA's files, which answered in plain
    text; `/sync` itself was answered by Starlette, in plain text too, for a method it does not take."""

    regex = "(?s:/.*)?"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("tail", _Tail())


def fallback(prefix: str) -> Route:
    """The route that takes what no other route under `prefix`, or `prefix` itself, took (`no_route`); listed after
    them."""
    return Route(prefix.rstrip("/") + "{rest:tail}", no_route, methods=ANY_METHOD, include_in_schema=False)
