"""The scrum tables (seed 002): schema and a pure, columnar builder for each."""

from __future__ import annotations

import base64
import hashlib

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mock_pipeline.domains.scrum.model import (
    BUG,
    BUSINESS_DOMAINS,
    COMMENT_SLOTS,
    DOMAIN,
    DONE,
    EPIC,
    IMPROVEMENT,
    ISSUE_PRIORITY_WEIGHTS,
    ISSUE_TYPE_NAMES,
    ISSUE_TYPES,
    LINK_TYPE_WEIGHTS,
    LINK_TYPES,
    METHODOLOGIES,
    PASSWORD_ITERATIONS,
    PRIORITIES,
    PROJECT_PRIORITY_WEIGHTS,
    PROJECT_STATUSES,
    SPRINT_DAYS,
    SPRINT_SLOTS,
    STATUS_NAMES,
    STATUSES,
    STORY,
    STORY_POINTS,
    SUBTASK,
    TASK,
    TEMPLATES,
    TO_DO,
    ScrumModel,
)
from mock_pipeline.engine import columns as col
from mock_pipeline.engine.columns import TIMESTAMP
from mock_pipeline.engine.distributions import categorical
from mock_pipeline.engine.pools import slug
from mock_pipeline.engine.table import TableSpec
from mock_pipeline.engine.timeline import DAY

STRING = pa.string()
INT = pa.int64()
DATE = pa.date32()
EMAIL_DOMAIN = "ficct-scrum.example"  # RFC 2606 reserved: never a real mailbox
MEMBERS = 5

# Word banks per business domain: six features and five components (seed 002's FEATURES and
# COMPONENTS), so that titles and comments fit the project.
FEATURES: dict[str, tuple[str, ...]] = {
    "healthcare": ("patient appointment booking", "lab result notifications", "prescription refills",
                   "electronic health records", "telehealth video visits", "insurance eligibility checks"),
    "finance": ("instant transfers", "card freeze and unfreeze", "loan repayment schedule", "fraud alerts",
                "monthly budget insights", "two-factor login"),
    "e-commerce": ("one-page checkout", "product recommendations", "wishlist sharing", "order tracking",
                   "discount codes", "guest checkout"),
    "education": ("course enrolment", "assignment submission", "gradebook export", "attendance tracking",
                  "discussion forums", "exam scheduling"),
    "logistics": ("route optimisation", "proof of delivery", "shipment tracking", "driver check-in",
                  "pick list generation", "dock appointment booking"),
    "real-estate": ("property search filters", "viewing requests", "rent payment reminders",
                    "maintenance requests", "offer submission", "lease renewals"),
    "travel": ("flight search", "hotel booking", "itinerary sharing", "loyalty points redemption",
               "seat selection", "trip cancellation"),
    "media": ("video playback", "subscription plans", "article publishing", "content recommendations",
              "offline downloads", "editorial review"),
    "manufacturing": ("machine downtime alerts", "production order tracking", "defect reporting",
                      "shift handover notes", "spare part requests", "OEE dashboard"),
    "government": ("permit applications", "document upload", "appointment booking", "payment of fees",
                   "application status tracking", "identity verification"),
    "utilities": ("smart meter readings", "bill explanations", "usage alerts", "tariff comparison",
                  "outage reporting", "direct debit setup"),
}  # fmt: skip
COMPONENTS: dict[str, tuple[str, ...]] = {
    "healthcare": ("scheduling service", "patient record API", "HL7 interface", "clinician dashboard", "mobile app"),
    "finance": ("payments service", "ledger", "card processor adapter", "mobile app", "risk engine"),
    "e-commerce": ("cart service", "catalogue API", "payment gateway", "storefront", "search index"),
    "education": ("course service", "grading module", "student portal", "LMS API", "notification service"),
    "logistics": ("tracking service", "dispatch console", "driver app", "routing engine", "warehouse scanner"),
    "real-estate": ("listing service", "search index", "tenant portal", "payments module", "agent dashboard"),
    "travel": ("booking engine", "fare cache", "itinerary service", "partner API", "mobile app"),
    "media": ("video player", "CMS", "subscription service", "recommendation engine", "CDN config"),
    "manufacturing": ("telemetry collector", "MES API", "operator terminal", "reporting service", "PLC gateway"),
    "government": ("forms engine", "case management", "citizen portal", "document store", "identity service"),
    "utilities": ("meter data service", "billing engine", "customer portal", "usage API", "outage map"),
}  # fmt: skip
STORY_VERBS = ("Implement", "Add", "Support", "Enable", "Build")
TASK_VERBS = ("Set up monitoring for", "Refactor", "Write integration tests for", "Document", "Upgrade dependencies of",
              "Add logging to")  # fmt: skip
