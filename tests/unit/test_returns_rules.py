"""Return dispositions (default and configured rules) and what may be returned."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from gateway.domain import Channel, Money
from gateway.domain.orders import (
    Disposition,
    ItemCondition,
    Order,
    OrderLine,
    OrderOrigin,
    OrderStatus,
    ReturnReason,
)
from gateway.errors import BadUserInput, IllegalTransition
from gateway.services.returns.rules import (
    DEFAULT_RULES,
    ReturnLineRequest,
    decide_disposition,
    parse_rules,
    plan_return,
    returnable,
)

R, C, D = ReturnReason, ItemCondition, Disposition
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def eur(amount):
    return Money(Decimal(amount), "EUR")


def order(status=OrderStatus.DELIVERED, lines=None):
    lines = lines or (
        OrderLine("SHOE", 2, eur("119.00"), "WH-CENTRAL", returned_quantity=1),
        OrderLine("SOCK", 3, eur("14.00"), "ST-MITTE"),
    )
    return Order(
        "ord_1", OrderOrigin.GATEWAY, Channel.ONLINE, status, "a@b.c", "A B", eur("280.00"),
        tuple(lines), T0, T0,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("reason", "condition", "expected"),
    [
        (R.CHANGED_MIND, C.NEW, D.RESTOCK),
        (R.SIZE_OR_FIT, C.NEW, D.RESTOCK),
        (R.CHANGED_MIND, C.OPENED, D.INSPECT),
        (R.CHANGED_MIND, C.DAMAGED, D.DISPOSE),
        (R.DEFECTIVE, C.DAMAGED, D.DISPOSE),  # condition DAMAGED is checked first
        (R.CHANGED_MIND, C.DEFECTIVE, D.REFURBISH),
        (R.DEFECTIVE, C.NEW, D.REFURBISH),  # a defect claim on a sealed box: repair flow
        (R.DAMAGED, C.NEW, D.INSPECT),  # customer says damaged, looks new: a person checks
        (R.NOT_AS_DESCRIBED, C.NEW, D.INSPECT),
        (R.WRONG_ITEM, C.NEW, D.RESTOCK),
        (R.OTHER, C.OPENED, D.INSPECT),
    ],
)
def test_default_dispositions_per_condition_and_reason(reason, condition, expected):
    assert decide_disposition(reason, condition, DEFAULT_RULES) is expected


def test_given_no_rule_matches_then_a_person_inspects_it():
    assert decide_disposition(R.OTHER, C.NEW, ()) is D.INSPECT


def test_configured_rules_apply_first_match_wins():
    rules = parse_rules(
        [
            {"disposition": "RESTOCK", "conditions": ["OPENED"], "reasons": ["SIZE_OR_FIT"]},
            {"disposition": "DISPOSE", "conditions": ["OPENED", "DAMAGED"]},
            {"disposition": "RESTOCK"},  # anything else
        ]
    )
    assert decide_disposition(R.SIZE_OR_FIT, C.OPENED, rules) is D.RESTOCK
    assert decide_disposition(R.CHANGED_MIND, C.OPENED, rules) is D.DISPOSE
    assert decide_disposition(R.DEFECTIVE, C.DEFECTIVE, rules) is D.RESTOCK


def test_a_rule_naming_an_unknown_code_is_refused_when_parsed():
    with pytest.raises(ValueError):
        parse_rules([{"disposition": "RESTOCK", "conditions": ["MINT"]}])
    with pytest.raises(ValueError):
        parse_rules([{"disposition": "SELL_AGAIN"}])


def test_returnable_is_delivered_less_already_returned():
    assert returnable(order()) == {"SHOE": 1, "SOCK": 3}


def test_given_a_delivered_order_when_a_return_is_planned_then_lines_get_node_refund_and_disposition():
    planned = plan_return(
        order(),
        [
            ReturnLineRequest("SOCK", 2, R.SIZE_OR_FIT, C.NEW),
            ReturnLineRequest("SHOE", 1, R.CHANGED_MIND, C.OPENED),
        ],
        DEFAULT_RULES,
        None,
    )
    assert [(x.sku, x.quantity, x.disposition, x.location_id, x.refund) for x in planned] == [
        ("SOCK", 2, D.RESTOCK, "ST-MITTE", eur("28.00")),
        ("SHOE", 1, D.INSPECT, "WH-CENTRAL", eur("119.00")),
    ]


def test_more_than_delivered_minus_returned_is_refused_with_what_can_still_come_back():
    with pytest.raises(BadUserInput) as refused:
        plan_return(
            order(), [ReturnLineRequest("SHOE", 2, R.CHANGED_MIND, C.NEW)], DEFAULT_RULES, None
        )
    assert refused.value.details["returnable"] == 1
    # Two lines of one SKU count together.
    with pytest.raises(BadUserInput):
        plan_return(
            order(),
            [ReturnLineRequest("SOCK", 2, R.CHANGED_MIND, C.NEW)] * 2,
            DEFAULT_RULES,
            None,
        )


@pytest.mark.parametrize(
    "status",
    [OrderStatus.PLACED, OrderStatus.ALLOCATED, OrderStatus.SHIPPED, OrderStatus.CANCELLED,
     OrderStatus.READY_FOR_PICKUP, OrderStatus.RETURNED],
)  # fmt: skip
def test_an_order_not_delivered_cannot_be_returned(status):
    with pytest.raises(IllegalTransition):
        plan_return(
            order(status), [ReturnLineRequest("SOCK", 1, R.OTHER, C.NEW)], DEFAULT_RULES, None
        )


def test_unknown_sku_zero_quantity_and_no_lines_are_refused():
    for lines in (
        [ReturnLineRequest("HAT", 1, R.OTHER, C.NEW)],
        [ReturnLineRequest("SOCK", 0, R.OTHER, C.NEW)],
        [],
    ):
        with pytest.raises(BadUserInput):
            plan_return(order(), lines, DEFAULT_RULES, None)


def test_a_line_with_no_fulfillment_node_goes_to_the_returns_location_or_is_refused():
    web = order(lines=(OrderLine("SOCK", 1, eur("14.00"), None),))
    request = [ReturnLineRequest("SOCK", 1, R.OTHER, C.NEW)]
    assert plan_return(web, request, DEFAULT_RULES, "WH-RETURNS")[0].location_id == "WH-RETURNS"
    with pytest.raises(BadUserInput, match="RETURNS_LOCATION_ID"):
        plan_return(web, request, DEFAULT_RULES, None)
