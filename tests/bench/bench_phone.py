"""The PWA on a cheap phone: what a grid worker and an owner wait for, in Debian's Chromium with the CPU slowed 6×.

A demo district of one grid worker's 260 shops with 13 months of history (a city grid; ~13,000 documents on the
phone) is built in a temporary folder and served by one gateway. With `Emulation.setCPUThrottlingRate` at 6 (a
cheap Android phone), and the network slowed where it matters (the first download: 1.6 Mbit/s, 150 ms), it times
in the page (`performance.now()`), from the tap to what the user waits for:

- the grid worker's first sign-in: the first shop listed, every shop listed, and the download caught up (已同步);
- the list opened again (a reload, the data on the phone): from the list the phone saved, and without it (worked
  out from every document, as when the phone's data changed since it was saved);
- typing in the list's search box; opening the e-file of the busiest shop on the list's first page (and how many
  photos it fetched before any scroll), and back to the list;
- a patrol: the form opened, three camera pictures (5 MP) from reaching the page to their thumbnails, the patrol
  submitted and the list back;
- the owner with the most self-checks: the first sign-in (home with hazards and 积分明细), the home opened again, and
  a weekly self-check with three photos, submitted until the home says it is done.

For each it prints the long tasks (>50 ms, PerformanceObserver 'longtask') the page had meanwhile, and the JS heap
after the first download, on the list, and after ten visits to an e-file and back (a leak shows as growth). Figures
only: nothing is asserted on time. Runs in about two minutes on two cores; figures vary by ±15% with the load.
"""

from __future__ import annotations

import io
import json
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # run as a script: make the tests package importable
    sys.path.insert(0, str(ROOT))

from server.cli import main as mashang  # noqa: E402
from tests.browser.conftest import CHROMIUM  # noqa: E402
from tests.gateway import Gateway  # noqa: E402

SHOPS = 260
MONTHS = 13
CPU_RATE = 6
# A poor 3G signal for the first download (the whole scope comes down once); later screens read the phone.
SLOW_NETWORK = {"offline": False, "latency": 150, "downloadThroughput": 200 * 1024, "uploadThroughput": 100 * 1024}
TIMEOUT_MS = 120_000

# Installed before the app's own scripts: the long tasks the page has, with their start and length.
LONG_TASKS = """
window.__longTasks = [];
try {
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) window.__longTasks.push([e.startTime, e.duration]);
  }).observe({ type: 'longtask', buffered: true });
} catch (e) {}
// When the phone hands a picture to the page (Playwright's own transfer of the file is not the app's time).
document.addEventListener('change', (e) => {
  if (e.target instanceof HTMLInputElement && e.target.type === 'file') window.__picked = performance.now();
}, true);
"""

# Wait, frame by frame, until `ready` (a JS expression) holds, or fail once `limit` ms have passed since `t0`.
UNTIL = """(ready, limit, t0) => new Promise((resolve, reject) => {
  const look = () => {
    if ((0, eval)(ready)) resolve();
    else if (performance.now() - t0 > limit) reject(new Error('not ready: ' + ready));
    else requestAnimationFrame(look);
  };
  look();
})"""

# Run `action` (JS, in the page) and wait until `ready` holds: the time between.
TIMED = (
    "async ([action, ready, limit]) => {\n"
    "  const t0 = performance.now();\n"
    "  (0, eval)(action);\n"
    f"  await ({UNTIL})(ready, limit, t0);\n"
    "  return [t0, performance.now()];\n"
    "}"
)

# Wait until `ready` holds: the page's clock then.
WHEN = (
    "async ([ready, limit]) => {\n"
    f"  await ({UNTIL})(ready, limit, performance.now());\n"
    "  return performance.now();\n"
    "}"
)


def camera_jpeg(seed: int) -> bytes:
    """A 5 MP picture with a camera's gradients and grain, as a cheap phone hands it over (the app resizes it)."""
    from PIL import Image, ImageDraw, ImageFilter

    width, height = 2560, 1920
    image = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    draw = ImageDraw.Draw(image)
    for i in range(40):
        x, y = (seed * 97 + i * 211) % width, (seed * 53 + i * 137) % height
        draw.rectangle((x, y, x + 180, y + 120), fill=((i * 40) % 255, (i * 90) % 255, (seed * 70 + i) % 255))
    grain = Image.effect_noise((width, height), 18).convert("RGB")
    image = Image.blend(image.filter(ImageFilter.GaussianBlur(2)), grain, 0.15)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=88)
    return out.getvalue()