SYMPTOMS = ("times out", "shows wrong totals", "crashes on save", "creates duplicate records", "loads slowly",
            "rejects valid input")  # fmt: skip
IMPROVEMENTS = ("Speed up", "Simplify", "Improve error messages of", "Reduce costs of")
# Comment templates by issue type, in the order work progresses (stage 0: before work starts,
# then started, in progress, in review, done); {f} is a feature and {c} a component of the
# project's domain. An issue's comments walk through the stages its status has reached.
COMMENTS: dict[int, tuple[tuple[str, str, str], ...]] = {
    STORY: (("Acceptance criteria for ", "f", " are agreed with the product owner."),
            ("Design for ", "f", " is ready, starting work."),
            ("Split the UI part of ", "f", " into a sub-task."),
            ("Needs a change in the ", "c", " before we can finish."),
            ("Demoed ", "f", " in the sprint review, feedback was positive.")),
    TASK: (("Blocked until the ", "c", " is deployed to staging."),
           ("Started on the ", "c", "; should be done tomorrow."),
           ("Paired on this; the ", "c", " config needed an update."),
           ("PR for the ", "c", " is up for review."),
           ("Done and verified on staging for the ", "c", ".")),
    BUG: (("Reproduced on staging in the ", "c", "."),
          ("Root cause found in the ", "c", ", fix in progress."),
          ("Added a regression test around ", "f", "."),
          ("Fix deployed; please verify ", "f", " again."),
          ("Verified the fix for ", "f", ", closing.")),
    EPIC: (("Scope of ", "f", " confirmed with stakeholders."),
           ("Broke ", "f", " down into stories."),
           ("Moved the ", "c", " work to the next milestone."),
           ("Most stories of ", "f", " are done, two remain."),
           ("All stories of ", "f", " are done; closing the epic.")),
}  # fmt: skip
# How many stages an issue's comments can reach, by status (to do, in progress, in review, done).
COMMENT_STAGES = np.array([1, 3, 4, 5])
COMMENTS[IMPROVEMENT] = COMMENTS[TASK]
COMMENTS[SUBTASK] = COMMENTS[TASK]
ORG_NAME = "FICCT Software Factory"


def _ids(lo: int, hi: int) -> np.ndarray:
    return np.arange(lo, hi, dtype=np.int64)


def _pick(values: tuple[str, ...] | list[str], idx: np.ndarray) -> pa.Array:
    return col.take(pa.array(values, STRING), idx)


