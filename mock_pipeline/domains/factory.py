"""Builds the Dagster assets and checks of a domain from its table specs and rules.

Every domain is a `Domain`: its tables (engine `TableSpec`s), a model factory (scenario -> the
domain's pure generator) and its rules. The wiring here is the same for all four domains.
"""

import os
import time
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg
import pyarrow as pa

from mock_pipeline.engine.table import PART_FILE, Progress, TableSpec, generate, read_ahead, write_parquet
from mock_pipeline.metadata import column_schema, preview_markdown
from mock_pipeline.resources import DataDirResource, ScenarioResource
from mock_pipeline.scenarios.model import Problem, Scenario, ScenarioError
from mock_pipeline.validation import Rule, coherence_rules, run_rules

OWNERS = ["team:data-platform"]
LOG_EVERY_SECONDS = 2.0
# Chunks are built on this many threads while the previous one is written (bytes do not change).
GENERATION_THREADS = min(4, os.cpu_count() or 1)


@dataclass(frozen=True)
class ReportLine:
    """One line of a domain's scenario report: what the profile asked for against what came out.

    `sql` selects one row with a numeric column `observed` (tables are views over the Parquet);
    `asked` is the profile's target, or None where the profile states no number.
    """

    metric: str
    asked: float | None
    sql: str


@dataclass(frozen=True)
class NamespaceProbe:
    """Rows of `table` whose `column` starts with `prefix` belong to one run (seed 000's run-tag namespace)."""

    table: str
    column: str
    prefix: str


# A domain's pre-load check: the namespaces a run would write, probed in a publishing target first.
NamespaceHook = Callable[[Scenario], Sequence[NamespaceProbe]]


@dataclass(frozen=True)
class Domain:
    """A domain's tables, model and rules. The coherence rules every table obeys by its declaration
    (dense keys, causal order, natural timestamps) are added to `rules` here, so none can be missed."""

    name: str
    tables: tuple[TableSpec, ...]
    model: Callable[[Scenario], Any]
    rules: tuple[Rule, ...] = ()
    # Values substituted into rule SQL ({start}, {end}, {anomaly_rate}, ...).
    rule_params: Callable[[Any], Mapping[str, Any]] = field(default=lambda model: {})
    # The scenario report's lines for a model (mock_pipeline.report).
    report: Callable[[Any], Sequence[ReportLine]] = field(default=lambda model: ())
    # Run-scoped domains: the namespaces a run owns. A database load refuses a run whose namespace another
    # dataset already holds, and the nightly staging refresh replaces it on purpose.
    namespace: NamespaceHook | None = None

    def __post_init__(self) -> None:
        declared = {(r.table, r.name) for r in self.rules}
        derived = tuple(r for r in coherence_rules(self.tables) if (r.table, r.name) not in declared)
        object.__setattr__(self, "rules", (*self.rules, *derived))

    def table(self, name: str) -> TableSpec:
        return next(t for t in self.tables if t.name == name)

    def key(self, table: str) -> dg.AssetKey:
        return dg.AssetKey([self.name, table])

    def lineage(self, table: str) -> list[str]:
        """The table and all its ancestors: what its rules and its derivation may read."""
        found: list[str] = []
        pending = [table]
        while pending:
            if (name := pending.pop()) not in found:
                found.append(name)
                pending.extend(self.table(name).parents)
        return found


# Keyed by the Domain object too: two MockDataset specs may share a name in one process.
_models: dict[tuple[str, int, str], Any] = {}


def model_for(domain: Domain, scenario: Scenario) -> Any:
    """One model per (domain, dataset) per process: pools and schedules are built once.

    A domain may reject a scenario it cannot honour (ScenarioError); that becomes the step's one
    clear line, raised before anything is written.
    """
    key = (domain.name, id(domain), scenario.dataset_id)
    if key not in _models:
        try:
            _models[key] = domain.model(scenario)
        except ScenarioError as exc:
            raise dg.Failure(description=str(exc), allow_retries=False) from None
    return _models[key]


# Every domain wired into this process's definitions: the run's first step builds each one's model,
# so a limit of any domain is reported with the scenario's problems, before the first table is written.
_wired: dict[str, Domain] = {}


def domain_problems(scenario: Scenario, domains: Collection[str] | None = None) -> list[Problem]:
    """The limits of the wired `domains` (None: all) that the scenario breaks."""
    problems: list[Problem] = []
    for domain in _wired.values():
        if domains is not None and domain.name not in domains:
            continue
        key = (domain.name, id(domain), scenario.dataset_id)
        if key not in _models:
            try:
                _models[key] = domain.model(scenario)
            except ScenarioError as exc:
                problems += exc.problems
    return problems


