"""The simulated merchant keeps shelf locations as a Square catalog custom attribute: one
STRING CUSTOM_ATTRIBUTE_DEFINITION named "Shelf", made in the Dashboard, and its value on most
ITEM_VARIATIONs wherever the catalog returns them."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from sandbox.square.catalog import Catalog
from tests.live_server import serve
from tests.square_support import TOKEN, VERSION, dataset, raw_client, simulator

SHOE_42 = "H7CY2PB5WK3XQ9TN6RMZ4LDV"  # SHOE-TRAIL-42, on shelf E-05-3
SHOE_43_SKU = "SHOE-TRAIL-43"  # a variation the merchant has not given a shelf
SOCK_ITEM = "2XQKBYV6TM4ZLPFH7NC3R5WD"
SHELF = re.compile(r"^[A-H]-(0[1-9]|1[0-9]|20)-[1-5]$")


async def shelf_definition(client: httpx.AsyncClient) -> dict[str, Any]:
    body = await client.get("/v2/catalog/list", params={"types": "CUSTOM_ATTRIBUTE_DEFINITION"})
    objects = body.json()["objects"]
    assert len(objects) == 1
    return dict(objects[0])


async def variation_by_sku(client: httpx.AsyncClient, sku: str) -> dict[str, Any]:
    query = {"exact_query": {"attribute_name": "sku", "attribute_value": sku}}
    body = {"object_types": ["ITEM_VARIATION"], "query": query}
    objects = (await client.post("/v2/catalog/search", json=body)).json()["objects"]
    return dict(objects[0])


async def test_given_the_merchants_shelf_attribute_then_list_and_search_return_its_definition() -> (
    None
):
    async with raw_client(simulator()) as client:
        listed = await shelf_definition(client)
        searched = await client.post(
            "/v2/catalog/search", json={"object_types": ["CUSTOM_ATTRIBUTE_DEFINITION"]}
        )
        retrieved = await client.post(
            "/v2/catalog/batch-retrieve", json={"object_ids": [listed["id"]]}
        )
        default = (await client.get("/v2/catalog/list")).json()

    assert listed["type"] == "CUSTOM_ATTRIBUTE_DEFINITION"
    data = listed["custom_attribute_definition_data"]
    assert data["type"] == "STRING"
    assert data["name"] == "Shelf"
    assert data["allowed_object_types"] == ["ITEM_VARIATION"]
    # Made in the Dashboard: Square is the defining application and the key is a UUID.
    assert data["source_application"] == {"application_id": "Square"}
    assert re.fullmatch(r"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}", data["key"])
    assert searched.json()["objects"] == [listed]
    assert retrieved.json()["objects"] == [listed]
    # Without types, ListCatalog keeps to CATEGORY and ITEM, as before.
    assert {o["type"] for o in default["objects"]} <= {"CATEGORY", "ITEM"}


async def test_a_variation_carries_its_shelf_under_the_qualified_key_in_every_answer() -> None:
    async with raw_client(simulator()) as client:
        definition = await shelf_definition(client)
        searched = await variation_by_sku(client, "SHOE-TRAIL-42")
        retrieved = await client.post("/v2/catalog/batch-retrieve", json={"object_ids": [SHOE_42]})
        items = (await client.get("/v2/catalog/list", params={"types": "ITEM"})).json()
        variations = await client.get("/v2/catalog/list", params={"types": "ITEM_VARIATION"})

    key = f"Square:{definition['custom_attribute_definition_data']['key']}"
    expected = {
        key: {
            "name": "Shelf",
            "string_value": "E-05-3",
            "custom_attribute_definition_id": definition["id"],
            "type": "STRING",
            "key": key,
        }
    }
    assert searched["custom_attribute_values"] == expected
    assert retrieved.json()["objects"][0]["custom_attribute_values"] == expected
    listed = next(o for o in variations.json()["objects"] if o["id"] == SHOE_42)
    assert listed["custom_attribute_values"] == expected
    sock = next(o for o in items["objects"] if o["id"] == SOCK_ITEM)
    nested = sock["item_data"]["variations"][0]["custom_attribute_values"][key]
    assert nested["string_value"] == "A-13-3"
    # The values live on the variation, not its ITEM, and prices are untouched.
    assert "custom_attribute_values" not in sock
    assert searched["item_variation_data"]["price_money"] == {"amount": 12900, "currency": "EUR"}


async def test_a_variation_without_a_shelf_has_no_custom_attribute_values() -> None:
    async with raw_client(simulator()) as client:
        shoe_43 = await variation_by_sku(client, SHOE_43_SKU)
    assert "custom_attribute_values" not in shoe_43


def test_shelves_are_aisle_bay_level_on_about_nine_variations_in_ten_and_stable() -> None:
    catalog, again = Catalog(dataset()), Catalog(dataset())
    shelves = {v.sku: catalog.shelf(v) for v in catalog.variations.values()}
    given = [shelf for shelf in shelves.values() if shelf is not None]
    assert all(SHELF.match(shelf) for shelf in given)
    assert 0.8 <= len(given) / len(shelves) <= 0.95
    assert shelves == {v.sku: again.shelf(v) for v in again.variations.values()}


def test_the_official_squareup_sdk_reads_the_definition_and_a_variations_shelf() -> None:
    square = pytest.importorskip("square")
    with serve(simulator()) as url:
        client = square.Square(base_url=url, token=TOKEN, version=VERSION)
        definitions = list(client.catalog.list(types="CUSTOM_ATTRIBUTE_DEFINITION"))
        query = {"exact_query": {"attribute_name": "sku", "attribute_value": "SHOE-TRAIL-42"}}
        found = client.catalog.search(object_types=["ITEM_VARIATION"], query=query)
        batch = client.catalog.batch_get(object_ids=[SHOE_42])

    (definition,) = definitions
    data = definition.custom_attribute_definition_data
    assert definition.type == "CUSTOM_ATTRIBUTE_DEFINITION"
    assert data is not None and data.name == "Shelf" and data.type == "STRING"
    assert data.allowed_object_types == ["ITEM_VARIATION"]
    for answer in (found, batch):
        (variation,) = answer.objects or []
        assert variation.type == "ITEM_VARIATION"
        values = variation.custom_attribute_values or {}
        shelf = values[f"Square:{data.key}"]
        assert shelf.name == "Shelf" and shelf.string_value == "E-05-3"
        assert shelf.custom_attribute_definition_id == definition.id
