"""A chart per domain that a person would rather look at than read: rows per day of its busiest
tables over the scenario window, rendered as PNG and shown in the asset's metadata in the UI.
Beside it, numbers per materialisation (rows, anomaly share, rows/s) that Dagster itself plots
across runs on the asset's Plots tab.

Counting is DuckDB over the Parquet tables (bounded memory at any size); drawing is matplotlib's
object API (no pyplot global state), imported only when the asset runs.
"""

import base64
import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb
import numpy as np
import pyarrow as pa

from mock_pipeline.domains.factory import OWNERS, Domain
from mock_pipeline.engine.table import TableSpec
from mock_pipeline.resources import DataDirResource, ScenarioResource
from mock_pipeline.scenarios.model import Scenario

MAX_PANELS = 4
DPI = 80
ROLLING_DAYS = 7


@dataclass(frozen=True)
class DailySeries:
    table: str
    column: str
    counts: np.ndarray  # one count per day of the window, zeros included

    @property
    def total(self) -> int:
        return int(self.counts.sum())


def time_column(spec: TableSpec) -> str | None:
    """The column that says when a row happened: the first timestamp or date that is not updated_at."""
    for f in spec.schema:
        if (pa.types.is_timestamp(f.type) or pa.types.is_date(f.type)) and f.name != "updated_at":
            return f.name
    return None


def charted_tables(domain: Domain) -> list[TableSpec]:
    return [t for t in domain.tables if time_column(t) is not None]


