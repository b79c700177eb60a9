"""The commerce tables (seeds 003 and 004): schema and a pure, columnar builder for each."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mock_pipeline.domains.commerce.model import (
    CATEGORIES_PER_TENANT,
    CATEGORY_TREE,
    CURRENCIES,
    ITEM_SLOTS,
    NO_ANOMALY,
    ORDER_STATUSES,
    PRICE_SLOTS,
    STATUS_CANCELLED,
    STATUS_DELIVERED,
    STATUS_FAILED,
    STOCK_SLOTS,
    TOP_CATEGORIES,
    CommerceModel,
)
from mock_pipeline.engine import columns as col
from mock_pipeline.engine.columns import JSON, MONEY, TIMESTAMP
from mock_pipeline.engine.distributions import categorical, unique_codes
from mock_pipeline.engine.pools import slug
from mock_pipeline.engine.table import TableSpec, read_batches
from mock_pipeline.engine.timeline import DAY
from mock_pipeline.scenarios.model import ANOMALY_LABELS

DOMAIN = "commerce"
EMAIL_DOMAINS = pa.array(["example.com", "example.org", "example.net"])
STRING = pa.string()
INT = pa.int64()


def _ids(lo: int, hi: int) -> np.ndarray:
    return np.arange(lo, hi, dtype=np.int64)


_ANOMALY_POOL = pa.array(ANOMALY_LABELS, STRING)


def _labels(anomaly: np.ndarray) -> pa.Array:
    return col.labels(_ANOMALY_POOL, anomaly)


def _pick(values: tuple[str, ...], idx: np.ndarray) -> pa.Array:
    return col.take(pa.array(values, STRING), idx)


# --- tenants -----------------------------------------------------------------------------------
TENANTS = col.schema(
    ("tenant_id", INT), ("name", STRING), ("api_key_hash", STRING), ("plan", STRING), ("currency", STRING),
    ("created_at", TIMESTAMP),
)  # fmt: skip


def tenants(m: CommerceModel, lo: int, hi: int) -> pa.Table:
    t = _ids(lo, hi)
    key_bits = np.stack([m.stream("tenants", f"api_key_{i}").bits(t) for i in range(4)], axis=1)
    # The API key itself is never stored anywhere: only its sha256. Tenants are few.
    hashes = [hashlib.sha256(row.tobytes()).hexdigest() for row in key_bits]
    created = m.start + m.stream("tenants", "created").integers(t, 0, 60)
    return col.table(
        {
            "tenant_id": t + 1,
            "name": col.take(m.pools.companies, m.stream("tenants", "name").integers(t, 0, len(m.pools.companies))),
            "api_key_hash": pa.array(hashes, STRING),
            "plan": _pick(("starter", "growth", "enterprise"), categorical(m.stream("tenants", "plan"), t, (5, 3, 2))),
            "currency": _pick(CURRENCIES, m.tenant_currency(t)),
            "created_at": col.timestamps(created),
        },
        TENANTS,
    )


# --- categories --------------------------------------------------------------------------------
CATEGORIES = col.schema(
    ("category_id", INT), ("tenant_id", INT), ("name", STRING), ("parent_category_id", INT), ("sku_prefix", STRING),
    ("created_at", TIMESTAMP),
)  # fmt: skip
_CATEGORY_NAMES = tuple(c[0] for c in CATEGORY_TREE) + tuple(f"{c[0]} / {s}" for c in CATEGORY_TREE for s in c[3])
_CATEGORY_PREFIX = tuple(c[1] for c in CATEGORY_TREE)


def category_top(local: np.ndarray) -> np.ndarray:
    return np.where(local < TOP_CATEGORIES, local, (local - TOP_CATEGORIES) // 2)


def categories(m: CommerceModel, lo: int, hi: int) -> pa.Table:
    g = _ids(lo, hi)
    tenant, local = g // CATEGORIES_PER_TENANT, g % CATEGORIES_PER_TENANT
    top = category_top(local)
    parent = tenant * CATEGORIES_PER_TENANT + top + 1
    return col.table(
        {
            "category_id": g + 1,
            "tenant_id": tenant + 1,
            "name": _pick(_CATEGORY_NAMES, local),
            "parent_category_id": col.ints(parent, nulls=local < TOP_CATEGORIES),
            "sku_prefix": _pick(_CATEGORY_PREFIX, top),
            "created_at": col.timestamps(m.start + 60 + local),
        },
        CATEGORIES,
    )


# --- vendors and warehouses --------------------------------------------------------------------
VENDORS = col.schema(
    ("vendor_id", INT), ("tenant_id", INT), ("name", STRING), ("contact_email", STRING), ("phone", STRING),
    ("city", STRING), ("created_at", TIMESTAMP),
)  # fmt: skip


def vendors(m: CommerceModel, lo: int, hi: int) -> pa.Table:
    g = _ids(lo, hi)
    p = m.pools
    name = col.take(p.companies, m.stream("vendors", "name").integers(g, 0, len(p.companies)))
    handle = pc.utf8_slice_codeunits(slug(name), 0, 20)
    return col.table(
        {
            "vendor_id": g + 1,
            "tenant_id": g // m.vendors + 1,
            "name": name,
            "contact_email": col.join("sales.", handle, col.digits(g % m.vendors, 4), "@example.net"),
            "phone": col.take(p.phones, m.stream("vendors", "phone").integers(g, 0, len(p.phones))),
            "city": col.take(p.cities, m.stream("vendors", "city").integers(g, 0, len(p.cities))),
            "created_at": col.timestamps(m.start + m.stream("vendors", "created").integers(g, 60, 600)),
        },
        VENDORS,
    )


WAREHOUSES = col.schema(
    ("warehouse_id", INT), ("tenant_id", INT), ("name", STRING), ("address", STRING), ("city", STRING),
    ("capacity_units", INT), ("created_at", TIMESTAMP),
)  # fmt: skip


def warehouses(m: CommerceModel, lo: int, hi: int) -> pa.Table:
    g = _ids(lo, hi)
    p = m.pools
    city = col.take(p.cities, m.stream("warehouses", "city").integers(g, 0, len(p.cities)))
    return col.table(
        {
            "warehouse_id": g + 1,
            "tenant_id": g // m.warehouses + 1,
            "name": col.join(city, " Fulfilment Center ", col.digits(g % m.warehouses + 1, 2)),
            "address": col.take(p.streets, m.stream("warehouses", "street").integers(g, 0, len(p.streets))),
            "city": city,
            "capacity_units": 10_000 * m.stream("warehouses", "capacity").integers(g, 5, 101),
            "created_at": col.timestamps(m.start + m.stream("warehouses", "created").integers(g, 60, 600)),
        },
        WAREHOUSES,
    )


# --- products and price history ----------------------------------------------------------------
PRODUCTS = col.schema(
    ("product_id", INT), ("tenant_id", INT), ("sku", STRING), ("name", STRING), ("description", STRING),
    ("price", MONEY), ("category_id", INT), ("vendor_id", INT), ("warehouse_id", INT), ("active", pa.bool_()),
    ("created_at", TIMESTAMP),
)  # fmt: skip
_ADJECTIVES = pa.array(
    ["Premium", "Classic", "Essential", "Ultra", "Eco", "Smart", "Compact", "Deluxe", "Pro", "Everyday", "Vintage",
     "Modern", "Portable", "Heavy-Duty", "Lightweight", "Organic", "Wireless", "Handmade", "Signature", "Urban"]
)  # fmt: skip
_NOUNS = {
    "ELE": ["Headphones", "Speaker", "Laptop", "Monitor", "Keyboard", "Charger", "Tablet", "Webcam"],
    "CLO": ["Jacket", "T-Shirt", "Jeans", "Sweater", "Dress", "Scarf", "Sneakers", "Hoodie"],
    "HOM": ["Frying Pan", "Knife Set", "Chair", "Lamp", "Blender", "Cutting Board", "Shelf", "Kettle"],
    "BOO": ["Novel", "Cookbook", "Biography", "Atlas", "Anthology", "Guide", "Handbook", "Journal"],
    "SPO": ["Yoga Mat", "Tent", "Dumbbells", "Backpack", "Water Bottle", "Sleeping Bag", "Jump Rope", "Headlamp"],
    "TOY": ["Puzzle", "Board Game", "Building Kit", "Card Game", "Robot Kit", "Plush Bear", "Train Set", "Kite"],
    "BEA": ["Face Cream", "Serum", "Perfume", "Lip Balm", "Cleanser", "Sunscreen", "Hair Oil", "Body Lotion"],
    "GRO": ["Granola", "Coffee Beans", "Green Tea", "Olive Oil", "Trail Mix", "Dark Chocolate", "Honey", "Sparkling Water"],
    "AUT": ["Car Wax", "Seat Cover", "Phone Mount", "Floor Mats", "Jump Starter", "Tire Gauge", "Dash Cam", "Wiper Blades"],
    "GAR": ["Pruning Shears", "Garden Hose", "Planter", "Seed Kit", "Trowel", "Watering Can", "Rake", "Bonsai Tree"],
    "HEA": ["Multivitamin", "First Aid Kit", "Thermometer", "Protein Powder", "Omega-3", "Bandages", "Massage Gun", "Pill Organizer"],
    "OFF": ["Notebook", "Pen Set", "Desk Organizer", "Stapler", "Label Printer", "Planner", "Ink Cartridge", "Whiteboard"],
}  # fmt: skip
_NOUN_POOL = pa.array([n for prefix in _CATEGORY_PREFIX for n in _NOUNS[prefix]])


def product_name(m: CommerceModel, g: np.ndarray) -> pa.Array:
    top = (m.product_subcategory(g) - TOP_CATEGORIES) // 2
    noun = top * 8 + m.stream("products", "noun").integers(g, 0, 8)
    adjective = m.stream("products", "adjective").integers(g, 0, len(_ADJECTIVES))
    return col.join(col.take(_ADJECTIVES, adjective), " ", col.take(_NOUN_POOL, noun))


def products(m: CommerceModel, lo: int, hi: int) -> pa.Table:
    g = _ids(lo, hi)
    tenant, local = g // m.products, g % m.products
    sub = m.product_subcategory(g)
    top = (sub - TOP_CATEGORIES) // 2
    # SKU: category prefix + 6 digits from a keyed permutation of the tenant-local index.
    number = unique_codes(m.stream("products", "sku"), local, 10**6)
    name = product_name(m, g)
    vendor = tenant * m.vendors + m.stream("products", "vendor").integers(g, 0, m.vendors)
    return col.table(
        {
            "product_id": g + 1,
            "tenant_id": tenant + 1,
            "sku": col.join(_pick(_CATEGORY_PREFIX, top), col.digits(number, 6)),
            "name": name,
            "description": col.join(
                name, ". ", col.take(m.pools.sentences, m.stream("products", "blurb").integers(g, 0, 10**6))
            ),
            "price": col.money(m.product_price_cents(g)),
            "category_id": tenant * CATEGORIES_PER_TENANT + sub + 1,
            "vendor_id": vendor + 1,
            "warehouse_id": m.product_warehouse(g) + 1,
            "active": m.stream("products", "active").uniform(g) >= 0.05,
            "created_at": col.timestamps(m.product_created(g)),
        },
        PRODUCTS,
    )


PRICE_HISTORY = col.schema(
    ("price_history_id", INT), ("tenant_id", INT), ("product_id", INT), ("price", MONEY), ("effective_from", TIMESTAMP),
    ("effective_to", TIMESTAMP),
)  # fmt: skip


def price_history(m: CommerceModel, lo: int, hi: int) -> pa.Table:
    s = _ids(lo, hi)
    g, slot = s // PRICE_SLOTS, s % PRICE_SLOTS
    versions = m.price_versions(g)
    keep = slot < versions
    s, g, slot, versions = s[keep], g[keep], slot[keep], versions[keep]
    first, second = m.price_changes(g)
    created = m.product_created(g)
    starts = np.select([slot == 0, slot == 1], [created, first], second)
    ends = np.where(slot == 0, first, second)
    return col.table(
        {
            "price_history_id": s + 1,
            "tenant_id": g // m.products + 1,
            "product_id": g + 1,
            "price": col.money(m.price_slot_cents(g, slot)),
            "effective_from": col.timestamps(starts),
            "effective_to": col.timestamps(ends, nulls=slot == versions - 1),
        },
        PRICE_HISTORY,
    )


# --- customers ---------------------------------------------------------------------------------
CUSTOMERS = col.schema(
    ("customer_id", INT), ("tenant_id", INT), ("name", STRING), ("email", STRING), ("metadata", JSON),
    ("created_at", TIMESTAMP), ("updated_at", TIMESTAMP),
)  # fmt: skip
LOYALTY_TIERS = ("bronze", "silver", "gold", "platinum")
SIGNUP_SOURCES = ("web", "mobile_app", "referral", "social", "in_store")


def customer_name(m: CommerceModel, g: np.ndarray) -> pa.Array:
    first = col.take(m.pools.first_names, m.customer_first(g))
    last = col.take(m.pools.last_names, m.customer_last(g))
    return col.join(first, " ", last)


def customer_email(m: CommerceModel, g: np.ndarray) -> pa.Array:
    """Unique per tenant (the local index is part of it), always on a reserved domain."""
    first, last = m.email_parts
    domain = col.take(EMAIL_DOMAINS, m.stream("customers", "domain").integers(g, 0, 3))
    return col.join(col.take(first, m.customer_first(g)), ".", col.take(last, m.customer_last(g)),
                    col.text(g % m.customers), "@", domain)  # fmt: skip


def customers(m: CommerceModel, lo: int, hi: int) -> pa.Table:
    g = _ids(lo, hi)
    p = m.pools
    created = m.customer_created(g)
    updated = created + np.floor((m.end - 1 - created) * m.stream("customers", "updated").uniform(g) ** 2).astype(
        np.int64
    )
    metadata = col.json_objects(
        {
            "phone": col.take(p.phones, m.stream("customers", "phone").integers(g, 0, len(p.phones))),
            "address": col.join(
                col.take(p.streets, m.stream("customers", "street").integers(g, 0, len(p.streets))),
                ", ",
                col.take(p.cities, m.stream("customers", "city").integers(g, 0, len(p.cities))),
            ),
            "loyalty_tier": _pick(LOYALTY_TIERS, categorical(m.stream("customers", "tier"), g, (55, 25, 15, 5))),
            "signup_source": _pick(
                SIGNUP_SOURCES, categorical(m.stream("customers", "source"), g, (40, 30, 12, 12, 6))
            ),
        }
    )
    return col.table(
        {
            "customer_id": g + 1,
            "tenant_id": g // m.customers + 1,
            "name": customer_name(m, g),
            "email": customer_email(m, g),
            "metadata": metadata,
            "created_at": col.timestamps(created),
            "updated_at": col.timestamps(updated),
        },
        CUSTOMERS,
    )


# --- promotions --------------------------------------------------------------------------------
PROMOTIONS = col.schema(
    ("promotion_id", INT), ("tenant_id", INT), ("code", STRING), ("name", STRING), ("discount_percent", INT),
    ("category_id", INT), ("starts_at", TIMESTAMP), ("ends_at", TIMESTAMP), ("created_at", TIMESTAMP),
)  # fmt: skip
_PROMO_WORDS = ("SAVE", "DEAL", "SALE", "WELCOME", "FLASH", "HOLIDAY", "SPRING", "VIP")


def promotion_code(m: CommerceModel, p: np.ndarray) -> pa.Array:
    """Unique per tenant: the promotion's local number is part of the code."""
    word = _pick(_PROMO_WORDS, m.stream("promotions", "word").integers(p, 0, len(_PROMO_WORDS)))
    return col.join(word, col.text(m.promotion_percent(p)), "-", col.digits(p % m.promotions + 1, 3))


