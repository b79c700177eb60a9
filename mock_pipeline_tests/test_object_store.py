"""The object store (mock_pipeline.storage): steps with no shared volume, against moto's real S3 HTTP server.

Every shard runs through the real CLI in its own empty data folder, the rest of the domain in yet
another one; the store in between is moto over HTTP on loopback. The export must be byte-identical
to the default definitions' without any store.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import dagster as dg
import pyarrow.parquet as pq
import pytest
import yaml
from boto3.s3.transfer import TransferConfig

from mock_pipeline.domains.commerce import COMMERCE
from mock_pipeline.engine.shards import part_name, shard_keys
from mock_pipeline.engine.table import PART_FILE
from mock_pipeline.partitions import parts_key
from mock_pipeline.publish.assets import exported_files_asset
from mock_pipeline.publish.s3 import MIB, S3ObjectStore, s3_upload_asset
from mock_pipeline.resources import DataDirResource, ScenarioResource
from mock_pipeline.storage import STORE_URI_ENV, DatasetStore, S3DatasetStore, StoredDataDirResource, data_dir_from_env
from mock_pipeline_tests.test_partitions import (
    PARTITIONED_TABLES,
    SCENARIO,
    commerce_definitions,
    dataset_of,
    export_of,
    file_digests,
    run,
    run_config,
    table_digests,
)
from mock_pipeline_tests.test_s3 import Proxy, bucket_resource

pytestmark = pytest.mark.integration

SHARDS = 3
PREFIX = "team/mock"
# Distinctive fakes: moto accepts any credentials, and these must never show up anywhere.
ACCESS_KEY = "AKIASTORETEST7Q2W9E4R"
SECRET_KEY = "store-secret-5c8e1d0a9f3b7246-do-not-log"
REGION = "us-east-1"
PARTS = [parts_key(COMMERCE, t) for t in PARTITIONED_TABLES["commerce"]]


def stored_dir(root: Path, bucket: str, endpoint: str) -> StoredDataDirResource:
    """A data folder at `root` backed by the test bucket's store prefix."""
    return StoredDataDirResource(root=str(root), store_uri=f"s3://{bucket}/{PREFIX}", store_endpoint_url=endpoint)


def s3(endpoint: str) -> Any:
    return boto3.client(
        "s3", endpoint_url=endpoint, region_name=REGION, aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY
    )


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def objects(endpoint: str, bucket: str) -> dict[str, dict[str, Any]]:
    """key -> ETag, LastModified and sha256 metadata of every object in the bucket."""
    c = s3(endpoint)
    found = {}
    for page in c.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for o in page.get("Contents", []):
            head = c.head_object(Bucket=bucket, Key=o["Key"])
            found[o["Key"]] = {"etag": o["ETag"], "modified": o["LastModified"], "meta": head["Metadata"]}
    return found


@pytest.fixture(scope="module")
def bucket(s3_endpoint: str) -> str:
    name = f"store-{uuid.uuid4().hex[:12]}"
    s3(s3_endpoint).create_bucket(Bucket=name)
    return name


@pytest.fixture
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fake credentials in the environment, where boto3 (and only boto3) reads them."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


def with_data_dir(defs: dg.Definitions, data_dir: DataDirResource) -> dg.Definitions:
    """test_partitions' commerce definitions, with another data folder resource."""
    return dg.Definitions(
        assets=defs.assets,
        asset_checks=defs.asset_checks,
        resources={**defs.resources, "data_dir": data_dir},
        executor=defs.executor,
    )


# --- the "no shared volume" proof through the real CLI ------------------------------------------
@dataclass
class ClusterRun:
    shard_roots: list[Path]
    rest_root: Path
    home: Path  # DAGSTER_HOME: the runs' event logs and captured step output
    outputs: list[str]
    dataset_prefix: str  # key prefix of the domain's dataset in the bucket
    reference: Path


