"""A real PouchDB 9 client for the tests: tests/node/replicate.mjs run with `node`, one JSON line per command.

`run_pouch(command)` runs one command (or `{"steps": [...]}`) in a fresh process; `PouchSession` keeps one
process, and so its in-memory local databases, across commands, which incremental pulls, live pulls and
checkpoint resumption need. See replicate.mjs for the commands.
"""

from __future__ import annotations

import base64
import hashlib
import json
import queue
import random
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from tests.gateway import NODE_DIR

HARNESS = NODE_DIR / "replicate.mjs"
POUCHDB = NODE_DIR / "node_modules" / "pouchdb"

Json = dict[str, Any]


class PouchError(AssertionError):
    pass


@dataclass(frozen=True)
class Remote:
    """A database PouchDB replicates with: its URL and the bearer token it needs (None: none)."""

    url: str
    token: str | None

    def step(self, op: str, **fields: object) -> Json:
        """A replicate.mjs step against this remote."""
        return {"op": op, "remote": self.url, "token": self.token, **fields}


def node_or_fail() -> str:
    """The `node` binary, after checking the harness's dependencies are installed (never a silent skip)."""
    node = shutil.which("node")
    if node is None:
        raise PouchError("`node` is not on PATH: install Node.js 20, then run `make install`")
    for needed in (POUCHDB, NODE_DIR / "node_modules" / "pouchdb-adapter-memory"):
        if not needed.exists():
            raise PouchError(f"{needed} is missing: run `make install` (npm ci in tests/node) first")
    return node


def run_pouch(command: Json, timeout: float = 120.0) -> Json:
    """Run one command in a fresh PouchDB process and return its JSON result."""
    proc = subprocess.run(
        [node_or_fail(), str(HARNESS)],
        input=json.dumps(command) + "\n",
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=NODE_DIR,
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.strip()]
    if not lines:
        raise PouchError(f"replicate.mjs printed nothing (exit {proc.returncode}): {proc.stderr[-2000:]}")
    result: Json = json.loads(lines[-1])
    return result


class PouchSession:
    """One PouchDB process that keeps its local databases between commands."""

    def __init__(self, timeout: float = 120.0) -> None:
        self.timeout = timeout
        self.proc = subprocess.Popen(
            [node_or_fail(), str(HARNESS)],
            cwd=NODE_DIR,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._stderr: list[str] = []
        threading.Thread(target=self._read_stdout, daemon=True).start()
        threading.Thread(target=self._read_stderr, daemon=True).start()

    def _read_stdout(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.strip():
                self._lines.put(line)
        self._lines.put(None)

    def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self._stderr.append(line)

    def send(self, command: Json) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(command) + "\n")
        self.proc.stdin.flush()

    def receive(self, timeout: float | None = None) -> Json:
        """The next line the harness prints: a command's result or an `{"event": ...}`."""
        try:
            line = self._lines.get(timeout=timeout or self.timeout)
        except queue.Empty:
            raise PouchError(
                f"no answer from PouchDB within {timeout or self.timeout}s; stderr: {''.join(self._stderr)[-2000:]}"
            ) from None
        if line is None:
            raise PouchError(f"PouchDB exited ({self.proc.poll()}): {''.join(self._stderr)[-2000:]}")
        out: Json = json.loads(line)
        return out

    def run(self, command: Json, timeout: float | None = None) -> Json:
        self.send(command)
        return self.receive(timeout)

    def close(self) -> None:
        if self.proc.stdin is not None and not self.proc.stdin.closed:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()

    def __enter__(self) -> PouchSession:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def checked(result: Json, what: str = "PouchDB") -> Json:
    """`result`, after failing the test with PouchDB's own words when it did not go through."""
    if not result.get("ok"):
        raise PouchError(f"{what} failed: {json.dumps(result, ensure_ascii=False)[:3000]}")
    return result


# ----- documents like the ones phones write -----

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def ulid(rng: random.Random | None = None, at_ms: int | None = None) -> str:
    """A ULID-shaped key: 10 characters of milliseconds, 16 of randomness."""
    r = rng or random.Random()
    ms = at_ms if at_ms is not None else int(time.time() * 1000)
    head = "".join(_CROCKFORD[(ms >> (5 * i)) & 31] for i in reversed(range(10)))
    return head + "".join(r.choice(_CROCKFORD) for _ in range(16))


ITEMS = [
    "open_flame",
    "sleeping_people",
    "three_in_one",
    "escape_route",
    "extinguisher_present",
    "extinguisher_valid",
    "rcd_installed",
    "ebike_indoor_charging",
    "gas_safe",
    "wiring_ok",
]


def self_check(shop: str, rng: random.Random, seq: int = 0) -> Json:
    """A weekly self-check as the owner's phone writes it (about 600 bytes of JSON)."""
    key = ulid(rng, 1_764_000_000_000 + seq * 1000)
    return {
        "_id": f"{shop}:self_check:{key}",
        "type": "self_check",
        "schema": 1,
        "shop": shop,
        "template": "district:template:fire-gas",
        "template_version": 1,
        "performed_at": "2026-11-28T09:30:00+08:00",
        "created_by": f"owner:{shop}",
        "device": "d-7f3a",
        "answers": {item: {"value": rng.random() < 0.9} for item in ITEMS},
        "note": "店内通道畅通，灭火器在有效期内",
    }


def shops(n: int) -> list[str]:
    return [f"S{i:04d}" for i in range(1, n + 1)]


def attachment(data: bytes, content_type: str = "image/jpeg") -> Json:
    return {"content_type": content_type, "data": base64.b64encode(data).decode()}


def md5_digest(data: bytes) -> str:
    """CouchDB's attachment digest: `md5-` and the base64 of the MD5 of the bytes."""
    return "md5-" + base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode()
