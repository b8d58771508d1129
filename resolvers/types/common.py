"""Shared GraphQL types: money, inputs, enums registered from the domain, page info."""

from __future__ import annotations

from decimal import Decimal

import strawberry

from gateway import domain

# strawberry.enum registers a domain enum as it is (it returns the same class), so fields
# are annotated with the domain type itself and type checkers follow them.
Channel = domain.Channel
strawberry.enum(Channel, description="Where the customer gets the goods.")
NodeType = domain.NodeType
strawberry.enum(NodeType)
Capability = domain.Capability
strawberry.enum(Capability)
StockStatus = domain.StockStatus
strawberry.enum(StockStatus)
SourceSystem = domain.SourceSystem
strawberry.enum(SourceSystem, description="The system a figure or field came from.")


@strawberry.type(description="An amount of money: exact decimal plus integer minor units.")
class Money:
    amount: Decimal
    currency: str
    minor_units: int

    @classmethod
    def from_domain(cls, money: domain.Money | None) -> Money | None:
        return None if money is None else cls.of(money)

    @classmethod
    def of(cls, money: domain.Money) -> Money:
        return cls(amount=money.amount, currency=money.currency, minor_units=money.to_minor())


@strawberry.input(description="A point and an optional radius in kilometres.")
class NearInput:
    lat: float
    lng: float
    radius_km: float | None = None


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None

    @classmethod
    def of_offsets(
        cls, cursors: list[str], start_offset: int, has_next_page: bool, end_cursor: str
    ) -> PageInfo:
        """A page of a list read by offset: its edges' cursors, where it began and ended."""
        return cls(
            has_next_page=has_next_page,
            has_previous_page=start_offset > 0,
            start_cursor=cursors[0] if cursors else None,
            end_cursor=end_cursor,
        )
