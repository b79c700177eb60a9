"""The scrum domain (seed 002) end to end: every table materialised and exported as seed 002's CSV
files, every rule checked, rules that bite on corrupted data, no password anywhere, bad input
refused before anything is written."""

from __future__ import annotations

import csv
import datetime as dt
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import numpy as np
import pyarrow as pa
import pytest

from mock_pipeline.domains.scrum import SCRUM
from mock_pipeline.domains.scrum.model import ScrumModel
from mock_pipeline.domains.scrum.parameters import MAX_SPRINTS, MIN_SPRINTS
from mock_pipeline.domains.scrum.text import COMMENTS, COMPONENTS, FEATURES
from mock_pipeline.engine.table import generate
from mock_pipeline.scenarios.model import ScenarioError, build_scenario
from mock_pipeline.validation import Rule, connect
from mock_pipeline_tests.helpers import (
    check_outcomes,
    corrupt_with_sql,
    materialize_domain,
    rule_outcome,
    tree_digest,
)

SMALL: dict[str, Any] = {"profile": "normal-ops", "size": "small", "seed": 42, "as_of": "2024-12-31"}
RULES = {(r.table, r.name): r for r in SCRUM.rules}
SEED_002_FILES = ("organizations", "workspaces", "users", "projects", "sprints", "issues", "comments", "issue_links",
                  "metadata")  # fmt: skip
# The seed's real addresses and its documented password must never appear in any output.
SEED_SECRETS = ("ficct.com", "gmail.com", "uagrm.edu.bo", "cvictorhugo39", "Pass123")


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dg.ExecuteInProcessResult, Path, float]:
    data = tmp_path_factory.mktemp("scrum") / "data"
    started = time.perf_counter()
    result = materialize_domain(SCRUM, data, SMALL)
    return result, data, time.perf_counter() - started


@pytest.fixture(scope="module")
def dataset(run: tuple) -> Path:
    return next(run[1].glob("datasets/*/scrum"))


@pytest.fixture(scope="module")
def export(run: tuple) -> Path:
    return next(run[1].glob("exports/*/scrum"))


@pytest.fixture(scope="module")
def model() -> ScrumModel:
    return ScrumModel(build_scenario(**SMALL))


