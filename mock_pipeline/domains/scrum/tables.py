"""The scrum tables (seed 002), each declared once beside its pure, columnar builder.

Each `@TABLES.table(...)` holds the table's columns with their types, meanings and foreign keys (see
mock_pipeline.engine.declare); `TABLES` is the domain's table list in declaration order: the people
and tenancy tables of tenancy.py, then the projects and their work declared here. Titles, descriptions
and comments are composed in text.py.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mock_pipeline.domains.scrum.model import ScrumModel, working_time
from mock_pipeline.domains.scrum.parameters import (
    BLOCKED,
    BLOCKS_LINK,
    BUSINESS_DOMAINS,
    COMMENT_SLOTS,
    DONE,
    ISSUE_PRIORITY_WEIGHTS,
    ISSUE_TYPE_NAMES,
    ISSUE_TYPES,
    LINK_DAYS_MAX,
    LINK_TYPE_WEIGHTS,
    LINK_TYPES,
    METHODOLOGIES,
    PRIORITIES,
    PROJECT_PRIORITY_WEIGHTS,
    PROJECT_STATUSES,
    SPRINT_SLOTS,
    STATUS_NAMES,
    STATUSES,
    TASK,
    TEMPLATES,
    TO_DO,
)
from mock_pipeline.domains.scrum.tenancy import BOOL, MEMBERS, TABLES
from mock_pipeline.domains.scrum.text import (
    COMMENT_STAGES,
    feature_text,
    issue_description,
    issue_key,
    issue_title,
    labels,
    problem_comment,
    project_key,
    stage_comment,
)
from mock_pipeline.engine import columns as col
from mock_pipeline.engine.columns import INT, STRING, TIMESTAMP, ids, pick
from mock_pipeline.engine.declare import Column, Columns
from mock_pipeline.engine.distributions import categorical
from mock_pipeline.engine.timeline import DAY

DATE = pa.date32()


def _dates(seconds: np.ndarray) -> pa.Array:
    """Epoch seconds as calendar days."""
    return pa.array((np.asarray(seconds, dtype=np.int64) // DAY).astype(np.int32), DATE)


def _per_project(slots: int, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Slot g as (g, project, index within the project's `slots`)."""
    g = ids(lo, hi)
    return g, g // slots, g % slots


