"""Every rule of catalog.md's maintenance section (seed 000), as SQL over the generated Parquet."""

from __future__ import annotations

import itertools
from typing import Any

from mock_pipeline.domains.factory import ReportLine
from mock_pipeline.domains.maintenance.model import (
    ANOMALIES,
    DAY,
    DISPATCHER_ROLES,
    MAX_USERS,
    ROLES,
    STATUSES,
    TRANSITIONS,
    MaintenanceModel,
    trend_share,
)
from mock_pipeline.domains.maintenance.tables import TABLES, XP_SOURCES
from mock_pipeline.validation import Rule, in_window, key_rules, row_rule, unique_key

# Shares are checked within this many percentage points once a table has 1,000 rows.
WINDOW = "the lookback window ending with the scenario's as_of"
TOLERANCE_PP = 3.0
RESERVED_EMAIL = r"'^[a-z0-9._+-]+@([a-z0-9-]+\.)*(example\.(com|org|net)|[a-z0-9-]+\.(example|test))$'"
UNIFORM_BINS = 10
MIN_BIN_DAYS = 14
# Label shares are exact up to rounding (a keyed permutation decides them).
LABEL_TOLERANCE = 0.01
# Weekends are quieter: tickets per weekend day at most this share of tickets per weekday.
WEEKEND_MAX_RATIO = 0.75
MIN_ROWS = 1000  # shape rules need this many tickets
# A weekly rhythm needs weeks: with fewer days a window holds at most a weekend or two (none in
# a 1-day window), too few for a rate per weekend day.
RHYTHM_MIN_DAYS = 14
# Work waits for a part: a parts_delay ticket starts at least this many times later than others.
PARTS_DELAY_MIN_FACTOR = 3.0
MIN_LABELLED = 5
TREND_DAYS = 30  # the trend is first against last 30 days


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
        "tickets_asked": model.tickets,
        "trend": model.trend,
        "spread_bins": max(1, min(UNIFORM_BINS, model.lookback_days // MIN_BIN_DAYS)),
        "anomaly_rate": model.anomaly_rate,
        **{f"share_{label}": share for label, share in zip(ANOMALIES, model.anomaly_shares, strict=True)},
        **{
            f"cum_{label}": float(cum)
            for label, cum in zip(ANOMALIES, itertools.accumulate(model.anomaly_shares), strict=True)
        },
        "label_tolerance": LABEL_TOLERANCE,
        "max_month_share": max_month_share(model.lookback_days),
        "start_day": model.start // DAY,
        "end_day": model.end // DAY,
        "trend_seconds": min(TREND_DAYS * DAY, (model.end - model.start) // 2),
    }


def max_month_share(lookback_days: int) -> float:
    """catalog.md: no calendar month holds more than 35% of a history of six months or more, nor more
    than half of a shorter one (a history inside two months cannot spread: no limit)."""
    return 0.35 if lookback_days >= 183 else 0.5 if lookback_days >= 62 else 1.0


def expected_trend_ratio(model: MaintenanceModel) -> float:
    """Tickets of the last TREND_DAYS against the first, under the profile's linear trend."""
    f = min(TREND_DAYS * DAY, (model.end - model.start) // 2) / (model.end - model.start)
    return trend_share(1 - f, 1, model.trend) / trend_share(0, f, model.trend)


SUSPECTED_PART = "'Suspected part: ([^.]+)\\.'"
QC_LABELS = "('qc_failure', 'rework')"


def report(model: MaintenanceModel) -> list[ReportLine]:
    """Tickets asked vs generated, each label's share of worked tickets vs the profile's, the trend
    (last against first 30 days) and the status shares."""
    shares = dict(zip(ANOMALIES, model.anomaly_shares, strict=True))
    lines = [
        ReportLine(
            "tickets (asked: preset x order_volume)", float(model.tickets), "SELECT count(*) AS observed FROM tickets"
        ),
        ReportLine(
            "qc_fail share of tickets (qc_failure + rework)",
            shares["qc_failure"] + shares["rework"],
            f"SELECT count(*) FILTER (WHERE anomaly IN {QC_LABELS}) / count(*) AS observed FROM tickets",
        ),
        *(
            ReportLine(
                f"{label} share of tickets",
                shares[label],
                f"SELECT count(*) FILTER (WHERE anomaly = '{label}') / count(*) AS observed FROM tickets",
            )
            for label in ANOMALIES
        ),
        ReportLine(
            "anomaly share of tickets",
            model.anomaly_rate,
            "SELECT count(anomaly) / count(*) AS observed FROM tickets",
        ),
        ReportLine(
            f"trend: tickets of the last {TREND_DAYS} days / the first {TREND_DAYS}",
            expected_trend_ratio(model),
            "SELECT count(*) FILTER (WHERE epoch(created_at) >= {end_epoch} - {trend_seconds})"
            " / greatest(count(*) FILTER (WHERE epoch(created_at) < {start_epoch} + {trend_seconds}), 1)"
            " AS observed FROM tickets",
        ),
        *(
            ReportLine(
                f"status share: {status}",
                None,
                f"SELECT avg((status = '{status}')::INT) AS observed FROM tickets",
            )
            for status in STATUSES
        ),
    ]
    return lines


def weekday_rhythm(table: str, what: str) -> Rule:
    """Weekends are quieter: rows per weekend day at most WEEKEND_MAX_RATIO of rows per weekday."""
    return Rule(
        table,
        "weekday_rhythm",
        f"Weekends are quieter: {what} per weekend day at most {WEEKEND_MAX_RATIO:.0%} of those per weekday"
        f" (but not none); checked on a window of at least {RHYTHM_MIN_DAYS} days and {MIN_ROWS} rows.",
        "WITH d AS (SELECT ((r + 3) % 7 >= 5) AS weekend, count(*) AS days FROM range({start_day}, {end_day}) t(r)"
        " GROUP BY 1), k AS (SELECT ((epoch(created_at)::BIGINT // 86400 + 3) % 7 >= 5) AS weekend, count(*) AS n"
        f" FROM {table} GROUP BY 1), r AS (SELECT coalesce(max(k.n / d.days) FILTER (WHERE d.weekend), 0) AS we,"
        f" max(k.n / d.days) FILTER (WHERE NOT d.weekend) AS wd, (SELECT count(*) FROM {table}) AS total"
        " FROM d LEFT JOIN k USING (weekend))"
        f" SELECT CASE WHEN total < {MIN_ROWS} OR {{end_day}} - {{start_day}} < {RHYTHM_MIN_DAYS} THEN 0"
        " WHEN we IS NULL OR wd IS NULL THEN 0"
        f" WHEN we > {WEEKEND_MAX_RATIO} * wd OR we = 0 THEN 1 ELSE 0 END AS violations,"
        " we / wd AS weekend_to_weekday FROM r",
    )


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
    row_rule("users", "no_row_counter_in_logins", "Logins and e-mail addresses come from names, with no counter.",
          "regexp_matches(username || email, '[0-9]')"),
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
    unique_key("parts", "part_number"),
    Rule("items", "created_after_category", "Created inside the window, after its category.",
         "SELECT count(*) AS violations FROM items i JOIN categories c USING (category_id)"
         " WHERE i.created_at < c.created_at OR i.created_at >= {end}"),
    Rule("items", "registered_over_the_rollout",
         "Set-up is spread, not one batch: with 20 or more items, no hour holds more than half of them.",
         "WITH b AS (SELECT epoch(created_at)::BIGINT // 3600 AS hour, count(*) AS n FROM items GROUP BY 1)"
         " SELECT CASE WHEN sum(n) >= 20 AND max(n) > 0.5 * sum(n) THEN 1 ELSE 0 END AS violations,"
         " max(n) / sum(n) AS busiest_hour_share FROM b"),
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
    Rule("tickets", "created_spread_over_lookback",
         f"created_at is spread over the lookback window as the profile says: each of up to {UNIFORM_BINS} equal"
         f" bins of at least {MIN_BIN_DAYS} days (so that weekends average out) holds its share ±3 pp: equal shares"
         " without a trend, rising linearly with the profile's order_trend.",
         "WITH b AS (SELECT floor((epoch(created_at) - {start_epoch}) * {spread_bins}"
         " / ({end_epoch} - {start_epoch})) AS bin FROM tickets),"
         " e AS (SELECT bin, ((1.0 / {spread_bins}) + {trend} * (((bin + 1) / {spread_bins}) ^ 2"
         " - (bin / {spread_bins}) ^ 2) / 2) / (1 + {trend} / 2) AS expected FROM range({spread_bins}) r(bin)),"
         " c AS (SELECT e.bin, e.expected, count(b.bin) / (SELECT count(*) FROM b) AS share"
         " FROM e LEFT JOIN b ON b.bin = e.bin GROUP BY e.bin, e.expected)"
         f" SELECT CASE WHEN (SELECT count(*) FROM b) < {MIN_ROWS} THEN 0 ELSE"
         " count(*) FILTER (WHERE abs(share - expected) > {tolerance})"
         " + (SELECT count(*) FROM b WHERE bin NOT BETWEEN 0 AND {spread_bins} - 1) END"
         " AS violations, max(abs(share - expected)) AS max_deviation FROM c"),
    weekday_rhythm("tickets", "tickets are opened"),
    Rule("tickets", "no_month_dominates",
         "No calendar month holds more than 35% of a history of six months or more (half of a shorter one).",
         "WITH m AS (SELECT strftime(make_timestamp(epoch_us(created_at)), '%Y-%m') AS month, count(*) AS n"
         " FROM tickets GROUP BY 1)"
         " SELECT count(*) FILTER (WHERE n > {max_month_share} * (SELECT sum(n) FROM m)) AS violations,"
         " max(n) / sum(n) AS top_month_share FROM m"),
    Rule("tickets", "volume_matches_profile",
         "As many tickets as the preset asks, times the profile's order_volume.",
         "SELECT abs(count(*) - {tickets_asked}) AS violations, count(*) AS rows FROM tickets"),
    Rule("tickets", "anomaly_share_matches_profile",
         "Each label's share of all tickets is the profile's (anomaly_rate split over qc_failure, rework and"
         " parts_delay), within 1 pp; only worked tickets (started at least once) are labelled, so the labels are"
         " capped at their number.",
         "WITH n AS (SELECT count(*) AS total, count(*) FILTER (WHERE started_at IS NOT NULL) AS worked FROM tickets),"
         " s(label, lo, hi) AS (VALUES ('qc_failure', 0, {cum_qc_failure}), ('rework', {cum_qc_failure},"
         " {cum_rework}), ('parts_delay', {cum_rework}, {cum_parts_delay})),"
         " c AS (SELECT s.label, least(floor(s.hi * n.total), n.worked) - least(floor(s.lo * n.total), n.worked)"
         " AS expected, (SELECT count(*) FROM tickets t WHERE t.anomaly = s.label) AS k, n.total FROM s, n)"
         " SELECT count(*) FILTER (WHERE abs(k - expected) > greatest(2, {label_tolerance} * total))"
         " + (SELECT count(*) FROM tickets WHERE started_at IS NULL AND anomaly IS NOT NULL) AS violations,"
         " max(abs(k - expected) / total) AS max_deviation FROM c"),
    Rule("tickets", "parts_delay_waits_for_the_part",
         f"parts_delay tickets start at least {PARTS_DELAY_MIN_FACTOR:g}x later after assignment than unlabelled"
         " ones on average (the awaited part is checked on ticket_part_specs).",
         "WITH w AS (SELECT anomaly, epoch(started_at) - epoch(assigned_at) AS wait FROM tickets"
         " WHERE started_at IS NOT NULL),"
         " a AS (SELECT avg(wait) FILTER (WHERE anomaly = 'parts_delay') AS held, avg(wait) FILTER"
         " (WHERE anomaly IS NULL) AS normal, count(*) FILTER (WHERE anomaly = 'parts_delay') AS n FROM w)"
         f" SELECT CASE WHEN n >= {MIN_LABELLED} AND held < {PARTS_DELAY_MIN_FACTOR} * normal THEN 1 ELSE 0 END"
         " AS violations, held / normal AS wait_factor FROM a"),
    Rule("tickets", "text_fits_the_ticket",
         "The title names the ticket's item; the description names the item and a suspected part, and speaks of"
         " the ticket's anomaly (and of none when it has none). That the part is the item's: ticket_part_specs.",
         "SELECT count(*) AS violations FROM tickets t JOIN items i USING (item_id)"
         " WHERE NOT starts_with(t.title, i.name || ': ') OR NOT contains(t.description, i.name)"
         f" OR coalesce(regexp_extract(t.description, {SUSPECTED_PART}, 1), '') = ''"
         " OR contains(t.description, 'rejected the first repair once') <> (t.anomaly IS NOT DISTINCT FROM"
         " 'qc_failure') OR contains(t.description, 'rejected the repair twice') <> (t.anomaly IS NOT DISTINCT"
         " FROM 'rework') OR contains(t.description, 'held until the part arrived') <> (t.anomaly IS NOT"
         " DISTINCT FROM 'parts_delay')"),
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
    weekday_rhythm("ticket_transitions", "transitions (work and QC decisions)"),
    weekday_rhythm("xp_transactions", "XP awards"),
    Rule("ticket_transitions", "anomaly_matches_qc_history",
         "The label is the ticket's QC history: qc_failure has exactly one qc_fail transition, rework two,"
         " parts_delay and unlabelled tickets none.",
         "WITH f AS (SELECT ticket_id, count(*) FILTER (WHERE transition = 'qc_fail') AS fails"
         " FROM ticket_transitions GROUP BY ticket_id)"
         " SELECT count(*) AS violations FROM tickets t LEFT JOIN f USING (ticket_id)"
         f" WHERE (t.anomaly IS NOT NULL AND t.anomaly NOT IN ({_sql_list(ANOMALIES)}))"
         " OR coalesce(f.fails, 0) <> CASE t.anomaly WHEN 'qc_failure' THEN 1 WHEN 'rework' THEN 2 ELSE 0 END"
         " OR t.qc_fail_count <> coalesce(f.fails, 0)"),
    Rule("ticket_transitions", "anomaly_follows_ticket",
         "A transition carries its ticket's label exactly where the anomaly touched it: qc_fail transitions and"
         " the resubmissions after them (qc_failure, rework), the start of a parts_delay ticket; none elsewhere.",
         "WITH x AS (SELECT *, lag(transition) OVER (PARTITION BY ticket_id ORDER BY sequence) AS previous"
         " FROM ticket_transitions)"
         " SELECT count(*) AS violations FROM x JOIN tickets t USING (ticket_id)"
         " WHERE x.anomaly IS DISTINCT FROM CASE"
         f" WHEN t.anomaly IN {QC_LABELS} AND (x.transition = 'qc_fail'"
         " OR (x.transition = 'to_waiting_qc' AND x.previous = 'qc_fail')) THEN t.anomaly"
         " WHEN t.anomaly = 'parts_delay' AND x.transition = 'started' THEN t.anomaly END"),
    Rule("ticket_transitions", "notes_fit_the_transition",
         "Each note says what its transition did (opened, assigned, started, submitted, QC failed or passed);"
         " notes between opening and the QC pass name the ticket's suspected part, the pass names the item's kind,"
         " a QC failure gives the reason the ticket's description gives.",
         "SELECT count(*) AS violations FROM ticket_transitions x JOIN tickets t USING (ticket_id)"
         " WHERE NOT CASE x.transition"
         " WHEN 'created' THEN starts_with(x.note, 'Opened: ')"
         " WHEN 'assigned' THEN starts_with(x.note, 'Assigned for repair of the ')"
         " WHEN 'started' THEN starts_with(x.note, 'Work started ')"
         " WHEN 'to_waiting_qc' THEN ends_with(x.note, 'submitted for QC')"
         " WHEN 'qc_fail' THEN starts_with(x.note, 'QC failed: ')"
         " ELSE starts_with(x.note, 'QC passed: ') END"
         " OR (x.transition NOT IN ('created', 'qc_pass')"
         f" AND NOT contains(x.note, 'the ' || regexp_extract(t.description, {SUSPECTED_PART}, 1)))"
         " OR (x.transition = 'qc_pass' AND NOT starts_with(t.title, substr(x.note, 12, strlen(x.note) - 27)))"
         " OR (x.transition = 'qc_fail' AND NOT contains(t.description, substr(x.note, 12) || '.'))"),
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
    Rule("xp_transactions", "anomaly_follows_ticket",
         "A QC status update for a qc_fail decision carries its ticket's label; no other XP row carries one.",
         "SELECT count(*) AS violations FROM xp_transactions x JOIN tickets t USING (ticket_id)"
         " JOIN ticket_transitions q USING (ticket_transition_id)"
         " WHERE x.anomaly IS DISTINCT FROM CASE WHEN x.source = 'qc_status_update' AND q.transition = 'qc_fail'"
         " THEN t.anomaly END"),
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
    Rule("ticket_part_specs", "ticket_names_its_part",
         "A ticket with specified parts names its first specified part as the suspected one in its description.",
         "SELECT count(*) AS violations FROM (SELECT ticket_id, min(ticket_part_spec_id) AS first"
         " FROM ticket_part_specs GROUP BY ticket_id) f JOIN ticket_part_specs s ON s.ticket_part_spec_id = f.first"
         " JOIN parts p USING (part_id) JOIN tickets t ON t.ticket_id = s.ticket_id"
         f" WHERE regexp_extract(t.description, {SUSPECTED_PART}, 1) IS DISTINCT FROM p.name"),
    Rule("ticket_part_specs", "anomaly_follows_ticket",
         "Only a parts_delay ticket's awaited part carries a label (parts_delay), exactly one per such ticket.",
         "WITH l AS (SELECT ticket_id, count(*) AS n, count(*) FILTER (WHERE anomaly <> 'parts_delay') AS other"
         " FROM ticket_part_specs WHERE anomaly IS NOT NULL GROUP BY ticket_id)"
         " SELECT count(*) AS violations FROM tickets t LEFT JOIN l USING (ticket_id)"
         " WHERE coalesce(l.n, 0) <> (t.anomaly IS NOT DISTINCT FROM 'parts_delay')::INT OR l.other > 0"),
)  # fmt: skip
