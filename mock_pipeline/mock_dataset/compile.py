"""Spec -> `Tables` declarations -> a `Domain` -> the same assets and checks as the built-in domains.

Checks come from the declaration: primary and foreign keys, not null, uniqueness, declared ranges and
enums, timestamps inside the window (plus the coherence rules `Domain` derives itself: dense keys,
causal order, natural timestamps), then the user's own SQL rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import dagster as dg

from mock_pipeline.domains.factory import Domain, domain_definitions
from mock_pipeline.engine.declare import Column, DeclarationError, Tables
from mock_pipeline.mock_dataset.generate import ARROW_TYPES, DatasetModel, ExpressionError, check_expression
from mock_pipeline.mock_dataset.spec import DatasetSpec, Located, error, table_order
from mock_pipeline.publish.assets import exported_files_asset, publish_summary_asset
from mock_pipeline.publish.database.asset import database_tables_asset
from mock_pipeline.publish.http import http_upload_asset
from mock_pipeline.publish.s3 import s3_upload_asset
from mock_pipeline.publish.vectors.asset import vector_index_asset
from mock_pipeline.publish.vectors.resources import vector_store_from_env
from mock_pipeline.scenarios.model import Scenario
from mock_pipeline.validation import Rule, foreign_key, in_window, row_rule, unique_key

BUILT_IN_DOMAINS = ("commerce", "erp", "maintenance", "scrum")


def _sql_literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    # Rule SQL goes through str.format ({start}, {end}): a brace of a value ('{}', an empty array) is doubled.
    return "'" + str(value).replace("'", "''").replace("{", "{{").replace("}", "}}") + "'"


def created_column(spec: DatasetSpec, table: str) -> str | None:
    t = spec.tables[table]
    if t.created is not None:
        return t.created
    c = t.columns.get("created_at")
    return "created_at" if c is not None and c.type == "timestamp" else None


def check_coherence(spec: DatasetSpec, located: Located) -> None:
    """What would only fail at the first check, refused at load: a row created before its parent,
    an expression the evaluator refuses, a built-in domain's name."""
    if spec.name in BUILT_IN_DOMAINS:
        raise error(located, ["name"], f"name {spec.name!r} is a built-in domain; choose another")
    for tname, t in spec.tables.items():
        created = created_column(spec, tname)
        if created is not None and (created not in t.columns or t.columns[created].type != "timestamp"):
            raise error(located, ["tables", tname, "created"], f"created {created!r} is not a timestamp column")
        for cname, c in t.columns.items():
            path = ["tables", tname, "columns", cname]
            if c.expression is not None:
                try:
                    check_expression(c.expression)
                except ExpressionError as exc:
                    raise error(located, [*path, "expression"], str(exc)) from None
                for other in _names(c.expression):
                    if t.columns[other].type == "string":
                        raise error(
                            located, [*path, "expression"], f"reads {other!r}, a string; expressions read numbers"
                        )
            if c.nulls > 0 and cname == (t.key or next(iter(t.columns))):
                raise error(located, [*path, "nulls"], "the key is never null")
        if created is None:
            continue
        after = set(t.columns[created].timestamp.after) if t.columns[created].timestamp else set()
        for cname, c in t.columns.items():
            if c.reference is None or c.reference.table == tname or c.reference.back:  # no causal order to it
                continue
            parent_created = created_column(spec, c.reference.table)
            if parent_created is not None and f"{c.reference.table}.{parent_created}" not in after:
                raise error(
                    located,
                    ["tables", tname, "columns", created],
                    f"{created} must come after the {c.reference.table} it references ({cname}): add"
                    f" `after: {c.reference.table}.{parent_created}` to its timestamp",
                )


def _names(expression: str) -> list[str]:
    from mock_pipeline.mock_dataset.spec import expression_names

    return expression_names(expression)


def declare(spec: DatasetSpec, order: list[str], located: Located) -> Tables:
    """The spec's tables as `Tables` declarations, parents first; each builder asks the model."""
    tables = Tables(spec.name)
    for name in order:
        t = spec.tables[name]
        columns = [
            Column(
                cname,
                ARROW_TYPES[c.type],
                c.description or f"{c.generator} generator",
                c.reference.table if c.reference and c.reference.column is None and not c.reference.back else None,
            )
            for cname, c in t.columns.items()
        ]
        # A reference to a parent's unique non-key column is no key foreign key; the parent still comes first.
        after = [c.reference.table for c in t.columns.values() if c.reference and c.reference.column is not None]

        def build(model: DatasetModel, lo: int, hi: int, table: str = name) -> dict[str, Any]:
            return model.build(table, lo, hi)

        try:
            tables.table(
                key=t.key or next(iter(t.columns)),
                slots=lambda m, table=name: m.rows[table],
                description=t.description or f"{name}: a table of the {spec.name} mock dataset.",
                columns=columns,
                created=created_column(spec, name),
                text_columns=t.text_columns,
                after=list(dict.fromkeys(after)),
                name=name,
            )(build)
        except DeclarationError as exc:  # e.g. text_columns naming no column: the same one line, with where
            raise error(located, ["tables", name], str(exc).removeprefix(f"{spec.name}.{name}: ")) from None
    return tables


