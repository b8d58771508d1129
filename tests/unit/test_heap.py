"""gateway.heap: a gateway process keeps its start-up heap out of full collections and
collects its youngest generation less often; leaving gives both back."""

from __future__ import annotations

import gc

from gateway.heap import YOUNG_GENERATION_THRESHOLD, startup_heap_frozen


def test_the_collector_is_tuned_while_the_gateway_runs_and_restored_after() -> None:
    before = gc.get_threshold()
    kept = [object() for _ in range(10)]  # noqa: F841 - alive while frozen
    with startup_heap_frozen():
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == (YOUNG_GENERATION_THRESHOLD, *before[1:])
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
