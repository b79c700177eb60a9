"""The stock ledger (inventory_movements), derived from the order items, shipments and refunds written."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

import mock_pipeline.domains.erp.finance  # noqa: F401  (declares the tables referenced below)
from mock_pipeline.domains.erp.common import ANOMALY, TABLES, anomaly_labels, presence, product_slots
from mock_pipeline.domains.erp.model import ErpModel
from mock_pipeline.domains.erp.world import HOUR, ITEM_SLOTS, LABEL, NO_ANOMALY, OFFICE_OPEN, office_time
from mock_pipeline.engine import columns as col
from mock_pipeline.engine.columns import INT, STRING, TIMESTAMP, ids, pick
from mock_pipeline.engine.declare import Column
from mock_pipeline.engine.timeline import DAY

MOVEMENT_TYPES = ("restock", "adjustment", "fulfillment", "return")


def product_plan(m: ErpModel, lo: int, hi: int, plan: dict | None = None) -> tuple[np.ndarray, ...]:
    """(slot, kind, product, week, quantity) of the restock (kind 0) and count (kind 1) slots of [lo, hi)."""
    s = ids(lo, hi)
    pw, kind = s // 2, s % 2
    p, w = pw // m.weeks, pw % m.weeks
    plan = plan if plan is not None else m.stock_plan
    return s, kind, p, w, np.where(kind == 0, plan["restock"][p, w], plan["adjust"][p, w])


def product_movements(m: ErpModel, lo: int, hi: int, plan: dict | None = None) -> dict[str, np.ndarray]:
    s, kind, p, w, qty = product_plan(m, lo, hi, plan)
    keep = qty != 0
    s, kind, p, w, qty = s[keep], kind[keep], p[keep], w[keep], qty[keep]
    st = lambda c: m.stream("inventory_movements", c)  # noqa: E731
    week_day = m.start // DAY + 7 * w
    last_day = (m.end - 1) // DAY
    # Deliveries from the roaster arrive early on the first day of the week, before any truck leaves;
    # counts happen mid-week in office hours, when stock holds at least the safety stock.
    restock_at = week_day * DAY + OFFICE_OPEN + st("restock_time").integers(s, 0, 2 * HOUR)
    count_day = np.minimum(week_day + 2 + st("count_day").integers(s, 0, 3), last_day)
    count_at = office_time(st("count_time"), s, count_day)
    first_week = w == (plan if plan is not None else m.stock_plan)["created_week"][p]
    at = np.where(kind == 0, np.where(first_week, m.product["created"][p], restock_at), count_at)
    return {"id": s, "product": p, "type": kind, "qty": qty, "at": at}


@presence("inventory_movements")
def _inventory_present(m: ErpModel, lo: int, hi: int) -> np.ndarray:
    """The restock and count rows come first in the ledger, in (product, week) order: the audit log's
    restock entries compute their keys from the model's plan (the same plan the ledger derives)."""
    return product_plan(m, lo, hi)[4] != 0


# Ledger rows: the kinds of movement and why each happened.
(_RESTOCK, _COUNT, _FULFIL, _DEPOT_RETURN, _WRONG_ITEM_RETURN, _QUALITY_RETURN, _BACKORDER_SHORT,
 _BACKORDER_RECEIPT) = range(8)  # fmt: skip
_LEDGER_TYPE = np.array([0, 1, 2, 3, 3, 3, 1, 0])  # MOVEMENT_TYPES index of each kind
_LEDGER_REASONS = pa.array(
    ["weekly replenishment", "cycle count correction", "order shipped", "failed delivery returned to depot",
     "customer return: wrong item sent back", "customer return: quality complaint",
     "picking found no sellable stock: count corrected to zero", "backorder received from the roaster"], STRING
)  # fmt: skip
_SHIPPED_ITEMS = """
SELECT i.order_item_id, i.product_id, i.quantity, CAST(epoch(s.shipped_at) AS BIGINT) AS shipped_at,
       CAST(epoch(o.order_date) AS BIGINT) AS ordered_at,
       coalesce(o.anomaly = 'stockout', false)
           AND i.order_item_id = min(i.order_item_id) OVER (PARTITION BY i.order_id) AS short,
       coalesce(CAST(epoch(coalesce(s.returned_to_depot_at, r.goods_received_at)) AS BIGINT), -1) AS back_at,
       CASE WHEN s.returned_to_depot_at IS NOT NULL THEN {depot} WHEN r.reason = 'wrong item' THEN {wrong}
            ELSE {quality} END AS back_kind
FROM order_items i JOIN shipments s USING (order_id) JOIN orders o USING (order_id)
LEFT JOIN refunds r ON r.order_id = i.order_id AND r.goods_returned
ORDER BY i.order_item_id
"""


