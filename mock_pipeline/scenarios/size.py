"""The size guard: rows and bytes a scenario will make, estimated from its knobs before anything runs.

The estimate reads only the resolved scenario (size knobs, volume multiplier, profile volumes and
the window), never the generators, so it holds while they change. It scales the counts a profile
scales in the models (commerce and erp orders, maintenance tickets by order_volume; scrum issues and
projects by order_volume and company_volume, through `scaled`, which the scrum model uses too). Its
ratios (rows of dependent tables per order, per product, per ticket...) were measured on the small
preset, normal-ops, seed 42; they are approximations, good to a few tens of percent, which is what
a ceiling needs.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path

from mock_pipeline.scenarios.model import Problem, Profile, Scenario, ScenarioError, size_presets

# Bytes one row takes on disk in a full run: its Parquet (about 20) and its CSV export (80-160).
BYTES_PER_ROW = 150
# Bytes per row each embedded publishing default adds under the data folder, by publishing asset:
# measured on the medium commerce preset (DuckDB file 32, outbox 36, LanceDB 83; docs/benchmarks.md),
# rounded up. The local S3 default hard-links the export's files: nothing more.
PUBLISHED_BYTES_PER_ROW = {"database_tables": 35, "http_upload": 40, "vector_index": 90}
DEFAULT_WINDOW_DAYS = 366

Knobs = Mapping[str, Mapping[str, int]]


def _commerce(k: Mapping[str, int], volume: float, profile: Profile, days: int) -> float:
    orders = max(1.0, k["orders_per_tenant"] * volume * profile.order_volume)
    # Per order: items, payment, shipment, stock events, returns, reviews, tickets, notifications.
    per_tenant = (
        orders * 6.1
        + k["products_per_tenant"] * 4.7  # price history, inventory, analytics
        + k["customers_per_tenant"] * 3.6  # analytics, wishlists
        + k["vendors_per_tenant"] * profile.company_volume
        + k["warehouses_per_tenant"]
        + k["promotions_per_tenant"]
        + 40  # categories and the tenant
    )
    return k["tenants"] * per_tenant


def _erp(k: Mapping[str, int], volume: float, profile: Profile, days: int) -> float:
    rates = profile.entity_rates
    v = volume * k["volume"]
    trend = 1.0 + profile.order_trend / 2  # the mean of a linear trend over the window
    orders = rates.get("orders_per_day", 50) * v * profile.order_volume * days * trend * 1.03
    # Per order: items, status history, payment, shipment, attempts, discounts, stock moves, audit log.
    return (
        orders * 18.4
        + rates.get("companies", 100) * v * profile.company_volume * 1.5
        + (rates.get("users", 20) + rates.get("products", 200)) * v
        + rates.get("maintenance_visits_per_week", 10) * v * days / 7
    )


def _maintenance(k: Mapping[str, int], volume: float, profile: Profile, days: int) -> float:
    # The model's ticket count: the knob times the profile's order volume (peak-season: 3x).
    tickets = max(1, round(k["tickets"] * profile.order_volume))
    # Per ticket: transitions, XP transactions, part specs.
    return tickets * 10.7 + k["items"] * (1 + k["parts_per_item"]) + k["categories"] + min(k["users"], 10) + 1


# Seed 002's bounds on scrum's counts: 10-20 projects, 500-1000 issues in all.
SCRUM_PROJECT_BOUNDS, SCRUM_ISSUE_BOUNDS = (10, 20), (500, 1000)


def scaled(knob: int, factor: float, bounds: tuple[int, int]) -> int:
    """A count the profile scales by `factor`. A knob inside seed 002's bounds stays inside them: a
    factor above 1 moves it towards the upper bound (3x volume covers two thirds of the way), below
    1 towards the lower one; a knob outside them is simply multiplied."""
    low, high = bounds
    if not low <= knob <= high:
        return max(1, round(knob * factor))
    if factor >= 1:
        return round(knob + (high - knob) * (1 - 1 / factor))
    return round(knob - (knob - low) * (1 - factor))


def _scrum(k: Mapping[str, int], volume: float, profile: Profile, days: int) -> float:
    # The model's counts: issues follow order_volume, projects company_volume (its cap of one
    # project per template is left out: a ceiling may run a few dozen rows over).
    issues = scaled(k["issues"], profile.order_volume, SCRUM_ISSUE_BOUNDS)
    projects = scaled(k["projects"], profile.company_volume, SCRUM_PROJECT_BOUNDS)
    # Per issue: comments, links; per project: boards, columns, types, workflows, sprints.
    return issues * 2.6 + projects * 25 + 20


ESTIMATES: dict[str, Callable[[Mapping[str, int], float, Profile, int], float]] = {
    "commerce": _commerce,
    "erp": _erp,
    "maintenance": _maintenance,
    "scrum": _scrum,
}


def estimate_rows(knobs: Knobs, volume: float, profile: Profile, days: int) -> dict[str, int]:
    """Rows per domain (every table of it, derived ones included). A domain without an estimate counts 0."""
    return {d: round(f(knobs[d], volume, profile, days)) for d, f in ESTIMATES.items() if d in knobs}


def scenario_rows(scenario: Scenario) -> dict[str, int]:
    return estimate_rows(scenario.knobs, scenario.volume_multiplier, scenario.profile, scenario.window.days)


def _blame(scenario: Scenario) -> tuple[str, object]:
    """The field the user set that makes the scenario largest: the one whose default shrinks it most."""
    total = sum(scenario_rows(scenario).values())
    preset = size_presets()[scenario.size]
    candidates: list[tuple[str, object, int]] = []
    if scenario.volume_multiplier != 1.0:
        rows = estimate_rows(scenario.knobs, 1.0, scenario.profile, scenario.window.days)
        candidates.append(("volume_multiplier", scenario.config["volume_multiplier"], sum(rows.values())))
    for key, value in scenario.config.get("overrides", {}).items():
        domain, knob = key.split(".", 1)
        knobs = {d: dict(v) for d, v in scenario.knobs.items()}
        knobs[domain][knob] = preset[domain][knob]
        rows = estimate_rows(knobs, scenario.volume_multiplier, scenario.profile, scenario.window.days)
        candidates.append((f"overrides.{key}", value, sum(rows.values())))
    if scenario.window.days > DEFAULT_WINDOW_DAYS:
        rows = estimate_rows(scenario.knobs, scenario.volume_multiplier, scenario.profile, DEFAULT_WINDOW_DAYS)
        candidates.append(("start_date", scenario.config["start_date"], sum(rows.values())))
    if scenario.profile.name in scenario.config.get("custom_profiles", {}):
        candidates.append(("custom_profile", scenario.profile.name, 0))  # last resort: its volumes or rates
    shrinking = [c for c in candidates if c[2] < total]
    if not shrinking:
        return ("size", scenario.size)
    field, value, _ = min(shrinking, key=lambda c: c[2])
    return field, value


def check_size(scenario: Scenario, max_total_rows: int) -> None:
    """Refuse a scenario estimated above `max_total_rows` rows, naming the field that made it large."""
    rows = scenario_rows(scenario)
    total = sum(rows.values())
    if total <= max_total_rows:
        return
    field, value = _blame(scenario)
    shown = f"{value:,}" if isinstance(value, int) else f"{value!r}" if isinstance(value, str) else f"{value:g}"
    parts = ", ".join(f"{d} {n:,}" for d, n in sorted(rows.items(), key=lambda kv: -kv[1]) if n)
    raise ScenarioError(
        field,
        f"{shown} makes about {total:,} rows ({parts}); allowed: at most {max_total_rows:,} rows "
        "(scenario.max_total_rows; raise it to allow more)",
    )


def free_bytes(folder: Path) -> tuple[Path, int]:
    """Free bytes where `folder` is (or would be created): its nearest existing ancestor's file system."""
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    return existing, shutil.disk_usage(existing).free


