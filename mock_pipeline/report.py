"""[domain, scenario_report]: what the run's profile asked for against what came out.

Each domain lists its report lines (`Domain.report`): a metric, the profile's target and the SQL
that measures it over the Parquet tables. The asset shows them as a table and a chart, and each
observed value as numeric metadata, so the UI's Plots tab follows it from run to run.
"""

import io
import math
import re

import dagster as dg
import duckdb

from mock_pipeline.charts import chart_markdown
from mock_pipeline.domains.factory import OWNERS, Domain, ReportLine, model_for
from mock_pipeline.resources import DataDirResource, ScenarioResource
from mock_pipeline.validation import connect

DPI = 110


def measure(con: duckdb.DuckDBPyConnection, lines: list[ReportLine], params: dict[str, object]) -> list[float | None]:
    observed: list[float | None] = []
    for line in lines:
        value = con.execute(line.sql.format(**params)).fetchone()
        observed.append(None if value is None or value[0] is None else float(value[0]))
    return observed


def render_png(title: str, lines: list[ReportLine], observed: list[float | None]) -> bytes:
    """Horizontal bars: observed per metric, with the profile's target as a tick where it states one."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8.0, 0.8 + 0.35 * len(lines)), dpi=DPI, layout="constrained")
    ax = fig.subplots()
    ys = list(range(len(lines)))[::-1]
    ax.barh(ys, [v or 0.0 for v in observed], color="#4c78a8", height=0.6, label="observed")
    asked = [(y, line.asked) for y, line in zip(ys, lines, strict=True) if line.asked is not None]
    if asked:
        ax.scatter([a for _, a in asked], [y for y, _ in asked], marker="|", s=260, color="#e45756", label="asked")
    ax.set_yticks(ys, [line.metric for line in lines], fontsize=8)
    ax.tick_params(axis="x", labelsize=8)
    ax.set_title(title, fontsize=10, loc="left")
    ax.legend(fontsize=8, loc="lower right")
    ax.spines[["top", "right"]].set_visible(False)
    out = io.BytesIO()
    fig.savefig(out, format="png", metadata={"Software": None})
    return out.getvalue()


def _key(metric: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", metric.lower()).strip("_")


def scenario_report_asset(domain: Domain) -> dg.AssetsDefinition:
    @dg.asset(
        name="scenario_report",
        key_prefix=[domain.name],
        group_name=domain.name,
        deps=[domain.key(t.name) for t in domain.tables],
        kinds={"duckdb", "matplotlib"},
        owners=OWNERS,
        description=f"What the run's profile asked of {domain.name} (anomaly shares, volume, trend, overdue,"
        " cancellations, stock-outs) against what the generated tables hold.",
        tags={"domain": domain.name},
    )
    def _scenario_report(
        context: dg.AssetExecutionContext, scenario: ScenarioResource, data_dir: DataDirResource
    ) -> dg.MaterializeResult:
        resolved = scenario.resolve()
        model = model_for(domain, resolved)
        lines = list(domain.report(model))
        with data_dir.reading(resolved, domain.name) as dataset:
            con = connect(dataset)
            try:
                observed = measure(con, lines, dict(domain.rule_params(model)))
            finally:
                con.close()
        title = f"{domain.name}: profile {resolved.profile.name}, {resolved.size}, seed {resolved.seed}"
        png = render_png(title, lines, observed)
        path = data_dir.path / "reports" / resolved.dataset_id / f"{domain.name}_scenario_report.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(png)
        records = [
            dg.TableRecord(
                {
                    "metric": line.metric,
                    "asked": "" if line.asked is None else f"{line.asked:.4g}",
                    "observed": "" if value is None else f"{value:.4g}",
                }
            )
            for line, value in zip(lines, observed, strict=True)
        ]
        numbers = {
            f"observed/{_key(line.metric)}": round(value, 6)
            for line, value in zip(lines, observed, strict=True)
            if value is not None and math.isfinite(value)
        }
        context.log.info(f"{domain.name} scenario report: {len(lines)} metrics, chart at {path}")
        return dg.MaterializeResult(
            metadata={
                "report": dg.MetadataValue.table(
                    records,
                    schema=dg.TableSchema(
                        columns=[
                            dg.TableColumn("metric", "string"),
                            dg.TableColumn("asked", "string", description="the profile's target"),
                            dg.TableColumn("observed", "string", description="measured on the generated tables"),
                        ]
                    ),
                ),
                "chart": dg.MetadataValue.md(chart_markdown(png, title)),
                "dagster/uri": str(path),
                "profile": resolved.profile.name,
                "dataset_id": resolved.dataset_id,
                **numbers,
            }
        )

    return _scenario_report
