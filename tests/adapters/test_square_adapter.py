"""SquareAdapter against the contract payloads (httpx.MockTransport) and the simulator."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from adapters.square import SquareAdapter, build_square_client
from gateway.domain import GeoPoint, Money, SourceSystem, StoreSum
from gateway.domain.ledger import store_sum
from gateway.errors import BackendAuthError, BackendRejected, BackendUnavailable
from tests.square_support import (
    BASE_URL,
    NOW,
    VERSION,
    adapter_client,
    contract,
    dataset,
    raw_client,
    settings,
    simulator,
)

SEARCH = "POST /v2/catalog/search"
COUNTS = "POST /v2/inventory/counts/batch-retrieve"
SHOE_42 = "H7CY2PB5WK3XQ9TN6RMZ4LDV"
DOWNTOWN = "L8D2Q4W5ZC1XN"
KIOSK = "LB3K7N9PD2XWE"

Handler = Callable[[httpx.Request], httpx.Response]


def mock_adapter(handler: Handler, *, max_retries: int = 2) -> SquareAdapter:
    client = build_square_client(settings(), transport=httpx.MockTransport(handler))
    return SquareAdapter(client, max_retries=max_retries)


def routes(answers: dict[str, list[httpx.Response]], seen: list[httpx.Request]) -> Handler:
    """Serve queued answers per "METHOD /path"; remember every request."""

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answers[f"{request.method} {request.url.path}"].pop(0)

    return handler


def ok(body: dict[str, Any]) -> httpx.Response:
    return httpx.Response(200, json=body)


def contract_variations() -> dict[str, Any]:
    """A search answer holding the contract's sock and shoe-42 variations and their ITEMs."""
    items = contract("catalog.list")["response"]["body"]["objects"]
    variations = [v for item in items for v in item["item_data"]["variations"]]
    wanted = [v for v in variations if v["id"] in {"VJ6R3KTW2XQ8ML5CH4PN7ZBY", SHOE_42}]
    return {"objects": wanted, "related_objects": items, "latest_time": "2026-11-22T09:55:10Z"}


# --- contract payloads ---------------------------------------------------------------------------


async def test_locations_map_the_contract_payload_and_drop_inactive_and_mobile_ones() -> None:
    body = contract("locations.list")["response"]["body"]
    downtown = body["locations"][0]
    downtown["coordinates"] = {"latitude": 52.5386, "longitude": 13.4106}
    downtown["some_future_field"] = {"ignored": True}
    body["locations"] += [
        {**downtown, "id": "LCLOSED", "status": "INACTIVE"},
        {**downtown, "id": "LTRUCK", "type": "MOBILE"},
    ]
    seen: list[httpx.Request] = []
    adapter = mock_adapter(routes({"GET /v2/locations": [ok(body)]}, seen))

    locations = await adapter.locations()

    assert [loc.ref for loc in locations] == [DOWNTOWN, KIOSK]
    first, kiosk = locations
    assert first.source is SourceSystem.POS
    assert first.name == "Downtown Store"
    assert first.point == GeoPoint(52.5386, 13.4106)
    assert first.address == "Kastanienallee 80, 10435 Berlin, DE"
    assert first.timezone == "Europe/Berlin"
    assert first.kind == "PHYSICAL"
    assert kiosk.point is None  # the contract's payload carries no coordinates
    assert seen[0].headers["Authorization"] == "Bearer sandbox-square-token"
    assert seen[0].headers["Square-Version"] == VERSION