def promotions(m: CommerceModel, lo: int, hi: int) -> pa.Table:
    p = _ids(lo, hi)
    tenant, local = p // m.promotions, p % m.promotions
    length = (m.end - m.start) / m.promotions
    starts = np.floor(m.start + local * length).astype(np.int64)
    ends = np.floor(m.start + (local + 1) * length).astype(np.int64)
    scoped = m.stream("promotions", "scoped").bernoulli(p, 0.4)
    category = tenant * CATEGORIES_PER_TENANT + m.stream("promotions", "category").integers(p, 0, TOP_CATEGORIES) + 1
    percent = m.promotion_percent(p)
    return col.table(
        {
            "promotion_id": p + 1,
            "tenant_id": tenant + 1,
            "code": promotion_code(m, p),
            "name": col.join(
                col.text(percent), "% off ", pc.if_else(pa.array(scoped), "selected categories", "everything")
            ),
            "discount_percent": percent,
            "category_id": col.ints(category, nulls=~scoped),
            "starts_at": col.timestamps(starts),
            "ends_at": col.timestamps(ends),
            "created_at": col.timestamps(
                np.maximum(m.start, starts - m.stream("promotions", "lead").integers(p, 1, 30) * DAY)
            ),
        },
        PROMOTIONS,
    )


