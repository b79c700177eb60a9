"""Orders and their lines (priced as in effect on the order date)."""

from __future__ import annotations

import json
from collections.abc import Callable

import numpy as np
import pyarrow as pa

from mock_pipeline.domains.commerce.common import TABLES, TENANT, anomaly_labels, numbered, presence
from mock_pipeline.domains.commerce.customers import customer_email, customer_name, promotion_code
from mock_pipeline.domains.commerce.model import (
    CURRENCIES,
    ITEM_SLOTS,
    ORDER_STATUSES,
    STATUS_CANCELLED,
    STATUS_FAILED,
    CommerceModel,
)
from mock_pipeline.engine import columns as col
from mock_pipeline.engine.columns import INT, JSON, MONEY, STRING, TIMESTAMP, ids, pick
from mock_pipeline.engine.declare import Column, Columns
from mock_pipeline.engine.distributions import categorical, unique_codes

ORDER_SOURCES = ("web", "mobile_app", "marketplace", "api", "phone")
CAMPAIGNS = ("summer_sale", "black_friday", "newsletter", "retargeting", "influencer", "search_ads")


def order_campaign(m: CommerceModel, g: np.ndarray, date: np.ndarray) -> np.ndarray:
    """A campaign running at the order date: seasonal ones only in season (summer sale June-August,
    Black Friday / Cyber Monday 20-30 November), evergreen ones all year."""
    month, day = m.month_day(date)
    evergreen = 2 + m.stream("orders", "campaign").integers(g, 0, len(CAMPAIGNS) - 2)
    u = m.stream("orders", "seasonal").uniform(g)
    black_friday = (month == 11) & (day >= 20) & (u < 0.6)
    summer = (month >= 6) & (month <= 8) & (u < 0.35)
    return np.select([black_friday, summer], [1, 0], evergreen)


