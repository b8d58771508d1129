"""A store's weekly page: its KPIs, daily charts, reorder suggestions and open discrepancies.

Pure rendering: the caller gathers the figures into a ``WeeklyReport``; ``render`` turns it
into one standalone HTML5 page (Jinja2, autoescaped) with two inline SVG charts (matplotlib,
imported only when a page is rendered, so the server never pays for it).

The output depends on the report alone: the SVG ids are salted with a fixed string per chart
and the SVG carries no creation date, so the same report renders to the same bytes.
"""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from typing import Literal, assert_never

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from gateway.domain.kpis import DailyFigure
from gateway.errors import BadUserInput

KpiUnit = Literal["share", "days", "hours", "ratio"]

# "2026-W49" or "2026W49"; [0-9], not \d, which also matches other scripts' digits.
_ISO_WEEK = re.compile(r"([0-9]{4})-?W([0-9]{2})")

# The ids matplotlib numbers its groups with (figure_1, axes_1, xtick_3...): nothing refers
# to them, and the two charts would repeat them on one page. The ids that are referred to
# (markers, clip paths) are hashes of the salt and the content, distinct per chart.
_SVG_GROUP_ID = re.compile(r' id="[A-Za-z0-9.]+_[0-9]+"')

_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")  # not %a: that follows the locale


def iso_week(text: str) -> tuple[date, date]:
    """The Monday and the Sunday of an ISO 8601 week written ``2026-W49`` or ``2026W49``."""
    match = _ISO_WEEK.fullmatch(text)
    if match is None:
        raise BadUserInput(f"{text!r} is not an ISO week such as 2026-W49", field="week")
    year, week = int(match[1]), int(match[2])
    try:
        monday = date.fromisocalendar(year, week, 1)
    except ValueError:
        # Week 00, week 54, week 53 of a 52-week year, year 0000.
        raise BadUserInput(f"{text!r} is not a week of the ISO calendar", field="week") from None
    return monday, monday + timedelta(days=6)


def _require_utc(name: str, moment: datetime) -> None:
    if moment.utcoffset() != timedelta(0):
        raise ValueError(f"{name} must be an aware UTC datetime, got {moment!r}")


@dataclass(frozen=True, slots=True)
class KpiFigure:
    key: str
    label: str
    value: Decimal | None  # None: nothing to measure (no sales is not 0 %)
    unit: KpiUnit
    definition: str


@dataclass(frozen=True, slots=True)
class ReorderLine:
    sku: str
    name: str
    available: int
    reorder_point: int
    order_quantity: int
    days_of_supply: Decimal | None  # None: no sales to measure it by


@dataclass(frozen=True, slots=True)
class OpenDiscrepancy:
    sku: str
    summary: str
    opened_at: datetime

    def __post_init__(self) -> None:
        _require_utc("opened_at", self.opened_at)


@dataclass(frozen=True, slots=True)
class WeeklyReport:
    location_id: str
    location_name: str
    week: str  # as "2026-W49"
    first_day: date
    last_day: date
    generated_at: datetime
    kpis: tuple[KpiFigure, ...]
    days: tuple[DailyFigure, ...]  # in date order
    reorder: tuple[ReorderLine, ...]  # shown in this order: the caller ranks and cuts
    discrepancies: tuple[OpenDiscrepancy, ...]

    def __post_init__(self) -> None:
        _require_utc("generated_at", self.generated_at)


def _quantized(value: Decimal, places: str) -> Decimal:
    return value.quantize(Decimal(places), rounding=ROUND_HALF_UP)


def format_kpi(figure: KpiFigure) -> str:
    """``5.1 %`` (share 0.0512), ``12.5 days``, ``3.25 h``, ``2.14`` (ratio); ``n/a`` for None."""
    value = figure.value
    if value is None or not value.is_finite():
        return "n/a"
    match figure.unit:
        case "share":
            return f"{_quantized(value * 100, '0.1')} %"
        case "days":
            return f"{_quantized(value, '0.1')} days"
        case "hours":
            return f"{_quantized(value, '0.01')} h"
        case "ratio":
            return f"{_quantized(value, '0.01')}"
        case _:
            assert_never(figure.unit)


def _format_days(value: Decimal | None) -> str:
    return format_kpi(KpiFigure("", "", value, "days", ""))


def _format_utc(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


@cache
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("gateway.reports"),
        # The template is named *.html.j2: the default list (html, htm, xml) would not match
        # it and would leave every value unescaped.
        autoescape=select_autoescape(enabled_extensions=("html", "html.j2")),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["kpi"] = format_kpi
    env.filters["days_of_supply"] = _format_days
    env.filters["utc"] = _format_utc
    return env


# rc_context changes matplotlib's process-wide settings for the time of a chart.
_CHART_LOCK = threading.Lock()


def _chart_svg(
    days: Sequence[DailyFigure], values: Sequence[int], *, kind: Literal["bar", "line"], salt: str
) -> str:
    """One small chart of a figure per day, as an ``<svg>`` element to inline in the page."""
    import matplotlib
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    # A literal in the call, so the type checker matches the keys against matplotlib's names.
    settings = matplotlib.rc_context(
        {
            # Ids from a fixed salt, not a random one: the same chart gives the same markup.
            # One salt per chart keeps the two charts' ids apart on the page.
            "svg.hashsalt": salt,
            # Text stays text (selectable, smaller) rather than glyph paths.
            "svg.fonttype": "none",
            "font.size": 9,
        }
    )
    with _CHART_LOCK, settings:
        fig = Figure(figsize=(6.4, 2.2), layout="constrained")
        ax = fig.add_subplot()
        positions = range(len(days))
        if kind == "bar":
            bars = ax.bar(positions, values, color="#4a6fa5", width=0.6)
            ax.bar_label(bars, padding=2)
        else:
            ax.plot(positions, values, color="#b5473a", marker="o", clip_on=False)
        ax.set_xticks(list(positions), [f"{_WEEKDAYS[d.day.weekday()]} {d.day.day}" for d in days])
        ax.set_ylim(0, max([*values, 1]) * 1.2)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.spines[["top", "right"]].set_visible(False)
        buf = io.StringIO()
        # No Date in the SVG's metadata: it would change the page on every run.
        fig.savefig(buf, format="svg", metadata={"Date": None})
    svg = buf.getvalue()
    # Drop the XML prolog and DOCTYPE: inside HTML the <svg> element stands alone.
    return _SVG_GROUP_ID.sub("", svg[svg.index("<svg") :])


def render(report: WeeklyReport) -> str:
    """The report as one standalone HTML5 page."""
    charts = None
    if report.days:
        charts = {
            "units_sold": _chart_svg(
                report.days,
                [d.units_sold for d in report.days],
                kind="bar",
                salt="weekly-units-sold",
            ),
            "out_of_stock": _chart_svg(
                report.days,
                [d.skus_out_of_stock for d in report.days],
                kind="line",
                salt="weekly-out-of-stock",
            ),
        }
    template = _environment().get_template("weekly.html.j2")
    return template.render(report=report, charts=charts)
