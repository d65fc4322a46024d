"""Guessing secrets online: PINs, activation codes, and an attacker who rotates accounts from one address.

Each test gets a gateway of its own: the throttles count per address, and every request of the suite comes from
127.0.0.1, so a lock-out here must not lock the rest of the suite out."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx

from tests.gateway import Gateway
from tests.security.conftest import Json

Demo = tuple[Path, Json]


def wrong(pin: str) -> str:
    return pin[:-1] + str((int(pin[-1]) + 1) % 10)


def assert_throttled(resp: httpx.Response) -> None:
    assert resp.status_code == 429, resp.text
    assert resp.json()["error"] == "too_many_requests" and resp.json()["reason"]
    assert 0 < int(resp.headers["Retry-After"]) <= 15 * 60
    assert "token" not in resp.json()


def grid_login(http: httpx.Client, logins: Json, shop: str) -> tuple[str, dict[str, str]]:
    worker = next(w for w in logins["grid_workers"] if shop in w["shops"])
    resp = http.post("/api/auth/login", json={"username": worker["username"], "password": worker["password"]})
    assert resp.status_code == 200, resp.text
    return worker["username"], {"Authorization": "Bearer " + resp.json()["token"]}


def test_pin_guessing_is_throttled_after_five_tries(fresh_gateway: Callable[[], Gateway], demo: Demo) -> None:
    logins = demo[1]
    owner = logins["owners"][0]
    with httpx.Client(base_url=fresh_gateway().url, timeout=30) as http:
        for _ in range(5):
            resp = http.post("/api/auth/owner", json={"shop": owner["shop"], "pin": wrong(owner["pin"])})
            assert resp.status_code == 401 and resp.json()["reason"] == "Wrong shop code or PIN."
        assert_throttled(http.post("/api/auth/owner", json=owner))  # even the right PIN: no oracle while locked
        assert_throttled(http.post("/api/auth/owner", json={"shop": owner["shop"], "pin": wrong(owner["pin"])}))
        office = logins["office"][0]
        staff = http.post("/api/auth/login", json=office)  # other accounts from this address still sign in
        assert staff.status_code == 200, staff.text
        audit = http.get("/api/office/audit", headers={"Authorization": "Bearer " + staff.json()["token"]}).json()
        account = f"owner:{owner['shop']}"
        failed = [i for i in audit["items"] if i["event"] == "login_failed" and i["account"] == account]
        assert len(failed) == 5 and all(i["address"] for i in failed)


def test_address_throttle_bites_when_the_attacker_rotates_accounts(
    fresh_gateway: Callable[[], Gateway], demo: Demo
) -> None:
    logins = demo[1]
    owners = logins["owners"]
    untouched = owners[-1]
    targets = [o for o in owners if o is not untouched]
    tries = [{"shop": o["shop"], "pin": wrong(o["pin"])} for o in targets]
    tries += [{"shop": f"S9{i:03d}", "pin": "123456"} for i in range(30 - len(tries))]
    with httpx.Client(base_url=fresh_gateway().url, timeout=30) as http:
        for attempt in tries:  # one or two tries per account: far below the per-account limit of five
            assert http.post("/api/auth/owner", json=attempt).status_code == 401
        assert_throttled(http.post("/api/auth/owner", json=untouched))
        assert_throttled(http.post("/api/auth/login", json=logins["office"][0]))
        assert_throttled(
            http.post("/api/auth/activate", json={"shop": untouched["shop"], "code": "12345678", "pin": "246810"})
        )


def test_activation_code_guessing_is_throttled(fresh_gateway: Callable[[], Gateway], demo: Demo) -> None:
    logins = demo[1]
    owner = logins["owners"][1]
    with httpx.Client(base_url=fresh_gateway().url, timeout=30) as http:
        _, worker = grid_login(http, logins, owner["shop"])
        issued = http.post(f"/api/shops/{owner['shop']}/activation", headers=worker)
        assert issued.status_code == 201, issued.text
        code = issued.json()["code"]
        guesses = [f"{(int(code) + i) % 10**8:08d}" for i in range(1, 6)]
        for guess in guesses:
            resp = http.post("/api/auth/activate", json={"shop": owner["shop"], "code": guess, "pin": "135790"})
            assert resp.status_code == 401 and resp.json()["reason"] == "Wrong or expired activation code."
        assert_throttled(http.post("/api/auth/activate", json={"shop": owner["shop"], "code": code, "pin": "135790"}))
        # The guesses changed nothing: the owner still signs in with their own PIN.
        assert http.post("/api/auth/owner", json=owner).status_code == 200


def test_an_activation_code_opens_only_its_own_shop(fresh_gateway: Callable[[], Gateway], demo: Demo) -> None:
    logins = demo[1]
    mine, other = logins["owners"][2], logins["owners"][3]
    with httpx.Client(base_url=fresh_gateway().url, timeout=30) as http:
        _, worker = grid_login(http, logins, mine["shop"])
        code = http.post(f"/api/shops/{mine['shop']}/activation", headers=worker).json()["code"]
        resp = http.post("/api/auth/activate", json={"shop": other["shop"], "code": code, "pin": "135790"})
        assert resp.status_code == 401 and resp.json()["reason"] == "Wrong or expired activation code."
        assert http.post("/api/auth/owner", json=other).status_code == 200  # the other owner's PIN is untouched
        resp = http.post("/api/auth/activate", json={"shop": mine["shop"], "code": code, "pin": "135790"})
        assert resp.status_code == 200
        again = http.post("/api/auth/activate", json={"shop": mine["shop"], "code": code, "pin": "975310"})
        assert again.status_code == 401  # used once, gone


def _rotate_accounts(http: httpx.Client, logins: Json, address: Callable[[int], str]) -> None:
    """The address throttle's 30 failures, one or two per account, the i-th sent as if from `address(i)`."""
    for i in range(30):
        owner = logins["owners"][i % len(logins["owners"])]
        attempt = {"shop": owner["shop"], "pin": wrong(owner["pin"])}
        assert http.post("/api/auth/owner", json=attempt, headers=_via(address(i))).status_code == 401


