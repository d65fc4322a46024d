"""Editing the versioned rules (`district:rules`) and checklist templates (`district:template:{id}`).

Every edit is a new version: the current document is replaced and a frozen copy of the new version is written
beside it (`…:v{n}`), so events keep being read against the version they name. The frozen copy of the version
being replaced is written first when it is missing (the default template and rules may never have been stored).
Who changed what and when is logged in `registry:change:{ulid}` (a partition no device replicates), since the
wire-format models of rules and templates have no room for it. The validators reload both on their next change.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, datetime
from importlib.resources import files
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ValidationError

from server.errors import CouchError, bad_request, conflict, not_found
from server.ids import new_ulid
from server.importer import CATEGORIES, CATEGORY_CODES
from server.models.rules import RULES_ID, Rules, default_rules, rules_reason
from server.models.templates import ALL_CATEGORIES, DEFAULT_TEMPLATE_ID, Template, default_template, template_reason
from server.registry import Registry
from server.store.protocol import AllDocsQuery, Doc, Store
from server.store.reads import docs_with_prefix
from server.store.upsert import read
from server.validators import rules as R

TEMPLATE_PREFIX: Final = DEFAULT_TEMPLATE_ID.rsplit(":", 1)[0] + ":"  # district:template:
CHANGE_PREFIX: Final = "registry:change:"
META: Final = frozenset({"_id", "_rev", "_revisions", "_conflicts", "type", "schema", "version"})
MODULES: Final = ("food-safety", "hygiene")  # shipped modules the office can add (server/office/modules/)


def _body(doc: Doc) -> Doc:
    return {k: v for k, v in doc.items() if k != "_rev"}


def _base_version(body: dict[str, Any], current: int) -> None:
    """An optional `version` in the body names the version the edit started from: a stale one is a conflict, said
    Chinese first with the English in brackets, as the editor's other refusals (`reasonIn` in pwa/src/i18n.ts). A
    version is a whole number: `true` (which Python compares equal to 1) or `1.0` passed for version 1 unchecked."""
    base = body.get("version")
    if base is not None and type(base) is not int:
        raise bad_request("version: 版本号须为整数（must be a whole number: the version the edit started from）")
    if base is not None and base != current:
        raise conflict(
            f"您修改的是第 {base} 版，但已有人保存了第 {current} 版：请刷新页面，在新版本上重新修改"
            f"（version {base} was edited, but the current version is {current}; reload and edit again）"
        )


# Two saves of the same version at once: the second is told as a stale version is (`_base_version`).
_MEANWHILE: Final = "刚刚已有人保存了新版本：请刷新页面，在新版本上重新修改"


async def _write_new(store: Store, current: Doc | None, frozen_current: Doc, new: Doc) -> None:
    """Freeze the replaced version if needed, then replace the current document and freeze the new version."""
    snapshot_id = f"{new['_id']}:v{new['version']}"
    writes: list[Doc] = []
    if await read(store, frozen_current["_id"]) is None:
        writes.append(_body(frozen_current))
    if await read(store, snapshot_id) is not None:
        raise conflict(f"{_MEANWHILE}（{snapshot_id} already exists; reload and edit again）")
    writes.append({**new, "_rev": current["_rev"]} if current is not None else new)
    writes.append({**new, "_id": snapshot_id})
    for answer in await store.bulk_docs(writes):
        if answer.get("error") == "conflict":
            raise conflict(f"{_MEANWHILE}（{answer.get('id')} changed meanwhile; reload and edit again）")
        if not answer.get("ok"):
            raise CouchError(500, str(answer.get("error")), f"{answer.get('id')}: {answer.get('reason')}")


async def _log(store: Store, target: str, version: int, by: str, now: datetime, action: str) -> Doc:
    entry = {
        "_id": f"{CHANGE_PREFIX}{new_ulid(int(now.timestamp() * 1000))}",
        "type": "change",
        "schema": 1,
        "target": target,
        "action": action,
        "version": version,
        "by": by,
        "at": now.isoformat(timespec="seconds"),
    }
    await store.bulk_docs([entry])
    return entry


async def changes(store: Store, target: str, limit: int = 50) -> list[Doc]:
    """The change log of one document, newest first."""
    query = AllDocsQuery(startkey=CHANGE_PREFIX + "\ufff0", endkey=CHANGE_PREFIX, descending=True, include_docs=True)
    rows = (await store.all_docs(query))["rows"]
    found = [_body(row["doc"]) for row in rows if row.get("doc") and row["doc"].get("target") == target]
    return found[:limit]


# ----- rules -----


async def get_rules(store: Store) -> Doc:
    """`{"rules", "stored", "changes"}`: the current rules (SPEC's defaults while none are stored)."""
    doc = await read(store, RULES_ID)
    rules = _body(doc) if doc is not None else default_rules().to_doc()
    # Each version's first day, from its frozen copy: a version scores only what happened from that day on.
    starts = {d.get("version"): d.get("effective_from") for d in await docs_with_prefix(store, f"{RULES_ID}:v")}
    starts[rules.get("version")] = rules.get("effective_from")
    logged = [{**c, "effective_from": starts.get(c.get("version"))} for c in await changes(store, RULES_ID)]
    return {"rules": rules, "stored": doc is not None, "changes": logged}


# The largest value a new version may give each number: a typo (年初积分 1e9) rescored every shop of the district at
# once, its public card included. Far above what an office would choose, and checked for new versions only.
RULE_LIMITS: Final = {
    "start_points": 10_000,
    "self_check_points": 100,
    "missed_week_cost": 100,
    "missed_week_grace_days": 30,
    "patrol_clean_points": 100,
    "hazard_cost.general": 1_000,
    "hazard_cost.major": 1_000,
    "hazard_cost.serious": 1_000,
    "false_self_report_cost": 1_000,
    "deadline_days.general": 365,
    "deadline_days.major": 365,
    "deadline_days.serious": 365,
    "overdue_cost_per_week": 1_000,
    "alarm_threshold": 10_000,
    # Each list at most half the shops (a shop is never on both): a bigger share would list every shop, red or black.
    "list_share_percent": 50,
    "list_min_shops": 10_000,
    "working_group_window_months": 24,
}


def _value(rules: Rules, path: str) -> int:
    """A number of the rules by its dotted path (`hazard_cost.general`)."""
    value: Any = rules
    for part in path.split("."):
        value = getattr(value, part)
    return int(value)


async def put_rules(store: Store, body: dict[str, Any], by: str, now: datetime) -> Doc:
    """A new version of the rules: the body's fields over the current ones, validated, version + 1."""
    current = await read(store, RULES_ID)
    base = Rules.model_validate(current) if current is not None else default_rules()
    _base_version(body, base.version)
    fields = {k: v for k, v in body.items() if k not in META}
    if "effective_from" not in fields:
        fields["effective_from"] = default_effective_from(base, now).isoformat()
    new = {**{k: v for k, v in base.to_doc().items() if k not in META}, **fields}
    new.update({"_id": RULES_ID, "type": "rules", "schema": 1, "version": base.version + 1})
    try:
        rules = Rules.model_validate(new)
    except ValidationError as e:
        raise bad_request(rules_reason(e)) from None
    too_large = [
        f"{path}: 不能超过 {limit}（less than or equal to {limit}）"
        for path, limit in RULE_LIMITS.items()
        if _value(rules, path) > limit
    ]
    if too_large:  # new versions only, as below
        raise bad_request("; ".join(too_large))
    if rules.alarm_threshold < 1:  # checked for new versions only: a version stored before stays readable
        raise bad_request(
            "alarm_threshold: 报警阈值至少为 1 分"
            "（at least 1 point (at 0 every submission that costs a point raises an alarm)）"
        )
    try:
        ZoneInfo(rules.timezone)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long for a file's
        raise bad_request(
            "timezone: 时区须为 Asia/Shanghai 这样的名称"
            f"（{rules.timezone[:64]!r} is not a time zone such as Asia/Shanghai）"
        ) from None
    # The day a body without one is given is no change of its own: with nothing else changed, no version either.
    same = _same if "effective_from" in body else _same_but_day
    if same(rules.to_doc(), base.to_doc()):
        # A form saved as it was: no new version, and so no projection of every shop again (minutes of work for
        # a sub-district, during which the office's screens are slow).
        return {**await get_rules(store), "unchanged": True}
    await _write_new(store, current, {**base.to_doc(), "_id": base.snapshot_id}, rules.to_doc())
    await _log(store, RULES_ID, rules.version, by, now, "edit")
    return await get_rules(store)


def _same(new: Doc, old: Doc) -> bool:
    """Whether two versions of a rules or template document say the same (their version and metadata aside)."""
    return {k: v for k, v in new.items() if k not in META} == {k: v for k, v in old.items() if k not in META}


def _same_but_day(new: Doc, old: Doc) -> bool:
    """Whether two versions of the rules say the same but for the day they apply from."""
    return _same({**new, "effective_from": None}, {**old, "effective_from": None})


def default_effective_from(current: Rules, now: datetime) -> date:
    """The day a new version applies from when the edit names none: today in the rules' time zone (Asia/Shanghai),
    so it scores what happens from now on (the current version's own day, often 1 January, rescored the whole year
    at every save through the API); a current version set for a later day keeps it (next year's rules being
    prepared). As the office's form offers it (pwa/src/office/rules.ts `defaultEffectiveFrom`)."""
    return max(R.day_of(now, current), current.effective_from)


# ----- templates -----


def template_doc_id(short_id: str) -> str:
    return TEMPLATE_PREFIX + short_id


async def current_templates(store: Store) -> list[Doc]:
    """The current version of every template (the default one even when it was never stored), by id."""
    query = AllDocsQuery(startkey=TEMPLATE_PREFIX, endkey=TEMPLATE_PREFIX + "\ufff0", include_docs=True)
    found: dict[str, Doc] = {}
    versions: dict[str, list[int]] = {}
    for row in (await store.all_docs(query))["rows"]:
        doc = row.get("doc")
        if not doc or ":v" in row["id"][len(TEMPLATE_PREFIX) :]:
            if doc and isinstance(doc.get("version"), int):
                versions.setdefault(row["id"].split(":v", 1)[0], []).append(doc["version"])
            continue
        found[row["id"]] = _body(doc)
    if DEFAULT_TEMPLATE_ID not in found:
        found[DEFAULT_TEMPLATE_ID] = default_template().to_doc()
    out = []
    for doc_id, doc in sorted(found.items()):
        known = set(versions.get(doc_id, [])) | {int(doc.get("version", 0))}
        out.append({**doc, "versions": sorted(known)})
    return out


async def _current_template(store: Store, doc_id: str) -> tuple[Doc | None, Template | None]:
    stored = await read(store, doc_id)
    if stored is not None:
        return stored, Template.model_validate(stored)
    return None, default_template() if doc_id == DEFAULT_TEMPLATE_ID else None


def _template(doc_id: str, version: int, body: dict[str, Any]) -> Template:
    # `id` names a new module; `versions` is what GET /api/office/templates adds: an edited copy may carry both.
    fields = {k: v for k, v in body.items() if k not in META and k not in ("id", "versions")}
    new = {**fields, "_id": doc_id, "type": "template", "schema": 1, "version": version}
    try:
        template = Template.model_validate(new)
    except ValidationError as e:
        raise bad_request(template_reason(e)) from None
    # An item's `points` override the rules' hazard costs, and are held to the same ceiling (new versions only, as the
    # rules): 1,000,000 rescored every shop with that hazard, its public card included, and a cost past 2^63 made the
    # shop's score one no document could store.
    limit = RULE_LIMITS["hazard_cost.serious"]
    too_large = [
        f"items[{n}].points: 不能超过 {limit}（less than or equal to {limit}）"
        for n, item in enumerate(template.items)
        if item.points is not None and item.points > limit
    ]
    if too_large:
        raise bad_request("; ".join(too_large))
    return template


async def _check_categories(store: Store, categories: Iterable[str]) -> None:
    """A module's categories must be shop categories, or it applies to no shop: `*`, a category code of the survey
    (`server.importer.CATEGORY_CODES`: food, retail, ...) or the code some registered shop has (the import takes
    other codes as they are). Anything else is refused naming it: a survey's word (烧烤, which the import makes a
    food shop) or a misspelt code. The shops are read only for a category outside the survey's codes."""
    unknown = [c for c in dict.fromkeys(categories) if c != ALL_CATEGORIES and c not in CATEGORY_CODES]
    if unknown:
        have = {shop.get("category") for shop in await Registry(store).shops_of()}
        unknown = [c for c in unknown if c not in have]
    if not unknown:
        return
    category = unknown[0]
    hint = f" (the survey's {category} is the code {CATEGORIES[category]})" if category in CATEGORIES else ""
    hint_zh = f"（调查表中的“{category}”即类别 {CATEGORIES[category]}）" if category in CATEGORIES else ""
    raise bad_request(
        f"categories: “{category}”不是店铺类别{hint_zh}，请勾选全部店铺或具体的店铺类别"
        f"（{category} is not a shop category{hint}: name * (every shop) or category codes such as "
        f"{', '.join(CATEGORY_CODES)}）"
    )


async def put_template(store: Store, short_id: str, body: dict[str, Any], by: str, now: datetime) -> Doc:
    """A new version of an existing template; checks made with older versions keep theirs."""
    doc_id = template_doc_id(short_id)
    stored, current = await _current_template(store, doc_id)
    if current is None:
        raise not_found(f"No template {short_id}; POST /api/office/templates adds a new module.")
    _base_version(body, current.version)
    template = _template(doc_id, current.version + 1, {**current.to_doc(), **body})
    if _same(template.to_doc(), current.to_doc()):
        return {**current.to_doc(), "unchanged": True}  # saved as it was: no new version (see put_rules)
    # The categories added by this version: one a version stored before names stays (its shops may be gone).
    await _check_categories(store, (c for c in template.categories if c not in current.categories))
    await _write_new(store, stored, {**current.to_doc(), "_id": current.snapshot_id}, template.to_doc())
    await _log(store, doc_id, template.version, by, now, "edit")
    return template.to_doc()


async def add_template(store: Store, body: dict[str, Any], by: str, now: datetime) -> Doc:
    """A new module (version 1); `body["id"]` is its short id (`food-safety`) or its full `_id`."""
    short_id = body.get("id")
    if short_id is None and isinstance(body.get("_id"), str) and body["_id"].startswith(TEMPLATE_PREFIX):
        short_id = body["_id"][len(TEMPLATE_PREFIX) :]
    if not isinstance(short_id, str) or not short_id:
        raise bad_request("id: the new module's id is required, such as food-safety")
    doc_id = template_doc_id(short_id)
    template = _template(doc_id, 1, {k: v for k, v in body.items() if k != "_id"})
    if (await _current_template(store, doc_id))[1] is not None:
        raise conflict(
            f"检查表模块 {short_id} 已经添加过：请刷新页面，在其表单上修改"
            f"（template {short_id} exists; PUT /api/office/templates/{short_id} makes a new version）"
        )
    await _check_categories(store, template.categories)
    new = template.to_doc()
    answers = await store.bulk_docs([new, {**new, "_id": template.snapshot_id}])
    if not all(answer.get("ok") for answer in answers):
        raise conflict(f"检查表模块 {short_id} 刚刚已被添加：请刷新页面（template {short_id} was added meanwhile）")
    await _log(store, doc_id, 1, by, now, "add")
    return new


def shipped_module(short_id: str) -> Doc:
    """One of the modules shipped with the server (`MODULES`), ready to POST."""
    text = (files("server.office") / "modules" / f"{short_id}.json").read_text(encoding="utf-8")
    doc: Doc = json.loads(text)
    return doc


async def templates_answer(store: Store) -> Doc:
    """`{"items": [current templates with their versions], "available": [shipped modules not added yet]}`."""
    items = await current_templates(store)
    have = {doc["_id"] for doc in items}
    available = [doc for doc in (shipped_module(m) for m in MODULES) if doc["_id"] not in have]
    return {"items": items, "available": available}
