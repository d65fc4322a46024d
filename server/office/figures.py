"""The dashboard's headline figures, by scope (sub-district, community, grid) and period, beside last year's.

Counts come from the validators' own `figures` over the shops' `ShopFacts` (the function that fills the stored
`office:stats:*` documents), so the office's figures and the statistics can never be computed two ways. Rates
are shares 0..1 of counts (null when there is nothing to divide by):
- self-check coverage: active shops with at least one self-check in the ISO week / active shops;
- patrol coverage: active shops with at least one patrol in the calendar month / active shops;
- rectification rate: hazards due in the period verified rectified by their deadline / hazards due in it (one due
  today and still open is not due yet: the day is not over).
Open alarms and overdue hazards are counted at the period's as-of day. Last year's periods are counted to the
same point (`same_span`): a week or month still running is set against as many days of last year's, so the
first days of a month do not look like a collapse against a whole month.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Final

from server.errors import bad_request, unknown_in
from server.office.facts import ShopState, View
from server.validators.district import month_of, shift_month
from server.validators.stats import ShopFacts, figures, period_bounds, same_span

MAX_TREND_MONTHS: Final = 36
GROUPS: Final = ("community", "grid")


@dataclass(frozen=True)
class Scope:
    subdistrict: str | None = None
    community: str | None = None
    grid: str | None = None

    def shops(self, view: View) -> list[ShopFacts]:
        """The shops of this scope a period's figures may count (`View.counted`: each for the periods it was open)."""
        return [shop.facts for shop in view.counted() if self.holds(view, shop)]

    def registered(self, view: View) -> int:
        """The shops of this scope in the registry, open or closed: none before a sub-district's first import."""
        return sum(1 for shop in view.shops.values() if shop.doc is not None and self.holds(view, shop))

    def holds(self, view: View, shop: ShopState) -> bool:
        if self.subdistrict and view.subdistrict_of(shop) != self.subdistrict:
            return False
        if self.community and shop.facts.community != self.community:
            return False
        return not (self.grid and shop.facts.grid != self.grid)


def scope_of(view: View, params: dict[str, str]) -> Scope:
    """The scope of `?subdistrict=&community=&grid=`; unknown codes are a 400."""
    subdistrict, community, grid = (params.get(name) or None for name in ("subdistrict", "community", "grid"))
    if subdistrict and subdistrict not in view.subdistricts():
        raise unknown_in("subdistrict", "subdistrict", subdistrict)
    if community and community not in view.communities:
        raise unknown_in("community", "community", community)
    if grid and grid not in view.grids:
        raise unknown_in("grid", "grid", grid)
    return Scope(subdistrict, community, grid)


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def headline(
    shops: Sequence[ShopFacts], week: tuple[date, date] | None, month: tuple[date, date], today: date | None = None
) -> dict[str, Any]:
    """The seven figures of issue 6 for these shops, the week and month each counted up to its end (`today`: the
    periods run to today, a day not over yet)."""
    m = figures(shops, *month, today)
    w = figures(shops, *week, today) if week else None
    return {
        "shops_active": m["active_shops"],
        "self_check_coverage_week": _share(w["self_checked_shops"], w["active_shops"]) if w else None,
        "patrol_coverage_month": _share(m["patrolled_shops"], m["active_shops"]),
        "hazards_found_month": m["hazards_found"],
        "rectification_rate": _share(m["hazards_rectified_in_time"], m["hazards_due"]),
        "open_alarms": m["open_alarms"],
        "overdue_hazards": m["overdue_hazards"],
        "counts": {"week": w, "month": m},
    }


def periods(today: date) -> dict[str, Any]:
    """This ISO week and month and the same ones last year (no week 53 last year: null), and the day each of
    last year's is counted to."""
    iso_year, week, _ = today.isocalendar()
    month = month_of(today)
    this_week = f"{iso_year}-W{week:02d}"
    try:
        date.fromisocalendar(iso_year - 1, week, 1)
        last_week: str | None = f"{iso_year - 1}-W{week:02d}"
    except ValueError:
        last_week = None
    last_month = shift_month(month, -12)
    return {
        "week": this_week,
        "month": month,
        "last_year_week": last_week,
        "last_year_month": last_month,
        "last_year_week_to": same_span(this_week, last_week, today)[1].isoformat() if last_week else None,
        "last_year_month_to": same_span(month, last_month, today)[1].isoformat(),
    }


def _to(bounds: tuple[date, date], today: date) -> tuple[date, date]:
    return bounds[0], min(bounds[1], today)


def summary(view: View, shops: Sequence[ShopFacts]) -> dict[str, Any]:
    today = view.today()
    p = periods(today)
    current = headline(shops, _to(period_bounds(p["week"]), today), _to(period_bounds(p["month"]), today), today)
    last_week = same_span(p["week"], p["last_year_week"], today) if p["last_year_week"] else None
    last = headline(shops, last_week, same_span(p["month"], p["last_year_month"], today))
    return {**current, "as_of": today.isoformat(), "periods": p, "last_year": last}


def breakdown(view: View, scope: Scope, by: str) -> list[dict[str, Any]]:
    """The summary of each community (or grid) inside `scope`, with its name."""
    if by not in GROUPS:
        raise bad_request(f"by: one of {', '.join(GROUPS)}")
    registry = view.communities if by == "community" else view.grids
    groups: dict[str, list[ShopFacts]] = {}
    for shop in view.counted():
        key = shop.facts.community if by == "community" else shop.facts.grid
        if key and scope.holds(view, shop):
            groups.setdefault(key, []).append(shop.facts)
    return [
        {"id": key, "name": registry.get(key, {}).get("name", key), **summary(view, group)}
        for key, group in sorted(groups.items())
    ]


def trend(view: View, shops: Sequence[ShopFacts], months: int) -> list[dict[str, Any]]:
    """One row per month, oldest first, the current month last (counted to today). A month's self-check coverage
    is the mean of its ISO weeks' coverage (the weeks whose Monday falls in it, up to today)."""
    if not 1 <= months <= MAX_TREND_MONTHS:
        raise bad_request(f"months: between 1 and {MAX_TREND_MONTHS}")
    today = view.today()
    current = month_of(today)
    checked_weeks = [{day - timedelta(days=day.weekday()) for day in shop.self_checks} for shop in shops]
    rows = []
    for back in range(months - 1, -1, -1):
        month = shift_month(current, -back)
        start, end = _to(period_bounds(month), today)
        m = figures(shops, start, end, today)
        weekly = []
        for monday in _mondays(start, end):
            open_then = [i for i, shop in enumerate(shops) if shop.open_on(min(monday + timedelta(days=6), end))]
            weekly.append(_share(sum(1 for i in open_then if monday in checked_weeks[i]), len(open_then)))
        known = [share for share in weekly if share is not None]
        rows.append(
            {
                "month": month,
                "as_of": end.isoformat(),
                "shops_active": m["active_shops"],
                "patrol_rate": _share(m["patrolled_shops"], m["active_shops"]),
                "hazards_found": m["hazards_found"],
                "rectification_rate": _share(m["hazards_rectified_in_time"], m["hazards_due"]),
                "self_check_coverage": sum(known) / len(known) if known else None,
                "counts": m,
            }
        )
    return rows


def _mondays(start: date, end: date) -> list[date]:
    first = start + timedelta(days=(7 - start.weekday()) % 7)
    return [first + timedelta(weeks=n) for n in range((end - first).days // 7 + 1)] if first <= end else []