def _cli(tmp: Path, data: Path, home: Path, endpoint: str, bucket: str, select: str, config: dict, *extra: str) -> str:
    config_file = tmp / f"{data.name}.yaml"
    config_file.write_text(yaml.safe_dump({**config, "execution": {"config": {"in_process": {}}}}))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MOCK_PIPELINE_", "AWS_"))}
    env |= {
        "DAGSTER_HOME": str(home),
        "MOCK_PIPELINE_DATA_DIR": str(data),
        "MOCK_PIPELINE_SHARDS": str(SHARDS),
        STORE_URI_ENV: f"s3://{bucket}/{PREFIX}",
        "MOCK_PIPELINE_S3_ENDPOINT_URL": endpoint,
        "AWS_REGION": REGION,
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
    }
    dagster = Path(sys.executable).with_name("dagster")
    command = [str(dagster), "asset", "materialize", "-m", "mock_pipeline.definitions_partitioned"]
    command += ["--select", select, "-c", str(config_file), *extra]
    done = subprocess.run(command, cwd=tmp, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-4000:]
    return done.stdout + done.stderr


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, s3_endpoint: str, bucket: str) -> ClusterRun:
    tmp = tmp_path_factory.mktemp("store")
    # The reference: the default (unpartitioned) definitions, no store at all.
    reference = tmp / "reference"
    run(commerce_definitions(reference, None), run_config("parquet"))
    dataset_id = dataset_of(reference).parent.name
    dataset_prefix = f"{PREFIX}/datasets/{dataset_id}/commerce/"
    # A stale layout already in the store (an earlier unpartitioned run): it must not be read twice.
    stale = dataset_of(reference) / "orders" / PART_FILE
    s3(s3_endpoint).upload_file(
        str(stale),
        bucket,
        f"{dataset_prefix}orders/{PART_FILE}",
        ExtraArgs={"Metadata": {"sha256": sha256(stale.read_bytes())}},
    )

    home = tmp / "dagster_home"
    home.mkdir()
    outputs = []
    scenario_only = {"resources": {"scenario": {"config": SCENARIO}}}
    shard_roots = [tmp / f"shard{k}" for k in shard_keys(SHARDS)]
    for key, root in zip(shard_keys(SHARDS), shard_roots, strict=True):  # each on its own "machine"
        outputs.append(
            _cli(tmp, root, home, s3_endpoint, bucket, "key:commerce/parts/*", scenario_only, "--partition", key)
        )
    rest = ",".join(
        [
            *(COMMERCE.key(t.name).to_user_string() for t in COMMERCE.tables),
            COMMERCE.key("exported_files").to_user_string(),
        ]
    )
    rest_root = tmp / "rest"
    outputs.append(_cli(tmp, rest_root, home, s3_endpoint, bucket, rest, run_config("parquet")))
    return ClusterRun(shard_roots, rest_root, home, outputs, dataset_prefix, reference)


@pytest.mark.slow
def test_steps_without_a_shared_volume_give_the_same_export(cluster: ClusterRun, s3_endpoint: str, bucket: str) -> None:
    # Each shard's folder holds only its own parts: nothing was shared through the disk.
    for k, root in enumerate(cluster.shard_roots):
        assert sorted(p.name for p in (dataset_of(root) / "orders").glob("*.parquet")) == [part_name(k, SHARDS)]
    # The rest ran in an empty folder, got the parts from the store, and every check passed.
    instance = dg.DagsterInstance.from_config(str(cluster.home))
    try:
        [last] = instance.get_runs(limit=1)
        evaluations = [
            e.dagster_event.event_specific_data
            for e in instance.all_logs(last.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION)
        ]
        expected_checks = set(commerce_definitions(cluster.reference, None).resolve_asset_graph().asset_check_keys)
    finally:
        instance.dispose()
    assert {e.asset_check_key for e in evaluations} == expected_checks
    assert [e.asset_check_key.name for e in evaluations if not e.passed] == []
    # Same bytes as the default definitions without any store, export file for file.
    assert file_digests(export_of(cluster.rest_root)) == file_digests(export_of(cluster.reference))
    assert table_digests(dataset_of(cluster.rest_root)) == table_digests(dataset_of(cluster.reference))

    # The store holds exactly one layout per table (the stale part-00000 of orders is gone), each
    # object with its sha256, equal to the bytes the steps wrote.
    store = {k: v for k, v in objects(s3_endpoint, bucket).items() if k.startswith(cluster.dataset_prefix)}
    local = dataset_of(cluster.rest_root)
    expected = {}
    for spec in COMMERCE.tables:
        sharded = spec.name in PARTITIONED_TABLES["commerce"]
        for name in [part_name(k, SHARDS) for k in range(SHARDS)] if sharded else [PART_FILE]:
            expected[f"{cluster.dataset_prefix}{spec.name}/{name}"] = sha256((local / spec.name / name).read_bytes())
    assert {k: v["meta"].get("sha256") for k, v in store.items()} == expected
    # The parts in the store are the shard steps' own files, byte for byte.
    for k, root in enumerate(cluster.shard_roots):
        part = dataset_of(root) / "orders" / part_name(k, SHARDS)
        assert expected[f"{cluster.dataset_prefix}orders/{part.name}"] == sha256(part.read_bytes())
    assert sum(
        pq.read_metadata(local / "orders" / n).num_rows for n in (p.name for p in (local / "orders").iterdir())
    ) == (pq.read_metadata(dataset_of(cluster.reference) / "orders" / PART_FILE).num_rows)


