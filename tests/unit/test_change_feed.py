"""The change feed of one process (gateway.events.feed) and the wire between processes
(gateway.events.bus): fan-out by interest, a slow subscriber dropped with its memory let go,
answers shared per change, and messages that fit PostgreSQL's NOTIFY whatever they carry."""

from __future__ import annotations

import asyncio
from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from gateway.domain.events import Change, DiscrepancyOpened, OrderChanged, StockChanged
from gateway.events import bus as bus_module
from gateway.events.bus import ChangeBus, InProcess, coalesce, decode, encode
from gateway.events.feed import ChangeFeed, SlowSubscriber


def stock(*skus: str) -> StockChanged:
    return StockChanged(tuple(skus))


async def test_each_subscriber_gets_the_changes_it_wants_in_order():
    feed = ChangeFeed()
    shoes = feed.subscribe(lambda c: isinstance(c, StockChanged) and "SHOE" in c.skus)
    orders = feed.subscribe(lambda c: isinstance(c, OrderChanged))

    feed.deliver([stock("SOCK"), stock("SHOE"), OrderChanged("ord_1"), stock("SHOE", "SOCK")])

    assert [(await shoes.next()).change for _ in range(2)] == [
        stock("SHOE"),
        stock("SHOE", "SOCK"),
    ]
    assert (await orders.next()).change == OrderChanged("ord_1")
    assert (shoes.unread, orders.unread) == (0, 0)


async def test_a_subscriber_that_does_not_keep_up_is_dropped_and_its_queue_let_go():
    feed = ChangeFeed(limit=3)
    told: list[SlowSubscriber] = []
    slow = feed.subscribe(lambda c: True, on_drop=told.append)
    keeping_up = feed.subscribe(lambda c: True)

    for n in range(3):
        feed.deliver([OrderChanged(f"ord_{n}")])
        await keeping_up.next()
    assert slow.unread == 3 and not told
    feed.deliver([OrderChanged("ord_3")])  # one more than it may leave unread

    assert len(told) == 1 and "more than 3 changes" in str(told[0])
    assert slow.unread == 0  # nothing kept for it any more
    assert (feed.subscribers, feed.dropped) == (1, 1)
    try:
        await slow.next()
        raise AssertionError("a dropped subscriber reads on")
    except SlowSubscriber:
        pass
    # The others are not held back by it.
    assert (await keeping_up.next()).change == OrderChanged("ord_3")


async def test_subscribers_asking_the_same_question_of_one_change_share_one_answer():
    feed = ChangeFeed()
    many = [feed.subscribe(lambda c: True) for _ in range(50)]
    feed.deliver([stock("SHOE")])
    computed = 0

    async def compute() -> str:
        nonlocal computed
        computed += 1
        await asyncio.sleep(0)
        return "rows"

    deliveries = [await s.next() for s in many]
    answers = await asyncio.gather(
        *(feed.shared(d, ("availability", "SHOE"), compute) for d in deliveries)
    )
    assert answers == ["rows"] * 50 and computed == 1


async def test_a_change_published_comes_back_to_this_processs_subscribers():
    feed = ChangeFeed()
    bus = ChangeBus(InProcess(), feed)
    await bus.start()
    watching = feed.subscribe(lambda c: True)
    bus.publish([stock("SHOE"), DiscrepancyOpened("dsc_1", "store-ops", "SHORT_HOLD")])
    await bus.flush()
    assert [(await watching.next()).change for _ in range(2)] == [
        stock("SHOE"),
        DiscrepancyOpened("dsc_1", "store-ops", "SHORT_HOLD"),
    ]
    await bus.close()


changes = st.one_of(
    st.builds(
        lambda s, at_sources: StockChanged(tuple(s), at_sources),
        st.lists(st.text(min_size=1, max_size=60)),
        st.booleans(),
    ),
    st.builds(OrderChanged, st.text(min_size=1, max_size=40)),
    st.builds(DiscrepancyOpened, st.text(max_size=20), st.text(max_size=20), st.text(max_size=20)),
)


@given(st.lists(changes, max_size=40), st.integers(min_value=600, max_value=8000))
def test_property_messages_fit_and_carry_every_change_in_order(sent: list[Change], room: int):
    messages = encode("proc-1", sent, room)
    assert all(len(m.encode()) <= room for m in messages)
    received: list[Change] = []
    for message in messages:
        origin, part = decode(message)
        assert origin == "proc-1"
        received += part

    # A stock change may arrive split in several; together they name the same SKUs.
    def flat(items: list[Change]) -> list[object]:
        out: list[object] = []
        for c in items:
            if isinstance(c, StockChanged):
                out += [("stock", s, c.at_sources) for s in c.skus]
            else:
                out.append(c)
        return out

    assert flat(received) == flat(sent)


def _encoded_whole_each_time(origin: str, sent: list[Change], room: int) -> list[str]:
    """The encoding as it was first written: the whole message made again per part."""
    parts: list[dict] = []
    for change in sent:
        if isinstance(change, StockChanged):
            parts += bus_module._split(change, room - len(origin) - 64)
        else:
            parts.append(bus_module._as_json(change))
    messages: list[str] = []
    batch: list[dict] = []
    for part in parts:
        if batch and len(bus_module._message(origin, [*batch, part]).encode()) > room:
            messages.append(bus_module._message(origin, batch))
            batch = [part]
        else:
            batch.append(part)
    if batch:
        messages.append(bus_module._message(origin, batch))
    return messages


@given(st.lists(changes, max_size=40), st.integers(min_value=600, max_value=8000))
def test_property_the_messages_are_those_made_whole_part_by_part(sent: list[Change], room: int):
    assert encode("proc-1", sent, room) == _encoded_whole_each_time("proc-1", sent, room)


def _segments(items: list[Change]) -> list[object]:
    """The changes other than stock ones, in order, and between each two the SKUs named
    by stock changes of each kind."""
    out: list[object] = []
    named: dict[bool, set[str]] = {True: set(), False: set()}
    for change in items:
        if isinstance(change, StockChanged):
            named[change.at_sources].update(change.skus)
        else:
            out += [named, change]
            named = {True: set(), False: set()}
    return [*out, named]


@given(st.lists(changes, max_size=40))
def test_property_coalescing_names_the_same_skus_between_the_same_other_changes(
    sent: list[Change],
):
    merged = coalesce(sent)
    # Other changes keep their order, and between them the same SKUs are named, each kind
    # apart (a hold's change never becomes one whose sources moved)
    assert _segments(merged) == _segments(sent)
    # No two stock changes of one kind side by side, no SKU twice in one change
    for first, second in pairwise(merged):
        if isinstance(first, StockChanged) and isinstance(second, StockChanged):
            assert first.at_sources != second.at_sources
    for change in merged:
        if isinstance(change, StockChanged):
            assert len(set(change.skus)) == len(change.skus)
    assert coalesce(merged) == merged


def test_a_batch_of_holds_is_one_change_naming_each_sku_once():
    holds = [StockChanged((sku,), at_sources=False) for sku in ["A", "B", "A", "C"]]
    assert coalesce(holds) == [StockChanged(("A", "B", "C"), at_sources=False)]
