"""Every reason and warning of the survey import is Chinese first with an English part the office's English screen
finds (`reasonIn` in pwa/src/i18n.ts: the text after the last full stop, mostly English words); without one, that
screen showed the Chinese."""

from __future__ import annotations

import re
from typing import Any

from server.import_jobs import LOST, STOPPED
from tests.api.conftest import World
from tests.api.test_import import HEADER, XLSX, csv_bytes, run, xlsx

CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


def english_of(reason: str) -> str | None:
    """The part of `reason` the English screen shows, as `reasonIn` finds it; None when it finds none (and shows the
    Chinese), or when there is no Chinese before it."""
    chinese, stop, english = reason.rpartition("。")
    latin, han = len(re.findall(r"[A-Za-z]", english)), len(CJK.findall(english))
    if not stop or not CJK.search(chinese) or not re.search(r"[A-Za-z]{2}", english) or latin < han:
        return None
    return english.strip()


def said_both_ways(reasons: list[str]) -> None:
    lacking = [reason for reason in reasons if english_of(reason) is None]
    assert lacking == [], lacking


def test_every_refused_row_and_every_warning_has_its_english(world: World) -> None:
    setup = [
        HEADER,
        ["A0001", "甲一店", "甲路1号", "餐饮", "甲社区", "第一网格"],
        ["B0001", "乙一店", "乙路1号", "餐饮", "乙社区", "第一网格"],  # a grid name two communities have
        ["T0001", "同名店", "同址路1号", "餐饮", "wensan", "g1"],
        ["T0002", "同名店", "同址路1号", "餐饮", "wensan", "g1"],  # two shops of one name and address
    ]
    assert run(world, csv_bytes(setup), "text/csv", "?create=1")["created"] == 4

    extra = ["法定代表人", "营业执照号", "从业人数", "经营面积", "备注"]  # many Chinese columns ignored
    rows: list[list[Any]] = [
        ["幸福街道店铺安全普查表"],  # a title above the header
        [*HEADER, *extra],
        ["C0001", "", "丙路1号", "餐饮", "wensan", "g1"],  # name empty
        ["", "同名店", "同址路1号", "餐饮", "wensan", "g1"],  # no code, two shops of that name and address
        ["C0002", "丙二店", "丙路2号", "餐饮", "wensan", "g1"],
        ["C0002", "丙二店又", "丙路3号", "餐饮", "wensan", "g1"],  # a duplicate code
        ["", "无号店", "丙路4号", "餐饮", "wensan", "g1"],
        ["", "无号店", "丙路4号", "餐饮", "wensan", "g1"],  # a duplicate without a code
        ["坏 编号", "丙五店", "丙路5号", "餐饮", "wensan", "g1"],  # a code of spaces and Chinese
        ["C0006", "长" * 201, "丙路6号", "餐饮", "wensan", "g1"],  # a name too long
        ["C0007", "丙七店", "丙路7号", "餐饮", "幸福街道第一社区居民委员会", "g1"],  # an unknown community
        ["C0008", "丙八店", "丙路8号", "餐饮", "甲社区", "g1"],  # a grid of another community
        ["C0009", "丙九店", "丙路9号", "餐饮", "wensan", "幸福街道幸福社区第十二网格"],  # an unknown grid
        ["C0010", "丙十店", "丙路10号", "餐饮", "", "第一网格"],  # a grid name two communities have
        ["C0011", "丙十一店", "丙路11号", "餐饮", "", "幸福街道幸福社区第十二网格"],  # an unknown grid, no community
        ["C0012", "小美美甲", "丙路12号", "美甲", "wensan", "g1"],  # a trade of no category: taken, as 其他
        ["合计", "12 家"],  # the survey's total
    ]
    report = run(world, xlsx(rows), XLSX, "?dry_run=1")
    fields = sorted((e["line"], e["field"]) for e in report["errors"])
    assert fields == [
        (3, "name"),
        (4, "code"),
        (6, "code"),
        (8, "code"),
        (9, "code"),
        (10, "name"),
        (11, "community"),
        (12, "grid"),
        (13, "grid"),
        (14, "grid"),
        (15, "grid"),
    ]
    assert len(report["warnings"]) == 4  # the title, the columns ignored, the total, the category
    said_both_ways([e["reason"] for e in report["errors"]] + report["warnings"])
    assert english_of(report["errors"][-1]["reason"]) == (
        "unknown grid 幸福街道幸福社区第十二网格: check the spelling, or tick Create the communities and grids the "
        "registry lacks"
    )
    assert english_of(report["warnings"][1]) == (
        "columns ignored (only the shop code, name, address, category, community, grid, contact person and phone are "
        "imported): " + ", ".join(extra)
    )

    # Creating what the file names: a grid needs its community, and a name one character from one in reach is held.
    header = ["店铺名称", "地址", "社区", "网格"]  # no code column, a warning says
    rows = [
        header,
        ["丁一店", "丁路1号", "", "新网格"],  # a new grid, no community
        ["丁二店", "丁路2号", "文山社区", "新网格"],  # 文三社区 misspelt
        ["丁三店", "丁路3号", "wensan", "文三一网络"],  # 文三一网格 misspelt
    ]
    held = run(world, xlsx(rows), XLSX, "?dry_run=1&create=1")
    assert sorted((e["line"], e["field"]) for e in held["errors"]) == [(2, "community"), (3, "community"), (4, "grid")]
    made = run(world, xlsx([["店铺名称", "地址", "网格"], ["戊一店", "戊路1号", "文三一网络"]]), XLSX, "?create=1")
    assert made["errors"][0]["field"] == "community"  # no community column, a warning says
    similar = run(world, xlsx(rows[:1] + rows[2:]), XLSX, "?dry_run=1&create=1&create_similar=1")
    assert similar["errors"] == [] and len(similar["warnings"]) == 3
    refusals = [e["reason"] for e in held["errors"] + made["errors"]]
    said_both_ways(refusals + held["warnings"] + made["warnings"] + similar["warnings"])


