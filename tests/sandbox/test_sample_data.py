from hypothesis import given
from hypothesis import strategies as st

from sandbox.retailer import STORE_SAFETY_STOCK, draw, draws
from sandbox.sample_data import generate, gtin_check_digit


def test_same_seed_same_retailer_other_seed_other_retailer():
    a, b, c = generate(seed=7), generate(seed=7), generate(seed=8)
    assert a.items == b.items and a.drift_skus == b.drift_skus
    assert [s.id for s in a.stores] == [s.id for s in b.stores]
    assert a.items != c.items


def test_the_default_retailer_has_what_the_demo_and_tests_rely_on():
    d = generate()
    assert len(d.sellable_skus) >= 500
    assert any(i.variant_of for i in d.items.values()), "variable products with variations"
    assert d.kits and all(len(k.components) >= 2 for k in d.kits.values())
    assert len(d.leaf_warehouses) == 3
    assert len(d.stores) >= 10
    assert all(-90 <= s.lat <= 90 and -180 <= s.lng <= 180 for s in d.stores)
    barcodes = [i.barcode for i in d.items.values() if i.barcode]
    assert len(barcodes) == len(set(barcodes))
    assert all(len(b) in (12, 13) and b[-1] == gtin_check_digit(b[:-1]) for b in barcodes)


def test_web_stock_drifts_from_the_online_figure_on_exactly_the_known_subset():
    d = generate()
    drifting = {s for s in d.stock_skus if d.web_stock(s) != d.online_sellable(s)}
    assert drifting and drifting <= d.drift_skus
    assert len(drifting) >= len(d.drift_skus) * 0.8


def test_the_online_figure_adds_what_ship_from_store_stores_spare_to_the_warehouses():
    # Given the default retailer, whose node file sets no safety stock
    d = generate()
    shipping = [s for s in d.stores if s.ship_from_store]
    assert shipping and len(shipping) < len(d.stores)
    for sku in d.stock_skus:
        # When the ONLINE figure is computed, then each ship-from-store store adds its
        # Square IN_STOCK (RESERVED_FOR_SALE is spoken for) less the unit kept back, never
        # below 0; other stores add nothing
        stores = 0
        for store in shipping:
            counts = d.store_count(sku, store.id) or {"IN_STOCK": 0}
            stores += max(0, counts["IN_STOCK"] - STORE_SAFETY_STOCK)
        assert d.online_sellable(sku) == d.erp_sellable(sku) + stores
    # And so for most SKUs the ONLINE figure is not the warehouses' alone
    assert sum(d.online_sellable(s) != d.erp_sellable(s) for s in d.stock_skus) > 100


def test_benchmark_size_is_cheap_because_stock_is_drawn_on_demand():
    d = generate(skus=50_000, stores=200)
    assert len(d.sellable_skus) == 50_000 and len(d.stores) == 200
    assert d.store_count(d.stock_skus[-1], d.stores[-1].id) == d.store_count(
        d.stock_skus[-1], d.stores[-1].id
    )


@given(
    st.integers(0, 2**32),
    st.lists(st.text(max_size=8), max_size=3),
    st.lists(st.text(max_size=14), max_size=20),
)
def test_batched_draws_are_the_single_draws(seed, parts, lasts):
    # The batch hashes the shared prefix once; the figures must not change by it.
    assert draws(seed, parts, lasts) == [draw(seed, *parts, last) for last in lasts]
