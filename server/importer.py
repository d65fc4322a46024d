"""The survey import: a spreadsheet of shops (CSV or XLSX) checked row by row, then written to the registry.

Rules (the validation report says which applied to each row):
- Headers may be Chinese or English (店铺编号/code, 店铺名称/name, 地址/address, 类别/category, 社区/community,
  网格/grid, and common variants such as 商户名称, 社区名称, 网格名称: `HEADERS`); a trailing note in brackets
  ("店铺名称（必填）") and a `*` are ignored. Name, address and grid are required. A column the import does not know
  is ignored, and the report's `warnings` name it (so does a file with no community or no code column).
- The shop's responsible person and phone (负责人 or 联系人, 电话, 联系电话 or 手机, and variants: `HEADERS`) are its
  `contact`, whom the office calls in when it is black-listed (约谈). A phone is written as `clean_phone` writes it
  (full-width digits made plain, a leading apostrophe Excel keeps for text dropped); one that is no phone number
  (letters, two numbers in a cell, too few or too many digits) refuses the row with a reason. An empty cell keeps the
  person or phone registered (the import never removes a contact: the registry desk's form does); a row that names
  another person and leaves the phone empty keeps the phone registered, and a warning asks to check it.
- Surveys seldom have shop codes: a row with none (an empty cell, or no code column) is given one (`Codes`): the shop
  already registered in reach under the same name and address keeps its code (importing the file again makes no
  second shop), else the next free code of the district-wide sequence `S0001`, `S0002`, … after the highest one the
  registry holds, passing over codes the file or the registry has. A dry run and the real run of the same file on an
  unchanged registry give the same codes; the report's `assigned` lists them by line for the posters. A new shop
  with a given code is written only if the code is still free (another import may have taken it meanwhile: it then
  gets the next free one, and `assigned` says so).
- A category is a survey word (餐饮, 面馆, 超市, …: `CATEGORIES`) or a category code (food, retail, …); empty (or no
  category column) is `other` for a new shop. Any other word (美甲, 手机维修) is imported as `other` (其他), and a
  warning names the word and the line: a first import registers every shop of the street, and the office changes the
  category later if one fits. A shop already registered keeps its category then, and when its cell is empty or the
  file has no category column (the one the office chose is not undone by importing the survey again).
- An empty cell or a column the file lacks never erases what the registry holds for a shop already registered: name,
  address and grid are required (an empty one refuses the row), an empty code finds the shop by name and address,
  an empty community finds the grid by itself (the shop's community is always its grid's), and the category stays.
  A shop's status, owner activation, opening day, closures and moves are the registry's, never the file's.
- A community is matched by its code or its name. A row naming a community finds its grid (by code or name) in that
  community only; a row naming none finds its grid by code, or by a name only one community's grid has. A name
  several communities use is, for a shop already registered in reach, its own community's grid of that name; a new
  shop's row, or one whose shop's community has no grid of that name, is refused: name the community (the same in
  the dry run, which finds the shop as the run does). Unknown ones are refused per row, unless the import
  asks for them to be created (`create=True`): a grid is then created in the row's community (created too when
  unknown, in the registry's only sub-district) with no grid worker yet. Nothing is created for a refused row.
- A community or grid the import would create whose name is one character away from one in reach (a community of
  the same sub-district, a grid of the same community; `near`) is most likely a typo (幸幅社区 for 幸福社区): its
  rows are refused, and a warning names both, unless the import is told to create such ones (`create_similar`).
- A code seen twice in the file: a row repeating the code of an accepted row is refused as a duplicate (a refused
  row does not count: a corrected row further down is taken). A code already in the registry updates that shop
  (name, address, category, contact; a new grid moves it); a row that changes none of them is counted as unchanged,
  in the dry run as in the run.
- The header is the first row naming the required columns among the first `HEADER_SEARCH` rows with a value: a
  survey's title row above it ("幸福街道店铺安全普查表", often merged across the columns) is passed over, and a warning
  says so.
- Reasons and warnings are Chinese first, then the English after the Chinese part's last full stop (。), mostly in
  English words: the office's screen in English shows that part (`reasonIn` in pwa/src/i18n.ts), in Chinese all of it.
- A total line below the shops (its first cell 合计, 总计 or 小计, no address, no grid) is not a shop: passed over, and
  a warning says so.
- At most `MAX_ROWS` shop rows; blank rows are skipped and not counted. An old Excel .xls workbook is refused with a
  reason (save it as XLSX or CSV); a CSV may be UTF-8, GB18030 or UTF-16 (Excel's "Unicode text").
- A dry run checks everything and writes nothing; its report is what the real run would do.
- A job survives a restart (`server/import_jobs.py` keeps its rows and report in the store): `run` continues a
  report whose `done` rows were planned and whose `written` rows were written (see `Importer.run`).
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Final

from pydantic import ValidationError

from server.errors import CouchError, bad_request, too_large
from server.exports import CATEGORY_NAME
from server.models.common import KEY, PARTITION, reason_of
from server.models.registry import CONTACT_HELP, Shop, clean_phone, shop_doc_id
from server.registry import Registry, shipped_documents
from server.validators import rules as R
from server.validators.context import load_rules

MAX_BYTES: Final = 5 * 1024 * 1024
MAX_ROWS: Final = 5000
MAX_XLSX_UNPACKED: Final = 64 * 1024 * 1024  # a zip bomb is refused before it is opened
CHUNK: Final = 100
TOTAL_ROW: Final = re.compile(r"[合总小共]\s*计")  # a survey's total line below the shops (合计 41 家)
HEADER_SEARCH: Final = 10  # rows with a value looked through for the header (title rows above it are passed over)
XLSX_TYPE: Final = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
XLS_TYPE: Final = "application/vnd.ms-excel"
OLE_MAGIC: Final = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # an Excel 97-2003 workbook (or a password-protected XLSX)
FIELDS: Final = ("code", "name", "address", "category", "community", "grid", "contact_name", "contact_phone")
REQUIRED: Final = ("name", "address", "grid")  # a row without a code is given one
# Headers as surveys write them, compared once a trailing note in brackets and `*` are taken off (`_header`).
HEADERS: Final = {
    "code": (
        "code",
        "shop code",
        "shop_code",
        "店铺编号",
        "编号",
        "店铺代码",
        "代码",
        "店铺编码",
        "编码",
        "商户编号",
        "商户编码",
        "商铺编号",
        "门店编号",
    ),
    "name": (
        "name",
        "shop name",
        "shop_name",
        "店铺名称",
        "店名",
        "名称",
        "店铺名",
        "商户名称",
        "商户名",
        "商铺名称",
        "门店名称",
    ),
    "address": ("address", "地址", "店铺地址", "经营地址", "商户地址", "门店地址", "详细地址"),
    "category": ("category", "type", "类别", "类型", "行业", "经营类别", "店铺类别", "商户类别", "行业类别", "业态"),
    "community": ("community", "社区", "所属社区", "社区名称", "社区名", "社区编号", "所属社区名称"),
    "grid": ("grid", "网格", "所属网格", "网格名称", "网格名", "网格编号", "所属网格名称"),
    "contact_name": (
        "contact",
        "contact person",
        "contact name",
        "person in charge",
        "responsible person",
        "负责人",
        "负责人姓名",
        "联系人",
        "联系人姓名",
        "店主",
        "店主姓名",
        "经营者",
        "经营者姓名",
    ),
    "contact_phone": (
        "phone",
        "phone number",
        "telephone",
        "tel",
        "mobile",
        "contact phone",
        "电话",
        "联系电话",
        "电话号码",
        "手机",
        "手机号",
        "手机号码",
        "联系手机",
        "负责人电话",
        "负责人手机",
        "联系人电话",
        "联系人手机",
        "店主电话",
        "店主手机",
    ),
}
LABELS: Final = dict(
    zip(FIELDS, ("店铺编号", "店铺名称", "地址", "类别", "社区", "网格", "负责人", "联系电话"), strict=True)
)
# The survey's words for a category, as templates match them (`server/demo/names.py` uses the same words and codes;
# the exports' names of the categories, `server.exports.CATEGORY_NAME`, are among them, so an export imports again).
# A word none of these is (美甲, 手机维修) makes the shop `other`, with a warning (`_plan`).
CATEGORIES: Final = {
    "餐饮": "food",
    "餐饮店": "food",
    "小吃": "food",
    "小吃店": "food",
    "饭店": "food",
    "饭馆": "food",
    "餐馆": "food",
    "小餐馆": "food",
    "餐厅": "food",
    "酒楼": "food",
    "面馆": "food",
    "烧烤": "food",
    "烧烤店": "food",
    "火锅": "food",
    "火锅店": "food",
    "麻辣烫": "food",
    "奶茶店": "food",
    "奶茶": "food",
    "饮品店": "food",
    "咖啡店": "food",
    "早餐店": "food",
    "早餐": "food",
    "包子铺": "food",
    "快餐店": "food",
    "快餐": "food",
    "饺子馆": "food",
    "面包店": "food",
    "蛋糕店": "food",
    "烘焙": "food",
    "熟食店": "food",
    "零售": "retail",
    "零售店": "retail",
    "超市": "retail",
    "便利店": "retail",
    "小卖部": "retail",
    "商店": "retail",
    "杂货店": "retail",
    "百货": "retail",
    "日用百货": "retail",
    "副食店": "retail",
    "食杂店": "retail",
    "粮油店": "retail",
    "水果店": "retail",
    "烟酒店": "retail",
    "服装店": "retail",
    "鞋店": "retail",
    "母婴店": "retail",
    "文具店": "retail",
    "理发": "hair_salon",
    "理发店": "hair_salon",
    "美发": "hair_salon",
    "美发店": "hair_salon",
    "理发美发": "hair_salon",
    "美容美发": "hair_salon",
    "发廊": "hair_salon",
    "五金": "hardware",
    "五金店": "hardware",
    "五金建材": "hardware",
    "建材": "hardware",
    "建材店": "hardware",
    "药店": "pharmacy",
    "药房": "pharmacy",
    "大药房": "pharmacy",
    "医药": "pharmacy",
    "电动车维修": "ebike_repair",
    "电动车修理": "ebike_repair",
    "电瓶车维修": "ebike_repair",
    "电瓶车修理": "ebike_repair",
    "电动自行车维修": "ebike_repair",
    "干洗": "laundry",
    "干洗店": "laundry",
    "洗衣店": "laundry",
    "洗衣": "laundry",
    "棋牌室": "recreation",
    "棋牌": "recreation",
    "棋牌娱乐": "recreation",
    "麻将馆": "recreation",
    "麻将室": "recreation",
    "娱乐": "recreation",
    "其他": "other",
    "其它": "other",
}
CATEGORY_CODES: Final = tuple(dict.fromkeys(CATEGORIES.values()))
# What a row's value that the shop's model refuses should look like, by field (the model's English reason follows).
_FORMAT: Final = {
    "code": "店铺编号只能用英文字母、数字、- 和 _（不能有空格或汉字），例如 S0001。",
    "name": "店铺名称最多 200 字。",
    "address": "地址最多 200 字。",
    "contact_name": CONTACT_HELP["name"],
    "contact_phone": CONTACT_HELP["phone"],
}
_TYPO: Final = "请检查是否写错；要新建，请勾选“自动新建表中未登记的社区和网格”。"
# Its English, after the name: enough English words that the English screen tells this part (`reasonIn`).
_TYPO_EN: Final = ": check the spelling, or tick Create the communities and grids the registry lacks"
_SIMILAR: Final = "若确是另一个，请勾选“仍新建与已有名称只差一个字的社区和网格”后再导入。"
CODE_PREFIX: Final = "S"  # assigned shop codes: S0001, S0002, … (`Codes`), as the demo and the posters' examples
CODE_DIGITS: Final = 4
# Characters that tell places apart by design (一网格 and 二网格, 东社区 and 西社区, 甲 and 乙, A and B): one of
# them in place of another is not a typo (`near`).
_ORDINALS: Final = frozenset(
    "0123456789零〇一二三四五六七八九十百两壹贰叁肆伍陆柒捌玖拾东西南北中上下前后左右内外新老大小甲乙丙丁戊己庚辛壬癸"
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
)


@dataclass
class Report:
    """A job's progress and, when it is done, what it did (or, for a dry run, would do)."""

    job: str
    dry_run: bool
    create: bool
    create_similar: bool = False  # create a community or grid one character away from one in reach (`near`)
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
    warnings: list[str] = field(default_factory=list)  # about the whole file: columns ignored (`Rows.warnings`)
    written: int = 0  # rows whose writes are finished (`done` rows are planned and counted)
    resumed: int = 0  # times the job was taken up again after the server restarted
    # The codes given to rows without one, by line: {"line", "code", "name", "registered"} (`registered`: the shop
    # was in the registry under that name and address already), for the posters.
    assigned: list[dict[str, Any]] = field(default_factory=list)
    # A sub-district's office imports into its own sub-district only: rows placing a shop elsewhere, or naming a
    # shop of another sub-district, are refused.
    within: str | None = None
    file: str | None = None  # the name of the file imported, as the office's computer named it (the audit log shows it)

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def refuse(self, line: int, name: str, reason: str) -> None:
        self.errors.append({"line": line, "field": name, "reason": reason})


