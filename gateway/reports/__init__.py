"""Reports for people: pages rendered from figures the caller has gathered."""

from gateway.reports.weekly import (
    DailyFigure,
    KpiFigure,
    KpiUnit,
    OpenDiscrepancy,
    ReorderLine,
    WeeklyReport,
    format_kpi,
    iso_week,
    render,
)

__all__ = [
    "DailyFigure",
    "KpiFigure",
    "KpiUnit",
    "OpenDiscrepancy",
    "ReorderLine",
    "WeeklyReport",
    "format_kpi",
    "iso_week",
    "render",
]
