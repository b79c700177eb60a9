"""Record building: each row of a text table becomes one record (id, text, metadata JSON, vector).

Columnar throughout: ids, JSON metadata and joined texts are built by Arrow compute kernels."""

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mock_pipeline.engine.columns import json_escape
from mock_pipeline.engine.table import TableSpec, read_batches
from mock_pipeline.publish.vectors.embedders import Embedder

METADATA_COLUMNS = 10  # scalar columns copied into each record's metadata, in schema order
METADATA_TEXT_CHARS = 1000  # the document excerpt kept in metadata (Pinecone caps metadata at 40 KB)
METADATA_STRING_CHARS = 256


def record_schema(dimension: int) -> pa.Schema:
    return pa.schema(
        [
            pa.field("id", pa.string(), nullable=False),
            pa.field("domain", pa.string(), nullable=False),
            pa.field("table", pa.string(), nullable=False),
            pa.field("key", pa.string(), nullable=False),
            pa.field("tenant_id", pa.int64()),
            pa.field("dataset_id", pa.string(), nullable=False),
            pa.field("text", pa.string(), nullable=False),
            pa.field("metadata", pa.string(), nullable=False),  # JSON object
            pa.field("vector", pa.list_(pa.float32(), dimension), nullable=False),
        ]
    )


def text_tables(tables: Iterable[TableSpec]) -> list[TableSpec]:
    """The tables worth embedding: those that declare text columns."""
    return [t for t in tables if t.text_columns]


def collection_name(domain: str, embedder: Embedder) -> str:
    """One collection per domain and embedder: vectors of different embedders never mix."""
    return f"{domain}_{embedder.name}"


def metadata_columns(spec: TableSpec, limit: int = METADATA_COLUMNS) -> list[str]:
    """The first scalar columns of a table (not its text, key, tenant, JSON or export-excluded columns)."""
    skip = {spec.key, "tenant_id", *spec.text_columns, *spec.export_exclude}
    chosen = []
    for f in spec.schema:
        scalar = (
            pa.types.is_integer(f.type)
            or pa.types.is_floating(f.type)
            or pa.types.is_boolean(f.type)
            or pa.types.is_decimal(f.type)
            or pa.types.is_timestamp(f.type)
            or pa.types.is_date(f.type)
            or pa.types.is_string(f.type)
        )
        is_json = (f.metadata or {}).get(b"format") == b"json"
        if scalar and not is_json and f.name not in skip:
            chosen.append(f.name)
    return chosen[:limit]


def _json_values(values: pa.Array) -> pa.Array:
    """Each value as a JSON literal (null stays null), columnar."""
    t = values.type
    if pa.types.is_boolean(t):
        return pc.if_else(values, "true", "false")
    if pa.types.is_integer(t) or pa.types.is_decimal(t):
        return pc.cast(values, pa.string())
    if pa.types.is_floating(t):
        finite = pc.is_finite(values)
        return pc.if_else(finite, pc.cast(values, pa.string()), pa.scalar(None, pa.string()))
    if pa.types.is_timestamp(t):
        text = pc.strftime(values.cast(pa.timestamp("s", tz="UTC")), format="%Y-%m-%dT%H:%M:%SZ")
    elif pa.types.is_date(t):
        text = pc.strftime(values, format="%Y-%m-%d")
    else:
        text = pc.utf8_slice_codeunits(values.cast(pa.string()), 0, METADATA_STRING_CHARS)
    return pc.binary_join_element_wise('"', _escape_controls(json_escape(text)), '"', "")


def _escape_controls(values: pa.Array) -> pa.Array:
    # JSON forbids raw control characters inside strings.
    out = values
    for raw, escaped in (("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t")):
        out = pc.replace_substring(out, raw, escaped)
    return pc.replace_substring_regex(out, r"[\x00-\x08\x0b\x0c\x0e-\x1f]", " ")


