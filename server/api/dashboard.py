"""The office's read side: communities, the summary figures, rankings, e-files, grid workers, the sync monitor."""

from __future__ import annotations

from starlette.routing import Route

routes: list[Route] = []
