"""The black list's follow-up at its edges (tests/api/test_followups.py has the ordinary use): the operator's token
records one, a name of spaces alone is refused (and spaces around one dropped), a planned inspection has no day
done, a shop whose community moved to another sub-district does not carry what that sub-district's office
recorded back into the list of the one it left, and both offices following it up for the same month keep their own.

The world and the month's snapshots are tests/api/test_followups.py's: minglou's black list of 2025-03 is S0002 and
S0001 (office zhao), xihu's is T0001 (office sun); wang is the district's office. On either backend, the refusals
on the embedded store alone (as there)."""

from __future__ import annotations

import pytest

from server.store.upsert import read
from tests.api.conftest import wait_until
from tests.api.test_followups import CJK, FOLLOWUPS, GROUP, INSPECTION, MONTH, PLANNED, TALK, _post, _snapshot
from tests.api.test_followups import district as district  # the fixture: the same world and snapshots
from tests.api.test_subdistrict_offices import District
from tests.backends import sqlite_only


@sqlite_only("district")
def test_the_operator_records_a_follow_up(district: District) -> None:
    d = district
    # The route takes an office or operator token; the operator's user id ("admin") was refused by the stored
    # document's model after the checks, a 500 with nothing written.
    answer = _post(d, "S0001", TALK, d.world.admin())
    assert answer.status_code == 201, answer.text
    assert answer.json()["talk"]["recorded_by"] == "admin"
    assert d.get(FOLLOWUPS, d.zhao)["counts"]["talked"] == 1


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({**TALK, "talked_to": "   "}, "约谈对象不能为空"),
        ({**TALK, "by": " \u3000\t"}, "负责人或部门不能为空"),  # an ideographic space, as a Chinese keyboard types it
        ({**INSPECTION, "by": "  "}, "负责人或部门不能为空"),
        ({**GROUP, "members": "\n"}, "专班成员或部门不能为空"),
    ],
)
@sqlite_only("district")
def test_blank_names_are_refused_with_a_chinese_reason(district: District, body: dict[str, str], words: str) -> None:
    d = district
    # Spaces alone were recorded as who was talked to, who held the talk or the inspection, or the group's members.
    answer = _post(d, "S0001", body, d.zhao)
    assert answer.status_code == 400, answer.text
    reason = answer.json()["reason"]
    assert CJK.match(reason) and reason.startswith(words) and "at least 1 character" in reason, reason
    assert d.get(FOLLOWUPS, d.zhao)["counts"]["outstanding"] == 2  # nothing recorded
    # Spaces around a name are dropped, as the other office forms do.
    spaced = _post(d, "S0001", {**TALK, "talked_to": " 店主王某 ", "by": "安监所张丽\u3000", "note": "  "}, d.zhao)
    assert spaced.status_code == 201, spaced.text
    talk = spaced.json()["talk"]
    assert (talk["talked_to"], talk["by"], talk["note"]) == ("店主王某", "安监所张丽", "")


@sqlite_only("district")
def test_a_planned_inspection_has_no_day_done(district: District) -> None:
    d = district
    answer = _post(d, "S0001", {**PLANNED, "on": "2025-03-08"}, d.zhao)
    assert answer.status_code == 400, answer.text
    assert answer.json()["reason"].startswith("计划中的专项检查还没有检查日期")
    assert d.get(FOLLOWUPS, d.zhao)["counts"]["inspection_planned"] == 0


def _move_wensan_to_xihu(d: District) -> None:
    """wensan (S0001-S0003) moves to xihu, whose list of the month is ranked again with S0001 on it (as the current
    month's would be)."""
    move = {"name": "文三社区", "subdistrict": "xihu", "move": True}
    assert d.world.client.put("/api/office/registry/communities/wensan", json=move, headers=d.wang).status_code == 200
    again = _snapshot("xihu", [("T0001", 70, "black"), ("S0001", 60, "black")], [])
    again["_rev"] = d.world.call(read, d.world.state.store, again["_id"])["_rev"]
    assert d.world.call(d.world.state.store.bulk_docs, [again])[0].get("ok")


