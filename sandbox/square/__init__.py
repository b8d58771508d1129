"""A faithful simulator of Square's Locations, Catalog and Inventory APIs (Square-Version
2025-08-20) over the shared sample dataset: ``create_app(dataset, ...)``."""

from sandbox.square.app import create_app

__all__ = ["create_app"]
