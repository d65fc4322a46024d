"""Small builders of wire-format-v1 events for the projection tests, and readers of what a projection says.

Times are written in Shanghai time (`"2026-03-02 10:00"` → `2026-03-02T10:00:00+08:00`). Every event gets a
ULID made from its time and a counter, so ids are valid, unique, and unrelated to the canonical order's tiebreak.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from server.ids import new_ulid
from server.models import default_rules, default_template
from server.models.projections import ledger_entries
from server.models.rules import Rules
from server.models.templates import Template
from server.validators.projections import project_shop
from server.validators.rules import RulesHistory

SHOP = "S0001"
OWNER = f"owner:{SHOP}"
GRID = "grid:zhou"
RULES = default_rules()
TEMPLATE = default_template()
TEMPLATES = {(TEMPLATE.template_id, TEMPLATE.version): TEMPLATE}
PHOTO = f"{SHOP}:photo:01JDY2A3B4C5D6E7F8G9H0J1K2"

# Every item of the default template answered "in order" (no hazard).
IN_ORDER: dict[str, bool | int] = {
    "open_flame": False,
    "sleeping_people": 0,
    "three_in_one": False,
    "escape_route": True,
    "extinguisher_present": True,
    "extinguisher_valid": True,
    "rcd_installed": True,
    "ebike_indoor_charging": False,
    "gas_safe": True,
    "wiring_ok": True,
}
# The value that makes each item a hazard.
HAZARD: dict[str, bool | int] = {item: (1 if item == "sleeping_people" else not ok) for item, ok in IN_ORDER.items()}


def full_answers(shop: str, **values: bool | int) -> dict[str, Any]:
    """Every item answered, as the app sends a check (the gateway refuses one that leaves an item out): in order
    unless named in `values`, with a photo where the template asks for one (photos sync after the text, in their
    own replication, so a check may name one the server has not got yet)."""
    photo = [f"{shop}:photo:{new_ulid()}"]
    return {
        item.id: {"value": values.get(item.id, IN_ORDER[item.id]), **({"photos": photo} if item.photo_required else {})}
        for item in TEMPLATE.items
    }


_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_counter = itertools.count(1)


def ulid(when: str) -> str:
    value = (int(moment(when).timestamp() * 1000) << 80) | next(_counter)
    return "".join(_ALPHABET[(value >> (5 * i)) & 31] for i in range(25, -1, -1))


def moment(when: str) -> datetime:
    return datetime.fromisoformat(f"{when.replace(' ', 'T')}:00+08:00")


def at(when: str) -> str:
    return moment(when).isoformat()


def _event(kind: str, when: str, by: str, **fields: Any) -> dict[str, Any]:
    return {
        "_id": f"{SHOP}:{kind}:{ulid(when)}",
        "type": kind,
        "schema": 1,
        "shop": SHOP,
        "performed_at": at(when),
        "created_by": by,
        "device": "d-test",
        **fields,
    }


def receipt(when: str, *checks: Mapping[str, Any]) -> dict[str, Any]:
    """The gateway's note that it received these self-checks at `when` (`models.Receipt`)."""
    return {
        "_id": f"{SHOP}:receipt:{ulid(when)}",
        "type": "receipt",
        "schema": 1,
        "shop": SHOP,
        "events": [check["_id"] for check in checks],
        "received_at": at(when),
    }


def _answers(values: Mapping[str, bool | int | str]) -> dict[str, Any]:
    return {item: {"value": value, "photos": [PHOTO] if item == "gas_safe" else []} for item, value in values.items()}


def self_check(when: str, *hazards: str, answers: Mapping[str, bool | int | str] | None = None) -> dict[str, Any]:
    """A self-check answering every item in order, except the `hazards` named (answered as hazards)."""
    values = dict(IN_ORDER if answers is None else answers) | {item: HAZARD[item] for item in hazards}
    return _event(
        "self_check",
        when,
        OWNER,
        template=TEMPLATE.template_id,
        template_version=TEMPLATE.version,
        answers=_answers(values),
    )


def finding(fid: str, item: str, severity: str, deadline: str) -> dict[str, Any]:
    return {"id": fid, "item": item, "severity": severity, "note": "", "photos": [PHOTO], "deadline": deadline}


def patrol(when: str, *findings: dict[str, Any], template: Template = TEMPLATE) -> dict[str, Any]:
    answers = dict(IN_ORDER) | {f["item"]: HAZARD[f["item"]] for f in findings if f["item"] in HAZARD}
    return _event(
        "patrol",
        when,
        GRID,
        template=template.template_id,
        template_version=template.version,
        answers=_answers(answers),
        findings=list(findings),
    )


def rectification(when: str, hazard: str) -> dict[str, Any]:
    return _event("rectification", when, OWNER, hazard=hazard, note="已整改", photos=[PHOTO])


def verification(when: str, hazard: str, passed: bool = True, rectified: str | None = None) -> dict[str, Any]:
    return _event("verification", when, GRID, hazard=hazard, rectification=rectified, passed=passed, note="")


