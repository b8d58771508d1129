"""The sample retailer's storefront stock is what the gateway promises online, except on the
seeded drift SKUs: the premise of the stock reconciler, checked against the real gateway over
the four simulators for every stock SKU of the demo dataset."""

from __future__ import annotations

from typing import Any

from tests.e2e.support import Stack, ok

CART = 100  # the most SKUs one availability query takes (MAX_PAGE_SIZE)

ONLINE = """query ($skus: [String!]!) {
  availability(skus: $skus, channel: ONLINE) { sku totalAvailable } }"""
LISTINGS = """query ($after: String) { products(first: 100, after: $after) {
  edges { node { sku webListing { stockQuantity } } } pageInfo { hasNextPage endCursor } } }"""


async def online_figures(stack: Stack, skus: list[str]) -> dict[str, int]:
    figures: dict[str, int] = {}
    for start in range(0, len(skus), CART):
        data = await ok(stack.gql, ONLINE, skus=skus[start : start + CART])
        figures.update({row["sku"]: row["totalAvailable"] for row in data["availability"]})
    return figures


async def storefront_stock(stack: Stack) -> dict[str, int | None]:
    stock: dict[str, int | None] = {}
    after: str | None = None
    while True:
        page: dict[str, Any] = (await ok(stack.gql, LISTINGS, after=after))["products"]
        for edge in page["edges"]:
            listing = edge["node"]["webListing"]
            stock[edge["node"]["sku"]] = None if listing is None else listing["stockQuantity"]
        if not page["pageInfo"]["hasNextPage"]:
            return stock
        after = page["pageInfo"]["endCursor"]


async def test_the_gateway_promises_online_exactly_what_the_dataset_says(stack, dataset):
    # Given the demo retailer freshly seeded, nothing held
    skus = dataset.stock_skus
    assert len(skus) > 400
    # When the gateway is asked for every stock SKU's ONLINE availability, 100 at a time
    figures = await online_figures(stack, skus)
    # Then each total is the dataset's ONLINE figure: warehouses plus ship-from-store stores
    expected = {sku: dataset.online_sellable(sku) for sku in skus}
    assert figures == expected
    assert sum(figures[s] != dataset.erp_sellable(s) for s in skus) > 100  # stores count


async def test_the_storefront_differs_from_the_online_figure_only_on_the_drift_skus(stack, dataset):
    # Given the gateway's ONLINE figures and the storefront's copies it shows beside them
    skus = dataset.stock_skus
    figures = await online_figures(stack, skus)
    stock = await storefront_stock(stack)
    assert set(skus) <= stock.keys()
    # Then the copy disagrees exactly on the seeded drift, so a reconciler finds just that
    drifting = {s for s in skus if stock[s] != figures[s]}
    assert drifting and drifting <= dataset.drift_skus
    assert len(drifting) >= len(dataset.drift_skus) * 0.8
    # And kits, which are not stock items, have listings that manage no stock
    assert all(stock[kit] is None for kit in dataset.kits)