class Phone:
    """One browser context with a phone's viewport, its page's CPU slowed `CPU_RATE` times."""

    def __init__(self, browser: Any, base: str) -> None:
        self.base = base
        viewport = {"width": 360, "height": 740}
        self.context = browser.new_context(viewport=viewport, locale="zh-CN", service_workers="block")
        self.context.add_init_script(LONG_TASKS)
        self.page = self.context.new_page()
        self.page.set_default_timeout(TIMEOUT_MS)
        self.cdp = self.context.new_cdp_session(self.page)
        self.cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_RATE})
        self.cdp.send("HeapProfiler.enable")
        self.photos_fetched = 0  # photos the page asked the server for
        self.page.on("request", self._count_photo)

    def _count_photo(self, request: Any) -> None:
        if "/sync/" in request.url and request.url.endswith("/photo.jpg"):
            self.photos_fetched += 1

    def network(self, conditions: dict[str, Any] | None) -> None:
        none = {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}
        self.cdp.send("Network.emulateNetworkConditions", conditions or none)

    def timed(self, action: str, ready: str) -> tuple[float, float]:
        t0, t1 = self.page.evaluate(TIMED, [action, ready, TIMEOUT_MS])
        return float(t0), float(t1)

    def when(self, ready: str) -> float:
        return float(self.page.evaluate(WHEN, [ready, TIMEOUT_MS]))

    def long_tasks(self, t0: float, t1: float) -> str:
        tasks = [d for start, d in self.page.evaluate("window.__longTasks") if t0 <= start <= t1]
        if not tasks:
            return "no long task"
        return f"{len(tasks)} long tasks, {sum(tasks):.0f} ms in all, longest {max(tasks):.0f} ms"

    def heap_mb(self) -> float:
        self.cdp.send("HeapProfiler.collectGarbage")
        used = self.cdp.send("Runtime.getHeapUsage")["usedSize"]
        return float(used) / 1e6

    def close(self) -> None:
        self.context.close()


def report(name: str, ms: float, phone: Phone | None = None, span: tuple[float, float] | None = None) -> None:
    extra = f"  ({phone.long_tasks(*span)})" if phone and span else ""
    print(f"  {name:<44} {ms / 1000:6.2f} s{extra}")


def cards(n: int) -> str:
    """The list accounts for `n` shops: drawn, or still to come under its 再显示 button (it draws a page at a time)."""
    more = "Number(document.querySelector('[data-action=more-shops]:not([hidden])')?.dataset.left ?? 0)"
    return f"document.querySelectorAll('a.g-shop').length + {more} >= {n}"


SYNCED = "document.querySelector('[data-sync-state]')?.dataset.syncState === 'synced'"


def activity(gateway: Gateway, shops: list[str], owners: set[str]) -> tuple[Counter[str], str]:
    """The events of each shop (the busiest e-file is opened) and, of the shops with an activated owner, the one whose
    owner has the most self-checks."""
    with gateway.client() as client:
        rows = client.get("/sync/_all_docs").json()["rows"]
    events: Counter[str] = Counter()
    checks: Counter[str] = Counter()
    for row in rows:
        shop, kind = [*row["id"].split(":"), ""][:2]
        if kind in ("self_check", "patrol", "rectification", "verification", "hazard"):
            events[shop] += 1
        if kind == "self_check" and shop in owners:
            checks[shop] += 1
    mine = set(shops)
    owner = max((s for s in checks if s in mine), key=lambda s: (checks[s], s))
    return events, owner


# The list the phone saved for a quick opening (pwa/src/grid/list-model.ts), removed from PouchDB's IndexedDB.
FORGET_SAVED_LIST = """() => new Promise((resolve) => {
  const open = indexedDB.open('_pouch_mashang');
  open.onerror = () => resolve(false);
  open.onsuccess = () => {
    const tx = open.result.transaction('local-store', 'readwrite');
    tx.objectStore('local-store').delete('_local/grid-list');
    tx.oncomplete = () => { open.result.close(); resolve(true); };
    tx.onerror = () => resolve(false);
  };
})"""

# The first cards of the list, in its order (the most urgent shops, where a worker starts).
FIRST_CARDS = "[...document.querySelectorAll('a.g-shop')].slice(0, 40).map((a) => a.dataset.shop)"


