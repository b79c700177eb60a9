"""The embedded default target: one DuckDB file, loaded with INSERT ... SELECT FROM read_parquet."""

import re
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb

from mock_pipeline.engine.table import TableSpec
from mock_pipeline.publish.database.errors import LoadError
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

DUCKDB_CATALOG = "mock_pipeline_db"


class ForeignKeyViolation(Exception):
    """A loaded row points at no parent row (the load rolls back)."""


class DuckDBSession(Session):
    def __init__(self, con: duckdb.DuckDBPyConnection, declare_foreign_keys: bool = False) -> None:
        self.con = con
        self.catalog = DUCKDB_CATALOG
        self.declare_foreign_keys = declare_foreign_keys

    def table_exists(self, schema: str, name: str) -> bool:
        sql = "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?"
        return bool(self.con.execute(sql, [schema, name]).fetchone()[0])

    def schema_exists(self, schema: str) -> bool:
        sql = "SELECT count(*) FROM duckdb_schemas() WHERE database_name = ? AND schema_name = ?"
        return bool(self.con.execute(sql, [DUCKDB_CATALOG, schema]).fetchone()[0])

    def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self.con.execute(sql, list(params)).fetchall()

    def dependent_views(self, schema: str, names: Sequence[str]) -> dict[str, list[str]]:
        # DuckDB records no dependency of a view on a table: DROP TABLE goes through and the view breaks
        # (and probing a view that no longer binds would abort our transaction). Read each stored
        # view's query with DuckDB's own parser instead.
        rows = self.fetch(
            "SELECT schema_name, view_name, sql FROM duckdb_views() WHERE database_name = ? AND NOT internal",
            [DUCKDB_CATALOG],
        )
        views = {(s.lower(), v.lower()): (f"{s}.{v}", _view_relations(s, sql)) for s, v, sql in rows}
        found: dict[str, list[str]] = {}
        for name in names:
            # A view on a view on our table breaks too: follow views until no new one is reached.
            broken: set[tuple[str, str]] = set()
            reached = {(schema.lower(), name.lower())}
            while new := {k for k, (_, rels) in views.items() if k not in broken and (rels is None or rels & reached)}:
                broken |= new
                reached |= new
            if broken:
                found[name] = sorted(views[k][0] for k in broken)
        return found

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
        # DuckDB checks keys as rows arrive and has no ALTER TABLE ADD FOREIGN KEY: a declared key is
        # declared now. Foreign keys are declared only on request (see DuckDBTarget).
        name = self.qualified(schema, table_name(domain, spec.name))
        columns = [f"{quote(f.name)} {sql_type(f, 'duckdb')}" for f in spec.schema]
        constraints = [f"PRIMARY KEY ({quote(spec.key)})"]
        for column, parent in spec.foreign_keys if self.declare_foreign_keys else ():
            ref = self.qualified(schema, table_name(domain, parent))
            constraints.append(
                f"FOREIGN KEY ({quote(column)}) REFERENCES {ref} ({quote(parent_key(specs, spec.name, parent))})"
            )
        self.con.execute(f"CREATE TABLE {name} ({', '.join(columns + constraints)})")
        files = str(source / "*.parquet").replace("'", "''")
        select = f"SELECT {column_list(spec)} FROM read_parquet('{files}')"
        self_refs = [c for c, p in spec.foreign_keys if p == spec.name]
        if not self_refs or not self.declare_foreign_keys:
            return int(self.con.execute(f"INSERT INTO {name} ({column_list(spec)}) {select}").fetchone()[0])
        return self._load_self_referencing(name, spec, select, self_refs)

    def add_keys(self, schema: str, domain: str, tables: Sequence[TableSpec], specs: Mapping[str, TableSpec]) -> None:
        if self.declare_foreign_keys:
            return  # declared with each table, and checked by DuckDB as the rows went in
        # Not declared: each foreign key is proved by one anti-join before the load commits.
        for spec in tables:
            name = self.qualified(schema, table_name(domain, spec.name))
            for column, parent in spec.foreign_keys:
                ref = self.qualified(schema, table_name(domain, parent))
                key = quote(parent_key(specs, spec.name, parent))
                missing, example = self.con.execute(
                    f"SELECT count(*), min(c.{quote(column)}) FROM {name} c WHERE c.{quote(column)} IS NOT NULL"
                    f" AND NOT EXISTS (SELECT 1 FROM {ref} p WHERE p.{key} = c.{quote(column)})"
                ).fetchone()
                if missing:
                    raise ForeignKeyViolation(
                        f"foreign key {name}.{column} -> {ref}.{parent_key(specs, spec.name, parent)}: {missing:,}"
                        f" rows point at no {parent} row (e.g. {column} = {example})"
                    )

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

    def __init__(
        self, path: Path, lock_wait_seconds: float = LOCK_WAIT_SECONDS, declare_foreign_keys: bool = False
    ) -> None:
        self.path = path.absolute()
        self.description = str(self.path)
        self.lock_wait_seconds = lock_wait_seconds
        # DuckDB can declare a foreign key only with its table, checks it row by row as rows go in,
        # and keeps an index per key: declared, they doubled the load's time and the file's size.
        # By default primary keys are declared and foreign keys proved by one anti-join each.
        self.declare_foreign_keys = declare_foreign_keys

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
                yield DuckDBSession(con, self.declare_foreign_keys)
            except BaseException:
                rollback_quietly(con.rollback)
                raise
            con.execute("COMMIT")
        finally:
            con.close()


def _view_relations(view_schema: str, sql: str) -> set[tuple[str, str]] | None:
    """(schema, name) in lower case of every table or view a stored view reads (None: unknown).

    DuckDB stores `CREATE VIEW <name>[(<columns>)] AS <query>;`: the query is the first tail after an
    " AS " that parses (the view's name may itself contain one). An unqualified name is counted in the
    view's own schema, which errs on the side of keeping a user's view.
    """
    for separator in re.finditer(r"\sAS\s", sql, flags=re.IGNORECASE):
        query = sql[separator.end() :].strip().rstrip(";")
        try:
            names = duckdb.get_table_names(query, qualified=True)
        except duckdb.Error:
            continue
        relations = set()
        for qualified in names:
            parts = qualified.lower().split(".")
            relations.add((parts[-2] if len(parts) > 1 else view_schema.lower(), parts[-1]))
        return relations
    return None  # unparseable: assumed to read every table, so none is ever dropped from under it
