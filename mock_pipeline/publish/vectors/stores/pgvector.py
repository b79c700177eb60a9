"""PostgreSQL with pgvector: one table per collection, synced in one transaction, HNSW cosine index."""

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from mock_pipeline.publish.vectors.errors import VectorSyncError
from mock_pipeline.publish.vectors.stores.base import Match, SyncResult, VectorStore, redact_url

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_PG_COLUMNS = ("id", "domain", "table", "key", "tenant_id", "dataset_id", "text", "metadata", "embedding")


def _vector_literals(vectors: pa.FixedSizeListArray) -> pa.Array:
    """pgvector's text form '[x,y,...]' for every row, built columnar by Arrow."""
    dim = vectors.type.list_size
    values = pc.cast(vectors.flatten(), pa.string())
    offsets = pa.array(np.arange(0, len(values) + 1, dim, dtype=np.int32))
    joined = pc.binary_join(pa.ListArray.from_arrays(offsets, values), ",")
    return pc.binary_join_element_wise("[", joined, "]", "")


class PgVectorStore(VectorStore):
    """PostgreSQL with pgvector: table `<schema>.<collection>` keyed by id, HNSW index for cosine distance.

    A sync is one transaction: COPY into a staging table, INSERT ... ON CONFLICT (id) DO UPDATE,
    then delete what the dataset no longer has. A failure half-way leaves the table as it was.
    """

    kind = "pgvector"

    def __init__(self, url: str, schema: str = "mock_vectors") -> None:
        if not _IDENTIFIER.match(schema):
            raise VectorSyncError(f"pgvector schema {schema!r} is not allowed: lower-case letters, digits and _")
        self.url = url
        self.schema = schema
        password = urlsplit(url).password
        self.secrets = (url, *((password,) if password else ()))

    @property
    def uri(self) -> str:
        return f"{redact_url(self.url)}?schema={self.schema}"

    def _connect(self) -> Any:
        import psycopg2

        return psycopg2.connect(self.url)

    def _table(self, collection: str) -> str:
        name = collection.lower().replace("-", "_")
        if not _IDENTIFIER.match(name):
            raise VectorSyncError(f"collection {collection!r} is not a valid table name")
        return f'"{self.schema}"."{name}"'

    def _dimension(self, cur: Any, collection: str) -> int | None:
        cur.execute(
            "SELECT a.atttypmod FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relname = %s AND a.attname = 'embedding'",
            (self.schema, collection.lower().replace("-", "_")),
        )
        row = cur.fetchone()
        return None if row is None else int(row[0])

    def check(self, collection: str, dimension: int) -> None:
        conn = self._connect()
        try:
            with conn, conn.cursor() as cur:
                existing = self._dimension(cur, collection)
        finally:
            conn.close()
        if existing is not None and existing != dimension:
            raise VectorSyncError(
                f"pgvector table {self._table(collection)} holds vector({existing}), the embedder makes "
                f"{dimension}: drop the table or use the matching embedder"
            )

    def sync(self, collection: str, dimension: int, batches: Iterable[pa.Table], prune: bool = True) -> SyncResult:
        table = self._table(collection)
        index = f'"{collection.lower().replace("-", "_")}_embedding_hnsw"'
        cols = ", ".join(f'"{c}"' for c in _PG_COLUMNS)
        conn = self._connect()
        try:
            with conn, conn.cursor() as cur:  # one transaction: commit at the end, rollback on error
                cur.execute("CREATE EXTENSION IF NOT EXISTS vector")
                cur.execute(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"')
                existing = self._dimension(cur, collection)
                if existing is not None and existing != dimension:
                    raise VectorSyncError(f"pgvector table {table} holds vector({existing}), not vector({dimension})")
                cur.execute(
                    f"CREATE TABLE IF NOT EXISTS {table} (id text PRIMARY KEY, domain text NOT NULL, "
                    '"table" text NOT NULL, key text NOT NULL, tenant_id bigint, dataset_id text NOT NULL, '
                    f"text text NOT NULL, metadata jsonb NOT NULL, embedding vector({dimension}) NOT NULL, "
                    "synced_at timestamptz NOT NULL DEFAULT now())"
                )
                cur.execute(f"CREATE TEMP TABLE staging ON COMMIT DROP AS SELECT {cols} FROM {table} WITH NO DATA")
                written = 0
                for batch in batches:
                    csv_table = batch.select(list(_PG_COLUMNS[:-1])).append_column(
                        "embedding", _vector_literals(batch.column("vector").combine_chunks())
                    )
                    buffer = pa.BufferOutputStream()
                    pacsv.write_csv(csv_table, buffer, pacsv.WriteOptions(include_header=False))
                    cur.copy_expert(
                        f"COPY staging ({cols}) FROM STDIN WITH (FORMAT csv)",
                        _BytesReader(buffer.getvalue().to_pybytes()),
                    )
                    written += batch.num_rows
                cur.execute(f"SELECT count(*) FROM {table}")
                # Inserting into an HNSW index row by row is far slower than building it once: for a bulk
                # load drop it and rebuild it after (same transaction, so readers never see it missing).
                if written > cur.fetchone()[0]:
                    cur.execute(f'DROP INDEX IF EXISTS "{self.schema}".{index}')
                cur.execute("SET LOCAL maintenance_work_mem = '512MB'")
                updates = ", ".join(f'"{c}" = EXCLUDED."{c}"' for c in _PG_COLUMNS[1:])
                current = ", ".join(f'{table}."{c}"' for c in _PG_COLUMNS[1:])
                incoming = ", ".join(f'EXCLUDED."{c}"' for c in _PG_COLUMNS[1:])
                # Unchanged records are not rewritten (no dead tuples, no index churn on a re-run).
                cur.execute(
                    f"WITH upserted AS (INSERT INTO {table} ({cols}) SELECT {cols} FROM staging "
                    f"ON CONFLICT (id) DO UPDATE SET {updates}, synced_at = now() "
                    f"WHERE ({current}) IS DISTINCT FROM ({incoming}) RETURNING (xmax = 0) AS inserted) "
                    "SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM upserted"
                )
                inserted, updated = cur.fetchone()
                deleted = 0
                if prune:
                    cur.execute(f"DELETE FROM {table} t WHERE NOT EXISTS (SELECT 1 FROM staging s WHERE s.id = t.id)")
                    deleted = cur.rowcount
                cur.execute(f"CREATE INDEX IF NOT EXISTS {index} ON {table} USING hnsw (embedding vector_cosine_ops)")
                cur.execute(f"SELECT count(*) FROM {table}")
                total = cur.fetchone()[0]
        finally:
            conn.close()
        return SyncResult(written, int(inserted), int(updated), int(deleted), int(total))

    def query(self, collection: str, vector: np.ndarray, k: int = 5) -> list[Match]:
        literal = "[" + ",".join(f"{float(x):.9g}" for x in np.asarray(vector).ravel()) + "]"
        conn = self._connect()
        try:
            with conn, conn.cursor() as cur:
                cur.execute(
                    f"SELECT id, metadata, 1 - (embedding <=> %s::vector) FROM {self._table(collection)} "
                    "ORDER BY embedding <=> %s::vector LIMIT %s",
                    (literal, literal, k),
                )
                return [Match(i, float(s), m) for i, m, s in cur.fetchall()]
        finally:
            conn.close()

    def count(self, collection: str) -> int:
        conn = self._connect()
        try:
            with conn, conn.cursor() as cur:
                cur.execute("SELECT to_regclass(%s)", (self._table(collection),))
                if cur.fetchone()[0] is None:
                    return 0
                cur.execute(f"SELECT count(*) FROM {self._table(collection)}")
                return int(cur.fetchone()[0])
        finally:
            conn.close()


class _BytesReader:
    """The file-like object psycopg2's copy_expert reads from."""

    def __init__(self, data: bytes) -> None:
        self._data, self._pos = data, 0

    def read(self, size: int = -1) -> bytes:
        end = len(self._data) if size is None or size < 0 else self._pos + size
        chunk, self._pos = self._data[self._pos : end], min(end, len(self._data))
        return chunk

    readline = read
