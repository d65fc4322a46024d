"""The office's alarm desk: every shop's alarms by status, their lifecycle with who and when, and a live broadcast.

Alarms live in their shops' partitions (`{shop}:alarm:{source ulid}`), so listing the open ones from the store
would mean 1,500 range reads. An in-memory index (id → status, time, revision) is loaded once from the changes
feed and then kept by following it, so alarms that the validator worker or another gateway writes show up too;
`notify` (the follower's `on_alarm` hook, the office's own actions) applies a change at once without waiting.

Reading the whole feed took 2 s on a 1,500-shop sub-district's year (200,000 changes), while the alarm desk waited,
and it grows with every event. So the index is kept in `_local/server/alarm-index` (in parts:
`server.store.snapshots`) with the seq it is true at (at most every `SNAPSHOT_EVERY` seconds, and when the server
stops), and a start takes it and reads the feed from there.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, Literal, get_args
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from server.errors import CouchError, bad_request, conflict, no_such
from server.models import Alarm, default_rules, reason_of
from server.models.common import MAX_NOTE, PARTITION, ULID
from server.models.projections import Department
from server.store.protocol import AllDocsQuery, ChangesQuery, Doc, Seq, Store
from server.store.snapshots import Saved, due, load_snapshot, save_snapshot, saved_by
from server.store.upsert import past_the_store, read
from server.tasks import cancel

log = logging.getLogger(__name__)

Status = Literal["open", "acknowledged", "dispatched", "resolved"]
Change = Literal["new", "changed", "withdrawn"]
STATUSES: Final[tuple[Status, ...]] = get_args(Status)
DEPARTMENTS: Final[tuple[str, ...]] = get_args(Department)
# Which statuses each step may start from, and how a refusal reads: Chinese first, the English after the last 。
# (`reasonIn` in pwa/src/i18n.ts shows the office the part in its screen's language).
ALLOWED_FROM: Final[dict[Status, tuple[frozenset[str], str, str]]] = {
    "acknowledged": (frozenset({"open"}), "只有待处理的报警可以确认", "only an open alarm can be acknowledged"),
    "dispatched": (
        frozenset({"open", "acknowledged"}),
        "只有待处理或已确认的报警可以派单",
        "only an open or acknowledged alarm can be dispatched",
    ),
    "resolved": (frozenset({"open", "acknowledged", "dispatched"}), "该报警已经办结", "it is already resolved"),
}
# The statuses as the alarm desk names them (pwa/src/office/i18n.ts `status.*`).
STATUS_ZH: Final[dict[str, str]] = {
    "open": "待处理",
    "acknowledged": "已确认",
    "dispatched": "已派单",
    "resolved": "已办结",
}
DEPARTMENTS_ZH: Final = "消防、燃气、市场监管 或 应急"  # `dept.*` of the desk, in the order of DEPARTMENTS
ALARM_ID: Final = re.compile(rf"{PARTITION}:alarm:{ULID}")
HAZARD_ID: Final = re.compile(rf"({PARTITION}):hazard:.+")
PAGE: Final = 10_000  # changes per read of the feed (ids and revisions only: about 1 MB)
TAIL_WAIT_MS: Final = 25_000  # longpoll: how long one read of the feed waits for a change
# Once loaded, the index reads the feed at most this often (seconds): a phone's push commits a batch every few
# milliseconds, and a read after each of them took a reader thread and the loop away from the push (8% of a
# 10,000-document push). An alarm the gateway's own validators raise is indexed at once (`notify`); one from a
# `mashang worker` reaches the office this much later at most.
TAIL_EVERY: Final = 0.2
INDEXED_TYPES: Final = frozenset({"alarm", "hazard"})  # the kinds of documents the index reads from the feed
WRITE_ATTEMPTS: Final = 5
REPLAY: Final = 256  # recent events kept for a dashboard reconnecting with Last-Event-ID
WITHDRAWN_KEPT: Final = 4_096  # withdrawn alarms remembered (a late `notify` comes within seconds)
QUEUE: Final = 256  # events a slow subscriber may fall behind before its stream is ended
SNAPSHOT_DOC: Final = "server/alarm-index"
SNAPSHOT_EVERY: Final = 300.0  # seconds between two snapshots of a changing index
SNAPSHOT_PART: Final = 10_000  # alarms a part of the snapshot (~1 MB as JSON; CouchDB's document limit is 8 MB)

# Which shops' alarms a reader may see, by shop code (a sub-district's office: its own shops); None: every shop. The
# answer for a shop the reader's view does not know (yet) is None: not seen in lists and counts, but a stream holds
# such an event until it has looked again (a shop registered a moment ago).
Shops = Callable[[str], bool | None] | None


def local_now() -> datetime:
    """Now, to the second, in the rules' time zone (how the office's steps are dated)."""
    return datetime.now(ZoneInfo(default_rules().timezone)).replace(microsecond=0)


def public(doc: Doc) -> Doc:
    """An alarm as the API shows it: without the store's revision fields."""
    return {k: v for k, v in doc.items() if k not in ("_rev", "_revisions", "_conflicts")}


