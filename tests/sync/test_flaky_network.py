"""The promise on a bad network: nothing acknowledged is lost, nothing is counted twice, when the connection drops
mid-upload or mid-download.

Real PouchDB phones (owners and a grid worker, with their tokens, the PWA's pull selectors, push filter, photo
push one at a time, `retry` and doubling back-off) replicate with a real `mashang serve` (validators on) through
tests/sync/flaky.py, which cuts a seeded share of the HTTP exchanges at random bytes. Once every replication has
caught up, what a user would notice is checked on the gateway directly: every document a phone holds is there with
the same winning revision and attachments; no event is stored twice; each receipt names its events once, dated no
later than their first arrival; each shop's points count its weekly self-check once; the serious patrol is one
alarm; and a fresh phone pulling through the same network ends with exactly the server's documents.

The seed is printed (shown with a failure) and in every failure message; MASHANG_FLAKY_SEED=<n> replays it.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from server.models import default_rules, default_template
from server.models.projections import ledger_entries
from tests.gateway import Gateway
from tests.pouch import Json, PouchSession, Remote, checked, node_or_fail, ulid
from tests.sync.flaky import MODES, FlakyProxy
from tests.validators.builders import HAZARD, IN_ORDER
from tests.validators.served import OFFICE, SHANGHAI, login, owner_token, prepare, serve

T = TypeVar("T")

WORKER = "zhou01"
OWNERS = ("S0001", "S0002", "S0003")  # each sends a weekly self-check with two photos
CLEAN = "S0003"  # the grid worker's patrol finds nothing here
SERIOUS = "S0004"  # and the gas hose unsafe here: an alarm (its owner sends nothing)
SHOPS = (*OWNERS, SERIOUS)
# The uploads, each kind cut every way at least once (the other requests, checkpoints included, at random): a batch
# of forms (text, a few KB: the self-checks, whose receipts date them, and patrols), a photo (one per request).
UPLOADS = {
    "forms": lambda request, size: request == "POST /sync/_bulk_docs" and (size or 0) < 16_000,
    "photo": lambda request, size: request == "POST /sync/_bulk_docs" and (size or 0) >= 16_000,
}
# pwa/src/sync-config.ts: the pulls' selectors, and `backOff` (1 s doubling to a minute), here 20 times faster and
# capped at a second, which bounds the time the test takes.
PULL_SELECTOR = {"$or": [{"type": {"$nin": ["photo", "ledger"]}}, {"_deleted": True}]}
OWNER_PULL_SELECTOR = {"$or": [{"type": {"$nin": ["photo"]}}, {"_deleted": True}]}
BACK_OFF = {"first_ms": 50, "max_ms": 1000}
EVENT_TYPES = ("self_check", "patrol", "photo")
SEEDS = {"sqlite": 20261128, "couchdb": 20261205}


@dataclass
class Phone:
    """One PWA on one device: its data database, its photos database, and what it wrote."""

    user: str  # owner:S0001, grid:zhou01
    device: str
    remote: Remote
    selector: Json
    docs: list[Json] = field(default_factory=list)
    photos: list[Json] = field(default_factory=list)

    @property
    def db(self) -> str:
        return f"{self.device}-data"

    @property
    def photos_db(self) -> str:
        return f"{self.device}-photos"


@pytest.fixture(params=["sqlite", "couchdb"])
def gateway(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Gateway]:
    """`mashang serve` (validators on) over one grid of four shops, on the embedded store or on CouchDB."""
    node_or_fail()
    couchdb = None
    if request.param == "couchdb":
        couchdb = (request.getfixturevalue("couchdb_url"), f"flaky-{uuid.uuid4().hex[:12]}")
    prepare(tmp_path / "data", shops=4, per_grid=4, couchdb=couchdb)
    gw = serve(tmp_path / "data", couchdb)
    try:
        yield gw
    finally:
        gw.stop()
        if couchdb is not None:
            httpx.delete(f"{couchdb[0].rstrip('/')}/{couchdb[1]}", timeout=10)


@pytest.fixture
def seed(request: pytest.FixtureRequest) -> int:
    backend = request.node.callspec.params["gateway"]
    chosen = int(os.environ.get("MASHANG_FLAKY_SEED") or SEEDS[backend])
    print(f"flaky network seed: {chosen} (replay with MASHANG_FLAKY_SEED={chosen})")
    return chosen


# ----- what the phones write -----


def _now_minus(minutes: float) -> str:
    return (datetime.now(SHANGHAI).replace(microsecond=0) - timedelta(minutes=minutes)).isoformat()


def _jpeg(rng: random.Random, size: int) -> bytes:
    return b"\xff\xd8\xff\xe0" + rng.randbytes(size - 4)


def _photo(rng: random.Random, shop: str, user: str, device: str, size: int) -> Json:
    """A photo as pwa/src/events.ts `savePhoto` keeps it: its own document, one JPEG attachment."""
    at = _now_minus(2)
    return {
        "_id": f"{shop}:photo:{_ulid(rng)}",
        "type": "photo",
        "schema": 1,
        "shop": shop,
        "created_by": user,
        "device": device,
        "performed_at": at,
        "taken_at": at,
        "_attachments": {
            "photo.jpg": {"content_type": "image/jpeg", "data": base64.b64encode(_jpeg(rng, size)).decode()}
        },
    }


def _ulid(rng: random.Random) -> str:
    return ulid(rng, int(time.time() * 1000))


def _answers(photos: list[str], **hazards: bool | int) -> Json:
    """Every item answered (in order unless named), with the photos where the template asks for one."""
    return {
        item.id: {
            "value": hazards.get(item.id, IN_ORDER[item.id]),
            **({"photos": photos} if item.photo_required else {}),
        }
        for item in default_template().items
    }


def _checklist(rng: random.Random, kind: str, shop: str, user: str, device: str, photos: list[str]) -> Json:
    return {
        "_id": f"{shop}:{kind}:{_ulid(rng)}",
        "type": kind,
        "schema": 1,
        "shop": shop,
        "template": "district:template:fire-gas",
        "template_version": 1,
        "performed_at": _now_minus(1),
        "created_by": user,
        "device": device,
        "answers": _answers(photos),
    }


def _phones(gw: Gateway, proxy: FlakyProxy, rng: random.Random) -> tuple[list[Phone], Json, Json]:
    """The owners' phones with a self-check each, the grid worker's with a clean and a serious patrol; returns the
    phones, the serious patrol and the clean one."""
    remote_url = f"{proxy.url}/sync"
    phones = []
    for shop in OWNERS:
        user = f"owner:{shop}"
        phone = Phone(user, f"d-{shop}", Remote(remote_url, owner_token(shop)), OWNER_PULL_SELECTOR)
        phone.photos = [_photo(rng, shop, user, phone.device, rng.randint(20_000, 90_000)) for _ in range(2)]
        phone.docs = [_checklist(rng, "self_check", shop, user, phone.device, [p["_id"] for p in phone.photos])]
        phones.append(phone)
    user = f"grid:{WORKER}"
    worker = Phone(user, f"d-{WORKER}", Remote(remote_url, login(gw, WORKER, "grid-password-1")), PULL_SELECTOR)
    clean_photo = _photo(rng, CLEAN, user, worker.device, rng.randint(20_000, 90_000))
    serious_photo = _photo(rng, SERIOUS, user, worker.device, rng.randint(20_000, 90_000))
    clean = _checklist(rng, "patrol", CLEAN, user, worker.device, [clean_photo["_id"]]) | {
        "verified_self_checks": [],
        "findings": [],
    }
    serious = _checklist(rng, "patrol", SERIOUS, user, worker.device, [serious_photo["_id"]])
    serious["answers"] = {
        k: {"value": v["value"], "photos": [serious_photo["_id"]]} for k, v in serious["answers"].items()
    }
    serious["answers"]["gas_safe"]["value"] = HAZARD["gas_safe"]
    deadline = datetime.fromisoformat(serious["performed_at"]).date() + timedelta(days=1)
    serious |= {
        "verified_self_checks": [],
        "findings": [
            {
                "id": "f1",
                "item": "gas_safe",
                "severity": "serious",
                "note": "燃气软管老化开裂",
                "photos": [serious_photo["_id"]],
                "deadline": deadline.isoformat(),
            }
        ],
    }
    worker.docs, worker.photos = [clean, serious], [clean_photo, serious_photo]
    return [*phones, worker], serious, clean


def _branch(doc_id: str, path: str, body: Json, deleted: bool = False) -> Json:
    """A leaf as replication writes it (new_edits=false): `path` names the revisions from the root down, one letter
    each."""
    ids = [
        hashlib.md5(f"{doc_id}/{path[:i]}".encode(), usedforsecurity=False).hexdigest() for i in range(len(path), 0, -1)
    ]
    leaf = {"_id": doc_id, "_rev": f"{len(path)}-{ids[0]}", "_revisions": {"start": len(path), "ids": ids}, **body}
    return leaf | ({"_deleted": True} if deleted else {})


def write_conflicts(gw: Gateway, rng: random.Random) -> list[str]:
    """Documents with conflicts, as two gateways in front of one CouchDB can leave them (here the operator writes
    them, directly): two live branches, one with a picture; a live branch beside a longer deleted one; every branch
    deleted. A kind the validators do not read, in the grid worker's shops."""
    a, b, c = (f"{shop}:memo:{_ulid(rng)}" for shop in ("S0001", "S0004", "S0003"))
    picture = {"p.png": {"content_type": "image/png", "data": base64.b64encode(rng.randbytes(3000)).decode()}}
    docs = [
        _branch(a, "ab", {"type": "memo", "shop": "S0001", "v": "b", "_attachments": picture}),
        _branch(a, "ac", {"type": "memo", "shop": "S0001", "v": "c", "中文": "检查"}),
        _branch(b, "abd", {}, deleted=True),
        _branch(b, "ae", {"type": "memo", "shop": "S0004", "v": "live"}),
        _branch(c, "ab", {}, deleted=True),
        _branch(c, "ac", {"why": "duplicate"}, deleted=True),
    ]
    with gw.client() as client:
        answer = client.post("/sync/_bulk_docs", json={"docs": docs, "new_edits": False})
    assert answer.status_code == 201 and answer.json() == [], answer.text
    return [a, b, c]


