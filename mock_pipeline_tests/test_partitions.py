"""Partitioned generation: the same bytes from one shard or many, in any order, on any executor."""

from __future__ import annotations

import hashlib
import itertools
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from mock_pipeline.definitions_partitioned import PARTITIONED_TABLES, build_partitioned_definitions, executor_from_env
from mock_pipeline.domains.commerce import COMMERCE
from mock_pipeline.domains.factory import domain_definitions
from mock_pipeline.engine.shards import (
    MissingParts,
    assemble,
    canonical_digest,
    part_name,
    shard_bounds,
    shard_keys,
    write_shard,
)
from mock_pipeline.engine.table import read_batches, write_parquet
from mock_pipeline.partitions import parts_key, shards_from_env
from mock_pipeline.publish.assets import exported_files_asset
from mock_pipeline.resources import DataDirResource, ScenarioResource
from mock_pipeline.scenarios.model import build_scenario
from mock_pipeline_tests.servers import unavailable

ROOT = Path(__file__).resolve().parents[1]
# Small, but every table has rows, and chunks (700 slots) cut shards in odd places.
OVERRIDES = {
    "commerce.orders_per_tenant": 1500,
    "commerce.products_per_tenant": 300,
    "commerce.customers_per_tenant": 50,
}
SCENARIO = {"size": "small", "seed": 7, "chunk_size": 700, "overrides": OVERRIDES}
RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"


def commerce_definitions(root: Path, shards: int | None) -> dg.Definitions:
    """The commerce tables, checks and files export; partitioned into `shards` or not at all."""
    assets, checks = domain_definitions(COMMERCE)
    base = dg.Definitions(
        assets=[*assets, exported_files_asset(COMMERCE)],
        asset_checks=checks,
        resources={"scenario": ScenarioResource(), "data_dir": DataDirResource(root=str(root))},
        executor=dg.in_process_executor,
    )
    if shards is None:
        return base
    return build_partitioned_definitions(base, [COMMERCE], shards=shards, executor=dg.in_process_executor)


def run_config(export_format: str = "csv") -> dict[str, Any]:
    return {
        "resources": {"scenario": {"config": SCENARIO}},
        "ops": {"commerce__exported_files": {"config": {"format": export_format, "max_records_per_file": 1000}}},
    }


def run(defs: dg.Definitions, config: Mapping[str, Any], tags: Mapping[str, str] | None = None, **kw: Any) -> Any:
    job = defs.resolve_implicit_global_asset_job_def()
    result = job.execute_in_process(run_config=config, tags=tags, **kw)
    assert result.success
    failed = [
        (c.asset_key.to_user_string(), c.check_name) for c in result.get_asset_check_evaluations() if not c.passed
    ]
    assert failed == []
    return result


def dataset_of(root: Path) -> Path:
    (dataset,) = (root / "datasets").iterdir()
    return dataset / "commerce"


def export_of(root: Path) -> Path:
    (export,) = (root / "exports").iterdir()
    return export / "commerce"


def file_digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def table_digests(dataset: Path) -> dict[str, str]:
    return {spec.name: canonical_digest(dataset / spec.name, spec.schema) for spec in COMMERCE.tables}


