"""The server's own `_local` documents under attack: the validators' lease and checkpoint, and the webhook's lease
(`_local/server/validators-lease`, `_local/server/validators`, `_local/server/webhook-lease`, each naming the
process that holds it). No token of any role reaches them through `/sync/_local/`: a read looks missing, and a
write or a deletion lands in the caller's own checkpoint namespace (`server.access.local_id`), never on them.

On its own gateway (a copy of the demo district) with the validators and a webhook running, so that the three
documents exist; what they hold is read from the gateway's SQLite file itself."""

from __future__ import annotations

import json
import shutil
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.gateway import Gateway
from tests.security.conftest import ENV, Json, World

SERVER_LOCALS = ("server/validators-lease", "server/validators", "server/webhook-lease")
FORGED = {"holder": "attacker:1:ffffff", "expires_at": "2999-01-01T00:00:00+00:00", "last_seq": "999999999"}
MISSING = {"error": "not_found", "reason": "missing"}


def stored(data: Path) -> dict[str, Json]:
    """The gateway's `_local` documents, by id, as its SQLite file holds them."""
    with sqlite3.connect(f"file:{data / 'mashang.sqlite3'}?mode=ro", uri=True, timeout=10) as conn:
        return {row[0]: json.loads(row[1]) for row in conn.execute("SELECT id, body FROM local_docs")}


@pytest.fixture(scope="module")
def served(demo: tuple[Path, Json], tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[World, Path]]:
    pristine, logins = demo
    data = tmp_path_factory.mktemp("server-locals") / "data"
    shutil.copytree(pristine, data)
    # A webhook nobody listens on: its lease is taken all the same, and nothing is sent while no alarm is raised.
    env = {**ENV, "MASHANG_VALIDATORS": "1", "MASHANG_WEBHOOK_URL": "http://127.0.0.1:9/hook"}
    gw = Gateway(data, env=env).start()
    try:
        deadline = time.monotonic() + 30
        while not set(SERVER_LOCALS) <= set(stored(data)) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert set(SERVER_LOCALS) <= set(stored(data)), sorted(stored(data))
        world = World(gw, logins)
        yield world, data
        world.http.close()
    finally:
        gw.stop()


def attackers(world: World) -> dict[str, dict[str, str]]:
    office = next(o for o in world.logins["office"] if o.get("subdistrict"))
    subdistrict_office = world.login(office["username"], office["password"])
    users = (world.owner, world.grid, world.office, subdistrict_office)
    return {"no token": {}, **{u.user_id: u.headers for u in users}}


@pytest.mark.parametrize("local", SERVER_LOCALS)
def test_no_token_reads_overwrites_or_deletes_the_servers_leases_and_checkpoint(
    served: tuple[World, Path], local: str
) -> None:
    world, data = served
    for who, headers in attackers(world).items():
        for path in (f"_local/{local}", f"_local/..%2F..%2F..%2F{local.replace('/', '%2F')}"):
            url = f"/sync/{path}"
            read = world.http.get(url, headers=headers)
            put = world.http.put(url, json=FORGED, headers=headers)
            if not headers:
                assert [read.status_code, put.status_code] == [401, 401], (who, path)
                continue
            assert (read.status_code, read.json()) == (404, MISSING), (who, path, read.text)
            assert put.status_code == 201, (who, path, put.text)  # the caller's own document of that name
            again = world.http.put(url, json={**FORGED, "_rev": put.json()["rev"]}, headers=headers)
            assert again.status_code == 201, (who, path, again.text)
            # The caller's own document is deleted (its revision is theirs), and nothing else.
            gone = world.http.delete(f"{url}?rev={again.json()['rev']}", headers=headers)
            assert gone.status_code == 200, (who, path, gone.text)
            assert world.http.put(url, json=FORGED, headers=headers).status_code == 201
    held: dict[str, Any] = stored(data)[local]
    assert "attacker" not in json.dumps(held), held
    mine = [i for i, body in stored(data).items() if body.get("holder") == FORGED["holder"]]
    assert mine and all(i.startswith("user/") for i in mine), mine
