"""Snapshots in parts (`server.store.snapshots`), on both backends: a view larger than one document is read back
whole, a smaller save leaves no part of a larger one behind, and parts of two saves are never taken as one."""

from __future__ import annotations

import pytest

from server.store.protocol import Store
from server.store.snapshots import TornSnapshot, load_snapshot, save_snapshot
from server.store.upsert import read_local

NAME = "server/test-view"


async def test_a_view_is_read_back_whole_from_its_parts(store: Store) -> None:
    items = {f"S{n:04d}": {"n": n, "days": ["2026-03-01"] * (n % 3)} for n in range(25)}
    assert await save_snapshot(store, NAME, {"seq": 7, "rules": {"version": 2}}, items, per_part=10) == 3
    found = await load_snapshot(store, NAME)
    assert found is not None
    head, read = found
    assert read == items
    assert head["seq"] == 7 and head["rules"] == {"version": 2} and head["parts"] == 3


async def test_no_snapshot_is_none_and_an_empty_view_is_one(store: Store) -> None:
    assert await load_snapshot(store, NAME) is None
    await save_snapshot(store, NAME, {"seq": 0}, {}, per_part=10)
    found = await load_snapshot(store, NAME)
    assert found is not None and found[0]["seq"] == 0 and found[1] == {}


async def test_saves_take_turns_between_two_slots_and_a_smaller_one_leaves_no_tail(store: Store) -> None:
    large = {f"k{n:03d}": n for n in range(30)}
    await save_snapshot(store, NAME, {"seq": 1}, large, per_part=10)  # slot a: 3 parts
    await save_snapshot(store, NAME, {"seq": 2}, large, per_part=10)  # slot b: 3 parts
    small = {"k000": -1}
    await save_snapshot(store, NAME, {"seq": 3}, small, per_part=10)  # slot a again: 1 part, its old 2 removed
    found = await load_snapshot(store, NAME)
    assert found is not None and found[0]["slot"] == "a" and found[0]["seq"] == 3 and found[1] == small
    assert [await read_local(store, f"{NAME}/a/{i}") is not None for i in range(3)] == [True, False, False]
    assert await read_local(store, f"{NAME}/b/2") is not None  # the previous save's, overwritten by the next


async def test_a_part_overwritten_by_another_save_makes_the_snapshot_unusable(store: Store) -> None:
    """Two gateways saving at once may both fill the free slot: a head with another save's part would mix two
    views (facts of different seqs), so the snapshot is refused and the caller reads the store."""
    await save_snapshot(store, NAME, {"seq": 1}, {f"k{n}": n for n in range(20)}, per_part=10)
    head = await read_local(store, NAME)
    assert head is not None
    part = await read_local(store, f"{NAME}/{head['slot']}/1")
    assert part is not None
    await store.put_local(f"{NAME}/{head['slot']}/1", {**part, "writer": "another-save"})
    with pytest.raises(TornSnapshot):
        await load_snapshot(store, NAME)


async def test_a_snapshot_of_the_previous_version_is_read_from_its_head(store: Store) -> None:
    """Before parts, a snapshot was one document holding its items in one field: a store kept by that version is
    still read after an upgrade, and the next save replaces it."""
    await store.put_local(NAME, {"seq": 5, "shops": {"S0001": {"n": 1}}})
    found = await load_snapshot(store, NAME, inline="shops")
    assert found is not None and found[0]["seq"] == 5 and found[1] == {"S0001": {"n": 1}}
    await save_snapshot(store, NAME, {"seq": 6}, {"S0001": {"n": 2}}, per_part=10)
    found = await load_snapshot(store, NAME, inline="shops")
    assert found is not None and found[0]["seq"] == 6 and found[1] == {"S0001": {"n": 2}}
    assert "shops" not in found[0]
