"""The survey import: CSV and XLSX, a dry run that writes nothing, a per-row validation report, limits."""

from __future__ import annotations

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
    text = "\r\n".join(",".join(cells) for cells in rows) + "\r\n"
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode(encoding)


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
    assert dry["communities_created"] == ["新社区"] and len(dry["grids_created"]) == 2
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
    assert errors[(4, "name")] == "required, but empty"
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
