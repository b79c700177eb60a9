"""Customer engagement: wishlists and notifications."""

from __future__ import annotations

import dataclasses

import numpy as np
import pyarrow as pa

from mock_pipeline.domains.commerce.common import ANOMALY, TABLES, TENANT, anomaly_labels, numbered, presence
from mock_pipeline.domains.commerce.fulfilment import full_refund_at
from mock_pipeline.domains.commerce.model import NO_ANOMALY, CommerceModel, Lifecycle
from mock_pipeline.domains.commerce.vocab import (
    NOTIFICATION_TITLES,
    NOTIFICATION_TYPES,
    ORDER_PROBLEM_NOTICES,
    ORDER_STAGE_NOTICES,
)
from mock_pipeline.engine import columns as col
from mock_pipeline.engine.columns import INT, STRING, TIMESTAMP, ids, pick
from mock_pipeline.engine.declare import Column, Columns
from mock_pipeline.engine.distributions import categorical
from mock_pipeline.engine.timeline import DAY
from mock_pipeline.scenarios.model import ANOMALY_LABELS

WISHLIST_SLOTS = 3


def _after_signup(
    m: CommerceModel, customer: np.ndarray, stream_table: str, key: np.ndarray, soon: bool = False
) -> np.ndarray:
    """A time inside the window and after the customer signed up; `soon`: mostly soon after (saves), so
    customers who sign up late do not crowd the window's last month with all of theirs."""
    earliest = np.maximum(m.customer_created(customer) + 60, m.start)
    u = m.stream(stream_table, "time").uniform(key)
    return earliest + np.floor((m.end - 1 - earliest) * (u * u if soon else u)).astype(np.int64)


def _wishlist_size(m: CommerceModel, customer: np.ndarray) -> np.ndarray:
    return m.stream("wishlists", "size").integers(customer, 0, WISHLIST_SLOTS + 1)


def _saves_anything(m: CommerceModel, customer: np.ndarray) -> np.ndarray:
    return _wishlist_size(m, customer) > 0


