"""ErpNextAdapter against the contract payloads (httpx.MockTransport) and the simulator."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
import tenacity

from adapters.erpnext import ErpNextAdapter, build_erpnext_client
from gateway.domain import ItemSupply, Kit, KitComponent, Money, SourceSystem
from gateway.errors import BackendAuthError, BackendRejected, BackendUnavailable
from sandbox.retailer import Dataset
from tests.erpnext_support import (
    KEY,
    SECRET,
    adapter_on,
    contract,
    dataset,
    filters_of,
    settings,
    simulator,
)
from tests.live_server import serve

Handler = Callable[[httpx.Request], httpx.Response]


@pytest.fixture
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries without the shared policy's sleeps (up to a second each with jitter)."""
    monkeypatch.setattr("adapters.http.wait_exponential_jitter", lambda **_: tenacity.wait_none())


def by_doctype(answers: dict[str, Any], seen: list[httpx.Request]) -> Handler:
    """Answer per doctype from a body, a list of queued responses, or a function."""

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = answers[request.url.path.removeprefix("/api/resource/")]
        if callable(answer):
            return answer(request)
        if isinstance(answer, list):
            return answer.pop(0)
        return httpx.Response(200, json=answer)

    return handler


def mock_adapter(
    answers: dict[str, Any], seen: list[httpx.Request], **options: Any
) -> ErpNextAdapter:
    return adapter_on(httpx.MockTransport(by_doctype(answers, seen)), **options)


def sim_adapter(app: Any, **options: Any) -> ErpNextAdapter:
    return adapter_on(httpx.ASGITransport(app=app), **options)


def body(name: str, part: str = "response") -> dict[str, Any]:
    answer: dict[str, Any] = contract(name)[part]["body"]
    return answer


def error(status: int, exc_type: str, **headers: str) -> httpx.Response:
    example = next(e for e in contract("errors")["examples"] if e["status"] == status)
    assert example["body"]["exc_type"] == exc_type
    return httpx.Response(
        status, json=example["body"], headers={**(example.get("headers") or {}), **headers}
    )


NGINX_503 = httpx.Response(503, text="<html><body><h1>503</h1>nginx</body></html>")


def contract_children(parentfield: str, *fields: str) -> dict[str, Any]:
    """The child rows of items.get.json as a child doctype list (parent=Item) returns them."""
    rows = body("items.get")["data"][parentfield]
    return {"data": [{"parent": r["parent"], **{f: r[f] for f in fields}} for r in rows]}


def leaf_bins(data: Dataset, skus: list[str]) -> dict[tuple[str, str], dict[str, int]]:
    return {
        (sku, w.name): figures
        for sku in skus
        for w in data.leaf_warehouses
        if (figures := data.bin(sku, w.name)) is not None
    }


# --- contract payloads -------------------------------------------------------------------------


async def test_given_contract_bins_then_readings_with_utc_times_and_safe_reservations() -> None:
    seen: list[httpx.Request] = []
    adapter = mock_adapter({"Bin": body("bins.list")}, seen)

    readings = await adapter.stock(["SOCK-MER-CREW-M", "SHOE-TRAIL-42"])

    by_key = {(r.sku, r.location_ref): r for r in readings}
    assert len(readings) == 4
    shoe = by_key[("SHOE-TRAIL-42", "Central Warehouse - NTR")]
    assert (shoe.on_hand, shoe.reserved, shoe.incoming) == (7, 2, 10)
    assert shoe.source is SourceSystem.ERP
    # '2026-11-20 10:16:41.022917' Europe/Berlin (CET, UTC+1) is 09:16:41 UTC.
    assert shoe.as_of == datetime(2026, 11, 20, 9, 16, 41, 22917, tzinfo=UTC)
    sock = by_key[("SOCK-MER-CREW-M", "Central Warehouse - NTR")]
    assert (sock.on_hand, sock.reserved) == (120, 6)
    (request,) = seen
    assert request.headers["Authorization"] == f"token {KEY}:{SECRET}"
    assert filters_of(request) == [["item_code", "in", ["SOCK-MER-CREW-M", "SHOE-TRAIL-42"]]]
    assert int(request.url.params["limit_page_length"]) > 0  # never Frappe's default of 20


