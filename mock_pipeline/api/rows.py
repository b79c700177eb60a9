"""Where the API's rows come from: a materialised table's Parquet, or the engine on demand.

Both answer `total()` and `page(offset, limit)` with the rows the files export would write, in
the export's order (the table's Parquet order), as Arrow tables of the export's columns.
"""

from __future__ import annotations

import bisect
import itertools
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from mock_pipeline.engine.table import TableSpec, ordered_map

# Slots per block of the on-demand row index: a page builds at most a few blocks.
INDEX_BLOCK_SLOTS = 65_536
INDEX_THREADS = min(2, os.cpu_count() or 1)


class RowSource:
    """The rows of one table of one dataset."""

    columns: list[str]

    def total(self) -> int:
        raise NotImplementedError

    def page(self, offset: int, limit: int) -> pa.Table:
        raise NotImplementedError

    def between(self, column: str, low: int, high: int) -> pa.Table:
        """The rows with low <= column <= high, for a column sorted over the table (a parent key)."""
        raise NotImplementedError


def _filter(table: pa.Table, column: str, low: int, high: int) -> pa.Table:
    values = table.column(column)
    return table.filter(pc.and_(pc.greater_equal(values, low), pc.less_equal(values, high)))


def export_columns(spec: TableSpec, names: list[str]) -> list[str]:
    """The columns the files export writes: all but the table's `export_exclude`."""
    return [n for n in names if n not in spec.export_exclude]


@dataclass(frozen=True)
class _RowGroup:
    path: Path
    index: int
    start: int  # first row, counted over the whole table
    rows: int


class ParquetRows(RowSource):
    """A materialised table (a file or a folder of parts, in name order), read a row group at a time."""

    def __init__(self, spec: TableSpec, folder: Path) -> None:
        self.files = sorted(folder.glob("*.parquet"))
        self.groups: list[_RowGroup] = []
        start = 0
        self._meta: dict[Path, pq.FileMetaData] = {}
        for path in self.files:
            meta = self._meta[path] = pq.read_metadata(path)
            for i in range(meta.num_row_groups):
                n = meta.row_group(i).num_rows
                self.groups.append(_RowGroup(path, i, start, n))
                start += n
        self._total = start
        self._starts = [g.start for g in self.groups]
        full = pq.read_schema(self.files[0]) if self.files else spec.schema
        self.columns = export_columns(spec, full.names)
        self.schema = pa.schema([full.field(c) for c in self.columns])
        # Files are replaced by rename, never rewritten in place: name, mtime and size name a version.
        self.key = (str(folder), tuple((f.name, f.stat().st_mtime_ns, f.stat().st_size) for f in self.files))

    def _group(self, at: int) -> pa.Table:
        group = self.groups[at]
        # pre_buffer=False: only this row group's column chunks are read (bounded memory).
        return BLOCKS.get(
            (self.key, at),
            lambda: pq.ParquetFile(group.path, pre_buffer=False).read_row_group(group.index, columns=self.columns),
        )

    def total(self) -> int:
        return self._total

    def page(self, offset: int, limit: int) -> pa.Table:
        pieces: list[pa.Table] = []
        stop = min(offset + limit, self._total)
        at = bisect.bisect_right(self._starts, offset) - 1
        while offset < stop and at < len(self.groups):
            group = self.groups[at]
            data = self._group(at)
            lo = offset - group.start
            take = min(stop - offset, group.rows - lo)
            pieces.append(data.slice(lo, take))
            offset += take
            at += 1
        return _concat(pieces, self.schema)

    def between(self, column: str, low: int, high: int) -> pa.Table:
        # Row group statistics (written by write_parquet) skip every group outside the range.
        pieces = []
        for at, group in enumerate(self.groups):
            meta = self._meta[group.path].row_group(group.index)
            stats = meta.column(_column_index(meta, column)).statistics
            if stats is not None and stats.has_min_max and (stats.max < low or stats.min > high):
                continue
            pieces.append(_filter(self._group(at), column, low, high))
        return _concat(pieces, self.schema)


def _column_index(meta: pq.RowGroupMetaData, column: str) -> int:
    return next(i for i in range(meta.num_columns) if meta.column(i).path_in_schema == column)


