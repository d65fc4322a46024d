"""An owner's month, as an audit found it on the phone: a fix sent in time must not read 已逾期 once its deadline has
passed; a fix the grid worker did not pass (不通过) shows with the worker's reason until the owner fixes it again; a
passed fix is listed under 已通过核查 with the points it gave back; a second self-check in a week says it earns no
points; a wrong PIN or a lockout says how to get in again (a new activation code); and the home lists the points
ledger (积分明细) with what each change was for.

The month is written to the server as the shop's grid worker and owner would have (a patrol three days ago with three
findings, the owner's fixes two days ago, the worker's verdicts yesterday), then the owner signs in on the phone."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from server.ids import new_ulid
from tests.browser.field import sign_in_owner
from tests.gateway import Gateway
from tests.validators.builders import full_answers

SHANGHAI = ZoneInfo("Asia/Shanghai")
REASON = "后门通道仍堆放纸箱"


def _owner_and_worker(logins: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    for owner in logins["owners"]:
        for worker in logins["grid_workers"]:
            if owner["shop"] in worker["shops"]:
                return owner, worker
    raise AssertionError("no activated owner has a grid worker in the demo district")


def _event(shop: str, kind: str, when: datetime, by: str, **fields: Any) -> dict[str, Any]:
    return {
        "_id": f"{shop}:{kind}:{new_ulid(int(when.timestamp() * 1000))}",
        "type": kind,
        "schema": 1,
        "shop": shop,
        "performed_at": when.replace(microsecond=0).isoformat(),
        "created_by": by,
        "device": "d-month-test",
        **fields,
    }


def _put(gateway: Gateway, doc: dict[str, Any]) -> None:
    with gateway.client() as client:
        answer = client.put(f"/sync/{doc['_id']}", json=doc)
    assert answer.status_code == 201, answer.text


def _when(gateway: Gateway, doc_id: str, *statuses: str) -> dict[str, Any]:
    """The server's document once the validators have it in one of `statuses` (20 s at most)."""
    deadline = time.monotonic() + 20
    with gateway.client() as client:
        while True:
            doc: dict[str, Any] = client.get(f"/sync/{doc_id}").json()
            if doc.get("status") in statuses or time.monotonic() > deadline:
                break
            time.sleep(0.2)
    assert doc.get("status") in statuses, doc
    return doc


def _month(gateway: Gateway, owner: dict[str, Any], worker: dict[str, Any]) -> dict[str, str]:
    """Three findings of one patrol: `in_time` fixed before its deadline (yesterday) and waiting for verification;
    `failed` fixed and not passed; `passed` fixed in time and verified. Answers their hazard ids."""
    shop, grid, me = owner["shop"], f"grid:{worker['username']}", f"owner:{owner['shop']}"
    now = datetime.now(SHANGHAI)

    def day(n: int) -> str:
        return (now + timedelta(days=n)).date().isoformat()

    def finding(fid: str, deadline: str) -> dict[str, Any]:
        note = f"巡查发现问题 {fid}"
        return {"id": fid, "item": "other", "severity": "general", "note": note, "photos": [], "deadline": deadline}

    patrol = _event(
        shop,
        "patrol",
        now - timedelta(days=3),
        grid,
        template="district:template:fire-gas",
        template_version=1,
        answers=full_answers(shop),
        findings=[finding("f1", day(-1)), finding("f2", day(5)), finding("f3", day(5))],
    )
    _put(gateway, patrol)
    key = patrol["_id"].rsplit(":", 1)[1]
    ids = {name: f"{shop}:hazard:{key}-{fid}" for name, fid in (("in_time", "f1"), ("failed", "f2"), ("passed", "f3"))}
    fixes = {}
    for name, hazard in ids.items():
        _when(gateway, hazard, "open", "overdue")  # the first one's deadline was yesterday
        fix = _event(shop, "rectification", now - timedelta(days=2), me, hazard=hazard, note="已整改", photos=[])
        _put(gateway, fix)
        fixes[name] = fix["_id"]
    for name, passed in (("failed", False), ("passed", True)):
        _when(gateway, ids[name], "rectified")
        verdict = _event(
            shop,
            "verification",
            now - timedelta(days=1),
            grid,
            hazard=ids[name],
            rectification=fixes[name],
            passed=passed,
            note="" if passed else REASON,
            photos=[],
        )
        _put(gateway, verdict)
    _when(gateway, ids["in_time"], "rectified")
    _when(gateway, ids["failed"], "open")
    _when(gateway, ids["passed"], "closed")
    return ids


def _home(context: Any, gateway: Gateway, owner: dict[str, Any]) -> Any:
    page = context.new_page()
    page.set_default_timeout(60_000)  # a busy CI machine is slow, not broken
    sign_in_owner(page, gateway, owner)
    return page


def test_a_fix_sent_in_time_is_not_overdue(gateway: Gateway, context: Any, logins: dict[str, Any]) -> None:
    owner, worker = _owner_and_worker(logins)
    ids = _month(gateway, owner, worker)
    page = _home(context, gateway, owner)
    item = page.locator(f"[data-hazard='{ids['in_time']}'][data-status=rectified]")
    item.wait_for()
    text = item.inner_text()
    assert "等待网格员核查" in text and "已逾期" not in text
    assert item.get_attribute("data-overdue") == "false"


