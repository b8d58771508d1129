"""The classification rules (gateway/truth/rules.py), as properties over every figure."""

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from gateway.config import TruthSettings
from gateway.domain import ItemMaster, Money, PosVariation, SourceSystem, WebListing
from gateway.domain.truth import DiscrepancyKind, Severity
from gateway.truth.rules import (
    WebStockTruth,
    barcodes,
    catalogue,
    expected_web_quantity,
    item_master,
    price_jump,
    severity_of,
    web_stock,
)

K = DiscrepancyKind
NOW = datetime(2026, 12, 3, 10, 6, tzinfo=UTC)
POLICY = TruthSettings()
units = st.integers(min_value=0, max_value=500)


def eur(amount: str) -> Money:
    return Money(Decimal(amount), "EUR")


def listing(quantity: int | None, status: str | None = None, *, manage=True, backorders="no"):
    if status is None:
        status = "instock" if (quantity or 0) > 0 else "outofstock"
    return WebListing(
        sku="SOCK", product_id=1, variation_id=None, name="Socks", price=eur("14.00"),
        status="publish", permalink=None, manage_stock=manage, stock_quantity=quantity,
        stock_status=status, backorders=backorders, modified=NOW,
    )  # fmt: skip


def truth(available: int, *, in_flight=0, seen_before=frozenset(), kit=False, price="14.00"):
    return WebStockTruth(
        "SOCK", available, NOW, eur(price), "Socks", kit=kit, in_flight=in_flight,
        seen_before=seen_before,
    )  # fmt: skip


@given(available=units, buffer=st.integers(min_value=0, max_value=20))
def test_a_copy_that_shows_the_truth_never_opens_a_discrepancy(available, buffer):
    policy = TruthSettings(web_stock_buffer=buffer)
    shown = expected_web_quantity(available, buffer)
    evaluation = web_stock(truth(available), listing(shown), policy)
    assert evaluation.findings == () and evaluation.suspects == frozenset()
    # ...and every stock kind was checked, so an open one can close.
    assert {k.kind for k in evaluation.checked} == {
        K.OVERSELL_RISK, K.LOST_SALES, K.STATUS_MISMATCH,
    }  # fmt: skip


@given(available=units, shown=units)
def test_a_copy_showing_more_is_an_oversell_risk_and_less_lost_sales(available, shown):
    evaluation = web_stock(truth(available), listing(shown), POLICY)
    kinds = [f.key.kind for f in evaluation.findings]
    if shown > available:
        assert kinds == [K.OVERSELL_RISK]
        assert evaluation.findings[0].delta == shown - available
    elif shown < available:
        assert kinds == [K.LOST_SALES]
        assert evaluation.findings[0].delta == shown - available
    else:
        assert kinds == []


@given(available=units, shown=units, in_flight=units)
def test_a_difference_within_what_is_in_flight_waits_for_a_second_read(available, shown, in_flight):
    first = web_stock(truth(available, in_flight=in_flight), listing(shown), POLICY)
    delta = shown - available
    if delta == 0:
        assert first.findings == () and first.suspects == frozenset()
        return
    if abs(delta) <= in_flight:
        # First seen and no larger than the gateway's own changes still on their way: a lag.
        assert first.findings == () and len(first.suspects) == 1
        kind = next(iter(first.suspects)).kind
        # Still there at the next read: now it is a discrepancy.
        second = web_stock(
            truth(available, in_flight=in_flight, seen_before=frozenset({kind})),
            listing(shown),
            POLICY,
        )
        assert [f.key.kind for f in second.findings] == [kind]
    else:
        assert len(first.findings) == 1 and first.suspects == frozenset()


def test_the_money_at_stake_sets_the_severity():
    # 3 units too many of a 14.00 item put 42.00 at stake: below MEDIUM's 100.00.
    [low] = web_stock(truth(5), listing(8), POLICY).findings
    assert (low.at_stake, low.severity) == (eur("42.00"), Severity.LOW)
    [high] = web_stock(truth(5, price="900.00"), listing(8), POLICY).findings
    assert high.severity is Severity.HIGH  # 2,700.00


@given(a=st.integers(min_value=0, max_value=10**9), b=st.integers(min_value=0, max_value=10**9))
def test_more_money_at_stake_is_never_less_severe(a, b):
    low, high = sorted((a, b))
    assert (
        severity_of(Money.from_minor(low, "EUR"), POLICY).rank
        <= severity_of(Money.from_minor(high, "EUR"), POLICY).rank
    )


