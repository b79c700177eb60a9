"""The YAML spec of a user's dataset: tables, and per column a type and one generator (pydantic).

A spec is validated in two steps: pydantic checks each field's shape, then `check_spec` checks what
needs the whole dataset (references to missing tables, cycles, unknown generators, a generator that
cannot make the declared type). Either way the error is ONE line naming the table, the column and
the YAML line, through `SpecError`, before any definition is built.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

ColumnType = Literal["int", "float", "money", "string", "timestamp", "bool"]
Distribution = Literal["uniform", "normal", "lognormal", "zipf", "poisson", "exponential"]
FakerKind = Literal["person_name", "first_name", "last_name", "company", "email", "phone", "city", "address"]
# Reserved for documentation (RFC 2606): a generated e-mail never reaches a real mailbox.
RESERVED_EMAIL_DOMAINS = ("example.com", "example.org", "example.net")
GENERATORS = ("sequence", "choice", "number", "faker", "text", "timestamp", "reference", "expression", "custom")


class SpecError(ValueError):
    """A spec that cannot be generated; its message is the one line the user sees."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NumberSpec(_Strict):
    """A numeric draw: distribution and its parameters, then bounds, rounding and a price ending."""

    distribution: Distribution = "uniform"
    low: float = 0.0  # uniform
    high: float = 1.0  # uniform
    mean: float = 1.0  # normal, poisson, exponential
    std: float = 1.0  # normal
    mu: float = 0.0  # lognormal
    sigma: float = 1.0  # lognormal
    n: int = Field(100, ge=1)  # zipf: ranks 1..n
    exponent: float = Field(1.1, gt=0)  # zipf
    min: float | None = None
    max: float | None = None
    round: int | None = Field(None, ge=0, le=6)  # decimals
    ending: float | None = Field(None, ge=0, lt=1)  # price endings, e.g. 0.99 makes 12.99

    @model_validator(mode="after")
    def _bounds(self) -> NumberSpec:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}")
        if self.distribution in ("poisson", "exponential") and self.mean < 0:
            raise ValueError(f"{self.distribution} needs mean >= 0, got {self.mean}")
        if self.distribution == "uniform" and self.low >= self.high:
            raise ValueError(f"uniform needs low < high, got low {self.low}, high {self.high}")
        return self


class SequenceSpec(_Strict):
    start: int = 1
    step: int = Field(1, ge=1)
    prefix: str | None = None  # a string column: prefix + zero-padded number
    width: int = Field(6, ge=1, le=18)


class ChoiceSpec(_Strict):
    values: list[str | int | float | bool] = Field(min_length=1)
    weights: list[float] | None = None

    @model_validator(mode="after")
    def _weights(self) -> ChoiceSpec:
        if self.weights is not None:
            if len(self.weights) != len(self.values):
                raise ValueError(f"{len(self.weights)} weights for {len(self.values)} values; give one per value")
            if any(w < 0 for w in self.weights) or sum(self.weights) <= 0:
                raise ValueError("weights must be >= 0 with a positive sum")
        return self


class FakerSpec(_Strict):
    kind: FakerKind
    locale: str | None = None  # default: the scenario's locale, else en_US
    source: str | None = Field(None, alias="from")  # email: the column holding the person's name
    domain: str = "example.com"

    @field_validator("domain")
    @classmethod
    def _reserved(cls, value: str) -> str:
        if value not in RESERVED_EMAIL_DOMAINS:
            raise ValueError(f"domain {value!r} is not reserved; allowed: {', '.join(RESERVED_EMAIL_DOMAINS)}")
        return value


class TextSpec(_Strict):
    vocabulary: list[str] = Field(min_length=1)
    min_words: int = Field(1, ge=1)
    max_words: int = Field(8, ge=1, le=64)


