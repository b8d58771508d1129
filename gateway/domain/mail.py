"""A mail to a customer, as the notification port sends it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CustomerMail:
    reference: str  # the outbox's idempotency key: one event, one mail
    to: str
    subject: str
    body: str
