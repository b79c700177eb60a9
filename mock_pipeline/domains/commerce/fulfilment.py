"""After the order: payments, shipments, returns, reviews and support tickets."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mock_pipeline.domains.commerce.catalog import product_name, product_noun
from mock_pipeline.domains.commerce.common import ANOMALY, TABLES, TENANT, anomaly_labels, dense, numbered, presence
from mock_pipeline.domains.commerce.model import (
    CURRENCIES,
    ITEM_SLOTS,
    NO_ANOMALY,
    PAYMENT_STATUSES,
    RETURN_STATUSES,
    STATUS_DELIVERED,
    TOP_CATEGORIES,
    CommerceModel,
)
from mock_pipeline.domains.commerce.orders import order_amounts
from mock_pipeline.domains.commerce.vocab import (
    FAULT_RETURN_REASONS,
    LATE_RETURN_REASON,
    RETURN_REASONS,
    REVIEW_DETAILS,
    REVIEW_LATE_NOTE,
    REVIEW_OPENINGS,
    REVIEW_TITLES,
    TICKET_CATEGORIES,
    TICKETS_BY_LABEL,
    TICKETS_WITHOUT_PROBLEM,
)
from mock_pipeline.engine import columns as col
from mock_pipeline.engine.columns import INT, MONEY, STRING, TIMESTAMP, ids, pick
from mock_pipeline.engine.declare import Column, Columns
from mock_pipeline.engine.distributions import categorical, unique_codes
from mock_pipeline.engine.timeline import DAY
from mock_pipeline.scenarios.model import ANOMALY_LABELS

PAYMENT_METHODS = ("card", "paypal", "bank_transfer", "wallet", "gift_card")
_PAYMENT_ANOMALIES = tuple(ANOMALY_LABELS.index(x) for x in ("payment_delay", "cancellation", "delivery_failure"))


@presence("payments")
def _payment_present(m: CommerceModel, lo: int, hi: int) -> np.ndarray:
    return m.lifecycle(ids(lo, hi)).has_payment


def full_refund_at(
    m: CommerceModel, g: np.ndarray, cancelled: np.ndarray, cancelled_at: np.ndarray, failed_at: np.ndarray
) -> np.ndarray:
    """When a cancelled order's payment is released or refunded, or a failed delivery refunded (inside the window)."""
    refund_from = np.where(cancelled, cancelled_at, failed_at)
    refund_wait = np.where(cancelled, m.stream("payments", "void_wait").integers(g, 120, 3600),
                           m.stream("payments", "refund_wait").integers(g, 3600, 3 * DAY))  # fmt: skip
    return np.minimum(refund_from + refund_wait, m.end - 1)


