"""Writes of devices through `/sync/`: who may create which event where, what it may hold, and the quarantine
that keeps every refused document for the office. In-process, on the embedded store, with real accounts."""

from __future__ import annotations

import base64
import contextlib
import re
import struct
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from server.access import Scope
from server.app import create_app
from server.auth import Principal, Tokens
from server.errors import CouchError
from server.ids import new_ulid
from server.quarantine import MAX_PER_DAY
from server.settings import Settings
from server.store.protocol import Store
from server.sync.validate import WriteContext, check_event_write
from tests.backends import BACKENDS, store_settings
from tests.validators.builders import full_answers
from tests.worlds import seed_registry

SECRET = "validation-secret-" + "v" * 40
TEMPLATE = "district:template:fire-gas"
CST = timezone(timedelta(hours=8))

# A real 16x16 baseline JPEG (CPython's imghdr test image) and a real WebP; a 1x1 PNG is built below.
JPEG = base64.b64decode(
    "/9j/4AAQSkZJRgABAQEAAQABAAD/2wBDAAMCAgICAgMCAgIDAwMDBAYEBAQEBAgGBgUGCQgKCgkICQkKDA8MCgsOCwkJDRENDg8Q"
    "EBEQCgwSExIQEw8QEBD/2wBDAQMDAwQDBAgEBAgQCwkLEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQ"
    "EBAQEBAQEBD/wAARCAAQABADASIAAhEBAxEB/8QAFgABAQEAAAAAAAAAAAAAAAAABwQF/8QAJBAAAQQBBAICAwAAAAAAAAAAAQID"
    "BAYFBwgSExEiABQJMTL/xAAVAQEBAAAAAAAAAAAAAAAAAAAABv/EACMRAAECBQMFAAAAAAAAAAAAAAECEQMEBQYhABIxFRZhgeH/"
    "2gAMAwEAAhEDEQA/ABSm0mobc8HmExLUlRzzEWPkJWW+ulrsaUVAseUgslSlH9LKuPryIKuWPZdskzXmm3fX5m2nF4GlVxx/HOpx"
    "4ks51+MiU/Iaad7UcUo4tILoS4kqcWkezS0hO/HvuRp0rO6hWnWO1UisZVuFi4GFeyEpmGepa5S5SWVPuciFKRFLgSrwetnyPIB+"
    "Vb4N9mKhQMzo5po9XLdDs9d6ZVix2VEhiL9kuNPxw2gEKcDQ/rs8AuA8VAe0vdl7VOYn+27flGAUgmITjbhSmCg3BYlyeWDkMolv"
    "w4KOp1KM6iCNvngZHwetf//Z"
)
WEBP = base64.b64decode(
    "UklGRqgBAABXRUJQVlA4WAoAAAAQAAAADwAADwAAQUxQSMMAAAABJ6KokSTleucYX+ffKpmImP90cY3gJjDi4Yt3MsjBEVyDKzDo"
    "sHgVjnhRNcEIDAJPkqBqsFUZHNa2bUYvTsZ2PLbtd/uvKa4hov9J0f2PkPe6REkkGzolkTTzFG0Ox9PlFiD0CxS+kOGDtxoynjaC"
    "fx0pfk52CPuInrOR75lzRugygtv4zEiy90UwfSD9NheMITJWLaXWayO8XeOlWRXVnIGk2W6WdYoYMQ+KqixQNPowgt+6a1BSKbUt"
    "z+lUFAoBAAAAVlA4IL4AAACQAgCdASoQABAAAwA0JbACdDBPCIUMfAMdCCz96AD+/XSg/QKbH4r3Q3ycN/bSDK/T/zVo4u6nvclv"
    "G/SqxWOuup+XhN9BojvaW+Tv+MvxvX/hr/o/5Qns9LtmX/+qKdl/yWznhuasl7nkxvSTI4xf3Y85VSB/lU/8Ofj/b9JrA+ifvIOY"
    "Zm2x1RP/dhfmsf5diuSfR7+z+r/+HR3zEo/+XM/B+vkYw73Pzx+ROaAB/ZoBSzEs3rzZe6qsAAAA"
)


def _png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)  # 1x1, 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\xd0\x40\x20"))
        + chunk(b"IEND", b"")
    )


PNG = _png()


# ----- the world: shops S0001, S0002 in grid g1 (zhou), S0003 in grid g2 (li), the owner of S0001, an office user


class World:
    def __init__(self, client: TestClient) -> None:
        self.client = client

    def headers(self, user_id: str, role: str, device: str | None = "hdr-device") -> dict[str, str]:
        token = Tokens(SECRET).issue(Principal(user_id, role), 3600)
        return {"Authorization": f"Bearer {token}", **({"X-Mashang-Device": device} if device else {})}

    def push(
        self, user_id: str, role: str, docs: list[Any], new_edits: bool = True, device: str | None = "hdr-device"
    ) -> list[dict[str, Any]]:
        resp = self.client.post(
            "/sync/_bulk_docs", json={"docs": docs, "new_edits": new_edits}, headers=self.headers(user_id, role, device)
        )
        assert resp.status_code == 201, resp.text
        answers: list[dict[str, Any]] = resp.json()
        return answers

    def owner(self, docs: list[Any], new_edits: bool = True, device: str | None = "hdr-device") -> list[dict[str, Any]]:
        return self.push("owner:S0001", "owner", docs, new_edits, device)

    def grid(self, docs: list[Any], new_edits: bool = True) -> list[dict[str, Any]]:
        return self.push("grid:zhou", "grid", docs, new_edits)

    def stored(self, doc_id: str) -> dict[str, Any] | None:
        resp = self.client.get(f"/sync/{doc_id}", headers=self.headers("admin", "admin"))
        return resp.json() if resp.status_code == 200 else None

    def quarantine(self, query: str = "", role: tuple[str, str] = ("office:wang", "office")) -> dict[str, Any]:
        resp = self.client.get(f"/api/office/quarantine{query}", headers=self.headers(*role))
        assert resp.status_code == 200, resp.text
        return resp.json()  # type: ignore[no-any-return]


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with _open_world(tmp_path) as w:
        yield w


