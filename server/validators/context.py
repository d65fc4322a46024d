"""What every projection reads besides a shop's own documents: the rules, the templates, and today's date.

Rules are the current `district:rules` (SPEC's defaults while there is none, or when it does not validate) and
every version published before it (`district:rules:v{n}`), each in force from its `effective_from` on
(`rules.RulesHistory`);
templates are every `district:template:*` document, each current version and frozen copy, plus the default
template, keyed by (template id, version) as `project_shop` wants them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from pydantic import ValidationError

from server.models.rules import RULES_ID, Rules, default_rules
from server.models.templates import DEFAULT_TEMPLATE_ID, Template, default_template
from server.store.protocol import Store
from server.store.reads import docs_with_prefix
from server.store.upsert import read
from server.validators import rules as R
from server.validators.projections import Templates
from server.validators.rules import RulesHistory

log = logging.getLogger("mashang.validators")

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Context:
    rules: Rules
    templates: Templates
    history: RulesHistory | None = None  # None: the current rules alone

    @property
    def rules_history(self) -> RulesHistory:
        return self.history if self.history is not None else RulesHistory([self.rules])

    def today(self, clock: Clock) -> date:
        """Today in the rules' time zone (Asia/Shanghai): the `as_of` of every projection made now."""
        return R.day_of(clock(), self.rules)


async def load_context(store: Store) -> Context:
    rules = await load_rules(store)
    return Context(rules, await load_templates(store), await load_history(store, rules))


async def load_history(store: Store, current: Rules) -> RulesHistory:
    """The current rules and every earlier published version (a frozen copy that does not validate is left out)."""
    versions = []
    for doc in await docs_with_prefix(store, f"{RULES_ID}:v"):
        try:
            rules = Rules.model_validate(doc)
        except ValidationError as e:
            log.error("%s does not validate and is left out: %s", doc["_id"], e)
            continue
        if rules.version < current.version:
            versions.append(rules)
    return RulesHistory(versions, current)


async def load_rules(store: Store) -> Rules:
    doc = await read(store, RULES_ID)
    if doc is None:
        return default_rules()
    try:
        return Rules.model_validate(doc)
    except ValidationError as e:
        log.error("%s does not validate, SPEC's default rules apply: %s", RULES_ID, e)
        return default_rules()


async def load_templates(store: Store) -> Templates:
    prefix = DEFAULT_TEMPLATE_ID.rsplit(":", 1)[0] + ":"
    default = default_template()
    templates = {(default.template_id, default.version): default}
    for doc in await docs_with_prefix(store, prefix):
        try:
            template = Template.model_validate(doc)
        except ValidationError as e:
            log.error("%s does not validate and is left out: %s", doc["_id"], e)
            continue
        templates[(template.template_id, template.version)] = template
    return templates
