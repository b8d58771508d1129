"""Ledger consistency (gateway/truth/ledger_check.py) on SQLite and PostgreSQL: holds the ERP
no longer reserves, reservations the gateway released, each found, proposed a compensation,
compensated through the outbox, and consistent afterwards."""

from __future__ import annotations

from dataclasses import replace

from gateway.domain import Channel
from gateway.domain.outbox import CancelSalesOrder, SubmitSalesOrder
from gateway.domain.reservations import ReservationLine
from gateway.domain.truth import DiscrepancyKind, DiscrepancyStatus, Resolution
from gateway.errors import BackendRejected
from gateway.ports.storage import DiscrepancyFilter
from gateway.services.reservations import ReserveRequest

SHOE = "SHOE-42"
LEDGER = DiscrepancyFilter(kind=DiscrepancyKind.LEDGER_INCONSISTENCY)


async def confirmed(world, key: str):
    request = ReserveRequest((ReservationLine(SHOE, 2),), "WH-CENTRAL", Channel.ONLINE, 600)
    held = await world.services.reservations.reserve(request, f"{key}-reserve")
    await world.services.reservations.confirm(held.id, f"{key}-confirm")
    await world.services.worker.drain()
    return held


async def ledger(world):
    page, _ = await world.services.truth.page(LEDGER, 50, None)
    return page


async def test_a_hold_whose_sales_order_was_cancelled_at_the_erp_is_found_and_compensated(world):
    # Given a confirmed hold whose Sales Order someone then cancelled in ERPNext itself
    held = await confirmed(world, "h1")
    [(name, (so, draft))] = world.erp.sales_orders.items()
    world.erp.sales_orders[name] = (replace(so, docstatus=2, status="Cancelled"), draft)
    # When the ledger is checked,
    report = await world.services.ledger_check.run()
    # then the hold the ERP no longer reserves is an owned inconsistency at its node,
    assert report.opened == 1 and report.findings["held but not reserved"] == 1
    [record] = await ledger(world)
    assert (record.key.sku, record.key.location_id, record.owner) == (
        SHOE,
        "WH-CENTRAL",
        "inventory-control",
    )
    assert f"Sales Order {name}" in record.rule and held.id in record.rule
    # proposing to submit it again,
    [proposal] = record.proposal
    assert isinstance(proposal, SubmitSalesOrder)
    assert proposal.draft.reference == f"{held.id}:again"
    # which resolving it COMPENSATE writes through the outbox.
    resolved = await world.services.truth.resolve(record.id, Resolution.COMPENSATE, None, "c1")
    assert resolved.status is DiscrepancyStatus.RESOLVED
    await world.services.worker.drain()
    reserved = [so for so, d in world.erp.sales_orders.values() if so.docstatus == 1]
    assert [so.reference for so in reserved] == [f"{held.id}:again"]
    # Checked again, the ledger is consistent: nothing new opens.
    again = await world.services.ledger_check.run()
    assert again.opened == 0 and sum(again.findings.values()) == 0


async def test_a_sales_order_the_gateway_released_is_found_and_cancelled(world):
    # Given a hold released while the ERP refused the cancel (dead-lettered), so its Sales
    # Order still reserves stock nobody holds
    held = await confirmed(world, "h2")
    world.erp.writes.fail(BackendRejected("locked", backend="erpnext", status=417))
    await world.services.reservations.release(held.id, "h2-release")
    await world.services.worker.drain()
    world.erp.writes.heal()
    # When the ledger is checked,
    await world.services.ledger_check.run()
    [record] = await ledger(world)
    # then the Sales Order is found, with its cancellation proposed,
    assert "reserved but released" in record.rule
    [cancel] = record.proposal
    assert isinstance(cancel, CancelSalesOrder) and cancel.sales_order is not None
    # and resolving it COMPENSATE cancels it at the ERP.
    await world.services.truth.resolve(record.id, Resolution.COMPENSATE, "ok", "c2")
    await world.services.worker.drain()
    assert all(so.docstatus == 2 for so, _ in world.erp.sales_orders.values())
    again = await world.services.ledger_check.run()
    assert sum(again.findings.values()) == 0


async def test_an_inconsistency_that_ends_by_itself_closes(world):
    held = await confirmed(world, "h3")
    [(name, (so, draft))] = world.erp.sales_orders.items()
    world.erp.sales_orders[name] = (replace(so, docstatus=2, status="Cancelled"), draft)
    await world.services.ledger_check.run()
    # Someone restores it at the ERP (un-cancels: here, the fake's record) ...
    world.erp.sales_orders[name] = (so, draft)
    report = await world.services.ledger_check.run()
    [record] = await ledger_all(world)
    assert report.auto_resolved == 1 and record.status is DiscrepancyStatus.AUTO_RESOLVED
    assert held.id in record.rule


async def ledger_all(world):
    page, _ = await world.services.truth.page(
        replace(LEDGER, status=list(DiscrepancyStatus)), 50, None
    )
    return page
