"""Exports for the office: tables of shops, checks, hazards and rankings as CSV (UTF-8 with a BOM, so Excel opens
Chinese correctly) or XLSX, and the printable monthly report (self-contained HTML).

Every CSV text cell passes `neutralise`: a cell starting with = + - @ (or a tab or carriage return) would be run as
a formula by Excel (CSV injection), so it gets a leading apostrophe. The XLSX has no need of one (Excel would show
it): each text cell is written as a string cell (XlsxWriter `write_string`), never a formula, holding the text.
Every value in the report is HTML-escaped.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from html import escape
from typing import Any, Final

from server.models.rules import Rules
from server.models.templates import default_template
from server.office.facts import View
from server.store.protocol import Doc, Store
from server.store.reads import docs_with_prefix
from server.validators import rules as R
from server.validators.district import shift_month
from server.validators.stats import ShopFacts, figures, period_bounds, same_span

FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")
BOM: Final = "\ufeff"
ROWS_PER_CHUNK: Final = 200
SEVERITY: Final = {"general": "一般", "major": "较大", "serious": "严重"}
# As the office's screens say them (pwa/src/office/i18n.ts `hazard.*`; tests/api/test_alarm_findings.py checks).
HAZARD_STATUS: Final = {"open": "待整改", "rectified": "已整改待复查", "closed": "已销号", "overdue": "逾期"}
LIST_NAME: Final = {"red": "红榜", "black": "黑榜"}
# A shop's category as the office's screens name it (pwa/src/office/i18n.ts `category.*`).
CATEGORY_NAME: Final = {
    "food": "餐饮",
    "retail": "零售",
    "hair_salon": "理发美发",
    "hardware": "五金",
    "pharmacy": "药店",
    "ebike_repair": "电动车维修",
    "laundry": "干洗",
    "recreation": "棋牌娱乐",
    "other": "其他",
}
CHECK_KIND: Final = {"self_check": "自查", "patrol": "巡查"}

Cell = str | int | float | bool | None | datetime | date
# How a time and a day read in a CSV; an XLSX holds them as Excel's own dates and times in the same shapes.
MOMENT_CSV: Final = "%Y-%m-%d %H:%M"
MOMENT_XLSX: Final = "yyyy-mm-dd hh:mm"
DAY_XLSX: Final = "yyyy-mm-dd"


# The characters XML 1.0 has no place for (C0 controls but tab, newline and carriage return): openpyxl refuses to
# write them, so one in a shop's name or a grid worker's note would fail every XLSX export of it.
NOT_XML: Final = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def neutralise(value: Cell) -> Cell:
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def xlsx_cell(value: Cell) -> Cell:
    """A cell as the XLSX holds it: the text as it is (`xlsx_bytes` writes it as a string, not a formula), without
    the characters XML cannot hold. No apostrophe: in a string cell it is not a quote prefix but shown."""
    return NOT_XML.sub("", value) if isinstance(value, str) else value


@dataclass(frozen=True)
class Table:
    """An export: its file name stem, its header row and its rows (an async iterator, read once)."""

    name: str
    header: tuple[str, ...]
    rows: AsyncIterator[Sequence[Cell]]


# ----- the tables -----


def _names(view: View) -> tuple[dict[str, str], dict[str, str]]:
    communities = {code: str(doc.get("name", code)) for code, doc in view.communities.items()}
    grids = {code: str(doc.get("name", code)) for code, doc in view.grids.items()}
    return communities, grids


def contact_cells(contact: Any) -> tuple[Cell, Cell]:
    """A shop's responsible person (负责人) and phone (联系电话), each empty when not registered."""
    known = contact if isinstance(contact, dict) else {}
    return known.get("name"), known.get("phone")


