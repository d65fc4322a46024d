"""The ranking rule: a sub-district's active shops by score, with the red list at the top and the black list at
the bottom. `rank_shops` is the pure part of the monthly snapshot (`office:ranking:{subdistrict}:{YYYY-MM}`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from server.models.rules import Rules
from server.validators import rules as R


def rank_shops(scores: Iterable[Mapping[str, Any]], rules: Rules) -> list[dict[str, Any]]:
    """Rank entries (`shop`, `points`, `rank`, `open_hazards`, `list`) for the score documents of the active shops
    of one sub-district: most points first; ties go to fewer open hazards, then to the lower shop code, so every
    shop has its own rank. The top `list_share_percent` % are red-listed and the bottom as many black-listed, at
    least `list_min_shops` each but never more than half of the shops (see `rules.list_size`).

    A list never splits shops tied on points and open hazards: the shop code orders them, but it says nothing
    about a shop, and two shops with the same record must not be one on the (public) black list and one not.
    When the cut falls inside such a tie, the tied shops on the list's side of it are left off, so the list is
    shorter than its size: on 1 January, when every shop starts the year at the same points, neither list names
    anyone until the scores differ."""
    ordered = sorted(scores, key=_order)
    size = R.list_size(rules, len(ordered))
    red = _listed(ordered, size)
    black = {len(ordered) - 1 - i for i in _listed(ordered[::-1], size)}
    # Plain dicts in `RankEntry`'s order, as its `model_dump` writes them: the snapshot they go in validates every
    # entry as a `RankEntry` (`district.ranking_doc`), and validating each here as well cost half of its time.
    return [
        {
            "shop": score["shop"],
            "points": score["points"],
            "rank": index + 1,
            "open_hazards": score["open_hazards"],
            "list": "red" if index in red else "black" if index in black else None,
        }
        for index, score in enumerate(ordered)
    ]


def _order(score: Mapping[str, Any]) -> tuple[int, int, str]:
    return -int(score["points"]), int(score["open_hazards"]), str(score["shop"])


def _record(score: Mapping[str, Any]) -> tuple[int, int]:
    return int(score["points"]), int(score["open_hazards"])


def _listed(ordered: Sequence[Mapping[str, Any]], size: int) -> set[int]:
    """The indexes of the first `size` shops of `ordered`, less those tied with the first shop left off."""
    if size >= len(ordered):
        return set(range(len(ordered)))
    first_off = _record(ordered[size])
    return {i for i in range(size) if _record(ordered[i]) != first_off}
