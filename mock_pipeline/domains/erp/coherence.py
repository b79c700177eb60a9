"""The erp rules of catalog.md's "Coherence" section: one world per dataset, as SQL over the Parquet.

Labels are decided once, on the order, and every row that shows them agrees with it; text says what
its row's data says (a technician's note, a refund's rejection); volumes follow the calendar. Like
checks.py, the SQL restates the rule rather than the generator's arithmetic.
"""

from __future__ import annotations

from mock_pipeline.domains.erp import data
from mock_pipeline.domains.erp.checks import sql_values
from mock_pipeline.validation import Rule, row_rule, unique_key


def _label_is_the_orders(table: str, join: str, allowed: tuple[str, ...]) -> Rule:
    """Rows of `table` carry their order's anomaly label or none, and only labels this table can show."""
    labels = ", ".join(repr(a) for a in allowed)
    return Rule(
        table,
        "anomaly_is_the_orders",
        f"A {table} row's anomaly is its order's label or null, and only one of {labels}: the label is decided once,"
        " on the order.",
        f"SELECT count(*) AS violations FROM {table} t {join}"
        f" WHERE t.anomaly IS NOT NULL AND (t.anomaly IS DISTINCT FROM o.anomaly OR t.anomaly NOT IN ({labels}))",
    )


# One locale per dataset: Egypt's (seed 001). People bear Egyptian names like the addresses they live at, and
# parcels go with Egyptian couriers (or the distributor's own fleet).
_FIRST = ", ".join(repr(n) for n in data.FIRST_NAMES)
_LAST = ", ".join(repr(n) for n in data.LAST_NAMES)
_PERSON = f"(split_part({{0}}, ' ', 1) IN ({_FIRST}) AND substr({{0}}, strpos({{0}}, ' ') + 1) IN ({_LAST}))"
EGYPTIAN_CARRIERS = ("SynergyFlow Fleet", "Bosta", "Aramex", "Mylerz", "R2S")

_MONTHS = (
    "WITH m AS (SELECT date_trunc('month', {column}) AS month, count(*) AS n FROM {table} GROUP BY ALL),"
    " d AS (SELECT date_trunc('month', day) AS month, count(*) AS days FROM"
    " (SELECT unnest(generate_series(CAST({{start}} AS DATE), CAST({{end}} AS DATE) - 1, INTERVAL 1 DAY)) AS day)"
    " GROUP BY ALL),"
    " w AS (SELECT sum(days) AS window_days FROM d), t AS (SELECT sum(n) AS total FROM m)"
    # A month may hold more only where the window gives it more days (a window inside one month).
    " SELECT CASE WHEN t.total < 100 THEN 0 ELSE count(*) FILTER (WHERE m.n > t.total * greatest(CASE WHEN"
    " w.window_days >= 180 THEN 0.35 ELSE 0.5 END, 1.25 * coalesce(d.days, 0) / w.window_days + 0.05)) END"
    " AS violations, max(m.n / t.total) AS top_month_share FROM m LEFT JOIN d USING (month), w, t"
    " GROUP BY t.total, w.window_days"
)
_VISIT_OPENING = sql_values(
    [("preventive", "Scheduled preventive service."), ("repair", "Called out for a fault:"),
     ("installation", "Installed and commissioned the machine."), ("emergency", "Emergency call-out, machine down:"),
     ("inspection", "Routine inspection."), ("follow_up", "Follow-up of the earlier visit:")]
)  # fmt: skip
_PART_FINDING = sql_values(
    [(part, finding) for (part, _), finding in zip(data.SPARE_PARTS, data.PART_FINDINGS, strict=True)]
)
_LOREM = "'(?i)\\b(lorem|ipsum|dolor sit|consectetur|adipiscing)\\b'"