class GeneratedRows(RowSource):
    """A generated table computed for just the requested rows.

    Rows live in a slot space (TableSpec.build over [lo, hi)); empty slots give no row, so the
    row at an offset is found through an index of row counts per block of slots, built once per
    table and dataset (the price of X-Total-Count), after which any page costs what page 1 costs.
    """

    def __init__(
        self,
        spec: TableSpec,
        model: Any,
        warm_lock: threading.Lock,
        key: Hashable | None = None,
        block: int = INDEX_BLOCK_SLOTS,
    ) -> None:
        if spec.build is None:
            raise ValueError(f"{spec.name} is derived; it has no rows before it is materialised")
        self.spec, self.model, self.block = spec, model, block
        self.slots = spec.slots(model)
        self.columns = export_columns(spec, spec.columns)
        self.schema = pa.schema([spec.schema.field(c) for c in self.columns])
        self._starts: np.ndarray | None = None  # first row of each block; one more entry: the total
        # Per block, the (min, max) of each foreign key column: `between` builds only the blocks it needs.
        self._ranges: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()
        # Models build pools and caches lazily on first use: a table's first block is built under the
        # model's lock, as the asset's generator builds its first chunk alone.
        self._warm_lock = warm_lock
        self._warm = False
        self.key = key  # (domain, table, dataset_id): built blocks are shared through BLOCKS; None: not kept

    def _block(self, block: int) -> pa.Table:
        """A block's rows in the export's columns, kept for the next page when the source has a key."""
        if self.key is None:
            return self._build(block).select(self.columns)
        return BLOCKS.get((self.key, block), lambda: self._build(block).select(self.columns))

    def _build(self, block: int) -> pa.Table:
        lo = block * self.block
        if not self._warm:
            with self._warm_lock:
                data = self.spec.build(self.model, lo, min(lo + self.block, self.slots))
            self._warm = True
            return data
        return self.spec.build(self.model, lo, min(lo + self.block, self.slots))

    def _index(self) -> np.ndarray:
        with self._lock:
            if self._starts is None:
                blocks = range(-(-self.slots // self.block))
                tracked = [c for c, _ in self.spec.foreign_keys if pa.types.is_integer(self.spec.schema.field(c).type)]
                counts: list[int] = []
                ranges: dict[str, list[tuple[int, int]]] = {c: [] for c in tracked}
                warm = [self._build(0)] if len(blocks) else []
                built = itertools.chain(warm, ordered_map(self._build, blocks[1:], INDEX_THREADS, "api-index"))
                for data in built:
                    counts.append(data.num_rows)
                    for c in tracked:
                        bounds = pc.min_max(data.column(c))
                        low, high = bounds["min"].as_py(), bounds["max"].as_py()
                        ranges[c].append((low, high) if low is not None else (1, 0))  # (1, 0): empty
                self._ranges = {c: np.array(r, dtype=np.int64).reshape(-1, 2) for c, r in ranges.items()}
                self._starts = np.concatenate(([0], np.cumsum(counts, dtype=np.int64)))
            return self._starts

    def total(self) -> int:
        return int(self._index()[-1])

    def page(self, offset: int, limit: int) -> pa.Table:
        starts = self._index()
        stop = min(offset + limit, int(starts[-1]))
        pieces: list[pa.Table] = []
        at = int(np.searchsorted(starts, offset, side="right")) - 1
        while offset < stop:
            data = self._block(at)
            first = offset - int(starts[at])
            take = min(stop - offset, data.num_rows - first)
            pieces.append(data.slice(first, take))
            offset += take
            at += 1
        return _concat(pieces, self.schema)

    def between(self, column: str, low: int, high: int) -> pa.Table:
        self._index()
        if column not in self._ranges:
            raise ValueError(f"{self.spec.name}.{column} is not a foreign key column")
        ranges = self._ranges[column]
        hits = np.flatnonzero((ranges[:, 1] >= low) & (ranges[:, 0] <= high) & (ranges[:, 0] <= ranges[:, 1]))
        pieces = [_filter(self._block(int(b)), column, low, high) for b in hits]
        return _concat(pieces, self.schema)


def _concat(pieces: list[pa.Table], schema: pa.Schema) -> pa.Table:
    return pa.concat_tables(pieces).combine_chunks() if pieces else schema.empty_table()


class LruCache:
    """A few expensive objects (models, row indexes) kept per process, built once under a lock."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()
        self._building: dict[Hashable, threading.Lock] = {}

    def get(self, key: Hashable, build: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
            lock = self._building.setdefault(key, threading.Lock())
        with lock:  # one build per key, however many requests ask at once
            with self._lock:
                if key in self._items:
                    return self._items[key]
            value = build()
            with self._lock:
                self._items[key] = value
                while len(self._items) > self.size:
                    self._items.popitem(last=False)
                self._building.pop(key, None)
            return value


# Decoded row groups and built blocks, shared by every source: consecutive pages reuse them, and
# memory stays bounded by this many blocks (a row group is at most ROW_GROUP_ROWS rows).
BLOCKS = LruCache(8)
