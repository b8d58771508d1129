"""How far one figure can be trusted (pure).

LOW     an OVERSELL_RISK is open for the SKU (some channel shows more than can be
        promised), or the figure is stale: served from the last good copy because its
        source could not be asked, learnt longer ago than the cache may keep it, or not
        stated or moved by its source for longer than the router accepts
HIGH    confirmed: read again because its source sent an event about it (or a poll found
        it changed), or read within the fresh window
MEDIUM  otherwise: read within the cache's time to live
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from gateway.domain.catalog import Confidence, Via


@dataclass(frozen=True, slots=True)
class FreshnessRules:
    fresh: timedelta  # a read this recent is as good as a confirmation
    keep: timedelta  # how long the gateway keeps a figure (the stock cache's time to live)
    source_stale: timedelta | None  # a source stamp older than this is stale (None: never)


def confidence(
    via: Via,
    observed_at: datetime | None,
    as_of: datetime | None,
    now: datetime,
    rules: FreshnessRules,
    *,
    oversell_risk: bool = False,
    stale: bool = False,
) -> Confidence:
    if oversell_risk or stale:
        return Confidence.LOW
    if rules.source_stale is not None and as_of is not None and now - as_of > rules.source_stale:
        return Confidence.LOW
    if observed_at is None:
        # No reading (a missing Bin is a real zero): nothing says when it was confirmed.
        return Confidence.MEDIUM
    age = now - observed_at
    if age > rules.keep:
        return Confidence.LOW
    if via is not Via.READ or age <= rules.fresh:
        return Confidence.HIGH
    return Confidence.MEDIUM


@dataclass(frozen=True, slots=True)
class StaleSafety:
    """What a stale figure keeps back so it under-promises: ``percent`` of what it would
    offer, at least ``units`` (RESILIENCE__STALE_SAFETY_PERCENT / _UNITS)."""

    percent: int = 20
    units: int = 1


DEFAULT_STALE_SAFETY = StaleSafety()


def kept_back_when_stale(available: int, rule: StaleSafety) -> int:
    """Units of ``available`` a stale figure does not offer; never more than there are."""
    if available <= 0:
        return 0
    return min(available, max(rule.units, math.ceil(available * rule.percent / 100)))
