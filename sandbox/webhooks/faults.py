"""Trouble between a simulator and the receivers of its webhooks, the same knobs on every
simulator (``app.state.webhooks.faults``, or ``POST /_sandbox/webhooks``):

    drop_next   the next N deliveries are lost: never sent, never retried
    drop_rate   that share of deliveries is lost, drawn from a generator seeded with ``seed``
    delay_ms    each delivery waits this long before it goes out
    duplicate   each delivery is sent twice, byte for byte
    reorder     deliveries are held until N are waiting, then sent newest first
    forge       deliveries are signed with a secret nobody was given

Losing and reordering apply to a delivery's first attempt; a product's retries of a failed
attempt go out as they fall due.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, fields
from typing import Any


@dataclass
class DeliveryFaults:
    drop_next: int = 0
    drop_rate: float = 0.0
    seed: int = 0
    delay_ms: float = 0.0
    duplicate: bool = False
    reorder: int = 0
    forge: bool = False
    _rng: random.Random = field(default_factory=lambda: random.Random(0), repr=False)

    def should_drop(self) -> bool:
        if self.drop_next > 0:
            self.drop_next -= 1
            return True
        return self.drop_rate > 0 and self._rng.random() < self.drop_rate

    def configure(self, values: dict[str, Any]) -> None:
        """Set the knobs named in ``values`` (as JSON sends them); refuse unknown ones."""
        kinds = {f.name: f.type for f in fields(self) if not f.name.startswith("_")}
        unknown = set(values) - set(kinds)
        if unknown:
            raise ValueError(f"unknown webhook fault knobs: {sorted(unknown)}")
        for name, value in values.items():
            setattr(self, name, _coerce(name, str(kinds[name]), value))
        if "seed" in values:
            self._rng = random.Random(self.seed)
        if self.drop_next < 0 or self.reorder < 0 or self.delay_ms < 0:
            raise ValueError("drop_next, reorder and delay_ms cannot be negative")
        if not 0 <= self.drop_rate <= 1:
            raise ValueError("drop_rate is a share between 0 and 1")

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self) if not f.name.startswith("_")}


def _coerce(name: str, kind: str, value: Any) -> Any:
    if kind == "bool":
        if not isinstance(value, bool):
            raise ValueError(f"{name} is true or false")
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name} is a number")
    if kind == "int":
        if value != int(value):
            raise ValueError(f"{name} is a whole number")
        return int(value)
    return float(value)
