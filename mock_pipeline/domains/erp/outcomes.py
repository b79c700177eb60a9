"""What follows from an order's lifecycle: its invoice and payment, refund requests, goods coming back
into stock, and the weekly restock plan that keeps stock up with the units shipped. Pure functions of
the model and the order indices; the model's methods of the same names call them.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

import numpy as np

from mock_pipeline.domains.erp.world import (
    BULK_CYCLE_DAYS,
    CASE_SIZE,
    FAILED_COLLECTION_SHARE,
    FAILED_COLLECTION_SHARE_LATE,
    HOUR,
    LABEL,
    METHOD_CASH,
    METHOD_TRANSFER,
    PAY_LATE,
    PAY_OVERDUE,
    PAY_PAID,
    PAY_PENDING,
    REASON_BACKORDER,
    REASON_BILLING,
    REASON_DAMAGED,
    REASON_LATE,
    REASON_QUALITY,
    REASON_WRONG_ITEM,
    REFUND_APPROVED,
    REFUND_NONE,
    REFUND_REQUESTED,
    RETURNED_REASONS,
    STATUS_FAILED,
    Billing,
    Lifecycle,
    office_time,
)
from mock_pipeline.engine.distributions import categorical, exponential
from mock_pipeline.engine.timeline import DAY

if TYPE_CHECKING:
    from mock_pipeline.domains.erp.model import ErpModel


def billing(m: ErpModel, life: Lifecycle) -> Billing:
    """Invoice at delivery, due at the end of the day `terms` days later; paid on time, late, or not at all.

    An order labelled payment_delay is paid after its due date (or not at all); an unlabelled one is
    paid by its due date unless it is among the profile's overdue share of all invoices (drawn among
    those due by the window's end, the others are pending). Money arrives in office hours.
    """
    g, end = life.g, m.end
    profile = m.scenario.profile
    s = partial(m.stream, "payments")
    invoice_at = life.final_at
    invoice_day = invoice_at // DAY
    terms = m.company["terms"][life.company]
    due_day = invoice_day + terms
    deadline = (due_day + 1) * DAY  # the first second after the due date
    overdue = s("overdue").bernoulli(g, m.overdue_draw_share)
    late = (life.planned == LABEL["payment_delay"]) & ~overdue
    bulk = m.company["bulk"][life.company]
    anchor = m.company["cycle_anchor"][life.company]
    cycle_len = BULK_CYCLE_DAYS * DAY
    cycle = -((anchor - invoice_at) // cycle_len)  # ceil division
    # Cash on delivery: collected by the driver within hours of the delivery.
    cod_at = invoice_at + 600 + s("cod").integers(g, 0, 3 * HOUR)
    # On credit: a delay drawn with the profile's mean, capped at the terms; received in office hours.
    delay = exponential(s("delay"), g, profile.payment_delay_days)
    delay_days = np.minimum(np.floor(delay + 0.5), terms).astype(np.int64)
    credit_at = office_time(s("credit_time"), g, invoice_day + delay_days)
    # Not before the invoice: a same-day payment whose office hour has passed arrives the next morning.
    credit_at = np.where(credit_at <= invoice_at + 600, credit_at + DAY, credit_at)
    on_time = np.where(terms == 0, cod_at, credit_at)
    on_time = np.where(bulk, anchor + cycle * cycle_len, on_time)
    # Late: 1 to 40 days after the due date, squeezed into the window when the due date is inside it.
    late_day = due_day + 1 + np.floor(40 * s("late").uniform(g)).astype(np.int64)
    last_day = (end - 1) // DAY
    fits = due_day + 1 <= last_day
    squeezed = due_day + 1 + np.floor(s("late_fit").uniform(g) * np.maximum(last_day - due_day, 1)).astype(np.int64)
    late_day = np.where((late_day > last_day) & fits, np.minimum(squeezed, last_day), late_day)
    late_at = office_time(s("late_time"), g, late_day)
    paid_at = np.where(late, late_at, on_time)
    paid = ~overdue & (paid_at < end)
    status = np.select(
        [paid & (paid_at < deadline), paid, deadline <= end], [PAY_PAID, PAY_LATE, PAY_OVERDUE], PAY_PENDING
    )
    on_bulk = bulk & ~late & ~overdue
    method = np.where(
        on_bulk,
        METHOD_TRANSFER,
        np.where(terms == 0, METHOD_CASH, categorical(s("method"), g, (55, 20, 20, 5))),
    )
    # A bounced cheque or a rejected transfer is retried; late payers bounce more often. Cash never fails.
    share = np.where(late, FAILED_COLLECTION_SHARE_LATE, FAILED_COLLECTION_SHARE)
    failed = np.where(
        (method != METHOD_CASH) & ~on_bulk & s("failed").bernoulli(g, share), 1 + s("failures").integers(g, 0, 2), 0
    )
    attempts = np.where(np.isin(status, (PAY_PAID, PAY_LATE)), 1 + failed, 0)
    return Billing(invoice_at, terms, due_day, paid_at, status, on_bulk, cycle, method, attempts)


def refunds(m: ErpModel, life: Lifecycle, pay: Billing) -> dict[str, np.ndarray]:
    """Refund requests on paid invoices. The reason is the order's own problem: a late, retried or
    backordered delivery is refunded for that; an unlabelled order for damage, a wrong item, quality or
    billing. Goods come back (a return to stock) when a wrong-item or quality refund is approved."""
    g, end = life.g, m.end
    s = partial(m.stream, "refunds")
    troubled = np.isin(life.anomaly, [LABEL[x] for x in ("delivery_delay", "delivery_failure", "stockout")])
    requested_at = pay.paid_at + DAY + np.floor(s("after").uniform(g) * 20 * DAY).astype(np.int64)
    present = life.delivered & pay.paid & s("asked").bernoulli(g, np.where(troubled, 0.25, 0.03))
    present &= requested_at < end
    decided_at = office_time(s("decide_time"), g, requested_at // DAY + 1 + s("decide").integers(g, 0, 5))
    decision = 1 + categorical(s("decision"), g, (75, 25))  # approved, rejected
    open_ = s("open").bernoulli(g, 0.1) | (decided_at >= end)
    status = np.where(open_, REFUND_REQUESTED, decision)
    ordinary = np.array([REASON_DAMAGED, REASON_WRONG_ITEM, REASON_QUALITY, REASON_BILLING])
    reason = ordinary[categorical(s("reason"), g, (35, 25, 25, 15))]
    reason = np.where(troubled, REASON_LATE, reason)
    reason = np.where(life.anomaly == LABEL["stockout"], REASON_BACKORDER, reason)
    goods_back = np.isin(reason, RETURNED_REASONS)
    # A wrong item is refunded in full; other claims in part.
    percent = np.where(goods_back, 100, s("percent").integers(g, 10, 101))
    collected_at = office_time(s("collect_time"), g, decided_at // DAY + 1 + s("collect").integers(g, 0, 3))
    returned = present & (status == REFUND_APPROVED) & goods_back & (collected_at < end)
    return {
        "present": present,
        "requested_at": requested_at,
        "decided_at": decided_at,
        "status": np.where(present, status, REFUND_NONE),
        "percent": percent,
        "reason": reason,
        "returned": returned,
        "returned_at": collected_at,
    }


def goods_back(m: ErpModel, life: Lifecycle, refund: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Per order: do its goods come back into stock, and when. A failed delivery's goods return to the
    depot the day after the last attempt; an approved wrong-item or quality refund's are collected."""
    failed, failed_at = m.depot_return(life)
    return failed | refund["returned"], np.where(life.status == STATUS_FAILED, failed_at, refund["returned_at"])


