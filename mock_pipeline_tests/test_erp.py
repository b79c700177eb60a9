"""ERP domain (seed 001, SynergyFlow): rules hold, rules bite, profiles do what seed 001 promises,
Egyptian data by default, bad input refused, same config same bytes."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mock_pipeline.domains.erp import ERP, data
from mock_pipeline.domains.erp import parties as erp_parties
from mock_pipeline.domains.erp.model import ErpModel, region_day, zipf_exponent_for
from mock_pipeline.domains.factory import materialize_table
from mock_pipeline.engine.pools import pools
from mock_pipeline.engine.table import PART_FILE
from mock_pipeline.scenarios.model import ScenarioError, build_scenario
from mock_pipeline.validation import Rule, connect, run_rules
from mock_pipeline_tests.helpers import check_outcomes, corrupt_with_sql, materialize_domain, rule_outcome, tree_digest

SMALL = {"profile": "normal-ops", "size": "small", "seed": 42, "as_of": "2024-12-31"}
PROFILES = ("normal-ops", "peak-season", "anomaly-heavy", "warehouse-outage", "growth-phase", "payment-crisis")
RULES = {(r.table, r.name): r for r in ERP.rules}


def generate(root: Path, **config: Any) -> tuple[Path, ErpModel]:
    """Every ERP table of a scenario through the engine (no Dagster), into root."""
    scenario = build_scenario(**{**SMALL, **config})
    model = ErpModel(scenario)
    for spec in ERP.tables:
        materialize_table(ERP, spec, scenario, root)
    return root, model


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dg.ExecuteInProcessResult, Path, float]:
    """The default run of the domain through Dagster: tables, checks and files export."""
    data_dir = tmp_path_factory.mktemp("erp_run")
    started = time.perf_counter()
    result = materialize_domain(ERP, data_dir, SMALL)
    return result, data_dir, time.perf_counter() - started


@pytest.fixture(scope="module")
def datasets(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], tuple[Path, ErpModel]]]:
    """Each profile's dataset on the same seed, generated once per module on first use."""
    cache: dict[str, tuple[Path, ErpModel]] = {}

    def get(profile: str) -> tuple[Path, ErpModel]:
        if profile not in cache:
            cache[profile] = generate(tmp_path_factory.mktemp(profile), profile=profile)
        return cache[profile]

    yield get


def query(dataset: Path, sql: str) -> tuple:
    con = connect(dataset)
    try:
        return con.execute(sql).fetchone()
    finally:
        con.close()


def outcome(dataset: Path, rule: Rule, model: ErpModel) -> dict[str, Any]:
    return rule_outcome(dataset, rule, ERP.rule_params(model))


# --- the default run ------------------------------------------------------------------------------
def test_default_run_materialises_checks_and_exports(run: tuple) -> None:
    result, data_dir, _ = run
    assert result.success
    materialized = {m.asset_key.path[-1] for m in result.get_asset_materialization_events()}
    assert materialized == {t.name for t in ERP.tables} | {"exported_files"}
    outcomes = check_outcomes(result)
    assert len(outcomes) == len(ERP.rules)
    assert all(outcomes.values()), [k for k, ok in outcomes.items() if not ok]
    manifest = next(data_dir.glob("exports/*/erp/manifest.json"))
    assert manifest.is_file()


def test_all_thirteen_entity_types_are_tables() -> None:
    names = {t.name for t in ERP.tables}
    seed_entities = {"users", "companies", "branches", "products", "orders", "order_items", "inventory_movements",
                     "shipments", "payments", "discounts", "refunds", "maintenance_visits", "audit_logs"}  # fmt: skip
    assert seed_entities <= names
    for spec in ERP.tables:
        singular = {"companies": "company", "branches": "branch", "order_status_history": "order_status_history"}
        assert spec.key == f"{singular.get(spec.name, spec.name.removesuffix('s'))}_id"
        assert set(spec.parents) >= {parent for _, parent in spec.foreign_keys if parent != spec.name}


@pytest.mark.parametrize("profile", PROFILES)
def test_every_rule_holds_on_every_profile(datasets, profile: str) -> None:
    dataset, model = datasets(profile)
    failed = {
        (o.rule.table, o.rule.name): o.metadata
        for o in run_rules(dataset, list(ERP.rules), ERP.rule_params(model))
        if not o.passed
    }
    assert not failed


# --- seed 001's volumes and distributions ---------------------------------------------------------
def test_volumes_at_multiplier_one(datasets) -> None:
    dataset, _ = datasets("normal-ops")
    users, companies, products, with_branches = query(
        dataset,
        "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM companies), (SELECT count(*) FROM products),"
        " (SELECT count(DISTINCT company_id) FROM branches)",
    )
    assert (users, companies, products, with_branches) == (20, 100, 200, 30)
    orders = query(dataset, "SELECT count(*) FROM orders")[0]
    assert 45 <= orders / 366 <= 55  # 50 a day on average over the 2024 window (weekday, season, bursts)
    first_visits = query(dataset, "SELECT count(*) FROM maintenance_visits WHERE follow_up_of_visit_id IS NULL")[0]
    all_visits = query(dataset, "SELECT count(*) FROM maintenance_visits")[0]
    assert 9.0 <= all_visits / (366 / 7) <= 11.0  # 10 visits a week, follow-ups included
    assert first_visits < all_visits


