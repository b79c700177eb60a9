"""Customer engagement: wishlists and notifications."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

import mock_pipeline.domains.commerce.fulfilment  # noqa: F401  (declares the tables referenced below)
from mock_pipeline.domains.commerce.common import TABLES, TENANT, numbered, presence
from mock_pipeline.domains.commerce.model import CommerceModel
from mock_pipeline.domains.commerce.vocab import NOTIFICATION_TITLES, NOTIFICATION_TYPES
from mock_pipeline.engine import columns as col
from mock_pipeline.engine.columns import INT, STRING, TIMESTAMP, ids, pick
from mock_pipeline.engine.declare import Column, Columns
from mock_pipeline.engine.distributions import categorical
from mock_pipeline.engine.timeline import DAY

WISHLIST_SLOTS = 3


def _after_signup(m: CommerceModel, customer: np.ndarray, stream_table: str, key: np.ndarray) -> np.ndarray:
    """A time inside the window and after the customer signed up."""
    earliest = np.maximum(m.customer_created(customer) + 60, m.start)
    return earliest + np.floor((m.end - 1 - earliest) * m.stream(stream_table, "time").uniform(key)).astype(np.int64)


@presence("wishlists")
def _wishlist_present(m: CommerceModel, lo: int, hi: int) -> np.ndarray:
    s = ids(lo, hi)
    return s % WISHLIST_SLOTS < m.stream("wishlists", "size").integers(s // WISHLIST_SLOTS, 0, WISHLIST_SLOTS + 1)


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
    added = _after_signup(m, customer, "wishlists", s)
    existing = m.product_cohort.existing(added)
    product = tenant * m.products + np.floor(existing * m.stream("wishlists", "product").uniform(s)).astype(np.int64)
    return {
        "wishlist_id": numbered(m, "wishlists", lo, len(s)),
        "tenant_id": tenant + 1,
        "customer_id": customer + 1,
        "product_id": product + 1,
        "added_at": col.timestamps(added),
    }


NOTIFICATION_SLOTS = 5
_NOTIFICATION_TITLES = pa.array([t for group in NOTIFICATION_TITLES for t in group])


@presence("notifications")
def _notification_present(m: CommerceModel, lo: int, hi: int) -> np.ndarray:
    s = ids(lo, hi)
    return s % NOTIFICATION_SLOTS < m.stream("notifications", "count").integers(
        s // NOTIFICATION_SLOTS, 1, NOTIFICATION_SLOTS + 1
    )


@TABLES.table(
    key="notification_id",
    slots=lambda m: m.tenants * m.customers * NOTIFICATION_SLOTS,
    description="Messages sent to customers.",
    columns=(
        Column("notification_id", INT, "Key of the notification (1..n in customer order)."),
        TENANT,
        Column("customer_id", INT, "Recipient.", references="customers"),
        Column("channel", STRING, "email, sms or push."),
        Column("type", STRING, "order_update, promotion, price_drop, back_in_stock or newsletter."),
        Column("title", STRING, "Message title matching its type."),
        Column("sent_at", TIMESTAMP, "When it was sent (after sign-up)."),
        Column("read_at", TIMESTAMP, "When it was read; null if unread."),
    ),
    created="sent_at",
)
def notifications(m: CommerceModel, lo: int, hi: int) -> Columns:
    """Marketing and account messages; none speaks of a problem (order problems live on the order)."""
    s = ids(lo, hi)
    s = s[_notification_present(m, lo, hi)]
    customer = s // NOTIFICATION_SLOTS
    sent = _after_signup(m, customer, "notifications", s)
    kind = categorical(m.stream("notifications", "type"), s, (35, 25, 15, 10, 15))
    width = len(NOTIFICATION_TITLES[0])
    read_at = sent + m.stream("notifications", "read_after").integers(s, 60, 3 * DAY)
    unread = m.stream("notifications", "unread").bernoulli(s, 0.4) | (read_at >= m.end)
    return {
        "notification_id": numbered(m, "notifications", lo, len(s)),
        "tenant_id": customer // m.customers + 1,
        "customer_id": customer + 1,
        "channel": pick(("email", "sms", "push"), categorical(m.stream("notifications", "channel"), s, (60, 10, 30))),
        "type": pick(NOTIFICATION_TYPES, kind),
        "title": col.take(
            _NOTIFICATION_TITLES, kind * width + m.stream("notifications", "title").integers(s, 0, width)
        ),
        "sent_at": col.timestamps(sent),
        "read_at": col.timestamps(read_at, nulls=unread),
    }
