"""What a confirmed storefront stock push does to the discrepancies it enforced: each one
whose listing now shows the truth closes (AUTO_RESOLVED); the others say why not."""

from __future__ import annotations

from datetime import datetime

from gateway.domain.outbox import SetWebStock, WebStockPushed
from gateway.ports import UnitOfWork
from gateway.truth import queue

GATEWAY = "gateway"


async def settle_pushed(
    uow: UnitOfWork, message: SetWebStock, pushed: WebStockPushed, now: datetime
) -> None:
    outcomes = {o.sku: o for o in pushed.items}
    wanted = {d: item for item in message.items for d in item.discrepancy_ids}
    changed = []
    for record in await uow.discrepancies.by_ids(list(wanted)):
        if not record.status.is_open:
            continue
        outcome = outcomes[wanted[record.id].sku]
        if outcome.outcome == "SET":
            note = f"set the storefront to {outcome.after} (it showed {outcome.before})"
            record = queue.agreed(
                queue.enforced(record, now, note), now, "the storefront shows the truth", GATEWAY
            )
        elif outcome.outcome == "SKIPPED":
            record = queue.enforced(
                record,
                now,
                f"not pushed: the listing changed to {outcome.before} since it was read; "
                "the next reconcile looks again",
            )
        elif outcome.outcome == "REFUSED":
            record = queue.enforced(record, now, f"WooCommerce refused it: {outcome.error}")
        else:
            record = queue.enforced(
                record, now, f"pushed, but the storefront reads back {outcome.after}"
            )
        changed.append(record)
    await uow.discrepancies.save(changed)
