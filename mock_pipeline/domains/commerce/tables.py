"""The commerce tables (seeds 003 and 004): schema and a pure, columnar builder for each."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mock_pipeline.domains.commerce.descriptions import COLUMN_DESCRIPTIONS, CREATED
from mock_pipeline.domains.commerce.model import (
    CATEGORIES_PER_TENANT,
    CATEGORY_TREE,
    CURRENCIES,
    EVERGREEN_THEMES,
    ITEM_SLOTS,
    NO_ANOMALY,
    OPENING,
    ORDER_STATUSES,
    PAYMENT_STATUSES,
    PRICE_SLOTS,
    PROMOTION_THEMES,
    RETURN_STATUSES,
    SETUP_END,
    STATUS_CANCELLED,
    STATUS_DELIVERED,
    STATUS_FAILED,
    TENANT_LOCALES,
    TOP_CATEGORIES,
    CommerceModel,
)
from mock_pipeline.domains.commerce.vocab import (
    ADJECTIVES,
    DESCRIPTION_CLOSERS,
    DESCRIPTION_FOLLOWS,
    DESCRIPTION_OPENERS,
    LATE_RETURN_REASON,
    NOTIFICATION_TITLES,
    NOTIFICATION_TYPES,
    RETURN_REASONS,
    REVIEW_DETAILS,
    REVIEW_LATE_NOTE,
    REVIEW_OPENINGS,
    REVIEW_TITLES,
    SUBCATEGORY_FEATURES,
    SUBCATEGORY_NOUNS,
    SUBCATEGORY_VARIANTS,
    TICKET_CATEGORIES,
    TICKETS_BY_LABEL,
    TICKETS_WITHOUT_PROBLEM,
)
from mock_pipeline.engine import columns as col
from mock_pipeline.engine.columns import JSON, MONEY, TIMESTAMP
from mock_pipeline.engine.dense import DenseKeys
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


# --- dense keys --------------------------------------------------------------------------------
def _dense(m: CommerceModel, table: str) -> DenseKeys:
    """Keys 1..n over the present slots of a slotted table, counted once per model."""
    slots, present = _SLOTTED[table]
    return m.cached(f"dense:{table}", lambda: DenseKeys(lambda lo, hi: present(m, lo, hi), slots(m)))


def _numbered(m: CommerceModel, table: str, lo: int, rows: int) -> np.ndarray:
    """Keys of the `rows` present rows of a chunk starting at slot lo (rows are in slot order)."""
    return _dense(m, table).offset(lo) + 1 + np.arange(rows, dtype=np.int64)


def _from_tenant_pools(
    m: CommerceModel, tenant: np.ndarray, pick: Callable[[int], pa.Array], u: np.ndarray
) -> pa.Array:
    """pool[floor(u * len(pool))] with each row's pool chosen by its tenant (rows are tenant-major)."""
    pieces = []
    for t in np.unique(tenant):
        sel = tenant == t
        pool = pick(int(t))
        pieces.append(col.take(pool, np.floor(u[sel] * len(pool)).astype(np.int64)))
    return pieces[0] if len(pieces) == 1 else pa.concat_arrays(pieces)


# --- tenants -----------------------------------------------------------------------------------
TENANTS = col.schema(
    ("tenant_id", INT), ("name", STRING), ("api_key_hash", STRING), ("plan", STRING), ("locale", STRING),
    ("currency", STRING), ("created_at", TIMESTAMP),
)  # fmt: skip


