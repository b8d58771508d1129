"""The WooCommerce simulator speaks the wc/v3 contract: auth modes, pagination, filters,
payload shapes, stock rules, batch and error bodies -- and the official client works on it."""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from urllib.parse import parse_qs

import pytest
from woocommerce import API as WooCommerceClient

from sandbox.woocommerce import create_app
from sandbox.woocommerce.auth import Authenticator, RequestFacts
from sandbox.woocommerce.wire import WPError, parse_query
from tests.live_server import serve
from tests.woocommerce_support import API, KEY, SECRET, client, contract, dataset, signed_url

BASIC = (KEY, SECRET)


@pytest.fixture
def app():
    return create_app(dataset())


@pytest.fixture
async def https(app):
    """A client on https with HTTP Basic, the normal production setup."""
    async with client(app, auth=BASIC) as http:
        yield http


def products_total() -> int:
    return sum(1 for p in dataset().web_products.values() if p.type != "variation")


# --- authentication ---------------------------------------------------------------------


async def test_given_https_when_basic_or_query_string_credentials_then_products_are_listed(app):
    async with client(app) as http:
        basic = await http.get(f"{API}/products", auth=BASIC)
        query = await http.get(
            f"{API}/products", params={"consumer_key": KEY, "consumer_secret": SECRET}
        )
    assert basic.status_code == query.status_code == 200
    assert len(basic.json()) == len(query.json()) == 10


async def test_given_plain_http_when_basic_auth_then_woocommerce_ignores_it(app):
    # WooCommerce only looks at Basic credentials when is_ssl(); over http they count for nothing.
    async with client(app, base_url="http://woo.test") as http:
        response = await http.get(f"{API}/products", auth=BASIC)
    assert response.status_code == 401
    assert response.json() == contract("auth")["unauthenticated_response"]["body"]


async def test_when_no_credentials_then_the_real_401_body(app):
    async with client(app) as http:
        response = await http.get(f"{API}/products")
    assert response.status_code == 401
    assert response.json() == contract("errors")["examples"][1]["body"]


async def test_when_wrong_secret_then_consumer_secret_is_invalid(app):
    async with client(app) as http:
        basic = await http.get(f"{API}/products", auth=(KEY, "cs_wrong"))
        query = await http.get(
            f"{API}/products", params={"consumer_key": KEY, "consumer_secret": "cs_wrong"}
        )
    expected = contract("auth")["bad_secret_response"]["body"]
    assert basic.status_code == query.status_code == 401
    assert basic.json() == query.json() == expected


@pytest.mark.parametrize("capture", ["get", "put"])
def test_the_signatures_the_real_client_sent_verify_as_woocommerce_computes_them(capture):
    request = contract("auth")["modes"][2]["captured_with_real_client"][capture]
    path, _, query = request["path_and_query"].partition("?")
    timestamp = int(parse_qs(query)["oauth_timestamp"][0])
    authenticator = Authenticator("ck_test", "cs_test", clock=lambda: timestamp + 60)
    facts = RequestFacts(request["method"], "http", "127.0.0.1:8765", path, parse_query(query))
    assert authenticator.authenticate(facts) is True
    tampered = RequestFacts(request["method"], "http", "127.0.0.1:9999", path, parse_query(query))
    with pytest.raises(WPError, match="signature - provided signature does not match"):
        Authenticator("ck_test", "cs_test", clock=lambda: timestamp).authenticate(tampered)


async def test_given_http_when_oauth_signed_by_the_official_library_then_accepted(app):
    async with client(app, base_url="http://woo.test") as http:
        url = signed_url(f"http://woo.test{API}/products?per_page=3&sku=SOCK-MER-CREW-M")
        response = await http.get(url)
    assert response.status_code == 200
    assert [p["sku"] for p in response.json()] == ["SOCK-MER-CREW-M"]


async def test_when_a_signed_parameter_is_changed_then_signature_does_not_match(app):
    url = signed_url(f"http://woo.test{API}/products?per_page=3")
    async with client(app, base_url="http://woo.test") as http:
        response = await http.get(url.replace("per_page=3", "per_page=4"))
    assert response.status_code == 401
    assert response.json()["message"] == "Invalid signature - provided signature does not match."


