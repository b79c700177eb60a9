"""The commerce world of a scenario: sizes, time layout and the attributes that several tables
share (a product's price at a time, an order's items and lifecycle). Pure functions of indices.

Index conventions: a per-tenant table with n rows per tenant has global rows g = tenant * n +
local; its id is g + 1 and its tenant_id is tenant + 1. Children with a variable number of rows
per parent use fixed slots per parent (order g has item slots 4g..4g+3) and drop empty slots.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pyarrow as pa

from mock_pipeline.domains.commerce.locale_pools import NameParts, locale_name_parts, one_line_pools
from mock_pipeline.engine.cohort import Cohort
from mock_pipeline.engine.distributions import categorical, exponential, lognormal, unique_codes
from mock_pipeline.engine.pools import Pools
from mock_pipeline.engine.random import Stream
from mock_pipeline.engine.timeline import DAY, Rhythm, Schedule, allocate, daily_weights
from mock_pipeline.scenarios.model import ANOMALY_LABELS, Scenario, ScenarioError

# Top-level categories with their SKU prefix and typical price (USD); two sub-categories each.
CATEGORY_TREE: tuple[tuple[str, str, float, tuple[str, str]], ...] = (
    ("Electronics", "ELE", 220.0, ("Audio", "Computers")),
    ("Clothing", "CLO", 45.0, ("Menswear", "Womenswear")),
    ("Home & Kitchen", "HOM", 60.0, ("Cookware", "Furniture")),
    ("Books", "BOO", 18.0, ("Fiction", "Non-fiction")),
    ("Sports & Outdoors", "SPO", 70.0, ("Fitness", "Camping")),
    ("Toys & Games", "TOY", 30.0, ("Board Games", "Building Sets")),
    ("Beauty", "BEA", 25.0, ("Skincare", "Fragrance")),
    ("Grocery", "GRO", 9.0, ("Snacks", "Beverages")),
    ("Automotive", "AUT", 55.0, ("Car Care", "Accessories")),
    ("Garden", "GAR", 40.0, ("Tools", "Plants")),
    ("Health", "HEA", 28.0, ("Vitamins", "First Aid")),
    ("Office", "OFF", 22.0, ("Stationery", "Printers")),
)
TOP_CATEGORIES = len(CATEGORY_TREE)
CATEGORIES_PER_TENANT = TOP_CATEGORIES * 3
ITEM_SLOTS = 4
ITEM_COUNT_WEIGHTS = (0.45, 0.30, 0.15, 0.10)  # 1..4 lines per order
PRICE_SLOTS = 3
PRICE_ENDINGS = (99, 95, 49, 0, 50)
PRICE_ENDING_WEIGHTS = (45, 15, 10, 20, 10)
PRICE_VERSION_WEIGHTS = (0.5, 0.3, 0.2)  # 1..3 price intervals per product
STOCK_SLOTS = 6
# One locale per tenant: its currency, the Faker locale of its people and places, its carriers.
TENANT_LOCALES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("en_US", "USD", ("USPS", "UPS", "FedEx")),
    ("de_DE", "EUR", ("DHL", "Hermes", "DPD")),
    ("en_GB", "GBP", ("Royal Mail", "DPD", "Evri")),
    ("en_CA", "CAD", ("Canada Post", "Purolator", "UPS")),
    ("en_AU", "AUD", ("Australia Post", "StarTrack", "Aramex")),
)
CURRENCIES = tuple(c for _, c, _ in TENANT_LOCALES)
# Every timestamp lies inside the window: the shop opens at its start. Parents come first: the
# tenant in its first minute, categories, vendors and warehouses in the next ten, then the launch
# catalogue and imported customer base until the end of the first hour; orders start after that.
SETUP_END = 900
OPENING = 3600
NO_ANOMALY = -1
BIRTH_YEARS = 45  # e-mail digits like a birth year: 60..99, 00..04
RETURN_STATUSES = ("requested", "approved", "refunded", "rejected")
RETURN_ACCEPTED = (1, 2)
# Share of failed deliveries sent again rather than refunded.
RESHIP_SHARE = 0.4
PAYMENT_STATUSES = ("captured", "partially_refunded", "refunded", "voided")

# Order lifecycle states, derived from event times against the end of the window.
STATUS_CANCELLED, STATUS_PENDING, STATUS_PROCESSING, STATUS_SHIPPED, STATUS_DELIVERED, STATUS_FAILED = range(6)
ORDER_STATUSES = ("cancelled", "pending", "processing", "shipped", "delivered", "delivery_failed")


@dataclass(frozen=True)
class Lifecycle:
    """An order's status and event times (epoch seconds; meaningless where the event is absent)."""

    status: np.ndarray
    anomaly: np.ndarray  # index into ANOMALY_LABELS, or NO_ANOMALY
    order_date: np.ndarray
    paid_at: np.ndarray
    shipped_at: np.ndarray
    delivered_at: np.ndarray  # when the goods reached the customer (by the reship after a failed delivery)
    cancelled_at: np.ndarray
    attempts: np.ndarray  # payment attempts; all but the last failed
    failed_at: np.ndarray  # when the carrier gave up the first parcel (delivery_failure)
    reshipped: np.ndarray  # a failed delivery sent again (a second shipment) instead of refunded
    reshipped_at: np.ndarray

    def label(self, name: str) -> np.ndarray:
        return self.anomaly == ANOMALY_LABELS.index(name)

    @property
    def cancelled(self) -> np.ndarray:
        return self.status == STATUS_CANCELLED

    @property
    def failed(self) -> np.ndarray:
        """Failed deliveries that stay failed (refunded); a reshipped one is shipped or delivered."""
        return self.status == STATUS_FAILED

    @property
    def delivery_failed(self) -> np.ndarray:
        """Orders whose first parcel failed, whether refunded or reshipped."""
        return self.failed | self.reshipped

    @property
    def paid(self) -> np.ndarray:
        return self.status >= STATUS_PROCESSING

    @property
    def has_payment(self) -> np.ndarray:
        """Paid orders, and cancelled ones whose payment was authorised (voided) or captured (refunded)."""
        return self.paid | self.cancelled

    @property
    def shipped(self) -> np.ndarray:
        return self.status >= STATUS_SHIPPED

    @property
    def delivered(self) -> np.ndarray:
        return self.status == STATUS_DELIVERED


