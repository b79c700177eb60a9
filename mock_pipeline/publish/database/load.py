"""Load a domain into a target all or nothing, and clean up only what the load created."""

import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.parquet as pq

from mock_pipeline.domains.factory import NamespaceProbe
from mock_pipeline.engine.table import TableSpec
from mock_pipeline.publish.database.errors import LoadError, LoadRefused
from mock_pipeline.publish.database.guard import (
    CLEANUP_COMMAND,
    CONFIRM_TOKEN,
    DEFAULT_MAX_ROWS_PER_TABLE,
    MOCK_SCHEMA,
    REGISTRY_TABLE,
    Registry,
    check_environment,
    check_row_limits,
    check_schema,
    not_ours,
    views_in_the_way,
)
from mock_pipeline.publish.database.target import Target, parent_key, sql_type, table_name


@dataclass(frozen=True)
class LoadOptions:
    schema: str = MOCK_SCHEMA
    allow_other_schema: bool = False
    max_rows_per_table: int = DEFAULT_MAX_ROWS_PER_TABLE


@dataclass
class LoadResult:
    target: str  # never carries a password
    backend: str
    schema: str
    tables: dict[str, int] = field(default_factory=dict)  # qualified table -> rows
    seconds: float = 0.0

    @property
    def rows(self) -> int:
        return sum(self.tables.values())


@dataclass
class CleanupResult:
    target: str
    schema: str
    dropped: dict[str, int] = field(default_factory=dict)  # qualified table -> rows removed
    schema_dropped: bool = False
    kept: list[str] = field(default_factory=list)  # why something was left in place


def parquet_rows(folder: Path) -> int:
    """Rows of a Parquet table from its footers, without reading data."""
    return sum(pq.ParquetFile(f).metadata.num_rows for f in sorted(folder.glob("*.parquet")))


# --- column types ----------------------------------------------------------------------------


def _first_lines(text: str, lines: int = 3) -> str:
    return " | ".join(line.strip() for line in text.strip().splitlines()[:lines] if line.strip())


def load_domain(
    target: Target,
    domain: str,
    tables: Sequence[TableSpec],
    dataset: Path,
    options: LoadOptions = LoadOptions(),
    namespace: Sequence[NamespaceProbe] = (),
    env: Mapping[str, str] | None = None,
    log: Callable[[str], None] = lambda _: None,
    dataset_id: str = "",
) -> LoadResult:
    """Replace the domain's tables in `options.schema` with the dataset's, all or nothing.

    Only tables the load itself created (listed in the schema's registry) are replaced, without
    CASCADE; a table of the same name that someone else made is refused, as is a run-tag namespace
    that another dataset already holds. Raises LoadRefused before anything is written, or LoadError
    after a rollback.
    """
    check_environment(os.environ if env is None else env)
    check_schema(options.schema, options.allow_other_schema)
    missing = [t.name for t in tables if not any((dataset / t.name).glob("*.parquet"))]
    if missing:
        raise LoadRefused(f"tables not materialised yet under {dataset}: {', '.join(missing)}")
    counts = {t.name: parquet_rows(dataset / t.name) for t in tables}
    check_row_limits(counts, options.max_rows_per_table)
    specs = {t.name: t for t in tables}
    for spec in tables:  # bad types or dangling references are refused before connecting
        for f in spec.schema:
            sql_type(f, target.backend)
        for _, parent in spec.foreign_keys:
            parent_key(specs, spec.name, parent)

    schema = options.schema
    result = LoadResult(target=target.description, backend=target.backend, schema=schema)
    started = time.perf_counter()
    step = "opening a transaction"
    try:
        with target.transaction() as session:
            step = f"reading {schema}.{REGISTRY_TABLE}"
            registry = Registry(session, schema)
            schema_existed = session.schema_exists(schema)
            ours = registry.entries() if schema_existed else {}
            names = [table_name(domain, spec.name) for spec in tables]
            foreign = [n for n in names if ("table", n) not in ours and session.table_exists(schema, n)]
            if foreign:
                raise not_ours(target, schema, foreign)
            for probe in namespace:
                name = table_name(domain, probe.table)
                step = f"checking namespace {probe.prefix!r} in {schema}.{name}"
                owner = ours.get(("table", name))
                if owner is None or owner.dataset_id == dataset_id or not session.table_exists(schema, name):
                    continue  # the same dataset re-materialised replaces its own namespace
                if n := session.count(schema, name, probe.column, probe.prefix):
                    raise LoadRefused(
                        f"{domain}: namespace {probe.prefix!r} already exists in {target.description} "
                        f"({n:,} rows of {schema}.{name}.{probe.column} start with it, loaded by dataset "
                        f"{owner.dataset_id}; this run is {dataset_id or 'another dataset'}); choose another "
                        f"run_tag or run the mock_data_cleanup job first: {CLEANUP_COMMAND} "
                        f"(cleanup.yaml: ops: {{delete_all_mock_data: {{config: {{confirm: {CONFIRM_TOKEN}}}}}}})"
                    )
            step = "looking for views built on the previous tables"
            replaced = [n for n in names if ("table", n) in ours and session.table_exists(schema, n)]
            if dependents := session.dependent_views(schema, replaced):
                raise views_in_the_way(
                    target,
                    schema,
                    dependents,
                    f"load of {domain} refused",
                    "drop the view, load, then re-create it (or load into another target_schema); nothing was written",
                )
            step = f"creating schema {schema}"
            if not schema_existed:
                session.execute(f"CREATE SCHEMA {session.schema_ref(schema)}")
            registry.create()
            if not schema_existed:
                registry.record("schema", schema, domain, dataset_id)
            for spec in reversed(tables):  # children first: a parent with children cannot be dropped
                name = table_name(domain, spec.name)
                if ("table", name) in ours and session.table_exists(schema, name):
                    step = f"dropping the previous {schema}.{name}"
                    session.drop_table(schema, name)
            for spec in tables:
                name = table_name(domain, spec.name)
                step = f"loading {schema}.{name}"
                table_started = time.perf_counter()
                rows = session.load_table(schema, domain, spec, dataset / spec.name, specs)
                if rows != counts[spec.name]:
                    raise LoadError(f"{schema}.{name}: loaded {rows:,} rows, the Parquet has {counts[spec.name]:,}")
                registry.record("table", name, domain, dataset_id)
                result.tables[f"{schema}.{name}"] = rows
                log(f"{schema}.{name}: {rows:,} rows in {time.perf_counter() - table_started:.2f} s")
            step = "declaring primary and foreign keys"
            keys_started = time.perf_counter()
            session.add_keys(schema, domain, tables, specs)
            log(f"{domain}: keys declared and validated in {time.perf_counter() - keys_started:.2f} s")
            step = "committing"
    except (LoadRefused, LoadError):
        raise
    except Exception as exc:
        message = _first_lines(target.redact(str(exc)))
        raise LoadError(
            f"{domain}: load into {target.description} failed while {step}: {message}; rolled back, nothing was written"
        ) from None
    result.seconds = time.perf_counter() - started
    log(f"{domain}: {result.rows:,} rows in {len(result.tables)} tables into {target.description} "
        f"schema {schema} in {result.seconds:.2f} s")  # fmt: skip
    return result


