"""Scrum under every profile (issue 12): every rule holds, and each profile moves the data the way
it names against normal-ops on the same seed (volume, bugs and blocked work, overdue work, a
rising volume, more projects); the scenario report measures what was asked."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from mock_pipeline.domains.factory import domain_definitions, materialize_table
from mock_pipeline.domains.scrum import SCRUM
from mock_pipeline.domains.scrum.checks import ACTIVITY_TIMES
from mock_pipeline.domains.scrum.model import ScrumModel
from mock_pipeline.engine.table import generate
from mock_pipeline.report import measure
from mock_pipeline.scenarios.model import build_scenario
from mock_pipeline.validation import connect, run_rules

SMALL: dict[str, Any] = {"size": "small", "seed": 42, "as_of": "2024-12-31"}
PROFILES = ("normal-ops", "peak-season", "anomaly-heavy", "warehouse-outage", "growth-phase", "payment-crisis")
Facts = dict[str, float]
# How clearly growth-phase rises over normal-ops on the same seed (issue 12 §7), and how far under the
# catalog's 35% cap the busiest month of every activity timestamp column stays, whatever the seed and as_of.
GROWTH_HALVES_MARGIN, GROWTH_RECENT_MARGIN = 1.15, 1.03
MONTH_SHARE_MARGIN = 0.325
SEEDS = (1, 7, 42, 99, 2024)


@pytest.fixture(scope="module")
def datasets(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], tuple[Path, ScrumModel]]:
    """Each profile's dataset on the same seed, generated once per module on first use (no Dagster)."""
    cache: dict[str, tuple[Path, ScrumModel]] = {}

    def get(profile: str) -> tuple[Path, ScrumModel]:
        if profile not in cache:
            scenario = build_scenario(profile=profile, **SMALL)
            dataset = tmp_path_factory.mktemp(profile) / "scrum"
            for spec in SCRUM.tables:
                materialize_table(SCRUM, spec, scenario, dataset)
            cache[profile] = (dataset, ScrumModel(scenario))
        return cache[profile]

    return get


def facts(dataset: Path) -> Facts:
    """What a profile should move, measured in SQL on the Parquet (independently of the rules)."""
    con = connect(dataset)
    try:
        row = con.execute(
            "SELECT count(*) AS issues,"
            " count(*) FILTER (WHERE t.category = 'bug') / count(*) AS bug_share,"
            " count(*) FILTER (WHERE i.anomaly = 'blocked') / count(*) AS blocked_share,"
            " count(*) FILTER (WHERE i.anomaly = 'reopened') / count(*) AS reopened_share,"
            " count(*) FILTER (WHERE i.anomaly = 'overdue') / count(*) AS overdue_share,"
            " count(i.anomaly) / count(*) AS anomaly_share,"
            " count(*) FILTER (WHERE i.resolved_at IS NULL AND i.due_date < DATE '2024-12-31') / count(*) AS past_due,"
            # issues of the last 60 days against the 60 before them: how fast volume rises
            " count(*) FILTER (WHERE i.created_at >= TIMESTAMP '2024-11-02')"
            " / count(*) FILTER (WHERE i.created_at >= TIMESTAMP '2024-09-03' AND i.created_at < TIMESTAMP '2024-11-02')"
            " AS rise,"
            " (SELECT count(*) FROM projects) AS projects,"
            " (SELECT count(*) FROM issue_links WHERE link_type = 'blocks') AS blocks_links"
            " FROM issues i JOIN issue_types t USING (issue_type_id)"
        )
        names = [d[0] for d in row.description]
        return dict(zip(names, (float(v) for v in row.fetchone()), strict=True))
    finally:
        con.close()


@pytest.mark.parametrize("profile", PROFILES)
def test_every_rule_holds_on_every_profile(datasets, profile: str) -> None:
    dataset, model = datasets(profile)
    failed = [(o.rule.table, o.rule.name, o.metadata) for o in run_rules(dataset, list(SCRUM.rules),
              dict(SCRUM.rule_params(model))) if not o.passed]  # fmt: skip
    assert failed == []


PROMISES: dict[str, Callable[[Facts, Facts], None]] = {}


def promise(profile: str):
    def register(check: Callable[[Facts, Facts], None]) -> Callable[[Facts, Facts], None]:
        PROMISES[profile] = check
        return check

    return register


@promise("peak-season")
def _peak(f: Facts, normal: Facts) -> None:
    # 3x volume: two thirds of the way to seed 002's 1,000 issues (600 -> 867)
    assert 1.3 * normal["issues"] <= f["issues"] <= 1000
    assert f["anomaly_share"] > normal["anomaly_share"]


