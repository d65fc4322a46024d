"""Properties of `project_shop` over random histories: the arrival order of the events and replays change
nothing, and the output is plain JSON in a fixed order that agrees with itself."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from server.models import parse_doc
from tests.validators.builders import (
    IN_ORDER,
    entries,
    finding,
    hazard_id,
    of_type,
    patrol,
    photo,
    project,
    rectification,
    self_check,
    verification,
)

START = date(2026, 3, 1)
ITEMS = sorted(IN_ORDER)
SEVERITIES = ["general", "major", "serious"]
History = tuple[list[dict[str, Any]], str]


@st.composite
def histories(draw: st.DrawFn) -> History:
    """A few weeks of a shop: self-checks and patrols finding hazards, fixes and verdicts on them, photos.
    Times fall on few distinct minutes, so events often share a `performed_at` and the id has to break ties."""
    events: list[dict[str, Any]] = []
    hazards: list[str] = []
    for _ in range(draw(st.integers(0, 14))):
        offset = draw(st.integers(0, 45))
        day = START + timedelta(days=offset)
        when = f"{day.isoformat()} {draw(st.sampled_from(['00:10', '09:00', '23:50']))}"
        kind = draw(st.sampled_from(["self_check", "patrol", "rectification", "verification", "photo"]))
        if kind == "self_check":
            items = draw(st.lists(st.sampled_from(ITEMS), unique=True, max_size=3))
            events.append(self_check(when, *items))
            hazards += [hazard_id(events[-1], item) for item in items]
        elif kind == "patrol":
            found = draw(st.lists(st.tuples(st.sampled_from(ITEMS), st.sampled_from(SEVERITIES)), max_size=3))
            due = (day + timedelta(days=draw(st.integers(0, 10)))).isoformat()
            events.append(patrol(when, *(finding(f"f{n}", i, s, due) for n, (i, s) in enumerate(found))))
            hazards += [hazard_id(events[-1], f"f{n}") for n in range(len(found))]
        elif kind == "photo":
            events.append(photo(when))
        elif hazards:
            target = draw(st.sampled_from(hazards))
            if kind == "rectification":
                events.append(rectification(when, target))
            else:
                events.append(verification(when, target, passed=draw(st.booleans())))
    as_of = START + timedelta(days=draw(st.integers(0, 80)))
    return events, as_of.isoformat()


@settings(max_examples=60, deadline=None)
@given(data=st.data(), history=histories())
def test_arrival_order_and_duplicates_do_not_matter(data: st.DataObject, history: History) -> None:
    events, as_of = history
    expected = project(events, as_of)
    shuffled = data.draw(st.permutations(events))
    again = data.draw(st.lists(st.sampled_from(events), max_size=4)) if events else []
    assert project([*shuffled, *again], as_of) == expected


@settings(max_examples=60, deadline=None)
@given(history=histories())
def test_a_replay_is_byte_identical(history: History) -> None:
    events, as_of = history
    first, second = project(events, as_of), project(events, as_of)
    assert json.dumps(first, ensure_ascii=False) == json.dumps(second, ensure_ascii=False)


@settings(max_examples=60, deadline=None)
@given(history=histories())
def test_the_output_is_plain_sorted_json_that_agrees_with_itself(history: History) -> None:
    events, as_of = history
    docs = project(events, as_of)
    assert json.loads(json.dumps(docs)) == docs  # JSON types only: no dates, tuples or models
    ids = [doc["_id"] for doc in docs]
    assert ids == sorted(set(ids))
    for doc in docs:
        assert parse_doc(doc).to_doc() == doc
    [score] = of_type(docs, "score")
    year = as_of[:4]
    assert score["points"] == sum(e["points"] for e in entries(docs) if str(e["day"]).startswith(year))
    assert score["open_hazards"] == sum(1 for h in of_type(docs, "hazard") if h["status"] != "closed")
    hazards = {doc["_id"] for doc in of_type(docs, "hazard")}
    for alarm in of_type(docs, "alarm"):
        assert {item["hazard"] for item in alarm["items"]} <= hazards
