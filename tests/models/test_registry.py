"""Registry documents: a shop lives in its own partition, communities and grids in `district`."""

from __future__ import annotations

from typing import Any

import pydantic
import pytest

from server.models import Grid, Shop, parse_doc, reason_of, shop_doc_id
from server.models.registry import clean_phone
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


# ----- the shop's contact: its responsible person (负责人) and phone -----


@pytest.mark.parametrize(
    "contact",
    [
        {"name": "王建国", "phone": "13800138000"},
        {"name": "王建国", "phone": "138 0013 8000"},
        {"name": None, "phone": "+86 138-0013-8000"},
        {"name": "王建国", "phone": "0571-88001234"},
        {"name": "王建国", "phone": "0571-88001234-802"},
        {"name": "王建国", "phone": None},
        {"name": "Li Wei", "phone": "8800123"},
    ],
)
def test_a_shop_registers_its_responsible_person_and_phone(contact: dict[str, Any]) -> None:
    model = assert_round_trip(shop() | {"contact": contact})
    assert isinstance(model, Shop) and model.contact is not None
    assert model.to_doc()["contact"] == contact


def test_a_shop_registered_before_contacts_is_valid_and_has_none() -> None:
    model = parse_doc(shop())  # no `contact` key: every document stored by an earlier release
    assert isinstance(model, Shop) and model.contact is None
    assert parse_doc(shop() | {"contact": None}) == model


@pytest.mark.parametrize(
    ("contact", "reason"),
    [
        ({"phone": "请打店主手机"}, "contact.phone: must be a phone number of 7 to 20 digits"),
        ({"phone": "138001"}, "contact.phone: must be a phone number"),  # six digits
        ({"phone": "1" * 21}, "contact.phone: must be a phone number"),
        ({"phone": "13800138000 / 13900139000"}, "contact.phone: must be a phone number"),
        ({"phone": "13800138000x"}, "contact.phone: must be a phone number"),
        ({"phone": "-13800138000"}, "contact.phone: must be a phone number"),
        ({"phone": "=HYPERLINK(1)"}, "contact.phone: must be a phone number"),
        ({"phone": "１３８００１３８０００"}, "contact.phone: must be a phone number"),  # stored plain (clean_phone)
        ({"phone": 13800138000}, "contact.phone: must be a string"),
        ({"phone": "1" * 7 + " " * 30}, "contact.phone: string should have at most 32 characters"),
        ({"name": "", "phone": "13800138000"}, "contact.name"),
        ({"name": "王" * 51}, "contact.name: string should have at most 50 characters"),
        ({}, "a name or a phone is needed"),
        ({"name": None, "phone": None}, "a name or a phone is needed"),
        ({"name": "王建国", "wechat": "wjg"}, "contact.wechat: unknown field"),
        ("王建国 13800138000", "contact: must be a JSON object"),
    ],
)
def test_a_contact_that_is_no_person_or_phone_is_refused(contact: Any, reason: str) -> None:
    with pytest.raises(pydantic.ValidationError) as info:
        parse_doc(shop() | {"contact": contact})
    assert reason in reason_of(info.value)


def test_a_phone_as_typed_or_pasted_is_made_plain() -> None:
    assert clean_phone(" １３８　００１３　８０００ ") == "138 0013 8000"  # full-width, as a Chinese IME types it
    assert clean_phone("0571\u20148800\u22121234") == "0571-8800-1234"  # an em dash and a minus sign
    assert clean_phone("＋86  138\t0013 8000") == "+86 138 0013 8000"
    assert clean_phone("") == ""