# --- projects and their configuration ----------------------------------------------------------
@TABLES.table(
    key="project_id",
    slots=lambda m: m.projects,
    description="Projects from templates across business domains: scrum or kanban, planning/active/completed.",
    columns=(
        Column("project_id", INT, "Key of the project."),
        Column("workspace_id", INT, "Its workspace (workspaces.workspace_id).", references="workspaces"),
        Column("name", STRING, "Project name, from seed 002's templates."),
        Column("key", STRING, "Unique project key (2-6 capitals) prefixing its issue keys."),
        Column("description", STRING, "What the project builds and its first release's focus."),
        Column(
            "business_domain",
            STRING,
            "Business domain (healthcare, finance, e-commerce, ...); issue text follows it.",
        ),
        Column("methodology", STRING, "scrum (with sprints) or kanban (none)."),
        Column("status", STRING, "planning, active or completed."),
        Column("priority", STRING, "low, medium, high or critical."),
        Column("lead_id", INT, "Project lead (users.user_id).", references="users"),
        Column("start_date", DATE, "First day of the project, a few days before its first sprint."),
        Column("end_date", DATE, "Last day of a completed project; null while it runs."),
        Column("created_at", TIMESTAMP, "When the project was set up, in working hours of its first day."),
        Column("updated_at", TIMESTAMP, "Last change: its last day (completed) or as_of."),
    ),
    text_columns=("name", "description"),
)
def projects(m: ScrumModel, lo: int, hi: int) -> Columns:
    p = ids(lo, hi)
    t = m.template[p]
    created = m.project_created(p)
    ended = m.project_ended(p)
    domain = m.project_domain(p)
    # Last touched on its last day (completed) or on as_of, in working hours.
    touched = np.where(ended > 0, ended, m.end) - DAY + working_time(m.stream("projects", "updated"), p)
    return {
        "project_id": p + 1,
        "workspace_id": np.ones(len(p), dtype=np.int64),
        "name": pick([x.name for x in TEMPLATES], t),
        "key": project_key(m, p),
        "description": col.join(
            pick([x.description for x in TEMPLATES], t), " First release focuses on ",
            feature_text(domain, m.stream("projects", "focus").integers(p, 0, 6)), ".",
        ),
        "business_domain": pick(BUSINESS_DOMAINS, domain),
        "methodology": pick(METHODOLOGIES, m.project_kanban[p].astype(np.int64)),
        "status": pick(PROJECT_STATUSES, m.project_status[p]),
        "priority": pick(PRIORITIES, categorical(m.stream("projects", "priority"), p, PROJECT_PRIORITY_WEIGHTS)),
        "lead_id": 1 + m.stream("projects", "lead").integers(p, 0, 1 + MEMBERS),
        "start_date": _dates(m.project_day(p)),
        "end_date": pa.array((np.maximum(ended - DAY, 0) // DAY).astype(np.int32), DATE, mask=ended < 0),
        "created_at": col.timestamps(created),
        "updated_at": col.timestamps(np.maximum(touched, created + 3600)),
    }  # fmt: skip


@TABLES.table(
    key="issue_type_id",
    slots=lambda m: m.projects * len(ISSUE_TYPES),
    description="Six issue types per project.",
    columns=(
        Column("issue_type_id", INT, "Key of the issue type."),
        Column("project_id", INT, "Its project (projects.project_id).", references="projects"),
        Column("name", STRING, "Display name (Story, Task, Bug, Epic, Improvement, Sub-task)."),
        Column("category", STRING, "story, task, bug, epic, improvement or subtask."),
        Column("is_default", BOOL, "The type new issues get by default (task)."),
        Column("created_at", TIMESTAMP, "Created with the project's setup, a minute after the project."),
    ),
)
def issue_types(m: ScrumModel, lo: int, hi: int) -> Columns:
    g, p, k = _per_project(len(ISSUE_TYPES), lo, hi)
    return {
        "issue_type_id": g + 1,
        "project_id": p + 1,
        "name": pick(ISSUE_TYPE_NAMES, k),
        "category": pick(ISSUE_TYPES, k),
        "is_default": k == TASK,
        "created_at": col.timestamps(m.project_created(p) + 60),
    }


@TABLES.table(
    key="workflow_status_id",
    slots=lambda m: m.projects * len(STATUSES),
    description="Four workflow statuses per project.",
    columns=(
        Column("workflow_status_id", INT, "Key of the status."),
        Column("project_id", INT, "Its project (projects.project_id).", references="projects"),
        Column("name", STRING, "Display name (To Do, In Progress, In Review, Done)."),
        Column("category", STRING, "to_do, in_progress, in_review or done."),
        Column("position", INT, "Order on the board, 1-4."),
        Column("is_initial", BOOL, "Whether new issues start here (To Do)."),
        Column("is_final", BOOL, "Whether issues end here (Done)."),
        Column("created_at", TIMESTAMP, "Created with the project's setup."),
    ),
)
def workflow_statuses(m: ScrumModel, lo: int, hi: int) -> Columns:
    g, p, k = _per_project(len(STATUSES), lo, hi)
    return {
        "workflow_status_id": g + 1,
        "project_id": p + 1,
        "name": pick(STATUS_NAMES, k),
        "category": pick(STATUSES, k),
        "position": k + 1,
        "is_initial": k == TO_DO,
        "is_final": k == DONE,
        "created_at": col.timestamps(m.project_created(p) + 60),
    }


# (name, from status, to status): the same six moves in every project.
MOVES = (("Start progress", 0, 1), ("Submit for review", 1, 2), ("Approve", 2, 3), ("Request changes", 2, 1),
         ("Stop progress", 1, 0), ("Reopen", 3, 1))  # fmt: skip


@TABLES.table(
    key="workflow_transition_id",
    slots=lambda m: m.projects * len(MOVES),
    description="Allowed moves between a project's statuses.",
    columns=(
        Column("workflow_transition_id", INT, "Key of the transition."),
        Column("project_id", INT, "Its project (projects.project_id).", references="projects"),
        Column("name", STRING, "Name of the move (Start progress, Approve, Reopen, ...)."),
        Column(
            "from_status_id",
            INT,
            "Status it leaves (workflow_statuses.workflow_status_id).",
            references="workflow_statuses",
        ),
        Column(
            "to_status_id",
            INT,
            "Status it enters (workflow_statuses.workflow_status_id).",
            references="workflow_statuses",
        ),
        Column("created_at", TIMESTAMP, "Created with the project's setup, after its statuses."),
    ),
)
def workflow_transitions(m: ScrumModel, lo: int, hi: int) -> Columns:
    g, p, k = _per_project(len(MOVES), lo, hi)
    first_status = p * len(STATUSES) + 1
    return {
        "workflow_transition_id": g + 1,
        "project_id": p + 1,
        "name": pick([x[0] for x in MOVES], k),
        "from_status_id": first_status + np.array([x[1] for x in MOVES])[k],
        "to_status_id": first_status + np.array([x[2] for x in MOVES])[k],
        "created_at": col.timestamps(m.project_created(p) + 90),
    }


@TABLES.table(
    key="board_id",
    slots=lambda m: m.projects,
    description="One board per project.",
    columns=(
        Column("board_id", INT, "Key of the board (one per project)."),
        Column("project_id", INT, "Its project (projects.project_id).", references="projects"),
        Column("name", STRING, "Board name: project key and methodology."),
        Column("board_type", STRING, "scrum or kanban, as the project's methodology."),
        Column("created_at", TIMESTAMP, "Created with the project's setup."),
    ),
)
def boards(m: ScrumModel, lo: int, hi: int) -> Columns:
    p = ids(lo, hi)
    kind = pick(METHODOLOGIES, m.project_kanban[p].astype(np.int64))
    return {
        "board_id": p + 1,
        "project_id": p + 1,
        "name": col.join(project_key(m, p), " ", kind, " board"),
        "board_type": kind,
        "created_at": col.timestamps(m.project_created(p) + 120),
    }


KANBAN_WIP = (0, 5, 3, 0)  # WIP limits of in progress and in review on kanban boards


@TABLES.table(
    key="board_column_id",
    slots=lambda m: m.projects * len(STATUSES),
    description="A board's columns, one per workflow status of its project.",
    columns=(
        Column("board_column_id", INT, "Key of the column."),
        Column("board_id", INT, "Its board (boards.board_id).", references="boards"),
        Column(
            "workflow_status_id",
            INT,
            "The status the column shows (workflow_statuses.workflow_status_id).",
            references="workflow_statuses",
        ),
        Column("name", STRING, "Column name, the status's name."),
        Column("position", INT, "Order on the board, 1-4."),
        Column("wip_limit", INT, "Work-in-progress limit on kanban boards; null when none."),
        Column("created_at", TIMESTAMP, "Created with its board."),
    ),
)
def board_columns(m: ScrumModel, lo: int, hi: int) -> Columns:
    g, p, k = _per_project(len(STATUSES), lo, hi)
    wip = np.asarray(KANBAN_WIP)[k]
    return {
        "board_column_id": g + 1,
        "board_id": p + 1,
        "workflow_status_id": g + 1,  # column k of board p shows status k of project p
        "name": pick(STATUS_NAMES, k),
        "position": k + 1,
        "wip_limit": col.ints(wip, nulls=~m.project_kanban[p] | (wip == 0)),
        "created_at": col.timestamps(m.project_created(p) + 150),
    }


# --- sprints -----------------------------------------------------------------------------------
SPRINT_STATUSES = ("planned", "active", "completed")


@TABLES.table(
    key="sprint_id",
    slots=lambda m: m.projects * SPRINT_SLOTS,
    description="3-8 back-to-back two-week sprints per scrum project, none for kanban.",
    columns=(
        Column("sprint_id", INT, "Key of the sprint (dense 1..n)."),
        Column("project_id", INT, "Its scrum project (projects.project_id).", references="projects"),
        Column("name", STRING, "Project key and sprint number."),
        Column("goal", STRING, "Sprint goal: a feature of the project's domain."),
        Column(
            "start_date", DATE, "First day (calendar date); sprints of a project are back to back, never overlapping."
        ),
        Column("end_date", DATE, "Last day (calendar date), 13 days after the first."),
        Column("status", STRING, "planned, active or completed against as_of."),
        Column("created_at", TIMESTAMP, "When the sprint was planned: a week ahead, or at the project's setup."),
        Column("completed_at", TIMESTAMP, "When the sprint was closed, on its last afternoon; null unless completed."),
    ),
)
def sprints(m: ScrumModel, lo: int, hi: int) -> Columns:
    """Slot j of project p is its sprint j when j < its sprint count (none for kanban)."""
    g, p, j = _per_project(SPRINT_SLOTS, lo, hi)
    keep = j < m.sprint_count(p)
    g, p, j = g[keep], p[keep], j[keep]
    key = m.sprint_keys.offset(lo) + 1 + np.arange(len(g), dtype=np.int64)
    start = m.sprint_start(p, j)
    end = start + m.sprint_length(p)  # first second after the last day
    status = np.select([end <= m.end, start < m.end], [2, 1], 0)
    domain = m.project_domain(p)
    # Planned a week ahead, never before the project's setup; sprints planned for after as_of
    # were all laid out when the project was set up.
    setup = m.project_created(p) + 300 + 60 * j
    ahead = start - 7 * DAY + working_time(m.stream("sprints", "created"), g)
    created = np.where(ahead < m.end, np.maximum(ahead, setup), setup)
    return {
        "sprint_id": key,
        "project_id": p + 1,
        "name": col.join(project_key(m, p), " Sprint ", col.text(j + 1)),
        "goal": col.join("Deliver ", feature_text(domain, m.stream("sprints", "goal").integers(g, 0, 6))),
        "start_date": _dates(start),
        "end_date": _dates(end - DAY),
        "status": pick(SPRINT_STATUSES, status),
        "created_at": col.timestamps(created),
        # Closed in the afternoon of the sprint's last day.
        "completed_at": col.timestamps(
            end - DAY + 14 * 3600 + m.stream("sprints", "completed").integers(g, 0, 5 * 3600), nulls=status != 2
        ),
    }


# --- issues, comments, links -------------------------------------------------------------------
@TABLES.table(
    key="issue_id",
    slots=lambda m: m.issues,
    description="Issues: type mix 50/25/15/10, status by project state, sprint work inside sprint dates.",
    columns=(
        Column("issue_id", INT, "Key of the issue."),
        Column("project_id", INT, "Its project (projects.project_id).", references="projects"),
        Column("key", STRING, "Project key, '-', and the issue's number in the project."),
        Column(
            "issue_type_id", INT, "Its type, of its own project (issue_types.issue_type_id).", references="issue_types"
        ),
        Column(
            "workflow_status_id",
            INT,
            "Its status, of its own project (workflow_statuses.workflow_status_id).",
            references="workflow_statuses",
        ),
        Column(
            "sprint_id",
            INT,
            "The sprint it was created in (scrum projects only); null for backlog and kanban work.",
            references="sprints",
        ),
        Column("title", STRING, "Title from the project domain's features and components, worded for the issue type."),
        Column(
            "description",
            STRING,
            "Composed for the issue type and domain (persona, benefit, steps), with a status note.",
        ),
        Column("priority", STRING, "low, medium, high or critical."),
        Column("story_points", INT, "Current estimate; null for epics and sub-tasks."),
        Column("original_story_points", INT, "First estimate; lower than story_points only on scope_creep issues."),
        Column("reporter_id", INT, "Who filed it (users.user_id).", references="users"),
        Column(
            "assignee_id", INT, "Who works on it (users.user_id); null for some unstarted issues.", references="users"
        ),
        Column("due_date", DATE, "Due day: the sprint's last day, or a past day for overdue issues; null when none."),
        Column(
            "anomaly",
            STRING,
            "Ground truth of an injected problem: blocked, reopened, overdue or scope_creep; null when none.",
        ),
        Column("created_at", TIMESTAMP, "When it was filed: working hours, weekends quieter, busier in recent weeks."),
        Column("updated_at", TIMESTAMP, "Last change; the resolution for done issues."),
        Column("resolved_at", TIMESTAMP, "When it was resolved; set exactly for done issues."),
    ),
    text_columns=("title", "description"),
)
def issues(m: ScrumModel, lo: int, hi: int) -> Columns:
    i = ids(lo, hi)
    facts = m.issue_facts(i)
    p, status, sprint, kind, label = facts["project"], facts["status"], facts["sprint"], facts["type"], facts["anomaly"]
    unassigned = (status == TO_DO) & m.stream("issues", "unassigned").bernoulli(i, 0.3)
    no_points = ~facts["has_points"]
    return {
        "issue_id": i + 1,
        "project_id": p + 1,
        "key": issue_key(m, i, p),
        "issue_type_id": p * len(ISSUE_TYPES) + kind + 1,
        "workflow_status_id": p * len(STATUSES) + status + 1,
        "sprint_id": col.ints(m.sprint_keys.keys(p * SPRINT_SLOTS + np.maximum(sprint, 0)), nulls=sprint < 0),
        "title": issue_title(m, i, p, kind),
        "description": issue_description(m, i, p, kind, status),
        "priority": pick(PRIORITIES, categorical(m.stream("issues", "priority"), i, ISSUE_PRIORITY_WEIGHTS)),
        "story_points": col.ints(facts["points"], nulls=no_points),
        "original_story_points": col.ints(facts["original_points"], nulls=no_points),
        "reporter_id": 1 + m.stream("issues", "reporter").integers(i, 0, 1 + MEMBERS),
        "assignee_id": col.ints(2 + m.stream("issues", "assignee").integers(i, 0, MEMBERS), nulls=unassigned),
        "due_date": pa.array(np.maximum(facts["due_day"], 0).astype(np.int32), DATE, mask=facts["due_day"] < 0),
        "anomaly": labels(label),
        "created_at": col.timestamps(facts["created"]),
        "updated_at": col.timestamps(facts["updated"]),
        "resolved_at": col.timestamps(np.maximum(facts["resolved"], 0), nulls=facts["resolved"] < 0),
    }  # fmt: skip


@TABLES.table(
    key="comment_id",
    slots=lambda m: m.issues * COMMENT_SLOTS,
    description="1-5 comments on 60% of issues, after the issue was created; an anomalous issue's last one tells"
    " its problem.",
    columns=(
        Column("comment_id", INT, "Key of the comment (dense 1..n)."),
        Column("issue_id", INT, "The issue (issues.issue_id).", references="issues"),
        Column("author_id", INT, "Who wrote it (users.user_id).", references="users"),
        Column(
            "body",
            STRING,
            "Text for the issue's type, progress and domain; the last one of an anomalous issue tells its problem.",
        ),
        Column("anomaly", STRING, "The issue's anomaly label on the comment that tells it; null on the others."),
        Column("created_at", TIMESTAMP, "When it was written, between the issue's creation and its last update."),
        Column("updated_at", TIMESTAMP, "Last edit (comments are not edited: equals created_at)."),
    ),
    text_columns=("body",),
)
def comments(m: ScrumModel, lo: int, hi: int) -> Columns:
    """1-5 comments on 60% of issues, spread in order between the issue's creation and its last
    update, worded for the issue's type, progress and project domain; an anomalous issue's last
    comment tells its problem."""
    s = ids(lo, hi)
    key0 = m.comment_keys.offset(lo)
    i, j = s // COMMENT_SLOTS, s % COMMENT_SLOTS
    # Facts once per issue of the range, then spread over its slots.
    first = lo // COMMENT_SLOTS
    issues_here = np.arange(first, -(-hi // COMMENT_SLOTS), dtype=np.int64)
    per_issue = m.issue_facts(issues_here)
    counts = m.comment_count(issues_here, per_issue["anomaly"])
    n = counts[i - first]
    keep = j < n
    s, i, j, n = s[keep], i[keep], j[keep], n[keep]
    facts = {k: v[i - first] for k, v in per_issue.items()}
    created, updated = facts["created"], facts["updated"]
    position = (j + m.stream("comments", "at").uniform(s)) / n  # in (0, 1), increasing with j
    # Comment j falls in the j-th of n equal parts of the issue's life (so they stay in order), in
    # working hours of a weekday when the part holds one.
    span = updated - created
    at = m.work_moment(m.stream("comments", "at"), s, created + span * j // n, created + span * (j + 1) // n)
    at = np.minimum(np.maximum(at, created + 1), np.maximum(updated, created + 1))
    # Later comments speak of later stages, never past what the issue's status has reached.
    stages = COMMENT_STAGES[facts["status"]]
    stage = np.minimum(np.floor(stages * position).astype(np.int64), stages - 1)
    body = stage_comment(m, i, facts["project"], facts["type"], stage)
    problem = (facts["anomaly"] >= 0) & (j == n - 1)
    past_due = (facts["due_day"] >= 0) & (at >= (facts["due_day"] + 1) * DAY)
    body = pc.if_else(pa.array(problem), problem_comment(m, i, facts, past_due), body)
    return {
        "comment_id": key0 + 1 + np.arange(len(s), dtype=np.int64),
        "issue_id": i + 1,
        "author_id": 1 + m.stream("comments", "author").integers(s, 0, 1 + MEMBERS),
        "body": body,
        "anomaly": labels(np.where(problem, facts["anomaly"], -1)),
        "created_at": col.timestamps(at),
        "updated_at": col.timestamps(at),
    }


@TABLES.table(
    key="issue_link_id",
    slots=lambda m: m.issues,
    description="Links from 10% of issues to another issue of the same project, and a 'blocks' link onto every"
    " blocked issue.",
    columns=(
        Column("issue_link_id", INT, "Key of the link (dense 1..n)."),
        Column(
            "source_issue_id",
            INT,
            "Issue the link goes from (issues.issue_id); the blocker of a 'blocks' link.",
            references="issues",
        ),
        Column(
            "target_issue_id",
            INT,
            "Issue it points at, of the same project, never the source; the blocked issue of 'blocks'.",
            references="issues",
        ),
        Column("link_type", STRING, "relates_to, duplicates, clones, or blocks (only onto a blocked issue)."),
        Column("anomaly", STRING, "'blocked' on a 'blocks' link (the target's label); null otherwise."),
        Column("created_by_id", INT, "Who linked them (users.user_id).", references="users"),
        Column("created_at", TIMESTAMP, "When the link was made, after both issues were created."),
    ),
    # Built after comments, which no column references, so that its checks can read them (a blocked
    # issue's comment names the blocker of its "blocks" link).
    after=("comments",),
)
def issue_links(m: ScrumModel, lo: int, hi: int) -> Columns:
    """One slot per issue: a blocked issue is the target of a "blocks" link from its blocker; a keyed
    10% of issues link to another issue of the same project (never to themselves)."""
    i = ids(lo, hi)
    key0 = m.link_keys.offset(lo)
    label = m.issue_facts(i)["anomaly"]
    keep = m.linked(i, label)
    i, label = i[keep], label[keep]
    blocked = label == BLOCKED
    other = np.where(blocked, m.blocker(i), m.earlier_issue(i, "target"))
    source, target = np.where(blocked, other, i), np.where(blocked, i, other)
    p = m.issue_project(i)
    later = np.maximum(m.issue_facts(source)["created"], m.issue_facts(target)["created"])
    limit = m.project_limit(p) - 1
    # Linked within days of the later issue's filing.
    soon = np.minimum(later + int(LINK_DAYS_MAX * DAY), limit)
    at = np.maximum(m.work_moment(m.stream("issue_links", "at"), i, later + 1, soon), later + 1)
    kind = np.where(blocked, BLOCKS_LINK, categorical(m.stream("issue_links", "type"), i, LINK_TYPE_WEIGHTS))
    return {
        "issue_link_id": key0 + 1 + np.arange(len(i), dtype=np.int64),
        "source_issue_id": source + 1,
        "target_issue_id": target + 1,
        "link_type": pick(LINK_TYPES, kind),
        "anomaly": labels(np.where(blocked, BLOCKED, -1)),
        "created_by_id": 1 + m.stream("issue_links", "by").integers(i, 0, 1 + MEMBERS),
        "created_at": col.timestamps(np.minimum(at, limit)),
    }
