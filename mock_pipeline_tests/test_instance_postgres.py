"""Instance storage on a real PostgreSQL server through the example deploy/dagster.yaml.

`dagster asset materialize` runs with DAGSTER_HOME holding that dagster.yaml and the connection in
environment variables; the run, its materialisations and its check results are then found in
PostgreSQL, both through Dagster's instance API and in the tables themselves.
"""

import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import urlparse

import dagster as dg
import psycopg2
import pytest

from mock_pipeline.domains.commerce import COMMERCE

REPO = Path(__file__).parents[1]
DAGSTER = str(Path(sys.executable).with_name("dagster"))
TENANTS = dg.AssetKey(["commerce", "tenants"])
PASSWORD = "s3cret-instance-password"  # trust auth accepts any password; it must never be written out

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture
def pg_env(postgres_url: str) -> dict[str, str]:
    """A fresh database for the instance, and the variables dagster.yaml reads."""
    url = urlparse(postgres_url)
    db_name = f"dagster_{uuid.uuid4().hex[:8]}"
    con = psycopg2.connect(postgres_url)
    con.autocommit = True  # CREATE DATABASE cannot run in a transaction
    try:
        con.cursor().execute(f"CREATE DATABASE {db_name}")
    finally:
        con.close()
    return {
        "DAGSTER_PG_HOST": url.hostname or "127.0.0.1",
        "DAGSTER_PG_PORT": str(url.port),
        "DAGSTER_PG_DB": db_name,
        "DAGSTER_PG_USER": url.username or "postgres",
        "DAGSTER_PG_PASSWORD": PASSWORD,
    }


def test_materialisation_is_recorded_in_postgres(
    tmp_path: Path, pg_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(REPO / "deploy" / "dagster.yaml", home / "dagster.yaml")
    env = {**os.environ, **pg_env, "DAGSTER_HOME": str(home), "MOCK_PIPELINE_DATA_DIR": str(tmp_path / "data")}
    done = subprocess.run(
        [DAGSTER, "asset", "materialize", "-m", "mock_pipeline.definitions", "--select", "commerce/tenants",
         "-c", str(REPO / "mock_pipeline/scenarios/run_configs/small.yaml"), "--working-directory", str(REPO)],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert PASSWORD not in done.stdout + done.stderr

    # Through Dagster's API, on an instance loaded from the same DAGSTER_HOME.
    for name, value in {**pg_env, "DAGSTER_HOME": str(home)}.items():
        monkeypatch.setenv(name, value)
    with dg.DagsterInstance.get() as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        (run,) = instance.get_runs()
        assert run.status == dg.DagsterRunStatus.SUCCESS
        (record,) = instance.fetch_materializations(TENANTS, limit=10).records
        assert record.run_id == run.run_id
        assert record.asset_materialization.metadata["dagster/row_count"].value == 2  # small: 2 tenants
        check = instance.get_latest_asset_check_evaluation_record(dg.AssetCheckKey(TENANTS, "tenant_id_unique"))
        assert check is not None and check.run_id == run.run_id
        assert check.status.value == "SUCCEEDED"

    # In PostgreSQL's own tables.
    url = f"postgresql://{pg_env['DAGSTER_PG_USER']}@{pg_env['DAGSTER_PG_HOST']}:{pg_env['DAGSTER_PG_PORT']}"
    with psycopg2.connect(f"{url}/{pg_env['DAGSTER_PG_DB']}") as con, con.cursor() as cur:
        cur.execute("SELECT run_id, status FROM runs")
        assert cur.fetchall() == [(run.run_id, "SUCCESS")]
        cur.execute(
            "SELECT asset_key, count(*) FROM event_logs WHERE dagster_event_type = 'ASSET_MATERIALIZATION' "
            "GROUP BY asset_key"
        )
        assert cur.fetchall() == [('["commerce", "tenants"]', 1)]
        cur.execute("SELECT check_name, execution_status, run_id FROM asset_check_executions ORDER BY check_name")
        # Every rule the domain declares on tenants (its own and the derived coherence rules), each passed.
        expected = sorted(r.name for r in COMMERCE.rules if r.table == "tenants")
        assert "tenant_id_unique" in expected
        assert cur.fetchall() == [(name, "SUCCEEDED", run.run_id) for name in expected]
        cur.execute("SELECT count(*) FROM event_logs WHERE event LIKE %s", (f"%{PASSWORD}%",))
        assert cur.fetchone() == (0,)


def test_no_instance_config_at_the_repository_root() -> None:
    """With DAGSTER_HOME unset the dagster CLI reads ./dagster.yaml: a root copy of the PostgreSQL
    example would make a plain `dagster dev` in a fresh clone demand a database."""
    assert not (REPO / "dagster.yaml").exists()
    assert (REPO / "deploy" / "dagster.yaml").exists()
