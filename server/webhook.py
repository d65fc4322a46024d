"""Each new alarm POSTed to the office's webhook (`MASHANG_WEBHOOK_URL`): signed, retried with back-off, logged.

`enqueue` (the follower's `on_alarm` hook) only queues: background workers deliver, so a slow or broken receiver
never holds the validators up. The receiver checks `X-Mashang-Signature: sha256=<hex>`, the HMAC-SHA256 of the raw
body with the shared secret; `X-Mashang-Delivery` stays the same across the attempts of one delivery, so it can
drop repeats. The last attempts are logged in `_local/server/webhook-log` (not replicated, shared by the gateways
of one database) for the office to read.

A delivery is kept in `_local/server/webhook-outbox` from the moment it is queued until its last attempt: a
gateway that starts (after a restart, a kill -9, or another gateway's lease) delivers what is left there, with
the same `X-Mashang-Delivery`. An alarm written in the instant before its gateway died, before the follower
announced it, is not in the outbox (the office's desk still shows it).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Final

import httpx
import orjson

from server import __version__
from server.alarms import local_now, public
from server.errors import CouchError
from server.ids import new_ulid
from server.settings import Settings
from server.store.protocol import Doc, Store
from server.tasks import cancel

log = logging.getLogger(__name__)

LOG_DOC: Final = "server/webhook-log"
OUTBOX_DOC: Final = "server/webhook-outbox"
LOG_KEEP: Final = 200  # attempts kept in the delivery log
QUEUE_SIZE: Final = 1000  # deliveries queued (and kept in the outbox) at most
WORKERS: Final = 2
MAX_ERROR: Final = 200


def _without(delivery: str) -> Callable[[Doc], Doc]:
    """The outbox without `delivery` (its last attempt is done)."""
    return lambda doc: {"pending": [p for p in doc.get("pending", []) if p.get("delivery") != delivery]}


def signature(secret: str, body: bytes) -> str:
    """The `X-Mashang-Signature` value of `body`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class Webhook:
    def __init__(self, store: Store, settings: Settings, clock: Callable[[], datetime] = local_now) -> None:
        self.store = store
        self.url = settings.webhook_url
        self.secret = settings.webhook_secret
        self.attempts = max(1, settings.webhook_attempts)
        self.backoff = max(0.0, settings.webhook_backoff_seconds)
        self.timeout = settings.webhook_timeout_seconds
        self.clock = clock
        self._queue: asyncio.Queue[tuple[str, Doc]] = asyncio.Queue(QUEUE_SIZE)
        self._workers: list[asyncio.Task[None]] = []
        self._client: httpx.AsyncClient | None = None
        self._local_lock = asyncio.Lock()  # one read-change-write of a `_local` document at a time here

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
        for kept in (await self._read(OUTBOX_DOC)).get("pending", [])[:QUEUE_SIZE]:
            self._queue.put_nowait((str(kept["delivery"]), kept["alarm"]))  # left by a gateway that stopped

    async def stop(self) -> None:
        await cancel(*self._workers)
        self._workers = []
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def enqueue(self, alarm: Doc) -> None:
        """Queue a new alarm for delivery (the follower's `on_alarm` hook); returns at once."""
        if not self.configured:
            return
        delivery = new_ulid()
        if self._queue.full():
            await self._record(delivery, alarm, 0, None, "not delivered: the delivery queue is full")
            return
        shown = public(alarm)
        item = {"delivery": delivery, "alarm": shown}
        try:
            await self._update(OUTBOX_DOC, lambda doc: {"pending": [*doc.get("pending", []), item]})
        except CouchError:
            log.exception("webhook: the outbox could not be written; %s is delivered from memory", delivery)
        try:
            self._queue.put_nowait((delivery, shown))
        except asyncio.QueueFull:  # filled while the outbox was written: it stays there for the next start
            await self._record(delivery, alarm, 0, None, "queued for the next start: the delivery queue is full")

    async def _work(self) -> None:
        while True:
            delivery, alarm = await self._queue.get()
            try:
                await self.deliver(delivery, alarm)
                await self._update(OUTBOX_DOC, _without(delivery))
            except asyncio.CancelledError:
                raise  # still in the outbox: the next start delivers it
            except Exception:
                log.exception("webhook: delivery %s of %s failed", delivery, alarm.get("_id"))
            finally:
                self._queue.task_done()

    async def deliver(self, delivery: str, alarm: Doc) -> bool:
        """Try one delivery up to `attempts` times, waiting 1, 2, 4 ... × `backoff` seconds in between; each
        attempt is logged. True when the receiver answered 2xx."""
        assert self._client is not None and self.url is not None, "start() first"
        body = orjson.dumps({"event": "alarm.new", "delivery": delivery, "alarm": alarm})
        headers = {"Content-Type": "application/json", "X-Mashang-Delivery": delivery, "X-Mashang-Event": "alarm.new"}
        if self.secret:
            headers["X-Mashang-Signature"] = signature(self.secret, body)
        for attempt in range(1, self.attempts + 1):
            status: int | None = None
            try:
                response = await self._client.post(
                    self.url, content=body, headers={**headers, "X-Mashang-Attempt": str(attempt)}
                )
                status = response.status_code
                error = None if 200 <= status < 300 else f"HTTP {status}"
            except httpx.HTTPError as e:
                error = f"{type(e).__name__}: {e}"[:MAX_ERROR]
            await self._record(delivery, alarm, attempt, status, error)
            if error is None:
                return True
            if attempt < self.attempts:
                await asyncio.sleep(self.backoff * 2 ** (attempt - 1))
        return False

    async def drain(self) -> None:
        """Wait until every queued delivery is done (tests, shutdown scripts)."""
        await self._queue.join()

    # ----- the delivery log -----

    async def _record(self, delivery: str, alarm: Doc, attempt: int, status: int | None, error: str | None) -> None:
        entry = {
            "delivery": delivery,
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

    async def _update(self, local_id: str, change: Callable[[Doc], Doc]) -> None:
        """Read, change and write a `_local` document; again when another gateway wrote it in between."""
        async with self._local_lock:
            while True:
                current = await self._read(local_id)
                doc = change(current)
                if "_rev" in current:
                    doc["_rev"] = current["_rev"]
                try:
                    await self.store.put_local(local_id, doc)
                    return
                except CouchError as e:
                    if e.status != 409:
                        raise

    async def _read(self, local_id: str) -> Doc:
        try:
            return await self.store.get_local(local_id)
        except CouchError as e:
            if e.status == 404:
                return {}
            raise

    async def deliveries(self, limit: int = LOG_KEEP) -> list[Doc]:
        """The logged attempts, newest first."""
        entries = (await self._read(LOG_DOC)).get("entries", [])
        return list(reversed(entries))[:limit] if isinstance(entries, list) else []

    async def pending(self) -> list[str]:
        """The deliveries kept in the outbox (queued or being tried)."""
        return [str(p["delivery"]) for p in (await self._read(OUTBOX_DOC)).get("pending", [])]
