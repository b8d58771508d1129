"""The classification rules (pure): what a copy must show, and what kind of disagreement it
is when it shows something else.

Each rule looks at one SKU and says which keys it checked and which of them disagree, so a
key that was checked and agrees can close an open discrepancy (``queue.settle``), while keys
that were not checked this time are left alone.

Timing. A copy lags behind its truth by design: a hold the gateway took a second ago is not
on the storefront yet. A stock difference is a discrepancy only when it is larger than what
the gateway changed for that SKU within the grace period plus what it has queued for the
copy already (``in_flight``), or when the same difference was seen at the previous read too
(``seen_before``): it persisted across two reads.

Severity. What a stock difference puts at stake is its units times the SKU's price; the
policy's thresholds turn that into LOW, MEDIUM, HIGH or CRITICAL. The kinds without units
(a missing mapping, a barcode, a name) take the severity the policy gives the kind.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from gateway.config import TruthSettings
from gateway.domain import ItemMaster, Money, PosVariation, SourceSystem, WebListing
from gateway.domain.truth import DiscrepancyKey, DiscrepancyKind, Figure, Finding, Severity

K = DiscrepancyKind
WEB = SourceSystem.STOREFRONT
IN_STOCK, OUT_OF_STOCK, ON_BACKORDER = "instock", "outofstock", "onbackorder"


@dataclass(frozen=True, slots=True)
class Evaluation:
    """What a rule checked, what of that disagrees, and what disagrees by no more than is
    in flight (``suspects``: a discrepancy if it is still there at the next read)."""

    checked: frozenset[DiscrepancyKey] = frozenset()
    findings: tuple[Finding, ...] = ()
    suspects: frozenset[DiscrepancyKey] = frozenset()

    def __add__(self, other: Evaluation) -> Evaluation:
        return Evaluation(
            self.checked | other.checked,
            self.findings + other.findings,
            self.suspects | other.suspects,
        )


NOTHING = Evaluation()


@dataclass(frozen=True, slots=True)
class WebStockTruth:
    """What the storefront should show for one SKU, and what explains a lag."""

    sku: str
    available: int  # the ONLINE available-to-promise, holds deducted
    as_of: datetime | None  # the stalest source reading behind it
    price: Money | None  # to weigh a difference in money
    category: str | None = None
    kit: bool = False
    in_flight: int = 0  # units the gateway changed within the grace period or has queued
    seen_before: frozenset[DiscrepancyKind] = field(default_factory=frozenset)


def expected_web_quantity(available: int, buffer: int) -> int:
    return max(0, available - buffer)


def severity_of(at_stake: Money | None, policy: TruthSettings) -> Severity:
    if at_stake is None:
        return Severity.LOW
    minor = abs(at_stake.to_minor())
    found = Severity.LOW
    for severity in (Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL):
        threshold = policy.severity_at_stake.get(severity)
        if threshold is not None and minor >= threshold:
            found = severity
    return found


def kind_severity(kind: DiscrepancyKind, policy: TruthSettings) -> Severity:
    return policy.severity_of_kind.get(kind, Severity.MEDIUM)


def worth(units: int, price: Money | None) -> Money | None:
    if price is None:
        return None
    return Money(price.amount * abs(units), price.currency)


def lag_explains(delta: int, in_flight: int, seen_before: bool) -> bool:
    """A difference no larger than what is in flight, seen for the first time, is a lag."""
    return not seen_before and abs(delta) <= in_flight


def web_stock(
    truth: WebStockTruth, listing: WebListing | None, policy: TruthSettings
) -> Evaluation:
    """The storefront's stock fields against the ONLINE available-to-promise."""
    keys = {kind: DiscrepancyKey(kind, truth.sku, "", WEB) for kind in _STOCK_KINDS}
    if listing is None:
        return NOTHING  # no listing: the catalogue rule speaks for it
    checked = frozenset(keys.values())
    expected = expected_web_quantity(truth.available, policy.web_stock_buffer)
    truth_figure = Figure(SourceSystem.GATEWAY, str(expected), truth.as_of)
    findings: list[Finding] = []
    suspects: set[DiscrepancyKey] = set()
    managed = listing.manage_stock and not truth.kit
    if managed:
        shown = listing.stock_quantity or 0
        delta = shown - expected
        kind = K.OVERSELL_RISK if delta > 0 else K.LOST_SALES
        if delta and lag_explains(delta, truth.in_flight, kind in truth.seen_before):
            suspects.add(keys[kind])
        elif delta:
            at_stake = worth(delta, truth.price)
            findings.append(
                Finding(
                    keys[kind],
                    truth_figure,
                    Figure(WEB, str(shown), listing.modified),
                    severity_of(at_stake, policy),
                    _quantity_rule(kind, shown, expected, truth.available, policy),
                    delta,
                    at_stake,
                    truth.category,
                )
            )
    status = _status_problems(listing, expected, managed, policy)
    if status:
        findings.append(
            Finding(
                keys[K.STATUS_MISMATCH],
                Figure(SourceSystem.GATEWAY, _expected_status(expected, policy), truth.as_of),
                Figure(
                    WEB,
                    f"{listing.stock_status}, backorders {listing.backorders}",
                    listing.modified,
                ),
                kind_severity(K.STATUS_MISMATCH, policy),
                "; ".join(status),
                category=truth.category,
            )
        )
    return Evaluation(checked, tuple(findings), frozenset(suspects))


