"""The maintenance tables (seed 000), each declared once beside its pure, columnar builder.

Each `@TABLES.table(...)` holds the table's columns with their types, meanings and foreign keys (see
mock_pipeline.engine.declare); `TABLES` is the domain's table list in declaration order.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mock_pipeline.domains.maintenance.model import (
    ASSIGNED_T,
    BASE_XP,
    CREATED,
    DOMAIN,
    DONE,
    FIRST_PASS_BONUS_XP,
    NEW,
    NO_ANOMALY,
    PARTS_DELAY,
    PRIORITIES,
    QC_EVENT_XP,
    QC_FAIL,
    QC_FAILURE,
    QC_PASS,
    REWORK,
    SPEC_SLOTS,
    STARTED,
    STATUSES,
    TO_WAITING_QC,
    TRANSITION_SLOTS,
    TRANSITION_STATUSES,
    TRANSITIONS,
    WAITING_QC,
    XP_SLOTS,
    MaintenanceModel,
    permuted,
)
from mock_pipeline.domains.maintenance.text import (
    ANOMALY_LABELS,
    HAPPENED_POOL,
    LOCATIONS,
    NOTE_OFFSETS,
    NOTE_POOL,
    PART_NOUNS,
    REPORTED_BY_WORDS,
    STATE_POOL,
    category_label,
    item_name,
    part_noun_index,
    ticket_text,
    ticket_vocab,
)
from mock_pipeline.domains.maintenance.vocabulary import (
    QC_REASONS,
    REPORTED_BY,
    STATUS_LINES,
)
from mock_pipeline.engine import columns as col
from mock_pipeline.engine.columns import INT, MONEY, STRING, TIMESTAMP, ids, pick
from mock_pipeline.engine.declare import Column, Columns, Tables
from mock_pipeline.engine.distributions import lognormal

TABLES = Tables(DOMAIN)


# --- users -------------------------------------------------------------------------------------
# Logins of users whose names have no Latin letters (ja_JP, ...): one per user, so still unique.
LATIN_LOGINS = ("alex", "sam", "robin", "kim", "jo", "lee", "max", "noa", "ira", "kai")


def _slug(names: pa.Array) -> pa.Array:
    """Lower-case a-z only, accents folded (for logins and e-mail addresses)."""
    return pc.replace_substring_regex(pc.utf8_lower(pc.utf8_normalize(names, "NFKD")), r"[^a-z]", "")


@TABLES.table(
    key="user_id",
    slots=lambda m: m.users,
    description="Deterministic mock staff, at most 10, every role present.",
    columns=(
        Column("user_id", INT, "Key of the mock user (1..n, at most 10)"),
        Column("username", STRING, "Login name: mock_ and the user's first and last name"),
        Column("full_name", STRING, "The user's display name"),
        Column("email", STRING, "E-mail address on a reserved example domain"),
        Column("role", STRING, "super_admin, ops_manager, master, technician or qc_inspector"),
        Column("is_active", pa.bool_(), "Whether the account can log in"),
        Column(
            "created_at",
            TIMESTAMP,
            "When the account was created (UTC): the super admin first, the others over the rollout",
        ),
    ),
)
def users(m: MaintenanceModel, lo: int, hi: int) -> Columns:
    """Deterministic mock staff (reused by every run, so not run-tagged), at most 10. Distinct first
    names (a keyed permutation of the pool) make logins and e-mail addresses unique without a counter."""
    u = ids(lo, hi)
    role = pa.array(m.role_of_user[u], STRING)
    first = col.take(m.pools.first_names, permuted(m.stream("users", "first"), u, len(m.pools.first_names)))
    last = col.take(m.pools.last_names, m.stream("users", "last").integers(u, 0, len(m.pools.last_names)))
    login_first, login_last = _slug(first), _slug(last)
    latin = (pc.utf8_length(login_first).to_numpy() > 0) & (pc.utf8_length(login_last).to_numpy() > 0)
    login_first = pc.if_else(pa.array(latin), login_first, pick(LATIN_LOGINS, u))
    login_last = pc.if_else(pa.array(latin), login_last, pc.replace_substring(role, "_", ""))
    return {
        "user_id": u + 1,
        "username": col.join("mock_", login_first, "_", login_last),
        "full_name": col.join(first, " ", last),
        "email": col.join(login_first, ".", login_last, "@maintenance.example"),
        "role": role,
        "is_active": np.ones(len(u), dtype=bool),
        "created_at": col.timestamps(m.user_created_all[u]),
    }


# --- inventory, categories, items, parts -------------------------------------------------------
@TABLES.table(
    key="inventory_id",
    slots=lambda m: 1,
    description="The run-scoped inventory, named after the run tag.",
    columns=(
        Column("inventory_id", INT, "Key of the run-scoped inventory"),
        Column("name", STRING, "Inventory name, carrying the run tag"),
        Column("run_tag", STRING, "The normalised run tag this run's names are namespaced with"),
        Column("location", STRING, "Site of the inventory"),
        Column("created_by_id", INT, "User (the super admin) who created the inventory", references="users"),
        Column("created_at", TIMESTAMP, "When the inventory was set up (UTC)"),
    ),
)
def inventories(m: MaintenanceModel, lo: int, hi: int) -> Columns:
    """One inventory per run, named after the run tag."""
    i = ids(lo, hi)
    return {
        "inventory_id": i + 1,
        "name": pa.array([f"Mock inventory {m.run_tag}"] * len(i), STRING),
        "run_tag": pa.array([m.run_tag] * len(i), STRING),
        "location": col.take(LOCATIONS, m.stream("inventories", "location").integers(i, 0, len(LOCATIONS))),
        "created_by_id": np.ones(len(i), dtype=np.int64),  # the super admin
        "created_at": col.timestamps(m.start + 60 + i),
    }


@TABLES.table(
    key="category_id",
    slots=lambda m: m.categories,
    description="Equipment categories; names carry the run tag's namespace.",
    columns=(
        Column("category_id", INT, "Key of the equipment category"),
        Column("inventory_id", INT, "Inventory the category belongs to", references="inventories"),
        Column("name", STRING, "Category name, prefixed with the run tag's namespace"),
        Column("description", STRING, "What the category holds"),
        Column("created_at", TIMESTAMP, "When the category was set up, after its inventory, before its items (UTC)"),
    ),
)
def categories(m: MaintenanceModel, lo: int, hi: int) -> Columns:
    c = ids(lo, hi)
    label = category_label(c)
    return {
        "category_id": c + 1,
        "inventory_id": np.ones(len(c), dtype=np.int64),
        "name": col.join(m.namespace.category_prefix, label),
        "description": col.join(label, " equipment and spare parts"),
        "created_at": col.timestamps(m.category_created_all[c]),
    }


@TABLES.table(
    key="item_id",
    slots=lambda m: m.items,
    description="Equipment items; serial numbers carry the run tag's namespace.",
    columns=(
        Column("item_id", INT, "Key of the equipment item"),
        Column("inventory_id", INT, "Inventory holding the item", references="inventories"),
        Column("category_id", INT, "Equipment category of the item", references="categories"),
        Column("name", STRING, "Equipment kind of the category and a model number"),
        Column("serial_number", STRING, "Serial number: the run tag's serial prefix and 8 digits, unique per run"),
        Column("location", STRING, "Where the item is installed"),
        Column(
            "created_at",
            TIMESTAMP,
            "When the item was registered: over the rollout, after its category, before its tickets (UTC)",
        ),
    ),
)
def items(m: MaintenanceModel, lo: int, hi: int) -> Columns:
    i = ids(lo, hi)
    category = m.item_category(i)
    # Serial numbers: the run's prefix and 8 digits from a keyed permutation (unique per run).
    serial = permuted(m.stream("items", "serial"), i, 10**8)
    return {
        "item_id": i + 1,
        "inventory_id": np.ones(len(i), dtype=np.int64),
        "category_id": category + 1,
        "name": item_name(m, i, category),
        "serial_number": col.join(m.namespace.serial_prefix, col.digits(serial, 8)),
        "location": col.take(LOCATIONS, m.item_location(i)),
        "created_at": col.timestamps(m.item_created(i)),
    }


@TABLES.table(
    key="part_id",
    slots=lambda m: m.items * m.parts_per_item,
    description="Spare parts: parts_per_item per item.",
    columns=(
        Column("part_id", INT, "Key of the spare part"),
        Column("item_id", INT, "Item the part belongs to", references="items"),
        Column("name", STRING, "Part kind, from the item's category"),
        Column("part_number", STRING, "Part number: PN- and digits, unique"),
        Column("quantity_in_stock", INT, "Units of the part in stock"),
        Column("unit_cost", MONEY, "Cost of one unit"),
        Column("created_at", TIMESTAMP, "When the part was registered, after its item (UTC)"),
    ),
)
def parts(m: MaintenanceModel, lo: int, hi: int) -> Columns:
    """parts_per_item parts per item: slot p is part p % parts_per_item of item p // parts_per_item."""
    p = ids(lo, hi)
    item, k = p // m.parts_per_item, p % m.parts_per_item
    noun = part_noun_index(m, p)
    width = max(9, len(str(m.items * m.parts_per_item)))
    cents = np.maximum(100, np.round(4500 * lognormal(m.stream("parts", "cost"), p, 0.0, 0.8))).astype(np.int64)
    return {
        "part_id": p + 1,
        "item_id": item + 1,
        "name": col.take(PART_NOUNS, noun),
        # A keyed permutation: unique, but not the row counter.
        "part_number": col.join("PN-", col.digits(permuted(m.stream("parts", "number"), p, 10**width), width)),
        "quantity_in_stock": m.stream("parts", "stock").integers(p, 0, 40),
        "unit_cost": col.money(cents),
        "created_at": col.timestamps(m.item_created(item) + 1 + k % 60),
    }