async def test_variations_by_sku_searches_once_with_a_set_query_and_maps_prices() -> None:
    answer = contract("catalog.search")["response"]["body"]
    override = answer["objects"][0]["item_variation_data"]["location_overrides"]
    override.append(
        {"location_id": KIOSK, "price_money": {"amount": 11900, "currency": "EUR"}, "x": 1}
    )
    seen: list[httpx.Request] = []
    adapter = mock_adapter(routes({SEARCH: [ok(answer)]}, seen))

    found = await adapter.variations_by_sku(["SHOE-TRAIL-42", "NO-SUCH-SKU"])

    assert list(found) == ["SHOE-TRAIL-42"]
    shoe = found["SHOE-TRAIL-42"]
    assert shoe.variation_id == "H7CY2PB5WK3XQ9TN6RMZ4LDV"
    assert shoe.item_id == "N4TZ7WQ2KX6BR3YL5HVC8MDP"
    assert shoe.price == Money(Decimal("129.00"), "EUR")
    assert shoe.location_prices == {KIOSK: Money(Decimal("119.00"), "EUR")}
    assert shoe.low_stock_thresholds == {DOWNTOWN: 2}
    sent = json.loads(seen[0].content)
    assert sent["object_types"] == ["ITEM_VARIATION"]
    assert sent["query"] == {
        "set_query": {"attribute_name": "sku", "attribute_values": ["SHOE-TRAIL-42", "NO-SUCH-SKU"]}
    }


async def test_stock_maps_contract_counts_and_follows_the_cursor_to_the_end() -> None:
    counts = contract("inventory.counts.batch_retrieve")
    seen: list[httpx.Request] = []
    answers = {
        SEARCH: [ok(contract_variations())],
        COUNTS: [ok(counts["response"]["body"]), ok({})],  # Square omits empty lists
    }
    adapter = mock_adapter(routes(answers, seen))

    readings = await adapter.stock(["SOCK-MER-CREW-M", "SHOE-TRAIL-42"], [DOWNTOWN, KIOSK])

    by_key = {(r.sku, r.location_ref): r for r in readings}
    assert set(by_key) == {
        ("SOCK-MER-CREW-M", DOWNTOWN),
        ("SHOE-TRAIL-42", DOWNTOWN),
        ("SHOE-TRAIL-42", KIOSK),
    }
    sock = by_key[("SOCK-MER-CREW-M", DOWNTOWN)]
    assert (sock.on_hand, sock.reserved) == (19, 1)  # 18 IN_STOCK + 1 RESERVED_FOR_SALE
    assert sock.as_of == datetime(2026, 11, 20, 9, 16, 41, 22000, tzinfo=UTC)
    assert sock.source is SourceSystem.POS
    kiosk = by_key[("SHOE-TRAIL-42", KIOSK)]
    assert (kiosk.on_hand, kiosk.reserved) == (1, 0)
    assert kiosk.as_of == datetime(2026, 11, 18, 17, 45, 9, 881000, tzinfo=UTC)

    first, second = (json.loads(r.content) for r in seen[1:])
    assert set(first["catalog_object_ids"]) == set(counts["request"]["body"]["catalog_object_ids"])
    assert first["location_ids"] == [DOWNTOWN, KIOSK]
    assert second == first | {"cursor": counts["next_page_request_body"]["cursor"]}


async def test_decimal_quantities_round_down_and_odd_counts_are_skipped_not_fatal() -> None:
    # Square quantities are decimal strings and its times may carry nanoseconds; a count
    # with a field of the wrong type is passed over, never the whole answer.
    def count(state: str, quantity: Any, at: Any, **extra: Any) -> dict[str, Any]:
        return {
            "catalog_object_id": SHOE_42, "catalog_object_type": "ITEM_VARIATION",
            "state": state, "location_id": DOWNTOWN, "quantity": quantity,
            "calculated_at": at, **extra,
        }  # fmt: skip

    body = {
        "counts": [
            count("IN_STOCK", "2.5", "2026-11-20T09:16:41.123456789Z"),
            count("IN_STOCK", "4", "2026-11-20T09:10:00Z"),  # two rows of one state add up
            count("RESERVED_FOR_SALE", "0.75", ["not", "a", "time"]),
            count("ORDERED_FROM_VENDOR", "12", None),
            count("IN_STOCK", "7", "2026-11-20T09:00:00Z", location_id=["x"]),
            count("SOLD", "9", "2026-11-20T10:00:00Z"),
            {"catalog_object_id": {"odd": 1}, "state": "IN_STOCK", "location_id": DOWNTOWN},
        ]
    }
    answers = {SEARCH: [ok(contract_variations())], COUNTS: [ok(body)]}
    adapter = mock_adapter(routes(answers, []))

    [reading] = await adapter.stock(["SHOE-TRAIL-42"], [DOWNTOWN])

    # 6.5 IN_STOCK -> 6, 0.75 RESERVED_FOR_SALE -> 0; on hand is their sum, rounded down.
    assert (reading.on_hand, reading.reserved, reading.incoming) == (6, 0, 12)
    assert reading.as_of == datetime(2026, 11, 20, 9, 16, 41, 123456, tzinfo=UTC)