def cleanup(
    target: Target,
    domains: Sequence[tuple[str, Sequence[TableSpec]]],
    confirm: str,
    schema: str = MOCK_SCHEMA,
    allow_other_schema: bool = False,
    env: Mapping[str, str] | None = None,
) -> CleanupResult:
    """Drop the domain tables that the registry of `schema` lists, then the registry, then the
    schema if the load created it and nothing else is left in it. Never CASCADE, never anything
    the registry does not list.

    Only with the confirmation token (seed 001); the environment and schema guard apply too.
    """
    if confirm != CONFIRM_TOKEN:
        raise LoadRefused(
            f"cleanup refused: confirm must be exactly {CONFIRM_TOKEN!r} (got {confirm!r}); nothing was deleted"
        )
    check_environment(os.environ if env is None else env)
    check_schema(schema, allow_other_schema)
    result = CleanupResult(target=target.description, schema=schema)
    try:
        with target.transaction() as session:
            if not session.schema_exists(schema):
                return result
            registry = Registry(session, schema)
            ours = registry.entries()
            dropped = [
                name
                for domain, tables in domains
                for spec in tables
                if ("table", name := table_name(domain, spec.name)) in ours and session.table_exists(schema, name)
            ]
            if dependents := session.dependent_views(schema, dropped):
                raise views_in_the_way(
                    target, schema, dependents, "cleanup refused", "drop the view first; nothing was deleted"
                )
            for domain, tables in reversed(domains):
                for spec in reversed(tables):
                    name = table_name(domain, spec.name)
                    if ("table", name) not in ours:
                        if session.table_exists(schema, name):
                            result.kept.append(f"{schema}.{name}: not created by mock_pipeline")
                        continue
                    if session.table_exists(schema, name):
                        result.dropped[f"{schema}.{name}"] = session.count(schema, name)
                        session.drop_table(schema, name)
                    registry.forget("table", name)
                    del ours[("table", name)]
            if registry.exists() and not [k for k in ours if k[0] == "table"]:
                session.drop_table(schema, REGISTRY_TABLE)
                if ("schema", schema) in ours:
                    # Only a schema the load created, and only when nothing at all is left in it.
                    result.schema_dropped = session.drop_schema_if_empty(schema)
                    if not result.schema_dropped:
                        result.kept.append(f"schema {schema}: holds objects mock_pipeline did not create")
                        registry.create()
                        registry.record("schema", schema, ours[("schema", schema)].domain, "")
    except (LoadRefused, LoadError):
        raise
    except Exception as exc:
        raise LoadError(
            f"cleanup of {target.description} failed: {_first_lines(target.redact(str(exc)))}; "
            "rolled back, nothing was deleted"
        ) from None
    return result
