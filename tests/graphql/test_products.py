"""Schema-level behaviour through the ASGI app, over in-memory backends."""

PRODUCT_PAGE = """
query ($sku: String!, $near: NearInput) {
  product(sku: $sku) {
    sku name category barcodes
    webPrice { amount currency minorUnits }
    storePrice { amount minorUnits }
    cost { amount }
    fieldSources { field source }
    webListing { stockQuantity stockStatus }
    availability(near: $near) {
      totalAvailable
      locations { location { id name type } onHand reserved safetyStock availableToPromise status source asOf distanceKm }
    }
  }
}
"""


async def test_product_page_merges_sources_by_policy_and_sorts_stores_by_distance(gql):
    body = await gql(
        PRODUCT_PAGE, sku="SHOE-42", near={"lat": 52.52, "lng": 13.405, "radiusKm": 50}
    )
    assert "errors" not in body, body
    p = body["data"]["product"]
    assert p["name"] == "Trail Shoe 42"  # ERP wins the name
    assert p["webPrice"] == {"amount": "119.00", "currency": "EUR", "minorUnits": 11900}
    assert p["storePrice"] == {"amount": "125.00", "minorUnits": 12500}
    sources = {f["field"]: f["source"] for f in p["fieldSources"]}
    assert sources["web_price"] == "STOREFRONT" and sources["cost"] == "ERP"
    assert p["webListing"] == {"stockQuantity": 0, "stockStatus": "outofstock"}
    rows = p["availability"]["locations"]
    # Only nodes within 50 km of Berlin Mitte, nearest first: Mitte store, then Potsdam.
    assert [r["location"]["name"] for r in rows] == ["Mitte Store", "Potsdam Store"]
    assert rows[0]["distanceKm"] < 1 < rows[1]["distanceKm"] < 40
    # Stores keep one unit of safety stock: 3 on hand -> 2 promised; 8 - 1 reserved - 1 -> 6.
    assert [r["availableToPromise"] for r in rows] == [2, 6]
    assert {r["source"] for r in rows} == {"POS"}
    assert rows[0]["asOf"] == "2026-11-20T09:00:00+00:00"
    assert p["availability"]["totalAvailable"] == 8


async def test_channel_pickup_lists_only_pickup_stores_and_online_warehouses_plus_shippers(gql):
    q = """query ($c: Channel) { product(sku: "SOCK-M") { availability(channel: $c) {
        totalAvailable locations { location { id } availableToPromise } } } }"""
    pickup = (await gql(q, c="PICKUP"))["data"]["product"]["availability"]
    online = (await gql(q, c="ONLINE"))["data"]["product"]["availability"]
    assert {r["location"]["id"] for r in pickup["locations"]} == {"ST-MITTE", "ST-POTSDAM-STORE"}
    assert {r["location"]["id"] for r in online["locations"]} == {
        "WH-CENTRAL",
        "WH-NORTH",
        "ST-MITTE",
    }
    assert online["totalAvailable"] == 40 + 0 + 6  # Hamburg's 30 socks are not shippable


async def test_kit_availability_is_the_scarcest_component_per_node(gql):
    q = """{ product(sku: "KIT-RUN") { isKit kitComponents { sku quantity }
        availability(locationIds: ["WH-CENTRAL", "ST-MITTE"]) { locations { location { id } availableToPromise } } } }"""
    p = (await gql(q))["data"]["product"]
    assert p["isKit"] and p["kitComponents"] == [
        {"sku": "SHOE-42", "quantity": 1},
        {"sku": "SOCK-M", "quantity": 3},
    ]
    atp = {r["location"]["id"]: r["availableToPromise"] for r in p["availability"]["locations"]}
    # Central: shoes 10-2=8, socks 40//3=13 -> 8.  Mitte: shoes 3-1=2, socks (7-1)//3=2 -> 2.
    assert atp == {"WH-CENTRAL": 8, "ST-MITTE": 2}


async def test_product_by_barcode_finds_the_item_and_validates_check_digit(gql):
    ok = await gql('{ productByBarcode(code: "4006381333948") { sku } }')
    assert ok["data"]["productByBarcode"]["sku"] == "SHOE-42"
    bad = await gql('{ productByBarcode(code: "4006381333949") { sku } }')
    error = bad["errors"][0]
    assert error["extensions"]["code"] == "INVALID_BARCODE"
    assert error["extensions"]["expectedCheckDigit"] == "8"
    assert "traceback" not in str(bad).lower()


async def test_unknown_sku_and_unknown_barcode_are_not_found(gql):
    for query in (
        '{ product(sku: "NOPE") { sku } }',
        '{ productByBarcode(code: "96385074") { sku } }',
    ):
        body = await gql(query)
        assert list(body["data"].values()) == [None]  # that field is null, with its error
        assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_one_failing_root_field_leaves_its_siblings_answered(gql):
    body = await gql('{ a: product(sku: "NOPE") { sku } b: product(sku: "SHOE-42") { sku } }')
    assert body["data"] == {"a": None, "b": {"sku": "SHOE-42"}}
    (error,) = body["errors"]
    assert (error["path"], error["extensions"]["code"]) == (["a"], "NOT_FOUND")


