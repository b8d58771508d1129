"""The sample web orders the simulator starts with: the same orders for the same dataset.

Twenty-four orders spread over the 30 days before ``dataset.base_time``, across pending,
processing, on-hold, completed, cancelled and refunded (one completed order also carries a
partial refund), then the contract's order 10482 (Lena Okafor: Trail Runner Shoe 42 and
Merino Crew Socks M, processing), so the fixtures' ids line up: its line items are 8811 and
8812, shipping 8813, tax 8814, and the next order created gets 10483.

Seeded orders are history: the catalogue's stock already reflects them, so seeding moves no
stock; lines of orders that reduced stock carry ``reduced_stock`` so a refund with
``api_restock`` gives units back as WooCommerce would.
"""

from __future__ import annotations

import hashlib
import random
from datetime import datetime, timedelta
from decimal import Decimal

from sandbox.retailer import Dataset
from sandbox.woocommerce.catalog import Catalog, Record
from sandbox.woocommerce.order_book import BILLING_FIELDS, SHIPPING_FIELDS, order_key
from sandbox.woocommerce.orders import (
    STOCK_REDUCING,
    LineItem,
    Order,
    Refund,
    RefundLine,
    Sequences,
    ShippingLine,
    cents,
    price_line,
)

CONTRACT_ORDER_ID = 10482
CONTRACT_FIRST_ITEM_ID = 8811
CONTRACT_FIRST_META_ID = 70412
# Oldest first. Recent orders are the ones still open, as in a real shop.
STATUS_PLAN = (
    "completed",
    "completed",
    "cancelled",
    "completed",
    "refunded",
    "completed",
    "completed",
    "cancelled",
    "completed",
    "refunded",
    "completed",
    "completed",
    "on-hold",
    "completed",
    "cancelled",
    "processing",
    "completed",
    "on-hold",
    "pending",
    "processing",
    "processing",
    "on-hold",
    "pending",
    "processing",
)
PARTIAL_REFUND_AT = 6  # index in STATUS_PLAN of the completed order with a partial refund
_CUSTOMERS = (
    ("Jonas", "Becker", "Berlin", "10115", "Invalidenstrasse 44"),
    ("Mia", "Schulz", "Hamburg", "20095", "Spitalerstrasse 9"),
    ("Felix", "Wagner", "Munich", "80331", "Sendlinger Strasse 21"),
    ("Emma", "Hoffmann", "Cologne", "50667", "Hohe Strasse 118"),
    ("Noah", "Keller", "Frankfurt", "60311", "Zeil 72"),
    ("Lea", "Vogel", "Stuttgart", "70173", "Koenigstrasse 5"),
    ("Paul", "Richter", "Leipzig", "04109", "Petersstrasse 30"),
    ("Hannah", "Brandt", "Dresden", "01067", "Wilsdruffer Strasse 12"),
    ("Elias", "Krueger", "Bremen", "28195", "Obernstrasse 40"),
    ("Clara", "Lang", "Freiburg", "79098", "Kaiser-Joseph-Strasse 190"),
)
_STEPS = 8  # ids reserved per seeded order for items and for item meta


