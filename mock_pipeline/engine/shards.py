"""Row-range shards of a table: the unit of partitioned generation. Pure, no Dagster.

A table's slot space [0, S) splits into N contiguous shards; shard k covers slots
[S*k//N, S*(k+1)//N). Every row is a pure function of (seed, table, column, slot), so a shard can
be generated alone, by any process, in any order, and its Parquet part has the same bytes
whoever wrote it. Parts are named so that name order is slot order: reading a table's parts in
name order gives exactly the rows the one-part (unpartitioned) layout holds, in the same order.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from mock_pipeline.engine.table import ROW_GROUP_ROWS, TableSpec, generate, parquet_writer, read_batches, write_parquet

MAX_SHARDS = 1000
_PART = re.compile(r"^shard-(\d{5})-of-(\d{5})\.parquet$")


def check_shards(shards: int) -> int:
    if not 1 <= shards <= MAX_SHARDS:
        raise ValueError(f"shards: must be between 1 and {MAX_SHARDS}, got {shards}")
    return shards


def shard_keys(shards: int) -> list[str]:
    """Partition keys "00", "01", ...: zero-padded so that string order is shard order (CLI ranges)."""
    width = max(2, len(str(check_shards(shards) - 1)))
    return [f"{k:0{width}d}" for k in range(shards)]


def shard_bounds(slots: int, shard: int, shards: int) -> tuple[int, int]:
    """Slots [start, stop) of shard `shard` of `shards`: contiguous, covering [0, slots) exactly once."""
    if not 0 <= shard < check_shards(shards):
        raise ValueError(f"shard: must be between 0 and {shards - 1}, got {shard}")
    return slots * shard // shards, slots * (shard + 1) // shards


def part_name(shard: int, shards: int) -> str:
    return f"shard-{shard:05d}-of-{shards:05d}.parquet"


def write_shard(spec: TableSpec, model: Any, chunk_size: int, folder: Path, shard: int, shards: int) -> int:
    """Generate one shard of a table into `folder/<part>` (atomically); returns its row count."""
    start, stop = shard_bounds(spec.slots(model), shard, shards)
    return write_parquet(folder / part_name(shard, shards), spec.schema, generate(spec, model, chunk_size, start, stop))


@dataclass(frozen=True)
class Assembled:
    rows: int
    parts: int
    head: pa.Table | None  # the first rows, for a preview


class MissingParts(ValueError):
    def __init__(self, table: str, missing: list[int], shards: int) -> None:
        self.missing = missing
        shown = ", ".join(str(k) for k in missing[:10]) + (" ..." if len(missing) > 10 else "")
        super().__init__(
            f"{table}: {len(missing)} of {shards} shards not generated yet (shards {shown}); "
            "materialise the missing partitions of its parts asset first"
        )


def assemble(spec: TableSpec, folder: Path, shards: int) -> Assembled:
    """Make `folder` hold exactly the table's `shards` parts, and describe the assembled table.

    Reads only Parquet footers and the first rows. Parquet files of any other layout (an earlier
    shard count, or the one-part layout) are removed, so `<table>/*.parquet` globs see each row
    once. Fails, removing nothing, if a part is missing.
    """
    expected = [folder / part_name(k, shards) for k in range(shards)]
    missing = [k for k, path in enumerate(expected) if not path.exists()]
    if missing:
        raise MissingParts(spec.name, missing, shards)
    keep = set(expected)
    for stale in folder.glob("*.parquet"):
        if stale not in keep:
            stale.unlink()
    rows = sum(pq.ParquetFile(p).metadata.num_rows for p in expected)
    head = next((pa.Table.from_batches([b]) for b in read_batches(folder, batch_rows=5)), None)
    return Assembled(rows=rows, parts=shards, head=head)


def parts_layout(folder: Path) -> int | None:
    """The shard count of the parts in `folder`, or None if it holds no shard parts."""
    counts = {int(m.group(2)) for p in folder.glob("*.parquet") if (m := _PART.match(p.name))}
    return counts.pop() if len(counts) == 1 else None


class _HashSink:
    """A write-only file object that hashes what is written instead of storing it."""

    def __init__(self) -> None:
        self.sha256 = hashlib.sha256()
        self.closed = False

    def write(self, data: Any) -> int:
        self.sha256.update(data)
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True


def canonical_digest(folder: Path, schema: pa.Schema | None = None) -> str:
    """sha256 of the table re-encoded in the one-part layout, streamed (bounded memory).

    For an unpartitioned table this equals the sha256 of its `part-00000.parquet`; for a table
    assembled from shards it is the same value exactly when the rows are the same bytes in the
    same order, however many shards made them.
    """
    schema = schema or pq.read_schema(min(folder.glob("*.parquet")))
    sink = _HashSink()
    with parquet_writer(pa.PythonFile(sink, mode="w"), schema) as w:
        for batch in read_batches(folder, batch_rows=ROW_GROUP_ROWS):
            w.write_table(pa.Table.from_batches([batch], schema=schema), row_group_size=ROW_GROUP_ROWS)
    return sink.sha256.hexdigest()