def _company(m: CommerceModel, tenant: np.ndarray, index: np.ndarray) -> pa.Array:
    """Company names unique in the dataset: `index` (distinct across the dataset) goes through a keyed
    permutation of last name x trade suffix x second last name of the tenant's locale ("Ochoa Trading",
    "Ochoa & Wolfe Trading"); each locale has its own suffixes, so locales never share a name."""
    pieces = []
    for t in np.unique(tenant):
        sel = tenant == t
        last = m.name_parts(int(t)).last
        suffixes = pa.array(COMPANY_SUFFIXES[m.tenant_locale(int(t))])
        n, k = len(last), len(suffixes)
        code = unique_codes(m.stream("vendors", "company"), index[sel] % (n * n * k), n * n * k)
        first, second = code % n, code // (n * k)
        suffix = (code // n + first + second) % k  # a bijection for fixed names: still unique
        partner = pc.if_else(pa.array(first == second), "", col.join(" & ", col.take(last, second)))
        pieces.append(col.join(col.take(last, first), partner, " ", col.take(suffixes, suffix)))
    return pieces[0] if len(pieces) == 1 else pa.concat_arrays(pieces)


def _tenant_names(m: CommerceModel, t: np.ndarray) -> pa.Array:
    """A company of the tenant's locale; tenants sharing a locale get distinct ones (a keyed permutation)."""
    names = []
    for tenant in t:
        pool = m.tenant_pools(int(tenant)).companies
        names.append(pool[int(unique_codes(m.stream("tenants", "name"), np.array([tenant % len(pool)]), len(pool))[0])])
    return pa.array([n.as_py() for n in names], STRING)


def tenants(m: CommerceModel, lo: int, hi: int) -> pa.Table:
    t = _ids(lo, hi)
    key_bits = np.stack([m.stream("tenants", f"api_key_{i}").bits(t) for i in range(4)], axis=1)
    # The API key itself is never stored anywhere: only its sha256. Tenants are few.
    hashes = [hashlib.sha256(row.tobytes()).hexdigest() for row in key_bits]
    created = m.start + m.stream("tenants", "created").integers(t, 0, 60)
    locale = m.tenant_currency(t)
    return col.table(
        {
            "tenant_id": t + 1,
            "name": _tenant_names(m, t),
            "api_key_hash": pa.array(hashes, STRING),
            "plan": _pick(("starter", "growth", "enterprise"), categorical(m.stream("tenants", "plan"), t, (5, 3, 2))),
            "locale": _pick(tuple(x for x, _, _ in TENANT_LOCALES), locale),
            "currency": _pick(CURRENCIES, locale),
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
    # Top categories in the tenant's 2nd minute, sub-categories in the 3rd (after their parent).
    created = m.start + np.where(local < TOP_CATEGORIES, 60, 120) + m.stream("categories", "created").integers(g, 0, 60)
    return col.table(
        {
            "category_id": g + 1,
            "tenant_id": tenant + 1,
            "name": _pick(_CATEGORY_NAMES, local),
            "parent_category_id": col.ints(parent, nulls=local < TOP_CATEGORIES),
            "sku_prefix": _pick(_CATEGORY_PREFIX, top),
            "created_at": col.timestamps(created),
        },
        CATEGORIES,
    )


# --- vendors and warehouses --------------------------------------------------------------------
VENDORS = col.schema(
    ("vendor_id", INT), ("tenant_id", INT), ("name", STRING), ("contact_email", STRING), ("phone", STRING),
    ("city", STRING), ("created_at", TIMESTAMP),
)  # fmt: skip
# Trade suffixes per locale (TENANT_LOCALES order), disjoint so that no two locales make one name.
COMPANY_SUFFIXES: tuple[tuple[str, ...], ...] = (
    ("Supply Co.", "Trading", "Goods", "Wholesale", "Imports", "Distribution", "Outfitters", "Merchants"),
    ("GmbH", "Handel GmbH", "& Co. KG", "Vertrieb", "Großhandel", "Import GmbH"),
    ("Ltd", "& Co. Ltd", "Trading Ltd", "Supplies Ltd", "Wholesale Ltd", "Brothers Ltd"),
    ("Supply Inc.", "Trading Inc.", "Distributors", "Wholesale Inc.", "Goods Inc.", "Sourcing"),
    ("Pty Ltd", "Trading Pty Ltd", "Supplies Pty Ltd", "Wholesale Pty Ltd", "Imports Pty Ltd", "& Sons Pty Ltd"),
)
_CONTACT_ROLES = ("sales", "orders", "accounts", "support", "partners")


def vendors(m: CommerceModel, lo: int, hi: int) -> pa.Table:
    g = _ids(lo, hi)
    tenant = g // m.vendors
    # Tenants take the first codes of the permutation, vendors the ones after: all names distinct.
    name = _company(m, tenant, m.tenants + g)
    role = _pick(_CONTACT_ROLES, m.stream("vendors", "role").integers(g, 0, len(_CONTACT_ROLES)))
    return col.table(
        {
            "vendor_id": g + 1,
            "tenant_id": tenant + 1,
            "name": name,
            "contact_email": col.join(role, "@", pc.utf8_slice_codeunits(slug(name), 0, 40), ".example"),
            "phone": _from_tenant_pools(
                m, tenant, lambda t: m.tenant_pools(t).phones, m.stream("vendors", "phone").uniform(g)
            ),
            "city": _from_tenant_pools(
                m, tenant, lambda t: m.tenant_pools(t).cities, m.stream("vendors", "city").uniform(g)
            ),
            "created_at": col.timestamps(m.start + m.stream("vendors", "created").integers(g, 180, SETUP_END)),
        },
        VENDORS,
    )


WAREHOUSES = col.schema(
    ("warehouse_id", INT), ("tenant_id", INT), ("name", STRING), ("address", STRING), ("city", STRING),
    ("capacity_units", INT), ("created_at", TIMESTAMP),
)  # fmt: skip
_WAREHOUSE_KINDS = ("Fulfilment Centre", "Distribution Hub", "Logistics Park", "Depot", "Warehouse")


def warehouses(m: CommerceModel, lo: int, hi: int) -> pa.Table:
    g = _ids(lo, hi)
    tenant = g // m.warehouses
    # Distinct cities within a tenant (a keyed permutation of the local index over the city pool).
    cities = []
    for t in np.unique(tenant):
        pool = m.tenant_pools(int(t)).cities
        local = g[tenant == t] % m.warehouses
        cities.append(col.take(pool, unique_codes(m.stream("warehouses", "city"), local % len(pool), len(pool))))
    city = cities[0] if len(cities) == 1 else pa.concat_arrays(cities)
    kind = _pick(_WAREHOUSE_KINDS, m.stream("warehouses", "kind").integers(g, 0, len(_WAREHOUSE_KINDS)))
    return col.table(
        {
            "warehouse_id": g + 1,
            "tenant_id": tenant + 1,
            "name": col.join(city, " ", kind),
            "address": _from_tenant_pools(
                m, tenant, lambda t: m.tenant_pools(t).streets, m.stream("warehouses", "street").uniform(g)
            ),
            "city": city,
            "capacity_units": 10_000 * m.stream("warehouses", "capacity").integers(g, 5, 101),
            "created_at": col.timestamps(m.start + m.stream("warehouses", "created").integers(g, 180, SETUP_END)),
        },
        WAREHOUSES,
    )


# --- products and price history ----------------------------------------------------------------
PRODUCTS = col.schema(
    ("product_id", INT), ("tenant_id", INT), ("sku", STRING), ("name", STRING), ("description", STRING),
    ("price", MONEY), ("category_id", INT), ("vendor_id", INT), ("warehouse_id", INT), ("active", pa.bool_()),
    ("created_at", TIMESTAMP),
)  # fmt: skip
_NOUN_WIDTH = max(len(n) for n in SUBCATEGORY_NOUNS)
_VARIANT_WIDTH = max(len(v) for v in SUBCATEGORY_VARIANTS)
_NOUN_POOL = pa.array([n[k % len(n)] for n in SUBCATEGORY_NOUNS for k in range(_NOUN_WIDTH)])
_VARIANT_POOL = pa.array([v[k % len(v)] for v in SUBCATEGORY_VARIANTS for k in range(_VARIANT_WIDTH)])
_ADJECTIVE_POOL = pa.array(ADJECTIVES)
_NAME_SPACE = len(ADJECTIVES) * _VARIANT_WIDTH * _NOUN_WIDTH
_FEATURE_WIDTH = max(len(f) for f in SUBCATEGORY_FEATURES)
_FEATURE_POOL = pa.array([f[k % len(f)] for f in SUBCATEGORY_FEATURES for k in range(_FEATURE_WIDTH)])
_OPENER_POOL = pa.array(DESCRIPTION_OPENERS)
_FOLLOW_POOL = pa.array(DESCRIPTION_FOLLOWS)
_CLOSER_POOL = pa.array(DESCRIPTION_CLOSERS)


def _name_code(m: CommerceModel, g: np.ndarray) -> np.ndarray:
    """A code distinct per product of a tenant: adjective, variant, noun and series of its name."""
    series = -(-(m.tenants * m.products) // _NAME_SPACE)  # distinct global index: distinct across tenants too
    return unique_codes(m.stream("products", "name"), g, _NAME_SPACE * series)


def product_noun(m: CommerceModel, g: np.ndarray) -> pa.Array:
    sub = m.product_subcategory(g) - TOP_CATEGORIES
    noun = (_name_code(m, g) // (len(ADJECTIVES) * _VARIANT_WIDTH)) % _NOUN_WIDTH
    return col.take(_NOUN_POOL, sub * _NOUN_WIDTH + noun)


def product_name(m: CommerceModel, g: np.ndarray) -> pa.Array:
    """Adjective + variant + noun of the product's sub-category (+ a series number when the
    catalogue is larger than the combinations): distinct within a tenant."""
    sub = m.product_subcategory(g) - TOP_CATEGORIES
    code = _name_code(m, g)
    adjective = code % len(ADJECTIVES)
    variant = (code // len(ADJECTIVES)) % _VARIANT_WIDTH
    series = code // _NAME_SPACE
    name = col.join(col.take(_ADJECTIVE_POOL, adjective), " ", col.take(_VARIANT_POOL, sub * _VARIANT_WIDTH + variant),
                    " ", product_noun(m, g))  # fmt: skip
    if series.max(initial=0) == 0:
        return name
    return pc.if_else(pa.array(series > 0), col.join(name, " Series ", col.text(series + 1)), name)


def product_description(m: CommerceModel, g: np.ndarray, name: pa.Array) -> pa.Array:
    """Name + two different selling points of its top category + a closing line."""
    top = m.product_subcategory(g) - TOP_CATEGORIES  # features are per sub-category
    k = m.stream("products", "features").integers(g, 0, _FEATURE_WIDTH * (_FEATURE_WIDTH - 1))
    first = k % _FEATURE_WIDTH
    second = (first + 1 + k // _FEATURE_WIDTH) % _FEATURE_WIDTH
    opener = col.take(_OPENER_POOL, m.stream("products", "opener").integers(g, 0, len(DESCRIPTION_OPENERS)))
    follow = col.take(_FOLLOW_POOL, m.stream("products", "follow").integers(g, 0, len(DESCRIPTION_FOLLOWS)))
    closer = col.take(_CLOSER_POOL, m.stream("products", "closer").integers(g, 0, len(DESCRIPTION_CLOSERS)))
    return pc.utf8_rtrim_whitespace(
        col.join(
            name, opener, col.take(_FEATURE_POOL, top * _FEATURE_WIDTH + first), ". ", follow,
            col.take(_FEATURE_POOL, top * _FEATURE_WIDTH + second), ". ", closer,
        )
    )  # fmt: skip


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
            "description": product_description(m, g, name),
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


def _price_present(m: CommerceModel, lo: int, hi: int) -> np.ndarray:
    s = _ids(lo, hi)
    return s % PRICE_SLOTS < m.price_versions(s // PRICE_SLOTS)


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
            "price_history_id": _numbered(m, "price_history", lo, len(s)),
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
_EMAIL_SEPARATORS = pa.array([".", "_", ""])


def _customer_parts(m: CommerceModel, g: np.ndarray, field: str, which: np.ndarray) -> pa.Array:
    tenant = g // m.customers
    pieces = []
    for t in np.unique(tenant):
        sel = tenant == t
        pieces.append(col.take(getattr(m.name_parts(int(t)), field), which[sel]))
    return pieces[0] if len(pieces) == 1 else pa.concat_arrays(pieces)


def customer_name(m: CommerceModel, g: np.ndarray) -> pa.Array:
    who = m.customer_identity(g)
    return col.join(_customer_parts(m, g, "first", who["first"]), " ", _customer_parts(m, g, "last", who["last"]))


def customer_email(m: CommerceModel, g: np.ndarray) -> pa.Array:
    """first.last + birth-year-like digits: unique per tenant by construction, on a reserved domain."""
    who = m.customer_identity(g)
    domain = col.take(EMAIL_DOMAINS, m.stream("customers", "domain").integers(g, 0, 3))
    separator = col.take(_EMAIL_SEPARATORS, m.stream("customers", "separator").integers(g, 0, 3))
    year = col.digits((60 + who["year"]) % 100, 2)
    return col.join(_customer_parts(m, g, "first_slug", who["first"]), separator,
                    _customer_parts(m, g, "last_slug", who["last"]), year, "@", domain)  # fmt: skip


def customers(m: CommerceModel, lo: int, hi: int) -> pa.Table:
    g = _ids(lo, hi)
    tenant = g // m.customers
    created = m.customer_created(g)
    updated = created + np.floor((m.end - 1 - created) * m.stream("customers", "updated").uniform(g) ** 2).astype(
        np.int64
    )
    metadata = col.json_objects(
        {
            "phone": _from_tenant_pools(
                m, tenant, lambda t: m.tenant_pools(t).phones, m.stream("customers", "phone").uniform(g)
            ),
            "address": col.join(
                _from_tenant_pools(
                    m, tenant, lambda t: m.tenant_pools(t).streets, m.stream("customers", "street").uniform(g)
                ),
                ", ",
                _from_tenant_pools(
                    m, tenant, lambda t: m.tenant_pools(t).cities, m.stream("customers", "city").uniform(g)
                ),
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
            "tenant_id": tenant + 1,
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
_THEME_WORDS = pa.array([w for w, _, _ in PROMOTION_THEMES] + [w for w, _ in EVERGREEN_THEMES])
_THEME_NAMES = pa.array([n for _, n, _ in PROMOTION_THEMES] + [n for _, n in EVERGREEN_THEMES])


def _promotion_theme(m: CommerceModel, p: np.ndarray) -> np.ndarray:
    """Index into _THEME_WORDS: the tile's season, else an evergreen theme."""
    theme = m.promotion_tiles[2][p % m.promotions]
    evergreen = len(PROMOTION_THEMES) + m.stream("promotions", "word").integers(p, 0, len(EVERGREEN_THEMES))
    return np.where(theme >= 0, theme, evergreen)


def promotion_code(m: CommerceModel, p: np.ndarray) -> pa.Array:
    """Theme word + percent + three digits from a keyed permutation of the local index (unique per tenant)."""
    word = col.take(_THEME_WORDS, _promotion_theme(m, p))
    suffix = unique_codes(m.stream("promotions", "suffix"), p % m.promotions, 1000)
    return col.join(word, col.text(m.promotion_percent(p)), "-", col.digits(suffix, 3))


def promotions(m: CommerceModel, lo: int, hi: int) -> pa.Table:
    p = _ids(lo, hi)
    tenant, local = p // m.promotions, p % m.promotions
    tile_starts, tile_ends, _ = m.promotion_tiles
    starts, ends = tile_starts[local], tile_ends[local]
    scoped = m.stream("promotions", "scoped").bernoulli(p, 0.4)
    category = tenant * CATEGORIES_PER_TENANT + m.stream("promotions", "category").integers(p, 0, TOP_CATEGORIES) + 1
    percent = m.promotion_percent(p)
    # Set up 1-30 days ahead (at a time of its own), never before the shop's setup is done.
    lead = m.stream("promotions", "lead").integers(p, 3600, 30 * DAY)
    earliest = m.start + SETUP_END + m.stream("promotions", "setup").integers(p, 0, OPENING - SETUP_END)
    created = np.minimum(np.maximum(earliest, starts - lead), starts)
    return col.table(
        {
            "promotion_id": p + 1,
            "tenant_id": tenant + 1,
            "code": promotion_code(m, p),
            "name": col.join(
                col.take(_THEME_NAMES, _promotion_theme(m, p)),
                ": ",
                col.text(percent),
                "% off ",
                pc.if_else(pa.array(scoped), "selected categories", "everything"),
            ),
            "discount_percent": percent,
            "category_id": col.ints(category, nulls=~scoped),
            "starts_at": col.timestamps(starts),
            "ends_at": col.timestamps(ends),
            "created_at": col.timestamps(created),
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


def order_campaign(m: CommerceModel, g: np.ndarray, date: np.ndarray) -> np.ndarray:
    """A campaign running at the order date: seasonal ones only in season (summer sale June-August,
    Black Friday / Cyber Monday 20-30 November), evergreen ones all year."""
    month, day = m.month_day(date)
    evergreen = 2 + m.stream("orders", "campaign").integers(g, 0, len(CAMPAIGNS) - 2)
    u = m.stream("orders", "seasonal").uniform(g)
    black_friday = (month == 11) & (day >= 20) & (u < 0.6)
    summer = (month >= 6) & (month <= 8) & (u < 0.35)
    return np.select([black_friday, summer], [1, 0], evergreen)


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
    has_campaign = m.stream("orders", "has_campaign").bernoulli(g, 0.3)
    campaign = np.full(len(g), len(CAMPAIGNS))  # len(CAMPAIGNS): no campaign
    campaign[has_campaign] = order_campaign(m, g[has_campaign], date[has_campaign])
    code = np.where(amounts["promo"], m.promotion_at(g, date) % m.promotions, m.promotions)  # m.promotions: none
    combination = (source * (len(CAMPAIGNS) + 1) + campaign) * (m.promotions + 1) + code
    combinations = len(ORDER_SOURCES) * (len(CAMPAIGNS) + 1) * (m.promotions + 1)
    payload = _per_tenant_pool(m, "payloads", tenant, combination, combinations, lambda t: _payload_pool(m, t))
    name_pool, email_pool = (lambda t: customer_name(m, _tenant_rows(t, m.customers)),
                             lambda t: customer_email(m, _tenant_rows(t, m.customers)))  # fmt: skip
    local_customer = customer - tenant * m.customers
    updated = np.select(
        [life.status == STATUS_CANCELLED, life.delivered | (life.status == STATUS_FAILED), life.shipped, life.paid],
        [life.cancelled_at, life.delivered_at, life.shipped_at, life.paid_at],
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
            "order_item_id": _numbered(m, "order_items", lo, int(keep.sum())),
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
    ("method", STRING), ("status", STRING), ("attempts", INT), ("refunded_amount", MONEY), ("created_at", TIMESTAMP),
    ("paid_at", TIMESTAMP), ("refunded_at", TIMESTAMP), ("anomaly", STRING),
)  # fmt: skip
PAYMENT_METHODS = ("card", "paypal", "bank_transfer", "wallet", "gift_card")
_PAYMENT_ANOMALIES = tuple(ANOMALY_LABELS.index(x) for x in ("payment_delay", "cancellation", "delivery_failure"))


def _payment_present(m: CommerceModel, lo: int, hi: int) -> np.ndarray:
    return m.lifecycle(_ids(lo, hi)).has_payment


def payments(m: CommerceModel, lo: int, hi: int) -> pa.Table:
    """One payment per paid or cancelled order; its status tells what became of the money."""
    g = _ids(lo, hi)
    life = m.lifecycle(g)
    ret = m.returns_of(g, life)
    keep = life.has_payment
    g = g[keep]
    date = life.order_date[keep]
    cancelled, failed = life.cancelled[keep], life.failed[keep]
    paid_at, cancelled_at = life.paid_at[keep], life.cancelled_at[keep]
    total = order_amounts(m, g, date)["total"]
    voided = cancelled & (paid_at >= cancelled_at)  # authorised, then released before capture
    full_refund = (cancelled & ~voided) | failed
    refund_from = np.where(cancelled, cancelled_at, life.delivered_at[keep])
    refund_wait = np.where(cancelled, m.stream("payments", "void_wait").integers(g, 120, 3600),
                           m.stream("payments", "refund_wait").integers(g, 3600, 3 * DAY))  # fmt: skip
    full_at = np.minimum(refund_from + refund_wait, m.end - 1)
    returned = ret["present"][keep] & ret["refunded"][keep]
    _, product, ordered = _first_item(m, g, date)
    return_cents = _return_quantity(m, g, ordered) * m.price_at(product, date)
    refunded = np.where(full_refund, total, np.where(returned, np.minimum(return_cents, total), 0))
    refunded_at = np.where(full_refund, full_at, ret["refunded_at"][keep])
    status = np.select(
        [voided, full_refund | (refunded >= total), refunded > 0],
        [PAYMENT_STATUSES.index("voided"), PAYMENT_STATUSES.index("refunded"),
         PAYMENT_STATUSES.index("partially_refunded")],
        PAYMENT_STATUSES.index("captured"),
    )  # fmt: skip
    anomaly = np.where(np.isin(life.anomaly[keep], _PAYMENT_ANOMALIES), life.anomaly[keep], NO_ANOMALY)
    return col.table(
        {
            "payment_id": _numbered(m, "payments", lo, len(g)),
            "order_id": g + 1,
            "tenant_id": g // m.orders + 1,
            "amount": col.money(total),
            "currency": _pick(CURRENCIES, m.tenant_currency(g // m.orders)),
            "method": _pick(PAYMENT_METHODS, categorical(m.stream("payments", "method"), g, (55, 20, 10, 12, 3))),
            "status": _pick(PAYMENT_STATUSES, status),
            "attempts": life.attempts[keep],
            "refunded_amount": col.money(refunded, nulls=refunded == 0),
            "created_at": col.timestamps(date + m.stream("payments", "created").integers(g, 15, 59)),
            "paid_at": col.timestamps(paid_at, nulls=voided),
            "refunded_at": col.timestamps(np.where(voided, cancelled_at, refunded_at), nulls=refunded == 0 & ~voided),
            "anomaly": _labels(anomaly),
        },
        PAYMENTS,
    )


SHIPMENTS = col.schema(
    ("shipment_id", INT), ("order_id", INT), ("tenant_id", INT), ("warehouse_id", INT), ("carrier", STRING),
    ("tracking_number", STRING), ("status", STRING), ("shipped_at", TIMESTAMP), ("delivered_at", TIMESTAMP),
    ("failed_at", TIMESTAMP), ("failure_reason", STRING), ("anomaly", STRING),
)  # fmt: skip
FAILURE_REASONS = ("address not found", "recipient unavailable", "parcel damaged", "refused by recipient")
_SHIPMENT_ANOMALIES = tuple(ANOMALY_LABELS.index(x) for x in ("delivery_delay", "delivery_failure", "stockout"))


def _shipment_present(m: CommerceModel, lo: int, hi: int) -> np.ndarray:
    return m.lifecycle(_ids(lo, hi)).shipped


def shipments(m: CommerceModel, lo: int, hi: int) -> pa.Table:
    g = _ids(lo, hi)
    life = m.lifecycle(g)
    keep = life.shipped
    g, status = g[keep], life.status[keep]
    delivered, failed = status == STATUS_DELIVERED, status == STATUS_FAILED
    anomaly = life.anomaly[keep]
    anomaly = np.where(np.isin(anomaly, _SHIPMENT_ANOMALIES), anomaly, NO_ANOMALY)
    # The first item's product says which warehouse ships the order.
    first_item = m.item_product(g * ITEM_SLOTS, life.order_date[keep])
    reason = m.stream("shipments", "reason").integers(g, 0, len(FAILURE_REASONS))
    tenant = g // m.orders
    return col.table(
        {
            "shipment_id": _numbered(m, "shipments", lo, len(g)),
            "order_id": g + 1,
            "tenant_id": tenant + 1,
            "warehouse_id": m.product_warehouse(first_item) + 1,
            "carrier": m.tenant_carrier(tenant, m.stream("shipments", "carrier").uniform(g)),
            "tracking_number": col.join(
                "TRK", col.digits(unique_codes(m.stream("shipments", "tracking"), g, 10**10 // 4), 10)
            ),
            "status": pc.if_else(
                pa.array(delivered), "delivered", pc.if_else(pa.array(failed), "failed", "in_transit")
            ),
            "shipped_at": col.timestamps(life.shipped_at[keep]),
            "delivered_at": col.timestamps(life.delivered_at[keep], nulls=~delivered),
            "failed_at": col.timestamps(life.delivered_at[keep], nulls=~failed),
            "failure_reason": pc.if_else(pa.array(failed), _pick(FAILURE_REASONS, reason), pa.scalar(None, STRING)),
            "anomaly": _labels(anomaly),
        },
        SHIPMENTS,
    )


RETURNS = col.schema(
    ("return_id", INT), ("order_id", INT), ("order_item_id", INT), ("tenant_id", INT), ("product_id", INT),
    ("quantity", INT), ("reason", STRING), ("status", STRING), ("refund_amount", MONEY), ("requested_at", TIMESTAMP),
    ("refunded_at", TIMESTAMP), ("restocked_at", TIMESTAMP), ("anomaly", STRING),
)  # fmt: skip
_REASON_WIDTH = max(len(r) for r in RETURN_REASONS)
_REASON_POOL = pa.array([r[k % len(r)] for r in RETURN_REASONS for k in range(_REASON_WIDTH)] + [LATE_RETURN_REASON])
_LATE = ANOMALY_LABELS.index("delivery_delay")


def _first_item(m: CommerceModel, g: np.ndarray, date: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    slot = g * ITEM_SLOTS
    product = m.item_product(slot, date)
    return slot, product, m.item_quantity(slot)


def _return_quantity(m: CommerceModel, g: np.ndarray, ordered: np.ndarray) -> np.ndarray:
    return 1 + np.floor(m.stream("returns", "quantity").uniform(g) * ordered).astype(np.int64)


def _return_present(m: CommerceModel, lo: int, hi: int) -> np.ndarray:
    g = _ids(lo, hi)
    return m.returns_of(g, m.lifecycle(g))["present"]


def returns(m: CommerceModel, lo: int, hi: int) -> pa.Table:
    g = _ids(lo, hi)
    life = m.lifecycle(g)
    ret = m.returns_of(g, life)
    keep = ret["present"]
    g, date, anomaly = g[keep], life.order_date[keep], life.anomaly[keep]
    ret = {k: v[keep] for k, v in ret.items()}
    slot, product, ordered = _first_item(m, g, date)
    quantity = _return_quantity(m, g, ordered)
    unit = m.price_at(product, date)
    # The reason fits what was bought; "arrived too late" only where the delivery really was late.
    top = (m.product_subcategory(product) - TOP_CATEGORIES) // 2
    reason = top * _REASON_WIDTH + m.stream("returns", "reason").integers(g, 0, _REASON_WIDTH)
    late = (anomaly == _LATE) & m.stream("returns", "late_reason").bernoulli(g, 0.7)
    reason = np.where(late, len(_REASON_POOL) - 1, reason)
    accepted = ret["accepted"]
    return col.table(
        {
            "return_id": _numbered(m, "returns", lo, len(g)),
            "order_id": g + 1,
            "order_item_id": _dense(m, "order_items").keys(slot),
            "tenant_id": g // m.orders + 1,
            "product_id": product + 1,
            "quantity": quantity,
            "reason": col.take(_REASON_POOL, reason),
            "status": _pick(RETURN_STATUSES, ret["status"]),
            "refund_amount": col.money(quantity * unit, nulls=~accepted),
            "requested_at": col.timestamps(ret["requested"]),
            "refunded_at": col.timestamps(ret["refunded_at"], nulls=~ret["refunded"]),
            "restocked_at": col.timestamps(ret["restocked_at"], nulls=~ret["restocked"]),
            "anomaly": _labels(np.where(late, anomaly, NO_ANOMALY)),
        },
        RETURNS,
    )


REVIEWS = col.schema(
    ("review_id", INT), ("tenant_id", INT), ("product_id", INT), ("customer_id", INT), ("order_id", INT),
    ("rating", INT), ("title", STRING), ("body", STRING), ("created_at", TIMESTAMP),
)  # fmt: skip
_TITLE_WIDTH = max(len(t) for t in REVIEW_TITLES)
_TITLES = pa.array([t for group in REVIEW_TITLES for t in group])
_OPENINGS = pa.array([t for group in REVIEW_OPENINGS for t in group])
_DETAILS = pa.array([t for group in REVIEW_DETAILS for t in group])


def _review_rows(m: CommerceModel, g: np.ndarray, life) -> tuple[np.ndarray, np.ndarray]:
    created = life.delivered_at + m.stream("reviews", "after").integers(g, 3600, 20 * DAY)
    return life.delivered & m.stream("reviews", "reviewed").bernoulli(g, 0.25) & (created < m.end), created


def _review_present(m: CommerceModel, lo: int, hi: int) -> np.ndarray:
    g = _ids(lo, hi)
    return _review_rows(m, g, m.lifecycle(g))[0]


def reviews(m: CommerceModel, lo: int, hi: int) -> pa.Table:
    g = _ids(lo, hi)
    life = m.lifecycle(g)
    keep, created = _review_rows(m, g, life)
    g, created, date, anomaly = g[keep], created[keep], life.order_date[keep], life.anomaly[keep]
    _, product, _ = _first_item(m, g, date)
    # A late delivery drags the rating down.
    weights_late = categorical(m.stream("reviews", "rating_late"), g, (20, 25, 25, 20, 10))
    rating = 1 + np.where(
        anomaly == _LATE, weights_late, categorical(m.stream("reviews", "rating"), g, (5, 7, 13, 35, 40))
    )
    noun = pc.utf8_lower(product_noun(m, product))
    per = len(REVIEW_OPENINGS[0])
    title = _fill_product(
        col.take(_TITLES, (rating - 1) * _TITLE_WIDTH + m.stream("reviews", "title").integers(g, 0, _TITLE_WIDTH)),
        product_name(m, product),
    )
    opening = _fill_product(
        col.take(_OPENINGS, (rating - 1) * per + m.stream("reviews", "opening").integers(g, 0, per)), noun
    )
    detail = col.take(_DETAILS, (rating - 1) * per + m.stream("reviews", "detail").integers(g, 0, per))
    late_note = pc.if_else(pa.array(anomaly == _LATE), REVIEW_LATE_NOTE, "")
    return col.table(
        {
            "review_id": _numbered(m, "reviews", lo, len(g)),
            "tenant_id": g // m.orders + 1,
            "product_id": product + 1,
            "customer_id": m.order_customer(g, date) + 1,
            "order_id": g + 1,
            "rating": rating,
            "title": title,
            "body": col.join(opening, " ", detail, late_note),
            "created_at": col.timestamps(created),
        },
        REVIEWS,
    )


def _fill_product(template: pa.Array, noun: pa.Array) -> pa.Array:
    """Replace the {p} placeholder row by row, column-wise; templates without one stay as they are."""
    parts = pc.split_pattern(col.join(template, "{p}"), "{p}", max_splits=2)
    has = pc.equal(pc.list_value_length(parts), 3)
    return col.join(pc.list_element(parts, 0), pc.if_else(has, noun, ""), pc.list_element(parts, 1))


SUPPORT_TICKETS = col.schema(
    ("support_ticket_id", INT), ("tenant_id", INT), ("customer_id", INT), ("order_id", INT), ("subject", STRING),
    ("category", STRING), ("priority", STRING), ("status", STRING), ("created_at", TIMESTAMP),
    ("resolved_at", TIMESTAMP), ("anomaly", STRING),
)  # fmt: skip
# Subjects: first the five labels' (in ANOMALY_LABELS order), then the problem-free ones.
_SUBJECT_WIDTH = 3
_TICKET_GROUPS = tuple(TICKETS_BY_LABEL[label] for label in ANOMALY_LABELS) + TICKETS_WITHOUT_PROBLEM
_TICKET_SUBJECTS = pa.array([s for _, subjects in _TICKET_GROUPS for s in subjects])
_TICKET_GROUP_CATEGORY = np.array([c for c, _ in _TICKET_GROUPS])


def _ticket_rows(m: CommerceModel, g: np.ndarray, life) -> tuple[np.ndarray, np.ndarray]:
    # Orders that went wrong raise tickets far more often; a ticket follows the problem it is about.
    chance = np.where(life.anomaly != NO_ANOMALY, 0.35, 0.03)
    after = m.stream("support_tickets", "after").integers(g, 3600, 10 * DAY)
    problem_at = np.select(
        [life.label("delivery_delay"), life.label("delivery_failure"), life.label("cancellation")],
        [life.shipped_at + 6 * DAY, life.delivered_at, life.cancelled_at],
        life.order_date,
    )
    created = problem_at + after
    return m.stream("support_tickets", "raised").bernoulli(g, chance) & (created < m.end), created


def _ticket_present(m: CommerceModel, lo: int, hi: int) -> np.ndarray:
    g = _ids(lo, hi)
    return _ticket_rows(m, g, m.lifecycle(g))[0]


def support_tickets(m: CommerceModel, lo: int, hi: int) -> pa.Table:
    g = _ids(lo, hi)
    life = m.lifecycle(g)
    keep, created = _ticket_rows(m, g, life)
    g, created, anomaly, date = g[keep], created[keep], life.anomaly[keep], life.order_date[keep]
    plain = len(ANOMALY_LABELS) + m.stream("support_tickets", "topic").integers(g, 0, len(TICKETS_WITHOUT_PROBLEM))
    group = np.where(anomaly == NO_ANOMALY, plain, anomaly)
    subject = group * _SUBJECT_WIDTH + m.stream("support_tickets", "subject").integers(g, 0, _SUBJECT_WIDTH)
    resolve = created + m.stream("support_tickets", "resolve").integers(g, 1800, 7 * DAY)
    resolved = resolve < m.end
    status = np.where(
        resolved,
        m.stream("support_tickets", "closed").integers(g, 2, 4),
        m.stream("support_tickets", "open").integers(g, 0, 2),
    )
    return col.table(
        {
            "support_ticket_id": _numbered(m, "support_tickets", lo, len(g)),
            "tenant_id": g // m.orders + 1,
            "customer_id": m.order_customer(g, date) + 1,
            "order_id": g + 1,
            "subject": col.take(_TICKET_SUBJECTS, subject),
            "category": _pick(TICKET_CATEGORIES, _TICKET_GROUP_CATEGORY[group]),
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


def _wishlist_present(m: CommerceModel, lo: int, hi: int) -> np.ndarray:
    s = _ids(lo, hi)
    return s % WISHLIST_SLOTS < m.stream("wishlists", "size").integers(s // WISHLIST_SLOTS, 0, WISHLIST_SLOTS + 1)


def wishlists(m: CommerceModel, lo: int, hi: int) -> pa.Table:
    s = _ids(lo, hi)
    keep = _wishlist_present(m, lo, hi)
    s = s[keep]
    customer = s // WISHLIST_SLOTS
    tenant = customer // m.customers
    added = _after_signup(m, customer, "wishlists", s)
    existing = m.product_cohort.existing(added)
    product = tenant * m.products + np.floor(existing * m.stream("wishlists", "product").uniform(s)).astype(np.int64)
    return col.table(
        {
            "wishlist_id": _numbered(m, "wishlists", lo, len(s)),
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
_NOTIFICATION_TITLES = pa.array([t for group in NOTIFICATION_TITLES for t in group])


def _notification_present(m: CommerceModel, lo: int, hi: int) -> np.ndarray:
    s = _ids(lo, hi)
    return s % NOTIFICATION_SLOTS < m.stream("notifications", "count").integers(
        s // NOTIFICATION_SLOTS, 1, NOTIFICATION_SLOTS + 1
    )


def notifications(m: CommerceModel, lo: int, hi: int) -> pa.Table:
    """Marketing and account messages; none speaks of a problem (order problems live on the order)."""
    s = _ids(lo, hi)
    s = s[_notification_present(m, lo, hi)]
    customer = s // NOTIFICATION_SLOTS
    sent = _after_signup(m, customer, "notifications", s)
    kind = categorical(m.stream("notifications", "type"), s, (35, 25, 15, 10, 15))
    width = len(NOTIFICATION_TITLES[0])
    read_at = sent + m.stream("notifications", "read_after").integers(s, 60, 3 * DAY)
    unread = m.stream("notifications", "unread").bernoulli(s, 0.4) | (read_at >= m.end)
    return col.table(
        {
            "notification_id": _numbered(m, "notifications", lo, len(s)),
            "tenant_id": customer // m.customers + 1,
            "customer_id": customer + 1,
            "channel": _pick(
                ("email", "sms", "push"), categorical(m.stream("notifications", "channel"), s, (60, 10, 30))
            ),
            "type": _pick(NOTIFICATION_TYPES, kind),
            "title": col.take(
                _NOTIFICATION_TITLES, kind * width + m.stream("notifications", "title").integers(s, 0, width)
            ),
            "sent_at": col.timestamps(sent),
            "read_at": col.timestamps(read_at, nulls=unread),
        },
        NOTIFICATIONS,
    )


# --- stock events and inventory: derived from the sales and returns already written ------------
STOCK_EVENTS = col.schema(
    ("stock_event_id", INT), ("tenant_id", INT), ("product_id", INT), ("warehouse_id", INT), ("delta", INT),
    ("resulting_level", INT), ("event_time", TIMESTAMP), ("source", STRING), ("order_id", INT), ("return_id", INT),
    ("meta", JSON), ("anomaly", STRING),
)  # fmt: skip
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


def _tenant_ledger(m: CommerceModel, tenant: int, products: pa.Table, items: pa.Table, orders: pa.Table,
                   returns: pa.Table) -> dict[str, np.ndarray]:  # fmt: skip
    """The tenant's stock events in ledger order: product, then time.

    Sales are the items of orders not cancelled (at the order date); restocked returns come back;
    a few cycle-count corrections; receipts of batch size B arrive just before cumulative demand
    would exceed stock. A stockout order's first item meets an empty shelf: the count finds the
    remaining units missing, the sale goes below zero and a backorder receipt follows before it ships.
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

    # Base events: opening receipt, sales, returns, adjustments.
    product = np.concatenate([local, s_product, r_product, a_product])
    time = np.concatenate([created, s_time, r_time, a_time])
    reason = np.concatenate([np.full(n_products, _OPENING), np.full(len(s_product), _SALE),
                             np.full(len(r_product), _RETURN), np.full(len(a_product), _COUNT)])  # fmt: skip
    delta = np.concatenate([batch, -s_qty, r_qty, a_delta])
    stockout = np.concatenate([np.zeros(n_products, bool), s_stockout, np.zeros(len(r_product) + len(a_product), bool)])
    order_id = np.concatenate([np.zeros(n_products, np.int64), s_order + order_base + 1,
                               np.zeros(len(r_product) + len(a_product), np.int64)])  # fmt: skip
    return_id = np.concatenate(
        [np.zeros(n_products + len(s_product), np.int64), r_id, np.zeros(len(a_product), np.int64)]
    )
    tiebreak = np.concatenate([np.zeros(n_products, np.int64), order_id[n_products : n_products + len(s_product)],
                               r_id, slots])  # fmt: skip
    order = np.lexsort((tiebreak, reason, time, product))
    product, time, reason, delta, stockout, order_id, return_id = (
        a[order] for a in (product, time, reason, delta, stockout, order_id, return_id)
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
    u = m.stream("stock_events", "lead").sub(str(tenant)).uniform(np.arange(n))
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
        "product": out_product + base,
        "reason": out_reason,
        "delta": out_delta,
        "level": level,
        "time": out_time,
        "order": out_order,
        "return": out_return,
        "anomaly": out_anomaly,
    }


def _ledgers(m: CommerceModel, dataset: Path) -> Iterator[tuple[int, dict[str, np.ndarray]]]:
    """Each tenant's ledger, reading the products, orders and items of one tenant at a time."""
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
        yield tenant - 1, _tenant_ledger(m, tenant - 1, product_rows, item_rows, order_rows,
                                         returns.get(tenant, empty_returns))  # fmt: skip


def derive_stock_events(m: CommerceModel, dataset: Path, chunk_size: int) -> Iterator[pa.Table]:
    next_id = 1
    for t, ledger in _ledgers(m, dataset):
        n = len(ledger["product"])
        for lo, hi in _chunks(n, chunk_size):
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
                    "source": _pick(STOCK_SOURCES, source),
                    "order_id": col.ints(c["order"], nulls=c["order"] == 0),
                    "return_id": col.ints(c["return"], nulls=c["return"] == 0),
                    "meta": col.json_objects({"reason": col.take(_STOCK_REASONS, c["reason"]), "operator": operator}),
                    "anomaly": _labels(c["anomaly"]),
                },
                STOCK_EVENTS,
            )
        next_id += n


INVENTORY = col.schema(
    ("inventory_id", INT), ("tenant_id", INT), ("product_id", INT), ("warehouse_id", INT), ("quantity_on_hand", INT),
    ("reorder_point", INT), ("updated_at", TIMESTAMP),
)  # fmt: skip


def derive_inventory(m: CommerceModel, dataset: Path, chunk_size: int) -> Iterator[pa.Table]:
    """Stock on hand per product: the ledger's last level (read back from stock_events)."""
    n = m.tenants * m.products
    level = np.zeros(n, dtype=np.int64)
    updated = np.zeros(n, dtype=np.int64)
    for batch in read_batches(dataset / "stock_events", ["product_id", "resulting_level", "event_time"]):
        product = batch["product_id"].to_numpy() - 1
        # Rows are in ledger order per product: the last write per product wins.
        level[product] = batch["resulting_level"].to_numpy()
        updated[product] = col.epoch_seconds(batch["event_time"])
    for lo, hi in _chunks(n, chunk_size):
        g = _ids(lo, hi)
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


def _item_present(m: CommerceModel, lo: int, hi: int) -> np.ndarray:
    s = _ids(lo, hi)
    return s % ITEM_SLOTS < m.item_count(s // ITEM_SLOTS)


# Slotted tables: (slot count, which slots of [lo, hi) hold a row), for their dense keys.
_SLOTTED: dict[str, tuple[Callable[[CommerceModel], int], Callable[[CommerceModel, int, int], np.ndarray]]] = {
    "price_history": (lambda m: m.tenants * m.products * PRICE_SLOTS, _price_present),
    "order_items": (lambda m: m.tenants * m.orders * ITEM_SLOTS, _item_present),
    "payments": (lambda m: m.tenants * m.orders, _payment_present),
    "shipments": (lambda m: m.tenants * m.orders, _shipment_present),
    "returns": (lambda m: m.tenants * m.orders, _return_present),
    "reviews": (lambda m: m.tenants * m.orders, _review_present),
    "support_tickets": (lambda m: m.tenants * m.orders, _ticket_present),
    "wishlists": (lambda m: m.tenants * m.customers * WISHLIST_SLOTS, _wishlist_present),
    "notifications": (lambda m: m.tenants * m.customers * NOTIFICATION_SLOTS, _notification_present),
}

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
    "stock_events": (
        ("product_id", "products"),
        ("warehouse_id", "warehouses"),
        ("order_id", "orders"),
        ("return_id", "returns"),
    ),
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
        per_tenant=name != "tenants", foreign_keys=tenant_fk + FOREIGN_KEYS.get(name, ()),
        created=CREATED[name], column_descriptions=COLUMN_DESCRIPTIONS[name], **kw,
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
        "One payment per paid or cancelled order; status says captured, refunded or voided.",
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
        lambda m: m.tenants * m.products,
        None,
        ("products", "warehouses", "orders", "order_items", "returns"),
        "Stock ledger derived from sales, restocked returns, counts and receipts; resulting_level is the running"
        " sum, negative only on a labelled stockout sale.",
        derive=derive_stock_events,
    ),
    _spec(
        "inventory",
        "inventory_id",
        INVENTORY,
        lambda m: m.tenants * m.products,
        None,
        ("products", "warehouses", "stock_events"),
        "Stock on hand per product and warehouse, as the ledger ends.",
        derive=derive_inventory,
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
