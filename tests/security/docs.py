"""Documents as phones write them (and as attackers forge them), for the attack suite."""

from __future__ import annotations

import base64
import struct
import zlib
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from server.ids import new_ulid
from tests.validators.builders import full_answers

Json = dict[str, Any]
TEMPLATE = "district:template:fire-gas"
CST = timezone(timedelta(hours=8))


def _png() -> bytes:
    """A real 1x1 RGB PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    idat = chunk(b"IDAT", zlib.compress(b"\x00\xd0\x40\x20"))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + idat + chunk(b"IEND", b"")


PNG = _png()


def now(delta: timedelta = timedelta()) -> str:
    return (datetime.now(UTC) + delta).astimezone(CST).isoformat(timespec="seconds")


def in_a_week() -> str:
    return (datetime.now(CST) + timedelta(days=7)).date().isoformat()


def today() -> date:
    return datetime.now(CST).date()


def event(kind: str, shop: str, by: str, **fields: Any) -> Json:
    return {
        "_id": f"{shop}:{kind}:{new_ulid()}",
        "type": kind,
        "schema": 1,
        "shop": shop,
        "performed_at": now(),
        "created_by": by,
        "device": "attack-phone",
        **fields,
    }


def self_check(shop: str, by: str, **fields: Any) -> Json:
    """Every item answered; `answers` names the ones answered otherwise."""
    answers = full_answers(shop) | fields.pop("answers", {})
    return event("self_check", shop, by, **{"template": TEMPLATE, "template_version": 1, "answers": answers, **fields})


def patrol(shop: str, by: str, **fields: Any) -> Json:
    base: Json = {
        "template": TEMPLATE,
        "template_version": 1,
        "answers": full_answers(shop, extinguisher_valid=False),
        "findings": [
            {
                "id": "f1",
                "item": "extinguisher_valid",
                "severity": "general",
                "note": "灭火器过期",
                "photos": [f"{shop}:photo:{new_ulid()}"],
                "deadline": in_a_week(),
            }
        ],
    }
    return event("patrol", shop, by, **{**base, **fields})


def hazard_id(shop: str) -> str:
    return f"{shop}:hazard:{new_ulid()}-f1"


def rectification(shop: str, by: str, **fields: Any) -> Json:
    return event("rectification", shop, by, **{"hazard": hazard_id(shop), "note": "换了新灭火器", **fields})


def verification(shop: str, by: str, **fields: Any) -> Json:
    return event("verification", shop, by, **{"hazard": hazard_id(shop), "passed": True, "note": "已整改", **fields})


def photo(shop: str, by: str, body: bytes = PNG, name: str = "photo.png", content_type: str = "image/png") -> Json:
    data = base64.b64encode(body).decode()
    return event("photo", shop, by, taken_at=now(), _attachments={name: {"content_type": content_type, "data": data}})


def replicated(doc: Json, *labels: str) -> Json:
    """`doc` as a replicator sends it (new_edits=false): `labels` are the revision hashes from the leaf down."""
    ids = [label * (32 // len(label)) for label in labels]
    return {**doc, "_rev": f"{len(ids)}-{ids[0]}", "_revisions": {"start": len(ids), "ids": ids}}
