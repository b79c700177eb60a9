"""Files export: every format parses back to the same rows, files are chunked and named as seed 003
says, the manifest describes exactly what is on disk, and a failed export publishes nothing."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import logging
import xml.etree.ElementTree as ET
from pathlib import Path

import dagster as dg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mock_pipeline.domains.commerce import COMMERCE
from mock_pipeline.domains.factory import Domain
from mock_pipeline.engine.table import PART_FILE, TableSpec
from mock_pipeline.publish.assets import exported_files_asset, publish_summary_asset
from mock_pipeline.publish.files import MANIFEST, ExportError, ExportOptions, export_domain, read_manifest
from mock_pipeline.resources import DataDirResource, ScenarioResource
from mock_pipeline_tests.conftest import SMALL
from mock_pipeline_tests.helpers import materialize_domain

TABLES = [COMMERCE.table(n) for n in ("tenants", "customers", "orders", "price_history")]


@pytest.fixture
def dataset(commerce_small: tuple) -> Path:
    _, data = commerce_small
    return next(data.glob("datasets/*/commerce"))


def _export(dataset: Path, target: Path, **options: object) -> dict:
    export_domain(dataset, target, TABLES, ExportOptions(**options), {"seed": 42}, [("seed", 42)])
    return read_manifest(target)


def _text(path: Path) -> str:
    data = path.read_bytes()
    return (gzip.decompress(data) if path.suffix == ".gz" else data).decode()


def _records(path: Path, fmt: str) -> list[dict]:
    if fmt == "csv":
        return list(csv.DictReader(io.StringIO(_text(path))))
    if fmt == "ndjson":
        return [json.loads(line) for line in _text(path).splitlines()]
    if fmt == "json":
        return json.loads(_text(path))
    if fmt == "xml":
        return [{child.tag: child.text for child in item} for item in ET.fromstring(_text(path))]
    return pq.read_table(path).to_pylist()


@pytest.mark.parametrize("fmt", ["csv", "ndjson", "json", "xml", "parquet"])
@pytest.mark.parametrize("compress", [False, True])
def test_each_format_round_trips(dataset: Path, tmp_path: Path, fmt: str, compress: bool) -> None:
    manifest = _export(dataset, tmp_path / "out", format=fmt, compress=compress, max_records_per_file=3000)
    orders = pq.read_table(dataset / "orders" / PART_FILE).to_pylist()
    files = [f for f in manifest["files"] if f["table"] == "orders"]
    records = [r for f in files for r in _records(tmp_path / "out" / f["path"], fmt)]
    assert len(records) == len(orders)
    first, last = records[0], records[-1]
    assert str(first["order_id"]) == str(orders[0]["order_id"])
    assert str(last["external_order_id"]) == orders[-1]["external_order_id"]
    assert str(first["total_amount"]) in (str(orders[0]["total_amount"]), f"{orders[0]['total_amount']}")
    if fmt in ("csv", "ndjson", "json", "xml"):
        assert first["order_date"] == orders[0]["order_date"].strftime("%Y-%m-%dT%H:%M:%SZ")
    if fmt in ("ndjson", "json"):
        assert isinstance(first["raw_payload"], dict)  # JSON columns nest as objects
        assert first["anomaly"] is None or isinstance(first["anomaly"], str)
    if compress and fmt != "parquet":
        assert all(f["path"].endswith(".gz") and f["compression"] == "gzip" for f in files)


def test_chunking_and_seed_003_naming(dataset: Path, tmp_path: Path) -> None:
    manifest = _export(dataset, tmp_path / "out", format="ndjson", max_records_per_file=2000)
    names = sorted(f["path"] for f in manifest["files"] if f["table"] == "orders")
    # 5,000 orders per tenant in files of at most 2,000: three files per tenant.
    assert names == [f"orders_{t}_chunk_{c:04d}.ndjson" for t in (1, 2) for c in range(3)]
    assert [f["rows"] for f in manifest["files"] if f["path"].startswith("orders_1_")] == [2000, 2000, 1000]
    assert {f["tenant_id"] for f in manifest["files"] if f["table"] == "orders"} == {1, 2}
    assert "tenants.ndjson" in {f["path"] for f in manifest["files"]}  # not per tenant, one file
    for f in manifest["files"]:
        rows = _records(tmp_path / "out" / f["path"], "csv" if f["path"] == "metadata.csv" else "ndjson")
        assert all(int(r["tenant_id"]) == f["tenant_id"] for r in rows if f["tenant_id"] is not None)


def test_manifest_lists_exactly_what_is_on_disk(dataset: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    manifest = _export(dataset, out, format="csv", compress=True)
    listed = {f["path"] for f in manifest["files"]}
    on_disk = {p.name for p in out.iterdir()} - {"manifest.json"}
    assert listed == on_disk
    for f in manifest["files"]:
        data = (out / f["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == f["sha256"] and len(data) == f["bytes"]
    assert manifest["run_config"] == {"seed": 42}
    assert manifest["tables"]["orders"] == 10_000
    metadata = dict(csv.reader(io.StringIO((out / "metadata.csv").read_text())))
    assert metadata["seed"] == "42" and metadata["rows.orders"] == "10000"


def test_bad_options_fail_before_anything_is_written(dataset: Path, tmp_path: Path) -> None:
    with pytest.raises(
        ExportError, match=r"export.format: unknown format 'xlsx'; allowed: csv, ndjson, json, xml, parquet"
    ):
        _export(dataset, tmp_path / "out", format="xlsx")
    with pytest.raises(ExportError, match=r"export\.max_records_per_file: got 0; allowed: an integer from 1 to"):
        _export(dataset, tmp_path / "out", max_records_per_file=0)
    assert not (tmp_path / "out").exists()


def test_a_failed_export_leaves_the_previous_one_whole(dataset: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    before = _export(dataset, out, format="csv")
    broken = [*TABLES, COMMERCE.table("reviews")]
    with pytest.raises(ExportError, match="not materialised"):
        export_domain(dataset.parent / "missing", out, broken, ExportOptions(), {}, [])
    # A failure half-way through writing (an unreadable table) leaves no staging folder behind.
    (tmp_path / "half").mkdir()
    for t in TABLES:
        (tmp_path / "half" / t.name).symlink_to(dataset / t.name)
    (tmp_path / "half" / "price_history").unlink()
    (tmp_path / "half" / "price_history").mkdir()
    (tmp_path / "half" / "price_history" / PART_FILE).write_bytes(b"not parquet")
    with pytest.raises(Exception):  # noqa: B017 - pyarrow's own error for a corrupt file
        export_domain(tmp_path / "half", out, TABLES, ExportOptions(), {}, [])
    assert read_manifest(out) == before
    assert sorted(p.name for p in out.parent.iterdir()) == ["half", "out"]


def test_export_asset_rejects_a_bad_format_with_one_line(commerce_small: tuple, tmp_path: Path) -> None:
    """format is a Dagster Enum: the run is refused at launch, before any step (or table) runs."""
    _, data = commerce_small
    with pytest.raises(dg.DagsterInvalidConfigError) as raised:
        materialize_domain(COMMERCE, data, SMALL, selection=[COMMERCE.key("exported_files")], export={"format": "xlsx"})
    (error,) = raised.value.errors
    assert "config:format not in enum" in error.message and "got xlsx" in error.message


TOY_SCHEMA = pa.schema([("id", pa.int64()), ("name", pa.string())])
TOY = Domain("toy", (TableSpec("toy", "things", "id", TOY_SCHEMA, "", lambda m: 0, None),), model=lambda s: None)


def _toy_dataset(root: Path) -> tuple[ScenarioResource, DataDirResource]:
    """A one-table domain with three rows already generated: exports without the real generators."""
    scenario = ScenarioResource(**SMALL)
    data = DataDirResource(root=str(root))
    things = data.dataset(scenario.resolve(), "toy") / "things"
    things.mkdir(parents=True)
    pq.write_table(pa.table({"id": [1, 2, 3], "name": ["a", "b", "c"]}, schema=TOY_SCHEMA), things / PART_FILE)
    return scenario, data


def test_a_new_format_replaces_the_export_and_says_so(tmp_path: Path) -> None:
    """One export per dataset and domain: an NDJSON export removes the CSV one, with a warning."""
    toy = TOY
    scenario, data = _toy_dataset(tmp_path / "data")
    target = data.export(scenario.resolve(), "toy")
    instance = dg.DagsterInstance.ephemeral()

    def export(**options: object) -> tuple[str, list[str]]:
        result = dg.materialize(
            [exported_files_asset(toy)],
            resources={"scenario": scenario, "data_dir": data},
            run_config={"ops": {"toy__exported_files": {"config": options}}},
            instance=instance,
        )
        warnings = [r.user_message for r in instance.all_logs(result.run_id) if r.level == logging.WARNING]
        (materialization,) = result.asset_materializations_for_node("toy__exported_files")
        return materialization.metadata["replaced_export"].value, warnings

    assert export(format="csv") == ("none", [])  # the first export replaces nothing
    assert (target / "things.csv").exists()
    replaced, warnings = export(format="ndjson", compress=True)
    assert replaced == "csv"
    assert any(f"the ndjson.gz export replaced the csv export in {target}" in w for w in warnings), warnings
    assert {p.name for p in target.iterdir()} == {"things.ndjson.gz", "metadata.csv", MANIFEST}
    # The same kind again replaces nothing of another kind: no warning.
    assert export(format="ndjson", compress=True) == ("none", [])


def test_the_runs_last_lines_say_where_the_data_went(tmp_path: Path) -> None:
    scenario, data = _toy_dataset(tmp_path / "data")
    export = exported_files_asset(TOY)

    @dg.asset(key=["toy", "never_run"])
    def unreported() -> None: ...

    summary = publish_summary_asset(TOY, [export, unreported])
    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize(
        [export, unreported, summary],
        resources={"scenario": scenario, "data_dir": data},
        selection=[export.key, summary.key],
        instance=instance,
    )
    target = data.export(scenario.resolve(), "toy")
    # What a console at INFO shows last (the run's own success event is DEBUG).
    messages = [r.user_message for r in instance.all_logs(result.run_id) if r.level >= logging.INFO]
    assert result.success
    assert messages[-5:] == [
        f"toy dataset {scenario.resolve().dataset_id} went to:",
        f"export folder: {target}",
        f"manifest: {target / MANIFEST}",
        f"exported_files: {target} (3 rows)",
        "never_run: not published yet",
    ]
