"""Each new alarm POSTed to the office's webhook (`MASHANG_WEBHOOK_URL`): signed, retried for a day, logged.

The webhook listens to the alarm index (`server.alarms`), which follows the changes feed: an alarm written by this
gateway's validators, by `mashang worker` or by another gateway is heard alike, and announced as `alarm.new`; an
alarm the validators withdrew after it was announced (the submission's alarm took its place) as `alarm.withdrawn`.
Listening only queues: background workers deliver, so a slow or broken receiver never holds anything up.

The body is `{"event", "delivery", "alarm"}`, and for `alarm.new` `"findings"` and `"findings_en"` too: the alarm is
the desk's (`server.alarm_findings`), each item with its finding's `note` and its hazard's `hazard_status` and
`deadline`; `findings` has each item as a line of the desk's card (严重 燃气瓶/管道及报警器不安全 · 待整改 ·
整改期限 2026-03-03), and `findings_en` the same line as the desk in English says it (Serious Gas cylinder, hose or
alarm unsafe · Open · Deadline 2026-03-03), for a receiver that only passes text on (a duty phone, a group bot) or
reads no Chinese; all as they were when the delivery was queued, so every attempt of it sends the same body. The
receiver checks `X-Mashang-Signature: sha256=<hex>`, the HMAC-SHA256 of the raw body with the shared secret;
`X-Mashang-Delivery` stays the same across the attempts of one delivery, so it can drop repeats. The last attempts
are logged in `_local/server/webhook-log` (not replicated, shared by the gateways of one database) for the office,
and a failed attempt is a warning in the server's log, a delivery given up an error (naming the URL's host only).
Each attempt is logged before it goes out (`"sending": true`, at when it was sent) and that entry is completed with
its outcome, so no stop loses it: an attempt still waiting for its answer when the gateway stops gracefully is cut
short and logged as such (`"interrupted": true`: the receiver may well have it); one whose answer came is let finish
its bookkeeping; neither holds the stop more than `STOP_WAIT`. An entry left sending by a stop that outlasted
`STOP_WAIT` or by a kill -9 (its answer may have come, or the kill may have come before the request went out) is
logged as interrupted by the next start, which numbers the delivery's next attempt after the last one the log holds
of it: the office's log skips no number.

A failed attempt is tried again after 1, 2, 4 ... × `webhook_backoff_seconds`, each wait at most
`webhook_backoff_max_seconds` (5 minutes), until `webhook_retry_hours` (24) after the delivery was queued, so a
receiver down for a restart, a deploy or a night still hears of every alarm. The workers never sleep through a
back-off: each makes one attempt of whichever delivery is due (a new one before those retried), and a delivery
waiting for its next attempt holds no worker, so a new alarm goes out at once while older ones wait; once one gets
through, the waiting ones are due at once too (at most once per longest wait, for a receiver that fails now and
then).

`_local/server/webhook-day-{date}` holds, for the alarms created on that day (UTC; today's for an alarm created
before the days a start checks), which ones were announced and the deliveries of them not finished yet, each with
when it was queued (`queued_at`): nothing is written per attempt. A start resumes a delivery where its schedule
has got to by then (`resumed`): the next of its attempts when it would have come had its gateway run all along, with
the back-off and the deadline it had, neither the quick first attempts again (a gateway restarting in a loop would
hammer the receiver) nor a new day of them (nor would it end); numbered after its last attempt in the delivery log
(by the schedule only when the log no longer reaches back to it). Adding an
alarm there is a write on the revision read, so of several gateways exactly one announces it. A document per day
keeps each write small: a city of 200,000 shops raises some 13,000 alarms a month, about 1 MB in one document
rewritten at every announcement. A gateway that starts (after a restart, a kill -9) delivers what is left in them,
with the same `X-Mashang-Delivery`, and announces every alarm created in the last `ANNOUNCED_DAYS` days that they do
not name: one written in the instant before its gateway died, or while no gateway ran the webhook. Older days'
documents are deleted. The first start with a webhook announces nothing old: the alarms it finds are the baseline,
and `_local/server/webhook-outbox` says it was taken (an outbox of an older version, which kept every announced
alarm and every delivery in that one document, is emptied into the days' documents).

Several gateways of one database (CouchDB; two `mashang serve` on one embedded folder are refused by its
`gateway.lock`): only the holder of `_local/server/webhook-lease` announces and delivers, as only one follower runs
the validators (`server.validators.lease.Lease`: taken and renewed by compare-and-swap on its revision, every third
of `webhook_lease_seconds`). The others hear the alarms too and leave them to it; were each to resume the deliveries
kept at its start, as before, the receiver got every pending alarm from each gateway, under the same attempt numbers
(each numbered on from the log). A gateway that takes the lease takes over as a start does: the attempts still
sending are logged as interrupted, the deliveries kept resumed, numbered on from the log, and the alarms no gateway
announced announced. It takes it once it is free (its holder stopped cleanly and released it), once it has expired
(its holder died: another machine's after `webhook_lease_seconds`, at the latest a third of it later), or at once
when its holder was a process of the same machine that has ended (`process_ended`: a restart after a kill -9 goes on
at once, as a single gateway did). So an attempt left sending by a gateway that died is not shown as sending (发送中)
until some gateway restarts: each entry says who sends it (`by`) and by when its outcome is written at the latest
(`until`), and a live gateway takes over within a lease's time. A holder that cannot renew its lease stops delivering
a third of it before it runs out, and makes no attempt once it has (a stalled process). The receiver's guarantee
stays at least once: an attempt cut short by a death or a lost lease may have reached it, and is sent again under the
same `X-Mashang-Delivery`, which it de-duplicates on.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Literal
from urllib.parse import urlsplit

import httpx
import orjson

from server import __version__
from server.alarm_findings import in_words
from server.alarms import Alarms, Change, local_now, public
from server.errors import CouchError
from server.ids import new_ulid
from server.settings import Settings
from server.store.protocol import Doc, Store
from server.store.upsert import read_local
from server.tasks import cancel
from server.validators.lease import Lease, default_holder, this_process

log = logging.getLogger(__name__)

LOG_DOC: Final = "server/webhook-log"
OUTBOX_DOC: Final = "server/webhook-outbox"  # {"baseline": when the first start took it}
DAY_PREFIX: Final = "server/webhook-day-"  # + the UTC date the alarms were created
LEASE_DOC: Final = "server/webhook-lease"  # the gateway that delivers (`server.validators.lease.Lease`)
MIN_LEASE: Final = 0.3  # seconds: renewed every third of it
LOG_KEEP: Final = 200  # attempts kept in the delivery log
QUEUE_SIZE: Final = 1000  # deliveries waiting (and kept in the days' documents) at most: ~2 days of a city's alarms
WORKERS: Final = 2  # attempts at once
MIN_BACKOFF: Final = 0.01  # seconds: a back-off of 0 would retry a dead receiver in a tight loop for a day
MAX_ERROR: Final = 200
ANNOUNCED_DAYS: Final = 30  # alarms created this recently are checked against the days' documents at every start
PRUNE_BACK: Final = 30  # days' documents older than the checked ones looked for (and deleted) at start and daily
STOP_WAIT: Final = 2.0  # seconds a stop waits for the workers to log the attempts it cut short or that just ended
INTERRUPTED: Final = "被中止：服务停止 / interrupted: the server stopped"

Event = Literal["alarm.new", "alarm.withdrawn"]
EVENTS: Final[dict[Change, Event]] = {"new": "alarm.new", "withdrawn": "alarm.withdrawn"}


def _without(delivery: str) -> Callable[[Doc], Doc]:
    """A day's document (or the older outbox) without `delivery` (its last attempt is done)."""
    return lambda doc: {"pending": [p for p in doc.get("pending", []) if p.get("delivery") != delivery]}


