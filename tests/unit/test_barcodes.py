import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.barcodes import check_digit, equivalent_forms, validate_gtin
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
