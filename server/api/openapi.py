"""The API contract, served at /api/openapi.json.

The document is made from the app's own routes, so no `/api/` route can be missing from it: paths and methods
come from Starlette's routing table, summaries from each handler's docstring (its first sentence, and the query
parameters its first line names, as in "`GET /api/office/shops?q=&limit=`"), and JSON schemas for the main
requests and answers from the pydantic models that define them.
"""

from __future__ import annotations

import inspect
import re
from typing import Any, Final

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from server import __version__
from server.api.devices import DeviceReport
from server.http import json_response
from server.models import Alarm, Ranking, Rules, Score, Stats, Template
from server.models.followups import FollowUpRequest
from server.office.schemas import CommunityRow, Credentials, DeskAlarm, Session, Summary, Trend

REF: Final = "#/components/schemas/{model}"
PUBLIC: Final = ("/api/public/", "/api/auth/login", "/api/auth/owner", "/api/auth/activate", "/api/openapi.json")
PARAM: Final = re.compile(r"{([A-Za-z_][A-Za-z0-9_]*)(?::[a-z]+)?}")
QUERY: Final = re.compile(r"`[A-Z]+ /api/[^`?\s]*\?([^`\s]+)")
NAME: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
LEAD: Final = re.compile(r"`[^`]*`[:,.]?\s*")  # a docstring's leading "`GET /api/...`: "
ERROR: Final = {
    "type": "object",
    "required": ["error", "reason"],
    "properties": {"error": {"type": "string"}, "reason": {"type": "string"}},
}

# (method, path) → (request body model, answer schema); answers are a model, a list of one, or an object
# holding one under a key. Everything else answers JSON described by its summary.
Shape = type[BaseModel] | tuple[str, type[BaseModel]] | None
CONTRACT: Final[dict[tuple[str, str], tuple[type[BaseModel] | None, Shape]]] = {
    ("POST", "/api/auth/login"): (Credentials, Session),
    ("POST", "/api/auth/owner"): (None, Session),
    ("POST", "/api/auth/activate"): (None, Session),
    ("POST", "/api/auth/renew"): (None, Session),
    ("POST", "/api/devices/report"): (DeviceReport, None),
    ("GET", "/api/office/alarms"): (None, ("items[]", DeskAlarm)),
    ("GET", "/api/office/alarms/{id}"): (None, DeskAlarm),
    ("POST", "/api/office/alarms/{id}/ack"): (None, DeskAlarm),
    ("POST", "/api/office/alarms/{id}/dispatch"): (None, DeskAlarm),
    ("POST", "/api/office/alarms/{id}/resolve"): (None, DeskAlarm),
    ("GET", "/api/office/communities"): (None, ("[]", CommunityRow)),
    ("GET", "/api/office/summary"): (None, Summary),
    ("GET", "/api/office/trend"): (None, Trend),
    ("GET", "/api/office/rules"): (None, ("rules", Rules)),
    ("PUT", "/api/office/rules"): (Rules, ("rules", Rules)),
    ("GET", "/api/office/templates"): (None, ("items[]", Template)),
    ("POST", "/api/office/templates"): (Template, Template),
    ("PUT", "/api/office/templates/{id}"): (Template, Template),
    ("POST", "/api/office/rankings/{month}/followups/{shop}"): (FollowUpRequest, None),
}
# Shapes of stored documents the answers are made of, listed in the components for clients.
DOCUMENTS: Final = (Alarm, Score, Ranking, Stats)


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": REF.format(model=model.__name__)}


def _answer(shape: Shape) -> dict[str, Any]:
    if shape is None:
        return {"type": "object"}
    if not isinstance(shape, tuple):
        return _ref(shape)
    key, model = shape
    if key == "[]":
        return {"type": "array", "items": _ref(model)}
    if key.endswith("[]"):
        return {"type": "object", "properties": {key[:-2]: {"type": "array", "items": _ref(model)}}}
    return {"type": "object", "properties": {key: _ref(model)}}


def _models() -> list[type[BaseModel]]:
    found: list[type[BaseModel]] = list(DOCUMENTS)
    for body, shape in CONTRACT.values():
        found += [body] if body else []
        found += [shape[1] if isinstance(shape, tuple) else shape] if shape else []
    return list(dict.fromkeys(found))


def _components() -> dict[str, Any]:
    schemas: dict[str, Any] = {}
    for model in _models():
        schema = model.model_json_schema(ref_template=REF)
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
    return {
        "schemas": {"Error": ERROR, **dict(sorted(schemas.items()))},
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
    }


def _doc(handler: Any) -> tuple[str, str]:
    """The summary (the first paragraph without its leading `METHOD /path`) and the whole docstring."""
    text = inspect.cleandoc(handler.__doc__ or "")
    first = text.split("\n\n", 1)[0].replace("\n", " ")
    lead = LEAD.match(first)
    rest = (first[lead.end() :] if lead else first).lstrip(";, ")
    return (rest if len(rest) > 1 else ""), text


def _operation(method: str, path: str, handler: Any) -> dict[str, Any]:
    summary, text = _doc(handler)
    params = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}} for name in PARAM.findall(path)
    ]
    query = QUERY.search(text)
    for pair in query.group(1).split("&") if query else ():
        name = pair.split("=", 1)[0]
        if NAME.fullmatch(name) and name not in {p["name"] for p in params}:
            params.append({"name": name, "in": "query", "required": False, "schema": {"type": "string"}})
    body, shape = CONTRACT.get((method, PARAM.sub(r"{\1}", path)), (None, None))
    op: dict[str, Any] = {
        "operationId": f"{method.lower()}{re.sub(r'[^A-Za-z0-9]+', '_', path)}".rstrip("_"),
        "summary": summary or f"{method} {path}",
        "tags": [path.split("/")[2]],
        "responses": {
            "200" if method == "GET" else "2XX": {
                "description": "success",
                "content": {"application/json": {"schema": _answer(shape)}},
            },
            "4XX": {
                "description": "refused",
                "content": {"application/json": {"schema": {"$ref": REF.format(model="Error")}}},
            },
        },
    }
    if text and text != summary:
        op["description"] = text
    if params:
        op["parameters"] = params
    if body is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": _ref(body)}}}
    if not path.startswith(PUBLIC):
        op["security"] = [{"bearer": []}]
    return op


def document(routes: list[BaseRoute]) -> dict[str, Any]:
    """The OpenAPI 3.1 document of every `/api/` route in `routes`."""
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        if not isinstance(route, Route) or not route.path.startswith("/api/") or not route.include_in_schema:
            continue
        path = PARAM.sub(r"{\1}", route.path)
        for method in sorted((route.methods or {"GET"}) - {"HEAD"}):
            paths.setdefault(path, {})[method.lower()] = _operation(method, route.path, route.endpoint)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "码上安全 Mashang API",
            "version": __version__,
            "description": "Sign-in, the office's API (/api/office/*), device reports and the public shop card. "
            "Replication itself is CouchDB's protocol at /sync/.",
        },
        "paths": dict(sorted(paths.items())),
        "components": _components(),
    }


async def openapi(request: Request) -> Response:
    """`GET /api/openapi.json`: this document (no token needed; it holds no data)."""
    state = request.app.state
    made: dict[str, Any] | None = getattr(state, "openapi_document", None)
    if made is None:
        made = state.openapi_document = document(list(request.app.routes))
    return json_response(request, made)


routes = [
    Route("/api/openapi.json", openapi, methods=["GET"]),
]
