"""Exports (`/api/office/exports/{shops|checks|hazards|rankings}.{csv|xlsx}`) and the printable monthly report
(`/api/office/reports/{YYYY-MM}.html`), office only."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Final

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response, StreamingResponse
from starlette.routing import Route

from server.api.common import registry_of
from server.api.dashboard import reached
from server.errors import CouchError, bad_request, not_found
from server.exports import (
    Table,
    by_community,
    checks_table,
    csv_chunks,
    hazards_table,
    last_year_figures,
    month_figures,
    rankings_table,
    report_html,
    shops_table,
    xlsx_bytes,
    xlsx_rows,
)
from server.http import accepts_gzip, gzip_stream, gzipped
from server.office import rankings
from server.store.protocol import Store
from server.validators.district import month_of

KINDS: Final = ("shops", "checks", "hazards", "rankings")
XLSX_TYPE: Final = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
REPORT_CSP: Final = "default-src 'none'; style-src 'unsafe-inline'"
FIRST_REPORT: Final = "2000-01"  # the earliest month a report is made of (it is compared with the year before)


def _day(request: Request, name: str) -> date | None:
    raw = request.query_params.get(name)
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise bad_request(f"{name}: a day such as 2026-11-28") from None


async def export(request: Request) -> Response:
    """`GET /api/office/exports/{kind}.{fmt}?from=&to=&month=&subdistrict=`: shops, checks, hazards or rankings as
    CSV or XLSX; from/to (days) filter checks and hazards, month picks the ranking (default: this month)."""
    reach, view = await reached(request)
    kind, fmt = request.path_params["kind"], request.path_params["fmt"]
    if kind not in KINDS or fmt not in ("csv", "xlsx"):
        raise not_found(f"No export {kind}.{fmt}: one of {', '.join(KINDS)} as .csv or .xlsx")
    store: Store = request.app.state.store
    start, end = _day(request, "from"), _day(request, "to")
    if start is not None and end is not None and start > end:
        raise bad_request(
            f"开始日期 {start} 晚于结束日期 {end}：请先选开始日期，再选结束日期。"
            f"from ({start}) is after to ({end}): the days are the first and the last to export"
        )
    table: Table
    if kind == "shops":
        table = shops_table(view)
    elif kind == "checks":
        table = checks_table(store, view, start, end)
    elif kind == "hazards":
        table = hazards_table(store, view, start, end)
    else:
        subdistrict = rankings.subdistrict_of(view, reach.subdistrict_param(request.query_params.get("subdistrict")))
        month = rankings.month_param(view, request.query_params.get("month"))
        table = rankings_table(await rankings.ranking(store, view, subdistrict, month))
    filename = f"mashang-{table.name}.{fmt}"
    headers = {"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"}
    if fmt == "csv":  # a year of a sub-district's checks is ~8 MB, ~1.8 MB gzipped
        chunks = csv_chunks(table)
        if accepts_gzip(request):
            chunks = gzip_stream(chunks)
            headers |= {"Content-Encoding": "gzip", "Vary": "Accept-Encoding"}
        return StreamingResponse(chunks, media_type="text/csv; charset=utf-8", headers=headers)
    rows = await xlsx_rows(table)
    body = await asyncio.to_thread(xlsx_bytes, table.name, rows)
    return Response(body, media_type=XLSX_TYPE, headers=headers)


async def report(request: Request) -> Response:
    """`GET /api/office/reports/{month}.html?subdistrict=`: the printable monthly report: the month's figures beside
    the same month last year, its red and black lists, hazards by community."""
    reach, view = await reached(request)
    month = request.path_params["month"]
    if not rankings.MONTH.fullmatch(month):
        raise bad_request("month: a month such as 2026-11")
    store: Store = request.app.state.store
    today = view.today()
    if month > month_of(today):
        raise bad_request(f"month: 月份 {month} 还没有到，不能生成月报。{month} has not begun")
    if month < FIRST_REPORT:  # 0000-01 and 0001-01 were a 500: the same month a year before is no date
        raise bad_request(f"月报的月份不能早于 {FIRST_REPORT}。month: {FIRST_REPORT} or later")
    subdistrict = rankings.subdistrict_of(view, reach.subdistrict_param(request.query_params.get("subdistrict")))
    active = [shop.facts for shop in view.counted() if view.subdistrict_of(shop) == subdistrict]
    try:
        ranking = await rankings.ranking(store, view, subdistrict, month)
    except CouchError as e:
        if e.status != 404:
            raise
        ranking = None
    html = report_html(
        await registry_of(request).subdistrict_name(subdistrict),
        month,
        today,
        month_figures(active, month, today),
        last_year_figures(active, month, today),
        by_community(view, subdistrict, month, today),
        ranking,
    )
    body, headers = gzipped(
        request, html.encode("utf-8"), {"Content-Security-Policy": REPORT_CSP, "Cache-Control": "no-store"}
    )
    return HTMLResponse(body, headers=headers)


routes = [
    Route("/api/office/exports/{kind}.{fmt}", export, methods=["GET"]),
    Route("/api/office/reports/{month}.html", report, methods=["GET"]),
]
