"""The office edits the versioned rules and checklist templates through the API; the validators and the gateway's
write checks follow the new versions with no code change (the food-safety module applies to food shops). On either
backend (tests/backends.py)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from server.ids import new_ulid
from server.models.projections import ledger_entries
from server.store.reads import docs_with_prefix
from server.store.upsert import read
from tests.api.conftest import World, open_world
from tests.api.test_alarm_flow import wait_until
from tests.backends import BACKENDS, sqlite_only, store_settings
from tests.validators.served import self_check

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(params=BACKENDS)
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    with store_settings(request, request.param) as on, open_world(tmp_path, **on) as w:
        yield w


def office(world: World) -> dict[str, str]:
    return world.login("wang", "wang-password")


def owner(world: World, shop: str = "S0001") -> dict[str, str]:
    world.call(world.state.accounts.set_owner_pin, shop, "246810")
    resp = world.client.post("/api/auth/owner", json={"shop": shop, "pin": "246810"})
    assert resp.status_code == 200, resp.text
    return {"Authorization": "Bearer " + resp.json()["token"]}


def ledger_entry(world: World, name: str) -> dict[str, Any] | None:
    """The ledger entry named `{shop}:ledger:{key}:{rule}`, from its month's document, or None."""
    months = world.call(docs_with_prefix, world.state.store, name[: name.index(":ledger:") + len(":ledger:")])
    return next((entry for doc in months for entry in ledger_entries(doc) if entry["_id"] == name), None)


def stored(world: World, doc_id: str) -> dict[str, Any] | None:
    doc: dict[str, Any] | None = world.call(read, world.state.store, doc_id)
    return doc


@sqlite_only("world")
def test_only_the_office_reads_and_edits_rules_and_templates(world: World) -> None:
    grid = world.login("zhou", "zhou-password")
    for method, path in (
        ("GET", "/api/office/rules"),
        ("PUT", "/api/office/rules"),
        ("GET", "/api/office/templates"),
        ("POST", "/api/office/templates"),
        ("PUT", "/api/office/templates/fire-gas"),
    ):
        assert world.client.request(method, path, json={}).status_code == 401
        assert world.client.request(method, path, json={}, headers=grid).status_code == 403


def test_a_rules_edit_is_a_new_version_the_validators_apply(world: World) -> None:
    headers = office(world)
    before = world.client.get("/api/office/rules", headers=headers).json()
    assert before["rules"]["version"] == 1 and before["rules"]["alarm_threshold"] == 10 and not before["stored"]
    wait_until(lambda: (stored(world, "S0001:score") or {}).get("rules_version") == 1)

    # From the first version's own day (named: without one a version applies from today), so the year starts anew.
    since = before["rules"]["effective_from"]
    resp = world.client.put(
        "/api/office/rules", headers=headers, json={"version": 1, "start_points": 120, "effective_from": since}
    )
    assert resp.status_code == 200, resp.text
    after = resp.json()
    assert after["rules"]["version"] == 2 and after["rules"]["start_points"] == 120 and after["stored"]
    assert after["rules"]["alarm_threshold"] == 10 and after["rules"]["effective_from"] == since  # as sent, or kept
    [change] = after["changes"]
    assert change["by"] == "office:wang" and change["version"] == 2 and change["target"] == "district:rules"
    assert change["effective_from"] == after["rules"]["effective_from"]  # the day each version applies from
    assert (stored(world, "district:rules:v1") or {}).get("start_points") == 100  # the replaced version, frozen
    assert (stored(world, "district:rules:v2") or {}).get("start_points") == 120

    # The validators reload the rules and project every shop again: a new shop starts with 120 points.
    score = wait_until(lambda: (s := stored(world, "S0003:score")) and s.get("rules_version") == 2 and s)
    assert score["points"] == 120

    # Editing from a stale version is a conflict, not a silent overwrite.
    stale = world.client.put("/api/office/rules", headers=headers, json={"version": 1, "start_points": 90})
    assert stale.status_code == 409 and "current version is 2" in stale.json()["reason"]


