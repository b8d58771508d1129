"""Picking at Mitte over the fakes, on SQLite and PostgreSQL: the pick list soonest promised
first with shelves; a short pick offers a substitute, and the customer's answer moves the
order, the holds, Square and Shopify; a delivery order is re-routed instead, and with
nothing to offer the missing units are dropped."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest

from gateway.domain import Channel
from gateway.domain.orders import Order
from gateway.domain.picking import ShortPickOutcome, SubstitutionStatus
from gateway.domain.reservations import ReservationLine
from gateway.errors import BadUserInput, IllegalTransition
from gateway.services.orders.draft import PlaceOrderRequest
from tests.fakes import eur
from tests.services.test_reconcile_own_orders import BERLIN
from tests.services.world import World

SHOE, SOCK, OTHER_SHOE, BOOT = "SHOE-42", "SOCK-M", "SHOE-43", "BOOT-42"


def stock_mitte(world: World) -> None:
    """Mitte's shelves: 3 shoes (42) on A-12-3, 5 of the other shoe (43), a boot too dear
    to stand in (160.00 against 129.00: outside the 20 % band)."""
    shoe = world.erp.items[SHOE]
    world.erp.items[OTHER_SHOE] = replace(shoe, sku=OTHER_SHOE, name="Trail Shoe 43")
    world.erp.items[BOOT] = replace(shoe, sku=BOOT, name="Hiking Boot", list_price=eur("160.00"))
    shoe_variation = world.pos.variations[SHOE]
    world.pos.variations[SHOE] = replace(shoe_variation, shelf="A-12-3")
    world.pos.variations[OTHER_SHOE] = replace(
        shoe_variation, sku=OTHER_SHOE, variation_id="VSHOE43", shelf="A-12-4"
    )
    world.pos.variations[BOOT] = replace(
        shoe_variation, sku=BOOT, variation_id="VBOOT", price=eur("160.00")
    )
    world.pos.counts[(SHOE, "LMITTE")] = (3, 0)
    world.pos.counts[(OTHER_SHOE, "LMITTE")] = (5, 0)
    world.pos.counts[(BOOT, "LMITTE")] = (5, 0)


async def pickup(world: World, quantity: int, key: str, sku: str = SHOE) -> Order:
    request = PlaceOrderRequest(
        lines=(ReservationLine(sku, quantity),),
        channel=Channel.PICKUP,
        email="kim@example.com",
        name="Kim",
        pickup_location_id="ST-MITTE",
    )
    order = await world.services.placement.place(request, key=key)
    await world.services.worker.drain()
    return order


def delivery(quantity: int) -> PlaceOrderRequest:
    return PlaceOrderRequest(
        lines=(ReservationLine(SHOE, quantity),),
        channel=Channel.ONLINE,
        email="kim@example.com",
        name="Kim",
        delivery=BERLIN,
    )


async def test_the_pick_list_is_soonest_promised_first_with_shelves(world: World):
    stock_mitte(world)
    first = await pickup(world, 1, "o-1")
    world.clock.advance(600)
    second = await pickup(world, 1, "o-2", sku=OTHER_SHOE)

    tasks = await world.services.picking.pick_list("ST-MITTE")

    assert [t.order_id for t in tasks] == [first.id, second.id]
    assert [(line.sku, line.quantity, line.shelf) for line in tasks[0].lines] == [
        (SHOE, 1, "A-12-3")
    ]
    # A pickup order is promised ready two hours after it was placed (PICKING__*).
    assert tasks[0].promised_by == first.created_at + timedelta(hours=2)
    assert tasks[1].promised_by == second.created_at + timedelta(hours=2)
    assert await world.services.picking.pick_list("ST-HAMBURG") == []


async def test_a_short_pick_offers_a_substitute_and_the_answer_reaches_every_system(
    world: World,
):
    stock_mitte(world)
    order = await pickup(world, 2, "o-3")
    other_before = await world.atp(OTHER_SHOE, "ST-MITTE")

    short = await world.services.picking.report(order.id, SHOE, 1, "short-1")

    assert short.outcome is ShortPickOutcome.SUBSTITUTES_OFFERED
    assert short.substitution is not None
    assert short.substitution.offered == (OTHER_SHOE,)  # the boot is too dear
    assert short.order.events[-1].kind == "SHORT_PICK"
    # A second report while the customer has not answered is refused.
    with pytest.raises(BadUserInput, match="already waits"):
        await world.services.picking.report(order.id, SHOE, 1, "short-2")

    answered = await world.services.picking.respond(short.substitution.id, OTHER_SHOE, "ans-1")
    await world.services.worker.drain()

    assert answered.status is SubstitutionStatus.ACCEPTED and answered.chosen == OTHER_SHOE
    now = await world.services.orders.get(order.id)
    assert sorted((line.sku, line.quantity) for line in now.lines) == [(SHOE, 1), (OTHER_SHOE, 1)]
    assert now.total == order.total  # at the same price
    # The substitute is held at Mitte, and Square recorded its sale (a pickup order has no
    # Shopify order to edit).
    assert await world.atp(OTHER_SHOE, "ST-MITTE") == other_before - 1
    assert any(
        kind == "record_sale" and sku == OTHER_SHOE
        for kind, sku, _, _ in world.pos.adjustments.values()
    )
    assert world.oms.calls["edit_lines"] == 0
    # Answering twice is refused; the same request again is the first answer.
    again = await world.services.picking.respond(short.substitution.id, OTHER_SHOE, "ans-1")
    assert again.status is SubstitutionStatus.ACCEPTED
    with pytest.raises(IllegalTransition):
        await world.services.picking.respond(short.substitution.id, None, "ans-2")


async def test_declined_the_missing_units_leave_the_order_and_its_total(world: World):
    stock_mitte(world)
    order = await pickup(world, 2, "o-4")
    short = await world.services.picking.report(order.id, SHOE, 0, "short-3")
    assert short.substitution is not None

    with pytest.raises(BadUserInput, match="was not offered"):
        await world.services.picking.respond(short.substitution.id, BOOT, "ans-3")
    answered = await world.services.picking.respond(short.substitution.id, None, "ans-4")
    await world.services.worker.drain()

    assert answered.status is SubstitutionStatus.DECLINED
    now = await world.services.orders.get(order.id)
    assert now.lines == ()
    assert now.total.amount == Decimal(0)


async def test_a_delivery_order_no_other_node_can_fill_is_offered_a_substitute(world: World):
    stock_mitte(world)
    # Only Mitte has shoes: the order ships from it, and nothing can take over the rest.
    world.erp.bins[(SHOE, "Central - NTR")] = (0, 0)
    world.erp.bins[(SHOE, "North - NTR")] = (0, 0)
    world.pos.counts[(SHOE, "LPOTS")] = (0, 0)
    order = await world.services.placement.place(delivery(2), key="o-7")
    await world.services.worker.drain()
    assert {line.location_id for line in order.lines} == {"ST-MITTE"}

    short = await world.services.picking.report(order.id, SHOE, 1, "short-6")

    assert short.outcome is ShortPickOutcome.SUBSTITUTES_OFFERED and short.substitution
    answered = await world.services.picking.respond(short.substitution.id, OTHER_SHOE, "ans-5")
    await world.services.worker.drain()
    now = await world.services.orders.get(order.id)
    assert sorted((line.sku, line.quantity) for line in now.lines) == [(SHOE, 1), (OTHER_SHOE, 1)]
    assert answered.status is SubstitutionStatus.ACCEPTED


async def test_with_nothing_to_offer_the_missing_units_are_dropped(world: World):
    world.pos.counts[(SOCK, "LMITTE")] = (7, 0)
    order = await pickup(world, 3, "o-5", sku=SOCK)
    short = await world.services.picking.report(order.id, SOCK, 2, "short-4")
    assert short.outcome is ShortPickOutcome.DROPPED
    assert short.substitution is not None and short.substitution.status.value == "DECLINED"
    assert [(line.sku, line.quantity) for line in short.order.lines] == [(SOCK, 2)]


async def test_a_delivery_order_short_at_the_store_is_re_routed(world: World):
    stock_mitte(world)
    # Only Mitte has shoes when the order is placed: it ships from the store.
    world.erp.bins[(SHOE, "Central - NTR")] = (0, 0)
    world.erp.bins[(SHOE, "North - NTR")] = (0, 0)
    world.pos.counts[(SHOE, "LPOTS")] = (0, 0)
    order = await world.services.placement.place(delivery(2), key="o-6")
    await world.services.worker.drain()
    assert {line.location_id for line in order.lines} == {"ST-MITTE"}
    before = world.pos.counts[(SHOE, "LMITTE")]
    # Central has them again by the time the picker finds the shelf empty.
    world.erp.bins[(SHOE, "Central - NTR")] = (10, 0)
    await world.cache.invalidate("erp:stock", [SHOE])

    short = await world.services.picking.report(order.id, SHOE, 0, "short-5")

    assert short.outcome is ShortPickOutcome.REROUTED
    assert all(line.location_id != "ST-MITTE" for line in short.order.lines)
    await world.services.worker.drain()
    # No restock at Mitte: the units were never on its shelf.
    assert world.pos.counts[(SHOE, "LMITTE")] == before


async def test_cancelled_after_a_substitution_only_what_is_held_goes_back_to_square(
    world: World,
):
    stock_mitte(world)
    order = await pickup(world, 2, "o-8")
    short = await world.services.picking.report(order.id, SHOE, 1, "short-7")
    assert short.substitution is not None
    await world.services.picking.respond(short.substitution.id, OTHER_SHOE, "ans-7")
    await world.services.worker.drain()
    shoes, others = world.pos.counts[(SHOE, "LMITTE")], world.pos.counts[(OTHER_SHOE, "LMITTE")]

    await world.services.lifecycle.cancel(order.id, "cancel-8")
    await world.services.worker.drain()

    # The shoe found and the substitute go back on sale; the shoe never found does not.
    assert world.pos.counts[(SHOE, "LMITTE")] == (shoes[0] + 1, shoes[1])
    assert world.pos.counts[(OTHER_SHOE, "LMITTE")] == (others[0] + 1, others[1])
