"""What one change of the feed asks of the follower, told from its id."""

from __future__ import annotations

import pytest

from server.validators.feed import Change, classify


@pytest.mark.parametrize(
    ("doc_id", "expected"),
    [
        ("S0001:patrol:01J0000000000000000000000A", Change(shop="S0001")),
        ("S0001:alarm:01J0000000000000000000000A", Change(alarm=None)),
        ("S0001:score", Change()),
        ("district:rules", Change(everything=True)),
        ("office:ranking:minglou:2026-11", Change()),
        ("registry:grid:g1", Change(district=True)),  # a shop moved: the sub-district pass runs
        ("registry:community:wensan", Change(district=True)),
        ("registry:subdistrict:minglou", Change()),  # a name: rankings go by code
        ("registry:import:01J0000000000000000000000A", Change()),  # an import's report, written every chunk
        ("registry:import_rows:01J0000000000000000000000A", Change()),
        ("accounts:user:grid:zhou", Change()),
        ("_design/x", Change()),
    ],
)
def test_a_change_asks_for_what_its_id_says(doc_id: str, expected: Change) -> None:
    assert classify({"id": doc_id}) == expected
