"""The per-domain `database_tables` asset and the `mock_data_cleanup` job."""

from collections.abc import Mapping, Sequence

import dagster as dg
from pydantic import Field

from mock_pipeline.domains.factory import OWNERS, Domain
from mock_pipeline.publish.database.errors import LoadError, LoadRefused
from mock_pipeline.publish.database.guard import CONFIRM_TOKEN, DEFAULT_MAX_ROWS_PER_TABLE, MOCK_SCHEMA
from mock_pipeline.publish.database.load import LoadOptions, cleanup, load_domain
from mock_pipeline.publish.database.resources import MockDatabaseResource
from mock_pipeline.resources import DataDirResource, ScenarioResource


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


def database_tables_asset(domain: Domain) -> dg.AssetsDefinition:
    """`[domain, database_tables]`: the domain's tables loaded into the database, all or nothing.

    A run-scoped domain's `namespace` hook is probed in the target first (seed 000's collision guard).
    """
    hook = domain.namespace

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
            with data_dir.reading(resolved, domain.name) as dataset:
                result = load_domain(
                    target,
                    domain.name,
                    domain.tables,
                    dataset,
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
