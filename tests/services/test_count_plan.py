"""The daily count plan over the fakes: SKUs ranked by the value their node's till moved,
each class counted once per cycle; kits are not counted."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from gateway.domain import Sale
from gateway.domain.cycle_counts import AbcClass
from tests.services.test_replenishment import window_start
from tests.services.world import World

SHOE, SOCK, KIT = "SHOE-42", "SOCK-M", "KIT-RUN"


async def test_the_plan_ranks_by_value_moved_and_counts_each_sku_once_per_cycle(world: World):
    # Given Mitte sold 2 shoes a day (56 at 52.40 cost: 2,934.40) and 4 socks a day (112 at
    # 5.10: 571.20), the shoe 83.7 % of the value moved,
    start = window_start(world)
    world.pos.sold += [
        Sale(SHOE, "LMITTE", start + timedelta(days=day, hours=17), 2) for day in range(28)
    ]
    world.pos.sold += [
        Sale(SOCK, "LMITTE", start + timedelta(days=day, hours=12), 4) for day in range(28)
    ]
    first_day = date(2026, 12, 7)

    # when the plan is asked for every day of a year,
    counted: Counter[str] = Counter()
    classes: dict[str, AbcClass] = {}
    for offset in range(365):
        for entry in await world.services.cycle_counts.plan(
            "ST-MITTE", first_day + timedelta(offset)
        ):
            counted[entry.sku] += 1
            classes[entry.sku] = entry.abc
    # then the shoe is A, counted every 30 days; the sock (ranked after 83.7 %, under 95 %)
    # is B, every 90 days; the kit never (its parts are counted).
    assert classes == {SHOE: AbcClass.A, SOCK: AbcClass.B}
    assert counted[SHOE] in (12, 13) and counted[SOCK] in (4, 5)
    assert KIT not in counted
