"""The SynergyFlow ERP tables (seed 001): schema and a pure, columnar builder for each.

Every builder turns a slot range [lo, hi) into Arrow columns from the model's pure functions of
indices; no per-row Python runs. Ids are slot + 1, so ids are stable whatever the chunking.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mock_pipeline.domains.erp import data
from mock_pipeline.domains.erp.model import (
    ATTEMPT_SLOTS,
    BRANCH_SLOTS,
    DAY,
    DEPARTMENTS,
    DISCOUNT_ORDER,
    DISCOUNT_SLOTS,
    DOMAIN,
    HISTORY_SLOTS,
    HOUR,
    ITEM_SLOTS,
    LABEL,
    MAX_PARTS,
    MAX_SERVICES,
    NO_ANOMALY,
    ORDER_STATUSES,
    PAY_LATE,
    PAY_OVERDUE,
    PAY_PAID,
    PAYMENT_STATUSES,
    REFUND_REQUESTED,
    REFUND_STATUSES,
    ROLE_ADMIN,
    ROLE_MANAGER,
    ROLE_SUPPORT,
    ROLES,
    STATUS_CANCELLED,
    STATUS_DELIVERED,
    STATUS_FAILED,
    STATUS_SHIPPED,
    VISIT_SLOTS,
    WEEK,
    ErpModel,
    Lifecycle,
)
from mock_pipeline.engine import columns as col
from mock_pipeline.engine.columns import JSON, MONEY, TIMESTAMP
from mock_pipeline.engine.distributions import categorical, unique_codes
from mock_pipeline.engine.pools import slug
from mock_pipeline.engine.random import Stream
from mock_pipeline.engine.table import TableSpec
from mock_pipeline.scenarios.model import ANOMALY_LABELS

STRING = pa.string()
INT = pa.int64()
DATE = pa.date32()
CURRENCY = "EGP"
STAFF_DOMAIN = "synergyflow.example"
CARRIERS = ("SynergyFlow Fleet", "Bosta", "Aramex", "Mylerz", "R2S")
PAYMENT_METHODS = ("bank_transfer", "cheque", "instapay", "cash")


def _ids(lo: int, hi: int) -> np.ndarray:
    return np.arange(lo, hi, dtype=np.int64)


def _pick(values: tuple[str, ...], idx: np.ndarray) -> pa.Array:
    return col.take(pa.array(values, STRING), idx)


def _labels(anomaly: np.ndarray, allowed: tuple[str, ...] = ANOMALY_LABELS) -> pa.Array:
    """Anomaly label strings (null where none, or where the label does not concern this table)."""
    keep = np.isin(anomaly, [LABEL[a] for a in allowed])
    labels = col.take(pa.array(ANOMALY_LABELS, STRING), np.maximum(anomaly, 0))
    return pc.if_else(pa.array(~keep), pa.scalar(None, STRING), labels)


def _null_if(mask: np.ndarray, values: pa.Array) -> pa.Array:
    return pc.if_else(pa.array(mask), pa.scalar(None, values.type), values)


def _dates(days: np.ndarray, nulls: np.ndarray | None = None) -> pa.Array:
    return pa.array(np.asarray(days, dtype=np.int32), DATE, mask=col.mask(nulls))


def mobile(stream: Stream, key: np.ndarray) -> pa.Array:
    """Egyptian mobile numbers in E.164: +20 1[0125] and 8 digits (Vodafone, Etisalat, Orange, WE)."""
    operator = _pick(("0", "1", "2", "5"), stream.sub("operator").integers(key, 0, 4))
    return col.join("+201", operator, col.digits(stream.sub("number").integers(key, 0, 10**8), 8))


def landline(stream: Stream, key: np.ndarray, governorate: np.ndarray) -> pa.Array:
    """+20, the governorate's area code, then 8 digits in Cairo and Giza and 7 elsewhere."""
    codes = pa.array([g[1] for g in data.GOVERNORATES], STRING)
    code = col.take(codes, governorate)
    number = stream.integers(key, 2 * 10**6, 10**7)
    wide = pa.array(np.isin(governorate, [0, 1]))  # Cairo, Giza
    return col.join("+20", code, pc.if_else(wide, col.digits(number + 2 * 10**7, 8), col.digits(number, 7)))


def person_name(m: ErpModel, table: str, key: np.ndarray) -> tuple[pa.Array, pa.Array]:
    first = col.take(m.first_names, m.stream(table, "first").integers(key, 0, len(m.first_names)))
    last = col.take(m.last_names, m.stream(table, "last").integers(key, 0, len(m.last_names)))
    return first, last


_DISTRICTS = pa.array([d for g in data.GOVERNORATES for d in g[3]], STRING)
_DISTRICT_START = np.cumsum([0] + [len(g[3]) for g in data.GOVERNORATES])[:-1]
_DISTRICT_COUNT = np.array([len(g[3]) for g in data.GOVERNORATES])
_GOVERNORATE_NAMES = tuple(g[0] for g in data.GOVERNORATES)


def district(m: ErpModel, table: str, key: np.ndarray, governorate: np.ndarray) -> pa.Array:
    local = m.stream(table, "district").integers(key, 0, _DISTRICT_COUNT[governorate])
    return col.take(_DISTRICTS, _DISTRICT_START[governorate] + local)


def address(m: ErpModel, table: str, key: np.ndarray, area: pa.Array, governorate: np.ndarray) -> pa.Array:
    number = col.text(m.stream(table, "building").integers(key, 1, 200))
    street = _pick(data.STREETS, m.stream(table, "street").integers(key, 0, len(data.STREETS)))
    return col.join(number, " ", street, ", ", area, ", ", _pick(_GOVERNORATE_NAMES, governorate))


# --- users -------------------------------------------------------------------------------------
USERS = col.schema(
    ("user_id", INT), ("first_name", STRING), ("last_name", STRING), ("full_name", STRING), ("email", STRING),
    ("phone", STRING), ("role", STRING), ("department", STRING), ("is_active", pa.bool_()),
    ("created_at", TIMESTAMP), ("last_login_at", TIMESTAMP),
)  # fmt: skip


def users(m: ErpModel, lo: int, hi: int) -> pa.Table:
    i = _ids(lo, hi)
    first, last = person_name(m, "users", i)
    handle = col.join(pc.if_else(pc.equal(pc.utf8_length(slug(first)), 0), "user", slug(first)), ".",
                      pc.if_else(pc.equal(pc.utf8_length(slug(last)), 0), "staff", slug(last)))  # fmt: skip
    role = m.user_role[i]
    created = m.user_created[i]
    last_login = created + np.floor((m.end - 1 - created) * m.stream("users", "login").uniform(i) ** 0.2).astype(
        np.int64
    )
    return col.table(
        {
            "user_id": i + 1,
            "first_name": first,
            "last_name": last,
            "full_name": col.join(first, " ", last),
            "email": col.join(handle, ".", col.text(i + 1), "@", STAFF_DOMAIN),
            "phone": mobile(m.stream("users", "phone"), i),
            "role": _pick(ROLES, role),
            "department": _pick(DEPARTMENTS, role),
            "is_active": m.stream("users", "inactive").uniform(i) >= 0.05,
            "created_at": col.timestamps(created),
            "last_login_at": col.timestamps(last_login),
        },
        USERS,
    )


