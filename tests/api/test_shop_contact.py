"""A shop's responsible person (负责人) and phone: the office registers them by hand or by the survey import, finds
them on the black list, the e-file and the exports to call the shop in (约谈), and nobody outside sees them: not the
public card, the badge or the poster, nor another shop's owner or another grid's worker (tests/security/
test_contact_scope.py tries the replication endpoints of a real gateway)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.api.conftest import World, open_world, wait_until
from tests.api.projections import score_doc, write
from tests.api.test_import import XLSX, csv_bytes, run, shops, xlsx
from tests.api.test_import_reasons import said_both_ways
from tests.api.test_public import publish, snapshot
from tests.api.test_qr import decode_pages

PERSON, PHONE = "王建国", "138 0013 8000"
DIGITS = "13800138000"


def office(world: World) -> dict[str, str]:
    return world.login("wang", "wang-password")


def contact_of(world: World, code: str) -> dict[str, Any] | None:
    items = world.client.get(f"/api/office/registry/shops?code={code}", headers=office(world)).json()["items"]
    assert len(items) == 1
    found: dict[str, Any] | None = items[0]["contact"]
    return found


def patch(world: World, code: str, body: dict[str, Any]) -> Any:
    return world.client.patch(f"/api/office/shops/{code}", json=body, headers=office(world))


def about_contacts(report: dict[str, Any]) -> list[str]:
    """The import's warnings naming the contact's columns or a contact (not the one about no community column)."""
    return [w for w in report["warnings"] if "负责人" in w or "联系电话" in w]


def read_csv(body: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


# ----- the registry desk -----


def test_the_office_registers_changes_and_removes_a_shops_contact(world: World) -> None:
    h = office(world)
    new = {"code": "S0100", "name": "老李面馆", "address": "明南路8号", "category": "food", "grid": "g2"}
    # As a Chinese keyboard types it: full-width digits and space, made plain.
    typed = {**new, "contact": {"name": " 李秀英 ", "phone": "１３９　００１３　９０００"}}
    resp = world.client.post("/api/office/shops", json=typed, headers=h)
    assert resp.status_code == 201, resp.text
    assert resp.json()["contact"] == {"name": "李秀英", "phone": "139 0013 9000"}
    assert contact_of(world, "S0100") == {"name": "李秀英", "phone": "139 0013 9000"}

    assert contact_of(world, "S0001") is None  # registered before: none
    resp = patch(world, "S0001", {"contact": {"name": PERSON, "phone": PHONE}})
    assert resp.status_code == 200, resp.text
    assert resp.json()["contact"] == {"name": PERSON, "phone": PHONE}
    # Another field changed alone leaves the contact as it is; a phone alone is a contact too.
    assert patch(world, "S0001", {"name": "王记小吃"}).json()["contact"] == {"name": PERSON, "phone": PHONE}
    assert patch(world, "S0002", {"contact": {"phone": "0571-88001234"}}).json()["contact"] == {
        "name": None,
        "phone": "0571-88001234",
    }
    # Null, or both emptied in the form, removes it.
    assert patch(world, "S0001", {"contact": None}).json()["contact"] is None
    assert patch(world, "S0002", {"contact": {"name": "", "phone": " "}}).json()["contact"] is None
    assert contact_of(world, "S0001") is None and contact_of(world, "S0002") is None

    # The audit log says the contact changed, never whose or which number: the log keeps its entries for good.
    log = world.client.get("/api/office/audit?limit=1000", headers=h).json()["items"]
    details = [e["detail"] for e in log if e["event"] == "shop_changed"]
    assert "by office:wang: contact: changed" in details and "by office:wang: contact: removed" in details
    said = " ".join(str(e) for e in log)
    for private in (PERSON, DIGITS, "0013", "88001234", "李秀英"):
        assert private not in said, private


@pytest.mark.parametrize(
    ("contact", "reason"),
    [
        (
            {"name": PERSON, "phone": "请打店主手机"},
            "contact.phone: 联系电话只能有数字、空格、+ 和 -，如 138 0013 8000 或 0571-8800 1234（7 至 20 位数字，"
            "一格只填一个号码）。contact.phone: must be a phone number of 7 to 20 digits, with only spaces, + and - "
            "between them",
        ),
        ({"phone": "13800138000，13900139000"}, "contact.phone: 联系电话只能"),
        ({"phone": "12345"}, "contact.phone: 联系电话只能"),
        ({"phone": "=1+1 138 0013 8000"}, "contact.phone: 联系电话只能"),
        ({"name": "王" * 51}, "contact.name: 负责人姓名最多 50 字。contact.name: string should have at most 50"),
        ({"name": PERSON, "phone": 13800138000}, "contact.phone: must be a string"),
        ({"name": "王建国\n（店长）"}, "contact.name: 不能含换行或控制字符。"),
        ({"name": PERSON, "mobile": DIGITS}, "contact.mobile: unknown field"),
        (f"{PERSON} {PHONE}", 'contact: must be an object {"name", "phone"}, or null for none'),
    ],
)
def test_a_contact_that_is_no_person_or_phone_is_a_400_naming_it(world: World, contact: Any, reason: str) -> None:
    assert patch(world, "S0001", {"contact": {"name": "张三", "phone": "13900139000"}}).status_code == 200
    resp = patch(world, "S0001", {"contact": contact})
    assert resp.status_code == 400, resp.text
    assert resp.json()["error"] == "bad_request" and resp.json()["reason"].startswith(reason)
    assert contact_of(world, "S0001") == {"name": "张三", "phone": "13900139000"}  # nothing written
    # A new shop with it is not registered either.
    new = {"code": "S0101", "name": "新店", "address": "明南路9号", "grid": "g1", "contact": contact}
    resp = world.client.post("/api/office/shops", json=new, headers=office(world))
    assert resp.status_code == 400 and resp.json()["reason"].startswith(reason)
    assert world.client.get("/api/office/registry/shops?code=S0101", headers=office(world)).json()["items"] == []


# ----- never where anyone may look -----


def test_the_public_card_the_badge_and_the_poster_never_show_the_contact(tmp_path: Path) -> None:
    with open_world(tmp_path, run_validators=False) as world:
        assert patch(world, "S0002", {"contact": {"name": PERSON, "phone": "+86 138-0013-8000"}}).status_code == 200
        world.call(
            write,
            world.state.store,
            score_doc("S0002", 61, rank=3, of=3, listed="black"),
            snapshot("minglou", "2026-11", [("S0001", "red"), ("S0003", None), ("S0002", "black")]),
        )
        publish(world, "minglou", "2026-11")  # the black list the street sees, with this shop on it
        card = world.client.get("/api/public/shops/S0002")  # no token: anyone who scans the poster
        assert card.status_code == 200 and card.json()["list"] == "black"
        badge = world.client.get("/api/public/shops/S0002/badge.svg")
        assert badge.status_code == 200 and "黑榜" in badge.text
        poster = world.client.get("/api/office/posters.pdf?shop=S0002", headers=office(world))
        assert poster.status_code == 200
        [(_codes, text)] = decode_pages(poster.content)
        assert "小吃店S0002" in text
        for said in (card.text, badge.text, text):
            flat = re.sub(r"[\s+-]", "", said)
            assert PERSON not in said and "13800138000" not in flat and "0013" not in said and "contact" not in said


# ----- the survey import -----


def test_the_surveys_responsible_person_and_phone_are_imported(world: World) -> None:
    rows = [
        ["店铺编号", "店铺名称", "地址", "网格", "负责人", "联系电话"],
        ["S0001", "小吃店S0001", "曙光北路1号", "g1", PERSON, PHONE],
        ["", "好又多超市", "曙光北路7号", "g1", "陈红", "０５７１－８８００１２３４"],
        ["", "老周五金", "曙光北路9号", "g2", "", ""],
        ["", "只有电话", "曙光北路11号", "g2", "", "'+86 139 0013 9000"],  # as a CSV export neutralises a "+"
    ]
    report = run(world, csv_bytes(rows), "text/csv")
    assert (report["created"], report["updated"], report["refused"]) == (3, 1, 0), report
    assert not about_contacts(report)  # both columns are read, not ignored
    codes = {a["name"]: a["code"] for a in report["assigned"]}
    registered = shops(world)
    assert registered["S0001"]["contact"] == {"name": PERSON, "phone": PHONE}
    assert registered[codes["好又多超市"]]["contact"] == {"name": "陈红", "phone": "0571-88001234"}
    assert registered[codes["老周五金"]]["contact"] is None
    assert registered[codes["只有电话"]]["contact"] == {"name": None, "phone": "+86 139 0013 9000"}


@pytest.mark.parametrize(
    "header",
    [
        ["code", "name", "address", "grid", "contact person", "phone"],
        ["店铺编号", "店铺名称", "地址", "网格", "联系人", "手机"],
        ["店铺编号", "店铺名称", "地址", "网格", "负责人（必填）", "联系电话（手机或座机）"],  # the template's notes
    ],
)
def test_the_contact_columns_are_read_by_their_other_names(world: World, header: list[str]) -> None:
    report = run(world, xlsx([header, ["S0003", "小吃店S0003", "曙光北路1号", "g2", "陈红", 13900139000]]), XLSX)
    assert (report["updated"], report["refused"], about_contacts(report)) == (1, 0, []), report
    # A phone Excel holds as a number reads as its digits.
    assert shops(world)["S0003"]["contact"] == {"name": "陈红", "phone": "13900139000"}


def test_an_empty_cell_keeps_the_registered_contact_and_a_new_person_without_a_phone_is_warned(world: World) -> None:
    assert patch(world, "S0001", {"contact": {"name": PERSON, "phone": PHONE}}).status_code == 200
    assert patch(world, "S0002", {"contact": {"name": "陈红", "phone": "0571-88001234"}}).status_code == 200
    header = ["店铺编号", "店铺名称", "地址", "网格", "负责人", "联系电话"]
    rows = [
        header,
        ["S0001", "小吃店S0001", "曙光北路1号", "g1", "", ""],  # nothing said: nothing changes
        ["S0002", "小吃店S0002", "曙光北路1号", "g1", "", "13700137000"],  # a new number for the same person
        ["S0003", "小吃店S0003", "曙光北路1号", "g2", "赵六", ""],
    ]
    report = run(world, csv_bytes(rows), "text/csv")
    assert (report["unchanged"], report["updated"], report["refused"]) == (1, 2, 0), report
    registered = shops(world)
    assert registered["S0001"]["contact"] == {"name": PERSON, "phone": PHONE}
    assert registered["S0002"]["contact"] == {"name": "陈红", "phone": "13700137000"}
    assert registered["S0003"]["contact"] == {"name": "赵六", "phone": None}
    assert not about_contacts(report)

    # Another person, the phone cell empty: the registered phone stays, and the office is asked to check it.
    rows = [header, ["S0001", "小吃店S0001", "曙光北路1号", "g1", "李四", ""]]
    dry = run(world, csv_bytes(rows), "text/csv", "?dry_run=1")
    [warning] = about_contacts(dry)
    assert warning.startswith("第 2 行“小吃店S0001”的负责人由“王建国”改为“李四”，联系电话一格空着，沿用原登记的电话")
    assert DIGITS not in re.sub(r"\s", "", warning)  # the report names no number
    said_both_ways([warning])  # the office's English screen has its English
    assert shops(world)["S0001"]["contact"] == {"name": PERSON, "phone": PHONE}  # a dry run writes nothing
    assert run(world, csv_bytes(rows), "text/csv")["updated"] == 1
    assert shops(world)["S0001"]["contact"] == {"name": "李四", "phone": PHONE}

    # A file without the columns leaves every contact as it is.
    plain = [["店铺编号", "店铺名称", "地址", "网格"], ["S0002", "小吃店S0002", "曙光北路1号", "g1"]]
    assert run(world, csv_bytes(plain), "text/csv")["unchanged"] == 1
    assert shops(world)["S0002"]["contact"] == {"name": "陈红", "phone": "13700137000"}


def test_a_phone_that_is_no_phone_number_refuses_its_row_with_a_reason(world: World) -> None:
    assert patch(world, "S0001", {"contact": {"name": PERSON, "phone": PHONE}}).status_code == 200
    rows = [
        ["店铺编号", "店铺名称", "地址", "网格", "负责人", "联系电话"],
        ["S0001", "王记小吃", "曙光北路1号", "g1", "李四", "见微信"],
        ["", "新开面馆", "曙光北路3号", "g1", "赵六", "13800138000/13900139000"],
        ["", "新开超市", "曙光北路5号", "g1", "钱七", "1.38001E+10"],  # what Excel made of a long number
        ["", "新开药店", "曙光北路7号", "g1", "孙" * 60, "13800138000"],
        ["", "好邻居便利店", "曙光北路9号", "g1", "周八", "13800138000"],
    ]
    for query in ("?dry_run=1", ""):
        report = run(world, csv_bytes(rows), "text/csv", query)
        assert (report["created"], report["refused"]) == (1, 4), report
        errors = {e["line"]: e for e in report["errors"]}
        assert sorted(errors) == [2, 3, 4, 5]
        assert {errors[n]["field"] for n in (2, 3, 4)} == {"contact_phone"} and errors[5]["field"] == "contact_name"
        assert errors[2]["reason"] == (
            "联系电话只能有数字、空格、+ 和 -，如 138 0013 8000 或 0571-8800 1234（7 至 20 位数字，一格只填一个号码）。"
            "contact.phone: must be a phone number of 7 to 20 digits, with only spaces, + and - between them"
        )
        assert errors[5]["reason"].startswith("负责人姓名最多 50 字。contact.name: string should have at most 50")
        said_both_ways([e["reason"] for e in report["errors"]])
    # The refused row changed nothing of its shop; the others were not registered.
    registered = shops(world)
    assert registered["S0001"]["name"] == "小吃店S0001" and registered["S0001"]["contact"] == {
        "name": PERSON,
        "phone": PHONE,
    }
    assert {s["name"] for s in registered.values()} == {"小吃店S0001", "小吃店S0002", "小吃店S0003", "好邻居便利店"}


def test_the_shops_export_holds_the_contact_and_imports_again(world: World) -> None:
    h = office(world)
    assert patch(world, "S0001", {"contact": {"name": PERSON, "phone": "+86 138 0013 8000"}}).status_code == 200
    assert patch(world, "S0002", {"contact": {"name": "陈红"}}).status_code == 200
    exported = world.client.get("/api/office/exports/shops.csv", headers=h)
    assert exported.status_code == 200
    rows = read_csv(exported.content)
    assert rows[0][:8] == ["店铺编号", "店铺名称", "地址", "类别", "社区", "网格", "负责人", "联系电话"]
    by_code = {r[0]: r for r in rows[1:]}
    # A "+" first would be a formula in Excel: the CSV neutralises it, and the import reads it back.
    assert by_code["S0001"][6:8] == [PERSON, "'+86 138 0013 8000"]
    assert by_code["S0002"][6:8] == ["陈红", ""] and by_code["S0003"][6:8] == ["", ""]
    again = run(world, exported.content, "text/csv")
    assert (again["unchanged"], again["refused"]) == (3, 0), again
    assert shops(world)["S0001"]["contact"] == {"name": PERSON, "phone": "+86 138 0013 8000"}


# ----- the black list: whom to call in -----


@pytest.fixture
def listed(tmp_path: Path) -> Iterator[World]:
    """November's list of 文三社区: S0001 red, S0002 black (its contact registered), S0003 black (none)."""
    with open_world(tmp_path, run_validators=False) as world:
        assert patch(world, "S0001", {"contact": {"name": "红榜店主", "phone": "13900139000"}}).status_code == 200
        assert patch(world, "S0002", {"contact": {"name": PERSON, "phone": PHONE}}).status_code == 200
        world.call(
            write,
            world.state.store,
            snapshot("minglou", "2026-11", [("S0001", "red"), ("S0002", "black"), ("S0003", "black")]),
        )
        yield world


