"""Every way of reading another shop through `/sync/`, as an owner (against the next shop of their grid), a grid
worker (against a shop of another grid) and the office (whose scope is the district's shared documents only).

A read outside the scope must look exactly like a read of a document that does not exist: the same status, the
same body, no revision, no count, no attachment byte."""

from __future__ import annotations

import json
import threading
import time
import uuid
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from tests.security.conftest import Attack, Json, User, World
from tests.security.docs import self_check

MISSING = {"error": "not_found", "reason": "missing"}
NOBODY = "1-" + "0" * 32


def own_id(world: World, user: User) -> str:
    """A document the user may read: the newest of their shop, or a shared district document."""
    ids = sorted(world.ids_in(user.shops)) or sorted(world.ids_in(frozenset({"district"})))
    return ids[-1]


def made_up(attack: Attack) -> str:
    return f"{attack.victim.shop}:self_check:01JDX0000000000000000NOPE0"


def assert_no_leak(resp: httpx.Response, attack: Attack) -> None:
    """Nothing of the victim's documents is in the answer: none of their revisions."""
    for rev in attack.victim.revs:
        assert rev not in resp.text, resp.text[:500]


def get(world: World, user: User, path: str, **kwargs: Any) -> httpx.Response:
    return world.http.get(path, headers=user.headers, **kwargs)


def post(world: World, user: User, path: str, body: Any) -> httpx.Response:
    return world.http.post(path, json=body, headers=user.headers)


def result_ids(resp: httpx.Response, key: str = "results") -> set[str]:
    assert resp.status_code == 200, resp.text
    return {r["id"] for r in resp.json()[key]}


# ----- the changes feed -----


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?style=all_docs&include_docs=true&conflicts=true&attachments=true",
        "?descending=true&include_docs=true",
        "?since=0&limit=1000&style=all_docs",
    ],
)
def test_changes_feed_is_exactly_the_scope(world: World, attack: Attack, query: str) -> None:
    resp = get(world, attack.attacker, f"/sync/_changes{query}")
    assert result_ids(resp) == world.ids_in(attack.attacker.scope)
    assert attack.victim.shop + ":" not in resp.text
    assert_no_leak(resp, attack)


def test_changes_pending_counts_only_the_scope(world: World, attack: Attack) -> None:
    resp = get(world, attack.attacker, "/sync/_changes?limit=1")
    assert len(result_ids(resp)) == 1
    assert resp.json()["pending"] == len(world.ids_in(attack.attacker.scope)) - 1


def test_longpoll_changes_do_not_wake_for_another_shop(world: World, attack: Attack) -> None:
    user = attack.attacker
    since = get(world, user, "/sync/_changes?since=now").json()["last_seq"]
    answer: dict[str, httpx.Response] = {}

    def wait() -> None:
        with httpx.Client(base_url=world.gw.url, timeout=30) as c:
            answer["resp"] = c.get(
                f"/sync/_changes?feed=longpoll&since={since}&timeout=1500&include_docs=true", headers=user.headers
            )

    waiter = threading.Thread(target=wait)
    started = time.monotonic()
    waiter.start()
    time.sleep(0.3)
    theirs = self_check(attack.victim.shop, f"owner:{attack.victim.shop}")
    assert world.http.post("/sync/_bulk_docs", json={"docs": [theirs]}, headers=world.admin).json()[0]["ok"]
    waiter.join()
    resp = answer["resp"]
    assert resp.status_code == 200, resp.text
    assert resp.json()["results"] == [] and theirs["_id"] not in resp.text
    assert time.monotonic() - started >= 1.4  # it waited the whole timeout: the other shop's write did not end it


@pytest.mark.parametrize("how", ["get", "post"])
def test_changes_doc_ids_filter_drops_other_shops(world: World, attack: Attack, how: str) -> None:
    mine = own_id(world, attack.attacker)
    asked = [*attack.victim.ids, made_up(attack), mine]
    if how == "get":
        resp = get(
            world,
            attack.attacker,
            "/sync/_changes",
            params={"filter": "_doc_ids", "doc_ids": json.dumps(asked), "include_docs": "true"},
        )
    else:
        resp = post(world, attack.attacker, "/sync/_changes?filter=_doc_ids&include_docs=true", {"doc_ids": asked})
    assert result_ids(resp) == {mine}
    assert_no_leak(resp, attack)


@pytest.mark.parametrize("selector", ["shop", "id_regex", "type"])
def test_changes_selector_filter_stays_in_the_scope(world: World, attack: Attack, selector: str) -> None:
    shop = attack.victim.shop
    sel = {
        "shop": {"shop": shop},
        "id_regex": {"_id": {"$regex": f"^{shop}:"}},
        "type": {"type": {"$in": ["self_check", "photo", "patrol"]}},
    }[selector]
    resp = post(world, attack.attacker, "/sync/_changes?filter=_selector&include_docs=true", {"selector": sel})
    if selector == "id_regex":  # devices may not send $regex at all (a backtracking pattern stalls the gateway)
        assert resp.status_code == 400 and "$regex" in resp.json()["reason"]
        assert_no_leak(resp, attack)
        return
    ids = result_ids(resp)
    assert all(i.split(":", 1)[0] in attack.attacker.scope for i in ids), ids
    if selector != "type":
        assert ids == set()
    assert_no_leak(resp, attack)