def _read_shipped_items(dataset: Path) -> dict[str, np.ndarray]:
    con = duckdb.connect(config={"threads": 2})
    try:
        for name in ("order_items", "shipments", "orders", "refunds"):
            files = str(dataset / name / "*.parquet").replace("'", "''")
            con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{files}')")
        sql = _SHIPPED_ITEMS.format(depot=_DEPOT_RETURN, wrong=_WRONG_ITEM_RETURN, quality=_QUALITY_RETURN)
        t = con.sql(sql).to_arrow_table()
    finally:
        con.close()
    return {c: t.column(c).to_numpy(zero_copy_only=False) for c in t.column_names}


def _grouped_cumsum(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Running sums that restart where `starts` is True (rows sorted by group)."""
    if not len(values):
        return values.copy()
    first = np.maximum.accumulate(np.where(starts, np.arange(len(values)), 0))
    total = np.cumsum(values)
    return total - (total - values)[first]


def ledger(m: ErpModel, dataset: Path) -> dict[str, np.ndarray]:
    """The stock ledger from what is written: fulfilments of the shipped order items, returns of goods back
    from failed deliveries and approved refunds, the weekly restocks and counts planned from those, and at a
    stockout order the count that finds the shelf empty (stock at zero) and the backorder receipt before it ships.
    Rows: the plan's restocks and counts in (product, week) order, then the order movements in time order."""
    items = _read_shipped_items(dataset)
    product = items["product_id"] - 1
    qty = items["quantity"]
    shipped_at = items["shipped_at"]
    back = items["back_at"] >= 0
    back_at = np.where(back, items["back_at"], 0)
    P, W = m.products, m.weeks
    demand = np.zeros((P, W), dtype=np.int64)
    returned = np.zeros((P, W), dtype=np.int64)
    np.add.at(demand, (product, m.week_of(shipped_at)), qty)
    np.add.at(returned, (product[back], m.week_of(back_at[back])), qty[back])
    plan = m.plan_stock(demand, returned)
    fixed = product_movements(m, 0, product_slots(m), plan)
    # Order movements: each shipped item's fulfilment, then its return if its goods came back.
    n = len(product)
    item = items["order_item_id"]
    o_product = np.concatenate([product, product[back]])
    o_kind = np.concatenate([np.full(n, _FULFIL), items["back_kind"][back].astype(np.int64)])
    o_qty = np.concatenate([-qty, qty[back]])
    o_at = np.concatenate([shipped_at, back_at[back]])
    o_item = np.concatenate([item, item[back]])
    o_short = np.concatenate([items["short"].astype(bool), np.zeros(int(back.sum()), dtype=bool)])
    # One time-ordered sequence per product (fixed rows first at equal times, as their keys are lower).
    f_n = len(fixed["product"])
    all_product = np.concatenate([fixed["product"], o_product])
    all_at = np.concatenate([fixed["at"], o_at])
    all_qty = np.concatenate([fixed["qty"], o_qty])
    part = np.concatenate([np.zeros(f_n, dtype=np.int64), np.ones(len(o_product), dtype=np.int64)])
    seq = np.concatenate([np.arange(f_n), np.arange(len(o_product))])
    order = np.lexsort((seq, part, all_at, all_product))
    starts = np.r_[True, all_product[order][1:] != all_product[order][:-1]]
    level_after = _grouped_cumsum(all_qty[order], starts)
    prev_at = np.where(starts, all_at[order], np.r_[all_at[order][:1], all_at[order][:-1]])
    # Stockouts: the level before the short item's fulfilment is counted away to zero, then received back.
    at_pos = np.flatnonzero((part[order] == 1) & np.concatenate([np.zeros(f_n, bool), o_short])[order])
    short_idx = seq[order][at_pos]  # index into the order movements
    level_before = level_after[at_pos] - all_qty[order][at_pos]
    # Between the product's previous movement (or the order, if later) and the shipment: nothing else moves it.
    t = all_at[order][at_pos]
    t0 = np.maximum(prev_at[at_pos], items["ordered_at"][seq[order][at_pos]])
    u = m.stream("inventory_movements", "backorder").uniform(o_item[short_idx])
    # In the working hours of the shipping day when nothing moved the product since its opening.
    t0 = np.where(t0 < (t // DAY) * DAY + OFFICE_OPEN, np.minimum((t // DAY) * DAY + OFFICE_OPEN, t), t0)
    drain_at = t0 + np.floor((t - t0) * (0.2 + 0.3 * u)).astype(np.int64)
    receipt_at = drain_at + np.floor((t - drain_at) * (0.3 + 0.6 * u)).astype(np.int64)
    k = len(short_idx)
    x_product = np.concatenate([o_product, o_product[short_idx], o_product[short_idx]])
    x_kind = np.concatenate([o_kind, np.full(k, _BACKORDER_SHORT), np.full(k, _BACKORDER_RECEIPT)])
    x_qty = np.concatenate([o_qty, -level_before, level_before])
    x_at = np.concatenate([o_at, drain_at, receipt_at])
    x_item = np.concatenate([o_item, o_item[short_idx], o_item[short_idx]])
    # Within a product, the drain and the receipt sit between the previous movement and the short fulfilment.
    position = np.empty(len(order), dtype=np.float64)
    position[order] = np.arange(len(order))
    o_position = position[f_n:]
    x_position = np.concatenate([o_position, o_position[short_idx] - 0.66, o_position[short_idx] - 0.33])
    x_order = np.lexsort((x_position, x_at))
    kind = np.concatenate([fixed["type"], x_kind[x_order]])
    product_all = np.concatenate([fixed["product"], x_product[x_order]])
    qty_all = np.concatenate([fixed["qty"], x_qty[x_order]])
    at_all = np.concatenate([fixed["at"], x_at[x_order]])
    item_all = np.concatenate([np.zeros(f_n, dtype=np.int64), x_item[x_order]])
    # Resulting level per product in (time, key) order, the order a reader replays the ledger in.
    row = np.arange(len(kind))
    by = np.lexsort((row, at_all, product_all))
    first = np.r_[True, product_all[by][1:] != product_all[by][:-1]]
    level = np.empty(len(kind), dtype=np.int64)
    level[by] = _grouped_cumsum(qty_all[by], first)
    return {"kind": kind, "product": product_all, "qty": qty_all, "at": at_all, "item": item_all, "level": level}


@TABLES.derived(
    key="inventory_movement_id",
    slots=lambda m: product_slots(m) + m.orders * ITEM_SLOTS * 2,
    description=(
        "Stock ledger derived from what is written: fulfilments of shipped order items, returns from failed"
        " deliveries and refunds, the weekly restocks and counts they call for, and stockouts at zero stock."
    ),
    columns=(
        Column("inventory_movement_id", INT, "Stock ledger entry key, 1..n."),
        Column("product_id", INT, "The product moved.", references="products"),
        Column(
            "movement_type",
            STRING,
            "restock, adjustment (count correction), fulfillment (shipped order item) or return.",
        ),
        Column("quantity_change", INT, "Units added (+) or removed (-)."),
        Column("resulting_level", INT, "Stock of the product after this movement (the running sum in time order)."),
        Column(
            "order_item_id",
            INT,
            "The order line a fulfilment ships, a return brings back or a stockout concerns; null"
            " for weekly restocks and counts.",
            references="order_items",
        ),
        Column("reason", STRING, "Why the stock moved."),
        Column("moved_at", TIMESTAMP, "When the stock moved (UTC)."),
        Column(
            "anomaly",
            STRING,
            ANOMALY + " Here: stockout on the count that finds the shelf empty (resulting level 0) before a"
            " backordered item ships.",
        ),
    ),
    created="moved_at",
    after=("orders", "shipments", "refunds"),
)
def inventory_movements(m: ErpModel, dataset: Path, chunk_size: int) -> Iterator[pa.Table]:
    book = ledger(m, dataset)
    n = len(book["kind"])
    for lo in range(0, n, chunk_size):
        c = {k: v[lo : lo + chunk_size] for k, v in book.items()}
        kind = c["kind"]
        labelled = kind == _BACKORDER_SHORT
        yield col.table(
            {
                "inventory_movement_id": np.arange(lo, lo + len(kind), dtype=np.int64) + 1,
                "product_id": c["product"] + 1,
                "movement_type": pick(MOVEMENT_TYPES, _LEDGER_TYPE[kind]),
                "quantity_change": c["qty"],
                "resulting_level": c["level"],
                "order_item_id": col.ints(c["item"], nulls=c["item"] == 0),
                "reason": col.take(_LEDGER_REASONS, kind),
                "moved_at": col.timestamps(c["at"]),
                "anomaly": anomaly_labels(np.where(labelled, LABEL["stockout"], NO_ANOMALY)),
            },
            inventory_movements.schema,
        )