def photo(when: str) -> dict[str, Any]:
    attachment = {"content_type": "image/jpeg", "digest": "md5-x", "length": 1000, "revpos": 1, "stub": True}
    return _event("photo", when, OWNER, taken_at=at(when), _attachments={"photo.jpg": attachment})


def redemption(shop_code: str, number: int, when: str, points: int = 2) -> dict[str, Any]:
    """Reward points the office exchanged for a prize (written by the server, numbered per shop)."""
    return {
        "_id": f"{shop_code}:redemption:{number:06d}",
        "type": "redemption",
        "schema": 1,
        "shop": shop_code,
        "number": number,
        "points": points,
        "prize": "灭火毯",
        "note": "",
        "request_id": None,
        "performed_at": at(when),
        "created_by": "office:wang",
    }


def hazard_id(check: Mapping[str, Any], suffix: str) -> str:
    """`{shop}:hazard:{check ulid}-{item or finding id}`."""
    return f"{SHOP}:hazard:{str(check['_id']).rsplit(':', 1)[1]}-{suffix}"


def shop(status: str = "active", code: str = SHOP) -> dict[str, Any]:
    return {
        "_id": f"{code}:shop:{code}",
        "type": "shop",
        "schema": 1,
        "code": code,
        "name": "老王面馆",
        "address": "文三路 128 号",
        "category": "restaurant",
        "community": "wensan",
        "grid": "wensan-03",
        "status": status,
        "owner_activated": True,
    }


def project(
    events: Iterable[Mapping[str, Any]],
    as_of: str,
    registry: Mapping[str, Any] | None = None,
    rules: Rules | RulesHistory = RULES,
    templates: Mapping[tuple[str, int], Template] | None = None,
) -> list[dict[str, Any]]:
    return project_shop(
        shop() if registry is None else registry,
        list(events),
        rules,
        date.fromisoformat(as_of),
        TEMPLATES if templates is None else templates,
    )


def of_type(docs: Iterable[Mapping[str, Any]], kind: str) -> list[Mapping[str, Any]]:
    return [doc for doc in docs if doc["type"] == kind]


def entries(docs: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The entries of the ledger's month documents among `docs`, each flat with its name as `_id`
    (`models.projections.ledger_entries`), in `_id` order."""
    found = [entry for doc in of_type(docs, "ledger") for entry in ledger_entries(doc)]
    return sorted(found, key=lambda entry: str(entry["_id"]))


def ledger(docs: Iterable[Mapping[str, Any]]) -> dict[str, list[int]]:
    """Points per rule, in the entries' `_id` order, leaving out the year's start."""
    found: dict[str, list[int]] = {}
    for entry in entries(docs):
        if entry["rule"] != "start":
            found.setdefault(str(entry["rule"]), []).append(int(entry["points"]))
    return found


def score(docs: Iterable[Mapping[str, Any]]) -> Mapping[str, Any]:
    [doc] = of_type(docs, "score")
    return doc


def one(docs: Iterable[Mapping[str, Any]], doc_id: str) -> Mapping[str, Any]:
    [doc] = [doc for doc in docs if doc["_id"] == doc_id]
    return doc


def gas_leak_patrol(shop: str, user_id: str, device: str) -> dict[str, Any]:
    """A patrol a minute ago, as a grid worker's phone writes it, finding the gas hose unsafe: a serious item, so
    an alarm at once. Every item carries the patrol's photo id (the photo syncs after the text, as on the phone)."""
    now = datetime.now(ZoneInfo("Asia/Shanghai")).replace(microsecond=0) - timedelta(minutes=1)
    photo = [f"{shop}:photo:{new_ulid()}"]
    answers = {
        item: {"value": HAZARD[item] if item == "gas_safe" else value, "photos": photo}
        for item, value in IN_ORDER.items()
    }
    finding = {
        "id": "f1",
        "item": "gas_safe",
        "severity": "serious",
        "note": "燃气软管老化开裂",
        "photos": photo,
        "deadline": (now.date() + timedelta(days=1)).isoformat(),
    }
    return {
        "_id": f"{shop}:patrol:{new_ulid()}",
        "type": "patrol",
        "schema": 1,
        "shop": shop,
        "template": "district:template:fire-gas",
        "template_version": 1,
        "performed_at": now.isoformat(),
        "created_by": user_id,
        "device": device,
        "verified_self_checks": [],
        "answers": answers,
        "findings": [finding],
    }


Events = Callable[[], list[dict[str, Any]]]


def case(name: str, events: Events, as_of: str, expected: dict[str, list[int]]) -> Any:
    """One row of a rule's table: the events (made when the test runs), the day, the ledger expected by rule."""
    return pytest.param(events, as_of, expected, id=name)


def check_table(events: Events, as_of: str, expected: dict[str, list[int]]) -> list[dict[str, Any]]:
    """The shop's documents as of `as_of`: its ledger is `expected` (points by rule), its score 100 plus them."""
    docs = project(events(), as_of)
    assert ledger(docs) == expected
    assert score(docs)["points"] == 100 + sum(sum(points) for points in expected.values())
    return docs
