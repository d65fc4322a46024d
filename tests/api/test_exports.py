"""Exports and the monthly report on a small demo district whose projections were rebuilt: the tables hold what
the store holds, Excel cannot be made to run a formula from a shop name, the report escapes everything. On either
backend (tests/backends.py): `mashang demo` and `mashang rebuild` build the district in the store the gateway reads."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from starlette.testclient import TestClient

from server.app import create_app
from server.cli import main
from server.exports import Cell, Table, _csv_line, xlsx_bytes, xlsx_cell, xlsx_rows
from server.models.templates import default_template
from server.settings import Settings
from server.store import open_store
from server.store.protocol import AllDocsQuery
from tests.backends import BACKENDS, sqlite_only, store_settings

HOSTILE = '=HYPERLINK("http://evil.example","点我")<script>alert(1)</script>'
TODAY = datetime.now(ZoneInfo("Asia/Shanghai")).date()
MONTH = TODAY.strftime("%Y-%m")
# What a table or the report does with what it read (compression, escaping, refusals) does not hang on the store.
SQLITE_ONLY = sqlite_only("district")


@pytest.fixture(scope="module", params=BACKENDS)
def district(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """The demo district's settings: its folder (the logins are there) and its store."""
    data = tmp_path_factory.mktemp("exports") / "data"
    with store_settings(request, request.param) as on, pytest.MonkeyPatch.context() as env:
        where = ["--data", str(data)]
        if on:  # the CLI names the database as a deployment does, in the environment
            where += ["--couchdb", on["couchdb_url"]]
            env.setenv("MASHANG_COUCHDB_DB", on["couchdb_db"])
        assert main(["demo", *where, "--seed", "5", "--shops", "30", "--grid-workers", "2"]) == 0
        assert main(["rebuild", *where]) == 0
        yield Settings(data_dir=data, **on)


@pytest.fixture
def client(district: Settings) -> Iterator[TestClient]:
    app = create_app(replace(district, run_validators=False))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def office(client: TestClient, district: Settings) -> dict[str, str]:
    logins = json.loads((district.data_dir / "logins.json").read_text(encoding="utf-8"))
    resp = client.post("/api/auth/login", json=logins["office"][0])
    return {"Authorization": "Bearer " + resp.json()["token"]}


def docs_of(district: Settings, kinds: set[str]) -> list[dict[str, Any]]:
    async def read() -> list[dict[str, Any]]:
        store = await open_store(district)
        try:
            rows = (await store.all_docs(AllDocsQuery(include_docs=True)))["rows"]
            return [r["doc"] for r in rows if r["doc"].get("type") in kinds]
        finally:
            await store.close()

    return asyncio.run(read())


def read_csv(body: bytes) -> list[list[str]]:
    assert body.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def test_shops_csv_and_xlsx_hold_every_shop_with_its_score(
    client: TestClient, office: dict[str, str], district: Settings
) -> None:
    resp = client.get("/api/office/exports/shops.csv", headers=office)
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/csv")
    assert 'filename="mashang-shops.csv"' in resp.headers["content-disposition"]
    rows = read_csv(resp.content)
    assert rows[0][:3] == ["店铺编号", "店铺名称", "地址"]
    assert [r[0] for r in rows[1:]] == [f"S{n:04d}" for n in range(1, 31)]
    scores = {d["shop"]: d for d in docs_of(district, {"score"})}
    for row in rows[1:]:
        assert int(row[10]) == scores[row[0]]["points"] and int(row[11]) == scores[row[0]]["rank"]
    # The category in words (餐饮), as the office's screens say it, not its code (food).
    assert not [r[3] for r in rows[1:] if re.fullmatch(r"[a-z_]+", r[3])] and "餐饮" in {r[3] for r in rows[1:]}

    resp = client.get("/api/office/exports/shops.xlsx", headers=office)
    assert resp.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(resp.content)).active
    assert sheet is not None
    cells = [[c for c in row] for row in sheet.iter_rows(values_only=True)]
    assert [str(c) for c in cells[0]] == rows[0] and len(cells) == len(rows)
    assert [c[0] for c in cells[1:]] == [r[0] for r in rows[1:]]


