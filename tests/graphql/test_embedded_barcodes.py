"""A scale's label at the till: productByBarcode reads a price or weight label of a
configured GS1 prefix, finds the item by its template code in the ERP's barcode table, and
says what the pack costs or weighs. A misread price is refused, never sold at a wrong price."""

from __future__ import annotations

from dataclasses import replace

import pytest

from gateway.barcodes import check_digit
from gateway.domain.embedded_barcodes import EmbeddedLayout, EmbeddedValue, encode
from tests.fakes import small_retailer

PRICE = EmbeddedLayout(frozenset({"21"}), EmbeddedValue.PRICE)
WEIGHT = EmbeddedLayout(frozenset({"23"}), EmbeddedValue.WEIGHT, item_digits=4, verified=True)
SOCKS_TEMPLATE = "2112345000000"[:12] + check_digit("211234500000")  # the socks' PLU code
SHOES_TEMPLATE = "230042" + "000000"[:6]  # 23, item 0042, verifier and value zero


@pytest.fixture
def retailer():
    erp, web, pos = small_retailer()
    shoes_template = SHOES_TEMPLATE + check_digit(SHOES_TEMPLATE)
    for sku, template in (("SOCK-M", SOCKS_TEMPLATE), ("SHOE-42", shoes_template)):
        item = erp.items[sku]
        erp.items[sku] = replace(item, barcodes=(*item.barcodes, template))
    return erp, web, pos


@pytest.fixture
def settings_overrides():
    return {
        "barcodes": {
            "embedded": [
                {"prefixes": ["21"], "value": "PRICE"},
                {"prefixes": ["23"], "value": "WEIGHT", "item_digits": 4, "verified": True},
            ],
            "currency": "EUR",
        }
    }


SCAN = """query ($code: String!) { productByBarcode(code: $code) {
  sku scan { code itemReference price { amount currency minorUnits } weightGrams } } }"""


async def test_a_price_label_names_its_item_and_the_pack_s_price(gql):
    label = encode(PRICE, "21", "12345", 1234)  # 12.34 EUR
    body = await gql(SCAN, code=label)
    assert "errors" not in body, body
    assert body["data"]["productByBarcode"] == {
        "sku": "SOCK-M",
        "scan": {
            "code": label,
            "itemReference": "12345",
            "price": {"amount": "12.34", "currency": "EUR", "minorUnits": 1234},
            "weightGrams": None,
        },
    }


async def test_a_weight_label_with_its_verifier_names_its_item_and_weight(gql):
    label = encode(WEIGHT, "23", "0042", 1250)
    body = await gql(SCAN, code=label)
    assert body["data"]["productByBarcode"]["sku"] == "SHOE-42"
    assert body["data"]["productByBarcode"]["scan"]["weightGrams"] == 1250
    assert body["data"]["productByBarcode"]["scan"]["price"] is None


async def test_a_misread_weight_is_refused_with_its_reason(gql):
    label = encode(WEIGHT, "23", "0042", 1250)
    misread = label[:8] + "3" + label[9:12]  # 1.350 kg read for 1.250 ...
    misread += check_digit(misread)  # ... and the EAN check digit agreeing with the misread
    body = await gql(SCAN, code=misread)
    assert body["data"]["productByBarcode"] is None
    error = body["errors"][0]
    assert error["extensions"]["code"] == "INVALID_BARCODE"
    assert error["extensions"]["reason"] == "BAD_PRICE_CHECK_DIGIT"


async def test_a_plain_gtin_scan_says_no_amount(gql):
    body = await gql(SCAN, code="4006381333948")
    assert body["data"]["productByBarcode"]["scan"] == {
        "code": "4006381333948",
        "itemReference": None,
        "price": None,
        "weightGrams": None,
    }


async def test_a_label_of_an_item_no_one_registered_is_not_found(gql):
    body = await gql(SCAN, code=encode(PRICE, "21", "99999", 500))
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_a_product_asked_for_by_sku_has_no_scan(gql):
    body = await gql('{ product(sku: "SOCK-M") { scan { code } } }')
    assert body["data"]["product"]["scan"] is None
