"""No answer tells "exists in another sub-district" from "does not exist" (README: "Reads outside a scope look like
reads of missing documents, on every endpoint").

The world of `tests/api/test_subdistrict_offices.py`: sun is xihu's office, qian xihu's grid worker; minglou holds
S0001-S0003, community wensan (文三社区), grid g1 (文三一网格), grid workers zhou and li, office zhao. For each request,
sun (or qian) naming minglou's thing and naming a thing that never existed get the same status and error, and reasons
that differ in nothing but the code named."""

from __future__ import annotations

import re
from typing import Any

import pytest
from httpx import Response

from tests.api.test_alarm_flow import wait_until
from tests.api.test_every_route import ENDLESS, operations
from tests.api.test_import import csv_bytes
from tests.api.test_subdistrict_offices import IMPORT_HEADER, District, district

__all__ = ["district"]  # the fixture, used here by name

PHOTO = "01J00000000000000000000000"
# What sun names of minglou's, and a name of the same kind that nothing has.
FOREIGN_UNKNOWN = {
    "shop": ("S0001", "S9999"),
    "community": ("wensan", "nowhere"),
    "grid": ("g1", "nogrid"),
    "user": ("grid:li", "grid:nobody"),
    "office": ("office:zhao", "office:nobody"),
}

# (method, url with {} for the name, body, kind of name) for what the audit listed, and a few more of the same kind.
REQUESTS: list[tuple[str, str, Any, str]] = [
    ("GET", "/api/office/shops/{}/efile", None, "shop"),
    ("GET", "/api/office/shops/{}/qr.svg", None, "shop"),
    ("GET", "/api/office/shops/{}/qr.png", None, "shop"),
    ("GET", "/api/office/posters.pdf?shop={}", None, "shop"),
    ("GET", "/api/office/posters.pdf?community={}", None, "community"),
    ("GET", "/api/office/posters.pdf?grid={}", None, "grid"),
    ("GET", "/api/office/rewards/{}", None, "shop"),
    ("GET", "/api/office/rewards?community={}", None, "community"),
    ("POST", "/api/office/rewards/{}/redemptions", {"points": 1, "prize": "灭火毯"}, "shop"),
    (
        "POST",
        "/api/office/rankings/2026-11/followups/{}",
        {"action": "talk", "on": "2026-11-02", "talked_to": "店主", "by": "安监所"},
        "shop",
    ),
    ("PATCH", "/api/office/shops/{}", {"name": "改名的店"}, "shop"),
    ("PATCH", "/api/office/shops/{}", {"grid": "xg"}, "shop"),
    ("POST", "/api/office/shops/{}/close", {}, "shop"),
    ("POST", "/api/office/shops/{}/reopen", {}, "shop"),
    ("POST", "/api/office/shops/{}/move", {"grid": "xg"}, "shop"),
    ("POST", "/api/office/users/{}/password", {"password": "password123"}, "user"),
    ("POST", "/api/office/users/{}/password", {"password": "password123"}, "office"),
    ("POST", "/api/office/users/{}/revoke", {}, "user"),
    ("POST", "/api/office/users/{}/revoke", {}, "office"),
    ("GET", "/api/office/summary?grid={}", None, "grid"),
    ("GET", "/api/office/summary?community={}", None, "community"),
    ("GET", "/api/office/shops?grid={}", None, "grid"),
    ("GET", "/api/office/shops?community={}", None, "community"),
    ("GET", "/api/office/registry/shops?grid={}", None, "grid"),
    ("GET", "/api/office/registry/shops?community={}", None, "community"),
    ("GET", "/api/office/registry/shops?code={}", None, "shop"),
    ("GET", "/api/office/photos/{}:photo:" + PHOTO, None, "shop"),
    ("POST", "/api/shops/{}/activation", {}, "shop"),
    # A body field naming another sub-district's grid, community or grid worker is an unknown one.
    ("POST", "/api/office/shops", {"code": "T0009", "name": "新店", "address": "西溪路", "grid": "{}"}, "grid"),
    ("PATCH", "/api/office/shops/T0001", {"grid": "{}"}, "grid"),
    ("POST", "/api/office/shops/T0001/move", {"grid": "{}"}, "grid"),
    ("PUT", "/api/office/registry/grids/xg", {"name": "西溪一网格", "community": "{}"}, "community"),
    ("PUT", "/api/office/registry/grids/xg", {"name": "x", "community": "xc", "workers": ["qian", "{}"]}, "user"),
]