def test_role_mix_exact_for_few_users_and_within_3pp_for_many() -> None:
    model = ErpModel(build_scenario(**SMALL))
    assert dict(zip(("admin", "manager", "sales", "support"), model.role_counts.tolist(), strict=True)) == {
        "admin": 1, "manager": 3, "sales": 10, "support": 6,
    }  # fmt: skip
    many = ErpModel(build_scenario(**SMALL, overrides={"erp.volume": 61}))
    table = erp_parties.users.build(many, 0, many.users)
    roles = np.array(table["role"].to_pylist())
    assert len(roles) == 1220
    for role, share in (("admin", 0.05), ("manager", 0.15), ("sales", 0.5), ("support", 0.3)):
        assert abs((roles == role).mean() - share) <= 0.03
    tiny = ErpModel(build_scenario(**SMALL, volume_multiplier=0.1))
    assert tiny.users == 4 and set(tiny.user_role.tolist()) == {0, 1, 2, 3}  # everyone needed is there


def test_zipf_popularity_top_20_percent_take_about_80_percent(datasets) -> None:
    dataset, _ = datasets("normal-ops")
    share = query(
        dataset,
        "WITH u AS (SELECT p.product_id, coalesce(sum(quantity), 0) AS units FROM products p LEFT JOIN order_items"
        " USING (product_id) GROUP BY 1) SELECT sum(units) FILTER (WHERE r <= 40) / sum(units) FROM"
        " (SELECT units, row_number() OVER (ORDER BY units DESC) AS r FROM u)",
    )[0]
    assert 0.75 <= share <= 0.85
    for n in (50, 200, 4000):  # the exponent adapts to the catalogue size
        weights = 1 / np.arange(1, n + 1) ** zipf_exponent_for(n)
        assert abs(weights[: int(np.ceil(0.2 * n))].sum() / weights.sum() - 0.8) < 1e-6


def test_delivery_dates_follow_region_schedules(datasets) -> None:
    dataset, _ = datasets("normal-ops")
    rows = query(
        dataset,
        "SELECT list(DISTINCT isodow(s.delivered_at)) FILTER (WHERE o.delivery_region = 'A'),"
        " list(DISTINCT isodow(s.delivered_at)) FILTER (WHERE o.delivery_region = 'B')"
        " FROM shipments s JOIN orders o USING (order_id) WHERE s.delivered_at IS NOT NULL",
    )
    assert sorted(rows[0]) == [2, 4, 7] and sorted(rows[1]) == [1, 3, 6]  # Sun/Tue/Thu and Mon/Wed/Sat
    # The k-th delivery day on or after a day: 2024-01-05 is a Friday.
    friday = 19727
    assert region_day(np.array([friday]), np.array([0]), 0)[0] == friday + 2  # region A: Sunday
    assert region_day(np.array([friday]), np.array([1]), 0)[0] == friday + 1  # region B: Saturday
    assert region_day(np.array([friday]), np.array([1]), 3)[0] == friday + 8  # then Mon, Wed, Sat


def test_bulk_payments_settle_several_invoices_in_one_transfer(datasets) -> None:
    dataset, _ = datasets("normal-ops")
    transfers, biggest = query(
        dataset,
        "SELECT count(*) FILTER (WHERE n > 1), max(n) FROM (SELECT transfer_reference, count(*) AS n FROM payments"
        " WHERE settlement = 'bulk' GROUP BY 1)",
    )
    assert transfers > 50 and biggest >= 5


def test_refund_workflow_and_follow_up_visits_present(datasets) -> None:
    dataset, _ = datasets("normal-ops")
    statuses = dict(connect(dataset).execute("SELECT status, count(*) FROM refunds GROUP BY 1").fetchall())
    assert set(statuses) == {"requested", "approved", "rejected"}
    follow_ups, with_parts = query(
        dataset,
        "SELECT count(*) FILTER (WHERE follow_up_of_visit_id IS NOT NULL),"
        " count(*) FILTER (WHERE json_array_length(spare_parts) > 0) FROM maintenance_visits",
    )
    assert follow_ups > 50 and with_parts > 200
    movement_types = {
        r[0] for r in connect(dataset).execute("SELECT DISTINCT movement_type FROM inventory_movements").fetchall()
    }
    assert movement_types == {"restock", "adjustment", "fulfillment", "return"}


