"""Documents a release moved to other ids, moved in a store written by an earlier one.

`migrate` runs when a gateway, a worker or a rebuild opens the store, before anything reads it. Each step is
idempotent and safe beside another process taking the same step (several gateways in front of one CouchDB start
together): a copy that exists already is kept, a deletion that lost a race is someone else's deletion.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Final

from pydantic import ValidationError

from server.errors import CouchError
from server.models.common import DISTRICT, OFFICE
from server.models.registry import shop_doc_id
from server.models.templates import DEFAULT_TEMPLATE_ID, Template, default_template
from server.office.rules import put_template
from server.store.protocol import Doc, Store
from server.store.reads import docs_by_id, docs_with_prefix
from server.store.upsert import read

log = logging.getLogger(__name__)

# Until 2026-11 the office's rankings, statistics and publications were in the `district` partition, which every
# phone replicates: each re-ranking sent every phone on the next sync ~100 KB of a list it never shows, each
# statistics pass ~40 KB. They are the office's, in the `office` partition no device replicates.
MOVED_TO_OFFICE: Final = ("ranking", "stats", "publication")
COUCH_META: Final = frozenset({"_rev", "_revisions", "_conflicts", "_deleted_conflicts"})


async def migrate(store: Store) -> int:
    """Every step; answers how many documents were moved or voided."""
    return (
        await move_office_documents(store)
        + await void_closed_shops_activations(store)
        + await allow_not_applicable_answers(store)
    )


async def move_office_documents(store: Store) -> int:
    """`district:{ranking|stats|publication}:*` to `office:...`: each is copied (unless its new id holds a document
    already: the validators wrote it since) and then deleted; the deletions reach the phones, which drop it."""
    moved = 0
    for kind in MOVED_TO_OFFICE:
        old_prefix = f"{DISTRICT}:{kind}:"
        docs = await docs_with_prefix(store, old_prefix)
        if not docs:
            continue
        new_id = {str(doc["_id"]): f"{OFFICE}:{kind}:{str(doc['_id'])[len(old_prefix) :]}" for doc in docs}
        there = await docs_by_id(store, list(new_id.values()))
        copies: list[Doc] = [
            {**{k: v for k, v in doc.items() if k not in COUCH_META}, "_id": new_id[str(doc["_id"])]}
            for doc in docs
            if new_id[str(doc["_id"])] not in there
        ]
        for result in await store.bulk_docs(copies) if copies else []:
            if not result.get("ok") and result.get("error") != "conflict":  # conflict: another process copied it
                raise CouchError(503, "unavailable", f"moving {result.get('id')}: {result.get('reason')}")
        deletions = [{"_id": doc["_id"], "_rev": doc["_rev"], "_deleted": True} for doc in docs]
        results = await store.bulk_docs(deletions)
        moved += sum(1 for result in results if result.get("ok"))
        log.warning("moved %d %s documents from the district partition to the office's", len(docs), kind)
    return moved


ACTIVATION_PREFIX: Final = "accounts:activation:"


async def void_closed_shops_activations(store: Store) -> int:
    """The activation codes not used yet of shops the registry has closed are deleted. Since 2026-11-30 closing a
    shop voids its unused code and none is handed out while it is closed (`Accounts.shop_status_changed`,
    `Accounts.issue_activation`); a shop closed by an earlier release kept its code, which would sign a new owner
    in once the shop is reopened (README: "one not used yet is voided"). Only such codes exist on a closed shop
    today, so the step finds nothing after the first start. A deletion that lost a race (the code was used or
    replaced meanwhile, or another process voided it) is left."""
    codes = [doc for doc in await docs_with_prefix(store, ACTIVATION_PREFIX) if not doc.get("used_at")]
    if not codes:
        return 0
    shop_of = {str(doc["_id"]): str(doc.get("shop") or str(doc["_id"])[len(ACTIVATION_PREFIX) :]) for doc in codes}
    shops = await docs_by_id(store, sorted({shop_doc_id(shop) for shop in shop_of.values()}))
    void = [
        {"_id": doc["_id"], "_rev": doc["_rev"], "_deleted": True}
        for doc in codes
        if shops.get(shop_doc_id(shop_of[str(doc["_id"])]), {}).get("status") == "closed"
    ]
    if not void:
        return 0
    voided = sum(1 for result in await store.bulk_docs(void) if result.get("ok"))
    log.warning("voided %d unused activation codes of shops closed before closing voided them", voided)
    return voided


MIGRATED_BY: Final = "server:migration"  # the change log's `by` of a version this module saved


async def allow_not_applicable_answers(store: Store) -> int:
    """The stored default checklist gets the shipped `not_applicable` flags in a new version. Since 2026-12 the
    shipped `district:template:fire-gas` v1 lets 灭火器是否在有效期内 and 燃气瓶/管道及报警器是否安全 be answered 不适用
    ("na"): a shop with no extinguisher or no gas had to answer them and photograph what it does not have. A district
    set up by an earlier release stored v1 without the flags. When its current template is exactly that v1 (the
    office never edited it), a new version with the flags is saved through the office's own service
    (`rules.put_template`: the v1 snapshot is kept, so checks made before keep v1, and the change is logged). A
    template the office edited is left alone: the office ticks 可答“不适用” in its editor. A store that holds no
    template reads the shipped one, flags included. Another process that saved the version first makes this one's
    attempt a 409 (its base version is stale), which is its success; after that the current version is not v1."""
    stored = await read(store, DEFAULT_TEMPLATE_ID)
    if stored is None:
        return 0
    try:
        current = Template.model_validate(stored)
    except ValidationError:
        return 0  # the validators log it; nothing here to compare
    shipped = default_template()
    without_flags = shipped.model_copy(
        update={"items": tuple(item.model_copy(update={"not_applicable": False}) for item in shipped.items)}
    )
    if current.to_doc() == shipped.to_doc() or current.to_doc() != without_flags.to_doc():
        return 0
    body = {"version": current.version, "items": shipped.to_doc()["items"]}
    try:
        saved = await put_template(store, DEFAULT_TEMPLATE_ID.rsplit(":", 1)[1], body, MIGRATED_BY, datetime.now(UTC))
    except CouchError as e:
        if e.status == 409:  # another gateway or worker saved it meanwhile
            return 0
        raise
    log.warning(
        "%s v%s: items may be answered 不适用 as shipped (v1 was stored without)", saved["_id"], saved["version"]
    )
    return 1
