"""The scrum world's fixed parameters (seed 002, FICCT-Scrum): project templates, workflow statuses and
their shares, issue types and how the profile's anomaly rate shifts them, sprint, comment and link counts,
anomaly labels and the calendar's constants. Pure Python and numpy."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DOMAIN = "scrum"


@dataclass(frozen=True)
class Template:
    name: str
    key: str
    business_domain: str
    description: str


# Two project templates per business domain (seed 002's PROJECT_TEMPLATES).
TEMPLATES: tuple[Template, ...] = (
    Template("Patient Portal", "PAT", "healthcare", "Online portal for patients to book appointments and read results."),
    Template("Clinic Scheduling", "CLIN", "healthcare", "Scheduling and resource planning for outpatient clinics."),
    Template("Mobile Banking App", "BANK", "finance", "Mobile banking with transfers, cards and budgeting."),
    Template("Loan Origination", "LOAN", "finance", "Digital loan applications with automated credit checks."),
    Template("Online Store", "SHOP", "e-commerce", "Storefront with catalogue, cart and checkout."),
    Template("Marketplace Seller Hub", "MKT", "e-commerce", "Tools for marketplace sellers to manage listings and orders."),
    Template("Learning Platform", "LMS", "education", "Courses, assignments and grading for online learning."),
    Template("Student Information System", "SIS", "education", "Enrolment, timetables and transcripts for a university."),
    Template("Fleet Tracker", "FLEET", "logistics", "Real-time tracking and dispatch of delivery vehicles."),
    Template("Warehouse Management", "WMS", "logistics", "Receiving, picking and shipping in distribution centres."),
    Template("Property Listings", "PROP", "real-estate", "Listings, viewings and offers for residential property."),
    Template("Tenant Services", "TEN", "real-estate", "Rent collection and maintenance requests for landlords."),
    Template("Travel Booking", "TRIP", "travel", "Flight and hotel search with itinerary management."),
    Template("Loyalty Programme", "LOYAL", "travel", "Points, tiers and rewards for frequent travellers."),
    Template("Streaming Service", "STRM", "media", "Video catalogue, playback and subscriptions."),
    Template("Newsroom CMS", "NEWS", "media", "Editorial workflow and publishing for a news site."),
    Template("Shop Floor Monitor", "MES", "manufacturing", "Machine telemetry and production order tracking."),
    Template("Quality Control Suite", "QCS", "manufacturing", "Inspections, defects and corrective actions."),
    Template("Citizen Services", "GOV", "government", "Online permits, forms and appointments for citizens."),
    Template("Energy Usage Dashboard", "NRG", "utilities", "Smart-meter readings, billing and usage insights."),
)  # fmt: skip
BUSINESS_DOMAINS = tuple(dict.fromkeys(t.business_domain for t in TEMPLATES))
MAX_PROJECTS = len(TEMPLATES)

METHODOLOGIES = ("scrum", "kanban")
PROJECT_STATUSES = ("planning", "active", "completed")
PLANNING, ACTIVE, COMPLETED = range(3)
# By position among the run's projects: every mix of methodology and state appears early.
STATUS_CYCLE = (ACTIVE, COMPLETED, ACTIVE, COMPLETED, PLANNING)
KANBAN_EVERY = 3  # every third project is kanban
PRIORITIES = ("low", "medium", "high", "critical")
PROJECT_PRIORITY_WEIGHTS = (15, 40, 35, 10)
ISSUE_PRIORITY_WEIGHTS = (20, 45, 25, 10)
# Relative issue volume by project state: finished projects carry a full history; a running one's
# open work sits in its current sprint, so it holds fewer issues (this keeps the last month of the
# history under a third of all issues).
ISSUE_VOLUME = (0.3, 0.6, 1.5)
RECENT_WORK_MAX = 0.18
# A growing organisation (order_trend above 0) rises GROWTH_STEEPNESS times its trend more over the history,
# up to GROWTH_KNEE of it, then holds its pace (its last month must not dominate); trend counts up to
# GROWTH_TREND_MAX. The projects it added (company_volume) are young: running, started YOUNG_DAYS back.
# Completed projects worked at a steady pace, rising only STEADY_GROWTH of a growing organisation's rise: their
# work ends weeks back, so a steeper rise would pile their resolutions into the months before their ends.
GROWTH_STEEPNESS = 1.5
GROWTH_KNEE = 0.65
GROWTH_TREND_MAX = 3.0
STEADY_GROWTH = 0.35
YOUNG_DAYS = (45, 100)

# Issue types: seed 002's mix 50/25/15/10 with "other" split over epic, improvement and sub-task.
ISSUE_TYPES = ("story", "task", "bug", "epic", "improvement", "subtask")
ISSUE_TYPE_NAMES = ("Story", "Task", "Bug", "Epic", "Improvement", "Sub-task")
ISSUE_TYPE_SHARES = (0.50, 0.25, 0.15, 0.04, 0.04, 0.02)  # at normal-ops' 5% anomaly rate
BASE_ANOMALY_RATE = 0.05
# Troubled work files more bugs: the bug share grows by this much per unit of anomaly rate above
# normal-ops' (15% -> 24% at anomaly-heavy's 40%), the other types shrink in proportion.
BUG_SHARE_PER_RATE = 0.25
BUG_SHARE_MIN, BUG_SHARE_MAX = 0.05, 0.40
STORY, TASK, BUG, EPIC, IMPROVEMENT, SUBTASK = range(len(ISSUE_TYPES))
# Workflow statuses of every project, and active projects' status mix 20/40/30/10.
STATUSES = ("to_do", "in_progress", "in_review", "done")
STATUS_NAMES = ("To Do", "In Progress", "In Review", "Done")
ACTIVE_STATUS_SHARES = (0.20, 0.40, 0.30, 0.10)
TO_DO, IN_PROGRESS, IN_REVIEW, DONE = range(len(STATUSES))
STORY_POINTS = (1, 2, 3, 5, 8, 13)

SPRINT_SLOTS = 8
MIN_SPRINTS, MAX_SPRINTS = 3, 8
SPRINT_DAYS = 14
LONG_SPRINT_DAYS = 21  # a completed project that ran long had three-week sprints
COMPLETED_MARGIN_DAYS = 8  # a completed project starts at least this long after the history's start
COMPLETED_END_DAYS = (14, 60)  # a completed project ended this many days before as_of
COMMENT_SLOTS = 5
COMMENTED_SHARE = 0.6
COMMENT_COUNT_WEIGHTS = (35, 25, 20, 12, 8)  # 1..5 comments
LINKED_SHARE = 0.1
LINK_TYPES = ("relates_to", "blocks", "duplicates", "clones")
BLOCKS_LINK = LINK_TYPES.index("blocks")
# Ordinary links (a "blocks" link is always the consequence of a blocked issue).
LINK_TYPE_WEIGHTS = (65, 0, 20, 15)
LINK_DAYS_MAX = 2  # a link is made within days of the later issue's filing
# Anomaly labels of issues (ground truth) and what the profile's anomaly_mix labels mean here.
ANOMALY_LABELS = ("blocked", "reopened", "overdue", "scope_creep")
BLOCKED, REOPENED, OVERDUE, SCOPE_CREEP = range(len(ANOMALY_LABELS))
MIX_LABELS = {"payment_delay": OVERDUE, "delivery_delay": SCOPE_CREEP, "delivery_failure": REOPENED,
              "cancellation": BLOCKED, "stockout": BLOCKED}  # fmt: skip
NORMAL_MIX = (0.25, 0.15, 0.30, 0.30)
BLOCKED_AFTER_DAYS = 28  # a blocked issue has been open at least this long
# Calendar: activity rises over the history (1 + RECENT_SLOPE + order_trend times the first day's
# rate on as_of); most weekend work moves to the Friday before or the Monday after.
RECENT_SLOPE = 0.4
WEEKEND_MOVED = 0.8
WORK_START_HOUR, WORK_HOURS = 7, 12
CYCLE_DAYS_MAX = 21  # an issue is resolved within days to three weeks of its filing
TOUCHED_DAYS_MAX = 21  # an open issue was last updated within weeks of its filing
# History reaches 3-6 months back (seed 002); the organization predates it by a few days.
HISTORY_DAYS = 190
PASSWORD_ITERATIONS = 100_000  # PBKDF2-SHA256 rounds of the stored hashes (Django's format; it accepts any count)


def type_shares(anomaly_rate: float) -> tuple[float, ...]:
    """The six types' shares: seed 002's 50/25/15/10 at normal-ops, more bugs as work gets troubled."""
    base = np.asarray(ISSUE_TYPE_SHARES)
    bug = float(
        np.clip(base[BUG] + BUG_SHARE_PER_RATE * (anomaly_rate - BASE_ANOMALY_RATE), BUG_SHARE_MIN, BUG_SHARE_MAX)
    )
    rest = np.delete(base, BUG)
    shares = np.insert(rest * (1 - bug) / rest.sum(), BUG, bug)
    return tuple(float(x) for x in shares)


def anomaly_mix(weights: dict[str, float] | None) -> tuple[float, ...]:
    """The profile's anomaly_mix (commerce/ERP labels) as weights of the scrum labels."""
    mix = np.zeros(len(ANOMALY_LABELS))
    for label, weight in (weights or {}).items():
        if label in MIX_LABELS:
            mix[MIX_LABELS[label]] += max(float(weight), 0.0)
    return tuple(float(x) for x in (mix / mix.sum() if mix.sum() > 0 else NORMAL_MIX))
