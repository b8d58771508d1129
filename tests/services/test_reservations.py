"""Holds on stock over SQLite with a clock the test moves: reserve, extend, confirm,
release, expire, and how each shows in availability to promise."""

from __future__ import annotations

from datetime import timedelta

import pytest

from gateway.domain import Channel
from gateway.domain.outbox import DeliveryStatus
from gateway.domain.reservations import ReservationLine, ReservationStatus
from gateway.errors import BadUserInput, IllegalTransition, InsufficientStock, NotFound
from gateway.services.reservations import ReserveRequest

SHOE, SOCK, KIT = "SHOE-42", "SOCK-M", "KIT-RUN"
# small_retailer: WH-CENTRAL has 10 shoes, 2 reserved at the ERP -> 8 to promise.
CENTRAL_SHOES = 8


def request(quantity=3, sku=SHOE, location="WH-CENTRAL", channel=Channel.ONLINE, ttl=600):
    return ReserveRequest((ReservationLine(sku, quantity),), location, channel, ttl, "cust-1")


async def test_given_a_hold_then_availability_drops_by_it_and_shows_it_as_held(world):
    held = await world.services.reservations.reserve(request(3), "k1")
    assert held.status is ReservationStatus.ACTIVE
    assert held.expires_at == world.clock.now() + timedelta(seconds=600)
    row = await world.node(SHOE, "WH-CENTRAL")
    assert (row.available_to_promise, row.held) == (CENTRAL_SHOES - 3, 3)
    # Other nodes are untouched.
    assert await world.atp(SHOE, "ST-MITTE") == 2


async def test_given_an_active_hold_when_extended_then_it_expires_ttl_from_now(world):
    held = await world.services.reservations.reserve(request(1, ttl=60), "k1")
    world.clock.advance(50)
    extended = await world.services.reservations.extend(held.id, 900, "k2")
    assert extended.expires_at == world.clock.now() + timedelta(seconds=900)
    world.clock.advance(100)  # past the first expiry, within the second
    assert (await world.services.reservations.get(held.id)).status is ReservationStatus.ACTIVE
    assert await world.atp(SHOE, "WH-CENTRAL") == CENTRAL_SHOES - 1


async def test_reserve_confirm_source_write_availability_counts_the_hold_once(world):
    # Given 3 shoes held at a warehouse
    held = await world.services.reservations.reserve(request(3), "k1")
    # When the customer commits
    confirmed = await world.services.reservations.confirm(held.id, "k2")
    assert confirmed.status is ReservationStatus.CONFIRMED
    # Then, before the worker runs, the hold alone keeps the units out of ATP
    assert world.erp.sales_orders == {}
    assert await world.atp(SHOE, "WH-CENTRAL") == CENTRAL_SHOES - 3
    # And once the Sales Order is posted the ERP reserves them and the hold stands down
    await world.services.worker.drain()
    [(so, draft)] = world.erp.sales_orders.values()
    assert so.reference == held.id and so.docstatus == 1
    assert [(x.sku, x.quantity, x.warehouse) for x in draft.lines] == [(SHOE, 3, "Central - NTR")]
    row = await world.node(SHOE, "WH-CENTRAL")
    assert (row.reserved, row.held, row.available_to_promise) == (2 + 3, 0, CENTRAL_SHOES - 3)
    assert [d.status for d in await world.deliveries(held.id)] == [DeliveryStatus.DELIVERED]


async def test_given_a_confirmed_store_hold_then_the_pos_records_the_sale_and_atp_stays(world):
    held = await world.services.reservations.reserve(
        request(2, sku=SOCK, location="ST-MITTE", channel=Channel.PICKUP), "k1"
    )
    await world.services.reservations.confirm(held.id, "k2")
    await world.services.worker.drain()
    assert world.pos.counts[(SOCK, "LMITTE")] == (7 - 2, 0)
    row = await world.node(SOCK, "ST-MITTE")
    assert (row.on_hand, row.held, row.available_to_promise) == (5, 0, 5 - 1)


async def test_given_a_kit_and_a_loose_component_at_a_store_when_confirmed_then_one_sale_per_sku(
    world,
):
    # The kit holds 1 shoe + 3 socks; one more sock is asked for on its own.
    lines = (ReservationLine(KIT, 1), ReservationLine(SOCK, 1))
    held = await world.services.reservations.reserve(
        ReserveRequest(lines, "ST-MITTE", Channel.PICKUP, 600), "k1"
    )
    assert await world.atp(SOCK, "ST-MITTE") == 6 - 4
    await world.services.reservations.confirm(held.id, "k2")
    await world.services.worker.drain()
    assert world.pos.counts[(SOCK, "LMITTE")] == (7 - 4, 0)
    assert world.pos.counts[(SHOE, "LMITTE")] == (3 - 1, 0)
    assert await world.atp(SOCK, "ST-MITTE") == 6 - 4


