"""The delta polls under the webhooks: a change no webhook told the gateway of (dropped,
delayed, never sent) is caught by the next poll, handled once, and reaches the next answer.
The retailer here is stamped now, as the demo's is, so the sources' clocks agree with the
gateway's."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from gateway.domain import SourceSystem
from sandbox.erpnext.bins import BinLedger
from sandbox.erpnext.wire import site_datetime
from sandbox.sample_data import generate
from tests.e2e.support import (
    BERLIN_STORE,
    CENTRAL_WAREHOUSE,
    SHOE,
    Stack,
    gateway,
    position,
)
from tests.e2e.test_notifications import ring_up_at_the_till
from tests.e2e.test_webhooks import freshness
from tests.woocommerce_support import API, KEY, SECRET, client


@pytest.fixture(scope="module")
def dataset():
    return generate(seed=42, skus=500, stores=12, base_time=datetime.now(UTC))


@pytest.fixture
async def polled(dataset, tmp_path) -> AsyncIterator[Stack]:
    async with gateway(dataset, tmp_path) as stack:
        # The first poll only sets the marks: from here on each change is caught.
        await stack.services.delta_poll.run()
        yield stack


async def test_a_warehouse_move_no_webhook_told_of_is_caught_by_the_next_poll(polled: Stack):
    before = await position(polled.gql, SHOE, CENTRAL_WAREHOUSE)
    warehouse = before["location"]["sourceRef"]
    bins = BinLedger(
        polled.apps["erp"].state.store, lambda: site_datetime(datetime.now(UTC), "Europe/Berlin")
    )
    bins.move(SHOE, warehouse, actual_qty=-3)
    assert (await position(polled.gql, SHOE, CENTRAL_WAREHOUSE))["onHand"] == before["onHand"]

    report = await polled.services.delta_poll.run()

    # (The first poll set the marks a moment after the retailer was stamped: a Bin seeded
    # in that moment may be named too.)
    assert SHOE in report.found and report.changed[SourceSystem.ERP] >= 1
    assert (await position(polled.gql, SHOE, CENTRAL_WAREHOUSE))["onHand"] == before["onHand"] - 3
    # The next poll overlaps this one but handles the move only once.
    assert (await polled.services.delta_poll.run()).changed[SourceSystem.ERP] == 0


async def test_a_till_sale_no_webhook_told_of_is_caught_by_the_next_poll(polled: Stack):
    before = await position(polled.gql, SHOE, BERLIN_STORE)
    await ring_up_at_the_till(polled, SHOE, before["location"]["sourceRef"], 1)

    report = await polled.services.delta_poll.run()

    assert SHOE in report.found and report.changed[SourceSystem.POS] >= 1
    assert (await position(polled.gql, SHOE, BERLIN_STORE))["onHand"] == before["onHand"] - 1
    assert await freshness(polled, SHOE, BERLIN_STORE) == ("POLL", "HIGH")


SOCKS = "SOCK-MER-CREW-M"  # a simple product in WooCommerce


async def test_a_storefront_edit_no_webhook_told_of_is_caught_and_corrected(polled: Stack):
    # A shop manager edits the stock in WooCommerce's admin (its REST API, in process).
    async with client(polled.apps["woocommerce"], auth=(KEY, SECRET)) as woo:
        (product,) = (await woo.get(f"{API}/products", params={"sku": SOCKS})).json()
        shown = product["stock_quantity"]
        edited = await woo.put(
            f"{API}/products/{product['id']}", json={"stock_quantity": shown + 40}
        )
        assert edited.status_code == 200

        report = await polled.services.delta_poll.run()
        await polled.drain()  # the correction the reconcile owes WooCommerce
        (after,) = (await woo.get(f"{API}/products", params={"sku": SOCKS})).json()

    assert SOCKS in report.found and report.changed[SourceSystem.STOREFRONT] >= 1
    assert after["stock_quantity"] == shown  # the copy follows its truth again