def seed_orders(dataset: Dataset, catalog: Catalog) -> tuple[list[Order], Sequences]:
    """The seeded orders and the id counters positioned after them."""
    rng = random.Random(f"woo-orders|{dataset.seed}")
    products = sorted(
        (r for r in catalog.records.values() if _sellable(r)), key=lambda record: record.id
    )
    count = len(STATUS_PLAN)
    sequences = Sequences(
        post=CONTRACT_ORDER_ID - 2 * count,
        item=CONTRACT_FIRST_ITEM_ID - _STEPS * count,
        meta=CONTRACT_FIRST_META_ID - _STEPS * count,
    )
    start = dataset.base_time - timedelta(days=30)
    orders: list[Order] = []
    for index, status in enumerate(STATUS_PLAN):
        created = start + timedelta(
            hours=index * 29 + rng.randrange(0, 9), minutes=rng.randrange(60)
        )
        picks = rng.sample(products, k=min(len(products), 1 + rng.randrange(3)))
        lines = [(record, 1 + (rng.random() < 0.25) * rng.randrange(1, 3)) for record in picks]
        customer = _CUSTOMERS[rng.randrange(len(_CUSTOMERS))]
        order = _order(catalog, sequences, created, customer, lines, status, rng)
        if index == PARTIAL_REFUND_AT:
            _refund_first_unit(order, sequences)
        orders.append(order)
        # Every other post id went to a refund, a draft or a revision in between.
        sequences.post = CONTRACT_ORDER_ID - 2 * (count - index - 1)
    sequences.item, sequences.meta = CONTRACT_FIRST_ITEM_ID, CONTRACT_FIRST_META_ID
    orders.append(_contract_order(catalog, sequences))
    return orders, sequences


def _sellable(record: Record) -> bool:
    return (
        record.type in ("simple", "variation")
        and record.status == "publish"
        and bool(record.own_price)
    )


def _order(
    catalog: Catalog,
    sequences: Sequences,
    created: datetime,
    customer: tuple[str, str, str, str, str],
    lines: list[tuple[Record, int]],
    status: str,
    rng: random.Random,
) -> Order:
    first, last, city, postcode, street = customer
    order_id = sequences.next_post()
    address = {
        "first_name": first,
        "last_name": last,
        "address_1": street,
        "city": city,
        "postcode": postcode,
        "country": "DE",
        "email": f"{first}.{last}@example.org".lower(),
        "phone": f"+49 30 555{rng.randrange(1000, 9999)}",
    }
    paid = status in ("processing", "completed", "refunded")
    method = "bacs" if status == "on-hold" else rng.choice(("stripe", "stripe", "ppcp-gateway"))
    order = Order(
        id=order_id,
        status=status,
        created=created,
        modified=created + timedelta(seconds=7),
        billing={f: address.get(f, "") for f in BILLING_FIELDS},
        shipping={f: address.get(f, "") if f != "phone" else "" for f in SHIPPING_FIELDS},
        payment_method=method,
        order_key=order_key(order_id),
        cart_hash=_hash("cart", order_id, 32),
        customer_id=0 if rng.random() < 0.4 else 2 + _CUSTOMERS.index(customer),
        transaction_id=f"pi_{_hash('pi', order_id, 14)}" if paid and method == "stripe" else "",
        customer_ip_address=f"203.0.113.{rng.randrange(2, 250)}",
        customer_user_agent="Mozilla/5.0",
        created_via="checkout",
        date_paid=created + timedelta(seconds=7) if paid else None,
    )
    order.lines = [_line(catalog, sequences, record, quantity) for record, quantity in lines]
    gross = sum((line.price.subtotal + line.price.tax for line in order.lines), Decimal(0))
    free = gross >= 100
    order.shipping_lines = [
        ShippingLine(
            id=sequences.next_item(),
            method_id="free_shipping" if free else "flat_rate",
            method_title="Free shipping" if free else "DHL Paket",
            instance_id="4" if free else "3",
            total=Decimal("0.00") if free else Decimal("4.20"),
        )
    ]
    order.tax_line_id = sequences.next_item()
    if status in STOCK_REDUCING or status == "refunded":
        order.stock_reduced = True
        for line in order.lines:
            record = catalog.get(line.stock_record_id)
            line.reduced_stock = line.quantity if record and record.manage_stock else 0
    if status == "completed":
        order.date_completed = created + timedelta(days=1 + rng.randrange(2), hours=3)
        order.modified = order.date_completed
    elif status == "cancelled":
        order.modified = created + timedelta(hours=1 + rng.randrange(24))
    elif status == "refunded":
        _refund_everything(order, sequences, created + timedelta(hours=5))
    return order


