"""Discrepancies and their history, suspects, the audit trail and observations."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, delete, func, insert, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.domain import Money, SourceSystem
from gateway.domain.events import Change, DiscrepancyOpened
from gateway.domain.outbox import OutboxMessage, UnreadableMessage, read_message
from gateway.domain.truth import (
    AuditEntry,
    AuditKind,
    Discrepancy,
    DiscrepancyKey,
    DiscrepancyKind,
    DiscrepancyStatus,
    Figure,
    HistoryAction,
    HistoryEntry,
    Observation,
    Resolution,
    Severity,
)
from gateway.persistence.dialect import upsert_insert
from gateway.persistence.tables import (
    AuditEntryRow,
    DiscrepancyEventRow,
    DiscrepancyRow,
    DiscrepancySuspectRow,
    ObservationRow,
    table,
)
from gateway.ports.storage import (
    AuditCursor,
    DiscrepancyFilter,
    OpenTally,
    QueueCounts,
    QueueCursor,
)

discrepancies = table(DiscrepancyRow)
events = table(DiscrepancyEventRow)
suspects = table(DiscrepancySuspectRow)
audit = table(AuditEntryRow)
observations = table(ObservationRow)

OPEN = [DiscrepancyStatus.OPEN.value, DiscrepancyStatus.ACKNOWLEDGED.value]


def _columns(record: Discrepancy) -> dict[str, Any]:
    return {
        "id": record.id,
        "kind": record.key.kind,
        "sku": record.key.sku,
        "location_id": record.key.location_id,
        "system": record.key.system,
        "order_id": record.key.order_id,
        "severity": record.severity,
        "truth_system": record.truth.system,
        "truth_value": record.truth.value,
        "truth_as_of": record.truth.as_of,
        "copy_system": record.copy.system,
        "copy_value": record.copy.value,
        "copy_as_of": record.copy.as_of,
        "rule": record.rule,
        "owner": record.owner,
        "due_at": record.due_at,
        "status": record.status,
        "opened_at": record.opened_at,
        "updated_at": record.updated_at,
        "delta": record.delta,
        "at_stake_minor": None if record.at_stake is None else record.at_stake.to_minor(),
        "at_stake_currency": None if record.at_stake is None else record.at_stake.currency,
        "resolved_at": record.resolved_at,
        "resolution": record.resolution,
        "proposal": [
            {
                "target": m.target,
                "kind": m.kind,
                "ordering_key": m.ordering_key,
                "reference": m.reference,
                "payload": m.payload(),
            }
            for m in record.proposal
        ]
        or None,
    }


def _event_rows(record: Discrepancy) -> list[dict[str, Any]]:
    return [
        {
            "discrepancy_id": record.id,
            "seq": seq,
            "at": entry.at,
            "action": entry.action,
            "actor": entry.actor,
            "status": entry.status,
            "note": entry.note,
        }
        for seq, entry in enumerate(record.history)
    ]


_ROWS_PER_INSERT = 500  # well under SQLite's limit on bound parameters


class SqlDiscrepancies:
    def __init__(self, conn: AsyncConnection, news: list[Change] | None = None) -> None:
        self._conn = conn
        # What subscribers are told once the unit of work commits (gateway.events.bus).
        self._news = [] if news is None else news

    async def of_skus(self, skus: Sequence[str]) -> dict[DiscrepancyKey, Discrepancy]:
        if not skus:
            return {}
        rows = list(
            await self._conn.execute(
                select(discrepancies).where(discrepancies.c.sku.in_(list(skus)))
            )
        )
        return {record.key: record for record in await self._assemble(rows)}

    async def of_orders(self, order_ids: Sequence[str]) -> dict[DiscrepancyKey, Discrepancy]:
        if not order_ids:
            return {}
        query = select(discrepancies).where(discrepancies.c.order_id.in_(list(order_ids)))
        rows = list(await self._conn.execute(query.order_by(discrepancies.c.opened_at)))
        return {record.key: record for record in await self._assemble(rows)}

    async def get(self, discrepancy_id: str, *, for_update: bool = False) -> Discrepancy | None:
        query = select(discrepancies).where(discrepancies.c.id == discrepancy_id)
        if for_update and self._conn.dialect.name == "postgresql":
            query = query.with_for_update()
        rows = list(await self._conn.execute(query))
        found = await self._assemble(rows)
        return found[0] if found else None

    async def by_ids(self, ids: Sequence[str]) -> list[Discrepancy]:
        if not ids:
            return []
        query = select(discrepancies).where(discrepancies.c.id.in_(list(ids)))
        return await self._assemble(list(await self._conn.execute(query)))

    async def add(self, records: Sequence[Discrepancy]) -> None:
        if not records:
            return
        # Two reconciles of one SKU at once (a webhook's, a poll's, the periodic one, in any
        # process) may both open the same key: the first one in holds it, the other's is
        # dropped (it found the same disagreement; its next run updates the record).
        added = upsert_insert(self._conn, discrepancies).on_conflict_do_nothing(
            index_elements=["kind", "sku", "location_id", "system", "order_id"]
        )
        inserted: set[str] = set()
        for start in range(0, len(records), _ROWS_PER_INSERT):
            chunk = [_columns(r) for r in records[start : start + _ROWS_PER_INSERT]]
            rows = await self._conn.execute(added.values(chunk).returning(discrepancies.c.id))
            inserted.update(str(row.id) for row in rows)
        kept = [r for r in records if r.id in inserted]
        if not kept:
            return
        self._news.extend(DiscrepancyOpened(r.id, r.owner, r.key.kind.value) for r in kept)
        await self._conn.execute(insert(events), [e for r in kept for e in _event_rows(r)])

    async def save(self, records: Sequence[Discrepancy]) -> None:
        if not records:
            return
        for record in records:
            values = _columns(record)
            del values["id"]
            await self._conn.execute(
                update(discrepancies).where(discrepancies.c.id == record.id).values(**values)
            )
        counted = await self._conn.execute(
            select(events.c.discrepancy_id, func.count())
            .where(events.c.discrepancy_id.in_([r.id for r in records]))
            .group_by(events.c.discrepancy_id)
        )
        stored: dict[str, int] = {row[0]: int(row[1]) for row in counted}
        appended = [
            row for r in records for row in _event_rows(r)[stored.get(r.id, 0) :]
        ]  # history only grows: what is stored is its beginning
        if appended:
            await self._conn.execute(insert(events), appended)

    async def page(
        self, where: DiscrepancyFilter, *, first: int, after: QueueCursor | None
    ) -> tuple[list[Discrepancy], bool]:
        query = select(discrepancies)
        if where.status is not None:
            query = query.where(discrepancies.c.status.in_([s.value for s in where.status]))
        if where.kind is not None:
            query = query.where(discrepancies.c.kind == where.kind)
        if where.owner is not None:
            query = query.where(discrepancies.c.owner == where.owner)
        if where.severity is not None:
            query = query.where(discrepancies.c.severity == where.severity)
        if where.sku is not None:
            query = query.where(discrepancies.c.sku == where.sku)
        if where.order_id is not None:
            query = query.where(discrepancies.c.order_id == where.order_id)
        if where.overdue_at is not None:
            query = query.where(
                discrepancies.c.status.in_(OPEN), discrepancies.c.due_at <= where.overdue_at
            )
        if after is not None:
            due_at, last_id = after
            query = query.where(
                or_(
                    discrepancies.c.due_at > due_at,
                    and_(discrepancies.c.due_at == due_at, discrepancies.c.id > last_id),
                )
            )
        query = query.order_by(discrepancies.c.due_at, discrepancies.c.id).limit(first + 1)
        rows = list(await self._conn.execute(query))
        return await self._assemble(rows[:first]), len(rows) > first

    async def counts(self, now: datetime, resolved_since: datetime) -> QueueCounts:
        open_rows = list(
            await self._conn.execute(
                select(
                    discrepancies.c.kind,
                    discrepancies.c.owner,
                    discrepancies.c.severity,
                    discrepancies.c.due_at,
                ).where(discrepancies.c.status.in_(OPEN))
            )
        )
        by_kind: dict[DiscrepancyKind, int] = defaultdict(int)
        by_owner: dict[str, int] = defaultdict(int)
        by_severity: dict[Severity, int] = defaultdict(int)
        overdue = 0
        for row in open_rows:
            by_kind[DiscrepancyKind(row.kind)] += 1
            by_owner[row.owner] += 1
            by_severity[Severity(row.severity)] += 1
            overdue += row.due_at <= now
        resolved = list(
            await self._conn.execute(
                select(discrepancies.c.opened_at, discrepancies.c.resolved_at).where(
                    discrepancies.c.resolved_at >= resolved_since,
                    discrepancies.c.status.not_in(OPEN),
                )
            )
        )
        seconds = sum((r.resolved_at - r.opened_at).total_seconds() for r in resolved)
        return QueueCounts(by_kind, by_owner, by_severity, overdue, len(resolved), seconds)

    async def open_by_kind(self, now: datetime) -> dict[DiscrepancyKind, OpenTally]:
        overdue = func.sum(case((discrepancies.c.due_at <= now, 1), else_=0))
        rows = await self._conn.execute(
            select(discrepancies.c.kind, func.count(), overdue)
            .where(discrepancies.c.status.in_(OPEN))
            .group_by(discrepancies.c.kind)
        )
        return {
            DiscrepancyKind(kind): OpenTally(count, int(late or 0)) for kind, count, late in rows
        }

    async def open_oversell_risks(self, skus: Sequence[str]) -> dict[str, str]:
        if not skus:
            return {}
        rows = await self._conn.execute(
            select(discrepancies.c.sku, discrepancies.c.id).where(
                discrepancies.c.sku.in_(list(skus)),
                discrepancies.c.kind == DiscrepancyKind.OVERSELL_RISK,
                discrepancies.c.status.in_(OPEN),
            )
        )
        return {row.sku: row.id for row in rows}

    async def suspects(
        self, skus: Sequence[str], *, seen_by: datetime | None = None
    ) -> set[DiscrepancyKey]:
        if not skus:
            return set()
        query = select(suspects).where(suspects.c.sku.in_(list(skus)))
        if seen_by is not None:
            query = query.where(suspects.c.seen_at <= seen_by)
        rows = await self._conn.execute(query)
        return {
            DiscrepancyKey(DiscrepancyKind(r.kind), r.sku, r.location_id, SourceSystem(r.system))
            for r in rows
        }

    async def replace_suspects(
        self, checked: Iterable[DiscrepancyKey], found: Iterable[DiscrepancyKey], now: datetime
    ) -> None:
        keys = [(k.kind.value, k.sku, k.location_id, k.system.value) for k in checked]
        # A difference still there keeps when it was first seen: it is confirmed once it has
        # lasted long enough, however often it is read meanwhile.
        first_seen: dict[tuple[str, str, str, str], datetime] = {}
        if keys:
            columns = tuple_(
                suspects.c.kind, suspects.c.sku, suspects.c.location_id, suspects.c.system
            )
            for start in range(0, len(keys), 500):
                existing = await self._conn.execute(
                    select(suspects).where(columns.in_(keys[start : start + 500]))
                )
                first_seen.update(
                    ((r.kind, r.sku, r.location_id, r.system), r.seen_at) for r in existing
                )
        if keys:
            columns = tuple_(
                suspects.c.kind, suspects.c.sku, suspects.c.location_id, suspects.c.system
            )
            for start in range(0, len(keys), 500):
                await self._conn.execute(
                    delete(suspects).where(columns.in_(keys[start : start + 500]))
                )
        rows = [
            {
                "kind": k.kind,
                "sku": k.sku,
                "location_id": k.location_id,
                "system": k.system,
                "seen_at": first_seen.get(
                    (k.kind.value, k.sku, k.location_id, k.system.value), now
                ),
            }
            for k in found
        ]
        if rows:
            await self._conn.execute(insert(suspects), rows)

    async def _assemble(self, rows: Sequence[Any]) -> list[Discrepancy]:
        if not rows:
            return []
        history: dict[str, list[HistoryEntry]] = defaultdict(list)
        for e in await self._conn.execute(
            select(events)
            .where(events.c.discrepancy_id.in_([r.id for r in rows]))
            .order_by(events.c.discrepancy_id, events.c.seq)
        ):
            history[e.discrepancy_id].append(
                HistoryEntry(
                    e.at, HistoryAction(e.action), e.actor, DiscrepancyStatus(e.status), e.note
                )
            )
        return [
            Discrepancy(
                id=r.id,
                key=DiscrepancyKey(
                    DiscrepancyKind(r.kind),
                    r.sku,
                    r.location_id,
                    SourceSystem(r.system),
                    r.order_id,
                ),
                severity=Severity(r.severity),
                truth=Figure(SourceSystem(r.truth_system), r.truth_value, r.truth_as_of),
                copy=Figure(SourceSystem(r.copy_system), r.copy_value, r.copy_as_of),
                rule=r.rule,
                owner=r.owner,
                due_at=r.due_at,
                status=DiscrepancyStatus(r.status),
                opened_at=r.opened_at,
                updated_at=r.updated_at,
                delta=r.delta,
                at_stake=None
                if r.at_stake_minor is None
                else Money.from_minor(r.at_stake_minor, r.at_stake_currency),
                resolved_at=r.resolved_at,
                resolution=None if r.resolution is None else Resolution(r.resolution),
                history=tuple(history[r.id]),
                proposal=tuple(_proposed(p) for p in r.proposal or ()),
            )
            for r in rows
        ]


def _proposed(stored: dict[str, Any]) -> OutboxMessage:
    message = read_message(
        SourceSystem(stored["target"]),
        stored["kind"],
        stored["ordering_key"],
        stored["reference"],
        stored["payload"],
    )
    if isinstance(message, UnreadableMessage):
        raise ValueError(f"a stored proposal reads as no message: {message.error}")
    return message


class SqlAuditLog:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, entries: Sequence[AuditEntry]) -> None:
        if not entries:
            return
        await self._conn.execute(
            insert(audit),
            [
                {
                    "at": e.at,
                    "kind": e.kind,
                    "system": e.system,
                    "actor": e.actor,
                    "sku": e.sku,
                    "location_id": e.location_id,
                    "field": e.field,
                    "before": e.before,
                    "after": e.after,
                    "reference": e.reference,
                }
                for e in entries
            ],
        )

    async def page(
        self,
        *,
        sku: str | None,
        location_id: str | None,
        start: datetime | None,
        end: datetime | None,
        kinds: Sequence[AuditKind] | None,
        first: int,
        after: AuditCursor | None,
    ) -> tuple[list[AuditEntry], bool]:
        query = select(audit)
        if sku is not None:
            query = query.where(audit.c.sku == sku)
        if location_id is not None:
            query = query.where(audit.c.location_id == location_id)
        if start is not None:
            query = query.where(audit.c.at >= start)
        if end is not None:
            query = query.where(audit.c.at < end)
        if kinds:
            query = query.where(audit.c.kind.in_([k.value for k in kinds]))
        if after is not None:
            at, last_id = after
            query = query.where(or_(audit.c.at < at, and_(audit.c.at == at, audit.c.id < last_id)))
        query = query.order_by(audit.c.at.desc(), audit.c.id.desc()).limit(first + 1)
        rows = list(await self._conn.execute(query))
        return [
            AuditEntry(
                at=r.at,
                kind=AuditKind(r.kind),
                system=SourceSystem(r.system),
                actor=r.actor,
                sku=r.sku,
                field=r.field,
                before=r.before,
                after=r.after,
                location_id=r.location_id,
                reference=r.reference,
                id=r.id,
            )
            for r in rows[:first]
        ], len(rows) > first


class SqlObservations:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def last_values(
        self, skus: Sequence[str], fields: Mapping[SourceSystem, Collection[str]]
    ) -> dict[tuple[SourceSystem, str, str, str], str]:
        if not skus or not fields:
            return {}
        # One statement for every system (a reconcile page asks for three); the fields are
        # sorted out here.
        rows = await self._conn.execute(
            select(
                observations.c.system,
                observations.c.sku,
                observations.c.location_id,
                observations.c.field,
                observations.c.value,
            ).where(
                observations.c.sku.in_(list(skus)),
                observations.c.system.in_([system.value for system in fields]),
            )
        )
        systems = {system.value: system for system in fields}
        found: dict[tuple[SourceSystem, str, str, str], str] = {}
        for system_value, sku, location_id, field, value in rows:
            system = systems[system_value]
            if field in fields[system]:
                found[(system, sku, location_id, field)] = value
        return found

    async def record(self, seen: Sequence[Observation]) -> None:
        if not seen:
            return
        statement = upsert_insert(self._conn, observations)
        statement = statement.on_conflict_do_update(
            index_elements=["sku", "system", "location_id", "field"],
            set_={"value": statement.excluded.value, "seen_at": statement.excluded.seen_at},
        )
        await self._conn.execute(
            statement,
            [
                {
                    "system": o.system,
                    "sku": o.sku,
                    "location_id": o.location_id,
                    "field": o.field,
                    "value": o.value,
                    "seen_at": o.seen_at,
                }
                for o in seen
            ],
        )
