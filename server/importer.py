"""The survey import: a spreadsheet of shops (CSV or XLSX) checked row by row, then written to the registry.

Rules (the validation report says which applied to each row):
- Headers may be Chinese or English (店铺编号/code, 店铺名称/name, 地址/address, 类别/category, 社区/community,
  网格/grid); code, name, address and grid are required, category defaults to `other`.
- A community or grid is matched by its code or its name. Unknown ones are refused per row, unless the import
  asks for them to be created (`create=True`): a grid is then created in the row's community (created too when
  unknown, in the registry's only sub-district) with no grid worker yet.
- A code seen twice in the file: the later row is refused as a duplicate. A code already in the registry updates
  that shop (name, address, category; a new grid moves it); an unchanged row is counted as such.
- A dry run checks everything and writes nothing; its report is what the real run would do.
- A job survives a restart (`server/import_jobs.py` keeps its rows and report in the store): `run` continues a
  report whose `done` rows were planned and whose `written` rows were written (see `Importer.run`).
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Final

from pydantic import ValidationError

from server.errors import CouchError, bad_request, too_large
from server.models.common import KEY, PARTITION, reason_of
from server.models.registry import Shop, shop_doc_id
from server.registry import Registry

MAX_BYTES: Final = 5 * 1024 * 1024
MAX_ROWS: Final = 5000
MAX_XLSX_UNPACKED: Final = 64 * 1024 * 1024  # a zip bomb is refused before it is opened
CHUNK: Final = 100
XLSX_TYPE: Final = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FIELDS: Final = ("code", "name", "address", "category", "community", "grid")
REQUIRED: Final = ("code", "name", "address", "grid")
HEADERS: Final = {
    "code": ("code", "shop code", "shop_code", "店铺编号", "编号", "店铺代码", "代码"),
    "name": ("name", "shop name", "shop_name", "店铺名称", "店名", "名称", "店铺名"),
    "address": ("address", "地址", "店铺地址", "经营地址"),
    "category": ("category", "type", "类别", "类型", "行业", "经营类别"),
    "community": ("community", "社区", "所属社区"),
    "grid": ("grid", "网格", "所属网格"),
}
LABELS: Final = dict(zip(FIELDS, ("店铺编号", "店铺名称", "地址", "类别", "社区", "网格"), strict=True))
# The survey's words for a category, as templates match them (`server/demo/names.py` uses the same codes).
CATEGORIES: Final = {
    "餐饮": "food",
    "小吃": "food",
    "小吃店": "food",
    "饭店": "food",
    "零售": "retail",
    "超市": "retail",
    "便利店": "retail",
    "理发": "hair_salon",
    "理发店": "hair_salon",
    "美发": "hair_salon",
    "五金": "hardware",
    "五金店": "hardware",
    "药店": "pharmacy",
    "医药": "pharmacy",
    "电动车维修": "ebike_repair",
    "干洗": "laundry",
    "干洗店": "laundry",
    "棋牌室": "recreation",
    "娱乐": "recreation",
    "其他": "other",
}


@dataclass
class Report:
    """A job's progress and, when it is done, what it did (or, for a dry run, would do)."""

    job: str
    dry_run: bool
    create: bool
    status: str = "running"  # running, done, failed
    queued: bool = False  # running, but waiting for another import to finish
    total: int = 0
    done: int = 0
    created: int = 0
    updated: int = 0
    moved: int = 0
    unchanged: int = 0
    refused: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)  # {"line", "field", "reason"}
    duplicates: list[dict[str, Any]] = field(default_factory=list)  # {"line", "code", "first_line"}
    communities_created: list[str] = field(default_factory=list)
    grids_created: list[str] = field(default_factory=list)
    reason: str | None = None  # why a job failed
    written: int = 0  # rows whose writes are finished (`done` rows are planned and counted)
    resumed: int = 0  # times the job was taken up again after the server restarted
    # A sub-district's office imports into its own sub-district only: rows placing a shop elsewhere, or naming a
    # shop of another sub-district, are refused.
    within: str | None = None

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def refuse(self, line: int, name: str, reason: str) -> None:
        self.errors.append({"line": line, "field": name, "reason": reason})


