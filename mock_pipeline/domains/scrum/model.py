"""The scrum world of a scenario (seed 002, FICCT-Scrum): one organization and workspace, projects
from templates across business domains, sprints, issues, comments and links. Pure functions of
indices.

Every fact is decided once, here: an issue's project, type, status, sprint, creation time and
anomaly label; comments and links follow from them (a blocked issue is the target of a "blocks"
link and has a comment naming its blocker). The profile sets the issue volume (order_volume),
the anomaly share and the bug share (anomaly_rate), the labels' mix (anomaly_mix mapped onto the
scrum labels) and how fast activity rises over the history (order_trend); growth-phase's
company_volume brings more projects.

Index conventions: row index r has id r + 1. Per-project children have fixed slots per project
(6 issue types, 4 statuses, 8 sprint slots). Issues are numbered project by project (project p
owns issues [first[p], first[p] + count[p])), so an issue's project, its local number and every
project attribute it needs are recomputed from its index. Shares that the contract fixes
(type mix, status mix, commented and linked issues) come from keyed permutations, so they hold
exactly up to rounding instead of only in expectation.
"""

from __future__ import annotations

import datetime as dt
from functools import cached_property

import numpy as np

from mock_pipeline.domains.scrum.parameters import (
    ACTIVE,
    ACTIVE_STATUS_SHARES,
    BLOCKED,
    BLOCKED_AFTER_DAYS,
    BUSINESS_DOMAINS,
    COMMENT_COUNT_WEIGHTS,
    COMMENT_SLOTS,
    COMMENTED_SHARE,
    COMPLETED,
    COMPLETED_END_DAYS,
    COMPLETED_MARGIN_DAYS,
    CYCLE_DAYS_MAX,
    DOMAIN,
    DONE,
    EPIC,
    GROWTH_KNEE,
    GROWTH_STEEPNESS,
    GROWTH_TREND_MAX,
    HISTORY_DAYS,
    ISSUE_TYPES,
    ISSUE_VOLUME,
    KANBAN_EVERY,
    LINKED_SHARE,
    LONG_SPRINT_DAYS,
    MAX_PROJECTS,
    MAX_SPRINTS,
    MIN_SPRINTS,
    NORMAL_MIX,
    OVERDUE,
    PLANNING,
    RECENT_SLOPE,
    RECENT_WORK_MAX,
    REOPENED,
    SCOPE_CREEP,
    SPRINT_DAYS,
    SPRINT_SLOTS,
    STATUS_CYCLE,
    STEADY_GROWTH,
    STORY_POINTS,
    SUBTASK,
    TEMPLATES,
    TO_DO,
    TOUCHED_DAYS_MAX,
    WEEKEND_MOVED,
    WORK_HOURS,
    WORK_START_HOUR,
    YOUNG_DAYS,
    anomaly_mix,
    type_shares,
)
from mock_pipeline.engine.dense import DenseKeys
from mock_pipeline.engine.distributions import affine_permutation, categorical, unique_codes
from mock_pipeline.engine.pools import Pools, pools
from mock_pipeline.engine.random import Stream
from mock_pipeline.engine.timeline import DAY, allocate
from mock_pipeline.scenarios.model import Scenario, ScenarioError
from mock_pipeline.scenarios.size import SCRUM_ISSUE_BOUNDS, SCRUM_PROJECT_BOUNDS, scaled


def permuted(stream: Stream, idx: np.ndarray, n: int) -> np.ndarray:
    """A keyed bijection of [0, n) (unique_codes needs n >= 2)."""
    idx = np.asarray(idx, dtype=np.int64)
    return unique_codes(stream, idx, n) if n > 1 else np.zeros_like(idx)


def _days(stream: Stream, idx: np.ndarray, low: int, high: int) -> np.ndarray:
    return stream.integers(idx, low, high + 1) * DAY


def working_time(stream: Stream, idx: np.ndarray) -> np.ndarray:
    """Seconds into a working day, 07:00-19:00, busiest around lunch (mean of two uniforms)."""
    u = (stream.uniform(idx) + stream.sub("second").uniform(idx)) / 2
    return WORK_START_HOUR * 3600 + np.floor(u * WORK_HOURS * 3600).astype(np.int64)


