"""The ranking rule: by points, ties to fewer open hazards then the shop code; red and black lists of 5 %, at
least 10 shops each, never overlapping."""

from __future__ import annotations

from typing import Any

import pytest

from server.validators.ranking import rank_shops
from tests.validators.builders import RULES


def _score(shop: str, points: int, open_hazards: int = 0) -> dict[str, Any]:
    return {"_id": f"{shop}:score", "type": "score", "shop": shop, "points": points, "open_hazards": open_hazards}


def test_ties_go_to_fewer_open_hazards_then_the_shop_code() -> None:
    scores = [_score("S3", 100, 1), _score("S2", 100, 0), _score("S1", 100, 1), _score("S9", 120, 5)]
    ranked = rank_shops(scores, RULES)
    assert [(entry["shop"], entry["rank"]) for entry in ranked] == [("S9", 1), ("S2", 2), ("S1", 3), ("S3", 4)]
    assert ranked[0] == {"shop": "S9", "points": 120, "rank": 1, "open_hazards": 5, "list": "red"}  # 4 shops: 2 each


@pytest.mark.parametrize(
    ("shops", "listed"),
    [(1523, 76), (400, 20), (30, 10), (20, 10), (15, 7), (1, 0), (0, 0)],
)
def test_list_sizes(shops: int, listed: int) -> None:
    ranked = rank_shops([_score(f"S{n:05d}", n) for n in range(shops)], RULES)
    red = [entry["shop"] for entry in ranked if entry["list"] == "red"]
    black = [entry["shop"] for entry in ranked if entry["list"] == "black"]
    assert len(red) == len(black) == listed
    assert red == [entry["shop"] for entry in ranked[:listed]]
    assert black == [entry["shop"] for entry in ranked[len(ranked) - listed :]]