@pytest.fixture(scope="module")
def db(dataset: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    con = connect(dataset)
    yield con
    con.close()


def outcome(dataset: Path, rule: Rule, model: ScrumModel) -> dict[str, Any]:
    return rule_outcome(dataset, rule, SCRUM.rule_params(model))


# --- the default run ---------------------------------------------------------------------------
def test_default_run_materialises_checks_and_exports(run: tuple) -> None:
    result, _, _ = run
    assert result.success
    materialized = {m.asset_key.path[-1] for m in result.get_asset_materialization_events()}
    assert materialized == {t.name for t in SCRUM.tables} | {"exported_files"}
    outcomes = check_outcomes(result)
    assert len(outcomes) == len(SCRUM.rules)
    assert [k for k, passed in outcomes.items() if not passed] == []


@pytest.mark.parametrize("key", sorted(RULES), ids=lambda k: f"{k[0]}.{k[1]}")
def test_rule_holds_on_generated_data(dataset: Path, model: ScrumModel, key: tuple[str, str]) -> None:
    assert outcome(dataset, RULES[key], model)["passed"]


def test_export_has_seed_002_files_and_no_password(export: Path) -> None:
    names = {p.name for p in export.iterdir()}
    assert {f"{t}.csv" for t in SEED_002_FILES} <= names
    assert {f"{t.name}.csv" for t in SCRUM.tables} <= names  # the other tables too, one file each
    with (export / "users.csv").open() as f:
        header = next(csv.reader(f))
    assert not [c for c in header if "pass" in c.lower() or "hash" in c.lower()]
    for path in export.iterdir():
        text = path.read_text()
        assert "pbkdf2" not in text, path.name
        assert not [s for s in SEED_SECRETS if s in text], path.name


def test_text_columns_marked_for_the_vector_sync() -> None:
    marked = {t.name: t.text_columns for t in SCRUM.tables if t.text_columns}
    assert marked == {"projects": ("name", "description"), "issues": ("title", "description"), "comments": ("body",)}


# --- what seed 002 promises, measured in Python/SQL independently of the rules -----------------
def test_people_organization_and_workspace(db: duckdb.DuckDBPyConnection) -> None:
    assert db.execute("SELECT role, count(*) FROM users GROUP BY role ORDER BY role").fetchall() == [
        ("member", 5),
        ("owner", 1),
    ]
    assert db.execute("SELECT count(*) FROM organizations").fetchone() == (1,)
    assert db.execute("SELECT count(*) FROM workspaces").fetchone() == (1,)
    for table in ("organization_members", "workspace_members"):
        assert db.execute(f"SELECT count(DISTINCT user_id) FROM {table}").fetchone() == (6,)
    hashes = [h for (h,) in db.execute("SELECT password_hash FROM users").fetchall()]
    assert all(h.startswith("pbkdf2_sha256$") for h in hashes)
    assert len({h.split("$")[2] for h in hashes}) == 6  # a salt per user
    emails = [e for (e,) in db.execute("SELECT email FROM users").fetchall()]
    assert all(e.endswith(".example") for e in emails)


def test_projects_sprints_and_configuration(db: duckdb.DuckDBPyConnection, model: ScrumModel) -> None:
    projects = db.execute("SELECT key, methodology, status, business_domain FROM projects").fetchall()
    assert len(projects) == 12 and len({p[0] for p in projects}) == 12
    assert {p[1] for p in projects} == {"scrum", "kanban"}
    assert {p[2] for p in projects} == {"planning", "active", "completed"}
    assert len({p[3] for p in projects}) >= 5
    sprints = dict(db.execute("SELECT p.methodology || p.project_id, count(s.sprint_id) FROM projects p"
                          " LEFT JOIN sprints s USING (project_id) GROUP BY ALL").fetchall())  # fmt: skip
    for project, n in sprints.items():
        assert (MIN_SPRINTS <= n <= MAX_SPRINTS) if project.startswith("scrum") else n == 0
    per_project = db.execute("SELECT count(*) FROM issue_types GROUP BY project_id").fetchall()
    assert {n for (n,) in per_project} == {6}
    assert {n for (n,) in db.execute("SELECT count(*) FROM workflow_statuses GROUP BY project_id").fetchall()} == {4}


def test_issue_distributions(db: duckdb.DuckDBPyConnection) -> None:
    total = db.execute("SELECT count(*) FROM issues").fetchone()[0]
    assert total == 600
    types = dict(db.execute("SELECT CASE WHEN t.category IN ('story', 'task', 'bug') THEN t.category ELSE 'other' END,"
                        " count(*) FROM issues JOIN issue_types t USING (issue_type_id) GROUP BY 1").fetchall())  # fmt: skip
    for name, share in {"story": 0.5, "task": 0.25, "bug": 0.15, "other": 0.1}.items():
        assert abs(types[name] / total - share) <= 0.03
    active = dict(db.execute("SELECT s.category, count(*) FROM issues i JOIN workflow_statuses s USING"
                         " (workflow_status_id) JOIN projects p ON p.project_id = i.project_id"
                         " WHERE p.status = 'active' GROUP BY 1").fetchall())  # fmt: skip
    n = sum(active.values())
    for name, share in {"to_do": 0.2, "in_progress": 0.4, "in_review": 0.3, "done": 0.1}.items():
        assert abs(active[name] / n - share) <= 0.03
    completed = db.execute("SELECT count(*) FILTER (WHERE s.category <> 'done' OR i.resolved_at IS NULL), count(*)"
                       " FROM issues i JOIN workflow_statuses s USING (workflow_status_id)"
                       " JOIN projects p ON p.project_id = i.project_id WHERE p.status = 'completed'").fetchone()  # fmt: skip
    assert completed[0] == 0 and completed[1] > 0
    commented = db.execute("SELECT count(DISTINCT issue_id) FROM comments").fetchone()[0] / total
    assert abs(commented - 0.6) <= 0.05
    per_issue = db.execute(
        "SELECT min(n), max(n) FROM (SELECT count(*) AS n FROM comments GROUP BY issue_id)"
    ).fetchone()
    assert per_issue[0] >= 1 and per_issue[1] <= 5
    linked = db.execute("SELECT count(DISTINCT source_issue_id) FROM issue_links").fetchone()[0] / total
    assert abs(linked - 0.1) <= 0.03


def test_history_reaches_3_to_6_months_back_and_is_denser_recently(db: duckdb.DuckDBPyConnection) -> None:
    created = np.array([t for (t,) in db.execute("SELECT epoch(created_at) FROM issues").fetchall()])
    end = dt.datetime(2025, 1, 1, tzinfo=dt.UTC).timestamp()
    age_days = (end - created) / 86_400
    assert 90 <= age_days.max() <= 190
    recent_rate = (age_days < 28).sum() / 28
    older_rate = (age_days >= 28).sum() / (age_days.max() - 28)
    assert recent_rate > 1.3 * older_rate
    # ... but no calendar month holds more than 35% of a history of six months
    months = np.array([dt.datetime.fromtimestamp(t, dt.UTC).strftime("%Y-%m") for t in created])
    assert np.unique(months, return_counts=True)[1].max() <= 0.35 * len(created)
    # ... and weekends are quieter than weekdays (issues per day)
    weekday = np.array([dt.datetime.fromtimestamp(t, dt.UTC).weekday() for t in created])
    assert (weekday >= 5).sum() / 2 < 0.5 * (weekday < 5).sum() / 5
    hours = np.array([dt.datetime.fromtimestamp(t, dt.UTC).hour for t in created])
    assert ((hours >= 7) & (hours < 19)).all()  # filed in working hours


def test_titles_fit_the_project_domain(db: duckdb.DuckDBPyConnection) -> None:
    rows = db.execute("SELECT p.business_domain, i.title FROM issues i JOIN projects p USING (project_id)").fetchall()
    for domain, title in rows:
        own = FEATURES[domain] + COMPONENTS[domain]
        assert any(w in title for w in own), (domain, title)
        # No other domain's feature, unless it is part of one of our own ("appointment booking").
        others = [f for d, fs in FEATURES.items() if d != domain for f in fs if not any(f in o for o in own)]
        assert not any(f in title for f in others), (domain, title)


def test_comments_follow_the_issue_progress(db: duckdb.DuckDBPyConnection) -> None:
    rows = db.execute(
        "SELECT s.category, c.body FROM comments c JOIN issues i USING (issue_id)"
        " JOIN workflow_statuses s USING (workflow_status_id) WHERE c.anomaly IS NULL"
    ).fetchall()
    first_stage = tuple(COMMENTS[k][0][0] for k in COMMENTS)
    last_stage = tuple(COMMENTS[k][-1][0] for k in COMMENTS)
    assert all(body.startswith(first_stage) for status, body in rows if status == "to_do")
    assert all(status == "done" for status, body in rows if body.startswith(last_stage))
    assert any(body.startswith(last_stage) for _, body in rows)


def test_chunk_size_never_changes_the_rows(model: ScrumModel) -> None:
    for spec in SCRUM.tables:
        whole = pa.concat_tables(generate(spec, model, 10**7))
        chunked = pa.concat_tables(generate(spec, model, 7))
        assert whole.equals(chunked), spec.name


def test_projects_knob_and_quick_runs() -> None:
    for projects, issues in ((3, 100), (20, 1000)):
        m = ScrumModel(build_scenario(**SMALL, overrides={"scrum.projects": projects, "scrum.issues": issues}))
        keys = pa.concat_tables(generate(SCRUM.table("projects"), m, 100))["key"].to_pylist()
        assert len(keys) == len(set(keys)) == projects
        assert pa.concat_tables(generate(SCRUM.table("issues"), m, 1000)).num_rows == issues


# --- bad input ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("config", "field", "allowed"),
    [
        ({"overrides": {"scrum.projects": 21}}, "scenario.overrides.scrum.projects", "allowed: 1 to 20"),
        ({"start_date": "2024-10-01"}, "scenario.start_date", "at least"),
    ],
)
def test_bad_input_fails_the_run_before_anything_is_written(
    tmp_path: Path, config: dict[str, Any], field: str, allowed: str
) -> None:
    data = tmp_path / "data"
    with pytest.raises(ScenarioError) as error:
        ScrumModel(build_scenario(**{**SMALL, **config}))
    assert str(error.value).startswith(field) and allowed in str(error.value)
    result = materialize_domain(SCRUM, data, {**SMALL, **config}, raise_on_error=False)
    assert not result.success
    assert not data.exists() or not any(p.suffix == ".parquet" for p in data.rglob("*"))


