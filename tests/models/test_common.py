"""The registry of document types, the id grammar and readable reasons."""

from __future__ import annotations

from typing import get_args

import pydantic
import pytest

from server.models import DOC_TYPES, EVENT_TYPES, SERVER_TYPES, SelfCheck, parse_doc, reason_of
from server.models.common import split_id
from tests.models.examples import self_check


def test_every_type_is_registered_under_its_own_name() -> None:
    assert set(EVENT_TYPES) == {"self_check", "patrol", "rectification", "verification", "photo"}
    assert not set(EVENT_TYPES) & set(SERVER_TYPES) and set(DOC_TYPES) == set(EVENT_TYPES) | set(SERVER_TYPES)
    for name, model in DOC_TYPES.items():
        assert get_args(model.model_fields["type"].annotation) == (name,)


def test_models_are_closed_and_frozen() -> None:
    for model in DOC_TYPES.values():
        assert model.model_config.get("extra") == "forbid" and model.model_config.get("frozen") is True


@pytest.mark.parametrize(
    ("doc_id", "parts"),
    [
        ("S0001:photo:01JDY2A3B4C5D6E7F8G9H0J1K2", ("S0001", "photo", "01JDY2A3B4C5D6E7F8G9H0J1K2")),
        ("S0001:score", ("S0001", "score", "")),
        ("office:ranking:xixi:2026-11", ("office", "ranking", "xixi:2026-11")),
    ],
)
def test_split_id(doc_id: str, parts: tuple[str, str, str]) -> None:
    assert split_id(doc_id) == parts


def test_parse_doc_dispatches_on_type() -> None:
    assert isinstance(parse_doc(self_check()), SelfCheck)
    with pytest.raises(pydantic.ValidationError) as info:
        parse_doc({"type": "invoice"})
    assert reason_of(info.value).startswith("type: must be a document type: self_check, patrol")


def test_reason_names_nested_fields_with_indexes() -> None:
    doc = self_check()
    doc["answers"]["extinguisher_valid"]["photos"] = ["S0001:photo:01JDY2A3B4C5D6E7F8G9H0J1K2", 7]
    with pytest.raises(pydantic.ValidationError) as info:
        parse_doc(doc)
    assert reason_of(info.value) == "answers.extinguisher_valid.photos[1]: must be a string"
