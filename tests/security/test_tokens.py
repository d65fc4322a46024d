"""Tokens that must not open anything: forged, tampered, unsigned, expired, revoked, of a deleted or disabled account;
and real tokens used beyond their role (an owner on a grid worker's shops, devices on the office's desk)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import httpx
import jwt
import pytest

from server.auth import Principal, Tokens
from server.errors import CouchError
from tests.security.conftest import SECRET, Json, User, World
from tests.security.docs import patrol, self_check


def claims_of(token: str) -> Json:
    claims: Json = jwt.decode(token, options={"verify_signature": False})
    return claims


def mint(claims: Json, secret: str = SECRET, algorithm: str = "HS256") -> str:
    return jwt.encode(claims, secret, algorithm=algorithm)


def _b64(data: Json) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def tampered(token: str, **changes: Any) -> str:
    """The token with its payload edited and its signature kept."""
    header, _, signature = token.split(".")
    return f"{header}.{_b64({**claims_of(token), **changes})}.{signature}"


def unsigned(claims: Json) -> str:
    return f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."


def signed_with_empty_key(claims: Json) -> str:
    """HS256 with an empty key, which PyJWT refuses to make: built by hand."""
    head = f"{_b64({'alg': 'HS256', 'typ': 'JWT'})}.{_b64(claims)}"
    mac = hmac.new(b"", head.encode(), hashlib.sha256).digest()
    return f"{head}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"


def bad_tokens(world: World) -> dict[str, str | None]:
    """Authorization headers that must all be refused, by name."""
    owner = world.owner
    real = claims_of(owner.token)
    now = int(time.time())
    fine = {"sub": owner.user_id, "role": "owner", "ver": real["ver"], "iat": now, "exp": now + 3600}
    return {
        "missing": None,
        "basic_scheme": "Basic " + base64.b64encode(f"{owner.user_id}:{owner.secret}".encode()).decode(),
        "garbage": "Bearer not.a.token",
        "forged_other_secret": "Bearer " + mint(fine, "a-guessed-secret-" + "g" * 40),
        "forged_empty_secret": "Bearer " + signed_with_empty_key(fine),
        "tampered_sub": "Bearer " + tampered(owner.token, sub=world.neighbour.user_id),
        "tampered_role_admin": "Bearer " + tampered(owner.token, sub="admin", role="admin"),
        "tampered_expiry": "Bearer " + tampered(owner.token, exp=now + 10 * 365 * 86400),
        "alg_none": "Bearer " + unsigned(fine),
        "alg_none_admin": "Bearer " + unsigned({**fine, "sub": "admin", "role": "admin", "ver": 99}),
        "hs512": "Bearer " + mint(fine, algorithm="HS512"),
        "expired": "Bearer " + mint({**fine, "iat": now - 7200, "exp": now - 3600}),
        "without_expiry": "Bearer " + mint({k: v for k, v in fine.items() if k != "exp"}),
        "role_mismatch": "Bearer " + mint({**fine, "role": "grid"}),
        "unknown_user": "Bearer " + mint({**fine, "sub": "owner:S9999"}),
        "future_version": "Bearer " + mint({**fine, "ver": real["ver"] + 1}),
    }


def endpoints(world: World) -> list[tuple[str, str]]:
    mine = sorted(world.ids_in(world.owner.shops))[0]
    return [
        ("GET", "/sync/"),
        ("GET", "/sync/_changes"),
        ("GET", f"/sync/{mine}"),
        ("POST", "/sync/_bulk_docs"),
        ("POST", "/sync/_bulk_get"),
        ("POST", "/sync/_revs_diff"),
        ("GET", "/sync/_all_docs"),
        ("PUT", "/sync/_local/x"),
        ("GET", "/sync/_changes?feed=longpoll&timeout=100"),
        ("POST", "/api/auth/renew"),
        ("GET", "/api/office/quarantine"),
        ("GET", "/api/office/audit"),
    ]


def assert_unauthorized(resp: httpx.Response, words: str = "") -> None:
    assert resp.status_code == 401, resp.text
    body = resp.json()
    assert body["error"] == "unauthorized" and body["reason"] and words in body["reason"], body
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "kind",
    [
        "missing",
        "basic_scheme",
        "garbage",
        "forged_other_secret",
        "forged_empty_secret",
        "tampered_sub",
        "tampered_role_admin",
        "tampered_expiry",
        "alg_none",
        "alg_none_admin",
        "hs512",
        "expired",
        "without_expiry",
        "role_mismatch",
        "unknown_user",
        "future_version",
    ],
)
def test_bad_token_opens_nothing(world: World, kind: str) -> None:
    auth = bad_tokens(world)[kind]
    headers = {"Authorization": auth} if auth else {}
    doc = self_check(world.owner.name, world.owner.user_id)
    for method, path in endpoints(world):
        body = {"docs": [doc]} if method != "GET" else None
        resp = world.http.request(method, path, json=body, headers=headers)
        assert_unauthorized(resp, "expired" if kind == "expired" else "")
    assert world.stored(doc["_id"]) is None


def sync_status(world: World, user: User) -> int:
    return world.http.get("/sync/_changes?limit=1", headers=user.headers).status_code


def wait_for_401(world: World, user: User, seconds: float = 5.0) -> httpx.Response:
    """The gateway caches accounts for two seconds: a change made behind its back bites within that."""
    deadline = time.monotonic() + seconds
    while True:
        resp = world.http.get("/sync/_changes?limit=1", headers=user.headers)
        if resp.status_code == 401 or time.monotonic() > deadline:
            return resp
        time.sleep(0.2)


def test_revoked_token_is_refused_and_a_new_sign_in_works(world: World) -> None:
    victim = world.spare_owner()
    assert sync_status(world, victim) == 200
    resp = world.http.post(f"/api/office/users/{victim.user_id}/revoke", headers=world.office.headers)
    assert resp.status_code == 200, resp.text
    assert_unauthorized(world.http.get("/sync/_changes", headers=victim.headers), "revoked")
    assert_unauthorized(world.http.post("/api/auth/renew", headers=victim.headers), "revoked")
    again = world.owner_login(victim.name, victim.secret)
    assert sync_status(world, again) == 200


def test_token_of_a_deleted_account_is_refused(world: World) -> None:
    victim = world.spare_owner()
    doc = world.stored(f"accounts:user:{victim.user_id}")
    assert doc is not None and sync_status(world, victim) == 200
    gone = world.http.delete(f"/sync/{doc['_id']}?rev={doc['_rev']}", headers=world.admin)
    assert gone.status_code == 200, gone.text
    assert_unauthorized(wait_for_401(world, victim), "no longer exists")
    assert_unauthorized(world.http.post("/api/auth/renew", headers=victim.headers))
    resp = world.http.post("/api/auth/owner", json={"shop": victim.name, "pin": victim.secret})
    assert_unauthorized(resp, "Wrong shop code or PIN")


def test_token_of_a_disabled_account_is_refused(world: World) -> None:
    victim = world.spare_owner()
    doc = world.stored(f"accounts:user:{victim.user_id}")
    assert doc is not None and sync_status(world, victim) == 200
    put = world.http.put(f"/sync/{doc['_id']}", json={**doc, "disabled": True}, headers=world.admin)
    assert put.status_code == 201, put.text
    assert_unauthorized(wait_for_401(world, victim), "no longer exists")
    resp = world.http.post("/api/auth/owner", json={"shop": victim.name, "pin": victim.secret})
    assert_unauthorized(resp, "Wrong shop code or PIN")  # the same answer as a wrong PIN: no hint it exists


def test_a_new_pin_signs_out_the_old_phone(world: World) -> None:
    victim = world.spare_owner()
    worker = world.grid if victim.name in world.grid.shops else world.other_grid
    code = world.http.post(f"/api/shops/{victim.name}/activation", headers=worker.headers)
    assert code.status_code == 201, code.text
    redeem = {"shop": victim.name, "code": code.json()["code"], "pin": "246810"}
    resp = world.http.post("/api/auth/activate", json=redeem)
    assert resp.status_code == 200, resp.text
    assert_unauthorized(world.http.get("/sync/_changes", headers=victim.headers), "revoked")
    fresh = {"Authorization": "Bearer " + resp.json()["token"]}
    assert world.http.get("/sync/_changes", headers=fresh).status_code == 200
    again = world.http.post("/api/auth/activate", json={**redeem, "pin": "135790"})
    assert_unauthorized(again, "Wrong or expired activation code")  # a code works once


def test_owner_token_on_the_grid_workers_shops(world: World) -> None:
    owner, other_shop = world.owner, world.neighbour.name
    assert other_shop in world.grid.shops  # the grid worker's shop, next door
    victim = world.victim(other_shop)
    assert world.http.get(f"/sync/{victim.check_id}", headers=owner.headers).status_code == 404
    changes = world.http.get("/sync/_changes", headers=owner.headers).json()["results"]
    assert {r["id"].split(":", 1)[0] for r in changes} <= {owner.name, "district"}
    [as_worker] = world.push(owner, [patrol(other_shop, owner.user_id)])
    assert as_worker["error"] == "forbidden" and as_worker["reason"]
    [own_shop] = world.push(owner, [patrol(owner.name, world.grid.user_id)])
    assert own_shop["error"] == "forbidden" and "may not create patrol" in own_shop["reason"]
    resp = world.http.post(f"/api/shops/{other_shop}/activation", headers=owner.headers)
    assert resp.status_code == 403 and resp.json()["reason"]


@pytest.mark.parametrize(
    ("role", "method", "path"),
    [
        ("owner", "GET", "/api/office/quarantine"),
        ("owner", "GET", "/api/office/audit"),
        ("owner", "POST", "/api/office/users/{victim}/revoke"),
        ("owner", "POST", "/api/office/shops/{shop}/move"),
        ("owner", "POST", "/api/shops/{shop}/activation"),
        ("grid", "GET", "/api/office/quarantine"),
        ("grid", "GET", "/api/office/audit"),
        ("grid", "POST", "/api/office/users/{victim}/revoke"),
        ("grid", "POST", "/api/office/shops/{shop}/move"),
        ("grid", "POST", "/api/shops/{far}/activation"),
    ],
)
def test_devices_cannot_use_the_office_desk(world: World, role: str, method: str, path: str) -> None:
    user = world.owner if role == "owner" else world.grid
    url = path.format(victim=world.neighbour.user_id, shop=world.owner.name, far=world.far_owner.name)
    registry = f"registry:shop:{world.owner.name}"
    before = world.stored(registry)
    other_grid = world.far_owner.name and next(
        i.rsplit(":", 1)[1]
        for i in sorted(world.ids_in(frozenset({"registry"})))
        if i.startswith("registry:grid:") and world.far_owner.name in (world.stored(i) or {}).get("shops", [])
    )
    resp = world.http.request(method, url, json={"grid": other_grid}, headers=user.headers)
    # A shop outside a grid worker's grids looks unknown to them (404), as everything outside a scope does.
    refused = ("not_found", 404) if path == "/api/shops/{far}/activation" else ("forbidden", 403)
    assert (resp.json()["error"], resp.status_code) == refused and resp.json()["reason"], resp.text
    assert sync_status(world, world.neighbour) == 200  # not revoked
    assert world.stored(registry) == before  # not moved


def test_operator_token_is_not_renewed_through_the_api(world: World) -> None:
    resp = world.http.post("/api/auth/renew", headers=world.admin)
    assert resp.status_code == 403 and "admin-token" in resp.json()["reason"]


# ----- HOLE: the office can mint an owner account for a partition that is not a shop -----


def test_activation_codes_are_only_issued_for_registered_shops(world: World) -> None:
    """An activation code for a shop the registry does not hold makes an owner account whose scope is that name."""
    for code in ("S9999", "quarantine"):
        resp = world.http.post(f"/api/shops/{code}/activation", headers=world.office.headers)
        assert resp.status_code in (400, 404) and resp.json()["reason"], f"{code}: {resp.status_code} {resp.text}"


def test_no_account_reads_the_account_secrets_through_sync(world: World) -> None:
    """HOLE: office issues a code for shop `accounts`, redeems it, and pulls every password and PIN hash."""
    issued = world.http.post("/api/shops/accounts/activation", headers=world.office.headers)
    leaked = ""
    if issued.status_code == 201:
        body = {"shop": "accounts", "code": issued.json()["code"], "pin": "000000"}
        session = world.http.post("/api/auth/activate", json=body)
        if session.status_code == 200:
            headers = {"Authorization": "Bearer " + session.json()["token"]}
            leaked = world.http.get("/sync/_all_docs?include_docs=true", headers=headers).text
    assert "password_hash" not in leaked and "pin_hash" not in leaked, (
        f"POST /api/shops/accounts/activation (office) -> {issued.status_code} {issued.text}; then "
        f"POST /api/auth/activate {{shop: accounts}} -> owner:accounts, whose /sync/_all_docs holds: {leaked[:600]}"
    )


def test_a_token_accepted_before_still_expires_on_time() -> None:
    """Verified tokens are remembered (the signature is the costly part), never past their expiry."""
    tokens = Tokens("token-cache-secret-" + "t" * 40)
    token = tokens.issue(Principal("owner:S0001", "owner"), 1)
    assert tokens.verify(token).user_id == "owner:S0001"
    assert tokens.verify(token).user_id == "owner:S0001"
    time.sleep(2.05)
    with pytest.raises(CouchError) as refused:
        tokens.verify(token)
    assert refused.value.status == 401 and "expired" in refused.value.reason