@dataclass(frozen=True)
class Row:
    line: int  # as the spreadsheet numbers it (the header is line 1)
    values: dict[str, str]


# ----- reading the file -----


def parse(body: bytes, content_type: str) -> list[Row]:
    """The rows of a CSV (UTF-8 with or without BOM, or GB18030 as Excel saves it in China) or XLSX body."""
    if not body:
        raise bad_request("the body is empty: send the spreadsheet (CSV or XLSX) as the request body")
    if len(body) > MAX_BYTES:
        raise too_large(f"the spreadsheet is larger than {MAX_BYTES // (1024 * 1024)} MB")
    kind = content_type.split(";")[0].strip().lower()
    if kind == XLSX_TYPE or body[:4] == b"PK\x03\x04":
        table = _xlsx(body)
    elif kind in ("text/csv", "application/csv", "text/plain", "application/octet-stream", ""):
        table = _csv(body)
    else:
        raise bad_request(f"Content-Type {kind}: send text/csv or {XLSX_TYPE}")
    return _rows(table)


def _csv(body: bytes) -> list[list[str]]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = body.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes any byte string
        raise bad_request("the CSV is neither UTF-8 nor GB18030 text")
    if "\x00" in text:
        raise bad_request("the CSV contains NUL characters: is it really a CSV file?")
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    try:
        return [row for row in csv.reader(io.StringIO(text, newline=""), dialect)]
    except csv.Error as e:
        raise bad_request(f"the CSV cannot be read: {e}") from None


def _xlsx(body: bytes) -> list[list[str]]:
    from openpyxl import load_workbook  # imported here: most gateways never import a spreadsheet

    try:
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            if sum(info.file_size for info in archive.infolist()) > MAX_XLSX_UNPACKED:
                raise too_large("the XLSX unpacks to more than 64 MB")
        book = load_workbook(io.BytesIO(body), read_only=True, data_only=True)
        try:
            sheet = book.worksheets[0]
            table: list[list[str]] = []
            for values in sheet.iter_rows(values_only=True):
                table.append([_cell(v) for v in values])
                if len(table) > MAX_ROWS + 1:
                    break
            return table
        finally:
            book.close()
    except CouchError:
        raise
    except Exception as e:  # a damaged or foreign file can fail anywhere inside openpyxl: the sender gets a reason
        raise bad_request(f"the XLSX cannot be read ({type(e).__name__}): is it an Excel 2007+ workbook?") from None


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a code typed as a number: 1001, not 1001.0
    return str(value)


def _rows(table: list[list[str]]) -> list[Row]:
    while table and not any(cell.strip() for cell in table[0]):
        table = table[1:]
    if not table:
        raise bad_request("the spreadsheet has no header row")
    columns = _columns(table[0])
    rows: list[Row] = []
    for number, cells in enumerate(table[1:], start=2):
        if not any(cell.strip() for cell in cells):
            continue
        rows.append(Row(number, {name: cells[i].strip() if i < len(cells) else "" for name, i in columns.items()}))
        if len(rows) > MAX_ROWS:
            raise bad_request(f"the spreadsheet has more than {MAX_ROWS} shop rows; split it")
    if not rows:
        raise bad_request("the spreadsheet has a header but no shop rows")
    return rows


def _columns(header: list[str]) -> dict[str, int]:
    normal = [re.sub(r"[\s*（）()]+", " ", cell).strip().lower() for cell in header]
    columns: dict[str, int] = {}
    for name, aliases in HEADERS.items():
        for i, cell in enumerate(normal):
            if cell in aliases:
                columns.setdefault(name, i)
    missing = [f"{name} ({LABELS[name]})" for name in REQUIRED if name not in columns]
    if missing:
        raise bad_request(f"missing columns: {', '.join(missing)}; the header row reads {header[:12]}")
    return columns


# ----- checking and writing -----


async def _nothing() -> None:
    return None


