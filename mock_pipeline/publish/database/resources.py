"""Dagster resources saying where mock data is loaded, and the environment's default."""

import os
import re
from pathlib import Path

import dagster as dg
from pydantic import Field

from mock_pipeline.publish.database.duckdb import DuckDBTarget
from mock_pipeline.publish.database.postgres import DATABASE_URL_ENV, PostgresTarget
from mock_pipeline.publish.database.target import LOCK_WAIT_SECONDS, Target
from mock_pipeline.resources import DataDirResource
from mock_pipeline.scenarios.model import Scenario

EMBEDDED_FOLDER = Path("database")
EMBEDDED_NAME = "mock_data.duckdb"


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

    declare_foreign_keys: bool = Field(
        default=False,
        description="Declare foreign keys in the DuckDB file, so that DuckDB also refuses later writes that"
        " break them. DuckDB can declare them only before the rows go in and checks them row by row: the load"
        " takes about twice as long and the file twice the space. Off, every foreign key is proved by one"
        " anti-join before the load commits (primary keys are always declared).",
    )

    def target(self, data_dir: DataDirResource, scenario: Scenario | None = None) -> Target:
        path = Path(self.path) if self.path else embedded_file(data_dir.path, scenario)
        return DuckDBTarget(path, self.lock_wait_seconds, self.declare_foreign_keys)


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
