"""The maintenance world under every profile (issue 12): every rule holds, each profile moves the data
in the direction it names against normal-ops on the same seed, the anomaly ground truth agrees with
itself across tables, time follows a work calendar, and the scenario report measures what was asked.

Facts are measured here with DuckDB/numpy over the generated Parquet, independently of the SQL rules.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pytest

from mock_pipeline.domains.factory import materialize_table, model_for
from mock_pipeline.domains.maintenance import MAINTENANCE
from mock_pipeline.domains.maintenance.checks import expected_trend_ratio
from mock_pipeline.domains.maintenance.model import ANOMALIES, DAY, MaintenanceModel, trend_share
from mock_pipeline.report import measure
from mock_pipeline.scenarios.model import build_scenario
from mock_pipeline.validation import run_rules

PROFILES = ("normal-ops", "peak-season", "anomaly-heavy", "warehouse-outage", "growth-phase", "payment-crisis")
SMALL: dict[str, Any] = {"size": "small", "seed": 42, "as_of": "2024-12-31"}


def generate(root: Path, **config: Any) -> tuple[Path, MaintenanceModel]:
    scenario = build_scenario(**{**SMALL, **config})
    dataset = root / scenario.dataset_id / "maintenance"
    for spec in MAINTENANCE.tables:
        materialize_table(MAINTENANCE, spec, scenario, dataset)
    return dataset, model_for(MAINTENANCE, scenario)


@pytest.fixture(scope="module")
def datasets(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], tuple[Path, MaintenanceModel]]]:
    """Each profile's dataset on the same seed, generated once per module on first use."""
    cache: dict[str, tuple[Path, MaintenanceModel]] = {}

    def get(profile: str) -> tuple[Path, MaintenanceModel]:
        if profile not in cache:
            cache[profile] = generate(tmp_path_factory.mktemp(profile), profile=profile)
        return cache[profile]

    yield get


