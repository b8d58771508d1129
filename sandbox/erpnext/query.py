"""``frappe.get_list`` over the in-memory tables: fields, filters, or_filters, order_by, paging.

What Frappe's DatabaseQuery does and this reproduces:

* ``fields`` defaults to ``name``; ``*`` is every column of the parent table; a field may name a
  child table column as ```tabItem Barcode`.`barcode``` and may carry ``as alias``.
* ``filters`` / ``or_filters`` are ``[field, op, value]``, ``[doctype, field, op, value]`` or a
  ``{field: value | [op, value]}`` dict; the result is ``filters AND (or_filters OR ...)``.
* A child doctype named in fields or filters is LEFT JOINed on ``child.parent = parent.name``:
  one row per child row, so a parent with two barcodes comes back twice.
* Text compares case-insensitively (MariaDB's collation) and through ``ifnull(col, '')``, so
  ``!=``/``not in`` keep NULLs; numeric columns are never NULL and compare as numbers.
* A child doctype can be listed on its own only with ``parent=<parent doctype>``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, replace
from itertools import product
from typing import Any

from sandbox.erpnext.meta import META, PARENT_OF
from sandbox.erpnext.store import ErpStore
from sandbox.erpnext.tables import DocTypeMeta, fold
from sandbox.erpnext.wire import permission_error, unknown_column, validation_error

OPERATORS = (
    "=", "!=", ">", "<", ">=", "<=", "like", "not like", "in", "not in", "is", "between",
    "descendants of", "not descendants of", "ancestors of", "not ancestors of",
)  # fmt: skip
# Link fields whose values are names of a tree doctype (for "descendants of").
_TREE_LINKS = {"warehouse": "Warehouse", "parent_warehouse": "Warehouse"}
_COLUMN = re.compile(r"^(?:`?tab([^`.]+)`?\.)?`?(\w+|\*)`?$")
_ALIAS = re.compile(r"^(.*?)\s+as\s+`?(\w+)`?$", re.IGNORECASE | re.DOTALL)

Joined = dict[str, dict[str, Any] | None]  # doctype -> its row in one joined result row


@dataclass(frozen=True)
class _Condition:
    doctype: str
    column: str
    test: Callable[[Any], bool]
    # Values of an indexed parent column this condition pins (= / in): rows to look at.
    narrow: list[Any] | None = None

    def __call__(self, joined: Joined) -> bool:
        row = joined[self.doctype]
        return self.test(None if row is None else row.get(self.column))


@dataclass(frozen=True)
class ListQuery:
    doctype: str
    fields: Any = None
    filters: Any = None
    or_filters: Any = None
    order_by: str | None = None
    limit_start: int = 0
    limit_page_length: int = 20  # 0 = everything
    parent_doctype: str | None = None


# Ordered results remembered per store, so paging through a large list (limit_start 49,900 of
# 50,000 items sorted by modified) costs a slice, as MariaDB's index would, not a full sort.
RECENT_LISTS = 8


def run_list(store: ErpStore, query: ListQuery) -> list[dict[str, Any]]:
    plan = _Plan(store, query, ordered=True)
    rows = _ordered_rows(store, plan, query)
    end = query.limit_start + query.limit_page_length if query.limit_page_length else None
    return [plan.project(joined) for joined in rows[query.limit_start : end]]


def _ordered_rows(store: ErpStore, plan: _Plan, query: ListQuery) -> list[Joined]:
    if not query.limit_start and query.limit_page_length and query.limit_page_length < 1000:
        return plan.ordered(plan.matching())  # a first page: usually the only one asked for
    shape = replace(query, limit_start=0, limit_page_length=0)
    key = json.dumps(asdict(shape), sort_keys=True, default=str)
    generation = store.generation()
    remembered = store.recent_lists.get(key)
    if remembered is not None and remembered[0] == generation:
        store.recent_lists.move_to_end(key)
        return remembered[1]
    rows = plan.ordered(plan.matching())
    store.recent_lists[key] = (generation, rows)
    while len(store.recent_lists) > RECENT_LISTS:
        store.recent_lists.popitem(last=False)
    return rows


def run_count(store: ErpStore, query: ListQuery, *, distinct: bool = False) -> int:
    plan = _Plan(store, query, ordered=False)
    if distinct:
        return len({(joined[query.doctype] or {}).get("name") for joined in plan.matching()})
    return sum(1 for _ in plan.matching())


class _Plan:
    def __init__(self, store: ErpStore, query: ListQuery, *, ordered: bool) -> None:
        self.store = store
        self.query = query
        self.table = store.table(query.doctype)
        self.meta = self.table.meta
        if self.meta.istable and query.parent_doctype != PARENT_OF[self.meta.name]:
            raise permission_error(f"Insufficient Permission for <strong>{self.meta.name}</strong>")
        self.joins: list[str] = []
        self.selected = [self._selected(f) for f in _field_list(query.fields)]
        self.conditions = [self._condition(f) for f in _filter_list(query.filters, self.meta)]
        self.alternatives = [self._condition(f) for f in _filter_list(query.or_filters, self.meta)]
        self.order = self._order(query.order_by or self.meta.sort) if ordered else []
        # A table's late columns are rendered while scanning only if filters or the order read
        # them; if only the projection does, just the rows of the page get them.
        scanned = {(c.doctype, c.column) for c in (*self.conditions, *self.alternatives)}
        scanned |= {(d, c) for d, c, _ in self.order}
        shown = {(d, c) for d, c, _ in self.selected}
        tables = (self.meta.name, *self.joins)
        self.full = {d: self._reads_late(d, scanned) for d in tables}
        self.complete = [d for d in tables if not self.full[d] and self._reads_late(d, shown)]

    def _reads_late(self, doctype: str, columns: set[tuple[str, str]]) -> bool:
        late = self.store.table(doctype).late_columns
        return any(d == doctype and (c == "*" or c in late) for d, c in columns)

    # --- parsing ---------------------------------------------------------------------------

    def _column(self, text: str, clause: str) -> tuple[str, str]:
        match = _COLUMN.match(text.strip())
        if match is None:
            raise unknown_column(text, clause)
        doctype, column = match.group(1) or self.meta.name, match.group(2)
        if doctype != self.meta.name:
            if doctype not in self.meta.tables.values():
                raise unknown_column(f"tab{doctype}.parent", "on clause")
            if doctype not in self.joins:
                self.joins.append(doctype)
        if column != "*" and not META[doctype].has_column(column):
            raise unknown_column(column, clause)
        return doctype, column

    def _selected(self, text: str) -> tuple[str, str, str]:
        alias_match = _ALIAS.match(text.strip())
        expression, alias = alias_match.groups() if alias_match else (text, None)
        doctype, column = self._column(expression, "field list")
        return doctype, column, alias or column

    def _condition(self, spec: Sequence[Any]) -> _Condition:
        doctype, fieldname, operator, value = spec
        operator = str(operator).strip().lower()
        if operator not in OPERATORS:
            raise validation_error(f"Operator must be one of {', '.join(OPERATORS)}")
        doctype, column = self._column(f"`tab{doctype}`.`{fieldname}`", "where clause")
        if operator.endswith(("descendants of", "ancestors of")):
            operator, value = self._tree(doctype, column, operator, value)
        test = _predicate(operator, value, META[doctype].is_numeric(column))
        narrow = None
        if operator in ("=", "in") and self.store.table(doctype).indexed(column):
            narrow = _options(value) if operator == "in" else [value]
            if any(v is None or v == "" for v in narrow):
                narrow = None  # ifnull(col, '') = '' would also match NULLs
        return _Condition(doctype, column, test, narrow)

    def _tree(self, doctype: str, column: str, operator: str, value: Any) -> tuple[str, Any]:
        meta = META[doctype]
        tree = meta.name if column == "name" and meta.tree_parent else _TREE_LINKS.get(column)
        parent_field = None if tree is None else META[tree].tree_parent
        if tree is None or parent_field is None:
            raise validation_error(f"{column} of {doctype} is not a tree field")
        parents = {r["name"]: r[parent_field] for r in self.store.table(tree).rows()}

        def chain(name: str | None) -> Iterator[str]:
            while name is not None and name in parents:
                name = parents[name]
                if name is not None:
                    yield name

        if operator.endswith("descendants of"):
            names = [n for n in parents if value in chain(n)]
        else:
            names = list(chain(value))
        return ("not in" if operator.startswith("not") else "in"), names

    # --- running ---------------------------------------------------------------------------

    def matching(self) -> Iterator[Joined]:
        main = self.meta.name
        positions: set[int] | None = None
        for condition in self.conditions:
            if condition.narrow is None:
                continue
            if condition.doctype == main:
                found = set(self.table.positions(condition.column, condition.narrow))
            else:  # a child-table condition pins the parents holding matching rows
                child = self.store.table(condition.doctype)
                hits = child.rows(child.positions(condition.column, condition.narrow), full=False)
                found = set(self.table.positions("name", [r["parent"] for r in hits]))
            positions = found if positions is None else positions & found
        rows = self.table.rows(
            None if positions is None else sorted(positions), full=self.full[main]
        )
        for row in rows:
            for joined in self._joined(main, row):
                if all(c(joined) for c in self.conditions) and (
                    not self.alternatives or any(c(joined) for c in self.alternatives)
                ):
                    yield joined

    def _joined(self, main: str, row: dict[str, Any]) -> Iterator[Joined]:
        if not self.joins:
            yield {main: row}
            return
        options: list[list[dict[str, Any] | None]] = [
            list(self.store.table(child).children(row["name"], full=self.full[child])) or [None]
            for child in self.joins
        ]
        for combination in product(*options):
            yield {main: row, **dict(zip(self.joins, combination, strict=True))}

    def _order(self, order_by: str) -> list[tuple[str, str, bool]]:
        keys: list[tuple[str, str, bool]] = []
        for part in order_by.split(","):
            words = part.strip().rsplit(None, 1)
            descending = len(words) == 2 and words[1].lower() == "desc"
            if len(words) == 2 and words[1].lower() not in ("asc", "desc"):
                words = [part.strip()]
            doctype, column = self._column(words[0], "order clause")
            keys.append((doctype, column, descending))
        return keys

    def ordered(self, rows: Iterator[Joined]) -> list[Joined]:
        result = list(rows)
        numeric = {(d, c): META[d].is_numeric(c) for d, c, _ in self.order}
        # Stable sorts from the last key to the first give a multi-key order.
        for doctype, column, descending in reversed(self.order):

            def key(joined: Joined, d: str = doctype, c: str = column) -> tuple[int, Any]:
                row = joined[d]
                value = None if row is None else row.get(c)
                if value is None:
                    return (0, 0)  # MariaDB sorts NULL first ascending, last descending
                return (1, float(value) if numeric[(d, c)] else fold(value))

            result.sort(key=key, reverse=descending)
        return result

    def project(self, joined: Joined) -> dict[str, Any]:
        for doctype in self.complete:
            row = joined[doctype]
            if row is not None:
                self.store.table(doctype).complete(row)
        out: dict[str, Any] = {}
        for doctype, column, alias in self.selected:
            row = joined[doctype] or {}
            if column == "*":
                out.update({c: row.get(c) for c in META[doctype].all_columns})
            else:
                out[alias] = row.get(column)
        return out


def _field_list(fields: Any) -> list[str]:
    if not fields:
        return ["name"]
    if isinstance(fields, str):
        return ["*"] if fields.strip() == "*" else [f.strip() for f in fields.split(",")]
    if isinstance(fields, list) and all(isinstance(f, str) for f in fields):
        return fields
    raise validation_error("fields must be a list of field names")


def _filter_list(filters: Any, meta: DocTypeMeta) -> list[tuple[Any, Any, Any, Any]]:
    """frappe.model.db_query's normalisation to (doctype, field, operator, value)."""
    if not filters:
        return []
    if isinstance(filters, dict):
        return [_from_pair(meta.name, k, v) for k, v in filters.items()]
    if not isinstance(filters, list):
        raise validation_error("Filter must be a tuple or list (in a list)")
    result = []
    for f in filters:
        if isinstance(f, dict) and len(f) == 1:
            result.append(_from_pair(meta.name, *next(iter(f.items()))))
        elif not isinstance(f, list):
            raise validation_error("Filter must be a tuple or list (in a list)")
        elif len(f) == 3:
            result.append((meta.name, f[0], f[1], f[2]))
        elif len(f) >= 4:
            result.append((f[0], f[1], f[2], f[3]))
        else:
            raise validation_error(
                f"Filter must have 4 values (doctype, fieldname, operator, value): {f}"
            )
    return result


