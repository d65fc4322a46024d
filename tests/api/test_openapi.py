"""`GET /api/openapi.json` describes every `/api/` route of the app, and the answers match their schemas."""

from __future__ import annotations

import re
from typing import Any

from starlette.routing import Route

from server.models import Rules
from server.office.schemas import CommunityRow, Summary, Trend
from tests.api.conftest import World


def refs(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [value["$ref"]] if isinstance(value.get("$ref"), str) else [r for v in value.values() for r in refs(v)]
    if isinstance(value, list):
        return [r for v in value for r in refs(v)]
    return []


def test_every_api_route_is_in_the_document(world: World) -> None:
    resp = world.client.get("/api/openapi.json")  # no token: the contract holds no data
    assert resp.status_code == 200 and resp.headers["content-type"] == "application/json"
    doc = resp.json()
    assert doc["openapi"] == "3.1.0" and doc["info"]["title"]
    routes = [
        r
        for r in world.client.app.routes  # type: ignore[attr-defined]
        if isinstance(r, Route) and r.path.startswith("/api/") and r.include_in_schema  # not the fallback
    ]
    assert len(routes) > 40
    for route in routes:
        path = re.sub(r"{(\w+):\w+}", r"{\1}", route.path)
        for method in (route.methods or set()) - {"HEAD"}:
            operation = doc["paths"].get(path, {}).get(method.lower())
            assert operation is not None, f"{method} {path} is missing"
            assert operation["summary"] and operation["responses"]
            for name in re.findall(r"{(\w+)}", path):
                assert {"name": name, "in": "path", "required": True, "schema": {"type": "string"}} in operation[
                    "parameters"
                ]
    described = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    assert len(described) == sum(len((r.methods or set()) - {"HEAD"}) for r in routes)
    for ref in set(refs(doc)):
        assert ref.removeprefix("#/components/schemas/") in doc["components"]["schemas"], ref


def test_operations_say_who_may_call_them_and_what_they_take(world: World) -> None:
    paths = world.client.get("/api/openapi.json").json()["paths"]
    assert paths["/api/office/summary"]["get"]["security"] == [{"bearer": []}]
    assert "security" not in paths["/api/public/shops/{code}"]["get"]
    assert "security" not in paths["/api/auth/login"]["post"]
    shops = paths["/api/office/shops"]["get"]
    assert [p["name"] for p in shops["parameters"] if p["in"] == "query"] == [
        "community",
        "grid",
        "q",
        "list",
        "status",
        "hazards",
        "limit",
        "offset",
    ]
    assert "score" in shops["summary"]  # from the handler's docstring
    body = paths["/api/office/rules"]["put"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/Rules"}


def test_real_answers_match_their_schemas(world: World) -> None:
    office = world.login("wang", "wang-password")
    schemas = world.client.get("/api/openapi.json").json()["components"]["schemas"]
    assert {"Summary", "Trend", "CommunityRow", "Rules", "Template", "Alarm", "Session", "Ranking"} <= set(schemas)
    summary = world.client.get("/api/office/summary?breakdown=1", headers=office).json()
    Summary.model_validate(summary)
    assert summary["shops_active"] == 3 and summary["by_grid"][0]["id"] == "g1"
    Trend.model_validate(world.client.get("/api/office/trend", headers=office).json())
    for row in world.client.get("/api/office/communities", headers=office).json():
        CommunityRow.model_validate(row)
    Rules.model_validate(world.client.get("/api/office/rules", headers=office).json()["rules"])
