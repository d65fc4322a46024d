"""The immutable events devices create: self-checks, patrols, rectifications, verifications and photos.

Ids are `{shop}:{type}:{ulid}`; every reference an event makes (photos, self-checks, hazards) stays in its shop.
Whether an answer fits its template version is `templates.check_event`'s job, since it needs the template. An
answer's value is true or false (a yes/no item), a whole number (a number item), or "na" (不适用, not applicable)
for a yes/no item whose template allows it.
"""

from __future__ import annotations

import base64
from typing import Annotated, Any, Final, Literal, Self

from pydantic import (
    Field,
    PlainValidator,
    SerializerFunctionWrapHandler,
    StrictBool,
    StrictFloat,
    StrictStr,
    model_serializer,
    model_validator,
)
from pydantic_core import PydanticCustomError

from server.models.common import (
    MAX_PHOTOS_PER_CHECK,
    PARTITION,
    ULID,
    Day,
    DeviceId,
    Doc,
    HazardId,
    Int,
    ItemId,
    Note,
    Part,
    PhotoId,
    RectificationId,
    SelfCheckId,
    Severity,
    ShopCode,
    TemplateId,
    Timestamp,
    UserId,
    Version,
    matching,
    refuse,
    split_id,
)

MAX_PHOTO_BYTES: Final = 2 * 1024 * 1024  # phones resize to ≤1600 px, ~150–300 KB; this bounds a broken resize
PHOTO_TYPES: Final = {"photo.jpg": "image/jpeg", "photo.webp": "image/webp", "photo.png": "image/png"}

Photos = Annotated[tuple[PhotoId, ...], Field(max_length=MAX_PHOTOS_PER_CHECK)]


# The answer to an item that does not apply to the shop (灭火器是否在有效期内 in a shop without an extinguisher, the
# gas item in a shop without gas): only an item whose template sets `not_applicable` takes it (`check_answers`).
# A string, not null: the grid worker's patrol draft keeps null for "not answered yet".
NOT_APPLICABLE: Final = "na"


def _answer_value(value: object) -> bool | int | Literal["na"]:
    if isinstance(value, bool | int):
        return value
    if isinstance(value, str) and value == NOT_APPLICABLE:
        return NOT_APPLICABLE
    raise PydanticCustomError("answer_value", 'must be true, false, a whole number or "na" (not applicable)')


FindingId = Annotated[StrictStr, matching(r"[A-Za-z0-9][A-Za-z0-9_-]{0,31}", "a finding id of at most 32 characters")]
AnswerValue = Annotated[bool | int | Literal["na"], PlainValidator(_answer_value)]


class EventDoc(Doc):
    """Fields every event carries. `created_by` is checked against the token by the gateway, not here."""

    attachments_refused = True

    shop: ShopCode
    performed_at: Timestamp
    created_by: UserId
    device: DeviceId

    @model_validator(mode="after")
    def _check_event_id(self) -> Self:
        self.check_id(rf"{PARTITION}:{self.type}:{ULID}", f"{{shop}}:{self.type}:{{ulid}} (a 26-character ULID)")
        if self.partition != self.shop:
            raise refuse(
                f"shop: 店铺 {self.shop} 与记录编号中的店铺 {self.partition} 不一致。"
                f"'{self.shop}' must equal the id's partition '{self.partition}'"
            )
        for ref in self.references():
            if split_id(ref)[0] != self.shop:
                raise refuse(
                    f"引用的记录 {ref} 属于其他店铺，不属于 {self.shop}。{ref} belongs to another shop than {self.shop}"
                )
        return self

    @property
    def ulid(self) -> str:
        return self.key

    def references(self) -> list[str]:
        """Ids of other documents this event points at (all must be in the same shop)."""
        return []


class Answer(Part):
    value: AnswerValue
    photos: Photos = ()
    note: Note = ""


# The furthest a rectification deadline may lie after its patrol: a year. (9999-12-31 was taken, and the day after
# it, when the hazard would turn overdue, is past the calendar's end: every projection of the shop failed.)
MAX_DEADLINE_DAYS: Final = 366


class Finding(Part):
    """A hazard a grid worker records on a patrol; it becomes `{shop}:hazard:{patrol ulid}-{id}`."""

    id: FindingId
    item: ItemId  # an item of the patrol's template, or "other"
    severity: Severity
    note: Note = ""
    photos: Photos = ()
    deadline: Day


class ChecklistEvent(EventDoc):
    """What a self-check and a patrol share: a template version, answers keyed by its item ids, ≤20 photos."""

    template: TemplateId
    template_version: Version
    answers: dict[ItemId, Answer] = Field(max_length=200)

    @model_validator(mode="after")
    def _check_photo_count(self) -> Self:
        count = len(self.photo_ids())
        if count > MAX_PHOTOS_PER_CHECK:
            raise refuse(
                f"一次检查最多 {MAX_PHOTOS_PER_CHECK} 张照片，这次有 {count} 张。"
                f"{count} photos; a check carries at most {MAX_PHOTOS_PER_CHECK}"
            )
        return self

    def photo_ids(self) -> list[str]:
        return [photo for answer in self.answers.values() for photo in answer.photos]

    def references(self) -> list[str]:
        return self.photo_ids()