@dataclass(frozen=True)
class Row:
    line: int  # as the spreadsheet numbers it (the header is line 1)
    values: dict[str, str]


class Rows(list[Row]):
    """The shop rows of a spreadsheet, and what the office is told about the file as a whole (columns ignored)."""

    def __init__(self, rows: Iterable[Row] = (), warnings: Iterable[str] = ()) -> None:
        super().__init__(rows)
        self.warnings = list(warnings)


# ----- reading the file -----


def parse(body: bytes, content_type: str) -> Rows:
    """The rows of a CSV (UTF-8 with or without BOM, GB18030 as Excel saves it in China, or UTF-16 with its BOM as
    Excel's "Unicode text") or XLSX body."""
    if not body:
        raise bad_request(
            "文件是空的：请选择填好的店铺普查表（CSV 或 XLSX）。"
            "the body is empty: send the spreadsheet (CSV or XLSX) as the request body"
        )
    if len(body) > MAX_BYTES:
        raise too_large(too_big())
    kind = content_type.split(";")[0].strip().lower()
    if body[:8] == OLE_MAGIC or kind == XLS_TYPE:
        raise CouchError(
            415,
            "unsupported_media_type",
            "这是旧版 Excel 工作簿（.xls，Excel 97-2003）或加了密码的工作簿，无法读取：请在 Excel 中“另存为”"
            "Excel 工作簿（.xlsx）或“CSV UTF-8”（不加密码），再导入。"
            "this is an old Excel workbook (.xls, Excel 97-2003) or a password-protected one, which cannot be read: "
            "in Excel, save it (另存为) as an Excel workbook (.xlsx) or as CSV UTF-8 without a password, and send that",
        )
    if kind == XLSX_TYPE or body[:4] == b"PK\x03\x04":
        table = _xlsx(body)
    elif kind in ("text/csv", "application/csv", "text/plain", "application/octet-stream", ""):
        table = _csv(body)
    else:
        raise bad_request(
            f"无法导入这种文件（{kind}）：请选择店铺普查表的 CSV 或 XLSX 文件。"
            f"Content-Type {kind}: send text/csv or {XLSX_TYPE}"
        )
    return _rows(table)


