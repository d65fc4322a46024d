"""A flaky network for the tests: a TCP proxy on 127.0.0.1 in front of a real gateway that cuts some HTTP exchanges
at a seeded-random byte, the way a phone's signal drops mid-upload or mid-download.

It forwards bytes as they come and reads just enough HTTP/1.1 framing (a head, then a Content-Length or chunked
body) to know where each request and answer starts and ends. Exchange number n (counted across connections, in the
order they start) is planned by `random.Random(f"{seed}/{n}")`, so a seed replays the same plan for the same
sequence of requests. A planned exchange is cut in one of these ways, by closing both sockets (with a reset or a
plain close, also drawn):

- `request`: after a random share of the request was forwarded (mid-head or mid-body): the gateway never gets it
  whole, and nothing may be written;
- `hangup`: right after the whole request was forwarded, before any answer: the gateway does the work for nobody;
- `late`: the client's side is cut once the whole request is in, and the request reaches the gateway 1-2.5 s later
  (held on the way, as by a congested link or a buffering proxy): the phone has sent it again meanwhile, so the
  gateway gets the same batch twice, the second time racing or following the first;
- `answer`: once the gateway has answered in full, the client gets a random share of the answer, none included:
  what was acknowledged on the server is not acknowledged on the phone;
- `stream`: partway through an answer as it streams (a photo, a longpoll), the gateway still writing;
- `after`: right after the whole answer went through: the phone has its answer, and the gateway, which may still
  be finishing the request (the end of a streamed answer, work after it), sees the connection go.

The first requests of each kind named in `every_way` (the uploads, whose acknowledgement is the promise) are cut each
of these ways once, in `EVERY_WAY_ORDER`, so that every way is tried where it matters; the others are cut at random.
Cuts are bounded: `fraction` of the other exchanges, `max_cuts` in all, none after `window` seconds, so the
replications that retry through it always finish. Only loopback, both sides.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
import socket
import struct
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType

MODES = ("request", "hangup", "late", "answer", "stream", "after")
# The order `every_way` tries them in: first those after which the gateway holds what the phone believes it does not
# (and sends again), or what it believes is there and may not be, then the rest.
EVERY_WAY_ORDER = ("late", "after", "answer", "hangup", "stream", "request")
LOOPBACK = "127.0.0.1"


class Cut(Exception):
    """The planned cut of an exchange: both sockets are closed."""

    def __init__(self, exchange: Exchange) -> None:
        super().__init__(exchange.n)
        self.exchange = exchange


class Late(Cut):
    """A `late` exchange: the client's side is closed, and `request` is delivered to the gateway later."""

    def __init__(self, exchange: Exchange, request: bytes) -> None:
        super().__init__(exchange)
        self.request = request


@dataclass(frozen=True)
class Plan:
    mode: str | None  # None: forwarded as it is
    share: float  # where, as a share of the message (or of 64 KB for a streamed answer of unknown length)
    reset: bool  # an RST instead of a FIN


@dataclass
class Exchange:
    n: int
    plan: Plan
    request: str = ""  # "POST /sync/_bulk_docs"
    at: float = 0.0  # seconds since the proxy started
    status: str = ""
    cut_at: int | None = None  # the byte of the message (request or answer) it was cut at
    size: int | None = None  # that message's size, where known


