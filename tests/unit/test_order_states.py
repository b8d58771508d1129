"""The canonical order state machine and the backend status mappings in its docstring."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.domain import Channel
from gateway.domain.orders import OrderStatus
from gateway.errors import IllegalTransition
from gateway.services.orders.states import (
    ALLOWED,
    CANCELLABLE,
    PROGRESS,
    RETURNABLE,
    advance,
    can_move,
    erpnext_status,
    path,
    require_transition,
    shopify_status,
    woocommerce_status,
)

S = OrderStatus
FINAL = {S.CANCELLED, S.RETURNED}

LEGAL = [(current, target) for current, targets in ALLOWED.items() for target in targets]
ILLEGAL = [
    (S.PLACED, S.SHIPPED),  # not allocated yet
    (S.PLACED, S.DELIVERED),
    (S.SHIPPED, S.CANCELLED),  # too late to cancel
    (S.DELIVERED, S.SHIPPED),  # backwards
    (S.READY_FOR_PICKUP, S.SHIPPED),
    (S.COLLECTED, S.CANCELLED),
    (S.CANCELLED, S.ALLOCATED),  # final
    (S.RETURNED, S.PARTIALLY_RETURNED),  # final
    (S.ALLOCATED, S.PLACED),
]


@pytest.mark.parametrize(("current", "target"), LEGAL)
def test_every_allowed_transition_is_accepted(current, target):
    assert can_move(current, target)
    require_transition("ord_1", current, target)  # does not raise


@pytest.mark.parametrize(("current", "target"), ILLEGAL)
def test_an_illegal_transition_is_refused_with_a_clear_error(current, target):
    assert not can_move(current, target)
    with pytest.raises(IllegalTransition) as refused:
        require_transition("ord_1", current, target)
    assert refused.value.code == "ILLEGAL_TRANSITION"
    assert refused.value.details == {"status": current.value, "requested": target.value}
    assert f"Order ord_1 is {current.value}; it cannot become {target.value}" in str(refused.value)


def test_final_states_allow_nothing_and_say_so():
    with pytest.raises(IllegalTransition, match="nothing \\(it is final\\)"):
        require_transition("ord_1", S.CANCELLED, S.PLACED)
    assert all(not ALLOWED[s] for s in FINAL)


def test_only_unshipped_orders_cancel_and_only_delivered_ones_return():
    assert {S.PLACED, S.ALLOCATED, S.PICKING, S.READY_FOR_PICKUP} == CANCELLABLE
    assert {S.DELIVERED, S.COLLECTED, S.PARTIALLY_RETURNED} == RETURNABLE


reports = st.lists(st.one_of(st.none(), st.sampled_from(list(OrderStatus))), max_size=30)


@given(start=st.sampled_from(list(OrderStatus)), reported=reports)
def test_property_reports_never_move_an_order_backwards_nor_out_of_a_final_state(start, reported):
    current = start
    for report in reported:
        moved = advance(current, report)
        if moved is None:
            continue
        assert current not in FINAL, f"{current} left a final state for {moved}"
        assert PROGRESS[moved] > PROGRESS[current], f"{current} -> {moved} went backwards"
        current = moved


@given(start=st.sampled_from(list(OrderStatus)), report=st.sampled_from(list(OrderStatus)))
def test_property_advance_only_moves_along_allowed_steps(start, report):
    moved = advance(start, report)
    if moved is None:
        return
    # A path of allowed steps leads there: breadth-first over ALLOWED.
    seen, frontier = {start}, [start]
    while frontier:
        frontier = [n for s in frontier for n in ALLOWED[s] if n not in seen]
        seen.update(frontier)
    assert moved in seen


def test_given_a_skipped_step_when_the_backend_reports_it_then_the_order_jumps_ahead():
    assert advance(S.ALLOCATED, S.SHIPPED) is S.SHIPPED
    assert advance(S.PLACED, S.PICKING) is S.PICKING  # via ALLOCATED
    assert advance(S.SHIPPED, S.ALLOCATED) is None  # an older report changes nothing
    assert advance(S.SHIPPED, S.CANCELLED) is None  # shipped goods are not cancelled
    assert advance(S.PICKING, S.CANCELLED) is S.CANCELLED


# The tables in gateway/services/order_states.py's docstring, row by row.
WOO = {
    "checkout-draft": None,
    "pending": S.PLACED,
    "on-hold": S.PLACED,
    "processing": S.ALLOCATED,
    "ready-for-pickup": S.READY_FOR_PICKUP,
    "cancelled": S.CANCELLED,
    "failed": S.CANCELLED,
    "trash": S.CANCELLED,
    "refunded": S.RETURNED,
}
SHOPIFY = {
    "OPEN": S.ALLOCATED,
    "SCHEDULED": S.ALLOCATED,
    "ON_HOLD": S.ALLOCATED,
    "IN_PROGRESS": S.PICKING,
    "INCOMPLETE": S.PICKING,
    "CLOSED": S.SHIPPED,
    "CANCELLED": S.CANCELLED,
}
ERPNEXT = {
    "Draft": S.PLACED,
    "On Hold": S.ALLOCATED,
    "To Deliver and Bill": S.ALLOCATED,
    "To Deliver": S.ALLOCATED,
    # A Delivery Note means the goods left the warehouse; ERPNext knows nothing of the
    # carrier's delivery (a pickup order's goods left with the customer).
    "To Bill": S.SHIPPED,
    "Completed": S.SHIPPED,
    "Cancelled": S.CANCELLED,
    "Closed": None,
}


@pytest.mark.parametrize(("status", "expected"), WOO.items())
def test_woocommerce_statuses_map_as_documented(status, expected):
    assert woocommerce_status(status, Channel.ONLINE) is expected
    assert woocommerce_status(status, Channel.PICKUP) is expected


def test_woocommerce_completed_is_delivered_or_collected_by_channel():
    assert woocommerce_status("completed", Channel.ONLINE) is S.DELIVERED
    assert woocommerce_status("completed", Channel.PICKUP) is S.COLLECTED


@pytest.mark.parametrize(("status", "expected"), SHOPIFY.items())
def test_shopify_fulfillment_order_statuses_map_as_documented(status, expected):
    assert shopify_status([status]) is expected


def test_shopify_order_is_as_far_along_as_its_least_advanced_live_fulfillment_order():
    assert shopify_status(["CLOSED", "IN_PROGRESS"]) is S.PICKING
    assert shopify_status(["CLOSED", "CANCELLED"]) is S.SHIPPED
    assert shopify_status(["CANCELLED", "CANCELLED"]) is S.CANCELLED
    assert shopify_status([]) is None
    assert shopify_status(["SOMETHING_NEW"]) is None


@pytest.mark.parametrize(("status", "expected"), ERPNEXT.items())
def test_erpnext_sales_order_statuses_map_as_documented(status, expected):
    assert erpnext_status(status, Channel.ONLINE) is expected
    collected = S.COLLECTED if expected is S.SHIPPED else expected
    assert erpnext_status(status, Channel.PICKUP) is collected


@given(
    start=st.sampled_from(list(OrderStatus)),
    target=st.sampled_from(list(OrderStatus)),
    channel=st.sampled_from(list(Channel)),
)
def test_property_a_path_is_allowed_steps_ending_at_the_target_within_the_channel(
    start, target, channel
):
    way = path(start, target, channel)
    if not way:
        return
    assert way[-1] is target
    assert all(b in ALLOWED[a] for a, b in zip((start, *way), way, strict=False))
    other = (
        {S.SHIPPED, S.DELIVERED} if channel is Channel.PICKUP else {S.READY_FOR_PICKUP, S.COLLECTED}
    )
    assert not other & set(way)


def test_given_an_erp_delivery_of_an_allocated_order_then_the_path_passes_shipment():
    assert path(S.ALLOCATED, S.DELIVERED, Channel.ONLINE) == (S.SHIPPED, S.DELIVERED)
    assert path(S.PICKING, S.COLLECTED, Channel.PICKUP) == (S.READY_FOR_PICKUP, S.COLLECTED)
    assert path(S.ALLOCATED, S.CANCELLED, Channel.PICKUP) == (S.CANCELLED,)
    assert path(S.SHIPPED, S.CANCELLED, Channel.ONLINE) == ()
