"""Choosing one generator per column of a source table, and saying why (`mock-pipeline import-schema`).

From the type and the name, the constraints (foreign keys, unique, simple CHECK ranges and IN lists) and
cycles of foreign keys (back-references). What cannot be generated is added to `Importer.refused`, one line
per column, never skipped silently. No Dagster, no database here: the input is mock_pipeline.mock_dataset.catalogue's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from mock_pipeline.mock_dataset.catalogue import Constraint, SourceColumn, SourceTable, quote

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
            "constraints": [f"CONSTRAINT {quote(c.name)} {c.definition}" for c in t.constraints],
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


def email_sources(columns: dict[str, dict[str, Any]], key: str) -> None:
    """An e-mail is derived from the row's name: the first name-like column, else the key."""
    source = next(
        (n for n, c in columns.items() if c.get("faker", {}).get("kind") in ("person_name", "first_name", "last_name")),
        next((n for n, c in columns.items() if "name" in n and c["type"] == "string" and "faker" not in c), key),
    )
    for c in columns.values():
        if c.get("faker", {}).get("from") == "__name__":
            c["faker"]["from"] = source


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