# --- tickets -----------------------------------------------------------------------------------
def _stamp(seconds: np.ndarray) -> pa.Array:
    return col.timestamps(np.maximum(seconds, 0), nulls=seconds < 0)


def _label_of(idx: np.ndarray) -> pa.Array:
    """The anomaly label (null where NO_ANOMALY)."""
    return col.labels(ANOMALY_LABELS, idx)


ANOMALY_DESCRIPTION = (
    "The ticket's anomaly ground truth (null when none): qc_failure (QC rejected the repair once), rework"
    " (rejected twice, reworked twice) or parts_delay (work held until a part arrived)"
)


@TABLES.table(
    key="ticket_id",
    slots=lambda m: m.tickets,
    description="Maintenance tickets: uniform sampled status, lifecycle timestamps, at most one active per item.",
    columns=(
        Column("ticket_id", INT, "Key of the maintenance ticket"),
        Column("item_id", INT, "Item the ticket is about", references="items"),
        Column("title", STRING, "The item and its symptom"),
        Column(
            "description",
            STRING,
            (
                "Who reported what on which item, the suspected part, the state of the work and, when the ticket had "
                "an anomaly, what happened"
            ),
        ),
        Column("priority", STRING, "low, medium, high or critical"),
        Column("status", STRING, "Current status: new, assigned, in_progress, waiting_qc or done"),
        Column("sampled_status", STRING, "Status drawn uniformly before the one-active-ticket-per-item rule"),
        Column(
            "fell_back_to_done",
            pa.bool_(),
            ("True when the sampled active status fell back to done (the item had an active ticket)"),
        ),
        Column(
            "created_by_id",
            INT,
            ("Dispatcher (super_admin, ops_manager or master) who opened the ticket"),
            references="users",
        ),
        Column("assigned_to_id", INT, "Technician working the ticket (null while new)", references="users"),
        Column(
            "qc_inspector_id",
            INT,
            ("QC inspector deciding on the repair (null before the first QC submission)"),
            references="users",
        ),
        Column("qc_fail_count", INT, "Failed QC rounds: 1 for qc_failure, 2 for rework, else 0"),
        Column("anomaly", STRING, ANOMALY_DESCRIPTION),
        Column("created_at", TIMESTAMP, "When the ticket was opened (UTC)"),
        Column("assigned_at", TIMESTAMP, "First assignment (UTC)"),
        Column("started_at", TIMESTAMP, "Work started (UTC); days after assignment for parts_delay"),
        Column("submitted_for_qc_at", TIMESTAMP, "Last submission for QC (UTC)"),
        Column("done_at", TIMESTAMP, "QC pass (UTC)"),
        Column("updated_at", TIMESTAMP, "Time of the ticket's last transition (UTC)"),
    ),
    text_columns=("title", "description"),
)
def tickets(m: MaintenanceModel, lo: int, hi: int) -> Columns:
    t = ids(lo, hi)
    sampled, status, item = (a[t] for a in m.plan)
    life = m.lifecycle(t)
    label = m.ticket_anomaly(t)
    v = ticket_vocab(m, t)
    w = ticket_text(m, t, v)
    updated = life.times[np.arange(len(t)), life.events - 1]
    # The state of the work and what the anomaly did: index arithmetic into phrase pools.
    n_parts = len(PART_NOUNS)
    state = np.where(status == DONE, len(STATUS_LINES) - 1 + v["repair"] * n_parts + v["part"], status)
    happened = np.select(
        [label == QC_FAILURE, label == REWORK, label == PARTS_DELAY],
        [1 + v["reason"] * n_parts + v["part"], 1 + (len(QC_REASONS) + v["reason"]) * n_parts + v["part"],
         1 + 2 * len(QC_REASONS) * n_parts + v["part"]],
        0,
    )  # fmt: skip
    return {
        "ticket_id": t + 1,
        "item_id": item + 1,
        "title": col.join(w["item"], ": ", w["symptom"]),
        "description": col.join(
            col.take(REPORTED_BY_WORDS, m.stream("tickets", "reporter").integers(t, 0, len(REPORTED_BY))),
            ": ",
            w["item"],
            " (",
            w["location"],
            ") is ",
            w["symptom"],
            ". Suspected part: ",
            w["part"],
            ". ",
            STATE_POOL.take(pa.array(state)),
            HAPPENED_POOL.take(pa.array(happened)),
        ),
        "priority": pick(PRIORITIES, m.ticket_priority(t)),
        "status": pick(STATUSES, status),
        "sampled_status": pick(STATUSES, sampled),
        "fell_back_to_done": sampled != status,
        "created_by_id": m.ticket_creator(t) + 1,
        "assigned_to_id": col.ints(m.ticket_assignee(t) + 1, nulls=status == NEW),
        # The inspector is set from the first QC submission on (also when sent back to work).
        "qc_inspector_id": col.ints(m.ticket_inspector(t) + 1, nulls=(status < WAITING_QC) & (life.qc_fails == 0)),
        "qc_fail_count": life.qc_fails,
        "anomaly": _label_of(label),
        "created_at": col.timestamps(m.ticket_created(t)),
        "assigned_at": _stamp(life.first(ASSIGNED_T)),
        "started_at": _stamp(life.first(STARTED)),
        "submitted_for_qc_at": _stamp(np.where(status >= WAITING_QC, life.last(TO_WAITING_QC), -1)),
        "done_at": _stamp(life.first(QC_PASS)),
        "updated_at": col.timestamps(updated),
    }


