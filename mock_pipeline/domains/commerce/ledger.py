"""The stock ledger (stock_events) and inventory, derived from the sales and returns already written."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

import mock_pipeline.domains.commerce.engagement  # noqa: F401  (declares the tables referenced below)
from mock_pipeline.domains.commerce.common import TABLES, TENANT, anomaly_labels, chunks
from mock_pipeline.domains.commerce.model import NO_ANOMALY, CommerceModel
from mock_pipeline.engine import columns as col
from mock_pipeline.engine.columns import INT, JSON, STRING, TIMESTAMP, ids, pick
from mock_pipeline.engine.declare import Column
from mock_pipeline.engine.table import read_batches
from mock_pipeline.engine.timeline import DAY
from mock_pipeline.scenarios.model import ANOMALY_LABELS

STOCK_SOURCES = ("receipt", "sale", "return", "adjustment")
# Why each kind of event happened (index = _REASON_* below).
_STOCK_REASONS = pa.array([
    "Opening stock", "Replenishment from vendor", "Backorder replenishment", "Customer order",
    "Customer return restocked", "Cycle count correction", "Cycle count: units missing",
])  # fmt: skip
_OPENING, _REPLENISH, _BACKORDER, _SALE, _RETURN, _COUNT, _MISSING = range(7)
_REASON_SOURCE = np.array([0, 0, 0, 1, 2, 3, 3])
_STOCKOUT = ANOMALY_LABELS.index("stockout")
ADJUSTMENT_SLOTS = 2
TIME_BITS = 36  # seconds since the window start, for grouped running maxima
BLOCK_EVENTS = 1 << 19  # base events per block of products: bounds the ledger's working memory


def _per_tenant(path: Path, columns: list[str]) -> Iterator[tuple[int, pa.Table]]:
    """A tenant-major table, one tenant's rows at a time (bounded by the largest tenant)."""
    pending: list[pa.Table] = []
    current = None
    for batch in read_batches(path, ["tenant_id", *columns]):
        tenant = batch["tenant_id"].to_numpy()
        cuts = np.flatnonzero(np.diff(tenant)) + 1
        for lo, hi in zip(np.r_[0, cuts], np.r_[cuts, len(tenant)], strict=True):
            t = int(tenant[lo])
            if current is not None and t != current:
                yield current, pa.concat_tables(pending)
                pending = []
            current = t
            pending.append(pa.Table.from_batches([batch.slice(lo, hi - lo)]))
    if current is not None:
        yield current, pa.concat_tables(pending)


