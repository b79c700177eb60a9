"""Partitioned generation on a real dagster-celery deployment, on loopback.

Redis is the Celery broker and result backend. Two Celery workers are started with dagster-celery's
own CLI and the documented worker config (deploy/celery/partitioned-run.yaml). A persistent Dagster
instance (a temporary DAGSTER_HOME, SQLite) is shared by the launching CLI and the workers. The
launch is `dagster asset materialize --partition-range` with MOCK_PIPELINE_EXECUTOR=celery, as in
docs/scaling.md. The test proves where the steps ran (worker name, process, worker log) and that
the bytes equal the in-process reference of test_partitions.py.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
import yaml

from mock_pipeline.definitions_partitioned import PARTITIONED_TABLES
from mock_pipeline.domains.commerce import COMMERCE
from mock_pipeline.partitions import parts_key
from mock_pipeline_tests.helpers import tree_digest
from mock_pipeline_tests.servers import redis_server, unavailable
from mock_pipeline_tests.test_partitions import (  # the in-process reference and its digests
    RANGE_END,
    RANGE_START,
    commerce_definitions,
    dataset_of,
    export_of,
    file_digests,
    run,
    run_config,
    table_digests,
    unpartitioned,  # noqa: F401  (module fixture: the unpartitioned tables and Parquet export)
)

ROOT = Path(__file__).resolve().parents[1]
DEPLOY_CONFIG = ROOT / "deploy" / "celery" / "partitioned-run.yaml"
WORKERS = ("shard-worker-1", "shard-worker-2")
SHARDS = ("00", "01", "02")
SHARD_STEP = "commerce_parts.commerce_generate_shard[shard_{}]"
BIN = Path(sys.executable).parent

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    for module in ("dagster_celery", "redis"):
        try:
            __import__(module)
        except ImportError:
            unavailable(f"{module} not installed (pip install -e '.[cluster]')")
    with redis_server() as url:
        yield url


def _stop_session(leader: subprocess.Popen) -> None:
    """SIGTERM the worker's whole session (dagster-celery CLI, `celery worker`, its pool child)."""
    try:
        os.killpg(leader.pid, signal.SIGTERM)  # Celery's warm shutdown
    except ProcessLookupError:
        return
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            os.killpg(leader.pid, 0)
        except ProcessLookupError:
            break
        leader.poll()  # reap the leader so it does not linger as a zombie
        time.sleep(0.2)
    else:
        os.killpg(leader.pid, signal.SIGKILL)
    leader.wait(timeout=10)


@contextmanager
def celery_workers(names: Sequence[str], env: Mapping[str, str], folder: Path) -> Iterator[dict[str, Any]]:
    """Start `dagster-celery worker start` once per name (one pool process each); stop them all after.

    Yields name -> {"proc": the CLI process (leader of the worker's session), "log": its log file}.
    """
    workers: dict[str, Any] = {}
    with ExitStack() as stack:
        for name in names:
            log = folder / f"{name}.log"
            out = stack.enter_context(log.open("w"))
            command = [str(BIN / "dagster-celery"), "worker", "start", "-A", "dagster_celery.app"]
            command += ["-y", str(DEPLOY_CONFIG), "--name", name, "--", "--concurrency=1"]
            proc = subprocess.Popen(command, cwd=folder, env=dict(env), stdout=out, stderr=subprocess.STDOUT,
                                    start_new_session=True)  # fmt: skip
            stack.callback(_stop_session, proc)
            workers[name] = {"proc": proc, "log": log}
        yield workers


def wait_until_ready(workers: Mapping[str, Any], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    for name, worker in workers.items():
        while not re.search(rf"{re.escape(name)}@\S+ ready\.", worker["log"].read_text()):
            if worker["proc"].poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"Celery worker {name} did not start:\n{worker['log'].read_text()[-3000:]}")
            time.sleep(0.3)


def cli_selection() -> str:
    """Parts, assembled and small tables, analytics and the files export (checks come along)."""
    keys = [parts_key(COMMERCE, t) for t in PARTITIONED_TABLES["commerce"]]
    keys += [COMMERCE.key(t.name) for t in COMMERCE.tables] + [COMMERCE.key("exported_files")]
    return ",".join(k.to_user_string() for k in keys)


def where_steps_ran(instance: dg.DagsterInstance, run_id: str) -> tuple[int, dict[str, str], dict[str, int]]:
    """(orchestrating pid, step -> Celery worker name, step -> pid of its STEP_START), from the event log."""
    orchestrator, worker_of, pid_of = 0, {}, {}
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is None:
            continue
        if event.event_type_value in ("RUN_START", "PIPELINE_START"):
            orchestrator = event.pid
        elif event.event_type_value == "STEP_START":
            pid_of[entry.step_key] = event.pid
        elif event.event_type_value == "ENGINE_EVENT" and "Celery worker" in event.engine_event_data.metadata:
            # Written by dagster-celery's task inside the worker: "Executing steps … in celery worker".
            worker_of[entry.step_key] = event.engine_event_data.metadata["Celery worker"].value
    return orchestrator, worker_of, pid_of