# --- Egyptian data by default, other locales on request -------------------------------------------
def test_egyptian_data_by_default(datasets) -> None:
    dataset, _ = datasets("normal-ops")
    con = connect(dataset)
    users = con.execute("SELECT first_name, last_name, phone, email FROM users").fetchall()
    companies = con.execute(
        "SELECT governorate, district, tax_number, phone, contact_name, email FROM companies"
    ).fetchall()
    product_names = [r[0] for r in con.execute("SELECT name FROM products").fetchall()]
    con.close()
    assert all(f in data.FIRST_NAMES and last in data.LAST_NAMES for f, last, _, _ in users)
    assert all(re.fullmatch(r"\+201[0125]\d{8}", phone) for _, _, phone, _ in users)
    districts = {g[0]: set(g[3]) for g in data.GOVERNORATES}
    assert all(d in districts[g] for g, d, *_ in companies)
    assert len({g for g, *_ in companies}) >= 10
    assert all(re.fullmatch(r"\d{3}-\d{3}-\d{3}", tax) for _, _, tax, *_ in companies)
    assert all(phone.startswith("+20") for *_, phone, _, _ in companies)
    reserved = re.compile(r".+@([a-z0-9-]+\.)*(example\.(com|org|net)|[a-z0-9-]+\.(example|test))")
    assert all(reserved.fullmatch(e) for *_, e in users) and all(reserved.fullmatch(e) for *_, e in companies)
    catalogue = {f"{grade} {name}" for grade in data.PRODUCT_GRADES for c in data.PRODUCT_CATEGORIES for name in c[4]}
    assert {re.sub(r", case of (6|12)$", "", n) for n in product_names} <= catalogue  # coffee and beverage only
    assert len(set(product_names)) == len(product_names)
    assert any("Turkish Coffee" in n for n in product_names) and any("Karkade" in n for n in product_names)


def test_locale_switches_person_and_company_names(tmp_path: Path) -> None:
    model = ErpModel(build_scenario(**SMALL, locale="de_DE"))
    table = erp_parties.users.build(model, 0, model.users)
    german = pools("de_DE", 42)
    assert set(table["first_name"].to_pylist()) <= set(german.first_names.to_pylist())
    assert not set(table["first_name"].to_pylist()) <= set(data.FIRST_NAMES)
    names = erp_parties.companies.build(model, 0, model.companies)["name"].to_pylist()
    assert set(names) <= set(german.companies.to_pylist())


# --- each profile visibly changes the data as seed 001 says ---------------------------------------
def _facts(dataset: Path) -> dict[str, float]:
    row = query(
        dataset,
        "SELECT (SELECT count(*) FROM companies),"
        " (SELECT count(*) FROM orders),"
        " (SELECT avg((status = 'cancelled')::INT) FROM orders),"
        " (SELECT avg((status = 'delivered')::INT) FROM orders),"
        " (SELECT avg(coalesce(anomaly = 'payment_delay', false)::INT) FROM orders),"
        " (SELECT avg(coalesce(anomaly = 'delivery_failure', false)::INT) FROM orders),"
        " (SELECT count(*) FROM delivery_attempts WHERE outcome = 'failed') / (SELECT count(*) FROM orders),"
        " (SELECT avg(date_diff('second', invoice_date, coalesce(paid_at, {end})) / 86400.0) FROM payments),"
        " (SELECT avg(coalesce(anomaly = 'payment_delay', false)::INT) FROM payments),"
        " (SELECT avg((status = 'overdue')::INT) FROM payments"
        "   WHERE invoice_date + to_days(CAST(payment_terms_days AS INTEGER)) < {end}),"
        " (SELECT count(*) FILTER (WHERE order_date >= TIMESTAMP '2024-09-01')"
        "   / count(*) FILTER (WHERE order_date < TIMESTAMP '2024-05-01') FROM orders),"
        " (SELECT count(*) FROM inventory_movements WHERE anomaly = 'stockout') / (SELECT count(*) FROM orders),"
        " (SELECT count(*) FROM refunds) / (SELECT count(*) FROM payments)".format(end="TIMESTAMP '2025-01-01'"),
    )
    keys = ("companies", "orders", "cancelled", "delivered", "payment_delay", "delivery_failure",
            "failed_attempts_per_order", "days_to_pay", "late_payments", "overdue", "late_over_early",
            "stockouts_per_order", "refunds_per_payment")  # fmt: skip
    return dict(zip(keys, row, strict=True))


PROMISES: dict[str, Callable[[dict[str, float], dict[str, float]], None]] = {}


def promise(profile: str):
    def register(check: Callable[[dict[str, float], dict[str, float]], None]):
        PROMISES[profile] = check
        return check

    return register


@promise("peak-season")
def _peak(p: dict[str, float], n: dict[str, float]) -> None:
    assert 2.7 <= p["orders"] / n["orders"] <= 3.3  # 3x order volume
    assert p["days_to_pay"] >= 1.3 * n["days_to_pay"]  # higher payment delays
    assert p["late_payments"] >= 1.5 * n["late_payments"]


