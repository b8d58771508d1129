from __future__ import annotations

import subprocess
import sys
from collections import Counter
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from html.parser import HTMLParser

import pytest

from gateway.errors import BadUserInput
from gateway.reports import (
    DailyFigure,
    KpiFigure,
    OpenDiscrepancy,
    ReorderLine,
    WeeklyReport,
    format_kpi,
    iso_week,
    render,
)

# --- iso_week ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "monday", "sunday"),
    [
        ("2026-W49", date(2026, 11, 30), date(2026, 12, 6)),
        ("2026W49", date(2026, 11, 30), date(2026, 12, 6)),
        # Week 1 is the week holding the year's first Thursday: it starts in December.
        ("2026-W01", date(2025, 12, 29), date(2026, 1, 4)),
        # 2020 began on a Wednesday in a leap year: it has 53 weeks, the last ending in 2021.
        ("2020-W53", date(2020, 12, 28), date(2021, 1, 3)),
        # 2026 begins on a Thursday: it has 53 weeks too.
        ("2026-W53", date(2026, 12, 28), date(2027, 1, 3)),
    ],
)
def test_given_an_iso_week_when_parsed_then_its_monday_and_sunday(text, monday, sunday):
    assert iso_week(text) == (monday, sunday)


@pytest.mark.parametrize(
    "text",
    [
        "2026-W00",
        "2026-W54",
        "2025-W53",  # 2025 has 52 weeks
        "2027-W53",  # so has 2027
        "2026-W4",
        "2026-W049",
        "2026-49",
        "2026-w49",
        " 2026-W49",
        "2026-W49-1",
        "26-W49",
        "0000-W01",
        "\uff12\uff10\uff12\uff16-W49",  # fullwidth digits, which \d would take
        "",
        "last week",
    ],
)
def test_given_anything_but_an_iso_week_then_refused_as_bad_week_input(text):
    with pytest.raises(BadUserInput) as err:
        iso_week(text)
    assert err.value.code == "BAD_USER_INPUT"
    assert err.value.details == {"field": "week"}


# --- format_kpi ----------------------------------------------------------------------------------


def kpi(value: str | None, unit, key: str = "k") -> KpiFigure:
    return KpiFigure(
        key=key,
        label=key,
        value=None if value is None else Decimal(value),
        unit=unit,
        definition="",
    )


@pytest.mark.parametrize(
    ("value", "unit", "shown"),
    [
        ("0.0512", "share", "5.1 %"),
        ("0.00055", "share", "0.1 %"),  # half up, not to even
        ("0.00045", "share", "0.0 %"),
        ("0", "share", "0.0 %"),
        ("1", "share", "100.0 %"),
        ("12.5", "days", "12.5 days"),
        ("12.25", "days", "12.3 days"),
        ("7", "days", "7.0 days"),
        ("3.25", "hours", "3.25 h"),
        ("3.125", "hours", "3.13 h"),
        ("2.135", "ratio", "2.14"),
        ("2", "ratio", "2.00"),
        (None, "share", "n/a"),
        (None, "days", "n/a"),
        (None, "hours", "n/a"),
        (None, "ratio", "n/a"),
    ],
)
def test_given_a_kpi_when_formatted_then_shown_in_its_unit(value, unit, shown):
    assert format_kpi(kpi(value, unit)) == shown


# --- render --------------------------------------------------------------------------------------


