"""The maintenance tables (seed 000): schema and a pure, columnar builder for each."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mock_pipeline.domains.maintenance.model import (
    ASSIGNED_T,
    BASE_XP,
    DOMAIN,
    DONE,
    FIRST_PASS_BONUS_XP,
    NEW,
    PRIORITIES,
    QC_EVENT_XP,
    QC_PASS,
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
from mock_pipeline.engine import columns as col
from mock_pipeline.engine.columns import MONEY, TIMESTAMP
from mock_pipeline.engine.distributions import lognormal
from mock_pipeline.engine.table import TableSpec

STRING = pa.string()
INT = pa.int64()

# Equipment categories: label, the kinds of items in it and the spare parts they take.
CATEGORY_BANK: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("HVAC", ("Air Handler", "Chiller", "Rooftop Unit", "Cooling Tower"),
     ("Fan Belt", "Air Filter", "Compressor Relay", "Thermostat", "Condenser Fan Motor", "Refrigerant Valve")),
    ("Electrical", ("Switchboard", "Transformer", "UPS", "Generator"),
     ("Circuit Breaker", "Fuse Set", "Contactor", "Surge Arrester", "Battery Module", "Terminal Block")),
    ("Plumbing", ("Booster Pump", "Water Heater", "Backflow Preventer", "Sump Pump"),
     ("Pressure Valve", "Impeller", "Gasket Kit", "Float Switch", "Check Valve", "Pipe Coupling")),
    ("Elevators", ("Passenger Lift", "Freight Lift", "Escalator", "Dumbwaiter"),
     ("Door Operator", "Hoist Rope", "Guide Shoe", "Brake Pad Set", "Control Board", "Landing Button")),
    ("Fire Safety", ("Sprinkler Riser", "Fire Pump", "Alarm Panel", "Smoke Damper"),
     ("Sprinkler Head", "Smoke Detector", "Pull Station", "Tamper Switch", "Siren Module", "Damper Actuator")),
    ("Production Line", ("Conveyor", "CNC Mill", "Hydraulic Press", "Packaging Machine"),
     ("Drive Chain", "Bearing Kit", "Proximity Sensor", "Hydraulic Seal", "Servo Motor", "Cutting Insert")),
    ("Vehicles", ("Forklift", "Delivery Van", "Pallet Truck", "Utility Cart"),
     ("Brake Pads", "Oil Filter", "Tyre", "Spark Plug Set", "Alternator", "Wiper Blade")),
    ("IT Infrastructure", ("Server Rack", "Network Switch", "Storage Array", "Access Point"),
     ("Power Supply", "Cooling Fan", "SFP Module", "Hard Drive", "Patch Cable Set", "Rail Kit")),
    ("Kitchen", ("Combi Oven", "Dishwasher", "Walk-in Freezer", "Ice Machine"),
     ("Door Seal", "Heating Element", "Water Filter", "Timer Switch", "Evaporator Fan", "Drain Valve")),
    ("Building Envelope", ("Automatic Door", "Roller Shutter", "Skylight", "Loading Dock Leveler"),
     ("Door Sensor", "Spring Set", "Weather Seal", "Hinge Kit", "Motor Gearbox", "Remote Receiver")),
    ("Medical Equipment", ("Infusion Pump", "Patient Monitor", "Autoclave", "Ventilator"),
     ("Pressure Sensor", "Battery Pack", "Display Panel", "Tubing Set", "Flow Valve", "Calibration Kit")),
    ("Laboratory", ("Centrifuge", "Fume Hood", "Incubator", "Spectrometer"),
     ("Rotor", "Sash Cable", "Temperature Probe", "Lamp Module", "Seal Ring", "Fan Filter Unit")),
)  # fmt: skip
ITEM_NOUNS = pa.array([noun for c in CATEGORY_BANK for noun in c[1]], STRING)
PART_NOUNS = pa.array([part for c in CATEGORY_BANK for part in c[2]], STRING)
NOUNS_PER_CATEGORY = len(CATEGORY_BANK[0][1])
PARTS_PER_CATEGORY = len(CATEGORY_BANK[0][2])
PROBLEMS = pa.array(
    ["not starting", "making unusual noise", "overheating", "leaking", "showing error code", "vibrating heavily",
     "tripping the breaker", "running below capacity", "failing its self-test", "due for preventive service",
     "intermittently stopping", "reporting a sensor fault"]
)  # fmt: skip
LOCATIONS = pa.array(["Building A", "Building B", "Warehouse", "Plant 1", "Plant 2", "Basement", "Roof", "Annex"])


def _ids(lo: int, hi: int) -> np.ndarray:
    return np.arange(lo, hi, dtype=np.int64)


def _pick(values: tuple[str, ...] | list[str], idx: np.ndarray) -> pa.Array:
    return col.take(pa.array(values, STRING), idx)


def category_bank_index(c: np.ndarray) -> np.ndarray:
    return np.asarray(c, dtype=np.int64) % len(CATEGORY_BANK)


def category_label(c: np.ndarray) -> pa.Array:
    """ "HVAC", "Electrical", ... and "HVAC 2" once every label is taken."""
    c = np.asarray(c, dtype=np.int64)
    base = _pick([b[0] for b in CATEGORY_BANK], category_bank_index(c))
    round_ = c // len(CATEGORY_BANK)
    suffix = pc.if_else(pa.array(round_ > 0), col.join(" ", col.text(round_ + 1)), "")
    return col.join(base, suffix)


# --- users -------------------------------------------------------------------------------------
USERS = col.schema(
    ("user_id", INT), ("username", STRING), ("full_name", STRING), ("email", STRING), ("role", STRING),
    ("is_active", pa.bool_()), ("created_at", TIMESTAMP),
)  # fmt: skip


def users(m: MaintenanceModel, lo: int, hi: int) -> pa.Table:
    """Deterministic mock staff (reused by every run, so not run-tagged), at most 10."""
    u = _ids(lo, hi)
    role = pa.array(m.role_of_user[u], STRING)
    number = col.digits(u + 1, 2)
    first = col.take(m.pools.first_names, m.stream("users", "first").integers(u, 0, len(m.pools.first_names)))
    last = col.take(m.pools.last_names, m.stream("users", "last").integers(u, 0, len(m.pools.last_names)))
    username = col.join("mock_", role, "_", number)
    return col.table(
        {
            "user_id": u + 1,
            "username": username,
            "full_name": col.join(first, " ", last),
            "email": col.join(pc.replace_substring(username, "_", "."), "@maintenance.example"),
            "role": role,
            "is_active": np.ones(len(u), dtype=bool),
            "created_at": col.timestamps(m.start + u),
        },
        USERS,
    )


# --- inventory, categories, items, parts -------------------------------------------------------
INVENTORIES = col.schema(
    ("inventory_id", INT), ("name", STRING), ("run_tag", STRING), ("location", STRING), ("created_by_id", INT),
    ("created_at", TIMESTAMP),
)  # fmt: skip


def inventories(m: MaintenanceModel, lo: int, hi: int) -> pa.Table:
    """One inventory per run, named after the run tag."""
    i = _ids(lo, hi)
    return col.table(
        {
            "inventory_id": i + 1,
            "name": pa.array([f"Mock inventory {m.run_tag}"] * len(i), STRING),
            "run_tag": pa.array([m.run_tag] * len(i), STRING),
            "location": col.take(LOCATIONS, m.stream("inventories", "location").integers(i, 0, len(LOCATIONS))),
            "created_by_id": np.ones(len(i), dtype=np.int64),  # the super admin
            "created_at": col.timestamps(m.start + 60 + i),
        },
        INVENTORIES,
    )


CATEGORIES = col.schema(
    ("category_id", INT), ("inventory_id", INT), ("name", STRING), ("description", STRING), ("created_at", TIMESTAMP),
)  # fmt: skip


def categories(m: MaintenanceModel, lo: int, hi: int) -> pa.Table:
    c = _ids(lo, hi)
    label = category_label(c)
    return col.table(
        {
            "category_id": c + 1,
            "inventory_id": np.ones(len(c), dtype=np.int64),
            "name": col.join(m.namespace.category_prefix, label),
            "description": col.join(label, " equipment and spare parts"),
            "created_at": col.timestamps(m.start + 300 + c % 300),
        },
        CATEGORIES,
    )


ITEMS = col.schema(
    ("item_id", INT), ("inventory_id", INT), ("category_id", INT), ("name", STRING), ("serial_number", STRING),
    ("location", STRING), ("created_at", TIMESTAMP),
)  # fmt: skip


def item_name(m: MaintenanceModel, i: np.ndarray, category: np.ndarray) -> pa.Array:
    noun = category_bank_index(category) * NOUNS_PER_CATEGORY + m.stream("items", "noun").integers(
        i, 0, NOUNS_PER_CATEGORY
    )
    model = m.stream("items", "model").integers(i, 100, 1000)
    return col.join(col.take(ITEM_NOUNS, noun), " M", col.text(model))


def items(m: MaintenanceModel, lo: int, hi: int) -> pa.Table:
    i = _ids(lo, hi)
    category = m.item_category(i)
    # Serial numbers: the run's prefix and 8 digits from a keyed permutation (unique per run).
    serial = permuted(m.stream("items", "serial"), i, 10**8)
    return col.table(
        {
            "item_id": i + 1,
            "inventory_id": np.ones(len(i), dtype=np.int64),
            "category_id": category + 1,
            "name": item_name(m, i, category),
            "serial_number": col.join(m.namespace.serial_prefix, col.digits(serial, 8)),
            "location": col.take(LOCATIONS, m.stream("items", "location").integers(i, 0, len(LOCATIONS))),
            "created_at": col.timestamps(m.item_created(i)),
        },
        ITEMS,
    )


PARTS = col.schema(
    ("part_id", INT), ("item_id", INT), ("name", STRING), ("part_number", STRING), ("quantity_in_stock", INT),
    ("unit_cost", MONEY), ("created_at", TIMESTAMP),
)  # fmt: skip


def parts(m: MaintenanceModel, lo: int, hi: int) -> pa.Table:
    """parts_per_item parts per item: slot p is part p % parts_per_item of item p // parts_per_item."""
    p = _ids(lo, hi)
    item, k = p // m.parts_per_item, p % m.parts_per_item
    bank = category_bank_index(m.item_category(item))
    # Distinct part kinds per item while the category's list lasts.
    offset = m.stream("parts", "kind").integers(item, 0, PARTS_PER_CATEGORY)
    noun = bank * PARTS_PER_CATEGORY + (offset + k) % PARTS_PER_CATEGORY
    cents = np.maximum(100, np.round(4500 * lognormal(m.stream("parts", "cost"), p, 0.0, 0.8))).astype(np.int64)
    return col.table(
        {
            "part_id": p + 1,
            "item_id": item + 1,
            "name": col.take(PART_NOUNS, noun),
            "part_number": col.join("PN-", col.digits(p + 1, 9)),
            "quantity_in_stock": m.stream("parts", "stock").integers(p, 0, 40),
            "unit_cost": col.money(cents),
            "created_at": col.timestamps(m.item_created(item) + 1 + k % 60),
        },
        PARTS,
    )


