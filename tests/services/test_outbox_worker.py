"""Writes owed to backends: retried while the backend is down, dead-lettered when it
refuses, revived by an operator, and delivered in order per reservation or order."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import insert

from gateway.domain import Channel
from gateway.domain.outbox import DeliveryStatus
from gateway.domain.reservations import ReservationLine
from gateway.errors import BackendRejected, BackendUnavailable, NotFound
from gateway.persistence.outbox import outbox as outbox_rows
from gateway.services.commands import Commands
from gateway.services.outbox.admin import OutboxAdmin
from gateway.services.reservations import ReserveRequest

SHOE = "SHOE-42"


def down():
    return BackendUnavailable("ERPNext answered 503", backend="erpnext", status=503)


def refused():
    return BackendRejected("Customer is disabled", backend="erpnext", status=417)


async def confirmed_hold(world, quantity=3):
    request = ReserveRequest((ReservationLine(SHOE, quantity),), "WH-CENTRAL", Channel.ONLINE, 600)
    held = await world.services.reservations.reserve(request, f"reserve-{quantity}")
    await world.services.reservations.confirm(held.id, f"confirm-{quantity}")
    return held


async def test_a_backend_that_is_down_is_retried_with_growing_delays_then_delivered(world):
    world.erp.writes.fail(down(), times=2)
    held = await confirmed_hold(world)

    await world.services.worker.drain()
    [first] = await world.deliveries(held.id)
    assert (first.status, first.attempts) == (DeliveryStatus.PENDING, 1)
    assert "503" in first.last_error
    first_delay = first.next_attempt_at - world.clock.now()

    await world.services.worker.drain()  # not due yet: nothing is attempted
    assert world.erp.calls["submit_sales_order"] == 1

    world.clock.advance(first_delay.total_seconds())
    await world.services.worker.drain()
    [second] = await world.deliveries(held.id)
    assert (second.status, second.attempts) == (DeliveryStatus.PENDING, 2)
    second_delay = second.next_attempt_at - world.clock.now()
    assert second_delay > first_delay

    world.clock.advance(second_delay.total_seconds())
    await world.services.worker.drain()
    [done] = await world.deliveries(held.id)
    assert done.status is DeliveryStatus.DELIVERED
    assert world.erp.calls["submit_sales_order"] == 3
    assert len(world.erp.sales_orders) == 1  # three attempts, one Sales Order
    assert await world.services.outbox.failures(10) == []


async def test_a_refused_write_goes_dead_at_once_and_is_delivered_after_a_retry(world):
    world.erp.writes.fail(refused())
    held = await confirmed_hold(world)
    await world.services.worker.drain()

    [dead] = await world.services.outbox.failures(10)
    assert (dead.status, dead.attempts, dead.message.ordering_key) == (
        DeliveryStatus.DEAD,
        1,
        held.id,
    )
    assert "Customer is disabled" in dead.last_error
    assert world.erp.calls["submit_sales_order"] == 1  # refused once, not hammered

    # Until someone fixes it, the hold still keeps its units out of ATP.
    assert await world.atp(SHOE, "WH-CENTRAL") == 8 - 3

    world.erp.writes.heal()
    revived = await world.services.outbox.retry(dead.id, "retry-1")
    assert (revived.status, revived.attempts) == (DeliveryStatus.PENDING, 0)
    await world.services.worker.drain()
    assert await world.services.outbox.failures(10) == []
    assert [d.status for d in await world.deliveries(held.id)] == [DeliveryStatus.DELIVERED]
    assert len(world.erp.sales_orders) == 1
    assert await world.atp(SHOE, "WH-CENTRAL") == 8 - 3


async def test_retrying_an_unknown_delivery_is_not_found_and_a_repeat_is_harmless(world):
    with pytest.raises(NotFound):
        await world.services.outbox.retry(999, "retry-x")
    world.erp.writes.fail(refused())
    held = await confirmed_hold(world)
    await world.services.worker.drain()
    [dead] = await world.services.outbox.failures(10)
    world.erp.writes.heal()
    await world.services.outbox.retry(dead.id, "retry-1")
    again = await world.services.outbox.retry(dead.id, "retry-1")
    assert again.status is DeliveryStatus.PENDING
    await world.services.worker.drain()
    assert [d.attempts for d in await world.deliveries(held.id)] == [1]


async def test_messages_of_one_reservation_never_overtake_each_other(world):
    # Given a Sales Order that cannot be posted yet, and its cancellation queued behind it
    world.erp.writes.fail(down(), times=1)
    held = await confirmed_hold(world)
    await world.services.worker.drain()
    await world.services.reservations.release(held.id, "release-1")
    await world.services.worker.drain()
    # Then the cancellation waits: it was never tried before the order exists
    submit, cancel = await world.deliveries(held.id)
    assert submit.status is DeliveryStatus.PENDING
    assert (cancel.status, cancel.attempts) == (DeliveryStatus.PENDING, 0)
    assert world.erp.calls["cancel_sales_order"] == 0

    world.clock.advance(60)
    await world.services.worker.drain()
    submit, cancel = await world.deliveries(held.id)
    assert submit.status is cancel.status is DeliveryStatus.DELIVERED
    assert submit.delivered_at <= cancel.delivered_at
    [(so, _)] = world.erp.sales_orders.values()
    assert so.status == "Cancelled"
    assert world.erp.bins[(SHOE, "Central - NTR")] == (10, 2)


async def test_a_dead_message_holds_back_the_rest_of_its_key_but_not_other_keys(world):
    world.erp.writes.fail(refused(), times=1)
    stuck = await confirmed_hold(world, quantity=1)
    await world.services.worker.drain()
    await world.services.reservations.release(stuck.id, "release-1")
    other = await confirmed_hold(world, quantity=2)
    await world.services.worker.drain()
    assert [d.status for d in await world.deliveries(stuck.id)] == [
        DeliveryStatus.DEAD,
        DeliveryStatus.PENDING,
    ]
    assert [d.status for d in await world.deliveries(other.id)] == [DeliveryStatus.DELIVERED]


async def test_the_retry_budget_ends_in_the_dead_letter_list(make_world):
    world = await make_world(outbox_max_attempts=3)
    world.erp.writes.fail(down())
    held = await confirmed_hold(world)
    for _ in range(5):
        await world.services.worker.drain()
        world.clock.advance(3600)
    [dead] = await world.services.outbox.failures(10)
    assert (dead.message.ordering_key, dead.attempts, dead.status) == (
        held.id,
        3,
        DeliveryStatus.DEAD,
    )
    assert world.erp.calls["submit_sales_order"] == 3


async def test_a_late_failure_report_does_not_undo_a_delivery_completed_meanwhile(world):
    # Given a message a slow worker leased, whose lease ran out, and that a second worker
    # then claimed and delivered
    held = await confirmed_hold(world)
    async with world.uow() as uow:
        [slow] = await uow.outbox.claim_due(
            now=world.clock.now(), lease=timedelta(seconds=1), limit=10
        )
        await uow.commit()
    world.clock.advance(2)
    await world.services.worker.drain()
    # When the slow worker finally reports its timeout
    async with world.uow() as uow:
        await uow.outbox.mark_failed(slow.id, "ReadTimeout", retry_at=None)
        await uow.commit()
    # Then the message stays delivered and is not in the dead-letter list
    [delivery] = await world.deliveries(held.id)
    assert delivery.status is DeliveryStatus.DELIVERED
    assert await world.services.outbox.failures(10) == []


async def test_reviving_a_dead_delivery_wakes_the_worker_and_drops_cached_answers(world):
    world.erp.writes.fail(refused())
    await confirmed_hold(world)
    await world.services.worker.drain()
    [dead] = await world.services.outbox.failures(10)
    woken, changed = [], []

    async def on_change(skus):
        changed.append(list(skus))

    commands = Commands(world.uow, world.clock, on_change, lambda: woken.append(True))
    admin = OutboxAdmin(world.uow, commands)
    await admin.retry(dead.id, "retry-1")
    assert woken == [True] and changed == [[]]
    assert await admin.failures(10) == []


async def test_a_row_that_reads_as_no_message_is_dead_lettered_with_the_reason(world):
    # Given an outbox row no handler can read (another version wrote it, or a person edited
    # it), owed before an ordinary write of another order
    async with world.db.transaction() as conn:
        await conn.execute(
            insert(outbox_rows).values(
                ordering_key="ord_unknown",
                target="OMS",
                operation="oms.teleport",
                reference="ord_unknown:teleport",
                payload={"to": "moon"},
                status=DeliveryStatus.PENDING,
                attempts=0,
                next_attempt_at=world.clock.now(),
                created_at=world.clock.now(),
            )
        )
    held = await confirmed_hold(world)
    # When the worker runs
    await world.services.worker.drain()
    # Then the unreadable row is dead at once, saying why and showing what it holds,
    [dead] = await world.services.outbox.failures(10)
    assert (dead.message.kind, dead.attempts) == ("oms.teleport", 1)
    assert "reads as no message" in dead.last_error and dead.message.payload() == {"to": "moon"}
    # and the other order's write went out as usual.
    assert [d.status for d in await world.deliveries(held.id)] == [DeliveryStatus.DELIVERED]
