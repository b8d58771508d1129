"""Price- and weight-embedded EAN-13: GS1's verifier digit on hand-worked values, and for any
layout and amount a printed label decodes to its item and amount, while any one misread
digit of the value is refused."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.barcodes import check_digit
from gateway.domain.embedded_barcodes import (
    EmbeddedLayout,
    EmbeddedValue,
    decode,
    encode,
    layout_for,
    verifier_digit,
)
from gateway.errors import InvalidBarcode

PRICE = EmbeddedLayout(frozenset({"21", "22"}), EmbeddedValue.PRICE)
VERIFIED_PRICE = EmbeddedLayout(frozenset({"20"}), EmbeddedValue.PRICE, verified=True)
WEIGHT = EmbeddedLayout(frozenset({"23"}), EmbeddedValue.WEIGHT, item_digits=4, verified=True)


def test_the_verifier_digit_of_hand_worked_values():
    # 2875: 2-(2)=4, 2-(8)=16->6-1=5, 3(7)=21, 5-(5)=25->5-2=3; (4+5+21+3) x 3 = 99 -> 9.
    assert verifier_digit("2875") == "9"
    # 14685: 5+(1)=5, 2-(4)=8, 5-(6)=30->0-3=7, 5+(8)=40->0+4=4, 2-(5)=10->0-1=9; sum 33;
    # the verifier c has 5-(c) = 10 - 3 = 7: c = 6 (30 -> 0-3 = 7).
    assert verifier_digit("14685") == "6"
    assert verifier_digit("0000") == "0"


def test_a_price_label_decodes_to_its_item_its_price_and_its_template():
    # Prefix 21, item 12345, 12.34 EUR as 01234 cents, check digit.
    body = "2112345" + "01234"
    code = body + check_digit(body)
    decoded = decode(code, PRICE)
    assert (decoded.item_reference, decoded.amount) == ("12345", 1234)
    assert decoded.template == "2112345000000"[:12] + check_digit("211234500000")


def test_a_weight_label_with_its_verifier():
    # Prefix 23, item 0042, verifier of 01250 (1.250 kg), 5 digits.
    code = encode(WEIGHT, "23", "0042", 1250)
    assert code[:6] == "230042" and code[7:12] == "01250"
    assert code[6] == verifier_digit("01250")
    assert decode(code, WEIGHT).amount == 1250


def test_a_misread_price_is_refused_by_its_verifier_even_with_a_good_check_digit():
    code = encode(VERIFIED_PRICE, "20", "12345", 999)  # 9.99 with a 4-digit value
    misread = code[:8] + "1" + code[9:12]  # one value digit wrong ...
    misread += check_digit(misread)  # ... and the EAN check digit made to match
    with pytest.raises(InvalidBarcode) as refused:
        decode(misread, VERIFIED_PRICE)
    assert refused.value.details["reason"] == "BAD_PRICE_CHECK_DIGIT"


def test_a_bad_check_digit_is_refused():
    code = encode(PRICE, "21", "12345", 1234)
    wrong = code[:-1] + str((int(code[-1]) + 1) % 10)
    with pytest.raises(InvalidBarcode) as refused:
        decode(wrong, PRICE)
    assert refused.value.details["reason"] == "BAD_CHECK_DIGIT"


def test_only_the_configured_prefixes_are_embedded_codes():
    layouts = (PRICE, WEIGHT)
    assert layout_for("2112345012344", layouts) is PRICE
    assert layout_for("4006381333931", layouts) is None  # a GTIN
    assert layout_for("2912345012344", layouts) is None  # 29 is not configured
    assert layout_for("21123450123", layouts) is None  # not 13 digits


@pytest.mark.parametrize(
    ("layout", "problem"),
    [
        (EmbeddedLayout(frozenset({"19"}), EmbeddedValue.PRICE), "prefixes"),
        (EmbeddedLayout(frozenset({"21"}), EmbeddedValue.PRICE, item_digits=10), "no room"),
        (EmbeddedLayout(frozenset({"21"}), EmbeddedValue.PRICE, 3, verified=True), "4- or 5-"),
    ],
)
def test_a_layout_that_cannot_be_says_why(layout, problem):
    assert problem in (layout.problem() or "")


layouts = st.builds(
    lambda value, item_digits, verified: EmbeddedLayout(
        frozenset({"21"}), value, item_digits, verified
    ),
    st.sampled_from(EmbeddedValue),
    st.integers(1, 9),
    st.booleans(),
).filter(lambda layout: layout.problem() is None)


@given(layouts, st.data())
def test_any_label_decodes_to_what_was_printed_and_a_misread_value_never_passes(layout, data):
    item = data.draw(
        st.text("0123456789", min_size=layout.item_digits, max_size=layout.item_digits)
    )
    amount = data.draw(st.integers(0, 10**layout.value_digits - 1))
    code = encode(layout, "21", item, amount)
    decoded = decode(code, layout)
    assert len(code) == 13 and (decoded.item_reference, decoded.amount) == (item, amount)
    assert decoded.template[: 2 + layout.item_digits] == code[: 2 + layout.item_digits]
    assert set(decoded.template[2 + layout.item_digits : 12]) <= {"0"}
    if layout.verified:
        # Any one value digit misread, the EAN check digit recomputed to match: refused.
        start = 3 + layout.item_digits
        position = data.draw(st.integers(start, 11))
        digit = data.draw(st.sampled_from([d for d in "0123456789" if d != code[position]]))
        body = code[:position] + digit + code[position + 1 : 12]
        with pytest.raises(InvalidBarcode):
            decode(body + check_digit(body), layout)
