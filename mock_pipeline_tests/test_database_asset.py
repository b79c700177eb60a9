"""Database load through Dagster: the per-domain asset, the resource chosen from the environment, the
cleanup job, and secrets that never reach a run record (PostgreSQL in the integration tier).

Datasets are produced by the real pipeline; expected values come from the Parquet files read with
pyarrow, never from the loader.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from mock_pipeline.domains.commerce import COMMERCE
from mock_pipeline.domains.maintenance import MAINTENANCE
from mock_pipeline.publish import database as db
from mock_pipeline.resources import DataDirResource, ScenarioResource
from mock_pipeline_tests.database_support import (
    PASSWORD,
    Dataset,
    clear_guard_environment,
    commerce_dataset,
    duckdb_backend,
    fresh_pg_database,
    load,
    maintenance_datasets,
    parquet_rows,
    postgres_backend,
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    clear_guard_environment(monkeypatch)


@pytest.fixture(scope="module")
def commerce(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    return commerce_dataset(tmp_path_factory)


@pytest.fixture(scope="module")
def maintenance(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Dataset]:
    return maintenance_datasets(tmp_path_factory)


@pytest.fixture
def pg_database(postgres_url: str) -> Iterator[str]:
    with fresh_pg_database(postgres_url) as url:
        yield url


# --- Dagster: the asset, the resource switch, secrets -----------------------------------------


def materialize_load(
    dataset: Dataset, database: db.MockDatabaseResource, instance: dg.DagsterInstance, raise_on_error: bool = True
) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [db.database_tables_asset(COMMERCE)],
        resources={
            "scenario": ScenarioResource(**dataset.scenario),
            "data_dir": DataDirResource(root=str(dataset.root)),
            "database": database,
        },
        instance=instance,
        raise_on_error=raise_on_error,
    )


def everything_recorded(instance: dg.DagsterInstance, run_id: str) -> str:
    """The run's event log, run record and job snapshot, as stored."""
    run = instance.get_run_by_id(run_id)
    parts = [dg.serialize_value(record) for record in instance.all_logs(run_id)]
    parts += [dg.serialize_value(run), dg.serialize_value(instance.get_job_snapshot(run.job_snapshot_id))]
    return "\n".join(parts)


def files_containing(root: Path, secret: str) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and secret.encode() in p.read_bytes()]


@pytest.mark.integration
def test_asset_loads_postgres_and_never_records_the_password(
    monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str], pg_database: str, commerce: Dataset
) -> None:
    url = pg_database.replace("postgres@", f"postgres:{PASSWORD}@")  # trust auth accepts any password
    monkeypatch.setenv(db.DATABASE_URL_ENV, url)
    database = db.database_resource()
    assert isinstance(database, db.PostgresDatabase)

    with dg.DagsterInstance.ephemeral() as instance:
        result = materialize_load(commerce, database, instance)
        metadata = result.asset_materializations_for_node("commerce__database_tables")[0].metadata
        recorded = everything_recorded(instance, result.run_id)

    total = sum(parquet_rows(commerce.path, t.name) for t in COMMERCE.tables)
    assert metadata["dagster/row_count"].value == total
    assert metadata["target"].value == pg_database  # user, host, port, database: no password
    assert metadata["backend"].value == "postgres"
    assert metadata["schema"].value == "mock_data"
    assert "| mock_data.commerce_orders | " in metadata["tables"].value
    assert metadata["seconds"].value > 0
    assert "mock_data.commerce_orders" in recorded  # what went where is in the log ...
    assert PASSWORD not in recorded  # ... the password is not
    captured = capfd.readouterr()
    assert PASSWORD not in captured.err + captured.out
    assert files_containing(commerce.root, PASSWORD) == []
    assert postgres_backend(pg_database).tables()["commerce_orders"] == parquet_rows(commerce.path, "orders")


@pytest.mark.integration
@pytest.mark.parametrize(
    "url",
    [
        f"postgresql://postgres:{PASSWORD}@127.0.0.1:1/postgres",  # nothing listens
        f"postgresql://postgres:{PASSWORD}@127.0.0.1:notaport/postgres",  # malformed
    ],
)
def test_connection_errors_never_carry_the_password(
    monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str], commerce: Dataset, url: str
) -> None:
    monkeypatch.setenv(db.DATABASE_URL_ENV, url)
    with dg.DagsterInstance.ephemeral() as instance:
        result = materialize_load(commerce, db.database_resource(), instance, raise_on_error=False)
        recorded = everything_recorded(instance, result.run_id)
    assert not result.success
    failure = result.get_step_failure_events()[0].step_failure_data.error
    assert "postgresql://postgres@127.0.0.1" in failure.message or db.DATABASE_URL_ENV in failure.message
    assert PASSWORD not in recorded
    captured = capfd.readouterr()
    assert PASSWORD not in captured.err + captured.out


