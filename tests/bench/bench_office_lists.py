"""The office's two longest lists at a district's scale: size and time of `GET /api/office/ranking` and
`GET /api/office/sync-monitor` (a page, a filter, a search) on a generated sub-district of `--shops` shops (30,000 by
default, a city district's), each owner and grid worker with a phone that reports, some silent or with records
waiting, and a few hundred refused documents.

The registry comes from the demo's planner (`server/demo/district.py`); the accounts are written as documents, not
through `Accounts`, since hashing 28,000 PINs (~35 ms each) would take the benchmark a quarter of an hour; the
month's ranking is made by the validators' own rule (`server.validators.district.ranking_doc`) on random scores.
The app runs in-process on the embedded store, without the validators. Prints figures only (2 cores: they vary by
~±20% run to run, more when the machine is busy); `--data DIR` keeps the district for the next run.

Measured on 2026-11-30 (30,000 shops, ~28,000 owners and grid workers with a phone each). Before the lists were
paged the ranking answered 5.2 MB (234 KB gzipped) in ~90 ms and the sync monitor 31.7 MB (3.0 MB gzipped) in ~1.4 s,
all of it drawn by the office's browser. Paged: the ranking 9 KB in 35-80 ms, the monitor 68 KB in 0.7-1.0 s, most of
which is reading the 28,000 phones' reports and owners' accounts from the store at each request.
"""

from __future__ import annotations

import argparse
import gzip
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # run as a script: make the server package importable
    sys.path.insert(0, str(ROOT))

from server.app import create_app  # noqa: E402
from server.demo.district import District, plan_district  # noqa: E402
from server.demo.names import SUBDISTRICT, SUBDISTRICT_NAME  # noqa: E402
from server.errors import CouchError  # noqa: E402
from server.ids import new_ulid  # noqa: E402
from server.models import default_rules  # noqa: E402
from server.office.facts import Facts  # noqa: E402
from server.settings import Settings  # noqa: E402
from server.validators.district import ranking_doc  # noqa: E402

SECRET = "bench-office-lists-" + "z" * 40
OFFICE = ("wang", "wang-password")
BUILT = "bench/office-lists"  # a local document: the district is there
BATCH = 2_000


