"""ERP rules bite: each rule fails on data corrupted in the one way it guards against."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from mock_pipeline.domains.erp.model import ErpModel
from mock_pipeline_tests.erp_support import RULES, outcome, profile_datasets
from mock_pipeline_tests.helpers import corrupt_with_sql


@pytest.fixture(scope="module")
def datasets(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], tuple[Path, ErpModel]]:
    """Each profile's dataset on the same seed, generated once per module on first use."""
    return profile_datasets(tmp_path_factory)


CORRUPTIONS = [
    ("users", "SELECT * REPLACE ('sales' AS role) FROM users", "role_mix"),
    ("users", "SELECT * REPLACE (CASE WHEN user_id = 3 THEN 'ahmed@gmail.com' ELSE email END AS email) FROM users",
     "email_on_reserved_domain"),
    ("companies", "SELECT * REPLACE (replace(tax_number, '-', '') AS tax_number) FROM companies", "tax_number_format"),
    ("companies", "SELECT * REPLACE (CASE WHEN governorate = 'Alexandria' THEN 'A' ELSE delivery_region END"
     " AS delivery_region) FROM companies", "region_follows_governorate"),
    ("companies", "SELECT * REPLACE (TIMESTAMPTZ '2024-01-01 00:45:00+00' AS created_at) FROM companies",
     "months_balanced"),
    ("products", "SELECT * REPLACE (TIMESTAMPTZ '2024-01-01 00:45:00+00' AS created_at) FROM products",
     "months_balanced"),
    ("branches", "SELECT * FROM branches WHERE company_id % 2 = 0", "branch_ratio"),
    ("orders", "SELECT * REPLACE ((SELECT min(user_id) FROM users WHERE role = 'support') AS sales_rep_id) FROM orders",
     "sales_rep_is_sales_user"),
    ("orders", "SELECT * REPLACE (CASE WHEN branch_id IS NOT NULL THEN (SELECT max(branch_id) FROM branches)"
     " ELSE NULL END AS branch_id) FROM orders", "branch_of_order_company"),
    ("orders", "SELECT * REPLACE (scheduled_delivery_date + 1 AS scheduled_delivery_date) FROM orders",
     "scheduled_on_region_day"),
    ("orders", "SELECT * FROM orders WHERE order_id % 3 <> 0", "daily_volume_follows_engine"),
    ("orders", "SELECT * FROM orders WHERE month(order_date) = 3 OR order_id % 10 = 0", "months_balanced"),
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
    # a stockout arises from the stock plan: the backorder sits where deliveries really emptied the shelf
    ("inventory_movements", "SELECT * REPLACE (CASE WHEN anomaly = 'stockout' THEN moved_at - INTERVAL 2 DAY"
     " ELSE moved_at END AS moved_at) FROM inventory_movements", "stockout_where_deliveries_emptied_the_shelf"),
    ("inventory_movements", "SELECT * REPLACE (CASE WHEN reason = 'backorder received from the roaster' THEN"
     " 'stockout' WHEN anomaly = 'stockout' THEN NULL ELSE anomaly END AS anomaly) FROM inventory_movements",
     "stockout_where_deliveries_emptied_the_shelf"),
    # the old shape: the shelf still held stock when the order was backordered
    ("inventory_movements", "SELECT * REPLACE (CASE WHEN lead(anomaly) OVER (PARTITION BY product_id ORDER BY"
     " moved_at, inventory_movement_id) = 'stockout' THEN resulting_level + 5 ELSE resulting_level END"
     " AS resulting_level) FROM inventory_movements", "stockout_where_deliveries_emptied_the_shelf"),
    # one locale per dataset: a German contact or a British courier beside Egyptian addresses and phones
    ("companies", "SELECT * REPLACE (CASE WHEN company_id = 1 THEN 'Hans Müller' ELSE contact_name END"
     " AS contact_name) FROM companies", "shipments.one_locale_per_dataset"),
    ("users", "SELECT * REPLACE (CASE WHEN user_id = 2 THEN 'Emma' ELSE first_name END AS first_name) FROM users",
     "shipments.one_locale_per_dataset"),
    ("shipments", "SELECT * REPLACE (CASE WHEN shipment_id % 50 = 0 THEN 'Royal Mail' ELSE carrier END AS carrier)"
     " FROM shipments", "one_locale_per_dataset"),
]  # fmt: skip


@pytest.mark.parametrize(("table", "select", "rule"), CORRUPTIONS, ids=[f"{t}.{r}" for t, _, r in CORRUPTIONS])
def test_rules_fail_on_corrupted_data(datasets, tmp_path: Path, table: str, select: str, rule: str) -> None:
    dataset, model = datasets("normal-ops")
    # "table.rule" names a rule of another table that reads the corrupted one
    owner, name = rule.split(".") if "." in rule else (table, rule)
    assert outcome(dataset, RULES[(owner, name)], model)["passed"]
    broken = corrupt_with_sql(dataset, tmp_path, table, select)
    result = outcome(broken, RULES[(owner, name)], model)
    assert not result["passed"] and result["violations"] > 0, result


def test_overdue_share_rule_bites_on_payment_crisis_too(datasets, tmp_path: Path) -> None:
    """The 30% of payment-crisis is checked against the profile: normal-ops' 5% would fail it."""
    crisis, crisis_model = datasets("payment-crisis")
    normal, _ = datasets("normal-ops")
    rule = RULES[("payments", "overdue_share_matches_profile")]
    assert outcome(crisis, rule, crisis_model)["passed"]
    assert not outcome(normal, rule, crisis_model)["passed"]
