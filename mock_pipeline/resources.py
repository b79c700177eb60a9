"""Resources: the run's scenario and where local data lives.

A run's config is validated at once (`ScenarioResource.check`): the scenario, the export options in
the run config, every environment variable and each domain's limits; all problems come back as one
message, one line per problem, before the first table is written. The run gate
(`mock_pipeline.preflight`) does it before any step; each step does it again through `resolve()`
(once per process), for runs on other executors.
"""

import contextlib
import errno
import json
import os
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

import dagster as dg
from pydantic import Field, PrivateAttr

from mock_pipeline.scenarios.model import (
    DEFAULT_AS_OF,
    DEFAULT_MAX_TOTAL_ROWS,
    Problem,
    Scenario,
    ScenarioError,
    build_scenario,
)
from mock_pipeline.toggle import disabled_reason

DATA_DIR_ENV = "MOCK_PIPELINE_DATA_DIR"
# Closed choices are Literal types: Dagster makes them Enum config types, so the launchpad underlines
# `size: huge` as you type and the CLI refuses it before the run starts (values as in presets.yaml).
SizePreset = Literal["small", "medium", "large"]
# The built-in profiles (profiles.yaml). A Literal, not an Enum: Dagster's Enum config takes a Python
# Enum's member *names* (no hyphens), a Literal's values as written, so `profile: peak-season` stays valid.
BuiltinProfile = Literal[
    "normal-ops", "peak-season", "anomaly-heavy", "warehouse-outage", "growth-phase", "payment-crisis"
]
EXPORT_OP_SUFFIX = "__exported_files"


