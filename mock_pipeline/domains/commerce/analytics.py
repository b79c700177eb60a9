"""Per-customer and per-product analytics, derived from the fact tables already written."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

import mock_pipeline.domains.commerce.ledger  # noqa: F401  (declares the tables referenced below)
from mock_pipeline.domains.commerce.common import TABLES, TENANT, chunks
from mock_pipeline.domains.commerce.model import CommerceModel
from mock_pipeline.engine import columns as col
from mock_pipeline.engine.columns import INT, MONEY, TIMESTAMP
from mock_pipeline.engine.declare import Column
from mock_pipeline.engine.table import read_batches

_PAID = ("processing", "shipped", "delivered", "delivery_failed")


def cents(values: pa.Array) -> np.ndarray:
    """Decimal(14, 2) to integer cents, exactly."""
    raw = np.frombuffer(values.buffers()[1], dtype=np.int64)
    return raw[2 * values.offset : 2 * (values.offset + len(values)) : 2]


@TABLES.derived(
    key="customer_id",
    slots=lambda m: m.tenants * m.customers,
    description="Per-customer purchase totals derived from the orders.",
    columns=(
        Column("customer_id", INT, "The customer (every customer has a row).", references="customers"),
        TENANT,
        Column("order_count", INT, "Paid orders."),
        Column("total_spent", MONEY, "Sum of the paid orders' totals."),
        Column("average_order_value", MONEY, "total_spent / order_count; null without orders."),
        Column("first_order_at", TIMESTAMP, "First paid order's date; null without orders."),
        Column("last_order_at", TIMESTAMP, "Last paid order's date; null without orders."),
    ),
    created="first_order_at",
    after=("orders", "payments"),
)
def customer_analytics(m: CommerceModel, dataset: Path, chunk_size: int) -> Iterator[pa.Table]:
    """Paid orders per customer: count, money spent, first and last order."""
    n = m.tenants * m.customers
    count = np.zeros(n, dtype=np.int64)
    spent = np.zeros(n, dtype=np.float64)
    first = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    last = np.full(n, np.iinfo(np.int64).min, dtype=np.int64)
    for batch in read_batches(dataset / "orders", ["customer_id", "total_amount", "order_status", "order_date"]):
        paid = pc.is_in(batch["order_status"], pa.array(_PAID)).to_numpy(zero_copy_only=False)
        customer = batch["customer_id"].to_numpy()[paid] - 1
        count += np.bincount(customer, minlength=n)
        spent += np.bincount(customer, weights=cents(batch["total_amount"])[paid].astype(np.float64), minlength=n)
        date = col.epoch_seconds(batch["order_date"])[paid]
        np.minimum.at(first, customer, date)
        np.maximum.at(last, customer, date)
    spent_cents = np.rint(spent).astype(np.int64)
    none = count == 0
    for lo, hi in chunks(n, chunk_size):
        c = slice(lo, hi)
        ids = np.arange(lo, hi, dtype=np.int64)
        yield col.table(
            {
                "customer_id": ids + 1,
                "tenant_id": ids // m.customers + 1,
                "order_count": count[c],
                "total_spent": col.money(spent_cents[c]),
                "average_order_value": col.money(spent_cents[c] // np.maximum(count[c], 1), nulls=none[c]),
                "first_order_at": col.timestamps(np.where(none[c], 0, first[c]), nulls=none[c]),
                "last_order_at": col.timestamps(np.where(none[c], 0, last[c]), nulls=none[c]),
            },
            customer_analytics.schema,
        )


@TABLES.derived(
    key="product_id",
    slots=lambda m: m.tenants * m.products,
    description="Per-product sales, ratings and returns derived from the facts.",
    columns=(
        Column("product_id", INT, "The product (every product has a row).", references="products"),
        TENANT,
        Column("order_count", INT, "Paid orders with the product (a product is on one line of an order at most)."),
        Column("units_sold", INT, "Units in paid orders."),
        Column("revenue", MONEY, "Line totals of paid orders."),
        Column("review_count", INT, "Reviews."),
        Column("average_rating", pa.float64(), "Mean rating; null without reviews."),
        Column("returned_units", INT, "Units returned."),
        Column("return_rate", pa.float64(), "returned_units / units_sold; null when nothing sold."),
    ),
    created=None,
    after=("orders", "order_items", "reviews", "returns"),
)
def product_analytics(m: CommerceModel, dataset: Path, chunk_size: int) -> Iterator[pa.Table]:
    """Sales of paid orders, reviews and returns per product."""
    n = m.tenants * m.products
    paid_order = np.zeros(m.tenants * m.orders, dtype=bool)
    for batch in read_batches(dataset / "orders", ["order_id", "order_status"]):
        paid_order[batch["order_id"].to_numpy() - 1] = pc.is_in(batch["order_status"], pa.array(_PAID)).to_numpy(
            zero_copy_only=False
        )
    lines = np.zeros(n, dtype=np.int64)
    units = np.zeros(n, dtype=np.int64)
    revenue = np.zeros(n, dtype=np.float64)
    for batch in read_batches(dataset / "order_items", ["order_id", "product_id", "quantity", "line_total"]):
        paid = paid_order[batch["order_id"].to_numpy() - 1]
        product = batch["product_id"].to_numpy()[paid] - 1
        lines += np.bincount(product, minlength=n)
        units += np.bincount(product, weights=batch["quantity"].to_numpy()[paid], minlength=n).astype(np.int64)
        revenue += np.bincount(product, weights=cents(batch["line_total"])[paid].astype(np.float64), minlength=n)
    reviews_n = np.zeros(n, dtype=np.int64)
    stars = np.zeros(n, dtype=np.int64)
    for batch in read_batches(dataset / "reviews", ["product_id", "rating"]):
        product = batch["product_id"].to_numpy() - 1
        reviews_n += np.bincount(product, minlength=n)
        stars += np.bincount(product, weights=batch["rating"].to_numpy(), minlength=n).astype(np.int64)
    returned = np.zeros(n, dtype=np.int64)
    for batch in read_batches(dataset / "returns", ["product_id", "quantity"]):
        returned += np.bincount(
            batch["product_id"].to_numpy() - 1, weights=batch["quantity"].to_numpy(), minlength=n
        ).astype(np.int64)
    revenue_cents = np.rint(revenue).astype(np.int64)
    for lo, hi in chunks(n, chunk_size):
        c = slice(lo, hi)
        ids = np.arange(lo, hi, dtype=np.int64)
        rated = reviews_n[c] > 0
        sold = units[c] > 0
        yield col.table(
            {
                "product_id": ids + 1,
                "tenant_id": ids // m.products + 1,
                "order_count": lines[c],
                "units_sold": units[c],
                "revenue": col.money(revenue_cents[c]),
                "review_count": reviews_n[c],
                "average_rating": pa.array(np.round(stars[c] / np.maximum(reviews_n[c], 1), 4), mask=~rated),
                "returned_units": returned[c],
                "return_rate": pa.array(np.round(returned[c] / np.maximum(units[c], 1), 4), mask=~sold),
            },
            product_analytics.schema,
        )