def test_every_refused_file_and_failed_job_has_its_english(world: World) -> None:
    office = world.login("wang", "wang-password")

    def refused(body: bytes, content_type: str = "text/csv") -> str:
        resp = world.client.post("/api/office/import", content=body, headers={**office, "Content-Type": content_type})
        assert 400 <= resp.status_code < 500, resp.text
        reason: str = resp.json()["reason"]
        return reason

    many = [HEADER] + [[f"X{n}", "店", "路", "food", "wensan", "g1"] for n in range(5001)]
    header = ["序号", "店铺名称", "负责人", "联系电话", "营业执照号", "从业人数", "经营面积", "备注", "所属街道"]
    reasons = [
        refused(b""),
        refused(b"x" * (6 * 1024 * 1024)),
        refused(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 2000),  # an old .xls
        refused(b"{}", "application/json"),
        refused(b"\xff\xfea"),  # UTF-16's mark, then no UTF-16
        refused("店铺名称,地址\r\n".encode() + b"\x80\xff"),  # neither UTF-8 nor GB18030
        refused(b"a,b\x00c\r\n"),
        refused(b"PK\x03\x04 not a zip at all", XLSX),
        refused(b",,,\r\n"),
        refused(csv_bytes([header, ["1", "甲店", "张三", "13800138000", "x", "3", "20", "", "幸福街道"]])),
        refused(csv_bytes([HEADER])),
        refused(csv_bytes(many)),
    ]
    said_both_ways(reasons)
    assert english_of(reasons[5]) == "the CSV is neither UTF-8, GB18030 nor UTF-16 text"
    assert english_of(reasons[9]) == (
        "missing columns: address (地址), grid (网格); the header needs the shop name, address and grid columns "
        "(code, category, community, contact person and phone are optional): see the template"
    )

    # A job the server lost or stopped on, and one no longer kept.
    gone = world.client.get("/api/office/import/nope", headers=office)
    assert gone.status_code == 404
    said_both_ways([LOST, STOPPED, gone.json()["reason"]])