def _fill(value: Any, name: str) -> Any:
    if isinstance(value, str):
        return value.replace("{}", name)
    if isinstance(value, list):
        return [_fill(v, name) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, name) for k, v in value.items()}
    return value


def _bare(name: str) -> str:
    """`grid:li` is named `li` in a grid's workers."""
    return name.split(":", 1)[1] if ":" in name else name


def _same(foreign: Response, unknown: Response, names: tuple[str, str], what: str) -> None:
    """The two answers are one answer but for the name asked for."""
    assert foreign.status_code == unknown.status_code, f"{what}: {foreign.status_code} {foreign.text[:200]} vs " + (
        f"{unknown.status_code} {unknown.text[:200]}"
    )
    assert foreign.status_code < 500, f"{what}: {foreign.text[:300]}"
    kind = foreign.headers.get("content-type", "")
    assert kind == unknown.headers.get("content-type", ""), what
    if kind.startswith("application/json"):

        def neutral(resp: Response, name: str) -> str:
            text = resp.text
            for form in sorted({name, _bare(name)}, key=len, reverse=True):
                text = text.replace(form, "NAME")
            return text

        assert neutral(foreign, names[0]) == neutral(unknown, names[1]), f"{what}: {foreign.text} vs {unknown.text}"
        assert "outside" not in foreign.text, f"{what}: {foreign.text}"
    else:
        assert foreign.status_code >= 300, f"{what}: a file of minglou's ({kind})"


@pytest.mark.parametrize("who", ["sun", "qian"])
def test_another_sub_districts_names_answer_as_unknown_ones(district: District, who: str) -> None:
    d, client = district, district.world.client
    headers = d.sun if who == "sun" else d.world.login("qian", "qian-password")
    before = client.get("/api/office/registry/shops", headers=d.wang).json()
    requests = REQUESTS if who == "sun" else [r for r in REQUESTS if r[1].startswith("/api/shops/")]
    for method, url, body, kind in requests:
        names = FOREIGN_UNKNOWN[kind]
        answers = []
        for name in names:
            filled = _bare(name) if "workers" in str(body) else name
            answers.append(client.request(method, _fill(url, name), json=_fill(body, filled), headers=headers))
        _same(answers[0], answers[1], names, f"{who}: {method} {url} {body}")
    # Nothing of minglou changed (nor was anything made of the unknown names).
    assert client.get("/api/office/registry/shops", headers=d.wang).json() == before
    d.world.login("li", "li-password")
    d.world.login("zhao", "zhao-password")


def test_every_office_read_answers_another_sub_districts_names_as_unknown_ones(district: District) -> None:
    """Every GET of the office's, from the OpenAPI document: each path parameter and `?community=`, `?grid=`,
    `?shop=` filter naming minglou's thing, then a thing of none."""
    d, client = district, district.world.client
    path_names = {"code": "shop", "shop": "shop", "user_id": "user"}
    checked = 0
    for method, path, op in operations(d.world):
        if method != "get" or not path.startswith("/api/office/") or (method, path) in ENDLESS:
            continue
        params = re.findall(r"{(\w+)}", path)
        fixed = {"kind": "checks", "fmt": "csv", "month": "2026-11", "job": "x", "id": "x"}
        queries = {p["name"] for p in op.get("parameters", []) if p["in"] == "query"}
        filters = [q for q in ("community", "grid", "shop") if q in queries]
        for varied in [p for p in params if p in path_names] + filters:
            kind = path_names.get(varied, varied)
            names = FOREIGN_UNKNOWN[kind]
            answers = []
            for name in names:
                values = {**fixed, **{p: FOREIGN_UNKNOWN[path_names[p]][0] for p in params if p in path_names}}
                if varied in params:
                    values[varied] = name
                url = path.format(**{p: values.get(p, "x") for p in params})
                if varied not in params:
                    url += f"?{varied}={name}"
                answers.append(client.get(url, headers=d.sun))
            _same(answers[0], answers[1], names, f"GET {path} ({varied})")
            checked += 1
    assert checked >= 15, checked