def _text(body: bytes) -> str:
    if body[:2] in (b"\xff\xfe", b"\xfe\xff"):  # UTF-16 with its byte order mark: Excel's "Unicode text"
        try:
            return body.decode("utf-16")
        except UnicodeDecodeError:
            raise bad_request(
                "文件开头是 UTF-16 文本，但无法按 UTF-16 读取：请在 Excel 中另存为“CSV UTF-8”。"
                "the CSV starts as UTF-16 text but cannot be read as UTF-16"
            ) from None
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return body.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise bad_request(  # a byte no encoding reads, such as 0xFF: not a text file, or a damaged one
        "文件不是 UTF-8、GB18030 或 UTF-16 编码的文本，无法读取：请在 Excel 中另存为“CSV UTF-8”再导入。"
        "the CSV is neither UTF-8, GB18030 nor UTF-16 text"
    )


def _csv(body: bytes) -> list[list[str]]:
    text = _text(body)
    if "\x00" in text:
        raise bad_request("文件中有空字符，不像是 CSV 文件。the CSV contains NUL characters: is it really a CSV file?")
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    try:
        return [row for row in csv.reader(io.StringIO(text, newline=""), dialect)]
    except csv.Error as e:
        raise bad_request(f"CSV 无法读取：{e}。the CSV cannot be read: {e}") from None


def _xlsx(body: bytes) -> list[list[str]]:
    """The sheet's rows, a blank row as []: only rows with a value count toward the limit (`_rows` refuses more than
    `MAX_ROWS`), so blank rows in the middle of a survey never cut it short."""
    from openpyxl import load_workbook  # imported here: most gateways never import a spreadsheet

    try:
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            if sum(info.file_size for info in archive.infolist()) > MAX_XLSX_UNPACKED:
                raise too_large("XLSX 解压后超过 64 MB，无法导入。the XLSX unpacks to more than 64 MB")
        book = load_workbook(io.BytesIO(body), read_only=True, data_only=True)
        try:
            sheet = book.worksheets[0]
            table: list[list[str]] = []
            filled = 0
            for values in sheet.iter_rows(values_only=True):
                cells = [_cell(v) for v in values]
                if any(cell.strip() for cell in cells):
                    table.append(cells)
                    filled += 1
                    if filled > MAX_ROWS + 1:  # the header and one row too many: enough for `_rows` to refuse
                        break
                else:
                    table.append([])
            return table
        finally:
            book.close()
    except CouchError:
        raise
    except Exception as e:  # a damaged or foreign file can fail anywhere inside openpyxl: the sender gets a reason
        raise bad_request(
            "XLSX 无法读取：请确认它是 Excel 2007 及以后版本的工作簿（.xlsx），或另存为“CSV UTF-8”再导入。"
            f"the XLSX cannot be read ({type(e).__name__}): is it an Excel 2007+ workbook?"
        ) from None


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a code typed as a number: 1001, not 1001.0
    return str(value)


