"""The discrepancy queue's rules (gateway/truth/queue.py): owners, deadlines, transitions,
and settle's guarantees over any sequence of reads."""

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.config import OwnerRule, TruthSettings
from gateway.domain import NodeType, SourceSystem
from gateway.domain.truth import (
    DiscrepancyKey,
    DiscrepancyKind,
    DiscrepancyStatus,
    Figure,
    Finding,
    HistoryAction,
    Resolution,
    Severity,
)
from gateway.errors import IllegalTransition
from gateway.truth import queue

K = DiscrepancyKind
S = DiscrepancyStatus
NOW = datetime(2026, 12, 3, 10, 8, tzinfo=UTC)
POLICY = TruthSettings()
KEYS = [
    DiscrepancyKey(kind, sku, "", SourceSystem.STOREFRONT)
    for kind in (K.OVERSELL_RISK, K.LOST_SALES)
    for sku in ("A", "B")
]


def finding(key, copy="12", severity=Severity.LOW, **more):
    return Finding(
        key, Figure(SourceSystem.GATEWAY, "5"), Figure(key.system, copy), severity, "rule", **more
    )


def ids():
    counter = itertools.count(1)
    return lambda: f"dsc_{next(counter)}"


def test_owners_are_the_first_matching_rule_and_deadlines_follow_the_severity():
    web = finding(KEYS[0], severity=Severity.HIGH)
    assert queue.owner_for(web, POLICY.owners, POLICY.default_owner) == "ecommerce"
    store = finding(KEYS[0], location_type=NodeType.STORE.value)
    assert queue.owner_for(store, POLICY.owners, POLICY.default_owner) == "store-ops"
    rules = [OwnerRule(owner="footwear-team", categories=["Footwear"])]
    shoe = finding(KEYS[0], category="Footwear")
    assert queue.owner_for(shoe, rules, "nobody") == "footwear-team"
    assert queue.owner_for(web, rules, "nobody") == "nobody"
    record = queue.opened(web, "dsc_1", NOW, POLICY)
    assert (record.owner, record.due_at) == ("ecommerce", NOW + timedelta(hours=4))


def test_a_record_is_acknowledged_assigned_and_resolved_with_its_history():
    record = queue.opened(finding(KEYS[0]), "dsc_1", NOW, POLICY)
    record = queue.acknowledged(record, NOW, "kim", "looking")
    record = queue.assigned(record, "merchandising", NOW, "kim", "a price thing")
    record = queue.resolved(record, Resolution.FIXED, NOW, "lea", "corrected in WooCommerce")
    assert record.status is S.RESOLVED and record.resolution is Resolution.FIXED
    assert [(h.action, h.actor) for h in record.history] == [
        (HistoryAction.OPENED, "reconciler"),
        (HistoryAction.ACKNOWLEDGED, "kim"),
        (HistoryAction.ASSIGNED, "kim"),
        (HistoryAction.RESOLVED, "lea"),
    ]
    with pytest.raises(IllegalTransition):
        queue.acknowledged(record, NOW, "kim", None)
    with pytest.raises(IllegalTransition):
        queue.resolved(record, Resolution.ACCEPTED, NOW, "kim", None)


def test_a_resolved_disagreement_seen_again_is_reopened_not_duplicated():
    record = queue.opened(finding(KEYS[0]), "dsc_1", NOW, POLICY)
    record = queue.resolved(record, Resolution.FIXED, NOW, "kim", None)
    later = NOW + timedelta(hours=1)
    settled = queue.settle([finding(KEYS[0])], [KEYS[0]], {KEYS[0]: record}, later, POLICY, ids())
    assert settled.new == ()
    [reopened] = settled.changed
    assert (reopened.id, reopened.status, reopened.opened_at) == ("dsc_1", S.OPEN, later)
    assert reopened.history[-1].action is HistoryAction.REOPENED


def test_the_same_figures_seen_again_change_nothing_and_a_worse_severity_moves_the_deadline():
    record = queue.opened(finding(KEYS[0]), "dsc_1", NOW, POLICY)
    same = queue.settle([finding(KEYS[0])], [KEYS[0]], {KEYS[0]: record}, NOW, POLICY, ids())
    assert same.changed == () and same.new == ()
    worse = finding(KEYS[0], copy="40", severity=Severity.CRITICAL)
    [changed] = queue.settle([worse], [KEYS[0]], {KEYS[0]: record}, NOW, POLICY, ids()).changed
    assert changed.due_at == NOW + timedelta(hours=1) and changed.copy.value == "40"


reads = st.lists(
    st.tuples(st.sets(st.sampled_from(KEYS)), st.sets(st.sampled_from(KEYS))), max_size=8
)


@given(reads=reads)
def test_over_any_reads_a_key_has_one_record_and_agreeing_closes_it(reads):
    store = {}
    new_id = ids()
    for step, (checked, disagreeing) in enumerate(reads):
        disagreeing = disagreeing & checked  # a rule finds only what it checks
        at = NOW + timedelta(minutes=step)
        settled = queue.settle(
            [finding(k) for k in disagreeing], checked, store, at, POLICY, new_id
        )
        for record in settled.new:
            assert record.key not in store  # never a second record for a key
            store[record.key] = record
        for record in settled.changed:
            assert store[record.key].id == record.id
            store[record.key] = record
        for key in checked:
            record = store.get(key)
            if key in disagreeing:
                assert record is not None and record.status is S.OPEN
            elif record is not None:
                # Checked and agreeing: nothing is left open.
                assert not record.status.is_open
    assert len({r.id for r in store.values()}) == len(store)
