"""The PWA files as the gateway serves them, including while a rebuild replaces them."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.testclient import TestClient

import server.app
from server.app import create_app
from server.settings import Settings


def test_a_service_worker_missing_mid_rebuild_is_a_404_not_a_500(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<!doctype html><title>码上安全</title>", encoding="utf-8")
    (dist / "sw.js").write_text("self.addEventListener('install', () => {});", encoding="utf-8")
    monkeypatch.setattr(server.app, "PWA_DIST", dist)
    app = create_app(Settings(data_dir=tmp_path / "data", secret="s" * 48, run_validators=False))
    with TestClient(app, raise_server_exceptions=False) as client:
        first = client.get("/sw.js")
        assert first.status_code == 200 and first.headers["cache-control"] == "no-cache"
        (dist / "sw.js").unlink()
        gone = client.get("/sw.js")
        assert gone.status_code == 404 and gone.json()["error"] == "not_found"