@sqlite_only("world")
def test_a_version_saved_without_its_day_applies_from_today_in_shanghai(world: World) -> None:
    """A change sent without `effective_from` (a script, or a client that leaves the day out) applies from today in
    Shanghai: it kept the current version's day, 1 January, and every save rescored the year behind the office's
    back. A day sent is kept as it is, and so is a current version's later day (next year's rules prepared)."""
    headers = office(world)
    first = world.client.get("/api/office/rules", headers=headers).json()["rules"]
    today = datetime.now(SHANGHAI).date()
    assert first["effective_from"] < today.isoformat()  # the shipped version: from long ago
    wait_until(lambda: (stored(world, "S0001:score") or {}).get("rules_version") == 1)

    saved = world.client.put("/api/office/rules", headers=headers, json={"version": 1, "start_points": 120}).json()
    assert saved["rules"]["version"] == 2 and saved["rules"]["effective_from"] == today.isoformat()
    assert saved["changes"][0]["effective_from"] == today.isoformat()  # what the rules screen's table shows
    # The year began under version 1: its 100 starting points stay (with the version's old day, 120 at once).
    score = wait_until(lambda: (s := stored(world, "S0001:score")) and s.get("rules_version") == 2 and s)
    assert score["points"] == (120 if (today.month, today.day) == (1, 1) else 100)
    # Nothing but the day would change: no version (the form's today is no change of its own).
    again = world.client.put("/api/office/rules", headers=headers, json={"start_points": 120}).json()
    assert again["unchanged"] is True and again["rules"]["version"] == 2

    # A day sent is kept, earlier or later than today.
    since = world.client.put(
        "/api/office/rules", headers=headers, json={"start_points": 110, "effective_from": first["effective_from"]}
    ).json()
    assert since["rules"]["effective_from"] == first["effective_from"]
    later = (today + timedelta(days=30)).isoformat()
    planned = world.client.put(
        "/api/office/rules", headers=headers, json={"self_check_points": 3, "effective_from": later}
    ).json()
    assert planned["rules"]["effective_from"] == later
    # Edited again without a day, next month's version keeps its own: it does not start today.
    edited = world.client.put("/api/office/rules", headers=headers, json={"self_check_points": 4}).json()
    assert edited["rules"]["version"] == 5 and edited["rules"]["effective_from"] == later


def test_a_form_saved_unchanged_makes_no_new_version(world: World) -> None:
    """Saving the rules or a checklist as they were changes nothing: no version, and no projection of every shop
    again (minutes for a sub-district, during which the office's screens were slow)."""
    headers = office(world)
    current = world.client.get("/api/office/rules", headers=headers).json()
    rules = {k: v for k, v in current["rules"].items() if not k.startswith("_")}
    again = world.client.put("/api/office/rules", json=rules, headers=headers)
    assert again.status_code == 200 and again.json()["unchanged"] is True
    assert again.json()["rules"]["version"] == rules["version"] and again.json()["changes"] == current["changes"]
    assert (stored(world, "district:rules") or {}).get("version", rules["version"]) == rules["version"]
    changed = world.client.put("/api/office/rules", json={**rules, "self_check_points": 3}, headers=headers).json()
    assert changed["rules"]["version"] == rules["version"] + 1 and "unchanged" not in changed

    template = world.client.get("/api/office/templates", headers=headers).json()["items"][0]
    body = {k: template[k] for k in ("title", "categories", "items")}
    short = template["_id"].split(":")[-1]
    same = world.client.put(
        f"/api/office/templates/{short}", json={**body, "version": template["version"]}, headers=headers
    )
    assert (
        same.status_code == 200 and same.json()["unchanged"] is True and same.json()["version"] == template["version"]
    )
    renamed = {**body, "title": {**body["title"], "zh": "消防与燃气安全（新）"}, "version": template["version"]}
    newer = world.client.put(f"/api/office/templates/{short}", json=renamed, headers=headers).json()
    assert newer["version"] == template["version"] + 1 and "unchanged" not in newer


