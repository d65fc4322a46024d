"""HTTP helpers shared by every route: bounded JSON bodies, CouchDB-style query parameters, gzip answers."""

from __future__ import annotations

import gzip
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from server.errors import bad_request, too_large
from server.settings import Settings


def settings_of(request: Request) -> Settings:
    s: Settings = request.app.state.settings
    return s


async def read_body(request: Request) -> bytes:
    """The request body, refused with a 413 as soon as it passes the configured limit."""
    limit = settings_of(request).max_body_bytes
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            if int(declared) > limit:
                raise too_large()
        except ValueError:
            raise bad_request("Invalid Content-Length") from None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large()
        chunks.append(chunk)
    return b"".join(chunks)


async def read_json(request: Request) -> Any:
    body = await read_body(request)
    if not body:
        raise bad_request("Request body is empty; a JSON document is required")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        raise bad_request("invalid UTF-8 JSON") from None


async def read_object(request: Request) -> dict[str, Any]:
    data = await read_json(request)
    if not isinstance(data, dict):
        raise bad_request("Request body must be a JSON object")
    return data


def json_response(request: Request, data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """orjson-encoded answer, gzip-compressed when large and the client accepts it."""
    body = orjson.dumps(data)
    hdrs = dict(headers or {})
    if len(body) >= settings_of(request).gzip_min_bytes and "gzip" in request.headers.get("accept-encoding", ""):
        body = gzip.compress(body, compresslevel=5)
        hdrs["Content-Encoding"] = "gzip"
        hdrs["Vary"] = "Accept-Encoding"
    return Response(body, status_code=status, media_type="application/json", headers=hdrs)


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
    try:
        value = int(raw)
    except ValueError:
        raise bad_request(f"Invalid value for {name}: integer expected") from None
    if value < minimum:
        raise bad_request(f"Invalid value for {name}: must be at least {minimum}")
    return value


def q_json(request: Request, *names: str) -> Any:
    """A JSON-encoded parameter (keys, startkey, open_revs), under the first of `names` present."""
    for name in names:
        raw = request.query_params.get(name)
        if raw is not None:
            try:
                return orjson.loads(raw)
            except orjson.JSONDecodeError:
                raise bad_request(f"Invalid JSON in parameter {name}") from None
    return None
