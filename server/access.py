"""Who may read and write which documents through `/sync/`.

Every document id has the partition form `{partition}:{type}:{key}`; a principal's scope is a set of
partitions (None: all of them). Reads outside the scope look exactly like reads of missing documents.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from server.auth import Principal
from server.errors import CouchError, forbidden
from server.models.common import DISTRICT, SERVER_PARTITIONS

# `{partition}:{type}:{key}`, or `{partition}:{type}` for a partition's singletons (`S0001:score`, `district:rules`).
PARTITION_ID = re.compile(r"^([A-Za-z0-9][A-Za-z0-9_-]{0,63}):([a-z][a-z0-9_]{0,31})(?::(\S{1,400}))?$")


@dataclass(frozen=True)
class Scope:
    partitions: frozenset[str] | None  # None: every partition

    def allows(self, doc_id: str) -> bool:
        if not PARTITION_ID.match(doc_id):
            return False
        return self.partitions is None or doc_id.split(":", 1)[0] in self.partitions


# Server-only partitions: accounts (secrets), the registry, the quarantine, the office's rankings and statistics.
# Only the operator replicates them.
RESERVED = SERVER_PARTITIONS


def scope_for(principal: Principal, shops: frozenset[str] = frozenset()) -> Scope:
    """The partitions a principal replicates: the operator all; an owner their shop; a grid worker the
    shops of their grids (`shops`, from the registry); everyone the shared `district` documents."""
    if principal.is_admin:
        return Scope(None)
    if principal.role == "owner":
        return Scope(frozenset({principal.user_id.split(":", 1)[1], DISTRICT}) - RESERVED)
    if principal.role == "grid":
        return Scope((shops | {DISTRICT}) - RESERVED)
    return Scope(frozenset({DISTRICT}))


def local_id(principal: Principal, client_id: str) -> str:
    """Checkpoints are namespaced per user, so nobody reads or overwrites another user's, and per scope
    version, so a changed scope starts the phone's pull over."""
    return f"user/{principal.user_id}/s{principal.scope_version}/{client_id}"


def check_write(principal: Principal, doc: Any) -> None:
    """The operator's write check: any id of the partition form. Devices go through sync/validate.py."""
    doc_id = doc.get("_id") if isinstance(doc, dict) else None
    if not isinstance(doc_id, str):
        raise CouchError(400, "bad_request", "Document must have an _id")
    if not PARTITION_ID.match(doc_id):
        raise forbidden("Document id must have the form {partition}:{type}:{key}")
