"""What the alarm desk is told each alarm found: every item's note and where its hazard stands now, in the list, one
alarm, a step's answer and the live stream; a hazard closed after the alarm shows closed without the alarm changing.
On either backend (tests/backends.py)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import orjson
import pytest

from server.app import create_app
from server.ids import new_ulid
from server.models import Hazard
from server.office.schemas import DeskAlarm
from server.settings import Settings
from tests.api.conftest import SECRET, World, open_world, wait_until
from tests.api.live import serve
from tests.api.projections import alarm_doc
from tests.api.test_alarm_flow import on as on  # the fixture: each backend's settings
from tests.api.test_alarm_flow import push, zhou_gas_leak
from tests.api.test_alarm_stream import ADMIN, next_event, write_alarm

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def world(tmp_path: Path, on: dict[str, Any]) -> Iterator[World]:
    with open_world(tmp_path, **on) as w:
        yield w


def two_findings() -> dict[str, Any]:
    """Zhou's patrol finding the gas hose unsafe (with a note) and an e-bike charging inside (without one)."""
    patrol = zhou_gas_leak()
    gas = patrol["findings"][0]
    patrol["findings"].append({**gas, "id": "f2", "item": "ebike_indoor_charging", "note": ""})
    return patrol


def findings(alarm: dict[str, Any]) -> list[tuple[str, str, str | None, str | None]]:
    return [(i["item"], i["note"], i["hazard_status"], i["deadline"]) for i in alarm["items"]]


def test_the_desk_is_told_each_finding_and_its_hazard_now(world: World) -> None:
    zhou, office = world.login("zhou", "zhou-password"), world.login("wang", "wang-password")
    patrol = two_findings()
    push(world.client, zhou, patrol)
    deadline = patrol["findings"][0]["deadline"]

    def listed() -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = world.client.get("/api/office/alarms", headers=office).json()["items"]
        return items

    [alarm] = wait_until(listed)
    DeskAlarm.model_validate(alarm)  # the answer is what the API document says it is
    assert findings(alarm) == [
        ("gas_safe", "燃气软管老化开裂", "open", deadline),
        ("ebike_indoor_charging", "", "open", deadline),
    ]

    # The grid worker fixes the e-bike on the spot: its hazard is closed; the alarm itself did not change.
    ebike = alarm["items"][1]["hazard"]
    now = datetime.now(SHANGHAI).replace(microsecond=0)
    verification = {
        "_id": f"S0001:verification:{new_ulid()}",
        "type": "verification",
        "schema": 1,
        "shop": "S0001",
        "performed_at": now.isoformat(),
        "created_by": "grid:zhou",
        "device": "d-zhou",
        "hazard": ebike,
        "rectification": None,
        "passed": True,
        "note": "已移出店外",
    }
    push(world.client, zhou, verification)
    [alarm] = wait_until(lambda: [a for a in listed() if a["items"][1]["hazard_status"] == "closed"])
    assert findings(alarm)[0] == ("gas_safe", "燃气软管老化开裂", "open", deadline)
    assert [s["status"] for s in alarm["history"]] == ["open"]

    one = world.client.get(f"/api/office/alarms/{alarm['_id']}", headers=office)
    assert one.status_code == 200 and findings(one.json()) == findings(alarm)
    resolved = world.client.post(f"/api/office/alarms/{alarm['_id']}/resolve", headers=office, json={})
    assert resolved.status_code == 200, resolved.text
    # Resolved knowingly with the gas hazard still open: the answer says so, as the card drawn from it will.
    assert resolved.json()["status"] == "resolved" and findings(resolved.json()) == findings(alarm)
    DeskAlarm.model_validate(resolved.json())


def test_a_hazard_that_cannot_be_read_leaves_its_state_unknown(tmp_path: Path, on: dict[str, Any]) -> None:
    """An item whose hazard is missing (withdrawn with its submission) is listed without a state, not as a 500."""
    with open_world(tmp_path, run_validators=False, **on) as world:
        doc = alarm_doc("S0001", "2026-03-02T10:00:00+08:00")
        world.call(world.state.store.bulk_docs, [doc])
        world.call(world.state.alarms.notify, doc)
        answer = world.client.get("/api/office/alarms", headers=world.login("wang", "wang-password"))
        assert answer.status_code == 200, answer.text
        assert findings(answer.json()["items"][0]) == [("gas_safe", "", None, None)]


def hazard_doc(alarm: dict[str, Any], status: str, note: str) -> dict[str, Any]:
    """The hazard an alarm's first item names, as the validators write it."""
    item = alarm["items"][0]
    found = alarm["created_at"]
    return Hazard.model_validate(
        {
            "_id": item["hazard"],
            "type": "hazard",
            "schema": 1,
            "shop": alarm["shop"],
            "status": status,
            "source": alarm["source"],
            "item": item["item"],
            "finding": "f1",
            "severity": item["severity"],
            "self_reported": False,
            "found_at": found,
            "deadline": "2026-03-03",
            "cost": 10,
            "note": note,
            "updated_at": found,
            "history": [{"status": "open", "at": found, "by": "grid:zhou", "event": alarm["source"]}]
            + ([{"status": status, "at": found, "by": "server"}] if status != "open" else []),
        }
    ).to_doc()


def test_the_stream_sends_each_alarm_with_its_findings(tmp_path: Path, on: dict[str, Any]) -> None:
    settings = Settings(data_dir=tmp_path / "data", secret=SECRET, run_validators=False, **on)
    with (
        serve(create_app(settings)) as url,
        httpx.Client(timeout=httpx.Timeout(10.0)) as client,
        client.stream("GET", f"{url}/api/office/alarms/stream", headers=ADMIN) as stream,
    ):
        lines = stream.iter_lines()
        next_event(lines)  # retry
        alarm = alarm_doc("S0001", (datetime.now(SHANGHAI) - timedelta(days=3)).replace(microsecond=0).isoformat())
        write_alarm(url, hazard_doc(alarm, "overdue", "阁楼住人处使用煤气灶做饭"))
        write_alarm(url, alarm)
        sent = orjson.loads(next_event(lines)["data"])
        assert sent["change"] == "new" and sent["alarm"]["_id"] == alarm["_id"]
        assert findings(sent["alarm"]) == [("gas_safe", "阁楼住人处使用煤气灶做饭", "overdue", "2026-03-03")]

        # The hazard is fixed while the alarm stays as it was: the desk is told the alarm again, with the hazard's new
        # state; a change of a hazard the alarm does not name tells nothing.
        hazard = hazard_doc(alarm, "rectified", "阁楼住人处使用煤气灶做饭")
        stored = client.get(f"{url}/sync/{hazard['_id']}", headers=ADMIN).json()
        other = hazard_doc(alarm, "open", "")
        other = {**other, "_id": other["_id"].rsplit("-", 1)[0] + "-f9", "finding": "f9"}
        write_alarm(url, other)
        write_alarm(url, {**hazard, "_rev": stored["_rev"]})
        again = orjson.loads(next_event(lines)["data"])
        assert again["change"] == "changed" and again["alarm"]["_id"] == alarm["_id"]
        assert findings(again["alarm"]) == [("gas_safe", "阁楼住人处使用煤气灶做饭", "rectified", "2026-03-03")]
