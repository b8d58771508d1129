"""ADMIN's operations: API keys made, listed and revoked over GraphQL, as the
``commerce-gateway keys`` commands do (gateway.auth.admin). A key is shown once, when made."""

from __future__ import annotations

from datetime import datetime

import strawberry

from gateway.domain import principal as domain
from resolvers.context import GatewayContext
from resolvers.permissions import ADMIN, allow

Info = strawberry.Info[GatewayContext, None]
Role = strawberry.enum(domain.Role, description="What a caller may read and do.")


@strawberry.type(description="An API key as the gateway keeps it: never its secret.")
class ApiKey:
    id: strawberry.ID
    name: str
    role: Role  # type: ignore[valid-type]
    location_id: strawberry.ID | None
    created_at: datetime
    revoked_at: datetime | None

    @classmethod
    def from_domain(cls, key: domain.StoredKey) -> ApiKey:
        return cls(
            id=strawberry.ID(key.id),
            name=key.name,
            role=key.role,
            location_id=None if key.location_id is None else strawberry.ID(key.location_id),
            created_at=key.created_at,
            revoked_at=key.revoked_at,
        )


@strawberry.type
class CreatedApiKey:
    key: ApiKey
    secret: str = strawberry.field(
        description="The whole key (cgk_...), to send as Authorization: Bearer. Shown only "
        "now: the gateway keeps its digest alone."
    )


@strawberry.type
class AdminQuery:
    @strawberry.field(
        permission_classes=allow(ADMIN), description="Every API key, revoked ones too."
    )
    async def api_keys(self, info: Info) -> list[ApiKey] | None:
        return [ApiKey.from_domain(k) for k in await info.context.services.keys.listed()]


@strawberry.type
class AdminMutation:
    @strawberry.mutation(
        permission_classes=allow(ADMIN),
        description="Make an API key for a service. Names are unique, so a retry of the same "
        "request is refused rather than making a second key (the secret is shown once: a "
        "lost one is revoked and made again). A STORE_ASSOCIATE key names its store.",
    )
    async def create_api_key(
        self,
        info: Info,
        name: str,
        role: Role,  # type: ignore[valid-type]
        location_id: strawberry.ID | None = None,
    ) -> CreatedApiKey:
        stored, shown = await info.context.services.keys.create(
            name, domain.Role(role), None if location_id is None else str(location_id)
        )
        return CreatedApiKey(key=ApiKey.from_domain(stored), secret=shown)

    @strawberry.mutation(
        permission_classes=allow(ADMIN),
        description="Stop an API key (by name or id) on every process within "
        "AUTH__KEY_CACHE_SECONDS. Revoking a revoked key changes nothing.",
    )
    async def revoke_api_key(self, info: Info, name: str) -> ApiKey:
        return ApiKey.from_domain(await info.context.services.keys.revoke(name))
