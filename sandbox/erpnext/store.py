"""The simulated site's rows, rendered from the sample dataset.

Item (with its child tables Item Barcode, Item Variant Attribute, Item Default, UOM Conversion
Detail and Item Tax), Item Price, Warehouse, Bin and Product Bundle (child table Product Bundle
Item). The doctypes the API writes (meta.WRITTEN) start as empty tables that grow. Values
the dataset does not hold (row names, creation times) are drawn from a hash so every run is
identical; datetimes are naive, in the site's time zone.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sandbox.erpnext.doc_events import DocEvents
from sandbox.erpnext.meta import META, OTHER_BIN_QUANTITIES, PARENT_OF, projected_qty
from sandbox.erpnext.tables import Table, growing_table
from sandbox.erpnext.wire import not_found, site_datetime
from sandbox.retailer import COMPANY, COMPANY_ABBR, CURRENCY, Dataset, Item, Supply

SELLING = "Standard Selling"
BUYING = "Standard Buying"
ADMIN = "Administrator"
_DEFAULT_ACCOUNTS = (
    "buying_cost_center",
    "selling_cost_center",
    "expense_account",
    "income_account",
)
# fmt: off
_WAREHOUSE_CONTACT = (
    "account", "email_id", "phone_no", "mobile_no", "address_line_1", "address_line_2", "city",
    "state", "pin",
)
# fmt: on


def _hash(*parts: object) -> int:
    key = "|".join(str(p) for p in parts).encode()
    return int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big")


def _tax_template(category: str) -> str:
    return f"DE VAT 19% {category} - {COMPANY_ABBR}"


class ErpStore:
    """All doctype tables of one simulated site; each is built on first use."""

    def __init__(self, dataset: Dataset, timezone: str) -> None:
        self.dataset = dataset
        self.timezone = timezone
        self._tables: dict[str, Table] = {}
        self._builders: dict[str, Callable[[], Table]] = {
            "Item": self._items,
            "Item Barcode": self._barcodes,
            "Item Variant Attribute": self._attributes,
            "Item Default": lambda: self._per_item("Item Default", "item_defaults", self._default),
            "UOM Conversion Detail": self._uoms,
            "Item Supplier": self._suppliers,
            "Item Tax": lambda: self._per_item("Item Tax", "taxes", self._tax),
            "Item Price": self._prices,
            "Warehouse": self._warehouses,
            "Bin": self._bins,
            "Stock Ledger Entry": self._ledger,
            "Product Bundle": self._bundles,
            "Product Bundle Item": self._bundle_items,
        }
        self._default_warehouse = dataset.leaf_warehouses[0].name
        # Ordered results of recent list queries, for the next page of the same query.
        self.recent_lists: OrderedDict[str, tuple[int, list[Any]]] = OrderedDict()
        # Whoever writes a document raises its events here (sandbox.erpnext.doc_events).
        self.events = DocEvents()
        # Barcode rows added through the API (sandbox.erpnext.items): (item, idx) -> code.
        self.added_barcodes: dict[tuple[str, int], str] = {}

    def generation(self) -> int:
        """Grows with every write to any table: a remembered result older than it is stale."""
        return sum(table.version for table in self._tables.values())

    def table(self, doctype: str) -> Table:
        if doctype not in META:
            raise not_found(f"DocType {doctype} not found")
        if doctype not in self._tables:
            builder = self._builders.get(doctype)
            self._tables[doctype] = builder() if builder else growing_table(META[doctype])
        return self._tables[doctype]

    def document(self, doctype: str, name: str) -> dict[str, Any]:
        """``frappe.get_doc(...).as_dict(no_nulls=True)``: child tables included, NULL fields
        left out, and 'doctype' on every row."""
        row = self.table(doctype).get(name)
        if row is None:
            raise not_found(f"{doctype} {name} not found")
        doc = {**_no_nulls(row, META[doctype].all_columns), "doctype": doctype}
        for fieldname, child in META[doctype].tables.items():
            doc[fieldname] = [
                {**_no_nulls(r, META[child].all_columns), "doctype": child}
                for r in self.table(child).children(row["name"])
            ]
        return doc

    # --- shared row parts ------------------------------------------------------------------

    def _before(self, moment: datetime, *parts: object, days: int) -> datetime:
        seconds = _hash(self.dataset.seed, *parts) % (days * 86_400)
        micros = _hash(self.dataset.seed, "us", *parts) % 1_000_000
        return moment - timedelta(seconds=seconds, microseconds=micros)

    def _stamps(self, doctype: str, name: str) -> dict[str, Any]:
        modified = self._before(self.dataset.base_time, doctype, name, "modified", days=30)
        created = self._before(modified, doctype, name, "created", days=600)
        return {
            "creation": site_datetime(created, self.timezone),
            "modified": site_datetime(modified, self.timezone),
        }

    def _table(
        self,
        doctype: str,
        keys: list[Any],
        render: Callable[[Any], dict[str, Any]],
        name_of: Callable[[Any], str],
        index: dict[str, Callable[[Any], str]] | None = None,
        **options: Any,
    ) -> Table:
        options.setdefault("late", lambda key: self._stamps(doctype, name_of(key)))
        return Table(
            META[doctype],
            keys,
            render,
            {"name": name_of, **(index or {})},
            late_columns=frozenset({"creation", "modified"}),
            **options,
        )

    def _child(self, doctype: str, parent: str, parentfield: str, idx: int) -> dict[str, Any]:
        return {
            **_standard(_child_name(doctype, parent, idx), idx),
            "parent": parent,
            "parentfield": parentfield,
            "parenttype": PARENT_OF[doctype],
        }

    # --- Item and its child tables -----------------------------------------------------------

    def _items(self) -> Table:
        def render(sku: str) -> dict[str, Any]:
            item = self.dataset.items[sku]
            return {
                **_standard(sku),
                "item_code": sku,
                "item_name": item.name,
                "item_group": item.category,
                "stock_uom": item.uom,
                "disabled": 0,
                "allow_alternative_item": 0,
                "is_stock_item": int(item.is_stock_item),
                "has_variants": int(item.has_variants),
                "variant_of": item.variant_of,
                "variant_based_on": "Item Attribute",
                "include_item_in_manufacturing": 0,
                "opening_stock": 0.0,
                "valuation_rate": float(item.valuation_rate),
                "standard_rate": 0.0,
                "is_fixed_asset": 0,
                "description": item.name,
                "brand": None,
                "image": None,
                "has_batch_no": 0,
                "has_serial_no": 0,
                "is_purchase_item": int(item.is_stock_item),
                "is_sales_item": 1,
                "end_of_life": "2099-12-31",
                "weight_per_unit": float(item.weight_kg),
                "weight_uom": "Kg",
                **_supply_fields(self.dataset.supply(sku)),
            }

        keys = list(self.dataset.items)
        return self._table("Item", keys, render, str, {"item_code": str})

    def _barcodes(self) -> Table:
        items = self.dataset.items

        added = self.added_barcodes

        def code(key: tuple[str, int]) -> str:
            if key in added:
                return added[key]
            item = items[key[0]]
            # Row 1 the pack's GTIN, row 2 the template of its price labels (if it has one).
            return str(item.barcode if key[1] == 1 else item.label_barcode)

        def render(key: tuple[str, int]) -> dict[str, Any]:
            item = items[key[0]]
            row = self._child("Item Barcode", item.sku, "barcodes", key[1])
            kind = "" if key in added else item.barcode_type if key[1] == 1 else "EAN"
            return {**row, "barcode": code(key), "barcode_type": kind, "uom": None}

        keys = [(sku, 1) for sku, item in items.items() if item.barcode]
        keys += [(sku, 2) for sku, item in items.items() if item.label_barcode]
        keys.sort()
        return self._child_table("Item Barcode", keys, render, {"barcode": code})

    def _attributes(self) -> Table:
        items = self.dataset.items
        template_attributes: dict[str, list[str]] = {}
        for item in items.values():
            if item.variant_of:
                names = template_attributes.setdefault(item.variant_of, [])
                names.extend(a for a, _ in item.attributes if a not in names)

        def render(key: tuple[str, int, str, str | None]) -> dict[str, Any]:
            sku, idx, attribute, value = key
            row = self._child("Item Variant Attribute", sku, "attributes", idx)
            return {
                **row,
                "variant_of": items[sku].variant_of,
                "attribute": attribute,
                "attribute_value": value,
                "numeric_values": 0,
            }

        keys: list[tuple[str, int, str, str | None]] = []
        for sku, item in items.items():
            if item.has_variants:
                pairs: list[tuple[str, str | None]] = [
                    (a, None) for a in template_attributes.get(sku, [])
                ]
            else:
                pairs = list(item.attributes)
            keys.extend((sku, i, a, v) for i, (a, v) in enumerate(pairs, start=1))
        return self._child_table("Item Variant Attribute", keys, render)

    def _default(self, item: Item) -> dict[str, Any]:
        return {
            "company": COMPANY,
            "default_warehouse": self._default_warehouse if item.is_stock_item else None,
            "default_price_list": SELLING,
            **dict.fromkeys(_DEFAULT_ACCOUNTS, None),
        }

    def _tax(self, item: Item) -> dict[str, Any]:
        return {
            "item_tax_template": _tax_template(item.tax_category),
            "tax_category": item.tax_category,
            "valid_from": None,
            "minimum_net_rate": 0.0,
            "maximum_net_rate": 0.0,
        }

    def _uoms(self) -> Table:
        """The stock UOM at factor 1; for an item bought by the case, its "Box" as well."""
        items, dataset = self.dataset.items, self.dataset

        def render(key: tuple[str, int]) -> dict[str, Any]:
            item = items[key[0]]
            row = self._child("UOM Conversion Detail", item.sku, "uoms", key[1])
            supply = dataset.supply(item.sku)
            if key[1] == 2 and supply is not None:
                return {**row, "uom": PURCHASE_UOM, "conversion_factor": float(supply.case_size)}
            return {**row, "uom": item.uom, "conversion_factor": 1.0}

        keys = [(sku, 1) for sku in items]
        keys += [(sku, 2) for sku in items if _bought_by_the_case(dataset.supply(sku))]
        keys.sort()
        return self._child_table("UOM Conversion Detail", keys, render)

    def _suppliers(self) -> Table:
        dataset = self.dataset

        def render(key: tuple[str, int]) -> dict[str, Any]:
            supply = dataset.supply(key[0])
            row = self._child("Item Supplier", key[0], "supplier_items", key[1])
            return {
                **row,
                "supplier": supply.supplier if supply else None,
                "supplier_part_no": None,
            }

        keys = [(sku, 1) for sku in dataset.items if dataset.supply(sku) is not None]
        return self._child_table("Item Supplier", keys, render)

    def _per_item(
        self, doctype: str, parentfield: str, values: Callable[[Item], dict[str, Any]]
    ) -> Table:
        items = self.dataset.items

        def render(key: tuple[str, int]) -> dict[str, Any]:
            item = items[key[0]]
            row = self._child(doctype, item.sku, parentfield, key[1])
            return {**row, **values(item)}

        return self._child_table(doctype, [(sku, 1) for sku in items], render)

    def _child_table(
        self,
        doctype: str,
        keys: list[Any],
        render: Callable[[Any], dict[str, Any]],
        index: dict[str, Callable[[Any], str]] | None = None,
    ) -> Table:
        def name_of(key: Any) -> str:
            return _child_name(doctype, key[0], key[1])

        index = {"parent": lambda k: k[0], **(index or {})}
        return self._table(doctype, keys, render, name_of, index)

    # --- prices, warehouses, bins, bundles -------------------------------------------------

    def _prices(self) -> Table:
        items = self.dataset.items

        def render(key: tuple[str, str]) -> dict[str, Any]:
            price_list, sku = key
            item = items[sku]
            selling = price_list == SELLING
            rate = item.list_price if selling else item.valuation_rate
            return {
                **_standard(_price_name(key)),
                "item_code": sku,
                "uom": item.uom,
                "packing_unit": 0,
                "item_name": item.name,
                "item_description": item.name,
                "price_list": price_list,
                **dict.fromkeys(("brand", "customer", "supplier", "batch_no", "note"), None),
                "buying": int(not selling),
                "selling": int(selling),
                "currency": CURRENCY,
                "price_list_rate": float(rate),
                "valid_from": "2026-01-01",
                "valid_upto": None,
                "lead_time_days": 0,
                "reference": None,
            }

        keys = [(SELLING, sku) for sku in items]
        keys += [(BUYING, sku) for sku, i in items.items() if i.valuation_rate > 0]
        index = {"item_code": lambda k: k[1], "price_list": lambda k: k[0]}
        return self._table("Item Price", keys, render, _price_name, index)

    def _warehouses(self) -> Table:
        by_name = {w.name: w for w in self.dataset.warehouses}
        lft = {w.name: 1 + 2 * i for i, w in enumerate(self.dataset.warehouses)}

        def render(name: str) -> dict[str, Any]:
            w = by_name[name]
            is_group = w.is_group
            return {
                **_standard(name),
                "warehouse_name": w.warehouse_name,
                "company": COMPANY,
                "is_group": int(is_group),
                "parent_warehouse": w.parent,
                "disabled": 0,
                "warehouse_type": w.warehouse_type,
                "is_rejected_warehouse": 0,
                **dict.fromkeys(_WAREHOUSE_CONTACT, None),
                # Nested set: the one group encloses every leaf.
                "lft": 1 if is_group else lft[name] + 1,
                "rgt": 2 * len(by_name) + 2 if is_group else lft[name] + 2,
                "old_parent": w.parent,
            }

        return self._table("Warehouse", list(by_name), render, str)

    def _bins(self) -> Table:
        dataset = self.dataset
        year = dataset.base_time.year
        keys: list[tuple[str, str, str]] = []
        for sku in dataset.stock_skus:
            for warehouse in dataset.leaf_warehouses:
                if dataset.bin(sku, warehouse.name) is not None:
                    keys.append((sku, warehouse.name, f"MAT-BIN-{year}-{len(keys) + 1:05d}"))

        def render(key: tuple[str, str, str]) -> dict[str, Any]:
            sku, warehouse, name = key
            figures = dataset.bin(sku, warehouse) or {}
            item = dataset.items[sku]
            actual = float(figures.get("actual_qty", 0))
            row = {
                **_standard(name),
                "item_code": sku,
                "warehouse": warehouse,
                "actual_qty": actual,
                "ordered_qty": float(figures.get("ordered_qty", 0)),
                "reserved_qty": float(figures.get("reserved_qty", 0)),
                "reserved_stock": float(figures.get("reserved_stock", 0)),
                **dict.fromkeys(OTHER_BIN_QUANTITIES, 0.0),
                "stock_uom": item.uom,
                "valuation_rate": float(item.valuation_rate),
                "stock_value": float(item.valuation_rate * int(actual)),
            }
            return row

        def derive(row: dict[str, Any]) -> None:
            row["projected_qty"] = projected_qty(row)

        def stamps(key: tuple[str, str, str]) -> dict[str, Any]:
            modified = dataset.bin_modified(key[0], key[1])
            created = self._before(modified, "Bin", key[2], "created", days=600)
            return {
                "creation": site_datetime(created, self.timezone),
                "modified": site_datetime(modified, self.timezone),
            }

        index = {"item_code": lambda k: k[0], "warehouse": lambda k: k[1]}
        return self._table("Bin", keys, render, lambda k: k[2], index, derive=derive, late=stamps)

    def _ledger(self) -> Table:
        """Stock Ledger Entries: the warehouses' deliveries of the sample history, one per
        SKU, warehouse and day that shipped anything (Dataset.warehouse_daily_deliveries),
        each with the balance it left (the Bin's figure at the base time is the last one's),
        then every movement made through the API (sandbox.erpnext.bins appends them)."""
        dataset = self.dataset
        keys: list[Any] = []
        for sku in dataset.stock_skus:
            for warehouse in dataset.leaf_warehouses:
                daily = dataset.warehouse_daily_deliveries(sku, warehouse.name)
                keys.extend((sku, warehouse.name, day) for day, units in enumerate(daily) if units)

        def render(key: Any) -> dict[str, Any]:
            if isinstance(key, dict):  # posted through the API
                return dict(key)
            sku, warehouse, day = key
            item = dataset.items[sku]
            daily = dataset.warehouse_daily_deliveries(sku, warehouse)
            units = daily[day]
            # The balance after it: the Bin's figure at the base time plus what the later
            # days of the history delivered.
            actual = (dataset.bin(sku, warehouse) or {}).get("actual_qty", 0)
            local = datetime.fromisoformat(
                site_datetime(dataset.sale_day_closed_at(day), self.timezone)
            )
            return {
                **_standard(_ledger_name(key)),
                "item_code": sku,
                "warehouse": warehouse,
                "posting_date": local.date().isoformat(),
                "posting_time": local.time().isoformat(),
                "actual_qty": float(-units),
                "qty_after_transaction": float(actual + sum(daily[day + 1 :])),
                "voucher_type": "Delivery Note",
                "voucher_no": _history_voucher(dataset.seed, key),
                "valuation_rate": float(item.valuation_rate),
                "stock_value_difference": float(-units * item.valuation_rate),
                "stock_uom": item.uom,
                "company": COMPANY,
                "is_cancelled": 0,
            }

        def stamps(key: Any) -> dict[str, Any]:
            if isinstance(key, dict):
                return {"creation": key["creation"], "modified": key["modified"]}
            moment = site_datetime(dataset.sale_day_closed_at(key[2]), self.timezone)
            return {"creation": moment, "modified": moment}

        def name_of(key: Any) -> str:
            return str(key["name"]) if isinstance(key, dict) else _ledger_name(key)

        def column(field: str, position: int) -> Callable[[Any], str]:
            return lambda k: str(k[field] if isinstance(k, dict) else k[position])

        index = {"item_code": column("item_code", 0), "warehouse": column("warehouse", 1)}
        return self._table("Stock Ledger Entry", keys, render, name_of, index, late=stamps)

    def _bundles(self) -> Table:
        def render(sku: str) -> dict[str, Any]:
            return {
                **_standard(sku),
                "new_item_code": sku,
                "description": self.dataset.items[sku].name,
                "disabled": 0,
            }

        keys = list(self.dataset.kits)
        return self._table("Product Bundle", keys, render, str, {"new_item_code": str})

    def _bundle_items(self) -> Table:
        items = self.dataset.items

        def render(key: tuple[str, int, str, int]) -> dict[str, Any]:
            kit, idx, component, qty = key
            row = self._child("Product Bundle Item", kit, "items", idx)
            return {
                **row,
                "item_code": component,
                "qty": float(qty),
                "description": items[component].name,
                "rate": 0.0,
                "uom": items[component].uom,
            }

        keys = [
            (kit.sku, idx, component, qty)
            for kit in self.dataset.kits.values()
            for idx, (component, qty) in enumerate(kit.components, start=1)
        ]
        return self._child_table("Product Bundle Item", keys, render)


def _standard(name: str, idx: int = 0) -> dict[str, Any]:
    # creation and modified are the table's late columns (see ErpStore._stamps).
    return {"name": name, "owner": ADMIN, "modified_by": ADMIN, "docstatus": 0, "idx": idx}


def _no_nulls(row: dict[str, Any], columns: tuple[str, ...]) -> dict[str, Any]:
    """The row in the doctype's column order, NULL fields left out."""
    return {c: row[c] for c in columns if row.get(c) is not None}