# Seasonal promotions: (code word, display name, (first month, last month)) of their season.
PROMOTION_THEMES: tuple[tuple[str, str, tuple[int, int]], ...] = (
    ("SUMMER", "Summer Sale", (6, 8)),
    ("SCHOOL", "Back to School", (7, 9)),
    ("SPRING", "Spring Sale", (3, 5)),
    ("HOLIDAY", "Holiday Sale", (11, 12)),
)
EVERGREEN_THEMES: tuple[tuple[str, str], ...] = (
    ("SAVE", "Weekly Savings"), ("DEAL", "Deal of the Month"), ("WELCOME", "Welcome Offer"),
    ("FLASH", "Flash Sale"), ("VIP", "Members' Offer"),
)  # fmt: skip


def month_day(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Calendar month (1..12) and day of month (1..31) of epoch seconds, UTC (for a few values;
    CommerceModel.month_day looks whole columns up in a per-day table)."""
    days = (np.asarray(t, dtype=np.int64) // DAY).astype("datetime64[D]")
    months = days.astype("datetime64[M]")
    return months.astype(np.int64) % 12 + 1, (days - months.astype("datetime64[D]")).astype(np.int64) + 1


PRICE_FIELDS = ("versions", "first", "second", *(f"slot{k}" for k in range(PRICE_SLOTS)))


class CommerceModel:
    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        knobs = scenario.knobs["commerce"]
        self.tenants = int(knobs["tenants"])
        self.products = int(knobs["products_per_tenant"])
        self.customers = int(knobs["customers_per_tenant"])
        # A shop's companies are its suppliers: growth-phase's company_volume (2x companies) brings more vendors.
        self.vendors = max(1, round(int(knobs["vendors_per_tenant"]) * scenario.profile.company_volume))
        self.warehouses = int(knobs["warehouses_per_tenant"])
        self.promotions = int(knobs["promotions_per_tenant"])
        volume = scenario.volume_multiplier * scenario.profile.order_volume
        self.orders = max(1, round(int(knobs["orders_per_tenant"]) * volume))
        if self.tenants * self.orders >= 10**8:
            raise ScenarioError(
                "overrides.commerce.orders_per_tenant",
                f"{self.tenants * self.orders:,} orders in all; allowed: at most 99,999,999 (EXT + 8 digits stay unique)",
            )
        if self.products >= 10**6:
            raise ScenarioError(
                "overrides.commerce.products_per_tenant",
                f"{self.products:,}; allowed: at most 999,999 (SKUs carry 6 digits)",
            )
        self.window = scenario.window
        self.start = self.window.start_epoch
        self.end = self.window.end_epoch  # first second after the window
        self.opened = self.start + OPENING
        self._blocks: dict[tuple[str, int], Any] = {}
        self._blocks_lock = threading.Lock()
        self._cache: dict[str, Any] = {}

    def stream(self, table: str, column: str) -> Stream:
        return Stream(self.scenario.seed, "commerce", table, column)

    def name_parts(self, tenant: int) -> NameParts:
        """The tenant's locale's first and last names, kept only where their e-mail slugs are distinct."""
        index = int(self.tenant_currency(np.array([tenant]))[0])
        return locale_name_parts(TENANT_LOCALES[index][0], self.scenario.seed)

    @cached_property
    def schedule(self) -> Schedule:
        rhythm = Rhythm(trend=self.scenario.profile.order_trend)
        weights = daily_weights(self.stream("orders", "rhythm"), self.window, rhythm)
        return Schedule(self.window, allocate(self.orders, weights))

    # 15% of the products and customers at the opening, the rest over the window: no month holds 35%.
    @cached_property
    def product_cohort(self) -> Cohort:
        return Cohort(self.products, self.start + SETUP_END, self.opened, self.end, old_share=0.15)

    @cached_property
    def customer_cohort(self) -> Cohort:
        return Cohort(self.customers, self.start + SETUP_END, self.opened, self.end, old_share=0.15)

    def cached(self, key: str, build: Callable[[], Any]) -> Any:
        """A per-model object built once (dense key counters), safe across generation threads."""
        with self._blocks_lock:
            if key not in self._cache:
                self._cache[key] = build()
            return self._cache[key]

    # -- tenants -------------------------------------------------------------------------------
    def tenant_tax_bp(self, tenant: np.ndarray) -> np.ndarray:
        """Sales tax in basis points (5% to 10%)."""
        return self.stream("tenants", "tax").integers(tenant, 500, 1001)

    def tenant_currency(self, tenant: np.ndarray) -> np.ndarray:
        """Index into TENANT_LOCALES (and CURRENCIES): the scenario's locale if it is one of them."""
        chosen = self.scenario.locale
        fixed = [i for i, (locale, _, _) in enumerate(TENANT_LOCALES) if locale == chosen]
        if fixed:
            return np.full(np.shape(tenant), fixed[0], dtype=np.int64)
        return self.stream("tenants", "currency").integers(tenant, 0, len(CURRENCIES))

    def tenant_locale(self, tenant: int) -> int:
        """Index into TENANT_LOCALES of one tenant."""
        return int(self.tenant_currency(np.array([tenant]))[0])

    def tenant_pools(self, tenant: int) -> Pools:
        """Names, places and phones of the tenant's locale."""
        index = int(self.tenant_currency(np.array([tenant]))[0])
        return one_line_pools(TENANT_LOCALES[index][0], self.scenario.seed)

    def tenant_carrier(self, tenant: np.ndarray, u: np.ndarray) -> pa.Array:
        """A carrier of the tenant's country for each row (u uniform in [0, 1))."""
        width = max(len(c) for _, _, c in TENANT_LOCALES)
        pool = pa.array([c[k % len(c)] for _, _, c in TENANT_LOCALES for k in range(width)])
        index = self.tenant_currency(tenant) * width + np.floor(u * 3).astype(np.int64) % width
        return pool.take(pa.array(index))

    # -- products ------------------------------------------------------------------------------
    def product_created(self, g: np.ndarray) -> np.ndarray:
        return self.product_cohort.created(self.stream("products", "created"), g % self.products, g)

    def product_subcategory(self, g: np.ndarray) -> np.ndarray:
        """Local sub-category index (TOP_CATEGORIES .. CATEGORIES_PER_TENANT-1)."""
        return TOP_CATEGORIES + self.stream("products", "category").integers(g, 0, 2 * TOP_CATEGORIES)

    def price_ending(self, g: np.ndarray) -> np.ndarray:
        """Cents a product's prices end in (.99, .95, .49, .00, .50): mixed, as in real catalogues."""
        return np.array(PRICE_ENDINGS)[categorical(self.stream("products", "ending"), g, PRICE_ENDING_WEIGHTS)]

    def _priced(self, dollars: np.ndarray, ending: np.ndarray) -> np.ndarray:
        """Whole dollars (>= 1) shaded to the ending: 45 -> 44.99, 44.95, 44.49, 45.00, 44.50."""
        return np.maximum(dollars, 1).astype(np.int64) * 100 + ending - np.where(ending > 0, 100, 0)

    def product_price_cents(self, g: np.ndarray) -> np.ndarray:
        """The current price."""
        top = (self.product_subcategory(g) - TOP_CATEGORIES) // 2
        typical = np.array([c[2] for c in CATEGORY_TREE])[top]
        dollars = np.floor(typical * lognormal(self.stream("products", "price"), g, 0.0, 0.6))
        return self._priced(dollars, self.price_ending(g))

    def price_versions(self, g: np.ndarray) -> np.ndarray:
        return 1 + categorical(self.stream("price_history", "versions"), g, PRICE_VERSION_WEIGHTS)

    def price_changes(self, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The two candidate change times of a product's price, strictly increasing after creation."""
        created = self.product_created(g)
        span = (self.end - 1 - created).astype(np.float64)
        a = self.stream("price_history", "change_a").uniform(g)
        b = self.stream("price_history", "change_b").uniform(g)
        first = created + 1 + np.floor(np.minimum(a, b) * span).astype(np.int64)
        second = np.maximum(created + 1 + np.floor(np.maximum(a, b) * span).astype(np.int64), first + 1)
        return first, second

    def price_slot_cents(self, g: np.ndarray, slot: np.ndarray) -> np.ndarray:
        """Price of interval `slot` of product g; the last interval is the current price."""
        current = self.product_price_cents(g)
        factor = 0.8 + 0.4 * self.stream("price_history", "factor").uniform(g * PRICE_SLOTS + slot)
        earlier = self._priced(np.floor(current * factor / 100.0), self.price_ending(g))
        return np.where(slot == self.price_versions(g) - 1, current, earlier)

    def price_at(self, g: np.ndarray, t: np.ndarray) -> np.ndarray:
        """The price in effect at time t (t at or after the product's creation)."""
        p = self.product_prices(g)
        slot = ((p["versions"] >= 2) & (t >= p["first"])).astype(np.int64) + ((p["versions"] >= 3) & (t >= p["second"]))
        return np.choose(slot, (p["slot0"], p["slot1"], p["slot2"]))

    def product_prices(self, g: np.ndarray) -> dict[str, np.ndarray]:
        """Price-history attributes of products g, gathered from a per-tenant table.

        Orders look prices up several times per row; computing a tenant's products once (one row
        of PRICE_FIELDS per product) and gathering whole rows is far cheaper than re-hashing.
        """
        tenant = g // self.products
        first_tenant = int(tenant[0]) if len(g) else 0
        if len(g) and (tenant == first_tenant).all():
            rows = np.take(self._price_block(first_tenant), g - first_tenant * self.products, axis=0)
        else:
            rows = np.empty((len(g), len(PRICE_FIELDS)), dtype=np.int64)
            for t in np.unique(tenant):
                mask = tenant == t
                rows[mask] = np.take(self._price_block(int(t)), g[mask] - int(t) * self.products, axis=0)
        return {name: rows[:, i] for i, name in enumerate(PRICE_FIELDS)}

    def _price_block(self, tenant: int) -> np.ndarray:
        def build() -> np.ndarray:
            g = tenant * self.products + np.arange(self.products, dtype=np.int64)
            first, second = self.price_changes(g)
            slots = [self.price_slot_cents(g, np.full(len(g), k)) for k in range(PRICE_SLOTS)]
            return np.stack([self.price_versions(g), first, second, *slots], axis=1)

        return self.tenant_block("prices", tenant, build)

    def tenant_block(self, kind: str, tenant: int, build: Callable[[], Any]) -> Any:
        """A tenant's precomputed parent attributes (pure functions of the parents' indices).

        Tables are tenant-major, so a chunk spans at most two tenants: two blocks per kind suffice.
        """
        key = (kind, tenant)
        with self._blocks_lock:  # chunks may be built on several threads
            if key not in self._blocks:
                same_kind = [k for k in self._blocks if k[0] == kind]
                if len(same_kind) >= 2:
                    del self._blocks[same_kind[0]]
                self._blocks[key] = build()
            return self._blocks[key]

    def product_warehouse(self, g: np.ndarray) -> np.ndarray:
        """Global warehouse index holding the product."""
        tenant = g // self.products
        return tenant * self.warehouses + self.stream("products", "warehouse").integers(g, 0, self.warehouses)

    # -- customers -----------------------------------------------------------------------------
    def customer_created(self, g: np.ndarray) -> np.ndarray:
        return self.customer_cohort.created(self.stream("customers", "created"), g % self.customers, g)

    def customer_identity(self, g: np.ndarray) -> dict[str, np.ndarray]:
        """First name, last name and birth-year-like digits: distinct per tenant (a keyed permutation
        of the customer index over their combinations), so e-mails are unique."""
        tenant = g // self.customers
        out = {k: np.zeros(len(g), dtype=np.int64) for k in ("first", "last", "year")}
        for t in np.unique(tenant):
            sel = tenant == t
            parts = self.name_parts(int(t))
            f, la = len(parts.first), len(parts.last)
            space = f * la * BIRTH_YEARS
            local = g[sel] % self.customers + t * self.customers  # shops of one locale share no names
            code = unique_codes(self.stream("customers", "identity"), local % space, space)
            out["first"][sel] = code % f
            out["last"][sel] = (code // f) % la
            out["year"][sel] = code // (f * la)
        return out

    # -- orders --------------------------------------------------------------------------------
    def order_date(self, g: np.ndarray) -> np.ndarray:
        t = self.schedule.timestamps(self.stream("orders", "time"), g % self.orders)
        return np.where(t < self.opened, t + OPENING, t)  # nobody orders before the shop opens

    def order_customer(self, g: np.ndarray, order_date: np.ndarray) -> np.ndarray:
        """Global customer index: someone of the same tenant who had signed up by then."""
        tenant = g // self.orders
        existing = self.customer_cohort.existing(order_date)
        # Earlier customers order more often (loyalty, a heavy tail); u**2 leans towards low indices.
        local = np.floor(existing * self.stream("orders", "customer").uniform(g) ** 2.0).astype(np.int64)
        return tenant * self.customers + np.minimum(local, existing - 1)

    def item_count(self, g: np.ndarray) -> np.ndarray:
        return 1 + categorical(self.stream("orders", "items"), g, ITEM_COUNT_WEIGHTS)

    def _product_draw(self, slot_g: np.ndarray, existing: np.ndarray) -> np.ndarray:
        """A line's own draw (local index): a steep power law over the products that existed at the order date."""
        draw = np.floor(existing * self.stream("order_items", "product").uniform(slot_g) ** 3.0).astype(np.int64)
        return np.minimum(draw, existing - 1)

    @staticmethod
    def _dodge(local: np.ndarray, earlier: list[np.ndarray], existing: np.ndarray, line: int) -> np.ndarray:
        """Line `line`'s product, moved on while an earlier line of its order has it (at most `line` steps)."""
        for _ in range(line):
            clash = np.zeros(len(local), dtype=bool)
            for other in earlier:
                clash |= local == other
            local = np.where(clash & (existing > line), (local + 1) % np.maximum(existing, 1), local)
        return local

    def item_product(
        self, slot_g: np.ndarray, order_date: np.ndarray, existing: np.ndarray | None = None
    ) -> np.ndarray:
        """Global product index for item slot slot_g (order slot_g // 4) at the order's date: a product is on
        one line of an order at most (`items` resolves whole orders at once, the same way)."""
        slot_g = np.asarray(slot_g, dtype=np.int64)
        order, line = slot_g // ITEM_SLOTS, slot_g % ITEM_SLOTS
        if existing is None:
            existing = self.product_cohort.existing(order_date)
        existing = np.broadcast_to(existing, slot_g.shape)
        local = self._product_draw(slot_g, existing)
        later = np.flatnonzero(line > 0)
        if len(later):  # a later line needs the lines before it
            first, ex = order[later] * ITEM_SLOTS, existing[later]
            chosen: list[np.ndarray] = []
            for k in range(ITEM_SLOTS):
                chosen.append(self._dodge(self._product_draw(first + k, ex), chosen, ex, k))
            local[later] = np.choose(line[later], chosen)
        return (order // self.orders) * self.products + local

    def item_quantity(self, slot_g: np.ndarray) -> np.ndarray:
        return 1 + categorical(self.stream("order_items", "quantity"), slot_g, (0.6, 0.22, 0.1, 0.05, 0.03))

    def items(self, order_g: np.ndarray, order_date: np.ndarray) -> dict[str, np.ndarray]:
        """The present item slots of the orders, flat and in slot order.

        `row` is each item's position in `order_g`; empty slots are never computed.
        """
        count = self.item_count(order_g)
        row = np.repeat(np.arange(len(order_g)), count)
        first = np.cumsum(count) - count
        slot = order_g[row] * ITEM_SLOTS + (np.arange(len(row)) - first[row])
        dates = order_date[row]
        existing = self.product_cohort.existing(order_date)[row]
        # item_product's result with one draw per line: an order's lines are consecutive here.
        local = self._product_draw(slot, existing)
        line = slot % ITEM_SLOTS
        for k in range(1, ITEM_SLOTS):
            at = np.flatnonzero(line == k)
            local[at] = self._dodge(local[at], [local[at - j] for j in range(1, k + 1)], existing[at], k)
        product = (order_g[row] // self.orders) * self.products + local
        return {
            "row": row,
            "slot": slot,
            "product": product,
            "quantity": self.item_quantity(slot),
            "unit_cents": self.price_at(product, dates),
        }

    @cached_property
    def promotion_tiles(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Start, end and theme (index into PROMOTION_THEMES, -1: evergreen) of the promotions, which
        follow each other from the opening on (the same dates for every tenant). A tile lying wholly
        inside a season takes a seasonal theme; any other tile an evergreen one."""
        local = np.arange(self.promotions, dtype=np.int64)
        length = (self.end - self.opened) / self.promotions
        starts = np.floor(self.opened + local * length).astype(np.int64)
        ends = np.r_[starts[1:], self.end - 1]  # the last one ends on the window's last second, inside it
        first_month, _ = month_day(starts)
        last_month, _ = month_day(ends - 1)
        theme = np.full(self.promotions, -1, dtype=np.int64)
        short = ends - starts <= 92 * DAY
        for k in range(len(PROMOTION_THEMES) - 1, -1, -1):  # the first listed theme wins
            lo, hi = PROMOTION_THEMES[k][2]
            fits = short & (first_month >= lo) & (last_month <= hi) & (first_month <= last_month)
            # Summer and back to school overlap: alternate between them.
            if k == 0:
                fits &= (local % 2 == 0) | ~((first_month >= 7) & (last_month <= 8))
            theme = np.where(fits, k, theme)
        return starts, ends, theme

    @cached_property
    def _calendar(self) -> tuple[int, np.ndarray, np.ndarray]:
        first = self.start // DAY
        days = np.arange(first, (self.end - 1) // DAY + 1, dtype=np.int64) * DAY
        month, day = month_day(days)
        return first, month, day

    def month_day(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Month and day of month of times inside the window, by table lookup."""
        first, month, day = self._calendar
        index = np.asarray(t, dtype=np.int64) // DAY - first
        return month[index], day[index]

    def promotion_at(self, g: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Global index of the tenant's promotion running at time t."""
        tenant = g // self.orders
        starts = self.promotion_tiles[0]
        local = np.clip(np.searchsorted(starts, t, side="right") - 1, 0, self.promotions - 1)
        return tenant * self.promotions + local

    def promotion_percent(self, p: np.ndarray) -> np.ndarray:
        return 5 * self.stream("promotions", "percent").integers(p, 1, 7)  # 5% .. 30%

    def uses_promotion(self, g: np.ndarray) -> np.ndarray:
        return self.stream("orders", "promo").bernoulli(g, 0.2)

    def order_anomaly(self, g: np.ndarray) -> np.ndarray:
        profile = self.scenario.profile
        hit = self.stream("orders", "anomaly").bernoulli(g, profile.anomaly_rate)
        label = categorical(self.stream("orders", "anomaly_label"), g, profile.mix_weights())
        return np.where(hit, label, NO_ANOMALY)

    def lifecycle(self, g: np.ndarray) -> Lifecycle:
        """Event times and status of orders g; status follows from times against the window end.

        The anomaly label is decided here once, and every table derives its consequence from it.
        """
        anomaly = self.order_anomaly(g)
        label = {name: anomaly == i for i, name in enumerate(ANOMALY_LABELS)}
        date = self.order_date(g)
        hours = 3600.0
        # Payments: a delayed one fails 1-3 times and is captured days later; a few others fail
        # once and succeed on a retry within the hour.
        retry = self.stream("orders", "retry").bernoulli(g, 0.04)
        # Draws that only some orders need are made for those rows only (same values: counter-based).
        delayed, stockout, late = label["payment_delay"], label["stockout"], label["delivery_delay"]
        failures = retry.astype(np.int64)
        failures[delayed] = self.stream("orders", "failures").integers(g[delayed], 1, 4)
        pay_wait = exponential(self.stream("orders", "pay_wait"), g, 0.5 * hours)
        pay_wait[retry] += 300 + 3000 * self.stream("orders", "retry_wait").uniform(g[retry])
        pay_wait[delayed] += (3 + 17 * self.stream("orders", "pay_delay").uniform(g[delayed])) * DAY
        paid_at = date + 60 + np.floor(pay_wait).astype(np.int64)
        ship_wait = (4 * hours + 2.5 * DAY * self.stream("orders", "ship_wait").uniform(g)).astype(np.int64)
        ship_wait[stockout] += ((7 + 14 * self.stream("orders", "backorder").uniform(g[stockout])) * DAY).astype(
            np.int64
        )
        shipped_at = paid_at + ship_wait
        transit = (DAY + 5 * DAY * self.stream("orders", "transit").uniform(g)).astype(np.int64)
        transit[late] += ((8 + 22 * self.stream("orders", "late").uniform(g[late])) * DAY).astype(np.int64)
        delivered_at = shipped_at + transit
        # A failed delivery: the carrier gives up at the end of the first transit. A share of them
        # is sent again (a second parcel, hours to two days later); the others are refunded.
        failing = label["delivery_failure"]
        failed_at = np.where(failing, delivered_at, self.end)
        f = np.flatnonzero(failing)
        reshipped_at = np.full(len(g), self.end, dtype=np.int64)
        reship_wait = (2 * hours + 2 * DAY * self.stream("orders", "reship_wait").uniform(g[f])).astype(np.int64)
        reshipped_at[f] = failed_at[f] + reship_wait
        reshipped = np.zeros(len(g), dtype=bool)
        reshipped[f] = self.stream("orders", "reship").bernoulli(g[f], RESHIP_SHARE) & (reshipped_at[f] < self.end)
        retransit = (DAY + 4 * DAY * self.stream("orders", "retransit").uniform(g[f])).astype(np.int64)
        delivered_at[f] = np.where(reshipped[f], reshipped_at[f] + retransit, self.end)
        # A cancellation comes before the order ships: before the capture for some (the authorisation
        # is voided), after it for the others (the payment is refunded).
        c = np.flatnonzero(label["cancellation"])
        cancelled_at = np.full(len(g), self.end, dtype=np.int64)
        u = self.stream("orders", "cancel_at").uniform(g[c])
        cancelled_at[c] = np.where(
            self.stream("orders", "cancel_early").bernoulli(g[c], 0.45),
            date[c] + 20 + np.floor((paid_at[c] - date[c] - 20) * u).astype(np.int64),
            paid_at[c] + 60 + np.floor((shipped_at[c] - paid_at[c] - 120) * u).astype(np.int64),
        )

        cancelled = label["cancellation"] & (cancelled_at < self.end)
        status = np.full(len(g), STATUS_PENDING, dtype=np.int64)
        status[paid_at < self.end] = STATUS_PROCESSING
        status[shipped_at < self.end] = STATUS_SHIPPED
        failed = failing & (failed_at < self.end)
        status[failed & ~reshipped] = STATUS_FAILED
        status[(delivered_at < self.end) & (~failing | reshipped)] = STATUS_DELIVERED
        status[cancelled] = STATUS_CANCELLED
        # An anomaly that had no visible effect by the end of the window is not labelled.
        visible = (
            (label["payment_delay"] & (paid_at < self.end))
            | cancelled
            | (label["stockout"] & (status >= STATUS_PROCESSING))
            | (label["delivery_delay"] & (status == STATUS_DELIVERED))
            | failed
        )
        anomaly = np.where(visible, anomaly, NO_ANOMALY)
        attempts = 1 + np.where(label["payment_delay"] & ~visible, 0, failures)
        return Lifecycle(
            status, anomaly, date, paid_at, shipped_at, delivered_at, cancelled_at, attempts,
            failed_at, reshipped, reshipped_at,
        )  # fmt: skip

    def lifecycle_of(self, order: np.ndarray) -> Lifecycle:
        """The lifecycle of ascending, possibly repeated orders (slots of a child table), each order computed once."""
        if not len(order):
            return self.lifecycle(order)
        first = int(order[0])
        life = self.lifecycle(np.arange(first, int(order[-1]) + 1, dtype=np.int64))
        at = order - first
        return Lifecycle(*(getattr(life, f.name)[at] for f in dataclasses.fields(Lifecycle)))

    # -- returns (one per order at most, of its first item) -----------------------------------
    def returns_of(self, g: np.ndarray, life: Lifecycle) -> dict[str, np.ndarray]:
        """Which orders have a return and its facts; payments read the refunds from here."""
        late = life.label("delivery_delay")
        requested = life.delivered_at + self.stream("returns", "after").integers(g, DAY // 2, 25 * DAY)
        chance = np.where(late, 0.25, 0.05)
        present = life.delivered & self.stream("returns", "returned").bernoulli(g, chance) & (requested < self.end)
        status = categorical(self.stream("returns", "status"), g, (15, 20, 55, 10))
        # A refund takes 1-6 days after the request; one not done by the window end is still approved.
        refunded_at = requested + self.stream("returns", "refund_after").integers(g, DAY, 6 * DAY)
        status = np.where((status == 2) & (refunded_at >= self.end), 1, status)
        accepted = np.isin(status, RETURN_ACCEPTED)
        restocked_at = requested + self.stream("returns", "restock_after").integers(g, DAY // 2, 4 * DAY)
        restocked = accepted & (restocked_at < self.end)
        return {
            "present": present,
            "requested": requested,
            "status": status,
            "accepted": accepted,
            "refunded": status == 2,
            "refunded_at": refunded_at,
            "restocked": restocked,
            "restocked_at": restocked_at,
        }
