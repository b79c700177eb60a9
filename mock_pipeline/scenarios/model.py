"""The resolved scenario of a run: profile, size, seed, window and knobs. Pure Python.

`build_scenario(...)` turns the run config's values into a frozen `Scenario` or raises one
`ScenarioError` whose message names the field, what was wrong and what is allowed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

from mock_pipeline.engine.pools import check_locale
from mock_pipeline.engine.timeline import Window

ANOMALY_LABELS = ("payment_delay", "delivery_delay", "delivery_failure", "cancellation", "stockout")
DEFAULT_AS_OF = "2024-12-31"
DEFAULT_PROFILE = "normal-ops"
RUN_TAG_MAX_LENGTH = 32  # the tag prefixes category names and serial numbers: keep it short
# The window's ends: every generator turns days into epoch seconds and back, and some look back
# before the window (maintenance.lookback_days, at most 3650 days); these stay far inside what
# Python's dates, int64 seconds and nanosecond timestamps (up to 2262) represent.
DATE_MIN = dt.date(1990, 1, 1)
DATE_MAX = dt.date(2199, 12, 31)
SEED_MAX = 2**63 - 1
CHUNK_SIZE_MAX = 10_000_000  # rows held in memory per chunk
VOLUME_MULTIPLIER_MAX = 1_000_000.0
KNOB_MAX = 10**12  # any larger knob is refused by the size guard anyway; keeps integer maths exact
KNOB_LIMITS = {"maintenance.lookback_days": 3650}  # maintenance.users is capped at 10 by the model (seed 000)
PROFILE_VOLUME_MAX = 1000.0  # order_volume, company_volume and order_trend
PAYMENT_DELAY_DAYS_MAX = 3650.0
ENTITY_RATE_MAX = 1e9
# The size guard's ceiling (scenario.max_total_rows): above the large preset with every built-in
# profile (peak-season's 3x orders: about 413 million rows estimated), below a run that cannot finish.
DEFAULT_MAX_TOTAL_ROWS = 1_000_000_000


@dataclass(frozen=True)
class Problem:
    """One bad value: the field as the user wrote it (scenario.seed, MOCK_PIPELINE_DATA_DIR) and why."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class ScenarioError(ValueError):
    """Bad scenario config: one line per problem, each naming the field and what is allowed.

    `ScenarioError("size", "...")` is one problem under `scenario.`; `ScenarioError.of(problems)`
    carries every problem of a run config at once.
    """

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.problems: tuple[Problem, ...] = (Problem(f"scenario.{field}", message),)
        super().__init__(str(self.problems[0]))

    @classmethod
    def of(cls, problems: Sequence[Problem]) -> ScenarioError:
        error = cls(problems[0].field.removeprefix("scenario."), problems[0].message)
        error.problems = tuple(problems)
        error.args = (error.line("\n"),)
        return error

    def line(self, separator: str = "; ") -> str:
        return separator.join(str(p) for p in self.problems)


# Latin letters that Unicode does not decompose into a base letter and a mark.
_LATIN_EXTRA = str.maketrans({"ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "đ": "d", "ð": "d", "þ": "th", "ł": "l",
                              "ı": "i", "ħ": "h", "ŋ": "n"})  # fmt: skip


def transliterate(text: str) -> str:
    """Accented Latin letters as plain ASCII ("Über Tag ü" -> "Uber Tag u"); other characters kept."""
    decomposed = unicodedata.normalize("NFKD", text.lower().translate(_LATIN_EXTRA))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def normalize_run_tag(raw: str) -> str:
    """Seed 000's run tag: accented Latin letters transliterated, lower-case, runs of other
    characters become one "-", trimmed of "-". Raises ScenarioError when a letter or digit has no
    ASCII spelling (it is never dropped silently), or when nothing (or too much) is left."""
    if not isinstance(raw, str):
        raise ScenarioError("run_tag", f"{raw!r} is not text; allowed: letters, digits and '-'")
    plain = transliterate(raw.strip())
    foreign = sorted({c for c in plain if not c.isascii()})
    if foreign:
        raise ScenarioError(
            "run_tag",
            f"{raw!r} has characters with no ASCII spelling ({' '.join(foreign)}); "
            "allowed: letters a-z (accents are dropped: Über -> uber), digits and '-'",
        )
    tag = re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9-]+", "-", plain)).strip("-")
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
    if not isinstance(name, str):
        raise ScenarioError("profile", f"{name!r} is not a profile name; allowed: {', '.join(sorted(builtins))}")
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
    problems = profile_problems(profile)
    if problems:
        raise ScenarioError.of(problems)
    return profile


