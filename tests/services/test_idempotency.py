"""The same idempotency key never makes a second hold; a reused key is refused."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from gateway.domain import Channel
from gateway.domain.reservations import ReservationLine, ReservationStatus
from gateway.errors import IdempotencyKeyReused
from gateway.persistence.reservations import reservations
from gateway.services.reservations import ReserveRequest

SHOE = "SHOE-42"
CENTRAL_SHOES = 8


def request(quantity=3, ttl=600):
    return ReserveRequest((ReservationLine(SHOE, quantity),), "WH-CENTRAL", Channel.ONLINE, ttl)


async def count_reservations(world) -> int:
    async with world.db.transaction() as conn:
        return (await conn.execute(select(func.count()).select_from(reservations))).scalar_one()


async def test_given_a_retried_reserve_then_it_returns_the_first_reservation_and_holds_once(
    world,
):
    first = await world.services.reservations.reserve(request(3), "key-1")
    again = await world.services.reservations.reserve(request(3), "key-1")
    assert again.id == first.id
    assert await count_reservations(world) == 1
    assert await world.atp(SHOE, "WH-CENTRAL") == CENTRAL_SHOES - 3


async def test_given_a_used_key_when_the_request_differs_then_it_is_refused(world):
    await world.services.reservations.reserve(request(3), "key-1")
    with pytest.raises(IdempotencyKeyReused) as refused:
        await world.services.reservations.reserve(request(4), "key-1")
    assert refused.value.code == "IDEMPOTENCY_KEY_REUSED"
    assert await world.atp(SHOE, "WH-CENTRAL") == CENTRAL_SHOES - 3


async def test_given_a_reserve_key_when_used_for_another_mutation_then_it_is_refused(world):
    held = await world.services.reservations.reserve(request(3), "key-1")
    with pytest.raises(IdempotencyKeyReused):
        await world.services.reservations.confirm(held.id, "key-1")
    assert (await world.services.reservations.get(held.id)).status is ReservationStatus.ACTIVE


async def test_given_concurrent_duplicates_with_one_key_then_exactly_one_hold_is_taken(world):
    results = await asyncio.gather(
        *(world.services.reservations.reserve(request(2), "key-burst") for _ in range(8))
    )
    assert len({r.id for r in results}) == 1
    assert await count_reservations(world) == 1
    assert await world.atp(SHOE, "WH-CENTRAL") == CENTRAL_SHOES - 2


async def test_given_a_retried_extend_then_the_expiry_moves_only_once(world):
    held = await world.services.reservations.reserve(request(1, ttl=60), "key-1")
    first = await world.services.reservations.extend(held.id, 600, "key-2")
    world.clock.advance(30)
    again = await world.services.reservations.extend(held.id, 600, "key-2")
    assert again.expires_at == first.expires_at
    with pytest.raises(IdempotencyKeyReused):
        await world.services.reservations.extend(held.id, 900, "key-2")


async def test_given_a_retried_confirm_then_the_source_is_written_once(world):
    held = await world.services.reservations.reserve(request(3), "key-1")
    await asyncio.gather(*(world.services.reservations.confirm(held.id, "key-2") for _ in range(4)))
    await world.services.reservations.confirm(held.id, "key-3")  # a new key, already done
    await world.services.worker.drain()
    assert len(world.erp.sales_orders) == 1
    assert len(await world.deliveries(held.id)) == 1
    assert world.erp.bins[(SHOE, "Central - NTR")] == (10, 2 + 3)
