"""kill -9 of `mashang serve` while phones push: no acknowledged write is lost, and PouchDB resumes from
its checkpoint instead of starting over."""

from __future__ import annotations

import base64
import hashlib
import random
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.gateway import ROOT, Gateway, free_port
from tests.pouch import Json, PouchSession, Remote, checked, node_or_fail, self_check, shops

PUSHERS = 4
BATCH = 5


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[Gateway]:
    gw = Gateway(tmp_path / "data").start()
    try:
        yield gw
    finally:
        gw.stop()


def _replicated(doc: Json, n: int) -> Json:
    """`doc` as a replicator sends it (new_edits=false): a two-revision history, an attachment on some."""
    h1 = hashlib.md5(f"{doc['_id']}/1".encode(), usedforsecurity=False).hexdigest()
    h2 = hashlib.md5(f"{doc['_id']}/2".encode(), usedforsecurity=False).hexdigest()
    out = {**doc, "_rev": f"2-{h2}", "_revisions": {"start": 2, "ids": [h2, h1]}, "n": n}
    if n % 5 == 0:
        out["_attachments"] = {
            "photo.jpg": {"content_type": "image/jpeg", "data": base64.b64encode(_photo(doc["_id"])).decode()}
        }
    return out


def _photo(doc_id: str) -> bytes:
    return hashlib.sha256(doc_id.encode()).digest() * 64  # 2 KB, different per document


def _info(gw: Gateway) -> Json:
    with gw.client() as client:
        info: Json = client.get("/sync/").json()
        return info


