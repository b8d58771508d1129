"""The ERPNext simulator answers as shared/contracts/erp says Frappe does."""

from __future__ import annotations

import base64
import json
import time
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from sandbox.retailer import Dataset
from tests.erpnext_support import contract, dataset, raw_client, simulator

ALL = {"limit_page_length": 0}


async def get(client: httpx.AsyncClient, path: str, **params: Any) -> httpx.Response:
    """GET with Frappe's JSON-in-query parameters encoded."""
    encoded = {k: v if isinstance(v, str | int) else json.dumps(v) for k, v in params.items()}
    return await client.get(path, params=encoded)


async def rows(client: httpx.AsyncClient, doctype: str, **params: Any) -> list[dict[str, Any]]:
    response = await get(client, f"/api/resource/{doctype}", **params)
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


async def names(client: httpx.AsyncClient, doctype: str, **params: Any) -> list[str]:
    return [r["name"] for r in await rows(client, doctype, **{**ALL, **params})]


def server_messages(body: dict[str, Any]) -> list[str]:
    return [json.loads(m)["message"] for m in json.loads(body["_server_messages"])]


def leaf_warehouses(data: Dataset) -> list[str]:
    return [w.name for w in data.leaf_warehouses]


# --- lists: fields, paging --------------------------------------------------------------------


async def test_given_no_parameters_when_listing_then_twenty_names_wrapped_in_data() -> None:
    async with raw_client(simulator()) as client:
        response = await client.get("/api/resource/Item")
    assert response.status_code == 200
    data = response.json()["data"]
    assert len(data) == 20  # frappe/api/v1.py's default page length
    assert all(set(row) == {"name"} for row in data)


async def test_given_limit_zero_or_the_limit_alias_then_page_length_follows_frappe() -> None:
    total = len(dataset().items)
    async with raw_client(simulator()) as client:
        everything = await rows(client, "Item", limit_page_length=0)
        aliased = await rows(client, "Item", limit=7)
        both = await rows(client, "Item", limit=7, limit_page_length=3)
    assert len(everything) == total
    assert len(aliased) == 7
    assert len(both) == 3  # limit only stands in when limit_page_length is absent


async def test_given_pages_by_limit_start_then_they_join_into_the_whole_ordered_list() -> None:
    async with raw_client(simulator()) as client:
        whole = await names(client, "Item", order_by="name asc")
        pages: list[str] = []
        while True:
            page = await rows(
                client, "Item", order_by="name asc", limit_start=len(pages), limit_page_length=37
            )
            pages += [r["name"] for r in page]
            if len(page) < 37:
                break
    assert pages == whole
    assert whole == sorted(whole, key=str.casefold)


async def test_given_a_write_between_pages_then_the_next_page_shows_it() -> None:
    # Later pages of one list come from a remembered ordering; a write must not be hidden.
    app = simulator()
    page = {"fields": ["name", "actual_qty"], "order_by": "name asc", "limit_page_length": 10}
    async with raw_client(app) as client:
        before = await rows(client, "Bin", limit_start=10, **page)
        target = before[3]["name"]
        app.state.store.table("Bin").update(target, actual_qty=before[3]["actual_qty"] + 7)
        after = await rows(client, "Bin", limit_start=10, **page)
    assert [r["name"] for r in after] == [r["name"] for r in before]
    assert after[3]["actual_qty"] == before[3]["actual_qty"] + 7


async def test_given_fields_then_list_rows_carry_them_with_nulls_kept() -> None:
    fields = ["name", "item_code", "item_name", "variant_of", "valuation_rate", "has_variants"]
    async with raw_client(simulator()) as client:
        found = await rows(
            client, "Item", fields=fields, filters=[["name", "in", ["SOCK-MER-CREW-M"]]]
        )
    assert found == [
        {
            "name": "SOCK-MER-CREW-M",
            "item_code": "SOCK-MER-CREW-M",
            "item_name": "Merino Crew Socks M",
            "variant_of": None,
            "valuation_rate": 5.1,
            "has_variants": 0,
        }
    ]


async def test_given_timestamps_in_fields_then_they_match_the_document() -> None:
    async with raw_client(simulator()) as client:
        (listed,) = await rows(
            client, "Item", fields=["modified", "creation"], filters={"name": "SHOE-TRAIL-42"}
        )
        by_order = await rows(client, "Item", fields=["name", "modified"], order_by="modified desc")
        doc = (await client.get("/api/resource/Item/SHOE-TRAIL-42")).json()["data"]
    assert (listed["modified"], listed["creation"]) == (doc["modified"], doc["creation"])
    assert listed["creation"] < listed["modified"]
    assert [r["modified"] for r in by_order] == sorted(
        (r["modified"] for r in by_order), reverse=True
    )