def shop_of(alarm_id: str) -> str:
    """The shop an alarm belongs to: its id's partition (`{shop}:alarm:{ulid}`)."""
    return alarm_id.split(":", 1)[0]


def _rev_key(rev: Any) -> tuple[int, str]:
    """Revisions ordered as CouchDB picks a winner among them: longer history first, then the greater string."""
    if not isinstance(rev, str) or "-" not in rev:
        return (0, "")
    number, _, digest = rev.partition("-")
    return (int(number), digest) if number.isascii() and number.isdigit() else (0, "")


@dataclass(frozen=True)
class _Indexed:
    status: str
    created_at: datetime
    rev: tuple[int, str]


@dataclass(eq=False)
class AlarmEvent:
    """One new or changed alarm, as an event stream sends it; `id` is `{boot}-{token}`, random: a sub-district's
    office, which hears only its own shops' alarms, learns nothing from the ids of the alarms raised elsewhere (a
    counter showed how many there were between two of its own). `shown`: the read of the alarm as the desks are
    sent it (`server.alarm_findings`), started by the first stream to send the event and shared by the others."""

    id: str
    change: Change
    alarm: Doc
    shown: asyncio.Future[list[Doc]] | None = field(default=None, repr=False)

    @property
    def shop(self) -> str:
        return shop_of(str(self.alarm.get("_id", "")))


