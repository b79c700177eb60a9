"""Each table declared once, beside its builder: name, columns (type, meaning, foreign key), key and builder.

A domain's `tables.py` makes one `Tables` registry and decorates each builder with its declaration.
The decorator checks the declaration when the module is imported, so a mistake (a key that is not a
column, a foreign key to a table not declared yet, ...) fails at once with one line naming the table
and the field, not later inside an asset. What it returns is the table's `TableSpec`, the object the
factory, partitions, publishers, API and checks consume; the registry holds them in declaration order,
which is the domain's table list (parents first: a foreign key may only name a table declared above).

The pattern, for a leaf table::

    from mock_pipeline.engine import columns as col
    from mock_pipeline.engine.columns import INT, STRING, TIMESTAMP, ids
    from mock_pipeline.engine.declare import Column, Columns, Tables

    TABLES = Tables("maintenance")

    @TABLES.table(
        key="part_id",
        slots=lambda m: m.items * m.parts_per_item,  # the slot space the builder is asked for
        description="Spare parts: parts_per_item per item.",  # shown on the asset in the Dagster UI
        columns=(
            Column("part_id", INT, "Key of the spare part"),
            Column("item_id", INT, "Item the part belongs to", references="items"),  # an FK, and a parent
            Column("name", STRING, "Part kind, from the item's category"),
            Column("created_at", TIMESTAMP, "When the part was registered, after its item (UTC)"),
        ),
        text_columns=("name",),  # optional: long text worth embedding; export_exclude=(...) likewise
    )
    def parts(m: MaintenanceModel, lo: int, hi: int) -> Columns:
        p = ids(lo, hi)
        return {"part_id": p + 1, "item_id": p // 4 + 1, "name": ..., "created_at": col.timestamps(...)}

    # domains/<domain>/__init__.py
    Domain(name=DOMAIN, tables=TABLES.specs, ...)

The builder returns its columns by name (numpy arrays or Arrow arrays, exactly the declared ones)
and the declaration assembles them into a table of the declared schema; a builder may also return
a finished `pa.Table` of that schema. `created` (default "created_at") names the column holding when
the row came to be (None when the table has none); `after=(...)` adds parents that no column points
to. A table derived from others already written uses `@TABLES.derived(...)` on a function
`(model, dataset, chunk_size) -> Iterable[pa.Table]`. Adding a leaf table is one declaration here
plus its rules in checks.py.

Converting a domain from schema constants, FOREIGN_KEYS and `_spec(...)`: each FOREIGN_KEYS pair
becomes `references=` on its column (so `foreign_keys` follows column order); a parent that is not a
foreign key goes in `after`; a column referencing its own table is a foreign key but not a parent. A
domain whose tables are per tenant declares `Tables(domain, per_tenant=True)`, the tenants table
says `per_tenant=False`, and every other table has its tenant column, e.g. one shared
`TENANT = Column("tenant_id", INT, "...", references="tenants")`.
"""

from __future__ import annotations

import keyword
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import MISSING, dataclass, fields
from pathlib import Path
from typing import Any, overload

import numpy as np
import pyarrow as pa

from mock_pipeline.engine import columns as col
from mock_pipeline.engine.table import TableSpec

# What a builder returns: each declared column by name.
Columns = Mapping[str, pa.Array | np.ndarray]
Builder = Callable[[Any, int, int], Columns | pa.Table]
Derivation = Callable[[Any, Path, int], Iterable[pa.Table]]


class DeclarationError(ValueError):
    """A table declaration that cannot be right; raised when the domain's tables module is imported."""


@dataclass(frozen=True)
class Column:
    """One column: its name, Arrow type (or `columns.JSON`), what it means, and the table its values
    reference (a foreign key to that table's key), if any."""

    name: str
    type: pa.DataType | str
    description: str
    references: str | None = None

    def __post_init__(self) -> None:
        if not self.name.isidentifier() or keyword.iskeyword(self.name) or self.name != self.name.lower():
            raise DeclarationError(f"column name {self.name!r} must be a lower-case identifier")
        if not isinstance(self.type, pa.DataType) and self.type != col.JSON:
            raise DeclarationError(f"column {self.name!r}: type {self.type!r} must be a pyarrow type or columns.JSON")
        if not self.description.strip():
            raise DeclarationError(f"column {self.name!r}: description is empty; say what the column holds")


