"""`mock-pipeline import-schema`: a live PostgreSQL schema's catalogue -> a MockDataset spec (defs.yaml).

Reads tables, columns (types, enums, arrays, json, numeric precision, varchar lengths), NOT NULL,
primary keys, foreign keys (composite too), UNIQUE constraints and unique indexes, simple CHECK
constraints (ranges, IN lists), defaults, comments and estimated row counts. It chooses one generator
per column from the type and the name, and writes a comment above each saying what was inferred and why.
The source DDL goes into the spec too (`ddl:` per table, `types:`), so the database load can recreate
the tables with their real constraints (mock_pipeline.mock_dataset.ddl).

What cannot be generated is refused with one line per column (`ImportRefused`), never skipped silently.
Reading the catalogue is mock_pipeline.mock_dataset.catalogue, choosing the generators
mock_pipeline.mock_dataset.infer; this module renders the YAML. No Dagster here.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import yaml

from mock_pipeline.mock_dataset.catalogue import ImportRefused, read_catalogue, redacted
from mock_pipeline.mock_dataset.infer import Importer, email_sources

__all__ = ["DEFAULT_ROWS", "ImportRefused", "dataset_name", "import_schema"]

DEFAULT_ROWS = 1000


def dataset_name(url: str) -> str:
    database = urlsplit(url).path.strip("/") or "imported"
    return re.sub(r"[^a-z0-9_]", "_", database.lower()).lstrip("_0123456789") or "imported"


def import_schema(
    url: str, schema: str = "public", tables: Sequence[str] = (), name: str | None = None, rows: int = DEFAULT_ROWS
) -> str:
    """The defs.yaml text of a MockDataset for the schema, or ImportRefused with one line per column."""
    source, types = read_catalogue(url, schema, tables)
    if not source:
        raise ImportRefused([f"--schema {schema!r}: no tables in it"])
    importer = Importer(source, types, rows)
    rendered: list[str] = []
    for t in source:
        body, why, notes = importer.table(t)
        email_sources(body["columns"], body["key"])
        rendered.append(_render_table(t.name, body, why, notes))
    if importer.refused:
        raise ImportRefused(importer.refused)
    header = [
        f"# Imported by `mock-pipeline import-schema` from {redacted(url)}, schema {schema}.",
        "# Each column's comment says what was read from the catalogue and why its generator was chosen: edit freely.",
        "# `ddl:` is the source table as the database declares it; the database load recreates it, constraints and all.",
        "type: mock_pipeline.MockDataset",
        "",
        "attributes:",
        f"  name: {name or dataset_name(url)}",
        "  publish: [files, database_ddl]  # database_ddl: the tables recreated with this DDL in mock_data",
    ]
    if types:
        header.append("  types:")
        header += [f"    - {_scalar(ty)}" for ty in types]
    header.append("  tables:")
    return "\n".join([*header, *rendered]) + "\n"


def _scalar(value: Any) -> str:
    return (
        yaml.safe_dump(value, default_flow_style=True, width=10**6, allow_unicode=True, sort_keys=False)
        .strip()
        .removesuffix("...")
        .strip()
    )


def _render_table(name: str, body: dict[str, Any], why: dict[str, str], notes: list[str]) -> str:
    lines = [f"    {name}:"]
    lines += [f"      # {n}" for n in notes]
    for k in ("description", "rows", "key", "created"):
        if k in body:
            lines.append(f"      {k}: {_scalar(body[k])}")
    lines.append("      columns:")
    for cname, spec in body["columns"].items():
        lines.append(f"        # {why[cname]}")
        lines.append(f"        {cname}: {_scalar(spec)}")
    ddl = body["ddl"]
    lines.append("      ddl:")
    lines.append("        columns:")
    lines += [f"          {c}: {_scalar(sql)}" for c, sql in ddl["columns"].items()]
    for k in ("constraints", "indexes"):
        if ddl[k]:
            lines.append(f"        {k}:")
            lines += [f"          - {_scalar(x)}" for x in ddl[k]]
    return "\n".join(lines)