@sqlite_only("world")
def test_bad_rules_are_refused_with_the_field(world: World) -> None:
    headers = office(world)
    cases = [
        ({"deadline_days": {"general": 7, "major": 3, "serious": "1"}}, "deadline_days.serious"),
        ({"alarm_threshold": -1}, "alarm_threshold"),
        ({"alarm_threshold": 0}, "alarm_threshold: 报警阈值至少为 1 分"),  # 0 would raise an alarm for every submission
        ({"refund_percent": 150}, "refund_percent"),
        ({"colour": "red"}, "colour"),
        # Said as the field's error, so the rules form shows it at 专班整治：上黑榜月数, not as a line naming no field.
        ({"working_group_black_months": 9}, "working_group_black_months: 不能超过专班统计窗口的月数（cannot exceed"),
        ({"deadline_days": {"general": 1, "major": 3, "serious": 7}}, "deadline_days: 须为 严重 ≤ 较大 ≤ 一般"),
        # Each list is at most half the shops: a bigger share put every shop on the red or the black list.
        ({"list_share_percent": 80}, "list_share_percent: 不能超过 50"),
        ({"effective_from": "tomorrow"}, "effective_from"),
        ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
        ({"timezone": "../../etc/passwd"}, "timezone"),
        # Longer than a file name: was a 500.
        ({"timezone": "Asia/" + "x" * 5000}, "timezone: 时区须为 Asia/Shanghai 这样的名称（'Asia/xxx"),
        # A typo would rescore every shop of the district at once, its public card included.
        ({"start_points": 1_000_000_000}, "start_points: 不能超过 10000"),
        ({"hazard_cost": {"general": 2, "major": 5, "serious": 100_000}}, "hazard_cost.serious: 不能超过 1000"),
        ({"deadline_days": {"general": 3650, "major": 3, "serious": 1}}, "deadline_days.general: 不能超过 365"),
    ]
    for body, field in cases:
        resp = world.client.put("/api/office/rules", headers=headers, json=body)
        assert resp.status_code == 400, (body, resp.text)
        assert field in resp.json()["reason"], resp.json()
    assert world.client.put("/api/office/rules", headers=headers, content=b"[1]").status_code == 400
    assert world.client.get("/api/office/rules", headers=headers).json()["rules"]["version"] == 1


@sqlite_only("world")
def test_a_whole_number_of_the_rules_refuses_true_and_fractions_naming_the_field(world: World) -> None:
    """JSON's `true` is no 1: `"version": true` passed for version 1 (Python's bool is an int) and saved a new
    version, and so did `1.0`, while `1.5` was told someone had saved a newer one. Every whole number of the rules
    refuses a boolean and a fraction with a 400 naming the field, Chinese first, as the rules form's other refusals;
    the checklist form's `version` likewise."""
    headers = office(world)
    rules = world.client.get("/api/office/rules", headers=headers).json()["rules"]
    numbers = [
        (f"{key}.{sub}" if sub else key, value)
        for key, field in rules.items()
        if key not in ("_id", "type", "schema", "version")
        for sub, value in (field.items() if isinstance(field, dict) else [("", field)])
        if type(value) is int
    ]
    assert len(numbers) == 20, numbers  # every whole number of SPEC's "Points and alarms"
    for path, value in numbers:
        for wrong in (True, False, value + 0.5, float(value)):
            key, _, sub = path.partition(".")
            body = {key: {**rules[key], sub: wrong}} if sub else {key: wrong}
            resp = world.client.put("/api/office/rules", headers=headers, json=body)
            assert resp.status_code == 400, (body, resp.text)
            assert resp.json()["reason"] == f"{path}: 须为整数（{path}: must be a whole number）", resp.json()
    for version in (True, 1.0, 1.5, "1"):
        resp = world.client.put("/api/office/rules", headers=headers, json={"version": version, "start_points": 120})
        assert resp.status_code == 400, (version, resp.text)
        assert resp.json()["reason"] == (
            "version: 版本号须为整数（must be a whole number: the version the edit started from）"
        )
    assert world.client.get("/api/office/rules", headers=headers).json()["rules"]["version"] == 1

    template = world.client.get("/api/office/templates", headers=headers).json()["items"][0]
    body = {k: template[k] for k in ("title", "categories", "items")}
    renamed = {**body, "title": {**body["title"], "zh": "消防与燃气安全（新）"}}
    for version in (True, 1.0):
        resp = world.client.put("/api/office/templates/fire-gas", headers=headers, json={**renamed, "version": version})
        assert resp.status_code == 400 and resp.json()["reason"].startswith("version: 版本号须为整数"), resp.text
    points = [{**template["items"][0], "points": True}, *template["items"][1:]]
    resp = world.client.put("/api/office/templates/fire-gas", headers=headers, json={"items": points})
    assert resp.status_code == 400 and resp.json()["reason"].startswith("items[0].points: 须为整数"), resp.text
    assert [t["version"] for t in world.client.get("/api/office/templates", headers=headers).json()["items"]] == [1]


