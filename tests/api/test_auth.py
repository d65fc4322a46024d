"""Sign-in, tokens, revocation, throttling and the audit log, as the people using them would notice."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import jwt
import pytest

from server.accounts import address_network
from server.auth import Principal
from tests.api.conftest import SECRET, World


def shop_ids(world: World, headers: dict[str, str]) -> set[str]:
    resp = world.client.get("/sync/_changes", headers=headers)
    assert resp.status_code == 200, resp.text
    return {r["id"].split(":", 1)[0] for r in resp.json()["results"]}


def test_grid_worker_signs_in_and_replicates_only_their_shops(world: World) -> None:
    resp = world.client.post("/api/auth/login", json={"username": "zhou", "password": "zhou-password"})
    assert resp.status_code == 200
    body = resp.json()
    assert body["user"] == {"id": "grid:zhou", "role": "grid", "name": "小周", "username": "zhou"}
    claims = jwt.decode(body["token"], options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 30 * 86400
    assert shop_ids(world, {"Authorization": "Bearer " + body["token"]}) == {"S0001", "S0002"}
    assert "password_hash" not in resp.text


def test_office_token_lasts_twelve_hours(world: World) -> None:
    resp = world.client.post("/api/auth/login", json={"username": "wang", "password": "wang-password"})
    claims = jwt.decode(resp.json()["token"], options={"verify_signature": False})
    assert resp.json()["user"]["role"] == "office" and claims["exp"] - claims["iat"] == 12 * 3600


def test_wrong_password_is_a_401_and_lands_in_the_audit_log(world: World) -> None:
    resp = world.client.post("/api/auth/login", json={"username": "zhou", "password": "guess"})
    assert resp.status_code == 401 and resp.json()["reason"] == "Wrong username or password."
    resp = world.client.post("/api/auth/login", json={"username": "nobody", "password": "guess-again"})
    assert resp.status_code == 401 and resp.json()["reason"] == "Wrong username or password."
    office = world.login("wang", "wang-password")
    items = world.client.get("/api/office/audit", headers=office).json()["items"]
    failed = [i for i in items if i["event"] == "login_failed"]
    assert {i["account"] for i in failed} == {"staff:zhou", "staff:nobody"}
    assert all(i["address"] and i["at"] for i in failed)
    # Grid workers may not read the audit log.
    assert world.client.get("/api/office/audit", headers=world.login("zhou", "zhou-password")).status_code == 403


def test_guessing_is_throttled_with_retry_after(world: World) -> None:
    for _ in range(5):
        assert world.client.post("/api/auth/login", json={"username": "li", "password": "x" * 8}).status_code == 401
    resp = world.client.post("/api/auth/login", json={"username": "li", "password": "li-password"})
    assert resp.status_code == 429 and int(resp.headers["Retry-After"]) > 0
    assert resp.json()["error"] == "too_many_requests"
    # Another account from the same address is not locked by li's failures.
    ok = world.client.post("/api/auth/login", json={"username": "zhou", "password": "zhou-password"})
    assert ok.status_code == 200


def test_owner_activation_then_pin_login(world: World) -> None:
    zhou = world.login("zhou", "zhou-password")
    resp = world.client.post("/api/shops/S0001/activation", headers=zhou)
    assert resp.status_code == 201
    code = resp.json()["code"]
    assert len(code) == 8 and code.isdigit()
    # A grid worker cannot hand out codes for a shop outside their grids: it is answered as a shop there is not.
    assert world.client.post("/api/shops/S0003/activation", headers=zhou).status_code == 404
    bad = world.client.post("/api/auth/activate", json={"shop": "S0001", "code": "00000000", "pin": "135790"})
    assert bad.status_code == 401
    short = world.client.post("/api/auth/activate", json={"shop": "S0001", "code": code, "pin": "12345"})
    assert short.status_code == 400 and "6 digits" in short.json()["reason"]
    for odd in ("¹²³⁴⁵⁶", "①②③④⑤⑥", "١٣٥٧٩٢"):  # digits to str.isdigit, not to a phone's keypad (¹ crashed int())
        refused = world.client.post("/api/auth/activate", json={"shop": "S0001", "code": code, "pin": odd})
        assert refused.status_code == 400 and "6 digits" in refused.json()["reason"], odd
    # A PIN a stranger would try first is refused, and the code stays good for a better one.
    for weak in ("111111", "123456", "987654", "123123"):
        easy = world.client.post("/api/auth/activate", json={"shop": "S0001", "code": code, "pin": weak})
        assert easy.status_code == 400 and "too easy to guess" in easy.json()["reason"], weak
    ok = world.client.post("/api/auth/activate", json={"shop": "S0001", "code": code, "pin": "246810"})
    assert ok.status_code == 200 and ok.json()["user"]["id"] == "owner:S0001"
    claims = jwt.decode(ok.json()["token"], options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 180 * 86400
    again = world.client.post("/api/auth/activate", json={"shop": "S0001", "code": code, "pin": "135790"})
    assert again.status_code == 401  # one-time code
    office = world.login("wang", "wang-password")
    shops = world.client.get("/api/office/registry/shops", headers=office).json()["items"]
    assert {s["code"]: s["owner_activated"] for s in shops if s["code"] in ("S0001", "S0002")} == {
        "S0001": True,  # the grid worker's e-file and the exports say so from now on
        "S0002": False,
    }
    login = world.client.post("/api/auth/owner", json={"shop": "S0001", "pin": "246810"})
    assert login.status_code == 200
    owner = {"Authorization": "Bearer " + login.json()["token"]}
    assert shop_ids(world, owner) == {"S0001"}
    assert world.client.post("/api/auth/owner", json={"shop": "S0001", "pin": "000000"}).status_code == 401


def test_revoked_tokens_stop_working_everywhere(world: World) -> None:
    zhou = world.login("zhou", "zhou-password")
    assert world.client.get("/sync/", headers=zhou).status_code == 200
    office = world.login("wang", "wang-password")
    assert world.client.post("/api/office/users/grid:zhou/revoke", headers=office).status_code == 200
    for path in ("/sync/", "/sync/_changes", "/sync/_local/x"):
        resp = world.client.get(path, headers=zhou)
        assert resp.status_code == 401 and "revoked" in resp.json()["reason"]
    assert world.client.post("/api/auth/renew", headers=zhou).status_code == 401
    assert world.client.get("/sync/", headers=world.login("zhou", "zhou-password")).status_code == 200
    # Only the office revokes.
    assert world.client.post("/api/office/users/grid:li/revoke", headers=zhou).status_code in (401, 403)


def test_signing_out_on_one_phone_stops_that_phones_token_alone(world: World) -> None:
    """A phone handed on, or a shared office computer: the token it held stops working on the server too, and the
    user's other devices stay signed in."""
    phone, tablet = world.login("zhou", "zhou-password"), world.login("zhou", "zhou-password")
    out = world.client.post("/api/auth/sign-out", headers=phone)
    assert out.status_code == 200 and out.json() == {"ok": True, "everywhere": False}
    for path in ("/sync/", "/sync/_changes", "/sync/_local/x"):
        resp = world.client.get(path, headers=phone)
        assert resp.status_code == 401 and "Signed out" in resp.json()["reason"], resp.text
    assert world.client.post("/api/auth/renew", headers=phone).status_code == 401
    assert world.client.get("/sync/", headers=tablet).status_code == 200
    assert world.client.post("/api/auth/sign-out", headers=phone).status_code == 401  # once is enough

    # The account keeps only the signed-out tokens that have not expired yet.
    expired = {"Authorization": "Bearer " + world.state.tokens.issue(Principal("grid:zhou", "grid"), -10)}
    assert world.client.post("/api/auth/sign-out", headers=expired).status_code == 401
    user = world.call(world.state.accounts.user, "grid:zhou")
    user["signed_out"]["stale"] = int(time.time()) - 1
    world.call(world.state.store.bulk_docs, [user])
    assert world.client.post("/api/auth/sign-out", headers=tablet).status_code == 200
    kept = world.call(world.state.accounts.user, "grid:zhou")["signed_out"]
    assert len(kept) == 2 and "stale" not in kept

    # A token made before tokens had ids cannot be told apart from the user's others: signed out everywhere.
    li = world.login("li", "li-password")
    claims = jwt.decode(li["Authorization"].split()[1], options={"verify_signature": False})
    old = {"Authorization": "Bearer " + jwt.encode({k: v for k, v in claims.items() if k != "jti"}, SECRET, "HS256")}
    assert world.client.get("/sync/", headers=old).status_code == 200
    assert world.client.post("/api/auth/sign-out", headers=old).json() == {"ok": True, "everywhere": True}
    assert world.client.get("/sync/", headers=li).status_code == 401
    # The operator's token is revoked with `mashang admin-token --revoke`.
    assert world.client.post("/api/auth/sign-out", headers=world.admin()).status_code == 403


