"""The office brings in a phone's exported file: what the phone could not upload reaches the server, under its
author's rules, each document with its outcome and reason."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from server.ids import new_ulid
from tests.api.conftest import World, open_world
from tests.api.test_alarm_flow import wait_until
from tests.backends import BACKENDS, store_settings
from tests.validators.builders import gas_leak_patrol
from tests.worlds import shop_fields

JPEG = b"\xff\xd8\xff\xe0" + b"mashang photo" * 20 + b"\xff\xd9"
Json = dict[str, Any]


def kept(doc: Json) -> Json:
    """`doc` as the phone keeps it: with the revision PouchDB gave it."""
    rev = "1-" + hashlib.md5(repr(sorted(doc.items())).encode(), usedforsecurity=False).hexdigest()
    return {**doc, "_rev": rev}


def photo_of(patrol: Json) -> Json:
    """The patrol's photo as the export holds it: the JPEG in base64."""
    photo_id = patrol["answers"]["gas_safe"]["photos"][0]
    return kept(
        {
            "_id": photo_id,
            "type": "photo",
            "schema": 1,
            "shop": patrol["shop"],
            "performed_at": patrol["performed_at"],
            "taken_at": patrol["performed_at"],
            "created_by": patrol["created_by"],
            "device": patrol["device"],
            "_attachments": {"photo.jpg": {"content_type": "image/jpeg", "data": base64.b64encode(JPEG).decode()}},
        }
    )


def export(docs: list[Json], refused: list[Json] | None = None) -> Json:
    return {"exported_at": "2026-11-29T10:00:00.000Z", "device": "d-zhou", "docs": docs, "refused": refused or []}


def bring_in(world: World, body: Any, headers: dict[str, str]) -> Any:
    return world.client.post("/api/office/device-exports", json=body, headers=headers)


def outcomes(answer: Json) -> dict[str, tuple[str, str | None]]:
    return {str(item["id"]): (item["outcome"], item.get("reason")) for item in answer["items"]}


def test_a_phones_file_reaches_the_server_under_its_authors_rules(world: World) -> None:
    office = world.login("wang", "wang-password")
    zhou = world.login("zhou", "zhou-password")
    patrol = kept(gas_leak_patrol("S0001", "grid:zhou", "d-zhou"))  # a serious finding: an alarm once it is in
    photo = photo_of(patrol)
    uploaded = kept(gas_leak_patrol("S0002", "grid:zhou", "d-zhou"))  # the phone sent this one before it broke
    replicated = {"docs": [{**uploaded, "_revisions": {"start": 1, "ids": [uploaded["_rev"][2:]]}}], "new_edits": False}
    assert world.client.post("/sync/_bulk_docs", json=replicated, headers=zhou).json() == []
    not_his = kept(gas_leak_patrol("S0003", "grid:zhou", "d-zhou"))  # S0003 is li's grid
    stranger = kept({**gas_leak_patrol("S0001", "grid:nobody", "d-x")})
    # Refused before because the phone's clock ran a day ahead; as exported, the patrol is fine now.
    retried = kept(gas_leak_patrol("S0002", "grid:zhou", "d-zhou"))
    refused = [{"id": retried["_id"], "reason": "performed_at is in the future", "at": "x", "doc": retried}]
    body = export([patrol, photo, uploaded, not_his, stranger, {"junk": True}], refused)

    resp = bring_in(world, body, office)
    assert resp.status_code == 200, resp.text
    answer = resp.json()
    got = outcomes(answer)
    assert got[patrol["_id"]] == ("stored", None) and got[photo["_id"]] == ("stored", None)
    assert got[uploaded["_id"]] == ("already", None)
    assert got[retried["_id"]] == ("stored", None)
    assert got[not_his["_id"]][0] == "refused" and "S0003" in str(got[not_his["_id"]][1])
    assert got[stranger["_id"]] == ("refused", "no account grid:nobody (or it is disabled)")
    assert got["None"] == ("refused", "not a document of a shop")
    assert answer["counts"] == {"stored": 3, "already": 1, "refused": 3}
    assert [item["from"] for item in answer["items"]][-1] == "refused"

    # What was stored is the phone's own revision (its next sync agrees), and the validators projected it.
    stored = world.client.get(f"/sync/{patrol['_id']}", headers=world.admin()).json()
    assert stored["_rev"] == patrol["_rev"] and stored["created_by"] == "grid:zhou"
    picture = world.client.get(f"/api/office/photos/{photo['_id']}", headers=office)
    assert picture.status_code == 200 and picture.content == JPEG
    alarm_id = f"S0001:alarm:{patrol['_id'].rsplit(':', 1)[1]}"
    wait_until(lambda: any(a["_id"] == alarm_id for a in open_alarms(world, office)))
    # The office saw each refusal in its answer: none is kept in the quarantine as the author's.
    assert world.client.get("/api/office/quarantine", headers=office).json()["items"] == []
    audit = world.client.get("/api/office/audit", headers=office).json()["items"]
    assert any(e["event"] == "device_export" and "3 stored" in e["detail"] for e in audit)

    # The same file again: nothing is written twice.
    again = bring_in(world, body, office).json()
    assert again["counts"] == {"stored": 0, "already": 4, "refused": 3}


