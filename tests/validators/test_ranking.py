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


def test_on_the_first_of_january_every_shop_ties_and_no_list_names_anyone() -> None:
    ranked = rank_shops([_score(f"S{n:04d}", 100) for n in range(1, 41)], RULES)
    assert [entry["list"] for entry in ranked] == [None] * 40  # the shop code orders them, but lists no one


def test_a_tie_across_the_cut_leaves_the_tied_shops_off_the_list() -> None:
    # 40 shops: 10 a list. The 9 best stand alone; the 10th and 11th tie (115, no open hazard): neither is red.
    # At the bottom the 10th and 11th from last tie on points but not on open hazards: the order decides.
    scores = [_score(f"S{n:04d}", 130 - n) for n in range(1, 10)]
    scores += [_score("S0010", 115), _score("S0011", 115)]
    scores += [_score(f"S{n:04d}", 110) for n in range(12, 30)]
    scores += [_score("S0030", 100, 0), _score("S0031", 100, 1)] + [_score(f"S{n:04d}", 90 - n) for n in range(32, 41)]
    ranked = {entry["shop"]: entry["list"] for entry in rank_shops(scores, RULES)}
    assert [shop for shop, listed in ranked.items() if listed == "red"] == [f"S{n:04d}" for n in range(1, 10)]
    assert ranked["S0010"] is ranked["S0011"] is None
    assert [shop for shop, listed in ranked.items() if listed == "black"] == [f"S{n:04d}" for n in range(31, 41)]
