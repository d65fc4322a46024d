"""Who may read a shop's responsible person and phone (its `contact`, in the shop's registry document
`{code}:shop:{code}`): the shop's own phone and its grid workers' replicate it with the shop's e-file (the grid
worker calls the owner from the street, offline); another shop's owner, another grid's worker and the office's
phones (the `district` scope) never get it, through any endpoint of `/sync/`, nor does anyone through the public card.

On its own gateway (a copy of the demo district): the contacts are written through the office's API, and the
suite's shared world is left as the demo made it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.security.conftest import Json, User, World, serve_copy


@dataclass(frozen=True)
class Contacts:
    world: World
    said: dict[str, tuple[str, str]]  # shop -> (person, phone digits)

    def doc_id(self, shop: str) -> str:
        return f"{shop}:shop:{shop}"


@pytest.fixture(scope="module")
def contacts(demo: tuple[Any, Json], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Contacts]:
    pristine, logins = demo
    gw = serve_copy(pristine, tmp_path_factory.mktemp("contact-scope") / "data")
    try:
        world = World(gw, logins)
        said = {}
        for n, user in enumerate((world.owner, world.neighbour, world.far_owner)):
            person, phone = f"负责人{n}号", f"1380013800{n}"
            resp = world.http.patch(
                f"/api/office/shops/{user.name}",
                json={"contact": {"name": person, "phone": phone}},
                headers=world.office.headers,
            )
            assert resp.status_code == 200, resp.text
            said[user.name] = (person, phone)
        yield Contacts(world, said)
        world.http.close()
    finally:
        gw.stop()


def reads(c: Contacts, user: User, shop: str) -> dict[str, httpx.Response]:
    """Every way a phone could read `shop`'s registry document through `/sync/`."""
    w, doc_id = c.world, c.doc_id(shop)

    def get(path: str, **params: str) -> httpx.Response:
        return w.http.get(path, params=params, headers=user.headers)

    def post(path: str, body: Any) -> httpx.Response:
        return w.http.post(path, json=body, headers=user.headers)

    return {
        "get": get(f"/sync/{doc_id}"),
        "get open_revs": get(f"/sync/{doc_id}", open_revs="all", revs="true"),
        "changes": get("/sync/_changes", include_docs="true", style="all_docs"),
        "changes doc_ids": post("/sync/_changes?filter=_doc_ids&include_docs=true", {"doc_ids": [doc_id]}),
        "changes selector": post(
            "/sync/_changes?filter=_selector&include_docs=true", {"selector": {"type": "shop", "code": shop}}
        ),
        "bulk_get": post("/sync/_bulk_get?revs=true", {"docs": [{"id": doc_id}]}),
        "all_docs keys": post("/sync/_all_docs?include_docs=true", {"keys": [doc_id]}),
        "all_docs range": get(
            "/sync/_all_docs", include_docs="true", startkey=json.dumps(f"{shop}:"), endkey=json.dumps(f"{shop}:\ufff0")
        ),
    }


def assert_unread(c: Contacts, user: User, shop: str) -> None:
    """Nothing of `shop`'s contact reaches `user`: a read of its document looks like one of a missing document."""
    person, phone = c.said[shop]
    answers = reads(c, user, shop)
    for how, resp in answers.items():
        assert resp.status_code in (200, 404), (how, resp.text)
        assert person not in resp.text and phone not in resp.text, (user.user_id, how, resp.text[:300])
        # Only the reads by id name the id asked for, as they name any missing one.
        assert c.doc_id(shop) not in resp.text or how in ("bulk_get", "all_docs keys"), (how, resp.text[:300])
    for how in ("get", "get open_revs"):
        assert answers[how].status_code == 404 and answers[how].json() == {"error": "not_found", "reason": "missing"}


def test_another_shops_owner_cannot_read_the_contact(contacts: Contacts) -> None:
    w = contacts.world
    assert_unread(contacts, w.owner, w.neighbour.name)  # the next shop of the same grid
    assert_unread(contacts, w.owner, w.far_owner.name)


def test_another_grids_worker_cannot_read_the_contact(contacts: Contacts) -> None:
    w = contacts.world
    assert_unread(contacts, w.other_grid, w.owner.name)
    assert_unread(contacts, w.other_grid, w.neighbour.name)
    assert_unread(contacts, w.grid, w.far_owner.name)


def test_the_offices_phone_scope_holds_no_contact(contacts: Contacts) -> None:
    """Through `/sync/` an office account replicates the `district` documents only; it reads contacts through the
    office's API."""
    w = contacts.world
    for shop in contacts.said:
        assert_unread(contacts, w.office, shop)


def test_the_shops_grid_worker_and_its_own_phone_replicate_it(contacts: Contacts) -> None:
    w = contacts.world
    for user, shop in ((w.grid, w.owner.name), (w.grid, w.neighbour.name), (w.owner, w.owner.name)):
        person, phone = contacts.said[shop]
        resp = w.http.get(f"/sync/{contacts.doc_id(shop)}", headers=user.headers)
        assert resp.status_code == 200, resp.text
        assert resp.json()["contact"] == {"name": person, "phone": phone}
        changes = w.http.get("/sync/_changes?include_docs=true", headers=user.headers).json()["results"]
        [row] = [r for r in changes if r["id"] == contacts.doc_id(shop)]
        assert row["doc"]["contact"] == {"name": person, "phone": phone}


def test_the_public_card_of_a_shop_with_a_contact_names_no_one(contacts: Contacts) -> None:
    w = contacts.world
    for shop, (person, phone) in contacts.said.items():
        for path in (f"/api/public/shops/{shop}", f"/api/public/shops/{shop}/badge.svg"):
            resp = w.http.get(path)  # no token
            assert resp.status_code == 200, resp.text
            assert person not in resp.text and phone not in resp.text, path