def daily_counts(dataset: Path, domain: Domain, start: dt.date, end: dt.date) -> list[DailySeries]:
    """Rows per day of the window for every table with a time column, busiest first."""
    days = (end - start).days + 1
    series: list[DailySeries] = []
    con = duckdb.connect(config={"memory_limit": "512MB", "threads": 2})
    try:
        for spec in charted_tables(domain):
            column = time_column(spec)
            files = dataset / spec.name
            if not files.is_dir():
                continue
            rows = con.execute(
                f'SELECT CAST("{column}" AS DATE) - ?::DATE AS day, count(*) FROM read_parquet(?) '
                f'WHERE CAST("{column}" AS DATE) BETWEEN ? AND ? GROUP BY 1',
                [start, str(files / "*.parquet"), start, end],
            ).fetchall()
            counts = np.zeros(days, dtype=np.int64)
            for day, n in rows:
                counts[int(day)] = n
            series.append(DailySeries(spec.name, column, counts))
    finally:
        con.close()
    # Event tables (rows on most days) tell the story; reference tables are created in a few bursts.
    busy = [s for s in series if np.count_nonzero(s.counts) >= days // 2]
    return sorted(busy or series, key=lambda s: (-s.total, s.table))[:MAX_PANELS]


@dataclass(frozen=True)
class DomainTotals:
    rows: int
    anomaly_share: float | None  # labelled rows / rows of the tables that carry an `anomaly` column


def domain_totals(dataset: Path, domain: Domain) -> DomainTotals:
    """Rows of every table of the domain, and the share of labelled anomalies where tables carry them."""
    rows = labelled = labellable = 0
    con = duckdb.connect(config={"memory_limit": "512MB", "threads": 2})
    try:
        for spec in domain.tables:
            files = dataset / spec.name
            if not files.is_dir():
                continue
            pattern = str(files / "*.parquet")
            if "anomaly" in spec.schema.names:
                total, anomalies = con.execute(
                    "SELECT count(*), count(anomaly) FROM read_parquet(?)", [pattern]
                ).fetchone()
                labellable += total
                labelled += anomalies
            else:
                (total,) = con.execute("SELECT count(*) FROM read_parquet(?)", [pattern]).fetchone()
            rows += total
    finally:
        con.close()
    return DomainTotals(rows, labelled / labellable if labellable else None)


def generation_rate(instance: dg.DagsterInstance, keys: list[dg.AssetKey], dataset_id: str) -> float | None:
    """Rows per second of generation over the tables' latest materialisations of this dataset."""
    rows = seconds = 0.0
    for key in keys:
        event = instance.get_latest_materialization_event(key)
        metadata = event.asset_materialization.metadata if event and event.asset_materialization else {}
        if "dataset_id" not in metadata or metadata["dataset_id"].value != dataset_id:
            continue
        if "seconds" in metadata and "dagster/row_count" in metadata:
            rows += metadata["dagster/row_count"].value
            seconds += metadata["seconds"].value
    return rows / seconds if seconds > 0 else None


def render_png(title: str, start: dt.date, series: list[DailySeries]) -> bytes:
    """Small multiples: daily counts (thin) and their 7-day mean (bold), one panel per table."""
    import matplotlib as mpl
    from matplotlib.figure import Figure

    panels = max(len(series), 1)
    fig = Figure(figsize=(8.0, 0.4 + 1.15 * panels), dpi=DPI, layout="constrained")
    axes = fig.subplots(panels, 1, sharex=True, squeeze=False)[:, 0]
    fig.suptitle(title, fontsize=11, x=0.01, ha="left")
    days = np.arange(len(series[0].counts)) if series else np.arange(1)
    dates = np.array([np.datetime64(start) + int(d) for d in days])
    kernel = np.ones(ROLLING_DAYS) / ROLLING_DAYS
    for ax, s, colour in zip(axes, series, mpl.colormaps["tab10"].colors, strict=False):
        ax.fill_between(dates, s.counts, color=colour, alpha=0.18, linewidth=0)
        ax.plot(dates, s.counts, color=colour, linewidth=0.6, alpha=0.7)
        if len(s.counts) >= ROLLING_DAYS:
            mean = np.convolve(s.counts, kernel, mode="valid")
            offset = ROLLING_DAYS // 2
            ax.plot(dates[offset : offset + len(mean)], mean, color=colour, linewidth=1.8)
        title = f"{s.table} per day ({s.column}), {s.total:,} rows"
        top = float(np.percentile(s.counts, 99)) * 1.25
        if s.counts.max() > 2 * top > 0:
            # One opening burst (initial stock, first prices) would flatten the year into a line.
            peak = int(s.counts.argmax())
            title += f"; off-scale peak {int(s.counts[peak]):,} on {start + dt.timedelta(days=peak)}"
            ax.set_ylim(0, top)
        else:
            ax.set_ylim(bottom=0)
        ax.set_title(title, fontsize=9, loc="left")
        ax.tick_params(labelsize=8)
        ax.spines[["top", "right"]].set_visible(False)
        ax.margins(x=0)
    out = io.BytesIO()
    # PNG, not SVG: a year of daily points per panel is ~200 KB of SVG paths but ~50 KB of PNG,
    # and the image travels inside the event log. No "Software" stamp: same data, same bytes.
    fig.savefig(out, format="png", metadata={"Software": None})
    return out.getvalue()


def chart_markdown(png: bytes, alt: str) -> str:
    return f"![{alt}](data:image/png;base64,{base64.b64encode(png).decode()})"


def chart_path(data_dir: DataDirResource, scenario: Scenario, domain: str) -> Path:
    return data_dir.path / "reports" / scenario.dataset_id / f"{domain}_daily_activity.png"


def daily_activity_asset(domain: Domain) -> dg.AssetsDefinition | None:
    """[domain, daily_activity]: the chart, as markdown metadata and as a PNG file beside the data."""
    tables = charted_tables(domain)
    if not tables:
        return None

    @dg.asset(
        name="daily_activity",
        key_prefix=[domain.name],
        group_name=domain.name,
        deps=[domain.key(t.name) for t in tables],
        kinds={"duckdb", "matplotlib"},
        owners=OWNERS,
        description=f"Rows per day of {domain.name}'s busiest tables over the scenario window, as a chart.",
        tags={"domain": domain.name},
    )
    def _daily_activity(
        context: dg.AssetExecutionContext, scenario: ScenarioResource, data_dir: DataDirResource
    ) -> dg.MaterializeResult:
        resolved = scenario.resolve()
        window = resolved.window
        with data_dir.reading(resolved, domain.name) as dataset:
            series = daily_counts(dataset, domain, window.start, window.end)
        if not series:
            raise dg.Failure(
                description=f"no {domain.name} tables found for dataset {resolved.dataset_id}; materialise them first",
                allow_retries=False,
            )
        title = f"{domain.name}: rows per day, profile {resolved.profile.name}, {resolved.size}, seed {resolved.seed}"
        png = render_png(title, window.start, series)
        path = chart_path(data_dir, resolved, domain.name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(png)
        busiest = series[0]
        peak = int(busiest.counts.argmax())
        context.log.info(f"charted {', '.join(s.table for s in series)} over {window.days} days into {path}")
        # Numbers per materialisation: the asset's Plots tab draws their history across runs.
        totals = domain_totals(dataset, domain)  # the tables pulled above
        plotted: dict[str, float | int] = {"rows": totals.rows}
        if totals.anomaly_share is not None:
            plotted["anomaly_share"] = round(totals.anomaly_share, 4)
        rate = generation_rate(context.instance, [domain.key(t.name) for t in domain.tables], resolved.dataset_id)
        if rate is not None:
            plotted["rows_per_second"] = round(rate)
        return dg.MaterializeResult(
            metadata={
                **plotted,
                "chart_png": dg.MetadataValue.path(str(path)),
                "chart": dg.MetadataValue.md(chart_markdown(png, title)),
                "dagster/uri": str(path),
                "profile": resolved.profile.name,
                "dataset_id": resolved.dataset_id,
                "days": window.days,
                "tables": dg.MetadataValue.json({s.table: s.total for s in series}),
                f"{busiest.table}_peak_day": (window.start + dt.timedelta(days=peak)).isoformat(),
                f"{busiest.table}_peak_rows": int(busiest.counts[peak]),
                f"{busiest.table}_mean_per_day": round(float(busiest.counts.mean()), 1),
            }
        )

    return _daily_activity
