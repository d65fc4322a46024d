"""Reward points: balances and the redemptions the office records."""

from __future__ import annotations

from starlette.routing import Route

routes: list[Route] = []
