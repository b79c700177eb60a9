"""Orders, their lines, discounts and status history, laid out by the model's order lifecycle."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

import mock_pipeline.domains.erp.parties  # noqa: F401  (declares the tables referenced below)
from mock_pipeline.domains.erp import data
from mock_pipeline.domains.erp.common import (
    ANOMALY,
    CURRENCY,
    DATE,
    TABLES,
    anomaly_labels,
    dates,
    dense,
    order_range,
    presence,
)
from mock_pipeline.domains.erp.model import ErpModel
from mock_pipeline.domains.erp.world import (
    DISCOUNT_ORDER,
    DISCOUNT_SLOTS,
    HISTORY_SLOTS,
    ITEM_SLOTS,
    ORDER_STATUSES,
    ROLE_ADMIN,
    ROLE_MANAGER,
    ROLE_SUPPORT,
    STATUS_CANCELLED,
    STATUS_DELIVERED,
    STATUS_FAILED,
    STATUS_SHIPPED,
    Lifecycle,
)
from mock_pipeline.engine import columns as col
from mock_pipeline.engine.columns import INT, MONEY, STRING, TIMESTAMP, ids, pick
from mock_pipeline.engine.declare import Column, Columns
from mock_pipeline.engine.distributions import categorical
from mock_pipeline.engine.timeline import DAY

NEW_BRANCH_DAYS = 60  # an order from a branch this young gets the branch-opening discount


def last_event(m: ErpModel, life: Lifecycle) -> np.ndarray:
    """The time of the order's latest event by the end of the window."""
    t = np.where(life.confirmed, life.confirm_at, life.date)
    t = np.where(life.shipped, life.shipped_at, t)
    made = life.attempts > 0
    last_attempt = life.attempt_at[np.arange(len(life.g)), np.maximum(life.attempts - 1, 0)]
    t = np.where(made, last_attempt, t)
    return np.where(life.cancelled, life.cancel_at, t)


@TABLES.table(
    key="order_id",
    slots=lambda m: m.orders,
    description="Orders laid out by the time-series engine; delivery on the region's days; anomaly is the ground truth.",
    columns=(
        Column("order_id", INT, "Order key, 1..n in order of placement."),
        Column("order_number", STRING, "SO- and 8 digits."),
        Column("company_id", INT, "The ordering company.", references="companies"),
        Column(
            "branch_id", INT, "The ordering branch of that company, or null for the head office.", references="branches"
        ),
        Column("sales_rep_id", INT, "The company's account manager (a sales user).", references="users"),
        Column("order_date", TIMESTAMP, "When the order was placed (UTC)."),
        Column(
            "status",
            STRING,
            "pending, confirmed, shipped, delivered, delivery_failed or cancelled at the end of the window.",
        ),
        Column("item_count", INT, "Number of order lines."),
        Column("subtotal", MONEY, "Sum of the line totals, EGP."),
        Column("discount_amount", MONEY, "Order-level discount, EGP."),
        Column("tax", MONEY, "14% VAT on the discounted subtotal, EGP."),
        Column("total_amount", MONEY, "subtotal - discount_amount + tax, EGP."),
        Column("currency", STRING, "EGP."),
        Column("delivery_region", STRING, "The company's delivery region."),
        Column(
            "scheduled_delivery_date", DATE, "The first delivery day of the region at least two days after ordering."
        ),
        Column("delivered_at", TIMESTAMP, "When the goods were delivered (delivered orders only)."),
        Column("cancelled_at", TIMESTAMP, "When the order was cancelled (cancelled orders only)."),
        Column("created_at", TIMESTAMP, "When the order row was created (the order date)."),
        Column("updated_at", TIMESTAMP, "The order's latest event by the end of the window."),
        Column("anomaly", STRING, ANOMALY + " This is the ground truth column of the domain."),
    ),
    after=("products",),
)
def orders(m: ErpModel, lo: int, hi: int) -> Columns:
    g = ids(lo, hi)
    life = m.lifecycle(g)
    items = m.items(g, life.date)
    amounts = m.amounts(g, life.date, items)
    branch = m.order_branch(g, life.company, life.date)
    return {
        "order_id": g + 1,
        "order_number": col.join("SO-", col.digits(g + 1, 8)),
        "company_id": life.company + 1,
        "branch_id": col.ints(dense(m, "branches").keys(np.maximum(branch, 0)), nulls=branch < 0),
        "sales_rep_id": m.company["account_manager"][life.company] + 1,
        "order_date": col.timestamps(life.date),
        "status": pick(ORDER_STATUSES, life.status),
        "item_count": m.item_count(g),
        "subtotal": col.money(amounts["subtotal"]),
        "discount_amount": col.money(amounts["discount"]),
        "tax": col.money(amounts["tax"]),
        "total_amount": col.money(amounts["total"]),
        "currency": pa.array([CURRENCY] * len(g), STRING),
        "delivery_region": pick(data.REGIONS, life.region),
        "scheduled_delivery_date": dates(life.scheduled_day),
        "delivered_at": col.timestamps(life.final_at, nulls=~life.delivered),
        "cancelled_at": col.timestamps(life.cancel_at, nulls=~life.cancelled),
        "created_at": col.timestamps(life.date),
        "updated_at": col.timestamps(last_event(m, life)),
        "anomaly": anomaly_labels(life.anomaly),
    }


