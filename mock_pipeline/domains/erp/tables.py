"""The SynergyFlow ERP tables (seed 001), each declared once beside its pure, columnar builder.

Each `@TABLES.table(...)` holds the table's columns with their types, meanings and foreign keys (see
mock_pipeline.engine.declare); `TABLES` is the domain's table list in declaration order, built by the
family modules, each importing the one before it: parties (users, companies, branches, products),
orders (orders, order_items, discounts, order_status_history), fulfilment (shipments,
delivery_attempts), finance (payments, refunds), ledger (inventory_movements), service
(maintenance_visits) and audit (audit_logs). What they share is in common.py.

Every builder turns a slot range [lo, hi) into Arrow columns from the model's pure functions of
indices; no per-row Python runs. Tables with empty slots number their rows densely (1..n, `dense`),
so keys are stable whatever the chunking. The stock ledger (inventory_movements) is derived from
the tables already written.

Anomaly ground truth: `orders.anomaly` is decided once per order (ErpModel.lifecycle) and is set only
where the anomaly had a visible effect by the end of the window. Related rows carry the same label
where they show its consequence: payments (payment_delay: paid after the due date or still overdue),
shipments (delivery_delay and stockout: first attempt after the scheduled date; delivery_failure:
failed attempts, and after three the goods go back to the depot), refunds (claimed for the order's
late or backordered delivery) and inventory_movements (stockout: the backorder of the order's item
at a shelf that deliveries emptied because the replenishments before it arrived short; the missing
units come as the backorder receipt before the item ships). A cancellation is a cancelled order with no shipment and
no invoice.
"""

from mock_pipeline.domains.erp.audit import ENTITY_TYPES  # the last family: importing it declares them all
from mock_pipeline.domains.erp.common import TABLES
from mock_pipeline.domains.erp.ledger import MOVEMENT_TYPES

__all__ = ["ENTITY_TYPES", "MOVEMENT_TYPES", "TABLES"]
