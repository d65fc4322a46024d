"""Checklist templates (`district:template:{id}`) and the checks that answers fit the template version they name.

Templates are data: the office adds items or whole modules (food safety, hygiene) per shop category without a
code change. The current version lives at `district:template:{id}`; a frozen copy of every published version at
`district:template:{id}:v{version}`, so old checks are always read against the version they were filled with.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Final, Literal, Self

from pydantic import Field, StrictBool, StrictStr, ValidationError, model_validator

from server.models.common import (
    MAX_NOTE,
    MAX_PHOTOS_PER_CHECK,
    SEVERITIES,
    Count,
    Doc,
    ItemId,
    Part,
    PositiveInt,
    Severity,
    Text,
    Version,
    editor_reason,
    load_data,
    path_of,
    refuse,
)
from server.models.events import NOT_APPLICABLE, Answer, ChecklistEvent, Patrol

DEFAULT_TEMPLATE_ID: Final = "district:template:fire-gas"
OTHER_ITEM: Final = "other"  # a patrol finding about something no item covers
ALL_CATEGORIES: Final = "*"
# The office's words for what its checklist editor shows (pwa/src/office/i18n.ts): a refusal says them first.
SEVERITY_ZH: Final = {"general": "一般", "major": "较大", "serious": "严重"}
ANSWER_ZH: Final = {"yes_no": "是／否", "number": "数字"}


class Equals(Part):
    """A yes/no item is a hazard when the answer equals this."""

    equals: StrictBool


class GreaterThan(Part):
    """A number item is a hazard when the answer is greater than this."""

    gt: Count


class Escalation(Part):
    """The item's severity rises when any of these items is a hazard in the same check (people sleeping in a
    “三合一” shop are a serious hazard, not a major one)."""

    when_hazard: tuple[ItemId, ...] = Field(min_length=1)
    severity: Severity


class Title(Part):
    zh: Text
    en: Text


class TemplateItem(Part):
    """One question of a checklist. `not_applicable`: the item may be answered "na" (不适用), for a shop it does not
    concern (no extinguisher, no gas); such an answer is never a hazard and needs no photo. Only a yes/no item may
    have it: a number item is answered 0 when nothing applies."""

    id: ItemId
    label_zh: Text
    label_en: Text
    answer: Literal["yes_no", "number"]
    hazard_when: Equals | GreaterThan
    severity: Severity
    photo_required: StrictBool = False
    not_applicable: StrictBool = False
    points: PositiveInt | None = None  # overrides the rules' cost of this item's severity
    escalate: Escalation | None = None

    @model_validator(mode="after")
    def _check_condition(self) -> Self:
        wanted = Equals if self.answer == "yes_no" else GreaterThan
        if not isinstance(self.hazard_when, wanted):
            form = '{"equals": true|false}' if wanted is Equals else '{"gt": n}'
            raise refuse(
                f"“{ANSWER_ZH[self.answer]}”题须设定何时为隐患"
                f"（item {self.id}: a {self.answer} item needs hazard_when {form}）"
            )
        if self.not_applicable and self.answer != "yes_no":
            raise refuse(
                "只有“是／否”题可答“不适用”，数字题不涉及时答 0"
                f"（item {self.id}: only a yes_no item may be answered not applicable (a number item is answered 0 "
                "when nothing applies)）"
            )
        if self.escalate and SEVERITIES.index(self.escalate.severity) <= SEVERITIES.index(self.severity):
            raise refuse(
                f"升级后的隐患等级须高于本项的“{SEVERITY_ZH[self.severity]}”"
                f"（item {self.id}: escalate must raise the severity above {self.severity}）"
            )
        return self

    def is_hazard(self, value: bool | int | str) -> bool:
        """Whether `value` is this item's hazard answer; "na" (not applicable) never is."""
        condition = self.hazard_when  # read once: a projection asks this for every answer of every check
        if isinstance(condition, Equals):
            return value is condition.equals and isinstance(value, bool)
        return isinstance(value, int) and not isinstance(value, bool) and value > condition.gt