def test_checks_and_hazards_match_the_store_and_filter_by_day(
    client: TestClient, office: dict[str, str], district: Settings
) -> None:
    events = docs_of(district, {"self_check", "patrol"})
    rows = read_csv(client.get("/api/office/exports/checks.csv", headers=office).content)
    assert sorted(r[0] for r in rows[1:]) == sorted(d["_id"] for d in events)
    assert {r[1] for r in rows[1:]} == {"自查", "巡查"}
    # Who checked, by name (an owner as 店主), with the account beside it.
    staff = {d["user_id"]: d["name"] for d in docs_of(district, {"user"}) if d.get("role") in ("grid", "office")}
    by = {r[0]: (r[5], r[6]) for r in rows[1:]}
    for event in events:
        account = event["created_by"]
        name = "店主" if account.startswith("owner:") else staff[account]
        assert by[event["_id"]] == (name, account), event["_id"]

    hazards = docs_of(district, {"hazard"})
    first = f"{TODAY.year}-{TODAY.month:02d}-01"
    resp = client.get(f"/api/office/exports/hazards.xlsx?from={first}&to={TODAY.isoformat()}", headers=office)
    sheet = openpyxl.load_workbook(io.BytesIO(resp.content)).active
    assert sheet is not None
    got = sorted(str(row[0]) for row in list(sheet.iter_rows(values_only=True))[1:])
    assert got == sorted(h["_id"] for h in hazards if first <= h["found_at"][:10] <= TODAY.isoformat())
    everything = read_csv(client.get("/api/office/exports/hazards.csv", headers=office).content)
    assert len(everything) - 1 == len(hazards) > len(got)
    header = everything[0]
    assert header[:5] == ["隐患编号", "店铺编号", "店铺名称", "社区", "网格"]
    assert header[8:12] == ["来源", "发现人", "发现人账号", "发现时间"]
    # The item in the checklist's words, not its id.
    words = {item.id: item.label_zh for item in default_template().items} | {"other": "其他问题"}
    item_of = {h["_id"]: h["item"] for h in hazards}
    assert {r[0]: r[5] for r in everything[1:]} == {i: words.get(item, item) for i, item in item_of.items()}
    assert not {r[5] for r in everything[1:]} & set(words)
    # The office files hazards per community and grid: the shop's, by name as the shops export gives them; and who
    # found each, by name (the grid worker of a patrol, 店主 for a self-check), the account beside it.
    shops = {r[0]: r for r in read_csv(client.get("/api/office/exports/shops.csv", headers=office).content)[1:]}
    source = {h["_id"]: h["source"] for h in hazards}
    checked_by = {e["_id"]: e["created_by"] for e in events}
    for row in everything[1:]:
        assert row[3:5] == shops[row[1]][4:6], row
        account = checked_by[source[row[0]]]
        name = "店主" if account.startswith("owner:") else staff[account]
        assert (row[8], row[9], row[10]) == ("自查" if name == "店主" else "巡查", name, account), row
    assert {r[9] for r in everything[1:]} > {"店主"} and not {r[9] for r in everything[1:]} & set(checked_by.values())
    communities = {c["name"] for c in docs_of(district, {"community"})}
    assert {r[3] for r in everything[1:]} <= communities


def test_rankings_export_lists_the_months_snapshot(
    client: TestClient, office: dict[str, str], district: Settings
) -> None:
    [ranking] = [d for d in docs_of(district, {"ranking"}) if d["month"] == MONTH]
    rows = read_csv(client.get(f"/api/office/exports/rankings.csv?month={MONTH}", headers=office).content)
    assert [r[2] for r in rows[1:]] == [e["shop"] for e in ranking["entries"]]
    assert [r[8] for r in rows[1:]].count("红榜") == sum(1 for e in ranking["entries"] if e["list"] == "red")
    communities = {c["code"]: c["name"] for c in docs_of(district, {"community"})}
    grids = {g["code"]: g["name"] for g in docs_of(district, {"grid"})}
    assert {r[4] for r in rows[1:]} <= set(communities.values())  # names, as the shops export has them
    assert {r[5] for r in rows[1:]} <= set(grids.values())


