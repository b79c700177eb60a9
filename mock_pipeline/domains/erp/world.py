"""The ERP world's constants, time helpers and the records of what happened to orders (seed 001):
roles and their shares, payment terms, slot layouts, statuses and reasons, office and delivery hours,
and the Lifecycle / Billing / OrderFacts records the model computes per chunk of orders.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from mock_pipeline.domains.erp import data
from mock_pipeline.engine.distributions import zipf_weights
from mock_pipeline.engine.random import Stream
from mock_pipeline.engine.timeline import DAY
from mock_pipeline.scenarios.model import ANOMALY_LABELS

DOMAIN = "erp"
WEEK = 7 * DAY
HOUR = 3600
# Staff accounts exist first, then the launch set of customers and the catalogue; trading
# (orders, visits) starts on the first morning.
STAFF_READY = 1800
LAUNCH_END = 3600

ROLES = ("admin", "manager", "sales", "support")
ROLE_SHARES = (0.05, 0.15, 0.50, 0.30)
DEPARTMENTS = ("Administration", "Management", "Sales", "Customer Support")
ROLE_ADMIN, ROLE_MANAGER, ROLE_SALES, ROLE_SUPPORT = range(4)

PAYMENT_TERMS = (0, 15, 30, 45, 60)  # days; 0 = cash on delivery
PAYMENT_TERM_WEIGHTS = (15, 20, 35, 20, 10)
BULK_CYCLE_DAYS = 30  # bulk payers settle everything invoiced in a month with one transfer
BULK_PAYER_SHARE = 0.5  # of the companies on 30+ day terms
VAT_PERCENT = 14  # Egyptian VAT
BRANCH_SLOTS = 3
BRANCH_COUNT_WEIGHTS = (60, 30, 10)

PACK_SIZES = (1, 6, 12)
GRADE_PRICE_FACTORS = (1.0, 1.25, 1.45, 1.6, 1.8)  # Classic .. Professional  # single unit, case of 6, case of 12
ITEM_SLOTS = 5
ITEM_COUNT_WEIGHTS = (30, 28, 20, 13, 9)
QUANTITY_WEIGHTS = (20, 18, 14, 10, 8, 8, 5, 5, 4, 3, 2, 3)  # 1..12 cases
# The overdue share is of all invoices, drawn among those due by the window's end; on a window so short
# that under this share of invoices are due, the due ones are not pushed further (no quarter overdue in normal-ops).
DUE_SHARE_FLOOR = 0.8
TOP_SHARE_TARGET = 0.80  # the top 20% of products take about 80% of the units (80/20)
DISCOUNT_SLOTS = ITEM_SLOTS + 1  # slot 0: order-level, slots 1..5: one per item
DISCOUNT_MODE_WEIGHTS = (70, 15, 15)  # none, order-level, item-level
DISCOUNT_NONE, DISCOUNT_ORDER, DISCOUNT_ITEM = range(3)
ATTEMPT_SLOTS = 3
HISTORY_SLOTS = 4  # pending, confirmed, shipped, terminal (delivered / delivery_failed / cancelled)
CASE_SIZE = 12  # restocks come in cases
FOLLOW_UP_SHARE = 0.3
VISIT_SLOTS = 2  # slot 0: the visit, slot 1: its follow-up
MAX_PARTS = 3
MAX_SERVICES = 3

# B2B hours: orders are placed and goods moved during the working day (UTC+2 shifted to UTC).
ORDER_HOURS = (0, 0, 0, 0, 0, 0, 0.3, 1.5, 4, 6, 6.5, 6, 5, 4.5, 5, 4.5, 3.5, 2.5, 1.5, 0.8, 0.3, 0, 0, 0)
VISIT_HOURS = (0, 0, 0, 0, 0, 0, 0, 2, 5, 6, 6, 5, 4, 5, 5, 4, 2, 0, 0, 0, 0, 0, 0, 0)
# Monday..Sunday: Friday is the Egyptian weekend, Saturday half busy.
ERP_WEEKDAYS = (1.1, 1.1, 1.1, 1.1, 0.15, 0.6, 1.15)

NO_ANOMALY = -1
MAX_ORDERS = 5_000_000
PRODUCT_VARIANTS = 1 + len(data.PRODUCT_LINES) * len(data.PRODUCT_TAGS)  # plain, then line x tag
LABEL = {name: i for i, name in enumerate(ANOMALY_LABELS)}

STATUS_PENDING, STATUS_CONFIRMED, STATUS_SHIPPED, STATUS_DELIVERED, STATUS_FAILED, STATUS_CANCELLED = range(6)
ORDER_STATUSES = ("pending", "confirmed", "shipped", "delivered", "delivery_failed", "cancelled")
PAY_PAID, PAY_LATE, PAY_OVERDUE, PAY_PENDING = range(4)
PAYMENT_STATUSES = ("paid", "paid_late", "overdue", "pending", "refunded", "partially_refunded")
PAY_REFUNDED, PAY_PARTIALLY_REFUNDED = 4, 5
REFUND_NONE, REFUND_REQUESTED, REFUND_APPROVED, REFUND_REJECTED = -1, 0, 1, 2
REFUND_STATUSES = ("requested", "approved", "rejected")
# Refund reasons (data.REFUND_REASONS) by what happened to the order.
REASON_DAMAGED, REASON_LATE, REASON_WRONG_ITEM, REASON_QUALITY, REASON_BILLING, REASON_BACKORDER = range(6)
# Goods come back into stock only when the customer sends them back for a wrong item or a quality claim.
RETURNED_REASONS = (REASON_WRONG_ITEM, REASON_QUALITY)
# Payment collection: the share of payments whose first attempt failed (a bounced cheque, a rejected transfer).
FAILED_COLLECTION_SHARE = 0.06
FAILED_COLLECTION_SHARE_LATE = 0.35
METHOD_TRANSFER, METHOD_CHEQUE, METHOD_INSTAPAY, METHOD_CASH = range(4)
# Office hours in UTC (08:00-18:00 in Cairo, UTC+2): when money is received and stock is booked.
OFFICE_OPEN, OFFICE_HOURS = 6 * 3600, 10 * 3600

# Monday-based weekday offsets (0 = Monday) of each region's delivery days.
_REGION_OFFSETS = np.array([sorted(d - 1 for d in data.REGION_ISO_DAYS[r]) for r in data.REGIONS], dtype=np.int64)


def zipf_exponent_for(
    n: int, target: float = TOP_SHARE_TARGET, listed: np.ndarray | None = None, volume: np.ndarray | None = None
) -> float:
    """The Zipf exponent whose top 20% of n ranks carry `target` of the units ordered (bisection).

    With `listed` (products on sale each day, a prefix of the ranks) and `volume` (that day's
    orders), a product sells only once listed: later products get fewer units, so the exponent
    is solved for the units expected over the window rather than for the bare weights.
    """
    top = max(1, math.ceil(0.2 * n))
    if listed is None or volume is None:
        listed, volume = np.array([n]), np.array([1.0])
    listed = np.clip(np.asarray(listed, dtype=np.int64), 0, n)
    on_sale = listed > 0
    lo, hi = 0.1, 4.0
    for _ in range(60):
        mid = (lo + hi) / 2
        w = zipf_weights(n, mid)
        # Each day spreads its volume over the listed prefix in proportion to the weights.
        per_weight = np.zeros(n + 1)
        np.add.at(per_weight, listed[on_sale], volume[on_sale] / np.cumsum(w)[listed[on_sale] - 1])
        units = w * np.cumsum(per_weight[::-1])[::-1][1:]
        lo, hi = (mid, hi) if units[:top].sum() / units.sum() < target else (lo, mid)
    return (lo + hi) / 2


def weekday_of_day(day: np.ndarray) -> np.ndarray:
    """Monday-based weekday of an epoch day (1970-01-01 was a Thursday)."""
    return (np.asarray(day) + 3) % 7


def region_day(day0: np.ndarray, region: np.ndarray, k: np.ndarray | int) -> np.ndarray:
    """Epoch day of the k-th (0-based) delivery day of `region` on or after epoch day `day0`."""
    day0 = np.asarray(day0, dtype=np.int64)
    offsets = _REGION_OFFSETS[region]  # [n, 3]
    weekday = weekday_of_day(day0)
    position = (offsets < weekday[:, None]).sum(axis=1) + np.asarray(k, dtype=np.int64)
    monday = day0 - weekday
    per_week = offsets.shape[1]
    chosen = np.take_along_axis(offsets, (position % per_week)[:, None], axis=1)[:, 0]
    return monday + 7 * (position // per_week) + chosen


@dataclass(frozen=True)
class Lifecycle:
    """An order's story as event times (epoch seconds) and states at the end of the window."""

    g: np.ndarray
    date: np.ndarray
    company: np.ndarray
    region: np.ndarray
    status: np.ndarray
    planned: np.ndarray  # injected anomaly label index, or NO_ANOMALY
    anomaly: np.ndarray  # the injected label where it had a visible effect by the end, else NO_ANOMALY
    confirmed: np.ndarray  # bool: a confirmation happened
    confirm_at: np.ndarray
    cancel_at: np.ndarray
    scheduled_day: np.ndarray  # epoch day of the planned delivery
    shipped_at: np.ndarray
    attempt_at: np.ndarray  # [n, ATTEMPT_SLOTS]
    attempts: np.ndarray  # attempts made by the end of the window
    failed_attempts: np.ndarray  # planned failed attempts (0..3)
    final_at: np.ndarray  # time of the last planned attempt

    @property
    def shipped(self) -> np.ndarray:
        return (self.status >= STATUS_SHIPPED) & (self.status != STATUS_CANCELLED)

    @property
    def delivered(self) -> np.ndarray:
        return self.status == STATUS_DELIVERED

    @property
    def cancelled(self) -> np.ndarray:
        return self.status == STATUS_CANCELLED