@promise("anomaly-heavy")
def _heavy(f: Facts, normal: Facts) -> None:
    assert f["bug_share"] >= normal["bug_share"] + 0.05
    assert f["blocked_share"] > 2 * normal["blocked_share"]
    assert f["reopened_share"] > 2 * normal["reopened_share"]
    assert f["blocks_links"] > normal["blocks_links"]


@promise("warehouse-outage")
def _outage(f: Facts, normal: Facts) -> None:
    assert f["blocked_share"] > 5 * normal["blocked_share"]  # work stalls on dependencies
    assert f["anomaly_share"] > 0.5


@promise("growth-phase")
def _growth(f: Facts, normal: Facts) -> None:
    assert f["rise"] > normal["rise"]  # volume rises faster over the window
    assert f["projects"] > normal["projects"]  # company_volume: more projects


@promise("payment-crisis")
def _crisis(f: Facts, normal: Facts) -> None:
    assert f["overdue_share"] > 3 * normal["overdue_share"]
    assert f["past_due"] > 3 * normal["past_due"]


@pytest.mark.parametrize("profile", sorted(PROMISES))
def test_profile_moves_the_data_the_way_it_names(datasets, profile: str) -> None:
    normal = facts(datasets("normal-ops")[0])
    PROMISES[profile](facts(datasets(profile)[0]), normal)


def issue_rise(tmp_path: Path, profile: str, size: str, seed: int, as_of: str) -> tuple[float, float]:
    """How fast the exported issues rise over the 190-day history, measured in SQL on the Parquet: issues
    filed in its second half against its first, and in the last 60 days against the 60 before them."""
    scenario = build_scenario(profile=profile, size=size, seed=seed, as_of=as_of)
    dataset = tmp_path / profile / "scrum"
    materialize_table(SCRUM, SCRUM.table("issues"), scenario, dataset)
    con = connect(dataset)
    try:
        end = f"(DATE '{as_of}' + INTERVAL 1 DAY)"
        halves, recent = con.execute(
            f"SELECT count(*) FILTER (WHERE created_at >= {end} - INTERVAL 95 DAY)"
            f" / count(*) FILTER (WHERE created_at < {end} - INTERVAL 95 DAY"
            f"                    AND created_at >= {end} - INTERVAL 190 DAY),"
            f" count(*) FILTER (WHERE created_at >= {end} - INTERVAL 60 DAY)"
            f" / count(*) FILTER (WHERE created_at < {end} - INTERVAL 60 DAY"
            f"                    AND created_at >= {end} - INTERVAL 120 DAY)"
            " FROM issues"
        ).fetchone()
    finally:
        con.close()
    return float(halves), float(recent)


@pytest.mark.parametrize(
    ("size", "seed", "as_of"),
    [("small", 1, "2024-12-31"), ("small", 7, "2024-12-31"), ("small", 42, "2024-12-31"),
     ("small", 99, "2024-12-31"), ("small", 2024, "2024-07-31"), ("small", 26, "2024-12-31"),
     ("medium", 99, "2025-02-28"), ("medium", 123, "2024-12-31"), ("medium", 17, "2024-12-31")],
)  # fmt: skip
def test_growth_phase_rises_faster_than_normal_ops_for_any_seed(
    tmp_path: Path, size: str, seed: int, as_of: str
) -> None:
    """Growth-phase's issue volume rises clearly faster than normal-ops' on the same seed, by both
    measures (a sweep of seeds 1-40 found seed 26 small and 17 medium the closest over the last 60 days;
    before issue 12's second pass growth rose less than normal-ops there on some seeds)."""
    normal = issue_rise(tmp_path, "normal-ops", size, seed, as_of)
    growth = issue_rise(tmp_path, "growth-phase", size, seed, as_of)
    assert growth[0] >= GROWTH_HALVES_MARGIN * normal[0], (growth, normal)  # second half against first half
    assert growth[1] >= GROWTH_RECENT_MARGIN * normal[1], (growth, normal)  # last 60 days against the 60 before


def test_normal_ops_keeps_seed_002_bounds(datasets) -> None:
    f = facts(datasets("normal-ops")[0])
    assert 500 <= f["issues"] <= 1000 and 10 <= f["projects"] <= 20
    assert abs(f["bug_share"] - 0.15) <= 0.03


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("size", ["small", "medium", "large"])
def test_every_profile_keeps_seed_002_bounds(profile: str, size: str) -> None:
    """Volume and growth move the counts inside seed 002's 500-1000 issues and 10-20 projects."""
    model = ScrumModel(build_scenario(profile=profile, size=size, seed=42, as_of="2024-12-31"))
    assert 500 <= model.issues <= 1000 and 10 <= model.projects <= 20


