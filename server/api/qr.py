"""QR codes (SVG, PNG) and printable A4 posters of shops, for the office to print and grid workers to post."""

from __future__ import annotations

import asyncio
import re
from typing import Final

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.api.common import office, registry_of
from server.errors import CouchError, bad_request, no_such, not_found
from server.http import json_response, q_int, settings_of
from server.office.reach import Reach
from server.qr import MAX_SCALE, poster_address, posters_pdf, qr_png, qr_svg, shop_url
from server.registry import Registry
from server.store.protocol import Doc

MAX_POSTERS: Final = 2000


def base_url(request: Request) -> str:
    """`MASHANG_PUBLIC_URL`, or the address this request came to."""
    return settings_of(request).public_url or str(request.base_url)


async def address(request: Request) -> Response:
    """`GET /api/office/posters/address`: the address this office's QR codes and posters hold (`url`, from `base`),
    and what keeps phones from opening it.

    `configured`: it is `MASHANG_PUBLIC_URL` (else the address of this very request, as the codes would be made);
    `loopback`, `localhost`, `private` (a LAN address or name) and `http` (no service worker, no offline use) say
    why a phone may not open it; `ok` when none does. The codes are made all the same: the poster screen warns.
    """
    await office(request)
    return json_response(request, poster_address(base_url(request), bool(settings_of(request).public_url)))


async def _shop(request: Request) -> Doc:
    _principal, reach = await office(request)
    code = request.path_params["code"]
    await reach.shop(registry_of(request).store, code)  # another sub-district's shop: "No shop", as an unknown one
    shop = await registry_of(request).shop(code)
    if shop is None:
        raise no_such("shop", code)
    return shop


def _scale(request: Request) -> int:
    scale = q_int(request, "scale", 8, minimum=1) or 8
    if scale > MAX_SCALE:
        raise bad_request(f"scale: at most {MAX_SCALE}")
    return scale


def _file(body: bytes, media_type: str, filename: str) -> Response:
    headers = {"Content-Disposition": f'inline; filename="{filename}"', "Cache-Control": "no-store"}
    return Response(body, media_type=media_type, headers=headers)


async def svg(request: Request) -> Response:
    """`GET /api/office/shops/{code}/qr.svg?scale=`: the shop's QR code, encoding `{public URL}/s/{code}`."""
    shop = await _shop(request)
    body = qr_svg(shop_url(base_url(request), shop["code"]), _scale(request))
    return _file(body, "image/svg+xml", f"qr-{shop['code']}.svg")


async def png(request: Request) -> Response:
    """`GET /api/office/shops/{code}/qr.png?scale=`: the same QR code as a PNG."""
    shop = await _shop(request)
    body = qr_png(shop_url(base_url(request), shop["code"]), _scale(request))
    return _file(body, "image/png", f"qr-{shop['code']}.png")


async def posters(request: Request) -> Response:
    """`GET /api/office/posters.pdf?community=&grid=&shop=`: one A4 poster per active shop of a community or of a
    grid (the stack its grid worker takes round), or one shop's."""
    _principal, reach = await office(request)
    registry = registry_of(request)
    named = {k: v for k in ("community", "grid", "shop") if (v := request.query_params.get(k))}
    if len(named) != 1:
        raise bad_request("请选择一个社区、网格或店铺。give one of community={code}, grid={code} or shop={code}")
    [(kind, code)] = named.items()
    if kind == "shop":
        # Another sub-district's shop is refused as an unknown one, in the same words.
        unknown = no_such("shop", code)
        await reach.shop(registry.store, code, unknown)
        shop = await registry.shop(code)
        if shop is None:
            raise unknown
        shops, community_code = [shop], str(shop["community"])
    elif kind == "grid":
        shops, community_code = await _grid_shops(reach, registry, code)
    else:
        missing = not_found(  # what an unknown community (or another sub-district's) gets
            f"社区 {code} 没有在营业的店铺（或没有这个社区），无法生成二维码海报。No active shops in community {code}."
        )
        await reach.community(registry.store, code, missing)
        shops, community_code = _active(await registry.shops_of(code), missing), code
    community = await registry.community(community_code)
    name = community["name"] if community else ""
    body = await asyncio.to_thread(posters_pdf, shops, base_url(request), name)
    label = shops[0]["code"] if kind == "shop" else code
    return _file(body, "application/pdf", f"posters-{re.sub(r'[^A-Za-z0-9_-]', '_', label)}.pdf")


async def _grid_shops(reach: Reach, registry: Registry, code: str) -> tuple[list[Doc], str]:
    """A grid's active shops and its community's code. An unknown grid (or another sub-district's) is a 404 naming
    no more than the code asked for; a grid of the office's own with no active shop says so by its name."""
    unknown = no_such("grid", code)
    await reach.grid(registry.store, code, unknown)
    grid = await registry.grid(code)
    if grid is None:
        raise unknown
    named = f"{grid.get('name') or code}（{code}）"
    empty = not_found(f"网格 {named}没有在营业的店铺，无法生成二维码海报。No active shops in grid {code}.")
    return _active(await registry.shops_of(grid=code), empty), str(grid.get("community", ""))


def _active(shops: list[Doc], none: CouchError) -> list[Doc]:
    """The active shops of those listed, `none` raised when there is none; at most MAX_POSTERS."""
    active = [s for s in shops if s.get("status") == "active"]
    if not active:
        raise none
    if len(active) > MAX_POSTERS:
        raise bad_request(f"一次最多打印 {MAX_POSTERS} 张海报：请按网格分批打印。at most {MAX_POSTERS} posters at once")
    return active


routes = [
    Route("/api/office/posters/address", address, methods=["GET"]),
    Route("/api/office/shops/{code}/qr.svg", svg, methods=["GET"]),
    Route("/api/office/shops/{code}/qr.png", png, methods=["GET"]),
    Route("/api/office/posters.pdf", posters, methods=["GET"]),
]
