"""Plain typed values the whole gateway speaks: catalog and stock, and the documents
exchanged with the backends when orders, holds and returns are written.

``gateway.domain`` re-exports the catalog types, which almost every module uses.
"""

from gateway.domain.catalog import (
    Availability,
    BackendLocation,
    Capability,
    Channel,
    FulfillmentTerms,
    GeoPoint,
    ItemMaster,
    Kit,
    KitComponent,
    Location,
    Money,
    NodeAvailability,
    NodeType,
    PosVariation,
    Product,
    SourceSystem,
    StockChanges,
    StockReading,
    StockStatus,
    StoreSum,
    WebListing,
    WebStockUpdate,
    WebStockWritten,
)

__all__ = [
    "Availability",
    "BackendLocation",
    "Capability",
    "Channel",
    "FulfillmentTerms",
    "GeoPoint",
    "ItemMaster",
    "Kit",
    "KitComponent",
    "Location",
    "Money",
    "NodeAvailability",
    "NodeType",
    "PosVariation",
    "Product",
    "SourceSystem",
    "StockChanges",
    "StockReading",
    "StockStatus",
    "StoreSum",
    "WebListing",
    "WebStockUpdate",
    "WebStockWritten",
]
