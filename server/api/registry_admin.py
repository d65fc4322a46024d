"""The registry: survey import (CSV, XLSX), shops, communities, grids and users."""

from __future__ import annotations

from starlette.routing import Route

routes: list[Route] = []