# --- tickets -----------------------------------------------------------------------------------
TICKETS = col.schema(
    ("ticket_id", INT), ("item_id", INT), ("title", STRING), ("description", STRING), ("priority", STRING),
    ("status", STRING), ("sampled_status", STRING), ("fell_back_to_done", pa.bool_()), ("created_by_id", INT),
    ("assigned_to_id", INT), ("qc_inspector_id", INT), ("qc_fail_count", INT), ("created_at", TIMESTAMP),
    ("assigned_at", TIMESTAMP), ("started_at", TIMESTAMP), ("submitted_for_qc_at", TIMESTAMP),
    ("done_at", TIMESTAMP), ("updated_at", TIMESTAMP),
)  # fmt: skip


def _stamp(seconds: np.ndarray) -> pa.Array:
    return col.timestamps(np.maximum(seconds, 0), nulls=seconds < 0)


def tickets(m: MaintenanceModel, lo: int, hi: int) -> pa.Table:
    t = _ids(lo, hi)
    sampled, status, item = (a[t] for a in m.plan)
    life = m.lifecycle(t)
    category = m.item_category(item)
    name = item_name(m, item, category)
    problem = col.take(PROBLEMS, m.stream("tickets", "problem").integers(t, 0, len(PROBLEMS)))
    updated = life.times[np.arange(len(t)), life.events - 1]
    return col.table(
        {
            "ticket_id": t + 1,
            "item_id": item + 1,
            "title": col.join(name, " ", problem),
            "description": col.join(
                "Reported: ",
                name,
                " (",
                col.take(LOCATIONS, m.stream("items", "location").integers(item, 0, len(LOCATIONS))),
                ") is ",
                problem,
                ". ",
                col.take(m.pools.sentences, m.stream("tickets", "note").integers(t, 0, len(m.pools.sentences))),
            ),
            "priority": _pick(PRIORITIES, m.ticket_priority(t)),
            "status": _pick(STATUSES, status),
            "sampled_status": _pick(STATUSES, sampled),
            "fell_back_to_done": sampled != status,
            "created_by_id": m.ticket_creator(t) + 1,
            "assigned_to_id": col.ints(m.ticket_assignee(t) + 1, nulls=status == NEW),
            # The inspector is set from the first QC submission on (also when sent back to work).
            "qc_inspector_id": col.ints(m.ticket_inspector(t) + 1, nulls=(status < WAITING_QC) & (life.qc_fails == 0)),
            "qc_fail_count": life.qc_fails,
            "created_at": col.timestamps(m.ticket_created(t)),
            "assigned_at": _stamp(life.first(ASSIGNED_T)),
            "started_at": _stamp(life.first(STARTED)),
            "submitted_for_qc_at": _stamp(np.where(status >= WAITING_QC, life.last(TO_WAITING_QC), -1)),
            "done_at": _stamp(life.first(QC_PASS)),
            "updated_at": col.timestamps(updated),
        },
        TICKETS,
    )


