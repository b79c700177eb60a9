"""Database load: every table of a domain into the `mock_data` schema, in one transaction.

Layout: one schema, `mock_data` (seed 001's isolation), holding `<domain>_<table>` tables
(`mock_data.commerce_orders`, `mock_data.maintenance_items`): the schema is the one thing the
safety guard and the cleanup have to reason about, and the domain prefix keeps two domains'
`users` apart.

A load replaces the domain's tables inside one transaction: drop, create, bulk load, declare
keys, commit. Any failure rolls everything back, so readers see the previous load or the whole
new one, never half of it (seed 002). The bulk path is the database's own:
- PostgreSQL: `COPY ... FROM STDIN (FORMAT csv, FREEZE)` fed from the Parquet row groups through
  pyarrow's CSV writer, one table per COPY; primary and foreign keys are added after the data, so
  the server validates each constraint in one pass instead of row by row.
- DuckDB (the embedded default): `INSERT ... SELECT FROM read_parquet(...)` into tables declared
  with their keys; no Python touches the rows.

Safety guard (seed 001), checked before anything is written: not in production, mock data not
disabled, schema `mock_data` unless explicitly allowed, every table within the record limit, and
a domain's run namespace (maintenance's run tag, seed 000) not already present in the target.
The pure part (targets, guard, load, cleanup) uses no Dagster API and is tested on its own; the
Dagster wiring (resources, the per-domain asset factory and the cleanup job) is at the bottom.
"""

import contextlib
import io
import os
import re
import time
import urllib.parse
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
from pydantic import Field

from mock_pipeline.domains.factory import OWNERS, Domain
from mock_pipeline.engine.table import TableSpec, read_batches
from mock_pipeline.publish.scrubbing import scrub
from mock_pipeline.resources import DataDirResource, ScenarioResource
from mock_pipeline.scenarios.model import Scenario
from mock_pipeline.toggle import MOCK_DATA_ENABLED_ENV, disabled_reason

MOCK_SCHEMA = "mock_data"
DATABASE_URL_ENV = "MOCK_PIPELINE_DATABASE_URL"
PRODUCTION_ENV_VARS = ("NODE_ENV", "MOCK_PIPELINE_ENV", "DAGSTER_DEPLOYMENT")
# Every common spelling of production, compared case-insensitively.
PRODUCTION_VALUES = ("production", "prod", "prd", "live")
# What the load created, per schema: only what is listed here is ever replaced or dropped.
REGISTRY_TABLE = "mock_pipeline_registry"
# One load or cleanup at a time per PostgreSQL database (a transaction-scoped advisory lock).
ADVISORY_LOCK_KEY = 7_261_530_001
LOCK_WAIT_SECONDS = 600
CLEANUP_COMMAND = "dagster job execute -m mock_pipeline.definitions -j mock_data_cleanup -c cleanup.yaml"
ENABLED_ENV = MOCK_DATA_ENABLED_ENV
CONFIRM_TOKEN = "DELETE_ALL_MOCK_DATA"
# High enough for every built-in size preset, low enough to stop a runaway volume_multiplier.
DEFAULT_MAX_ROWS_PER_TABLE = 100_000_000
EMBEDDED_FOLDER = Path("database")
EMBEDDED_NAME = "mock_data.duckdb"
DUCKDB_CATALOG = "mock_pipeline_db"
COPY_BATCH_ROWS = 65_536
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_SYSTEM_SCHEMAS = ("information_schema", "pg_catalog", "pg_toast", "main", "temp")


class LoadRefused(ValueError):
    """The safety guard said no. Nothing was written."""


class LoadError(RuntimeError):
    """The load failed and was rolled back. Nothing was written."""


class NotOurs(LoadRefused):
    """An object the project did not create is in the way: it is never replaced or dropped."""


@dataclass(frozen=True)
class NamespaceProbe:
    """Rows whose `column` starts with `prefix` belong to one run (seed 000's run-tag namespace)."""

    table: str
    column: str
    prefix: str


# A domain's pre-load check: the namespaces this run would write, probed in the target first.
NamespaceHook = Callable[[Scenario], Sequence[NamespaceProbe]]


@dataclass(frozen=True)
class LoadOptions:
    schema: str = MOCK_SCHEMA
    allow_other_schema: bool = False
    max_rows_per_table: int = DEFAULT_MAX_ROWS_PER_TABLE


@dataclass
class LoadResult:
    target: str  # never carries a password
    backend: str
    schema: str
    tables: dict[str, int] = field(default_factory=dict)  # qualified table -> rows
    seconds: float = 0.0

    @property
    def rows(self) -> int:
        return sum(self.tables.values())


@dataclass
class CleanupResult:
    target: str
    schema: str
    dropped: dict[str, int] = field(default_factory=dict)  # qualified table -> rows removed
    schema_dropped: bool = False
    kept: list[str] = field(default_factory=list)  # why something was left in place


@dataclass(frozen=True)
class Registered:
    """A registry row: an object the load created."""

    kind: str  # "table" or "schema"
    name: str
    domain: str
    dataset_id: str


def table_name(domain: str, table: str) -> str:
    """The table's name inside the schema: domains share the schema, so the domain prefixes it."""
    return f"{domain}_{table}"


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


