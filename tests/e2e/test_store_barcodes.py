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


ASSIGN = """mutation ($sku: String!, $code: String, $key: String!) {
  assignBarcode(sku: $sku, code: $code, idempotencyKey: $key) { sku code written } }"""


async def test_a_shelf_code_given_to_an_item_lands_in_erpnext_and_scans(stack, dataset):
    item = next(i for i in dataset.items.values() if i.sellable and not i.label_barcode)
    code = f"SHELF-{item.sku}"
    # Given a store labelling a shelf with a code of its own,
    assigned = await ok(stack.gql, ASSIGN, sku=item.sku, code=code, key="shelf-1")
    assert assigned["assignBarcode"] == {"sku": item.sku, "code": code, "written": False}
    # when the worker has written it to the item's barcode table,
    await stack.drain()
    # then ERPNext has it, untyped (ERPNext's types are GTIN families it validates),
    erp = stack.apps["erp"].state.store.document("Item", item.sku)
    assert {"barcode": code, "barcode_type": ""}.items() <= erp["barcodes"][-1].items()
    # a scan of it finds the item, and asking again says it is written.
    found = (await ok(stack.gql, SCAN, code=code))["productByBarcode"]
    assert found["sku"] == item.sku and code in found["barcodes"]
    again = await ok(stack.gql, ASSIGN, sku=item.sku, code=code, key="shelf-1")
    assert again["assignBarcode"]["written"] is True


async def test_another_item_s_gtin_is_a_barcode_conflict(stack, dataset):
    first, second = [i for i in dataset.items.values() if i.sellable and i.barcode][:2]
    body = await stack.gql(ASSIGN, sku=second.sku, code=first.barcode, key="shelf-2")
    (error,) = body["errors"]
    assert error["extensions"] == {
        "code": "BARCODE_CONFLICT",
        "barcode": first.barcode,
        "sku": first.sku,
    }