# ----- documents, one by one and in bulk -----


def test_bulk_get_answers_not_found_for_other_shops(world: World, attack: Attack) -> None:
    mine = own_id(world, attack.attacker)
    v = attack.victim
    reqs = [{"id": v.check_id}, {"id": v.photo_id}, {"id": v.check_id, "rev": v.check_rev}, {"id": mine}]
    resp = post(world, attack.attacker, "/sync/_bulk_get?revs=true&attachments=true&latest=true", {"docs": reqs})
    assert resp.status_code == 200, resp.text
    results = resp.json()["results"]
    for res in results[:3]:
        [only] = res["docs"]
        assert set(only) == {"error"} and only["error"]["error"] == "not_found" and only["error"]["reason"]
    assert "ok" in results[3]["docs"][0]
    unasked = json.dumps([*results[:2], results[3]])  # the third echoes the revision it was asked for, nothing more
    assert v.check_rev not in unasked and v.photo_rev not in resp.text


DOC_QUERIES = [
    "",
    "?rev={rev}",
    "?open_revs=all",
    '?open_revs=["{rev}"]',
    "?revs_info=true",
    "?revs=true&conflicts=true&deleted_conflicts=true",
    "?attachments=true",
    "?latest=true&rev={rev}",
]


@pytest.mark.parametrize(
    "query",
    DOC_QUERIES,
    ids=["plain", "rev", "open_revs_all", "open_revs_list", "revs_info", "revs_conflicts", "attachments", "latest"],
)
def test_get_of_another_shops_document_looks_missing(world: World, attack: Attack, query: str) -> None:
    v = attack.victim
    for doc_id, rev in ((v.check_id, v.check_rev), (v.photo_id, v.photo_rev)):
        resp = get(world, attack.attacker, f"/sync/{doc_id}" + query.format(rev=rev))
        nothing = get(world, attack.attacker, f"/sync/{made_up(attack)}" + query.format(rev=NOBODY))
        assert (resp.status_code, resp.json()) == (404, MISSING) == (nothing.status_code, nothing.json())
        assert_no_leak(resp, attack)
    head = world.http.head(f"/sync/{v.check_id}", headers=attack.attacker.headers)
    assert head.status_code == 404 and v.check_rev not in str(head.headers)


@pytest.mark.parametrize("with_rev", [False, True])
def test_attachment_of_another_shop_looks_missing(world: World, attack: Attack, with_rev: bool) -> None:
    v = attack.victim
    path = f"/sync/{v.photo_id}/{quote(v.attachment)}" + (f"?rev={v.photo_rev}" if with_rev else "")
    assert world.http.get(path, headers=world.admin).status_code == 200  # it is there
    resp = get(world, attack.attacker, path)
    assert (resp.status_code, resp.json()) == (404, MISSING)
    assert b"\xff\xd8\xff" not in resp.content and b"PNG" not in resp.content and "ETag" not in resp.headers


# ----- all_docs -----


def test_all_docs_key_range_of_another_shop_is_empty(world: World, attack: Attack) -> None:
    shop = attack.victim.shop
    params = {"startkey": json.dumps(f"{shop}:"), "endkey": json.dumps(f"{shop}:\ufff0"), "include_docs": "true"}
    resp = get(world, attack.attacker, "/sync/_all_docs", params=params)
    assert resp.status_code == 200, resp.text
    assert resp.json()["rows"] == [] and resp.json()["total_rows"] == 0
    assert_no_leak(resp, attack)


@pytest.mark.parametrize(
    "query",
    [
        "?include_docs=true&conflicts=true",
        "?descending=true&skip=1",
        "?startkey=%22%22&endkey=%22%EF%BF%B0%22&limit=100000",
    ],
)
def test_all_docs_lists_only_the_scope_and_counts_only_it(world: World, attack: Attack, query: str) -> None:
    resp = get(world, attack.attacker, f"/sync/_all_docs{query}")
    ids = result_ids(resp, "rows")
    assert ids <= world.ids_in(attack.attacker.scope) and ids
    assert resp.json()["total_rows"] == len(resp.json()["rows"])
    assert_no_leak(resp, attack)


@pytest.mark.parametrize("how", ["get", "post"])
def test_all_docs_keys_of_another_shop_are_not_found(world: World, attack: Attack, how: str) -> None:
    mine = own_id(world, attack.attacker)
    keys = [*attack.victim.ids, made_up(attack), mine]
    if how == "get":
        resp = get(world, attack.attacker, "/sync/_all_docs", params={"keys": json.dumps(keys), "include_docs": "true"})
    else:
        resp = post(world, attack.attacker, "/sync/_all_docs?include_docs=true", {"keys": keys})
    assert resp.status_code == 200, resp.text
    rows = resp.json()["rows"]
    assert rows[:3] == [{"key": k, "error": "not_found"} for k in keys[:3]]
    assert rows[3]["id"] == mine and "value" in rows[3]
    assert_no_leak(resp, attack)