def _number(value: Any) -> float | None:
    """The value as a finite float, or None (NaN, infinity, text, a bool)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def profile_problems(p: Profile) -> list[Problem]:
    """Every out-of-range field of a resolved profile (finite numbers in their ranges, known labels)."""
    where = f"scenario.custom_profiles.{p.name}" if p.name not in builtin_profiles() else f"scenario.profile.{p.name}"
    problems: list[Problem] = []
    ranges = {
        "anomaly_rate": (0.0, 1.0, True),
        "overdue_share": (0.0, 1.0, True),
        "order_volume": (0.0, PROFILE_VOLUME_MAX, False),
        "company_volume": (0.0, PROFILE_VOLUME_MAX, False),
        "payment_delay_days": (0.0, PAYMENT_DELAY_DAYS_MAX, False),
        "order_trend": (-1.0, PROFILE_VOLUME_MAX, False),
    }
    for name, (low, high, closed) in ranges.items():
        raw = getattr(p, name)
        value = _number(raw)
        inside = value is not None and (low <= value if closed else low < value) and value <= high
        if not inside:
            bound = f"from {low:g}" if closed else f"above {low:g}"
            problems.append(Problem(f"{where}.{name}", f"got {raw!r}; allowed: a number {bound} up to {high:g}"))
    mix = p.anomaly_mix if isinstance(p.anomaly_mix, Mapping) else {}
    unknown = sorted(set(mix) - set(ANOMALY_LABELS))
    if unknown:
        problems.append(
            Problem(f"{where}.anomaly_mix", f"unknown label {unknown[0]!r}; allowed: {', '.join(ANOMALY_LABELS)}")
        )
    weights = [_number(w) for w in mix.values()]
    if any(w is None or w < 0 for w in weights) or sum(w or 0.0 for w in weights) <= 0:
        problems.append(Problem(f"{where}.anomaly_mix", "weights must be finite, non-negative, with a positive sum"))
    for rate, raw in (p.entity_rates if isinstance(p.entity_rates, Mapping) else {}).items():
        value = _number(raw)
        if value is None or not 0 < value <= ENTITY_RATE_MAX:
            problems.append(
                Problem(
                    f"{where}.entity_rates.{rate}", f"got {raw!r}; allowed: a number above 0 up to {ENTITY_RATE_MAX:g}"
                )
            )
    return problems


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
    def launch_config(self) -> dict[str, Any]:
        """`significant_config` as the scenario resource's run config: a custom profile is selected by
        `custom_profile` (`profile` takes only the built-in names)."""
        config = self.significant_config
        if config["profile"] in config.get("custom_profiles", {}):
            config["custom_profile"] = config.pop("profile")
        return config

    @property
    def fingerprint(self) -> str:
        blob = json.dumps(self.significant_config, sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()[:10]

    @property
    def dataset_id(self) -> str:
        return f"{self.profile.name}_{self.size}_seed{self.seed}_{self.fingerprint}"


def _date(field: str, value: Any, problems: list[Problem]) -> dt.date | None:
    allowed = f"allowed: an ISO date from {DATE_MIN} to {DATE_MAX}, such as {DEFAULT_AS_OF}"
    try:
        day = value if type(value) is dt.date else dt.date.fromisoformat(str(value))
    except ValueError:
        problems.append(Problem(f"scenario.{field}", f"{value!r} is not a date; {allowed}"))
        return None
    if not DATE_MIN <= day <= DATE_MAX:
        problems.append(Problem(f"scenario.{field}", f"{day} is out of range; {allowed}"))
        return None
    return day


def _year_before(end: dt.date) -> dt.date:
    """The default window: the year ending on as_of (2024-12-31 -> 2024-01-01)."""
    day_after = end + dt.timedelta(days=1)
    try:
        return day_after.replace(year=day_after.year - 1)
    except ValueError:  # 29 February
        return day_after.replace(year=day_after.year - 1, day=28)


def _integer(field: str, value: Any, low: int, high: int, what: str, problems: list[Problem]) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        problems.append(Problem(f"scenario.{field}", f"got {value!r}; allowed: {what} from {low:,} to {high:,}"))
        return None
    return value


def _knobs(size: str, overrides: Any, problems: list[Problem]) -> dict[str, dict[str, int]]:
    presets = size_presets()
    knobs = {domain: dict(values) for domain, values in presets.get(size, presets["small"]).items()}
    if not isinstance(overrides, Mapping):
        problems.append(
            Problem("scenario.overrides", f"got {overrides!r}; allowed: a mapping of size knobs to integers")
        )
        return knobs
    allowed = knob_names()
    for key, value in overrides.items():
        if key not in allowed:
            problems.append(Problem(f"scenario.overrides.{key}", f"unknown size knob; allowed: {', '.join(allowed)}"))
            continue
        high = KNOB_LIMITS.get(key, KNOB_MAX)
        if _integer(f"overrides.{key}", value, 1, high, "an integer", problems) is not None:
            domain, knob = key.split(".", 1)
            knobs[domain][knob] = value
    return knobs


def _selected_profile(
    profile: Any, custom_profile: Any, custom_profiles: Mapping[str, Any] | None, problems: list[Problem]
) -> str | None:
    """The profile the run uses: `custom_profile` (an entry of `custom_profiles`) when set, else `profile`."""
    if custom_profile is None:
        return profile
    defined = sorted(custom_profiles or {}) if isinstance(custom_profiles, Mapping) else []
    if not isinstance(custom_profile, str) or custom_profile not in defined:
        if custom_profile in builtin_profiles():
            message = f"{custom_profile!r} is a built-in profile; set scenario.profile: {custom_profile} instead"
        else:
            allowed = ", ".join(defined) if defined else "a name defined under scenario.custom_profiles (none is)"
            message = f"unknown custom profile {custom_profile!r}; allowed: {allowed}"
        problems.append(Problem("scenario.custom_profile", message))
        return None
    if profile != DEFAULT_PROFILE:
        problems.append(
            Problem(
                "scenario.custom_profile",
                f"{custom_profile!r} is set together with scenario.profile {profile!r}; allowed: one of them "
                "(a custom profile names the profile it builds on in its `extends`)",
            )
        )
        return None
    return custom_profile


def build_scenario(
    profile: str = DEFAULT_PROFILE,
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
    max_total_rows: int = DEFAULT_MAX_TOTAL_ROWS,
    custom_profile: str | None = None,
) -> Scenario:
    """The scenario, or one ScenarioError listing every bad field (not only the first).

    `custom_profile` selects an entry of `custom_profiles` instead of `profile` (which may also name
    one: manifests keep the profile used under `profile`). The dataset id depends only on the
    profile used, not on the field that selected it.

    The size guard runs last, on a scenario that is otherwise valid: it refuses one whose
    estimated rows exceed `max_total_rows`, naming the field that made it large.
    """
    problems: list[Problem] = []
    presets = size_presets()
    if size not in presets:
        problems.append(Problem("scenario.size", f"unknown size preset {size!r}; allowed: {', '.join(presets)}"))
    _integer("seed", seed, 0, SEED_MAX, "an integer", problems)
    _integer("chunk_size", chunk_size, 1, CHUNK_SIZE_MAX, "a number of rows", problems)
    _integer("max_total_rows", max_total_rows, 1, KNOB_MAX * 1000, "a number of rows", problems)
    multiplier = _number(volume_multiplier)
    if multiplier is None or not 0 < multiplier <= VOLUME_MULTIPLIER_MAX:
        problems.append(
            Problem(
                "scenario.volume_multiplier",
                f"got {volume_multiplier!r}; allowed: a finite number above 0 up to {VOLUME_MULTIPLIER_MAX:,.0f}",
            )
        )
    end = _date("as_of", as_of, problems)
    start = None
    if start_date is not None and start_date != "":
        start = _date("start_date", start_date, problems)
    elif end is not None:
        start = max(_year_before(end), DATE_MIN)  # the default window starts no earlier than DATE_MIN
    if start is not None and end is not None and start > end:
        problems.append(
            Problem("scenario.start_date", f"{start} is after as_of {end}; allowed: a start on or before as_of")
        )
    if locale is not None:
        try:
            check_locale(locale)
        except ValueError as exc:
            problems.append(Problem("scenario.locale", str(exc)))
        except TypeError:
            problems.append(Problem("scenario.locale", f"got {locale!r}; allowed: a Faker locale such as en_US"))
    resolved: Profile | None = None
    name = _selected_profile(profile, custom_profile, custom_profiles, problems)
    try:
        resolved = None if name is None else resolve_profile(name, custom_profiles)
    except ScenarioError as exc:
        problems.extend(exc.problems)
    tag = None
    try:
        tag = normalize_run_tag(run_tag)
    except ScenarioError as exc:
        problems.extend(exc.problems)
    knobs = _knobs(size, overrides or {}, problems)
    if problems or resolved is None or tag is None or end is None or start is None:
        raise ScenarioError.of(problems)

    config = {
        "profile": resolved.name,
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
    scenario = Scenario(
        profile=resolved,
        size=size,
        seed=seed,
        window=Window(start, end),
        volume_multiplier=float(volume_multiplier),
        locale=locale,
        chunk_size=chunk_size,
        knobs=knobs,
        run_tag=tag,
        config=config,
    )
    from mock_pipeline.scenarios.size import check_size  # the guard reads this module's model

    check_size(scenario, max_total_rows)
    return scenario