# --- the safety guard ------------------------------------------------------------------------


def check_environment(env: Mapping[str, str]) -> None:
    """Seed 001: never in production (any common spelling), and only while mock data is enabled."""
    for var in PRODUCTION_ENV_VARS:
        value = env.get(var, "").strip()
        if value.lower() in PRODUCTION_VALUES:
            raise LoadRefused(
                f"{var}={value}: mock data is never written in production "
                f"({', '.join(PRODUCTION_VALUES)} in any case all mean production); "
                f"unset {var} or set it to development, test or staging"
            )
    reason = disabled_reason(env)  # the same reading as the schedules' and sensors' toggle
    if reason is not None:
        raise LoadRefused(f"{reason}; set {ENABLED_ENV}=true (or unset it) to write mock data")


def check_schema(schema: str, allow_other_schema: bool) -> None:
    """Seed 001: mock data lives in `mock_data`; another schema only when explicitly allowed."""
    if not _IDENTIFIER.match(schema):
        raise LoadRefused(
            f"database.target_schema: {schema!r} is not a plain identifier; "
            "allowed: lower-case letters, digits and _, at most 63 characters"
        )
    if schema in _SYSTEM_SCHEMAS or schema.startswith("pg_"):
        raise LoadRefused(f"database.target_schema: {schema!r} is a system schema; allowed: {MOCK_SCHEMA}")
    if schema != MOCK_SCHEMA and not allow_other_schema:
        raise LoadRefused(
            f"database.target_schema: {schema!r} refused; mock data goes to {MOCK_SCHEMA!r} "
            "unless allow_non_mock_schema is true"
        )


def check_row_limits(counts: Mapping[str, int], limit: int) -> None:
    if limit <= 0:
        raise LoadRefused(f"database.max_rows_per_table: must be a positive integer, got {limit}")
    over = {t: n for t, n in counts.items() if n > limit}
    if over:
        listed = ", ".join(f"{t} ({n:,} rows)" for t, n in over.items())
        raise LoadRefused(
            f"database.max_rows_per_table: {listed} above the limit of {limit:,}; "
            "raise max_rows_per_table or choose a smaller size"
        )


def parquet_rows(folder: Path) -> int:
    """Rows of a Parquet table from its footers, without reading data."""
    return sum(pq.ParquetFile(f).metadata.num_rows for f in sorted(folder.glob("*.parquet")))


# --- column types ----------------------------------------------------------------------------


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


class DuckDBSession(Session):
    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self.catalog = DUCKDB_CATALOG

    def table_exists(self, schema: str, name: str) -> bool:
        sql = "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?"
        return bool(self.con.execute(sql, [schema, name]).fetchone()[0])

    def schema_exists(self, schema: str) -> bool:
        sql = "SELECT count(*) FROM duckdb_schemas() WHERE database_name = ? AND schema_name = ?"
        return bool(self.con.execute(sql, [DUCKDB_CATALOG, schema]).fetchone()[0])

    def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self.con.execute(sql, list(params)).fetchall()

    def drop_schema_if_empty(self, schema: str) -> bool:
        # DuckDB aborts the whole transaction on a failed DROP SCHEMA: look first.
        where = "WHERE database_name = ? AND schema_name = ?"
        probes = [
            f"SELECT count(*) FROM duckdb_tables() {where}",
            f"SELECT count(*) FROM duckdb_views() {where} AND NOT internal",
            f"SELECT count(*) FROM duckdb_sequences() {where}",
            f"SELECT count(*) FROM duckdb_functions() {where} AND NOT internal",
            f"SELECT count(*) FROM duckdb_types() {where} AND NOT internal",
        ]
        if any(self.fetch(sql, [DUCKDB_CATALOG, schema])[0][0] for sql in probes):
            return False
        self.con.execute(f"DROP SCHEMA {self.schema_ref(schema)}")
        return True

    def count(self, schema: str, name: str, column: str | None = None, prefix: str | None = None) -> int:
        if column is None:
            return int(self.con.execute(f"SELECT count(*) FROM {self.qualified(schema, name)}").fetchone()[0])
        sql = f"SELECT count(*) FROM {self.qualified(schema, name)} WHERE starts_with({quote(column)}, ?)"
        return int(self.con.execute(sql, [prefix]).fetchone()[0])

    def execute(self, sql: str) -> None:
        self.con.execute(sql)

    def load_table(
        self, schema: str, domain: str, spec: TableSpec, source: Path, specs: Mapping[str, TableSpec]
    ) -> int:
        # DuckDB checks keys as rows arrive and has no ALTER TABLE ADD FOREIGN KEY: declare them now.
        name = self.qualified(schema, table_name(domain, spec.name))
        columns = [f"{quote(f.name)} {sql_type(f, 'duckdb')}" for f in spec.schema]
        constraints = [f"PRIMARY KEY ({quote(spec.key)})"]
        for column, parent in spec.foreign_keys:
            ref = self.qualified(schema, table_name(domain, parent))
            constraints.append(
                f"FOREIGN KEY ({quote(column)}) REFERENCES {ref} ({quote(parent_key(specs, spec.name, parent))})"
            )
        self.con.execute(f"CREATE TABLE {name} ({', '.join(columns + constraints)})")
        files = str(source / "*.parquet").replace("'", "''")
        select = f"SELECT {column_list(spec)} FROM read_parquet('{files}')"
        self_refs = [c for c, p in spec.foreign_keys if p == spec.name]
        if not self_refs:
            return int(self.con.execute(f"INSERT INTO {name} ({column_list(spec)}) {select}").fetchone()[0])
        return self._load_self_referencing(name, spec, select, self_refs)

    def add_keys(self, schema: str, domain: str, tables: Sequence[TableSpec], specs: Mapping[str, TableSpec]) -> None:
        pass  # declared with each table: DuckDB cannot add a foreign key to an existing table

    def _load_self_referencing(self, name: str, spec: TableSpec, select: str, self_refs: list[str]) -> int:
        # DuckDB checks a foreign key against rows present before the statement, so a tree
        # (categories -> parent category) goes in level by level; rows that never find their
        # parent are inserted last, and the database rejects them.
        key = quote(spec.key)
        # (On failure the temp table goes with the rolled-back transaction's connection.)
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE _staged AS {select}")
        loaded = 0
        while True:
            ready = " AND ".join(
                f"(s.{quote(c)} IS NULL OR s.{quote(c)} IN (SELECT {key} FROM {name}))" for c in self_refs
            )
            sql = (
                f"INSERT INTO {name} ({column_list(spec)}) SELECT {column_list(spec)} FROM _staged s"
                f" WHERE s.{key} NOT IN (SELECT {key} FROM {name}) AND {ready}"
            )  # fmt: skip
            added = int(self.con.execute(sql).fetchone()[0])
            loaded += added
            if added == 0:
                break
        rest = f"SELECT {column_list(spec)} FROM _staged s WHERE s.{key} NOT IN (SELECT {key} FROM {name})"
        loaded += int(self.con.execute(f"INSERT INTO {name} ({column_list(spec)}) {rest}").fetchone()[0])
        self.con.execute("DROP TABLE _staged")
        return loaded