TICKET_TRANSITIONS = col.schema(
    ("ticket_transition_id", INT), ("ticket_id", INT), ("sequence", INT), ("transition", STRING),
    ("from_status", STRING), ("to_status", STRING), ("actor_id", INT), ("created_at", TIMESTAMP),
)  # fmt: skip
_FROM = pa.array([f for f, _ in TRANSITION_STATUSES], STRING)
_TO = pa.array([to for _, to in TRANSITION_STATUSES], STRING)


def ticket_transitions(m: MaintenanceModel, lo: int, hi: int) -> pa.Table:
    """Slot s of ticket t is its (s+1)-th transition; slots past the ticket's history are empty."""
    first, last = lo // TRANSITION_SLOTS, -(-hi // TRANSITION_SLOTS)
    t = _ids(first, last)
    life = m.lifecycle(t)
    actor = m.transition_actor(t, life.kinds)
    slot_g = t[:, None] * TRANSITION_SLOTS + np.arange(TRANSITION_SLOTS)[None, :]
    keep = ((life.kinds >= 0) & (slot_g >= lo) & (slot_g < hi)).ravel()
    kinds = life.kinds.ravel()[keep]
    ticket = np.repeat(t, TRANSITION_SLOTS)[keep]
    return col.table(
        {
            "ticket_transition_id": slot_g.ravel()[keep] + 1,
            "ticket_id": ticket + 1,
            "sequence": (slot_g.ravel()[keep] % TRANSITION_SLOTS) + 1,
            "transition": col.take(pa.array(TRANSITIONS, STRING), kinds),
            "from_status": col.take(_FROM, kinds),
            "to_status": col.take(_TO, kinds),
            "actor_id": actor.ravel()[keep] + 1,
            "created_at": col.timestamps(life.times.ravel()[keep]),
        },
        TICKET_TRANSITIONS,
    )


