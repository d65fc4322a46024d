"""The API contract, served at /api/openapi.json."""

from __future__ import annotations

from starlette.routing import Route

routes: list[Route] = []
