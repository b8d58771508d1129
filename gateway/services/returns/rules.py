"""Returns, decided without I/O: what may come back, where it goes, what it refunds.

A return is opened for delivered units only (never more than was delivered less what is
already on a return). Each line gets a disposition from configurable rules and goes back to
the node that fulfilled it. Until the units arrive they show as incoming there; on receipt
RESTOCK units count as on hand (and are written to the node's source of truth: a Square
NONE -> IN_STOCK adjustment or an ERPNext Material Receipt), INSPECT units stay incoming and
unsellable, REFURBISH and DISPOSE units leave sellable stock for good.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gateway.domain import Money
from gateway.domain.documents import (
    WebOrderLine,
)
from gateway.domain.orders import (
    Disposition,
    ItemCondition,
    Order,
    OrderStatus,
    ReturnLine,
    ReturnReason,
)
from gateway.errors import BadUserInput, IllegalTransition
from gateway.services.orders.states import RETURNABLE
from gateway.services.orders.web_orders import refund_share


@dataclass(frozen=True, slots=True)
class DispositionRule:
    """Matches when the condition and the reason are each in its set (None = any)."""

    disposition: Disposition
    conditions: frozenset[ItemCondition] | None = None
    reasons: frozenset[ReturnReason] | None = None

    def matches(self, reason: ReturnReason, condition: ItemCondition) -> bool:
        return (self.conditions is None or condition in self.conditions) and (
            self.reasons is None or reason in self.reasons
        )


DEFAULT_RULES: tuple[DispositionRule, ...] = (
    DispositionRule(Disposition.DISPOSE, conditions=frozenset({ItemCondition.DAMAGED})),
    DispositionRule(Disposition.REFURBISH, conditions=frozenset({ItemCondition.DEFECTIVE})),
    DispositionRule(Disposition.REFURBISH, reasons=frozenset({ReturnReason.DEFECTIVE})),
    DispositionRule(Disposition.INSPECT, conditions=frozenset({ItemCondition.OPENED})),
    DispositionRule(
        Disposition.INSPECT,
        reasons=frozenset({ReturnReason.DAMAGED, ReturnReason.NOT_AS_DESCRIBED}),
    ),
    DispositionRule(Disposition.RESTOCK, conditions=frozenset({ItemCondition.NEW})),
)


def decide_disposition(
    reason: ReturnReason, condition: ItemCondition, rules: Iterable[DispositionRule]
) -> Disposition:
    """The first matching rule wins; nothing matching means a person should look at it."""
    for rule in rules:
        if rule.matches(reason, condition):
            return rule.disposition
    return Disposition.INSPECT


def parse_rules(raw: Sequence[Mapping[str, Any]]) -> tuple[DispositionRule, ...]:
    """Rules from settings: ``[{"disposition", "conditions"?: [...], "reasons"?: [...]}]``."""
    rules = []
    for entry in raw:
        conditions = entry.get("conditions")
        reasons = entry.get("reasons")
        rules.append(
            DispositionRule(
                Disposition(str(entry["disposition"])),
                None
                if conditions is None
                else frozenset(ItemCondition(str(c)) for c in conditions),
                None if reasons is None else frozenset(ReturnReason(str(r)) for r in reasons),
            )
        )
    return tuple(rules)


@dataclass(frozen=True, slots=True)
class ReturnLineRequest:
    sku: str
    quantity: int
    reason: ReturnReason
    condition: ItemCondition


def returnable(order: Order) -> dict[str, int]:
    remaining: dict[str, int] = {}
    for line in order.lines:
        remaining[line.sku] = remaining.get(line.sku, 0) + line.quantity - line.returned_quantity
    return remaining


def plan_return(
    order: Order,
    lines: Sequence[ReturnLineRequest],
    rules: Iterable[DispositionRule],
    fallback_location: str | None,
    web_lines: Mapping[int, WebOrderLine] | None = None,
) -> list[ReturnLine]:
    """The return's lines with their disposition, node and refund. A unit's refund is its
    line's unit price, or for a web order line whose WooCommerce figures are known
    (``web_lines``, by line item id) its share of what was paid for the line including tax
    (``web_orders.refund_share``), so a returned line is refunded exactly."""
    if order.status not in RETURNABLE:
        raise IllegalTransition(
            f"Order {order.id} is {order.status.value}; only delivered or collected orders "
            "can be returned",
            status=order.status.value,
        )
    if not lines:
        raise BadUserInput("at least one line is required", field="lines")
    left = returnable(order)
    node = {line.sku: line.location_id for line in order.lines}
    taken = [line.returned_quantity for line in order.lines]  # units already on returns
    rules = tuple(rules)
    planned: list[ReturnLine] = []
    for line in lines:
        if line.quantity <= 0:
            raise BadUserInput(f"quantity for {line.sku} must be at least 1", field="quantity")
        if line.sku not in left:
            raise BadUserInput(f"{line.sku} is not on order {order.id}", field="sku")
        if line.quantity > left[line.sku]:
            raise BadUserInput(
                f"{line.sku}: {line.quantity} asked, {left[line.sku]} can still be returned",
                field="quantity",
                returnable=left[line.sku],
            )
        left[line.sku] -= line.quantity
        location = node.get(line.sku) or fallback_location
        if location is None:
            raise BadUserInput(f"no node to return {line.sku} to; set RETURNS_LOCATION_ID")
        planned.append(
            ReturnLine(
                sku=line.sku,
                quantity=line.quantity,
                reason=line.reason,
                condition=line.condition,
                disposition=decide_disposition(line.reason, line.condition, rules),
                location_id=location,
                refund=_refund(order, line.sku, line.quantity, taken, web_lines or {}),
            )
        )
    return planned


def _refund(
    order: Order,
    sku: str,
    quantity: int,
    taken: list[int],
    web_lines: Mapping[int, WebOrderLine],
) -> Money:
    """Returned units of a SKU fill its order lines first to last (as the order's
    returned quantities do); ``taken`` counts, per order line, the units already claimed."""
    total = Money(order.total.amount * 0, order.total.currency)
    missing = quantity
    for index, line in enumerate(order.lines):
        if line.sku != sku or missing <= 0:
            continue
        units = min(missing, line.quantity - taken[index])
        if units <= 0:
            continue
        web = web_lines.get(line.web_line_id) if line.web_line_id is not None else None
        if web is not None and web.quantity == line.quantity:
            share = refund_share(web, taken[index], units)
        else:
            share = Money(line.unit_price.amount * units, line.unit_price.currency)
        total = Money(total.amount + share.amount, share.currency)
        taken[index] += units
        missing -= units
    return total


def status_after_receipt(order: Order, received: Mapping[str, int]) -> OrderStatus:
    """RETURNED once every unit of the order is back (``received``: units back per SKU, on
    every return received so far), else PARTIALLY_RETURNED. Only units that arrived count:
    a return still on its way keeps the order partly returned."""
    ordered: dict[str, int] = {}
    for line in order.lines:
        ordered[line.sku] = ordered.get(line.sku, 0) + line.quantity
    fully = all(received.get(sku, 0) >= quantity for sku, quantity in ordered.items())
    return OrderStatus.RETURNED if fully else OrderStatus.PARTIALLY_RETURNED
