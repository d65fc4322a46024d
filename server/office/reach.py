"""How far an office account reaches: the whole district, or one sub-district (街道).

A district on one deployment has a safety office (安监所) in each of its sub-districts. Each sees, edits and is
alarmed about its own shops only; the district's office (an office account without a sub-district, or the
operator) sees them all and alone edits what is shared: the rules and checklists, and the webhook.

Every `/api/office/` handler takes its `Reach` from `server.api.common.office` and asks it before it reads or
writes: `narrow` for the view its figures and lists are counted from, `shop`, `grid`, `community`, `user` (or
`view_shop`, `view_grid`, `view_community`) for one named thing, `holds` and `user_filter` to filter lists,
`subdistrict_param` for a `?subdistrict=` filter, `whole` for the district's own desks.

What is outside a sub-district's office's reach looks missing to it (README: "Reads outside a scope look like reads
of missing documents, on every endpoint"): another sub-district's shop, grid, community or account is answered
exactly as an unknown one, one status and one reason that names only the code asked for, so that no answer tells
"exists elsewhere" from "does not exist". Only a write that would create the thing (`PUT` of a grid or community,
`own_grid`, `own_community`) cannot pretend a code taken district-wide is free: it is a 403.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from server.accounts import user_doc_id
from server.auth import Principal
from server.errors import CouchError, forbidden, no_such, not_found, unknown_in
from server.models.registry import community_doc_id, grid_doc_id, shop_doc_id
from server.office.facts import ShopState, View
from server.store.protocol import Doc, Store
from server.store.reads import docs_by_id, docs_with_prefix
from server.store.upsert import read


@dataclass(frozen=True)
class Reach:
    subdistrict: str | None  # None: every sub-district

    @classmethod
    def of(cls, principal: Principal) -> Reach:
        return cls(None if principal.is_admin else principal.subdistrict)

    @property
    def everywhere(self) -> bool:
        return self.subdistrict is None

    def outside(self, what: str, zh: str) -> CouchError:
        """The 403 of `what` (`zh` in Chinese: 网格 g1) in another sub-district, Chinese first."""
        sub = self.subdistrict
        return forbidden(f"{zh}不在本街道（{sub}）的管理范围内。{what} is outside your sub-district ({sub}).")

    def whole(self, what: str, zh: str) -> None:
        """Only the district's office may do `what` (`zh` in Chinese: 检查规则由全区统一设置), shared by every
        sub-district; Chinese first."""
        if not self.everywhere:
            sub = self.subdistrict
            raise forbidden(
                f"{zh}：只有全区的安监所账号可以操作（您的账号属于街道 {sub}）。"
                f"{what}: only the district's office may do this (yours is {sub})."
            )

    def allows(self, subdistrict: str | None) -> bool:
        return self.everywhere or subdistrict == self.subdistrict

    def require(self, subdistrict: str | None, what: str, zh: str) -> None:
        if not self.allows(subdistrict):
            raise self.outside(what, zh)

    def subdistrict_param(self, given: str | None) -> str | None:
        """A `?subdistrict=` filter held to the reach: a sub-district's office gets its own when it names none,
        and a 403 when it names another."""
        if self.everywhere:
            return given or None
        if given and given != self.subdistrict:
            raise self.outside(f"Sub-district {given}", f"街道 {given} ")
        return self.subdistrict

    # ----- with the office's view (dashboards, lists, exports) -----

    def holds(self, view: View, shop: ShopState) -> bool:
        return self.everywhere or view.subdistrict_of(shop) == self.subdistrict

    def has(self, view: View, code: str) -> bool:
        """Whether the shop `code` is in reach as the view places it; a shop the view does not know is not."""
        shop = view.shops.get(code)
        return shop is not None and self.holds(view, shop)

    def view_shop(self, view: View, code: str) -> None:
        """For a sub-district's office, a 404 for a shop outside the reach, of another sub-district or unknown to
        the view alike (the same 404 an unknown shop gets from the routes: `no_such`)."""
        if not self.everywhere and not self.has(view, code):
            raise no_such("shop", code)

    def view_grid(self, view: View, code: str | None) -> None:
        """A `?grid=` filter: for a sub-district's office, a grid of another sub-district is the 400 of an unknown
        grid (`server.office.shops.list_shops`, `server.office.figures.scope_of`), and so is an unknown one."""
        grid = view.grids.get(code) if code else None
        if code and not self.everywhere and not self._community_held(view, grid and grid.get("community")):
            raise unknown_in("grid", "grid", code)

    def view_community(self, view: View, code: str | None) -> None:
        """A `?community=` filter, as `view_grid`: another sub-district's community is the 400 of an unknown one."""
        if code and not self.everywhere and not self._community_held(view, code):
            raise unknown_in("community", "community", code)

    def _community_held(self, view: View, code: object) -> bool:
        community = view.communities.get(str(code)) if code else None
        return community is not None and community.get("subdistrict") == self.subdistrict

    def narrow(self, view: View) -> View:
        """The view with only what is in reach: the sub-district's communities, their grids and shops. Everything
        counted from it (figures, lists, rankings, exports) is the sub-district's alone."""
        if self.everywhere:
            return view
        communities = {c: d for c, d in view.communities.items() if d.get("subdistrict") == self.subdistrict}
        grids = {g: d for g, d in view.grids.items() if str(d.get("community")) in communities}
        shops = {code: shop for code, shop in view.shops.items() if self.holds(view, shop)}
        return View(view.rules, communities, grids, shops, view.seq, view.recomputing)

    def user_filter(self, view: View) -> Callable[[Doc], bool]:
        """A test of account documents (or `{"user_id": ...}` for an account known by id only) against the reach;
        `view` may be the office's whole view or the one `narrow` made (it holds every grid and shop that counts)."""
        return lambda user: user_in_view(view, self, user)

    # ----- with the registry documents (the registry desk, accounts) -----

    # For a sub-district's office, a shop, grid, community or account outside the reach, of another sub-district
    # or unknown to the registry alike, is `missing`: the answer the caller gives to an unknown one (its 404, or the
    # 400 of a body field naming it), so that both are told apart by nothing. The district's office is let through
    # to the handler's own check of an unknown code.

    async def shop(self, store: Store, code: str, missing: CouchError | None = None) -> None:
        if not self.everywhere and await subdistrict_of_shop(store, code) != self.subdistrict:
            raise missing or no_such("shop", code)

    async def grid(self, store: Store, code: str, missing: CouchError | None = None) -> None:
        if not self.everywhere and await subdistrict_of_grid(store, code) != self.subdistrict:
            raise missing or no_such("grid", code)

    async def community(self, store: Store, code: str, missing: CouchError | None = None) -> None:
        if not self.everywhere and await subdistrict_of_community(store, code) != self.subdistrict:
            raise missing or no_such("community", code)

    async def user(self, store: Store, user_id: str, missing: CouchError | None = None) -> None:
        await self._user_subdistricts(store, user_id, missing)

    async def _user_subdistricts(self, store: Store, user_id: str, missing: CouchError | None) -> set[str | None]:
        """The account's sub-districts (`subdistricts_of_user`) once it is in reach; none read for the district's
        office, which reaches every account."""
        if self.everywhere:
            return set()
        found = await subdistricts_of_user(store, user_id)
        if self.subdistrict not in found:
            raise missing or not_found(f"没有账号 {user_id}。No account {user_id}.")
        return found

    async def user_alone(self, store: Store, user_id: str, missing: CouchError | None = None) -> None:
        """`user`, and for a sub-district's office the account must be its alone: a grid worker who also has grids
        in another sub-district signs in there with the same password, so changing it would lock them out there and
        give this office their reach into the other sub-district. Only the district's office may."""
        if await self._user_subdistricts(store, user_id, missing) - {None, self.subdistrict}:
            raise forbidden(
                f"账号 {user_id} 同时在其他街道工作：其密码须由全区的安监所账号修改。"
                f"{user_id} also works in another sub-district: the district's office changes their password"
            )

    # A write that creates what it names (`PUT` of a grid or a community): an unknown code is let through (the
    # handler makes it in the office's own sub-district), another sub-district's is a 403. Codes are district-wide,
    # so such a write cannot pretend a taken code is free; the reason says no more than that it is taken.

    async def own_grid(self, store: Store, code: str) -> None:
        if not self.everywhere and (found := await subdistrict_of_grid(store, code)) is not None:
            self.require(found, f"Grid {code}", f"网格 {code} ")

    async def own_community(self, store: Store, code: str) -> None:
        if not self.everywhere and (found := await subdistrict_of_community(store, code)) is not None:
            self.require(found, f"Community {code}", f"社区 {code} ")


