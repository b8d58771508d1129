"""The WooCommerce adapter: contract payloads map to WebListings, errors map to the project's
typed errors, pages are followed, 503s are retried, and it works against the simulator over
both auth schemes."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest

from adapters.woocommerce import (
    WooCommerceAdapter,
    WooCommerceOAuth1,
    build_woocommerce_client,
)
from gateway.config import Settings
from gateway.domain import Money
from gateway.errors import (
    BackendAuthError,
    BackendError,
    BackendRejected,
    BackendUnavailable,
    NotFound,
)
from sandbox.woocommerce import create_app
from tests.woocommerce_support import API, KEY, SECRET, contract, dataset

BASE = f"https://shop.northtrail.example{API}/"
Handler = Callable[[httpx.Request], httpx.Response]


def mock_adapter(handler: Handler, *, max_retries: int = 0) -> WooCommerceAdapter:
    transport = httpx.MockTransport(handler)
    return WooCommerceAdapter(
        httpx.AsyncClient(transport=transport, base_url=BASE), max_retries=max_retries
    )


def settings(base_url: str) -> Settings:
    return Settings(
        _env_file=None, woo_base_url=base_url, woo_consumer_key=KEY, woo_consumer_secret=SECRET
    )


def simulator_adapter(app: Any, base_url: str = "http://woo.test") -> WooCommerceAdapter:
    client = build_woocommerce_client(settings(base_url), transport=httpx.ASGITransport(app=app))
    return WooCommerceAdapter(client)


def variation_in_product_list() -> dict[str, Any]:
    """Variation 4821 as /products?sku= returns it: the variation's fields plus the products
    controller's name, type and parent_id (and an extension's extra key, to be ignored)."""
    variation = copy.deepcopy(contract("variations.list")["response"]["body"][2])
    variation.update(name="Trail Runner Shoe - 42", type="variation", parent_id=4820, bundled_by=[])
    return variation


# --- contract payloads ----------------------------------------------------------------------


async def test_listings_map_the_contract_products_and_variations():
    sent: list[httpx.Request] = []
    sock = contract("products.list")["response"]["body"][0]

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        body = [sock, variation_in_product_list()]
        return httpx.Response(200, json=body, headers={"X-WP-Total": "2", "X-WP-TotalPages": "1"})

    listings = await mock_adapter(handler).listings_by_sku(
        ["SOCK-MER-CREW-M", "SHOE-TRAIL-42", "UNKNOWN"]
    )

    assert sent[0].url.params["sku"] == "SOCK-MER-CREW-M,SHOE-TRAIL-42,UNKNOWN"
    assert sent[0].url.params["per_page"] == "100"
    assert set(listings) == {"SOCK-MER-CREW-M", "SHOE-TRAIL-42"}
    sock_listing = listings["SOCK-MER-CREW-M"]
    assert (sock_listing.product_id, sock_listing.variation_id) == (4812, None)
    assert sock_listing.price == Money(Decimal("14.00"), "EUR")
    assert isinstance(sock_listing.price.amount, Decimal)
    assert (sock_listing.stock_quantity, sock_listing.stock_status) == (37, "instock")
    assert (sock_listing.manage_stock, sock_listing.backorders) == (True, "no")
    assert sock_listing.low_stock_amount == 5
    assert sock_listing.permalink == "https://shop.northtrail.example/product/merino-crew-socks-m/"
    assert sock_listing.modified == datetime(2026, 11, 19, 15, 40, 3, tzinfo=UTC)
    shoe = listings["SHOE-TRAIL-42"]
    assert (shoe.product_id, shoe.variation_id, shoe.name) == (4820, 4821, "Trail Runner Shoe - 42")
    assert (shoe.stock_quantity, shoe.backorders, shoe.low_stock_amount) == (4, "notify", 2)


async def test_currency_comes_from_the_constructor():
    sock = contract("products.get")["response"]["body"]
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=[sock]))
    adapter = WooCommerceAdapter(
        httpx.AsyncClient(transport=transport, base_url=BASE), currency="CHF"
    )
    listing = (await adapter.listings_by_sku(["SOCK-MER-CREW-M"]))["SOCK-MER-CREW-M"]
    assert listing.price == Money(Decimal("14.00"), "CHF")


async def test_set_stock_puts_to_the_product_endpoint_for_a_simple_product():
    fixture = contract("products.update")
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        if request.method == "GET":
            return httpx.Response(200, json=[contract("products.get")["response"]["body"]])
        return httpx.Response(200, json=fixture["response"]["body"])

    listing = await mock_adapter(handler).set_stock("SOCK-MER-CREW-M", 12)

    put = sent[-1]
    assert (put.method, put.url.path) == ("PUT", f"{API}/products/4812")
    assert httpx.Response(200, content=put.content).json() == {
        "manage_stock": True,
        "stock_quantity": 12,
    }
    assert (listing.stock_quantity, listing.backorders, listing.low_stock_amount) == (
        12,
        "notify",
        3,
    )
    assert listing.modified == datetime(2026, 11, 20, 9, 2, 44, tzinfo=UTC)


async def test_set_stock_puts_to_the_variation_endpoint_for_a_variation():
    fixture = contract("variations.update")
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        if request.method == "GET":
            return httpx.Response(200, json=[variation_in_product_list()])
        return httpx.Response(200, json=fixture["response"]["body"])

    listing = await mock_adapter(handler).set_stock("SHOE-TRAIL-42", 9)

    assert (sent[-1].method, sent[-1].url.path) == ("PUT", f"{API}/products/4820/variations/4821")
    # The variations endpoint has no name or parent_id; both are carried over from the read.
    assert (listing.product_id, listing.variation_id) == (4820, 4821)
    assert (listing.name, listing.stock_quantity) == ("Trail Runner Shoe - 42", 9)


async def test_set_stock_for_an_unknown_sku_is_not_found():
    adapter = mock_adapter(lambda request: httpx.Response(200, json=[]))
    with pytest.raises(NotFound):
        await adapter.set_stock("NOPE", 1)


# --- errors -------------------------------------------------------------------------------


def examples() -> dict[str, dict[str, Any]]:
    return {e["case"]: e for e in contract("errors")["examples"]}


@pytest.mark.parametrize(
    ("case", "error_type", "code"),
    [
        ("no or unknown credentials", BackendAuthError, "woocommerce_rest_cannot_view"),
        ("wrong consumer secret", BackendAuthError, "woocommerce_rest_authentication_error"),
        ("per_page > 100", BackendRejected, "rest_invalid_param"),
        ("unknown product id", BackendRejected, "woocommerce_rest_product_invalid_id"),
        ("batch over 100 items", BackendRejected, "woocommerce_rest_request_entity_too_large"),
    ],
)
async def test_error_bodies_map_to_typed_errors(case, error_type, code):
    example = examples()[case]
    adapter = mock_adapter(lambda request: httpx.Response(example["status"], json=example["body"]))
    with pytest.raises(error_type) as raised:
        await adapter.listings_by_sku(["SOCK-MER-CREW-M"])
    assert (raised.value.backend, raised.value.backend_code) == ("woocommerce", code)
    assert raised.value.status == example["status"]
    assert example["body"]["message"].split("<")[0] in raised.value.message


async def test_a_php_fatal_is_unavailable_after_retries_with_a_readable_message():
    example = examples()["PHP fatal error (shape approximate; WordPress may add additional_errors)"]
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(500, json=example["body"])

    with pytest.raises(BackendUnavailable) as raised:
        await mock_adapter(handler, max_retries=2).listings_by_sku(["SOCK-MER-CREW-M"])
    assert len(calls) == 3
    assert raised.value.backend_code == "internal_server_error"
    assert "<p>" not in raised.value.message and "critical error" in raised.value.message


async def test_an_html_page_instead_of_json_is_an_error_not_an_empty_answer():
    page = "<!doctype html><html><body>Northtrail shop</body></html>"
    adapter = mock_adapter(lambda request: httpx.Response(200, text=page))
    with pytest.raises(BackendError):
        await adapter.listings_by_sku(["SOCK-MER-CREW-M"])


async def test_a_503_is_retried_then_the_answer_is_used():
    calls = []
    sock = contract("products.get")["response"]["body"]

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) == 1:
            return httpx.Response(503, text="<html>503 Service Temporarily Unavailable</html>")
        return httpx.Response(200, json=[sock])

    listings = await mock_adapter(handler, max_retries=2).listings_by_sku(["SOCK-MER-CREW-M"])
    assert listings["SOCK-MER-CREW-M"].stock_quantity == 37
    assert len(calls) == 2


# --- pagination ---------------------------------------------------------------------------


async def test_link_next_is_followed_to_the_end_and_kept_on_the_configured_host():
    sock = contract("products.get")["response"]["body"]
    shoe = variation_in_product_list()
    seen: list[httpx.URL] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        if request.url.params.get("page") == "2":
            return httpx.Response(200, json=[shoe], headers={"X-WP-Total": "2"})
        # WordPress writes its public site URL into Link, whatever host we called.
        link = '<https://public.example/wp-json/wc/v3/products?sku=A&per_page=1&page=2>; rel="next"'
        return httpx.Response(200, json=[sock], headers={"Link": link, "X-WP-Total": "2"})

    listings = await mock_adapter(handler).listings_by_sku(["SOCK-MER-CREW-M", "SHOE-TRAIL-42"])

    assert set(listings) == {"SOCK-MER-CREW-M", "SHOE-TRAIL-42"}
    assert len(seen) == 2
    assert seen[1].host == "shop.northtrail.example"
    assert seen[1].params["page"] == "2"


async def test_250_skus_cost_three_requests_against_the_simulator():
    app = create_app(dataset())
    skus = [p.sku for p in dataset().web_products.values() if p.sku][:250]
    listings = await simulator_adapter(app).listings_by_sku(skus)
    assert app.state.calls == {f"GET {API}/products": 3}
    assert set(listings) == set(skus)
    for sku in skus:
        assert listings[sku].stock_quantity == (
            dataset().web_stock(sku) if listings[sku].manage_stock else None
        )


async def test_variation_skus_map_to_parent_and_variation_ids_through_the_simulator():
    app = create_app(dataset())
    variations = [p for p in dataset().web_products.values() if p.type == "variation"][:100]
    listings = await simulator_adapter(app).listings_by_sku([v.sku for v in variations])
    assert {(v.product_id, v.variation_id) for v in listings.values()} == {
        (v.parent_id, v.id) for v in variations
    }


# --- against the simulator, both auth schemes ----------------------------------------------


@pytest.mark.parametrize("base_url", ["http://woo.test", "https://woo.test"])
async def test_set_stock_then_read_back_through_the_simulator(base_url):
    app = create_app(dataset())
    adapter = simulator_adapter(app, base_url)

    variation = await adapter.set_stock("SHOE-TRAIL-42", 0)
    simple = await adapter.set_stock("SOCK-MER-CREW-M", 7)
    reread = await adapter.listings_by_sku(["SHOE-TRAIL-42", "SOCK-MER-CREW-M"])

    assert (variation.variation_id, variation.stock_status) == (4821, "outofstock")
    assert reread["SHOE-TRAIL-42"].stock_quantity == 0
    assert (reread["SOCK-MER-CREW-M"].stock_quantity, simple.stock_status) == (7, "instock")
    assert app.state.calls[f"PUT {API}/products/{{product_id}}/variations/{{id}}"] == 1
    assert app.state.calls[f"PUT {API}/products/{{id}}"] == 1


async def test_wrong_credentials_against_the_simulator_are_an_auth_error():
    app = create_app(dataset(), consumer_secret="cs_other")
    with pytest.raises(BackendAuthError) as raised:
        await simulator_adapter(app).listings_by_sku(["SOCK-MER-CREW-M"])
    assert raised.value.backend_code == "woocommerce_rest_authentication_error"


async def test_injected_faults_are_retried_until_the_simulator_answers():
    app = create_app(dataset(), error_rate=0.5, rng_seed=1)
    client = build_woocommerce_client(
        settings("http://woo.test"), transport=httpx.ASGITransport(app=app)
    )
    adapter = WooCommerceAdapter(client, max_retries=6)
    listings = await adapter.listings_by_sku(["SOCK-MER-CREW-M"])
    assert "SOCK-MER-CREW-M" in listings
    assert app.state.calls[f"GET {API}/products"] > 1


# --- the OAuth signer ---------------------------------------------------------------------


def test_oauth_signer_reproduces_the_signature_woocommerce_verified():
    captured = contract("auth")["modes"][2]["captured_with_real_client"]["get"]
    sent = httpx.QueryParams(captured["path_and_query"].split("?", 1)[1])
    auth = WooCommerceOAuth1(
        "ck_test",
        "cs_test",
        clock=lambda: int(sent["oauth_timestamp"]),
        nonce=lambda: sent["oauth_nonce"],
    )
    request = httpx.Request(
        "GET",
        "http://127.0.0.1:8765/wp-json/wc/v3/products",
        params={"per_page": 20, "sku": "SOCK-MER-CREW-M"},
    )
    signed = next(auth.auth_flow(request))
    assert signed.url.params["oauth_signature"] == sent["oauth_signature"]
    assert "authorization" not in signed.headers


async def test_client_uses_basic_over_https_and_oauth_over_http():
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=[])

    for base_url in ("https://shop.example", "http://127.0.0.1:8102"):
        client = build_woocommerce_client(
            settings(base_url), transport=httpx.MockTransport(handler)
        )
        async with client:
            await WooCommerceAdapter(client).listings_by_sku(["SOCK-MER-CREW-M"])
    https, http = seen
    assert https.url.path == http.url.path == f"{API}/products"
    assert https.headers["authorization"].startswith("Basic ")
    assert "oauth_signature" not in https.url.params
    assert "authorization" not in http.headers
    assert http.url.params["oauth_signature_method"] == "HMAC-SHA256"
    assert http.url.params["oauth_consumer_key"] == KEY
