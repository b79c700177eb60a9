"""The resolved scenario of a run: profile, size, seed, window and knobs. Pure Python.

`build_scenario(...)` turns the run config's values into a frozen `Scenario` or raises one
`ScenarioError` whose message names the field, what was wrong and what is allowed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

from mock_pipeline.engine.pools import check_locale
from mock_pipeline.engine.timeline import Window

ANOMALY_LABELS = ("payment_delay", "delivery_delay", "delivery_failure", "cancellation", "stockout")
DEFAULT_AS_OF = "2024-12-31"
RUN_TAG_MAX_LENGTH = 32  # the tag prefixes category names and serial numbers: keep it short


class ScenarioError(ValueError):
    """Bad scenario config: one line naming the field and the allowed values."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"scenario.{field}: {message}")


def normalize_run_tag(raw: str) -> str:
    """Seed 000's run tag: lower-case, runs of characters outside [a-z0-9-] become one "-",
    trimmed of "-". Raises ScenarioError when nothing (or too much) is left."""
    tag = re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9-]+", "-", str(raw).strip().lower())).strip("-")
    if not tag:
        raise ScenarioError("run_tag", f"{raw!r} is empty after normalisation; allowed: letters, digits and '-'")
    if len(tag) > RUN_TAG_MAX_LENGTH:
        raise ScenarioError(
            "run_tag",
            f"{tag!r} is {len(tag)} characters long; allowed: at most {RUN_TAG_MAX_LENGTH} after normalisation",
        )
    return tag


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    anomaly_rate: float
    anomaly_mix: Mapping[str, float]
    order_volume: float
    company_volume: float
    order_trend: float
    overdue_share: float
    payment_delay_days: float
    entity_rates: Mapping[str, float]

    def mix_weights(self, labels: tuple[str, ...] = ANOMALY_LABELS) -> list[float]:
        return [float(self.anomaly_mix.get(label, 0.0)) for label in labels]


PROFILE_FIELDS = tuple(f.name for f in dataclasses.fields(Profile) if f.name != "name")


@cache
def _load(name: str) -> dict[str, Any]:
    return yaml.safe_load(resources.files("mock_pipeline.scenarios").joinpath(name).read_text())


def builtin_profiles() -> dict[str, dict[str, Any]]:
    return _load("profiles.yaml")


def size_presets() -> dict[str, dict[str, dict[str, int]]]:
    return _load("presets.yaml")


def knob_names() -> list[str]:
    """Every overridable size knob, as "domain.knob"."""
    first = next(iter(size_presets().values()))
    return sorted(f"{domain}.{knob}" for domain, knobs in first.items() for knob in knobs)


def resolve_profile(name: str, custom: Mapping[str, Mapping[str, Any]] | None = None) -> Profile:
    """Flatten a profile's `extends` chain (built-ins and custom profiles) into one Profile."""
    builtins = builtin_profiles()
    clash = sorted(set(custom or {}) & set(builtins))
    if clash:
        raise ScenarioError(
            f"custom_profiles.{clash[0]}", "reuses a built-in profile's name; extend it under a new name"
        )
    definitions = {**builtins, **(custom or {})}
    if name not in definitions:
        raise ScenarioError("profile", f"unknown profile {name!r}; allowed: {', '.join(sorted(definitions))}")
    chain: list[str] = []
    current: str | None = name
    while current is not None:
        if current in chain:
            cycle = " -> ".join([*chain, current])
            raise ScenarioError("custom_profiles", f"cycle in extends: {cycle}; a profile must extend a built-in one")
        if current not in definitions:
            raise ScenarioError(
                "custom_profiles",
                f"profile {chain[-1]!r} extends unknown {current!r}; allowed: {', '.join(sorted(definitions))}",
            )
        chain.append(current)
        # A custom profile that names no parent extends the default profile.
        current = definitions[current].get("extends", None if current in builtins else "normal-ops")
    merged: dict[str, Any] = {}
    for link in reversed(chain):
        for key, value in definitions[link].items():
            if key == "extends" or value is None:
                continue
            if key not in PROFILE_FIELDS:
                raise ScenarioError(
                    f"custom_profiles.{link}.{key}", f"unknown field; allowed: {', '.join(PROFILE_FIELDS)}"
                )
            if key == "entity_rates":
                value = {**merged.get(key, {}), **value}
            merged[key] = value
    profile = Profile(name=name, **merged)
    _check_profile(profile)
    return profile