def test_kill_9_during_concurrent_pushes_loses_no_acknowledged_write(gateway: Gateway) -> None:
    acked: dict[str, Json] = {}
    lock = threading.Lock()
    stop = threading.Event()
    refused: list[str] = []

    def pusher(k: int) -> None:
        rng = random.Random(k)
        with httpx.Client(base_url=gateway.url, headers=gateway.headers, timeout=10) as client:
            n = 0
            while not stop.is_set():
                docs = []
                for _ in range(BATCH):
                    docs.append(_replicated(self_check(rng.choice(shops(20)), rng, n), n))
                    n += 1
                try:
                    resp = client.post("/sync/_bulk_docs", json={"docs": docs, "new_edits": False})
                except httpx.HTTPError:
                    return  # the server is gone: this batch was never acknowledged
                if resp.status_code != 201 or resp.json() != []:
                    refused.append(resp.text)
                    return
                with lock:
                    acked.update({d["_id"]: d for d in docs})

    threads = [threading.Thread(target=pusher, args=(k,), daemon=True) for k in range(PUSHERS)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 30
    while len(acked) < 200 and time.monotonic() < deadline:  # let the stream get going
        time.sleep(0.01)
    time.sleep(random.uniform(0.0, 1.0))  # then kill at a random moment
    gateway.kill()
    stop.set()
    for t in threads:
        t.join(timeout=20)
    assert not refused, refused[:1]
    assert len(acked) >= 200, "the pushes never got going"

    gateway.start()
    with httpx.Client(base_url=gateway.url, headers=gateway.headers, timeout=60) as client:
        wanted = {doc_id: [d["_rev"]] for doc_id, d in acked.items()}
        missing = client.post("/sync/_revs_diff", json=wanted).json()
        assert missing == {}, f"{len(missing)} of {len(acked)} acknowledged documents were lost"
        got = client.post(
            "/sync/_bulk_get?revs=true", json={"docs": [{"id": i, "rev": d["_rev"]} for i, d in acked.items()]}
        ).json()
        for result in got["results"]:
            doc = result["docs"][0]["ok"]
            sent = acked[doc["_id"]]
            assert doc["n"] == sent["n"] and doc["_revisions"] == sent["_revisions"], doc["_id"]
        for doc_id, d in acked.items():
            if "_attachments" in d:
                resp = client.get(f"/sync/{doc_id}/photo.jpg")
                assert resp.status_code == 200 and resp.content == _photo(doc_id), f"{doc_id}: photo lost"
    assert _info(gateway)["doc_count"] >= len(acked)


def test_pouchdb_push_resumes_from_its_checkpoint_after_kill_9(gateway: Gateway) -> None:
    node_or_fail()
    total = 3000
    rng = random.Random()
    docs = [self_check(shop, rng, i) for i, shop in enumerate(shops(30) * (total // 30))]
    remote = Remote(f"{gateway.url}/sync", gateway.token)
    with PouchSession(timeout=120) as pouch:
        checked(pouch.run({"op": "put", "db": "phone", "docs": docs}), "local put")
        threshold = rng.randint(600, 1800)
        pouch.send(remote.step("push", db="phone", batch_size=100))
        deadline = time.monotonic() + 60
        while _info(gateway)["doc_count"] < threshold:
            assert time.monotonic() < deadline, "the push never reached the gateway"
            time.sleep(0.01)
        gateway.kill()
        cut = pouch.receive(timeout=60)
        assert not cut["ok"], f"the push was not interrupted: {cut}"

        gateway.start()
        landed = _info(gateway)["doc_count"]
        assert threshold <= landed < total
        resumed = checked(pouch.run(remote.step("push", db="phone", batch_size=100)), "resumed push")
        # It starts after its last checkpoint (at most two batches behind what landed), never from zero.
        assert total - landed <= resumed["docs_read"] <= total - landed + 200, (landed, resumed["docs_read"])
        assert resumed["doc_write_failures"] == 0

    assert _info(gateway)["doc_count"] == total
    with gateway.client() as client:
        rows = client.post("/sync/_all_docs", json={"keys": [d["_id"] for d in docs]}).json()["rows"]
    assert [row.get("error") for row in rows] == [None] * total


def test_a_live_push_carries_on_through_kill_9_and_restart(gateway: Gateway) -> None:
    """A phone keeps writing while its live push runs; the gateway dies and comes back: everything lands."""
    node_or_fail()
    rng = random.Random()
    docs = [self_check(shop, rng, i) for i, shop in enumerate(shops(10) * 12)]
    chunks = [docs[i : i + 10] for i in range(0, len(docs), 10)]
    remote = Remote(f"{gateway.url}/sync", gateway.token)
    revs: dict[str, str] = {}
    restarted_at = 0.0
    with PouchSession(timeout=120) as pouch:
        live = remote.step(
            "live_push", db="phone", background=True, name="push", back_off_ms=300, options={"retry": True}
        )
        checked(pouch.run(live), "live push")
        for i, chunk in enumerate(chunks):
            out = checked(pouch.run({"op": "put", "db": "phone", "docs": chunk}), "local put")
            revs.update({r["id"]: r["rev"] for r in out["results"]})
            time.sleep(0.1)
            if i == 3:
                gateway.kill()  # the phone goes on writing: its documents wait locally
            elif i == 7:
                gateway.start()
                restarted_at = time.time() * 1000
        done = pouch.run({"op": "await", "name": "push", "expect_ids": list(revs), "timeout_ms": 60_000}, 90)
    assert done["ok"], {k: done[k] for k in ("outcome", "error", "missing")}
    assert done["requests"]["failed"] > 0, "the push never noticed the gateway was gone"
    during_outage = [d["_id"] for d in docs[40:80]]
    assert min(done["arrived"][i] for i in during_outage) >= restarted_at - 200  # they waited, then went
    with gateway.client() as client:
        missing = client.post("/sync/_revs_diff", json={i: [r] for i, r in revs.items()}).json()
    assert missing == {}, f"{len(missing)} documents never reached the gateway"


def test_a_second_gateway_on_the_same_folder_refuses_to_start_until_the_first_is_gone(gateway: Gateway) -> None:
    """Two gateways on one embedded store would both take an id for new; the second says so and exits, and
    after a kill -9 of the first (no clean-up ran) a gateway starts again."""
    assert gateway.proc is not None
    first = gateway.proc.pid
    second = subprocess.run(
        [sys.executable, "-m", "server.cli", "serve", "--data", str(gateway.data_dir), "--port", str(free_port())],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert second.returncode == 1
    assert f"another gateway (pid {first}) serves {gateway.data_dir}" in second.stderr
    assert "update_seq" in _info(gateway)  # the first one serves on, untouched

    gateway.kill()
    gateway.start()
    assert "update_seq" in _info(gateway)
