"""The lifecycle commands as one table (gateway.services.orders.lifecycle), checked against
the state machine (gateway.services.orders.states) for every status and channel."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.domain import Channel, Money
from gateway.domain.orders import Order, OrderOrigin, OrderStatus
from gateway.errors import BadUserInput, IllegalTransition
from gateway.services.orders.lifecycle import LIFECYCLE, NO_SHOW, OWED, Owed, check_step
from gateway.services.orders.states import ALLOWED
from gateway.services.orders.web_news import web_news

S = OrderStatus
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def order(status: OrderStatus, channel: Channel) -> Order:
    return Order(
        id="ord_1",
        origin=OrderOrigin.GATEWAY,
        channel=channel,
        status=status,
        customer_email="kim@example.com",
        customer_name="Kim",
        total=Money(Decimal("10.00"), "EUR"),
        lines=(),
        created_at=NOW,
        updated_at=NOW,
    )


@pytest.mark.parametrize("operation", sorted(LIFECYCLE))
def test_each_command_starts_where_the_state_machine_allows_its_target(operation):
    step = LIFECYCLE[operation]
    assert step.start == {s for s, targets in ALLOWED.items() if step.to in targets}


def test_the_table_names_the_mutations_and_what_each_owes():
    assert {op: (step.to, step.channel) for op, step in LIFECYCLE.items()} == {
        "markReadyForPickup": (S.READY_FOR_PICKUP, Channel.PICKUP),
        "confirmPickup": (S.COLLECTED, Channel.PICKUP),
        "shipOrder": (S.SHIPPED, Channel.ONLINE),
        "confirmDelivery": (S.DELIVERED, None),
        "cancelOrder": (S.CANCELLED, None),
    }
    told, mailed = Owed.STOREFRONT_TOLD, Owed.CUSTOMER_MAILED
    leave = (Owed.UNITS_LEAVE, Owed.OMS_FULFILMENT, told)
    assert {
        S.READY_FOR_PICKUP: (told, mailed),
        S.COLLECTED: leave,
        S.SHIPPED: leave,
        S.DELIVERED: (told,),
        S.CANCELLED: (Owed.RELEASE_AT_SOURCES, Owed.OMS_CANCELLATION, told, mailed),
    } == OWED


def test_every_status_a_command_reaches_says_what_the_storefront_is_told():
    for step in LIFECYCLE.values():
        news = web_news(step.to, pickup_status="ready-for-pickup", store="Berlin Mitte")
        assert news is not None and news.note
    assert web_news(S.SHIPPED, pickup_status=None).status == "completed"
    assert web_news(S.READY_FOR_PICKUP, pickup_status=None).status is None
    assert "Berlin Mitte" in web_news(S.COLLECTED, pickup_status=None, store="Berlin Mitte").note


@given(
    operation=st.sampled_from(sorted(LIFECYCLE)),
    status=st.sampled_from(list(OrderStatus)),
    channel=st.sampled_from(list(Channel)),
)
def test_a_command_moves_an_order_changes_nothing_or_says_why_not(operation, status, channel):
    step = LIFECYCLE[operation]
    try:
        moves = check_step(step, order(status, channel))
    except BadUserInput:
        # Only a command for the other channel's orders is refused as bad input.
        assert step.channel is not None and channel is not step.channel
        return
    except IllegalTransition as refused:
        # Anything else it cannot do is an illegal transition naming where it can go.
        assert status is not step.to and step.to not in ALLOWED[status]
        assert refused.details == {"status": status.value, "requested": step.to.value}
        return
    assert step.channel in (None, channel)
    # Already there: nothing changes (a retry of a command that succeeded is harmless).
    assert moves is (status is not step.to)
    if moves:
        assert step.to in ALLOWED[status]


@given(status=st.sampled_from(list(OrderStatus)))
def test_a_no_show_is_taken_only_by_a_ready_pickup_order(status):
    try:
        moves = check_step(NO_SHOW, order(status, Channel.PICKUP))
    except IllegalTransition as refused:
        assert status not in (S.READY_FOR_PICKUP, S.CANCELLED)
        assert refused.details == {"status": status.value, "requested": "CANCELLED"}
        return
    # A ready order is cancelled; one cancelled already (a retry) stays as it is.
    assert (status, moves) in ((S.READY_FOR_PICKUP, True), (S.CANCELLED, False))
