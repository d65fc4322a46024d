"""Events read back from the store, built without validating them a second time.

Every event in the store passed the gateway's checks (`parse_event` and its template) when a phone wrote it, or an
operator wrote it, who is trusted by definition. Validating each one again on every projection cost ~0.5 ms per
event, most of the time of a replay, so `trusted_event` builds the model with `model_construct` from a document
whose shape it has checked: exactly what a projection reads, with the types it needs. A document that does not
have that shape goes through full validation (`parse_event`), so anything broken is still refused, never guessed.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any, Final, TypeVar

from pydantic import BaseModel

from server.models import Event, parse_event
from server.models.common import COUCH_FIELDS, PARTITION, SEVERITIES, ULID
from server.models.events import (
    MAX_DEADLINE_DAYS,
    NOT_APPLICABLE,
    Answer,
    Finding,
    Patrol,
    Rectification,
    SelfCheck,
    Verification,
)
from server.validators.rules import parse_moment

_ID: Final = re.compile(rf"({PARTITION}):(self_check|patrol|rectification|verification):{ULID}")
_DAY: Final = re.compile(r"\d{4}-\d{2}-\d{2}")
M = TypeVar("M", bound=BaseModel)
# Answers are immutable and mostly alike ("yes", no photo, no note): equal ones share one instance.
_ANSWERS: dict[tuple[type, bool | int | str, tuple[str, ...], str], Answer] = {}
MAX_SHARED_ANSWERS: Final = 4096
# The shared answers that are a bare value (no photo, no note; most answers), by value: a look-up without building
# and hashing `_ANSWERS`'s key. Two tables, since True == 1 and False == 0 would find each other's answer.
_BARE_BOOLS: dict[bool, Answer] = {}
_BARE_INTS: dict[int, Answer] = {}


def _keys(model: type[BaseModel], extra: frozenset[str] = frozenset()) -> frozenset[str]:
    return frozenset(field.alias or name for name, field in model.model_fields.items()) | extra


# The keys each model accepts: a document with any other goes through full validation (which refuses it), since
# the models are closed to unknown keys. Events other than photos refuse attachments, so `_attachments` is not here.
_ALLOWED: Final = {
    "self_check": _keys(SelfCheck, COUCH_FIELDS - {"_attachments"}),
    "patrol": _keys(Patrol, COUCH_FIELDS - {"_attachments"}),
    "rectification": _keys(Rectification, COUCH_FIELDS - {"_attachments"}),
    "verification": _keys(Verification, COUCH_FIELDS - {"_attachments"}),
}
_ANSWER_KEYS: Final = _keys(Answer)
_FINDING_KEYS: Final = _keys(Finding)


def trusted_event(doc: dict[str, Any]) -> Event:
    """The event `doc` holds; raises `pydantic.ValidationError` (through `parse_event`) when it is not one."""
    event = _construct(doc)
    return event if event is not None else parse_event(doc)


def _construct(doc: dict[str, Any]) -> Event | None:
    """The model for a well-shaped document, else None (then it is validated in full)."""
    try:
        matched = _ID.fullmatch(doc["_id"])
        if matched is None or matched[1] != doc["shop"] or matched[2] != doc["type"] or doc["schema"] != 1:
            return None
        if not _ALLOWED[doc["type"]].issuperset(doc):
            return None
        if not (isinstance(doc["created_by"], str) and isinstance(doc["device"], str)):
            return None
        performed_at = parse_moment(doc["performed_at"])
        if performed_at.utcoffset() is None:
            return None
        kind = doc["type"]
        # What every event carries, in the models' field order; each kind's builder adds its own fields to it.
        common = {
            "id": doc["_id"],
            "type": kind,
            "schema_": doc["schema"],
            "shop": doc["shop"],
            "performed_at": performed_at,
            "created_by": doc["created_by"],
            "device": doc["device"],
        }
        if kind == "self_check" or kind == "patrol":
            return _checklist(doc, common)
        if kind == "rectification":
            return _rectification(doc, common)
        return _verification(doc, common)
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


def _checklist(doc: dict[str, Any], common: dict[str, Any]) -> SelfCheck | Patrol | None:
    template, version, answers = doc["template"], doc["template_version"], _answers(doc["answers"])
    if not isinstance(template, str) or type(version) is not int or version < 1 or answers is None:
        return None
    fields = common  # this event's own: completed in place, not copied
    fields.update(template=template, template_version=version, answers=answers)
    if doc["type"] == "self_check":
        return _built(SelfCheck, fields) if answers else None
    day = common["performed_at"].date()
    checks, findings = doc.get("verified_self_checks", []), _findings(doc.get("findings", []), day)
    if findings is None or not isinstance(checks, list) or not all(isinstance(c, str) for c in checks):
        return None
    fields.update(verified_self_checks=tuple(checks), findings=findings)
    return _built(Patrol, fields)


def _answers(raw: Any) -> dict[str, Answer] | None:
    if not isinstance(raw, dict):
        return None
    answers = {}
    for item, answer in raw.items():
        if type(answer) is dict and len(answer) == 1:  # a bare value: one look-up
            value: Any = answer.get("value")
            kind = type(value)
            known = _BARE_BOOLS.get(value) if kind is bool else _BARE_INTS.get(value) if kind is int else None
            if known is not None:
                answers[item] = known
                continue
        if not _ANSWER_KEYS.issuperset(answer):
            return None
        value, photos, note = answer["value"], _photos(answer), answer.get("note", "")
        well_typed = isinstance(value, int) or (isinstance(value, str) and value == NOT_APPLICABLE)  # a bool is an int
        if not well_typed or photos is None or not isinstance(note, str):
            return None
        key = (type(value), value, photos, note)
        known = _ANSWERS.get(key)
        if known is None:
            if len(_ANSWERS) >= MAX_SHARED_ANSWERS:
                _ANSWERS.clear()
                _BARE_INTS.clear()  # bounded with it (`_BARE_BOOLS` holds two at most)
            known = _ANSWERS[key] = _built(Answer, {"value": value, "photos": photos, "note": note})
            if not photos and not note:
                bare = _BARE_BOOLS if type(value) is bool else _BARE_INTS if type(value) is int else None
                if bare is not None:
                    bare[value] = known
        answers[item] = known
    return answers


def _findings(raw: Any, day: date) -> tuple[Finding, ...] | None:
    """The patrol's findings, when each is well-shaped and its deadline lies from the patrol's `day` to
    MAX_DEADLINE_DAYS after (else None: validated in full, which refuses the patrol, and the projection skips
    it: an operator's write skips the gateway's checks)."""
    if not isinstance(raw, list):
        return None
    findings = []
    for found in raw:
        if not _FINDING_KEYS.issuperset(found):
            return None
        fid, item, severity, deadline = found["id"], found["item"], found["severity"], found["deadline"]
        note, photos = found.get("note", ""), _photos(found)
        if not (isinstance(fid, str) and isinstance(item, str) and isinstance(note, str)) or photos is None:
            return None
        if severity not in SEVERITIES or not isinstance(deadline, str) or not _DAY.fullmatch(deadline):
            return None
        fields = {"id": fid, "item": item, "severity": severity, "note": note, "photos": photos}
        due = date.fromisoformat(deadline)
        if not 0 <= (due - day).days <= MAX_DEADLINE_DAYS:
            return None
        findings.append(_built(Finding, fields | {"deadline": due}))
    if len({f.id for f in findings}) != len(findings):
        return None
    return tuple(findings)


def _photos(holder: dict[str, Any]) -> tuple[str, ...] | None:
    photos = holder.get("photos")
    if not photos:
        return () if photos is None or photos == [] else None
    if type(photos) is not list:
        return None
    for photo in photos:  # a loop, not `all(...)`: a generator costs more than the few ids it checks
        if type(photo) is not str:
            return None
    return tuple(photos)


_new = object.__new__  # the models define no `__new__` of their own
_set = object.__setattr__  # past the frozen models' own `__setattr__`


def _built(model: type[M], fields: dict[str, Any]) -> M:
    """`model.model_construct(**fields)` for every field given, by name, in the model's order (several times faster;
    it runs for every answer of every check): the instance state pydantic keeps, set directly."""
    instance = _new(model)
    _set(instance, "__dict__", fields)
    _set(instance, "__pydantic_fields_set__", set(fields))
    _set(instance, "__pydantic_extra__", None)
    _set(instance, "__pydantic_private__", None)
    return instance


def _rectification(doc: dict[str, Any], common: dict[str, Any]) -> Rectification | None:
    hazard, note, photos = doc["hazard"], doc.get("note", ""), _photos(doc)
    if not isinstance(hazard, str) or not isinstance(note, str) or photos is None:
        return None
    common.update(hazard=hazard, note=note, photos=photos)
    return _built(Rectification, common)


def _verification(doc: dict[str, Any], common: dict[str, Any]) -> Verification | None:
    hazard, rectified, passed = doc["hazard"], doc.get("rectification"), doc["passed"]
    note, photos = doc.get("note", ""), _photos(doc)
    if not isinstance(hazard, str) or not (rectified is None or isinstance(rectified, str)):
        return None
    if not isinstance(passed, bool) or not isinstance(note, str) or photos is None:
        return None
    fields = {"hazard": hazard, "rectification": rectified, "passed": passed, "note": note, "photos": photos}
    return _built(Verification, common | fields)