@pytest.fixture(params=BACKENDS)
def either_world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    """The world on the embedded store, then on a CouchDB database (tests/backends.py)."""
    with store_settings(request, request.param) as on, _open_world(tmp_path, **on) as w:
        yield w


@contextlib.contextmanager
def _open_world(tmp_path: Path, **settings: Any) -> Iterator[World]:
    # Without the validators: these tests count the gateway's own store calls and read what a push stored.
    app = create_app(Settings(data_dir=tmp_path / "data", secret=SECRET, run_validators=False, **settings))
    with TestClient(app, raise_server_exceptions=False) as client:
        state, call = app.state, client.portal.call  # type: ignore[union-attr]
        seed_registry(call, state.registry, owner_activated=True)
        call(state.accounts.create_staff, "grid", "zhou", "zhou-password", "小周")
        call(state.accounts.create_staff, "office", "wang", "wang-password", "王科长")
        call(state.accounts.set_owner_pin, "S0001", "123456")
        call(state.accounts.set_owner_pin, "S0003", "123456")
        yield World(client)


# ----- documents


def now(delta: timedelta = timedelta()) -> str:
    return (datetime.now(UTC) + delta).astimezone(CST).isoformat(timespec="seconds")


def event(kind: str, shop: str, by: str, **fields: Any) -> dict[str, Any]:
    return {
        "_id": f"{shop}:{kind}:{new_ulid()}",
        "type": kind,
        "schema": 1,
        "shop": shop,
        "performed_at": now(),
        "created_by": by,
        "device": "d-7f3a",
        **fields,
    }


def self_check(shop: str = "S0001", **fields: Any) -> dict[str, Any]:
    answers = full_answers(shop)
    return event(
        "self_check",
        shop,
        f"owner:{shop}",
        **{"template": TEMPLATE, "template_version": 1, "answers": answers, **fields},
    )


def patrol(shop: str = "S0001", **fields: Any) -> dict[str, Any]:
    deadline = (datetime.now(CST) + timedelta(days=7)).date().isoformat()
    base = {
        "answers": full_answers(shop, extinguisher_valid=False),
        "findings": [
            {
                "id": "f1",
                "item": "extinguisher_valid",
                "severity": "general",
                "note": "灭火器刚过保质期",
                "photos": [f"{shop}:photo:{new_ulid()}"],
                "deadline": deadline,
            }
        ],
    }
    return event("patrol", shop, "grid:zhou", **{"template": TEMPLATE, "template_version": 1, **base, **fields})


def photo(
    shop: str = "S0001",
    body: bytes = JPEG,
    name: str = "photo.jpg",
    content_type: str = "image/jpeg",
    created_by: str = "owner:S0001",
) -> dict[str, Any]:
    data = base64.b64encode(body).decode()
    return event(
        "photo", shop, created_by, taken_at=now(), _attachments={name: {"content_type": content_type, "data": data}}
    )


def hazard(shop: str = "S0001") -> str:
    return f"{shop}:hazard:{new_ulid()}-f1"


def _in_a_week() -> str:
    return (datetime.now(CST) + timedelta(days=7)).date().isoformat()


def refused(answer: dict[str, Any], *words: str) -> None:
    assert answer.get("error") == "forbidden", answer
    assert set(answer) == {"id", "error", "reason"}, answer
    for word in words:
        assert word in answer["reason"], answer


def ok(answers: list[dict[str, Any]]) -> None:
    assert all(a.get("ok") for a in answers), answers


# ----- what each role creates, and where


def test_owner_creates_self_checks_rectifications_and_photos_in_their_shop(world: World) -> None:
    docs = [photo(), self_check(), event("rectification", "S0001", "owner:S0001", hazard=hazard(), note="换了新灭火器")]
    ok(world.owner(docs))
    for doc in docs:
        assert world.stored(doc["_id"]) is not None


def test_grid_worker_creates_patrols_verifications_and_photos_in_their_grids_shops(world: World) -> None:
    docs = [
        patrol(),
        patrol("S0002"),
        event("verification", "S0002", "grid:zhou", hazard=hazard("S0002"), passed=True),
        photo("S0002", PNG, "photo.png", "image/png", "grid:zhou"),
        photo("S0001", WEBP, "photo.webp", "image/webp", "grid:zhou"),
    ]
    ok(world.grid(docs))


@pytest.mark.parametrize(
    ("role", "kind"),
    [
        ("owner", "patrol"),
        ("owner", "verification"),
        ("grid", "self_check"),
        ("grid", "rectification"),
        ("office", "self_check"),
    ],
)
def test_a_role_may_not_create_another_roles_events(world: World, role: str, kind: str) -> None:
    user = {"owner": "owner:S0001", "grid": "grid:zhou", "office": "office:wang"}[role]
    doc = {"self_check": self_check, "patrol": patrol}.get(kind, lambda: event(kind, "S0001", user))()
    doc["created_by"] = user
    [answer] = world.push(user, role, [doc])
    refused(answer, f"a {role} account may not create {kind}")
    assert world.stored(doc["_id"]) is None


@pytest.mark.parametrize(
    ("doc_id", "kind", "words"),
    [
        ("S0001:score", "score", "written by the server"),
        ("S0001:hazard:x", "hazard", "written by the server"),
        ("district:template:fire-gas", "template", "written by the server"),
        ("S0001:shop", "shop", "written by the server"),
        ("district:rules", "rules", "written by the server"),
        ("S0001:note:1", "note", "must be an event type"),
        ("_design/evil", "self_check", "partition"),
    ],
)
def test_nobody_writes_projections_registry_templates_rules_or_design_docs(
    world: World, doc_id: str, kind: str, words: str
) -> None:
    doc = {**self_check(), "_id": doc_id, "type": kind}
    refused(world.owner([doc])[0], words)
    refused(world.grid([{**doc, "created_by": "grid:zhou"}])[0], words)


