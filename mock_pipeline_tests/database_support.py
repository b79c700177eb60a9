"""Shared by the database tests: datasets made by the real pipeline, and a target per backend with a
way to look inside it. Fixtures stay in the test modules (thin wrappers over the functions here)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb
import psycopg2
import pyarrow.parquet as pq
import pytest

from mock_pipeline.domains.commerce import COMMERCE
from mock_pipeline.domains.factory import Domain, domain_definitions
from mock_pipeline.domains.maintenance import MAINTENANCE
from mock_pipeline.engine.table import PART_FILE
from mock_pipeline.publish import database as db
from mock_pipeline.resources import DataDirResource, ScenarioResource

MAINTENANCE_OVERRIDES = {"maintenance.items": 50, "maintenance.tickets": 200, "maintenance.categories": 4}
PASSWORD = "Zq7-s3cret-pw"  # the secret whose absence the tests check
GUARD_VARS = ("NODE_ENV", "MOCK_PIPELINE_ENV", "MOCK_DATA_ENABLED", db.DATABASE_URL_ENV)


def clear_guard_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The host's environment must not decide a test's outcome."""
    for var in GUARD_VARS:
        monkeypatch.delenv(var, raising=False)


def materialize_domain(domain: Domain, root: Path, **scenario: object) -> Path:
    """Generate and check a domain with the real assets; returns its dataset folder."""
    assets, checks = domain_definitions(domain)
    resources = {"scenario": ScenarioResource(**scenario), "data_dir": DataDirResource(root=str(root))}
    assert dg.materialize([*assets, *checks], resources=resources).success
    resolved = ScenarioResource(**scenario).resolve()
    return DataDirResource(root=str(root)).dataset(resolved, domain.name)


@dataclass(frozen=True)
class Dataset:
    root: Path  # the data folder
    path: Path  # the domain's Parquet tables
    scenario: dict[str, object]


def commerce_dataset(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    root = tmp_path_factory.mktemp("commerce_data")
    return Dataset(root, materialize_domain(COMMERCE, root), {})


def maintenance_datasets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Dataset]:
    root = tmp_path_factory.mktemp("maintenance_data")
    runs = {}
    for name, tag, seed in (("alpha", "alpha", 42), ("beta", "beta", 42), ("alpha-seed7", "alpha", 7)):
        scenario = {"run_tag": tag, "seed": seed, "overrides": MAINTENANCE_OVERRIDES}
        runs[name] = Dataset(root, materialize_domain(MAINTENANCE, root, **scenario), scenario)
    return runs


def parquet_rows(dataset: Path, table: str) -> int:
    return pq.read_metadata(dataset / table / PART_FILE).num_rows


# --- a target per backend, and a way to look inside it ------------------------------------------


@dataclass
class Backend:
    name: str
    target: db.Target
    connect: Callable[[], object]

    @property
    def declares_foreign_keys(self) -> bool:
        """PostgreSQL declares them after the data; DuckDB only when asked (it proves them otherwise)."""
        return self.name == "postgres" or bool(getattr(self.target, "declare_foreign_keys", False))

    def query(self, sql: str) -> list[tuple]:
        return self.scalars(sql, rows=True)

    def scalars(self, *sql: str, rows: bool = False) -> list:
        """The first value of each query over one connection (or, with rows, all rows of one)."""
        con = self.connect()
        try:
            cur = con.cursor() if self.name == "postgres" else con
            values = []
            for statement in sql:
                cur.execute(statement)
                values.append(cur.fetchall() if rows else cur.fetchone()[0])
            return values[0] if rows else values
        finally:
            con.close()

    def execute(self, *statements: str) -> None:
        """Run statements in one transaction (rolled back when one fails, as the error propagates)."""
        con = self.connect()
        try:
            if self.name == "postgres":
                with con, con.cursor() as cur:
                    for sql in statements:
                        cur.execute(sql)
            else:
                con.execute("BEGIN")
                for sql in statements:
                    con.execute(sql)
                con.execute("COMMIT")
        finally:
            con.close()

    def tables(self, schema: str = db.MOCK_SCHEMA) -> dict[str, int]:
        """Every table in `schema` with its row count (but the load's registry of what it created)."""
        names = [
            r[0]
            for r in self.query(
                f"SELECT table_name FROM information_schema.tables WHERE table_schema = '{schema}' ORDER BY 1"
            )
            if r[0] != db.REGISTRY_TABLE
        ]
        counts = self.scalars(*(f'SELECT count(*) FROM "{schema}"."{n}"' for n in names))
        return dict(zip(names, counts, strict=True))

    def schema_exists(self, schema: str = db.MOCK_SCHEMA) -> bool:
        sql = f"SELECT count(*) FROM information_schema.schemata WHERE schema_name = '{schema}'"
        return self.query(sql)[0][0] > 0


@contextmanager
def fresh_pg_database(postgres_url: str) -> Iterator[str]:
    """A fresh database on the session's server, so tests never see each other's tables."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = psycopg2.connect(postgres_url)
    admin.autocommit = True
    admin.cursor().execute(f'CREATE DATABASE "{name}"')
    # Not UTC, so a load that relied on the server's time zone would shift every timestamp.
    admin.cursor().execute(f"ALTER DATABASE \"{name}\" SET TimeZone TO 'America/New_York'")
    try:
        yield postgres_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        admin.cursor().execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        admin.close()


def open_duckdb(path: Path) -> duckdb.DuckDBPyConnection:
    # Attached under another name: a file called mock_data.duckdb would make "mock_data" ambiguous.
    con = duckdb.connect()
    con.execute(f"ATTACH '{path}' AS loaded")
    con.execute("USE loaded")
    return con


def duckdb_backend(path: Path, declare_foreign_keys: bool = False) -> Backend:
    target = db.DuckDBTarget(path, declare_foreign_keys=declare_foreign_keys)
    return Backend("duckdb", target, lambda: open_duckdb(path))


def postgres_backend(url: str) -> Backend:
    return Backend("postgres", db.PostgresTarget(url), lambda: psycopg2.connect(url))


# The `backend` fixture's parameters: DuckDB always, PostgreSQL in the integration tier.
BACKENDS = ["duckdb", pytest.param("postgres", marks=pytest.mark.integration)]
# For the tests of declared keys: also DuckDB with its foreign keys declared.
KEYED_BACKENDS = [*BACKENDS, pytest.param("duckdb-declared", marks=pytest.mark.slow)]


def make_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if request.param.startswith("duckdb"):
        return duckdb_backend(tmp_path / "db" / "mock_data.duckdb", request.param == "duckdb-declared")
    return postgres_backend(request.getfixturevalue("pg_database"))


def load(backend: Backend, dataset: Path, domain: Domain = COMMERCE, **kwargs: object) -> db.LoadResult:
    kwargs.setdefault("env", {})
    return db.load_domain(backend.target, domain.name, domain.tables, dataset, **kwargs)


def snapshot(backend: Backend) -> dict[str, int]:
    return backend.tables() if backend.schema_exists() else {}
