"""Real servers for the tests: `mashang serve` in its own process, on a free loopback port."""

from __future__ import annotations

import itertools
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
NODE_DIR = ROOT / "tests" / "node"


# The ports `free_port` hands out: below Linux's ephemeral range (32768-60999), so no outgoing connection takes one
# between the check here and the server's own bind, taken in turn, so no two servers of a test are handed the same
# one, and from a band of their own for each pytest `make test-parallel` runs side by side (tests/split_run.py sets it),
# shared out again among a part's pytest-xdist workers (`gw0`, `gw1`, ...).
PORT_BAND = 1500
_next_port = itertools.count()


def port_band() -> tuple[int, int]:
    """The lowest port this process may hand out and how many from there."""
    low = int(os.environ.get("MASHANG_TEST_PORTS", "20000"))
    worker, workers = os.environ.get("PYTEST_XDIST_WORKER", ""), os.environ.get("PYTEST_XDIST_WORKER_COUNT", "")
    if not worker.startswith("gw") or not workers.isdigit():
        return low, PORT_BAND
    size = PORT_BAND // int(workers)
    return low + int(worker[2:]) * size, size


def free_port() -> int:
    low, size = port_band()
    for _ in range(size):
        port = low + next(_next_port) % size
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue  # in use, or still closing
            return port
    raise RuntimeError(f"no free port in {low}-{low + size - 1}")


def wait_http(url: str, timeout: float = 20.0, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before answering {url}")
        try:
            httpx.get(url, timeout=1.0)
            return
        except httpx.HTTPError:
            time.sleep(0.05)
    raise RuntimeError(f"no answer from {url} within {timeout}s")


def mashang(*args: str, env: dict[str, str] | None = None) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "server.cli", *args],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
    )
    return out.stdout


class Gateway:
    """A `mashang serve` process; `kill()` is a kill -9, `start()` again restarts on the same data."""

    def __init__(
        self,
        data_dir: Path,
        couchdb_url: str | None = None,
        env: dict[str, str] | None = None,
        serve_args: Sequence[str] = (),
    ) -> None:
        self.data_dir = data_dir
        self.serve_args = list(serve_args)  # more options of `mashang serve`
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = dict(env or {})
        self.store_args = ["--couchdb", couchdb_url] if couchdb_url else ["--data", str(data_dir)]
        self.proc: subprocess.Popen[bytes] | None = None
        self.rewrites_revpos = False  # true for a store that does not keep a replicated attachment's revpos
        self.token = mashang("admin-token", *self.store_args, env=self.env).strip().splitlines()[-1]

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def start(self) -> Gateway:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "server.cli",
                "serve",
                "--port",
                str(self.port),
                "--log-level",
                "warning",
                *self.store_args,
                *self.serve_args,
            ],
            cwd=ROOT,
            env={**os.environ, **self.env},
        )
        wait_http(f"{self.url}/sync/", proc=self.proc)
        return self

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
        self.proc = None

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
        self.proc = None

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers=self.headers, timeout=30)