@SQLITE_ONLY
def test_a_rankings_export_of_a_month_without_a_list_says_which_months_have_one(
    client: TestClient, office: dict[str, str], district: Settings
) -> None:
    """The exports screen offers two years of months to every sub-district: one registered this month asked for last
    month's rankings got a bare English 404 the screen could not explain. It is told, Chinese first, from when."""
    months = sorted(d["month"] for d in docs_of(district, {"ranking"}))
    first, last = months[0], months[-1]
    before = (date.fromisoformat(f"{first}-01") - timedelta(days=1)).strftime("%Y-%m")
    for fmt in ("csv", "xlsx"):
        resp = client.get(f"/api/office/exports/rankings.{fmt}?month={before}", headers=office)
        assert resp.status_code == 404, resp.text
        assert resp.json()["reason"] == (
            f"明楼街道没有 {before} 的红黑榜：本街道的榜单从 {first} 起才有。"
            f"No ranking of minglou for {before}: its lists begin in {first}."
        )
    later = client.get("/api/office/exports/rankings.csv?month=2999-01", headers=office)
    assert later.status_code == 404
    assert later.json()["reason"].startswith(f"明楼街道没有 2999-01 的红黑榜：已有 {first} 至 {last} 的榜单。")


@SQLITE_ONLY
def test_csv_exports_and_the_report_are_gzipped_when_the_browser_accepts_it(
    client: TestClient, office: dict[str, str]
) -> None:
    """A year of a sub-district's checks is ~8 MB as CSV and ~1.8 MB gzipped; the browser unpacks it itself."""
    for url in ("/api/office/exports/checks.csv", f"/api/office/reports/{MONTH}.html"):
        plain = client.get(url, headers={**office, "Accept-Encoding": "identity"})
        packed = client.get(url, headers={**office, "Accept-Encoding": "gzip"})
        assert plain.status_code == packed.status_code == 200, url
        assert "content-encoding" not in plain.headers and packed.headers["content-encoding"] == "gzip", url
        assert packed.content == plain.content and len(plain.content) > 1000, url  # unpacked by the client


@SQLITE_ONLY
def test_hostile_names_are_neutralised_in_csv_xlsx_and_html(
    client: TestClient, office: dict[str, str], district: Settings
) -> None:
    [ranking] = [d for d in docs_of(district, {"ranking"}) if d["month"] == MONTH]
    black = next(e["shop"] for e in ranking["entries"] if e["list"] == "black")
    assert client.patch(f"/api/office/shops/{black}", json={"name": HOSTILE}, headers=office).status_code == 200
    rows = read_csv(client.get("/api/office/exports/shops.csv", headers=office).content)
    assert next(r for r in rows if r[0] == black)[1] == "'" + HOSTILE
    resp = client.get(f"/api/office/exports/rankings.xlsx?month={MONTH}", headers=office)
    sheet = openpyxl.load_workbook(io.BytesIO(resp.content)).active
    assert sheet is not None
    cell = next(row[3] for row in sheet.iter_rows() if row[2].value == black)
    assert cell.data_type == "s" and cell.value == HOSTILE  # text, not a formula, and no apostrophe shown

    # A control character (pasted in with a name, or in a grid worker's note) is dropped from the XLSX, which
    # cannot hold it, instead of failing the whole export; the CSV keeps the text as it is. The office's form refuses
    # one in a name; the registry may hold one all the same (written before it did, or by the operator's tools).
    other = next(e["shop"] for e in ranking["entries"] if e["shop"] != black)
    refused = client.patch(f"/api/office/shops/{other}", json={"name": "西溪\x01茶\x0b馆"}, headers=office)
    assert refused.status_code == 400 and "控制字符" in refused.json()["reason"], refused.text
    from server.auth import Principal

    admin = {"Authorization": "Bearer " + client.app.state.tokens.issue(Principal("admin", "admin"), 600)}  # type: ignore[attr-defined]
    shop = client.get(f"/sync/{other}:shop:{other}", headers=admin).json()
    renamed = client.put(f"/sync/{shop['_id']}", json={**shop, "name": "西溪\x01茶\x0b馆"}, headers=admin)
    assert renamed.status_code == 201, renamed.text
    resp = client.get("/api/office/exports/shops.xlsx", headers=office)
    assert resp.status_code == 200, resp.text
    sheet = openpyxl.load_workbook(io.BytesIO(resp.content)).active
    assert sheet is not None
    assert next(row[1].value for row in sheet.iter_rows() if row[0].value == other) == "西溪茶馆"
    rows = read_csv(client.get("/api/office/exports/shops.csv", headers=office).content)
    assert next(r for r in rows if r[0] == other)[1] == "西溪\x01茶\x0b馆"

    resp = client.get(f"/api/office/reports/{MONTH}.html", headers=office)
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in resp.headers["content-security-policy"]
    assert "<script" not in resp.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in resp.text
    assert black in resp.text


