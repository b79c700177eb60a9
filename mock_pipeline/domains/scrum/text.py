"""How scrum text is composed from word banks per business domain: issue titles, keys and descriptions,
and comments that follow an issue's type, progress and anomaly. Every bank is a pool built once at import
and picked from by index arithmetic, so a builder never formats a string per row."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mock_pipeline.domains.scrum.model import ScrumModel
from mock_pipeline.domains.scrum.parameters import (
    ANOMALY_LABELS,
    BUG,
    BUSINESS_DOMAINS,
    DONE,
    EPIC,
    IMPROVEMENT,
    ISSUE_TYPES,
    OVERDUE,
    REOPENED,
    SCOPE_CREEP,
    STORY,
    SUBTASK,
    TASK,
    TEMPLATES,
)
from mock_pipeline.engine import columns as col
from mock_pipeline.engine.columns import STRING, pick

# Word banks per business domain: six features and five components (seed 002's FEATURES and
# COMPONENTS), so that titles and comments fit the project.
FEATURES: dict[str, tuple[str, ...]] = {
    "healthcare": ("patient appointment booking", "lab result notifications", "prescription refills",
                   "electronic health records", "telehealth video visits", "insurance eligibility checks"),
    "finance": ("instant transfers", "card freeze and unfreeze", "loan repayment schedule", "fraud alerts",
                "monthly budget insights", "two-factor login"),
    "e-commerce": ("one-page checkout", "product recommendations", "wishlist sharing", "order tracking",
                   "discount codes", "guest checkout"),
    "education": ("course enrolment", "assignment submission", "gradebook export", "attendance tracking",
                  "discussion forums", "exam scheduling"),
    "logistics": ("route optimisation", "proof of delivery", "shipment tracking", "driver check-in",
                  "pick list generation", "dock appointment booking"),
    "real-estate": ("property search filters", "viewing requests", "rent payment reminders",
                    "maintenance requests", "offer submission", "lease renewals"),
    "travel": ("flight search", "hotel booking", "itinerary sharing", "loyalty points redemption",
               "seat selection", "trip cancellation"),
    "media": ("video playback", "subscription plans", "article publishing", "content recommendations",
              "offline downloads", "editorial review"),
    "manufacturing": ("machine downtime alerts", "production order tracking", "defect reporting",
                      "shift handover notes", "spare part requests", "OEE dashboard"),
    "government": ("permit applications", "document upload", "appointment booking", "payment of fees",
                   "application status tracking", "identity verification"),
    "utilities": ("smart meter readings", "bill explanations", "usage alerts", "tariff comparison",
                  "outage reporting", "direct debit setup"),
}  # fmt: skip
COMPONENTS: dict[str, tuple[str, ...]] = {
    "healthcare": ("scheduling service", "patient record API", "HL7 interface", "clinician dashboard", "mobile app"),
    "finance": ("payments service", "ledger", "card processor adapter", "mobile app", "risk engine"),
    "e-commerce": ("cart service", "catalogue API", "payment gateway", "storefront", "search index"),
    "education": ("course service", "grading module", "student portal", "LMS API", "notification service"),
    "logistics": ("tracking service", "dispatch console", "driver app", "routing engine", "warehouse scanner"),
    "real-estate": ("listing service", "search index", "tenant portal", "payments module", "agent dashboard"),
    "travel": ("booking engine", "fare cache", "itinerary service", "partner API", "mobile app"),
    "media": ("video player", "CMS", "subscription service", "recommendation engine", "CDN config"),
    "manufacturing": ("telemetry collector", "MES API", "operator terminal", "reporting service", "PLC gateway"),
    "government": ("forms engine", "case management", "citizen portal", "document store", "identity service"),
    "utilities": ("meter data service", "billing engine", "customer portal", "usage API", "outage map"),
}  # fmt: skip
STORY_VERBS = ("Implement", "Add", "Support", "Enable", "Build")
TASK_VERBS = ("Set up monitoring for", "Refactor", "Write integration tests for", "Document", "Upgrade dependencies of",
              "Add logging to")  # fmt: skip
SYMPTOMS = ("times out", "shows wrong totals", "crashes on save", "creates duplicate records", "loads slowly",
            "rejects valid input")  # fmt: skip
IMPROVEMENTS = ("Speed up", "Simplify", "Improve error messages of", "Reduce costs of")
# Comment templates by issue type, in the order work progresses (stage 0: before work starts,
# then started, in progress, in review, done); {f} is a feature and {c} a component of the
# project's domain. An issue's comments walk through the stages its status has reached.
COMMENTS: dict[int, tuple[tuple[str, str, str], ...]] = {
    STORY: (("Acceptance criteria for ", "f", " are agreed with the product owner."),
            ("Design for ", "f", " is ready, starting work."),
            ("Split the UI part of ", "f", " into a sub-task."),
            ("Needs a change in the ", "c", " before we can finish."),
            ("Demoed ", "f", " in the sprint review, feedback was positive.")),
    TASK: (("Picked up; the ", "c", " changes are planned for this sprint."),
           ("Started on the ", "c", "; should be done tomorrow."),
           ("Paired on this; the ", "c", " config needed an update."),
           ("PR for the ", "c", " is up for review."),
           ("Done and verified on staging for the ", "c", ".")),
    BUG: (("Reproduced on staging in the ", "c", "."),
          ("Root cause found in the ", "c", ", fix in progress."),
          ("Added a regression test around ", "f", "."),
          ("Fix deployed; please verify ", "f", " again."),
          ("Verified the fix for ", "f", ", closing.")),
    EPIC: (("Goals of ", "f", " confirmed with stakeholders."),
           ("Broke ", "f", " down into stories."),
           ("Moved the ", "c", " work to the next milestone."),
           ("Most stories of ", "f", " are done, two remain."),
           ("All stories of ", "f", " are done; closing the epic.")),
}  # fmt: skip
# How many stages an issue's comments can reach, by status (to do, in progress, in review, done).
COMMENT_STAGES = np.array([1, 3, 4, 5])
COMMENTS[IMPROVEMENT] = COMMENTS[TASK]
COMMENTS[SUBTASK] = COMMENTS[TASK]

_FEATURE_POOL = pa.array([f for d in BUSINESS_DOMAINS for f in FEATURES[d]], STRING)
_COMPONENT_POOL = pa.array([c for d in BUSINESS_DOMAINS for c in COMPONENTS[d]], STRING)


def feature_text(domain: np.ndarray, feature: np.ndarray) -> pa.Array:
    return col.take(_FEATURE_POOL, domain * 6 + feature)


def component_text(domain: np.ndarray, component: np.ndarray) -> pa.Array:
    return col.take(_COMPONENT_POOL, domain * 5 + component)


# Who uses each domain's product (with its article), and what they get from it (seed 002: "comments make sense in
# context"): two of each per business domain, in BUSINESS_DOMAINS order.
PERSONAS: dict[str, tuple[str, str]] = {
    "healthcare": ("a patient", "a clinician"), "finance": ("an account holder", "a risk analyst"),
    "e-commerce": ("a shopper", "a store manager"), "education": ("a student", "a teacher"),
    "logistics": ("a dispatcher", "a driver"), "real-estate": ("a tenant", "a letting agent"),
    "travel": ("a traveller", "a travel agent"), "media": ("a subscriber", "an editor"),
    "manufacturing": ("a line operator", "a plant manager"), "government": ("a citizen", "a case worker"),
    "utilities": ("a household customer", "a billing agent"),
}  # fmt: skip
BENEFITS: dict[str, tuple[str, str]] = {
    "healthcare": ("I spend less time on the phone with the clinic", "care teams see the same information"),
    "finance": ("I stay in control of my money", "suspicious activity is caught early"),
    "e-commerce": ("I can buy without friction", "fewer carts are abandoned"),
    "education": ("I keep track of my coursework", "teachers spend less time on admin"),
    "logistics": ("deliveries arrive on time", "drivers lose less time at the depot"),
    "real-estate": ("renting takes less paperwork", "agents close deals faster"),
    "travel": ("planning a trip takes minutes", "travellers rebook without calling us"),
    "media": ("I find something to watch quickly", "stories are published faster"),
    "manufacturing": ("downtime is spotted early", "shifts hand over without surprises"),
    "government": ("I do not need to visit an office", "cases are resolved faster"),
    "utilities": ("I understand my bill", "outages are reported sooner"),
}  # fmt: skip
ENVIRONMENTS = ("production", "staging", "the mobile app", "the web app")
IMPROVEMENT_AIMS = ("faster page loads", "clearer error messages", "fewer manual steps", "lower hosting costs")
# What an issue's description says about where it stands, by status.
STATUS_NOTES = ("Not started yet; ready to be picked up.", "Work in progress.", "The change is up for code review.",
                "Resolved and verified.")  # fmt: skip
_PERSONA_POOL = pa.array([x for d in BUSINESS_DOMAINS for x in PERSONAS[d]], STRING)
_BENEFIT_POOL = pa.array([x for d in BUSINESS_DOMAINS for x in BENEFITS[d]], STRING)


def issue_title(m: ScrumModel, i: np.ndarray, p: np.ndarray, kind: np.ndarray) -> pa.Array:
    domain, feature, component = m.issue_theme(i, p)
    f, c = feature_text(domain, feature), component_text(domain, component)
    word = m.stream("issues", "verb").integers(i, 0, 6)
    story = col.join(pick(STORY_VERBS, word % len(STORY_VERBS)), " ", f)
    task = col.join(pick(TASK_VERBS, word), " the ", c)
    bug = col.join("The ", c, " ", pick(SYMPTOMS, word), " during ", f)
    epic = col.join("End-to-end ", f)
    improvement = col.join(pick(IMPROVEMENTS, word % len(IMPROVEMENTS)), " ", f)
    subtask = col.join("Add tests for ", f, " in the ", c)
    return _by_kind(kind, [story, task, bug, epic, improvement, subtask])


def _by_kind(kind: np.ndarray, choices: list[pa.Array]) -> pa.Array:
    out = choices[0]
    for k in range(1, len(choices)):
        out = pc.if_else(pa.array(kind == k), choices[k], out)
    return out


def issue_description(m: ScrumModel, i: np.ndarray, p: np.ndarray, kind: np.ndarray, status: np.ndarray) -> pa.Array:
    """Composed from the issue type's template, the project domain's personas, benefits, features and
    components, and a note on the issue's status: never random words."""
    domain, feature, component = m.issue_theme(i, p)
    f, c = feature_text(domain, feature), component_text(domain, component)
    who = col.take(_PERSONA_POOL, domain * 2 + m.stream("issues", "persona").integers(i, 0, 2))
    why = col.take(_BENEFIT_POOL, domain * 2 + m.stream("issues", "benefit").integers(i, 0, 2))
    word = m.stream("issues", "detail").integers(i, 0, 4)
    story = col.join("As ", who, ", I want ", f, " so that ", why, ". Acceptance criteria: works on web and mobile,"
                     " covered by tests in the ", c, ".")  # fmt: skip
    task = col.join("Technical work on the ", c, " behind ", f, ". Done when the change is reviewed, deployed to"
                    " staging and documented.")  # fmt: skip
    bug = col.join("Steps to reproduce: open ", f, " as ", who, " and save. Expected: the request succeeds."
                   " Actual: the ", c, " ", pick(SYMPTOMS, m.stream("issues", "verb").integers(i, 0, 6)),
                   ". Seen in ", pick(ENVIRONMENTS, word), ".")  # fmt: skip
    epic = col.join("Delivers ", f, " end to end so that ", why, ": design, changes in the ", c, ", rollout and"
                    " monitoring.")  # fmt: skip
    improvement = col.join("Improvement to ", f, ": ", who, " would benefit from ", pick(IMPROVEMENT_AIMS, word),
                           " in the ", c, ".")  # fmt: skip
    subtask = col.join("Part of the ", f, " story: automated tests for the ", c, ".")
    return col.join(_by_kind(kind, [story, task, bug, epic, improvement, subtask]), " ", pick(STATUS_NOTES, status))