class DuckDBTarget(Target):
    """The embedded default: one DuckDB file (one writer process at a time)."""

    backend = "duckdb"

    def __init__(self, path: Path, lock_wait_seconds: float = LOCK_WAIT_SECONDS) -> None:
        self.path = path.absolute()
        self.description = str(self.path)
        self.lock_wait_seconds = lock_wait_seconds

    def _attach(self, con: duckdb.DuckDBPyConnection) -> None:
        """Attach the file, waiting while another process writes it: DuckDB allows one writer
        process per file, so a second run waits for the first one's commit, within a bound."""
        path = str(self.path).replace("'", "''")
        deadline = time.monotonic() + self.lock_wait_seconds
        pause = 0.05
        while True:
            try:
                con.execute(f"ATTACH '{path}' AS {DUCKDB_CATALOG}")
                return
            except duckdb.IOException as exc:
                if "lock" not in str(exc).lower():
                    raise
                if time.monotonic() >= deadline:
                    holder = re.search(r"PID \d+", str(exc))
                    other = f"another process ({holder.group(0)})" if holder else "another process"
                    raise LoadError(
                        f"{self.description} is busy: {other} is loading or cleaning mock data; waited "
                        f"{self.lock_wait_seconds:g} s, nothing was written; run again when it has finished"
                    ) from None
                time.sleep(pause)
                pause = min(pause * 2, 1.0)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Attached under a fixed name: DuckDB names a catalog after its file, and a file called
        # mock_data.duckdb would make "mock_data" mean both the catalog and the schema.
        con = duckdb.connect(config={"preserve_insertion_order": False})
        try:
            self._attach(con)
        except BaseException:
            con.close()
            raise
        con.execute(f"USE {DUCKDB_CATALOG}")
        try:
            con.execute("BEGIN TRANSACTION")
            try:
                yield DuckDBSession(con)
            except BaseException:
                _rollback_quietly(con.rollback)
                raise
            con.execute("COMMIT")
        finally:
            con.close()


def _rollback_quietly(rollback: Callable[[], Any]) -> None:
    """Roll back, keeping the failure that got us here: when the server died, the rollback fails
    too ("connection already closed"), and that second error must not replace the first cause."""
    with contextlib.suppress(Exception):  # the connection is gone; the server rolls back on its own
        rollback()


def _naive_utc(batch: pa.RecordBatch) -> pa.RecordBatch:
    """Zoned timestamps as their UTC wall time: Arrow formats those about 25x faster, and the
    session's TimeZone is UTC while loading, so the server reads the same instants."""
    columns = [
        c.cast(pa.timestamp(c.type.unit)) if pa.types.is_timestamp(c.type) and c.type.tz else c for c in batch.columns
    ]
    return pa.RecordBatch.from_arrays(columns, names=batch.schema.names)