def shops_table(view: View) -> Table:
    """The registry as the office keeps it, a shop a row: its columns import again (`server.importer.HEADERS`), the
    contact included."""
    communities, grids = _names(view)

    async def rows() -> AsyncIterator[Sequence[Cell]]:
        for code, shop in sorted(view.shops.items()):
            doc, score = shop.doc or {}, shop.score or {}
            yield (
                code,
                doc.get("name"),
                doc.get("address"),
                CATEGORY_NAME.get(str(doc.get("category")), doc.get("category")),
                communities.get(str(doc.get("community")), doc.get("community")),
                grids.get(str(doc.get("grid")), doc.get("grid")),
                *contact_cells(doc.get("contact")),
                "在营" if doc.get("status") == "active" else "已关闭",
                "是" if doc.get("owner_activated") else "否",
                score.get("points"),
                score.get("rank"),
                LIST_NAME.get(str(score.get("list")), ""),
                score.get("open_hazards"),
            )

    header = ("店铺编号", "店铺名称", "地址", "类别", "社区", "网格", "负责人", "联系电话", "状态", "店主已激活")
    return Table("shops", (*header, "安全积分", "排名", "红黑榜", "未销号隐患"), rows())


def _within(moment: Any, rules: Rules, start: date | None, end: date | None) -> bool:
    """Whether `moment` (an ISO time, of any UTC offset a phone wrote) falls on a day from `start` to `end` in the
    rules' time zone (Asia/Shanghai): 2026-11-29T16:30:00+00:00 is 30 November there."""
    day = _local_day(moment, rules)
    if day is None:
        return start is None and end is None
    return (start is None or day >= start) and (end is None or day <= end)


def _local_day(moment: Any, rules: Rules) -> date | None:
    try:
        parsed = datetime.fromisoformat(str(moment))
    except ValueError:
        return None
    return R.day_of(parsed, rules) if parsed.tzinfo is not None else parsed.date()


def moment_cell(moment: Any, rules: Rules) -> Cell:
    """A document's time as the office reads it: in the rules' time zone (Asia/Shanghai), to the minute, whatever
    UTC offset and precision the phone wrote (2026-11-29T16:30:05.123+00:00 is 2026-11-30 00:30). The cell is a
    time (an XLSX date-time, `MOMENT_CSV` in a CSV); a text that is no time stays as written, an absent one empty."""
    if moment is None or moment == "":
        return None
    try:
        parsed = datetime.fromisoformat(str(moment))
    except ValueError:
        return str(moment)
    if parsed.tzinfo is not None:
        parsed = R.local(parsed, rules).replace(tzinfo=None)
    return parsed.replace(second=0, microsecond=0)


def day_cell(day: Any) -> Cell:
    """A day (a deadline, 2026-12-03) as a date cell; a text that is no day stays as written."""
    if day is None or day == "":
        return None
    try:
        return date.fromisoformat(str(day))
    except ValueError:
        return str(day)


def _moment_key(doc: Doc, field: str) -> tuple[int, str]:
    """The order of documents by a time field of any UTC offset (a time that does not parse goes last)."""
    try:
        return (0, datetime.fromisoformat(str(doc.get(field))).astimezone(UTC).isoformat())
    except ValueError:
        return (1, str(doc.get(field)))


def _people(accounts: list[Doc]) -> dict[str, str]:
    """Staff account id -> name, for a person column read by people (the account id stays in a column of its own)."""
    return {str(d["user_id"]): str(d["name"]) for d in accounts if d.get("user_id") and d.get("name")}


def _person(user_id: Any, names: dict[str, str]) -> str:
    by = str(user_id or "")
    return "店主" if by.startswith("owner:") else names.get(by, by)


