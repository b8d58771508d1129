"""A faithful WooCommerce REST ``wc/v3`` simulator (products and variations)."""

from sandbox.woocommerce.app import create_app

__all__ = ["create_app"]
