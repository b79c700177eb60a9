"""What every vector store offers (`VectorStore`), and the results it returns."""

import json
from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import urlsplit, urlunsplit

import numpy as np
import pyarrow as pa

from mock_pipeline.publish.scrubbing import scrub


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
    # Whether records carry their text excerpt in metadata. A store that keeps the text column
    # anyway adds the excerpt to its matches itself, so every store's matches read the same.
    text_in_metadata: ClassVar[bool] = True

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


def metadata_dict(text: str) -> dict[str, Any]:
    return json.loads(text) if text else {}
