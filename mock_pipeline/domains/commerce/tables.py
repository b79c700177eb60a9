"""The commerce tables (seeds 003 and 004), each declared once beside its builder in its family module.

Importing the last family module declares them all, in order (parents first), into the one registry.
"""

import mock_pipeline.domains.commerce.analytics  # noqa: F401  (declares every table, in order)
from mock_pipeline.domains.commerce.common import DOMAIN, TABLES
from mock_pipeline.domains.commerce.orders import orders as orders_table

# The orders builder, (model, lo, hi) -> pa.Table, as benchmarks/benchmark.py times it.
orders = orders_table.build

__all__ = ["DOMAIN", "TABLES", "orders"]
