"""Square (the POS): store locations, store prices and store stock over the Locations,
Catalog and Inventory APIs, and store stock writes (sales, restocks).

    api.py        the client, the call with the shared retry policy, error mapping
    catalog.py    locations; SKU -> ITEM_VARIATION lookup, remembered for a while
    inventory.py  counts -> stock readings
    writes.py     sale / restock adjustments, idempotent on the caller's reference
    adapter.py    SquareAdapter: PosPort and PosStockWritesPort over the above
"""

from __future__ import annotations

from adapters.square.adapter import SquareAdapter
from adapters.square.api import build_square_client, parse_error

__all__ = ["SquareAdapter", "build_square_client", "parse_error"]
