"""The default checklist is SPEC's table, and answers are held to the template version they were filled with."""

from __future__ import annotations

import json
from importlib.resources import files
from typing import Any

import pydantic
import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.models import (
    DEFAULT_TEMPLATE_ID,
    Answer,
    Patrol,
    SelfCheck,
    Template,
    check_answers,
    check_event,
    default_template,
    hazard_items,
    parse_doc,
    parse_event,
    reason_of,
)
from tests.models.examples import PHOTOS, SHOP, assert_round_trip, patrol, self_check
from tests.validators.builders import full_answers

# SPEC.md "Checklist": label (exactly as written there), answer, hazard when, default severity.
SPEC_TABLE = [
    ("open_flame", "居住区域是否使用明火", "yes_no", {"equals": True}, "serious"),
    ("sleeping_people", "店内住宿人数", "number", {"gt": 0}, "major"),
    ("three_in_one", "是否存在“三合一”", "yes_no", {"equals": True}, "serious"),
    ("escape_route", "逃生通道是否畅通", "yes_no", {"equals": False}, "major"),
    ("extinguisher_present", "是否配备灭火器/消防栓", "yes_no", {"equals": False}, "major"),
    ("extinguisher_valid", "灭火器是否在有效期内", "yes_no", {"equals": False}, "general"),
    ("rcd_installed", "是否安装漏电保护装置", "yes_no", {"equals": False}, "major"),
    ("ebike_indoor_charging", "电瓶车是否在店内充电", "yes_no", {"equals": True}, "serious"),
    ("gas_safe", "燃气瓶/管道及报警器是否安全", "yes_no", {"equals": False}, "serious"),
    ("wiring_ok", "电线是否规范（无私拉乱接）", "yes_no", {"equals": False}, "general"),
]


def answers(**values: Any) -> dict[str, Answer]:
    return {key: Answer(value=value, photos=(PHOTOS[0],)) for key, value in values.items()}


def test_default_template_is_the_spec_checklist() -> None:
    template = default_template()
    assert template.id == DEFAULT_TEMPLATE_ID == template.template_id and template.version == 1
    assert template.title.zh == "消防与燃气安全" and template.applies_to("restaurant")
    assert len(template.items) == 10
    for item, (item_id, label, answer, hazard_when, severity) in zip(template.items, SPEC_TABLE, strict=True):
        assert (item.id, item.label_zh, item.answer, item.severity) == (item_id, label, answer, severity)
        assert item.hazard_when.model_dump() == hazard_when
        assert item.label_en.strip()
    # A shop without an extinguisher (already a hazard: extinguisher_present) or without gas answers these 不适用.
    assert {item.id for item in template.items if item.not_applicable} == {"extinguisher_valid", "gas_safe"}


def test_sleeping_people_become_serious_in_a_three_in_one_shop() -> None:
    item = default_template().item("sleeping_people")
    assert item is not None and item.escalate is not None
    assert item.escalate.when_hazard == ("three_in_one",) and item.escalate.severity == "serious"


def test_the_default_template_round_trips_as_a_document() -> None:
    raw = json.loads((files("server.models") / "data" / "template-fire-gas.json").read_text(encoding="utf-8"))
    assert assert_round_trip(raw) == default_template()


def test_design_examples_fit_the_default_template() -> None:
    """DESIGN.md's examples show a few answers; the app answers every item, and only then do they fit."""
    template = default_template()
    for doc in (self_check(), patrol()):
        event = parse_event(doc)
        assert isinstance(event, SelfCheck | Patrol)
        left_out = [item for item in template.items if item.id not in doc["answers"]]
        labels, ids = "、".join(i.label_zh for i in left_out), ", ".join(i.id for i in left_out)
        assert check_event(template, event) == [
            f"answers: 检查表每一项都要回答，还有 {len(left_out)} 项未答：{labels}。"
            f"{ids} not answered; every item of the checklist needs an answer"
        ]
        doc["answers"] = full_answers(SHOP) | doc["answers"]
        assert check_event(template, parse_event(doc)) == []  # type: ignore[arg-type]


def test_hazard_items_on_a_sample_answer_set() -> None:
    template = default_template()
    sample = answers(
        wiring_ok=False,  # general
        open_flame=True,  # serious
        sleeping_people=2,  # major ...
        escape_route=True,  # in order
        extinguisher_present=False,  # major
        extinguisher_valid=True,  # in order
        ebike_indoor_charging=False,  # in order
        gas_safe=True,  # in order
        rcd_installed=False,  # major
    )
    assert hazard_items(template, sample) == [
        ("open_flame", "serious"),
        ("sleeping_people", "major"),
        ("extinguisher_present", "major"),
        ("rcd_installed", "major"),
        ("wiring_ok", "general"),
    ]
    with_three_in_one = {**sample, **answers(three_in_one=True)}
    assert ("sleeping_people", "serious") in hazard_items(template, with_three_in_one)
    assert ("three_in_one", "serious") in hazard_items(template, with_three_in_one)
    assert hazard_items(template, answers(sleeping_people=0, three_in_one=False, gas_safe=True)) == []


