"""The data folder's context managers (DataDirResource.table_writer, reading, export_writer) against
moto's real S3 server on loopback: an asset gets staging, publishing and pulling without naming them."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest

from mock_pipeline.engine.shards import part_name
from mock_pipeline.engine.table import PART_FILE
from mock_pipeline.scenarios.model import Scenario, build_scenario
from mock_pipeline.storage import StoredDataDirResource

pytestmark = pytest.mark.integration

PREFIX = "writer/test"
REGION = "us-east-1"


class Boom(RuntimeError):
    """A step failing half-way through its block."""


@pytest.fixture
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAWRITERTEST00000")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "writer-test-secret")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture
def bucket(s3_endpoint: str, credentials: None) -> str:
    name = f"writer-{uuid.uuid4().hex[:12]}"
    client(s3_endpoint).create_bucket(Bucket=name)
    return name


def client(endpoint: str) -> Any:
    return boto3.client("s3", endpoint_url=endpoint, region_name=REGION)


def keys(endpoint: str, bucket: str) -> dict[str, str | None]:
    """key -> sha256 metadata of every object in the bucket."""
    c = client(endpoint)
    found: dict[str, str | None] = {}
    for page in c.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for o in page.get("Contents", []):
            found[o["Key"]] = c.head_object(Bucket=bucket, Key=o["Key"]).get("Metadata", {}).get("sha256")
    return found


def data_dir(root: Path, bucket: str, endpoint: str) -> StoredDataDirResource:
    return StoredDataDirResource(root=str(root), store_uri=f"s3://{bucket}/{PREFIX}", store_endpoint_url=endpoint)


def table_prefix(scenario: Scenario, table: str) -> str:
    return f"{PREFIX}/datasets/{scenario.dataset_id}/scrum/{table}/"


def test_a_table_written_in_the_block_is_in_the_store_and_read_back_elsewhere(
    s3_endpoint: str, bucket: str, tmp_path: Path
) -> None:
    scenario = build_scenario(size="small")
    payload = b"PAR1 written by one step PAR1"
    writer = data_dir(tmp_path / "writer", bucket, s3_endpoint)
    with writer.table_writer(scenario, "scrum", "issues", [PART_FILE]) as dataset:
        (dataset / "issues").mkdir(parents=True)
        (dataset / "issues" / PART_FILE).write_bytes(payload)
        assert keys(s3_endpoint, bucket) == {}  # nothing leaves before the block ends
    assert keys(s3_endpoint, bucket) == {
        table_prefix(scenario, "issues") + PART_FILE: hashlib.sha256(payload).hexdigest()
    }

    reader = data_dir(tmp_path / "reader", bucket, s3_endpoint)  # another pod: no shared volume
    with reader.reading(scenario, "scrum", ["issues"]) as dataset:
        assert dataset == tmp_path / "reader" / "datasets" / scenario.dataset_id / "scrum"
        assert (dataset / "issues" / PART_FILE).read_bytes() == payload


def test_a_block_failing_half_way_publishes_nothing(s3_endpoint: str, bucket: str, tmp_path: Path) -> None:
    scenario = build_scenario(size="small")
    writer = data_dir(tmp_path / "writer", bucket, s3_endpoint)
    with pytest.raises(Boom), writer.table_writer(scenario, "scrum", "issues", [PART_FILE]) as dataset:
        (dataset / "issues").mkdir(parents=True)
        (dataset / "issues" / PART_FILE).write_bytes(b"half a table")
        raise Boom("generation failed")
    with pytest.raises(Boom), writer.export_writer(scenario, "scrum") as target:
        target.mkdir(parents=True)
        (target / "issues.csv").write_text("id\n1\n")
        raise Boom("export failed")
    assert keys(s3_endpoint, bucket) == {}


def test_a_new_layout_replaces_the_old_one_in_the_store_and_in_readers(
    s3_endpoint: str, bucket: str, tmp_path: Path
) -> None:
    scenario = build_scenario(size="small")
    writer = data_dir(tmp_path / "writer", bucket, s3_endpoint)
    parts = [part_name(k, 2) for k in range(2)]
    for part in parts:  # two shard steps: each publishes its own part and leaves the other's
        with writer.table_writer(scenario, "scrum", "issues", [part], replace_others=False) as dataset:
            (dataset / "issues").mkdir(parents=True, exist_ok=True)
            (dataset / "issues" / part).write_bytes(part.encode())
    prefix = table_prefix(scenario, "issues")
    assert sorted(keys(s3_endpoint, bucket)) == [prefix + p for p in parts]
    reader = data_dir(tmp_path / "reader", bucket, s3_endpoint)
    with reader.reading(scenario, "scrum", ["issues"]) as dataset:
        assert sorted(p.name for p in (dataset / "issues").glob("*.parquet")) == parts

    with writer.table_writer(scenario, "scrum", "issues", [PART_FILE]) as dataset:  # one part now
        (dataset / "issues" / PART_FILE).write_bytes(b"whole table")
    assert sorted(keys(s3_endpoint, bucket)) == [prefix + PART_FILE]
    with reader.reading(scenario, "scrum", ["issues"]) as dataset:
        assert [p.name for p in (dataset / "issues").glob("*.parquet")] == [PART_FILE]
        assert (dataset / "issues" / PART_FILE).read_bytes() == b"whole table"