async def test_given_a_summer_time_bin_then_the_offset_is_two_hours() -> None:
    rows = body("bins.list")
    rows["data"][0]["modified"] = "2026-07-01 12:00:00"  # no fraction when it is a whole second
    adapter = mock_adapter({"Bin": rows}, [])
    readings = await adapter.stock(["SOCK-MER-CREW-M"])
    assert readings[0].as_of == datetime(2026, 7, 1, 10, 0, tzinfo=UTC)


async def test_given_more_bins_than_a_page_then_pages_are_followed_to_the_end() -> None:
    rows = body("bins.list")["data"]
    seen: list[httpx.Request] = []

    def page(request: httpx.Request) -> httpx.Response:
        start = int(request.url.params["limit_start"])
        length = int(request.url.params["limit_page_length"])
        return httpx.Response(200, json={"data": rows[start : start + length]})

    adapter = mock_adapter({"Bin": page}, seen, page_size=2)
    readings = await adapter.stock(["SOCK-MER-CREW-M", "SHOE-TRAIL-42"])
    assert len(readings) == 4
    assert [int(r.url.params["limit_start"]) for r in seen] == [0, 2, 4]
    assert {r.url.params["order_by"] for r in seen} == {"name asc"}  # a stable, unique order


async def test_given_long_codes_then_chunks_keep_every_request_line_under_8_kb() -> None:
    seen: list[httpx.Request] = []
    skus = [f"LONG-ITEM-CODE-WITH-A-VERY-DESCRIPTIVE-NAME-{n:05d}" for n in range(450)]
    adapter = mock_adapter({"Bin": lambda _: httpx.Response(200, json={"data": []})}, seen)

    await adapter.stock(skus)

    asked = [sku for request in seen for sku in filters_of(request)[0][2]]
    assert sorted(asked) == skus
    assert all(len(str(request.url)) < 8000 for request in seen)
    assert len(seen) <= 6


async def test_given_no_skus_then_no_request_is_made() -> None:
    seen: list[httpx.Request] = []
    adapter = mock_adapter({}, seen)
    assert await adapter.items_by_sku([]) == {}
    assert await adapter.stock([]) == []
    assert await adapter.kits([]) == {}
    assert await adapter.list_items(offset=0, limit=0) == []
    assert seen == []


async def test_given_contract_items_then_decimal_money_barcodes_and_utc_modified() -> None:
    seen: list[httpx.Request] = []
    answers = {
        "Item": body("items.list"),
        "Item Price": body("item_prices.list"),
        "Item Barcode": contract_children("barcodes", "barcode"),
        "Item Tax": {"data": [{"parent": "SHOE-TRAIL-42", "tax_category": "Apparel"}]},
    }
    adapter = mock_adapter(answers, seen)

    items = await adapter.items_by_sku(["SOCK-MER-CREW-M", "SHOE-TRAIL", "SHOE-TRAIL-42"])

    shoe = items["SHOE-TRAIL-42"]
    assert shoe.cost == Money(Decimal("52.4"), "EUR")
    assert str(shoe.cost.amount) == "52.4"  # via str(), not binary float arithmetic
    assert shoe.list_price == Money(Decimal("129.0"), "EUR")
    assert shoe.barcodes == ("4006381333948",)
    assert shoe.tax_category == "Apparel"
    assert (shoe.variant_of, shoe.category, shoe.name) == (
        "SHOE-TRAIL",
        "Footwear",
        "Trail Runner Shoe-42",
    )
    assert shoe.modified == datetime(2026, 11, 19, 15, 40, 3, 118204, tzinfo=UTC)
    assert items["SOCK-MER-CREW-M"].list_price == Money(Decimal("14.0"), "EUR")
    template = items["SHOE-TRAIL"]
    assert template.cost is None  # valuation_rate 0.0 means unknown, not free
    assert template.list_price is None and template.barcodes == ()
    by_doctype = {r.url.path: r for r in seen}
    barcode_request = by_doctype["/api/resource/Item Barcode"]
    assert barcode_request.url.params["parent"] == "Item"  # child doctypes need their parent
    assert filters_of(barcode_request) == [
        ["parent", "in", ["SOCK-MER-CREW-M", "SHOE-TRAIL", "SHOE-TRAIL-42"]]
    ]
    assert ["price_list", "=", "Standard Selling"] in filters_of(
        by_doctype["/api/resource/Item Price"]
    )