# ----- replicating as the PWA does -----


def _replicate(pouch: PouchSession, phone: Phone, op: str, db: str, **extra: Any) -> Json:
    """One of the PWA's replications (live, `retry: true`, its back-off) through the flaky network, until it has
    caught up without an error; how many times it failed on the way is in `retries`."""
    step = phone.remote.step(
        op,
        db=db,
        background=True,
        name="rep",
        back_off=BACK_OFF,
        fetch="native",  # a browser's fetch: see replicate.mjs `nativeFetch`
        options={"retry": True, **extra.pop("options", {})},
        **extra,
    )
    checked(pouch.run(step), f"{op} of {db}")
    done = pouch.run({"op": "await", "name": "rep", "until_idle": True, "timeout_ms": 90_000}, timeout=120)
    assert done["ok"], f"{op} of {db} never caught up: {str(done)[:2000]}"
    assert not done["denied"], f"{op} of {db}: the gateway refused {done['denied']}"
    return done


def _pull(pouch: PouchSession, phone: Phone) -> Json:
    return _replicate(pouch, phone, "live_pull", phone.db, batch_size=500, options={"selector": phone.selector})


def _push(pouch: PouchSession, phone: Phone) -> None:
    """Text first, then the photos one per request (pwa/src/db.ts `startSync`)."""
    pushable = {"user": phone.user, "device": phone.device}
    _replicate(pouch, phone, "live_push", phone.db, pushable=pushable)
    _replicate(pouch, phone, "live_push", phone.photos_db, batch_size=1, batches_limit=1)