@sqlite_only("world")
def test_a_save_over_a_newer_version_is_told_in_chinese_then_english(world: World) -> None:
    """The 409 of a rules or checklist form saved over a version someone else replaced was English only: the office's
    Chinese screen showed it so. It is Chinese first, with the English in brackets as the editor's other refusals."""
    headers = office(world)
    assert world.client.put("/api/office/rules", headers=headers, json={"version": 1, "start_points": 120}).is_success
    stale = world.client.put("/api/office/rules", headers=headers, json={"version": 1, "start_points": 90})
    assert stale.status_code == 409
    assert stale.json()["reason"] == (
        "您修改的是第 1 版，但已有人保存了第 2 版：请刷新页面，在新版本上重新修改"
        "（version 1 was edited, but the current version is 2; reload and edit again）"
    )

    template = world.client.get("/api/office/templates", headers=headers).json()["items"][0]
    body = {k: template[k] for k in ("title", "categories", "items")}
    renamed = {**body, "title": {**body["title"], "zh": "消防与燃气安全（新）"}, "version": template["version"]}
    assert world.client.put("/api/office/templates/fire-gas", json=renamed, headers=headers).is_success
    stale = world.client.put("/api/office/templates/fire-gas", json=renamed, headers=headers)
    old, new = template["version"], template["version"] + 1
    assert stale.status_code == 409
    assert stale.json()["reason"] == (
        f"您修改的是第 {old} 版，但已有人保存了第 {new} 版：请刷新页面，在新版本上重新修改"
        f"（version {old} was edited, but the current version is {new}; reload and edit again）"
    )


def food_self_check(shop: str, version: int, expired: bool) -> dict[str, Any]:
    now = datetime.now(SHANGHAI).replace(microsecond=0) - timedelta(minutes=1)
    answers: dict[str, Any] = {
        "licence_displayed": {"value": True, "photos": [f"{shop}:photo:{new_ulid()}"]},
        "health_certificates": {"value": True},
        "expired_food": {"value": expired, "note": "冰柜里有过期牛奶" if expired else ""},
        "raw_cooked_separated": {"value": True},
        "fridge_temperature_ok": {"value": True},
        "tableware_disinfected": {"value": True},
        "additives_logged": {"value": True},
    }
    return {
        "_id": f"{shop}:self_check:{new_ulid()}",
        "type": "self_check",
        "schema": 1,
        "shop": shop,
        "template": "district:template:food-safety",
        "template_version": version,
        "performed_at": now.isoformat(),
        "created_by": f"owner:{shop}",
        "device": "d-owner",
        "answers": answers,
    }


def push(world: World, headers: dict[str, str], doc: dict[str, Any]) -> dict[str, Any]:
    resp = world.client.post("/sync/_bulk_docs", headers=headers, json={"docs": [doc]})
    assert resp.status_code == 201, resp.text
    answer: dict[str, Any] = resp.json()[0]
    return answer