def _workers(shops: int) -> int:
    # ~1 grid worker per 55 shops; the demo's planner names at most 99 grids in each of its 8 communities.
    return max(1, min(shops // 55, 560))


def _device(rng: random.Random, user: str, role: str, device: str, now: datetime) -> dict[str, Any]:
    seen = now - timedelta(hours=rng.expovariate(1 / 30))  # a few are silent for more than 3 days
    waiting = rng.random() < 0.1
    return {
        "_id": f"accounts:device:{user}:{device}",
        "type": "device",
        "device": device,
        "user": user,
        "role": role,
        "app_version": "1.4.2",
        "pending_docs": rng.randint(1, 6) if waiting else 0,
        "pending_photos": rng.randint(0, 9) if waiting else 0,
        "last_push": seen.isoformat(),
        "last_pull": seen.isoformat(),
        "received_at": seen.isoformat(timespec="seconds"),
    }


def _account(user_id: str, **fields: Any) -> dict[str, Any]:
    role = user_id.split(":", 1)[0]
    return {
        "_id": f"accounts:user:{user_id}",
        "type": "user",
        "user_id": user_id,
        "role": role,
        **fields,
        "token_version": 0,
        "scope_version": 0,
        "disabled": False,
        "tokens_since": 0,
    }


def build(client: TestClient, shops: int, month: str) -> District:
    state = client.app.state  # type: ignore[attr-defined]
    call = client.portal.call  # type: ignore[union-attr]
    store, registry = state.store, state.registry
    rng = random.Random(7)
    district = plan_district(7, shops, _workers(shops))
    now = datetime.now(UTC)

    def write(docs: list[dict[str, Any]]) -> None:
        for i in range(0, len(docs), BATCH):
            assert all(row.get("ok") for row in call(store.bulk_docs, docs[i : i + BATCH]))

    call(registry.save_subdistrict, SUBDISTRICT, SUBDISTRICT_NAME)
    for c in district.communities:
        call(registry.put_community, c.code, c.name, SUBDISTRICT)
    for g in district.grids:
        call(registry.put_grid, g.code, g.name, g.community, list(g.workers), list(g.shops))
    write([{"_id": f"registry:shop:{s.code}", "type": "shop", "schema": 1, **s.registry_doc()} for s in district.shops])
    call(state.accounts.create_staff, "office", *OFFICE, "王科长")
    accounts, devices = [], []
    for w in district.workers:
        accounts.append(_account(w.user_id, username=w.username, name=w.name, password_hash="-"))
        devices.append(_device(rng, w.user_id, "grid", w.device, now))
    for s in district.shops:
        if s.owner.activated and s.owner.device:
            accounts.append(_account(f"owner:{s.code}", shop=s.code, name=s.code, pin_hash="-"))
            devices.append(_device(rng, f"owner:{s.code}", "owner", s.owner.device, now))
    write(accounts + devices)
    refused = []
    for n in range(600):
        shop = rng.choice(district.shops).code
        at = now - timedelta(minutes=n)
        refused.append(
            {
                "_id": f"quarantine:refused:{new_ulid(int(at.timestamp() * 1000))}",
                "type": "refused",
                "schema": 1,
                "user": f"owner:{shop}",
                "role": "owner",
                "device": "d-bench",
                "received_at": at.isoformat(),
                "error": "forbidden",
                "reason": "a document of another shop",
                "doc_id": f"{shop}:self_check:{new_ulid()}",
                "doc": {},
            }
        )
    write(refused)
    scores = [
        {"shop": s.code, "points": rng.randint(40, 130), "open_hazards": rng.randint(0, 4)} for s in district.shops
    ]
    write([ranking_doc(SUBDISTRICT, month, now.date(), default_rules(), scores, {})])
    call(Facts(store).view)  # the office's view, kept as its snapshot: the gateway starts from it
    call(store.put_local, BUILT, {"shops": shops})
    return district


def built(client: TestClient) -> bool:
    """Whether the store holds the district already (`--data` of an earlier run)."""
    try:
        client.portal.call(client.app.state.store.get_local, BUILT)  # type: ignore[union-attr,attr-defined]
    except CouchError as e:
        if e.status != 404:
            raise
        return False
    return True


def measure(client: TestClient, headers: dict[str, str], path: str, runs: int) -> str:
    times, body = [], b""
    for _ in range(runs):
        started = time.perf_counter()
        answer = client.get(path, headers={**headers, "Accept-Encoding": "identity"})
        times.append(time.perf_counter() - started)
        assert answer.status_code == 200, answer.text[:300]
        body = answer.content
    return (
        f"{path:70} {len(body) / 1e6:7.3f} MB ({len(gzip.compress(body, 5)) / 1e3:6.0f} KB gzipped)"
        f"  median {statistics.median(times) * 1000:5.0f} ms  min {min(times) * 1000:5.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shops", type=int, default=30_000)
    parser.add_argument("--runs", type=int, default=5, help="requests of each kind")
    parser.add_argument("--data", type=Path, help="keep the district here for the next run (default: a temp dir)")
    args = parser.parse_args()
    data = args.data or Path(tempfile.mkdtemp(prefix="bench-office-lists-"))
    month = datetime.now(UTC).strftime("%Y-%m")
    try:
        app = create_app(Settings(data_dir=data, secret=SECRET, run_validators=False))
        with TestClient(app) as client:
            if built(client):
                print(f"the district in {data}", file=sys.stderr)
            else:
                started = time.monotonic()
                build(client, args.shops, month)
                print(f"built {args.shops} shops in {data} in {time.monotonic() - started:.0f} s", file=sys.stderr)
            signed_in = client.post("/api/auth/login", json=dict(zip(("username", "password"), OFFICE, strict=True)))
            headers = {"Authorization": f"Bearer {signed_in.json()['token']}"}
            client.get("/api/office/summary", headers=headers)  # the office's view, read once
            ranking = f"/api/office/ranking?month={month}"
            for path in (
                ranking,
                f"{ranking}&list=black&offset=100",
                f"{ranking}&q=S012",
                f"{ranking}&limit=500",
                "/api/office/sync-monitor",
                "/api/office/sync-monitor?only=problems",
                "/api/office/sync-monitor?q=S0123&role=owner",
                "/api/office/sync-monitor?limit=500&offset=20000&devices_offset=20000",
            ):
                print(measure(client, headers, path, args.runs))
    finally:
        if args.data is None:
            shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
