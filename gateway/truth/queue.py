"""The discrepancy queue's rules (pure): who owns a disagreement, by when, and how a record
moves (gateway.domain.truth draws the states).

``settle`` applies one reconcile's evaluation to the records it concerns: a finding opens a
record for its key, updates it, or reopens it; a key that was checked and agrees closes its
open record (AUTO_RESOLVED). A key never has two records: the caller passes the one it has.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from gateway.config import OwnerRule, TruthSettings
from gateway.domain.truth import (
    Discrepancy,
    DiscrepancyKey,
    DiscrepancyStatus,
    Finding,
    HistoryAction,
    HistoryEntry,
    Resolution,
)
from gateway.errors import BadUserInput, IllegalTransition

S = DiscrepancyStatus
RECONCILER = "reconciler"


def owner_for(finding: Finding, rules: Sequence[OwnerRule], default: str) -> str:
    """The first rule whose every given condition matches; else the default owner."""
    for rule in rules:
        if rule.kinds is not None and finding.key.kind not in rule.kinds:
            continue
        if rule.categories is not None and finding.category not in rule.categories:
            continue
        if rule.location_types is not None and (
            finding.location_type is None
            or finding.location_type not in [t.value for t in rule.location_types]
        ):
            continue
        return rule.owner
    return default


def due(finding: Finding, opened_at: datetime, policy: TruthSettings) -> datetime:
    return opened_at + timedelta(hours=policy.sla_hours[finding.severity])


def opened(finding: Finding, id: str, now: datetime, policy: TruthSettings) -> Discrepancy:
    owner = owner_for(finding, policy.owners, policy.default_owner)
    return Discrepancy(
        id=id,
        key=finding.key,
        severity=finding.severity,
        truth=finding.truth,
        copy=finding.copy,
        rule=finding.rule,
        owner=owner,
        due_at=due(finding, now, policy),
        status=S.OPEN,
        opened_at=now,
        updated_at=now,
        delta=finding.delta,
        at_stake=finding.at_stake,
        history=(HistoryEntry(now, HistoryAction.OPENED, RECONCILER, S.OPEN, finding.rule),),
        proposal=finding.proposal,
    )


def seen_again(
    record: Discrepancy, finding: Finding, now: datetime, policy: TruthSettings
) -> Discrepancy | None:
    """The record after its key disagrees again; None when nothing about it changed."""
    figures = replace(
        record,
        severity=finding.severity,
        truth=finding.truth,
        copy=finding.copy,
        rule=finding.rule,
        delta=finding.delta,
        at_stake=finding.at_stake,
        proposal=finding.proposal,
        updated_at=now,
    )
    if not record.status.is_open:
        return replace(
            figures,
            status=S.OPEN,
            opened_at=now,
            due_at=due(finding, now, policy),
            resolved_at=None,
            resolution=None,
            history=(
                *record.history,
                HistoryEntry(now, HistoryAction.REOPENED, RECONCILER, S.OPEN, finding.rule),
            ),
        )
    if (record.truth.value, record.copy.value, record.severity) == (
        finding.truth.value,
        finding.copy.value,
        finding.severity,
    ):
        return None
    # A severity that grows shortens the deadline; one that shrinks keeps it.
    deadline = min(record.due_at, due(finding, record.opened_at, policy))
    return replace(
        figures,
        due_at=deadline,
        history=(
            *record.history,
            HistoryEntry(
                now,
                HistoryAction.UPDATED,
                RECONCILER,
                record.status,
                f"{finding.copy.value} against {finding.truth.value}",
            ),
        ),
    )


def agreed(record: Discrepancy, now: datetime, note: str, actor: str = RECONCILER) -> Discrepancy:
    """The sides agree again: an open record closes by itself."""
    return replace(
        record,
        status=S.AUTO_RESOLVED,
        updated_at=now,
        resolved_at=now,
        history=(
            *record.history,
            HistoryEntry(now, HistoryAction.AUTO_RESOLVED, actor, S.AUTO_RESOLVED, note),
        ),
    )


def acknowledged(record: Discrepancy, now: datetime, actor: str, note: str | None) -> Discrepancy:
    if record.status is S.ACKNOWLEDGED:
        return record
    _require_open(record, "acknowledge")
    return replace(
        record,
        status=S.ACKNOWLEDGED,
        updated_at=now,
        history=(
            *record.history,
            HistoryEntry(now, HistoryAction.ACKNOWLEDGED, actor, S.ACKNOWLEDGED, note),
        ),
    )


def assigned(
    record: Discrepancy, owner: str, now: datetime, actor: str, note: str | None
) -> Discrepancy:
    if not owner.strip():
        raise BadUserInput("owner must name someone", field="owner")
    _require_open(record, "assign")
    return replace(
        record,
        owner=owner.strip(),
        updated_at=now,
        history=(
            *record.history,
            HistoryEntry(
                now,
                HistoryAction.ASSIGNED,
                actor,
                record.status,
                f"to {owner.strip()}" + (f": {note}" if note else ""),
            ),
        ),
    )


def resolved(
    record: Discrepancy, resolution: Resolution, now: datetime, actor: str, note: str | None
) -> Discrepancy:
    _require_open(record, "resolve")
    return replace(
        record,
        status=S.RESOLVED,
        updated_at=now,
        resolved_at=now,
        resolution=resolution,
        history=(
            *record.history,
            HistoryEntry(
                now,
                HistoryAction.RESOLVED,
                actor,
                S.RESOLVED,
                resolution.value + (f": {note}" if note else ""),
            ),
        ),
    )


def enforced(record: Discrepancy, now: datetime, note: str) -> Discrepancy:
    return replace(
        record,
        updated_at=now,
        history=(
            *record.history,
            HistoryEntry(now, HistoryAction.ENFORCED, "gateway", record.status, note),
        ),
    )


def _require_open(record: Discrepancy, action: str) -> None:
    if not record.status.is_open:
        raise IllegalTransition(
            f"Discrepancy {record.id} is {record.status.value}: nothing to {action}",
            status=record.status.value,
        )


@dataclass(frozen=True, slots=True)
class Settled:
    """What one evaluation changes in the queue: records to insert and to update."""

    new: tuple[Discrepancy, ...] = ()
    changed: tuple[Discrepancy, ...] = ()


def settle(
    findings: Iterable[Finding],
    checked: Iterable[DiscrepancyKey],
    records: Mapping[DiscrepancyKey, Discrepancy],
    now: datetime,
    policy: TruthSettings,
    new_id: Callable[[], str],
) -> Settled:
    """Apply an evaluation to the queue. ``records`` holds the one record each key has (in
    any status); a finding whose key has none opens one."""
    new: list[Discrepancy] = []
    changed: list[Discrepancy] = []
    disagreeing: set[DiscrepancyKey] = set()
    for finding in findings:
        if finding.key in disagreeing:
            continue  # one finding per key and read
        disagreeing.add(finding.key)
        record = records.get(finding.key)
        if record is None:
            new.append(opened(finding, new_id(), now, policy))
            continue
        updated = seen_again(record, finding, now, policy)
        if updated is not None:
            changed.append(updated)
    for key in set(checked) - disagreeing:
        record = records.get(key)
        if record is not None and record.status.is_open:
            changed.append(agreed(record, now, "the copy agrees with the truth again"))
    return Settled(tuple(new), tuple(changed))