def _via(address: str) -> dict[str, str]:
    return {"X-Forwarded-For": address}


def test_behind_the_proxy_each_phone_has_its_own_address(fresh_gateway: Callable[..., Gateway], demo: Demo) -> None:
    """The README's nginx on the same host passes each phone's address: one phone's guessing must not lock every
    other phone of the district out of signing in, and the audit log names the guesser's address."""
    logins = demo[1]
    with httpx.Client(base_url=fresh_gateway().url, timeout=30) as http:
        _rotate_accounts(http, logins, lambda _: "203.0.113.7")
        assert_throttled(http.post("/api/auth/login", json=logins["office"][0], headers=_via("203.0.113.7")))
        staff = http.post("/api/auth/login", json=logins["office"][0], headers=_via("198.51.100.20"))
        assert staff.status_code == 200, staff.text
        audit = http.get("/api/office/audit", headers={"Authorization": "Bearer " + staff.json()["token"]}).json()
        failed = [i for i in audit["items"] if i["event"] == "login_failed"]
        assert len(failed) == 30 and {i["address"] for i in failed} == {"203.0.113.7"}


def test_a_caller_that_is_not_a_trusted_proxy_cannot_pick_its_address(
    fresh_gateway: Callable[..., Gateway], demo: Demo
) -> None:
    """Trusting only the proxy at 192.0.2.1, the gateway ignores X-Forwarded-For from anyone else: an attacker who
    writes a new address into every request is still throttled as the address it calls from."""
    logins = demo[1]
    with httpx.Client(base_url=fresh_gateway("--forwarded-allow-ips", "192.0.2.1").url, timeout=30) as http:
        _rotate_accounts(http, logins, lambda i: f"203.0.113.{i}")
        assert_throttled(http.post("/api/auth/login", json=logins["office"][0], headers=_via("198.51.100.20")))


def _sign_in(http: httpx.Client, owner: Json, key: str | None = None, pin: str | None = None) -> httpx.Response:
    body = {"shop": owner["shop"], "pin": pin or owner["pin"], **({"device_key": key} if key else {})}
    return http.post("/api/auth/owner", json=body)


def test_a_known_phone_is_not_locked_out_by_a_stranger_guessing_its_pin(
    fresh_gateway: Callable[..., Gateway], demo: Demo
) -> None:
    """The owner's phone signed in before and keeps the device key it got. A stranger's five wrong PINs lock the
    account for everyone else, not for that phone; a key forged, or made for another shop, opens nothing."""
    owner, other = demo[1]["owners"][4], demo[1]["owners"][5]
    with httpx.Client(base_url=fresh_gateway().url, timeout=30) as http:
        first = _sign_in(http, owner)
        assert first.status_code == 200, first.text
        key = first.json()["device_key"]
        other_key = _sign_in(http, other).json()["device_key"]
        for _ in range(5):
            assert _sign_in(http, owner, pin=wrong(owner["pin"])).status_code == 401
        assert_throttled(_sign_in(http, owner))
        nonce, mac = key.split(".")
        for forged in (other_key, f"{nonce}.{'0' * len(mac)}", f"x{nonce}.{mac}", "not-a-key"):
            assert_throttled(_sign_in(http, owner, forged))
        again = _sign_in(http, owner, key)
        assert again.status_code == 200, again.text
        assert again.json()["device_key"] == key and again.json()["user"]["id"] == f"owner:{owner['shop']}"
        # The known phone's own guessing is throttled too, on its own.
        for _ in range(5):
            assert _sign_in(http, owner, key, pin=wrong(owner["pin"])).status_code == 401
        assert_throttled(_sign_in(http, owner, key))


def test_known_phones_behind_a_shared_address_still_sign_in(fresh_gateway: Callable[..., Gateway], demo: Demo) -> None:
    """A carrier puts many phones behind one address (CGNAT). Someone there fails 30 times across accounts: phones
    without a key are locked out with the guesser, phones that signed in before are not."""
    logins = demo[1]
    owner, newcomer = logins["owners"][6], logins["owners"][7]
    with httpx.Client(base_url=fresh_gateway().url, timeout=30) as http:
        key = _sign_in(http, owner).json()["device_key"]
        _rotate_accounts(http, logins, lambda _: "127.0.0.1")
        assert_throttled(_sign_in(http, newcomer))
        assert _sign_in(http, owner, key).status_code == 200


def test_revoking_a_lost_phones_sign_in_voids_its_device_key(fresh_gateway: Callable[..., Gateway], demo: Demo) -> None:
    """The owner's phone is lost: the office revokes the owner's sign-ins. The phone's device key goes with them,
    so whoever holds the phone is throttled like a stranger: their guesses count against the account."""
    owner = demo[1]["owners"][8]
    gateway = fresh_gateway()
    with httpx.Client(base_url=gateway.url, timeout=30) as http:
        lost = _sign_in(http, owner).json()["device_key"]
        revoked = http.post(f"/api/office/users/owner:{owner['shop']}/revoke", headers=gateway.headers)
        assert revoked.status_code == 200, revoked.text
        for _ in range(5):
            assert _sign_in(http, owner, lost, pin=wrong(owner["pin"])).status_code == 401
        assert_throttled(_sign_in(http, owner, lost))  # the finder's guesses lock the account, key or not
        assert_throttled(_sign_in(http, owner))
