"""Every rule of catalog.md's maintenance section (seed 000), as SQL over the generated Parquet."""

from __future__ import annotations

from typing import Any

from mock_pipeline.domains.maintenance.model import (
    DISPATCHER_ROLES,
    MAX_USERS,
    ROLES,
    STATUSES,
    TRANSITIONS,
    MaintenanceModel,
)
from mock_pipeline.domains.maintenance.tables import TABLES, XP_SOURCES
from mock_pipeline.validation import Rule, in_window, key_rules, row_rule, unique_key

# Shares are checked within this many percentage points once a table has 1,000 rows.
WINDOW = "the lookback window ending with the scenario's as_of"
TOLERANCE_PP = 3.0
RESERVED_EMAIL = r"'^[a-z0-9._+-]+@([a-z0-9-]+\.)*(example\.(com|org|net)|[a-z0-9-]+\.(example|test))$'"
UNIFORM_BINS = 10


def _sql_list(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


def params(model: MaintenanceModel) -> dict[str, Any]:
    ns = model.namespace
    return {
        "start": f"to_timestamp({model.start})",
        "end": f"to_timestamp({model.end})",
        "start_epoch": model.start,
        "end_epoch": model.end,
        "run_tag": f"'{ns.run_tag}'",  # normalised: [a-z0-9-] only, safe inside quotes
        "category_prefix": f"'{ns.category_prefix}'",
        "serial_prefix": f"'{ns.serial_prefix}'",
        "parts_per_item": model.parts_per_item,
        "users": model.users,
        "tolerance": TOLERANCE_PP / 100.0,
    }


ACTIVE = "status <> 'done'"
EXPECTED_PATH = (
    "'created' || CASE WHEN t.status = 'new' THEN '' ELSE ',assigned' END"
    " || CASE WHEN t.status IN ('in_progress', 'waiting_qc', 'done')"
    " THEN ',started' || repeat(',to_waiting_qc,qc_fail', t.qc_fail_count::INT) ELSE '' END"
    " || CASE WHEN t.status IN ('waiting_qc', 'done') THEN ',to_waiting_qc' ELSE '' END"
    " || CASE WHEN t.status = 'done' THEN ',qc_pass' ELSE '' END"
)

RULES: tuple[Rule, ...] = (
    *key_rules(TABLES),
    # users
    Rule("users", "at_most_ten", f"At most {MAX_USERS} mock users, whatever is asked.",
         f"SELECT greatest(count(*) - {MAX_USERS}, 0) + abs(count(*) - {{users}}) AS violations, count(*) AS rows"
         " FROM users"),
    Rule("users", "every_role_present", f"Roles {', '.join(ROLES)} are all present.",
         f"SELECT {len(ROLES)} - count(DISTINCT role) FILTER (WHERE role IN ({_sql_list(ROLES)})) AS violations"
         " FROM users"),
    row_rule("users", "role_known", "role is one of the five roles.", f"role NOT IN ({_sql_list(ROLES)})"),
    unique_key("users", "username"),
    row_rule("users", "email_on_reserved_domain", "E-mail addresses use RFC 2606 reserved domains only.",
          f"NOT regexp_full_match(email, {RESERVED_EMAIL})"),
    in_window("users", "created_at", window=WINDOW),
    # the run-scoped inventory and its catalogue
    Rule("inventories", "exactly_one_for_the_run", "One inventory, tagged with the normalised run tag.",
         "SELECT abs(count(*) - 1) + count(*) FILTER (WHERE run_tag <> {run_tag}) AS violations FROM inventories"),
    in_window("inventories", "created_at", window=WINDOW),
    row_rule("categories", "name_in_run_namespace", "Category names start with the run tag's namespace.",
          "NOT starts_with(name, {category_prefix})"),
    unique_key("categories", "name"),
    Rule("categories", "created_after_inventory", "Created inside the window, after the inventory.",
         "SELECT count(*) AS violations FROM categories c JOIN inventories i USING (inventory_id)"
         " WHERE c.created_at < i.created_at OR c.created_at >= {end}"),
    row_rule("items", "serial_in_run_namespace", "Serial numbers are the run tag's serial prefix and 8 digits.",
          "NOT starts_with(serial_number, {serial_prefix})"
          " OR NOT regexp_full_match(serial_number, '[a-z0-9-]+:SN-[0-9]{{8}}')"),
    unique_key("items", "serial_number"),
    Rule("items", "created_after_category", "Created inside the window, after its category.",
         "SELECT count(*) AS violations FROM items i JOIN categories c USING (category_id)"
         " WHERE i.created_at < c.created_at OR i.created_at >= {end}"),
    Rule("parts", "parts_per_item", "Every item has exactly parts_per_item parts.",
         "SELECT count(*) AS violations FROM items i LEFT JOIN (SELECT item_id, count(*) AS n FROM parts"
         " GROUP BY item_id) p USING (item_id) WHERE coalesce(p.n, 0) <> {parts_per_item}"),
    Rule("parts", "created_after_item", "A part is created with or after its item, inside the window.",
         "SELECT count(*) AS violations FROM parts p JOIN items i USING (item_id)"
         " WHERE p.created_at < i.created_at OR p.created_at >= {end}"),
    row_rule("parts", "cost_and_stock_valid", "unit_cost > 0 and quantity_in_stock >= 0.",
          "unit_cost <= 0 OR quantity_in_stock < 0"),
    # tickets
    row_rule("tickets", "status_known", "status and sampled_status are ticket statuses.",
          f"status NOT IN ({_sql_list(STATUSES)}) OR sampled_status NOT IN ({_sql_list(STATUSES)})"),
    Rule("tickets", "sampled_status_uniform",
         f"Statuses are sampled about uniformly: each of the {len(STATUSES)} within ±3 pp of its share.",
         f"WITH s(status) AS (VALUES {', '.join(f'({v!r})' for v in STATUSES)}),"
         " n AS (SELECT count(*) AS total FROM tickets),"
         " c AS (SELECT s.status, (SELECT count(*) FROM tickets t WHERE t.sampled_status = s.status) AS k FROM s)"
         f" SELECT count(*) FILTER (WHERE abs(k - total / {len(STATUSES)}) > greatest(1, {{tolerance}} * total))"
         f" AS violations, max(abs(k / total - 1 / {len(STATUSES)})) AS max_deviation FROM c, n"),
    row_rule("tickets", "only_fallback_to_done",
          "status is the sampled status, except active ones that fell back to done.",
          "fell_back_to_done <> (status <> sampled_status)"
          " OR (fell_back_to_done AND (status <> 'done' OR sampled_status = 'done'))"),
    Rule("tickets", "at_most_one_active_per_item", "At most one ticket per item is not done.",
         f"SELECT count(*) AS violations FROM (SELECT item_id FROM tickets WHERE {ACTIVE}"
         " GROUP BY item_id HAVING count(*) > 1)"),
    Rule("tickets", "fallback_only_when_item_busy",
         "A ticket falls back to done only when its item already has an active ticket.",
         "SELECT count(*) AS violations FROM tickets t WHERE t.fell_back_to_done AND NOT EXISTS"
         " (SELECT 1 FROM tickets a WHERE a.item_id = t.item_id AND a.status <> 'done')"),
    Rule("tickets", "created_uniform_over_lookback",
         f"created_at is uniform over the lookback window: each of {UNIFORM_BINS} equal bins holds 10% ±3 pp.",
         f"WITH b AS (SELECT floor((epoch(created_at) - {{start_epoch}}) * {UNIFORM_BINS}"
         " / ({end_epoch} - {start_epoch})) AS bin FROM tickets),"
         f" c AS (SELECT bin, count(*) / (SELECT count(*) FROM b) AS share FROM b GROUP BY bin)"
         f" SELECT CASE WHEN (SELECT count(*) FROM b) < 1000 THEN 0 ELSE {UNIFORM_BINS} - count(*) FILTER"
         f" (WHERE bin BETWEEN 0 AND {UNIFORM_BINS - 1} AND abs(share - 1 / {UNIFORM_BINS}) <= {{tolerance}}) END"
         f" AS violations, max(abs(share - 1 / {UNIFORM_BINS})) AS max_deviation FROM c"),
    row_rule("tickets", "lifecycle_timestamps_in_order",
          "created <= assigned <= started <= submitted for QC <= done <= updated, each set exactly when the"
          " status has passed that step.",
          "(assigned_at IS NULL) <> (status = 'new') OR (assigned_to_id IS NULL) <> (status = 'new')"
          " OR (started_at IS NULL) <> (status IN ('new', 'assigned'))"
          " OR (submitted_for_qc_at IS NULL) <> (status NOT IN ('waiting_qc', 'done'))"
          " OR (qc_inspector_id IS NULL) <> (status NOT IN ('waiting_qc', 'done') AND qc_fail_count = 0)"
          " OR (done_at IS NULL) <> (status <> 'done')"
          " OR assigned_at < created_at OR started_at < assigned_at OR submitted_for_qc_at < started_at"
          " OR done_at < submitted_for_qc_at"
          " OR updated_at < greatest(created_at, assigned_at, started_at, submitted_for_qc_at, done_at)"
          " OR qc_fail_count NOT BETWEEN 0 AND 2 OR (qc_fail_count > 0 AND status IN ('new', 'assigned'))"),
    in_window("tickets", "created_at", "assigned_at", "started_at", "submitted_for_qc_at", "done_at", "updated_at", window=WINDOW),
    Rule("tickets", "opened_after_item_created", "A ticket is never older than its item.",
         "SELECT count(*) AS violations FROM tickets t JOIN items i USING (item_id) WHERE t.created_at < i.created_at"),
    Rule("tickets", "people_have_the_right_roles",
         "Opened by a dispatcher, assigned to a technician, checked by a QC inspector.",
         "SELECT count(*) AS violations FROM tickets t JOIN users c ON c.user_id = t.created_by_id"
         " LEFT JOIN users a ON a.user_id = t.assigned_to_id LEFT JOIN users q ON q.user_id = t.qc_inspector_id"
         f" WHERE c.role NOT IN ({_sql_list(DISPATCHER_ROLES)}) OR a.role <> 'technician' OR q.role <> 'qc_inspector'"),
    # ticket transitions
    row_rule("ticket_transitions", "transition_known", "transition is one of seed 000's six.",
          f"transition NOT IN ({_sql_list(TRANSITIONS)})"),
    Rule("ticket_transitions", "consistent_with_final_status",
         "Per ticket: created, assigned, started, (to_waiting_qc, qc_fail) per failed round, to_waiting_qc,"
         " qc_pass, as far as its status reached; sequence numbers 1..n.",
         "WITH a AS (SELECT ticket_id, string_agg(transition, ',' ORDER BY sequence) AS path, count(*) AS n,"
         " max(sequence) AS last FROM ticket_transitions GROUP BY ticket_id)"
         " SELECT count(*) AS violations FROM tickets t LEFT JOIN a USING (ticket_id)"
         f" WHERE a.path IS DISTINCT FROM ({EXPECTED_PATH}) OR a.n <> a.last"),
    Rule("ticket_transitions", "in_time_order", "Per ticket, each transition is later than the one before.",
         "SELECT count(*) FILTER (WHERE created_at <= previous) AS violations FROM (SELECT created_at,"
         " lag(created_at) OVER (PARTITION BY ticket_id ORDER BY sequence) AS previous FROM ticket_transitions)"),
    Rule("ticket_transitions", "statuses_chain",
         "from_status is the previous transition's to_status (none for created); the last to_status is the"
         " ticket's status.",
         "WITH x AS (SELECT ticket_id, from_status, to_status, sequence,"
         " lag(to_status) OVER (PARTITION BY ticket_id ORDER BY sequence) AS previous,"
         " max(sequence) OVER (PARTITION BY ticket_id) AS last FROM ticket_transitions)"
         " SELECT count(*) AS violations FROM x JOIN tickets t USING (ticket_id)"
         " WHERE x.from_status IS DISTINCT FROM x.previous OR (x.sequence = x.last AND x.to_status <> t.status)"),
    Rule("ticket_transitions", "times_match_ticket",
         "created, first assigned, first started, last to_waiting_qc and qc_pass happen at the ticket's"
         " lifecycle timestamps; the last transition at updated_at.",
         "WITH a AS (SELECT ticket_id, min(created_at) FILTER (WHERE transition = 'created') AS created,"
         " min(created_at) FILTER (WHERE transition = 'assigned') AS assigned,"
         " min(created_at) FILTER (WHERE transition = 'started') AS started,"
         " max(created_at) FILTER (WHERE transition = 'to_waiting_qc') AS submitted,"
         " min(created_at) FILTER (WHERE transition = 'qc_pass') AS done, max(created_at) AS last"
         " FROM ticket_transitions GROUP BY ticket_id)"
         " SELECT count(*) AS violations FROM tickets t JOIN a USING (ticket_id)"
         " WHERE a.created <> t.created_at OR a.assigned IS DISTINCT FROM t.assigned_at"
         " OR a.started IS DISTINCT FROM t.started_at OR a.done IS DISTINCT FROM t.done_at"
         " OR (t.submitted_for_qc_at IS NOT NULL AND a.submitted <> t.submitted_for_qc_at)"
         " OR a.last <> t.updated_at"),
    Rule("ticket_transitions", "made_by_the_right_people",
         "Opened and assigned by the ticket's creator, worked by its technician, decided by its inspector.",
         "SELECT count(*) AS violations FROM ticket_transitions x JOIN tickets t USING (ticket_id)"
         " WHERE x.actor_id IS DISTINCT FROM CASE WHEN x.transition IN ('created', 'assigned') THEN t.created_by_id"
         " WHEN x.transition IN ('started', 'to_waiting_qc') THEN t.assigned_to_id ELSE t.qc_inspector_id END"),
    in_window("ticket_transitions", "created_at", window=WINDOW),
    # XP
    row_rule("xp_transactions", "source_and_amount_valid", "source is known and amount positive.",
          f"source NOT IN ({_sql_list(XP_SOURCES)}) OR amount <= 0"),
    Rule("xp_transactions", "base_xp_once_per_done_ticket",
         "Each done ticket gives its technician base XP once, at QC pass, by priority (10/20/35/50); other"
         " tickets none.",
         "WITH x AS (SELECT ticket_id, count(*) AS n, any_value(user_id) AS user_id, any_value(amount) AS amount,"
         " any_value(created_at) AS at FROM xp_transactions WHERE source = 'ticket_base' GROUP BY ticket_id)"
         " SELECT count(*) AS violations FROM tickets t LEFT JOIN x USING (ticket_id)"
         " WHERE coalesce(x.n, 0) <> (t.status = 'done')::INT OR x.user_id <> t.assigned_to_id"
         " OR x.at <> t.done_at OR x.amount <> CASE t.priority WHEN 'low' THEN 10 WHEN 'medium' THEN 20"
         " WHEN 'high' THEN 35 ELSE 50 END"),
    Rule("xp_transactions", "first_pass_bonus_only_without_qc_fail",
         "A first-pass bonus exactly for tickets that passed QC with no qc_fail transition.",
         "WITH b AS (SELECT ticket_id, count(*) AS n, any_value(user_id) AS user_id FROM xp_transactions"
         " WHERE source = 'first_pass_bonus' GROUP BY ticket_id),"
         " f AS (SELECT DISTINCT ticket_id FROM ticket_transitions WHERE transition = 'qc_fail'),"
         " p AS (SELECT DISTINCT ticket_id FROM ticket_transitions WHERE transition = 'qc_pass')"
         " SELECT count(*) AS violations FROM tickets t LEFT JOIN b USING (ticket_id)"
         " LEFT JOIN f ON f.ticket_id = t.ticket_id LEFT JOIN p ON p.ticket_id = t.ticket_id"
         " WHERE coalesce(b.n, 0) <> (p.ticket_id IS NOT NULL AND f.ticket_id IS NULL)::INT"
         " OR b.user_id <> t.assigned_to_id"),
    Rule("xp_transactions", "qc_events_match_qc_transitions",
         "One QC status-update XP event per qc_fail/qc_pass transition, to the deciding inspector at its time.",
         "SELECT count(*) AS violations FROM (SELECT * FROM ticket_transitions"
         " WHERE transition IN ('qc_fail', 'qc_pass')) q"
         " FULL JOIN (SELECT * FROM xp_transactions WHERE source = 'qc_status_update') x"
         " USING (ticket_transition_id)"
         " WHERE q.ticket_transition_id IS NULL OR x.xp_transaction_id IS NULL OR x.user_id <> q.actor_id"
         " OR x.created_at <> q.created_at OR x.ticket_id <> q.ticket_id"),
    Rule("xp_transactions", "awarded_at_its_transition",
         "Every XP row names a transition of its own ticket and happens at that transition's time.",
         "SELECT count(*) AS violations FROM xp_transactions x JOIN ticket_transitions q USING (ticket_transition_id)"
         " WHERE x.ticket_id <> q.ticket_id OR x.created_at <> q.created_at"
         " OR (x.source <> 'qc_status_update' AND q.transition <> 'qc_pass')"),
    in_window("xp_transactions", "created_at", window=WINDOW),
    # part specs
    Rule("ticket_part_specs", "part_of_ticket_item", "Every specified part belongs to the ticket's own item.",
         "SELECT count(*) AS violations FROM ticket_part_specs s JOIN tickets t USING (ticket_id)"
         " JOIN parts p USING (part_id) WHERE p.item_id <> t.item_id"),
    Rule("ticket_part_specs", "part_once_per_ticket", "A part is specified at most once per ticket.",
         "SELECT count(*) - count(DISTINCT (ticket_id, part_id)) AS violations FROM ticket_part_specs"),
    Rule("ticket_part_specs", "specified_when_opened", "quantity >= 1; specified when the ticket was opened.",
         "SELECT count(*) AS violations FROM ticket_part_specs s JOIN tickets t USING (ticket_id)"
         " WHERE s.quantity < 1 OR s.created_at < t.created_at OR s.created_at >= {end}"),
)  # fmt: skip