def _grouped_cumsum(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Running sums restarting where `starts` is True."""
    total = np.cumsum(values)
    before = total - values
    first = np.maximum.accumulate(np.where(starts, np.arange(len(values)), 0))
    return total - before[first]


def _grouped_cummax(values: np.ndarray, group: np.ndarray, bits: int) -> np.ndarray:
    """Running maxima of non-negative values (< 2**bits) within consecutive groups (increasing ids)."""
    return np.maximum.accumulate((group << bits) + values) - (group << bits)


def _tenant_events(m: CommerceModel, tenant: int, products: pa.Table, items: pa.Table, orders: pa.Table,
                   returns: pa.Table) -> tuple[dict[str, np.ndarray], np.ndarray]:  # fmt: skip
    """The tenant's base events (opening receipt, sales, restocked returns, counts) in ledger order:
    product, then time; and each product's receipt batch size.

    Sales are the items of orders not cancelled (at the order date); restocked returns come back;
    a few cycle-count corrections. A stockout order's first item is the sale that meets an empty shelf.
    """
    base = tenant * m.products
    n_products = m.products
    created = col.epoch_seconds(products["created_at"].combine_chunks())
    # Sales: items of orders not cancelled.
    order_base = tenant * m.orders
    status = orders["order_status"].combine_chunks()
    live = ~pc.equal(status, "cancelled").to_numpy(zero_copy_only=False)
    stockout_order = pc.fill_null(pc.equal(orders["anomaly"].combine_chunks(), "stockout"), False).to_numpy(
        zero_copy_only=False
    )
    order_date = col.epoch_seconds(orders["order_date"].combine_chunks())
    order_row = items["order_id"].to_numpy() - 1 - order_base
    first_item = np.r_[True, order_row[1:] != order_row[:-1]]
    sold = live[order_row]
    s_order = order_row[sold]
    s_product = items["product_id"].to_numpy()[sold] - 1 - base
    s_qty = items["quantity"].to_numpy()[sold]
    s_time = order_date[s_order]
    s_stockout = stockout_order[s_order] & first_item[sold]
    # Restocked returns.
    restocked = pc.is_valid(returns["restocked_at"]).to_numpy(zero_copy_only=False)
    r_product = returns["product_id"].to_numpy()[restocked] - 1 - base
    r_qty = returns["quantity"].to_numpy()[restocked]
    r_time = col.epoch_seconds(returns["restocked_at"].combine_chunks())[restocked]
    r_id = returns["return_id"].to_numpy()[restocked]
    # Cycle-count corrections: up to two per product, a few units either way.
    slots = (base + np.arange(n_products))[:, None] * ADJUSTMENT_SLOTS + np.arange(ADJUSTMENT_SLOTS)[None, :]
    slots = slots.ravel()
    a_product = slots // ADJUSTMENT_SLOTS - base
    a_keep = m.stream("stock_events", "adjusted").bernoulli(slots, 0.3)
    a_product, slots = a_product[a_keep], slots[a_keep]
    span = (m.end - 1 - created[a_product]).astype(np.float64)
    a_time = (
        created[a_product]
        + 1
        + np.floor(span * m.stream("stock_events", "adjust_time").uniform(slots)).astype(np.int64)
    )
    a_delta = m.stream("stock_events", "adjust_size").integers(slots, 1, 4) * np.where(
        m.stream("stock_events", "adjust_sign").bernoulli(slots, 0.7), -1, 1
    )
    a_time = np.minimum(a_time, m.end - 1)
    # Receipt batch: about 6-14 receipts over the window for what the product sells.
    local = np.arange(n_products)
    units = np.bincount(s_product, weights=s_qty, minlength=n_products)
    rounds = m.stream("stock_events", "rounds").integers(base + local, 6, 15)
    batch = np.maximum(np.ceil(units / rounds), m.stream("stock_events", "minimum").integers(base + local, 5, 40))
    batch = batch.astype(np.int64)

    product = np.concatenate([local, s_product, r_product, a_product])
    time = np.concatenate([created, s_time, r_time, a_time])
    reason = np.concatenate([np.full(n_products, _OPENING), np.full(len(s_product), _SALE),
                             np.full(len(r_product), _RETURN), np.full(len(a_product), _COUNT)])  # fmt: skip
    order_id = np.concatenate([np.zeros(n_products, np.int64), s_order + order_base + 1,
                               np.zeros(len(r_product) + len(a_product), np.int64)])  # fmt: skip
    tiebreak = np.concatenate([np.zeros(n_products, np.int64), order_id[n_products : n_products + len(s_product)],
                               r_id, slots])  # fmt: skip
    order = np.lexsort((tiebreak, reason, time, product))
    del tiebreak
    events = {
        "product": product[order],
        "time": time[order],
        "reason": reason[order],
        "order_id": order_id[order],
        "delta": np.concatenate([batch, -s_qty, r_qty, a_delta])[order],
        "stockout": np.concatenate(
            [np.zeros(n_products, bool), s_stockout, np.zeros(len(r_product) + len(a_product), bool)]
        )[order],
        "return_id": np.concatenate(
            [np.zeros(n_products + len(s_product), np.int64), r_id, np.zeros(len(a_product), np.int64)]
        )[order],
    }
    return events, batch


def _product_blocks(product: np.ndarray, size: int) -> Iterator[tuple[int, int]]:
    """[lo, hi) ranges of about `size` events that never split a product's events (sorted by product)."""
    cuts = np.unique(np.searchsorted(product, product[np.arange(size, len(product), size)], "left"))
    bounds = np.r_[0, cuts[cuts > 0], len(product)]
    yield from zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True)