def test_renewal_gives_a_fresh_token_for_the_same_user(world: World) -> None:
    li = world.login("li", "li-password")
    resp = world.client.post("/api/auth/renew", headers=li)
    assert resp.status_code == 200 and resp.json()["user"]["id"] == "grid:li"
    assert world.client.get("/sync/", headers={"Authorization": "Bearer " + resp.json()["token"]}).status_code == 200


def test_moving_a_shop_changes_scopes_and_forgets_pull_checkpoints(world: World) -> None:
    zhou, li = world.login("zhou", "zhou-password"), world.login("li", "li-password")
    for headers in (zhou, li):
        assert world.client.put("/sync/_local/pull", json={"last_seq": 7}, headers=headers).status_code == 201
    office = world.login("wang", "wang-password")
    resp = world.client.post("/api/office/shops/S0002/move", json={"grid": "g2"}, headers=office)
    assert resp.status_code == 200 and resp.json()["grid_workers"] == ["li", "zhou"]
    assert shop_ids(world, zhou) == {"S0001"}
    assert shop_ids(world, li) == {"S0002", "S0003"}
    for headers in (zhou, li):  # the phones start their pull over in the new scope
        assert world.client.get("/sync/_local/pull", headers=headers).status_code == 404
    bad = world.client.post("/api/office/shops/S0002/move", json={"grid": "nowhere"}, headers=office)
    assert bad.status_code == 400


