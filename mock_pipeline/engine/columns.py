"""Building Arrow columns from numpy arrays and value pools, a whole chunk at a time."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# Milliseconds: Parquet has no seconds unit, so this is what a table looks like when read back.
TIMESTAMP = pa.timestamp("ms", tz="UTC")
MONEY = pa.decimal128(14, 2)
JSON = "json"  # marker type: a string column holding a JSON document (exported as nested JSON)
STRING = pa.string()
INT = pa.int64()


def schema(*pairs: tuple[str, pa.DataType | str]) -> pa.Schema:
    """A schema from (name, type) pairs; type JSON makes a string field tagged format=json."""
    return pa.schema(
        [pa.field(n, pa.string(), metadata={"format": "json"}) if t == JSON else pa.field(n, t) for n, t in pairs]
    )


def take(pool: pa.Array, idx: np.ndarray) -> pa.Array:
    return pool.take(pa.array(np.asarray(idx, dtype=np.int64) % len(pool)))


def ids(lo: int, hi: int) -> np.ndarray:
    """The slot indices [lo, hi) a builder is asked for."""
    return np.arange(lo, hi, dtype=np.int64)


def pick(values: tuple[str, ...] | list[str], idx: np.ndarray) -> pa.Array:
    """values[idx % len(values)] as a string array."""
    return take(pa.array(values, STRING), idx)


def join(*parts: pa.Array | str, sep: str = "") -> pa.Array:
    """Element-wise concatenation of string arrays and literals."""
    return pc.binary_join_element_wise(*parts, sep)


_FOUR_DIGITS = np.array([list(f"{i:04d}".encode()) for i in range(10_000)], dtype=np.uint8)


def digits(values: np.ndarray, width: int, prefix: str = "") -> pa.Array:
    """`prefix` + zero-padded decimal strings of exactly `width` digits (values < 10**width).

    Built straight into an Arrow buffer: every string has the same length, so the offsets are
    an arithmetic progression and the characters a byte matrix filled four digits at a time.
    """
    values = np.asarray(values, dtype=np.int64)
    head = np.frombuffer(prefix.encode("ascii"), dtype=np.uint8)
    groups = -(-width // 4)
    padded = np.empty((len(values), groups * 4), dtype=np.uint8)
    rest = values
    for k in range(groups - 1, -1, -1):
        rest, group = np.divmod(rest, 10_000)
        padded[:, 4 * k : 4 * k + 4] = _FOUR_DIGITS[group]
    size = len(head) + width
    chars = np.empty((len(values), size), dtype=np.uint8)
    chars[:, : len(head)] = head
    chars[:, len(head) :] = padded[:, groups * 4 - width :]
    offsets = np.arange(0, (len(values) + 1) * size, size, dtype=np.int32)
    return pa.StringArray.from_buffers(len(values), pa.py_buffer(offsets), pa.py_buffer(chars))


def labels(pool: pa.Array, idx: np.ndarray) -> pa.Array:
    """pool[idx] with null where idx < 0."""
    idx = np.asarray(idx, dtype=np.int64)
    missing = idx < 0
    return pool.take(pa.array(np.where(missing, 0, idx), mask=missing if missing.any() else None))


def text(values: np.ndarray) -> pa.Array:
    return pc.cast(pa.array(values), pa.string())


def mask(values: np.ndarray | None) -> np.ndarray | None:
    return None if values is None or not values.any() else values


def timestamps(seconds: np.ndarray, nulls: np.ndarray | None = None) -> pa.Array:
    """Whole epoch seconds as UTC timestamps."""
    return pa.array(np.asarray(seconds, dtype=np.int64) * 1000, TIMESTAMP, mask=mask(nulls))


def epoch_seconds(values: pa.Array) -> np.ndarray:
    """The inverse of `timestamps` (nulls become 0)."""
    return pc.fill_null(values.cast(pa.timestamp("s", tz="UTC")).cast(pa.int64()), 0).to_numpy()


def money(cents: np.ndarray, nulls: np.ndarray | None = None) -> pa.Array:
    """Exact decimal(14, 2) from integer cents, without a float round trip."""
    cents = np.ascontiguousarray(cents, dtype=np.int64)
    words = np.empty((len(cents), 2), dtype=np.int64)
    words[:, 0] = cents
    words[:, 1] = cents >> 63  # sign extension into the high word
    validity = None
    nulls = mask(nulls)
    if nulls is not None:
        validity = pa.array(~nulls).buffers()[1]
    return pa.Array.from_buffers(MONEY, len(cents), [validity, pa.py_buffer(words)], null_count=-1)


def ints(values: np.ndarray, nulls: np.ndarray | None = None) -> pa.Array:
    return pa.array(np.asarray(values, dtype=np.int64), pa.int64(), mask=mask(nulls))


def json_escape(values: pa.Array) -> pa.Array:
    escaped = pc.replace_substring(values, "\\", "\\\\")
    return pc.replace_substring(escaped, '"', '\\"')


def json_objects(fields: dict[str, pa.Array]) -> pa.Array:
    """One compact JSON object per row from string columns (null values become JSON null)."""
    parts: list[pa.Array | str] = []
    for i, (name, values) in enumerate(fields.items()):
        quoted = join('"', json_escape(values), '"')
        parts.append(('{"' if i == 0 else ',"') + name + '":')
        parts.append(pc.fill_null(quoted, "null"))
    parts.append("}")
    return join(*parts)


def table(columns: dict[str, pa.Array | np.ndarray], schema: pa.Schema) -> pa.Table:
    arrays = [
        pa.array(columns[f.name], f.type) if isinstance(columns[f.name], np.ndarray) else columns[f.name]
        for f in schema
    ]
    return pa.Table.from_arrays(arrays, schema=schema)