async def test_when_signed_for_another_host_then_signature_does_not_match(app):
    # The server rebuilds the signed URL from the scheme and Host header the client used.
    url = signed_url(f"http://elsewhere.test{API}/products")
    async with client(app, base_url="http://woo.test") as http:
        response = await http.get(url.replace("elsewhere.test", "woo.test"))
    assert response.status_code == 401
    assert response.json()["code"] == "woocommerce_rest_authentication_error"


async def test_when_timestamp_is_older_than_15_minutes_then_invalid_timestamp(app):
    stale = signed_url(f"http://woo.test{API}/products", timestamp=int(time.time()) - 16 * 60)
    fresh = signed_url(f"http://woo.test{API}/products", timestamp=int(time.time()) - 14 * 60)
    async with client(app, base_url="http://woo.test") as http:
        refused, accepted = await http.get(stale), await http.get(fresh)
    assert refused.status_code == 401
    assert refused.json()["message"] == "Invalid timestamp."
    assert accepted.status_code == 200


async def test_when_a_request_is_replayed_then_the_nonce_is_refused(app):
    url = signed_url(f"http://woo.test{API}/products")
    async with client(app, base_url="http://woo.test") as http:
        first, replay = await http.get(url), await http.get(url)
    assert first.status_code == 200
    assert replay.status_code == 401
    assert replay.json()["message"] == "Invalid nonce - nonce has already been used."


async def test_when_oauth_key_is_unknown_or_a_parameter_missing_then_401(app):
    unknown = signed_url(f"http://woo.test{API}/products", key="ck_nobody")
    missing = signed_url(f"http://woo.test{API}/products").split("&oauth_signature=")[0]
    async with client(app, base_url="http://woo.test") as http:
        unknown_key, missing_param = await http.get(unknown), await http.get(missing)
    assert unknown_key.json()["message"] == "Consumer key is invalid."
    assert missing_param.status_code == 401
    assert missing_param.json() == {
        "code": "woocommerce_rest_authentication_missing_parameter",
        "message": "Missing OAuth parameter oauth_signature",
        "data": {"status": 401},
    }


# --- pagination --------------------------------------------------------------------------


async def test_pagination_headers_and_links_are_built_from_the_request_url(https):
    response = await https.get(
        f"{API}/products", params={"per_page": 7, "page": 2, "orderby": "id", "order": "asc"}
    )
    total = products_total()
    assert response.headers["X-WP-Total"] == str(total)
    assert response.headers["X-WP-TotalPages"] == str(math.ceil(total / 7))
    links = response.links
    assert links["prev"]["url"] == (
        f"https://woo.test{API}/products?per_page=7&page=1&orderby=id&order=asc"
    )
    assert links["next"]["url"] == (
        f"https://woo.test{API}/products?per_page=7&page=3&orderby=id&order=asc"
    )
    ids = [p["id"] for p in response.json()]
    assert ids == sorted(ids) and len(ids) == 7


async def test_following_link_next_visits_every_product_once(https):
    seen: list[int] = []
    url: str | None = f"{API}/products?per_page=25"
    pages = 0
    while url:
        response = await https.get(url)
        seen += [p["id"] for p in response.json()]
        url = response.links.get("next", {}).get("url")
        pages += 1
    assert len(seen) == len(set(seen)) == int(response.headers["X-WP-Total"]) == products_total()
    assert pages == int(response.headers["X-WP-TotalPages"])
    assert "next" not in response.links and "prev" in response.links


async def test_default_page_size_is_10_and_offset_skips_rows(https):
    first = (await https.get(f"{API}/products", params={"orderby": "id"})).json()
    shifted = (await https.get(f"{API}/products", params={"orderby": "id", "offset": 3})).json()
    assert len(first) == 10
    assert [p["id"] for p in shifted[:7]] == [p["id"] for p in first[3:]]


