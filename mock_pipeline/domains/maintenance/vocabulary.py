"""Maintenance vocabulary: what goes wrong with each category's equipment, what a technician does to
a part, why QC sends a repair back. Ticket titles, descriptions and transition notes are composed
from these by index arithmetic (no lorem, no random words).

Every tuple of SYMPTOMS has SYMPTOMS_PER_CATEGORY entries, in CATEGORY_BANK order (text.py).
"""

from __future__ import annotations

SYMPTOMS: tuple[tuple[str, ...], ...] = (
    ("not cooling to setpoint", "blowing warm air", "icing up on the coil", "short-cycling", "rattling at start-up"),
    ("tripping under load", "showing a ground fault", "running hot at the terminals", "failing the transfer test",
     "humming loudly"),
    ("losing pressure", "leaking at the seals", "not reaching temperature", "cavitating", "failing to prime"),
    ("stopping between floors", "doors not closing fully", "levelling unevenly", "jerking on departure",
     "ignoring landing calls"),
    ("reporting a supervisory fault", "failing the weekly test", "showing low water pressure",
     "raising false alarms", "not resetting after test"),
    ("jamming intermittently", "running out of tolerance", "overheating at the spindle", "losing hydraulic pressure",
     "stopping on a sensor fault"),
    ("failing its safety inspection", "pulling to one side under braking", "not starting", "leaking oil",
     "warning of low battery"),
    ("dropping its network link", "reporting a disk failure", "running hot", "rebooting unexpectedly",
     "failing over to its standby"),
    ("not holding temperature", "tripping the breaker", "leaking water", "failing its wash cycle",
     "showing an ignition fault"),
    ("not closing fully", "opening on its own", "letting in rain", "stuck half-open", "grinding when moving"),
    ("failing its self-test", "alarming without cause", "showing a pressure error", "not holding calibration",
     "losing battery charge"),
    ("vibrating at speed", "not reaching temperature", "failing calibration", "showing a door-lock error",
     "drifting off its setpoint"),
)  # fmt: skip
SYMPTOMS_PER_CATEGORY = len(SYMPTOMS[0])

# What a technician does to the ticket's part.
REPAIRS = ("replaced", "adjusted", "cleaned and refitted", "recalibrated", "tightened and tested")
# Why QC sends a repair back (notes of qc_fail transitions and labelled descriptions).
QC_REASONS = (
    "not seated correctly",
    "out of tolerance on the test run",
    "still showing the original fault",
    "fitted without the torque check",
    "failing the functional test",
)
# Opening lines of a description, by who reported it.
REPORTED_BY = ("Reported by the site team", "Found on the weekly round", "Raised from a sensor alert",
               "Called in by the shift lead")  # fmt: skip
# The state of the work, by ticket status (new, assigned, in_progress, waiting_qc, done).
STATUS_LINES = (
    "Waiting for a technician to be assigned.",
    "Assigned; work has not started yet.",
    "Repair under way.",
    "Repair finished, waiting for QC inspection.",
    "Closed: QC passed and the equipment is back in service.",
)
# What each anomaly label adds to the description (qc_failure, rework, parts_delay); the checks
# look for these phrases, so keep them distinct.
LABEL_LINES = (
    "QC rejected the first repair once",
    "QC rejected the repair twice and it was reworked",
    "Work was held until the part arrived from stores",
)