_FROM = pa.array([f for f, _ in TRANSITION_STATUSES], STRING)
_TO = pa.array([to for _, to in TRANSITION_STATUSES], STRING)
HELD_START, RESUBMIT = len(TRANSITIONS), len(TRANSITIONS) + 1  # note variants beyond the six kinds


def transition_labels(kinds: np.ndarray, ticket_label: np.ndarray) -> np.ndarray:
    """The anomaly each transition slot carries: a QC label on its qc_fail transitions and the
    resubmissions after them, parts_delay on the held start; NO_ANOMALY elsewhere."""
    label = np.asarray(ticket_label)[:, None]
    slot = np.arange(kinds.shape[1])[None, :]
    qc = (label == QC_FAILURE) | (label == REWORK)
    touched = (qc & ((kinds == QC_FAIL) | ((kinds == TO_WAITING_QC) & (slot > 3)))) | (
        (label == PARTS_DELAY) & (kinds == STARTED)
    )
    return np.where(touched, label, NO_ANOMALY)


@TABLES.table(
    key="ticket_transition_id",
    slots=lambda m: m.tickets * TRANSITION_SLOTS,
    description="Each ticket's transitions in time order, ending in its status.",
    columns=(
        Column("ticket_transition_id", INT, "Key of the transition (1..n in ticket and time order)"),
        Column("ticket_id", INT, "Ticket that changed status", references="tickets"),
        Column("sequence", INT, "Position of the transition in the ticket's history, from 1"),
        Column("transition", STRING, "created, assigned, started, to_waiting_qc, qc_fail or qc_pass"),
        Column("from_status", STRING, "Status before the transition (null for created)"),
        Column("to_status", STRING, "Status after the transition"),
        Column(
            "actor_id",
            INT,
            ("User who made the transition: dispatcher, technician or QC inspector"),
            references="users",
        ),
        Column("note", STRING, "What was done or decided, naming the ticket's part"),
        Column(
            "anomaly",
            STRING,
            (
                "The ticket's label on the rows it touched: qc_fail transitions and the resubmissions after them "
                "(qc_failure, rework), the held start (parts_delay); null elsewhere"
            ),
        ),
        Column("created_at", TIMESTAMP, "When the transition happened (UTC)"),
    ),
)
def ticket_transitions(m: MaintenanceModel, lo: int, hi: int) -> Columns:
    """Slot s of ticket t is its (s+1)-th transition; slots past the ticket's history are empty."""
    keys = m.transition_keys
    first, last = lo // TRANSITION_SLOTS, -(-hi // TRANSITION_SLOTS)
    t = ids(first, last)
    life = m.lifecycle(t)
    actor = m.transition_actor(t, life.kinds)
    slot = np.arange(TRANSITION_SLOTS)[None, :]
    slot_g = t[:, None] * TRANSITION_SLOTS + slot
    keep = ((life.kinds >= 0) & (slot_g >= lo) & (slot_g < hi)).ravel()
    kinds = life.kinds.ravel()[keep]
    row_ticket = np.repeat(np.arange(len(t)), TRANSITION_SLOTS)[keep]
    labels = transition_labels(life.kinds, m.ticket_anomaly(t)).ravel()[keep]
    v = {k: a[row_ticket] for k, a in ticket_vocab(m, t).items()}
    reason = v["reason"]  # QC rejects a ticket's repair for the reason its description gives
    variant = np.where((kinds == STARTED) & (labels == PARTS_DELAY), HELD_START, kinds)
    variant = np.where((kinds == TO_WAITING_QC) & (slot_g.ravel()[keep] % TRANSITION_SLOTS > 3), RESUBMIT, variant)
    # Index arithmetic into the pool of every note a transition can have (no string work per row).
    n_parts = len(PART_NOUNS)
    local = np.select(
        [variant == CREATED, variant == TO_WAITING_QC, variant == QC_FAIL, variant == QC_PASS],
        [v["symptom"], v["repair"] * n_parts + v["part"], reason * n_parts + v["part"], v["noun"]],
        v["part"],
    )
    note = NOTE_POOL.take(pa.array(NOTE_OFFSETS[variant] + local))
    return {
        "ticket_transition_id": keys.offset(lo) + 1 + np.arange(int(keep.sum()), dtype=np.int64),
        "ticket_id": t[row_ticket] + 1,
        "sequence": (slot_g.ravel()[keep] % TRANSITION_SLOTS) + 1,
        "transition": col.take(pa.array(TRANSITIONS, STRING), kinds),
        "from_status": col.take(_FROM, kinds),
        "to_status": col.take(_TO, kinds),
        "actor_id": actor.ravel()[keep] + 1,
        "note": note,
        "anomaly": _label_of(labels),
        "created_at": col.timestamps(life.times.ravel()[keep]),
    }


