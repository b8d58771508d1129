"""Refunds of web order lines: what returned units are worth including tax (prorated to the
cent, ROUND_HALF_UP, cumulatively so the parts of a line add up to exactly what it cost), and
how a refund is split into WooCommerce's refund_total and refund_tax per rate."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.domain import Money
from gateway.domain.documents import WebOrder, WebOrderLine, WebTax
from gateway.domain.orders import ItemCondition, ReturnReason
from gateway.services.orders.web_orders import (
    canonical_from_web,
    prorate,
    refund_share,
    split_by_rate,
    web_refund_line,
)
from gateway.services.returns.rules import DEFAULT_RULES, ReturnLineRequest, plan_return

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def eur(amount: str | Decimal) -> Money:
    return Money(Decimal(amount), "EUR")


# Order 10456: 3 gloves at 85.99 including 19% VAT.
GLOVES = WebOrderLine(
    9001, "GLOV-00236-L", 3, eur("216.78"), eur("41.19"), (WebTax(1, eur("41.188655")),)
)


def web_order(*lines: WebOrderLine) -> WebOrder:
    return WebOrder(
        10456, "10456", "completed", T0, T0, "p@example.org", "Paul Richter",
        eur(sum((line.paid.amount for line in lines), Decimal(0))), lines,
    )  # fmt: skip


def test_given_a_whole_line_returned_then_the_refund_is_exactly_total_plus_tax():
    share = refund_share(GLOVES, 0, 3)
    line = web_refund_line(GLOVES, 3, share)
    assert share == eur("257.97")
    assert (line.amount, line.tax, line.taxes) == (
        eur("216.78"),
        eur("41.19"),
        (WebTax(1, eur("41.19")),),
    )


def test_given_one_glove_of_three_returned_then_it_is_what_one_glove_cost_with_vat():
    share = refund_share(GLOVES, 0, 1)
    line = web_refund_line(GLOVES, 1, share)
    assert share == eur("85.99")
    assert (line.line_id, line.quantity, line.amount, line.tax) == (
        9001,
        1,
        eur("72.26"),
        eur("13.73"),
    )
    assert line.taxes == (WebTax(1, eur("13.73")),)


def test_partial_quantities_are_prorated_half_up_to_the_cent_and_add_up():
    # 10.00 for three: 3.33, then 6.67 - 3.33 = 3.34, then 10.00 - 6.67 = 3.33.
    line = WebOrderLine(1, "X", 3, eur("8.40"), eur("1.60"))
    assert [refund_share(line, n, 1) for n in range(3)] == [eur("3.33"), eur("3.34"), eur("3.33")]
    # Half a cent rounds up (ROUND_HALF_UP), not to even.
    assert prorate(Decimal("0.05"), 1, 2) == Decimal("0.03")
    assert prorate(Decimal("0.05"), 2, 2) == Decimal("0.05")


def test_more_units_than_the_line_has_left_are_refused():
    with pytest.raises(ValueError):
        refund_share(GLOVES, 2, 2)


@given(
    quantity=st.integers(1, 12),
    paid_cents=st.integers(1, 10**7),
    cuts=st.lists(st.integers(1, 12), min_size=1, max_size=12),
)
def test_however_a_line_is_returned_in_parts_the_refunds_add_up_to_what_it_cost(
    quantity, paid_cents, cuts
):
    paid = Decimal(paid_cents).scaleb(-2)
    tax = (paid * Decimal("0.19") / Decimal("1.19")).quantize(Decimal("0.01"))
    line = WebOrderLine(1, "X", quantity, eur(paid - tax), eur(tax), (WebTax(1, eur(tax)),))
    parts, before = [], 0
    for cut in cuts:
        units = min(cut, quantity - before)
        if units <= 0:
            break
        share = refund_share(line, before, units)
        refund = web_refund_line(line, units, share)
        assert refund.amount.amount + refund.tax.amount == share.amount
        assert sum(t.amount.amount for t in refund.taxes) == refund.tax.amount
        parts.append(share.amount)
        before += units
    if before < quantity:
        parts.append(refund_share(line, before, quantity - before).amount)
    assert sum(parts) == paid


def test_tax_is_spread_over_several_rates_and_adds_up():
    parts = split_by_rate(
        Decimal("10.00"), (WebTax(1, eur("7.000001")), WebTax(4, eur("2"))), "EUR"
    )
    assert parts == (WebTax(1, eur("7.78")), WebTax(4, eur("2.22")))
    assert split_by_rate(Decimal("1.00"), (), "EUR") == ()


def test_a_web_order_line_is_priced_per_unit_including_tax():
    order = canonical_from_web(web_order(GLOVES), T0)
    assert order is not None
    (line,) = order.lines
    assert (line.sku, line.quantity, line.unit_price, line.web_line_id) == (
        "GLOV-00236-L",
        3,
        eur("85.99"),
        9001,
    )


def test_given_known_web_figures_when_a_return_is_planned_then_its_refund_is_exact():
    """Given a line whose per-unit price does not divide its total evenly (3 units, 100.00
    paid), the planned refund of all three is the line's 100.00, not 3 x 33.33."""
    odd = WebOrderLine(9002, "SOCK", 3, eur("84.03"), eur("15.97"), (WebTax(1, eur("15.97")),))
    order = canonical_from_web(web_order(odd), T0)
    assert order is not None
    assert order.lines[0].unit_price == eur("33.33")
    request = [ReturnLineRequest("SOCK", 3, ReturnReason.OTHER, ItemCondition.NEW)]

    exact = plan_return(order, request, DEFAULT_RULES, "WH-RETURNS", {9002: odd})
    rounded = plan_return(order, request, DEFAULT_RULES, "WH-RETURNS")

    assert exact[0].refund == eur("100.00")
    assert rounded[0].refund == eur("99.99")  # without the figures: unit price x quantity