@pytest.mark.slow
def test_credentials_never_reach_logs_metadata_or_files(cluster: ClusterRun, s3_endpoint: str, bucket: str) -> None:
    everything = "\n".join(cluster.outputs)
    assert "store s3://" in everything and "uploaded" in everything  # the runs did log store work
    for secret in (SECRET_KEY, ACCESS_KEY):
        assert secret not in everything
        # Event logs, run storage (with each run's config), captured step output: all of DAGSTER_HOME.
        for folder in (cluster.home, cluster.rest_root, *cluster.shard_roots):
            leaked = [p for p in folder.rglob("*") if p.is_file() and secret.encode() in p.read_bytes()]
            assert leaked == []
        assert all(secret not in str(o["meta"]) for o in objects(s3_endpoint, bucket).values())
    # The event logs searched above do hold the store's work (so the search was not over empty logs).
    home_bytes = b"".join(p.read_bytes() for p in cluster.home.rglob("*") if p.is_file())
    assert f"store s3://{bucket}/{PREFIX}/datasets/".encode() in home_bytes


# --- rerun and pull, in process ------------------------------------------------------------------
@pytest.mark.slow
def test_rerunning_a_shard_uploads_nothing(
    cluster: ClusterRun, s3_endpoint: str, bucket: str, tmp_path: Path, credentials: None
) -> None:
    before = objects(s3_endpoint, bucket)
    with Proxy(s3_endpoint) as proxy:  # sees every request of the rerun on the wire
        data_dir = stored_dir(tmp_path / "again", bucket, proxy.url)
        defs = with_data_dir(commerce_definitions(tmp_path, SHARDS), data_dir)
        instance = dg.DagsterInstance.ephemeral()
        result = run(defs, run_config(), partition_key="01", asset_selection=PARTS, instance=instance)
    assert proxy.puts() == [] and not [m for m, _, _ in proxy.seen if m in ("DELETE", "POST")]
    assert objects(s3_endpoint, bucket) == before  # same ETags, LastModified and sha256 metadata
    lines = [e.user_message for e in instance.all_logs(result.run_id) if "store s3://" in e.user_message]
    assert len(lines) == len(PARTS) and all("0 uploaded (0 bytes), 1 unchanged, 0 removed" in m for m in lines)