async def test_when_per_page_is_over_100_then_the_real_rest_invalid_param(https):
    response = await https.get(f"{API}/products", params={"per_page": 101})
    example = contract("errors")["examples"][0]
    assert response.status_code == example["status"] == 400
    assert response.json() == example["body"]


async def test_when_page_is_zero_or_orderby_unknown_then_400_names_both(https):
    response = await https.get(f"{API}/products", params={"page": 0, "orderby": "colour"})
    body = response.json()
    assert response.status_code == 400
    assert body["message"] == "Invalid parameter(s): page, orderby"
    assert body["data"]["params"]["page"] == "page must be greater than or equal to 1"
    assert body["data"]["details"]["orderby"]["code"] == "rest_not_in_enum"


# --- filters and payloads ---------------------------------------------------------------


async def test_sku_filter_returns_simple_products_and_variation_objects(https):
    response = await https.get(
        f"{API}/products", params={"sku": "SOCK-MER-CREW-M,SHOE-TRAIL-42,NOPE"}
    )
    by_sku = {p["sku"]: p for p in response.json()}
    assert set(by_sku) == {"SOCK-MER-CREW-M", "SHOE-TRAIL-42"}
    variation = by_sku["SHOE-TRAIL-42"]
    assert (variation["id"], variation["type"], variation["parent_id"]) == (4821, "variation", 4820)
    assert variation["permalink"].endswith("/product/trail-runner-shoe/?attribute_pa_size=42")
    assert variation["stock_quantity"] == dataset().web_stock("SHOE-TRAIL-42")


async def test_filters_include_status_type_parent_category_stock_status_search(https):
    async def ids(**params):
        response = await https.get(f"{API}/products", params={"per_page": 100, **params})
        return {p["id"] for p in response.json()}

    products = dataset().web_products.values()
    drafts = {p.id for p in products if p.status == "draft" and p.type != "variation"}
    variable = {p.id for p in products if p.type == "variable"}
    footwear = {p.id for p in products if p.category == "Footwear" and p.type != "variation"}
    assert await ids(include="4812,4820") == {4812, 4820}
    assert await ids(status="draft") == drafts and drafts
    assert await ids(type="variable") == variable
    assert await ids(sku="SHOE-TRAIL-42,SHOE-TRAIL-43", parent="4820") == {4821, 4822}
    assert await ids(category="24") == footwear and 4820 in footwear
    assert await ids(search="merino crew") >= {4812}
    outofstock = await ids(stock_status="outofstock")
    assert outofstock and not outofstock & await ids(stock_status="instock")
    for product_id in outofstock:
        assert (await https.get(f"{API}/products/{product_id}")).json()["stock_status"] == (
            "outofstock"
        )


async def test_product_payload_has_the_contract_fields_with_money_strings_and_two_dates(https):
    body = (await https.get(f"{API}/products/4812")).json()
    fixture = contract("products.get")["response"]["body"]
    assert set(body) == set(fixture)
    assert (body["sku"], body["price"], body["regular_price"]) == (
        "SOCK-MER-CREW-M",
        "14.00",
        "14.00",
    )
    assert body["global_unique_id"] == "4006381333931"
    assert body["categories"] == fixture["categories"]
    assert body["manage_stock"] is True and body["low_stock_amount"] == 5
    # Site-local Europe/Berlin dates are one or two hours ahead of the _gmt ones.
    offset = datetime.fromisoformat(body["date_modified"]) - datetime.fromisoformat(
        body["date_modified_gmt"]
    )
    assert offset in (timedelta(hours=1), timedelta(hours=2))


