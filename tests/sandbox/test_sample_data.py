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


def test_web_stock_drifts_from_the_erp_on_exactly_the_known_subset():
    d = generate()
    drifting = {s for s in d.stock_skus if d.web_stock(s) != d.erp_sellable(s)}
    assert drifting and drifting <= d.drift_skus
    assert len(drifting) >= len(d.drift_skus) * 0.8  # a drift SKU with no ERP stock may read 0 too


def test_benchmark_size_is_cheap_because_stock_is_drawn_on_demand():
    d = generate(skus=50_000, stores=200)
    assert len(d.sellable_skus) == 50_000 and len(d.stores) == 200
    assert d.store_count(d.stock_skus[-1], d.stores[-1].id) == d.store_count(
        d.stock_skus[-1], d.stores[-1].id
    )
