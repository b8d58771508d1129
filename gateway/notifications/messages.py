"""What a customer is told, and when (pure).

    event                         subject
    ready for pickup              Your order <id> is ready for pickup at <store>
                                  (with the store's address, pickup instructions, deadline)
    cancelled                     Your order <id> was cancelled (with the reason)
    refunded                      Your refund for order <id> (amount, what came back)
    a promised unit was sold      Your order <id>: <what changed> (re-routed: the new
                                  promise; else what happens now)

Each message's ``reference`` is its idempotency key in the outbox: one event, one mail.
"""

from __future__ import annotations

from datetime import datetime

from gateway.domain import Location, Money
from gateway.domain.mail import CustomerMail
from gateway.domain.orders import Order
from gateway.domain.outbox import SendCustomerMail

DEFAULT_PICKUP_INSTRUCTIONS = "Bring your order number and a photo ID to the pickup counter."


def ready_for_pickup(order: Order, store: Location, deadline: datetime | None) -> CustomerMail:
    lines = [
        f"Hello {order.customer_name},",
        "",
        f"your order {order.id} is ready for pickup at {store.name}.",
    ]
    if store.address:
        lines.append(f"Address: {store.address}")
    lines.append(store.pickup_instructions or DEFAULT_PICKUP_INSTRUCTIONS)
    if deadline is not None:
        lines.append(f"Please collect it by {deadline:%Y-%m-%d %H:%M} UTC.")
    lines += ["", _items(order)]
    return CustomerMail(
        f"{order.id}:mail:ready",
        order.customer_email or "",
        f"Your order {order.id} is ready for pickup at {store.name}",
        "\n".join(lines),
    )


def cancelled(order: Order, reason: str | None) -> CustomerMail:
    why = f" Reason: {reason}." if reason else ""
    body = (
        f"Hello {order.customer_name},\n\nyour order {order.id} was cancelled.{why}\n"
        "Anything you paid is refunded to your original payment method.\n\n"
        f"{_items(order)}"
    )
    return CustomerMail(
        f"{order.id}:mail:cancelled",
        order.customer_email or "",
        f"Your order {order.id} was cancelled",
        body,
    )


def refunded(order: Order, return_id: str, amount: Money, items: str) -> CustomerMail:
    body = (
        f"Hello {order.customer_name},\n\nwe received your return {return_id} "
        f"({items}) and refunded {amount.amount} {amount.currency}."
    )
    return CustomerMail(
        f"{return_id}:mail:refunded",
        order.customer_email or "",
        f"Your refund for order {order.id}",
        body,
    )


def promise_changed(order: Order, event_id: str, what: str) -> CustomerMail:
    body = f"Hello {order.customer_name},\n\n{what}\n\nWe are sorry for the trouble."
    return CustomerMail(
        f"{order.id}:mail:{event_id}",
        order.customer_email or "",
        f"Your order {order.id}: a change",
        body,
    )


def mail_message(ordering_key: str, mail: CustomerMail) -> SendCustomerMail:
    """The outbox message that sends ``mail``."""
    return SendCustomerMail(
        ordering_key=ordering_key,
        reference=mail.reference,
        to=mail.to,
        subject=mail.subject,
        body=mail.body,
    )


def _items(order: Order) -> str:
    return "Items: " + ", ".join(f"{line.quantity}x {line.sku}" for line in order.lines)
