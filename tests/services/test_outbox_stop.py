"""A worker told to stop (``commerce-gateway worker`` on SIGTERM) finishes the delivery in
hand, records what the backend answered, and claims nothing more."""

from __future__ import annotations

import asyncio

from gateway.domain import Channel
from gateway.domain.outbox import DeliveryStatus
from gateway.domain.reservations import ReservationLine
from gateway.services.reservations import ReserveRequest

SHOE = "SHOE-42"


async def confirmed_hold(world, quantity):
    request = ReserveRequest((ReservationLine(SHOE, quantity),), "WH-CENTRAL", Channel.ONLINE, 600)
    held = await world.services.reservations.reserve(request, f"reserve-{quantity}")
    await world.services.reservations.confirm(held.id, f"confirm-{quantity}")
    return held


async def test_a_stopped_worker_records_the_write_in_hand_and_claims_nothing_more(world):
    # Given a Sales Order on its way to an ERP that has not answered yet
    asked, answer = asyncio.Event(), asyncio.Event()
    submit = world.erp.submit_sales_order

    async def slow_submit(draft):
        asked.set()
        await answer.wait()
        return await submit(draft)

    world.erp.submit_sales_order = slow_submit
    first = await confirmed_hold(world, 3)
    running = asyncio.create_task(world.services.worker.run_forever(idle_seconds=0.05))
    await asyncio.wait_for(asked.wait(), 5)

    # When the worker is told to stop, another write is owed, and then the ERP answers
    world.services.worker.stop()
    second = await confirmed_hold(world, 2)
    answer.set()
    await asyncio.wait_for(running, 5)

    # Then the write in hand is recorded as delivered (not left leased for a minute),
    [delivered] = await world.deliveries(first.id)
    assert delivered.status is DeliveryStatus.DELIVERED
    assert len(world.erp.sales_orders) == 1
    # and the one owed after the stop was never claimed: the next worker sends it.
    [waiting] = await world.deliveries(second.id)
    assert (waiting.status, waiting.attempts) == (DeliveryStatus.PENDING, 0)


async def test_an_idle_worker_stops_at_once(world):
    running = asyncio.create_task(world.services.worker.run_forever(idle_seconds=30))
    await asyncio.sleep(0.05)  # waiting for work, 30 s before its next look
    world.services.worker.stop()
    await asyncio.wait_for(running, 1)
