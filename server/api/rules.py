"""Rules and checklist templates: the office reads and edits the versioned documents, with validation."""

from __future__ import annotations

from starlette.routing import Route

routes: list[Route] = []
