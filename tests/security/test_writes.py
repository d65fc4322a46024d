"""Every way of writing outside a role through `/sync/`: another shop, another role's event, the server's own
documents (projections, templates, rules, registry, accounts, quarantine, design documents), a forged author,
a shop or a reference that leaves the partition, and any change to an event once submitted.

Each refusal is a per-document `forbidden` with a reason (so PouchDB skips it and replicates the rest), nothing of
it is stored, and it is kept in the quarantine for the office's sync monitor, with the user and the same reason."""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from server.ids import new_ulid
from tests.gateway import Gateway
from tests.security.conftest import Json, User, World
from tests.security.docs import (
    PNG,
    TEMPLATE,
    hazard_id,
    in_a_week,
    now,
    patrol,
    photo,
    rectification,
    replicated,
    self_check,
    today,
    verification,
)


def actor(world: World, role: str) -> User:
    return {"owner": world.owner, "grid": world.grid, "office": world.office}[role]


def coworker(world: World) -> str:
    """Another grid worker of the same grid (the demo gives some grids two), else a made-up one."""
    others = [
        w["username"]
        for w in world.logins["grid_workers"]
        if set(w["shops"]) == set(world.grid.shops) and w["username"] != world.grid.name
    ]
    return f"grid:{others[0] if others else 'nobody'}"


def own_grid(world: World) -> str:
    """The registry document of the attacking grid worker's grid."""
    grids = sorted(i for i in world.ids_in(frozenset({"registry"})) if i.startswith("registry:grid:"))
    return next(g for g in grids if world.grid.name in (world.stored(g) or {}).get("workers", []))


def server_doc(doc_id: str, kind: str, **fields: Any) -> Json:
    shop = doc_id.split(":", 1)[0]
    return {"_id": doc_id, "type": kind, "schema": 1, "shop": shop, "updated_at": now(), **fields}


A: Callable[[World], str] = lambda w: w.owner.name  # noqa: E731 - the attacking owner's shop
B: Callable[[World], str] = lambda w: w.neighbour.name  # noqa: E731 - the next shop of the same grid
FAR: Callable[[World], str] = lambda w: w.far_owner.name  # noqa: E731 - a shop of another grid
MONTH = today().strftime("%Y-%m")

