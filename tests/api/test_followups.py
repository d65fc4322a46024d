"""What the office did about a month's black list (黑榜跟进): a talk (约谈), a special inspection (专项检查) and, for a
shop flagged for one, a working group (专班整治), recorded with who and when; shown on the ranking's black rows, in
the month's figures, the monthly report, the rankings export and the shop's e-file; refused with a reason, Chinese
first, when it does not fit; and held to the sub-district of the office that records or reads it.

The world is the two sub-districts' (tests/api/test_subdistrict_offices.py): minglou (S0001-S0003, office zhao) and
xihu (T0001, office sun); wang is the district's office. A past month's snapshots are written as the validators
make them: minglou's black list is S0002 and S0001, S0001 flagged for a working group; xihu's is T0001.

On either backend (tests/backends.py): a follow-up is one document per shop and month, updated by every recording;
the refusals, checked before anything is read or written, on the embedded store alone."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from server.models import Ranking
from server.models.followups import FollowUp, followup_id
from server.store.protocol import AllDocsQuery
from tests.api.test_subdistrict_offices import District, open_district
from tests.backends import BACKENDS, sqlite_only, store_settings

MONTH = "2025-03"
FOLLOWUPS = f"/api/office/rankings/{MONTH}/followups"
TALK = {"action": "talk", "on": "2025-03-05", "talked_to": "店主王某", "by": "安监所张丽", "note": "已签整改承诺书"}
INSPECTION = {"action": "inspection", "status": "done", "on": "2025-03-08", "by": "消防所", "note": "灭火器已更换"}
PLANNED = {"action": "inspection", "status": "planned", "due": "2025-03-20", "by": "燃气公司"}
GROUP = {
    "action": "working_group",
    "status": "active",
    "started": "2025-03-10",
    "members": "安监所、消防所、市场监管所",
}
CJK = re.compile(r"[\u4e00-\u9fff]")


def _snapshot(subdistrict: str, entries: list[tuple[str, int, str | None]], group: list[str]) -> dict[str, Any]:
    doc = {
        "_id": f"office:ranking:{subdistrict}:{MONTH}",
        "type": "ranking",
        "schema": 1,
        "subdistrict": subdistrict,
        "month": MONTH,
        "as_of": "2025-03-31",
        "rules_version": 1,
        "entries": [
            {"shop": shop, "points": points, "rank": n + 1, "open_hazards": 0, "list": listed}
            for n, (shop, points, listed) in enumerate(entries)
        ],
        "working_group": group,
    }
    return Ranking.model_validate(doc).to_doc()


def march_snapshots() -> list[dict[str, Any]]:
    """The two sub-districts' snapshots of MONTH: minglou black-lists S0002 and S0001 (flagged), xihu T0001."""
    return [
        _snapshot("minglou", [("S0003", 110, "red"), ("S0002", 90, "black"), ("S0001", 80, "black")], ["S0001"]),
        _snapshot("xihu", [("T0001", 70, "black")], []),
    ]


def district_with(
    request: pytest.FixtureRequest, tmp_path: Path, snapshots: list[dict[str, Any]]
) -> Iterator[District]:
    """The two sub-districts' world with these ranking snapshots stored, on the backend `request.param` names."""
    with store_settings(request, request.param) as on, open_district(tmp_path, **on) as d:
        assert all(r.get("ok") for r in d.world.call(d.world.state.store.bulk_docs, snapshots))
        yield d


