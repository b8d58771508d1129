"""The WooCommerce adapter as WebOrdersPort: contract orders map to WebOrders in Decimal and
aware UTC, every page is read, and refunds are exact, refused when too large, and never made
twice for one reference."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest

from adapters.woocommerce import WooCommerceAdapter, build_woocommerce_client
from adapters.woocommerce.orders import to_web_order
from gateway.config import Settings
from gateway.domain import Money
from gateway.domain.documents import PostalAddress, WebRefundDraft, WebRefundLine, WebTax
from gateway.errors import BackendRejected, NotFound
from gateway.ports import StorefrontPort, WebOrdersPort
from gateway.services.orders.web_orders import refund_share, web_refund_line
from sandbox.woocommerce import create_app
from sandbox.woocommerce.order_payloads import refund_payload
from tests.woocommerce_support import API, KEY, SECRET, contract, dataset

BASE = f"https://shop.northtrail.example{API}/"
REFUNDS = f"POST {API}/orders/{{order_id}}/refunds"
Handler = Callable[[httpx.Request], httpx.Response]


def eur(amount: str) -> Money:
    return Money(Decimal(amount), "EUR")


def mock_adapter(handler: Handler, *, max_retries: int = 0) -> WooCommerceAdapter:
    client = httpx.AsyncClient(transport=httpx.MockTransport(handler), base_url=BASE)
    return WooCommerceAdapter(client, max_retries=max_retries)


def simulator_adapter(app: Any, base_url: str = "http://woo.test") -> WooCommerceAdapter:
    settings = Settings(
        _env_file=None, woo_base_url=base_url, woo_consumer_key=KEY, woo_consumer_secret=SECRET
    )
    client = build_woocommerce_client(settings, transport=httpx.ASGITransport(app=app))
    return WooCommerceAdapter(client)


def draft(reference: str, amount: str, *lines: WebRefundLine, **flags: bool) -> WebRefundDraft:
    return WebRefundDraft(reference, eur(amount), tuple(lines), "Returned", **flags)


def test_one_adapter_is_both_ports():
    adapter = mock_adapter(lambda request: httpx.Response(200, json=[]))
    storefront: StorefrontPort = adapter
    orders: WebOrdersPort = adapter
    assert storefront is orders


# --- contract payloads ----------------------------------------------------------------------


async def test_contract_order_maps_to_a_web_order_in_decimal_and_utc():
    body = contract("orders.get")["response"]["body"]
    adapter = mock_adapter(lambda request: httpx.Response(200, json=body))

    order = await adapter.web_order(10482)

    assert order is not None
    assert (order.id, order.number, order.status) == (10482, "10482", "processing")
    assert order.created_at == datetime(2026, 11, 20, 9, 15, 2, tzinfo=UTC)
    assert order.modified_at == datetime(2026, 11, 20, 9, 15, 9, tzinfo=UTC)
    assert (order.email, order.customer_name) == ("lena.okafor@example.org", "Lena Okafor")
    assert order.total == eur("148.00") and isinstance(order.total.amount, Decimal)
    assert [(line.id, line.sku, line.quantity, line.total) for line in order.lines] == [
        (8811, "SHOE-TRAIL-42", 1, eur("108.40")),
        (8812, "SOCK-MER-CREW-M", 1, eur("11.76")),
    ]
    # The tax is read too: what the customer paid for a line is its total plus its tax.
    assert [(line.tax, line.taxes, line.paid) for line in order.lines] == [
        (eur("20.60"), (WebTax(1, eur("20.596639")),), eur("129.00")),
        (eur("2.24"), (WebTax(1, eur("2.235294")),), eur("14.00")),
    ]
    assert all(isinstance(line.tax.amount, Decimal) for line in order.lines)
    assert order.shipping_address == PostalAddress(
        "Lena Okafor", "Kastanienallee 12", "Berlin", "10435", "DE"
    )


async def test_webhook_order_body_maps_like_the_rest_answer():
    raw = contract("webhook.delivery.order.created")["delivery"]["body_raw"]
    adapter = mock_adapter(lambda request: httpx.Response(200, content=raw.encode()))
    order = await adapter.web_order(10482)
    assert order is not None and order.total == eur("148.00")


async def test_unknown_order_is_none():
    not_found = contract("orders.get")["not_found"]
    adapter = mock_adapter(lambda r: httpx.Response(not_found["status"], json=not_found["body"]))
    assert await adapter.web_order(999) is None


async def test_web_orders_asks_gmt_after_the_watermark_and_follows_every_page():
    order = contract("orders.get")["response"]["body"]
    older = {**order, "id": 10480, "number": "10480", "date_modified_gmt": "2026-11-18T12:00:00"}
    seen: list[httpx.URL] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        if request.url.params.get("page") == "2":
            return httpx.Response(200, json=[older])
        link = f'<https://public.example{API}/orders?per_page=100&page=2>; rel="next"'
        return httpx.Response(200, json=[order], headers={"Link": link})

    orders = await mock_adapter(handler).web_orders(
        modified_after=datetime(2026, 11, 18, 11, 0, tzinfo=UTC)
    )

    first = seen[0].params
    assert (first["per_page"], first["dates_are_gmt"]) == ("100", "true")
    assert first["modified_after"] == "2026-11-18T11:00:00"
    assert seen[1].host == "shop.northtrail.example"
    assert [o.id for o in orders] == [10480, 10482]  # oldest modification first


async def test_refund_body_sends_money_as_two_decimal_strings_and_the_reference():
    posted: list[dict[str, Any]] = []
    answer = contract("orders.refunds.create")["response"]["body"]

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, json=[])
        posted.append(json.loads(request.content))
        return httpx.Response(201, json=answer)

    socks = WebRefundLine(8812, 1, eur("11.76"), eur("2.24"), (WebTax(1, eur("2.24")),))
    refund = await mock_adapter(handler).refund(
        10482, draft("RMA-7", "14", socks, move_money=False, restock=True)
    )

    assert posted == [
        {
            "amount": "14.00",
            "reason": "Returned [ref:RMA-7]",
            "api_refund": False,
            "api_restock": True,
            "line_items": [
                {
                    "id": 8812,
                    "quantity": 1,
                    "refund_total": "11.76",
                    "refund_tax": [{"id": 1, "refund_total": "2.24"}],
                }
            ],
        }
    ]
    assert (refund.id, refund.amount) == (10490, eur("14.00"))


async def test_a_refund_line_without_tax_rates_sends_no_refund_tax():
    posted: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, json=[])
        posted.append(json.loads(request.content))
        return httpx.Response(201, json=contract("orders.refunds.create")["response"]["body"])

    await mock_adapter(handler).refund(
        10482, draft("R", "11.76", WebRefundLine(8812, 1, eur("11.76")))
    )

    assert posted[0]["line_items"] == [{"id": 8812, "quantity": 1, "refund_total": "11.76"}]


async def test_a_503_on_the_post_rereads_before_posting_again():
    answer = contract("orders.refunds.create")["response"]["body"]
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        if request.method == "POST":
            return httpx.Response(503, text="<html>503</html>")
        # The first POST did reach WooCommerce before the proxy gave up.
        made = calls.count("POST") > 0
        return httpx.Response(200, json=[{**answer, "reason": "x [ref:R1]"}] if made else [])

    refund = await mock_adapter(handler, max_retries=2).refund(10482, draft("R1", "14.00"))
    assert refund.id == 10490
    assert calls == ["GET", "POST", "GET"]


# --- against the simulator ------------------------------------------------------------------


async def test_web_orders_reads_every_seeded_order_and_filters_on_modification():
    app = create_app(dataset())
    adapter = simulator_adapter(app)
    seeded = await adapter.web_orders()
    recent = await adapter.web_orders(modified_after=datetime(2026, 11, 20, tzinfo=UTC))
    assert len(seeded) == 25 and len({o.id for o in seeded}) == 25
    assert [o.modified_at for o in seeded] == sorted(o.modified_at for o in seeded)
    assert all(o.modified_at.tzinfo is UTC for o in seeded)
    assert [o.id for o in recent] == [10482]
    assert app.state.calls[f"GET {API}/orders"] == 2


async def test_more_than_100_orders_cost_two_pages():
    app = create_app(dataset())
    for _ in range(80):
        app.state.orders.create({"line_items": [{"product_id": 4812, "quantity": 1}]})
    orders = await simulator_adapter(app).web_orders()
    assert len({o.id for o in orders}) == 105
    assert app.state.calls[f"GET {API}/orders"] == 2


async def test_a_repeated_reference_makes_no_second_refund():
    app = create_app(dataset())
    adapter = simulator_adapter(app)
    line = WebRefundLine(8812, 1, eur("11.76"))

    first = await adapter.refund(10482, draft("RMA-1", "14.00", line, move_money=False))
    again = await adapter.refund(10482, draft("RMA-1", "14.00", line, move_money=False))

    assert first == again
    assert "[ref:RMA-1]" in first.reason and first.amount == eur("14.00")
    assert app.state.calls[REFUNDS] == 1
    assert len(app.state.orders.get(10482).refunds) == 1


async def test_three_times_19_99_leaves_exact_remainders_until_refunded():
    app = create_app(dataset())
    adapter = simulator_adapter(app, "https://woo.test")
    await adapter.set_stock("SOCK-MER-CREW-M", 10)
    app.state.catalog.get(4812).regular_price = Decimal("19.99")
    order = app.state.orders.create(
        {
            "payment_method": "stripe",
            "set_paid": True,
            "line_items": [{"product_id": 4812, "quantity": 3}],
        }
    )
    line = order.lines[0]
    unit_net = eur("16.80")  # 50.39 net for three, one unit's share

    for n in (1, 2):
        await adapter.refund(order.id, draft(f"R{n}", "19.99", WebRefundLine(line.id, 1, unit_net)))
        assert order.remaining_refund_amount == Decimal("59.97") - Decimal("19.99") * n
    assert order.remaining_refund_amount == Decimal("19.99")

    with pytest.raises(BackendRejected) as refused:
        await adapter.refund(order.id, draft("R-too-much", "20.00"))
    assert "Invalid refund amount." in refused.value.message
    assert refused.value.backend_code == "woocommerce_rest_cannot_create_order_refund"

    await adapter.refund(order.id, draft("R3", "19.99", WebRefundLine(line.id, 1, unit_net)))
    final = await adapter.web_order(order.id)
    assert final is not None and final.status == "refunded"
    assert order.refunded == Decimal("59.97")
    assert (await adapter.listings_by_sku(["SOCK-MER-CREW-M"]))[
        "SOCK-MER-CREW-M"
    ].stock_quantity == 7


async def test_a_line_refunded_with_its_tax_is_stored_negative_and_refunds_what_was_paid():
    """Given the socks line of order 10482 read through the adapter, when it is refunded
    with its tax, WooCommerce stores the line and its tax negative, the refund is exactly
    what the line cost, and nothing more can be refunded for it than the order has left."""
    app = create_app(dataset())
    adapter = simulator_adapter(app)
    order = await adapter.web_order(10482)
    assert order is not None
    socks = next(line for line in order.lines if line.sku == "SOCK-MER-CREW-M")
    paid = refund_share(socks, 0, socks.quantity)
    line = web_refund_line(socks, socks.quantity, paid)

    refund = await adapter.refund(10482, draft("SOCKS", str(paid.amount), line, move_money=False))

    assert refund.amount == socks.paid == eur("14.00")
    (stored,) = refund_payload(app.state.orders.get(10482).refunds[0], API)["line_items"]
    assert (stored["quantity"], stored["total"], stored["total_tax"]) == (-1, "-11.76", "-2.24")
    assert stored["taxes"][0]["id"] == 1 and Decimal(stored["taxes"][0]["total"]) == Decimal(
        "-2.24"
    )
    left = app.state.orders.get(10482).remaining_refund_amount
    with pytest.raises(BackendRejected, match=r"Invalid refund amount\."):
        await adapter.refund(
            10482, draft("TOO-MUCH", str(left + Decimal("0.01")), line, move_money=False)
        )
    assert len(app.state.orders.get(10482).refunds) == 1


async def test_an_over_refund_is_rejected_at_once_not_retried():
    app = create_app(dataset())
    with pytest.raises(BackendRejected):
        await simulator_adapter(app).refund(10482, draft("BIG", "500.00", move_money=False))
    assert app.state.calls[REFUNDS] == 1


async def test_refund_of_an_unknown_order_is_not_found():
    app = create_app(dataset())
    with pytest.raises(NotFound):
        await simulator_adapter(app).refund(999, draft("X", "1.00"))


async def test_restock_flag_reaches_the_web_listing():
    app = create_app(dataset())
    adapter = simulator_adapter(app)
    before = (await adapter.listings_by_sku(["SOCK-MER-CREW-M"]))["SOCK-MER-CREW-M"]
    line = WebRefundLine(8812, 1, eur("11.76"))
    await adapter.refund(10482, draft("KEEP", "14.00", line, move_money=False))
    await adapter.refund(10482, draft("BACK", "0.00", line, move_money=False, restock=True))
    after = (await adapter.listings_by_sku(["SOCK-MER-CREW-M"]))["SOCK-MER-CREW-M"]
    # Only the refund asking for a restock put the pair of socks back.
    assert after.stock_quantity == (before.stock_quantity or 0) + 1


@pytest.mark.parametrize(
    ("meta", "point"),
    [
        (
            [
                {"id": 1, "key": "_shipping_latitude", "value": "48.1351"},
                {"id": 2, "key": "_shipping_longitude", "value": "11.5820"},
            ],
            (48.1351, 11.582),
        ),
        (
            [
                {"id": 1, "key": "shipping_lat", "value": 52.52},
                {"id": 2, "key": "shipping_lng", "value": 13.405},
            ],
            (52.52, 13.405),
        ),
        ([{"id": 1, "key": "_shipping_latitude", "value": "north"}], None),
        (
            [
                {"id": 1, "key": "_shipping_latitude", "value": "91"},
                {"id": 2, "key": "_shipping_longitude", "value": "0"},
            ],
            None,
        ),
        ([], None),
    ],
)
def test_given_order_meta_with_coordinates_then_the_shipping_address_carries_them(meta, point):
    body = {**contract("orders.get")["response"]["body"], "meta_data": meta}
    address = to_web_order(body, "EUR").shipping_address
    assert address is not None
    assert (None if address.point is None else (address.point.lat, address.point.lng)) == point


async def test_given_a_status_and_a_note_then_the_customer_is_told_once():
    app = create_app(dataset(), consumer_key=KEY, consumer_secret=SECRET, local_pickup=True)
    adapter = simulator_adapter(app)

    assert await adapter.set_status(10482, "ready-for-pickup") == "ready-for-pickup"
    first = await adapter.add_note(10482, "Ready at Berlin Mitte.", customer_note=True)
    again = await adapter.add_note(10482, "Ready at Berlin Mitte.", customer_note=True)

    order = app.state.orders.get(10482)
    assert order.status == "ready-for-pickup"
    told = [(n.id, n.note) for n in order.notes if n.customer_note]
    assert told == [(first, "Ready at Berlin Mitte.")]
    assert again == first
    # WooCommerce noted the status change itself, as an internal note.
    assert any("to Ready for pickup" in n.note for n in order.notes if not n.customer_note)


async def test_given_a_store_without_local_pickup_then_ready_for_pickup_is_refused():
    adapter = simulator_adapter(create_app(dataset(), consumer_key=KEY, consumer_secret=SECRET))
    with pytest.raises(BackendRejected) as refused:
        await adapter.set_status(10482, "ready-for-pickup")
    assert refused.value.status == 400