class _CsvStream(io.RawIOBase):
    """Parquet batches as one CSV byte stream, rendered a batch at a time by pyarrow.

    psycopg2's copy_expert reads it like a file, so a table of any size streams through COPY
    with one batch in memory. Strings are always quoted, nulls never: in PostgreSQL's CSV an
    unquoted empty field is NULL and "" is the empty string.
    """

    def __init__(self, batches: Iterator[pa.RecordBatch]) -> None:
        self._batches = (_naive_utc(b) for b in batches)
        self._buffer = memoryview(b"")
        self.rows = 0

    def readable(self) -> bool:
        return True

    def readinto(self, out: Any) -> int:
        while not self._buffer:
            batch = next(self._batches, None)
            if batch is None:
                return 0
            sink = io.BytesIO()
            pa_csv.write_csv(batch, sink, pa_csv.WriteOptions(include_header=False, quoting_style="needed"))
            self._buffer = memoryview(sink.getvalue())
            self.rows += batch.num_rows
        n = min(len(out), len(self._buffer))
        out[:n] = self._buffer[:n]
        self._buffer = self._buffer[n:]
        return n


class PostgresSession(Session):
    def __init__(self, con: Any) -> None:
        self.con = con
        self.cur = con.cursor()

    def table_exists(self, schema: str, name: str) -> bool:
        self.cur.execute("SELECT to_regclass(%s) IS NOT NULL", [self.qualified(schema, name)])
        return bool(self.cur.fetchone()[0])

    def schema_exists(self, schema: str) -> bool:
        self.cur.execute("SELECT count(*) FROM pg_namespace WHERE nspname = %s", [schema])
        return bool(self.cur.fetchone()[0])

    def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        self.cur.execute(sql.replace("?", "%s"), list(params))
        return self.cur.fetchall() if self.cur.description else []

    def drop_schema_if_empty(self, schema: str) -> bool:
        # Without CASCADE the server refuses a schema with anything in it (a view, a function, a
        # type...): try it under a savepoint and keep the schema when it says no.
        import psycopg2.errors

        self.cur.execute("SAVEPOINT drop_schema")
        try:
            self.cur.execute(f"DROP SCHEMA {self.schema_ref(schema)}")
        except psycopg2.errors.DependentObjectsStillExist:
            self.cur.execute("ROLLBACK TO SAVEPOINT drop_schema")
            return False
        self.cur.execute("RELEASE SAVEPOINT drop_schema")
        return True

    def count(self, schema: str, name: str, column: str | None = None, prefix: str | None = None) -> int:
        if column is None:
            self.cur.execute(f"SELECT count(*) FROM {self.qualified(schema, name)}")
        else:
            self.cur.execute(f"SELECT count(*) FROM {self.qualified(schema, name)} WHERE starts_with({quote(column)}, %s)", [prefix])  # fmt: skip
        return int(self.cur.fetchone()[0])

    def execute(self, sql: str) -> None:
        self.cur.execute(sql)

    def load_table(
        self, schema: str, domain: str, spec: TableSpec, source: Path, specs: Mapping[str, TableSpec]
    ) -> int:
        name = self.qualified(schema, table_name(domain, spec.name))
        columns = ", ".join(f"{quote(f.name)} {sql_type(f, 'postgres')}" for f in spec.schema)
        self.cur.execute(f"CREATE TABLE {name} ({columns})")
        # FREEZE: the table was created in this transaction, so rows go in already frozen.
        stream = _CsvStream(read_batches(source, columns=spec.columns, batch_rows=COPY_BATCH_ROWS))
        self.cur.copy_expert(f"COPY {name} ({column_list(spec)}) FROM STDIN WITH (FORMAT csv, FREEZE)", stream, size=1 << 20)  # fmt: skip
        return self.cur.rowcount if self.cur.rowcount >= 0 else stream.rows

    def add_keys(self, schema: str, domain: str, tables: Sequence[TableSpec], specs: Mapping[str, TableSpec]) -> None:
        # After the data: one index build per key and one validating join per foreign key.
        for spec in tables:
            name = self.qualified(schema, table_name(domain, spec.name))
            self.cur.execute(f"ALTER TABLE {name} ADD PRIMARY KEY ({quote(spec.key)})")
        for spec in tables:
            name = self.qualified(schema, table_name(domain, spec.name))
            for column, parent in spec.foreign_keys:
                ref = self.qualified(schema, table_name(domain, parent))
                self.cur.execute(
                    f"ALTER TABLE {name} ADD FOREIGN KEY ({quote(column)}) "
                    f"REFERENCES {ref} ({quote(parent_key(specs, spec.name, parent))})"
                )


def _libpq_url(url: str) -> str:
    # Accept SQLAlchemy-style URLs (postgresql+psycopg2://) as well as libpq ones.
    return re.sub(r"^postgres(ql)?\+\w+://", "postgresql://", url.strip())