def test_malformed_sign_in_bodies_are_400s(world: World) -> None:
    for path, body in (
        ("/api/auth/login", {"username": "zhou"}),
        ("/api/auth/login", {"username": 5, "password": 6}),
        ("/api/auth/owner", {"shop": "S0001", "pin": 123456}),
        ("/api/auth/activate", []),
    ):
        resp = world.client.post(path, json=body)
        assert resp.status_code == 400 and resp.json()["reason"], (path, resp.text)
    resp = world.client.post("/api/auth/login", content=b"{not json")
    assert resp.status_code == 400


# ----- holes an audit of sign-in found; each test failed before its fix -----


def _at_once(world: World, calls: list[tuple[str, dict[str, object]]]) -> list[int]:
    """The statuses of these POSTs, sent all at once (the app answers them on one event loop)."""
    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(lambda call: world.client.post(call[0], json=call[1]).status_code, calls))


def test_guesses_sent_at_once_are_throttled_like_guesses_one_after_another(world: World) -> None:
    """Counted after the password check, 59 wrong guesses and the right one sent together were all checked, and
    the right one signed in: the limit of 5 failures per account stopped none of them."""
    guesses = [("/api/auth/login", {"username": "li", "password": f"guess-{n:04d}"}) for n in range(24)]
    statuses = _at_once(world, [*guesses, ("/api/auth/login", {"username": "li", "password": "li-password"})])
    assert statuses.count(401) + statuses.count(200) <= 5, statuses
    assert statuses.count(429) >= 20, statuses


def test_an_activation_code_signs_in_once_even_when_sent_twice_at_once(world: World) -> None:
    office = world.login("wang", "wang-password")
    code = world.client.post("/api/shops/S0001/activation", headers=office).json()["code"]
    calls = [("/api/auth/activate", {"shop": "S0001", "code": code, "pin": f"{n:06d}"}) for n in range(1, 6)]
    statuses = _at_once(world, calls)
    assert statuses.count(200) == 1 and statuses.count(401) == 4, statuses
    items = world.client.get("/api/office/audit", headers=office).json()["items"]
    assert [i["event"] for i in items].count("owner_activated") == 1


