"""What a table is, and how it is produced chunk by chunk into Parquet with fixed row groups."""

from __future__ import annotations

import itertools
import os
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

# Row groups and parts have fixed sizes so the bytes never depend on the chunk size.
ROW_GROUP_ROWS = 131_072
PART_FILE = "part-00000.parquet"


@dataclass(frozen=True)
class TableSpec:
    """A table of a domain: its schema, its parents and a pure builder over a slot range.

    A table's rows live in a "slot" space addressable by index (for example 4 item slots per
    order). `build(model, start, stop)` returns the rows of slots [start, stop); empty slots are
    simply absent, so output is the same however the slot space is chunked.
    """

    domain: str
    name: str
    key: str
    schema: pa.Schema
    description: str
    slots: Callable[[Any], int]
    build: Callable[[Any, int, int], pa.Table] | None
    parents: tuple[str, ...] = ()
    per_tenant: bool = False
    # (column, parent table): the parent's key column is the parent spec's `key`.
    foreign_keys: tuple[tuple[str, str], ...] = ()
    # Columns every consumer may read but the files export leaves out (seed 002: no password
    # hashes in users.csv).
    export_exclude: tuple[str, ...] = ()
    text_columns: tuple[str, ...] = ()  # long text worth embedding
    # Derived tables (analytics) are computed from parent tables already written to `dataset`.
    derive: Callable[[Any, Path, int], Iterable[pa.Table]] | None = None
    # The column holding when the row came to be: no row is created before a row it references
    # (the generic causal-order rules compare it with each parent's `created`).
    created: str | None = None
    # What each column means, shown in the Dagster UI (dagster/column_schema).
    column_descriptions: Mapping[str, str] = field(default_factory=dict, hash=False, compare=False)

    @property
    def columns(self) -> list[str]:
        return self.schema.names


@dataclass
class Progress:
    """Per-chunk progress of one table: rows, rate and an estimate of time left."""

    table: str
    total_slots: int
    started: float = field(default_factory=time.perf_counter)
    rows: int = 0
    slots_done: int = 0

    def advance(self, slots: int, rows: int) -> None:
        self.slots_done += slots
        self.rows += rows

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def seconds_left(self) -> float:
        done = self.slots_done / self.total_slots if self.total_slots else 1.0
        return self.elapsed * (1.0 - done) / done if done > 0 else float("inf")

    def line(self) -> str:
        pct = 100.0 * self.slots_done / self.total_slots if self.total_slots else 100.0
        return (
            f"{self.table}: {self.rows:,} rows ({pct:.0f}% of slots), "
            f"{self.rows_per_second:,.0f} rows/s, about {self.seconds_left:,.0f} s left"
        )


def generate(
    spec: TableSpec, model: Any, chunk_size: int, start: int = 0, stop: int | None = None, workers: int = 1
) -> Iterator[pa.Table]:
    """The table's rows for slots [start, stop), one chunk of `chunk_size` slots at a time, in order.

    With workers > 1 the next chunks are built on threads while the caller consumes this one
    (numpy and Arrow release the GIL in their kernels); at most 2 x workers chunks are in flight,
    so memory stays bounded by the chunk size.
    """
    if spec.build is None:
        raise ValueError(f"{spec.name} is derived from other tables; use spec.derive")
    if chunk_size <= 0:
        raise ValueError("chunk_size must be a positive number of rows")
    stop = spec.slots(model) if stop is None else stop
    ranges = [(lo, min(lo + chunk_size, stop)) for lo in range(start, stop, chunk_size)]
    if workers <= 1 or len(ranges) <= 1:
        for lo, hi in ranges:
            yield spec.build(model, lo, hi)
        return
    # The first chunk is built here: it warms the model's lazily built pools and caches once.
    yield spec.build(model, *ranges[0])
    yield from ordered_map(lambda r: spec.build(model, *r), ranges[1:], workers, f"gen-{spec.name}")