@pytest.mark.parametrize(
    ("status", "kind", "code"),
    [
        (400, BackendRejected, "INVALID_CURSOR"),
        (401, BackendAuthError, "UNAUTHORIZED"),
        (403, BackendAuthError, "INSUFFICIENT_SCOPES"),
        (404, BackendRejected, "NOT_FOUND"),
        (429, BackendUnavailable, "RATE_LIMITED"),
        (500, BackendUnavailable, "INTERNAL_SERVER_ERROR"),
    ],
)
async def test_contract_error_bodies_become_typed_errors_with_the_square_code(
    status: int, kind: type[Exception], code: str
) -> None:
    example = next(e for e in contract("errors")["examples"] if e["status"] == status)
    adapter = mock_adapter(
        lambda request: httpx.Response(status, json=example["body"]), max_retries=0
    )

    with pytest.raises(kind) as caught:
        await adapter.locations()

    error = caught.value
    assert error.backend_code == code  # type: ignore[attr-defined]
    assert error.status == status  # type: ignore[attr-defined]
    assert error.details["category"] == example["body"]["errors"][0]["category"]  # type: ignore[attr-defined]


async def test_a_proxy_html_page_is_backend_unavailable() -> None:
    adapter = mock_adapter(
        lambda request: httpx.Response(502, text="<html>Bad gateway</html>"), max_retries=0
    )
    with pytest.raises(BackendUnavailable):
        await adapter.locations()


async def test_503_then_429_are_retried_until_the_answer_comes() -> None:
    rate_limited = next(e for e in contract("errors")["examples"] if e["status"] == 429)
    seen: list[httpx.Request] = []
    answers = {
        "GET /v2/locations": [
            httpx.Response(503, json={"errors": [{"category": "API_ERROR", "code": "X"}]}),
            httpx.Response(429, json=rate_limited["body"]),
            ok(contract("locations.list")["response"]["body"]),
        ]
    }
    adapter = mock_adapter(routes(answers, seen), max_retries=2)

    assert len(await adapter.locations()) == 2
    assert len(seen) == 3


async def test_retries_give_up_with_the_last_square_error() -> None:
    rate_limited = next(e for e in contract("errors")["examples"] if e["status"] == 429)
    adapter = mock_adapter(
        lambda request: httpx.Response(429, json=rate_limited["body"]), max_retries=1
    )
    with pytest.raises(BackendUnavailable) as caught:
        await adapter.locations()
    assert caught.value.backend_code == "RATE_LIMITED"


# --- against the simulator -------------------------------------------------------------------


def stocked_skus(count: int) -> list[str]:
    return dataset().stock_skus[:count]


def truth(sku: str, store: str) -> tuple[int, int] | None:
    counts = dataset().store_count(sku, store)
    if counts is None:
        return None
    reserved = counts.get("RESERVED_FOR_SALE", 0)
    return counts["IN_STOCK"] + reserved, reserved