@TABLES.table(
    key="payment_id",
    slots=lambda m: m.tenants * m.orders,
    description="One payment per paid or cancelled order; status says captured, refunded or voided.",
    columns=(
        Column("payment_id", INT, "Key of the payment (1..n in order)."),
        Column("order_id", INT, "The order paid (one payment per paid or cancelled order).", references="orders"),
        TENANT,
        Column("amount", MONEY, "Amount charged: the order total."),
        Column("currency", STRING, "The shop's currency."),
        Column("method", STRING, "Payment method."),
        Column(
            "status",
            STRING,
            "captured; partially_refunded (an accepted return); refunded (cancellation after capture or failed delivery); voided (authorisation released on cancellation before capture).",
        ),
        Column("attempts", INT, "Payment attempts; all but the last failed (a delayed payment fails and is retried)."),
        Column("refunded_amount", MONEY, "Money given back; null when nothing was refunded."),
        Column("created_at", TIMESTAMP, "First payment attempt, right after checkout."),
        Column("paid_at", TIMESTAMP, "When the payment was captured; null when voided."),
        Column("refunded_at", TIMESTAMP, "When the money was refunded or the authorisation voided."),
        Column("anomaly", STRING, ANOMALY),
    ),
)
def payments(m: CommerceModel, lo: int, hi: int) -> Columns:
    """One payment per paid or cancelled order; its status tells what became of the money."""
    g = ids(lo, hi)
    life = m.lifecycle(g)
    ret = m.returns_of(g, life)
    keep = life.has_payment
    g = g[keep]
    date = life.order_date[keep]
    cancelled, failed = life.cancelled[keep], life.failed[keep]
    paid_at, cancelled_at = life.paid_at[keep], life.cancelled_at[keep]
    total = order_amounts(m, g, date)["total"]
    voided = cancelled & (paid_at >= cancelled_at)  # authorised, then released before capture
    full_refund = (cancelled & ~voided) | failed
    full_at = full_refund_at(m, g, cancelled, cancelled_at, life.failed_at[keep])
    returned = ret["present"][keep] & ret["refunded"][keep]
    _, product, ordered = _first_item(m, g, date)
    return_cents = _return_quantity(m, g, ordered) * m.price_at(product, date)
    refunded = np.where(full_refund, total, np.where(returned, np.minimum(return_cents, total), 0))
    refunded_at = np.where(full_refund, full_at, ret["refunded_at"][keep])
    status = np.select(
        [voided, full_refund | (refunded >= total), refunded > 0],
        [PAYMENT_STATUSES.index("voided"), PAYMENT_STATUSES.index("refunded"),
         PAYMENT_STATUSES.index("partially_refunded")],
        PAYMENT_STATUSES.index("captured"),
    )  # fmt: skip
    anomaly = np.where(np.isin(life.anomaly[keep], _PAYMENT_ANOMALIES), life.anomaly[keep], NO_ANOMALY)
    return {
        "payment_id": numbered(m, "payments", lo, len(g)),
        "order_id": g + 1,
        "tenant_id": g // m.orders + 1,
        "amount": col.money(total),
        "currency": pick(CURRENCIES, m.tenant_currency(g // m.orders)),
        "method": pick(PAYMENT_METHODS, categorical(m.stream("payments", "method"), g, (55, 20, 10, 12, 3))),
        "status": pick(PAYMENT_STATUSES, status),
        "attempts": life.attempts[keep],
        "refunded_amount": col.money(refunded, nulls=refunded == 0),
        "created_at": col.timestamps(date + m.stream("payments", "created").integers(g, 15, 59)),
        "paid_at": col.timestamps(paid_at, nulls=voided),
        "refunded_at": col.timestamps(np.where(voided, cancelled_at, refunded_at), nulls=refunded == 0 & ~voided),
        "anomaly": anomaly_labels(anomaly),
    }


FAILURE_REASONS = ("address not found", "recipient unavailable", "parcel damaged", "refused by recipient")
_SHIPMENT_ANOMALIES = tuple(ANOMALY_LABELS.index(x) for x in ("delivery_delay", "delivery_failure", "stockout"))


# Two shipment slots per order: 2g the parcel sent, 2g + 1 the reship after a failed delivery.
SHIPMENT_SLOTS = 2


@presence("shipments")
def _shipment_present(m: CommerceModel, lo: int, hi: int) -> np.ndarray:
    s = ids(lo, hi)
    life = m.lifecycle_of(s // SHIPMENT_SLOTS)
    return np.where(s % SHIPMENT_SLOTS == 0, life.shipped, life.reshipped)


@TABLES.table(
    key="shipment_id",
    slots=lambda m: m.tenants * m.orders * SHIPMENT_SLOTS,
    description="Shipments with delivery outcome; a failed delivery that was sent again has a second one.",
    columns=(
        Column("shipment_id", INT, "Key of the shipment (1..n in order)."),
        Column("order_id", INT, "The order shipped.", references="orders"),
        TENANT,
        Column("warehouse_id", INT, "Warehouse that shipped it (the first item's).", references="warehouses"),
        Column("carrier", STRING, "A carrier of the shop's country (a reship may go with another)."),
        Column("tracking_number", STRING, "Carrier tracking number."),
        Column("status", STRING, "in_transit, delivered or failed."),
        Column(
            "shipped_at", TIMESTAMP, "When the parcel left the warehouse (after payment; a reship after the failure)."
        ),
        Column("delivered_at", TIMESTAMP, "When it was delivered; null unless delivered."),
        Column("failed_at", TIMESTAMP, "When the carrier gave up delivering; null unless failed."),
        Column("failure_reason", STRING, "Why the delivery failed; null unless failed."),
        Column("is_reship", pa.bool_(), "True for the second parcel sent after a failed delivery."),
        Column("anomaly", STRING, ANOMALY),
    ),
    created="shipped_at",
    after=("payments",),
)
def shipments(m: CommerceModel, lo: int, hi: int) -> Columns:
    s = ids(lo, hi)
    s = s[_shipment_present(m, lo, hi)]
    g = s // SHIPMENT_SLOTS
    reship = s % SHIPMENT_SLOTS == 1
    life = m.lifecycle_of(g)
    # The first parcel fails where the delivery failed; a reship (and any other parcel) is delivered once it arrives.
    failed = ~reship & life.delivery_failed
    arrived = (reship | ~life.delivery_failed) & (life.delivered_at < m.end)
    delivered = arrived & (life.status == STATUS_DELIVERED)
    anomaly = np.where(np.isin(life.anomaly, _SHIPMENT_ANOMALIES), life.anomaly, NO_ANOMALY)
    # The first item's product says which warehouse ships the order.
    first_item = m.item_product(g * ITEM_SLOTS, life.order_date)
    # A parcel refused by its recipient is refunded, never sent again.
    reasons = np.where(life.reshipped, len(FAILURE_REASONS) - 1, len(FAILURE_REASONS))
    reason = np.floor(m.stream("shipments", "reason").uniform(g) * reasons).astype(np.int64)
    tenant = g // m.orders
    carrier_u = np.where(
        reship, m.stream("shipments", "reship_carrier").uniform(g), m.stream("shipments", "carrier").uniform(g)
    )
    return {
        "shipment_id": numbered(m, "shipments", lo, len(g)),
        "order_id": g + 1,
        "tenant_id": tenant + 1,
        "warehouse_id": m.product_warehouse(first_item) + 1,
        "carrier": m.tenant_carrier(tenant, carrier_u),
        "tracking_number": col.join(
            "TRK", col.digits(unique_codes(m.stream("shipments", "tracking"), s, 10**10 // 4), 10)
        ),
        "status": pc.if_else(pa.array(delivered), "delivered", pc.if_else(pa.array(failed), "failed", "in_transit")),
        "shipped_at": col.timestamps(np.where(reship, life.reshipped_at, life.shipped_at)),
        "delivered_at": col.timestamps(life.delivered_at, nulls=~delivered),
        "failed_at": col.timestamps(life.failed_at, nulls=~failed),
        "failure_reason": pc.if_else(pa.array(failed), pick(FAILURE_REASONS, reason), pa.scalar(None, STRING)),
        "is_reship": pa.array(reship),
        "anomaly": anomaly_labels(anomaly),
    }


_REASON_WIDTH = max(len(r) for r in RETURN_REASONS)
_REASON_POOL = pa.array([r[k % len(r)] for r in RETURN_REASONS for k in range(_REASON_WIDTH)] + [LATE_RETURN_REASON])
_LATE = ANOMALY_LABELS.index("delivery_delay")


_FAULTS = np.isin(np.asarray(_REASON_POOL.to_pylist()), FAULT_RETURN_REASONS)


def _return_reason(
    m: CommerceModel, g: np.ndarray, anomaly: np.ndarray, product: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Index into _REASON_POOL of the return of orders g (of their first item), and whether it is 'arrived too late'.

    The reason fits what was bought; "arrived too late" only where the delivery really was late."""
    top = (m.product_subcategory(product) - TOP_CATEGORIES) // 2
    reason = top * _REASON_WIDTH + m.stream("returns", "reason").integers(g, 0, _REASON_WIDTH)
    late = (anomaly == _LATE) & m.stream("returns", "late_reason").bernoulli(g, 0.7)
    return np.where(late, len(_REASON_POOL) - 1, reason), late


def _first_item(m: CommerceModel, g: np.ndarray, date: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    slot = g * ITEM_SLOTS
    product = m.item_product(slot, date)
    return slot, product, m.item_quantity(slot)


def _return_quantity(m: CommerceModel, g: np.ndarray, ordered: np.ndarray) -> np.ndarray:
    return 1 + np.floor(m.stream("returns", "quantity").uniform(g) * ordered).astype(np.int64)


@presence("returns")
def _return_present(m: CommerceModel, lo: int, hi: int) -> np.ndarray:
    g = ids(lo, hi)
    return m.returns_of(g, m.lifecycle(g))["present"]


@TABLES.table(
    key="return_id",
    slots=lambda m: m.tenants * m.orders,
    description="Returns of delivered items.",
    columns=(
        Column("return_id", INT, "Key of the return (1..n in order)."),
        Column("order_id", INT, "The order the returned item belongs to.", references="orders"),
        Column("order_item_id", INT, "The order line returned.", references="order_items"),
        TENANT,
        Column("product_id", INT, "The product returned.", references="products"),
        Column("quantity", INT, "Units returned (at most those bought)."),
        Column(
            "reason", STRING, "Why, in terms that fit the product kind; 'arrived too late' only after a late delivery."
        ),
        Column("status", STRING, "requested, approved, refunded or rejected."),
        Column("refund_amount", MONEY, "quantity x unit price for approved and refunded returns; null otherwise."),
        Column("requested_at", TIMESTAMP, "When the customer asked (after delivery)."),
        Column("refunded_at", TIMESTAMP, "When the refund was paid; null unless refunded."),
        Column("restocked_at", TIMESTAMP, "When the units went back to stock; null unless restocked."),
        Column("anomaly", STRING, ANOMALY),
    ),
    created="requested_at",
    after=("shipments",),
)
def returns(m: CommerceModel, lo: int, hi: int) -> Columns:
    g = ids(lo, hi)
    life = m.lifecycle(g)
    ret = m.returns_of(g, life)
    keep = ret["present"]
    g, date, anomaly = g[keep], life.order_date[keep], life.anomaly[keep]
    ret = {k: v[keep] for k, v in ret.items()}
    slot, product, ordered = _first_item(m, g, date)
    quantity = _return_quantity(m, g, ordered)
    unit = m.price_at(product, date)
    reason, late = _return_reason(m, g, anomaly, product)
    accepted = ret["accepted"]
    return {
        "return_id": numbered(m, "returns", lo, len(g)),
        "order_id": g + 1,
        "order_item_id": dense(m, "order_items").keys(slot),
        "tenant_id": g // m.orders + 1,
        "product_id": product + 1,
        "quantity": quantity,
        "reason": col.take(_REASON_POOL, reason),
        "status": pick(RETURN_STATUSES, ret["status"]),
        "refund_amount": col.money(quantity * unit, nulls=~accepted),
        "requested_at": col.timestamps(ret["requested"]),
        "refunded_at": col.timestamps(ret["refunded_at"], nulls=~ret["refunded"]),
        "restocked_at": col.timestamps(ret["restocked_at"], nulls=~ret["restocked"]),
        "anomaly": anomaly_labels(np.where(late, anomaly, NO_ANOMALY)),
    }


_TITLE_WIDTH = max(len(t) for t in REVIEW_TITLES)
_TITLES = pa.array([t for group in REVIEW_TITLES for t in group])
_OPENINGS = pa.array([t for group in REVIEW_OPENINGS for t in group])
_DETAILS = pa.array([t for group in REVIEW_DETAILS for t in group])


def _review_rows(m: CommerceModel, g: np.ndarray, life) -> tuple[np.ndarray, np.ndarray]:
    created = life.delivered_at + m.stream("reviews", "after").integers(g, 3600, 20 * DAY)
    return life.delivered & m.stream("reviews", "reviewed").bernoulli(g, 0.25) & (created < m.end), created


@presence("reviews")
def _review_present(m: CommerceModel, lo: int, hi: int) -> np.ndarray:
    g = ids(lo, hi)
    return _review_rows(m, g, m.lifecycle(g))[0]


@TABLES.table(
    key="review_id",
    slots=lambda m: m.tenants * m.orders,
    description="Reviews by buyers after delivery.",
    columns=(
        Column("review_id", INT, "Key of the review (1..n in order)."),
        TENANT,
        Column("product_id", INT, "The product reviewed.", references="products"),
        Column("customer_id", INT, "The buyer who wrote it.", references="customers"),
        Column("order_id", INT, "The order in which it was bought.", references="orders"),
        Column("rating", INT, "Stars, 1..5."),
        Column("title", STRING, "Title whose sentiment follows the rating."),
        Column(
            "body",
            STRING,
            "Review text whose sentiment follows the rating (and mentions a late delivery only after one).",
        ),
        Column("created_at", TIMESTAMP, "When it was written (after delivery)."),
    ),
    text_columns=("title", "body"),
    after=("order_items", "shipments", "returns"),
)
def reviews(m: CommerceModel, lo: int, hi: int) -> Columns:
    g = ids(lo, hi)
    life = m.lifecycle(g)
    keep, created = _review_rows(m, g, life)
    returned = m.returns_of(g, life)["present"][keep]
    g, created, date, anomaly = g[keep], created[keep], life.order_date[keep], life.anomaly[keep]
    _, product, _ = _first_item(m, g, date)
    # A late delivery drags the rating down.
    weights_late = categorical(m.stream("reviews", "rating_late"), g, (20, 25, 25, 20, 10))
    rating = 1 + np.where(
        anomaly == _LATE, weights_late, categorical(m.stream("reviews", "rating"), g, (5, 7, 13, 35, 40))
    )
    # Who sent the product back as faulty gives it one or two stars.
    faulty = returned & _FAULTS[_return_reason(m, g, anomaly, product)[0]]
    rating = np.where(faulty, 1 + m.stream("reviews", "rating_faulty").integers(g, 0, 2), rating)
    noun = pc.utf8_lower(product_noun(m, product))
    per = len(REVIEW_OPENINGS[0])
    title = _fill_product(
        col.take(_TITLES, (rating - 1) * _TITLE_WIDTH + m.stream("reviews", "title").integers(g, 0, _TITLE_WIDTH)),
        product_name(m, product),
    )
    opening = _fill_product(
        col.take(_OPENINGS, (rating - 1) * per + m.stream("reviews", "opening").integers(g, 0, per)), noun
    )
    detail = col.take(_DETAILS, (rating - 1) * per + m.stream("reviews", "detail").integers(g, 0, per))
    late_note = pc.if_else(pa.array(anomaly == _LATE), REVIEW_LATE_NOTE, "")
    return {
        "review_id": numbered(m, "reviews", lo, len(g)),
        "tenant_id": g // m.orders + 1,
        "product_id": product + 1,
        "customer_id": m.order_customer(g, date) + 1,
        "order_id": g + 1,
        "rating": rating,
        "title": title,
        "body": col.join(opening, " ", detail, late_note),
        "created_at": col.timestamps(created),
    }


def _fill_product(template: pa.Array, noun: pa.Array) -> pa.Array:
    """Replace the {p} placeholder row by row, column-wise; templates without one stay as they are."""
    parts = pc.split_pattern(col.join(template, "{p}"), "{p}", max_splits=2)
    has = pc.equal(pc.list_value_length(parts), 3)
    return col.join(pc.list_element(parts, 0), pc.if_else(has, noun, ""), pc.list_element(parts, 1))


# Subjects: first the five labels' (in ANOMALY_LABELS order), then the problem-free ones.
_SUBJECT_WIDTH = 3
_TICKET_GROUPS = tuple(TICKETS_BY_LABEL[label] for label in ANOMALY_LABELS) + TICKETS_WITHOUT_PROBLEM
_TICKET_SUBJECTS = pa.array([s for _, subjects in _TICKET_GROUPS for s in subjects])
_TICKET_GROUP_CATEGORY = np.array([c for c, _ in _TICKET_GROUPS])


# The questions about changing an order (category order): asked before it ships.
_ORDER_TOPIC = next(
    k for k, (category, _) in enumerate(TICKETS_WITHOUT_PROBLEM) if TICKET_CATEGORIES[category] == "order"
)


_CANCEL_REQUEST = TICKETS_BY_LABEL["cancellation"][1].index("Cancel my order")


def _ticket_rows(m: CommerceModel, g: np.ndarray, life) -> tuple[np.ndarray, np.ndarray]:
    # Orders that went wrong raise tickets far more often; a ticket follows the problem it is about.
    chance = np.where(life.anomaly != NO_ANOMALY, 0.35, 0.03)
    after = m.stream("support_tickets", "after").integers(g, 3600, 10 * DAY)
    problem_at = np.select(
        [life.label("delivery_delay"), life.label("delivery_failure"), life.label("cancellation")],
        [life.shipped_at + 6 * DAY, life.failed_at, life.cancelled_at],
        life.order_date,
    )
    created = problem_at + after
    # A problem still going on is asked about while it lasts: a payment before it is captured, a late parcel
    # before it arrives, a backorder before it ships, a cancellation request before the cancellation;
    # questions about changing an order before it ships.
    cancel_request = life.label("cancellation") & (_subject_choice(m, g) == _CANCEL_REQUEST)
    plain_change = (life.anomaly == NO_ANOMALY) & (_plain_topic(m, g) == _ORDER_TOPIC)
    ongoing = life.label("payment_delay") | life.label("delivery_delay") | life.label("stockout")
    ongoing |= cancel_request | plain_change
    lo = np.select(
        [life.label("payment_delay"), life.label("delivery_delay"), life.label("stockout"), cancel_request],
        [life.order_date + 120, life.shipped_at + 6 * DAY, life.paid_at + 3600, life.order_date + 10],
        life.order_date + 300,
    )
    hi = np.select(
        [life.label("payment_delay"), life.label("delivery_delay"), cancel_request],
        [life.paid_at - 60, life.delivered_at - 60, life.cancelled_at - 10],
        life.shipped_at - 60,
    )
    hi = np.minimum(hi, m.end - 1)
    asked = lo + np.floor((hi - lo) * m.stream("support_tickets", "asked").uniform(g)).astype(np.int64)
    created = np.where(ongoing, asked, created)
    return m.stream("support_tickets", "raised").bernoulli(g, chance) & (created < m.end), created


def _subject_choice(m: CommerceModel, g: np.ndarray) -> np.ndarray:
    """Which of its group's subjects a ticket has."""
    return m.stream("support_tickets", "subject").integers(g, 0, _SUBJECT_WIDTH)


def _plain_topic(m: CommerceModel, g: np.ndarray) -> np.ndarray:
    """Index into TICKETS_WITHOUT_PROBLEM of a ticket raised on an order without a problem."""
    return m.stream("support_tickets", "topic").integers(g, 0, len(TICKETS_WITHOUT_PROBLEM))


@presence("support_tickets")
def _ticket_present(m: CommerceModel, lo: int, hi: int) -> np.ndarray:
    g = ids(lo, hi)
    return _ticket_rows(m, g, m.lifecycle(g))[0]


@TABLES.table(
    key="support_ticket_id",
    slots=lambda m: m.tenants * m.orders,
    description="Customer support requests about orders.",
    columns=(
        Column("support_ticket_id", INT, "Key of the ticket (1..n in order)."),
        TENANT,
        Column("customer_id", INT, "The customer who raised it (the order's).", references="customers"),
        Column("order_id", INT, "The order it is about.", references="orders"),
        Column("subject", STRING, "Subject: the problem the order had, or a question when it had none."),
        Column("category", STRING, "delivery, payment, product, account or order."),
        Column("priority", STRING, "low, normal, high or urgent."),
        Column("status", STRING, "open, pending, resolved or closed."),
        Column("created_at", TIMESTAMP, "When it was raised (after the problem it reports)."),
        Column("resolved_at", TIMESTAMP, "When it was resolved; null if still open."),
        Column("anomaly", STRING, ANOMALY),
    ),
    after=("shipments",),  # its rules read the shipments
)
def support_tickets(m: CommerceModel, lo: int, hi: int) -> Columns:
    g = ids(lo, hi)
    life = m.lifecycle(g)
    keep, created = _ticket_rows(m, g, life)
    g, created, anomaly, date = g[keep], created[keep], life.anomaly[keep], life.order_date[keep]
    plain = len(ANOMALY_LABELS) + _plain_topic(m, g)
    group = np.where(anomaly == NO_ANOMALY, plain, anomaly)
    subject = group * _SUBJECT_WIDTH + _subject_choice(m, g)
    resolve = created + m.stream("support_tickets", "resolve").integers(g, 1800, 7 * DAY)
    resolved = resolve < m.end
    status = np.where(
        resolved,
        m.stream("support_tickets", "closed").integers(g, 2, 4),
        m.stream("support_tickets", "open").integers(g, 0, 2),
    )
    return {
        "support_ticket_id": numbered(m, "support_tickets", lo, len(g)),
        "tenant_id": g // m.orders + 1,
        "customer_id": m.order_customer(g, date) + 1,
        "order_id": g + 1,
        "subject": col.take(_TICKET_SUBJECTS, subject),
        "category": pick(TICKET_CATEGORIES, _TICKET_GROUP_CATEGORY[group]),
        "priority": pick(
            ("low", "normal", "high", "urgent"),
            categorical(m.stream("support_tickets", "priority"), g, (25, 50, 20, 5)),
        ),
        "status": pick(("open", "pending", "resolved", "closed"), status),
        "created_at": col.timestamps(created),
        "resolved_at": col.timestamps(resolve, nulls=~resolved),
        "anomaly": anomaly_labels(anomaly),
    }