def checks_table(store: Store, view: View, start: date | None, end: date | None) -> Table:
    async def rows() -> AsyncIterator[Sequence[Cell]]:
        names = _people(await docs_with_prefix(store, "accounts:user:"))
        for code, shop in sorted(view.shops.items()):
            name = (shop.doc or {}).get("name")
            docs = [
                *await docs_with_prefix(store, f"{code}:self_check:"),
                *await docs_with_prefix(store, f"{code}:patrol:"),
            ]
            for doc in sorted(docs, key=lambda d: _moment_key(d, "performed_at")):
                if not _within(doc.get("performed_at"), view.rules, start, end):
                    continue
                answers = doc.get("answers") or {}
                yield (
                    doc["_id"],
                    CHECK_KIND.get(str(doc.get("type")), doc.get("type")),
                    code,
                    name,
                    moment_cell(doc.get("performed_at"), view.rules),
                    _person(doc.get("created_by"), names),
                    doc.get("created_by"),
                    doc.get("device"),
                    len(answers),
                    len(doc.get("findings") or ()),
                    len(doc.get("verified_self_checks") or ()),
                )

    header = ("编号", "类型", "店铺编号", "店铺名称", "检查时间", "检查人", "检查人账号", "设备", "回答项数")
    return Table("checks", (*header, "发现隐患数", "核实自查数"), rows())


async def item_labels(store: Store) -> dict[str, str]:
    """Each checklist item's Chinese words by its id (`checklist_labels`)."""
    return (await checklist_labels(store))[0]


async def checklist_labels(store: Store) -> tuple[dict[str, str], dict[str, str]]:
    """Each checklist item's words by its id, in Chinese and in English, from every version of every checklist module
    (the newest version's words win; an item a later version dropped keeps its last words)."""
    docs = [default_template().to_doc(), *await docs_with_prefix(store, "district:template:")]
    # A patrol's finding no item covers.
    zh, en = {"other": "其他问题"}, {"other": "Other problem"}
    for doc in sorted(docs, key=lambda d: int(d.get("version") or 0)):
        for item in doc.get("items", ()):
            if not isinstance(item, dict) or not isinstance(item.get("id"), str):
                continue
            for labels, field in ((zh, "label_zh"), (en, "label_en")):
                if isinstance(item.get(field), str):
                    labels[item["id"]] = item[field]
    return zh, en


def _finder(hazard: Doc) -> str | None:
    """Who found a hazard: the account that made the self-check or patrol it came from, as the validators write it
    in the first step of its history (`server.validators.hazards`: the source's "open", by its `created_by`)."""
    steps = hazard.get("history") or ()
    return next(
        (str(s["by"]) for s in steps if isinstance(s, dict) and s.get("by") and s.get("event") == hazard.get("source")),
        None,
    )


def hazards_table(store: Store, view: View, start: date | None, end: date | None) -> Table:
    communities, grids = _names(view)

    async def rows() -> AsyncIterator[Sequence[Cell]]:
        labels = await item_labels(store)  # the item in words (居住区域是否使用明火), not its id (open_flame)
        names = _people(await docs_with_prefix(store, "accounts:user:"))
        for code, shop in sorted(view.shops.items()):
            registry = shop.doc or {}
            community = communities.get(str(registry.get("community")), registry.get("community"))
            grid = grids.get(str(registry.get("grid")), registry.get("grid"))
            for doc in await docs_with_prefix(store, f"{code}:hazard:"):
                if not _within(doc.get("found_at"), view.rules, start, end):
                    continue
                by = _finder(doc)
                yield (
                    doc["_id"],
                    code,
                    registry.get("name"),
                    community,
                    grid,
                    labels.get(str(doc.get("item")), doc.get("item")),
                    SEVERITY.get(str(doc.get("severity")), doc.get("severity")),
                    HAZARD_STATUS.get(str(doc.get("status")), doc.get("status")),
                    "自查" if doc.get("self_reported") else "巡查",
                    _person(by, names) if by else None,
                    by,
                    moment_cell(doc.get("found_at"), view.rules),
                    day_cell(doc.get("deadline")),
                    moment_cell(doc.get("closed_at"), view.rules),
                    doc.get("cost"),
                    doc.get("note"),
                )

    header = ("隐患编号", "店铺编号", "店铺名称", "社区", "网格", "检查项", "等级", "状态", "来源", "发现人")
    return Table("hazards", (*header, "发现人账号", "发现时间", "整改期限", "销号时间", "扣分", "说明"), rows())


