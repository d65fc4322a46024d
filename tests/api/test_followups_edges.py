"""The black list's follow-up at its edges (tests/api/test_followups.py has the ordinary use): the operator's token
records one, a planned inspection has no day done, and a shop whose community moved to another sub-district does
not carry what that sub-district's office recorded back into the list of the one it left.

The world and the month's snapshots are tests/api/test_followups.py's: minglou's black list of 2025-03 is S0002 and
S0001 (office zhao), xihu's is T0001 (office sun); wang is the district's office."""

from __future__ import annotations

from server.store.upsert import read
from tests.api.conftest import wait_until
from tests.api.test_followups import FOLLOWUPS, MONTH, PLANNED, TALK, _post, _snapshot
from tests.api.test_followups import district as district  # the fixture: the same world and snapshots
from tests.api.test_subdistrict_offices import District


def test_the_operator_records_a_follow_up(district: District) -> None:
    d = district
    # The route takes an office or operator token; the operator's user id ("admin") was refused by the stored
    # document's model after the checks, a 500 with nothing written.
    answer = _post(d, "S0001", TALK, d.world.admin())
    assert answer.status_code == 201, answer.text
    assert answer.json()["talk"]["recorded_by"] == "admin"
    assert d.get(FOLLOWUPS, d.zhao)["counts"]["talked"] == 1


def test_a_planned_inspection_has_no_day_done(district: District) -> None:
    d = district
    answer = _post(d, "S0001", {**PLANNED, "on": "2025-03-08"}, d.zhao)
    assert answer.status_code == 400, answer.text
    assert answer.json()["reason"].startswith("计划中的专项检查还没有检查日期")
    assert d.get(FOLLOWUPS, d.zhao)["counts"]["inspection_planned"] == 0


def test_a_moved_shop_does_not_bring_the_other_sub_districts_follow_up_back(district: District) -> None:
    d, client, store = district, district.world.client, district.world.state.store
    # minglou keeps a community, publishes its list of the month (S0001 on it), then wensan (S0001-S0003) moves to
    # xihu, whose list of the month is ranked again with S0001 on it (as the current month's would be).
    d.world.call(d.world.state.registry.put_community, "other", "其它社区", "minglou")
    assert client.post(f"/api/office/rankings/{MONTH}/publish?subdistrict=minglou", headers=d.wang).status_code == 201
    move = {"name": "文三社区", "subdistrict": "xihu", "move": True}
    assert client.put("/api/office/registry/communities/wensan", json=move, headers=d.wang).status_code == 200
    again = _snapshot("xihu", [("T0001", 70, "black"), ("S0001", 60, "black")], [])
    again["_rev"] = d.world.call(read, store, again["_id"])["_rev"]
    assert d.world.call(store.bulk_docs, [again])[0].get("ok")
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