@dataclass
class FlakyProxy:
    """Listens on 127.0.0.1:`port` (chosen by the system) and forwards to 127.0.0.1:`upstream_port`, cutting as
    planned. Use as a context manager; `exchanges` lists what went through, `cuts` the ones it cut."""

    upstream_port: int
    seed: int
    fraction: float = 0.25
    max_cuts: int = 60
    window: float = 60.0
    modes: tuple[str, ...] = MODES
    # Kinds of request, by name, each cut every way at least once: whether a request (its "METHOD /path" and its
    # size, where the head gives it) is of the kind.
    every_way: Mapping[str, Callable[[str, int | None], bool]] = field(default_factory=dict)
    port: int = 0
    exchanges: list[Exchange] = field(default_factory=list)
    _loop: asyncio.AbstractEventLoop | None = None
    _stop: asyncio.Event | None = None
    _server: asyncio.Server | None = None
    _marks: list[tuple[int, str]] = field(default_factory=list)
    _late: int = 0  # late requests on their way
    _ways: dict[str, list[str]] = field(default_factory=dict)  # the ways each kind in `every_way` is still to be cut
    _open: set[asyncio.StreamWriter] = field(default_factory=set)
    _handlers: set[asyncio.Task[None]] = field(default_factory=set)
    _thread: threading.Thread | None = None
    _started: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def cuts(self) -> list[Exchange]:
        return [e for e in self.exchanges if e.cut_at is not None]

    def quiet(self, timeout: float = 10.0) -> None:
        """Wait until no `late` request is on its way any more (each is delivered within 2.5 s and answered)."""
        deadline = time.monotonic() + timeout
        while self._late:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self._late} late requests still on their way after {timeout} s")
            time.sleep(0.05)

    def mark(self, label: str) -> None:
        """Name what the exchanges from here on are for (a phone's push, a fresh pull), in the report."""
        with self._lock:
            self._marks.append((len(self.exchanges), label))

    def report(self) -> str:
        """The seed and every cut, for a failure message: enough to replay and to see what the network did."""
        lines = [f"flaky proxy seed={self.seed}: {len(self.cuts)} cuts in {len(self.exchanges)} exchanges"]
        marks = list(self._marks)
        for e in self.exchanges:
            while marks and marks[0][0] <= e.n:
                lines.append(f" {marks.pop(0)[1]}:")
            if e.cut_at is not None:
                where = f"byte {e.cut_at}/{e.size}" if e.size is not None else f"byte {e.cut_at}"
                lines.append(f"  #{e.n} +{e.at:.1f}s {e.request} {e.plan.mode} at {where} {e.status}".rstrip())
        return "\n".join(lines)

    # ----- life -----

    def __enter__(self) -> FlakyProxy:
        ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(ready,), name="flaky-proxy", daemon=True)
        self._thread.start()
        if not ready.wait(10) or self._server is None:
            raise RuntimeError("the flaky proxy did not start")
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(timeout=15)

    def _run(self, ready: threading.Event) -> None:
        with asyncio.Runner() as runner:
            self._loop = runner.get_loop()
            runner.run(self._main(ready))
        ready.set()

    async def _main(self, ready: threading.Event) -> None:
        self._stop = asyncio.Event()
        self._server = await asyncio.start_server(self._serve, LOOPBACK, 0)
        self.port = self._server.sockets[0].getsockname()[1]
        self._started = time.monotonic()
        ready.set()
        await self._stop.wait()
        # Hang up on every connection still open (a longpoll, an idle keep-alive): each handler then ends by itself.
        self._server.close()
        for writer in list(self._open):
            writer.transport.abort()
        if self._handlers:
            await asyncio.wait(set(self._handlers), timeout=10)

    # ----- planning -----

    def _plan(self, request: str, size: int | None) -> Exchange:
        """The next exchange's plan, drawn from the seed and its number alone; the first exchanges of each kind in
        `every_way` are cut each way once, in `EVERY_WAY_ORDER`."""
        with self._lock:
            n = len(self.exchanges)
            rng = random.Random(f"{self.seed}/{n}")
            cut = rng.random() < self.fraction
            mode, share, reset = rng.choice(self.modes), rng.random(), rng.random() < 0.5
            kind = next((name for name, like in self.every_way.items() if like(request, size)), None)
            if kind is not None:
                ways = self._ways.setdefault(kind, [m for m in EVERY_WAY_ORDER if m in self.modes])
                if ways:
                    cut, mode = True, ways.pop(0)
            in_window = time.monotonic() - self._started < self.window
            if cut and in_window and len(self.cuts) < self.max_cuts:
                plan = Plan(mode, share, reset)
            else:
                plan = Plan(None, share, reset)
            exchange = Exchange(n, plan, request, round(time.monotonic() - self._started, 3))
            self.exchanges.append(exchange)
            return exchange

    # ----- forwarding -----

    async def _serve(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        self._open.add(client_w)
        up_w: asyncio.StreamWriter | None = None
        try:
            up_r, up_w = await asyncio.open_connection(LOOPBACK, self.upstream_port)
            self._open.add(up_w)
            while (exchange := await self._request(client_r, up_w)) is not None:
                await self._answer(exchange, up_r, client_w)
        except Late as late:
            _close(client_w, late.exchange.plan.reset)
            if up_w is not None:
                with contextlib.suppress(OSError, asyncio.IncompleteReadError, ValueError):
                    await self._deliver_late(late, up_r, up_w)
        except Cut as cut:
            _close(client_w, cut.exchange.plan.reset)
            if up_w is not None:
                _close(up_w, cut.exchange.plan.reset)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            pass  # either side went away (or spoke something else): end the connection as it is
        finally:
            for writer in (client_w, up_w):
                if writer is not None:
                    self._open.discard(writer)
                    writer.close()
                    with contextlib.suppress(OSError):
                        await writer.wait_closed()
            self._handlers.discard(task)

    async def _request(self, reader: asyncio.StreamReader, up: asyncio.StreamWriter) -> Exchange | None:
        """Forward one request (or cut it as planned); None when the client closed instead of sending one."""
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError as e:
            if not e.partial:
                return None
            raise
        except asyncio.LimitOverrunError:
            raise ValueError("request head too long") from None
        line, headers = _parse_head(head)
        length = _content_length(headers)
        exchange = self._plan(" ".join(line.split(" ")[:2]), length)
        if exchange.plan.mode == "late":
            held = _Buffer()
            await _forward(head, reader, headers, held, response=False)
            exchange.cut_at = exchange.size = len(held.data)
            raise Late(exchange, bytes(held.data))
        size = len(head) + (length if length is not None else 0)
        limit = math.floor(exchange.plan.share * size) if exchange.plan.mode == "request" else None
        sent = await _forward(head, reader, headers, _Sink(up, exchange, limit, size), response=False)
        if exchange.plan.mode == "hangup":
            exchange.cut_at = exchange.size = sent
            raise Cut(exchange)
        return exchange

    async def _answer(self, exchange: Exchange, up_r: asyncio.StreamReader, client: asyncio.StreamWriter) -> None:
        head, headers, bodyless = await _answer_head(exchange, up_r)
        if exchange.plan.mode == "answer":
            whole = _Buffer()
            await _forward(head, up_r, headers, whole, response=True, bodyless=bodyless)  # answered in full
            cut = math.floor(exchange.plan.share * len(whole.data))
            await _Sink(client, exchange, cut, len(whole.data)).write(bytes(whole.data))
        length = _content_length(headers)
        size = len(head) + length if length is not None and not bodyless else None
        limit = None
        if exchange.plan.mode == "stream":
            # A streamed answer of unknown length (chunked: a longpoll, a feed) is cut within its first 64 KB.
            limit = math.floor(exchange.plan.share * (size if size is not None else 65536))
        sent = await _forward(
            head, up_r, headers, _Sink(client, exchange, limit, size), response=True, bodyless=bodyless
        )
        if exchange.plan.mode == "after":
            exchange.cut_at = exchange.size = sent
            raise Cut(exchange)
        if _closes(headers):
            raise OSError("the gateway closes this connection")

    async def _deliver_late(self, late: Late, up_r: asyncio.StreamReader, up_w: asyncio.StreamWriter) -> None:
        """The request the phone gave up on reaches the gateway after a while (1-2.5 s, drawn), in full; its
        answer goes nowhere."""
        self._late += 1
        try:
            await asyncio.sleep(1 + 1.5 * late.exchange.plan.share)
            up_w.write(late.request)
            await up_w.drain()
            head, headers, bodyless = await _answer_head(late.exchange, up_r)
            await _forward(head, up_r, headers, _Buffer(), response=True, bodyless=bodyless)
        finally:
            self._late -= 1


async def _answer_head(exchange: Exchange, up_r: asyncio.StreamReader) -> tuple[bytes, dict[str, str], bool]:
    """The answer's head, its headers, and whether it has no body; notes its status on the exchange."""
    try:
        head = await up_r.readuntil(b"\r\n\r\n")
    except asyncio.LimitOverrunError:
        raise ValueError("answer head too long") from None
    line, headers = _parse_head(head)
    exchange.status = line.split(" ")[1] if " " in line else line
    bodyless = exchange.request.startswith("HEAD ") or exchange.status in ("204", "304")
    return head, headers, bodyless


class _Buffer:
    def __init__(self) -> None:
        self.data = bytearray()

    async def write(self, piece: bytes) -> None:
        self.data += piece


class _Sink:
    """Where a message goes: written on, until `limit` bytes (if any), where the exchange is cut."""

    def __init__(self, writer: asyncio.StreamWriter, exchange: Exchange, limit: int | None, size: int | None) -> None:
        self.writer, self.exchange, self.limit, self.size = writer, exchange, limit, size
        self.sent = 0

    async def write(self, piece: bytes) -> None:
        if self.limit is not None and self.sent + len(piece) >= self.limit:
            self.writer.write(piece[: self.limit - self.sent])
            await self.writer.drain()
            self.exchange.cut_at, self.exchange.size = self.limit, self.size
            raise Cut(self.exchange)
        self.writer.write(piece)
        await self.writer.drain()
        self.sent += len(piece)


def _close(writer: asyncio.StreamWriter, reset: bool) -> None:
    sock = writer.get_extra_info("socket")
    if reset and sock is not None:
        with contextlib.suppress(OSError):  # SO_LINGER 0: close with an RST, as a dropped mobile link often ends
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


def _parse_head(head: bytes) -> tuple[str, dict[str, str]]:
    lines = head.decode("latin-1").split("\r\n")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    return lines[0], headers


def _content_length(headers: dict[str, str]) -> int | None:
    if "chunked" in headers.get("transfer-encoding", "").lower():
        return None
    value = headers.get("content-length")
    return int(value) if value is not None else None


def _closes(headers: dict[str, str]) -> bool:
    return "close" in headers.get("connection", "").lower()


async def _forward(
    head: bytes,
    reader: asyncio.StreamReader,
    headers: dict[str, str],
    sink: _Sink | _Buffer,
    *,
    response: bool,
    bodyless: bool = False,
) -> int:
    """Write the message's head, then its body piece by piece as it arrives, to `sink`, up to where the message
    ends (or the sink cuts it); answers its size."""
    await sink.write(head)
    size = len(head)
    if bodyless:
        return size
    if "chunked" in headers.get("transfer-encoding", "").lower():
        while True:
            size_line = await reader.readuntil(b"\r\n")
            await sink.write(size_line)
            size += len(size_line)
            chunk = int(size_line.split(b";")[0].strip(), 16)
            if chunk == 0:
                while True:
                    trailer = await reader.readuntil(b"\r\n")
                    await sink.write(trailer)
                    size += len(trailer)
                    if trailer == b"\r\n":
                        return size
            piece = await reader.readexactly(chunk + 2)
            await sink.write(piece)
            size += len(piece)
    length = _content_length(headers)
    if length is None and not response:
        return size
    while length is None or length > 0:  # no length: the answer ends when the gateway closes the connection
        piece = await reader.read(65536 if length is None else min(length, 65536))
        if not piece:
            if length is None:
                return size
            raise asyncio.IncompleteReadError(b"", length)
        await sink.write(piece)
        size += len(piece)
        if length is not None:
            length -= len(piece)
    return size