def test_the_food_safety_module_applies_to_food_shops_without_code(world: World) -> None:
    headers, shop_owner = office(world), owner(world)
    listed = world.client.get("/api/office/templates", headers=headers).json()
    assert [t["_id"] for t in listed["items"]] == ["district:template:fire-gas"]
    modules = {m["_id"]: m for m in listed["available"]}
    assert set(modules) == {"district:template:food-safety", "district:template:hygiene"}
    food = modules["district:template:food-safety"]
    assert food["title"]["zh"] == "食品安全" and "food" in food["categories"]
    assert modules["district:template:hygiene"]["title"]["zh"] == "环境卫生"

    # Before the office adds it, the gateway refuses a check against it.
    refused = push(world, shop_owner, food_self_check("S0001", 1, expired=False))
    assert refused["error"] == "forbidden" and "not known" in refused["reason"]

    resp = world.client.post("/api/office/templates", headers=headers, json={**food, "id": "food-safety"})
    assert resp.status_code == 201, resp.text
    assert world.client.post("/api/office/templates", headers=headers, json={**food, "id": "food-safety"}).json()[
        "error"
    ] == ("conflict")
    listed = world.client.get("/api/office/templates", headers=headers).json()
    assert [t["_id"] for t in listed["items"]] == ["district:template:fire-gas", "district:template:food-safety"]
    assert [m["_id"] for m in listed["available"]] == ["district:template:hygiene"]

    # S0001 is a food shop: its owner's check against the module is accepted, and scored.
    check = food_self_check("S0001", 1, expired=True)
    assert push(world, shop_owner, check).get("ok")
    hazard_id = f"S0001:hazard:{check['_id'].rsplit(':', 1)[1]}-expired_food"
    hazard = wait_until(lambda: stored(world, hazard_id))
    assert hazard["severity"] == "serious" and hazard["self_reported"] and hazard["cost"] == 5  # half of 10
    alarm = wait_until(lambda: stored(world, f"S0001:alarm:{check['_id'].rsplit(':', 1)[1]}"))
    assert [item["item"] for item in alarm["items"]] == ["expired_food"]

    # A new version: checks filled with version 1 stay valid, new ones may name version 2.
    items = [dict(item) for item in food["items"]]
    items[0] = {**items[0], "photo_required": False}
    resp = world.client.put("/api/office/templates/food-safety", headers=headers, json={"version": 1, "items": items})
    assert resp.status_code == 200 and resp.json()["version"] == 2, resp.text
    assert push(world, shop_owner, food_self_check("S0001", 1, expired=False)).get("ok")
    assert push(world, shop_owner, food_self_check("S0001", 2, expired=False)).get("ok")
    assert (stored(world, "district:template:food-safety:v1") or {}).get("version") == 1
    current = world.client.get("/api/office/templates", headers=headers).json()["items"][1]
    assert current["version"] == 2 and current["versions"] == [1, 2]
    # What the office screen sends back: the listed template as it came, edited.
    edited = {**current, "title": {"zh": "食品安全（2027版）", "en": "Food safety (2027)"}}
    resp = world.client.put("/api/office/templates/food-safety", headers=headers, json=edited)
    assert resp.status_code == 200 and resp.json()["version"] == 3, resp.text
    assert wait_until(lambda: stored(world, hazard_id))["status"] == "open"


@sqlite_only("world")
def test_bad_templates_are_refused_with_the_field(world: World) -> None:
    headers = office(world)
    good = {"id": "signage", "title": {"zh": "招牌安全", "en": "Signage"}, "categories": ["*"]}
    item = {
        "id": "sign_secure",
        "label_zh": "招牌是否牢固",
        "label_en": "Sign secure",
        "answer": "yes_no",
        "hazard_when": {"equals": False},
        "severity": "major",
    }
    cases = [
        ({**good, "items": []}, "items"),
        ({**good, "items": [{**item, "answer": "number"}]}, "needs hazard_when"),
        ({**good, "items": [{**item, "severity": "fatal"}]}, "items[0].severity"),
        ({**good, "items": [item, item]}, "its own id"),
        ({**good, "id": "Bad Id!", "items": [item]}, "_id"),
        ({k: v for k, v in good.items() if k != "id"} | {"items": [item]}, "id"),
    ]
    for body, field in cases:
        resp = world.client.post("/api/office/templates", headers=headers, json=body)
        assert resp.status_code == 400, (body, resp.text)
        assert field in resp.json()["reason"], resp.json()
    missing = world.client.put("/api/office/templates/nothing-here", headers=headers, json={"items": [item]})
    assert missing.status_code == 404
    fire = world.client.put("/api/office/templates/fire-gas", headers=headers, json={"items": [{**item, "id": "X"}]})
    assert fire.status_code == 400 and "items[0].id" in fire.json()["reason"]


