"""The maintenance world of a scenario (seed 000): a run-scoped inventory of equipment, tickets
with their lifecycle, QC transitions, XP and part specs. Pure functions of indices.

Index conventions: row index r of a table has id r + 1. Children with a variable number of rows
per parent use fixed slots per parent (ticket t has transition slots 9t..9t+8) and drop empty
slots, so any chunk can be generated alone. The one whole-table computation is the ticket plan
(which sampled-active tickets keep their status: at most one per item), an int array per ticket.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

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
QC_FAIL_WEIGHTS = (0.70, 0.22, 0.08)  # 0, 1 or 2 failed QC rounds
TRANSITION_SLOTS = 3 + 2 * MAX_QC_FAILS + 2  # created, assigned, started, fail rounds, waiting, pass
XP_SLOTS = 2 + MAX_QC_FAILS + 1  # base, bonus, one per QC decision
SPEC_SLOTS = 3
SPEC_COUNT_WEIGHTS = (0.2, 0.35, 0.3, 0.15)  # 0..3 parts specified per ticket
# Users, the inventory and the catalogue are set up in the first hour of the lookback window;
# tickets are opened after that, so a ticket never predates its item.
SETUP = 3600
TAIL = 3600  # tickets are opened at least this long before the window ends


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


def transition_kinds(status: np.ndarray, qc_fails: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Number of transitions and the kind in each slot, from the final status and QC rounds.

    created, assigned, started, then (to_waiting_qc, qc_fail) per failed round, then
    to_waiting_qc (waiting_qc and done) and qc_pass (done only).
    """
    status = np.asarray(status)[:, None]
    fails = np.asarray(qc_fails)[:, None]
    slot = np.arange(TRANSITION_SLOTS)[None, :]
    events = np.select(
        [status == NEW, status == ASSIGNED, status == IN_PROGRESS, status == WAITING_QC],
        [1, 2, 3 + 2 * fails, 4 + 2 * fails],
        5 + 2 * fails,
    )
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
        self.tickets = int(knobs["tickets"])
        self.parts_per_item = int(knobs["parts_per_item"])
        self.categories = int(knobs["categories"])
        self.lookback_days = int(knobs["lookback_days"])
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

    def item_created(self, i: np.ndarray) -> np.ndarray:
        return self.start + 600 + (np.asarray(i, dtype=np.int64) * (SETUP - 1200)) // self.items

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

    def ticket_priority(self, t: np.ndarray) -> np.ndarray:
        return categorical(self.stream("tickets", "priority"), t, PRIORITY_WEIGHTS)

    def ticket_created(self, t: np.ndarray) -> np.ndarray:
        """Uniform over the lookback window (after setup, leaving a short tail for transitions)."""
        span = self.end - TAIL - self.opened
        return self.opened + np.floor(self.stream("tickets", "created").uniform(t) * span).astype(np.int64)

    def ticket_creator(self, t: np.ndarray) -> np.ndarray:
        return self.dispatchers[self.stream("tickets", "creator").integers(t, 0, len(self.dispatchers))]

    def ticket_assignee(self, t: np.ndarray) -> np.ndarray:
        return self.technicians[self.stream("tickets", "assignee").integers(t, 0, len(self.technicians))]

    def ticket_inspector(self, t: np.ndarray) -> np.ndarray:
        return self.inspectors[self.stream("tickets", "inspector").integers(t, 0, len(self.inspectors))]

    def lifecycle(self, t: np.ndarray) -> Lifecycle:
        t = np.asarray(t, dtype=np.int64)
        status = self.plan[1][t]
        reached_qc = status >= IN_PROGRESS
        fails = np.where(reached_qc, categorical(self.stream("tickets", "qc_fails"), t, QC_FAIL_WEIGHTS), 0)
        events, kinds = transition_kinds(status, fails)
        slot_g = t[:, None] * TRANSITION_SLOTS + np.arange(TRANSITION_SLOTS)[None, :]
        mean = np.asarray(TRANSITION_MEAN_WAIT)[np.maximum(kinds, 0)]
        # The to_waiting_qc after a failed round is rework, quicker than the first repair.
        rework = (kinds == TO_WAITING_QC) & (np.arange(TRANSITION_SLOTS)[None, :] > 3)
        mean = np.where(rework, REWORK_MEAN_WAIT, mean)
        wait = np.where(kinds > CREATED, exponential(self.stream("ticket_transitions", "wait"), slot_g, mean), 0.0)
        created = self.ticket_created(t)
        # Squeeze a ticket's history into what is left of the window; every step takes >= 1 s.
        room = (self.end - 1 - created - events).astype(np.float64)
        total = wait.sum(axis=1)
        scale = np.where(total > room, room / np.maximum(total, 1.0), 1.0)
        steps = np.where(kinds > CREATED, np.floor(wait * scale[:, None]).astype(np.int64) + 1, 0)
        times = created[:, None] + np.cumsum(steps, axis=1)
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
        n = categorical(self.stream("ticket_part_specs", "count"), t, SPEC_COUNT_WEIGHTS)
        return np.minimum(n, self.parts_per_item)
