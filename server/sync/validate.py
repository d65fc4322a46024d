"""The domain rules of a device's write through `/sync/`: who may create which event, where, and what it may hold.

Each refusal is a `forbidden` with a short reason, so PouchDB skips the document and replication goes on; the
reason is Chinese first, its English after the last 。 (`reasonIn` in pwa/src/i18n.ts shows the screen's part),
those only a hand-made request meets (an id of no partition, a deletion, a malformed field) too. Protocol
rules (revisions, attachment encoding) stay with the store. What the rules need from the store (which ids exist,
which revisions it holds, template versions) is looked up once per batch by `WriteContext.prepare`.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final, TypeGuard

import orjson
from pydantic import ValidationError

from server.access import PARTITION_ID, Scope
from server.auth import Principal
from server.errors import CouchError, forbidden, joined
from server.models import (
    EVENT_TYPES,
    SERVER_TYPES,
    ChecklistEvent,
    Event,
    Photo,
    Template,
    check_event,
    default_template,
    parse_event,
)
from server.models.common import NOT_SHOPS, reasons_zh
from server.models.events import MAX_PHOTO_BYTES
from server.models.registry import Shop, grid_doc_id, shop_doc_id
from server.store import revtree
from server.store.protocol import AllDocsQuery, Doc, Store, partition_of
from server.store.upsert import read

# Which events each role creates (SPEC "Users"); every other role, office included, creates none through /sync/.
ROLE_TYPES: Final[Mapping[str, frozenset[str]]] = {
    "owner": frozenset({"self_check", "rectification", "photo"}),
    "grid": frozenset({"patrol", "verification", "photo"}),
}
# Partitions that hold shared or server-only data, never a shop's events, whatever a scope says.
RESERVED_PARTITIONS: Final = NOT_SHOPS
MAX_DOC_BYTES: Final = 64 * 1024  # the JSON of an event without attachment bodies
MAX_AHEAD: Final = timedelta(minutes=10)  # phones' clocks drift; a check from the future is a wrong clock or a forgery
MAX_AGE: Final = timedelta(days=90)  # a phone offline longer than a season is not a source of new events
MAX_TEMPLATES_CACHED: Final = 256
# How long after a shop moved to another grid its previous grid worker may still push what they did there before
# the move (a phone offline for a while): see `_moved_away`.
MOVED_SHOP_GRACE: Final = timedelta(days=30)
CHECKLIST_TYPES: Final = frozenset({"self_check", "patrol"})
TEMPLATE_ID: Final = re.compile(r"district:template:[a-z0-9][a-z0-9-]{0,63}")

# What the first bytes of a picture say it is; the content_type a device declares must agree.
IMAGE_MAGIC: Final = ((b"\xff\xd8\xff", "image/jpeg"), (b"\x89PNG\r\n\x1a\n", "image/png"))


@dataclass
class WriteContext:
    """What the rules of one request (or one replayed history) check against: the store and the server clock.

    `templates` may be shared between requests: a template version never changes once published."""

    store: Store
    now: datetime
    templates: dict[tuple[str, int], Template] = field(default_factory=dict)
    # Filled by `prepare`: whether an id is in the store (deleted ones too), and the (id, rev) pairs it holds.
    exists: dict[str, bool] = field(default_factory=dict)
    known_revs: set[tuple[str, str]] = field(default_factory=set)
    # Shop and grid documents read for `_moved_away`, by id (None: missing), once per batch.
    registry: dict[str, Doc | None] = field(default_factory=dict)

    async def prepare(self, docs: Sequence[Any], new_edits: bool) -> None:
        """Look up what the checks of `docs` need in at most three store calls for the whole batch."""
        ids = list(dict.fromkeys(i for doc in docs if (i := _doc_id(doc)) is not None and i not in self.exists))
        if ids:
            found = await self.store.all_docs(AllDocsQuery(keys=ids))
            for row in found["rows"]:
                self.exists[row["key"]] = "value" in row
        if not new_edits:
            wanted: dict[str, list[str]] = {}
            for doc in docs:
                doc_id, rev = _doc_id(doc), doc.get("_rev") if isinstance(doc, dict) else None
                if doc_id and self.exists.get(doc_id) and _is_rev(rev) and (doc_id, rev) not in self.known_revs:
                    wanted.setdefault(doc_id, []).append(rev)
            if wanted:
                diff = await self.store.revs_diff(wanted)
                for doc_id, revs in wanted.items():
                    missing = diff.get(doc_id, {}).get("missing", [])
                    self.known_revs.update((doc_id, rev) for rev in revs if rev not in missing)
        await self._load_templates(docs)

    async def template(self, template_id: str, version: int) -> Template | None:
        if (template_id, version) not in self.templates:
            await self._load_templates([{"type": "self_check", "template": template_id, "template_version": version}])
        return self.templates.get((template_id, version))

    async def _load_templates(self, docs: Sequence[Any]) -> None:
        # The frozen copy `{id}:v{n}` first, else the current `{id}` when it is that version, else the default.
        wanted = {
            (doc["template"], doc["template_version"])
            for doc in docs
            if isinstance(doc, dict)
            and isinstance(doc.get("type"), str)  # a list or an object is refused with its document, not here
            and doc["type"] in CHECKLIST_TYPES
            and isinstance(doc.get("template"), str)
            and TEMPLATE_ID.fullmatch(doc["template"])
            and type(doc.get("template_version")) is int
        } - self.templates.keys()
        if not wanted:
            return
        if len(self.templates) > MAX_TEMPLATES_CACHED:
            self.templates.clear()
        keys = sorted({key for tid, version in wanted for key in (f"{tid}:v{version}", tid)})
        found = await self.store.all_docs(AllDocsQuery(keys=keys, include_docs=True))
        for row in found["rows"]:
            try:
                template = Template.model_validate(row.get("doc"))
            except ValidationError:
                continue  # missing, deleted or broken: the check is refused as naming an unknown version
            key = (template.template_id, template.version)
            if key in wanted and (key not in self.templates or template.id == template.snapshot_id):
                self.templates[key] = template
        fallback = default_template()
        key = (fallback.template_id, fallback.version)
        if key in wanted and key not in self.templates:
            self.templates[key] = fallback

    def claim(self, doc_id: str, rev: object) -> None:
        """Remember a document let through, so a second copy of its id later in the batch is not new any more."""
        self.exists[doc_id] = True
        if isinstance(rev, str):
            self.known_revs.add((doc_id, rev))

    async def registry_doc(self, doc_id: str) -> Doc | None:
        if doc_id not in self.registry:
            self.registry[doc_id] = await read(self.store, doc_id)
        return self.registry[doc_id]


async def check_event_write(
    ctx: WriteContext, principal: Principal, scope: Scope, doc: dict[str, Any], new_edits: bool
) -> bool:
    """Raise `forbidden` (or `bad_request` for a document without an id) unless `principal` may write `doc`;
    answers True when it is a revision the store already holds (a replay, which the store makes a no-op)."""
    doc_id = doc.get("_id") if isinstance(doc, dict) else None
    if not isinstance(doc_id, str):
        raise CouchError(400, "bad_request", "记录缺少编号（_id）。Document must have an _id")
    if not PARTITION_ID.match(doc_id):
        raise forbidden("记录编号须为“店铺:类型:编号”的形式。Document id must have the form {partition}:{type}:{key}")
    if doc.get("_deleted") is True:
        raise forbidden("提交后的记录不能删除。events are immutable: a document cannot be deleted")
    _check_role(principal, doc.get("type"))
    # Outside the scope, nothing about the store is told before the exception for a moved shop is granted: every
    # other case is refused as out of scope, as it always was.
    if not _in_scope(scope, partition_of(doc_id)) and not await _moved_away(ctx, principal, doc):
        raise forbidden(
            f"店铺 {partition_of(doc_id)} 不在此账号的范围内。"
            f"shop {partition_of(doc_id)} is not in this account's scope"
        )
    if doc.get("created_by") != principal.user_id:
        raise forbidden(
            f"记录的填写人不是当前登录的账号 {principal.user_id}。"
            f"created_by must be the signed-in user {principal.user_id}"
        )
    size = len(orjson.dumps(_without_attachment_data(doc)))
    if size > MAX_DOC_BYTES:
        raise forbidden(
            f"记录过大（{size} 字节，最多 {MAX_DOC_BYTES} 字节）。"
            f"the document is {size} bytes; an event may have at most {MAX_DOC_BYTES}"
        )
    # A change to a stored event is refused as such, whatever it changed; a revision the store already holds (a
    # phone sending its batch again) is let through as the no-op it is, even if the rules for new events have
    # tightened since it was first accepted.
    replay = await _check_new(ctx, doc_id, doc.get("_rev"), new_edits)
    try:
        event = parse_event(doc)
    except ValidationError as e:
        raise forbidden(joined(reasons_zh(e))) from None
    if not replay:
        await _check_content(ctx, event)
    if isinstance(event, Photo):
        _check_photo(event, replay)
    ctx.claim(doc_id, doc.get("_rev"))
    return replay


async def _check_content(ctx: WriteContext, event: Event) -> None:
    _check_time(ctx.now, event.performed_at)
    if isinstance(event, ChecklistEvent):
        template = await ctx.template(event.template, event.template_version)
        if template is None:
            raise forbidden(
                f"template: 服务器没有检查表 {event.template} 第 {event.template_version} 版，"
                "请联网更新应用后重新填写。"
                f"{event.template} v{event.template_version} is not known to the server"
            )
        problems = check_event(template, event)
        if problems:
            raise forbidden(joined(problems[:3]))


def _check_role(principal: Principal, kind: object) -> None:
    if isinstance(kind, str) and kind in SERVER_TYPES:
        raise forbidden(
            f"设备不能提交 {kind} 记录，它由服务器生成。"
            f"{kind} documents are written by the server, never through /sync/"
        )
    if not isinstance(kind, str) or kind not in EVENT_TYPES:
        raise forbidden(
            f"记录类型须为自查、巡查、整改、复查或照片。type must be an event type: {', '.join(EVENT_TYPES)}"
        )
    if kind not in ROLE_TYPES.get(principal.role, frozenset()):
        raise forbidden(
            f"此账号（{principal.role}）不能提交 {kind} 记录。"
            f"a {principal.role} account may not create {kind} documents"
        )


def _in_scope(scope: Scope, partition: str) -> bool:
    if partition in RESERVED_PARTITIONS:
        raise forbidden(
            f"店铺编号不能用 {partition}：它存放的是共享数据，记录须写在店铺名下。"
            f"'{partition}' holds shared data; events belong in a shop's partition"
        )
    return scope.partitions is None or partition in scope.partitions


async def _moved_away(ctx: WriteContext, principal: Principal, doc: dict[str, Any]) -> bool:
    """Whether `doc`, for a shop outside the grid worker's scope, is what they did in that shop before the office
    moved it away from their grid, pushed within `MOVED_SHOP_GRACE` of that move: the grid the shop was in at
    the event's `performed_at` (the `from` of the first of the shop's `moves` after it) lists this worker, and
    that move is at most the grace old. Only the events a grid worker creates (patrols, verifications and their
    photos); the rest of `check_event_write` still applies (the author, the content, no change to a stored event).
    Reads are not concerned: the worker's scope, and so what they read, is their current shops only.

    The grid's *current* workers are what is checked (the registry keeps no history of a grid's workers): a worker
    who joined the old grid after the move may push what they backdate to before it, and one who left it since may
    no longer push what they did there.

    A worker may backdate `performed_at` to before the move to write to a shop no longer theirs; that is bounded
    by the grace (and `MAX_AGE`) and by having been the worker of that shop's grid at that moment: what they
    could have written anyway, had they pushed before the move. Accepted."""
    if principal.role != "grid":
        return False
    try:
        event = parse_event(doc)
    except ValidationError:
        return False  # refused as out of scope, as before: its content is none of this exception's business
    if event.type not in ROLE_TYPES["grid"]:
        return False
    found = await ctx.registry_doc(shop_doc_id(event.shop))
    try:
        shop = Shop.model_validate(found) if found is not None else None
    except ValidationError:
        return False
    if shop is None:
        return False
    move = next((m for m in sorted(shop.moves, key=lambda m: m.at) if m.at > event.performed_at), None)
    if move is None or ctx.now - move.at > MOVED_SHOP_GRACE:
        return False  # done in the shop's current grid (not theirs), or pushed too late
    grid = await ctx.registry_doc(grid_doc_id(move.from_))
    return grid is not None and principal.user_id.removeprefix("grid:") in grid.get("workers", [])


def _check_time(now: datetime, performed_at: datetime) -> None:
    if performed_at > now + MAX_AHEAD:
        raise forbidden(
            "记录时间比服务器快 10 分钟以上，请把手机时间设为自动。"
            "performed_at is more than 10 minutes ahead of the server clock; check the phone's clock"
        )
    if performed_at < now - MAX_AGE:
        raise forbidden("记录是 90 天以前的，服务器不再接收。performed_at is more than 90 days old")


async def _check_new(ctx: WriteContext, doc_id: str, rev: object, new_edits: bool) -> bool:
    """Refuse any change to a stored event; True when this is a revision the store already holds (a replay)."""
    if doc_id not in ctx.exists:
        await ctx.prepare([{"_id": doc_id, "_rev": rev}], new_edits)
    if not ctx.exists.get(doc_id):
        return False
    if not new_edits and isinstance(rev, str) and (doc_id, rev) in ctx.known_revs:
        return True  # the store makes it a no-op; answering it lets a replication that crashed mid-batch finish
    raise forbidden("服务器已有这条记录，提交后的记录不能修改。events are immutable: this document already exists")


def _check_photo(photo: Photo, replay: bool) -> None:
    name = photo.attachment_name
    attachment = photo.attachments[name]
    if attachment.data is None:
        if replay:
            return
        raise forbidden(f"_attachments: 照片缺少图片数据。{name} must carry its image data inline")
    if len(attachment.data) > (MAX_PHOTO_BYTES + 2) // 3 * 4 + 4:  # refuse before decoding a huge body
        raise forbidden(f"_attachments: 照片超过 {MAX_PHOTO_BYTES} 字节。{name} is larger than {MAX_PHOTO_BYTES} bytes")
    body = base64.b64decode(attachment.data)  # the model has checked it is base64
    if len(body) > MAX_PHOTO_BYTES:
        raise forbidden(
            f"_attachments: 照片过大（{len(body)} 字节，最多 {MAX_PHOTO_BYTES} 字节）。"
            f"{name} is {len(body)} bytes; a photo may have at most {MAX_PHOTO_BYTES}"
        )
    kind = image_type(body)
    if kind is None:
        raise forbidden(f"_attachments: 照片不是 JPEG、PNG 或 WebP 图片。{name} is not a JPEG, PNG or WebP image")
    if kind != attachment.content_type:
        raise forbidden(
            f"_attachments: 照片的格式与声明的不符。{name} holds {kind} bytes but declares {attachment.content_type}"
        )


def image_type(body: bytes) -> str | None:
    """The content type the bytes themselves show: JPEG, PNG or WebP (`RIFF....WEBP`), else None."""
    for magic, content_type in IMAGE_MAGIC:
        if body.startswith(magic):
            return content_type
    if body[:4] == b"RIFF" and body[8:12] == b"WEBP":
        return "image/webp"
    return None


def _without_attachment_data(doc: dict[str, Any]) -> dict[str, Any]:
    attachments = doc.get("_attachments")
    if not isinstance(attachments, dict):
        return doc
    stripped = {
        k: {f: v for f, v in a.items() if f != "data"} if isinstance(a, dict) else a for k, a in attachments.items()
    }
    return {**doc, "_attachments": stripped}


def _doc_id(doc: Any) -> str | None:
    doc_id = doc.get("_id") if isinstance(doc, dict) else None
    return doc_id if isinstance(doc_id, str) and PARTITION_ID.match(doc_id) else None


def _is_rev(rev: object) -> TypeGuard[str]:
    if not isinstance(rev, str):
        return False
    try:
        revtree.parse_rev(rev)
    except revtree.InvalidRev:
        return False
    return True