def test_a_refused_checklist_says_first_in_chinese_what_is_wrong_at_the_row(world: World) -> None:
    """The checklist editor's refusals are the office's to read: Chinese first, in the editor's words (检查项, 编号,
    适用店铺类别, 隐患等级), at the field of the row to change (`items[2].id`), the English after them."""
    headers = office(world)
    current = world.client.get("/api/office/templates", headers=headers).json()["items"][0]
    items = current["items"]
    cases = [
        (
            {"items": [*items[:2], {**items[2], "id": items[0]["id"]}, *items[3:]]},
            f"items[2].id: 编号 {items[0]['id']} 与第 1 项重复",
        ),
        ({"items": []}, "items: 至少要有 1 个检查项"),
        ({"categories": []}, "categories: 至少选 1 个适用店铺类别"),
        (
            {"items": [{**items[0], "id": "Fire-Blanket"}, *items[1:]]},
            "items[0].id: 编号只能用小写英文字母、数字和下划线",
        ),
        ({"items": [{**items[0], "severity": "fatal"}, *items[1:]]}, "items[0].severity: 须为 一般、较大 或 严重"),
        ({"items": [{**items[0], "points": 0}, *items[1:]]}, "items[0].points: 不能小于 1"),
        ({"items": [{**items[0], "id": "other"}, *items[1:]]}, "items[0].id: 编号 other 留给巡查中"),
        # The item another's escalation names, removed: the item whose condition it is, by its label.
        ({"items": [i for i in items if i["id"] != "three_in_one"]}, "items: 检查项“店内住宿人数”的升级条件引用了"),
    ]
    for body, said in cases:
        resp = world.client.put("/api/office/templates/fire-gas", headers=headers, json={**current, **body})
        assert resp.status_code == 400, (body, resp.text)
        reason = resp.json()["reason"]
        assert reason.startswith(said), reason
        assert "（" in reason and reason.endswith("）"), reason  # the English after the Chinese
    assert [t["version"] for t in world.client.get("/api/office/templates", headers=headers).json()["items"]] == [1]


def test_an_items_points_have_the_rules_ceiling(world: World) -> None:
    """An item's `points` override the rules' hazard cost, without the ceiling the rules' costs have: 1,000,000 was
    taken, and 2^63 - 1 made a shop's public card read -9223372036854775707 after one patrol finding."""
    headers = office(world)
    fire = world.client.get("/api/office/templates", headers=headers).json()["items"][0]
    for points in (1_001, 1_000_000, 2**63 - 1):
        items = [{**fire["items"][0], "points": points}, *fire["items"][1:]]
        resp = world.client.put("/api/office/templates/fire-gas", headers=headers, json={"items": items})
        assert resp.status_code == 400, (points, resp.text)
        assert resp.json()["reason"] == "items[0].points: 不能超过 1000（less than or equal to 1000）"
        module = {"id": "signage", "title": {"zh": "招牌安全", "en": "Signage"}, "categories": ["*"], "items": items}
        assert world.client.post("/api/office/templates", headers=headers, json=module).status_code == 400
    assert stored(world, "district:template:fire-gas") is None and stored(world, "district:template:signage") is None
    items = [{**fire["items"][0], "points": 1_000}, *fire["items"][1:]]
    resp = world.client.put("/api/office/templates/fire-gas", headers=headers, json={"items": items})
    assert resp.status_code == 200 and resp.json()["version"] == 2, resp.text


