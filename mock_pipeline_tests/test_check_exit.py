"""A blocking asset check that fails gives `dagster asset materialize` a non-zero exit, names the
check, and holds back the assets downstream of it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

RUN_CONFIG = (
    "resources:\n  scenario:\n    config: {size: small, seed: 3, as_of: '2024-06-30'}\n"
    "loggers:\n  console:\n    config: {log_level: INFO}\n"
)


def materialize(cwd: Path, selection: str) -> subprocess.CompletedProcess[str]:
    dagster = Path(sys.executable).with_name("dagster")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOCK_PIPELINE_") and k != "DAGSTER_HOME"}
    env["MOCK_PIPELINE_DATA_DIR"] = str(cwd / "data")
    return subprocess.run(
        [str(dagster), "asset", "materialize", "-m", "mock_pipeline.definitions", "--select", selection,
         "-c", str(cwd / "run.yaml")],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip


@pytest.mark.integration
@pytest.mark.slow
def test_a_failed_blocking_check_exits_non_zero_naming_the_check(tmp_path: Path) -> None:
    (tmp_path / "run.yaml").write_text(RUN_CONFIG)
    first = materialize(tmp_path, "maintenance/users")
    assert first.returncode == 0, first.stderr[-3000:]
    [users] = (tmp_path / "data").rglob("maintenance/users/*.parquet")
    # Corrupt data: every user gone, so the inventory's created_by_id points at no one.
    pq.write_table(pq.read_table(users).slice(0, 0), users)

    second = materialize(tmp_path, "maintenance/inventories,maintenance/categories")
    output = second.stdout + second.stderr
    assert second.returncode != 0, output[-3000:]
    assert (
        "1 blocking asset check failed with ERROR severity:\nmaintenance/inventories: created_by_id_references_users"
        in (output)
    )
    assert "Error: Materialization failed." in output
    # Held back: nothing downstream of the failed check was generated.
    assert 'Started execution of step "maintenance__categories"' not in output
    assert not list((tmp_path / "data").rglob("maintenance/categories/*.parquet"))