def test_counts_outside_the_seeds_bounds_scale_plainly() -> None:
    model = ScrumModel(build_scenario(profile="peak-season", **SMALL, overrides={"scrum.issues": 2000}))
    assert model.issues == 6000


@pytest.mark.parametrize("profile", ["normal-ops", "anomaly-heavy"])
def test_report_measures_what_was_asked(datasets, profile: str) -> None:
    dataset, model = datasets(profile)
    lines = list(SCRUM.report(model))
    con = connect(dataset)
    try:
        observed = dict(
            zip((x.metric for x in lines), measure(con, lines, dict(SCRUM.rule_params(model))), strict=True)
        )
    finally:
        con.close()
    asked = {x.metric: x.asked for x in lines}
    assert observed["issues"] == asked["issues"] == model.issues
    assert abs(observed["anomaly share"] - asked["anomaly share"]) <= 0.03
    assert abs(observed["bug share"] - asked["bug share"]) <= 0.03
    assert observed["max month share"] <= 0.35
    assert observed["weekend / weekday issues per day"] < 0.6


def test_problem_text_belongs_to_its_issue(datasets) -> None:
    """Read back in Python: every comment that speaks of a problem is on an issue with that label, and a
    blocked issue's comment names the issue that blocks it through a 'blocks' link."""
    con: duckdb.DuckDBPyConnection = connect(datasets("anomaly-heavy")[0])
    try:
        rows = con.execute(
            "SELECT c.body, i.anomaly, (SELECT list(b.key) FROM issue_links l JOIN issues b"
            " ON b.issue_id = l.source_issue_id WHERE l.target_issue_id = i.issue_id AND l.link_type = 'blocks')"
            " FROM comments c JOIN issues i USING (issue_id)"
        ).fetchall()
    finally:
        con.close()
    words = {
        "blocked": r"\bblock",
        "reopened": r"\breopen",
        "overdue": r"\boverdue|\bdue date",
        "scope_creep": r"\bscope",
    }
    seen = set()
    for body, label, blockers in rows:
        for name, pattern in words.items():
            if re.search(pattern, body, re.IGNORECASE):
                assert label == name, (body, label)
                seen.add(name)
        if label == "blocked" and body.startswith("Blocked by"):
            assert body.split(":")[0].removeprefix("Blocked by ") in blockers
    assert seen == set(words)


