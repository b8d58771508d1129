"""ShopifyAdapter.edit_lines against the simulator: a short pick's substitute or the units
the customer declined reach Shopify as one order edit, once per reference; the plan it
follows is tested as a pure function; FakeOms keeps the same promise."""

from __future__ import annotations

import json

import pytest

from adapters.shopify.edit_plan import (
    AddVariant,
    CannotRemove,
    EditLine,
    SetQuantity,
    plan_edit,
)
from gateway.domain.documents import OmsAllocation, OmsLineChange
from gateway.errors import BackendRejected, NotFound
from tests.adapters.test_shopify_adapter import SHOE, SOCK, adapter_losing, draft, placement
from tests.fakes import FakeOms
from tests.shopify_support import CENTRAL, NORTH_HUB, adapter, simulator

CAP = "HEAD-00003"  # a variant of the simulator's catalogue, 109.99
EDIT_CALLS = ("orderEditBegin", "orderEditSetQuantity", "orderEditAddVariant", "orderEditCommit")


def current(app: object, order_id: str) -> dict[str, int]:
    """Each SKU's currentQuantity on the simulator's order."""
    order = app.state.shop.orders[order_id]  # type: ignore[attr-defined]
    return {line.sku: line.current_quantity for line in order.line_items}


def edit_calls(app: object) -> list[int]:
    return [app.state.calls[name] for name in EDIT_CALLS]  # type: ignore[attr-defined]


# --- substitute, decline, raise -----------------------------------------------------------------


async def test_given_a_substitute_then_2_socks_become_2_caps_in_one_edit() -> None:
    app = simulator()
    oms = adapter(app)
    order = await oms.create_order(draft())  # a shoe and 3 socks at Central

    edited = await oms.edit_lines(
        order.id, [OmsLineChange(SOCK, -2), OmsLineChange(CAP, 2)], "sub-1"
    )

    assert current(app, order.id) == {SHOE: 1, SOCK: 1, CAP: 2}
    assert edit_calls(app) == [1, 1, 1, 1]
    # The socks left their fulfillment-order line; the caps wait on a new one at Central.
    assert placement(edited) == {(CENTRAL, SHOE): 1, (CENTRAL, SOCK): 1, (CENTRAL, CAP): 2}
    assert [fo.status for fo in edited.fulfillment_orders] == ["OPEN", "OPEN"]
    # The staff note names the reference on the order's timeline.
    (event,) = app.state.shop.orders[order.id].events
    assert "[gateway:sub-1]" in json.loads(event.additional_content)["staff_note"]
    # The substitute is routed as any allocation is: fulfillmentOrderMove.
    routed = await oms.reallocate(
        order.id,
        (
            OmsAllocation(CENTRAL, SHOE, 1),
            OmsAllocation(CENTRAL, SOCK, 1),
            OmsAllocation(NORTH_HUB, CAP, 2),
        ),
    )
    assert placement(routed) == {(CENTRAL, SHOE): 1, (CENTRAL, SOCK): 1, (NORTH_HUB, CAP): 2}


async def test_given_a_decline_then_the_missing_sock_leaves_the_order() -> None:
    app = simulator()
    oms = adapter(app)
    order = await oms.create_order(draft())

    edited = await oms.edit_lines(order.id, [OmsLineChange(SOCK, -1)], "decline-1")

    assert current(app, order.id) == {SHOE: 1, SOCK: 2}
    line = app.state.shop.orders[order.id].line_items[1]
    assert (line.quantity, line.current_quantity) == (3, 2)  # Shopify keeps what was ordered
    assert placement(edited) == {(CENTRAL, SHOE): 1, (CENTRAL, SOCK): 2}
    assert edit_calls(app) == [1, 1, 0, 1]


async def test_declining_every_unit_leaves_the_line_at_zero() -> None:
    app = simulator()
    oms = adapter(app)
    order = await oms.create_order(draft())
    edited = await oms.edit_lines(order.id, [OmsLineChange(SOCK, -3)], "decline-all")
    assert current(app, order.id) == {SHOE: 1, SOCK: 0}
    assert placement(edited) == {(CENTRAL, SHOE): 1}


async def test_raising_a_sku_the_order_holds_sets_its_line_higher() -> None:
    app = simulator()
    oms = adapter(app)
    order = await oms.create_order(draft())
    edited = await oms.edit_lines(order.id, [OmsLineChange(SHOE, 1)], "more-shoes")
    assert current(app, order.id) == {SHOE: 2, SOCK: 3}
    assert edit_calls(app) == [1, 1, 0, 1]
    assert placement(edited) == {(CENTRAL, SHOE): 2, (CENTRAL, SOCK): 3}


# --- idempotency --------------------------------------------------------------------------------