class Template(Doc):
    type: Literal["template"]
    version: Version
    title: Title
    categories: tuple[StrictStr, ...] = Field(min_length=1)  # shop categories it applies to; "*" for all
    items: tuple[TemplateItem, ...] = Field(min_length=1, max_length=200)

    @model_validator(mode="after")
    def _check_template(self) -> Self:
        self.check_id(
            rf"district:template:[a-z0-9][a-z0-9-]{{0,63}}(:v{self.version})?",
            f"district:template:{{id}} or district:template:{{id}}:v{self.version}",
        )
        # Said at the row the office would change (the second of two items with one code), Chinese first.
        ids = [item.id for item in self.items]
        for index, item_id in enumerate(ids):
            if item_id in ids[:index]:
                raise refuse(
                    f"items[{index}].id: 编号 {item_id} 与第 {ids.index(item_id) + 1} 项重复，每个检查项须有自己的编号"
                    "（items: every item needs its own id）"
                )
        if OTHER_ITEM in ids:
            raise refuse(
                f"items[{ids.index(OTHER_ITEM)}].id: 编号 {OTHER_ITEM} 留给巡查中检查表未列出的问题，不能用作检查项编号"
                f"（items: '{OTHER_ITEM}' is reserved for patrol findings no item covers）"
            )
        for item in self.items:
            if item.escalate and not set(item.escalate.when_hazard) <= set(ids) - {item.id}:
                missing = ", ".join(i for i in item.escalate.when_hazard if i not in ids or i == item.id)
                raise refuse(
                    f"items: 检查项“{item.label_zh}”的升级条件引用了本表中没有的检查项 {missing}，请保留该项或改回"
                    f"（item {item.id}: escalate names items that are not other items of this template）"
                )
        return self

    @property
    def template_id(self) -> str:
        """The id checks refer to (`district:template:fire-gas`), without any `:v{n}` suffix."""
        return self.id.split(":v", 1)[0]

    @property
    def snapshot_id(self) -> str:
        return f"{self.template_id}:v{self.version}"

    def item(self, item_id: str) -> TemplateItem | None:
        return next((item for item in self.items if item.id == item_id), None)

    def applies_to(self, category: str) -> bool:
        return ALL_CATEGORIES in self.categories or category in self.categories


def _said(kind: str, loc: tuple[int | str, ...], ctx: Mapping[str, object], msg: str) -> str | None:
    """What a refusal of the checklist editor's form means, in the office's words (None: said as written)."""
    field = loc[-1] if loc else ""
    if kind == "too_short":
        return {"items": "至少要有 1 个检查项", "categories": "至少选 1 个适用店铺类别"}.get(path_of(loc), "不能为空")
    if kind == "too_long":
        most = ctx.get("max_length")
        return f"最多 {most} 个检查项" if loc == ("items",) else f"不能超过 {most} 个字"
    if kind == "greater_than_equal":
        return f"不能小于 {ctx.get('ge')}"
    if kind == "int_type":
        return "须为整数"
    if kind == "missing":
        return "必须填写"
    if kind == "literal_error" and field == "severity":
        return "须为 一般、较大 或 严重"
    if kind == "literal_error" and field == "answer":
        return "须为 是／否 或 数字"
    if kind == "invalid" and field == "id" and "item id" in msg:
        return "编号只能用小写英文字母、数字和下划线，并以字母开头，如 fire_blanket"
    return None


def template_reason(exc: ValidationError, limit: int = 3) -> str:
    """A refused checklist in the words of the office's editor (检查项, 适用店铺类别, 编号): `editor_reason`."""
    return editor_reason(exc, _said, limit)


def check_answers(template: Template, answers: Mapping[str, Answer]) -> list[str]:
    """Problems with `answers` against this template version; an empty list means they fit."""
    problems: list[str] = []
    for key, answer in answers.items():
        item = template.item(key)
        if item is None:
            problems.append(
                f"answers.{key}: 检查表 {template.template_id} 第 {template.version} 版没有这一项。"
                f"not an item of {template.template_id} v{template.version}"
            )
            continue
        value = answer.value
        if value == NOT_APPLICABLE and item.answer == "yes_no" and not item.not_applicable:
            problems.append(
                f"answers.{key}.value: 这一项须回答是或否，不能答不适用。"
                'must be true or false; this item cannot be answered "na" (not applicable)'
            )
        elif item.answer == "yes_no" and not isinstance(value, bool) and value != NOT_APPLICABLE:
            problems.append(f"answers.{key}.value: 这一项须回答是或否。must be true or false")
        elif item.answer == "number" and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            problems.append(f"answers.{key}.value: 这一项须填不小于 0 的整数。must be a whole number ≥ 0")
        # An item that does not apply has nothing to photograph (no extinguisher, no gas).
        if item.photo_required and not answer.photos and value != NOT_APPLICABLE:
            problems.append(f"answers.{key}.photos: “{item.label_zh}”须拍照。this item needs a photo")
        if len(answer.note) > MAX_NOTE:
            problems.append(f"answers.{key}.note: 备注最多 {MAX_NOTE} 个字。longer than {MAX_NOTE} characters")
    photos = sum(len(answer.photos) for answer in answers.values())
    if photos > MAX_PHOTOS_PER_CHECK:
        problems.append(
            f"answers: 一次检查最多 {MAX_PHOTOS_PER_CHECK} 张照片，这次有 {photos} 张。"
            f"{photos} photos; a check carries at most {MAX_PHOTOS_PER_CHECK}"
        )
    return problems


