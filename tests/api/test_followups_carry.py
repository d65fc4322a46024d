"""A working group (专班整治) stays in the shop from month to month until its end is recorded: a later month's view
carries the one recorded in an earlier month (its row, its outstanding, the month's figures, the report, the export
and the e-file say so), the office ends it from the later month, and ending one that is not in place is refused with
a Chinese reason. Talks and inspections stay the month's own.

The world is tests/api/test_followups.py's (minglou: S0001-S0003, office zhao; xihu: T0001, office sun), with three
more months of minglou's list: 2025-04 black-lists S0001 (flagged) and S0002; 2025-05 black-lists S0001 (no longer
flagged) and S0002; 2025-06 black-lists S0002 alone (S0001 has left the list); 2025-07 black-lists S0002 alone
and flags S0001 (black in March, April and May: 3 of the last 6 months) though it is on neither list. On either
backend (tests/backends.py)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from server.models import Ranking
from tests.api.test_followups import (
    CJK,
    GROUP,
    INSPECTION,
    MONTH,
    TALK,
    _post,
    _snapshot,
    district_with,
    march_snapshots,
)
from tests.api.test_subdistrict_offices import District
from tests.backends import BACKENDS, sqlite_only

APRIL, MAY, JUNE, JULY = "2025-04", "2025-05", "2025-06", "2025-07"


def _later(month: str, entries: list[tuple[str, int, str | None]], group: list[str]) -> dict[str, Any]:
    """minglou's snapshot of a later month, as the validators write it."""
    doc = _snapshot("minglou", entries, group)
    doc.update({"_id": f"office:ranking:minglou:{month}", "month": month, "as_of": f"{month}-28"})
    return Ranking.model_validate(doc).to_doc()


