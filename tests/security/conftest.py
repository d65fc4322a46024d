"""The world the attacks run in: `mashang demo` (30 shops, 3 grid workers, a month of history) served by a real
`mashang serve` process, with every user signed in through `/api/auth/*` as their phone would.

Grid `grid` (zhou01) holds the shop of `owner` and of `neighbour`; grid `other_grid` holds `far_owner`'s shop.
Tests that sign someone out or lock an account take a spare owner (`World.spare_owner`), and guessing tests
get a gateway of their own (`fresh_gateway`): throttles count per address, and every test comes from 127.0.0.1.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.gateway import Gateway, mashang

SECRET = "security-suite-secret-" + "k" * 50
# The gateway under attack runs as in the scale-out setup, without the validators in its process: the suite is
# about who reads and writes what, and the follower's own writes (scores of the demo shops) would race with
# tests that check a refused document left nothing behind.
ENV = {"MASHANG_SECRET": SECRET, "MASHANG_VALIDATORS": "0"}
Json = dict[str, Any]


@dataclass(frozen=True)
class User:
    user_id: str
    role: str
    token: str
    shops: frozenset[str] = frozenset()
    secret: str = ""  # the password or PIN it signed in with

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def scope(self) -> frozenset[str]:
        return self.shops | {"district"}

    @property
    def name(self) -> str:
        return self.user_id.split(":", 1)[1]


@dataclass(frozen=True)
class Victim:
    """Documents of a shop outside an attacker's scope, as the admin sees them."""

    shop: str
    check_id: str
    check_rev: str
    photo_id: str
    photo_rev: str
    attachment: str

    @property
    def ids(self) -> list[str]:
        return [self.check_id, self.photo_id]

    @property
    def revs(self) -> list[str]:
        return [self.check_rev, self.photo_rev]


@dataclass(frozen=True)
class Attack:
    attacker: User
    victim: Victim
    other_user: User  # someone else, whose `_local` checkpoints the attacker must not reach


