"""Files export: CSV, NDJSON, JSON, XML or Parquet, optionally gzip, at most N records a file,
with `metadata.csv` and a `manifest.json` written last. Pure library (no Dagster).

Text formats are rendered a batch at a time with Arrow compute kernels: each row's line is built
column-wise, so no Python code runs per row. Gzip streams carry no timestamp or name, so the same
dataset always gives the same bytes.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import itertools
import json
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import IO, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from mock_pipeline.engine.columns import digits
from mock_pipeline.engine.table import TableSpec, ordered_map, read_batches
from mock_pipeline.publish.swap import replace_dir

FORMATS = ("csv", "ndjson", "json", "xml", "parquet")
EXTENSIONS = {"csv": "csv", "ndjson": "ndjson", "json": "json", "xml": "xml", "parquet": "parquet"}
JSON_COLUMN = b"json"  # field metadata {"format": "json"}: the string is a JSON document
ISO = "%Y-%m-%dT%H:%M:%SZ"
BATCH_ROWS = 65_536
MANIFEST = "manifest.json"
EXPORT_THREADS = min(4, os.cpu_count() or 1)  # tables written at once
RENDER_THREADS = 2  # a table's next pieces rendered while one is written
_JSON_SEPARATOR = ",\n"


class ExportError(ValueError):
    pass


MAX_RECORDS_PER_FILE = 100_000_000


@dataclass(frozen=True)
class ExportOptions:
    format: str = "csv"
    compress: bool = False
    max_records_per_file: int = 10_000

    def problems(self) -> list[tuple[str, str]]:
        """(field, message) for every bad option; the run's first step reports them all at once."""
        found: list[tuple[str, str]] = []
        if self.format not in FORMATS:
            found.append(("format", f"unknown format {self.format!r}; allowed: {', '.join(FORMATS)}"))
        if not isinstance(self.compress, bool):
            found.append(("compress", f"got {self.compress!r}; allowed: true or false (gzip)"))
        records = self.max_records_per_file
        if isinstance(records, bool) or not isinstance(records, int) or not 1 <= records <= MAX_RECORDS_PER_FILE:
            found.append(
                ("max_records_per_file", f"got {records!r}; allowed: an integer from 1 to {MAX_RECORDS_PER_FILE:,}")
            )
        return found

    def validate(self) -> None:
        found = self.problems()
        if found:
            raise ExportError("; ".join(f"export.{field}: {message}" for field, message in found))

    @property
    def suffix(self) -> str:
        ext = EXTENSIONS[self.format]
        return f".{ext}.gz" if self.compress and self.format != "parquet" else f".{ext}"


@dataclass
class ExportedFile:
    path: str  # relative to the export root
    table: str
    tenant_id: int | None
    rows: int
    bytes: int
    sha256: str
    format: str
    compression: str | None


@dataclass
class ExportResult:
    root: Path
    files: list[ExportedFile] = field(default_factory=list)

    @property
    def manifest(self) -> Path:
        return self.root / MANIFEST

    @property
    def rows(self) -> int:
        return sum(f.rows for f in self.files)

    @property
    def bytes(self) -> int:
        return sum(f.bytes for f in self.files)


# --- rendering: one line of text per row, built column by column -------------------------------
def _is_json(f: pa.Field) -> bool:
    return bool(f.metadata) and f.metadata.get(b"format") == JSON_COLUMN


ISO_WIDTH = 20  # 2024-01-02T12:34:27Z