def _size(n: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1000
    raise AssertionError("unreachable")


def _bytes_under(folders: Sequence[Path]) -> int:
    return sum(f.stat().st_size for folder in folders if folder.is_dir() for f in folder.rglob("*") if f.is_file())


def room_problem(
    field: str,
    folder: Path,
    scenario: Scenario,
    written: Sequence[Path] = (),
    domains: Collection[str] | None = None,
    published: Mapping[str, Collection[str]] | None = None,
) -> Problem | None:
    """A Problem when the estimated bytes of `domains` (None: all), less those already in `written`,
    exceed the free space where `folder` lives. `published`: per domain, the publishing assets the run
    materialises with their embedded default (PUBLISHED_BYTES_PER_ROW), whose files count too."""
    by_domain = {d: n for d, n in scenario_rows(scenario).items() if domains is None or d in domains}
    rows = sum(by_domain.values())
    extra = sum(
        by_domain.get(d, 0) * sum(PUBLISHED_BYTES_PER_ROW.get(a, 0) for a in assets)
        for d, assets in (published or {}).items()
    )
    needed = rows * BYTES_PER_ROW + extra - _bytes_under(written)
    where, free = free_bytes(folder)
    if needed <= free:
        return None
    defaults = f", plus {_size(extra)} for the embedded publishing defaults" if extra else ""
    return Problem(
        field,
        f"{folder}: the scenario needs about {_size(needed)} more ({rows:,} rows at about {BYTES_PER_ROW} bytes"
        f"{defaults}), only {_size(free)} free on {where}; allowed: a folder with room, or a smaller scenario",
    )
