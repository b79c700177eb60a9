"""Resources: the run's scenario and where local data lives."""

import contextlib
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import dagster as dg
from pydantic import Field

from mock_pipeline.scenarios.model import DEFAULT_AS_OF, Scenario, ScenarioError, build_scenario
from mock_pipeline.toggle import disabled_reason

DATA_DIR_ENV = "MOCK_PIPELINE_DATA_DIR"


class CustomProfile(dg.Config):
    """A profile that extends another and overrides any of its fields (seed 001's custom scenario)."""

    extends: str = "normal-ops"
    description: str | None = None
    anomaly_rate: float | None = None
    anomaly_mix: dict[str, float] | None = None
    order_volume: float | None = None
    company_volume: float | None = None
    order_trend: float | None = None
    overdue_share: float | None = None
    payment_delay_days: float | None = None
    entity_rates: dict[str, float] | None = None


class ScenarioResource(dg.ConfigurableResource):
    """The scenario of a run. Its config keys are a public contract: users' CI files rely on them."""

    profile: str = Field(default="normal-ops", description="Built-in or custom profile name.")
    size: str = Field(default="small", description="Size preset: small, medium or large.")
    seed: int = Field(default=42, description="Same seed and config, same bytes.")
    as_of: str = Field(default=DEFAULT_AS_OF, description="Last day of the date window (ISO date).")
    start_date: str | None = Field(default=None, description="First day of the window; default as_of - 364 days.")
    volume_multiplier: float = Field(default=1.0, description="Scales every volume (seed 001's volumeMultiplier).")
    locale: str | None = Field(default=None, description="Faker locale; default per domain (erp: Egyptian).")
    chunk_size: int = Field(
        default=100_000, description="Rows per generation chunk; bounds memory, never changes bytes."
    )
    run_tag: str = Field(default="mock", description="Namespace of the maintenance domain's generated names.")
    overrides: dict[str, int] = Field(
        default_factory=dict, description='Size knobs, e.g. {"commerce.orders_per_tenant": 20000}.'
    )
    custom_profiles: dict[str, CustomProfile] = Field(
        default_factory=dict, description="Profiles that extend a built-in one."
    )

    def resolve(self) -> Scenario:
        """The validated scenario, or a `dg.Failure` with one line naming the field and what is allowed.

        Seed 001's toggle: with MOCK_DATA_ENABLED switched off nothing is generated at all.
        """
        reason = disabled_reason()
        if reason is not None:
            raise dg.Failure(description=reason, allow_retries=False)
        try:
            return build_scenario(**self.scenario_kwargs())
        except ScenarioError as exc:
            raise dg.Failure(description=str(exc), allow_retries=False) from None

    def scenario_kwargs(self) -> dict[str, Any]:
        return {
            "profile": self.profile,
            "size": self.size,
            "seed": self.seed,
            "as_of": self.as_of,
            "start_date": self.start_date,
            "volume_multiplier": self.volume_multiplier,
            "locale": self.locale,
            "chunk_size": self.chunk_size,
            "run_tag": self.run_tag,
            "overrides": dict(self.overrides),
            "custom_profiles": {
                name: {k: v for k, v in p.model_dump().items() if v is not None}
                for name, p in self.custom_profiles.items()
            },
        }


class DataDirResource(dg.ConfigurableResource):
    """Root of all local output: $MOCK_PIPELINE_DATA_DIR, default ./data."""

    root: str | None = None

    @property
    def path(self) -> Path:
        return Path(self.root or os.environ.get(DATA_DIR_ENV) or "data").absolute()

    def dataset(self, scenario: Scenario, domain: str, tables: Iterable[str] | None = None) -> Path:
        """Where a scenario's tables of one domain live as Parquet.

        `tables`: those the step reads (None: all, (): none). With an object store
        (mock_pipeline.storage) they are first brought up to date from it; here there is none.
        """
        return self.path / "datasets" / scenario.dataset_id / domain

    def publish(
        self, folder: Path, files: Iterable[str], replace_others: bool = False, log: Callable[[str], None] | None = None
    ) -> None:
        """After `folder/<files>` were written: hand them to the object store (none here)."""

    @contextlib.contextmanager
    def writing(self, folder: Path, files: Iterable[str]) -> Iterator[None]:
        """Around writing `folder/<files>` locally (the object store locks them; none here)."""
        yield

    def export(self, scenario: Scenario, domain: str, pull: bool = True) -> Path:
        """Where a domain's files export lives. `pull`: for a reader, with an object store it is first
        brought up to date from it (the writer, exported_files, passes False); here there is none."""
        return self.path / "exports" / scenario.dataset_id / domain

    def publish_export(self, folder: Path, log: Callable[[str], None] | None = None) -> None:
        """After exported_files wrote `folder`: hand it to the object store, manifest last (none here)."""


def env_var_if_set(name: str) -> dg.EnvVar | None:
    """`dg.EnvVar(name)` when the variable is set where the definitions load, else None.

    Only the variable's presence is read here; Dagster resolves its value when a run starts, so a
    secret never passes through module state. An unset optional setting stays at its default
    instead of failing the run (an unset `dg.EnvVar` is an error).
    """
    return dg.EnvVar(name) if name in os.environ else None