class TimestampSpec(_Strict):
    """Inside the scenario's window with weekday and hour profiles, or after parents' timestamps with a lag."""

    after: list[str] = Field(default_factory=list)  # "<parent table>.<timestamp column>"
    lag_hours: NumberSpec = NumberSpec(distribution="exponential", mean=24.0)
    weekday: list[float] | None = Field(None, min_length=7, max_length=7)  # Monday first
    hour: list[float] | None = Field(None, min_length=24, max_length=24)

    @field_validator("after", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


class ReferenceSpec(_Strict):
    table: str
    skew: float = Field(0.0, ge=0)  # 0: every parent equally popular; >0: Zipf exponent over parents
    # The parent's value of this column instead of its key (a foreign key to a UNIQUE column).
    column: str | None = None
    # Another reference column of this table: the pair is unique (a link table's UNIQUE (a, b)).
    unique_with: str | None = None
    # Another reference column of this table: the same parent row (a composite foreign key's other columns).
    via: str | None = None
    # A back-reference closing a cycle of foreign keys: drawn from the parent's row count alone, so it is
    # no dependency (the parent may come later); its check compares it with that count (dense keys).
    back: bool = False


class CustomSpec(_Strict):
    model_config = ConfigDict(extra="allow", frozen=True)
    generator: str  # a name registered with `register_generator`


class ColumnSpec(_Strict):
    type: ColumnType
    description: str | None = None
    nulls: float = Field(0.0, ge=0, lt=1)
    unique: bool = False
    sequence: SequenceSpec | None = None
    choice: ChoiceSpec | None = None
    number: NumberSpec | None = None
    faker: FakerSpec | None = None
    text: TextSpec | None = None
    timestamp: TimestampSpec | None = None
    reference: ReferenceSpec | None = None
    expression: str | None = None
    custom: CustomSpec | None = None
    max_length: int | None = Field(None, ge=1)  # strings cut to it (a varchar(n) of an imported schema)

    @field_validator("sequence", mode="before")
    @classmethod
    def _empty_sequence(cls, value: Any) -> Any:
        return {} if value is None or value is True else value

    @model_validator(mode="after")
    def _one_generator(self) -> ColumnSpec:
        given = self.generators()
        if len(given) != 1:
            raise ValueError(f"give exactly one generator, got {', '.join(given) or 'none'}; allowed: {GENERATORS}")
        return self

    def generators(self) -> list[str]:
        return [g for g in GENERATORS if getattr(self, g) is not None]

    @property
    def generator(self) -> str:
        return self.generators()[0]


class PerParentSpec(NumberSpec):
    """Children per parent row: a count drawn per parent (rounded, clipped to [min, max])."""

    table: str
    distribution: Distribution = "poisson"
    mean: float = 3.0


class RuleSpec(_Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    description: str | None = None
    where: str | None = None  # rows matching are violations
    sql: str | None = None  # selects one row with an integer column `violations`

    @model_validator(mode="after")
    def _one(self) -> RuleSpec:
        if (self.where is None) == (self.sql is None):
            raise ValueError("give exactly one of where (rows matching are violations) or sql")
        return self


class TableDdl(_Strict):
    """An imported table as the source database declares it: its columns' SQL types (with NOT NULL), and
    its constraints (PRIMARY KEY, UNIQUE, CHECK, FOREIGN KEY) and unique indexes as the catalogue prints them.
    Columns of the spec not listed here (a key the source table lacks) are generated but not loaded."""

    columns: dict[str, str] = Field(min_length=1)
    constraints: list[str] = Field(default_factory=list)
    indexes: list[str] = Field(default_factory=list)  # CREATE UNIQUE INDEX statements, table unqualified


class TableSpecModel(_Strict):
    description: str | None = None
    rows: int | None = Field(None, ge=1)
    per_parent: PerParentSpec | None = None
    key: str | None = None  # default: the first column
    created: str | None = None  # default: created_at when declared
    columns: dict[str, ColumnSpec] = Field(min_length=1)
    rules: list[RuleSpec] = Field(default_factory=list)
    text_columns: list[str] = Field(default_factory=list)
    ddl: TableDdl | None = None  # the source table's DDL (import-schema), recreated by the database load

    @model_validator(mode="after")
    def _size(self) -> TableSpecModel:
        if (self.rows is None) == (self.per_parent is None):
            raise ValueError("give exactly one of rows or per_parent")
        return self


class DatasetSpec(_Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    description: str | None = None
    tables: dict[str, TableSpecModel] = Field(min_length=1)
    types: list[str] = Field(default_factory=list)  # CREATE TYPE statements of the source schema


# --- Custom generators ---------------------------------------------------------------------------
# fn(stream, rows, params) -> numpy or Arrow array of len(rows): a pure function of the row indices.
Generator = Callable[..., Any]
_REGISTRY: dict[str, Generator] = {}


def register_generator(name: str) -> Callable[[Generator], Generator]:
    """Register `fn(stream, rows, **params)` under `name`, usable as `custom: {generator: name, ...}`."""

    def register(fn: Generator) -> Generator:
        _REGISTRY[name] = fn
        return fn

    return register


def registered(name: str) -> Generator | None:
    return _REGISTRY.get(name)


def registered_names() -> list[str]:
    return sorted(_REGISTRY)


# --- Parsing with YAML lines -----------------------------------------------------------------------
class Located:
    """Finds the YAML line of a path of keys in the document the spec came from."""

    def __init__(self, text: str | None, source: str, root: Sequence[str | int] = ()) -> None:
        self.node = yaml.compose(text) if text else None
        self.source = source
        self.root = tuple(root)

    def line(self, path: Sequence[str | int]) -> int | None:
        """The line of the deepest key of `path` present in the document (1-based), if any."""
        node, best = self.node, None
        for part in (*self.root, *path):
            if isinstance(node, yaml.MappingNode):
                found = next(((k, v) for k, v in node.value if k.value == part), None)
                if found is None:
                    break
                best, node = found[0].start_mark.line + 1, found[1]
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
                node = node.value[part]
                best = node.start_mark.line + 1
            else:
                break
        return best

    def where(self, path: Sequence[str | int]) -> str:
        line = self.line(path)
        return f"{self.source}:{line}" if line else self.source


def error(located: Located, path: Sequence[str | int], message: str) -> SpecError:
    """One line: where in the YAML, which table and column, what is wrong."""
    table = path[1] if len(path) > 1 and path[0] == "tables" else None
    column = path[3] if len(path) > 3 and path[2] == "columns" else None
    who = f"table {table!r}" if table is not None else "dataset"
    if column is not None:
        who += f", column {column!r}"
    return SpecError(f"{located.where(path)}: {who}: {message}")


def parse_spec(data: Mapping[str, Any], located: Located) -> DatasetSpec:
    """The validated spec, or a SpecError naming the first problem's table, column and line."""
    try:
        spec = DatasetSpec.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        path = list(first["loc"])
        field = ".".join(str(p) for p in first["loc"][4:]) if len(first["loc"]) > 4 else None
        message = first["msg"].removeprefix("Value error, ")
        if first["type"] == "extra_forbidden":
            name = first["loc"][-1]
            allowed = ", ".join(GENERATORS) if len(first["loc"]) == 5 else "see the spec reference"
            message = f"unknown field {name!r}" + (
                f" (not a generator); allowed: {allowed}" if len(first["loc"]) == 5 else ""
            )
        elif field:
            message = f"{field}: {message}"
        raise error(located, path, message) from None
    check_spec(spec, located)
    return spec


def load_spec(path: Path) -> DatasetSpec:
    """A spec from a YAML file of its own (the component reads its attributes instead)."""
    text = path.read_text()
    return parse_spec(yaml.safe_load(text) or {}, Located(text, str(path)))


# --- Whole-dataset checks --------------------------------------------------------------------------
_TYPES_OF: dict[str, tuple[str, ...]] = {
    "sequence": ("int", "string"),
    "choice": ("int", "float", "string", "bool"),
    "number": ("int", "float", "money"),
    "faker": ("string",),
    "text": ("string",),
    "timestamp": ("timestamp",),
    "reference": ("int", "float", "money", "string", "timestamp", "bool"),  # a column reference: its type
    "expression": ("int", "float", "money", "bool"),
    "custom": ("int", "float", "money", "string", "timestamp", "bool"),
}


def expression_names(text: str) -> list[str]:
    """The column names an expression reads (it is parsed, never evaluated by Python)."""
    tree = ast.parse(text, mode="eval")
    functions = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}  # round(...) names no column
    return sorted({n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and id(n) not in functions})


def column_dependencies(table: TableSpecModel, name: str) -> list[str]:
    """The same-row columns a column's generator reads."""
    c = table.columns[name]
    if c.expression is not None:
        return expression_names(c.expression)
    if c.faker is not None and c.faker.source is not None:
        return [c.faker.source]
    if c.timestamp is not None and c.timestamp.after:
        refs = {c2.reference.table: n for n, c2 in table.columns.items() if c2.reference is not None}
        return [refs[a.split(".")[0]] for a in c.timestamp.after if a.split(".")[0] in refs]
    return []


def table_order(spec: DatasetSpec, located: Located) -> list[str]:
    """Tables parents first; a cycle is refused naming a table on it."""
    parents: dict[str, list[str]] = {}
    for name, t in spec.tables.items():
        ps = [
            c.reference.table
            for c in t.columns.values()
            if c.reference is not None and c.reference.table != name and not c.reference.back
        ]
        ps += [t.per_parent.table] if t.per_parent is not None else []
        parents[name] = list(dict.fromkeys(ps))
    order: list[str] = []
    state: dict[str, int] = {}

    def visit(name: str, trail: list[str]) -> None:
        if state.get(name) == 2:
            return
        if state.get(name) == 1:
            cycle = " -> ".join([*trail[trail.index(name) :], name])
            child = trail[-1]  # the table whose reference closes the cycle
            column = next(
                n
                for n, c in spec.tables[child].columns.items()
                if c.reference is not None and c.reference.table == name
            )
            name = child
            raise error(located, ["tables", name, "columns", column, "reference"], f"references form a cycle: {cycle}")
        state[name] = 1
        for p in parents[name]:
            visit(p, [*trail, name])
        state[name] = 2
        order.append(name)

    for name in spec.tables:
        visit(name, [])
    return order


def check_spec(spec: DatasetSpec, located: Located) -> None:
    for tname, t in spec.tables.items():
        base = ["tables", tname]
        key = t.key or next(iter(t.columns))
        if key not in t.columns:
            raise error(located, [*base, "key"], f"key {key!r} is not a column; allowed: {', '.join(t.columns)}")
        kc = t.columns[key]
        if kc.sequence is None or kc.type != "int" or kc.sequence.start != 1 or kc.sequence.step != 1:
            raise error(located, [*base, "columns", key], "the key must be `type: int` with `sequence: {}` (1..n)")
        if t.per_parent is not None and t.per_parent.table not in spec.tables:
            raise error(
                located,
                [*base, "per_parent", "table"],
                f"per_parent names table {t.per_parent.table!r}, which is not declared; declared: {', '.join(spec.tables)}",
            )
        for cname, c in t.columns.items():
            cpath = [*base, "columns", cname]
            if not cname.isidentifier() or cname != cname.lower():
                raise error(located, cpath, "a column name must be a lower-case identifier")
            gen = c.generator
            if c.type not in _TYPES_OF[gen]:
                raise error(
                    located,
                    [*cpath, "type"],
                    f"type {c.type!r} does not fit generator {gen!r}; allowed: {', '.join(_TYPES_OF[gen])}",
                )
            if c.choice is not None and c.type != "string":
                fits = {"int": int, "float": (int, float), "bool": bool}[c.type]
                if bad := [
                    v
                    for v in c.choice.values
                    if not isinstance(v, fits) or (c.type != "bool") == (v is True or v is False)
                ]:
                    raise error(located, [*cpath, "choice", "values"], f"value {bad[0]!r} is not of type {c.type}")
            if c.reference is not None and c.reference.table not in spec.tables:
                raise error(
                    located,
                    [*cpath, "reference", "table"],
                    f"references table {c.reference.table!r}, which is not declared; declared: {', '.join(spec.tables)}",
                )
            if c.reference is not None:
                _check_reference(spec, tname, cname, c.reference, located)
            elif c.max_length is not None and c.type != "string":
                raise error(located, [*cpath, "max_length"], "max_length applies to a string column only")
            if c.custom is not None and registered(c.custom.generator) is None:
                raise error(
                    located,
                    [*cpath, "custom", "generator"],
                    f"unknown generator {c.custom.generator!r}; registered: {', '.join(registered_names()) or 'none'}"
                    " (register_generator in a module the component imports)",
                )
            if c.expression is not None:
                try:
                    names = expression_names(c.expression)
                except SyntaxError:
                    raise error(located, [*cpath, "expression"], f"{c.expression!r} is not an expression") from None
                if unknown := [n for n in names if n not in t.columns]:
                    raise error(
                        located,
                        [*cpath, "expression"],
                        f"names {unknown[0]!r}, not a column of {tname}; allowed: {', '.join(t.columns)}",
                    )
            if c.faker is not None and c.faker.source is not None and c.faker.source not in t.columns:
                raise error(located, [*cpath, "faker", "from"], f"from names {c.faker.source!r}, not a column")
            if c.faker is not None and c.faker.kind == "email" and c.faker.source is None:
                raise error(located, [*cpath, "faker"], "an email needs `from: <name column>` to derive it from")
            if c.timestamp is not None:
                refs = {c2.reference.table for c2 in t.columns.values() if c2.reference and not c2.reference.back}
                for i, after in enumerate(c.timestamp.after):
                    ptable, _, pcol = after.partition(".")
                    p = spec.tables.get(ptable)
                    if ptable not in refs or p is None or pcol not in p.columns or p.columns[pcol].type != "timestamp":
                        raise error(
                            located,
                            [*cpath, "timestamp", "after", i],
                            f"after {after!r} must be <table>.<timestamp column> of a table this one references"
                            f" ({', '.join(sorted(refs)) or 'none'})",
                        )
            makes_unique = gen in ("sequence", "number") or (c.faker is not None and c.faker.kind == "email")
            if c.unique and not makes_unique:
                raise error(
                    located, [*cpath, "unique"], "unique is made by sequence, faker email or an int number only"
                )
            if (
                c.unique
                and gen == "number"
                and (c.type != "int" or c.number is None or c.number.min is None or c.number.max is None)
            ):
                raise error(located, [*cpath, "unique"], "a unique number needs type int and min/max bounds")
        _column_cycles(tname, t, located)
    table_order(spec, located)


def _check_reference(spec: DatasetSpec, tname: str, cname: str, ref: ReferenceSpec, located: Located) -> None:
    """A column reference names a unique parent column of the same type; a unique pair is mutual."""
    t, p = spec.tables[tname], spec.tables[ref.table]
    path = ["tables", tname, "columns", cname, "reference"]
    c = t.columns[cname]
    if ref.column is None and c.type != "int":
        raise error(located, [*path[:-1], "type"], f"a reference to {ref.table}'s key is type int, not {c.type!r}")
    if ref.column is not None:
        # The parent row's own value: a valid foreign key whatever that column's generator.
        pc = p.columns.get(ref.column)
        if pc is None or pc.type != c.type:
            allowed = [n for n, x in p.columns.items() if x.type == c.type]
            raise error(
                located, [*path, "column"], f"{ref.table} has no {c.type} column {ref.column!r}; allowed: {allowed}"
            )
    if ref.via is not None:
        other = t.columns.get(ref.via)
        if other is None or other.reference is None or other.reference.table != ref.table or other.reference.via:
            raise error(
                located, [*path, "via"], f"via {ref.via!r} must be a reference column to {ref.table} without via"
            )
    if ref.back and (ref.column or ref.unique_with or ref.via or ref.skew):
        raise error(
            located, [*path, "back"], "a back-reference draws a parent key alone (no column, unique_with, via, skew)"
        )
    if ref.unique_with is not None:
        other = t.columns.get(ref.unique_with)
        if other is None or other.reference is None or other.reference.unique_with != cname or ref.unique_with == cname:
            raise error(
                located,
                [*path, "unique_with"],
                f"unique_with {ref.unique_with!r} must be another reference column whose unique_with is {cname!r}",
            )
        if ref.column is not None:
            raise error(located, [*path, "unique_with"], "a unique pair references the parents' keys (no column)")


def _column_cycles(tname: str, t: TableSpecModel, located: Located) -> None:
    state: dict[str, int] = {}

    def visit(name: str, trail: list[str]) -> None:
        if state.get(name) == 2:
            return
        if state.get(name) == 1:
            cycle = " -> ".join([*trail[trail.index(name) :], name])
            raise error(located, ["tables", tname, "columns", name], f"columns depend on each other: {cycle}")
        state[name] = 1
        for d in column_dependencies(t, name):
            visit(d, [*trail, name])
        state[name] = 2

    for name in t.columns:
        visit(name, [])
