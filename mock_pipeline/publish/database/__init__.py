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
a domain's run namespace (maintenance's run tag, seed 000) not already present in the target,
and no view someone else built on a table the load would replace or the cleanup drop (the views
are named; DuckDB would otherwise let the drop break them silently).

Modules: `target.py` (what every target offers), `duckdb.py` and `postgres.py` (one module per
system), `guard.py` (the safety checks and the registry of what the load created), `load.py`
(load_domain and cleanup); these use no Dagster API and are tested on their own. `resources.py`
and `asset.py` are the Dagster wiring (resources, the per-domain asset and the cleanup job).
A run-scoped domain's namespace check is its own `Domain.namespace` hook, never a name here.
This package re-exports the public names.
"""

from mock_pipeline.domains.factory import NamespaceHook, NamespaceProbe
from mock_pipeline.publish.database.asset import (
    CleanupConfig,
    DatabaseLoadConfig,
    database_tables_asset,
    mock_data_cleanup_job,
)
from mock_pipeline.publish.database.duckdb import DUCKDB_CATALOG, DuckDBSession, DuckDBTarget
from mock_pipeline.publish.database.errors import LoadError, LoadRefused, NotOurs
from mock_pipeline.publish.database.guard import (
    CLEANUP_COMMAND,
    CONFIRM_TOKEN,
    DEFAULT_MAX_ROWS_PER_TABLE,
    ENABLED_ENV,
    MOCK_SCHEMA,
    PRODUCTION_ENV_VARS,
    PRODUCTION_VALUES,
    REGISTRY_TABLE,
    Registered,
    Registry,
    check_environment,
    check_row_limits,
    check_schema,
)
from mock_pipeline.publish.database.load import (
    CleanupResult,
    LoadOptions,
    LoadResult,
    cleanup,
    load_domain,
    parquet_rows,
)
from mock_pipeline.publish.database.postgres import (
    ADVISORY_LOCK_KEY,
    COPY_BATCH_ROWS,
    DATABASE_URL_ENV,
    PostgresSession,
    PostgresTarget,
)
from mock_pipeline.publish.database.resources import (
    EMBEDDED_FOLDER,
    EMBEDDED_NAME,
    DuckDBDatabase,
    MockDatabaseResource,
    PostgresDatabase,
    database_resource,
    embedded_file,
)
from mock_pipeline.publish.database.target import (
    LOCK_WAIT_SECONDS,
    Session,
    Target,
    column_list,
    parent_key,
    quote,
    sql_type,
    table_name,
)

__all__ = [
    "ADVISORY_LOCK_KEY",
    "CLEANUP_COMMAND",
    "CONFIRM_TOKEN",
    "COPY_BATCH_ROWS",
    "DATABASE_URL_ENV",
    "DEFAULT_MAX_ROWS_PER_TABLE",
    "DUCKDB_CATALOG",
    "EMBEDDED_FOLDER",
    "EMBEDDED_NAME",
    "ENABLED_ENV",
    "LOCK_WAIT_SECONDS",
    "MOCK_SCHEMA",
    "PRODUCTION_ENV_VARS",
    "PRODUCTION_VALUES",
    "REGISTRY_TABLE",
    "CleanupConfig",
    "CleanupResult",
    "DatabaseLoadConfig",
    "DuckDBDatabase",
    "DuckDBSession",
    "DuckDBTarget",
    "LoadError",
    "LoadOptions",
    "LoadRefused",
    "LoadResult",
    "MockDatabaseResource",
    "NamespaceHook",
    "NamespaceProbe",
    "NotOurs",
    "PostgresDatabase",
    "PostgresSession",
    "PostgresTarget",
    "Registered",
    "Registry",
    "Session",
    "Target",
    "check_environment",
    "check_row_limits",
    "check_schema",
    "cleanup",
    "column_list",
    "database_resource",
    "database_tables_asset",
    "embedded_file",
    "load_domain",
    "mock_data_cleanup_job",
    "parent_key",
    "parquet_rows",
    "quote",
    "sql_type",
    "table_name",
]
