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