async def test_variable_product_and_variation_payloads_match_the_contract_shapes(https):
    parent = (await https.get(f"{API}/products/4820")).json()
    listing = await https.get(f"{API}/products/4820/variations")
    one = (await https.get(f"{API}/products/4820/variations/4821")).json()
    fixture = contract("variations.list")["response"]["body"][0]
    assert parent["type"] == "variable" and parent["variations"] == [4821, 4822]
    assert parent["regular_price"] == "" and Decimal(parent["price"]) == Decimal("129.00")
    assert parent["attributes"][0]["slug"] == "pa_size"
    assert listing.headers["X-WP-Total"] == "2"
    assert [v["id"] for v in listing.json()] == [4822, 4821]
    assert set(one) == set(fixture)
    assert one["attributes"] == [{"id": 3, "name": "Size", "slug": "pa_size", "option": "42"}]
    assert one["_links"]["up"] == [{"href": f"https://woo.test{API}/products/4820"}]


async def test_responses_are_php_json_with_escaped_slashes(https):
    response = await https.get(f"{API}/products/4812")
    assert response.headers["content-type"] == "application/json; charset=UTF-8"
    assert '"https:\\/\\/shop.northtrail.example\\/product\\/' in response.text


# --- updates ------------------------------------------------------------------------------


async def test_stock_update_is_visible_on_the_next_read_and_drives_stock_status(https):
    fixture = contract("products.update")
    updated = await https.put(f"{API}/products/4812", json=fixture["request"]["body"])
    assert updated.status_code == 200
    expected = fixture["response"]["body"]
    for field in (
        "manage_stock",
        "stock_quantity",
        "stock_status",
        "backorders",
        "low_stock_amount",
    ):
        assert updated.json()[field] == expected[field]
    sold_out = await https.put(f"{API}/products/4812", json={"stock_quantity": 0})
    assert (sold_out.json()["stock_status"], sold_out.json()["backordered"]) == (
        "onbackorder",
        True,
    )
    await https.patch(f"{API}/products/4812", json={"backorders": "no"})
    reread = (await https.get(f"{API}/products/4812")).json()
    assert (reread["stock_quantity"], reread["stock_status"]) == (0, "outofstock")
    restocked = await https.post(f"{API}/products/4812", json={"stock_quantity": 3})
    assert restocked.json()["stock_status"] == "instock"
    before = datetime.fromisoformat(reread["date_created_gmt"]).replace(tzinfo=UTC)
    after = datetime.fromisoformat(restocked.json()["date_modified_gmt"]).replace(tzinfo=UTC)
    assert before < after <= datetime.now(UTC)


async def test_stock_quantity_is_ignored_when_stock_is_not_managed(https):
    response = await https.put(
        f"{API}/products/4812", json={"manage_stock": False, "stock_quantity": 99}
    )
    body = response.json()
    assert (body["manage_stock"], body["stock_quantity"], body["stock_status"]) == (
        False,
        None,
        "instock",
    )


async def test_variation_stock_update_syncs_the_parent_stock_status(https):
    for variation_id in (4821, 4822):
        response = await https.put(
            f"{API}/products/4820/variations/{variation_id}",
            json={"manage_stock": True, "stock_quantity": 0},
        )
        assert response.json()["stock_status"] == "outofstock"
    assert (await https.get(f"{API}/products/4820")).json()["stock_status"] == "outofstock"
    await https.put(f"{API}/products/4820/variations/4822", json={"stock_quantity": 9})
    assert (await https.get(f"{API}/products/4820")).json()["stock_status"] == "instock"
    by_sku = await https.get(f"{API}/products", params={"sku": "SHOE-TRAIL-43"})
    assert by_sku.json()[0]["stock_quantity"] == 9


async def test_update_errors_are_the_real_ones(https):
    via_products = await https.put(f"{API}/products/4821", json={"stock_quantity": 1})
    unknown = await https.put(f"{API}/products/999999", json={"stock_quantity": 1})
    wrong_parent = await https.put(f"{API}/products/4812/variations/4821", json={})
    bad_type = await https.put(f"{API}/products/4812", json={"stock_quantity": "many"})
    duplicate = await https.put(f"{API}/products/4812", json={"sku": "shoe-trail-42"})
    assert (via_products.status_code, via_products.json()["code"]) == (
        404,
        "woocommerce_rest_invalid_product_id",
    )
    # update_item answers an unknown id with 400 (the batch contract shows the same status).
    assert (unknown.status_code, unknown.json()["code"]) == (
        400,
        "woocommerce_rest_product_invalid_id",
    )
    assert wrong_parent.status_code == 403
    assert bad_type.json()["data"]["params"] == {
        "stock_quantity": "stock_quantity is not of type integer."
    }
    assert duplicate.json() == contract("products.update")["error_duplicate_sku"]["body"]