def _line(catalog: Catalog, sequences: Sequences, record: Record, quantity: int) -> LineItem:
    parent = catalog.get(record.parent_id) if record.type == "variation" else None
    item_id = sequences.next_item()
    return LineItem(
        id=item_id,
        product_id=parent.id if parent else record.id,
        variation_id=record.id if parent else 0,
        name=record.name,
        parent_name=parent.name if parent else None,
        sku=record.sku,
        quantity=quantity,
        price=price_line(record.own_price or Decimal(0), quantity),
        attributes=tuple((n, v, sequences.next_meta()) for n, v in record.attributes)
        if parent
        else (),
    )


def _refund_everything(order: Order, sequences: Sequences, when: datetime) -> None:
    refund = Refund(sequences.next_post(), order.id, when, order.total, "Customer cancelled", True)
    for line in order.lines:
        refund.lines.append(
            RefundLine(
                sequences.next_item(),
                line,
                line.quantity,
                line.price.subtotal,
                line.price.tax,
                sequences.next_meta(),
            )
        )
        line.reduced_stock = 0  # restocked with the refund
    order.refunds.insert(0, refund)
    order.modified = when


def _refund_first_unit(order: Order, sequences: Sequences) -> None:
    line = order.lines[0]
    net = cents(line.price.subtotal / line.quantity)
    gross = (line.price.subtotal + line.price.tax) / line.quantity
    when = (order.date_completed or order.modified) + timedelta(days=2)
    refund = Refund(
        sequences.next_post(), order.id, when, cents(gross), "Item arrived damaged", True
    )
    refund.lines.append(
        RefundLine(sequences.next_item(), line, 1, net, cents(gross) - net, sequences.next_meta())
    )
    order.refunds.insert(0, refund)
    order.modified = when


def _contract_order(catalog: Catalog, sequences: Sequences) -> Order:
    """orders.get.json's order 10482, to the field."""
    created = datetime.fromisoformat("2026-11-20T09:15:02+00:00")
    paid = created + timedelta(seconds=7)
    lena = {
        "first_name": "Lena",
        "last_name": "Okafor",
        "company": "",
        "address_1": "Kastanienallee 12",
        "address_2": "",
        "city": "Berlin",
        "state": "",
        "postcode": "10435",
        "country": "DE",
        "email": "lena.okafor@example.org",
        "phone": "+49 30 5550142",
    }
    order = Order(
        id=CONTRACT_ORDER_ID,
        status="processing",
        created=created,
        modified=paid,
        billing=dict(lena),
        shipping={**{f: lena[f] for f in SHIPPING_FIELDS}, "phone": ""},
        payment_method="stripe",
        order_key="wc_order_Xq7pTz2LmN4kR",
        cart_hash="0b1f2c3d4e5f60718293a4b5c6d7e8f9",
        transaction_id="pi_3QbZ8kLm0a2XyZ",
        customer_ip_address="203.0.113.24",
        customer_user_agent="Mozilla/5.0",
        created_via="checkout",
        date_paid=paid,
        stock_reduced=True,
    )
    for record_id in (4821, 4812):
        record = catalog.get(record_id)
        if record is None:
            raise LookupError(f"the dataset has no web product {record_id} for order 10482")
        line = _line(catalog, sequences, record, 1)
        line.reduced_stock = 1 if record.manage_stock else 0
        order.lines.append(line)
    order.shipping_lines = [
        ShippingLine(sequences.next_item(), "flat_rate", "DHL Paket", "3", Decimal("4.20"))
    ]
    order.tax_line_id = sequences.next_item()
    sequences.post = CONTRACT_ORDER_ID + 1
    return order


def _hash(kind: str, order_id: int, length: int) -> str:
    return hashlib.blake2b(f"{kind}|{order_id}".encode(), digest_size=16).hexdigest()[:length]