def open_alarms(world: World, headers: dict[str, str]) -> list[Json]:
    items: list[Json] = world.client.get("/api/office/alarms?status=open", headers=headers).json()["items"]
    return items


def test_a_sub_district_office_brings_in_its_own_shops_documents_only(world: World) -> None:
    registry, accounts = world.state.registry, world.state.accounts
    world.call(accounts.create_staff, "grid", "qian", "qian-password", "小钱", "xihu")
    world.call(registry.put_community, "xc", "西溪社区", "xihu")
    world.call(registry.put_grid, "xg", "西溪一网格", "xc", ["qian"], ["T0001"])
    world.call(registry.put_shop, shop_fields("T0001", "xg", community="xc"))
    world.call(accounts.create_staff, "office", "sun", "sun-password", "孙", "xihu")
    ours = kept(gas_leak_patrol("T0001", "grid:qian", "d-qian"))
    theirs = kept(gas_leak_patrol("S0001", "grid:zhou", "d-zhou"))
    answer = bring_in(world, export([ours, theirs]), world.login("sun", "sun-password")).json()
    got = outcomes(answer)
    assert got[ours["_id"]] == ("stored", None)
    assert got[theirs["_id"]] == ("refused", "没有编号为 S0001 的店铺。No shop S0001.")  # as a shop there is not
    assert world.client.get(f"/sync/{theirs['_id']}", headers=world.admin()).status_code == 404


def test_what_is_not_a_phones_file_is_refused_with_a_reason(world: World) -> None:
    office = world.login("wang", "wang-password")
    old = (datetime.now(ZoneInfo("Asia/Shanghai")) - timedelta(days=200)).isoformat(timespec="seconds")
    stale = kept({**gas_leak_patrol("S0001", "grid:zhou", "d-zhou"), "performed_at": old})
    answer = bring_in(world, export([stale]), office).json()
    assert answer["items"][0]["outcome"] == "refused" and "performed_at" in answer["items"][0]["reason"]
    unrevised = gas_leak_patrol("S0001", "grid:zhou", "d-zhou")
    assert outcomes(bring_in(world, export([unrevised]), office).json())[unrevised["_id"]][0] == "refused"
    for body, reason in (
        ([], "JSON object"),
        ({"docs": {}}, "docs"),
        ({"refused": []}, "docs"),
        (export([]), "no documents"),
        (export([{"_id": f"S0001:patrol:{new_ulid()}"}] * 5001), "at most 5000"),
    ):
        resp = bring_in(world, body, office)
        assert resp.status_code == 400 and reason in resp.json()["reason"], (
            body if len(str(body)) < 200 else "",
            resp.text,
        )
    grid = world.login("zhou", "zhou-password")
    assert bring_in(world, export([stale]), grid).status_code == 403


@pytest.fixture(params=BACKENDS)
def either_world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    with store_settings(request, request.param) as on, open_world(tmp_path, **on) as w:
        yield w


def test_a_document_whose_id_names_no_shop_is_refused_alone_on_either_backend(either_world: World) -> None:
    """Its id (a shop's code) is looked up with the others: a partitioned CouchDB refuses a read of an id without a
    partition whole, which refused the whole file there."""
    patrol = kept(gas_leak_patrol("S0001", "grid:zhou", "d-zhou"))
    junk = kept({**gas_leak_patrol("S0001", "grid:zhou", "d-zhou"), "_id": "S0001"})
    resp = bring_in(either_world, export([patrol, junk]), either_world.login("wang", "wang-password"))
    assert resp.status_code == 200, resp.text
    assert outcomes(resp.json()) == {patrol["_id"]: ("stored", None), "S0001": ("refused", "not a document of a shop")}