def too_big() -> str:
    mb = MAX_BYTES // (1024 * 1024)
    return f"文件超过 {mb} MB：请分成几个文件导入。the spreadsheet is larger than {mb} MB"


def _rows(table: list[list[str]]) -> Rows:
    filled = [i for i, cells in enumerate(table) if any(cell.strip() for cell in cells)][:HEADER_SEARCH]
    if not filled:
        raise bad_request("表格是空的，没有表头行。the spreadsheet has no header row")
    # The header: the first row naming the required columns; a title above it is not a header (nor a shop).
    start = next((i for i in filled if _header_row(table[i])), filled[0])
    columns, warnings = _columns(table[start])
    if start != filled[0]:
        titles = [" ".join(cell.strip() for cell in table[i] if cell.strip())[:40] for i in filled if i < start]
        warnings.insert(
            0,
            f"表头在第 {start + 1} 行：它上面的“{'、'.join(titles)}”不是店铺，未导入。"
            f"the header is on line {start + 1}: the lines above it are not imported",
        )
    rows = Rows(warnings=warnings)
    for number, cells in enumerate(table[start + 1 :], start=start + 2):
        if not any(cell.strip() for cell in cells):
            continue
        # A cell's line breaks (Alt+Enter in Excel, common in an address) and tabs are spaces: the registry keeps one
        # line, which posters and exports print, and the office's form would drop them without a word at its next save.
        values = {name: " ".join(cells[i].split()) if i < len(cells) else "" for name, i in columns.items()}
        if _total_row(cells, values):
            said = " ".join(cell.strip() for cell in cells if cell.strip())[:40]
            rows.warnings.append(
                f"第 {number} 行“{said}”是合计行，不是店铺，未导入。"
                f"line {number} is a total row, not a shop: not imported"
            )
            continue
        rows.append(Row(number, values))
        if len(rows) > MAX_ROWS:
            raise bad_request(
                f"店铺超过 {MAX_ROWS} 行（不计空行）：请分成几个文件导入。"
                f"the spreadsheet has more than {MAX_ROWS} shop rows (blank rows not counted); split it"
            )
    if not rows:
        raise bad_request("表格只有表头，没有店铺。the spreadsheet has a header but no shop rows")
    return rows


def _total_row(cells: list[str], values: dict[str, str]) -> bool:
    """Whether a row is a survey's total line ("合计 | 41 家" under the shops), not a shop: its first cell with a value
    says 合计 (总计, 小计) and it has neither an address nor a grid. It was refused as a shop without an address."""
    first = next((cell.strip() for cell in cells if cell.strip()), "")
    return bool(TOTAL_ROW.match(first)) and not values.get("address") and not values.get("grid")


def _header(cell: str) -> str:
    """A header cell as `HEADERS` lists it: "店铺名称（必填）", "*网格", "Shop  Name" read 店铺名称, 网格, shop name."""
    text = re.sub(r"\s+", " ", cell).strip(" *＊")
    while (bare := re.sub(r"[(（][^()（）]*[)）]$", "", text).strip(" *＊")) != text:
        text = bare
    return text.lower()


def _found(header: list[str]) -> dict[str, int]:
    """The column of each field the header names."""
    normal = [_header(cell) for cell in header]
    columns: dict[str, int] = {}
    for name, aliases in HEADERS.items():
        for i, cell in enumerate(normal):
            if cell in aliases:
                columns.setdefault(name, i)
    return columns


def _header_row(cells: list[str]) -> bool:
    return set(REQUIRED) <= set(_found(cells))


def _columns(header: list[str]) -> tuple[dict[str, int], list[str]]:
    """The column of each field, and warnings naming the columns ignored."""
    columns = _found(header)
    missing = [name for name in REQUIRED if name not in columns]
    if missing:
        read = "、".join(cell.strip() for cell in header[:12] if cell.strip())
        raise bad_request(
            f"表头缺少必填的列：{'、'.join(LABELS[name] for name in missing)}。表头须有 店铺名称、地址、网格"
            f"（店铺编号、类别、社区、负责人、联系电话可选；没有编号的店铺自动编号），现在读到的是：{read}。"
            "可下载导入模板对照。"
            f"missing columns: {', '.join(f'{name} ({LABELS[name]})' for name in missing)}; the header needs the "
            "shop name, address and grid columns (code, category, community, contact person and phone are "
            "optional): see the template"
        )
    used = set(columns.values())
    ignored = [cell.strip() for i, cell in enumerate(header) if cell.strip() and i not in used]
    warnings = []
    if ignored:
        known = "、".join(LABELS.values())
        warnings.append(
            f"这些列不会导入（不是 {known} 之一）：{'、'.join(ignored)}。"
            "columns ignored (only the shop code, name, address, category, community, grid, contact person and "
            f"phone are imported): "
            f"{', '.join(ignored)}"
        )
    if "code" not in columns:
        warnings.append(
            f"表中没有“店铺编号”列：每家店将自动编号（{CODE_PREFIX}{1:0{CODE_DIGITS}d} 式，"
            "已登记的同名同址店铺沿用原编号），编号列在报告中，可据此打印二维码。"
            "no shop code column: each shop is given a code (already registered ones keep theirs), listed in the report"
        )
    if "community" not in columns:
        warnings.append(
            "表中没有“社区”列：网格按网格编号查找，或按只有一个社区使用的网格名称查找；"
            "已登记的店铺也可按其所在社区的网格名称查找。"
            "no community column (社区): a grid is found by its code, or by a name one community has, or, for a "
            "registered shop, by the name of a grid of its community"
        )
    return columns, warnings


# ----- checking and writing -----


async def _nothing() -> None:
    return None


