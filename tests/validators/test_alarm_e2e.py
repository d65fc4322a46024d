"""Issue 4 end to end with real parts only: a grid worker's PouchDB pushes a patrol with a serious finding to a real
`mashang serve` (validators on); the shop's score drops by the rules' cost, the alarm replicates down to that grid
worker's PouchDB (a live pull, as the phone keeps one), and the office sees it in its open queue and on its stream."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from server.models import default_rules
from tests.gateway import Gateway
from tests.pouch import PouchSession, Remote, checked, node_or_fail
from tests.validators.served import OFFICE, AlarmStream, alarm_id, login, prepare, serious_patrol, serve

GRID_PASSWORD = "grid-password-1"


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[Gateway]:
    node_or_fail()
    prepare(tmp_path / "data", shops=4, per_grid=2)
    gw = serve(tmp_path / "data")
    try:
        yield gw
    finally:
        gw.stop()


def _stored_points(gw: Gateway, shop: str) -> int | None:
    resp = httpx.get(f"{gw.url}/sync/{shop}:score", headers=gw.headers, timeout=10)
    return int(resp.json()["points"]) if resp.status_code == 200 else None


def _local_doc(pouch: PouchSession, db: str, doc_id: str) -> dict[str, object] | None:
    answer = pouch.run({"op": "get", "db": db, "id": doc_id})
    return answer.get("doc") if answer.get("ok") else None


def test_a_serious_finding_from_a_phone_reaches_the_score_the_phone_and_the_office(gateway: Gateway) -> None:
    gw, shop, worker = gateway, "S0001", "zhou01"
    start = default_rules().start_points
    deadline = time.monotonic() + 20
    while _stored_points(gw, shop) != start:  # the follower's start-up tick projects every registered shop
        assert time.monotonic() < deadline, "the shop was never projected"
        time.sleep(0.05)
    phone = Remote(f"{gw.url}/sync", login(gw, worker, GRID_PASSWORD))
    office = login(gw, *OFFICE)
    patrol = serious_patrol(shop, worker)
    alarm = alarm_id(patrol)

    stream = AlarmStream(gw.url, office).start()
    with PouchSession(timeout=60) as pouch:
        try:
            checked(pouch.run(phone.step("pull", db="phone")), "the first pull")
            assert (_local_doc(pouch, "phone", f"{shop}:score") or {}).get("points") == start
            checked(pouch.run(phone.step("live_pull", db="phone", background=True, name="down")))
            pushed = checked(pouch.run(phone.step("push", db="phone", docs=[patrol])), "the push")
            pushed_at = time.monotonic()
            assert pushed["docs_written"] == 1 and not pushed["denied"], str(pushed)[:3000]

            down = checked(pouch.run({"op": "await", "name": "down", "expect_ids": [alarm], "timeout_ms": 20_000}))
            assert alarm in down["arrived"]
            on_phone = _local_doc(pouch, "phone", alarm)
            assert on_phone is not None and on_phone["status"] == "open" and on_phone["source"] == patrol["_id"]
            assert on_phone["grid_worker"] == f"grid:{worker}" and on_phone["shop_name"] == f"小吃店{shop}"
            assert [item["item"] for item in on_phone["items"]] == ["gas_safe"]  # type: ignore[union-attr]

            cost = default_rules().hazard_cost.serious
            assert _stored_points(gw, shop) == start - cost  # a patrol with a finding earns no clean-patrol points
            checked(pouch.run(phone.step("pull", db="phone")))
            assert (_local_doc(pouch, "phone", f"{shop}:score") or {}).get("points") == start - cost

            assert stream.wait_for({alarm}, timeout=10), stream.events
            seen_at, change = stream.seen[alarm]
            assert change == "new" and seen_at - pushed_at < 5
            queue = httpx.get(
                f"{gw.url}/api/office/alarms?status=open", headers={"Authorization": f"Bearer {office}"}, timeout=10
            ).json()
            assert [item["_id"] for item in queue["items"]] == [alarm] and queue["counts"]["open"] == 1
            assert queue["items"][0]["address"] == f"曙光北路{shop[1:]}号"
        finally:
            stream.close()