def json_objects(fields: Mapping[str, pa.Array]) -> pa.Array:
    """One JSON object per row; null values are left out (Pinecone refuses null metadata)."""
    # Each present field as ',"name":value' (null -> ''), concatenated, then the first comma dropped.
    # Not null_handling="skip": pyarrow 26 drops rows whose values are all null.
    pieces = [
        pc.fill_null(pc.binary_join_element_wise("," + json.dumps(name) + ":", _json_values(values), ""), "")
        for name, values in fields.items()
    ]
    body = pc.binary_join_element_wise(*pieces, "")
    return pc.binary_join_element_wise("{", pc.replace_substring_regex(body, "^,", ""), "}", "")


def join_texts(columns: Sequence[pa.Array]) -> pa.Array:
    """The non-empty text columns of each row joined by newlines (nulls and blanks left out), trimmed."""
    # Not binary_join_element_wise(null_handling="skip"): pyarrow 26 drops rows whose values are all null.
    text = pa.array([""] * len(columns[0]), pa.string())
    for column in columns:
        part = pc.utf8_trim_whitespace(pc.fill_null(column.cast(pa.string()), ""))
        both = pc.and_(pc.greater(pc.utf8_length(text), 0), pc.greater(pc.utf8_length(part), 0))
        text = pc.binary_join_element_wise(text, pc.if_else(both, "\n", ""), part, "")
    return text


@dataclass
class TableRecords:
    table: str
    rows: int = 0  # rows of the table read
    records: int = 0  # rows embedded and sent (rows with no text are skipped)


def table_records(
    domain: str,
    spec: TableSpec,
    dataset: Path,
    embedder: Embedder,
    dataset_id: str,
    batch_rows: int,
    tally: TableRecords,
    excerpt: bool = True,
) -> Iterator[pa.Table]:
    """Record batches of one table, read from its Parquet file `batch_rows` rows at a time; with
    `excerpt`, the metadata ends with the text's first METADATA_TEXT_CHARS characters."""
    meta_cols = metadata_columns(spec)
    has_tenant = "tenant_id" in spec.schema.names
    columns = list(dict.fromkeys([spec.key, *(["tenant_id"] if has_tenant else []), *spec.text_columns, *meta_cols]))
    schema = record_schema(embedder.dimension)
    for batch in read_batches(dataset / spec.name, columns, batch_rows):  # one part, or shards in order
        tally.rows += batch.num_rows
        text = join_texts([batch.column(c) for c in spec.text_columns])
        keep = pc.greater(pc.utf8_length(text), 0)
        batch, text = batch.filter(keep), text.filter(keep)
        if batch.num_rows == 0:
            continue
        vectors = embedder.embed(text)
        nonzero = np.linalg.norm(vectors, axis=1) > 0  # a text with no word at all has no direction
        if not nonzero.all():
            batch, text, vectors = batch.filter(pa.array(nonzero)), text.filter(pa.array(nonzero)), vectors[nonzero]
        n = batch.num_rows
        if n == 0:
            continue
        key = batch.column(spec.key).cast(pa.string())
        tenant = batch.column("tenant_id").cast(pa.int64()) if has_tenant else pa.nulls(n, pa.int64())
        meta = {
            "domain": pa.array([domain] * n, pa.string()),
            "table": pa.array([spec.name] * n, pa.string()),
            "key": key,
            **({"tenant_id": tenant} if has_tenant else {}),
            "dataset_id": pa.array([dataset_id] * n, pa.string()),
            **{c: batch.column(c) for c in meta_cols},
            **({"text": pc.utf8_slice_codeunits(text, 0, METADATA_TEXT_CHARS)} if excerpt else {}),
        }
        flat = pa.array(vectors.reshape(-1), pa.float32())
        tally.records += n
        yield pa.Table.from_arrays(
            [
                pc.binary_join_element_wise(f"{domain}:{spec.name}:", key, ""),
                meta["domain"],
                meta["table"],
                key,
                tenant,
                meta["dataset_id"],
                text,
                json_objects(meta),
                pa.FixedSizeListArray.from_arrays(flat, embedder.dimension),
            ],
            schema=schema,
        )