def test_pull_repairs_a_local_folder(
    cluster: ClusterRun, s3_endpoint: str, bucket: str, tmp_path: Path, credentials: None
) -> None:
    """Missing, changed and stale local files: the store's version wins, the stale file goes."""
    data_dir = stored_dir(tmp_path, bucket, s3_endpoint)
    store = data_dir.store()
    assert isinstance(store, S3DatasetStore)
    dataset = tmp_path / dataset_of(cluster.rest_root).relative_to(cluster.rest_root)
    first = store.pull(dataset, ["orders", "payments"])
    assert sorted(first.downloaded) == sorted(
        f"{t}/{part_name(k, SHARDS)}" for t in ("orders", "payments") for k in range(SHARDS)
    )
    assert not (dataset / "products").exists()  # only the tables asked for
    good = (dataset / "orders" / part_name(1, SHARDS)).read_bytes()
    flipped = bytearray(good)
    flipped[len(flipped) // 2] ^= 0xFF  # same size, other bytes: only the sha256 tells
    (dataset / "orders" / part_name(1, SHARDS)).write_bytes(bytes(flipped))
    (dataset / "orders" / part_name(0, SHARDS)).unlink()
    (dataset / "orders" / part_name(0, 7)).write_bytes(b"another layout")
    again = store.pull(dataset, ["orders", "payments"])
    assert sorted(again.downloaded) == [f"orders/{part_name(k, SHARDS)}" for k in (0, 1)]
    assert again.deleted == [f"orders/{part_name(0, 7)}"]
    assert again.unchanged == 1 + SHARDS  # the untouched orders part and the payments parts
    assert (dataset / "orders" / part_name(1, SHARDS)).read_bytes() == good
    assert sorted(p.name for p in (dataset / "orders").iterdir()) == [part_name(k, SHARDS) for k in range(SHARDS)]
    assert store.pull(dataset, ["orders"]).downloaded == []


# --- bad configuration --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("gs://bucket/data", "MOCK_PIPELINE_STORE_URI: 'gs://bucket/data' is not an S3 URI; allowed: s3://<bucket>"),
        (
            "s3://Bad_Bucket/data",
            "MOCK_PIPELINE_STORE_URI: 'Bad_Bucket' in 's3://Bad_Bucket/data' is not a bucket name; allowed",
        ),
        (
            "s3://no-such-bucket-4711/data",
            "MOCK_PIPELINE_STORE_URI: bucket 'no-such-bucket-4711' does not exist at http",
        ),
    ],
)
def test_bad_store_fails_with_one_line_before_anything_is_written(
    uri: str, expected: str, s3_endpoint: str, tmp_path: Path, credentials: None
) -> None:
    root = tmp_path / "data"
    data_dir = StoredDataDirResource(root=str(root), store_uri=uri, store_endpoint_url=s3_endpoint)
    defs = with_data_dir(commerce_definitions(root, SHARDS), data_dir)
    job = defs.resolve_implicit_global_asset_job_def()
    result = job.execute_in_process(
        run_config=run_config(), partition_key="00", asset_selection=PARTS, raise_on_error=False
    )
    assert not result.success
    [failure] = [e for e in result.all_events if e.is_step_failure]
    description = failure.step_failure_data.user_failure_data.description
    assert description.startswith(expected) and "allowed: " in description and "\n" not in description
    assert not root.exists() or [p for p in root.rglob("*") if p.is_file()] == []


def test_store_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(STORE_URI_ENV, raising=False)
    assert type(data_dir_from_env().store()) is DatasetStore  # default: the local folder only
    from mock_pipeline import definitions, definitions_partitioned

    for defs in (definitions.defs, definitions_partitioned.defs):
        assert isinstance(defs.resources["data_dir"], StoredDataDirResource)
    monkeypatch.setenv(STORE_URI_ENV, "s3://bucket-from-env/prefix")
    resource = data_dir_from_env()
    assert isinstance(resource.store_uri, dg.EnvVar) and resource.store_uri.env_var_name == STORE_URI_ENV


def test_a_pull_leaves_alone_the_files_a_local_step_is_writing(
    cluster: ClusterRun, s3_endpoint: str, bucket: str, tmp_path: Path, credentials: None
) -> None:
    """Steps sharing one data folder (multiprocess executor): a read never removes a file not yet uploaded."""
    data_dir = stored_dir(tmp_path, bucket, s3_endpoint)
    store = data_dir.store()
    dataset = tmp_path / dataset_of(cluster.rest_root).relative_to(cluster.rest_root)
    store.pull(dataset, ["orders"])
    fresh = dataset / "orders" / PART_FILE  # another layout, just written by a step, not uploaded yet
    with store.writing(dataset / "orders", [PART_FILE]):
        fresh.write_bytes(b"being written")
        report = store.pull(dataset, ["orders"])
        assert fresh.exists() and report.busy == 1 and report.deleted == []
    assert store.pull(dataset, ["orders"]).deleted == [f"orders/{PART_FILE}"]  # no writer now: the store wins
    assert not fresh.exists()


def test_large_files_move_in_parts(s3_endpoint: str, bucket: str, tmp_path: Path) -> None:
    """Above the threshold, uploads are multipart and downloads ranged GETs streamed to disk."""
    c = s3(s3_endpoint)
    transfer = TransferConfig(multipart_threshold=5 * MIB, multipart_chunksize=5 * MIB, max_concurrency=2)
    big = os.urandom(12 * MIB)
    (tmp_path / "a" / "ds" / "t").mkdir(parents=True)
    (tmp_path / "a" / "ds" / "t" / "big.parquet").write_bytes(big)
    S3DatasetStore(tmp_path / "a", S3ObjectStore(c, bucket, transfer, acl=None), "large/").push(
        tmp_path / "a" / "ds" / "t", ["big.parquet"]
    )
    head = c.head_object(Bucket=bucket, Key="large/ds/t/big.parquet")
    assert head["ETag"].strip('"').endswith("-3") and head["Metadata"]["sha256"] == sha256(big)
    with Proxy(s3_endpoint) as proxy:
        client = s3(proxy.url)
        store = S3DatasetStore(tmp_path / "b", S3ObjectStore(client, bucket, transfer, acl=None), "large/")
        report = store.pull(tmp_path / "b" / "ds")
    assert report.downloaded == ["t/big.parquet"]
    assert [m for m, k, _ in proxy.seen if k == "large/ds/t/big.parquet" and m == "GET"] == ["GET"] * 3
    assert sha256((tmp_path / "b" / "ds" / "t" / "big.parquet").read_bytes()) == sha256(big)


