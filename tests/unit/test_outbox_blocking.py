"""Writes waiting behind a dead one (gateway.services.outbox.blocking), for any history of
deliveries over a few ordering keys."""

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from gateway.domain.outbox import SETTLED, CancelOmsOrder, Delivery, DeliveryStatus
from gateway.services.outbox.blocking import as_seen

S = DeliveryStatus
NOW = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
STORED = [S.PENDING, S.IN_FLIGHT, S.DELIVERED, S.DEAD, S.SKIPPED]


def delivery(id: int, key: str, status: DeliveryStatus) -> Delivery:
    message = CancelOmsOrder(
        ordering_key=key, reference=f"{key}:{id}", order_id=key, create_reference=f"{key}:oms"
    )
    return Delivery(id, message, status, 0, None, NOW, NOW, None)


histories = st.lists(
    st.tuples(st.sampled_from(["ord_a", "ord_b", "ord_c"]), st.sampled_from(STORED)),
    max_size=12,
)


@given(histories)
def test_property_blocked_exactly_when_waiting_behind_an_earlier_dead_write_of_its_key(history):
    stored = [delivery(i, key, status) for i, (key, status) in enumerate(history, start=1)]
    seen = as_seen(reversed(stored))
    assert [d.id for d in seen] == [d.id for d in stored]  # in id order, none lost
    for before, after in zip(stored, seen, strict=True):
        earlier_dead = [
            d.id
            for d in stored
            if d.message.ordering_key == before.message.ordering_key
            and d.id < before.id
            and d.status is S.DEAD
        ]
        waits = before.status not in SETTLED | {S.DEAD} and earlier_dead
        if waits:
            assert (after.status, after.blocked_by) == (S.BLOCKED, earlier_dead[0])
        else:
            assert after == before  # anything else is shown as stored


def test_given_a_dead_cancel_then_the_write_behind_it_names_it_and_a_skip_frees_it():
    dead = [delivery(1, "ord_a", S.DEAD), delivery(2, "ord_a", S.PENDING)]
    assert [(d.status, d.blocked_by) for d in as_seen(dead)] == [
        (S.DEAD, None),
        (S.BLOCKED, 1),
    ]
    skipped = [delivery(1, "ord_a", S.SKIPPED), delivery(2, "ord_a", S.PENDING)]
    assert [d.status for d in as_seen(skipped)] == [S.SKIPPED, S.PENDING]
