"""The sub-district pass: the monthly snapshot with its red and black lists, the working-group flag for a shop
black-listed in 3 of the last 6 snapshots of finished months, a missing earlier month filled in, the dashboard
counts per community and grid, and the daily tick that applies the time rules of a new day."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path

import orjson
import pytest

from server.store.protocol import AllDocsQuery, Doc, GetOptions
from server.store.sqlite import SqliteStore
from server.validators.district import ranking_doc, shift_month
from server.validators.feed import next_tick
from server.validators.follower import Follower
from server.validators.rules import _zone
from server.validators.stats import (
    Tracked,
    facts_json,
    facts_of_json,
    figures,
    period_bounds,
    periods,
    same_span,
    shop_facts,
)
from tests.validators.builders import (
    RULES,
    SHOP,
    finding,
    hazard_id,
    patrol,
    photo,
    project,
    rectification,
    self_check,
    shop,
    verification,
)
from tests.validators.world import FAST, as_shop, code, registry, running, settle, stop


@pytest.fixture
async def sqlite(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    store = await SqliteStore.open(tmp_path / "data", revs_limit=1000)
    yield store
    await store.close()


async def _doc(store: SqliteStore, doc_id: str) -> Doc:
    return await store.get(doc_id, GetOptions())


def _snapshot(month: str, black: list[str], shops: list[str]) -> Doc:
    scores = [{"shop": s, "points": 100 - (10 if s in black else 0), "open_hazards": 0} for s in shops]
    return ranking_doc("xixi", month, period_bounds(month)[1], RULES, scores, {})


async def test_black_listed_in_three_of_the_last_six_snapshots_calls_for_a_working_group(sqlite: SqliteStore) -> None:
    shops = [code(n) for n in range(1, 5)]  # 4 shops: 2 on each list
    earlier = [_snapshot("2026-01", [code(4), code(3)], shops), _snapshot("2026-02", [code(4), code(2)], shops)]
    serious = finding("f1", "open_flame", "serious", "2026-03-20")
    events = [as_shop(patrol("2026-03-19 10:00", serious), code(4)), as_shop(self_check("2026-03-16 09:00"), code(1))]
    await sqlite.bulk_docs([*registry(4), *earlier, *events])
    await settle(sqlite)
    snapshot = await _doc(sqlite, "office:ranking:xixi:2026-03")
    assert snapshot["as_of"] == "2026-03-20" and snapshot["rules_version"] == 1
    assert [(e["shop"], e["rank"], e["list"]) for e in snapshot["entries"]] == [
        (code(1), 1, "red"),
        (code(2), 2, None),  # tied with code(3) (100 points, no open hazard): the lists never split a tie
        (code(3), 3, None),
        (code(4), 4, "black"),
    ]
    # March is still running: its black list is provisional, and its flags are February's (code(4) black twice).
    assert snapshot["working_group"] == []
    assert (await _doc(sqlite, f"{code(4)}:score"))["working_group"] is False
    assert (await _doc(sqlite, "office:ranking:xixi:2026-02")) | {"_rev": None} == earlier[1] | {"_rev": None}

    await settle(sqlite, lambda: datetime(2026, 4, 2, 4, 0, tzinfo=UTC))  # March is over: its third black month
    march = await _doc(sqlite, "office:ranking:xixi:2026-03")
    assert march["working_group"] == [code(4)]  # code(3) was black twice, code(2) once
    assert march["entries"] == snapshot["entries"] and march["as_of"] == "2026-03-20"  # its lists are kept
    assert (await _doc(sqlite, "office:ranking:xixi:2026-04"))["working_group"] == [code(4)]
    flagged = await _doc(sqlite, f"{code(4)}:score")
    assert (flagged["rank"], flagged["of"], flagged["list"], flagged["working_group"]) == (4, 4, "black", True)
    top = await _doc(sqlite, f"{code(1)}:score")
    assert (top["rank"], top["of"], top["working_group"]) == (1, 4, False)


async def test_on_the_first_a_shop_black_in_two_finished_months_is_not_flagged(sqlite: SqliteStore) -> None:
    """On the 1st the new month's lists are last month's standings again: counted as a third black month they
    flagged every shop black in the two months before (10 of a demo's 70 on 1 December)."""
    shops = [code(n) for n in range(1, 5)]
    earlier = [_snapshot("2026-02", [code(4), code(3)], shops), _snapshot("2026-03", [code(4), code(2)], shops)]
    serious = finding("f1", "open_flame", "serious", "2026-04-20")
    events = [as_shop(patrol("2026-03-19 10:00", serious), code(4)), as_shop(self_check("2026-03-30 09:00"), code(1))]
    await sqlite.bulk_docs([*registry(4), *earlier, *events])
    await settle(sqlite, lambda: datetime(2026, 4, 1, 2, 0, tzinfo=UTC))  # 10:00 on 1 April in Shanghai
    april = await _doc(sqlite, "office:ranking:xixi:2026-04")
    assert [(e["shop"], e["list"]) for e in april["entries"]][-1] == (code(4), "black")
    assert april["working_group"] == [] and (await _doc(sqlite, "office:ranking:xixi:2026-03"))["working_group"] == []
    assert (await _doc(sqlite, f"{code(4)}:score"))["working_group"] is False


async def test_a_missing_earlier_month_is_ranked_as_of_its_last_day(sqlite: SqliteStore) -> None:
    february = as_shop(patrol("2026-02-10 10:00", finding("f1", "wiring_ok", "general", "2026-02-12")), code(1))
    await sqlite.bulk_docs([*registry(2), february, as_shop(self_check("2026-03-02 09:00"), code(1))])
    await settle(sqlite)
    past = await _doc(sqlite, "office:ranking:xixi:2026-02")
    assert past["as_of"] == "2026-02-28"
    # S0001 as of 28 Feb: −2 for the general hazard, −2 for each of the 3 weeks of delay started by then (13, 20
    # and 27 Feb); its self-check of 2 March does not count yet.
    assert [(e["shop"], e["points"], e["open_hazards"]) for e in past["entries"]] == [
        (code(2), 100, 0),
        (code(1), 100 - 2 - 3 * 2, 1),
    ]
    current = await _doc(sqlite, "office:ranking:xixi:2026-03")
    # As of 20 March: 6 started weeks of delay, +2 for the self-check, −1 each for the missed 2026-W08 and W09.
    assert [(e["shop"], e["points"]) for e in current["entries"]] == [(code(2), 100), (code(1), 100 - 2 - 12 + 2 - 2)]
    ids = {row["id"] for row in (await sqlite.all_docs(AllDocsQuery()))["rows"]}
    assert "office:ranking:xixi:2026-01" not in ids  # before the sub-district's first check


async def test_the_dashboard_counts_per_community_and_grid(sqlite: SqliteStore) -> None:
    fixed = as_shop(patrol("2026-03-17 10:00", finding("f1", "wiring_ok", "general", "2026-03-19")), code(1))
    fix = as_shop(rectification("2026-03-18 09:00", hazard_id(fixed, "f1")), code(1))
    passed = as_shop(verification("2026-03-18 15:00", hazard_id(fixed, "f1"), rectified=fix["_id"]), code(1))
    ignored = as_shop(patrol("2026-03-10 10:00", finding("f1", "gas_safe", "serious", "2026-03-11")), code(2))
    events = [
        as_shop(self_check("2026-03-16 09:00"), code(1)),
        fixed,
        fix,
        passed,
        as_shop(self_check("2026-03-02 09:00"), code(2)),
        ignored,
    ]
    await sqlite.bulk_docs([*registry(2), *events])
    await settle(sqlite)
    week = await _doc(sqlite, "office:stats:xixi:2026-W12")
    assert week["as_of"] == "2026-03-20"
    assert week["figures"] == {
        "active_shops": 2,
        "self_checks": 1,
        "self_checked_shops": 1,
        "patrols": 1,
        "patrolled_shops": 1,
        "hazards_found": 1,
        "hazards_rectified": 1,
        "open_alarms": 1,
        "overdue_hazards": 1,
        "hazards_due": 1,
        "hazards_rectified_in_time": 1,
    }
    month = await _doc(sqlite, "office:stats:xixi:2026-03")
    assert month["figures"] | {} == {
        "active_shops": 2,
        "self_checks": 2,
        "self_checked_shops": 2,
        "patrols": 2,
        "patrolled_shops": 2,
        "hazards_found": 2,
        "hazards_rectified": 1,
        "open_alarms": 1,
        "overdue_hazards": 1,
        "hazards_due": 2,
        "hazards_rectified_in_time": 1,
    }
    assert set(month["by_community"]) == {"wensan", "cuiyuan"} and set(month["by_grid"]) == {"wensan-01", "cuiyuan-01"}
    assert month["by_grid"]["cuiyuan-01"]["overdue_hazards"] == 1 and month["by_grid"]["wensan-01"]["open_alarms"] == 0
    last_year = await _doc(sqlite, "office:stats:xixi:2025-03")
    assert last_year["as_of"] == "2025-03-31" and last_year["figures"]["self_checks"] == 0
    for period in ("2026", "2025", "2025-W12"):
        assert (await _doc(sqlite, f"office:stats:xixi:{period}"))["figures"]["active_shops"] == 2


async def test_the_daily_tick_applies_the_time_rules_of_the_new_day(sqlite: SqliteStore) -> None:
    await sqlite.bulk_docs([*registry(1), as_shop(self_check("2026-03-02 09:00"), code(1))])
    now = [datetime(2026, 3, 20, 4, 0, tzinfo=UTC)]
    follower = Follower(sqlite, lambda: now[0], FAST)
    task = await running(follower)
    try:
        await follower.settled()
        assert (await _doc(sqlite, f"{code(1)}:score"))["points"] == 102
        now[0] = datetime(2026, 3, 23, 16, 6, tzinfo=UTC)  # 00:06 on 24 March in Shanghai: 2026-W11 is missed
        await follower.settled()
        for _ in range(200):
            if (await _doc(sqlite, f"{code(1)}:score"))["points"] == 101:
                break
            await follower.settled()
        assert (await _doc(sqlite, f"{code(1)}:score"))["points"] == 101
        await follower.settled()  # the sub-district pass follows the shop's projection (debounced)
        assert (await _doc(sqlite, "office:stats:xixi:2026-W13"))["as_of"] == "2026-03-24"
    finally:
        await stop(task)


def test_the_tick_is_at_five_past_midnight_in_shanghai() -> None:
    zone = _zone("Asia/Shanghai")
    at = FAST.tick_at
    assert next_tick(datetime(2026, 3, 19, 16, 4, tzinfo=UTC), at, zone) == datetime(2026, 3, 20, 0, 5, tzinfo=zone)
    assert next_tick(datetime(2026, 3, 19, 16, 5, tzinfo=UTC), at, zone) == datetime(2026, 3, 21, 0, 5, tzinfo=zone)


def test_periods_and_their_bounds() -> None:
    assert periods(date(2026, 3, 20)) == [
        ("2026-W12", date(2026, 3, 20)),
        ("2026-03", date(2026, 3, 20)),
        ("2026", date(2026, 3, 20)),
        ("2025-W12", date(2025, 3, 23)),
        ("2025-03", date(2025, 3, 31)),
        ("2025", date(2025, 12, 31)),
    ]
    assert [p for p, _ in periods(date(2026, 12, 31))][:3] == ["2026-W53", "2026-12", "2026"]
    assert "2025-W53" not in [p for p, _ in periods(date(2026, 12, 31))]  # 2025 has 52 ISO weeks
    assert period_bounds("2026-02") == (date(2026, 2, 1), date(2026, 2, 28))
    assert period_bounds("2026-12") == (date(2026, 12, 1), date(2026, 12, 31))
    assert shift_month("2026-01", -1) == "2025-12" and shift_month("2025-12", 1) == "2026-01"


def test_the_same_period_last_year_is_counted_to_the_same_point() -> None:
    # Three days into November: the first three days of last November, not the whole month.
    assert same_span("2026-11", "2025-11", date(2026, 11, 3)) == (date(2025, 11, 1), date(2025, 11, 3))
    # A month that has ended is set against the whole one; a longer month stops at the shorter one's end.
    assert same_span("2026-10", "2025-10", date(2026, 11, 3)) == (date(2025, 10, 1), date(2025, 10, 31))
    assert same_span("2028-02", "2027-02", date(2028, 2, 29)) == (date(2027, 2, 1), date(2027, 2, 28))
    # Wednesday of week 48: Monday to Wednesday of last year's week 48.
    assert same_span("2026-W48", "2025-W48", date(2026, 11, 25)) == (date(2025, 11, 24), date(2025, 11, 26))


def test_a_shops_facts_read_back_from_the_office_snapshot_are_the_same() -> None:
    """The office view's snapshot keeps each shop's facts as JSON: hazards and alarms with their status steps and
    deadlines, the days of its checks, its authors, all read back equal."""
    walk = patrol("2026-03-03 09:00", finding("f1", "gas_safe", "serious", "2026-03-04"))
    events = [self_check("2026-03-02 10:00"), walk, rectification("2026-03-03 18:00", hazard_id(walk, "f1"))]
    docs = project(events, "2026-03-10", shop())
    hazards = [d for d in docs if d["type"] == "hazard"]
    alarms = [d for d in docs if d["type"] == "alarm"]
    facts = shop_facts(SHOP, shop(), events, hazards, alarms, RULES)
    assert facts.hazards and facts.alarms and facts.authors and facts.hazards[0].deadline is not None
    assert facts_of_json(orjson.loads(orjson.dumps(facts_json(facts)))) == facts


def test_a_shops_facts_name_each_users_newest_event_from_each_device() -> None:
    """What the sync monitor shows as a user's newest delivered event, and each device's: by the moment, whatever the
    offset it was written with; photos, deleted events and another shop's events do not count."""
    early = self_check("2026-03-02 10:00") | {"device": "d-old"}
    late_utc = self_check("2026-03-02 10:30") | {"device": "d-new"}
    late_utc["performed_at"] = "2026-03-02T02:30:00+00:00"  # 10:30 in Shanghai, written in UTC: the later one
    earlier_new = self_check("2026-03-02 10:20") | {"device": "d-new"}
    gone = self_check("2026-03-09 10:00") | {"_deleted": True}
    elsewhere = self_check("2026-03-10 10:00") | {"shop": "S0002"}
    walk = patrol("2026-03-03 09:00")
    events = [late_utc, early, earlier_new, gone, elsewhere, walk, photo("2026-03-11 10:00")]
    facts = shop_facts(SHOP, None, events, (), (), RULES)
    assert facts.authors == (
        ("grid:zhou", walk["performed_at"], "d-test"),
        ("owner:S0001", "2026-03-02T02:30:00+00:00", "d-new"),
        ("owner:S0001", early["performed_at"], "d-old"),  # the older phone's own newest is kept too
    )


def test_a_status_is_the_one_reached_by_the_end_of_the_day() -> None:
    steps = ((date(2026, 3, 2), "open"), (date(2026, 3, 4), "overdue"), (date(2026, 3, 6), "closed"))
    hazard = Tracked("h", date(2026, 3, 2), steps, date(2026, 3, 3))
    assert [hazard.status_on(date(2026, 3, d)) for d in (1, 2, 4, 5, 6)] == [
        None,
        "open",
        "overdue",
        "overdue",
        "closed",
    ]
    assert not hazard.closed_in_time(date(2026, 3, 6))
    assert Tracked("h", date(2026, 3, 2), (steps[0], steps[2])).closed_in_time(date(2026, 3, 6))


def test_a_hazard_due_today_and_still_open_is_not_counted_due_before_the_day_is_over() -> None:
    """On the 1st, six hazards due that day and not yet fixed made the month's rectification rate 14%: today is not
    over, so they are not late yet; one closed in time today counts, and once the day is over the others count too."""
    walk = patrol(
        "2026-03-02 10:00",
        finding("f1", "gas_safe", "serious", "2026-03-03"),
        finding("f2", "wiring_ok", "general", "2026-03-03"),
    )
    fix = rectification("2026-03-03 09:00", hazard_id(walk, "f2"))
    passed = verification("2026-03-03 15:00", hazard_id(walk, "f2"), rectified=fix["_id"])
    events = [walk, fix, passed]
    docs = project(events, "2026-03-03", shop())
    hazards = [d for d in docs if d["type"] == "hazard"]
    facts = shop_facts(SHOP, shop(), events, hazards, [d for d in docs if d["type"] == "alarm"], RULES)
    start, day = date(2026, 3, 1), date(2026, 3, 3)

    def due(today: date | None) -> tuple[int, int]:
        counted = figures([facts], start, day, today)
        return counted["hazards_due"], counted["hazards_rectified_in_time"]

    assert due(day) == (1, 1)  # on the 3rd: the fixed one; the gas hazard may still be fixed today
    assert due(date(2026, 3, 4)) == due(None) == (2, 1)  # the 3rd is over: the gas hazard was late