# ----- what the gateway holds, read directly (not through the flaky network) -----


class Arrivals:
    """When each document first showed in the gateway's changes feed: after the write that stored it."""

    def __init__(self, gw: Gateway) -> None:
        self.gw = gw
        self.first: dict[str, float] = {}
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._follow, name="arrivals", daemon=True)

    def __enter__(self) -> Arrivals:
        with self.gw.client() as client:
            self._since = client.get("/sync/").json()["update_seq"]
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _follow(self) -> None:
        try:
            with self.gw.client() as client:
                while not self._stop.is_set():
                    params = {"feed": "longpoll", "since": self._since, "timeout": 500}
                    answer = client.get("/sync/_changes", params=params).json()
                    seen = time.time()
                    for change in answer["results"]:
                        self.first.setdefault(change["id"], seen)
                    self._since = answer["last_seq"]
        except BaseException as e:  # reported by the test, not lost in a thread
            self.error = e


def _leaves(client: httpx.Client, doc_id: str) -> dict[str, Json]:
    resp = client.get(
        f"/sync/{doc_id}", params={"open_revs": "all", "revs": "true"}, headers={"Accept": "application/json"}
    )
    assert resp.status_code == 200, resp.text
    out = {}
    for item in resp.json():
        doc = item["ok"]
        out[doc["_rev"]] = {
            "deleted": doc.get("_deleted", False),
            "revisions": doc["_revisions"],
            "body": {k: v for k, v in doc.items() if not k.startswith("_")},
            "attachments": {
                n: (a["content_type"], a["digest"], a["length"]) for n, a in doc.get("_attachments", {}).items()
            },
        }
    return out


