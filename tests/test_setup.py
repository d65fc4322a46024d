"""`mashang setup`: a district that starts from nothing gets its first office account, the sub-district's name, and
the checklist and points rules every phone reads before its first self-check or patrol."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from server.app import create_app
from server.cli import _first_account_note, main
from server.settings import Settings

PASSWORD = "anjian-2026"
SETUP = ["--username", "zhangli", "--name", "张丽", "--subdistrict", "xingfu", "--subdistrict-name", "幸福街道"]


def setup(data: Path, password: str, *args: str, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))  # a script's stdin: the first line
    return main(["setup", "--data", str(data), *args])


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return tmp_path / "data"


def signed_in(client: TestClient, username: str, password: str) -> dict[str, str]:
    resp = client.post("/api/auth/login", json={"username": username, "password": password})
    assert resp.status_code == 200, resp.text
    return {"Authorization": f"Bearer {resp.json()['token']}"}


def test_a_new_district_signs_in_and_its_first_owner_reads_the_checklist(
    data: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert setup(data, PASSWORD, *SETUP, monkeypatch=monkeypatch) == 0
    said = capsys.readouterr().out
    assert "office account zhangli" in said and "checklist" in said and "mashang serve --data" in said
    with TestClient(create_app(Settings(data_dir=data)), raise_server_exceptions=False) as client:
        office = signed_in(client, "zhangli", PASSWORD)
        me = client.get("/api/office/registry/subdistricts", headers=office).json()["items"]
        assert me == [{"code": "xingfu", "name": "幸福街道", "communities": 0}]
        # The office's first week: a community (the only sub-district is taken), a grid, a shop, its owner's code.
        assert client.put("/api/office/registry/communities/xf", json={"name": "幸福社区"}, headers=office).is_success
        grid = {"name": "幸福一网格", "community": "xf"}
        assert client.put("/api/office/registry/grids/xf-g1", json=grid, headers=office).is_success
        shop = {"code": "XQ001", "name": "老王面馆", "address": "幸福路1号", "category": "food", "grid": "xf-g1"}
        assert client.post("/api/office/shops", json=shop, headers=office).status_code == 201
        code = client.post("/api/shops/XQ001/activation", headers=office).json()["code"]
        owner = client.post("/api/auth/activate", json={"shop": "XQ001", "code": code, "pin": "480731"})
        assert owner.status_code == 200, owner.text
        phone = {"Authorization": f"Bearer {owner.json()['token']}"}
        # What the phone's checklist form is built from, from the `district` partition it replicates: without it the
        # owner saw "本机还没有检查表，请联网后再试" on a phone that was online and synced.
        template = client.get("/sync/district:template:fire-gas", headers=phone)
        assert template.status_code == 200, template.text
        assert template.json()["title"]["zh"] == "消防与燃气安全" and len(template.json()["items"]) == 10
        assert client.get("/sync/district:rules", headers=phone).status_code == 200
        entries = client.get("/api/office/audit", headers=office).json()["items"]
        assert any(e["event"] == "staff_created" and e["detail"] == "by mashang setup" for e in entries)


def test_running_it_again_gives_a_new_password_and_keeps_the_rest(
    data: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert setup(data, PASSWORD, *SETUP, monkeypatch=monkeypatch) == 0
    assert setup(data, "a-new-password", "--username", "zhangli", monkeypatch=monkeypatch) == 0
    said = capsys.readouterr().out
    assert "new password" in said and said.count("checklist") == 1  # stored once, by the first run
    with TestClient(create_app(Settings(data_dir=data)), raise_server_exceptions=False) as client:
        refused = client.post("/api/auth/login", json={"username": "zhangli", "password": PASSWORD})
        assert refused.status_code == 401
        office = signed_in(client, "zhangli", "a-new-password")
        users = client.get("/api/office/users?role=office", headers=office).json()["items"]
        assert [(u["username"], u["name"]) for u in users] == [("zhangli", "张丽")]


@pytest.mark.parametrize(
    ("password", "args", "reason"),
    [
        ("short", SETUP, "at least 8"),
        (PASSWORD, ["--username", "ZhangLi"], "lower-case"),
        (PASSWORD, ["--username", "zhangli", "--subdistrict", "幸福 街道"], "--subdistrict 幸福 街道"),
        (PASSWORD, ["--username", "zhangli", "--subdistrict-name", "幸福街道"], "--subdistrict CODE"),
    ],
)
def test_what_it_cannot_do_is_said_and_leaves_no_account(
    data: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    password: str,
    args: list[str],
    reason: str,
) -> None:
    assert setup(data, password, *args, monkeypatch=monkeypatch) == 2
    assert reason in capsys.readouterr().err
    assert asyncio.run(_first_account_note(Settings(data_dir=data), str(data))) is not None


def test_serve_says_how_to_make_the_first_account_until_there_is_one(
    data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data.mkdir()
    note = asyncio.run(_first_account_note(Settings(data_dir=data), str(data)))
    assert note is not None and f"mashang setup --data {data} --username" in note
    assert setup(data, PASSWORD, "--username", "zhangli", monkeypatch=monkeypatch) == 0
    assert asyncio.run(_first_account_note(Settings(data_dir=data), str(data))) is None