def test_shards_run_in_two_celery_workers_and_give_the_same_bytes(
    redis_url: str,  # first: a missing redis-server skips before the reference is built
    unpartitioned: Path,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    home = tmp_path / "dagster_home"  # the instance shared by the launcher and the workers
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    # Create the SQLite schema once: two workers opening a fresh SQLite instance at the same
    # moment both run its migrations and one fails ("table alembic_version already exists").
    with dg.DagsterInstance.get():
        pass
    data = tmp_path / "data"
    env = {
        **os.environ,
        # dagster-celery's CLI runs `celery` from PATH: the one next to this interpreter.
        "PATH": os.pathsep.join([str(BIN), os.environ.get("PATH", "")]),
        "DAGSTER_HOME": str(home),
        "MOCK_PIPELINE_DATA_DIR": str(data),
        "MOCK_PIPELINE_SHARDS": str(len(SHARDS)),
        "MOCK_PIPELINE_EXECUTOR": "celery",
        "MOCK_PIPELINE_CELERY_BROKER": f"{redis_url}/0",
        "MOCK_PIPELINE_CELERY_BACKEND": f"{redis_url}/1",
    }
    # The launch uses the documented config, with test_partitions' small scenario and export, and
    # the IO manager's folder (values handed between steps) in a folder of its own.
    launch = yaml.safe_load(DEPLOY_CONFIG.read_text())
    launch["resources"]["scenario"] = run_config()["resources"]["scenario"]
    step_values = tmp_path / "shared" / "dagster-io"
    launch["resources"]["io_manager"]["config"]["base_dir"] = str(step_values)
    launch["ops"] = run_config("parquet")["ops"]
    launch_config = tmp_path / "run.yaml"
    launch_config.write_text(yaml.safe_dump(launch))
    command = [str(BIN / "dagster"), "asset", "materialize", "-m", "mock_pipeline.definitions_partitioned"]
    command += ["--select", cli_selection(), "--partition-range", f"{SHARDS[0]}...{SHARDS[-1]}"]
    command += ["-c", str(launch_config)]

    with celery_workers(WORKERS, env, tmp_path) as workers:
        # While the workers boot: the same shards made in process, as the part-level reference.
        in_process = tmp_path / "in_process"
        parts = [parts_key(COMMERCE, t) for t in PARTITIONED_TABLES["commerce"]]
        run(commerce_definitions(in_process, len(SHARDS)), run_config(),
            tags={RANGE_START: SHARDS[0], RANGE_END: SHARDS[-1]}, asset_selection=parts)  # fmt: skip
        wait_until_ready(workers)

        done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
        logs = {name: w["log"].read_text() for name, w in workers.items()}
        assert done.returncode == 0, done.stderr[-3000:] + "".join(t[-2000:] for t in logs.values())
        for key in SHARDS:
            assert f'Submitting celery task for step "{SHARD_STEP.format(key)}"' in done.stderr

        with dg.DagsterInstance.get() as instance:
            (record,) = instance.get_runs()
            assert record.status == dg.DagsterRunStatus.SUCCESS
            # The broker URL came from the environment and is not stored with the run.
            assert redis_url not in json.dumps(record.run_config)
            orchestrator, worker_of, pid_of = where_steps_ran(instance, record.run_id)
            evaluations = [
                e.dagster_event.event_specific_data
                for e in instance.all_logs(record.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION)
            ]

        # Every step of the run ran in one of the two workers, and both took steps.
        assert set(worker_of) == set(pid_of) and len(pid_of) > len(SHARDS)
        assert {w.split("@")[0] for w in worker_of.values()} == set(WORKERS)
        for key in SHARDS:
            step = SHARD_STEP.format(key)
            name = worker_of[step].split("@")[0]
            pid = pid_of[step]
            # Not the launcher's process, but the pool process of the worker that reported it (the
            # worker's session, which the test started), and that worker's log names step and pid.
            assert pid != orchestrator
            assert os.getsid(pid) == workers[name]["proc"].pid
            assert f" - {pid} - {step} - STEP_START - " in logs[name]

    # The shard keys and row counts went through the configured folder, not the launcher's home.
    plan_outputs = step_values / record.run_id / "commerce_parts.commerce_plan_shards" / "result"
    assert sorted(p.name for p in plan_outputs.iterdir()) == [f"shard_{key}" for key in SHARDS]
    assert not (home / "storage" / record.run_id / plan_outputs.parent.name).exists()
    # Every check of the assembled tables ran (in the workers) and passed.
    expected_checks = commerce_definitions(tmp_path, len(SHARDS)).resolve_asset_graph().asset_check_keys
    assert {dg.AssetCheckKey(e.asset_key, e.check_name) for e in evaluations} == set(expected_checks)
    assert all(e.passed for e in evaluations)
    # Same bytes: every part as made in process, every table and the export as the unpartitioned run.
    for table in PARTITIONED_TABLES["commerce"]:
        assert tree_digest(dataset_of(data) / table) == tree_digest(dataset_of(in_process) / table), table
    assert table_digests(dataset_of(data)) == table_digests(dataset_of(unpartitioned))
    assert file_digests(export_of(data)) == file_digests(export_of(unpartitioned))
