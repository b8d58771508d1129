"""In-memory doctype tables: metadata plus rows rendered on demand.

A table keeps only small keys (a SKU, a (SKU, warehouse) pair...) and renders a row when a
query touches it, so the 50,000-SKU benchmark catalogue costs little memory. Columns that are
costly to render (creation/modified: hashes and time zone arithmetic) are "late": a query
that neither selects, filters nor sorts on them skips them, which keeps full scans quick.
Indexes on a few fields (name, item_code, parent...) are computed from the keys, lazily, and
let a query with ``=``/``in`` on such a field skip a full scan. ``update`` keeps per-row
overrides on top of the rendered values (a later issue's Sales Orders move Bin figures this
way); ``derive`` recomputes dependent fields such as a Bin's projected_qty after them.
Documents the API writes (Sales Orders, Stock Entries...) are ``append``ed; a draft's
replaced child rows are ``remove``d, which leaves a tombstone so positions stay stable.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

STANDARD_COLUMNS = ("name", "owner", "creation", "modified", "modified_by", "docstatus", "idx")
CHILD_COLUMNS = ("parent", "parentfield", "parenttype")


@dataclass(frozen=True)
class DocTypeMeta:
    name: str
    columns: tuple[str, ...]
    # Check/Int/Float/Currency columns: compared as numbers and never NULL (Frappe's can_be_null).
    numeric: frozenset[str] = frozenset()
    tables: Mapping[str, str] = field(default_factory=dict)  # parentfield -> child doctype
    istable: bool = False
    tree_parent: str | None = None  # the nested-set parent field of a tree doctype
    sort: str = "modified desc"

    @property
    def all_columns(self) -> tuple[str, ...]:
        return STANDARD_COLUMNS + (CHILD_COLUMNS if self.istable else ()) + self.columns

    def is_numeric(self, column: str) -> bool:
        return column in self.numeric or column in ("docstatus", "idx")

    def has_column(self, column: str) -> bool:
        return (
            column in self.columns
            or column in STANDARD_COLUMNS
            or (self.istable and column in CHILD_COLUMNS)
        )


def fold(value: Any) -> str:
    """MariaDB's default collation compares text case-insensitively."""
    return str(value).casefold()


class Table:
    """Rows of one doctype, in insertion order, rendered from keys on demand."""

    def __init__(
        self,
        meta: DocTypeMeta,
        keys: Sequence[Any],
        render: Callable[[Any], dict[str, Any]],
        index: Mapping[str, Callable[[Any], str]],
        *,
        derive: Callable[[dict[str, Any]], None] | None = None,
        late: Callable[[Any], dict[str, Any]] | None = None,
        late_columns: frozenset[str] = frozenset(),
    ) -> None:
        self.meta = meta
        self._derive = derive
        self._late = late
        self.late_columns = late_columns
        self._keys = list(keys)
        self._removed: set[int] = set()
        self._render = render
        self._index_of = index
        self._indexes: dict[str, dict[str, list[int]]] = {}
        self._overrides: dict[int, dict[str, Any]] = {}
        self.version = 0  # bumped by every write, so remembered query results know they are stale

    def __len__(self) -> int:
        return len(self._keys) - len(self._removed)

    def row(self, position: int, *, full: bool = True) -> dict[str, Any]:
        """One row; ``full=False`` skips the costly late columns a query does not need."""
        key = self._keys[position]
        row = self._render(key)
        if full and self._late is not None:
            row.update(self._late(key))
        override = self._overrides.get(position)
        if override:
            row.update(override)
        if self._derive is not None:
            self._derive(row)
        return row

    def complete(self, row: dict[str, Any]) -> None:
        """Add the late columns to a row rendered without them."""
        if self._late is None or self.late_columns <= row.keys():
            return
        position = self.positions("name", [row["name"]])[0]
        row.update(self._late(self._keys[position]))
        override = self._overrides.get(position, {})
        row.update({k: v for k, v in override.items() if k in self.late_columns})

    def rows(
        self, positions: Sequence[int] | None = None, *, full: bool = True
    ) -> Iterator[dict[str, Any]]:
        for position in range(len(self._keys)) if positions is None else positions:
            if position not in self._removed:
                yield self.row(position, full=full)

    def indexed(self, column: str) -> bool:
        return column in self._index_of

    def positions(self, column: str, values: Sequence[Any]) -> list[int]:
        """Rows whose ``column`` equals one of ``values`` (case-insensitively), in order."""
        index = self._indexes.get(column)
        if index is None:
            key_value = self._index_of[column]
            index = {}
            for position, key in enumerate(self._keys):
                index.setdefault(fold(key_value(key)), []).append(position)
            self._indexes[column] = index
        found: set[int] = set()
        for value in values:
            found.update(index.get(fold(value), ()))
        return sorted(found - self._removed)

    def get(self, name: str) -> dict[str, Any] | None:
        positions = self.positions("name", [name])
        return self.row(positions[0]) if positions else None

    def children(self, parent: str, *, full: bool = True) -> list[dict[str, Any]]:
        rows = self.rows(self.positions("parent", [parent]), full=full)
        return sorted(rows, key=lambda r: r["idx"])

    def update(self, name: str, **values: Any) -> None:
        """Override fields of one row (not indexed ones: indexes are built from keys)."""
        clash = set(values) & set(self._index_of)
        if clash:
            raise ValueError(f"cannot override indexed fields {sorted(clash)}")
        unknown = {k for k in values if not self.meta.has_column(k)}
        if unknown:
            raise ValueError(f"{self.meta.name} has no fields {sorted(unknown)}")
        positions = self.positions("name", [name])
        if not positions:
            raise KeyError(name)
        self._overrides.setdefault(positions[0], {}).update(values)
        self.version += 1

    def append(self, key: Any) -> None:
        """Add a row; indexes already built learn its position."""
        position = len(self._keys)
        self._keys.append(key)
        self.version += 1
        for column, index in self._indexes.items():
            index.setdefault(fold(self._index_of[column](key)), []).append(position)

    def remove(self, name: str) -> None:
        for position in self.positions("name", [name]):
            self._removed.add(position)
            self._overrides.pop(position, None)
        self.version += 1


def growing_table(meta: DocTypeMeta) -> Table:
    """An empty table of documents the API writes: each key is the row dict itself."""
    columns = ("name", "parent") if meta.istable else ("name",)
    index = {c: (lambda key, c=c: str(key[c])) for c in columns}
    return Table(meta, [], dict, index)