def served(client: httpx.Client, ids: list[str]) -> dict[str, Json]:
    """Each document as the gateway serves it: its winning revision, whether deleted, its conflicts, every leaf."""
    rows = client.post(
        "/sync/_all_docs", params={"include_docs": "true", "conflicts": "true"}, json={"keys": ids}
    ).json()["rows"]
    out = {}
    for row in rows:
        if "error" in row:
            continue
        doc = row.get("doc") or {}
        out[row["id"]] = {
            "winner": row["value"]["rev"],
            "deleted": row["value"].get("deleted", False),
            "conflicts": sorted(doc.get("_conflicts", [])),
            "leaves": _leaves(client, row["id"]),
        }
    return out


def on_phone(pouch: PouchSession, db: str) -> dict[str, Json]:
    """The same, as a phone's database holds it (attachment positions aside: PouchDB rewrites them on a pull)."""
    out = {}
    for doc_id, d in checked(pouch.run({"op": "dump", "db": db, "with_data": False}), f"dump {db}")["docs"].items():
        out[doc_id] = {
            "winner": d["winner"],
            "deleted": d["deleted"],
            "conflicts": d["conflicts"],
            "leaves": {
                rev: {
                    "deleted": leaf["deleted"],
                    "revisions": leaf["revisions"],
                    "body": leaf["body"],
                    "attachments": {
                        n: (a["content_type"], a["digest"], a["length"]) for n, a in leaf["attachments"].items()
                    },
                }
                for rev, leaf in d["leaves"].items()
            },
        }
    return out


def _differences(phone: dict[str, Json], server: dict[str, Json]) -> list[str]:
    out = [f"{i}: not on the server" for i in phone if i not in server]
    out += [f"{i}: {k} differs" for i in phone if i in server for k in phone[i] if phone[i][k] != server[i][k]]
    return out


def _docs_with_prefix(client: httpx.Client, prefix: str) -> list[Json]:
    params = {"startkey": f'"{prefix}"', "endkey": f'"{prefix}\ufff0"', "include_docs": "true"}
    return [row["doc"] for row in client.get("/sync/_all_docs", params=params).json()["rows"]]


def _update_seq(gw: Gateway) -> Any:
    with gw.client() as client:
        return client.get("/sync/").json()["update_seq"]


def _wait_for(what: str, check: Callable[[], T | None], timeout: float = 60) -> T:
    deadline = time.monotonic() + timeout
    while (found := check()) is None:
        assert time.monotonic() < deadline, f"{what}: not within {timeout} s"
        time.sleep(0.1)
    return found


# ----- what a user would notice -----


def assert_each_event_stored_once(client: httpx.Client, events: list[Json]) -> None:
    """No event lost, none stored twice: each is there once, with the one revision the phone wrote."""
    stored = [d["_id"] for shop in SHOPS for d in _docs_with_prefix(client, f"{shop}:") if d.get("type") in EVENT_TYPES]
    sent = {d["_id"] for d in events}
    assert not sent - set(stored), f"lost: {sorted(sent - set(stored))}"
    assert sorted(stored) == sorted(sent), f"stored twice or never sent: {sorted(stored)}"
    for doc_id, doc in served(client, [d["_id"] for d in events]).items():
        assert list(doc["leaves"]) == [doc["winner"]], f"{doc_id} has {len(doc['leaves'])} revisions"