def check_event(template: Template, event: ChecklistEvent) -> list[str]:
    """Problems with a self-check or patrol against `template`, which must be the version the event names."""
    if (event.template, event.template_version) != (template.template_id, template.version):
        wanted = f"{template.template_id} v{template.version}"
        return [f"template: 检查表的版本不符。{event.template} v{event.template_version} is not {wanted}"]
    problems = check_answers(template, event.answers)
    # The app answers every item before it lets a check be sent; one that answers a few would earn a week's
    # self-check (+2) or pass for a patrol without looking at the rest.
    unanswered = [item for item in template.items if item.id not in event.answers]
    if unanswered:
        labels, ids = "、".join(i.label_zh for i in unanswered), ", ".join(i.id for i in unanswered)
        problems.append(
            f"answers: 检查表每一项都要回答，还有 {len(unanswered)} 项未答：{labels}。"
            f"{ids} not answered; every item of the checklist needs an answer"
        )
    known = {item.id for item in template.items} | {OTHER_ITEM}
    findings = event.findings if isinstance(event, Patrol) else ()
    for finding in findings:
        if finding.item not in known:
            problems.append(
                f"findings.{finding.id}.item: 检查表 {template.template_id} 没有 {finding.item} 这一项。"
                f"{finding.item} is not an item of {template.template_id}"
            )
    return problems


def hazard_items(template: Template, answers: Mapping[str, Answer]) -> list[tuple[str, Severity]]:
    """The answers this template marks as hazards, in template order, with their severity after escalation.
    Answers that do not fit the template (see `check_answers`) are ignored."""
    hazards: dict[str, TemplateItem] = {}
    for item_id, item, equals, gt in _hazard_tests(template):  # for every self-check a projection takes
        answer = answers.get(item_id)
        if answer is None:
            continue
        value = answer.value  # `item.is_hazard(value)`, without a call for each answer of each check:
        if equals is not None:
            hazard = value is equals
        else:
            hazard = isinstance(value, int) and not isinstance(value, bool) and value > gt
        if hazard and not _misfit(item, answer):
            hazards[item_id] = item
    found: list[tuple[str, Severity]] = []
    for item_id, item in hazards.items():
        severity = item.severity
        if item.escalate and not hazards.keys().isdisjoint(item.escalate.when_hazard):
            severity = item.escalate.severity
        found.append((item_id, severity))
    return found


# Each item of a template with its hazard test: (id, item, the yes/no item's hazard answer or None, the number
# item's bound). Worked out once per template (they are immutable, and a process holds a handful), by identity:
# hashing a template hashes all of it.
_HazardTest = tuple[str, TemplateItem, bool | None, int]
_HAZARD_TESTS: dict[int, tuple[Template, tuple[_HazardTest, ...]]] = {}
MAX_TEMPLATES: Final = 64


def _hazard_tests(template: Template) -> tuple[_HazardTest, ...]:
    known = _HAZARD_TESTS.get(id(template))
    if known is None or known[0] is not template:  # kept alive here, so an id is never another template's
        if len(_HAZARD_TESTS) >= MAX_TEMPLATES:
            _HAZARD_TESTS.clear()
        known = _HAZARD_TESTS[id(template)] = (template, tuple(_hazard_test(item) for item in template.items))
    return known[1]


def _hazard_test(item: TemplateItem) -> _HazardTest:
    condition = item.hazard_when
    if isinstance(condition, Equals):
        return item.id, item, condition.equals, 0
    return item.id, item, None, condition.gt


def _misfit(item: TemplateItem, answer: Answer) -> bool:
    value = answer.value
    if item.answer == "yes_no":
        return not isinstance(value, bool)
    return isinstance(value, bool) or not isinstance(value, int) or value < 0


@cache
def default_template() -> Template:
    """`district:template:fire-gas` v1, the ten items of the seed's checklist (消防与燃气安全)."""
    return Template.model_validate(load_data("template-fire-gas.json"))
