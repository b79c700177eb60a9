"""Reading a live PostgreSQL schema's catalogue for `mock-pipeline import-schema`.

Tables, columns (types, enums, arrays, numeric precision, varchar lengths), NOT NULL, defaults, comments,
estimated row counts, constraints (primary, unique, foreign, check, as the catalogue prints them) and the
unique indexes not behind a constraint. No generator is chosen here (mock_pipeline.mock_dataset.infer).
No Dagster here; psycopg2 reads the catalogue.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit


class ImportRefused(ValueError):
    """Columns that cannot be generated: one line each."""

    def __init__(self, lines: Sequence[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = list(lines)


@dataclass
class SourceColumn:
    name: str
    sql_type: str  # format_type(): what the DDL says
    type_name: str  # pg_type.typname (the element's for an array)
    not_null: bool
    default: str | None
    comment: str | None
    is_array: bool = False
    enum_labels: list[str] = field(default_factory=list)
    length: int | None = None  # varchar(n), char(n)
    precision: int | None = None  # numeric(p, s)
    scale: int | None = None


@dataclass
class Constraint:
    name: str
    kind: str  # p, u, f, c
    columns: list[str]
    definition: str
    parent: str | None = None
    parent_columns: list[str] = field(default_factory=list)


@dataclass
class SourceTable:
    name: str
    columns: dict[str, SourceColumn]
    constraints: list[Constraint]
    unique_indexes: list[tuple[list[str], str]]  # (plain columns, CREATE UNIQUE INDEX ...)
    estimate: float
    comment: str | None


def redacted(url: str) -> str:
    """The URL without its user and password, for the YAML's header."""
    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    return f"{parts.scheme}://{host}{':' + str(parts.port) if parts.port else ''}{parts.path}"


def read_catalogue(url: str, schema: str, only: Sequence[str] = ()) -> tuple[list[SourceTable], list[str]]:
    """The schema's tables (catalogue order by name) and its enum types' CREATE TYPE statements."""
    import psycopg2

    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_namespace WHERE nspname = %s", (schema,))
        if cur.fetchone()[0] == 0:
            raise ImportRefused([f"--schema {schema!r}: no such schema in the database"])
        # Unqualified names in the printed constraints and types: they are recreated in another schema.
        cur.execute("SELECT set_config('search_path', %s, true)", (quote(schema),))
        cur.execute(
            """SELECT c.oid, c.relname, c.reltuples, obj_description(c.oid, 'pg_class')
               FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE n.nspname = %s AND c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY c.relname""",
            (schema,),
        )
        found = cur.fetchall()
        names = [r[1] for r in found]
        if missing := [t for t in only if t not in names]:
            raise ImportRefused(
                [f"--tables {t!r}: no such table in schema {schema}; found: {', '.join(names)}" for t in missing]
            )
        tables = [_read_table(cur, *row) for row in found if not only or row[1] in only]
        cur.execute(
            """SELECT t.typname, array_agg(e.enumlabel ORDER BY e.enumsortorder)
               FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid JOIN pg_namespace n ON n.oid = t.typnamespace
               WHERE n.nspname = %s GROUP BY t.typname ORDER BY t.typname""",
            (schema,),
        )
        types = [
            f"CREATE TYPE {quote(name)} AS ENUM ({', '.join(literal(v) for v in labels)})"
            for name, labels in cur.fetchall()
        ]
    return tables, types


def _read_table(cur: Any, oid: int, name: str, estimate: float, comment: str | None) -> SourceTable:
    cur.execute(
        """SELECT a.attnum, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
                  pg_get_expr(d.adbin, d.adrelid), col_description(a.attrelid, a.attnum), a.atttypmod,
                  t.typname, t.typtype, et.typname, et.typtype, coalesce(et.oid, t.oid)
           FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
           LEFT JOIN pg_type et ON et.oid = t.typelem AND t.typcategory = 'A'
           LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
           WHERE a.attrelid = %s AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum""",
        (oid,),
    )
    columns: dict[str, SourceColumn] = {}
    by_num: dict[int, str] = {}
    for (
        num,
        cname,
        sql_type,
        not_null,
        default,
        ccomment,
        typmod,
        typname,
        typtype,
        elem,
        elemtype,
        toid,
    ) in cur.fetchall():
        is_array = elem is not None
        column = SourceColumn(cname, sql_type, elem or typname, not_null, default, ccomment, is_array)
        if (elemtype if is_array else typtype) == "e":
            cur.execute("SELECT enumlabel FROM pg_enum WHERE enumtypid = %s ORDER BY enumsortorder", (toid,))
            column.enum_labels = [r[0] for r in cur.fetchall()]
        if typname in ("varchar", "bpchar") and typmod > 4:
            column.length = typmod - 4
        if typname == "numeric" and typmod > 4:
            column.precision, column.scale = ((typmod - 4) >> 16) & 0xFFFF, (typmod - 4) & 0xFFFF
        columns[cname] = column
        by_num[num] = cname
    cur.execute(
        """SELECT c.conname, c.contype, c.conkey, c.confrelid::regclass::text, c.confkey, c.confrelid,
                  pg_get_constraintdef(c.oid)
           FROM pg_constraint c WHERE c.conrelid = %s AND c.contype IN ('p', 'u', 'f', 'c') ORDER BY c.conname""",
        (oid,),
    )
    constraints = []
    for cname, kind, conkey, parent, confkey, parent_oid, definition in cur.fetchall():
        parent_columns: list[str] = []
        if kind == "f":
            cur.execute(
                "SELECT attname FROM pg_attribute WHERE attrelid = %s AND attnum = ANY(%s)", (parent_oid, confkey)
            )
            names = {r[0] for r in cur.fetchall()}
            cur.execute(
                "SELECT attnum, attname FROM pg_attribute WHERE attrelid = %s AND attname = ANY(%s)",
                (parent_oid, list(names)),
            )
            num_to_name = dict(cur.fetchall())
            parent_columns = [num_to_name[n] for n in confkey]
        constraints.append(
            Constraint(
                cname, kind, [by_num[n] for n in conkey or []], definition, parent.strip('"') if parent else None,
                parent_columns,
            )
        )  # fmt: skip
    cur.execute(
        """SELECT i.indkey::int2[], pg_get_indexdef(i.indexrelid)
           FROM pg_index i WHERE i.indrelid = %s AND i.indisunique
             AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
           ORDER BY 2""",
        (oid,),
    )
    # pg_get_indexdef always qualifies the table: unqualified, the index lands in the load's schema.
    indexes = [
        (
            [by_num[n] for n in key if n in by_num] if 0 not in key else [],
            re.sub(r" ON (ONLY )?[^ .]+\.", r" ON \1", d, count=1),
        )
        for key, d in cur.fetchall()
    ]
    return SourceTable(name, columns, constraints, indexes, estimate, comment)


def quote(identifier: str) -> str:
    """A PostgreSQL identifier, double-quoted."""
    return '"' + identifier.replace('"', '""') + '"'


def literal(value: str) -> str:
    """A PostgreSQL string literal, single-quoted."""
    return "'" + value.replace("'", "''") + "'"
