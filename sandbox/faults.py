"""Injected trouble, with the same knobs on every simulator.

``latency_ms`` delays each request. ``error_rate`` fails that share of requests with one of the
backend's canned failures, picked by a generator seeded with ``rng_seed``, so a run repeats.
``script(503, 429)`` makes the next requests fail with exactly those statuses, for tests that
need a sequence; a script is used up before the random share is drawn again.

A fault plan adds what a backend in real trouble does, set at run time (``configure``, over
``/_sandbox/faults``, or the demo's ``--break``):

    spike_ms        added to ``spike_rate`` of the requests (latency spikes)
    hang            every request waits, unanswered, until the plan is lifted
    outage_seconds  every request fails with the backend's 503 for that long
    burst_429       the next N requests are rate limited (the backend's 429, Retry-After)
    garbage_rate    that share of requests is answered with bytes that are not HTTP
    refuse_seconds  connections are refused for that long (nothing listens)

The last two happen on the wire, below the app: the simulator's server reads them
(sandbox.faulty_server). A simulator hands over its canned failures as status -> a function
that makes one, in its backend's shape (an exception its app raises, or a ready response).
The random pick is made among them in the order given: the order is part of what a seed
reproduces.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

Failure = TypeVar("Failure")

# What nginx answers for the application behind it when that application is down.
NGINX_503_PAGE = (
    "<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>\r\n<body>\r\n"
    "<center><h1>503 Service Temporarily Unavailable</h1></center>\r\n"
    "<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)

# What a backend answers when it is not speaking HTTP at all (a TLS port, a broken proxy).
GARBAGE = b"\x00\xff\xfe\x15\x03\x01 not HTTP \x00\r\n\r\n"

HANG_POLL_SECONDS = 0.02

PLAN_KNOBS = (
    "latency_ms",
    "error_rate",
    "spike_ms",
    "spike_rate",
    "hang",
    "outage_seconds",
    "burst_429",
    "garbage_rate",
    "refuse_seconds",
)


class Faults(Generic[Failure]):
    """Latency and failures for one simulator; every knob may be changed while it runs."""

    def __init__(
        self,
        backend: str,
        canned: Mapping[int, Callable[[], Failure]],
        *,
        latency_ms: float = 0.0,
        error_rate: float = 0.0,
        rng_seed: int = 0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.backend = backend
        self.latency_ms = latency_ms
        self.error_rate = error_rate
        self.hang = False
        self.spike_ms = 0.0
        self.spike_rate = 0.0
        self.burst_429 = 0
        self.garbage_rate = 0.0
        self._outage_until = 0.0
        self._refuse_until = 0.0
        self._monotonic = monotonic
        self._canned = dict(canned)
        self._statuses = tuple(canned)
        self._rng = random.Random(rng_seed)
        self._wire_rng = random.Random(rng_seed + 1)
        self._spike_rng = random.Random(rng_seed + 2)
        self._script: deque[int] = deque()

    # --- the request path -----------------------------------------------------------------

    async def delay(self) -> None:
        if self.latency_ms > 0:
            await asyncio.sleep(self.latency_ms / 1000)
        if self.spike_rate > 0 and self._spike_rng.random() < self.spike_rate:
            await asyncio.sleep(self.spike_ms / 1000)
        while self.hang:
            # Unanswered until the plan is lifted (or the caller gives up and goes away).
            # Polled, not an Event: a test lifts it from another thread than the server's.
            await asyncio.sleep(HANG_POLL_SECONDS)

    def script(self, *statuses: int) -> None:
        unknown = set(statuses) - set(self._canned)
        if unknown:
            raise ValueError(f"no canned {self.backend} failure for {sorted(unknown)}")
        self._script.extend(statuses)

    def next_failure(self) -> Failure | None:
        """The failure to answer this request with, or None to serve it."""
        if self._monotonic() < self._outage_until:
            status = self._outage_status()
        elif self.burst_429 > 0:
            self.burst_429 -= 1
            status = 429
        elif self._script:
            status = self._script.popleft()
        elif self.error_rate > 0 and self._rng.random() < self.error_rate:
            status = self._pick()
        else:
            return None
        return self._canned[status]()

    def _pick(self) -> int:
        return self._rng.choice(self._statuses)

    def _outage_status(self) -> int:
        return 503 if 503 in self._canned else max(self._canned)

    # --- the wire (sandbox.faulty_server) -------------------------------------------------

    def garbage_now(self) -> bool:
        return self.garbage_rate > 0 and self._wire_rng.random() < self.garbage_rate

    def refusing(self) -> bool:
        return self._monotonic() < self._refuse_until

    # --- the plan, at run time -------------------------------------------------------------

    def configure(self, values: Mapping[str, Any]) -> None:
        """Apply a fault plan (any of PLAN_KNOBS); ``{"reset": true}`` first lifts them all.
        Raises ValueError, naming the knob, for one that is unknown or out of range."""
        values = dict(values)
        if values.pop("reset", False):
            self.reset()
        unknown = sorted(set(values) - set(PLAN_KNOBS))
        if unknown:
            raise ValueError(f"unknown fault knob(s) {unknown}; known: {list(PLAN_KNOBS)}")
        if "latency_ms" in values:
            self.latency_ms = _number(values, "latency_ms", 0, 600_000)
        if "error_rate" in values:
            self.error_rate = _number(values, "error_rate", 0, 1)
        if "spike_ms" in values:
            self.spike_ms = _number(values, "spike_ms", 0, 600_000)
        if "spike_rate" in values:
            self.spike_rate = _number(values, "spike_rate", 0, 1)
        if "garbage_rate" in values:
            self.garbage_rate = _number(values, "garbage_rate", 0, 1)
        if "burst_429" in values:
            if 429 not in self._canned:
                raise ValueError(f"no canned {self.backend} failure for [429]")
            self.burst_429 = int(_number(values, "burst_429", 0, 1_000_000))
        if "outage_seconds" in values:
            seconds = _number(values, "outage_seconds", 0, 86_400)
            self._outage_until = self._monotonic() + seconds if seconds else 0.0
        if "refuse_seconds" in values:
            seconds = _number(values, "refuse_seconds", 0, 86_400)
            self._refuse_until = self._monotonic() + seconds if seconds else 0.0
        if "hang" in values:
            if not isinstance(values["hang"], bool):
                raise ValueError("hang is true or false")
            self.hang = values["hang"]

    def reset(self) -> None:
        self.latency_ms = self.error_rate = self.garbage_rate = 0.0
        self.spike_ms = self.spike_rate = 0.0
        self.burst_429 = 0
        self._outage_until = self._refuse_until = 0.0
        self._script.clear()
        self.hang = False

    def state(self) -> dict[str, Any]:
        now = self._monotonic()
        return {
            "latency_ms": self.latency_ms,
            "error_rate": self.error_rate,
            "spike_ms": self.spike_ms,
            "spike_rate": self.spike_rate,
            "hang": self.hang,
            "outage_seconds": round(max(0.0, self._outage_until - now), 3),
            "burst_429": self.burst_429,
            "garbage_rate": self.garbage_rate,
            "refuse_seconds": round(max(0.0, self._refuse_until - now), 3),
        }


def _number(values: Mapping[str, Any], name: str, low: float, high: float) -> float:
    value = values[name]
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ValueError(f"{name} is a number from {low:g} to {high:g}, got {value!r}")
    return float(value)


# --- the demo's --break ---------------------------------------------------------------------------

BACKENDS = ("erpnext", "woocommerce", "square", "shopify")
_SHORT_PLANS: dict[str, tuple[str, Callable[[float], Any]]] = {
    # word -> (knob, value from the number after the colon, or the default given)
    "hang": ("hang", lambda _: True),
    "refused": ("refuse_seconds", lambda n: n),
    "garbage": ("garbage_rate", lambda n: n),
    "errors": ("error_rate", lambda n: n),
    "slow": ("latency_ms", lambda n: n),
    "spikes": ("spike_ms", lambda n: n),
    "outage": ("outage_seconds", lambda n: n),
    "429": ("burst_429", lambda n: int(n)),
}
_DEFAULTS = {
    "refused": 3600.0,
    "garbage": 1.0,
    "errors": 0.3,
    "slow": 2000.0,
    "spikes": 2000.0,
    "outage": 3600.0,
    "429": 20.0,
    "hang": 0.0,
}


def parse_break(text: str) -> tuple[str, dict[str, Any]]:
    """``square=hang``, ``erpnext=refused:60``, ``woocommerce=errors:0.3``,
    ``shopify=slow:2000``, ``erpnext=spikes:2000`` (one request in ten),
    ``square=garbage:0.5``, ``erpnext=outage:120``, ``square=429:10``,
    several joined with ``+`` (``square=errors:0.3+slow:500``): the backend and its plan.
    Raises ValueError saying what is wrong."""
    backend, sep, plans = text.partition("=")
    if not sep or backend not in BACKENDS:
        raise ValueError(f"expected BACKEND=PLAN with BACKEND one of {', '.join(BACKENDS)}")
    plan: dict[str, Any] = {}
    for part in plans.split("+"):
        word, colon, number = part.partition(":")
        if word not in _SHORT_PLANS:
            raise ValueError(f"unknown plan {word!r}; known: {', '.join(_SHORT_PLANS)}")
        try:
            value = float(number) if colon else _DEFAULTS[word]
        except ValueError:
            raise ValueError(f"{word}: {number!r} is not a number") from None
        knob, make = _SHORT_PLANS[word]
        plan[knob] = make(value)
        if word == "spikes":
            plan.setdefault("spike_rate", 0.1)
    return backend, plan
