"""The ranking rule: a sub-district's active shops by score, with the red list at the top and the black list at
the bottom. `rank_shops` is the pure part of the monthly snapshot (`office:ranking:{subdistrict}:{YYYY-MM}`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from server.models.projections import RankEntry
from server.models.rules import Rules
from server.validators import rules as R


def rank_shops(scores: Iterable[Mapping[str, Any]], rules: Rules) -> list[dict[str, Any]]:
    """Rank entries (`shop`, `points`, `rank`, `open_hazards`, `list`) for the score documents of the active shops
    of one sub-district: most points first; ties go to fewer open hazards, then to the lower shop code, so every
    shop has its own rank. The top `list_share_percent` % are red-listed and the bottom as many black-listed, at
    least `list_min_shops` each but never more than half of the shops (see `rules.list_size`)."""
    ordered = sorted(scores, key=lambda score: (-int(score["points"]), int(score["open_hazards"]), str(score["shop"])))
    size = R.list_size(rules, len(ordered))
    entries = []
    for index, score in enumerate(ordered):
        listed = "red" if index < size else "black" if index >= len(ordered) - size else None
        entry = RankEntry.model_validate(
            {
                "shop": score["shop"],
                "points": score["points"],
                "rank": index + 1,
                "open_hazards": score["open_hazards"],
                "list": listed,
            }
        )
        entries.append(entry.model_dump(mode="json"))
    return entries