def test_hazard_items_ignore_answers_that_do_not_fit() -> None:
    template = default_template()
    assert hazard_items(template, answers(sleeping_people=True, open_flame=1, unknown_item=True)) == []


@given(st.lists(st.sampled_from([True, False, 0, 1, 2, 7, -1, "na"]), min_size=10, max_size=10), st.booleans())
def test_hazard_items_marks_what_each_item_says_is_a_hazard(values: list[Any], stricter: bool) -> None:
    """`hazard_items` reads each item's hazard test once per template: for any answers it marks exactly the items
    whose `is_hazard` says so (and the answer fits), and a new version of the template, whose items say otherwise,
    is read anew, not from what was read for the old one."""
    template = default_template()
    if stricter:  # another template object with other tests: a number item stricter, a yes/no one turned round
        doc = template.to_doc()
        doc["items"][1]["hazard_when"] = {"gt": 1}
        doc["items"][3]["hazard_when"] = {"equals": True}
        template = Template.model_validate(doc)
        hazard_items(default_template(), {})  # the old version's tests are at hand meanwhile
    given_answers = answers(**{item.id: value for item, value in zip(template.items, values, strict=True)})
    fits = {item.id for item in template.items if check_answers(template, {item.id: given_answers[item.id]}) == []}
    marked = {item_id for item_id, _ in hazard_items(template, given_answers)}
    assert marked == {item.id for item in template.items if item.is_hazard(given_answers[item.id].value)} & fits


def test_check_answers_accepts_a_full_clean_self_check() -> None:
    template = default_template()
    clean = {
        item.id: Answer(
            value=0 if item.answer == "number" else not item.hazard_when.model_dump()["equals"],
            photos=(PHOTOS[0],) if item.photo_required else (),
        )
        for item in template.items
    }
    assert check_answers(template, clean) == [] and hazard_items(template, clean) == []


@pytest.mark.parametrize(
    ("given_answers", "problem"),
    [
        (
            answers(fire_exit=True),
            "answers.fire_exit: 检查表 district:template:fire-gas 第 1 版没有这一项。"
            "not an item of district:template:fire-gas v1",
        ),
        (
            answers(sleeping_people=True),
            "answers.sleeping_people.value: 这一项须填不小于 0 的整数。must be a whole number ≥ 0",
        ),
        (
            answers(sleeping_people=-1),
            "answers.sleeping_people.value: 这一项须填不小于 0 的整数。must be a whole number ≥ 0",
        ),
        (answers(open_flame=0), "answers.open_flame.value: 这一项须回答是或否。must be true or false"),
        (
            {"gas_safe": Answer(value=True)},
            "answers.gas_safe.photos: “燃气瓶/管道及报警器是否安全”须拍照。this item needs a photo",
        ),
        (
            {"open_flame": Answer(value="na")},
            "answers.open_flame.value: 这一项须回答是或否，不能答不适用。"
            'must be true or false; this item cannot be answered "na" (not applicable)',
        ),
        (
            {"sleeping_people": Answer(value="na")},
            "answers.sleeping_people.value: 这一项须填不小于 0 的整数。must be a whole number ≥ 0",
        ),
        (
            {"open_flame": Answer.model_construct(value=False, photos=(), note="长" * 501)},
            "answers.open_flame.note: 备注最多 500 个字。longer than 500 characters",
        ),
        (
            {key: Answer(value=True, photos=(PHOTOS[0],) * 7) for key in ("open_flame", "gas_safe", "wiring_ok")},
            "answers: 一次检查最多 20 张照片，这次有 21 张。21 photos; a check carries at most 20",
        ),
    ],
)
def test_check_answers_names_each_problem(given_answers: dict[str, Answer], problem: str) -> None:
    problems = check_answers(default_template(), given_answers)
    assert problems == [problem]  # Chinese first, the English after the last 。


def test_not_applicable_answers_an_item_that_allows_it_without_a_photo_and_is_no_hazard() -> None:
    template = default_template()
    na = {"extinguisher_present": Answer(value=False), "extinguisher_valid": Answer(value="na")}
    assert check_answers(template, na | {"gas_safe": Answer(value="na")}) == []
    assert hazard_items(template, na | {"gas_safe": Answer(value="na")}) == [("extinguisher_present", "major")]
    gas_safe = template.item("gas_safe")
    assert gas_safe is not None and gas_safe.photo_required and not gas_safe.is_hazard("na")
    # A photo may still come with it (the owner shows there is no gas).
    assert check_answers(template, {"gas_safe": Answer(value="na", photos=(PHOTOS[0],))}) == []
    # A whole check answered so, as the app sends it, fits.
    doc = self_check()
    doc["answers"] = full_answers(SHOP) | {"gas_safe": {"value": "na"}, "extinguisher_valid": {"value": "na"}}
    event = parse_event(doc)
    assert isinstance(event, SelfCheck) and check_event(template, event) == []
    assert event.answers["gas_safe"].value == "na" and event.to_doc()["answers"]["gas_safe"] == {
        "value": "na",
        "photos": [],
        "note": "",
    }