class ScrumModel:
    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        profile = scenario.profile
        knobs = scenario.knobs[DOMAIN]
        self.projects_asked = int(knobs["projects"])
        self.issues_asked = int(knobs["issues"])
        if not 1 <= self.projects_asked <= MAX_PROJECTS:
            raise ScenarioError(
                "overrides.scrum.projects",
                f"{self.projects_asked} projects; allowed: 1 to {MAX_PROJECTS} (one per template)",
            )
        if self.issues_asked <= 0:
            raise ScenarioError("overrides.scrum.issues", f"must be a positive integer, got {self.issues_asked}")
        # Growth brings more projects (company_volume), volume more issues (order_volume): inside seed
        # 002's bounds when the knob is inside them, plainly scaled when the user asked outside them.
        self.projects = min(scaled(self.projects_asked, profile.company_volume, SCRUM_PROJECT_BOUNDS), MAX_PROJECTS)
        self.issues = scaled(self.issues_asked, profile.order_volume, SCRUM_ISSUE_BOUNDS)
        self.anomaly_rate = float(np.clip(profile.anomaly_rate, 0.0, 1.0))
        self.trend = float(profile.order_trend)
        self.growth = min(max(self.trend, 0.0), GROWTH_TREND_MAX)
        self.type_shares = type_shares(self.anomaly_rate)
        self.anomaly_mix = anomaly_mix(dict(profile.anomaly_mix))
        self.window = scenario.window
        self.end = self.window.end_epoch  # first second after as_of
        self.as_of_day = self.end - DAY  # midnight starting the as_of day
        if self.end - self.window.start_epoch < HISTORY_DAYS * DAY:
            raise ScenarioError(
                "start_date",
                f"the scrum history reaches {HISTORY_DAYS} days back; allowed: a window of at least that many days",
            )
        self.history_start = self.end - HISTORY_DAYS * DAY
        # Organization, workspace and users: one morning at the start of the history.
        self.founded = (
            self.history_start
            + 8 * 3600
            + int(self.stream("organizations", "founded").integers(np.zeros(1, dtype=np.int64), 0, 3600)[0])
        )
        p = np.arange(self.projects)
        self.project_status = np.asarray(STATUS_CYCLE)[p % len(STATUS_CYCLE)]
        # The projects a growing organisation added (company_volume) are young: started in the last months and
        # still running, so its growth shows in when the work happens, not only in how much there is.
        self.project_young = p >= self.projects_asked
        self.project_status = np.where(self.project_young, ACTIVE, self.project_status)
        self.project_kanban = p % KANBAN_EVERY == KANBAN_EVERY - 1
        weights = np.asarray(ISSUE_VOLUME)[self.project_status] * (
            0.75 + 0.5 * self.stream("projects", "volume").uniform(p)
        )
        # Work that can only be recent (a running scrum project's open sprint work, a project still
        # in planning) is held to RECENT_WORK_MAX of all issues, so no month dominates the history.
        recent = np.where(self.project_status == PLANNING, 1.0, 0.0)
        recent = np.where((self.project_status == ACTIVE) & ~self.project_kanban, 0.9, recent)
        share = (weights * recent).sum() / weights.sum()
        if share > RECENT_WORK_MAX:
            k = RECENT_WORK_MAX * (1 - share) / (share * (1 - RECENT_WORK_MAX))
            weights = np.where(recent > 0, weights * k, weights)
        self.issue_count = allocate(self.issues, weights)
        self.issue_first = np.concatenate(([0], np.cumsum(self.issue_count)[:-1]))
        # One keyed bijection per project (a, b) for its issues' status strata.
        ab = [
            affine_permutation(self.stream("issues", f"status_{i}"), max(int(n), 2))
            for i, n in enumerate(self.issue_count)
        ]
        self.status_mul = np.array([a for a, _ in ab], dtype=np.int64)
        self.status_add = np.array([b for _, b in ab], dtype=np.int64)
        # And one for the order in which a project's issues were filed (an exact spread over its window).
        ab = [
            affine_permutation(self.stream("issues", f"filing_{i}"), max(int(n), 2))
            for i, n in enumerate(self.issue_count)
        ]
        self.filing_mul = np.array([a for a, _ in ab], dtype=np.int64)
        self.filing_add = np.array([b for _, b in ab], dtype=np.int64)

    def stream(self, table: str, column: str) -> Stream:
        return Stream(self.scenario.seed, DOMAIN, table, column)

    @cached_property
    def pools(self) -> Pools:
        return pools(self.scenario.locale or "en_US", self.scenario.seed)

    @property
    def as_of(self) -> dt.date:
        return self.window.end

    # -- calendar ------------------------------------------------------------------------------
    def density(self, t: np.ndarray, growth_only: bool = False) -> np.ndarray:
        """Relative activity at epoch second t: rising linearly over the history (falling with a negative
        order_trend), so recent weeks are the busiest; a growing organisation rises GROWTH_STEEPNESS times its
        trend more up to GROWTH_KNEE of the history and then holds its pace (so its last month does not
        dominate). `growth_only` leaves out the ordinary rise."""
        x = (np.asarray(t, dtype=np.float64) - self.history_start) / (self.end - self.history_start)
        slope = max((0.0 if growth_only else RECENT_SLOPE) + min(self.trend, 0.0), -0.9)
        return 1.0 + slope * x + GROWTH_STEEPNESS * self.growth * np.minimum(x / GROWTH_KNEE, 1.0)

    def work_moment(
        self,
        stream: Stream,
        idx: np.ndarray,
        lo: np.ndarray,
        hi: np.ndarray,
        steady: np.ndarray | None = None,
        u: np.ndarray | None = None,
    ) -> np.ndarray:
        """A moment of [lo, hi): a day weighted by `density`, most weekend days moved to the Friday
        before or the Monday after (when still inside), then a time in that day's working hours
        (07:00-19:00, busiest around lunch) as far as they overlap [lo, hi); else any time of it. `u`, when
        given, is the moment's quantile in [0, 1) (a stratified one spreads a group exactly)."""
        lo, hi = np.asarray(lo, dtype=np.int64), np.asarray(hi, dtype=np.int64)
        hi = np.maximum(hi, lo + 1)
        first, stop = lo // DAY, (hi - 1) // DAY + 1  # days touching [lo, hi)
        # The density is linear on each side of the growth's knee: pick a side by its mass, then invert there.
        knee = (self.history_start + GROWTH_KNEE * (self.end - self.history_start)) / DAY
        knee = np.clip(knee, first, stop).astype(np.float64)
        ends = [first.astype(np.float64), knee, stop.astype(np.float64)]
        d = [self.density(e * DAY) for e in ends]
        if steady is not None:  # only a share of a growing organisation's rise over [lo, hi)
            d = [
                np.where(steady, 1 + STEADY_GROWTH * (self.density(e * DAY, growth_only=True) - 1), de)
                for e, de in zip(ends, d, strict=True)
            ]
        before = (d[0] + d[1]) / 2 * (ends[1] - ends[0])
        after = (d[1] + d[2]) / 2 * (ends[2] - ends[1])
        v = (stream.uniform(idx) if u is None else u) * (before + after)
        early = v < before
        d0, d1 = np.where(early, d[0], d[1]), np.where(early, d[1], d[2])
        side_start = np.where(early, ends[0], ends[1])
        side_width = np.where(early, ends[1] - ends[0], ends[2] - ends[1])
        q = np.clip(np.where(early, v / np.maximum(before, 1e-12), (v - before) / np.maximum(after, 1e-12)), 0, 1)
        # Inverse CDF of a linear density on [0, 1) from d0 to d1.
        steep = np.abs(d1 - d0) > 1e-9
        x = np.where(steep, (np.sqrt(d0 * d0 + q * (d1 * d1 - d0 * d0)) - d0) / np.where(steep, d1 - d0, 1), q)
        day = np.clip(np.floor(side_start + x * side_width).astype(np.int64), first, stop - 1)
        weekday = (day + 3) % 7  # 1970-01-01 was a Thursday; Monday is 0
        move = (weekday >= 5) & stream.sub("weekend").bernoulli(idx, WEEKEND_MOVED)
        near = np.where(weekday == 5, day - 1, day + 1)
        far = np.where(weekday == 5, day + 2, day - 2)
        day = np.where(
            move & (near >= first) & (near < stop), near, np.where(move & (far >= first) & (far < stop), far, day)
        )
        # A time of the day's working hours inside [lo, hi), else of the day's part inside it.
        t = stream.sub("time")
        shape = (t.uniform(idx) + t.sub("second").uniform(idx)) / 2
        work_lo = np.maximum(day * DAY + WORK_START_HOUR * 3600, lo)
        work_hi = np.minimum(day * DAY + (WORK_START_HOUR + WORK_HOURS) * 3600, hi)
        part_lo, part_hi = np.maximum(day * DAY, lo), np.minimum(day * DAY + DAY, hi)
        working = work_hi > work_lo
        start = np.where(working, work_lo, part_lo)
        width = np.where(working, work_hi - work_lo, np.maximum(part_hi - part_lo, 1))
        at = start + np.floor(shape * width).astype(np.int64)
        # A night-time moment moves into the working hours of the next morning (or the evening before) when
        # [lo, hi) reaches them: nobody comments at 3 a.m. just because the chosen day's hours were outside.
        hour = at % DAY
        morning = np.where(hour < WORK_START_HOUR * 3600, at - hour, at - hour + DAY) + WORK_START_HOUR * 3600
        evening = (
            np.where(hour < WORK_START_HOUR * 3600, at - hour - DAY, at - hour) + (WORK_START_HOUR + WORK_HOURS) * 3600
        )
        jitter = t.sub("night").uniform(idx)
        night = ~working
        to_morning = night & (morning < hi)
        to_evening = night & ~to_morning & (evening > lo)
        at = np.where(to_morning, morning + np.floor(jitter * np.minimum(hi - morning, 3 * 3600)).astype(np.int64), at)
        return np.where(
            to_evening, evening - 1 - np.floor(jitter * np.minimum(evening - lo, 3 * 3600)).astype(np.int64), at
        )

    # -- projects ------------------------------------------------------------------------------
    @cached_property
    def template(self) -> np.ndarray:
        """Template index per project: a seeded choice of distinct templates."""
        return permuted(self.stream("projects", "template"), np.arange(self.projects), MAX_PROJECTS)

    def project_day(self, p: np.ndarray) -> np.ndarray:
        """Midnight of the project's first day: 4-6 months back, weeks back when still planning;
        always a few days before its first sprint."""
        s = self.stream("projects", "start")
        status = self.project_status[p]
        back = np.select(
            [status == PLANNING, self.project_young[p], status == ACTIVE],
            [_days(s, p, 7, 28), _days(s, p, YOUNG_DAYS[0], YOUNG_DAYS[1]), _days(s, p, 120, 175)],
            _days(s, p, 160, 180),
        )
        day = self.as_of_day - back
        lead = _days(self.stream("projects", "lead_time"), p, 3, 6)
        return np.where(self.sprint_count(p) > 0, np.minimum(day, self.sprint_start(p, 0) - lead), day)

    def project_created(self, p: np.ndarray) -> np.ndarray:
        return self.project_day(p) + working_time(self.stream("projects", "created"), p)

    def project_ended(self, p: np.ndarray) -> np.ndarray:
        """First second after a completed project's last day (-1 while it runs)."""
        back = _days(self.stream("projects", "end"), p, COMPLETED_END_DAYS[0], COMPLETED_END_DAYS[1])
        return np.where(self.project_status[p] == COMPLETED, self.as_of_day - back + DAY, -1)

    def project_limit(self, p: np.ndarray) -> np.ndarray:
        """Activity in a project happens before this second."""
        ended = self.project_ended(p)
        return np.where(ended > 0, ended, self.end)

    def _completed_sprints(self, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(sprint count, sprint days) of a completed scrum project: the longest run that fits between the
        history's start and the project's end, of 8 two-week sprints or up to 8 three-week ones, so its finished
        work (and so its resolutions) spreads over four to five and a half months instead of piling up in a few."""
        room = (self.project_ended(p) - self.history_start) // DAY - COMPLETED_MARGIN_DAYS
        long = np.minimum(room // LONG_SPRINT_DAYS, MAX_SPRINTS)
        three_weeks = long * LONG_SPRINT_DAYS > MAX_SPRINTS * SPRINT_DAYS
        return np.where(three_weeks, long, MAX_SPRINTS), np.where(three_weeks, LONG_SPRINT_DAYS, SPRINT_DAYS)

    def sprint_count(self, p: np.ndarray) -> np.ndarray:
        n = self.stream("sprints", "count").integers(p, MIN_SPRINTS, MAX_SPRINTS + 1)
        n = np.where(self.project_status[p] == COMPLETED, self._completed_sprints(p)[0], n)
        n = np.where(self.project_young[p], MIN_SPRINTS, n)  # a young project has run its first sprints
        return np.where(self.project_kanban[p], 0, n)

    def sprint_length(self, p: np.ndarray) -> np.ndarray:
        """Seconds in each sprint of project p: two weeks, three for a completed project that ran long."""
        days = np.where(self.project_status[p] == COMPLETED, self._completed_sprints(p)[1], SPRINT_DAYS)
        return days.astype(np.int64) * DAY

    def sprint_start(self, p: np.ndarray, j: np.ndarray) -> np.ndarray:
        """Midnight starting sprint j of project p. Sprints are back to back, `sprint_length` each:
        a running project's last sprint is under way on as_of, a completed project's last one
        ends on its last day, a planning project's first one starts in the coming week."""
        k = self.sprint_count(p)
        length = self.sprint_length(p)
        status = self.project_status[p]
        under_way = self.as_of_day - _days(self.stream("sprints", "progress"), p, 1, SPRINT_DAYS - 1)
        # Teams start sprints on weekdays: a weekend start moves to the Monday after (the Friday before when
        # that Monday is past as_of), so the running sprint's open work is never filed on a weekend alone.
        weekday = (under_way // DAY + 3) % 7  # Monday is 0
        monday = under_way + (7 - weekday) * DAY
        friday = under_way - (weekday - 4) * DAY
        under_way = np.where(weekday >= 5, np.where(monday < self.as_of_day, monday, friday), under_way)
        last_start = np.select(
            [status == ACTIVE, status == COMPLETED],
            [under_way, self.project_ended(p) - length],
            self.as_of_day + _days(self.stream("sprints", "first"), p, 1, 7) + (k - 1) * length,
        )
        return last_start - (k - 1 - j) * length

    @cached_property
    def sprint_keys(self) -> DenseKeys:
        """Sprint slots: SPRINT_SLOTS per project, the first sprint_count of them used."""

        def present(lo: int, hi: int) -> np.ndarray:
            s = np.arange(lo, hi, dtype=np.int64)
            return s % SPRINT_SLOTS < self.sprint_count(s // SPRINT_SLOTS)

        return DenseKeys(present, self.projects * SPRINT_SLOTS)

    # -- issues --------------------------------------------------------------------------------
    def issue_project(self, i: np.ndarray) -> np.ndarray:
        return np.searchsorted(np.cumsum(self.issue_count), i, side="right")

    def issue_type(self, i: np.ndarray) -> np.ndarray:
        """Exact mix over all issues: the issue's rank in a keyed permutation picks its stratum."""
        rank = permuted(self.stream("issues", "type"), i, self.issues)
        bounds = np.round(np.cumsum(self.type_shares) * self.issues).astype(np.int64)
        return np.minimum(np.searchsorted(bounds, rank, side="right"), len(ISSUE_TYPES) - 1)

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

    def _filing(self, i: np.ndarray) -> dict[str, np.ndarray]:
        """Issues i's project, type, status, sprint frame and creation (the part of `issue_facts` that the
        anomaly labels build on)."""
        i = np.asarray(i, dtype=np.int64)
        p = self.issue_project(i)
        kind = self.issue_type(i)
        status = self.issue_status(i, p)
        state = self.project_status[p]
        k = self.sprint_count(p)
        limit = self.project_limit(p)
        done = status == DONE
        scrum = (k > 0) & (state != PLANNING)
        first_start = self.sprint_start(p, np.zeros_like(p))
        last_start = self.sprint_start(p, np.maximum(k - 1, 0))
        backlog = (state == ACTIVE) & (status == TO_DO) & self.stream("issues", "backlog").bernoulli(i, 0.5)
        spread = scrum & (done | (state == COMPLETED))
        current = scrum & ~spread & ~backlog
        lo = np.select([spread, current], [first_start, last_start], self.project_created(p) + 3600)
        length = self.sprint_length(p)
        hi = np.select([spread, current], [np.minimum(last_start + length, limit), self.end], limit)
        # A completed project worked at a steady pace over its sprints (STEADY_GROWTH), so its resolutions do
        # not pile up in its last months. Where all of a project's issues share one window (completed, kanban and planning projects), they are
        # filed at the quantiles of a keyed order, so each project's months hold their exact share of its work.
        n = self.issue_count[p]
        filing = ((i - self.issue_first[p]) * self.filing_mul[p] + self.filing_add[p]) % np.maximum(n, 2)
        one_window = (state != ACTIVE) | (k == 0)
        jitter = self.stream("issues", "created_jitter").uniform(i)
        u = np.where(
            one_window & (n > 1),
            (np.minimum(filing, n - 1) + jitter) / np.maximum(n, 1),
            self.stream("issues", "created").uniform(i),
        )
        created = self.work_moment(self.stream("issues", "created"), i, lo, hi, steady=state == COMPLETED, u=u)
        return {"p": p, "kind": kind, "status": status, "state": state, "k": k, "limit": limit, "done": done,
                "spread": spread, "current": current, "first_start": first_start, "length": length,
                "created": created}  # fmt: skip

    @cached_property
    def block_room(self) -> float:
        """Share of all issues that could be reported blocked (open, filed weeks before as_of, in a project with
        other issues): the blocked label goes to them as often as the mix asks, so it is not lost by chance."""
        room, step = 0, 1 << 16
        for lo in range(0, self.issues, step):
            f = self._filing(np.arange(lo, min(lo + step, self.issues), dtype=np.int64))
            room += int(self._can_block(f).sum())
        return room / max(self.issues, 1)

    def _can_block(self, f: dict[str, np.ndarray]) -> np.ndarray:
        # open, by another issue of the project, and stuck for weeks (recent work is rarely reported blocked
        # yet; this keeps "blocks" links off the last month)
        old = f["created"] // DAY < self.as_of_day // DAY - BLOCKED_AFTER_DAYS
        return ~f["done"] & (self.issue_count[f["p"]] > 1) & old

    def issue_facts(self, i: np.ndarray) -> dict[str, np.ndarray]:
        """Everything decided about issues i: project, type, status, sprint slot (-1: none),
        created/updated/resolved epoch seconds (-1: none), anomaly label (-1: none), due day
        (epoch day, -1: none), story points and their original estimate.

        Finished work of a scrum project is spread over its sprints, open work sits in the running
        sprint, half of an active project's to-do items wait in the backlog; kanban and planning
        projects have no sprint work. Creation follows the calendar (`work_moment`)."""
        i = np.asarray(i, dtype=np.int64)
        f = self._filing(i)
        p, kind, status, k, limit, done = f["p"], f["kind"], f["status"], f["k"], f["limit"], f["done"]
        spread, current, first_start, length, created = (
            f["spread"],
            f["current"],
            f["first_start"],
            f["length"],
            f["created"],
        )
        sprint = np.where(spread | current, np.clip((created - first_start) // length, 0, k - 1), -1)
        sprint_end = first_start + (np.maximum(sprint, 0) + 1) * length
        finish = np.where(sprint >= 0, np.minimum(sprint_end, limit), limit) - 60
        # Work is resolved within a cycle time of days to weeks (inside its sprint), and an open issue
        # was last touched within weeks of its filing; both in working hours on weekdays.
        cycle = created + _days(self.stream("issues", "cycle"), i, 1, CYCLE_DAYS_MAX)
        resolved = self.work_moment(self.stream("issues", "resolved"), i, created + 1, np.minimum(cycle, finish))
        resolved = np.maximum(resolved, created + 1)
        quiet = created + _days(self.stream("issues", "quiet"), i, 1, TOUCHED_DAYS_MAX)
        touched = self.work_moment(self.stream("issues", "updated"), i, created + 1, np.minimum(quiet, self.end - 1))
        touched = np.maximum(touched, created + 1)
        # Anomalies: an exact share of issues, each given its label from the mix when the issue can
        # show it, else the first label it can show.
        has_points = (kind != EPIC) & (kind != SUBTASK)
        created_day = created // DAY
        as_of_day = self.as_of_day // DAY
        can = np.stack(
            [
                self._can_block(f),
                status != TO_DO,  # reopened: work had started
                ~done & (created_day < as_of_day),  # overdue: open past a due date before as_of
                has_points,  # scope_creep: its estimate grew
            ]
        )
        chosen = permuted(self.stream("issues", "anomaly"), i, self.issues) < round(self.anomaly_rate * self.issues)
        # Few issues can be blocked: each of them is, as often as the mix asks of all anomalies (so the blocked
        # share follows the mix up to the room there is); the others draw from the rest of the mix.
        mix = np.asarray(self.anomaly_mix)
        block_odds = min(1.0, mix[BLOCKED] / self.block_room) if self.block_room > 0 else 0.0
        block = can[BLOCKED] & (self.stream("issues", "anomaly_blocked").uniform(i) < block_odds)
        rest = np.where(np.arange(len(mix)) == BLOCKED, 0.0, mix)
        rest = rest / rest.sum() if rest.sum() > 0 else np.asarray(NORMAL_MIX) * (np.arange(len(mix)) != BLOCKED)
        primary = categorical(self.stream("issues", "anomaly_label"), i, tuple(rest / rest.sum()))
        rows = np.arange(len(i))
        order = np.array([REOPENED, SCOPE_CREEP, OVERDUE, BLOCKED])
        fallback = order[np.argmax(can[order], axis=0)]
        label = np.where(block, BLOCKED, np.where(can[primary, rows], primary, fallback))
        label = np.where(chosen & can.any(axis=0), label, -1)
        # Due dates: a sprint's last day; an overdue issue's lies between its creation and as_of.
        overdue = label == OVERDUE
        late_due = np.minimum(created_day + self.stream("issues", "due").integers(i, 2, 15), as_of_day - 1)
        due = np.where(overdue, late_due, np.where(sprint >= 0, sprint_end // DAY - 1, -1))
        estimate = self.stream("issues", "points").integers(i, 0, len(STORY_POINTS))
        grown = label == SCOPE_CREEP
        original = np.where(grown, np.minimum(estimate, len(STORY_POINTS) - 2), estimate)
        points = np.where(
            grown,
            np.minimum(original + 1 + self.stream("issues", "growth").integers(i, 0, 2), len(STORY_POINTS) - 1),
            original,
        )
        return {
            "project": p,
            "type": kind,
            "status": status,
            "sprint": sprint,
            "created": created,
            "updated": np.where(done, resolved, touched),
            "resolved": np.where(done, resolved, -1),
            "anomaly": label,
            "due_day": due,
            "points": np.asarray(STORY_POINTS)[points],
            "original_points": np.asarray(STORY_POINTS)[original],
            "has_points": has_points,
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

    @cached_property
    def filing_order(self) -> tuple[np.ndarray, np.ndarray]:
        """(issues sorted by project then filing time, each issue's position in its project's filing order)."""
        created = self.issue_facts(np.arange(self.issues, dtype=np.int64))["created"]
        order = np.lexsort((np.arange(self.issues), created, self.issue_project(np.arange(self.issues))))
        position = np.empty(self.issues, dtype=np.int64)
        position[order] = np.arange(self.issues) - np.repeat(self.issue_first, self.issue_count)
        return order, position

    def earlier_issue(self, i: np.ndarray, column: str) -> np.ndarray:
        """Another issue of i's project filed before i (a keyed pick among those; the project's first filed
        issue picks a later one): a link is then made soon after i's own filing, so links follow the issues'
        calendar exactly instead of bunching where the later of two random issues falls."""
        i = np.asarray(i, dtype=np.int64)
        p = self.issue_project(i)
        n, first = self.issue_count[p], self.issue_first[p]
        order, position = self.filing_order
        k = position[i]
        u = self.stream("issue_links", column).uniform(i)
        pick = np.where(k > 0, np.floor(u * k), k + 1 + np.floor(u * np.maximum(n - k - 1, 1))).astype(np.int64)
        return order[first + np.minimum(pick, np.maximum(n - 1, 0))]

    def blocker(self, i: np.ndarray) -> np.ndarray:
        return self.earlier_issue(i, "blocker")

    # -- comments and links --------------------------------------------------------------------
    @cached_property
    def anomalies(self) -> int:
        """Issues with an anomaly (counted once, block by block)."""
        total, step = 0, 1 << 16
        for lo in range(0, self.issues, step):
            total += int((self.issue_facts(np.arange(lo, min(lo + step, self.issues)))["anomaly"] >= 0).sum())
        return total

    def comment_count(self, i: np.ndarray, anomaly: np.ndarray | None = None) -> np.ndarray:
        """1-5 comments on 60% of issues: every anomalous issue (its last comment tells the problem)
        and a keyed share of the others, so the total stays at 60% while anomalies are fewer."""
        if anomaly is None:
            anomaly = self.issue_facts(i)["anomaly"]
        calm = max(self.issues - self.anomalies, 1)
        others = round(max(COMMENTED_SHARE * self.issues - self.anomalies, 0) * self.issues / calm)
        commented = (anomaly >= 0) | (permuted(self.stream("comments", "has"), i, self.issues) < others)
        n = 1 + categorical(self.stream("comments", "count"), i, COMMENT_COUNT_WEIGHTS)
        return np.where(commented, n, 0)

    @cached_property
    def comment_keys(self) -> DenseKeys:
        def present(lo: int, hi: int) -> np.ndarray:
            s = np.arange(lo, hi, dtype=np.int64)
            first = lo // COMMENT_SLOTS
            counts = self.comment_count(np.arange(first, -(-hi // COMMENT_SLOTS), dtype=np.int64))  # once per issue
            return s % COMMENT_SLOTS < counts[s // COMMENT_SLOTS - first]

        return DenseKeys(present, self.issues * COMMENT_SLOTS)

    def linked(self, i: np.ndarray, anomaly: np.ndarray | None = None) -> np.ndarray:
        """Issue i owns a link slot: a "blocks" link onto it when it is blocked, else a link from it
        for a keyed 10% of issues (projects with more than one issue)."""
        if anomaly is None:
            anomaly = self.issue_facts(i)["anomaly"]
        pick = self.link_owner[np.asarray(i, dtype=np.int64)]
        return (anomaly == BLOCKED) | (pick & (self.issue_count[self.issue_project(i)] > 1))

    @cached_property
    def link_owner(self) -> np.ndarray:
        """Which issues link to another one: every tenth issue in filing order (from a keyed offset), so the
        links (made soon after their issue's filing) follow the issues' calendar exactly, not a sample of it."""
        created = self.issue_facts(np.arange(self.issues, dtype=np.int64))["created"]
        rank = np.empty(self.issues, dtype=np.int64)
        rank[np.argsort(created, kind="stable")] = np.arange(self.issues)
        offset = self.stream("issue_links", "has").uniform(np.zeros(1, dtype=np.int64))[0]
        return np.floor((rank + 1) * LINKED_SHARE + offset) > np.floor(rank * LINKED_SHARE + offset)

    @cached_property
    def link_keys(self) -> DenseKeys:
        return DenseKeys(lambda lo, hi: self.linked(np.arange(lo, hi, dtype=np.int64)), self.issues)
