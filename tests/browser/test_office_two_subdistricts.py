"""A district of two sub-districts (街道) in a real Chromium: the demo's 明楼街道 with its shops, and 西湖街道
(西溪社区, shops T0001 and T0002) added to the registry. The district's office chooses the sub-district of the
red/black list (each shows its own shops only, publishing publishes the one chosen and only a month that has ended,
a month changed keeps the choice) and of the monthly report and the rankings export; a sub-district's office is
offered no choice and sees its own."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from server.accounts import Accounts
from server.registry import Registry
from server.store.protocol import Store
from tests.browser.office import demo_copy, open_screen, settle, signed_in
from tests.gateway import Gateway
from tests.worlds import shop_fields

NAMES = {"minglou": "明楼街道", "xihu": "西湖街道"}  # minglou: the demo district's (server/demo/names.py)
XIHU_SHOPS = ("T0001", "T0002")
SCOPED = {"username": "sun", "password": "sun-password", "name": "孙"}


async def _add_xihu(store: Store, accounts: Accounts) -> None:
    """The second sub-district, named, with a community, a grid and two shops, and its office account (the
    gateway's validators then rank both sub-districts)."""
    registry = Registry(store)
    await registry.put_community("xc", "西溪社区", "xihu")
    await registry.put_grid("xg", "西溪一网格", "xc", [], list(XIHU_SHOPS))
    for code in XIHU_SHOPS:
        await registry.put_shop(shop_fields(code, "xg", community="xc", name=f"西溪茶馆{code}"))
    for code, name in NAMES.items():
        await registry.save_subdistrict(code, name)
    await accounts.create_staff("office", SCOPED["username"], SCOPED["password"], SCOPED["name"], "xihu")


def _login(gateway: Gateway, username: str, password: str) -> dict[str, str]:
    resp = httpx.post(f"{gateway.url}/api/auth/login", json={"username": username, "password": password}, timeout=30)
    resp.raise_for_status()
    return {"Authorization": f"Bearer {resp.json()['token']}"}


def _months(gateway: Gateway, headers: dict[str, str], subdistrict: str) -> list[dict[str, Any]]:
    resp = httpx.get(f"{gateway.url}/api/office/rankings", params={"subdistrict": subdistrict}, headers=headers)
    assert resp.status_code == 200, resp.text
    months: list[dict[str, Any]] = resp.json()["months"]
    return months


@pytest.fixture
def district(demo_district: Path, tmp_path: Path, logins: dict[str, Any]) -> Iterator[Gateway]:
    """A gateway on this test's own copy of the demo district with xihu added, once both sub-districts' rankings
    are written."""
    data = demo_copy(demo_district, tmp_path / "data", _add_xihu)
    gw = Gateway(data).start()
    try:
        office = logins["office"][0]
        headers = _login(gw, office["username"], office["password"])
        # Without a sub-district named, the district's office is asked for one now.
        assert httpx.get(f"{gw.url}/api/office/rankings", headers=headers).status_code == 400
        deadline = time.monotonic() + 90
        while True:
            answers = [
                httpx.get(f"{gw.url}/api/office/rankings", params={"subdistrict": sd}, headers=headers) for sd in NAMES
            ]
            if all(a.status_code == 200 and a.json()["months"] for a in answers):
                break
            assert time.monotonic() < deadline, [a.text[:200] for a in answers]
            time.sleep(0.5)
        yield gw
    finally:
        gw.stop()


def listed_shops(page: Any) -> set[str]:
    """The shop codes of the ranking's whole table."""
    page.locator("[data-ranking=all] tbody tr").first.wait_for()
    return set(page.locator("[data-ranking=all] tbody tr small").all_inner_texts())


def choose(page: Any, subdistrict: str) -> None:
    """Choose a sub-district of the ranking screen and wait for its list."""
    page.select_option(".screen.ranking select[name=subdistrict]", subdistrict)
    page.wait_for_function("(sd) => new URLSearchParams(location.search).get('subdistrict') === sd", arg=subdistrict)
    settle(page)


def open_report(page: Any) -> tuple[str, str]:
    """Open the monthly report: the URL asked for and the report's text."""
    with page.expect_request(lambda r: "/api/office/reports/" in r.url) as asked, page.context.expect_page() as opened:
        page.click(".screen.exports button:has-text('打开')")
    report = opened.value
    report.wait_for_url("blob:**")
    report.wait_for_load_state()
    text = report.locator("body").inner_text()
    report.close()
    return asked.value.url, text


def rankings_csv(page: Any) -> list[dict[str, str]]:
    with page.expect_download() as info:
        page.click("[data-export=rankings] button[data-format=csv]")
    return list(csv.DictReader(io.StringIO(Path(info.value.path()).read_text(encoding="utf-8-sig"))))


def test_the_district_office_chooses_the_sub_district_of_the_lists_and_the_report(
    district: Gateway, browser: Any, logins: dict[str, Any]
) -> None:
    office = logins["office"][0]
    headers = _login(district, office["username"], office["password"])
    minglou = {
        e["shop"]
        for e in httpx.get(
            f"{district.url}/api/office/ranking", params={"subdistrict": "minglou"}, headers=headers
        ).json()["entries"]
    }
    assert minglou and not minglou & set(XIHU_SHOPS)
    page = signed_in(browser, district, office["username"], office["password"], "/office/ranking")

    def accept_all(dialog: Any) -> None:  # publishing asks for confirmation
        dialog.accept()

    page.on("dialog", accept_all)
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    settle(page)
    assert page.locator(".screen.ranking .error").count() == 0

    # The choice: both sub-districts by their names, the first chosen; its shops only.
    chooser = page.locator(".screen.ranking select[name=subdistrict]")
    assert chooser.locator("option").evaluate_all("os => os.map(o => [o.value, o.textContent])") == [
        [code, name] for code, name in NAMES.items()
    ]
    assert chooser.input_value() == "minglou"
    assert page.locator(".screen.ranking label.field:has(select[name=subdistrict]) .label").inner_text() == "街道"
    assert listed_shops(page) == minglou

    # The other: its shops only (xihu, new, has this month's list only).
    choose(page, "xihu")
    assert listed_shops(page) == set(XIHU_SHOPS)
    assert page.locator(".screen.ranking select[name=month] option").count() == 1

    # Back to minglou, then another month of its: the choice stays, in the path and on the screen.
    choose(page, "minglou")
    shown = page.input_value(".screen.ranking select[name=month]")
    other = next(m["month"] for m in _months(district, headers, "minglou") if m["month"] != shown)
    page.select_option(".screen.ranking select[name=month]", other)
    page.wait_for_function("(m) => new URLSearchParams(location.search).get('month') === m", arg=other)
    settle(page)
    assert page.evaluate("new URLSearchParams(location.search).get('subdistrict')") == "minglou"
    assert page.locator(".screen.ranking select[name=subdistrict]").input_value() == "minglou"
    assert f"{NAMES['minglou']} · {other}" in page.locator(".screen.ranking").inner_text()
    then = httpx.get(
        f"{district.url}/api/office/ranking", params={"month": other, "subdistrict": "minglou"}, headers=headers
    ).json()["entries"]
    assert listed_shops(page) == {e["shop"] for e in then}
    assert f"month={other}&subdistrict=minglou" in next(u for u in reversed(asked) if "/api/office/ranking?" in u)

    # Another sub-district from there: its own newest month (it has no list of that other one).
    choose(page, "xihu")
    assert page.evaluate("new URLSearchParams(location.search).get('month')") is None
    assert page.locator(".screen.ranking .error").count() == 0
    assert listed_shops(page) == set(XIHU_SHOPS)

    # xihu's only list is this month's, still running: not to be published before the month has ended, and said so.
    page.wait_for_selector("[data-not-ended]")
    assert page.locator("[data-action=publish]").count() == 0

    # Publishing publishes the one chosen, not the other: minglou's month just ended, which it opens on.
    choose(page, "minglou")
    assert page.input_value(".screen.ranking select[name=month]") == shown
    with page.expect_request(lambda r: "/publish" in r.url and r.method == "POST") as sent:
        page.click("[data-action=publish]")
    assert "subdistrict=minglou" in sent.value.url and f"/rankings/{shown}/publish" in sent.value.url
    page.wait_for_selector("[data-published=true]")
    assert next(m for m in _months(district, headers, "minglou") if m["month"] == shown)["published"]
    assert not any(m["published"] for m in _months(district, headers, "xihu"))
    # Every ranking call named the sub-district (none was refused with a 400).
    ranking_calls = [u for u in asked if "/api/office/ranking" in u]
    assert ranking_calls and all("subdistrict=" in u for u in ranking_calls), ranking_calls

    # The exports: the report and the rankings export of the one chosen.
    open_screen(page, "exports")
    chooser = page.locator(".screen.exports select[name=subdistrict]")
    assert chooser.input_value() == "minglou"
    url, text = open_report(page)
    assert "subdistrict=minglou" in url and NAMES["minglou"] in text and NAMES["xihu"] not in text
    assert {row["店铺编号"] for row in rankings_csv(page)} == minglou
    chooser.select_option("xihu")
    url, text = open_report(page)
    assert "subdistrict=xihu" in url and NAMES["xihu"] in text and NAMES["minglou"] not in text
    # The exports open on last month, before 西湖 had shops: its list is this month's (本月至今), the first offered.
    page.locator(".screen.exports select[name=month]").select_option(index=0)
    assert {row["店铺编号"] for row in rankings_csv(page)} == set(XIHU_SHOPS)

    # A new community needs its sub-district once there are two (the server refuses to guess).
    open_screen(page, "registry")
    add_community(page, "xc2", "西溪二社区", "xihu")
    assert _community(district, headers, "xc2") == ("西溪二社区", "xihu")
    # A community of a third sub-district: the lists offer it at once, without a reload of the page.
    add_community(page, "dl1", "东柳社区", "dongliu")
    open_screen(page, "ranking")
    assert page.locator(".screen.ranking select[name=subdistrict] option[value=dongliu]").count() == 1

    # Giving 西溪社区 another sub-district moves its grid and shops to that office: asked first, by name; "no" moves
    # nothing, "yes" moves it.
    open_screen(page, "registry")
    page.remove_listener("dialog", accept_all)
    asked_to_move: list[str] = []

    def answer(accept: bool) -> None:
        page.once("dialog", lambda d: (asked_to_move.append(d.message), d.accept() if accept else d.dismiss()))

    answer(False)
    assert save_community(page, "xc", "西溪社区", "dongliu") == "未迁移，社区保持原街道"
    assert "西湖街道" in asked_to_move[0] and "1 个网格、2 家店铺" in asked_to_move[0], asked_to_move
    assert _community(district, headers, "xc") == ("西溪社区", "xihu")
    answer(True)
    assert save_community(page, "xc", "西溪社区", "dongliu") == "已将「西溪社区」迁移至 dongliu"
    assert _community(district, headers, "xc") == ("西溪社区", "dongliu")
    # A rename afterwards is not a move: nothing asked.
    assert save_community(page, "xc", "西溪老社区", "dongliu") == "已保存"
    assert len(asked_to_move) == 2 and _community(district, headers, "xc") == ("西溪老社区", "dongliu")
    page.context.close()


def save_community(page: Any, code: str, name: str, subdistrict: str) -> str:
    """Save the community form, answer what the page asks, and return what the form then says."""
    form = page.locator("[data-form=community]")
    form.locator("input[name=code]").fill(code)
    form.locator("input[name=name]").fill(name)
    form.locator("input[name=subdistrict]").fill(subdistrict)
    form.locator("button[type=submit]").click()
    status = form.locator(".form-status")
    page.wait_for_function(
        "el => el.textContent !== '' && el.getAttribute('aria-busy') !== 'true'", arg=status.element_handle()
    )
    assert "error" not in (status.get_attribute("class") or ""), status.inner_text()
    text: str = status.inner_text()
    return text


def add_community(page: Any, code: str, name: str, subdistrict: str | None) -> None:
    form = page.locator("[data-form=community]")
    form.locator("input[name=code]").fill(code)
    form.locator("input[name=name]").fill(name)
    if subdistrict is not None:
        form.locator("input[name=subdistrict]").fill(subdistrict)
    form.locator("button[type=submit]").click()
    form.locator(".form-status:not(:empty)").wait_for()
    assert "error" not in (form.locator(".form-status").get_attribute("class") or ""), form.inner_text()


def _community(gateway: Gateway, headers: dict[str, str], code: str) -> tuple[str, str] | None:
    items = httpx.get(f"{gateway.url}/api/office/registry/communities", headers=headers, timeout=30).json()["items"]
    return next(((c["name"], c["subdistrict"]) for c in items if c["code"] == code), None)


def test_a_sub_district_office_is_offered_no_choice(district: Gateway, browser: Any) -> None:
    page = signed_in(browser, district, SCOPED["username"], SCOPED["password"], "/office/ranking")
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    settle(page)
    assert page.locator(".screen.ranking select[name=subdistrict]").count() == 0
    assert listed_shops(page) == set(XIHU_SHOPS)

    open_screen(page, "exports")
    assert page.locator(".screen.exports select[name=subdistrict]").count() == 0
    url, text = open_report(page)
    assert "subdistrict=" not in url and NAMES["xihu"] in text
    assert not [u for u in asked if "subdistrict=" in u]  # the server holds it to its own

    # Its new community is its own sub-district's, and it is asked for none.
    open_screen(page, "registry")
    assert page.locator("[data-form=community] input[name=subdistrict]").count() == 0
    add_community(page, "xc3", "西溪三社区", None)
    assert _community(district, _login(district, SCOPED["username"], SCOPED["password"]), "xc3") == (
        "西溪三社区",
        "xihu",
    )
    page.context.close()
