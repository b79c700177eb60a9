"""What every database target offers: a transaction (`Target`) whose `Session` creates, loads
and drops tables; and the shared naming and column-type rules."""

import contextlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow as pa

from mock_pipeline.engine.table import TableSpec
from mock_pipeline.publish.database.errors import LoadRefused

LOCK_WAIT_SECONDS = 600


def table_name(domain: str, table: str) -> str:
    """The table's name inside the schema: domains share the schema, so the domain prefixes it."""
    return f"{domain}_{table}"


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def sql_type(f: pa.Field, dialect: str) -> str:
    """The SQL type a Parquet column is loaded as (`dialect` is "postgres" or "duckdb")."""
    t = f.type
    pg = dialect == "postgres"
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        is_json = (f.metadata or {}).get(b"format") == b"json"
        return ("jsonb" if pg else "JSON") if is_json else "text"
    if pa.types.is_boolean(t):
        return "boolean"
    if pa.types.is_int8(t) or pa.types.is_int16(t) or pa.types.is_uint8(t):
        return "smallint"
    if pa.types.is_int32(t) or pa.types.is_uint16(t):
        return "integer"
    if pa.types.is_int64(t) or pa.types.is_uint32(t):
        return "bigint"
    if pa.types.is_uint64(t):
        return "numeric(20, 0)" if pg else "UBIGINT"
    if pa.types.is_float32(t):
        return "real"
    if pa.types.is_float64(t):
        return "double precision" if pg else "DOUBLE"
    if pa.types.is_decimal(t):
        return f"numeric({t.precision}, {t.scale})"
    if pa.types.is_date(t):
        return "date"
    if pa.types.is_timestamp(t):
        return "timestamptz" if t.tz else "timestamp"
    raise LoadRefused(
        f"column {f.name}: Arrow type {t} has no database type; allowed: strings, numbers, dates, timestamps"
    )


def column_list(spec: TableSpec) -> str:
    return ", ".join(quote(c) for c in spec.columns)


def parent_key(specs: Mapping[str, TableSpec], table: str, parent: str) -> str:
    if parent not in specs:
        raise LoadRefused(f"{table}: foreign key to {parent}, which is not a table of this domain")
    return specs[parent].key


# --- targets ---------------------------------------------------------------------------------


class Session(ABC):
    """One open transaction on a target."""

    catalog: str | None = None  # DuckDB: the attached file's name

    def schema_ref(self, schema: str) -> str:
        return f"{quote(self.catalog)}.{quote(schema)}" if self.catalog else quote(schema)

    def qualified(self, schema: str, name: str) -> str:
        return f"{self.schema_ref(schema)}.{quote(name)}"

    @abstractmethod
    def table_exists(self, schema: str, name: str) -> bool: ...

    @abstractmethod
    def schema_exists(self, schema: str) -> bool: ...

    @abstractmethod
    def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Rows of a query; parameters are written `?`."""

    @abstractmethod
    def drop_schema_if_empty(self, schema: str) -> bool:
        """Drop the schema only when nothing at all is left in it (never CASCADE)."""

    @abstractmethod
    def count(self, schema: str, name: str, column: str | None = None, prefix: str | None = None) -> int: ...

    @abstractmethod
    def execute(self, sql: str) -> None: ...

    @abstractmethod
    def load_table(
        self, schema: str, domain: str, spec: TableSpec, source: Path, specs: Mapping[str, TableSpec]
    ) -> int:
        """Create the table and bulk load its Parquet; returns rows loaded."""

    @abstractmethod
    def add_keys(self, schema: str, domain: str, tables: Sequence[TableSpec], specs: Mapping[str, TableSpec]) -> None:
        """Declare keys after the data, where that is the database's fast path."""

    @abstractmethod
    def dependent_views(self, schema: str, names: Sequence[str]) -> dict[str, list[str]]:
        """For each of our tables `names` in `schema`, the views (`schema.view`) built on it that the
        project did not create: dropping the table would break them, so a load or cleanup refuses."""

    def drop_table(self, schema: str, name: str) -> None:
        # Never CASCADE: an object someone built on our table (a view, a foreign key) makes the
        # drop fail and the transaction roll back, instead of silently going with it.
        self.execute(f"DROP TABLE {self.qualified(schema, name)}")


class Target(ABC):
    """A database mock data can be loaded into. `description` never carries a secret."""

    backend: str
    description: str

    @contextmanager
    @abstractmethod
    def transaction(self) -> Iterator[Session]:
        """Commit when the block ends, roll back when it raises."""

    def redact(self, text: str) -> str:
        return text


def rollback_quietly(rollback: Callable[[], Any]) -> None:
    """Roll back, keeping the failure that got us here: when the server died, the rollback fails
    too ("connection already closed"), and that second error must not replace the first cause."""
    with contextlib.suppress(Exception):  # the connection is gone; the server rolls back on its own
        rollback()
