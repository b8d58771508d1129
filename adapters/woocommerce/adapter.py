"""WooCommerce (REST ``wc/v3``) as the gateway's StorefrontPort and WebOrdersPort: one
adapter over one client, delegating to the listings, stock levels and orders parts.

Every stock write carries absolute values (``stock_quantity``, ``stock_status``,
``backorders``), never a delta, so the connection retries them like reads: a repeat
changes nothing."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import httpx

from adapters.resilience.policy import BackendPolicy
from adapters.woocommerce.connection import WooCommerceConnection
from adapters.woocommerce.listings import WebListings
from adapters.woocommerce.orders import WebOrders
from adapters.woocommerce.stock_levels import WebStockLevels
from gateway.domain import WebListing, WebStockUpdate, WebStockWritten
from gateway.domain.documents import WebOrder, WebRefund, WebRefundDraft


class WooCommerceAdapter:
    """StorefrontPort and WebOrdersPort over a client from build_woocommerce_client (base
    URL ends in wc/v3/)."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        max_retries: int = 2,
        currency: str = "EUR",
        policy: BackendPolicy | None = None,
    ) -> None:
        connection = WooCommerceConnection(
            client, max_retries=max_retries, currency=currency, policy=policy
        )
        self._listings = WebListings(connection)
        self._stock_levels = WebStockLevels(connection)
        self._orders = WebOrders(connection)

    # --- StorefrontPort ---------------------------------------------------------------------

    async def listings_by_sku(self, skus: Sequence[str]) -> dict[str, WebListing]:
        return await self._listings.listings_by_sku(skus)

    async def listings_modified_since(self, since: datetime) -> list[tuple[str, datetime]]:
        return await self._listings.modified_since(since)

    async def set_stock(self, sku: str, quantity: int) -> WebListing:
        return await self._listings.set_stock(sku, quantity)

    async def set_stock_levels(self, updates: Sequence[WebStockUpdate]) -> list[WebStockWritten]:
        return await self._stock_levels.set_stock_levels(updates)

    # --- WebOrdersPort ----------------------------------------------------------------------

    async def web_orders(self, *, modified_after: datetime | None = None) -> list[WebOrder]:
        return await self._orders.web_orders(modified_after=modified_after)

    async def web_order(self, order_id: int) -> WebOrder | None:
        return await self._orders.web_order(order_id)

    async def refund(self, order_id: int, draft: WebRefundDraft) -> WebRefund:
        return await self._orders.refund(order_id, draft)

    async def set_status(self, order_id: int, status: str) -> str:
        return await self._orders.set_status(order_id, status)

    async def add_note(self, order_id: int, note: str, *, customer_note: bool) -> int:
        return await self._orders.add_note(order_id, note, customer_note=customer_note)
