"""The grammar every wire-format-v1 document shares: ids, times, text limits, the base model and readable refusals.

Documents arrive as JSON objects parsed into dicts, so field types are strict where JSON is unambiguous (a `1` is
never a `true`, a `"5"` never a number) and times are ISO 8601 strings that must carry a UTC offset.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from importlib.resources import files
from typing import Annotated, Any, ClassVar, Final, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictStr,
    StringConstraints,
    ValidationError,
    model_validator,
)
from pydantic_core import PydanticCustomError

SCHEMA: Final = 1
DISTRICT: Final = "district"  # the partition of the documents every device reads: the rules and the templates
# The office's derived documents (rankings, statistics, publications): server-side, no device replicates them.
OFFICE: Final = "office"
# Partitions no device replicates: accounts, the registry, the quarantine, the office's documents.
SERVER_PARTITIONS: Final = frozenset({"accounts", "registry", "quarantine", OFFICE})
# Partitions of no shop: no shop may take their names as its code.
NOT_SHOPS: Final = SERVER_PARTITIONS | {DISTRICT}

# One id grammar: `{partition}:{type}:{key}`. PARTITION mirrors `server.access.PARTITION_ID`.
PARTITION: Final = r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}"
_SHOP_CODE: Final = re.compile(PARTITION)
ULID: Final = r"[0-7][0-9A-HJKMNP-TV-Z]{25}"  # 26 chars of Crockford base32, canonical upper case
SLUG: Final = r"[a-z][a-z0-9_]{0,63}"  # template item ids
KEY: Final = r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}"  # registry codes, finding ids, hazard suffixes

MAX_NOTE: Final = 500
MAX_PHOTOS_PER_CHECK: Final = 20

Severity = Literal["general", "major", "serious"]
SEVERITIES: Final[tuple[Severity, ...]] = ("general", "major", "serious")


def refuse(message: str) -> PydanticCustomError:
    """A validation error whose message is shown as is (no context is given, so `{placeholders}` stay)."""
    return PydanticCustomError("invalid", message)


def split_id(doc_id: str) -> tuple[str, str, str]:
    """`S0001:photo:01J…` → `("S0001", "photo", "01J…")`; the key is "" for ids like `S0001:score`."""
    partition, _, rest = doc_id.partition(":")
    type_, _, key = rest.partition(":")
    return partition, type_, key


def load_data(name: str) -> Any:
    """A JSON file shipped in `server/models/data/` (default template, default rules)."""
    return json.loads((files("server.models") / "data" / name).read_text(encoding="utf-8"))


def _strict_int(value: object) -> object:
    if type(value) is not int:
        raise PydanticCustomError("int_type", "must be a whole number")
    return value


def _schema_1(value: object) -> object:
    if type(value) is not int or value != SCHEMA:
        raise PydanticCustomError("schema", "must be 1 (wire format v1)")
    return value


def _iso_datetime(value: object) -> object:
    wrong = PydanticCustomError("datetime", "must be an ISO 8601 time such as 2026-11-28T09:30:00+08:00")
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise wrong from None
    if not isinstance(value, datetime):
        raise wrong
    if value.utcoffset() is None:
        raise PydanticCustomError("naive_datetime", "has no UTC offset; naive times are refused (add e.g. +08:00)")
    return value


def _iso_date(value: object) -> object:
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    elif isinstance(value, date) and not isinstance(value, datetime):
        return value
    raise PydanticCustomError("date", "must be a date such as 2026-12-05")


def matching(pattern: str, what: str) -> AfterValidator:
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise refuse(f"must be {what}")
        return value

    return AfterValidator(check)


def is_shop_code(code: str) -> bool:
    """Whether `code` can name a shop: the partition form, and none of the shared or server partitions (reading
    `accounts` as a shop would read the whole audit log)."""
    return bool(_SHOP_CODE.fullmatch(code)) and code not in NOT_SHOPS


def _not_district(value: str) -> str:
    if value in NOT_SHOPS:
        raise refuse(f"'{value}' is reserved for shared documents and is not a shop code")
    return value


Int = Annotated[int, BeforeValidator(_strict_int)]
Count = Annotated[int, BeforeValidator(_strict_int), Field(ge=0)]
PositiveInt = Annotated[int, BeforeValidator(_strict_int), Field(ge=1)]
Version = PositiveInt
SchemaVersion = Annotated[Literal[1], BeforeValidator(_schema_1)]
Timestamp = Annotated[AwareDatetime, BeforeValidator(_iso_datetime)]
Day = Annotated[date, BeforeValidator(_iso_date)]
Note = Annotated[StrictStr, StringConstraints(max_length=MAX_NOTE)]
Text = Annotated[StrictStr, StringConstraints(min_length=1, max_length=200)]
# What a one-line text (a shop's name or address, a person's name) may not hold: control characters (tab, line
# breaks, NUL) and the Unicode line and paragraph separators: posters and exports would print them as they are.
CONTROL: Final = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")

ShopCode = Annotated[
    StrictStr, matching(PARTITION, "a shop code of letters, digits, _ and -"), AfterValidator(_not_district)
]
Code = Annotated[StrictStr, matching(KEY, "a code of letters, digits, _ and - (at most 64)")]
ItemId = Annotated[StrictStr, matching(SLUG, "an item id of lower-case letters, digits and _")]
UserId = Annotated[StrictStr, matching(r"[a-z]+:\S{1,100}", "a user id such as owner:S0001 or grid:zhou")]
Username = Annotated[StrictStr, matching(r"[a-z0-9][a-z0-9_.-]{0,31}", "a username of lower-case letters and digits")]
DeviceId = Annotated[StrictStr, matching(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}", "a device id of at most 64 characters")]
TemplateId = Annotated[
    StrictStr, matching(r"district:template:[a-z0-9][a-z0-9-]{0,63}", "a template id like district:template:fire-gas")
]


def reference(type_: str, key: str = ULID, example: str = "<ulid>") -> AfterValidator:
    return matching(rf"{PARTITION}:{type_}:{key}", f"a {type_} id like S0001:{type_}:{example}")


# References from one event to other documents; `EventDoc` checks they stay in the event's own shop.
PhotoId = Annotated[StrictStr, reference("photo")]
SelfCheckId = Annotated[StrictStr, reference("self_check")]
RectificationId = Annotated[StrictStr, reference("rectification")]
HazardId = Annotated[StrictStr, reference("hazard", rf"{ULID}-{KEY}", "<event ulid>-<item or finding id>")]
AlarmId = Annotated[StrictStr, reference("alarm")]
EventId = Annotated[
    StrictStr, matching(rf"{PARTITION}:[a-z][a-z0-9_]{{0,31}}:{ULID}", "an event id like S0001:patrol:<ulid>")
]

# CouchDB's own fields: they ride along on replication, are the store's business, and are not part of a model.
COUCH_FIELDS: Final = frozenset({"_rev", "_revisions", "_attachments", "_deleted"})


class Part(BaseModel):
    """A nested object of a document: closed to unknown keys and immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, serialize_by_alias=True, validate_by_name=False)


