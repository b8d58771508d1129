"""What a product hands the sender (a Delivery), what it renders into (a Message), and what
the sender remembers of each attempt (a Sent)."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import datetime

from sandbox.webhooks.signing import Signer


def is_2xx(status: int) -> bool:
    return 200 <= status < 300


@dataclass(frozen=True, slots=True)
class Message:
    """The bytes a delivery carries and its headers, the signature left out (the sender adds
    it, so a forged one can be made). Fixed at render: retries resend exactly this."""

    body: bytes
    headers: dict[str, str]
    event_id: str = ""  # the product's own event or delivery id, for the record


@dataclass(frozen=True, slots=True)
class Retry:
    number: int  # 1 for the first retry
    reason: str  # "http_error" or "timeout" or "connection_error"
    first_attempt_at: datetime


@dataclass(slots=True)
class Delivery:
    """One delivery to one URL. ``render`` runs once, after the change that caused it has
    finished (the end of the request that made it), so several changes to one record in
    one request are one delivery; it answers None when there is nothing to send after all.
    ``key``: deliveries noted in the same request with the same key are one."""

    topic: str
    url: str
    render: Callable[[], Message | None]
    signer: Signer | None = None
    method: str = "POST"
    retries: tuple[float, ...] = ()  # seconds before each retry, at retry_scale 1
    retry_headers: Callable[[Retry], dict[str, str]] | None = None
    accepts: Callable[[int], bool] = is_2xx
    on_result: Callable[[bool], None] | None = None  # told once: delivered or given up
    key: Hashable | None = None
    timeout: float = 5.0


@dataclass(frozen=True, slots=True)
class Sent:
    """One attempt, as a test or the control endpoint sees it. ``status`` is None when no
    answer came (dropped by a fault, timed out, refused)."""

    topic: str
    url: str
    status: int | None
    attempt: int  # 0 for the first try, n for the n-th retry
    event_id: str
    headers: dict[str, str]
    body: bytes
    dropped: bool = False
    duplicate: bool = False
    forged: bool = False
    error: str | None = None
    at: datetime | None = field(default=None, compare=False)

    def summary(self) -> dict[str, object]:
        return {
            "topic": self.topic,
            "url": self.url,
            "status": self.status,
            "attempt": self.attempt,
            "event_id": self.event_id,
            "dropped": self.dropped,
            "duplicate": self.duplicate,
            "forged": self.forged,
            "error": self.error,
        }
