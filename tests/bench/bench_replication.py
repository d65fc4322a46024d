"""Replication benchmark: a real PouchDB 9 client pushes and pulls self-checks through the gateway (embedded
SQLite store) and through pouchdb-server (in memory), in the same run, and prints a table.

Run with `make bench`. Targets: a push takes at most half pouchdb-server's time (ratio <= 0.5); a pull needs
at most 3 HTTP requests per 100 documents. Options are the PWA's: pull batch_size 200, push batch_size 100
(a bigger push batch is measured too, to show whether it would be worth it), and the client keeps its HTTP
connections open between requests, as the phone's browser does (`--close` opens one per request instead, what
PouchDB's node-fetch does by default).

A floor is measured beside the push, in the same run: the push to `null_peer.py`, the gateway's stack (uvicorn
and Starlette) doing no work at all. Its ratio to pouchdb-server is the lowest a gateway on that stack can reach.
So is the push to a second pouchdb-server that keeps its data on disk (LevelDB, its default; it does not fsync, so
it survives a killed process like the gateway but not a power cut, which the gateway does): the comparison of two
servers that both keep what they acknowledged, printed beside the target's.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # run as a script: make the tests package importable
    sys.path.insert(0, str(ROOT))

from tests.gateway import NODE_DIR, Gateway, free_port, wait_http  # noqa: E402
from tests.pouch import Json, PouchSession, Remote, checked, node_or_fail, self_check, shops  # noqa: E402

# The sync core is measured as a gateway of the scale-out setup: validators in their own `mashang worker`
# process (MASHANG_VALIDATORS=0). With them in the same process they compete for the GIL with every request;
# `--with-validators` measures that too.
GATEWAY_ENV = {"MASHANG_VALIDATORS": "0"}
PULL_BATCH = 200
PUSH_BATCH = 100
BIG_PUSH_BATCH = 500
SIZES = (2_000, 10_000)
SHOPS = shops(100)
KEEP_ALIVE = [True]
# The floor (see the module's text): a push target that does no work.
FLOOR = "floor: null peer"
DISK = "pouchdb-srv disk"  # pouchdb-server on LevelDB


@dataclass
class Row:
    docs: int
    op: str
    server: str
    batch: int
    seconds: float
    requests: int
    # Milliseconds spent waiting for each endpoint's answers ("POST _bulk_docs": ...), and request counts.
    waits: dict[str, float]
    counts: dict[str, int]

    @property
    def rate(self) -> float:
        return self.docs / self.seconds

    @property
    def per_100(self) -> float:
        return 100 * self.requests / self.docs


class NullPeer:
    """`null_peer.py` in its own process: a push target that does no work (the floor of the gateway's stack)."""

    def __init__(self) -> None:
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        script = Path(__file__).with_name("null_peer.py")
        self.proc = subprocess.Popen([sys.executable, str(script), str(port)])
        wait_http(self.url + "/sync/", timeout=30, proc=self.proc)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


class PouchdbServer:
    """pouchdb-server in memory (or on LevelDB in its folder), in a scratch folder (it writes config.json and log.txt
    where it runs)."""

    def __init__(self, workdir: Path, in_memory: bool = True) -> None:
        binary = NODE_DIR / "node_modules" / ".bin" / "pouchdb-server"
        if not binary.exists():
            raise SystemExit(f"{binary} is missing: run `make install` first")
        self.url = f"http://127.0.0.1:{free_port()}"
        folder = workdir / ("pouchdb-server" if in_memory else "pouchdb-server-disk")
        folder.mkdir(exist_ok=True)
        self._log = (folder / "pouchdb-server.log").open("wb")
        memory = ["--in-memory"] if in_memory else []
        self.proc = subprocess.Popen(
            [str(binary), *memory, "--host", "127.0.0.1", "--port", self.url.rsplit(":", 1)[1]],
            cwd=folder,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        wait_http(self.url + "/", timeout=30, proc=self.proc)

    def database(self, name: str) -> Remote:
        httpx.put(f"{self.url}/{name}", timeout=10).raise_for_status()
        return Remote(f"{self.url}/{name}", None)

    def drop(self, remote: Remote) -> None:
        httpx.delete(remote.url, timeout=30)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._log.close()


def replicate(pouch: PouchSession, remote: Remote, op: str, db: str, batch: int, expect: int) -> Json:
    step = remote.step(op, db=db, batch_size=batch, keep_alive=KEEP_ALIVE[0])
    out = checked(pouch.run(step, timeout=600), f"{op} {remote.url}")
    if out["docs_written"] != expect or out["doc_write_failures"]:
        raise SystemExit(f"{op} to {remote.url} wrote {out['docs_written']} of {expect}: {out}")
    return out


def measure(pouch: PouchSession, remote: Remote, server: str, op: str, db: str, batch: int, n: int) -> Row:
    out = replicate(pouch, remote, op, db, batch, n)
    req = out["requests"]
    return Row(n, op, server, batch, out["ms"] / 1000, req["total"], req["ms"], req["by"])


def run_size(n: int, workdir: Path, peer: PouchdbServer, disk: PouchdbServer, big_push: bool, run: int) -> list[Row]:
    """Push n self-checks from one phone to each server, pull them into fresh phones; the order of the two
    servers alternates between runs so that neither always runs on a warmer client."""
    rng = random.Random(n)
    docs = [self_check(rng.choice(SHOPS), rng, i) for i in range(n)]
    rows: list[Row] = []
    batches = [PUSH_BATCH, BIG_PUSH_BATCH] if big_push else [PUSH_BATCH]
    for batch in batches:
        gw = Gateway(workdir / f"gateway-{n}-{batch}-{run}" / "data", env=GATEWAY_ENV).start()
        dbs = {
            "gateway+sqlite": Remote(f"{gw.url}/sync", gw.token),
            "pouchdb-server": peer.database(f"b-{n}-{batch}-{run}"),
        }
        order = sorted(dbs, reverse=run % 2 == 1)
        null = NullPeer() if batch == PUSH_BATCH else None
        floors = {FLOOR: Remote(f"{null.url}/sync", None)} if null else {}
        if batch == PUSH_BATCH:
            floors[DISK] = disk.database(f"b-{n}-{batch}-{run}")
        try:
            with PouchSession(timeout=600) as pouch:
                checked(pouch.run({"op": "put", "db": "phone", "docs": docs}, timeout=300), "local put")
                for remote in [*dbs.values(), *floors.values()]:  # a fresh server's first requests: not measured
                    replicate(pouch, remote, "push", "empty", batch, 0)
                rows += [measure(pouch, dbs[name], name, "push", "phone", batch, n) for name in order]
                rows += [measure(pouch, remote, name, "push", "phone", batch, n) for name, remote in floors.items()]
                if batch == PUSH_BATCH:
                    rows += [measure(pouch, dbs[name], name, "pull", f"pulled-{name}", PULL_BATCH, n) for name in order]
        finally:
            gw.stop()
            peer.drop(dbs["pouchdb-server"])
            if DISK in floors:
                disk.drop(floors[DISK])
            if null is not None:
                null.stop()
    return rows


def fastest(runs: list[list[Row]]) -> list[Row]:
    """Of repeated runs, the fastest of each measurement: the machine's other work only ever slows a run."""
    best: dict[tuple[str, str, int], Row] = {}
    for row in (r for run in runs for r in run):
        key = (row.op, row.server, row.batch)
        if key not in best or row.seconds < best[key].seconds:
            best[key] = row
    return list(best.values())


def warm_up(workdir: Path, peer: PouchdbServer, disk: PouchdbServer) -> None:
    """A small round first, so that the client and pouchdb-server do not pay their start-up costs in the measured
    runs (each run's fresh gateway and null peer get an empty push before it is measured, in `run_size`)."""
    rng = random.Random(0)
    docs = [self_check(rng.choice(SHOPS), rng, i) for i in range(200)]
    gw = Gateway(workdir / "warm-up" / "data", env=GATEWAY_ENV).start()
    try:
        with PouchSession(timeout=120) as pouch:
            checked(pouch.run({"op": "put", "db": "phone", "docs": docs}), "local put")
            for remote in (Remote(f"{gw.url}/sync", gw.token), peer.database("warm-up"), disk.database("warm-up")):
                replicate(pouch, remote, "push", "phone", PUSH_BATCH, len(docs))
                replicate(pouch, remote, "pull", f"pulled-{remote.url}", PULL_BATCH, len(docs))
    finally:
        gw.stop()


def report(rows: list[Row]) -> bool:
    print(f"{'docs':>6}  {'op':<4}  {'server':<17} {'batch':>5}  {'seconds':>7}  {'docs/s':>7}  ", end="")
    print(f"{'requests':>8}  {'req/100 docs':>12}")
    for r in rows:
        print(f"{r.docs:>6}  {r.op:<4}  {r.server:<17} {r.batch:>5}  {r.seconds:>7.2f}  {r.rate:>7.0f}  ", end="")
        print(f"{r.requests:>8}  {r.per_100:>12.2f}")
    print()
    by = {(r.docs, r.op, r.server, r.batch): r for r in rows}
    verdicts = []
    for n in sorted({r.docs for r in rows}):
        for op, batch, target in (
            ("push", PUSH_BATCH, 0.5),
            ("push", BIG_PUSH_BATCH, None),
            ("pull", PULL_BATCH, None),
        ):
            gw, peer = by.get((n, op, "gateway+sqlite", batch)), by.get((n, op, "pouchdb-server", batch))
            if gw is None or peer is None:
                continue
            ratio = gw.seconds / peer.seconds
            goal = f"   target <= {target}: {'met' if ratio <= target else 'MISSED'}" if target else ""
            print(f"{n:>6} {op} batch {batch:>3}: time gateway / pouchdb-server = {ratio:.2f}{goal}")
            if target:
                verdicts.append(ratio <= target)
            floor = by.get((n, op, FLOOR, batch))
            if floor is not None:
                print(f"{n:>6} push batch {batch:>3}: time null peer / pouchdb-server = ", end="")
                print(f"{floor.seconds / peer.seconds:.2f}   (the lowest ratio a gateway on uvicorn can reach)")
            durable = by.get((n, op, DISK, batch))
            if durable is not None:
                print(f"{n:>6} push batch {batch:>3}: time gateway / pouchdb-server on disk = ", end="")
                print(f"{gw.seconds / durable.seconds:.2f}   (both keep what they acknowledged)")
        pull = by.get((n, "pull", "gateway+sqlite", PULL_BATCH))
        if pull is not None:
            met = pull.per_100 <= 3
            verdicts.append(met)
            print(f"{n:>6} pull through the gateway: {pull.per_100:.2f} requests per 100 documents   ", end="")
            print(f"target <= 3: {'met' if met else 'MISSED'}")
    print()
    largest = max(r.docs for r in rows)
    print(f"Where the time goes at {largest} documents: ms waiting per request (requests made)")
    for op, batch in (("push", PUSH_BATCH), ("push", BIG_PUSH_BATCH), ("pull", PULL_BATCH)):
        gw, peer = by.get((largest, op, "gateway+sqlite", batch)), by.get((largest, op, "pouchdb-server", batch))
        if gw is None or peer is None:
            continue
        if op == "push":  # a pull overlaps its requests (the next _changes while _bulk_get runs)
            print(f"  {op} batch {batch}: client side (total minus waits) gateway {_client_ms(gw):.0f} ms, ", end="")
            print(f"pouchdb-server {_client_ms(peer):.0f} ms")
        else:
            print(f"  {op} batch {batch}: (requests overlap)")
        for endpoint in sorted(gw.counts, key=lambda e: -gw.waits.get(e, 0)):
            g, p = _per_request(gw, endpoint), _per_request(peer, endpoint)
            print(f"    {endpoint:<18} gateway {g:7.1f} ms ({gw.counts[endpoint]:>4})   ", end="")
            print(f"pouchdb-server {p:7.1f} ms ({peer.counts.get(endpoint, 0):>4})")
    ok = all(verdicts)
    print()
    print("all targets met" if ok else "some targets MISSED")
    return ok


def _load() -> str:
    """The machine's 1-minute load average: pouchdb-server (Node) slows down more than the gateway on a busy
    machine, so the ratios of a loaded run flatter the gateway; compare runs made on an idle machine."""
    return f"{os.getloadavg()[0]:.2f} (cores: {os.cpu_count()})"


def _client_ms(row: Row) -> float:
    return row.seconds * 1000 - sum(row.waits.values())


def _per_request(row: Row, endpoint: str) -> float:
    count = row.counts.get(endpoint, 0)
    return row.waits.get(endpoint, 0.0) / count if count else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--repeat", type=int, default=2, help="runs of each measurement; the fastest is kept")
    parser.add_argument("--no-big-push", action="store_true", help=f"skip the push with batch_size {BIG_PUSH_BATCH}")
    parser.add_argument("--with-validators", action="store_true", help="run the validators inside the gateway")
    parser.add_argument("--close", action="store_true", help="a new HTTP connection for every request")
    args = parser.parse_args()
    KEEP_ALIVE[0] = not args.close
    if args.with_validators:
        GATEWAY_ENV["MASHANG_VALIDATORS"] = "1"
    node_or_fail()
    print(f"load average at the start {_load()}")
    started = time.monotonic()
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="mashang-bench-") as tmp:
        workdir = Path(tmp)
        peer, disk = PouchdbServer(workdir), PouchdbServer(workdir, in_memory=False)
        try:
            warm_up(workdir, peer, disk)
            for i, n in enumerate(args.sizes):
                runs = [
                    run_size(n, workdir, peer, disk, not args.no_big_push, i * args.repeat + k)
                    for k in range(args.repeat)
                ]
                rows += fastest(runs)
        finally:
            peer.stop()
            disk.stop()
    print(
        f"PouchDB 9 (memory adapter) replicating small self-checks across {len(SHOPS)} shops; "
        f"push batch_size {PUSH_BATCH}, pull batch_size {PULL_BATCH}; fastest of {args.repeat} runs; "
        f"{'a connection per request' if args.close else 'connections kept open'}"
    )
    report(rows)  # a report, not a gate: missed targets are printed, the exit status stays 0
    print(f"\nbench took {time.monotonic() - started:.0f}s; load average at the end {_load()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