def test_a_kit_in_stock_with_nothing_to_promise_is_a_status_mismatch():
    kit = listing(None, "instock", manage=False)
    [finding] = web_stock(truth(0, kit=True), kit, POLICY).findings
    assert finding.key.kind is K.STATUS_MISMATCH and "nothing to promise" in finding.rule
    assert web_stock(truth(4, kit=True), kit, POLICY).findings == ()
    [sold_out] = web_stock(
        truth(4, kit=True), listing(None, "outofstock", manage=False), POLICY
    ).findings
    assert sold_out.key.kind is K.STATUS_MISMATCH


def test_backorders_where_policy_allows_none_are_a_status_mismatch():
    [finding] = web_stock(truth(5), listing(5, backorders="notify"), POLICY).findings
    assert finding.key.kind is K.STATUS_MISMATCH and "backorders" in finding.rule
    allowed = TruthSettings(web_backorders_allowed=True)
    assert web_stock(truth(5), listing(5, backorders="notify"), allowed).findings == ()


def test_the_buffer_is_kept_back_from_the_storefront():
    policy = TruthSettings(web_stock_buffer=2)
    assert web_stock(truth(10), listing(8), policy).findings == ()
    [finding] = web_stock(truth(10), listing(10), policy).findings
    assert finding.key.kind is K.OVERSELL_RISK and "buffer of 2" in finding.rule


ITEM = ItemMaster("SOCK", "Merino Socks", "Socks", barcodes=("4006381333931",))
VARIATION = PosVariation("SOCK", "V1", "I1", "Merino Socks", eur("14.00"))


def test_a_sellable_item_without_a_listing_or_a_square_variation_is_a_missing_mapping():
    evaluation = catalogue(ITEM, None, None, stock_item=True, policy=POLICY)
    assert sorted(f.key.system for f in evaluation.findings) == [
        SourceSystem.POS, SourceSystem.STOREFRONT,
    ]  # fmt: skip
    ok = catalogue(ITEM, listing(3), VARIATION, stock_item=True, policy=POLICY)
    assert ok.findings == () and len(ok.checked) == 2
    # A kit is no stock item: Square needs no variation for it.
    assert catalogue(ITEM, listing(3), None, stock_item=False, policy=POLICY).findings == ()


def test_a_name_the_storefront_spells_differently_is_an_item_master_mismatch():
    differs = item_master(ITEM, listing(3), POLICY)  # "Socks" vs "Merino Socks"
    assert [f.key.kind for f in differs.findings] == [K.ITEM_MASTER_MISMATCH]
    # Case and spacing are not a different name.
    spaced = replace(listing(3), name=" merino  SOCKS ")
    same = item_master(ITEM, spaced, POLICY)
    assert same.findings == () and len(same.checked) == 1


def test_one_barcode_on_two_items_and_a_square_barcode_the_erp_lacks_are_conflicts():
    other = ItemMaster("SOCK-B", "Other Socks", "Socks", barcodes=("4006381333931",))
    evaluation = barcodes(
        [ITEM, other], {"SOCK": VARIATION}, {"SOCK": "0000000000017"},
        {"4006381333931": "SOCK"}, POLICY,
    )  # fmt: skip
    systems = sorted((f.key.sku, f.key.system) for f in evaluation.findings)
    assert systems == [("SOCK", SourceSystem.POS), ("SOCK-B", SourceSystem.ERP)]
    clean = barcodes([ITEM], {"SOCK": VARIATION}, {"SOCK": "4006381333931"}, {}, POLICY)
    assert clean.findings == () and len(clean.checked) == 2


def test_a_price_jump_at_least_the_policy_s_is_flagged_and_a_small_move_is_not():
    [jump] = price_jump(
        "SOCK", SourceSystem.STOREFRONT, eur("191.99"), eur("10.00"), NOW, POLICY
    ).findings
    assert jump.key.kind is K.PRICE_CHANGED and "-95 %" in jump.rule
    small = price_jump("SOCK", SourceSystem.STOREFRONT, eur("10.00"), eur("11.00"), NOW, POLICY)
    assert small.findings == () and small.checked == frozenset()