# --- companies and branches --------------------------------------------------------------------
COMPANIES = col.schema(
    ("company_id", INT), ("name", STRING), ("legal_name", STRING), ("business_type", STRING),
    ("governorate", STRING), ("district", STRING), ("address", STRING), ("phone", STRING), ("email", STRING),
    ("contact_name", STRING), ("contact_mobile", STRING), ("tax_number", STRING), ("payment_terms_days", INT),
    ("credit_limit", MONEY), ("delivery_region", STRING), ("delivery_days", STRING), ("account_manager_id", INT),
    ("bulk_payer", pa.bool_()), ("created_at", TIMESTAMP),
)  # fmt: skip
_REGION_DAYS_TEXT = tuple(
    ",".join(("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")[d - 1] for d in data.REGION_ISO_DAYS[r])
    for r in data.REGIONS
)


def company_name(m: ErpModel, c: np.ndarray) -> tuple[pa.Array, pa.Array]:
    """(name, business type): an Egyptian trading name, or the locale's company names."""
    kind = _pick(data.BUSINESS_TYPES, m.stream("companies", "type").integers(c, 0, len(data.BUSINESS_TYPES)))
    if m.company_names is not None:
        return col.take(m.company_names, m.stream("companies", "name").integers(c, 0, len(m.company_names))), kind
    prefix = _pick(data.COMPANY_PREFIXES, m.stream("companies", "prefix").integers(c, 0, len(data.COMPANY_PREFIXES)))
    return col.join(prefix, " ", kind), kind


def tax_number(m: ErpModel, c: np.ndarray) -> pa.Array:
    """Egyptian tax registration number: 9 digits as ###-###-###, unique per company."""
    text = col.digits(10**8 + unique_codes(m.stream("companies", "tax"), c, 9 * 10**8), 9)
    part = lambda a, b: pc.utf8_slice_codeunits(text, a, b)  # noqa: E731
    return col.join(part(0, 3), "-", part(3, 6), "-", part(6, 9))


def companies(m: ErpModel, lo: int, hi: int) -> pa.Table:
    c = _ids(lo, hi)
    info = m.company
    governorate = info["governorate"][c]
    region = info["region"][c]
    name, kind = company_name(m, c)
    area = district(m, "companies", c, governorate)
    contact_first, contact_last = person_name(m, "companies", c)
    handle = pc.utf8_slice_codeunits(slug(name), 0, 24)
    handle = pc.if_else(pc.equal(pc.utf8_length(handle), 0), "company", handle)
    legal = _pick(data.LEGAL_FORMS, m.stream("companies", "legal").integers(c, 0, len(data.LEGAL_FORMS)))
    return col.table(
        {
            "company_id": c + 1,
            "name": name,
            "legal_name": col.join(name, " ", legal),
            "business_type": kind,
            "governorate": _pick(_GOVERNORATE_NAMES, governorate),
            "district": area,
            "address": address(m, "companies", c, area, governorate),
            "phone": landline(m.stream("companies", "phone"), c, governorate),
            "email": col.join("accounts@", handle, col.digits(c + 1, 4), ".example"),
            "contact_name": col.join(contact_first, " ", contact_last),
            "contact_mobile": mobile(m.stream("companies", "mobile"), c),
            "tax_number": tax_number(m, c),
            "payment_terms_days": info["terms"][c],
            "credit_limit": col.money(50_000_00 * m.stream("companies", "credit").integers(c, 1, 21)),
            "delivery_region": _pick(data.REGIONS, region),
            "delivery_days": _pick(_REGION_DAYS_TEXT, region),
            "account_manager_id": info["account_manager"][c] + 1,
            "bulk_payer": info["bulk"][c],
            "created_at": col.timestamps(info["created"][c]),
        },
        COMPANIES,
    )


BRANCHES = col.schema(
    ("branch_id", INT), ("company_id", INT), ("name", STRING), ("governorate", STRING), ("district", STRING),
    ("address", STRING), ("phone", STRING), ("manager_name", STRING), ("created_at", TIMESTAMP),
)  # fmt: skip


def branches(m: ErpModel, lo: int, hi: int) -> pa.Table:
    s = _ids(lo, hi)
    company, k = s // BRANCH_SLOTS, s % BRANCH_SLOTS
    keep = k < m.company["branches"][company]
    s, company, k = s[keep], company[keep], k[keep]
    # Most branches are in the company's governorate; some open in another one.
    home = m.company["governorate"][company]
    elsewhere = categorical(m.stream("branches", "governorate"), s, data.GOVERNORATE_WEIGHTS)
    governorate = np.where(m.stream("branches", "moved").bernoulli(s, 0.3), elsewhere, home)
    area = district(m, "branches", s, governorate)
    name, _ = company_name(m, company)
    first, last = person_name(m, "branches", s)
    return col.table(
        {
            "branch_id": s + 1,
            "company_id": company + 1,
            "name": col.join(name, " - ", area),
            "governorate": _pick(_GOVERNORATE_NAMES, governorate),
            "district": area,
            "address": address(m, "branches", s, area, governorate),
            "phone": landline(m.stream("branches", "phone"), s, governorate),
            "manager_name": col.join(first, " ", last),
            "created_at": col.timestamps(m.branch_created[company, k]),
        },
        BRANCHES,
    )


# --- products ----------------------------------------------------------------------------------
PRODUCTS = col.schema(
    ("product_id", INT), ("sku", STRING), ("name", STRING), ("category", STRING), ("unit", STRING),
    ("unit_price", MONEY), ("unit_cost", MONEY), ("currency", STRING), ("safety_stock", INT), ("active", pa.bool_()),
    ("created_at", TIMESTAMP),
)  # fmt: skip


def products(m: ErpModel, lo: int, hi: int) -> pa.Table:
    p = _ids(lo, hi)
    info = m.product
    combo = info["combo"][p]
    names, units = m.catalogue["name"], m.catalogue["unit"]
    category = info["category"][p]
    prefixes = tuple(c[1] for c in data.PRODUCT_CATEGORIES)
    # Beyond the catalogue's combinations a lot number keeps names apart.
    lot = p // m.catalogue_size
    name = col.take(names, combo)
    name = pc.if_else(pa.array(lot > 0), col.join(name, " Lot ", col.text(lot + 1)), name)
    return col.table(
        {
            "product_id": p + 1,
            "sku": col.join("SF-", _pick(prefixes, category), "-", col.digits(p + 1, 5)),
            "name": name,
            "category": _pick(tuple(c[0] for c in data.PRODUCT_CATEGORIES), category),
            "unit": col.take(units, combo),
            "unit_price": col.money(info["price_cents"][p]),
            "unit_cost": col.money(info["cost_cents"][p]),
            "currency": pa.array([CURRENCY] * len(p), STRING),
            "safety_stock": info["safety"][p],
            "active": m.stream("products", "active").uniform(p) >= 0.03,
            "created_at": col.timestamps(info["created"][p]),
        },
        PRODUCTS,
    )


