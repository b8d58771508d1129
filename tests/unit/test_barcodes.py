import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.barcodes import (
    check_digit,
    equivalent_forms,
    internal_code,
    validate_assignable,
    validate_gtin,
)
from gateway.errors import InvalidBarcode


@pytest.mark.parametrize(
    "code",
    ["4006381333931", "036000291452", "96385074", "10614141000415", " 4006381333948 "],
)
def test_given_valid_gtins_when_validated_then_accepted(code):
    assert validate_gtin(code) == code.strip()


def test_given_wrong_check_digit_then_error_names_the_expected_digit():
    with pytest.raises(InvalidBarcode) as err:
        validate_gtin("4006381333932")
    assert err.value.code == "INVALID_BARCODE"
    assert err.value.details["expected_check_digit"] == "1"
    assert "expected 1" in err.value.message


@pytest.mark.parametrize(
    ("code", "reason"), [("40063813339", "BAD_LENGTH"), ("40063A1333931", "NOT_NUMERIC")]
)
def test_given_malformed_code_then_reason_says_why(code, reason):
    with pytest.raises(InvalidBarcode) as err:
        validate_gtin(code)
    assert err.value.details["reason"] == reason


@given(st.text(alphabet="0123456789", min_size=11, max_size=13))
def test_property_appending_check_digit_always_validates_and_any_other_digit_fails(body):
    good = body + check_digit(body)
    assert validate_gtin(good) == good
    wrong = body + str((int(check_digit(body)) + 1) % 10)
    with pytest.raises(InvalidBarcode):
        validate_gtin(wrong)


def test_upc_a_and_its_ean13_and_gtin14_forms_are_equivalent():
    assert equivalent_forms("036000291452") == ["036000291452", "0036000291452", "00036000291452"]
    assert equivalent_forms("0036000291452")[1:] == ["036000291452", "00036000291452"]


printable = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=48)


@given(printable)
def test_any_printable_code_of_a_label_s_width_may_be_assigned_as_it_is(code):
    if code.isdigit() and len(code) in (8, 12, 13, 14):
        return  # a GTIN's own rules apply (check digit)
    assert validate_assignable(code) == code


@given(printable, st.characters(blacklist_categories=(), min_codepoint=0x7F))
def test_a_character_a_code_128_label_cannot_carry_is_refused(code, outside):
    with pytest.raises(InvalidBarcode) as refused:
        validate_assignable(code[:20] + outside + "X")  # inside: not trimmed as a space
    assert refused.value.details["reason"] == "NOT_CODE_128"


def test_an_internal_code_is_the_prefix_and_the_sku_and_too_long_is_refused():
    assert internal_code("KIT-RUN", "CG-") == "CG-KIT-RUN"
    with pytest.raises(InvalidBarcode) as refused:
        internal_code("X" * 48, "CG-")
    assert refused.value.details["reason"] == "BAD_LENGTH"
