"""Each new alarm POSTed to the office's webhook (`MASHANG_WEBHOOK_URL`): signed, retried with back-off, logged.

The webhook listens to the alarm index (`server.alarms`), which follows the changes feed: an alarm written by this
gateway's validators, by `mashang worker` or by another gateway is heard alike, and announced as `alarm.new`; an
alarm the validators withdrew after it was announced (the submission's alarm took its place) as `alarm.withdrawn`.
Listening only queues: background workers deliver, so a slow or broken receiver never holds anything up. The
receiver checks `X-Mashang-Signature: sha256=<hex>`, the HMAC-SHA256 of the raw body with the shared secret;
`X-Mashang-Delivery` stays the same across the attempts of one delivery, so it can drop repeats. The last attempts
are logged in `_local/server/webhook-log` (not replicated, shared by the gateways of one database) for the office.

`_local/server/webhook-day-{date}` holds, for the alarms created on that day (UTC; today's for an alarm created
before the days a start checks), which ones were announced and the deliveries of them not finished yet. Adding an
alarm there is a write on the revision read, so of several gateways exactly one announces it. A document per day
keeps each write small: a city of 200,000 shops raises some 13,000 alarms a month, about 1 MB in one document
rewritten at every announcement. A gateway that starts (after a restart, a kill -9) delivers what is left in them,
with the same `X-Mashang-Delivery`, and announces every alarm created in the last `ANNOUNCED_DAYS` days that they do
not name: one written in the instant before its gateway died, or while no gateway ran the webhook. Older days'
documents are deleted. The first start with a webhook announces nothing old: the alarms it finds are the baseline,
and `_local/server/webhook-outbox` says it was taken (an outbox of an older version, which kept every announced
alarm and every delivery in that one document, is emptied into the days' documents).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Literal

import httpx
import orjson

from server import __version__
from server.alarms import Alarms, Change, local_now, public
from server.errors import CouchError
from server.ids import new_ulid
from server.settings import Settings
from server.store.protocol import Doc, Store
from server.store.upsert import read_local
from server.tasks import cancel

log = logging.getLogger(__name__)

LOG_DOC: Final = "server/webhook-log"
OUTBOX_DOC: Final = "server/webhook-outbox"  # {"baseline": when the first start took it}
DAY_PREFIX: Final = "server/webhook-day-"  # + the UTC date the alarms were created
LOG_KEEP: Final = 200  # attempts kept in the delivery log
QUEUE_SIZE: Final = 1000  # deliveries queued (and kept in the outbox) at most
WORKERS: Final = 2
MAX_ERROR: Final = 200
ANNOUNCED_DAYS: Final = 30  # alarms created this recently are checked against the days' documents at every start
PRUNE_BACK: Final = 30  # days' documents older than the checked ones looked for (and deleted) at start and daily

Event = Literal["alarm.new", "alarm.withdrawn"]
EVENTS: Final[dict[Change, Event]] = {"new": "alarm.new", "withdrawn": "alarm.withdrawn"}


def _without(delivery: str) -> Callable[[Doc], Doc]:
    """A day's document (or the older outbox) without `delivery` (its last attempt is done)."""
    return lambda doc: {"pending": [p for p in doc.get("pending", []) if p.get("delivery") != delivery]}


def _with_marks(marks: dict[str, str]) -> Callable[[Doc], Doc]:
    """A day's document with the alarms `marks` names taken as announced (when it does not name them yet)."""
    return lambda doc: {"announced": {**marks, **_announced(doc)}}


def _announced(doc: Doc) -> dict[str, str]:
    announced = doc.get("announced")
    return announced if isinstance(announced, dict) else {}


def day_doc(created_at: Any, now: datetime) -> str:
    """The `_local` id of the day's document an alarm created at `created_at` belongs in: its day's, or today's for
    an alarm older than the days a start checks (a phone that was offline for weeks), whose documents a start reads."""
    try:
        moment = created_at if isinstance(created_at, datetime) else datetime.fromisoformat(str(created_at))
    except ValueError:
        moment = now
    if moment.utcoffset() is None or moment < now - timedelta(days=ANNOUNCED_DAYS):
        moment = now
    return DAY_PREFIX + moment.astimezone(UTC).date().isoformat()


