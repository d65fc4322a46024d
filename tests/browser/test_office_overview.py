"""The overview in a real Chromium shows the figures a test recomputes on its own from the raw documents (read
with the operator token through /sync/_all_docs): active shops, this week's self-check coverage, this month's patrol
coverage, hazards found this month, the rectification rate, open alarms and overdue hazards, each beside the same
period last year, and the active shops of each community."""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tests.browser.office import office_page
from tests.gateway import Gateway

SHANGHAI = ZoneInfo("Asia/Shanghai")
Doc = dict[str, Any]


def day(value: Any) -> date | None:
    return datetime.fromisoformat(value).astimezone(SHANGHAI).date() if isinstance(value, str) else None


def status_on(doc: Doc, end: date) -> str | None:
    """A hazard's or alarm's status at the end of `end` (None before it appeared)."""
    since = day(doc.get("found_at") or doc.get("created_at"))
    if since is None or since > end:
        return None
    status = None
    for step in doc.get("history", []):
        stepped = day(step["at"])
        if stepped is not None and stepped <= end:
            status = step["status"]
    return status


def rectified_in_time(doc: Doc, end: date) -> bool:
    """Verified rectified (closed) by the end of the period, and never overdue: fixed by its deadline."""
    seen = [s["status"] for s in doc.get("history", []) if (d := day(s["at"])) is not None and d <= end]
    return bool(seen) and seen[-1] == "closed" and "overdue" not in seen


def share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def recompute(docs: list[Doc], week: tuple[date, date], month: tuple[date, date]) -> dict[str, Any]:
    active = {d["code"] for d in docs if d.get("type") == "shop" and d.get("status") == "active"}
    mine = [d for d in docs if d.get("shop") in active and not d.get("_deleted")]

    def checked(kind: str, start: date, end: date) -> int:
        return len({d["shop"] for d in mine if d["type"] == kind and start <= (day(d["performed_at"]) or start) <= end})

    hazards = [d for d in mine if d["type"] == "hazard"]
    alarms = [d for d in mine if d["type"] == "alarm"]
    start, end = month
    due = [h for h in hazards if start <= date.fromisoformat(h["deadline"]) <= end]
    return {
        "shops_active": len(active),
        "self_check_coverage_week": share(checked("self_check", *week), len(active)),
        "patrol_coverage_month": share(checked("patrol", *month), len(active)),
        "hazards_found_month": sum(1 for h in hazards if start <= (day(h["found_at"]) or start) <= end),
        "rectification_rate": share(sum(1 for h in due if rectified_in_time(h, end)), len(due)),
        "open_alarms": sum(1 for a in alarms if status_on(a, end) not in (None, "resolved")),
        "overdue_hazards": sum(1 for h in hazards if status_on(h, end) == "overdue"),
    }


