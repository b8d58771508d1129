"""``commerce-gateway keys create|list|revoke``: API keys for the services that call the
gateway (storefront, mobile app, BOPIS app, POS kiosks). A key is printed once, when made."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from gateway.config import Settings
from gateway.domain.principal import Role
from gateway.errors import GatewayError
from gateway.worker import opened


async def create(name: str, role: str, location_id: str | None, console: Console) -> int:
    async with opened(Settings()) as (services, _):
        try:
            stored, shown = await services.keys.create(name, Role(role.upper()), location_id)
        except GatewayError as refused:
            console.print(f"[red]{refused}[/red]")
            return 2
    where = f" at {stored.location_id}" if stored.location_id else ""
    console.print(f"API key {stored.name!r} ({stored.role.value}{where}), shown only now:")
    # Plain print: the key must survive copying from any terminal, with no markup or wrap.
    print(shown)
    return 0


async def revoke(name_or_id: str, console: Console) -> int:
    async with opened(Settings()) as (services, _):
        try:
            revoked = await services.keys.revoke(name_or_id)
        except GatewayError as refused:
            console.print(f"[red]{refused}[/red]")
            return 2
    console.print(f"API key {revoked.name!r} revoked at {revoked.revoked_at:%Y-%m-%d %H:%M:%S} UTC")
    return 0


async def listed(console: Console) -> int:
    async with opened(Settings()) as (services, _):
        keys = await services.keys.listed()
    table = Table("name", "id", "role", "store", "created", "revoked")
    for key in keys:
        table.add_row(
            key.name,
            key.id,
            key.role.value,
            key.location_id or "",
            f"{key.created_at:%Y-%m-%d %H:%M}",
            "" if key.revoked_at is None else f"{key.revoked_at:%Y-%m-%d %H:%M}",
        )
    console.print(table)
    return 0
