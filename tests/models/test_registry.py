"""Registry documents: a shop lives in its own partition, communities and grids in `district`."""

from __future__ import annotations

from typing import Any

import pydantic
import pytest

from server.models import Grid, Shop, parse_doc, reason_of, shop_doc_id
from tests.models.examples import assert_round_trip


def shop() -> dict[str, Any]:
    return {
        "_id": "S0001:shop:S0001",
        "type": "shop",
        "schema": 1,
        "code": "S0001",
        "name": "老王面馆",
        "address": "杭州市西湖区文三路 128 号",
        "category": "restaurant",
        "community": "wensan",
        "grid": "wensan-03",
        "status": "active",
        "owner_activated": False,
    }


def community() -> dict[str, Any]:
    return {
        "_id": "registry:community:wensan",
        "type": "community",
        "schema": 1,
        "code": "wensan",
        "name": "文三社区",
        "subdistrict": "xixi",
    }


def grid() -> dict[str, Any]:
    return {
        "_id": "registry:grid:wensan-03",
        "type": "grid",
        "schema": 1,
        "code": "wensan-03",
        "name": "文三社区第三网格",
        "community": "wensan",
        "workers": ["zhou", "li.na"],
    }


@pytest.mark.parametrize("make", [shop, community, grid])
def test_registry_documents_round_trip(make: Any) -> None:
    assert_round_trip(make())


def test_a_shop_document_is_in_the_shops_partition() -> None:
    model = parse_doc(shop())
    assert isinstance(model, Shop)
    assert model.partition == model.code == "S0001" and model.id == shop_doc_id("S0001")


def test_grid_workers_are_user_ids() -> None:
    model = parse_doc(grid())
    assert isinstance(model, Grid) and model.worker_ids == ("grid:zhou", "grid:li.na")


@pytest.mark.parametrize(
    ("doc", "reason"),
    [
        (shop() | {"_id": "S0002:shop:S0001"}, "_id must be S0001:shop:S0001"),
        (shop() | {"_id": "district:shop:S0001"}, "_id must be S0001:shop:S0001"),
        (shop() | {"status": "suspended"}, "status: input should be 'active' or 'closed'"),
        (shop() | {"owner_activated": "yes"}, "owner_activated: must be true or false"),
        (shop() | {"name": ""}, "name"),
        (shop() | {"code": "district", "_id": "district:shop:district"}, "reserved"),
        (community() | {"_id": "registry:community:other"}, "_id must be registry:community:wensan"),
        (grid() | {"workers": ["zhou", "zhou"]}, "a username appears twice"),
        (grid() | {"workers": ["Zhou Wei"]}, "workers[0]: must be a username"),
    ],
)
def test_broken_registry_documents_are_refused(doc: dict[str, Any], reason: str) -> None:
    with pytest.raises(pydantic.ValidationError) as info:
        parse_doc(doc)
    assert reason in reason_of(info.value)
