"""What the alarm desk is told each alarm found: every item's note and where its hazard stands now, in the list, one
alarm, a step's answer and the live stream; a hazard closed after the alarm shows closed without the alarm changing.
On either backend (tests/backends.py)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import orjson
import pytest

from server.alarm_findings import EN, ZH, InWords, Words, finding_lines, in_words
from server.app import create_app
from server.exports import HAZARD_STATUS, SEVERITY
from server.ids import new_ulid
from server.office.schemas import DeskAlarm
from server.settings import Settings
from server.store import open_store
from tests.api.conftest import SECRET, World, open_world, wait_until
from tests.api.live import serve
from tests.api.projections import alarm_doc, hazard_doc, write
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


def test_a_desk_that_reconnects_is_replayed_the_hazards_as_they_are_now(tmp_path: Path, on: dict[str, Any]) -> None:
    """A desk away while an alarm's hazard was closed is replayed that alarm's events with the hazard closed, not as
    they were first sent: a resolved alarm is not told again, so the stale state would stay on its card."""
    settings = Settings(data_dir=tmp_path / "data", secret=SECRET, run_validators=False, **on)
    note = "阁楼住人处使用煤气灶做饭"
    with serve(create_app(settings)) as url, httpx.Client(timeout=httpx.Timeout(10.0)) as client:
        alarm = alarm_doc("S0001", datetime.now(SHANGHAI).replace(microsecond=0).isoformat())
        write_alarm(url, hazard_doc(alarm, "open", note))
        with client.stream("GET", f"{url}/api/office/alarms/stream", headers=ADMIN) as stream:
            lines = stream.iter_lines()
            next_event(lines)  # retry
            write_alarm(url, alarm)
            first = next_event(lines)
            resolved = client.post(f"{url}/api/office/alarms/{alarm['_id']}/resolve", headers=ADMIN, json={})
            assert resolved.status_code == 200, resolved.text
            second = next_event(lines)
            assert findings(orjson.loads(second["data"])["alarm"]) == [("gas_safe", note, "open", "2026-03-03")]

        # While the desk is away, the hazard is verified and closed.
        stored = client.get(f"{url}/sync/{alarm['items'][0]['hazard']}", headers=ADMIN).json()
        write_alarm(url, {**hazard_doc(alarm, "closed", note), "_rev": stored["_rev"]})

        headers = {**ADMIN, "Last-Event-ID": first["id"]}
        with client.stream("GET", f"{url}/api/office/alarms/stream", headers=headers) as stream:
            lines = stream.iter_lines()
            next_event(lines)  # retry
            replayed = next_event(lines)
            assert replayed["id"] == second["id"]
            data = orjson.loads(replayed["data"])
            assert data["change"] == "changed" and data["alarm"]["status"] == "resolved"
            assert findings(data["alarm"]) == [("gas_safe", note, "closed", "2026-03-03")]


def test_the_webhook_says_each_finding_as_the_desk_card_does() -> None:
    """The lines the webhook sends: the desk's words for an item, else the checklist's, else its id; overdue once the
    deadline has passed; the deadline only while the hazard is to be fixed; no state when it cannot be read."""
    alarm = {
        "items": [
            {
                "item": "gas_safe",
                "severity": "serious",
                "note": "软管老化",
                "hazard_status": "open",
                "deadline": "2026-12-01",
            },
            {
                "item": "ebike_indoor_charging",
                "severity": "serious",
                "note": "",
                "hazard_status": "rectified",
                "deadline": "2026-11-30",
            },
            {
                "item": "food_storage",
                "severity": "major",
                "note": "",
                "hazard_status": "closed",
                "deadline": "2026-11-30",
            },
            {"item": "hood_clean", "severity": "general", "note": "", "hazard_status": None, "deadline": None},
        ]
    }
    labels = {"food_storage": "食品是否分类存放", "gas_safe": "燃气瓶/管道及报警器是否安全"}
    assert finding_lines(alarm, labels, "2026-12-01") == [
        "严重 燃气瓶/管道及报警器不安全 · 软管老化 · 待整改 · 整改期限 2026-12-01",
        "严重 电瓶车店内充电 · 已整改待复查",
        "较大 食品是否分类存放 · 已销号",
        "一般 hood_clean",
    ]
    assert (
        finding_lines(alarm, labels, "2026-12-02")[0]
        == "严重 燃气瓶/管道及报警器不安全 · 软管老化 · 逾期 · 整改期限 2026-12-01"
    )
    # In English, as the desk in English draws the card: the checklist's English words for an item the office
    # added; the note as the grid worker wrote it.
    labels_en = {"food_storage": "Is food stored by kind?", "gas_safe": "Are the gas cylinder, hose and alarm safe?"}
    assert finding_lines(alarm, labels_en, "2026-12-02", EN) == [
        "Serious Gas cylinder, hose or alarm unsafe · 软管老化 · Overdue · Deadline 2026-12-01",
        "Serious E-bike charged inside · Rectified, awaiting check",
        "Major Is food stored by kind? · Closed",
        "General hood_clean",
    ]


def test_the_webhook_says_an_item_the_office_added_in_its_checklists_words(tmp_path: Path, on: dict[str, Any]) -> None:
    """An item the desk has no words of its own for is said in its checklist's words, Chinese and English, with the
    note and the hazard's state read from the store."""
    alarm = alarm_doc("S0001", "2026-03-02T10:00:00+08:00", item="hood_clean")
    template = {
        "_id": "district:template:kitchen",
        "type": "template",
        "version": 1,
        "items": [{"id": "hood_clean", "label_zh": "油烟机是否清洗", "label_en": "Range hood cleaned"}],
    }

    async def said() -> InWords:
        store = await open_store(Settings(data_dir=tmp_path / "data", **on))
        try:
            await write(store, template, hazard_doc(alarm, "open", "油污很厚"), alarm)
            return await in_words(store, alarm, "2026-03-04")
        finally:
            await store.close()

    told = asyncio.run(said())
    assert told.zh == ["严重 油烟机是否清洗 · 油污很厚 · 逾期 · 整改期限 2026-03-03"]
    assert told.en == ["Serious Range hood cleaned · 油污很厚 · Overdue · Deadline 2026-03-03"]
    assert findings(told.alarm) == [("hood_clean", "油污很厚", "open", "2026-03-03")]


@pytest.mark.parametrize(("table", "words"), [("zh", ZH), ("en", EN)])
def test_the_webhooks_words_are_the_desks(table: str, words: Words) -> None:
    """The server's copy of the desk's words (pwa/src/office/i18n.ts), Chinese and English, has not drifted from it."""
    source = (Path(__file__).parents[2] / "pwa/src/office/i18n.ts").read_text(encoding="utf-8")
    zh, en = source.index("const zh = {"), source.index("const en")
    said = dict(
        re.findall(r"^\s*'([a-z]+\.[a-z_]+)': '([^']*)',$", source[zh:en] if table == "zh" else source[en:], re.M)
    )
    assert {key[5:]: word for key, word in said.items() if key.startswith("item.")} == words.items
    assert {key[7:]: word for key, word in said.items() if key.startswith("hazard.")} == words.hazard
    assert {key[9:]: word for key, word in said.items() if key.startswith("severity.")} == words.severity
    assert said["efile.deadline"] == words.deadline
    assert ZH.severity == SEVERITY and ZH.hazard == HAZARD_STATUS  # as the exports and the monthly report say them
