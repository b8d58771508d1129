"""Square Location objects for the dataset's stores (ListLocations is not paginated)."""

from __future__ import annotations

from typing import Any

from sandbox.retailer import CURRENCY, Dataset, Store

MERCHANT_ID = "ML4ZP8Q3R2XKT"
BUSINESS_NAME = "Northtrail"
CREATED_AT = "2025-09-14T08:12:44.000Z"
_DESCRIPTIONS = {"L8D2Q4W5ZC1XN": "Flagship store", "LB3K7N9PD2XWE": "Seasonal kiosk"}


def location_object(store: Store) -> dict[str, Any]:
    return {
        "id": store.id,
        "name": store.name,
        "address": {
            "address_line_1": store.address_line_1,
            "locality": store.city,
            "postal_code": store.postal_code,
            "country": "DE",
        },
        "timezone": "Europe/Berlin",
        "capabilities": ["CREDIT_CARD_PROCESSING"],
        "status": store.status,
        "created_at": CREATED_AT,
        "merchant_id": MERCHANT_ID,
        "country": "DE",
        "language_code": "de-DE",
        "currency": CURRENCY,
        "business_name": BUSINESS_NAME,
        "type": "PHYSICAL",
        "description": _DESCRIPTIONS.get(store.id, f"{store.city} store"),
        "coordinates": {"latitude": store.lat, "longitude": store.lng},
        "mcc": "5661",
    }


def list_locations(dataset: Dataset) -> dict[str, Any]:
    """All locations, ACTIVE and INACTIVE, sorted by name."""
    stores = sorted(dataset.stores, key=lambda s: s.name)
    return {"locations": [location_object(s) for s in stores]}