# --- orders, items, discounts and status history -----------------------------------------------
ORDERS = col.schema(
    ("order_id", INT), ("order_number", STRING), ("company_id", INT), ("branch_id", INT), ("sales_rep_id", INT),
    ("order_date", TIMESTAMP), ("status", STRING), ("item_count", INT), ("subtotal", MONEY),
    ("discount_amount", MONEY), ("tax", MONEY), ("total_amount", MONEY), ("currency", STRING),
    ("delivery_region", STRING), ("scheduled_delivery_date", DATE), ("delivered_at", TIMESTAMP),
    ("cancelled_at", TIMESTAMP), ("created_at", TIMESTAMP), ("updated_at", TIMESTAMP), ("anomaly", STRING),
)  # fmt: skip


def last_event(m: ErpModel, life: Lifecycle) -> np.ndarray:
    """The time of the order's latest event by the end of the window."""
    t = np.where(life.confirmed, life.confirm_at, life.date)
    t = np.where(life.shipped, life.shipped_at, t)
    made = life.attempts > 0
    last_attempt = life.attempt_at[np.arange(len(life.g)), np.maximum(life.attempts - 1, 0)]
    t = np.where(made, last_attempt, t)
    return np.where(life.cancelled, life.cancel_at, t)


def orders(m: ErpModel, lo: int, hi: int) -> pa.Table:
    g = _ids(lo, hi)
    life = m.lifecycle(g)
    items = m.items(g, life.date)
    amounts = m.amounts(g, life.date, items)
    branch = m.order_branch(g, life.company, life.date)
    return col.table(
        {
            "order_id": g + 1,
            "order_number": col.join("SO-", col.digits(g + 1, 8)),
            "company_id": life.company + 1,
            "branch_id": col.ints(branch + 1, nulls=branch < 0),
            "sales_rep_id": m.company["account_manager"][life.company] + 1,
            "order_date": col.timestamps(life.date),
            "status": _pick(ORDER_STATUSES, life.status),
            "item_count": m.item_count(g),
            "subtotal": col.money(amounts["subtotal"]),
            "discount_amount": col.money(amounts["discount"]),
            "tax": col.money(amounts["tax"]),
            "total_amount": col.money(amounts["total"]),
            "currency": pa.array([CURRENCY] * len(g), STRING),
            "delivery_region": _pick(data.REGIONS, life.region),
            "scheduled_delivery_date": _dates(life.scheduled_day),
            "delivered_at": col.timestamps(life.final_at, nulls=~life.delivered),
            "cancelled_at": col.timestamps(life.cancel_at, nulls=~life.cancelled),
            "created_at": col.timestamps(life.date),
            "updated_at": col.timestamps(last_event(m, life)),
            "anomaly": _labels(life.anomaly),
        },
        ORDERS,
    )


ORDER_ITEMS = col.schema(
    ("order_item_id", INT), ("order_id", INT), ("product_id", INT), ("quantity", INT), ("unit_price", MONEY),
    ("discount_amount", MONEY), ("line_total", MONEY), ("created_at", TIMESTAMP),
)  # fmt: skip