XP_SOURCES = ("ticket_base", "first_pass_bonus", "qc_status_update")


@TABLES.table(
    key="xp_transaction_id",
    slots=lambda m: m.tickets * XP_SLOTS,
    description="XP: ticket base XP, first-pass bonus and QC status-update events.",
    columns=(
        Column("xp_transaction_id", INT, "Key of the XP award (1..n)"),
        Column("user_id", INT, "User who earned the XP", references="users"),
        Column("ticket_id", INT, "Ticket the XP was earned on", references="tickets"),
        Column(
            "ticket_transition_id",
            INT,
            ("Transition that earned the XP (qc_pass for base XP and bonus, the QC decision for status updates)"),
            references="ticket_transitions",
        ),
        Column("source", STRING, "ticket_base, first_pass_bonus (passed QC with no qc_fail) or qc_status_update"),
        Column("amount", INT, "XP awarded"),
        Column("anomaly", STRING, "The ticket's label on QC status updates of qc_fail decisions; null elsewhere"),
        Column("created_at", TIMESTAMP, "When the XP was awarded: the time of its transition (UTC)"),
    ),
)
def xp_transactions(m: MaintenanceModel, lo: int, hi: int) -> Columns:
    """Per ticket: slot 0 base XP and slot 1 first-pass bonus (technician, when QC passed), then one
    slot per QC decision (inspector), each tied to the transition that earned it."""
    first, last = lo // XP_SLOTS, -(-hi // XP_SLOTS)
    t = ids(first, last)
    life = m.lifecycle(t)
    slot = np.arange(XP_SLOTS)[None, :]
    present = m.xp_present(t[:, None], slot)
    # Transition slot of QC decision j is 4 + 2j; the pass is decision qc_fails.
    decision = np.where(slot >= 2, slot - 2, life.qc_fails[:, None])
    transition_slot = np.minimum(4 + 2 * decision, TRANSITION_SLOTS - 1)
    priority = m.ticket_priority(t)[:, None]
    amount = np.select(
        [slot == 0, slot == 1],
        [np.asarray(BASE_XP)[priority], np.asarray(FIRST_PASS_BONUS_XP)[priority]],
        QC_EVENT_XP,
    )
    user = np.where(slot < 2, m.ticket_assignee(t)[:, None], m.ticket_inspector(t)[:, None])
    at = np.take_along_axis(life.times, transition_slot, axis=1)
    # A QC decision event carries the label its qc_fail transition carries.
    labels = np.take_along_axis(transition_labels(life.kinds, m.ticket_anomaly(t)), transition_slot, axis=1)
    labels = np.where(slot >= 2, labels, NO_ANOMALY)
    slot_g = t[:, None] * XP_SLOTS + slot
    keep = (present & (slot_g >= lo) & (slot_g < hi)).ravel()
    transition_g = t[:, None] * TRANSITION_SLOTS + transition_slot

    def flat(a: np.ndarray) -> np.ndarray:
        return np.broadcast_to(a, slot_g.shape).ravel()[keep]

    return {
        "xp_transaction_id": m.xp_keys.offset(lo) + 1 + np.arange(int(keep.sum()), dtype=np.int64),
        "user_id": flat(user) + 1,
        "ticket_id": flat(t[:, None]) + 1,
        "ticket_transition_id": m.transition_keys.keys(flat(transition_g)),
        "source": pick(XP_SOURCES, np.minimum(flat(slot), 2)),
        "amount": flat(amount),
        "anomaly": _label_of(flat(labels)),
        "created_at": col.timestamps(flat(at)),
    }


