"""The sub-district pass's shortcuts keep its answers: a snapshot's entries are still validated (once, with the
snapshot), the past scores a rebuild already has are taken in the shops' order beside those read again, and a
group's figures are the sums of its shops' counts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from types import SimpleNamespace
from typing import Any

import pytest
from pydantic import ValidationError

from server.validators import district
from server.validators.district import ranking_doc
from server.validators.stats import ShopFacts, Tracked, figures
from tests.validators.builders import RULES

DAYS = [date(2026, 9, 30), date(2026, 10, 31)]


def _score(shop: str, points: Any, open_hazards: Any = 0) -> dict[str, Any]:
    return {"shop": shop, "points": points, "open_hazards": open_hazards}


@pytest.mark.parametrize("bad", [_score("S0002", "90"), _score("S0002", 90, -1), _score("not a code!", 90)])
def test_a_snapshot_still_refuses_an_entry_its_model_refuses(bad: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        ranking_doc("xixi", "2026-11", date(2026, 11, 30), RULES, [_score("S0001", 100), bad], {})


async def test_known_past_scores_and_those_read_again_come_in_the_shops_order(monkeypatch: pytest.MonkeyPatch) -> None:
    read: list[str] = []

    async def scores_as_of(store: object, code: str, context: object, days: Sequence[date]) -> list[Any]:
        read.append(code)
        return [None, _score(code, 7)]  # no score on the first day (not open yet)

    monkeypatch.setattr(district, "scores_as_of", scores_as_of)
    known = {
        "S0001": {DAYS[0]: _score("S0001", 1), DAYS[1]: _score("S0001", 2)},
        "S0003": {DAYS[0]: None, DAYS[1]: _score("S0003", 4)},
        "S0004": {DAYS[1]: _score("S0004", 5)},  # one day missing: read again
    }
    store = SimpleNamespace(parallel_reads=2)
    codes = ["S0001", "S0002", "S0003", "S0004"]
    past = await district._scores_as_of(store, SimpleNamespace(), codes, DAYS, known)  # type: ignore[arg-type]
    assert sorted(read) == ["S0002", "S0004"]
    assert past == [
        [_score("S0001", 1)],
        [_score("S0001", 2), _score("S0002", 7), _score("S0003", 4), _score("S0004", 7)],
    ]


def _shop(code: str, checks: tuple[date, ...], hazards: tuple[Tracked, ...] = ()) -> ShopFacts:
    return ShopFacts(code, True, "wensan", "wensan-01", checks, (), hazards, ())


def test_a_groups_figures_are_its_shops_counts_summed() -> None:
    overdue = Tracked("h1", date(2026, 3, 2), ((date(2026, 3, 2), "open"), (date(2026, 3, 6), "overdue")))
    shops = [
        _shop("S0001", (date(2026, 3, 2), date(2026, 3, 9))),
        _shop("S0002", (date(2026, 2, 27),), (overdue,)),
        _shop("S0003", ()),
    ]
    counts = figures(shops, date(2026, 3, 1), date(2026, 3, 31))
    assert counts["active_shops"] == 3
    assert (counts["self_checks"], counts["self_checked_shops"]) == (2, 1)
    assert (counts["hazards_found"], counts["overdue_hazards"], counts["hazards_rectified"]) == (1, 1, 0)
    assert figures([], date(2026, 3, 1), date(2026, 3, 31)) == dict.fromkeys(counts, 0)
