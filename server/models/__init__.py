"""Wire format v1 as pydantic models: the events devices create and the documents only the server writes.

`parse_event` is what the gateway calls on every document a device pushes; `parse_doc` reads any document type.
Both raise `pydantic.ValidationError`; `reason_of` turns one into the `reason` of a `forbidden` answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, TypeVar

from pydantic import ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

from server.models.common import DISTRICT, MAX_NOTE, MAX_PHOTOS_PER_CHECK, SCHEMA, SEVERITIES, Doc, Severity, reason_of
from server.models.events import (
    Answer,
    Attachment,
    ChecklistEvent,
    EventDoc,
    Finding,
    Gps,
    Patrol,
    Photo,
    Rectification,
    SelfCheck,
    Verification,
)
from server.models.followups import FollowUp, FollowUpRequest
from server.models.projections import (
    Alarm,
    AlarmStep,
    Figures,
    Hazard,
    Ledger,
    LedgerEntry,
    Ranking,
    Receipt,
    Redemption,
    Rewards,
    Score,
    Stats,
)
from server.models.registry import Community, Grid, Shop, Subdistrict, community_doc_id, grid_doc_id, shop_doc_id
from server.models.rules import RULES_ID, Rules, default_rules
from server.models.templates import (
    DEFAULT_TEMPLATE_ID,
    Template,
    TemplateItem,
    check_answers,
    check_event,
    default_template,
    hazard_items,
)

M = TypeVar("M")
Event = SelfCheck | Patrol | Rectification | Verification | Photo

# Types a device may create through /sync/ (whether a role may create a given one is `server.access`'s call).
EVENT_TYPES: Final[Mapping[str, type[Event]]] = {
    "self_check": SelfCheck,
    "patrol": Patrol,
    "rectification": Rectification,
    "verification": Verification,
    "photo": Photo,
}
# Types only the server writes: the registry, shared data and projections.
SERVER_TYPES: Final[Mapping[str, type[Doc]]] = {
    "shop": Shop,
    "community": Community,
    "subdistrict": Subdistrict,
    "grid": Grid,
    "template": Template,
    "rules": Rules,
    "score": Score,
    "ledger": Ledger,
    "hazard": Hazard,
    "alarm": Alarm,
    "ranking": Ranking,
    "stats": Stats,
    "rewards": Rewards,
    "redemption": Redemption,
    "receipt": Receipt,
    "followup": FollowUp,
}
DOC_TYPES: Final[Mapping[str, type[Doc]]] = {**EVENT_TYPES, **SERVER_TYPES}


def parse_event(doc: Any) -> Event:
    """Validate a document a device pushed; anything but one of the five event types is refused."""
    model = _model_for(doc, EVENT_TYPES, "an event type")
    event: Event = model.model_validate(doc)
    return event


def parse_doc(doc: Any) -> Doc:
    """Validate a document of any wire-format-v1 type."""
    return _model_for(doc, DOC_TYPES, "a document type").model_validate(doc)


def _model_for(doc: Any, types: Mapping[str, M], what: str) -> M:
    kind = doc.get("type") if isinstance(doc, dict) else None
    if isinstance(kind, str) and kind in types:
        return types[kind]
    if not isinstance(doc, dict):
        error = PydanticCustomError("document", "a document must be a JSON object")
        raise ValidationError.from_exception_data("Document", [InitErrorDetails(type=error, loc=(), input=doc)])
    message = f"must be {what}: {', '.join(types)}"
    error = PydanticCustomError("document_type", message)
    raise ValidationError.from_exception_data("Document", [InitErrorDetails(type=error, loc=("type",), input=kind)])


__all__ = [
    "DEFAULT_TEMPLATE_ID",
    "DISTRICT",
    "DOC_TYPES",
    "EVENT_TYPES",
    "MAX_NOTE",
    "MAX_PHOTOS_PER_CHECK",
    "RULES_ID",
    "SCHEMA",
    "SERVER_TYPES",
    "SEVERITIES",
    "Alarm",
    "AlarmStep",
    "Answer",
    "Attachment",
    "ChecklistEvent",
    "Community",
    "Doc",
    "Event",
    "EventDoc",
    "Figures",
    "Finding",
    "FollowUp",
    "FollowUpRequest",
    "Gps",
    "Grid",
    "Hazard",
    "Ledger",
    "LedgerEntry",
    "Patrol",
    "Photo",
    "Ranking",
    "Receipt",
    "Rectification",
    "Rules",
    "Score",
    "SelfCheck",
    "Severity",
    "Shop",
    "Stats",
    "Subdistrict",
    "Template",
    "TemplateItem",
    "Verification",
    "check_answers",
    "check_event",
    "community_doc_id",
    "default_rules",
    "default_template",
    "grid_doc_id",
    "hazard_items",
    "parse_doc",
    "parse_event",
    "reason_of",
    "shop_doc_id",
]
