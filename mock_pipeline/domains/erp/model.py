"""The SynergyFlow ERP world of a scenario (seed 001): sizes, time layout and the attributes that
several tables share, as pure functions of row indices.

Small entity sets (users, companies, products: hundreds to a few thousand rows even at the large
preset) are held as cached arrays; the fact tables (orders and everything hanging off them) are
recomputed per chunk from the order index. Index conventions: order g has id g + 1; children with
a fixed number of slots per order (slot = g * SLOTS + k) drop empty slots and are numbered densely
(tables.dense); one pass over the orders (`facts`) tells which slots hold a row.
"""

from __future__ import annotations

import math
from dataclasses import replace
from functools import cached_property, partial

import numpy as np
import pyarrow as pa

from mock_pipeline.domains.erp import data, outcomes
from mock_pipeline.domains.erp.world import (
    ATTEMPT_SLOTS,
    BRANCH_COUNT_WEIGHTS,
    BRANCH_SLOTS,
    BULK_CYCLE_DAYS,
    BULK_PAYER_SHARE,
    CASE_SIZE,
    DISCOUNT_ITEM,
    DISCOUNT_MODE_WEIGHTS,
    DISCOUNT_ORDER,
    DOMAIN,
    DUE_SHARE_FLOOR,
    ERP_WEEKDAYS,
    FOLLOW_UP_SHARE,
    GRADE_PRICE_FACTORS,
    HOUR,
    ITEM_COUNT_WEIGHTS,
    ITEM_SLOTS,
    LABEL,
    LAUNCH_END,
    MAX_ORDERS,
    NO_ANOMALY,
    OFFICE_HOURS,
    OFFICE_OPEN,
    ORDER_HOURS,
    PACK_SIZES,
    PAY_LATE,
    PAY_OVERDUE,
    PAYMENT_TERM_WEIGHTS,
    PAYMENT_TERMS,
    PRODUCT_VARIANTS,
    QUANTITY_WEIGHTS,
    REFUND_NONE,
    ROLE_SALES,
    ROLE_SHARES,
    ROLES,
    STAFF_READY,
    STATUS_CANCELLED,
    STATUS_CONFIRMED,
    STATUS_DELIVERED,
    STATUS_FAILED,
    STATUS_PENDING,
    STATUS_SHIPPED,
    VAT_PERCENT,
    VISIT_HOURS,
    WEEK,
    Billing,
    Lifecycle,
    OrderFacts,
    region_day,
    zipf_exponent_for,
)
from mock_pipeline.engine.cohort import Cohort
from mock_pipeline.engine.dense import DenseKeys
from mock_pipeline.engine.distributions import categorical, exponential, lognormal, unique_codes, zipf_weights
from mock_pipeline.engine.random import Stream
from mock_pipeline.engine.timeline import DAY, Rhythm, Schedule, allocate, daily_weights, poisson_counts
from mock_pipeline.scenarios.model import Scenario, ScenarioError