def _child_name(doctype: str, parent: str, idx: int) -> str:
    # Frappe names child rows with a random 10-character hash.
    return f"{_hash(doctype, parent, idx):016x}"[:10]


def _price_name(key: tuple[str, str]) -> str:
    return f"{_hash('Item Price', *key):016x}"[:10]


PURCHASE_UOM = "Box"


def _bought_by_the_case(supply: Supply | None) -> bool:
    return supply is not None and supply.case_size > 1


def _supply_fields(supply: Supply | None) -> dict[str, Any]:
    """Item's buying fields (lead time in days, minimum order quantity in stock units, the
    purchase unit); ERPNext's defaults for an item that is not bought."""
    if supply is None:
        return {"lead_time_days": 0, "min_order_qty": 0.0, "purchase_uom": None}
    return {
        "lead_time_days": supply.lead_time_days,
        "min_order_qty": float(supply.min_order_qty),
        "purchase_uom": PURCHASE_UOM if supply.case_size > 1 else None,
    }


def _ledger_name(key: tuple[str, str, int]) -> str:
    digest = hashlib.blake2b("|".join(map(str, key)).encode(), digest_size=5).hexdigest()
    return f"SLE-HIST-{digest}"


def _history_voucher(seed: int, key: tuple[str, str, int]) -> str:
    return f"MAT-DN-HIST-{_hash(seed, 'dn', *key) % 10**6:06d}"
