"""Square inventory writes: a sale (ADJUSTMENT IN_STOCK -> SOLD), a restock (ADJUSTMENT
NONE -> IN_STOCK) and a cycle count (PHYSICAL_COUNT of IN_STOCK), one change per
BatchChangeInventory call.

A physical count may be for a moment in the past (up to 24 hours, Square's limit): Square
sets IN_STOCK to the count as of ``occurred_at`` and replays the adjustments that occurred
after it on top, so a sale rung up after the count is kept.

Idempotency. The caller's reference is the request's ``idempotency_key``, so a retried or
repeated write moves stock once: Square answers a repeat with the first result. Square
refuses the same key with a *different* body (IDEMPOTENCY_KEY_REUSED, a BackendRejected
here), so a repeat must carry the same arguments, ``occurred_at`` included, and a sale and
its later restock need different references. Keys longer than Square's 128 characters are
shortened deterministically (a readable prefix plus a SHA-256 of the whole reference), so
the same reference always maps to the same key. This key is also why the shared HTTP
policy may retry a 429/5xx on this unsafe POST without selling twice.

Square lets IN_STOCK go negative (a store that sold more than it had on record), so a sale
is not refused for lack of stock; the negative figure shows up in ``stock()``.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from adapters.square.api import BACKEND, SquareApi
from adapters.square.catalog import SquareCatalog
from gateway.errors import BackendRejected, BadUserInput, NotFound

CHANGES_PATH = "/v2/inventory/changes/batch-create"
SALE = ("IN_STOCK", "SOLD")
RESTOCK = ("NONE", "IN_STOCK")
MAX_KEY_LENGTH = 128
MAX_REFERENCE_ID_LENGTH = 255
_KEY_PREFIX_LENGTH = MAX_KEY_LENGTH - 1 - 64  # "~" and a SHA-256 hex digest follow it


class SquareStockWriter:
    def __init__(self, api: SquareApi, catalog: SquareCatalog) -> None:
        self._api = api
        self._catalog = catalog

    async def adjust(
        self,
        move: tuple[str, str],
        reference: str,
        sku: str,
        location_ref: str,
        quantity: int,
        occurred_at: datetime,
    ) -> None:
        variation_id = await self._variation(reference, sku)
        body = adjustment_request(
            move, reference, variation_id, location_ref, quantity, occurred_at
        )
        await self._send(sku, body)

    async def count(
        self, reference: str, sku: str, location_ref: str, quantity: int, counted_at: datetime
    ) -> None:
        variation_id = await self._variation(reference, sku)
        body = count_request(reference, variation_id, location_ref, quantity, counted_at)
        await self._send(sku, body)

    async def _variation(self, reference: str, sku: str) -> str:
        if not reference:
            raise BadUserInput("a Square stock change needs a non-empty reference")
        # A write should not fail on a SKU added to Square since it was last looked up.
        ids = await self._catalog.variation_ids([sku], recheck_unknown=True)
        variation_id = ids.get(sku)
        if variation_id is None:
            raise NotFound(f"{BACKEND} has no item variation with SKU {sku!r}", sku=sku)
        return variation_id

    async def _send(self, sku: str, body: dict[str, Any]) -> None:
        try:
            await self._api.call("POST", CHANGES_PATH, json=body)
        except BackendRejected as error:
            if error.status == 404:
                # The remembered variation may have been deleted; look it up afresh next time.
                self._catalog.forget(sku)
            raise


def adjustment_request(
    move: tuple[str, str],
    reference: str,
    variation_id: str,
    location_ref: str,
    quantity: int,
    occurred_at: datetime,
) -> dict[str, Any]:
    """The BatchChangeInventory body for one adjustment of ``quantity`` whole units."""
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
        raise BadUserInput(f"a Square stock change needs a positive quantity, not {quantity!r}")
    key = idempotency_key(reference)
    from_state, to_state = move
    return {
        "idempotency_key": key,
        "changes": [
            {
                "type": "ADJUSTMENT",
                "adjustment": {
                    "reference_id": reference if len(reference) <= MAX_REFERENCE_ID_LENGTH else key,
                    "catalog_object_id": variation_id,
                    "catalog_object_type": "ITEM_VARIATION",
                    "from_state": from_state,
                    "to_state": to_state,
                    "location_id": location_ref,
                    "quantity": str(quantity),
                    "occurred_at": rfc3339_utc(occurred_at),
                },
            }
        ],
    }


def count_request(
    reference: str, variation_id: str, location_ref: str, quantity: int, counted_at: datetime
) -> dict[str, Any]:
    """The BatchChangeInventory body for one PHYSICAL_COUNT of IN_STOCK at ``counted_at``.
    ``ignore_unchanged_counts`` is false: Square's default drops a count equal to the figure
    it holds now, but a count in the past that happens to equal today's figure still
    differs from the figure at its own time, which is what it corrects."""
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
        raise BadUserInput(f"a Square count needs a whole number of units, not {quantity!r}")
    key = idempotency_key(reference)
    return {
        "idempotency_key": key,
        "ignore_unchanged_counts": False,
        "changes": [
            {
                "type": "PHYSICAL_COUNT",
                "physical_count": {
                    "reference_id": reference if len(reference) <= MAX_REFERENCE_ID_LENGTH else key,
                    "catalog_object_id": variation_id,
                    "catalog_object_type": "ITEM_VARIATION",
                    "state": "IN_STOCK",
                    "location_id": location_ref,
                    "quantity": str(quantity),
                    "occurred_at": rfc3339_utc(counted_at),
                },
            }
        ],
    }


def idempotency_key(reference: str) -> str:
    """The reference itself when Square accepts its length, else a stable shortening."""
    if len(reference) <= MAX_KEY_LENGTH:
        return reference
    digest = hashlib.sha256(reference.encode()).hexdigest()
    return f"{reference[:_KEY_PREFIX_LENGTH]}~{digest}"


def rfc3339_utc(moment: datetime) -> str:
    """Square's own style (UTC, milliseconds, Z); a naive time is refused, not guessed."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise BadUserInput(f"occurred_at must be timezone-aware, not {moment.isoformat()}")
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