@presence("order_items")
def _order_items_present(m: ErpModel, lo: int, hi: int) -> np.ndarray:
    s = ids(lo, hi)
    return s % ITEM_SLOTS < m.item_count(s // ITEM_SLOTS)


@TABLES.table(
    key="order_item_id",
    slots=lambda m: m.orders * ITEM_SLOTS,
    description="Order lines with item-level discounts.",
    columns=(
        Column("order_item_id", INT, "Order line key, 1..n."),
        Column("order_id", INT, "The order.", references="orders"),
        Column("product_id", INT, "The product ordered (existed at the order date).", references="products"),
        Column("quantity", INT, "Units ordered (>= 1)."),
        Column("unit_price", MONEY, "The product's list price, EGP."),
        Column("discount_amount", MONEY, "Item-level discount, EGP."),
        Column("line_total", MONEY, "quantity x unit_price - discount_amount, EGP."),
        Column("created_at", TIMESTAMP, "When the line was entered (the order date)."),
    ),
)
def order_items(m: ErpModel, lo: int, hi: int) -> Columns:
    g = order_range(lo, hi, ITEM_SLOTS)
    date = m.order_date(g)
    items = m.items(g, date)
    slot = items["slot"].ravel()
    keep = items["present"].ravel() & (slot >= lo) & (slot < hi)
    flat = {k: v.ravel()[keep] for k, v in items.items() if k not in ("slot", "present")}
    return {
        "order_item_id": dense(m, "order_items").keys(slot[keep]),
        "order_id": np.repeat(g, ITEM_SLOTS)[keep] + 1,
        "product_id": flat["product"] + 1,
        "quantity": flat["quantity"],
        "unit_price": col.money(flat["unit_cents"]),
        "discount_amount": col.money(flat["discount_cents"]),
        "line_total": col.money(flat["line_cents"]),
        "created_at": col.timestamps(np.repeat(date, ITEM_SLOTS)[keep]),
    }


@presence("discounts")
def discounts_present(m: ErpModel, lo: int, hi: int) -> np.ndarray:
    g = order_range(lo, hi, DISCOUNT_SLOTS)
    present = np.concatenate([(m.discount_mode(g) == DISCOUNT_ORDER)[:, None], m.item_discounted(g)], axis=1)
    first = g[0] * DISCOUNT_SLOTS
    return present.ravel()[lo - first : hi - first]


@TABLES.table(
    key="discount_id",
    slots=lambda m: m.orders * DISCOUNT_SLOTS,
    description="Order-level or item-level discounts, never both on one order's items.",
    columns=(
        Column("discount_id", INT, "Discount key, 1..n."),
        Column("order_id", INT, "The discounted order.", references="orders"),
        Column(
            "order_item_id",
            INT,
            "The discounted line for item-level discounts; null for order-level ones.",
            references="order_items",
        ),
        Column("discount_level", STRING, "order or item (never both on one order)."),
        Column("percent", INT, "Discount percentage."),
        Column("amount", MONEY, "Discount amount, EGP."),
        Column("reason", STRING, "Why the discount was granted."),
        Column("created_at", TIMESTAMP, "When the discount was entered (the order date)."),
    ),
)
def discounts(m: ErpModel, lo: int, hi: int) -> Columns:
    g = order_range(lo, hi, DISCOUNT_SLOTS)
    date = m.order_date(g)
    items = m.items(g, date)
    mode = m.discount_mode(g)
    amounts = m.amounts(g, date, items)
    slot = g[:, None] * DISCOUNT_SLOTS + np.arange(DISCOUNT_SLOTS)[None, :]
    present = np.concatenate([(mode == DISCOUNT_ORDER)[:, None], items["discount_percent"] > 0], axis=1)
    percent = np.concatenate([m.order_discount_percent(g)[:, None], items["discount_percent"]], axis=1)
    amount = np.concatenate([amounts["discount"][:, None], items["discount_cents"]], axis=1)
    item_id = np.concatenate([np.full((len(g), 1), -1), items["slot"]], axis=1)
    flat = slot.ravel()
    keep = present.ravel() & (flat >= lo) & (flat < hi)
    is_order = np.tile(np.arange(DISCOUNT_SLOTS) == 0, len(g))  # slot 0 of each order
    # The reason fits the order: a branch opened in the last 60 days gets its opening discount; others a
    # volume, loyalty or seasonal discount, or (on a single line) clearance.
    company = m.order_company(g, date)
    branch = m.order_branch(g, company, date)
    opened = m.branch_created.ravel()[np.maximum(branch, 0)]
    new_branch = np.repeat((branch >= 0) & (date - opened <= NEW_BRANCH_DAYS * DAY), DISCOUNT_SLOTS)[keep]
    usual = np.array([0, 1, 2, 4])[
        categorical(m.stream("discounts", "reason"), flat[keep], (40, 30, 20, 10))
    ]  # volume, loyalty, seasonal, clearance
    usual = np.where(is_order[keep] & (usual == 4), 0, usual)  # clearance is for an item, not a whole order
    reason = np.where(new_branch, 3, usual)
    return {
        "discount_id": dense(m, "discounts").keys(flat[keep]),
        "order_id": np.repeat(g, DISCOUNT_SLOTS)[keep] + 1,
        "order_item_id": col.ints(
            dense(m, "order_items").keys(np.maximum(item_id.ravel()[keep], 0)), nulls=is_order[keep]
        ),
        "discount_level": pc.if_else(pa.array(is_order[keep]), "order", "item"),
        "percent": percent.ravel()[keep],
        "amount": col.money(amount.ravel()[keep]),
        "reason": pick(data.DISCOUNT_REASONS, reason),
        "created_at": col.timestamps(np.repeat(date, DISCOUNT_SLOTS)[keep]),
    }


@presence("order_status_history")
def _history_present(m: ErpModel, lo: int, hi: int) -> np.ndarray:
    s = ids(lo, hi)
    g, k = s // HISTORY_SLOTS, s % HISTORY_SLOTS
    f = m.facts
    status = f.status[g]
    terminal = np.isin(status, (STATUS_DELIVERED, STATUS_FAILED, STATUS_CANCELLED))
    shipped = (status >= STATUS_SHIPPED) & (status != STATUS_CANCELLED)
    return np.select([k == 0, k == 1, k == 2], [True, f.confirmed[g], shipped], terminal)


@TABLES.table(
    key="order_status_history_id",
    slots=lambda m: m.orders * HISTORY_SLOTS,
    description="Each order's status changes in time order.",
    columns=(
        Column("order_status_history_id", INT, "Status change key, 1..n."),
        Column("order_id", INT, "The order.", references="orders"),
        Column("status", STRING, "The status the order entered."),
        Column("user_id", INT, "Who changed it (sales rep, manager or dispatcher).", references="users"),
        Column("changed_at", TIMESTAMP, "When the status changed (UTC), increasing per order."),
    ),
    created="changed_at",
)
def order_status_history(m: ErpModel, lo: int, hi: int) -> Columns:
    g = order_range(lo, hi, HISTORY_SLOTS)
    life = m.lifecycle(g)
    n = len(g)
    rep = m.company["account_manager"][life.company]
    slot = g[:, None] * HISTORY_SLOTS + np.arange(HISTORY_SLOTS)[None, :]
    terminal = np.isin(life.status, (STATUS_DELIVERED, STATUS_FAILED, STATUS_CANCELLED))
    present = np.stack([np.ones(n, dtype=bool), life.confirmed, life.shipped, terminal], axis=1)
    status = np.stack(
        [np.zeros(n, dtype=np.int64), np.ones(n, dtype=np.int64), np.full(n, STATUS_SHIPPED), life.status], axis=1
    )
    terminal_at = np.where(life.cancelled, life.cancel_at, life.final_at)
    at = np.stack([life.date, life.confirm_at, life.shipped_at, terminal_at], axis=1)
    flat = slot.ravel()
    manager = m.pick_user((ROLE_MANAGER, ROLE_ADMIN), m.stream("order_status_history", "manager"), flat)
    support = m.pick_user((ROLE_SUPPORT,), m.stream("order_status_history", "dispatcher"), flat)
    k = np.tile(np.arange(HISTORY_SLOTS), n)
    by_rep = (k == 0) | ((k == 3) & np.repeat(life.cancelled, HISTORY_SLOTS))
    user = np.where(by_rep, np.repeat(rep, HISTORY_SLOTS), np.where(k == 1, manager, support))
    keep = present.ravel() & (flat >= lo) & (flat < hi)
    return {
        "order_status_history_id": dense(m, "order_status_history").keys(flat[keep]),
        "order_id": np.repeat(g, HISTORY_SLOTS)[keep] + 1,
        "status": pick(ORDER_STATUSES, status.ravel()[keep]),
        "user_id": user[keep] + 1,
        "changed_at": col.timestamps(at.ravel()[keep]),
    }
