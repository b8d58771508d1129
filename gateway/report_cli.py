"""``commerce-gateway report --location ST-… --week 2026-W49 [--output page.html]``: a store's
weekly page (gateway.services.weekly_report gathers it, gateway.reports renders it), written
to a file; the path is printed."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from gateway.config import Settings
from gateway.errors import BadUserInput, NotFound
from gateway.reports import render
from gateway.worker import opened


async def weekly(
    location_id: str,
    week: str,
    output: Path | None,
    console: Console | None = None,
    settings: Settings | None = None,
) -> int:
    console = console or Console(stderr=True)
    async with opened(settings or Settings()) as (services, _):
        try:
            report = await services.weekly_reports.of(location_id, week)
        except (BadUserInput, NotFound) as error:
            console.print(f"[red]{error}[/red]")
            return 2
    path = output or Path(f"report-{report.location_id}-{report.week}.html")
    path.write_text(render(report), encoding="utf-8")
    console.print(f"wrote {path}")
    return 0