_STOCK_KINDS = (K.OVERSELL_RISK, K.LOST_SALES, K.STATUS_MISMATCH)


def _quantity_rule(
    kind: DiscrepancyKind, shown: int, expected: int, available: int, policy: TruthSettings
) -> str:
    buffer = f" less the buffer of {policy.web_stock_buffer}" if policy.web_stock_buffer else ""
    truth = f"the ONLINE available-to-promise ({available}){buffer} is {expected}"
    if kind is K.OVERSELL_RISK:
        return f"the storefront shows {shown} but {truth}: it can sell what is not there"
    if shown == 0:
        return f"the storefront shows sold out but {truth}"
    return f"the storefront shows {shown} but {truth}: it sells less than it could"


def _expected_status(expected: int, policy: TruthSettings) -> str:
    return IN_STOCK if expected > 0 else OUT_OF_STOCK


def _status_problems(
    listing: WebListing, expected: int, managed: bool, policy: TruthSettings
) -> list[str]:
    problems = []
    if listing.stock_status == IN_STOCK and expected == 0:
        problems.append("in stock on the storefront with nothing to promise")
    elif listing.stock_status == OUT_OF_STOCK and expected > 0:
        problems.append(f"out of stock on the storefront with {expected} to promise")
    elif listing.stock_status == ON_BACKORDER and expected > 0:
        problems.append(f"on backorder on the storefront with {expected} to promise")
    if listing.backorders != "no" and not policy.web_backorders_allowed:
        problems.append(f"backorders '{listing.backorders}' where policy allows none")
    if managed and problems and listing.stock_quantity is not None:
        # With stock managed, WooCommerce derives the status from the quantity: only the
        # backorder flag can contradict policy on its own.
        problems = [p for p in problems if p.startswith("backorders")]
    return problems


def catalogue(
    item: ItemMaster,
    listing: WebListing | None,
    variation: PosVariation | None,
    *,
    stock_item: bool,
    policy: TruthSettings,
    as_of: datetime | None = None,
) -> Evaluation:
    """A sellable ERP item has a storefront listing, and a stock item a POS variation."""
    checks: list[tuple[SourceSystem, bool]] = [(WEB, listing is not None)]
    if stock_item:
        checks.append((SourceSystem.POS, variation is not None))
    checked = frozenset(
        DiscrepancyKey(K.MAPPING_MISSING, item.sku, "", system) for system, _ in checks
    )
    findings = tuple(
        Finding(
            DiscrepancyKey(K.MAPPING_MISSING, item.sku, "", system),
            Figure(SourceSystem.ERP, f"item {item.sku} ({item.name})", as_of or item.modified),
            Figure(system, "no listing" if system is WEB else "no catalog object", None),
            kind_severity(K.MAPPING_MISSING, policy),
            f"the ERP sells {item.sku} but {'the storefront has no product or variation' if system is WEB else 'Square has no item variation'} with that SKU",  # noqa: E501
            category=item.category,
        )
        for system, present in checks
        if not present
    )
    return Evaluation(checked, findings)