async def test_given_rpc_methods_then_list_and_document_under_message() -> None:
    async with raw_client(simulator()) as client:
        listed = await client.post(
            "/api/method/frappe.client.get_list",
            data={"doctype": "Warehouse", "filters": json.dumps({"is_group": 1})},
        )
        got = await get(
            client,
            "/api/method/frappe.client.get",
            doctype="Item",
            filters={"item_code": "SHOE-TRAIL-42"},
        )
        unknown = await client.get("/api/method/frappe.client.nothing_here")
    assert listed.json() == {"message": [{"name": "All Warehouses - NTR"}]}
    assert got.json()["message"]["barcodes"][0]["barcode"] == "4006381333948"
    assert unknown.status_code == 404


async def test_given_star_then_every_parent_column_and_no_child_table() -> None:
    async with raw_client(simulator()) as client:
        (row,) = await rows(client, "Item", fields=["*"], filters={"name": "SHOE-TRAIL-42"})
    assert row["variant_of"] == "SHOE-TRAIL"
    assert row["stock_uom"] == "Pair"
    assert "barcodes" not in row


async def test_given_an_alias_then_the_column_comes_back_under_it() -> None:
    async with raw_client(simulator()) as client:
        (row,) = await rows(
            client, "Item", fields=["item_code as sku"], filters={"name": "SOCK-MER-CREW-M"}
        )
    assert row == {"sku": "SOCK-MER-CREW-M"}


# --- filters -----------------------------------------------------------------------------------


async def test_given_dict_filters_then_same_rows_as_the_list_form() -> None:
    async with raw_client(simulator()) as client:
        as_dict = await names(
            client, "Item", filters={"item_group": "Footwear", "has_variants": ["=", 0]}
        )
        as_list = await names(
            client, "Item", filters=[["item_group", "=", "Footwear"], ["has_variants", "=", "0"]]
        )
    expected = [s for s, i in dataset().items.items() if i.category == "Footwear" and i.sellable]
    assert sorted(as_dict) == sorted(as_list) == sorted(expected)


@pytest.mark.parametrize(
    ("operator", "value", "keep"),
    [
        ("=", "footwear", lambda i: i.category == "Footwear"),  # case-insensitive collation
        ("!=", "Footwear", lambda i: i.category != "Footwear"),
        ("in", ["Socks", "Bags"], lambda i: i.category in ("Socks", "Bags")),
        ("in", "Socks, Bags", lambda i: i.category in ("Socks", "Bags")),
        ("not in", ["Socks", "Bags"], lambda i: i.category not in ("Socks", "Bags")),
        ("like", "%oot%", lambda i: "oot" in i.category.lower()),
        ("not like", "B%", lambda i: not i.category.startswith("B")),
        ("<", "Bags", lambda i: i.category.lower() < "bags"),
        (">=", "Jackets", lambda i: i.category.lower() >= "jackets"),
    ],
)
async def test_given_an_operator_on_text_then_rows_match_mariadb(
    operator: str, value: Any, keep: Any
) -> None:
    async with raw_client(simulator()) as client:
        found = await names(client, "Item", filters=[["item_group", operator, value]])
    assert sorted(found) == sorted(s for s, i in dataset().items.items() if keep(i))


@pytest.mark.parametrize(
    ("operator", "value", "keep"),
    [
        (">", 100, lambda r: r > 100),
        ("<=", "60.5", lambda r: r <= 60.5),
        ("between", [10, 20], lambda r: 10 <= r <= 20),
        ("in", [14, 129], lambda r: r in (14, 129)),
    ],
)
async def test_given_an_operator_on_a_number_then_it_compares_numerically(
    operator: str, value: Any, keep: Any
) -> None:
    async with raw_client(simulator()) as client:
        found = await rows(
            client,
            "Item Price",
            fields=["item_code"],
            filters=[["price_list", "=", "Standard Selling"], ["price_list_rate", operator, value]],
            **ALL,
        )
    expected = [s for s, i in dataset().items.items() if keep(float(i.list_price))]
    assert sorted(r["item_code"] for r in found) == sorted(expected)


async def test_given_is_set_and_not_set_then_null_links_split_the_items() -> None:
    async with raw_client(simulator()) as client:
        variants = await names(client, "Item", filters=[["variant_of", "is", "set"]])
        others = await names(client, "Item", filters=[["variant_of", "is", "not set"]])
    items = dataset().items
    assert sorted(variants) == sorted(s for s, i in items.items() if i.variant_of)
    assert len(variants) + len(others) == len(items)


