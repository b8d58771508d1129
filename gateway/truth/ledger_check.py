"""Ledger consistency: the gateway's holds and orders against what their sources recorded,
as Magento MSI's ``inventory:reservation:list-inconsistencies`` /
``create-compensations`` do. ``commerce-gateway check-ledger`` runs it.

    finding                                                  compensating write proposed
    a live hold or order whose Sales Order the ERP no        submit it again (a new po_no)
      longer holds (cancelled at the ERP)
    a Sales Order the ERP still holds for a hold or order    cancel it
      the gateway released (or never made)
    a store restocked more of a hold or order than was       (none: flagged for a person)
      sold there (a compensation applied twice)

Each finding is a LEDGER_INCONSISTENCY discrepancy at its (SKU, node), owned like any
other; ``resolveDiscrepancy(..., resolution: COMPENSATE)`` puts the proposed writes in the
outbox.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from gateway.config import TruthSettings
from gateway.domain import Location, SourceSystem
from gateway.domain.documents import SalesOrder
from gateway.domain.outbox import (
    CancelSalesOrder,
    OutboxMessage,
    RecordRestock,
    RecordSale,
    SubmitSalesOrder,
)
from gateway.domain.truth import (
    Discrepancy,
    DiscrepancyKey,
    DiscrepancyKind,
    DiscrepancyStatus,
    Figure,
    Finding,
)
from gateway.ports import Clock, ErpOrdersPort, UnitOfWork, UnitOfWorkFactory
from gateway.ports.storage import DiscrepancyFilter
from gateway.truth import queue
from gateway.truth.reconciler import new_discrepancy_id
from gateway.truth.rules import kind_severity

K = DiscrepancyKind.LEDGER_INCONSISTENCY
PAGE = 100
GATEWAY_REFERENCES = ("res_", "ord_")  # po_no of a Sales Order the gateway wrote


@dataclass
class LedgerReport:
    commitments: int = 0  # Sales Orders the gateway confirmed, checked against the ERP
    sales_orders: int = 0  # open Sales Orders of the gateway's customer, checked
    store_owners: int = 0  # holds and orders with store sales or restocks, checked
    findings: Counter[str] = field(default_factory=Counter)
    opened: int = 0
    auto_resolved: int = 0


@dataclass(frozen=True, slots=True)
class Commitment:
    message: SubmitSalesOrder
    name: str  # the Sales Order it made


class LedgerCheck:
    def __init__(
        self,
        unit_of_work: UnitOfWorkFactory,
        erp: ErpOrdersPort,
        locations: Callable[[], Awaitable[Sequence[Location]]],
        clock: Clock,
        policy: TruthSettings,
        erp_customer: str,
    ) -> None:
        self._uow = unit_of_work
        self._erp = erp
        self._locations = locations
        self._clock = clock
        self._policy = policy
        self._customer = erp_customer

    async def run(self) -> LedgerReport:
        report = LedgerReport()
        async with self._uow() as uow:
            # The last Sales Order written for each hold at each node: an earlier one a
            # compensation replaced is history.
            latest: dict[tuple[str, str], Commitment] = {}
            submitted = await uow.outbox.delivered("erp.submit_sales_order")
            for d, result in sorted(submitted, key=lambda pair: pair[0].id):
                if isinstance(d.message, SubmitSalesOrder):
                    owner = (d.message.hold_reference, d.message.location_id)
                    latest[owner] = Commitment(d.message, str(result.get("name", "")))
            commitments = list(latest.values())
            sold = await uow.outbox.delivered("pos.record_sale")
            put_back = await uow.outbox.delivered("pos.record_restock")
            sales = [d.message for d, _ in sold if isinstance(d.message, RecordSale)]
            restocks = [d.message for d, _ in put_back if isinstance(d.message, RecordRestock)]
            owners = {c.message.hold_reference for c in commitments} | {
                s.hold_reference for s in sales
            }
            live = await uow.reservations.live_owners(sorted(owners))
        open_orders = await self._open_sales_orders()
        nodes = {loc.source_ref: loc for loc in await self._locations()}
        findings: list[Finding] = []
        findings += await self._held_but_not_reserved(commitments, live, open_orders, nodes, report)
        findings += self._reserved_but_released(commitments, live, open_orders, nodes, report)
        findings += self._restocked_twice(sales, restocks, nodes, report)
        report.findings.update(f.rule.split(":", 1)[0] for f in findings)
        await self._settle(findings, report)
        return report

    async def _open_sales_orders(self) -> dict[str, SalesOrder]:
        found: dict[str, SalesOrder] = {}
        offset = 0
        while True:
            page = await self._erp.open_sales_orders(self._customer, offset=offset, limit=PAGE)
            found.update((so.name, so) for so in page)
            if len(page) < PAGE:
                return found
            offset += PAGE

    async def _held_but_not_reserved(
        self,
        commitments: Sequence[Commitment],
        live: set[str],
        open_orders: Mapping[str, SalesOrder],
        nodes: Mapping[str, Location],
        report: LedgerReport,
    ) -> list[Finding]:
        findings = []
        for commitment in commitments:
            message = commitment.message
            if message.hold_reference not in live:
                continue
            report.commitments += 1
            if commitment.name in open_orders:
                continue
            current = await self._erp.sales_order(commitment.name)
            if current is not None and current.docstatus == 1:
                continue  # completed or closed: delivered, as a live order may be
            state = "gone" if current is None else current.status
            again = f"{message.reference}:again"
            proposal = SubmitSalesOrder(
                # Its own ordering key: nothing dead-lettered for the hold may hold it back.
                ordering_key=f"ledger:{again}",
                reference=again,
                draft=replace(message.draft, reference=again),
                location_id=message.location_id,
                hold_reference=message.hold_reference,
            )
            for line in message.draft.lines:
                findings.append(
                    self._finding(
                        line.sku,
                        message.location_id,
                        SourceSystem.ERP,
                        truth=f"{line.quantity} held for {message.hold_reference}",
                        copy=f"Sales Order {commitment.name} {state}: nothing reserved",
                        rule=f"held but not reserved: the gateway holds {line.quantity} x "
                        f"{line.sku} for {message.hold_reference}, whose Sales Order "
                        f"{commitment.name} the ERP no longer holds ({state})",
                        proposal=(proposal,),
                        node=nodes.get(line.warehouse),
                    )
                )
        return findings

    def _reserved_but_released(
        self,
        commitments: Sequence[Commitment],
        live: set[str],
        open_orders: Mapping[str, SalesOrder],
        nodes: Mapping[str, Location],
        report: LedgerReport,
    ) -> list[Finding]:
        by_name = {c.name: c for c in commitments}
        findings = []
        for so in open_orders.values():
            report.sales_orders += 1
            reference = so.reference or ""
            if not reference.startswith(GATEWAY_REFERENCES):
                continue  # not one of the gateway's (the ERP's own web connector, say)
            commitment = by_name.get(so.name)
            owner = None if commitment is None else commitment.message.hold_reference
            if owner is not None and owner in live:
                continue
            proposal = (
                CancelSalesOrder(
                    # Its own ordering key: the dead cancel that left it open must not block it.
                    ordering_key=f"ledger:{so.name}",
                    reference=f"{so.name}:ledger-cancel",
                    submit_reference=reference,
                    sales_order=so.name,
                ),
            )
            why = "released" if owner is not None else "does not know"
            lines = [] if commitment is None else list(commitment.message.draft.lines)
            targets = [(line.sku, line.warehouse, line.quantity) for line in lines] or [("", "", 0)]
            for sku, warehouse, quantity in targets:
                node = nodes.get(warehouse)
                findings.append(
                    self._finding(
                        sku,
                        node.id if node else so.name,
                        SourceSystem.ERP,
                        truth=f"nothing held for {reference}",
                        copy=f"Sales Order {so.name} ({so.status}) reserves "
                        + (f"{quantity} x {sku}" if sku else "stock"),
                        rule=f"reserved but released: the ERP still reserves for {reference} "
                        f"(Sales Order {so.name}), which the gateway {why}",
                        proposal=proposal,
                        node=node,
                    )
                )
        return findings

    def _restocked_twice(
        self,
        sales: Sequence[RecordSale],
        restocks: Sequence[RecordRestock],
        nodes: Mapping[str, Location],
        report: LedgerReport,
    ) -> list[Finding]:
        sold: dict[tuple[str, str, str], int] = defaultdict(int)
        for sale in sales:
            sold[(sale.hold_reference, sale.sku, sale.location_id)] += sale.quantity
        back: dict[tuple[str, str, str], int] = defaultdict(int)
        for restock in restocks:
            if restock.return_line_id is None:  # a sale undone, not a returned unit
                back[(restock.ordering_key, restock.sku, restock.location_id)] += restock.quantity
        report.store_owners += len({owner for owner, _, _ in sold})
        findings = []
        for (owner, sku, location_id), units in back.items():
            excess = units - sold.get((owner, sku, location_id), 0)
            if excess <= 0:
                continue
            findings.append(
                self._finding(
                    sku,
                    location_id,
                    SourceSystem.POS,
                    truth=f"{sold.get((owner, sku, location_id), 0)} sold for {owner}",
                    copy=f"{units} put back for {owner}",
                    rule=f"restocked twice: {excess} x {sku} more put back at {location_id} "
                    f"for {owner} than were sold there",
                    proposal=(),
                    node=None,
                )
            )
        return findings

    def _finding(
        self,
        sku: str,
        location_id: str,
        system: SourceSystem,
        *,
        truth: str,
        copy: str,
        rule: str,
        proposal: tuple[OutboxMessage, ...],
        node: Location | None,
    ) -> Finding:
        return Finding(
            DiscrepancyKey(K, sku, location_id, system),
            Figure(SourceSystem.GATEWAY, truth, self._clock.now()),
            Figure(system, copy, self._clock.now()),
            kind_severity(K, self._policy),
            rule,
            location_type=None if node is None else node.type.value,
            proposal=proposal,
        )

    async def _settle(self, findings: Sequence[Finding], report: LedgerReport) -> None:
        now = self._clock.now()
        async with self._uow() as uow:
            # Every open ledger record is checked again: one no longer found closes.
            records = await self._open_ledger_records(uow)
            skus = sorted({f.key.sku for f in findings})
            for key, record in (await uow.discrepancies.of_skus(skus)).items():
                if key.kind is K:
                    records.setdefault(key, record)
            checked = {f.key for f in findings} | {
                key for key, r in records.items() if r.status.is_open
            }
            settled = queue.settle(
                findings, checked, records, now, self._policy, new_discrepancy_id
            )
            await uow.discrepancies.add(settled.new)
            await uow.discrepancies.save(settled.changed)
            await uow.commit()
        report.opened = len(settled.new)
        report.auto_resolved = sum(1 for r in settled.changed if not r.status.is_open)

    async def _open_ledger_records(self, uow: UnitOfWork) -> dict[DiscrepancyKey, Discrepancy]:
        records: dict[DiscrepancyKey, Discrepancy] = {}
        after = None
        where = DiscrepancyFilter(
            status=[DiscrepancyStatus.OPEN, DiscrepancyStatus.ACKNOWLEDGED], kind=K
        )
        while True:
            page, more = await uow.discrepancies.page(where, first=100, after=after)
            records.update((r.key, r) for r in page)
            if not more:
                return records
            after = (page[-1].due_at, page[-1].id)