def _dates(seconds: np.ndarray) -> pa.Array:
    return pa.array((np.asarray(seconds, dtype=np.int64) // DAY).astype(np.int32), DATE)


_FEATURE_POOL = pa.array([f for d in BUSINESS_DOMAINS for f in FEATURES[d]], STRING)
_COMPONENT_POOL = pa.array([c for d in BUSINESS_DOMAINS for c in COMPONENTS[d]], STRING)


def feature_text(domain: np.ndarray, feature: np.ndarray) -> pa.Array:
    return col.take(_FEATURE_POOL, domain * 6 + feature)


def component_text(domain: np.ndarray, component: np.ndarray) -> pa.Array:
    return col.take(_COMPONENT_POOL, domain * 5 + component)


# --- people and tenancy ------------------------------------------------------------------------
USERS = col.schema(
    ("user_id", INT), ("email", STRING), ("username", STRING), ("first_name", STRING), ("last_name", STRING),
    ("role", STRING), ("password_hash", STRING), ("is_active", pa.bool_()), ("date_joined", TIMESTAMP),
    ("last_login", TIMESTAMP),
)  # fmt: skip


def password_hash(m: ScrumModel, u: int) -> str:
    """Django's pbkdf2_sha256 format. The password is a random secret of the counter stream that
    is hashed and dropped here: it is never stored, logged or exported."""
    secret = m.stream("users", "password").sub(str(u)).bits(np.arange(4)).tobytes()
    salt = m.stream("users", "salt").sub(str(u)).bits(np.arange(2)).tobytes().hex()
    digest = hashlib.pbkdf2_hmac("sha256", secret, salt.encode(), PASSWORD_ITERATIONS)
    return f"pbkdf2_sha256${PASSWORD_ITERATIONS}${salt}${base64.b64encode(digest).decode()}"


def users(m: ScrumModel, lo: int, hi: int) -> pa.Table:
    """The owner (user 1) and five team members; names and e-mails generated, never the seed's."""
    u = _ids(lo, hi)
    p = m.pools
    first = col.take(p.first_names, m.stream("users", "first").integers(u, 0, len(p.first_names)))
    last = col.take(p.last_names, m.stream("users", "last").integers(u, 0, len(p.last_names)))
    handle = col.join(slug(first), ".", slug(last), col.text(u))
    owner = pa.array(u == 0)
    username = pc.if_else(owner, "owner", handle)
    joined = m.founded + 600 * u
    # Few users: hashing six passwords is a loop over users, not over generated rows.
    hashes = pa.array([password_hash(m, int(x)) for x in u], STRING)
    return col.table(
        {
            "user_id": u + 1,
            "email": col.join(username, "@", EMAIL_DOMAIN),
            "username": username,
            "first_name": first,
            "last_name": last,
            "role": pc.if_else(owner, "owner", "member"),
            "password_hash": hashes,
            "is_active": np.ones(len(u), dtype=bool),
            "date_joined": col.timestamps(joined),
            "last_login": col.timestamps(m.end - 1 - m.stream("users", "login").integers(u, 0, 3 * DAY)),
        },
        USERS,
    )


ORGANIZATIONS = col.schema(
    ("organization_id", INT), ("name", STRING), ("slug", STRING), ("owner_id", INT), ("created_at", TIMESTAMP),
)  # fmt: skip


def organizations(m: ScrumModel, lo: int, hi: int) -> pa.Table:
    o = _ids(lo, hi)
    return col.table(
        {
            "organization_id": o + 1,
            "name": pa.array([ORG_NAME] * len(o), STRING),
            "slug": pa.array(["ficct-software-factory"] * len(o), STRING),
            "owner_id": np.ones(len(o), dtype=np.int64),
            "created_at": col.timestamps(m.founded + o),
        },
        ORGANIZATIONS,
    )


WORKSPACES = col.schema(
    ("workspace_id", INT), ("organization_id", INT), ("name", STRING), ("slug", STRING), ("created_by_id", INT),
    ("created_at", TIMESTAMP),
)  # fmt: skip


def workspaces(m: ScrumModel, lo: int, hi: int) -> pa.Table:
    w = _ids(lo, hi)
    return col.table(
        {
            "workspace_id": w + 1,
            "organization_id": np.ones(len(w), dtype=np.int64),
            "name": pa.array(["Product Development"] * len(w), STRING),
            "slug": pa.array(["product-development"] * len(w), STRING),
            "created_by_id": np.ones(len(w), dtype=np.int64),
            "created_at": col.timestamps(m.founded + 60 + w),
        },
        WORKSPACES,
    )


def _membership(key: str, parent: str, roles: tuple[str, ...]) -> tuple[pa.Schema, object]:
    schema = col.schema((key, INT), (parent, INT), ("user_id", INT), ("role", STRING), ("joined_at", TIMESTAMP))

    def build(m: ScrumModel, lo: int, hi: int) -> pa.Table:
        u = _ids(lo, hi)
        return col.table(
            {
                key: u + 1,
                parent: np.ones(len(u), dtype=np.int64),
                "user_id": u + 1,
                "role": _pick(roles, np.minimum(u, len(roles) - 1)),
                "joined_at": col.timestamps(m.founded + 600 * u + 120),
            },
            schema,
        )

    return schema, build


ORGANIZATION_MEMBERS, organization_members = _membership(
    "organization_member_id", "organization_id", ("owner", "admin", "member")
)
WORKSPACE_MEMBERS, workspace_members = _membership("workspace_member_id", "workspace_id", ("admin", "member"))


# --- projects and their configuration ----------------------------------------------------------
PROJECTS = col.schema(
    ("project_id", INT), ("workspace_id", INT), ("name", STRING), ("key", STRING), ("description", STRING),
    ("business_domain", STRING), ("methodology", STRING), ("status", STRING), ("priority", STRING),
    ("lead_id", INT), ("start_date", DATE), ("end_date", DATE), ("created_at", TIMESTAMP),
    ("updated_at", TIMESTAMP),
)  # fmt: skip


def projects(m: ScrumModel, lo: int, hi: int) -> pa.Table:
    p = _ids(lo, hi)
    t = m.template[p]
    created = m.project_created(p)
    ended = m.project_ended(p)
    domain = m.project_domain(p)
    return col.table(
        {
            "project_id": p + 1,
            "workspace_id": np.ones(len(p), dtype=np.int64),
            "name": _pick([x.name for x in TEMPLATES], t),
            "key": _pick([x.key for x in TEMPLATES], t),
            "description": col.join(
                _pick([x.description for x in TEMPLATES], t), " First release focuses on ",
                feature_text(domain, m.stream("projects", "focus").integers(p, 0, 6)), ".",
            ),
            "business_domain": _pick(BUSINESS_DOMAINS, domain),
            "methodology": _pick(METHODOLOGIES, m.project_kanban[p].astype(np.int64)),
            "status": _pick(PROJECT_STATUSES, m.project_status[p]),
            "priority": _pick(PRIORITIES, categorical(m.stream("projects", "priority"), p, PROJECT_PRIORITY_WEIGHTS)),
            "lead_id": 1 + m.stream("projects", "lead").integers(p, 0, 1 + MEMBERS),
            "start_date": _dates(created),
            "end_date": pa.array(
                (np.maximum(ended - DAY, 0) // DAY).astype(np.int32), DATE, mask=ended < 0
            ),
            "created_at": col.timestamps(created + 9 * 3600),
            "updated_at": col.timestamps(np.where(ended > 0, ended - 3600, m.end - 3600)),
        },
        PROJECTS,
    )  # fmt: skip


def _per_project(slots: int, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    g = _ids(lo, hi)
    return g, g // slots, g % slots


ISSUE_TYPE_TABLE = col.schema(
    ("issue_type_id", INT), ("project_id", INT), ("name", STRING), ("category", STRING), ("is_default", pa.bool_()),
    ("created_at", TIMESTAMP),
)  # fmt: skip


def issue_types(m: ScrumModel, lo: int, hi: int) -> pa.Table:
    g, p, k = _per_project(len(ISSUE_TYPES), lo, hi)
    return col.table(
        {
            "issue_type_id": g + 1,
            "project_id": p + 1,
            "name": _pick(ISSUE_TYPE_NAMES, k),
            "category": _pick(ISSUE_TYPES, k),
            "is_default": k == TASK,
            "created_at": col.timestamps(m.project_created(p) + 9 * 3600 + 60),
        },
        ISSUE_TYPE_TABLE,
    )


WORKFLOW_STATUSES = col.schema(
    ("workflow_status_id", INT), ("project_id", INT), ("name", STRING), ("category", STRING), ("position", INT),
    ("is_initial", pa.bool_()), ("is_final", pa.bool_()), ("created_at", TIMESTAMP),
)  # fmt: skip


def workflow_statuses(m: ScrumModel, lo: int, hi: int) -> pa.Table:
    g, p, k = _per_project(len(STATUSES), lo, hi)
    return col.table(
        {
            "workflow_status_id": g + 1,
            "project_id": p + 1,
            "name": _pick(STATUS_NAMES, k),
            "category": _pick(STATUSES, k),
            "position": k + 1,
            "is_initial": k == TO_DO,
            "is_final": k == DONE,
            "created_at": col.timestamps(m.project_created(p) + 9 * 3600 + 60),
        },
        WORKFLOW_STATUSES,
    )


# (name, from status, to status): the same six moves in every project.
MOVES = (("Start progress", 0, 1), ("Submit for review", 1, 2), ("Approve", 2, 3), ("Request changes", 2, 1),
         ("Stop progress", 1, 0), ("Reopen", 3, 1))  # fmt: skip
WORKFLOW_TRANSITIONS = col.schema(
    ("workflow_transition_id", INT), ("project_id", INT), ("name", STRING), ("from_status_id", INT),
    ("to_status_id", INT),
)  # fmt: skip


def workflow_transitions(m: ScrumModel, lo: int, hi: int) -> pa.Table:
    g, p, k = _per_project(len(MOVES), lo, hi)
    first_status = p * len(STATUSES) + 1
    return col.table(
        {
            "workflow_transition_id": g + 1,
            "project_id": p + 1,
            "name": _pick([x[0] for x in MOVES], k),
            "from_status_id": first_status + np.array([x[1] for x in MOVES])[k],
            "to_status_id": first_status + np.array([x[2] for x in MOVES])[k],
        },
        WORKFLOW_TRANSITIONS,
    )


BOARDS = col.schema(
    ("board_id", INT), ("project_id", INT), ("name", STRING), ("board_type", STRING), ("created_at", TIMESTAMP),
)  # fmt: skip


def boards(m: ScrumModel, lo: int, hi: int) -> pa.Table:
    p = _ids(lo, hi)
    kind = _pick(METHODOLOGIES, m.project_kanban[p].astype(np.int64))
    return col.table(
        {
            "board_id": p + 1,
            "project_id": p + 1,
            "name": col.join(_pick([x.key for x in TEMPLATES], m.template[p]), " ", kind, " board"),
            "board_type": kind,
            "created_at": col.timestamps(m.project_created(p) + 9 * 3600 + 120),
        },
        BOARDS,
    )


BOARD_COLUMNS = col.schema(
    ("board_column_id", INT), ("board_id", INT), ("workflow_status_id", INT), ("name", STRING), ("position", INT),
    ("wip_limit", INT),
)  # fmt: skip
KANBAN_WIP = (0, 5, 3, 0)  # WIP limits of in progress and in review on kanban boards


def board_columns(m: ScrumModel, lo: int, hi: int) -> pa.Table:
    g, p, k = _per_project(len(STATUSES), lo, hi)
    wip = np.asarray(KANBAN_WIP)[k]
    return col.table(
        {
            "board_column_id": g + 1,
            "board_id": p + 1,
            "workflow_status_id": g + 1,  # column k of board p shows status k of project p
            "name": _pick(STATUS_NAMES, k),
            "position": k + 1,
            "wip_limit": col.ints(wip, nulls=~m.project_kanban[p] | (wip == 0)),
        },
        BOARD_COLUMNS,
    )


# --- sprints -----------------------------------------------------------------------------------
SPRINTS = col.schema(
    ("sprint_id", INT), ("project_id", INT), ("name", STRING), ("goal", STRING), ("start_date", DATE),
    ("end_date", DATE), ("status", STRING), ("created_at", TIMESTAMP), ("completed_at", TIMESTAMP),
)  # fmt: skip
SPRINT_STATUSES = ("planned", "active", "completed")


def sprints(m: ScrumModel, lo: int, hi: int) -> pa.Table:
    """Slot j of project p is its sprint j when j < its sprint count (none for kanban)."""
    g, p, j = _per_project(SPRINT_SLOTS, lo, hi)
    keep = j < m.sprint_count(p)
    g, p, j = g[keep], p[keep], j[keep]
    start = m.sprint_start(p, j)
    end = start + SPRINT_DAYS * DAY  # first second after the last day
    status = np.select([end <= m.end, start < m.end], [2, 1], 0)
    domain = m.project_domain(p)
    # Planned a week ahead, never before the project's setup; sprints planned for after as_of
    # were all laid out when the project was set up.
    setup = m.project_created(p) + 9 * 3600 + 300 + 60 * j
    ahead = start - 7 * DAY + 10 * 3600
    created = np.where(ahead < m.end, np.maximum(ahead, setup), setup)
    return col.table(
        {
            "sprint_id": g + 1,
            "project_id": p + 1,
            "name": col.join(_pick([x.key for x in TEMPLATES], m.template[p]), " Sprint ", col.text(j + 1)),
            "goal": col.join("Deliver ", feature_text(domain, m.stream("sprints", "goal").integers(g, 0, 6))),
            "start_date": _dates(start),
            "end_date": _dates(end - DAY),
            "status": _pick(SPRINT_STATUSES, status),
            "created_at": col.timestamps(created),
            "completed_at": col.timestamps(end - 6 * 3600, nulls=status != 2),
        },
        SPRINTS,
    )


# --- issues, comments, links -------------------------------------------------------------------
ISSUES = col.schema(
    ("issue_id", INT), ("project_id", INT), ("key", STRING), ("issue_type_id", INT), ("workflow_status_id", INT),
    ("sprint_id", INT), ("title", STRING), ("description", STRING), ("priority", STRING), ("story_points", INT),
    ("reporter_id", INT), ("assignee_id", INT), ("created_at", TIMESTAMP), ("updated_at", TIMESTAMP),
    ("resolved_at", TIMESTAMP),
)  # fmt: skip


def issue_title(m: ScrumModel, i: np.ndarray, p: np.ndarray, kind: np.ndarray) -> pa.Array:
    domain, feature, component = m.issue_theme(i, p)
    f, c = feature_text(domain, feature), component_text(domain, component)
    word = m.stream("issues", "verb").integers(i, 0, 6)
    story = col.join(_pick(STORY_VERBS, word % len(STORY_VERBS)), " ", f)
    task = col.join(_pick(TASK_VERBS, word), " the ", c)
    bug = col.join("The ", c, " ", _pick(SYMPTOMS, word), " during ", f)
    epic = col.join("End-to-end ", f)
    improvement = col.join(_pick(IMPROVEMENTS, word % len(IMPROVEMENTS)), " ", f)
    subtask = col.join("Add tests for ", f, " in the ", c)
    choices = [story, task, bug, epic, improvement, subtask]
    out = choices[0]
    for k in range(1, len(choices)):
        out = pc.if_else(pa.array(kind == k), choices[k], out)
    return out


def issues(m: ScrumModel, lo: int, hi: int) -> pa.Table:
    i = _ids(lo, hi)
    times = m.issue_times(i)
    p, status, sprint = times["project"], times["status"], times["sprint"]
    kind = m.issue_type(i)
    title = issue_title(m, i, p, kind)
    points = np.asarray(STORY_POINTS)[m.stream("issues", "points").integers(i, 0, len(STORY_POINTS))]
    unassigned = (status == TO_DO) & m.stream("issues", "unassigned").bernoulli(i, 0.3)
    domain, feature, _ = m.issue_theme(i, p)
    return col.table(
        {
            "issue_id": i + 1,
            "project_id": p + 1,
            "key": col.join(_pick([x.key for x in TEMPLATES], m.template[p]), "-", col.text(i - m.issue_first[p] + 1)),
            "issue_type_id": p * len(ISSUE_TYPES) + kind + 1,
            "workflow_status_id": p * len(STATUSES) + status + 1,
            "sprint_id": col.ints(p * SPRINT_SLOTS + sprint + 1, nulls=sprint < 0),
            "title": title,
            "description": col.join(
                title, ". Context: ", feature_text(domain, feature), " for the ", _pick(BUSINESS_DOMAINS, domain),
                " team. ", col.take(m.pools.sentences, m.stream("issues", "note").integers(i, 0, len(m.pools.sentences))),
            ),
            "priority": _pick(PRIORITIES, categorical(m.stream("issues", "priority"), i, ISSUE_PRIORITY_WEIGHTS)),
            "story_points": col.ints(points, nulls=(kind == EPIC) | (kind == SUBTASK)),
            "reporter_id": 1 + m.stream("issues", "reporter").integers(i, 0, 1 + MEMBERS),
            "assignee_id": col.ints(2 + m.stream("issues", "assignee").integers(i, 0, MEMBERS), nulls=unassigned),
            "created_at": col.timestamps(times["created"]),
            "updated_at": col.timestamps(times["updated"]),
            "resolved_at": col.timestamps(np.maximum(times["resolved"], 0), nulls=times["resolved"] < 0),
        },
        ISSUES,
    )  # fmt: skip


COMMENTS_TABLE = col.schema(
    ("comment_id", INT), ("issue_id", INT), ("author_id", INT), ("body", STRING), ("created_at", TIMESTAMP),
    ("updated_at", TIMESTAMP),
)  # fmt: skip
_COMMENT_HEAD = pa.array([t[0] for k in range(len(ISSUE_TYPES)) for t in COMMENTS[k]], STRING)
_COMMENT_TAIL = pa.array([t[2] for k in range(len(ISSUE_TYPES)) for t in COMMENTS[k]], STRING)
_COMMENT_USES_FEATURE = np.array([t[1] == "f" for k in range(len(ISSUE_TYPES)) for t in COMMENTS[k]])


def comments(m: ScrumModel, lo: int, hi: int) -> pa.Table:
    """1-5 comments on 60% of issues, spread in order between the issue's creation and its last
    update, worded for the issue's type, progress and project domain."""
    s = _ids(lo, hi)
    i, j = s // COMMENT_SLOTS, s % COMMENT_SLOTS
    n = m.comment_count(i)
    keep = j < n
    s, i, j, n = s[keep], i[keep], j[keep], n[keep]
    times = m.issue_times(i)
    created, updated = times["created"], times["updated"]
    position = (j + m.stream("comments", "at").uniform(s)) / n  # in (0, 1), increasing with j
    at = np.maximum(created + np.floor((updated - created) * position).astype(np.int64), created + 1)
    # Later comments speak of later stages, never past what the issue's status has reached.
    stages = COMMENT_STAGES[times["status"]]
    stage = np.minimum(np.floor(stages * position).astype(np.int64), stages - 1)
    template = m.issue_type(i) * 5 + stage
    domain, feature, component = m.issue_theme(i, times["project"])
    middle = pc.if_else(
        pa.array(_COMMENT_USES_FEATURE[template]), feature_text(domain, feature), component_text(domain, component)
    )
    return col.table(
        {
            "comment_id": s + 1,
            "issue_id": i + 1,
            "author_id": 1 + m.stream("comments", "author").integers(s, 0, 1 + MEMBERS),
            "body": col.join(col.take(_COMMENT_HEAD, template), middle, col.take(_COMMENT_TAIL, template)),
            "created_at": col.timestamps(at),
            "updated_at": col.timestamps(at),
        },
        COMMENTS_TABLE,
    )


ISSUE_LINKS = col.schema(
    ("issue_link_id", INT), ("source_issue_id", INT), ("target_issue_id", INT), ("link_type", STRING),
    ("created_by_id", INT), ("created_at", TIMESTAMP),
)  # fmt: skip


def issue_links(m: ScrumModel, lo: int, hi: int) -> pa.Table:
    """About 10% of issues link to another issue of the same project (never to themselves)."""
    i = _ids(lo, hi)
    i = i[m.linked(i)]
    p = m.issue_project(i)
    n, first = m.issue_count[p], m.issue_first[p]
    local = i - first
    target = first + (local + 1 + m.stream("issue_links", "target").integers(i, 0, np.maximum(n - 1, 1))) % n
    later = np.maximum(m.issue_times(i)["created"], m.issue_times(target)["created"])
    limit = np.minimum(m.project_limit(p), m.end) - 1
    at = (
        later
        + 1
        + np.floor(m.stream("issue_links", "at").uniform(i) * np.maximum(limit - later - 1, 0)).astype(np.int64)
    )
    return col.table(
        {
            "issue_link_id": i + 1,
            "source_issue_id": i + 1,
            "target_issue_id": target + 1,
            "link_type": _pick(LINK_TYPES, categorical(m.stream("issue_links", "type"), i, LINK_TYPE_WEIGHTS)),
            "created_by_id": 1 + m.stream("issue_links", "by").integers(i, 0, 1 + MEMBERS),
            "created_at": col.timestamps(np.minimum(at, limit)),
        },
        ISSUE_LINKS,
    )


# --- specs -------------------------------------------------------------------------------------
FOREIGN_KEYS: dict[str, tuple[tuple[str, str], ...]] = {
    "organizations": (("owner_id", "users"),),
    "organization_members": (("organization_id", "organizations"), ("user_id", "users")),
    "workspaces": (("organization_id", "organizations"), ("created_by_id", "users")),
    "workspace_members": (("workspace_id", "workspaces"), ("user_id", "users")),
    "projects": (("workspace_id", "workspaces"), ("lead_id", "users")),
    "issue_types": (("project_id", "projects"),),
    "workflow_statuses": (("project_id", "projects"),),
    "workflow_transitions": (("project_id", "projects"), ("from_status_id", "workflow_statuses"),
                             ("to_status_id", "workflow_statuses")),
    "boards": (("project_id", "projects"),),
    "board_columns": (("board_id", "boards"), ("workflow_status_id", "workflow_statuses")),
    "sprints": (("project_id", "projects"),),
    "issues": (("project_id", "projects"), ("issue_type_id", "issue_types"),
               ("workflow_status_id", "workflow_statuses"), ("sprint_id", "sprints"), ("reporter_id", "users"),
               ("assignee_id", "users")),
    "comments": (("issue_id", "issues"), ("author_id", "users")),
    "issue_links": (("source_issue_id", "issues"), ("target_issue_id", "issues"), ("created_by_id", "users")),
}  # fmt: skip


def _spec(name: str, key: str, schema: pa.Schema, slots, build, description: str, **kw) -> TableSpec:
    fks = FOREIGN_KEYS.get(name, ())
    parents = tuple(dict.fromkeys(parent for _, parent in fks))
    return TableSpec(DOMAIN, name, key, schema, description, slots, build, parents, foreign_keys=fks, **kw)


TABLES: tuple[TableSpec, ...] = (
    _spec("users", "user_id", USERS, lambda m: 1 + MEMBERS, users,
          "The owner and five team members; a PBKDF2 password hash only, left out of users.csv.",
          export_exclude=("password_hash",)),
    _spec("organizations", "organization_id", ORGANIZATIONS, lambda m: 1, organizations,
          "The one organization, owned by the owner."),
    _spec("organization_members", "organization_member_id", ORGANIZATION_MEMBERS, lambda m: 1 + MEMBERS,
          organization_members, "Every user is a member of the organization."),
    _spec("workspaces", "workspace_id", WORKSPACES, lambda m: 1, workspaces, "The one workspace for projects."),
    _spec("workspace_members", "workspace_member_id", WORKSPACE_MEMBERS, lambda m: 1 + MEMBERS, workspace_members,
          "Every user is a member of the workspace."),
    _spec("projects", "project_id", PROJECTS, lambda m: m.projects, projects,
          "Projects from templates across business domains: scrum or kanban, planning/active/completed.",
          text_columns=("name", "description")),
    _spec("issue_types", "issue_type_id", ISSUE_TYPE_TABLE, lambda m: m.projects * len(ISSUE_TYPES), issue_types,
          "Six issue types per project."),
    _spec("workflow_statuses", "workflow_status_id", WORKFLOW_STATUSES, lambda m: m.projects * len(STATUSES),
          workflow_statuses, "Four workflow statuses per project."),
    _spec("workflow_transitions", "workflow_transition_id", WORKFLOW_TRANSITIONS,
          lambda m: m.projects * len(MOVES), workflow_transitions, "Allowed moves between a project's statuses."),
    _spec("boards", "board_id", BOARDS, lambda m: m.projects, boards, "One board per project."),
    _spec("board_columns", "board_column_id", BOARD_COLUMNS, lambda m: m.projects * len(STATUSES), board_columns,
          "A board's columns, one per workflow status of its project."),
    _spec("sprints", "sprint_id", SPRINTS, lambda m: m.projects * SPRINT_SLOTS, sprints,
          "3-8 back-to-back two-week sprints per scrum project, none for kanban."),
    _spec("issues", "issue_id", ISSUES, lambda m: m.issues, issues,
          "Issues: type mix 50/25/15/10, status by project state, sprint work inside sprint dates.",
          text_columns=("title", "description")),
    _spec("comments", "comment_id", COMMENTS_TABLE, lambda m: m.issues * COMMENT_SLOTS, comments,
          "1-5 comments on 60% of issues, after the issue was created.", text_columns=("body",)),
    _spec("issue_links", "issue_link_id", ISSUE_LINKS, lambda m: m.issues, issue_links,
          "Links from 10% of issues to another issue of the same project."),
)  # fmt: skip
