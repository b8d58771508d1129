"""Giving items barcodes, on SQLite and PostgreSQL: an internal Code 128 code for an item with
none, written to the ERP's barcode table through the outbox; a code another item has, in
the ERP or among the gateway's own assignments, is BARCODE_CONFLICT and records nothing."""

from __future__ import annotations

import asyncio

import pytest

from gateway.domain.outbox import AddItemBarcode
from gateway.errors import BadUserInput, BarcodeConflict, InvalidBarcode, NotFound
from tests.services.world import World


async def test_an_item_without_barcodes_gets_its_internal_code_in_the_erp(world: World):
    # Given a kit its vendor gave no barcode,
    assert world.erp.items["KIT-RUN"].barcodes == ()
    # when a store asks for one,
    assigned = await world.services.item_barcodes.assign("KIT-RUN", None, "bc-1")
    # then it is the prefix and the SKU, owed to the ERP until the worker writes it,
    assert (assigned.code, assigned.written) == ("CG-KIT-RUN", False)
    (delivery,) = await world.deliveries("item:KIT-RUN")
    assert delivery.message == AddItemBarcode(
        ordering_key="item:KIT-RUN",
        reference="barcode:CG-KIT-RUN",
        sku="KIT-RUN",
        barcode="CG-KIT-RUN",
    )
    await world.services.worker.drain()
    assert world.erp.items["KIT-RUN"].barcodes == ("CG-KIT-RUN",)
    # and a scan of it finds the kit (the look-up was not cached as absent).
    assert await world.services.catalog.sku_for_barcode("CG-KIT-RUN") == "KIT-RUN"
    # Asked again with the same key: the same answer, nothing more owed.
    again = await world.services.item_barcodes.assign("KIT-RUN", None, "bc-1")
    assert again.code == "CG-KIT-RUN"
    assert len(await world.deliveries("item:KIT-RUN")) == 1


async def test_a_code_another_item_has_in_the_erp_is_a_conflict(world: World):
    with pytest.raises(BarcodeConflict) as refused:
        await world.services.item_barcodes.assign("KIT-RUN", "4006381333948", "bc-2")
    assert refused.value.details == {"barcode": "4006381333948", "sku": "SHOE-42"}
    # Its GTIN-14 form is the same number: the same conflict.
    with pytest.raises(BarcodeConflict):
        await world.services.item_barcodes.assign("KIT-RUN", "04006381333948", "bc-3")
    assert await world.deliveries("item:KIT-RUN") == []


async def test_two_items_asking_for_one_code_at_once_one_wins(world: World):
    results = await asyncio.gather(
        world.services.item_barcodes.assign("KIT-RUN", "STORE-LABEL-7", "bc-a"),
        world.services.item_barcodes.assign("SOCK-M", "STORE-LABEL-7", "bc-b"),
        return_exceptions=True,
    )
    won = [r for r in results if not isinstance(r, BaseException)]
    lost = [r for r in results if isinstance(r, BaseException)]
    assert len(won) == 1 and len(lost) == 1 and isinstance(lost[0], BarcodeConflict)
    assert lost[0].details["sku"] == won[0].sku
    loser = "SOCK-M" if won[0].sku == "KIT-RUN" else "KIT-RUN"
    assert await world.deliveries(f"item:{loser}") == []


async def test_what_cannot_be_assigned_says_why(world: World):
    with pytest.raises(BadUserInput, match="has barcodes already"):
        await world.services.item_barcodes.assign("SHOE-42", None, "bc-4")
    with pytest.raises(InvalidBarcode) as bad:
        await world.services.item_barcodes.assign("SHOE-42", "caf\u00e9-1", "bc-5")
    assert bad.value.details["reason"] == "NOT_CODE_128"
    with pytest.raises(InvalidBarcode):
        await world.services.item_barcodes.assign("SHOE-42", "4006381333949", "bc-6")  # check
    with pytest.raises(NotFound):
        await world.services.item_barcodes.assign("NOPE", None, "bc-7")
    # A code the item has already: no change.
    same = await world.services.item_barcodes.assign("SHOE-42", "4006381333948", "bc-8")
    assert same.written and await world.deliveries("item:SHOE-42") == []
