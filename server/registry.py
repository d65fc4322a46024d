"""The registry of communities, grids and shops, and the grid-worker scopes derived from it.

A grid document (`registry:grid:{code}`) lists its grid workers and its shops; a grid worker sees the shop
partitions of every grid that lists them. Moving a shop bumps the scope version of the grid workers it left
and joined: their phones' pull checkpoints, namespaced by that version, are forgotten, so they re-read.
"""

from __future__ import annotations

import time
from typing import Any

from server.accounts import user_doc_id
from server.errors import bad_request, not_found
from server.models.registry import community_doc_id, grid_doc_id, shop_doc_id
from server.store.protocol import AllDocsQuery, Doc, Store
from server.store.upsert import read, upsert

CACHE_SECONDS = 2.0


class Registry:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._index: dict[str, frozenset[str]] = {}
        self._loaded_at = -1e9

    def forget(self) -> None:
        self._loaded_at = -1e9

    async def grids(self) -> list[Doc]:
        out = await self.store.all_docs(
            AllDocsQuery(startkey="registry:grid:", endkey="registry:grid:\ufff0", include_docs=True)
        )
        return [row["doc"] for row in out["rows"]]

    async def shops_of_worker(self, username: str) -> frozenset[str]:
        if time.monotonic() - self._loaded_at > CACHE_SECONDS:
            index: dict[str, set[str]] = {}
            for grid in await self.grids():
                for worker in grid.get("workers", []):
                    index.setdefault(worker, set()).update(grid.get("shops", []))
            self._index = {k: frozenset(v) for k, v in index.items()}
            self._loaded_at = time.monotonic()
        return self._index.get(username, frozenset())

    # ----- writing the registry (office, survey import, demo) -----

    async def put_community(self, code: str, name: str, subdistrict: str) -> Doc:
        return await upsert(
            self.store,
            {
                "_id": community_doc_id(code),
                "type": "community",
                "schema": 1,
                "code": code,
                "name": name,
                "subdistrict": subdistrict,
            },
        )

    async def put_grid(self, code: str, name: str, community: str, workers: list[str], shops: list[str]) -> Doc:
        doc = await upsert(
            self.store,
            {
                "_id": grid_doc_id(code),
                "type": "grid",
                "schema": 1,
                "code": code,
                "name": name,
                "community": community,
                "workers": sorted(workers),
                "shops": sorted(shops),
            },
        )
        self.forget()
        return doc

    async def put_shop(self, shop: dict[str, Any]) -> Doc:
        return await upsert(self.store, {"_id": shop_doc_id(shop["code"]), "type": "shop", "schema": 1, **shop})

    async def move_shop(self, code: str, to_grid: str) -> list[str]:
        """Move a shop to another grid; answers the grid workers whose scope changed."""
        shop = await read(self.store, shop_doc_id(code))
        target = await read(self.store, grid_doc_id(to_grid))
        if shop is None:
            raise not_found(f"No shop {code}.")
        if target is None:
            raise bad_request(f"No grid {to_grid}.")
        source = await read(self.store, grid_doc_id(shop["grid"]))
        touched: set[str] = set(target.get("workers", []))
        if source is not None and source["_id"] != target["_id"]:
            touched |= set(source.get("workers", []))
            await upsert(self.store, {**source, "shops": sorted(set(source["shops"]) - {code})})
        await upsert(self.store, {**target, "shops": sorted({*target.get("shops", []), code})})
        await upsert(self.store, {**shop, "grid": to_grid, "community": target["community"]})
        for worker in touched:
            await bump_scope_version(self.store, f"grid:{worker}")
        self.forget()
        return sorted(touched)


async def bump_scope_version(store: Store, user_id: str) -> None:
    user = await read(store, user_doc_id(user_id))
    if user is not None:
        await upsert(store, {**user, "scope_version": int(user.get("scope_version", 0)) + 1})