class PostgresTarget(Target):
    """A PostgreSQL server reached through a connection URL (the password never leaves this object)."""

    backend = "postgres"

    def __init__(self, url: str, lock_wait_seconds: float = LOCK_WAIT_SECONDS) -> None:
        import psycopg2.extensions  # imported here: the embedded default does not need a driver

        self.lock_wait_seconds = lock_wait_seconds
        self._url = _libpq_url(url)
        self._secrets = self._find_secrets(url)
        try:
            parts = psycopg2.extensions.parse_dsn(self._url)
        except Exception:
            # The driver's message quotes the string, password included: say what is wrong instead.
            raise LoadRefused(
                f"{DATABASE_URL_ENV}: not a PostgreSQL connection URL; "
                "allowed: postgresql://user:password@host:port/database"
            ) from None
        self._secrets |= {parts[k] for k in ("password",) if parts.get(k)}
        host = parts.get("host", "localhost")
        port = f":{parts['port']}" if parts.get("port") else ""
        user = f"{parts['user']}@" if parts.get("user") else ""
        self.description = f"postgresql://{user}{host}{port}/{parts.get('dbname', '')}"

    @staticmethod
    def _find_secrets(url: str) -> set[str]:
        try:
            parsed = urllib.parse.urlsplit(url.strip())
            password = parsed.password
        except ValueError:
            return set()
        if not password:
            return set()
        return {password, urllib.parse.unquote(password)}

    def redact(self, text: str) -> str:
        return scrub(text, self._secrets)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        import psycopg2

        try:
            con = psycopg2.connect(self._url, connect_timeout=15, application_name="mock_pipeline")
        except Exception as exc:
            raise LoadError(f"cannot connect to {self.description}: {self.redact(str(exc)).strip()}") from None
        try:
            session = PostgresSession(con)
            try:
                # Index builds for the keys are the slow part of a big load: give them room.
                session.execute("SET LOCAL maintenance_work_mem = '256MB'")
                session.execute("SET LOCAL TimeZone = 'UTC'")  # timestamps stream as UTC wall time
                self._wait_for_other_runs(session)
                yield session
            except BaseException:
                _rollback_quietly(con.rollback)
                raise
            con.commit()
        finally:
            con.close()

    def _wait_for_other_runs(self, session: PostgresSession) -> None:
        """One load or cleanup at a time per database: a later run waits for the earlier one's
        commit, then does its own work; a bounded wait ends in one line naming the other run."""
        import psycopg2.errors

        session.execute(f"SET LOCAL lock_timeout = '{int(self.lock_wait_seconds * 1000)}ms'")
        try:
            session.execute(f"SELECT pg_advisory_xact_lock({ADVISORY_LOCK_KEY})")
        except psycopg2.errors.LockNotAvailable:
            session.con.rollback()
            holder = session.fetch(
                "SELECT a.pid, a.application_name, a.client_addr::text, a.xact_start::text FROM pg_locks l "
                "JOIN pg_stat_activity a USING (pid) WHERE l.locktype = 'advisory' AND l.granted "
                "AND l.objid = ? LIMIT 1",
                [ADVISORY_LOCK_KEY & 0xFFFFFFFF],
            )
            other = "another run"
            if holder:
                pid, app, addr, since = holder[0]
                other = f"{app or 'a client'} (server pid {pid}, from {addr or 'a local socket'}, since {since})"
            raise LoadError(
                f"{self.description} is busy: {other} is loading or cleaning mock data; "
                f"waited {self.lock_wait_seconds:g} s, nothing was written; run again when it has finished"
            ) from None
        session.execute("SET LOCAL lock_timeout = 0")


# --- load and cleanup ------------------------------------------------------------------------


def _first_lines(text: str, lines: int = 3) -> str:
    return " | ".join(line.strip() for line in text.strip().splitlines()[:lines] if line.strip())


class Registry:
    """`<schema>.mock_pipeline_registry`: every table (and the schema itself) that the load created
    in that schema. Only what it lists is ever replaced or dropped; it lives inside the schema it
    describes, so a load into another schema never needs `mock_data`."""

    def __init__(self, session: Session, schema: str) -> None:
        self.session, self.schema = session, schema
        self.ref = session.qualified(schema, REGISTRY_TABLE)

    def exists(self) -> bool:
        return self.session.table_exists(self.schema, REGISTRY_TABLE)

    def create(self) -> None:
        # No primary key: DuckDB refuses a delete and re-insert of one key in a single transaction.
        self.session.execute(
            f"CREATE TABLE IF NOT EXISTS {self.ref} (kind text NOT NULL, name text NOT NULL, domain text NOT NULL, "
            "dataset_id text NOT NULL, loaded_at text NOT NULL)"
        )

    def entries(self) -> dict[tuple[str, str], Registered]:
        if not self.exists():
            return {}
        rows = self.session.fetch(f"SELECT kind, name, domain, dataset_id FROM {self.ref}")
        return {(r[0], r[1]): Registered(*r) for r in rows}

    def record(self, kind: str, name: str, domain: str, dataset_id: str) -> None:
        self.forget(kind, name)
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        self.session.fetch(f"INSERT INTO {self.ref} VALUES (?, ?, ?, ?, ?)", [kind, name, domain, dataset_id, stamp])

    def forget(self, kind: str, name: str) -> None:
        self.session.fetch(f"DELETE FROM {self.ref} WHERE kind = ? AND name = ?", [kind, name])


def _not_ours(target: Target, schema: str, names: Sequence[str]) -> NotOurs:
    listed = ", ".join(f"{schema}.{n}" for n in names)
    return NotOurs(
        f"{listed} already exist(s) in {target.description} and {'were' if len(names) > 1 else 'was'} not "
        f"created by mock_pipeline (not in {schema}.{REGISTRY_TABLE}); a table the project did not create is never "
        f"replaced: rename or drop it yourself, or choose another target_schema"
    )


