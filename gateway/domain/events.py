"""Events the backends send the gateway."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from gateway.domain.catalog import SourceSystem


@dataclass(frozen=True, slots=True)
class WebhookEvent:
    """A webhook delivery as received (signature checked), kept until it is processed."""

    system: SourceSystem
    key: str  # the event's identity (gateway.events.identity): a second delivery is a replay
    topic: str
    body: str
    received_at: datetime
    id: int | None = None
    processed_at: datetime | None = None
    outcome: str | None = None


# --- what the gateway tells subscribers (gateway.events.feed) --------------------------------


@dataclass(frozen=True, slots=True)
class StockChanged:
    """These SKUs' figures may have changed (a hold, an order, a webhook, a poll, a write
    the gateway made): whoever shows them reads them again.

    ``at_sources`` is false when only the gateway's own ledger moved (a hold taken, an
    order placed): the sources' figures are as they were, so a process that keeps its own
    copies of them (no Redis) keeps them, and reads only the ledger again, as every answer
    does. Before this, every hold made the other processes drop and re-read the SKU's ERP
    and Square figures: about 14 % of a gateway's CPU under reserves."""

    skus: tuple[str, ...]
    at_sources: bool = True


@dataclass(frozen=True, slots=True)
class OrderChanged:
    """An order was placed or moved (its status, its lines, its systems)."""

    order_id: str


@dataclass(frozen=True, slots=True)
class DiscrepancyOpened:
    """A discrepancy was opened for an owner to work."""

    discrepancy_id: str
    owner: str
    kind: str


Change = StockChanged | OrderChanged | DiscrepancyOpened