def test_a_module_for_categories_no_shop_has_is_refused_naming_them(world: World) -> None:
    """A module whose categories are not shop categories would apply to no shop: 烧烤 is a survey's word (the
    import makes such a shop a food shop), bbq a code no shop has. Either is refused with the category named;
    a survey's category code, or a code some shop has, is taken."""
    headers = office(world)
    item = {
        "id": "skewers_stored",
        "label_zh": "签子是否规范存放",
        "label_en": "Skewers stored safely",
        "answer": "yes_no",
        "hazard_when": {"equals": False},
        "severity": "general",
    }
    module = {"id": "grill", "title": {"zh": "烧烤安全", "en": "Grill safety"}, "items": [item]}
    for categories, named in ((["烧烤"], "烧烤"), (["food", "bbq"], "bbq")):
        resp = world.client.post("/api/office/templates", headers=headers, json={**module, "categories": categories})
        assert resp.status_code == 400, resp.text
        reason = resp.json()["reason"]
        assert reason.startswith(f"categories: “{named}”不是店铺类别"), reason  # Chinese first
        assert f"{named} is not a shop category" in reason, reason
        assert "; " not in reason  # one field's error, as the office screen splits them
    assert (
        "the code food"
        in world.client.post("/api/office/templates", headers=headers, json={**module, "categories": ["烧烤"]}).json()[
            "reason"
        ]
    )
    assert stored(world, "district:template:grill") is None

    # A shop of a code the survey has no word for (the import takes it as it is): a module may name it.
    patched = world.client.patch("/api/office/shops/S0003", json={"category": "bbq"}, headers=headers)
    assert patched.status_code == 200, patched.text
    resp = world.client.post("/api/office/templates", headers=headers, json={**module, "categories": ["food", "bbq"]})
    assert resp.status_code == 201, resp.text

    # A new version adding an unknown category is refused the same; the categories it had are kept.
    resp = world.client.put("/api/office/templates/grill", headers=headers, json={"categories": ["bbq", "烤串"]})
    assert resp.status_code == 400 and "烤串 is not a shop category" in resp.json()["reason"], resp.text
    resp = world.client.put("/api/office/templates/grill", headers=headers, json={"categories": ["bbq", "hardware"]})
    assert resp.status_code == 200 and resp.json()["version"] == 2, resp.text


def fire_gas_self_check(shop: str, version: int, **values: Any) -> dict[str, Any]:
    """Every item of the default checklist answered in order (a photo where it asks for one), but `values`, which
    come without a photo."""
    check = self_check(shop)
    answers = check["answers"] | {item: {"value": value} for item, value in values.items()}
    return {**check, "template_version": version, "answers": answers}


def test_an_owner_answers_not_applicable_where_the_checklist_allows_it(world: World) -> None:
    """A shop with no gas answers the gas item 不适用 ("na") without a photo: accepted, no hazard. Only the items the
    template marks take it; the office's editor keeps the mark, refuses it on a number item, and may take it off
    (checks made before keep their version)."""
    headers, shop_owner = office(world), owner(world)
    check = fire_gas_self_check("S0001", 1, gas_safe="na", extinguisher_valid="na")
    assert push(world, shop_owner, check).get("ok")
    key = check["_id"].rsplit(":", 1)[1]
    assert wait_until(lambda: ledger_entry(world, f"S0001:ledger:{key}:self_check"))["points"] == 2
    hazards = world.call(docs_with_prefix, world.state.store, "S0001:hazard:")
    assert not [h for h in hazards if key in h["_id"]]

    refused = push(world, shop_owner, fire_gas_self_check("S0001", 1, open_flame="na"))
    assert refused["error"] == "forbidden", refused
    assert refused["reason"].startswith("answers.open_flame.value: 这一项须回答是或否，不能答不适用。")
    assert refused["reason"].endswith('must be true or false; this item cannot be answered "na" (not applicable)')

    current = world.client.get("/api/office/templates", headers=headers).json()["items"][0]
    assert {i["id"] for i in current["items"] if i["not_applicable"]} == {"extinguisher_valid", "gas_safe"}
    number = [{**i, "not_applicable": i["id"] == "sleeping_people"} for i in current["items"]]
    resp = world.client.put("/api/office/templates/fire-gas", headers=headers, json={**current, "items": number})
    assert resp.status_code == 400 and "only a yes_no item may be answered not applicable" in resp.json()["reason"]

    no_gas_item = [{**i, "not_applicable": i["id"] == "extinguisher_valid"} for i in current["items"]]
    resp = world.client.put("/api/office/templates/fire-gas", headers=headers, json={**current, "items": no_gas_item})
    assert resp.status_code == 200 and resp.json()["version"] == 2, resp.text
    refused = push(world, shop_owner, fire_gas_self_check("S0001", 2, gas_safe="na"))
    assert refused["error"] == "forbidden" and "answers.gas_safe.value" in refused["reason"]
    assert push(world, shop_owner, fire_gas_self_check("S0001", 1, gas_safe="na")).get("ok")  # v1 as it was