@dataclass(frozen=True)
class Place:
    """Where a row's shop goes: codes, and the names of a community and a grid to create once the row is taken."""

    community: str
    grid: str
    new_community: str | None = None
    new_grid: str | None = None


class Importer:
    def __init__(self, registry: Registry, report: Report, subdistrict: str | None = None) -> None:
        self.registry, self.report, self.subdistrict = registry, report, subdistrict
        # What a row may name: the communities and grids in the import's reach (`Report.within`); another
        # sub-district's are not known to it, so a row naming one is refused (or, with `create`, placed in a new
        # one) exactly as a row naming an unknown one, and the report tells nothing of another sub-district.
        self.communities: dict[str, str] = {}  # code or name -> code
        self.shared_names: dict[str, list[str]] = {}  # a name several communities have -> their codes
        self.subdistricts: dict[str, str] = {}  # community code -> its sub-district (every community's)
        self.grid_codes: dict[str, str] = {}  # grid code -> its community
        self.grid_names: dict[str, dict[str, str]] = {}  # grid name -> {community: grid code}
        # Every code the registry holds, in reach or not (codes are district-wide): a new one takes none of them.
        self.community_codes_taken: set[str] = set()
        self.grid_codes_taken: set[str] = set()
        self.first_line: dict[str, int] = {}  # the code of each row taken -> its line
        self.community_names: dict[str, str] = {}  # community code -> name, in reach (and made by this import)
        # Codes for rows without one (`Codes` in the module's text).
        self.shop_codes: set[str] = set()  # every shop code the grids list, in reach or not
        self.file_codes: set[str] = set()  # the codes the file gives
        self.last_number = 0  # the number of the last code given (or the highest of the registry's)
        self.given_before: dict[int, str] = {}  # line -> the code given before a restart (`Report.assigned`)
        self.registered_places: dict[tuple[str, str], list[str]] = {}  # (name, address) -> codes, in reach
        self.taken_places: dict[tuple[str, str], str] = {}  # (name, address) of each row taken -> its code
        self.made_here: set[str] = set()  # names of the communities and grids this import made

    async def run(self, rows: list[Row], checkpoint: Callable[[], Awaitable[None]] = _nothing) -> Report:
        """Plan and write the rows from `report.done` on, a chunk at a time. `checkpoint` keeps the report after each
        chunk is planned and before it is written: a job taken up again after a restart knows the counts of the
        rows it planned, and writes again (`_catch_up`) the one chunk whose writes may not have finished."""
        report = self.report
        report.total = len(rows)
        self.file_codes = {row.values.get("code", "") for row in rows} - {""}
        self.given_before = {int(a["line"]): str(a["code"]) for a in report.assigned}
        await self._load(places=any(not row.values.get("code") for row in rows))
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
        """A job taken up again: know the codes of the rows it has taken (for duplicates; a refused row has its
        line in the report's errors), and write the rows planned but perhaps not written. Their counts are in the
        report already, so they are planned again on a scratch report; what was written before the restart now
        plans as unchanged, and is not written twice, but joins its grid (`_rejoin`)."""
        report = self.report
        refused = {error["line"] for error in report.errors}
        for row in rows[: report.written]:
            if row.line not in refused:
                self.first_line.setdefault(self._code_of(row), row.line)
        if report.written < report.done:
            self.report = Report(report.job, report.dry_run, report.create, report.create_similar, within=report.within)
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
            code = self._code_of(row)
            shop = await self.registry.shop(code) if re.fullmatch(PARTITION, code) else None
            if shop is not None:
                by_grid.setdefault(shop["grid"], []).append(code)
        for grid, codes in by_grid.items():
            await self.registry.add_to_grid(grid, codes)

    def _code_of(self, row: Row) -> str:
        """The row's code: the file's, or the one it was given before a restart."""
        return row.values.get("code", "") or self.given_before.get(row.line, "")

    async def _load(self, places: bool = False) -> None:
        """What rows may name; with `places`, the shops in reach by name and address (rows without a code)."""
        named: dict[str, list[str]] = {}
        for c in await self.registry.communities():
            self.community_codes_taken.add(c["code"])
            self.subdistricts[c["code"]] = str(c.get("subdistrict"))
            if not self._elsewhere(c["code"]):
                self.communities[c["code"]] = c["code"]
                self.community_names[c["code"]] = str(c["name"])
                named.setdefault(c["name"], []).append(c["code"])
        # A name is a community's only when one community has it: two sub-districts may each have made one of a
        # name (the other's being unknown to it), and a row naming such a name must give the code.
        for name, codes in named.items():
            if len(codes) == 1:
                self.communities.setdefault(name, codes[0])
            elif name not in self.communities:
                self.shared_names[name] = codes
        ours: list[str] = []
        for g in await self.registry.grids():
            self.grid_codes_taken.add(g["code"])
            self.shop_codes.update(g.get("shops", []))
            if not self._elsewhere(g["community"]):
                self._know_grid(g["code"], g["name"], g["community"])
                ours += g.get("shops", [])
        numbers = (re.fullmatch(rf"{CODE_PREFIX}(\d+)", code) for code in self.shop_codes)
        self.last_number = max((int(m.group(1)) for m in numbers if m), default=0)
        if places:
            for shop in await self.registry.shops(sorted(set(ours))):
                key = (str(shop["name"]).strip(), str(shop["address"]).strip())
                self.registered_places.setdefault(key, []).append(str(shop["code"]))

    def _know_grid(self, code: str, name: str, community: str) -> None:
        self.grid_codes_taken.add(code)
        self.grid_codes[code] = community
        self.grid_names.setdefault(name, {}).setdefault(community, code)

    async def _plan(self, row: Row) -> dict[str, Any] | None:
        """What the row does to the registry, counted in the report; None when it is refused or unchanged. A row
        is refused with one error, before anything is created for it."""
        report, v = self.report, row.values
        code = v.get("code", "")
        for name in REQUIRED:
            if not v.get(name):
                return self._refused(row, name, f"{LABELS[name]}是必填项，这一行是空的。required, but empty")
        given, registered = not code, False
        if given:  # the shop of the same name and address, taken above or registered, else a new code (below)
            place_key = (v["name"], v["address"])
            known = [self.taken_places[place_key]] if place_key in self.taken_places else []
            known = known or self.registered_places.get(place_key, [])
            if len(known) > 1:
                reason = (
                    f"这一行没有店铺编号，而已登记的 {'、'.join(known)} 都叫“{v['name']}”、地址都是“{v['address']}”："
                    f"请填写店铺编号。no code, and shops {', '.join(known)} have this name and address: give the code"
                )
                return self._refused(row, "code", reason)
            if known:
                code, registered = known[0], place_key not in self.taken_places
        if code in self.first_line:
            first = self.first_line[code]
            report.duplicates.append({"line": row.line, "code": code, "first_line": first})
            reason = f"店铺编号 {code} 与第 {first} 行重复。duplicate: shop {code} is already on line {first}"
            if given:
                reason = (
                    f"这一行没有店铺编号，与第 {first} 行同名同址（{code}），重复。"
                    f"duplicate: no code, and the name and address of line {first} ({code})"
                )
            return self._refused(row, "code", reason)
        word = v.get("category", "")
        coded = category_code(word)
        category = coded or "other"  # a word of no category: the shop is registered all the same (warned below)
        # The shop the row names when it is registered (a new code, given below, is one no shop has).
        current = await self.registry.shop(code) if re.fullmatch(PARTITION, code) else None
        place = await self._place(row, current)
        if place is None:
            report.refused += 1
            return None
        if given and not registered:
            code = await self._new_code(row.line)
        shop = {
            "code": code,
            "name": v["name"],
            "address": v["address"],
            "category": category,
            "community": place.community,
            "grid": place.grid,
            "status": "active",
            "owner_activated": False,
            "contact": row_contact(v, current),
        }
        if self._elsewhere(current["community"] if current else None):
            # Shop codes are district-wide: that this one is taken cannot be hidden, but not where.
            return self._refused(row, "code", f"店铺编号 {code} 已被登记。shop {code}: code already registered")
        if current is not None:
            shop = {**shop, "status": current["status"], "owner_activated": current["owner_activated"]}
            # The category the office gave the shop since is kept when the row names none (an empty cell, or no
            # category column) or a word of no category (the warning asks the office to choose one): `other` is
            # only a new shop's default, and importing the survey again must not undo the office's choice.
            if coded is None or not word:
                shop["category"] = category = str(current["category"])
        try:
            Shop.model_validate({"_id": shop_doc_id(code), "type": "shop", "schema": 1, **shop})
        except ValidationError as e:
            loc = e.errors(include_url=False)[0]["loc"]
            name = str(loc[0]) if loc else "row"
            name = "code" if name == "_id" else f"contact_{loc[1]}" if name == "contact" and len(loc) > 1 else name
            return self._refused(row, name, f"{_FORMAT.get(name, '这一格的内容不符合要求。')}{reason_of(e)}")
        await self._create(place)  # the row is taken: now its new community and grid are made
        if coded is None:
            line, name = row.line, v["name"]
            said = other_category(line, name, word) if current is None else kept_category(line, name, word, category)
            report.warnings.append(said)
        if (kept := kept_phone(row, current)) is not None:
            report.warnings.append(kept)
        self.first_line[code] = row.line
        self.taken_places.setdefault((v["name"], v["address"]), code)
        if given:
            report.assigned.append({"line": row.line, "code": code, "name": v["name"], "registered": registered})
        if current is None:
            report.created += 1
        elif current["grid"] != place.grid:
            report.moved += 1
        elif all(current.get(k) == shop[k] for k in ("name", "address", "category", "contact")):
            report.unchanged += 1
            return None
        else:
            report.updated += 1
        return {"shop": shop, "current": current, "line": row.line, "given": given and current is None}

    async def _new_code(self, line: int) -> str:
        """A free code for the row on `line`: the one it was given before a restart while that is still free, else
        the next of the sequence that neither the file nor the registry has."""
        before = self.given_before.get(line)
        if before is not None and before not in self.first_line and await self.registry.shop(before) is None:
            return before
        while True:
            self.last_number += 1
            code = f"{CODE_PREFIX}{self.last_number:0{CODE_DIGITS}d}"
            if code in self.file_codes or code in self.first_line or code in self.shop_codes:
                continue
            if await self.registry.shop(code) is None:
                return code
            self.shop_codes.add(code)

    def _refused(self, row: Row, name: str, reason: str) -> dict[str, Any] | None:
        """Refuse the row and count it; None, the plan of a refused row."""
        self.report.refuse(row.line, name, reason)
        self.report.refused += 1
        return None

    async def _place(self, row: Row, current: dict[str, Any] | None = None) -> Place | None:
        """Where the row's shop (`current`, when it is registered) goes, with what to create for it when the import
        may; None when refused (the reason is in the report). Nothing is created here: `_create` does once the whole
        row is taken."""
        report, v = self.report, row.values
        label, grid = v.get("community", ""), v["grid"]
        if not label:
            return self._place_by_grid(row, current)
        community = self.communities.get(label)  # another sub-district's is unknown here (`__init__`)
        if community is None and label in self.shared_names:
            codes = self.shared_names[label]
            reason = (
                f"有 {len(codes)} 个社区都叫“{label}”（{'、'.join(codes)}）：请填写社区编号。"
                f"community {label} is the name of {len(codes)} communities ({', '.join(codes)}): give its code"
            )
            report.refuse(row.line, "community", reason)
            return None
        if community is None and not report.create:
            report.refuse(row.line, "community", f"没有“{label}”这个社区：{_TYPO}unknown community {label}{_TYPO_EN}")
            return None
        owner = self.grid_codes.get(grid)
        named = self.grid_names.get(grid, {}).get(community) if community is not None else None
        if named is not None:
            return Place(community or "", named)
        if owner is not None and owner == community:
            return Place(owner, grid)
        if owner is not None:  # the code of a grid of another community (of the reach)
            reason = f"网格 {grid} 属于社区 {owner}，不属于“{label}”。"
            reason += f"grid {grid} belongs to community {owner}, not {label}"
            report.refuse(row.line, "grid", reason)
            return None
        if community is None:
            if not await self._know_subdistrict(row):
                return None
            mine = [c for c in self.community_names if self.subdistricts.get(c) == self.subdistrict]
            if not self._unlike(row, "community", "社区", label, {c: self.community_names[c] for c in mine}):
                return None
            new = _code_for(label, "c", self.community_codes_taken)
            return Place(new, _code_for(grid, f"{new}-g", self.grid_codes_taken), new_community=label, new_grid=grid)
        if not report.create:
            reason = f"社区“{label}”里没有“{grid}”这个网格：{_TYPO}unknown grid {grid} in community {label}{_TYPO_EN}"
            report.refuse(row.line, "grid", reason)
            return None
        names = {code: name for name, where in self.grid_names.items() for c, code in where.items() if c == community}
        if not self._unlike(row, "grid", "网格", grid, names):
            return None
        return Place(community, _code_for(grid, f"{community}-g", self.grid_codes_taken), new_grid=grid)

    def _unlike(self, row: Row, name: str, kind: str, label: str, known: dict[str, str]) -> bool:
        """Whether a new community or grid named `label` may be made beside `known` (code -> name): not when it is one
        character away from one of them, a likely typo, unless the import creates such ones; a warning names both."""
        close = next((other for code, other in known.items() if near(label, other) or near(label, code)), None)
        if close is None:
            return True
        made = "本次导入新建" if close in self.made_here else "已登记"
        said = f"新{kind}“{label}”与{made}的{kind}“{close}”只差一个字，是否写错？"
        english = f"new {'community' if name == 'community' else 'grid'} {label} is one character away from {close}"
        report = self.report
        if report.create_similar:
            warning = f"{said}已按要求新建。{english}: created as asked"
        else:
            warning = f"{said}这些行未导入，见下表。{english}: its rows are refused"
        if warning not in report.warnings:
            report.warnings.append(warning)
        if report.create_similar:
            return True
        report.refuse(row.line, name, f"{said}{_SIMILAR}{english}: a typo? (create_similar=1 creates it)")
        return False

    def _place_by_grid(self, row: Row, current: dict[str, Any] | None = None) -> Place | None:
        """A row naming no community: its grid's code, or a name only one community (within reach) has, or, for a
        shop registered in reach (`current`), a name several have: its own community's grid of that name."""
        report, grid = self.report, row.values["grid"]
        owner = self.grid_codes.get(grid)  # the grids in reach only (`__init__`)
        if owner is not None:
            return Place(owner, grid)
        ours = self.grid_names.get(grid, {})
        if len(ours) == 1:
            [(community, code)] = ours.items()
            return Place(community, code)
        home = str(current["community"]) if current is not None else ""
        if len(ours) > 1 and home in ours:
            return Place(home, ours[home])
        if len(ours) > 1 and current is not None and home in self.community_names:  # registered in reach
            shop, said, names = current["code"], self.community_names[home], [self.community_names[c] for c in ours]
            reason = (
                f"有 {len(ours)} 个社区都有网格“{grid}”（{'、'.join(names)}），店铺 {shop} 所在的“{said}”却没有："
                f"请改填“{said}”的网格，或在“社区”列写明店铺迁入的社区（也可填写网格编号）。"
                f"grid {grid} is in {len(ours)} communities ({', '.join(names)}), but not in {said}, the community of "
                f"shop {shop}: write a grid of {said}, or name the community the shop moves to in a 社区 column (or "
                "give the grid's code)"
            )
            report.refuse(row.line, "grid", reason)
        elif len(ours) > 1:
            names = [self.community_names.get(c, c) for c in ours]
            reason = (
                f"有 {len(ours)} 个社区都有网格“{grid}”（{'、'.join(names)}）：请在“社区”列写明社区，或填写网格编号。"
                f"grid {grid} is in {len(ours)} communities ({', '.join(names)}): "
                "name the community in a 社区 column, or give the grid's code"
            )
            report.refuse(row.line, "grid", reason)
        elif not report.create:
            report.refuse(row.line, "grid", f"没有“{grid}”这个网格：{_TYPO}unknown grid {grid}{_TYPO_EN}")
        else:
            reason = (
                f"要新建网格“{grid}”，须在“社区”列写明它属于哪个社区。"
                f"a community is needed to create the new grid {grid}: name it in a 社区 (community) column"
            )
            report.refuse(row.line, "community", reason)
        return None

    def _elsewhere(self, community: str | None) -> str | None:
        """The sub-district of `community` when the import is held to another one (`Report.within`)."""
        if self.report.within is None or community is None:
            return None
        found = self.subdistricts.get(community, self.report.within)
        return found if found != self.report.within else None

    async def _know_subdistrict(self, row: Row) -> bool:
        """The sub-district a new community goes to: the import's, else the registry's only one."""
        if self.subdistrict is None:
            try:
                self.subdistrict = await self.registry.only_subdistrict()
            except CouchError as e:  # no sub-district named yet, or several: the reason says which
                self.report.refuse(row.line, "community", f"无法新建社区。{e.reason}")
                return False
        return True

    async def _create(self, place: Place) -> None:
        """The new community and grid of a row that is taken (kept in memory only on a dry run)."""
        if place.new_community is not None:
            if not self.report.dry_run:
                await self.registry.save_community(place.community, place.new_community, self.subdistrict)
            self.communities[place.community] = self.communities[place.new_community] = place.community
            self.community_names[place.community] = place.new_community
            self.made_here.add(place.new_community)
            self.community_codes_taken.add(place.community)
            if self.subdistrict is not None:
                self.subdistricts[place.community] = self.subdistrict
            self.report.communities_created.append(place.new_community)
        if place.new_grid is not None:
            if not self.report.dry_run:
                await self.registry.put_grid(place.grid, place.new_grid, place.community, [], [])
            self._know_grid(place.grid, place.new_grid, place.community)
            self.made_here.add(place.new_grid)
            # By the community's name, as the survey and the screen name it (its code, c1, told the office nothing).
            community = self.community_names.get(place.community, place.community)
            self.report.grids_created.append(f"{community}/{place.new_grid}")

    async def _today(self) -> date:
        """Today in the rules' time zone (Asia/Shanghai), as the office's figures count days."""
        return R.day_of(datetime.now(UTC), await load_rules(self.registry.store))

    async def _write(self, plans: list[dict[str, Any]]) -> None:
        if any(plan["current"] is None for plan in plans):  # a district's first shops bring the phones' checklist
            await shipped_documents(self.registry.store)
        by_grid: dict[str, list[str]] = {}
        for plan in plans:
            shop, current = plan["shop"], plan["current"]
            if current is not None and current["grid"] != shop["grid"]:
                await self.registry.move_shop(shop["code"], shop["grid"])
                current = await self.registry.shop(shop["code"])
            if current is None:  # registered today: a period before today does not count it (`Shop.opened`)
                shop = {**shop, "opened": (await self._today()).isoformat()}
            if plan["given"]:
                shop = await self._add_given(shop, plan["line"])
            else:
                await self.registry.put_shop({**(current or {}), **shop})
            by_grid.setdefault(shop["grid"], []).append(shop["code"])
        for grid, codes in by_grid.items():
            await self.registry.add_to_grid(grid, codes)

    async def _add_given(self, shop: dict[str, Any], line: int) -> dict[str, Any]:
        """Write a new shop under the code it was given, which another import (or a clerk's hand) may have taken
        since it was planned: the write is then refused as a conflict, and the shop takes the next free code."""
        while not await self.registry.add_shop(shop):
            code = await self._new_code(line)
            self.first_line.pop(shop["code"], None)
            self.first_line[code] = line
            for entry in self.report.assigned:
                if entry["line"] == line:
                    entry["code"] = code
            shop = {**shop, "code": code}
        return shop