# ----- what the office did about the black list (server.office.followups) -----


def talk_text(followup: Any) -> str:
    talk = (followup or {}).get("talk")
    if not talk:
        return "未约谈"
    return f"已约谈 {talk.get('on')}：{talk.get('talked_to')}（{talk.get('by')}）" + _note(talk)


def inspection_text(followup: Any) -> str:
    inspection = (followup or {}).get("inspection")
    if not inspection:
        return "专项检查未安排"
    if inspection.get("status") == "planned":
        return f"专项检查待完成（期限 {inspection.get('due')}，{inspection.get('by')}）" + _note(inspection)
    return f"已专项检查 {inspection.get('on')}（{inspection.get('by')}）" + _note(inspection)


def group_text(followup: Any, flagged: bool) -> str:
    group = (followup or {}).get("working_group")
    if not flagged and not group:
        return ""
    if not group:
        return "专班整治未组建"
    # One carried from an earlier month (`server.office.followups.with_carried`) says where it was recorded.
    since = f"；沿用 {group.get('month')} 的记录" if group.get("carried") else ""
    if group.get("status") == "ended":
        span = f"{group.get('started')} 至 {group.get('ended')}"
        return f"专班整治已结束（{span}，{group.get('members')}{since}）" + _note(group)
    return f"专班整治进驻中（{group.get('started')} 起，{group.get('members')}{since}）" + _note(group)


def _note(action: dict[str, Any]) -> str:
    return f"：{action['note']}" if action.get("note") else ""


def rankings_table(ranking: dict[str, Any]) -> Table:
    """The month's list; a black-listed shop, and one with a working group, with its responsible person and phone
    (`server.office.rankings`), whom the office calls in: the shops the office follows up, no other."""

    async def rows() -> AsyncIterator[Sequence[Cell]]:
        for e in ranking["entries"]:
            yield (
                ranking["month"],
                e.get("rank"),
                e.get("shop"),
                e.get("name"),
                e.get("community_name") or e.get("community"),
                e.get("grid_name") or e.get("grid"),
                e.get("points"),
                e.get("open_hazards"),
                LIST_NAME.get(str(e.get("list")), ""),
                *contact_cells(e.get("contact")),
                "是" if e.get("working_group") else "",
                *(
                    (talk_text(e.get("followup")), inspection_text(e.get("followup")))
                    if e.get("list") == "black"
                    else ("", "")
                ),
                # A shop flagged for a working group without one recorded (no follow-up at all) reads 专班整治未组建,
                # as the screen says it; one neither flagged nor with a group, nothing.
                group_text(e.get("followup"), bool(e.get("working_group"))),
            )

    header = ("月份", "排名", "店铺编号", "店铺名称", "社区", "网格", "安全积分", "未销号隐患", "红黑榜", "负责人")
    more = ("联系电话", "专班整治", "约谈", "专项检查", "专班整治情况")
    return Table(f"rankings-{ranking['month']}", (*header, *more), rows())


def _groups_off_list(entries: Iterable[dict[str, Any]]) -> list[str]:
    """The report's table of the shops off the black list with a working group still there when the month began (or
    recorded in it), and of those the month flags for one without one recorded (专班整治未组建, as the screen says)."""
    off = [x for x in entries if x.get("list") != "black"]
    groups = [x for x in off if x.get("followup")]
    waiting = [x for x in off if not x.get("followup") and x.get("working_group")]
    if not groups and not waiting:
        return []
    e = escape
    counts = ([f"本月仍有专班整治：{len(groups)} 家"] if groups else []) + (
        [f"列入专班整治、尚未组建：{len(waiting)} 家"] if waiting else []
    )
    out = [f"<h3>已出黑榜、{'；'.join(counts)}</h3>"]
    out.append("<table><tr><th>排名</th><th>店铺</th><th>红黑榜</th><th>专班整治情况</th></tr>")
    for x in groups + waiting:
        shop = f"{e(str(x.get('name') or ''))}（{e(str(x.get('shop')))}）"
        out.append(
            f"<tr><td class='n'>{e(str(x.get('rank')))}</td><td>{shop}</td>"
            f"<td>{e(LIST_NAME.get(str(x.get('list')), '') or '未上榜')}</td>"
            f"<td>{e(group_text(x.get('followup'), bool(x.get('working_group'))))}</td></tr>"
        )
    out.append("</table>")
    return out


