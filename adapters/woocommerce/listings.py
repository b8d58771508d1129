"""The storefront's web listings (StorefrontPort): products and variations by SKU, stock.

Listings are read with ``GET products?sku=A,B,...&per_page=100``: one request per 100 SKUs,
following ``Link: rel="next"`` to the end. WooCommerce's sku filter also searches variations,
so a variation's SKU comes back as the variation itself (``type: variation``, ``parent_id``).
One listing's stock is written with an absolute ``stock_quantity``, so a retried PUT cannot
double-count; many listings' go through the batch endpoints (adapters.woocommerce.stock_levels).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from adapters.woocommerce.connection import (
    PER_PAGE,
    WooCommerceConnection,
    decode,
    integer,
    money,
    utc,
)
from gateway.domain import WebListing
from gateway.errors import NotFound


class WebListings:
    def __init__(self, connection: WooCommerceConnection) -> None:
        self._connection = connection

    async def listings_by_sku(self, skus: Sequence[str]) -> dict[str, WebListing]:
        # WooCommerce splits the filter on commas, so a SKU containing one cannot be asked for.
        wanted = list(dict.fromkeys(s for s in skus if s and "," not in s))
        chunks = [wanted[i : i + PER_PAGE] for i in range(0, len(wanted), PER_PAGE)]
        pages = await asyncio.gather(
            *(
                self._connection.get_all("products", {"sku": ",".join(chunk), "per_page": PER_PAGE})
                for chunk in chunks
            )
        )
        by_folded = {sku.casefold(): sku for sku in wanted}
        currency = self._connection.currency
        listings: dict[str, WebListing] = {}
        for item in (item for page in pages for item in page):
            # The filter compares case-insensitively; answer under the SKU the caller used.
            requested = by_folded.get(str(item.get("sku", "")).casefold())
            if requested is not None:
                listings[requested] = to_listing(item, currency)
        return listings

    async def modified_since(self, since: datetime) -> list[tuple[str, datetime]]:
        """(SKU, date_modified_gmt) of the products modified after ``since``, and of the
        variations modified since of those variable products: the delta poll behind the
        product.updated webhook. (A variation saved without its parent being saved is not
        seen here; the reconcile catches it.)"""
        moment = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
        params: dict[str, str | int] = {
            "modified_after": moment,
            "dates_are_gmt": "true",
            "per_page": PER_PAGE,
        }
        products = await self._connection.get_all("products", params)
        variable = [p["id"] for p in products if p.get("type") == "variable" and "id" in p]
        variations = await asyncio.gather(
            *(self._connection.get_all(f"products/{pid}/variations", params) for pid in variable)
        )
        found: list[tuple[str, datetime]] = []
        for item in [*products, *(v for page in variations for v in page)]:
            sku, stamp = item.get("sku"), utc(item.get("date_modified_gmt"))
            if isinstance(sku, str) and sku and stamp is not None:
                found.append((sku, stamp))
        return found

    async def set_stock(self, sku: str, quantity: int) -> WebListing:
        current = (await self.listings_by_sku([sku])).get(sku)
        if current is None:
            raise NotFound(f"The storefront has no product or variation with SKU {sku}", sku=sku)
        if current.variation_id is None:
            path = f"products/{current.product_id}"
        else:
            path = f"products/{current.product_id}/variations/{current.variation_id}"
        body = {"manage_stock": True, "stock_quantity": quantity}
        client = self._connection.client
        response = await self._connection.send(lambda: client.put(path, json=body))
        # The variations endpoint answers without name and parent_id: carry them over.
        return to_listing(
            decode(response, dict),
            self._connection.currency,
            parent_id=current.product_id if current.variation_id is not None else None,
            name=current.name,
        )


def to_listing(
    item: Mapping[str, Any],
    currency: str,
    *,
    parent_id: int | None = None,
    name: str | None = None,
) -> WebListing:
    """A product or variation payload as a WebListing; keys not read here are ignored.

    ``parent_id`` marks a payload from the variations endpoint, which does not carry it.
    """
    is_variation = parent_id is not None or item.get("type") == "variation"
    own_id = int(item["id"])
    product_id = parent_id or int(item.get("parent_id") or 0)
    return WebListing(
        sku=str(item.get("sku") or ""),
        product_id=product_id if is_variation else own_id,
        variation_id=own_id if is_variation else None,
        name=str(item.get("name") or name or ""),
        price=money(item.get("price"), currency),
        status=str(item.get("status") or ""),
        permalink=item.get("permalink") or None,
        # 'parent' means the variation's stock is kept on its parent product.
        manage_stock=item.get("manage_stock") is True or item.get("manage_stock") == "parent",
        stock_quantity=integer(item.get("stock_quantity")),
        stock_status=str(item.get("stock_status") or ""),
        backorders=str(item.get("backorders") or "no"),
        low_stock_amount=integer(item.get("low_stock_amount")),
        modified=utc(item.get("date_modified_gmt")),
    )