@promise("anomaly-heavy")
def _heavy(p: dict[str, float], n: dict[str, float]) -> None:
    assert p["payment_delay"] >= 5 * n["payment_delay"] and p["payment_delay"] >= 0.10
    assert p["delivery_failure"] >= 10 * n["delivery_failure"] and p["delivery_failure"] >= 0.10
    assert p["failed_attempts_per_order"] >= 10 * n["failed_attempts_per_order"]
    assert p["late_payments"] >= 2 * n["late_payments"]


@promise("warehouse-outage")
def _outage(p: dict[str, float], n: dict[str, float]) -> None:
    assert p["cancelled"] >= 0.25 and p["cancelled"] >= 5 * n["cancelled"]  # many cancellations
    assert p["delivered"] <= 0.8 * n["delivered"]  # few deliveries
    assert p["stockouts_per_order"] >= 10 * n["stockouts_per_order"]  # stock at zero far more often
    assert p["refunds_per_payment"] >= 2 * n["refunds_per_payment"]  # late and backordered goods refunded


@promise("growth-phase")
def _growth(p: dict[str, float], n: dict[str, float]) -> None:
    assert p["companies"] == 2 * n["companies"]  # 2x companies
    assert p["late_over_early"] >= 1.6 and p["late_over_early"] >= 1.4 * n["late_over_early"]  # rising orders


@promise("payment-crisis")
def _crisis(p: dict[str, float], n: dict[str, float]) -> None:
    assert 0.27 <= p["overdue"] <= 0.33  # 30% overdue, ±3 pp
    assert n["overdue"] <= 0.08
    assert p["late_payments"] >= 5 * n["late_payments"]  # payment_delay on the invoices of many more orders
    assert p["days_to_pay"] >= 1.5 * n["days_to_pay"]


@pytest.mark.parametrize("profile", sorted(PROMISES))
def test_profile_changes_the_data_as_seed_001_promises(datasets, profile: str) -> None:
    normal = _facts(datasets("normal-ops")[0])
    PROMISES[profile](_facts(datasets(profile)[0]), normal)


def test_every_anomaly_is_labelled_with_a_known_label(datasets) -> None:
    dataset, _ = datasets("anomaly-heavy")
    labels = {r[0] for r in connect(dataset).execute("SELECT DISTINCT anomaly FROM orders").fetchall()}
    assert labels == {None, "payment_delay", "delivery_failure", "delivery_delay", "cancellation", "stockout"}
    unlabelled_failures = query(
        dataset,
        "SELECT count(*) FROM delivery_attempts a JOIN shipments s USING (shipment_id) JOIN orders o USING (order_id)"
        " WHERE a.outcome = 'failed' AND o.anomaly IS DISTINCT FROM 'delivery_failure'",
    )[0]
    assert unlabelled_failures == 0


@pytest.mark.parametrize("profile", PROFILES)
def test_one_ground_truth_per_order_and_its_consequence(datasets, profile: str) -> None:
    """Every labelled child row carries its order's label, and each label shows its consequence (issue 12)."""
    dataset, _ = datasets(profile)
    mismatched = query(
        dataset,
        "SELECT (SELECT count(*) FROM payments p JOIN orders o USING (order_id) WHERE p.anomaly IS NOT NULL"
        "   AND p.anomaly IS DISTINCT FROM o.anomaly)"
        " + (SELECT count(*) FROM shipments s JOIN orders o USING (order_id) WHERE s.anomaly IS NOT NULL"
        "   AND s.anomaly IS DISTINCT FROM o.anomaly)"
        " + (SELECT count(*) FROM refunds r JOIN orders o USING (order_id) WHERE r.anomaly IS NOT NULL"
        "   AND r.anomaly IS DISTINCT FROM o.anomaly)",
    )[0]
    assert mismatched == 0
    labelled_days, unlabelled_days, labelled = query(
        dataset,
        "SELECT avg(d) FILTER (WHERE anomaly = 'payment_delay'), avg(d) FILTER (WHERE anomaly IS NULL),"
        " count(*) FILTER (WHERE anomaly = 'payment_delay') FROM (SELECT anomaly,"
        " date_diff('day', invoice_date, coalesce(paid_at, TIMESTAMPTZ '2025-01-01 00:00:00+00')) AS d FROM payments)",
    )
    if labelled:
        assert labelled_days > unlabelled_days + 10  # a delayed payment is paid weeks later
    failures_without_failed_attempt, cancelled_with_goods_or_invoice, unlabelled_cancellations = query(
        dataset,
        "SELECT (SELECT count(*) FROM orders o JOIN shipments s USING (order_id) WHERE o.anomaly = 'delivery_failure'"
        "   AND NOT EXISTS (SELECT 1 FROM delivery_attempts a WHERE a.shipment_id = s.shipment_id"
        "   AND a.outcome = 'failed')),"
        " (SELECT count(*) FROM orders o WHERE o.anomaly = 'cancellation' AND (o.status <> 'cancelled'"
        "   OR EXISTS (SELECT 1 FROM shipments s WHERE s.order_id = o.order_id)"
        "   OR EXISTS (SELECT 1 FROM payments p WHERE p.order_id = o.order_id))),"
        " (SELECT count(*) FROM orders WHERE status = 'cancelled' AND anomaly IS DISTINCT FROM 'cancellation')",
    )
    assert (failures_without_failed_attempt, cancelled_with_goods_or_invoice, unlabelled_cancellations) == (0, 0, 0)
    # Payment statuses reflect outcomes: on time, late, overdue, retried after a failed collection, refunded.
    statuses = {r[0] for r in connect(dataset).execute("SELECT DISTINCT status FROM payments").fetchall()}
    assert {"paid", "overdue", "pending", "refunded", "partially_refunded"} <= statuses
    assert query(dataset, "SELECT count(*) FROM payments WHERE collection_attempts > 1")[0] > 0


