"""Order-state governance: what each system says of an order, judged against the order's
canonical status (pure; the shell is gateway.governance.order_watch).

    a system reports                                 verdict
    a legal move forward (not WooCommerce's          FORWARD: applied, the others told
      "processing": only the gateway allocates)
    what the gateway itself wrote there              agrees (its own echo)
    nothing it can say about this status             agrees
    cancelled, while another reports the goods left  MISMATCH (two systems contradict)
    less than it must by now (below the floor)       MISMATCH (it went backwards or never
                                                       followed), unless writes to it are
                                                       still owed
    anything else                                    agrees

The floor is the least a system may still report once the order is there:

    canonical                          floor
    PLACED                             anything
    ALLOCATED, PICKING, READY_FOR_     ALLOCATED (OMS and ERP are not told of picking or
      PICKUP                             of ready for pickup)
    SHIPPED, DELIVERED, COLLECTED      SHIPPED (the OMS and the ERP know nothing of the
                                         carrier's delivery)
    CANCELLED                          CANCELLED
    PARTIALLY_RETURNED, RETURNED       anything (a return leaves each system's order as
                                         it was; the refund and the return documents say
                                         the rest)

WooCommerce is not told of an allocation (its pending, on-hold and processing are about
payment), so before the goods leave anything it says is below no floor.

A system with writes still owed to it for this order (pending, retrying, dead or blocked)
is judged once they are done: it is neither a mismatch nor agreeing meanwhile.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from gateway.domain import SourceSystem
from gateway.domain.orders import OrderStatus
from gateway.services.orders.reports import LEFT, StatusReport
from gateway.services.orders.states import PROGRESS, advance

S = OrderStatus

FLOOR: dict[OrderStatus, OrderStatus | None] = {
    S.PLACED: None,
    S.ALLOCATED: S.ALLOCATED,
    S.PICKING: S.ALLOCATED,
    S.READY_FOR_PICKUP: S.ALLOCATED,
    S.SHIPPED: S.SHIPPED,
    S.DELIVERED: S.SHIPPED,
    S.COLLECTED: S.SHIPPED,
    S.CANCELLED: S.CANCELLED,
    S.PARTIALLY_RETURNED: None,
    S.RETURNED: None,
}


@dataclass(frozen=True, slots=True)
class Mismatch:
    system: SourceSystem
    says: str  # in its own words
    why: str


@dataclass(frozen=True, slots=True)
class Verdict:
    forward: StatusReport | None  # the report to follow, if any
    target: OrderStatus | None
    mismatches: tuple[Mismatch, ...]
    agreeing: tuple[SourceSystem, ...]


def judge(
    status: OrderStatus,
    reports: Sequence[StatusReport],
    *,
    settling: Collection[SourceSystem] = (),
    echoes: Mapping[SourceSystem, Collection[str]] | None = None,
) -> Verdict:
    echoes = echoes or {}
    judged = [
        r
        for r in reports
        if r.source not in settling
        and r.reported is not None
        and r.raw not in echoes.get(r.source, ())
    ]
    quiet = [r.source for r in reports if r.source not in settling and r not in judged]
    left = [r for r in judged if r.reported in LEFT]
    mismatches: list[Mismatch] = []
    forward: StatusReport | None = None
    target: OrderStatus | None = None
    for report in judged:
        if report.reported is S.CANCELLED and left:
            others = ", ".join(f"{r.source.value} says {r.raw}" for r in left)
            mismatches.append(Mismatch(report.source, report.raw, f"cancelled there, but {others}"))
            continue
        if report.source is SourceSystem.STOREFRONT and report.reported is S.ALLOCATED:
            continue  # paid, says WooCommerce; where the units are is the gateway's to say
        moved = advance(status, report.reported)
        if moved is not None and (target is None or PROGRESS[moved] > PROGRESS[target]):
            forward, target = report, moved
    for report in judged:
        if report is forward or target is not None:
            continue  # moving on: the others are told by the move
        if any(m.system is report.source for m in mismatches):
            continue
        why = _below_floor(status, report)
        if why is not None:
            mismatches.append(Mismatch(report.source, report.raw, why))
    wrong = {m.system for m in mismatches}
    agreeing = tuple(dict.fromkeys([*quiet, *(r.source for r in judged if r.source not in wrong)]))
    return Verdict(forward, target, tuple(mismatches), agreeing)


# Where a system's floor differs from FLOOR.
_STOREFRONT_FLOOR = {S.ALLOCATED: None, S.PICKING: None, S.READY_FOR_PICKUP: None}


def _below_floor(status: OrderStatus, report: StatusReport) -> str | None:
    reported = report.reported
    assert reported is not None
    if reported is S.CANCELLED and status is not S.CANCELLED:
        return f"cancelled there, but the order is {status.value}"
    floor = FLOOR[status]
    if report.source is SourceSystem.STOREFRONT:
        floor = _STOREFRONT_FLOOR.get(status, floor)
    if floor is None:
        return None
    if floor is S.CANCELLED and reported is not S.CANCELLED:
        return f"still {reported.value} there, but the order is CANCELLED"
    if floor is not S.CANCELLED and PROGRESS[reported] < PROGRESS[floor]:
        return f"{reported.value} there, but the order is {status.value}"
    return None