@TABLES.table(
    key="ticket_part_spec_id",
    slots=lambda m: m.tickets * SPEC_SLOTS,
    description="Parts a ticket needs, sampled from its own item's parts.",
    columns=(
        Column("ticket_part_spec_id", INT, "Key of the part specification (1..n)"),
        Column("ticket_id", INT, "Ticket needing the part", references="tickets"),
        Column("part_id", INT, "Part of the ticket's own item", references="parts"),
        Column("quantity", INT, "Units needed"),
        Column("anomaly", STRING, "parts_delay on the part a parts_delay ticket waited for; null elsewhere"),
        Column("created_at", TIMESTAMP, "When the part was specified: when the ticket was opened (UTC)"),
    ),
)
def ticket_part_specs(m: MaintenanceModel, lo: int, hi: int) -> Columns:
    """Up to 3 distinct parts of the ticket's own item, specified when the ticket is opened; the
    first is the ticket's suspected part (the one a parts_delay ticket waited for)."""
    s = ids(lo, hi)
    t, j = s // SPEC_SLOTS, s % SPEC_SLOTS
    keep = j < m.spec_count(t)
    s, t, j = s[keep], t[keep], j[keep]
    first = m.ticket_part(t)
    item = first // m.parts_per_item
    part = item * m.parts_per_item + (first % m.parts_per_item + j) % m.parts_per_item
    label = m.ticket_anomaly(t)
    return {
        "ticket_part_spec_id": m.spec_keys.offset(lo) + 1 + np.arange(len(s), dtype=np.int64),
        "ticket_id": t + 1,
        "part_id": part + 1,
        "quantity": 1 + m.stream("ticket_part_specs", "quantity").integers(s, 0, 4),
        "anomaly": _label_of(np.where((label == PARTS_DELAY) & (j == 0), label, NO_ANOMALY)),
        "created_at": col.timestamps(m.ticket_created(t)),
    }