def test_no_timestamp_is_another_shifted_by_whole_days(datasets) -> None:
    """The issue's example: invoices paid on the due date at the invoice's second of the day."""
    dataset, _ = datasets("normal-ops")
    copies, paid = query(
        dataset,
        "SELECT count(*) FILTER (WHERE (CAST(epoch(paid_at) AS BIGINT) - CAST(epoch(invoice_date) AS BIGINT))"
        " % 86400 = 0), count(paid_at) FROM payments",
    )
    assert paid > 10_000 and copies <= 0.001 * paid
    hours = query(dataset, "SELECT min(hour(paid_at)), max(hour(paid_at)) FROM payments WHERE method <> 'cash'")
    assert hours[0] >= 6 and hours[1] <= 16  # office hours in Cairo (UTC+2), in UTC


@pytest.mark.parametrize("locale", [None, "de_DE"])
def test_company_names_unique_at_any_size(locale: str | None) -> None:
    """Beyond the plain name combinations qualifiers (then districts) keep names apart, never a counter."""
    model = ErpModel(build_scenario(**{**SMALL, "volume_multiplier": 30, "locale": locale}))
    names = ERP.table("companies").build(model, 0, model.companies).column("name").to_pylist()
    assert len(names) == model.companies >= 3000
    assert len(set(names)) == len(names)
    assert not any(re.search(r"\d", n) for n in names)


def test_product_names_unique_without_counters_in_a_large_catalogue() -> None:
    model = ErpModel(build_scenario(**{**SMALL, "volume_multiplier": 30}))
    table = ERP.table("products").build(model, 0, model.products)
    names = table.column("name").to_pylist()
    assert len(names) == model.products > 3 * model.catalogue_size
    assert len(set(names)) == len(names)
    assert not any(re.search(r"\bLot\b|\d+$", re.sub(r", case of (6|12)$", "", n)) for n in names)
    # A variant keeps its catalogue entry's category vocabulary: the base name is still in it.
    base = {n for c in data.PRODUCT_CATEGORIES for n in c[4]}
    assert all(any(b in n for b in base) for n in names)


def test_keys_dense_whatever_the_chunking(tmp_path: Path) -> None:
    """Slotted tables number their rows 1..n, identically for any chunk size."""
    dense_tables = ("branches", "order_items", "payments", "inventory_movements", "audit_logs")
    keys = {}
    for chunk in (997, 50_000):
        root, _ = generate(tmp_path / str(chunk), chunk_size=chunk)
        keys[chunk] = {t: pq.read_table(root / t / PART_FILE).column(ERP.table(t).key).to_numpy() for t in dense_tables}
    for t in dense_tables:
        assert np.array_equal(keys[997][t], np.arange(1, len(keys[997][t]) + 1)), t
        assert np.array_equal(keys[997][t], keys[50_000][t]), t


@pytest.mark.parametrize("profile", ["normal-ops", "payment-crisis", "warehouse-outage"])
def test_scenario_report_measures_what_the_profile_asked(datasets, profile: str) -> None:
    from mock_pipeline.report import measure

    dataset, model = datasets(profile)
    lines = list(ERP.report(model))
    con = connect(dataset)
    observed = dict(
        zip((line.metric for line in lines), measure(con, lines, dict(ERP.rule_params(model))), strict=True)
    )
    asked = {line.metric: line.asked for line in lines}
    overdue = "overdue share of due invoices"
    assert abs(observed[overdue] - asked[overdue]) <= 0.03
    share = "anomaly share of orders"
    assert asked[share] - 0.1 <= observed[share] <= asked[share] + 0.03
    per_day = "orders per day (entity_rates.orders_per_day x multiplier x order_volume)"
    assert asked[per_day] == 50 * model.scenario.profile.order_volume
    assert 0.8 * asked[per_day] <= observed[per_day] <= 1.25 * asked[per_day]


