"""The English UI as a user meets it, on the demo district: the office's screens at a 1366 px desk, the owner's and
the grid worker's on a phone. No Chinese but the district's own data (shop names, addresses, people, notes: whatever
the server sent), no raw dictionary key, no column pushed past the desk's edge, and the server's refusals in English."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable
from typing import Any

from tests.browser.field import sign_in_grid, sign_in_owner
from tests.browser.office import follow, open_screen, settle
from tests.gateway import Gateway

DESK = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]+")
RAW_KEY = re.compile(r"^[a-z]+(\.[a-zA-Z0-9_]+)+$")

# Every visible text on the page, and the texts of titles, placeholders and labels: [where, text].
_TEXTS = """() => {
  const out = [];
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walk.nextNode(); n; n = walk.nextNode()) {
    const el = n.parentElement, text = n.textContent.trim();
    if (!text || !el || el.closest('noscript, script, style, #lang-toggle') || !el.getClientRects().length) continue;
    out.push([el.tagName.toLowerCase() + (el.className ? '.' + String(el.className).split(' ')[0] : ''), text]);
  }
  for (const el of document.querySelectorAll('[title], [placeholder], [aria-label]')) {
    for (const a of ['title', 'placeholder', 'aria-label']) {
      if (el.getAttribute(a)) out.push(['@' + a, el.getAttribute(a)]);
    }
  }
  return out;
}"""

# Tables wider than the box that holds them, or reaching past the window: [table, its width, the box's].
_CUT_TABLES = """() => [...document.querySelectorAll('table')].filter((t) => t.getClientRects().length).map((t) => {
  const box = t.closest('.table-wrap') || t.parentElement;
  return [t.dataset.table || t.dataset.breakdown || t.className, t.scrollWidth, box.clientWidth,
    box.getBoundingClientRect().right <= window.innerWidth];
}).filter(([, width, room, inside]) => width > room + 1 || !inside)"""


class Data:
    """What the server sent the page: its JSON answers (not its refusals, whose reasons are the app's to say)."""

    def __init__(self, page: Any) -> None:
        self.responses: list[Any] = []
        self.seen = ""
        page.on("response", self._keep)

    def _keep(self, response: Any) -> None:
        path = response.url.split("//", 1)[-1]
        json_answer = "json" in response.headers.get("content-type", "")
        live = "feed=" in path or path.endswith("/stream")  # answers that never end: nothing to read
        if ("/api/" in path or "/sync/" in path) and response.status < 400 and json_answer and not live:
            self.responses.append(response)

    def text(self) -> str:
        for response in self.responses:
            # A body no longer held, or not JSON after all: no text to read.
            with contextlib.suppress(Exception):
                self.seen += json.dumps(json.loads(response.text()), ensure_ascii=False)
        self.responses.clear()
        return self.seen


def english_only(page: Any, data: Data, screen: str) -> None:
    """The page says nothing in Chinese but the data it was sent, shows no raw key, and is no wider than the window."""
    texts = page.evaluate(_TEXTS)
    sent = data.text()
    chinese = [(where, text) for where, text in texts if any(run not in sent for run in CJK.findall(text))]
    assert not chinese, f"{screen}: Chinese wording in English: {chinese[:10]}"
    keys = [text for _, text in texts if RAW_KEY.match(text)]
    assert not keys, f"{screen}: raw keys: {keys}"
    fits = page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert fits, f"{screen}: wider than the window"


def test_the_office_in_english(gateway: Gateway, browser: Any, logins: dict[str, Any]) -> None:
    office = logins["office"][0]
    page = browser.new_context(viewport=DESK, locale="zh-CN").new_page()
    data = Data(page)  # from the sign-in on: the office's name is the account's
    page.goto(f"{gateway.url}/office")
    page.fill("[data-form=office-signin] input[name=username]", office["username"])
    page.fill("[data-form=office-signin] input[name=password]", office["password"])
    page.click("[data-form=office-signin] button[type=submit]")
    page.wait_for_selector(".office-nav")
    page.click("#lang-toggle")
    page.wait_for_selector(".office-nav a[data-screen=overview]:has-text('Overview')")
    settle(page)
    for screen in ["", "alarms", "ranking", "shops", "workers", "sync", "registry", "rules", "rewards", "exports"]:
        open_screen(page, screen)
        english_only(page, data, screen or "overview")
        # English headings are longer: the black list's follow-ups, the workers' last columns, the devices, the
        # checklist's row buttons all stay on the desk.
        assert page.evaluate(_CUT_TABLES) == [], f"{screen}: tables cut at 1366 px: {page.evaluate(_CUT_TABLES)}"

    follow(page, f"/office/shops/{logins['owners'][0]['shop']}")
    page.wait_for_selector(".screen.efile")
    settle(page)
    english_only(page, data, "e-file")

    # A refusal: the server says why in Chinese, then in English; the English desk reads the English, the field named
    # by the form's own label.
    open_screen(page, "registry")
    form = page.locator("[data-form=user]")
    form.locator("input[name=username]").fill(office["username"])  # taken
    form.locator("input[name=name]").fill("Someone")
    form.locator("input[name=password]").fill("a-long-password")
    form.locator("button[type=submit]").click()
    page.wait_for_function("document.querySelector('[data-form=user]').textContent.includes('Failed')")
    said = form.locator("[role=status], .form-status, .error").filter(has_text="Failed").first.inner_text()
    assert f"Username: {office['username']} is taken" in said and not CJK.search(said), said
    page.context.close()


def _phone_in_english(browser: Any, sign_in: Callable[[Any], None]) -> tuple[Any, Any, Data]:
    """A phone-sized page signed in (in Chinese, the default) and switched to English, recording the server's data."""
    context = browser.new_context(viewport=PHONE, locale="zh-CN")
    page = context.new_page()
    data = Data(page)
    sign_in(page)
    page.click("#lang-toggle")
    page.wait_for_function("document.documentElement.lang === 'en'")
    return context, page, data


def test_the_owner_and_the_grid_worker_in_english(gateway: Gateway, browser: Any, logins: dict[str, Any]) -> None:
    worker = logins["grid_workers"][0]
    owner = next(o for o in logins["owners"] if o["shop"] in worker["shops"])

    context, page, data = _phone_in_english(browser, lambda page: sign_in_owner(page, gateway, owner))
    page.wait_for_selector("[data-ledger]")
    english_only(page, data, "owner home")
    page.click("[data-owner-home] a[href$='/check']")
    page.wait_for_selector("form [data-item]")
    english_only(page, data, "self-check")
    context.close()

    context, page, data = _phone_in_english(browser, lambda page: sign_in_grid(page, gateway, worker))
    page.wait_for_selector("[data-shop]")
    english_only(page, data, "grid list")
    shop = worker["shops"][0]
    page.click(f"a[href='/grid/s/{shop}']")
    page.wait_for_selector("[data-action=activation]")
    english_only(page, data, "grid e-file")
    for screen, ready in (("activation", "h1"), ("patrol", "form [data-item]")):
        page.click(f"a[href='/grid/s/{shop}/{screen}']")
        page.wait_for_selector(ready)
        english_only(page, data, f"grid {screen}")
        page.go_back()
        page.wait_for_selector("[data-action=activation]")
    context.close()
