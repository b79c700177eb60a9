"""Counter-based randomness: every draw is a pure function of (seed, stream path, row index).

A `Stream` is named by the seed and a path such as ("commerce", "orders", "customer"). Its
values for row indices `idx` are `splitmix64(key + idx * GAMMA)`, the finaliser of SplitMix64
applied to a counter. Nothing depends on call order, chunk boundaries or process, so any chunk of
any column can be generated alone and children can recompute a parent's attributes.
"""

from __future__ import annotations

import hashlib

import numpy as np

_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
_TO_UNIT = 2.0**-53


def _key(seed: int, path: tuple[str, ...]) -> np.uint64:
    # blake2b, not hash(): stable across processes and Python versions.
    text = "\x1f".join((str(seed), *path))
    digest = hashlib.blake2b(text.encode(), digest_size=8).digest()
    return np.uint64(int.from_bytes(digest, "little"))


def mix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser on a uint64 array (wrapping arithmetic)."""
    x = (x ^ (x >> _S30)) * _M1
    x = (x ^ (x >> _S27)) * _M2
    return x ^ (x >> _S31)


class Stream:
    """An independent random stream addressed by row index."""

    __slots__ = ("key", "path", "seed")

    def __init__(self, seed: int, *path: str) -> None:
        self.seed = seed
        self.path = path
        self.key = _key(seed, path)

    def sub(self, *names: str) -> Stream:
        return Stream(self.seed, *self.path, *names)

    def bits(self, idx: np.ndarray) -> np.ndarray:
        counter = np.asarray(idx).astype(np.uint64, copy=False) * _GAMMA + self.key
        return mix64(counter)

    def uniform(self, idx: np.ndarray) -> np.ndarray:
        """Floats in [0, 1)."""
        return (self.bits(idx) >> _S11).astype(np.float64) * _TO_UNIT

    def integers(self, idx: np.ndarray, low: int, high: int | np.ndarray) -> np.ndarray:
        """Integers in [low, high); `high` may be an array (per-row upper bound)."""
        span = np.asarray(high, dtype=np.int64) - low
        return low + np.floor(self.uniform(idx) * span).astype(np.int64)

    def bernoulli(self, idx: np.ndarray, p: float | np.ndarray) -> np.ndarray:
        return self.uniform(idx) < p
