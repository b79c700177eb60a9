"""The same pipeline as mock_pipeline.definitions, with the big tables generated as shards in parallel.

    dagster asset materialize -m mock_pipeline.definitions_partitioned --select 'group:commerce' \\
        --partition-range 00...07 -c mock_pipeline/scenarios/run_configs/large.yaml

Asset keys, checks and publishing assets are those of mock_pipeline.definitions; only the big
tables change (see mock_pipeline.partitions and docs/scaling.md). The executor runs the shard
steps in parallel: multiprocess here, k8s or celery in a deployment ($MOCK_PIPELINE_EXECUTOR).
"""

import logging
import os
from collections.abc import Mapping, Sequence

import dagster as dg

from mock_pipeline import definitions as unpartitioned
from mock_pipeline.domains.factory import Domain
from mock_pipeline.partitions import (
    DEFAULT_SHARDS,
    EXECUTOR_ENV,
    executor_problem,
    partitioned_domain_assets,
    shards_from_env,
)

# The unpartitioned location's gate (one executor wrapper, shared rather than copied).
from mock_pipeline.preflight import CheckedExecutor

# Tables that grow with products or orders (tens of millions of rows in the large preset).
# Small tables and derived analytics stay unpartitioned: one step each is cheaper than shards.
PARTITIONED_TABLES: Mapping[str, tuple[str, ...]] = {
    "commerce": (
        "products", "price_history", "orders", "order_items", "payments", "shipments", "returns", "reviews",
        "support_tickets",
    ),
}  # fmt: skip


@dg.executor(
    name=dg.multi_or_in_process_executor.name,
    config_schema=dg.multi_or_in_process_executor.config_schema,
    requirements=lambda config: dg.multiple_process_executor_requirements() if "multiprocess" in config else [],
)
def checked_multi_or_in_process_executor(init_context: dg.InitExecutorContext) -> dg.Executor:
    """Dagster's default executor (same name and config: multiprocess, or `in_process` by run config)
    with the run's gate in front: a bad run config or environment variable is refused in one
    message before any step starts, not by each step with a stack trace."""
    return CheckedExecutor(dg.multi_or_in_process_executor.executor_creation_fn(init_context))


def executor_from_env(name: str | None = None) -> dg.ExecutorDefinition:
    """multiprocess (default; run config may pick `in_process`), k8s (dagster-k8s) or celery (dagster-celery)."""
    name = name or os.environ.get(EXECUTOR_ENV) or "multiprocess"
    problem = executor_problem(name)
    if problem is not None:
        raise ValueError(problem)
    if name == "multiprocess":
        return checked_multi_or_in_process_executor
    if name == "k8s":
        from dagster_k8s import k8s_job_executor

        return k8s_job_executor
    from dagster_celery import celery_executor

    return celery_executor


def _from_env_or_default() -> tuple[int, dg.ExecutorDefinition]:
    """Shards and executor for loading the code location. A bad value must not become a traceback
    there: it is said in one line on stderr, the default stands in, and every run's first step is
    refused with the same line (settings.environment_problems)."""
    try:
        shards = shards_from_env()
    except ValueError as exc:
        logging.getLogger(__name__).warning(f"{exc} (the code location loads with {DEFAULT_SHARDS} shards)")
        shards = DEFAULT_SHARDS
    try:
        executor = executor_from_env()
    except ValueError as exc:
        logging.getLogger(__name__).warning(f"{exc} (the code location loads with the multiprocess executor)")
        executor = checked_multi_or_in_process_executor
    return shards, executor


def build_partitioned_definitions(
    base: dg.Definitions,
    domains: Sequence[Domain],
    shards: int | None = None,
    executor: dg.ExecutorDefinition | None = None,
    partitioned: Mapping[str, tuple[str, ...]] = PARTITIONED_TABLES,
) -> dg.Definitions:
    """`base` with the `partitioned` tables of `domains` replaced by shards and assembled tables.

    Assets, checks and resources carry over; jobs, schedules and sensors stay with the default
    code location (they target the unpartitioned layout).
    """
    shards = shards or shards_from_env()
    replaced: set[dg.AssetKey] = set()
    sharded: list[dg.AssetsDefinition] = []
    for domain in domains:
        tables = partitioned.get(domain.name, ())
        if tables:
            sharded += partitioned_domain_assets(domain, tables, shards)
            replaced |= {domain.key(t) for t in tables}
    kept = [a for a in base.assets or () if not (isinstance(a, dg.AssetsDefinition) and set(a.keys) & replaced)]
    # `dagster asset materialize --partition-range` runs a range in one run only if every selected
    # asset has a single-run policy; for unpartitioned assets it changes nothing else.
    single_run = dg.BackfillPolicy.single_run()
    kept = [
        a.with_attributes(backfill_policy=single_run)
        if isinstance(a, dg.AssetsDefinition) and a.partitions_def is None and a.backfill_policy is None
        else a
        for a in kept
    ]
    return dg.Definitions(
        assets=[*kept, *sharded],
        asset_checks=base.asset_checks,
        resources=base.resources,
        executor=executor or executor_from_env(),
    )


_shards, _executor = _from_env_or_default()
defs = build_partitioned_definitions(unpartitioned.defs, unpartitioned.DOMAINS, _shards, _executor)
