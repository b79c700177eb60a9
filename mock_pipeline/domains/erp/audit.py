"""The audit trail: who did what to which entity, and when, over every audited table's events."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa

import mock_pipeline.domains.erp.service  # noqa: F401  (declares the tables referenced below)
from mock_pipeline.domains.erp.common import TABLES, dense, presence, product_slots
from mock_pipeline.domains.erp.finance import refund_people
from mock_pipeline.domains.erp.ledger import product_movements, product_plan
from mock_pipeline.domains.erp.model import ErpModel
from mock_pipeline.domains.erp.orders import discounts_present
from mock_pipeline.domains.erp.service import visit_rows, visits_present
from mock_pipeline.domains.erp.world import (
    BRANCH_SLOTS,
    DISCOUNT_SLOTS,
    HOUR,
    REFUND_APPROVED,
    REFUND_NONE,
    REFUND_REQUESTED,
    ROLE_ADMIN,
    ROLE_MANAGER,
    ROLE_SUPPORT,
    STATUS_CANCELLED,
    VISIT_SLOTS,
)
from mock_pipeline.engine import columns as col
from mock_pipeline.engine.columns import INT, STRING, TIMESTAMP, ids, pick
from mock_pipeline.engine.declare import Column

ACTIONS = ("create", "confirm", "cancel", "dispatch", "record_payment", "request_refund", "approve_refund",
           "reject_refund", "complete_visit", "open_branch", "grant_discount", "receive_stock", "adjust_stock")  # fmt: skip
ACTION = {a: i for i, a in enumerate(ACTIONS)}
ENTITY_TYPES = ("company", "branch", "product", "order", "discount", "shipment", "payment", "refund",
                "inventory_movement", "maintenance_visit")  # fmt: skip
ENTITY = {e: i for i, e in enumerate(ENTITY_TYPES)}
# audit_logs.entity_id points at the table named by entity_type; its check covers every kind.
AUDITED_TABLES = ("companies", "branches", "products", "orders", "discounts", "shipments", "payments", "refunds",
                  "inventory_movements", "maintenance_visits")  # fmt: skip
Rows = dict[str, np.ndarray]


# Each audited kind: (entity type, slots, presence of its slots, rows of its slots). Presence is cheap (the
# model's order facts, plans and pure draws), as the dense keys of the audit log count it block by block.
Presence = Callable[[ErpModel, np.ndarray], np.ndarray]


def _always(m: ErpModel, s: np.ndarray) -> np.ndarray:
    return np.ones(len(s), dtype=bool)


def _audit_companies(m: ErpModel, c: np.ndarray) -> Rows:
    return {"user": m.company["account_manager"][c], "entity": c + 1,
            "action": np.full(len(c), ACTION["create"]), "at": m.company["created"][c]}  # fmt: skip


def _audit_products(m: ErpModel, p: np.ndarray) -> Rows:
    user = m.pick_user((ROLE_ADMIN, ROLE_MANAGER), m.stream("audit_logs", "product_user"), p)
    return {"user": user, "entity": p + 1, "action": np.full(len(p), ACTION["create"]), "at": m.product["created"][p]}


def _branch_open(m: ErpModel, s: np.ndarray) -> np.ndarray:
    return s % BRANCH_SLOTS < m.company["branches"][s // BRANCH_SLOTS]


def _audit_branches(m: ErpModel, s: np.ndarray) -> Rows:
    company, k = s // BRANCH_SLOTS, s % BRANCH_SLOTS
    return {"user": m.company["account_manager"][company], "entity": dense(m, "branches").keys(s),
            "action": np.full(len(s), ACTION["open_branch"]), "at": m.branch_created[company, k]}  # fmt: skip


def _discount_granted(m: ErpModel, s: np.ndarray) -> np.ndarray:
    return discounts_present(m, int(s[0]), int(s[-1]) + 1)  # s is a contiguous range


def _audit_discounts(m: ErpModel, s: np.ndarray) -> Rows:
    """Discounts are granted by the account's sales rep a few minutes after the order is taken."""
    g = s // DISCOUNT_SLOTS
    date = m.order_date(g)
    rep = m.company["account_manager"][m.order_company(g, date)]
    at = np.minimum(date + 60 + m.stream("audit_logs", "discount_after").integers(s, 0, 900), m.end - 1)
    return {"user": rep, "entity": dense(m, "discounts").keys(s), "action": np.full(len(s), ACTION["grant_discount"]),
            "at": at}  # fmt: skip