async def test_a_page_of_50_skus_costs_one_search_and_one_counts_call() -> None:
    app = simulator()
    skus = stocked_skus(50)
    async with adapter_client(app) as client:
        adapter = SquareAdapter(client)
        readings = await adapter.stock(skus)
        again = await adapter.stock(skus)

    assert app.state.calls[SEARCH] == 1
    assert app.state.calls[COUNTS] == 2  # the second page of stock reused the SKU mapping
    assert again == readings
    expected = {
        (sku, store.id): truth(sku, store.id)
        for sku in skus
        for store in dataset().stores
        if truth(sku, store.id) is not None
    }
    assert {(r.sku, r.location_ref): (r.on_hand, r.reserved) for r in readings} == expected
    assert app.state.versions == {VERSION: 3}


async def test_prices_then_stock_for_the_same_skus_costs_no_second_search() -> None:
    app = simulator()
    skus = [*stocked_skus(50), "NO-SUCH-SKU"]
    async with adapter_client(app) as client:
        adapter = SquareAdapter(client)
        variations = await adapter.variations_by_sku(skus)
        await adapter.stock(skus)
        await adapter.stock(["NO-SUCH-SKU"])
        assert app.state.calls[SEARCH] == 1
        sock = (await adapter.variations_by_sku(["SOCK-MER-CREW-M"]))["SOCK-MER-CREW-M"]

    assert "NO-SUCH-SKU" not in variations
    assert len(variations) == 50
    # The only variation is Square's "Regular", so the ITEM's name is the name.
    assert sock.name == "Merino Crew Socks M"
    assert sock.price == Money(Decimal("14.00"), "EUR")
    assert sock.low_stock_thresholds[DOWNTOWN] == 5


async def test_stock_follows_counts_cursors_until_every_reading_is_in() -> None:
    app = simulator()
    skus = stocked_skus(200)
    async with adapter_client(app) as client:
        readings = await SquareAdapter(client).stock(skus)

    pairs = [truth(sku, store.id) for sku in skus for store in dataset().stores]
    stocked = [pair for pair in pairs if pair is not None]
    counts = len(stocked) + sum(1 for _, reserved in stocked if reserved)
    assert counts > 1000  # more than one page of counts
    assert app.state.calls[SEARCH] == 2  # 100 SKUs per search
    assert app.state.calls[COUNTS] == 2
    assert len(readings) == len(stocked)


async def test_store_sums_add_up_what_the_readings_would_without_making_them() -> None:
    # Every SKU asked gets a sum, a SKU Square lacks a zero one; a store not asked for (the
    # first store of the retailer) is not added, and what a store keeps back is left out.
    app = simulator()
    skus = [*stocked_skus(120), "NO-SUCH-SKU"]
    stores = [store.id for store in dataset().stores][1:]
    safety = {ref: i % 3 for i, ref in enumerate(stores)}
    async with adapter_client(app) as client:
        adapter = SquareAdapter(client)
        readings = await adapter.stock(skus, stores)
        sums = await adapter.store_sums(skus, safety)
        nothing = await adapter.store_sums(skus[:3], {})
    assert list(sums) == skus
    assert sums == {sku: store_sum([r for r in readings if r.sku == sku], safety) for sku in skus}
    assert sums["NO-SUCH-SKU"] == StoreSum(0, 0, None)
    assert sum(s.available for s in sums.values()) > 0
    assert nothing == dict.fromkeys(skus[:3], StoreSum(0, 0, None))


