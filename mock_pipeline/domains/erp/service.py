"""Coffee machine service visits: services, spare parts, costs, the technician's note and follow-ups."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

import mock_pipeline.domains.erp.ledger  # noqa: F401  (declares the tables referenced below)
from mock_pipeline.domains.erp import data
from mock_pipeline.domains.erp.common import TABLES, dense, null_if, presence
from mock_pipeline.domains.erp.model import ErpModel
from mock_pipeline.domains.erp.world import HOUR, MAX_PARTS, MAX_SERVICES, ROLE_SUPPORT, VISIT_SLOTS
from mock_pipeline.engine import columns as col
from mock_pipeline.engine.columns import INT, JSON, MONEY, STRING, TIMESTAMP, ids, pick
from mock_pipeline.engine.declare import Column, Columns
from mock_pipeline.engine.distributions import categorical
from mock_pipeline.engine.timeline import DAY

LABOR_PER_HOUR_CENTS = 350_00
# Technicians' notes: an opening per visit type (data.VISIT_TYPES, then follow_up), the finding that the first
# part fitted answers, the services done and whether a follow-up was booked.
_VISIT_OPENINGS = pa.array(
    ["Scheduled preventive service.", "Called out for a fault:", "Installed and commissioned the machine.",
     "Emergency call-out, machine down:", "Routine inspection.", "Follow-up of the earlier visit:"], STRING
)  # fmt: skip
_FINDINGS = pa.array(data.PART_FINDINGS, STRING)
_NO_PART_FINDING = pa.array(
    ["machine in good order", "fault traced to settings, no parts needed", "commissioned without parts",
     "fault cleared on site without parts", "no defects found", "repair holding, no further parts needed"], STRING
)  # fmt: skip
_SERVICE_TEXT = pa.array([x.lower() for x in data.SERVICES], STRING)
_SERVICE_NAMES = pa.array(data.SERVICES, STRING)
_INSTALL = data.SERVICES.index("Machine installation")
_ROUTINE = np.array([i for i, x in enumerate(data.SERVICES) if i != _INSTALL])
_ROUTINE_STEPS = np.array([1, 2, 3, 5])
_PART_NAMES = pa.array([p[0] for p in data.SPARE_PARTS], STRING)
_PART_COSTS = np.array([p[1] for p in data.SPARE_PARTS], dtype=np.int64)
# Steps coprime with 12 give distinct entries within one visit.
_STEPS = np.array([1, 5, 7, 11])


def visit_rows(m: ErpModel, s: np.ndarray) -> dict[str, np.ndarray]:
    """Pure attributes of visit slots s (present or not)."""
    b, k = s // VISIT_SLOTS, s % VISIT_SLOTS
    v = m.visits(b)
    follow = k == 1
    at = np.where(follow, v["follow_at"], v["at"])
    company = v["company"]
    lead = m.stream("maintenance_visits", "lead").integers(b, HOUR, 7 * DAY)
    created = np.where(follow, v["at"], np.maximum(m.company["created"][company], v["at"] - lead))
    technician = m.pick_user((ROLE_SUPPORT,), m.stream("maintenance_visits", "technician"), s)
    return {"b": b, "present": ~follow | v["follows"], "at": at, "company": company, "follow": follow,
            "created": created, "technician": technician}  # fmt: skip


def _json_list(entries: list[pa.Array]) -> pa.Array:
    """A JSON array per row from element columns where element j is null only if j+1.. are too."""
    body = pc.fill_null(entries[0], "")
    for entry in entries[1:]:
        body = pc.if_else(pc.is_null(entry), body, col.join(body, ",", entry))
    return col.join("[", body, "]")


@presence("maintenance_visits")
def visits_present(m: ErpModel, lo: int, hi: int) -> np.ndarray:
    s = ids(lo, hi)
    return (s % VISIT_SLOTS == 0) | m.visits(s // VISIT_SLOTS)["follows"]


@TABLES.table(
    key="maintenance_visit_id",
    slots=lambda m: m.base_visits * VISIT_SLOTS,
    description="Coffee machine service visits with spare parts, services, notes and follow-ups.",
    columns=(
        Column("maintenance_visit_id", INT, "Visit key, 1..n."),
        Column("company_id", INT, "The customer visited.", references="companies"),
        Column("technician_id", INT, "The support user who did the visit.", references="users"),
        Column("visit_type", STRING, "preventive, repair, installation, emergency, inspection or follow_up."),
        Column("status", STRING, "completed."),
        Column("visited_at", TIMESTAMP, "When the technician came (UTC)."),
        Column("duration_minutes", INT, "Time on site."),
        Column("services", JSON, "JSON array of the services done."),
        Column("spare_parts", JSON, "JSON array of {part, quantity, unit_cost} fitted."),
        Column("parts_cost", MONEY, "Sum of the spare parts, EGP."),
        Column("labor_cost", MONEY, "Time on site at the labour rate, EGP."),
        Column("total_cost", MONEY, "parts_cost + labor_cost, EGP."),
        Column(
            "follow_up_of_visit_id",
            INT,
            "The earlier visit of the same company this follows up; null otherwise.",
            references="maintenance_visits",
        ),
        Column("notes", STRING, "The technician's note, written from the visit type, services and parts."),
        Column("created_at", TIMESTAMP, "When the visit was booked (UTC)."),
    ),
)
def maintenance_visits(m: ErpModel, lo: int, hi: int) -> Columns:
    s = ids(lo, hi)
    v = visit_rows(m, s)
    keep = v["present"]
    s = s[keep]
    v = {k: a[keep] for k, a in v.items()}
    n = len(s)
    st = lambda c: m.stream("maintenance_visits", c)  # noqa: E731
    kind = np.where(v["follow"], len(data.VISIT_TYPES), categorical(st("type"), s, data.VISIT_TYPE_WEIGHTS))
    duration = 15 * st("duration").integers(s, 2, 17)
    # Services: 1..3 distinct names; spare parts: 0..3 distinct parts, 1-2 of each.
    services_n = st("services").integers(s, 1, MAX_SERVICES + 1)
    # An installation starts with installing the machine; other visits only do routine services (distinct
    # ones: steps coprime with the 11 routine services).
    installation = kind == data.VISIT_TYPES.index("installation")
    base = st("service").integers(s, 0, len(_ROUTINE))
    step = _ROUTINE_STEPS[st("service_step").integers(s, 0, len(_ROUTINE_STEPS))]
    service_idx = [
        np.where(
            installation & (j == 0),
            _INSTALL,
            _ROUTINE[(base + np.where(installation, j - 1, j) * step) % len(_ROUTINE)],
        )
        for j in range(MAX_SERVICES)
    ]
    services = [
        null_if(services_n <= j, col.join('"', col.take(_SERVICE_NAMES, service_idx[j]), '"'))
        for j in range(MAX_SERVICES)
    ]
    parts_n = categorical(st("parts"), s, (30, 40, 20, 10))
    first_part, part_step = st("part").integers(s, 0, len(_PART_COSTS)), _STEPS[st("part_step").integers(s, 0, 4)]
    parts_cost = np.zeros(n, dtype=np.int64)
    parts = []
    for j in range(MAX_PARTS):
        part = (first_part + j * part_step) % len(_PART_COSTS)
        qty = st(f"part_qty_{j}").integers(s, 1, 3)
        used = parts_n > j
        parts_cost += np.where(used, qty * _PART_COSTS[part] * 100, 0)
        entry = col.join('{"part":"', col.take(_PART_NAMES, part), '","quantity":', col.text(qty), ',"unit_cost":',
                         col.text(_PART_COSTS[part]), "}")  # fmt: skip
        parts.append(null_if(~used, entry))
    labor = duration * LABOR_PER_HOUR_CENTS // 60
    service_text = [null_if(services_n <= j, col.take(_SERVICE_TEXT, service_idx[j])) for j in range(MAX_SERVICES)]
    done = service_text[0]
    for entry in service_text[1:]:
        done = pc.if_else(pc.is_null(entry), done, col.join(done, ", ", entry))
    finding = pc.if_else(
        pa.array(parts_n > 0), col.take(_FINDINGS, first_part % len(_PART_COSTS)), col.take(_NO_PART_FINDING, kind)
    )
    # The base visit's follow-up, booked at the visit (a follow-up itself books none).
    booked = ~v["follow"] & m.visits(v["b"])["follows"]
    notes = col.join(
        col.take(_VISIT_OPENINGS, kind), " ", pc.utf8_capitalize(finding), ". Done: ", done, ".",
        pc.if_else(pa.array(booked), " Follow-up visit booked.", ""),
    )  # fmt: skip
    return {
        "maintenance_visit_id": dense(m, "maintenance_visits").keys(s),
        "company_id": v["company"] + 1,
        "technician_id": v["technician"] + 1,
        "visit_type": pick((*data.VISIT_TYPES, "follow_up"), kind),
        "status": pa.array(["completed"] * n, STRING),
        "visited_at": col.timestamps(v["at"]),
        "duration_minutes": duration,
        "services": _json_list(services),
        "spare_parts": _json_list(parts),
        "parts_cost": col.money(parts_cost),
        "labor_cost": col.money(labor),
        "total_cost": col.money(parts_cost + labor),
        "follow_up_of_visit_id": col.ints(
            dense(m, "maintenance_visits").keys(v["b"] * VISIT_SLOTS), nulls=~v["follow"]
        ),
        "notes": notes,
        "created_at": col.timestamps(v["created"]),
    }
