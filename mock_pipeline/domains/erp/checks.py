"""Every rule of catalog.md's erp section (and seed 001's behaviour), as SQL over the Parquet.

The SQL restates each rule from the specification rather than from the generator's arithmetic,
so a generator bug cannot hide behind itself. Braces are doubled where a regex needs them: the
SQL goes through str.format with `params`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mock_pipeline.domains.erp import data
from mock_pipeline.domains.erp.model import ErpModel
from mock_pipeline.domains.erp.tables import ENTITY_TYPES, MOVEMENT_TYPES, TABLES
from mock_pipeline.domains.erp.world import DUE_SHARE_FLOOR, PAYMENT_TERMS, ROLE_SHARES, ROLES
from mock_pipeline.domains.factory import ReportLine
from mock_pipeline.scenarios.model import ANOMALY_LABELS
from mock_pipeline.validation import Rule, in_window, key_rules, months_balanced, row_rule, unique_key

TOLERANCE_PP = 3.0
# Every anomaly has shown (and so is labelled) this many days after the order: the longest is a
# payment delay, seen once the invoice (up to ~25 days after the order) is past its terms (up to 60 days).
ANOMALY_VISIBLE_DAYS = 90
RESERVED_EMAIL = r"'^[a-z0-9._+-]+@([a-z0-9-]+\.)*(example\.(com|org|net)|[a-z0-9-]+\.(example|test))$'"
MOBILE = r"'\+201[0125][0-9]{{8}}'"
LANDLINE = r"'\+20(2[0-9]{{8}}|3[0-9]{{7}}|[1-9][0-9][0-9]{{7}})'"
LABELS = "('payment_delay', 'delivery_delay', 'delivery_failure', 'cancellation', 'stockout')"


def _trend_ratio(weights: np.ndarray) -> float:
    third = max(1, len(weights) // 3)
    return float(weights[-third:].sum() / weights[:third].sum())


def params(model: ErpModel) -> dict[str, Any]:
    days = model.window.days
    third = max(1, days // 3)
    return {
        "start": f"to_timestamp({model.start})",
        "end": f"to_timestamp({model.end})",
        "end_day": model.end // 86_400,
        "anomaly_rate": model.scenario.profile.anomaly_rate,
        "tolerance": TOLERANCE_PP / 100.0,
        "overdue_share": model.scenario.profile.overdue_share,
        "payment_delay_days": model.scenario.profile.payment_delay_days,
        "branch_ratio": model.branch_ratio,
        "expected_orders": model.expected_orders,
        "expected_trend": _trend_ratio(model.order_rate * model.order_weights),
        "third_start": f"to_timestamp({model.start + third * 86_400})",
        "third_end": f"to_timestamp({model.start + (days - third) * 86_400})",
        "expected_visits": model.expected_first_visits,
    }


def sql_values(rows: list[tuple[Any, ...]]) -> str:
    """Rows as a SQL VALUES list (strings quoted)."""

    def lit(v: Any) -> str:
        return f"'{v}'" if isinstance(v, str) else str(v)

    return ", ".join("(" + ", ".join(lit(v) for v in row) + ")" for row in rows)


def _region_day(region: str, day: str) -> str:
    """SQL: `day` (a date or timestamp) is a delivery day of `region` (a column)."""
    cases = " ".join(
        f"WHEN '{r}' THEN isodow({day}) IN ({', '.join(map(str, data.REGION_ISO_DAYS[r]))})" for r in data.REGIONS
    )
    return f"(CASE {region} {cases} ELSE false END)"


_ROLE_SHARES = sql_values([(r, s) for r, s in zip(ROLES, ROLE_SHARES, strict=True)])
_GOVERNORATE_REGION = sql_values([(g[0], g[2]) for g in data.GOVERNORATES])
_DISTRICTS = sql_values([(g[0], d) for g in data.GOVERNORATES for d in g[3]])
_TERMS = ", ".join(map(str, PAYMENT_TERMS))
_HISTORY_PATHS = ", ".join(
    f"'{p}'"
    for p in (
        "pending", "pending>confirmed", "pending>confirmed>shipped", "pending>confirmed>shipped>delivered",
        "pending>confirmed>shipped>delivery_failed", "pending>cancelled", "pending>confirmed>cancelled",
    )
)  # fmt: skip
_AUDITED = {  # entity type: (table, key, creation time)
    "company": ("companies", "company_id", "created_at"),
    "branch": ("branches", "branch_id", "created_at"),
    "product": ("products", "product_id", "created_at"),
    "order": ("orders", "order_id", "created_at"),
    "discount": ("discounts", "discount_id", "created_at"),
    "shipment": ("shipments", "shipment_id", "created_at"),
    "payment": ("payments", "payment_id", "created_at"),
    "refund": ("refunds", "refund_id", "created_at"),
    "inventory_movement": ("inventory_movements", "inventory_movement_id", "moved_at"),
    "maintenance_visit": ("maintenance_visits", "maintenance_visit_id", "created_at"),
}
assert set(_AUDITED) == set(ENTITY_TYPES)
_ENTITIES = " UNION ALL ".join(
    f"SELECT '{kind}' AS entity_type, {key} AS entity_id, {created} AS created_at FROM {table}"
    for kind, (table, key, created) in _AUDITED.items()
)
_ACTIONS_BY_ENTITY = sql_values(
    [("company", "create"), ("product", "create"), ("order", "create"), ("order", "confirm"), ("order", "cancel"),
     ("shipment", "dispatch"), ("payment", "record_payment"), ("refund", "request_refund"),
     ("refund", "approve_refund"), ("refund", "reject_refund"), ("maintenance_visit", "complete_visit"),
     ("branch", "open_branch"), ("discount", "grant_discount"), ("inventory_movement", "receive_stock"),
     ("inventory_movement", "adjust_stock")]
)  # fmt: skip
_CENTS = "CAST(round({0} * 100) AS BIGINT)"
# The ledger rows of a stockout (they name the stockout order's item): the backorder at zero stock (no units
# move), the receipt of the missing units, and a count to zero where deliveries had not emptied the shelf.
_BACKORDER = "order backordered: no stock on hand"
_BACKORDER_REASONS = ", ".join(
    repr(r)
    for r in (_BACKORDER, "backorder received from the roaster", "count before the backorder found the shelf empty")
)
# Calendar days as epoch day numbers (independent of the session's time zone).
_DUE_DAY = "(due_date - DATE '1970-01-01')"
_PAID_DAY = "(CAST(epoch(paid_at) AS BIGINT) // 86400)"
_SETTLED_DAY = f"coalesce({_PAID_DAY}, " + "{end_day})"


def cents(column: str) -> str:
    return _CENTS.format(column)


RULES: tuple[Rule, ...] = (
    *key_rules(TABLES),
    # users -----------------------------------------------------------------------------------------
    row_rule("users", "role_known", "role is admin, manager, sales or support.",
          f"role NOT IN ({', '.join(repr(r) for r in ROLES)})"),
    Rule("users", "role_mix", "Roles are admin 5%, manager 15%, sales 50%, support 30% within ±3 pp (with few users:"
         " within rounding of the exact shares), and every role is present.",
         f"WITH e AS (SELECT * FROM (VALUES {_ROLE_SHARES}) v(role, share)),"
         " r AS (SELECT role, count(*) AS n FROM users GROUP BY role), t AS (SELECT count(*) AS total FROM users)"
         " SELECT count(*) FILTER (WHERE r.n IS NULL OR (abs(r.n / t.total - e.share) > {tolerance}"
         " AND abs(r.n - e.share * t.total) >= 2)) AS violations,"
         " string_agg(e.role || '=' || coalesce(r.n, 0), ', ' ORDER BY e.role) AS counts"
         " FROM e LEFT JOIN r USING (role), t"),
    row_rule("users", "email_on_reserved_domain", "Staff e-mails use RFC 2606 reserved domains only.",
          f"NOT regexp_full_match(email, {RESERVED_EMAIL})"),
    unique_key("users", "email"),
    row_rule("users", "phone_egyptian_mobile", "Phones are Egyptian mobiles: +20 1[0125] and 8 digits.",
          f"NOT regexp_full_match(phone, {MOBILE})"),
    row_rule("users", "created_before_last_login", "created_at <= last_login_at.", "NOT (created_at <= last_login_at)"),
    in_window("users", "created_at", "last_login_at"),
    # companies -------------------------------------------------------------------------------------
    row_rule("companies", "tax_number_format", "tax_number is 9 digits formatted ###-###-###.",
          "NOT regexp_full_match(tax_number, '[1-9][0-9]{{2}}-[0-9]{{3}}-[0-9]{{3}}')"),
    unique_key("companies", "tax_number"),
    row_rule("companies", "payment_terms_and_credit", f"payment_terms_days is one of {_TERMS}; credit_limit > 0;"
          " bulk payers have terms of at least 30 days.",
          f"payment_terms_days NOT IN ({_TERMS}) OR credit_limit <= 0 OR (bulk_payer AND payment_terms_days < 30)"),
    Rule("companies", "region_follows_governorate",
         "governorate and district are Egyptian; delivery_region (A or B) and its delivery days follow the governorate.",
         f"WITH g AS (SELECT * FROM (VALUES {_GOVERNORATE_REGION}) v(governorate, region)),"
         f" d AS (SELECT * FROM (VALUES {_DISTRICTS}) v(governorate, district))"
         " SELECT count(*) AS violations FROM companies c LEFT JOIN g USING (governorate)"
         " LEFT JOIN d ON d.governorate = c.governorate AND d.district = c.district"
         " WHERE g.region IS DISTINCT FROM c.delivery_region OR d.district IS NULL"
         " OR c.delivery_days <> CASE c.delivery_region WHEN 'A' THEN 'Tue,Thu,Sun' ELSE 'Mon,Wed,Sat' END"),
    Rule("companies", "account_manager_is_sales", "account_manager_id is a user with role sales, created earlier.",
         "SELECT count(*) AS violations FROM companies c JOIN users u ON u.user_id = c.account_manager_id"
         " WHERE u.role <> 'sales' OR u.created_at > c.created_at"),
    row_rule("companies", "contact_formats", "Landline +20 area code and number, contact mobile +20 1x, e-mail on a"
          " reserved domain.",
          f"NOT regexp_full_match(phone, {LANDLINE}) OR NOT regexp_full_match(contact_mobile, {MOBILE})"
          f" OR NOT regexp_full_match(email, {RESERVED_EMAIL})"),
    in_window("companies", "created_at"),
    months_balanced("companies", "created_at", "client sign-ons"),
    # branches --------------------------------------------------------------------------------------
    Rule("branches", "branch_ratio", "The share of companies with branches is the profile's branch_ratio (exactly,"
         " up to rounding to whole companies).",
         "SELECT CASE WHEN abs((SELECT count(DISTINCT company_id) FROM branches)"
         " - {branch_ratio} * (SELECT count(*) FROM companies)) > 0.5 THEN 1 ELSE 0 END AS violations,"
         " (SELECT count(DISTINCT company_id) FROM branches) AS companies_with_branches"),
    Rule("branches", "opened_after_company", "A branch opens after its company was created.",
         "SELECT count(*) AS violations FROM branches b JOIN companies c USING (company_id) WHERE b.created_at < c.created_at"),
    row_rule("branches", "phone_format", "Landline numbers with an Egyptian area code.",
          f"NOT regexp_full_match(phone, {LANDLINE})"),
    in_window("branches", "created_at"),
    # products --------------------------------------------------------------------------------------
    row_rule("products", "price_and_cost", "unit_price > 0, 0 < unit_cost < unit_price, prices in EGP.",
          "unit_price <= 0 OR unit_cost <= 0 OR unit_cost >= unit_price OR currency <> 'EGP'"),
    row_rule("products", "sku_format", "sku is SF-, a 3-letter category code and 5 digits.",
          "NOT regexp_full_match(sku, 'SF-[A-Z]{{3}}-[0-9]{{5}}')"),
    unique_key("products", "sku"),
    row_rule("products", "category_known", "category is one of the coffee and beverage categories.",
          f"category NOT IN ({', '.join(repr(c[0]) for c in data.PRODUCT_CATEGORIES)})"),
    in_window("products", "created_at"),
    months_balanced("products", "created_at", "listings"),
    # orders ----------------------------------------------------------------------------------------
    row_rule("orders", "status_known", "status is one of the order lifecycle states.",
          "status NOT IN ('pending', 'confirmed', 'shipped', 'delivered', 'delivery_failed', 'cancelled')"),
    row_rule("orders", "anomaly_labels_known", "Every anomaly label is one the profiles inject.",
          f"anomaly IS NOT NULL AND anomaly NOT IN {LABELS}"),
    Rule("orders", "anomaly_rate_matches_profile",
         "The share of labelled orders is at most the profile's anomaly rate (+3 pp), and not far below it among"
         f" orders placed at least {ANOMALY_VISIBLE_DAYS} days before the window's end (an anomaly is labelled"
         " once it shows); each bound is checked on at least 1,000 orders.",
         "SELECT CASE WHEN count(*) < 1000 THEN 0 WHEN avg((anomaly IS NOT NULL)::INT) > {anomaly_rate} + {tolerance}"
         " THEN 1 WHEN count(*) FILTER (WHERE shown) >= 1000 AND avg((anomaly IS NOT NULL)::INT) FILTER (WHERE shown)"
         " < 0.5 * {anomaly_rate} - {tolerance} THEN 1 ELSE 0 END AS violations,"
         " avg((anomaly IS NOT NULL)::INT) AS observed_rate, {anomaly_rate} AS profile_rate FROM"
         f" (SELECT anomaly, order_date <= {{end}} - INTERVAL {ANOMALY_VISIBLE_DAYS} DAY AS shown FROM orders)"),
    Rule("orders", "daily_volume_follows_engine",
         "The order count is the time-series engine's expectation (profile volume x weekday x season x trend)"
         " within Poisson noise, and the last third of the window over the first third follows the profile's trend.",
         "WITH s AS (SELECT count(*) AS n, count(*) FILTER (WHERE order_date < {third_start}) AS early,"
         " count(*) FILTER (WHERE order_date >= {third_end}) AS late FROM orders)"
         " SELECT ((abs(n - {expected_orders}) > 4 * sqrt({expected_orders}) + 1)::INT"
         " + (early >= 300 AND abs(late / early - {expected_trend}) > 0.1 * {expected_trend})::INT) AS violations,"
         " n AS orders, {expected_orders} AS expected, late / nullif(early, 0) AS trend_ratio,"
         " {expected_trend} AS expected_trend FROM s"),
    Rule("orders", "sales_rep_is_sales_user", "sales_rep_id is a user with role sales.",
         "SELECT count(*) AS violations FROM orders o JOIN users u ON u.user_id = o.sales_rep_id WHERE u.role <> 'sales'"),
    Rule("orders", "branch_of_order_company", "A branch, when set, belongs to the order's company and was open.",
         "SELECT count(*) AS violations FROM orders o JOIN branches b USING (branch_id)"
         " WHERE b.company_id <> o.company_id OR b.created_at > o.order_date"),
    Rule("orders", "after_company_created_region_matches", "An order is placed after its company was created and"
         " is delivered in the company's region.",
         "SELECT count(*) AS violations FROM orders o JOIN companies c USING (company_id)"
         " WHERE o.order_date < c.created_at OR o.delivery_region <> c.delivery_region"),
    row_rule("orders", "scheduled_on_region_day",
          "scheduled_delivery_date is the first delivery day of the company's region at least two days after ordering.",
          f"NOT {_region_day('delivery_region', 'scheduled_delivery_date')}"
          " OR scheduled_delivery_date < order_date::DATE + 2 OR scheduled_delivery_date > order_date::DATE + 4"),
    row_rule("orders", "totals", "total = subtotal - discount + tax; tax is 14% VAT on the discounted subtotal.",
          f"total_amount <> subtotal - discount_amount + tax OR discount_amount < 0 OR discount_amount > subtotal"
          f" OR {cents('tax')} <> ({cents('subtotal')} - {cents('discount_amount')}) * 14 // 100 OR currency <> 'EGP'"),
    row_rule("orders", "event_times_match_status", "delivered_at is set only on delivered orders, cancelled_at only on"
          " cancelled ones; created_at <= updated_at.",
          "(status = 'delivered') <> (delivered_at IS NOT NULL) OR (status = 'cancelled') <> (cancelled_at IS NOT NULL)"
          " OR NOT (created_at <= updated_at) OR delivered_at < order_date OR cancelled_at < order_date"),
    in_window("orders", "order_date", "delivered_at", "cancelled_at", "updated_at"),
    months_balanced("orders", "order_date", "orders"),
    # order items -----------------------------------------------------------------------------------
    row_rule("order_items", "quantity_and_line_total",
          "quantity >= 1; line_total = quantity x unit_price - discount_amount; 0 <= discount < gross.",
          "quantity < 1 OR line_total <> quantity * unit_price - discount_amount OR discount_amount < 0"
          " OR discount_amount >= quantity * unit_price"),
    Rule("order_items", "price_and_product_existed", "unit_price is the product's list price and the product existed"
         " at the order date.",
         "SELECT count(*) AS violations FROM order_items i JOIN products p USING (product_id) JOIN orders o USING (order_id)"
         " WHERE i.unit_price <> p.unit_price OR p.created_at > o.order_date OR i.created_at <> o.order_date"),
    Rule("order_items", "subtotal_is_sum_of_lines", "orders.subtotal is the sum of its line totals; item_count its lines.",
         "SELECT count(*) AS violations FROM orders o LEFT JOIN (SELECT order_id, sum(line_total) AS s, count(*) AS n"
         " FROM order_items GROUP BY order_id) i USING (order_id)"
         " WHERE o.subtotal IS DISTINCT FROM i.s OR o.item_count IS DISTINCT FROM i.n"),
    Rule("order_items", "zipf_top_20_percent",
         "Product popularity is Zipf: the top 20% of products take between 70% and 90% of the units ordered.",
         "WITH u AS (SELECT p.product_id, coalesce(sum(i.quantity), 0) AS units FROM products p"
         " LEFT JOIN order_items i USING (product_id) GROUP BY p.product_id),"
         " r AS (SELECT units, row_number() OVER (ORDER BY units DESC, product_id) AS rank FROM u)"
         " SELECT CASE WHEN sum(units) < 1000 THEN 0 WHEN share < 0.7 OR share > 0.9 THEN 1 ELSE 0 END AS violations,"
         " share AS top_20_share FROM (SELECT sum(units) FILTER (WHERE rank <= ceil(0.2 * (SELECT count(*) FROM u)))"
         " / nullif(sum(units), 0) AS share, sum(units) AS units FROM r) GROUP BY share"),
    # discounts -------------------------------------------------------------------------------------
    row_rule("discounts", "level_shape", "discount_level is order (no order_item_id) or item (with one); 1-50 percent.",
          "discount_level NOT IN ('order', 'item') OR (discount_level = 'order') <> (order_item_id IS NULL)"
          " OR percent NOT BETWEEN 1 AND 50 OR amount < 0"),
    Rule("discounts", "never_order_and_item_level", "No item carries an item-level discount while its order has an"
         " order-level one; at most one discount per item and one order-level discount per order.",
         "SELECT (SELECT count(*) FROM discounts i JOIN discounts o ON o.order_id = i.order_id"
         " AND o.discount_level = 'order' WHERE i.discount_level = 'item')"
         " + (SELECT count(*) - count(DISTINCT order_item_id) FROM discounts WHERE discount_level = 'item')"
         " + (SELECT count(*) - count(DISTINCT order_id) FROM discounts WHERE discount_level = 'order') AS violations"),
    Rule("discounts", "amounts_match_orders_and_items",
         "An item-level discount is its item's discount_amount (percent of the gross line) on an item of that order;"
         " an order-level one is the order's discount_amount (percent of the subtotal); no discount goes unrecorded.",
         "SELECT (SELECT count(*) FROM discounts d LEFT JOIN order_items i USING (order_item_id)"
         f" WHERE d.discount_level = 'item' AND (i.order_id IS DISTINCT FROM d.order_id"
         f" OR d.amount <> i.discount_amount OR {cents('d.amount')} <> {cents('i.quantity * i.unit_price')} * d.percent // 100))"
         " + (SELECT count(*) FROM discounts d JOIN orders o USING (order_id) WHERE d.discount_level = 'order'"
         f" AND (d.amount <> o.discount_amount OR {cents('d.amount')} <> {cents('o.subtotal')} * d.percent // 100))"
         " + (SELECT count(*) FROM orders o WHERE o.discount_amount > 0 AND NOT EXISTS (SELECT 1 FROM discounts d"
         " WHERE d.order_id = o.order_id AND d.discount_level = 'order'))"
         " + (SELECT count(*) FROM order_items i WHERE i.discount_amount > 0 AND NOT EXISTS (SELECT 1 FROM discounts d"
         " WHERE d.order_item_id = i.order_item_id)) AS violations"),
    in_window("discounts", "created_at"),
    # order status history --------------------------------------------------------------------------
    Rule("order_status_history", "chronological_and_consistent",
         "Each order's history starts pending at the order date, follows the lifecycle in strictly increasing time"
         " and ends in the order's current status.",
         "WITH h AS (SELECT order_id, string_agg(status, '>' ORDER BY changed_at, order_status_history_id) AS path,"
         " min(changed_at) AS first_at, arg_max(status, changed_at) AS last_status,"
         " count(*) - count(DISTINCT changed_at) AS ties FROM order_status_history GROUP BY order_id)"
         " SELECT count(*) AS violations FROM orders o LEFT JOIN h USING (order_id)"
         f" WHERE h.path IS NULL OR h.path NOT IN ({_HISTORY_PATHS}) OR h.first_at <> o.order_date"
         " OR h.last_status <> o.status OR h.ties > 0"),
    in_window("order_status_history", "changed_at"),
    # shipments and attempts ------------------------------------------------------------------------
    Rule("shipments", "one_per_shipped_order", "Exactly the shipped, delivered and failed orders have a shipment.",
         "SELECT count(*) AS violations FROM orders o FULL JOIN shipments s USING (order_id)"
         " WHERE (o.status IN ('shipped', 'delivered', 'delivery_failed')) IS DISTINCT FROM (s.shipment_id IS NOT NULL)"),
    Rule("shipments", "times_and_status", "Shipped after the order was placed; delivered after shipped, on a delivery"
         " day of the region, at the order's delivered_at; status matches the order's.",
         "SELECT count(*) AS violations FROM shipments s JOIN orders o USING (order_id)"
         " WHERE s.shipped_at <= o.order_date OR s.delivered_at <= s.shipped_at"
         " OR s.delivered_at IS DISTINCT FROM o.delivered_at OR s.scheduled_delivery_date <> o.scheduled_delivery_date"
         f" OR (s.delivered_at IS NOT NULL AND NOT {_region_day('o.delivery_region', 's.delivered_at')})"
         " OR s.status <> CASE o.status WHEN 'delivered' THEN 'delivered' WHEN 'delivery_failed' THEN 'failed'"
         " ELSE 'in_transit' END"),
    row_rule("shipments", "late_deliveries_labelled", "A delivery after the scheduled date is labelled (delivery_delay,"
          " stockout or delivery_failure); an unlabelled one arrives on the scheduled date.",
          "(delivered_at::DATE > scheduled_delivery_date AND anomaly IS NULL)"
          " OR (delivered_at::DATE < scheduled_delivery_date)"
          " OR (anomaly IS NOT NULL AND anomaly NOT IN ('delivery_delay', 'delivery_failure', 'stockout'))"),
    in_window("shipments", "shipped_at", "delivered_at"),
    Rule("delivery_attempts", "attempts_ordered_and_counted",
         "Attempts are numbered 1..n in time order after shipping, n = attempt_count; only the last can succeed and"
         " it does exactly when the shipment is delivered, at delivered_at.",
         "WITH a AS (SELECT shipment_id, count(*) AS n, max(attempt_number) AS top,"
         " count(*) FILTER (WHERE outcome = 'delivered') AS ok, max(attempted_at) FILTER (WHERE outcome = 'delivered') AS ok_at,"
         " arg_max(outcome, attempt_number) AS last_outcome, min(attempted_at) AS first_at,"
         " bool_and(ordered) AS ordered FROM (SELECT *, attempted_at > coalesce(lag(attempted_at) OVER"
         " (PARTITION BY shipment_id ORDER BY attempt_number), to_timestamp(0)) AS ordered FROM delivery_attempts)"
         " GROUP BY shipment_id)"
         " SELECT count(*) AS violations FROM shipments s LEFT JOIN a USING (shipment_id)"
         " WHERE coalesce(a.n, 0) <> s.attempt_count OR a.top <> a.n OR NOT a.ordered OR a.first_at <= s.shipped_at"
         " OR a.ok > 1 OR (a.ok = 1 AND a.last_outcome <> 'delivered')"
         " OR (s.status = 'delivered') <> (coalesce(a.ok, 0) = 1) OR a.ok_at IS DISTINCT FROM s.delivered_at"
         " OR (s.status = 'failed' AND a.n <> 3)"),
    Rule("delivery_attempts", "failures_have_reasons_and_labels",
         "A failed attempt has a failure reason (and only it does); every failure is on a shipment labelled"
         " delivery_failure, whose last failure reason it reports; attempts fall on the region's delivery days.",
         "SELECT count(*) AS violations FROM delivery_attempts a JOIN shipments s USING (shipment_id)"
         " JOIN orders o USING (order_id)"
         " WHERE (a.outcome = 'failed') <> (a.failure_reason IS NOT NULL) OR a.outcome NOT IN ('failed', 'delivered')"
         f" OR a.failure_reason NOT IN ({', '.join(repr(r) for r in data.FAILURE_REASONS)})"
         " OR (a.outcome = 'failed' AND s.anomaly IS DISTINCT FROM 'delivery_failure')"
         f" OR NOT {_region_day('o.delivery_region', 'a.attempted_at')}"
         " OR (a.outcome = 'failed' AND a.attempt_number = (SELECT max(x.attempt_number) FROM delivery_attempts x"
         " WHERE x.shipment_id = a.shipment_id AND x.outcome = 'failed') AND a.failure_reason <> s.last_failure_reason)"),
    in_window("delivery_attempts", "attempted_at"),
    # payments --------------------------------------------------------------------------------------
    Rule("payments", "one_per_delivered_order", "Every delivered order is invoiced once, at delivery, for its total.",
         "SELECT count(*) AS violations FROM orders o FULL JOIN payments p USING (order_id)"
         " WHERE (o.status = 'delivered') IS DISTINCT FROM (p.payment_id IS NOT NULL)"
         " OR p.amount <> o.total_amount OR p.company_id <> o.company_id OR p.invoice_date <> o.delivered_at"),
    Rule("payments", "due_date_from_terms", "due_date = invoice date + the company's payment terms.",
         "SELECT count(*) AS violations FROM payments p JOIN companies c USING (company_id)"
         " WHERE p.payment_terms_days <> c.payment_terms_days"
         " OR p.due_date <> (p.invoice_date + to_days(CAST(p.payment_terms_days AS INTEGER)))::DATE"),
    row_rule("payments", "status_follows_times",
          "paid: paid by the end of the due date; paid_late: after it; overdue: unpaid past the due date at the end"
          " of the window; pending: unpaid and not yet due; refunded / partially_refunded: an approved refund of all"
          " or part of a paid invoice. days_late counts the days past due; a late payment is labelled payment_delay"
          " (the only label a payment carries); a paid invoice records its collection attempts, and a retried one"
          " why the last attempt failed.",
          f"paid_at < invoice_date OR (paid_at IS NULL) <> (status IN ('overdue', 'pending'))"
          f" OR (status = 'paid') <> ({_PAID_DAY} <= {_DUE_DAY} AND refunded_amount = 0)"
          f" OR (status = 'paid_late') <> ({_PAID_DAY} > {_DUE_DAY} AND refunded_amount = 0)"
          f" OR (status = 'overdue') <> (paid_at IS NULL AND {_DUE_DAY} < {{end_day}})"
          f" OR (status = 'pending') <> (paid_at IS NULL AND {_DUE_DAY} >= {{end_day}})"
          " OR (status = 'refunded') <> (refunded_amount > 0 AND refunded_amount = amount)"
          " OR (status = 'partially_refunded') <> (refunded_amount > 0 AND refunded_amount < amount)"
          f" OR days_late IS DISTINCT FROM (CASE WHEN {_SETTLED_DAY} > {_DUE_DAY} THEN {_SETTLED_DAY} - {_DUE_DAY} END)"
          f" OR ({_PAID_DAY} > {_DUE_DAY} AND anomaly IS DISTINCT FROM 'payment_delay')"
          f" OR (anomaly IS NOT NULL AND (anomaly <> 'payment_delay' OR NOT {_SETTLED_DAY} > {_DUE_DAY}))"
          " OR (paid_at IS NULL) <> (transfer_reference IS NULL) OR (paid_at IS NULL) <> (collection_attempts = 0)"
          " OR (collection_attempts > 1) <> (last_failure_reason IS NOT NULL) OR collection_attempts > 3"
          " OR (method = 'cash' AND collection_attempts > 1)"),
    Rule("payments", "overdue_share_matches_profile",
         "The profile's overdue share of all invoices (payment-crisis 30%) is unpaid past its due date, within"
         f" ±3 pp; on a window so short that under {DUE_SHARE_FLOOR:.0%} of the invoices are due, that share"
         " shrinks with the due ones.",
         f"WITH d AS (SELECT status = 'overdue' AS overdue, {_DUE_DAY} < {{end_day}} AS due FROM payments),"
         " e AS (SELECT avg(overdue::INT) AS observed,"
         f" {{overdue_share}} * least(1, avg(due::INT) / {DUE_SHARE_FLOOR}) AS expected,"
         " count(*) AS invoices, count(*) FILTER (WHERE due) AS due_invoices FROM d)"
         " SELECT CASE WHEN invoices < 1000 THEN 0 WHEN abs(observed - expected) > {tolerance} THEN 1 ELSE 0 END"
         " AS violations, observed AS observed_share, expected AS expected_share, {overdue_share} AS profile_share,"
         " invoices, due_invoices FROM e"),
    Rule("payments", "outcomes_vary",
         "Payment statuses reflect outcomes, not one status for all: with 1,000 invoices or more, some are paid on"
         " time, some were collected only after a failed attempt, and no single status holds 95% of them.",
         "SELECT CASE WHEN count(*) < 1000 THEN 0 ELSE (count(*) FILTER (WHERE status = 'paid') = 0)::INT"
         " + (count(*) FILTER (WHERE collection_attempts > 1) = 0)::INT"
         " + ((SELECT max(n) FROM (SELECT count(*) AS n FROM payments GROUP BY status)) > 0.95 * count(*))::INT END"
         " AS violations, count(*) FILTER (WHERE collection_attempts > 1) AS retried FROM payments"),
    Rule("refunds", "refunded_amount_is_approved_refunds",
         "refunded_amount is the sum of the invoice's approved refunds: requested or rejected refunds refund nothing.",
         "SELECT count(*) AS violations FROM payments p LEFT JOIN (SELECT payment_id, sum(amount) AS approved"
         " FROM refunds WHERE status = 'approved' GROUP BY payment_id) r USING (payment_id)"
         " WHERE p.refunded_amount <> coalesce(r.approved, 0)"),
    Rule("payments", "timing_follows_profile",
         "On-time single payments arrive after a delay drawn with the profile's mean (payment_delay_days), capped at"
         " the terms: the observed mean delay is within 15% of mean x (1 - exp(-terms / mean)). Only invoices due"
         " before the window's end count (a short window would otherwise see only the quick payers), on 300 of them.",
         "WITH t AS (SELECT date_diff('second', invoice_date, paid_at) / 86400.0 AS days,"
         " {payment_delay_days} * (1 - exp(-payment_terms_days / {payment_delay_days})) AS expected FROM payments"
         " WHERE status = 'paid' AND settlement = 'single' AND payment_terms_days > 0"
         " AND date_trunc('day', invoice_date) + to_days(CAST(payment_terms_days AS INTEGER) + 1) <= {end})"
         " SELECT CASE WHEN count(*) < 300 THEN 0 WHEN abs(avg(days) - avg(expected)) > 0.15 * avg(expected) THEN 1"
         " ELSE 0 END AS violations, avg(days) AS mean_delay_days, avg(expected) AS expected_days FROM t"),
    Rule("payments", "bulk_transfers_consistent",
         "A bulk transfer settles invoices of one bulk-paying company at one time, on time; a single transfer"
         " settles one invoice.",
         "WITH t AS (SELECT transfer_reference, count(*) AS n, count(DISTINCT company_id) AS companies,"
         " count(DISTINCT paid_at) AS times, min(settlement) AS lo, max(settlement) AS hi FROM payments"
         " WHERE transfer_reference IS NOT NULL GROUP BY transfer_reference)"
         " SELECT (SELECT count(*) FROM t WHERE companies > 1 OR times > 1 OR lo <> hi OR (lo = 'single' AND n > 1))"
         " + (SELECT count(*) FROM payments p JOIN companies c USING (company_id) WHERE p.settlement = 'bulk'"
         " AND (NOT c.bulk_payer OR p.status NOT IN ('paid', 'refunded', 'partially_refunded')"
         " OR p.method <> 'bank_transfer')) AS violations,"
         " (SELECT count(*) FROM t WHERE lo = 'bulk' AND n > 1) AS multi_invoice_transfers"),
    in_window("payments", "invoice_date", "paid_at"),
    # refunds ---------------------------------------------------------------------------------------
    Rule("refunds", "amount_within_paid", "0 < amount <= the amount paid; requested after the payment.",
         "SELECT count(*) AS violations FROM refunds r JOIN payments p USING (payment_id)"
         " WHERE r.amount <= 0 OR r.amount > p.amount OR p.paid_at IS NULL OR r.requested_at <= p.paid_at"
         " OR r.order_id <> p.order_id"),
    row_rule("refunds", "approval_workflow", "status is requested, approved or rejected; a rejection has a reason (and"
          " nothing else does); a decision has a decider and a time after the request.",
          "status NOT IN ('requested', 'approved', 'rejected') OR (status = 'rejected') <> (rejection_reason IS NOT NULL)"
          " OR (status = 'requested') <> (decided_at IS NULL) OR (decided_at IS NULL) <> (decided_by_user_id IS NULL)"
          " OR decided_at <= requested_at"),
    Rule("refunds", "people_have_roles", "Requests are raised by support; decisions are taken by a manager or admin.",
         "SELECT count(*) AS violations FROM refunds r JOIN users q ON q.user_id = r.requested_by_user_id"
         " LEFT JOIN users d ON d.user_id = r.decided_by_user_id WHERE q.role <> 'support' OR d.role NOT IN ('manager', 'admin')"),
    in_window("refunds", "requested_at", "decided_at"),
    # inventory -------------------------------------------------------------------------------------
    row_rule("inventory_movements", "type_and_sign",
          f"movement_type is one of {', '.join(MOVEMENT_TYPES)}; restocks and returns add stock, fulfilments remove it;"
          " only a stockout's backorder moves no units; fulfilments, returns and a stockout's backorder, receipt and"
          " count reference an order item, weekly restocks"
          " and counts do not.",
          f"movement_type NOT IN ({', '.join(repr(t) for t in MOVEMENT_TYPES)})"
          " OR (movement_type IN ('restock', 'return') AND quantity_change <= 0)"
          f" OR (movement_type = 'fulfillment' AND quantity_change >= 0) OR (quantity_change = 0) <> (reason = '{_BACKORDER}')"
          f" OR (movement_type IN ('fulfillment', 'return') OR reason IN ({_BACKORDER_REASONS}))"
          " <> (order_item_id IS NOT NULL)"),
    Rule("inventory_movements", "fulfilments_match_order_items",
         "A fulfilment moves its order item's product and quantity when the shipment leaves; a return brings it back"
         " later; every shipped item is fulfilled exactly once (stock leaving equals the units of the shipped orders'"
         " items, per product).",
         "SELECT (SELECT count(*) FROM inventory_movements m JOIN order_items i USING (order_item_id)"
         " JOIN orders o ON o.order_id = i.order_id LEFT JOIN shipments s ON s.order_id = i.order_id"
         " WHERE m.movement_type IN ('fulfillment', 'return') AND (m.product_id <> i.product_id"
         " OR abs(m.quantity_change) <> i.quantity OR s.shipment_id IS NULL"
         " OR (m.movement_type = 'fulfillment' AND m.moved_at <> s.shipped_at)"
         " OR (m.movement_type = 'return' AND m.moved_at <= s.shipped_at) OR m.anomaly IS NOT NULL))"
         " + (SELECT count(*) FROM order_items i JOIN shipments s USING (order_id) LEFT JOIN (SELECT order_item_id,"
         " count(*) AS n FROM inventory_movements WHERE movement_type = 'fulfillment' GROUP BY order_item_id) f"
         " USING (order_item_id) WHERE f.n IS DISTINCT FROM 1) AS violations"),
    Rule("inventory_movements", "returns_follow_failed_deliveries_and_refunds",
         "Goods come back only from a failed delivery or an approved refund that took the goods back, after it was"
         " decided; every item of such a refund comes back once.",
         "WITH r AS (SELECT m.order_item_id, m.moved_at, o.status, f.decided_at, f.goods_returned"
         " FROM inventory_movements m JOIN order_items i USING (order_item_id) JOIN orders o ON o.order_id = i.order_id"
         " LEFT JOIN refunds f ON f.order_id = i.order_id AND f.status = 'approved' WHERE m.movement_type = 'return')"
         " SELECT (SELECT count(*) FROM r WHERE NOT (status = 'delivery_failed'"
         " OR (coalesce(goods_returned, false) AND moved_at > decided_at)))"
         " + (SELECT count(*) FROM refunds f JOIN order_items i USING (order_id) LEFT JOIN (SELECT order_item_id,"
         " count(*) AS n FROM inventory_movements WHERE movement_type = 'return' GROUP BY order_item_id) x"
         " USING (order_item_id) WHERE f.goods_returned AND (f.status <> 'approved' OR x.n IS DISTINCT FROM 1))"
         " AS violations"),
    Rule("inventory_movements", "stockout_at_zero_stock",
         "A stockout happens when the product's stock is at zero: each shipped stockout order has exactly one"
         " movement labelled stockout, on its item's product, leaving the stock at 0, before the item ships and"
         " followed by the backorder receipt; no other movement carries the label.",
         "SELECT (SELECT count(*) FROM inventory_movements m LEFT JOIN order_items i USING (order_item_id)"
         " LEFT JOIN orders o ON o.order_id = i.order_id LEFT JOIN shipments s ON s.order_id = i.order_id"
         " WHERE m.anomaly IS NOT NULL AND (m.anomaly <> 'stockout' OR m.resulting_level <> 0"
         " OR o.anomaly IS DISTINCT FROM 'stockout' OR m.product_id <> i.product_id OR m.moved_at > s.shipped_at))"
         " + (SELECT count(*) FROM orders o JOIN shipments s USING (order_id) LEFT JOIN (SELECT i.order_id,"
         " count(*) AS n FROM inventory_movements m JOIN order_items i USING (order_item_id)"
         " WHERE m.anomaly = 'stockout' GROUP BY i.order_id) x USING (order_id)"
         " WHERE o.anomaly = 'stockout' AND x.n IS DISTINCT FROM 1) AS violations"),
    Rule("inventory_movements", "stockout_where_deliveries_emptied_the_shelf",
         "A stockout is the backorder of an order placed while the shelf was really empty: it moves no units, the"
         " product's ledger before it already stands at 0 (deliveries consumed the stock before the replenishment"
         " arrived), it is not before the order was placed, and the next movement brings stock (the backorder"
         " receipt) or is another backorder at the same empty shelf.",
         "WITH l AS (SELECT *, lag(resulting_level) OVER w AS level_before, lead(quantity_change) OVER w AS next_qty,"
         " lead(reason) OVER w AS next_reason FROM inventory_movements"
         " WINDOW w AS (PARTITION BY product_id ORDER BY moved_at, inventory_movement_id))"
         " SELECT count(*) AS violations FROM l LEFT JOIN order_items i USING (order_item_id)"
         " LEFT JOIN orders o ON o.order_id = i.order_id WHERE l.anomaly = 'stockout' AND (l.quantity_change <> 0"
         f" OR l.level_before IS DISTINCT FROM 0 OR o.order_date IS NULL OR l.moved_at < o.order_date"
         f" OR NOT coalesce(l.next_qty > 0 OR l.next_reason = '{_BACKORDER}', false))"),
    Rule("inventory_movements", "resulting_level_is_running_sum",
         "resulting_level is the running sum of quantity_change per product in ledger order (time, then key).",
         "SELECT count(*) AS violations FROM (SELECT resulting_level, sum(quantity_change) OVER (PARTITION BY"
         " product_id ORDER BY moved_at, inventory_movement_id ROWS UNBOUNDED PRECEDING) AS running"
         " FROM inventory_movements) WHERE resulting_level <> running"),
    Rule("inventory_movements", "stock_never_negative",
         "The running stock of every product (movements in time order) never drops below zero, and nothing moves"
         " before the product exists.",
         "SELECT count(*) FILTER (WHERE level < 0) + count(*) FILTER (WHERE moved_at < created_at) AS violations,"
         " min(level) AS lowest_level FROM (SELECT m.moved_at, p.created_at, sum(m.quantity_change) OVER"
         " (PARTITION BY m.product_id ORDER BY m.moved_at, m.inventory_movement_id ROWS UNBOUNDED PRECEDING) AS level"
         " FROM inventory_movements m JOIN products p USING (product_id))"),
    in_window("inventory_movements", "moved_at"),
    # maintenance visits ----------------------------------------------------------------------------
    Rule("maintenance_visits", "follow_ups_reference_earlier_visit",
         "A follow-up references an earlier visit of the same company.",
         "SELECT count(*) AS violations FROM maintenance_visits f JOIN maintenance_visits e"
         " ON e.maintenance_visit_id = f.follow_up_of_visit_id"
         " WHERE e.company_id <> f.company_id OR e.visited_at >= f.visited_at"),
    Rule("maintenance_visits", "technician_and_company", "The technician is a support user; the visit is after the"
         " company was created and booked no later than it happens.",
         "SELECT count(*) AS violations FROM maintenance_visits v JOIN users u ON u.user_id = v.technician_id"
         " JOIN companies c USING (company_id) WHERE u.role <> 'support' OR v.visited_at < c.created_at"
         " OR v.created_at > v.visited_at OR v.created_at < c.created_at"),
    row_rule("maintenance_visits", "services_parts_and_costs",
          "services is a non-empty JSON array; spare_parts a JSON array of {part, quantity, unit_cost} whose sum is"
          " parts_cost; total_cost = parts_cost + labor_cost.",
          "json_array_length(services) < 1 OR total_cost <> parts_cost + labor_cost OR labor_cost <= 0"
          " OR parts_cost <> coalesce(list_sum(list_transform(json_extract(spare_parts, '$[*]'),"
          " lambda x: CAST(json_extract(x, '$.quantity') AS BIGINT) * CAST(json_extract(x, '$.unit_cost') AS BIGINT))), 0)"
          f" OR visit_type NOT IN ({', '.join(repr(t) for t in (*data.VISIT_TYPES, 'follow_up'))})"
          " OR (visit_type = 'follow_up') <> (follow_up_of_visit_id IS NOT NULL)"),
    Rule("maintenance_visits", "weekly_rate_follows_profile",
         "First visits (not follow-ups) match the profile's visits per week within Poisson noise.",
         "SELECT (abs(count(*) - {expected_visits}) > 4 * sqrt({expected_visits}) + 1)::INT AS violations,"
         " count(*) AS first_visits, {expected_visits} AS expected FROM maintenance_visits"
         " WHERE follow_up_of_visit_id IS NULL"),
    in_window("maintenance_visits", "visited_at", "created_at"),
    # audit logs ------------------------------------------------------------------------------------
    Rule("audit_logs", "entity_exists_and_precedes",
         "user_id, entity type and entity id exist; the action fits the entity type; it happened after the entity"
         " was created and after the user's account was.",
         f"WITH e AS ({_ENTITIES}), k AS (SELECT * FROM (VALUES {_ACTIONS_BY_ENTITY}) v(entity_type, action))"
         " SELECT count(*) AS violations FROM audit_logs a LEFT JOIN e USING (entity_type, entity_id)"
         " LEFT JOIN k USING (entity_type, action) JOIN users u USING (user_id)"
         " WHERE e.entity_id IS NULL OR k.action IS NULL OR a.occurred_at < e.created_at OR a.occurred_at < u.created_at"),
    in_window("audit_logs", "occurred_at"),
)  # fmt: skip


def report(model: ErpModel) -> list[ReportLine]:
    """The scenario report's lines: what the run's profile asked for against what came out."""
    profile = model.scenario.profile
    weights = np.asarray(profile.mix_weights(), dtype=float)
    shares = profile.anomaly_rate * weights / weights.sum() if weights.sum() > 0 else np.zeros(len(weights))
    days = model.window.days
    p = params(model)
    lines = [
        ReportLine("orders per day (entity_rates.orders_per_day x multiplier x order_volume)", model.order_rate,
                   f"SELECT count(*) / {days} AS observed FROM orders"),
        ReportLine("orders (time-series engine expectation)", model.expected_orders,
                   "SELECT count(*) AS observed FROM orders"),
        ReportLine("trend: orders in the last third / first third of the window", p["expected_trend"],
                   "SELECT count(*) FILTER (WHERE order_date >= {third_end})"
                   " / greatest(count(*) FILTER (WHERE order_date < {third_start}), 1) AS observed FROM orders"),
        ReportLine("companies", float(model.companies), "SELECT count(*) AS observed FROM companies"),
        ReportLine("anomaly share of orders", profile.anomaly_rate,
                   "SELECT count(anomaly) / count(*) AS observed FROM orders"),
        *(ReportLine(f"{label} share of orders", float(share),
                     f"SELECT count(*) FILTER (WHERE anomaly = '{label}') / count(*) AS observed FROM orders")
          for label, share in zip(ANOMALY_LABELS, shares, strict=True)),
        ReportLine("overdue share of invoices", profile.overdue_share,
                   "SELECT avg((status = 'overdue')::INT) AS observed FROM payments"),
        ReportLine("cancelled share of orders", float(shares[ANOMALY_LABELS.index("cancellation")]),
                   "SELECT avg((status = 'cancelled')::INT) AS observed FROM orders"),
        ReportLine("stock-outs: backordered fulfilments", None,
                   "SELECT count(*) FILTER (WHERE anomaly = 'stockout') AS observed FROM inventory_movements"),
        ReportLine("mean days to pay on time (payment_delay_days, capped at the terms)", profile.payment_delay_days,
                   "SELECT avg(date_diff('second', invoice_date, paid_at) / 86400.0) AS observed FROM payments"
                   " WHERE status = 'paid' AND settlement = 'single' AND payment_terms_days > 0"),
        ReportLine("mean days late of payment_delay invoices", None,
                   "SELECT avg(days_late) AS observed FROM payments WHERE anomaly = 'payment_delay'"),
        ReportLine("max month share of orders", 0.35 if days >= 180 else 0.5,
                   "SELECT max(n) / sum(n) AS observed FROM (SELECT count(*) AS n FROM orders"
                   " GROUP BY date_trunc('month', order_date))"),
    ]  # fmt: skip
    return lines
