"""How maintenance names and text are composed from the vocabulary: item and part names by category,
ticket titles and descriptions, transition notes. Everything is a pool built once at import and
picked from by index arithmetic, so a builder never formats a string per row."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mock_pipeline.domains.maintenance.model import ANOMALIES, PARTS_DELAY, MaintenanceModel
from mock_pipeline.domains.maintenance.vocabulary import (
    LABEL_LINES,
    QC_REASONS,
    REPAIRS,
    REPORTED_BY,
    STATUS_LINES,
    SYMPTOMS,
    SYMPTOMS_PER_CATEGORY,
)
from mock_pipeline.engine import columns as col
from mock_pipeline.engine.columns import STRING, pick

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
SYMPTOM_WORDS = pa.array([symptom for c in SYMPTOMS for symptom in c], STRING)
REPORTED_BY_WORDS = pa.array(REPORTED_BY, STRING)
ANOMALY_LABELS = pa.array(ANOMALIES, STRING)
assert len(SYMPTOMS) == len(CATEGORY_BANK), "one symptom list per equipment category"
LOCATIONS = pa.array(["Building A", "Building B", "Warehouse", "Plant 1", "Plant 2", "Basement", "Roof", "Annex"])


def category_bank_index(c: np.ndarray) -> np.ndarray:
    return np.asarray(c, dtype=np.int64) % len(CATEGORY_BANK)


def category_label(c: np.ndarray) -> pa.Array:
    """ "HVAC", "Electrical", ... and "HVAC 2" once every label is taken."""
    c = np.asarray(c, dtype=np.int64)
    base = pick([b[0] for b in CATEGORY_BANK], category_bank_index(c))
    round_ = c // len(CATEGORY_BANK)
    suffix = pc.if_else(pa.array(round_ > 0), col.join(" ", col.text(round_ + 1)), "")
    return col.join(base, suffix)


def item_noun_index(m: MaintenanceModel, i: np.ndarray, category: np.ndarray) -> np.ndarray:
    return category_bank_index(category) * NOUNS_PER_CATEGORY + m.stream("items", "noun").integers(
        i, 0, NOUNS_PER_CATEGORY
    )


def item_name(m: MaintenanceModel, i: np.ndarray, category: np.ndarray) -> pa.Array:
    model = m.stream("items", "model").integers(i, 100, 1000)
    return col.join(col.take(ITEM_NOUNS, item_noun_index(m, i, category)), " M", col.text(model))


def part_noun_index(m: MaintenanceModel, p: np.ndarray) -> np.ndarray:
    """Part slot p is part kind (offset + p % parts_per_item) of its item's category: distinct kinds
    per item while the category's list lasts."""
    p = np.asarray(p, dtype=np.int64)
    item, k = p // m.parts_per_item, p % m.parts_per_item
    bank = category_bank_index(m.item_category(item))
    offset = m.stream("parts", "kind").integers(item, 0, PARTS_PER_CATEGORY)
    return bank * PARTS_PER_CATEGORY + (offset + k) % PARTS_PER_CATEGORY


def ticket_vocab(m: MaintenanceModel, t: np.ndarray) -> dict[str, np.ndarray]:
    """Per ticket, indices into the vocabulary of its item's category: item kind, symptom, part kind,
    repair and QC reason (every ticket text is composed of these)."""
    item = m.plan[2][t]
    category = m.item_category(item)
    bank = category_bank_index(category)
    return {
        "item": item,
        "category": category,
        "noun": item_noun_index(m, item, category),
        "symptom": bank * SYMPTOMS_PER_CATEGORY + m.stream("tickets", "symptom").integers(t, 0, SYMPTOMS_PER_CATEGORY),
        "part": part_noun_index(m, m.ticket_part(t)),
        "repair": m.stream("tickets", "repair").integers(t, 0, len(REPAIRS)),
        "reason": m.stream("tickets", "qc_reason").integers(t, 0, len(QC_REASONS)),
    }


def ticket_text(m: MaintenanceModel, t: np.ndarray, v: dict[str, np.ndarray]) -> dict[str, pa.Array]:
    """Per ticket: the strings of its vocabulary indices `v` (and the item's full name and location)."""
    return {
        "item": item_name(m, v["item"], v["category"]),
        "location": col.take(LOCATIONS, m.item_location(v["item"])),
        "symptom": col.take(SYMPTOM_WORDS, v["symptom"]),
        "part": col.take(PART_NOUNS, v["part"]),
    }


def _description_pools() -> tuple[pa.Array, pa.Array]:
    """The state of a ticket's work (the open statuses; done: the repair of the part) and what its
    anomaly did (nothing; QC rejected the part for a reason once or twice; the part was awaited)."""
    parts = PART_NOUNS.to_pylist()
    state = [*STATUS_LINES[:-1], *(f"{STATUS_LINES[-1]} The {p} was {r}." for r in REPAIRS for p in parts)]
    qc = [f" {line}: the {p} was {reason}." for line in LABEL_LINES[:2] for reason in QC_REASONS for p in parts]
    happened = ["", *qc, *(f" {LABEL_LINES[PARTS_DELAY]} ({p})." for p in parts)]
    return pa.array(state, STRING), pa.array(happened, STRING)


STATE_POOL, HAPPENED_POOL = _description_pools()


def _note_pool() -> tuple[pa.Array, np.ndarray]:
    """Every transition note, by variant (created, assigned, started, to_waiting_qc, qc_fail, qc_pass,
    held start, resubmission) and the vocabulary it names; and each variant's offset in the pool."""
    parts = PART_NOUNS.to_pylist()
    variants: list[list[str]] = [
        [f"Opened: {symptom}" for symptom in SYMPTOM_WORDS.to_pylist()],
        [f"Assigned for repair of the {part}" for part in parts],
        [f"Work started on the {part}" for part in parts],
        [f"{repair.capitalize()} the {part}; submitted for QC" for repair in REPAIRS for part in parts],
        [f"QC failed: the {part} was {reason}" for reason in QC_REASONS for part in parts],
        [f"QC passed: {noun} back in service" for noun in ITEM_NOUNS.to_pylist()],
        [f"Work started once the {part} arrived from stores" for part in parts],
        [f"Reworked the {part}; resubmitted for QC" for part in parts],
    ]
    offsets = np.cumsum([0] + [len(v) for v in variants[:-1]]).astype(np.int64)
    return pa.array([note for v in variants for note in v], STRING), offsets


NOTE_POOL, NOTE_OFFSETS = _note_pool()
