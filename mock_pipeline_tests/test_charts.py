"""The daily-activity chart: counts are right, the picture is a real PNG, the asset shows it."""

import base64
import datetime as dt
from pathlib import Path

import dagster as dg
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from mock_pipeline.charts import daily_counts, domain_totals, render_png
from mock_pipeline.definitions import defs
from mock_pipeline.domains.factory import Domain
from mock_pipeline.engine.table import TableSpec
from mock_pipeline.jobs import domain_job_name

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _spec(name: str, schema: pa.Schema) -> TableSpec:
    return TableSpec("toy", name, "id", schema, "", lambda m: 0, None)


def test_daily_counts_per_day_of_window(tmp_path: Path) -> None:
    events = pa.schema([("id", pa.int64()), ("updated_at", pa.timestamp("s")), ("happened_at", pa.timestamp("s"))])
    plain = pa.schema([("id", pa.int64())])
    domain = Domain("toy", (_spec("events", events), _spec("lookup", plain)), model=lambda s: None)
    # 3 events on Jan 1, none on Jan 2, 1 on Jan 3 (late evening), 1 outside the window.
    stamps = ["2024-01-01T00:00:00", "2024-01-01T12:00:00", "2024-01-01T23:59:59", "2024-01-03T23:00:00",
              "2024-01-04T00:00:00"]  # fmt: skip
    happened = pa.array([dt.datetime.fromisoformat(s) for s in stamps], pa.timestamp("s"))
    table = pa.table({"id": range(5), "updated_at": happened, "happened_at": happened}, schema=events)
    (tmp_path / "events").mkdir()
    pq.write_table(table, tmp_path / "events" / "part-00000.parquet")
    (series,) = daily_counts(tmp_path, domain, dt.date(2024, 1, 1), dt.date(2024, 1, 3))
    assert (series.table, series.column) == ("events", "happened_at")  # updated_at is not "when"
    assert series.counts.tolist() == [3, 0, 1]


def test_png_is_an_image_and_deterministic(tmp_path: Path) -> None:
    from mock_pipeline.charts import DailySeries

    counts = np.arange(60) % 7 + 10
    first = render_png("title", dt.date(2024, 1, 1), [DailySeries("orders", "order_date", counts)])
    again = render_png("title", dt.date(2024, 1, 1), [DailySeries("orders", "order_date", counts)])
    assert first.startswith(PNG_MAGIC) and first == again


def test_asset_attaches_chart_counted_from_the_data(data_dir: Path) -> None:
    customers = dg.AssetKey(["commerce", "customers"])
    chart = dg.AssetKey(["commerce", "daily_activity"])
    job = defs.resolve_job_def(domain_job_name("commerce"))
    result = job.execute_in_process(
        instance=dg.DagsterInstance.ephemeral(),
        asset_selection=[dg.AssetKey(["commerce", "tenants"]), customers, chart],
    )
    assert result.success
    (event,) = [e for e in result.get_asset_materialization_events() if e.asset_key == chart]
    metadata = event.materialization.metadata
    markdown = metadata["chart"].value
    assert markdown.startswith("![commerce: rows per day, profile normal-ops")
    png = base64.b64decode(markdown.split("base64,", 1)[1].rstrip(")"))
    assert png.startswith(PNG_MAGIC)
    assert Path(metadata["dagster/uri"].value).read_bytes() == png
    # Customers created within the window, counted independently with pyarrow.
    (folder,) = (data_dir / "datasets").glob("*/commerce/customers")
    created = pq.read_table(folder, columns=["created_at"]).column("created_at")
    day = pc.cast(created, pa.date32())
    in_window = pc.and_(
        pc.greater_equal(day, pa.scalar(dt.date(2024, 1, 1))), pc.less_equal(day, pa.scalar(dt.date(2024, 12, 31)))
    )
    assert metadata["tables"].value["customers"] == pc.sum(in_window).as_py() > 0
    # The numbers the Plots tab draws across runs: rows of the tables there, their generation rate.
    tables = {e.asset_key: e.materialization.metadata for e in result.get_asset_materialization_events()}
    generated = [tables[dg.AssetKey(["commerce", "tenants"])], tables[customers]]
    rows = sum(pq.read_table(p).num_rows for p in (data_dir / "datasets").glob("*/commerce/*"))
    assert metadata["rows"].value == rows == sum(m["dagster/row_count"].value for m in generated)
    seconds = sum(m["seconds"].value for m in generated)
    assert metadata["rows_per_second"].value == round(rows / seconds)
    assert "anomaly_share" not in metadata  # neither table labels anomalies
    assert Path(metadata["chart_png"].value).read_bytes() == png


def test_domain_totals_count_rows_and_labelled_anomalies(tmp_path: Path) -> None:
    labelled = pa.schema([("id", pa.int64()), ("anomaly", pa.string())])
    plain = pa.schema([("id", pa.int64())])
    domain = Domain("toy", (_spec("orders", labelled), _spec("lookup", plain)), model=lambda s: None)
    (tmp_path / "orders").mkdir()
    (tmp_path / "lookup").mkdir()
    anomalies = pa.array([None, "payment_delay", None, None, "cancellation", None, None, None], pa.string())
    pq.write_table(pa.table({"id": range(8), "anomaly": anomalies}, schema=labelled), tmp_path / "orders" / "a.parquet")
    pq.write_table(pa.table({"id": range(3)}, schema=plain), tmp_path / "lookup" / "a.parquet")
    totals = domain_totals(tmp_path, domain)
    assert (totals.rows, totals.anomaly_share) == (11, 2 / 8)  # the lookup rows carry no label: not in the share