class Subscription:
    """One dashboard's stream: a bounded queue; a subscriber that falls too far behind is dropped, and its client
    reconnects with `Last-Event-ID` (what it missed is replayed while the server still holds it). `shops` holds it
    to the alarms of the shops its reader may see (a sub-district's office); the stream may replace it as the
    registry changes."""

    def __init__(self, closing: asyncio.Event, shops: Shops = None) -> None:
        self.queue: asyncio.Queue[AlarmEvent] = asyncio.Queue(QUEUE)
        self.dropped = False
        self.closing = closing
        self.shops = shops

    def hears(self, event: AlarmEvent) -> bool:
        """Whether the event goes to this stream: its shop is in reach, or not known yet (the stream looks again)."""
        return self.shops is None or self.shops(event.shop) is not False

    async def next(self, timeout: float) -> AlarmEvent | None:
        """The next event, or None when `timeout` seconds pass without one or the server is shutting down."""
        if self.closing.is_set():
            return None
        get = asyncio.ensure_future(self.queue.get())
        stop = asyncio.ensure_future(self.closing.wait())
        try:
            await asyncio.wait((get, stop), timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop.cancel()
            if not get.done():
                get.cancel()
        return get.result() if get.done() and not get.cancelled() else None


class Alarms:
    def __init__(self, store: Store, clock: Callable[[], datetime] = local_now) -> None:
        self.store = store
        self.clock = clock
        self._index: dict[str, _Indexed] = {}
        # The alarms withdrawn lately (deleted by the validators), by the revision of their deletion: a `notify` that
        # read one from the store before it was withdrawn must not index it again once the feed has told its end (the
        # desk kept a withdrawn first-module alarm for good, beside the submission's).
        self._withdrawn: dict[str, tuple[int, str]] = {}
        self._since: Seq = 0  # the feed is read up to here
        self._saved: Saved | None = None  # the seq of the last snapshot, and when it was written
        self._loaded = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._saving: asyncio.Future[None] | None = None  # a periodic save of the snapshot, if one is under way
        self._subscribers: set[Subscription] = set()
        self.closing = asyncio.Event()  # set when the server shuts down: open streams end
        self._boot = secrets.token_hex(4)
        self._recent: deque[AlarmEvent] = deque(maxlen=REPLAY)
        # Called with every change as it is broadcast (the webhook's intake): must return at once.
        self.listeners: list[Callable[[Change, Doc], None]] = []

    # ----- life -----

    async def start(self) -> None:
        self._task = asyncio.create_task(self._follow(), name="alarm-index")

    async def stop(self) -> None:
        await cancel(self._task)
        self._task = None
        if self._saving is not None:
            # A periodic save goes on when the follower is cancelled (its writes could not be called back): the
            # last save starts once it ended, or it would read the parts' revisions before that save's writes land
            # and fail on a conflict, leaving no snapshot at all.
            await asyncio.gather(self._saving, return_exceptions=True)
            self._saving = None
        if self._loaded.is_set() and due(self._saved, self._since, 0.0):
            try:
                await self._save()
            except CouchError as e:  # a shortcut for the next start, not a duty
                log.info("alarm index: the snapshot was not written (%s)", e)

    async def _snapshot(self) -> None:
        """Take the saved index and the seq it is true at, when there is one that describes this store."""
        try:
            found = await load_snapshot(self.store, SNAPSHOT_DOC, inline="alarms")
            if found is None:
                return
            head, alarms = found
            index = {
                str(alarm_id): _Indexed(str(status), datetime.fromisoformat(created), (int(number), str(digest)))
                for alarm_id, (status, created, number, digest) in alarms.items()
            }
            seq = head["seq"]
        except CouchError as e:
            log.warning("alarm index: the snapshot cannot be read (%s); the whole feed is read", e)
            return
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            log.warning("alarm index: the snapshot is unreadable (%s); the whole feed is read", e)
            return
        if await past_the_store(self.store, seq):
            return
        self._index, self._since, self._saved = index, seq, (seq, time.monotonic())

    async def _save(self, periodic: bool = False) -> None:
        since = self._since
        if periodic and await self._kept_by_another():
            self._saved = (since, time.monotonic())
            return

        def encode(entry: _Indexed) -> list[Any]:
            return [entry.status, entry.created_at.isoformat(), *entry.rev]

        index = dict(self._index)
        await save_snapshot(self.store, SNAPSHOT_DOC, {"seq": since}, index, SNAPSHOT_PART, encode, self._boot)
        self._saved = (since, time.monotonic())  # only once written: a save cut short is made again at stop

    async def _kept_by_another(self) -> bool:
        """Whether another gateway saved the index within `SNAPSHOT_EVERY`: every gateway of a database follows the
        same feed to the same index, and one snapshot every few minutes is all the next start needs."""
        return await saved_by(self.store, SNAPSHOT_DOC, SNAPSHOT_EVERY) not in (None, self._boot)

    async def _follow(self) -> None:
        """Load every alarm from the changes feed, then follow it (longpoll) for as long as the server runs. The
        feed is read without documents (alarm ids are told by their form) and only alarms are fetched: a busy
        store's feed is mostly events, and reading each of them would cost more than the alarms are worth."""
        await self._snapshot()
        since: Seq = self._since
        delay = 1.0
        read_at = -TAIL_EVERY
        while True:
            loaded = self._loaded.is_set()
            if loaded and (wait := read_at + TAIL_EVERY - time.monotonic()) > 0:
                await asyncio.sleep(wait)
            read_at = time.monotonic()
            try:
                feed = await self._read_feed(since, loaded)
                alarm_rows = [row for row in feed["results"] if ALARM_ID.fullmatch(row["id"])]
                for row in alarm_rows:
                    if row.get("deleted"):
                        revs = [change.get("rev") for change in row.get("changes", ()) if isinstance(change, dict)]
                        self._withdraw(row["id"], revs, broadcast=loaded)
                ids = [row["id"] for row in alarm_rows if not row.get("deleted")]
                if ids:
                    rows = (await self.store.all_docs(AllDocsQuery(keys=ids, include_docs=True)))["rows"]
                    for row in rows:
                        if isinstance(row.get("doc"), dict) and row["doc"].get("type") == "alarm":
                            self._apply(row["doc"], broadcast=loaded)
                if loaded:
                    hazards = {row["id"] for row in feed["results"] if HAZARD_ID.fullmatch(row["id"])}
                    await self._hazards_changed(hazards, told=set(ids))
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("alarm index: reading the changes feed failed; trying again in %.0f s", delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 60.0)
                continue
            delay = 1.0
            since = self._since = feed["last_seq"]
            if not loaded and len(feed["results"]) < PAGE:
                self._loaded.set()
            if self._loaded.is_set() and due(self._saved, since, SNAPSHOT_EVERY):
                try:
                    self._saving = asyncio.ensure_future(self._save(periodic=True))
                    await asyncio.shield(self._saving)
                except Exception as e:  # a shortcut for the next start: following the feed goes on regardless
                    log.warning("alarm index: the snapshot was not written (%s)", e)

    async def _read_feed(self, since: Seq, loaded: bool) -> Doc:
        """The feed's changes after `since`, those of alarms and hazards at least; once loaded, not before there is
        a change (a longpoll). The embedded store leaves the other kinds out (`ChangesQuery.types`): a push's events,
        each a row built and then looked at here, were most of what following the feed cost. A feed that has not
        moved at all is then waited on for a change of any kind, and read again: a longpoll for these kinds only
        would look again at every commit that brought none, instead of once per `TAIL_EVERY`. CouchDB's feed
        answers every kind, in one longpoll."""
        if self.store.kind != "sqlite":
            return await self.store.changes(
                ChangesQuery(since=since, limit=PAGE, wait_ms=TAIL_WAIT_MS if loaded else 0)
            )
        feed = await self.store.changes(ChangesQuery(since=since, limit=PAGE, types=INDEXED_TYPES))
        if loaded and not feed["results"] and feed["last_seq"] == since:
            await self.store.changes(ChangesQuery(since=since, limit=1, wait_ms=TAIL_WAIT_MS))
            feed = await self.store.changes(ChangesQuery(since=since, limit=PAGE, types=INDEXED_TYPES))
        return feed

    # ----- the index -----

    async def notify(self, alarm: Doc) -> None:
        """A new or changed alarm (the follower's `on_alarm` hook): indexed and broadcast at once. An alarm
        without its `_rev` is read back from the store, so the feed's copy of it is recognised as the same."""
        if "_rev" not in alarm:
            stored = await read(self.store, str(alarm.get("_id")))
            if stored is None:
                return
            alarm = stored
        self._apply(alarm, broadcast=True)

    async def _hazards_changed(self, hazards: set[str], told: set[str]) -> None:
        """Hazards changed on their own (rectified, closed, overdue): each unresolved alarm naming one is told to the
        open desks again (`changed`, the alarm as it is), so a card's hazard states and its 隐患尚未销号 line follow
        them (`server.alarm_findings` joins them as each event is sent). Only the alarms of those hazards' shops are
        read, and a hazard only as found (its history one step: written with its alarm, which the desk was told as
        `new`) tells nothing; those `told` in this read of the feed already are not told twice."""
        shops = {match.group(1) for hazard in hazards if (match := HAZARD_ID.fullmatch(hazard))}
        if not shops:
            return
        candidates = [
            alarm_id
            for alarm_id, entry in self._index.items()
            if entry.status != "resolved" and alarm_id not in told and shop_of(alarm_id) in shops
        ]
        if not candidates:
            return
        alarms = [
            doc
            for row in (await self.store.all_docs(AllDocsQuery(keys=candidates, include_docs=True)))["rows"]
            if isinstance(doc := row.get("doc"), dict)
            and doc.get("type") == "alarm"
            and isinstance(doc.get("items"), list)
            and doc.get("_id") in self._index
        ]
        named = {str(item.get("hazard")) for doc in alarms for item in doc["items"] if isinstance(item, dict)}
        wanted = sorted(named & hazards)
        if not wanted:
            return
        moved = {
            str(row["id"])
            for row in (await self.store.all_docs(AllDocsQuery(keys=wanted, include_docs=True)))["rows"]
            if isinstance(doc := row.get("doc"), dict) and len(doc.get("history") or ()) > 1
        }
        for doc in alarms:
            if any(isinstance(item, dict) and item.get("hazard") in moved for item in doc["items"]):
                self._publish("changed", doc)

    def _withdraw(self, alarm_id: str, deletion_revs: list[Any], broadcast: bool) -> None:
        """The validators withdrew the alarm (the submission's alarm has another id now, see `plan_writes`): out of
        the index, remembered with the revision of its deletion, and told to the open desks by whichever read found
        it first (the feed, or a list read a step ahead of it, which used to drop it quietly)."""
        self._withdrawn[alarm_id] = max((_rev_key(rev) for rev in deletion_revs), default=(0, ""))
        while len(self._withdrawn) > WITHDRAWN_KEPT:
            self._withdrawn.pop(next(iter(self._withdrawn)))
        gone = self._index.pop(alarm_id, None)
        if gone is not None and broadcast:
            told = {"_id": alarm_id, "shop": shop_of(alarm_id), "created_at": gone.created_at.isoformat()}
            self._publish("withdrawn", told)

    def _apply(self, doc: Doc, broadcast: bool) -> None:
        alarm_id, rev = doc.get("_id"), _rev_key(doc.get("_rev"))
        if not isinstance(alarm_id, str) or doc.get("status") not in STATUSES:
            return
        withdrawn = self._withdrawn.get(alarm_id)
        if withdrawn is not None and withdrawn >= rev:
            return  # read before it was withdrawn (a late `notify`): its end is known already
        known = self._index.get(alarm_id)
        if known is not None and known.rev >= rev:
            return  # seen already (from the feed and from notify), or older than what is indexed
        try:
            created_at = datetime.fromisoformat(str(doc.get("created_at")))
        except ValueError:
            return
        if created_at.utcoffset() is None:
            return  # not a valid alarm; and naive times cannot be ordered among the others
        self._index[alarm_id] = _Indexed(str(doc["status"]), created_at, rev)
        if broadcast:
            self._publish("new" if known is None else "changed", doc)

    def created_since(self, moment: datetime) -> dict[str, datetime]:
        """The alarms created at `moment` or later: id → when."""
        return {alarm_id: entry.created_at for alarm_id, entry in self._index.items() if entry.created_at >= moment}

    def counts(self, shops: Shops = None) -> dict[str, int]:
        """How many alarms have each status (of the shops `shops` holds; of every shop when None)."""
        counts: dict[str, int] = dict.fromkeys(STATUSES, 0)
        for alarm_id, entry in self._index.items():
            if shops is None or shops(shop_of(alarm_id)):
                counts[entry.status] = counts.get(entry.status, 0) + 1
        return counts

    async def ready(self) -> None:
        await self._loaded.wait()

    async def by_status(
        self, status: str | None, limit: int, before: str | None = None, shops: Shops = None
    ) -> tuple[list[Doc], str | None]:
        """Alarms with `status` (all when None) of the shops `shops` holds (every shop when None), newest first;
        `before` is the last id of the previous page. Answers the page and the `before` of the next one (None on
        the last page)."""
        await self.ready()
        keys = sorted(
            (
                (entry.created_at, alarm_id)
                for alarm_id, entry in self._index.items()
                if (status is None or entry.status == status) and (shops is None or shops(shop_of(alarm_id)))
            ),
            reverse=True,
        )
        if before is not None:
            cursor = self._index.get(before)
            if cursor is None or (shops is not None and not shops(shop_of(before))):
                # One outside the caller's reach is as unknown as one that does not exist: neither is told.
                raise bad_request("before: the id of an alarm from the previous page")
            keys = [key for key in keys if key < (cursor.created_at, before)]
        ids = [alarm_id for _, alarm_id in keys[:limit]]
        rows = (await self.store.all_docs(AllDocsQuery(keys=ids, include_docs=True)))["rows"] if ids else []
        docs = []
        for row in rows:
            doc = row.get("doc")
            if not isinstance(doc, dict):  # deleted since the feed was read: the desks hear of it now
                self._withdraw(str(row["key"]), [(row.get("value") or {}).get("rev")], broadcast=True)
            else:
                self._apply(doc, broadcast=True)  # the store may be a step ahead of the feed
                if status is None or doc.get("status") == status:
                    docs.append(public(doc))
        return docs, (ids[-1] if len(keys) > limit else None)

    async def get(self, alarm_id: str) -> Doc:
        return public(await self._stored(alarm_id))

    async def _stored(self, alarm_id: str) -> Doc:
        doc = await read(self.store, alarm_id) if ALARM_ID.fullmatch(alarm_id) else None
        if doc is None or doc.get("type") != "alarm":
            raise no_such("alarm", alarm_id)
        return doc

    # ----- the lifecycle -----

    async def transition(
        self, alarm_id: str, to: Status, by: str, note: str = "", department: str | None = None
    ) -> Doc:
        """Move an alarm on (acknowledged, dispatched to a department, resolved), recording who and when. A
        read-modify-write on the stored revision, so a concurrent step or re-projection is never overwritten."""
        if to not in ALLOWED_FROM:
            raise bad_request(f"status: one of {', '.join(ALLOWED_FROM)}")
        if len(note) > MAX_NOTE:
            raise bad_request(f"note: 备注最多 {MAX_NOTE} 个字。at most {MAX_NOTE} characters")
        if (to == "dispatched") != (department is not None):
            raise bad_request("department: required to dispatch, and only then")
        if department is not None and department not in DEPARTMENTS:
            raise bad_request(f"department: 处置部门须为{DEPARTMENTS_ZH}。one of {', '.join(DEPARTMENTS)}")
        allowed, rule_zh, rule = ALLOWED_FROM[to]
        for _ in range(WRITE_ATTEMPTS):
            current = await self._stored(alarm_id)
            status = current.get("status")
            if status not in allowed:
                said = STATUS_ZH.get(str(status), str(status))
                raise conflict(f"该报警现为「{said}」：{rule_zh}。The alarm is {status}: {rule}.")
            step: Doc = {"status": to, "at": self.clock().isoformat(), "by": by, "note": note, "department": department}
            changed = {**public(current), "status": to, "history": [*current.get("history", []), step]}
            if department is not None:
                changed["department"] = department
            try:
                new = Alarm.model_validate(changed).to_doc()
            except ValidationError as e:
                raise CouchError(500, "invalid_alarm", f"{alarm_id}: {reason_of(e)}") from None
            new["_rev"] = current["_rev"]
            [result] = await self.store.bulk_docs([new])
            if result.get("ok"):
                new["_rev"] = result["rev"]
                self._apply(new, broadcast=True)
                return public(new)
            if result.get("error") != "conflict":
                raise CouchError(500, str(result.get("error", "error")), str(result.get("reason", "write failed")))
        raise conflict(f"报警 {alarm_id} 正被同时修改，请稍后再试。{alarm_id} kept changing; try again.")

    # ----- the broadcast -----

    def subscribe(
        self, last_event_id: str | None = None, shops: Shops = None
    ) -> tuple[Subscription, list[AlarmEvent] | None]:
        """A new subscription to the alarms of the shops `shops` holds (every shop's when None), and the events
        after `last_event_id` that it missed: None when they cannot be told (the server restarted, or they are no
        longer held), so the client reloads its list instead."""
        subscription = Subscription(self.closing, shops)
        self._subscribers.add(subscription)
        if not last_event_id:
            return subscription, []
        recent = list(self._recent)
        for i, event in enumerate(recent):
            if event.id == last_event_id:
                return subscription, [later for later in recent[i + 1 :] if subscription.hears(later)]
        return subscription, None

    def close_streams(self) -> None:
        """End every open stream (the server is shutting down; dashboards reconnect to the next one)."""
        self.closing.set()

    def unsubscribe(self, subscription: Subscription) -> None:
        self._subscribers.discard(subscription)

    def _publish(self, change: Change, doc: Doc) -> None:
        event = AlarmEvent(f"{self._boot}-{secrets.token_hex(6)}", change, public(doc))
        self._recent.append(event)
        for listener in self.listeners:
            listener(change, event.alarm)
        for subscription in list(self._subscribers):
            if not subscription.hears(event):
                continue
            try:
                subscription.queue.put_nowait(event)
            except asyncio.QueueFull:
                subscription.dropped = True
                self._subscribers.discard(subscription)