@pytest.fixture(scope="module")
def unpartitioned(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The reference: the default, unpartitioned assets, with a Parquet export."""
    root = tmp_path_factory.mktemp("unpartitioned")
    run(commerce_definitions(root, None), run_config("parquet"))
    return root


# --- the pure layer ----------------------------------------------------------------------------
def test_shards_cover_the_slot_space_once_in_order() -> None:
    for slots in (0, 1, 7, 1000, 10**8 + 3):
        for shards in (1, 3, 8, 1000):
            bounds = [shard_bounds(slots, k, shards) for k in range(shards)]
            assert bounds[0][0] == 0 and bounds[-1][1] == slots
            assert all(a[1] == b[0] for a, b in itertools.pairwise(bounds))
    assert shard_keys(3) == ["00", "01", "02"]
    assert shard_keys(120)[:2] == ["000", "001"] and sorted(shard_keys(120)) == shard_keys(120)
    with pytest.raises(ValueError, match="between 1 and 1000"):
        shard_keys(0)


def test_shards_from_env_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOCK_PIPELINE_SHARDS", "12")
    assert shards_from_env() == 12
    monkeypatch.setenv("MOCK_PIPELINE_SHARDS", "many")
    with pytest.raises(ValueError, match=r"MOCK_PIPELINE_SHARDS: 'many' is not a shard count; allowed"):
        shards_from_env()


def test_read_batches_gives_the_same_batches_from_parts_as_from_one_file(tmp_path: Path) -> None:
    table = pa.table({"id": pa.array(range(1000), pa.int64()), "s": pa.array([f"v{i}" for i in range(1000)])})
    write_parquet(tmp_path / "one" / "part-00000.parquet", table.schema, [table])
    for i, (a, b) in enumerate([(0, 333), (333, 334), (334, 1000)]):  # a one-row part in the middle
        write_parquet(tmp_path / "parts" / part_name(i, 3), table.schema, [table.slice(a, b - a)])
    for rows in (7, 64, 5000):
        one = [b.num_rows for b in read_batches(tmp_path / "one", batch_rows=rows)]
        parts = list(read_batches(tmp_path / "parts", batch_rows=rows))
        assert [b.num_rows for b in parts] == one
    assert pa.Table.from_batches(parts).equals(table)


def test_assemble_refuses_missing_parts_and_removes_other_layouts(tmp_path: Path) -> None:
    scenario = build_scenario(**SCENARIO)
    model = COMMERCE.model(scenario)
    spec = COMMERCE.table("orders")
    folder = tmp_path / "orders"
    write_parquet(folder / "part-00000.parquet", spec.schema, [])  # an earlier unpartitioned run
    write_shard(spec, model, 700, folder, 2, 3)
    write_shard(spec, model, 700, folder, 0, 3)
    with pytest.raises(MissingParts, match=r"orders: 1 of 3 shards not generated yet \(shards 1\)"):
        assemble(spec, folder, 3)
    assert (folder / "part-00000.parquet").exists()  # nothing removed on failure
    write_shard(spec, model, 700, folder, 1, 3)
    assembled = assemble(spec, folder, 3)
    assert sorted(p.name for p in folder.iterdir()) == [part_name(k, 3) for k in range(3)]
    assert assembled.rows == spec.slots(model) == sum(pq.read_metadata(p).num_rows for p in folder.iterdir())
    assert assembled.head is not None and assembled.head["order_id"].to_pylist() == [1, 2, 3, 4, 5]


# --- the Dagster layer -------------------------------------------------------------------------
def test_partitioned_definitions_keep_keys_checks_and_share_one_partitions_definition(tmp_path: Path) -> None:
    plain = commerce_definitions(tmp_path, None)
    sharded = commerce_definitions(tmp_path, 4)
    plain_keys = {k for a in plain.assets for k in a.keys}
    sharded_keys = {k for a in sharded.assets for k in a.keys}
    parts = {parts_key(COMMERCE, t) for t in PARTITIONED_TABLES["commerce"]}
    assert sharded_keys == plain_keys | parts
    graph = sharded.resolve_asset_graph()
    assert {graph.get(k).partitions_def for k in parts} == {dg.StaticPartitionsDefinition(["00", "01", "02", "03"])}
    assert all(graph.get(k).partitions_def is None for k in plain_keys)
    assert {graph.get(k).group_name for k in parts} == {"commerce"}  # `--select group:commerce` takes them
    # Whole-table checks target the assembled (unpartitioned) tables, exactly as before.
    checks = set(graph.asset_check_keys)
    assert checks == set(plain.resolve_asset_graph().asset_check_keys)
    assert dg.AssetCheckKey(COMMERCE.key("orders"), "order_id_unique") in checks
    # Generation never reads another table: parts have no upstream, so all shards run at once.
    assert all(not graph.get(k).parent_keys for k in parts)


@pytest.mark.slow
def test_same_bytes_from_one_shard_or_many_in_any_order(unpartitioned: Path, tmp_path: Path) -> None:
    expected_tables = table_digests(dataset_of(unpartitioned))
    expected_export = file_digests(export_of(unpartitioned))
    # Each unpartitioned table's digest is the sha256 of its one Parquet file.
    orders = dataset_of(unpartitioned) / "orders" / "part-00000.parquet"
    assert expected_tables["orders"] == hashlib.sha256(orders.read_bytes()).hexdigest()

    # One shard, one run over the whole range.
    one = tmp_path / "one"
    run(commerce_definitions(one, 1), run_config("parquet"), tags={RANGE_START: "00", RANGE_END: "00"})
    # Five shards, one run per partition in reverse order, then everything unpartitioned.
    many = tmp_path / "many"
    defs = commerce_definitions(many, 5)
    parts = [parts_key(COMMERCE, t) for t in PARTITIONED_TABLES["commerce"]]
    for key in reversed(shard_keys(5)):
        run(defs, run_config(), partition_key=key, asset_selection=parts)
    rest = [k for a in defs.assets if a.partitions_def is None for k in a.keys]
    run(defs, run_config("parquet"), asset_selection=rest)

    for root, shards in ((one, 1), (many, 5)):
        dataset = dataset_of(root)
        assert sorted(p.name for p in (dataset / "orders").iterdir()) == [part_name(k, shards) for k in range(shards)]
        assert table_digests(dataset) == expected_tables
        assert file_digests(export_of(root)) == expected_export


def test_assembly_fails_clearly_when_a_partition_is_missing(tmp_path: Path) -> None:
    defs = commerce_definitions(tmp_path, 3)
    parts = [parts_key(COMMERCE, t) for t in ("orders", "payments")]
    run(defs, run_config(), tags={RANGE_START: "00", RANGE_END: "01"}, asset_selection=parts)
    job = defs.resolve_implicit_global_asset_job_def()
    result = job.execute_in_process(
        run_config=run_config(),
        asset_selection=[COMMERCE.key("orders"), COMMERCE.key("payments")],
        raise_on_error=False,
    )
    assert not result.success
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    message = failure.step_failure_data.user_failure_data.description
    assert "orders: 1 of 3 shards not generated yet (shards 2)" in message
    assert "payments: 1 of 3 shards not generated yet (shards 2)" in message
    # The subset generated only the selected tables.
    assert not (dataset_of(tmp_path) / "products").exists()


@pytest.mark.slow
def test_cli_partition_range_on_the_multiprocess_executor(unpartitioned: Path, tmp_path: Path) -> None:
    """The real CLI backfill: one run, shard steps in parallel processes, then checks and export."""
    selection = ",".join(
        [
            *(parts_key(COMMERCE, t).to_user_string() for t in PARTITIONED_TABLES["commerce"]),
            *(COMMERCE.key(t.name).to_user_string() for t in COMMERCE.tables),
            COMMERCE.key("exported_files").to_user_string(),
        ]
    )
    config = tmp_path / "run.yaml"
    multiprocess = {
        "max_concurrent": 2,
        # forkserver: each step forks from a process that imported the code once (~1 s, not ~5 s).
        "start_method": {"forkserver": {"preload_modules": ["mock_pipeline.definitions_partitioned"]}},
    }
    config.write_text(
        yaml.safe_dump({**run_config("parquet"), "execution": {"config": {"multiprocess": multiprocess}}})
    )
    env = {**os.environ, "MOCK_PIPELINE_DATA_DIR": str(tmp_path / "data"), "MOCK_PIPELINE_SHARDS": "3"}
    env.pop("DAGSTER_HOME", None)
    dagster = Path(sys.executable).with_name("dagster")
    command = [str(dagster), "asset", "materialize", "-m", "mock_pipeline.definitions_partitioned"]
    command += ["--select", selection, "--partition-range", "00...02", "-c", str(config)]
    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    log = done.stderr
    # One step per shard, each in its own process, then the checks of the assembled tables.
    for key in ("00", "01", "02"):
        assert f'Launching subprocess for "commerce_parts.commerce_generate_shard[shard_{key}]"' in log
    assert "Asset check 'order_id_unique' on 'commerce/orders' passed" in log
    assert table_digests(dataset_of(tmp_path / "data")) == table_digests(dataset_of(unpartitioned))
    assert file_digests(export_of(tmp_path / "data")) == file_digests(export_of(unpartitioned))


# --- cluster executors: the documented configs are valid for these definitions -----------------
@pytest.mark.parametrize("name", ["k8s", "celery"])
def test_cluster_executor_and_its_documented_run_config(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = f"dagster_{name}"
    try:
        __import__(module)
    except ImportError:
        unavailable(f"{module} not installed (pip install -e '.[cluster]')")
    executor = executor_from_env(name)
    defs = build_partitioned_definitions(commerce_definitions(tmp_path, None), [COMMERCE], 16, executor)
    job = defs.resolve_implicit_global_asset_job_def()
    assert job.executor_def is executor
    config = yaml.safe_load((ROOT / "deploy" / name / "partitioned-run.yaml").read_text())
    monkeypatch.setenv("MOCK_PIPELINE_CELERY_BROKER", "redis://localhost:6379/0")
    monkeypatch.setenv("MOCK_PIPELINE_CELERY_BACKEND", "redis://localhost:6379/1")
    dg.validate_run_config(job, config)
    with pytest.raises(dg.DagsterInvalidConfigError, match="max_concurrent"):
        dg.validate_run_config(job, {**config, "execution": {"config": {"max_concurrent": "many"}}})


def test_unknown_executor_names_the_allowed_ones() -> None:
    with pytest.raises(
        ValueError, match=r"MOCK_PIPELINE_EXECUTOR: unknown executor 'ray'; allowed: multiprocess, k8s, celery"
    ):
        executor_from_env("ray")


def test_the_partitioned_code_location_keeps_every_asset_check_and_resource_of_the_default_one() -> None:
    """Publishing (files, S3, database, vectors, HTTP) and checks carry over unchanged."""
    from mock_pipeline import definitions, definitions_partitioned

    default, sharded = definitions.defs, definitions_partitioned.defs
    default_keys = {k for a in default.assets for k in a.keys}
    sharded_keys = {k for a in sharded.assets for k in a.keys}
    parts = {k for k in sharded_keys if k.path[1:2] == ["parts"]}
    assert parts and sharded_keys == default_keys | parts
    assert set(sharded.resolve_asset_graph().asset_check_keys) == set(default.resolve_asset_graph().asset_check_keys)
    assert set(sharded.resources) == set(default.resources)
