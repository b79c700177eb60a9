"""The database load of an imported dataset: the source schema's DDL recreated, so the database judges the data.

The tables are created in a schema of their own (default `mock_data`, made if missing) with their
real column types, NOT NULL, primary keys, UNIQUE and CHECK constraints and enum types; the rows are
copied in; then the foreign keys and unique indexes are added, which validates every row. All of it
is one transaction: a violation rolls everything back and is reported in one line naming the
constraint, so a failed load leaves nothing half-published. No Dagster here; psycopg2 does the SQL.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from mock_pipeline.mock_dataset.spec import DatasetSpec, TableDdl

DEFAULT_SCHEMA = "mock_data"
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_PROTECTED = ("public", "pg_catalog", "information_schema", "pg_toast")


class DdlLoadError(RuntimeError):
    """One line: which table and constraint refused the data, or why the load could not start."""


@dataclass(frozen=True)
class DdlLoadResult:
    schema: str
    rows: dict[str, int]
    constraints: int  # constraints and unique indexes recreated and holding


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def imported_tables(spec: DatasetSpec) -> dict[str, TableDdl]:
    """The tables of the spec that carry their source DDL, in the spec's order."""
    return {name: t.ddl for name, t in spec.tables.items() if t.ddl is not None}


def check_target(schema: str) -> None:
    if not _IDENTIFIER.match(schema) or schema in _PROTECTED:
        raise DdlLoadError(
            f"schema: {schema!r} is not allowed; allowed: a lower-case identifier other than {', '.join(_PROTECTED)}"
        )


def _is_foreign_key(constraint: str) -> bool:
    return " FOREIGN KEY " in constraint


def create_statements(spec: DatasetSpec, schema: str) -> tuple[list[str], list[str]]:
    """(before the rows: types and tables with every non-foreign-key constraint, after: foreign keys and
    unique indexes). Everything runs with search_path = the target schema, so the source's unqualified
    names land there."""
    check_target(schema)
    tables = imported_tables(spec)
    before = [f"CREATE SCHEMA IF NOT EXISTS {quote(schema)}", f"SET LOCAL search_path TO {quote(schema)}"]
    before += [f"DROP TABLE IF EXISTS {quote(name)} CASCADE" for name in tables]
    for statement in spec.types:
        name = statement.split()[2]
        before += [f"DROP TYPE IF EXISTS {name} CASCADE", statement]
    after: list[str] = []
    for name, ddl in tables.items():
        lines = [f"{quote(c)} {sql}" for c, sql in ddl.columns.items()]
        lines += [c for c in ddl.constraints if not _is_foreign_key(c)]
        before.append(f"CREATE TABLE {quote(name)} (\n  " + ",\n  ".join(lines) + "\n)")
        after += [f"ALTER TABLE {quote(name)} ADD {c}" for c in ddl.constraints if _is_foreign_key(c)]
        after += list(ddl.indexes)
    return before, after


def _csv(table: pa.Table, columns: list[str]) -> bytes:
    """The table's loaded columns as CSV for COPY: NULL unquoted and empty, strings quoted."""
    out = []
    for name in columns:
        column = table.column(name)
        if pa.types.is_timestamp(column.type):
            column = pc.strftime(column, format="%Y-%m-%dT%H:%M:%SZ") if column.length() else column.cast(pa.string())
        out.append(column)
    sink = io.BytesIO()
    options = pacsv.WriteOptions(include_header=False, quoting_style="needed")
    pacsv.write_csv(pa.table(out, names=columns), sink, options)
    return sink.getvalue()


def load(url: str, spec: DatasetSpec, data: Mapping[str, pa.Table], schema: str = DEFAULT_SCHEMA) -> DdlLoadResult:
    """Recreate the spec's source tables in `schema` and load `data` (per table: its generated rows)."""
    import psycopg2

    tables = imported_tables(spec)
    if not tables:
        raise DdlLoadError(
            f"dataset {spec.name}: no table carries its source DDL (made by import-schema); nothing to recreate"
        )
    if missing := [t for t in tables if t not in data]:
        raise DdlLoadError(f"dataset {spec.name}: no generated rows for {', '.join(missing)}")
    before, after = create_statements(spec, schema)
    try:
        conn = psycopg2.connect(url)
    except psycopg2.Error as exc:
        raise DdlLoadError(f"database: cannot connect: {_first_line(exc)}") from None
    try:
        with conn, conn.cursor() as cur:  # one transaction: committed whole or rolled back whole
            statement = ""
            try:
                for statement in before:
                    cur.execute(statement)
                for name, ddl in tables.items():
                    statement = f"COPY {quote(name)}"
                    columns = list(ddl.columns)
                    cur.copy_expert(
                        f"COPY {quote(name)} ({', '.join(quote(c) for c in columns)}) FROM STDIN WITH (FORMAT csv)",
                        io.BytesIO(_csv(data[name], columns)),
                    )
                for statement in after:
                    cur.execute(statement)
            except psycopg2.Error as exc:
                where = statement.split("(")[0].strip()[:120]
                raise DdlLoadError(f"{where}: {_first_line(exc)} (nothing was loaded)") from None
            cur.execute(
                """SELECT (SELECT count(*) FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
                           WHERE n.nspname = %s AND c.contype IN ('p', 'u', 'f', 'c'))
                        + (SELECT count(*) FROM pg_indexes WHERE schemaname = %s AND indexdef LIKE 'CREATE UNIQUE%%'
                           AND indexname NOT IN (SELECT conname FROM pg_constraint c JOIN pg_namespace n
                                                 ON n.oid = c.connamespace WHERE n.nspname = %s))""",
                (schema, schema, schema),
            )
            constraints = int(cur.fetchone()[0])
    finally:
        conn.close()
    return DdlLoadResult(schema, {name: data[name].num_rows for name in tables}, constraints)


def _first_line(exc: Any) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
