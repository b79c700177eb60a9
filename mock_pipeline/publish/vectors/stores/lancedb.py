"""The embedded default store: a LanceDB folder under the data folder, one table per collection."""

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mock_pipeline.publish.locks import hold
from mock_pipeline.publish.vectors.errors import VectorSyncError
from mock_pipeline.publish.vectors.records import METADATA_TEXT_CHARS, record_schema
from mock_pipeline.publish.vectors.stores.base import Match, SyncResult, VectorStore, metadata_dict


def stored_schema(dimension: int) -> pa.Schema:
    """The records as stored: vectors in half precision. They are L2-normalised (every component within
    [-1, 1]), so float16's 11-bit mantissa keeps each cosine within about 1e-3 and halves the store: at the
    medium preset, 750 MB of float32 vectors of the main job's 2 GB data folder."""
    schema = record_schema(dimension)
    return schema.set(
        schema.get_field_index("vector"), pa.field("vector", pa.list_(pa.float16(), dimension), nullable=False)
    )


def _batches_of(tables: Iterable[pa.Table], schema: pa.Schema) -> Iterator[pa.RecordBatch]:
    for t in tables:
        yield from t.cast(schema).to_batches()


class LanceDBStore(VectorStore):
    """An embedded LanceDB database (a folder of Lance files): one table per collection, exact search."""

    kind = "lancedb"
    text_in_metadata = False  # the text column holds it: the excerpt would store most texts twice

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    @property
    def uri(self) -> str:
        return str(self.path)

    def _db(self) -> Any:
        import lancedb

        self.path.mkdir(parents=True, exist_ok=True)
        return lancedb.connect(str(self.path))

    def _table(self, collection: str) -> Any | None:
        try:
            return self._db().open_table(collection)
        except ValueError:  # LanceDB's "Table ... was not found"
            return None

    def check(self, collection: str, dimension: int) -> None:
        table = self._table(collection)
        if table is not None:
            existing = table.schema.field("vector").type.list_size
            if existing != dimension:
                raise VectorSyncError(
                    f"LanceDB table {collection!r} in {self.uri} holds {existing}-dimensional vectors, "
                    f"the embedder makes {dimension}: drop the table or use the matching embedder"
                )

    def sync(self, collection: str, dimension: int, batches: Iterable[pa.Table], prune: bool = True) -> SyncResult:
        # One sync of a collection at a time: two runs at once would both create the table ("already
        # exists"); the later one waits for the earlier, then merges the same ids (no duplicates).
        self.path.mkdir(parents=True, exist_ok=True)
        with hold(self.path / f".{collection}.lock", f"LanceDB table {collection!r} in {self.path}"):
            return self._sync(collection, dimension, batches, prune)

    def _sync(self, collection: str, dimension: int, batches: Iterable[pa.Table], prune: bool) -> SyncResult:
        self.check(collection, dimension)
        schema = stored_schema(dimension)
        db = self._db()
        table = self._table(collection)
        if table is None:  # not `or`: an empty LanceDB table is falsy (its len() is its row count)
            table = db.create_table(collection, schema=schema)
        reader = pa.RecordBatchReader.from_batches(schema, _batches_of(batches, schema))
        if table.count_rows() == 0:
            # Nothing to match or prune: one append (one commit) instead of a merge, twice as fast.
            table.add(reader)
            total = table.count_rows()
            return SyncResult(total, total, 0, 0, total)
        merge = table.merge_insert("id").when_matched_update_all().when_not_matched_insert_all()
        if prune:
            merge = merge.when_not_matched_by_source_delete()
        # One merge is one commit: readers see the old version or the new one, never half of it.
        stats = merge.execute(reader)
        inserted, updated = int(stats.num_inserted_rows), int(stats.num_updated_rows)
        return SyncResult(inserted + updated, inserted, updated, int(stats.num_deleted_rows), table.count_rows())

    def query(self, collection: str, vector: np.ndarray, k: int = 5) -> list[Match]:
        table = self._table(collection)
        if table is None:
            return []
        hits = (
            table.search(np.asarray(vector, dtype=np.float32), vector_column_name="vector")
            .distance_type("cosine")
            .select(["id", "metadata", "text"])
            .limit(k)
            .to_arrow()
        )
        excerpts = pc.utf8_slice_codeunits(hits["text"], 0, METADATA_TEXT_CHARS).to_pylist()
        return [
            Match(i, 1.0 - d, metadata_dict(m) | {"text": t})
            for i, d, m, t in zip(
                hits["id"].to_pylist(),
                hits["_distance"].to_pylist(),
                hits["metadata"].to_pylist(),
                excerpts,
                strict=True,
            )
        ]

    def count(self, collection: str) -> int:
        table = self._table(collection)
        return 0 if table is None else table.count_rows()