async def test_store_sums_round_decimals_down_as_readings_do() -> None:
    body = contract("inventory.counts.batch_retrieve")["response"]["body"]
    for count in body["counts"]:
        if count["state"] == "IN_STOCK":
            count["quantity"] = f"{count['quantity']}.5"
    answers = {SEARCH: [ok(contract_variations())] * 2, COUNTS: [ok(body), ok({})] * 2}
    adapter = mock_adapter(routes(answers, []))
    skus = ["SOCK-MER-CREW-M", "SHOE-TRAIL-42"]
    readings = await adapter.stock(skus, [DOWNTOWN, KIOSK])
    sums = await adapter.store_sums(skus, {DOWNTOWN: 1, KIOSK: 0})
    sock = store_sum([r for r in readings if r.sku == "SOCK-MER-CREW-M"], {DOWNTOWN: 1, KIOSK: 0})
    # 18.5 IN_STOCK -> 18, + 1 reserved on hand; 18 less the 1 kept back to promise.
    assert sums["SOCK-MER-CREW-M"] == sock == StoreSum(17, 19, sock.as_of)


async def test_stock_for_chosen_stores_reads_only_those() -> None:
    app = simulator()
    async with adapter_client(app) as client:
        readings = await SquareAdapter(client).stock(stocked_skus(50), [KIOSK])
        nothing = await SquareAdapter(client).stock(stocked_skus(50), [])
    assert readings and {r.location_ref for r in readings} == {KIOSK}
    assert nothing == []


async def test_a_sale_in_the_store_shows_in_the_next_reading() -> None:
    app = simulator()
    sku, vid = "SHOE-TRAIL-42", SHOE_42
    sale = {
        "idempotency_key": "till-7-receipt-1",
        "changes": [
            {
                "type": "ADJUSTMENT",
                "adjustment": {
                    "catalog_object_id": vid,
                    "from_state": "IN_STOCK",
                    "to_state": "SOLD",
                    "location_id": KIOSK,
                    "quantity": "1",
                    "occurred_at": (NOW - timedelta(seconds=30)).isoformat(),
                },
            }
        ],
    }
    async with adapter_client(app) as client, raw_client(app) as till:
        adapter = SquareAdapter(client)
        [before] = await adapter.stock([sku], [KIOSK])
        assert (await till.post("/v2/inventory/changes/batch-create", json=sale)).is_success
        [after] = await adapter.stock([sku], [KIOSK])
    assert after.on_hand == before.on_hand - 1
    assert after.as_of == NOW


async def test_injected_503_and_429_are_retried_transparently() -> None:
    app = simulator()
    app.state.faults.script(503, 429)
    async with adapter_client(app) as client:
        locations = await SquareAdapter(client, max_retries=2).locations()
    assert {loc.ref for loc in locations} == {s.id for s in dataset().stores}
    assert app.state.calls["GET /v2/locations"] == 3
    stores = {s.id: s for s in dataset().stores}
    assert all(loc.point == GeoPoint(stores[loc.ref].lat, stores[loc.ref].lng) for loc in locations)


async def test_a_wrong_token_is_a_backend_auth_error_and_is_not_retried() -> None:
    app = simulator()
    async with adapter_client(app, token="revoked") as client:
        with pytest.raises(BackendAuthError) as caught:
            await SquareAdapter(client).stock(["SOCK-MER-CREW-M"])
    assert caught.value.backend_code == "UNAUTHORIZED"
    assert caught.value.backend == "square"
    assert app.state.calls[SEARCH] == 1


def test_the_client_is_pinned_to_the_configured_host_and_version() -> None:
    client = build_square_client(settings())
    assert str(client.base_url).rstrip("/") == BASE_URL
    assert client.headers["Square-Version"] == VERSION


async def test_a_remembered_sku_mapping_expires_so_a_moved_sku_is_found_again() -> None:
    app = simulator()
    clock = [0.0]
    async with adapter_client(app) as client:
        adapter = SquareAdapter(client, variation_id_ttl_seconds=60, monotonic=lambda: clock[0])
        await adapter.stock(["SOCK-MER-CREW-M"])
        clock[0] = 59.0
        await adapter.stock(["SOCK-MER-CREW-M"])
        assert app.state.calls[SEARCH] == 1
        clock[0] = 61.0
        await adapter.stock(["SOCK-MER-CREW-M"])
    assert app.state.calls[SEARCH] == 2