def ordered_map(fn: Callable[[Any], Any], items: Iterable[Any], workers: int, name: str = "map") -> Iterator[Any]:
    """fn(item) for each item, computed on `workers` threads ahead of the caller, yielded in order.

    At most 2 x workers results are in flight, so memory stays bounded; items are drawn lazily.
    """
    if workers <= 1:
        yield from map(fn, items)
        return
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name) as pool:
        queue = iter(items)
        pending: deque[Future[Any]] = deque(pool.submit(fn, item) for item in itertools.islice(queue, 2 * workers))
        while pending:
            done = pending.popleft().result()
            pending.extend(pool.submit(fn, item) for item in itertools.islice(queue, 1))
            yield done


_END = object()


def read_ahead(items: Iterable[Any], depth: int = 2, name: str = "read-ahead") -> Iterator[Any]:
    """`items`, iterated on a thread up to `depth` items ahead of the caller, in order.

    A derived table computes its next chunk while the caller compresses and writes this one;
    an error in `items` is raised here, and a caller that stops early stops the thread.
    """
    slots: queue.Queue[tuple[Any, BaseException | None]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(entry: tuple[Any, BaseException | None]) -> bool:
        while not stop.is_set():
            try:
                slots.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put((item, None)):
                    return
            put((_END, None))
        except BaseException as exc:  # handed to the caller, raised in its thread
            put((_END, exc))

    thread = threading.Thread(target=produce, name=name, daemon=True)
    thread.start()
    try:
        while True:
            item, error = slots.get()
            if error is not None:
                raise error
            if item is _END:
                return
            yield item
    finally:
        stop.set()
        thread.join()


def rebatch(tables: Iterable[pa.Table], rows: int) -> Iterator[pa.Table]:
    """Re-slice a stream of tables into tables of exactly `rows` rows (the last may be shorter)."""
    pending: list[pa.Table] = []
    count = 0
    for t in tables:
        if t.num_rows == 0:
            continue
        pending.append(t)
        count += t.num_rows
        while count >= rows:
            merged = pa.concat_tables(pending)
            yield merged.slice(0, rows).combine_chunks()
            rest = merged.slice(rows)
            pending, count = ([rest] if rest.num_rows else []), rest.num_rows
    if count:
        yield pa.concat_tables(pending).combine_chunks()


def parquet_writer(where: Any, schema: pa.Schema) -> pq.ParquetWriter:
    """The datasets' Parquet encoding. Only text columns are dictionary-encoded: keys, amounts and
    times are mostly distinct, and building their dictionaries cost a third of the write for nothing
    (zstd compresses them smaller without)."""
    text = [f.name for f in schema if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)]
    return pq.ParquetWriter(where, schema, compression="zstd", write_statistics=True, use_dictionary=text)


def write_parquet(path: Path, schema: pa.Schema, tables: Iterable[pa.Table]) -> int:
    """Write one Parquet file atomically (temp file, then rename); returns the row count."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    rows = 0
    try:
        with parquet_writer(tmp, schema) as writer:
            for t in rebatch(tables, ROW_GROUP_ROWS):
                writer.write_table(t, row_group_size=ROW_GROUP_ROWS)
                rows += t.num_rows
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return rows


def _open(path: Path) -> pq.ParquetFile:
    # Without pre_buffer=False, iterating a file first buffers every row group's column chunks:
    # the whole file in memory (750 MB for the large preset's orders) instead of one row group.
    return pq.ParquetFile(path, pre_buffer=False)


def read_batches(
    path: Path, columns: list[str] | None = None, batch_rows: int = ROW_GROUP_ROWS
) -> Iterator[pa.RecordBatch]:
    """Stream a Parquet table (a file, or a folder of parts in name order)."""
    files = sorted(path.glob("*.parquet")) if path.is_dir() else [path]
    if len(files) <= 1:
        for f in files:
            yield from _open(f).iter_batches(batch_size=batch_rows, columns=columns)
        return
    # Parts of a partitioned table: re-slice across part boundaries so that readers get the very
    # batches one file would give (exports stay byte-identical however many parts there are).
    pieces = (pa.Table.from_batches([b]) for f in files for b in _open(f).iter_batches(batch_rows, columns=columns))
    for t in rebatch(pieces, batch_rows):
        yield from t.to_batches()
