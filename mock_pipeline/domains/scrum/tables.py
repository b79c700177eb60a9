"""The scrum tables (seed 002): schema and a pure, columnar builder for each."""

from __future__ import annotations

import base64
import hashlib

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mock_pipeline.domains.scrum.model import (
    ANOMALY_LABELS,
    BLOCKED,
    BLOCKS_LINK,
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
    OVERDUE,
    PASSWORD_ITERATIONS,
    PRIORITIES,
    PROJECT_PRIORITY_WEIGHTS,
    PROJECT_STATUSES,
    REOPENED,
    SCOPE_CREEP,
    SPRINT_DAYS,
    SPRINT_SLOTS,
    STATUS_NAMES,
    STATUSES,
    STORY,
    SUBTASK,
    TASK,
    TEMPLATES,
    TO_DO,
    ScrumModel,
    permuted,
    working_time,
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
    TASK: (("Picked up; the ", "c", " changes are planned for this sprint."),
           ("Started on the ", "c", "; should be done tomorrow."),
           ("Paired on this; the ", "c", " config needed an update."),
           ("PR for the ", "c", " is up for review."),
           ("Done and verified on staging for the ", "c", ".")),
    BUG: (("Reproduced on staging in the ", "c", "."),
          ("Root cause found in the ", "c", ", fix in progress."),
          ("Added a regression test around ", "f", "."),
          ("Fix deployed; please verify ", "f", " again."),
          ("Verified the fix for ", "f", ", closing.")),
    EPIC: (("Goals of ", "f", " confirmed with stakeholders."),
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
    # Distinct first names keep the handles unique without a row counter in them.
    first = col.take(p.first_names, permuted(m.stream("users", "first"), u, len(p.first_names)))
    last = col.take(p.last_names, m.stream("users", "last").integers(u, 0, len(p.last_names)))
    handle = col.join(slug(first), ".", slug(last))
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
            "created_at": col.timestamps(m.founded + 30 + o),
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
    # Last touched on its last day (completed) or on as_of, in working hours.
    touched = np.where(ended > 0, ended, m.end) - DAY + working_time(m.stream("projects", "updated"), p)
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
            "start_date": _dates(m.project_day(p)),
            "end_date": pa.array(
                (np.maximum(ended - DAY, 0) // DAY).astype(np.int32), DATE, mask=ended < 0
            ),
            "created_at": col.timestamps(created),
            "updated_at": col.timestamps(np.maximum(touched, created + 3600)),
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
            "created_at": col.timestamps(m.project_created(p) + 60),
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
            "created_at": col.timestamps(m.project_created(p) + 60),
        },
        WORKFLOW_STATUSES,
    )


# (name, from status, to status): the same six moves in every project.
MOVES = (("Start progress", 0, 1), ("Submit for review", 1, 2), ("Approve", 2, 3), ("Request changes", 2, 1),
         ("Stop progress", 1, 0), ("Reopen", 3, 1))  # fmt: skip
WORKFLOW_TRANSITIONS = col.schema(
    ("workflow_transition_id", INT), ("project_id", INT), ("name", STRING), ("from_status_id", INT),
    ("to_status_id", INT), ("created_at", TIMESTAMP),
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
            "created_at": col.timestamps(m.project_created(p) + 90),
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
            "created_at": col.timestamps(m.project_created(p) + 120),
        },
        BOARDS,
    )