def test_xlsx_text_cells_hold_the_text_as_written_never_a_formula() -> None:
    """The apostrophe that keeps Excel from running a CSV cell as a formula is CSV's alone: in the XLSX a string
    cell is never a formula, and an apostrophe there would be shown (`'-折扣店`)."""
    texts = ["-折扣店", "=1+1", "+86 138", "@home", HOSTILE, "\t缩进"]

    async def rows() -> AsyncIterator[Sequence[Cell]]:
        for i, text in enumerate(texts):
            yield [text, i, None]

    table = Table("t", ("名称", "n", "空"), rows())
    body = xlsx_bytes(table.name, asyncio.run(xlsx_rows(table)))
    sheet = openpyxl.load_workbook(io.BytesIO(body)).active
    assert sheet is not None
    cells = [row[0] for row in sheet.iter_rows(min_row=2)]
    assert [c.value for c in cells] == texts
    assert [c.data_type for c in cells] == ["s"] * len(texts)
    assert [row[1].value for row in sheet.iter_rows(min_row=2)] == list(range(len(texts)))
    # The CSV keeps its apostrophe.
    assert _csv_line(["-折扣店", "=1+1", "折扣店"]) == "'-折扣店,'=1+1,折扣店\r\n"


def test_xlsx_holds_every_kind_of_cell_as_written() -> None:
    """Texts as string cells (a formula's text too), numbers and booleans as such, empty cells empty; a sheet name
    loses the characters Excel refuses in one (the writer raised on them)."""
    header = ["名称", "n", "x", "ok", "空", "尾"]
    rows: list[list[Cell]] = [
        header,
        ["a & b <c> \"d\" 'e'", 1, 2.5, True, None, "  空格  "],
        ["=SUM(A1)", -3, 0.1, False, None, "第一行\n第二行"],
        [xlsx_cell("控制\x01字符\x1f"), 2**40, float("nan"), None, None, "末"],
    ]
    body = xlsx_bytes("checks[2026]:*?/\\", rows)
    book = openpyxl.load_workbook(io.BytesIO(body))
    sheet = book.active
    assert sheet is not None and sheet.title == "checks2026"
    got = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert got[0] == header
    assert got[1] == ["a & b <c> \"d\" 'e'", 1, 2.5, True, None, "  空格  "]
    assert got[2] == ["=SUM(A1)", -3, 0.1, False, None, "第一行\n第二行"]
    assert got[3] == ["控制字符", 2**40, "nan", None, None, "末"]
    assert [row[0].data_type for row in sheet.iter_rows()] == ["s"] * 4  # "=SUM(A1)" too: a string, no formula
    assert xlsx_bytes("empty", []) and openpyxl.load_workbook(io.BytesIO(xlsx_bytes("e", [[]]))).active is not None