def row_contact(values: dict[str, str], current: dict[str, Any] | None) -> dict[str, Any] | None:
    """The row's contact: the person and the phone its cells give, an empty cell (or no such column) keeping what
    the shop registered (`current`) has; None when neither is known."""
    kept = (current or {}).get("contact") or {}
    phone = clean_phone(values.get("contact_phone", "").removeprefix("'"))  # Excel's text mark, as an export has it
    contact = {"name": values.get("contact_name") or kept.get("name"), "phone": phone or kept.get("phone")}
    return contact if contact["name"] or contact["phone"] else None


def kept_phone(row: Row, current: dict[str, Any] | None) -> str | None:
    """The warning for a row naming another person than the registered one with an empty phone cell: the phone
    registered is kept, and may be the person's of before."""
    kept = (current or {}).get("contact") or {}
    said = row.values.get("contact_name")
    if not said or not kept.get("name") or said == kept["name"] or not kept.get("phone"):
        return None
    if row.values.get("contact_phone"):
        return None
    return (
        f"第 {row.line} 行“{row.values['name']}”的负责人由“{kept['name']}”改为“{said}”，联系电话一格空着，"
        "沿用原登记的电话：请核对是否仍是这个号码。"
        f"line {row.line}: the contact person changes from {kept['name']} to {said} with an empty phone cell, so the "
        "phone registered is kept: check that it is still the number"
    )