class World:
    def __init__(self, gw: Gateway, logins: Json) -> None:
        self.gw = gw
        self.logins = logins
        self.http = httpx.Client(base_url=gw.url, timeout=30)
        self.admin = gw.headers
        workers = logins["grid_workers"]
        first = workers[0]
        other = next(w for w in workers if not set(w["shops"]) & set(first["shops"]))
        self.grid = self.login(first["username"], first["password"])
        self.other_grid = self.login(other["username"], other["password"])
        office = logins["office"][0]
        self.office = self.login(office["username"], office["password"])
        owners = {o["shop"]: o["pin"] for o in logins["owners"]}
        kinds = self._kinds()
        full = [s for s in sorted(owners) if {"self_check", "photo"} <= kinds.get(s, set())]
        mine = [s for s in full if s in self.grid.shops]
        far = [s for s in full if s in self.other_grid.shops]
        self.owner = self.owner_login(mine[0], owners[mine[0]])
        self.neighbour = self.owner_login(mine[1], owners[mine[1]])
        self.far_owner = self.owner_login(far[0], owners[far[0]])
        taken = {mine[0], mine[1], far[0]}
        self._spare = [(s, owners[s]) for s in sorted(owners) if s not in taken]

    # ----- signing in -----

    def login(self, username: str, password: str) -> User:
        resp = self.http.post("/api/auth/login", json={"username": username, "password": password})
        assert resp.status_code == 200, resp.text
        body = resp.json()
        shops: list[str] = next((w["shops"] for w in self.logins["grid_workers"] if w["username"] == username), [])
        return User(body["user"]["id"], body["user"]["role"], body["token"], frozenset(shops), password)

    def owner_login(self, shop: str, pin: str) -> User:
        resp = self.http.post("/api/auth/owner", json={"shop": shop, "pin": pin})
        assert resp.status_code == 200, resp.text
        return User(f"owner:{shop}", "owner", resp.json()["token"], frozenset({shop}), pin)

    def spare_owner(self) -> User:
        """An owner no other test uses: for tests that revoke, disable or delete the account."""
        shop, pin = self._spare.pop(0)
        return self.owner_login(shop, pin)

    def attack(self, role: str) -> Attack:
        """An attacker of `role` and a shop outside their scope: an owner against the next shop of their grid,
        a grid worker against a shop of another grid, the office (district only) against any shop."""
        if role == "owner":
            return Attack(self.owner, self.victim(self.neighbour.name), self.neighbour)
        if role == "grid":
            return Attack(self.grid, self.victim(self.far_owner.name), self.other_grid)
        return Attack(self.office, self.victim(self.neighbour.name), self.owner)

    # ----- what the store holds (asked as the operator) -----

    def _kinds(self) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for row in self.all_rows():
            partition, kind = row["id"].split(":")[:2]
            out.setdefault(partition, set()).add(kind)
        return out

    def all_rows(self) -> list[Json]:
        resp = self.http.get("/sync/_all_docs", headers=self.admin)
        assert resp.status_code == 200, resp.text
        rows: list[Json] = resp.json()["rows"]
        return rows

    def victim(self, shop: str) -> Victim:
        rows = {r["id"]: r["value"]["rev"] for r in self.all_rows() if r["id"].startswith(f"{shop}:")}
        check = next(i for i in rows if i.startswith(f"{shop}:self_check:"))
        pic = next(i for i in rows if i.startswith(f"{shop}:photo:"))
        doc = self.stored(pic)
        assert doc is not None
        return Victim(shop, check, rows[check], pic, rows[pic], next(iter(doc["_attachments"])))

    def stored(self, doc_id: str) -> Json | None:
        resp = self.http.get(f"/sync/{doc_id}", headers=self.admin)
        if resp.status_code == 404:
            return None
        assert resp.status_code == 200, resp.text
        doc: Json = resp.json()
        return doc

    def ids_in(self, partitions: frozenset[str] | None) -> set[str]:
        """Every id the store holds in `partitions` (all when None), deleted ones too."""
        resp = self.http.get("/sync/_changes", headers=self.admin)
        assert resp.status_code == 200, resp.text
        ids = {r["id"] for r in resp.json()["results"]}
        return {i for i in ids if partitions is None or i.split(":", 1)[0] in partitions}

    def quarantined(self, doc_id: str) -> list[Json]:
        """The quarantine entries of `doc_id`, as the office's sync monitor lists them."""
        resp = self.http.get("/api/office/quarantine", params={"limit": 500}, headers=self.office.headers)
        assert resp.status_code == 200, resp.text
        return [e for e in resp.json()["items"] if e["doc_id"] == doc_id]

    # ----- as a device -----

    def push(self, user: User, docs: list[Any], new_edits: bool = True) -> list[Json]:
        resp = self.http.post("/sync/_bulk_docs", json={"docs": docs, "new_edits": new_edits}, headers=user.headers)
        assert resp.status_code == 201, resp.text
        answers: list[Json] = resp.json()
        return answers


def build_demo(data: Path, credentials: Path) -> None:
    mashang(
        "demo",
        "--data",
        str(data),
        "--shops",
        "30",
        "--grid-workers",
        "3",
        "--months",
        "1",
        "--seed",
        "7",
        "--credentials",
        str(credentials),
        env=ENV,
    )


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Json]:
    """A pristine demo district (never served itself: gateways run on copies) and its logins."""
    root = tmp_path_factory.mktemp("security-demo")
    build_demo(root / "pristine", root / "logins.json")
    logins: Json = json.loads((root / "logins.json").read_text(encoding="utf-8"))
    return root / "pristine", logins


def serve_copy(pristine: Path, where: Path, *serve_args: str) -> Gateway:
    shutil.copytree(pristine, where)
    return Gateway(where, env=ENV, serve_args=serve_args).start()


@pytest.fixture(scope="session")
def world(demo: tuple[Path, Json], tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    pristine, logins = demo
    gw = serve_copy(pristine, tmp_path_factory.mktemp("security-world") / "data")
    try:
        w = World(gw, logins)
        yield w
        w.http.close()
    finally:
        gw.stop()


@pytest.fixture
def fresh_gateway(demo: tuple[Path, Json], tmp_path: Path) -> Iterator[Callable[..., Gateway]]:
    """Gateways of this test alone, on copies of the demo district (for throttles and a server that may hang)."""
    started: list[Gateway] = []

    def make(*serve_args: str) -> Gateway:
        gw = serve_copy(demo[0], tmp_path / f"data{len(started)}", *serve_args)
        started.append(gw)
        return gw

    try:
        yield make
    finally:
        for gw in started:
            gw.stop()


@pytest.fixture(params=["owner", "grid", "office"])
def attack(request: pytest.FixtureRequest, world: World) -> Attack:
    return world.attack(request.param)