class CustomProfile(dg.Config):
    """A profile that extends another and overrides any of its fields (the SynergyFlow generator's custom scenario)."""

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

    profile: BuiltinProfile = Field(
        default="normal-ops", description="Built-in profile; a custom one is selected by custom_profile."
    )
    custom_profile: str | None = Field(
        default=None, description="Name of an entry of custom_profiles to use instead of a built-in profile."
    )
    size: SizePreset = Field(default="small", description="Size preset: small, medium or large.")
    seed: int = Field(default=42, description="Same seed and config, same bytes.")
    as_of: str = Field(default=DEFAULT_AS_OF, description="Last day of the date window (ISO date).")
    start_date: str | None = Field(default=None, description="First day of the window; default as_of - 364 days.")
    volume_multiplier: float = Field(
        default=1.0, description="Scales every volume (the SynergyFlow generator's volumeMultiplier)."
    )
    locale: str | None = Field(
        default=None,
        description="Faker locale of commerce tenants and maintenance and scrum names; the ERP is always Egyptian.",
    )
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
    max_total_rows: int = Field(
        default=DEFAULT_MAX_TOTAL_ROWS,
        description="Size guard: refuse a scenario estimated above this many rows (all domains together).",
    )
    # The run's config as launched, for checking its export options with the scenario at the start.
    _run_config: Mapping[str, Any] = PrivateAttr(default_factory=dict)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        run = context.run
        self._run_config = dict(run.run_config or {}) if run is not None else {}

    def resolve(self) -> Scenario:
        """The validated scenario, or a `dg.Failure` listing every problem, one line each, naming the
        field as the user wrote it and what is allowed. Checked once per process and config.

        Seed 001's toggle: with MOCK_DATA_ENABLED switched off nothing is generated at all.
        """
        reason = disabled_reason()
        if reason is not None:
            raise dg.Failure(description=reason, allow_retries=False)
        key = json.dumps(
            [self.scenario_kwargs(), self.max_total_rows, self._run_config.get("ops", {}), sorted(os.environ.items())],
            sort_keys=True,
            default=str,
        )
        if key not in _verdicts:
            _verdicts[key] = self._validate()
        verdict = _verdicts[key]
        if isinstance(verdict, str):
            raise dg.Failure(description=verdict, allow_retries=False)
        return verdict

    def _validate(self) -> Scenario | str:
        # A step's own domain limits are its model's to report (model_for): an erp step is not
        # refused for a window too short for scrum's history.
        scenario, problems = self.check(self._run_config, domains=())
        if problems or scenario is None:
            return run_config_message(problems)
        return scenario

    def check(
        self, run_config: Mapping[str, Any] | None = None, domains: Collection[str] | None = None
    ) -> tuple[Scenario | None, list[Problem]]:
        """Everything a run with this scenario and `run_config` would be refused for, all at once:
        the scenario (size guard included), the files export options, the environment variables and
        the limits of the `domains` the run makes (None: every wired domain). What the run gate and
        the scenario sensor check; each step checks the scenario, and its domain's model its limits."""
        # Imported here: these modules import this one.
        from mock_pipeline.domains.factory import domain_problems
        from mock_pipeline.settings import environment_problems

        problems: list[Problem] = []
        scenario: Scenario | None = None
        try:
            scenario = build_scenario(**self.scenario_kwargs(), max_total_rows=self.max_total_rows)
        except ScenarioError as exc:
            problems += exc.problems
        problems += export_problems(run_config or {})
        problems += environment_problems(scenario)
        if scenario is not None and not problems:
            problems += domain_problems(scenario, domains)
        return (None if problems else scenario), problems

    def scenario_kwargs(self) -> dict[str, Any]:
        return {
            "profile": self.profile,
            "custom_profile": self.custom_profile,
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


_verdicts: dict[str, Scenario | str] = {}


def run_config_message(problems: list[Problem]) -> str:
    """All problems in one message: one line each (a single problem is a single line)."""
    lines = [str(p) for p in dict.fromkeys(problems)]
    if len(lines) == 1:
        return lines[0]
    return f"{len(lines)} problems in the run config, nothing was written:\n" + "\n".join(lines)


def export_problems(run_config: Mapping[str, Any]) -> list[Problem]:
    """The files export options of every `<domain>__exported_files` op in a run config."""
    from mock_pipeline.publish.files import ExportOptions

    problems: list[Problem] = []
    ops = run_config.get("ops") or {}
    for op, body in ops.items() if isinstance(ops, Mapping) else ():
        config = (body or {}).get("config") if isinstance(body, Mapping) else None
        if not op.endswith(EXPORT_OP_SUFFIX) or not isinstance(config, Mapping):
            continue
        options = ExportOptions(
            format=config.get("format", "csv"),
            compress=config.get("compress", False),
            max_records_per_file=config.get("max_records_per_file", 10_000),
        )
        problems += [Problem(f"ops.{op}.config.{field}", message) for field, message in options.problems()]
    return problems


class DataDirResource(dg.ConfigurableResource):
    """Root of all local output: $MOCK_PIPELINE_DATA_DIR, default ./data."""

    root: str | None = None

    @property
    def path(self) -> Path:
        return Path(self.root or os.environ.get(DATA_DIR_ENV) or "data").absolute()

    @property
    def setting(self) -> str:
        """The data folder's setting as the user wrote it."""
        if self.root:
            return "data_dir.root"
        return DATA_DIR_ENV if os.environ.get(DATA_DIR_ENV) else f"{DATA_DIR_ENV} (unset: ./data)"

    def room_problem(
        self,
        scenario: Scenario,
        domains: Collection[str] | None = None,
        published: Mapping[str, Collection[str]] | None = None,
    ) -> Problem | None:
        """The data folder is a writable folder with room for what the scenario's `domains` (None: all)
        still need: their estimated bytes less what this dataset already holds of them (later steps
        and re-runs are not refused for their own files), with the embedded publishing defaults'
        files (`published`: per domain, those assets). The problem's line says both figures."""
        from mock_pipeline.scenarios.size import room_problem
        from mock_pipeline.settings import folder_problem

        roots = [self.path / "datasets" / scenario.dataset_id, self.path / "exports" / scenario.dataset_id]
        written = roots if domains is None else [root / d for root in roots for d in domains]
        return folder_problem(self.setting, self.path) or room_problem(
            self.setting, self.path, scenario, written, domains, published
        )

    def check_room(self, scenario: Scenario, domains: Collection[str] | None = None) -> None:
        """Before a dataset's tables are written: `room_problem` as a one-line `dg.Failure`."""
        problem = self.room_problem(scenario, domains)
        if problem is not None:
            raise dg.Failure(description=str(problem), allow_retries=False)

    def dataset(self, scenario: Scenario, domain: str, tables: Iterable[str] | None = None) -> Path:
        """Where a scenario's tables of one domain live as Parquet (a path for scripts and tests).

        `tables`: those the step reads (None: all, (): none). With an object store
        (mock_pipeline.storage) they are first brought up to date from it; here there is none.
        Assets use `reading`, `table_writer` and `export_writer`, which do every step in order.
        """
        self.check_room(scenario, [domain])
        return self.path / "datasets" / scenario.dataset_id / domain

    @contextlib.contextmanager
    def reading(self, scenario: Scenario, domain: str, tables: Iterable[str] | None = None) -> Iterator[Path]:
        """The domain's dataset folder for a step that reads `tables` (None: all), pulled from the store first."""
        yield self.dataset(scenario, domain, tables)

    @contextlib.contextmanager
    def table_writer(
        self,
        scenario: Scenario,
        domain: str,
        table: str,
        files: Iterable[str],
        reads: Iterable[str] = (),
        replace_others: bool = True,
        log: Callable[[str], None] | None = None,
    ) -> Iterator[Path]:
        """Around writing `files` of one table: yields the dataset folder (with `reads` pulled from the
        store first). The files are locked against local pulls while written and, once the block ends
        without error, handed to the store; `replace_others` drops the table's other files there (a new
        layout). A failing block publishes nothing."""
        files = sorted(files)
        dataset = self.dataset(scenario, domain, reads)
        with self._writing(dataset / table, files):
            yield dataset
            self._publish(dataset / table, files, replace_others, log)

    @contextlib.contextmanager
    def export_writer(
        self, scenario: Scenario, domain: str, log: Callable[[str], None] | None = None
    ) -> Iterator[Path]:
        """Around rewriting the domain's files export whole: yields its folder (nothing pulled); local
        readers wait until the block's export is in the store too, files first, manifest.json last."""
        from mock_pipeline.publish.files import MANIFEST

        target = self.export(scenario, domain, pull=False)
        with self._writing(target, [MANIFEST]):
            yield target
            self._publish_export(target, log)

    def _publish(
        self, folder: Path, files: Iterable[str], replace_others: bool = False, log: Callable[[str], None] | None = None
    ) -> None:
        """After `folder/<files>` were written: hand them to the object store (none here)."""

    @contextlib.contextmanager
    def _writing(self, folder: Path, files: Iterable[str]) -> Iterator[None]:
        """Around writing `folder/<files>` locally (the object store locks them; none here).

        A disk that fills up anyway (the size guard's estimate is approximate) is one line, not an OSError.
        """
        try:
            yield
        except OSError as exc:
            if exc.errno not in (errno.ENOSPC, errno.EDQUOT):
                raise
            raise dg.Failure(
                description=f"{self.setting}: {self.path} is full ({exc.strerror}) while writing {folder}; "
                "allowed: a folder with room, or a smaller scenario",
                allow_retries=False,
            ) from None

    def export(self, scenario: Scenario, domain: str, pull: bool = True) -> Path:
        """Where a domain's files export lives. `pull`: for a reader, with an object store it is first
        brought up to date from it (the writer, export_writer, passes False); here there is none."""
        return self.path / "exports" / scenario.dataset_id / domain

    def _publish_export(self, folder: Path, log: Callable[[str], None] | None = None) -> None:
        """After the export was written whole in `folder`: hand it to the object store, manifest last (none here)."""


def env_var_if_set(name: str) -> dg.EnvVar | None:
    """`dg.EnvVar(name)` when the variable is set where the definitions load, else None.

    Only the variable's presence is read here; Dagster resolves its value when a run starts, so a
    secret never passes through module state. An unset optional setting stays at its default
    instead of failing the run (an unset `dg.EnvVar` is an error).
    """
    return dg.EnvVar(name) if name in os.environ else None
