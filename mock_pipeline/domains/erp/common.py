"""What the ERP table modules share: the one `Tables` registry, dense keys and a few column helpers.

The tables are declared into `TABLES` by the family modules (parties, orders, fulfilment, finance,
ledger, service, audit), each importing the one before it, so the registry's order is the domain's
table list, parents first. Tables whose slot space has empty slots register which slots hold a row
(`presence`) and number their rows densely (`dense`), so keys are stable whatever the chunking.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mock_pipeline.domains.erp.model import ErpModel
from mock_pipeline.domains.erp.world import DOMAIN, LABEL
from mock_pipeline.engine import columns as col
from mock_pipeline.engine.columns import STRING, ids
from mock_pipeline.engine.declare import Tables
from mock_pipeline.engine.dense import DenseKeys
from mock_pipeline.scenarios.model import ANOMALY_LABELS

TABLES = Tables(DOMAIN)

DATE = pa.date32()
CURRENCY = "EGP"
# The start of every anomaly column's description; each table adds which labels it carries.
ANOMALY = (
    "Ground truth: the anomaly label decided on the order (payment_delay, delivery_delay, delivery_failure,"
    " cancellation, stockout), carried where this row shows its consequence; null otherwise."
)

Presence = Callable[[ErpModel, int, int], np.ndarray]
# Which slots hold a row, for the tables whose slot space has empty slots (their keys are dense).
PRESENT: dict[str, Presence] = {}


def presence(table: str) -> Callable[[Presence], Presence]:
    """Registers `(model, lo, hi) -> mask` as the present slots of `table`, the basis of its dense keys."""

    def register(present: Presence) -> Presence:
        PRESENT[table] = present
        return present

    return register


def product_slots(m: ErpModel) -> int:
    """The ledger's restock and count slots: two per product and week, before its order movements."""
    return m.products * m.weeks * 2


def dense(m: ErpModel, table: str) -> DenseKeys:
    """The dense key numbering of a slotted table: key = 1 + the present slots before it."""
    keys = m.dense_keys.get(table)
    if keys is None:
        present = PRESENT[table]
        # The ledger's keys are dense over its restocks and counts, which come first.
        spec = TABLES[TABLES.names().index(table)]
        slots = product_slots(m) if table == "inventory_movements" else spec.slots(m)
        keys = m.dense_keys.setdefault(table, DenseKeys(lambda lo, hi: present(m, lo, hi), slots))
    return keys


def order_range(lo: int, hi: int, slots: int) -> np.ndarray:
    """The orders whose `slots` per-order slots overlap [lo, hi)."""
    return ids(lo // slots, (hi - 1) // slots + 1)


def anomaly_labels(anomaly: np.ndarray, allowed: tuple[str, ...] = ANOMALY_LABELS) -> pa.Array:
    """Anomaly label strings (null where none, or where the label does not concern this table)."""
    keep = np.isin(anomaly, [LABEL[a] for a in allowed])
    labels = col.take(pa.array(ANOMALY_LABELS, STRING), np.maximum(anomaly, 0))
    return pc.if_else(pa.array(~keep), pa.scalar(None, STRING), labels)


def null_if(mask: np.ndarray, values: pa.Array) -> pa.Array:
    return pc.if_else(pa.array(mask), pa.scalar(None, values.type), values)


def dates(days: np.ndarray, nulls: np.ndarray | None = None) -> pa.Array:
    return pa.array(np.asarray(days, dtype=np.int32), DATE, mask=col.mask(nulls))