class Doc(Part):
    """A top-level document: `_id`, `type`, `schema`. CouchDB's `_rev`, `_revisions`, `_deleted` (and
    `_attachments` unless the model declares it) are dropped before validation; any other unknown field is refused.
    Immutability of stored events and refusing deletions (`_deleted: true`) are the gateway's rules, not the model's."""

    # Events other than photos refuse attachments: a blob must not ride along on a check unvalidated.
    attachments_refused: ClassVar[bool] = False

    id: StrictStr = Field(alias="_id")
    type: str
    schema_: SchemaVersion = Field(alias="schema")

    @model_validator(mode="before")
    @classmethod
    def _drop_couch_fields(cls, data: Any) -> Any:
        if isinstance(data, dict) and not COUCH_FIELDS.isdisjoint(data):
            declared = {field.alias or name for name, field in cls.model_fields.items()}
            if cls.attachments_refused and data.get("_attachments") and "_attachments" not in declared:
                raise refuse("_attachments: 只有照片记录可以带附件。only photo documents carry attachments")
            return {k: v for k, v in data.items() if k not in COUCH_FIELDS or k in declared}
        return data

    @property
    def partition(self) -> str:
        return split_id(self.id)[0]

    @property
    def key(self) -> str:
        return split_id(self.id)[2]

    def check_id(self, pattern: str, form: str) -> None:
        """Refuse unless `_id` fully matches `pattern` (`form` is how the message spells it); its own kind of error,
        which `reasons_zh` says in Chinese."""
        if not re.fullmatch(pattern, self.id):
            raise PydanticCustomError("id_form", f"_id must have the form {form}")

    def to_doc(self) -> dict[str, Any]:
        """The JSON-ready document (aliases, ISO strings), as stored and replicated."""
        return self.model_dump(mode="json")


def reason_of(exc: ValidationError, limit: int = 3) -> str:
    """A short, human-readable reason for a refused document, naming the field and the problem."""
    errors = exc.errors(include_url=False, include_input=False, include_context=False)
    parts = [_describe(error["type"], error["loc"], error["msg"]) for error in errors[:limit]]
    if len(errors) > limit:
        parts.append(f"and {len(errors) - limit} more")
    return "; ".join(parts) or "invalid document"


_MESSAGES: Final = {
    "extra_forbidden": "unknown field (not part of wire format v1)",
    "missing": "required field is missing",
    "model_type": "must be a JSON object",
    "dict_type": "must be a JSON object",
    "list_type": "must be a list",
    "tuple_type": "must be a list",
    "string_type": "must be a string",
    "bool_type": "must be true or false",
}


