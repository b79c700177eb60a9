"""Dagster resources choosing the embedder and the vector store, and their environment factories."""

import os
from collections.abc import Mapping
from pathlib import Path
from typing import ClassVar

import dagster as dg
from pydantic import Field

from mock_pipeline.publish.vectors.embedders import Embedder, make_embedder
from mock_pipeline.publish.vectors.stores.base import VectorStore
from mock_pipeline.publish.vectors.stores.lancedb import LanceDBStore
from mock_pipeline.publish.vectors.stores.pgvector import PgVectorStore
from mock_pipeline.publish.vectors.stores.pinecone import (
    PINECONE_API_KEY_ENV,
    PINECONE_INDEX_HOST_ENV,
    PINECONE_INDEX_NAME_ENV,
    PineconeStore,
)

VECTOR_STORE_ENV = "MOCK_PIPELINE_VECTOR_STORE"
EMBEDDER_ENV = "MOCK_PIPELINE_EMBEDDER"
PGVECTOR_URL_ENV = "MOCK_PIPELINE_PGVECTOR_URL"


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
