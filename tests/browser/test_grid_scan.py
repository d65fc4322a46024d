"""The in-app QR scanner in a real Chromium whose camera films a shop's poster QR (Chromium's fake capture device
playing a Y4M file). Desktop Chromium has no BarcodeDetector, so this proves the jsQR fallback, loaded only when
the scanner opens."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from server.qr import qr_png, shop_url
from tests.browser.conftest import CHROMIUM
from tests.browser.field import sign_in_grid
from tests.gateway import Gateway

WIDTH, HEIGHT = 640, 480


def _y4m(poster: Image.Image, path: Path) -> None:
    """A few identical frames of the picture centred on white, as 4:2:0 Y4M (the fake camera loops them)."""
    frame = Image.new("L", (WIDTH, HEIGHT), 255)
    qr = poster.convert("L")
    side = min(HEIGHT - 40, qr.height)
    qr = qr.resize((side, side), Image.Resampling.NEAREST)
    frame.paste(qr, ((WIDTH - side) // 2, (HEIGHT - side) // 2))
    chroma = bytes([128]) * (WIDTH // 2 * HEIGHT // 2)
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(10):
            out.write(b"FRAME\n" + frame.tobytes() + chroma + chroma)


@pytest.fixture
def camera(browser: Any, tmp_path: Path, logins: dict[str, Any]) -> Iterator[tuple[Any, str]]:
    """A second Chromium (from the session's Playwright) whose camera sees the poster QR of one of the first grid
    worker's shops."""
    code = logins["grid_workers"][0]["shops"][3]
    video = tmp_path / "poster.y4m"
    # The poster may name any host the district printed: only the /s/{code} path counts.
    _y4m(Image.open(io.BytesIO(qr_png(shop_url("https://mashang.example.gov.cn", code), scale=6))), video)
    filming = browser.browser_type.launch(
        executable_path=CHROMIUM,
        args=[
            "--no-sandbox",
            "--disable-background-networking",
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={video}",
        ],
    )
    try:
        yield filming, code
    finally:
        filming.close()


def test_scanning_a_poster_opens_the_shops_e_file(
    gateway: Gateway, camera: tuple[Any, str], logins: dict[str, Any]
) -> None:
    browser, code = camera
    worker = logins["grid_workers"][0]
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="zh-CN", permissions=["camera"])
    try:
        page = context.new_page()
        page.set_default_timeout(60_000)  # a busy CI machine is slow, not broken
        scripts: list[str] = []
        page.on("request", lambda r: scripts.append(r.url) if r.resource_type == "script" else None)
        sign_in_grid(page, gateway, worker)
        page.wait_for_selector(f'a.g-shop[data-shop="{code}"]', timeout=60_000)
        assert not any("jsQR" in url for url in scripts), "the QR decoder must not load before the scanner opens"

        page.click('a[data-action="scan"]')
        page.wait_for_url(f"**/grid/s/{code}", timeout=60_000)
        page.wait_for_selector(f'[data-shop="{code}"] [data-shop-name]')
        assert any("jsQR" in url for url in scripts)
    finally:
        context.close()


# The camera's answer is held until the test releases it: a phone's permission prompt or a slow camera can
# answer after the grid worker has typed a code, and that late answer must not hide the code's.
HELD_CAMERA = """
  navigator.mediaDevices.getUserMedia = () => new Promise((_, reject) => {
    window.__denyCamera = () => reject(new DOMException('denied', 'NotAllowedError'));
  });
"""


def test_a_typed_code_outside_the_grid_is_refused(gateway: Gateway, context: Any, logins: dict[str, Any]) -> None:
    worker = logins["grid_workers"][0]
    elsewhere = next(code for w in logins["grid_workers"] for code in w["shops"] if code not in worker["shops"])
    page = context.new_page()
    page.set_default_timeout(60_000)  # a busy CI machine is slow, not broken
    page.add_init_script(HELD_CAMERA)
    sign_in_grid(page, gateway, worker)
    page.wait_for_selector(f'a.g-shop[data-shop="{worker["shops"][0]}"]', timeout=60_000)
    page.goto(f"{gateway.url}/grid/scan")
    page.fill('input[name="code"]', elsewhere)
    page.click('form.g-toolbar button[type="submit"]')
    page.wait_for_selector(f"text={elsewhere}")
    answer = page.locator(".grid-scan [role=status]")
    assert "不在你的网格内" in answer.inner_text()

    page.evaluate("window.__denyCamera()")
    page.wait_for_selector(".grid-scan [data-camera]:has-text('摄像头权限')")
    assert elsewhere in answer.inner_text(), "the camera's late refusal hid the answer to the typed code"
    assert page.locator(".grid-scan .g-viewfinder").is_hidden()  # no black frame pushing the field down

    # Part of a shop's name opens it too (a worker who knows the shop, not its code).
    with gateway.client() as client:
        name = client.get(f"/sync/{worker['shops'][2]}:shop:{worker['shops'][2]}").json()["name"]
    page.fill('input[name="code"]', name)
    page.click('form.g-toolbar button[type="submit"]')
    page.wait_for_url(f"**/grid/s/{worker['shops'][2]}")
    page.go_back()

    page.fill('input[name="code"]', worker["shops"][1])
    page.click('form.g-toolbar button[type="submit"]')
    page.wait_for_url(f"**/grid/s/{worker['shops'][1]}")

    # A link that goes nowhere (an old bookmark, a mistyped address) says so, and leads back to the list.
    page.goto(f"{gateway.url}/grid/shops/{worker['shops'][0]}")
    page.wait_for_selector(".grid h1:has-text('页面不存在')")
    page.click(".grid a[href='/grid']")
    page.wait_for_selector(f'a.g-shop[data-shop="{worker["shops"][0]}"]')