async def test_given_price_windows_then_the_one_valid_today_wins() -> None:
    prices = {
        "data": [
            {
                "item_code": "X",
                "price_list_rate": 10.0,
                "currency": "EUR",
                "valid_from": "2026-01-01",
            },
            {
                "item_code": "X",
                "price_list_rate": 8.5,
                "currency": "EUR",
                "valid_from": "2026-11-01",
            },
            {
                "item_code": "X",
                "price_list_rate": 7.0,
                "currency": "EUR",
                "valid_from": "2026-12-01",
            },
            {
                "item_code": "X",
                "price_list_rate": 1.0,
                "currency": "EUR",
                "valid_upto": "2026-10-31",
            },
        ]
    }
    answers = {
        "Item": {"data": [{"name": "X", "item_code": "X", "item_name": "X"}]},
        "Item Price": prices,
        "Item Barcode": {"data": []},
        "Item Tax": {"data": []},
    }
    items = await mock_adapter(answers, []).items_by_sku(["X"])
    assert items["X"].list_price == Money(Decimal("8.5"), "EUR")


async def test_given_contract_warehouses_then_only_enabled_stock_holding_leaves() -> None:
    seen: list[httpx.Request] = []
    adapter = mock_adapter({"Warehouse": body("warehouses.list")}, seen)

    locations = await adapter.warehouses()

    assert [(w.ref, w.name) for w in locations] == [
        ("Central Warehouse - NTR", "Central Warehouse"),
        ("Downtown Store - NTR", "Downtown Store"),
    ]
    assert all(w.source is SourceSystem.ERP and w.active for w in locations)
    assert ["warehouse_type", "!=", "Transit"] in filters_of(seen[0])


async def test_given_a_barcode_then_one_request_filtering_on_the_child_table() -> None:
    seen: list[httpx.Request] = []
    answers = {"Item": [httpx.Response(200, json={"data": [{"name": "SHOE-TRAIL-42"}]})]}
    answers["Item"].append(httpx.Response(200, json={"data": []}))
    adapter = mock_adapter(answers, seen)

    assert await adapter.sku_for_barcode("4006381333948") == "SHOE-TRAIL-42"
    assert await adapter.sku_for_barcode("0000000000000") is None
    assert filters_of(seen[0]) == [["Item Barcode", "barcode", "=", "4006381333948"]]


async def test_given_joined_bundle_rows_then_kits_with_whole_quantities() -> None:
    seen: list[httpx.Request] = []
    rows = [
        {
            "name": "KIT-A",
            "new_item_code": "KIT-A",
            "component": "SOCK-MER-CREW-M",
            "component_qty": 2.0,
        },
        {
            "name": "KIT-A",
            "new_item_code": "KIT-A",
            "component": "SHOE-TRAIL-42",
            "component_qty": 1.0,
        },
        {"name": "KIT-E", "new_item_code": "KIT-E", "component": None, "component_qty": None},
    ]
    adapter = mock_adapter({"Product Bundle": {"data": rows}}, seen)

    kits = await adapter.kits(["KIT-A", "KIT-E", "SOCK-MER-CREW-M"])

    assert kits == {
        "KIT-A": Kit(
            "KIT-A", (KitComponent("SOCK-MER-CREW-M", 2), KitComponent("SHOE-TRAIL-42", 1))
        )
    }
    assert ["disabled", "=", 0] in filters_of(seen[0])


