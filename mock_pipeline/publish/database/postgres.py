"""A PostgreSQL server target: COPY ... FROM STDIN (FORMAT csv, FREEZE) fed from the Parquet row
groups through pyarrow's CSV writer; keys declared after the data."""

import io
import re
import urllib.parse
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pa_csv

from mock_pipeline.engine.table import TableSpec, read_batches
from mock_pipeline.publish.database.errors import LoadError, LoadRefused
from mock_pipeline.publish.database.target import (
    LOCK_WAIT_SECONDS,
    Session,
    Target,
    column_list,
    parent_key,
    quote,
    rollback_quietly,
    sql_type,
    table_name,
)
from mock_pipeline.publish.scrubbing import scrub

DATABASE_URL_ENV = "MOCK_PIPELINE_DATABASE_URL"
# One load or cleanup at a time per PostgreSQL database (a transaction-scoped advisory lock).
ADVISORY_LOCK_KEY = 7_261_530_001
COPY_BATCH_ROWS = 65_536


def _naive_utc(batch: pa.RecordBatch) -> pa.RecordBatch:
    """Zoned timestamps as their UTC wall time: Arrow formats those about 25x faster, and the
    session's TimeZone is UTC while loading, so the server reads the same instants."""
    columns = [
        c.cast(pa.timestamp(c.type.unit)) if pa.types.is_timestamp(c.type) and c.type.tz else c for c in batch.columns
    ]
    return pa.RecordBatch.from_arrays(columns, names=batch.schema.names)


class CsvStream(io.RawIOBase):
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

    def dependent_views(self, schema: str, names: Sequence[str]) -> dict[str, list[str]]:
        # The server would refuse the DROP anyway (no CASCADE); asking first gives the same one line as
        # DuckDB, with every view that would break (views on those views too), not the driver's HINT.
        found: dict[str, list[str]] = {}
        for name in names:
            rows = self.fetch(
                "WITH RECURSIVE dependent(oid) AS ("
                " SELECT r.ev_class FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid"
                " WHERE d.classid = 'pg_rewrite'::regclass AND d.refobjid = to_regclass(?) AND r.ev_class <> d.refobjid"
                " UNION"
                " SELECT r.ev_class FROM dependent x JOIN pg_depend d ON d.refobjid = x.oid"
                " JOIN pg_rewrite r ON r.oid = d.objid WHERE d.classid = 'pg_rewrite'::regclass AND r.ev_class <> x.oid"
                ") SELECT n.nspname || '.' || c.relname FROM dependent x JOIN pg_class c ON c.oid = x.oid"
                " JOIN pg_namespace n ON n.oid = c.relnamespace ORDER BY 1",
                [self.qualified(schema, name)],
            )
            if rows:
                found[name] = [r[0] for r in rows]
        return found

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
        stream = CsvStream(read_batches(source, columns=spec.columns, batch_rows=COPY_BATCH_ROWS))
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
                rollback_quietly(con.rollback)
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