def test_asset_defaults_to_the_embedded_duckdb_file(commerce: Dataset) -> None:
    database = db.database_resource()
    assert isinstance(database, db.DuckDBDatabase)
    with dg.DagsterInstance.ephemeral() as instance:
        result = materialize_load(commerce, database, instance)
    metadata = result.asset_materializations_for_node("commerce__database_tables")[0].metadata
    # One file per profile and run tag: another scenario never meets this one's namespace.
    path = commerce.root / "database" / "normal-ops__mock" / "mock_data.duckdb"
    assert metadata["target"].value == str(path)
    assert metadata["backend"].value == "duckdb"
    assert duckdb_backend(path).tables()["commerce_orders"] == parquet_rows(commerce.path, "orders")


def test_asset_refusal_is_one_clear_failure(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, commerce: Dataset) -> None:
    monkeypatch.setenv("MOCK_DATA_ENABLED", "false")
    path = tmp_path / "x.duckdb"
    with dg.DagsterInstance.ephemeral() as instance:
        result = materialize_load(commerce, db.DuckDBDatabase(path=str(path)), instance, raise_on_error=False)
    assert not result.success
    error = result.get_step_failure_events()[0].step_failure_data
    assert "MOCK_DATA_ENABLED=false: mock data is disabled" in error.user_failure_data.description
    assert not path.exists()


def test_cleanup_job_needs_the_token(tmp_path: Path, commerce: Dataset) -> None:
    from mock_pipeline.definitions import DOMAINS, defs

    path = tmp_path / "x.duckdb"
    backend = duckdb_backend(path)
    load(backend, commerce.path)
    job = defs.resolve_job_def("mock_data_cleanup")
    assert job is not None
    cleanup_job = db.mock_data_cleanup_job(DOMAINS)
    resources = {
        "database": db.DuckDBDatabase(path=str(path)),
        "data_dir": DataDirResource(root=str(tmp_path)),
        "scenario": ScenarioResource(),
    }

    def run(token: str) -> dg.ExecuteInProcessResult:
        config = {"ops": {"delete_all_mock_data": {"config": {"confirm": token}}}}
        return cleanup_job.execute_in_process(run_config=config, resources=resources, raise_on_error=False)

    refused = run("please")
    assert not refused.success
    description = refused.get_step_failure_events()[0].step_failure_data.user_failure_data.description
    assert "confirm must be exactly 'DELETE_ALL_MOCK_DATA'" in description
    assert backend.tables()["commerce_orders"] == parquet_rows(commerce.path, "orders")

    assert run(db.CONFIRM_TOKEN).success
    assert not backend.schema_exists()


def test_definitions_have_a_database_load_per_domain() -> None:
    from mock_pipeline.definitions import DOMAINS, defs

    keys = {key.to_user_string() for key in defs.resolve_all_asset_keys()}
    assert {f"{d.name}/database_tables" for d in DOMAINS} <= keys
    spec = defs.resolve_assets_def(dg.AssetKey(["commerce", "database_tables"]))
    deps = {dep.asset_key for dep in spec.specs_by_key[dg.AssetKey(["commerce", "database_tables"])].deps}
    assert deps == {COMMERCE.key(t.name) for t in COMMERCE.tables}


def test_asset_refuses_another_dataset_claiming_a_loaded_maintenance_run_tag(
    tmp_path: Path, maintenance: dict[str, Dataset]
) -> None:
    from mock_pipeline.definitions import DOMAINS

    assert MAINTENANCE in DOMAINS

    def resources(dataset: Dataset) -> dict[str, object]:
        return {
            "scenario": ScenarioResource(**dataset.scenario),
            "data_dir": DataDirResource(root=str(dataset.root)),
            "database": db.DuckDBDatabase(path=str(tmp_path / "x.duckdb")),
        }

    asset = db.database_tables_asset(MAINTENANCE)  # the hook is the domain's own Domain.namespace
    assert dg.materialize([asset], resources=resources(maintenance["alpha"])).success
    assert dg.materialize([asset], resources=resources(maintenance["alpha"])).success  # the same dataset again
    resources = resources(maintenance["alpha-seed7"])
    again = dg.materialize([asset], resources=resources, raise_on_error=False)
    assert not again.success
    description = again.get_step_failure_events()[0].step_failure_data.user_failure_data.description
    assert "maintenance: namespace 'alpha:' already exists" in description
    # Replacing it is an explicit choice.
    config = {"ops": {"maintenance__database_tables": {"config": {"replace_existing_namespace": True}}}}
    assert dg.materialize([asset], resources=resources, run_config=config).success