Case = tuple[str, str, Callable[[World], Json], str]
SCOPE = "not in this account's scope"
CASES: list[Case] = [
    # another shop
    ("owner_check_in_neighbour_shop", "owner", lambda w: self_check(B(w), w.owner.user_id), SCOPE),
    ("owner_check_in_other_grid", "owner", lambda w: self_check(FAR(w), w.owner.user_id), SCOPE),
    ("owner_photo_in_neighbour_shop", "owner", lambda w: photo(B(w), w.owner.user_id), SCOPE),
    ("grid_patrol_in_other_grid", "grid", lambda w: patrol(FAR(w), w.grid.user_id), SCOPE),
    ("grid_photo_in_other_grid", "grid", lambda w: photo(FAR(w), w.grid.user_id), SCOPE),
    ("grid_verification_other_grid", "grid", lambda w: verification(FAR(w), w.grid.user_id), SCOPE),
    # another role's events
    ("owner_creates_patrol", "owner", lambda w: patrol(A(w), w.owner.user_id), "owner account may not create patrol"),
    (
        "owner_creates_verification",
        "owner",
        lambda w: verification(A(w), w.owner.user_id),
        "may not create verification",
    ),
    ("grid_creates_self_check", "grid", lambda w: self_check(A(w), w.grid.user_id), "grid account may not create"),
    (
        "grid_creates_rectification",
        "grid",
        lambda w: rectification(A(w), w.grid.user_id),
        "may not create rectification",
    ),
    ("office_creates_self_check", "office", lambda w: self_check(A(w), w.office.user_id), "office account may not"),
    ("office_creates_photo", "office", lambda w: photo(A(w), w.office.user_id), "office account may not create photo"),
    # projections, shared documents, registry, accounts, quarantine, design documents
    ("score", "owner", lambda w: server_doc(f"{A(w)}:score", "score", points=100, open_hazards=0), "by the server"),
    ("alarm", "owner", lambda w: server_doc(f"{A(w)}:alarm:{new_ulid()}", "alarm", status="resolved"), "by the server"),
    (
        "hazard",
        "grid",
        lambda w: server_doc(f"{A(w)}:hazard:{new_ulid()}-f1", "hazard", status="closed"),
        "by the server",
    ),
    ("ledger", "owner", lambda w: server_doc(f"{A(w)}:ledger:weekly:{MONTH}", "ledger", points=50), "by the server"),
    (
        "ranking",
        "grid",
        lambda w: server_doc(f"office:ranking:mingloujie:{MONTH}", "ranking", entries=[]),
        "by the server",
    ),
    ("stats", "owner", lambda w: server_doc(f"office:stats:mingloujie:{MONTH}", "stats"), "by the server"),
    ("template_current", "owner", lambda w: server_doc(TEMPLATE, "template", version=2, items=[]), "by the server"),
    ("template_new", "grid", lambda w: server_doc("district:template:lenient", "template", version=1), "by the server"),
    ("rules", "grid", lambda w: server_doc("district:rules", "rules", version=99), "by the server"),
    (
        "registry_grid",
        "grid",
        lambda w: server_doc(own_grid(w), "grid", workers=[w.grid.name], shops=[FAR(w)]),
        "by the server",
    ),
    ("registry_shop", "owner", lambda w: server_doc(f"registry:shop:{A(w)}", "shop", status="closed"), "by the server"),
    (
        "account_user",
        "owner",
        lambda w: server_doc(f"accounts:user:{w.owner.user_id}", "user", role="office"),
        "type must be an event type",
    ),
    (
        "account_as_event",
        "owner",
        lambda w: {**self_check(A(w), w.owner.user_id), "_id": f"accounts:user:{w.owner.user_id}"},
        "'accounts' holds shared",
    ),
    (
        "activation",
        "grid",
        lambda w: server_doc(f"accounts:activation:{A(w)}", "activation", code_hash="x"),
        "type must be an event type",
    ),
    (
        "quarantine_entry",
        "grid",
        lambda w: server_doc(f"quarantine:refused:{new_ulid()}", "refused"),
        "type must be an event type",
    ),
    (
        "event_in_district",
        "owner",
        lambda w: {**self_check(A(w), w.owner.user_id), "_id": f"district:self_check:{new_ulid()}", "shop": "district"},
        "'district' holds shared data",
    ),
    ("design_doc", "owner", lambda w: {"_id": "_design/x", "validate_doc_update": "function () {}"}, "partition"),
    # the author, the shop and the references
    ("created_by_other_owner", "owner", lambda w: self_check(A(w), f"owner:{B(w)}"), "created_by must be the signed"),
    ("created_by_grid_worker", "owner", lambda w: self_check(A(w), w.grid.user_id), "created_by must be the signed"),
    ("created_by_coworker", "grid", lambda w: patrol(A(w), coworker(w)), "created_by must be the signed-in user"),
    (
        "created_by_missing",
        "owner",
        lambda w: {k: v for k, v in self_check(A(w), "").items() if k != "created_by"},
        "created_by must be the signed-in user",
    ),
    (
        "shop_field_of_neighbour",
        "owner",
        lambda w: {**self_check(A(w), w.owner.user_id), "shop": B(w)},
        "must equal the id's partition",
    ),
    (
        "shop_field_of_other_grid",
        "grid",
        lambda w: {**patrol(A(w), w.grid.user_id), "shop": FAR(w)},
        "must equal the id's partition",
    ),
    (
        "check_cites_neighbours_photo",
        "owner",
        lambda w: self_check(
            A(w), w.owner.user_id, answers={"extinguisher_valid": {"value": True, "photos": [w.victim(B(w)).photo_id]}}
        ),
        "belongs to another shop",
    ),
    (
        "patrol_finding_cites_far_photo",
        "grid",
        lambda w: patrol(
            A(w),
            w.grid.user_id,
            findings=[
                {
                    "id": "f1",
                    "item": "wiring_ok",
                    "severity": "general",
                    "photos": [w.victim(FAR(w)).photo_id],
                    "deadline": in_a_week(),
                }
            ],
        ),
        "belongs to another shop",
    ),
    (
        "patrol_verifies_far_check",
        "grid",
        lambda w: patrol(A(w), w.grid.user_id, verified_self_checks=[w.victim(FAR(w)).check_id]),
        "belongs to another shop",
    ),
    (
        "rectification_of_neighbours_hazard",
        "owner",
        lambda w: rectification(A(w), w.owner.user_id, hazard=hazard_id(B(w))),
        "another shop",
    ),
    (
        "rectification_with_neighbours_photo",
        "owner",
        lambda w: rectification(A(w), w.owner.user_id, photos=[w.victim(B(w)).photo_id]),
        "belongs to another shop",
    ),
    (
        "verification_of_far_rectification",
        "grid",
        lambda w: verification(A(w), w.grid.user_id, rectification=(f"{FAR(w)}:rectification:{new_ulid()}")),
        "belongs to another shop",
    ),
    # what a photo may hold
    (
        "attachment_on_a_check",
        "owner",
        lambda w: {**self_check(A(w), w.owner.user_id), "_attachments": photo(A(w), "")["_attachments"]},
        "only photo documents carry attachments",
    ),
    (
        "photo_of_html",
        "owner",
        lambda w: photo(A(w), w.owner.user_id, body=b"<html><script>alert(1)</script>"),
        "not a JPEG, PNG or WebP",
    ),
    (
        "photo_declared_html",
        "owner",
        lambda w: photo(A(w), w.owner.user_id, name="photo.png", content_type="text/html"),
        "must have content_type image/png",
    ),
]


