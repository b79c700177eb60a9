"""Partitioned generation: a domain's big tables made as row-range shards by Dagster's executors.

Per domain, two layers replace the big tables' assets (see docs/scaling.md):

- `[domain, "parts", table]` for every partitioned table: ONE graph-backed multi-asset,
  partitioned by shard ("00" .. N-1) with a single-run backfill policy. A run over a partition
  range fans out one step per shard (dynamic outputs), and each step writes that shard of every
  selected table. The multiprocess executor runs the steps in parallel processes, the k8s or
  celery executor on other machines. Generation never reads another table (rows are pure
  functions of their index), so parts have no deps: every shard of every table can run at once.
- `[domain, table]`: the assembled table, unpartitioned, with the same key, deps and checks as
  in the unpartitioned definitions. It checks that every shard is there, removes parts of any
  other layout and reports row count, schema and preview from Parquet footers (no data is
  copied). Whole-table checks target it, so they run once, streaming over `<table>/*.parquet`.
"""

import importlib.util
import os
import time
from collections.abc import Iterator, Sequence
from typing import Any

import dagster as dg

from mock_pipeline.domains.factory import OWNERS, Domain, model_for
from mock_pipeline.engine.shards import MAX_SHARDS, MissingParts, assemble, part_name, shard_keys, write_shard
from mock_pipeline.metadata import column_schema, preview_markdown
from mock_pipeline.resources import DataDirResource, ScenarioResource

SHARDS_ENV = "MOCK_PIPELINE_SHARDS"
DEFAULT_SHARDS = 8
PARTS = "parts"


EXECUTOR_ENV = "MOCK_PIPELINE_EXECUTOR"
EXECUTORS = ("multiprocess", "k8s", "celery")


def shards_problem(raw: str) -> str | None:
    """Why `raw` is not a shard count (one line naming the variable), or None."""
    if raw.isdigit() and 1 <= int(raw) <= MAX_SHARDS:
        return None
    return f"{SHARDS_ENV}: {raw!r} is not a shard count; allowed: an integer from 1 to {MAX_SHARDS}"


def executor_problem(name: str) -> str | None:
    """Why `name` is not a usable executor here (unknown, or its package missing), or None."""
    if name not in EXECUTORS:
        return f"{EXECUTOR_ENV}: unknown executor {name!r}; allowed: {', '.join(EXECUTORS)}"
    # find_spec imports nothing: checking is cheap even where the executor is never used.
    if name != "multiprocess" and importlib.util.find_spec(f"dagster_{name}") is None:
        return f"{EXECUTOR_ENV}={name} needs the dagster-{name} package: pip install 'mock_pipeline[cluster]'"
    return None


def shards_from_env() -> int:
    """The shard count of the partitioned definitions: $MOCK_PIPELINE_SHARDS, default 8.

    It fixes the partition keys, so every process of a deployment must see the same value.
    """
    raw = os.environ.get(SHARDS_ENV) or str(DEFAULT_SHARDS)
    problem = shards_problem(raw)
    if problem is not None:
        raise ValueError(problem)
    return int(raw)


def shard_partitions(shards: int) -> dg.StaticPartitionsDefinition:
    return dg.StaticPartitionsDefinition(shard_keys(shards))


def parts_key(domain: Domain, table: str) -> dg.AssetKey:
    return dg.AssetKey([domain.name, PARTS, table])


def _ordered(domain: Domain, tables: Sequence[str]) -> list[str]:
    """The tables in the domain's (topological) order; unknown names are a definition error."""
    unknown = sorted(set(tables) - {t.name for t in domain.tables})
    if unknown:
        raise ValueError(f"{domain.name}: no table named {', '.join(unknown)}")
    derived = [t for t in tables if domain.table(t).build is None]
    if derived:
        raise ValueError(f"{domain.name}: derived tables cannot be sharded: {', '.join(derived)}")
    return [t.name for t in domain.tables if t.name in set(tables)]


