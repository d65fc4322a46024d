"""The wire-format-v1 examples of DESIGN.md with the "…" filled in, and a round-trip assertion."""

from __future__ import annotations

import copy
from typing import Any

from server.models import Doc, parse_doc

SHOP = "S0001"
SELF_CHECK_ULID = "01JDX7Q9K3M2N4P5R6S7T8V9W0"
PATROL_ULID = "01JE0B8C9D0E1F2G3H4J5K6M7N"
RECTIFICATION_ULID = "01JE4R5S6T7V8W9X0Y1Z2A3B4C"
VERIFICATION_ULID = "01JE6A7B8C9D0E1F2G3H4J5K6M"
PHOTO_ULIDS = ["01JDY2A3B4C5D6E7F8G9H0J1K2", "01JE1C2D3E4F5G6H7J8K9M0N1P", "01JE4R5S6T7V8W9X0Y1Z2A3B4D"]
PHOTOS = [f"{SHOP}:photo:{ulid}" for ulid in PHOTO_ULIDS]
SELF_CHECK_ID = f"{SHOP}:self_check:{SELF_CHECK_ULID}"
PATROL_ID = f"{SHOP}:patrol:{PATROL_ULID}"
HAZARD_ID = f"{SHOP}:hazard:{PATROL_ULID}-f1"
RECTIFICATION_ID = f"{SHOP}:rectification:{RECTIFICATION_ULID}"


def self_check() -> dict[str, Any]:
    return {
        "_id": SELF_CHECK_ID,
        "type": "self_check",
        "schema": 1,
        "shop": SHOP,
        "template": "district:template:fire-gas",
        "template_version": 1,
        "performed_at": "2026-11-28T09:30:00+08:00",
        "created_by": "owner:S0001",
        "device": "d-7f3a",
        "answers": {
            "open_flame": {"value": False},
            "sleeping_people": {"value": 0},
            "extinguisher_valid": {"value": True, "photos": [PHOTOS[0]], "note": ""},
        },
    }


def patrol() -> dict[str, Any]:
    return {
        "_id": PATROL_ID,
        "type": "patrol",
        "schema": 1,
        "shop": SHOP,
        "template": "district:template:fire-gas",
        "template_version": 1,
        "performed_at": "2026-12-02T14:05:00+08:00",
        "created_by": "grid:zhou",
        "device": "d-91c2",
        "verified_self_checks": [SELF_CHECK_ID],
        "answers": {"escape_route": {"value": True}, "extinguisher_valid": {"value": False, "photos": [PHOTOS[1]]}},
        "findings": [
            {
                "id": "f1",
                "item": "extinguisher_valid",
                "severity": "general",
                "note": "灭火器刚过保质期",
                "photos": [PHOTOS[1]],
                "deadline": "2026-12-05",
            }
        ],
    }


def rectification() -> dict[str, Any]:
    return {
        "_id": RECTIFICATION_ID,
        "type": "rectification",
        "schema": 1,
        "shop": SHOP,
        "hazard": HAZARD_ID,
        "note": "已更换新灭火器",
        "photos": [PHOTOS[2]],
        "performed_at": "2026-12-03T10:12:00+08:00",
        "created_by": "owner:S0001",
        "device": "d-7f3a",
    }


def verification() -> dict[str, Any]:
    return {
        "_id": f"{SHOP}:verification:{VERIFICATION_ULID}",
        "type": "verification",
        "schema": 1,
        "shop": SHOP,
        "hazard": HAZARD_ID,
        "rectification": RECTIFICATION_ID,
        "passed": True,
        "note": "新灭火器有效期至2031年",
        "performed_at": "2026-12-04T16:40:00+08:00",
        "created_by": "grid:zhou",
        "device": "d-91c2",
    }


def photo() -> dict[str, Any]:
    return {
        "_id": PHOTOS[0],
        "type": "photo",
        "schema": 1,
        "shop": SHOP,
        "taken_at": "2026-11-28T09:28:41+08:00",
        "gps": {"lat": 30.2741, "lon": 120.1551, "accuracy": 12.5},
        "performed_at": "2026-11-28T09:28:41+08:00",
        "created_by": "owner:S0001",
        "device": "d-7f3a",
        "_attachments": {
            "photo.jpg": {
                "content_type": "image/jpeg",
                "digest": "md5-7Q2lZ3mXr0sP5gqY1wq8gA==",
                "length": 184320,
                "revpos": 1,
                "stub": True,
            }
        },
    }


EVENTS = {
    "self_check": self_check,
    "patrol": patrol,
    "rectification": rectification,
    "verification": verification,
    "photo": photo,
}


def assert_subset(original: Any, dumped: Any, path: str = "") -> None:
    """Everything in `original` is in `dumped` unchanged (the dump may add defaults such as `"photos": []`)."""
    if isinstance(original, dict):
        assert isinstance(dumped, dict), path
        for key, value in original.items():
            assert key in dumped, f"{path}.{key} lost"
            assert_subset(value, dumped[key], f"{path}.{key}")
    elif isinstance(original, list):
        assert isinstance(dumped, list) and len(dumped) == len(original), path
        for index, (value, other) in enumerate(zip(original, dumped, strict=True)):
            assert_subset(value, other, f"{path}[{index}]")
    else:
        assert original == dumped and type(original) is type(dumped), f"{path}: {original!r} became {dumped!r}"


def assert_round_trip(doc: dict[str, Any]) -> Doc:
    """Parse, dump and parse again: nothing lost, nothing changed, and the dump is stable."""
    before = copy.deepcopy(doc)
    model = parse_doc(doc)
    assert doc == before, "parsing must not change its input"
    dumped = model.to_doc()
    assert_subset({k: v for k, v in doc.items() if k not in ("_rev", "_revisions", "_deleted")}, dumped)
    again = parse_doc(dumped)
    assert again == model and again.to_doc() == dumped
    return model
