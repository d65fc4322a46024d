"""A phone's export, brought in by the office: what a phone could not upload reaches the server another way.

A phone whose sync is broken (a cracked screen, no network for months, a database the browser will not open
again) still writes, from its sync panel, the file `导出未上传的数据`: `{"exported_at", "device", "docs":
[...], "refused": [{"id", "reason", "at", "doc"}]}`, each document as the phone keeps it and each photo with its
JPEG in base64 (pwa/src/db.ts, `exportPending`). The owner or grid worker hands it to the office (by WeChat, on a
USB stick), and the office sends it here.

Every document goes through the same rules as if its author's phone had sent it (`server/sync/writes.py`, as the
account named in `created_by`, within that account's scope today), with the revision the phone gave it: a
document already on the server is counted, not written twice, and the phone's next sync agrees. The documents
the server refused before are tried again: the file exists so that they can be, once the cause is mended (a
template added, a wrong clock). Nothing is quarantined: the answer lists each document with its outcome and
reason. A sub-district's office brings in its own shops' documents only.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server import access
from server.accounts import user_doc_id
from server.api.common import accounts_of, client_address, office, registry_of
from server.auth import Principal
from server.errors import CouchError, bad_request
from server.http import json_response, read_object
from server.office.reach import Reach
from server.store.protocol import Doc, Store, partition_of
from server.store.reads import docs_by_id
from server.sync.writes import write_docs

MAX_DOCS: Final = 5000  # a phone's file holds weeks of a grid worker's patrols and photos, not more
AUTHOR_ROLES: Final = frozenset({"owner", "grid"})


async def bring_in(request: Request) -> Response:
    """`POST /api/office/device-exports` (the file as the body): `{"device", "exported_at", "items": [{"id", "author",
    "from": "waiting"|"refused", "outcome": "stored"|"already"|"refused", "reason"?}], "counts": {...}}`."""
    principal, reach = await office(request)
    body = await read_object(request)
    docs, sources = _documents(body)
    store = request.app.state.store
    present = await docs_by_id(store, [str(d["_id"]) for d in docs if isinstance(d.get("_id"), str)])
    # Each author's account and each shop's reach are looked up once: a file holds many documents of a few.
    authors = sorted({str(d["created_by"]) for d in docs if isinstance(d.get("created_by"), str)})
    accounts = await docs_by_id(store, [user_doc_id(author) for author in authors])
    users = {author: accounts[user_doc_id(author)] for author in authors if user_doc_id(author) in accounts}
    outside: dict[str, str | None] = {}
    items: list[dict[str, Any]] = []
    by_author: dict[str, list[Doc]] = {}
    for doc, source in zip(docs, sources, strict=True):
        doc_id, author = doc.get("_id"), doc.get("created_by")
        item: dict[str, Any] = {"id": doc_id, "author": author, "from": source}
        items.append(item)
        reason = await _refusal(store, reach, users, outside, doc)
        if reason is not None:
            item.update(outcome="refused", reason=reason)
        elif doc_id in present and present[str(doc_id)].get("_rev") == doc.get("_rev"):
            item["outcome"] = "already"
        else:
            by_author.setdefault(str(author), []).append(doc)
    refused: dict[str, str] = {}
    for author, group in by_author.items():
        refused.update(await _write_as(request, users[author], group))
    for item in items:
        if "outcome" in item:
            continue
        reason = refused.get(str(item["id"]))
        if reason:
            item.update(outcome="refused", reason=reason)
        else:
            item["outcome"] = "stored"
    counts = Counter(str(item["outcome"]) for item in items)
    await accounts_of(request).audit(
        "device_export",
        principal.user_id,
        client_address(request),
        f"device {str(body.get('device'))[:64]}: {counts['stored']} stored, {counts['already']} already there, "
        f"{counts['refused']} refused",
    )
    answer = {
        "device": body.get("device"),
        "exported_at": body.get("exported_at"),
        "items": items,
        "counts": {k: counts.get(k, 0) for k in ("stored", "already", "refused")},
    }
    return json_response(request, answer)


def _documents(body: dict[str, Any]) -> tuple[list[Doc], list[str]]:
    """The file's documents (its waiting ones, then those refused before), and which list each came from."""
    waiting, refused = body.get("docs", []), body.get("refused", [])
    if not isinstance(waiting, list) or not isinstance(refused, list) or "docs" not in body:
        raise bad_request(
            "这不是手机导出的文件：文件中没有待上传记录的列表。not a phone's export: docs (and refused) must be lists"
        )
    docs: list[Doc] = []
    sources: list[str] = []
    for doc in waiting:
        docs.append(doc if isinstance(doc, dict) else {"_id": None})
        sources.append("waiting")
    for entry in refused:
        doc = entry.get("doc") if isinstance(entry, dict) else None
        docs.append(doc if isinstance(doc, dict) else {"_id": entry.get("id") if isinstance(entry, dict) else None})
        sources.append("refused")
    if len(docs) > MAX_DOCS:
        raise bad_request(
            f"文件中有 {len(docs)} 条记录，一次最多导入 {MAX_DOCS} 条。"
            f"the file holds {len(docs)} documents; at most {MAX_DOCS} at once"
        )
    if not docs:
        raise bad_request("文件中没有记录：这部手机没有待上传的内容。the file holds no documents")
    return docs, sources


async def _refusal(
    store: Store, reach: Reach, users: dict[str, Doc], outside: dict[str, str | None], doc: Doc
) -> str | None:
    """Why the office cannot bring this document in, before its author's rules are asked. `users` holds the
    authors' accounts; `outside` remembers, per shop, why it is out of reach (None: it is in reach)."""
    doc_id, author = doc.get("_id"), doc.get("created_by")
    if not isinstance(doc_id, str) or not access.PARTITION_ID.match(doc_id):
        return "not a document of a shop"
    if not isinstance(doc.get("_rev"), str):
        return "no _rev: not a document as the phone keeps it"
    if not isinstance(author, str) or author.split(":", 1)[0] not in AUTHOR_ROLES:
        return "created_by must name an owner or a grid worker"
    user = users.get(author)
    if user is None or user.get("disabled"):
        return f"no account {author} (or it is disabled)"
    shop = partition_of(doc_id)
    if shop not in outside:
        try:
            await reach.shop(store, shop)
            outside[shop] = None
        except CouchError as e:
            outside[shop] = e.reason
    return outside[shop]


async def _write_as(request: Request, user: Doc, docs: list[Doc]) -> dict[str, str]:
    """Write `docs` as their author (the account `user`)'s phone would have; answers the refused ones' reasons by
    id."""
    author = str(user["user_id"])
    role, _, name = author.partition(":")
    principal = Principal(author, role, int(user.get("token_version", 0)))
    shops = await registry_of(request).shops_of_worker(name) if role == "grid" else frozenset()
    scope = access.scope_for(principal, shops)
    answers = await write_docs(
        request.app.state, principal, docs, new_edits=False, scope=scope, quarantined=False, durable=True
    )
    return {str(a.get("id")): str(a.get("reason") or a.get("error")) for a in answers if "error" in a}


routes = [
    Route("/api/office/device-exports", bring_in, methods=["POST"]),
]