def _days(now: datetime, first: int, last: int) -> list[str]:
    """The days' documents from `first` to `last` days before `now`."""
    today = now.astimezone(UTC).date()
    return [DAY_PREFIX + (today - timedelta(days=back)).isoformat() for back in range(first, last + 1)]


def signature(secret: str, body: bytes) -> str:
    """The `X-Mashang-Signature` value of `body`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class Webhook:
    def __init__(
        self,
        store: Store,
        settings: Settings,
        alarms: Alarms | None = None,
        clock: Callable[[], datetime] = local_now,
    ) -> None:
        self.store = store
        self.alarms = alarms
        self.url = settings.webhook_url
        self.secret = settings.webhook_secret
        self.attempts = max(1, settings.webhook_attempts)
        self.backoff = max(0.0, settings.webhook_backoff_seconds)
        self.timeout = settings.webhook_timeout_seconds
        self.clock = clock
        # (the `_local` document the delivery is kept in, delivery, event, alarm)
        self._queue: asyncio.Queue[tuple[str, str, Event, Doc]] = asyncio.Queue(QUEUE_SIZE)
        self._heard: asyncio.Queue[tuple[Event, Doc]] = asyncio.Queue()  # from the alarm index, not yet announced
        self._workers: list[asyncio.Task[None]] = []
        self._client: httpx.AsyncClient | None = None
        self._local_lock = asyncio.Lock()  # one read-change-write of a `_local` document at a time here
        self._pruned: datetime | None = None

    @property
    def configured(self) -> bool:
        return bool(self.url)

    async def start(self) -> None:
        if not self.configured:
            return
        if not self.secret:
            log.warning("MASHANG_WEBHOOK_URL is set without MASHANG_WEBHOOK_SECRET: deliveries are not signed")
        self._client = httpx.AsyncClient(
            timeout=self.timeout, follow_redirects=False, headers={"User-Agent": f"Mashang-Webhook/{__version__}"}
        )
        self._workers = [asyncio.create_task(self._work(), name=f"webhook-{n}") for n in range(WORKERS)]
        for doc_id, kept in await self._pending():
            # Left by a gateway that stopped; an outbox of an older version has no event: it only had new alarms.
            if self._queue.full():
                break
            self._queue.put_nowait((doc_id, str(kept["delivery"]), kept.get("event", "alarm.new"), kept["alarm"]))
        if self.alarms is not None:
            self.alarms.listeners.append(self._hear)
            self._workers.append(asyncio.create_task(self._listen(self.alarms), name="webhook-listen"))

    async def stop(self) -> None:
        if self.alarms is not None and self._hear in self.alarms.listeners:
            self.alarms.listeners.remove(self._hear)
        await cancel(*self._workers)
        self._workers = []
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def _hear(self, change: Change, alarm: Doc) -> None:
        """The alarm index's listener: returns at once; `_listen` announces."""
        if change in EVENTS:
            self._heard.put_nowait((EVENTS[change], alarm))

    async def _listen(self, alarms: Alarms) -> None:
        await alarms.ready()
        try:
            await self._catch_up(alarms)
        except CouchError:
            log.exception("webhook: the alarms missed while no gateway ran could not be checked")
        while True:
            event, alarm = await self._heard.get()
            try:
                await self.announce(event, alarm)
                if self._pruned is None or self.clock() - self._pruned >= timedelta(days=1):
                    await self._prune()
            except CouchError:
                log.exception("webhook: %s of %s could not be queued", event, alarm.get("_id"))
            finally:
                self._heard.task_done()

    async def _catch_up(self, alarms: Alarms) -> None:
        """Announce the recent alarms the days' documents do not name; on the first start, only take them as known."""
        now = self.clock()
        recent = alarms.created_since(now - timedelta(days=ANNOUNCED_DAYS))
        outbox = await self._read(OUTBOX_DOC)
        older = _announced(outbox)  # an outbox of an older version: every announced alarm in it
        if "baseline" not in outbox and "announced" not in outbox:
            await self._mark(recent, recent, now)
            await self._update(OUTBOX_DOC, lambda doc: {"baseline": now.isoformat()})
            await self._prune()
            return
        if older:
            await self._mark(older, recent, now)  # into the days' documents, then out of the outbox
            await self._update(
                OUTBOX_DOC, lambda doc: {"announced": {}, "baseline": doc.get("baseline", now.isoformat())}
            )
        known = await self.announced() or {}
        for alarm_id in sorted((a for a in recent if a not in known), key=recent.__getitem__):
            try:
                alarm = await alarms.get(alarm_id)
            except CouchError as e:
                if e.status == 404:
                    continue  # withdrawn since the index was read
                raise
            await self.announce("alarm.new", alarm)
        await self._prune()

    async def _mark(self, ids: Iterable[str], created: dict[str, datetime], now: datetime) -> None:
        """Take the alarms `ids` (of those created recently) as announced, in their days' documents."""
        by_day: dict[str, list[str]] = {}
        for alarm_id in ids:
            if alarm_id in created:
                by_day.setdefault(day_doc(created[alarm_id], now), []).append(alarm_id)
        for doc_id, day_ids in sorted(by_day.items()):
            await self._update(doc_id, _with_marks(dict.fromkeys(day_ids, now.isoformat())))

    async def _prune(self) -> None:
        """Delete the days' documents older than the days a start checks."""
        now = self._pruned = self.clock()
        for doc_id in _days(now, ANNOUNCED_DAYS + 2, ANNOUNCED_DAYS + 1 + PRUNE_BACK):
            doc = await self._read(doc_id)
            if not doc:
                continue
            if doc.get("pending"):
                log.warning("webhook: %d deliveries of %s were never finished", len(doc["pending"]), doc_id)
            try:
                await self.store.delete_local(doc_id, doc.get("_rev"))
            except CouchError as e:
                if e.status not in (404, 409):  # gone or changed meanwhile: the next prune sees it
                    raise

    async def announce(self, event: Event, alarm: Doc) -> None:
        """Queue `event` of `alarm` for delivery, unless it was announced already (here or by another gateway), or
        it is the withdrawal of an alarm never announced. Returns at once."""
        if not self.configured:
            return  # no outbox either: the first start with a URL takes what exists as its baseline
        alarm_id = str(alarm.get("_id"))
        doc_id = day_doc(alarm.get("created_at"), self.clock())
        delivery = new_ulid()
        shown = public(alarm) if event == "alarm.new" else {"_id": alarm_id, "shop": alarm.get("shop")}
        full = self._queue.full()
        item = {"delivery": delivery, "event": event, "alarm": shown}
        news = False

        def add(doc: Doc) -> Doc | None:
            nonlocal news
            announced = _announced(doc)
            news = (alarm_id in announced) != (event == "alarm.new")  # decided by the revision written
            if not news:
                return None
            announced = {a: at for a, at in announced.items() if a != alarm_id}
            if event == "alarm.new":
                announced[alarm_id] = self.clock().isoformat()
            pending = doc.get("pending", [])
            return {"announced": announced, "pending": pending if full else [*pending, item]}

        try:
            await self._update(doc_id, add)
        except CouchError:
            log.exception("webhook: %s could not be written; %s is delivered from memory", doc_id, delivery)
            news = True
        if not news:
            return
        if full:
            await self._record(delivery, event, shown, 0, None, "not delivered: the delivery queue is full")
            return
        try:
            self._queue.put_nowait((doc_id, delivery, event, shown))
        except asyncio.QueueFull:  # filled while the outbox was written: it stays there for the next start
            await self._record(delivery, event, shown, 0, None, "queued for the next start: the delivery queue is full")

    async def _work(self) -> None:
        while True:
            doc_id, delivery, event, alarm = await self._queue.get()
            try:
                await self.deliver(delivery, event, alarm)
                await self._update(doc_id, _without(delivery))
            except asyncio.CancelledError:
                raise  # still in the outbox: the next start delivers it
            except Exception:
                log.exception("webhook: delivery %s of %s failed", delivery, alarm.get("_id"))
            finally:
                self._queue.task_done()

    async def deliver(self, delivery: str, event: Event, alarm: Doc) -> bool:
        """Try one delivery up to `attempts` times, waiting 1, 2, 4 ... × `backoff` seconds in between; each
        attempt is logged. True when the receiver answered 2xx."""
        assert self._client is not None and self.url is not None, "start() first"
        body = orjson.dumps({"event": event, "delivery": delivery, "alarm": alarm})
        headers = {"Content-Type": "application/json", "X-Mashang-Delivery": delivery, "X-Mashang-Event": event}
        if self.secret:
            headers["X-Mashang-Signature"] = signature(self.secret, body)
        for attempt in range(1, self.attempts + 1):
            status: int | None = None
            try:
                # The whole try within the timeout: httpx's bounds each read alone, and a receiver sending its
                # answer a byte at a time held one of the few delivery workers for as long as it liked.
                async with asyncio.timeout(self.timeout):
                    response = await self._client.post(
                        self.url, content=body, headers={**headers, "X-Mashang-Attempt": str(attempt)}
                    )
                status = response.status_code
                error = None if 200 <= status < 300 else f"HTTP {status}"
            except httpx.HTTPError as e:
                error = f"{type(e).__name__}: {e}"[:MAX_ERROR]
            except TimeoutError:
                error = f"no whole answer within {self.timeout:g} s"
            await self._record(delivery, event, alarm, attempt, status, error)
            if error is None:
                return True
            if attempt < self.attempts:
                await asyncio.sleep(self.backoff * 2 ** (attempt - 1))
        return False

    async def drain(self) -> None:
        """Wait until every alarm heard is announced and every queued delivery is done (tests, shutdown scripts)."""
        await self._heard.join()
        await self._queue.join()

    # ----- the delivery log -----

    async def _record(
        self, delivery: str, event: Event, alarm: Doc, attempt: int, status: int | None, error: str | None
    ) -> None:
        entry = {
            "delivery": delivery,
            "event": event,
            "alarm": alarm.get("_id"),
            "shop": alarm.get("shop"),
            "attempt": attempt,
            "of": self.attempts,
            "ok": error is None,
            "status": status,
            "error": error,
            "at": self.clock().isoformat(),
        }
        try:
            await self._update(LOG_DOC, lambda doc: {"entries": [*doc.get("entries", []), entry][-LOG_KEEP:]})
        except CouchError:
            log.exception("webhook: the delivery log could not be written")

    async def _update(self, local_id: str, change: Callable[[Doc], Doc | None]) -> None:
        """Read a `_local` document and write it with the fields `change` gives (None: no write); again when another
        gateway wrote it in between."""
        async with self._local_lock:
            while True:
                current = await self._read(local_id)
                changed = change(current)
                if changed is None:
                    return
                doc = {**current, **changed}
                try:
                    await self.store.put_local(local_id, doc)
                    return
                except CouchError as e:
                    if e.status != 409:
                        raise

    async def _read(self, local_id: str) -> Doc:
        return await read_local(self.store, local_id) or {}

    async def deliveries(self, limit: int = LOG_KEEP) -> list[Doc]:
        """The logged attempts, newest first."""
        entries = (await self._read(LOG_DOC)).get("entries", [])
        return list(reversed(entries))[:limit] if isinstance(entries, list) else []

    async def pending(self) -> list[str]:
        """The deliveries kept for the next start (queued or being tried)."""
        return [str(kept["delivery"]) for _, kept in await self._pending()]

    async def _pending(self) -> list[tuple[str, Doc]]:
        """(the `_local` document, the delivery) of every delivery kept, the oldest days first."""
        found = []
        for doc_id in [OUTBOX_DOC, *reversed(_days(self.clock(), -1, ANNOUNCED_DAYS + 1))]:
            found += [(doc_id, kept) for kept in (await self._read(doc_id)).get("pending", [])]
        return found

    async def announced(self) -> dict[str, str] | None:
        """The alarms of the days a start checks that were announced (id -> when); None until the first start with
        a webhook took its baseline."""
        outbox = await self._read(OUTBOX_DOC)
        if "baseline" not in outbox and "announced" not in outbox:
            return None
        found = dict(_announced(outbox))
        for doc_id in _days(self.clock(), -1, ANNOUNCED_DAYS + 1):
            found.update(_announced(await self._read(doc_id)))
        return found