def followups_line(counts: dict[str, int]) -> str:
    """黑榜 12 家：已约谈 9 家，已专项检查 7 家（另有 2 家已安排），专班整治 2 家（进驻中 1 家），尚有 4 家待跟进。"""
    line = f"黑榜 {counts['black']} 家：已约谈 {counts['talked']} 家，已专项检查 {counts['inspected']} 家"
    if counts["inspection_planned"]:
        line += f"（另有 {counts['inspection_planned']} 家已安排）"
    if counts["working_group"]:
        line += f"，专班整治 {counts['working_group']} 家（进驻中 {counts['group_active']} 家"
        line += f"，已结束 {counts['group_ended']} 家）" if counts["group_ended"] else "）"
    line += f"，尚有 {counts['outstanding']} 家待跟进。" if counts["outstanding"] else "，均已跟进。"
    if counts.get("off_list"):
        line += f"另有 {counts['off_list']} 家已出黑榜，本月仍有专班整治。"
    return line


# ----- writing them -----


def _csv_text(cell: Cell) -> Cell:
    if cell is None:
        return ""
    if isinstance(cell, datetime):
        return cell.strftime(MOMENT_CSV)
    if isinstance(cell, date):
        return cell.isoformat()
    return neutralise(cell)


def _csv_line(cells: Iterable[Cell]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow([_csv_text(c) for c in cells])
    return out.getvalue()


async def csv_chunks(table: Table) -> AsyncIterator[bytes]:
    """The CSV, a few hundred rows at a time, for a streamed answer."""
    buffer = [BOM + _csv_line(table.header)]
    async for row in table.rows:
        buffer.append(_csv_line(row))
        if len(buffer) >= ROWS_PER_CHUNK:
            yield "".join(buffer).encode("utf-8")
            buffer = []
    if buffer:
        yield "".join(buffer).encode("utf-8")


async def xlsx_rows(table: Table) -> list[list[Cell]]:
    return [list(table.header), *[[xlsx_cell(c) for c in row] async for row in table.rows]]


# Characters Excel refuses in a sheet's name.
_SHEET_NAME_NOT: Final = re.compile(r"[\[\]:*?/\\]")


def xlsx_bytes(title: str, rows: list[list[Cell]]) -> bytes:
    """A one-sheet workbook (blocking: run it in a thread), written with XlsxWriter: each text a string cell, never
    a formula, whatever it starts with (`write_string`); numbers and booleans as such; times and days as Excel's
    dates, shown as `MOMENT_XLSX` and `DAY_XLSX` in columns wide enough for them; an empty cell left out; a sheet
    name without the characters Excel refuses. openpyxl's writer, an object per cell, took 7 s of the 10-12 s
    export of a year of a 1,500-shop sub-district's checks (60,000 rows); XlsxWriter takes about 2.5 s."""
    import xlsxwriter

    out = io.BytesIO()
    # Texts stay texts: no formula, number or link made of what a shop's name or a note says.
    plain = {"strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False}
    book = xlsxwriter.Workbook(out, plain)
    sheet = book.add_worksheet(_SHEET_NAME_NOT.sub("", title)[:31] or "Sheet1")
    text, number, boolean = sheet.write_string, sheet.write_number, sheet.write_boolean
    as_moment, as_day = book.add_format({"num_format": MOMENT_XLSX}), book.add_format({"num_format": DAY_XLSX})
    timed: dict[int, int] = {}  # column -> width its times need
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, datetime):
                sheet.write_datetime(r, c, value, as_moment)
                timed[c] = 17
            elif isinstance(value, date):
                sheet.write_datetime(r, c, value, as_day)
                timed[c] = max(timed.get(c, 0), 11)
            elif isinstance(value, bool):
                boolean(r, c, value)
            elif isinstance(value, int) or (isinstance(value, float) and math.isfinite(value)):
                number(r, c, value)
            else:  # text (or a float no cell can hold as a number)
                text(r, c, str(value))
    for c, width in timed.items():
        sheet.set_column(c, c, width)
    book.close()
    return out.getvalue()


# ----- the monthly report -----


@dataclass(frozen=True)
class MonthFigures:
    counts: dict[str, int]
    until: date  # the last day counted

    def rate(self, part: str, whole: str) -> float | None:
        return self.counts[part] / self.counts[whole] if self.counts[whole] else None


def month_figures(shops: Sequence[ShopFacts], month: str, today: date) -> MonthFigures:
    start, end = period_bounds(month)
    return MonthFigures(figures(shops, start, min(end, today), today), min(end, today))


def last_year_figures(shops: Sequence[ShopFacts], month: str, today: date) -> MonthFigures:
    """The same month a year before, to the same day while `month` is still running (同期)."""
    start, end = same_span(month, shift_month(month, -12), today)
    return MonthFigures(figures(shops, start, end), end)


def by_community(view: View, subdistrict: str, month: str, today: date) -> list[tuple[str, MonthFigures]]:
    groups: dict[str, list[ShopFacts]] = {}
    for shop in view.counted():
        if view.subdistrict_of(shop) != subdistrict:
            continue
        groups.setdefault(shop.facts.community or "", []).append(shop.facts)
    names = _names(view)[0]
    return [(names.get(code, code), month_figures(group, month, today)) for code, group in sorted(groups.items())]


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _change(now: float | None, then: float | None) -> str:
    if now is None or not then:
        return "—"
    return f"{(now - then) / then * 100:+.0f}%"


ROWS: Final[tuple[tuple[str, str, str | None], ...]] = (  # label, count, and the count it is a share of
    ("在营店铺", "active_shops", None),
    ("自查次数", "self_checks", None),
    ("自查覆盖率（本月至少自查一次）", "self_checked_shops", "active_shops"),
    ("巡查次数", "patrols", None),
    ("巡查率（本月到店巡查）", "patrolled_shops", "active_shops"),
    ("发现隐患数", "hazards_found", None),
    ("整改率（期限内整改销号）", "hazards_rectified_in_time", "hazards_due"),
    ("逾期隐患", "overdue_hazards", None),
    ("未办结报警（待处理、已确认、已派单）", "open_alarms", None),  # as the overview and the alarm desk name it
)

STYLE: Final = """
body{font-family:"Noto Sans CJK SC","Microsoft YaHei","PingFang SC",sans-serif;margin:2em;color:#222}
h1{color:#b71c1c;margin-bottom:0}h2{border-bottom:2px solid #b71c1c;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;width:100%;margin:.5em 0}th,td{border:1px solid #bbb;padding:.3em .5em;text-align:left}
th{background:#f3f3f3}td.n{text-align:right}.red{color:#b71c1c}.black{color:#000;font-weight:bold}
.muted{color:#777}@media print{body{margin:0}h2{page-break-after:avoid}table{page-break-inside:auto}}
"""


def report_html(
    subdistrict: str,
    month: str,
    today: date,
    now: MonthFigures,
    last_year: MonthFigures,
    communities: list[tuple[str, MonthFigures]],
    ranking: dict[str, Any] | None,
) -> str:
    e = escape
    year, mon = month.split("-")
    out = [
        "<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'>",
        f"<title>码上安全 安全监管月报 {e(month)}</title><style>{STYLE}</style></head><body>",
        f"<h1>码上安全 · 安全监管月报</h1><p class='muted'>{e(subdistrict)}</p>",
        f"<p>{e(year)}年{int(mon)}月 安全监管月报 <span class='muted'>（统计至 {e(now.until.isoformat())}）</span></p>",
        "<h2>本月概况（与去年同期相比）</h2><table><tr><th>指标</th><th>本月</th>",
        f"<th>去年同期（至 {e(last_year.until.isoformat())}）</th><th>同比</th></tr>",
    ]
    for label, part, whole in ROWS:
        a, b = (f.rate(part, whole) if whole else float(f.counts[part]) for f in (now, last_year))
        shown = (_pct(a), _pct(b)) if whole else (f"{a:.0f}", f"{b:.0f}")
        out.append(f"<tr><td>{e(label)}</td><td class='n'>{e(shown[0])}</td><td class='n'>{e(shown[1])}</td>")
        out.append(f"<td class='n'>{e(_change(a, b))}</td></tr>")
    out.append("</table>")
    out.append("<h2>安全生产红黑榜</h2>")
    if ranking is None:
        out.append("<p class='muted'>本月还没有排名快照。</p>")
    else:
        for name, css, what in (("red", "red", "红榜（通报表扬）"), ("black", "black", "黑榜（约谈负责人、专项检查）")):
            listed = [x for x in ranking["entries"] if x.get("list") == name]
            black = name == "black"
            out.append(f"<h3 class='{css}'>{e(what)}：{len(listed)} 家</h3>")
            if black and ranking.get("followups"):
                out.append(f"<p data-followups>{e(followups_line(ranking['followups']))}</p>")
            out.append("<table><tr><th>排名</th><th>店铺</th><th>社区</th><th>安全积分</th><th>未销号隐患</th>")
            out.append("<th>跟进情况</th></tr>" if black else "</tr>")
            for x in listed:
                flag = " <strong>（专班整治）</strong>" if x.get("working_group") else ""
                shop = f"{e(str(x.get('name') or ''))}（{e(str(x.get('shop')))}）{flag}"
                done = (
                    talk_text(x.get("followup")),
                    inspection_text(x.get("followup")),
                    group_text(x.get("followup"), bool(x.get("working_group"))),
                )
                out.append(
                    f"<tr><td class='n'>{e(str(x.get('rank')))}</td><td>{shop}</td>"
                    f"<td>{e(str(x.get('community_name') or x.get('community') or ''))}</td>"
                    f"<td class='n'>{e(str(x.get('points')))}</td>"
                    f"<td class='n'>{e(str(x.get('open_hazards')))}</td>"
                    + (f"<td>{'<br>'.join(e(text) for text in done if text)}</td>" if black else "")
                    + "</tr>"
                )
            out.append("</table>")
        out += _groups_off_list(ranking["entries"])
    out.append("<h2>各社区隐患情况</h2><table><tr><th>社区</th><th>在营店铺</th><th>巡查率</th>")
    out.append("<th>发现隐患</th><th>已销号</th><th>整改率</th><th>逾期</th></tr>")
    for name, f in communities:
        out.append(
            f"<tr><td>{e(name)}</td><td class='n'>{f.counts['active_shops']}</td>"
            f"<td class='n'>{e(_pct(f.rate('patrolled_shops', 'active_shops')))}</td>"
            f"<td class='n'>{f.counts['hazards_found']}</td><td class='n'>{f.counts['hazards_rectified']}</td>"
            f"<td class='n'>{e(_pct(f.rate('hazards_rectified_in_time', 'hazards_due')))}</td>"
            f"<td class='n'>{f.counts['overdue_hazards']}</td></tr>"
        )
    out.append("</table><p class='muted'>整改率：本月到期的隐患中，在整改期限内整改并核实销号的比例。</p>")
    out.append("</body></html>")
    return "".join(out)