def assert_receipts_name_each_check_once(
    client: httpx.Client, checks: set[str], sent: dict[str, float], arrived: dict[str, float]
) -> None:
    """The receipts name each self-check once, dated by its first arrival: not before the phone began sending it,
    not after the gateway first held it (a receipt written for a batch sent again would come later)."""
    receipts = [r for shop in SHOPS for r in _docs_with_prefix(client, f"{shop}:receipt:")]
    named = Counter(e for r in receipts for e in r["events"])
    assert named == dict.fromkeys(checks, 1), f"the receipts name {dict(named)}"
    for receipt in receipts:
        received = datetime.fromisoformat(receipt["received_at"]).timestamp()
        for event in receipt["events"]:
            first = arrived.get(event)
            assert first is not None, f"{event} never showed in the changes feed"
            assert sent[event] <= received <= first, (
                f"{event} is dated {receipt['received_at']}: the phone began sending it at "
                f"{datetime.fromtimestamp(sent[event], UTC).isoformat()}, the gateway held it at "
                f"{datetime.fromtimestamp(first, UTC).isoformat()}"
            )


def assert_points(client: httpx.Client, expected: dict[str, dict[str, list[int]]]) -> None:
    """Once the validators have run, each shop's points are the start and what `expected` lists, by rule, once."""
    rules = default_rules()
    for shop, want in expected.items():

        def projected(shop: str = shop, want: dict[str, list[int]] = want) -> tuple[dict[str, list[int]], int] | None:
            found: dict[str, list[int]] = {}
            for entry in (e for doc in _docs_with_prefix(client, f"{shop}:ledger:") for e in ledger_entries(doc)):
                if entry["rule"] != "start":
                    found.setdefault(entry["rule"], []).append(entry["points"])
            score = client.get(f"/sync/{shop}:score").json()["points"]
            done = set(found) >= set(want) and score == rules.start_points + sum(map(sum, found.values()))
            return (found, score) if done else None

        ledger, score = _wait_for(f"{shop}'s points", projected)
        assert ledger == want, f"{shop}: {ledger}"
        assert score == rules.start_points + sum(map(sum, want.values())), f"{shop}: {score} points"


def assert_one_alarm(gw: Gateway, client: httpx.Client, patrol: Json) -> None:
    alarms = [d for shop in SHOPS for d in _docs_with_prefix(client, f"{shop}:alarm:")]
    assert [a["source"] for a in alarms] == [patrol["_id"]]
    office = {"Authorization": f"Bearer {login(gw, *OFFICE)}"}
    queue = client.get("/api/office/alarms", params={"status": "open"}, headers=office).json()
    assert queue["counts"]["open"] == 1 and [a["source"] for a in queue["items"]] == [patrol["_id"]]


def assert_phones_hold_what_the_server_does(gw: Gateway, pouch: PouchSession, phones: list[Phone]) -> None:
    """Every phone, after pulling what the validators wrote, holds nothing the server does not have as it: same
    winning revision, same leaves, same attachments; and still everything it wrote. The server may still be
    writing (the rankings are debounced): then the phones pull again."""
    gaps: list[str] = []
    for _attempt in range(5):
        before, gaps = _update_seq(gw), []
        for phone in phones:
            _pull(pouch, phone)
            with gw.client() as client:
                for db in (phone.db, phone.photos_db):
                    held = on_phone(pouch, db)
                    gaps += [f"{phone.user}: {gap}" for gap in _differences(held, served(client, list(held)))]
        if not gaps or _update_seq(gw) == before:
            break
    assert not gaps, "\n".join(gaps[:20])
    for phone in phones:
        kept = set(on_phone(pouch, phone.db)) | set(on_phone(pouch, phone.photos_db))
        assert {d["_id"] for d in phone.docs + phone.photos} <= kept, phone.user


