"""Generating a spec'd dataset: every value a pure function of (seed, dataset, table, column, row).

No Dagster here. A table's rows are numbered 0..n-1 (its key is row + 1); a child made per parent
finds its parent from the cumulative child counts, and a column that reads another table (a
timestamp after its parent's) recomputes the parent's value for the parent's row, so any chunk of
any table is generated alone and the bytes never depend on the chunk size.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mock_pipeline.engine import columns as col
from mock_pipeline.engine.distributions import affine_permutation, categorical, null_mask, unique_codes
from mock_pipeline.engine.pools import pools, slug
from mock_pipeline.engine.random import Stream
from mock_pipeline.engine.timeline import DAY, HOUR_PROFILE, WEEKDAY_PATTERN
from mock_pipeline.mock_dataset.spec import ColumnSpec, DatasetSpec, NumberSpec, TableSpecModel, registered
from mock_pipeline.scenarios.model import Scenario, ScenarioError

ARROW_TYPES: dict[str, pa.DataType] = {
    "int": col.INT,
    "float": pa.float64(),
    "money": col.MONEY,
    "string": col.STRING,
    "timestamp": col.TIMESTAMP,
    "bool": pa.bool_(),
}
DEFAULT_LOCALE = "en_US"


def draw(spec: NumberSpec, stream: Stream, rows: np.ndarray) -> np.ndarray:
    """Floats from the spec's distribution, then bounds, price ending and rounding."""
    d = spec.distribution
    if d == "uniform":
        v = spec.low + stream.uniform(rows) * (spec.high - spec.low)
    elif d == "normal":
        u1, u2 = 1.0 - stream.sub("n1").uniform(rows), stream.sub("n2").uniform(rows)
        v = spec.mean + spec.std * np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)
    elif d == "lognormal":
        u1, u2 = 1.0 - stream.sub("n1").uniform(rows), stream.sub("n2").uniform(rows)
        v = np.exp(spec.mu + spec.sigma * np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2))
    elif d == "zipf":
        v = _zipf_ranks(stream, rows, spec.n, spec.exponent).astype(np.float64) + 1.0
    elif d == "poisson":
        v = _poisson(stream, rows, spec.mean)
    else:  # exponential
        v = -np.log1p(-stream.uniform(rows)) * spec.mean
    if spec.min is not None or spec.max is not None:
        v = np.clip(v, spec.min if spec.min is not None else -np.inf, spec.max if spec.max is not None else np.inf)
    if spec.ending is not None:
        v = np.floor(v) + spec.ending
    if spec.round is not None:
        v = np.round(v, spec.round)
    return v


_CDFS: dict[tuple[int, float], np.ndarray] = {}
_POISSON_CDFS: dict[float, np.ndarray] = {}


def _poisson(stream: Stream, rows: np.ndarray, mean: float) -> np.ndarray:
    """Poisson counts by inverse CDF, the CDF built once per mean (the engine's `poisson` takes a
    per-row mean and builds a row x k matrix: several times slower for the one mean a spec gives)."""
    if mean not in _POISSON_CDFS:
        _POISSON_CDFS[mean] = np.cumsum(poisson_pmf(mean))
    cdf = _POISSON_CDFS[mean]
    return np.minimum(np.searchsorted(cdf, stream.uniform(rows), side="right"), len(cdf) - 1).astype(np.float64)


def poisson_pmf(mean: float) -> np.ndarray:
    kmax = int(mean + 12.0 * np.sqrt(mean) + 12.0)
    k = np.arange(kmax + 1, dtype=np.float64)
    log_fact = np.concatenate(([0.0], np.cumsum(np.log(np.arange(1, kmax + 1)))))
    safe = max(mean, 1e-300)
    return np.exp(-safe + k * np.log(safe) - log_fact)


def _zipf_ranks(stream: Stream, rows: np.ndarray, n: int, exponent: float) -> np.ndarray:
    """Rank 0..n-1 with Zipf popularity; the normalised CDF is built once per (n, exponent)."""
    if (n, exponent) not in _CDFS:
        cdf = np.cumsum(1.0 / np.arange(1, n + 1, dtype=np.float64) ** exponent)
        _CDFS[(n, exponent)] = cdf / cdf[-1]
    return np.minimum(np.searchsorted(_CDFS[(n, exponent)], stream.uniform(rows), side="right"), n - 1)


# --- Expressions: parsed with ast, evaluated by walking the tree over numpy arrays (never eval) ------
_BINARY: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_COMPARE: dict[type, Callable[[Any, Any], Any]] = {
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
}
_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "abs": np.abs,
    "round": lambda x, n=0: np.round(x, int(n)),
    "min": np.minimum,
    "max": np.maximum,
    "floor": np.floor,
    "ceil": np.ceil,
}