XP_TRANSACTIONS = col.schema(
    ("xp_transaction_id", INT), ("user_id", INT), ("ticket_id", INT), ("ticket_transition_id", INT),
    ("source", STRING), ("amount", INT), ("created_at", TIMESTAMP),
)  # fmt: skip
XP_SOURCES = ("ticket_base", "first_pass_bonus", "qc_status_update")


def xp_transactions(m: MaintenanceModel, lo: int, hi: int) -> pa.Table:
    """Per ticket: slot 0 base XP and slot 1 first-pass bonus (technician, when QC passed), then one
    slot per QC decision (inspector), each tied to the transition that earned it."""
    first, last = lo // XP_SLOTS, -(-hi // XP_SLOTS)
    t = _ids(first, last)
    life = m.lifecycle(t)
    done = life.status == DONE
    decisions = life.qc_fails + done  # every qc_fail (also of tickets back in progress) and the pass
    slot = np.arange(XP_SLOTS)[None, :]
    # Transition slot of QC decision j is 4 + 2j; the pass is decision qc_fails.
    decision = np.where(slot >= 2, slot - 2, life.qc_fails[:, None])
    transition_slot = 4 + 2 * decision
    present = np.select(
        [slot == 0, slot == 1], [done[:, None], (done & (life.qc_fails == 0))[:, None]], decision < decisions[:, None]
    )
    priority = m.ticket_priority(t)[:, None]
    amount = np.select(
        [slot == 0, slot == 1],
        [np.asarray(BASE_XP)[priority], np.asarray(FIRST_PASS_BONUS_XP)[priority]],
        QC_EVENT_XP,
    )
    user = np.where(slot < 2, m.ticket_assignee(t)[:, None], m.ticket_inspector(t)[:, None])
    at = np.take_along_axis(life.times, np.minimum(transition_slot, TRANSITION_SLOTS - 1), axis=1)
    slot_g = t[:, None] * XP_SLOTS + slot
    keep = (present & (slot_g >= lo) & (slot_g < hi)).ravel()
    transition_id = t[:, None] * TRANSITION_SLOTS + transition_slot + 1

    def flat(a: np.ndarray) -> np.ndarray:
        return np.broadcast_to(a, slot_g.shape).ravel()[keep]

    return col.table(
        {
            "xp_transaction_id": flat(slot_g) + 1,
            "user_id": flat(user) + 1,
            "ticket_id": flat(t[:, None]) + 1,
            "ticket_transition_id": flat(transition_id),
            "source": _pick(XP_SOURCES, np.minimum(flat(slot), 2)),
            "amount": flat(amount),
            "created_at": col.timestamps(flat(at)),
        },
        XP_TRANSACTIONS,
    )