def load_domain(
    target: Target,
    domain: str,
    tables: Sequence[TableSpec],
    dataset: Path,
    options: LoadOptions = LoadOptions(),
    namespace: Sequence[NamespaceProbe] = (),
    env: Mapping[str, str] | None = None,
    log: Callable[[str], None] = lambda _: None,
    dataset_id: str = "",
) -> LoadResult:
    """Replace the domain's tables in `options.schema` with the dataset's, all or nothing.

    Only tables the load itself created (listed in the schema's registry) are replaced, without
    CASCADE; a table of the same name that someone else made is refused, as is a run-tag namespace
    that another dataset already holds. Raises LoadRefused before anything is written, or LoadError
    after a rollback.
    """
    check_environment(os.environ if env is None else env)
    check_schema(options.schema, options.allow_other_schema)
    missing = [t.name for t in tables if not any((dataset / t.name).glob("*.parquet"))]
    if missing:
        raise LoadRefused(f"tables not materialised yet under {dataset}: {', '.join(missing)}")
    counts = {t.name: parquet_rows(dataset / t.name) for t in tables}
    check_row_limits(counts, options.max_rows_per_table)
    specs = {t.name: t for t in tables}
    for spec in tables:  # bad types or dangling references are refused before connecting
        for f in spec.schema:
            sql_type(f, target.backend)
        for _, parent in spec.foreign_keys:
            parent_key(specs, spec.name, parent)

    schema = options.schema
    result = LoadResult(target=target.description, backend=target.backend, schema=schema)
    started = time.perf_counter()
    step = "opening a transaction"
    try:
        with target.transaction() as session:
            step = f"reading {schema}.{REGISTRY_TABLE}"
            registry = Registry(session, schema)
            schema_existed = session.schema_exists(schema)
            ours = registry.entries() if schema_existed else {}
            names = [table_name(domain, spec.name) for spec in tables]
            foreign = [n for n in names if ("table", n) not in ours and session.table_exists(schema, n)]
            if foreign:
                raise _not_ours(target, schema, foreign)
            for probe in namespace:
                name = table_name(domain, probe.table)
                step = f"checking namespace {probe.prefix!r} in {schema}.{name}"
                owner = ours.get(("table", name))
                if owner is None or owner.dataset_id == dataset_id or not session.table_exists(schema, name):
                    continue  # the same dataset re-materialised replaces its own namespace
                if n := session.count(schema, name, probe.column, probe.prefix):
                    raise LoadRefused(
                        f"{domain}: namespace {probe.prefix!r} already exists in {target.description} "
                        f"({n:,} rows of {schema}.{name}.{probe.column} start with it, loaded by dataset "
                        f"{owner.dataset_id}; this run is {dataset_id or 'another dataset'}); choose another "
                        f"run_tag or run the mock_data_cleanup job first: {CLEANUP_COMMAND} "
                        f"(cleanup.yaml: ops: {{delete_all_mock_data: {{config: {{confirm: {CONFIRM_TOKEN}}}}}}})"
                    )
            step = f"creating schema {schema}"
            if not schema_existed:
                session.execute(f"CREATE SCHEMA {session.schema_ref(schema)}")
            registry.create()
            if not schema_existed:
                registry.record("schema", schema, domain, dataset_id)
            for spec in reversed(tables):  # children first: a parent with children cannot be dropped
                name = table_name(domain, spec.name)
                if ("table", name) in ours and session.table_exists(schema, name):
                    step = f"dropping the previous {schema}.{name}"
                    session.drop_table(schema, name)
            for spec in tables:
                name = table_name(domain, spec.name)
                step = f"loading {schema}.{name}"
                table_started = time.perf_counter()
                rows = session.load_table(schema, domain, spec, dataset / spec.name, specs)
                if rows != counts[spec.name]:
                    raise LoadError(f"{schema}.{name}: loaded {rows:,} rows, the Parquet has {counts[spec.name]:,}")
                registry.record("table", name, domain, dataset_id)
                result.tables[f"{schema}.{name}"] = rows
                log(f"{schema}.{name}: {rows:,} rows in {time.perf_counter() - table_started:.2f} s")
            step = "declaring primary and foreign keys"
            keys_started = time.perf_counter()
            session.add_keys(schema, domain, tables, specs)
            log(f"{domain}: keys declared and validated in {time.perf_counter() - keys_started:.2f} s")
            step = "committing"
    except (LoadRefused, LoadError):
        raise
    except Exception as exc:
        message = _first_lines(target.redact(str(exc)))
        raise LoadError(
            f"{domain}: load into {target.description} failed while {step}: {message}; rolled back, nothing was written"
        ) from None
    result.seconds = time.perf_counter() - started
    log(f"{domain}: {result.rows:,} rows in {len(result.tables)} tables into {target.description} "
        f"schema {schema} in {result.seconds:.2f} s")  # fmt: skip
    return result


