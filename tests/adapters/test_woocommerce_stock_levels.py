"""Many listings' stock at once (set_stock_levels): simple products through products/batch,
variations through one variations/batch per parent, at most 100 items a call, answers in the
order asked, per-item errors beside saved items, against the contract fixtures and the
simulator; and the service tests' fake answers the same way."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from typing import Any

import httpx
import pytest

from adapters.woocommerce import WooCommerceAdapter, build_woocommerce_client
from adapters.woocommerce.stock_levels import BATCH_LIMIT, CONCURRENT_CALLS
from gateway.domain import WebListing, WebStockUpdate, WebStockWritten
from gateway.errors import BackendAuthError, BackendError, BackendRejected
from sandbox.retailer import WebProduct
from sandbox.woocommerce import create_app
from tests.adapters.test_woocommerce_adapter import mock_adapter, settings, simulator_adapter
from tests.fakes import FakeStorefront
from tests.live_server import serve
from tests.woocommerce_support import API, contract, dataset

PRODUCTS_BATCH = f"POST {API}/products/batch"
VARIATIONS_BATCH = f"POST {API}/products/{{product_id}}/variations/batch"
KIT = 5320  # KIT-0001, a bundle whose stock WooCommerce does not manage


def product(product_id: int) -> WebProduct:
    return dataset().web_products[product_id]


def managed_simple_products() -> list[WebProduct]:
    return [p for p in dataset().web_products.values() if p.type == "simple" and p.manage_stock]


def update(p: WebProduct, **fields: Any) -> WebStockUpdate:
    if p.type == "variation":
        return WebStockUpdate(p.sku, p.parent_id, p.id, **fields)
    return WebStockUpdate(p.sku, p.id, None, **fields)


def stock_fields(listing: WebListing | None) -> tuple[Any, ...] | None:
    if listing is None:
        return None
    return (
        listing.sku,
        listing.product_id,
        listing.variation_id,
        listing.manage_stock,
        listing.stock_quantity,
        listing.stock_status,
        listing.backorders,
    )


def sent_items(request: httpx.Request) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = json.loads(request.content)["update"]
    return items


def echo(request: httpx.Request) -> httpx.Response:
    """A batch endpoint that saves every item as sent (product or variation shape)."""
    variation = "/variations/" in request.url.path
    answers = [
        {"id": item["id"], "sku": f"SKU-{item['id']}", "type": "simple", **item}
        for item in sent_items(request)
    ]
    for answer in answers:
        if variation:
            del answer["type"]
    return httpx.Response(200, json={"update": answers})


# --- the contract fixtures -------------------------------------------------------------------


async def test_simple_products_go_to_products_batch_and_a_refused_item_keeps_its_error():
    fixture = contract("products.batch")
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json=fixture["response"]["body"])

    written = await mock_adapter(handler).set_stock_levels(
        [
            WebStockUpdate("SOCK-MER-CREW-M", 4812, None, quantity=30),
            WebStockUpdate("GONE-1", 999999, None, quantity=5),
        ]
    )

    assert [(r.method, r.url.path) for r in sent] == [("POST", f"{API}/products/batch")]
    assert json.loads(sent[0].content) == {
        "update": [
            {"id": 4812, "manage_stock": True, "stock_quantity": 30},
            {"id": 999999, "manage_stock": True, "stock_quantity": 5},
        ]
    }
    saved, refused = written
    assert saved.sku == "SOCK-MER-CREW-M" and saved.error is None and saved.listing is not None
    assert (saved.listing.product_id, saved.listing.variation_id) == (4812, None)
    assert (saved.listing.name, saved.listing.stock_quantity) == ("Merino Crew Socks M", 30)
    assert refused == WebStockWritten(
        "GONE-1", None, error="woocommerce_rest_product_invalid_id: Invalid ID."
    )


async def test_variations_go_to_their_parents_batch_and_carry_the_parent_id():
    fixture = contract("variations.batch")
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json=fixture["response"]["body"])

    written = await mock_adapter(handler).set_stock_levels(
        [
            WebStockUpdate("SHOE-TRAIL-43", 4820, 4822, quantity=0),
            WebStockUpdate("SHOE-TRAIL-44", 4820, 4823, quantity=6),
        ]
    )

    assert [r.url.path for r in sent] == [f"{API}/products/4820/variations/batch"]
    assert [i["id"] for i in sent_items(sent[0])] == [4822, 4823]
    listings = [w.listing for w in written]
    assert [(x.product_id, x.variation_id) for x in listings if x] == [(4820, 4822), (4820, 4823)]
    first = listings[0]
    assert first is not None
    # The variations endpoint has no name; nothing in an update says it either.
    assert (first.stock_quantity, first.stock_status, first.name) == (0, "onbackorder", "")


async def test_only_the_fields_an_update_sets_are_sent():
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return echo(request)

    await mock_adapter(handler).set_stock_levels(
        [
            WebStockUpdate("KIT-0001", 5320, None, stock_status="outofstock"),
            WebStockUpdate("SOCK-MER-CREW-M", 4812, None, backorders="notify"),
            WebStockUpdate("SHOE-TRAIL-42", 4820, 4821, quantity=3, backorders="yes"),
        ]
    )

    by_path = {r.url.path: sent_items(r) for r in sent}
    assert by_path == {
        f"{API}/products/batch": [
            {"id": 5320, "stock_status": "outofstock"},
            {"id": 4812, "backorders": "notify"},
        ],
        f"{API}/products/4820/variations/batch": [
            {"id": 4821, "manage_stock": True, "stock_quantity": 3, "backorders": "yes"}
        ],
    }


async def test_no_updates_make_no_calls():
    sent: list[httpx.Request] = []
    adapter = mock_adapter(lambda request: sent.append(request) or echo(request))
    assert await adapter.set_stock_levels([]) == []
    assert sent == []


# --- grouping, splitting, order, concurrency ---------------------------------------------


async def test_given_250_simple_products_when_set_then_three_calls_and_answers_in_order():
    sizes: list[int] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        items = sent_items(request)
        sizes.append(len(items))
        # The smaller (last) chunk answers first: the answers must still line up.
        await asyncio.sleep(0.001 * len(items))
        return echo(request)

    updates = [WebStockUpdate(f"SKU-{i}", i, None, quantity=i % 7) for i in range(1, 251)]
    written = await mock_adapter(handler).set_stock_levels(updates)

    assert sorted(sizes) == [50, BATCH_LIMIT, BATCH_LIMIT]
    assert [w.sku for w in written] == [u.sku for u in updates]
    assert [w.listing.product_id for w in written if w.listing] == list(range(1, 251))
    assert [w.listing.stock_quantity for w in written if w.listing] == [
        i % 7 for i in range(1, 251)
    ]


async def test_one_call_per_parent_and_at_most_four_in_flight():
    in_flight, most, paths = 0, 0, []

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, most
        paths.append(request.url.path)
        in_flight += 1
        most = max(most, in_flight)
        await asyncio.sleep(0.01)
        in_flight -= 1
        return echo(request)

    updates = [
        WebStockUpdate(f"V-{parent}-{size}", parent, parent * 10 + size, quantity=size)
        for size in range(3)
        for parent in range(1, 11)
    ]
    written = await mock_adapter(handler).set_stock_levels(updates)

    assert sorted(paths) == sorted(f"{API}/products/{p}/variations/batch" for p in range(1, 11))
    assert most == CONCURRENT_CALLS
    assert [(w.listing.product_id, w.listing.variation_id) for w in written if w.listing] == [
        (u.product_id, u.variation_id) for u in updates
    ]


# --- whole-call failures ----------------------------------------------------------------------


async def test_a_503_is_retried_since_the_values_are_absolute():
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) == 1:
            return httpx.Response(503, text="<html>503 Service Temporarily Unavailable</html>")
        return echo(request)

    adapter = mock_adapter(handler, max_retries=2)
    written = await adapter.set_stock_levels([WebStockUpdate("A", 1, None, quantity=4)])

    assert len(calls) == 2 and calls[0].content == calls[1].content
    assert written[0].listing is not None and written[0].listing.stock_quantity == 4


@pytest.mark.parametrize(
    ("case", "error_type"),
    [("no or unknown credentials", BackendAuthError), ("batch over 100 items", BackendRejected)],
)
async def test_a_refused_call_raises_its_typed_error_after_the_other_calls_ran(case, error_type):
    example = {e["case"]: e for e in contract("errors")["examples"]}[case]
    answered: list[str] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        if "/variations/" in request.url.path:
            return httpx.Response(example["status"], json=example["body"])
        await asyncio.sleep(0.01)
        answered.append(request.url.path)
        return echo(request)

    updates = [
        WebStockUpdate("V", 7, 70, quantity=1),
        WebStockUpdate("A", 1, None, quantity=1),
    ]
    with pytest.raises(error_type) as raised:
        await mock_adapter(handler).set_stock_levels(updates)
    assert raised.value.backend_code == example["body"]["code"]
    assert answered == [f"{API}/products/batch"]


async def test_an_answer_without_one_result_per_item_is_an_error_not_a_guess():
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"update": [{"id": 2, "sku": "B", "type": "simple"}]})

    with pytest.raises(BackendError):
        await mock_adapter(handler).set_stock_levels(
            [WebStockUpdate("A", 1, None, quantity=1), WebStockUpdate("B", 2, None, quantity=1)]
        )


# --- against the simulator --------------------------------------------------------------------


async def test_given_simple_products_variations_of_two_parents_and_a_kit_when_set_then_read_back():
    # Over a real socket and OAuth 1.0a (http), as a local deployment runs it.
    sock, boot = managed_simple_products()[:2]
    shoe_42, shoe_43 = (product(i) for i in product(4820).variation_ids)
    boot_39 = product(product(5004).variation_ids[0])
    updates = [
        update(sock, quantity=7),
        update(shoe_42, quantity=0, backorders="notify"),
        update(boot, quantity=3),
        update(boot_39, quantity=11),
        update(product(KIT), stock_status="outofstock"),
        update(shoe_43, quantity=2),
    ]
    app = create_app(dataset())

    with serve(app) as url:
        async with build_woocommerce_client(settings(url)) as client:
            adapter = WooCommerceAdapter(client)
            written = await adapter.set_stock_levels(updates)
            reread = await adapter.listings_by_sku([u.sku for u in updates])

    assert app.state.calls[PRODUCTS_BATCH] == 1
    assert app.state.calls[VARIATIONS_BATCH] == 2
    assert [w.sku for w in written] == [u.sku for u in updates]
    assert all(w.error is None for w in written)
    assert [stock_fields(w.listing) for w in written] == [
        stock_fields(reread[u.sku]) for u in updates
    ]
    assert [(reread[u.sku].stock_quantity, reread[u.sku].stock_status) for u in updates] == [
        (7, "instock"),
        (0, "onbackorder"),
        (3, "instock"),
        (11, "instock"),
        (None, "outofstock"),
        (2, "instock"),
    ]
    assert reread[shoe_42.sku].backorders == "notify"
    assert (reread["KIT-0001"].manage_stock, reread["KIT-0001"].product_id) == (False, KIT)
    assert (reread[boot_39.sku].product_id, reread[boot_39.sku].variation_id) == (
        5004,
        boot_39.id,
    )


async def test_given_120_simple_products_when_set_then_the_simulator_sees_two_batches():
    app = create_app(dataset())
    products = managed_simple_products()[:120]
    updates = [update(p, quantity=n) for n, p in enumerate(products)]

    written = await simulator_adapter(app).set_stock_levels(updates)
    reread = await simulator_adapter(app).listings_by_sku([p.sku for p in products])

    assert app.state.calls[PRODUCTS_BATCH] == 2
    assert [w.error for w in written] == [None] * 120
    assert [reread[p.sku].stock_quantity for p in products] == list(range(120))


async def test_given_unknown_ids_when_set_then_only_those_items_fail():
    app = create_app(dataset())
    sock = managed_simple_products()[0]
    shoe_42 = product(4821)
    boot_39 = product(5005)
    updates = [
        update(sock, quantity=9),
        WebStockUpdate("GONE-1", 999999, None, quantity=1),
        # A variation named under a parent it does not belong to.
        WebStockUpdate(boot_39.sku, 4820, boot_39.id, quantity=1),
        update(shoe_42, quantity=5),
    ]

    written = await simulator_adapter(app).set_stock_levels(updates)
    reread = await simulator_adapter(app).listings_by_sku([sock.sku, shoe_42.sku, boot_39.sku])

    assert [w.error for w in written] == [
        None,
        "woocommerce_rest_product_invalid_id: Invalid ID.",
        "woocommerce_rest_product_variation_invalid_id: Invalid ID.",
        None,
    ]
    assert [w.listing is None for w in written] == [False, True, True, False]
    assert (reread[sock.sku].stock_quantity, reread[shoe_42.sku].stock_quantity) == (9, 5)
    assert reread[boot_39.sku].stock_quantity == dataset().web_stock(boot_39.sku)


@pytest.mark.parametrize("base_url", ["http://woo.test", "https://woo.test"])
async def test_given_an_unmanaged_kit_when_its_status_is_set_then_only_the_status_moves(base_url):
    app = create_app(dataset())
    adapter = simulator_adapter(app, base_url)

    out = await adapter.set_stock_levels([update(product(KIT), stock_status="outofstock")])
    back = await adapter.set_stock_levels([update(product(KIT), stock_status="instock")])

    assert out[0].listing is not None and back[0].listing is not None
    assert (out[0].listing.manage_stock, out[0].listing.stock_quantity) == (False, None)
    assert (out[0].listing.stock_status, back[0].listing.stock_status) == ("outofstock", "instock")


async def test_given_the_same_updates_twice_then_the_second_changes_nothing():
    app = create_app(dataset())
    adapter = simulator_adapter(app)
    sock, boot = managed_simple_products()[:2]
    updates = [
        update(sock, quantity=4),
        update(product(4821), quantity=1, backorders="notify"),
        update(boot, quantity=0, backorders="yes"),
        update(product(KIT), stock_status="onbackorder"),
    ]

    first = await adapter.set_stock_levels(updates)
    after_first = await adapter.listings_by_sku([u.sku for u in updates])
    second = await adapter.set_stock_levels(updates)
    after_second = await adapter.listings_by_sku([u.sku for u in updates])

    assert [stock_fields(w.listing) for w in second] == [stock_fields(w.listing) for w in first]
    assert {s: replace(x, modified=None) for s, x in after_second.items()} == {
        s: replace(x, modified=None) for s, x in after_first.items()
    }


# --- the fake the service tests use -----------------------------------------------------------


async def test_the_fake_storefront_answers_as_the_adapter_does_on_the_simulator():
    app = create_app(dataset())
    adapter = simulator_adapter(app)
    sock, boot = managed_simple_products()[:2]
    updates = [
        update(sock, quantity=0),
        update(product(4821), quantity=2, backorders="notify"),
        WebStockUpdate("GONE-1", 999999, None, quantity=1),
        update(boot, quantity=0, backorders="notify"),
        update(product(KIT), stock_status="outofstock"),
        WebStockUpdate("GONE-2", 4820, 999998, quantity=1),
    ]
    known = [u.sku for u in updates if not u.sku.startswith("GONE")]
    fake = FakeStorefront(listings=await adapter.listings_by_sku(known))

    from_fake = await fake.set_stock_levels(updates)
    from_adapter = await adapter.set_stock_levels(updates)

    assert [(w.sku, w.error, stock_fields(w.listing)) for w in from_fake] == [
        (w.sku, w.error, stock_fields(w.listing)) for w in from_adapter
    ]
    assert fake.calls["set_stock_levels"] == 1
    assert fake.listings["KIT-0001"].stock_status == "outofstock"
