"""The scrum world of a scenario (seed 002, FICCT-Scrum): one organization and workspace, projects
from templates across business domains, sprints, issues, comments and links. Pure functions of
indices.

Index conventions: row index r has id r + 1. Per-project children have fixed slots per project
(6 issue types, 4 statuses, 8 sprint slots). Issues are numbered project by project (project p
owns issues [first[p], first[p] + count[p])), so an issue's project, its local number and every
project attribute it needs are recomputed from its index. Shares that the contract fixes
(type mix, status mix, commented and linked issues) come from keyed permutations, so they hold
exactly up to rounding instead of only in expectation.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from mock_pipeline.engine.distributions import affine_permutation, categorical, unique_codes
from mock_pipeline.engine.pools import Pools, pools
from mock_pipeline.engine.random import Stream
from mock_pipeline.engine.timeline import DAY, allocate
from mock_pipeline.scenarios.model import Scenario, ScenarioError

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
STATUS_CYCLE = (ACTIVE, COMPLETED, ACTIVE, PLANNING, ACTIVE)
KANBAN_EVERY = 3  # every third project is kanban
PRIORITIES = ("low", "medium", "high", "critical")
PROJECT_PRIORITY_WEIGHTS = (15, 40, 35, 10)
ISSUE_PRIORITY_WEIGHTS = (20, 45, 25, 10)
# Relative issue volume by project state: finished projects carry a full history.
ISSUE_VOLUME = (0.3, 1.0, 1.4)

# Issue types: seed 002's mix 50/25/15/10 with "other" split over epic, improvement and sub-task.
ISSUE_TYPES = ("story", "task", "bug", "epic", "improvement", "subtask")
ISSUE_TYPE_NAMES = ("Story", "Task", "Bug", "Epic", "Improvement", "Sub-task")
ISSUE_TYPE_SHARES = (0.50, 0.25, 0.15, 0.04, 0.04, 0.02)
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
COMMENT_SLOTS = 5
COMMENTED_SHARE = 0.6
COMMENT_COUNT_WEIGHTS = (35, 25, 20, 12, 8)  # 1..5 comments
LINKED_SHARE = 0.1
LINK_TYPES = ("relates_to", "blocks", "duplicates", "clones")
LINK_TYPE_WEIGHTS = (50, 30, 12, 8)
# History reaches 3-6 months back (seed 002); the organization predates it by a few days.
HISTORY_DAYS = 190
PASSWORD_ITERATIONS = 100_000  # PBKDF2-SHA256 rounds of the stored hashes (Django's format; it accepts any count)


def permuted(stream: Stream, idx: np.ndarray, n: int) -> np.ndarray:
    """A keyed bijection of [0, n) (unique_codes needs n >= 2)."""
    idx = np.asarray(idx, dtype=np.int64)
    return unique_codes(stream, idx, n) if n > 1 else np.zeros_like(idx)


def _days(stream: Stream, idx: np.ndarray, low: int, high: int) -> np.ndarray:
    return stream.integers(idx, low, high + 1) * DAY


class ScrumModel:
    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        knobs = scenario.knobs[DOMAIN]
        self.projects = int(knobs["projects"])
        self.issues = int(knobs["issues"])
        if not 1 <= self.projects <= MAX_PROJECTS:
            raise ScenarioError(
                "overrides.scrum.projects", f"{self.projects} projects; allowed: 1 to {MAX_PROJECTS} (one per template)"
            )
        if self.issues <= 0:
            raise ScenarioError("overrides.scrum.issues", f"must be a positive integer, got {self.issues}")
        self.window = scenario.window
        self.end = self.window.end_epoch  # first second after as_of
        self.as_of_day = self.end - DAY  # midnight starting the as_of day
        if self.end - self.window.start_epoch < HISTORY_DAYS * DAY:
            raise ScenarioError(
                "start_date",
                f"the scrum history reaches {HISTORY_DAYS} days back; allowed: a window of at least that many days",
            )
        self.founded = self.end - HISTORY_DAYS * DAY  # organization, workspace and users
        p = np.arange(self.projects)
        self.project_status = np.asarray(STATUS_CYCLE)[p % len(STATUS_CYCLE)]
        self.project_kanban = p % KANBAN_EVERY == KANBAN_EVERY - 1
        weights = np.asarray(ISSUE_VOLUME)[self.project_status] * (
            0.75 + 0.5 * self.stream("projects", "volume").uniform(p)
        )
        self.issue_count = allocate(self.issues, weights)
        self.issue_first = np.concatenate(([0], np.cumsum(self.issue_count)[:-1]))
        # One keyed bijection per project (a, b) for its issues' status strata.
        ab = [
            affine_permutation(self.stream("issues", f"status_{i}"), max(int(n), 2))
            for i, n in enumerate(self.issue_count)
        ]
        self.status_mul = np.array([a for a, _ in ab], dtype=np.int64)
        self.status_add = np.array([b for _, b in ab], dtype=np.int64)

    def stream(self, table: str, column: str) -> Stream:
        return Stream(self.scenario.seed, DOMAIN, table, column)

    @cached_property
    def pools(self) -> Pools:
        return pools(self.scenario.locale or "en_US", self.scenario.seed)

    @property
    def as_of(self) -> dt.date:
        return self.window.end

    # -- projects ------------------------------------------------------------------------------
    @cached_property
    def template(self) -> np.ndarray:
        """Template index per project: a seeded choice of distinct templates."""
        return permuted(self.stream("projects", "template"), np.arange(self.projects), MAX_PROJECTS)

    def project_created(self, p: np.ndarray) -> np.ndarray:
        """Midnight of the project's first day: 4-6 months back, weeks back when still planning."""
        s = self.stream("projects", "start")
        status = self.project_status[p]
        back = np.select(
            [status == PLANNING, status == ACTIVE], [_days(s, p, 7, 28), _days(s, p, 120, 175)], _days(s, p, 160, 180)
        )
        return self.as_of_day - back

    def project_ended(self, p: np.ndarray) -> np.ndarray:
        """First second after a completed project's last day (-1 while it runs)."""
        back = _days(self.stream("projects", "end"), p, 14, 40)
        return np.where(self.project_status[p] == COMPLETED, self.as_of_day - back + DAY, -1)

    def project_limit(self, p: np.ndarray) -> np.ndarray:
        """Activity in a project happens before this second."""
        ended = self.project_ended(p)
        return np.where(ended > 0, ended, self.end)

    def sprint_count(self, p: np.ndarray) -> np.ndarray:
        n = self.stream("sprints", "count").integers(p, MIN_SPRINTS, MAX_SPRINTS + 1)
        return np.where(self.project_kanban[p], 0, n)

    def sprint_start(self, p: np.ndarray, j: np.ndarray) -> np.ndarray:
        """Midnight starting sprint j of project p. Sprints are back to back, 14 days each:
        a running project's last sprint is under way on as_of, a completed project's last one
        ends on its last day, a planning project's first one starts in the coming week."""
        k = self.sprint_count(p)
        status = self.project_status[p]
        under_way = self.as_of_day - _days(self.stream("sprints", "progress"), p, 1, SPRINT_DAYS - 1)
        last_start = np.select(
            [status == ACTIVE, status == COMPLETED],
            [under_way, self.project_ended(p) - SPRINT_DAYS * DAY],
            self.as_of_day + _days(self.stream("sprints", "first"), p, 1, 7) + (k - 1) * SPRINT_DAYS * DAY,
        )
        return last_start - (k - 1 - j) * SPRINT_DAYS * DAY

    # -- issues --------------------------------------------------------------------------------
    def issue_project(self, i: np.ndarray) -> np.ndarray:
        return np.searchsorted(np.cumsum(self.issue_count), i, side="right")

    def issue_type(self, i: np.ndarray) -> np.ndarray:
        """Exact mix over all issues: the issue's rank in a keyed permutation picks its stratum."""
        rank = permuted(self.stream("issues", "type"), i, self.issues)
        bounds = np.round(np.cumsum(ISSUE_TYPE_SHARES) * self.issues).astype(np.int64)
        return np.searchsorted(bounds, rank, side="right")

    def issue_status(self, i: np.ndarray, p: np.ndarray) -> np.ndarray:
        """Active projects 20/40/30/10 (exact per project up to rounding); completed all done;
        planning all to do."""
        n = self.issue_count[p]
        local = i - self.issue_first[p]
        rank = (local * self.status_mul[p] + self.status_add[p]) % np.maximum(n, 2)
        rank = np.where(n > 1, rank, 0)
        bounds = np.cumsum(ACTIVE_STATUS_SHARES)
        stratum = np.searchsorted(bounds, (rank + 0.5) / np.maximum(n, 1), side="right")
        status = self.project_status[p]
        return np.select([status == COMPLETED, status == PLANNING], [DONE, TO_DO], np.minimum(stratum, DONE))

    def issue_sprint(self, i: np.ndarray, p: np.ndarray, status: np.ndarray) -> np.ndarray:
        """Sprint slot j of the issue's project, or -1 (backlog). Finished work is spread over the
        sprints with later ones busier; open work sits in the running sprint; half of the to-do
        items wait in the backlog. Planning and kanban projects have no sprint work."""
        k = self.sprint_count(p)
        u = self.stream("issues", "sprint").uniform(i)
        spread = np.minimum(np.floor(k * np.sqrt(u)).astype(np.int64), k - 1)  # density grows with j
        state = self.project_status[p]
        backlog = self.stream("issues", "backlog").bernoulli(i, 0.5)
        j = np.where(state == COMPLETED, spread, np.where(status == DONE, spread, k - 1))
        j = np.where((state == ACTIVE) & (status == TO_DO) & backlog, -1, j)
        return np.where((k == 0) | (state == PLANNING), -1, j)

    def issue_times(self, i: np.ndarray) -> dict[str, np.ndarray]:
        """created, updated and resolved (-1 unless done) epoch seconds of issues i."""
        p = self.issue_project(i)
        status = self.issue_status(i, p)
        sprint = self.issue_sprint(i, p, status)
        limit = self.project_limit(p)
        in_sprint = sprint >= 0
        start = self.sprint_start(p, np.maximum(sprint, 0))
        lo = np.where(in_sprint, start, self.project_created(p) + 3600)
        hi = np.where(in_sprint, np.minimum(start + SPRINT_DAYS * DAY, limit), limit) - 2 * 3600
        # Backlog items lean towards recent weeks (density grows towards the end).
        u = self.stream("issues", "created").uniform(i)
        u = np.where(in_sprint, u, u ** (1 / 2.5))
        created = lo + np.floor(u * np.maximum(hi - lo, 1)).astype(np.int64)
        done = status == DONE
        finish = np.where(in_sprint, np.minimum(start + SPRINT_DAYS * DAY, limit), limit) - 60
        room = np.maximum(finish - created, 2)
        resolved = (
            created + 1 + np.floor(self.stream("issues", "resolved").uniform(i) ** 0.7 * (room - 1)).astype(np.int64)
        )
        touched = (
            created
            + 1
            + np.floor(self.stream("issues", "updated").uniform(i) * (self.end - 2 - created)).astype(np.int64)
        )
        updated = np.where(done, resolved, touched)
        return {
            "project": p,
            "status": status,
            "sprint": sprint,
            "created": created,
            "updated": updated,
            "resolved": np.where(done, resolved, -1),
        }

    def issue_theme(self, i: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(business domain, feature, component) indices of an issue's title."""
        domain = self.project_domain(p)
        feature = self.stream("issues", "feature").integers(i, 0, 6)
        component = self.stream("issues", "component").integers(i, 0, 5)
        return domain, feature, component

    def project_domain(self, p: np.ndarray) -> np.ndarray:
        names = np.array([BUSINESS_DOMAINS.index(t.business_domain) for t in TEMPLATES])
        return names[self.template[p]]

    def commented(self, i: np.ndarray) -> np.ndarray:
        """Exactly round(60%) of issues have comments (keyed permutation rank)."""
        return permuted(self.stream("comments", "has"), i, self.issues) < round(COMMENTED_SHARE * self.issues)

    def comment_count(self, i: np.ndarray) -> np.ndarray:
        n = 1 + categorical(self.stream("comments", "count"), i, COMMENT_COUNT_WEIGHTS)
        return np.where(self.commented(i), n, 0)

    def linked(self, i: np.ndarray) -> np.ndarray:
        """About 10% of issues link to another issue of their project."""
        pick = permuted(self.stream("issue_links", "has"), i, self.issues) < round(LINKED_SHARE * self.issues)
        return pick & (self.issue_count[self.issue_project(i)] > 1)