def _order_range(lo: int, hi: int, slots: int) -> np.ndarray:
    return _ids(lo // slots, (hi - 1) // slots + 1)


def order_items(m: ErpModel, lo: int, hi: int) -> pa.Table:
    g = _order_range(lo, hi, ITEM_SLOTS)
    date = m.order_date(g)
    items = m.items(g, date)
    slot = items["slot"].ravel()
    keep = items["present"].ravel() & (slot >= lo) & (slot < hi)
    flat = {k: v.ravel()[keep] for k, v in items.items() if k not in ("slot", "present")}
    return col.table(
        {
            "order_item_id": slot[keep] + 1,
            "order_id": np.repeat(g, ITEM_SLOTS)[keep] + 1,
            "product_id": flat["product"] + 1,
            "quantity": flat["quantity"],
            "unit_price": col.money(flat["unit_cents"]),
            "discount_amount": col.money(flat["discount_cents"]),
            "line_total": col.money(flat["line_cents"]),
            "created_at": col.timestamps(np.repeat(date, ITEM_SLOTS)[keep]),
        },
        ORDER_ITEMS,
    )


DISCOUNTS = col.schema(
    ("discount_id", INT), ("order_id", INT), ("order_item_id", INT), ("discount_level", STRING), ("percent", INT),
    ("amount", MONEY), ("reason", STRING), ("created_at", TIMESTAMP),
)  # fmt: skip


def discounts(m: ErpModel, lo: int, hi: int) -> pa.Table:
    g = _order_range(lo, hi, DISCOUNT_SLOTS)
    date = m.order_date(g)
    items = m.items(g, date)
    mode = m.discount_mode(g)
    amounts = m.amounts(g, date, items)
    slot = g[:, None] * DISCOUNT_SLOTS + np.arange(DISCOUNT_SLOTS)[None, :]
    present = np.concatenate([(mode == DISCOUNT_ORDER)[:, None], items["discount_percent"] > 0], axis=1)
    percent = np.concatenate([m.order_discount_percent(g)[:, None], items["discount_percent"]], axis=1)
    amount = np.concatenate([amounts["discount"][:, None], items["discount_cents"]], axis=1)
    item_id = np.concatenate([np.full((len(g), 1), -1), items["slot"]], axis=1)
    flat = slot.ravel()
    keep = present.ravel() & (flat >= lo) & (flat < hi)
    is_order = np.tile(np.arange(DISCOUNT_SLOTS) == 0, len(g))  # slot 0 of each order
    reason = m.stream("discounts", "reason").integers(flat[keep], 0, len(data.DISCOUNT_REASONS))
    return col.table(
        {
            "discount_id": flat[keep] + 1,
            "order_id": np.repeat(g, DISCOUNT_SLOTS)[keep] + 1,
            "order_item_id": col.ints(item_id.ravel()[keep] + 1, nulls=is_order[keep]),
            "discount_level": pc.if_else(pa.array(is_order[keep]), "order", "item"),
            "percent": percent.ravel()[keep],
            "amount": col.money(amount.ravel()[keep]),
            "reason": _pick(data.DISCOUNT_REASONS, reason),
            "created_at": col.timestamps(np.repeat(date, DISCOUNT_SLOTS)[keep]),
        },
        DISCOUNTS,
    )


ORDER_STATUS_HISTORY = col.schema(
    ("order_status_history_id", INT), ("order_id", INT), ("status", STRING), ("user_id", INT),
    ("changed_at", TIMESTAMP),
)  # fmt: skip


def order_status_history(m: ErpModel, lo: int, hi: int) -> pa.Table:
    g = _order_range(lo, hi, HISTORY_SLOTS)
    life = m.lifecycle(g)
    n = len(g)
    rep = m.company["account_manager"][life.company]
    slot = g[:, None] * HISTORY_SLOTS + np.arange(HISTORY_SLOTS)[None, :]
    terminal = np.isin(life.status, (STATUS_DELIVERED, STATUS_FAILED, STATUS_CANCELLED))
    present = np.stack([np.ones(n, dtype=bool), life.confirmed, life.shipped, terminal], axis=1)
    status = np.stack(
        [np.zeros(n, dtype=np.int64), np.ones(n, dtype=np.int64), np.full(n, STATUS_SHIPPED), life.status], axis=1
    )
    terminal_at = np.where(life.cancelled, life.cancel_at, life.final_at)
    at = np.stack([life.date, life.confirm_at, life.shipped_at, terminal_at], axis=1)
    flat = slot.ravel()
    manager = m.pick_user((ROLE_MANAGER, ROLE_ADMIN), m.stream("order_status_history", "manager"), flat)
    support = m.pick_user((ROLE_SUPPORT,), m.stream("order_status_history", "dispatcher"), flat)
    k = np.tile(np.arange(HISTORY_SLOTS), n)
    by_rep = (k == 0) | ((k == 3) & np.repeat(life.cancelled, HISTORY_SLOTS))
    user = np.where(by_rep, np.repeat(rep, HISTORY_SLOTS), np.where(k == 1, manager, support))
    keep = present.ravel() & (flat >= lo) & (flat < hi)
    return col.table(
        {
            "order_status_history_id": flat[keep] + 1,
            "order_id": np.repeat(g, HISTORY_SLOTS)[keep] + 1,
            "status": _pick(ORDER_STATUSES, status.ravel()[keep]),
            "user_id": user[keep] + 1,
            "changed_at": col.timestamps(at.ravel()[keep]),
        },
        ORDER_STATUS_HISTORY,
    )


# --- shipments and delivery attempts -----------------------------------------------------------
SHIPMENTS = col.schema(
    ("shipment_id", INT), ("order_id", INT), ("depot", STRING), ("carrier", STRING), ("tracking_number", STRING),
    ("status", STRING), ("shipped_at", TIMESTAMP), ("scheduled_delivery_date", DATE), ("delivered_at", TIMESTAMP),
    ("attempt_count", INT), ("last_failure_reason", STRING), ("created_at", TIMESTAMP), ("anomaly", STRING),
)  # fmt: skip
_SHIPMENT_LABELS = ("delivery_delay", "delivery_failure", "stockout")


def failure_reason(m: ErpModel, attempt_slot: np.ndarray) -> np.ndarray:
    return m.stream("delivery_attempts", "reason").integers(attempt_slot, 0, len(data.FAILURE_REASONS))


def shipments(m: ErpModel, lo: int, hi: int) -> pa.Table:
    g = _ids(lo, hi)
    life = m.lifecycle(g)
    keep = life.shipped
    g = g[keep]
    status, region, attempts = life.status[keep], life.region[keep], life.attempts[keep]
    failed_so_far = np.minimum(attempts, life.failed_attempts[keep])
    last_failed_slot = g * ATTEMPT_SLOTS + np.maximum(failed_so_far - 1, 0)
    delivered = status == STATUS_DELIVERED
    return col.table(
        {
            "shipment_id": g + 1,
            "order_id": g + 1,
            "depot": _pick(tuple(data.REGION_DEPOTS[r] for r in data.REGIONS), region),
            "carrier": _pick(CARRIERS, categorical(m.stream("shipments", "carrier"), g, (50, 20, 15, 10, 5))),
            "tracking_number": col.join(
                "SFT", col.digits(unique_codes(m.stream("shipments", "tracking"), g, 10**9), 9)
            ),
            "status": _pick(
                ("in_transit", "delivered", "failed"), np.select([delivered, status == STATUS_FAILED], [1, 2], 0)
            ),
            "shipped_at": col.timestamps(life.shipped_at[keep]),
            "scheduled_delivery_date": _dates(life.scheduled_day[keep]),
            "delivered_at": col.timestamps(life.final_at[keep], nulls=~delivered),
            "attempt_count": attempts,
            "last_failure_reason": _null_if(
                failed_so_far == 0, _pick(data.FAILURE_REASONS, failure_reason(m, last_failed_slot))
            ),
            "created_at": col.timestamps(life.shipped_at[keep]),
            "anomaly": _labels(life.anomaly[keep], _SHIPMENT_LABELS),
        },
        SHIPMENTS,
    )


DELIVERY_ATTEMPTS = col.schema(
    ("delivery_attempt_id", INT), ("shipment_id", INT), ("attempt_number", INT), ("attempted_at", TIMESTAMP),
    ("outcome", STRING), ("failure_reason", STRING),
)  # fmt: skip


def delivery_attempts(m: ErpModel, lo: int, hi: int) -> pa.Table:
    g = _order_range(lo, hi, ATTEMPT_SLOTS)
    life = m.lifecycle(g)
    slot = (g[:, None] * ATTEMPT_SLOTS + np.arange(ATTEMPT_SLOTS)[None, :]).ravel()
    j = np.tile(np.arange(ATTEMPT_SLOTS), len(g))
    keep = (j < np.repeat(life.attempts, ATTEMPT_SLOTS)) & (slot >= lo) & (slot < hi)
    failed = j < np.repeat(life.failed_attempts, ATTEMPT_SLOTS)
    slot, j, failed = slot[keep], j[keep], failed[keep]
    return col.table(
        {
            "delivery_attempt_id": slot + 1,
            "shipment_id": slot // ATTEMPT_SLOTS + 1,
            "attempt_number": j + 1,
            "attempted_at": col.timestamps(life.attempt_at.ravel()[keep]),
            "outcome": pc.if_else(pa.array(failed), "failed", "delivered"),
            "failure_reason": _null_if(~failed, _pick(data.FAILURE_REASONS, failure_reason(m, slot))),
        },
        DELIVERY_ATTEMPTS,
    )


# --- payments and refunds ----------------------------------------------------------------------
PAYMENTS = col.schema(
    ("payment_id", INT), ("order_id", INT), ("company_id", INT), ("invoice_number", STRING), ("amount", MONEY),
    ("currency", STRING), ("invoice_date", TIMESTAMP), ("payment_terms_days", INT), ("due_date", DATE),
    ("paid_at", TIMESTAMP), ("status", STRING), ("days_late", INT), ("method", STRING),
    ("transfer_reference", STRING), ("settlement", STRING), ("created_at", TIMESTAMP), ("anomaly", STRING),
)  # fmt: skip


def payments(m: ErpModel, lo: int, hi: int) -> pa.Table:
    g = _ids(lo, hi)
    life = m.lifecycle(g)
    pay = m.billing(life)
    keep = life.delivered
    g, company = g[keep], life.company[keep]
    status, paid_at, due_at = pay.status[keep], pay.paid_at[keep], pay.due_at[keep]
    terms, bulk, cycle = pay.terms[keep], pay.bulk[keep], pay.cycle[keep]
    paid = np.isin(status, (PAY_PAID, PAY_LATE))
    late_seconds = np.where(paid, paid_at - due_at, m.end - due_at)
    days_late = -(-late_seconds // DAY)
    method = np.where(bulk, 0, np.where(terms == 0, 3, categorical(m.stream("payments", "method"), g, (55, 20, 20, 5))))
    reference = pc.if_else(
        pa.array(bulk),
        col.join("BLK-", col.digits(company + 1, 5), "-", col.digits(cycle, 4)),
        col.join("TRF-", col.digits(g + 1, 8)),
    )
    amounts = m.amounts(g, life.date[keep])
    return col.table(
        {
            "payment_id": g + 1,
            "order_id": g + 1,
            "company_id": company + 1,
            "invoice_number": col.join("INV-", col.digits(g + 1, 8)),
            "amount": col.money(amounts["total"]),
            "currency": pa.array([CURRENCY] * len(g), STRING),
            "invoice_date": col.timestamps(pay.invoice_at[keep]),
            "payment_terms_days": terms,
            "due_date": _dates(due_at // DAY),
            "paid_at": col.timestamps(paid_at, nulls=~paid),
            "status": _pick(PAYMENT_STATUSES, status),
            "days_late": col.ints(days_late, nulls=~np.isin(status, (PAY_LATE, PAY_OVERDUE))),
            "method": _null_if(~paid, _pick(PAYMENT_METHODS, method)),
            "transfer_reference": _null_if(~paid, reference),
            "settlement": _null_if(~paid, pc.if_else(pa.array(bulk), "bulk", "single")),
            "created_at": col.timestamps(pay.invoice_at[keep]),
            "anomaly": _null_if(~np.isin(status, (PAY_LATE, PAY_OVERDUE)), _pick(("payment_delay",), np.zeros(len(g)))),
        },
        PAYMENTS,
    )


REFUNDS = col.schema(
    ("refund_id", INT), ("payment_id", INT), ("order_id", INT), ("amount", MONEY), ("reason", STRING),
    ("status", STRING), ("rejection_reason", STRING), ("requested_by_user_id", INT), ("decided_by_user_id", INT),
    ("requested_at", TIMESTAMP), ("decided_at", TIMESTAMP), ("created_at", TIMESTAMP),
)  # fmt: skip


def refund_people(m: ErpModel, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(requested by: a support agent, decided by: a manager or admin)."""
    requester = m.pick_user((ROLE_SUPPORT,), m.stream("refunds", "requester"), g)
    decider = m.pick_user((ROLE_MANAGER, ROLE_ADMIN), m.stream("refunds", "decider"), g)
    return requester, decider


def refunds(m: ErpModel, lo: int, hi: int) -> pa.Table:
    g = _ids(lo, hi)
    life = m.lifecycle(g)
    pay = m.billing(life)
    r = m.refunds(life, pay)
    keep = r["present"]
    g = g[keep]
    status = r["status"][keep]
    open_ = status == REFUND_REQUESTED
    total = m.amounts(g, life.date[keep])["total"]
    requester, decider = refund_people(m, g)
    rejection = m.stream("refunds", "rejection").integers(g, 0, len(data.REJECTION_REASONS))
    return col.table(
        {
            "refund_id": g + 1,
            "payment_id": g + 1,
            "order_id": g + 1,
            "amount": col.money(np.maximum(total * r["percent"][keep] // 100, 1)),
            "reason": _pick(data.REFUND_REASONS, r["reason"][keep]),
            "status": _pick(REFUND_STATUSES, status),
            "rejection_reason": _null_if(status != 2, _pick(data.REJECTION_REASONS, rejection)),
            "requested_by_user_id": requester + 1,
            "decided_by_user_id": col.ints(decider + 1, nulls=open_),
            "requested_at": col.timestamps(r["requested_at"][keep]),
            "decided_at": col.timestamps(r["decided_at"][keep], nulls=open_),
            "created_at": col.timestamps(r["requested_at"][keep]),
        },
        REFUNDS,
    )


# --- inventory movements -----------------------------------------------------------------------
INVENTORY_MOVEMENTS = col.schema(
    ("inventory_movement_id", INT), ("product_id", INT), ("movement_type", STRING), ("quantity_change", INT),
    ("order_item_id", INT), ("reason", STRING), ("moved_at", TIMESTAMP), ("anomaly", STRING),
)  # fmt: skip
MOVEMENT_TYPES = ("restock", "adjustment", "fulfillment", "return")
_MOVEMENT_REASONS = ("weekly replenishment", "cycle count correction", "order shipped", "")
_RETURN_REASONS = ("failed delivery returned to depot", "customer return")


def product_slots(m: ErpModel) -> int:
    return m.products * m.weeks * 2


def _product_movements(m: ErpModel, lo: int, hi: int) -> dict[str, np.ndarray | pa.Array]:
    s = _ids(lo, hi)
    pw, kind = s // 2, s % 2
    p, w = pw // m.weeks, pw % m.weeks
    plan = m.stock_plan
    qty = np.where(kind == 0, plan["restock"][p, w], plan["adjust"][p, w])
    keep = qty != 0
    s, kind, p, w, qty = s[keep], kind[keep], p[keep], w[keep], qty[keep]
    first_week = w == plan["created_week"][p]
    at = np.where(first_week, m.product["created"][p], m.start + w * WEEK) + 120 * kind
    return {
        "id": s,
        "product": p,
        "type": kind,
        "qty": qty,
        "item": np.full(len(s), -1),
        "reason": _pick(_MOVEMENT_REASONS, kind),
        "at": at,
        "anomaly": np.full(len(s), NO_ANOMALY),
    }


def _item_movements(m: ErpModel, lo: int, hi: int) -> dict[str, np.ndarray | pa.Array]:
    base = product_slots(m)
    item_lo, item_hi = (lo - base) // 2, (hi - 1 - base) // 2 + 1
    g = _order_range(item_lo, item_hi, ITEM_SLOTS)
    life = m.lifecycle(g)
    items = m.items(g, life.date)
    shipped = items["present"] & life.shipped[:, None]
    back, when = m.item_returns(life, items["slot"])
    back &= shipped
    slot = items["slot"]
    # Two movement slots per item slot: its fulfilment, then its return.
    mid = base + 2 * slot
    ids = np.stack([mid, mid + 1], axis=-1).ravel()
    present = np.stack([shipped, back], axis=-1).ravel()
    keep = present & (ids >= lo) & (ids < hi)
    is_return = np.tile([False, True], slot.size)[keep]
    qty = np.repeat(items["quantity"].ravel(), 2)[keep]
    failed_back = np.repeat(np.repeat(life.status == STATUS_FAILED, ITEM_SLOTS), 2)[keep]
    at = np.stack([np.broadcast_to(life.shipped_at[:, None], slot.shape), when], axis=-1).ravel()[keep]
    stockout = np.repeat(np.repeat(life.anomaly == LABEL["stockout"], ITEM_SLOTS), 2)[keep] & ~is_return
    reason = pc.if_else(
        pa.array(is_return),
        _pick(_RETURN_REASONS, np.where(failed_back, 0, 1)),
        pc.if_else(pa.array(stockout), "order shipped after backorder", "order shipped"),
    )
    return {
        "id": ids[keep],
        "product": np.repeat(items["product"].ravel(), 2)[keep],
        "type": np.where(is_return, 3, 2),
        "qty": np.where(is_return, qty, -qty),
        "item": np.repeat(slot.ravel(), 2)[keep],
        "reason": reason,
        "at": at,
        "anomaly": np.where(stockout, LABEL["stockout"], NO_ANOMALY),
    }


def inventory_movements(m: ErpModel, lo: int, hi: int) -> pa.Table:
    base = product_slots(m)
    parts = []
    if lo < base:
        parts.append(_product_movements(m, lo, min(hi, base)))
    if hi > base:
        parts.append(_item_movements(m, max(lo, base), hi))
    tables = [
        col.table(
            {
                "inventory_movement_id": part["id"] + 1,
                "product_id": part["product"] + 1,
                "movement_type": _pick(MOVEMENT_TYPES, part["type"]),
                "quantity_change": part["qty"],
                "order_item_id": col.ints(part["item"] + 1, nulls=part["item"] < 0),
                "reason": part["reason"],
                "moved_at": col.timestamps(part["at"]),
                "anomaly": _labels(part["anomaly"]),
            },
            INVENTORY_MOVEMENTS,
        )
        for part in parts
    ]
    return pa.concat_tables(tables) if len(tables) > 1 else tables[0]


# --- maintenance visits ------------------------------------------------------------------------
MAINTENANCE_VISITS = col.schema(
    ("maintenance_visit_id", INT), ("company_id", INT), ("technician_id", INT), ("visit_type", STRING),
    ("status", STRING), ("visited_at", TIMESTAMP), ("duration_minutes", INT), ("services", JSON),
    ("spare_parts", JSON), ("parts_cost", MONEY), ("labor_cost", MONEY), ("total_cost", MONEY),
    ("follow_up_of_visit_id", INT), ("created_at", TIMESTAMP),
)  # fmt: skip
LABOR_PER_HOUR_CENTS = 350_00
_SERVICE_NAMES = pa.array(data.SERVICES, STRING)
_PART_NAMES = pa.array([p[0] for p in data.SPARE_PARTS], STRING)
_PART_COSTS = np.array([p[1] for p in data.SPARE_PARTS], dtype=np.int64)
# Steps coprime with 12 give distinct entries within one visit.
_STEPS = np.array([1, 5, 7, 11])


def visit_rows(m: ErpModel, s: np.ndarray) -> dict[str, np.ndarray]:
    """Pure attributes of visit slots s (present or not)."""
    b, k = s // VISIT_SLOTS, s % VISIT_SLOTS
    v = m.visits(b)
    follow = k == 1
    at = np.where(follow, v["follow_at"], v["at"])
    company = v["company"]
    lead = m.stream("maintenance_visits", "lead").integers(b, HOUR, 7 * DAY)
    created = np.where(follow, v["at"], np.maximum(m.company["created"][company], v["at"] - lead))
    technician = m.pick_user((ROLE_SUPPORT,), m.stream("maintenance_visits", "technician"), s)
    return {"b": b, "present": ~follow | v["follows"], "at": at, "company": company, "follow": follow,
            "created": created, "technician": technician}  # fmt: skip


def _json_list(entries: list[pa.Array]) -> pa.Array:
    """A JSON array per row from element columns where element j is null only if j+1.. are too."""
    body = pc.fill_null(entries[0], "")
    for entry in entries[1:]:
        body = pc.if_else(pc.is_null(entry), body, col.join(body, ",", entry))
    return col.join("[", body, "]")


def maintenance_visits(m: ErpModel, lo: int, hi: int) -> pa.Table:
    s = _ids(lo, hi)
    v = visit_rows(m, s)
    keep = v["present"]
    s = s[keep]
    v = {k: a[keep] for k, a in v.items()}
    n = len(s)
    st = lambda c: m.stream("maintenance_visits", c)  # noqa: E731
    kind = np.where(v["follow"], len(data.VISIT_TYPES), categorical(st("type"), s, data.VISIT_TYPE_WEIGHTS))
    duration = 15 * st("duration").integers(s, 2, 17)
    # Services: 1..3 distinct names; spare parts: 0..3 distinct parts, 1-2 of each.
    services_n = st("services").integers(s, 1, MAX_SERVICES + 1)
    first_service, service_step = (
        st("service").integers(s, 0, len(data.SERVICES)),
        _STEPS[st("service_step").integers(s, 0, 4)],
    )
    services = [
        _null_if(services_n <= j, col.join('"', col.take(_SERVICE_NAMES, first_service + j * service_step), '"'))
        for j in range(MAX_SERVICES)
    ]
    parts_n = categorical(st("parts"), s, (30, 40, 20, 10))
    first_part, part_step = st("part").integers(s, 0, len(_PART_COSTS)), _STEPS[st("part_step").integers(s, 0, 4)]
    parts_cost = np.zeros(n, dtype=np.int64)
    parts = []
    for j in range(MAX_PARTS):
        part = (first_part + j * part_step) % len(_PART_COSTS)
        qty = st(f"part_qty_{j}").integers(s, 1, 3)
        used = parts_n > j
        parts_cost += np.where(used, qty * _PART_COSTS[part] * 100, 0)
        entry = col.join('{"part":"', col.take(_PART_NAMES, part), '","quantity":', col.text(qty), ',"unit_cost":',
                         col.text(_PART_COSTS[part]), "}")  # fmt: skip
        parts.append(_null_if(~used, entry))
    labor = duration * LABOR_PER_HOUR_CENTS // 60
    return col.table(
        {
            "maintenance_visit_id": s + 1,
            "company_id": v["company"] + 1,
            "technician_id": v["technician"] + 1,
            "visit_type": _pick((*data.VISIT_TYPES, "follow_up"), kind),
            "status": pa.array(["completed"] * n, STRING),
            "visited_at": col.timestamps(v["at"]),
            "duration_minutes": duration,
            "services": _json_list(services),
            "spare_parts": _json_list(parts),
            "parts_cost": col.money(parts_cost),
            "labor_cost": col.money(labor),
            "total_cost": col.money(parts_cost + labor),
            "follow_up_of_visit_id": col.ints(v["b"] * VISIT_SLOTS + 1, nulls=~v["follow"]),
            "created_at": col.timestamps(v["created"]),
        },
        MAINTENANCE_VISITS,
    )


# --- audit logs --------------------------------------------------------------------------------
AUDIT_LOGS = col.schema(
    ("audit_log_id", INT), ("user_id", INT), ("entity_type", STRING), ("entity_id", INT), ("action", STRING),
    ("occurred_at", TIMESTAMP), ("ip_address", STRING),
)  # fmt: skip
ACTIONS = ("create", "confirm", "cancel", "dispatch", "record_payment", "request_refund", "approve_refund",
           "reject_refund", "complete_visit", "open_branch", "grant_discount", "receive_stock", "adjust_stock")  # fmt: skip
ACTION = {a: i for i, a in enumerate(ACTIONS)}
ENTITY_TYPES = ("company", "branch", "product", "order", "discount", "shipment", "payment", "refund",
                "inventory_movement", "maintenance_visit")  # fmt: skip
ENTITY = {e: i for i, e in enumerate(ENTITY_TYPES)}
Rows = dict[str, np.ndarray]


def _audit_companies(m: ErpModel, c: np.ndarray) -> Rows:
    return {"keep": np.ones(len(c), dtype=bool), "user": m.company["account_manager"][c], "entity": c,
            "action": np.full(len(c), ACTION["create"]), "at": m.company["created"][c]}  # fmt: skip


def _audit_products(m: ErpModel, p: np.ndarray) -> Rows:
    user = m.pick_user((ROLE_ADMIN, ROLE_MANAGER), m.stream("audit_logs", "product_user"), p)
    return {"keep": np.ones(len(p), dtype=bool), "user": user, "entity": p,
            "action": np.full(len(p), ACTION["create"]), "at": m.product["created"][p]}  # fmt: skip


def _audit_branches(m: ErpModel, s: np.ndarray) -> Rows:
    company, k = s // BRANCH_SLOTS, s % BRANCH_SLOTS
    return {"keep": k < m.company["branches"][company], "user": m.company["account_manager"][company], "entity": s,
            "action": np.full(len(s), ACTION["open_branch"]), "at": m.branch_created[company, k]}  # fmt: skip


def _audit_discounts(m: ErpModel, s: np.ndarray) -> Rows:
    """Discounts are granted by the account's sales rep when the order is taken."""
    g, k = s // DISCOUNT_SLOTS, s % DISCOUNT_SLOTS
    date = m.order_date(g)
    mode = m.discount_mode(g)
    slot = np.minimum(k - 1, ITEM_SLOTS - 1)
    item_percent = m.items(g, date)["discount_percent"][np.arange(len(g)), slot]
    keep = np.where(k == 0, mode == DISCOUNT_ORDER, (k > 0) & (item_percent > 0))
    rep = m.company["account_manager"][m.order_company(g, date)]
    return {"keep": keep, "user": rep, "entity": s, "action": np.full(len(s), ACTION["grant_discount"]), "at": date}


def _audit_stock(m: ErpModel, s: np.ndarray) -> Rows:
    """Restocks and count corrections are booked by the warehouse team (support) or an admin."""
    moves = _product_movements(m, int(s[0]), int(s[-1]) + 1)  # s is a non-empty contiguous range
    keep = np.isin(s, moves["id"])  # present movements, in the same (ascending) order as moves
    user = m.pick_user((ROLE_SUPPORT, ROLE_ADMIN), m.stream("audit_logs", "storekeeper"), s)
    at = np.zeros(len(s), dtype=np.int64)
    at[keep] = moves["at"]
    action = np.where(s % 2 == 0, ACTION["receive_stock"], ACTION["adjust_stock"])
    return {"keep": keep, "user": user, "entity": s, "action": action, "at": at}


def _audit_orders(m: ErpModel, s: np.ndarray) -> Rows:
    g, k = s // 3, s % 3
    life = m.lifecycle(g)
    rep = m.company["account_manager"][life.company]
    manager = m.pick_user((ROLE_MANAGER, ROLE_ADMIN), m.stream("audit_logs", "confirmer"), s)
    keep = np.select([k == 0, k == 1], [True, life.confirmed], life.cancelled)
    return {
        "keep": keep,
        "user": np.where(k == 1, manager, rep),
        "entity": g,
        "action": np.select([k == 0, k == 1], [ACTION["create"], ACTION["confirm"]], ACTION["cancel"]),
        "at": np.select([k == 0, k == 1], [life.date, life.confirm_at], life.cancel_at),
    }


def _audit_shipments(m: ErpModel, g: np.ndarray) -> Rows:
    life = m.lifecycle(g)
    user = m.pick_user((ROLE_SUPPORT,), m.stream("audit_logs", "dispatcher"), g)
    return {"keep": life.shipped, "user": user, "entity": g, "action": np.full(len(g), ACTION["dispatch"]),
            "at": life.shipped_at}  # fmt: skip


def _audit_payments(m: ErpModel, g: np.ndarray) -> Rows:
    life = m.lifecycle(g)
    pay = m.billing(life)
    user = m.pick_user((ROLE_ADMIN, ROLE_MANAGER), m.stream("audit_logs", "cashier"), g)
    keep = life.delivered & np.isin(pay.status, (PAY_PAID, PAY_LATE))
    return {"keep": keep, "user": user, "entity": g, "action": np.full(len(g), ACTION["record_payment"]),
            "at": pay.paid_at}  # fmt: skip


def _audit_refunds(m: ErpModel, s: np.ndarray) -> Rows:
    g, k = s // 2, s % 2
    life = m.lifecycle(g)
    r = m.refunds(life, m.billing(life))
    requester, decider = refund_people(m, g)
    decided = r["status"] != REFUND_REQUESTED
    decision = np.where(r["status"] == 1, ACTION["approve_refund"], ACTION["reject_refund"])
    return {
        "keep": r["present"] & ((k == 0) | decided),
        "user": np.where(k == 0, requester, decider),
        "entity": g,
        "action": np.where(k == 0, ACTION["request_refund"], decision),
        "at": np.where(k == 0, r["requested_at"], r["decided_at"]),
    }


def _audit_visits(m: ErpModel, s: np.ndarray) -> Rows:
    v = visit_rows(m, s)
    return {"keep": v["present"], "user": v["technician"], "entity": s,
            "action": np.full(len(s), ACTION["complete_visit"]), "at": v["at"]}  # fmt: skip


def audit_segments(m: ErpModel) -> list[tuple[int, int, Callable[[ErpModel, np.ndarray], Rows]]]:
    """(entity type, slots, builder) in slot order: the audit log's slot space is their concatenation."""
    return [
        (ENTITY["company"], m.companies, _audit_companies),
        (ENTITY["branch"], BRANCH_SLOTS * m.companies, _audit_branches),
        (ENTITY["product"], m.products, _audit_products),
        (ENTITY["order"], 3 * m.orders, _audit_orders),
        (ENTITY["discount"], DISCOUNT_SLOTS * m.orders, _audit_discounts),
        (ENTITY["inventory_movement"], product_slots(m), _audit_stock),
        (ENTITY["shipment"], m.orders, _audit_shipments),
        (ENTITY["payment"], m.orders, _audit_payments),
        (ENTITY["refund"], 2 * m.orders, _audit_refunds),
        (ENTITY["maintenance_visit"], VISIT_SLOTS * m.base_visits, _audit_visits),
    ]


def audit_slots(m: ErpModel) -> int:
    return sum(n for _, n, _ in audit_segments(m))


def audit_logs(m: ErpModel, lo: int, hi: int) -> pa.Table:
    offset = 0
    out: list[pa.Table] = []
    for entity_type, n, build in audit_segments(m):
        a, b = max(lo, offset), min(hi, offset + n)
        if a < b:
            local = _ids(a - offset, b - offset)
            rows = build(m, local)
            keep = rows["keep"]
            user = rows["user"][keep]
            out.append(
                col.table(
                    {
                        "audit_log_id": local[keep] + offset + 1,
                        "user_id": user + 1,
                        "entity_type": _pick(ENTITY_TYPES, np.full(int(keep.sum()), entity_type)),
                        "entity_id": rows["entity"][keep] + 1,
                        "action": _pick(ACTIONS, rows["action"][keep]),
                        "occurred_at": col.timestamps(rows["at"][keep]),
                        "ip_address": col.join("10.20.", col.text(user // 250), ".", col.text(user % 250 + 1)),
                    },
                    AUDIT_LOGS,
                )
            )
        offset += n
    return pa.concat_tables(out) if out else AUDIT_LOGS.empty_table()


# --- the table specs ---------------------------------------------------------------------------
FOREIGN_KEYS: dict[str, tuple[tuple[str, str], ...]] = {
    "companies": (("account_manager_id", "users"),),
    "branches": (("company_id", "companies"),),
    "orders": (("company_id", "companies"), ("branch_id", "branches"), ("sales_rep_id", "users")),
    "order_items": (("order_id", "orders"), ("product_id", "products")),
    "discounts": (("order_id", "orders"), ("order_item_id", "order_items")),
    "order_status_history": (("order_id", "orders"), ("user_id", "users")),
    "shipments": (("order_id", "orders"),),
    "delivery_attempts": (("shipment_id", "shipments"),),
    "payments": (("order_id", "orders"), ("company_id", "companies")),
    "refunds": (("payment_id", "payments"), ("order_id", "orders"), ("requested_by_user_id", "users"), ("decided_by_user_id", "users")),
    "inventory_movements": (("product_id", "products"), ("order_item_id", "order_items")),
    "maintenance_visits": (
        ("company_id", "companies"), ("technician_id", "users"), ("follow_up_of_visit_id", "maintenance_visits"),
    ),
    "audit_logs": (("user_id", "users"),),
}  # fmt: skip
# audit_logs.entity_id points at the table named by entity_type; its check covers every kind.
AUDITED_TABLES = ("companies", "branches", "products", "orders", "discounts", "shipments", "payments", "refunds",
                  "inventory_movements", "maintenance_visits")  # fmt: skip


def _spec(
    name: str, key: str, schema: pa.Schema, slots, build, parents: tuple[str, ...], description: str
) -> TableSpec:
    return TableSpec(
        DOMAIN, name, key, schema, description, slots, build, parents, foreign_keys=FOREIGN_KEYS.get(name, ())
    )


TABLES: tuple[TableSpec, ...] = (
    _spec("users", "user_id", USERS, lambda m: m.users, users, (),
          "SynergyFlow staff: admin 5%, manager 15%, sales 50%, support 30%."),
    _spec("companies", "company_id", COMPANIES, lambda m: m.companies, companies, ("users",),
          "Customer companies across Egypt's governorates with tax number, payment terms and delivery region."),
    _spec("branches", "branch_id", BRANCHES, lambda m: m.companies * BRANCH_SLOTS, branches, ("companies",),
          "Branches of about 30% of the companies."),
    _spec("products", "product_id", PRODUCTS, lambda m: m.products, products, (),
          "Coffee and beverage catalogue in EGP; popularity follows a Zipf law."),
    _spec("orders", "order_id", ORDERS, lambda m: m.orders, orders, ("companies", "branches", "users", "products"),
          "Orders laid out by the time-series engine; delivery on the region's days; labelled anomalies."),
    _spec("order_items", "order_item_id", ORDER_ITEMS, lambda m: m.orders * ITEM_SLOTS, order_items,
          ("orders", "products"), "Order lines with item-level discounts."),
    _spec("discounts", "discount_id", DISCOUNTS, lambda m: m.orders * DISCOUNT_SLOTS, discounts,
          ("orders", "order_items"), "Order-level or item-level discounts, never both on one order's items."),
    _spec("order_status_history", "order_status_history_id", ORDER_STATUS_HISTORY,
          lambda m: m.orders * HISTORY_SLOTS, order_status_history, ("orders", "users"),
          "Each order's status changes in time order."),
    _spec("shipments", "shipment_id", SHIPMENTS, lambda m: m.orders, shipments, ("orders",),
          "Shipments from the region's depot, with delivery outcome."),
    _spec("delivery_attempts", "delivery_attempt_id", DELIVERY_ATTEMPTS, lambda m: m.orders * ATTEMPT_SLOTS,
          delivery_attempts, ("shipments",), "Delivery attempts on the region's days; failure reasons."),
    _spec("payments", "payment_id", PAYMENTS, lambda m: m.orders, payments, ("orders", "companies", "shipments"),
          "Invoices at delivery and their payment: due date from terms, bulk transfers, overdue share."),
    _spec("refunds", "refund_id", REFUNDS, lambda m: m.orders, refunds, ("payments", "orders", "users"),
          "Refund requests with an approval workflow; never more than was paid."),
    _spec("inventory_movements", "inventory_movement_id", INVENTORY_MOVEMENTS,
          lambda m: product_slots(m) + m.orders * ITEM_SLOTS * 2, inventory_movements,
          ("products", "order_items", "shipments"),
          "Restocks, count adjustments, fulfilments of order items and returns; stock never negative."),
    _spec("maintenance_visits", "maintenance_visit_id", MAINTENANCE_VISITS, lambda m: m.base_visits * VISIT_SLOTS,
          maintenance_visits, ("companies", "users"),
          "Coffee machine service visits with spare parts, services and follow-ups."),
    _spec("audit_logs", "audit_log_id", AUDIT_LOGS, audit_slots, audit_logs, ("users", *AUDITED_TABLES),
          "Who did what to which entity, and when."),
)  # fmt: skip