def test_the_monthly_report_has_the_months_figures_lists_and_communities(
    client: TestClient, office: dict[str, str], district: Settings
) -> None:
    resp = client.get(f"/api/office/reports/{MONTH}.html", headers=office)
    html = resp.text
    assert "安全监管月报" in html and "去年同期" in html and "红榜" in html and "黑榜" in html
    assert "<p class='muted'>明楼街道</p>" in html  # the sub-district by its name, not its code
    hazards = [h for h in docs_of(district, {"hazard"}) if h["found_at"][:7] == MONTH]
    found = re.search(r"<td>发现隐患数</td><td class='n'>(\d+)</td><td class='n'>(\d+)</td>", html)
    assert found is not None and int(found.group(1)) == len(hazards)
    # Last year's column is the same month to the same day (同期), while this month still runs.
    last_month = f"{TODAY.year - 1}-{TODAY.month:02d}"
    until = TODAY.replace(year=TODAY.year - 1, day=28 if (TODAY.month, TODAY.day) == (2, 29) else TODAY.day).isoformat()
    then = [h for h in docs_of(district, {"hazard"}) if h["found_at"][:7] == last_month and h["found_at"][:10] <= until]
    assert f"去年同期（至 {until}）" in html and int(found.group(2)) == len(then)
    # The alarms not resolved are named as the overview and the alarm desk name them (the report said 未处置报警).
    assert "<td>未办结报警（待处理、已确认、已派单）</td>" in html and "未处置" not in html
    patrols = {d["shop"] for d in docs_of(district, {"patrol"}) if d["performed_at"][:7] == MONTH}
    assert re.search(rf"<td>巡查率（本月到店巡查）</td><td class='n'>{len(patrols) / 30 * 100:.1f}%</td>", html)
    communities = docs_of(district, {"community"})
    assert all(c["name"] in html for c in communities)
    [ranking] = [d for d in docs_of(district, {"ranking"}) if d["month"] == MONTH]
    red = [e["shop"] for e in ranking["entries"] if e["list"] == "red"]
    assert all(f"（{code}）" in html for code in red)
    lists = html[html.index("安全生产红黑榜") : html.index("各社区隐患情况")]
    assert not any(f"<td>{c['code']}</td>" in lists for c in communities)  # the lists name communities too
    assert any(f"<td>{c['name']}</td>" in lists for c in communities)
    # A past month is counted to its last day, and says so (not "to today").
    month_end = TODAY.replace(day=1) - timedelta(days=1)  # the last day of last month
    past = client.get(f"/api/office/reports/{month_end.strftime('%Y-%m')}.html", headers=office)
    assert past.status_code == 200 and f"（统计至 {month_end.isoformat()}）" in past.text, past.text[:600]


@SQLITE_ONLY
def test_refusals(client: TestClient, office: dict[str, str], district: Settings) -> None:
    for url, status in (
        ("/api/office/exports/passwords.csv", 404),
        ("/api/office/exports/shops.pdf", 404),
        ("/api/office/exports/checks.csv?from=yesterday", 400),
        ("/api/office/exports/checks.csv?from=2026-11-20&to=2026-11-10", 400),  # not an empty file
        ("/api/office/exports/rankings.csv?month=2026-13", 400),
        ("/api/office/exports/rankings.csv?month=1999-01", 404),
        ("/api/office/reports/2026-1.html", 400),
        ("/api/office/reports/2999-01.html", 400),
        # The report sets the month beside the same month a year before: of year 0 or 1 it was a 500.
        ("/api/office/reports/0000-01.html", 400),
        ("/api/office/reports/0001-12.html", 400),
    ):
        resp = client.get(url, headers=office)
        assert resp.status_code == status, (url, resp.text)
        assert resp.json()["reason"]
    assert client.get("/api/office/exports/shops.csv").status_code == 401
    logins = json.loads((district.data_dir / "logins.json").read_text(encoding="utf-8"))
    worker = logins["grid_workers"][0]
    token = client.post("/api/auth/login", json={"username": worker["username"], "password": worker["password"]})
    grid = {"Authorization": "Bearer " + token.json()["token"]}
    assert client.get("/api/office/exports/shops.csv", headers=grid).status_code == 403
    assert client.get(f"/api/office/reports/{MONTH}.html", headers=grid).status_code == 403


