"""Invoices with their payment, and refund requests with their approval workflow."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

import mock_pipeline.domains.erp.fulfilment  # noqa: F401  (declares the tables referenced below)
from mock_pipeline.domains.erp import data
from mock_pipeline.domains.erp.common import (
    ANOMALY,
    CURRENCY,
    DATE,
    TABLES,
    anomaly_labels,
    dates,
    dense,
    null_if,
    presence,
)
from mock_pipeline.domains.erp.model import ErpModel
from mock_pipeline.domains.erp.world import (
    PAY_LATE,
    PAY_PAID,
    PAY_PARTIALLY_REFUNDED,
    PAY_REFUNDED,
    PAYMENT_STATUSES,
    REFUND_APPROVED,
    REFUND_NONE,
    REFUND_REJECTED,
    REFUND_REQUESTED,
    REFUND_STATUSES,
    ROLE_ADMIN,
    ROLE_MANAGER,
    ROLE_SUPPORT,
)
from mock_pipeline.engine import columns as col
from mock_pipeline.engine.columns import INT, MONEY, STRING, TIMESTAMP, ids, pick
from mock_pipeline.engine.declare import Column, Columns
from mock_pipeline.engine.timeline import DAY

PAYMENT_METHODS = ("bank_transfer", "cheque", "instapay", "cash")  # indexed by model.METHOD_*
# Why a collection attempt failed, two per method (cash is collected in hand and never fails).
_FAILURE_TEXT = pa.array(
    ["transfer returned by the bank: beneficiary details mismatch", "transfer rejected: account under review",
     "cheque returned: insufficient funds", "cheque returned: signature mismatch",
     "InstaPay transfer timed out", "InstaPay daily limit exceeded"], STRING
)  # fmt: skip
METHOD_FAILURES = np.arange(6).reshape(3, 2)


@presence("payments")
def _payments_present(m: ErpModel, lo: int, hi: int) -> np.ndarray:
    return m.facts.delivered[lo:hi]


def refund_cents(m: ErpModel, total: np.ndarray, r: dict[str, np.ndarray]) -> np.ndarray:
    return np.maximum(total * r["percent"] // 100, 1)


@TABLES.table(
    key="payment_id",
    slots=lambda m: m.orders,
    description="Invoices at delivery and their payment: due date from terms, bulk transfers, retries, refunds, overdue.",
    columns=(
        Column("payment_id", INT, "Payment (invoice) key, 1..n."),
        Column("order_id", INT, "The invoiced (delivered) order.", references="orders"),
        Column("company_id", INT, "The invoiced company.", references="companies"),
        Column("invoice_number", STRING, "INV- and 8 digits."),
        Column("amount", MONEY, "Invoice amount: the order total, EGP."),
        Column("currency", STRING, "EGP."),
        Column("invoice_date", TIMESTAMP, "When the invoice was issued (at delivery; UTC)."),
        Column("payment_terms_days", INT, "The company's payment terms."),
        Column("due_date", DATE, "Calendar due date: invoice date + terms."),
        Column("paid_at", TIMESTAMP, "When the money arrived (office hours, or on delivery for cash); null if unpaid."),
        Column(
            "status",
            STRING,
            "paid (by the due date), paid_late, overdue (unpaid past due), pending (not yet due),"
            " refunded or partially_refunded (an approved refund).",
        ),
        Column(
            "days_late",
            INT,
            "Days past the due date when paid (or at the end of the window if unpaid); null if on time.",
        ),
        Column("method", STRING, "bank_transfer, cheque, instapay or cash."),
        Column("transfer_reference", STRING, "Bank reference; shared by the invoices one bulk transfer settles."),
        Column("settlement", STRING, "single or bulk."),
        Column(
            "collection_attempts",
            INT,
            "Attempts to collect until the money arrived (a bounced cheque is retried); 0 if unpaid.",
        ),
        Column("last_failure_reason", STRING, "Why the last failed collection attempt failed; null if none failed."),
        Column("refunded_amount", MONEY, "Amount refunded by approved refunds, EGP."),
        Column("created_at", TIMESTAMP, "When the invoice row was created (the invoice date)."),
        Column("anomaly", STRING, ANOMALY + " Here: payment_delay (paid after the due date or still overdue)."),
    ),
    after=("shipments",),
)
def payments(m: ErpModel, lo: int, hi: int) -> Columns:
    g = ids(lo, hi)
    life = m.lifecycle(g)
    pay = m.billing(life)
    r = m.refunds(life, pay)
    keep = life.delivered
    g, company = g[keep], life.company[keep]
    status, paid_at, due_day = pay.status[keep], pay.paid_at[keep], pay.due_day[keep]
    bulk, cycle, method, attempts = pay.bulk[keep], pay.cycle[keep], pay.method[keep], pay.attempts[keep]
    paid = np.isin(status, (PAY_PAID, PAY_LATE))
    last_day = (m.end - 1) // DAY
    days_late = np.where(paid, paid_at // DAY - due_day, last_day + 1 - due_day)
    reference = pc.if_else(
        pa.array(bulk),
        col.join("BLK-", col.digits(company + 1, 5), "-", col.digits(cycle, 4)),
        col.join("TRF-", col.digits(g + 1, 8)),
    )
    total = m.amounts(g, life.date[keep])["total"]
    approved = r["status"][keep] == REFUND_APPROVED
    refunded = np.where(approved, refund_cents(m, total, {k: v[keep] for k, v in r.items()}), 0)
    status = np.where(approved, np.where(refunded >= total, PAY_REFUNDED, PAY_PARTIALLY_REFUNDED), status)
    failure = METHOD_FAILURES[
        np.minimum(method, len(METHOD_FAILURES) - 1), m.stream("payments", "failure").integers(g, 0, 2)
    ]
    return {
        "payment_id": dense(m, "payments").keys(g),
        "order_id": g + 1,
        "company_id": company + 1,
        "invoice_number": col.join("INV-", col.digits(g + 1, 8)),
        "amount": col.money(total),
        "currency": pa.array([CURRENCY] * len(g), STRING),
        "invoice_date": col.timestamps(pay.invoice_at[keep]),
        "payment_terms_days": pay.terms[keep],
        "due_date": dates(due_day),
        "paid_at": col.timestamps(paid_at, nulls=~paid),
        "status": pick(PAYMENT_STATUSES, status),
        "days_late": col.ints(days_late, nulls=~(days_late > 0)),
        "method": null_if(~paid, pick(PAYMENT_METHODS, method)),
        "transfer_reference": null_if(~paid, reference),
        "settlement": null_if(~paid, pc.if_else(pa.array(bulk), "bulk", "single")),
        "collection_attempts": attempts,
        "last_failure_reason": null_if(~(attempts > 1), col.take(_FAILURE_TEXT, failure)),
        "refunded_amount": col.money(refunded),
        "created_at": col.timestamps(pay.invoice_at[keep]),
        "anomaly": anomaly_labels(life.anomaly[keep], ("payment_delay",)),
    }


def refund_people(m: ErpModel, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(requested by: a support agent, decided by: a manager or admin)."""
    requester = m.pick_user((ROLE_SUPPORT,), m.stream("refunds", "requester"), g)
    decider = m.pick_user((ROLE_MANAGER, ROLE_ADMIN), m.stream("refunds", "decider"), g)
    return requester, decider


