"""SquareAdapter reads where a SKU sits on the shop floor from the merchant's catalog custom
attribute (named "Shelf" unless configured otherwise) into ``PosVariation.shelf``."""

from __future__ import annotations

from typing import Any

import httpx

from adapters.square import SquareAdapter, build_square_client
from tests.square_support import adapter_client, contract, settings, simulator


async def test_given_the_simulated_catalog_then_a_sku_has_its_shelf_and_one_without_has_none() -> (
    None
):
    async with adapter_client(simulator()) as client:
        found = await SquareAdapter(client).variations_by_sku(["SHOE-TRAIL-42", "SHOE-TRAIL-43"])

    assert found["SHOE-TRAIL-42"].shelf == "E-05-3"
    assert found["SHOE-TRAIL-43"].shelf is None


async def test_given_another_attribute_name_configured_then_no_shelf_is_found() -> None:
    async with adapter_client(simulator()) as client:
        adapter = SquareAdapter(client, shelf_attribute="Bin location")
        found = await adapter.variations_by_sku(["SHOE-TRAIL-42"])

    assert found["SHOE-TRAIL-42"].shelf is None


def with_custom_attributes(values: dict[str, Any]) -> dict[str, Any]:
    answer = contract("catalog.search")["response"]["body"]
    answer["objects"][0]["custom_attribute_values"] = values
    return dict(answer)


def value(uuid: str, name: str, **typed: Any) -> tuple[str, dict[str, Any]]:
    key = f"Square:{uuid}"  # defined in the Dashboard, read by another application
    return key, {
        "name": name,
        "custom_attribute_definition_id": f"DEF{uuid[:4]}",
        "key": key,
        **typed,
    }


async def shelf_of(client: httpx.AsyncClient, **knobs: Any) -> str | None:
    found = await SquareAdapter(client, **knobs).variations_by_sku(["SHOE-TRAIL-42"])
    return found["SHOE-TRAIL-42"].shelf


async def test_the_shelf_is_found_by_name_whatever_the_accounts_key_and_beside_other_values() -> (
    None
):
    # Each account's Dashboard gives the definition its own UUID key; only the name is stable.
    answer = with_custom_attributes(
        dict(
            [
                value(
                    "0b7e6a52-4c1d-4f0e-9a37-5d2c8e1f6a90",
                    "Brand",
                    type="STRING",
                    string_value="Trailhead",
                ),
                value(
                    "7f3d2c1b-8e9a-4b5c-a6d7-e8f9a0b1c2d3",
                    "Aisle",
                    type="STRING",
                    string_value=" B-04-1 ",
                ),
                value(
                    "c4d5e6f7-0a1b-4c2d-8e3f-9a0b1c2d3e4f",
                    "Fragile",
                    type="BOOLEAN",
                    boolean_value=True,
                ),
            ]
        )
    )
    transport = httpx.MockTransport(lambda _: httpx.Response(200, json=answer))
    async with build_square_client(settings(), transport=transport) as client:
        configured = await shelf_of(client, shelf_attribute="Aisle")
        default = await shelf_of(client)

    assert configured == "B-04-1"
    assert default is None  # no attribute named "Shelf" on this account