def test_a_failed_upload_leaves_no_object_and_assembly_names_the_missing_shard(
    s3_endpoint: str, bucket: str, tmp_path: Path, credentials: None
) -> None:
    uri = f"s3://{bucket}/halfway"
    orders = [parts_key(COMMERCE, "orders")]

    def defs(root: Path, endpoint: str) -> dg.Definitions:
        store = StoredDataDirResource(root=str(root), store_uri=uri, store_endpoint_url=endpoint)
        return with_data_dir(commerce_definitions(root, SHARDS), store)

    range_tags = {"dagster/asset_partition_range_start": "00", "dagster/asset_partition_range_end": "01"}
    run(defs(tmp_path / "first", s3_endpoint), run_config(), tags=range_tags, asset_selection=orders)
    victim = f"orders/{part_name(2, SHARDS)}"
    with Proxy(s3_endpoint, lambda method, key: method == "PUT" and key.endswith(victim)) as proxy:
        job = defs(tmp_path / "second", proxy.url).resolve_implicit_global_asset_job_def()
        failed = job.execute_in_process(
            run_config=run_config(), partition_key="02", asset_selection=orders, raise_on_error=False
        )
    assert not failed.success and {s for k, s in proxy.puts() if k.endswith(victim)} == {503}
    [failure] = [e for e in failed.all_events if e.is_step_failure]
    assert failure.step_failure_data.error.message.count("uploading to s3://") == 1
    keys = {k for k in objects(s3_endpoint, bucket) if k.startswith("halfway/")}
    assert not any(k.endswith(victim) for k in keys)  # nothing that could read as the whole shard
    assert len(keys) == 2  # the other two shards are there
    # Elsewhere, assembly finds two shards in the store and names the missing one.
    job = defs(tmp_path / "third", s3_endpoint).resolve_implicit_global_asset_job_def()
    assembly = job.execute_in_process(
        run_config=run_config(), asset_selection=[COMMERCE.key("orders")], raise_on_error=False
    )
    [failure] = [e for e in assembly.all_events if e.is_step_failure]
    assert failure.step_failure_data.user_failure_data.description.startswith(
        f"orders: 1 of {SHARDS} shards not generated yet (shards 2)"
    )


# --- the files export through the store -----------------------------------------------------------
def manifest_files(export: Path) -> dict[str, str]:
    """path -> sha256 of every file the export's manifest lists."""
    return {f["path"]: f["sha256"] for f in json.loads((export / "manifest.json").read_bytes())["files"]}


def version(export: Path) -> str:
    """The version folder an export lands in (under CURRENT's prefix): its manifest's sha256."""
    return "v-" + sha256((export / "manifest.json").read_bytes())[:16] + "/"


