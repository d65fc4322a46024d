"""The one error type of the gateway: CouchDB's `{"error", "reason"}` body with its status code.

PouchDB reads these bodies (a `forbidden` per-document error is skipped, anything else aborts a batch),
so the wording follows CouchDB's.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response


class CouchError(Exception):
    """An error answered to the client as `{"error": ..., "reason": ...}` with an HTTP status."""

    def __init__(self, status: int, error: str, reason: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{status} {error}: {reason}")
        self.status = status
        self.error = error
        self.reason = reason
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {"error": self.error, "reason": self.reason}

    def for_doc(self, doc_id: str) -> dict[str, Any]:
        """The per-document form used in `_bulk_docs` answers; PouchDB needs the `id`."""
        return {"id": doc_id, "error": self.error, "reason": self.reason}


def bad_request(reason: str) -> CouchError:
    return CouchError(400, "bad_request", reason)


def not_found(reason: str = "missing") -> CouchError:
    return CouchError(404, "not_found", reason)


def forbidden(reason: str) -> CouchError:
    return CouchError(403, "forbidden", reason)


def unauthorized(reason: str) -> CouchError:
    return CouchError(401, "unauthorized", reason, {"WWW-Authenticate": 'Bearer realm="mashang"'})


def conflict(reason: str = "Document update conflict.") -> CouchError:
    return CouchError(409, "conflict", reason)


def too_large(reason: str = "the request entity is too large") -> CouchError:
    return CouchError(413, "too_large", reason)


def json_error_response(exc: CouchError) -> Response:
    return Response(
        orjson.dumps(exc.body()),
        status_code=exc.status,
        media_type="application/json",
        headers=exc.headers,
    )


async def couch_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, CouchError)
    return json_error_response(exc)