def item_master(item: ItemMaster, listing: WebListing | None, policy: TruthSettings) -> Evaluation:
    """The fields the ERP owns, spelled as the ERP spells them on the storefront."""
    if listing is None or "name" not in policy.item_master_fields:
        return NOTHING
    key = DiscrepancyKey(K.ITEM_MASTER_MISMATCH, item.sku, "", WEB)
    if _same_name(item.name, listing.name):
        return Evaluation(frozenset({key}))
    return Evaluation(
        frozenset({key}),
        (
            Finding(
                key,
                Figure(SourceSystem.ERP, item.name, item.modified),
                Figure(WEB, listing.name, listing.modified),
                kind_severity(K.ITEM_MASTER_MISMATCH, policy),
                "the storefront names the item differently from the ERP",
                category=item.category,
            ),
        ),
    )


def _same_name(erp: str, copy: str) -> bool:
    """Case, spacing and punctuation aside: WooCommerce names a variation "Shell - XL"
    where the ERP names its variant "Shell-XL", and that is the same name."""
    return _letters(erp) == _letters(copy)


def _letters(name: str) -> str:
    return "".join(c for c in name.casefold() if c.isalnum())


def barcodes(
    items: Iterable[ItemMaster],
    variations: Mapping[str, PosVariation],
    pos_barcodes: Mapping[str, str | None],
    owners_elsewhere: Mapping[str, str],
    policy: TruthSettings,
) -> Evaluation:
    """One barcode on two items (``owners_elsewhere``: barcode -> the SKU that already
    carries it), or a Square variation whose barcode is not one of the ERP item's."""
    checked: set[DiscrepancyKey] = set()
    findings: list[Finding] = []
    for item in items:
        erp_key = DiscrepancyKey(K.BARCODE_CONFLICT, item.sku, "", SourceSystem.ERP)
        checked.add(erp_key)
        for code in item.barcodes:
            other = owners_elsewhere.get(code)
            if other is not None and other != item.sku:
                findings.append(
                    Finding(
                        erp_key,
                        Figure(SourceSystem.ERP, f"{code} on {other}", None),
                        Figure(SourceSystem.ERP, f"{code} on {item.sku}", item.modified),
                        kind_severity(K.BARCODE_CONFLICT, policy),
                        f"barcode {code} is on both {other} and {item.sku} in the ERP",
                        category=item.category,
                    )
                )
                break
        if item.sku not in variations:
            continue
        pos_key = DiscrepancyKey(K.BARCODE_CONFLICT, item.sku, "", SourceSystem.POS)
        checked.add(pos_key)
        scanned = pos_barcodes.get(item.sku)
        if scanned and item.barcodes and scanned not in item.barcodes:
            findings.append(
                Finding(
                    pos_key,
                    Figure(SourceSystem.ERP, ", ".join(item.barcodes), item.modified),
                    Figure(SourceSystem.POS, scanned, None),
                    kind_severity(K.BARCODE_CONFLICT, policy),
                    f"Square scans {scanned} as {item.sku}, which the ERP does not know it by",
                    category=item.category,
                )
            )
    return Evaluation(frozenset(checked), tuple(findings))


def price_jump(
    sku: str,
    system: SourceSystem,
    before: Money | None,
    after: Money | None,
    at: datetime,
    policy: TruthSettings,
    category: str | None = None,
) -> Evaluation:
    """A channel's price moved by at least the policy's jump: flagged for its owner. (Every
    change, however small, goes to the audit trail; this is only the ones to look at.)"""
    key = DiscrepancyKey(K.PRICE_CHANGED, sku, "", system)
    if before is None or after is None or before.amount == 0 or before == after:
        return NOTHING
    change = (after.amount - before.amount) / before.amount * 100
    if abs(change) < Decimal(policy.price_jump_percent):
        return NOTHING
    return Evaluation(
        frozenset({key}),
        (
            Finding(
                key,
                Figure(system, str(before.amount), None),
                Figure(system, str(after.amount), at),
                kind_severity(K.PRICE_CHANGED, policy),
                f"the price moved {change:+.0f} % ({before.amount} -> {after.amount}), at "
                f"least the {policy.price_jump_percent} % policy flags",
                category=category,
            ),
        ),
    )


def every(evaluations: Iterable[Evaluation]) -> Evaluation:
    """All of them as one, built once (adding them one by one copies the sets each time:
    quadratic over a page's hundreds of rule results)."""
    checked: set[DiscrepancyKey] = set()
    findings: list[Finding] = []
    suspects: set[DiscrepancyKey] = set()
    for evaluation in evaluations:
        checked |= evaluation.checked
        findings += evaluation.findings
        suspects |= evaluation.suspects
    return Evaluation(frozenset(checked), tuple(findings), frozenset(suspects))
