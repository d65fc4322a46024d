"""The small registry several in-process test worlds share: 文三社区 with two grids and three shops."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from server.registry import Registry

SHOPS = (("S0001", "g1"), ("S0002", "g1"), ("S0003", "g2"))


def shop_fields(code: str, grid: str = "g1", **fields: Any) -> dict[str, Any]:
    """A registry shop of this world (a small restaurant in 文三社区), with `fields` changed."""
    return {
        "code": code,
        "name": f"小吃店{code}",
        "address": "曙光北路1号",
        "category": "food",
        "community": "wensan",
        "grid": grid,
        "status": "active",
        "owner_activated": False,
        **fields,
    }


def seed_registry(call: Callable[..., Any], registry: Registry, owner_activated: bool = False) -> None:
    """Grid g1 (grid worker zhou) holds S0001 and S0002, grid g2 (li) holds S0003; `call` runs a coroutine
    function on the app's event loop (a TestClient portal's `call`)."""
    call(registry.put_grid, "g1", "文三一网格", "wensan", ["zhou"], ["S0001", "S0002"])
    call(registry.put_grid, "g2", "文三二网格", "wensan", ["li"], ["S0003"])
    for code, grid in SHOPS:
        call(registry.put_shop, shop_fields(code, grid, owner_activated=owner_activated))
