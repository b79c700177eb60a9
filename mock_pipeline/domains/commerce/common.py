"""What the commerce table modules share: the one `Tables` registry, the tenant column, dense keys and a few helpers.

The tables are declared into `TABLES` by the family modules (catalog, customers, orders, fulfilment,
engagement, ledger, analytics), each importing the one before it, so the registry's order is the
domain's table list, parents first. Every table but tenants belongs to one tenant (`TENANT`). Tables
whose slot space has empty slots register which slots hold a row (`presence`) and number their rows
densely (`dense`), so keys are stable whatever the chunking.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import pyarrow as pa

from mock_pipeline.domains.commerce.model import CommerceModel
from mock_pipeline.engine import columns as col
from mock_pipeline.engine.columns import INT, STRING
from mock_pipeline.engine.declare import Column, Tables
from mock_pipeline.engine.dense import DenseKeys
from mock_pipeline.scenarios.model import ANOMALY_LABELS

DOMAIN = "commerce"
TABLES = Tables(DOMAIN, per_tenant=True)
TENANT = Column(
    "tenant_id", INT, "The shop (tenant) the row belongs to; never another tenant's rows.", references="tenants"
)
# Every anomaly column's description.
ANOMALY = (
    "Ground-truth anomaly label of the order this row belongs to, where this row shows its consequence; null when none."
)
EMAIL_DOMAINS = pa.array(["example.com", "example.org", "example.net"])

_ANOMALY_POOL = pa.array(ANOMALY_LABELS, STRING)


def anomaly_labels(anomaly: np.ndarray) -> pa.Array:
    return col.labels(_ANOMALY_POOL, anomaly)


Presence = Callable[[CommerceModel, int, int], np.ndarray]
# Which slots hold a row, for the tables whose slot space has empty slots (their keys are dense).
PRESENT: dict[str, Presence] = {}


def presence(table: str) -> Callable[[Presence], Presence]:
    """Registers `(model, lo, hi) -> mask` as the present slots of `table`, the basis of its dense keys."""

    def register(present: Presence) -> Presence:
        PRESENT[table] = present
        return present

    return register


def dense(m: CommerceModel, table: str) -> DenseKeys:
    """Keys 1..n over the present slots of a slotted table, counted once per model."""
    present, slots = PRESENT[table], TABLES[TABLES.names().index(table)].slots
    return m.cached(f"dense:{table}", lambda: DenseKeys(lambda lo, hi: present(m, lo, hi), slots(m)))


def numbered(m: CommerceModel, table: str, lo: int, rows: int) -> np.ndarray:
    """Keys of the `rows` present rows of a chunk starting at slot lo (rows are in slot order)."""
    return dense(m, table).offset(lo) + 1 + np.arange(rows, dtype=np.int64)


def from_tenant_pools(
    m: CommerceModel, tenant: np.ndarray, pool_of: Callable[[int], pa.Array], u: np.ndarray
) -> pa.Array:
    """pool[floor(u * len(pool))] with each row's pool chosen by its tenant (rows are tenant-major)."""
    pieces = []
    for t in np.unique(tenant):
        sel = tenant == t
        pool = pool_of(int(t))
        pieces.append(col.take(pool, np.floor(u[sel] * len(pool)).astype(np.int64)))
    return pieces[0] if len(pieces) == 1 else pa.concat_arrays(pieces)


def chunks(n: int, chunk_size: int) -> Iterator[tuple[int, int]]:
    for lo in range(0, n, chunk_size):
        yield lo, min(lo + chunk_size, n)
