"""Vector stores, one module per system, all behind `VectorStore`."""

from mock_pipeline.publish.vectors.stores.base import Match, SyncResult, VectorStore, metadata_dict, redact_url
from mock_pipeline.publish.vectors.stores.lancedb import LanceDBStore
from mock_pipeline.publish.vectors.stores.pgvector import PgVectorStore
from mock_pipeline.publish.vectors.stores.pinecone import (
    PINECONE_API_KEY_ENV,
    PINECONE_INDEX_HOST_ENV,
    PINECONE_INDEX_NAME_ENV,
    PineconeStore,
)

__all__ = [
    "PINECONE_API_KEY_ENV",
    "PINECONE_INDEX_HOST_ENV",
    "PINECONE_INDEX_NAME_ENV",
    "LanceDBStore",
    "Match",
    "PgVectorStore",
    "PineconeStore",
    "SyncResult",
    "VectorStore",
    "metadata_dict",
    "redact_url",
]