# --- errors and retries --------------------------------------------------------------------------


async def test_given_404_then_a_typed_rejection_carrying_frappes_message() -> None:
    seen: list[httpx.Request] = []
    not_found = httpx.Response(404, json=body("items.get", "not_found"))
    adapter = mock_adapter({"Item": [not_found]}, seen)

    with pytest.raises(BackendRejected) as caught:
        await adapter.list_items(offset=0, limit=10)

    assert caught.value.status == 404
    assert caught.value.backend_code == "DoesNotExistError"
    assert caught.value.message == "Item SHOE-TRAIL-99 not found"
    assert len(seen) == 1  # a 4xx is not retried


async def test_given_417_then_the_validation_message_reaches_the_caller() -> None:
    adapter = mock_adapter({"Bin": [error(417, "ValidationError")]}, [])
    with pytest.raises(BackendRejected) as caught:
        await adapter.stock(["SOCK-MER-CREW-M"])
    assert caught.value.message == "Row #1: Delivery Date cannot be before Sales Order Date"
    assert caught.value.backend_code == "ValidationError"


@pytest.mark.parametrize(
    ("status", "exc_type"), [(401, "AuthenticationError"), (403, "PermissionError")]
)
async def test_given_refused_credentials_then_backend_auth_error(
    status: int, exc_type: str
) -> None:
    refused = httpx.Response(
        status, json={"exc_type": exc_type, "exception": f"frappe.exceptions.{exc_type}"}
    )
    adapter = mock_adapter({"Warehouse": [refused]}, [])
    with pytest.raises(BackendAuthError) as caught:
        await adapter.warehouses()
    assert caught.value.backend_code == exc_type
    assert caught.value.status == status


async def test_given_503_then_429_then_success_then_the_answer_after_retries(
    no_backoff: None,
) -> None:
    seen: list[httpx.Request] = []
    answers = {
        "Warehouse": [
            NGINX_503,
            error(429, "TooManyRequestsError", **{"Retry-After": "0"}),
            httpx.Response(200, json=body("warehouses.list")),
        ]
    }
    adapter = mock_adapter(answers, seen)

    locations = await adapter.warehouses()

    assert len(locations) == 2
    assert len(seen) == 3


async def test_given_the_rate_limit_persists_then_unavailable_with_retry_after(
    no_backoff: None,
) -> None:
    seen: list[httpx.Request] = []
    answers = {"Bin": [error(429, "TooManyRequestsError") for _ in range(3)]}
    adapter = mock_adapter(answers, seen, max_retries=2)
    with pytest.raises(BackendUnavailable) as caught:
        await adapter.stock(["SOCK-MER-CREW-M"])
    # Asked to wait 1242 s, longer than any caller waits: no pointless retries.
    assert len(seen) == 1
    assert caught.value.details["retry_after_seconds"] == 1242.0
    assert caught.value.status == 429
    assert caught.value.backend_code == "TooManyRequestsError"
    assert caught.value.details["retry_after"] == "1242"


async def test_given_html_from_a_proxy_then_unavailable_after_all_attempts(
    no_backoff: None,
) -> None:
    seen: list[httpx.Request] = []
    adapter = mock_adapter({"Bin": [NGINX_503] * 3}, seen, max_retries=2)
    with pytest.raises(BackendUnavailable):
        await adapter.stock(["SOCK-MER-CREW-M"])
    assert len(seen) == 3


async def test_given_an_html_message_then_the_tags_are_stripped() -> None:
    async with sim_client(simulator()) as client:
        refused = await client.get("/api/resource/Item Barcode")
    adapter = mock_adapter({"Item": [httpx.Response(403, json=refused.json())]}, [])
    with pytest.raises(BackendAuthError) as caught:
        await adapter.sku_for_barcode("4006381333948")
    assert caught.value.message == "Insufficient Permission for Item Barcode"