@dataclass(frozen=True, kw_only=True)
class TableOptions:
    """What a table declaration says besides the function it decorates: the keywords of both
    `Tables.table` and `Tables.derived`, declared once here."""

    key: str
    slots: Callable[[Any], int]  # the slot space the builder is asked for, from the model
    description: str  # what a row is; shown on the asset in the Dagster UI
    columns: Sequence[Column]
    created: str | None = "created_at"  # the column saying when the row came to be; None when none does
    text_columns: Sequence[str] = ()  # long text worth embedding (the vector sync)
    export_exclude: Sequence[str] = ()  # columns left out of the files export
    after: Sequence[str] = ()  # parents no column points to
    per_tenant: bool | None = None  # None: the domain's default
    name: str | None = None  # None: the decorated function's name

    def __post_init__(self) -> None:
        # Kept as tuples: a declaration never changes after import, and the spec holds these as given.
        for sequence in ("columns", "text_columns", "export_exclude", "after"):
            object.__setattr__(self, sequence, tuple(getattr(self, sequence)))


class Tables(Sequence[TableSpec]):
    """A domain's tables in declaration order, each added by the `table` or `derived` decorator.

    `per_tenant` is the default for the domain's tables (a table may override it).
    """

    def __init__(self, domain: str, *, per_tenant: bool = False) -> None:
        self.domain = domain
        self.per_tenant = per_tenant
        self._specs: list[TableSpec] = []

    @property
    def specs(self) -> tuple[TableSpec, ...]:
        return tuple(self._specs)

    def names(self) -> list[str]:
        return [s.name for s in self._specs]

    @overload
    def __getitem__(self, index: int) -> TableSpec: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[TableSpec]: ...
    def __getitem__(self, index: int | slice) -> TableSpec | Sequence[TableSpec]:
        return self._specs[index]

    def __len__(self) -> int:
        return len(self._specs)

    def __iter__(self) -> Iterator[TableSpec]:
        return iter(self._specs)

    def table(self, **options: Any) -> Callable[[Builder], TableSpec]:
        """Declare a generated table (keywords: the fields of `TableOptions`); decorates its builder
        `(model, lo, hi) -> columns` over slots [lo, hi). The table is named after the builder unless
        `name` is given."""

        def declare(builder: Builder) -> TableSpec:
            table, declaration = self._declaration(options, builder)
            schema = self._check(table, declaration)
            return self._add(table, declaration, schema, build=_assembling(table, builder, schema))

        return declare

    def derived(self, **options: Any) -> Callable[[Derivation], TableSpec]:
        """Declare a table computed from parent tables already written (keywords: the fields of
        `TableOptions`); decorates `(model, dataset, chunk_size) -> Iterable[pa.Table]`."""

        def declare(derive: Derivation) -> TableSpec:
            table, declaration = self._declaration(options, derive)
            return self._add(table, declaration, self._check(table, declaration), derive=derive)

        return declare

    def _declaration(self, options: Mapping[str, Any], function: Callable[..., Any]) -> tuple[str, TableOptions]:
        """The table's name and its options, or one line naming the keyword that is wrong."""
        table = options.get("name") or function.__name__
        where = f"{self.domain}.{table}"
        allowed = [f.name for f in fields(TableOptions)]
        if unknown := sorted(set(options) - set(allowed)):
            raise DeclarationError(
                f"{where}: {unknown[0]!r} is not a declaration keyword; allowed: {', '.join(allowed)}"
            )
        required = [f.name for f in fields(TableOptions) if f.default is MISSING]
        if missing := [r for r in required if r not in options]:
            raise DeclarationError(f"{where}: {missing[0]!r} is missing; required: {', '.join(required)}")
        return table, TableOptions(**options)

    def _check(self, table: str, d: TableOptions) -> pa.Schema:
        """The table's schema, after refusing anything a reader of the declaration would call a mistake."""
        where = f"{self.domain}.{table}"
        declared = self.names()
        if table in declared:
            raise DeclarationError(f"{where}: table {table!r} is declared twice in {self.domain}")
        if not d.description.strip():
            raise DeclarationError(f"{where}: description is empty; say what a row of {table} is")
        if not d.columns:
            raise DeclarationError(f"{where}: columns is empty; declare at least the key column")
        names = [c.name for c in d.columns]
        if dupes := sorted({n for n in names if names.count(n) > 1}):
            raise DeclarationError(f"{where}: column {dupes[0]!r} is declared more than once; each name once")
        allowed = ", ".join(names)
        if d.key not in names:
            raise DeclarationError(f"{where}: key {d.key!r} is not a column; allowed: {allowed}")
        if d.created is not None and d.created not in names:
            raise DeclarationError(
                f"{where}: created {d.created!r} is not a column; allowed: {allowed}, or None when no column says"
                " when the row came to be"
            )
        for field_name, values in (("text_columns", d.text_columns), ("export_exclude", d.export_exclude)):
            if unknown := [v for v in values if v not in names]:
                raise DeclarationError(f"{where}: {field_name} names {unknown[0]!r}, not a column; allowed: {allowed}")
        known = ", ".join(declared) or "none yet"
        for c in d.columns:
            if c.references is not None and c.references != table and c.references not in declared:
                raise DeclarationError(
                    f"{where}: column {c.name!r} references {c.references!r}, which is not declared above it in"
                    f" {self.domain}; declared: {known}"
                )
        for parent in d.after:
            if parent == table or parent not in declared:
                raise DeclarationError(
                    f"{where}: after names {parent!r}, which is not a table declared above it in {self.domain};"
                    f" declared: {known}"
                )
        return col.schema(*((c.name, c.type) for c in d.columns))

    def _add(
        self,
        table: str,
        d: TableOptions,
        schema: pa.Schema,
        build: Callable[[Any, int, int], pa.Table] | None = None,
        derive: Derivation | None = None,
    ) -> TableSpec:
        foreign_keys = tuple((c.name, c.references) for c in d.columns if c.references is not None)
        # Parents: the referenced tables in column order, then the `after` ones (a table is not its own).
        parents = tuple(dict.fromkeys([*(p for _, p in foreign_keys if p != table), *d.after]))
        spec = TableSpec(
            domain=self.domain,
            name=table,
            key=d.key,
            schema=schema,
            description=d.description,
            slots=d.slots,
            build=build,
            parents=parents,
            per_tenant=self.per_tenant if d.per_tenant is None else d.per_tenant,
            foreign_keys=foreign_keys,
            export_exclude=d.export_exclude,
            text_columns=d.text_columns,
            derive=derive,
            created=d.created,
            column_descriptions={c.name: c.description for c in d.columns},
        )
        self._specs.append(spec)
        return spec


def _assembling(table: str, builder: Builder, schema: pa.Schema) -> Callable[[Any, int, int], pa.Table]:
    """The builder, returning a table of the declared schema made from the columns it returns."""
    names = set(schema.names)

    def build(model: Any, lo: int, hi: int) -> pa.Table:
        result = builder(model, lo, hi)
        if isinstance(result, pa.Table):
            if not result.schema.equals(schema):
                raise ValueError(f"{table}: the builder's table has schema {result.schema}, not the declared {schema}")
            return result
        if result.keys() != names:
            missing, extra = sorted(names - result.keys()), sorted(result.keys() - names)
            raise ValueError(
                f"{table}: the builder's columns differ from the declaration: missing {missing}, extra {extra}"
            )
        return col.table(dict(result), schema)

    build.__name__ = build.__qualname__ = table
    build.__doc__ = builder.__doc__
    return build