@pytest.fixture(params=BACKENDS)
def district(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[District]:
    yield from district_with(
        request,
        tmp_path,
        [
            *march_snapshots(),
            _later(APRIL, [("S0003", 112, "red"), ("S0001", 85, "black"), ("S0002", 88, "black")], ["S0001"]),
            _later(MAY, [("S0003", 115, "red"), ("S0001", 90, "black"), ("S0002", 91, "black")], []),
            _later(JUNE, [("S0003", 116, "red"), ("S0001", 101, None), ("S0002", 93, "black")], []),
            _later(JULY, [("S0003", 117, "red"), ("S0001", 103, None), ("S0002", 94, "black")], ["S0001"]),
        ],
    )


def _item(d: District, month: str, shop: str) -> dict[str, Any]:
    items = d.get(f"/api/office/rankings/{month}/followups", d.zhao)["items"]
    return next(i for i in items if i["shop"] == shop)


def _counts(d: District, month: str) -> dict[str, int]:
    counts: dict[str, int] = d.get(f"/api/office/rankings/{month}/followups", d.zhao)["counts"]
    return counts


def test_a_working_group_in_place_carries_into_the_next_months_until_it_is_ended_there(district: District) -> None:
    d = district
    assert _post(d, "S0001", TALK, d.zhao).status_code == 201
    assert _post(d, "S0001", GROUP, d.zhao).status_code == 201  # 进驻 2025-03-10, recorded for March

    # April: the group is still in the shop; it is not waiting for one. The talk was March's: April asks again.
    april = _item(d, APRIL, "S0001")
    group = april["followup"]["working_group"]
    assert (group["status"], group["started"], group["month"], group["carried"]) == (
        "active",
        "2025-03-10",
        MONTH,
        True,
    )
    assert group["members"] == GROUP["members"]
    assert april["followup"]["talk"] is None and april["followup"]["actions"] == []
    assert april["outstanding"] == ["talk", "inspection"]
    counts = _counts(d, APRIL)
    assert (counts["working_group"], counts["group_active"], counts["outstanding"]) == (1, 1, 2)
    page = d.get(f"/api/office/ranking?month={APRIL}&list=black", d.zhao)
    row = next(e for e in page["entries"] if e["shop"] == "S0001")
    assert row["followup"]["working_group"]["carried"] and row["outstanding"] == ["talk", "inspection"]
    assert page["followups"]["group_active"] == 1
    # The month's talk and inspection done: S0001 is followed up without recording the group again.
    assert _post(d, "S0001", {**TALK, "on": "2025-04-03"}, d.zhao, month=APRIL).status_code == 201
    answer = _post(d, "S0001", {**INSPECTION, "on": "2025-04-08"}, d.zhao, month=APRIL)
    assert answer.status_code == 201, answer.text
    assert answer.json()["outstanding"] == [] and answer.json()["working_group"]["carried"]
    assert _counts(d, APRIL)["outstanding"] == 1  # S0002 alone
    assert _item(d, MAY, "S0001")["followup"]["working_group"]["month"] == MONTH  # and May too

    # Ended from April: the day it left is enough, its start and members are kept; April records it.
    ended = _post(d, "S0001", {"action": "working_group", "status": "ended", "ended": "2025-04-20"}, d.zhao, APRIL)
    assert ended.status_code == 201, ended.text
    group = ended.json()["working_group"]
    assert (group["status"], group["started"], group["ended"]) == ("ended", "2025-03-10", "2025-04-20")
    assert group["members"] == GROUP["members"] and "carried" not in group
    assert _counts(d, APRIL)["group_ended"] == 1 and _counts(d, APRIL)["group_active"] == 0
    # March keeps what it was; May no longer carries it (the group left before May began).
    assert _item(d, MONTH, "S0001")["followup"]["working_group"]["status"] == "active"
    assert _item(d, MAY, "S0001")["followup"] is None and _counts(d, MAY)["group_active"] == 0


def test_ending_a_working_group_that_is_not_in_place_is_refused_in_chinese(district: District) -> None:
    d = district
    end = {"action": "working_group", "status": "ended", "ended": "2025-04-20"}
    # None recorded: nothing to end.
    nothing = _post(d, "S0001", end, d.zhao, APRIL)
    assert nothing.status_code == 400 and nothing.json()["reason"].startswith(
        "店铺 S0001 在 2025-04 没有进驻中的专班整治"
    )
    # Started in March and ended in April: ending it again, in April or May, is refused.
    assert _post(d, "S0001", GROUP, d.zhao).status_code == 201
    assert _post(d, "S0001", end, d.zhao, APRIL).status_code == 201
    again = _post(d, "S0001", {**end, "ended": "2025-04-25"}, d.zhao, APRIL)
    assert again.status_code == 400 and again.json()["reason"].startswith("店铺 S0001 的专班整治已于 2025-04-20 结束")
    later = _post(d, "S0001", {**end, "ended": "2025-05-02"}, d.zhao, MAY)
    assert later.status_code == 400 and "未列入 2025-05 的专班整治" in later.json()["reason"]  # nor flagged there
    # An active group needs its start and members.
    bare = _post(d, "S0001", {"action": "working_group", "status": "active"}, d.zhao, MAY)
    assert bare.status_code == 400 and bare.json()["reason"].startswith("进驻中的专班整治须填写进驻日期")
    for answer in (nothing, again, later, bare):
        reason = answer.json()["reason"]
        assert CJK.match(reason) and re.search(r"[a-z]", reason), reason
    assert len(_item(d, APRIL, "S0001")["followup"]["actions"]) == 1  # nothing more recorded


@sqlite_only("district")
def test_a_group_that_came_and_went_is_recorded_at_once(district: District) -> None:
    # Nothing in place, but the office gives the whole group: its start, members and end, in one record.
    d = district
    whole = {**GROUP, "status": "ended", "ended": "2025-03-28"}
    answer = _post(d, "S0001", whole, d.zhao)
    assert answer.status_code == 201, answer.text
    assert answer.json()["working_group"]["started"] == GROUP["started"]
    assert _counts(d, MONTH)["group_ended"] == 1
    assert _item(d, APRIL, "S0001")["followup"] is None  # it left before April began: nothing carried


@sqlite_only("district")
def test_a_carried_group_is_ended_from_a_month_that_no_longer_flags_the_shop(district: District) -> None:
    d = district
    assert _post(d, "S0001", GROUP, d.zhao).status_code == 201
    # May black-lists S0001 without flagging it: the group is still there, counted and shown.
    may = _item(d, MAY, "S0001")
    assert not may["working_group"] and may["followup"]["working_group"]["carried"]
    assert may["outstanding"] == ["talk", "inspection"]
    counts = _counts(d, MAY)
    assert (counts["working_group"], counts["group_active"]) == (1, 1)
    # A new group is still refused for a shop May does not flag and that has none; ending the one in place is taken.
    refused = _post(d, "S0002", {**GROUP, "started": "2025-05-02"}, d.zhao, MAY)
    assert refused.status_code == 400 and "未列入 2025-05 的专班整治" in refused.json()["reason"]
    end = {"action": "working_group", "status": "ended", "ended": "2025-05-06", "note": "隐患全部整改"}
    assert _post(d, "S0001", end, d.zhao, MAY).status_code == 201
    assert _counts(d, MAY)["group_ended"] == 1


def test_a_shop_that_left_the_black_list_has_its_working_group_ended_from_the_later_month(district: District) -> None:
    d, client = district, district.world.client
    assert _post(d, "S0001", GROUP, d.zhao).status_code == 201
    # June no longer black-lists S0001, but the group is still in the shop: June shows it apart, asking nothing.
    june = d.get(f"/api/office/rankings/{JUNE}/followups", d.zhao)
    assert [i["shop"] for i in june["items"]] == ["S0002"]
    [left] = june["off_list"]
    assert (left["shop"], left["list"], left["outstanding"]) == ("S0001", None, [])
    group = left["followup"]["working_group"]
    assert (group["status"], group["month"], group["carried"]) == ("active", MONTH, True)
    assert (june["counts"]["black"], june["counts"]["off_list"], june["counts"]["outstanding"]) == (1, 1, 1)
    # The ranking's working-group table holds it; the black list does not.
    groups = d.get(f"/api/office/ranking?month={JUNE}&working_group=1", d.zhao)["entries"]
    assert [(e["shop"], e["outstanding"]) for e in groups] == [("S0001", [])]
    assert groups[0]["followup"]["working_group"]["carried"] and not groups[0]["working_group"]
    assert [e["shop"] for e in d.get(f"/api/office/ranking?month={JUNE}&list=black", d.zhao)["entries"]] == ["S0002"]

    # Only its end may be recorded there; a shop off the list without a group is asked for nothing.
    for body in (TALK, {**INSPECTION, "on": "2025-06-03"}, {**GROUP, "started": "2025-06-02"}):
        refused = _post(d, "S0001", body, d.zhao, JUNE)
        assert refused.status_code == 400, refused.text
        assert refused.json()["reason"].startswith("店铺 S0001 已不在 2025-06 的黑榜上，只能记录其专班整治的结束")
    end = {"action": "working_group", "status": "ended", "ended": "2025-06-05"}
    none = _post(d, "S0003", end, d.zhao, JUNE)
    assert none.status_code == 400 and none.json()["reason"].startswith("店铺 S0003 不在 2025-06 的黑榜上")
    ended = _post(d, "S0001", end, d.zhao, JUNE)
    assert ended.status_code == 201, ended.text
    assert ended.json()["outstanding"] == []
    group = ended.json()["working_group"]
    assert (group["status"], group["started"], group["ended"]) == ("ended", "2025-03-10", "2025-06-05")

    # June keeps showing it, ended; the e-file has no group in place; the report and the export say so.
    june = d.get(f"/api/office/rankings/{JUNE}/followups", d.zhao)
    assert [i["followup"]["working_group"]["status"] for i in june["off_list"]] == ["ended"]
    assert d.get("/api/office/shops/S0001/efile", d.zhao)["working_group"] is None
    finished = "专班整治已结束（2025-03-10 至 2025-06-05，安监所、消防所、市场监管所）"
    report = client.get(f"/api/office/reports/{JUNE}.html", headers=d.zhao).text
    assert "另有 1 家已出黑榜，本月仍有专班整治。" in report
    assert "已出黑榜、本月仍有专班整治：1 家" in report and finished in report
    export = client.get(f"/api/office/exports/rankings.csv?month={JUNE}", headers=d.zhao)
    rows = {row[2]: row for row in csv.reader(io.StringIO(export.content.decode("utf-8-sig")))}
    assert rows["S0001"][-1] == finished and rows["S0003"][-1] == ""


def test_a_shop_flagged_off_the_black_list_has_a_working_group_recorded_and_nothing_else(district: District) -> None:
    d, client = district, district.world.client
    # July flags S0001 (black-listed often enough) though it is not on July's black list: no group yet, none asked.
    july = d.get(f"/api/office/rankings/{JULY}/followups", d.zhao)
    assert [i["shop"] for i in july["items"]] == ["S0002"] and july["off_list"] == []
    [row] = d.get(f"/api/office/ranking?month={JULY}&working_group=1", d.zhao)["entries"]
    assert (row["shop"], row["list"], row["working_group"], row.get("followup")) == ("S0001", None, True, None)
    # The export and the report say what the screen says of it (已出黑榜 · 专班整治未组建): both left it out.
    export = client.get(f"/api/office/exports/rankings.csv?month={JULY}", headers=d.zhao)
    rows = {row[2]: row for row in csv.reader(io.StringIO(export.content.decode("utf-8-sig")))}
    assert rows["S0001"][-4:] == ["是", "", "", "专班整治未组建"] and rows["S0003"][-1] == ""
    report = client.get(f"/api/office/reports/{JULY}.html", headers=d.zhao).text
    assert "已出黑榜、列入专班整治、尚未组建：1 家" in report and "本月仍有专班整治" not in report
    assert "（S0001）</td><td>未上榜</td><td>专班整治未组建</td>" in report

    # A talk and an inspection are for the black list's shops: refused, saying the group is what it may have.
    for body in (TALK, {**INSPECTION, "on": "2025-07-03"}):
        refused = _post(d, "S0001", {**body, "on": "2025-07-03"}, d.zhao, JULY)
        assert refused.status_code == 400, refused.text
        reason = refused.json()["reason"]
        assert reason.startswith("店铺 S0001 不在 2025-07 的黑榜上") and "只能记录专班整治" in reason
        assert CJK.match(reason) and re.search(r"[a-z]", reason), reason
    # A shop neither black-listed nor flagged is still asked for nothing, a working group neither.
    for body in ({**GROUP, "started": "2025-07-02"}, {**TALK, "on": "2025-07-03"}):
        none = _post(d, "S0003", body, d.zhao, JULY)
        assert none.status_code == 400 and none.json()["reason"].startswith("店铺 S0003 不在 2025-07 的黑榜上")

    # The flag is reason enough for a group: recorded, and the month shows it apart (off_list), asking nothing.
    recorded = _post(d, "S0001", {**GROUP, "started": "2025-07-02"}, d.zhao, JULY)
    assert recorded.status_code == 201, recorded.text
    assert recorded.json()["working_group"]["status"] == "active" and recorded.json()["outstanding"] == []
    july = d.get(f"/api/office/rankings/{JULY}/followups", d.zhao)
    [left] = july["off_list"]
    assert (left["shop"], left["list"], left["working_group"], left["outstanding"]) == ("S0001", None, True, [])
    assert left["followup"]["working_group"]["started"] == "2025-07-02"
    assert (july["counts"]["black"], july["counts"]["off_list"], july["counts"]["outstanding"]) == (1, 1, 1)
    [row] = d.get(f"/api/office/ranking?month={JULY}&working_group=1", d.zhao)["entries"]
    assert row["followup"]["working_group"]["status"] == "active" and row["outstanding"] == []

    # The report and the export print it; its end is recorded from July too.
    active = "专班整治进驻中（2025-07-02 起，安监所、消防所、市场监管所）"
    report = client.get(f"/api/office/reports/{JULY}.html", headers=d.zhao).text
    assert "已出黑榜、本月仍有专班整治：1 家" in report and active in report
    export = client.get(f"/api/office/exports/rankings.csv?month={JULY}", headers=d.zhao)
    rows = {row[2]: row for row in csv.reader(io.StringIO(export.content.decode("utf-8-sig")))}
    assert rows["S0001"][-1] == active and rows["S0001"][-4] == "是" and rows["S0003"][-1] == ""
    end = {"action": "working_group", "status": "ended", "ended": "2025-07-20"}
    assert _post(d, "S0001", end, d.zhao, JULY).status_code == 201
    [left] = d.get(f"/api/office/rankings/{JULY}/followups", d.zhao)["off_list"]
    assert (left["followup"]["working_group"]["status"], left["followup"]["working_group"]["ended"]) == (
        "ended",
        "2025-07-20",
    )


def test_the_report_the_export_and_the_e_file_show_the_carried_group(district: District) -> None:
    d, client = district, district.world.client
    assert _post(d, "S0001", GROUP, d.zhao).status_code == 201
    carried = "专班整治进驻中（2025-03-10 起，安监所、消防所、市场监管所；沿用 2025-03 的记录）"

    report = client.get(f"/api/office/reports/{APRIL}.html", headers=d.zhao).text
    assert carried in report and "专班整治未组建" not in report
    assert "专班整治 1 家（进驻中 1 家）" in report
    export = client.get(f"/api/office/exports/rankings.csv?month={APRIL}", headers=d.zhao)
    rows = {row[2]: row for row in csv.reader(io.StringIO(export.content.decode("utf-8-sig")))}
    assert rows["S0001"][-1] == carried

    efile = d.get("/api/office/shops/S0001/efile", d.zhao)
    assert efile["working_group"]["status"] == "active" and efile["working_group"]["month"] == MONTH
    assert _post(d, "S0001", {"action": "working_group", "status": "ended", "ended": "2025-04-20"}, d.zhao, APRIL)
    efile = d.get("/api/office/shops/S0001/efile", d.zhao)
    assert efile["working_group"] is None
    done = [(e["action"], e["month"], e["status"], e["at"]) for e in efile["timeline"] if e["type"] == "followup"]
    assert done == [("working_group", APRIL, "ended", "2025-04-20"), ("working_group", MONTH, "active", "2025-03-10")]
    report = client.get(f"/api/office/reports/{APRIL}.html", headers=d.zhao).text
    assert "专班整治已结束（2025-03-10 至 2025-04-20，安监所、消防所、市场监管所）" in report


def test_only_the_sub_districts_own_earlier_months_are_carried(district: District) -> None:
    d, store = district, district.world.state.store

    def doc(month: str, subdistrict: str, action: dict[str, Any]) -> dict[str, Any]:
        at = f"{month}-25T09:00:00+08:00"
        recorded = {**action, "recorded_by": "office:zhao", "recorded_at": at}
        return {
            "_id": f"office:followup:S0001:{month}",
            "type": "followup",
            "schema": 1,
            "subdistrict": subdistrict,
            "month": month,
            "shop": "S0001",
            "actions": [recorded],
            "updated_at": at,
        }

    # minglou's group went in in January; in February, with the shop's community in xihu for a while, xihu's office
    # recorded a group of its own there as ended. That is not minglou's to read: its April carries its January group.
    minglou = doc("2025-01", "minglou", {**GROUP, "started": "2025-01-15"})
    xihu = doc("2025-02", "xihu", {**GROUP, "status": "ended", "started": "2025-02-03", "ended": "2025-02-20"})
    assert all(r.get("ok") for r in d.world.call(store.bulk_docs, [minglou, xihu]))
    group = _item(d, APRIL, "S0001")["followup"]["working_group"]
    assert (group["status"], group["started"], group["month"]) == ("active", "2025-01-15", "2025-01")
    assert "2025-02-20" not in str(d.get(f"/api/office/ranking?month={APRIL}", d.zhao))