_PROJECT_KEYS = pa.array([x.key for x in TEMPLATES], STRING)


def project_key(m: ScrumModel, p: np.ndarray) -> pa.Array:
    """Project p's key (from its template), which prefixes its boards, sprints and issues."""
    return col.take(_PROJECT_KEYS, m.template[p])


def issue_key(m: ScrumModel, i: np.ndarray, p: np.ndarray) -> pa.Array:
    return col.join(project_key(m, p), "-", col.text(i - m.issue_first[p] + 1))


def labels(label: np.ndarray) -> pa.Array:
    """Anomaly label names, null where there is none."""
    idx = np.maximum(label, 0)
    return pa.array(np.asarray(ANOMALY_LABELS, dtype=object)[idx], STRING, mask=label < 0)


_COMMENT_HEAD = pa.array([t[0] for k in range(len(ISSUE_TYPES)) for t in COMMENTS[k]], STRING)
_COMMENT_TAIL = pa.array([t[2] for k in range(len(ISSUE_TYPES)) for t in COMMENTS[k]], STRING)
_COMMENT_USES_FEATURE = np.array([t[1] == "f" for k in range(len(ISSUE_TYPES)) for t in COMMENTS[k]])


def stage_comment(m: ScrumModel, i: np.ndarray, p: np.ndarray, kind: np.ndarray, stage: np.ndarray) -> pa.Array:
    """The issue type's comment template for `stage`, naming the issue's feature or component."""
    template = kind * 5 + stage
    domain, feature, component = m.issue_theme(i, p)
    middle = pc.if_else(
        pa.array(_COMMENT_USES_FEATURE[template]), feature_text(domain, feature), component_text(domain, component)
    )
    return col.join(col.take(_COMMENT_HEAD, template), middle, col.take(_COMMENT_TAIL, template))