def month_bounds(year: int, month: int) -> tuple[date, date]:
    following = date(year + month // 12, month % 12 + 1, 1)
    return date(year, month, 1), following - timedelta(days=1)


def all_docs(gateway: Gateway) -> tuple[list[Doc], Any]:
    with gateway.client() as client:
        seq = client.get("/sync/").json()["update_seq"]
        rows = client.get("/sync/_all_docs", params={"include_docs": "true"}).json()["rows"]
    return [row["doc"] for row in rows if row.get("doc")], seq


def settled(gateway: Gateway) -> tuple[list[Doc], Any]:
    """The documents once the validators have caught up (the store's sequence stopped moving)."""
    seq = all_docs(gateway)[1]
    while True:
        time.sleep(2.0)
        docs, now = all_docs(gateway)
        if now == seq:
            return docs, now
        seq = now


def shown(value: float | int | None, rate: bool) -> str:
    if value is None:
        return "—"
    return f"{round(value * 1000) / 10:.1f}%" if rate else str(value)


def test_the_overview_shows_the_figures_recomputed_from_raw_documents(
    gateway: Gateway, browser: Any, logins: dict[str, Any]
) -> None:
    docs, _ = settled(gateway)
    today = datetime.now(SHANGHAI).date()
    monday = today - timedelta(days=today.weekday())
    iso_year, iso_week, _ = today.isocalendar()
    last_monday = date.fromisocalendar(iso_year - 1, iso_week, 1)
    expected = recompute(docs, (monday, today), (today.replace(day=1), today))
    last_year = recompute(
        docs, (last_monday, last_monday + timedelta(days=6)), month_bounds(today.year - 1, today.month)
    )
    assert expected["shops_active"] == 30 and expected["patrol_coverage_month"] is not None

    page = office_page(browser, gateway, logins, "/office")
    page.wait_for_selector("[data-figure=shops_active][data-value]")
    for key, value in expected.items():
        card = page.locator(f"[data-figure={key}]")
        rate = key in ("self_check_coverage_week", "patrol_coverage_month", "rectification_rate")
        for attr, want in (("data-value", value), ("data-last-year", last_year[key])):
            got = card.get_attribute(attr)
            if want is None:
                assert got == "", (key, attr, got)
            else:
                assert got is not None and abs(float(got) - want) < 1e-9, (key, attr, got, want)
        assert card.locator(".big").inner_text() == shown(value, rate), key

    # By community: each community's active shops.
    communities = {d["code"]: d["name"] for d in docs if d.get("type") == "community"}
    per_community: dict[str, int] = {}
    for d in docs:
        if d.get("type") == "shop" and d.get("status") == "active":
            per_community[communities[d["community"]]] = per_community.get(communities[d["community"]], 0) + 1
    table = page.locator("[data-breakdown=community]")
    for name, count in per_community.items():
        cells = table.locator("tr", has_text=name).locator("td").all_inner_texts()
        assert cells[:2] == [name, str(count)], cells
    # Two charts of the 13-month trend, drawn as inline SVG.
    assert page.locator(".trend-box svg.line-chart").count() == 2
    assert page.locator(".trend-box svg.line-chart polyline").count() >= 1
    # Nothing the figures depend on changed while the page was read.
    assert recompute(all_docs(gateway)[0], (monday, today), (today.replace(day=1), today)) == expected
    page.context.close()


def test_the_overview_says_when_its_figures_are_being_recomputed_and_follows(
    gateway: Gateway, browser: Any, logins: dict[str, Any]
) -> None:
    """Right after a change of rules the server answers the summary from the figures it holds, marked `recomputing`
    (tests/api/test_office_rules_change.py), while the validators project every shop under the new rules. The page
    says so and asks again every few seconds until the figures are done. A 30-shop demo is recomputed faster than a
    page loads, so the first two answers the page gets are marked here; everything else is the real server's."""
    settled(gateway)
    marked: list[bool] = []

    def summary(route: Any) -> None:
        answer = route.fetch()
        body = answer.json()
        body["recomputing"] = len(marked) < 2
        marked.append(body["recomputing"])
        route.fulfill(response=answer, json=body)

    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    context.route("**/api/office/summary*", summary)
    page = context.new_page()
    office = logins["office"][0]
    page.goto(f"{gateway.url}/office")
    page.fill("[data-form=office-signin] input[name=username]", office["username"])
    page.fill("[data-form=office-signin] input[name=password]", office["password"])
    page.click("[data-form=office-signin] button[type=submit]")
    notice = page.locator("[data-notice=recomputing]")
    notice.wait_for()
    assert "正在按新规则重新计算" in notice.inner_text()
    assert page.locator("[data-figure=shops_active]").get_attribute("data-value") == "30"
    # Asked again by itself, still marked, then done: the notice goes, the figures stay.
    notice.wait_for(state="detached", timeout=60_000)
    assert marked == [True, True, False]
    assert page.locator("[data-figure=shops_active]").get_attribute("data-value") == "30"
    page.wait_for_timeout(4000)  # and it stops asking once the figures are done
    assert len(marked) == 3
    context.close()
