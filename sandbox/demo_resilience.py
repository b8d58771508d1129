"""The demo's resilience flow (``--check``, last): Square stops answering (hangs), and the
product page still comes back within its deadline, the store figures from their last good
copy, flagged stale with LOW confidence, the rest fresh; backendHealth shows the breaker
open; Square back, the breaker closes and the figures are fresh again. ``--break`` sets
such a plan for as long as the demo runs."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from sandbox.demo import FlowFailed, Summary, _ask, _data

SKU = "SHOE-TRAIL-42"
PAGE = """query Page{n}($sku: String!) {{ product(sku: $sku) {{ name webPrice {{ amount }}
  availability {{ locations {{ location {{ id stockSource }} stale confidence }} }} }} }}"""
HEALTH = "{ backendHealth { name state lastFailure } }"


async def degraded_flow(url: str, gateway: Any, square_app: Any, deadline: float) -> Summary:
    """``gateway``: the running gateway app (its cache is emptied, as if every figure had
    expired); ``square_app``: the Square simulator, whose fault plan is set and lifted."""
    summary = Summary()
    faults = square_app.state.faults
    asked = iter(range(1_000_000))

    def page() -> str:
        # A new document each time: the one-second response micro-cache answers none of them.
        return PAGE.format(n=next(asked))

    try:
        await _data(url, page(), sku=SKU)  # the last good copy
        faults.configure({"hang": True})
        for attempt in range(6):  # enough for the breaker to open
            await gateway.state.cache.backend.clear()
            began = time.monotonic()
            body = await _ask(url, page(), sku=SKU)
            took = time.monotonic() - began
            if attempt == 0:
                rows = body["data"]["product"]["availability"]["locations"]
                stores = [r for r in rows if r["location"]["stockSource"] == "POS"]
                flagged = all(r["stale"] and r["confidence"] == "LOW" for r in stores)
                fresh = not any(r["stale"] for r in rows if r["location"]["stockSource"] == "ERP")
                summary.say(
                    f"Square hanging          -> page in {took * 1000:.0f} ms (deadline "
                    f"{deadline:g} s), {len(stores)} store figures stale + LOW, warehouses fresh"
                )
                summary.ok &= flagged and fresh and "errors" not in body and took < deadline + 1
        square = await _square_health(url)
        summary.say(f"backendHealth square    -> {square['state']} ({square['lastFailure']})")
        summary.ok &= square["state"] == "OPEN"
        began = time.monotonic()
        await gateway.state.cache.backend.clear()
        await _ask(url, page(), sku=SKU)
        summary.say(
            f"breaker open            -> page in {(time.monotonic() - began) * 1000:.0f} ms"
        )
        faults.configure({"reset": True})
        for _ in range(40):  # the breaker half-opens after its open time, a probe closes it
            await asyncio.sleep(0.25)
            await gateway.state.cache.backend.clear()
            body = await _ask(url, page(), sku=SKU)
            rows = body["data"]["product"]["availability"]["locations"]
            if not any(r["stale"] for r in rows):
                break
        square = await _square_health(url)
        summary.say(f"Square back             -> {square['state']}, every figure fresh")
        summary.ok &= not any(r["stale"] for r in rows) and square["state"] != "OPEN"
    except (FlowFailed, KeyError, TypeError) as error:
        summary.ok = False
        summary.say(f"FAILED: {error}")
    finally:
        faults.configure({"reset": True})
    return summary


async def _square_health(url: str) -> dict[str, Any]:
    health = (await _data(url, HEALTH))["backendHealth"]
    return next(h for h in health if h["name"] == "square")