@pytest.fixture(params=BACKENDS)
def district(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[District]:
    yield from district_with(request, tmp_path, march_snapshots())


def _post(d: District, shop: str, body: Any, who: dict[str, str], month: str = MONTH) -> Any:
    return d.world.client.post(f"/api/office/rankings/{month}/followups/{shop}", json=body, headers=who)


def test_the_office_records_a_talk_an_inspection_and_a_working_group_and_sees_them(district: District) -> None:
    d = district
    before = d.get(FOLLOWUPS, d.zhao)
    assert [i["shop"] for i in before["items"]] == ["S0002", "S0001"]
    assert before["counts"] == {
        "black": 2,
        "talked": 0,
        "inspected": 0,
        "inspection_planned": 0,
        "working_group": 1,
        "group_active": 0,
        "group_ended": 0,
        "outstanding": 2,
        "off_list": 0,
    }
    assert before["items"][1]["outstanding"] == ["talk", "inspection", "working_group"]

    talked = _post(d, "S0001", TALK, d.zhao)
    assert talked.status_code == 201, talked.text
    answer = talked.json()
    assert answer["talk"]["on"] == "2025-03-05" and answer["talk"]["recorded_by"] == "office:zhao"
    assert answer["talk"]["recorded_at"] and answer["outstanding"] == ["inspection", "working_group"]
    assert _post(d, "S0001", PLANNED, d.zhao).status_code == 201
    assert _post(d, "S0001", INSPECTION, d.zhao).status_code == 201  # the plan carried out
    assert _post(d, "S0001", GROUP, d.wang).status_code == 201  # the district's office too
    assert _post(d, "S0002", PLANNED, d.zhao).status_code == 201

    after = d.get(FOLLOWUPS, d.zhao)
    s0001 = next(i for i in after["items"] if i["shop"] == "S0001")
    assert s0001["outstanding"] == [] and s0001["name"] == "小吃店S0001" and s0001["working_group"]
    f = s0001["followup"]
    assert (f["talk"]["talked_to"], f["inspection"]["status"], f["inspection"]["on"]) == (
        "店主王某",
        "done",
        "2025-03-08",
    )
    assert (f["working_group"]["status"], f["working_group"]["recorded_by"]) == ("active", "office:wang")
    assert [a["action"] for a in f["actions"]] == ["working_group", "inspection", "inspection", "talk"]  # newest first
    assert after["counts"] == {
        "black": 2,
        "talked": 1,
        "inspected": 1,
        "inspection_planned": 1,
        "working_group": 1,
        "group_active": 1,
        "group_ended": 0,
        "outstanding": 1,
        "off_list": 0,
    }
    # The working group ends; the document is one per shop and month, every action kept.
    ended = {**GROUP, "status": "ended", "ended": "2025-03-28", "note": "隐患全部整改"}
    assert _post(d, "S0001", ended, d.zhao).json()["working_group"]["status"] == "ended"
    stored = d.world.call(
        d.world.state.store.all_docs, AllDocsQuery(keys=[followup_id("S0001", MONTH)], include_docs=True)
    )
    doc = stored["rows"][0]["doc"]
    assert FollowUp.model_validate(doc).id == f"office:followup:S0001:{MONTH}" and len(doc["actions"]) == 5

    # The ranking page carries them on its black rows, and the month's figures with any page.
    page = d.get(f"/api/office/ranking?month={MONTH}&list=black", d.zhao)
    assert page["followups"]["talked"] == 1 and page["followups"]["group_ended"] == 1
    rows = {e["shop"]: e for e in page["entries"]}
    assert rows["S0001"]["followup"]["talk"]["on"] == "2025-03-05" and rows["S0002"]["followup"]["talk"] is None
    assert rows["S0002"]["outstanding"] == ["talk", "inspection"]
    red = d.get(f"/api/office/ranking?month={MONTH}&list=red", d.zhao)["entries"]
    assert "followup" not in red[0]  # a red-listed shop has nothing to follow up

    # Each recording is in the audit log, which minglou's office reads and xihu's does not.
    audit = d.get("/api/office/audit", d.zhao)["items"]
    recorded = [a for a in audit if a.get("event") == "followup_recorded"]
    assert len(recorded) == 6 and recorded[0]["account"] == "S0001:shop:S0001"
    assert not [a for a in d.get("/api/office/audit", d.sun)["items"] if a.get("event") == "followup_recorded"]


def test_thirty_talks_recorded_at_once_are_all_kept(district: District) -> None:
    # Offices recording for one shop at the same moment: none is answered 409, none is lost.
    d = district
    notes = [f"第 {n} 次约谈" for n in range(30)]
    with ThreadPoolExecutor(max_workers=30) as pool:
        answers = list(pool.map(lambda note: _post(d, "S0001", {**TALK, "note": note}, d.zhao), notes))
    assert [a.status_code for a in answers] == [201] * 30
    item = next(i for i in d.get(FOLLOWUPS, d.zhao)["items"] if i["shop"] == "S0001")
    assert sorted(a["note"] for a in item["followup"]["actions"]) == sorted(notes)


def test_the_report_the_export_and_the_e_file_say_what_was_done(district: District) -> None:
    d = district
    # Nothing recorded yet: the flagged shop's working group reads 专班整治未组建 in the export, as on the screen and
    # in the report (the export's column was empty while the shop had no follow-up at all).
    export = d.world.client.get(f"/api/office/exports/rankings.csv?month={MONTH}", headers=d.zhao)
    by_shop = {row[2]: row for row in csv.reader(io.StringIO(export.content.decode("utf-8-sig")))}
    assert by_shop["S0001"][-4:] == ["是", "未约谈", "专项检查未安排", "专班整治未组建"]
    assert by_shop["S0002"][-4:] == ["", "未约谈", "专项检查未安排", ""]  # black-listed, not flagged
    html = d.world.client.get(f"/api/office/reports/{MONTH}.html", headers=d.zhao).text
    assert "未约谈<br>专项检查未安排<br>专班整治未组建" in html

    assert _post(d, "S0001", TALK, d.zhao).status_code == 201
    assert _post(d, "S0001", GROUP, d.zhao).status_code == 201
    assert _post(d, "S0002", PLANNED, d.zhao).status_code == 201

    report = d.world.client.get(f"/api/office/reports/{MONTH}.html", headers=d.zhao)
    assert report.status_code == 200
    html = report.text
    assert (
        "黑榜 2 家：已约谈 1 家，已专项检查 0 家（另有 1 家已安排），专班整治 1 家（进驻中 1 家），尚有 2 家待跟进。"
        in html
    )
    assert "已约谈 2025-03-05：店主王某（安监所张丽）：已签整改承诺书" in html
    assert "专项检查待完成（期限 2025-03-20，燃气公司）" in html and "未约谈" in html
    assert "专班整治进驻中（2025-03-10 起，安监所、消防所、市场监管所）" in html

    export = d.world.client.get(f"/api/office/exports/rankings.csv?month={MONTH}", headers=d.zhao)
    rows = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert rows[0][-4:] == ["专班整治", "约谈", "专项检查", "专班整治情况"]
    by_shop = {row[2]: row for row in rows[1:]}
    assert by_shop["S0001"][-3].startswith("已约谈 2025-03-05") and by_shop["S0001"][-2] == "专项检查未安排"
    assert by_shop["S0001"][-1].startswith("专班整治进驻中") and by_shop["S0002"][-1] == ""
    assert by_shop["S0003"][-3:] == ["", "", ""]  # red-listed

    timeline = d.get("/api/office/shops/S0001/efile", d.zhao)["timeline"]
    done = [e for e in timeline if e["type"] == "followup"]
    assert [(e["action"], e["month"], e["at"]) for e in done] == [
        ("working_group", MONTH, "2025-03-10"),
        ("talk", MONTH, "2025-03-05"),
    ]
    assert done[1]["talked_to"] == "店主王某" and done[1]["recorded_by"] == "office:zhao"


@pytest.mark.parametrize(
    ("shop", "body", "status", "words"),
    [
        ("S0001", {**TALK, "on": "2999-01-01"}, 400, "不能晚于今天"),  # a talk in the future
        ("S0001", {**TALK, "on": "2025-02-28"}, 400, "不能早于"),  # before the month began
        ("S0001", {**INSPECTION, "on": "2999-01-01"}, 400, "检查日期不能晚于今天"),
        ("S0001", {**PLANNED, "due": "2025-02-01"}, 400, "完成期限不能早于"),
        ("S0001", {**GROUP, "started": "2999-01-01"}, 400, "进驻日期不能晚于今天"),
        ("S0001", {**GROUP, "status": "ended", "ended": "2025-03-01"}, 400, "结束日期早于进驻日期"),
        ("S0001", {**GROUP, "status": "ended"}, 400, "须填写结束日期"),
        ("S0003", TALK, 400, "不在 2025-03 的黑榜上"),  # red-listed
        ("S0002", GROUP, 400, "未列入 2025-03 的专班整治"),  # black-listed, not flagged
        ("S0001", {**TALK, "note": "很" * 501}, 400, "备注超过 500 字"),
        ("S0001", {**TALK, "talked_to": ""}, 400, "约谈对象不能为空"),
        ("S0001", {"action": "praise", "on": "2025-03-05"}, 400, "跟进事项须为"),
        ("S0001", {"on": "2025-03-05"}, 400, "跟进事项须为"),
        ("S0001", {**TALK, "on": "5 March"}, 400, "日期须填写日期"),
        ("S0001", {"action": "inspection", "status": "done", "by": "消防所"}, 400, "须填写检查日期"),
        ("S0001", {**TALK, "extra": 1}, 400, "不认识的字段"),
        ("S0001", [TALK], 400, "记录填写有误"),
    ],
)
@sqlite_only("district")
def test_a_follow_up_that_does_not_fit_is_refused_with_a_chinese_reason(
    district: District, shop: str, body: Any, status: int, words: str
) -> None:
    d = district
    answer = _post(d, shop, body, d.zhao)
    assert answer.status_code == status, answer.text
    reason = answer.json()["reason"]
    assert CJK.match(reason) and words in reason, reason
    assert re.search(r"[a-z]", reason), reason  # the English reason follows
    assert d.get(FOLLOWUPS, d.zhao)["counts"]["outstanding"] == 2  # nothing recorded


@sqlite_only("district")
def test_a_month_without_a_ranking_or_a_bad_month_is_refused(district: District) -> None:
    d = district
    assert _post(d, "S0001", TALK, d.zhao, month="2024-01").status_code == 404
    assert _post(d, "S0001", TALK, d.zhao, month="2025-13").status_code == 400
    assert d.world.client.get("/api/office/rankings/2024-01/followups", headers=d.zhao).status_code == 404
    assert _post(d, "S9999", TALK, d.zhao).status_code == 404


def test_a_sub_district_office_follows_up_its_own_black_list_only(district: District) -> None:
    d, client = district, district.world.client
    # xihu's office naming minglou's shop is answered as naming a shop there is not, and nothing is written.
    foreign, unknown = _post(d, "S0001", TALK, d.sun), _post(d, "S9999", TALK, d.sun)
    assert (foreign.status_code, unknown.status_code) == (404, 404)
    assert foreign.json()["reason"].replace("S0001", "X") == unknown.json()["reason"].replace("S9999", "X")
    assert d.get(FOLLOWUPS, d.zhao)["counts"]["talked"] == 0
    # Its own list is T0001 alone; minglou's named is a 403.
    own = d.get(FOLLOWUPS, d.sun)
    assert [i["shop"] for i in own["items"]] == ["T0001"] and "S000" not in str(own)
    assert client.get(f"{FOLLOWUPS}?subdistrict=minglou", headers=d.sun).status_code == 403
    assert _post(d, "T0001", TALK, d.sun).status_code == 201
    assert d.get(FOLLOWUPS, d.sun)["counts"]["talked"] == 1
    # minglou's office sees nothing of it, and cannot write to xihu's shop either.
    assert d.get(FOLLOWUPS, d.zhao)["counts"]["talked"] == 0
    assert _post(d, "T0001", INSPECTION, d.zhao).status_code == 404
    assert "T0001" not in str(d.get(f"/api/office/ranking?month={MONTH}", d.zhao))
    # The district's office reads either, naming which.
    assert d.get(f"{FOLLOWUPS}?subdistrict=xihu", d.wang)["counts"]["talked"] == 1
    assert d.get(f"{FOLLOWUPS}?subdistrict=minglou", d.wang)["counts"]["talked"] == 0
    # A grid worker records nothing.
    zhou = d.world.login("zhou", "zhou-password")
    assert _post(d, "S0001", TALK, zhou).status_code == 403
