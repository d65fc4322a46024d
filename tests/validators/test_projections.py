"""What `project_shop` writes for a shop: the documents' shapes, a hazard's life with who and when, alarms the
office then owns, and a projection that depends on nothing but its arguments."""

from __future__ import annotations

from datetime import date
from typing import Any

from server.models import parse_doc
from server.validators.projections import merge_alarm, merge_score, project_shop
from server.validators.shops import plan_writes
from tests.validators.builders import (
    GRID,
    OWNER,
    PHOTO,
    RULES,
    SHOP,
    TEMPLATES,
    entries,
    finding,
    hazard_id,
    ledger,
    of_type,
    one,
    patrol,
    project,
    rectification,
    score,
    self_check,
    shop,
    verification,
)


def _steps(doc: Any) -> list[tuple[str, str, str]]:
    return [(step["status"], step["at"], step["by"]) for step in doc["history"]]


def test_every_document_is_a_valid_projection_with_a_deterministic_id() -> None:
    check = self_check("2026-03-02 10:00", "gas_safe")
    visit = patrol("2026-03-03 10:00", finding("f1", "wiring_ok", "general", "2026-03-10"))
    docs = project([check, visit], "2026-03-03")
    for doc in docs:
        assert "_rev" not in doc and parse_doc(doc).to_doc() == doc
    assert [doc["_id"] for doc in docs] == sorted(doc["_id"] for doc in docs)
    ulid = str(check["_id"]).rsplit(":", 1)[1]
    expected = [f"{SHOP}:alarm:{ulid}", hazard_id(check, "gas_safe"), hazard_id(visit, "f1"), f"{SHOP}:score"]
    expected.append(f"{SHOP}:rewards")
    assert [doc["_id"] for doc in docs if doc["type"] != "ledger"] == sorted(expected)
    month = one(docs, f"{SHOP}:ledger:2026-03")
    # A document per month of the entries' days: the year's start (1 January) and March's.
    assert [doc["_id"] for doc in docs if doc["type"] == "ledger"] == [f"{SHOP}:ledger:2026-01", month["_id"]]
    assert [entry for entry in month["entries"] if entry["key"] == f"{ulid}-gas_safe"] == [
        {
            "key": f"{ulid}-gas_safe",
            "rule": "hazard",
            "points": -5,
            "source": f"{SHOP}:hazard:{ulid}-gas_safe",
            "day": "2026-03-02",
            "rules_version": 1,
            "note": "gas_safe",
        }
    ]
    # The entries by day, key and rule, and each named as its own document was (`{shop}:ledger:{key}:{rule}`).
    days = [(entry["day"], entry["key"], entry["rule"]) for entry in month["entries"]]
    assert days == sorted(days) and len(days) == len(set(days))
    assert f"{SHOP}:ledger:{ulid}-gas_safe:hazard" in {entry["_id"] for entry in entries(docs)}


def test_the_score_comes_from_the_events_never_the_clock() -> None:
    events = [self_check("2026-03-02 10:00", "wiring_ok"), patrol("2026-03-05 16:20")]
    doc = score(project(events, "2026-03-06"))
    assert doc == {
        "_id": f"{SHOP}:score",
        "type": "score",
        "schema": 1,
        "shop": SHOP,
        "points": 100 + 2 - 1 + 5,
        "rank": None,
        "of": None,
        "list": None,
        "open_hazards": 1,
        "working_group": False,
        "rules_version": 1,
        "updated_at": "2026-03-05T16:20:00+08:00",
    }
    assert score(project(events, "2026-03-07")) == doc  # a day passing that changes nothing changes nothing
    assert score(project([], "2026-03-07"))["updated_at"] == "2026-01-01T00:00:00+08:00"


def test_a_time_rule_moves_updated_at_to_the_day_it_took_effect() -> None:
    events = [self_check("2026-03-02 10:00")]
    assert score(project(events, "2026-03-23"))["updated_at"] == "2026-03-23T00:00:00+08:00"  # W11 missed