def test_non_positive_issues_refused() -> None:
    with pytest.raises(ScenarioError, match=r"scenario\.overrides\.scrum\.issues: got 0; allowed: an integer from 1"):
        build_scenario(**SMALL, overrides={"scrum.issues": 0})


# --- determinism --------------------------------------------------------------------------------
@pytest.mark.slow
def test_same_config_same_bytes_other_seed_other_data(export: Path, tmp_path: Path) -> None:
    first = tree_digest(export)
    again = tmp_path / "again"
    materialize_domain(SCRUM, again, {**SMALL, "chunk_size": 50})
    assert tree_digest(next(again.glob("exports/*/scrum"))) == first
    other = tmp_path / "other"
    materialize_domain(SCRUM, other, {**SMALL, "seed": 7})
    digests = tree_digest(next(other.glob("exports/*/scrum")))
    for name in ("projects.csv", "issues.csv", "comments.csv", "users.csv"):
        assert digests[name] != first[name], name


# --- the rules bite -----------------------------------------------------------------------------


FIRST_ISSUE_OF = "(SELECT min(issue_id) FROM issues i JOIN projects p USING (project_id) WHERE {where})"
CORRUPTIONS = [
    ("users", "SELECT * REPLACE (CASE WHEN user_id = 2 THEN 'victor@gmail.com' ELSE email END AS email) FROM users",
     "email_on_reserved_domain"),
    ("users", "SELECT *, 'Pass123' AS password FROM users", "password_hash_only"),
    ("users", "SELECT * REPLACE ('owner' AS role) FROM users", "owner_and_five_members"),
    ("organization_members", "SELECT * FROM organization_members WHERE user_id <> 3", "every_user_a_member_once"),
    ("projects", "SELECT * REPLACE (CASE WHEN project_id = 2 THEN (SELECT key FROM projects WHERE project_id = 1)"
     " ELSE key END AS key) FROM projects", "key_unique"),
    ("sprints", "SELECT * REPLACE (CASE WHEN sprint_id = (SELECT max(sprint_id) FROM sprints WHERE project_id = 1)"
     " THEN start_date - INTERVAL 20 DAY ELSE start_date END AS start_date) FROM sprints", "never_overlap"),
    ("sprints", "SELECT * FROM sprints WHERE project_id <> 1 OR sprint_id = (SELECT min(sprint_id) FROM sprints)",
     "count_by_methodology"),
    ("issues", "SELECT * REPLACE (CASE WHEN issue_id = " + FIRST_ISSUE_OF.format(where="p.methodology = 'kanban'")
     + " THEN (SELECT min(sprint_id) FROM sprints) ELSE sprint_id END AS sprint_id) FROM issues",
     "sprint_only_in_scrum_projects_and_inside_its_dates"),
    ("issues", "SELECT * REPLACE (CASE WHEN sprint_id IS NOT NULL THEN created_at - INTERVAL 30 DAY ELSE created_at"
     " END AS created_at) FROM issues", "sprint_only_in_scrum_projects_and_inside_its_dates"),
    ("issues", "SELECT * REPLACE (CASE WHEN issue_id = " + FIRST_ISSUE_OF.format(where="p.status = 'completed'")
     + " THEN NULL ELSE resolved_at END AS resolved_at) FROM issues", "status_follows_project_state"),
    ("issues", "SELECT * REPLACE (CASE WHEN issue_type_id % 6 = 2 THEN issue_type_id - 1 ELSE issue_type_id END"
     " AS issue_type_id) FROM issues", "type_mix"),
    ("issues", "SELECT * REPLACE (CASE WHEN workflow_status_id % 4 = 3 THEN workflow_status_id + 1"
     " ELSE workflow_status_id END AS workflow_status_id) FROM issues", "active_project_status_mix"),
    ("issues", "SELECT * REPLACE (updated_at - INTERVAL 400 DAY AS updated_at) FROM issues", "times_in_order"),
    ("issues", "SELECT * REPLACE (created_at - INTERVAL 60 DAY AS created_at) FROM issues",
     "history_3_to_6_months_denser_recently"),
    ("issues", "SELECT * REPLACE ('Fix the flux capacitor' AS title) FROM issues", "titles_fit_project_domain"),
    ("comments", "SELECT * REPLACE (created_at - INTERVAL 200 DAY AS created_at) FROM comments", "after_issue_created"),
    ("comments", "SELECT * FROM comments WHERE issue_id % 2 = 0", "about_60_percent_of_issues_with_1_to_5"),
    ("issue_links", "SELECT * REPLACE (source_issue_id AS target_issue_id) FROM issue_links",
     "never_to_itself_same_project"),
    ("issue_links", "SELECT * FROM issue_links WHERE issue_link_id % 3 = 0", "about_10_percent_of_issues_linked"),
    # one world (issue 12): the generic coherence rules on scrum's tables
    ("sprints", "SELECT * REPLACE (sprint_id * 2 AS sprint_id) FROM sprints", "keys_dense"),
    ("comments", "SELECT * REPLACE (comment_id + 5 AS comment_id) FROM comments", "keys_dense"),
    ("issue_links", "SELECT * REPLACE (CASE WHEN issue_link_id = 1 THEN 999 ELSE issue_link_id END AS issue_link_id)"
     " FROM issue_links", "keys_dense"),
    ("issues", "SELECT * REPLACE (CASE WHEN issue_id % 7 = 0 THEN created_at - INTERVAL 150 DAY ELSE created_at END"
     " AS created_at) FROM issues", "created_after_parents"),
    ("comments", "SELECT c.* REPLACE (i.created_at + INTERVAL 2 DAY AS created_at) FROM comments c"
     " JOIN issues i USING (issue_id)", "created_after_parents"),
    ("issue_links", "SELECT * REPLACE (created_at - INTERVAL 120 DAY AS created_at) FROM issue_links",
     "created_after_parents"),
    ("issues", "SELECT * REPLACE (date_trunc('day', updated_at) + INTERVAL 23 HOUR AS updated_at) FROM issues",
     "timestamps_natural"),
    ("projects", "SELECT * REPLACE ((SELECT min(created_at) FROM workspaces) - INTERVAL 1 HOUR AS created_at)"
     " FROM projects", "created_after_workspace"),
    ("projects", "SELECT * REPLACE ((SELECT min(created_at) FROM workspaces) - INTERVAL 1 HOUR AS created_at)"
     " FROM projects", "created_after_parents"),
    # the anomaly ground truth and its consequences
    ("issues", "SELECT * REPLACE (NULL AS anomaly) FROM issues", "anomaly_share_matches_profile"),
    ("issues", "SELECT * REPLACE (CASE WHEN issue_id = (SELECT min(issue_id) FROM issues WHERE anomaly IS NULL)"
     " THEN 'blocked' ELSE anomaly END AS anomaly) FROM issues", "issue_links.blocked_by_another_issue"),
    ("issue_links", "SELECT * FROM issue_links WHERE link_type <> 'blocks'", "blocked_by_another_issue"),
    ("issue_links", "SELECT * REPLACE (CASE WHEN issue_link_id = (SELECT min(issue_link_id) FROM issue_links WHERE"
     " link_type <> 'blocks') THEN 'blocks' ELSE link_type END AS link_type) FROM issue_links",
     "blocked_by_another_issue"),
    ("issues", "SELECT * REPLACE (CASE WHEN anomaly IS NULL THEN due_date - INTERVAL 30 DAY ELSE due_date END"
     " AS due_date) FROM issues", "overdue_means_open_past_due_date"),
    ("issues", "SELECT * REPLACE (CASE WHEN issue_id = (SELECT min(issue_id) FROM issues WHERE anomaly IS NULL"
     " AND resolved_at IS NULL) THEN 'overdue' ELSE anomaly END AS anomaly) FROM issues",
     "overdue_means_open_past_due_date"),
    ("issues", "SELECT * REPLACE (CASE WHEN anomaly IS NULL THEN story_points + 1 ELSE story_points END"
     " AS story_points) FROM issues", "scope_creep_means_grown_estimate"),
    ("issues", "SELECT i.* REPLACE (CASE WHEN i.issue_id = (SELECT min(issue_id) FROM issues JOIN workflow_statuses s"
     " USING (workflow_status_id) WHERE s.category = 'to_do') THEN 'reopened' ELSE i.anomaly END AS anomaly)"
     " FROM issues i", "reopened_after_work_started"),
    ("comments", "SELECT * REPLACE (CASE WHEN comment_id = (SELECT min(comment_id) FROM comments WHERE anomaly IS NULL)"
     " THEN 'Still blocked by the vendor, no news.' ELSE body END AS body) FROM comments",
     "problems_told_only_by_their_issue"),
    ("comments", "SELECT * FROM comments WHERE anomaly IS NULL", "problems_told_only_by_their_issue"),
    ("comments", "SELECT c.* REPLACE (CASE WHEN c.anomaly = 'overdue' THEN 'Overdue: the due date ' || i.due_date"
     " || ' has passed and the export is not finished yet.' ELSE c.body END AS body, CASE WHEN c.anomaly = 'overdue'"
     " THEN i.created_at + INTERVAL 1 HOUR ELSE c.created_at END AS created_at) FROM comments c"
     " JOIN issues i USING (issue_id)", "overdue_told_after_the_due_date"),
    ("comments", "SELECT c.* REPLACE (CASE WHEN c.anomaly = 'blocked' THEN 'Blocked by XYZ-1: the'"
     " || split_part(c.body, ': the', 2) ELSE c.body END AS body) FROM comments c",
     "issue_links.blocked_by_another_issue"),
    # text and calendar
    ("issues", "SELECT i.* REPLACE (CASE WHEN t.category = 'bug' THEN 'Implement ' || i.title ELSE i.title END"
     " AS title) FROM issues i JOIN issue_types t USING (issue_type_id)", "titles_fit_type"),
    ("issues", "SELECT * REPLACE ('Treat such near Democrat number young least important I stay.' AS description)"
     " FROM issues", "descriptions_fit_type_and_domain"),
    ("issues", "SELECT * REPLACE (CASE WHEN issue_id % 2 = 0 THEN TIMESTAMP '2024-12-16 10:00:00'"
     " + INTERVAL (issue_id) MINUTE ELSE created_at END AS created_at) FROM issues", "no_month_dominates"),
    ("issues", "SELECT * REPLACE (date_trunc('week', created_at) + INTERVAL 5 DAY"
     " + (created_at - date_trunc('day', created_at)) AS created_at) FROM issues", "weekends_quieter"),
    ("comments", "SELECT * REPLACE (CASE WHEN comment_id % 2 = 0 THEN TIMESTAMP '2024-12-16 10:00:00'"
     " + INTERVAL (comment_id) MINUTE ELSE created_at END AS created_at) FROM comments", "no_month_dominates"),
    ("comments", "SELECT * REPLACE (created_at + INTERVAL ((6 - isodow(created_at)) % 7) DAY AS created_at)"
     " FROM comments", "weekends_quieter"),
    # every timestamp column of the activity tables, each bunched into one month near as_of
    *((table, f"SELECT * REPLACE (CASE WHEN {table[:-1]}_id % 2 = 0 AND {column} IS NOT NULL"
       f" THEN TIMESTAMP '2024-12-16 10:00:00' + INTERVAL ({table[:-1]}_id) MINUTE ELSE {column} END AS {column})"
       f" FROM {table}", f"no_month_dominates_{column}")
      for table, column in (("issues", "updated_at"), ("issues", "resolved_at"), ("comments", "updated_at"))),
    ("issue_links", "SELECT * REPLACE (CASE WHEN issue_link_id % 2 = 0 THEN TIMESTAMP '2024-12-16 10:00:00'"
     " + INTERVAL (issue_link_id) MINUTE ELSE created_at END AS created_at) FROM issue_links", "no_month_dominates"),
]  # fmt: skip


@pytest.mark.parametrize(("table", "select", "rule"), CORRUPTIONS, ids=[f"{t}.{r}" for t, _, r in CORRUPTIONS])
def test_rules_fail_on_corrupted_data(
    dataset: Path, model: ScrumModel, tmp_path: Path, table: str, select: str, rule: str
) -> None:
    broken = corrupt_with_sql(dataset, tmp_path, table, select)
    # "table.rule" names a rule of another table that reads the corrupted one
    owner, name = rule.split(".") if "." in rule else (table, rule)
    result = outcome(broken, RULES[(owner, name)], model)
    assert not result["passed"] and result["violations"] > 0
