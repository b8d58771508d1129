"""A store's weekly page over the fakes: last week's KPIs worked out by hand, the SKUs below
their reorder point, and the store's open discrepancies, as the rendered page shows them."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from gateway.domain import Sale
from gateway.errors import BadUserInput
from gateway.reports import render
from gateway.truth.recorded_counts import CountLine
from tests.services.world import World
from tests.unit.test_weekly_report import read

SHOE, SOCK = "SHOE-42", "SOCK-M"


def last_monday(world: World) -> datetime:
    today = world.clock.now().date()
    monday = today - timedelta(days=today.weekday() + 7)
    return datetime.combine(monday, time(), UTC)


async def test_last_week_s_page_for_a_store(world: World):
    monday = last_monday(world)
    # Given Mitte's till sold shoes on Wednesday (2) and Friday (1), socks on Thursday (7),
    # and a shoe this week; it has 3 shoes and no socks now,
    world.pos.sold += [
        Sale(SHOE, "LMITTE", monday + timedelta(days=2, hours=17), 2),
        Sale(SOCK, "LMITTE", monday + timedelta(days=3, hours=17), 7),
        Sale(SHOE, "LMITTE", monday + timedelta(days=4, hours=17), 1),
        Sale(SHOE, "LMITTE", monday + timedelta(days=7, minutes=1), 1),
    ]
    world.pos.counts[(SHOE, "LMITTE")] = (3, 0)
    world.pos.counts[(SOCK, "LMITTE")] = (0, 0)
    # and a count today found the shoes 3 short (a variance queued for the store).
    counted = await world.services.counts.record(
        "ST-MITTE", [CountLine(SHOE, 0)], world.clock.now(), "Ada", "count-1"
    )
    (line,) = counted.lines
    assert line.discrepancy_id is not None
    week = f"{monday.isocalendar().year}-W{monday.isocalendar().week:02d}"

    report = await world.services.weekly_reports.of("ST-MITTE", week)
    page = read(render(report))

    # Closing shoes 7, 7, 5, 5, 4, 4, 4; socks 7, 7, 7, 0, 0, 0, 0: 4 of 14 SKU-days out;
    # 10 sold, 4 left: sell-through 10/14; 4 units last 4 x 7 / 10 days.
    kpis = {row[0]: row[1] for row in page.tables["kpis"]}
    assert kpis["Stockout rate"] == "28.6 %"
    assert kpis["Sell-through"] == "71.4 %"
    assert kpis["Days of supply"] == "2.8 days"
    assert kpis["Return rate"] == "0.0 %"  # nothing came back
    assert kpis["Shrink"] == "0.0 %"  # today's count is not last week's
    assert kpis["Inventory accuracy"] == "n/a"  # no count last week: nothing to measure
    assert [d.units_sold for d in report.days] == [0, 0, 2, 7, 1, 0, 0]
    assert [d.skus_out_of_stock for d in report.days] == [0, 0, 0, 1, 1, 1, 1]
    # The shoe is below its reorder point, with the replenishment hint's own figures,
    hint = (await world.services.replenishment.hints("ST-MITTE", [SHOE]))[SHOE]
    assert hint.hint.below_reorder_point
    shoe_row = next(row for row in page.tables["reorder"] if row[0] == SHOE)
    assert shoe_row == [
        SHOE,
        "Trail Shoe 42",
        str(hint.available),
        str(hint.hint.reorder_point),
        str(hint.hint.suggested_order),
        shoe_row[5],
    ]
    # and the count's variance is an open discrepancy of the store's.
    (open_row,) = [row for row in page.tables["discrepancies"] if row[0] == SHOE]
    assert open_row[1].startswith("COUNT_VARIANCE: ") and "owner store-ops" in open_row[1]


async def test_a_week_not_written_as_an_iso_week_is_refused(world: World):
    with pytest.raises(BadUserInput, match="ISO week"):
        await world.services.weekly_reports.of("ST-MITTE", "last week")