async def test_given_not_equal_then_null_values_are_kept_as_ifnull_does() -> None:
    async with raw_client(simulator()) as client:
        found = await names(client, "Warehouse", filters=[["warehouse_type", "!=", "Transit"]])
    # warehouse_type is NULL on all but the transit warehouse.
    assert sorted(found) == sorted(w.name for w in dataset().warehouses if not w.warehouse_type)


async def test_given_or_filters_then_they_are_anded_with_filters() -> None:
    async with raw_client(simulator()) as client:
        found = await names(
            client,
            "Item",
            filters=[["has_variants", "=", 0]],
            or_filters=[["item_code", "like", "%trail%"], ["item_name", "like", "%TRAIL%"]],
        )
    expected = [
        s for s, i in dataset().items.items() if i.sellable and "trail" in (s + i.name).lower()
    ]
    assert sorted(found) == sorted(expected)
    assert "SHOE-TRAIL-42" in found and "SHOE-TRAIL" not in found


async def test_given_descendants_of_a_group_then_bins_of_its_leaves() -> None:
    data = dataset()
    async with raw_client(simulator()) as client:
        found = await rows(
            client,
            "Bin",
            fields=["warehouse"],
            filters=[
                ["item_code", "=", "SOCK-MER-CREW-M"],
                ["warehouse", "descendants of", "All Warehouses - NTR"],
            ],
        )
    expected = [w for w in leaf_warehouses(data) if data.bin("SOCK-MER-CREW-M", w)]
    assert sorted(r["warehouse"] for r in found) == sorted(expected)


# --- child tables ------------------------------------------------------------------------------


async def test_given_a_child_table_filter_then_the_parent_holding_that_barcode() -> None:
    async with raw_client(simulator()) as client:
        found = await rows(
            client, "Item", filters=[["Item Barcode", "barcode", "=", "4006381333948"]]
        )
    assert found == [{"name": "SHOE-TRAIL-42"}]


async def test_given_a_child_doctype_without_parent_then_403_and_with_parent_its_rows() -> None:
    async with raw_client(simulator()) as client:
        refused = await get(client, "/api/resource/Item Barcode", fields=["parent", "barcode"])
        allowed = await rows(
            client,
            "Item Barcode",
            parent="Item",
            fields=["parent", "barcode", "parenttype"],
            filters=[["parent", "in", ["SOCK-MER-CREW-M", "SHOE-TRAIL-42", "SHOE-TRAIL"]]],
            order_by="parent asc",
        )
    assert refused.status_code == 403
    assert refused.json()["exc_type"] == "PermissionError"
    assert allowed == [
        {"parent": "SHOE-TRAIL-42", "barcode": "4006381333948", "parenttype": "Item"},
        {"parent": "SOCK-MER-CREW-M", "barcode": "4006381333931", "parenttype": "Item"},
    ]


async def test_given_child_columns_in_fields_then_one_row_per_child_left_joined() -> None:
    async with raw_client(simulator()) as client:
        items = await rows(
            client,
            "Item",
            fields=["name", "`tabItem Barcode`.`barcode`"],
            filters=[["name", "in", ["SHOE-TRAIL", "SHOE-TRAIL-42"]]],
            order_by="name asc",
        )
        bundle = await rows(
            client,
            "Product Bundle",
            fields=[
                "name",
                "`tabProduct Bundle Item`.`item_code` as part",
                "`tabProduct Bundle Item`.qty",
            ],
            filters={"name": "KIT-0001"},
            order_by="`tabProduct Bundle Item`.`idx` asc",
        )
    # The template has no barcode: a LEFT JOIN still returns it, with NULL.
    assert items == [
        {"name": "SHOE-TRAIL", "barcode": None},
        {"name": "SHOE-TRAIL-42", "barcode": "4006381333948"},
    ]
    assert [(r["part"], r["qty"]) for r in bundle] == [
        (sku, float(qty)) for sku, qty in dataset().kits["KIT-0001"].components
    ]


# --- single documents --------------------------------------------------------------------------