def test_a_wrong_password_costs_the_same_whether_or_not_the_account_exists(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The answer is the same 401; without a hash for a missing or disabled account it came 5 times sooner, which
    told which usernames and shops exist."""
    from server import accounts

    costs: list[str] = []
    real = accounts.HASHER

    class Counting:
        def hash(self, secret: str) -> str:
            costs.append("hash")
            return real.hash(secret)

        def verify(self, hashed: str, secret: str) -> bool:
            costs.append("verify")
            return real.verify(hashed, secret)

    disabled = world.call(world.state.accounts.user, "grid:li")
    world.call(world.state.store.bulk_docs, [{**disabled, "disabled": True}])
    monkeypatch.setattr(accounts, "HASHER", Counting())
    for body in ({"username": "zhou", "password": "wrong-one"}, {"username": "nobody", "password": "wrong-one"}):
        costs.clear()
        assert world.client.post("/api/auth/login", json=body).status_code == 401
        assert len(costs) == 1, (body, costs)
    costs.clear()
    assert world.client.post("/api/auth/login", json={"username": "li", "password": "li-password"}).status_code == 401
    assert len(costs) == 1, costs
    costs.clear()
    assert (
        world.client.post("/api/auth/activate", json={"shop": "S0002", "code": "12345678", "pin": "135790"}).status_code
        == 401
    )
    assert len(costs) == 1, costs


def test_an_account_made_anew_does_not_take_the_earlier_holders_tokens(world: World) -> None:
    zhou = world.login("zhou", "zhou-password")
    user = world.call(world.state.accounts.user, "grid:zhou")
    world.call(world.state.store.bulk_docs, [{**user, "_deleted": True}])
    time.sleep(1.1)  # tokens carry the second they were made
    world.call(world.state.accounts.create_staff, "grid", "zhou", "new-zhou-password", "新的小周")
    world.state.authenticator.forget()
    resp = world.client.get("/sync/", headers=zhou)
    assert resp.status_code == 401 and "made anew" in resp.json()["reason"], resp.text
    assert world.client.post("/api/auth/renew", headers=zhou).status_code == 401
    assert world.client.get("/sync/", headers=world.login("zhou", "new-zhou-password")).status_code == 200


def test_a_new_password_or_pin_leaves_a_disabled_account_disabled(world: World) -> None:
    office = world.login("wang", "wang-password")
    for user_id in ("grid:li", "owner:S0001"):
        if user_id.startswith("owner:"):
            world.call(world.state.accounts.set_owner_pin, "S0001", "246810")
        user = world.call(world.state.accounts.user, user_id)
        world.call(world.state.store.bulk_docs, [{**user, "disabled": True}])
    world.state.authenticator.forget()
    reset = world.client.post(
        "/api/office/users/grid:li/password", json={"password": "li-new-password"}, headers=office
    )
    assert reset.status_code == 200, reset.text
    assert (
        world.client.post("/api/auth/login", json={"username": "li", "password": "li-new-password"}).status_code == 401
    )
    code = world.client.post("/api/shops/S0001/activation", headers=office).json()["code"]
    activated = world.client.post("/api/auth/activate", json={"shop": "S0001", "code": code, "pin": "135790"})
    assert activated.status_code == 403 and "disabled" in activated.json()["reason"], activated.text
    assert world.call(world.state.accounts.user, "owner:S0001")["disabled"] is True


def test_a_device_key_of_any_characters_is_a_wrong_key_not_a_500(world: World) -> None:
    for key in ("é.é", "中.文", "\u0000.x"):
        body = {"username": "zhou", "password": "wrong-one", "device_key": key}
        assert world.client.post("/api/auth/login", json=body).status_code == 401
        assert world.client.post(
            "/api/auth/owner", json={"shop": "S0001", "pin": "000000", "device_key": key}
        ).status_code in (401, 429)


def test_the_throttle_keeps_nothing_for_accounts_without_failures(world: World) -> None:
    accounts = world.state.accounts
    for n in range(60):  # 30 are failures of this address, then every answer is a 429
        world.client.post("/api/auth/owner", json={"shop": f"X{n:04d}", "pin": "000000"})
    assert len(accounts.by_account._fails) <= 30
    assert accounts.by_account.retry_after("owner:X0059") == 0


def test_an_ipv6_network_is_throttled_as_one_address() -> None:
    assert address_network("2001:db8:1:2:aaaa::1") == address_network("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    assert address_network("2001:db8:1:3::1") != address_network("2001:db8:1:2::1")
    assert address_network("203.0.113.7") == "203.0.113.7"
    assert address_network("::ffff:203.0.113.7") == "203.0.113.7"
    assert address_network("testclient") == "testclient"


def test_a_sign_out_ends_the_phones_waiting_longpoll_at_once(world: World) -> None:
    """A phone's live replication waits in a longpoll for up to a minute: signed out by the office (a lost phone), it
    is answered at once with no change, and its next request is refused, instead of reading on until the wait ends."""
    zhou = world.login("zhou", "zhou-password")
    answered: dict[str, Any] = {}

    def wait() -> None:
        started = time.monotonic()
        resp = world.client.get("/sync/_changes?feed=longpoll&since=now&timeout=50000&heartbeat=10000", headers=zhou)
        answered.update(status=resp.status_code, body=resp.json(), seconds=time.monotonic() - started)

    waiting = threading.Thread(target=wait)
    waiting.start()
    time.sleep(1.0)
    assert not answered, answered  # still waiting for a change
    office = world.login("wang", "wang-password")
    assert world.client.post("/api/office/users/grid:zhou/revoke", headers=office).status_code == 200
    waiting.join(timeout=20)
    assert answered["status"] == 200 and answered["body"]["results"] == [], answered
    assert answered["seconds"] < 5, answered
    assert world.client.get("/sync/_changes", headers=zhou).status_code == 401
