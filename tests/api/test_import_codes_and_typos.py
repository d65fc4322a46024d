"""The survey import as real surveys come: no shop codes (the import gives them, and the report lists them for the
posters) and misspelt community or grid names (refused, naming the registered one, unless the clerk confirms)."""

from __future__ import annotations

import contextlib
from typing import Any

from server.importer import Importer, Report, Row
from tests.api.conftest import World
from tests.api.test_import import HEADER, communities, csv_bytes, run, shops

NO_CODES = ["店铺名称", "地址", "类别", "社区", "网格"]


def given(report: dict[str, Any]) -> dict[int, str]:
    return {a["line"]: a["code"] for a in report["assigned"]}


def test_a_survey_without_codes_gets_the_next_free_codes_the_same_in_the_dry_run_and_the_real_run(
    world: World,
) -> None:
    # The registry holds S0001-S0003; the survey has no code column.
    rows = [NO_CODES] + [[f"新开店{n}", f"文三路{n}号", "超市", "wensan", "g1"] for n in range(1, 4)]
    dry = run(world, csv_bytes(rows), "text/csv", "?dry_run=1")
    assert (dry["created"], dry["refused"]) == (3, 0), dry["errors"]
    assert given(dry) == {2: "S0004", 3: "S0005", 4: "S0006"}
    assert [a["name"] for a in dry["assigned"]] == ["新开店1", "新开店2", "新开店3"]
    assert any(w.startswith("表中没有“店铺编号”列") for w in dry["warnings"])
    assert set(shops(world)) == {"S0001", "S0002", "S0003"}  # the dry run wrote nothing

    real = run(world, csv_bytes(rows), "text/csv")
    assert given(real) == given(dry) and real["created"] == 3
    after = shops(world)
    assert (after["S0005"]["name"], after["S0005"]["grid"]) == ("新开店2", "g1")

    # The same file again: the shops are known by name and address and keep their codes; nothing is doubled.
    again = run(world, csv_bytes(rows), "text/csv")
    assert (again["created"], again["unchanged"]) == (0, 3)
    assert given(again) == given(real) and all(a["registered"] for a in again["assigned"])
    assert len(shops(world)) == 6


def test_empty_code_cells_skip_the_files_codes_and_a_repeated_shop_is_a_duplicate(world: World) -> None:
    rows = [
        HEADER,
        ["", "甲店", "文三路1号", "超市", "wensan", "g1"],  # line 2: S0004
        ["", "乙店", "文三路2号", "超市", "wensan", "g1"],  # line 3: S0005 is the file's (line 5): S0006
        ["", "甲店", "文三路1号", "超市", "wensan", "g1"],  # line 4: the shop of line 2 again
        ["S0005", "丙店", "文三路3号", "超市", "wensan", "g1"],
        ["", "丁店", "文三路4号", "超市", "wensan", "g9"],  # refused (no grid g9): takes no code
        ["", "戊店", "文三路5号", "超市", "wensan", "g2"],  # line 7: S0007
    ]
    report = run(world, csv_bytes(rows), "text/csv")
    assert given(report) == {2: "S0004", 3: "S0006", 7: "S0007"}
    errors = {(e["line"], e["field"]): e["reason"] for e in report["errors"]}
    assert errors[(4, "code")].startswith("这一行没有店铺编号，与第 2 行同名同址（S0004），重复。")
    assert report["duplicates"] == [{"line": 4, "code": "S0004", "first_line": 2}]
    after = shops(world)
    assert {code: after[code]["name"] for code in ("S0004", "S0005", "S0006", "S0007")} == {
        "S0004": "甲店",
        "S0005": "丙店",
        "S0006": "乙店",
        "S0007": "戊店",
    }


def test_a_code_taken_between_planning_and_writing_is_never_overwritten(world: World) -> None:
    """Two imports at once (on CouchDB, two gateways) may give the same next code: the second write of it is a
    conflict, and its shop takes the next free code instead of overwriting the first one's."""
    registry = world.state.registry
    report = Report("job1", dry_run=False, create=False)
    rows = [Row(2, {"name": "后来的店", "address": "文三路9号", "category": "", "community": "wensan", "grid": "g1"})]

    async def meanwhile() -> None:  # after the chunk is planned, before it is written: the other import's shop
        other = {"name": "先到的店", "address": "文三路8号", "category": "food", "community": "wensan", "grid": "g2"}
        await registry.put_shop({"code": "S0004", **other, "status": "active", "owner_activated": False})

    async def go() -> Report:
        return await Importer(registry, report).run(rows, meanwhile)

    done = world.call(go)
    assert done.status == "done" and done.created == 1
    assert done.assigned == [{"line": 2, "code": "S0005", "name": "后来的店", "registered": False}]
    after = {code: world.call(registry.shop, code) for code in ("S0004", "S0005")}
    assert (after["S0004"]["name"], after["S0005"]["name"]) == ("先到的店", "后来的店")
    g1 = world.call(registry.grid, "g1")
    assert "S0005" in g1["shops"] and "S0004" not in g1["shops"]