class Importer:
    def __init__(self, registry: Registry, report: Report, subdistrict: str | None = None) -> None:
        self.registry, self.report, self.subdistrict = registry, report, subdistrict
        self.communities: dict[str, str] = {}  # code or name -> code
        self.subdistricts: dict[str, str] = {}  # community code -> its sub-district
        self.grids: dict[str, tuple[str, str]] = {}  # code or name (also "community/name") -> (code, community)
        self.first_line: dict[str, int] = {}

    async def run(self, rows: list[Row], checkpoint: Callable[[], Awaitable[None]] = _nothing) -> Report:
        """Plan and write the rows from `report.done` on, a chunk at a time. `checkpoint` keeps the report after each
        chunk is planned and before it is written: a job taken up again after a restart knows the counts of the
        rows it planned, and writes again (`_catch_up`) the one chunk whose writes may not have finished."""
        report = self.report
        report.total = len(rows)
        await self._load()
        await self._catch_up(rows)
        for i in range(report.done, len(rows), CHUNK):
            plans = [await self._plan(row) for row in rows[i : i + CHUNK]]
            report.done += len(plans)
            await checkpoint()
            if not report.dry_run:
                await self._write([p for p in plans if p is not None])
            report.written = report.done
        report.status = "done"
        return report

    async def _catch_up(self, rows: list[Row]) -> None:
        """A job taken up again: know the codes of the rows it has done (for duplicates), and write the rows
        planned but perhaps not written. Their counts are in the report already, so they are planned again on a
        scratch report; what was written before the restart now plans as unchanged, and is not written twice,
        but joins its grid (`_rejoin`)."""
        report = self.report
        for row in rows[: report.written]:
            if all(row.values.get(name) for name in REQUIRED):
                self.first_line.setdefault(row.values["code"], row.line)
        if report.written < report.done:
            self.report = Report(report.job, report.dry_run, report.create, within=report.within)
            try:
                plans = [await self._plan(row) for row in rows[report.written : report.done]]
            finally:
                self.report = report
            if not report.dry_run:
                await self._write([p for p in plans if p is not None])
                await self._rejoin(rows[report.written : report.done])
            report.written = report.done

    async def _rejoin(self, rows: list[Row]) -> None:
        """Each shop of these rows in its grid's list: a chunk's shops join their grids after they are written,
        so a shop written before the restart may be missing from the list (`add_to_grid` adds only what is not)."""
        by_grid: dict[str, list[str]] = {}
        for row in rows:
            code = row.values.get("code", "")
            shop = await self.registry.shop(code) if re.fullmatch(PARTITION, code) else None
            if shop is not None:
                by_grid.setdefault(shop["grid"], []).append(code)
        for grid, codes in by_grid.items():
            await self.registry.add_to_grid(grid, codes)

    async def _load(self) -> None:
        for c in await self.registry.communities():
            self.communities[c["code"]] = c["code"]
            self.subdistricts[c["code"]] = str(c.get("subdistrict"))
            self.communities.setdefault(c["name"], c["code"])
        for g in await self.registry.grids():
            self._know_grid(g["code"], g["name"], g["community"])

    def _know_grid(self, code: str, name: str, community: str) -> None:
        self.grids[code] = (code, community)
        self.grids.setdefault(name, (code, community))
        self.grids[f"{community}/{name}"] = (code, community)

    async def _plan(self, row: Row) -> dict[str, Any] | None:
        report, v = self.report, row.values
        code = v.get("code", "")
        for name in REQUIRED:
            if not v.get(name):
                report.refuse(row.line, name, "required, but empty")
                report.refused += 1
                return None
        if code in self.first_line:
            report.duplicates.append({"line": row.line, "code": code, "first_line": self.first_line[code]})
            report.refuse(row.line, "code", f"duplicate: shop {code} is already on line {self.first_line[code]}")
            report.refused += 1
            return None
        self.first_line[code] = row.line
        place = await self._place(row)
        if place is None:
            report.refused += 1
            return None
        community, grid = place
        shop = {
            "code": code,
            "name": v["name"],
            "address": v["address"],
            "category": CATEGORIES.get(v.get("category", ""), v.get("category") or "other"),
            "community": community,
            "grid": grid,
            "status": "active",
            "owner_activated": False,
        }
        current = await self.registry.shop(code) if re.fullmatch(PARTITION, code) else None
        if self._elsewhere(current["community"] if current else None):
            report.refuse(row.line, "code", f"shop {code} is outside your sub-district")
            report.refused += 1
            return None
        if current is not None:
            shop = {**shop, "status": current["status"], "owner_activated": current["owner_activated"]}
        try:
            Shop.model_validate({"_id": shop_doc_id(code), "type": "shop", "schema": 1, **shop})
        except ValidationError as e:
            loc = e.errors(include_url=False)[0]["loc"]
            name = str(loc[0]) if loc else "row"
            report.refuse(row.line, "code" if name == "_id" else name, reason_of(e))
            report.refused += 1
            return None
        if current is None:
            report.created += 1
        elif current["grid"] != grid:
            report.moved += 1
        elif all(current.get(k) == shop[k] for k in ("name", "address", "category")):
            report.unchanged += 1
            return None
        else:
            report.updated += 1
        return {"shop": shop, "current": current}

    async def _place(self, row: Row) -> tuple[str, str] | None:
        """The (community, grid) codes of a row, creating them when the import may; None when refused."""
        report, v = self.report, row.values
        community = self.communities.get(v.get("community", ""))
        if community is not None and self._elsewhere(community):
            # Neither placed there nor named: another sub-district's registry is not this office's to see.
            report.refuse(row.line, "community", f"community {v['community']} is outside your sub-district")
            return None
        if v.get("community") and community is None:
            if not report.create:
                report.refuse(row.line, "community", f"unknown community {v['community']}")
                return None
            community = await self._new_community(row, v["community"])
            if community is None:
                return None
        found = self.grids.get(f"{community}/{v['grid']}") if community else None
        found = found or self.grids.get(v["grid"])
        if found is not None:
            if self._elsewhere(found[1]):
                report.refuse(row.line, "grid", f"grid {v['grid']} is outside your sub-district")
                return None
            if community is not None and found[1] != community:
                report.refuse(row.line, "grid", f"grid {v['grid']} belongs to community {found[1]}, not {community}")
                return None
            return found[1], found[0]
        if not report.create:
            report.refuse(row.line, "grid", f"unknown grid {v['grid']}")
            return None
        if community is None:
            report.refuse(row.line, "community", f"needed to create the new grid {v['grid']}")
            return None
        return community, await self._new_grid(v["grid"], community)

    def _elsewhere(self, community: str | None) -> str | None:
        """The sub-district of `community` when the import is held to another one (`Report.within`)."""
        if self.report.within is None or community is None:
            return None
        found = self.subdistricts.get(community, self.report.within)
        return found if found != self.report.within else None

    async def _new_community(self, row: Row, label: str) -> str | None:
        code = _code_for(label, "c", set(self.communities.values()))
        if self.subdistrict is None:
            try:
                self.subdistrict = await self.registry.only_subdistrict()
            except CouchError:
                self.report.refuse(row.line, "community", "cannot create it: give the import a subdistrict")
                return None
        if not self.report.dry_run:
            await self.registry.save_community(code, label, self.subdistrict)
        self.communities[code] = self.communities[label] = code
        self.report.communities_created.append(label)
        return code

    async def _new_grid(self, label: str, community: str) -> str:
        code = _code_for(label, f"{community}-g", {c for c, _ in self.grids.values()})
        if not self.report.dry_run:
            await self.registry.put_grid(code, label, community, [], [])
        self._know_grid(code, label, community)
        self.report.grids_created.append(f"{community}/{label}")
        return code

    async def _write(self, plans: list[dict[str, Any]]) -> None:
        by_grid: dict[str, list[str]] = {}
        for plan in plans:
            shop, current = plan["shop"], plan["current"]
            if current is not None and current["grid"] != shop["grid"]:
                await self.registry.move_shop(shop["code"], shop["grid"])
                current = await self.registry.shop(shop["code"])
            await self.registry.put_shop({**(current or {}), **shop})
            by_grid.setdefault(shop["grid"], []).append(shop["code"])
        for grid, codes in by_grid.items():
            await self.registry.add_to_grid(grid, codes)


def _code_for(label: str, prefix: str, taken: set[str]) -> str:
    """A registry code for a new community or grid: the label itself when it is a valid code, else numbered."""
    if re.fullmatch(KEY, label) and label not in taken:
        return label
    n = 1
    while f"{prefix}{n}" in taken:
        n += 1
    return f"{prefix}{n}"
