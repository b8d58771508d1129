"""Discrepancies, the audit trail and observations in the database, on SQLite and
PostgreSQL: one row per key, history only appended, filters and counts."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from gateway.config import TruthSettings
from gateway.domain import SourceSystem
from gateway.domain.truth import (
    AuditEntry,
    AuditKind,
    DiscrepancyKey,
    DiscrepancyKind,
    DiscrepancyStatus,
    Figure,
    Finding,
    Observation,
    Resolution,
    Severity,
)
from gateway.persistence.truth import _columns as truth_columns
from gateway.persistence.truth import discrepancies as discrepancy_table
from gateway.ports.storage import DiscrepancyFilter
from gateway.truth import queue

K = DiscrepancyKind
POLICY = TruthSettings()


def finding(sku: str, kind=K.OVERSELL_RISK, copy="12", severity=Severity.LOW) -> Finding:
    return Finding(
        DiscrepancyKey(kind, sku, "", SourceSystem.STOREFRONT),
        Figure(SourceSystem.GATEWAY, "5"),
        Figure(SourceSystem.STOREFRONT, copy),
        severity,
        "rule",
        delta=int(copy) - 5,
    )


async def test_a_record_keeps_one_row_per_key_and_its_history_only_grows(world):
    now = world.clock.now()
    record = queue.opened(finding("SOCK"), "dsc_1", now, POLICY)
    async with world.uow() as uow:
        await uow.discrepancies.add([record])
        await uow.commit()
    # Acknowledged, resolved, then seen again: reopened in the same row.
    record = queue.acknowledged(record, now, "kim", "on it")
    record = queue.resolved(record, Resolution.FIXED, now, "kim", None)
    [record] = queue.settle(
        [finding("SOCK", copy="14")], [record.key], {record.key: record}, now, POLICY, lambda: "x"
    ).changed
    async with world.uow() as uow:
        await uow.discrepancies.save([record])
        await uow.commit()
    async with world.uow() as uow:
        stored = await uow.discrepancies.of_skus(["SOCK"])
    assert list(stored) == [record.key]
    again = stored[record.key]
    assert (again.id, again.status, again.copy.value) == ("dsc_1", DiscrepancyStatus.OPEN, "14")
    assert [h.action.value for h in again.history] == [
        "OPENED",
        "ACKNOWLEDGED",
        "RESOLVED",
        "REOPENED",
    ]
    # A second reconcile opening the same key at the same time (a webhook's beside the
    # periodic one) adds nothing: the first record holds the key, and nobody is told of a
    # new discrepancy;
    async with world.uow() as uow:
        await uow.discrepancies.add([queue.opened(finding("SOCK"), "dsc_2", now, POLICY)])
        await uow.commit()
    async with world.uow() as uow:
        stored = await uow.discrepancies.of_skus(["SOCK"])
        assert [d.id for d in stored.values()] == ["dsc_1"]
        assert await uow.discrepancies.get("dsc_2") is None
    # and the database itself refuses a second row for one key.
    with pytest.raises(IntegrityError):
        async with world.uow() as uow:
            columns = {**truth_columns(queue.opened(finding("SOCK"), "dsc_3", now, POLICY))}
            await uow.discrepancies._conn.execute(insert(discrepancy_table), [columns])


async def test_the_worklist_filters_pages_and_counts(world):
    now = world.clock.now()
    counter = itertools.count(1)
    records = [
        queue.opened(finding(f"SKU-{n}", severity=severity), f"dsc_{next(counter)}", now, POLICY)
        for n, severity in enumerate([Severity.LOW, Severity.HIGH, Severity.CRITICAL, Severity.LOW])
    ]
    records[3] = queue.resolved(
        records[3], Resolution.ACCEPTED, now + timedelta(hours=2), "kim", None
    )
    async with world.uow() as uow:
        await uow.discrepancies.add(records)
        await uow.commit()
    open_only = DiscrepancyFilter(status=[DiscrepancyStatus.OPEN])
    async with world.uow() as uow:
        first, more = await uow.discrepancies.page(open_only, first=2, after=None)
        last = (first[-1].due_at, first[-1].id)
        rest, done = await uow.discrepancies.page(open_only, first=2, after=last)
        overdue, _ = await uow.discrepancies.page(
            DiscrepancyFilter(overdue_at=now + timedelta(hours=5)), first=10, after=None
        )
        counts = await uow.discrepancies.counts(now + timedelta(hours=5), now)
    # Soonest due first: CRITICAL (1 h), HIGH (4 h), then LOW (72 h).
    assert [r.severity for r in first + rest] == [Severity.CRITICAL, Severity.HIGH, Severity.LOW]
    assert (more, done) == (True, False)
    assert {r.id for r in overdue} == {records[1].id, records[2].id}
    assert counts.by_kind == {K.OVERSELL_RISK: 3} and counts.by_owner == {"ecommerce": 3}
    assert (counts.overdue, counts.resolved, counts.resolution_seconds) == (2, 1, 7200.0)


async def test_suspects_are_replaced_for_the_keys_a_read_checked(world):
    now = world.clock.now()
    a, b = finding("A").key, finding("B").key
    async with world.uow() as uow:
        await uow.discrepancies.replace_suspects([a, b], [a, b], now)
        await uow.commit()
    async with world.uow() as uow:
        await uow.discrepancies.replace_suspects([a], [], now)
        await uow.commit()
    async with world.uow() as uow:
        assert await uow.discrepancies.suspects(["A", "B"]) == {b}


async def test_a_difference_still_there_keeps_when_it_was_first_seen(world):
    # Event-driven reads come seconds apart: a difference is confirmed once it has lasted,
    # not because it was read twice.
    first = world.clock.now()
    a = finding("A").key
    async with world.uow() as uow:
        await uow.discrepancies.replace_suspects([a], [a], first)
        await uow.commit()
    async with world.uow() as uow:  # read again two seconds later: still there
        await uow.discrepancies.replace_suspects([a], [a], first + timedelta(seconds=2))
        await uow.commit()
    async with world.uow() as uow:
        assert (
            await uow.discrepancies.suspects(["A"], seen_by=first - timedelta(seconds=1)) == set()
        )
        assert await uow.discrepancies.suspects(["A"], seen_by=first) == {a}


async def test_the_audit_trail_pages_newest_first_by_sku_and_kind(world):
    now = world.clock.now()
    entries = [
        AuditEntry(
            now + timedelta(minutes=n),
            kind,
            SourceSystem.STOREFRONT,
            "woocommerce",
            sku,
            "price",
            "191.99",
            "10.00",
        )
        for n, (sku, kind) in enumerate(
            [
                ("A", AuditKind.PRICE_CHANGED),
                ("B", AuditKind.PRICE_CHANGED),
                ("A", AuditKind.STOCK_CHANGED),
                ("A", AuditKind.PRICE_CHANGED),
            ]
        )
    ]
    async with world.uow() as uow:
        await uow.audit.add(entries)
        await uow.commit()
    async with world.uow() as uow:
        page, more = await uow.audit.page(
            sku="A",
            location_id=None,
            start=None,
            end=None,
            kinds=[AuditKind.PRICE_CHANGED],
            first=1,
            after=None,
        )
        rest, done = await uow.audit.page(
            sku="A",
            location_id=None,
            start=None,
            end=None,
            kinds=[AuditKind.PRICE_CHANGED],
            first=5,
            after=(page[0].at, page[0].id),
        )
    assert [e.at for e in page + rest] == [entries[3].at, entries[0].at]
    assert (more, done) == (True, False)


async def test_an_observation_is_replaced_by_the_next_read_of_the_same_field(world):
    now = world.clock.now()
    async with world.uow() as uow:
        await uow.observations.record(
            [Observation(SourceSystem.STOREFRONT, "A", "price", "191.99", now)]
        )
        await uow.observations.record(
            [Observation(SourceSystem.STOREFRONT, "A", "price", "10.00", now)]
        )
        await uow.commit()
    async with world.uow() as uow:
        seen = await uow.observations.last_values(["A"], {SourceSystem.STOREFRONT: ["price"]})
        not_asked = await uow.observations.last_values(["A"], {SourceSystem.POS: ["price"]})
    assert seen == {(SourceSystem.STOREFRONT, "A", "", "price"): "10.00"}
    assert not_asked == {}