def domain_parts_asset(domain: Domain, tables: Sequence[str], shards: int) -> dg.AssetsDefinition:
    """One partitioned multi-asset holding the shards of all of a domain's partitioned tables."""
    names = _ordered(domain, tables)
    keys = shard_keys(shards)
    table_of_key = {parts_key(domain, t): t for t in names}

    @dg.op(name=f"{domain.name}_plan_shards", out=dg.DynamicOut(str))
    def plan_shards(context: dg.OpExecutionContext, scenario: ScenarioResource) -> Iterator[dg.DynamicOutput[str]]:
        scenario.resolve()  # bad config fails here, before any shard is written
        for key in context.partition_keys:
            yield dg.DynamicOutput(key, mapping_key=f"shard_{key}")

    @dg.op(name=f"{domain.name}_generate_shard")
    def generate_shard(
        context: dg.OpExecutionContext, shard: str, scenario: ScenarioResource, data_dir: DataDirResource
    ) -> dict[str, Any]:
        """Write shard `shard` of every selected table; one such step per shard, in parallel."""
        resolved = scenario.resolve()
        model = model_for(domain, resolved)
        selected = {table_of_key[k] for k in context.selected_asset_keys if k in table_of_key}
        rows: dict[str, int] = {}
        part = part_name(keys.index(shard), shards)
        dataset = data_dir.dataset(resolved, domain.name, tables=())  # generation reads no table
        for table in (t for t in names if t in selected):
            started = time.perf_counter()
            # Other shards' parts stay: only this part is the step's, in the store too.
            writer = data_dir.table_writer(
                resolved, domain.name, table, [part], replace_others=False, log=context.log.info
            )
            with writer as written:
                rows[table] = write_shard(
                    domain.table(table), model, resolved.chunk_size, written / table, keys.index(shard), shards
                )
            seconds = time.perf_counter() - started
            context.log.info(f"{table} shard {shard}/{shards}: {rows[table]:,} rows in {seconds:.1f} s")
        return {"shard": shard, "rows": rows, "dataset": str(dataset), "dataset_id": resolved.dataset_id}

    @dg.op(
        name=f"{domain.name}_record_shards",
        out={t: dg.Out(dg.Nothing, is_required=False) for t in names},
    )
    def record_shards(context: dg.OpExecutionContext, results: list[dict[str, Any]]) -> Iterator[dg.Output]:
        """Mark the parts materialised, with each shard's row count (run metadata covers its partitions).

        Optional outputs emitted explicitly: this is an op, and only the selected subset may be emitted.
        """
        results = sorted(results, key=lambda r: r["shard"])
        for table in names:
            if table not in context.selected_output_names:
                continue
            by_shard = {r["shard"]: r["rows"][table] for r in results}
            context.add_output_metadata(
                {
                    "rows_by_shard": dg.MetadataValue.json(by_shard),
                    "rows_in_run": sum(by_shard.values()),
                    "shards": shards,
                    "dagster/uri": os.path.join(results[0]["dataset"], table) if results else "",
                    "dataset_id": results[0]["dataset_id"] if results else "",
                },
                output_name=table,
            )
            yield dg.Output(None, output_name=table)

    @dg.graph_multi_asset(
        name=f"{domain.name}_parts",
        group_name=domain.name,  # graph assets take the group here, not from AssetOut
        outs={
            t: dg.AssetOut(
                key=parts_key(domain, t),
                dagster_type=dg.Nothing,
                kinds={"python", "parquet"},
                owners=OWNERS,
                description=f"Row-range shards of {domain.name}.{t}, one Parquet part per partition.",
                tags={"domain": domain.name, "layer": PARTS},
            )
            for t in names
        },
        partitions_def=shard_partitions(shards),
        # A partition range runs as one run whose steps fan out per shard: CLI ranges work, and the
        # executor (not a home-made pool) decides how many shards run at once and where.
        backfill_policy=dg.BackfillPolicy.single_run(),
        can_subset=True,
    )
    def parts() -> Any:
        return record_shards(plan_shards().map(generate_shard).collect())

    return parts


def domain_assembled_asset(domain: Domain, tables: Sequence[str], shards: int) -> dg.AssetsDefinition:
    """The partitioned tables as whole tables: same keys and deps as the unpartitioned assets."""
    names = _ordered(domain, tables)
    by_key = {domain.key(t): domain.table(t) for t in names}

    @dg.multi_asset(
        name=f"{domain.name}_assembled_tables",
        specs=[
            dg.AssetSpec(
                domain.key(spec.name),
                deps=[parts_key(domain, spec.name), *(domain.key(p) for p in spec.parents)],
                group_name=domain.name,
                kinds={"python", "parquet"},
                owners=OWNERS,
                description=spec.description,
                tags={"domain": domain.name},
                skippable=True,
            )
            for spec in by_key.values()
        ],
        can_subset=True,
        backfill_policy=dg.BackfillPolicy.single_run(),
    )
    def assembled_tables(
        context: dg.AssetExecutionContext, scenario: ScenarioResource, data_dir: DataDirResource
    ) -> Iterator[dg.MaterializeResult]:
        resolved = scenario.resolve()
        selected = [spec for key, spec in by_key.items() if key in context.selected_asset_keys]
        with data_dir.reading(resolved, domain.name, [spec.name for spec in selected]) as dataset:
            # Every selected table must be complete before any folder is touched.
            problems = []
            for spec in selected:
                missing = [k for k in range(shards) if not (dataset / spec.name / part_name(k, shards)).exists()]
                if missing:
                    problems.append(str(MissingParts(spec.name, missing, shards)))
        if problems:
            raise dg.Failure(description="; ".join(problems), allow_retries=False)
        for spec in selected:
            # The object store, if any, drops other layouts too, so it never shows a row twice.
            layout = [part_name(k, shards) for k in range(shards)]
            with data_dir.table_writer(resolved, domain.name, spec.name, layout, log=context.log.info) as dataset:
                table = assemble(spec, dataset / spec.name, shards)
            yield dg.MaterializeResult(
                asset_key=domain.key(spec.name),
                metadata={
                    "dagster/row_count": table.rows,
                    "dagster/column_schema": column_schema(spec.schema, spec.column_descriptions),
                    "dagster/uri": str(dataset / spec.name),
                    "preview": dg.MetadataValue.md(preview_markdown(table.head, spec.schema)),
                    "parts": table.parts,
                    "dataset_id": resolved.dataset_id,
                    "profile": resolved.profile.name,
                },
            )

    return assembled_tables


def partitioned_domain_assets(domain: Domain, tables: Sequence[str], shards: int) -> list[dg.AssetsDefinition]:
    return [domain_parts_asset(domain, tables, shards), domain_assembled_asset(domain, tables, shards)]