def sim_client(app: Any) -> httpx.AsyncClient:
    return build_erpnext_client(settings(), transport=httpx.ASGITransport(app=app))


# --- against the simulator ---------------------------------------------------------------------


async def test_given_every_sku_then_items_in_a_bounded_number_of_requests() -> None:
    app = simulator()
    data = dataset()
    skus = [*data.items, "NO-SUCH-SKU"]

    items = await sim_adapter(app).items_by_sku(skus)

    assert set(items) == set(data.items)
    assert sum(app.state.calls.values()) <= 4 * 3  # 4 doctypes x 3 chunks of 200
    for sku, expected in data.items.items():
        item = items[sku]
        assert item.list_price == Money(expected.list_price, "EUR")
        # The GTIN first, then the template of its price labels where it has one.
        assert item.barcodes == tuple(c for c in (expected.barcode, expected.label_barcode) if c)
        assert item.tax_category == expected.tax_category
        assert item.cost == (
            Money(expected.valuation_rate, "EUR") if expected.valuation_rate else None
        )
        assert item.variant_of == expected.variant_of
        assert item.is_stock_item == expected.is_stock_item


async def test_given_all_stock_skus_then_every_bin_across_pages() -> None:
    app = simulator()
    data = dataset()
    skus = data.stock_skus
    app.state.store.table("Bin").update("MAT-BIN-2026-00001", reserved_stock=40.0)

    readings = await sim_adapter(app, page_size=100).stock(skus)

    expected = leaf_bins(data, skus)
    assert {(r.sku, r.location_ref) for r in readings} == set(expected)
    assert len(readings) == len(expected)
    assert app.state.calls["GET /api/resource/Bin"] > 3  # more than one page per chunk
    for reading in readings:
        figures = expected[(reading.sku, reading.location_ref)]
        assert reading.on_hand == figures["actual_qty"]
        assert reading.incoming == figures["ordered_qty"]
        assert reading.as_of == data.bin_modified(reading.sku, reading.location_ref)
    # reserved is the larger of soft (reserved_qty) and hard (reserved_stock) reservations.
    raised = [
        r for r in readings if r.reserved != expected[(r.sku, r.location_ref)]["reserved_qty"]
    ]
    assert [r.reserved for r in raised] == [40]


async def test_given_pages_of_items_then_sellable_ones_in_a_stable_order() -> None:
    app = simulator()
    app.state.store.table("Item").update("SOCK-MER-CREW-M", disabled=1)
    adapter = sim_adapter(app)

    listed: list[str] = []
    while page := await adapter.list_items(offset=len(listed), limit=100):
        listed += [i.sku for i in page]

    expected = [s for s, i in dataset().items.items() if i.sellable and s != "SOCK-MER-CREW-M"]
    assert listed == sorted(expected, key=str.casefold)
    assert "SHOE-TRAIL" not in listed  # templates hold no stock and are not sold


async def test_given_a_search_and_a_category_then_only_those_items() -> None:
    adapter = sim_adapter(simulator())
    data = dataset()

    found = await adapter.list_items(offset=0, limit=500, search="MERINO")
    footwear = await adapter.list_items(offset=0, limit=500, category="Footwear")

    assert {i.sku for i in found} == {
        s for s, i in data.items.items() if i.sellable and "merino" in (s + i.name).lower()
    }
    assert {i.sku for i in footwear} == {
        s for s, i in data.items.items() if i.sellable and i.category == "Footwear"
    }
    assert all(i.list_price is not None for i in footwear)


