"""Who is asking: every request is made by a principal (an API key a service holds, or a
staff member's JWT), with the roles that decide what it may read and do."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Role(StrEnum):
    STOREFRONT = "STOREFRONT"  # web shop, mobile app, BOPIS app: catalogue, promises, holds
    STORE_ASSOCIATE = "STORE_ASSOCIATE"  # one store's pickups and stock
    SUPPORT = "SUPPORT"  # orders and returns; customer data masked without pii:read
    OPS = "OPS"  # discrepancies, audit trail, deliveries, reconcile
    ADMIN = "ADMIN"  # keys and policy


class CredentialKind(StrEnum):
    API_KEY = "API_KEY"
    JWT = "JWT"


PII_READ = "pii:read"


@dataclass(frozen=True, slots=True)
class Principal:
    """``id`` names it in the audit trail ("key:web-eu", "jwt:https://idp/|agent-7");
    ``location_id`` is the store a STORE_ASSOCIATE works at; ``customer_email`` the
    customer a storefront's customer token speaks for (their own orders)."""

    id: str
    kind: CredentialKind
    roles: frozenset[Role]
    scopes: frozenset[str] = field(default_factory=frozenset)
    location_id: str | None = None
    customer_email: str | None = None

    def has(self, role: Role) -> bool:
        return role in self.roles

    @property
    def grants(self) -> str:
        """What decides the answers it may see, and nothing that names it: two principals
        with the same grants get the same answer to the same request."""
        return "|".join(
            [
                ",".join(sorted(self.roles)),
                ",".join(sorted(self.scopes)),
                self.location_id or "",
                self.customer_email or "",
            ]
        )


@dataclass(frozen=True, slots=True)
class StoredKey:
    """An API key as the gateway keeps it (gateway.auth.keys): the digest of its secret."""

    id: str
    name: str
    role: Role
    secret_hash: str
    created_at: datetime
    location_id: str | None = None
    revoked_at: datetime | None = None

    def principal(self) -> Principal:
        return Principal(
            f"key:{self.name}",
            CredentialKind.API_KEY,
            frozenset({self.role}),
            location_id=self.location_id,
        )