def path_of(loc: tuple[int | str, ...]) -> str:
    """A validation error's location as the forms name their fields: `items[3].label_zh`."""
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def _describe(kind: str, loc: tuple[int | str, ...], msg: str) -> str:
    path = path_of(loc)
    text = _MESSAGES.get(kind) or msg or kind
    if text[:1].isupper() and text[1:2].islower():  # pydantic's "Input should be ..." reads on after a colon
        text = text[0].lower() + text[1:]
    return f"{path}: {text}" if path else text


def describe(kind: str, loc: tuple[int | str, ...], msg: str) -> str:
    """One error of `reason_of`, for a caller that words some of them itself."""
    return _describe(kind, loc, msg)


# What each kind of refusal says in Chinese, before its English (`reasons_zh`); a kind not here says `_ZH_OTHER`.
_ZH: Final = {
    "extra_forbidden": "不认识的字段",
    "missing": "缺少此字段",
    "model_type": "须为 JSON 对象",
    "dict_type": "须为 JSON 对象",
    "list_type": "须为列表",
    "tuple_type": "须为列表",
    "string_type": "须为文字",
    "bool_type": "须为 true 或 false",
    "int_type": "须为整数",
    "float_type": "须为数字",
    "literal_error": "不是允许的取值",
    "string_too_short": "不能为空",
    "datetime": "须为带时区的时间，如 2026-11-28T09:30:00+08:00",
    "naive_datetime": "时间须带时区，如 +08:00",
    "timezone_aware": "时间须带时区，如 +08:00",
    "date": "须为日期，如 2026-12-05",
    "schema": "格式版本须为 1",
    "id_form": "记录编号的格式不对",
    "document": "记录须为 JSON 对象",
    "document_type": "不是可以提交的记录类型",
    "answer_value": "答案须为 true、false、整数或 na（不适用）",
}
_ZH_OTHER: Final = "格式不符合要求"
_CJK: Final = re.compile("[\u4e00-\u9fff]")


def _zh(kind: str, ctx: dict[str, Any]) -> str:
    if kind == "string_too_long":
        return f"最多 {ctx.get('max_length')} 个字"
    if kind == "too_long":
        return f"最多 {ctx.get('max_length')} 项"
    if kind == "too_short":
        return f"至少 {ctx.get('min_length')} 项"
    if kind == "greater_than_equal":
        return f"不能小于 {ctx.get('ge')}"
    if kind == "less_than_equal":
        return f"不能大于 {ctx.get('le')}"
    return _ZH.get(kind, _ZH_OTHER)


# What an office editor's form (the checklist, the rules) says of a refused field in its own words; None: as written.
EditorWords = Callable[[str, tuple[int | str, ...], Mapping[str, Any], str], str | None]


def editor_reason(exc: ValidationError, said: EditorWords, limit: int = 3) -> str:
    """A document an office editor refused, each field's error Chinese first in the editor's words (`said`), with
    the field's path for the form and the English in brackets (`items: 至少要有 1 个检查项（items: list should ...）`),
    joined by "; " (the form shows each at its field; `reasonIn` in pwa/src/i18n.ts the screen's part). The model's
    own refusals are written so already and are said as they are."""
    errors = exc.errors(include_url=False, include_input=False)
    parts = []
    for error in errors[:limit]:
        english = describe(error["type"], error["loc"], error["msg"])
        words = said(error["type"], error["loc"], error.get("ctx") or {}, error["msg"])
        path = path_of(error["loc"])
        parts.append(f"{path}: {words}（{english}）" if words and path else english)
    if len(errors) > limit:
        parts.append(f"还有 {len(errors) - limit} 处（and {len(errors) - limit} more）")
    return "; ".join(parts) or "invalid document"


def reasons_zh(exc: ValidationError, limit: int = 3) -> list[str]:
    """`reason_of`'s reasons, each Chinese first with its English after the last 。, the field's name in front
    (`score: 不认识的字段。unknown field (not part of wire format v1)`), for `errors.joined` to make one of: what a
    device is told of a document it sent malformed (`reasonIn` in pwa/src/i18n.ts shows the screen's part). A
    refusal of our own written so already is said as it is."""
    errors = exc.errors(include_url=False, include_input=False)
    said = []
    for error in errors[:limit]:
        kind, loc, msg = error["type"], error["loc"], error["msg"]
        if _CJK.search(msg):
            said.append(_describe(kind, loc, msg))
            continue
        path, english = path_of(loc), _describe(kind, (), msg)
        said.append(f"{path + ': ' if path else ''}{_zh(kind, error.get('ctx') or {})}。{english}")
    if len(errors) > limit:
        said.append(f"还有 {len(errors) - limit} 处。and {len(errors) - limit} more")
    return said
