"""The registry of communities, grids and shops, and the grid-worker scopes derived from it.

A grid document (`registry:grid:{code}`) lists its grid workers and its shops; a grid worker sees the shop
partitions of every grid that lists them. Moving a shop bumps the scope version of the grid workers it left
and joined: their phones' pull checkpoints, namespaced by that version, are forgotten, so they re-read.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from typing import Any

from pydantic import ValidationError

from server.accounts import user_doc_id
from server.errors import CouchError, bad_request, conflict, no_such, unknown_in
from server.models.common import CONTROL, describe, reason_of
from server.models.registry import (
    CONTACT_HELP,
    MAX_MOVES,
    Community,
    Contact,
    Grid,
    Shop,
    Subdistrict,
    clean_phone,
    community_doc_id,
    grid_doc_id,
    shop_doc_id,
    subdistrict_doc_id,
)
from server.models.rules import RULES_ID, default_rules
from server.models.templates import default_template
from server.store.protocol import AllDocsQuery, Doc, Store
from server.store.reads import docs_with_prefix
from server.store.upsert import read, upsert

CACHE_SECONDS = 2.0
LONG_AGO = date(2000, 1, 1)  # when a shop closed before its closures were noted is taken to have closed


async def shipped_documents(store: Store) -> list[str]:
    """The shipped checklist and points rules, current and frozen as version 1, unless the store has them; answers
    the ids written. The server reads the shipped ones when none is stored, but a phone reads them from the
    `district` partition it replicates and can do no self-check or patrol without them: a district's first shop
    brings them (`create_shop`, the survey import), as do `mashang setup` and `mashang demo`."""
    template, rules = default_template(), default_rules()
    written = []
    for doc in (
        template.to_doc(),
        {**template.to_doc(), "_id": template.snapshot_id},
        rules.to_doc(),
        {**rules.to_doc(), "_id": f"{RULES_ID}:v{rules.version}"},
    ):
        if await read(store, doc["_id"]) is None:
            await upsert(store, doc)
            written.append(str(doc["_id"]))
    return written


class Registry:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._index: dict[str, frozenset[str]] = {}
        self._loaded_at = -1e9

    def forget(self) -> None:
        self._loaded_at = -1e9

    async def grids(self) -> list[Doc]:
        return await docs_with_prefix(self.store, "registry:grid:")

    async def shops_of_worker(self, username: str) -> frozenset[str]:
        if time.monotonic() - self._loaded_at > CACHE_SECONDS:
            index: dict[str, set[str]] = {}
            for grid in await self.grids():
                for worker in grid.get("workers", []):
                    index.setdefault(worker, set()).update(grid.get("shops", []))
            self._index = {k: frozenset(v) for k, v in index.items()}
            self._loaded_at = time.monotonic()
        return self._index.get(username, frozenset())

    # ----- reading the registry (office screens, posters, exports) -----

    async def communities(self) -> list[Doc]:
        return await docs_with_prefix(self.store, "registry:community:")

    async def community(self, code: str) -> Doc | None:
        return await read(self.store, community_doc_id(code))

    async def grid(self, code: str) -> Doc | None:
        return await read(self.store, grid_doc_id(code))

    async def shop(self, code: str) -> Doc | None:
        return await read(self.store, shop_doc_id(code))

    async def shops(self, codes: list[str]) -> list[Doc]:
        """The shop documents of `codes` that exist, in the order of `codes`."""
        out = await self.store.all_docs(AllDocsQuery(keys=[shop_doc_id(c) for c in codes], include_docs=True))
        return [row["doc"] for row in out["rows"] if row.get("doc")]

    async def shops_of(self, community: str | None = None, grid: str | None = None) -> list[Doc]:
        """Every shop listed by a grid (of `community`, or only `grid`), by code; closed ones too."""
        codes = {
            code
            for g in await self.grids()
            if (community is None or g.get("community") == community) and (grid is None or g.get("code") == grid)
            for code in g.get("shops", [])
        }
        return await self.shops(sorted(codes))

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

    async def add_shop(self, shop: dict[str, Any]) -> bool:
        """Write a new shop only if its code is free: False when a shop has it (the store's conflict)."""
        doc = {"_id": shop_doc_id(shop["code"]), "type": "shop", "schema": 1, **shop}
        [result] = await self.store.bulk_docs([doc])
        if result.get("error") == "conflict":
            return False
        if not result.get("ok"):
            raise CouchError(500, str(result.get("error", "error")), str(result.get("reason", "write failed")))
        return True

    async def save_community(self, code: str, name: str, subdistrict: str | None = None) -> Doc:
        """Create or rename a community; a new one needs its sub-district unless the registry has only one."""
        current = await self.community(code)
        if subdistrict is None:
            subdistrict = current["subdistrict"] if current else await self.only_subdistrict()
        doc = {"_id": community_doc_id(code), "type": "community", "schema": 1, "code": code, "name": name}
        checked(Community, {**doc, "subdistrict": subdistrict})
        return await self.put_community(code, name, subdistrict)

    async def subdistricts(self) -> dict[str, str | None]:
        """Every sub-district the communities name, and those named without communities yet: code -> name."""
        named = {d["code"]: d["name"] for d in await docs_with_prefix(self.store, "registry:subdistrict:")}
        codes = {*named, *(c["subdistrict"] for c in await self.communities())}
        return {code: named.get(code) for code in sorted(codes)}

    async def subdistrict_name(self, code: str) -> str:
        """The sub-district's name, or its code while it has none."""
        doc = await read(self.store, subdistrict_doc_id(code))
        return str(doc["name"]) if doc is not None else code

    async def save_subdistrict(self, code: str, name: str) -> Doc:
        doc = {"_id": subdistrict_doc_id(code), "type": "subdistrict", "schema": 1, "code": code, "name": name}
        return await upsert(self.store, checked(Subdistrict, doc))

    async def only_subdistrict(self) -> str:
        """The registry's one sub-district, named (`save_subdistrict`) or given by its communities: where a new
        community goes when none is said. A new district names its sub-district before its first community."""
        found = list(await self.subdistricts())
        if len(found) == 1:
            return found[0]
        if not found:
            raise bad_request(
                "还没有登记街道：请先在“街道名称”中填写街道的编号和名称，再新建社区或导入。"
                "subdistrict: required (the registry has no sub-district yet: name it first)"
            )
        raise bad_request(
            f"本区有 {len(found)} 个街道（{'、'.join(found)}）：请写明新社区所属的街道。"
            "subdistrict: required (the registry has no single sub-district to default to)"
        )

    async def save_grid(self, code: str, name: str, community: str, workers: list[str] | None) -> Doc:
        """Create or edit a grid (its name, community and grid workers; its shops move with `move_shop`). Grid
        workers must have accounts; those who joined or left it re-read their scope."""
        if await self.community(community) is None:
            raise unknown_in("community", "community", community)
        current = await self.grid(code)
        if current is not None and current["community"] != community and current.get("shops"):
            raise bad_request(
                "community: 网格里还有店铺：请先把店铺移到其他网格，再把网格改到另一个社区。"
                "move the grid's shops out before moving it to another community"
            )
        old = list(current.get("workers", [])) if current else []
        new = old if workers is None else workers
        doc = {"_id": grid_doc_id(code), "type": "grid", "schema": 1, "code": code, "name": name}
        checked(Grid, {**doc, "community": community, "workers": new, "shops": (current or {}).get("shops", [])})
        for worker in set(new) - set(old):
            if await read(self.store, user_doc_id(f"grid:{worker}")) is None:
                raise bad_request(no_grid_worker(worker))
        saved = await self.put_grid(code, name, community, new, list((current or {}).get("shops", [])))
        for worker in set(new) ^ set(old):
            await bump_scope_version(self.store, f"grid:{worker}")
        return saved

    async def create_shop(self, fields: dict[str, Any], opened: date) -> Doc:
        """A new active shop in the grid `fields["grid"]` (its community is the grid's), registered on `opened`."""
        code = str(fields.get("code", ""))
        if await self.shop(code) is not None:
            raise conflict(f"code: 店铺编号 {code} 已登记。shop {code} exists already")
        grid = await self.grid(str(fields.get("grid", "")))
        if grid is None:
            raise unknown_in("grid", "grid", str(fields.get("grid")))
        shop = {**fields, "community": grid["community"], "status": "active", "owner_activated": False}
        shop["opened"] = opened.isoformat()
        doc = await self.put_shop(checked(Shop, {"_id": shop_doc_id(code), "type": "shop", "schema": 1, **shop}))
        await self.add_to_grid(grid["code"], [code])
        await shipped_documents(self.store)
        return doc

    async def add_to_grid(self, grid_code: str, codes: list[str]) -> None:
        grid = await read(self.store, grid_doc_id(grid_code))
        if grid is None:
            raise unknown_in("grid", "grid", grid_code)
        if not set(codes) <= set(grid.get("shops", [])):
            await upsert(self.store, {**grid, "shops": sorted({*grid.get("shops", []), *codes})})
            for worker in grid.get("workers", []):
                await bump_scope_version(self.store, f"grid:{worker}")
            self.forget()

    async def edit_shop(self, code: str, changes: dict[str, Any]) -> Doc:
        """Change a shop's name, address, category, contact or status (closed shops leave the ranking)."""
        shop = await self.shop(code)
        if shop is None:
            raise no_such("shop", code)
        return await upsert(self.store, checked(Shop, {**shop, **changes}))

    async def set_status(self, code: str, status: str, day: date) -> Doc:
        """Close or reopen a shop on `day`, noting it in the shop's `closures`. (A shop closed before closures were
        noted is taken as closed since 2000: reopened, its weeks up to `day` stay owed nothing, as while closed.)"""
        shop = await self.shop(code)
        if shop is None:
            raise no_such("shop", code)
        closures = [dict(c) for c in shop.get("closures", ())]
        if status == "closed" and shop.get("status") != "closed":
            closures.append({"since": day.isoformat(), "until": None})
        elif status == "active" and shop.get("status") == "closed":
            if closures and closures[-1].get("until") is None:
                closures[-1]["until"] = day.isoformat()
            else:
                closures.append({"since": LONG_AGO.isoformat(), "until": day.isoformat()})
        return await upsert(self.store, checked(Shop, {**shop, "status": status, "closures": closures}))

    async def move_shop(self, code: str, to_grid: str, at: datetime | None = None) -> list[str]:
        """Move a shop to another grid (at `at`, by default now), noting the move in the shop's `moves`; answers
        the grid workers whose scope changed."""
        shop = await read(self.store, shop_doc_id(code))
        target = await read(self.store, grid_doc_id(to_grid))
        if shop is None:
            raise no_such("shop", code)
        if target is None:
            raise unknown_in("grid", "grid", to_grid)
        source = await read(self.store, grid_doc_id(shop["grid"]))
        touched: set[str] = set(target.get("workers", []))
        if source is not None and source["_id"] != target["_id"]:
            touched |= set(source.get("workers", []))
            await upsert(self.store, {**source, "shops": sorted(set(source["shops"]) - {code})})
        await upsert(self.store, {**target, "shops": sorted({*target.get("shops", []), code})})
        moved = {**shop, "grid": to_grid, "community": target["community"]}
        if shop["grid"] != to_grid:
            when = (at or datetime.now(UTC)).astimezone(UTC).isoformat()
            moves = [*shop.get("moves", ()), {"from": shop["grid"], "to": to_grid, "at": when}]
            moved["moves"] = moves[-MAX_MOVES:]
        await upsert(self.store, moved)
        for worker in touched:
            await bump_scope_version(self.store, f"grid:{worker}")
        self.forget()
        return sorted(touched)


async def bump_scope_version(store: Store, user_id: str) -> None:
    user = await read(store, user_doc_id(user_id))
    if user is not None:
        await upsert(store, {**user, "scope_version": int(user.get("scope_version", 0)) + 1})


def checked(
    model: type[Shop] | type[Grid] | type[Community] | type[Subdistrict], doc: dict[str, Any]
) -> dict[str, Any]:
    """`doc` as the model stores it, or a 400 naming the field that is wrong."""
    try:
        return model.model_validate({k: v for k, v in doc.items() if k != "_rev"}).to_doc()
    except ValidationError as e:
        raise bad_request(reason_of(e)) from None


def one_line(field: str, value: str) -> str:
    """`value`, which the registry keeps as one line (a name, an address, a code, a contact's 负责人): a 400 naming
    `field`, Chinese first, for a line break or another control character in it (pasted from a spreadsheet's cell,
    posters and exports would print it as it is)."""
    if CONTROL.search(value):
        raise bad_request(f"{field}: 不能含换行或控制字符。no line break or control character")
    return value


def contact_of(given: Any) -> dict[str, Any] | None:
    """A shop's `contact` as the office's form or API sends it, `{"name", "phone"}` (either may be empty or absent),
    as the shop stores it: the name trimmed, the phone as `clean_phone` writes it, None for no contact (null, or
    both empty). A 400 names the field, Chinese first (`CONTACT_HELP`), then the model's reason."""
    if given is None:
        return None
    if not isinstance(given, dict):
        raise bad_request('contact: must be an object {"name", "phone"}, or null for none')
    unknown = sorted(set(given) - {"name", "phone"})
    if unknown:
        raise bad_request(f"contact.{unknown[0]}: unknown field (a contact has a name and a phone)")
    for key in ("name", "phone"):
        if given.get(key) is not None and not isinstance(given[key], str):
            raise bad_request(f"contact.{key}: must be a string")
    name = str(given.get("name") or "").strip() or None
    if name is not None:
        one_line("contact.name", name)
    phone = clean_phone(str(given.get("phone") or "")) or None
    if name is None and phone is None:
        return None
    try:
        return Contact.model_validate({"name": name, "phone": phone}).model_dump(mode="json")
    except ValidationError as e:
        error = e.errors(include_url=False)[0]
        key = str(error["loc"][0])
        english = describe(error["type"], ("contact", key), error["msg"])
        raise bad_request(f"contact.{key}: {CONTACT_HELP.get(key, '')}{english}") from None


def no_grid_worker(worker: str) -> str:
    """Why a grid's `workers` naming `worker` is refused: no grid worker's account has that username (or it is in
    another sub-district, which reads the same). Chinese first, for the registry desk's grid form."""
    return (
        f"没有用户名为 {worker} 的网格员账号：请填写网格员账号的用户名（不是姓名），或先新建该账号。"
        f"workers: no grid worker {worker}"
    )
