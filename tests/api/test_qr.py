"""QR codes and posters (a community's, a grid's, a shop's): every code decodes back to its shop's public URL, and
hostile names are printed as text. A sub-district's office's grids: tests/api/test_subdistrict_offices.py."""

from __future__ import annotations

import io

import pypdfium2 as pdfium
import zxingcpp
from PIL import Image

from tests.api.conftest import World, open_world


def decode_pages(pdf: bytes, scale: float = 1.2) -> list[tuple[list[str], str]]:
    """For each page of a PDF: the QR codes found on its rendering, and its text."""
    doc = pdfium.PdfDocument(pdf)
    try:
        pages = []
        for page in doc:
            image = page.render(scale=scale).to_pil()
            text = page.get_textpage().get_text_range()
            pages.append(([r.text for r in zxingcpp.read_barcodes(image)], text))
        return pages
    finally:
        doc.close()


def add_shop(world: World, code: str, name: str, grid: str = "g1") -> None:
    office = world.login("wang", "wang-password")
    shop = {"code": code, "name": name, "address": "曙光北路9号", "category": "food", "grid": grid}
    resp = world.client.post("/api/office/shops", json=shop, headers=office)
    assert resp.status_code == 201, resp.text


def test_png_and_svg_decode_to_the_shops_public_url(world: World) -> None:
    office = world.login("wang", "wang-password")
    resp = world.client.get("/api/office/shops/S0002/qr.png", headers=office)
    assert resp.status_code == 200 and resp.headers["content-type"] == "image/png"
    [code] = zxingcpp.read_barcodes(Image.open(io.BytesIO(resp.content)))
    assert code.text == "http://testserver/s/S0002"
    resp = world.client.get("/api/office/shops/S0002/qr.svg?scale=4", headers=office)
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("image/svg+xml")
    assert resp.content.startswith(b"<?xml") and b"<script" not in resp.content


def test_the_public_url_setting_is_what_the_code_encodes(tmp_path: object) -> None:
    with open_world(tmp_path, public_url="https://mashang.example.cn/") as world:  # type: ignore[arg-type]
        office = world.login("wang", "wang-password")
        resp = world.client.get("/api/office/shops/S0003/qr.png", headers=office)
        [code] = zxingcpp.read_barcodes(Image.open(io.BytesIO(resp.content)))
        assert code.text == "https://mashang.example.cn/s/S0003"


def test_community_posters_one_page_per_active_shop_each_with_its_own_code(world: World) -> None:
    office = world.login("wang", "wang-password")
    hostile = '<script>alert(1)</script>=HYPERLINK("http://evil")'
    add_shop(world, "S0004", hostile, grid="g2")
    assert world.client.post("/api/office/shops/S0001/close", headers=office).status_code == 200
    resp = world.client.get("/api/office/posters.pdf?community=wensan", headers=office)
    assert resp.status_code == 200 and resp.headers["content-type"] == "application/pdf"
    pages = decode_pages(resp.content)
    assert [codes for codes, _ in pages] == [[f"http://testserver/s/{c}"] for c in ("S0002", "S0003", "S0004")]
    for (_, text), code in zip(pages, ("S0002", "S0003", "S0004"), strict=True):
        assert f"店铺编号 {code}" in text and "扫一扫" in text and "安全积分和排名" in text and "文三社区" in text
    assert "小吃店S0002" in pages[0][1]
    assert hostile in pages[2][1]  # printed as the text it is


def test_one_shop_poster(world: World) -> None:
    office = world.login("wang", "wang-password")
    resp = world.client.get("/api/office/posters.pdf?shop=S0003", headers=office)
    assert resp.status_code == 200
    [(codes, text)] = decode_pages(resp.content)
    assert codes == ["http://testserver/s/S0003"] and "小吃店S0003" in text