def test_a_failed_fix_shows_the_reason_until_fixed_again(
    gateway: Gateway, context: Any, logins: dict[str, Any]
) -> None:
    owner, worker = _owner_and_worker(logins)
    ids = _month(gateway, owner, worker)
    page = _home(context, gateway, owner)
    item = page.locator(f"[data-hazard='{ids['failed']}']")
    item.locator("[data-rejected]").wait_for()
    text = item.inner_text()
    assert "整改未通过" in text and REASON in text and "请重新整改" in text
    # Where it came from, what it cost, what a fix in time gives back (a general finding: 2 points, half back).
    assert item.locator(".hazard-cost").inner_text() == "网格员巡查发现 · 扣 2 分，按期整改并通过核查返还 1 分"

    item.locator("a[data-action=rectify]").click()
    page.wait_for_selector("[data-form=rectification]")
    assert REASON in page.inner_text("[data-rejected]")  # the reason goes with the owner to the form
    page.fill("textarea[name=note]", "纸箱已全部清走")
    page.click("[data-form=rectification] button[type=submit]")
    page.wait_for_selector(f"[data-hazard='{ids['failed']}'][data-shown]:not([data-shown=fix])")
    assert page.locator(f"[data-hazard='{ids['failed']}'] [data-rejected]").count() == 0
    page.wait_for_selector(f"[data-hazard='{ids['failed']}'][data-status=rectified]", timeout=60_000)
    assert page.locator(f"[data-hazard='{ids['failed']}'] [data-rejected]").count() == 0


def test_a_passed_fix_is_listed_with_the_points_it_gave_back(
    gateway: Gateway, context: Any, logins: dict[str, Any]
) -> None:
    owner, worker = _owner_and_worker(logins)
    ids = _month(gateway, owner, worker)
    page = _home(context, gateway, owner)
    item = page.locator(f"[data-verified-list] [data-closed-hazard='{ids['passed']}']")
    item.wait_for()
    assert "已通过核查" in page.inner_text("[data-verified-list] h2")
    assert item.get_attribute("data-refund") == "1"  # a general finding costs 2: half comes back
    assert "按期整改，返还 1 分（发现时扣 2 分）" in item.inner_text()
    assert page.locator(f"[data-hazard='{ids['passed']}']").count() == 0  # no longer among the hazards to fix


def test_a_second_self_check_in_a_week_says_it_earns_no_points(
    gateway: Gateway, context: Any, logins: dict[str, Any]
) -> None:
    owner, _ = _owner_and_worker(logins)
    shop = owner["shop"]
    now = datetime.now(SHANGHAI)
    check = _event(
        shop,
        "self_check",
        now,
        f"owner:{shop}",
        template="district:template:fire-gas",
        template_version=1,
        answers=full_answers(shop),
    )
    _put(gateway, check)
    page = _home(context, gateway, owner)
    page.wait_for_selector("[data-week-done=true] [data-week-points]")
    assert "每周只计一次" in page.inner_text("[data-week-points]")
    page.click("[data-action=check]")
    page.wait_for_selector("[data-form=self-check]")
    hint = page.inner_text(".check [data-week-points]")
    assert "再次自查不再加分" in hint and "发现的问题照样记录" in hint


def test_a_wrong_pin_and_a_lockout_say_how_to_get_in_again(
    gateway: Gateway, context: Any, logins: dict[str, Any]
) -> None:
    owner, _ = _owner_and_worker(logins)
    wrong = owner["pin"][:-1] + str((int(owner["pin"][-1]) + 1) % 10)
    page = context.new_page()
    page.goto(f"{gateway.url}/s/{owner['shop']}")
    assert not page.is_visible("[data-pin-help]")
    page.fill("input[name=pin]", wrong)
    page.click("[data-form=owner-login] button[type=submit]")
    page.wait_for_selector("[data-pin-help]:visible")
    help_text = page.inner_text("[data-pin-help]")
    assert "网格员" in help_text and "激活码" in help_text and "新的 6 位密码" in help_text
    # Wrong until locked out: the lockout says so, and the way forward stays.
    for _ in range(6):
        page.fill("input[name=pin]", wrong)
        page.click("[data-form=owner-login] button[type=submit]")
        page.wait_for_selector("[data-form=owner-login] button[type=submit]:enabled")
        if "尝试次数过多" in page.inner_text("[data-form=owner-login] .error"):
            break
    assert "尝试次数过多" in page.inner_text("[data-form=owner-login] .error")
    assert page.is_visible("[data-pin-help]")
    page.click("[data-action=use-code]")
    assert page.locator("details.activation").get_attribute("open") is not None
    assert page.evaluate("document.activeElement?.name") == "code"


def test_the_home_lists_the_points_ledger(gateway: Gateway, context: Any, logins: dict[str, Any]) -> None:
    owner, worker = _owner_and_worker(logins)
    ids = _month(gateway, owner, worker)
    page = _home(context, gateway, owner)
    page.wait_for_selector("[data-ledger] h2")
    assert page.inner_text("[data-ledger] h2") == "积分明细"
    key = ids["passed"].split(":", 2)[2]
    refund = page.locator(f"[data-ledger-entry='{owner['shop']}:ledger:{key}:refund']")
    refund.wait_for()
    assert "按期整改，返还扣分" in refund.inner_text() and "+1" in refund.inner_text()
    found = page.locator(f"[data-ledger-entry='{owner['shop']}:ledger:{key}:hazard']")
    assert "发现隐患：其他问题" in found.inner_text() and "-2" in found.inner_text()
    # The newest first, 20 at first; the rest a tap away.
    days = page.eval_on_selector_all("[data-ledger-entry] .ledger-day", "els => els.map((e) => e.textContent)")
    assert days == sorted(days, reverse=True) and len(days) <= 20
    if page.locator("[data-action=ledger-more]").count():
        page.click("[data-action=ledger-more]")
        page.wait_for_function(f"document.querySelectorAll('[data-ledger-entry]').length > {len(days)}")