async def test_stock_changes_name_the_items_sold_since_and_the_newest_change() -> None:
    # Square's updated_after: only counts calculated after the moment come back, so a copy
    # of the counts is brought up to date without reading them all again.
    app = simulator()
    stores = [DOWNTOWN, KIOSK]
    sale = {
        "idempotency_key": "till-7-receipt-2",
        "changes": [
            {
                "type": "ADJUSTMENT",
                "adjustment": {
                    "catalog_object_id": SHOE_42,
                    "from_state": "IN_STOCK",
                    "to_state": "SOLD",
                    "location_id": KIOSK,
                    "quantity": "1",
                    "occurred_at": (NOW - timedelta(seconds=30)).isoformat(),
                },
            }
        ],
    }
    since = dataset().base_time  # every seeded count was calculated at or before it
    async with adapter_client(app) as client, raw_client(app) as till:
        adapter = SquareAdapter(client)
        quiet = await adapter.stock_changes(since, stores)
        assert (await till.post("/v2/inventory/changes/batch-create", json=sale)).is_success
        changed = await adapter.stock_changes(since, stores)
        elsewhere = await adapter.stock_changes(since, [DOWNTOWN])
        later = await adapter.stock_changes(NOW, stores)
        nowhere = await adapter.stock_changes(since, [])

    assert quiet.item_ids == frozenset() and quiet.newest is None
    assert changed.item_ids == {SHOE_42} and changed.newest == NOW
    assert elsewhere.item_ids == frozenset()
    assert later.item_ids == frozenset()  # calculated at NOW: not after it
    assert nowhere.item_ids == frozenset()
    assert app.state.calls[COUNTS] == 4  # no stores: no call


async def test_stock_changes_ask_square_for_every_page_after_the_moment() -> None:
    seen: list[httpx.Request] = []
    count = {"catalog_object_id": SHOE_42, "state": "IN_STOCK", "location_id": DOWNTOWN}
    answers = {
        COUNTS: [
            ok({"counts": [{**count, "calculated_at": "2026-11-20T10:26:41.311Z"}], "cursor": "c2"}),
            ok({"counts": [{**count, "catalog_object_id": "OTHER", "calculated_at": "2026-11-20T10:20:00Z"}]}),
        ]
    }  # fmt: skip
    adapter = mock_adapter(routes(answers, seen))

    changes = await adapter.stock_changes(datetime(2026, 11, 20, 9, 0, 0, 123456, UTC), [DOWNTOWN])

    assert changes.counts == {
        (SHOE_42, DOWNTOWN, "IN_STOCK", NOW),
        ("OTHER", DOWNTOWN, "IN_STOCK", datetime(2026, 11, 20, 10, 20, tzinfo=UTC)),
    }
    assert changes.item_ids == {SHOE_42, "OTHER"}
    assert changes.newest == NOW
    first, second = (json.loads(r.content) for r in seen)
    assert first == {
        "location_ids": [DOWNTOWN],
        "states": ["IN_STOCK", "RESERVED_FOR_SALE", "ORDERED_FROM_VENDOR"],
        "updated_after": "2026-11-20T09:00:00.123Z",
        "limit": 1000,
    }
    assert second == first | {"cursor": "c2"}


async def test_an_inventory_events_variations_are_mapped_back_to_skus_in_one_call() -> None:
    # An inventory.count.updated names variation ids; the gateway keeps SKUs.
    app = simulator()
    skus = stocked_skus(3)
    async with adapter_client(app) as client:
        adapter = SquareAdapter(client)
        ids = {v.variation_id: sku for sku, v in (await adapter.variations_by_sku(skus)).items()}
        found = await adapter.skus_of_variations([*ids, "NO-SUCH-VARIATION"])

    assert found == ids  # an id Square no longer has is left out, not an error
    assert app.state.calls["POST /v2/catalog/batch-retrieve"] == 1