def cleanup(
    target: Target,
    domains: Sequence[tuple[str, Sequence[TableSpec]]],
    confirm: str,
    schema: str = MOCK_SCHEMA,
    allow_other_schema: bool = False,
    env: Mapping[str, str] | None = None,
) -> CleanupResult:
    """Drop the domain tables that the registry of `schema` lists, then the registry, then the
    schema if the load created it and nothing else is left in it. Never CASCADE, never anything
    the registry does not list.

    Only with the confirmation token (seed 001); the environment and schema guard apply too.
    """
    if confirm != CONFIRM_TOKEN:
        raise LoadRefused(
            f"cleanup refused: confirm must be exactly {CONFIRM_TOKEN!r} (got {confirm!r}); nothing was deleted"
        )
    check_environment(os.environ if env is None else env)
    check_schema(schema, allow_other_schema)
    result = CleanupResult(target=target.description, schema=schema)
    try:
        with target.transaction() as session:
            if not session.schema_exists(schema):
                return result
            registry = Registry(session, schema)
            ours = registry.entries()
            for domain, tables in reversed(domains):
                for spec in reversed(tables):
                    name = table_name(domain, spec.name)
                    if ("table", name) not in ours:
                        if session.table_exists(schema, name):
                            result.kept.append(f"{schema}.{name}: not created by mock_pipeline")
                        continue
                    if session.table_exists(schema, name):
                        result.dropped[f"{schema}.{name}"] = session.count(schema, name)
                        session.drop_table(schema, name)
                    registry.forget("table", name)
                    del ours[("table", name)]
            if registry.exists() and not [k for k in ours if k[0] == "table"]:
                session.drop_table(schema, REGISTRY_TABLE)
                if ("schema", schema) in ours:
                    # Only a schema the load created, and only when nothing at all is left in it.
                    result.schema_dropped = session.drop_schema_if_empty(schema)
                    if not result.schema_dropped:
                        result.kept.append(f"schema {schema}: holds objects mock_pipeline did not create")
                        registry.create()
                        registry.record("schema", schema, ours[("schema", schema)].domain, "")
    except (LoadRefused, LoadError):
        raise
    except Exception as exc:
        raise LoadError(
            f"cleanup of {target.description} failed: {_first_lines(target.redact(str(exc)))}; "
            "rolled back, nothing was deleted"
        ) from None
    return result


# --- namespace hooks per domain --------------------------------------------------------------


def maintenance_namespace(scenario: Scenario) -> Sequence[NamespaceProbe]:
    """Seed 000: a maintenance run owns the category names and serial numbers under its run tag."""
    # Imported when a load runs, not when this module is: the domain package imports the factory.
    from mock_pipeline.domains.maintenance import run_tag_namespace

    namespace = run_tag_namespace(scenario.run_tag)
    return (
        NamespaceProbe("categories", "name", namespace.category_prefix),
        NamespaceProbe("items", "serial_number", namespace.serial_prefix),
    )


# Domains whose runs must not collide with a namespace already in the target.
NAMESPACE_HOOKS: dict[str, NamespaceHook] = {"maintenance": maintenance_namespace}


# --- Dagster: resources, the per-domain asset, the cleanup job ------------------------------


class MockDatabaseResource(dg.ConfigurableResource):
    """Where mock data is loaded. Implementations: DuckDBDatabase (embedded default) and
    PostgresDatabase (a server, through a connection URL)."""

    lock_wait_seconds: float = Field(
        default=LOCK_WAIT_SECONDS, description="How long a load waits for another run's load or cleanup to finish."
    )

    def target(self, data_dir: DataDirResource, scenario: Scenario | None = None) -> Target:
        raise NotImplementedError


def embedded_file(data_dir: Path, scenario: Scenario | None) -> Path:
    """The default DuckDB file: one per profile and run tag, so that another scenario (or a second
    maintenance run of the same one) never meets the first one's run-tag namespace."""
    if scenario is None:
        return data_dir / EMBEDDED_FOLDER / EMBEDDED_NAME
    folder = re.sub(r"[^A-Za-z0-9_.-]", "_", f"{scenario.profile.name}__{scenario.run_tag}")
    return data_dir / EMBEDDED_FOLDER / folder / EMBEDDED_NAME


class DuckDBDatabase(MockDatabaseResource):
    """The embedded default: a DuckDB file under the data folder, no server needed."""

    path: str | None = Field(
        default=None,
        description="Database file; default <data folder>/database/<profile>__<run_tag>/mock_data.duckdb.",
    )

    def target(self, data_dir: DataDirResource, scenario: Scenario | None = None) -> Target:
        path = Path(self.path) if self.path else embedded_file(data_dir.path, scenario)
        return DuckDBTarget(path, self.lock_wait_seconds)


class PostgresDatabase(MockDatabaseResource):
    """A PostgreSQL server. Configure `url` with dg.EnvVar: a literal would be stored in run records."""

    url: str = Field(description=f"postgresql://user:password@host:port/database, via dg.EnvVar({DATABASE_URL_ENV!r}).")

    def target(self, data_dir: DataDirResource, scenario: Scenario | None = None) -> Target:
        return PostgresTarget(self.url, self.lock_wait_seconds)


def database_resource() -> MockDatabaseResource:
    """PostgreSQL when $MOCK_PIPELINE_DATABASE_URL is set (its value is read only at run time, by
    dg.EnvVar), otherwise the embedded DuckDB file."""
    if os.environ.get(DATABASE_URL_ENV):
        return PostgresDatabase(url=dg.EnvVar(DATABASE_URL_ENV))
    return DuckDBDatabase()


