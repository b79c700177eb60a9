"""Rules of the data contract, checked in SQL by DuckDB straight from the Parquet tables.

The checks are written independently of the numpy generators, in a different language, so a
generator bug cannot hide behind its own arithmetic. DuckDB streams Parquet and spills to disk,
so whole-table rules (uniqueness, foreign keys, window functions) run in bounded memory.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.types as pa_types

from mock_pipeline.engine.table import TableSpec

MEMORY_LIMIT = "1GB"
POSITIONS = "__positions"  # suffix of the view that adds each row's file and position


@dataclass(frozen=True)
class Rule:
    """A rule on one table. `sql` selects one row with an integer column `violations` (0 = pass);
    other columns become check metadata. Table names are views over the domain's Parquet."""

    table: str
    name: str
    description: str
    sql: str
    blocking: bool = True
    # A cheaper query whose 0 violations proves the rule; when it finds any, `sql` decides.
    proof: str | None = None


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
            "threads": os.cpu_count() or 1,
            "preserve_insertion_order": False,
            "temp_directory": str(spill),
        }
    )
    for folder in sorted(p for p in dataset.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if not any(folder.glob("*.parquet")):
            continue  # being written by a parallel step (multiprocess executor): no table yet
        files = str(folder / "*.parquet").replace("'", "''")
        con.execute(f"CREATE VIEW \"{folder.name}\" AS SELECT * FROM read_parquet('{files}')")
        # Each row with its file and its row number in that file, for positional proofs.
        con.execute(
            f"CREATE VIEW \"{folder.name}{POSITIONS}\" AS SELECT * FROM read_parquet('{files}', filename = true,"
            " file_row_number = true)"
        )
    return con


def keys_are_positions(table: str, key: str) -> str:
    """A proof that `key` is unique, never null and dense: every row's key is its position 1..n
    across the table's files in name order (how the writers number rows). One pass and a group
    per file, where counting distinct keys holds every key in memory; a table whose keys are
    unique but out of file order fails the proof and is judged by the rule's own query."""
    return (
        f"WITH f AS (SELECT filename, count(*) AS n, count({key}) AS keyed, min({key} - file_row_number) AS lo,"
        f" max({key} - file_row_number) AS hi FROM {table}{POSITIONS} GROUP BY filename),"
        " o AS (SELECT *, sum(n) OVER (ORDER BY filename) - n AS base FROM f)"
        " SELECT count(*) FILTER (WHERE keyed <> n OR lo IS DISTINCT FROM base + 1 OR hi IS DISTINCT FROM base + 1)"
        " AS violations, coalesce(sum(n), 0) AS rows FROM o"
    )


def unique_key(table: str, key: str, scope: str | None = None, positional: bool = False) -> Rule:
    """`key` unique (per `scope`) and never null; `positional`: an integer key the writer numbers
    1..n in file order, first tried by the cheaper positional proof."""
    cols = f"{scope}, {key}" if scope else key
    where = f" per {scope}" if scope else ""
    return Rule(
        table,
        f"{key}_unique" if not scope else f"{key}_unique_per_{scope}",
        f"{key} is unique{where} and never null.",
        f"SELECT (count(*) - count(DISTINCT ({cols}))) + count(*) FILTER (WHERE {key} IS NULL) AS violations,"
        f" count(*) AS rows FROM {table}",
        proof=keys_are_positions(table, key) if positional and not scope else None,
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


# A month may hold this many times its share of the window's days (a short window's busy season).
MONTH_DAYS_FACTOR = 1.5


def months_balanced(table: str, column: str, what: str) -> Rule:
    """No month dominates the table's activity (catalog, "Time fits the calendar"); `{start}` and `{end}`
    are the window the domain supplies."""
    return Rule(
        table,
        "months_balanced",
        f"No calendar month holds more than 35% of the {what} of a history of six months or more (50% if shorter),"
        f" nor more than {MONTH_DAYS_FACTOR:g}x its share of the window's days where that is more (a window of 2 to"
        " 5 months can have one month cover most of its days; in a window of 6 months or more it never raises 35%;"
        " a month covering 2/3 of the window's days is not checked).",
        f"WITH m AS (SELECT date_trunc('month', {column}) AS month, count(*) AS n FROM {table} GROUP BY 1),"
        " h AS (SELECT date_diff('month', {start}, {end} - INTERVAL 1 SECOND) + 1 AS months,"
        " epoch({end}) - epoch({start}) AS window_seconds),"
        " s AS (SELECT m.n / sum(m.n) OVER () AS share, h.months, (epoch(least(m.month + INTERVAL 1 MONTH, {end}))"
        " - epoch(greatest(m.month, {start}))) / h.window_seconds AS day_share FROM m, h)"
        f" SELECT count(*) FILTER (WHERE (months >= 6 AND share > greatest(0.35, {MONTH_DAYS_FACTOR} * day_share))"
        f" OR (months BETWEEN 2 AND 5 AND share > greatest(0.5, {MONTH_DAYS_FACTOR} * day_share))) AS violations,"
        " max(share) AS busiest_month_share, max(months) AS window_months FROM s",
    )


def key_rules(tables: Sequence[TableSpec], scope: str | None = None) -> list[Rule]:
    """Primary keys unique and non-null; every foreign key (and `scope`, e.g. tenant_id, when both
    tables carry it) pointing at an existing parent row of the same scope."""
    by_name = {t.name: t for t in tables}
    rules: list[Rule] = []
    for spec in tables:
        rules.append(unique_key(spec.name, spec.key, positional=pa_types.is_integer(spec.schema.field(spec.key).type)))
        for column, parent in spec.foreign_keys:
            parent_spec = by_name[parent]
            same = scope if scope and scope in spec.columns and scope in parent_spec.columns else None
            rules.append(foreign_key(spec.name, column, parent, parent_spec.key, same=same))
    return rules


def run_rules(dataset: Path, rules: list[Rule], params: Mapping[str, Any], combine: bool = True) -> Iterator[Outcome]:
    """Each rule's outcome, in the order of `rules`.

    With `combine`, the rules that are one aggregate pass over their own table (no join, WHERE or
    GROUP BY: keys, row rules, windows, dense keys, ...) are answered together by one scan per table,
    each still reported on its own; the others (joins, windows, whole-table comparisons) run as written.
    """
    con = connect(dataset)
    try:
        sql = {id(rule): rule.sql.format(**params) for rule in rules}
        answered = _proved(con, rules)
        if combine:
            unproved = [rule for rule in rules if id(rule) not in answered]
            for batch in _scan_batches(con, unproved, sql).values():
                if len(batch) > 1:
                    answered.update(_run_scan(con, batch, sql))
        for rule in rules:
            yield answered.get(id(rule)) or _run_one(con, rule, sql[id(rule)])
    finally:
        con.close()


def _proved(con: duckdb.DuckDBPyConnection, rules: Sequence[Rule]) -> dict[int, Outcome]:
    """The rules whose proof finds no violation (each distinct proof runs once), as passed."""
    results: dict[str, dict[str, Any] | None] = {}
    outcomes: dict[int, Outcome] = {}
    for rule in rules:
        if rule.proof is None:
            continue
        if rule.proof not in results:
            try:
                cursor = con.execute(rule.proof)
                row = dict(zip((d[0] for d in cursor.description), cursor.fetchone(), strict=True))
            except duckdb.Error:
                row = None  # e.g. a table not materialised: the rule's own query reports it
            results[rule.proof] = row if row is not None and not row["violations"] else None
        row = results[rule.proof]
        if row is not None:
            outcomes[id(rule)] = _outcome(rule, {**row, "proved_by": "keys equal row positions 1..n"})
    return outcomes


def _run_one(con: duckdb.DuckDBPyConnection, rule: Rule, sql: str) -> Outcome:
    try:
        cursor = con.execute(sql)
    except duckdb.CatalogException as exc:
        # A table the rule reads was never materialised for this dataset.
        reason = str(exc).splitlines()[0]
        return Outcome(rule, False, {"violations": -1, "error": f"{reason} (materialise the parents first)"})
    names = [d[0] for d in cursor.description]
    return _outcome(rule, dict(zip(names, cursor.fetchone(), strict=True)))


def _outcome(rule: Rule, row: dict[str, Any]) -> Outcome:
    violations = int(row.pop("violations") or 0)
    metadata = {"violations": violations, **{k: _plain(v) for k, v in row.items()}}
    return Outcome(rule, violations == 0, metadata)


# Parts of a SELECT node that make a query more than one aggregate pass over one table.
_NOT_A_SCAN = ("where_clause", "having", "qualify", "sample")


def _scan_select_list(con: duckdb.DuckDBPyConnection, rule: Rule, sql: str) -> list[dict[str, Any]] | None:
    """The select list of a rule that is one aggregate pass over its own table, as DuckDB's parse
    tree (every item named), or None when the rule is anything else (joins, filters, CTEs, unions)."""
    if not re.fullmatch(rf"\s*SELECT\s.*\sFROM\s+{re.escape(rule.table)}\s*", sql, re.DOTALL | re.IGNORECASE):
        return None  # cannot be one: spares parsing the joins
    parsed = _parse_tree(con, sql)
    if parsed is None:
        return None
    if len(parsed["statements"]) != 1:
        return None
    node = parsed["statements"][0]["node"]
    source = node.get("from_table") or {}
    if (
        node.get("type") != "SELECT_NODE"
        or node.get("modifiers")
        or node.get("cte_map", {}).get("map")
        or node.get("group_expressions")
        or node.get("group_sets")
        or any(node.get(part) for part in _NOT_A_SCAN)
        or source.get("type") != "BASE_TABLE"
        or source.get("table_name") != rule.table
        or source.get("schema_name")
        or source.get("catalog_name")
        or source.get("alias")
    ):
        return None
    items = node["select_list"]
    names = [item.get("alias") for item in items]
    if not all(names) or len(set(names)) != len(names) or "violations" not in names:
        return None
    return items


def _parse_tree(con: duckdb.DuckDBPyConnection, sql: str) -> dict[str, Any] | None:
    """DuckDB's parse tree of `sql` as JSON (None if it does not parse)."""
    try:
        parsed = json.loads(con.execute("SELECT json_serialize_sql(?)", [sql]).fetchone()[0])
    except duckdb.Error:
        return None
    return None if parsed.get("error") else parsed


def _scan_batches(
    con: duckdb.DuckDBPyConnection, rules: Sequence[Rule], sql: Mapping[int, str]
) -> dict[str, list[tuple[Rule, list[dict[str, Any]]]]]:
    """The one-pass rules grouped by the table they scan."""
    batches: dict[str, list[tuple[Rule, list[dict[str, Any]]]]] = {}
    for rule in rules:
        items = _scan_select_list(con, rule, sql[id(rule)])
        if items is not None:
            batches.setdefault(rule.table, []).append((rule, items))
    return batches


def _run_scan(
    con: duckdb.DuckDBPyConnection, batch: list[tuple[Rule, list[dict[str, Any]]]], sql: Mapping[int, str]
) -> dict[int, Outcome]:
    """One query over the table answering every rule of `batch` (its columns renamed r<i>__<name>).

    Should the combined query fail, the rules run one by one, so each reports its own error."""
    first = _parse_tree(con, sql[id(batch[0][0])])
    assert first is not None  # it parsed when the batch was made
    node = first["statements"][0]["node"]
    node["select_list"] = [
        {**item, "alias": f"r{i}__{item['alias']}"} for i, (_, items) in enumerate(batch) for item in items
    ]
    try:
        combined = con.execute("SELECT json_deserialize_sql(?)", [json.dumps(first)]).fetchone()[0]
        cursor = con.execute(combined)
    except duckdb.Error:
        return {}
    row = dict(zip((d[0] for d in cursor.description), cursor.fetchone(), strict=True))
    outcomes: dict[int, Outcome] = {}
    for i, (rule, items) in enumerate(batch):
        outcomes[id(rule)] = _outcome(rule, {item["alias"]: row[f"r{i}__{item['alias']}"] for item in items})
    return outcomes


def _plain(value: Any) -> Any:
    if isinstance(value, (int, float, str, bool)) or value is None:
        return value if not isinstance(value, float) else round(value, 6)
    return str(value)


# --- Coherence rules derived from the table declarations: no table can escape them -----------
DAY_SECONDS = 86_400
# A time of day may repeat by chance; one that holds most rows of a column is a generator's tell.
MAX_TIME_OF_DAY_SHARE = 0.5
MIN_ROWS_FOR_SHARES = 20
# Whole-day copies of another timestamp happen by chance about once in 86,400 rows.
MAX_DAY_COPY_SHARE = 0.01
MIN_ROWS_FOR_DAY_COPIES = 100


def _timestamp_columns(spec: TableSpec) -> list[str]:
    return [f.name for f in spec.schema if pa_types.is_timestamp(f.type)]


def _seconds(column: str) -> str:
    return f"CAST(epoch({column}) AS BIGINT)"


def dense_key(spec: TableSpec) -> Rule:
    """Integer keys are 1..n without gaps, as a database sequence gives them."""
    key = spec.key
    return Rule(
        spec.name,
        "keys_dense",
        f"{key} runs 1..n without gaps, as a database sequence numbers rows.",
        f"SELECT CASE WHEN count(*) = 0 THEN 0 ELSE (CASE WHEN min({key}) = 1 AND max({key}) = count(*)"
        f" AND count(DISTINCT {key}) = count(*) THEN 0 ELSE 1 END) END AS violations,"
        f" count(*) AS rows, min({key}) AS min_key, max({key}) AS max_key FROM {spec.name}",
        proof=keys_are_positions(spec.name, key),
    )


def created_after_parents(spec: TableSpec, tables: Mapping[str, TableSpec]) -> Rule | None:
    """No row is created before a row it references, and none is a parent's time of day shifted by whole days."""
    parts: list[str] = []
    for column, parent in spec.foreign_keys:
        p = tables[parent]
        if spec.created is None or p.created is None:
            continue
        c_t, p_t = f"c.{spec.created}", f"p.{p.created}"
        diff = f"({_seconds(c_t)} - {_seconds(p_t)})"
        parts.append(
            f"(SELECT count(*) FILTER (WHERE {c_t} < {p_t}) AS late,"
            f" count(*) FILTER (WHERE {diff} <> 0 AND {diff} % {DAY_SECONDS} = 0) AS day_copies, count(*) AS n,"
            f" '{column}' AS fk FROM {spec.name} c JOIN {parent} p ON c.{column} = p.{p.key})"
        )
    if not parts:
        return None
    return Rule(
        spec.name,
        "created_after_parents",
        f"{spec.name}.{spec.created} is never before the creation of any row it references, and is not a"
        " referenced row's time of day shifted by whole days.",
        "WITH f AS (" + " UNION ALL ".join(parts) + ")"
        f" SELECT sum(late) + sum(CASE WHEN n >= {MIN_ROWS_FOR_DAY_COPIES} AND day_copies > {MAX_DAY_COPY_SHARE} * n"
        " THEN day_copies ELSE 0 END) AS violations, sum(late) AS created_before_parent,"
        " sum(day_copies) AS whole_day_copies FROM f",
    )


def timestamps_natural(spec: TableSpec) -> Rule | None:
    """No timestamp column sits at one time of day; no column is another shifted by whole days."""
    cols = _timestamp_columns(spec)
    if not cols:
        return None
    tod = " UNION ALL ".join(
        f"(SELECT '{c}' AS col, max(k) AS top, sum(k) AS n FROM"
        f" (SELECT count(*) AS k FROM {spec.name} WHERE {c} IS NOT NULL GROUP BY {_seconds(c)} % {DAY_SECONDS}))"
        for c in cols
    )
    pairs = [(a, b) for i, a in enumerate(cols) for b in cols[i + 1 :]]
    copies = " + ".join(
        f"(CASE WHEN count(*) FILTER (WHERE {a} IS NOT NULL AND {b} IS NOT NULL) >= {MIN_ROWS_FOR_DAY_COPIES}"
        f" AND count(*) FILTER (WHERE {a} <> {b} AND ({_seconds(b)} - {_seconds(a)}) % {DAY_SECONDS} = 0)"
        f" > {MAX_DAY_COPY_SHARE} * count(*) FILTER (WHERE {a} IS NOT NULL AND {b} IS NOT NULL) THEN 1 ELSE 0 END)"
        for a, b in pairs
    )
    copies_sql = f"(SELECT {copies} FROM {spec.name})" if pairs else "0"
    return Rule(
        spec.name,
        "timestamps_natural",
        f"No timestamp column holds more than {MAX_TIME_OF_DAY_SHARE:.0%} of its values at one time of day, and no"
        " two timestamp columns of a row are the same time of day whole days apart.",
        f"WITH t AS ({tod}) SELECT count(*) FILTER (WHERE n >= {MIN_ROWS_FOR_SHARES}"
        f" AND top > {MAX_TIME_OF_DAY_SHARE} * n) + {copies_sql} AS violations,"
        f" string_agg(CASE WHEN n >= {MIN_ROWS_FOR_SHARES} AND top > {MAX_TIME_OF_DAY_SHARE} * n THEN col END, ', ')"
        " AS one_time_of_day FROM t",
    )


def coherence_rules(tables: Sequence[TableSpec]) -> list[Rule]:
    """The rules every table obeys by its declaration: dense keys, causal order, natural timestamps."""
    by_name = {t.name: t for t in tables}
    rules: list[Rule] = []
    for spec in tables:
        if pa_types.is_integer(spec.schema.field(spec.key).type):
            rules.append(dense_key(spec))
        rules += [r for r in (created_after_parents(spec, by_name), timestamps_natural(spec)) if r is not None]
    return rules
