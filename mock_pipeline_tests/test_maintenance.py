"""The maintenance domain (seed 000) end to end: every table materialised and exported, every rule
checked, rules that bite on corrupted data, bad input refused before anything is written."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from mock_pipeline.domains.factory import model_for
from mock_pipeline.domains.maintenance import MAINTENANCE, run_tag_namespace
from mock_pipeline.domains.maintenance.model import MAX_USERS, ROLES, STATUSES, MaintenanceModel
from mock_pipeline.engine.table import generate
from mock_pipeline.scenarios.model import ScenarioError, build_scenario
from mock_pipeline.validation import Rule
from mock_pipeline_tests.helpers import (
    check_outcomes,
    corrupt_with_sql,
    materialize_domain,
    read_table,
    rule_outcome,
    tree_digest,
)

SMALL: dict[str, Any] = {"profile": "normal-ops", "size": "small", "seed": 42, "as_of": "2024-12-31"}
RULES = {(r.table, r.name): r for r in MAINTENANCE.rules}
POSITIVE = r"positive|allowed: an integer from 1 "  # the scenario's wording of "at least 1"


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dg.ExecuteInProcessResult, Path, float]:
    """The default run (small preset): tables, checks and files export, timed."""
    data = tmp_path_factory.mktemp("maintenance") / "data"
    started = time.perf_counter()
    result = materialize_domain(MAINTENANCE, data, SMALL)
    return result, data, time.perf_counter() - started


@pytest.fixture(scope="module")
def dataset(run: tuple) -> Path:
    return next(run[1].glob("datasets/*/maintenance"))


@pytest.fixture(scope="module")
def model() -> MaintenanceModel:
    return MaintenanceModel(build_scenario(**SMALL))


def outcome(dataset: Path, rule: Rule, model: MaintenanceModel) -> dict[str, Any]:
    return rule_outcome(dataset, rule, MAINTENANCE.rule_params(model))


# --- the default run ---------------------------------------------------------------------------
def test_default_run_materialises_checks_and_exports(run: tuple) -> None:
    result, data, _ = run
    assert result.success
    materialized = {m.asset_key.path[-1] for m in result.get_asset_materialization_events()}
    assert materialized == {t.name for t in MAINTENANCE.tables} | {"exported_files"}
    outcomes = check_outcomes(result)
    assert len(outcomes) == len(MAINTENANCE.rules)
    assert [k for k, passed in outcomes.items() if not passed] == []
    export = next(data.glob("exports/*/maintenance"))
    names = {p.name for p in export.iterdir()}
    assert {"users.csv", "tickets.csv", "parts.csv", "metadata.csv", "manifest.json"} <= names


@pytest.mark.parametrize("key", sorted(RULES), ids=lambda k: f"{k[0]}.{k[1]}")
def test_rule_holds_on_generated_data(dataset: Path, model: MaintenanceModel, key: tuple[str, str]) -> None:
    assert outcome(dataset, RULES[key], model)["passed"]


def test_every_table_has_rules_beyond_keys() -> None:
    for spec in MAINTENANCE.tables:
        names = {name for table, name in RULES if table == spec.name}
        assert names - {f"{spec.key}_unique"}, spec.name


# --- what seed 000 promises, measured in Python independently of the SQL rules ----------------
def test_users_are_capped_at_ten_with_every_role() -> None:
    # seed 000: "a hard cap of 10 mock users, even when --users is higher": asking for more gives 10.
    for asked, expected in ((50, MAX_USERS), (11, MAX_USERS), (10, 10), (7, 7), (3, len(ROLES))):
        scenario = build_scenario(**SMALL, overrides={"maintenance.users": asked})
        m = MaintenanceModel(scenario)
        users = pa.concat_tables(generate(MAINTENANCE.table("users"), m, 1000))
        assert users.num_rows == expected
        assert set(users["role"].to_pylist()) == set(ROLES)


def test_catalogue_sizes_follow_the_knobs(dataset: Path, model: MaintenanceModel) -> None:
    assert read_table(dataset, "inventories").num_rows == 1
    assert read_table(dataset, "categories").num_rows == model.categories == 8
    assert read_table(dataset, "items").num_rows == model.items == 200
    parts = read_table(dataset, "parts")
    assert parts.num_rows == 200 * model.parts_per_item
    counts = np.bincount(parts["item_id"].to_numpy())[1:]
    assert (counts == model.parts_per_item).all()
    assert read_table(dataset, "tickets").num_rows == model.tickets == 2000


def test_status_sampled_uniformly_and_one_active_ticket_per_item(dataset: Path, model: MaintenanceModel) -> None:
    tickets = read_table(dataset, "tickets")
    sampled = tickets["sampled_status"].to_numpy(zero_copy_only=False)
    status = tickets["status"].to_numpy(zero_copy_only=False)
    for s in STATUSES:
        assert abs((sampled == s).mean() - 1 / len(STATUSES)) <= 0.03
    active = status != "done"
    items = tickets["item_id"].to_numpy()[active]
    assert len(items) == len(set(items.tolist()))
    # 4/5 of 2,000 tickets are sampled active but only 200 items exist: 200 stay active.
    assert active.sum() == min(model.items, int((sampled != "done").sum()))
    fell_back = tickets["fell_back_to_done"].to_numpy(zero_copy_only=False)
    assert (status[fell_back] == "done").all() and (sampled[fell_back] != "done").all()
    assert (status[~fell_back] == sampled[~fell_back]).all()


def test_created_at_uniform_over_the_lookback_window(dataset: Path, model: MaintenanceModel) -> None:
    created = pc.cast(read_table(dataset, "tickets")["created_at"], pa.int64()).to_numpy() / 1000
    position = np.sort((created - model.start) / (model.end - model.start))
    assert position[0] >= 0 and position[-1] < 1
    # Kolmogorov-Smirnov distance to the uniform law; 1.63/sqrt(n) is the 1% critical value.
    ecdf = np.arange(1, len(position) + 1) / len(position)
    assert np.max(np.abs(ecdf - position)) < 1.63 / np.sqrt(len(position))
    assert model.end - model.start == 180 * 86_400  # the small preset's lookback_days


def test_set_up_spread_over_the_rollout_before_first_use(dataset: Path, model: MaintenanceModel) -> None:
    """Staff, categories and items are not one batch in the first hour, and each exists before anything uses it."""
    con = duckdb.connect()
    for table in ("users", "categories", "items", "parts", "tickets"):
        con.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{dataset / table}/*.parquet')")
    try:
        first_hour = {
            table: con.execute(f"SELECT avg((epoch(created_at) < {model.start + 3600})::INT) FROM {table}").fetchone()[
                0
            ]
            for table in ("users", "categories", "items")
        }
        span_days = con.execute(
            "SELECT (max(epoch(created_at)) - min(epoch(created_at))) / 86400 FROM items"
        ).fetchone()[0]
        late = con.execute(
            "SELECT (SELECT count(*) FROM tickets t JOIN items i USING (item_id) WHERE i.created_at >= t.created_at)"
            " + (SELECT count(*) FROM items i JOIN categories c USING (category_id) WHERE c.created_at >= i.created_at)"
            " + (SELECT count(*) FROM tickets t JOIN users u ON u.user_id IN (t.created_by_id, t.assigned_to_id)"
            " WHERE u.created_at > t.created_at)"
        ).fetchone()[0]
    finally:
        con.close()
    assert all(share < 0.5 for share in first_hour.values()), first_hour
    assert span_days > 14  # the small preset's 180-day window: registered over its first weeks
    assert late == 0


def test_first_pass_bonus_exactly_for_clean_passes(dataset: Path) -> None:
    transitions = read_table(dataset, "ticket_transitions").to_pandas()
    xp = read_table(dataset, "xp_transactions").to_pandas()
    passed = set(transitions.loc[transitions.transition == "qc_pass", "ticket_id"])
    failed = set(transitions.loc[transitions.transition == "qc_fail", "ticket_id"])
    bonus = xp.loc[xp.source == "first_pass_bonus", "ticket_id"]
    assert bonus.is_unique and set(bonus) == passed - failed
    assert len(passed & failed) > 0  # some tickets passed after a failed round: the rule is not vacuous
    qc_events = xp.loc[xp.source == "qc_status_update"]
    assert len(qc_events) == transitions.transition.isin(["qc_fail", "qc_pass"]).sum()


def test_names_carry_the_normalised_run_tag(tmp_path: Path) -> None:
    scenario = build_scenario(**SMALL, run_tag="  Plant North / 2024 ")
    assert scenario.run_tag == "plant-north-2024"
    m = MaintenanceModel(scenario)
    categories = pa.concat_tables(generate(MAINTENANCE.table("categories"), m, 1000))
    items = pa.concat_tables(generate(MAINTENANCE.table("items"), m, 1000))
    assert all(n.startswith("plant-north-2024:") for n in categories["name"].to_pylist())
    assert all(s.startswith("plant-north-2024:SN-") for s in items["serial_number"].to_pylist())


def test_run_tag_namespace_is_pure_and_unambiguous() -> None:
    ns = run_tag_namespace("Mock Run_1")
    assert (ns.run_tag, ns.category_prefix, ns.serial_prefix) == ("mock-run-1", "mock-run-1:", "mock-run-1:SN-")
    assert run_tag_namespace("MOCK-RUN-1") == ns
    # A tag is never a prefix-collision of a longer one ("a:" vs "a-b:").
    assert not run_tag_namespace("a-b").category_prefix.startswith(run_tag_namespace("a").category_prefix)
    with pytest.raises(ScenarioError, match="run_tag"):
        run_tag_namespace("***")


def test_chunk_size_never_changes_the_rows(model: MaintenanceModel) -> None:
    for spec in MAINTENANCE.tables:
        whole = pa.concat_tables(generate(spec, model, 10**7))
        chunked = pa.concat_tables(generate(spec, model, 97))
        assert whole.equals(chunked), spec.name


# --- bad input: one clear error before anything is written --------------------------------------
@pytest.mark.parametrize(
    ("config", "field", "allowed"),
    [
        ({"run_tag": "  ///  "}, "scenario.run_tag", "empty after normalisation"),
        ({"run_tag": ""}, "scenario.run_tag", "allowed: letters, digits"),
        ({"run_tag": "x" * 40}, "scenario.run_tag", "at most 32"),
        ({"overrides": {"maintenance.tickets": 0}}, "scenario.overrides.maintenance.tickets", POSITIVE),
        ({"overrides": {"maintenance.items": -5}}, "scenario.overrides.maintenance.items", POSITIVE),
        ({"overrides": {"maintenance.lookback_days": 0}}, "scenario.overrides.maintenance.lookback_days", POSITIVE),
    ],
)
def test_bad_input_is_refused(config: dict[str, Any], field: str, allowed: str) -> None:
    with pytest.raises(ScenarioError) as error:
        build_scenario(**{**SMALL, **config})
    message = str(error.value)
    assert message.startswith(field) and re.search(allowed, message) and "\n" not in message


def test_bad_run_tag_fails_the_run_before_anything_is_written(tmp_path: Path) -> None:
    data = tmp_path / "data"
    result = materialize_domain(MAINTENANCE, data, {**SMALL, "run_tag": "!!!"}, raise_on_error=False)
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert "scenario.run_tag" in failure.event_specific_data.error.message
    assert not data.exists() or not any(p.is_file() for p in data.rglob("*"))


# --- determinism --------------------------------------------------------------------------------
@pytest.mark.slow
def test_same_config_same_bytes_other_seed_other_data(run: tuple, tmp_path: Path) -> None:
    _, data, _ = run
    first = tree_digest(next(data.glob("exports/*/maintenance")))
    again = tmp_path / "again"
    materialize_domain(MAINTENANCE, again, {**SMALL, "chunk_size": 333})
    assert tree_digest(next(again.glob("exports/*/maintenance"))) == first
    other = tmp_path / "other"
    materialize_domain(MAINTENANCE, other, {**SMALL, "seed": 7})
    digests = tree_digest(next(other.glob("exports/*/maintenance")))
    assert digests["tickets.csv"] != first["tickets.csv"]
    assert digests["items.csv"] != first["items.csv"]


# --- the rules bite: corrupted Parquet makes them fail ------------------------------------------


CORRUPTIONS = [
    ("users", "SELECT * FROM users UNION ALL SELECT user_id + 10, username || 'x', full_name, email, role,"
     " is_active, created_at FROM users", "at_most_ten"),
    ("users", "SELECT * REPLACE (CASE WHEN role = 'qc_inspector' THEN 'technician' ELSE role END AS role) FROM users",
     "every_role_present"),
    ("categories", "SELECT * REPLACE (CASE WHEN category_id = 1 THEN 'other:HVAC' ELSE name END AS name)"
     " FROM categories", "name_in_run_namespace"),
    ("items", "SELECT * REPLACE (replace(serial_number, 'mock:', 'mock2:') AS serial_number) FROM items",
     "serial_in_run_namespace"),
    ("parts", "SELECT * FROM parts WHERE part_id <> 5", "parts_per_item"),
    ("tickets", "SELECT * REPLACE (CASE WHEN status = 'done' AND NOT fell_back_to_done THEN 'new' ELSE"
     " sampled_status END AS sampled_status) FROM tickets", "sampled_status_uniform"),
    ("tickets", "SELECT * REPLACE (CASE WHEN ticket_id IN (SELECT min(ticket_id) FROM tickets WHERE status = 'done'"
     " AND NOT fell_back_to_done) THEN (SELECT item_id FROM tickets WHERE status = 'new' LIMIT 1) ELSE item_id END"
     " AS item_id, CASE WHEN ticket_id IN (SELECT min(ticket_id) FROM tickets WHERE status = 'done' AND NOT"
     " fell_back_to_done) THEN 'assigned' ELSE status END AS status) FROM tickets", "at_most_one_active_per_item"),
    ("tickets", "SELECT * REPLACE (CASE WHEN started_at IS NOT NULL THEN started_at + INTERVAL 3 DAY END"
     " AS assigned_at) FROM tickets", "lifecycle_timestamps_in_order"),
    ("tickets", "SELECT * REPLACE (to_timestamp({start} + 3600 + ticket_id) AS created_at) FROM tickets",
     "created_spread_over_lookback"),
    ("ticket_transitions", "SELECT * REPLACE (CASE WHEN sequence = 2 THEN created_at - INTERVAL 400 DAY ELSE"
     " created_at END AS created_at) FROM ticket_transitions", "in_time_order"),
    ("ticket_transitions", "SELECT * FROM ticket_transitions WHERE transition <> 'qc_fail'",
     "consistent_with_final_status"),
    ("xp_transactions", "SELECT * REPLACE (CASE WHEN source = 'ticket_base' THEN 'first_pass_bonus' ELSE source END"
     " AS source) FROM xp_transactions", "first_pass_bonus_only_without_qc_fail"),
    ("xp_transactions", "SELECT * FROM xp_transactions WHERE xp_transaction_id NOT IN (SELECT min(xp_transaction_id)"
     " FROM xp_transactions WHERE source = 'qc_status_update')", "qc_events_match_qc_transitions"),
    ("ticket_part_specs", "SELECT * REPLACE (CASE WHEN ticket_part_spec_id = (SELECT min(ticket_part_spec_id) FROM"
     " ticket_part_specs) THEN part_id % 800 + 4 ELSE part_id END AS part_id) FROM ticket_part_specs",
     "part_of_ticket_item"),
    # issue 12: the world agrees with itself
    ("parts", "SELECT * REPLACE (CASE WHEN part_id = 2 THEN (SELECT part_number FROM parts WHERE part_id = 1)"
     " ELSE part_number END AS part_number) FROM parts", "part_number_unique"),
    ("users", "SELECT * REPLACE (replace(email, '@', user_id::VARCHAR || '@') AS email) FROM users",
     "no_row_counter_in_logins"),
    ("tickets", "SELECT * REPLACE (CASE WHEN (epoch(created_at)::BIGINT // 86400 + 3) % 7 IN (0, 1)"
     " THEN created_at + INTERVAL 5 DAY ELSE created_at END AS created_at) FROM tickets", "weekday_rhythm"),
    ("ticket_transitions", "SELECT * REPLACE (CASE WHEN (epoch(created_at)::BIGINT // 86400 + 3) % 7 IN (0, 1)"
     " THEN created_at + INTERVAL 5 DAY ELSE created_at END AS created_at) FROM ticket_transitions",
     "weekday_rhythm"),
    ("tickets", "SELECT * REPLACE (CASE WHEN ticket_id % 2 = 0 THEN to_timestamp({start} + 86400 * 40 + ticket_id)"
     " ELSE created_at END AS created_at) FROM tickets", "no_month_dominates"),
    ("tickets", "SELECT * FROM tickets WHERE ticket_id <> 7", "volume_matches_profile"),
    # the catalogue registered in one batch in the first hour, as it used to be
    ("items", "SELECT * REPLACE (to_timestamp({start} + 600 + item_id * 10) AS created_at) FROM items",
     "registered_over_the_rollout"),
    ("tickets", "SELECT * REPLACE (CASE WHEN started_at IS NOT NULL AND ticket_id % 5 = 0 THEN 'qc_failure'"
     " ELSE anomaly END AS anomaly) FROM tickets", "anomaly_share_matches_profile"),
    ("ticket_transitions", "SELECT * REPLACE (CASE WHEN transition = 'qc_fail' AND anomaly = 'rework'"
     " AND sequence > 5 THEN 'to_waiting_qc' ELSE transition END AS transition) FROM ticket_transitions",
     "anomaly_matches_qc_history"),
    ("tickets", "SELECT * REPLACE (CASE WHEN anomaly = 'parts_delay' THEN assigned_at + INTERVAL 60 SECOND"
     " ELSE started_at END AS started_at) FROM tickets", "parts_delay_waits_for_the_part"),
    ("tickets", "SELECT * REPLACE (CASE WHEN anomaly = 'rework' THEN split_part(description, ' QC rejected', 1)"
     " ELSE description END AS description) FROM tickets", "text_fits_the_ticket"),
    ("tickets", "SELECT * REPLACE (CASE WHEN ticket_id = 1 THEN 'Lorem ipsum dolor sit amet.' ELSE description END"
     " AS description) FROM tickets", "text_fits_the_ticket"),
    ("ticket_transitions", "SELECT * REPLACE (CASE WHEN sequence = 1 AND ticket_id = 1 THEN 'rework' ELSE anomaly END"
     " AS anomaly) FROM ticket_transitions", "anomaly_follows_ticket"),
    ("ticket_transitions", "SELECT * REPLACE (CASE WHEN anomaly = 'parts_delay' THEN NULL ELSE anomaly END"
     " AS anomaly) FROM ticket_transitions", "anomaly_follows_ticket"),
    ("ticket_transitions", "SELECT * REPLACE (CASE WHEN transition = 'qc_pass' AND ticket_id % 3 = 0"
     " THEN 'Travel time saved' ELSE note END AS note) FROM ticket_transitions", "notes_fit_the_transition"),
    ("ticket_transitions", "SELECT * REPLACE (CASE WHEN transition = 'qc_fail' THEN replace(replace(note,"
     " 'not seated correctly', 'failing the functional test'), 'out of tolerance', 'not seated correctly')"
     " ELSE note END AS note) FROM ticket_transitions", "notes_fit_the_transition"),
    ("xp_transactions", "SELECT * REPLACE (CASE WHEN source = 'ticket_base' AND ticket_id % 4 = 0 THEN 'qc_failure'"
     " ELSE anomaly END AS anomaly) FROM xp_transactions", "anomaly_follows_ticket"),
    ("ticket_part_specs", "SELECT * REPLACE (NULL::VARCHAR AS anomaly) FROM ticket_part_specs",
     "anomaly_follows_ticket"),
    ("ticket_part_specs", "SELECT * REPLACE (CASE WHEN part_id % 4 = 0 THEN part_id - 3 ELSE part_id + 1 END"
     " AS part_id) FROM ticket_part_specs", "ticket_names_its_part"),
]  # fmt: skip


@pytest.mark.parametrize(("table", "select", "rule"), CORRUPTIONS, ids=[f"{t}.{r}" for t, _, r in CORRUPTIONS])
def test_rules_fail_on_corrupted_data(
    dataset: Path, model: MaintenanceModel, tmp_path: Path, table: str, select: str, rule: str
) -> None:
    broken = corrupt_with_sql(dataset, tmp_path, table, select.format(start=model.start))
    result = outcome(broken, RULES[(table, rule)], model)
    assert not result["passed"] and result["violations"] > 0


def test_model_is_shared_per_dataset() -> None:
    scenario = build_scenario(**SMALL)
    assert model_for(MAINTENANCE, scenario) is model_for(MAINTENANCE, scenario)