def test_checks_are_filtered_by_their_day_in_shanghai_whatever_offset_the_phone_wrote(
    client: TestClient, office: dict[str, str], district: Settings
) -> None:
    """A phone may write its time in UTC: 16:30 UTC on the 29th is 00:30 on the 30th in Shanghai, the day the
    office asks for (before, the export took the date as written)."""
    from server.auth import Principal

    admin = {"Authorization": "Bearer " + client.app.state.tokens.issue(Principal("admin", "admin"), 600)}  # type: ignore[attr-defined]
    [template] = [d for d in docs_of(district, {"patrol"})][:1]
    yesterday = TODAY - timedelta(days=1)
    late, early = (
        {
            **{k: v for k, v in template.items() if k not in ("_rev", "_attachments")},
            "_id": f"{template['shop']}:patrol:01KZZZZZZZZZZZZZZZZZZZZZZ{n}",
            "performed_at": f"{yesterday.isoformat()}T{hour}:30:00+00:00",
            "findings": [],
        }
        for n, hour in ((0, 16), (1, 15))
    )
    pushed = client.post("/sync/_bulk_docs", json={"docs": [late, early]}, headers=admin)
    assert pushed.status_code == 201 and all(a.get("ok") for a in pushed.json()), pushed.text

    def ids(day: date) -> set[str]:
        url = f"/api/office/exports/checks.csv?from={day.isoformat()}&to={day.isoformat()}"
        return {r[0] for r in read_csv(client.get(url, headers=office).content)[1:]}

    assert late["_id"] in ids(TODAY) and early["_id"] not in ids(TODAY)
    assert early["_id"] in ids(yesterday) and late["_id"] not in ids(yesterday)


def test_times_read_in_shanghai_to_the_minute_and_are_excel_dates_in_the_xlsx(
    client: TestClient, office: dict[str, str], district: Settings
) -> None:
    """A check's time is shown as the office reads a clock (2026-11-30 00:30), not as the phone wrote it
    (2026-11-29T16:30:05.123+00:00, ISO text of any offset and precision); in the XLSX it is a date-time cell, so
    Excel sorts, filters and formats it, and a hazard's deadline is a date."""
    from server.auth import Principal

    admin = {"Authorization": "Bearer " + client.app.state.tokens.issue(Principal("admin", "admin"), 600)}  # type: ignore[attr-defined]
    [template] = [d for d in docs_of(district, {"patrol"})][:1]
    yesterday = TODAY - timedelta(days=1)
    check = {
        **{k: v for k, v in template.items() if k not in ("_rev", "_attachments")},
        "_id": f"{template['shop']}:patrol:01KZZZZZZZZZZZZZZZZZZZZZZ7",
        "performed_at": f"{yesterday.isoformat()}T16:30:05.123+00:00",
        "findings": [],
    }
    pushed = client.post("/sync/_bulk_docs", json={"docs": [check]}, headers=admin)
    assert pushed.status_code == 201 and all(a.get("ok") for a in pushed.json()), pushed.text
    day = f"from={TODAY.isoformat()}&to={TODAY.isoformat()}"

    rows = read_csv(client.get(f"/api/office/exports/checks.csv?{day}", headers=office).content)
    at = rows[0].index("检查时间")
    assert {r[0]: r[at] for r in rows[1:]}[check["_id"]] == f"{TODAY.isoformat()} 00:30"
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", r[at]) for r in rows[1:])

    sheet = openpyxl.load_workbook(
        io.BytesIO(client.get(f"/api/office/exports/checks.xlsx?{day}", headers=office).content)
    ).active
    assert sheet is not None
    cells = list(sheet.iter_rows(values_only=True))
    assert {r[0]: r[at] for r in cells[1:]}[check["_id"]] == datetime.combine(TODAY, datetime.min.time()).replace(
        minute=30
    )
    assert sheet.cell(row=2, column=at + 1).number_format == "yyyy-mm-dd hh:mm"

    hazards = list(
        openpyxl.load_workbook(
            io.BytesIO(client.get("/api/office/exports/hazards.xlsx", headers=office).content)
        ).active.iter_rows(values_only=True)  # type: ignore[union-attr]
    )
    found, deadline = hazards[0].index("发现时间"), hazards[0].index("整改期限")
    stored = {h["_id"]: h for h in docs_of(district, {"hazard"})}
    assert hazards[1:] and all(isinstance(r[found], datetime) for r in hazards[1:])
    assert all(r[deadline] == datetime.fromisoformat(stored[str(r[0])]["deadline"]) for r in hazards[1:])