class ExpressionError(ValueError):
    pass


def evaluate(text: str, values: Callable[[str], np.ndarray]) -> np.ndarray:
    """The expression over whole columns: numbers, column names, + - * / // % **, comparisons and
    abs/round/min/max/floor/ceil. Anything else (attributes, subscripts, other calls) is refused."""

    def walk(node: ast.AST) -> Any:
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
            return node.value
        if isinstance(node, ast.Name):
            return values(node.id)
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            return _BINARY[type(node.op)](walk(node.left), walk(node.right))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            return -walk(node.operand) if isinstance(node.op, ast.USub) else walk(node.operand)
        if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _COMPARE:
            return _COMPARE[type(node.ops[0])](walk(node.left), walk(node.comparators[0]))
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in _FUNCTIONS
            and not node.keywords
        ):
            return _FUNCTIONS[node.func.id](*(walk(a) for a in node.args))
        raise ExpressionError(f"{ast.unparse(node)!r} is not allowed; allowed: numbers, columns, + - * / // % **,"
                              " comparisons, abs round min max floor ceil")  # fmt: skip

    return walk(ast.parse(text, mode="eval"))


def check_expression(text: str) -> None:
    """Refuse what `evaluate` would refuse, before any row is made."""
    evaluate(text, lambda _name: np.ones(1))


class DatasetModel:
    """A spec under one scenario: row counts, child counts per parent, and the column generators."""

    def __init__(self, spec: DatasetSpec, order: list[str], scenario: Scenario) -> None:
        self.spec = spec
        self.seed = scenario.seed
        self.start = scenario.window.start_epoch
        self.end = scenario.window.end_epoch
        self.weekdays = scenario.window.weekdays()
        self.locale = scenario.locale or DEFAULT_LOCALE
        self.rows: dict[str, int] = {}
        # Per child table: first row of each parent's children (len = parent rows + 1).
        self.offsets: dict[str, np.ndarray] = {}
        for name in order:
            t = spec.tables[name]
            if t.per_parent is None:
                assert t.rows is not None
                self.rows[name] = max(1, round(t.rows * scenario.volume_multiplier))
                continue
            parents = np.arange(self.rows[t.per_parent.table], dtype=np.int64)
            counts = np.maximum(np.rint(draw(t.per_parent, self.stream(name, "__children"), parents)), 0)
            self.offsets[name] = np.concatenate(([0], np.cumsum(counts.astype(np.int64))))
            self.rows[name] = int(self.offsets[name][-1])
        for name in order:
            for cname, c in spec.tables[name].columns.items():
                if c.reference is not None and c.reference.unique_with is not None:
                    other = spec.tables[name].columns[c.reference.unique_with].reference
                    assert other is not None
                    pairs = self.rows[c.reference.table] * self.rows[other.table]
                    if self.rows[name] > pairs:
                        raise ScenarioError(
                            "volume_multiplier",
                            f"{spec.name}.{name} would need {self.rows[name]:,} distinct ({cname},"
                            f" {c.reference.unique_with}) pairs, only {pairs:,} exist; allowed: fewer {name} rows"
                            f" or more {c.reference.table}/{other.table} rows",
                        )
                if c.unique and c.number is not None:
                    assert c.number.min is not None and c.number.max is not None
                    if self.rows[name] > c.number.max - c.number.min + 1:
                        # The scenario asked for more rows than the bounds have values: its step's one line.
                        raise ScenarioError(
                            "volume_multiplier",
                            f"{spec.name}.{name}.{cname} would need {self.rows[name]:,} unique values from"
                            f" [{c.number.min:g}, {c.number.max:g}]; allowed: a multiplier that makes fewer rows,"
                            " or wider bounds in the spec",
                        )

    def stream(self, table: str, column: str) -> Stream:
        return Stream(self.seed, "mock_dataset", self.spec.name, table, column)

    def build(self, table: str, lo: int, hi: int) -> dict[str, pa.Array]:
        rows = np.arange(lo, hi, dtype=np.int64)
        chunk = _Chunk(self)
        t = self.spec.tables[table]
        return {name: chunk.final(table, name, rows) for name in t.columns}


