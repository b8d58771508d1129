"""Saving an Item through PUT /api/resource/Item/<name>, as far as its barcode table.

Frappe replaces a child table with the rows a save sends: a row that comes back with its
``name`` stays, one left out is deleted, one without a name is added. ERPNext's
Item.validate_barcode refuses a code another item has ("Barcode {0} already used in Item
{1}", DuplicateEntryError, HTTP 409), and the column is unique, so one item cannot hold a
code twice either. Fields other than the barcode table are not kept by the simulator: a save
that changes them is refused, saying so, rather than answered as if they were saved.
"""

from __future__ import annotations

from typing import Any

from sandbox.erpnext.store import ErpStore
from sandbox.erpnext.wire import FrappeError, not_found, validation_error

BARCODE = "Item Barcode"
# Sent back unchanged by a client that read the document first (frappe-client's update).
_IGNORED = {"doctype", "name", "item_code", "modified", "owner", "creation", "modified_by"}


class ItemEditor:
    def __init__(self, store: ErpStore) -> None:
        self.store = store

    def document(self, name: str) -> dict[str, Any]:
        return self.store.document("Item", name)

    def update(self, name: str, data: dict[str, Any]) -> None:
        current = self.document(name)  # 404 when there is no such item
        changed = {
            k for k, v in data.items() if k not in _IGNORED | {"barcodes"} and current.get(k) != v
        }
        if changed:
            raise validation_error(
                f"The simulator saves an Item's barcodes only, not {', '.join(sorted(changed))}"
            )
        if "barcodes" in data:
            self._save_barcodes(name, list(data["barcodes"] or []))

    def _save_barcodes(self, item: str, sent: list[Any]) -> None:
        table = self.store.table(BARCODE)
        rows = table.children(item)
        by_name = {row["name"]: row for row in rows}
        codes: list[str] = []
        for row in sent:
            if not isinstance(row, dict) or not str(row.get("barcode") or "").strip():
                raise validation_error("Item Barcode: Barcode is mandatory")
            if row.get("name") is not None and row["name"] not in by_name:
                raise not_found(f"Item Barcode {row['name']} not found")
            codes.append(str(row["barcode"]).strip())
        for code in codes:
            self._refuse_if_taken(item, code, codes)
        kept = {row["name"] for row in sent if row.get("name") is not None}
        for row in rows:
            if row["name"] not in kept:
                table.remove(row["name"])
        idx = max((int(row["idx"]) for row in rows), default=0)
        for row, code in zip(sent, codes, strict=True):
            if row.get("name") is None:
                idx += 1
                self.store.added_barcodes[(item, idx)] = code
                table.append((item, idx))

    def _refuse_if_taken(self, item: str, code: str, codes: list[str]) -> None:
        holders = {
            row["parent"]
            for row in self.store.table(BARCODE).rows(
                self.store.table(BARCODE).positions("barcode", [code])
            )
        }
        other = sorted(holders - {item})
        if other or codes.count(code) > 1:
            raise FrappeError(
                409,
                "DuplicateEntryError",
                f"Barcode {code} already used in Item {other[0] if other else item}",
            )
