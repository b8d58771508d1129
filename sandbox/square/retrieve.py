"""BatchRetrieveCatalogObjects: catalog objects by id (an inventory webhook names
variations by id; a client looks up their SKUs here)."""

from __future__ import annotations

from typing import Any

from sandbox.square.catalog import Catalog, Ref
from sandbox.square.wire import invalid

MAX_OBJECT_IDS = 1000


def batch_retrieve(catalog: Catalog, body: dict[str, Any]) -> dict[str, Any]:
    ids = body.get("object_ids")
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
        raise invalid("MISSING_REQUIRED_PARAMETER", "Field must be set", "object_ids")
    if len(ids) > MAX_OBJECT_IDS:
        raise invalid(
            "TOO_MANY_ELEMENTS", f"Must have at most {MAX_OBJECT_IDS} elements.", "object_ids"
        )
    refs: list[Ref] = []
    related: list[Ref] = []
    for object_id in dict.fromkeys(ids):
        if object_id in catalog.variations:
            refs.append(("ITEM_VARIATION", object_id))
            related.append(("ITEM", catalog.variations[object_id].item_id))
        elif object_id in catalog.items:
            refs.append(("ITEM", object_id))
        elif object_id == catalog.shelf_definition_id:
            refs.append(("CUSTOM_ATTRIBUTE_DEFINITION", object_id))
    answer: dict[str, Any] = {}
    if refs:  # Square leaves out ids it does not have, and empty lists altogether
        answer["objects"] = [catalog.render(ref) for ref in refs]
    if body.get("include_related_objects") and related:
        answer["related_objects"] = [catalog.render(ref) for ref in dict.fromkeys(related)]
    return answer