BOARD_COLUMNS = col.schema(
    ("board_column_id", INT), ("board_id", INT), ("workflow_status_id", INT), ("name", STRING), ("position", INT),
    ("wip_limit", INT), ("created_at", TIMESTAMP),
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
            "created_at": col.timestamps(m.project_created(p) + 150),
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
    key = m.sprint_keys.offset(lo) + 1 + np.arange(len(g), dtype=np.int64)
    start = m.sprint_start(p, j)
    end = start + SPRINT_DAYS * DAY  # first second after the last day
    status = np.select([end <= m.end, start < m.end], [2, 1], 0)
    domain = m.project_domain(p)
    # Planned a week ahead, never before the project's setup; sprints planned for after as_of
    # were all laid out when the project was set up.
    setup = m.project_created(p) + 300 + 60 * j
    ahead = start - 7 * DAY + working_time(m.stream("sprints", "created"), g)
    created = np.where(ahead < m.end, np.maximum(ahead, setup), setup)
    return col.table(
        {
            "sprint_id": key,
            "project_id": p + 1,
            "name": col.join(_pick([x.key for x in TEMPLATES], m.template[p]), " Sprint ", col.text(j + 1)),
            "goal": col.join("Deliver ", feature_text(domain, m.stream("sprints", "goal").integers(g, 0, 6))),
            "start_date": _dates(start),
            "end_date": _dates(end - DAY),
            "status": _pick(SPRINT_STATUSES, status),
            "created_at": col.timestamps(created),
            # Closed in the afternoon of the sprint's last day.
            "completed_at": col.timestamps(
                end - DAY + 14 * 3600 + m.stream("sprints", "completed").integers(g, 0, 5 * 3600), nulls=status != 2
            ),
        },
        SPRINTS,
    )


# --- issues, comments, links -------------------------------------------------------------------
ISSUES = col.schema(
    ("issue_id", INT), ("project_id", INT), ("key", STRING), ("issue_type_id", INT), ("workflow_status_id", INT),
    ("sprint_id", INT), ("title", STRING), ("description", STRING), ("priority", STRING), ("story_points", INT),
    ("original_story_points", INT), ("reporter_id", INT), ("assignee_id", INT), ("due_date", DATE),
    ("anomaly", STRING), ("created_at", TIMESTAMP), ("updated_at", TIMESTAMP), ("resolved_at", TIMESTAMP),
)  # fmt: skip

# Who uses each domain's product (with its article), and what they get from it (seed 002: "comments make sense in
# context"): two of each per business domain, in BUSINESS_DOMAINS order.
PERSONAS: dict[str, tuple[str, str]] = {
    "healthcare": ("a patient", "a clinician"), "finance": ("an account holder", "a risk analyst"),
    "e-commerce": ("a shopper", "a store manager"), "education": ("a student", "a teacher"),
    "logistics": ("a dispatcher", "a driver"), "real-estate": ("a tenant", "a letting agent"),
    "travel": ("a traveller", "a travel agent"), "media": ("a subscriber", "an editor"),
    "manufacturing": ("a line operator", "a plant manager"), "government": ("a citizen", "a case worker"),
    "utilities": ("a household customer", "a billing agent"),
}  # fmt: skip
BENEFITS: dict[str, tuple[str, str]] = {
    "healthcare": ("I spend less time on the phone with the clinic", "care teams see the same information"),
    "finance": ("I stay in control of my money", "suspicious activity is caught early"),
    "e-commerce": ("I can buy without friction", "fewer carts are abandoned"),
    "education": ("I keep track of my coursework", "teachers spend less time on admin"),
    "logistics": ("deliveries arrive on time", "drivers lose less time at the depot"),
    "real-estate": ("renting takes less paperwork", "agents close deals faster"),
    "travel": ("planning a trip takes minutes", "travellers rebook without calling us"),
    "media": ("I find something to watch quickly", "stories are published faster"),
    "manufacturing": ("downtime is spotted early", "shifts hand over without surprises"),
    "government": ("I do not need to visit an office", "cases are resolved faster"),
    "utilities": ("I understand my bill", "outages are reported sooner"),
}  # fmt: skip
ENVIRONMENTS = ("production", "staging", "the mobile app", "the web app")
IMPROVEMENT_AIMS = ("faster page loads", "clearer error messages", "fewer manual steps", "lower hosting costs")
# What an issue's description says about where it stands, by status.
STATUS_NOTES = ("Not started yet; ready to be picked up.", "Work in progress.", "The change is up for code review.",
                "Resolved and verified.")  # fmt: skip
_PERSONA_POOL = pa.array([x for d in BUSINESS_DOMAINS for x in PERSONAS[d]], STRING)
_BENEFIT_POOL = pa.array([x for d in BUSINESS_DOMAINS for x in BENEFITS[d]], STRING)


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
    return _by_kind(kind, [story, task, bug, epic, improvement, subtask])


def _by_kind(kind: np.ndarray, choices: list[pa.Array]) -> pa.Array:
    out = choices[0]
    for k in range(1, len(choices)):
        out = pc.if_else(pa.array(kind == k), choices[k], out)
    return out


def issue_description(m: ScrumModel, i: np.ndarray, p: np.ndarray, kind: np.ndarray, status: np.ndarray) -> pa.Array:
    """Composed from the issue type's template, the project domain's personas, benefits, features and
    components, and a note on the issue's status: never random words."""
    domain, feature, component = m.issue_theme(i, p)
    f, c = feature_text(domain, feature), component_text(domain, component)
    who = col.take(_PERSONA_POOL, domain * 2 + m.stream("issues", "persona").integers(i, 0, 2))
    why = col.take(_BENEFIT_POOL, domain * 2 + m.stream("issues", "benefit").integers(i, 0, 2))
    word = m.stream("issues", "detail").integers(i, 0, 4)
    story = col.join("As ", who, ", I want ", f, " so that ", why, ". Acceptance criteria: works on web and mobile,"
                     " covered by tests in the ", c, ".")  # fmt: skip
    task = col.join("Technical work on the ", c, " behind ", f, ". Done when the change is reviewed, deployed to"
                    " staging and documented.")  # fmt: skip
    bug = col.join("Steps to reproduce: open ", f, " as ", who, " and save. Expected: the request succeeds."
                   " Actual: the ", c, " ", _pick(SYMPTOMS, m.stream("issues", "verb").integers(i, 0, 6)),
                   ". Seen in ", _pick(ENVIRONMENTS, word), ".")  # fmt: skip
    epic = col.join("Delivers ", f, " end to end so that ", why, ": design, changes in the ", c, ", rollout and"
                    " monitoring.")  # fmt: skip
    improvement = col.join("Improvement to ", f, ": ", who, " would benefit from ", _pick(IMPROVEMENT_AIMS, word),
                           " in the ", c, ".")  # fmt: skip
    subtask = col.join("Part of the ", f, " story: automated tests for the ", c, ".")
    return col.join(_by_kind(kind, [story, task, bug, epic, improvement, subtask]), " ", _pick(STATUS_NOTES, status))


def issue_key(m: ScrumModel, i: np.ndarray, p: np.ndarray) -> pa.Array:
    return col.join(_pick([x.key for x in TEMPLATES], m.template[p]), "-", col.text(i - m.issue_first[p] + 1))


def issues(m: ScrumModel, lo: int, hi: int) -> pa.Table:
    i = _ids(lo, hi)
    facts = m.issue_facts(i)
    p, status, sprint, kind, label = facts["project"], facts["status"], facts["sprint"], facts["type"], facts["anomaly"]
    unassigned = (status == TO_DO) & m.stream("issues", "unassigned").bernoulli(i, 0.3)
    no_points = ~facts["has_points"]
    return col.table(
        {
            "issue_id": i + 1,
            "project_id": p + 1,
            "key": issue_key(m, i, p),
            "issue_type_id": p * len(ISSUE_TYPES) + kind + 1,
            "workflow_status_id": p * len(STATUSES) + status + 1,
            "sprint_id": col.ints(m.sprint_keys.keys(p * SPRINT_SLOTS + np.maximum(sprint, 0)), nulls=sprint < 0),
            "title": issue_title(m, i, p, kind),
            "description": issue_description(m, i, p, kind, status),
            "priority": _pick(PRIORITIES, categorical(m.stream("issues", "priority"), i, ISSUE_PRIORITY_WEIGHTS)),
            "story_points": col.ints(facts["points"], nulls=no_points),
            "original_story_points": col.ints(facts["original_points"], nulls=no_points),
            "reporter_id": 1 + m.stream("issues", "reporter").integers(i, 0, 1 + MEMBERS),
            "assignee_id": col.ints(2 + m.stream("issues", "assignee").integers(i, 0, MEMBERS), nulls=unassigned),
            "due_date": pa.array(np.maximum(facts["due_day"], 0).astype(np.int32), DATE, mask=facts["due_day"] < 0),
            "anomaly": _labels(label),
            "created_at": col.timestamps(facts["created"]),
            "updated_at": col.timestamps(facts["updated"]),
            "resolved_at": col.timestamps(np.maximum(facts["resolved"], 0), nulls=facts["resolved"] < 0),
        },
        ISSUES,
    )  # fmt: skip


def _labels(label: np.ndarray) -> pa.Array:
    """Anomaly label names, null where there is none."""
    idx = np.maximum(label, 0)
    return pa.array(np.asarray(ANOMALY_LABELS, dtype=object)[idx], STRING, mask=label < 0)


COMMENTS_TABLE = col.schema(
    ("comment_id", INT), ("issue_id", INT), ("author_id", INT), ("body", STRING), ("anomaly", STRING),
    ("created_at", TIMESTAMP), ("updated_at", TIMESTAMP),
)  # fmt: skip
_COMMENT_HEAD = pa.array([t[0] for k in range(len(ISSUE_TYPES)) for t in COMMENTS[k]], STRING)
_COMMENT_TAIL = pa.array([t[2] for k in range(len(ISSUE_TYPES)) for t in COMMENTS[k]], STRING)
_COMMENT_USES_FEATURE = np.array([t[1] == "f" for k in range(len(ISSUE_TYPES)) for t in COMMENTS[k]])


def problem_comment(m: ScrumModel, i: np.ndarray, facts: dict[str, np.ndarray]) -> pa.Array:
    """The comment that tells an anomalous issue's problem, in the words of its own label."""
    p, label = facts["project"], facts["anomaly"]
    domain, feature, component = m.issue_theme(i, p)
    f, c = feature_text(domain, feature), component_text(domain, component)
    blocker = m.blocker(i)
    blocked = col.join("Blocked by ", issue_key(m, blocker, m.issue_project(blocker)), ": the ", c,
                       " work cannot continue until it is done.")  # fmt: skip
    reopened = pc.if_else(
        pa.array(facts["status"] == DONE),
        col.join("Reopened after QA found a regression in ", f, "; fixed again and verified."),
        col.join("Reopened: ", f, " failed verification on staging, back in progress."),
    )
    due = pc.cast(pa.array(np.maximum(facts["due_day"], 0).astype(np.int32), DATE), STRING)
    overdue = col.join("Overdue: the due date ", due, " has passed and ", f, " is not finished yet.")
    grew = col.join("Scope grew: ", f, " now also needs changes in the ", c, "; re-estimated from ",
                    col.text(facts["original_points"]), " to ", col.text(facts["points"]), " points.")  # fmt: skip
    out = blocked
    for k, text in ((REOPENED, reopened), (OVERDUE, overdue), (SCOPE_CREEP, grew)):
        out = pc.if_else(pa.array(label == k), text, out)
    return out


def comments(m: ScrumModel, lo: int, hi: int) -> pa.Table:
    """1-5 comments on 60% of issues, spread in order between the issue's creation and its last
    update, worded for the issue's type, progress and project domain; an anomalous issue's last
    comment tells its problem."""
    s = _ids(lo, hi)
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
    template = facts["type"] * 5 + stage
    domain, feature, component = m.issue_theme(i, facts["project"])
    middle = pc.if_else(
        pa.array(_COMMENT_USES_FEATURE[template]), feature_text(domain, feature), component_text(domain, component)
    )
    body = col.join(col.take(_COMMENT_HEAD, template), middle, col.take(_COMMENT_TAIL, template))
    problem = (facts["anomaly"] >= 0) & (j == n - 1)
    body = pc.if_else(pa.array(problem), problem_comment(m, i, facts), body)
    return col.table(
        {
            "comment_id": key0 + 1 + np.arange(len(s), dtype=np.int64),
            "issue_id": i + 1,
            "author_id": 1 + m.stream("comments", "author").integers(s, 0, 1 + MEMBERS),
            "body": body,
            "anomaly": _labels(np.where(problem, facts["anomaly"], -1)),
            "created_at": col.timestamps(at),
            "updated_at": col.timestamps(at),
        },
        COMMENTS_TABLE,
    )


ISSUE_LINKS = col.schema(
    ("issue_link_id", INT), ("source_issue_id", INT), ("target_issue_id", INT), ("link_type", STRING),
    ("anomaly", STRING), ("created_by_id", INT), ("created_at", TIMESTAMP),
)  # fmt: skip


def issue_links(m: ScrumModel, lo: int, hi: int) -> pa.Table:
    """One slot per issue: a blocked issue is the target of a "blocks" link from its blocker; a keyed
    10% of issues link to another issue of the same project (never to themselves)."""
    i = _ids(lo, hi)
    key0 = m.link_keys.offset(lo)
    label = m.issue_facts(i)["anomaly"]
    keep = m.linked(i, label)
    i, label = i[keep], label[keep]
    blocked = label == BLOCKED
    other = np.where(blocked, m.blocker(i), m.other_issue(i, "target"))
    source, target = np.where(blocked, other, i), np.where(blocked, i, other)
    p = m.issue_project(i)
    later = np.maximum(m.issue_facts(source)["created"], m.issue_facts(target)["created"])
    limit = m.project_limit(p) - 1
    # Linked within a week of the later issue's filing.
    soon = np.minimum(later + 7 * DAY, limit)
    at = np.maximum(m.work_moment(m.stream("issue_links", "at"), i, later + 1, soon), later + 1)
    kind = np.where(blocked, BLOCKS_LINK, categorical(m.stream("issue_links", "type"), i, LINK_TYPE_WEIGHTS))
    return col.table(
        {
            "issue_link_id": key0 + 1 + np.arange(len(i), dtype=np.int64),
            "source_issue_id": source + 1,
            "target_issue_id": target + 1,
            "link_type": _pick(LINK_TYPES, kind),
            "anomaly": _labels(np.where(blocked, BLOCKED, -1)),
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


# Tables built after others they do not reference, so that their checks can read them (a blocked
# issue's comment names the blocker of its "blocks" link).
LATER_THAN: dict[str, tuple[str, ...]] = {"issue_links": ("comments",)}
# When each table's row came to be (the causal-order rules compare it with its parents').
CREATED: dict[str, str] = {
    "users": "date_joined", "organization_members": "joined_at", "workspace_members": "joined_at",
}  # fmt: skip
_MEMBER_COLUMNS = {
    "user_id": "The member (users.user_id).",
    "role": "The member's role.",
    "joined_at": "When the user joined, after the user's account and the parent were created.",
}
COLUMN_DESCRIPTIONS: dict[str, dict[str, str]] = {
    "users": {
        "user_id": "Key of the user; 1 is the owner account.",
        "email": "Login e-mail on an RFC 2606 reserved domain (never a real mailbox).",
        "username": "Login name: 'owner' for the owner, first.last for members.",
        "first_name": "Generated first name.",
        "last_name": "Generated last name.",
        "role": "owner (one) or member (five).",
        "password_hash": "PBKDF2-SHA256 hash of a random secret that is never stored; left out of users.csv.",
        "is_active": "Whether the account can log in.",
        "date_joined": "When the account was created, at the start of the history.",
        "last_login": "Last login, in the days before as_of.",
    },
    "organizations": {
        "organization_id": "Key of the organization (one).",
        "name": "Organization name.",
        "slug": "URL-safe name.",
        "owner_id": "The owner account (users.user_id).",
        "created_at": "When the organization was created, just after its owner's account.",
    },
    "organization_members": {"organization_member_id": "Key of the membership.",
                             "organization_id": "The organization (organizations.organization_id).", **_MEMBER_COLUMNS},
    "workspaces": {
        "workspace_id": "Key of the workspace (one).",
        "organization_id": "Its organization (organizations.organization_id).",
        "name": "Workspace name.",
        "slug": "URL-safe name.",
        "created_by_id": "Who created it (users.user_id).",
        "created_at": "When it was created, after its organization.",
    },
    "workspace_members": {"workspace_member_id": "Key of the membership.",
                          "workspace_id": "The workspace (workspaces.workspace_id).", **_MEMBER_COLUMNS},
    "projects": {
        "project_id": "Key of the project.",
        "workspace_id": "Its workspace (workspaces.workspace_id).",
        "name": "Project name, from seed 002's templates.",
        "key": "Unique project key (2-6 capitals) prefixing its issue keys.",
        "description": "What the project builds and its first release's focus.",
        "business_domain": "Business domain (healthcare, finance, e-commerce, ...); issue text follows it.",
        "methodology": "scrum (with sprints) or kanban (none).",
        "status": "planning, active or completed.",
        "priority": "low, medium, high or critical.",
        "lead_id": "Project lead (users.user_id).",
        "start_date": "First day of the project, a few days before its first sprint.",
        "end_date": "Last day of a completed project; null while it runs.",
        "created_at": "When the project was set up, in working hours of its first day.",
        "updated_at": "Last change: its last day (completed) or as_of.",
    },
    "issue_types": {
        "issue_type_id": "Key of the issue type.",
        "project_id": "Its project (projects.project_id).",
        "name": "Display name (Story, Task, Bug, Epic, Improvement, Sub-task).",
        "category": "story, task, bug, epic, improvement or subtask.",
        "is_default": "The type new issues get by default (task).",
        "created_at": "Created with the project's setup, a minute after the project.",
    },
    "workflow_statuses": {
        "workflow_status_id": "Key of the status.",
        "project_id": "Its project (projects.project_id).",
        "name": "Display name (To Do, In Progress, In Review, Done).",
        "category": "to_do, in_progress, in_review or done.",
        "position": "Order on the board, 1-4.",
        "is_initial": "Whether new issues start here (To Do).",
        "is_final": "Whether issues end here (Done).",
        "created_at": "Created with the project's setup.",
    },
    "workflow_transitions": {
        "workflow_transition_id": "Key of the transition.",
        "project_id": "Its project (projects.project_id).",
        "name": "Name of the move (Start progress, Approve, Reopen, ...).",
        "from_status_id": "Status it leaves (workflow_statuses.workflow_status_id).",
        "to_status_id": "Status it enters (workflow_statuses.workflow_status_id).",
        "created_at": "Created with the project's setup, after its statuses.",
    },
    "boards": {
        "board_id": "Key of the board (one per project).",
        "project_id": "Its project (projects.project_id).",
        "name": "Board name: project key and methodology.",
        "board_type": "scrum or kanban, as the project's methodology.",
        "created_at": "Created with the project's setup.",
    },
    "board_columns": {
        "board_column_id": "Key of the column.",
        "board_id": "Its board (boards.board_id).",
        "workflow_status_id": "The status the column shows (workflow_statuses.workflow_status_id).",
        "name": "Column name, the status's name.",
        "position": "Order on the board, 1-4.",
        "wip_limit": "Work-in-progress limit on kanban boards; null when none.",
        "created_at": "Created with its board.",
    },
    "sprints": {
        "sprint_id": "Key of the sprint (dense 1..n).",
        "project_id": "Its scrum project (projects.project_id).",
        "name": "Project key and sprint number.",
        "goal": "Sprint goal: a feature of the project's domain.",
        "start_date": "First day (calendar date); sprints of a project are back to back, never overlapping.",
        "end_date": "Last day (calendar date), 13 days after the first.",
        "status": "planned, active or completed against as_of.",
        "created_at": "When the sprint was planned: a week ahead, or at the project's setup.",
        "completed_at": "When the sprint was closed, on its last afternoon; null unless completed.",
    },
    "issues": {
        "issue_id": "Key of the issue.",
        "project_id": "Its project (projects.project_id).",
        "key": "Project key, '-', and the issue's number in the project.",
        "issue_type_id": "Its type, of its own project (issue_types.issue_type_id).",
        "workflow_status_id": "Its status, of its own project (workflow_statuses.workflow_status_id).",
        "sprint_id": "The sprint it was created in (scrum projects only); null for backlog and kanban work.",
        "title": "Title from the project domain's features and components, worded for the issue type.",
        "description": "Composed for the issue type and domain (persona, benefit, steps), with a status note.",
        "priority": "low, medium, high or critical.",
        "story_points": "Current estimate; null for epics and sub-tasks.",
        "original_story_points": "First estimate; lower than story_points only on scope_creep issues.",
        "reporter_id": "Who filed it (users.user_id).",
        "assignee_id": "Who works on it (users.user_id); null for some unstarted issues.",
        "due_date": "Due day: the sprint's last day, or a past day for overdue issues; null when none.",
        "anomaly": "Ground truth of an injected problem: blocked, reopened, overdue or scope_creep; null when none.",
        "created_at": "When it was filed: working hours, weekends quieter, busier in recent weeks.",
        "updated_at": "Last change; the resolution for done issues.",
        "resolved_at": "When it was resolved; set exactly for done issues.",
    },
    "comments": {
        "comment_id": "Key of the comment (dense 1..n).",
        "issue_id": "The issue (issues.issue_id).",
        "author_id": "Who wrote it (users.user_id).",
        "body": "Text for the issue's type, progress and domain; the last one of an anomalous issue tells its problem.",
        "anomaly": "The issue's anomaly label on the comment that tells it; null on the others.",
        "created_at": "When it was written, between the issue's creation and its last update.",
        "updated_at": "Last edit (comments are not edited: equals created_at).",
    },
    "issue_links": {
        "issue_link_id": "Key of the link (dense 1..n).",
        "source_issue_id": "Issue the link goes from (issues.issue_id); the blocker of a 'blocks' link.",
        "target_issue_id": "Issue it points at, of the same project, never the source; the blocked issue of 'blocks'.",
        "link_type": "relates_to, duplicates, clones, or blocks (only onto a blocked issue).",
        "anomaly": "'blocked' on a 'blocks' link (the target's label); null otherwise.",
        "created_by_id": "Who linked them (users.user_id).",
        "created_at": "When the link was made, after both issues were created.",
    },
}  # fmt: skip


def _spec(name: str, key: str, schema: pa.Schema, slots, build, description: str, **kw) -> TableSpec:
    fks = FOREIGN_KEYS.get(name, ())
    parents = tuple(dict.fromkeys([*(parent for _, parent in fks), *LATER_THAN.get(name, ())]))
    return TableSpec(
        DOMAIN, name, key, schema, description, slots, build, parents, foreign_keys=fks,
        created=CREATED.get(name, "created_at"), column_descriptions=COLUMN_DESCRIPTIONS[name], **kw,
    )  # fmt: skip


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
          "1-5 comments on 60% of issues, after the issue was created; an anomalous issue's last one tells"
          " its problem.", text_columns=("body",)),
    _spec("issue_links", "issue_link_id", ISSUE_LINKS, lambda m: m.issues, issue_links,
          "Links from 10% of issues to another issue of the same project, and a 'blocks' link onto every"
          " blocked issue."),
)  # fmt: skip