def _with_marks(marks: dict[str, str]) -> Callable[[Doc], Doc]:
    """A day's document with the alarms `marks` names taken as announced (when it does not name them yet)."""
    return lambda doc: {"announced": {**marks, **_announced(doc)}}


def _same_try(entry: Any, delivery: str, attempt: int) -> bool:
    """Whether `entry` of the delivery log is the attempt `attempt` of `delivery` going out or cut short."""
    return (
        isinstance(entry, dict)
        and entry.get("delivery") == delivery
        and entry.get("attempt") == attempt
        and bool(entry.get("sending") or entry.get("interrupted"))
    )


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


def wait_after(made: int, backoff: float, cap: float) -> float:
    """The wait after a delivery's `made`-th failed attempt: `backoff`, twice, four times ... at most `cap`."""
    return min(cap, backoff * 2.0 ** min(max(made, 1) - 1, 62))


def resumed(elapsed: float, backoff: float, cap: float) -> tuple[int, float]:
    """Where the schedule of a delivery queued `elapsed` seconds ago has got to, as if its gateway had run all
    along: (the attempts made by now, the seconds after it was queued of the next one, never before `elapsed`)."""
    if elapsed <= 0:
        return 0, 0.0
    made, at = 1, 0.0  # the first attempt, at once
    while True:
        wait = wait_after(made, backoff, cap)
        if wait >= cap:  # every later wait is the longest: count them
            more = max(1, math.ceil((elapsed - at) / cap))
            return made + more - 1, at + more * cap
        at += wait
        if at >= elapsed:
            return made, at
        made += 1


