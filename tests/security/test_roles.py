"""The other half of the proof: each role can do all that it should (a suite that refused everything would pass
every attack). The operator's full replication is in test_pouchdb.py."""

from __future__ import annotations

from urllib.parse import quote

from server.ids import new_ulid
from tests.security.conftest import User, World
from tests.security.docs import PNG, TEMPLATE, in_a_week, patrol, photo, rectification, self_check, verification


def readable(world: World, user: User, doc_id: str) -> bool:
    return world.http.get(f"/sync/{doc_id}", headers=user.headers).status_code == 200


def test_owner_submits_self_check_rectification_and_photos_in_their_shop(world: World) -> None:
    owner, shop = world.owner, world.owner.name
    pic = photo(shop, owner.user_id)
    check = self_check(
        shop,
        owner.user_id,
        answers={"open_flame": {"value": False}, "extinguisher_valid": {"value": True, "photos": [pic["_id"]]}},
    )
    fix = rectification(shop, owner.user_id, photos=[pic["_id"]])
    answers = world.push(owner, [pic, check, fix])
    assert all(a.get("ok") for a in answers), answers
    for doc in (pic, check, fix):
        stored = world.stored(doc["_id"])
        assert stored is not None and stored["created_by"] == owner.user_id
        assert readable(world, owner, doc["_id"]) and readable(world, world.grid, doc["_id"])  # their grid worker too
    body = world.http.get(f"/sync/{pic['_id']}/photo.png", headers=owner.headers)
    assert body.status_code == 200 and body.content == PNG and body.headers["content-type"] == "image/png"
    assert not world.quarantined(check["_id"])


def test_owner_reads_their_shop_and_the_district(world: World) -> None:
    owner = world.owner
    ids = {r["id"] for r in world.http.get("/sync/_changes", headers=owner.headers).json()["results"]}
    assert ids == world.ids_in(owner.scope) and {i.split(":")[0] for i in ids} == {owner.name, "district"}
    for shared in (TEMPLATE, "district:rules"):
        assert readable(world, owner, shared)
    resp = world.http.post("/api/auth/renew", headers=owner.headers)
    assert resp.status_code == 200 and resp.json()["user"]["id"] == owner.user_id
    assert world.http.get("/sync/", headers={"Authorization": "Bearer " + resp.json()["token"]}).status_code == 200


def test_grid_worker_patrols_verifies_and_photographs_each_of_their_shops(world: World) -> None:
    worker = world.grid
    shops = [world.owner.name, world.neighbour.name]
    for shop in shops:
        pic = photo(shop, worker.user_id)
        earlier = world.victim(shop).check_id
        finding = {
            "id": "f1",
            "item": "extinguisher_valid",
            "severity": "general",
            "note": "压力不足",
            "photos": [pic["_id"]],
            "deadline": in_a_week(),
        }
        walk = patrol(shop, worker.user_id, verified_self_checks=[earlier], findings=[finding])
        verdict = verification(
            shop,
            worker.user_id,
            hazard=f"{shop}:hazard:{walk['_id'].rsplit(':', 1)[1]}-f1",
            rectification=f"{shop}:rectification:{new_ulid()}",
            photos=[pic["_id"]],
        )
        answers = world.push(worker, [pic, walk, verdict])
        assert all(a.get("ok") for a in answers), answers
        assert all(readable(world, worker, d["_id"]) for d in (pic, walk, verdict))
        owner_of_shop = world.owner if shop == world.owner.name else world.neighbour
        assert readable(world, owner_of_shop, walk["_id"])  # the owner sees the patrol of their shop
        att = world.http.get(f"/sync/{pic['_id']}/{quote('photo.png')}", headers=worker.headers)
        assert att.status_code == 200 and att.content == PNG


def test_grid_worker_reads_their_shops_and_hands_out_activation_codes(world: World) -> None:
    worker = world.grid
    ids = {r["id"] for r in world.http.get("/sync/_changes", headers=worker.headers).json()["results"]}
    assert ids == world.ids_in(worker.scope)
    victim = world.victim(world.owner.name)
    assert readable(world, worker, victim.check_id) and readable(world, worker, victim.photo_id)
    resp = world.http.post(f"/api/shops/{world.owner.name}/activation", headers=worker.headers)
    assert resp.status_code == 201 and len(resp.json()["code"]) == 8


def test_office_reads_the_quarantine_and_the_audit_log(world: World) -> None:
    office = world.office
    batch = [self_check(world.neighbour.name, world.owner.user_id) for _ in range(6)]
    assert all(a["error"] == "forbidden" for a in world.push(world.owner, batch))
    refused = batch[0]
    failed = world.http.post("/api/auth/login", json={"username": office.name, "password": "not-the-password"})
    assert failed.status_code == 401
    page = world.http.get("/api/office/quarantine?limit=5", headers=office.headers)
    assert page.status_code == 200, page.text
    [entry] = world.quarantined(refused["_id"])
    assert entry["user"] == world.owner.user_id and entry["device"] == "attack-phone" and entry["doc"]["shop"]
    assert len(page.json()["items"]) == 5 and page.json()["next"]
    audit = world.http.get("/api/office/audit", headers=office.headers)
    assert audit.status_code == 200
    assert any(i["event"] == "login_failed" and i["account"] == f"staff:{office.name}" for i in audit.json()["items"])
