"""The attacks and the rights as a real PouchDB 9 client meets them: what a phone pulls is exactly its scope, a live
pull never carries another shop's news, and a push answers per document so the allowed ones land."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.pouch import Json, PouchSession, Remote, checked, node_or_fail
from tests.security.conftest import User, World
from tests.security.docs import PNG, patrol, photo, rectification, self_check


@pytest.fixture
def pouch() -> Iterator[PouchSession]:
    node_or_fail()
    with PouchSession(timeout=120) as session:
        yield session


def remote(world: World, token: str) -> Remote:
    return Remote(f"{world.gw.url}/sync", token)


def local_ids(pouch: PouchSession, db: str) -> set[str]:
    dump = checked(pouch.run({"op": "dump", "db": db, "with_data": False}), f"dump of {db}")
    return set(dump["docs"])


def partitions(ids: set[str]) -> set[str]:
    return {i.split(":", 1)[0] for i in ids}


def pull_exactly_the_scope(world: World, pouch: PouchSession, user: User) -> set[str]:
    result = checked(pouch.run(remote(world, user.token).step("pull", db=user.name)), f"pull of {user.user_id}")
    ids = local_ids(pouch, user.name)
    assert result["doc_write_failures"] == 0 and result["docs_written"] == len(ids)
    assert ids == world.ids_in(user.scope)
    return ids


def test_grid_workers_pull_holds_exactly_their_shops(world: World, pouch: PouchSession) -> None:
    ids = pull_exactly_the_scope(world, pouch, world.grid)
    assert partitions(ids) == {p for p in world.grid.scope if world.ids_in(frozenset({p}))}
    assert partitions(ids) > {"district"} and world.far_owner.name not in partitions(ids)


def test_owners_pull_holds_their_shop_and_the_district(world: World, pouch: PouchSession) -> None:
    ids = pull_exactly_the_scope(world, pouch, world.owner)
    assert partitions(ids) == {world.owner.name, "district"}
    photos = [i for i in ids if ":photo:" in i]
    assert photos  # their photos come with their pictures
    doc = checked(pouch.run({"op": "get", "db": world.owner.name, "id": photos[0], "options": {"attachments": True}}))[
        "doc"
    ]
    assert all(att["data"] for att in doc["_attachments"].values())


def test_live_pull_brings_the_owners_news_and_none_of_the_neighbours(world: World, pouch: PouchSession) -> None:
    owner, neighbour = world.owner, world.neighbour
    checked(pouch.run(remote(world, owner.token).step("pull", db="live")))
    mine = self_check(owner.name, owner.user_id)
    theirs = [self_check(neighbour.name, neighbour.user_id), patrol(neighbour.name, world.grid.user_id)]
    pouch.send(remote(world, owner.token).step("live_pull", db="live", expect_ids=[mine["_id"]], timeout_ms=20_000))
    assert pouch.receive().get("event") == "live"  # caught up: the replicator now waits in a longpoll
    time.sleep(0.3)
    assert world.push(neighbour, [theirs[0]])[0]["ok"] and world.push(world.grid, [theirs[1]])[0]["ok"]
    time.sleep(0.5)
    assert world.push(owner, [mine])[0]["ok"]
    result = pouch.receive()
    assert result["ok"] and result["outcome"] == "complete", result
    assert mine["_id"] in result["arrived"] and not {d["_id"] for d in theirs} & set(result["arrived"])
    assert any(c["feed"] == "longpoll" for c in result["requests"]["changes"])
    ids = local_ids(pouch, "live")
    assert mine["_id"] in ids and partitions(ids) == {owner.name, "district"}


def test_push_of_a_mixed_batch_lands_the_allowed_and_refuses_the_rest(world: World, pouch: PouchSession) -> None:
    owner, shop, other = world.owner, world.owner.name, world.neighbour.name
    allowed = [
        self_check(shop, owner.user_id),
        photo(shop, owner.user_id),
        rectification(shop, owner.user_id, note="灭火器已更换"),
    ]
    forbidden: list[Json] = [
        self_check(other, owner.user_id),  # another shop
        patrol(shop, owner.user_id),  # another role's event
        self_check(shop, f"owner:{other}"),  # signed as someone else
        {"_id": f"{shop}:score", "type": "score", "shop": shop, "points": 100, "forged": True},  # a projection
        photo(other, owner.user_id),  # a photo in another shop
    ]
    result = checked(pouch.run(remote(world, owner.token).step("push", db="mixed", docs=allowed + forbidden)))
    assert result["doc_write_failures"] == len(forbidden) and result["docs_written"] == len(allowed), result
    assert len(result["denied"]) == len(forbidden) and all(d["reason"] for d in result["denied"])
    for doc in allowed:
        assert world.stored(doc["_id"]) is not None
    pic = world.http.get(f"/sync/{allowed[1]['_id']}/photo.png", headers=world.admin)
    assert pic.content == PNG
    for doc in forbidden:
        stored = world.stored(doc["_id"])
        # The validators write the shop's real score; what must never be there is the device's version.
        assert stored is None or (doc["_id"].endswith(":score") and "forged" not in stored)
        assert any(e["user"] == owner.user_id and e["reason"] for e in world.quarantined(doc["_id"]))


def test_push_of_an_edited_or_deleted_submitted_event_is_refused(world: World, pouch: PouchSession) -> None:
    owner = world.owner
    doc = self_check(owner.name, owner.user_id)
    target = remote(world, owner.token)
    first = checked(pouch.run(target.step("push", db="edits", docs=[doc])))
    assert first["docs_written"] == 1
    rev = world.stored(doc["_id"])["_rev"]  # type: ignore[index]
    edited = {**doc, "_rev": rev, "answers": {"open_flame": {"value": True}, "sleeping_people": {"value": 2}}}
    second = checked(pouch.run(target.step("push", db="edits", docs=[edited])))
    assert second["doc_write_failures"] == 1 and "immutable" in second["denied"][0]["reason"], second
    local_rev = checked(pouch.run({"op": "get", "db": "edits", "id": doc["_id"]}))["doc"]["_rev"]
    gone = {"_id": doc["_id"], "_rev": local_rev, "_deleted": True}
    third = checked(pouch.run(target.step("push", db="edits", docs=[gone])))
    assert third["doc_write_failures"] == 1 and "deleted" in third["denied"][0]["reason"], third
    stored = world.stored(doc["_id"])
    assert stored is not None and stored["_rev"] == rev and stored["answers"] == doc["answers"]
    assert len(world.quarantined(doc["_id"])) == 2


def test_operator_token_replicates_everything(world: World, pouch: PouchSession) -> None:
    result = checked(pouch.run(remote(world, world.gw.token).step("pull", db="all")))
    ids = local_ids(pouch, "all")
    assert ids == world.ids_in(None) and result["doc_write_failures"] == 0
    assert partitions(ids) >= {"accounts", "registry", "district", world.owner.name, world.far_owner.name}