# --- orders and order items --------------------------------------------------------------------
ORDERS = col.schema(
    ("order_id", INT), ("tenant_id", INT), ("external_order_id", STRING), ("customer_id", INT),
    ("customer_name_snapshot", STRING), ("customer_email_snapshot", STRING), ("item_count", INT),
    ("subtotal", MONEY), ("discount_amount", MONEY), ("tax", MONEY), ("total_amount", MONEY), ("currency", STRING),
    ("order_status", STRING), ("order_date", TIMESTAMP), ("raw_payload", JSON), ("created_at", TIMESTAMP),
    ("updated_at", TIMESTAMP), ("anomaly", STRING),
)  # fmt: skip
ORDER_SOURCES = ("web", "mobile_app", "marketplace", "api", "phone")
CAMPAIGNS = ("summer_sale", "black_friday", "newsletter", "retargeting", "influencer", "search_ads")


def order_amounts(m: CommerceModel, g: np.ndarray, date: np.ndarray) -> dict[str, np.ndarray]:
    """Subtotal (sum of the item lines), discount, tax and total in cents."""
    items = m.items(g, date)
    lines = items["quantity"] * items["unit_cents"]
    subtotal = np.bincount(items["row"], weights=lines, minlength=len(g)).astype(np.int64)
    promo = m.uses_promotion(g)
    percent = np.where(promo, m.promotion_percent(m.promotion_at(g, date)), 0)
    discount = subtotal * percent // 100
    tax = (subtotal - discount) * m.tenant_tax_bp(g // m.orders) // 10_000
    return {"subtotal": subtotal, "discount": discount, "tax": tax, "total": subtotal - discount + tax, "promo": promo}


def _tenant_rows(tenant: int, per_tenant: int) -> np.ndarray:
    return tenant * per_tenant + np.arange(per_tenant, dtype=np.int64)


def _per_tenant_pool(
    m: CommerceModel, kind: str, tenant: np.ndarray, local: np.ndarray, size: int, build: Callable[[int], pa.Array]
) -> pa.Array:
    """pool_of_tenant[local] for each row, where each tenant's pool of `size` strings is built once
    per process (parents' attributes, e.g. customers' names for order snapshots)."""
    if len(tenant) and tenant.min() == tenant.max():  # the usual chunk: one tenant
        t = int(tenant[0])
        return m.tenant_block(kind, t, lambda: build(t)).take(pa.array(local))
    tenants = np.unique(tenant)
    blocks = [m.tenant_block(kind, int(t), lambda t=t: build(int(t))) for t in tenants]
    pool = blocks[0] if len(blocks) == 1 else pa.concat_arrays(blocks)
    return pool.take(pa.array(np.searchsorted(tenants, tenant) * size + local))


def _payload_pool(m: CommerceModel, tenant: int) -> pa.Array:
    """Every raw_payload a tenant's orders can carry: source x campaign x discount code."""
    codes = promotion_code(m, _tenant_rows(tenant, m.promotions)).to_pylist()
    return pa.array(
        [
            json.dumps({"source": s, "campaign": c, "discount_code": d}, separators=(",", ":"))
            for s in ORDER_SOURCES
            for c in (*CAMPAIGNS, None)
            for d in (*codes, None)
        ],
        STRING,
    )


def orders(m: CommerceModel, lo: int, hi: int) -> pa.Table:
    g = _ids(lo, hi)
    tenant = g // m.orders
    life = m.lifecycle(g)
    date = life.order_date
    customer = m.order_customer(g, date)
    amounts = order_amounts(m, g, date)
    source = categorical(m.stream("orders", "source"), g, (45, 35, 10, 6, 4))
    campaign = np.where(
        m.stream("orders", "has_campaign").bernoulli(g, 0.3),
        m.stream("orders", "campaign").integers(g, 0, len(CAMPAIGNS)),
        len(CAMPAIGNS),  # no campaign
    )
    code = np.where(amounts["promo"], m.promotion_at(g, date) % m.promotions, m.promotions)  # m.promotions: none
    combination = (source * (len(CAMPAIGNS) + 1) + campaign) * (m.promotions + 1) + code
    combinations = len(ORDER_SOURCES) * (len(CAMPAIGNS) + 1) * (m.promotions + 1)
    payload = _per_tenant_pool(m, "payloads", tenant, combination, combinations, lambda t: _payload_pool(m, t))
    name_pool, email_pool = (lambda t: customer_name(m, _tenant_rows(t, m.customers)),
                             lambda t: customer_email(m, _tenant_rows(t, m.customers)))  # fmt: skip
    local_customer = customer - tenant * m.customers
    updated = np.select(
        [life.status == STATUS_CANCELLED, life.delivered | (life.status == STATUS_FAILED), life.shipped, life.paid],
        [np.minimum(date + 600, m.end - 1), life.delivered_at, life.shipped_at, life.paid_at],
        date,
    )
    return col.table(
        {
            "order_id": g + 1,
            "tenant_id": tenant + 1,
            "external_order_id": col.digits(unique_codes(m.stream("orders", "external"), g, 10**8), 8, prefix="EXT"),
            "customer_id": customer + 1,
            "customer_name_snapshot": _per_tenant_pool(m, "names", tenant, local_customer, m.customers, name_pool),
            "customer_email_snapshot": _per_tenant_pool(m, "emails", tenant, local_customer, m.customers, email_pool),
            "item_count": m.item_count(g),
            "subtotal": col.money(amounts["subtotal"]),
            "discount_amount": col.money(amounts["discount"]),
            "tax": col.money(amounts["tax"]),
            "total_amount": col.money(amounts["total"]),
            "currency": _pick(CURRENCIES, m.tenant_currency(tenant)),
            "order_status": _pick(ORDER_STATUSES, life.status),
            "order_date": col.timestamps(date),
            "raw_payload": payload,
            "created_at": col.timestamps(date),
            "updated_at": col.timestamps(updated),
            "anomaly": _labels(life.anomaly),
        },
        ORDERS,
    )


ORDER_ITEMS = col.schema(
    ("order_item_id", INT), ("order_id", INT), ("tenant_id", INT), ("product_id", INT), ("quantity", INT),
    ("unit_price", MONEY), ("line_total", MONEY), ("created_at", TIMESTAMP),
)  # fmt: skip


def order_items(m: CommerceModel, lo: int, hi: int) -> pa.Table:
    first, last = lo // ITEM_SLOTS, (hi - 1) // ITEM_SLOTS + 1
    g = _ids(first, last)
    date = m.order_date(g)
    items = m.items(g, date)
    slot = items["slot"]
    keep = (slot >= lo) & (slot < hi)
    order = g[items["row"]][keep]
    quantity = items["quantity"][keep]
    unit = items["unit_cents"][keep]
    return col.table(
        {
            "order_item_id": slot[keep] + 1,
            "order_id": order + 1,
            "tenant_id": order // m.orders + 1,
            "product_id": items["product"][keep] + 1,
            "quantity": quantity,
            "unit_price": col.money(unit),
            "line_total": col.money(quantity * unit),
            "created_at": col.timestamps(date[items["row"]][keep]),
        },
        ORDER_ITEMS,
    )


# --- payments, shipments, returns, reviews, support tickets ------------------------------------
PAYMENTS = col.schema(
    ("payment_id", INT), ("order_id", INT), ("tenant_id", INT), ("amount", MONEY), ("currency", STRING),
    ("method", STRING), ("status", STRING), ("paid_at", TIMESTAMP), ("anomaly", STRING),
)  # fmt: skip
PAYMENT_METHODS = ("card", "paypal", "bank_transfer", "wallet", "gift_card")


def payments(m: CommerceModel, lo: int, hi: int) -> pa.Table:
    g = _ids(lo, hi)
    life = m.lifecycle(g)
    keep = life.paid
    g = g[keep]
    date = life.order_date[keep]
    anomaly = np.where(life.anomaly[keep] == ANOMALY_LABELS.index("payment_delay"), life.anomaly[keep], NO_ANOMALY)
    return col.table(
        {
            "payment_id": g + 1,
            "order_id": g + 1,
            "tenant_id": g // m.orders + 1,
            "amount": col.money(order_amounts(m, g, date)["total"]),
            "currency": _pick(CURRENCIES, m.tenant_currency(g // m.orders)),
            "method": _pick(PAYMENT_METHODS, categorical(m.stream("payments", "method"), g, (55, 20, 10, 12, 3))),
            "status": pa.array(np.full(len(g), "captured", dtype=object), STRING),
            "paid_at": col.timestamps(life.paid_at[keep]),
            "anomaly": _labels(anomaly),
        },
        PAYMENTS,
    )


SHIPMENTS = col.schema(
    ("shipment_id", INT), ("order_id", INT), ("tenant_id", INT), ("warehouse_id", INT), ("carrier", STRING),
    ("tracking_number", STRING), ("status", STRING), ("shipped_at", TIMESTAMP), ("delivered_at", TIMESTAMP),
    ("failure_reason", STRING), ("anomaly", STRING),
)  # fmt: skip
CARRIERS = ("UPS", "FedEx", "DHL", "USPS", "Royal Mail")
FAILURE_REASONS = ("address not found", "recipient unavailable", "parcel damaged", "refused by recipient")
_SHIPMENT_ANOMALIES = tuple(ANOMALY_LABELS.index(x) for x in ("delivery_delay", "delivery_failure", "stockout"))


def shipments(m: CommerceModel, lo: int, hi: int) -> pa.Table:
    g = _ids(lo, hi)
    life = m.lifecycle(g)
    keep = life.shipped & (life.status != STATUS_CANCELLED)
    g, status = g[keep], life.status[keep]
    delivered, failed = status == STATUS_DELIVERED, status == STATUS_FAILED
    anomaly = life.anomaly[keep]
    anomaly = np.where(np.isin(anomaly, _SHIPMENT_ANOMALIES), anomaly, NO_ANOMALY)
    # The first item's product says which warehouse ships the order.
    first_item = m.item_product(g * ITEM_SLOTS, life.order_date[keep])
    reason = m.stream("shipments", "reason").integers(g, 0, len(FAILURE_REASONS))
    return col.table(
        {
            "shipment_id": g + 1,
            "order_id": g + 1,
            "tenant_id": g // m.orders + 1,
            "warehouse_id": m.product_warehouse(first_item) + 1,
            "carrier": _pick(CARRIERS, m.stream("shipments", "carrier").integers(g, 0, len(CARRIERS))),
            "tracking_number": col.join(
                "TRK", col.digits(unique_codes(m.stream("shipments", "tracking"), g, 10**10 // 4), 10)
            ),
            "status": pc.if_else(
                pa.array(delivered), "delivered", pc.if_else(pa.array(failed), "failed", "in_transit")
            ),
            "shipped_at": col.timestamps(life.shipped_at[keep]),
            "delivered_at": col.timestamps(life.delivered_at[keep], nulls=~delivered),
            "failure_reason": pc.if_else(pa.array(failed), _pick(FAILURE_REASONS, reason), pa.scalar(None, STRING)),
            "anomaly": _labels(anomaly),
        },
        SHIPMENTS,
    )


RETURNS = col.schema(
    ("return_id", INT), ("order_id", INT), ("order_item_id", INT), ("tenant_id", INT), ("product_id", INT),
    ("quantity", INT), ("reason", STRING), ("status", STRING), ("refund_amount", MONEY), ("requested_at", TIMESTAMP),
)  # fmt: skip
RETURN_REASONS = (
    "wrong size",
    "damaged in transit",
    "not as described",
    "changed mind",
    "arrived too late",
    "defective",
)


def _first_item(m: CommerceModel, g: np.ndarray, date: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    slot = g * ITEM_SLOTS
    product = m.item_product(slot, date)
    return slot, product, m.item_quantity(slot)


def returns(m: CommerceModel, lo: int, hi: int) -> pa.Table:
    g = _ids(lo, hi)
    life = m.lifecycle(g)
    requested = life.delivered_at + m.stream("returns", "after").integers(g, DAY, 25 * DAY)
    keep = life.delivered & m.stream("returns", "returned").bernoulli(g, 0.05) & (requested < m.end)
    g, requested, date = g[keep], requested[keep], life.order_date[keep]
    slot, product, ordered = _first_item(m, g, date)
    quantity = 1 + np.floor(m.stream("returns", "quantity").uniform(g) * ordered).astype(np.int64)
    unit = m.price_at(product, date)
    return col.table(
        {
            "return_id": g + 1,
            "order_id": g + 1,
            "order_item_id": slot + 1,
            "tenant_id": g // m.orders + 1,
            "product_id": product + 1,
            "quantity": quantity,
            "reason": _pick(RETURN_REASONS, m.stream("returns", "reason").integers(g, 0, len(RETURN_REASONS))),
            "status": _pick(
                ("requested", "approved", "refunded", "rejected"),
                categorical(m.stream("returns", "status"), g, (15, 20, 55, 10)),
            ),
            "refund_amount": col.money(quantity * unit),
            "requested_at": col.timestamps(requested),
        },
        RETURNS,
    )


REVIEWS = col.schema(
    ("review_id", INT), ("tenant_id", INT), ("product_id", INT), ("customer_id", INT), ("order_id", INT),
    ("rating", INT), ("title", STRING), ("body", STRING), ("created_at", TIMESTAMP),
)  # fmt: skip
_REVIEW_TITLES = (
    ("Very disappointed", "Broke after a week", "Not worth it", "Would not buy again"),
    ("Below expectations", "Meh", "Could be better", "Not great"),
    ("It's okay", "Average product", "Does the job", "Fair for the price"),
    ("Really good", "Happy with it", "Solid purchase", "Works well"),
    ("Absolutely love it", "Excellent quality", "Best purchase this year", "Exceeded expectations"),
)
_REVIEW_BODIES = (
    ("The {p} stopped working almost immediately and support was slow to answer.",
     "Quality of the {p} is poor; it looks nothing like the photos."),
    ("The {p} works, but the finish is cheap and it arrived scratched.",
     "I expected more from this {p}; it is smaller than described."),
    ("The {p} is fine for everyday use, nothing special.",
     "Decent {p}; delivery was on time and it does what it says."),
    ("Good {p}, well made and easy to use. Would recommend.",
     "I use the {p} every day and it holds up well."),
    ("This {p} is fantastic: great build quality and fast shipping.",
     "Five stars: the {p} is exactly what I needed and more."),
)  # fmt: skip


def reviews(m: CommerceModel, lo: int, hi: int) -> pa.Table:
    g = _ids(lo, hi)
    life = m.lifecycle(g)
    created = life.delivered_at + m.stream("reviews", "after").integers(g, 3600, 20 * DAY)
    keep = life.delivered & m.stream("reviews", "reviewed").bernoulli(g, 0.25) & (created < m.end)
    g, created, date = g[keep], created[keep], life.order_date[keep]
    _, product, _ = _first_item(m, g, date)
    rating = 1 + categorical(m.stream("reviews", "rating"), g, (5, 7, 13, 35, 40))
    variant = m.stream("reviews", "variant").integers(g, 0, 4)
    titles = pa.array([t for group in _REVIEW_TITLES for t in group])
    bodies = pa.array([b for group in _REVIEW_BODIES for b in group])
    noun = pc.utf8_lower(product_name(m, product))
    body = col.take(bodies, (rating - 1) * 2 + variant % 2)
    return col.table(
        {
            "review_id": g + 1,
            "tenant_id": g // m.orders + 1,
            "product_id": product + 1,
            "customer_id": m.order_customer(g, date) + 1,
            "order_id": g + 1,
            "rating": rating,
            "title": col.take(titles, (rating - 1) * 4 + variant),
            "body": _fill_product(body, noun),
            "created_at": col.timestamps(created),
        },
        REVIEWS,
    )


def _fill_product(template: pa.Array, noun: pa.Array) -> pa.Array:
    """Replace the {p} placeholder row by row, column-wise: split around it and rejoin."""
    parts = pc.split_pattern(template, "{p}", max_splits=1)
    return col.join(pc.list_element(parts, 0), noun, pc.list_element(parts, 1))


SUPPORT_TICKETS = col.schema(
    ("support_ticket_id", INT), ("tenant_id", INT), ("customer_id", INT), ("order_id", INT), ("subject", STRING),
    ("category", STRING), ("priority", STRING), ("status", STRING), ("created_at", TIMESTAMP),
    ("resolved_at", TIMESTAMP), ("anomaly", STRING),
)  # fmt: skip
_TICKET_SUBJECTS = {
    "delivery": ("Where is my order?", "Parcel marked delivered but not received", "Delivery is late"),
    "payment": ("Charged twice", "Payment not going through", "Refund has not arrived"),
    "product": ("Item arrived damaged", "Wrong item received", "Product stopped working"),
    "account": ("Cannot log in", "Update my shipping address", "Delete my account"),
}
_TICKET_CATEGORIES = tuple(_TICKET_SUBJECTS)


def support_tickets(m: CommerceModel, lo: int, hi: int) -> pa.Table:
    g = _ids(lo, hi)
    life = m.lifecycle(g)
    # Orders that went wrong raise tickets far more often.
    chance = np.where(life.anomaly != NO_ANOMALY, 0.35, 0.03)
    created = life.order_date + m.stream("support_tickets", "after").integers(g, 3600, 10 * DAY)
    keep = m.stream("support_tickets", "raised").bernoulli(g, chance) & (created < m.end)
    g, created, anomaly, date = g[keep], created[keep], life.anomaly[keep], life.order_date[keep]
    category = categorical(m.stream("support_tickets", "category"), g, (40, 25, 25, 10))
    subjects = pa.array([s for c in _TICKET_CATEGORIES for s in _TICKET_SUBJECTS[c]])
    resolve = created + m.stream("support_tickets", "resolve").integers(g, 1800, 7 * DAY)
    resolved = resolve < m.end
    status = np.where(
        resolved,
        m.stream("support_tickets", "closed").integers(g, 2, 4),
        m.stream("support_tickets", "open").integers(g, 0, 2),
    )
    return col.table(
        {
            "support_ticket_id": g + 1,
            "tenant_id": g // m.orders + 1,
            "customer_id": m.order_customer(g, date) + 1,
            "order_id": g + 1,
            "subject": col.take(subjects, category * 3 + m.stream("support_tickets", "subject").integers(g, 0, 3)),
            "category": _pick(_TICKET_CATEGORIES, category),
            "priority": _pick(
                ("low", "normal", "high", "urgent"),
                categorical(m.stream("support_tickets", "priority"), g, (25, 50, 20, 5)),
            ),
            "status": _pick(("open", "pending", "resolved", "closed"), status),
            "created_at": col.timestamps(created),
            "resolved_at": col.timestamps(resolve, nulls=~resolved),
            "anomaly": _labels(anomaly),
        },
        SUPPORT_TICKETS,
    )


# --- customer engagement -----------------------------------------------------------------------
WISHLISTS = col.schema(
    ("wishlist_id", INT), ("tenant_id", INT), ("customer_id", INT), ("product_id", INT), ("added_at", TIMESTAMP),
)  # fmt: skip
WISHLIST_SLOTS = 3


def _after_signup(m: CommerceModel, customer: np.ndarray, stream_table: str, key: np.ndarray) -> np.ndarray:
    """A time inside the window and after the customer signed up."""
    earliest = np.maximum(m.customer_created(customer) + 60, m.start)
    return earliest + np.floor((m.end - 1 - earliest) * m.stream(stream_table, "time").uniform(key)).astype(np.int64)


def wishlists(m: CommerceModel, lo: int, hi: int) -> pa.Table:
    s = _ids(lo, hi)
    customer = s // WISHLIST_SLOTS
    keep = s % WISHLIST_SLOTS < m.stream("wishlists", "size").integers(customer, 0, WISHLIST_SLOTS + 1)
    s, customer = s[keep], customer[keep]
    tenant = customer // m.customers
    added = _after_signup(m, customer, "wishlists", s)
    existing = m.product_cohort.existing(added)
    product = tenant * m.products + np.floor(existing * m.stream("wishlists", "product").uniform(s)).astype(np.int64)
    return col.table(
        {
            "wishlist_id": s + 1,
            "tenant_id": tenant + 1,
            "customer_id": customer + 1,
            "product_id": product + 1,
            "added_at": col.timestamps(added),
        },
        WISHLISTS,
    )


NOTIFICATIONS = col.schema(
    ("notification_id", INT), ("tenant_id", INT), ("customer_id", INT), ("channel", STRING), ("type", STRING),
    ("title", STRING), ("sent_at", TIMESTAMP), ("read_at", TIMESTAMP),
)  # fmt: skip
NOTIFICATION_SLOTS = 5
_NOTIFICATION_TYPES = ("order_update", "promotion", "price_drop", "back_in_stock", "newsletter")
_NOTIFICATION_TITLES = ("Your order is on its way", "A new offer just for you", "A wishlist item is cheaper",
                        "Back in stock", "This week's picks")  # fmt: skip


def notifications(m: CommerceModel, lo: int, hi: int) -> pa.Table:
    s = _ids(lo, hi)
    customer = s // NOTIFICATION_SLOTS
    keep = s % NOTIFICATION_SLOTS < m.stream("notifications", "count").integers(customer, 1, NOTIFICATION_SLOTS + 1)
    s, customer = s[keep], customer[keep]
    sent = _after_signup(m, customer, "notifications", s)
    kind = categorical(m.stream("notifications", "type"), s, (35, 25, 15, 10, 15))
    read_at = sent + m.stream("notifications", "read_after").integers(s, 60, 3 * DAY)
    unread = m.stream("notifications", "unread").bernoulli(s, 0.4) | (read_at >= m.end)
    return col.table(
        {
            "notification_id": s + 1,
            "tenant_id": customer // m.customers + 1,
            "customer_id": customer + 1,
            "channel": _pick(
                ("email", "sms", "push"), categorical(m.stream("notifications", "channel"), s, (60, 10, 30))
            ),
            "type": _pick(_NOTIFICATION_TYPES, kind),
            "title": _pick(_NOTIFICATION_TITLES, kind),
            "sent_at": col.timestamps(sent),
            "read_at": col.timestamps(read_at, nulls=unread),
        },
        NOTIFICATIONS,
    )


# --- stock events and inventory ----------------------------------------------------------------
STOCK_EVENTS = col.schema(
    ("stock_event_id", INT), ("tenant_id", INT), ("product_id", INT), ("warehouse_id", INT), ("delta", INT),
    ("resulting_level", INT), ("event_time", TIMESTAMP), ("source", STRING), ("meta", JSON),
)  # fmt: skip
STOCK_SOURCES = ("receipt", "sale", "return", "adjustment")
_STOCK_REASONS = (
    "Weekly stock replenishment",
    "Customer purchase",
    "Customer return restocked",
    "Cycle count correction",
)


def stock_ledger(m: CommerceModel, g: np.ndarray) -> dict[str, np.ndarray]:
    """Every product's stock events as [products, STOCK_SLOTS] arrays, with running levels.

    The loop runs over the six event slots (not rows): each step is vectorised over products.
    """
    n = len(g)
    slot_key = g[:, None] * STOCK_SLOTS + np.arange(STOCK_SLOTS)[None, :]
    count = 2 + m.stream("stock_events", "count").integers(g, 0, STOCK_SLOTS - 1)
    present = np.arange(STOCK_SLOTS)[None, :] < count[:, None]
    created = m.product_created(g)
    start = created
    span = (m.end - 1 - start).astype(np.float64)
    offsets = np.sort(m.stream("stock_events", "time").uniform(slot_key.ravel()).reshape(n, STOCK_SLOTS), axis=1)
    times = start[:, None] + np.floor(offsets * span[:, None]).astype(np.int64)
    times[:, 0] = start  # the first receipt when the product is listed
    times = np.maximum.accumulate(times, axis=1)
    source = categorical(m.stream("stock_events", "source"), slot_key.ravel(), (15, 65, 10, 10)).reshape(n, STOCK_SLOTS)
    source[:, 0] = 0
    size = m.stream("stock_events", "size").integers(slot_key.ravel(), 1, 1000).reshape(n, STOCK_SLOTS)
    delta = np.zeros((n, STOCK_SLOTS), dtype=np.int64)
    level = np.zeros((n, STOCK_SLOTS), dtype=np.int64)
    current = np.zeros(n, dtype=np.int64)
    for k in range(STOCK_SLOTS):
        src, amount = source[:, k], size[:, k]
        # A sale or write-off can never take stock below zero; on an empty shelf it becomes a restock.
        empty = (current == 0) & ((src == 1) | (src == 3))
        src = np.where(empty, 0, src)
        source[:, k] = src
        d = np.select(
            [src == 0, src == 1, src == 2],
            [100 + amount, -np.minimum(current, 1 + amount % 40), 1 + amount % 5],
            np.where(amount % 2 == 0, -np.minimum(current, amount % 11), amount % 11),
        )
        d = np.where(present[:, k], d, 0)
        current = current + d
        delta[:, k], level[:, k] = d, current
    return {
        "key": slot_key,
        "present": present,
        "time": times,
        "source": source,
        "delta": delta,
        "level": level,
        "count": count,
    }


def stock_events(m: CommerceModel, lo: int, hi: int) -> pa.Table:
    g = _ids(lo // STOCK_SLOTS, (hi - 1) // STOCK_SLOTS + 1)
    ledger = stock_ledger(m, g)
    key = ledger["key"].ravel()
    keep = ledger["present"].ravel() & (key >= lo) & (key < hi)
    product = np.repeat(g, STOCK_SLOTS)[keep]
    source = ledger["source"].ravel()[keep]
    operator = col.join(
        col.take(m.pools.first_names, m.stream("stock_events", "op_first").integers(key[keep], 0, 10**6)),
        " ",
        col.take(m.pools.last_names, m.stream("stock_events", "op_last").integers(key[keep], 0, 10**6)),
    )
    return col.table(
        {
            "stock_event_id": key[keep] + 1,
            "tenant_id": product // m.products + 1,
            "product_id": product + 1,
            "warehouse_id": m.product_warehouse(product) + 1,
            "delta": ledger["delta"].ravel()[keep],
            "resulting_level": ledger["level"].ravel()[keep],
            "event_time": col.timestamps(ledger["time"].ravel()[keep]),
            "source": _pick(STOCK_SOURCES, source),
            "meta": col.json_objects({"reason": _pick(_STOCK_REASONS, source), "operator": operator}),
        },
        STOCK_EVENTS,
    )


INVENTORY = col.schema(
    ("inventory_id", INT), ("tenant_id", INT), ("product_id", INT), ("warehouse_id", INT), ("quantity_on_hand", INT),
    ("reorder_point", INT), ("updated_at", TIMESTAMP),
)  # fmt: skip


def inventory(m: CommerceModel, lo: int, hi: int) -> pa.Table:
    g = _ids(lo, hi)
    ledger = stock_ledger(m, g)
    last = ledger["count"] - 1
    rows = np.arange(len(g))
    return col.table(
        {
            "inventory_id": g + 1,
            "tenant_id": g // m.products + 1,
            "product_id": g + 1,
            "warehouse_id": m.product_warehouse(g) + 1,
            "quantity_on_hand": ledger["level"][rows, last],
            "reorder_point": 10 * m.stream("inventory", "reorder").integers(g, 1, 6),
            "updated_at": col.timestamps(ledger["time"][rows, last]),
        },
        INVENTORY,
    )


# --- analytics: derived from the fact tables already written -----------------------------------
CUSTOMER_ANALYTICS = col.schema(
    ("customer_id", INT), ("tenant_id", INT), ("order_count", INT), ("total_spent", MONEY),
    ("average_order_value", MONEY), ("first_order_at", TIMESTAMP), ("last_order_at", TIMESTAMP),
)  # fmt: skip
PRODUCT_ANALYTICS = col.schema(
    ("product_id", INT), ("tenant_id", INT), ("order_count", INT), ("units_sold", INT), ("revenue", MONEY),
    ("review_count", INT), ("average_rating", pa.float64()), ("returned_units", INT), ("return_rate", pa.float64()),
)  # fmt: skip
_PAID = ("processing", "shipped", "delivered", "delivery_failed")


def _cents(values: pa.Array) -> np.ndarray:
    """Decimal(14, 2) to integer cents, exactly."""
    raw = np.frombuffer(values.buffers()[1], dtype=np.int64)
    return raw[2 * values.offset : 2 * (values.offset + len(values)) : 2]


def _chunks(n: int, chunk_size: int) -> Iterator[tuple[int, int]]:
    for lo in range(0, n, chunk_size):
        yield lo, min(lo + chunk_size, n)


def derive_customer_analytics(m: CommerceModel, dataset: Path, chunk_size: int) -> Iterator[pa.Table]:
    """Paid orders per customer: count, money spent, first and last order."""
    n = m.tenants * m.customers
    count = np.zeros(n, dtype=np.int64)
    spent = np.zeros(n, dtype=np.float64)
    first = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    last = np.full(n, np.iinfo(np.int64).min, dtype=np.int64)
    for batch in read_batches(dataset / "orders", ["customer_id", "total_amount", "order_status", "order_date"]):
        paid = pc.is_in(batch["order_status"], pa.array(_PAID)).to_numpy(zero_copy_only=False)
        customer = batch["customer_id"].to_numpy()[paid] - 1
        count += np.bincount(customer, minlength=n)
        spent += np.bincount(customer, weights=_cents(batch["total_amount"])[paid].astype(np.float64), minlength=n)
        date = col.epoch_seconds(batch["order_date"])[paid]
        np.minimum.at(first, customer, date)
        np.maximum.at(last, customer, date)
    spent_cents = np.rint(spent).astype(np.int64)
    none = count == 0
    for lo, hi in _chunks(n, chunk_size):
        c = slice(lo, hi)
        ids = np.arange(lo, hi, dtype=np.int64)
        yield col.table(
            {
                "customer_id": ids + 1,
                "tenant_id": ids // m.customers + 1,
                "order_count": count[c],
                "total_spent": col.money(spent_cents[c]),
                "average_order_value": col.money(spent_cents[c] // np.maximum(count[c], 1), nulls=none[c]),
                "first_order_at": col.timestamps(np.where(none[c], 0, first[c]), nulls=none[c]),
                "last_order_at": col.timestamps(np.where(none[c], 0, last[c]), nulls=none[c]),
            },
            CUSTOMER_ANALYTICS,
        )


def derive_product_analytics(m: CommerceModel, dataset: Path, chunk_size: int) -> Iterator[pa.Table]:
    """Sales of paid orders, reviews and returns per product."""
    n = m.tenants * m.products
    paid_order = np.zeros(m.tenants * m.orders, dtype=bool)
    for batch in read_batches(dataset / "orders", ["order_id", "order_status"]):
        paid_order[batch["order_id"].to_numpy() - 1] = pc.is_in(batch["order_status"], pa.array(_PAID)).to_numpy(
            zero_copy_only=False
        )
    lines = np.zeros(n, dtype=np.int64)
    units = np.zeros(n, dtype=np.int64)
    revenue = np.zeros(n, dtype=np.float64)
    for batch in read_batches(dataset / "order_items", ["order_id", "product_id", "quantity", "line_total"]):
        paid = paid_order[batch["order_id"].to_numpy() - 1]
        product = batch["product_id"].to_numpy()[paid] - 1
        lines += np.bincount(product, minlength=n)
        units += np.bincount(product, weights=batch["quantity"].to_numpy()[paid], minlength=n).astype(np.int64)
        revenue += np.bincount(product, weights=_cents(batch["line_total"])[paid].astype(np.float64), minlength=n)
    reviews_n = np.zeros(n, dtype=np.int64)
    stars = np.zeros(n, dtype=np.int64)
    for batch in read_batches(dataset / "reviews", ["product_id", "rating"]):
        product = batch["product_id"].to_numpy() - 1
        reviews_n += np.bincount(product, minlength=n)
        stars += np.bincount(product, weights=batch["rating"].to_numpy(), minlength=n).astype(np.int64)
    returned = np.zeros(n, dtype=np.int64)
    for batch in read_batches(dataset / "returns", ["product_id", "quantity"]):
        returned += np.bincount(
            batch["product_id"].to_numpy() - 1, weights=batch["quantity"].to_numpy(), minlength=n
        ).astype(np.int64)
    revenue_cents = np.rint(revenue).astype(np.int64)
    for lo, hi in _chunks(n, chunk_size):
        c = slice(lo, hi)
        ids = np.arange(lo, hi, dtype=np.int64)
        rated = reviews_n[c] > 0
        sold = units[c] > 0
        yield col.table(
            {
                "product_id": ids + 1,
                "tenant_id": ids // m.products + 1,
                "order_count": lines[c],
                "units_sold": units[c],
                "revenue": col.money(revenue_cents[c]),
                "review_count": reviews_n[c],
                "average_rating": pa.array(np.round(stars[c] / np.maximum(reviews_n[c], 1), 4), mask=~rated),
                "returned_units": returned[c],
                "return_rate": pa.array(np.round(returned[c] / np.maximum(units[c], 1), 4), mask=~sold),
            },
            PRODUCT_ANALYTICS,
        )


FOREIGN_KEYS: dict[str, tuple[tuple[str, str], ...]] = {
    "categories": (("parent_category_id", "categories"),),
    "products": (("category_id", "categories"), ("vendor_id", "vendors"), ("warehouse_id", "warehouses")),
    "price_history": (("product_id", "products"),),
    "promotions": (("category_id", "categories"),),
    "orders": (("customer_id", "customers"),),
    "order_items": (("order_id", "orders"), ("product_id", "products")),
    "payments": (("order_id", "orders"),),
    "shipments": (("order_id", "orders"), ("warehouse_id", "warehouses")),
    "returns": (("order_id", "orders"), ("order_item_id", "order_items"), ("product_id", "products")),
    "reviews": (("product_id", "products"), ("customer_id", "customers"), ("order_id", "orders")),
    "support_tickets": (("customer_id", "customers"), ("order_id", "orders")),
    "wishlists": (("customer_id", "customers"), ("product_id", "products")),
    "notifications": (("customer_id", "customers"),),
    "stock_events": (("product_id", "products"), ("warehouse_id", "warehouses")),
    "inventory": (("product_id", "products"), ("warehouse_id", "warehouses")),
    "customer_analytics": (("customer_id", "customers"),),
    "product_analytics": (("product_id", "products"),),
}


def _spec(
    name: str, key: str, schema: pa.Schema, slots, build, parents: tuple[str, ...] = (), description: str = "", **kw
) -> TableSpec:
    tenant_fk = (("tenant_id", "tenants"),) if name != "tenants" else ()
    return TableSpec(
        DOMAIN, name, key, schema, description, slots, build, parents,
        per_tenant=name != "tenants", foreign_keys=tenant_fk + FOREIGN_KEYS.get(name, ()), **kw,
    )  # fmt: skip


TABLES: tuple[TableSpec, ...] = (
    _spec(
        "tenants",
        "tenant_id",
        TENANTS,
        lambda m: m.tenants,
        tenants,
        description="Shops sharing the platform; the API key is stored only as its sha256.",
    ),
    _spec(
        "categories",
        "category_id",
        CATEGORIES,
        lambda m: m.tenants * CATEGORIES_PER_TENANT,
        categories,
        ("tenants",),
        "Two-level category tree per tenant; SKU prefixes.",
    ),
    _spec(
        "vendors",
        "vendor_id",
        VENDORS,
        lambda m: m.tenants * m.vendors,
        vendors,
        ("tenants",),
        "Suppliers of the tenant's products.",
    ),
    _spec(
        "warehouses",
        "warehouse_id",
        WAREHOUSES,
        lambda m: m.tenants * m.warehouses,
        warehouses,
        ("tenants",),
        "Fulfilment centres.",
    ),
    _spec(
        "products",
        "product_id",
        PRODUCTS,
        lambda m: m.tenants * m.products,
        products,
        ("tenants", "categories", "vendors", "warehouses"),
        "Catalogue with SKU, price and launch date.",
        text_columns=("name", "description"),
    ),
    _spec(
        "price_history",
        "price_history_id",
        PRICE_HISTORY,
        lambda m: m.tenants * m.products * PRICE_SLOTS,
        price_history,
        ("products",),
        "Contiguous price intervals per product; the open one is the current price.",
    ),
    _spec(
        "customers",
        "customer_id",
        CUSTOMERS,
        lambda m: m.tenants * m.customers,
        customers,
        ("tenants",),
        "Shoppers with contact metadata; e-mails on reserved domains.",
    ),
    _spec(
        "promotions",
        "promotion_id",
        PROMOTIONS,
        lambda m: m.tenants * m.promotions,
        promotions,
        ("tenants", "categories"),
        "Discount campaigns tiling the window.",
    ),
    _spec(
        "orders",
        "order_id",
        ORDERS,
        lambda m: m.tenants * m.orders,
        orders,
        ("tenants", "customers", "products", "price_history", "promotions"),
        "Orders laid out by the time-series engine, with labelled anomalies.",
    ),
    _spec(
        "order_items",
        "order_item_id",
        ORDER_ITEMS,
        lambda m: m.tenants * m.orders * ITEM_SLOTS,
        order_items,
        ("orders", "products", "price_history"),
        "Order lines at the price in effect on the order date.",
    ),
    _spec(
        "payments",
        "payment_id",
        PAYMENTS,
        lambda m: m.tenants * m.orders,
        payments,
        ("orders",),
        "One captured payment per paid order.",
    ),
    _spec(
        "shipments",
        "shipment_id",
        SHIPMENTS,
        lambda m: m.tenants * m.orders,
        shipments,
        ("orders", "payments", "warehouses"),
        "Shipments with delivery outcome.",
    ),
    _spec(
        "returns",
        "return_id",
        RETURNS,
        lambda m: m.tenants * m.orders,
        returns,
        ("orders", "order_items", "shipments"),
        "Returns of delivered items.",
    ),
    _spec(
        "reviews",
        "review_id",
        REVIEWS,
        lambda m: m.tenants * m.orders,
        reviews,
        ("orders", "order_items", "customers", "shipments"),
        "Reviews by buyers after delivery.",
        text_columns=("title", "body"),
    ),
    _spec(
        "support_tickets",
        "support_ticket_id",
        SUPPORT_TICKETS,
        lambda m: m.tenants * m.orders,
        support_tickets,
        ("orders", "customers"),
        "Customer support requests about orders.",
    ),
    _spec(
        "wishlists",
        "wishlist_id",
        WISHLISTS,
        lambda m: m.tenants * m.customers * WISHLIST_SLOTS,
        wishlists,
        ("customers", "products"),
        "Products customers saved for later.",
    ),
    _spec(
        "notifications",
        "notification_id",
        NOTIFICATIONS,
        lambda m: m.tenants * m.customers * NOTIFICATION_SLOTS,
        notifications,
        ("customers",),
        "Messages sent to customers.",
    ),
    _spec(
        "stock_events",
        "stock_event_id",
        STOCK_EVENTS,
        lambda m: m.tenants * m.products * STOCK_SLOTS,
        stock_events,
        ("products", "warehouses"),
        "Stock ledger; resulting_level is the running sum and never negative.",
    ),
    _spec(
        "inventory",
        "inventory_id",
        INVENTORY,
        lambda m: m.tenants * m.products,
        inventory,
        ("products", "warehouses", "stock_events"),
        "Stock on hand per product and warehouse, as the ledger ends.",
    ),
    _spec(
        "customer_analytics",
        "customer_id",
        CUSTOMER_ANALYTICS,
        lambda m: m.tenants * m.customers,
        None,
        ("customers", "orders", "payments"),
        "Per-customer purchase totals derived from the orders.",
        derive=derive_customer_analytics,
    ),
    _spec(
        "product_analytics",
        "product_id",
        PRODUCT_ANALYTICS,
        lambda m: m.tenants * m.products,
        None,
        ("products", "orders", "order_items", "reviews", "returns"),
        "Per-product sales, ratings and returns derived from the facts.",
        derive=derive_product_analytics,
    ),
)