def order_amounts(m: CommerceModel, g: np.ndarray, date: np.ndarray) -> dict[str, np.ndarray]:
    """Subtotal (sum of the item lines), discount, tax and total in cents."""
    items = m.items(g, date)
    lines = items["quantity"] * items["unit_cents"]
    subtotal = np.bincount(items["row"], weights=lines, minlength=len(g)).astype(np.int64)
    promo = m.uses_promotion(g) & (date < m.promotion_tiles[1][-1])  # a code is used while it is valid
    percent = np.where(promo, m.promotion_percent(m.promotion_at(g, date)), 0)
    discount = subtotal * percent // 100
    tax = (subtotal - discount) * m.tenant_tax_bp(g // m.orders) // 10_000
    return {"subtotal": subtotal, "discount": discount, "tax": tax, "total": subtotal - discount + tax, "promo": promo}


def _tenant_rows(tenant: int, per_tenant: int) -> np.ndarray:
    return tenant * per_tenant + np.arange(per_tenant, dtype=np.int64)


def _per_tenant_pool(
    m: CommerceModel, kind: str, tenant: np.ndarray, local: np.ndarray, size: int, build: Callable[[int], pa.Array]
) -> pa.Array:
    """pool_of_tenant[local] for each row, where each tenant's pool of `size` strings is built once
    per process (parents' attributes, e.g. customers' names for order snapshots)."""
    if len(tenant) and tenant.min() == tenant.max():  # the usual chunk: one tenant
        t = int(tenant[0])
        return m.tenant_block(kind, t, lambda: build(t)).take(pa.array(local))
    tenants = np.unique(tenant)
    blocks = [m.tenant_block(kind, int(t), lambda t=t: build(int(t))) for t in tenants]
    pool = blocks[0] if len(blocks) == 1 else pa.concat_arrays(blocks)
    return pool.take(pa.array(np.searchsorted(tenants, tenant) * size + local))


def _payload_pool(m: CommerceModel, tenant: int) -> pa.Array:
    """Every raw_payload a tenant's orders can carry: source x campaign x discount code."""
    codes = promotion_code(m, _tenant_rows(tenant, m.promotions)).to_pylist()
    return pa.array(
        [
            json.dumps({"source": s, "campaign": c, "discount_code": d}, separators=(",", ":"))
            for s in ORDER_SOURCES
            for c in (*CAMPAIGNS, None)
            for d in (*codes, None)
        ],
        STRING,
    )


@TABLES.table(
    key="order_id",
    slots=lambda m: m.tenants * m.orders,
    description="Orders laid out by the time-series engine, with labelled anomalies.",
    columns=(
        Column("order_id", INT, "Key of the order."),
        TENANT,
        Column("external_order_id", STRING, "EXT + 8 digits, unique per shop: the id the storefront shows."),
        Column("customer_id", INT, "The customer who ordered.", references="customers"),
        Column("customer_name_snapshot", STRING, "The customer's name when ordering (equals customers.name)."),
        Column("customer_email_snapshot", STRING, "The customer's e-mail when ordering (equals customers.email)."),
        Column("item_count", INT, "Number of order lines."),
        Column("subtotal", MONEY, "Sum of the order lines' totals."),
        Column("discount_amount", MONEY, "Discount of the promotion code used, if any."),
        Column("tax", MONEY, "Sales tax on the discounted subtotal."),
        Column("total_amount", MONEY, "subtotal - discount_amount + tax: what the customer pays."),
        Column("currency", STRING, "The shop's currency."),
        Column(
            "order_status",
            STRING,
            "pending, processing (paid), shipped, delivered, delivery_failed (refunded) or cancelled, as of the window end;"
            " a failed delivery sent again is shipped, then delivered.",
        ),
        Column("order_date", TIMESTAMP, "When the order was placed."),
        Column(
            "raw_payload",
            JSON,
            "JSON from the storefront: source, campaign (only while it runs) and discount_code (an active promotion).",
        ),
        Column("created_at", TIMESTAMP, "When the order row was created (the order date)."),
        Column("updated_at", TIMESTAMP, "Last status change."),
        Column(
            "anomaly",
            STRING,
            "Ground truth: the anomaly decided for this order (payment_delay, delivery_delay, delivery_failure, cancellation, stockout) or null. Every related row follows from it.",
        ),
    ),
    after=("products", "price_history", "promotions"),
)
def orders(m: CommerceModel, lo: int, hi: int) -> Columns:
    g = ids(lo, hi)
    tenant = g // m.orders
    life = m.lifecycle(g)
    date = life.order_date
    customer = m.order_customer(g, date)
    amounts = order_amounts(m, g, date)
    source = categorical(m.stream("orders", "source"), g, (45, 35, 10, 6, 4))
    has_campaign = m.stream("orders", "has_campaign").bernoulli(g, 0.3)
    campaign = np.full(len(g), len(CAMPAIGNS))  # len(CAMPAIGNS): no campaign
    campaign[has_campaign] = order_campaign(m, g[has_campaign], date[has_campaign])
    code = np.where(amounts["promo"], m.promotion_at(g, date) % m.promotions, m.promotions)  # m.promotions: none
    combination = (source * (len(CAMPAIGNS) + 1) + campaign) * (m.promotions + 1) + code
    combinations = len(ORDER_SOURCES) * (len(CAMPAIGNS) + 1) * (m.promotions + 1)
    payload = _per_tenant_pool(m, "payloads", tenant, combination, combinations, lambda t: _payload_pool(m, t))
    name_pool, email_pool = (lambda t: customer_name(m, _tenant_rows(t, m.customers)),
                             lambda t: customer_email(m, _tenant_rows(t, m.customers)))  # fmt: skip
    local_customer = customer - tenant * m.customers
    updated = np.select(
        [
            life.status == STATUS_CANCELLED,
            life.delivered,
            life.status == STATUS_FAILED,
            life.reshipped,
            life.shipped,
            life.paid,
        ],
        [life.cancelled_at, life.delivered_at, life.failed_at, life.reshipped_at, life.shipped_at, life.paid_at],
        date,
    )
    return {
        "order_id": g + 1,
        "tenant_id": tenant + 1,
        "external_order_id": col.digits(unique_codes(m.stream("orders", "external"), g, 10**8), 8, prefix="EXT"),
        "customer_id": customer + 1,
        "customer_name_snapshot": _per_tenant_pool(m, "names", tenant, local_customer, m.customers, name_pool),
        "customer_email_snapshot": _per_tenant_pool(m, "emails", tenant, local_customer, m.customers, email_pool),
        "item_count": m.item_count(g),
        "subtotal": col.money(amounts["subtotal"]),
        "discount_amount": col.money(amounts["discount"]),
        "tax": col.money(amounts["tax"]),
        "total_amount": col.money(amounts["total"]),
        "currency": pick(CURRENCIES, m.tenant_currency(tenant)),
        "order_status": pick(ORDER_STATUSES, life.status),
        "order_date": col.timestamps(date),
        "raw_payload": payload,
        "created_at": col.timestamps(date),
        "updated_at": col.timestamps(updated),
        "anomaly": anomaly_labels(life.anomaly),
    }


@presence("order_items")
def _item_present(m: CommerceModel, lo: int, hi: int) -> np.ndarray:
    s = ids(lo, hi)
    return s % ITEM_SLOTS < m.item_count(s // ITEM_SLOTS)


@TABLES.table(
    key="order_item_id",
    slots=lambda m: m.tenants * m.orders * ITEM_SLOTS,
    description="Order lines at the price in effect on the order date.",
    columns=(
        Column("order_item_id", INT, "Key of the order line (1..n in order)."),
        Column("order_id", INT, "The order.", references="orders"),
        TENANT,
        Column("product_id", INT, "The product bought (it existed at the order date).", references="products"),
        Column("quantity", INT, "Units bought (>= 1)."),
        Column("unit_price", MONEY, "The product's price in effect at the order date."),
        Column("line_total", MONEY, "quantity x unit_price."),
        Column("created_at", TIMESTAMP, "When the line was created (the order date)."),
    ),
    after=("price_history",),
)
def order_items(m: CommerceModel, lo: int, hi: int) -> Columns:
    first, last = lo // ITEM_SLOTS, (hi - 1) // ITEM_SLOTS + 1
    g = ids(first, last)
    date = m.order_date(g)
    items = m.items(g, date)
    slot = items["slot"]
    keep = (slot >= lo) & (slot < hi)
    order = g[items["row"]][keep]
    quantity = items["quantity"][keep]
    unit = items["unit_cents"][keep]
    return {
        "order_item_id": numbered(m, "order_items", lo, int(keep.sum())),
        "order_id": order + 1,
        "tenant_id": order // m.orders + 1,
        "product_id": items["product"][keep] + 1,
        "quantity": quantity,
        "unit_price": col.money(unit),
        "line_total": col.money(quantity * unit),
        "created_at": col.timestamps(date[items["row"]][keep]),
    }