def test_events_only_go_into_shops_of_the_scope(world: World) -> None:
    refused(world.owner([self_check("S0002", created_by="owner:S0001")])[0], "S0002 is not in this account's scope")
    refused(world.grid([patrol("S0003")])[0], "S0003 is not in this account's scope")
    for partition in ("district", "registry", "accounts", "quarantine"):
        doc = {**self_check(), "_id": f"{partition}:self_check:{new_ulid()}", "shop": partition}
        refused(world.owner([doc])[0], "shared data")
    ok(world.grid([patrol("S0002")]))


def test_created_by_must_be_the_tokens_user(world: World) -> None:
    refused(world.owner([self_check(created_by="owner:S0003")])[0], "created_by must be the signed-in user owner:S0001")
    refused(world.grid([patrol(created_by="grid:li")])[0], "created_by")
    ok(world.owner([self_check(created_by="owner:S0001")]))


def test_shop_and_references_stay_in_the_ids_partition(world: World) -> None:
    refused(
        world.owner(
            [self_check(shop="S0003") | {"_id": f"S0001:self_check:{new_ulid()}", "created_by": "owner:S0001"}]
        )[0],
        "must equal the id's partition",
    )
    other = {"extinguisher_valid": {"value": True, "photos": [f"S0002:photo:{new_ulid()}"]}}
    refused(world.owner([self_check(answers=full_answers("S0001") | other)])[0], "belongs to another shop")
    rect = event("rectification", "S0001", "owner:S0001", hazard=hazard("S0002"), note="修好了")
    refused(world.owner([rect])[0], "belongs to another shop")
    refused(world.grid([patrol(verified_self_checks=[f"S0002:self_check:{new_ulid()}"])])[0], "another shop")
    ok(world.grid([patrol(verified_self_checks=[f"S0001:self_check:{new_ulid()}"])]))


def test_the_model_refuses_unknown_fields_and_wrong_types(world: World) -> None:
    refused(world.owner([self_check(score=100)])[0], "score: 不认识的字段。unknown field")
    refused(world.owner([self_check(performed_at="yesterday")])[0], "performed_at")
    refused(world.owner([self_check(schema=2)])[0], "schema")
    refused(world.owner([{**self_check(), "_id": "S0001:self_check:not-a-ulid"}])[0], "ULID")


def test_answers_fit_the_template_version_they_name(world: World) -> None:
    refused(
        world.owner([self_check(answers=full_answers("S0001") | {"karaoke": {"value": True}})])[0], "not an item of"
    )
    refused(
        world.owner([self_check(answers=full_answers("S0001") | {"open_flame": {"value": 3}})])[0],
        "must be true or false",
    )
    refused(
        world.owner([self_check(answers=full_answers("S0001") | {"gas_safe": {"value": True}})])[0], "needs a photo"
    )
    refused(world.owner([self_check(template_version=2)])[0], "v2 is not known")
    # The app answers every item before it sends a check: one that leaves items out earns nothing.
    partial = {k: v for k, v in full_answers("S0001").items() if k not in ("gas_safe", "wiring_ok")}
    refused(world.owner([self_check(answers=partial)])[0], "gas_safe, wiring_ok not answered")
    refused(world.grid([patrol(answers=partial)])[0], "gas_safe, wiring_ok not answered")
    refused(
        world.grid(
            [patrol(findings=[{"id": "f1", "item": "karaoke", "severity": "general", "deadline": _in_a_week()}])]
        )[0],
        "karaoke is not an item",
    )
    far = (datetime.now(CST) + timedelta(days=400)).date().isoformat()
    for deadline, words in (("9999-12-31", "more than 366 days away"), (far, "more than 366 days away")):
        found = {"id": "f1", "item": "open_flame", "severity": "serious", "deadline": deadline}
        refused(world.grid([patrol(findings=[found])])[0], words)
    # The office publishes v2 with a new item: checks name v2 and may answer it; v1 checks still fit v1.
    v2 = {
        "_id": TEMPLATE,
        "type": "template",
        "schema": 1,
        "version": 2,
        "title": {"zh": "消防", "en": "Fire"},
        "categories": ["*"],
        "items": [
            {
                "id": "karaoke",
                "label_zh": "卡拉OK",
                "label_en": "Karaoke",
                "answer": "yes_no",
                "hazard_when": {"equals": True},
                "severity": "general",
            }
        ],
    }
    resp = world.client.post("/sync/_bulk_docs", json={"docs": [v2]}, headers=world.headers("admin", "admin"))
    assert resp.json()[0]["ok"], resp.text
    ok(world.owner([self_check(template_version=2, answers={"karaoke": {"value": False}})]))
    ok(world.owner([self_check(template_version=1)]))
    refused(world.owner([self_check(template_version=2)])[0], "not an item of district:template:fire-gas v2")


def test_performed_at_within_ten_minutes_ahead_and_ninety_days_back(world: World) -> None:
    refused(world.owner([self_check(performed_at=now(timedelta(minutes=11)))])[0], "10 minutes ahead")
    refused(world.owner([self_check(performed_at=now(-timedelta(days=91)))])[0], "90 days old")
    ok(
        world.owner(
            [self_check(performed_at=now(timedelta(minutes=9))), self_check(performed_at=now(-timedelta(days=89)))]
        )
    )


def test_a_document_is_at_most_64_kb_without_its_attachment(world: World) -> None:
    answers = full_answers("S0001") | {"open_flame": {"value": False, "note": "x" * 400}}
    big = self_check(answers=answers, blob="y" * 70_000)
    refused(world.owner([big])[0], "bytes; an event may have at most 65536")
    ok(world.owner([self_check(answers=answers)]))
    ok(world.owner([photo(body=JPEG + b"\0" * 100_000)]))  # a 100 KB photo: its body does not count


