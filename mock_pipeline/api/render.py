"""A page of rows rendered as one document of the files export's format, by the export's own code.

A page is the file the export would write if it held just these rows: the same header, row
rendering (mock_pipeline.publish.files: csv_rows, ndjson_lines, xml_lines) and framing.
"""

from __future__ import annotations

import csv
import io
import itertools

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mock_pipeline.publish.files import csv_rows, ndjson_lines, xml_lines

API_FORMATS = ("json", "csv", "xml", "ndjson")
MEDIA_TYPES = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "xml": "application/xml",
    "ndjson": "application/x-ndjson",
}
_JSON_SEPARATOR = b",\n"


def item_name(key: str) -> str:
    """The XML element of one row, as the export names it (order_id -> <order>)."""
    return key.removesuffix("_id") or "record"


def text_bytes(lines: pa.Array) -> bytes:
    """The characters of a string array, concatenated (straight from its data buffer)."""
    if len(lines) == 0:
        return b""
    lines = lines.cast(pa.large_string())
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int64)[lines.offset : lines.offset + len(lines) + 1]
    return lines.buffers()[2].to_pybytes()[int(offsets[0]) : int(offsets[-1])]


def _batch(table: pa.Table) -> pa.RecordBatch:
    table = table.combine_chunks()
    batches = table.to_batches()
    return batches[0] if batches else pa.RecordBatch.from_pylist([], schema=table.schema)


def _empty(schema: pa.Schema) -> pa.RecordBatch:
    return pa.RecordBatch.from_arrays([pa.array([], f.type) for f in schema], schema=schema)


def render(table: pa.Table, fmt: str, name: str, key: str) -> bytes:
    """The rows of `table` as one document in `fmt`, framed as one export file of table `name`."""
    batch = _batch(table)
    if fmt == "csv":
        if batch.num_rows == 0:
            header = io.StringIO()
            csv.writer(header, lineterminator="\n", quoting=csv.QUOTE_ALL).writerow(table.schema.names)
            return header.getvalue().encode()
        return csv_rows(_empty(batch.schema), header=True).to_pybytes() + csv_rows(batch).to_pybytes()
    if fmt == "ndjson":
        return text_bytes(ndjson_lines(batch))
    if fmt == "json":
        body = text_bytes(ndjson_lines(batch, prefix=_JSON_SEPARATOR.decode(), suffix=""))
        return b"[\n" + body[len(_JSON_SEPARATOR) :] + b"\n]\n"
    if fmt == "xml":
        lines = text_bytes(xml_lines(batch, item_name(key)))
        return f'<?xml version="1.0" encoding="UTF-8"?>\n<{name}>\n'.encode() + lines + f"</{name}>\n".encode()
    raise ValueError(f"format: unknown format {fmt!r}; allowed: {', '.join(API_FORMATS)}")


def render_nested(parents: pa.Table, children: pa.Table, fmt: str, name: str, parent_key: str, child_key: str) -> bytes:
    """Orders with their items nested (seed 004's /orders): each parent row gains an `items` list.

    JSON and NDJSON objects get `"items":[...]` with every item as the export renders it; XML
    elements get `<items><item>...</item></items>`. Children must be sorted by the parent key.
    """
    batch, items = _batch(parents), _batch(children)
    parent_ids = batch.column(parent_key).to_numpy()
    item_parent = items.column(parent_key).to_numpy()
    bounds = np.searchsorted(item_parent, np.concatenate((parent_ids, parent_ids[-1:] + 1)) if len(parent_ids) else [])
    if fmt in ("json", "ndjson"):
        item_text = ndjson_lines(items, prefix="", suffix="").to_pylist() if items.num_rows else []
        nested = ["[" + ",".join(item_text[a:b]) + "]" for a, b in itertools.pairwise(bounds)]
        objects = ndjson_lines(batch, prefix="", suffix="")
        joined = pc.binary_join_element_wise(
            pc.utf8_slice_codeunits(objects, 0, -1), ',"items":', pa.array(nested, pa.string()), "}", ""
        )
        if fmt == "ndjson":
            return text_bytes(pc.binary_join_element_wise(joined, "\n", ""))
        body = text_bytes(pc.binary_join_element_wise(",\n", joined, ""))
        return b"[\n" + body[len(_JSON_SEPARATOR) :] + b"\n]\n"
    if fmt == "xml":
        item = item_name(child_key)
        item_text = (
            [line.strip() for line in xml_lines(items, item).to_pylist()] if items.num_rows else []
        )  # "  <item>...</item>\n" -> "<item>...</item>"
        nested = ["<items>" + "".join(item_text[a:b]) + "</items>" for a, b in itertools.pairwise(bounds)]
        element = item_name(parent_key)
        lines = xml_lines(batch, element)
        closing = f"</{element}>\n"
        joined = pc.binary_join_element_wise(
            pc.utf8_slice_codeunits(lines, 0, -len(closing)), pa.array(nested, pa.string()), closing, ""
        )
        head = f'<?xml version="1.0" encoding="UTF-8"?>\n<{name}>\n'.encode()
        return head + text_bytes(joined) + f"</{name}>\n".encode()
    raise ValueError(f"format: {fmt} has no nesting")
