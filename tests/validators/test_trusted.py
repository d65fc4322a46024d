"""The fast path of a replay gives exactly what full validation gives: every event of a demo district's year builds
the same model through `trusted_event` as through `parse_event`, every document `project_shop` writes without
validating it is what its model writes, byte for byte, and what is not an event is still refused."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest
from pydantic import ValidationError

from server.demo.build import months_before
from server.demo.district import plan_district
from server.demo.history import TZ, ShopHistory
from server.models import default_rules, default_template, parse_doc, parse_event
from server.validators.projections import project_shop
from server.validators.trusted import trusted_event
from tests.validators.builders import TEMPLATES, patrol, self_check

TODAY = datetime(2026, 11, 28, tzinfo=TZ).date()


def _district_year(shops: int = 12) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    district = plan_district(5, shops, 1)
    start = datetime.combine(months_before(TODAY, 12), datetime.min.time(), TZ)
    end = datetime.combine(TODAY, datetime.min.time(), TZ)
    out = []
    for shop in district.shops:
        history = ShopHistory(5, shop, district.worker(shop.patroller), default_template(), default_rules(), start, end)
        registry = shop.registry_doc() | {"_id": f"{shop.code}:shop:{shop.code}", "type": "shop", "schema": 1}
        out.append((registry, [event.doc for event in history.run()]))
    return out


def test_every_event_of_a_district_year_builds_the_model_full_validation_builds() -> None:
    kinds: set[str] = set()
    for _, events in _district_year():
        for doc in events:
            if doc["type"] == "photo":
                continue
            kinds.add(doc["type"])
            fast, full = trusted_event(doc), parse_event(doc)
            assert fast == full and fast.model_dump() == full.model_dump(), doc["_id"]
    assert kinds == {"self_check", "patrol", "rectification", "verification"}


def test_every_projected_document_is_what_its_model_writes_byte_for_byte() -> None:
    types: set[str] = set()
    for registry, events in _district_year():
        for doc in project_shop(registry, events, default_rules(), TODAY, TEMPLATES):
            types.add(doc["type"])
            assert json.dumps(parse_doc(doc).to_doc(), ensure_ascii=False) == json.dumps(doc, ensure_ascii=False)
    assert types == {"ledger", "hazard", "alarm", "score", "rewards"}


@pytest.mark.parametrize(
    "change",
    [
        {"answers": {}},
        {"answers": {"gas_safe": {"value": "yes"}}},
        {"answers": {"gas_safe": {"value": "NA"}}},
        {"answers": {"gas_safe": {"value": None}}},
        {"performed_at": "2026-03-02T10:00:00"},
        {"shop": "S0002"},
        {"schema": 2},
        {"template_version": True},
        {"_id": "S0001:self_check:not-a-ulid"},
        {"answers": {"gas_safe": {"value": True, "photos": "S0001:photo:x"}}},
        {"note": "a field no model has"},
        {"answers": {"gas_safe": {"value": True, "comment": "an answer key no model has"}}},
        {"_attachments": {"x.jpg": {"content_type": "image/jpeg", "data": "AA=="}}},
    ],
)
def test_what_is_not_an_event_is_refused_as_before(change: dict[str, Any]) -> None:
    doc = self_check("2026-03-02 10:00") | change
    with pytest.raises(ValidationError):
        parse_event(doc)
    with pytest.raises(ValidationError):
        trusted_event(doc)


def test_a_broken_finding_is_refused_as_before() -> None:
    visit = patrol("2026-03-03 10:00")
    for finding in (
        {"id": "f1", "item": "gas_safe", "severity": "fatal", "deadline": "2026-03-04"},
        {"id": "f1", "item": "gas_safe", "severity": "serious", "deadline": "next week"},
        {"id": "f1", "item": "gas_safe", "severity": "serious", "deadline": "2026-03-04", "cost": 0},
    ):
        with pytest.raises(ValidationError):
            trusted_event(visit | {"findings": [finding]})


def test_a_not_applicable_answer_builds_what_full_validation_builds(monkeypatch: pytest.MonkeyPatch) -> None:
    doc = self_check("2026-03-02 10:00")
    doc["answers"] |= {"gas_safe": {"value": "na"}, "extinguisher_valid": {"value": "na", "photos": [], "note": ""}}
    monkeypatch.setattr("server.validators.trusted.parse_event", None)  # the fast path alone
    fast = trusted_event(doc)
    assert fast == parse_event(doc) and fast.model_dump() == parse_event(doc).model_dump()
