"""Exports (CSV, XLSX) and the printable monthly report."""

from __future__ import annotations

from starlette.routing import Route

routes: list[Route] = []
