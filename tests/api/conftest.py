"""An in-process gateway on a fresh embedded store, with a small registry: two grids, three shops."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from server.app import create_app
from server.auth import Principal, Tokens
from server.settings import Settings
from tests.worlds import seed_registry

SECRET = "api-test-secret-" + "z" * 40


class World:
    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.state = client.app.state  # type: ignore[attr-defined]

    def call(self, fn: Any, *args: Any) -> Any:
        return self.client.portal.call(fn, *args)  # type: ignore[union-attr]

    def admin(self) -> dict[str, str]:
        return {"Authorization": "Bearer " + Tokens(SECRET).issue(Principal("admin", "admin"), 3600)}

    def login(self, username: str, password: str) -> dict[str, str]:
        resp = self.client.post("/api/auth/login", json={"username": username, "password": password})
        assert resp.status_code == 200, resp.text
        return {"Authorization": "Bearer " + resp.json()["token"]}


@contextlib.contextmanager
def open_world(tmp_path: Path, **settings: Any) -> Iterator[World]:
    """A gateway on a fresh store in `tmp_path`, with the registry of the module docstring and three staff."""
    app = create_app(Settings(data_dir=tmp_path / "data", secret=SECRET, **settings))
    with TestClient(app, raise_server_exceptions=False) as client:
        w = World(client)
        reg, acc = w.state.registry, w.state.accounts
        w.call(reg.put_community, "wensan", "文三社区", "minglou")
        seed_registry(w.call, reg)
        w.call(acc.create_staff, "grid", "zhou", "zhou-password", "小周")
        w.call(acc.create_staff, "grid", "li", "li-password", "小李")
        w.call(acc.create_staff, "office", "wang", "wang-password", "王科长")
        yield w


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with open_world(tmp_path) as w:
        yield w


def wait_until(check: Any, timeout: float = 20.0) -> Any:
    """What `check` answers once it is truthy (the validators run behind the writes), polled; fails after `timeout`."""
    deadline = time.monotonic() + timeout
    while not (found := check()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)
    return found