def category_code(label: str) -> str | None:
    """The category code of a survey's word or of a code; None when it is neither."""
    if not label:
        return "other"
    if label in CATEGORIES:
        return CATEGORIES[label]
    if label.lower() in CATEGORY_CODES:
        return label.lower()
    return label if re.fullmatch(KEY, label) else None  # a code the office's templates may name


def unknown_category(label: str) -> str:
    """The reason the office's shop form refuses a category that is neither a survey word nor a code (Chinese
    first): one word of each category, not every word the import takes."""
    words = "、".join({code: word for word, code in reversed(CATEGORIES.items())}[code] for code in CATEGORY_CODES)
    codes = ", ".join(CATEGORY_CODES)
    return (
        f"不认识的类别“{label}”：请填写 {words} 之一（或类别代码 {codes}），不确定就填“其他”。"
        f"unknown category {label}: write a category such as 餐饮 or its code ({codes})"
    )


def other_category(line: int, name: str, label: str) -> str:
    """The warning for a row whose category is no category's word: the shop is imported as `other` (其他)."""
    return (
        f"第 {line} 行“{name}”的类别“{label}”不是已有的类别，已按“其他”导入；"
        "需要时可在“新增或修改店铺”中改为合适的类别。"
        f"line {line}: category {label} is not one of the categories, so the shop is imported as other (其他); "
        "change it under Add or edit a shop if one fits"
    )