async def subdistrict_of_community(store: Store, code: str) -> str | None:
    """The community's sub-district; None for an unknown community (nothing to hold it to)."""
    doc = await read(store, community_doc_id(code))
    return str(doc["subdistrict"]) if doc and doc.get("subdistrict") else None


async def subdistrict_of_grid(store: Store, code: str) -> str | None:
    doc = await read(store, grid_doc_id(code))
    return await subdistrict_of_community(store, str(doc.get("community"))) if doc else None


async def subdistrict_of_shop(store: Store, code: str) -> str | None:
    doc = await read(store, shop_doc_id(code))
    return await subdistrict_of_community(store, str(doc.get("community"))) if doc else None


async def subdistricts_of_user(store: Store, user_id: str) -> set[str | None]:
    """The sub-districts an account belongs to: an owner's shop's; a grid worker's home and those of the grids
    that list them; an office account's own (None for the district's office, and for an unknown account)."""
    role, _, name = user_id.partition(":")
    if role == "owner":
        return {await subdistrict_of_shop(store, name)}
    user = await read(store, user_doc_id(user_id))
    found: set[str | None] = {str(user["subdistrict"]) if user and user.get("subdistrict") else None}
    if role == "grid":
        found |= await subdistricts_of_worker(store, name)
    return found


