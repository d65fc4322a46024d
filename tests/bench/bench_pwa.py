"""PWA weight benchmark: what a phone downloads the first time it opens `/` and `/s/{code}` (the QR poster's
link), measured in Debian's Chromium, and what a repeat visit offline still asks the network for.

For each first load (a fresh profile, like a phone that never opened the app) it sums the JS and CSS response
bodies the page itself fetched, gzip-compressed (level 6, as a server or CDN would send them): budget 150 KB.
The service worker then precaches the rest of the app in the background; that total is printed on its own.
A repeat load with the network off must be served entirely by the service worker: it prints how many app-shell
requests (HTML, JS, CSS, icons) reached the network, which should be 0. Prints figures; asserts nothing on time.
"""

from __future__ import annotations

import gzip
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # run as a script: make the tests package importable
    sys.path.insert(0, str(ROOT))

from server.cli import main as mashang  # noqa: E402
from tests.browser.conftest import CHROMIUM  # noqa: E402
from tests.gateway import Gateway  # noqa: E402

BUDGET_KB = 150
SHELL = (".js", ".css", ".html", ".webmanifest", ".svg", ".png")


def kb(n: int) -> str:
    return f"{n / 1024:.1f} KB"


def first_load(browser: Any, url: str) -> tuple[int, int, list[str], int]:
    """(raw bytes, gzip bytes, files) of the JS+CSS the page fetched, and gzip bytes the service worker precached."""
    ctx = browser.new_context(viewport={"width": 360, "height": 740}, service_workers="allow")
    page_bodies: dict[str, bytes] = {}
    all_bodies: dict[str, bytes] = {}

    def on_response(response: Any) -> None:
        path = response.url.split("?")[0]
        if not path.endswith((".js", ".css")) or response.status != 200:
            return
        try:
            body = response.body()
        except Exception:  # a body the browser did not keep (redirects, aborted)
            return
        all_bodies[path] = body
        if response.request.service_worker is None and not response.from_service_worker:
            page_bodies[path] = body

    ctx.on("response", on_response)
    try:
        page = ctx.new_page()
        page.goto(url, wait_until="networkidle")
        page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=30_000)
        page.wait_for_load_state("networkidle")
    finally:
        ctx.close()
    raw = sum(len(b) for b in page_bodies.values())
    zipped = sum(len(gzip.compress(b, 6)) for b in page_bodies.values())
    precached = sum(len(gzip.compress(b, 6)) for b in all_bodies.values())
    return raw, zipped, sorted(p.rsplit("/", 1)[-1] for p in page_bodies), precached


def offline_repeat(browser: Any, url: str) -> tuple[int, list[str]]:
    """Shell requests that reached the network on a repeat load with the network off (failed ones included)."""
    ctx = browser.new_context(viewport={"width": 360, "height": 740}, service_workers="allow")
    try:
        page = ctx.new_page()
        page.goto(url, wait_until="networkidle")
        page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=30_000)
        page.wait_for_load_state("networkidle")
        leaked: list[str] = []
        api: list[str] = []

        def on_request(request: Any) -> None:
            if request.service_worker is not None:
                return
            path = request.url.split("?")[0]
            if "/api/" in path or "/sync/" in path:
                api.append(path)
                return
            response = request.response() if request.failure is None else None
            if response is None or not response.from_service_worker:
                leaked.append(path)

        ctx.set_offline(True)
        ctx.on("requestfinished", on_request)
        ctx.on("requestfailed", on_request)
        page.reload(wait_until="load")
        # The shell's sync chip is there (hidden for a visitor with nothing to say: Debian's Chromium 150 tells the
        # page it is online again after a reload under set_offline).
        page.wait_for_selector("[data-sync-state]", state="attached")
        page.wait_for_timeout(500)
        shell = [p for p in leaked if p.endswith(SHELL) or p.rstrip("/") == url.rstrip("/")]
        return len(api), shell
    finally:
        ctx.close()


def run() -> int:
    from playwright.sync_api import sync_playwright

    if not (ROOT / "pwa" / "dist" / "index.html").exists():
        print("pwa/dist is missing: run `make install` first")
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        assert mashang(["demo", "--data", str(data), "--shops", "5", "--grid-workers", "1", "--months", "1"]) == 0
        gateway = Gateway(data).start()
        status = 0
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
                try:
                    for path in ("/", "/s/S0001"):
                        raw, zipped, files, precached = first_load(browser, gateway.url + path)
                        verdict = "within" if zipped <= BUDGET_KB * 1024 else "OVER"
                        budget = f"{verdict} the {BUDGET_KB} KB budget"
                        print(f"first load {path}: JS+CSS {kb(raw)} raw, {kb(zipped)} gzip ({budget})")
                        print(f"  files: {', '.join(files)}")
                        print(f"  then precached in the background by the service worker: {kb(precached)} gzip")
                        if zipped > BUDGET_KB * 1024:
                            status = 1
                    for path in ("/", "/s/S0001"):
                        api, shell = offline_repeat(browser, gateway.url + path)
                        print(
                            f"repeat load {path} offline: {len(shell)} app-shell requests reached the network"
                            f"{' (' + ', '.join(shell) + ')' if shell else ''}; {api} API call(s) tried and answered"
                            " from the saved card"
                        )
                        if shell:
                            status = 1
                finally:
                    browser.close()
        finally:
            gateway.stop()
        return status


if __name__ == "__main__":
    sys.exit(run())
