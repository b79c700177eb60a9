"""Customers and the promotions they may use."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

import mock_pipeline.domains.commerce.catalog  # noqa: F401  (declares the tables referenced below)
from mock_pipeline.domains.commerce.common import EMAIL_DOMAINS, TABLES, TENANT, from_tenant_pools
from mock_pipeline.domains.commerce.model import (
    CATEGORIES_PER_TENANT,
    EVERGREEN_THEMES,
    OPENING,
    PROMOTION_THEMES,
    SETUP_END,
    TOP_CATEGORIES,
    CommerceModel,
)
from mock_pipeline.engine import columns as col
from mock_pipeline.engine.columns import INT, JSON, STRING, TIMESTAMP, ids, pick
from mock_pipeline.engine.declare import Column, Columns
from mock_pipeline.engine.distributions import categorical, unique_codes
from mock_pipeline.engine.timeline import DAY

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


@TABLES.table(
    key="customer_id",
    slots=lambda m: m.tenants * m.customers,
    description="Shoppers with contact metadata; e-mails on reserved domains.",
    columns=(
        Column("customer_id", INT, "Key of the customer."),
        TENANT,
        Column("name", STRING, "Customer's name from the shop's locale."),
        Column("email", STRING, "Customer e-mail (unique per shop) on a reserved domain."),
        Column("metadata", JSON, "JSON: phone and address in the shop's locale, loyalty_tier, signup_source."),
        Column("created_at", TIMESTAMP, "Sign-up time."),
        Column("updated_at", TIMESTAMP, "Last profile change (never before sign-up)."),
    ),
)
def customers(m: CommerceModel, lo: int, hi: int) -> Columns:
    g = ids(lo, hi)
    tenant = g // m.customers
    created = m.customer_created(g)
    updated = created + np.floor((m.end - 1 - created) * m.stream("customers", "updated").uniform(g) ** 2).astype(
        np.int64
    )
    metadata = col.json_objects(
        {
            "phone": from_tenant_pools(
                m, tenant, lambda t: m.tenant_pools(t).phones, m.stream("customers", "phone").uniform(g)
            ),
            "address": col.join(
                from_tenant_pools(
                    m, tenant, lambda t: m.tenant_pools(t).streets, m.stream("customers", "street").uniform(g)
                ),
                ", ",
                from_tenant_pools(
                    m, tenant, lambda t: m.tenant_pools(t).cities, m.stream("customers", "city").uniform(g)
                ),
            ),
            "loyalty_tier": pick(LOYALTY_TIERS, categorical(m.stream("customers", "tier"), g, (55, 25, 15, 5))),
            "signup_source": pick(SIGNUP_SOURCES, categorical(m.stream("customers", "source"), g, (40, 30, 12, 12, 6))),
        }
    )
    return {
        "customer_id": g + 1,
        "tenant_id": tenant + 1,
        "name": customer_name(m, g),
        "email": customer_email(m, g),
        "metadata": metadata,
        "created_at": col.timestamps(created),
        "updated_at": col.timestamps(updated),
    }


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


@TABLES.table(
    key="promotion_id",
    slots=lambda m: m.tenants * m.promotions,
    description="Discount campaigns tiling the window.",
    columns=(
        Column("promotion_id", INT, "Key of the promotion."),
        TENANT,
        Column("code", STRING, "Discount code customers enter (unique per shop)."),
        Column("name", STRING, "What the promotion is and what it discounts."),
        Column("discount_percent", INT, "Discount in percent."),
        Column(
            "category_id",
            INT,
            "Top category the discount is limited to; null when it applies to everything.",
            references="categories",
        ),
        Column("starts_at", TIMESTAMP, "When the code becomes valid; seasonal promotions start in their season."),
        Column("ends_at", TIMESTAMP, "When the code stops being valid."),
        Column("created_at", TIMESTAMP, "When the promotion was set up (before it starts)."),
    ),
)
def promotions(m: CommerceModel, lo: int, hi: int) -> Columns:
    p = ids(lo, hi)
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
    return {
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
    }