async def subdistricts_of_worker(store: Store, username: str) -> set[str | None]:
    return {
        await subdistrict_of_community(store, str(grid.get("community")))
        for grid in await docs_with_prefix(store, "registry:grid:")
        if username in grid.get("workers", [])
    }


def user_in_view(view: View, reach: Reach, user: Doc) -> bool:
    """Whether the reach may see the account `user` (the view's registry instead of one read per account)."""
    if reach.everywhere:
        return True
    role, _, name = str(user.get("user_id")).partition(":")
    if role == "owner":
        shop = view.shops.get(name)
        return shop is not None and reach.holds(view, shop)
    if user.get("subdistrict") == reach.subdistrict:
        return True
    if role != "grid":
        return False
    for grid in view.grids.values():
        if name in grid.get("workers", []):
            community = view.communities.get(str(grid.get("community"))) or {}
            if community.get("subdistrict") == reach.subdistrict:
                return True
    return False


async def users_in_reach(store: Store, view: View, reach: Reach, user_ids: Iterable[object]) -> set[str]:
    """Which of these user ids `reach` may see: an owner by their shop in the view, a grid worker or office
    account also by the sub-district of their account document (read once for them all)."""
    ids = sorted({user_id for user_id in user_ids if isinstance(user_id, str) and user_id})
    if reach.everywhere:
        return set(ids)
    staff = [user_doc_id(user_id) for user_id in ids if not user_id.startswith("owner:")]
    accounts = await docs_by_id(store, staff) if staff else {}
    return {
        user_id
        for user_id in ids
        if user_in_view(view, reach, {**accounts.get(user_doc_id(user_id), {}), "user_id": user_id})
    }
