"""`mock-pipeline import-schema`: a live PostgreSQL schema's catalogue -> a MockDataset spec (defs.yaml).

Reads tables, columns (types, enums, arrays, json, numeric precision, varchar lengths), NOT NULL,
primary keys, foreign keys (composite too), UNIQUE constraints and unique indexes, simple CHECK
constraints (ranges, IN lists), defaults, comments and estimated row counts. It chooses one generator
per column from the type and the name, and writes a comment above each saying what was inferred and why.
The source DDL goes into the spec too (`ddl:` per table, `types:`), so the database load can recreate
the tables with their real constraints (mock_pipeline.mock_dataset.ddl).

What cannot be generated is refused with one line per column (`ImportRefused`), never skipped silently.
No Dagster here; psycopg2 reads the catalogue.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any
from urllib.parse import urlsplit

import yaml

DEFAULT_ROWS = 1000
SYNTHETIC_KEY = "mock_row_id"
# Words for free text columns; the user replaces them with their own vocabulary.
VOCABULARY = ["alpha", "bravo", "delta", "order", "update", "note", "review", "change", "report", "item", "ready"]
COUNTRY_CODES = ["US", "GB", "DE", "FR", "NL", "ES", "IT", "SE", "PL", "CA", "JP", "BR", "IN", "AU"]
CREATED_NAMES = ("created_at", "created", "create_timestamp", "created_on", "inserted_at", "date_joined")
MONEY_NAMES = re.compile(r"(price|amount|cost|total|fee|balance|salary|revenue)")
INT_TYPES = {"int2": 32767, "int4": 2147483647, "int8": 9223372036854775807}
FLOAT_TYPES = ("float4", "float8")
STRING_TYPES = ("text", "varchar", "bpchar", "citext", "name", "bytea")
TIME_TYPES = ("timestamptz", "timestamp", "date")
GENERABLE = "integers, numeric, float, text/varchar/char, bytea, bool, timestamp(tz), date, uuid, enum, json(b), arrays"


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
        cur.execute("SELECT set_config('search_path', %s, true)", (_quote(schema),))
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
            f"CREATE TYPE {_quote(name)} AS ENUM ({', '.join(_literal(v) for v in labels)})"
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


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


# --- CHECK constraints of the simple kinds --------------------------------------------------------
_COMPARE = re.compile(r"\(?\(?\"?(\w+)\"?(?:\)::\w+(?: \w+)*)? (>=|>|<=|<) \(?'?(-?[\d.]+)'?(?:::\w+(?: \w+)*)?\)?\)?")
_IN_LIST = re.compile(r"\"?(\w+)\"?\)?(?:::\w+(?: \w+)*)? = ANY \(\(?ARRAY\[(.*)\]\)?")


def check_bounds(definition: str) -> tuple[dict[str, dict[str, float]], dict[str, list[str]], bool]:
    """(bounds per column, IN lists per column, fully understood) from `CHECK (...)` as the catalogue prints it."""
    body = definition.removeprefix("CHECK ").strip()
    bounds: dict[str, dict[str, float]] = {}
    lists: dict[str, list[str]] = {}
    parts = [p.strip() for p in re.split(r"\) AND \(", body.strip("()"))] if " OR " not in body else [body]
    understood = True
    for part in parts:
        if m := _IN_LIST.search(part):
            lists[m.group(1)] = re.findall(r"'((?:[^']|'')*)'", m.group(2))
        elif (m := _COMPARE.fullmatch(part.strip("()") if part.count("(") != part.count(")") else part)) or (
            m := _COMPARE.search(part)
        ):
            column, op, number = m.group(1), m.group(2), float(m.group(3))
            side = "min" if op in (">", ">=") else "max"
            step = 0 if op in (">=", "<=") else (1 if side == "min" else -1)
            bounds.setdefault(column, {})[side] = number + step
        else:
            understood = False
    return bounds, lists, understood


# --- Choosing generators --------------------------------------------------------------------------
@dataclass
class Choice:
    spec: dict[str, Any]
    why: str


def _unique_sequence(column: SourceColumn, prefix: str) -> Choice:
    """Unique strings: the column's name and a zero-padded row number, cut to fit its length."""
    width = 6
    limit = column.length or 64
    prefix = prefix[: max(0, limit - width)]
    if limit < width:
        prefix, width = "", limit
    return Choice({"type": "string", "sequence": {"prefix": prefix, "width": width}}, "unique: a numbered sequence")