@presence("wishlists")
def _wishlist_present(m: CommerceModel, lo: int, hi: int) -> np.ndarray:
    s = ids(lo, hi)
    return s % WISHLIST_SLOTS < _wishlist_size(m, s // WISHLIST_SLOTS)


@TABLES.table(
    key="wishlist_id",
    slots=lambda m: m.tenants * m.customers * WISHLIST_SLOTS,
    description="Products customers saved for later.",
    columns=(
        Column("wishlist_id", INT, "Key of the wishlist entry (1..n in customer order)."),
        TENANT,
        Column("customer_id", INT, "The customer who saved it.", references="customers"),
        Column("product_id", INT, "The product saved (listed by then).", references="products"),
        Column("added_at", TIMESTAMP, "When it was saved (after sign-up)."),
    ),
    created="added_at",
)
def wishlists(m: CommerceModel, lo: int, hi: int) -> Columns:
    s = ids(lo, hi)
    keep = _wishlist_present(m, lo, hi)
    s = s[keep]
    customer = s // WISHLIST_SLOTS
    tenant = customer // m.customers
    added = _after_signup(m, customer, "wishlists", s, soon=True)
    existing = m.product_cohort.existing(added)
    product = tenant * m.products + np.floor(existing * m.stream("wishlists", "product").uniform(s)).astype(np.int64)
    return {
        "wishlist_id": numbered(m, "wishlists", lo, len(s)),
        "tenant_id": tenant + 1,
        "customer_id": customer + 1,
        "product_id": product + 1,
        "added_at": col.timestamps(added),
    }


# Per tenant, the notification slots are the customers' marketing messages (MARKETING_SLOTS each)
# followed by the orders' messages (ORDER_NOTICE_SLOTS each: a routine update, a problem notice).
MARKETING_SLOTS = 5
ORDER_NOTICE_SLOTS = 2
ROUTINE_SHARE = 0.15  # orders whose customer gets (and keeps) a routine update
# Marketing kinds (index into NOTIFICATION_TYPES[1:]) that speak of a saved item: price_drop, back_in_stock.
_ABOUT_SAVED = (1, 2)
_NOTIFICATION_TITLES = pa.array([t for group in NOTIFICATION_TITLES[1:] for t in group])
_STAGE_WIDTH = len(ORDER_STAGE_NOTICES[0])
_PROBLEM_WIDTH = len(ORDER_PROBLEM_NOTICES[0][2])
_ORDER_TITLES = pa.array(
    [t for group in ORDER_STAGE_NOTICES for t in group] + [t for _, _, group in ORDER_PROBLEM_NOTICES for t in group]
)
_FAILURE, _CANCEL, _STOCKOUT = (ANOMALY_LABELS.index(x) for x in ("delivery_failure", "cancellation", "stockout"))
_DELAYED_PAYMENT, _LATE = ANOMALY_LABELS.index("payment_delay"), ANOMALY_LABELS.index("delivery_delay")
# Index into ORDER_PROBLEM_NOTICES of each label's notice (a reshipped failure: the next one).
_NOTICE_OF_LABEL = np.array([[label for label, _, _ in ORDER_PROBLEM_NOTICES].index(x) for x in ANOMALY_LABELS])


def _notification_block(m: CommerceModel) -> int:
    return m.customers * MARKETING_SLOTS + m.orders * ORDER_NOTICE_SLOTS


def _order_notices(m: CommerceModel, s: np.ndarray) -> dict[str, np.ndarray]:
    """The order messages of slots s (all in the orders' part): which are sent, when, with which title and label.

    Slot 0 of an order is a routine update (sometimes) on the last stage it reached; slot 1 the notice of
    the problem it had, sent when the customer learns of it. Only the candidate slots are drawn for."""
    block = _notification_block(m)
    tenant, local = s // block, s % block - m.customers * MARKETING_SLOTS
    g = tenant * m.orders + local // ORDER_NOTICE_SLOTS
    problem = local % ORDER_NOTICE_SLOTS == 1
    whole = m.lifecycle_of(g)
    candidate = problem & (whole.anomaly != NO_ANOMALY)
    candidate[~problem] = m.stream("notifications", "routine").bernoulli(s[~problem], ROUTINE_SHARE)
    pick_rows = np.flatnonzero(candidate)
    s, g, problem = s[pick_rows], g[pick_rows], problem[pick_rows]
    life = Lifecycle(*(getattr(whole, f.name)[pick_rows] for f in dataclasses.fields(Lifecycle)))
    # Routine: the confirmation, or the shipping or delivery news once the order got that far.
    reached = 1 + (life.shipped & ~life.cancelled).astype(np.int64) + life.delivered
    stage = np.floor(m.stream("notifications", "stage").uniform(s) * reached).astype(np.int64)
    after = m.stream("notifications", "after").integers(s, 30, 1800)
    stage_at = np.choose(stage, (life.order_date, life.shipped_at, life.delivered_at)) + after
    # Problems: told when they happen; a failed delivery is told with its refund or its reship.
    anomaly = life.anomaly
    refund_at = full_refund_at(m, g, life.cancelled, life.cancelled_at, life.failed_at)
    backorder_at = life.paid_at + m.stream("notifications", "backorder").integers(s, 2 * 3600, DAY)
    problem_at = np.select(
        [anomaly == _DELAYED_PAYMENT, anomaly == _LATE, (anomaly == _FAILURE) & life.reshipped,
         anomaly == _FAILURE, anomaly == _CANCEL, anomaly == _STOCKOUT],
        [life.order_date + 60 + after, life.shipped_at + 6 * DAY + after, life.reshipped_at + after,
         refund_at + after, life.cancelled_at + after, backorder_at],
        m.end,
    )  # fmt: skip
    notice = _NOTICE_OF_LABEL[np.maximum(anomaly, 0)] + ((anomaly == _FAILURE) & life.reshipped)
    sent_at = np.where(problem, problem_at, stage_at)
    title = np.where(
        problem,
        len(ORDER_STAGE_NOTICES) * _STAGE_WIDTH + notice * _PROBLEM_WIDTH
        + m.stream("notifications", "problem_title").integers(s, 0, _PROBLEM_WIDTH),
        stage * _STAGE_WIDTH + m.stream("notifications", "stage_title").integers(s, 0, _STAGE_WIDTH),
    )  # fmt: skip
    # Back to one value per slot asked for (non-candidates are never present).
    rows = len(candidate)
    present = np.zeros(rows, dtype=bool)
    present[pick_rows] = sent_at < m.end
    out = {"present": present}
    for name, values in (("order", g), ("customer", m.order_customer(g, life.order_date)), ("sent_at", sent_at),
                         ("title", title), ("anomaly", np.where(problem, anomaly, NO_ANOMALY))):  # fmt: skip
        full = np.full(rows, NO_ANOMALY, dtype=np.int64)
        full[pick_rows] = values
        out[name] = full
    return out


@presence("notifications")
def _notification_present(m: CommerceModel, lo: int, hi: int) -> np.ndarray:
    s = ids(lo, hi)
    local = s % _notification_block(m)
    marketing = local < m.customers * MARKETING_SLOTS
    present = np.zeros(len(s), dtype=bool)
    c = s[marketing]
    present[marketing] = c % MARKETING_SLOTS < m.stream("notifications", "count").integers(
        c // MARKETING_SLOTS, 1, MARKETING_SLOTS + 1
    )
    if not marketing.all():
        present[~marketing] = _order_notices(m, s[~marketing])["present"]
    return present


@TABLES.table(
    key="notification_id",
    slots=lambda m: m.tenants * _notification_block(m),
    description="Messages sent to customers: offers and news, and updates about their orders.",
    columns=(
        Column("notification_id", INT, "Key of the notification (1..n: a tenant's offers, then its order updates)."),
        TENANT,
        Column("customer_id", INT, "Recipient.", references="customers"),
        Column("order_id", INT, "The order an order_update is about; null for the others.", references="orders"),
        Column("channel", STRING, "email, sms or push."),
        Column("type", STRING, "order_update, promotion, price_drop, back_in_stock or newsletter."),
        Column(
            "title",
            STRING,
            "Message title matching its type; an order update tells the order's stage or the problem it had.",
        ),
        Column("sent_at", TIMESTAMP, "When it was sent (after sign-up; an order update after what it reports)."),
        Column("read_at", TIMESTAMP, "When it was read; null if unread."),
        Column("anomaly", STRING, ANOMALY),
    ),
    created="sent_at",
    after=("shipments", "wishlists"),  # its rules read the shipments, payments and wishlists
)
def notifications(m: CommerceModel, lo: int, hi: int) -> Columns:
    """Marketing messages per customer, then order updates: routine ones and the notice of each order's problem."""
    s = ids(lo, hi)
    s = s[_notification_present(m, lo, hi)]
    block = _notification_block(m)
    tenant, local = s // block, s % block
    marketing = local < m.customers * MARKETING_SLOTS
    order_part = _order_notices(m, s[~marketing])
    n = len(s)
    customer = np.empty(n, dtype=np.int64)
    order = np.full(n, -1, dtype=np.int64)
    sent = np.empty(n, dtype=np.int64)
    anomaly = np.full(n, NO_ANOMALY, dtype=np.int64)
    c = s[marketing]
    customer[marketing] = tenant[marketing] * m.customers + local[marketing] // MARKETING_SLOTS
    buyer = customer[marketing]
    kind = categorical(m.stream("notifications", "type"), c, (25, 15, 10, 15))
    # Price drops and restocks are about a saved item: only for customers who saved one, after they did.
    saved_at = _after_signup(m, buyer, "wishlists", buyer * WISHLIST_SLOTS, soon=True)  # their first wishlist entry
    saved = _saves_anything(m, buyer) & (saved_at + 60 < m.end - 1)
    about_saved = np.isin(kind, _ABOUT_SAVED)
    kind = np.where(about_saved & ~saved, 0, kind)  # a promotion instead
    earliest = saved_at + 60
    wait = np.floor((m.end - 1 - earliest) * m.stream("notifications", "time").uniform(c)).astype(np.int64)
    sent[marketing] = np.where(about_saved & saved, earliest + wait, _after_signup(m, buyer, "notifications", c))
    width = len(NOTIFICATION_TITLES[0])
    title = kind * width + m.stream("notifications", "title").integers(c, 0, width)
    customer[~marketing], order[~marketing] = order_part["customer"], order_part["order"]
    sent[~marketing], anomaly[~marketing] = order_part["sent_at"], order_part["anomaly"]
    read_at = sent + m.stream("notifications", "read_after").integers(s, 60, 3 * DAY)
    unread = m.stream("notifications", "unread").bernoulli(s, 0.4) | (read_at >= m.end)
    # Marketing rows first, order rows after, then back into slot order.
    position = np.where(marketing, np.cumsum(marketing) - 1, marketing.sum() + np.cumsum(~marketing) - 1)
    titles = pa.concat_arrays(
        [col.take(_NOTIFICATION_TITLES, title), col.take(_ORDER_TITLES, order_part["title"])]
    ).take(pa.array(position))
    types = np.zeros(n, dtype=np.int64)  # order_update
    types[marketing] = 1 + kind
    return {
        "notification_id": numbered(m, "notifications", lo, n),
        "tenant_id": tenant + 1,
        "customer_id": customer + 1,
        "order_id": pa.array(order + 1, mask=order < 0),
        "channel": pick(("email", "sms", "push"), categorical(m.stream("notifications", "channel"), s, (60, 10, 30))),
        "type": pick(NOTIFICATION_TYPES, types),
        "title": titles,
        "sent_at": col.timestamps(sent),
        "read_at": col.timestamps(read_at, nulls=unread),
        "anomaly": anomaly_labels(anomaly),
    }