def kept_category(line: int, name: str, label: str, category: str) -> str:
    """The warning for a row of a registered shop whose category is no category's word: the shop keeps its category,
    which the office may have chosen after the first import said 其他 (importing the survey again must not undo it)."""
    said = CATEGORY_NAME.get(category, category)
    return (
        f"第 {line} 行“{name}”的类别“{label}”不是已有的类别，该店保留原来的类别“{said}”。"
        f"line {line}: category {label} is not one of the categories, so the shop keeps its category {category}"
    )


def near(a: str, b: str) -> bool:
    """Whether two names are one typo apart: one character changed, added, dropped, or two neighbours swapped; not
    when the change is a character that tells places apart by design (`_ORDINALS`: 一网格 and 二网格, g1 and g10)."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diff) == 1:
            return not (a[diff[0]] in _ORDINALS and b[diff[0]] in _ORDINALS)
        return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]
    short, long = sorted((a, b), key=len)
    i = next((i for i in range(len(short)) if short[i] != long[i]), len(short))
    return short[i:] == long[i + 1 :] and len(short) > 1 and long[i] not in _ORDINALS


def _code_for(label: str, prefix: str, taken: set[str]) -> str:
    """A registry code for a new community or grid: the label itself when it is a valid code, else numbered."""
    if re.fullmatch(KEY, label) and label not in taken:
        return label
    n = 1
    while f"{prefix}{n}" in taken:
        n += 1
    return f"{prefix}{n}"