def test_a_moved_shop_does_not_bring_the_other_sub_districts_follow_up_back(district: District) -> None:
    d, client = district, district.world.client
    # minglou keeps a community, publishes its list of the month (S0001 on it), then wensan (S0001-S0003) moves to
    # xihu, whose list of the month is ranked again with S0001 on it (as the current month's would be).
    d.world.call(d.world.state.registry.put_community, "other", "其它社区", "minglou")
    assert client.post(f"/api/office/rankings/{MONTH}/publish?subdistrict=minglou", headers=d.wang).status_code == 201
    _move_wensan_to_xihu(d)
    secret = {**TALK, "talked_to": "西溪的约谈对象", "note": "xihu-only-note"}
    recorded = wait_until(lambda: (r := _post(d, "S0001", secret, d.sun)).status_code == 201 and r)
    assert recorded.json()["subdistrict"] == "xihu"
    assert d.get(f"{FOLLOWUPS}?subdistrict=xihu", d.wang)["counts"]["talked"] == 1

    # minglou's office reads its own list of the month (S0001 is on its published one) without xihu's follow-up.
    own = d.get(FOLLOWUPS, d.zhao)
    assert [i["shop"] for i in own["items"]] == ["S0002", "S0001"]
    assert own["counts"]["talked"] == 0 and "xihu" not in str(own) and "office:sun" not in str(own)
    page = d.get(f"/api/office/ranking?month={MONTH}&list=black", d.zhao)
    assert page["followups"]["talked"] == 0 and "xihu-only-note" not in str(page)
    report = client.get(f"/api/office/reports/{MONTH}.html", headers=d.zhao).text
    assert "xihu-only-note" not in report and "西溪的约谈对象" not in report
    export = client.get(f"/api/office/exports/rankings.csv?month={MONTH}", headers=d.zhao)
    assert export.status_code == 200 and "xihu-only-note" not in export.content.decode("utf-8-sig")


def test_two_sub_districts_following_up_a_moved_shop_for_one_month_keep_their_own(district: District) -> None:
    """S0001 is on minglou's list of the month and, moved to xihu with its community, on xihu's too. minglou's office
    recorded a talk before the move. xihu's talk was appended to minglou's document, re-labelled xihu's: xihu's answer
    and list showed minglou's talk (who was talked to, its note, office:zhao), and minglou's list lost it."""
    d = district
    theirs = {**TALK, "talked_to": "明楼的约谈对象", "note": "minglou-only-note"}
    assert _post(d, "S0001", theirs, d.zhao).status_code == 201
    d.world.call(d.world.state.registry.put_community, "other", "其它社区", "minglou")
    _move_wensan_to_xihu(d)

    secret = {**TALK, "talked_to": "西溪的约谈对象", "note": "xihu-only-note"}
    recorded = wait_until(lambda: (r := _post(d, "S0001", secret, d.sun)).status_code == 201 and r)
    mine = recorded.json()
    assert [a["note"] for a in mine["actions"]] == ["xihu-only-note"], mine
    leaked = ("minglou-only-note", "明楼的约谈对象", "office:zhao")
    xihu = d.get(f"{FOLLOWUPS}", d.sun)
    assert xihu["counts"]["talked"] == 1 and not [w for w in leaked if w in str(xihu)], xihu
    efile = d.get("/api/office/shops/S0001/efile", d.sun)
    assert not [w for w in leaked if w in str(efile)], [e for e in efile["timeline"] if e["type"] == "followup"]
    # minglou's office keeps what it recorded, and reads nothing of xihu's.
    own = d.get(FOLLOWUPS, d.zhao)
    assert own["counts"]["talked"] == 1, own
    assert "minglou-only-note" in str(own) and "xihu-only-note" not in str(own)
    # The district's office reads both lists, and the e-file holds both talks, each with an id of its own.
    assert d.get(f"{FOLLOWUPS}?subdistrict=minglou", d.wang)["counts"]["talked"] == 1
    assert d.get(f"{FOLLOWUPS}?subdistrict=xihu", d.wang)["counts"]["talked"] == 1
    talks = [e for e in d.get("/api/office/shops/S0001/efile", d.wang)["timeline"] if e["type"] == "followup"]
    assert sorted(e["note"] for e in talks) == ["minglou-only-note", "xihu-only-note"]
    assert len({e["_id"] for e in talks}) == 2
