"""What a phone's pull brings, with the PWA's own `_changes` selectors (`pwa/src/sync-config.ts`), on both backends:
a grid worker's (PULL_SELECTOR), within its scope, the documents of its shops but no photos and no points ledger
(dozens of shops' worth, which its screens do not read); an owner's (OWNER_PULL_SELECTOR), its one shop's documents
with the ledger (the home's 积分明细) and still no photos; and for both every deletion, though a deletion stub keeps
no `type` for a selector to match (a hazard the server deleted, merged into an older one, must leave the phones)."""

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


def pull_selector(name: str = "PULL_SELECTOR") -> Any:
    """A pull selector as the PWA sends it (its object literal in sync-config.ts, read as JSON)."""
    source = (ROOT / "pwa" / "src" / "sync-config.ts").read_text(encoding="utf-8")
    found = re.search(rf"export const {name} = (\{{.*?\}});\n", source, re.S)
    assert found, f"{name} is no longer a literal in sync-config.ts: read it here some other way"
    literal = re.sub(r"([{,]\s*)(\$?\w+):", r'\1"\2":', found[1]).replace("'", '"')
    return json.loads(literal)


@pytest.fixture(params=BACKENDS)
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    with (
        store_settings(request, request.param) as settings,
        open_world(tmp_path, run_validators=False, **settings) as w,
    ):
        yield w


def changes(
    world: World, headers: dict[str, str], since: Any = 0, selector: str = "PULL_SELECTOR"
) -> tuple[dict[str, bool], Any]:
    answer = world.client.post(
        "/sync/_changes",
        params={"filter": "_selector", "since": since},
        json={"selector": pull_selector(selector)},
        headers=headers,
    )
    assert answer.status_code == 200, answer.text
    feed = answer.json()
    return {row["id"]: bool(row.get("deleted")) for row in feed["results"]}, feed["last_seq"]


def _put_all(world: World, admin: dict[str, str], docs: dict[str, dict[str, Any]]) -> dict[str, str]:
    """Write `docs` with the operator's token; answers their revisions."""
    revs = {}
    for doc_id, body in docs.items():
        answer = world.client.put(f"/sync/{doc_id}", json=body, headers=admin)
        assert answer.status_code == 201, answer.text
        revs[doc_id] = answer.json()["rev"]
    return revs


def test_a_grid_workers_pull_brings_deletions_and_no_ledger_or_photo(world: World) -> None:
    admin, zhou = world.admin(), world.login("zhou", "zhou-password")
    docs = {
        "S0001:hazard:01JDX0000000000000000000AB-open_flame": {"type": "hazard", "shop": "S0001", "status": "open"},
        "S0001:ledger:01JDX0000000000000000000AB:hazard": {"type": "ledger", "shop": "S0001", "points": -10},
        "S0001:photo:01JDX0000000000000000000AC": {"type": "photo", "shop": "S0001"},
        "S0003:hazard:01JDX0000000000000000000AD-gas_safe": {"type": "hazard", "shop": "S0003", "status": "open"},
    }
    revs = _put_all(world, admin, docs)
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


def test_an_owners_pull_brings_its_ledger_and_deletions_and_no_photo(world: World) -> None:
    admin, office = world.admin(), world.login("wang", "wang-password")
    code = world.client.post("/api/shops/S0001/activation", headers=office).json()["code"]
    activated = world.client.post("/api/auth/activate", json={"shop": "S0001", "code": code, "pin": "135790"})
    assert activated.status_code == 200, activated.text
    owner = {"Authorization": "Bearer " + activated.json()["token"]}
    docs = {
        "S0001:hazard:01JDX0000000000000000000AB-open_flame": {"type": "hazard", "shop": "S0001", "status": "open"},
        "S0001:ledger:01JDX0000000000000000000AB:hazard": {"type": "ledger", "shop": "S0001", "points": -10},
        "S0001:photo:01JDX0000000000000000000AC": {"type": "photo", "shop": "S0001"},
        "S0002:ledger:01JDX0000000000000000000AD:hazard": {"type": "ledger", "shop": "S0002", "points": -2},
    }
    revs = _put_all(world, admin, docs)
    hazard, ledger = (
        "S0001:hazard:01JDX0000000000000000000AB-open_flame",
        "S0001:ledger:01JDX0000000000000000000AB:hazard",
    )
    seen, last = changes(world, owner, selector="OWNER_PULL_SELECTOR")
    # Its shop's ledger comes with the rest (not another shop's, not a photo); the grid worker's selector leaves it.
    assert {i for i in seen if i.startswith("S0001:") and ":shop:" not in i} == {hazard, ledger}
    assert not [i for i in seen if not i.startswith(("S0001:", "district:"))]
    assert ledger not in changes(world, owner)[0]

    for doc_id in (hazard, ledger):
        assert world.client.delete(f"/sync/{doc_id}", params={"rev": revs[doc_id]}, headers=admin).status_code == 200
    seen, _ = changes(world, owner, last, selector="OWNER_PULL_SELECTOR")
    assert seen == {hazard: True, ledger: True}