async def test_given_a_name_then_the_whole_document_joins_the_contract_fixture() -> None:
    expected = contract("items.get")["response"]["body"]["data"]
    async with raw_client(simulator()) as client:
        response = await client.get("/api/resource/Item/SHOE-TRAIL-42")
    doc = response.json()["data"]
    for key in (
        "item_code",
        "item_name",
        "item_group",
        "stock_uom",
        "variant_of",
        "valuation_rate",
    ):
        assert doc[key] == expected[key]
    assert doc["doctype"] == "Item"
    assert [(b["barcode"], b["barcode_type"]) for b in doc["barcodes"]] == [
        ("4006381333948", "EAN")
    ]
    (attribute,) = doc["attributes"]
    assert (attribute["attribute"], attribute["attribute_value"]) == ("Size", "42")
    assert doc["uoms"][0]["uom"] == "Pair"
    assert doc["item_defaults"][0]["default_price_list"] == "Standard Selling"
    assert all(row["parenttype"] == "Item" and row["doctype"] for row in doc["barcodes"])
    assert None not in doc.values()  # as_dict(no_nulls=True)
    assert "brand" not in doc


async def test_given_an_unknown_name_then_404_exactly_as_the_contract() -> None:
    async with raw_client(simulator()) as client:
        response = await client.get("/api/v1/resource/Item/SHOE-TRAIL-99")
    assert response.status_code == 404
    assert response.json() == contract("items.get")["not_found"]["body"]


async def test_given_an_unknown_doctype_then_404() -> None:
    async with raw_client(simulator()) as client:
        response = await client.get("/api/resource/Sales Invoice Gizmo")
    assert response.status_code == 404
    assert server_messages(response.json()) == ["DocType Sales Invoice Gizmo not found"]


# --- stock doctypes ----------------------------------------------------------------------------


async def test_given_bins_then_figures_are_the_datasets_and_projected_follows_erpnext() -> None:
    data = dataset()
    async with raw_client(simulator()) as client:
        found = await rows(
            client, "Bin", fields=["*"], filters=[["item_code", "in", data.stock_skus[:60]]], **ALL
        )
    expected = {
        (s, w) for s in data.stock_skus[:60] for w in leaf_warehouses(data) if data.bin(s, w)
    }
    assert {(r["item_code"], r["warehouse"]) for r in found} == expected
    for row in found:
        figures = data.bin(row["item_code"], row["warehouse"])
        assert figures is not None
        assert row["actual_qty"] == figures["actual_qty"]
        assert row["reserved_stock"] == figures["reserved_stock"]
        # reserved_stock is NOT subtracted: SREs sit inside reserved_qty already.
        assert row["projected_qty"] == (
            figures["actual_qty"] + figures["ordered_qty"] - figures["reserved_qty"]
        )
        assert row["name"].startswith("MAT-BIN-2026-")


@pytest.mark.parametrize("timezone", ["Europe/Berlin", "America/New_York"])
async def test_given_a_site_timezone_then_bin_modified_is_naive_local_time(timezone: str) -> None:
    data = dataset()
    warehouse = next(w for w in leaf_warehouses(data) if data.bin("SOCK-MER-CREW-M", w))
    async with raw_client(simulator(timezone=timezone)) as client:
        (row,) = await rows(
            client,
            "Bin",
            fields=["modified"],
            filters={"item_code": "SOCK-MER-CREW-M", "warehouse": warehouse},
        )
    local = data.bin_modified("SOCK-MER-CREW-M", warehouse).astimezone(ZoneInfo(timezone))
    assert row["modified"] == local.strftime("%Y-%m-%d %H:%M:%S")


async def test_given_item_prices_then_the_selling_list_holds_list_prices() -> None:
    async with raw_client(simulator()) as client:
        found = await rows(
            client,
            "Item Price",
            fields=["item_code", "price_list_rate", "currency", "selling", "valid_upto"],
            filters=[
                ["price_list", "=", "Standard Selling"],
                ["item_code", "in", ["SOCK-MER-CREW-M", "SHOE-TRAIL-42"]],
            ],
            order_by="item_code asc",
        )
    assert found == [
        {
            "item_code": "SHOE-TRAIL-42",
            "price_list_rate": 129.0,
            "currency": "EUR",
            "selling": 1,
            "valid_upto": None,
        },
        {
            "item_code": "SOCK-MER-CREW-M",
            "price_list_rate": 14.0,
            "currency": "EUR",
            "selling": 1,
            "valid_upto": None,
        },
    ]


async def test_given_a_changed_row_then_lists_show_it_and_projected_follows() -> None:
    app = simulator()
    async with raw_client(app) as client:
        (bin_row,) = await rows(
            client,
            "Bin",
            fields=["name", "actual_qty", "reserved_qty", "projected_qty"],
            filters={"item_code": "SHOE-TRAIL-42"},
            order_by="actual_qty desc",
            limit=1,
        )
        name = bin_row["name"]
        app.state.store.table("Bin").update(name, reserved_qty=bin_row["reserved_qty"] + 3)
        (after,) = await rows(client, "Bin", fields=["projected_qty"], filters={"name": name})
    assert after["projected_qty"] == bin_row["projected_qty"] - 3