def grid_worker(
    browser: Any, gateway: Gateway, worker: dict[str, Any], events: Counter[str], photos: list[bytes]
) -> None:
    n = len(worker["shops"])
    phone = Phone(browser, gateway.url)
    page = phone.page
    try:
        page.goto(f"{gateway.url}/login?role=grid")
        page.fill('input[name="username"]', worker["username"])
        page.fill('input[name="password"]', worker["password"])
        phone.network(SLOW_NETWORK)
        print(f"grid worker, {n} shops (first download on a slow network: 1.6 Mbit/s, 150 ms):")
        t0, first = phone.timed("document.querySelector('button[type=submit]').click()", cards(1))
        report("sign-in → first shop listed", first - t0)
        every = phone.when(cards(n))
        report(f"sign-in → all {n} shops listed", every - t0)
        synced = phone.when(f"{SYNCED} && {cards(n)}")
        report("sign-in → download caught up (已同步)", synced - t0, phone, (t0, synced))
        phone.network(None)
        page.wait_for_timeout(1500)  # the last redraw and the photo round settle
        downloaded = phone.heap_mb()

        page.reload()
        listed = phone.when(cards(n))
        report("list opened again (reload) → all listed", listed, phone, (0, listed))
        page.wait_for_timeout(1000)
        # Without the saved list (written since it was saved, e.g. a sync on another screen before the tab was
        # killed): the list is worked out from every document.
        page.evaluate(FORGET_SAVED_LIST)
        page.reload()
        listed = phone.when(cards(n))
        report("list opened, nothing saved → all listed", listed, phone, (0, listed))
        page.wait_for_timeout(1000)
        heap = phone.heap_mb()
        # The busiest shop of the first page: the same shop whether the list draws its cards at once or by pages.
        shop = max(page.evaluate(FIRST_CARDS), key=lambda code: (events[code], code))

        search = "document.querySelector('input.g-search')"
        action = f"{search}.value = '{shop}'; {search}.dispatchEvent(new Event('input'))"
        span = phone.timed(action, "document.querySelectorAll('a.g-shop').length === 1")
        report("search typed → list filtered", span[1] - span[0], phone, span)
        action = f"{search}.value = ''; {search}.dispatchEvent(new Event('input'))"
        span = phone.timed(action, cards(n))
        report("search cleared → all listed", span[1] - span[0], phone, span)

        efile = f"document.querySelector('.grid-efile[data-shop=\"{shop}\"] [data-shop-name]')"
        phone.photos_fetched = 0
        span = phone.timed(f"document.querySelector('a.g-shop[data-shop=\"{shop}\"]').click()", efile)
        report(f"tap {shop} ({events[shop]} records) → e-file shown", span[1] - span[0], phone, span)
        page.wait_for_timeout(1000)
        print(f"  photos the e-file fetched without a scroll: {phone.photos_fetched}")
        span = phone.timed("history.back()", cards(n))
        report("back → list shown", span[1] - span[0], phone, span)
        for _ in range(9):
            phone.timed(f"document.querySelector('a.g-shop[data-shop=\"{shop}\"]').click()", efile)
            phone.timed("history.back()", cards(n))
        page.wait_for_timeout(1000)
        print(
            f"  JS heap: {downloaded:.1f} MB after the first download, {heap:.1f} MB on the list read afresh,"
            f" {phone.heap_mb():.1f} MB after 10 e-files and back"
        )

        phone.timed(f"document.querySelector('a.g-shop[data-shop=\"{shop}\"]').click()", efile)
        span = phone.timed(
            "document.querySelector('a[data-action=patrol]').click()",
            "document.querySelector('form.g-patrol fieldset[data-item=open_flame]')",
        )
        report("e-file → patrol form shown", span[1] - span[0], phone, span)
        items = ("open_flame", "extinguisher_valid", "gas_safe")
        took, start = take_photos(phone, "fieldset[data-item={item}]", items, photos)
        report("3 photos taken → thumbnails shown", took, phone, (start, page.evaluate("performance.now()")))
        span = phone.timed(
            "document.querySelector('form.g-patrol button[type=submit]').click()",
            f"document.querySelector('[data-flash]') && {cards(n)}",
        )
        report("patrol submitted → list back", span[1] - span[0], phone, span)
        page.wait_for_timeout(500)
    finally:
        phone.close()


