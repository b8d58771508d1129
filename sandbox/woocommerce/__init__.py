"""A faithful WooCommerce REST ``wc/v3`` simulator (products, variations, orders and refunds)."""

from sandbox.woocommerce.app import create_app

__all__ = ["create_app"]
