"""Webhooks in: check the signature, record the event once, acknowledge at once; the work
it names is done after (gateway.events.processor), from the durable record.

A delivery with a bad or missing signature is refused (401), counted per backend and
logged without its body. A signed delivery whose source stamped it too long ago (or in the
future) is refused as STALE, counted, and not recorded; it is answered 200 all the same,
since an error would only make the backend send the same stale event again (the delta poll
reads what it was about). A replay of an event already recorded (a backend's retry, or an
attacker resending a captured delivery, even after a restart) is acknowledged and dropped.
"""

from __future__ import annotations

import json
import logging
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from gateway.domain import SourceSystem
from gateway.domain.events import WebhookEvent
from gateway.events.group_commit import GroupCommit
from gateway.events.identity import event_key, topic_of
from gateway.events.meaning import DEFAULT_MAX_AGE, happened_at, is_stale
from gateway.events.signatures import Signature, verify
from gateway.ports import Clock, UnitOfWorkFactory

log = logging.getLogger(__name__)

_PING = re.compile(rb"webhook_id=\d{1,20}")


class Outcome(StrEnum):
    ACCEPTED = "ACCEPTED"
    REPLAY = "REPLAY"  # that event was recorded before
    NOT_AN_EVENT = "NOT_AN_EVENT"  # WooCommerce's ping when a webhook is created
    REFUSED = "REFUSED"  # bad or missing signature
    STALE = "STALE"  # signed, but stamped too long ago (or in the future) at its source


@dataclass(frozen=True, slots=True)
class Received:
    outcome: Outcome
    # Why a delivery was refused: its signature (missing, invalid) or its stamp (stale).
    reason: str | None = None

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
        max_age: timedelta = DEFAULT_MAX_AGE,
    ) -> None:
        # Recorded a batch at a time under a burst; each acknowledged once committed.
        self._records = GroupCommit(unit_of_work)
        self._secrets = secrets
        self._clock = clock
        self._wake = wake
        self._max_age = max_age
        self.refused: Counter[SourceSystem] = Counter()
        self.replays: Counter[SourceSystem] = Counter()
        self.stale: Counter[SourceSystem] = Counter()

    async def receive(
        self, system: SourceSystem, headers: Mapping[str, str], body: bytes, url: str
    ) -> Received:
        if system is SourceSystem.STOREFRONT and _PING.fullmatch(body):
            # WooCommerce pings a webhook's URL, unsigned, when the webhook is created: a 2xx
            # lets it be saved; nothing is recorded or done.
            return Received(Outcome.NOT_AN_EVENT)
        checked = verify(system, headers, body, self._secrets.get(system, ()), url)
        if checked is not Signature.VALID:
            self.refused[system] += 1
            log.warning("webhook from %s refused: signature %s", system.value, checked.value)
            return Received(Outcome.REFUSED, f"signature_{checked.value.lower()}")
        try:
            payload = json.loads(body)
        except ValueError:
            return Received(Outcome.NOT_AN_EVENT)
        if not isinstance(payload, dict):
            return Received(Outcome.NOT_AN_EVENT)
        at = happened_at(system, headers, payload)
        if is_stale(at, self._clock.now(), self._max_age):
            self.stale[system] += 1
            log.warning("webhook from %s refused: stamped %s, too old or too new", system.value, at)
            return Received(Outcome.STALE, "stamp_out_of_window")
        event = WebhookEvent(
            system,
            event_key(system, headers, payload, body),
            topic_of(system, headers, payload),
            body.decode(errors="replace"),
            self._clock.now(),
        )
        fresh = await self._records.record(event)
        if not fresh:
            self.replays[system] += 1
            return Received(Outcome.REPLAY)
        self._wake()
        return Received(Outcome.ACCEPTED)
