"""Catalogue tables: tenants, categories, vendors, warehouses, products and their price history."""

from __future__ import annotations

import hashlib

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mock_pipeline.domains.commerce.common import TABLES, TENANT, from_tenant_pools, numbered, presence
from mock_pipeline.domains.commerce.model import (
    CATEGORIES_PER_TENANT,
    CATEGORY_TREE,
    CURRENCIES,
    PRICE_SLOTS,
    SETUP_END,
    TENANT_LOCALES,
    TOP_CATEGORIES,
    CommerceModel,
)
from mock_pipeline.domains.commerce.vocab import (
    ADJECTIVES,
    DESCRIPTION_CLOSERS,
    DESCRIPTION_FOLLOWS,
    DESCRIPTION_OPENERS,
    SUBCATEGORY_FEATURES,
    SUBCATEGORY_NOUNS,
    SUBCATEGORY_VARIANTS,
)
from mock_pipeline.engine import columns as col
from mock_pipeline.engine.columns import INT, MONEY, STRING, TIMESTAMP, ids, pick
from mock_pipeline.engine.declare import Column, Columns
from mock_pipeline.engine.distributions import categorical, unique_codes
from mock_pipeline.engine.pools import slug


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


@TABLES.table(
    key="tenant_id",
    slots=lambda m: m.tenants,
    description="Shops sharing the platform; the API key is stored only as its sha256.",
    columns=(
        Column("tenant_id", INT, "Key of the shop."),
        Column("name", STRING, "The shop's trading name (unique in the dataset)."),
        Column("api_key_hash", STRING, "sha256 hex of the shop's API key; the key itself is never written."),
        Column("plan", STRING, "Subscription plan: starter, growth or enterprise."),
        Column(
            "locale",
            STRING,
            "The shop's locale: its customers', vendors' and warehouses' names, phones and addresses follow it.",
        ),
        Column("currency", STRING, "ISO currency of every price and payment of the shop (agrees with its locale)."),
        Column("created_at", TIMESTAMP, "When the shop opened its account (the window's first minute)."),
    ),
    per_tenant=False,
)
def tenants(m: CommerceModel, lo: int, hi: int) -> Columns:
    t = ids(lo, hi)
    key_bits = np.stack([m.stream("tenants", f"api_key_{i}").bits(t) for i in range(4)], axis=1)
    # The API key itself is never stored anywhere: only its sha256. Tenants are few.
    hashes = [hashlib.sha256(row.tobytes()).hexdigest() for row in key_bits]
    created = m.start + m.stream("tenants", "created").integers(t, 0, 60)
    locale = m.tenant_currency(t)
    return {
        "tenant_id": t + 1,
        "name": _tenant_names(m, t),
        "api_key_hash": pa.array(hashes, STRING),
        "plan": pick(("starter", "growth", "enterprise"), categorical(m.stream("tenants", "plan"), t, (5, 3, 2))),
        "locale": pick(tuple(x for x, _, _ in TENANT_LOCALES), locale),
        "currency": pick(CURRENCIES, locale),
        "created_at": col.timestamps(created),
    }


_CATEGORY_NAMES = tuple(c[0] for c in CATEGORY_TREE) + tuple(f"{c[0]} / {s}" for c in CATEGORY_TREE for s in c[3])
_CATEGORY_PREFIX = tuple(c[1] for c in CATEGORY_TREE)


