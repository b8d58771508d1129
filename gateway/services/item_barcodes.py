"""Giving an item a barcode: an internal Code 128 code for an item its vendor gave none,
or a code the caller names, written to the ERP item's barcode table through the outbox.

A code names one item everywhere. Before anything is recorded the ERP's barcode table is
asked afresh (every equivalent form of a GTIN), and the gateway's own table of assigned
codes is claimed in the mutation's transaction, so two requests, on two processes, giving
one code to two items cannot both win: the second is BARCODE_CONFLICT, as is a code the
ERP already has on another item. Giving an item a code it has already is no change.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from gateway.barcodes import equivalent_forms, internal_code, validate_assignable
from gateway.config import BarcodeSettings
from gateway.domain.outbox import AddItemBarcode
from gateway.errors import BadUserInput, BarcodeConflict, NotFound
from gateway.ports import ErpPort, UnitOfWork
from gateway.services.commands import Command, Commands


@dataclass(frozen=True, slots=True)
class AssignedBarcode:
    sku: str
    code: str
    written: bool  # already in the ERP's barcode table


class ItemBarcodes:
    def __init__(self, commands: Commands, erp: ErpPort, settings: BarcodeSettings) -> None:
        """``erp``: the adapter itself, not the cache: a uniqueness check must not answer
        from a copy, nor leave "no such code" cached for the code about to be written."""
        self._commands = commands
        self._erp = erp
        self._settings = settings

    async def assign(self, sku: str, code: str | None, key: str) -> AssignedBarcode:
        wanted = (
            internal_code(sku, self._settings.internal_prefix)
            if code is None
            else validate_assignable(code)
        )

        async def load(uow: UnitOfWork, assigned_code: str) -> AssignedBarcode:
            holder = await uow.barcodes.holder(assigned_code) or sku
            return AssignedBarcode(holder, assigned_code, written=False)

        command = Command(
            "assignBarcode",
            key,
            {"sku": sku, "code": code},
            wanted,
            load,
            skus=lambda _: (),  # no stock figure moves
        )
        item = (await self._erp.items_by_sku([sku])).get(sku)
        if item is None:
            raise NotFound(f"No product with SKU {sku!r}", sku=sku)
        # A retry gets the first answer, as it is now (written once the worker wrote it).
        replayed = await self._commands.replayed(command)
        if replayed is not None:
            return replace(replayed, written=replayed.code in item.barcodes)
        if wanted in item.barcodes:
            return AssignedBarcode(sku, wanted, written=True)
        if code is None and item.barcodes:
            raise BadUserInput(
                f"{sku} has barcodes already ({', '.join(item.barcodes)}); name a code to add "
                "another",
                field="code",
            )
        for form in equivalent_forms(wanted) if wanted.isdigit() else [wanted]:
            holder = await self._erp.sku_for_barcode(form)
            if holder is not None and holder != sku:
                raise _conflict(wanted, holder)

        async def change(uow: UnitOfWork, now: datetime) -> AssignedBarcode:
            holder = await uow.barcodes.claim(wanted, sku, now)
            if holder != sku:
                raise _conflict(wanted, holder)
            message = AddItemBarcode(
                ordering_key=f"item:{sku}", reference=f"barcode:{wanted}", sku=sku, barcode=wanted
            )
            await uow.outbox.add([message], now)
            return AssignedBarcode(sku, wanted, written=False)

        return await self._commands.run(command, change)


def _conflict(code: str, holder: str) -> BarcodeConflict:
    return BarcodeConflict(f"Barcode {code} names {holder} already", barcode=code, sku=holder)