class Importer:
    """One schema's tables -> spec dicts with comments, and the refusals."""

    def __init__(self, tables: list[SourceTable], types: list[str], default_rows: int) -> None:
        self.tables = {t.name: t for t in tables}
        self.types = types
        self.default_rows = default_rows
        self.refused: list[str] = []
        self.keys: dict[str, str] = {t.name: self._key(t) for t in tables}
        self.back: set[tuple[str, str]] = self._back_references(tables)

    def _back_references(self, tables: list[SourceTable]) -> set[tuple[str, str]]:
        """Foreign keys closing a cycle between tables, a nullable one where the cycle has one: generated
        from the parent's row count (no dependency), their constraints added after the rows are in."""
        edges = {
            (t.name, c.parent)
            for t in tables
            for c in t.constraints
            if c.kind == "f" and c.parent not in (t.name, None)
        }
        edges = {e for e in edges if e[1] in self.tables}
        back: set[tuple[str, str]] = set()
        while cycle := _find_cycle(sorted(edges)):

            def nullable(edge: tuple[str, str]) -> bool:
                fks = [c for c in self.tables[edge[0]].constraints if c.kind == "f" and c.parent == edge[1]]
                return all(not self.tables[edge[0]].columns[col].not_null for c in fks for col in c.columns)

            child, parent = next((e for e in cycle if nullable(e)), cycle[-1])
            edges.discard((child, parent))
            for c in self.tables[child].constraints:
                if c.kind == "f" and c.parent == parent:
                    if len(c.columns) > 1:
                        self.refused.append(
                            f"{child}.{c.columns[0]}: a composite foreign key closing a cycle with {parent};"
                            " allowed: single-column back-references (or import without one table, --tables)"
                        )
                    back.update((child, col) for col in c.columns)
        return back

    def _key(self, t: SourceTable) -> str:
        pk = next((c for c in t.constraints if c.kind == "p"), None)
        if pk is not None and len(pk.columns) == 1:
            column = t.columns[pk.columns[0]]
            is_fk = any(c.kind == "f" and pk.columns[0] in c.columns for c in t.constraints)
            if column.type_name in INT_TYPES and not column.is_array and not is_fk:
                return column.name
        return SYNTHETIC_KEY

    def created(self, t: SourceTable) -> str | None:
        stamps = [n for n, c in t.columns.items() if c.type_name in TIME_TYPES and not c.is_array]
        # A known creation name, else the first `*_at`: the time the row came to be, after its parents'.
        return next((n for n in CREATED_NAMES if n in stamps), next((n for n in stamps if n.endswith("_at")), None))

    def table(self, t: SourceTable) -> tuple[dict[str, Any], dict[str, str], list[str]]:
        """The table's spec, a comment per column, and comments on the table."""
        notes: list[str] = []
        key = self.keys[t.name]
        columns: dict[str, dict[str, Any]] = {}
        why: dict[str, str] = {}
        if key == SYNTHETIC_KEY:
            columns[key] = {"type": "int", "sequence": {}}
            why[key] = "no single integer primary key: a row number for the engine, not loaded into the database"
        fks = [c for c in t.constraints if c.kind == "f"]
        uniques = [c.columns for c in t.constraints if c.kind in ("p", "u")] + [
            cols for cols, _ in t.unique_indexes if cols
        ]
        bounds: dict[str, dict[str, float]] = {}
        lists: dict[str, list[str]] = {}
        for c in t.constraints:
            if c.kind == "c":
                b, values, understood = check_bounds(c.definition)
                for k, v in b.items():
                    bounds.setdefault(k, {}).update(v)
                lists.update(values)
                if not understood:
                    notes.append(f"CHECK {c.name} is not a simple range or IN list: edit the generators if it fails")
        unique_alone = {u[0] for u in uniques if len(u) == 1}
        pairs = self._pairs(t, uniques, fks, unique_alone)
        for name, column in t.columns.items():
            fk = next((c for c in fks if name in c.columns), None)
            if name in pairs:
                other = pairs[name]
                assert fk is not None and fk.parent is not None
                choice = Choice(
                    {"type": "int", "reference": {"table": fk.parent, "unique_with": other}},
                    f"foreign key to {fk.parent}, unique together with {other}: distinct pairs",
                )
            elif fk is not None:
                choice = self._reference(t, name, column, fk)
            elif name == key:
                choice = Choice({"type": "int", "sequence": {}}, "integer primary key: a sequence 1..n")
            else:
                choice = self._value(t, name, column, name in unique_alone, bounds.get(name, {}), lists.get(name))
            if choice is None:
                continue
            spec = dict(choice.spec)
            if not column.not_null and name != key and "sequence" not in spec and not _in_unique_pair(spec):
                spec["nulls"] = 0.1
                choice.why += "; nullable: 10% nulls"
            if column.comment:
                spec["description"] = column.comment
            if column.length and spec["type"] == "string" and "sequence" not in spec:
                spec["max_length"] = column.length
            columns[name] = spec
            extra = f", default {column.default}" if column.default else ""
            why[name] = f"{column.sql_type}{' NOT NULL' if column.not_null else ''}{extra}: {choice.why}"
        body: dict[str, Any] = {}
        if t.comment:
            body["description"] = t.comment
        body["rows"] = round(t.estimate) if t.estimate >= 1 else self.default_rows
        notes.insert(
            0,
            f"rows: the catalogue's estimate ({t.estimate:,.0f})"
            if t.estimate >= 1
            else f"rows: no estimate in the catalogue (never analysed), --rows {self.default_rows}",
        )
        body["key"] = key
        created = self.created(t)
        if created is not None and created != "created_at":
            body["created"] = created
        body["columns"] = columns
        body["ddl"] = {
            "columns": {n: c.sql_type + (" NOT NULL" if c.not_null else "") for n, c in t.columns.items()},
            "constraints": [f"CONSTRAINT {_quote(c.name)} {c.definition}" for c in t.constraints],
            "indexes": [d for _, d in t.unique_indexes],
        }
        return body, why, notes

    def _pairs(
        self, t: SourceTable, uniques: list[list[str]], fks: list[Constraint], unique_alone: set[str]
    ) -> dict[str, str]:
        """UNIQUE (a, b) over two foreign keys to parents' keys, with no column unique alone: a unique pair."""
        single = {c.columns[0]: c for c in fks if len(c.columns) == 1}
        pairs: dict[str, str] = {}
        for u in uniques:
            if set(u) & unique_alone or any(n in pairs for n in u):
                continue
            to_keys = all(
                n in single and single[n].parent_columns[0] == self.keys.get(single[n].parent or "") for n in u
            )
            if len(u) == 2 and to_keys:
                pairs[u[0]], pairs[u[1]] = u[1], u[0]
                continue
            plain = [n for n in u if not any(n in c.columns for c in fks)]
            if plain:
                unique_alone.add(plain[-1])  # one column made unique makes the whole tuple unique
            else:
                self.refused.append(
                    f"{t.name}.{u[0]}: UNIQUE ({', '.join(u)}) over foreign keys of another shape than two keys;"
                    " allowed: two single-column foreign keys to the parents' primary keys"
                )
        return pairs

    def _reference(self, t: SourceTable, name: str, column: SourceColumn, fk: Constraint) -> Choice | None:
        parent = fk.parent
        if parent not in self.tables:
            self.refused.append(
                f"{t.name}.{name}: references {parent}, which is not imported; allowed: add it to --tables"
            )
            return None
        pcolumn = fk.parent_columns[fk.columns.index(name)]
        ref: dict[str, Any] = {"table": parent}
        why = f"foreign key {fk.name} to {parent}.{pcolumn}"
        if len(fk.columns) > 1 and name != fk.columns[0]:
            ref["via"] = fk.columns[0]
            why += f" (composite: the same {parent} row as {fk.columns[0]})"
        if pcolumn != self.keys[parent] or len(fk.columns) > 1:
            ref["column"] = pcolumn
        if parent == t.name:
            why += "; itself: an earlier row"
        if (t.name, name) in self.back:
            if pcolumn != self.keys[parent]:
                self.refused.append(
                    f"{t.name}.{name}: closes a cycle of foreign keys to {parent}.{pcolumn}, not its key;"
                    " allowed: back-references to an integer primary key (or import without one table, --tables)"
                )
                return None
            ref = {"table": parent, "back": True}
            why += "; closes a cycle of foreign keys: a back-reference, checked against the parent's row count"
        kind = self._kind(self.tables[parent].columns[pcolumn])
        return Choice({"type": kind, "reference": ref}, why)

    def _kind(self, column: SourceColumn) -> str:
        if column.is_array or column.enum_labels:
            return "string"
        if column.type_name in INT_TYPES:
            return "int"
        if column.type_name == "numeric":
            return "money" if column.scale == 2 else "float"
        if column.type_name in FLOAT_TYPES:
            return "float"
        if column.type_name == "bool":
            return "bool"
        if column.type_name in TIME_TYPES:
            return "timestamp"
        return "string"

    def _value(
        self,
        t: SourceTable,
        name: str,
        column: SourceColumn,
        unique: bool,
        bounds: dict[str, float],
        values: list[str] | None,
    ) -> Choice | None:
        kind = self._kind(column)
        lower = name.lower()
        if column.is_array:
            return Choice({"type": "string", "choice": {"values": ["{}"]}}, "an array: empty (edit to fill it)")
        if column.enum_labels:
            return Choice(
                {"type": "string", "choice": {"values": column.enum_labels}}, "enum: one of its labels, equally likely"
            )
        if values:
            typed: list[Any] = [int(v) if kind == "int" and re.fullmatch(r"-?\d+", v) else v for v in values]
            return Choice({"type": kind, "choice": {"values": typed}}, "CHECK ... IN (...): one of the listed values")
        if column.type_name in ("json", "jsonb"):
            return Choice({"type": "string", "choice": {"values": ["{}"]}}, f"{column.type_name}: an empty object")
        if column.type_name == "uuid":
            spec = {"type": "string", "sequence": {"prefix": "00000000-0000-4000-8000-", "width": 12}}
            return Choice(spec, "uuid: unique, numbered (valid UUID text)")
        if kind == "string" and column.type_name not in STRING_TYPES:
            self.refused.append(f"{t.name}.{name}: type {column.sql_type} cannot be generated; allowed: {GENERABLE}")
            return None
        if kind == "bool":
            return Choice({"type": "bool", "choice": {"values": [True, False], "weights": [3, 1]}}, "boolean: 3:1")
        if kind == "timestamp":
            parents = self._created_parents(t) if name == self.created(t) else []
            if parents:
                return Choice(
                    {"type": "timestamp", "timestamp": {"after": parents}},
                    f"the row's creation time: after its parents' ({', '.join(parents)})",
                )
            return Choice({"type": "timestamp", "timestamp": {}}, "a time in the scenario's window")
        if kind == "string":
            return self._string(name, lower, column, unique)
        return self._number(name, lower, column, kind, unique, bounds)

    def _created_parents(self, t: SourceTable) -> list[str]:
        out = []
        for c in t.constraints:
            back = (t.name, c.columns[0]) in self.back
            if c.kind == "f" and c.parent != t.name and c.parent in self.tables and len(c.columns) == 1 and not back:
                pc = self.created(self.tables[c.parent])
                if pc is not None and t.columns[c.columns[0]].not_null:
                    out.append(f"{c.parent}.{pc}")
        return list(dict.fromkeys(out))

    def _string(self, name: str, lower: str, column: SourceColumn, unique: bool) -> Choice:
        if "email" in lower:
            return Choice({"type": "string", "faker": {"kind": "email", "from": "__name__"}}, "named email: an e-mail")
        if unique:
            return _unique_sequence(column, f"{name}_")
        if lower.startswith("country") or lower.endswith("country") or lower == "country_code":
            return Choice(
                {"type": "string", "choice": {"values": COUNTRY_CODES}}, "named country: an ISO 3166 country code"
            )
        for words, kind in (
            (("first_name", "firstname", "given_name"), "first_name"),
            (("last_name", "lastname", "surname", "family_name"), "last_name"),
            (("full_name", "person_name", "contact_name"), "person_name"),
            (("company", "organisation", "organization", "employer"), "company"),
            (("phone", "mobile", "telephone"), "phone"),
            (("city", "town"), "city"),
            (("address", "street"), "address"),
        ):
            if any(w in lower for w in words):
                return Choice({"type": "string", "faker": {"kind": kind}}, f"named {name}: a {kind} (Faker pool)")
        if (column.length or 99) < 12:
            return Choice({"type": "string", "choice": {"values": ["A", "B", "C"]}}, "a short code: one of A, B, C")
        words = max(1, min(12, ((column.length or 200) - 1) // 8))
        return Choice(
            {"type": "string", "text": {"vocabulary": VOCABULARY, "min_words": 1, "max_words": words}},
            "free text: words from a vocabulary (edit it)",
        )

    def _number(
        self, name: str, lower: str, column: SourceColumn, kind: str, unique: bool, bounds: dict[str, float]
    ) -> Choice:
        top = float(INT_TYPES.get(column.type_name, 1e15))
        if column.precision is not None:
            top = 10.0 ** (column.precision - (column.scale or 0)) - 10.0 ** -(column.scale or 0)
        low, high = bounds.get("min", -top), bounds.get("max", top)
        if unique and kind == "int":
            lo = max(low, 1.0)
            return Choice(
                {"type": "int", "unique": True, "number": {"min": lo, "max": min(high, lo + 1e9)}},
                "unique integer: distinct values in its bounds",
            )
        if kind == "money" or MONEY_NAMES.search(lower):
            number = {"distribution": "lognormal", "mu": 3.0, "sigma": 0.8, "min": max(low, 0.0), "max": min(high, 1e4)}
            number["round"] = min(column.scale if column.scale is not None else 2, 6)
            why = "named like money: a lognormal amount" if MONEY_NAMES.search(lower) else "numeric(p, 2): an amount"
            return Choice({"type": kind, "number": number}, why)
        if kind == "int" and re.search(r"(count|quantity|qty|number|num)$", lower):
            spec = {"distribution": "poisson", "mean": 3.0, "min": max(low, 0.0), "max": high}
            return Choice({"type": "int", "number": spec}, "a count: Poisson")
        if kind == "int":
            lo, hi = max(low, 0.0), min(high, max(low, 0.0) + 1000.0)
            spec = {"distribution": "uniform", "low": lo, "high": hi + 0.49, "round": 0, "min": lo, "max": hi}
            why = f"integer in [{lo:g}, {hi:g}]" + (" (its CHECK)" if bounds else "")
            return Choice({"type": "int", "number": spec}, why)
        lo, hi = max(low, 0.0), min(high, max(low, 0.0) + 1000.0)
        spec = {"distribution": "uniform", "low": lo, "high": hi, "min": lo, "max": hi}
        if column.scale is not None:
            spec["round"] = min(column.scale, 6)
        return Choice({"type": "float", "number": spec}, f"a number in [{lo:g}, {hi:g}]")


def _in_unique_pair(spec: dict[str, Any]) -> bool:
    return "reference" in spec and "unique_with" in spec["reference"]


def _email_sources(columns: dict[str, dict[str, Any]], key: str) -> None:
    """An e-mail is derived from the row's name: the first name-like column, else the key."""
    source = next(
        (n for n, c in columns.items() if c.get("faker", {}).get("kind") in ("person_name", "first_name", "last_name")),
        next((n for n, c in columns.items() if "name" in n and c["type"] == "string" and "faker" not in c), key),
    )
    for c in columns.values():
        if c.get("faker", {}).get("from") == "__name__":
            c["faker"]["from"] = source


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
        _email_sources(body["columns"], body["key"])
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


def _find_cycle(edges: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The edges of one cycle of the graph (child -> parent), or [] when there is none."""
    parents: dict[str, list[str]] = {}
    for child, parent in edges:
        parents.setdefault(child, []).append(parent)
    state: dict[str, int] = {}
    trail: list[str] = []

    def visit(name: str) -> list[tuple[str, str]]:
        state[name] = 1
        trail.append(name)
        for parent in parents.get(name, []):
            if state.get(parent) == 1:
                loop = [*trail[trail.index(parent) :], parent]
                return list(pairwise(loop))
            if state.get(parent) is None and (found := visit(parent)):
                return found
        state[name] = 2
        trail.pop()
        return []

    for name in sorted(parents):
        if state.get(name) is None and (found := visit(name)):
            return found
    return []


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
