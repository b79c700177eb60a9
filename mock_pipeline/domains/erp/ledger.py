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
 _BACKORDER_RECEIPT, _COUNT_TO_ZERO) = range(9)  # fmt: skip
_LEDGER_TYPE = np.array([0, 1, 2, 3, 3, 3, 1, 0, 1])  # MOVEMENT_TYPES index of each kind
# The reasons of the rows a stockout adds (they reference the stockout order's item).
BACKORDER_REASONS = ("order backordered: no stock on hand", "backorder received from the roaster",
                     "count before the backorder found the shelf empty")  # fmt: skip
_LEDGER_REASONS = pa.array(
    ["weekly replenishment", "cycle count correction", "order shipped", "failed delivery returned to depot",
     "customer return: wrong item sent back", "customer return: quality complaint", *BACKORDER_REASONS], STRING
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
    stockout order the backorder at the empty shelf (the replenishments before it arrived short, so deliveries
    consumed the stock) and the backorder receipt before it ships.
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
    s_order = part[order] == 1
    short = s_order & np.concatenate([np.zeros(f_n, bool), o_short])[order]
    placed = np.concatenate([items["ordered_at"], np.zeros(len(o_product) - n, dtype=np.int64)])
    fixed_qty, backorders = _stockouts(
        m, fixed, all_at[order], seq[order], s_order, starts, level_after, short, placed, o_item
    )
    j, k, drain, receipt, marker_at, receipt_at, count_at = backorders
    short_idx = seq[order][j]  # index into the order movements
    n_short = len(j)
    # Per stockout: a count of what the cuts could not reach (rare; zero rows dropped), the backorder at zero
    # stock, then the receipt of every missing unit; all between the product's movements k and k + 1.
    counted = drain > 0
    x_product = np.concatenate([o_product, o_product[short_idx][counted], o_product[short_idx], o_product[short_idx]])
    x_kind = np.concatenate(
        [o_kind, np.full(int(counted.sum()), _COUNT_TO_ZERO), np.full(n_short, _BACKORDER_SHORT),
         np.full(n_short, _BACKORDER_RECEIPT)]
    )  # fmt: skip
    x_qty = np.concatenate([o_qty, -drain[counted], np.zeros(n_short, dtype=np.int64), receipt])
    x_at = np.concatenate([o_at, count_at[counted], marker_at, receipt_at])
    x_item = np.concatenate([o_item, o_item[short_idx][counted], o_item[short_idx], o_item[short_idx]])
    position = np.empty(len(order), dtype=np.float64)
    position[order] = np.arange(len(order))
    x_position = np.concatenate([position[f_n:], k[counted] + 0.25, k + 0.5, k + 0.75])
    # A backorder at a shelf that was already empty (an earlier backorder of the product) brings no receipt.
    kept = np.r_[np.ones(len(x_qty) - n_short, dtype=bool), receipt > 0]
    x_product, x_kind, x_qty, x_at, x_item, x_position = (
        x[kept] for x in (x_product, x_kind, x_qty, x_at, x_item, x_position)
    )
    x_order = np.lexsort((x_position, x_at))
    kind = np.concatenate([fixed["type"], x_kind[x_order]])
    product_all = np.concatenate([fixed["product"], x_product[x_order]])
    qty_all = np.concatenate([fixed_qty, x_qty[x_order]])
    at_all = np.concatenate([fixed["at"], x_at[x_order]])
    item_all = np.concatenate([np.zeros(f_n, dtype=np.int64), x_item[x_order]])
    # Resulting level per product in (time, key) order, the order a reader replays the ledger in.
    row = np.arange(len(kind))
    by = np.lexsort((row, at_all, product_all))
    first = np.r_[True, product_all[by][1:] != product_all[by][:-1]]
    level = np.empty(len(kind), dtype=np.int64)
    level[by] = _grouped_cumsum(qty_all[by], first)
    return {"kind": kind, "product": product_all, "qty": qty_all, "at": at_all, "item": item_all, "level": level}


def _stockouts(
    m: ErpModel,
    fixed: dict[str, np.ndarray],
    s_at: np.ndarray,
    s_seq: np.ndarray,
    s_order: np.ndarray,
    starts: np.ndarray,
    level: np.ndarray,
    short: np.ndarray,
    placed: np.ndarray,
    item: np.ndarray,
) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    """Where each stockout order's product really runs out. The replenishments before the order was placed
    arrived short (each keeps at least one unit), so the deliveries in between consume the stock down to
    zero by the order's placing; the order is backordered there, and the missing units arrive from the roaster
    (the backorder receipt) before the product's next movement, so the ledger after it is unchanged.

    The ledger's movements are given in (product, time) order: time, index into fixed or order rows, whether
    an order row, product starts, running level before any cut, the short fulfilments and, per order row, when
    its order was placed. Returns the fixed rows' quantities after the cuts and, per stockout, (position of its
    short fulfilment, position k of the last movement before the order, units still to count away, units
    received, backorder time, receipt time). Stockouts are rare: the loop runs over them, each touching a short
    stretch of one product's ledger."""
    fixed_qty = fixed["qty"].copy()
    level = level.copy()
    restock = ~s_order & (fixed["type"][np.where(s_order, 0, s_seq)] == 0)
    group_start = np.maximum.accumulate(np.where(starts, np.arange(len(starts)), 0))
    j = np.flatnonzero(short)
    k = np.empty(len(j), dtype=np.int64)
    drain = np.zeros(len(j), dtype=np.int64)
    receipt = np.zeros(len(j), dtype=np.int64)
    # k: the product's last movement before the order was placed.
    for e, pos in enumerate(j):
        lo = int(group_start[pos])
        k[e] = max(lo, lo + int(np.searchsorted(s_at[lo:pos], placed[s_seq[pos]], side="right")) - 1)
    done: list[int] = []
    # In the order the orders were placed, so the first backorder at an empty shelf is the one that found it so.
    for e in np.lexsort((placed[s_seq[j]], k)):
        lo, last = int(group_start[j[e]]), int(k[e])
        target = need = int(level[last])
        # Sources to cut, latest first: the weekly restocks, and earlier backorder receipts of the product (they
        # sit just after their k, so they feed the rows from k + 1 on).
        earlier = [(int(k[x]) + 1, -1 - x) for x in done if lo <= k[x] < last]
        sources = sorted([(int(r), int(r)) for r in np.flatnonzero(restock[lo : last + 1]) + lo] + earlier)
        for start, source in reversed(sources):
            floor = int(level[start : last + 1].min())
            if need == 0 or floor == 0:
                break
            left = int(fixed_qty[s_seq[source]]) if source >= 0 else int(receipt[-1 - source])
            cut = min(left - 1, need, floor)
            if cut > 0:
                if source >= 0:
                    fixed_qty[s_seq[source]] -= cut
                else:
                    receipt[-1 - source] -= cut
                level[start : last + 1] -= cut
                need -= cut
        drain[e], receipt[e] = need, target
        done.append(int(e))
        level[last] = 0  # the shelf is empty from here to the receipt: later stockouts cannot cut through it
    # The backorder at the order's placing (or the product's last movement before it, if later) and the receipt
    # before the product's next movement (at the latest the short fulfilment itself).
    when = np.maximum(s_at[k], placed[s_seq[j]])
    until = np.maximum(s_at[k + 1] - 1, when)
    u = m.stream("inventory_movements", "backorder").uniform(item[s_seq[j]])
    marker_at = when + np.floor((until - when) * 0.2 * u).astype(np.int64)
    # Stockouts backordered at the same empty shelf share one receipt (the first one's), after all of them.
    group = np.unique(k, return_inverse=True)[1]
    groups = int(group.max()) + 1 if len(group) else 0
    latest = np.zeros(groups, dtype=np.int64)
    np.maximum.at(latest, group, marker_at)
    latest = latest[group]
    receipt_at = latest + np.floor((until - latest) * (0.3 + 0.6 * u)).astype(np.int64)
    # ... and one count (by the first of them, placed first) before all of them.
    earliest = np.full(groups, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(earliest, group, marker_at)
    count_at = earliest[group]
    return fixed_qty, (j, k, drain, receipt, marker_at, receipt_at, count_at)


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
            ANOMALY + " Here: stockout on the backorder of a stockout order's item, placed when deliveries had"
            " emptied the shelf (no units move; resulting level 0), before the backorder receipt and the item ships.",
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
