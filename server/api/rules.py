"""Rules and checklist templates: the office reads and edits the versioned documents, with validation. They are the
district's: every office reads them, the district's office alone edits them."""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.api.common import audited, caller, office
from server.http import json_response, read_object
from server.office import rules as service
from server.store.protocol import Store


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


async def get_rules(request: Request) -> Response:
    """`GET /api/office/rules`: `{"rules", "stored", "changes"}`; the current rules and who changed them when."""
    await caller(request, "office")
    return json_response(request, await service.get_rules(_store(request)))


async def put_rules(request: Request) -> Response:
    """`PUT /api/office/rules`: fields of the rules to change (a whole document or a few fields); answers the new
    version. An optional `version` names the version edited (409 when it is stale); 400 names the bad field. The new
    version applies from `effective_from` as sent; without one, from today in Asia/Shanghai (a current version set
    for a later day keeps that day)."""
    principal, reach = await office(request)
    reach.whole("The rules are the district's", "检查规则由全区统一设置")
    body = await read_object(request)
    answer = await service.put_rules(_store(request), body, principal.user_id, datetime.now(UTC))
    if not answer.get("unchanged"):
        await audited(request, principal, "rules_saved", "district:rules", f"version {answer['rules']['version']}")
    return json_response(request, answer)


async def list_templates(request: Request) -> Response:
    """`GET /api/office/templates`: `{"items", "available"}`: current templates with their known versions, and
    the modules shipped with the server (食品安全, 环境卫生) not added yet, ready to POST."""
    await caller(request, "office")
    return json_response(request, await service.templates_answer(_store(request)))


async def put_template(request: Request) -> Response:
    """`PUT /api/office/templates/{id}`: a new version of a template (title, categories, items); checks already
    made keep the version they name."""
    principal, reach = await office(request)
    reach.whole("Checklist templates are the district's", "检查表模块由全区统一设置")
    body = await read_object(request)
    doc = await service.put_template(
        _store(request), request.path_params["id"], body, principal.user_id, datetime.now(UTC)
    )
    if not doc.get("unchanged"):
        await audited(
            request, principal, "template_saved", str(doc["_id"]), f"{doc['title']}, version {doc['version']}"
        )
    return json_response(request, doc)


async def add_template(request: Request) -> Response:
    """`POST /api/office/templates {"id", "title", "categories", "items"}`: a new module, version 1 (201). A
    category that is no shop category (`*`, a survey's code, or one a registered shop has) is a 400 naming it."""
    principal, reach = await office(request)
    reach.whole("Checklist templates are the district's", "检查表模块由全区统一设置")
    body = await read_object(request)
    doc = await service.add_template(_store(request), body, principal.user_id, datetime.now(UTC))
    await audited(request, principal, "template_saved", str(doc["_id"]), f"{doc['title']}, version {doc['version']}")
    return json_response(request, doc, status=201)


routes = [
    Route("/api/office/rules", get_rules, methods=["GET"]),
    Route("/api/office/rules", put_rules, methods=["PUT"]),
    Route("/api/office/templates", list_templates, methods=["GET"]),
    Route("/api/office/templates", add_template, methods=["POST"]),
    Route("/api/office/templates/{id}", put_template, methods=["PUT"]),
]
