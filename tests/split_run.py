"""`make test-parallel`'s pytest, in two parts side by side: the browser tests (tests/browser), in one process, and
all the others, spread over two processes by pytest-xdist (a test file's tests stay together in one).

Run serially, the suite keeps about one of the machine's cores busy: most of a test's time is a gateway, Chromium or
pouchdb-server starting, answering or timing out. The two parts in one process each took 11.1 min where `make test`
takes ~16 on this 2-core machine at its quickest (2026-12-02), and 26 min on a fresh clone in CI's run of that day, over
its 25-minute budget: the machine's speed moves 2-3x from one day to another. Spread over 2 + 2 processes the same suite
took 9.6 min beside the first measure, with both cores busy most of the time; 2 + 3 took 9.3. But three of five
fresh-clone runs with two Chromiums or three other processes each failed a test that had held until then (two bounded a
time and now wait for their condition; a patrol's flash never came in one), while the browser part alone in one process
takes about as long as the others over two (8.6 min): so the browser tests keep one process, in order, and the others
get two. A test that fails only with much other work on the machine bounded a time; it is made to wait for its condition
instead (README, "make test-parallel"). The browser tests are a part of their own: Playwright's sync API keeps an event
loop running in the main thread while its session-wide browser is open (tests/conftest.py), so no asyncio test may run
in a process that has one (and with `MASHANG_TEST_WORKERS` each of the part's processes has its own Chromium). Each part
has its own band of ports (tests/gateway.py `free_port`), shared out among its processes, and its own pytest cache.

    python -m tests.split_run [pytest options ...]

The options go to both parts. Each line a part prints is prefixed with its name; the exit status is the first
failing part's (a part none of whose tests the options select does not fail), and each part's summary is repeated
at the end, so a failure is not lost in the other's output.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.gateway import PORT_BAND, ROOT


@dataclass
class Part:
    name: str
    args: list[str]
    ports: int
    last_lines: list[str] = field(default_factory=list)
    took: float = 0.0
    status: int = 0


NO_TESTS = 5  # pytest's exit status when no test was selected


def _xdist(workers: int) -> list[str]:
    """pytest-xdist's options for `workers` processes, a test file's tests kept together in one (its module's
    fixtures are set up once); `MASHANG_TEST_WORKERS=0` runs each part in its own process alone."""
    workers = int(os.environ.get("MASHANG_TEST_WORKERS", workers))
    return ["-n", str(workers), "--dist", "loadfile"] if workers else []


PARTS = [
    Part("browser", ["tests/browser", *_xdist(0)], 20000),
    Part("other", ["tests", "--ignore=tests/browser", *_xdist(2)], 20000 + PORT_BAND),
]


def _run(part: Part, options: list[str], out: threading.Lock) -> None:
    started = time.monotonic()
    env = {**os.environ, "MASHANG_TEST_PORTS": str(part.ports), "PYTHONUNBUFFERED": "1"}
    # Each its own cache: the second to finish would write its `--lf` record over the first's.
    cache = [] if "no:cacheprovider" in options else ["-o", f"cache_dir={Path('.pytest_cache') / part.name}"]
    command = [sys.executable, "-m", "pytest", *cache, *part.args, *options]
    with subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT) as proc:
        assert proc.stdout is not None
        for raw in proc.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            part.last_lines = [*part.last_lines[-2:], line]
            with out:
                print(f"[{part.name}] {line}", flush=True)
        part.status = proc.wait()
    part.took = time.monotonic() - started


def main(options: list[str]) -> int:
    out = threading.Lock()
    threads = [threading.Thread(target=_run, args=(part, options, out)) for part in PARTS]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print()
    for part in PARTS:
        summary = next((line for line in reversed(part.last_lines) if line.strip()), "(no output)")
        print(f"[{part.name}] {summary} (exit {part.status}, {part.took:.0f} s)")
    if all(part.status == NO_TESTS for part in PARTS):
        return NO_TESTS
    # Options that select tests of one part only (-k, a path) leave the other with none: that is no failure.
    return next((part.status for part in PARTS if part.status not in (0, NO_TESTS)), 0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