def rules(spec: DatasetSpec, tables: Tables) -> list[Rule]:
    """The blocking checks the declaration implies, then the user's rules."""
    by_name = {s.name: s for s in tables}
    out: list[Rule] = []
    for tspec in tables:
        t = spec.tables[tspec.name]
        out.append(unique_key(tspec.name, tspec.key))
        out += [foreign_key(tspec.name, c, p, by_name[p].key) for c, p in tspec.foreign_keys]
        required = [n for n, c in t.columns.items() if c.nulls == 0]
        out.append(
            row_rule(
                tspec.name,
                "required_not_null",
                f"{', '.join(required)} are never null.",
                " OR ".join(f"{n} IS NULL" for n in required),
            )
        )
        for n, c in t.columns.items():
            ref = c.reference
            if ref is not None and ref.column is not None:
                out.append(foreign_key(tspec.name, n, ref.table, ref.column))
            if ref is not None and ref.back:
                # The parent may not exist yet when this table is checked; its keys are dense (1..rows).
                out.append(
                    row_rule(
                        tspec.name,
                        f"{n}_references_{ref.table}",
                        f"{tspec.name}.{n} is a key of {ref.table} (1..its row count).",
                        f"{n} < 1 OR {n} > {{rows_{ref.table}}}",
                    )
                )
            if ref is not None and ref.unique_with is not None and n < ref.unique_with:
                out.append(
                    Rule(
                        tspec.name,
                        f"{n}_{ref.unique_with}_unique",
                        f"({n}, {ref.unique_with}) is unique.",
                        f"SELECT count(*) - count(DISTINCT ({n}, {ref.unique_with})) AS violations FROM {tspec.name}",
                    )
                )
            if c.unique and n != tspec.key:
                out.append(
                    Rule(
                        tspec.name,
                        f"{n}_unique",
                        f"{n} is unique where present.",
                        f"SELECT count({n}) - count(DISTINCT {n}) AS violations FROM {tspec.name}",
                    )
                )
            if c.number is not None and (c.number.min is not None or c.number.max is not None):
                bounds = [f"{n} < {c.number.min}"] if c.number.min is not None else []
                bounds += [f"{n} > {c.number.max}"] if c.number.max is not None else []
                out.append(
                    row_rule(tspec.name, f"{n}_in_range", f"{n} lies in its declared bounds.", " OR ".join(bounds))
                )
            if c.choice is not None and c.type != "float":
                values = ", ".join(_sql_literal(str(v) if c.type == "string" else v) for v in c.choice.values)
                out.append(
                    row_rule(
                        tspec.name, f"{n}_allowed", f"{n} is one of its declared values.", f"{n} NOT IN ({values})"
                    )
                )
        stamps = [n for n, c in t.columns.items() if c.type == "timestamp" and c.custom is None]
        if stamps:
            out.append(in_window(tspec.name, *stamps))
        for r in t.rules:
            if r.where is not None:
                out.append(row_rule(tspec.name, r.name, r.description or f"No row matches: {r.where}", r.where))
            else:
                assert r.sql is not None
                out.append(Rule(tspec.name, r.name, r.description or r.name, r.sql))
    return out


def rule_params(model: DatasetModel) -> dict[str, Any]:
    rows = {f"rows_{table}": n for table, n in model.rows.items()}
    return {"start": f"to_timestamp({model.start})", "end": f"to_timestamp({model.end})", **rows}


def compile_domain(spec: DatasetSpec, located: Located) -> Domain:
    check_coherence(spec, located)
    order = table_order(spec, located)
    tables = declare(spec, order, located)
    return Domain(
        name=spec.name,
        tables=tables.specs,
        model=lambda scenario: _model(spec, order, scenario),
        rules=tuple(rules(spec, tables)),
        rule_params=rule_params,
    )


def _model(spec: DatasetSpec, order: list[str], scenario: Scenario) -> DatasetModel:
    return DatasetModel(spec, order, scenario)


# Where a dataset can be published, each by the built-in domains' asset factory; all but the files
# export need their resource (database, s3_upload, http_upload, embedder + vector_store) in the code location.
# database_ddl: an imported spec's tables under the source schema's DDL and constraints (PostgreSQL only).
Destination = Literal["files", "database", "database_ddl", "s3", "http", "vectors"]


def dataset_definitions(
    domain: Domain, publish: Sequence[Destination] = ("files",), spec: DatasetSpec | None = None
) -> dg.Definitions:
    """One asset per table (deps = foreign keys), its blocking checks, and the publishing assets asked for."""
    assets, checks = domain_definitions(domain)
    published: list[dg.AssetsDefinition] = []
    for destination in dict.fromkeys(publish):
        if destination == "files":
            published.append(exported_files_asset(domain))
        elif destination == "database":
            published.append(database_tables_asset(domain))
        elif destination == "database_ddl":
            from mock_pipeline.mock_dataset.ddl_asset import source_schema_asset

            if spec is None or not any(t.ddl for t in spec.tables.values()):
                raise ValueError(
                    f"{domain.name}: publish database_ddl needs tables with ddl (written by import-schema)"
                )
            published.append(source_schema_asset(domain, spec))
        elif destination == "s3":
            published.append(s3_upload_asset(domain))
        elif destination == "http":
            published.append(http_upload_asset(domain))
        elif (vectors := vector_index_asset(domain, vector_store_from_env().kind)) is not None:
            published.append(vectors)  # only when the spec declares text_columns
    summary = [publish_summary_asset(domain, published)] if published else []
    return dg.Definitions(assets=[*assets, *published, *summary], asset_checks=checks)
