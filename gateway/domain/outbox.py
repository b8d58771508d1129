"""The outbox as the rest of the gateway sees it: writes owed to backends and their state.

States: PENDING -> IN_FLIGHT (leased to one worker) -> DELIVERED, or back to PENDING with a
later ``next_attempt_at`` after a failure, or DEAD once the retry budget is spent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any


class DeliveryStatus(StrEnum):
    PENDING = "PENDING"
    IN_FLIGHT = "IN_FLIGHT"
    DELIVERED = "DELIVERED"
    DEAD = "DEAD"


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    ordering_key: str
    target: str
    operation: str
    reference: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Delivery:
    id: int
    ordering_key: str
    target: str
    operation: str
    reference: str
    payload: dict[str, Any]
    status: DeliveryStatus
    attempts: int
    last_error: str | None
    created_at: datetime
    next_attempt_at: datetime
    delivered_at: datetime | None
    result: dict[str, Any] | None