TYPO = "新社区“文山社区”与已登记的社区“文三社区”只差一个字，是否写错？"


def test_a_misspelt_community_or_grid_is_not_created_silently(world: World) -> None:
    rows = [
        HEADER,
        ["T0001", "错社区的店", "文三路1号", "超市", "文山社区", "文三一网格"],  # 文山 for 文三
        ["T0002", "错网格的店", "文三路2号", "超市", "文三社区", "文三一网络"],  # 网络 for 网格
        ["T0003", "新网格的店", "文三路3号", "超市", "文三社区", "文三三网格"],  # a third grid: 三 for 二 is not a typo
        ["T0004", "新社区的店", "和平路1号", "超市", "和平社区", "和平一网格"],
    ]
    for query in ("?dry_run=1&create=1", "?create=1"):
        report = run(world, csv_bytes(rows), "text/csv", query)
        errors = {(e["line"], e["field"]): e["reason"] for e in report["errors"]}
        assert errors[(2, "community")].startswith(TYPO), errors
        assert "create_similar" in errors[(2, "community")]
        assert errors[(3, "grid")].startswith("新网格“文三一网络”与已登记的网格“文三一网格”只差一个字，是否写错？")
        assert (report["created"], report["refused"]) == (2, 2)
        assert any(w.startswith(TYPO) for w in report["warnings"])
        assert report["communities_created"] == ["和平社区"]
    assert "文山社区" not in communities(world) and "T0001" not in shops(world)

    # The clerk confirms: they are made, and the report still says so.
    report = run(world, csv_bytes(rows[:3]), "text/csv", "?create=1&create_similar=1")
    assert (report["created"], report["refused"]) == (2, 0), report["errors"]
    assert any(w.startswith(TYPO) and "已按要求新建" in w for w in report["warnings"])
    assert "文山社区" in communities(world)


def test_a_typo_of_a_community_the_same_import_makes_is_caught_too(world: World) -> None:
    rows = [
        HEADER,
        ["T0001", "甲店", "和平路1号", "超市", "和平社区", "和平一网格"],
        ["T0002", "乙店", "和平路2号", "超市", "和平杜区", "和平一网格"],  # 杜 for 社
    ]
    report = run(world, csv_bytes(rows), "text/csv", "?dry_run=1&create=1")
    [error] = report["errors"]
    assert error["line"] == 3 and error["reason"].startswith(
        "新社区“和平杜区”与本次导入新建的社区“和平社区”只差一个字，是否写错？"
    )


class Crash(Exception):
    pass


def test_codes_given_before_a_restart_are_kept_when_the_job_is_taken_up_again(world: World) -> None:
    """The gateway dies after planning the second chunk, before writing it: taken up again, each row keeps the code
    the report gave it, and no shop is made twice."""
    registry = world.state.registry
    report = Report("job2", dry_run=False, create=False)
    rows = [
        Row(n + 2, {"name": f"店{n}", "address": f"文三路{n}号", "category": "", "community": "wensan", "grid": "g1"})
        for n in range(150)
    ]
    saves: list[int] = []

    async def dies_at_the_second_chunk() -> None:
        saves.append(report.done)
        if len(saves) == 2:
            raise Crash

    async def first() -> None:
        with contextlib.suppress(Crash):
            await Importer(registry, report).run(rows, dies_at_the_second_chunk)

    world.call(first)
    assert (report.done, report.written, len(report.assigned)) == (150, 100, 150)
    planned = {a["line"]: a["code"] for a in report.assigned}

    async def again() -> Report:
        return await Importer(registry, Report(**report.to_json())).run(rows)

    done = world.call(again)
    assert done.status == "done" and done.created == 150
    assert {a["line"]: a["code"] for a in done.assigned} == planned
    codes = sorted(planned.values())
    assert codes[0] == "S0004" and codes[-1] == "S0153" and len(set(codes)) == 150
    stored = world.call(registry.shops, codes)
    assert [s["name"] for s in stored] == [f"店{n}" for n in range(150)]
    assert len(world.call(registry.grid, "g1")["shops"]) == 2 + 150
