"""A staff password is kept as sign-in reads it: `POST /api/auth/login` strips what is typed, so a password given
with spaces around it (`mashang setup` reading a script's stdin, a pasted one on the users screen) is stored
stripped too. Kept with its spaces, it made an account no sign-in could open, with or without the spaces."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from server.app import create_app
from server.cli import main
from server.settings import Settings


def _login(client: TestClient, username: str, password: str) -> int:
    return client.post("/api/auth/login", json={"username": username, "password": password}).status_code


def test_setup_with_a_password_ending_in_spaces_signs_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "data"
    monkeypatch.setattr("sys.stdin", io.StringIO("anjian-2026  \n"))
    assert main(["setup", "--data", str(data), "--username", "zhangli", "--subdistrict", "xingfu"]) == 0
    with TestClient(create_app(Settings(data_dir=data)), raise_server_exceptions=False) as client:
        assert _login(client, "zhangli", "anjian-2026") == 200
        assert _login(client, "zhangli", "anjian-2026  ") == 200  # as typed: sign-in strips it


def test_setup_refuses_a_password_of_spaces(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(" " * 12 + "\n"))
    assert main(["setup", "--data", str(tmp_path / "data"), "--username", "zhangli"]) == 2


def test_a_password_given_on_the_users_screen_with_spaces_signs_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    monkeypatch.setattr("sys.stdin", io.StringIO("anjian-2026\n"))
    assert main(["setup", "--data", str(data), "--username", "zhangli", "--subdistrict", "xingfu"]) == 0
    with TestClient(create_app(Settings(data_dir=data)), raise_server_exceptions=False) as client:
        token = client.post("/api/auth/login", json={"username": "zhangli", "password": "anjian-2026"}).json()["token"]
        office = {"Authorization": f"Bearer {token}"}
        body = {"role": "grid", "username": "lina", "password": " lina-password ", "name": "李娜"}
        assert client.post("/api/office/users", json=body, headers=office).status_code == 201
        assert _login(client, "lina", "lina-password") == 200
        new = client.post("/api/office/users/grid:lina/password", json={"password": "new-password\t"}, headers=office)
        assert new.status_code == 200, new.text
        assert _login(client, "lina", "new-password") == 200