def test_a_hazard_from_rectification_to_verification() -> None:
    check = patrol("2026-03-02 10:00", finding("f1", "wiring_ok", "general", "2026-03-09"))
    hazard = hazard_id(check, "f1")
    fix = rectification("2026-03-04 09:00", hazard)
    docs = project([check, fix], "2026-03-04")
    doc = one(docs, hazard)
    assert (doc["status"], doc["rectifications"], score(docs)["open_hazards"]) == ("rectified", [fix["_id"]], 1)
    verdict = verification("2026-03-05 15:00", hazard, rectified=str(fix["_id"]))
    docs = project([check, fix, verdict], "2026-03-05")
    doc = one(docs, hazard)
    assert doc["status"] == "closed" and doc["verification"] == verdict["_id"]
    assert doc["closed_at"] == doc["updated_at"] == "2026-03-05T15:00:00+08:00"
    assert _steps(doc) == [
        ("open", "2026-03-02T10:00:00+08:00", GRID),
        ("rectified", "2026-03-04T09:00:00+08:00", OWNER),
        ("closed", "2026-03-05T15:00:00+08:00", GRID),
    ]
    assert [step["event"] for step in doc["history"]] == [check["_id"], fix["_id"], verdict["_id"]]
    assert score(docs)["open_hazards"] == 0


def test_a_hazard_becomes_overdue_at_midnight_after_its_deadline() -> None:
    check = patrol("2026-03-02 10:00", finding("f1", "escape_route", "major", "2026-03-05"))
    hazard = hazard_id(check, "f1")
    assert one(project([check], "2026-03-05"), hazard)["status"] == "open"
    doc = one(project([check], "2026-03-06"), hazard)
    assert doc["status"] == "overdue" and _steps(doc)[-1] == ("overdue", "2026-03-06T00:00:00+08:00", "server")
    refused = verification("2026-03-07 11:00", hazard, passed=False)
    fix = rectification("2026-03-08 11:00", hazard)
    doc = one(project([check, fix, refused], "2026-03-08"), hazard)
    assert [step[0] for step in _steps(doc)] == ["open", "overdue", "overdue", "rectified"]


def test_a_patrol_whose_deadline_is_past_the_calendar_does_not_stop_the_shops_projection() -> None:
    """A deadline of 9999-12-31 (the gateway refuses it now; an operator's write skips the gateway's checks): the
    day after it, when the hazard would turn overdue, is past the calendar's end, and every projection of the shop
    failed, the serious alarm of a later patrol with it. Such a patrol is skipped like any event that is not one."""
    broken = patrol("2026-03-02 10:00", finding("f1", "escape_route", "major", "9999-12-31"))
    serious = patrol("2026-03-03 10:00", finding("f1", "open_flame", "serious", "2026-03-04"))
    docs = project([broken, serious], "2026-03-05")
    assert hazard_id(broken, "f1") not in {doc["_id"] for doc in docs}
    assert one(docs, hazard_id(serious, "f1"))["status"] == "overdue"
    assert of_type(docs, "alarm")
    year = patrol("2026-03-02 10:00", finding("f1", "escape_route", "major", "2027-03-03"))
    assert one(project([year], "2026-03-05"), hazard_id(year, "f1"))["deadline"] == "2027-03-03"


def test_follow_ups_apply_whatever_the_device_clocks_say() -> None:
    """A rectification timed before its patrol (a phone's clock was wrong) still reaches its hazard."""
    check = patrol("2026-03-02 10:00", finding("f1", "wiring_ok", "general", "2026-03-09"))
    hazard = hazard_id(check, "f1")
    fix = rectification("2026-03-01 09:00", hazard)
    assert one(project([fix, check], "2026-03-04"), hazard)["status"] == "rectified"


def test_a_hazard_declared_again_is_the_same_hazard_until_it_is_closed() -> None:
    first = self_check("2026-03-02 10:00", "extinguisher_valid")
    again = self_check("2026-03-09 10:00", "extinguisher_valid")
    docs = project([first, again], "2026-03-09")
    assert [doc["_id"] for doc in of_type(docs, "hazard")] == [hazard_id(first, "extinguisher_valid")]
    assert ledger(docs) == {"self_check": [2, 2], "hazard": [-1]}
    closed = verification("2026-03-05 10:00", hazard_id(first, "extinguisher_valid"))
    docs = project([first, closed, again], "2026-03-09")
    assert len(of_type(docs, "hazard")) == 2 and ledger(docs)["hazard"] == [-1, -1]