def _check_profile(p: Profile) -> None:
    where = f"custom_profiles.{p.name}" if p.name not in builtin_profiles() else f"profile.{p.name}"
    for share in ("anomaly_rate", "overdue_share"):
        if not 0.0 <= getattr(p, share) <= 1.0:
            raise ScenarioError(f"{where}.{share}", f"must be between 0 and 1, got {getattr(p, share)}")
    for positive in ("order_volume", "company_volume", "payment_delay_days"):
        if getattr(p, positive) <= 0:
            raise ScenarioError(f"{where}.{positive}", f"must be positive, got {getattr(p, positive)}")
    if p.order_trend <= -1.0:
        raise ScenarioError(f"{where}.order_trend", f"must be greater than -1, got {p.order_trend}")
    unknown = sorted(set(p.anomaly_mix) - set(ANOMALY_LABELS))
    if unknown:
        raise ScenarioError(
            f"{where}.anomaly_mix", f"unknown label {unknown[0]!r}; allowed: {', '.join(ANOMALY_LABELS)}"
        )
    if any(w < 0 for w in p.anomaly_mix.values()) or sum(p.anomaly_mix.values()) <= 0:
        raise ScenarioError(f"{where}.anomaly_mix", "weights must be non-negative with a positive sum")
    for rate, value in p.entity_rates.items():
        if value <= 0:
            raise ScenarioError(f"{where}.entity_rates.{rate}", f"must be positive, got {value}")


@dataclass(frozen=True)
class Scenario:
    """Everything that fixes a dataset. Same Scenario, same bytes."""

    profile: Profile
    size: str
    seed: int
    window: Window
    volume_multiplier: float
    locale: str | None
    chunk_size: int
    knobs: Mapping[str, Mapping[str, int]]
    run_tag: str
    config: Mapping[str, Any]  # the run config values that produced it, for manifests

    def knob(self, domain: str, name: str) -> int:
        return int(self.knobs[domain][name])

    @property
    def significant_config(self) -> dict[str, Any]:
        """The config values that decide the data: all but chunk_size, which never changes bytes."""
        return {k: v for k, v in self.config.items() if k != "chunk_size"}

    @property
    def fingerprint(self) -> str:
        blob = json.dumps(self.significant_config, sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()[:10]

    @property
    def dataset_id(self) -> str:
        return f"{self.profile.name}_{self.size}_seed{self.seed}_{self.fingerprint}"


def _date(field: str, value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ScenarioError(field, f"{value!r} is not a date; allowed: an ISO date such as 2024-12-31") from None


def _year_before(end: dt.date) -> dt.date:
    """The default window: the year ending on as_of (2024-12-31 -> 2024-01-01)."""
    day_after = end + dt.timedelta(days=1)
    try:
        return day_after.replace(year=day_after.year - 1)
    except ValueError:  # 29 February
        return day_after.replace(year=day_after.year - 1, day=28)


def build_scenario(
    profile: str = "normal-ops",
    size: str = "small",
    seed: int = 42,
    as_of: str = DEFAULT_AS_OF,
    start_date: str | None = None,
    volume_multiplier: float = 1.0,
    locale: str | None = None,
    chunk_size: int = 100_000,
    overrides: Mapping[str, int] | None = None,
    custom_profiles: Mapping[str, Mapping[str, Any]] | None = None,
    run_tag: str = "mock",
) -> Scenario:
    presets = size_presets()
    if size not in presets:
        raise ScenarioError("size", f"unknown size preset {size!r}; allowed: {', '.join(presets)}")
    if seed < 0:
        raise ScenarioError("seed", f"must be a non-negative integer, got {seed}")
    if chunk_size <= 0:
        raise ScenarioError("chunk_size", f"must be a positive number of rows, got {chunk_size}")
    if volume_multiplier <= 0:
        raise ScenarioError("volume_multiplier", f"must be positive, got {volume_multiplier}")
    end = _date("as_of", as_of)
    start = _date("start_date", start_date) if start_date else _year_before(end)
    if start > end:
        raise ScenarioError("start_date", f"{start} is after as_of {end}; allowed: a start on or before as_of")
    if locale is not None:
        try:
            check_locale(locale)
        except ValueError as exc:
            raise ScenarioError("locale", str(exc)) from None
    resolved = resolve_profile(profile, custom_profiles)
    tag = normalize_run_tag(run_tag)

    knobs = {domain: dict(values) for domain, values in presets[size].items()}
    allowed = knob_names()
    for key, value in (overrides or {}).items():
        if key not in allowed:
            raise ScenarioError(f"overrides.{key}", f"unknown size knob; allowed: {', '.join(allowed)}")
        if int(value) <= 0:
            raise ScenarioError(f"overrides.{key}", f"must be a positive integer, got {value}")
        domain, knob = key.split(".", 1)
        knobs[domain][knob] = int(value)

    config = {
        "profile": profile,
        "size": size,
        "seed": seed,
        "as_of": end.isoformat(),
        "start_date": start.isoformat(),
        "volume_multiplier": volume_multiplier,
        "locale": locale,
        "chunk_size": chunk_size,
        "overrides": dict(sorted((overrides or {}).items())),
        "custom_profiles": {k: dict(v) for k, v in sorted((custom_profiles or {}).items())},
        "run_tag": tag,  # normalised: equivalent tags name the same dataset
    }
    return Scenario(
        profile=resolved,
        size=size,
        seed=seed,
        window=Window(start, end),
        volume_multiplier=volume_multiplier,
        locale=locale,
        chunk_size=chunk_size,
        knobs=knobs,
        run_tag=tag,
        config=config,
    )
