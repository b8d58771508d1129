"""What the storefront's copy of an order is told when the order enters a status (pure).

    entered           WooCommerce status       customer note
    READY_FOR_PICKUP  the pickup status (*)    ready at <store>, collect by <deadline>
    COLLECTED         completed                collected at <store>
    SHIPPED           completed                shipped, with the carrier and tracking
    DELIVERED         -                        delivered
    CANCELLED         cancelled                cancelled, with the reason

(*) ``ready-for-pickup`` on stores offering local pickup (WooCommerce 11.3+); a store
without it is configured with no pickup status and gets the note alone. WooCommerce has no
"delivered": ``completed`` is as far as its status goes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from gateway.domain.documents import Tracking
from gateway.domain.orders import OrderStatus

S = OrderStatus


@dataclass(frozen=True, slots=True)
class WebNews:
    status: str | None
    note: str


def web_news(
    entered: OrderStatus,
    *,
    pickup_status: str | None,
    store: str | None = None,
    deadline: datetime | None = None,
    tracking: Tracking | None = None,
    reason: str | None = None,
) -> WebNews | None:
    """None: the storefront is not told about ``entered``."""
    at = f" at {store}" if store else ""
    match entered:
        case S.READY_FOR_PICKUP:
            by = f" Please collect it by {deadline:%Y-%m-%d %H:%M} UTC." if deadline else ""
            return WebNews(pickup_status, f"Your order is ready for pickup{at}.{by}")
        case S.COLLECTED:
            return WebNews("completed", f"Your order was collected{at}. Thank you!")
        case S.SHIPPED:
            return WebNews("completed", f"Your order has shipped.{_tracking(tracking)}")
        case S.DELIVERED:
            return WebNews(None, "Your order was delivered.")
        case S.CANCELLED:
            why = f" Reason: {reason}." if reason else ""
            return WebNews("cancelled", f"Your order was cancelled.{why}")
    return None


def _tracking(tracking: Tracking | None) -> str:
    if tracking is None or not (tracking.number or tracking.url):
        return ""
    parts = [p for p in (tracking.company, tracking.number) if p]
    url = f" ({tracking.url})" if tracking.url else ""
    return f" Tracking: {' '.join(parts)}{url}."
