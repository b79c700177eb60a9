"""Shipments from the region's depot and their delivery attempts."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

import mock_pipeline.domains.erp.orders  # noqa: F401  (declares the tables referenced below)
from mock_pipeline.domains.erp import data
from mock_pipeline.domains.erp.common import (
    ANOMALY,
    DATE,
    TABLES,
    anomaly_labels,
    dates,
    dense,
    null_if,
    order_range,
    presence,
)
from mock_pipeline.domains.erp.model import ErpModel
from mock_pipeline.domains.erp.world import ATTEMPT_SLOTS, STATUS_DELIVERED, STATUS_FAILED
from mock_pipeline.engine import columns as col
from mock_pipeline.engine.columns import INT, STRING, TIMESTAMP, ids, pick
from mock_pipeline.engine.declare import Column, Columns
from mock_pipeline.engine.distributions import categorical, unique_codes

CARRIERS = ("SynergyFlow Fleet", "Bosta", "Aramex", "Mylerz", "R2S")


_SHIPMENT_LABELS = ("delivery_delay", "delivery_failure", "stockout")


def failure_reason(m: ErpModel, attempt_slot: np.ndarray) -> np.ndarray:
    return m.stream("delivery_attempts", "reason").integers(attempt_slot, 0, len(data.FAILURE_REASONS))


@presence("shipments")
def _shipments_present(m: ErpModel, lo: int, hi: int) -> np.ndarray:
    return m.facts.shipped[lo:hi]


@TABLES.table(
    key="shipment_id",
    slots=lambda m: m.orders,
    description="Shipments from the region's depot, with delivery outcome; labelled with the order's delivery anomaly.",
    columns=(
        Column("shipment_id", INT, "Shipment key, 1..n."),
        Column("order_id", INT, "The shipped order.", references="orders"),
        Column("depot", STRING, "The region's distribution centre."),
        Column("carrier", STRING, "Own fleet or courier."),
        Column("tracking_number", STRING, "SFT and 9 digits."),
        Column("status", STRING, "in_transit, delivered or failed."),
        Column("shipped_at", TIMESTAMP, "When the truck left the depot (UTC)."),
        Column("scheduled_delivery_date", DATE, "The order's scheduled delivery day."),
        Column("delivered_at", TIMESTAMP, "When the goods were delivered (delivered shipments only)."),
        Column("attempt_count", INT, "Delivery attempts made."),
        Column("last_failure_reason", STRING, "Why the latest failed attempt failed; null without failures."),
        Column(
            "returned_to_depot_at",
            TIMESTAMP,
            "When the goods of a failed delivery were back at the depot; null otherwise.",
        ),
        Column("created_at", TIMESTAMP, "When the shipment was created (its shipping time)."),
        Column("anomaly", STRING, ANOMALY + " Here: delivery_delay, delivery_failure or stockout."),
    ),
)
def shipments(m: ErpModel, lo: int, hi: int) -> Columns:
    g = ids(lo, hi)
    life = m.lifecycle(g)
    back, depot_at = m.depot_return(life)
    keep = life.shipped
    g = g[keep]
    status, region, attempts = life.status[keep], life.region[keep], life.attempts[keep]
    failed_so_far = np.minimum(attempts, life.failed_attempts[keep])
    last_failed_slot = g * ATTEMPT_SLOTS + np.maximum(failed_so_far - 1, 0)
    delivered = status == STATUS_DELIVERED
    return {
        "shipment_id": dense(m, "shipments").keys(g),
        "order_id": g + 1,
        "depot": pick(tuple(data.REGION_DEPOTS[r] for r in data.REGIONS), region),
        "carrier": pick(CARRIERS, categorical(m.stream("shipments", "carrier"), g, (50, 20, 15, 10, 5))),
        "tracking_number": col.join("SFT", col.digits(unique_codes(m.stream("shipments", "tracking"), g, 10**9), 9)),
        "status": pick(
            ("in_transit", "delivered", "failed"), np.select([delivered, status == STATUS_FAILED], [1, 2], 0)
        ),
        "shipped_at": col.timestamps(life.shipped_at[keep]),
        "scheduled_delivery_date": dates(life.scheduled_day[keep]),
        "delivered_at": col.timestamps(life.final_at[keep], nulls=~delivered),
        "attempt_count": attempts,
        "last_failure_reason": null_if(
            failed_so_far == 0, pick(data.FAILURE_REASONS, failure_reason(m, last_failed_slot))
        ),
        "returned_to_depot_at": col.timestamps(depot_at[keep], nulls=~back[keep]),
        "created_at": col.timestamps(life.shipped_at[keep]),
        "anomaly": anomaly_labels(life.anomaly[keep], _SHIPMENT_LABELS),
    }


@presence("delivery_attempts")
def _attempts_present(m: ErpModel, lo: int, hi: int) -> np.ndarray:
    s = ids(lo, hi)
    return s % ATTEMPT_SLOTS < m.facts.attempts[s // ATTEMPT_SLOTS]


@TABLES.table(
    key="delivery_attempt_id",
    slots=lambda m: m.orders * ATTEMPT_SLOTS,
    description="Delivery attempts on the region's days; failure reasons.",
    columns=(
        Column("delivery_attempt_id", INT, "Attempt key, 1..n."),
        Column("shipment_id", INT, "The shipment.", references="shipments"),
        Column("attempt_number", INT, "1, 2 or 3 in time order."),
        Column("attempted_at", TIMESTAMP, "When the driver tried (a delivery day of the region; UTC)."),
        Column("outcome", STRING, "failed or delivered."),
        Column("failure_reason", STRING, "Why a failed attempt failed; null on success."),
    ),
    created="attempted_at",
)
def delivery_attempts(m: ErpModel, lo: int, hi: int) -> Columns:
    g = order_range(lo, hi, ATTEMPT_SLOTS)
    life = m.lifecycle(g)
    slot = (g[:, None] * ATTEMPT_SLOTS + np.arange(ATTEMPT_SLOTS)[None, :]).ravel()
    j = np.tile(np.arange(ATTEMPT_SLOTS), len(g))
    keep = (j < np.repeat(life.attempts, ATTEMPT_SLOTS)) & (slot >= lo) & (slot < hi)
    failed = j < np.repeat(life.failed_attempts, ATTEMPT_SLOTS)
    slot, j, failed = slot[keep], j[keep], failed[keep]
    return {
        "delivery_attempt_id": dense(m, "delivery_attempts").keys(slot),
        "shipment_id": dense(m, "shipments").keys(slot // ATTEMPT_SLOTS),
        "attempt_number": j + 1,
        "attempted_at": col.timestamps(life.attempt_at.ravel()[keep]),
        "outcome": pc.if_else(pa.array(failed), "failed", "delivered"),
        "failure_reason": null_if(~failed, pick(data.FAILURE_REASONS, failure_reason(m, slot))),
    }