class PageReader(HTMLParser):
    """Each section's table as rows of cell texts, the tags met, every id, the text of .empty."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.ids: list[str] = []
        self.tables: dict[str, list[list[str]]] = {}
        self.empty_notes: dict[str, str] = {}
        self.title = ""
        self._section: str | None = None
        self._in_tbody = False
        self._cell: list[str] | None = None
        self._note: list[str] | None = None
        self._in_title = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.tags.append(tag)
        if "id" in attributes:
            self.ids.append(attributes["id"])
        if tag == "section":
            self._section = attributes["id"]
        elif tag == "tbody":
            self._in_tbody = True
            self.tables[self._section] = []
        elif tag == "tr" and self._in_tbody:
            self.tables[self._section].append([])
        elif tag in ("td", "th") and self._in_tbody:
            self._cell = []
        elif tag == "p" and attributes.get("class") == "empty":
            self._note = []
        elif tag == "title":
            self._in_title = True

    def handle_endtag(self, tag):
        if tag == "tbody":
            self._in_tbody = False
        elif tag in ("td", "th") and self._cell is not None:
            self.tables[self._section][-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "p" and self._note is not None:
            self.empty_notes[self._section] = "".join(self._note).strip()
            self._note = None
        elif tag == "title":
            self._in_title = False

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        if self._note is not None:
            self._note.append(data)
        if self._in_title:
            self.title += data


def read(page: str) -> PageReader:
    reader = PageReader()
    reader.feed(page)
    reader.close()
    return reader


HOSTILE = '<script>alert("x")</script>'


def weekly_report(**changes) -> WeeklyReport:
    monday, sunday = iso_week("2026-W49")
    fields = dict(
        location_id="ST-0042",
        location_name="Harbour Street",
        week="2026-W49",
        first_day=monday,
        last_day=sunday,
        generated_at=datetime(2026, 12, 7, 6, 30, tzinfo=UTC),
        kpis=(
            KpiFigure(
                "stockout_rate",
                "Stock-out rate",
                Decimal("0.0512"),
                "share",
                "Share of SKU-days with nothing on hand.",
            ),
            KpiFigure(
                "days_of_supply",
                "Days of supply",
                Decimal("12.5"),
                "days",
                "On hand divided by average daily sales.",
            ),
            KpiFigure(
                "fill_time",
                "Replenishment lead time",
                Decimal("3.25"),
                "hours",
                "Order to shelf, median.",
            ),
            KpiFigure(
                "sell_through", "Sell-through", None, "share", "Units sold over units received."
            ),
            KpiFigure(
                "turnover",
                "Stock turn",
                Decimal("2.135"),
                "ratio",
                "Cost of goods sold over average stock.",
            ),
        ),
        days=tuple(
            DailyFigure(
                date.fromordinal(monday.toordinal() + i),
                units_sold=40 + 7 * i,
                skus_out_of_stock=i % 3,
            )
            for i in range(7)
        ),
        reorder=(
            ReorderLine(
                "SKU-9",
                "Oat milk 1 l",
                available=2,
                reorder_point=12,
                order_quantity=24,
                days_of_supply=Decimal("0.4"),
            ),
            ReorderLine(
                HOSTILE,
                HOSTILE,
                available=5,
                reorder_point=10,
                order_quantity=6,
                days_of_supply=None,
            ),
            ReorderLine(
                "SKU-1",
                "Rye bread",
                available=8,
                reorder_point=9,
                order_quantity=10,
                days_of_supply=Decimal("2.25"),
            ),
        ),
        discrepancies=(
            OpenDiscrepancy(
                "SKU-3", "POS says 4, ERP says 0", datetime(2026, 12, 1, 9, 5, tzinfo=UTC)
            ),
            OpenDiscrepancy(
                "SKU-7", "Count of 12 not booked", datetime(2026, 12, 3, 17, 40, tzinfo=UTC)
            ),
        ),
    )
    fields.update(changes)
    return WeeklyReport(**fields)


@pytest.fixture(scope="module")
def page() -> str:
    return render(weekly_report())


def test_given_a_report_then_the_page_is_a_standalone_html5_document(page):
    assert page.startswith("<!doctype html>")
    assert page.rstrip().endswith("</html>")
    assert "<?xml" not in page and "<!DOCTYPE svg" not in page
    # Nothing loaded from elsewhere: no scripts, stylesheets or images by address.
    assert not {"script", "link", "img", "iframe"} & set(read(page).tags)


def test_given_a_report_then_the_header_names_the_store_week_and_dates(page):
    assert read(page).title == "Harbour Street (ST-0042): week 2026-W49"
    for shown in (
        "Harbour Street",
        "ST-0042",
        "2026-W49",
        "2026-11-30",
        "2026-12-06",
        "2026-12-07 06:30 UTC",
    ):
        assert shown in page


def test_given_kpis_then_each_row_shows_label_formatted_figure_and_definition(page):
    assert read(page).tables["kpis"] == [
        ["Stock-out rate", "5.1 %", "Share of SKU-days with nothing on hand."],
        ["Days of supply", "12.5 days", "On hand divided by average daily sales."],
        ["Replenishment lead time", "3.25 h", "Order to shelf, median."],
        ["Sell-through", "n/a", "Units sold over units received."],
        ["Stock turn", "2.14", "Cost of goods sold over average stock."],
    ]


def test_given_reorder_lines_then_rows_in_the_given_order_with_their_numbers(page):
    assert read(page).tables["reorder"] == [
        ["SKU-9", "Oat milk 1 l", "2", "12", "24", "0.4 days"],
        [HOSTILE, HOSTILE, "5", "10", "6", "n/a"],
        ["SKU-1", "Rye bread", "8", "9", "10", "2.3 days"],
    ]


def test_given_open_discrepancies_then_each_is_listed_with_when_it_opened(page):
    assert read(page).tables["discrepancies"] == [
        ["SKU-3", "POS says 4, ERP says 0", "2026-12-01 09:05 UTC"],
        ["SKU-7", "Count of 12 not booked", "2026-12-03 17:40 UTC"],
    ]


def test_given_daily_figures_then_two_inline_svg_charts_with_unique_ids(page):
    reader = read(page)
    assert reader.tags.count("svg") == 2
    assert page.count("<svg") == 2
    # Two charts on one page must not repeat an element id.
    assert [i for i, n in Counter(reader.ids).items() if n > 1] == []
    # The charts' day labels follow the week, not the machine's locale.
    assert "Mon 30" in page and "Sun 6" in page


def test_given_a_hostile_name_then_it_is_shown_as_text_never_as_markup():
    page = render(weekly_report(location_name=HOSTILE))
    reader = read(page)
    assert "script" not in reader.tags
    assert HOSTILE not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    assert reader.title.startswith(HOSTILE)


def test_given_the_same_report_when_rendered_twice_then_the_same_bytes(page):
    assert render(weekly_report()) == page


def test_given_empty_sections_then_each_says_so():
    reader = read(render(weekly_report(kpis=(), days=(), reorder=(), discrepancies=())))
    assert "svg" not in reader.tags
    assert reader.tables == {}
    assert reader.empty_notes == {
        "kpis": "No key figures this week.",
        "charts": "No daily figures this week.",
        "reorder": "No reorder suggestions this week.",
        "discrepancies": "No open discrepancies.",
    }


def test_given_a_naive_or_non_utc_time_then_the_report_is_refused():
    with pytest.raises(ValueError, match="generated_at"):
        weekly_report(generated_at=datetime(2026, 12, 7, 6, 30))
    with pytest.raises(ValueError, match="generated_at"):
        weekly_report(
            generated_at=datetime(2026, 12, 7, 6, 30, tzinfo=timezone(timedelta(hours=1)))
        )
    with pytest.raises(ValueError, match="opened_at"):
        OpenDiscrepancy("SKU-3", "x", datetime(2026, 12, 1, 9, 5))


def test_given_the_gateway_imports_reports_then_matplotlib_is_not_loaded():
    # The server must not pay matplotlib's import time: only rendering a chart loads it.
    probe = "import sys, gateway.reports; sys.exit('matplotlib' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", probe], check=False).returncode == 0