def test_an_import_tells_another_sub_districts_names_from_unknown_ones_by_nothing(district: District) -> None:
    d, client = district, district.world.client
    # Pairs of rows: the first names minglou's community or grid, the second one nothing has, the same way.
    pairs = [
        (["T0101", "店", "西溪路", "餐饮", "wensan", "g1"], ["T0102", "店", "西溪路", "餐饮", "nowhere", "nogrid"]),
        (["T0103", "店", "西溪路", "餐饮", "文三社区", "xg"], ["T0104", "店", "西溪路", "餐饮", "无此社区", "xg"]),
        (["T0105", "店", "西溪路", "餐饮", "xc", "g1"], ["T0106", "店", "西溪路", "餐饮", "xc", "nogrid"]),
        (["T0107", "店", "西溪路", "餐饮", "xc", "文三一网格"], ["T0108", "店", "西溪路", "餐饮", "xc", "无此网格"]),
        (["T0109", "店", "西溪路", "餐饮", "", "g1"], ["T0110", "店", "西溪路", "餐饮", "", "nogrid"]),
        (["T0111", "店", "西溪路", "餐饮", "", "文三一网格"], ["T0112", "店", "西溪路", "餐饮", "", "无此网格"]),
    ]
    rows = [IMPORT_HEADER] + [row for pair in pairs for row in pair]
    rows.append(["S0002", "搬来的店", "西溪路", "餐饮", "xc", "xg"])  # a code minglou's shop has
    rows.append(["T0001", "西溪茶馆", "西溪路", "餐饮", "xc", "xg"])  # sun's own shop: updated as ever
    resp = client.post(
        "/api/office/import?dry_run=1", content=csv_bytes(rows), headers={**d.sun, "Content-Type": "text/csv"}
    )
    assert resp.status_code == 202, resp.text
    job = resp.json()["job"]
    report = wait_until(lambda: (r := d.get(f"/api/office/import/{job}", d.sun))["status"] != "running" and r)
    errors = {e["line"]: e for e in report["errors"]}
    for n, (foreign, unknown) in enumerate(pairs):
        line = 2 + 2 * n
        assert line in errors and line + 1 in errors, (foreign, unknown, report["errors"])
        one, other = dict(errors[line]), dict(errors[line + 1])
        assert one.pop("line") + 1 == other.pop("line")
        for a, b in zip(foreign[4:], unknown[4:], strict=True):
            if a != b:
                one["reason"] = one["reason"].replace(a, "NAME")
                other["reason"] = other["reason"].replace(b, "NAME")
        assert one == other, (foreign, unknown)
    taken = errors[2 + 2 * len(pairs)]
    assert taken["field"] == "code", taken
    assert taken["reason"] == "店铺编号 S0002 已被登记。shop S0002: code already registered", taken
    assert report["updated"] == 1 and report["refused"] == 2 * len(pairs) + 1, report
    assert "outside" not in str(report) and "minglou" not in str(report), report
    # Created (on a dry run, planned) as an unknown name would be: in xihu, by the name the row gave.
    created = client.post(
        "/api/office/import?dry_run=1&create=1",
        content=csv_bytes([IMPORT_HEADER, ["T0201", "店", "西溪路", "餐饮", "文三社区", "文三一网格"]]),
        headers={**d.sun, "Content-Type": "text/csv"},
    ).json()["job"]
    report = wait_until(lambda: (r := d.get(f"/api/office/import/{created}", d.sun))["status"] != "running" and r)
    assert (report["created"], report["communities_created"], report["errors"]) == (1, ["文三社区"], []), report
    # Another sub-district's office reads another's import job as one that is not there.
    assert (
        client.get(f"/api/office/import/{job}", headers=d.zhao).json()
        == client.get("/api/office/import/01J00000000000000000000000", headers=d.zhao).json()
    )