def test_the_black_list_names_whom_to_call_and_the_rest_of_the_list_no_one(listed: World) -> None:
    h = office(listed)
    black = listed.client.get("/api/office/ranking?month=2026-11&list=black", headers=h).json()["entries"]
    assert {e["shop"]: e["contact"] for e in black} == {"S0002": {"name": PERSON, "phone": PHONE}, "S0003": None}
    red = listed.client.get("/api/office/ranking?month=2026-11&list=red", headers=h)
    assert [e["shop"] for e in red.json()["entries"]] == ["S0001"]
    assert "contact" not in red.json()["entries"][0] and "红榜店主" not in red.text

    rows = read_csv(listed.client.get("/api/office/exports/rankings.csv?month=2026-11", headers=h).content)
    assert rows[0][8:11] == ["红黑榜", "负责人", "联系电话"]  # beside the list, before what was done about it
    assert {r[2]: r[9:11] for r in rows[1:]} == {"S0001": ["", ""], "S0002": [PERSON, PHONE], "S0003": ["", ""]}

    # The printed monthly report goes round the offices and may be posted: it names no one.
    report = listed.client.get("/api/office/reports/2026-11.html", headers=h)
    assert report.status_code == 200 and "小吃店S0002" in report.text
    assert PERSON not in report.text and "0013" not in report.text


