"""The partitioned code location's environment variables (MOCK_PIPELINE_SHARDS, MOCK_PIPELINE_EXECUTOR):
a bad value is one line naming the variable and what is allowed, never a traceback at load, and
every run is refused with the same line before anything is written."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mock_pipeline.settings import environment_problems

LOCATION_ENV = ("MOCK_PIPELINE_SHARDS", "MOCK_PIPELINE_EXECUTOR")


def clean_environ(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in LOCATION_ENV and k != "DAGSTER_HOME"}
    return env | values


@pytest.mark.parametrize(
    ("name", "value", "allowed"),
    [
        ("MOCK_PIPELINE_SHARDS", "abc", "allowed: an integer from 1 to 1000"),
        ("MOCK_PIPELINE_SHARDS", "0", "allowed: an integer from 1 to 1000"),
        ("MOCK_PIPELINE_SHARDS", "1001", "allowed: an integer from 1 to 1000"),
        ("MOCK_PIPELINE_SHARDS", "-4", "allowed: an integer from 1 to 1000"),
        ("MOCK_PIPELINE_SHARDS", "2.5", "allowed: an integer from 1 to 1000"),
        ("MOCK_PIPELINE_EXECUTOR", "ray", "allowed: multiprocess, k8s, celery"),
        ("MOCK_PIPELINE_EXECUTOR", "Multiprocess", "allowed: multiprocess, k8s, celery"),
    ],
)
def test_a_bad_value_is_one_problem_naming_the_variable(name: str, value: str, allowed: str) -> None:
    problems = environment_problems(None, {name: value})
    assert [p.field for p in problems] == [name]
    assert repr(value) in problems[0].message and allowed in problems[0].message


def test_good_values_are_no_problem() -> None:
    assert environment_problems(None, {"MOCK_PIPELINE_SHARDS": "16", "MOCK_PIPELINE_EXECUTOR": "multiprocess"}) == []


def test_a_cluster_executor_without_its_package_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real_find_spec = importlib.util.find_spec
    # As on a machine without the cluster extra: dagster_k8s is not importable.
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name: None if name == "dagster_k8s" else real_find_spec(name)
    )
    problems = environment_problems(None, {"MOCK_PIPELINE_EXECUTOR": "k8s"})
    assert [str(p) for p in problems] == [
        "MOCK_PIPELINE_EXECUTOR: k8s needs the dagster-k8s package: pip install 'mock_pipeline[cluster]'"
    ]


@pytest.mark.slow  # a new Python process loads the whole partitioned location: the integration tier
def test_the_location_loads_with_bad_values_saying_each_in_one_line() -> None:
    """What `dagster dev` or `dagster asset materialize` prints while loading the location."""
    script = (
        "from mock_pipeline import definitions_partitioned as d\n"
        "job = d.defs.resolve_implicit_global_asset_job_def()\n"
        "keys = d.defs.resolve_assets_def(['commerce', 'parts', 'orders']).partitions_def.get_partition_keys()\n"
        "print(len(keys), job.executor_def.name, job.executor_def is d.checked_multi_or_in_process_executor)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        env=clean_environ(MOCK_PIPELINE_SHARDS="many", MOCK_PIPELINE_EXECUTOR="ray"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["8", "multi_or_in_process_executor", "True"]  # the defaults stood in
    lines = [line for line in done.stderr.splitlines() if line.startswith("MOCK_PIPELINE_")]
    assert lines == [
        "MOCK_PIPELINE_SHARDS: 'many' is not a shard count; allowed: an integer from 1 to 1000 "
        "(the code location loads with 8 shards)",
        "MOCK_PIPELINE_EXECUTOR: unknown executor 'ray'; allowed: multiprocess, k8s, celery "
        "(the code location loads with the multiprocess executor)",
    ]
    assert "Traceback" not in done.stderr, done.stderr


@pytest.mark.integration
def test_cli_run_with_a_bad_shard_count_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    dagster = Path(sys.executable).with_name("dagster")
    done = subprocess.run(
        [str(dagster), "asset", "materialize", "-m", "mock_pipeline.definitions_partitioned",
         "--select", "commerce/customers"],
        cwd=tmp_path, env=clean_environ(MOCK_PIPELINE_SHARDS="abc", MOCK_PIPELINE_DATA_DIR=str(tmp_path / "data")),
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    output = done.stdout + done.stderr
    assert done.returncode != 0, output
    line = "MOCK_PIPELINE_SHARDS: 'abc' is not a shard count; allowed: an integer from 1 to 1000"
    assert f"{line} (the code location loads with 8 shards)" in done.stderr  # at load: a line, no traceback
    assert f"Failure: {line}\n" in output  # the run's failure: the same line
    assert "STEP_START" not in output  # refused by the run's gate, before any step
    assert not (tmp_path / "data").exists()
