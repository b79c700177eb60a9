"""Every rule of catalog.md's scrum section (seed 002), as SQL over the generated Parquet."""

from __future__ import annotations

from typing import Any

from mock_pipeline.domains.factory import ReportLine
from mock_pipeline.domains.scrum.model import ScrumModel
from mock_pipeline.domains.scrum.parameters import (
    ACTIVE_STATUS_SHARES,
    ANOMALY_LABELS,
    BUG,
    BUSINESS_DOMAINS,
    COMMENTED_SHARE,
    HISTORY_DAYS,
    ISSUE_TYPES,
    LINK_TYPES,
    LINKED_SHARE,
    MAX_SPRINTS,
    METHODOLOGIES,
    MIN_SPRINTS,
    PRIORITIES,
    PROJECT_STATUSES,
    STATUSES,
    STORY,
    TASK,
)
from mock_pipeline.domains.scrum.tables import TABLES
from mock_pipeline.domains.scrum.tenancy import MEMBERS
from mock_pipeline.domains.scrum.text import COMPONENTS, FEATURES, IMPROVEMENTS, STORY_VERBS, SYMPTOMS, TASK_VERBS
from mock_pipeline.validation import Rule, in_window, key_rules, row_rule, unique_key

TOLERANCE_PP = 3.0  # seed 002's mixes, checked once a table has MIN_ROWS rows
ABOUT_PP = 5.0  # "about 60%" of issues commented
MIN_ROWS = 100
RECENT_DAYS = 28
# Calendar (catalog "Time fits the calendar"): a month's cap by the history's length, and how much
# quieter a weekend day is than a weekday at most.
MONTH_CAP_LONG, MONTH_CAP_SHORT, LONG_HISTORY_DAYS = 0.35, 0.5, 182
MIN_MONTH_ROWS = 20  # a month's share of fewer rows says nothing
WEEKEND_RATIO_MAX = 0.6
# Words that speak of a problem anywhere in a comment (PROBLEM_WORDS open the problem comments).
PROBLEM_REGEX = r"'(?i)\b(block|reopen|overdue|due date|scope)'"
# What every issue type's description opens with (text.issue_description).
DESCRIPTION_OPENINGS = {"story": "As a", "task": "Technical work on the", "bug": "Steps to reproduce:",
                        "epic": "Delivers", "improvement": "Improvement to", "subtask": "Part of the"}  # fmt: skip
RESERVED_EMAIL = r"'^[a-z0-9._+-]+@([a-z0-9-]+\.)*(example\.(com|org|net)|[a-z0-9-]+\.(example|test))$'"
PASSWORD_HASH = r"'pbkdf2_sha256\$[0-9]+\$[0-9a-f]{{16,}}\$[A-Za-z0-9+/]{{43}}='"