class ErpModel:
    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        profile = scenario.profile
        rates = dict(profile.entity_rates)
        required = ("users", "companies", "branch_ratio", "products", "orders_per_day", "maintenance_visits_per_week")
        for name in required:
            if name not in rates:
                raise ScenarioError(
                    f"profile.{profile.name}.entity_rates", f"missing {name}; required: {', '.join(required)}"
                )
        if not 0.0 <= float(rates["branch_ratio"]) <= 1.0:
            raise ScenarioError(
                f"profile.{profile.name}.entity_rates.branch_ratio",
                f"must be a share between 0 and 1, got {rates['branch_ratio']}",
            )
        self.volume = scenario.volume_multiplier * scenario.knob(DOMAIN, "volume")
        v = self.volume
        # At least one person per role: approvals, sales and support all need someone.
        self.users = max(len(ROLES), round(rates["users"] * v))
        self.companies = max(1, round(rates["companies"] * v * profile.company_volume))
        self.branch_ratio = float(rates["branch_ratio"])
        self.products = max(5, round(rates["products"] * v))
        if self.products > self.catalogue_size * PRODUCT_VARIANTS:
            raise ScenarioError(
                "volume_multiplier",
                f"ERP products would be {self.products:,}; the catalogue names at most"
                f" {self.catalogue_size * PRODUCT_VARIANTS:,} distinct products (lower volume_multiplier)",
            )
        self.order_rate = float(rates["orders_per_day"]) * v * profile.order_volume
        self.visit_rate = float(rates["maintenance_visits_per_week"]) * v / 7.0
        self.window = scenario.window
        self.start = self.window.start_epoch
        self.end = self.window.end_epoch  # first second after the window
        self.weeks = math.ceil(self.window.days / 7)
        # Dense keys of the slotted tables (tables.dense), one per table, computed lazily.
        self.dense_keys: dict[str, DenseKeys] = {}
        # Checked before any schedule is drawn: daily Poisson draws cost memory in the daily rate.
        if self.expected_orders > MAX_ORDERS:
            raise ScenarioError(
                "volume_multiplier",
                f"ERP orders would be about {self.expected_orders:,.0f}; at most {MAX_ORDERS:,} per run"
                " (lower volume_multiplier, overrides erp.volume or the profile's order_volume)",
            )

    def stream(self, table: str, column: str) -> Stream:
        return Stream(self.scenario.seed, DOMAIN, table, column)

    # -- names -----------------------------------------------------------------------------------
    # One locale per dataset (catalog "Shapes look real"): the ERP is an Egyptian distributor (seed 001), so its
    # people are named like its addresses, +20 phones, EGP prices and Egyptian couriers, whatever locale the
    # run gives the domains that have no country of their own.
    @cached_property
    def first_names(self) -> pa.Array:
        return pa.array(data.FIRST_NAMES, pa.string())

    @cached_property
    def last_names(self) -> pa.Array:
        return pa.array(data.LAST_NAMES, pa.string())

    # -- users -----------------------------------------------------------------------------------
    @cached_property
    def role_counts(self) -> np.ndarray:
        """Exactly as many of each role as largest-remainder rounding gives, at least one each."""
        counts = allocate(self.users, np.asarray(ROLE_SHARES))
        for role in np.flatnonzero(counts == 0):
            counts[int(np.argmax(counts))] -= 1
            counts[role] += 1
        return counts

    @cached_property
    def user_role(self) -> np.ndarray:
        blocks = np.repeat(np.arange(len(ROLES)), self.role_counts)
        order = unique_codes(self.stream("users", "role"), np.arange(self.users), self.users)
        return blocks[order]

    def users_with(self, *roles: int) -> np.ndarray:
        return np.flatnonzero(np.isin(self.user_role, roles))

    def pick_user(self, roles: tuple[int, ...], stream: Stream, key: np.ndarray) -> np.ndarray:
        who = self.users_with(*roles)
        return who[stream.integers(key, 0, len(who))]

    @cached_property
    def user_created(self) -> np.ndarray:
        i = np.arange(self.users, dtype=np.int64)
        return self.start + (i * STAFF_READY) // self.users

    # -- companies and branches ------------------------------------------------------------------
    @cached_property
    def company_cohort(self) -> Cohort:
        # 15% are clients at go-live, the rest sign on over the window: no month holds 35% of them.
        return Cohort(self.companies, self.start + STAFF_READY, self.start + LAUNCH_END, self.end, old_share=0.15)

    @cached_property
    def company(self) -> dict[str, np.ndarray]:
        c = np.arange(self.companies, dtype=np.int64)
        governorate = categorical(self.stream("companies", "governorate"), c, data.GOVERNORATE_WEIGHTS)
        region = np.array([data.REGIONS.index(g[2]) for g in data.GOVERNORATES])[governorate]
        terms = np.asarray(PAYMENT_TERMS)[categorical(self.stream("companies", "terms"), c, PAYMENT_TERM_WEIGHTS)]
        bulk = (terms >= BULK_CYCLE_DAYS) & self.stream("companies", "bulk").bernoulli(c, BULK_PAYER_SHARE)
        # Exactly round(ratio * n) companies have branches, chosen by a keyed permutation.
        with_branches = round(self.branch_ratio * self.companies)
        has_branches = unique_codes(self.stream("companies", "has_branches"), c, self.companies) < with_branches
        branches = np.where(has_branches, 1 + categorical(self.stream("branches", "count"), c, BRANCH_COUNT_WEIGHTS), 0)
        sales = self.users_with(ROLE_SALES)
        return {
            "created": self.company_cohort.created(self.stream("companies", "created"), c, c),
            "governorate": governorate,
            "region": region,
            "terms": terms,
            "bulk": bulk,
            # Bulk cycles are anchored before the window so a cycle never waits longer than 30 days.
            "cycle_anchor": self.start
            - self.stream("companies", "cycle").integers(c, 0, BULK_CYCLE_DAYS) * DAY
            + OFFICE_OPEN
            + self.stream("companies", "cycle_time").integers(c, 0, OFFICE_HOURS),
            "branches": branches,
            "account_manager": sales[self.stream("companies", "manager").integers(c, 0, len(sales))],
        }

    @cached_property
    def branch_created(self) -> np.ndarray:
        """[companies, BRANCH_SLOTS] creation times, increasing per company (absent slots too)."""
        created = self.company["created"]
        key = np.arange(self.companies * BRANCH_SLOTS).reshape(self.companies, BRANCH_SLOTS)
        u = np.sort(self.stream("branches", "created").uniform(key.ravel()).reshape(key.shape), axis=1)
        span = np.minimum(120 * DAY, self.end - 1 - created - 60)
        return created[:, None] + 60 + np.floor(u * span[:, None]).astype(np.int64)

    # -- products --------------------------------------------------------------------------------
    @cached_property
    def product_cohort(self) -> Cohort:
        # As companies: 15% listed at go-live, the rest over the window.
        return Cohort(self.products, self.start + STAFF_READY, self.start + LAUNCH_END, self.end, old_share=0.15)

    @cached_property
    def catalogue(self) -> dict[str, np.ndarray | pa.Array]:
        """Every (pack size, grade, category, name) combination of the coffee and beverage catalogue."""
        rows = [
            (
                pack,
                grade,
                cat,
                f"{grade_name} {name}{'' if pack == 1 else f', case of {pack}'}",
                f"{unit}{'' if pack == 1 else f' x{pack}'}",
            )
            for pack in PACK_SIZES
            for grade, grade_name in enumerate(data.PRODUCT_GRADES)
            for cat, (_, _, _, unit, names) in enumerate(data.PRODUCT_CATEGORIES)
            for name in names
        ]
        pack, grade, category, name, unit = zip(*rows, strict=True)
        return {
            "pack": np.array(pack),
            "grade": np.array(grade),
            "category": np.array(category),
            "name": pa.array(name, pa.string()),
            "unit": pa.array(unit, pa.string()),
        }

    @property
    def catalogue_size(self) -> int:
        return len(self.catalogue["pack"])

    @cached_property
    def product(self) -> dict[str, np.ndarray]:
        p = np.arange(self.products, dtype=np.int64)
        combos = self.catalogue_size
        # Beyond the catalogue's combinations, product lines and tags keep names apart (never a number).
        variants = max(1, -(-self.products // combos))
        code = unique_codes(self.stream("products", "combo"), p, combos * variants)
        combo = code % combos
        category = self.catalogue["category"][combo]
        typical = np.array([c[2] for c in data.PRODUCT_CATEGORIES])[category]
        grade = self.catalogue["grade"][combo]
        pack = self.catalogue["pack"][combo]
        grade_factor = np.array(GRADE_PRICE_FACTORS)[grade]
        pounds = typical * grade_factor * pack * lognormal(self.stream("products", "price"), p, 0.0, 0.15)
        price = np.maximum(5, np.round(pounds)).astype(np.int64) * 100
        margin = 0.55 + 0.2 * self.stream("products", "cost").uniform(p)
        return {
            "combo": combo,
            "variant": code // combos,
            "category": category,
            "price_cents": price,
            "cost_cents": np.floor(price * margin).astype(np.int64),
            "safety": CASE_SIZE * self.stream("products", "safety").integers(p, 2, 7),
            "created": self.product_cohort.created(self.stream("products", "created"), p, p),
        }

    @cached_property
    def zipf_cdf(self) -> np.ndarray:
        listed = self.product_cohort.existing(self.start + (np.arange(self.window.days) + 0.5) * DAY)
        return np.cumsum(
            zipf_weights(self.products, zipf_exponent_for(self.products, listed=listed, volume=self.order_weights))
        )

    # -- orders: the time-series engine ------------------------------------------------------------
    @cached_property
    def order_weights(self) -> np.ndarray:
        rhythm = Rhythm(weekday=ERP_WEEKDAYS, trend=self.scenario.profile.order_trend)
        return daily_weights(self.stream("orders", "rhythm"), self.window, rhythm)

    @cached_property
    def order_schedule(self) -> Schedule:
        return Schedule(
            self.window, poisson_counts(self.stream("orders", "count"), self.order_rate * self.order_weights)
        )

    @property
    def orders(self) -> int:
        return self.order_schedule.total

    @property
    def expected_orders(self) -> float:
        return float(self.order_rate * self.order_weights.sum())

    def order_date(self, g: np.ndarray) -> np.ndarray:
        return self.order_schedule.timestamps(self.stream("orders", "time"), g, ORDER_HOURS)

    def order_company(self, g: np.ndarray, date: np.ndarray) -> np.ndarray:
        """A company that existed by then; long-standing accounts order more (u**2.2 leans low: heavy-tailed)."""
        existing = self.company_cohort.existing(date)
        local = np.floor(existing * self.stream("orders", "company").uniform(g) ** 2.2).astype(np.int64)
        return np.minimum(local, existing - 1)

    def order_branch(self, g: np.ndarray, company: np.ndarray, date: np.ndarray) -> np.ndarray:
        """Branch slot index (company * BRANCH_SLOTS + k) of a branch open by then, or -1 (head office)."""
        count = self.company["branches"][company]
        opened = (self.branch_created[company] <= date[:, None]) & (np.arange(BRANCH_SLOTS)[None, :] < count[:, None])
        open_count = opened.sum(axis=1)
        use = self.stream("orders", "use_branch").bernoulli(g, 0.6) & (open_count > 0)
        k = self.stream("orders", "branch").integers(g, 0, np.maximum(open_count, 1))
        return np.where(use, company * BRANCH_SLOTS + k, -1)

    def order_anomaly(self, g: np.ndarray) -> np.ndarray:
        profile = self.scenario.profile
        hit = self.stream("orders", "anomaly").bernoulli(g, profile.anomaly_rate)
        label = categorical(self.stream("orders", "anomaly_label"), g, profile.mix_weights())
        return np.where(hit, label, NO_ANOMALY)

    def lifecycle(self, g: np.ndarray) -> Lifecycle:
        """What happened to the orders; an anomaly is labelled only where it had a visible effect by the
        end of the window."""
        life = self.timeline(g)
        is_ = {name: life.planned == i for name, i in LABEL.items()}
        pay = self.billing(life)
        visible = (
            (is_["cancellation"] & (life.status == STATUS_CANCELLED))
            | (is_["stockout"] & life.shipped)
            | (is_["delivery_delay"] & life.shipped)
            | (is_["delivery_failure"] & (life.attempts > 0))
            | (is_["payment_delay"] & life.delivered & np.isin(pay.status, (PAY_LATE, PAY_OVERDUE)))
        )
        return replace(life, anomaly=np.where(visible, life.planned, NO_ANOMALY))

    def timeline(self, g: np.ndarray) -> Lifecycle:
        """The orders' dates and statuses, before billing (every anomaly planned is still on them)."""
        g = np.asarray(g, dtype=np.int64)
        n = len(g)
        end = self.end
        date = self.order_date(g)
        company = self.order_company(g, date)
        region = self.company["region"][company]
        planned = self.order_anomaly(g)
        is_ = {name: planned == i for name, i in LABEL.items()}
        s = partial(self.stream, "orders")

        confirm_at = (
            date + 300 + np.minimum(np.floor(exponential(s("confirm"), g, 1.5 * HOUR)), 9 * HOUR).astype(np.int64)
        )
        cancel_at = date + 1200 + np.floor(s("cancel_after").uniform(g) * 10 * HOUR).astype(np.int64)
        cancel_plan = is_["cancellation"]

        order_day = date // DAY
        extra = np.where(is_["delivery_delay"], 2 + s("delay").integers(g, 0, 8), 0)
        extra = np.where(is_["stockout"], 2 + s("backorder").integers(g, 0, 5), extra)
        scheduled_day = region_day(order_day + 2, region, 0)
        attempt_day = np.stack([region_day(order_day + 2, region, extra + j) for j in range(ATTEMPT_SLOTS)], axis=1)
        key = g[:, None] * ATTEMPT_SLOTS + np.arange(ATTEMPT_SLOTS)[None, :]
        attempt_at = (
            attempt_day * DAY
            + 9 * HOUR
            + np.floor(s("attempt_time").uniform(key.ravel()).reshape(n, ATTEMPT_SLOTS) * 8 * HOUR).astype(np.int64)
        )
        shipped_at = (attempt_day[:, 0] - 1) * DAY + 14 * HOUR + s("ship_time").integers(g, 0, 4 * HOUR)
        failed = np.where(is_["delivery_failure"], 1 + categorical(s("failures"), g, (40, 30, 30)), 0)
        final_at = attempt_at[np.arange(n), np.minimum(failed, ATTEMPT_SLOTS - 1)]

        cancelled = cancel_plan & (cancel_at < end)
        status = np.full(n, STATUS_PENDING, dtype=np.int64)
        status[confirm_at < end] = STATUS_CONFIRMED
        status[shipped_at < end] = STATUS_SHIPPED
        done = final_at < end
        status[done & (failed < ATTEMPT_SLOTS)] = STATUS_DELIVERED
        status[done & (failed >= ATTEMPT_SLOTS)] = STATUS_FAILED
        status[cancelled] = STATUS_CANCELLED
        confirmed = (confirm_at < end) & ~(cancelled & (cancel_at <= confirm_at))
        attempts = np.where(cancelled, 0, (attempt_at < end).sum(axis=1))
        attempts = np.minimum(attempts, np.minimum(failed, ATTEMPT_SLOTS - 1) + 1)
        return Lifecycle(
            g, date, company, region, status, planned, planned, confirmed, confirm_at, cancel_at, scheduled_day, shipped_at,
            attempt_at, attempts, failed, final_at,
        )  # fmt: skip

    @cached_property
    def overdue_draw_share(self) -> float:
        """The chance that an invoice due by the window's end stays unpaid: the profile's overdue share
        is of all invoices, and those not yet due are pending, never overdue (see DUE_SHARE_FLOOR)."""
        due = invoiced = 0
        for lo in range(0, self.orders, max(self.scenario.chunk_size, 1)):
            life = self.timeline(np.arange(lo, min(lo + self.scenario.chunk_size, self.orders), dtype=np.int64))
            deadline = (life.final_at // DAY + self.company["terms"][life.company] + 1) * DAY
            invoiced += int(life.delivered.sum())
            due += int((life.delivered & (deadline <= self.end)).sum())
        return min(1.0, self.scenario.profile.overdue_share / max(due / max(invoiced, 1), DUE_SHARE_FLOOR))

    def billing(self, life: Lifecycle) -> Billing:
        return outcomes.billing(self, life)

    # -- order items and discounts ---------------------------------------------------------------
    def item_count(self, g: np.ndarray) -> np.ndarray:
        return 1 + categorical(self.stream("orders", "items"), g, ITEM_COUNT_WEIGHTS)

    def items(self, g: np.ndarray, date: np.ndarray) -> dict[str, np.ndarray]:
        """All item slots of orders g as [orders, ITEM_SLOTS] arrays, with item-level discounts."""
        slot = g[:, None] * ITEM_SLOTS + np.arange(ITEM_SLOTS)[None, :]
        flat = slot.ravel()
        existing = np.repeat(self.product_cohort.existing(date), ITEM_SLOTS)
        # Zipf over the products that existed at the order date (rank = product index).
        u = self.stream("order_items", "product").uniform(flat) * self.zipf_cdf[existing - 1]
        product = np.minimum(np.searchsorted(self.zipf_cdf, u, side="right"), existing - 1)
        quantity = 1 + categorical(self.stream("order_items", "quantity"), flat, QUANTITY_WEIGHTS)
        unit = self.product["price_cents"][product]
        present = np.arange(ITEM_SLOTS)[None, :] < self.item_count(g)[:, None]
        item_discounted = self.item_discounted(g)
        percent = np.where(
            item_discounted.ravel(), 5 * self.stream("discounts", "item_percent").integers(flat, 1, 6), 0
        )
        gross = quantity * unit
        discount = gross * percent // 100
        shape = slot.shape
        return {
            "slot": slot,
            "present": present,
            "product": product.reshape(shape),
            "quantity": quantity.reshape(shape),
            "unit_cents": unit.reshape(shape),
            "discount_percent": percent.reshape(shape),
            "discount_cents": discount.reshape(shape),
            "line_cents": (gross - discount).reshape(shape),
        }

    def item_discounted(self, g: np.ndarray) -> np.ndarray:
        """[orders, ITEM_SLOTS]: which items carry an item-level discount (the first one always does)."""
        slot = g[:, None] * ITEM_SLOTS + np.arange(ITEM_SLOTS)[None, :]
        present = np.arange(ITEM_SLOTS)[None, :] < self.item_count(g)[:, None]
        hit = self.stream("discounts", "item_hit").bernoulli(slot.ravel(), 0.5).reshape(slot.shape)
        return (
            present & (self.discount_mode(g) == DISCOUNT_ITEM)[:, None] & ((np.arange(ITEM_SLOTS)[None, :] == 0) | hit)
        )

    def discount_mode(self, g: np.ndarray) -> np.ndarray:
        return categorical(self.stream("discounts", "mode"), g, DISCOUNT_MODE_WEIGHTS)

    def order_discount_percent(self, g: np.ndarray) -> np.ndarray:
        pct = self.stream("discounts", "order_percent").integers(g, 2, 16)
        return np.where(self.discount_mode(g) == DISCOUNT_ORDER, pct, 0)

    def amounts(self, g: np.ndarray, date: np.ndarray, items: dict[str, np.ndarray] | None = None) -> dict:
        items = items if items is not None else self.items(g, date)
        subtotal = np.where(items["present"], items["line_cents"], 0).sum(axis=1)
        discount = subtotal * self.order_discount_percent(g) // 100
        tax = (subtotal - discount) * VAT_PERCENT // 100
        return {"subtotal": subtotal, "discount": discount, "tax": tax, "total": subtotal - discount + tax}

    # -- refunds ---------------------------------------------------------------------------------
    def refunds(self, life: Lifecycle, pay: Billing) -> dict[str, np.ndarray]:
        return outcomes.refunds(self, life, pay)

    def goods_back(self, life: Lifecycle, refund: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        return outcomes.goods_back(self, life, refund)

    def depot_return(self, life: Lifecycle) -> tuple[np.ndarray, np.ndarray]:
        return outcomes.depot_return(self, life)

    # -- what happened to every order: one pass ----------------------------------------------------
    def week_of(self, t: np.ndarray) -> np.ndarray:
        return (np.asarray(t) - self.start) // WEEK

    @cached_property
    def facts(self) -> OrderFacts:
        """One chunked pass over the orders: their outcomes, from which the child tables' row presence (and so
        their dense keys) follows."""
        n = self.orders
        status = np.zeros(n, dtype=np.int8)
        confirmed = np.zeros(n, dtype=bool)
        attempts = np.zeros(n, dtype=np.int8)
        paid = np.zeros(n, dtype=bool)
        refund = np.full(n, REFUND_NONE, dtype=np.int8)
        returned = np.zeros(n, dtype=bool)
        for lo in range(0, n, max(self.scenario.chunk_size, 1)):
            g = np.arange(lo, min(lo + self.scenario.chunk_size, n), dtype=np.int64)
            life = self.lifecycle(g)
            pay = self.billing(life)
            r = self.refunds(life, pay)
            back, _ = self.goods_back(life, r)
            status[g], confirmed[g], attempts[g] = life.status, life.confirmed, life.attempts
            paid[g] = life.delivered & pay.paid
            refund[g], returned[g] = r["status"], back
        return OrderFacts(status, confirmed, attempts, paid, refund, returned)

    @cached_property
    def stock_demand(self) -> tuple[np.ndarray, np.ndarray]:
        """Units shipped and units returned to stock per (product, week): what the restock plan follows."""
        P, W = self.products, self.weeks
        demand = np.zeros((P, W), dtype=np.int64)
        back_units = np.zeros((P, W), dtype=np.int64)
        for lo in range(0, self.orders, max(self.scenario.chunk_size, 1)):
            g = np.arange(lo, min(lo + self.scenario.chunk_size, self.orders), dtype=np.int64)
            life = self.lifecycle(g)
            back, when = self.goods_back(life, self.refunds(life, self.billing(life)))
            items = self.items(g, life.date)
            shipped = items["present"] & life.shipped[:, None]
            week = np.broadcast_to(self.week_of(life.shipped_at)[:, None], shipped.shape)
            np.add.at(demand, (items["product"][shipped], week[shipped]), items["quantity"][shipped])
            came_back = shipped & back[:, None]
            back_week = np.broadcast_to(self.week_of(when)[:, None], shipped.shape)
            np.add.at(back_units, (items["product"][came_back], back_week[came_back]), items["quantity"][came_back])
        return demand, back_units

    @cached_property
    def stock_plan(self) -> dict[str, np.ndarray]:
        """The restock plan of the model's own order facts (the audit log books its restocks)."""
        return self.plan_stock(*self.stock_demand)

    def plan_stock(self, demand: np.ndarray, returned: np.ndarray) -> dict[str, np.ndarray]:
        return outcomes.plan_stock(self, demand, returned)

    # -- maintenance visits ----------------------------------------------------------------------
    @cached_property
    def visit_weights(self) -> np.ndarray:
        rhythm = Rhythm(weekday=ERP_WEEKDAYS, seasonal_amplitude=0.1, bursts_per_year=0.0)
        return daily_weights(self.stream("maintenance_visits", "rhythm"), self.window, rhythm)

    @property
    def first_visit_rate(self) -> float:
        """First visits a day; follow-ups come on top, so all visits average the profile's weekly rate."""
        return self.visit_rate / (1.0 + FOLLOW_UP_SHARE)

    @property
    def expected_first_visits(self) -> float:
        return float(self.first_visit_rate * self.visit_weights.sum())

    @cached_property
    def visit_schedule(self) -> Schedule:
        counts = poisson_counts(self.stream("maintenance_visits", "count"), self.first_visit_rate * self.visit_weights)
        return Schedule(self.window, counts)

    @property
    def base_visits(self) -> int:
        return self.visit_schedule.total

    def visits(self, b: np.ndarray) -> dict[str, np.ndarray]:
        """Base visits b and their follow-ups: company, technician, time, presence."""
        s = partial(self.stream, "maintenance_visits")
        at = self.visit_schedule.timestamps(s("time"), b, VISIT_HOURS)
        existing = self.company_cohort.existing(at)
        company = np.minimum(np.floor(existing * s("company").uniform(b)).astype(np.int64), existing - 1)
        follow_at = at + 3 * DAY + np.floor(s("follow_after").uniform(b) * 25 * DAY).astype(np.int64)
        follow_at -= follow_at % HOUR  # booked on the hour
        follows = s("needs_follow_up").bernoulli(b, FOLLOW_UP_SHARE) & (follow_at < self.end)
        return {"at": at, "company": company, "follow_at": follow_at, "follows": follows}
