"""The alarm rule's shared cases (tests/fixtures/alarm_cases.json) on the server's own projection: whether a visit's
patrols raise an alarm, and what their new hazards cost. The grid PWA runs the same file on its mirror of the rule
(pwa/tests/grid-alarm-cases.test.ts), so a change to one side that the other does not follow fails there or here."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from server.models import default_rules
from server.models.rules import Rules
from server.models.templates import Template
from server.validators.projections import project_shop
from server.validators.rules import RulesHistory
from tests.validators.builders import GRID, OWNER, SHOP, TEMPLATE, entries, shop

ROOT = Path(__file__).resolve().parents[2]
CASES: list[dict[str, Any]] = json.loads((ROOT / "tests/fixtures/alarm_cases.json").read_text(encoding="utf-8"))[
    "cases"
]
FOOD = Template.model_validate(json.loads((ROOT / "server/office/modules/food-safety.json").read_text("utf-8")))


def _rules(case: Mapping[str, Any]) -> RulesHistory:
    base, changes = default_rules().to_doc(), case.get("rules", [{}])
    *frozen, current = [
        Rules.model_validate(base | change | {"_id": f"district:rules:v{change.get('version', 1)}"})
        for change in changes[:-1]
    ] + [Rules.model_validate(base | changes[-1])]
    return RulesHistory(frozen, current)


def _templates(case: Mapping[str, Any]) -> dict[tuple[str, int], Template]:
    points: Mapping[str, int] = case.get("points", {})
    fire = TEMPLATE.model_copy(
        update={
            "items": tuple(
                item.model_copy(update={"points": points[item.id]}) if item.id in points else item
                for item in TEMPLATE.items
            )
        }
    )
    return {(t.template_id, t.version): t for t in (fire, FOOD)}


def _event(kind: str, ulid: str, at: str, by: str, template: str, **fields: Any) -> dict[str, Any]:
    return {
        "_id": f"{SHOP}:{kind}:{ulid}",
        "type": kind,
        "schema": 1,
        "shop": SHOP,
        "performed_at": at,
        "created_by": by,
        "device": "d-1",
        "template": template,
        "template_version": 1,
        **fields,
    }


def _patrol(patrol: Mapping[str, Any], at: str) -> dict[str, Any]:
    deadline = (date.fromisoformat(at[:10]) + timedelta(days=7)).isoformat()
    findings = [
        {"id": f.get("id", f["item"]), "item": f["item"], "severity": f["severity"], "deadline": deadline}
        for f in patrol["findings"]
    ]
    template = patrol.get("template", TEMPLATE.template_id)
    return _event("patrol", patrol["id"], at, GRID, template, answers={}, findings=findings)


def _events(case: Mapping[str, Any]) -> list[dict[str, Any]]:
    events = [
        _event(
            "self_check",
            check["id"],
            check["performed_at"],
            OWNER,
            check["template"],
            answers={item: {"value": value} for item, value in check["answers"].items()},
        )
        for check in case.get("self_checks", [])
    ]
    events += [_patrol(patrol, patrol["performed_at"]) for patrol in case.get("earlier", [])]
    events += [_patrol(patrol, case["visit"]["performed_at"]) for patrol in case["visit"]["patrols"]]
    return events


@pytest.mark.parametrize("case", CASES, ids=[case["case"] for case in CASES])
def test_the_server_alarms_and_deducts_as_the_case_says(case: Mapping[str, Any]) -> None:
    visit = case["visit"]
    docs = project_shop(
        shop(), _events(case), _rules(case), date.fromisoformat(visit["performed_at"][:10]), _templates(case)
    )
    patrols = {f"{SHOP}:patrol:{patrol['id']}" for patrol in visit["patrols"]}
    hazards = [doc for doc in docs if doc["type"] == "hazard" and doc["source"] in patrols]
    ids = {hazard["_id"] for hazard in hazards}
    deductions = -sum(
        entry["points"]
        for entry in entries(docs)
        if entry["rule"] in ("hazard", "false_self_report") and entry["source"] in ids
    )
    alarms = [doc for doc in docs if doc["type"] == "alarm" and doc["source"] in patrols]
    expected = case["expected"]
    assert (bool(alarms), deductions) == (expected["alarm"], expected["deductions"])
    assert sorted(hazard["item"] for hazard in hazards) == sorted(expected["items"])
    if alarms:  # one alarm for the visit, on the deductions of all its modules
        [alarm] = alarms
        assert alarm["cost"] == deductions
        assert sorted(item["item"] for item in alarm["items"]) == sorted(expected["items"])