def host_of(url: str | None) -> str:
    """The host (and port) of the webhook's URL, for the server's log: never its credentials, path or query."""
    try:
        parts = urlsplit(url or "")
        host, port = parts.hostname or "?", parts.port
    except ValueError:
        return "?"
    host = f"[{host}]" if ":" in host else host
    return f"{host}:{port}" if port else host


def _span(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:.3g} h"
    return f"{seconds / 60:.3g} min" if seconds >= 60 else f"{seconds:.3g} s"


def _precise_now() -> datetime:
    """Now, to the microsecond (`local_now`, the log's clock, is to the second): when a delivery was queued, and how
    long ago, for its schedule."""
    return datetime.now(UTC)


def _lines(value: Any) -> list[str] | None:
    """A kept delivery's lines in words, as written; None when it has none (an older version's) or they are not."""
    return value if isinstance(value, list) and all(isinstance(line, str) for line in value) else None


def _moment(value: Any) -> datetime | None:
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return moment if moment.utcoffset() is not None else None


@dataclass(eq=False)
class _Delivery:
    """A delivery in this gateway's memory: waiting for its next attempt, or being tried."""

    doc_id: str  # the `_local` document it is kept in
    delivery: str
    event: Event
    alarm: Doc
    queued_at: datetime
    findings: list[str] | None = None  # an `alarm.new`'s items in words (none kept by an older version)
    findings_en: list[str] | None = None  # the same in English (none kept by an older version)
    made: int = 0  # attempts made, as numbered (resumed: the log's last one of it)
    step: int = 0  # where its back-off has got to: attempts made (resumed: those its schedule had made by the start)
    due: float = 0.0  # the loop's time of the next attempt
    trying: bool = False
    ending: str | None = None  # to be given up without another attempt, for this reason


