"""The scale-out setup of a district (SPEC, "Scale"; README, `mashang worker`): stateless gateways in front of one
CouchDB (pouchdb-server here, the real one when COUCHDB_URL is set), none of them running validators, and one
`mashang worker` deriving. A serious finding pushed through one gateway is an alarm at another's alarm desk, the
other's dashboard counts it, and the office view of a gateway that starts later begins from the facts the worker
keeps in the database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.api.test_alarm_flow import wait_until
from tests.gateway import ROOT, Gateway
from tests.validators.builders import finding, patrol, self_check
from tests.validators.world import as_shop, code, registry

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def district(tmp_path: Path, couchdb_url: str) -> Iterator[tuple[str, str, dict[str, str]]]:
    database = f"mashang-scale-{uuid.uuid4().hex[:12]}"
    yield couchdb_url, database, {"MASHANG_COUCHDB_DB": database}
    httpx.delete(f"{couchdb_url.rstrip('/')}/{database}", timeout=10)


def test_two_gateways_and_one_worker_on_one_couchdb(tmp_path: Path, district: tuple[str, str, dict[str, str]]) -> None:
    couchdb_url, database, env = district
    front = Gateway(tmp_path / "a", couchdb_url, env=env, serve_args=["--no-validators"]).start()
    back = Gateway(tmp_path / "b", couchdb_url, env=env, serve_args=["--no-validators"]).start()
    later: Gateway | None = None
    worker = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "worker", "--couchdb", couchdb_url, "--log-level", "warning"],
        cwd=ROOT,
        env={**os.environ, **env},
    )
    try:
        now = datetime.now(SHANGHAI) - timedelta(minutes=5)
        when = now.strftime("%Y-%m-%d %H:%M")
        grid = {"_id": "registry:grid:g1", "type": "grid", "schema": 1, "code": "g1", "name": "一网格"}
        shops = [code(n) for n in (1, 2, 3)]
        serious = finding("f1", "open_flame", "serious", (now + timedelta(days=1)).strftime("%Y-%m-%d"))
        visit = as_shop(patrol(when, serious), code(1))
        docs = [
            *registry(3),
            grid | {"community": "wensan", "shops": shops},
            *(as_shop(self_check(when), c) for c in shops),
            visit,
        ]
        with front.client() as phone:  # the operator's token replicates as a phone would, through gateway A
            answer = phone.post("/sync/_bulk_docs", json={"docs": docs})
            assert answer.status_code == 201 and all(r.get("ok") for r in answer.json()), answer.text

        alarm_id = f"{code(1)}:alarm:{visit['_id'].rsplit(':', 1)[1]}"
        with back.client() as office:  # the safety office, on gateway B

            def alarm_at_the_desk() -> bool:
                items = office.get("/api/office/alarms", params={"status": "open"}).json()["items"]
                return alarm_id in {item["_id"] for item in items}

            wait_until(alarm_at_the_desk, timeout=30)  # the worker's alarm at the other gateway's desk
            # No office view has been asked for yet, so no gateway kept one: these facts are the worker's, in parts.
            local = f"{couchdb_url.rstrip('/')}/{database}/_local/{quote('server/office-facts', safe='')}"
            head = wait_until(lambda: httpx.get(local, timeout=10).json().get("parts"), timeout=30)
            assert head >= 1

            def counted() -> dict[str, Any] | None:
                summary: dict[str, Any] = office.get("/api/office/summary").json()
                return summary if summary["counts"]["month"]["hazards_found"] == 1 else None

            summary = wait_until(counted, timeout=30)  # the patrol's hazard in the other gateway's dashboard
            assert summary["shops_active"] == 3 and summary["open_alarms"] == 1
            assert summary["self_check_coverage_week"] == 1.0
            assert summary["patrol_coverage_month"] == pytest.approx(1 / 3)
            score = office.get(f"/sync/{quote(code(1) + ':score')}").json()
            assert score["points"] < 100 and score["open_hazards"] == 1

        # A gateway that starts later begins from the facts kept in the database.
        later = Gateway(tmp_path / "c", couchdb_url, env=env, serve_args=["--no-validators"]).start()
        with later.client() as office:
            again = office.get("/api/office/summary").json()
        assert {k: again[k] for k in ("shops_active", "open_alarms", "counts")} == {
            k: summary[k] for k in ("shops_active", "open_alarms", "counts")
        }
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=15)
        for gateway in (front, back, later):
            if gateway is not None:
                gateway.stop()