def problem_comment(m: ScrumModel, i: np.ndarray, facts: dict[str, np.ndarray], past_due: np.ndarray) -> pa.Array:
    """The comment that tells an anomalous issue's problem, in the words of its own label. An overdue issue's
    comment says its due date has passed only when written after it (`past_due`); before, that it will be missed."""
    p, label = facts["project"], facts["anomaly"]
    domain, feature, component = m.issue_theme(i, p)
    f, c = feature_text(domain, feature), component_text(domain, component)
    blocker = m.blocker(i)
    blocked = col.join("Blocked by ", issue_key(m, blocker, m.issue_project(blocker)), ": the ", c,
                       " work cannot continue until it is done.")  # fmt: skip
    reopened = pc.if_else(
        pa.array(facts["status"] == DONE),
        col.join("Reopened after QA found a regression in ", f, "; fixed again and verified."),
        col.join("Reopened: ", f, " failed verification on staging, back in progress."),
    )
    due = pc.cast(pa.array(np.maximum(facts["due_day"], 0).astype(np.int32), pa.date32()), STRING)
    overdue = pc.if_else(
        pa.array(past_due),
        col.join("Overdue: the due date ", due, " has passed and ", f, " is not finished yet."),
        col.join("Overdue risk: ", f, " will not be finished by its due date ", due, "."),
    )
    grew = col.join("Scope grew: ", f, " now also needs changes in the ", c, "; re-estimated from ",
                    col.text(facts["original_points"]), " to ", col.text(facts["points"]), " points.")  # fmt: skip
    out = blocked
    for k, text in ((REOPENED, reopened), (OVERDUE, overdue), (SCOPE_CREEP, grew)):
        out = pc.if_else(pa.array(label == k), text, out)
    return out