def materialize_table(
    domain: Domain, spec: TableSpec, scenario: Scenario, dataset: Path, log: Callable[[str], None] = lambda _: None
) -> tuple[int, pa.Table | None, Progress]:
    """Generate (or derive) one table into `dataset/<table>/part-00000.parquet`, logging progress."""
    model = model_for(domain, scenario)
    progress = Progress(spec.name, spec.slots(model))
    chunks = (
        read_ahead(spec.derive(model, dataset, scenario.chunk_size), name=f"derive-{spec.name}")
        if spec.derive is not None
        else generate(spec, model, scenario.chunk_size, workers=GENERATION_THREADS)
    )
    head: list[pa.Table] = []

    def tracked() -> Iterator[pa.Table]:
        last_log = 0.0
        for t in chunks:
            progress.advance(min(scenario.chunk_size, progress.total_slots - progress.slots_done), t.num_rows)
            if not head and t.num_rows:
                head.append(t.slice(0, 5))
            if time.perf_counter() - last_log >= LOG_EVERY_SECONDS or progress.slots_done >= progress.total_slots:
                log(progress.line())
                last_log = time.perf_counter()
            yield t

    rows = write_parquet(dataset / spec.name / PART_FILE, spec.schema, tracked())
    # Parts of an earlier partitioned run (mock_pipeline.partitions) would be read twice by globs.
    for stale in (dataset / spec.name).glob("*.parquet"):
        if stale.name != PART_FILE:
            stale.unlink()
    return rows, (head[0] if head else None), progress


def table_asset(domain: Domain, spec: TableSpec) -> dg.AssetsDefinition:
    @dg.asset(
        name=spec.name,
        key_prefix=[domain.name],
        group_name=domain.name,
        deps=[domain.key(p) for p in spec.parents],
        kinds={"python", "parquet"},
        owners=OWNERS,
        description=spec.description,
        tags={"domain": domain.name},
        metadata={"dagster/column_schema": column_schema(spec.schema, spec.column_descriptions)},
    )
    def _table(
        context: dg.AssetExecutionContext, scenario: ScenarioResource, data_dir: DataDirResource
    ) -> dg.MaterializeResult:
        resolved = scenario.resolve()
        # Only a derived table reads others (its ancestors): those come from the object store first, if any.
        reads = domain.lineage(spec.name)[1:] if spec.derive else ()
        with data_dir.table_writer(
            resolved, domain.name, spec.name, [PART_FILE], reads, log=context.log.info
        ) as dataset:
            rows, head, progress = materialize_table(domain, spec, resolved, dataset, context.log.info)
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": rows,
                "dagster/column_schema": column_schema(spec.schema, spec.column_descriptions),
                "dagster/uri": str(dataset / spec.name),
                "preview": dg.MetadataValue.md(preview_markdown(head, spec.schema)),
                "seconds": round(progress.elapsed, 3),
                "rows_per_second": round(progress.rows_per_second),
                "dataset_id": resolved.dataset_id,
                "profile": resolved.profile.name,
            }
        )

    return _table


def table_checks(domain: Domain, spec: TableSpec) -> dg.AssetChecksDefinition | None:
    rules = [r for r in domain.rules if r.table == spec.name]
    if not rules:
        return None
    key = domain.key(spec.name)

    @dg.multi_asset_check(
        name=f"{domain.name}_{spec.name}_rules",
        specs=[
            dg.AssetCheckSpec(
                r.name,
                asset=key,
                blocking=r.blocking,
                description=r.description,
                additional_deps=[domain.key(p) for p in spec.parents],
            )
            for r in rules
        ],
    )
    def _checks(scenario: ScenarioResource, data_dir: DataDirResource) -> Iterator[dg.AssetCheckResult]:
        resolved = scenario.resolve()
        params = domain.rule_params(model_for(domain, resolved))
        dataset = data_dir.dataset(resolved, domain.name, tables=domain.lineage(spec.name))
        for outcome in run_rules(dataset, rules, params):
            yield dg.AssetCheckResult(
                check_name=outcome.rule.name,
                asset_key=key,
                passed=outcome.passed,
                severity=dg.AssetCheckSeverity.ERROR,
                metadata=outcome.metadata,
            )

    return _checks


def domain_definitions(domain: Domain) -> tuple[list[dg.AssetsDefinition], list[dg.AssetChecksDefinition]]:
    _wired[domain.name] = domain
    assets = [table_asset(domain, spec) for spec in domain.tables]
    checks = [c for spec in domain.tables if (c := table_checks(domain, spec)) is not None]
    return assets, checks
