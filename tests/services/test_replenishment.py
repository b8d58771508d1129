"""Replenishment hints over the fakes, on SQLite and PostgreSQL: a store's demand is what its
POS recorded as sold, a warehouse's the gateway's orders allocated to it, each over the
whole days of the window; the figures are those of the model for that demand and stock."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import pytest

from gateway.config import NodeTermsSettings, ReplenishmentSettings, RoutingSettings
from gateway.domain import Channel, ItemSupply, Sale
from gateway.domain.orders import (
    Disposition,
    ItemCondition,
    Order,
    OrderLine,
    OrderOrigin,
    OrderStatus,
    ReturnLine,
    ReturnReason,
    ReturnRequest,
    ReturnStatus,
)
from gateway.errors import NotFound
from tests.fakes import eur
from tests.pg import temporary_database
from tests.services.test_reconcile_own_orders import order_shoes
from tests.services.world import World

SHOE = "SHOE-42"
WEEK = [4, 6, 5, 5, 3, 7, 5]
TERMS = ReplenishmentSettings(lead_time_days=4, case_size=12, min_order_qty=24, review_days=7)


@pytest.fixture(params=["sqlite", "postgresql"])
async def world(request, make_world):
    settings = {
        "replenishment": TERMS,
        # Central picks one unit a day: an order of one ships from it (a Sales Order).
        "routing": RoutingSettings(
            warehouse=NodeTermsSettings(daily_capacity=1, cutoff="23:59", handling_per_order=150)
        ),
    }
    if request.param == "sqlite":
        yield await make_world(**settings)
        return
    async with temporary_database() as url:
        yield await make_world(database_url=url, **settings)


def window_start(world: World) -> datetime:
    today = datetime.combine(world.clock.now().date(), time(), UTC)
    return today - timedelta(days=28)


async def test_a_store_s_hint_is_the_model_of_what_its_till_sold(world: World):
    # Given four weeks of the hand-worked week rung up at Mitte (and a sale today, and one
    # before the window, that do not count),
    start = window_start(world)
    world.pos.sold += [
        Sale(SHOE, "LMITTE", start + timedelta(days=day, hours=17), units)
        for day, units in enumerate(WEEK * 4)
    ]
    world.pos.sold.append(Sale(SHOE, "LMITTE", start + timedelta(days=28, hours=1), 50))
    world.pos.sold.append(Sale(SHOE, "LMITTE", start - timedelta(hours=1), 50))
    world.pos.sold.append(Sale(SHOE, "LHAM", start + timedelta(days=3), 50))  # another store
    world.pos.counts[(SHOE, "LMITTE")] = (20, 0)
    atp = await world.atp(SHOE, "ST-MITTE")

    got = (await world.services.replenishment.hints("ST-MITTE", [SHOE]))[SHOE]

    assert got.daily_demand == tuple(WEEK * 4)
    assert got.window_start == start
    # Mean 5; sample variance 40/27, sd 1.22; SS = 1.645 * sqrt(4 * 40/27) = 4.004 -> 5;
    # ROP 25; order up to 25 + 35 = 60.
    assert got.hint.average_daily_demand == Decimal("5.00")
    assert got.hint.demand_stdev == Decimal("1.22")
    assert (got.hint.safety_stock, got.hint.reorder_point, got.hint.order_up_to) == (5, 25, 60)
    assert got.available == atp and got.hint.position == atp
    assert got.hint.below_reorder_point
    shortfall = max(60 - atp, 24)
    assert got.hint.suggested_order == -(-shortfall // 12) * 12


async def test_a_warehouse_s_demand_is_what_the_erp_delivered_on_past_days(world: World):
    world.pos.counts[(SHOE, "LMITTE")] = (0, 0)  # Central ships it
    order = await order_shoes(world, 1, key="repl-1")
    await world.services.worker.drain()  # its Sales Order
    # Placed, not yet delivered: no demand recorded at the warehouse.
    placed = (await world.services.replenishment.hints("WH-CENTRAL", [SHOE]))[SHOE]
    assert sum(placed.daily_demand) == 0
    # Shipped (a Delivery Note: units leave the warehouse) ...
    await world.services.lifecycle.ship(order.id, None, "ship-1")
    await world.services.worker.drain()
    assert [(d.sku, d.location_ref, d.quantity) for d in world.erp.delivered] == [
        (SHOE, "Central - NTR", 1)
    ]
    # ... it counts once its day is a whole one: the next day, as the window's last.
    same_day = (await world.services.replenishment.hints("WH-CENTRAL", [SHOE]))[SHOE]
    assert sum(same_day.daily_demand) == 0
    world.clock.advance(24 * 3600)
    got = (await world.services.replenishment.hints("WH-CENTRAL", [SHOE]))[SHOE]
    assert got.daily_demand[-1] == 1 and sum(got.daily_demand) == 1


async def test_an_unknown_node_is_not_found_and_an_unknown_sku_has_no_hint(world: World):
    with pytest.raises(NotFound):
        await world.services.replenishment.hints("NOWHERE", [SHOE])
    assert "NOPE" not in await world.services.replenishment.hints("ST-MITTE", [SHOE, "NOPE"])


async def test_the_erp_item_s_terms_win_over_the_configured_ones(world: World):
    # Configured: lead 4, cases of 12, at least 24. The ERP's Item: lead 10, cases of 6,
    # at least 30, bought from one supplier.
    world.erp.supplies[SHOE] = ItemSupply(
        lead_time_days=10, min_order_qty=30, case_size=6, supplier="Trail Footwear GmbH"
    )
    start = window_start(world)
    world.pos.sold += [
        Sale(SHOE, "LMITTE", start + timedelta(days=day, hours=17), 5) for day in range(28)
    ]
    world.pos.counts[(SHOE, "LMITTE")] = (20, 0)

    got = (await world.services.replenishment.hints("ST-MITTE", [SHOE]))[SHOE]

    assert (got.terms.lead_time_days, got.terms.case_size, got.terms.min_order_qty) == (10, 6, 30)
    assert got.supplier == "Trail Footwear GmbH"
    # Steady 5 a day: no safety stock; ROP 50, order up to 85; in cases of 6.
    assert (got.hint.safety_stock, got.hint.reorder_point, got.hint.order_up_to) == (0, 50, 85)
    assert got.hint.suggested_order == -(-max(85 - got.available, 30) // 6) * 6
    # A listing for another supplier leaves it out; for its own, keeps it.
    page = await world.services.replenishment.page("ST-MITTE", offset=0, first=10, supplier="x")
    assert page.hints == []
    mine = await world.services.replenishment.page(
        "ST-MITTE", offset=0, first=10, supplier="Trail Footwear GmbH"
    )
    assert [h.sku for _, h in mine.hints] == [SHOE]


async def test_only_returns_going_back_on_the_shelf_count_as_coming(world: World):
    # Given returns on their way to Mitte: 2 to restock, 3 to write off, 1 to inspect,
    async with world.uow() as uow:
        order = Order(
            id="ord-ret",
            origin=OrderOrigin.GATEWAY,
            channel=Channel.PICKUP,
            status=OrderStatus.COLLECTED,
            customer_email="kim@example.com",
            customer_name="Kim",
            total=eur("774.00"),
            lines=(OrderLine(SHOE, 6, eur("129.00"), "ST-MITTE"),),
            created_at=world.clock.now(),
            updated_at=world.clock.now(),
        )
        await uow.orders.add(order)
        lines = tuple(
            ReturnLine(
                SHOE,
                units,
                ReturnReason.SIZE_OR_FIT,
                ItemCondition.NEW,
                disposition,
                "ST-MITTE",
                eur("129.00"),
            )
            for units, disposition in (
                (2, Disposition.RESTOCK),
                (3, Disposition.DISPOSE),
                (1, Disposition.INSPECT),
            )
        )
        await uow.returns.add(
            ReturnRequest(
                id="ret-1",
                order_id=order.id,
                status=ReturnStatus.OPEN,
                lines=lines,
                refund_total=eur("774.00"),
                created_at=world.clock.now(),
                updated_at=world.clock.now(),
            )
        )
        await uow.commit()
    # the node's availability shows all six on their way,
    assert (await world.node(SHOE, "ST-MITTE")).incoming == 6
    # but replenishment plans on the two that will be sellable again.
    got = (await world.services.replenishment.hints("ST-MITTE", [SHOE]))[SHOE]
    assert got.incoming == 2 and got.hint.position == got.available + 2