def _sql_list(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


def params(model: ScrumModel) -> dict[str, Any]:
    return {
        "start": f"to_timestamp({model.window.start_epoch})",
        "end": f"to_timestamp({model.end})",
        "as_of": f"DATE '{model.as_of.isoformat()}'",
        "projects": model.projects,
        "issues": model.issues,
        "anomaly_rate": model.anomaly_rate,
        "story_share": model.type_shares[STORY],
        "task_share": model.type_shares[TASK],
        "bug_share": model.type_shares[BUG],
        "other_share": 1.0 - model.type_shares[STORY] - model.type_shares[TASK] - model.type_shares[BUG],
        "tolerance": TOLERANCE_PP / 100.0,
        "about": ABOUT_PP / 100.0,
    }


def _one_row(table: str, description: str) -> Rule:
    return Rule(table, "exactly_one", description, f"SELECT abs(count(*) - 1) AS violations FROM {table}")


def _every_user_once(table: str, parent_key: str, parent: str) -> Rule:
    return Rule(
        table,
        "every_user_a_member_once",
        f"Every user is a member of the {parent[:-1]} exactly once, joining after it was created.",
        f"SELECT count(*) AS violations FROM users u FULL JOIN (SELECT user_id, count(*) AS n, min(m.joined_at) AS"
        f" joined, min(p.created_at) AS founded FROM {table} m JOIN {parent} p USING ({parent_key}) GROUP BY user_id)"
        " x USING (user_id) WHERE u.user_id IS NULL OR x.n IS DISTINCT FROM 1 OR x.joined < x.founded",
    )


def _per_project(table: str, count: int, what: str) -> Rule:
    return Rule(
        table,
        f"{count}_per_project",
        f"Every project has exactly {count} {what}, with distinct categories.",
        f"SELECT count(*) AS violations FROM projects p LEFT JOIN (SELECT project_id, count(*) AS n,"
        f" count(DISTINCT category) AS d FROM {table} GROUP BY project_id) t USING (project_id)"
        f" WHERE coalesce(t.n, 0) <> {count} OR t.d <> {count}",
    )


def _sharerow_rule(
    table: str, name: str, description: str, shares: dict[str, float | str], expr: str, source: str
) -> Rule:
    """Observed shares of `expr` over the rows of `source` (a FROM clause) within tolerance once
    there are MIN_ROWS of them."""
    values = ", ".join(f"('{k}', {v})" for k, v in shares.items())
    return Rule(
        table,
        name,
        description,
        f"WITH s(label, expected) AS (VALUES {values}),"
        f" r AS (SELECT {expr} AS label FROM {source}),"
        " n AS (SELECT count(*) AS total FROM r),"
        " c AS (SELECT s.label, s.expected, (SELECT count(*) FROM r WHERE r.label = s.label) AS k FROM s)"
        f" SELECT CASE WHEN any_value(total) < {MIN_ROWS} THEN 0 ELSE count(*) FILTER"
        " (WHERE abs(k / total - expected) > {tolerance}) END AS violations,"
        " max(abs(k / greatest(total, 1) - expected)) AS max_deviation, any_value(total) AS rows FROM c, n",
    )


def _domain_match(text: str) -> str:
    """SQL: `text` mentions a feature or component of the project's business domain (alias p)."""
    cases = " ".join(
        f"WHEN '{d}' THEN regexp_matches(lower({text}), '{'|'.join(x.lower() for x in FEATURES[d] + COMPONENTS[d])}')"
        for d in BUSINESS_DOMAINS
    )
    return f"CASE p.business_domain {cases} ELSE false END"


# Seed 002's 50/25/15/10 at normal-ops; the profile's anomaly rate moves the bug share (model.type_shares).
TYPE_SHARES = {"story": "{story_share}", "task": "{task_share}", "bug": "{bug_share}", "other": "{other_share}"}
ACTIVE_SHARES = dict(zip(STATUSES, ACTIVE_STATUS_SHARES, strict=True))

RULES: tuple[Rule, ...] = (
    *key_rules(TABLES),
    # users: owner + members, hashes only
    Rule("users", "owner_and_five_members", f"One owner and {MEMBERS} members.",
         f"SELECT abs(count(*) FILTER (WHERE role = 'owner') - 1) + abs(count(*) FILTER (WHERE role = 'member')"
         f" - {MEMBERS}) + count(*) FILTER (WHERE role NOT IN ('owner', 'member')) AS violations FROM users"),
    unique_key("users", "email"),
    row_rule("users", "email_on_reserved_domain", "E-mail addresses use RFC 2606 reserved domains only.",
          f"NOT regexp_full_match(email, {RESERVED_EMAIL})"),
    Rule("users", "password_hash_only",
         "Every user has a PBKDF2 hash with its own salt; no column holds a password.",
         f"SELECT count(*) FILTER (WHERE password_hash IS NULL OR NOT regexp_full_match(password_hash, {PASSWORD_HASH}))"
         " + count(*) - count(DISTINCT split_part(password_hash, '$', 3))"
         " + (SELECT count(*) FROM information_schema.columns WHERE table_name = 'users'"
         " AND column_name ILIKE '%pass%' AND column_name <> 'password_hash') AS violations FROM users"),
    row_rule("users", "joined_before_last_login", "date_joined <= last_login.", "NOT (date_joined <= last_login)"),
    in_window("users", "date_joined", "last_login"),
    # organization and workspace
    _one_row("organizations", "One organization."),
    Rule("organizations", "owned_by_the_owner", "The organization's owner is the owner account.",
         "SELECT count(*) AS violations FROM organizations o JOIN users u ON u.user_id = o.owner_id"
         " WHERE u.role <> 'owner'"),
    in_window("organizations", "created_at"),
    _every_user_once("organization_members", "organization_id", "organizations"),
    _one_row("workspaces", "One workspace."),
    Rule("workspaces", "created_after_organization", "The workspace is created after its organization.",
         "SELECT count(*) AS violations FROM workspaces w JOIN organizations o USING (organization_id)"
         " WHERE w.created_at < o.created_at OR w.created_at >= {end}"),
    _every_user_once("workspace_members", "workspace_id", "workspaces"),
    # projects
    Rule("projects", "count_as_configured", "As many projects as configured (seed 002: 10-20 by default).",
         "SELECT abs(count(*) - {projects}) AS violations, count(*) AS rows FROM projects"),
    unique_key("projects", "key"),
    row_rule("projects", "attributes_known",
          "key is 2-6 capital letters; methodology, status, priority and business domain are known values.",
          "NOT regexp_full_match(key, '[A-Z]{{2,6}}')"
          f" OR methodology NOT IN ({_sql_list(METHODOLOGIES)}) OR status NOT IN ({_sql_list(PROJECT_STATUSES)})"
          f" OR priority NOT IN ({_sql_list(PRIORITIES)}) OR business_domain NOT IN ({_sql_list(BUSINESS_DOMAINS)})"),
    row_rule("projects", "dates_follow_status",
          "Completed projects ended before as_of; others have no end; history at most 6 months back.",
          "(end_date IS NOT NULL) <> (status = 'completed') OR end_date >= {as_of} OR end_date < start_date"
          f" OR start_date < {{as_of}} - INTERVAL {HISTORY_DAYS} DAY OR created_at < start_date"
          " OR updated_at < created_at"),
    Rule("projects", "created_after_workspace", "Projects are created after their workspace, inside the window.",
         "SELECT count(*) AS violations FROM projects p JOIN workspaces w USING (workspace_id)"
         " WHERE p.created_at < w.created_at OR p.updated_at >= {end}"),
    # configuration
    _per_project("issue_types", len(ISSUE_TYPES), "issue types"),
    _per_project("workflow_statuses", len(STATUSES), "workflow statuses"),
    Rule("workflow_statuses", "one_initial_one_final", "Each project has one initial and one final status.",
         "SELECT count(*) AS violations FROM (SELECT project_id FROM workflow_statuses GROUP BY project_id"
         " HAVING count(*) FILTER (WHERE is_initial) <> 1 OR count(*) FILTER (WHERE is_final) <> 1)"),
    Rule("workflow_transitions", "between_statuses_of_the_project",
         "A transition moves between two different statuses of its own project.",
         "SELECT count(*) AS violations FROM workflow_transitions t"
         " JOIN workflow_statuses f ON f.workflow_status_id = t.from_status_id"
         " JOIN workflow_statuses s ON s.workflow_status_id = t.to_status_id"
         " WHERE f.project_id <> t.project_id OR s.project_id <> t.project_id OR t.from_status_id = t.to_status_id"),
    Rule("boards", "one_per_project_of_its_methodology", "Each project has one board, of its methodology.",
         "SELECT count(*) AS violations FROM projects p LEFT JOIN (SELECT project_id, count(*) AS n,"
         " any_value(board_type) AS board_type FROM boards GROUP BY project_id) b USING (project_id)"
         " WHERE coalesce(b.n, 0) <> 1 OR b.board_type <> p.methodology"),
    Rule("board_columns", "map_to_project_statuses",
         "A board's columns map one to one onto its project's workflow statuses.",
         "SELECT (SELECT count(*) FROM board_columns c JOIN boards b USING (board_id)"
         " JOIN workflow_statuses s USING (workflow_status_id) WHERE s.project_id <> b.project_id)"
         " + (SELECT count(*) FROM boards b LEFT JOIN (SELECT board_id, count(*) AS n,"
         " count(DISTINCT workflow_status_id) AS d FROM board_columns GROUP BY board_id) c USING (board_id)"
         " JOIN (SELECT project_id, count(*) AS n FROM workflow_statuses GROUP BY project_id) s USING (project_id)"
         " WHERE c.n IS DISTINCT FROM s.n OR c.d IS DISTINCT FROM s.n) AS violations"),
    # sprints
    Rule("sprints", "count_by_methodology",
         f"Scrum projects have {MIN_SPRINTS}-{MAX_SPRINTS} sprints, kanban projects none.",
         "SELECT count(*) AS violations FROM projects p LEFT JOIN (SELECT project_id, count(*) AS n FROM sprints"
         " GROUP BY project_id) s USING (project_id) WHERE CASE p.methodology WHEN 'kanban' THEN coalesce(s.n, 0) <> 0"
         f" ELSE coalesce(s.n, 0) NOT BETWEEN {MIN_SPRINTS} AND {MAX_SPRINTS} END"),
    Rule("sprints", "never_overlap", "Sprints of a project never overlap.",
         "SELECT count(*) FILTER (WHERE start_date <= previous_end) AS violations FROM (SELECT start_date,"
         " lag(end_date) OVER (PARTITION BY project_id ORDER BY start_date, sprint_id) AS previous_end FROM sprints)"),
    Rule("sprints", "dates_follow_project_and_status",
         "start <= end; inside the project's life; status and completion follow the dates against as_of.",
         "SELECT count(*) AS violations FROM sprints s JOIN projects p USING (project_id)"
         " WHERE s.end_date < s.start_date OR s.start_date < p.start_date OR s.end_date > p.end_date"
         " OR s.status <> CASE WHEN s.end_date <= {as_of} THEN 'completed' WHEN s.start_date <= {as_of}"
         " THEN 'active' ELSE 'planned' END OR (s.completed_at IS NULL) <> (s.status <> 'completed')"
         " OR s.created_at < p.created_at OR (p.status = 'completed' AND s.status <> 'completed')"),
    in_window("sprints", "created_at", "completed_at"),
    # issues
    Rule("issues", "count_as_configured", "As many issues as configured (seed 002: 500-1000).",
         "SELECT abs(count(*) - {issues}) AS violations, count(*) AS rows FROM issues"),
    unique_key("issues", "key"),
    Rule("issues", "key_is_project_key_and_number", "key is the project key, '-', and a number.",
         "SELECT count(*) AS violations FROM issues i JOIN projects p USING (project_id)"
         " WHERE NOT regexp_full_match(i.key, p.key || '-[1-9][0-9]*')"),
    Rule("issues", "type_and_status_of_its_project", "issue type and workflow status belong to the issue's project.",
         "SELECT count(*) AS violations FROM issues i JOIN issue_types t USING (issue_type_id)"
         " JOIN workflow_statuses s USING (workflow_status_id)"
         " WHERE t.project_id <> i.project_id OR s.project_id <> i.project_id"),
    _sharerow_rule("issues", "type_mix",
                "Types: story 50%, task 25%, bug 15%, other 10% (±3 pp) at normal-ops; troubled profiles file more"
                " bugs (the profile's shares).", TYPE_SHARES,
                "CASE WHEN t.category IN ('story', 'task', 'bug') THEN t.category ELSE 'other' END",
                "issues i JOIN issue_types t USING (issue_type_id)"),
    _sharerow_rule("issues", "active_project_status_mix",
                "Issues of active projects: about 20/40/30/10 to do/in progress/in review/done (±3 pp).",
                ACTIVE_SHARES, "s.category",
                "issues i JOIN workflow_statuses s USING (workflow_status_id)"
                " JOIN projects p ON p.project_id = i.project_id WHERE p.status = 'active'"),
    Rule("issues", "status_follows_project_state",
         "Completed projects: all done with resolved_at; planning projects: all to do; resolved_at iff done.",
         "SELECT count(*) AS violations FROM issues i JOIN workflow_statuses s USING (workflow_status_id)"
         " JOIN projects p ON p.project_id = i.project_id"
         " WHERE (p.status = 'completed' AND s.category <> 'done') OR (p.status = 'planning' AND s.category <> 'to_do')"
         " OR (i.resolved_at IS NULL) <> (s.category <> 'done')"),
    Rule("issues", "sprint_only_in_scrum_projects_and_inside_its_dates",
         "A sprint is set only in scrum projects, is the project's own, and the issue was created inside its dates.",
         "SELECT count(*) AS violations FROM issues i JOIN projects p USING (project_id)"
         " LEFT JOIN sprints s ON s.sprint_id = i.sprint_id WHERE i.sprint_id IS NOT NULL AND (p.methodology <> 'scrum'"
         " OR s.project_id <> i.project_id OR i.created_at < s.start_date"
         " OR i.created_at >= s.end_date + INTERVAL 1 DAY OR i.resolved_at >= s.end_date + INTERVAL 1 DAY)"),
    Rule("issues", "times_in_order", "Created after the project, created <= resolved <= updated, inside its life.",
         "SELECT count(*) AS violations FROM issues i JOIN projects p USING (project_id)"
         " WHERE NOT (i.created_at <= i.updated_at) OR i.resolved_at < i.created_at OR i.resolved_at > i.updated_at"
         " OR i.created_at < p.created_at OR i.updated_at >= coalesce(p.end_date + INTERVAL 1 DAY, {end})"),
    in_window("issues", "created_at", "updated_at", "resolved_at"),
    Rule("issues", "history_3_to_6_months_denser_recently",
         f"The oldest issue is 3-6 months old, and the last {RECENT_DAYS} days see more issues per day than the"
         " history's average.",
         "WITH h AS (SELECT count(*) AS n, min(created_at) AS first,"
         f" count(*) FILTER (WHERE created_at >= {{end}} - INTERVAL {RECENT_DAYS} DAY) AS recent FROM issues)"
         f" SELECT CASE WHEN n < {MIN_ROWS} THEN 0 ELSE (first < {{end}} - INTERVAL {HISTORY_DAYS} DAY)::INT"
         " + (first > {end} - INTERVAL 90 DAY)::INT"
         f" + (recent / {RECENT_DAYS} <= n / greatest(date_diff('day', first, {{end}}), 1))::INT END AS violations,"
         f" recent / {RECENT_DAYS} AS recent_per_day, n / greatest(date_diff('day', first, {{end}}), 1)"
         " AS average_per_day FROM h"),
    Rule("issues", "titles_fit_project_domain", "Titles mention a feature or component of the project's domain.",
         "SELECT count(*) AS violations FROM issues i JOIN projects p USING (project_id)"
         f" WHERE NOT ({_domain_match('i.title')})"),
    # comments
    Rule("comments", "after_issue_created", "Each comment follows its issue's creation, inside the window.",
         "SELECT count(*) AS violations FROM comments c JOIN issues i USING (issue_id)"
         " WHERE c.created_at <= i.created_at OR c.created_at >= {end} OR c.updated_at < c.created_at"),
    Rule("comments", "about_60_percent_of_issues_with_1_to_5",
         f"About {COMMENTED_SHARE:.0%} of issues (±{ABOUT_PP:.0f} pp; every anomalous one, when more) have 1-5 comments.",
         "WITH c AS (SELECT issue_id, count(*) AS n FROM comments GROUP BY issue_id),"
         " t AS (SELECT count(*) AS issues, count(anomaly) AS anomalous FROM issues)"
         " SELECT count(*) FILTER (WHERE n NOT BETWEEN 1 AND 5)"
         f" + CASE WHEN any_value(issues) >= {MIN_ROWS}"
         f" AND abs(count(*) / any_value(issues) - greatest({COMMENTED_SHARE}, any_value(anomalous) / any_value(issues)))"
         " > {about} THEN 1 ELSE 0 END AS violations,"
         " count(*) / any_value(issues) AS commented_share FROM c, t"),
    Rule("comments", "fit_the_issue", "Comments mention a feature or component of the issue's project domain.",
         "SELECT count(*) AS violations FROM comments c JOIN issues i USING (issue_id) JOIN projects p USING (project_id)"
         f" WHERE NOT ({_domain_match('c.body')})"),
    # links
    Rule("issue_links", "never_to_itself_same_project", "A link joins two different issues of one project.",
         "SELECT count(*) AS violations FROM issue_links l JOIN issues s ON s.issue_id = l.source_issue_id"
         " JOIN issues t ON t.issue_id = l.target_issue_id"
         f" WHERE l.source_issue_id = l.target_issue_id OR s.project_id <> t.project_id"
         f" OR l.link_type NOT IN ({_sql_list(LINK_TYPES)}) OR l.created_at < greatest(s.created_at, t.created_at)"),
    Rule("issue_links", "about_10_percent_of_issues_linked",
         f"About {LINKED_SHARE:.0%} of the issues not blocked (±{TOLERANCE_PP:.0f} pp) link to another issue;"
         " blocked issues have their 'blocks' link on top.",
         "WITH n AS (SELECT count(*) AS issues, count(*) FILTER (WHERE anomaly = 'blocked') AS blocked FROM issues),"
         " l AS (SELECT count(DISTINCT source_issue_id) AS linked FROM issue_links WHERE link_type <> 'blocks')"
         f" SELECT CASE WHEN issues >= {MIN_ROWS} AND abs(linked / issues - {LINKED_SHARE} * (1 - blocked / issues))"
         " > {tolerance} THEN 1 ELSE 0 END AS violations, linked / issues AS linked_share FROM n, l"),
    in_window("issue_links", "created_at"),
)  # fmt: skip

_LABELS = _sql_list(ANOMALY_LABELS)


def _alternatives(words: tuple[str, ...]) -> str:
    return "(" + "|".join(words) + ")"


# How each issue type's title reads (text.issue_title): a story's verb, a bug's symptom, ...
TITLE_PATTERNS = {
    "story": f"{_alternatives(STORY_VERBS)} .+", "task": f"{_alternatives(TASK_VERBS)} the .+",
    "bug": f"The .+ {_alternatives(SYMPTOMS)} during .+", "epic": "End-to-end .+",
    "improvement": f"{_alternatives(IMPROVEMENTS)} .+", "subtask": "Add tests for .+ in the .+",
}  # fmt: skip
_TITLES = " ".join(f"WHEN '{k}' THEN regexp_full_match(i.title, '{v}')" for k, v in TITLE_PATTERNS.items())


def _no_month_dominates(table: str, column: str = "created_at") -> Rule:
    """The month cap on one timestamp column; the history is the organisation's, from its creation to as_of."""
    return Rule(
        table,
        "no_month_dominates" if column == "created_at" else f"no_month_dominates_{column}",
        f"No calendar month holds more than {MONTH_CAP_LONG:.0%} of the {table}' {column} of a history of six"
        f" months or more, nor more than {MONTH_CAP_SHORT:.0%} of a shorter one.",
        f"WITH m AS (SELECT date_trunc('month', {column}) AS month, count(*) AS n FROM {table}"
        f" WHERE {column} IS NOT NULL GROUP BY 1),"
        " h AS (SELECT sum(n) AS total, any_value(d) AS days FROM m,"
        " (SELECT date_diff('day', min(created_at), {end}) AS d FROM organizations))"
        f" SELECT CASE WHEN total < {MIN_MONTH_ROWS} THEN 0 ELSE (max(n) > total * CASE WHEN days >= {LONG_HISTORY_DAYS}"
        f" THEN {MONTH_CAP_LONG} ELSE {MONTH_CAP_SHORT} END)::INT END AS violations,"
        " max(n) / any_value(total) AS max_month_share, any_value(days) AS history_days FROM m, h GROUP BY total, days",
    )


# Every timestamp column of the activity tables (catalog: "no calendar month holds more than 35% ...").
ACTIVITY_TIMES = {"issues": ("created_at", "updated_at", "resolved_at"), "comments": ("created_at", "updated_at"),
                  "issue_links": ("created_at",)}  # fmt: skip


def _weekends_quieter(table: str) -> Rule:
    return Rule(
        table,
        "weekends_quieter",
        f"Work tools rest at the weekend: a weekend day sees under {WEEKEND_RATIO_MAX:.0%} of a weekday's {table}.",
        "WITH d AS (SELECT count(*) FILTER (WHERE isodow(created_at) >= 6) / 2 AS weekend,"
        f" count(*) FILTER (WHERE isodow(created_at) < 6) / 5 AS weekday, count(*) AS n FROM {table})"
        f" SELECT CASE WHEN n >= {MIN_ROWS} AND weekend >= {WEEKEND_RATIO_MAX} * weekday THEN 1 ELSE 0 END"
        " AS violations, weekend / greatest(weekday, 1) AS weekend_ratio FROM d",
    )


_OPENINGS = " ".join(f"WHEN '{k}' THEN starts_with(i.description, '{v}')" for k, v in DESCRIPTION_OPENINGS.items())

# One world: the anomaly ground truth and its consequences, text that fits, time that fits the calendar.
COHERENCE: tuple[Rule, ...] = (
    Rule("issues", "anomaly_share_matches_profile",
         "Labels are blocked, reopened, overdue or scope_creep; their share is the profile's anomaly rate (±3 pp).",
         f"SELECT count(*) FILTER (WHERE anomaly IS NOT NULL AND anomaly NOT IN ({_LABELS}))"
         f" + CASE WHEN count(*) >= {MIN_ROWS} AND abs(count(anomaly) / count(*) - {{anomaly_rate}}) > {{tolerance}}"
         " THEN 1 ELSE 0 END AS violations, count(anomaly) / count(*) AS anomaly_share FROM issues"),
    Rule("issues", "overdue_means_open_past_due_date",
         "overdue issues are open with a due date before as_of; every other issue is resolved by its due date or"
         " not yet due.",
         "SELECT count(*) FILTER (WHERE (anomaly IS NOT DISTINCT FROM 'overdue')"
         " <> (resolved_at IS NULL AND due_date < {as_of})"
         " OR (resolved_at IS NOT NULL AND CAST(resolved_at AS DATE) > due_date)) AS violations,"
         " count(*) FILTER (WHERE anomaly = 'overdue') AS overdue FROM issues"),
    Rule("issues", "scope_creep_means_grown_estimate",
         "scope_creep issues' story points exceed their original estimate; every other issue keeps its estimate.",
         "SELECT count(*) FILTER (WHERE (anomaly IS NOT DISTINCT FROM 'scope_creep')"
         " <> coalesce(story_points > original_story_points, false)"
         " OR (story_points IS NULL) <> (original_story_points IS NULL)"
         " OR story_points < original_story_points) AS violations FROM issues"),
    Rule("issues", "reopened_after_work_started",
         "A reopened issue had been worked on: it is not in to do.",
         "SELECT count(*) AS violations FROM issues i JOIN workflow_statuses s USING (workflow_status_id)"
         " WHERE i.anomaly = 'reopened' AND s.category = 'to_do'"),
    Rule("comments", "problems_told_only_by_their_issue",
         "A comment that speaks of a problem (blocked, reopened, overdue, scope) carries its issue's label and the"
         " words of that label; every anomalous issue has exactly one such comment; no other comment carries a"
         " label.",
         "WITH c AS (SELECT c.*, i.anomaly AS issue_anomaly FROM comments c JOIN issues i"
         " USING (issue_id)),"
         " told AS (SELECT issue_id, count(*) AS n FROM comments WHERE anomaly IS NOT NULL GROUP BY issue_id)"
         f" SELECT (SELECT count(*) FROM c WHERE regexp_matches(body, {PROBLEM_REGEX}) <> (anomaly IS NOT NULL)"
         " OR (anomaly IS NOT NULL AND anomaly IS DISTINCT FROM issue_anomaly)"
         " OR (anomaly = 'blocked' AND NOT starts_with(body, 'Blocked by'))"
         " OR (anomaly = 'reopened' AND NOT starts_with(body, 'Reopened'))"
         " OR (anomaly = 'overdue' AND NOT starts_with(body, 'Overdue'))"
         " OR (anomaly = 'scope_creep' AND NOT starts_with(body, 'Scope grew')))"
         " + (SELECT count(*) FROM issues i LEFT JOIN told USING (issue_id)"
         " WHERE (i.anomaly IS NOT NULL) <> (told.n IS NOT NULL) OR told.n <> 1) AS violations"),
    Rule("comments", "overdue_told_after_the_due_date",
         "An overdue issue's comment says its due date has passed only when written after that date; one written"
         " before says the date will be missed.",
         "SELECT count(*) AS violations FROM comments c JOIN issues i USING (issue_id) WHERE c.anomaly = 'overdue'"
         " AND contains(c.body, 'has passed') <> (epoch(c.created_at) >= epoch(i.due_date) + 86400)"),
    Rule("issue_links", "blocked_by_another_issue",
         "A blocked issue is open and the target of exactly one 'blocks' link, from another issue of its project,"
         " labelled blocked, that its problem comment names; every 'blocks' link points at a blocked issue; no other"
         " link carries a label.",
         "SELECT (SELECT count(*) FROM issues i JOIN workflow_statuses s USING (workflow_status_id)"
         " WHERE i.anomaly = 'blocked' AND (s.category = 'done' OR (SELECT count(*) FROM issue_links l"
         " JOIN issues b ON b.issue_id = l.source_issue_id WHERE l.target_issue_id = i.issue_id"
         " AND l.link_type = 'blocks' AND l.anomaly = 'blocked' AND b.project_id = i.project_id) <> 1))"
         " + (SELECT count(*) FROM issue_links l JOIN issues t ON t.issue_id = l.target_issue_id"
         " WHERE (l.link_type = 'blocks') <> (t.anomaly IS NOT DISTINCT FROM 'blocked' AND l.anomaly = 'blocked')"
         " OR (l.link_type <> 'blocks' AND l.anomaly IS NOT NULL))"
         " + (SELECT count(*) FROM comments c WHERE c.anomaly = 'blocked' AND NOT EXISTS (SELECT 1 FROM issue_links l"
         " JOIN issues b ON b.issue_id = l.source_issue_id WHERE l.target_issue_id = c.issue_id"
         " AND l.link_type = 'blocks' AND starts_with(c.body, 'Blocked by ' || b.key || ':'))) AS violations"),
    Rule("issues", "titles_fit_type",
         "Titles read as their issue type: a story's user-facing verb, a task's technical chore, a bug's symptom...",
         "SELECT count(*) AS violations FROM issues i JOIN issue_types t USING (issue_type_id)"
         f" WHERE NOT coalesce(CASE t.category {_TITLES} ELSE false END, false)"),
    Rule("issues", "descriptions_fit_type_and_domain",
         "Descriptions are written for the issue type (a story's user voice, a bug's steps, ...) and mention a"
         " feature or component of the project's domain: no random words.",
         "SELECT count(*) AS violations FROM issues i JOIN issue_types t USING (issue_type_id)"
         f" JOIN projects p ON p.project_id = i.project_id WHERE NOT (CASE t.category {_OPENINGS} ELSE false END)"
         f" OR NOT ({_domain_match('i.description')})"),
    *(_no_month_dominates(table, column) for table, columns in ACTIVITY_TIMES.items() for column in columns),
    _weekends_quieter("issues"),
    _weekends_quieter("comments"),
)  # fmt: skip
RULES = (*RULES, *COHERENCE)


def report(model: ScrumModel) -> list[ReportLine]:
    """The scenario report's lines: what the profile asked for against what came out."""
    lines = [
        ReportLine("issues", float(model.issues), "SELECT count(*) AS observed FROM issues"),
        ReportLine("projects", float(model.projects), "SELECT count(*) AS observed FROM projects"),
        ReportLine("anomaly share", model.anomaly_rate,
                   "SELECT count(anomaly) / count(*) AS observed FROM issues"),
        ReportLine("bug share", model.type_shares[BUG],
                   "SELECT count(*) FILTER (WHERE t.category = 'bug') / count(*) AS observed FROM issues"
                   " JOIN issue_types t USING (issue_type_id)"),
        *(ReportLine(f"{label} share", None,
                     f"SELECT count(*) FILTER (WHERE anomaly = '{label}') / count(*) AS observed FROM issues")
          for label in ANOMALY_LABELS),
        ReportLine("trend: last 30 days / first 30 days of issues", None,
                   "WITH h AS (SELECT min(created_at) AS first FROM issues) SELECT count(*) FILTER (WHERE created_at"
                   " >= {end} - INTERVAL 30 DAY) / greatest(count(*) FILTER (WHERE created_at < first"
                   " + INTERVAL 30 DAY), 1) AS observed FROM issues, h"),
        ReportLine("max month share", MONTH_CAP_LONG,
                   "SELECT max(n) / sum(n) AS observed FROM (SELECT count(*) AS n FROM issues"
                   " GROUP BY date_trunc('month', created_at))"),
        ReportLine("weekend / weekday issues per day", None,
                   "SELECT (count(*) FILTER (WHERE isodow(created_at) >= 6) / 2)"
                   " / greatest(count(*) FILTER (WHERE isodow(created_at) < 6) / 5, 1) AS observed FROM issues"),
    ]  # fmt: skip
    return lines