@pytest.mark.parametrize("value", [None, "NA", "n/a", "", "true", 1.5, [], {}])
def test_an_answer_is_true_false_a_whole_number_or_na(value: Any) -> None:
    with pytest.raises(pydantic.ValidationError) as info:
        Answer.model_validate({"value": value})
    assert 'must be true, false, a whole number or "na" (not applicable)' in reason_of(info.value)


def test_not_applicable_round_trips_in_a_template() -> None:
    doc = _item("open_flame", not_applicable=True)
    template = parse_doc(doc)
    assert isinstance(template, Template)
    open_flame = template.item("open_flame")
    assert open_flame is not None and open_flame.not_applicable
    assert check_answers(template, {"open_flame": Answer(value="na")}) == []
    without = _template()
    for item in without["items"]:
        item.pop("not_applicable")
    stored = parse_doc(without)
    assert isinstance(stored, Template) and not any(item.not_applicable for item in stored.items)


def test_check_event_holds_a_check_to_its_template_version() -> None:
    template = default_template()
    old = parse_event(self_check() | {"template_version": 2})
    assert isinstance(old, SelfCheck)
    assert check_event(template, old) == [
        "template: 检查表的版本不符。district:template:fire-gas v2 is not district:template:fire-gas v1"
    ]


def test_check_event_checks_finding_items() -> None:
    doc = patrol()
    doc["answers"] = full_answers(SHOP) | doc["answers"]
    doc["findings"][0]["item"] = "roof_leaks"
    event = parse_event(doc)
    assert isinstance(event, Patrol)
    assert check_event(default_template(), event) == [
        "findings.f1.item: 检查表 district:template:fire-gas 没有 roof_leaks 这一项。"
        "roof_leaks is not an item of district:template:fire-gas"
    ]
    doc["findings"][0]["item"] = "other"
    other = parse_event(doc)
    assert isinstance(other, Patrol) and check_event(default_template(), other) == []


def _template(**changes: Any) -> dict[str, Any]:
    doc = default_template().to_doc()
    doc.update(changes)
    return doc


def _item(item_id: str, **changes: Any) -> dict[str, Any]:
    doc = _template()
    doc["items"] = [dict(item, **changes) if item["id"] == item_id else item for item in doc["items"]]
    return doc


@pytest.mark.parametrize(
    ("doc", "reason"),
    [
        (_template(items=default_template().to_doc()["items"] * 2), "items: every item needs its own id"),
        (_item("sleeping_people", hazard_when={"equals": True}), 'a number item needs hazard_when {"gt": n}'),
        (_item("open_flame", hazard_when={"gt": 0}), 'a yes_no item needs hazard_when {"equals": true|false}'),
        (_item("open_flame", answer="text"), "items[0].answer"),
        (
            _item("sleeping_people", not_applicable=True),
            "item sleeping_people: only a yes_no item may be answered not applicable (a number item is answered 0",
        ),
        (_item("gas_safe", not_applicable="yes"), "not_applicable"),
        (_item("open_flame", id="other"), "'other' is reserved"),
        (_item("sleeping_people", escalate={"when_hazard": ["three_in_one"], "severity": "general"}), "raise"),
        (_item("sleeping_people", escalate={"when_hazard": ["nothing"], "severity": "serious"}), "not other items"),
        (_template(_id="district:template:fire-gas:v2"), "district:template:{id}:v1"),
        (_template(_id="S0001:template:fire-gas"), "_id must have the form district:template:{id}"),
        (_template(items=[]), "items"),
    ],
)
def test_broken_templates_are_refused(doc: dict[str, Any], reason: str) -> None:
    with pytest.raises(pydantic.ValidationError) as info:
        parse_doc(doc)
    assert reason in reason_of(info.value)


def test_a_frozen_version_has_its_own_id() -> None:
    snapshot = parse_doc(_template(_id=default_template().snapshot_id))
    assert isinstance(snapshot, Template)
    assert snapshot.id == "district:template:fire-gas:v1" and snapshot.template_id == DEFAULT_TEMPLATE_ID


VALUES = {"yes_no": st.booleans(), "number": st.integers(min_value=0, max_value=50)}
NOT_APPLICABLE = st.one_of(st.booleans(), st.just("na"))


@given(st.data())
def test_any_well_typed_answers_fit_and_hazards_follow_the_conditions(data: st.DataObject) -> None:
    template = default_template()
    chosen = data.draw(st.lists(st.sampled_from(template.items), unique_by=lambda item: item.id, min_size=1))
    given_answers = {
        item.id: Answer(
            value=data.draw(NOT_APPLICABLE if item.not_applicable else VALUES[item.answer]), photos=(PHOTOS[0],)
        )
        for item in chosen
    }
    assert check_answers(template, given_answers) == []
    found = dict(hazard_items(template, given_answers))
    for item in chosen:
        assert (item.id in found) == item.is_hazard(given_answers[item.id].value)
    order = [item.id for item in template.items]
    assert list(found) == sorted(found, key=order.index)
