from __future__ import annotations

from decimal import Decimal

import strawberry

from gateway.domain.cycle_counts import AbcClass
from gateway.services.cycle_counts import PlannedCount

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
