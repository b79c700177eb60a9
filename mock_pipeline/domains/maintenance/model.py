"""The maintenance world of a scenario (seed 000): a run-scoped inventory of equipment, tickets
with their lifecycle, QC transitions, XP and part specs. Pure functions of indices.

Index conventions: row index r of users, items, parts and tickets has id r + 1. Children with a
variable number of rows per parent use fixed slots per parent (ticket t has transition slots
9t..9t+8) and drop empty slots; their keys are numbered densely (1..n) by `DenseKeys`, so any chunk
can be generated alone. The whole-table computations are small int arrays per ticket: the plan
(which sampled-active tickets keep their status: at most one per item) and the anomaly labels.

Profiles apply where they mean something: `order_volume` scales the ticket count, `order_trend`
makes ticket volume rise over the window, `anomaly_rate` is the share of tickets that carry an
anomaly (drawn among the worked ones: started at least once). The anomaly is decided once per ticket (`ticket_anomaly`):
`qc_failure` (QC rejected the repair once), `rework` (rejected twice, reworked twice) or
`parts_delay` (work held until a part arrived); the profile's supply labels (stockout,
delivery_delay) set the parts_delay share of the mix, the rest are QC failures.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from mock_pipeline.engine.dense import DenseKeys
from mock_pipeline.engine.distributions import categorical, exponential, unique_codes
from mock_pipeline.engine.pools import Pools, pools
from mock_pipeline.engine.random import Stream
from mock_pipeline.engine.timeline import DAY
from mock_pipeline.scenarios.model import Scenario, ScenarioError, normalize_run_tag

DOMAIN = "maintenance"
SIZE_KNOBS = ("users", "items", "tickets", "parts_per_item", "categories", "lookback_days", "batch_size")
MAX_USERS = 10  # seed 000: a hard cap, whatever is asked
ROLES = ("super_admin", "ops_manager", "master", "technician", "qc_inspector")
# Users 1-5 cover every role; users 6-10 add field staff.
EXTRA_ROLES = ("technician", "technician", "qc_inspector", "master", "technician")
DISPATCHER_ROLES = ("super_admin", "ops_manager", "master")  # who opens and assigns tickets

STATUSES = ("new", "assigned", "in_progress", "waiting_qc", "done")
NEW, ASSIGNED, IN_PROGRESS, WAITING_QC, DONE = range(len(STATUSES))
TRANSITIONS = ("created", "assigned", "started", "to_waiting_qc", "qc_fail", "qc_pass")
CREATED, ASSIGNED_T, STARTED, TO_WAITING_QC, QC_FAIL, QC_PASS = range(len(TRANSITIONS))
# (from status, to status) of each transition kind; "created" has no from status.
TRANSITION_STATUSES = (
    (None, "new"),
    ("new", "assigned"),
    ("assigned", "in_progress"),
    ("in_progress", "waiting_qc"),
    ("waiting_qc", "in_progress"),
    ("waiting_qc", "done"),
)
# Mean wait (seconds) before each transition kind: dispatch, pick-up, repair, QC review.
TRANSITION_MEAN_WAIT = (0.0, 3 * 3600.0, 8 * 3600.0, 1.5 * DAY, 6 * 3600.0, 6 * 3600.0)
REWORK_MEAN_WAIT = 0.75 * DAY  # from a qc_fail back to waiting_qc

PRIORITIES = ("low", "medium", "high", "critical")
PRIORITY_WEIGHTS = (30, 40, 20, 10)
BASE_XP = (10, 20, 35, 50)  # per priority
FIRST_PASS_BONUS_XP = (5, 10, 15, 25)  # passed QC at the first attempt
QC_EVENT_XP = 5  # the inspector's reward for each QC decision

MAX_QC_FAILS = 2
# The anomaly ground truth of a ticket (null when none) and the QC rounds each label fails.
ANOMALIES = ("qc_failure", "rework", "parts_delay")
QC_FAILURE, REWORK, PARTS_DELAY = range(len(ANOMALIES))
NO_ANOMALY = -1
QC_FAILS_OF_LABEL = (1, 2, 0)
REWORK_SHARE_OF_QC = 1 / 3  # of QC-failed tickets, those failed twice
SUPPLY_LABELS = ("stockout", "delivery_delay")  # profile labels that mean a part is short or late
PARTS_DELAY_MEAN_WAIT = 4 * DAY  # assigned -> started when the part had to be ordered
HELD_SQUEEZE_FACTOR = 4.0  # a squeezed history keeps the wait for a part this much longer
TRANSITION_SLOTS = 3 + 2 * MAX_QC_FAILS + 2  # created, assigned, started, fail rounds, waiting, pass
XP_SLOTS = 2 + MAX_QC_FAILS + 1  # base, bonus, one per QC decision
SPEC_SLOTS = 3
SPEC_COUNT_WEIGHTS = (0.2, 0.35, 0.3, 0.15)  # 0..3 parts specified per ticket
# The super admin and the inventory come first; tickets are opened from the end of the first hour on.
# Staff accounts, categories and items are registered over the rollout (model.rollout), each before
# the first ticket that names it, so a ticket never predates its item or its people.
SETUP = 3600
ROLLOUT_DAYS = 28
TAIL = 3600  # tickets are opened at least this long before the window ends
HOUR = 3600
# Tickets are opened on a work rhythm: Monday..Sunday, and by hour of day (UTC).
WEEKDAY_WEIGHTS = (1.0, 1.0, 1.0, 1.0, 0.95, 0.4, 0.3)
HOUR_WEIGHTS = (
    0.15, 0.1, 0.1, 0.1, 0.15, 0.3, 0.8, 1.6, 2.4, 2.6, 2.5, 2.3,
    1.8, 2.2, 2.4, 2.3, 2.0, 1.5, 0.9, 0.6, 0.45, 0.35, 0.25, 0.2,
)  # fmt: skip


# Work happens on weekdays 07:00-19:00 (UTC); critical tickets are worked around the clock (on call).
WORK_START = 7 * HOUR
WORK_SECONDS = 12 * HOUR
ON_CALL_PRIORITY = 3  # critical


def to_work_clock(seconds: np.ndarray) -> np.ndarray:
    """Working seconds (weekdays 07:00-19:00) since the Monday before the epoch; an off-hours moment
    maps to the next opening. Non-decreasing in `seconds`."""
    seconds = np.asarray(seconds, dtype=np.int64)
    day = seconds // DAY + 3  # days since Monday 1969-12-29
    weekday = day % 7
    within = np.where(weekday < 5, np.clip(seconds % DAY - WORK_START, 0, WORK_SECONDS), 0)
    return ((day // 7) * 5 + np.minimum(weekday, 5)) * WORK_SECONDS + within


def from_work_clock(work: np.ndarray) -> np.ndarray:
    """The wall-clock moment of a working second (inverse of to_work_clock inside working hours)."""
    work = np.asarray(work, dtype=np.int64)
    workday, offset = work // WORK_SECONDS, work % WORK_SECONDS
    day = (workday // 5) * 7 + workday % 5 - 3
    return day * DAY + WORK_START + offset


def anomaly_shares(anomaly_rate: float, anomaly_mix: dict[str, float] | None) -> tuple[float, float, float]:
    """Shares of worked tickets labelled qc_failure, rework and parts_delay under a profile."""
    mix = dict(anomaly_mix or {})
    total = sum(float(v) for v in mix.values())
    supply = sum(float(mix.get(label, 0.0)) for label in SUPPLY_LABELS) / total if total > 0 else 0.0
    qc = anomaly_rate * (1.0 - supply)
    return qc * (1.0 - REWORK_SHARE_OF_QC), qc * REWORK_SHARE_OF_QC, anomaly_rate * supply


# The busiest calendar month a rising trend may make (catalog: at most 35% of a history of six months or more,
# half of a shorter one), kept with a margin; a month holds at most MONTH_DAYS of the window.
MONTH_SHARE_TARGET_SHORT, MONTH_SHARE_TARGET_LONG, LONG_HISTORY_DAYS, MONTH_DAYS = 0.45, 0.30, 183, 31


def tempered_trend(trend: float, lookback_days: int) -> float:
    """The profile's rising trend, lowered on a short window just enough that its last month (the busiest
    when as_of ends a month) keeps under the month target: growth-phase's 1.5 on a 75-day window put 54% of
    the tickets in its last month. A flat or falling trend is kept."""
    f = min(MONTH_DAYS / max(lookback_days, 1), 1.0)
    target = MONTH_SHARE_TARGET_SHORT if lookback_days < LONG_HISTORY_DAYS else MONTH_SHARE_TARGET_LONG
    # trend_share(1 - f, 1, T) <= target  <=>  T * (2f - f^2 - target) / 2 <= target - f
    excess = 2 * f - f * f - target
    if trend <= 0 or excess <= 0:
        return trend
    return max(0.0, min(trend, 2 * (target - f) / excess))


def trend_share(lo: float, hi: float, trend: float) -> float:
    """Expected share of tickets opened in [lo, hi) (fractions of the window) at a rate rising
    linearly from 1 to 1 + trend over the window."""
    return ((hi - lo) + trend * (hi * hi - lo * lo) / 2) / (1 + trend / 2)


@dataclass(frozen=True)
class RunTagNamespace:
    """What a run owns in a target database: categories and serial numbers with these prefixes.

    The database load refuses a run whose namespace already exists (seed 000: "run-tag
    collisions are blocked when serial/category namespaces already exist"). ':' cannot occur in
    a normalised tag, so one tag's prefix is never a prefix of another tag's names.
    """

    run_tag: str
    category_prefix: str
    serial_prefix: str

    def category_name(self, label: str) -> str:
        return f"{self.category_prefix}{label}"


def run_tag_namespace(run_tag: str) -> RunTagNamespace:
    """The namespace of a (raw) run tag; raises ScenarioError("run_tag", ...) when it is invalid."""
    tag = normalize_run_tag(run_tag)
    return RunTagNamespace(run_tag=tag, category_prefix=f"{tag}:", serial_prefix=f"{tag}:SN-")


def permuted(stream: Stream, idx: np.ndarray, n: int) -> np.ndarray:
    """A keyed bijection of [0, n) (unique_codes needs n >= 2)."""
    idx = np.asarray(idx, dtype=np.int64)
    return unique_codes(stream, idx, n) if n > 1 else np.zeros_like(idx)


def user_roles(n: int) -> tuple[str, ...]:
    return (ROLES + EXTRA_ROLES)[:n]


@dataclass(frozen=True)
class Lifecycle:
    """Tickets' status, QC rounds and the time of every transition slot ([tickets, SLOTS])."""

    status: np.ndarray
    qc_fails: np.ndarray
    events: np.ndarray  # number of transitions
    times: np.ndarray  # epoch seconds per slot (meaningless where slot >= events)
    kinds: np.ndarray  # index into TRANSITIONS per slot (-1 where absent)

    def first(self, kind: int) -> np.ndarray:
        """Time of the first transition of `kind` per ticket (-1 where it never happened)."""
        hit = self.kinds == kind
        slot = np.argmax(hit, axis=1)
        return np.where(hit.any(axis=1), self.times[np.arange(len(slot)), slot], -1)

    def last(self, kind: int) -> np.ndarray:
        hit = self.kinds == kind
        slot = hit.shape[1] - 1 - np.argmax(hit[:, ::-1], axis=1)
        return np.where(hit.any(axis=1), self.times[np.arange(len(slot)), slot], -1)


def transition_count(status: np.ndarray, qc_fails: np.ndarray) -> np.ndarray:
    """Transitions of a ticket: created, assigned, started, two per failed round, then submit and pass."""
    return np.select(
        [status == NEW, status == ASSIGNED, status == IN_PROGRESS, status == WAITING_QC],
        [1, 2, 3 + 2 * qc_fails, 4 + 2 * qc_fails],
        5 + 2 * qc_fails,
    )


def transition_kinds(status: np.ndarray, qc_fails: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Number of transitions and the kind in each slot, from the final status and QC rounds.

    created, assigned, started, then (to_waiting_qc, qc_fail) per failed round, then
    to_waiting_qc (waiting_qc and done) and qc_pass (done only).
    """
    status = np.asarray(status)[:, None]
    fails = np.asarray(qc_fails)[:, None]
    slot = np.arange(TRANSITION_SLOTS)[None, :]
    events = transition_count(status, fails)
    rework = slot - 3
    after = rework - 2 * fails
    kinds = np.select(
        [slot < 3, rework < 2 * fails, after == 0],
        [slot, np.where(rework % 2 == 0, TO_WAITING_QC, QC_FAIL), TO_WAITING_QC],
        QC_PASS,
    )
    kinds = np.where(slot < events, kinds, -1)
    return events[:, 0], kinds


class MaintenanceModel:
    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        knobs = scenario.knobs[DOMAIN]
        for name in SIZE_KNOBS:
            if int(knobs[name]) <= 0:
                raise ScenarioError(f"overrides.maintenance.{name}", f"must be a positive integer, got {knobs[name]}")
        self.namespace = run_tag_namespace(scenario.run_tag)
        self.run_tag = self.namespace.run_tag
        self.requested_users = int(knobs["users"])
        # Hard cap of 10; at least 5 so that every role is present.
        self.users = max(len(ROLES), min(MAX_USERS, self.requested_users))
        self.items = int(knobs["items"])
        profile = scenario.profile
        # The profile's order volume scales the ticket count (peak-season: 3x the preset's tickets).
        self.requested_tickets = int(knobs["tickets"])
        self.tickets = max(1, round(self.requested_tickets * float(profile.order_volume)))
        self.anomaly_rate = float(profile.anomaly_rate)
        self.anomaly_shares = anomaly_shares(self.anomaly_rate, dict(profile.anomaly_mix))
        self.parts_per_item = int(knobs["parts_per_item"])
        self.categories = int(knobs["categories"])
        self.lookback_days = int(knobs["lookback_days"])
        # The profile's trend, tempered on a short window so that no month dominates (tempered_trend).
        self.trend = tempered_trend(float(profile.order_trend), self.lookback_days)
        self.batch_size = int(knobs["batch_size"])  # rows per bulk insert of the database load
        if self.items >= 10**8:
            raise ScenarioError("overrides.maintenance.items", "at most 99,999,999 (serial numbers carry 8 digits)")
        # The lookback window ends with the scenario's as_of day (seed 000's --lookback-days).
        self.end = scenario.window.end_epoch  # first second after as_of
        self.start = self.end - self.lookback_days * DAY
        if self.end - self.start <= SETUP + TAIL:
            raise ScenarioError("overrides.maintenance.lookback_days", "must be at least 1 day")
        self.opened = self.start + SETUP
        roles = np.array(user_roles(self.users))
        self.role_of_user = roles
        self.technicians = np.flatnonzero(roles == "technician")
        self.inspectors = np.flatnonzero(roles == "qc_inspector")
        self.dispatchers = np.flatnonzero(np.isin(roles, DISPATCHER_ROLES))

    def stream(self, table: str, column: str) -> Stream:
        return Stream(self.scenario.seed, DOMAIN, table, column)

    @cached_property
    def pools(self) -> Pools:
        return pools(self.scenario.locale or "en_US", self.scenario.seed)

    # -- catalogue -----------------------------------------------------------------------------
    def item_category(self, i: np.ndarray) -> np.ndarray:
        # Every category gets items (round robin), the rest of the order is shuffled.
        return permuted(self.stream("items", "category"), i, self.items) % self.categories

    # -- set-up: staff, categories and items are registered over the first weeks (the rollout),
    # each before the first ticket that needs it (tickets keep their uniform spread).
    @cached_property
    def rollout(self) -> int:
        """Seconds over which the catalogue is registered: four weeks, or a sixth of a shorter window."""
        return int(min(ROLLOUT_DAYS * DAY, (self.end - self.start) // 6))

    def _first_use(self, who: list[np.ndarray], count: int) -> np.ndarray:
        """Per row of a parent table, the earliest creation of a ticket naming it (self.end if none)."""
        created = self.ticket_created(np.arange(self.tickets, dtype=np.int64))
        first = np.full(count, self.end, dtype=np.int64)
        for rows in who:
            np.minimum.at(first, rows, created)
        return first

    @cached_property
    def user_created_all(self) -> np.ndarray:
        """The super admin opens the system; the others get accounts over the rollout, before their first ticket."""
        u = np.arange(self.users, dtype=np.int64)
        t = np.arange(self.tickets, dtype=np.int64)
        first = self._first_use([self.ticket_creator(t), self.ticket_assignee(t), self.ticket_inspector(t)], self.users)
        planned = self.start + 600 + np.floor(self.rollout / 2 * self.stream("users", "created").uniform(u))
        lead = self.stream("users", "lead").integers(u, 600, 3000)
        created = np.maximum(self.start + 120, np.minimum(planned.astype(np.int64), first - lead))
        return np.where(u == 0, self.start, created)

    @cached_property
    def item_created_all(self) -> np.ndarray:
        """Items are registered over the rollout, each some time before its first ticket."""
        i = np.arange(self.items, dtype=np.int64)
        first = self._first_use([self.plan[2]], self.items)
        planned = self.start + 900 + np.floor(self.rollout * self.stream("items", "created").uniform(i))
        lead = self.stream("items", "lead").integers(i, 600, 2400)
        return np.minimum(planned.astype(np.int64), first - lead)

    @cached_property
    def category_created_all(self) -> np.ndarray:
        """Categories are set up over the first part of the rollout, each before its first item."""
        c = np.arange(self.categories, dtype=np.int64)
        first_item = np.full(self.categories, self.end, dtype=np.int64)
        np.minimum.at(first_item, self.item_category(np.arange(self.items, dtype=np.int64)), self.item_created_all)
        planned = self.start + 300 + np.floor(self.rollout / 4 * self.stream("categories", "created").uniform(c))
        lead = self.stream("categories", "lead").integers(c, 60, 300)
        return np.minimum(planned.astype(np.int64), first_item - lead)

    def item_created(self, i: np.ndarray) -> np.ndarray:
        return self.item_created_all[np.asarray(i, dtype=np.int64)]

    def item_location(self, i: np.ndarray) -> np.ndarray:
        return self.stream("items", "location").integers(i, 0, 8)

    # -- tickets -------------------------------------------------------------------------------
    @cached_property
    def plan(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(sampled status, final status, item) of every ticket.

        Statuses are sampled uniformly (a keyed permutation makes the counts exact). Active
        (not done) tickets are spread over distinct items while items last; an active ticket
        beyond that would be a second active ticket on an item, so it falls back to done.
        """
        t = np.arange(self.tickets, dtype=np.int64)
        sampled = permuted(self.stream("tickets", "status"), t, self.tickets) % len(STATUSES)
        active = sampled != DONE
        rank = np.cumsum(active) - 1
        keeps = active & (rank < self.items)
        status = np.where(keeps, sampled, DONE)
        own_item = permuted(self.stream("tickets", "active_item"), np.minimum(rank, self.items - 1), self.items)
        any_item = self.stream("tickets", "item").integers(t, 0, self.items)
        return sampled, status, np.where(keeps, own_item, any_item)

    @cached_property
    def labels(self) -> np.ndarray:
        """The anomaly of every ticket (index into ANOMALIES, NO_ANOMALY when none), decided once.

        Each label's share of all tickets is the profile's (up to rounding): `label_cuts` tickets,
        drawn by a keyed permutation among the worked ones (started at least once), the only ones a
        QC failure or a parts delay can have happened to (capped at their number).
        """
        worked = self.plan[1] >= IN_PROGRESS
        n = int(worked.sum())
        rank = np.cumsum(worked) - 1
        order = permuted(self.stream("tickets", "anomaly"), np.maximum(rank, 0), max(n, 1))
        cuts = self.label_cuts
        label = np.searchsorted(cuts, order, side="right")
        return np.where(worked & (label < len(ANOMALIES)), label, NO_ANOMALY)

    @property
    def label_cuts(self) -> np.ndarray:
        """Cumulative ticket counts of the labels, in ANOMALIES order (the shares of all tickets)."""
        return np.floor(np.cumsum(self.anomaly_shares) * self.tickets + 1e-9).astype(np.int64)

    @cached_property
    def qc_fails_all(self) -> np.ndarray:
        label = self.labels
        return np.where(label >= 0, np.asarray(QC_FAILS_OF_LABEL)[np.maximum(label, 0)], 0)

    @cached_property
    def transition_keys(self) -> DenseKeys:
        events = transition_count(self.plan[1], self.qc_fails_all)

        def present(lo: int, hi: int) -> np.ndarray:
            s = np.arange(lo, hi, dtype=np.int64)
            return s % TRANSITION_SLOTS < events[s // TRANSITION_SLOTS]

        return DenseKeys(present, self.tickets * TRANSITION_SLOTS)

    def xp_present(self, t: np.ndarray, slot: np.ndarray) -> np.ndarray:
        """Which XP slots hold a row: base XP and first-pass bonus (done, the bonus without a
        qc_fail), then one per QC decision."""
        done = self.plan[1][t] == DONE
        fails = self.qc_fails_all[t]
        return np.select([slot == 0, slot == 1], [done, done & (fails == 0)], slot - 2 < fails + done)

    @cached_property
    def xp_keys(self) -> DenseKeys:
        def present(lo: int, hi: int) -> np.ndarray:
            s = np.arange(lo, hi, dtype=np.int64)
            return self.xp_present(s // XP_SLOTS, s % XP_SLOTS)

        return DenseKeys(present, self.tickets * XP_SLOTS)

    @cached_property
    def spec_keys(self) -> DenseKeys:
        def present(lo: int, hi: int) -> np.ndarray:
            s = np.arange(lo, hi, dtype=np.int64)
            return s % SPEC_SLOTS < self.spec_count(s // SPEC_SLOTS)

        return DenseKeys(present, self.tickets * SPEC_SLOTS)

    def ticket_anomaly(self, t: np.ndarray) -> np.ndarray:
        return self.labels[np.asarray(t, dtype=np.int64)]

    def ticket_priority(self, t: np.ndarray) -> np.ndarray:
        return categorical(self.stream("tickets", "priority"), t, PRIORITY_WEIGHTS)

    @cached_property
    def opening_hours(self) -> tuple[np.ndarray, np.ndarray]:
        """(start epoch, cumulative share) of each hour a ticket can be opened in: weekdays busier
        than weekends, working hours busier than nights, and the profile's trend over the window."""
        hours = (self.end - self.start) // HOUR
        h = np.arange(hours, dtype=np.int64)
        at = self.start + h * HOUR
        weekday = ((at // DAY) + 3) % 7  # 1970-01-01 was a Thursday
        position = (h + 0.5) / hours
        weight = (
            np.asarray(WEEKDAY_WEIGHTS)[weekday]
            * np.asarray(HOUR_WEIGHTS)[(at % DAY) // HOUR]
            * np.maximum(1.0 + self.trend * position, 0.0)
        )
        # No ticket before the catalogue is set up, none in the last hour (room for its history).
        weight = np.where((at >= self.opened) & (at + HOUR <= self.end - TAIL), weight, 0.0)
        if weight.sum() <= 0:  # a falling trend over a tiny window: fall back to flat
            weight = np.where((at >= self.opened) & (at + HOUR <= self.end - TAIL), 1.0, 0.0)
        return at, np.cumsum(weight) / weight.sum()

    def ticket_created(self, t: np.ndarray) -> np.ndarray:
        """Monthly shares flat over the lookback window (rising with the profile's trend), with a
        weekday and working-hours rhythm."""
        at, cdf = self.opening_hours
        hour = np.minimum(np.searchsorted(cdf, self.stream("tickets", "created").uniform(t), side="right"), len(at) - 1)
        return at[hour] + self.stream("tickets", "created_second").integers(t, 0, HOUR)

    def ticket_creator(self, t: np.ndarray) -> np.ndarray:
        return self.dispatchers[self.stream("tickets", "creator").integers(t, 0, len(self.dispatchers))]

    def ticket_assignee(self, t: np.ndarray) -> np.ndarray:
        return self.technicians[self.stream("tickets", "assignee").integers(t, 0, len(self.technicians))]

    def ticket_inspector(self, t: np.ndarray) -> np.ndarray:
        return self.inspectors[self.stream("tickets", "inspector").integers(t, 0, len(self.inspectors))]

    def lifecycle(self, t: np.ndarray) -> Lifecycle:
        t = np.asarray(t, dtype=np.int64)
        status = self.plan[1][t]
        fails = self.qc_fails_all[t]
        events, kinds = transition_kinds(status, fails)
        slot = np.arange(TRANSITION_SLOTS)[None, :]
        slot_g = t[:, None] * TRANSITION_SLOTS + slot
        mean = np.asarray(TRANSITION_MEAN_WAIT)[np.maximum(kinds, 0)]
        # The to_waiting_qc after a failed round is rework, quicker than the first repair.
        rework = (kinds == TO_WAITING_QC) & (slot > 3)
        mean = np.where(rework, REWORK_MEAN_WAIT, mean)
        # Waiting for a part: work starts days after assignment.
        held = (kinds == STARTED) & (self.labels[t] == PARTS_DELAY)[:, None]
        mean = np.where(held, PARTS_DELAY_MEAN_WAIT, mean)
        wait = np.where(kinds > CREATED, exponential(self.stream("ticket_transitions", "wait"), slot_g, mean), 0.0)
        created = self.ticket_created(t)
        # Work is done in working hours (a working day is half a calendar day, so waits halve),
        # except on call for critical tickets and where too little working time is left.
        created_w = to_work_clock(created)
        room_w = to_work_clock(self.end - 1) - created_w - events - 1
        on_clock = (self.ticket_priority(t) != ON_CALL_PRIORITY) & (room_w >= 600 * events)
        start = np.where(on_clock, created_w, created)
        room = np.where(on_clock, room_w, self.end - 1 - created - events).astype(np.float64)
        wait = wait * np.where(on_clock, WORK_SECONDS / DAY, 1.0)[:, None]
        # Squeeze a ticket's history into what is left of the window; every step takes >= 1 s.
        # A squeezed history ends at a random point of that room, not at its end: on a short
        # window most tickets are squeezed, and ending them all at 18:59:59 or 23:59:59 would
        # put most done_at values at one time of day.
        # The wait for a part is squeezed HELD_SQUEEZE_FACTOR times less than the other steps (up to
        # not at all), so a short window still shows parts_delay tickets waiting longer to start.
        total = wait.sum(axis=1)
        reach = room * (0.2 + 0.8 * self.stream("ticket_transitions", "squeeze").uniform(t))
        held_wait = np.where(held, wait, 0.0).sum(axis=1)
        other_wait = total - held_wait
        scale = reach / np.maximum(HELD_SQUEEZE_FACTOR * held_wait + other_wait, 1.0)
        held_scale = HELD_SQUEEZE_FACTOR * scale
        unboosted = held_scale > 1.0  # the part's wait fits whole: the others share what is left
        scale = np.where(unboosted, np.maximum(reach - held_wait, 0.0) / np.maximum(other_wait, 1.0), scale)
        held_scale = np.where(unboosted, 1.0, held_scale)
        squeezed = (total > room)[:, None]
        factor = np.where(squeezed, np.where(held, held_scale[:, None], scale[:, None]), 1.0)
        steps = np.where(kinds > CREATED, np.floor(wait * factor).astype(np.int64) + 1, 0)
        clock = start[:, None] + np.cumsum(steps, axis=1)
        times = np.where(on_clock[:, None], from_work_clock(clock), clock)
        times[:, 0] = created  # opened when it was reported, at any hour
        return Lifecycle(status=status, qc_fails=fails, events=events, times=times, kinds=kinds)

    def transition_actor(self, t: np.ndarray, kinds: np.ndarray) -> np.ndarray:
        """Who made each transition: dispatcher opens and assigns, technician works, inspector decides."""
        t = np.asarray(t)[:, None]
        dispatcher, technician, inspector = (
            f(t) for f in (self.ticket_creator, self.ticket_assignee, self.ticket_inspector)
        )
        return np.select(
            [kinds <= ASSIGNED_T, kinds <= TO_WAITING_QC],
            [np.broadcast_to(dispatcher, kinds.shape), np.broadcast_to(technician, kinds.shape)],
            np.broadcast_to(inspector, kinds.shape),
        )

    def spec_count(self, t: np.ndarray) -> np.ndarray:
        """Parts specified per ticket; a ticket held for a part names at least that part."""
        t = np.asarray(t, dtype=np.int64)
        n = categorical(self.stream("ticket_part_specs", "count"), t, SPEC_COUNT_WEIGHTS)
        n = np.where(self.labels[t] == PARTS_DELAY, np.maximum(n, 1), n)
        return np.minimum(n, self.parts_per_item)

    def ticket_part(self, t: np.ndarray) -> np.ndarray:
        """Part slot of the ticket's first part (its suspected part; the first spec when it has any)."""
        t = np.asarray(t, dtype=np.int64)
        offset = self.stream("ticket_part_specs", "offset").integers(t, 0, self.parts_per_item)
        return self.plan[2][t] * self.parts_per_item + offset