def test_photos_are_real_images_of_their_declared_type_at_most_2_mb(world: World) -> None:
    refused(world.owner([photo(body=PNG)])[0], "holds image/png bytes but declares image/jpeg")
    refused(
        world.owner([photo(body=b"GIF89a" + b"\0" * 40, name="photo.png", content_type="image/png")])[0],
        "not a JPEG, PNG or WebP",
    )
    refused(world.owner([photo(body=b"<script>alert(1)</script>")])[0], "not a JPEG")
    refused(world.owner([photo(body=JPEG + b"\0" * (2 * 1024 * 1024))])[0], "at most 2097152")
    refused(world.owner([photo(name="photo.gif", content_type="image/gif")])[0], "not one of")
    two = photo()
    two["_attachments"]["photo.png"] = {"content_type": "image/png", "data": base64.b64encode(PNG).decode()}
    refused(world.owner([two])[0], "exactly one attachment")
    stub = photo()
    stub["_attachments"]["photo.jpg"] = {"content_type": "image/jpeg", "stub": True, "digest": "md5-AAAA"}
    refused(world.owner([stub])[0], "must carry its image data")
    sneaky = self_check()
    sneaky["_attachments"] = photo()["_attachments"]
    refused(world.owner([sneaky])[0], "only photo documents carry attachments")
    ok(world.owner([photo(body=JPEG + b"\0" * (2 * 1024 * 1024 - len(JPEG)))]))


def test_at_most_20_photos_per_check(world: World) -> None:
    def check(n: int) -> dict[str, Any]:
        photos = [f"S0001:photo:{new_ulid()}" for _ in range(n)]
        answers = full_answers("S0001") | {
            "extinguisher_valid": {"value": True, "photos": photos[:10]},
            "gas_safe": {"value": True, "photos": photos[10:]},
        }
        return self_check(answers=answers)

    refused(world.owner([check(21)])[0], "at most 20")
    ok(world.owner([check(20)]))


def test_events_are_never_deleted_or_changed(world: World) -> None:
    doc = self_check()
    [written] = world.owner([doc])
    headers = world.headers("owner:S0001", "owner")
    resp = world.client.delete(f"/sync/{doc['_id']}?rev={written['rev']}", headers=headers)
    assert resp.status_code == 403 and "immutable" in resp.json()["reason"], resp.text
    refused(world.owner([{**doc, "_rev": written["rev"], "_deleted": True}])[0], "immutable")
    refused(
        world.owner([{**doc, "_rev": written["rev"], "answers": doc["answers"] | {"open_flame": {"value": True}}}])[0],
        "already exists",
    )
    refused(world.owner([doc])[0], "already exists")  # a second create of the same id
    resp = world.client.put(f"/sync/{doc['_id']}", json={**doc, "_rev": written["rev"]}, headers=headers)
    assert resp.status_code == 403, resp.text
    assert world.stored(doc["_id"])["_rev"] == written["rev"]  # type: ignore[index]
    # Two copies of one new id in a batch: the first is the event, the second a change of it.
    twin = self_check()
    first, second = world.owner([twin, {**twin, "answers": twin["answers"] | {"open_flame": {"value": True}}}])
    assert first["ok"]
    refused(second, "already exists")


def test_replication_replays_are_let_through_but_new_revisions_of_an_event_are_refused(world: World) -> None:
    doc = {**self_check(), "_rev": "1-" + "a" * 32, "_revisions": {"start": 1, "ids": ["a" * 32]}}
    assert world.owner([doc], new_edits=False) == []
    assert world.owner([doc], new_edits=False) == []  # the same revision again: a no-op, not a refusal
    edited = {
        **doc,
        "_rev": "2-" + "b" * 32,
        "_revisions": {"start": 2, "ids": ["b" * 32, "a" * 32]},
        "answers": doc["answers"] | {"open_flame": {"value": True}},
    }
    refused(world.owner([edited], new_edits=False)[0], "immutable")
    fork = {**doc, "_rev": "1-" + "c" * 32, "_revisions": {"start": 1, "ids": ["c" * 32]}}
    refused(world.owner([fork], new_edits=False)[0], "immutable")
    assert world.stored(doc["_id"])["_rev"] == doc["_rev"]  # type: ignore[index]
    # A new event that a phone edited locally before its first push is still new to the server.
    local = {**self_check(), "_rev": "2-" + "d" * 32, "_revisions": {"start": 2, "ids": ["d" * 32, "e" * 32]}}
    assert world.owner([local], new_edits=False) == []


def test_a_phones_batches_wait_for_the_disk_only_at_its_checkpoint(world: World) -> None:
    """The durability policy through the gateway: a replicated batch commits without the fsync, the checkpoint
    that vouches for it and an edit commit with it (see server/store/sqlite_io.py)."""
    commits = world.client.app.state.store._writer.commits  # type: ignore[attr-defined]
    before = dict(commits)
    doc = {**self_check(), "_rev": "1-" + "a" * 32, "_revisions": {"start": 1, "ids": ["a" * 32]}}
    assert world.owner([doc], new_edits=False) == []
    assert commits["light"] == before["light"] + 1 and commits["durable"] == before["durable"]
    resp = world.client.put(
        "/sync/_local/phone-checkpoint", json={"last_seq": 1}, headers=world.headers("owner:S0001", "owner")
    )
    assert resp.status_code == 201, resp.text
    assert commits["durable"] == before["durable"] + 1
    ok(world.owner([self_check()]))
    assert commits == {"light": before["light"] + 1, "durable": before["durable"] + 2}
    assert world.stored(doc["_id"]) is not None