def _stock_booked(m: ErpModel, s: np.ndarray) -> np.ndarray:
    return product_plan(m, int(s[0]), int(s[-1]) + 1)[4] != 0


def _audit_stock(m: ErpModel, s: np.ndarray) -> Rows:
    """Restocks and count corrections are booked by the warehouse team (support) or an admin."""
    moves = product_movements(m, int(s[0]), int(s[-1]) + 1)  # the present slots of s, in order
    at = np.zeros(len(s), dtype=np.int64)
    at[_stock_booked(m, s)] = moves["at"]
    user = m.pick_user((ROLE_SUPPORT, ROLE_ADMIN), m.stream("audit_logs", "storekeeper"), s)
    action = np.where(s % 2 == 0, ACTION["receive_stock"], ACTION["adjust_stock"])
    booked = np.minimum(at + 30 + m.stream("audit_logs", "booked_after").integers(s, 0, 600), m.end - 1)
    return {"user": user, "entity": dense(m, "inventory_movements").keys(s), "action": action, "at": booked}


def _order_event(m: ErpModel, s: np.ndarray) -> np.ndarray:
    g, k = s // 3, s % 3
    return np.select([k == 0, k == 1], [True, m.facts.confirmed[g]], m.facts.status[g] == STATUS_CANCELLED)


def _audit_orders(m: ErpModel, s: np.ndarray) -> Rows:
    g, k = s // 3, s % 3
    life = m.lifecycle(g)
    rep = m.company["account_manager"][life.company]
    manager = m.pick_user((ROLE_MANAGER, ROLE_ADMIN), m.stream("audit_logs", "confirmer"), s)
    return {
        "user": np.where(k == 1, manager, rep),
        "entity": g + 1,
        "action": np.select([k == 0, k == 1], [ACTION["create"], ACTION["confirm"]], ACTION["cancel"]),
        "at": np.select([k == 0, k == 1], [life.date, life.confirm_at], life.cancel_at),
    }


def _shipped(m: ErpModel, g: np.ndarray) -> np.ndarray:
    return m.facts.shipped[g]


def _audit_shipments(m: ErpModel, g: np.ndarray) -> Rows:
    life = m.lifecycle(g)
    user = m.pick_user((ROLE_SUPPORT,), m.stream("audit_logs", "dispatcher"), g)
    return {"user": user, "entity": dense(m, "shipments").keys(g), "action": np.full(len(g), ACTION["dispatch"]),
            "at": life.shipped_at}  # fmt: skip


def _paid(m: ErpModel, g: np.ndarray) -> np.ndarray:
    """Payments recorded by the end: the order was delivered and its invoice paid."""
    return m.facts.paid[g]


def _audit_payments(m: ErpModel, g: np.ndarray) -> Rows:
    life = m.lifecycle(g)
    pay = m.billing(life)
    user = m.pick_user((ROLE_ADMIN, ROLE_MANAGER), m.stream("audit_logs", "cashier"), g)
    # Booked by the cashier when the bank statement (or the driver's cash) comes in.
    at = np.minimum(pay.paid_at + 300 + m.stream("audit_logs", "booked").integers(g, 0, 4 * HOUR), m.end - 1)
    return {"user": user, "entity": dense(m, "payments").keys(g), "action": np.full(len(g), ACTION["record_payment"]),
            "at": at}  # fmt: skip


def _refund_event(m: ErpModel, s: np.ndarray) -> np.ndarray:
    g, k = s // 2, s % 2
    refund = m.facts.refund[g]
    return (refund != REFUND_NONE) & ((k == 0) | ((refund != REFUND_REQUESTED) & (refund != REFUND_NONE)))


def _audit_refunds(m: ErpModel, s: np.ndarray) -> Rows:
    g, k = s // 2, s % 2
    life = m.lifecycle(g)
    r = m.refunds(life, m.billing(life))
    requester, decider = refund_people(m, g)
    decision = np.where(r["status"] == REFUND_APPROVED, ACTION["approve_refund"], ACTION["reject_refund"])
    return {
        "user": np.where(k == 0, requester, decider),
        "entity": dense(m, "refunds").keys(g),
        "action": np.where(k == 0, ACTION["request_refund"], decision),
        "at": np.where(k == 0, r["requested_at"], r["decided_at"]),
    }


