"""The red/black list and the sync monitor a page at a time (a district's sub-district ranks up to 30,000 shops, with
as many owners and phones): the pages add up to the whole list, the filters and the search find rows without paging
through thousands, the counts of the whole list come with any page, bad parameters are a 400 with a reason, and a
sub-district's office pages and counts its own rows only.

The world is the two sub-districts' (tests/api/test_subdistrict_offices.py) with more shops, their owners' phones
(some silent, some with records waiting) and a refused patrol; the validators rank the shops. Their scores being all
alike (a list never splits a tie), minglou's list of three past months is ranked, by the validators' own rule, on
scores of its own: ten shops on each list, and the ten black-listed three months running flagged for a working
group. On either backend (tests/backends.py)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from server.accounts import hash_pin
from server.models import Ranking, default_rules
from server.validators.district import ranking_doc
from tests.api.conftest import wait_until
from tests.api.test_dashboard import check
from tests.api.test_subdistrict_offices import District, open_district
from tests.backends import BACKENDS, store_settings
from tests.worlds import shop_fields

MINGLOU = [f"S{n:04d}" for n in range(1, 61)]  # S0001-S0003 are the world's own
XIHU = [f"T{n:04d}" for n in range(1, 13)]  # T0001 is the world's own
SILENT = {f"S{n:04d}" for n in range(4, 14)} | {"T0002"}  # their phones last reported 5 days ago
WAITING = {f"S{n:04d}" for n in range(10, 16)} | {"T0002"}  # records still on their phones
RANKING = "/api/office/ranking"
MONITOR = "/api/office/sync-monitor"
PAST = ("2025-01", "2025-02", "2025-03")
MONTH = PAST[-1]  # the month of minglou's list the tests page through


def _past_rankings() -> list[dict[str, Any]]:
    """minglou's snapshots of `PAST`, as the validators make them, on scores that differ shop by shop."""
    scores = [{"shop": code, "points": 200 - n, "open_hazards": n % 3} for n, code in enumerate(MINGLOU)]
    made: dict[str, dict[str, Any]] = {}
    for month in PAST:
        made[month] = ranking_doc("minglou", month, date(2025, 3, 31), default_rules(), scores, made)
        Ranking.model_validate(made[month])
    return list(made.values())


def _ranked(d: District, subdistrict: str, shops: int) -> bool:
    answer = d.world.client.get(RANKING, params={"subdistrict": subdistrict, "limit": 500}, headers=d.wang)
    return answer.status_code == 200 and answer.json()["of"] == shops