class _Chunk:
    """One chunk's columns; a column read twice (a dependency) is computed once per row set."""

    def __init__(self, model: DatasetModel) -> None:
        self.m = model
        self.cache: dict[tuple[str, str, int], Any] = {}
        self.keep: list[np.ndarray] = []  # the row sets the cache's ids refer to stay alive

    def final(self, table: str, name: str, rows: np.ndarray) -> pa.Array:
        c = self.m.spec.tables[table].columns[name]
        raw = self.raw(table, name, rows)
        nulls = null_mask(self.m.stream(table, name), rows, c.nulls) if c.nulls > 0 else None
        if c.type == "string":
            arr = raw if isinstance(raw, pa.Array) else pa.array(raw).cast(pa.string())
            if c.max_length is not None:
                arr = pc.utf8_slice_codeunits(arr, 0, c.max_length)
            return arr if nulls is None else pc.if_else(pa.array(nulls), pa.nulls(len(rows), pa.string()), arr)
        if isinstance(raw, pa.Array):
            raw = raw.to_numpy(zero_copy_only=False)
        raw = np.asarray(raw)
        if c.type == "int":
            return col.ints(np.rint(raw).astype(np.int64), nulls)
        if c.type == "money":
            return col.money(np.rint(raw.astype(np.float64) * 100).astype(np.int64), nulls)
        if c.type == "timestamp":
            return col.timestamps(raw.astype(np.int64), nulls)
        if c.type == "bool":
            return pa.array(raw.astype(bool), pa.bool_(), mask=col.mask(nulls))
        return pa.array(raw.astype(np.float64), pa.float64(), mask=col.mask(nulls))

    def raw(self, table: str, name: str, rows: np.ndarray) -> Any:
        """A column's values before nulls; "keys:<column>" (never an identifier) is a reference column's parent keys."""
        key = (table, name, id(rows))
        if key not in self.cache:
            self.keep.append(rows)
            if name.startswith("keys:"):
                column = name.removeprefix("keys:")
                self.cache[key] = self._parent_keys(table, column, self.m.stream(table, column), rows)
            else:
                self.cache[key] = self._generate(table, name, rows)
        return self.cache[key]

    def _generate(self, table: str, name: str, rows: np.ndarray) -> Any:
        m = self.m
        t = m.spec.tables[table]
        c = t.columns[name]
        s = m.stream(table, name)
        if c.sequence is not None:
            q = c.sequence
            numbers = q.start + rows * q.step
            return col.digits(numbers, q.width, q.prefix) if c.type == "string" else numbers
        if c.choice is not None:
            idx = categorical(s, rows, c.choice.weights or [1.0] * len(c.choice.values))
            if c.type == "string":
                return pa.array([str(v) for v in c.choice.values], pa.string()).take(pa.array(idx))
            return np.asarray(c.choice.values)[idx]
        if c.number is not None:
            if c.unique:
                assert c.number.min is not None and c.number.max is not None
                low = int(c.number.min)
                return low + unique_codes(s, rows, int(c.number.max) - low + 1)
            return draw(c.number, s, rows)
        if c.faker is not None:
            return self._faker(table, c, s, rows)
        if c.text is not None:
            x = c.text
            vocab = pa.array(x.vocabulary, pa.string())
            words = s.sub("words").integers(rows, x.min_words, max(x.min_words, x.max_words) + 1)
            parts = [
                pa.array(vocab.take(pa.array(s.sub(str(j)).integers(rows, 0, len(vocab)))), mask=j >= words)
                for j in range(max(x.min_words, x.max_words))
            ]
            return pc.binary_join_element_wise(*parts, " ", null_handling="skip")
        if c.timestamp is not None:
            return self._timestamp(table, c, s, rows)
        if c.reference is not None:
            return self._reference(table, name, c, s, rows)
        if c.expression is not None:
            return evaluate(c.expression, lambda other: _numeric(self.raw(table, other, rows)))
        assert c.custom is not None
        generator = registered(c.custom.generator)
        assert generator is not None
        params = {k: v for k, v in (c.custom.model_extra or {}).items()}
        return generator(s, rows, **params)

    def _faker(self, table: str, c: ColumnSpec, s: Stream, rows: np.ndarray) -> pa.Array:
        assert c.faker is not None
        p = pools(c.faker.locale or self.m.locale, self.m.seed)
        kind = c.faker.kind

        def pick(pool: pa.Array, sub: str) -> pa.Array:
            return pool.take(pa.array(s.sub(sub).integers(rows, 0, len(pool))))

        if kind == "person_name":
            return col.join(pick(p.first_names, "first"), pick(p.last_names, "last"), sep=" ")
        if kind == "email":
            assert c.faker.source is not None
            source = self.raw(table, c.faker.source, rows)
            local = slug(pc.replace_substring(_strings(source), " ", "0dot0"))
            local = pc.replace_substring(local, "0dot0", ".")
            # The row number keeps addresses unique; the domain is reserved, so no mail reaches anyone.
            return col.join(local, col.text(rows + 1), "@" + c.faker.domain)
        pool = {
            "first_name": p.first_names,
            "last_name": p.last_names,
            "company": p.companies,
            "phone": p.phones,
            "city": p.cities,
        }.get(kind)
        if pool is not None:
            return pick(pool, kind)
        return col.join(pick(p.streets, "street"), pick(p.cities, "city"), sep=", ")  # address

    def _timestamp(self, table: str, c: ColumnSpec, s: Stream, rows: np.ndarray) -> np.ndarray:
        assert c.timestamp is not None
        m, ts = self.m, c.timestamp
        if not ts.after:
            weekday = np.asarray(ts.weekday or WEEKDAY_PATTERN, dtype=np.float64)
            day = categorical(s.sub("day"), rows, weekday[m.weekdays])
            hour = categorical(s.sub("hour"), rows, ts.hour or HOUR_PROFILE)
            return m.start + day * DAY + hour * 3600 + s.sub("second").integers(rows, 0, 3600)
        base = None
        t = m.spec.tables[table]
        for after in ts.after:
            parent, _, pcol = after.partition(".")
            fk = next(n for n, cc in t.columns.items() if cc.reference is not None and cc.reference.table == parent)
            parent_rows = np.asarray(self.raw(table, "keys:" + fk, rows), dtype=np.int64) - 1
            values = self.raw(parent, pcol, parent_rows)
            base = values if base is None else np.maximum(base, values)
        assert base is not None
        lag = np.maximum(draw(ts.lag_hours, s.sub("lag"), rows), 0.0) * 3600.0
        out = base + np.floor(lag).astype(np.int64)
        # Past the window's end: somewhere between the parent's time and the end instead (never a clamp,
        # which would pile rows onto one instant).
        late = out >= m.end
        if late.any():
            room = np.maximum(m.end - base, 1)
            out = np.where(late, base + np.floor(s.sub("late").uniform(rows) * room).astype(np.int64), out)
        return out

    def _reference(self, table: str, name: str, c: ColumnSpec, s: Stream, rows: np.ndarray) -> Any:
        assert c.reference is not None
        keys = self.raw(table, "keys:" + name, rows)
        if c.reference.column is None:
            return keys
        # A foreign key to a unique non-key column: the parent row's value of it, recomputed.
        return self.raw(c.reference.table, c.reference.column, np.asarray(keys, dtype=np.int64) - 1)

    def _parent_keys(self, table: str, name: str, s: Stream, rows: np.ndarray) -> np.ndarray:
        m = self.m
        t = m.spec.tables[table]
        c = t.columns[name]
        assert c.reference is not None
        parent = c.reference.table
        if c.reference.via is not None:  # a composite foreign key: its first column's parent row
            return self.raw(table, "keys:" + c.reference.via, rows)
        if c.reference.unique_with is not None:
            # A unique pair: one keyed permutation of the parents' grid, shared by both columns.
            first, second = sorted((name, c.reference.unique_with))
            t1, t2 = t.columns[first].reference, t.columns[second].reference
            assert t1 is not None and t2 is not None
            width = m.rows[t2.table]
            code = unique_codes(m.stream(table, f"{first}|{second}"), rows, m.rows[t1.table] * width)
            return (code // width if name == first else code % width) + 1
        if parent == table:
            # Itself: an earlier row (the first row points at itself), so rows can be loaded in key order.
            return np.floor(s.uniform(rows) * rows).astype(np.int64) + 1
        if c.reference.back:  # the parent's keys are 1..rows, known before any of its rows are made
            return s.integers(rows, 0, m.rows[parent]) + 1
        if t.per_parent is not None and t.per_parent.table == parent and _structural(t, name):
            return np.searchsorted(m.offsets[table], rows, side="right")  # parent row + 1: its key
        n = m.rows[parent]
        if c.reference.skew <= 0:
            return s.integers(rows, 0, n) + 1
        rank = _zipf_ranks(s, rows, n, c.reference.skew)
        # Popularity by a keyed permutation, not by key order: parent 1 is not always the favourite.
        a, b = affine_permutation(s.sub("popular"), n) if n > 2 else (1, 0)
        return (rank * a + b) % n + 1


def _structural(t: TableSpecModel, name: str) -> bool:
    """The first column referencing a per-parent table's parent is the row's own parent."""
    assert t.per_parent is not None
    return name == next(
        n for n, c in t.columns.items() if c.reference is not None and c.reference.table == t.per_parent.table
    )


def _numeric(values: Any) -> np.ndarray:
    if isinstance(values, pa.Array):
        raise ExpressionError("an expression reads numbers, timestamps or booleans, not strings")
    return np.asarray(values, dtype=np.float64)


def _strings(values: Any) -> pa.Array:
    return values if isinstance(values, pa.Array) else pa.array(np.asarray(values)).cast(pa.string())
