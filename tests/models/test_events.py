"""Events devices create: DESIGN's examples round-trip, and what a phone must never get through is refused."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pydantic
import pytest

from server.models import EVENT_TYPES, Patrol, Photo, SelfCheck, parse_event, reason_of
from tests.models.examples import EVENTS, PATROL_ID, PHOTOS, SHOP, assert_round_trip, patrol, photo, self_check

Change = Callable[[dict[str, Any]], None]


def refused(doc: Any) -> str:
    with pytest.raises(pydantic.ValidationError) as info:
        parse_event(doc)
    return reason_of(info.value)


@pytest.mark.parametrize("kind", list(EVENTS))
def test_design_examples_round_trip(kind: str) -> None:
    model = assert_round_trip(EVENTS[kind]())
    assert isinstance(model, EVENT_TYPES[kind])
    assert model.type == kind and model.partition == SHOP


@pytest.mark.parametrize("kind", list(EVENTS))
def test_couchdb_fields_are_tolerated_and_not_kept(kind: str) -> None:
    doc = EVENTS[kind]() | {"_rev": "2-9a8b7c", "_revisions": {"start": 2, "ids": ["9a8b7c", "1d2e3f"]}}
    doc["_deleted"] = False
    dumped = parse_event(doc).to_doc()
    assert not {"_rev", "_revisions", "_deleted"} & set(dumped)


def test_attachments_ride_only_on_photos() -> None:
    assert "_attachments" not in parse_event(self_check() | {"_attachments": {}}).to_doc()
    doc = self_check() | {"_attachments": {"x.bin": {"content_type": "application/octet-stream", "data": "AAAA"}}}
    assert refused(doc) == "_attachments: 只有照片记录可以带附件。only photo documents carry attachments"


def test_the_self_check_example_reads_naturally() -> None:
    check = parse_event(self_check())
    assert isinstance(check, SelfCheck)
    assert check.ulid == "01JDX7Q9K3M2N4P5R6S7T8V9W0"
    assert check.performed_at.utcoffset() is not None and check.performed_at.hour == 9
    assert check.answers["sleeping_people"].value == 0 and check.answers["open_flame"].value is False
    assert check.photo_ids() == [PHOTOS[0]]


def test_a_patrol_lists_every_photo_it_references() -> None:
    event = parse_event(patrol())
    assert isinstance(event, Patrol)
    assert event.photo_ids() == [PHOTOS[1], PHOTOS[1]]
    assert event.findings[0].deadline.isoformat() == "2026-12-05"


def test_inline_attachment_data_is_accepted() -> None:
    doc = photo()
    body = base64.b64encode(b"\xff\xd8\xff" + b"\0" * 1000).decode()
    doc["_attachments"] = {"photo.webp": {"content_type": "image/webp", "data": body}}
    event = parse_event(doc)
    assert isinstance(event, Photo) and event.attachment_name == "photo.webp"


def test_models_are_frozen() -> None:
    check = parse_event(self_check())
    with pytest.raises(pydantic.ValidationError):
        check.shop = "S0002"


def _set(path: str, value: Any) -> Change:
    def change(doc: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = doc
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
        if isinstance(target, list):
            target[int(last)] = value
        else:
            target[last] = value

    return change


def _attach(attachment: dict[str, Any]) -> Change:
    return lambda doc: doc.update(_attachments={"photo.jpg": attachment})


def _drop(key: str) -> Change:
    return lambda doc: doc.pop(key) and None


REFUSALS: list[tuple[str, Callable[[], dict[str, Any]], Change, str]] = [
    ("shop not the id's partition", self_check, _set("shop", "S0002"), "must equal the id's partition"),
    ("id of another type", self_check, _set("_id", PATROL_ID), "_id must have the form {shop}:self_check:{ulid}"),
    ("lower-case ulid", self_check, _set("_id", "S0001:self_check:01jdx7q9k3m2n4p5r6s7t8v9w0"), "_id must have"),
    ("short ulid", self_check, _set("_id", "S0001:self_check:01JDX0000000000000000000"), "26-character ULID"),
    ("naive time", self_check, _set("performed_at", "2026-11-28T09:30:00"), "performed_at: has no UTC offset"),
    ("date for a time", self_check, _set("performed_at", "2026-11-28"), "performed_at: has no UTC offset"),
    ("epoch for a time", self_check, _set("performed_at", 1795000000), "performed_at: must be an ISO 8601 time"),
    ("garbage time", self_check, _set("performed_at", "yesterday"), "performed_at: must be an ISO 8601 time"),
    ("unknown field", self_check, _set("colour", "red"), "colour: unknown field"),
    ("server field from a device", self_check, _set("received_at", "2026-11-28T09:31:00+08:00"), "received_at"),
    ("unknown answer field", self_check, _set("answers.open_flame.score", 3), "answers.open_flame.score: unknown"),
    ("schema 2", self_check, _set("schema", 2), "schema: must be 1"),
    ("schema true", self_check, _set("schema", True), "schema: must be 1"),
    ("missing device", self_check, _drop("device"), "device: required field is missing"),
    ("string version", self_check, _set("template_version", "1"), "template_version: must be a whole number"),
    (
        "answer is a string",
        self_check,
        _set("answers.open_flame.value", "no"),
        'must be true, false, a whole number or "na"',
    ),
    ("no answers", self_check, _set("answers", {}), "answers"),
    ("long note", self_check, _set("answers.open_flame.note", "很" * 501), "answers.open_flame.note"),
    (
        "photo of another shop",
        self_check,
        _set("answers.open_flame.photos", ["S0002:photo:01JDY2A3B4C5D6E7F8G9H0J1K2"]),
        "belongs to another shop",
    ),
    ("photo id of a check", self_check, _set("answers.open_flame.photos", [PATROL_ID]), "a photo id like"),
    ("reserved shop code", self_check, _set("shop", "district"), "reserved"),
    ("wrong severity", patrol, _set("findings.0.severity", "critical"), "findings[0].severity: input should be"),
    ("deadline before patrol", patrol, _set("findings.0.deadline", "2026-12-01"), "deadline of f1 is before"),
    ("deadline as a time", patrol, _set("findings.0.deadline", "2026-12-05T00:00:00+08:00"), "must be a date"),
    ("duplicate finding ids", patrol, lambda d: d["findings"].append(dict(d["findings"][0])), "its own id"),
    (
        "self-check of another shop",
        patrol,
        _set("verified_self_checks", ["S0009:self_check:01JDX7Q9K3M2N4P5R6S7T8V9W0"]),
        "another shop",
    ),
    (
        "rectification without evidence",
        lambda: EVENTS["rectification"](),
        lambda d: d.update(photos=[], note=" "),
        "needs a photo or a note",
    ),
    (
        "hazard id without suffix",
        lambda: EVENTS["rectification"](),
        _set("hazard", "S0001:hazard:01JE0B8C9D0E1F2G3H4J5K6M7N"),
        "hazard: must be a hazard id",
    ),
    ("passed as a string", lambda: EVENTS["verification"](), _set("passed", "true"), "passed: must be true or false"),
    (
        "two attachments",
        photo,
        lambda d: d["_attachments"].update({"photo.png": {"content_type": "image/png"}}),
        "exactly one attachment",
    ),
    ("no attachments", photo, _drop("_attachments"), "_attachments: required"),
    ("attachment name", photo, lambda d: d.update(_attachments={"x.jpg": {"content_type": "image/jpeg"}}), "'x.jpg'"),
    ("not an image", photo, _attach({"content_type": "text/html", "stub": True}), "content_type"),
    ("photo too large", photo, _attach({"content_type": "image/jpeg", "length": 9_000_000}), "at most"),
    ("gps out of range", photo, _set("gps.lat", 91.0), "gps.lat"),
    ("naive taken_at", photo, _set("taken_at", "2026-11-28T09:28:41"), "taken_at: has no UTC offset"),
]


@pytest.mark.parametrize(("make", "change", "expected"), [r[1:] for r in REFUSALS], ids=[r[0] for r in REFUSALS])
def test_refusals_name_the_problem(make: Callable[[], dict[str, Any]], change: Change, expected: str) -> None:
    doc = make()
    change(doc)
    reason = refused(doc)
    assert expected in reason
    assert len(reason) < 300


def test_too_many_photos_in_one_check() -> None:
    doc = self_check()
    photo_ids = [f"{SHOP}:photo:01JDY2A3B4C5D6E7F8G9H0J{n:03d}" for n in range(21)]
    doc["answers"]["open_flame"]["photos"] = photo_ids[:10]
    doc["answers"]["sleeping_people"]["photos"] = photo_ids[10:20]  # and extinguisher_valid has one
    assert "21 photos; a check carries at most 20" in refused(doc)
    doc["answers"]["open_flame"]["photos"] = photo_ids
    assert "answers.open_flame.photos" in refused(doc)


def test_findings_photos_count_toward_the_limit() -> None:
    doc = patrol()
    doc["findings"][0]["photos"] = [f"{SHOP}:photo:01JDY2A3B4C5D6E7F8G9H0J{n:03d}" for n in range(20)]
    assert "21 photos" in refused(doc)


def test_only_event_types_are_accepted_from_devices() -> None:
    assert "type: must be an event type: self_check, patrol" in refused({"type": "score", "_id": "S0001:score"})
    assert "type: must be an event type" in refused(self_check() | {"type": None})
    assert refused(["not", "a", "document"]) == "a document must be a JSON object"


def test_several_problems_are_summarised() -> None:
    doc = self_check() | {"a": 1, "b": 2, "c": 3, "d": 4}
    reason = refused(doc)
    assert reason.startswith("a: unknown field") and reason.endswith("and 1 more")


def test_photo_stub_written_back_stays_a_stub() -> None:
    dumped = parse_event(photo()).to_doc()
    assert dumped["_attachments"] == photo()["_attachments"]
