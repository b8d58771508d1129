from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry

from gateway.domain import Money as DomainMoney
from gateway.domain import cycle_counts as domain
from gateway.domain.cycle_counts import AbcClass, CountOutcome
from gateway.services.cycle_counts import PlannedCount
from resolvers.types.common import Money

strawberry.enum(
    AbcClass,
    description="A: the SKUs moving the first 80 % of a node's value, B the next 15 %, C the "
    "rest (CYCLE_COUNTS__A_SHARE, __B_SHARE).",
)


@strawberry.type(description="A SKU to count on the day asked, and why it is due.")
class CountPlanEntry:
    sku: str
    abc_class: AbcClass
    moved_value: Decimal = strawberry.field(
        description="The value of the units the node's source recorded leaving over the "
        "replenishment window, at the ERP's cost: what ranks it."
    )

    @classmethod
    def from_domain(cls, planned: PlannedCount) -> CountPlanEntry:
        return cls(sku=planned.sku, abc_class=planned.abc, moved_value=planned.moved_value)


strawberry.enum(
    CountOutcome,
    description="What a counted line did: MATCHED the book at the count's time (nothing "
    "written), CORRECTED (the source moved by the variance, movements after the count kept), "
    "or SUPERSEDED (the source recorded a later count, which stands).",
)


@strawberry.input(description="One SKU as counted on the shelf.")
class CountLineInput:
    sku: str
    counted: int = strawberry.field(description="Whole units found; not negative.")


@strawberry.type(description="One SKU of a recorded count.")
class CountedLine:
    sku: str
    counted: int
    outcome: CountOutcome
    book_at_count: int | None = strawberry.field(
        description="The source's figure when the count was taken: today's less what it "
        "recorded moving since (none when a later count stands)."
    )
    variance: int | None = strawberry.field(
        description="Counted less the book: below zero is shrink, above a gain."
    )
    corrected_to: int | None = strawberry.field(
        description="The source's figure once the correction lands, as of recording."
    )
    value: Money | None = strawberry.field(
        description="The variance at the ERP's cost (negative: value lost)."
    )
    discrepancy_id: strawberry.ID | None = strawberry.field(
        description="The COUNT_VARIANCE opened or updated for a variance over "
        "CYCLE_COUNTS__DISCREPANCY_UNITS or __DISCREPANCY_VALUE."
    )

    @classmethod
    def from_domain(cls, line: domain.CountedLine) -> CountedLine:
        reckoning = line.reckoning
        value = line.value
        return cls(
            sku=line.sku,
            counted=line.counted,
            outcome=reckoning.outcome,
            book_at_count=reckoning.book_at_count,
            variance=reckoning.variance,
            corrected_to=reckoning.corrected_to,
            value=(
                None
                if value is None or line.unit_cost is None
                else Money.of(DomainMoney(value, line.unit_cost.currency))
            ),
            discrepancy_id=(
                None if line.discrepancy_id is None else strawberry.ID(line.discrepancy_id)
            ),
        )


@strawberry.type(description="A cycle count as recorded.")
class CycleCount:
    id: strawberry.ID
    location_id: strawberry.ID
    counted_at: datetime
    counted_by: str
    recorded_at: datetime
    lines: list[CountedLine]

    @classmethod
    def from_domain(cls, count: domain.RecordedCount) -> CycleCount:
        return cls(
            id=strawberry.ID(count.id),
            location_id=strawberry.ID(count.location_id),
            counted_at=count.counted_at,
            counted_by=count.counted_by,
            recorded_at=count.recorded_at,
            lines=[CountedLine.from_domain(line) for line in count.lines],
        )
