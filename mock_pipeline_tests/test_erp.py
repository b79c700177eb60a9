"""ERP domain (seed 001, SynergyFlow): rules hold, rules bite, profiles do what seed 001 promises,
Egyptian data by default, bad input refused, same config same bytes."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import dagster as dg
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mock_pipeline.domains.erp import ERP, data
from mock_pipeline.domains.erp import parties as erp_parties
from mock_pipeline.domains.erp.model import ErpModel
from mock_pipeline.domains.erp.world import region_day, zipf_exponent_for
from mock_pipeline.engine.table import PART_FILE
from mock_pipeline.scenarios.model import ScenarioError, build_scenario
from mock_pipeline.validation import connect, run_rules
from mock_pipeline_tests.erp_support import PROFILES, SMALL, generate, profile_datasets, query
from mock_pipeline_tests.helpers import check_outcomes, materialize_domain, tree_digest


@pytest.fixture(scope="module")
def datasets(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], tuple[Path, ErpModel]]:
    """Each profile's dataset on the same seed, generated once per module on first use."""
    return profile_datasets(tmp_path_factory)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dg.ExecuteInProcessResult, Path, float]:
    """The default run of the domain through Dagster: tables, checks and files export."""
    data_dir = tmp_path_factory.mktemp("erp_run")
    started = time.perf_counter()
    result = materialize_domain(ERP, data_dir, SMALL)
    return result, data_dir, time.perf_counter() - started


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


def test_zipf_exponent_counts_products_listed_over_the_window() -> None:
    """A product sells only once listed: the units expected day by day, not the bare weights, put
    80% on the top 20%, so the exponent is lower than for a catalogue listed all at once."""
    n, days = 200, 365
    listed = np.minimum(n, 40 + np.arange(days) * (n - 40) // days)  # a fifth at go-live, the rest over the year
    volume = 1.0 + 0.5 * (np.arange(days) % 7 < 5)
    exponent = zipf_exponent_for(n, listed=listed, volume=volume)
    weights = 1 / np.arange(1, n + 1) ** exponent
    units = np.zeros(n)
    for k, v in zip(listed, volume, strict=True):
        units[:k] += v * weights[:k] / weights[:k].sum()
    assert abs(units[:40].sum() / units.sum() - 0.8) < 1e-6
    assert exponent < zipf_exponent_for(n)


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


def test_one_egyptian_locale_whatever_the_run_locale(datasets, tmp_path: Path) -> None:
    """A run's locale (de_DE here) does not give the Egyptian distributor German names beside its Egyptian
    addresses, +20 phones, EGP and couriers: the ERP keeps one locale, Egypt's, so the same bytes come out."""
    dataset, _ = datasets("normal-ops")
    german, _ = generate(tmp_path / "de", locale="de_DE")
    assert tree_digest(german) == tree_digest(dataset)
    con = connect(german)
    try:
        first = {r[0] for r in con.execute("SELECT first_name FROM users").fetchall()}
        carriers = {r[0] for r in con.execute("SELECT DISTINCT carrier FROM shipments").fetchall()}
        currencies = {r[0] for r in con.execute("SELECT DISTINCT currency FROM orders").fetchall()}
    finally:
        con.close()
    assert first <= set(data.FIRST_NAMES) and len(first) >= 20
    assert carriers <= {"SynergyFlow Fleet", "Bosta", "Aramex", "Mylerz", "R2S"} and currencies == {"EGP"}


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
        " (SELECT avg((status = 'overdue')::INT) FROM payments),"
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
    overdue = "overdue share of invoices"
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
@pytest.mark.slow
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
