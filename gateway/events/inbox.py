"""Webhooks in: check the signature, record the event once, acknowledge at once; the work
it names is done after (gateway.events.processor), from the durable record.

A delivery with a bad or missing signature is refused (401), counted per backend and
logged without its body. A replay of an event already recorded (a backend's retry, or an
attacker resending a captured delivery, even after a restart) is acknowledged and dropped.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from gateway.domain import SourceSystem
from gateway.domain.events import WebhookEvent
from gateway.events.identity import event_key, topic_of
from gateway.events.signatures import Signature, verify
from gateway.ports import Clock, UnitOfWorkFactory

log = logging.getLogger(__name__)


class Outcome(StrEnum):
    ACCEPTED = "ACCEPTED"
    REPLAY = "REPLAY"  # that event was recorded before
    NOT_AN_EVENT = "NOT_AN_EVENT"  # WooCommerce's ping when a webhook is created
    REFUSED = "REFUSED"  # bad or missing signature


@dataclass(frozen=True, slots=True)
class Received:
    outcome: Outcome

    @property
    def status(self) -> int:
        return 401 if self.outcome is Outcome.REFUSED else 200


class WebhookInbox:
    def __init__(
        self,
        unit_of_work: UnitOfWorkFactory,
        secrets: Mapping[SourceSystem, Sequence[str]],
        clock: Clock,
        wake: Callable[[], None],
    ) -> None:
        self._uow = unit_of_work
        self._secrets = secrets
        self._clock = clock
        self._wake = wake
        self.refused: Counter[SourceSystem] = Counter()
        self.replays: Counter[SourceSystem] = Counter()

    async def receive(
        self, system: SourceSystem, headers: Mapping[str, str], body: bytes, url: str
    ) -> Received:
        checked = verify(system, headers, body, self._secrets.get(system, ()), url)
        if checked is not Signature.VALID:
            self.refused[system] += 1
            log.warning("webhook from %s refused: signature %s", system.value, checked.value)
            return Received(Outcome.REFUSED)
        try:
            payload = json.loads(body)
        except ValueError:
            return Received(Outcome.NOT_AN_EVENT)
        if not isinstance(payload, dict):
            return Received(Outcome.NOT_AN_EVENT)
        event = WebhookEvent(
            system,
            event_key(system, headers, payload, body),
            topic_of(system, headers, payload),
            body.decode(errors="replace"),
            self._clock.now(),
        )
        async with self._uow() as uow:
            fresh = await uow.webhooks.record(event)
            await uow.commit()
        if not fresh:
            self.replays[system] += 1
            return Received(Outcome.REPLAY)
        self._wake()
        return Received(Outcome.ACCEPTED)