def assert_refused(world: World, user: User, answer: Json, doc_id: str, words: str, before: Json | None) -> None:
    assert answer["id"] == doc_id and answer["error"] == "forbidden", answer
    assert words in answer["reason"], answer
    assert world.stored(doc_id) == before  # nothing written, nothing changed
    entries = world.quarantined(doc_id)
    assert any(
        e["user"] == user.user_id
        and e["role"] == user.role
        and e["reason"] == answer["reason"]
        and e["error"] == "forbidden"
        and e["received_at"]
        for e in entries
    ), entries


@pytest.mark.parametrize(("role", "build", "words"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_write_outside_the_role_is_refused_and_quarantined(
    world: World, role: str, build: Callable[[World], Json], words: str
) -> None:
    user = actor(world, role)
    doc = build(world)
    before = world.stored(doc["_id"])
    for new_edits in (True, False):  # as a single write, and as PouchDB's replicator sends it
        sent = doc if new_edits else replicated(doc, "a1")
        [answer] = world.push(user, [sent], new_edits=new_edits)
        assert_refused(world, user, answer, doc["_id"], words, before)


def test_single_document_routes_refuse_and_quarantine_too(world: World) -> None:
    owner = world.owner
    doc = self_check(B(world), owner.user_id)
    resp = world.http.put(f"/sync/{doc['_id']}", json=doc, headers=owner.headers)
    assert resp.status_code == 403 and resp.json()["error"] == "forbidden", resp.text
    assert "not in this account's scope" in resp.json()["reason"]
    resp2 = world.http.put(
        f"/sync/{A(world)}:score?new_edits=false",
        json={"_rev": "1-" + "a" * 32, "type": "score"},
        headers=owner.headers,
    )
    assert resp2.status_code == 403 and "by the server" in resp2.json()["reason"], resp2.text
    # The validators may have written the shop's real score; the forged revision must not be among its revisions.
    score = world.stored(f"{A(world)}:score")
    assert world.stored(doc["_id"]) is None and (score is None or score["_rev"] != "1-" + "a" * 32)
    assert world.quarantined(doc["_id"]) and world.quarantined(f"{A(world)}:score")
    resp3 = world.http.put("/sync/_design/x", json={"views": {}}, headers=owner.headers)
    assert resp3.status_code == 404 and resp3.json()["reason"]


# ----- submitted events never change -----


@pytest.fixture
def submitted(world: World) -> tuple[Json, str]:
    """A self-check the owner has just submitted, and its revision."""
    doc = self_check(A(world), world.owner.user_id)
    [answer] = world.push(world.owner, [doc])
    assert answer.get("ok"), answer
    return doc, answer["rev"]


def _unchanged(world: World, doc: Json, rev: str) -> Json:
    stored = world.stored(doc["_id"])
    assert stored is not None and stored["_rev"] == rev and stored["answers"] == doc["answers"], stored
    return stored


def test_edit_with_new_edits_true_is_refused(world: World, submitted: tuple[Json, str]) -> None:
    doc, rev = submitted
    edited = {**doc, "_rev": rev, "answers": {"open_flame": {"value": True}, "sleeping_people": {"value": 3}}}
    [answer] = world.push(world.owner, [edited])
    before = _unchanged(world, doc, rev)
    assert_refused(world, world.owner, answer, doc["_id"], "events are immutable", before)


def test_deletion_in_a_batch_is_refused(world: World, submitted: tuple[Json, str]) -> None:
    doc, rev = submitted
    [answer] = world.push(world.owner, [{"_id": doc["_id"], "_rev": rev, "_deleted": True}])
    assert_refused(world, world.owner, answer, doc["_id"], "cannot be deleted", _unchanged(world, doc, rev))


def test_delete_route_is_refused(world: World, submitted: tuple[Json, str]) -> None:
    doc, rev = submitted
    resp = world.http.delete(f"/sync/{doc['_id']}?rev={rev}", headers=world.owner.headers)
    assert resp.status_code == 403 and resp.json()["error"] == "forbidden" and "immutable" in resp.json()["reason"]
    _unchanged(world, doc, rev)
    assert world.quarantined(doc["_id"])


def test_put_route_edit_is_refused(world: World, submitted: tuple[Json, str]) -> None:
    doc, rev = submitted
    edited = {**doc, "_rev": rev, "answers": {"open_flame": {"value": True}}}
    resp = world.http.put(f"/sync/{doc['_id']}", json=edited, headers=world.owner.headers)
    assert resp.status_code == 403 and "already exists" in resp.json()["reason"], resp.text
    _unchanged(world, doc, rev)
    assert world.quarantined(doc["_id"])


@pytest.mark.parametrize("shape", ["child", "sibling", "deleted_child", "long_branch"])
def test_new_revision_with_new_edits_false_is_refused(world: World, shape: str) -> None:
    doc = replicated(self_check(A(world), world.owner.user_id), "a1")
    assert world.push(world.owner, [doc], new_edits=False) == []
    rev = doc["_rev"]
    changed = {**doc, "answers": {"open_flame": {"value": True}, "sleeping_people": {"value": 9}}}
    new = {
        "child": replicated(changed, "b2", "a1"),
        "sibling": replicated(changed, "c3"),
        "deleted_child": {**replicated(doc, "d4", "a1"), "_deleted": True},
        "long_branch": replicated(changed, "e5", "e6", "e7", "e8"),
    }[shape]
    [answer] = world.push(world.owner, [new], new_edits=False)
    words = "cannot be deleted" if shape == "deleted_child" else "events are immutable"
    before = _unchanged(world, doc, rev)
    assert_refused(world, world.owner, answer, doc["_id"], words, before)
    leaves = world.http.get(f"/sync/{doc['_id']}?open_revs=all", headers=world.admin).json()
    assert [leaf["ok"]["_rev"] for leaf in leaves] == [rev]  # no conflict branch was grown either


def test_replaying_a_known_revision_with_another_body_changes_nothing(world: World) -> None:
    doc = replicated(self_check(A(world), world.owner.user_id), "f1")
    assert world.push(world.owner, [doc], new_edits=False) == []
    forged = {**doc, "answers": {"open_flame": {"value": True}, "sleeping_people": {"value": 7}}}
    assert world.push(world.owner, [forged], new_edits=False) == []  # a replay is a no-op, as in CouchDB
    _unchanged(world, doc, doc["_rev"])
    pic = replicated(photo(A(world), world.owner.user_id), "f2")
    assert world.push(world.owner, [pic], new_edits=False) == []
    other = {"photo.png": {"content_type": "image/png", "data": base64.b64encode(PNG + b"tampered").decode()}}
    assert world.push(world.owner, [{**pic, "_attachments": other}], new_edits=False) == []
    body = world.http.get(f"/sync/{pic['_id']}/photo.png", headers=world.admin).content
    assert body == PNG


def test_owner_cannot_delete_or_rewrite_the_grid_workers_patrol(world: World) -> None:
    found = patrol(A(world), world.grid.user_id)
    [ok] = world.push(world.grid, [found])
    assert ok.get("ok"), ok
    stored_hash = ok["rev"].split("-", 1)[1]
    gone = {
        **found,
        "_rev": "2-" + "9" * 32,
        "_revisions": {"start": 2, "ids": ["9" * 32, stored_hash]},
        "_deleted": True,
    }
    softer = {**found, "_rev": ok["rev"], "findings": [], "created_by": world.owner.user_id}
    [deleted] = world.push(world.owner, [gone], new_edits=False)
    [rewritten] = world.push(world.owner, [softer])
    answers = [deleted, rewritten]
    stored = world.stored(found["_id"])
    assert stored is not None and stored["_rev"] == ok["rev"] and stored["findings"] == found["findings"]
    assert [a["error"] for a in answers] == ["forbidden", "forbidden"] and all(a["reason"] for a in answers)
    assert len(world.quarantined(found["_id"])) >= 2


def test_grid_worker_cannot_rewrite_their_own_submitted_patrol(world: World) -> None:
    doc = replicated(patrol(A(world), world.grid.user_id), "71")
    assert world.push(world.grid, [doc], new_edits=False) == []
    lenient = replicated({**doc, "findings": []}, "72", "71")
    [answer] = world.push(world.grid, [lenient], new_edits=False)
    stored = world.stored(doc["_id"])
    assert stored is not None and stored["findings"] == doc["findings"]
    assert_refused(world, world.grid, answer, doc["_id"], "events are immutable", stored)


def test_a_batch_answers_per_document_and_keeps_the_good_ones(world: World) -> None:
    owner = world.owner
    good = [
        self_check(A(world), owner.user_id),
        photo(A(world), owner.user_id),
        rectification(A(world), owner.user_id, note="通道已清理"),
    ]
    bad = [
        self_check(B(world), owner.user_id),
        patrol(A(world), owner.user_id),
        self_check(A(world), f"owner:{B(world)}"),
    ]
    answers = world.push(owner, [bad[0], good[0], bad[1], good[1], bad[2], good[2]])
    assert [bool(a.get("ok")) for a in answers] == [False, True, False, True, False, True]
    assert all(world.stored(d["_id"]) is not None for d in good)
    for doc, answer in zip(bad, answers[::2], strict=True):
        assert_refused(world, owner, answer, doc["_id"], "", None)


# ----- HOLE: the rules are checked before the write, not with it -----


def test_two_racing_versions_of_a_new_event_do_not_both_land(
    fresh_gateway: Callable[[], Gateway], demo: tuple[Path, Json]
) -> None:
    """HOLE: two pushes of one new event id with different revisions, sent at the same instant, both pass the
    check (neither sees the other in the store) and both are written: the event has two versions, a conflict.
    On a gateway of its own, so that the conflicts it makes stay out of the shared world."""
    owner = demo[1]["owners"][0]
    gw = fresh_gateway()
    token = httpx.post(f"{gw.url}/api/auth/owner", json=owner).json()["token"]
    clients = [
        httpx.Client(base_url=gw.url, timeout=30, headers={"Authorization": f"Bearer {token}"}) for _ in range(2)
    ]
    try:
        for _ in range(30):
            base = self_check(owner["shop"], f"owner:{owner['shop']}")
            other = {"open_flame": {"value": True}, "sleeping_people": {"value": 9}}
            versions = [replicated(base, "a1"), replicated({**base, "answers": other}, "f1")]
            start = threading.Barrier(2)

            def send(i: int, versions: list[Json] = versions, start: threading.Barrier = start) -> httpx.Response:
                start.wait()
                return clients[i].post("/sync/_bulk_docs", json={"docs": [versions[i]], "new_edits": False})

            with ThreadPoolExecutor(2) as pool:
                answers = [r.json() for r in pool.map(send, range(2))]
            leaves = httpx.get(f"{gw.url}/sync/{base['_id']}?open_revs=all", headers=gw.headers).json()
            assert len(leaves) == 1, (
                f"both answered {answers}: {base['_id']} now has the leaves {[leaf['ok']['_rev'] for leaf in leaves]}"
                f" (two versions of one submitted event; the winner is the greater revision)"
            )
    finally:
        for c in clients:
            c.close()