def depot_return(m: ErpModel, life: Lifecycle) -> tuple[np.ndarray, np.ndarray]:
    """Goods of a failed delivery are back at the depot the morning after the last attempt."""
    failed_at = office_time(m.stream("inventory_movements", "depot_time"), life.g, life.final_at // DAY + 1)
    return (life.status == STATUS_FAILED) & (failed_at < m.end), failed_at


def plan_stock(m: ErpModel, demand: np.ndarray, returned: np.ndarray) -> dict[str, np.ndarray]:
    """Weekly restocks and count adjustments per product, planned from the units shipped and returned per
    (product, week). The loop runs over weeks, vectorised over products. Each restock tops stock up to the
    week's demand plus safety stock, so fulfilments can never take it below zero.
    """
    P, W = m.products, m.weeks
    created_week = m.week_of(m.product["created"])
    safety = m.product["safety"]
    restock = np.zeros((P, W), dtype=np.int64)
    adjust = np.zeros((P, W), dtype=np.int64)
    level = np.zeros(P, dtype=np.int64)
    key = np.arange(P, dtype=np.int64)
    for w in range(W):
        active = w >= created_week
        need = np.maximum(0, demand[:, w] + safety - level)
        restock[:, w] = np.where(active, -(-need // CASE_SIZE) * CASE_SIZE, 0)
        level += restock[:, w]
        counted = active & (w > created_week) & m.stream("inventory_movements", "count").bernoulli(key * W + w, 0.2)
        size = m.stream("inventory_movements", "adjust").integers(key * W + w, 1, 4)
        sign = np.where(m.stream("inventory_movements", "sign").bernoulli(key * W + w, 0.6), -1, 1)
        adjust[:, w] = np.where(counted, sign * size, 0)
        level += adjust[:, w] + returned[:, w] - demand[:, w]
    return {"restock": restock, "adjust": adjust, "created_week": created_week}