@pytest.mark.parametrize("partition", ["accounts", "registry", "quarantine"])
def test_server_partitions_are_unreadable_by_any_device(world: World, attack: Attack, partition: str) -> None:
    [refused] = world.push(attack.attacker, [{"_id": f"{partition}:refused:x", "type": "nothing"}])
    assert refused["error"] == "forbidden"  # so that the quarantine holds at least one entry
    existing = sorted(world.ids_in(frozenset({partition})))
    assert existing
    user = attack.attacker
    params = {"startkey": json.dumps(f"{partition}:"), "endkey": json.dumps(f"{partition}:\ufff0")}
    assert result_ids(get(world, user, "/sync/_all_docs", params=params), "rows") == set()
    for doc_id in [existing[0], existing[-1], f"accounts:user:{user.user_id}"]:
        assert get(world, user, f"/sync/{doc_id}").status_code == 404
    resp = post(world, user, "/sync/_bulk_get", {"docs": [{"id": i} for i in existing[:20]]})
    assert "password_hash" not in resp.text and "pin_hash" not in resp.text and '"ok"' not in resp.text
    assert not any(i.startswith(f"{partition}:") for i in result_ids(get(world, user, "/sync/_changes")))


# ----- revs_diff, database info, checkpoints, other endpoints -----


def test_revs_diff_does_not_reveal_what_exists_elsewhere(world: World, attack: Attack) -> None:
    v = attack.victim
    asked = {v.check_id: [v.check_rev, NOBODY], v.photo_id: [v.photo_rev], made_up(attack): [NOBODY, v.check_rev]}
    resp = post(world, attack.attacker, "/sync/_revs_diff", asked)
    assert resp.status_code == 200, resp.text
    assert resp.json() == {k: {"missing": revs} for k, revs in asked.items()}  # no possible_ancestors either


def test_database_info_counts_nothing_outside_the_scope(world: World, attack: Attack) -> None:
    resp = get(world, attack.attacker, "/sync/")
    assert resp.status_code == 200, resp.text
    info = resp.json()
    assert info["db_name"] == "sync"
    assert [info[k] for k in ("doc_count", "doc_del_count", "data_size", "disk_size")] == [0, 0, 0, 0]
    admin = world.http.get("/sync/", headers=world.admin).json()
    assert admin["doc_count"] > 0  # the operator sees the real counts


def test_another_users_checkpoints_are_out_of_reach(world: World, attack: Attack) -> None:
    user, other = attack.attacker, attack.other_user
    local = f"_local/{uuid.uuid4().hex}"
    put = world.http.put(f"/sync/{local}", json={"last_seq": 42, "session_id": "theirs"}, headers=other.headers)
    assert put.status_code == 201, put.text
    rev = put.json()["rev"]
    for path in (
        local,
        f"_local/..%2F..%2F{quote(other.user_id)}%2Fs0%2F{local[7:]}",
        f"_local/../user/{other.user_id}/s0/{local[7:]}",
    ):
        resp = get(world, user, f"/sync/{path}")
        assert (resp.status_code, resp.json()) == (404, MISSING), path
    assert world.http.delete(f"/sync/{local}?rev={rev}", headers=user.headers).status_code == 404
    mine = world.http.put(f"/sync/{local}", json={"last_seq": 0, "session_id": "mine"}, headers=user.headers)
    assert mine.status_code == 201  # the attacker's own checkpoint of the same name, in their own namespace
    theirs = get(world, other, f"/sync/{local}").json()
    assert theirs["last_seq"] == 42 and theirs["_rev"] == rev


@pytest.mark.parametrize("local", ["server/secret", "server/token-versions", "demo/district"])
def test_server_local_documents_are_out_of_reach(world: World, attack: Attack, local: str) -> None:
    for headers in (attack.attacker.headers, world.admin):
        resp = world.http.get(f"/sync/_local/{local}", headers=headers)
        assert (resp.status_code, resp.json()) == (404, MISSING)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/sync/_partition/{shop}/_all_docs"),
        ("POST", "/sync/_partition/{shop}/_find"),
        ("POST", "/sync/_find"),
        ("GET", "/sync/_design_docs"),
        ("GET", "/sync/_design/x/_view/y"),
        ("GET", "/sync/_security"),
        ("POST", "/sync/_explain"),
        ("POST", "/sync/_purge"),
        ("GET", "/sync/_index"),
    ],
)
def test_other_couchdb_endpoints_do_not_exist(world: World, attack: Attack, method: str, path: str) -> None:
    body: Json = {"selector": {"shop": attack.victim.shop}, attack.victim.check_id: [attack.victim.check_rev]}
    resp = world.http.request(method, path.format(shop=attack.victim.shop), json=body, headers=attack.attacker.headers)
    assert (resp.status_code, resp.json()) == (404, MISSING)