def test_a_fix_of_a_hazard_merged_into_an_older_one_counts_for_it() -> None:
    """The patrol's hazard reached the phones, and the owner fixed it and the worker verified the fix; then the owner's
    older self-check, which had declared the same item, arrived: the patrol's finding is now that hazard, found again,
    and the fix and verification naming the patrol's hazard id count for it."""
    visit = patrol("2026-03-03 10:00", finding("f1", "open_flame", "serious", "2026-03-04"))
    shown = hazard_id(visit, "f1")  # what the phones had
    fix = rectification("2026-03-03 18:00", shown)
    checked = verification("2026-03-04 09:00", shown, True, fix["_id"])
    assert one(project([visit, fix, checked], "2026-03-05"), shown)["status"] == "closed"
    older = self_check("2026-03-02 10:00", "open_flame")
    docs = project([visit, fix, checked, older], "2026-03-05")
    [merged] = of_type(docs, "hazard")
    assert merged["_id"] == hazard_id(older, "open_flame")
    assert merged["status"] == "closed" and merged["rectifications"] == [fix["_id"]]
    # The phones' fix and verification name `shown`: the hazard says it is one of its ids, so they find them.
    assert merged["aliases"] == [shown]
    # Only fixed, not yet verified: rectified in time, never overdue.
    docs = project([older, visit, fix], "2026-03-09")
    assert one(docs, hazard_id(older, "open_flame"))["status"] == "rectified"
    assert "aliases" not in one(project([visit, fix], "2026-03-09"), shown)  # nothing merged: as before


def test_a_merged_hazards_deletion_keeps_its_type_for_the_phones_selector() -> None:
    """The phones pull by `type` (pwa/src/sync-config.ts): the deletion stub of the patrol's hazard, merged into the
    older self-check's, keeps its type and shop, so a selector on type still matches it on any CouchDB."""
    visit = patrol("2026-03-03 10:00", finding("f1", "open_flame", "serious", "2026-03-04"))
    stored = {
        d["_id"]: {**d, "_rev": "1-a"} for d in project([visit], "2026-03-03") if d["type"] in ("hazard", "ledger")
    }
    plan = plan_writes(project([visit, self_check("2026-03-02 10:00", "open_flame")], "2026-03-03"), stored)
    stub = one([w for w in plan.writes if w.get("_deleted")], hazard_id(visit, "f1"))
    assert dict(stub) == {
        "_id": hazard_id(visit, "f1"),
        "_rev": "1-a",
        "_deleted": True,
        "type": "hazard",
        "shop": SHOP,
    }


def test_an_alarm_names_shop_items_photos_and_grid_worker() -> None:
    check = patrol("2026-03-02 10:00", finding("f1", "gas_safe", "serious", "2026-03-03"))
    ulid = str(check["_id"]).rsplit(":", 1)[1]
    alarm = one(project([check], "2026-03-02"), f"{SHOP}:alarm:{ulid}")
    assert alarm == {
        "_id": f"{SHOP}:alarm:{ulid}",
        "type": "alarm",
        "schema": 1,
        "shop": SHOP,
        "status": "open",
        "source": check["_id"],
        "shop_name": "老王面馆",
        "address": "文三路 128 号",
        "grid": "wensan-03",
        "grid_worker": GRID,
        "items": [
            {"item": "gas_safe", "severity": "serious", "hazard": hazard_id(check, "f1"), "photos": [PHOTO]},
        ],
        "cost": 10,
        "department": None,
        "created_at": "2026-03-02T10:00:00+08:00",
        "history": [
            {"status": "open", "at": "2026-03-02T10:00:00+08:00", "by": "server", "department": None, "note": ""}
        ],
    }


