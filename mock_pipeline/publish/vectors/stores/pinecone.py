"""A Pinecone index through the official SDK (optional: `pinecone` is imported only when the store
is used, so installs without the extra never need it)."""

from collections.abc import Iterable
from typing import Any

import numpy as np
import pyarrow as pa

from mock_pipeline.publish.vectors.errors import VectorSyncError
from mock_pipeline.publish.vectors.stores.base import Match, SyncResult, VectorStore, metadata_dict

PINECONE_API_KEY_ENV = "PINECONE_API_KEY"
PINECONE_INDEX_NAME_ENV = "PINECONE_INDEX_NAME"
PINECONE_INDEX_HOST_ENV = "PINECONE_INDEX_HOST"


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
            try:  # the optional extra: installs that never use Pinecone do not need the SDK
                from pinecone import Pinecone
            except ImportError:
                raise VectorSyncError(
                    "vector store 'pinecone' needs the optional extra: pip install -e '.[pinecone]' "
                    "(or use MOCK_PIPELINE_VECTOR_STORE=lancedb or pgvector)"
                ) from None

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
            metadata = [metadata_dict(m) for m in batch.column("metadata").to_pylist()]
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