def _ledger_block(m: CommerceModel, tenant: int, events: dict[str, np.ndarray], batch: np.ndarray,
                  offset: int) -> dict[str, np.ndarray]:  # fmt: skip
    """The ledger of whole products' base events (in ledger order, `offset` events into the tenant's).

    Receipts of batch size B arrive just before cumulative demand would exceed stock. A stockout
    sale meets an empty shelf: the count finds the remaining units missing, the sale goes below zero
    and a backorder receipt follows before it ships.
    """
    product, time, reason, delta, stockout, order_id, return_id = (
        events[k] for k in ("product", "time", "reason", "delta", "stockout", "order_id", "return_id")
    )
    n = len(product)
    new_product = np.r_[True, product[1:] != product[:-1]]
    # Segments: a stockout ends one (stock restarts at one batch after its backorder receipt).
    prev_stockout = np.r_[False, stockout[:-1]]
    segment_start = new_product | prev_stockout
    segment = np.cumsum(segment_start) - 1
    demand = np.where(stockout | (reason == _OPENING), 0, -delta)
    need = _grouped_cumsum(demand, segment_start)
    b = batch[product]
    batches = np.maximum(0, -(-(need - b) // b))  # ceil((need - B) / B), batches beyond the first
    batches = np.where(reason == _OPENING, 0, batches)
    cum_batches = _grouped_cummax(batches, segment, 31)
    prev = np.r_[0, cum_batches[:-1]]
    prev = np.where(segment_start, 0, prev)
    receipt_units = (cum_batches - prev) * b
    receipt_units = np.where(stockout, 0, receipt_units)
    level_before = b + cum_batches * b - need  # for a stockout row: its need excludes its own sale
    drain = np.where(stockout, level_before, 0)

    # Emit: [receipt] [drain] event [backorder receipt] per base event.
    has_receipt = receipt_units > 0
    has_drain = drain > 0
    count = 1 + has_receipt + has_drain + stockout
    first = np.cumsum(count) - count
    total = int(count.sum())
    out_product = np.repeat(product, count)
    out_reason = np.empty(total, np.int64)
    out_delta = np.empty(total, np.int64)
    out_time = np.empty(total, np.int64)
    out_order = np.zeros(total, np.int64)
    out_return = np.zeros(total, np.int64)
    out_anomaly = np.full(total, NO_ANOMALY, np.int64)
    prev_time = np.where(new_product, time, np.r_[time[:1], time[:-1]])
    # Drawn by position in the tenant's ledger, so blocks give the draws of one pass.
    u = m.stream("stock_events", "lead").sub(str(tenant)).uniform(np.arange(offset, offset + n))
    at = first + has_receipt
    out_reason[first[has_receipt]] = _REPLENISH
    out_delta[first[has_receipt]] = receipt_units[has_receipt]
    gap = time - prev_time
    out_time[first[has_receipt]] = (prev_time + np.floor(gap * u).astype(np.int64))[has_receipt]
    out_reason[at[has_drain]] = _MISSING
    out_delta[at[has_drain]] = -drain[has_drain]
    out_time[at[has_drain]] = (prev_time + np.floor(gap * (0.5 + 0.5 * u)).astype(np.int64))[has_drain]
    at = at + has_drain
    out_reason[at] = reason
    out_delta[at] = delta
    out_time[at] = time
    out_order[at] = order_id
    out_return[at] = return_id
    out_anomaly[at[stockout]] = _STOCKOUT
    nxt = at[stockout] + 1
    next_time = np.r_[time[1:], m.end - 1]
    next_time = np.where(np.r_[new_product[1:], True], m.end - 1, next_time)
    wait = np.minimum(next_time - time, 5 * DAY)[stockout]
    out_reason[nxt] = _BACKORDER
    out_delta[nxt] = -delta[stockout] + b[stockout]  # the backordered units plus a fresh batch
    out_time[nxt] = time[stockout] + np.floor(wait * u[stockout]).astype(np.int64)
    # Times never go back within a product (the ledger's order is its time order).
    starts = np.r_[True, out_product[1:] != out_product[:-1]]
    group = np.cumsum(starts) - 1
    out_time = m.start + _grouped_cummax(out_time - m.start, group, TIME_BITS)
    level = _grouped_cumsum(out_delta, starts)
    return {
        "product": out_product + tenant * m.products,
        "reason": out_reason,
        "delta": out_delta,
        "level": level,
        "time": out_time,
        "order": out_order,
        "return": out_return,
        "anomaly": out_anomaly,
    }


def _ledgers(m: CommerceModel, dataset: Path) -> Iterator[tuple[int, dict[str, np.ndarray]]]:
    """The ledger, a block of whole products at a time, reading the products, orders and items of
    one tenant at a time: memory is bounded by a tenant's base events, not by its whole ledger."""
    returns = dict(_per_tenant(dataset / "returns", ["return_id", "product_id", "quantity", "restocked_at"]))
    empty_returns = pa.table({"return_id": pa.array([], INT), "product_id": pa.array([], INT),
                              "quantity": pa.array([], INT), "restocked_at": pa.array([], TIMESTAMP)})  # fmt: skip
    tables = zip(
        _per_tenant(dataset / "products", ["created_at"]),
        _per_tenant(dataset / "orders", ["order_status", "order_date", "anomaly"]),
        _per_tenant(dataset / "order_items", ["order_id", "product_id", "quantity"]),
        strict=True,
    )  # every tenant has products, orders and (so) items
    for (tenant, product_rows), (_, order_rows), (_, item_rows) in tables:
        t = tenant - 1
        events, batch = _tenant_events(m, t, product_rows, item_rows, order_rows, returns.get(tenant, empty_returns))
        del product_rows, order_rows, item_rows
        for lo, hi in _product_blocks(events["product"], BLOCK_EVENTS):
            yield t, _ledger_block(m, t, {k: v[lo:hi] for k, v in events.items()}, batch, lo)


@TABLES.derived(
    key="stock_event_id",
    slots=lambda m: m.tenants * m.products,
    description="Stock ledger derived from sales, restocked returns, counts and receipts; resulting_level is the running sum, negative only on a labelled stockout sale.",
    columns=(
        Column("stock_event_id", INT, "Key of the ledger entry (1..n in ledger order: shop, product, time)."),
        TENANT,
        Column("product_id", INT, "The product whose stock changed.", references="products"),
        Column("warehouse_id", INT, "The product's warehouse.", references="warehouses"),
        Column("delta", INT, "Units in (+) or out (-)."),
        Column(
            "resulting_level",
            INT,
            "Stock after this entry: the running sum of delta per product; below zero only on a stockout sale.",
        ),
        Column("event_time", TIMESTAMP, "When the stock changed (a sale at its order date)."),
        Column(
            "source",
            STRING,
            "receipt, sale (an item of an order not cancelled), return (restocked) or adjustment (count).",
        ),
        Column("order_id", INT, "The order of a sale; null otherwise.", references="orders"),
        Column("return_id", INT, "The return restocked; null otherwise.", references="returns"),
        Column("meta", JSON, "JSON: reason and operator."),
        Column("anomaly", STRING, "stockout on the sale that met an empty shelf (its order's label); null otherwise."),
    ),
    created="event_time",
    after=("order_items",),
)
def stock_events(m: CommerceModel, dataset: Path, chunk_size: int) -> Iterator[pa.Table]:
    next_id = 1
    for t, ledger in _ledgers(m, dataset):
        n = len(ledger["product"])
        for lo, hi in chunks(n, chunk_size):
            c = {k: v[lo:hi] for k, v in ledger.items()}
            ids = next_id + np.arange(lo, hi, dtype=np.int64)
            source = _REASON_SOURCE[c["reason"]]
            parts = m.name_parts(t)
            who = m.stream("stock_events", "operator").integers(ids, 0, len(parts.first) * len(parts.last))
            person = col.join(col.take(parts.first, who % len(parts.first)), " ",
                              col.take(parts.last, who // len(parts.first)))  # fmt: skip
            operator = pc.if_else(pa.array(source == 1), "storefront", person)
            yield col.table(
                {
                    "stock_event_id": ids,
                    "tenant_id": np.full(hi - lo, t + 1, dtype=np.int64),
                    "product_id": c["product"] + 1,
                    "warehouse_id": m.product_warehouse(c["product"]) + 1,
                    "delta": c["delta"],
                    "resulting_level": c["level"],
                    "event_time": col.timestamps(c["time"]),
                    "source": pick(STOCK_SOURCES, source),
                    "order_id": col.ints(c["order"], nulls=c["order"] == 0),
                    "return_id": col.ints(c["return"], nulls=c["return"] == 0),
                    "meta": col.json_objects({"reason": col.take(_STOCK_REASONS, c["reason"]), "operator": operator}),
                    "anomaly": anomaly_labels(c["anomaly"]),
                },
                stock_events.schema,
            )
        next_id += n


@TABLES.derived(
    key="inventory_id",
    slots=lambda m: m.tenants * m.products,
    description="Stock on hand per product and warehouse, as the ledger ends.",
    columns=(
        Column("inventory_id", INT, "Key of the inventory row (one per product)."),
        TENANT,
        Column("product_id", INT, "The product.", references="products"),
        Column("warehouse_id", INT, "Where it is stocked.", references="warehouses"),
        Column("quantity_on_hand", INT, "Units in stock: the product's last resulting_level in stock_events."),
        Column("reorder_point", INT, "Level at which the shop reorders."),
        Column("updated_at", TIMESTAMP, "Time of the product's last ledger entry."),
    ),
    created="updated_at",
    after=("stock_events",),
)
def inventory(m: CommerceModel, dataset: Path, chunk_size: int) -> Iterator[pa.Table]:
    """Stock on hand per product: the ledger's last level (read back from stock_events)."""
    n = m.tenants * m.products
    level = np.zeros(n, dtype=np.int64)
    updated = np.zeros(n, dtype=np.int64)
    for batch in read_batches(dataset / "stock_events", ["product_id", "resulting_level", "event_time"]):
        product = batch["product_id"].to_numpy() - 1
        # Rows are in ledger order per product: the last write per product wins.
        level[product] = batch["resulting_level"].to_numpy()
        updated[product] = col.epoch_seconds(batch["event_time"])
    for lo, hi in chunks(n, chunk_size):
        g = ids(lo, hi)
        yield col.table(
            {
                "inventory_id": g + 1,
                "tenant_id": g // m.products + 1,
                "product_id": g + 1,
                "warehouse_id": m.product_warehouse(g) + 1,
                "quantity_on_hand": level[lo:hi],
                "reorder_point": 10 * m.stream("inventory", "reorder").integers(g, 1, 6),
                "updated_at": col.timestamps(updated[lo:hi]),
            },
            inventory.schema,
        )
