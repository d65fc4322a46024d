"""What a phone's pull brings, with the PWA's own `_changes` selector (`pwa/src/sync-config.ts` PULL_SELECTOR), on
both backends and within a grid worker's scope: the documents of its shops but no photos and no points ledger (read
by the office's screens only), and every deletion, though a deletion stub keeps no `type` for a selector to match
(a hazard the server deleted, merged into an older one, must leave the phones)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.api.conftest import World, open_world
from tests.backends import BACKENDS, store_settings
from tests.gateway import ROOT


def pull_selector() -> Any:
    """PULL_SELECTOR as the PWA sends it (its object literal, read as JSON)."""
    source = (ROOT / "pwa" / "src" / "sync-config.ts").read_text(encoding="utf-8")
    found = re.search(r"export const PULL_SELECTOR = (\{.*?\});\n", source, re.S)
    assert found, "PULL_SELECTOR is no longer a literal in sync-config.ts: read it here some other way"
    literal = re.sub(r"([{,]\s*)(\$?\w+):", r'\1"\2":', found[1]).replace("'", '"')
    return json.loads(literal)


@pytest.fixture(params=BACKENDS)
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    with (
        store_settings(request, request.param) as settings,
        open_world(tmp_path, run_validators=False, **settings) as w,
    ):
        yield w


def changes(world: World, headers: dict[str, str], since: Any = 0) -> tuple[dict[str, bool], Any]:
    answer = world.client.post(
        "/sync/_changes",
        params={"filter": "_selector", "since": since},
        json={"selector": pull_selector()},
        headers=headers,
    )
    assert answer.status_code == 200, answer.text
    feed = answer.json()
    return {row["id"]: bool(row.get("deleted")) for row in feed["results"]}, feed["last_seq"]


def test_a_grid_workers_pull_brings_deletions_and_no_ledger_or_photo(world: World) -> None:
    admin, zhou = world.admin(), world.login("zhou", "zhou-password")
    docs = {
        "S0001:hazard:01JDX0000000000000000000AB-open_flame": {"type": "hazard", "shop": "S0001", "status": "open"},
        "S0001:ledger:01JDX0000000000000000000AB:hazard": {"type": "ledger", "shop": "S0001", "points": -10},
        "S0001:photo:01JDX0000000000000000000AC": {"type": "photo", "shop": "S0001"},
        "S0003:hazard:01JDX0000000000000000000AD-gas_safe": {"type": "hazard", "shop": "S0003", "status": "open"},
    }
    revs = {}
    for doc_id, body in docs.items():
        answer = world.client.put(f"/sync/{doc_id}", json=body, headers=admin)
        assert answer.status_code == 201, answer.text
        revs[doc_id] = answer.json()["rev"]
    hazard, ledger = (
        "S0001:hazard:01JDX0000000000000000000AB-open_flame",
        "S0001:ledger:01JDX0000000000000000000AB:hazard",
    )
    seen, last = changes(world, zhou)
    assert {i for i in seen if ":shop:" not in i} == {hazard}  # and the shop documents; S0003 is li's shop

    for doc_id in (hazard, ledger):  # what the server does to a merged hazard and its ledger entry
        assert world.client.delete(f"/sync/{doc_id}", params={"rev": revs[doc_id]}, headers=admin).status_code == 200
    seen, _ = changes(world, zhou, last)
    assert seen == {hazard: True, ledger: True}  # the deletions, a ledger entry's too (a stub of a few bytes)