def test_a_grids_posters_are_its_active_shops_alone_the_stack_its_grid_worker_takes(world: World) -> None:
    office = world.login("wang", "wang-password")
    add_shop(world, "S0004", "新开的面馆", grid="g1")  # g1: S0001, S0002 and now S0004; g2: S0003
    assert world.client.post("/api/office/shops/S0001/close", headers=office).status_code == 200
    resp = world.client.get("/api/office/posters.pdf?grid=g1", headers=office)
    assert resp.status_code == 200 and resp.headers["content-type"] == "application/pdf"
    assert 'filename="posters-g1.pdf"' in resp.headers["content-disposition"]
    pages = decode_pages(resp.content)
    assert [codes for codes, _ in pages] == [[f"http://testserver/s/{c}"] for c in ("S0002", "S0004")]
    for (_, text), code in zip(pages, ("S0002", "S0004"), strict=True):
        # The community's poster, page for page: the same how-to and the shop's community beside its address.
        assert f"店铺编号 {code}" in text and "扫一扫" in text and "首次使用请向网格员索取激活码" in text
        assert "文三社区 · 曙光北路" in text
    assert "小吃店S0002" in pages[0][1] and "新开的面馆" in pages[1][1]
    # g2's shop is on g2's stack only.
    [(codes, _text)] = decode_pages(world.client.get("/api/office/posters.pdf?grid=g2", headers=office).content)
    assert codes == ["http://testserver/s/S0003"]


def test_a_grid_unknown_or_with_no_active_shop_is_told_in_chinese(world: World) -> None:
    office = world.login("wang", "wang-password")
    resp = world.client.get("/api/office/posters.pdf?grid=nogrid", headers=office)
    assert (resp.status_code, resp.json()["error"]) == (404, "not_found")
    assert resp.json()["reason"] == "没有编号为 nogrid 的网格。No grid nogrid."
    assert world.client.post("/api/office/shops/S0003/close", headers=office).status_code == 200
    resp = world.client.get("/api/office/posters.pdf?grid=g2", headers=office)
    assert (resp.status_code, resp.json()["error"]) == (404, "not_found")
    assert resp.json()["reason"].startswith("网格 文三二网格（g2）没有在营业的店铺，无法生成二维码海报。")
    for url in ("/api/office/posters.pdf?grid=g1&community=wensan", "/api/office/posters.pdf?grid=g1&shop=S0001"):
        resp = world.client.get(url, headers=office)
        assert resp.status_code == 400 and resp.json()["reason"].startswith("请选择一个社区、网格或店铺。"), url
    zhou = world.login("zhou", "zhou-password")  # a grid worker prints nothing, not even their own grid's
    resp = world.client.get("/api/office/posters.pdf?grid=g1", headers=zhou)
    assert resp.status_code == 403 and resp.json()["error"] == "forbidden"


def test_refusals(world: World) -> None:
    office = world.login("wang", "wang-password")
    zhou = world.login("zhou", "zhou-password")
    assert world.client.get("/api/office/shops/S0001/qr.png").status_code == 401
    resp = world.client.get("/api/office/posters.pdf?community=wensan", headers=zhou)
    assert resp.status_code == 403 and resp.json()["error"] == "forbidden"
    for url, status in (
        ("/api/office/shops/S9999/qr.svg", 404),
        ("/api/office/shops/S0001/qr.png?scale=1000", 400),
        ("/api/office/shops/S0001/qr.png?scale=x", 400),
        ("/api/office/posters.pdf", 400),
        ("/api/office/posters.pdf?community=wensan&shop=S0001", 400),
        ("/api/office/posters.pdf?community=nowhere", 404),
        ("/api/office/posters.pdf?shop=S9999", 404),
        ("/api/office/posters.pdf?grid=nogrid", 404),
        ("/api/office/posters.pdf?grid=", 400),
    ):
        resp = world.client.get(url, headers=office)
        assert resp.status_code == status, (url, resp.text)
        assert resp.json()["reason"]
