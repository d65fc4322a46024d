"""QR codes (SVG, PNG) and printable A4 posters of shops."""

from __future__ import annotations

from starlette.routing import Route

routes: list[Route] = []