# --- get_count ---------------------------------------------------------------------------------


async def test_given_get_count_then_it_counts_what_the_list_returns() -> None:
    filters = [["disabled", "=", 0], ["item_group", "=", "Socks"]]
    async with raw_client(simulator()) as client:
        listed = await names(client, "Item", filters=filters)
        by_get = await get(
            client, "/api/method/frappe.client.get_count", doctype="Item", filters=filters
        )
        by_post = await client.post(
            "/api/method/frappe.client.get_count",
            data={"doctype": "Item", "filters": json.dumps(filters)},
        )
        everything = await get(client, "/api/method/frappe.client.get_count", doctype="Bin")
    assert by_get.json() == by_post.json() == {"message": len(listed)}
    data = dataset()
    bins = sum(1 for s in data.stock_skus for w in leaf_warehouses(data) if data.bin(s, w))
    assert everything.json() == {"message": bins}


# --- auth and errors ---------------------------------------------------------------------------


async def test_given_basic_auth_with_the_same_pair_then_accepted() -> None:
    basic = "Basic " + base64.b64encode(b"sandbox-key:sandbox-secret").decode()
    async with raw_client(simulator(), authorization=basic) as client:
        response = await client.get("/api/method/frappe.auth.get_logged_user")
    assert response.json() == {"message": "integration@northtrail.example"}


@pytest.mark.parametrize(
    ("authorization", "status", "exc_type"),
    [
        ("token sandbox-key:wrong", 401, "AuthenticationError"),
        ("Basic " + base64.b64encode(b"sandbox-key:nope").decode(), 401, "AuthenticationError"),
        (None, 403, "PermissionError"),  # no credentials: Guest may not read Items
    ],
)
async def test_given_bad_credentials_then_frappes_error_envelope(
    authorization: str | None, status: int, exc_type: str
) -> None:
    async with raw_client(simulator(), authorization=authorization) as client:
        response = await client.get("/api/resource/Item")
    body = response.json()
    assert response.status_code == status
    assert body["exc_type"] == exc_type
    assert body["exception"].startswith(f"frappe.exceptions.{exc_type}")
    assert isinstance(body["_server_messages"], str) and server_messages(body)


async def test_given_a_bad_operator_or_column_then_417_or_the_databases_500() -> None:
    async with raw_client(simulator()) as client:
        operator = await get(client, "/api/resource/Item", filters=[["name", "~", "x"]])
        column = await get(client, "/api/resource/Item", fields=["no_such_field"])
    assert operator.status_code == 417
    assert operator.json()["exc_type"] == "ValidationError"
    assert column.status_code == 500
    assert "Unknown column 'no_such_field'" in column.json()["exception"]


async def test_given_error_rate_one_then_every_answer_is_a_realistic_fault_and_repeatable() -> None:
    async def statuses(seed: int) -> list[httpx.Response]:
        async with raw_client(simulator(error_rate=1.0, rng_seed=seed)) as client:
            return [await client.get("/api/resource/Warehouse") for _ in range(30)]

    first, again = await statuses(7), await statuses(7)
    assert [r.status_code for r in first] == [r.status_code for r in again]
    assert {r.status_code for r in first} == {429, 500, 503}
    for response in first:
        if response.status_code == 429:
            assert response.headers["Retry-After"]
            assert response.json()["exc_type"] == "TooManyRequestsError"
        elif response.status_code == 500:
            assert response.json()["exc_type"] == "OperationalError"
        else:
            assert "nginx" in response.text


async def test_given_latency_then_each_request_waits_that_long() -> None:
    async with raw_client(simulator(latency_ms=60)) as client:
        started = time.perf_counter()
        await client.get("/api/resource/Warehouse")
    assert time.perf_counter() - started >= 0.06


async def test_given_requests_then_calls_are_counted_per_route() -> None:
    app = simulator()
    async with raw_client(app) as client:
        await client.get("/api/resource/Item Price")
        await client.get("/api/v1/resource/Item Price")
        await client.get("/api/resource/Item/SOCK-MER-CREW-M")
        await client.get("/api/method/frappe.client.get_count/", params={"doctype": "Bin"})
    assert app.state.calls == {
        "GET /api/resource/Item Price": 2,
        "GET /api/resource/Item/{name}": 1,
        "GET /api/method/frappe.client.get_count": 1,
    }