# --- bad input ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"overrides": {"erp.volume": 0}}, "scenario.overrides.erp.volume: got 0; allowed: an integer from 1"),
        ({"locale": "xx_XX"}, "scenario.locale: unknown locale 'xx_XX'"),
        ({"volume_multiplier": -1}, "scenario.volume_multiplier: got -1; allowed: a finite number above 0"),
        ({"custom_profile": "crisis"}, "scenario.custom_profile: unknown custom profile 'crisis'; allowed:"),
        ({"custom_profile": "wide", "custom_profiles": {"wide": {"extends": "normal-ops", "entity_rates": {"branch_ratio": 1.5}}}},
         "scenario.profile.wide.entity_rates.branch_ratio: must be a share between 0 and 1, got 1.5"),
        ({"volume_multiplier": 20000}, "scenario.volume_multiplier: 20,000 makes about"),  # the size guard
    ],
)  # fmt: skip
def test_bad_input_is_refused_before_anything_is_written(tmp_path: Path, config: dict, message: str) -> None:
    with pytest.raises(ScenarioError) as error:
        ErpModel(build_scenario(**{**SMALL, **config}))
    assert str(error.value).startswith(message)
    data_dir = tmp_path / "data"
    result = materialize_domain(ERP, data_dir, {**SMALL, **config}, selection=[ERP.key("users")], raise_on_error=False)
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert message.split(":")[0] in str(failure.event_specific_data.error)
    assert not any(p.suffix == ".parquet" for p in data_dir.rglob("*"))


# --- determinism ----------------------------------------------------------------------------------
def test_same_config_same_bytes_other_seed_other_data(run: tuple, tmp_path: Path) -> None:
    _, data_dir, _ = run
    first = tree_digest(next(data_dir.glob("exports/*/erp")))
    again = tmp_path / "again"
    materialize_domain(ERP, again, {**SMALL, "chunk_size": 7_777})
    assert tree_digest(next(again.glob("exports/*/erp"))) == first
    other, _ = generate(tmp_path / "other", seed=7)
    for table in ("companies", "orders", "payments"):
        assert pq.read_table(other / table / PART_FILE) != pq.read_table(
            next(data_dir.glob("datasets/*/erp")) / table / PART_FILE
        )


def test_chunks_are_independent(tmp_path: Path) -> None:
    """Any slot range can be built alone and equals the same rows of a whole-table build."""
    model = ErpModel(build_scenario(**SMALL))
    for spec in ERP.tables:
        if spec.derive is not None:
            continue  # derived from the written tables (the ledger); test_same_config_same_bytes covers it
        total = spec.slots(model)
        whole = spec.build(model, 0, total)
        cut = total // 3 + 1
        parts = [spec.build(model, 0, cut), spec.build(model, cut, total)]
        assert sum(p.num_rows for p in parts) == whole.num_rows, spec.name
        assert pa.concat_tables(parts).equals(whole), spec.name


# --- the rules bite -------------------------------------------------------------------------------