# data.REJECTION_REASONS that answer each refund reason (model.REASON_*): a rejection speaks of the claim made.
_REJECTIONS_BY_REASON = np.array([[2, 0], [4, 3], [1, 0], [1, 0], [3, 4], [4, 3]])
_REFUND_LABELS = ("delivery_delay", "delivery_failure", "stockout")


@presence("refunds")
def _refunds_present(m: ErpModel, lo: int, hi: int) -> np.ndarray:
    return m.facts.refund[lo:hi] != REFUND_NONE


@TABLES.table(
    key="refund_id",
    slots=lambda m: m.orders,
    description="Refund requests with an approval workflow; the reason is the order's own problem.",
    columns=(
        Column("refund_id", INT, "Refund request key, 1..n."),
        Column("payment_id", INT, "The refunded payment.", references="payments"),
        Column("order_id", INT, "The order.", references="orders"),
        Column("amount", MONEY, "Amount requested, EGP (<= amount paid)."),
        Column(
            "reason",
            STRING,
            "The customer's claim: the problem the order had (late or backordered delivery) or damage,"
            " a wrong item, quality, billing.",
        ),
        Column("status", STRING, "requested, approved or rejected."),
        Column("rejection_reason", STRING, "Why a rejected request was refused (answers the claim)."),
        Column(
            "goods_returned", pa.bool_(), "The goods came back into stock (an approved wrong-item or quality claim)."
        ),
        Column("requested_by_user_id", INT, "The support agent who raised it.", references="users"),
        Column("decided_by_user_id", INT, "The manager or admin who decided it.", references="users"),
        Column("requested_at", TIMESTAMP, "When it was requested (after the payment; UTC)."),
        Column("decided_at", TIMESTAMP, "When it was decided; null while open."),
        Column(
            "goods_received_at",
            TIMESTAMP,
            "When the returned goods were collected back into stock; null if none came back.",
        ),
        Column("created_at", TIMESTAMP, "When the request was created (requested_at)."),
        Column("anomaly", STRING, ANOMALY + " Here: the order's delivery anomaly when the refund is claimed for it."),
    ),
)
def refunds(m: ErpModel, lo: int, hi: int) -> Columns:
    g = ids(lo, hi)
    life = m.lifecycle(g)
    pay = m.billing(life)
    r = m.refunds(life, pay)
    keep = r["present"]
    g = g[keep]
    r = {k: v[keep] for k, v in r.items()}
    status = r["status"]
    open_ = status == REFUND_REQUESTED
    total = m.amounts(g, life.date[keep])["total"]
    requester, decider = refund_people(m, g)
    rejection = _REJECTIONS_BY_REASON[r["reason"], m.stream("refunds", "rejection").integers(g, 0, 2)]
    return {
        "refund_id": dense(m, "refunds").keys(g),
        "payment_id": dense(m, "payments").keys(g),
        "order_id": g + 1,
        "amount": col.money(refund_cents(m, total, r)),
        "reason": pick(data.REFUND_REASONS, r["reason"]),
        "status": pick(REFUND_STATUSES, status),
        "rejection_reason": null_if(status != REFUND_REJECTED, pick(data.REJECTION_REASONS, rejection)),
        "goods_returned": r["returned"],
        "requested_by_user_id": requester + 1,
        "decided_by_user_id": col.ints(decider + 1, nulls=open_),
        "requested_at": col.timestamps(r["requested_at"]),
        "decided_at": col.timestamps(r["decided_at"], nulls=open_),
        "goods_received_at": col.timestamps(r["returned_at"], nulls=~r["returned"]),
        "created_at": col.timestamps(r["requested_at"]),
        "anomaly": anomaly_labels(life.anomaly[keep], _REFUND_LABELS),
    }