def take_photos(phone: Phone, item_selector: str, items: tuple[str, ...], photos: list[bytes]) -> tuple[float, float]:
    """Hand a camera picture to each item's photo button, one after the other; the time from each picture reaching the
    page to its thumbnail decoded, added up, and when the first was handed over."""
    took = 0.0
    start = float(phone.page.evaluate("performance.now()"))
    for item, picture in zip(items, photos, strict=True):
        where = item_selector.format(item=item)
        phone.page.set_input_files(
            f"{where} input[data-photo-for='{item}']",
            files=[{"name": f"{item}.jpg", "mimeType": "image/jpeg", "buffer": picture}],
        )
        # The picker's own thumbnail (the owner's photos beside it, in a patrol, load lazily).
        shown = phone.when(f'document.querySelector("{where} [data-photo-thumb] img")?.naturalWidth > 0')
        took += shown - float(phone.page.evaluate("window.__picked"))
    return took, start


def owner(browser: Any, gateway: Gateway, login: dict[str, Any], photos: list[bytes]) -> None:
    code = login["shop"]
    phone = Phone(browser, gateway.url)
    page = phone.page
    home = "document.querySelector('[data-owner-home] .hazards')"
    try:
        page.goto(f"{gateway.url}/s/{code}")
        page.fill("input[name=pin]", login["pin"])
        print(f"owner of {code}:")
        t0, shown = phone.timed("document.querySelector('[data-form=owner-login] button[type=submit]').click()", home)
        report("sign-in → home shown", shown - t0)
        ledger = phone.when("document.querySelector('[data-owner-home] [data-ledger]')")
        report("sign-in → 积分明细 shown", ledger - t0)
        synced = phone.when(SYNCED)
        report("sign-in → download caught up (已同步)", synced - t0, phone, (t0, synced))
        page.wait_for_timeout(1000)

        page.reload()
        ready = phone.when("document.querySelector('[data-owner-home] [data-ledger]')")
        report("home opened again (reload) → 积分明细 shown", ready, phone, (0, ready))
        page.wait_for_timeout(500)

        span = phone.timed(
            "document.querySelector('a[data-action=check]').click()", "document.querySelector('input[name=open_flame]')"
        )
        report("home → self-check form shown", span[1] - span[0], phone, span)
        from tests.browser.field import WEEKLY_ANSWERS

        for item, value in WEEKLY_ANSWERS.items():
            page.check(f"input[name={item}][value={value}]")
        page.fill("input[name=sleeping_people]", "0")
        took, start = take_photos(phone, "[data-item={item}]", ("extinguisher_valid", "gas_safe", "wiring_ok"), photos)
        report("3 photos taken → thumbnails shown", took, phone, (start, page.evaluate("performance.now()")))
        span = phone.timed(
            "document.querySelector('form[data-form=self-check] button[type=submit]').click()",
            "document.querySelector('[data-owner-home] [data-week-done=true]')",
        )
        report("self-check submitted → home says done", span[1] - span[0], phone, span)
        page.wait_for_timeout(500)
    finally:
        phone.close()


@contextmanager
def district() -> Iterator[tuple[Gateway, dict[str, Any]]]:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        args = ["--shops", str(SHOPS), "--grid-workers", "1", "--months", str(MONTHS), "--seed", "7"]
        assert mashang(["demo", "--data", str(data), *args]) == 0
        logins: dict[str, Any] = json.loads((data / "logins.json").read_text(encoding="utf-8"))
        gateway = Gateway(data).start()
        try:
            yield gateway, logins
        finally:
            gateway.stop()


def run() -> int:
    from playwright.sync_api import sync_playwright

    if not (ROOT / "pwa" / "dist" / "index.html").exists():
        print("pwa/dist is missing: run `make install` first")
        return 1
    started = time.monotonic()
    photos = [camera_jpeg(seed) for seed in range(3)]
    with district() as (gateway, logins):
        worker = logins["grid_workers"][0]
        owners = {o["shop"]: o for o in logins["owners"]}
        events, owned = activity(gateway, worker["shops"], set(owners))
        print(f"CPU slowed {CPU_RATE}×; photos {len(photos[0]) // 1024} KB, 2560×1920, as a camera hands them over")
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox", "--disable-background-networking"]
            )
            try:
                grid_worker(browser, gateway, worker, events, photos)
                owner(browser, gateway, owners[owned], photos)
            finally:
                browser.close()
    print(f"(bench ran in {time.monotonic() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(run())
