"""What every `/api/` route needs: the caller, their role, typed fields of a JSON body."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette.requests import Request

from server.accounts import Accounts, require_role
from server.auth import Principal
from server.errors import bad_request
from server.models.registry import shop_doc_id
from server.office.reach import Reach
from server.registry import Registry, one_line


def accounts_of(request: Request) -> Accounts:
    accounts: Accounts = request.app.state.accounts
    return accounts


def registry_of(request: Request) -> Registry:
    registry: Registry = request.app.state.registry
    return registry


async def caller(request: Request, *roles: str) -> Principal:
    principal: Principal = await request.app.state.authenticator.principal(request)
    if roles:
        require_role(principal, *roles)
    return principal


async def audited(
    request: Request, principal: Principal, event: str, subject: str, detail: str = "", **about: str
) -> None:
    """An office's action in the audit log: what (`event`), on what (`subject`: a document id or an account), by
    whom and from where (`about`: fields kept beside the detail, see `Accounts.audit`)."""
    by = f"by {principal.user_id}"
    detail = f"{by}: {detail}" if detail else by
    await accounts_of(request).audit(event, subject, client_address(request), detail, **about)


async def moved_shop(request: Request, principal: Principal, code: str, from_grid: object, grid: str) -> list[str]:
    """Move a shop to another grid: the grid workers it left or joined re-read their scope, and the move goes to the
    audit log. Answers those grid workers."""
    touched = await registry_of(request).move_shop(code, grid)
    request.app.state.authenticator.forget()
    if from_grid != grid:
        await audited(request, principal, "shop_moved", shop_doc_id(code), f"grid {from_grid} to {grid}")
    return touched


async def office(request: Request) -> tuple[Principal, Reach]:
    """An office (or operator) caller, with how far their account reaches (`server.office.reach`)."""
    principal = await caller(request, "office")
    return principal, Reach.of(principal)


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def text_field(body: dict[str, Any], name: str, max_len: int = 200) -> str:
    """The text `body` gives `name`, trimmed; a 400 naming the field, Chinese first (a form puts the field's label in
    front: 地址：不能为空。), for none, an empty one or one too long."""
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise bad_request(f"{name}: 不能为空。a non-empty string is required")
    if len(value) > max_len:
        raise bad_request(f"{name}: 最多 {max_len} 个字。at most {max_len} characters")
    return value.strip()


def line_field(body: dict[str, Any], name: str, max_len: int = 200) -> str:
    """`text_field` for a one-line text the registry keeps and posters and exports print (a name, an address, a
    code): also a 400 for a line break or another control character in it (pasted from a spreadsheet's cell).
    Not for secrets: a password may hold what it likes."""
    return one_line(name, text_field(body, name, max_len))


def only_fields(body: dict[str, Any], fields: Sequence[str]) -> None:
    """A 400 for a body naming a field other than `fields`, Chinese first: a misspelled one (`adress`) would
    otherwise be dropped without a word, and the change it meant silently lost."""
    unknown = sorted(set(body) - set(fields))
    if unknown:
        names = ", ".join(fields)
        raise bad_request(f"{unknown[0]}: 不是此处可填写的字段（{names}）。not a field taken here ({names})")