class DatabaseLoadConfig(dg.Config):
    """Where and how much a domain is loaded (seed 001's safety settings)."""

    target_schema: str = Field(default=MOCK_SCHEMA, description="Schema receiving <domain>_<table> tables.")
    allow_non_mock_schema: bool = Field(default=False, description="Explicitly allow a schema other than mock_data.")
    max_rows_per_table: int = Field(default=DEFAULT_MAX_ROWS_PER_TABLE, description="Refuse a table with more rows.")
    replace_existing_namespace: bool = Field(
        default=False,
        description="Replace a run tag's namespace already in the target instead of refusing (seed 000 refuses).",
    )


def _table_markdown(tables: Mapping[str, int]) -> str:
    return "\n".join(["| table | rows |", "|---|---:|", *(f"| {t} | {n:,} |" for t, n in tables.items())])


def database_tables_asset(domain: Domain, namespace: NamespaceHook | None = None) -> dg.AssetsDefinition:
    """`[domain, database_tables]`: the domain's tables loaded into the database, all or nothing.

    `namespace` is the domain's pre-load check (default: NAMESPACE_HOOKS[domain.name], if any).
    """
    hook = namespace if namespace is not None else NAMESPACE_HOOKS.get(domain.name)

    @dg.asset(
        name="database_tables",
        key_prefix=[domain.name],
        group_name=domain.name,
        deps=[domain.key(t.name) for t in domain.tables],
        kinds={"duckdb", "postgres"},
        # One writer at a time per database: cap it with `concurrency: pools:` in dagster.yaml.
        pool="mock_data_database",
        owners=OWNERS,
        description=(
            f"Every {domain.name} table in the database's mock_data schema as {domain.name}_<table>, "
            "with primary and foreign keys, loaded in one transaction."
        ),
    )
    def _database_tables(
        context: dg.AssetExecutionContext,
        config: DatabaseLoadConfig,
        scenario: ScenarioResource,
        data_dir: DataDirResource,
        database: MockDatabaseResource,
    ) -> dg.MaterializeResult:
        resolved = scenario.resolve()
        options = LoadOptions(config.target_schema, config.allow_non_mock_schema, config.max_rows_per_table)
        try:
            target = database.target(data_dir, resolved)
            probes = hook(resolved) if hook is not None and not config.replace_existing_namespace else ()
            result = load_domain(
                target,
                domain.name,
                domain.tables,
                data_dir.dataset(resolved, domain.name),
                options,
                probes,
                log=context.log.info,
                dataset_id=resolved.dataset_id,
            )
        except LoadRefused as exc:
            raise dg.Failure(description=str(exc), allow_retries=False) from None
        except LoadError as exc:  # rolled back: retrying is safe
            raise dg.Failure(description=str(exc)) from None
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": result.rows,
                "dagster/uri": result.target,
                "target": result.target,
                "backend": result.backend,
                "schema": result.schema,
                "tables": dg.MetadataValue.md(_table_markdown(result.tables)),
                "table_count": len(result.tables),
                "seconds": round(result.seconds, 3),
                "rows_per_second": round(result.rows / result.seconds) if result.seconds else 0,
                "dataset_id": resolved.dataset_id,
            }
        )

    return _database_tables


class CleanupConfig(dg.Config):
    """Seed 001's cleanup: nothing is deleted without the confirmation token."""

    confirm: str = Field(default="", description=f"Must be exactly {CONFIRM_TOKEN}.")
    target_schema: str = Field(default=MOCK_SCHEMA, description="Schema to clean.")
    allow_non_mock_schema: bool = Field(default=False, description="Explicitly allow a schema other than mock_data.")


def mock_data_cleanup_job(domains: Sequence[Domain]) -> dg.JobDefinition:
    """`mock_data_cleanup`: drops every domain's tables from the mock_data schema, with the token."""

    @dg.op(name="delete_all_mock_data", description=f"Drop all mock data tables; needs confirm: {CONFIRM_TOKEN}.")
    def _delete_all_mock_data(
        context: dg.OpExecutionContext,
        config: CleanupConfig,
        scenario: ScenarioResource,
        data_dir: DataDirResource,
        database: MockDatabaseResource,
    ) -> None:
        try:
            # The embedded default keeps one file per profile and run tag: the scenario says which.
            result = cleanup(
                database.target(data_dir, scenario.resolve()),
                [(d.name, d.tables) for d in domains],
                config.confirm,
                config.target_schema,
                config.allow_non_mock_schema,
            )
        except LoadRefused as exc:
            raise dg.Failure(description=str(exc), allow_retries=False) from None
        except LoadError as exc:
            raise dg.Failure(description=str(exc)) from None
        rows = sum(result.dropped.values())
        context.log.info(
            f"dropped {len(result.dropped)} tables ({rows:,} rows) from {result.target} schema {result.schema}"
            + (", and the empty schema" if result.schema_dropped else "")
        )
        for reason in result.kept:
            context.log.info(f"kept {reason}")

    @dg.job(
        name="mock_data_cleanup",
        description=f"Remove all mock data from the database. Run config: ops.delete_all_mock_data.config.confirm = {CONFIRM_TOKEN}.",
    )
    def _mock_data_cleanup() -> None:
        _delete_all_mock_data()

    return _mock_data_cleanup