def _from_pair(doctype: str, key: str, value: Any) -> tuple[Any, Any, Any, Any]:
    if isinstance(value, list) and value:
        return (doctype, key, value[0], value[1] if len(value) > 1 else None)
    return (doctype, key, "=", value)


def _number(value: Any) -> float:
    """frappe.utils.flt: what is not a number is 0."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def _options(value: Any) -> list[Any]:
    if isinstance(value, list | tuple):
        options = list(value)
    else:
        options = [v.strip() for v in str(value or "").split(",")]
    return options or [""]


def _bounds(value: Any) -> tuple[Any, Any]:
    bounds = list(value) if isinstance(value, list | tuple) else []
    return (bounds[0] if bounds else None, bounds[1] if len(bounds) > 1 else None)


def _like(pattern: str) -> re.Pattern[str]:
    # Frappe doubles backslashes before the query, so only % and _ are special.
    parts = [".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in pattern]
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL)


def _predicate(operator: str, target: Any, numeric: bool) -> Callable[[Any], bool]:
    """A test for one column value, with MariaDB + ifnull semantics."""
    if operator == "is":
        wanted = str(target).strip().lower() == "set"
        if numeric:
            return lambda v: (v is not None and v != 0) == wanted
        return lambda v: (v is not None and v != "") == wanted
    if operator in ("like", "not like"):
        regex = _like("" if target is None else str(target))
        negate = operator == "not like"
        return lambda v: (regex.fullmatch("" if v is None else str(v)) is not None) != negate
    if numeric:
        return _numeric_predicate(operator, target)
    return _text_predicate(operator, target)


def _numeric_predicate(operator: str, target: Any) -> Callable[[Any], bool]:
    if operator in ("in", "not in"):
        wanted = {_number(o) for o in _options(target)}
        negate = operator == "not in"
        return lambda v: v is not None and (float(v) in wanted) != negate
    if operator == "between":
        low, high = (_number(b) for b in _bounds(target))
        return lambda v: v is not None and low <= float(v) <= high
    number = _number(target)
    compare = _COMPARE[operator]
    return lambda v: v is not None and compare(float(v), number)


def _text_predicate(operator: str, target: Any) -> Callable[[Any], bool]:
    if operator in ("in", "not in"):
        wanted = {fold(o if o is not None else "") for o in _options(target)}
        negate = operator == "not in"
        return lambda v: (fold(v if v is not None else "") in wanted) != negate
    if operator == "between":
        low, high = (fold(b or "") for b in _bounds(target))
        if len(high) == 10:  # a date bound on a datetime column covers the whole day
            high += " 23:59:59.999999"
        return lambda v: v is not None and low <= fold(v) <= high
    folded = fold(target if target is not None else "")
    compare = _COMPARE[operator]
    return lambda v: compare(fold(v if v is not None else ""), folded)


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    ">": lambda a, b: a > b,
    "<=": lambda a, b: a <= b,
    ">=": lambda a, b: a >= b,
}
