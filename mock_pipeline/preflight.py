"""The run's gate: a run config is checked once, before any step starts, and every problem is reported
in one message (one line each) instead of one stack trace per root step.

`run_problems` is what a run is refused for: the scenario (size guard included), the files export
options, the environment variables, each wired domain's limits and the data folder's room. The
scenario sensor calls it on each file; `checked_in_process_executor` calls it when a run starts,
then runs the steps in-process exactly as `dg.in_process_executor` does. Each step still resolves
the scenario itself (`ScenarioResource.resolve`), so a run on another executor is refused by its
first step with the same lines.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterator, Mapping
from typing import Any

import dagster as dg
from pydantic import ValidationError

from mock_pipeline.resources import DataDirResource, ScenarioResource, run_config_message
from mock_pipeline.scenarios.model import Problem
from mock_pipeline.toggle import disabled_reason

SCENARIO_RESOURCE = "scenario"


def _config(run_config: Mapping[str, Any], resource: str, problems: list[Problem]) -> dict[str, Any]:
    """A resource's config as the run will see it: `{env: NAME}` values read from the environment
    (Dagster's StringSource/IntSource; pydantic turns "7" into 7 for an int field)."""
    resources = run_config.get("resources") or {}
    config = dict(((resources.get(resource) or {}).get("config")) or {})
    for key, value in list(config.items()):
        if isinstance(value, Mapping) and set(value) == {"env"}:
            name = str(value["env"])
            if name in os.environ:
                config[key] = os.environ[name]
            else:
                problems.append(Problem(f"{resource}.{key}", f"environment variable {name} is not set"))
                del config[key]
    return config


def embedded_publishing() -> set[str]:
    """The publishing assets whose resource is, in this environment, the embedded default writing under
    the data folder (the same choice the definitions make from the environment)."""
    from mock_pipeline.publish.database.resources import DuckDBDatabase, database_resource
    from mock_pipeline.publish.http import OutboxHttpUploadResource, http_upload_from_env
    from mock_pipeline.publish.vectors.resources import LanceDBVectorStoreResource, vector_store_from_env

    embedded = {
        "database_tables": isinstance(database_resource(), DuckDBDatabase),
        "http_upload": isinstance(http_upload_from_env(), OutboxHttpUploadResource),
        "vector_index": isinstance(vector_store_from_env(), LanceDBVectorStoreResource),
    }
    return {asset for asset, local in embedded.items() if local}


def run_problems(
    run_config: Mapping[str, Any],
    domains: Collection[str] | None = None,
    published: Mapping[str, Collection[str]] | None = None,
) -> list[Problem]:
    """Everything a run with `run_config` would be refused for (after Dagster accepted its types);
    the disk must have room for the `domains` the run makes (None: all) and for the files of the
    embedded publishing defaults it publishes to (`published`: per domain, those assets).
    MOCK_DATA_ENABLED is the caller's (a switch, not a bad value)."""
    unset: list[Problem] = []
    scenario_config = _config(run_config, SCENARIO_RESOURCE, unset)
    root = _config(run_config, "data_dir", unset).get("root")
    if unset:
        return unset
    try:
        scenario_resource = ScenarioResource(**scenario_config)
    except ValidationError as exc:  # a value Dagster's types let through and pydantic does not
        return [Problem(f"scenario.{'.'.join(map(str, e['loc']))}", e["msg"]) for e in exc.errors()]
    scenario, problems = scenario_resource.check(run_config, domains)
    if scenario is not None:
        # Only the folder matters here; the data_dir resource's other settings are the store's.
        room = DataDirResource(root=root).room_problem(scenario, domains, published)
        problems += [room] if room is not None else []
    return problems


class CheckedExecutor(dg.Executor):
    """Refuses a bad run config before the first step, then delegates to the executor it wraps."""

    def __init__(self, inner: dg.Executor) -> None:
        self._inner = inner

    @property
    def retries(self) -> Any:
        return self._inner.retries

    def execute(self, plan_context: Any, execution_plan: Any) -> Iterator[Any]:
        refusal = self._refusal(plan_context, execution_plan)
        if refusal is not None:
            raise dg.Failure(description=refusal, allow_retries=False)
        yield from self._inner.execute(plan_context, execution_plan)

    @staticmethod
    def _refusal(plan_context: Any, execution_plan: Any) -> str | None:
        """Why the run must not start, or None; only for jobs whose steps use the scenario."""
        job = plan_context.job.get_definition()
        # Ops inside graph-backed assets too (the partitioned location's shard steps): a graph has no resource keys.
        if not any(SCENARIO_RESOURCE in op.required_resource_keys for op in job.graph.iterate_op_defs()):
            return None  # mock_data_cleanup and the like: nothing to check
        # Seed 001's toggle first: with mock data switched off nothing else matters.
        reason = disabled_reason()
        if reason is not None:
            return reason
        # A run launched without config gets the job's own (a profile job's run config).
        run_config = plan_context.run_config or {}
        if not run_config.get("resources") and isinstance(job.run_config, Mapping):
            run_config = job.run_config
        # Asset steps are named <domain>__<table>: the disk needs room for those domains only.
        steps = [key.split("__", 1) for key in execution_plan.step_keys_to_execute if "__" in key]
        domains = {domain for domain, _ in steps}
        embedded = embedded_publishing()
        published: dict[str, set[str]] = {}
        for domain, asset in steps:
            if asset in embedded:
                published.setdefault(domain, set()).add(asset)
        problems = run_problems(run_config, domains, published)
        return run_config_message(problems) if problems else None


@dg.executor(name="in_process", config_schema=dg.in_process_executor.config_schema)
def checked_in_process_executor(init_context: dg.InitExecutorContext) -> dg.Executor:
    """`dg.in_process_executor` (same name and config) with the run's gate in front."""
    return CheckedExecutor(dg.in_process_executor.executor_creation_fn(init_context))
