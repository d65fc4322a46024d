"""QR codes (SVG, PNG) and printable A4 posters of shops, for the office to print and grid workers to post."""

from __future__ import annotations

import asyncio
import re
from typing import Final

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.api.common import office, registry_of
from server.errors import bad_request, not_found
from server.http import json_response, q_int, settings_of
from server.qr import MAX_SCALE, poster_address, posters_pdf, qr_png, qr_svg, shop_url
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
        raise not_found(f"No shop {code}.")
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
    """`GET /api/office/posters.pdf?community=&shop=`: one A4 poster per active shop of a community, or one shop's."""
    _principal, reach = await office(request)
    registry = registry_of(request)
    community_code, shop_code = request.query_params.get("community"), request.query_params.get("shop")
    if bool(community_code) == bool(shop_code):
        raise bad_request("give either community={code} or shop={code}")
    if shop_code:
        # Another sub-district's shop is refused as an unknown one, in the same words.
        unknown = not_found(f"没有编号为 {shop_code} 的店铺。No shop {shop_code}.")
        await reach.shop(registry.store, shop_code, unknown)
        shop = await registry.shop(shop_code)
        if shop is None:
            raise unknown
        shops, community_code = [shop], shop["community"]
    else:
        missing = not_found(  # what an unknown community (or another sub-district's) gets
            f"社区 {community_code} 没有在营业的店铺（或没有这个社区），无法生成二维码海报。"
            f"No active shops in community {community_code}."
        )
        await reach.community(registry.store, str(community_code), missing)
        shops = [s for s in await registry.shops_of(community_code) if s.get("status") == "active"]
        if not shops:
            raise missing
        if len(shops) > MAX_POSTERS:
            raise bad_request(f"at most {MAX_POSTERS} posters at once")
    community = await registry.community(str(community_code))
    name = community["name"] if community else ""
    body = await asyncio.to_thread(posters_pdf, shops, base_url(request), name)
    label = shops[0]["code"] if shop_code else str(community_code)
    return _file(body, "application/pdf", f"posters-{re.sub(r'[^A-Za-z0-9_-]', '_', label)}.pdf")


routes = [
    Route("/api/office/posters/address", address, methods=["GET"]),
    Route("/api/office/shops/{code}/qr.svg", svg, methods=["GET"]),
    Route("/api/office/shops/{code}/qr.png", png, methods=["GET"]),
    Route("/api/office/posters.pdf", posters, methods=["GET"]),
]
