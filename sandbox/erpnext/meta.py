"""The ERPNext doctypes the gateway reads and writes: their columns, numeric columns and child
tables, and the one derived figure the simulator computes (a Bin's projected_qty).

Field names follow the doctype JSON files of ERPNext v15 (only the columns the simulator
fills are listed; a query naming another one gets MariaDB's "Unknown column").
"""

from __future__ import annotations

from typing import Any

from sandbox.erpnext.tables import DocTypeMeta


def _meta(name: str, columns: str, numeric: str = "", **kwargs: Any) -> DocTypeMeta:
    return DocTypeMeta(name, tuple(columns.split()), frozenset(numeric.split()), **kwargs)


META: dict[str, DocTypeMeta] = {
    m.name: m
    for m in (
        _meta(
            "Item",
            "item_code item_name item_group stock_uom disabled allow_alternative_item "
            "is_stock_item has_variants variant_of variant_based_on "
            "include_item_in_manufacturing opening_stock valuation_rate standard_rate "
            "is_fixed_asset description brand image has_batch_no has_serial_no "
            "is_purchase_item is_sales_item end_of_life weight_per_unit weight_uom "
            "lead_time_days min_order_qty purchase_uom",
            "disabled allow_alternative_item is_stock_item has_variants "
            "include_item_in_manufacturing opening_stock valuation_rate standard_rate "
            "is_fixed_asset has_batch_no has_serial_no is_purchase_item is_sales_item "
            "weight_per_unit lead_time_days min_order_qty",
            tables={
                "barcodes": "Item Barcode",
                "attributes": "Item Variant Attribute",
                "item_defaults": "Item Default",
                "uoms": "UOM Conversion Detail",
                "taxes": "Item Tax",
                "supplier_items": "Item Supplier",
            },
        ),
        _meta("Item Barcode", "barcode barcode_type uom", istable=True),
        _meta("Item Supplier", "supplier supplier_part_no", istable=True),
        _meta(
            "Item Variant Attribute",
            "variant_of attribute attribute_value numeric_values",
            "numeric_values",
            istable=True,
        ),
        _meta(
            "Item Default",
            "company default_warehouse default_price_list buying_cost_center "
            "selling_cost_center expense_account income_account",
            istable=True,
        ),
        _meta("UOM Conversion Detail", "uom conversion_factor", "conversion_factor", istable=True),
        _meta(
            "Item Tax",
            "item_tax_template tax_category valid_from minimum_net_rate maximum_net_rate",
            "minimum_net_rate maximum_net_rate",
            istable=True,
        ),
        _meta(
            "Item Price",
            "item_code uom packing_unit item_name brand item_description price_list customer "
            "supplier batch_no buying selling currency price_list_rate valid_from valid_upto "
            "lead_time_days note reference",
            "packing_unit buying selling price_list_rate lead_time_days",
        ),
        _meta(
            "Warehouse",
            "warehouse_name company is_group parent_warehouse disabled warehouse_type "
            "is_rejected_warehouse account email_id phone_no mobile_no address_line_1 "
            "address_line_2 city state pin lft rgt old_parent",
            "is_group disabled is_rejected_warehouse lft rgt",
            tree_parent="parent_warehouse",
        ),
        _meta(
            "Bin",
            "item_code warehouse actual_qty planned_qty indented_qty ordered_qty "
            "projected_qty reserved_qty reserved_qty_for_production "
            "reserved_qty_for_sub_contract reserved_qty_for_production_plan reserved_stock "
            "stock_uom valuation_rate stock_value",
            "actual_qty planned_qty indented_qty ordered_qty projected_qty reserved_qty "
            "reserved_qty_for_production reserved_qty_for_sub_contract "
            "reserved_qty_for_production_plan reserved_stock valuation_rate stock_value",
        ),
        _meta(
            "Product Bundle",
            "new_item_code description disabled",
            "disabled",
            tables={"items": "Product Bundle Item"},
        ),
        _meta(
            "Product Bundle Item",
            "item_code qty description rate uom",
            "qty rate",
            istable=True,
        ),
        _meta(
            "Customer", "customer_name customer_type customer_group territory disabled", "disabled"
        ),
        _meta(
            "Sales Order",
            "naming_series customer customer_name order_type transaction_date delivery_date "
            "po_no company currency conversion_rate selling_price_list price_list_currency "
            "set_warehouse reserve_stock total_qty total net_total taxes_and_charges "
            "total_taxes_and_charges grand_total rounded_total advance_paid status "
            "delivery_status billing_status per_delivered per_billed per_picked",
            "conversion_rate reserve_stock total_qty total net_total total_taxes_and_charges "
            "grand_total rounded_total advance_paid per_delivered per_billed per_picked",
            tables={"items": "Sales Order Item"},
        ),
        _meta(
            "Sales Order Item",
            "item_code item_name delivery_date qty stock_uom uom conversion_factor stock_qty "
            "price_list_rate rate amount net_rate net_amount warehouse delivered_qty billed_amt "
            "reserve_stock stock_reserved_qty actual_qty projected_qty",
            "qty conversion_factor stock_qty price_list_rate rate amount net_rate net_amount "
            "delivered_qty billed_amt reserve_stock stock_reserved_qty actual_qty projected_qty",
            istable=True,
        ),
        _meta(
            "Stock Reservation Entry",
            "item_code warehouse voucher_type voucher_no voucher_detail_no voucher_qty "
            "available_qty reserved_qty delivered_qty stock_uom reservation_based_on status "
            "company",
            "voucher_qty available_qty reserved_qty delivered_qty",
        ),
        _meta(
            "Delivery Note",
            "naming_series customer customer_name company posting_date posting_time po_no "
            "status per_billed total_qty grand_total",
            "per_billed total_qty grand_total",
            tables={"items": "Delivery Note Item"},
        ),
        _meta(
            "Delivery Note Item",
            "item_code item_name qty stock_uom uom warehouse rate amount against_sales_order "
            "so_detail",
            "qty rate amount",
            istable=True,
        ),
        _meta(
            "Stock Ledger Entry",
            "item_code warehouse posting_date posting_time voucher_type voucher_no "
            "actual_qty qty_after_transaction valuation_rate stock_value_difference "
            "stock_uom company is_cancelled",
            "actual_qty qty_after_transaction valuation_rate stock_value_difference is_cancelled",
        ),
        _meta(
            "Stock Entry",
            "naming_series stock_entry_type purpose company posting_date posting_time "
            "set_posting_time from_warehouse to_warehouse remarks total_incoming_value "
            "total_outgoing_value value_difference",
            "set_posting_time total_incoming_value total_outgoing_value value_difference",
            tables={"items": "Stock Entry Detail"},
        ),
        _meta(
            "Stock Reconciliation",
            "naming_series company purpose posting_date posting_time set_posting_time "
            "set_warehouse expense_account cost_center difference_amount",
            "set_posting_time difference_amount",
            tables={"items": "Stock Reconciliation Item"},
        ),
        _meta(
            "Stock Reconciliation Item",
            "item_code item_name warehouse qty valuation_rate amount allow_zero_valuation_rate "
            "current_qty current_valuation_rate current_amount amount_difference stock_uom",
            "qty valuation_rate amount allow_zero_valuation_rate current_qty "
            "current_valuation_rate current_amount amount_difference",
            istable=True,
        ),
        _meta(
            "Stock Entry Detail",
            "s_warehouse t_warehouse item_code item_name qty transfer_qty uom stock_uom "
            "conversion_factor basic_rate valuation_rate amount",
            "qty transfer_qty conversion_factor basic_rate valuation_rate amount",
            istable=True,
        ),
    )
}
PARENT_OF = {child: m.name for m in META.values() for child in m.tables.values()}
# Bin quantities the sample data leaves at zero (production and subcontracting).
OTHER_BIN_QUANTITIES = (
    "planned_qty",
    "indented_qty",
    "reserved_qty_for_production",
    "reserved_qty_for_sub_contract",
    "reserved_qty_for_production_plan",
)


def projected_qty(bin_row: dict[str, Any]) -> float:
    """ERPNext's Bin.set_projected_qty (v15): reserved_stock is NOT subtracted, because
    Stock Reservation Entries are made against Sales Orders already in reserved_qty."""
    return (
        bin_row["actual_qty"]
        + bin_row["ordered_qty"]
        + bin_row["indented_qty"]
        + bin_row["planned_qty"]
        - bin_row["reserved_qty"]
        - bin_row["reserved_qty_for_production"]
        - bin_row["reserved_qty_for_sub_contract"]
        - bin_row["reserved_qty_for_production_plan"]
    )
