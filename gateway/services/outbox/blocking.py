"""Which writes wait behind a dead one (pure).

Writes of one ordering key go out in order, so one that is DEAD holds back every later
write of its key that is not done: those are shown BLOCKED, naming the first dead write
before them. They move again once it is retried (and delivered) or skipped.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from gateway.domain.outbox import SETTLED, Delivery, DeliveryStatus


def as_seen(deliveries: Iterable[Delivery]) -> list[Delivery]:
    """``deliveries`` in id order, each one waiting behind a dead write marked BLOCKED."""
    first_dead: dict[str, int] = {}
    seen: list[Delivery] = []
    for delivery in sorted(deliveries, key=lambda d: d.id):
        key = delivery.message.ordering_key
        waits_on = first_dead.get(key)
        if waits_on is not None and delivery.status not in SETTLED | {DeliveryStatus.DEAD}:
            seen.append(replace(delivery, status=DeliveryStatus.BLOCKED, blocked_by=waits_on))
            continue
        if delivery.status is DeliveryStatus.DEAD:
            first_dead.setdefault(key, delivery.id)
        seen.append(delivery)
    return seen