@dataclass(frozen=True)
class Billing:
    """The invoice and payment of delivered orders (meaningless where not delivered)."""

    invoice_at: np.ndarray
    terms: np.ndarray
    due_day: np.ndarray  # epoch day of the due date (a calendar date: paid on time = by the end of that day)
    paid_at: np.ndarray
    status: np.ndarray  # PAY_PAID, PAY_LATE, PAY_OVERDUE or PAY_PENDING (refunds are applied by the tables)
    bulk: np.ndarray  # settled by a bulk transfer
    cycle: np.ndarray  # bulk cycle index
    method: np.ndarray  # METHOD_*
    attempts: np.ndarray  # collection attempts: 1 + failed ones before the payment went through (0 if unpaid)

    @property
    def paid(self) -> np.ndarray:
        return np.isin(self.status, (PAY_PAID, PAY_LATE))


@dataclass(frozen=True)
class OrderFacts:
    """What happened to every order by the end of the window, computed once in one chunked pass: the
    presence of every child row (and so the dense keys of every child table) and the stock demand."""

    status: np.ndarray  # int8, STATUS_*
    confirmed: np.ndarray  # bool
    attempts: np.ndarray  # int8, delivery attempts made
    paid: np.ndarray  # bool, the invoice was paid by the end of the window
    refund: np.ndarray  # int8, REFUND_* (REFUND_NONE when no refund was requested)
    returned: np.ndarray  # bool, the order's goods came back to stock (failed delivery or a return)

    @property
    def shipped(self) -> np.ndarray:
        return (self.status >= STATUS_SHIPPED) & (self.status != STATUS_CANCELLED)

    @property
    def delivered(self) -> np.ndarray:
        return self.status == STATUS_DELIVERED


def office_time(stream: Stream, key: np.ndarray, day: np.ndarray) -> np.ndarray:
    """A moment within office hours of epoch day `day`."""
    return np.asarray(day, dtype=np.int64) * DAY + OFFICE_OPEN + stream.integers(key, 0, OFFICE_HOURS)