@cache
def _iso_parts() -> tuple[np.ndarray, np.ndarray]:
    """Every date 1970-2199 as the 11 bytes YYYY-MM-DDT and every second of a day as the 9 bytes
    HH:MM:SSZ, each as one fixed-size numpy item (V11, V9) so a gather copies a whole field."""
    days = np.arange(np.datetime64("1970-01-01"), np.datetime64("2200-01-01"))
    years = days.astype("datetime64[Y]")
    months = days.astype("datetime64[M]")
    year = years.astype(np.int64) + 1970
    month = (months - years.astype("datetime64[M]")).astype(np.int64) + 1
    day = (days - months.astype("datetime64[D]")).astype(np.int64) + 1
    dates = pc.binary_join_element_wise(digits(year, 4), digits(month, 2), digits(day, 2), "-")
    dates = pc.binary_join_element_wise(dates, "T", "")
    second = np.arange(86_400, dtype=np.int64)
    clocks = pc.binary_join_element_wise(
        digits(second // 3600, 2), digits(second // 60 % 60, 2), digits(second % 60, 2), ":"
    )
    clocks = pc.binary_join_element_wise(clocks, "Z", "")
    return _fixed_width(dates, 11).view("V11").ravel(), _fixed_width(clocks, 9).view("V9").ravel()


def _fixed_width(values: pa.Array, width: int) -> np.ndarray:
    """The characters of strings that all have `width` bytes, as a (rows, width) byte matrix."""
    return np.frombuffer(values.buffers()[2], dtype=np.uint8)[: len(values) * width].reshape(-1, width)


def iso_timestamps(values: pa.Array) -> pa.Array:
    """ISO 8601 UTC strings (2024-01-02T12:34:27Z) for whole-second timestamps.

    Every string has 20 bytes, so the Arrow buffers are built directly: the offsets are an
    arithmetic progression and the characters two gathers from a date and a time-of-day table
    (about 30x faster than strftime).
    """
    seconds = values.cast(pa.timestamp("s", tz="UTC")).cast(pa.int64())
    nulls = seconds.is_null().to_numpy(zero_copy_only=False)
    day, clock = np.divmod(pc.fill_null(seconds, 0).to_numpy(), 86_400)
    days, clocks = _iso_parts()
    if day.size and (day.min() < 0 or day.max() >= len(days)):
        return pc.strftime(values.cast(pa.timestamp("s", tz="UTC")), ISO)
    chars = np.empty(len(day), dtype=[("date", "V11"), ("clock", "V9")])
    chars["date"] = days[day]
    chars["clock"] = clocks[clock]
    offsets = np.arange(0, (len(day) + 1) * ISO_WIDTH, ISO_WIDTH, dtype=np.int32)
    validity = pa.array(~nulls).buffers()[1] if nulls.any() else None
    return pa.StringArray.from_buffers(
        len(day), pa.py_buffer(offsets), pa.py_buffer(chars.view(np.uint8)), validity, int(nulls.sum())
    )


def _text(values: pa.Array) -> pa.Array:
    """Values as strings; timestamps in ISO 8601 with T and Z."""
    if pa.types.is_timestamp(values.type):
        return iso_timestamps(values)
    if pa.types.is_boolean(values.type):
        return pc.if_else(values, "true", "false")
    return pc.cast(values, pa.string())


_JSON_ESCAPES = (("\\", "\\\\"), ('"', '\\"'), ("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t"))
_NEEDS_ESCAPE = r'[\\"\x00-\x1f]'


def _json_string(values: pa.Array) -> pa.Array:
    # One scan finds whether any value needs escaping; most columns need none, and each pass costs a scan.
    if pc.any(pc.match_substring_regex(values, _NEEDS_ESCAPE)).as_py():
        for raw, escaped in _JSON_ESCAPES:
            values = pc.replace_substring(values, raw, escaped)
        values = pc.replace_substring_regex(values, r"[\x00-\x08\x0b\x0c\x0e-\x1f]", "")
    return pc.binary_join_element_wise('"', values, '"', "")


def _json_value(f: pa.Field, values: pa.Array) -> pa.Array:
    t = values.type
    if _is_json(f):
        rendered = values
    elif pa.types.is_timestamp(t) or pa.types.is_date(t):  # ISO text: nothing to escape
        rendered = pc.binary_join_element_wise('"', _text(values), '"', "")
    elif pa.types.is_string(t):
        rendered = _json_string(values)
    else:
        rendered = _text(values)
    return pc.fill_null(rendered, "null")


def ndjson_lines(batch: pa.RecordBatch, prefix: str = "", suffix: str = "\n") -> pa.Array:
    """One JSON object per row, each wrapped in `prefix` and `suffix`."""
    parts: list[Any] = []
    for i, f in enumerate(batch.schema):
        parts.append((prefix + "{" if i == 0 else ",") + json.dumps(f.name) + ":")
        parts.append(_json_value(f, batch.column(i)))
    parts.append("}" + suffix)
    return pc.binary_join_element_wise(*parts, "")


_XML_ESCAPES = (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"))


def xml_lines(batch: pa.RecordBatch, item: str) -> pa.Array:
    """`<item><col>value</col>...</item>` per row; null values are left out."""
    parts: list[Any] = [f"  <{item}>"]
    for i, f in enumerate(batch.schema):
        values = _text(batch.column(i))
        for raw, escaped in _XML_ESCAPES:
            values = pc.replace_substring(values, raw, escaped)
        values = pc.replace_substring_regex(values, r"[\x00-\x08\x0b\x0c\x0e-\x1f]", "")
        element = pc.binary_join_element_wise(f"<{f.name}>", values, f"</{f.name}>", "")
        parts.append(pc.fill_null(element, ""))
    parts.append(f"</{item}>\n")
    return pc.binary_join_element_wise(*parts, "")


def _buffer_slice(lines: pa.Array, start: int, stop: int) -> memoryview:
    """The bytes of lines[start:stop] straight from the string array's data buffer."""
    lines = lines.cast(pa.large_string()) if lines.type == pa.string() else lines
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int64)[lines.offset : lines.offset + len(lines) + 1]
    data = lines.buffers()[2]
    return memoryview(data)[int(offsets[start]) : int(offsets[stop])]


def csv_ready(batch: pa.RecordBatch) -> pa.RecordBatch:
    """The batch with timestamps as ISO 8601 text (pyarrow's own CSV rendering has a space, no T)."""
    columns = [_text(c) if pa.types.is_timestamp(c.type) else c for c in batch.columns]
    return pa.RecordBatch.from_arrays(columns, names=batch.schema.names)


def csv_rows(batch: pa.RecordBatch, header: bool = False) -> pa.Buffer:
    """The batch as CSV lines, exactly as pyarrow's CSV writer writes them (rows carry no state)."""
    sink = pa.BufferOutputStream()
    pa_csv.write_csv(csv_ready(batch), sink, pa_csv.WriteOptions(include_header=header))
    return sink.getvalue()  # written as it is: files take any buffer, no copy


# --- files of at most N records ----------------------------------------------------------------
class _HashedFile(io.FileIO):
    """A file that hashes its bytes as they are written, so a finished file is never read back."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, "wb")
        self.digest = hashlib.sha256()

    def write(self, data: Any) -> int:
        written = super().write(data)
        self.digest.update(memoryview(data)[:written])
        return written


class _Sink:
    """One output file: counts rows, hashes and sizes what is written."""

    def __init__(
        self, path: Path, options: ExportOptions, table: str, item: str, schema: pa.Schema, tenant: int | None = None
    ) -> None:
        self.path, self.options, self.table, self.item, self.schema = path, options, table, item, schema
        self.tenant = tenant
        self.rows = 0
        self._file = _HashedFile(path)
        self._raw: IO[bytes] = io.BufferedWriter(self._file, buffer_size=1 << 20)
        self._stream: IO[bytes] = (
            gzip.GzipFile(filename="", mode="wb", fileobj=self._raw, mtime=0, compresslevel=6)
            if options.compress and options.format != "parquet"
            else self._raw
        )
        self._writer: Any = None
        self._first = True
        fmt = options.format
        if fmt == "json":
            self._stream.write(b"[\n")
        elif fmt == "xml":
            self._stream.write(f'<?xml version="1.0" encoding="UTF-8"?>\n<{table}>\n'.encode())
        elif fmt == "parquet":
            self._writer = pq.ParquetWriter(self._stream, schema, compression="gzip" if options.compress else "zstd")

    def write(self, batch: pa.RecordBatch, rendered: Any) -> None:
        fmt = self.options.format
        if fmt == "csv":
            if self._first:
                self._stream.write(csv_rows(batch.slice(0, 0), header=True))
            self._stream.write(rendered)
        elif fmt == "parquet":
            self._writer.write_batch(batch, row_group_size=BATCH_ROWS)
        elif fmt == "json":
            # Every element is rendered as ",\n{...}"; the file's first one drops its separator.
            body = _buffer_slice(rendered, 0, len(rendered))
            self._stream.write(body[len(_JSON_SEPARATOR) :] if self._first else body)
        else:
            self._stream.write(_buffer_slice(rendered, 0, len(rendered)))
        self._first = False
        self.rows += batch.num_rows

    def close(self) -> None:
        fmt = self.options.format
        if fmt == "csv" and self._first:
            header = io.StringIO()
            csv.writer(header, lineterminator="\n", quoting=csv.QUOTE_ALL).writerow(self.schema.names)
            self._stream.write(header.getvalue().encode())
        if self._writer is not None:
            self._writer.close()
        if fmt == "json":
            self._stream.write(b"\n]\n")
        elif fmt == "xml":
            self._stream.write(f"</{self.table}>\n".encode())
        if self._stream is not self._raw:
            self._stream.close()
        self._raw.close()

    @property
    def sha256(self) -> str:
        return self._file.digest.hexdigest()


def _render(options: ExportOptions, batch: pa.RecordBatch, item: str) -> pa.Array | pa.Buffer | None:
    """A piece's text, ready to write: CSV rows (no header) or one JSON/XML line per row."""
    if options.format == "csv":
        return csv_rows(batch)
    if options.format == "ndjson":
        return ndjson_lines(batch)
    if options.format == "json":
        return ndjson_lines(batch, prefix=_JSON_SEPARATOR, suffix="")
    if options.format == "xml":
        return xml_lines(batch, item)
    return None


def _item_name(key: str) -> str:
    return key.removesuffix("_id") or "record"


def _tenant_runs(batch: pa.RecordBatch) -> Iterator[tuple[int, int, int]]:
    """(tenant_id, start, stop) for each run of equal tenant ids (tables are tenant-major)."""
    tenant = batch.column("tenant_id").to_numpy()
    cuts = np.flatnonzero(np.diff(tenant)) + 1
    bounds = np.concatenate(([0], cuts, [len(tenant)]))
    for a, b in itertools.pairwise(bounds):
        yield int(tenant[a]), int(a), int(b)


def export_table(
    source: Path,
    table: str,
    key: str,
    per_tenant: bool,
    options: ExportOptions,
    out: Path,
    exclude: Sequence[str] = (),
) -> list[ExportedFile]:
    """Write one table's Parquet as files of at most `max_records_per_file` records.

    Pieces are rendered (CSV encoded, JSON or XML lines built) on RENDER_THREADS threads ahead of
    the writer, and written in order, so the bytes are those of a one-thread export.
    """
    item = _item_name(key)
    full = pq.read_schema(next(iter(sorted(source.glob("*.parquet")))))
    columns = [n for n in full.names if n not in exclude]
    schema = pa.schema([full.field(n) for n in columns])
    files: list[ExportedFile] = []
    sink: _Sink | None = None
    chunks: dict[int | None, int] = {}

    def close() -> None:
        nonlocal sink
        if sink is not None:
            sink.close()
            files.append(_describe(sink, sink.tenant if per_tenant else None))
            sink = None

    def open_file(tenant: int | None) -> _Sink:
        chunk = chunks[tenant] = chunks.get(tenant, -1) + 1
        name = f"{table}_{tenant}_chunk_{chunk:04d}" if per_tenant else f"{table}_chunk_{chunk:04d}"
        return _Sink(out / f"{name}{options.suffix}", options, table, item, schema, tenant)

    def render(piece: tuple[int | None, bool, pa.RecordBatch]) -> tuple[int | None, bool, pa.RecordBatch, Any]:
        tenant, first, batch = piece
        return tenant, first, batch, _render(options, batch, item)

    pieces = _pieces(
        read_batches(source, columns=columns, batch_rows=BATCH_ROWS), per_tenant, options.max_records_per_file
    )
    for tenant, first, batch, rendered in ordered_map(render, pieces, RENDER_THREADS, f"render-{table}"):
        if first:
            close()
            sink = open_file(tenant)
        sink.write(batch, rendered)
    if sink is None and not files:
        sink = open_file(None if not per_tenant else 0)
    close()
    if not per_tenant and len(files) == 1:
        # A table that fits in one file keeps its plain name (the FICCT-Scrum generator's organizations.csv).
        only = files[0]
        plain = f"{table}{options.suffix}"
        (out / only.path).rename(out / plain)
        only.path = plain
    return files


def _pieces(
    batches: Iterable[pa.RecordBatch], per_tenant: bool, limit: int
) -> Iterator[tuple[int | None, bool, pa.RecordBatch]]:
    """(tenant, starts a new file, rows) in write order: a file holds at most `limit` rows of one
    tenant (per-tenant tables) or of the table."""
    tenant_of_file: int | None = None
    in_file: int | None = None  # rows in the open file; None: no file open
    for batch in batches:
        runs = _tenant_runs(batch) if per_tenant else [(None, 0, batch.num_rows)]
        for tenant, a, b in runs:
            if in_file is not None and tenant != tenant_of_file:
                in_file = None
            pos = a
            while pos < b:
                first = in_file is None
                if first:
                    tenant_of_file, in_file = tenant, 0
                take = min(b - pos, limit - in_file)
                yield tenant, first, batch.slice(pos, take)
                pos += take
                in_file += take
                if in_file >= limit:
                    in_file = None


def _describe(sink: _Sink, tenant: int | None) -> ExportedFile:
    return ExportedFile(
        path=sink.path.name,
        table=sink.table,
        tenant_id=tenant,
        rows=sink.rows,
        bytes=sink.path.stat().st_size,
        sha256=sink.sha256,
        format=sink.options.format,
        compression="gzip" if sink.options.compress else None,
    )


def write_metadata_csv(path: Path, statistics: Sequence[tuple[str, Any]]) -> None:
    """Seed 002's metadata.csv: generation statistics as name,value rows."""
    with path.open("w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["name", "value"])
        writer.writerows(statistics)


def export_domain(
    dataset: Path,
    target: Path,
    tables: Sequence[TableSpec],
    options: ExportOptions,
    run_config: Mapping[str, Any],
    statistics: Sequence[tuple[str, Any]],
) -> ExportResult:
    """Export every table of a domain into `target`, atomically.

    Files are written into a staging folder with the manifest last, then the folder replaces
    `target` in one rename: a reader sees the previous export or the whole new one.
    """
    options.validate()
    missing = [t.name for t in tables if not (dataset / t.name).is_dir()]
    if missing:
        raise ExportError(f"tables not materialised yet under {dataset}: {', '.join(missing)}")

    def build(staging: Path) -> ExportResult:
        result = ExportResult(root=target)

        def export(t: TableSpec) -> list[ExportedFile]:
            return export_table(dataset / t.name, t.name, t.key, t.per_tenant, options, staging, t.export_exclude)

        # Tables are independent files, so they are written side by side (Arrow's readers and
        # writers release the GIL); the manifest lists them in table order all the same.
        with ThreadPoolExecutor(max_workers=EXPORT_THREADS, thread_name_prefix="export") as pool:
            for exported in pool.map(export, tables):
                result.files.extend(exported)
        rows = {t.name: sum(f.rows for f in result.files if f.table == t.name) for t in tables}
        write_metadata_csv(staging / "metadata.csv", [*statistics, *((f"rows.{t}", n) for t, n in rows.items())])
        manifest = {
            "export": {"format": options.format, "compression": "gzip" if options.compress else None,
                       "max_records_per_file": options.max_records_per_file},
            "run_config": dict(run_config),
            "tables": rows,
            "files": [vars(f) for f in result.files]
            + [_metadata_entry(staging / "metadata.csv")],
        }  # fmt: skip
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        return result

    return replace_dir(target, build)


def _metadata_entry(path: Path) -> dict[str, Any]:
    data = path.read_bytes()
    return {
        "path": path.name, "table": "metadata", "tenant_id": None, "rows": data.count(b"\n") - 1,
        "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(), "format": "csv", "compression": None,
    }  # fmt: skip


def read_manifest(root: Path) -> dict[str, Any]:
    return json.loads((root / MANIFEST).read_text())


def export_kind(format: str, compression: str | None) -> str:
    """How a person names an export's kind: `csv`, `ndjson.gz`."""
    return format + (".gz" if compression == "gzip" else "")


def replaced_kind(target: Path, options: ExportOptions) -> str | None:
    """The kind of the export already in `target` when the new one is another kind, else None.

    One export per dataset and domain: S3, HTTP and the object store publish "the" export of a
    dataset, so a new format replaces the old files instead of living beside them.
    """
    try:
        previous = read_manifest(target)["export"]
    except (OSError, ValueError, KeyError, TypeError):  # no export yet, or not one of ours
        return None
    old = export_kind(previous.get("format", "?"), previous.get("compression"))
    new = export_kind(options.format, "gzip" if options.compress else None)
    return old if old != new else None