class SelfCheck(ChecklistEvent):
    """The owner's weekly self-check."""

    type: Literal["self_check"]
    answers: dict[ItemId, Answer] = Field(min_length=1, max_length=200)


class Patrol(ChecklistEvent):
    """A grid worker's monthly patrol: the checklist, the owner's self-checks verified, and findings."""

    type: Literal["patrol"]
    verified_self_checks: tuple[SelfCheckId, ...] = Field(default=(), max_length=100)
    findings: tuple[Finding, ...] = Field(default=(), max_length=50)

    @model_validator(mode="after")
    def _check_findings(self) -> Self:
        ids = [finding.id for finding in self.findings]
        if len(set(ids)) != len(ids):
            raise refuse("findings: 每个发现的问题须有自己的编号。every finding needs its own id")
        day = self.performed_at.date()
        for finding in self.findings:
            if finding.deadline < day:
                raise refuse(f"findings: 整改期限早于巡查日期。the deadline of {finding.id} is before the patrol")
            if (finding.deadline - day).days > MAX_DEADLINE_DAYS:
                raise refuse(
                    f"findings: 整改期限不能超过 {MAX_DEADLINE_DAYS} 天。"
                    f"the deadline of {finding.id} is more than {MAX_DEADLINE_DAYS} days away"
                )
        return self

    def photo_ids(self) -> list[str]:
        return super().photo_ids() + [photo for finding in self.findings for photo in finding.photos]

    def references(self) -> list[str]:
        return self.photo_ids() + list(self.verified_self_checks)


class Rectification(EventDoc):
    """The owner's report that a hazard is fixed, usually with photos; a grid worker verifies it."""

    type: Literal["rectification"]
    hazard: HazardId
    note: Note = ""
    photos: Photos = ()

    @model_validator(mode="after")
    def _check_evidence(self) -> Self:
        if not self.photos and not self.note.strip():
            raise refuse("整改须有照片或说明。a rectification needs a photo or a note")
        return self

    def references(self) -> list[str]:
        return [self.hazard, *self.photos]


class Verification(EventDoc):
    """A grid worker's verdict on a hazard; `rectification` is null when it was fixed on the spot."""

    type: Literal["verification"]
    hazard: HazardId
    rectification: RectificationId | None = None
    passed: StrictBool
    note: Note = ""
    photos: Photos = ()

    def references(self) -> list[str]:
        return [self.hazard, *([self.rectification] if self.rectification else []), *self.photos]


class Gps(Part):
    lat: StrictFloat = Field(ge=-90, le=90)
    lon: StrictFloat = Field(ge=-180, le=180)
    accuracy: StrictFloat = Field(ge=0, le=100_000)  # metres


class Attachment(Part):
    """CouchDB's attachment metadata: a stub (`stub: true`), inline base64 `data`, or `follows` in multipart."""

    content_type: str
    data: str | None = None
    digest: str | None = None
    length: Int | None = None
    revpos: Int | None = None
    stub: StrictBool | None = None
    follows: StrictBool | None = None
    encoding: str | None = None
    encoded_length: Int | None = None

    @model_serializer(mode="wrap")
    def _without_nulls(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # CouchDB has no null attachment fields: a stub stays a stub when written back.
        return {k: v for k, v in handler(self).items() if v is not None}

    def size(self) -> int | None:
        if self.length is not None:
            return self.length
        if self.data is not None:
            padding = len(self.data) - len(self.data.rstrip("="))
            return len(self.data) * 3 // 4 - min(padding, 2)
        return None


class Photo(EventDoc):
    """One resized picture, its own document so text syncs first; checks reference it by id."""

    type: Literal["photo"]
    taken_at: Timestamp
    gps: Gps | None = None
    attachments: dict[str, Attachment] = Field(alias="_attachments")

    @model_validator(mode="after")
    def _check_attachment(self) -> Self:
        if len(self.attachments) != 1:
            raise refuse(
                "_attachments: 照片记录须有且只有一张图片。"
                f"a photo has exactly one attachment ({' or '.join(PHOTO_TYPES)})"
            )
        [(name, attachment)] = self.attachments.items()
        expected = PHOTO_TYPES.get(name)
        if expected is None:
            raise refuse(
                f"_attachments: 图片名须为 {'、'.join(PHOTO_TYPES)}。'{name}' is not one of {', '.join(PHOTO_TYPES)}"
            )
        if attachment.content_type != expected:
            raise refuse(
                "_attachments: 图片的类型与名称不符。"
                f"{name} must have content_type {expected}, not {attachment.content_type}"
            )
        size = attachment.size()
        if size is not None and size > MAX_PHOTO_BYTES:
            raise refuse(
                f"_attachments: 照片过大（{size} 字节，最多 {MAX_PHOTO_BYTES} 字节）。"
                f"{name} is {size} bytes; a photo may have at most {MAX_PHOTO_BYTES}"
            )
        if attachment.data is not None:
            try:
                base64.b64decode(attachment.data, validate=True)
            except ValueError:
                raise refuse(f"_attachments: 图片数据不是 base64 编码。the data of {name} is not base64") from None
        return self

    @property
    def attachment_name(self) -> str:
        return next(iter(self.attachments))
