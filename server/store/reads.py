"""Server-side reads of documents by id, on any backend: every document under an id prefix, many by id."""

from __future__ import annotations

from collections.abc import Sequence

from server.store.protocol import AllDocsQuery, Doc, Store

KEYS_PAGE = 500  # ids per `_all_docs` request


async def docs_with_prefix(store: Store, prefix: str) -> list[Doc]:
    """The live documents whose id starts with `prefix`, in id order."""
    query = AllDocsQuery(startkey=prefix, endkey=prefix + "\ufff0", include_docs=True)
    return [row["doc"] for row in (await store.all_docs(query))["rows"] if row.get("doc")]


async def docs_by_id(store: Store, ids: Sequence[str]) -> dict[str, Doc]:
    """The live documents of these ids, by id (a missing or deleted one is left out)."""
    found: dict[str, Doc] = {}
    for start in range(0, len(ids), KEYS_PAGE):
        query = AllDocsQuery(keys=list(ids[start : start + KEYS_PAGE]), include_docs=True)
        found.update({row["id"]: row["doc"] for row in (await store.all_docs(query))["rows"] if row.get("doc")})
    return found
