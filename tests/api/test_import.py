"""The survey import: CSV and XLSX, a dry run that writes nothing, a per-row validation report, limits."""

from __future__ import annotations

import csv
import io
import time
import zipfile
from typing import Any

import openpyxl

from tests.api.conftest import World
from tests.api.test_qr import decode_pages

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADER = ["店铺编号", "店铺名称", "地址", "类别", "社区", "网格"]


def xlsx(rows: list[list[Any]]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def zipped(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return out.getvalue()


def csv_bytes(rows: list[list[str]], bom: bool = True, encoding: str = "utf-8") -> bytes:
    """The CSV Excel saves: a cell holding a comma, a quote or a line break quoted."""
    text = io.StringIO()
    csv.writer(text, lineterminator="\r\n").writerows(rows)
    return (b"\xef\xbb\xbf" if bom else b"") + text.getvalue().encode(encoding)


def run(world: World, body: bytes, content_type: str, query: str = "") -> dict[str, Any]:
    office = world.login("wang", "wang-password")
    resp = world.client.post(
        f"/api/office/import{query}", content=body, headers={**office, "Content-Type": content_type}
    )
    assert resp.status_code == 202, resp.text
    job = resp.json()["job"]
    for _ in range(200):
        report: dict[str, Any] = world.client.get(f"/api/office/import/{job}", headers=office).json()
        if report["status"] != "running":
            assert report["done"] == report["total"]
            return report
        time.sleep(0.05)
    raise AssertionError("the import did not finish")


def shops(world: World) -> dict[str, dict[str, Any]]:
    office = world.login("wang", "wang-password")
    items = world.client.get("/api/office/registry/shops", headers=office).json()["items"]
    return {s["code"]: s for s in items}


def test_a_200_shop_xlsx_dry_run_writes_nothing_then_the_real_run_creates_them(world: World) -> None:
    rows = [HEADER] + [
        [f"M{n:04d}", f"王记小吃{n}", f"曙光北路{n}号", "餐饮", "新社区", "新一网格" if n % 2 else "新二网格"]
        for n in range(1, 201)
    ]
    body = xlsx(rows)
    dry = run(world, body, XLSX, "?dry_run=1&create=1")
    assert dry["status"] == "done" and dry["dry_run"] is True
    assert (dry["total"], dry["created"], dry["refused"]) == (200, 200, 0)
    assert dry["communities_created"] == ["新社区"]
    assert sorted(dry["grids_created"]) == ["新社区/新一网格", "新社区/新二网格"]  # by the community's name
    assert set(shops(world)) == {"S0001", "S0002", "S0003"}  # nothing written

    real = run(world, body, XLSX, "?create=1")
    assert (real["created"], real["refused"]) == (200, 0)
    after = shops(world)
    assert len(after) == 203
    assert after["M0007"]["name"] == "王记小吃7" and after["M0007"]["category"] == "food"
    assert after["M0007"]["status"] == "active" and after["M0007"]["owner_activated"] is False
    office = world.login("wang", "wang-password")
    communities = world.client.get("/api/office/registry/communities", headers=office).json()["items"]
    new = next(c for c in communities if c["name"] == "新社区")
    assert new["subdistrict"] == "minglou" and new["shops"] == 200
    assert sorted(g["shops"] for g in new["grids"]) == [100, 100]

    again = run(world, body, XLSX, "?create=1")  # the same survey twice: nothing new
    assert (again["created"], again["unchanged"], again["grids_created"]) == (0, 200, [])

    # The community's posters: one page per imported shop, each page's QR code its own shop's URL.
    resp = world.client.get(f"/api/office/posters.pdf?community={new['code']}", headers=office)
    assert resp.status_code == 200
    pages = decode_pages(resp.content, scale=0.8)
    assert [codes for codes, _ in pages] == [[f"http://testserver/s/M{n:04d}"] for n in range(1, 201)]
    assert all(f"王记小吃{n}" in text for n, (_, text) in enumerate(pages, start=1))


def test_the_report_names_line_field_and_reason_and_finds_duplicates(world: World) -> None:
    rows = [
        ["code", "name", "address", "category", "community", "grid"],
        ["S0001", "改名小吃", "曙光北路1号", "food", "wensan", "g1"],  # existing: updated
        ["S0002", "小吃店S0002", "曙光北路1号", "food", "文三社区", "文三二网格"],  # moved to g2 by names
        ["N1", "", "明南路2号", "retail", "wensan", "g1"],  # empty name
        ["N2", "便利店", "明南路3号", "retail", "nowhere", "g1"],  # unknown community
        ["N3", "便利店", "明南路4号", "retail", "wensan", "g9"],  # unknown grid
        ["bad code!", "便利店", "明南路5号", "retail", "wensan", "g1"],
        ["N4", "好店", "明南路6号", "retail", "wensan", "g1"],
        ["N4", "好店again", "明南路7号", "retail", "wensan", "g1"],  # duplicate of line 8
        ["", "", "", "", "", ""],  # blank lines are skipped
    ]
    report = run(world, csv_bytes(rows, bom=False), "text/csv")
    errors = {(e["line"], e["field"]): e["reason"] for e in report["errors"]}
    assert errors[(4, "name")] == "店铺名称是必填项，这一行是空的。required, but empty"
    assert "unknown community nowhere" in errors[(5, "community")]
    assert "unknown grid g9" in errors[(6, "grid")]
    assert "shop code" in errors[(7, "code")]
    assert "line 8" in errors[(9, "code")]
    assert report["duplicates"] == [{"line": 9, "code": "N4", "first_line": 8}]
    assert (report["created"], report["updated"], report["moved"], report["refused"]) == (1, 1, 1, 5)
    after = shops(world)
    assert after["S0001"]["name"] == "改名小吃" and after["S0002"]["grid"] == "g2" and "N4" in after
    assert "N2" not in after and "N3" not in after


def test_csv_with_bom_gb18030_and_a_hostile_name(world: World) -> None:
    hostile = '=HYPERLINK("http://evil")<script>alert(1)</script>'
    rows = [HEADER, ["G1", hostile.replace('"', "'"), "百丈东路1号", "五金", "wensan", "g2"]]
    report = run(world, csv_bytes(rows, bom=True), "text/csv; charset=utf-8")
    assert report["created"] == 1
    rows = [HEADER, ["G2", "老王五金", "百丈东路2号", "五金", "文三社区", "g2"]]
    report = run(world, csv_bytes(rows, bom=False, encoding="gb18030"), "text/csv")
    assert report["created"] == 1, report
    after = shops(world)
    assert after["G1"]["name"] == hostile.replace('"', "'") and after["G2"]["name"] == "老王五金"
    assert after["G2"]["category"] == "hardware"


def test_a_cells_line_breaks_are_spaces_in_the_registry(world: World) -> None:
    """An address typed in Excel with Alt+Enter holds a line break: the registry keeps one line (posters and exports
    print it as it is, and the office's form would drop it without a word at its next save)."""
    rows = [HEADER, ["G3", "老王\n五金", "百丈东路\r\n3号\t(后门)", "五金", "wensan", "g2"]]
    report = run(world, csv_bytes(rows), "text/csv; charset=utf-8")
    assert report["created"] == 1, report
    after = shops(world)["G3"]
    assert after["name"] == "老王 五金" and after["address"] == "百丈东路 3号 (后门)"


def test_bad_files_get_a_reason_never_a_500(world: World) -> None:
    office = world.login("wang", "wang-password")

    def post(body: bytes, content_type: str) -> tuple[int, str]:
        resp = world.client.post("/api/office/import", content=body, headers={**office, "Content-Type": content_type})
        return resp.status_code, resp.json().get("reason", "")

    assert post(b"", "text/csv")[0] == 400
    assert "missing columns" in post(csv_bytes([["foo", "bar"], ["1", "2"]]), "text/csv")[1]
    assert "no shop rows" in post(csv_bytes([HEADER]), "text/csv")[1]
    assert post(b"PK\x03\x04 not a zip at all", XLSX)[0] == 400
    assert "cannot be read" in post(zipped({"hello.txt": b"hi"}), XLSX)[1]
    assert "cannot be read" in post(zipped({"[Content_Types].xml": b"<not xml"}), XLSX)[1]
    status, reason = post(zipped({"a.txt": b"0" * (70 * 1024 * 1024)}), XLSX)  # a zip bomb, 70 KB packed
    assert status == 413 and "unpacks to more than" in reason
    assert post(b"\x00\x01\x02garbage", "text/csv")[0] == 400
    assert post(b"{}", "application/json")[0] == 400
    status, reason = post(b"x" * (6 * 1024 * 1024), "text/csv")
    assert status == 413 and "5 MB" in reason
    many = [HEADER] + [[f"X{n}", "店", "路", "food", "wensan", "g1"] for n in range(5001)]
    status, reason = post(csv_bytes(many), "text/csv")
    assert status == 400 and "more than 5000" in reason
    zhou = world.login("zhou", "zhou-password")
    resp = world.client.post("/api/office/import", content=csv_bytes([HEADER]), headers=zhou)
    assert resp.status_code == 403
    assert world.client.get("/api/office/import/nope", headers=office).status_code == 404


def test_two_imports_at_once_both_land_in_the_same_new_grid(world: World) -> None:
    office = world.login("wang", "wang-password")
    jobs = []
    for prefix in ("A", "B"):
        rows = [HEADER] + [[f"{prefix}{n:03d}", f"店{n}", f"路{n}号", "retail", "wensan", "g1"] for n in range(60)]
        resp = world.client.post(
            "/api/office/import", content=csv_bytes(rows), headers={**office, "Content-Type": "text/csv"}
        )
        assert resp.status_code == 202
        jobs.append(resp.json()["job"])
    for job in jobs:
        for _ in range(400):
            report = world.client.get(f"/api/office/import/{job}", headers=office).json()
            if report["status"] == "done":
                break
            time.sleep(0.05)
        assert report["status"] == "done" and report["created"] == 60
    g1 = next(
        g
        for c in world.client.get("/api/office/registry/communities", headers=office).json()["items"]
        for g in c["grids"]
        if g["code"] == "g1"
    )
    assert g1["shops"] == 2 + 120


def communities(world: World) -> dict[str, dict[str, Any]]:
    office = world.login("wang", "wang-password")
    items = world.client.get("/api/office/registry/communities", headers=office).json()["items"]
    return {c["name"]: c for c in items}


def test_blank_rows_in_an_xlsx_do_not_count_toward_the_limit_nor_cut_the_survey_short(world: World) -> None:
    """Blank rows used to count: a sheet longer than 5,001 rows was read up to there, and the rest went unread."""
    shop = ["店", "路1号", "餐饮", "wensan", "g1"]
    rows: list[list[Any]] = [HEADER, *[[f"A{n:03d}", *shop] for n in range(10)]]
    rows += [[None] * 6] * 5100
    rows += [[f"B{n:03d}", *shop] for n in range(10)]
    report = run(world, xlsx(rows), XLSX, "?dry_run=1")
    assert (report["total"], report["created"], report["refused"]) == (20, 20, 0)
    assert report["errors"] == []


def test_a_surveys_total_line_is_passed_over_with_a_warning_not_refused_as_a_shop(world: World) -> None:
    """A survey ends with its total ("合计 | 2 家" in the 序号 and 店铺名称 columns): it was refused as a shop with
    no address, and the office looked for the shop of that line."""
    head = ["序号", "店铺名称", "地址", "类别", "社区", "网格"]
    rows: list[list[Any]] = [
        head,
        [1, "甲一店", "甲路1号", "餐饮", "wensan", "g1"],
        [2, "合计小吃", "甲路2号", "餐饮", "wensan", "g1"],  # a shop whose name starts like it: a shop
        ["合计", "2 家", None, None, None, None],
    ]
    report = run(world, xlsx(rows), XLSX, "?dry_run=1")
    assert (report["total"], report["created"], report["refused"]) == (2, 2, 0), report["errors"]
    said = "第 4 行“合计 2 家”是合计行，不是店铺，未导入。"
    assert any(w.startswith(said) for w in report["warnings"]), report["warnings"]


def test_a_new_communitys_grid_is_its_own_and_nothing_is_created_for_a_refused_row(world: World) -> None:
    rows = [
        HEADER,
        ["A0001", "甲一店", "甲路1号", "餐饮", "甲社区", "第一网格"],
        ["B0001", "乙一店", "乙路1号", "餐饮", "乙社区", "第一网格"],  # a grid of the same name, in 乙社区
        ["C0001", "丙一店", "丙路1号", "餐饮", "丙社区", "g1"],  # g1 is wensan's grid: refused, 丙社区 not made
        ["bad code!", "丁一店", "丁路1号", "餐饮", "丁社区", "第一网格"],  # refused: 丁社区 not made
    ]
    report = run(world, csv_bytes(rows), "text/csv", "?create=1")
    assert (report["created"], report["refused"]) == (2, 2), report["errors"]
    assert report["communities_created"] == ["甲社区", "乙社区"]
    errors = {(e["line"], e["field"]): e["reason"] for e in report["errors"]}
    assert "belongs to community wensan" in errors[(4, "grid")] and (5, "code") in errors
    after, made = shops(world), communities(world)
    assert "丙社区" not in made and "丁社区" not in made
    jia, yi = made["甲社区"], made["乙社区"]
    assert [g["name"] for g in jia["grids"]] == ["第一网格"] and [g["name"] for g in yi["grids"]] == ["第一网格"]
    assert (after["A0001"]["community"], after["A0001"]["grid"]) == (jia["code"], jia["grids"][0]["code"])
    assert (after["B0001"]["community"], after["B0001"]["grid"]) == (yi["code"], yi["grids"][0]["code"])

    # Without create=1, a grid name the row's community does not have is refused, never taken from another one.
    report = run(world, csv_bytes([HEADER, ["A0002", "甲二店", "甲路2号", "餐饮", "甲社区", "第二网格"]]), "text/csv")
    assert "unknown grid 第二网格 in community 甲社区" in report["errors"][0]["reason"]


def test_renamed_and_annotated_headers_are_read_and_ignored_columns_and_ambiguous_grids_are_told(
    world: World,
) -> None:
    setup = [
        HEADER,
        ["A0001", "甲一店", "甲路1号", "餐饮", "甲社区", "第一网格"],
        ["B0001", "乙一店", "乙路1号", "餐饮", "乙社区", "第一网格"],
    ]
    assert run(world, csv_bytes(setup), "text/csv", "?create=1")["created"] == 2
    made = communities(world)
    yi = made["乙社区"]

    header = ["店铺编号（必填）", "商户名称(必填)", "*地址", "类别", "社区名称", "网格名称", "联系电话", "营业执照号"]
    rows = [header, ["B0002", "乙二店", "乙路2号", "超市", "乙社区", "第一网格", "13800138000", "92330106MA2X"]]
    report = run(world, csv_bytes(rows), "text/csv")
    assert (report["created"], report["refused"]) == (1, 0), report["errors"]
    [ignored] = [w for w in report["warnings"] if "营业执照号" in w]
    assert ignored.endswith("phone are imported): 营业执照号") and report["errors"] == []  # the phone is imported
    after = shops(world)
    assert (after["B0002"]["community"], after["B0002"]["grid"]) == (yi["code"], yi["grids"][0]["code"])
    assert after["B0002"]["name"] == "乙二店" and after["B0002"]["category"] == "retail"
    assert after["B0002"]["contact"] == {"name": None, "phone": "13800138000"}

    # No community column: a grid name two communities have is refused, a name only one has is found.
    header = ["店铺名称", "店铺编号", "地址", "网格"]
    rows = [header, ["甲三店", "A0003", "甲路3号", "第一网格"], ["文三店", "W0001", "文三路1号", "文三一网格"]]
    report = run(world, csv_bytes(rows), "text/csv")
    [error] = report["errors"]
    assert (error["line"], error["field"]) == (2, "grid") and "2 communities" in error["reason"]
    assert any("no community column" in w for w in report["warnings"])
    after = shops(world)
    assert "A0003" not in after and after["W0001"]["grid"] == "g1"


def test_a_registered_shops_row_without_a_community_finds_a_shared_grid_name_in_its_own_community(
    world: World,
) -> None:
    """第一网格 is a grid of 甲社区 and of 乙社区: a row with an empty community cell naming it is the grid of the
    shop's registered community, found by its code or by name and address; a shop registered where no grid has that
    name, and a new shop, are refused, in the dry run as in the run."""
    setup = [
        HEADER,
        ["A0001", "甲一店", "甲路1号", "餐饮", "甲社区", "第一网格"],
        ["A0002", "甲二店", "甲路2号", "餐饮", "甲社区", "第二网格"],
        ["B0001", "乙一店", "乙路1号", "餐饮", "乙社区", "第一网格"],
        ["C0001", "丙一店", "丙路1号", "餐饮", "丙社区", "第三网格"],
    ]
    assert run(world, csv_bytes(setup), "text/csv", "?create=1")["created"] == 4
    made = communities(world)
    jia, yi = ({g["name"]: g["code"] for g in made[name]["grids"]} for name in ("甲社区", "乙社区"))
    rows = [
        HEADER,
        ["A0001", "甲一店", "甲路1号", "餐饮", "", "第一网格"],  # where it is: unchanged
        ["A0002", "甲二店", "甲路2号", "餐饮", "", "第一网格"],  # 甲社区's 第一网格: moved there
        ["", "乙一店", "乙路1号", "超市", "", "第一网格"],  # B0001 by name and address, its category changed
        ["C0001", "丙一店", "丙路1号", "餐饮", "", "第一网格"],  # 丙社区 has no 第一网格
        ["D0001", "丁一店", "丁路1号", "餐饮", "", "第一网格"],  # a new shop: which 第一网格?
    ]
    dry = run(world, csv_bytes(rows), "text/csv", "?dry_run=1")
    real = run(world, csv_bytes(rows), "text/csv")
    for report in (dry, real):
        counts = tuple(report[k] for k in ("created", "updated", "moved", "unchanged", "refused"))
        assert counts == (0, 1, 1, 1, 2), report["errors"]
        assert [(e["line"], e["field"]) for e in report["errors"]] == [(5, "grid"), (6, "grid")]
        homeless, new = (e["reason"] for e in report["errors"])
        chinese, _, english = homeless.rpartition("。")
        assert "店铺 C0001 所在的“丙社区”却没有" in chinese
        assert english == (
            "grid 第一网格 is in 2 communities (甲社区, 乙社区), but not in 丙社区, the community of shop C0001: write "
            "a grid of 丙社区, or name the community the shop moves to in a 社区 column (or give the grid's code)"
        )
        said = "communities (甲社区, 乙社区): name the community in a 社区 column, or give the grid's code"
        assert new.endswith(said)
    after = shops(world)
    grids = [after[code]["grid"] for code in ("A0001", "A0002", "B0001")]
    assert grids == [jia["第一网格"], jia["第一网格"], yi["第一网格"]]
    assert after["B0001"]["category"] == "retail" and after["C0001"]["community"] == made["丙社区"]["code"]
    assert "D0001" not in after


def test_a_refused_row_does_not_make_its_corrected_repeat_a_duplicate(world: World) -> None:
    rows = [
        HEADER,
        ["D0001", "错网格", "x路1号", "餐饮", "wensan", "不存在网格"],  # refused: unknown grid
        ["D0001", "正确", "x路1号", "餐饮", "wensan", "g1"],  # the corrected row: taken
        ["D0001", "又一次", "x路1号", "餐饮", "wensan", "g1"],  # a true duplicate of line 3
    ]
    report = run(world, csv_bytes(rows), "text/csv")
    assert (report["created"], report["refused"]) == (1, 2)
    assert report["duplicates"] == [{"line": 4, "code": "D0001", "first_line": 3}]
    assert [e["line"] for e in report["errors"]] == [2, 4]
    assert shops(world)["D0001"]["name"] == "正确"


def test_a_utf16_csv_is_read_and_an_old_xls_is_refused_with_what_to_do(world: World) -> None:
    office = world.login("wang", "wang-password")
    text = "\r\n".join(["\t".join(HEADER), "\t".join(["U0001", "统一码店", "曙光路1号", "餐饮", "wensan", "g1"])])
    for encoding in ("utf-16", "utf-16-be"):  # Excel's "Unicode text": little-endian with its BOM; big-endian too
        body = (b"\xfe\xff" if encoding == "utf-16-be" else b"") + (text + "\r\n").encode(encoding)
        report = run(world, body, "text/plain", "?dry_run=1")
        assert (report["created"], report["refused"]) == (1, 0), (encoding, report["errors"])
    xls = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 2000
    for content_type in ("application/octet-stream", "application/vnd.ms-excel", "text/csv"):
        resp = world.client.post("/api/office/import", content=xls, headers={**office, "Content-Type": content_type})
        assert resp.status_code == 415, resp.text
        assert ".xlsx" in resp.json()["reason"] and "CSV UTF-8" in resp.json()["reason"]


def test_the_surveys_category_words_are_taken_and_a_shop_of_no_category_is_imported_as_other(world: World) -> None:
    """A street survey names trades the categories do not (美甲, 手机维修): the whole shop was refused, with a list of
    words, and a first-day office could not register it. It is imported as 其他, and a warning names the line and the
    word; a row refused for another reason stays refused."""
    words = ["面馆", "烧烤", "奶茶店", "早餐店", "快餐店", "饺子馆", "水果店", "烟酒店", "服装店", "Food", "", "其它"]
    words += ["理发美发", "棋牌娱乐", "美容美发", "电瓶车维修", "小卖部", "药房"]
    rows = [HEADER] + [[f"K{n:02d}", f"店{n}", f"路{n}号", word, "wensan", "g1"] for n, word in enumerate(words)]
    rows += [
        ["K90", "小美美甲", "路90号", "美甲", "wensan", "g1"],  # line 20
        ["K91", "老李手机维修", "路91号", "手机维修", "wensan", "g1"],  # line 21
        ["K92", "错网格美甲", "路92号", "美甲", "wensan", "g9"],  # line 22: an unknown grid, refused
    ]
    dry = run(world, csv_bytes(rows), "text/csv", "?dry_run=1")
    report = run(world, csv_bytes(rows), "text/csv")
    for said in (dry, report):
        [error] = said["errors"]
        assert (error["line"], error["field"], said["created"]) == (22, "grid", len(words) + 2)
        assert said["warnings"] == [
            "第 20 行“小美美甲”的类别“美甲”不是已有的类别，已按“其他”导入；"
            "需要时可在“新增或修改店铺”中改为合适的类别。"
            "line 20: category 美甲 is not one of the categories, so the shop is imported as other (其他); "
            "change it under Add or edit a shop if one fits",
            "第 21 行“老李手机维修”的类别“手机维修”不是已有的类别，已按“其他”导入；"
            "需要时可在“新增或修改店铺”中改为合适的类别。"
            "line 21: category 手机维修 is not one of the categories, so the shop is imported as other (其他); "
            "change it under Add or edit a shop if one fits",
        ]
    after = shops(world)
    assert [after[f"K{n:02d}"]["category"] for n in range(len(words))] == [
        *6 * ["food"],
        *3 * ["retail"],
        *["food", "other", "other"],
        *["hair_salon", "recreation", "hair_salon", "ebike_repair", "retail", "pharmacy"],
    ]
    assert (after["K90"]["category"], after["K91"]["category"]) == ("other", "other") and "K92" not in after


def categorise(world: World, **words: str) -> None:
    """The office gives shops a category on the registry screen (新增或修改店铺), after an import: code=word."""
    office = world.login("wang", "wang-password")
    for code, word in words.items():
        resp = world.client.patch(f"/api/office/shops/{code}", json={"category": word}, headers=office)
        assert resp.status_code == 200, resp.text


def test_importing_the_survey_again_keeps_the_category_the_office_chose_for_a_trade_of_no_category(
    world: World,
) -> None:
    """The warning asks the office to give a 美甲 shop a fitting category; importing the same survey again (next
    month's, with its new shops) set it back to 其他. A registered shop keeps its category, and the warning says so."""
    rows = [HEADER, ["K90", "小美美甲", "路90号", "美甲", "wensan", "g1"]]
    run(world, csv_bytes(rows), "text/csv")
    categorise(world, K90="理发")
    again = run(world, csv_bytes(rows), "text/csv")
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 1)
    assert again["warnings"] == [
        "第 2 行“小美美甲”的类别“美甲”不是已有的类别，该店保留原来的类别“理发美发”。"
        "line 2: category 美甲 is not one of the categories, so the shop keeps its category hair_salon"
    ]
    assert shops(world)["K90"]["category"] == "hair_salon"


def test_an_empty_category_cell_keeps_the_category_the_office_chose_and_a_new_shop_is_other(world: World) -> None:
    """Each month's survey is imported over the registry the office has edited since: an empty category cell set a
    registered shop back to 其他, undoing the office's choice, and counted the row as updated. It is unchanged (the
    dry run says so too); a new shop with an empty cell is 其他, and a cell with a value still updates the shop."""
    rows = [
        HEADER,
        ["K80", "老王烟酒", "路80号", "", "wensan", "g1"],
        ["K81", "阿强面馆", "路81号", "", "wensan", "g1"],
    ]
    run(world, csv_bytes(rows), "text/csv")
    categorise(world, K80="超市", K81="餐饮")
    rows[2][3] = "理发"  # next month's survey says what K81 is
    rows.append(["K82", "新开小店", "路82号", "", "wensan", "g1"])
    dry = run(world, csv_bytes(rows), "text/csv", "?dry_run=1")
    again = run(world, csv_bytes(rows), "text/csv")
    for said in (dry, again):
        assert (said["created"], said["updated"], said["unchanged"], said["refused"]) == (1, 1, 1, 0)
        assert said["warnings"] == []
    after = shops(world)
    assert [after[code]["category"] for code in ("K80", "K81", "K82")] == ["retail", "hair_salon", "other"]


def test_a_survey_without_the_optional_columns_leaves_a_registered_shop_as_the_office_keeps_it(world: World) -> None:
    """A survey with no category, community or code column (name, address and grid only) over shops the office has
    categorised: the registered shops are found by name and address and keep their category and community, the rows
    count as unchanged, and a new shop of the file is 其他."""
    rows = [
        HEADER,
        ["K70", "张姐水果", "路70号", "水果店", "wensan", "g1"],
        ["K71", "小李理发", "路71号", "", "wensan", "g1"],
    ]
    run(world, csv_bytes(rows), "text/csv")
    categorise(world, K71="理发")
    bare = [
        ["店铺名称", "地址", "网格"],
        ["张姐水果", "路70号", "g1"],
        ["小李理发", "路71号", "g1"],
        ["刚开业", "路72号", "g1"],
    ]
    dry = run(world, csv_bytes(bare), "text/csv", "?dry_run=1")
    again = run(world, csv_bytes(bare), "text/csv")
    for said in (dry, again):
        assert (said["created"], said["updated"], said["unchanged"], said["refused"]) == (1, 0, 2, 0)
        assert [(a["code"], a["registered"]) for a in said["assigned"]][:2] == [("K70", True), ("K71", True)]
    after = shops(world)
    assert [(after[c]["category"], after[c]["community"]) for c in ("K70", "K71")] == [
        ("retail", "wensan"),
        ("hair_salon", "wensan"),
    ]
    [new] = [s for s in after.values() if s["name"] == "刚开业"]
    assert new["category"] == "other"


def test_the_exports_category_names_import_again_as_their_categories() -> None:
    from server.exports import CATEGORY_NAME
    from server.importer import CATEGORIES

    assert {name: CATEGORIES.get(name) for name in CATEGORY_NAME.values()} == {
        name: code for code, name in CATEGORY_NAME.items()
    }


def test_every_trade_of_the_demo_is_a_survey_word_of_its_category() -> None:
    from server.demo.names import TRADES
    from server.importer import CATEGORIES

    assert {t.label: t.category for t in TRADES} == {t.label: CATEGORIES.get(t.label) for t in TRADES}
