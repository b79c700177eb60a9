"""`[dataset, source_schema_tables]`: an imported dataset loaded into PostgreSQL under its source DDL.

The component adds it for `publish: [database_ddl]`. Unlike the built-in `database_tables` (the
project's own DDL, tables named <domain>_<table>), it recreates the source schema's tables with
their real names, types and constraints (mock_pipeline.mock_dataset.ddl), so the database judges the rows.
"""

import dagster as dg
import pyarrow.parquet as pq
from pydantic import Field

from mock_pipeline.domains.factory import OWNERS, Domain
from mock_pipeline.mock_dataset.ddl import DEFAULT_SCHEMA, DdlLoadError, check_target, imported_tables, load
from mock_pipeline.mock_dataset.spec import DatasetSpec
from mock_pipeline.publish.database.resources import MockDatabaseResource, PostgresDatabase
from mock_pipeline.resources import DataDirResource, ScenarioResource


class SourceSchemaLoadConfig(dg.Config):
    target_schema: str = Field(
        DEFAULT_SCHEMA, description="Schema the source tables are recreated in (made if missing)."
    )


def source_schema_asset(domain: Domain, spec: DatasetSpec) -> dg.AssetsDefinition:
    tables = list(imported_tables(spec))

    @dg.asset(
        name="source_schema_tables",
        key_prefix=[domain.name],
        group_name=domain.name,
        deps=[domain.key(t) for t in tables],
        kinds={"postgres"},
        pool="mock_data_database",
        owners=OWNERS,
        description=f"{', '.join(tables)} recreated with the source schema's DDL and constraints, loaded in one transaction.",
    )
    def _source_schema_tables(
        context: dg.AssetExecutionContext,
        config: SourceSchemaLoadConfig,
        scenario: ScenarioResource,
        data_dir: DataDirResource,
        database: MockDatabaseResource,
    ) -> dg.MaterializeResult:
        try:
            check_target(config.target_schema)
        except DdlLoadError as exc:
            raise dg.Failure(description=f"target_schema: {exc}", allow_retries=False) from None
        if not isinstance(database, PostgresDatabase):
            raise dg.Failure(
                description="database: the source DDL is PostgreSQL's; allowed: PostgresDatabase"
                " (set MOCK_PIPELINE_DATABASE_URL)",
                allow_retries=False,
            )
        with data_dir.reading(scenario.resolve(), domain.name, tables) as dataset:
            data = {t: pq.read_table(dataset / t) for t in tables}
        try:
            result = load(database.url, spec, data, config.target_schema)
        except DdlLoadError as exc:
            raise dg.Failure(description=str(exc), allow_retries=False) from None
        context.log.info(
            f"{sum(result.rows.values()):,} rows under {result.constraints} constraints in {result.schema}"
        )
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": sum(result.rows.values()),
                "schema": result.schema,
                "constraints": result.constraints,
                "rows": dg.MetadataValue.json(result.rows),
            }
        )

    return _source_schema_tables