@pytest.mark.slow
def test_s3_upload_on_another_machine_gets_the_export_from_the_store(
    cluster: ClusterRun, s3_endpoint: str, bucket: str, tmp_path: Path, credentials: None
) -> None:
    """exported_files ran in the cluster's "rest" folder; s3_upload runs in another, empty one."""
    written = export_of(cluster.rest_root)
    listed = manifest_files(written)
    dataset_id = written.parent.name
    export_prefix = f"{PREFIX}/exports/{dataset_id}/commerce/"
    folder = export_prefix + version(written)
    # The store holds the export as exported_files pushed it: each listed file with its sha256, and the
    # manifest, in the version folder CURRENT names.
    stored = objects(s3_endpoint, bucket)
    in_store = {k[len(folder) :]: v for k, v in stored.items() if k.startswith(folder)}
    assert {k: v["meta"]["sha256"] for k, v in in_store.items() if k != "manifest.json"} == listed
    assert in_store["manifest.json"]["meta"]["sha256"] == sha256((written / "manifest.json").read_bytes())
    assert json.loads(s3(s3_endpoint).get_object(Bucket=bucket, Key=export_prefix + "CURRENT")["Body"].read())[
        "version"
    ] == version(written)
    # ...and the manifest landed after every file it lists, CURRENT after the manifest.
    assert all(v["modified"] <= in_store["manifest.json"]["modified"] for v in in_store.values())
    assert in_store["manifest.json"]["modified"] <= stored[export_prefix + "CURRENT"]["modified"]

    destination = f"published-{uuid.uuid4().hex[:8]}"
    s3(s3_endpoint).create_bucket(Bucket=destination)
    elsewhere = tmp_path / "elsewhere"  # empty: no dataset, no export
    data_dir = stored_dir(elsewhere, bucket, s3_endpoint)
    result = dg.materialize(
        [s3_upload_asset(COMMERCE)],
        resources={
            "scenario": ScenarioResource(**SCENARIO),
            "data_dir": data_dir,
            "s3_upload": bucket_resource(s3_endpoint, destination, prefix="out/{dataset_id}"),
        },
        raise_on_error=False,
    )
    assert result.success, [e.step_failure_data.error for e in result.all_events if e.is_step_failure]
    # The destination holds the export byte for byte: every listed file with the manifest's sha256.
    c = s3(s3_endpoint)
    out_prefix = f"out/{dataset_id}/commerce/"
    keys = [o["Key"] for o in c.list_objects_v2(Bucket=destination).get("Contents", [])]
    out_folder = out_prefix + version(written)
    assert sorted(keys) == sorted([out_prefix + "CURRENT", *(out_folder + name for name in [*listed, "manifest.json"])])
    for name, digest in listed.items():
        assert sha256(c.get_object(Bucket=destination, Key=out_folder + name)["Body"].read()) == digest
    manifest = c.get_object(Bucket=destination, Key=out_folder + "manifest.json")["Body"].read()
    assert manifest == (written / "manifest.json").read_bytes()
    # The pulled local folder is the export exactly, with no leftovers of the staging swap.
    assert file_digests(export_of(elsewhere)) == file_digests(written)
    assert [p.name for p in export_of(elsewhere).parent.iterdir() if p.name.startswith(".commerce")] == []


def export_only(root: Path, endpoint: str, bucket: str, prefix: str) -> tuple[dg.Definitions, dict[str, Any]]:
    """The commerce files export alone, over a copied dataset, pushing to `s3://bucket/prefix`."""
    data_dir = StoredDataDirResource(root=str(root), store_uri=f"s3://{bucket}/{prefix}", store_endpoint_url=endpoint)
    defs = dg.Definitions(
        assets=[exported_files_asset(COMMERCE)], resources={"scenario": ScenarioResource(), "data_dir": data_dir}
    )
    return defs, run_config()


def run_export(root: Path, endpoint: str, bucket: str, prefix: str) -> None:
    defs, config = export_only(root, endpoint, bucket, prefix)
    result = defs.resolve_implicit_global_asset_job_def().execute_in_process(run_config=config)
    assert result.success


