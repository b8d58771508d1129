"""A marked-down pack's price label at the till, over the ERPNext simulator and the real
adapter: the label names its item by the template code in the item's barcode table (its
second row, after the GTIN), and the gateway says what the pack costs."""

from __future__ import annotations

from gateway.config import Settings
from gateway.domain.embedded_barcodes import EmbeddedLayout, EmbeddedValue, encode
from sandbox.sample_data import LABELLED_EVERY
from tests.e2e.support import ok

SCAN = """query ($code: String!) { productByBarcode(code: $code) {
  sku name barcodes scan { itemReference price { amount currency } } } }"""


async def test_a_price_label_finds_its_item_in_erpnext_and_carries_its_price(stack, dataset):
    labelled = [item for item in dataset.items.values() if item.label_barcode]
    assert labelled, "the sample retailer has price-labelled items"
    item = labelled[0]
    number = int(item.sku.rsplit("-", 1)[1])
    assert number % LABELLED_EVERY == 0
    # The gateway's default layout for prefix 21: five item digits, the price in cents.
    (layout,) = [
        layout for layout in Settings(_env_file=None).barcodes.layouts() if "21" in layout.prefixes
    ]
    assert layout == EmbeddedLayout(frozenset({"21", "22"}), EmbeddedValue.PRICE)
    label = encode(layout, "21", f"{number:05d}", 749)  # marked down to 7.49

    found = (await ok(stack.gql, SCAN, code=label))["productByBarcode"]

    assert found["sku"] == item.sku and found["name"] == item.name
    assert item.label_barcode in found["barcodes"] and item.barcode in found["barcodes"]
    assert found["scan"] == {
        "itemReference": f"{number:05d}",
        "price": {"amount": "7.49", "currency": "EUR"},
    }
    # Its GTIN still names it, with no amount.
    plain = (await ok(stack.gql, SCAN, code=item.barcode))["productByBarcode"]
    assert plain["sku"] == item.sku and plain["scan"]["price"] is None
