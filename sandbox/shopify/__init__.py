"""A faithful simulator of the Shopify Admin GraphQL API (2026-10) as the OMS: orders split
into fulfillment orders per location, fulfillments with tracking, and returns, over the shared
sample dataset: ``create_app(dataset, ...)``."""

from sandbox.shopify.app import create_app

__all__ = ["create_app"]
