"""The one error type of the gateway: CouchDB's `{"error", "reason"}` body with its status code.

PouchDB reads these bodies (a `forbidden` per-document error is skipped, anything else aborts a batch),
so the wording follows CouchDB's.
"""

from __future__ import annotations

import errno
import re
import sqlite3
from collections.abc import Sequence
from typing import Any, Final

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


# What an unknown shop, grid, community, sub-district or alarm is answered, Chinese first (the office's screens show the
# part in their language: `reasonIn` in pwa/src/i18n.ts): a code in the path is a 404, a field naming one a 400 naming
# it.
KINDS: Final = {
    "shop": ("店铺", "shop"),
    "grid": ("网格", "grid"),
    "community": ("社区", "community"),
    "subdistrict": ("街道", "sub-district"),
    "alarm": ("报警", "alarm"),
}


def no_such(kind: str, code: str) -> CouchError:
    """The 404 of an unknown `kind` (shop, grid, community, subdistrict, alarm): 没有编号为 S9 的店铺。No shop S9."""
    zh, en = KINDS[kind]
    return not_found(f"没有编号为 {code} 的{zh}。No {en} {code}.")


def unknown_in(field: str, kind: str, code: str) -> CouchError:
    """The 400 of a field naming an unknown `kind` (shop, grid, community, subdistrict), the field first:
    grid: 没有编号为 g9 的网格。no grid g9"""
    zh, en = KINDS[kind]
    return bad_request(f"{field}: 没有编号为 {code} 的{zh}。no {en} {code}")


FIELD: Final = re.compile(r"([\w.\[\]-]+): (?=[^\x00-\x7f])")


def joined(reasons: Sequence[str]) -> str:
    """Several reasons as one, still Chinese first: the Chinese of each (its field in front), joined by ；, then after
    the last 。 the English of each, its field put back (`reasonIn`'s `withField` does so for one reason only):
    `answers.a.photos: 须拍照；answers: 还有 1 项未答。answers.a.photos: needs a photo; answers: b not answered`.
    A reason with no Chinese part stands in both; reasons none of which has one are joined as they are."""
    if len(reasons) == 1 or not any("。" in r for r in reasons):
        return "; ".join(reasons)
    chinese, english = [], []
    for reason in reasons:
        said, stop, rest = reason.rpartition("。")
        field = FIELD.match(reason) if stop else None
        chinese.append(said if stop else reason)
        english.append(f"{field[1]}: {rest}" if field and not rest.startswith(f"{field[1]}:") else rest or reason)
    return f"{'；'.join(chinese)}。{'; '.join(english)}"


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


def disk_full(exc: BaseException) -> BaseException | None:
    """The error that says the server's storage is full, when `exc` is one or was raised from one: SQLite's "database
    or disk is full" (after which SQLite may roll the whole transaction back, so the error raised can be the next
    statement's), or no space left for a file (an attachment's body)."""
    seen: BaseException | None = exc
    for _ in range(10):  # causes and contexts, not forever
        if seen is None:
            return None
        if isinstance(seen, sqlite3.Error) and getattr(seen, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL:
            return seen
        if isinstance(seen, OSError) and seen.errno in (errno.ENOSPC, errno.EDQUOT):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def storage_full() -> CouchError:
    """The answer to a write the server could not store for want of space: nothing of it was kept, and the phone
    keeps it and sends it again (PouchDB retries any failed batch), so it is a 507 rather than a bare 500."""
    return CouchError(
        507,
        "insufficient_storage",
        "The server's storage is full: nothing of this request was stored. Try again later; the server's operator "
        "must free some space.",
        {"Retry-After": "60"},
    )