async def test_when_anonymous_then_updates_and_batches_are_refused(app):
    async with client(app) as http:
        update = await http.put(f"{API}/products/4812", json={"stock_quantity": 1})
        batch = await http.post(f"{API}/products/batch", json={"update": []})
    assert update.json()["code"] == "woocommerce_rest_cannot_edit"
    assert batch.json()["code"] == "woocommerce_rest_cannot_batch"
    assert update.status_code == batch.status_code == 401


# --- batch and 404 -------------------------------------------------------------------------


async def test_batch_update_answers_200_with_per_item_errors(https):
    fixture = contract("products.batch")
    response = await https.post(f"{API}/products/batch", json=fixture["request"]["body"])
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"update"}
    assert body["update"][0]["stock_quantity"] == 30
    assert body["update"][1] == fixture["response"]["body"]["update"][1]
    assert (await https.get(f"{API}/products/4812")).json()["stock_quantity"] == 30


async def test_batch_create_and_delete(https):
    response = await https.post(
        f"{API}/products/batch",
        json={
            "create": [
                {
                    "name": "Camp Mug",
                    "sku": "MUG-1",
                    "regular_price": "9.5",
                    "manage_stock": True,
                    "stock_quantity": 4,
                },
                {"name": "Clash", "sku": "SOCK-MER-CREW-M"},
            ],
            "delete": [4812, 4820],
        },
    )
    body = response.json()
    created, clash = body["create"]
    assert (created["sku"], created["price"], created["stock_status"]) == (
        "MUG-1",
        "9.50",
        "instock",
    )
    assert clash == {"id": 0, "error": contract("products.update")["error_duplicate_sku"]["body"]}
    deleted_sock, deleted_shoe = body["delete"]
    assert deleted_sock["id"] == 4812
    # The answer is the product as it was; deleting a variable product takes its variations.
    assert (deleted_shoe["id"], deleted_shoe["variations"]) == (4820, [4821, 4822])
    assert (await https.get(f"{API}/products/4812")).status_code == 404
    assert (await https.get(f"{API}/products/4820/variations/4821")).status_code == 404
    assert (await https.get(f"{API}/products/{created['id']}")).json()["name"] == "Camp Mug"


async def test_variation_batch_updates_stock_and_reports_unknown_items(https):
    # The contract's body; this catalogue's Trail Runner has no size 44 (variation 4823).
    body = contract("variations.batch")["request"]["body"]
    response = await https.post(f"{API}/products/4820/variations/batch", json=body)
    updated, unknown = response.json()["update"]
    assert (updated["id"], updated["stock_quantity"], updated["stock_status"]) == (
        4822,
        0,
        "outofstock",
    )
    assert unknown == {
        "id": 4823,
        "error": {
            "code": "woocommerce_rest_product_variation_invalid_id",
            "message": "Invalid ID.",
            "data": {"status": 400},
        },
    }
    assert (await https.get(f"{API}/products/4820/variations/4822")).json()["stock_quantity"] == 0


@pytest.mark.parametrize("route", ["products/batch", "products/4820/variations/batch"])
async def test_batch_over_100_items_is_413(https, route):
    response = await https.post(
        f"{API}/{route}", json={"update": [{"id": i} for i in range(60)], "delete": list(range(41))}
    )
    assert response.status_code == 413
    assert response.json() == contract("products.batch")["too_large"]["body"]


async def test_unknown_ids_and_routes_answer_the_real_404_bodies(https):
    product = await https.get(f"{API}/products/999999")
    variation = await https.get(f"{API}/products/4820/variations/999999")
    route = await https.get(f"{API}/coupons")
    wrong_method = await https.delete(f"{API}/products")
    assert product.json() == contract("products.get")["not_found"]["body"]
    assert variation.json() == contract("variations.update")["not_found"]["body"]
    no_route = contract("errors")["examples"][4]["body"]
    assert route.json() == wrong_method.json() == no_route
    assert {product.status_code, variation.status_code, route.status_code} == {404}


