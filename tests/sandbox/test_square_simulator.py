"""The Square simulator answers as the contract in shared/contracts/pos says Square does."""

from __future__ import annotations

import time
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from tests.live_server import serve
from tests.square_support import (
    NOW,
    TOKEN,
    VERSION,
    contract,
    dataset,
    raw_client,
    simulator,
)

SHOE_42 = "H7CY2PB5WK3XQ9TN6RMZ4LDV"
SOCK = "VJ6R3KTW2XQ8ML5CH4PN7ZBY"
DOWNTOWN = "L8D2Q4W5ZC1XN"
KIOSK = "LB3K7N9PD2XWE"
COUNTS = "/v2/inventory/counts/batch-retrieve"
CHANGES = "/v2/inventory/changes/batch-create"


def error_example(status: int) -> dict[str, Any]:
    return next(e["body"] for e in contract("errors")["examples"] if e["status"] == status)


def sale(key: str, quantity: str = "1", **extra: Any) -> dict[str, Any]:
    adjustment = {
        "catalog_object_id": SHOE_42,
        "from_state": "IN_STOCK",
        "to_state": "SOLD",
        "location_id": KIOSK,
        "quantity": quantity,
        "occurred_at": (NOW - timedelta(minutes=1)).isoformat(),
        **extra,
    }
    return {"idempotency_key": key, "changes": [{"type": "ADJUSTMENT", "adjustment": adjustment}]}


async def in_stock(client: Any, vid: str, location: str) -> str:
    response = await client.get(f"/v2/inventory/{vid}", params={"location_ids": location})
    counts = [c for c in response.json().get("counts", []) if c["state"] == "IN_STOCK"]
    return counts[0]["quantity"] if counts else "0"


# --- auth, version, routing, knobs -------------------------------------------------------------


@pytest.mark.parametrize("token", [None, "wrong-token"])
async def test_given_no_or_a_wrong_token_when_calling_then_401_as_the_contract_says(
    token: str | None,
) -> None:
    app = simulator()
    async with raw_client(app, token=token) as client:
        response = await client.get("/v2/locations")
    assert response.status_code == 401
    assert response.json() == contract("auth")["failure"]["body"]
    assert app.state.calls["GET /v2/locations"] == 1


async def test_given_a_malformed_square_version_then_400_and_well_formed_ones_are_recorded() -> (
    None
):
    app = simulator()
    async with raw_client(app) as client:
        bad = await client.get("/v2/locations", headers={"Square-Version": "August 2025"})
        await client.get("/v2/locations", headers={"Square-Version": "2026-09-16"})
        await client.get("/v2/locations")
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["code"] == "INVALID_SQUARE_VERSION_FORMAT"
    assert app.state.versions == {"2026-09-16": 1, VERSION: 1}


async def test_an_unknown_route_answers_404_in_the_square_envelope() -> None:
    async with raw_client(simulator()) as client:
        response = await client.get("/v2/catalog/nothing-here")
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "NOT_FOUND"


async def test_given_error_rate_1_every_call_fails_with_a_realistic_retryable_error() -> None:
    statuses = []
    for _ in range(2):  # same seed, same sequence
        app = simulator(error_rate=1.0, rng_seed=7)
        async with raw_client(app) as client:
            answers = [await client.get("/v2/locations") for _ in range(30)]
        statuses.append([a.status_code for a in answers])
        expected = {
            500: "INTERNAL_SERVER_ERROR",
            503: "SERVICE_UNAVAILABLE",
            429: "RATE_LIMITED",
        }
        for answer in answers:
            assert answer.json()["errors"][0]["code"] == expected[answer.status_code]
    assert statuses[0] == statuses[1]
    assert set(statuses[0]) == {500, 503, 429}


async def test_scripted_faults_fail_exactly_the_next_calls() -> None:
    app = simulator()
    app.state.faults.script(503, 429)
    async with raw_client(app) as client:
        answers = [(await client.get("/v2/locations")).status_code for _ in range(3)]
    assert answers == [503, 429, 200]


async def test_latency_knob_delays_each_answer() -> None:
    async with raw_client(simulator(latency_ms=60)) as client:
        started = time.perf_counter()
        await client.get("/v2/locations")
    assert time.perf_counter() - started >= 0.06


# --- locations ---------------------------------------------------------------------------------


