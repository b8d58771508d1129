"""Shared GraphQL types: money, inputs, enums registered from the domain, page info."""

from __future__ import annotations

from decimal import Decimal

import strawberry

from gateway import domain

Channel = strawberry.enum(domain.Channel, description="Where the customer gets the goods.")
NodeType = strawberry.enum(domain.NodeType)
Capability = strawberry.enum(domain.Capability)
StockStatus = strawberry.enum(domain.StockStatus)
SourceSystem = strawberry.enum(
    domain.SourceSystem, description="The system a figure or field came from."
)


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