async def test_given_simulated_barcodes_then_each_finds_its_sku() -> None:
    adapter = sim_adapter(simulator())
    for sku in ("SOCK-MER-CREW-M", "SHOE-TRAIL-43", "KIT-0003"):
        barcode = dataset().items[sku].barcode
        assert barcode is not None
        assert await adapter.sku_for_barcode(barcode) == sku
    assert await adapter.sku_for_barcode("4000000000000") is None


async def test_given_simulated_bundles_then_kits_as_the_dataset_defines_them() -> None:
    app = simulator()
    app.state.store.table("Product Bundle").update("KIT-0002", disabled=1)
    data = dataset()

    kits = await sim_adapter(app).kits([*data.kits, "SOCK-MER-CREW-M"])

    expected = {
        sku: Kit(sku, tuple(KitComponent(c, q) for c, q in kit.components))
        for sku, kit in data.kits.items()
        if sku != "KIT-0002"
    }
    assert kits == expected
    assert app.state.calls["GET /api/resource/Product Bundle"] == 1


async def test_given_the_simulated_site_then_its_leaf_warehouses() -> None:
    locations = await sim_adapter(simulator()).warehouses()
    assert [w.ref for w in locations] == sorted(w.name for w in dataset().leaf_warehouses)


async def test_given_a_flaky_site_then_retries_still_read_every_bin(no_backoff: None) -> None:
    steady, flaky = simulator(), simulator(error_rate=0.25, rng_seed=3)
    skus = dataset().stock_skus

    expected = await sim_adapter(steady).stock(skus)
    readings = await sim_adapter(flaky, max_retries=4).stock(skus)

    assert sorted(readings, key=str) == sorted(expected, key=str)
    # The same reads cost more requests: the injected 429/500/503 answers were retried.
    assert sum(flaky.state.calls.values()) > sum(steady.state.calls.values())


# --- a third-party Frappe client on a real socket -------------------------------------------------


def test_given_the_frappe_client_library_then_it_reads_the_simulator() -> None:
    frappeclient = pytest.importorskip("frappeclient")
    with serve(simulator()) as url:
        client = frappeclient.FrappeClient(url, api_key=KEY, api_secret=SECRET)  # Basic auth
        shoes = client.get_list(
            "Item",
            fields=["name", "item_group"],
            filters={"item_group": "Footwear", "has_variants": 0},
            limit_page_length=5,
            order_by="name asc",
        )
        default_page = client.get_list("Item")
        doc = client.get_doc("Item", "SHOE-TRAIL-42")
        count = client.get_api(
            "frappe.client.get_count",
            {"doctype": "Item", "filters": json.dumps({"item_group": "Footwear"})},
        )
        refused = frappeclient.FrappeClient(url, api_key=KEY, api_secret="wrong").get_list("Item")

    assert len(shoes) == 5 and {s["item_group"] for s in shoes} == {"Footwear"}
    assert len(default_page) == 20  # it sends no page length by default: Frappe's 20 apply
    assert doc["barcodes"][0]["barcode"] == "4006381333948"
    assert count == sum(1 for i in dataset().items.values() if i.category == "Footwear")
    assert refused is None  # the library drops a 401 body that has no "exc" key


async def test_what_the_erp_says_of_buying_each_sku_from_the_simulator() -> None:
    app = simulator()
    data = dataset()
    bought = [sku for sku in data.sellable_skus if data.supply(sku) is not None][:40]
    kit = next(iter(data.kits))

    supply = await sim_adapter(app).supply([*bought, kit, "NO-SUCH-SKU"])

    for sku in bought:
        expected = data.supply(sku)
        assert expected is not None
        got = supply[sku]
        assert (got.lead_time_days, got.min_order_qty, got.supplier) == (
            expected.lead_time_days,
            expected.min_order_qty,
            expected.supplier,
        )
        # The purchase unit's conversion factor; an item bought singly has no purchase unit.
        assert got.case_size == (expected.case_size if expected.case_size > 1 else None)
    assert supply[kit] == ItemSupply()  # a kit is not bought: nothing set
    assert "NO-SUCH-SKU" not in supply