def category_top(local: np.ndarray) -> np.ndarray:
    return np.where(local < TOP_CATEGORIES, local, (local - TOP_CATEGORIES) // 2)


@TABLES.table(
    key="category_id",
    slots=lambda m: m.tenants * CATEGORIES_PER_TENANT,
    description="Two-level category tree per tenant; SKU prefixes.",
    columns=(
        Column("category_id", INT, "Key of the category."),
        TENANT,
        Column("name", STRING, "Category name; sub-categories read 'Top / Sub'."),
        Column(
            "parent_category_id",
            INT,
            "The top category of a sub-category; null for top categories.",
            references="categories",
        ),
        Column("sku_prefix", STRING, "Three letters that start the SKU of every product in this top category."),
        Column("created_at", TIMESTAMP, "When the category was set up (after its shop and its parent)."),
    ),
)
def categories(m: CommerceModel, lo: int, hi: int) -> Columns:
    g = ids(lo, hi)
    tenant, local = g // CATEGORIES_PER_TENANT, g % CATEGORIES_PER_TENANT
    top = category_top(local)
    parent = tenant * CATEGORIES_PER_TENANT + top + 1
    # Top categories in the tenant's 2nd minute, sub-categories in the 3rd (after their parent).
    created = m.start + np.where(local < TOP_CATEGORIES, 60, 120) + m.stream("categories", "created").integers(g, 0, 60)
    return {
        "category_id": g + 1,
        "tenant_id": tenant + 1,
        "name": pick(_CATEGORY_NAMES, local),
        "parent_category_id": col.ints(parent, nulls=local < TOP_CATEGORIES),
        "sku_prefix": pick(_CATEGORY_PREFIX, top),
        "created_at": col.timestamps(created),
    }


# Trade suffixes per locale (TENANT_LOCALES order), disjoint so that no two locales make one name.
COMPANY_SUFFIXES: tuple[tuple[str, ...], ...] = (
    ("Supply Co.", "Trading", "Goods", "Wholesale", "Imports", "Distribution", "Outfitters", "Merchants"),
    ("GmbH", "Handel GmbH", "& Co. KG", "Vertrieb", "Großhandel", "Import GmbH"),
    ("Ltd", "& Co. Ltd", "Trading Ltd", "Supplies Ltd", "Wholesale Ltd", "Brothers Ltd"),
    ("Supply Inc.", "Trading Inc.", "Distributors", "Wholesale Inc.", "Goods Inc.", "Sourcing"),
    ("Pty Ltd", "Trading Pty Ltd", "Supplies Pty Ltd", "Wholesale Pty Ltd", "Imports Pty Ltd", "& Sons Pty Ltd"),
)
_CONTACT_ROLES = ("sales", "orders", "accounts", "support", "partners")


@TABLES.table(
    key="vendor_id",
    slots=lambda m: m.tenants * m.vendors,
    description="Suppliers of the tenant's products.",
    columns=(
        Column("vendor_id", INT, "Key of the supplier."),
        TENANT,
        Column("name", STRING, "Supplier company name (unique in the dataset)."),
        Column("contact_email", STRING, "Supplier contact address on a reserved .example domain."),
        Column("phone", STRING, "Supplier phone number in the shop's locale format."),
        Column("city", STRING, "Supplier city, in the shop's country."),
        Column("created_at", TIMESTAMP, "When the supplier was onboarded (before any of its products)."),
    ),
)
def vendors(m: CommerceModel, lo: int, hi: int) -> Columns:
    g = ids(lo, hi)
    tenant = g // m.vendors
    # Tenants take the first codes of the permutation, vendors the ones after: all names distinct.
    name = _company(m, tenant, m.tenants + g)
    role = pick(_CONTACT_ROLES, m.stream("vendors", "role").integers(g, 0, len(_CONTACT_ROLES)))
    return {
        "vendor_id": g + 1,
        "tenant_id": tenant + 1,
        "name": name,
        "contact_email": col.join(role, "@", pc.utf8_slice_codeunits(slug(name), 0, 40), ".example"),
        "phone": from_tenant_pools(
            m, tenant, lambda t: m.tenant_pools(t).phones, m.stream("vendors", "phone").uniform(g)
        ),
        "city": from_tenant_pools(
            m, tenant, lambda t: m.tenant_pools(t).cities, m.stream("vendors", "city").uniform(g)
        ),
        "created_at": col.timestamps(m.start + m.stream("vendors", "created").integers(g, 180, SETUP_END)),
    }


_WAREHOUSE_KINDS = ("Fulfilment Centre", "Distribution Hub", "Logistics Park", "Depot", "Warehouse")


@TABLES.table(
    key="warehouse_id",
    slots=lambda m: m.tenants * m.warehouses,
    description="Fulfilment centres.",
    columns=(
        Column("warehouse_id", INT, "Key of the warehouse."),
        TENANT,
        Column("name", STRING, "Warehouse name: its city and kind of site."),
        Column("address", STRING, "Street address in the shop's country."),
        Column("city", STRING, "City of the warehouse (distinct per shop)."),
        Column("capacity_units", INT, "Storage capacity in units."),
        Column("created_at", TIMESTAMP, "When the warehouse was registered (before the products it stocks)."),
    ),
)
def warehouses(m: CommerceModel, lo: int, hi: int) -> Columns:
    g = ids(lo, hi)
    tenant = g // m.warehouses
    # Distinct cities within a tenant (a keyed permutation of the local index over the city pool).
    cities = []
    for t in np.unique(tenant):
        pool = m.tenant_pools(int(t)).cities
        local = g[tenant == t] % m.warehouses
        cities.append(col.take(pool, unique_codes(m.stream("warehouses", "city"), local % len(pool), len(pool))))
    city = cities[0] if len(cities) == 1 else pa.concat_arrays(cities)
    kind = pick(_WAREHOUSE_KINDS, m.stream("warehouses", "kind").integers(g, 0, len(_WAREHOUSE_KINDS)))
    return {
        "warehouse_id": g + 1,
        "tenant_id": tenant + 1,
        "name": col.join(city, " ", kind),
        "address": from_tenant_pools(
            m, tenant, lambda t: m.tenant_pools(t).streets, m.stream("warehouses", "street").uniform(g)
        ),
        "city": city,
        "capacity_units": 10_000 * m.stream("warehouses", "capacity").integers(g, 5, 101),
        "created_at": col.timestamps(m.start + m.stream("warehouses", "created").integers(g, 180, SETUP_END)),
    }


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


@TABLES.table(
    key="product_id",
    slots=lambda m: m.tenants * m.products,
    description="Catalogue with SKU, price and launch date.",
    columns=(
        Column("product_id", INT, "Key of the product."),
        TENANT,
        Column("sku", STRING, "Stock keeping unit: the top category's 3-letter prefix + 6 digits, unique per shop."),
        Column("name", STRING, "Product name from its sub-category's vocabulary (distinct within the shop)."),
        Column("description", STRING, "Catalogue text naming two selling points of its category."),
        Column("price", MONEY, "Current price in the shop's currency (equals the open price_history interval)."),
        Column("category_id", INT, "The product's sub-category.", references="categories"),
        Column("vendor_id", INT, "The supplier of the product.", references="vendors"),
        Column("warehouse_id", INT, "The warehouse that stocks and ships the product.", references="warehouses"),
        Column("active", pa.bool_(), "Whether the product is listed for sale."),
        Column(
            "created_at", TIMESTAMP, "When the product was listed (after its shop, category, vendor and warehouse)."
        ),
    ),
    text_columns=("name", "description"),
)
def products(m: CommerceModel, lo: int, hi: int) -> Columns:
    g = ids(lo, hi)
    tenant, local = g // m.products, g % m.products
    sub = m.product_subcategory(g)
    top = (sub - TOP_CATEGORIES) // 2
    # SKU: category prefix + 6 digits from a keyed permutation of the tenant-local index.
    number = unique_codes(m.stream("products", "sku"), local, 10**6)
    name = product_name(m, g)
    vendor = tenant * m.vendors + m.stream("products", "vendor").integers(g, 0, m.vendors)
    return {
        "product_id": g + 1,
        "tenant_id": tenant + 1,
        "sku": col.join(pick(_CATEGORY_PREFIX, top), col.digits(number, 6)),
        "name": name,
        "description": product_description(m, g, name),
        "price": col.money(m.product_price_cents(g)),
        "category_id": tenant * CATEGORIES_PER_TENANT + sub + 1,
        "vendor_id": vendor + 1,
        "warehouse_id": m.product_warehouse(g) + 1,
        "active": m.stream("products", "active").uniform(g) >= 0.05,
        "created_at": col.timestamps(m.product_created(g)),
    }


@presence("price_history")
def _price_present(m: CommerceModel, lo: int, hi: int) -> np.ndarray:
    s = ids(lo, hi)
    return s % PRICE_SLOTS < m.price_versions(s // PRICE_SLOTS)


@TABLES.table(
    key="price_history_id",
    slots=lambda m: m.tenants * m.products * PRICE_SLOTS,
    description="Contiguous price intervals per product; the open one is the current price.",
    columns=(
        Column("price_history_id", INT, "Key of the price interval (1..n in product order)."),
        TENANT,
        Column("product_id", INT, "The product priced.", references="products"),
        Column("price", MONEY, "Price during the interval."),
        Column("effective_from", TIMESTAMP, "Start of the interval (the first starts when the product is listed)."),
        Column("effective_to", TIMESTAMP, "End of the interval (the next one's start); null for the current price."),
    ),
    created="effective_from",
)
def price_history(m: CommerceModel, lo: int, hi: int) -> Columns:
    s = ids(lo, hi)
    g, slot = s // PRICE_SLOTS, s % PRICE_SLOTS
    versions = m.price_versions(g)
    keep = slot < versions
    s, g, slot, versions = s[keep], g[keep], slot[keep], versions[keep]
    first, second = m.price_changes(g)
    created = m.product_created(g)
    starts = np.select([slot == 0, slot == 1], [created, first], second)
    ends = np.where(slot == 0, first, second)
    return {
        "price_history_id": numbered(m, "price_history", lo, len(s)),
        "tenant_id": g // m.products + 1,
        "product_id": g + 1,
        "price": col.money(m.price_slot_cents(g, slot)),
        "effective_from": col.timestamps(starts),
        "effective_to": col.timestamps(ends, nulls=slot == versions - 1),
    }
