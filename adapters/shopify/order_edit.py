"""OmsPort.edit_lines over Shopify's order editing: one edit per gateway reference.

An edit is orderEditBegin, then an orderEditSetQuantity per line set lower or higher and an
orderEditAddVariant per SKU with no line holding units (``edit_plan``), then orderEditCommit
whose staff note names the reference (``[gateway:<reference>]``). Shopify shows that note
with the "edited" entry of the order's timeline, which is where a repeat looks for it.

Idempotency. Begin, SetQuantity and AddVariant only stage a calculated order, so retrying
them is harmless and one left uncommitted changes nothing. The commit is sent once
(adapters.look_then_create): when its answer is lost, the next round reads the order's
"edited" entries for the reference before it starts a fresh edit, so an edit is never
applied twice. Quantities alone cannot tell a repeat from a second edit with the same
changes; the reference can.

Refused before anything is staged: a SKU that would fall below zero (or is not on the
order) and a SKU to add that has no product variant. Stock is not restocked (``restock``
false): the gateway's orders reach Shopify with inventory bypassed, and the units dropped
are the ones a picker did not find. The customer is not notified by Shopify; the gateway
tells them itself.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from adapters.look_then_create import look_then_create
from adapters.shopify import documents as doc
from adapters.shopify import wire
from adapters.shopify.edit_plan import (
    AddVariant,
    CannotRemove,
    EditLine,
    EditStep,
    SetQuantity,
    plan_edit,
    skus_to_add,
)
from adapters.shopify.wire import BACKEND
from gateway.domain.documents import OmsLineChange
from gateway.errors import BackendRejected, NotFound

Call = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]]
Mutate = Callable[..., Awaitable[dict[str, Any]]]
VariantIds = Callable[[Sequence[str]], Awaitable[dict[str, str]]]
_EVENT_TEXTS = ("message", "secondaryMessage", "additionalContent")


def staff_note(reference: str) -> str:
    return f"{wire.reference_marker(reference)} Lines changed by the commerce gateway"


class OrderEditor:
    def __init__(
        self, call: Call, mutate: Mutate, variant_ids: VariantIds, *, max_retries: int
    ) -> None:
        self._call = call
        self._mutate = mutate
        self._variant_ids = variant_ids
        self._max_retries = max_retries

    async def apply(self, order_id: str, changes: Sequence[OmsLineChange], reference: str) -> None:
        """The edit made unless the order's timeline shows it made already."""
        marker = wire.reference_marker(reference)
        lines: list[EditLine] = []

        async def look() -> bool | None:
            found, done = await self._state(order_id, marker)
            lines[:] = found
            return True if done else None

        async def create() -> bool:
            await self._edit(order_id, lines, changes, reference)
            return True

        await look_then_create(look, create, max_retries=self._max_retries)

    async def _state(self, order_id: str, marker: str) -> tuple[list[EditLine], bool]:
        """The order's lines, and whether an "edited" entry names ``marker``."""
        after: str | None = None
        lines: list[EditLine] | None = None
        while True:
            data = await self._call(doc.ORDER_EDIT_STATE, {"id": order_id, "after": after})
            raw = data.get("order")
            if not isinstance(raw, dict):
                raise NotFound(f"no Shopify order {order_id}", order_id=order_id)
            if lines is None:
                lines = _lines(raw.get("lineItems"), "currentQuantity", order_id)
            events = raw.get("events") or {}
            if any(_mentions(event, marker) for event in wire.nodes(events)):
                return lines, True
            page = events.get("pageInfo") or {}
            if not page.get("hasNextPage"):
                return lines, False
            after = page.get("endCursor")

    async def _edit(
        self,
        order_id: str,
        lines: Sequence[EditLine],
        changes: Sequence[OmsLineChange],
        reference: str,
    ) -> None:
        steps = _plan(lines, changes, order_id)
        if not steps:
            return  # the changes cancel out: nothing to edit
        wanted = skus_to_add(steps)
        variants = await self._variant_ids(wanted) if wanted else {}
        unknown = [sku for sku in wanted if sku not in variants]
        if unknown:
            raise BackendRejected(
                f"{BACKEND}: no product variant for SKU(s) {', '.join(unknown)}",
                backend=BACKEND,
                skus=unknown,
            )
        begun = await self._mutate(doc.ORDER_EDIT_BEGIN, {"id": order_id}, "orderEditBegin")
        calculated = begun.get("calculatedOrder") or {}
        edit_id = str(calculated["id"])
        staged = _lines(calculated.get("lineItems"), "quantity", order_id)
        for step in _plan(staged, changes, order_id):
            await self._stage(edit_id, step, variants)
        await self._mutate(
            doc.ORDER_EDIT_COMMIT,
            {"id": edit_id, "notifyCustomer": False, "staffNote": staff_note(reference)},
            "orderEditCommit",
            max_retries=0,
        )

    async def _stage(self, edit_id: str, step: EditStep, variants: dict[str, str]) -> None:
        match step:
            case SetQuantity(line_id, quantity):
                await self._mutate(
                    doc.ORDER_EDIT_SET_QUANTITY,
                    {"id": edit_id, "lineItemId": line_id, "quantity": quantity, "restock": False},
                    "orderEditSetQuantity",
                )
            case AddVariant(sku, quantity):
                await self._mutate(
                    doc.ORDER_EDIT_ADD_VARIANT,
                    {
                        "id": edit_id,
                        "variantId": variants[sku],
                        "quantity": quantity,
                        # A line left at 0 by an earlier edit may hold the same variant.
                        "allowDuplicates": True,
                    },
                    "orderEditAddVariant",
                )


def _plan(
    lines: Sequence[EditLine], changes: Sequence[OmsLineChange], order_id: str
) -> list[EditStep]:
    try:
        return plan_edit(lines, changes)
    except CannotRemove as refused:
        raise BackendRejected(
            f"{BACKEND}: {refused} (order {order_id})", backend=BACKEND, sku=refused.sku
        ) from refused


def _lines(connection: Any, quantity_field: str, order_id: str) -> list[EditLine]:
    if ((connection or {}).get("pageInfo") or {}).get("hasNextPage"):
        # Saying so beats editing from a partial picture of the order.
        raise BackendRejected(
            f"{BACKEND}: order {order_id} has more than 100 lines", backend=BACKEND
        )
    return [
        EditLine(
            id=str(node["id"]),
            sku=str(node.get("sku") or (node.get("variant") or {}).get("sku") or ""),
            quantity=int(node.get(quantity_field) or 0),
        )
        for node in wire.nodes(connection)
    ]


def _mentions(event: dict[str, Any], marker: str) -> bool:
    """Whether a timeline entry names ``marker``; where Shopify puts an edit's staff note
    within the entry is not documented, so every text it carries is searched."""
    for key in _EVENT_TEXTS:
        value = event.get(key)
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        if marker in text:
            return True
    return False