async def test_an_unknown_sku_in_a_cart_costs_its_item_only(gql):
    body = await gql('{ availability(skus: ["SHOE-42", "NOPE", "SOCK-M"]) { sku } }')
    items = body["data"]["availability"]
    assert [item and item["sku"] for item in items] == ["SHOE-42", None, "SOCK-M"]
    (error,) = body["errors"]
    assert error["path"] == ["availability", 1]
    assert error["extensions"] == {"code": "NOT_FOUND", "skus": ["NOPE"]}


async def test_bad_input_gets_bad_user_input_codes(gql):
    cases = [
        "{ products(first: 10000) { edges { cursor } } }",
        "{ products(first: 0) { edges { cursor } } }",
        '{ products(after: "garbage!") { edges { cursor } } }',
        '{ product(sku: "SHOE-42") { availability(near: {lat: 52.5, lng: 13.4, radiusKm: -5}) { totalAvailable } } }',
        "{ locations(near: {lat: 95, lng: 13.4}) { id } }",
        "{ availability(skus: []) { sku } }",
    ]
    for query in cases:
        body = await gql(query)
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", (query, body)


async def test_unknown_location_ids_are_named(gql):
    body = await gql(
        '{ product(sku: "SHOE-42") { availability(locationIds: ["ST-MITTE", "ST-MOON"]) { totalAvailable } } }'
    )
    assert body["errors"][0]["extensions"] == {"code": "NOT_FOUND", "locationIds": ["ST-MOON"]}


async def test_malformed_query_gets_a_graphql_code_not_a_trace(gql):
    body = await gql("{ product(sku: ) { sku }")
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"
    body = await gql('{ product(sku: "A") { notAField } }')
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_unexpected_errors_are_masked(gql, retailer):
    erp, _, _ = retailer

    async def broken(skus):
        raise ZeroDivisionError("secret internals")

    erp.items_by_sku = broken
    body = await gql('{ product(sku: "SHOE-42") { sku } }')
    assert body["errors"][0]["extensions"] == {"code": "INTERNAL_SERVER_ERROR"}
    assert "secret" not in str(body)


async def test_products_connection_pages_through_the_catalogue(gql):
    q = "query ($after: String) { products(first: 2, after: $after) { edges { cursor node { sku } } pageInfo { hasNextPage endCursor } } }"
    first = (await gql(q))["data"]["products"]
    assert [e["node"]["sku"] for e in first["edges"]] == ["KIT-RUN", "SHOE-42"]
    assert first["pageInfo"]["hasNextPage"] is True
    second = (await gql(q, after=first["pageInfo"]["endCursor"]))["data"]["products"]
    assert [e["node"]["sku"] for e in second["edges"]] == ["SOCK-M"]
    assert second["pageInfo"]["hasNextPage"] is False


async def test_products_filtered_by_stock_near_a_point(gql):
    q = """{ products(first: 10, filter: {inStockNear: {lat: 53.55, lng: 9.99, radiusKm: 30}}) {
        edges { node { sku } } } }"""
    edges = (await gql(q))["data"]["products"]["edges"]
    # Only the Hamburg store is within 30 km, and it holds socks (and so a kit? no: no shoes).
    assert [e["node"]["sku"] for e in edges] == ["SOCK-M"]


async def test_cart_availability_for_several_skus_and_unknown_ones_named(gql):
    ok = await gql(
        '{ availability(skus: ["SHOE-42", "SOCK-M"], channel: ONLINE) { sku totalAvailable } }'
    )
    assert ok["data"]["availability"] == [
        {"sku": "SHOE-42", "totalAvailable": 8 + 0 + 2},
        {"sku": "SOCK-M", "totalAvailable": 40 + 6},
    ]
    bad = await gql('{ availability(skus: ["SHOE-42", "GHOST"]) { sku } }')
    assert bad["errors"][0]["extensions"] == {"code": "NOT_FOUND", "skus": ["GHOST"]}


async def test_locations_near_a_point_with_capability(gql):
    q = "{ locations(near: {lat: 52.52, lng: 13.405}, capability: PICKUP) { id distanceKm } }"
    rows = (await gql(q))["data"]["locations"]
    assert [r["id"] for r in rows] == ["ST-MITTE", "ST-POTSDAM-STORE"]
    assert rows[0]["distanceKm"] < rows[1]["distanceKm"]


async def test_a_page_of_products_with_availability_costs_one_call_per_backend_method(
    gql, retailer
):
    erp, web, pos = retailer
    for counter in (erp.calls, web.calls, pos.calls):
        counter.clear()
    q = "{ products(first: 3) { edges { node { sku webPrice { amount } availability { totalAvailable } } } } }"
    body = await gql(q)
    assert len(body["data"]["products"]["edges"]) == 3
    assert max(erp.calls.values()) == 1, erp.calls
    assert max(web.calls.values()) == 1, web.calls
    assert max(pos.calls.values()) == 1, pos.calls