class Webhook:
    def __init__(
        self,
        store: Store,
        settings: Settings,
        alarms: Alarms | None = None,
        clock: Callable[[], datetime] = local_now,
        holder: str | None = None,
    ) -> None:
        self.store = store
        self.alarms = alarms
        self.url = settings.webhook_url
        self.secret = settings.webhook_secret
        self.host = host_of(self.url)
        self.attempts = max(0, settings.webhook_attempts)  # 0: as many as the retry window holds
        self.backoff = max(MIN_BACKOFF, settings.webhook_backoff_seconds)
        self.backoff_max = max(self.backoff, settings.webhook_backoff_max_seconds)
        self.retry_seconds = max(0.0, settings.webhook_retry_hours) * 3600
        self.timeout = settings.webhook_timeout_seconds
        self.clock = clock
        self._waiting: dict[str, _Delivery] = {}  # by delivery id: waiting for their attempt or being tried
        self._changed = asyncio.Condition()  # guards `_waiting`; notified when a delivery comes, goes or is due
        self._pulled = -math.inf  # the loop's time the waiting deliveries were last made due at once
        self._heard: asyncio.Queue[tuple[Event, Doc]] = asyncio.Queue()  # from the alarm index, not yet announced
        self._workers: list[asyncio.Task[None]] = []
        self._steady: set[asyncio.Task[Any]] = set()  # workers writing down an attempt's outcome: a stop waits
        self._stopping = False
        self._client: httpx.AsyncClient | None = None
        self._local_lock = asyncio.Lock()  # one read-change-write of a `_local` document at a time here
        self._log: Doc | None = None  # the delivery log as this gateway last wrote it (`_update`)
        self._pruned: datetime | None = None
        self._caught_up = asyncio.Event()  # clear while a start announces the alarms no gateway heard
        self._caught_up.set()
        self.holder = holder or default_holder()
        self.lease = Lease(
            store,
            self.holder,
            max(MIN_LEASE, settings.webhook_lease_seconds),
            local_id=LEASE_DOC,
            process=this_process(),
        )
        self.renew_every = self.lease.ttl / 3
        self.holding = False  # the lease is this gateway's: it announces and delivers
        self._leading: asyncio.Task[None] | None = None

    @property
    def configured(self) -> bool:
        return bool(self.url)

    async def start(self) -> None:
        """Deliver when this gateway takes the webhook's lease (at once when it is free), else wait for it: of the
        gateways of one database only its holder announces and delivers."""
        if not self.configured:
            return
        if not self.secret:
            log.warning("MASHANG_WEBHOOK_URL is set without MASHANG_WEBHOOK_SECRET: deliveries are not signed")
        self._client = httpx.AsyncClient(
            timeout=self.timeout, follow_redirects=False, headers={"User-Agent": f"Mashang-Webhook/{__version__}"}
        )
        if self.alarms is not None:
            self.alarms.listeners.append(self._hear)
        try:
            self.holding = await self.lease.acquire()
        except Exception as e:
            log.warning("webhook: the lease cannot be read (tried again in %s): %s", _span(self.renew_every), e)
        if self.holding:
            await self._take_over()
        else:
            log.info("webhook: another gateway delivers (it holds the webhook's lease); this one stands by")
        self._leading = asyncio.create_task(self._lead(), name="webhook-lease")

    async def _lead(self) -> None:
        """Renew the lease while holding it, and stop delivering when it is lost; take it (and deliver what its
        last holder left) once it is free or its holder's has expired: a holder that died, a kill -9 included."""
        while True:
            await asyncio.sleep(self.renew_every)
            try:
                held = await self.lease.acquire()
            except Exception as e:
                log.warning("webhook: the lease cannot be renewed: %s", e)
                held = self.holding and self.lease.held(self.renew_every)
            if self.holding and not held:
                log.warning("webhook: the lease is lost (another gateway delivers); this one stops delivering")
                self.holding = False
                await self._step_down()
            elif held and not self.holding:
                log.info("webhook: the lease is taken by %s; it delivers what its last holder left", self.holder)
                self.holding = True
                try:
                    await self._take_over()
                except Exception:  # the lease is still this gateway's: taken over again at the next renewal
                    log.exception("webhook: the deliveries left could not be taken over")
                    self.holding = False
                    await self._step_down()

    async def _take_over(self) -> None:
        """Start delivering, as the lease's holder: the attempts the log shows still going out are interrupted
        (their gateway stopped, died or lost the lease), the deliveries kept are resumed where their schedule has
        got to, and the alarms no gateway announced are announced."""
        self._stopping = False
        self._workers = [asyncio.create_task(self._work(), name=f"webhook-{n}") for n in range(WORKERS)]
        try:
            await self._resume_kept()
        except BaseException:
            await self._step_down()
            raise
        if self.alarms is not None:
            self._caught_up.clear()
            self._workers.append(asyncio.create_task(self._listen(self.alarms), name="webhook-listen"))

    async def _resume_kept(self) -> None:
        now, due = _precise_now(), asyncio.get_running_loop().time()
        tried, since = await self._take_over_log()
        async with self._changed:
            for doc_id, kept in await self._pending():
                # Left by a gateway that stopped; an outbox of an older version has no event (it only had new
                # alarms), nor did its deliveries say when they were queued: they start their schedule now.
                if len(self._waiting) >= QUEUE_SIZE:
                    break
                if not isinstance(kept, dict) or not isinstance(kept.get("alarm"), dict) or "delivery" not in kept:
                    log.error("webhook: a kept delivery in %s is not one (left out): %.200r", doc_id, kept)
                    continue
                event = kept.get("event", "alarm.new")
                # A time ahead of this clock (another machine's, or written by hand) would move the retry window on.
                queued = min(_moment(kept.get("queued_at")) or now, now)
                findings, findings_en = _lines(kept.get("findings")), _lines(kept.get("findings_en"))
                item = _Delivery(doc_id, str(kept["delivery"]), event, kept["alarm"], queued, findings, findings_en)
                made = tried.get(item.delivery)
                if made is None and since is not None and queued >= since:
                    made = 0  # the log holds every attempt since it was queued, and none of it: never tried
                self._resume(item, now, due, made)
                self._waiting.setdefault(item.delivery, item)
            self._changed.notify_all()

    async def stop(self) -> None:
        if self.alarms is not None and self._hear in self.alarms.listeners:
            self.alarms.listeners.remove(self._hear)
        await cancel(self._leading)
        self._leading = None
        held, self.holding = self.holding, False
        await self._step_down()
        if held:  # after the attempts cut short are logged: the next holder finds them so
            with contextlib.suppress(Exception):
                await self.lease.release()
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _step_down(self) -> None:
        """Stop delivering (a stop, or the lease lost). A worker waiting for an answer is cut short and logs that
        attempt as interrupted (`_try`); one writing down an answer that came is let finish; either at most
        `STOP_WAIT`, then cut off (the next holder resumes it)."""
        self._stopping = True
        for task in self._workers:
            if task not in self._steady:
                task.cancel()
        if self._workers:
            await asyncio.wait(self._workers, timeout=STOP_WAIT)
        await cancel(*self._workers)
        self._workers = []
        while not self._heard.empty():  # heard while holding the lease: the next holder's catch-up announces them
            self._heard.get_nowait()
            self._heard.task_done()
        self._caught_up.set()
        async with self._changed:
            self._waiting.clear()  # still in the days' documents: the next holder resumes them
            self._changed.notify_all()

    def _hear(self, change: Change, alarm: Doc) -> None:
        """The alarm index's listener: returns at once; `_listen` announces. Not holding the lease: left to the
        holder, which hears it too (or, when it dies first, to the catch-up of the gateway that takes over)."""
        if change in EVENTS and self.holding and not self._stopping:
            self._heard.put_nowait((EVENTS[change], alarm))

    async def _listen(self, alarms: Alarms) -> None:
        try:
            await alarms.ready()
            try:
                await self._catch_up(alarms)
            except CouchError:
                log.exception("webhook: the alarms missed while no gateway ran could not be checked")
        finally:
            self._caught_up.set()
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
        doc_ids = _days(now, ANNOUNCED_DAYS + 2, ANNOUNCED_DAYS + 1 + PRUNE_BACK)
        for doc_id, doc in zip(doc_ids, await self._read_all(doc_ids), strict=True):
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
        if not self.holding:
            return  # the holder of the lease announces it (it hears it too), or the catch-up of the next holder
        alarm_id = str(alarm.get("_id"))
        doc_id = day_doc(alarm.get("created_at"), self.clock())
        delivery = new_ulid()
        findings: list[str] | None = None
        findings_en: list[str] | None = None
        if event == "alarm.new":
            said = await in_words(self.store, public(alarm), self.clock().date().isoformat())
            shown, findings, findings_en = said.alarm, said.zh, said.en
        else:
            shown = {"_id": alarm_id, "shop": alarm.get("shop")}
        full = len(self._waiting) >= QUEUE_SIZE
        queued_at = _precise_now()
        item = {"delivery": delivery, "event": event, "alarm": shown, "queued_at": queued_at.isoformat()}
        if findings is not None:
            item["findings"] = findings
        if findings_en is not None:
            item["findings_en"] = findings_en
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
            reason = "not delivered: the delivery queue is full"
            log.error("webhook: %s of %s to %s %s", event, alarm_id, self.host, reason)
            await self._record(delivery, event, shown, 0, None, reason, given_up=True)
            return
        async with self._changed:
            full = len(self._waiting) >= QUEUE_SIZE  # filled while the day was written: it stays there
            if not full:
                self._waiting[delivery] = _Delivery(doc_id, delivery, event, shown, queued_at, findings, findings_en)
                self._changed.notify_all()
        if full:
            await self._record(delivery, event, shown, 0, None, "queued for the next start: the delivery queue is full")

    def _resume(self, item: _Delivery, now: datetime, due: float, made: int | None) -> None:
        """Put a delivery kept by a gateway that stopped where its schedule has got to by `now`: its next attempt
        when that comes, numbered on from the `made` the log holds (None: the log no longer has its attempts, the
        schedule's count), or given up at once when that would come after its retry window."""
        elapsed = (now - item.queued_at).total_seconds()
        item.step, after = resumed(elapsed, self.backoff, self.backoff_max)
        item.made = item.step if made is None else made
        item.due = due + max(0.0, after - elapsed)
        if self.attempts and item.made >= self.attempts:
            item.ending, item.due = f"{item.made} attempts made", due
        elif after > self.retry_seconds:
            item.ending, item.due = f"not delivered within {_span(self.retry_seconds)}", due

    async def _take(self) -> _Delivery:
        """The next delivery due, once it is: of those due, the ones tried least first (a new alarm before the
        retries of older ones), then the longest due."""
        loop = asyncio.get_running_loop()
        async with self._changed:
            while True:
                now = loop.time()
                idle = [item for item in self._waiting.values() if not item.trying]
                ready = [item for item in idle if item.due <= now]
                if ready:
                    item = min(ready, key=lambda item: (item.step, item.due))
                    item.trying = True
                    return item
                nearest = min((item.due for item in idle), default=None)
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(None if nearest is None else nearest - now):
                        await self._changed.wait()

    async def _work(self) -> None:
        while not self._stopping:
            item = await self._take()
            try:
                await self._try(item)
            except asyncio.CancelledError:
                raise  # still in its day's document: the next start resumes it
            except Exception:
                log.exception("webhook: delivery %s of %s failed", item.delivery, item.alarm.get("_id"))
                await self._done(item, delivered=False)  # kept in its day's document for the next start

    @contextlib.contextmanager
    def _unstoppable(self) -> Iterator[None]:
        """While in it, a stop lets this worker finish (for at most `STOP_WAIT`) instead of cutting it short."""
        task = asyncio.current_task()
        assert task is not None
        self._steady.add(task)
        try:
            yield
        finally:
            self._steady.discard(task)

    async def _try(self, item: _Delivery) -> None:
        """One attempt of `item`, logged as sending before it goes out and completed with its outcome; then
        delivered, given up, or due again after its back-off. A stop while it waits for its answer logs it as
        interrupted; one while its outcome is written down lets that finish. A stop that outlasts `STOP_WAIT` (or a
        kill -9) leaves its entry sending: the lease's next holder takes it as interrupted (`_take_over_log`). No
        attempt goes out while the lease may have run out (another gateway may hold it)."""
        alarm_id = item.alarm.get("_id")
        if not self.lease.held():  # ran out unrenewed (the loop or the machine stalled): another gateway may deliver
            async with self._changed:
                item.trying, item.due = False, asyncio.get_running_loop().time() + self.renew_every
                self._changed.notify_all()
            return
        if item.ending is not None:  # resumed after its retry window
            with self._unstoppable():
                log.error("webhook: gave up %s of %s to %s: %s", item.event, alarm_id, self.host, item.ending)
                await self._record(
                    item.delivery, item.event, item.alarm, item.made, None, f"given up: {item.ending}", given_up=True
                )
                await self._update(item.doc_id, _without(item.delivery))
                await self._done(item, delivered=False)
            return
        item.made += 1
        item.step += 1
        sent = self.clock()
        await self._record(item.delivery, item.event, item.alarm, item.made, None, None, at=sent, sending=True)
        try:
            status, error = await self._post(item)
        except asyncio.CancelledError:
            await self._interrupted(item, sent)
            raise  # still in its day's document: the next start tries it again, numbered on
        with self._unstoppable():
            await self._answered(item, status, error)

    async def _answered(self, item: _Delivery, status: int | None, error: str | None) -> None:
        """Log the attempt of `item` that got `status` (`error`: it failed); then delivered, given up, or due again
        after its back-off."""
        alarm_id = item.alarm.get("_id")
        if error is None:
            await self._record(item.delivery, item.event, item.alarm, item.made, status, None, completes=True)
            await self._update(item.doc_id, _without(item.delivery))
            await self._done(item, delivered=True)
            return
        wait = wait_after(item.step, self.backoff, self.backoff_max)
        taken = (_precise_now() - item.queued_at).total_seconds()
        if (self.attempts and item.made >= self.attempts) or taken + wait > self.retry_seconds:
            log.error(
                "webhook: gave up %s of %s to %s after %d attempts in %s: %s",
                *(item.event, alarm_id, self.host, item.made, _span(max(0.0, taken)), error),
            )
            await self._record(
                item.delivery, item.event, item.alarm, item.made, status, error, given_up=True, completes=True
            )
            await self._update(item.doc_id, _without(item.delivery))
            await self._done(item, delivered=False)
            return
        log.warning(
            "webhook: %s of %s to %s failed (attempt %d: %s); next attempt in %s",
            *(item.event, alarm_id, self.host, item.made, error, _span(wait)),
        )
        next_at = self.clock() + timedelta(seconds=wait)
        await self._record(
            item.delivery, item.event, item.alarm, item.made, status, error, next_at=next_at, completes=True
        )
        async with self._changed:
            item.trying, item.due = False, asyncio.get_running_loop().time() + wait
            self._changed.notify_all()

    async def _interrupted(self, item: _Delivery, sent: datetime) -> None:
        """Log the attempt of `item` sent at `sent` that a stop cut short before its answer came (the receiver may
        have it). The stop cuts this short too after `STOP_WAIT`: its entry is left sending, for the next start."""
        log.warning(
            "webhook: %s of %s to %s interrupted by the stop (attempt %d); the next start tries it again",
            *(item.event, item.alarm.get("_id"), self.host, item.made),
        )
        try:
            await self._record(
                item.delivery,
                item.event,
                item.alarm,
                item.made,
                None,
                INTERRUPTED,
                at=sent,
                interrupted=True,
                completes=True,
            )
        except Exception:  # the stop goes on; the CancelledError is what the worker ends with
            log.exception("webhook: the interrupted attempt of %s could not be logged", item.delivery)

    async def _post(self, item: _Delivery) -> tuple[int | None, str | None]:
        """One attempt: (the receiver's status, None when it answered 2xx, else what went wrong)."""
        assert self._client is not None and self.url is not None, "start() first"
        payload: Doc = {"event": item.event, "delivery": item.delivery, "alarm": item.alarm}
        if item.findings is not None:
            payload["findings"] = item.findings
        if item.findings_en is not None:
            payload["findings_en"] = item.findings_en
        body = orjson.dumps(payload)
        headers = {
            "Content-Type": "application/json",
            "X-Mashang-Delivery": item.delivery,
            "X-Mashang-Event": item.event,
            "X-Mashang-Attempt": str(item.made),
        }
        if self.secret:
            headers["X-Mashang-Signature"] = signature(self.secret, body)
        try:
            # The whole try within the timeout: httpx's bounds each read alone, and a receiver sending its answer
            # a byte at a time held one of the few delivery workers for as long as it liked.
            async with asyncio.timeout(self.timeout):
                response = await self._client.post(self.url, content=body, headers=headers)
        except httpx.HTTPError as e:
            return None, f"{type(e).__name__}: {e}"[:MAX_ERROR]
        except TimeoutError:
            return None, f"no whole answer within {self.timeout:g} s"
        status = response.status_code
        return status, None if 200 <= status < 300 else f"HTTP {status}"

    async def _done(self, item: _Delivery, delivered: bool) -> None:
        """`item` is no longer this gateway's to try. Delivered: the receiver is up, so the deliveries waiting in
        their back-off are due at once (at most once per longest wait: a receiver failing now and then is not
        sent every waiting delivery at each of its successes)."""
        async with self._changed:
            self._waiting.pop(item.delivery, None)
            now = asyncio.get_running_loop().time()
            if delivered and now - self._pulled >= self.backoff_max:
                waiting = [w for w in self._waiting.values() if not w.trying and w.step and w.due > now]
                if waiting:
                    self._pulled = now
                    for other in waiting:
                        other.due = now
            self._changed.notify_all()

    async def drain(self) -> None:
        """Wait until the alarms the start announces (those no gateway heard) and every alarm heard are announced,
        and every delivery is done or given up (tests, shutdown scripts): with a receiver that is down, up to
        `webhook_retry_hours`. A drain just after a start returned before the start's announcements were queued."""
        await self._caught_up.wait()
        await self._heard.join()
        async with self._changed:
            await self._changed.wait_for(lambda: not self._waiting)

    # ----- the delivery log -----

    async def _record(
        self,
        delivery: str,
        event: Event,
        alarm: Doc,
        attempt: int,
        status: int | None,
        error: str | None,
        *,
        next_at: datetime | None = None,
        given_up: bool = False,
        at: datetime | None = None,
        interrupted: bool = False,
        sending: bool = False,
        completes: bool = False,
    ) -> None:
        """One entry of the delivery log: an attempt going out (`sending`, `at` when, `until` when its outcome is
        written at the latest unless its gateway died or lost the lease), or its outcome (`completes`: in place of
        its sending entry), with when the next one is due (`next_at`) or that it was the last (`given_up`), or that
        a stop cut it short (`interrupted`, `at` when it was sent); `by` the gateway that made it."""
        moment = at or self.clock()
        until = moment + timedelta(seconds=max(self.lease.ttl, self.timeout + STOP_WAIT)) if sending else None
        entry = {
            "delivery": delivery,
            "event": event,
            "alarm": alarm.get("_id"),
            "shop": alarm.get("shop"),
            "attempt": attempt,
            "of": self.attempts or None,
            "ok": error is None and not sending,
            "status": status,
            "error": error,
            "at": moment.isoformat(),
            "next_at": None if next_at is None else next_at.isoformat(),
            "given_up": given_up,
            "interrupted": interrupted,
            "sending": sending,
            "by": self.holder,
            "until": None if until is None else until.isoformat(),
        }

        def add(doc: Doc) -> Doc:
            entries = doc.get("entries", [])
            if completes:  # its sending entry (or that entry a start took as interrupted while this one was still out)
                entries = [e for e in entries if not _same_try(e, delivery, attempt)]
            return {"entries": [*entries, entry][-LOG_KEEP:]}

        try:
            await self._update(LOG_DOC, add)
        except CouchError:
            log.exception("webhook: the delivery log could not be written")

    async def _take_over_log(self) -> tuple[dict[str, int], datetime | None]:
        """At a take-over of the lease: the entries still sending are attempts whose gateway stopped before their
        outcome was written (a stop that outlasted `STOP_WAIT`, a kill -9, a gateway that died or lost the lease),
        logged as interrupted from now on (one a gateway that lost the lease still waits for is put right by its
        outcome: `_same_try`). Returns the last attempt the log holds
        of each delivery, and since when it holds every attempt (None: the log could not be read)."""
        tried: dict[str, int] = {}
        since: datetime | None = None

        def settle(doc: Doc) -> Doc | None:
            nonlocal since
            since = datetime.min.replace(tzinfo=UTC)  # the log has not dropped any entry yet
            entries = doc.get("entries", [])
            entries = [e for e in entries if isinstance(e, dict)] if isinstance(entries, list) else []
            tried.clear()
            for entry in entries:
                if isinstance(attempt := entry.get("attempt"), int):
                    delivery = str(entry.get("delivery"))
                    tried[delivery] = max(attempt, tried.get(delivery, 0))
            if len(entries) >= LOG_KEEP:  # older attempts may have been dropped: those before its oldest entry
                since = _moment(entries[0].get("at"))
            if not any(entry.get("sending") for entry in entries):
                return None
            cut = {"sending": False, "interrupted": True, "error": INTERRUPTED, "until": None}
            return {"entries": [{**entry, **cut} if entry.get("sending") else entry for entry in entries]}

        try:
            await self._update(LOG_DOC, settle)
        except CouchError:
            log.exception("webhook: the delivery log could not be read; attempts are numbered by the clock")
            return {}, None
        return tried, since

    async def _update(self, local_id: str, change: Callable[[Doc], Doc | None]) -> None:
        """Read a `_local` document and write it with the fields `change` gives (None: no write); again when another
        gateway wrote it in between. The delivery log, written twice an attempt, is not read again when this
        gateway wrote it last (its revision says so: another gateway's write in between makes that a conflict)."""
        async with self._local_lock:
            current = self._log if local_id == LOG_DOC else None
            while True:
                if current is None:
                    current = await self._read(local_id)
                changed = change(current)
                if changed is None:
                    return
                doc = {**current, **changed}
                try:
                    written = await self.store.put_local(local_id, doc)
                except CouchError as e:
                    if e.status != 409:
                        raise
                    current = None
                    continue
                if local_id == LOG_DOC:
                    self._log = {**doc, "_rev": written.get("rev")}
                return

    async def _read(self, local_id: str) -> Doc:
        return await read_local(self.store, local_id) or {}

    async def _read_all(self, local_ids: list[str]) -> list[Doc]:
        """`_read` of each, at once: a start reads some 100 days' documents, most of them missing, and one at a time
        on CouchDB that is 100 round trips before the first delivery goes out."""
        return list(await asyncio.gather(*(self._read(local_id) for local_id in local_ids)))

    async def deliveries(self, limit: int = LOG_KEEP) -> list[Doc]:
        """The logged attempts, newest first."""
        entries = (await self._read(LOG_DOC)).get("entries", [])
        return list(reversed(entries))[:limit] if isinstance(entries, list) else []

    async def pending(self) -> list[str]:
        """The deliveries kept for the next start (queued or being tried)."""
        return [str(kept["delivery"]) for _, kept in await self._pending()]

    async def _pending(self) -> list[tuple[str, Doc]]:
        """(the `_local` document, the delivery) of every delivery kept, the oldest days first."""
        doc_ids = [OUTBOX_DOC, *reversed(_days(self.clock(), -1, ANNOUNCED_DAYS + 1))]
        docs = await self._read_all(doc_ids)
        return [(doc_id, kept) for doc_id, doc in zip(doc_ids, docs, strict=True) for kept in doc.get("pending", [])]

    async def announced(self) -> dict[str, str] | None:
        """The alarms of the days a start checks that were announced (id -> when); None until the first start with
        a webhook took its baseline."""
        outbox = await self._read(OUTBOX_DOC)
        if "baseline" not in outbox and "announced" not in outbox:
            return None
        found = dict(_announced(outbox))
        for doc in await self._read_all(_days(self.clock(), -1, ANNOUNCED_DAYS + 1)):
            found.update(_announced(doc))
        return found