@pytest.fixture(scope="module", params=BACKENDS)
def district(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[District]:
    with store_settings(request, request.param) as on, open_district(tmp_path_factory.mktemp("lists"), **on) as d:
        world = d.world
        registry, accounts, store = world.state.registry, world.state.accounts, world.state.store
        world.call(registry.put_grid, "g1", "文三一网格", "wensan", ["zhou"], [c for c in MINGLOU if c != "S0003"])
        world.call(registry.put_grid, "xg", "西溪一网格", "xc", ["qian"], XIHU)
        for code in MINGLOU[3:]:
            name = "江东生活超市" if code == "S0042" else f"小吃店{code}"
            world.call(registry.put_shop, shop_fields(code, name=name))
        for code in XIHU[1:]:
            world.call(registry.put_shop, shop_fields(code, "xg", community="xc", name=f"西溪茶馆{code}"))
        pin = hash_pin("246810")
        now = datetime.now(UTC)
        phones = []
        for code in MINGLOU + XIHU:
            world.call(accounts.set_owner_pin_hash, code, pin)
            seen = now - timedelta(days=5 if code in SILENT else 0, minutes=5)
            phones.append(
                {
                    "_id": f"accounts:device:owner:{code}:d-{code.lower()}",
                    "type": "device",
                    "device": f"d-{code.lower()}",
                    "user": f"owner:{code}",
                    "role": "owner",
                    "app_version": "1.0.0",
                    "pending_docs": 2 if code in WAITING else 0,
                    "pending_photos": 0,
                    "received_at": seen.isoformat(timespec="seconds"),
                }
            )
        assert all(row.get("ok") for row in world.call(store.bulk_docs, phones + _past_rankings()))
        # zhou patrols S0003, li's shop: refused, and kept in the quarantine.
        zhou = world.login("zhou", "zhou-password")
        bad = check("patrol", "S0003", now)
        bad["created_by"] = "grid:zhou"
        assert world.client.post("/sync/_bulk_docs", headers=zhou, json={"docs": [bad]}).json()[0]["error"]
        wait_until(lambda: _ranked(d, "minglou", len(MINGLOU)) and _ranked(d, "xihu", len(XIHU)), timeout=90)
        yield d


def _all(d: District, path: str, who: dict[str, str], **params: Any) -> Any:
    answer = d.world.client.get(path, params=params, headers=who)
    assert answer.status_code == 200, answer.text[:300]
    return answer.json()


def test_the_ranking_comes_a_page_at_a_time_with_the_whole_lists_counts(district: District) -> None:
    d = district
    whole = _all(d, RANKING, d.zhao, month=MONTH, limit=500)
    assert whole["total"] == whole["of"] == len(MINGLOU) == len(whole["entries"])
    assert [e["rank"] for e in whole["entries"]] == list(range(1, len(MINGLOU) + 1))
    # 5% of 60 shops, at least 10 on each list; the black-listed of three months running for a working group.
    assert whole["counts"] == {"red": 10, "black": 10, "none": 40, "working_group": 10}
    assert whole["entries"][0]["name"] == "小吃店S0001" and whole["entries"][0]["community_name"] == "文三社区"

    first = _all(d, RANKING, d.zhao, month=MONTH)  # 50 rows unless asked for another number
    assert (first["limit"], first["offset"], first["total"], len(first["entries"])) == (50, 0, 60, 50)
    assert first["counts"] == whole["counts"] and first["of"] == 60
    assert first["working_group"] == whole["working_group"] and len(first["working_group"]) == 10
    pages = [_all(d, RANKING, d.zhao, month=MONTH, limit=25, offset=offset) for offset in (0, 25, 50)]
    assert [len(p["entries"]) for p in pages] == [25, 25, 10]
    assert [e for p in pages for e in p["entries"]] == whole["entries"]
    assert all(p["total"] == 60 and p["counts"] == whole["counts"] for p in pages)
    beyond = _all(d, RANKING, d.zhao, month=MONTH, offset=600)
    assert beyond["entries"] == [] and beyond["total"] == 60

    # What needs the whole list still gets it: the rankings export and the monthly report.
    export = d.world.client.get(f"/api/office/exports/rankings.csv?month={MONTH}", headers=d.zhao)
    assert export.status_code == 200 and len(export.text.strip().splitlines()) == 1 + len(MINGLOU)
    report = d.world.client.get(f"/api/office/reports/{MONTH}.html", headers=d.zhao)
    assert report.status_code == 200 and all(e["shop"] in report.text for e in whole["entries"] if e["list"])


def test_the_ranking_finds_a_list_and_a_shop_by_code_or_name(district: District) -> None:
    d = district
    whole = _all(d, RANKING, d.zhao, month=MONTH, limit=500)
    for listed, n in (("red", 10), ("black", 10), ("none", 40)):
        answer = _all(d, RANKING, d.zhao, month=MONTH, list=listed)
        assert answer["total"] == n == len(answer["entries"]), listed
        assert {e["list"] or "none" for e in answer["entries"]} == {listed}
        assert answer["entries"] == [e for e in whole["entries"] if (e["list"] or "none") == listed]
        assert answer["counts"] == whole["counts"] and answer["of"] == 60  # the figures of the whole list
    second = _all(d, RANKING, d.zhao, month=MONTH, list="none", limit=15, offset=15)
    assert second["entries"] == [e for e in whole["entries"] if e["list"] is None][15:30]

    [by_name] = _all(d, RANKING, d.zhao, month=MONTH, q="江东")["entries"]
    assert by_name["shop"] == "S0042" and by_name["name"] == "江东生活超市"
    assert [e["shop"] for e in _all(d, RANKING, d.zhao, month=MONTH, q=" s0042 ")["entries"]] == ["S0042"]
    tens = _all(d, RANKING, d.zhao, month=MONTH, q="S005")
    assert tens["total"] == 10 and {e["shop"] for e in tens["entries"]} == {f"S{n:04d}" for n in range(50, 60)}
    assert by_name["list"] is None
    assert _all(d, RANKING, d.zhao, month=MONTH, q="江东", list="black")["total"] == 0
    assert _all(d, RANKING, d.zhao, month=MONTH, q="江东", list="none")["total"] == 1

    group = _all(d, RANKING, d.zhao, month=MONTH, working_group=1, limit=4)
    assert group["total"] == whole["counts"]["working_group"] == 10 and len(group["entries"]) == 4
    assert all(e["working_group"] and e["list"] == "black" for e in group["entries"])
    assert {e["shop"] for e in group["entries"]} <= set(group["working_group"])
    # The black list is the ten lowest, S0051-S0060; of them, those with "S005" in their codes.
    black_group = _all(d, RANKING, d.zhao, month=MONTH, working_group=1, list="black", q="S005")
    assert [e["shop"] for e in black_group["entries"]] == [f"S{n:04d}" for n in range(51, 60)]


def test_bad_paging_and_filters_are_refused_with_a_reason(district: District) -> None:
    d = district
    for path, query, word in (
        (RANKING, "limit=0", "limit"),
        (RANKING, "limit=501", "limit"),
        (RANKING, "limit=x", "limit"),
        (RANKING, "limit=", "limit"),
        (RANKING, "offset=-1", "offset"),
        (RANKING, "offset=1.5", "offset"),
        (RANKING, "list=grey", "list"),
        (RANKING, "working_group=maybe", "working_group"),
        (MONITOR, "limit=0", "limit"),
        (MONITOR, "limit=9999", "limit"),
        (MONITOR, "limit=abc", "limit"),
        (MONITOR, "offset=-1", "offset"),
        (MONITOR, "devices_offset=-2", "devices_offset"),
        (MONITOR, "devices_offset=x", "devices_offset"),
        (MONITOR, "only=everything", "only"),
        (MONITOR, "role=office", "role"),
    ):
        answer = d.world.client.get(f"{path}?{query}", headers=d.zhao)
        assert answer.status_code == 400, (path, query, answer.status_code, answer.text[:200])
        body = answer.json()
        assert body["error"] == "bad_request" and word in body["reason"], (path, query, body)


def _devices(answer: dict[str, Any]) -> list[str]:
    return [dev["device"] for dev in answer["devices"]]


def _users(answer: dict[str, Any]) -> list[str]:
    return [user["user_id"] for user in answer["users"]]


def test_the_sync_monitor_pages_its_users_and_devices_apart_with_the_whole_monitors_counts(
    district: District,
) -> None:
    d = district
    whole = _all(d, MONITOR, d.wang, limit=500)
    owners = [f"owner:{code}" for code in MINGLOU + XIHU]
    assert sorted(_users(whole)) == _users(whole) == sorted([*owners, "grid:li", "grid:qian", "grid:zhou"])
    # Every owner's phone and the two grid workers' (one record waiting on each).
    assert len(whole["devices"]) == len(owners) + 2
    users, devices = whole["counts"]["users"], whole["counts"]["devices"]
    assert (devices["all"], devices["silent"], devices["waiting"]) == (len(owners) + 2, len(SILENT), len(WAITING) + 2)
    assert devices["silent_waiting"] == len(SILENT & WAITING) and devices["problems"] == len(SILENT | WAITING) + 2
    assert users["all"] == len(owners) + 3 and users["refused"] == 1 and users["silent"] == len(SILENT)
    assert whole["total"] == {"users": users["all"], "devices": devices["all"]}
    # Silent phones with records still on them come first.
    assert {dev["user_id"].split(":")[1] for dev in whole["devices"][:5]} == SILENT & WAITING

    first = _all(d, MONITOR, d.wang)  # 50 rows of each unless asked for another number
    assert (len(first["users"]), len(first["devices"]), first["limit"]) == (50, 50, 50)
    assert first["counts"] == whole["counts"] and first["total"] == whole["total"]
    pages = [_all(d, MONITOR, d.wang, limit=20, offset=n, devices_offset=n) for n in range(0, 100, 20)]
    assert [u for p in pages for u in _users(p)] == _users(whole)
    assert [dev for p in pages for dev in _devices(p)] == _devices(whole)
    apart = _all(d, MONITOR, d.wang, limit=5, offset=10, devices_offset=40)
    assert _users(apart) == _users(whole)[10:15] and _devices(apart) == _devices(whole)[40:45]
    assert apart["offset"] == {"users": 10, "devices": 40} and apart["counts"] == whole["counts"]


def test_the_sync_monitor_narrows_both_lists_to_the_problems_a_role_or_a_search(district: District) -> None:
    d = district
    whole = _all(d, MONITOR, d.wang, limit=500)
    by_id = {u["user_id"]: u for u in whole["users"]}

    problems = _all(d, MONITOR, d.wang, only="problems", limit=500)
    assert problems["counts"] == whole["counts"]
    assert problems["total"] == {"users": len(problems["users"]), "devices": len(problems["devices"])}
    assert problems["total"]["devices"] == whole["counts"]["devices"]["problems"]
    assert all(dev["silent"] or dev["pending_docs"] for dev in problems["devices"])
    assert _users(problems) == [u for u, row in by_id.items() if row["silent"] or row["refused"] or row["waiting"]]
    silent = _all(d, MONITOR, d.wang, only="silent")
    assert {dev["user_id"] for dev in silent["devices"]} == {f"owner:{code}" for code in SILENT}
    waiting = _all(d, MONITOR, d.wang, only="waiting")
    assert {u["user_id"] for u in waiting["users"]} == {f"owner:{c}" for c in WAITING} | {"grid:zhou", "grid:qian"}
    [refused] = _all(d, MONITOR, d.wang, only="refused")["users"]
    assert refused["user_id"] == "grid:zhou" and refused["refused"] == 1
    never = [u for u, row in by_id.items() if row["never_seen"]]
    assert never == ["grid:li"]  # no event and no phone of his: left out of the seen
    assert "grid:li" not in _users(_all(d, MONITOR, d.wang, only="seen", limit=500))

    grid = _all(d, MONITOR, d.wang, role="grid")
    assert _users(grid) == ["grid:li", "grid:qian", "grid:zhou"] and grid["counts"] == whole["counts"]
    assert {dev["user_id"] for dev in grid["devices"]} == {"grid:qian", "grid:zhou"}
    found = _all(d, MONITOR, d.wang, q="江东")  # a shop's name
    assert _users(found) == ["owner:S0042"] and _devices(found) == ["d-s0042"]
    assert found["total"] == {"users": 1, "devices": 1} and found["counts"] == whole["counts"]
    assert _devices(_all(d, MONITOR, d.wang, q="D-T0007")) == ["d-t0007"]  # a device, any case
    assert _users(_all(d, MONITOR, d.wang, q="小周")) == ["grid:zhou"]  # a grid worker by name
    assert _users(_all(d, MONITOR, d.wang, q="s0042", role="grid")) == []


def test_the_answer_names_the_users_of_the_newest_refusals_whatever_page_is_asked_for(district: District) -> None:
    d = district
    answer = _all(d, MONITOR, d.zhao, q="nobody is called this")
    assert answer["users"] == [] and answer["devices"] == [] and answer["total"] == {"users": 0, "devices": 0}
    assert answer["people"] == {"grid:zhou": {"name": "小周"}}
    assert answer["refused_total"] == 1


def test_a_sub_district_office_pages_and_counts_its_own_rows_only(district: District) -> None:
    d, client = district, district.world.client
    ranking = _all(d, RANKING, d.sun, limit=5)
    assert ranking["subdistrict"] == "xihu" and ranking["of"] == ranking["total"] == len(XIHU)
    assert sum(ranking["counts"][name] for name in ("red", "black", "none")) == len(XIHU)
    assert {e["shop"] for e in ranking["entries"]} <= set(XIHU) and len(ranking["entries"]) == 5
    for query in ({"q": "S00"}, {"q": "江东"}, {"q": "S0042", "list": "red"}):
        answer = client.get(RANKING, params=query, headers=d.sun)
        assert answer.status_code == 200 and answer.json()["total"] == 0, query
        assert "S00" not in answer.text and "江东" not in answer.text
    assert client.get(RANKING, params={"subdistrict": "minglou", "limit": 5}, headers=d.sun).status_code == 403

    theirs, mine, everyone = (_all(d, MONITOR, who, limit=500) for who in (d.sun, d.zhao, d.wang))
    assert set(_users(theirs)) == {f"owner:{code}" for code in XIHU} | {"grid:qian"}
    assert theirs["counts"]["users"]["all"] == len(XIHU) + 1 and theirs["counts"]["devices"]["all"] == len(XIHU) + 1
    assert theirs["counts"]["devices"]["silent"] == 1 and theirs["counts"]["users"]["refused"] == 0
    assert theirs["people"] == {} and theirs["refused_total"] == 0
    for lists in ("users", "devices"):
        for name, n in everyone["counts"][lists].items():
            assert theirs["counts"][lists][name] + mine["counts"][lists][name] == n, (lists, name)
    for query in ({"q": "S0042"}, {"q": "江东"}, {"q": "zhou"}, {"only": "refused"}):
        answer = client.get(MONITOR, params=query, headers=d.sun)
        assert answer.status_code == 200 and answer.json()["total"] == {"users": 0, "devices": 0}, query
        assert "S00" not in answer.text and "zhou" not in answer.text and "江东" not in answer.text
