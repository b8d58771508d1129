"""Shopify Admin GraphQL adapter (the OMS): implements gateway.ports.OmsPort."""

from __future__ import annotations

from adapters.shopify.adapter import ShopifyAdapter, build_shopify_client
from adapters.shopify.wire import parse_error

__all__ = ["ShopifyAdapter", "build_shopify_client", "parse_error"]
