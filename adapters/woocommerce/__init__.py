"""WooCommerce (REST ``wc/v3``): the storefront's listings and its orders and refunds.

``auth`` builds the client (Basic over https, OAuth 1.0a over http), ``connection`` holds the
shared retry, error and paging rules, ``listings`` and ``orders`` map the payloads,
``stock_levels`` writes many listings' stock through the batch endpoints, and ``adapter``
puts both ports on one ``WooCommerceAdapter``.
"""

from adapters.woocommerce.adapter import WooCommerceAdapter
from adapters.woocommerce.auth import (
    WooCommerceOAuth1,
    build_woocommerce_client,
    oauth_base_string,
)
from adapters.woocommerce.connection import woocommerce_error
from adapters.woocommerce.listings import to_listing
from adapters.woocommerce.orders import to_web_order, to_web_refund

__all__ = [
    "WooCommerceAdapter",
    "WooCommerceOAuth1",
    "build_woocommerce_client",
    "oauth_base_string",
    "to_listing",
    "to_web_order",
    "to_web_refund",
    "woocommerce_error",
]