def test_merge_alarm_keeps_what_the_office_did() -> None:
    check = self_check("2026-03-02 10:00", "open_flame")
    [projected] = of_type(project([check], "2026-03-02"), "alarm")
    assert merge_alarm(projected, None) == projected
    steps = [
        *projected["history"],
        {"status": "acknowledged", "at": "2026-03-02T10:05:00+08:00", "by": "office:chen"},
        {"status": "dispatched", "at": "2026-03-02T10:07:00+08:00", "by": "office:chen", "department": "fire"},
    ]
    stored = dict(projected) | {"_rev": "3-abc", "status": "dispatched", "department": "fire", "history": steps}
    [again] = of_type(project([check, patrol("2026-03-05 10:00")], "2026-03-05"), "alarm")
    merged = merge_alarm(again, stored)
    assert merged == {key: value for key, value in stored.items() if key != "_rev"}
    assert parse_doc(merged).to_doc()["status"] == "dispatched"


def test_merge_score_keeps_the_ranking() -> None:
    projected = score(project([self_check("2026-03-02 10:00")], "2026-03-02"))
    stored = dict(projected) | {"points": 90, "rank": 3, "of": 40, "list": "red", "working_group": False}
    assert merge_score(projected, stored) == dict(projected) | {"rank": 3, "of": 40, "list": "red"}
    assert merge_score(projected, None) == projected


def test_an_unregistered_shop_is_still_projected_from_its_events() -> None:
    docs = project_shop(None, [self_check("2026-03-02 10:00", "open_flame")], RULES, date(2026, 3, 2), TEMPLATES)
    [alarm] = of_type(docs, "alarm")
    assert alarm["shop_name"] is None and alarm["address"] is None and score(docs)["shop"] == SHOP
    assert project_shop(None, [], RULES, date(2026, 3, 2), TEMPLATES) == []


def test_what_is_not_a_scoring_event_of_this_shop_is_ignored() -> None:
    other = self_check("2026-03-02 10:00") | {"_id": "S0002:self_check:01JDX7Q9K3M2N4P5R6S7T8V9W0", "shop": "S0002"}
    broken = self_check("2026-03-03 10:00") | {"answers": {}}
    unknown = {"_id": f"{SHOP}:food_check:01JDX7Q9K3M2N4P5R6S7T8V9W0", "type": "food_check", "schema": 1}
    projection = {"_id": f"{SHOP}:score", "type": "score", "points": 1000}
    docs = project([other, broken, unknown, projection], "2026-03-08", shop())
    assert ledger(docs) == {} and score(docs)["points"] == 100


def test_a_check_whose_template_is_unknown_still_counts_but_declares_no_hazard() -> None:
    check = self_check("2026-03-02 10:00", "open_flame") | {"template_version": 9}
    assert ledger(project([check], "2026-03-02")) == {"self_check": [2]}


def test_a_shop_registered_in_the_year_starts_it_on_the_day_it_came() -> None:
    # Registered on 20 November: the year's start points are dated that day in its ledger (they were dated 1 January,
    # before the shop existed); a shop registered before the day was noted (`opened` None) keeps 1 January.
    def start(docs: list[dict[str, Any]]) -> list[tuple[str, int, str]]:
        return [(str(e["_id"]), e["points"], e["day"]) for e in entries(docs) if e["rule"] == "start"]

    registered = {**shop(), "opened": "2026-11-20"}
    docs = project([], "2026-11-30", registered)
    assert start(docs) == [(f"{SHOP}:ledger:2026:start", 100, "2026-11-20")]
    assert (score(docs)["points"], score(docs)["updated_at"]) == (100, "2026-11-20T00:00:00+08:00")
    assert start(project([], "2026-11-30", shop())) == [(f"{SHOP}:ledger:2026:start", 100, "2026-01-01")]
    # The next year starts on 1 January; the points are the year's as before.
    docs = project([self_check("2026-11-23 10:00")], "2027-01-10", registered)
    assert start(docs) == [
        (f"{SHOP}:ledger:2026:start", 100, "2026-11-20"),
        (f"{SHOP}:ledger:2027:start", 100, "2027-01-01"),
    ]
    assert score(docs)["points"] == 100 - 1  # 2026-W52 missed, charged on 4 January; the self-check counted in 2026
    # A check the server counts before the day the shop was registered: the year starts on the check's day.
    early = project([self_check("2026-11-18 10:00")], "2026-11-30", registered)
    assert start(early) == [(f"{SHOP}:ledger:2026:start", 100, "2026-11-18")]