@pytest.mark.parametrize("profile", ["anomaly-heavy", "growth-phase"])
def test_dense_keys_never_depend_on_the_chunk_size(profile: str) -> None:
    """Slotted tables (sprints, comments, links) number their rows 1..n whatever the chunking."""
    model = ScrumModel(build_scenario(profile=profile, **SMALL))
    for name in ("sprints", "issues", "comments", "issue_links"):
        spec = SCRUM.table(name)
        whole = pa.concat_tables(generate(spec, model, 10**7))
        assert whole.equals(pa.concat_tables(generate(spec, model, 41))), name
        keys = whole[spec.key].to_pylist()
        assert keys == list(range(1, len(keys) + 1)), name


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("as_of", ["2024-12-31", "2024-07-31", "2025-02-28"])
def test_no_month_dominates_whatever_the_seed_and_as_of(profile: str, seed: int, as_of: str) -> None:
    """The calendar property in general, with a margin: every timestamp column of the activity tables (issues,
    comments, links) keeps its busiest month under MONTH_SHARE_MARGIN (the catalog's cap is 35%) for every
    profile, seed and month-end as_of (the last month is then a full one); issues and comments rest at the
    weekend; the last four weeks stay denser than the history's average."""
    model = ScrumModel(build_scenario(profile=profile, size="small", seed=seed, as_of=as_of))
    for table, columns in ACTIVITY_TIMES.items():
        rows = pa.concat_tables(generate(SCRUM.table(table), model, 10**7))
        assert rows.num_rows >= 40, table
        for column in columns:
            at = rows[column].drop_null().cast(pa.int64()).to_numpy() // 1000  # milliseconds -> seconds
            months = (at // 86_400).astype("datetime64[D]").astype("datetime64[M]")
            busiest = np.unique(months, return_counts=True)[1].max() / len(at)
            assert busiest <= MONTH_SHARE_MARGIN, (table, column, busiest)
        if table != "issue_links":
            day = rows["created_at"].cast(pa.int64()).to_numpy() // 1000 // 86_400
            weekend = ((day + 3) % 7 >= 5).sum() / 2
            assert weekend < 0.45 * (len(day) - 2 * weekend) / 5, table  # a weekend day: under 45% of a weekday's
    created = model.issue_facts(np.arange(model.issues))["created"]
    recent = (created >= model.end - 28 * 86_400).sum() / 28
    assert recent >= 1.1 * len(created) / ((model.end - created.min()) / 86_400)


@pytest.mark.parametrize("seed", SEEDS)
def test_links_follow_their_issues_filing(seed: int) -> None:
    """A link's other end was filed before the issue that makes the link (unless that issue was its project's
    first), and the link follows within days: links take the issues' calendar, not the later of two dates."""
    model = ScrumModel(build_scenario(profile="anomaly-heavy", size="small", seed=seed, as_of="2024-12-31"))
    links = pa.concat_tables(generate(SCRUM.table("issue_links"), model, 10**7))
    facts = model.issue_facts(np.arange(model.issues))
    source = links["source_issue_id"].to_numpy() - 1
    target = links["target_issue_id"].to_numpy() - 1
    blocks = np.asarray(links["link_type"].to_pylist()) == "blocks"
    owner, other = np.where(blocks, target, source), np.where(blocks, source, target)
    first = np.array([facts["created"][facts["project"] == p].min() for p in facts["project"][owner]])
    earlier = facts["created"][other] < facts["created"][owner]
    assert np.all(earlier | (facts["created"][owner] == first))
    assert earlier.mean() > 0.9
    made = links["created_at"].cast(pa.int64()).to_numpy() // 1000
    assert np.all(made - np.maximum(facts["created"][owner], facts["created"][other]) <= 2 * 86_400)


@pytest.mark.parametrize("as_of", ["2024-12-15", "2024-12-16", "2024-12-14"])  # Sunday, Monday, Saturday
def test_running_sprints_start_on_weekdays(as_of: str) -> None:
    """A running sprint starts on a weekday whatever as_of's weekday, so its open work is not filed on a
    weekend alone (an as_of on Sunday with a sprint begun on Saturday made comments as busy at the weekend as on
    weekdays)."""
    for seed in SEEDS:
        model = ScrumModel(build_scenario(profile="normal-ops", size="small", seed=seed, as_of=as_of))
        sprints = pa.concat_tables(generate(SCRUM.table("sprints"), model, 10**7))
        active = np.asarray(sprints["status"].to_pylist()) == "active"
        start = sprints["start_date"].cast(pa.int32()).to_numpy()[active]  # days since 1970-01-01, a Thursday
        assert len(start) > 0
        assert np.all((start + 3) % 7 < 5), (seed, as_of)


@pytest.mark.parametrize("seed", SEEDS)
def test_blocked_label_follows_the_mix_up_to_the_room(seed: int) -> None:
    """Few issues can be blocked (open and weeks old); each of them gets the label as often as the profile's
    mix asks of all anomalies, so normal-ops has blocked work on every seed and anomaly-heavy more of it."""
    counts = {}
    for profile in ("normal-ops", "anomaly-heavy"):
        model = ScrumModel(build_scenario(profile=profile, size="small", seed=seed, as_of="2024-12-31"))
        label = model.issue_facts(np.arange(model.issues))["anomaly"]
        counts[profile] = int((label == 0).sum())  # BLOCKED
        expected = min(model.block_room, model.anomaly_mix[0]) * (label >= 0).sum()
        assert abs(counts[profile] - expected) <= 3 * np.sqrt(max(expected, 1)) + 1, (profile, counts, expected)
    assert counts["normal-ops"] >= 1
    assert counts["anomaly-heavy"] > counts["normal-ops"]


def test_every_column_described_and_every_table_created() -> None:
    """The Dagster UI shows a description on every scrum column; every table says when a row came to be."""
    assets, _ = domain_definitions(SCRUM)
    specs = {spec.key.path[-1]: spec for a in assets for spec in a.specs}
    for table in SCRUM.tables:
        schema = specs[table.name].metadata["dagster/column_schema"]
        assert [c.name for c in schema.columns] == table.schema.names
        assert all(c.description for c in schema.columns), table.name
        assert table.created in table.schema.names, table.name


@pytest.mark.parametrize(("profile", "seed"), [("normal-ops", 42), ("anomaly-heavy", 7), ("growth-phase", 99)])
def test_comments_written_in_working_hours(profile: str, seed: int) -> None:
    """A comment falls in working hours (07:00-19:00) whenever its stretch of the issue's life reaches them:
    only a few, on issues filed and closed within one night, are written at night."""
    model = ScrumModel(build_scenario(profile=profile, size="small", seed=seed, as_of="2024-12-31"))
    comments = pa.concat_tables(generate(SCRUM.table("comments"), model, 10**7))
    hours = (comments["created_at"].cast(pa.int64()).to_numpy() // 1000 % 86_400) // 3600
    assert len(hours) > 300
    assert ((hours < 7) | (hours >= 19)).mean() < 0.05
