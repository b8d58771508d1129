"""Small interfaces the services depend on: the backends (``backends``) and the gateway's
own records (``storage``). Adapters and ``gateway/persistence`` implement them; tests use
fakes or the real database."""

from gateway.ports.backends import (
    Clock,
    ErpBackend,
    ErpOrdersPort,
    ErpPort,
    LedgerSource,
    LocationsProvider,
    OmsPort,
    PosBackend,
    PosCounts,
    PosPort,
    PosStockWritesPort,
    StorefrontBackend,
    StorefrontPort,
    WebOrdersPort,
)
from gateway.ports.storage import (
    HoldTaker,
    IdempotencyStore,
    Orders,
    Outbox,
    Reservations,
    Reserver,
    Returns,
    RoutingDecisions,
    UnitOfWork,
    UnitOfWorkFactory,
)

__all__ = [
    "Clock",
    "ErpBackend",
    "ErpOrdersPort",
    "ErpPort",
    "HoldTaker",
    "IdempotencyStore",
    "LedgerSource",
    "LocationsProvider",
    "OmsPort",
    "Orders",
    "Outbox",
    "PosBackend",
    "PosCounts",
    "PosPort",
    "PosStockWritesPort",
    "Reservations",
    "Reserver",
    "Returns",
    "RoutingDecisions",
    "StorefrontBackend",
    "StorefrontPort",
    "UnitOfWork",
    "UnitOfWorkFactory",
    "WebOrdersPort",
]
