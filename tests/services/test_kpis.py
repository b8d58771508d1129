"""A store's KPIs over three days, worked out by hand from what its till recorded, a count,
a return and two pickup orders, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import pytest

from gateway.domain import Channel, Money, Sale, SourceSystem
from gateway.domain.cycle_counts import CountedLine, RecordedCount, reckon
from gateway.domain.orders import (
    Disposition,
    ItemCondition,
    Order,
    OrderEvent,
    OrderLine,
    OrderOrigin,
    OrderStatus,
    ReturnLine,
    ReturnReason,
    ReturnRequest,
    ReturnStatus,
)
from gateway.errors import BadUserInput
from tests.fakes import eur
from tests.services.world import World

# Cost 52.40 and 5.10; Mitte sells the shoe at its Square price, 125.00 (list 129.00), the
# sock (not in Square's catalogue) at its ERP list price, 14.00.
SHOE, SOCK = "SHOE-42", "SOCK-M"


def days_before_today(world: World) -> list[datetime]:
    today = datetime.combine(world.clock.now().date(), time(), UTC)
    return [today - timedelta(days=n) for n in (3, 2, 1)]


async def test_a_store_s_week_worked_out_by_hand(world: World):
    d1, d2, d3 = days_before_today(world)
    today = d3 + timedelta(days=1)
    world.clock.advance(max(0.0, (today + timedelta(hours=12) - world.clock.now()).total_seconds()))
    # Given Mitte's till sold 2 shoes on day 1, 1 on day 3 and 1 today; 7 socks on day 2,
    world.pos.sold += [
        Sale(SHOE, "LMITTE", d1 + timedelta(hours=17), 2),
        Sale(SHOE, "LMITTE", d3 + timedelta(hours=17), 1),
        Sale(SHOE, "LMITTE", today + timedelta(hours=1), 1),
        Sale(SOCK, "LMITTE", d2 + timedelta(hours=17), 7),
        Sale(SOCK, "LHAM", d2 + timedelta(hours=17), 5),  # another store's
    ]
    # and it has 3 shoes and no socks now: closing figures shoe 5, 5, 4; sock 7, 0, 0.
    world.pos.counts[(SHOE, "LMITTE")] = (3, 0)
    world.pos.counts[(SOCK, "LMITTE")] = (0, 0)
    async with world.uow() as uow:
        # a count on day 2 found 4 shoes of 5 (52.40 short) and the socks as booked,
        await uow.counts.add(
            RecordedCount(
                "cnt_1",
                "ST-MITTE",
                d2 + timedelta(hours=8),
                "Ada",
                d2 + timedelta(hours=9),
                (
                    CountedLine(SHOE, 4, reckon(4, 5, []), eur("52.40")),
                    CountedLine(SOCK, 3, reckon(3, 3, []), eur("5.10")),
                ),
            )
        )
        # two pickup orders: one ready in 1.5 hours, one in 3 (the promise is 2),
        for order_id, placed, ready in (
            ("ord-1", d1 + timedelta(hours=10), timedelta(hours=1.5)),
            ("ord-2", d2 + timedelta(hours=9), timedelta(hours=3)),
        ):
            await uow.orders.add(pickup_order(order_id, placed))
            await uow.orders.add_event(
                order_id,
                OrderEvent(
                    placed + ready,
                    "READY",
                    SourceSystem.GATEWAY,
                    OrderStatus.ALLOCATED,
                    OrderStatus.READY_FOR_PICKUP,
                ),
            )
        # and one shoe of the first comes back to Mitte.
        await uow.returns.add(returned_shoe("ord-1", d2 + timedelta(hours=15)))
        await uow.commit()

    got = await world.services.kpis.figures("ST-MITTE", d1.date(), d3.date())

    assert [(d.units_sold, d.skus_out_of_stock) for d in got.days] == [(2, 0), (7, 1), (1, 1)]
    assert (got.skus_carried, got.units_sold, got.units_on_hand) == (2, 10, 4)
    assert got.stockout_rate == Decimal("0.3333")  # 2 of 6 SKU-days
    assert got.sell_through == Decimal("0.7143")  # 10 / (10 + 4)
    assert got.days_of_supply == Decimal("1.2000")  # 4 on hand / (10 / 3 a day)
    # Sales 3 x 125 + 7 x 14 = 473.00 at a cost of 157.20 + 35.70 = 192.90; held at cost
    # 297.70, 262.00, 209.60: 256.43 on average.
    assert got.sales_value == Decimal("473.00")
    assert got.gmroi == Decimal("1.0923")  # 280.10 / 256.43
    assert got.shrink_value == Decimal("52.40")
    assert got.shrink_rate == Decimal("0.1108")  # 52.40 / 473.00
    assert got.inventory_accuracy == Decimal("0.5000")  # the socks were exact, the shoes not
    assert got.return_rate == Decimal("0.1000")  # 1 of 10
    assert got.order_cycle_hours == Decimal("2.25")  # (1.5 + 3) / 2
    assert got.on_time_pickup == Decimal("0.5000")


async def test_a_period_out_of_bounds_is_refused(world: World):
    d1, _, d3 = days_before_today(world)
    with pytest.raises(BadUserInput, match="ends before"):
        await world.services.kpis.figures("ST-MITTE", d3.date(), d1.date())
    with pytest.raises(BadUserInput, match="at most 92 days"):
        await world.services.kpis.figures("ST-MITTE", d1.date() - timedelta(days=100), d3.date())
    with pytest.raises(BadUserInput, match="not begun"):
        await world.services.kpis.figures(
            "ST-MITTE", d3.date() + timedelta(days=5), d3.date() + timedelta(days=6)
        )


def pickup_order(order_id: str, placed: datetime) -> Order:
    return Order(
        id=order_id,
        origin=OrderOrigin.GATEWAY,
        channel=Channel.PICKUP,
        status=OrderStatus.READY_FOR_PICKUP,
        customer_email="kim@example.com",
        customer_name="Kim",
        total=eur("129.00"),
        lines=(OrderLine(SHOE, 1, eur("129.00"), "ST-MITTE"),),
        created_at=placed,
        updated_at=placed,
        pickup_location_id="ST-MITTE",
    )


def returned_shoe(order_id: str, at: datetime) -> ReturnRequest:
    line = ReturnLine(
        SHOE,
        1,
        ReturnReason.SIZE_OR_FIT,
        ItemCondition.NEW,
        Disposition.RESTOCK,
        "ST-MITTE",
        Money(Decimal("129.00"), "EUR"),
    )
    return ReturnRequest(
        id="ret-1",
        order_id=order_id,
        status=ReturnStatus.OPEN,
        lines=(line,),
        refund_total=eur("129.00"),
        created_at=at,
        updated_at=at,
    )
