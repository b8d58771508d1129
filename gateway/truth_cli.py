"""The stock-truth commands: ``commerce-gateway reconcile [--skus A B ...]`` (a progress bar
while it runs, a summary table at the end; the storefront pushes it owes are delivered
before it exits) and ``commerce-gateway check-ledger`` (holds and orders against what their
sources recorded). Tables and progress by rich.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from gateway.config import Settings
from gateway.truth.ledger_check import LedgerReport
from gateway.truth.reconciler import ReconcileReport
from gateway.worker import opened


async def reconcile(skus: Sequence[str] | None, console: Console | None = None) -> int:
    console = console or Console()
    settings = Settings()
    async with opened(settings) as (services, _):
        with Progress(
            TextColumn("reconciling"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("SKUs · {task.fields[found]} findings"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as progress:
            task = progress.add_task("reconcile", total=len(skus) if skus else None, found=0)

            def advance(report: ReconcileReport) -> None:
                progress.update(task, completed=report.skus, found=sum(report.findings.values()))

            report = await services.reconciler.run(skus, progress=advance)
        await services.worker.drain()
    console.print(summary(report))
    return 0


def summary(report: ReconcileReport) -> Table:
    table = Table(title=f"Reconciled {report.skus} SKUs in {report.seconds:.1f} s")
    table.add_column("What")
    table.add_column("How many", justify="right")
    for kind, count in sorted(report.findings.items()):
        table.add_row(f"found: {kind.value}", str(count))
    for label, value in (
        ("pages read", report.pages),
        ("discrepancies opened", report.opened),
        ("discrepancies changed", report.changed),
        ("closed (the sides agree again)", report.auto_resolved),
        ("storefront listings pushed the truth", report.pushed),
        ("changes seen since the last read", report.changes_seen),
    ):
        table.add_row(label, str(value))
    return table


async def check_ledger(console: Console | None = None) -> int:
    console = console or Console()
    async with opened(Settings()) as (services, _):
        with console.status("checking holds and orders against the sources"):
            report = await services.ledger_check.run()
    console.print(ledger_summary(report))
    return 0


def ledger_summary(report: LedgerReport) -> Table:
    table = Table(title="Ledger consistency")
    table.add_column("What")
    table.add_column("How many", justify="right")
    for label, value in (
        ("Sales Orders of live holds and orders checked", report.commitments),
        ("open Sales Orders at the ERP checked", report.sales_orders),
        ("holds and orders with store sales checked", report.store_owners),
        *((f"found: {rule}", n) for rule, n in sorted(report.findings.items())),
        ("LEDGER_INCONSISTENCY discrepancies opened", report.opened),
        ("closed (consistent again)", report.auto_resolved),
    ):
        table.add_row(label, str(value))
    return table