async def test_locations_list_every_store_sorted_by_name_with_real_coordinates() -> None:
    async with raw_client(simulator()) as client:
        body = (await client.get("/v2/locations")).json()
    locations = body["locations"]
    assert "cursor" not in body
    assert [loc["name"] for loc in locations] == sorted(s.name for s in dataset().stores)
    stores = {s.id: s for s in dataset().stores}
    for loc in locations:
        store = stores[loc["id"]]
        assert loc["coordinates"] == {"latitude": store.lat, "longitude": store.lng}
    fixture_keys = set(contract("locations.list")["response"]["body"]["locations"][0])
    assert fixture_keys <= set(locations[0])


# --- catalog -----------------------------------------------------------------------------------


async def test_catalog_list_pages_100_objects_and_the_cursor_reaches_every_item_once() -> None:
    app = simulator()
    seen: list[str] = []
    cursor = None
    async with raw_client(app) as client:
        while True:
            params = {"types": "ITEM", **({"cursor": cursor} if cursor else {})}
            body = (await client.get("/v2/catalog/list", params=params)).json()
            objects = body.get("objects", [])
            assert len(objects) == 100 or "cursor" not in body
            seen += [o["id"] for o in objects]
            cursor = body.get("cursor")
            if not cursor:
                break
    assert sorted(seen) == sorted(item.id for item in dataset().pos_items)
    assert app.state.calls["GET /v2/catalog/list"] == -(-len(seen) // 100)


async def test_catalog_items_embed_variations_shaped_like_the_contract() -> None:
    async with raw_client(simulator()) as client:
        body = (await client.get("/v2/catalog/list", params={"types": "ITEM"})).json()
    sock = next(o for o in body["objects"] if o["id"] == "2XQKBYV6TM4ZLPFH7NC3R5WD")
    variation = sock["item_data"]["variations"][0]
    data = variation["item_variation_data"]
    assert variation["id"] == SOCK and data["sku"] == "SOCK-MER-CREW-M"
    assert data["price_money"] == {"amount": 1400, "currency": "EUR"}
    assert data["track_inventory"] is True
    fixture = contract("catalog.list")["response"]["body"]["objects"][0]["item_data"]
    assert set(fixture["variations"][0]["item_variation_data"]) <= set(data)
    alert = next(o for o in data["location_overrides"] if o["location_id"] == DOWNTOWN)
    assert alert["inventory_alert_type"] == "LOW_QUANTITY"
    assert alert["inventory_alert_threshold"] == 5


async def test_a_replayed_or_foreign_cursor_is_refused_as_the_contract_says() -> None:
    async with raw_client(simulator()) as client:
        first = (await client.get("/v2/catalog/list", params={"types": "ITEM"})).json()
        wrong_query = await client.get(
            "/v2/catalog/list", params={"types": "CATEGORY", "cursor": first["cursor"]}
        )
        garbage = await client.get("/v2/catalog/list", params={"cursor": "not-a-cursor"})
    for response in (wrong_query, garbage):
        assert response.status_code == 400
        assert response.json() == error_example(400) | {"errors": response.json()["errors"]}
        assert response.json()["errors"][0]["code"] == "INVALID_CURSOR"
        assert response.json()["errors"][0]["field"] == "cursor"


async def test_the_contract_sku_search_finds_the_shoe_variation() -> None:
    fixture = contract("catalog.search")
    async with raw_client(simulator()) as client:
        response = await client.post("/v2/catalog/search", json=fixture["request"]["body"])
    body = response.json()
    expected = fixture["response"]["body"]["objects"][0]
    assert [o["id"] for o in body["objects"]] == [expected["id"]]
    assert body["objects"][0]["item_variation_data"]["sku"] == "SHOE-TRAIL-42"
    assert "latest_time" in body


async def test_set_query_on_sku_matches_any_value_case_insensitively_with_parent_items() -> None:
    query = {"set_query": {"attribute_name": "sku", "attribute_values": []}}
    query["set_query"]["attribute_values"] = ["shoe-trail-42", "SOCK-MER-CREW-M", "NO-SUCH-SKU"]
    async with raw_client(simulator()) as client:
        body = (
            await client.post(
                "/v2/catalog/search",
                json={
                    "object_types": ["ITEM_VARIATION"],
                    "query": query,
                    "include_related_objects": True,
                },
            )
        ).json()
    assert {o["id"] for o in body["objects"]} == {SHOE_42, SOCK}
    assert {o["type"] for o in body["related_objects"]} == {"ITEM"}
    assert {o["id"] for o in body["related_objects"]} == {
        "2XQKBYV6TM4ZLPFH7NC3R5WD",
        "N4TZ7WQ2KX6BR3YL5HVC8MDP",
    }


async def test_a_sku_search_without_item_variation_in_object_types_finds_nothing() -> None:
    query = {"exact_query": {"attribute_name": "sku", "attribute_value": "SHOE-TRAIL-42"}}
    async with raw_client(simulator()) as client:
        body = (await client.post("/v2/catalog/search", json={"query": query})).json()
    assert "objects" not in body


async def test_text_and_prefix_queries_match_words_and_prefixes() -> None:
    async with raw_client(simulator()) as client:
        text = await client.post(
            "/v2/catalog/search",
            json={"object_types": ["ITEM"], "query": {"text_query": {"keywords": ["runn", "tra"]}}},
        )
        prefix = await client.post(
            "/v2/catalog/search",
            json={
                "object_types": ["ITEM_VARIATION"],
                "query": {"prefix_query": {"attribute_name": "sku", "attribute_prefix": "shoe-t"}},
            },
        )
    assert "Trail Runner Shoe" in [o["item_data"]["name"] for o in text.json()["objects"]]
    skus = {o["item_variation_data"]["sku"] for o in prefix.json()["objects"]}
    assert skus == {"SHOE-TRAIL-42", "SHOE-TRAIL-43"}


async def test_an_unknown_search_attribute_is_refused_naming_the_field() -> None:
    query = {"exact_query": {"attribute_name": "colour", "attribute_value": "red"}}
    async with raw_client(simulator()) as client:
        response = await client.post("/v2/catalog/search", json={"query": query})
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["code"] == "INVALID_VALUE"
    assert error["field"] == "exact_query.attribute_name"


async def test_search_pages_by_limit_and_an_out_of_range_limit_is_ignored() -> None:
    body: dict[str, Any] = {"object_types": ["ITEM_VARIATION"], "limit": 200}
    ids: list[str] = []
    async with raw_client(simulator()) as client:
        while True:
            answer = (await client.post("/v2/catalog/search", json=body)).json()
            ids += [o["id"] for o in answer["objects"]]
            if "cursor" not in answer:
                break
            body["cursor"] = answer["cursor"]
        ignored = (
            await client.post(
                "/v2/catalog/search", json={"object_types": ["ITEM_VARIATION"], "limit": 5000}
            )
        ).json()
    assert sorted(ids) == sorted(v[0] for item in dataset().pos_items for v in item.variations)
    assert len(ignored["objects"]) == 100


# --- counts ------------------------------------------------------------------------------------


async def test_counts_are_one_per_object_location_state_as_decimal_strings_newest_first() -> None:
    body = contract("inventory.counts.batch_retrieve")["request"]["body"]
    async with raw_client(simulator()) as client:
        counts = (await client.post(COUNTS, json=body)).json()["counts"]
    keys = [(c["catalog_object_id"], c["location_id"], c["state"]) for c in counts]
    assert len(keys) == len(set(keys))
    assert {c["state"] for c in counts} <= {"IN_STOCK", "RESERVED_FOR_SALE"}
    times = [c["calculated_at"] for c in counts]
    assert times == sorted(times, reverse=True)
    for count in counts:
        sku = "SOCK-MER-CREW-M" if count["catalog_object_id"] == SOCK else "SHOE-TRAIL-42"
        truth = dataset().store_count(sku, count["location_id"])
        assert truth is not None
        assert count["quantity"] == str(truth[count["state"]])


async def test_counts_cursor_walks_every_count_once_and_the_deprecated_path_agrees() -> None:
    app = simulator()
    ids = [v[0] for item in dataset().pos_items[:40] for v in item.variations]
    body: dict[str, Any] = {"catalog_object_ids": ids, "limit": 25}
    seen = []
    async with raw_client(app) as client:
        while True:
            answer = (await client.post(COUNTS, json=body)).json()
            seen += answer.get("counts", [])
            if "cursor" not in answer:
                break
            body["cursor"] = answer["cursor"]
        everything = await client.post(COUNTS, json={"catalog_object_ids": ids, "limit": 1000})
        legacy = await client.post(
            "/v2/inventory/batch-retrieve-counts", json={"catalog_object_ids": ids, "limit": 1000}
        )
    assert len(seen) > 25
    assert seen == everything.json()["counts"] == legacy.json()["counts"]
    assert app.state.calls["POST /v2/inventory/batch-retrieve-counts"] == 1


async def test_a_sale_between_count_pages_shows_on_the_next_page() -> None:
    # The next pages of a query come from a remembered, sorted result; a write must not be
    # hidden: the sold count moves to the front (newest first), as a fresh query shows.
    app = simulator()
    ids = [v[0] for item in dataset().pos_items[:40] for v in item.variations] + [SHOE_42]
    body: dict[str, Any] = {"catalog_object_ids": ids, "limit": 25}
    async with raw_client(app) as client:
        first = (await client.post(COUNTS, json=body)).json()
        await client.post(CHANGES, json=sale("between-pages", "1"))
        second = (await client.post(COUNTS, json={**body, "cursor": first["cursor"]})).json()
        fresh = (await client.post(COUNTS, json={**body, "limit": 1000})).json()["counts"]
    assert fresh[0]["catalog_object_id"] == SHOE_42 and fresh[0]["location_id"] == KIOSK
    assert second["counts"] == fresh[25:50]


async def test_counts_filters_by_state_and_location_and_refuses_a_limit_over_1000() -> None:
    async with raw_client(simulator()) as client:
        reserved = await client.post(
            COUNTS, json={"location_ids": [DOWNTOWN], "states": ["RESERVED_FOR_SALE"]}
        )
        too_many = await client.post(COUNTS, json={"limit": 1001})
    counts = reserved.json()["counts"]
    assert counts and {(c["state"], c["location_id"]) for c in counts} == {
        ("RESERVED_FOR_SALE", DOWNTOWN)
    }
    assert too_many.status_code == 400
    assert too_many.json() == error_example(400) | {"errors": too_many.json()["errors"]}
    assert too_many.json()["errors"][0] == error_example(400)["errors"][0] | {
        "code": "VALUE_TOO_HIGH",
        "detail": "`limit` must be less than or equal to 1000.",
        "field": "limit",
    }


async def test_retrieving_one_unknown_variation_is_404() -> None:
    async with raw_client(simulator()) as client:
        response = await client.get("/v2/inventory/ZZZZ000000000000000000")
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "NOT_FOUND"


# --- changes -----------------------------------------------------------------------------------


async def test_a_sale_decrements_in_stock_and_stamps_calculated_at() -> None:
    app = simulator()
    async with raw_client(app) as client:
        before = Decimal(await in_stock(client, SHOE_42, KIOSK))
        answer = (await client.post(CHANGES, json=sale("sale-1", "2"))).json()
        after = Decimal(await in_stock(client, SHOE_42, KIOSK))
    assert after == before - 2
    [count] = answer["counts"]
    assert count["quantity"] == str(after)
    assert count["calculated_at"] == "2026-11-20T10:26:41.311Z"
    assert answer["changes"][0]["adjustment"]["id"]


async def test_the_same_idempotency_key_returns_the_first_result_and_sells_once() -> None:
    async with raw_client(simulator()) as client:
        before = Decimal(await in_stock(client, SHOE_42, KIOSK))
        first = (await client.post(CHANGES, json=sale("same-key"))).json()
        again = (await client.post(CHANGES, json=sale("same-key"))).json()
        reused = await client.post(CHANGES, json=sale("same-key", "3"))
        after = Decimal(await in_stock(client, SHOE_42, KIOSK))
    assert again == first
    assert after == before - 1
    assert reused.status_code == 400
    assert reused.json()["errors"][0]["code"] == "IDEMPOTENCY_KEY_REUSED"


@pytest.mark.parametrize(
    ("from_state", "to_state", "field"),
    [
        ("IN_STOCK", "RESERVED_FOR_SALE", "to_state"),
        ("RESERVED_FOR_SALE", "IN_STOCK", "from_state"),
        ("ORDERED_FROM_VENDOR", "IN_STOCK", "from_state"),
    ],
)
async def test_read_only_states_are_refused_as_the_contract_says(
    from_state: str, to_state: str, field: str
) -> None:
    body = sale("reserve", from_state=from_state, to_state=to_state)
    async with raw_client(simulator()) as client:
        before = await in_stock(client, SHOE_42, KIOSK)
        response = await client.post(CHANGES, json=body)
        after = await in_stock(client, SHOE_42, KIOSK)
    expected = contract("inventory.changes.batch_create")["error_example"]
    assert response.status_code == expected["status"]
    error = response.json()["errors"][0]
    assert error["category"] == "INVALID_REQUEST_ERROR"
    assert error["code"] == "INVALID_ENUM_VALUE"
    assert error["field"] == f"changes[0].adjustment.{field}"
    assert after == before


async def test_a_batch_with_one_bad_change_applies_none() -> None:
    body = sale("atomic")
    bad = {"type": "ADJUSTMENT", "adjustment": {**body["changes"][0]["adjustment"]}}
    bad["adjustment"]["quantity"] = "-1"
    body["changes"].append(bad)
    async with raw_client(simulator()) as client:
        before = await in_stock(client, SHOE_42, KIOSK)
        response = await client.post(CHANGES, json=body)
        after = await in_stock(client, SHOE_42, KIOSK)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "changes[1].adjustment.quantity"
    assert after == before


async def test_the_contract_change_batch_applies_a_sale_and_a_physical_count() -> None:
    fixture = contract("inventory.changes.batch_create")
    async with raw_client(simulator()) as client:
        shoe_before = Decimal(await in_stock(client, SHOE_42, DOWNTOWN))
        response = await client.post(CHANGES, json=fixture["request"]["body"])
        shoe_after = Decimal(await in_stock(client, SHOE_42, DOWNTOWN))
        sock_after = await in_stock(client, SOCK, DOWNTOWN)
    assert response.status_code == 200
    assert shoe_after == shoe_before - 1
    assert sock_after == "18"
    expected_keys = set(fixture["response"]["body"]["counts"][0])
    assert all(set(c) == expected_keys for c in response.json()["counts"])


async def test_a_physical_count_supersedes_adjustments_that_happened_before_it() -> None:
    def change(kind: str, minutes_ago: int, **fields: str) -> dict[str, Any]:
        wire = {
            "catalog_object_id": SHOE_42,
            "location_id": KIOSK,
            "occurred_at": (NOW - timedelta(minutes=minutes_ago)).isoformat(),
            **fields,
        }
        return {"type": kind, kind.lower(): wire}

    async with raw_client(simulator()) as client:
        count = change("PHYSICAL_COUNT", 10, state="IN_STOCK", quantity="7")
        await client.post(CHANGES, json={"idempotency_key": "count", "changes": [count]})
        # Sent later, but it happened before the count: the count already reflects it.
        late = change("ADJUSTMENT", 20, from_state="IN_STOCK", to_state="SOLD", quantity="1")
        await client.post(CHANGES, json={"idempotency_key": "late", "changes": [late]})
        assert await in_stock(client, SHOE_42, KIOSK) == "7"
        received = change("ADJUSTMENT", 5, from_state="NONE", to_state="IN_STOCK", quantity="3")
        await client.post(CHANGES, json={"idempotency_key": "receive", "changes": [received]})
        assert await in_stock(client, SHOE_42, KIOSK) == "10"


async def test_an_occurred_at_older_than_24_hours_is_refused() -> None:
    stale = sale("stale", occurred_at=(NOW - timedelta(hours=25)).isoformat())
    async with raw_client(simulator()) as client:
        response = await client.post(CHANGES, json=stale)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "changes[0].adjustment.occurred_at"


# --- the official SDK --------------------------------------------------------------------------


def test_the_official_squareup_sdk_lists_locations_and_pages_counts_from_the_simulator() -> None:
    square = pytest.importorskip("square")
    app = simulator()
    ids = [v[0] for item in dataset().pos_items[:60] for v in item.variations]
    with serve(app) as url:
        client = square.Square(base_url=url, token=TOKEN, version=VERSION)
        locations = client.locations.list().locations or []
        pager = client.inventory.batch_get_counts(catalog_object_ids=ids, limit=50)
        counts = list(pager)
    assert {loc.id for loc in locations} == {s.id for s in dataset().stores}
    assert locations[0].coordinates is not None
    truth = sum(
        len(dataset().store_count(v[2], store.id) or {})
        for item in dataset().pos_items[:60]
        for v in item.variations
        for store in dataset().stores
    )
    assert len(counts) == truth > 50
    assert app.state.calls["POST /v2/inventory/counts/batch-retrieve"] == -(-truth // 50)