RULES: tuple[Rule, ...] = (
    _label_is_the_orders("shipments", "JOIN orders o USING (order_id)",
                         ("delivery_delay", "delivery_failure", "stockout")),
    _label_is_the_orders("payments", "JOIN orders o USING (order_id)", ("payment_delay",)),
    _label_is_the_orders("refunds", "JOIN orders o USING (order_id)", ("delivery_delay", "delivery_failure", "stockout")),
    _label_is_the_orders("inventory_movements",
                         "JOIN order_items i USING (order_item_id) JOIN orders o ON o.order_id = i.order_id",
                         ("stockout",)),
    Rule("payments", "labels_show_their_consequence",
         "Every label shows its consequence: a cancellation is a cancelled order with no shipment and no invoice (and"
         " every cancelled order is labelled so); an order labelled payment_delay was invoiced and its payment carries"
         " the label; a stockout or delivery_delay order was shipped.",
         "SELECT count(*) AS violations FROM orders o LEFT JOIN shipments s USING (order_id)"
         " LEFT JOIN payments p USING (order_id)"
         " WHERE ((o.anomaly = 'cancellation') <> (o.status = 'cancelled'))"
         " OR (o.anomaly = 'cancellation' AND (s.shipment_id IS NOT NULL OR p.payment_id IS NOT NULL))"
         " OR (o.anomaly = 'payment_delay' AND p.anomaly IS DISTINCT FROM 'payment_delay')"
         " OR (o.anomaly IN ('stockout', 'delivery_delay', 'delivery_failure') AND s.shipment_id IS NULL)"),
    Rule("payments", "payment_delay_paid_later",
         "Invoices labelled payment_delay are settled later than unlabelled ones: their mean days from invoice to"
         " payment (or to the end of the window, if unpaid) is larger.",
         "WITH d AS (SELECT anomaly, date_diff('second', invoice_date, coalesce(paid_at, {end})) / 86400.0 AS days"
         " FROM payments)"
         " SELECT CASE WHEN count(*) FILTER (WHERE anomaly = 'payment_delay') < 20 THEN 0"
         " WHEN avg(days) FILTER (WHERE anomaly = 'payment_delay') <= avg(days) FILTER (WHERE anomaly IS NULL)"
         " THEN 1 ELSE 0 END AS violations, avg(days) FILTER (WHERE anomaly = 'payment_delay') AS labelled_days,"
         " avg(days) FILTER (WHERE anomaly IS NULL) AS unlabelled_days FROM d"),
    Rule("delivery_attempts", "delivery_labels_show_their_consequence",
         "A delivery_failure order has a failed attempt; a delivery_delay or stockout order's first attempt is after"
         " its scheduled date (or has not happened yet); an unlabelled order's first attempt is on the scheduled date.",
         "SELECT count(*) AS violations FROM shipments s JOIN orders o USING (order_id) LEFT JOIN (SELECT shipment_id,"
         " min(attempted_at) AS first_at, count(*) FILTER (WHERE outcome = 'failed') AS failed FROM delivery_attempts"
         " GROUP BY shipment_id) a USING (shipment_id)"
         " WHERE (o.anomaly = 'delivery_failure' AND s.attempt_count > 0 AND coalesce(a.failed, 0) = 0)"
         " OR (o.anomaly IN ('delivery_delay', 'stockout')"
         " AND (CAST(epoch(a.first_at) AS BIGINT) // 86400) <= (s.scheduled_delivery_date - DATE '1970-01-01'))"
         " OR (o.anomaly IS NULL AND a.first_at IS NOT NULL"
         " AND (CAST(epoch(a.first_at) AS BIGINT) // 86400) <> (s.scheduled_delivery_date - DATE '1970-01-01'))"),
    Rule("refunds", "reason_is_the_orders_problem",
         "A refund claimed for a late delivery is on an order labelled delivery_delay or delivery_failure, one for"
         " backordered items on a stockout order; an order with such a label is refunded for that problem.",
         "SELECT count(*) AS violations FROM refunds r JOIN orders o USING (order_id)"
         " WHERE (r.reason = 'late delivery') <> coalesce(o.anomaly IN ('delivery_delay', 'delivery_failure'), false)"
         " OR (r.reason = 'backordered items arrived late') <> coalesce(o.anomaly = 'stockout', false)"
         " OR (r.status = 'rejected' AND r.reason = 'damaged goods'"
         "     AND r.rejection_reason NOT IN ('no proof of damage', 'outside refund window'))"),
    unique_key("companies", "name"),
    unique_key("products", "name"),
    Rule("discounts", "reason_fits_the_order",
         "A branch-opening discount is on an order from a branch opened in the 60 days before it (and such an"
         " order's discount says so); clearance is for an item, never a whole order.",
         "SELECT count(*) AS violations FROM discounts d JOIN orders o USING (order_id)"
         " LEFT JOIN branches b USING (branch_id)"
         " WHERE (d.reason = 'new branch opening') <> coalesce(o.order_date - b.created_at <= INTERVAL 60 DAY, false)"
         " OR (d.reason = 'clearance' AND d.discount_level = 'order')"),
    row_rule("users", "email_without_counter", "E-mail addresses hold no row counter (no digits in the local part).",
             "regexp_matches(split_part(email, '@', 1), '[0-9]')"),
    row_rule("companies", "email_without_counter", "E-mail addresses hold no row counter (no digits before the"
             " reserved top-level domain).", "regexp_matches(email, '[0-9]')"),
    Rule("audit_logs", "bookings_follow_the_fact",
         "A stock booking names the movement it books (receive_stock a restock, adjust_stock a count) within 15"
         " minutes after it moved; a payment is recorded within five hours after the money arrived.",
         "SELECT (SELECT count(*) FROM audit_logs a LEFT JOIN inventory_movements m ON m.inventory_movement_id"
         " = a.entity_id WHERE a.entity_type = 'inventory_movement' AND (m.movement_type IS DISTINCT FROM CASE"
         " a.action WHEN 'receive_stock' THEN 'restock' ELSE 'adjustment' END OR a.occurred_at < m.moved_at"
         " OR a.occurred_at > m.moved_at + INTERVAL 15 MINUTE))"
         " + (SELECT count(*) FROM audit_logs a LEFT JOIN payments p ON p.payment_id = a.entity_id"
         " WHERE a.entity_type = 'payment' AND (p.paid_at IS NULL OR a.occurred_at < p.paid_at"
         " OR a.occurred_at > p.paid_at + INTERVAL 5 HOUR)) AS violations"),
    Rule("orders", "orders_per_company_heavy_tailed",
         "Orders per company are heavy-tailed: the top 20% of companies place at least 40% of the orders.",
         "WITH c AS (SELECT c.company_id, count(o.order_id) AS n FROM companies c LEFT JOIN orders o USING (company_id)"
         " GROUP BY 1), r AS (SELECT n, row_number() OVER (ORDER BY n DESC, company_id) AS rk, count(*) OVER ()"
         " AS companies FROM c)"
         " SELECT CASE WHEN sum(n) < 1000 OR max(companies) < 10 THEN 0"
         " WHEN sum(n) FILTER (WHERE rk <= ceil(0.2 * companies)) < 0.4 * sum(n) THEN 1 ELSE 0 END AS violations,"
         " sum(n) FILTER (WHERE rk <= ceil(0.2 * companies)) / sum(n) AS top_20_share FROM r"),
    Rule("shipments", "one_locale_per_dataset",
         "One locale, Egypt's: staff, contacts and branch managers bear Egyptian names, like the Egyptian addresses,"
         " +20 phones and EGP amounts beside them; shipments go with Egyptian couriers.",
         f"SELECT (SELECT count(*) FROM users WHERE first_name NOT IN ({_FIRST}) OR last_name NOT IN ({_LAST}))"
         f" + (SELECT count(*) FROM companies WHERE NOT {_PERSON.format('contact_name')})"
         f" + (SELECT count(*) FROM branches WHERE NOT {_PERSON.format('manager_name')})"
         " + (SELECT count(*) FROM shipments WHERE carrier NOT IN"
         f" ({', '.join(repr(c) for c in EGYPTIAN_CARRIERS)})) AS violations"),
    Rule("orders", "no_month_dominates", "No calendar month holds more than 35% of the orders of a window of six"
         " months or more (half of a shorter one, unless the window gives that month most of its days).",
         _MONTHS.format(column="order_date", table="orders")),
    Rule("maintenance_visits", "notes_fit_the_visit",
         "A technician's note opens with its visit type's opening, names the finding the first spare part fitted"
         " answers, and lists the first service done (an installation's is installing the machine, and only an"
         " installation installs one); no lorem ipsum.",
         f"WITH o AS (SELECT * FROM (VALUES {_VISIT_OPENING}) v(visit_type, opening)),"
         f" f AS (SELECT * FROM (VALUES {_PART_FINDING}) v(part, finding))"
         " SELECT count(*) AS violations FROM maintenance_visits v JOIN o USING (visit_type)"
         " LEFT JOIN f ON f.part = json_extract_string(v.spare_parts, '$[0].part')"
         " WHERE NOT starts_with(v.notes, o.opening)"
         " OR (f.finding IS NOT NULL AND NOT contains(lower(v.notes), f.finding))"
         " OR NOT contains(v.notes, lower(json_extract_string(v.services, '$[0]')))"
         f" OR regexp_matches(v.notes, {_LOREM})"
         " OR (v.visit_type = 'installation') <> (json_extract_string(v.services, '$[0]') = 'Machine installation')"
         " OR (v.visit_type <> 'installation' AND contains(v.services, 'Machine installation'))"),
)  # fmt: skip
