"""The SynergyFlow ERP tables (seed 001): schema and a pure, columnar builder for each.

Every builder turns a slot range [lo, hi) into Arrow columns from the model's pure functions of
indices; no per-row Python runs. Tables with empty slots number their rows densely (1..n, `dense`),
so keys are stable whatever the chunking. The stock ledger (inventory_movements) is derived from
the tables already written.

Anomaly ground truth: `orders.anomaly` is decided once per order (ErpModel.lifecycle) and is set only
where the anomaly had a visible effect by the end of the window. Related rows carry the same label
where they show its consequence: payments (payment_delay: paid after the due date or still overdue),
shipments (delivery_delay and stockout: first attempt after the scheduled date; delivery_failure:
failed attempts, and after three the goods go back to the depot), refunds (claimed for the order's
late or backordered delivery) and inventory_movements (stockout: the count that finds the shelf
empty before the backordered item ships). A cancellation is a cancelled order with no shipment and
no invoice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mock_pipeline.domains.erp import data
from mock_pipeline.domains.erp.descriptions import COLUMN_DESCRIPTIONS
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
    OFFICE_OPEN,
    ORDER_STATUSES,
    PAY_LATE,
    PAY_PAID,
    PAY_PARTIALLY_REFUNDED,
    PAY_REFUNDED,
    PAYMENT_STATUSES,
    REFUND_APPROVED,
    REFUND_NONE,
    REFUND_REJECTED,
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
    ErpModel,
    Lifecycle,
    office_time,
)
from mock_pipeline.engine import columns as col
from mock_pipeline.engine.columns import JSON, MONEY, TIMESTAMP
from mock_pipeline.engine.dense import DenseKeys
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
NEW_BRANCH_DAYS = 60  # an order from a branch this young gets the branch-opening discount
CARRIERS = ("SynergyFlow Fleet", "Bosta", "Aramex", "Mylerz", "R2S")
PAYMENT_METHODS = ("bank_transfer", "cheque", "instapay", "cash")  # indexed by model.METHOD_*
# Why a collection attempt failed, two per method (cash is collected in hand and never fails).
_FAILURE_TEXT = pa.array(
    ["transfer returned by the bank: beneficiary details mismatch", "transfer rejected: account under review",
     "cheque returned: insufficient funds", "cheque returned: signature mismatch",
     "InstaPay transfer timed out", "InstaPay daily limit exceeded"], pa.string()
)  # fmt: skip
METHOD_FAILURES = np.arange(6).reshape(3, 2)


def dense(m: ErpModel, table: str) -> DenseKeys:
    """The dense key numbering of a slotted table: key = 1 + the present slots before it."""
    keys = m.dense_keys.get(table)
    if keys is None:
        present = PRESENT[table]
        slots = product_slots(m) if table == "inventory_movements" else SLOTS[table](m)  # its restocks come first
        keys = m.dense_keys.setdefault(table, DenseKeys(lambda lo, hi: present(m, lo, hi), slots))
    return keys


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


def staff_names(m: ErpModel, i: np.ndarray) -> tuple[pa.Array, pa.Array, pa.Array]:
    """(first, last, e-mail handle): distinct first/last pairs, so handles need no counter."""
    nf, nl = len(m.first_names), len(m.last_names)
    pairs = nf * nl
    initials = 1 if m.users <= pairs else 26  # a middle initial only when the pairs run out
    code = unique_codes(m.stream("users", "name"), i, pairs * initials)
    first = col.take(m.first_names, code % nf)
    last = col.take(m.last_names, (code // nf) % nl)
    first_slug = pc.if_else(pc.equal(pc.utf8_length(slug(first)), 0), "user", slug(first))
    last_slug = pc.if_else(pc.equal(pc.utf8_length(slug(last)), 0), "staff", slug(last))
    if initials == 1:
        return first, last, col.join(first_slug, ".", last_slug)
    initial = _pick(tuple("abcdefghijklmnopqrstuvwxyz"), code // pairs)
    return first, last, col.join(first_slug, ".", initial, ".", last_slug)


def users(m: ErpModel, lo: int, hi: int) -> pa.Table:
    i = _ids(lo, hi)
    first, last, handle = staff_names(m, i)
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
            "email": col.join(handle, "@", STAFF_DOMAIN),
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


_NAME_ROOTS = (*data.COMPANY_PREFIXES, *data.LAST_NAMES)
_NAME_QUALIFIERS = ("", " & Sons", " Star", " Palace", " Corner", " Express", " Plus", " Gardens")
_LOCALE_SUFFIXES = ("", " Trading", " Services", " Holdings", " International", " Partners", " Supply", " Group")


def _name_code(m: ErpModel, c: np.ndarray, base: int, variants: int) -> np.ndarray:
    """Distinct codes for companies: within `base` while it suffices, then over base x variants, then with
    a district; a dataset never repeats a company name."""
    n = m.companies
    modulus = base * min(variants, -(-n // base)) if n <= base * variants else base * variants * len(_DISTRICTS)
    return unique_codes(m.stream("companies", "name"), c, modulus)


def company_name(m: ErpModel, c: np.ndarray) -> tuple[pa.Array, pa.Array]:
    """(name, business type): a unique Egyptian trading name (family or place, qualifier, business type),
    or the locale's company names; unique within the dataset."""
    if m.company_names is not None:
        pool = m.company_names
        kind = _pick(data.BUSINESS_TYPES, m.stream("companies", "type").integers(c, 0, len(data.BUSINESS_TYPES)))
        code = _name_code(m, c, len(pool), len(_LOCALE_SUFFIXES))
        variant = (code // len(pool)) % len(_LOCALE_SUFFIXES)
        name = col.join(col.take(pool, code % len(pool)), _pick(_LOCALE_SUFFIXES, variant))
    else:
        roots, kinds = len(_NAME_ROOTS), len(data.BUSINESS_TYPES)
        code = _name_code(m, c, roots * kinds, len(_NAME_QUALIFIERS))
        kind = _pick(data.BUSINESS_TYPES, code % kinds)
        variant = (code // (roots * kinds)) % len(_NAME_QUALIFIERS)
        name = col.join(_pick(_NAME_ROOTS, (code // kinds) % roots), _pick(_NAME_QUALIFIERS, variant), " ", kind)
        base = roots * kinds * len(_NAME_QUALIFIERS)
    extra = code // (len(m.company_names) * len(_LOCALE_SUFFIXES) if m.company_names is not None else base)
    district_name = col.take(_DISTRICTS, np.maximum(extra - 1, 0) % len(_DISTRICTS))
    return pc.if_else(pa.array(extra > 0), col.join(name, " (", district_name, ")"), name), kind


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
    handle = pc.utf8_slice_codeunits(slug(name), 0, 60)
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
            "email": col.join("accounts@", handle, ".example"),
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


def _branches_present(m: ErpModel, lo: int, hi: int) -> np.ndarray:
    s = _ids(lo, hi)
    return s % BRANCH_SLOTS < m.company["branches"][s // BRANCH_SLOTS]


def branches(m: ErpModel, lo: int, hi: int) -> pa.Table:
    s = _ids(lo, hi)
    s = s[_branches_present(m, lo, hi)]
    company, k = s // BRANCH_SLOTS, s % BRANCH_SLOTS
    # Most branches are in the company's governorate; some open in another one.
    home = m.company["governorate"][company]
    elsewhere = categorical(m.stream("branches", "governorate"), s, data.GOVERNORATE_WEIGHTS)
    governorate = np.where(m.stream("branches", "moved").bernoulli(s, 0.3), elsewhere, home)
    area = district(m, "branches", s, governorate)
    name, _ = company_name(m, company)
    first, last = person_name(m, "branches", s)
    return col.table(
        {
            "branch_id": dense(m, "branches").keys(s),
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
    # Beyond the catalogue's combinations a product line and a tag keep names apart: "Organic Gold Estate ...".
    variant = info["variant"][p]
    lines = len(data.PRODUCT_LINES)
    line = _pick(data.PRODUCT_LINES, (variant - 1) % lines)
    tag = _pick(data.PRODUCT_TAGS, (variant - 1) // lines)
    tagged = pc.utf8_trim_whitespace(col.join(tag, " ", line, " ", col.take(names, combo)))
    name = pc.if_else(pa.array(variant > 0), tagged, col.take(names, combo))
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
            "branch_id": col.ints(dense(m, "branches").keys(np.maximum(branch, 0)), nulls=branch < 0),
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


def _order_items_present(m: ErpModel, lo: int, hi: int) -> np.ndarray:
    s = _ids(lo, hi)
    return s % ITEM_SLOTS < m.item_count(s // ITEM_SLOTS)


def order_items(m: ErpModel, lo: int, hi: int) -> pa.Table:
    g = _order_range(lo, hi, ITEM_SLOTS)
    date = m.order_date(g)
    items = m.items(g, date)
    slot = items["slot"].ravel()
    keep = items["present"].ravel() & (slot >= lo) & (slot < hi)
    flat = {k: v.ravel()[keep] for k, v in items.items() if k not in ("slot", "present")}
    return col.table(
        {
            "order_item_id": dense(m, "order_items").keys(slot[keep]),
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


def _discounts_present(m: ErpModel, lo: int, hi: int) -> np.ndarray:
    g = _order_range(lo, hi, DISCOUNT_SLOTS)
    present = np.concatenate([(m.discount_mode(g) == DISCOUNT_ORDER)[:, None], m.item_discounted(g)], axis=1)
    first = g[0] * DISCOUNT_SLOTS
    return present.ravel()[lo - first : hi - first]


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
    # The reason fits the order: a branch opened in the last 60 days gets its opening discount; others a
    # volume, loyalty or seasonal discount, or (on a single line) clearance.
    company = m.order_company(g, date)
    branch = m.order_branch(g, company, date)
    opened = m.branch_created.ravel()[np.maximum(branch, 0)]
    new_branch = np.repeat((branch >= 0) & (date - opened <= NEW_BRANCH_DAYS * DAY), DISCOUNT_SLOTS)[keep]
    usual = np.array([0, 1, 2, 4])[
        categorical(m.stream("discounts", "reason"), flat[keep], (40, 30, 20, 10))
    ]  # volume, loyalty, seasonal, clearance
    usual = np.where(is_order[keep] & (usual == 4), 0, usual)  # clearance is for an item, not a whole order
    reason = np.where(new_branch, 3, usual)
    return col.table(
        {
            "discount_id": dense(m, "discounts").keys(flat[keep]),
            "order_id": np.repeat(g, DISCOUNT_SLOTS)[keep] + 1,
            "order_item_id": col.ints(
                dense(m, "order_items").keys(np.maximum(item_id.ravel()[keep], 0)), nulls=is_order[keep]
            ),
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


def _history_present(m: ErpModel, lo: int, hi: int) -> np.ndarray:
    s = _ids(lo, hi)
    g, k = s // HISTORY_SLOTS, s % HISTORY_SLOTS
    f = m.facts
    status = f.status[g]
    terminal = np.isin(status, (STATUS_DELIVERED, STATUS_FAILED, STATUS_CANCELLED))
    shipped = (status >= STATUS_SHIPPED) & (status != STATUS_CANCELLED)
    return np.select([k == 0, k == 1, k == 2], [True, f.confirmed[g], shipped], terminal)


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
            "order_status_history_id": dense(m, "order_status_history").keys(flat[keep]),
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
    ("attempt_count", INT), ("last_failure_reason", STRING), ("returned_to_depot_at", TIMESTAMP),
    ("created_at", TIMESTAMP), ("anomaly", STRING),
)  # fmt: skip
_SHIPMENT_LABELS = ("delivery_delay", "delivery_failure", "stockout")


def failure_reason(m: ErpModel, attempt_slot: np.ndarray) -> np.ndarray:
    return m.stream("delivery_attempts", "reason").integers(attempt_slot, 0, len(data.FAILURE_REASONS))


def _shipments_present(m: ErpModel, lo: int, hi: int) -> np.ndarray:
    return m.facts.shipped[lo:hi]


def shipments(m: ErpModel, lo: int, hi: int) -> pa.Table:
    g = _ids(lo, hi)
    life = m.lifecycle(g)
    back, depot_at = m.depot_return(life)
    keep = life.shipped
    g = g[keep]
    status, region, attempts = life.status[keep], life.region[keep], life.attempts[keep]
    failed_so_far = np.minimum(attempts, life.failed_attempts[keep])
    last_failed_slot = g * ATTEMPT_SLOTS + np.maximum(failed_so_far - 1, 0)
    delivered = status == STATUS_DELIVERED
    return col.table(
        {
            "shipment_id": dense(m, "shipments").keys(g),
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
            "returned_to_depot_at": col.timestamps(depot_at[keep], nulls=~back[keep]),
            "created_at": col.timestamps(life.shipped_at[keep]),
            "anomaly": _labels(life.anomaly[keep], _SHIPMENT_LABELS),
        },
        SHIPMENTS,
    )


DELIVERY_ATTEMPTS = col.schema(
    ("delivery_attempt_id", INT), ("shipment_id", INT), ("attempt_number", INT), ("attempted_at", TIMESTAMP),
    ("outcome", STRING), ("failure_reason", STRING),
)  # fmt: skip


def _attempts_present(m: ErpModel, lo: int, hi: int) -> np.ndarray:
    s = _ids(lo, hi)
    return s % ATTEMPT_SLOTS < m.facts.attempts[s // ATTEMPT_SLOTS]


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
            "delivery_attempt_id": dense(m, "delivery_attempts").keys(slot),
            "shipment_id": dense(m, "shipments").keys(slot // ATTEMPT_SLOTS),
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
    ("transfer_reference", STRING), ("settlement", STRING), ("collection_attempts", INT),
    ("last_failure_reason", STRING), ("refunded_amount", MONEY), ("created_at", TIMESTAMP), ("anomaly", STRING),
)  # fmt: skip


def _payments_present(m: ErpModel, lo: int, hi: int) -> np.ndarray:
    return m.facts.delivered[lo:hi]


def refund_cents(m: ErpModel, total: np.ndarray, r: dict[str, np.ndarray]) -> np.ndarray:
    return np.maximum(total * r["percent"] // 100, 1)


def payments(m: ErpModel, lo: int, hi: int) -> pa.Table:
    g = _ids(lo, hi)
    life = m.lifecycle(g)
    pay = m.billing(life)
    r = m.refunds(life, pay)
    keep = life.delivered
    g, company = g[keep], life.company[keep]
    status, paid_at, due_day = pay.status[keep], pay.paid_at[keep], pay.due_day[keep]
    bulk, cycle, method, attempts = pay.bulk[keep], pay.cycle[keep], pay.method[keep], pay.attempts[keep]
    paid = np.isin(status, (PAY_PAID, PAY_LATE))
    last_day = (m.end - 1) // DAY
    days_late = np.where(paid, paid_at // DAY - due_day, last_day + 1 - due_day)
    reference = pc.if_else(
        pa.array(bulk),
        col.join("BLK-", col.digits(company + 1, 5), "-", col.digits(cycle, 4)),
        col.join("TRF-", col.digits(g + 1, 8)),
    )
    total = m.amounts(g, life.date[keep])["total"]
    approved = r["status"][keep] == REFUND_APPROVED
    refunded = np.where(approved, refund_cents(m, total, {k: v[keep] for k, v in r.items()}), 0)
    status = np.where(approved, np.where(refunded >= total, PAY_REFUNDED, PAY_PARTIALLY_REFUNDED), status)
    failure = METHOD_FAILURES[
        np.minimum(method, len(METHOD_FAILURES) - 1), m.stream("payments", "failure").integers(g, 0, 2)
    ]
    return col.table(
        {
            "payment_id": dense(m, "payments").keys(g),
            "order_id": g + 1,
            "company_id": company + 1,
            "invoice_number": col.join("INV-", col.digits(g + 1, 8)),
            "amount": col.money(total),
            "currency": pa.array([CURRENCY] * len(g), STRING),
            "invoice_date": col.timestamps(pay.invoice_at[keep]),
            "payment_terms_days": pay.terms[keep],
            "due_date": _dates(due_day),
            "paid_at": col.timestamps(paid_at, nulls=~paid),
            "status": _pick(PAYMENT_STATUSES, status),
            "days_late": col.ints(days_late, nulls=~(days_late > 0)),
            "method": _null_if(~paid, _pick(PAYMENT_METHODS, method)),
            "transfer_reference": _null_if(~paid, reference),
            "settlement": _null_if(~paid, pc.if_else(pa.array(bulk), "bulk", "single")),
            "collection_attempts": attempts,
            "last_failure_reason": _null_if(~(attempts > 1), col.take(_FAILURE_TEXT, failure)),
            "refunded_amount": col.money(refunded),
            "created_at": col.timestamps(pay.invoice_at[keep]),
            "anomaly": _labels(life.anomaly[keep], ("payment_delay",)),
        },
        PAYMENTS,
    )


REFUNDS = col.schema(
    ("refund_id", INT), ("payment_id", INT), ("order_id", INT), ("amount", MONEY), ("reason", STRING),
    ("status", STRING), ("rejection_reason", STRING), ("goods_returned", pa.bool_()), ("requested_by_user_id", INT),
    ("decided_by_user_id", INT), ("requested_at", TIMESTAMP), ("decided_at", TIMESTAMP),
    ("goods_received_at", TIMESTAMP), ("created_at", TIMESTAMP), ("anomaly", STRING),
)  # fmt: skip


def refund_people(m: ErpModel, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(requested by: a support agent, decided by: a manager or admin)."""
    requester = m.pick_user((ROLE_SUPPORT,), m.stream("refunds", "requester"), g)
    decider = m.pick_user((ROLE_MANAGER, ROLE_ADMIN), m.stream("refunds", "decider"), g)
    return requester, decider


# data.REJECTION_REASONS that answer each refund reason (model.REASON_*): a rejection speaks of the claim made.
_REJECTIONS_BY_REASON = np.array([[2, 0], [4, 3], [1, 0], [1, 0], [3, 4], [4, 3]])
_REFUND_LABELS = ("delivery_delay", "delivery_failure", "stockout")


def _refunds_present(m: ErpModel, lo: int, hi: int) -> np.ndarray:
    return m.facts.refund[lo:hi] != REFUND_NONE


def refunds(m: ErpModel, lo: int, hi: int) -> pa.Table:
    g = _ids(lo, hi)
    life = m.lifecycle(g)
    pay = m.billing(life)
    r = m.refunds(life, pay)
    keep = r["present"]
    g = g[keep]
    r = {k: v[keep] for k, v in r.items()}
    status = r["status"]
    open_ = status == REFUND_REQUESTED
    total = m.amounts(g, life.date[keep])["total"]
    requester, decider = refund_people(m, g)
    rejection = _REJECTIONS_BY_REASON[r["reason"], m.stream("refunds", "rejection").integers(g, 0, 2)]
    return col.table(
        {
            "refund_id": dense(m, "refunds").keys(g),
            "payment_id": dense(m, "payments").keys(g),
            "order_id": g + 1,
            "amount": col.money(refund_cents(m, total, r)),
            "reason": _pick(data.REFUND_REASONS, r["reason"]),
            "status": _pick(REFUND_STATUSES, status),
            "rejection_reason": _null_if(status != REFUND_REJECTED, _pick(data.REJECTION_REASONS, rejection)),
            "goods_returned": r["returned"],
            "requested_by_user_id": requester + 1,
            "decided_by_user_id": col.ints(decider + 1, nulls=open_),
            "requested_at": col.timestamps(r["requested_at"]),
            "decided_at": col.timestamps(r["decided_at"], nulls=open_),
            "goods_received_at": col.timestamps(r["returned_at"], nulls=~r["returned"]),
            "created_at": col.timestamps(r["requested_at"]),
            "anomaly": _labels(life.anomaly[keep], _REFUND_LABELS),
        },
        REFUNDS,
    )


# --- inventory movements -----------------------------------------------------------------------
INVENTORY_MOVEMENTS = col.schema(
    ("inventory_movement_id", INT), ("product_id", INT), ("movement_type", STRING), ("quantity_change", INT),
    ("resulting_level", INT), ("order_item_id", INT), ("reason", STRING), ("moved_at", TIMESTAMP), ("anomaly", STRING),
)  # fmt: skip
MOVEMENT_TYPES = ("restock", "adjustment", "fulfillment", "return")


def product_slots(m: ErpModel) -> int:
    return m.products * m.weeks * 2


def _product_plan(m: ErpModel, lo: int, hi: int, plan: dict | None = None) -> tuple[np.ndarray, ...]:
    """(slot, kind, product, week, quantity) of the restock (kind 0) and count (kind 1) slots of [lo, hi)."""
    s = _ids(lo, hi)
    pw, kind = s // 2, s % 2
    p, w = pw // m.weeks, pw % m.weeks
    plan = plan if plan is not None else m.stock_plan
    return s, kind, p, w, np.where(kind == 0, plan["restock"][p, w], plan["adjust"][p, w])


def _product_movements(m: ErpModel, lo: int, hi: int, plan: dict | None = None) -> dict[str, np.ndarray]:
    s, kind, p, w, qty = _product_plan(m, lo, hi, plan)
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


def _inventory_present(m: ErpModel, lo: int, hi: int) -> np.ndarray:
    """The restock and count rows come first in the ledger, in (product, week) order: the audit log's
    restock entries compute their keys from the model's plan (the same plan the ledger derives)."""
    return _product_plan(m, lo, hi)[4] != 0


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
    fixed = _product_movements(m, 0, product_slots(m), plan)
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
    ids = np.arange(len(kind))
    by = np.lexsort((ids, at_all, product_all))
    first = np.r_[True, product_all[by][1:] != product_all[by][:-1]]
    level = np.empty(len(kind), dtype=np.int64)
    level[by] = _grouped_cumsum(qty_all[by], first)
    return {"kind": kind, "product": product_all, "qty": qty_all, "at": at_all, "item": item_all, "level": level}


def derive_inventory_movements(m: ErpModel, dataset: Path, chunk_size: int) -> Iterator[pa.Table]:
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
                "movement_type": _pick(MOVEMENT_TYPES, _LEDGER_TYPE[kind]),
                "quantity_change": c["qty"],
                "resulting_level": c["level"],
                "order_item_id": col.ints(c["item"], nulls=c["item"] == 0),
                "reason": col.take(_LEDGER_REASONS, kind),
                "moved_at": col.timestamps(c["at"]),
                "anomaly": _labels(np.where(labelled, LABEL["stockout"], NO_ANOMALY)),
            },
            INVENTORY_MOVEMENTS,
        )


# --- maintenance visits ------------------------------------------------------------------------
MAINTENANCE_VISITS = col.schema(
    ("maintenance_visit_id", INT), ("company_id", INT), ("technician_id", INT), ("visit_type", STRING),
    ("status", STRING), ("visited_at", TIMESTAMP), ("duration_minutes", INT), ("services", JSON),
    ("spare_parts", JSON), ("parts_cost", MONEY), ("labor_cost", MONEY), ("total_cost", MONEY),
    ("follow_up_of_visit_id", INT), ("notes", STRING), ("created_at", TIMESTAMP),
)  # fmt: skip
LABOR_PER_HOUR_CENTS = 350_00
# Technicians' notes: an opening per visit type (data.VISIT_TYPES, then follow_up), the finding that the first
# part fitted answers, the services done and whether a follow-up was booked.
_VISIT_OPENINGS = pa.array(
    ["Scheduled preventive service.", "Called out for a fault:", "Installed and commissioned the machine.",
     "Emergency call-out, machine down:", "Routine inspection.", "Follow-up of the earlier visit:"], STRING
)  # fmt: skip
_FINDINGS = pa.array(data.PART_FINDINGS, STRING)
_NO_PART_FINDING = pa.array(
    ["machine in good order", "fault traced to settings, no parts needed", "commissioned without parts",
     "fault cleared on site without parts", "no defects found", "repair holding, no further parts needed"], STRING
)  # fmt: skip
_SERVICE_TEXT = pa.array([x.lower() for x in data.SERVICES], STRING)
_SERVICE_NAMES = pa.array(data.SERVICES, STRING)
_INSTALL = data.SERVICES.index("Machine installation")
_ROUTINE = np.array([i for i, x in enumerate(data.SERVICES) if i != _INSTALL])
_ROUTINE_STEPS = np.array([1, 2, 3, 5])
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


def _visits_present(m: ErpModel, lo: int, hi: int) -> np.ndarray:
    s = _ids(lo, hi)
    return (s % VISIT_SLOTS == 0) | m.visits(s // VISIT_SLOTS)["follows"]


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
    # An installation starts with installing the machine; other visits only do routine services (distinct
    # ones: steps coprime with the 11 routine services).
    installation = kind == data.VISIT_TYPES.index("installation")
    base = st("service").integers(s, 0, len(_ROUTINE))
    step = _ROUTINE_STEPS[st("service_step").integers(s, 0, len(_ROUTINE_STEPS))]
    service_idx = [
        np.where(
            installation & (j == 0),
            _INSTALL,
            _ROUTINE[(base + np.where(installation, j - 1, j) * step) % len(_ROUTINE)],
        )
        for j in range(MAX_SERVICES)
    ]
    services = [
        _null_if(services_n <= j, col.join('"', col.take(_SERVICE_NAMES, service_idx[j]), '"'))
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
    service_text = [_null_if(services_n <= j, col.take(_SERVICE_TEXT, service_idx[j])) for j in range(MAX_SERVICES)]
    done = service_text[0]
    for entry in service_text[1:]:
        done = pc.if_else(pc.is_null(entry), done, col.join(done, ", ", entry))
    finding = pc.if_else(
        pa.array(parts_n > 0), col.take(_FINDINGS, first_part % len(_PART_COSTS)), col.take(_NO_PART_FINDING, kind)
    )
    # The base visit's follow-up, booked at the visit (a follow-up itself books none).
    booked = ~v["follow"] & m.visits(v["b"])["follows"]
    notes = col.join(
        col.take(_VISIT_OPENINGS, kind), " ", pc.utf8_capitalize(finding), ". Done: ", done, ".",
        pc.if_else(pa.array(booked), " Follow-up visit booked.", ""),
    )  # fmt: skip
    return col.table(
        {
            "maintenance_visit_id": dense(m, "maintenance_visits").keys(s),
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
            "follow_up_of_visit_id": col.ints(
                dense(m, "maintenance_visits").keys(v["b"] * VISIT_SLOTS), nulls=~v["follow"]
            ),
            "notes": notes,
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
    return _discounts_present(m, int(s[0]), int(s[-1]) + 1)  # s is a contiguous range


def _audit_discounts(m: ErpModel, s: np.ndarray) -> Rows:
    """Discounts are granted by the account's sales rep a few minutes after the order is taken."""
    g = s // DISCOUNT_SLOTS
    date = m.order_date(g)
    rep = m.company["account_manager"][m.order_company(g, date)]
    at = np.minimum(date + 60 + m.stream("audit_logs", "discount_after").integers(s, 0, 900), m.end - 1)
    return {"user": rep, "entity": dense(m, "discounts").keys(s), "action": np.full(len(s), ACTION["grant_discount"]),
            "at": at}  # fmt: skip


def _stock_booked(m: ErpModel, s: np.ndarray) -> np.ndarray:
    return _product_plan(m, int(s[0]), int(s[-1]) + 1)[4] != 0


def _audit_stock(m: ErpModel, s: np.ndarray) -> Rows:
    """Restocks and count corrections are booked by the warehouse team (support) or an admin."""
    moves = _product_movements(m, int(s[0]), int(s[-1]) + 1)  # the present slots of s, in order
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
    return _visits_present(m, int(s[0]), int(s[-1]) + 1)


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


def _audit_present(m: ErpModel, lo: int, hi: int) -> np.ndarray:
    offset = 0
    out: list[np.ndarray] = []
    for _, n, present, _ in audit_segments(m):
        a, b = max(lo, offset), min(hi, offset + n)
        if a < b:
            out.append(present(m, _ids(a - offset, b - offset)))
        offset += n
    return np.concatenate(out) if out else np.zeros(0, dtype=bool)


def audit_logs(m: ErpModel, lo: int, hi: int) -> pa.Table:
    offset = 0
    out: list[pa.Table] = []
    for entity_type, n, present, build in audit_segments(m):
        a, b = max(lo, offset), min(hi, offset + n)
        if a < b:
            local = _ids(a - offset, b - offset)
            keep = present(m, local)
            if keep.any():
                rows = {k: v[keep] for k, v in build(m, local).items()}
                user = rows["user"]
                out.append(
                    col.table(
                        {
                            "audit_log_id": dense(m, "audit_logs").keys(local[keep] + offset),
                            "user_id": user + 1,
                            "entity_type": _pick(ENTITY_TYPES, np.full(len(user), entity_type)),
                            "entity_id": rows["entity"],
                            "action": _pick(ACTIONS, rows["action"]),
                            "occurred_at": col.timestamps(rows["at"]),
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


SLOTS: dict[str, Callable[[ErpModel], int]] = {
    "users": lambda m: m.users,
    "companies": lambda m: m.companies,
    "branches": lambda m: m.companies * BRANCH_SLOTS,
    "products": lambda m: m.products,
    "orders": lambda m: m.orders,
    "order_items": lambda m: m.orders * ITEM_SLOTS,
    "discounts": lambda m: m.orders * DISCOUNT_SLOTS,
    "order_status_history": lambda m: m.orders * HISTORY_SLOTS,
    "shipments": lambda m: m.orders,
    "delivery_attempts": lambda m: m.orders * ATTEMPT_SLOTS,
    "payments": lambda m: m.orders,
    "refunds": lambda m: m.orders,
    "inventory_movements": lambda m: product_slots(m) + m.orders * ITEM_SLOTS * 2,
    "maintenance_visits": lambda m: m.base_visits * VISIT_SLOTS,
    "audit_logs": audit_slots,
}
# Which slots hold a row, for the tables whose slot space has empty slots (their keys are dense).
PRESENT: dict[str, Callable[[ErpModel, int, int], np.ndarray]] = {
    "branches": _branches_present,
    "order_items": _order_items_present,
    "discounts": _discounts_present,
    "order_status_history": _history_present,
    "shipments": _shipments_present,
    "delivery_attempts": _attempts_present,
    "payments": _payments_present,
    "refunds": _refunds_present,
    "inventory_movements": _inventory_present,
    "maintenance_visits": _visits_present,
    "audit_logs": _audit_present,
}
CREATED = {
    "users": "created_at", "companies": "created_at", "branches": "created_at", "products": "created_at",
    "orders": "created_at", "order_items": "created_at", "discounts": "created_at",
    "order_status_history": "changed_at", "shipments": "created_at", "delivery_attempts": "attempted_at",
    "payments": "created_at", "refunds": "created_at", "inventory_movements": "moved_at",
    "maintenance_visits": "created_at", "audit_logs": "occurred_at",
}  # fmt: skip


def _spec(
    name: str, key: str, schema: pa.Schema, build, parents: tuple[str, ...], description: str, derive=None
) -> TableSpec:
    return TableSpec(
        DOMAIN, name, key, schema, description, SLOTS[name], build, parents,
        foreign_keys=FOREIGN_KEYS.get(name, ()), created=CREATED[name],
        column_descriptions=COLUMN_DESCRIPTIONS[name], derive=derive,
    )  # fmt: skip


TABLES: tuple[TableSpec, ...] = (
    _spec("users", "user_id", USERS, users, (),
          "SynergyFlow staff: admin 5%, manager 15%, sales 50%, support 30%."),
    _spec("companies", "company_id", COMPANIES, companies, ("users",),
          "Customer companies across Egypt's governorates with tax number, payment terms and delivery region."),
    _spec("branches", "branch_id", BRANCHES, branches, ("companies",), "Branches of about 30% of the companies."),
    _spec("products", "product_id", PRODUCTS, products, (),
          "Coffee and beverage catalogue in EGP; popularity follows a Zipf law."),
    _spec("orders", "order_id", ORDERS, orders, ("companies", "branches", "users", "products"),
          "Orders laid out by the time-series engine; delivery on the region's days; anomaly is the ground truth."),
    _spec("order_items", "order_item_id", ORDER_ITEMS, order_items, ("orders", "products"),
          "Order lines with item-level discounts."),
    _spec("discounts", "discount_id", DISCOUNTS, discounts, ("orders", "order_items"),
          "Order-level or item-level discounts, never both on one order's items."),
    _spec("order_status_history", "order_status_history_id", ORDER_STATUS_HISTORY, order_status_history,
          ("orders", "users"), "Each order's status changes in time order."),
    _spec("shipments", "shipment_id", SHIPMENTS, shipments, ("orders",),
          "Shipments from the region's depot, with delivery outcome; labelled with the order's delivery anomaly."),
    _spec("delivery_attempts", "delivery_attempt_id", DELIVERY_ATTEMPTS, delivery_attempts, ("shipments",),
          "Delivery attempts on the region's days; failure reasons."),
    _spec("payments", "payment_id", PAYMENTS, payments, ("orders", "companies", "shipments"),
          "Invoices at delivery and their payment: due date from terms, bulk transfers, retries, refunds, overdue."),
    _spec("refunds", "refund_id", REFUNDS, refunds, ("payments", "orders", "users"),
          "Refund requests with an approval workflow; the reason is the order's own problem."),
    _spec("inventory_movements", "inventory_movement_id", INVENTORY_MOVEMENTS, None,
          ("products", "order_items", "orders", "shipments", "refunds"),
          "Stock ledger derived from what is written: fulfilments of shipped order items, returns from failed"
          " deliveries and refunds, the weekly restocks and counts they call for, and stockouts at zero stock.",
          derive=derive_inventory_movements),
    _spec("maintenance_visits", "maintenance_visit_id", MAINTENANCE_VISITS, maintenance_visits, ("companies", "users"),
          "Coffee machine service visits with spare parts, services, notes and follow-ups."),
    _spec("audit_logs", "audit_log_id", AUDIT_LOGS, audit_logs, ("users", *AUDITED_TABLES),
          "Who did what to which entity, and when."),
)  # fmt: skip
