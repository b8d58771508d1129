"""Queries for operators: how the backends behind the gateway are doing."""

from __future__ import annotations

import strawberry

from resolvers.context import GatewayContext
from resolvers.permissions import ADMIN, OPS, allow
from resolvers.types.health import BackendHealth


@strawberry.type
class OperationsQuery:
    @strawberry.field(
        permission_classes=allow(OPS, ADMIN),
        description="Each backend's circuit breaker, last success and failure, error rate "
        "and p99 latency, as this gateway process's calls found them.",
    )
    def backend_health(self, info: strawberry.Info[GatewayContext, None]) -> list[BackendHealth]:
        return [BackendHealth.from_domain(h) for h in info.context.services.backend_health()]