async def test_given_an_active_hold_when_released_then_the_stock_comes_back(world):
    held = await world.services.reservations.reserve(request(3), "k1")
    released = await world.services.reservations.release(held.id, "k2")
    assert released.status is ReservationStatus.RELEASED
    assert await world.atp(SHOE, "WH-CENTRAL") == CENTRAL_SHOES
    assert await world.deliveries(held.id) == []  # nothing was written anywhere


async def test_given_a_confirmed_hold_when_released_then_the_sales_order_is_cancelled(world):
    held = await world.services.reservations.reserve(request(3), "k1")
    await world.services.reservations.confirm(held.id, "k2")
    await world.services.worker.drain()
    await world.services.reservations.release(held.id, "k3")
    await world.services.worker.drain()
    [(so, _)] = world.erp.sales_orders.values()
    assert so.status == "Cancelled"
    assert world.erp.bins[(SHOE, "Central - NTR")] == (10, 2)
    assert await world.atp(SHOE, "WH-CENTRAL") == CENTRAL_SHOES


@pytest.mark.parametrize("action", ["confirm", "extend", "release"])
async def test_given_an_expired_hold_then_changing_it_is_an_illegal_transition(world, action):
    held = await world.services.reservations.reserve(request(1, ttl=60), "k1")
    world.clock.advance(61)
    calls = {
        "confirm": lambda: world.services.reservations.confirm(held.id, "k2"),
        "extend": lambda: world.services.reservations.extend(held.id, 600, "k2"),
        "release": lambda: world.services.reservations.release(held.id, "k2"),
    }
    with pytest.raises(IllegalTransition) as refused:
        await calls[action]()
    assert refused.value.code == "ILLEGAL_TRANSITION"
    assert refused.value.details["status"] == "EXPIRED"
    assert await world.deliveries(held.id) == []


async def test_an_expired_active_hold_stops_counting_before_the_sweeper_runs(world):
    held = await world.services.reservations.reserve(request(3, ttl=60), "k1")
    world.clock.advance(60)
    assert await world.atp(SHOE, "WH-CENTRAL") == CENTRAL_SHOES
    # The reader is told the truth too.
    assert (await world.services.reservations.get(held.id)).status is ReservationStatus.EXPIRED


async def test_the_sweeper_expires_due_holds_only_and_gives_their_stock_back(world):
    short = await world.services.reservations.reserve(request(3, ttl=60), "k1")
    long = await world.services.reservations.reserve(request(2, ttl=600), "k2")
    world.clock.advance(120)
    assert await world.services.reservations.expire_due() == 1
    assert await world.services.reservations.expire_due() == 0  # nothing left to do
    assert (await world.services.reservations.get(short.id)).status is ReservationStatus.EXPIRED
    assert (await world.services.reservations.get(long.id)).status is ReservationStatus.ACTIVE
    assert await world.atp(SHOE, "WH-CENTRAL") == CENTRAL_SHOES - 2


async def test_a_confirmed_hold_never_expires(world):
    held = await world.services.reservations.reserve(request(3, ttl=60), "k1")
    await world.services.reservations.confirm(held.id, "k2")
    world.clock.advance(3600)
    assert await world.services.reservations.expire_due() == 0
    assert await world.atp(SHOE, "WH-CENTRAL") == CENTRAL_SHOES - 3


async def test_given_too_little_stock_then_refused_with_what_is_available_and_nothing_held(
    world,
):
    await world.services.reservations.reserve(request(6), "k1")
    with pytest.raises(InsufficientStock) as refused:
        await world.services.reservations.reserve(request(3), "k2")
    assert refused.value.details["shortfalls"] == [
        {"sku": SHOE, "locationId": "WH-CENTRAL", "requested": 3, "available": 2}
    ]
    assert await world.atp(SHOE, "WH-CENTRAL") == 2
    # The refused key is free: the same request with less succeeds under it.
    assert (await world.services.reservations.reserve(request(2), "k2")).lines[0].quantity == 2


async def test_bad_requests_are_refused_before_anything_is_held(world):
    reservations = world.services.reservations
    with pytest.raises(NotFound):
        await reservations.reserve(request(location="WH-NOWHERE"), "k1")
    with pytest.raises(BadUserInput, match="does not serve channel PICKUP"):
        await reservations.reserve(request(channel=Channel.PICKUP), "k2")
    with pytest.raises(BadUserInput, match="ttlSeconds"):
        await reservations.reserve(request(ttl=0), "k3")
    with pytest.raises(BadUserInput, match="idempotencyKey"):
        await reservations.reserve(request(), "")
    with pytest.raises(NotFound):
        await reservations.confirm("res_missing", "k4")
    assert await world.atp(SHOE, "WH-CENTRAL") == CENTRAL_SHOES
