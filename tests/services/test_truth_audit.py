"""The audit trail records every stock write the gateway makes in the same transaction as
the change: a crash between the two loses neither, and a redelivery records it once. On
SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from gateway.domain import Channel
from gateway.domain.reservations import ReservationLine
from gateway.domain.truth import AuditKind
from gateway.persistence.outbox import SqlOutbox
from gateway.services.reservations import ReserveRequest

SHOE = "SHOE-42"


async def trail(world, kind: AuditKind):
    async with world.uow() as uow:
        entries, _ = await uow.audit.page(
            sku=SHOE, location_id=None, start=None, end=None, kinds=[kind], first=50, after=None
        )
    return entries


async def test_a_crash_between_a_write_and_its_record_loses_no_audit_entry(world, monkeypatch):
    request = ReserveRequest((ReservationLine(SHOE, 2),), "WH-CENTRAL", Channel.ONLINE, 600)
    held = await world.services.reservations.reserve(request, "a-reserve")
    await world.services.reservations.confirm(held.id, "a-confirm")

    # Given the ERP accepts the Sales Order but the process dies before the delivery's
    # record commits (here: marking it delivered fails after the audit entry was written),
    async def crash(self, *args, **kwargs):
        raise RuntimeError("killed")

    monkeypatch.setattr(SqlOutbox, "mark_delivered", crash)
    with pytest.raises(RuntimeError, match="killed"):
        await world.services.worker.run_once()
    # then neither the hold's settlement nor its audit entry is there: both or neither,
    assert await trail(world, AuditKind.STOCK_COMMITTED) == []
    assert (await world.node(SHOE, "WH-CENTRAL")).held == 2  # still the gateway's to count
    # and when the lease runs out and the write is delivered again (the ERP recognises it),
    monkeypatch.undo()
    world.clock.advance(3600)
    await world.services.worker.drain()
    # the entry is recorded exactly once, with what was committed and for whom.
    [entry] = await trail(world, AuditKind.STOCK_COMMITTED)
    assert (entry.system.value, entry.actor, entry.reference) == ("ERP", "gateway", held.id)
    assert entry.after.startswith("+2 reserved by Sales Order")
    assert len(world.erp.sales_orders) == 1


async def test_a_released_hold_and_a_store_sale_are_on_the_trail(world):
    store = ReserveRequest((ReservationLine(SHOE, 1),), "ST-MITTE", Channel.PICKUP, 600)
    held = await world.services.reservations.reserve(store, "b-reserve")
    await world.services.reservations.confirm(held.id, "b-confirm")
    await world.services.worker.drain()
    await world.services.reservations.release(held.id, "b-release")
    await world.services.worker.drain()
    [sold] = await trail(world, AuditKind.STOCK_COMMITTED)
    [back] = await trail(world, AuditKind.STOCK_RELEASED)
    assert (sold.system.value, sold.location_id) == ("POS", "ST-MITTE")
    assert sold.after == "-1 IN_STOCK -> SOLD"
    assert (back.after, back.reference) == ("+1 NONE -> IN_STOCK", held.id)
