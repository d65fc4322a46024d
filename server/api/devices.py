"""Devices report their sync state (pending documents and photos, last sync, app version, storage)."""

from __future__ import annotations

from starlette.routing import Route

routes: list[Route] = []