def test_lookups_are_batched_for_the_whole_batch(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    existing = [
        {**self_check(), "_rev": f"1-{i:032x}", "_revisions": {"start": 1, "ids": [f"{i:032x}"]}} for i in range(5)
    ]
    assert world.owner(existing, new_edits=False) == []
    store = world.client.app.state.store  # type: ignore[attr-defined]
    calls: dict[str, int] = {"all_docs": 0, "revs_diff": 0}

    def counting(name: str) -> Any:
        real = getattr(store, name)

        def call(*args: Any) -> Any:
            calls[name] += 1
            return real(*args)

        return call

    for name in calls:
        monkeypatch.setattr(store, name, counting(name))
    fresh = [
        {**self_check(), "_rev": f"1-{i:032x}", "_revisions": {"start": 1, "ids": [f"{i:032x}"]}} for i in range(10, 15)
    ]
    assert world.owner(existing + fresh, new_edits=False) == []
    # The templates are cached from the first batch; the documents sent again cost one more read: the receipts of
    # their shop, which must name them (`writes._unreceipted`), one read per shop whatever the batch's size.
    assert calls == {"all_docs": 2, "revs_diff": 1}


def test_one_bad_document_does_not_hold_back_the_good_ones(world: World) -> None:
    good, bad, also_good = photo(), self_check(created_by="owner:S0003"), self_check()
    answers = world.owner([good, bad, also_good])
    assert answers[0]["ok"] and answers[2]["ok"]
    refused(answers[1], "created_by")
    assert world.stored(good["_id"]) and world.stored(also_good["_id"]) and not world.stored(bad["_id"])
    replicated = [
        {**d, "_rev": "1-" + "f" * 32, "_revisions": {"start": 1, "ids": ["f" * 32]}}
        for d in (self_check(), self_check(answers={}), self_check())
    ]
    [answer] = world.owner(replicated, new_edits=False)
    refused(answer, "answers")
    assert answer["id"] == replicated[1]["_id"]
    assert world.stored(replicated[0]["_id"]) and world.stored(replicated[2]["_id"])


# ----- the quarantine


def test_refused_documents_are_quarantined_with_user_device_time_and_reason(world: World) -> None:
    bad = photo(body=PNG)
    world.owner([bad, photo()])
    no_device = self_check()
    del no_device["device"]
    world.owner([no_device], device="phone-from-header")
    [latest, first] = world.quarantine()["items"]
    assert first["user"] == "owner:S0001" and first["role"] == "owner" and first["device"] == "d-7f3a"
    assert first["doc_id"] == bad["_id"] and first["error"] == "forbidden" and "declares image/jpeg" in first["reason"]
    assert datetime.fromisoformat(first["received_at"]).utcoffset() is not None
    assert abs(datetime.fromisoformat(first["received_at"]) - datetime.now(UTC)) < timedelta(minutes=1)
    # The photo's body is not kept, only what identifies it.
    att = first["doc"]["_attachments"]["photo.jpg"]
    assert att["length"] == len(PNG) and att["digest"].startswith("md5-") and "data" not in att
    assert latest["device"] == "phone-from-header" and latest["doc_id"] == no_device["_id"]
    assert "device: 缺少此字段。required field is missing" in latest["reason"]


def test_store_refusals_are_quarantined_too(world: World) -> None:
    doc = {**self_check(), "_rev": "1-" + "a" * 32, "_revisions": {"start": 3, "ids": ["a" * 32]}}
    [answer] = world.owner([doc], new_edits=False)
    assert answer["error"] == "forbidden"
    [entry] = world.quarantine()["items"]
    assert entry["doc_id"] == doc["_id"] and entry["user"] == "owner:S0001" and entry["reason"]


def test_accepted_documents_and_admin_writes_are_not_quarantined(world: World) -> None:
    ok(world.owner([self_check(), photo()]))
    resp = world.client.post(
        "/sync/_bulk_docs", json={"docs": [{"_id": "nopartition"}]}, headers=world.headers("admin", "admin")
    )
    assert resp.json()[0]["error"] == "forbidden"
    assert world.quarantine()["items"] == []


def test_quarantine_is_for_the_office_and_pages_newest_first(world: World) -> None:
    for i in range(5):
        world.owner([self_check(created_by=f"owner:X{i}")])
    page = world.quarantine("?limit=2")
    assert [e["doc"]["created_by"] for e in page["items"]] == ["owner:X4", "owner:X3"]
    page = world.quarantine(f"?limit=2&before={page['next']}")
    assert [e["doc"]["created_by"] for e in page["items"]] == ["owner:X2", "owner:X1"]
    last = world.quarantine(f"?limit=2&before={page['next']}", role=("admin", "admin"))
    assert [e["doc"]["created_by"] for e in last["items"]] == ["owner:X0"] and last["next"] is None
    for user, role in (("owner:S0001", "owner"), ("grid:zhou", "grid")):
        resp = world.client.get("/api/office/quarantine", headers=world.headers(user, role))
        assert resp.status_code == 403 and resp.json()["error"] == "forbidden"
    assert world.client.get("/api/office/quarantine").status_code == 401
    office = world.headers("office:wang", "office")
    for query in ("?limit=0", "?limit=5000", "?before=S0001:score"):
        assert world.client.get(f"/api/office/quarantine{query}", headers=office).status_code == 400
    # The quarantine partition never replicates to a phone.
    changes = world.client.get("/sync/_changes", headers=world.headers("owner:S0001", "owner")).json()
    assert not any(r["id"].startswith("quarantine:") for r in changes["results"])


def test_the_quarantine_keeps_a_bounded_number_of_refusals_per_user_and_day(world: World) -> None:
    """A broken or hostile app that sends refused documents without end must not fill the server's disk: the
    first MAX_PER_DAY refusals of a user in a day are kept, then one entry says the rest are not. Every document is
    still answered, and other users' refusals are still kept."""
    flood = [self_check(created_by="owner:X") for _ in range(MAX_PER_DAY + 40)]
    answers = world.owner(flood[: MAX_PER_DAY - 10]) + world.owner(flood[MAX_PER_DAY - 10 :])
    assert len(answers) == len(flood) and all(a["error"] == "forbidden" for a in answers)
    world.owner([self_check(created_by="owner:X")])
    world.grid([patrol(created_by="grid:li")])

    items, query = [], "?limit=500"
    while True:
        page = world.quarantine(query)
        items += page["items"]
        if not page["next"]:
            break
        query = f"?limit=500&before={page['next']}"
    owner = [i for i in items if i["user"] == "owner:S0001"]
    kept = [i for i in owner if i["error"] == "forbidden"]
    assert {i["doc_id"] for i in kept} == {d["_id"] for d in flood[:MAX_PER_DAY]}  # the first ones
    [note] = [i for i in owner if i["error"] == "too_many_refusals"]
    assert f"More than {MAX_PER_DAY}" in note["reason"] and len(owner) == MAX_PER_DAY + 1
    assert chinese_first(note["reason"])  # the office reads it in the sync monitor
    assert [i["user"] for i in items if i["user"] != "owner:S0001"] == ["grid:zhou"]


# ----- the reasons a phone's ordinary life meets, as the office's sync monitor and the phone show them


def chinese_first(reason: str) -> bool:
    """Written as the screens' `reasonIn` reads it: Chinese (after the field it names, if any), then the English
    after the last 。"""
    said, stop, english = reason.rpartition("。")
    chinese = re.match(r"([\w.\[\]-]+: )?[\u4e00-\u9fff“]", said) is not None
    return bool(stop) and chinese and re.search(r"[\u4e00-\u9fff]", english) is None


def _twice(world: World) -> list[dict[str, Any]]:
    doc = self_check()
    ok(world.owner([doc]))
    return world.owner([doc])


def _answers(**changed: Any) -> dict[str, Any]:
    return {k: v for k, v in (full_answers("S0001") | changed).items() if v is not None}


def _finding(deadline: str) -> list[dict[str, Any]]:
    return [{"id": "f1", "item": "open_flame", "severity": "serious", "deadline": deadline}]


_STUB = {"photo.jpg": {"content_type": "image/jpeg", "stub": True, "digest": "md5-AAAA"}}
ORDINARY: list[tuple[str, Any, str]] = [
    ("a clock set ahead", lambda w: w.owner([self_check(performed_at=now(timedelta(minutes=11)))]), "10 minutes ahead"),
    ("a phone offline a season", lambda w: w.owner([self_check(performed_at=now(-timedelta(days=91)))]), "90 days"),
    ("an old app's template", lambda w: w.owner([self_check(template_version=2)]), "v2 is not known to the server"),
    ("a shop moved to another grid", lambda w: w.grid([patrol("S0003")]), "S0003 is not in this account's scope"),
    ("another user's pending check", lambda w: w.owner([self_check(created_by="owner:S0003")]), "created_by must be"),
    ("another role's pending check", lambda w: w.owner([patrol(created_by="owner:S0001")]), "may not create patrol"),
    ("a check sent again as new", _twice, "events are immutable: this document already exists"),
    ("a check too long", lambda w: w.owner([self_check(blob="y" * 70_000)]), "an event may have at most 65536"),
    ("a file not an image", lambda w: w.owner([photo(body=b"<svg/>")]), "is not a JPEG, PNG or WebP image"),
    ("a PNG declared JPEG", lambda w: w.owner([photo(body=PNG)]), "holds image/png bytes but declares image/jpeg"),
    ("a photo too large", lambda w: w.owner([photo(body=JPEG + b"\0" * (2 * 1024 * 1024))]), "at most 2097152"),
    ("a photo without its body", lambda w: w.owner([{**photo(), "_attachments": _STUB}]), "must carry its image data"),
    ("an answer missing", lambda w: w.owner([self_check(answers=_answers(gas_safe=None))]), "gas_safe not answered"),
    ("a photo missing", lambda w: w.owner([self_check(answers=_answers(gas_safe={"value": True}))]), "needs a photo"),
    ("a deadline far away", lambda w: w.grid([patrol(findings=_finding("9999-12-31"))]), "more than 366 days away"),
    ("a deadline passed", lambda w: w.grid([patrol(findings=_finding("2020-01-01"))]), "before the patrol"),
    (
        "an answer and a photo missing",
        lambda w: w.owner([self_check(answers=_answers(gas_safe={"value": True}, wiring_ok=None))]),
        "answers.gas_safe.photos: this item needs a photo; answers: wiring_ok not answered",
    ),
]


@pytest.mark.parametrize(("case", "push", "english"), ORDINARY, ids=[c[0] for c in ORDINARY])
def test_a_phones_ordinary_refusals_are_chinese_first(world: World, case: str, push: Any, english: str) -> None:
    """What the office's sync monitor and the phone show (`reasonIn`): the Chinese part, or the English after the
    last 。, which still says what the English alone said; the error stays `forbidden`, which PouchDB skips."""
    [answer] = push(world)
    refused(answer, english)
    assert chinese_first(answer["reason"]), answer["reason"]
    assert english in answer["reason"].rpartition("。")[2]
    [kept] = [i for i in world.quarantine()["items"] if i["doc_id"] == answer["id"]]
    assert kept["reason"] == answer["reason"]


# ----- the reasons only a hand-made request meets: said Chinese first all the same, the error names unchanged


def _deleted(world: World) -> list[dict[str, Any]]:
    doc = self_check()
    [written] = world.owner([doc])
    return world.owner([{**doc, "_rev": written["rev"], "_deleted": True}])


def _with(**changed: Any) -> Any:
    return lambda w: w.owner([self_check() | changed])


def _without(field: str) -> Any:
    return lambda w: w.owner([{k: v for k, v in self_check().items() if k != field}])


_EVERY_FIELD_WRONG = {"schema": 2, "score": 1, "device": 7, "performed_at": "yesterday"}
HANDMADE: list[tuple[str, Any, str]] = [
    ("an id of no partition", _with(_id="nocolon"), "Document id must have the form {partition}:{type}:{key}"),
    ("a deletion", _deleted, "events are immutable: a document cannot be deleted"),
    ("a shared partition", _with(_id=f"district:self_check:{new_ulid()}", shop="district"), "holds shared data"),
    ("a server's type", _with(type="score"), "score documents are written by the server, never through /sync/"),
    ("no event type", _with(type="note"), "type must be an event type: self_check, patrol"),
    ("no type at all", _with(type=None), "type must be an event type"),
    ("an unknown field", _with(score=100), "unknown field (not part of wire format v1)"),
    ("a field missing", _without("device"), "required field is missing"),
    ("no id", _without("_id"), "Document must have an _id"),  # a bad_request, said so in a batch's forbidden
    ("a number for a text", _with(device=7), "must be a string"),
    ("a time of no time", _with(performed_at="yesterday"), "must be an ISO 8601 time"),
    ("a time without its zone", _with(performed_at="2026-11-28T09:30:00"), "naive times are refused"),
    ("another schema", _with(schema=2), "must be 1 (wire format v1)"),
    ("an id of no ULID", _with(_id="S0001:self_check:not-a-ulid"), "_id must have the form {shop}:self_check:"),
    ("a shop of another id", _with(shop="S0003"), "'S0003' must equal the id's partition 'S0001'"),
    ("answers of a list", _with(answers=[]), "must be a JSON object"),
    ("an answer of a text", _with(answers=_answers(open_flame={"value": "maybe"})), 'a whole number or "na"'),
    ("an item of no template", _with(answers=_answers(karaoke={"value": True})), "not an item of"),
    ("a number for yes or no", _with(answers=_answers(open_flame={"value": 3})), "must be true or false"),
    ("yes for a number", _with(answers=_answers(sleeping_people={"value": True})), "must be a whole number ≥ 0"),
    (
        "another shop's photo",
        _with(answers=_answers(open_flame={"value": True, "photos": [f"S0002:photo:{new_ulid()}"]})),
        "belongs to another shop",
    ),
    ("a check with a picture", _with(_attachments=photo()["_attachments"]), "only photo documents carry attachments"),
    ("a photo named .gif", lambda w: w.owner([photo(name="photo.gif", content_type="image/gif")]), "is not one of"),
    ("every field wrong", _with(**_EVERY_FIELD_WRONG), "and 1 more"),
    (
        "a rectification of nothing",
        lambda w: w.owner([event("rectification", "S0001", "owner:S0001", hazard=hazard(), note=" ")]),
        "a rectification needs a photo or a note",
    ),
    (
        "two findings of one id",
        lambda w: w.grid([patrol(findings=[*patrol()["findings"], *patrol()["findings"]])]),
        "every finding needs its own id",
    ),
]


@pytest.mark.parametrize(("case", "push", "english"), HANDMADE, ids=[c[0] for c in HANDMADE])
def test_a_hand_made_documents_refusals_are_chinese_first_too(world: World, case: str, push: Any, english: str) -> None:
    """An id of no partition, a deletion, a shared partition, a type no device writes, a field of the wrong shape:
    only a request made by hand meets them, and they were English only while a phone's ordinary refusals were
    Chinese first. They are too, the English after the last 。 still saying what it said; the error stays
    `forbidden`, which PouchDB skips."""
    [answer] = push(world)
    refused(answer, english)
    assert chinese_first(answer["reason"]), answer["reason"]
    assert english in answer["reason"].rpartition("。")[2]


# ----- the rules as a function, on both backends, with the clock of the events (a demo generator replaying history)


async def test_check_event_write_on_each_backend_with_the_clock_as_a_parameter(store: Store) -> None:
    then = datetime(2025, 3, 1, 10, 0, tzinfo=CST)
    owner, scope = Principal("owner:S0001", "owner"), Scope(frozenset({"S0001", "district"}))
    doc = self_check(performed_at=(then - timedelta(hours=1)).isoformat())
    ctx = WriteContext(store, then)
    await check_event_write(ctx, owner, scope, doc, True)
    with pytest.raises(CouchError, match="immutable"):  # the context remembers what it let through
        await check_event_write(ctx, owner, scope, doc, True)
    with pytest.raises(CouchError, match="10 minutes ahead"):
        await check_event_write(ctx, owner, scope, self_check(performed_at=now()), True)
    # What the store holds, looked up fresh: a replayed revision passes, another revision does not.
    sent = {**doc, "_rev": "1-" + "a" * 32, "_revisions": {"start": 1, "ids": ["a" * 32]}}
    assert await store.bulk_docs([sent], new_edits=False) == []
    ctx = WriteContext(store, then)
    await ctx.prepare([sent], new_edits=False)
    await check_event_write(ctx, owner, scope, sent, False)
    other = {**sent, "_rev": "1-" + "b" * 32, "_revisions": {"start": 1, "ids": ["b" * 32]}}
    with pytest.raises(CouchError, match="immutable"):
        await check_event_write(WriteContext(store, then), owner, scope, other, False)
    with pytest.raises(CouchError, match="immutable"):
        await check_event_write(WriteContext(store, then), owner, scope, doc, True)


def receipts(world: World) -> list[dict[str, Any]]:
    """Shop S0001's receipts, as `_all_docs` rows with their documents (the operator's read)."""
    rows: list[dict[str, Any]] = world.client.get(
        "/sync/_all_docs?include_docs=true&startkey=%22S0001:receipt:%22&endkey=%22S0001:receipt:%EF%BF%B0%22",
        headers=world.headers("admin", "admin"),
    ).json()["rows"]
    return rows


def test_the_gateway_notes_when_it_received_an_owners_self_checks(either_world: World) -> None:
    """SPEC counts a week's self-check when it is *received* within the grace period: the gateway writes a
    receipt with the checks, the phone's answer is about its own documents only, and no device writes one."""
    world = either_world
    checks = [self_check(), self_check()]
    before = datetime.now(UTC)
    for new_edits in (True, False):
        fresh = [{**c, "_id": f"S0001:self_check:{new_ulid()}", "_rev": "1-" + "a" * 32} for c in checks]
        docs = checks if new_edits else fresh  # (a copy's id with its last letter changed was its own 1 time in 32)
        answers = world.owner(docs, new_edits=new_edits)
        assert answers == ([] if not new_edits else answers) and all("receipt" not in str(a) for a in answers)
        assert len(answers) == (2 if new_edits else 0)
    rows = receipts(world)
    received = [row["doc"] for row in rows]
    assert len(received) == 2 and [len(r["events"]) for r in received] == [2, 2]
    assert set(received[0]["events"]) | set(received[1]["events"]) >= {c["_id"] for c in checks}
    moment = datetime.fromisoformat(received[0]["received_at"].replace("Z", "+00:00"))
    assert before - timedelta(seconds=1) <= moment <= datetime.now(UTC)
    # A grid worker's patrol needs none; a device cannot write one; the operator's writes get none.
    world.grid([patrol()])
    forged = {**received[0], "_id": "S0001:receipt:" + new_ulid(), "received_at": "2026-01-01T00:00:00Z"}
    del forged["_rev"]
    refused(world.owner([forged])[0], "written by the server")
    world.push("admin", "admin", [self_check()])
    rows = receipts(world)
    assert len(rows) == 2


def test_the_gateway_notes_when_it_received_an_owners_rectifications(either_world: World) -> None:
    """A rectification's `performed_at` alone could be set back to date a late fix "in time" (the audit's probe:
    dated on the deadline, pushed five weeks later): it gets a receipt as a self-check does, in the same one when
    they come together; a grid worker's verification needs none."""
    world = either_world
    fix = event("rectification", "S0001", "owner:S0001", hazard=hazard(), note="换了新灭火器")
    check = self_check()
    before = datetime.now(UTC)
    ok(world.owner([check, fix]))
    ok(world.grid([event("verification", "S0001", "grid:zhou", hazard=fix["hazard"], passed=True)]))
    rows = receipts(world)
    [received] = [row["doc"] for row in rows]
    assert received["events"] == [check["_id"], fix["_id"]]
    moment = datetime.fromisoformat(received["received_at"].replace("Z", "+00:00"))
    assert before - timedelta(seconds=1) <= moment <= datetime.now(UTC)


def test_a_receipt_names_only_the_events_the_store_took_as_new(either_world: World) -> None:
    """A receipt dates an event's arrival, and the earliest one naming an id counts. So none is written for a
    revision the store already holds (a phone sending its batch again), and one never names a document the store
    refused after the rules let it through (a bad revision path, a conflict): with such a receipt a device could
    reserve a moment for an id, and later send a self-check with that id, dated in a week it missed, that would
    count as received in time."""
    world = either_world
    pushed = {**self_check(), "_rev": "1-" + "a" * 32, "_revisions": {"start": 1, "ids": ["a" * 32]}}
    assert world.owner([pushed], new_edits=False) == []
    assert world.owner([pushed], new_edits=False) == []  # its replay: the same revision again
    [first] = [row["doc"] for row in receipts(world)]
    assert first["events"] == [pushed["_id"]]
    # Refused by the store, not by the rules, each beside a document it takes, in the same batch: a revision path
    # that does not lead to its `_rev` (the embedded store refuses it; CouchDB keeps the path's revision) and a
    # `_rev` for a document the store never had (a conflict on both).
    kept = {**self_check(), "_rev": "1-" + "d" * 32, "_revisions": {"start": 1, "ids": ["d" * 32]}}
    broken = {**self_check(), "_rev": "1-" + "b" * 32, "_revisions": {"start": 1, "ids": ["c" * 32]}}
    world.owner([kept, broken], new_edits=False)
    fresh, conflicting = self_check(), {**self_check(), "_rev": "1-" + "e" * 32}
    done, clash = world.owner([fresh, conflicting])
    assert done.get("ok") and clash.get("error") == "conflict", (done, clash)
    alone = {**self_check(), "_rev": "1-" + "f" * 32}  # a batch of one refused document: its receipt goes
    assert world.owner([alone])[0].get("error") == "conflict"
    sent = [pushed, kept, broken, fresh, conflicting, alone]
    held = [doc["_id"] for doc in sent if world.stored(doc["_id"]) is not None]
    assert conflicting["_id"] not in held and alone["_id"] not in held and kept["_id"] in held
    named = [e for row in receipts(world) for e in row["doc"]["events"]]
    assert sorted(named) == sorted(held), named
    # An event the store holds without a receipt (on CouchDB a request can store the events and fail before their
    # receipt, the phone then sending them again): its replay is noted, once.
    stranded = {**self_check(), "_rev": "1-" + "9" * 32, "_revisions": {"start": 1, "ids": ["9" * 32]}}
    assert world.push("admin", "admin", [stranded], new_edits=False) == []  # the operator's write: no receipt
    for _ in range(2):
        assert world.owner([stranded], new_edits=False) == []
    assert [e for row in receipts(world) for e in row["doc"]["events"]].count(stranded["_id"]) == 1
    # The refused id sent again for real gets the receipt of its own arrival, the only one naming it.
    again = {k: v for k, v in conflicting.items() if k != "_rev"}
    ok(world.owner([again]))
    assert [row["doc"]["events"] for row in receipts(world)].count([conflicting["_id"]]) == 1


def test_the_restores_are_read_once_on_the_embedded_store_and_never_on_couchdb(
    either_world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The restore marker (`_local/server/restores`) is the embedded store's (`mashang restore`): it is read at the
    first owner's write and kept for the app's life; on CouchDB, which is never restored so, it is never read, and
    the receipts are of the moment the gateway received the events."""
    world = either_world
    store = world.client.app.state.store  # type: ignore[attr-defined]
    asked: list[str] = []
    real = store.get_local

    async def get_local(local_id: str) -> Any:
        asked.append(local_id)
        return await real(local_id)

    monkeypatch.setattr(store, "get_local", get_local)
    before = datetime.now(UTC)
    for new_edits in (True, False, True):
        sent = {**self_check(), **({} if new_edits else {"_rev": "1-" + "c" * 32})}
        answers = world.owner([sent], new_edits=new_edits)
        assert all(a.get("ok") for a in answers) and len(answers) == (1 if new_edits else 0), answers
    assert asked.count("server/restores") == (1 if store.kind == "sqlite" else 0), asked
    rows = receipts(world)
    assert len(rows) == 3
    for row in rows:
        moment = datetime.fromisoformat(row["doc"]["received_at"].replace("Z", "+00:00"))
        assert before - timedelta(seconds=1) <= moment <= datetime.now(UTC)