TICKET_PART_SPECS = col.schema(
    ("ticket_part_spec_id", INT), ("ticket_id", INT), ("part_id", INT), ("quantity", INT), ("created_at", TIMESTAMP),
)  # fmt: skip


def ticket_part_specs(m: MaintenanceModel, lo: int, hi: int) -> pa.Table:
    """Up to 3 distinct parts of the ticket's own item, specified when the ticket is opened."""
    s = _ids(lo, hi)
    t, j = s // SPEC_SLOTS, s % SPEC_SLOTS
    keep = j < m.spec_count(t)
    s, t, j = s[keep], t[keep], j[keep]
    item = m.plan[2][t]
    offset = m.stream("ticket_part_specs", "offset").integers(t, 0, m.parts_per_item)
    part = item * m.parts_per_item + (offset + j) % m.parts_per_item
    return col.table(
        {
            "ticket_part_spec_id": s + 1,
            "ticket_id": t + 1,
            "part_id": part + 1,
            "quantity": 1 + m.stream("ticket_part_specs", "quantity").integers(s, 0, 4),
            "created_at": col.timestamps(m.ticket_created(t)),
        },
        TICKET_PART_SPECS,
    )


# --- specs -------------------------------------------------------------------------------------
FOREIGN_KEYS: dict[str, tuple[tuple[str, str], ...]] = {
    "inventories": (("created_by_id", "users"),),
    "categories": (("inventory_id", "inventories"),),
    "items": (("inventory_id", "inventories"), ("category_id", "categories")),
    "parts": (("item_id", "items"),),
    "tickets": (("item_id", "items"), ("created_by_id", "users"), ("assigned_to_id", "users"),
                ("qc_inspector_id", "users")),
    "ticket_transitions": (("ticket_id", "tickets"), ("actor_id", "users")),
    "xp_transactions": (("user_id", "users"), ("ticket_id", "tickets"),
                        ("ticket_transition_id", "ticket_transitions")),
    "ticket_part_specs": (("ticket_id", "tickets"), ("part_id", "parts")),
}  # fmt: skip


def _spec(name: str, key: str, schema: pa.Schema, slots, build, description: str, **kw) -> TableSpec:
    fks = FOREIGN_KEYS.get(name, ())
    parents = tuple(dict.fromkeys(parent for _, parent in fks))
    return TableSpec(DOMAIN, name, key, schema, description, slots, build, parents, foreign_keys=fks, **kw)


TABLES: tuple[TableSpec, ...] = (
    _spec("users", "user_id", USERS, lambda m: m.users, users,
          "Deterministic mock staff, at most 10, every role present."),
    _spec("inventories", "inventory_id", INVENTORIES, lambda m: 1, inventories,
          "The run-scoped inventory, named after the run tag."),
    _spec("categories", "category_id", CATEGORIES, lambda m: m.categories, categories,
          "Equipment categories; names carry the run tag's namespace."),
    _spec("items", "item_id", ITEMS, lambda m: m.items, items,
          "Equipment items; serial numbers carry the run tag's namespace."),
    _spec("parts", "part_id", PARTS, lambda m: m.items * m.parts_per_item, parts,
          "Spare parts: parts_per_item per item."),
    _spec("tickets", "ticket_id", TICKETS, lambda m: m.tickets, tickets,
          "Maintenance tickets: uniform sampled status, lifecycle timestamps, at most one active per item.",
          text_columns=("title", "description")),
    _spec("ticket_transitions", "ticket_transition_id", TICKET_TRANSITIONS,
          lambda m: m.tickets * TRANSITION_SLOTS, ticket_transitions,
          "Each ticket's transitions in time order, ending in its status."),
    _spec("xp_transactions", "xp_transaction_id", XP_TRANSACTIONS, lambda m: m.tickets * XP_SLOTS,
          xp_transactions, "XP: ticket base XP, first-pass bonus and QC status-update events."),
    _spec("ticket_part_specs", "ticket_part_spec_id", TICKET_PART_SPECS, lambda m: m.tickets * SPEC_SLOTS,
          ticket_part_specs, "Parts a ticket needs, sampled from its own item's parts."),
)  # fmt: skip
