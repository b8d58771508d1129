"""Which system is right about what, and which copies must follow: the source-of-truth
policy, read from settings (``TRUTH__*``) and checked when the gateway starts.

    figure                    node type   authority   why
    stock                     WAREHOUSE   ERP         Bins: where warehouse movements are posted
    stock                     STORE       POS         Square counts: where a till sale is rung up
    holds                     any         GATEWAY     the ledger: promises not yet in a source
    item master               -           ERP         the system of record for what an item is
    web / store / list price  -           STOREFRONT / POS / ERP: each channel owns its price

    copy                                  follows                          when it differs
    storefront stock_quantity and         the ONLINE available-to-promise  OVERSELL_RISK,
      stock_status, per product and       less TRUTH__WEB_STOCK_BUFFER     LOST_SALES,
      variation                                                            STATUS_MISMATCH
    storefront and POS catalogues         the ERP's items                  MAPPING_MISSING
    POS barcodes (UPC/GTIN)               the ERP's barcodes               BARCODE_CONFLICT
    storefront and POS item names         the ERP's item names             ITEM_MASTER_MISMATCH

WooCommerce holds nothing anyone should trust about stock: it is a consumer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from gateway.config import TruthSettings
from gateway.domain import NodeType, SourceSystem
from gateway.domain.truth import DiscrepancyKind, Enforcement, Severity

# The kinds the gateway can correct itself, by pushing the truth into the storefront copy.
ENFORCEABLE = frozenset(
    {
        DiscrepancyKind.OVERSELL_RISK,
        DiscrepancyKind.LOST_SALES,
        DiscrepancyKind.STATUS_MISMATCH,
    }
)
# Where each node type's stock can be read from at all (gateway.nodes builds them so).
READABLE_STOCK = {NodeType.WAREHOUSE: SourceSystem.ERP, NodeType.STORE: SourceSystem.POS}
ITEM_MASTER_FIELDS = ("name", "category", "barcodes", "tax_category")


class PolicyError(ValueError):
    """The settings contradict what the gateway can know; every problem is listed."""


@dataclass(frozen=True, slots=True)
class Authority:
    figure: str
    node_type: NodeType | None
    system: SourceSystem
    why: str


@dataclass(frozen=True, slots=True)
class CopyRule:
    system: SourceSystem
    figure: str
    follows: str
    buffer: int
    kinds: tuple[DiscrepancyKind, ...]
    enforcement: Mapping[DiscrepancyKind, Enforcement]


@dataclass(frozen=True, slots=True)
class SourceOfTruth:
    authorities: tuple[Authority, ...]
    copies: tuple[CopyRule, ...]
    oversell_risk_promise_cap: int | None = None


def check(truth: TruthSettings, field_policy: Mapping[str, Sequence[SourceSystem]]) -> None:
    """Refuse settings the gateway cannot honour, naming the setting and why."""
    problems: list[str] = []
    for node_type, setting, chosen in (
        (NodeType.WAREHOUSE, "TRUTH__WAREHOUSE_STOCK", truth.warehouse_stock),
        (NodeType.STORE, "TRUTH__STORE_STOCK", truth.store_stock),
    ):
        readable = READABLE_STOCK[node_type]
        if chosen is not readable:
            problems.append(
                f"{setting} is {chosen}, but a {node_type.value.lower()}'s stock can only be "
                f"read from {readable} ({'Bins' if readable is SourceSystem.ERP else 'counts'})"
            )
    if truth.item_master is not SourceSystem.ERP:
        problems.append(
            f"TRUTH__ITEM_MASTER is {truth.item_master}: only the ERP holds the item master"
        )
    for field in ITEM_MASTER_FIELDS:
        systems = list(field_policy.get(field, []))
        if systems and systems[0] is not truth.item_master:
            problems.append(
                f"FIELD_POLICY puts {systems[0]} first for {field!r}, but the item master's "
                f"authority is {truth.item_master}"
            )
    for kind, enforcement in truth.enforcement.items():
        if enforcement is Enforcement.ENFORCE and kind not in ENFORCEABLE:
            allowed = ", ".join(sorted(ENFORCEABLE))
            problems.append(
                f"TRUTH__ENFORCEMENT: {kind} cannot be enforced, only flagged; the gateway "
                f"corrects only {allowed}"
            )
    thresholds = truth.severity_at_stake
    if Severity.LOW in thresholds:
        problems.append("TRUTH__SEVERITY_AT_STAKE: LOW is what stays below MEDIUM; omit it")
    ordered = [thresholds[s] for s in (Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL)
               if s in thresholds]  # fmt: skip
    if ordered != sorted(ordered) or any(v <= 0 for v in ordered):
        problems.append(
            "TRUTH__SEVERITY_AT_STAKE must grow from MEDIUM to HIGH to CRITICAL, all above 0"
        )
    missing = [s.value for s in Severity if s not in truth.sla_hours]
    if missing or any(hours <= 0 for hours in truth.sla_hours.values()):
        problems.append(
            "TRUTH__SLA_HOURS needs a positive number of hours for every severity"
            + (f" (missing: {', '.join(missing)})" if missing else "")
        )
    if not truth.default_owner.strip():
        problems.append("TRUTH__DEFAULT_OWNER must name an owner")
    if problems:
        raise PolicyError("The source-of-truth policy cannot be used:\n- " + "\n- ".join(problems))


def source_of_truth(
    truth: TruthSettings, field_policy: Mapping[str, Sequence[SourceSystem]]
) -> SourceOfTruth:
    """The policy as a support agent reads it (GraphQL ``sourceOfTruth``)."""

    def first(field: str, default: SourceSystem) -> SourceSystem:
        systems = list(field_policy.get(field, []))
        return systems[0] if systems else default

    def enforcement(kinds: Sequence[DiscrepancyKind]) -> dict[DiscrepancyKind, Enforcement]:
        return {k: truth.enforcement.get(k, Enforcement.FLAG) for k in kinds}

    stock_kinds = (
        DiscrepancyKind.OVERSELL_RISK,
        DiscrepancyKind.LOST_SALES,
        DiscrepancyKind.STATUS_MISMATCH,
    )
    names = (DiscrepancyKind.ITEM_MASTER_MISMATCH,)
    return SourceOfTruth(
        authorities=(
            Authority(
                "stock",
                NodeType.WAREHOUSE,
                truth.warehouse_stock,
                "ERPNext Bins: where warehouse receipts, transfers and shipments are posted",
            ),
            Authority(
                "stock",
                NodeType.STORE,
                truth.store_stock,
                "Square counts: where a sale at the till is rung up",
            ),
            Authority(
                "holds",
                None,
                SourceSystem.GATEWAY,
                "the gateway's ledger: units promised that no source has recorded yet",
            ),
            Authority(
                "item master",
                None,
                truth.item_master,
                "the system of record for what an item is (name, category, barcodes, tax)",
            ),
            Authority(
                "web price", None, first("web_price", SourceSystem.STOREFRONT), "its channel"
            ),
            Authority("store price", None, first("store_price", SourceSystem.POS), "its channel"),
            Authority("list price", None, first("list_price", SourceSystem.ERP), "its channel"),
        ),
        copies=(
            CopyRule(
                SourceSystem.STOREFRONT,
                "stock_quantity and stock_status, per product and variation",
                "the ONLINE available-to-promise",
                truth.web_stock_buffer,
                stock_kinds,
                enforcement(stock_kinds),
            ),
            CopyRule(
                SourceSystem.STOREFRONT,
                "the catalogue (one listing per sellable SKU)",
                "the ERP's items",
                0,
                (DiscrepancyKind.MAPPING_MISSING,),
                enforcement((DiscrepancyKind.MAPPING_MISSING,)),
            ),
            CopyRule(
                SourceSystem.POS,
                "the catalogue (one item variation per sellable stock SKU) and its barcodes",
                "the ERP's items and barcodes",
                0,
                (DiscrepancyKind.MAPPING_MISSING, DiscrepancyKind.BARCODE_CONFLICT),
                enforcement((DiscrepancyKind.MAPPING_MISSING, DiscrepancyKind.BARCODE_CONFLICT)),
            ),
            CopyRule(
                SourceSystem.STOREFRONT,
                ", ".join(truth.item_master_fields),
                "the ERP's item master",
                0,
                names,
                enforcement(names),
            ),
            CopyRule(
                SourceSystem.POS,
                ", ".join(truth.item_master_fields),
                "the ERP's item master",
                0,
                names,
                enforcement(names),
            ),
        ),
        oversell_risk_promise_cap=truth.oversell_risk_promise_cap,
    )