def _visit_done(m: ErpModel, s: np.ndarray) -> np.ndarray:
    return visits_present(m, int(s[0]), int(s[-1]) + 1)


def _audit_visits(m: ErpModel, s: np.ndarray) -> Rows:
    v = visit_rows(m, s)
    return {"user": v["technician"], "entity": dense(m, "maintenance_visits").keys(s),
            "action": np.full(len(s), ACTION["complete_visit"]), "at": v["at"]}  # fmt: skip


def audit_segments(m: ErpModel) -> list[tuple[int, int, Presence, Callable[[ErpModel, np.ndarray], Rows]]]:
    """(entity type, slots, presence, rows) in slot order: the audit log's slot space is their concatenation."""
    return [
        (ENTITY["company"], m.companies, _always, _audit_companies),
        (ENTITY["branch"], BRANCH_SLOTS * m.companies, _branch_open, _audit_branches),
        (ENTITY["product"], m.products, _always, _audit_products),
        (ENTITY["order"], 3 * m.orders, _order_event, _audit_orders),
        (ENTITY["discount"], DISCOUNT_SLOTS * m.orders, _discount_granted, _audit_discounts),
        (ENTITY["inventory_movement"], product_slots(m), _stock_booked, _audit_stock),
        (ENTITY["shipment"], m.orders, _shipped, _audit_shipments),
        (ENTITY["payment"], m.orders, _paid, _audit_payments),
        (ENTITY["refund"], 2 * m.orders, _refund_event, _audit_refunds),
        (ENTITY["maintenance_visit"], VISIT_SLOTS * m.base_visits, _visit_done, _audit_visits),
    ]


def audit_slots(m: ErpModel) -> int:
    return sum(n for _, n, _, _ in audit_segments(m))


@presence("audit_logs")
def _audit_present(m: ErpModel, lo: int, hi: int) -> np.ndarray:
    offset = 0
    out: list[np.ndarray] = []
    for _, n, present, _ in audit_segments(m):
        a, b = max(lo, offset), min(hi, offset + n)
        if a < b:
            out.append(present(m, ids(a - offset, b - offset)))
        offset += n
    return np.concatenate(out) if out else np.zeros(0, dtype=bool)


@TABLES.table(
    key="audit_log_id",
    slots=audit_slots,
    description="Who did what to which entity, and when.",
    columns=(
        Column("audit_log_id", INT, "Audit entry key, 1..n."),
        Column("user_id", INT, "Who acted.", references="users"),
        Column("entity_type", STRING, "The kind of entity acted on."),
        Column("entity_id", INT, "The key of that entity in its table."),
        Column("action", STRING, "What was done."),
        Column("occurred_at", TIMESTAMP, "When (after the entity was created; UTC)."),
        Column("ip_address", STRING, "The user's office workstation address."),
    ),
    created="occurred_at",
    after=AUDITED_TABLES,
)
def audit_logs(m: ErpModel, lo: int, hi: int) -> pa.Table:
    offset = 0
    out: list[pa.Table] = []
    for entity_type, n, present, build in audit_segments(m):
        a, b = max(lo, offset), min(hi, offset + n)
        if a < b:
            local = ids(a - offset, b - offset)
            keep = present(m, local)
            if keep.any():
                rows = {k: v[keep] for k, v in build(m, local).items()}
                user = rows["user"]
                out.append(
                    col.table(
                        {
                            "audit_log_id": dense(m, "audit_logs").keys(local[keep] + offset),
                            "user_id": user + 1,
                            "entity_type": pick(ENTITY_TYPES, np.full(len(user), entity_type)),
                            "entity_id": rows["entity"],
                            "action": pick(ACTIONS, rows["action"]),
                            "occurred_at": col.timestamps(rows["at"]),
                            "ip_address": col.join("10.20.", col.text(user // 250), ".", col.text(user % 250 + 1)),
                        },
                        audit_logs.schema,
                    )
                )
        offset += n
    return pa.concat_tables(out) if out else audit_logs.schema.empty_table()
