"""Returns of many orders load in a fixed number of queries (the support console lists a
page of orders with their returns)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import event

from gateway.domain import Channel, Money
from gateway.domain.orders import (
    Disposition,
    ItemCondition,
    Order,
    OrderLine,
    OrderOrigin,
    OrderStatus,
    ReturnLine,
    ReturnReason,
    ReturnRequest,
    ReturnStatus,
)

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def eur(amount: str) -> Money:
    return Money(Decimal(amount), "EUR")


async def test_given_ten_orders_with_returns_then_they_load_in_three_queries(world):
    async with world.uow() as uow:
        for n in range(10):
            order = Order(
                id=f"ord-{n}",
                origin=OrderOrigin.GATEWAY,
                channel=Channel.PICKUP,
                status=OrderStatus.COLLECTED,
                customer_email="kim@example.com",
                customer_name="Kim",
                total=eur("129.00"),
                lines=(OrderLine("SHOE-42", 1, eur("129.00"), "ST-MITTE"),),
                created_at=NOW,
                updated_at=NOW,
            )
            await uow.orders.add(order)
            for r in range(2):
                await uow.returns.add(
                    ReturnRequest(
                        id=f"ret-{n}-{r}",
                        order_id=order.id,
                        status=ReturnStatus.OPEN,
                        lines=(
                            ReturnLine(
                                "SHOE-42",
                                1,
                                ReturnReason.SIZE_OR_FIT,
                                ItemCondition.NEW,
                                Disposition.RESTOCK,
                                "ST-MITTE",
                                eur("129.00"),
                            ),
                        ),
                        refund_total=eur("129.00"),
                        created_at=NOW,
                        updated_at=NOW,
                    ),
                )
        await uow.commit()

    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    event.listen(world.db.engine.sync_engine, "before_cursor_execute", count)
    try:
        found = await world.services.returns.of_orders([f"ord-{n}" for n in range(10)])
    finally:
        event.remove(world.db.engine.sync_engine, "before_cursor_execute", count)

    assert [len(found[f"ord-{n}"]) for n in range(10)] == [2] * 10
    assert found["ord-3"][1].id == "ret-3-1"
    assert found["ord-3"][1].refund_total == eur("129.00")
    assert len(statements) == 3