def assert_a_fresh_phone_pulls_exactly_the_server(gw: Gateway, pouch: PouchSession, worker: Phone) -> dict[str, Json]:
    """A new phone of the grid worker pulls everything in the worker's scope (photos too): it ends with exactly the
    documents the server has, winners, conflicts, leaves and attachments. Pulled again if the server wrote
    meanwhile."""
    fresh = Phone(worker.user, "d-fresh", worker.remote, {})
    direct = {"Authorization": f"Bearer {worker.remote.token}"}
    for _attempt in range(5):
        before = _update_seq(gw)
        _replicate(pouch, fresh, "live_pull", fresh.db, batch_size=500)
        with httpx.Client(base_url=gw.url, headers=direct, timeout=30) as client:
            scope = [c["id"] for c in client.get("/sync/_changes", params={"style": "all_docs"}).json()["results"]]
            want = served(client, scope)
        got = on_phone(pouch, fresh.db)
        if got == want or _update_seq(gw) == before:
            break
    assert sorted(got) == sorted(want), "the fresh phone's documents are not the server's"
    assert not _differences(got, want), _differences(got, want)[:20]
    return got


# ----- the test -----


@contextlib.contextmanager
def reported(proxy: FlakyProxy) -> Iterator[None]:
    """A failure says what the network did: the seed and every cut, by phase."""
    try:
        yield
    except AssertionError as e:
        raise AssertionError(f"{e}\n{proxy.report()}") from e


def test_nothing_acknowledged_is_lost_nor_counted_twice_on_a_flaky_network(gateway: Gateway, seed: int) -> None:
    gw, rng, rules = gateway, random.Random(seed), default_rules()
    with (
        FlakyProxy(gw.port, seed, fraction=0.15, max_cuts=150, window=120, every_way=UPLOADS) as proxy,
        PouchSession() as pouch,
        reported(proxy),
    ):
        checked(pouch.run({"op": "configure", "unhandled_rejections": "log"}))  # as a browser: see replicate.mjs
        phones, serious, clean = _phones(gw, proxy, rng)
        conflicted = write_conflicts(gw, rng)
        sent: dict[str, float] = {}
        with Arrivals(gw) as arrivals:
            for phone in phones:
                checked(pouch.run({"op": "put", "db": phone.db, "docs": phone.docs}), "save the forms")
                checked(pouch.run({"op": "put", "db": phone.photos_db, "docs": phone.photos}), "keep the photos")
                proxy.mark(f"{phone.user} pulls")
                _pull(pouch, phone)
                proxy.mark(f"{phone.user} pushes")
                sent |= dict.fromkeys((d["_id"] for d in phone.docs), time.time())
                _push(pouch, phone)
            proxy.quiet()  # the requests held on the way have reached the gateway
        assert arrivals.error is None, arrivals.error
        assert len(proxy.cuts) >= 10, "the network was not flaky enough to prove anything"
        assert {c.plan.mode for c in proxy.cuts} == set(MODES), "some way of cutting was never tried"

        events = [d for phone in phones for d in phone.docs + phone.photos]
        with gw.client() as client:
            assert_each_event_stored_once(client, events)
            checks = {d["_id"] for d in events if d["type"] == "self_check"}
            assert_receipts_name_each_check_once(client, checks, sent, arrivals.first)
            assert_points(
                client,
                {
                    "S0001": {"self_check": [rules.self_check_points]},
                    "S0002": {"self_check": [rules.self_check_points]},
                    CLEAN: {"self_check": [rules.self_check_points], "patrol_clean": [rules.patrol_clean_points]},
                    SERIOUS: {"hazard": [-rules.hazard_cost.serious]},
                },
            )
            assert_one_alarm(gw, client, serious)

        proxy.mark("the phones pull what the validators wrote")
        assert_phones_hold_what_the_server_does(gw, pouch, phones)
        proxy.mark("a fresh phone of the grid worker pulls")
        pulled = assert_a_fresh_phone_pulls_exactly_the_server(gw, pouch, phones[-1])
        assert {serious["_id"], clean["_id"], *(d["_id"] for d in phones[-1].photos), *conflicted} <= set(pulled)
        assert [len(pulled[i]["leaves"]) for i in conflicted] == [2, 2, 2] and pulled[conflicted[0]]["conflicts"]