def test_the_e_file_shows_the_contact(world: World) -> None:
    assert patch(world, "S0001", {"contact": {"name": PERSON, "phone": PHONE}}).status_code == 200
    efile = world.client.get("/api/office/shops/S0001/efile", headers=office(world)).json()
    assert efile["shop"]["contact"] == {"name": PERSON, "phone": PHONE}


def test_the_shops_search_finds_a_shop_by_its_contacts_name_or_phone(world: World) -> None:
    """The office looks a shop up by whom it knows: the person's name, or the phone however it is written (the
    digits of it, the last four of them); a few digits that are no part of any phone find nothing."""
    assert patch(world, "S0001", {"contact": {"name": PERSON, "phone": "+86 138-0013-8000"}}).status_code == 200
    assert patch(world, "S0003", {"contact": {"name": "李秀英", "phone": "0571-88001234"}}).status_code == 200

    def found(q: str) -> list[str]:
        answer = world.client.get("/api/office/shops", params={"q": q}, headers=office(world)).json()
        return [row["code"] for row in answer["items"]]

    wait_until(lambda: found("王建国") == ["S0001"])
    assert found(" 李秀英 ") == ["S0003"] and found("秀英") == ["S0003"]
    assert found(DIGITS) == ["S0001"] and found("138 0013 8000") == ["S0001"] and found("8000") == ["S0001"]
    assert found("0571 8800 1234") == ["S0003"] and found("1234") == ["S0003"]
    assert found("８０００") == ["S0001"] and found("138－0013") == ["S0001"]  # a Chinese keyboard's full-width
    assert found("9999") == [] and found("张三") == []
    assert found("s0003") == ["S0003"] and found("曙光北路") == ["S0001", "S0002", "S0003"]  # as before
