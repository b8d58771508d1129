"""The in-process invalidation log against a plain model: for any interleaving of reads
beginning and ending and keys invalidated, an open read is told exactly the keys
invalidated after it began, and the log keeps nothing once no read is open."""

from __future__ import annotations

import asyncio

from hypothesis import given
from hypothesis import strategies as st

from gateway.invalidations import LocalInvalidations

KEYS = ["A", "B", "C"]
steps = st.lists(
    st.one_of(
        st.tuples(st.just("begin")),
        st.tuples(st.just("end"), st.integers(0, 20)),
        st.tuples(st.just("record"), st.lists(st.sampled_from(KEYS), min_size=1, max_size=3)),
    ),
    max_size=40,
)


@given(steps)
def test_an_open_read_is_told_exactly_the_keys_invalidated_since_it_began(plan):
    async def run() -> None:
        log = LocalInvalidations()
        open_reads: list[tuple[int, set[str]]] = []  # (mark, keys invalidated since: model)
        for step in plan:
            if step[0] == "begin":
                open_reads.append((await log.begin(), set()))
            elif step[0] == "end" and open_reads:
                mark, _ = open_reads.pop(step[1] % len(open_reads))
                log.end(mark)
            elif step[0] == "record":
                await log.record(step[1])
                for _, seen in open_reads:
                    seen.update(step[1])
            for mark, seen in open_reads:
                assert await log.since(KEYS, mark) == seen
        for mark, _ in open_reads:
            log.end(mark)
        assert not log._last and not log._open

    asyncio.run(run())
