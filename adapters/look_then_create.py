"""Look, then create once: how an adapter writes what its backend cannot de-duplicate.

ERPNext documents, WooCommerce refunds and Shopify orders and returns take no idempotency
key. Each such write carries the gateway's reference where a read can find it, and runs
in rounds:

1. look for the reference; what is found is the answer;
2. else send the create once: the caller sends it with no in-call retry, since a POST
   retried after a lost answer would make a second document;
3. BackendUnavailable from the create (timeout, connection error, 5xx/429): the document
   may or may not exist. Back off as ``adapters.http`` does and start a new round, whose
   look finds what a lost answer made; after ``max_retries + 1`` rounds, the last error;
4. BackendRejected from the create: a concurrent call may have made it first (ERPNext
   refuses a second open order per ``po_no``), so look once more; what is found is the
   answer, else the refusal.

A look that fails is not retried here: reads already have their in-call retries.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from tenacity.wait import WaitBaseT

from adapters.http import Retryable, backoff, with_retries
from gateway.errors import BackendRejected, BackendUnavailable

T = TypeVar("T")


async def look_then_create(
    look: Callable[[], Awaitable[T | None]],
    create: Callable[[], Awaitable[T]],
    *,
    max_retries: int,
    wait: WaitBaseT | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> T:
    """What ``look`` finds, else what ``create`` makes; ``wait`` and ``sleep`` are for tests."""

    async def one_round() -> T:
        found = await look()
        if found is not None:
            return found
        try:
            return await create()
        except BackendUnavailable as error:
            # The create's outcome is unknown: the one failure that earns another round.
            raise Retryable(error) from error.__cause__
        except BackendRejected:
            found = await look()
            if found is not None:
                return found
            raise

    return await with_retries(
        one_round,
        max_retries=max_retries,
        wait=backoff() if wait is None else wait,
        sleep=sleep,
    )