CORRUPTIONS = [
    ("users", "SELECT * REPLACE ('sales' AS role) FROM users", "role_mix"),
    ("users", "SELECT * REPLACE (CASE WHEN user_id = 3 THEN 'ahmed@gmail.com' ELSE email END AS email) FROM users",
     "email_on_reserved_domain"),
    ("companies", "SELECT * REPLACE (replace(tax_number, '-', '') AS tax_number) FROM companies", "tax_number_format"),
    ("companies", "SELECT * REPLACE (CASE WHEN governorate = 'Alexandria' THEN 'A' ELSE delivery_region END"
     " AS delivery_region) FROM companies", "region_follows_governorate"),
    ("branches", "SELECT * FROM branches WHERE company_id % 2 = 0", "branch_ratio"),
    ("orders", "SELECT * REPLACE ((SELECT min(user_id) FROM users WHERE role = 'support') AS sales_rep_id) FROM orders",
     "sales_rep_is_sales_user"),
    ("orders", "SELECT * REPLACE (CASE WHEN branch_id IS NOT NULL THEN (SELECT max(branch_id) FROM branches)"
     " ELSE NULL END AS branch_id) FROM orders", "branch_of_order_company"),
    ("orders", "SELECT * REPLACE (scheduled_delivery_date + 1 AS scheduled_delivery_date) FROM orders",
     "scheduled_on_region_day"),
    ("orders", "SELECT * FROM orders WHERE order_id % 3 <> 0", "daily_volume_follows_engine"),
    ("orders", "SELECT * REPLACE (CASE WHEN order_id % 5 = 0 THEN 'cancellation' ELSE anomaly END AS anomaly)"
     " FROM orders", "anomaly_rate_matches_profile"),
    ("order_items", "SELECT * REPLACE (order_item_id % 200 + 1 AS product_id) FROM order_items", "zipf_top_20_percent"),
    ("order_items", "SELECT * REPLACE (unit_price + 1 AS unit_price, line_total + quantity AS line_total)"
     " FROM order_items", "price_and_product_existed"),
    ("discounts", "SELECT * FROM discounts UNION ALL SELECT 10000000 + discount_id, order_id, NULL, 'order', percent,"
     " amount, reason, created_at FROM discounts WHERE discount_level = 'item'", "never_order_and_item_level"),
    ("order_status_history", "SELECT * REPLACE (CASE WHEN status = 'shipped' THEN changed_at - INTERVAL 3 DAY"
     " ELSE changed_at END AS changed_at) FROM order_status_history", "chronological_and_consistent"),
    ("shipments", "SELECT * REPLACE (NULL AS anomaly) FROM shipments", "late_deliveries_labelled"),
    ("delivery_attempts", "SELECT * REPLACE (NULL AS failure_reason) FROM delivery_attempts",
     "failures_have_reasons_and_labels"),
    ("payments", "SELECT * REPLACE (CASE WHEN status = 'paid' AND payment_id % 3 = 0 THEN 'overdue' ELSE status END"
     " AS status, CASE WHEN status = 'paid' AND payment_id % 3 = 0 THEN NULL ELSE paid_at END AS paid_at)"
     " FROM payments", "overdue_share_matches_profile"),
    ("payments", "SELECT * REPLACE (due_date + 5 AS due_date) FROM payments", "due_date_from_terms"),
    ("payments", "SELECT * REPLACE (CASE WHEN settlement = 'bulk' THEN paid_at + to_seconds(payment_id % 7)"
     " ELSE paid_at END AS paid_at) FROM payments", "bulk_transfers_consistent"),
    ("refunds", "SELECT * REPLACE (amount * 200 AS amount) FROM refunds", "amount_within_paid"),
    ("refunds", "SELECT * REPLACE (NULL AS rejection_reason) FROM refunds", "approval_workflow"),
    ("inventory_movements", "SELECT * REPLACE (CASE WHEN movement_type = 'fulfillment' THEN quantity_change * 30"
     " ELSE quantity_change END AS quantity_change) FROM inventory_movements", "stock_never_negative"),
    ("inventory_movements", "SELECT * FROM inventory_movements WHERE NOT (movement_type = 'fulfillment'"
     " AND inventory_movement_id % 11 = 0)", "fulfilments_match_order_items"),
    ("maintenance_visits", "SELECT * REPLACE (CASE WHEN follow_up_of_visit_id IS NOT NULL THEN company_id % 100 + 1"
     " ELSE company_id END AS company_id) FROM maintenance_visits", "follow_ups_reference_earlier_visit"),
    ("maintenance_visits", "SELECT * REPLACE (parts_cost + 1 AS parts_cost) FROM maintenance_visits",
     "services_parts_and_costs"),
    ("audit_logs", "SELECT * REPLACE (occurred_at - INTERVAL 2 HOUR AS occurred_at) FROM audit_logs",
     "entity_exists_and_precedes"),
    ("audit_logs", "SELECT * REPLACE (entity_id + 1000000 AS entity_id) FROM audit_logs", "entity_exists_and_precedes"),
    # coherence: one ground truth per anomaly, its consequences, ledgers, text, calendar, shapes
    ("payments", "SELECT * REPLACE (CASE WHEN status = 'overdue' THEN 'payment_delay' ELSE anomaly END AS anomaly)"
     " FROM payments", "anomaly_is_the_orders"),
    ("shipments", "SELECT * REPLACE (CASE WHEN anomaly IS NULL AND shipment_id % 50 = 0 THEN 'stockout'"
     " ELSE anomaly END AS anomaly) FROM shipments", "anomaly_is_the_orders"),
    ("refunds", "SELECT * REPLACE (coalesce(anomaly, 'delivery_delay') AS anomaly) FROM refunds",
     "anomaly_is_the_orders"),
    ("inventory_movements", "SELECT * REPLACE (CASE WHEN movement_type = 'return' THEN 'delivery_failure'"
     " ELSE anomaly END AS anomaly) FROM inventory_movements", "anomaly_is_the_orders"),
    ("payments", "SELECT * REPLACE (NULL AS anomaly) FROM payments", "labels_show_their_consequence"),
    ("payments", "SELECT * FROM payments UNION ALL SELECT p.* REPLACE (10000000 + o.order_id AS payment_id,"
     " o.order_id AS order_id) FROM payments p JOIN orders o ON o.order_id % 1000 = p.payment_id % 1000"
     " WHERE o.status = 'cancelled' AND p.payment_id < 1000", "labels_show_their_consequence"),
    ("payments", "SELECT * REPLACE (CASE WHEN anomaly = 'payment_delay' THEN invoice_date ELSE paid_at END"
     " AS paid_at) FROM payments", "payment_delay_paid_later"),
    ("payments", "SELECT * REPLACE (CASE WHEN anomaly IS NULL AND status = 'paid' AND payment_id % 7 = 0"
     " THEN paid_at + INTERVAL 60 DAY ELSE paid_at END AS paid_at) FROM payments", "status_follows_times"),
    ("payments", "SELECT * REPLACE ('paid' AS status, 1 AS collection_attempts) FROM payments", "outcomes_vary"),
    ("delivery_attempts", "SELECT * REPLACE ('delivered' AS outcome, NULL AS failure_reason) FROM delivery_attempts",
     "delivery_labels_show_their_consequence"),
    ("delivery_attempts", "SELECT * REPLACE (attempted_at + INTERVAL 2 DAY AS attempted_at) FROM delivery_attempts",
     "delivery_labels_show_their_consequence"),
    ("refunds", "SELECT * REPLACE (CASE WHEN anomaly IS NULL THEN 'late delivery' ELSE reason END AS reason)"
     " FROM refunds", "reason_is_the_orders_problem"),
    ("refunds", "SELECT * REPLACE (CASE WHEN status = 'rejected' THEN 'approved' ELSE status END AS status,"
     " NULL AS rejection_reason) FROM refunds", "refunded_amount_is_approved_refunds"),
    ("inventory_movements", "SELECT * FROM inventory_movements UNION ALL SELECT * REPLACE (10000000"
     " + inventory_movement_id AS inventory_movement_id, 'return' AS movement_type, -quantity_change"
     " AS quantity_change, moved_at + INTERVAL 5 DAY AS moved_at) FROM inventory_movements"
     " WHERE movement_type = 'fulfillment' AND anomaly IS NULL AND inventory_movement_id % 97 = 0",
     "returns_follow_failed_deliveries_and_refunds"),
    ("companies", "SELECT * REPLACE (CASE WHEN company_id % 10 = 0 THEN 'Golden Nile Resort' ELSE name END AS name)"
     " FROM companies", "name_unique"),
    ("users", "SELECT * REPLACE (replace(email, '@', CAST(user_id - 1 AS VARCHAR) || '@') AS email) FROM users",
     "email_without_counter"),
    ("companies", "SELECT * REPLACE (replace(email, '.example', lpad(CAST(company_id AS VARCHAR), 4, '0')"
     " || '.example') AS email) FROM companies", "email_without_counter"),
    ("orders", "SELECT * REPLACE (CASE WHEN order_id % 2 = 0 THEN TIMESTAMPTZ '2024-12-05 10:00:00+00'"
     " ELSE order_date END AS order_date) FROM orders", "no_month_dominates"),
    ("inventory_movements", "SELECT * FROM inventory_movements WHERE anomaly IS NULL", "stockout_at_zero_stock"),
    ("products", "SELECT * REPLACE (CASE WHEN product_id % 10 = 0 THEN 'Gold Kenyan AA' ELSE name END AS name)"
     " FROM products", "name_unique"),
    ("discounts", "SELECT * REPLACE ('new branch opening' AS reason) FROM discounts", "reason_fits_the_order"),
    ("orders", "SELECT * REPLACE (order_id % (SELECT count(*) FROM companies) + 1 AS company_id) FROM orders",
     "orders_per_company_heavy_tailed"),
    ("audit_logs", "SELECT * REPLACE (CASE WHEN entity_type = 'inventory_movement' THEN entity_id + 1 ELSE entity_id"
     " END AS entity_id) FROM audit_logs", "bookings_follow_the_fact"),
    ("inventory_movements", "SELECT * REPLACE (CASE WHEN anomaly = 'stockout' THEN resulting_level + 5"
     " ELSE resulting_level END AS resulting_level) FROM inventory_movements", "stockout_at_zero_stock"),
    ("inventory_movements", "SELECT * REPLACE (resulting_level + 1 AS resulting_level) FROM inventory_movements",
     "resulting_level_is_running_sum"),
    ("maintenance_visits", "SELECT * REPLACE ('Lorem ipsum dolor sit amet, consectetur adipiscing elit.' AS notes)"
     " FROM maintenance_visits", "notes_fit_the_visit"),
    ("maintenance_visits", "SELECT * REPLACE (CASE WHEN visit_type = 'repair' THEN 'Routine inspection. '"
     " || notes ELSE notes END AS notes) FROM maintenance_visits", "notes_fit_the_visit"),
]  # fmt: skip


@pytest.mark.parametrize(("table", "select", "rule"), CORRUPTIONS, ids=[f"{t}.{r}" for t, _, r in CORRUPTIONS])
def test_rules_fail_on_corrupted_data(datasets, tmp_path: Path, table: str, select: str, rule: str) -> None:
    dataset, model = datasets("normal-ops")
    assert outcome(dataset, RULES[(table, rule)], model)["passed"]
    broken = corrupt_with_sql(dataset, tmp_path, table, select)
    result = outcome(broken, RULES[(table, rule)], model)
    assert not result["passed"] and result["violations"] > 0, result


def test_overdue_share_rule_bites_on_payment_crisis_too(datasets, tmp_path: Path) -> None:
    """The 30% of payment-crisis is checked against the profile: normal-ops' 5% would fail it."""
    crisis, crisis_model = datasets("payment-crisis")
    normal, _ = datasets("normal-ops")
    rule = RULES[("payments", "overdue_share_matches_profile")]
    assert outcome(crisis, rule, crisis_model)["passed"]
    assert not outcome(normal, rule, crisis_model)["passed"]