# --- knobs and call recording ---------------------------------------------------------------


async def test_error_rate_fails_requests_deterministically_with_realistic_bodies():
    async def statuses(seed: int) -> list[int]:
        app = create_app(dataset(), error_rate=0.5, rng_seed=seed)
        async with client(app, auth=BASIC) as http:
            return [(await http.get(f"{API}/products/4812")).status_code for _ in range(40)]

    first, again = await statuses(3), await statuses(3)
    assert first == again
    assert {200, 500, 503} == set(first)
    failing = create_app(dataset(), error_rate=1.0)
    async with client(failing, auth=BASIC) as http:
        bodies = [await http.get(f"{API}/products") for _ in range(10)]
    fatal = next(r for r in bodies if r.status_code == 500)
    assert fatal.json()["code"] == "internal_server_error"
    assert any(r.status_code == 503 and "<html>" in r.text for r in bodies)


async def test_latency_is_added_to_every_request():
    app = create_app(dataset(), latency_ms=60)
    async with client(app, auth=BASIC) as http:
        started = time.perf_counter()
        await http.get(f"{API}/products/4812")
        assert time.perf_counter() - started >= 0.06


async def test_calls_are_counted_per_method_and_route_template(app, https):
    await https.get(f"{API}/products")
    await https.get(f"{API}/products/4812")
    await https.get(f"{API}/products/4820")
    await https.put(f"{API}/products/4820/variations/4821", json={"stock_quantity": 1})
    assert app.state.calls == {
        f"GET {API}/products": 1,
        f"GET {API}/products/{{id}}": 2,
        f"PUT {API}/products/{{product_id}}/variations/{{id}}": 1,
    }


# --- the official Python client, over a real socket ----------------------------------------


def test_official_woocommerce_client_pages_reads_and_updates_stock_over_oauth():
    app = create_app(dataset())
    with serve(app) as url:
        wcapi = WooCommerceClient(url=url, consumer_key=KEY, consumer_secret=SECRET, timeout=10)
        first = wcapi.get("products", params={"per_page": 40})
        assert first.status_code == 200, first.text
        total, pages = int(first.headers["X-WP-Total"]), int(first.headers["X-WP-TotalPages"])
        ids = [p["id"] for p in first.json()]
        for page in range(2, pages + 1):
            response = wcapi.get("products", params={"per_page": 40, "page": page})
            assert response.status_code == 200, response.text
            next_link = response.links.get("next", {}).get("url")
            assert (next_link is None) == (page == pages)
            ids += [p["id"] for p in response.json()]
        assert len(ids) == len(set(ids)) == total == products_total()
        assert pages == math.ceil(total / 40) > 1

        product = wcapi.get("products/4812").json()
        variation = wcapi.get("products/4820/variations/4821").json()
        assert (product["sku"], variation["sku"]) == ("SOCK-MER-CREW-M", "SHOE-TRAIL-42")

        updated = wcapi.put("products/4820/variations/4821", {"stock_quantity": 12})
        assert updated.status_code == 200, updated.text
        assert wcapi.get("products/4820/variations/4821").json()["stock_quantity"] == 12
        put_simple = wcapi.put("products/4812", {"manage_stock": True, "stock_quantity": 0})
        assert put_simple.json()["stock_status"] == "outofstock"
        found = wcapi.get("products", params={"sku": "SOCK-MER-CREW-M,SHOE-TRAIL-42"}).json()
        assert {p["sku"]: p["stock_quantity"] for p in found} == {
            "SOCK-MER-CREW-M": 0,
            "SHOE-TRAIL-42": 12,
        }
        refused = WooCommerceClient(url=url, consumer_key=KEY, consumer_secret="cs_x").get(
            "products"
        )
        assert refused.status_code == 401