def views(dataset: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    for spec in MAINTENANCE.tables:
        con.execute(f"CREATE VIEW {spec.name} AS SELECT * FROM read_parquet('{dataset / spec.name}/*.parquet')")
    return con


def facts(dataset: Path) -> dict[str, float]:
    """What a profile should move, measured from the transitions (not from the label column)."""
    con = views(dataset)
    try:
        row = con.execute(
            "WITH f AS (SELECT ticket_id, count(*) FILTER (WHERE transition = 'qc_fail') AS fails,"
            " max(created_at) FILTER (WHERE transition = 'started') AS started,"
            " max(created_at) FILTER (WHERE transition = 'assigned') AS assigned"
            " FROM ticket_transitions GROUP BY ticket_id),"
            " w AS (SELECT * FROM f WHERE started IS NOT NULL)"
            " SELECT (SELECT count(*) FROM tickets), (SELECT count(*) FROM w),"
            " (SELECT count(*) FILTER (WHERE fails > 0) FROM w), (SELECT count(*) FILTER (WHERE fails = 2) FROM w),"
            " (SELECT quantile_cont(epoch(started) - epoch(assigned), 0.9) FROM w),"
            " (SELECT count(*) FROM ticket_transitions WHERE transition = 'qc_fail')"
        ).fetchone()
        created = con.execute("SELECT epoch(created_at) FROM tickets").fetchnumpy()
    finally:
        con.close()
    tickets, worked, failed, twice, wait_p90, qc_fail_rows = row
    seconds = np.asarray(next(iter(created.values())), dtype=np.float64)
    first, last = seconds.min(), seconds.max()
    early = (seconds < first + 30 * DAY).sum()
    late = (seconds >= last - 30 * DAY).sum()
    return {
        "tickets": tickets,
        "qc_fail_share": failed / worked,
        "rework_share": twice / worked,
        "start_wait_p90": wait_p90,
        "qc_fail_rows": qc_fail_rows,
        "trend": late / early,
    }


@pytest.mark.parametrize("profile", PROFILES)
def test_every_rule_holds_on_every_profile(datasets, profile: str) -> None:
    dataset, model = datasets(profile)
    failed = [
        (o.rule.table, o.rule.name, o.metadata)
        for o in run_rules(dataset, list(MAINTENANCE.rules), MAINTENANCE.rule_params(model))
        if not o.passed
    ]
    assert failed == []


# --- each profile moves the data in the direction it names --------------------------------------
PROMISES: dict[str, Callable[[dict[str, float], dict[str, float]], None]] = {}


def promise(profile: str):
    def register(check: Callable[[dict[str, float], dict[str, float]], None]):
        PROMISES[profile] = check
        return check

    return register


@promise("peak-season")
def _peak(f: dict[str, float], normal: dict[str, float]) -> None:
    assert f["tickets"] >= 2.5 * normal["tickets"]  # 3x order volume
    assert f["qc_fail_share"] > normal["qc_fail_share"] + 0.03  # 15% anomaly rate against 5%


@promise("anomaly-heavy")
def _anomaly_heavy(f: dict[str, float], normal: dict[str, float]) -> None:
    assert f["qc_fail_share"] >= 4 * normal["qc_fail_share"]
    assert f["rework_share"] >= 4 * normal["rework_share"]
    assert f["qc_fail_rows"] >= 4 * normal["qc_fail_rows"]


@promise("warehouse-outage")
def _warehouse_outage(f: dict[str, float], normal: dict[str, float]) -> None:
    # Parts short: the slowest starts wait much longer (parts_delay), and QC fails more often.
    assert f["start_wait_p90"] > 2 * normal["start_wait_p90"]
    assert f["qc_fail_share"] > 4 * normal["qc_fail_share"]


@promise("growth-phase")
def _growth(f: dict[str, float], normal: dict[str, float]) -> None:
    assert f["trend"] > 1.6 and f["trend"] > 1.4 * normal["trend"]
    assert 0.75 < normal["trend"] < 1.33  # no trend without the profile
    assert f["qc_fail_share"] > normal["qc_fail_share"]  # 8% anomaly rate against 5%


@promise("payment-crisis")
def _payment_crisis(f: dict[str, float], normal: dict[str, float]) -> None:
    assert f["qc_fail_share"] >= 4 * normal["qc_fail_share"]  # 25% anomaly rate against 5%
    assert f["tickets"] == normal["tickets"]


def test_every_profile_but_normal_ops_has_a_promise() -> None:
    assert set(PROMISES) == set(PROFILES) - {"normal-ops"}


@pytest.mark.parametrize("profile", sorted(PROMISES))
def test_profile_moves_the_data_in_its_direction(datasets, profile: str) -> None:
    normal = facts(datasets("normal-ops")[0])
    PROMISES[profile](facts(datasets(profile)[0]), normal)


# --- one ground truth per anomaly ---------------------------------------------------------------
@pytest.mark.parametrize("profile", ["normal-ops", "warehouse-outage"])
def test_labels_agree_across_tables(datasets, profile: str) -> None:
    con = views(datasets(profile)[0])
    try:
        # Every labelled row of a child table has the ticket's label; every labelled ticket shows it.
        for table in ("ticket_transitions", "xp_transactions", "ticket_part_specs"):
            bad = con.execute(
                f"SELECT count(*) FROM {table} c JOIN tickets t USING (ticket_id)"
                " WHERE c.anomaly IS NOT NULL AND c.anomaly IS DISTINCT FROM t.anomaly"
            ).fetchone()[0]
            assert bad == 0, table
        shown = dict(
            con.execute(
                "SELECT t.anomaly, count(DISTINCT t.ticket_id) FILTER (WHERE x.anomaly IS NULL) FROM tickets t"
                " LEFT JOIN ticket_transitions x ON x.ticket_id = t.ticket_id AND x.anomaly IS NOT NULL"
                " WHERE t.anomaly IS NOT NULL GROUP BY 1"
            ).fetchall()
        )
        assert set(shown) == set(ANOMALIES) and all(v == 0 for v in shown.values())
        # A labelled QC problem has qc_fail transitions; an unlabelled ticket has none.
        unlabelled_fails = con.execute(
            "SELECT count(*) FROM ticket_transitions x JOIN tickets t USING (ticket_id)"
            " WHERE x.transition = 'qc_fail' AND t.anomaly IS NULL"
        ).fetchone()[0]
        assert unlabelled_fails == 0
        # The first-pass bonus goes to clean passes only; labelled QC tickets never get it.
        bonus_on_failed = con.execute(
            "SELECT count(*) FROM xp_transactions x JOIN tickets t USING (ticket_id)"
            " WHERE x.source = 'first_pass_bonus' AND t.anomaly IN ('qc_failure', 'rework')"
        ).fetchone()[0]
        assert bonus_on_failed == 0
    finally:
        con.close()


# --- time: a work calendar, flat months, a trend only where the profile names one --------------
def _created(dataset: Path) -> np.ndarray:
    con = views(dataset)
    try:
        return np.asarray(con.execute("SELECT epoch(created_at) FROM tickets").fetchnumpy()["epoch(created_at)"])
    finally:
        con.close()


@pytest.mark.parametrize("profile", ["normal-ops", "growth-phase"])
def test_created_follows_the_profile_trend_with_a_weekday_rhythm(datasets, profile: str) -> None:
    dataset, model = datasets(profile)
    seconds = _created(dataset)
    position = np.sort((seconds - model.start) / (model.end - model.start))
    # Kolmogorov-Smirnov distance to the profile's law (uniform, or linear rate 1 -> 1 + trend).
    g = model.trend
    expected = (position + g * position**2 / 2) / (1 + g / 2)
    ecdf = np.arange(1, len(position) + 1) / len(position)
    assert np.max(np.abs(ecdf - expected)) < 1.63 / np.sqrt(len(position))
    days = (seconds // DAY).astype(np.int64)
    weekend = (days + 3) % 7 >= 5
    all_days = np.arange(model.start // DAY, model.end // DAY)
    weekend_days = ((all_days + 3) % 7 >= 5).sum()
    per_weekend_day = weekend.sum() / weekend_days
    per_weekday = (~weekend).sum() / (len(all_days) - weekend_days)
    assert 0.1 * per_weekday < per_weekend_day < 0.75 * per_weekday
    hours = (seconds % DAY) // 3600
    assert ((hours >= 7) & (hours < 18)).mean() > 0.6  # working hours are busier than nights
    months = np.unique(seconds.astype(np.int64).astype("datetime64[s]").astype("datetime64[M]"), return_counts=True)[1]
    assert months.max() / months.sum() <= 0.35


def ticket_rise(root: Path, profile: str, size: str, seed: int) -> tuple[float, float]:
    """How fast the exported tickets rise over the lookback window, in SQL on the Parquet: tickets opened
    in its second half against its first, and in the last 60 days against the 60 before them."""
    scenario = build_scenario(profile=profile, size=size, seed=seed, as_of="2024-12-31")
    dataset = root / profile / "maintenance"
    materialize_table(MAINTENANCE, MAINTENANCE.table("tickets"), scenario, dataset)
    model = model_for(MAINTENANCE, scenario)
    mid, end = (model.start + model.end) // 2, model.end
    con = duckdb.connect()
    try:
        halves, recent = con.execute(
            "SELECT count(*) FILTER (WHERE epoch(created_at) >= $mid) / count(*) FILTER (WHERE epoch(created_at) < $mid),"
            " count(*) FILTER (WHERE epoch(created_at) >= $end - 60 * 86400)"
            " / count(*) FILTER (WHERE epoch(created_at) BETWEEN $end - 120 * 86400 AND $end - 60 * 86400 - 1)"
            f" FROM read_parquet('{dataset / 'tickets'}/*.parquet')",
            {"mid": mid, "end": end},
        ).fetchone()
    finally:
        con.close()
    return float(halves), float(recent)


@pytest.mark.parametrize(
    ("size", "seed"), [("small", 1), ("small", 7), ("small", 42), ("small", 99), ("small", 2024), ("medium", 99)]
)
def test_growth_phase_tickets_rise_faster_than_normal_ops_for_any_seed(tmp_path: Path, size: str, seed: int) -> None:
    """Growth-phase's ticket volume rises clearly faster than normal-ops' on the same seed, by both measures."""
    normal = ticket_rise(tmp_path, "normal-ops", size, seed)
    growth = ticket_rise(tmp_path, "growth-phase", size, seed)
    assert growth[0] >= 1.3 * normal[0], (growth, normal)  # second half against first half
    assert growth[1] >= 1.05 * normal[1], (growth, normal)  # last 60 days against the 60 before


def test_trend_share_integrates_to_one() -> None:
    for g in (0.0, 1.5, -0.5):
        assert abs(sum(trend_share(k / 10, (k + 1) / 10, g) for k in range(10)) - 1) < 1e-12
    assert trend_share(0.9, 1.0, 1.5) > trend_share(0.0, 0.1, 1.5)


def test_spread_rule_is_profile_aware(datasets) -> None:
    """normal-ops data judged as growth-phase fails the spread rule, and the other way round."""
    rule = next(r for r in MAINTENANCE.rules if r.name == "created_spread_over_lookback")
    normal, normal_model = datasets("normal-ops")
    growth, growth_model = datasets("growth-phase")
    growth_params = MAINTENANCE.rule_params(growth_model)
    normal_params = MAINTENANCE.rule_params(normal_model)
    assert not next(iter(run_rules(normal, [rule], growth_params))).passed
    assert not next(iter(run_rules(growth, [rule], normal_params))).passed


# --- the scenario report --------------------------------------------------------------------------
@pytest.mark.parametrize("profile", ["normal-ops", "anomaly-heavy", "growth-phase"])
def test_report_measures_what_the_profile_asked(datasets, profile: str) -> None:
    dataset, model = datasets(profile)
    lines = list(MAINTENANCE.report(model))
    con = views(dataset)
    try:
        values = measure(con, lines, dict(MAINTENANCE.rule_params(model)))
        observed = dict(zip((line.metric for line in lines), values, strict=True))
    finally:
        con.close()
    asked = {line.metric: line.asked for line in lines}
    tickets = next(m for m in asked if m.startswith("tickets"))
    assert observed[tickets] == asked[tickets] == round(2000 * model.scenario.profile.order_volume)
    for label in ANOMALIES:
        metric = f"{label} share of tickets"
        assert abs(observed[metric] - asked[metric]) < 0.01, metric
    assert abs(observed["anomaly share of tickets"] - model.anomaly_rate) < 0.01
    trend = next(m for m in asked if m.startswith("trend"))
    assert asked[trend] == pytest.approx(expected_trend_ratio(model))
    assert abs(observed[trend] - asked[trend]) < 0.35 * asked[trend]
    statuses = [m for m in asked if m.startswith("status share")]
    assert len(statuses) == 5 and abs(sum(observed[m] for m in statuses) - 1) < 1e-9


def test_scenario_report_asset_shows_asked_against_observed(tmp_path: Path) -> None:
    """The [maintenance, scenario_report] asset, materialised with the tables through Dagster."""
    import dagster as dg

    from mock_pipeline.domains.factory import domain_definitions
    from mock_pipeline.report import scenario_report_asset
    from mock_pipeline.resources import DataDirResource, ScenarioResource

    assets, _ = domain_definitions(MAINTENANCE)
    result = dg.materialize(
        [*assets, scenario_report_asset(MAINTENANCE)],
        resources={
            "scenario": ScenarioResource(profile="peak-season"),
            "data_dir": DataDirResource(root=str(tmp_path / "data")),
        },
    )
    assert result.success
    event = next(
        e
        for e in result.get_asset_materialization_events()
        if e.asset_key == dg.AssetKey(["maintenance", "scenario_report"])
    )
    metadata = event.materialization.metadata
    assert metadata["profile"].value == "peak-season"
    rows = {r.data["metric"]: r.data for r in metadata["report"].value.records}
    tickets = next(m for m in rows if m.startswith("tickets"))
    assert rows[tickets]["asked"] == rows[tickets]["observed"] == "6000"  # 3x the preset's 2,000
    qc = rows["qc_fail share of tickets (qc_failure + rework)"]
    assert abs(float(qc["observed"]) - float(qc["asked"])) < 0.01 and float(qc["asked"]) > 0.1
    assert Path(metadata["dagster/uri"].value).read_bytes().startswith(b"\x89PNG")


def test_every_column_is_described_and_every_table_says_when_its_rows_were_created() -> None:
    for spec in MAINTENANCE.tables:
        assert set(spec.column_descriptions) == set(spec.columns), spec.name
        assert all(text.strip() for text in spec.column_descriptions.values()), spec.name
        assert spec.created == "created_at" and spec.created in spec.columns, spec.name
