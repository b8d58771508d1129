"""Which order-edit steps move each SKU's quantity by its change: a pure function, so the
arithmetic is tested without a server.

A SKU that falls is set lower on the lines holding it, the newest line first
(orderEditSetQuantity; a line set to 0 stays on the order with nothing left). A SKU that
rises is set higher on its first line still holding units, or, with no such line, added as
a new line of its variant (orderEditAddVariant; a line left at 0 by an earlier edit is not
raised again, since a removed line's fate in a new edit is not documented). Changes to the
same SKU add up; a SKU whose changes cancel out takes no step.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from gateway.domain.documents import OmsLineChange


@dataclass(frozen=True, slots=True)
class EditLine:
    """A line of the order as the edit starts: a LineItem or a CalculatedLineItem."""

    id: str
    sku: str
    quantity: int  # currentQuantity of a LineItem; quantity of a CalculatedLineItem


@dataclass(frozen=True, slots=True)
class SetQuantity:
    line_id: str
    quantity: int


@dataclass(frozen=True, slots=True)
class AddVariant:
    sku: str
    quantity: int


EditStep = SetQuantity | AddVariant


class CannotRemove(ValueError):
    """More units of a SKU would leave the order than it holds."""

    def __init__(self, sku: str, held: int, asked: int) -> None:
        super().__init__(f"{asked} x {sku} cannot leave an order that holds {held}")
        self.sku = sku
        self.held = held
        self.asked = asked


def net_changes(changes: Sequence[OmsLineChange]) -> dict[str, int]:
    """Each SKU's summed change, in first-mentioned order, without those that cancel out."""
    summed: dict[str, int] = {}
    for change in changes:
        summed[change.sku] = summed.get(change.sku, 0) + change.delta
    return {sku: delta for sku, delta in summed.items() if delta}


def plan_edit(lines: Sequence[EditLine], changes: Sequence[OmsLineChange]) -> list[EditStep]:
    steps: list[EditStep] = []
    for sku, delta in net_changes(changes).items():
        holding = [line for line in lines if line.sku == sku and line.quantity > 0]
        if delta > 0:
            if holding:
                first = holding[0]
                steps.append(SetQuantity(first.id, first.quantity + delta))
            else:
                steps.append(AddVariant(sku, delta))
            continue
        held = sum(line.quantity for line in holding)
        if held < -delta:
            raise CannotRemove(sku, held, -delta)
        missing = -delta
        for line in reversed(holding):
            take = min(line.quantity, missing)
            steps.append(SetQuantity(line.id, line.quantity - take))
            missing -= take
            if not missing:
                break
    return steps


def skus_to_add(steps: Sequence[EditStep]) -> list[str]:
    return [step.sku for step in steps if isinstance(step, AddVariant)]
