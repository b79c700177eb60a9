"""Rules of the data contract, checked in SQL by DuckDB straight from the Parquet tables.

The checks are written independently of the numpy generators, in a different language, so a
generator bug cannot hide behind its own arithmetic. DuckDB streams Parquet and spills to disk,
so whole-table rules (uniqueness, foreign keys, window functions) run in bounded memory.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from mock_pipeline.engine.table import TableSpec

MEMORY_LIMIT = "1GB"


@dataclass(frozen=True)
class Rule:
    """A rule on one table. `sql` selects one row with an integer column `violations` (0 = pass);
    other columns become check metadata. Table names are views over the domain's Parquet."""

    table: str
    name: str
    description: str
    sql: str
    blocking: bool = True


@dataclass(frozen=True)
class Outcome:
    rule: Rule
    passed: bool
    metadata: dict[str, Any]


def connect(dataset: Path, spill: Path | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with one view per table folder under `dataset`.

    Joins and aggregations over large tables spill to `spill` (default: a temporary folder)
    instead of failing when they outgrow the memory limit.
    """
    spill = spill or Path(tempfile.gettempdir()) / "mock_pipeline_duckdb_spill"
    spill.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(
        config={
            "memory_limit": MEMORY_LIMIT,
            "threads": 2,
            "preserve_insertion_order": False,
            "temp_directory": str(spill),
        }
    )
    for folder in sorted(p for p in dataset.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if not any(folder.glob("*.parquet")):
            continue  # being written by a parallel step (multiprocess executor): no table yet
        files = str(folder / "*.parquet").replace("'", "''")
        con.execute(f"CREATE VIEW \"{folder.name}\" AS SELECT * FROM read_parquet('{files}')")
    return con


def unique_key(table: str, key: str, scope: str | None = None) -> Rule:
    cols = f"{scope}, {key}" if scope else key
    where = f" per {scope}" if scope else ""
    return Rule(
        table,
        f"{key}_unique" if not scope else f"{key}_unique_per_{scope}",
        f"{key} is unique{where} and never null.",
        f"SELECT (count(*) - count(DISTINCT ({cols}))) + count(*) FILTER (WHERE {key} IS NULL) AS violations,"
        f" count(*) AS rows FROM {table}",
    )


def foreign_key(table: str, column: str, parent: str, parent_key: str, same: str | None = None) -> Rule:
    """Every non-null `column` names an existing parent row (and, with `same`, the same tenant)."""
    tenant = f" OR p.{same} <> c.{same}" if same else ""
    return Rule(
        table,
        f"{column}_references_{parent}",
        f"{table}.{column} points at an existing {parent} row" + (f" of the same {same}." if same else "."),
        f"SELECT count(*) AS violations FROM {table} c LEFT JOIN {parent} p ON c.{column} = p.{parent_key}"
        f" WHERE c.{column} IS NOT NULL AND (p.{parent_key} IS NULL{tenant})",
    )


def row_rule(table: str, name: str, description: str, where: str) -> Rule:
    """A row-level rule: the rows matching `where` are violations."""
    return Rule(
        table, name, description, f"SELECT count(*) FILTER (WHERE {where}) AS violations, count(*) AS rows FROM {table}"
    )


def in_window(table: str, *columns: str, window: str = "the scenario's date window") -> Rule:
    """Non-null `columns` lie in [{start}, {end}) (parameters the domain supplies)."""
    cond = " OR ".join(f"({c} IS NOT NULL AND ({c} < {{start}} OR {c} >= {{end}}))" for c in columns)
    return Rule(
        table,
        "timestamps_in_window",
        f"{', '.join(columns)} lie inside {window}.",
        f"SELECT count(*) FILTER (WHERE {cond}) AS violations FROM {table}",
    )


def key_rules(tables: Sequence[TableSpec], scope: str | None = None) -> list[Rule]:
    """Primary keys unique and non-null; every foreign key (and `scope`, e.g. tenant_id, when both
    tables carry it) pointing at an existing parent row of the same scope."""
    by_name = {t.name: t for t in tables}
    rules: list[Rule] = []
    for spec in tables:
        rules.append(unique_key(spec.name, spec.key))
        for column, parent in spec.foreign_keys:
            parent_spec = by_name[parent]
            same = scope if scope and scope in spec.columns and scope in parent_spec.columns else None
            rules.append(foreign_key(spec.name, column, parent, parent_spec.key, same=same))
    return rules


def run_rules(dataset: Path, rules: list[Rule], params: Mapping[str, Any]) -> Iterator[Outcome]:
    con = connect(dataset)
    try:
        for rule in rules:
            try:
                cursor = con.execute(rule.sql.format(**params))
            except duckdb.CatalogException as exc:
                # A table the rule reads was never materialised for this dataset.
                reason = str(exc).splitlines()[0]
                yield Outcome(rule, False, {"violations": -1, "error": f"{reason} (materialise the parents first)"})
                continue
            names = [d[0] for d in cursor.description]
            row = dict(zip(names, cursor.fetchone(), strict=True))
            violations = int(row.pop("violations") or 0)
            metadata = {"violations": violations, **{k: _plain(v) for k, v in row.items()}}
            yield Outcome(rule, violations == 0, metadata)
    finally:
        con.close()


def _plain(value: Any) -> Any:
    if isinstance(value, (int, float, str, bool)) or value is None:
        return value if not isinstance(value, float) else round(value, 6)
    return str(value)