async def test_a_repeat_with_the_same_reference_changes_nothing() -> None:
    app = simulator()
    oms = adapter(app)
    order = await oms.create_order(draft())
    changes = [OmsLineChange(SOCK, -2), OmsLineChange(CAP, 2)]

    first = await oms.edit_lines(order.id, changes, "sub-1")
    again = await oms.edit_lines(order.id, changes, "sub-1")
    other = await adapter(app).edit_lines(order.id, [OmsLineChange(SOCK, -1)], "decline-2")

    assert again == first
    assert edit_calls(app) == [2, 2, 1, 2]  # the second edit is another reference's
    assert current(app, order.id) == {SHOE: 1, SOCK: 0, CAP: 2}
    assert placement(other) == {(CENTRAL, SHOE): 1, (CENTRAL, CAP): 2}


async def test_given_a_lost_commit_answer_then_the_retry_finds_the_edit_instead_of_a_second():
    app = simulator()
    order = await adapter(app).create_order(draft())
    oms, transport = adapter_losing(app, "orderEditCommit")

    await oms.edit_lines(order.id, [OmsLineChange(SOCK, -2), OmsLineChange(CAP, 2)], "sub-1")

    assert transport.lost == 1
    assert app.state.calls["orderEditCommit"] == 1
    assert current(app, order.id) == {SHOE: 1, SOCK: 1, CAP: 2}
    assert len(app.state.shop.orders[order.id].events) == 1


# --- refusals -----------------------------------------------------------------------------------


async def test_an_unknown_sku_is_refused_before_anything_is_staged() -> None:
    app = simulator()
    oms = adapter(app)
    order = await oms.create_order(draft())
    with pytest.raises(BackendRejected, match="NOPE-1"):
        await oms.edit_lines(order.id, [OmsLineChange(SOCK, -1), OmsLineChange("NOPE-1", 1)], "s")
    with pytest.raises(BackendRejected, match="NOPE-2"):
        await oms.edit_lines(order.id, [OmsLineChange("NOPE-2", -1)], "d")
    with pytest.raises(BackendRejected, match=f"4 x {SOCK}"):
        await oms.edit_lines(order.id, [OmsLineChange(SOCK, -4)], "d2")
    assert edit_calls(app) == [0, 0, 0, 0]
    assert current(app, order.id) == {SHOE: 1, SOCK: 3}


async def test_an_unknown_order_is_not_found_and_a_cancelled_one_is_refused_in_shopifys_words():
    app = simulator()
    oms = adapter(app)
    with pytest.raises(NotFound):
        await oms.edit_lines("gid://shopify/Order/1", [OmsLineChange(SOCK, -1)], "x")
    order = await oms.create_order(draft())
    await oms.cancel_order(order.id)
    with pytest.raises(BackendRejected, match="The order cannot be edited") as refused:
        await oms.edit_lines(order.id, [OmsLineChange(SOCK, -1)], "y")
    assert refused.value.details["user_errors"] == [
        {"field": None, "message": "The order cannot be edited."}
    ]


# --- the plan -----------------------------------------------------------------------------------


def test_plan_sets_falling_lines_lower_newest_first_and_adds_what_no_line_holds() -> None:
    lines = [EditLine("a1", "A", 2), EditLine("b", "B", 0), EditLine("a2", "A", 1)]
    assert plan_edit(lines, [OmsLineChange("A", -2), OmsLineChange("B", 2)]) == [
        SetQuantity("a2", 0),
        SetQuantity("a1", 1),
        AddVariant("B", 2),  # B's line was emptied by an earlier edit
    ]
    assert plan_edit(lines, [OmsLineChange("A", 1)]) == [SetQuantity("a1", 3)]
    # Changes add up per SKU; those that cancel out take no step.
    assert plan_edit(lines, [OmsLineChange("A", -1), OmsLineChange("A", 1)]) == []
    assert plan_edit(lines, [OmsLineChange("A", -1), OmsLineChange("A", -1)]) == [
        SetQuantity("a2", 0),
        SetQuantity("a1", 1),
    ]
    with pytest.raises(CannotRemove) as refused:
        plan_edit(lines, [OmsLineChange("A", -4)])
    assert (refused.value.sku, refused.value.held, refused.value.asked) == ("A", 3, 4)


# --- the fake -----------------------------------------------------------------------------------


async def test_the_fake_records_an_edit_once_per_reference_and_refuses_below_zero() -> None:
    oms = FakeOms()
    order = await oms.create_order(draft())
    await oms.edit_lines(order.id, [OmsLineChange(SOCK, -2), OmsLineChange(CAP, 2)], "sub-1")
    await oms.edit_lines(order.id, [OmsLineChange(SOCK, -2), OmsLineChange(CAP, 2)], "sub-1")
    assert oms.line_quantities[order.id] == {SHOE: 1, SOCK: 1, CAP: 2}
    assert oms.edits == {"sub-1": [(SOCK, -2), (CAP, 2)]}
    with pytest.raises(BackendRejected):
        await oms.edit_lines(order.id, [OmsLineChange(SOCK, -2)], "d")
    assert oms.line_quantities[order.id][SOCK] == 1
    with pytest.raises(NotFound):
        await oms.edit_lines("gid://shopify/Order/1", [], "x")