def test_export_push_sends_files_then_manifest_and_only_what_changed(
    cluster: ClusterRun, s3_endpoint: str, bucket: str, tmp_path: Path, credentials: None
) -> None:
    prefix = f"exports-{uuid.uuid4().hex[:8]}"
    root = tmp_path / "data"
    # The dataset copied locally; this prefix's store holds no tables, so the local ones are used as they are.
    shutil.copytree(cluster.rest_root / "datasets", root / "datasets")
    with Proxy(s3_endpoint) as proxy:
        run_export(root, proxy.url, bucket, prefix)
    export = export_of(root)
    listed = manifest_files(export)
    export_prefix = f"{prefix}/exports/{export.parent.name}/commerce/"
    folder = export_prefix + version(export)
    puts = [k for k, status in proxy.puts() if status == 200]
    # Every listed file once, then the manifest, then CURRENT: never a pointer before its version is whole.
    assert sorted(puts[:-2]) == sorted(folder + name for name in listed)
    assert puts[-2:] == [folder + "manifest.json", export_prefix + "CURRENT"] and len(listed) > 10

    # Unchanged data: exported_files rewrites its folder, but nothing is sent again.
    with Proxy(s3_endpoint) as proxy:
        run_export(root, proxy.url, bucket, prefix)
    assert proxy.puts() == [] and not [m for m, _, _ in proxy.seen if m in ("DELETE", "POST")]

    # An object of the layout before versions (straight under the prefix) is deleted; nothing is sent.
    stale = export_prefix + "orders_999_chunk_9999.csv"
    s3(s3_endpoint).put_object(Bucket=bucket, Key=stale, Body=b"old", Metadata={"sha256": sha256(b"old")})
    with Proxy(s3_endpoint) as proxy:
        run_export(root, proxy.url, bucket, prefix)
    assert proxy.puts() == []
    remote = {k[len(folder) :]: v for k, v in objects(s3_endpoint, bucket).items() if k.startswith(folder)}
    assert {k: v["meta"]["sha256"] for k, v in remote.items()} == {
        **listed,
        "manifest.json": sha256((export / "manifest.json").read_bytes()),
    }
    assert stale not in objects(s3_endpoint, bucket)

    # The reader's side: a repaired, trimmed local copy; an up-to-date one costs two GETs (CURRENT, its manifest).
    reader = StoredDataDirResource(
        root=str(tmp_path / "reader"), store_uri=f"s3://{bucket}/{prefix}", store_endpoint_url=s3_endpoint
    )
    store = reader.store()
    assert isinstance(store, S3DatasetStore)
    local = tmp_path / "reader" / export.relative_to(root)
    assert sorted(store.pull_export(local).downloaded) == sorted([*listed, "manifest.json"])
    changed, removed = sorted(listed)[0], sorted(listed)[1]
    (local / changed).write_bytes(b"tampered")
    (local / removed).unlink()
    (local / "leftover.csv").write_bytes(b"not listed")
    (local / "manifest.json").write_bytes(b"{}")
    report = store.pull_export(local)
    assert sorted(report.downloaded) == sorted([changed, removed, "manifest.json"])
    assert report.deleted == ["leftover.csv"] and report.unchanged == len(listed) - 2
    assert file_digests(local) == file_digests(export)
    with Proxy(s3_endpoint) as proxy:
        watched = S3DatasetStore(store.root, S3ObjectStore(s3(proxy.url), bucket, TransferConfig(), None), store.prefix)
        assert watched.pull_export(local).downloaded == []
    assert [(m, k) for m, k, _ in proxy.seen] == [("GET", export_prefix + "CURRENT"), ("GET", folder + "manifest.json")]
    (local / changed).unlink()  # same manifest, a listed file gone: fetched again
    assert store.pull_export(local).downloaded == [changed, "manifest.json"]
    assert file_digests(local) == file_digests(export)


def test_an_export_push_failing_half_way_leaves_no_pointer(
    cluster: ClusterRun, s3_endpoint: str, bucket: str, tmp_path: Path, credentials: None
) -> None:
    prefix = f"halfway-export-{uuid.uuid4().hex[:8]}"
    root = tmp_path / "data"
    shutil.copytree(cluster.rest_root / "datasets", root / "datasets")
    victim = "orders_1_chunk_0000"  # one file of the export: its PUT is refused
    with Proxy(s3_endpoint, lambda method, key: method == "PUT" and victim in key) as proxy:
        defs, config = export_only(root, proxy.url, bucket, prefix)
        failed = defs.resolve_implicit_global_asset_job_def().execute_in_process(
            run_config=config, raise_on_error=False
        )
    assert not failed.success and any(status == 503 for _, status in proxy.puts())
    [failure] = [e for e in failed.all_events if e.is_step_failure]
    assert failure.step_failure_data.error.message.count("uploading to s3://") == 1
    keys = [k for k in objects(s3_endpoint, bucket) if k.startswith(f"{prefix}/")]
    assert keys and not any(k.endswith("CURRENT") for k in keys)  # some files, but no reader is sent to them
    # A reader elsewhere finds no export in the store and says so, instead of a half one.
    reader = StoredDataDirResource(
        root=str(tmp_path / "reader"), store_uri=f"s3://{bucket}/{prefix}", store_endpoint_url=s3_endpoint
    )
    local = tmp_path / "reader" / export_of(root).relative_to(root)
    report = reader.store().pull_export(local)
    assert report.absent and report.downloaded == [] and not local.exists()
    assert "no export in the store (no CURRENT)" in report.line("x")
