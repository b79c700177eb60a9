"""Distributions as inverse CDFs over counter-based uniforms: vectorised, no per-row loop."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mock_pipeline.engine.random import Stream

SMALL_CATEGORIES = 16


def categorical(stream: Stream, idx: np.ndarray, weights: Sequence[float]) -> np.ndarray:
    """Index into `weights` for each row, with probability proportional to the weight."""
    cdf = np.cumsum(np.asarray(weights, dtype=np.float64))
    cdf /= cdf[-1]
    u = stream.uniform(idx)
    if len(cdf) > SMALL_CATEGORIES:
        return np.minimum(np.searchsorted(cdf, u, side="right"), len(cdf) - 1)
    # The same count of cdf values <= u as searchsorted(side="right"), in a few vector passes:
    # several times faster for the handful of categories most columns have.
    count = np.zeros(len(u), dtype=np.int64)
    for edge in cdf[:-1]:
        count += u >= edge
    return count


def zipf_weights(n: int, exponent: float) -> np.ndarray:
    """Unnormalised Zipf weights 1/k^s for ranks 1..n."""
    return 1.0 / np.arange(1, n + 1, dtype=np.float64) ** exponent


def zipf(stream: Stream, idx: np.ndarray, n: int, exponent: float) -> np.ndarray:
    """Rank 0..n-1 drawn from a Zipf law over a finite set (rank 0 most frequent)."""
    return categorical(stream, idx, zipf_weights(n, exponent))


def normal(stream: Stream, idx: np.ndarray, mean: float = 0.0, std: float = 1.0) -> np.ndarray:
    """Box-Muller over two independent sub-streams."""
    u1 = 1.0 - stream.sub("n1").uniform(idx)  # (0, 1]: log is finite
    u2 = stream.sub("n2").uniform(idx)
    return mean + std * np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)


def lognormal(stream: Stream, idx: np.ndarray, mu: float, sigma: float) -> np.ndarray:
    return np.exp(normal(stream, idx, mu, sigma))


def exponential(stream: Stream, idx: np.ndarray, mean: float | np.ndarray) -> np.ndarray:
    return -np.log1p(-stream.uniform(idx)) * mean


def poisson(stream: Stream, idx: np.ndarray, lam: float | np.ndarray) -> np.ndarray:
    """Poisson counts by inverse CDF; `lam` may vary per row."""
    lam = np.broadcast_to(np.asarray(lam, dtype=np.float64), np.shape(idx))
    kmax = int(np.max(lam, initial=0.0) + 12.0 * np.sqrt(np.max(lam, initial=0.0)) + 12.0)
    k = np.arange(kmax + 1, dtype=np.float64)
    log_fact = np.concatenate(([0.0], np.cumsum(np.log(np.arange(1, kmax + 1)))))
    safe = np.maximum(lam, 1e-300)[:, None]
    log_pmf = -safe + k[None, :] * np.log(safe) - log_fact[None, :]
    cdf = np.cumsum(np.exp(log_pmf), axis=1)
    u = stream.uniform(idx)[:, None]
    counts = np.minimum((cdf <= u).sum(axis=1), kmax)
    return np.where(lam > 0, counts, 0).astype(np.int64)


def null_mask(stream: Stream, idx: np.ndarray, fraction: float) -> np.ndarray:
    """True where the value is null: a deterministic share `fraction` of rows."""
    return stream.sub("null").uniform(idx) < fraction


def affine_permutation(stream: Stream, modulus: int) -> tuple[int, int]:
    """Multiplier and offset of a bijection i -> (a*i + b) mod m, for collision-free codes."""
    rng = np.random.Generator(np.random.Philox(key=int(stream.key)))
    while True:
        a = int(rng.integers(modulus // 3, modulus - 1)) | 1
        if np.gcd(a, modulus) == 1:
            return a, int(rng.integers(0, modulus))


def unique_codes(stream: Stream, idx: np.ndarray, modulus: int) -> np.ndarray:
    """Distinct integers in [0, modulus) for distinct idx < modulus (a keyed permutation)."""
    if modulus > 3_000_000_000:
        raise ValueError("unique_codes supports moduli up to 3e9 (a*i must fit in int64)")
    if np.size(idx) and int(np.max(idx)) >= modulus:
        raise ValueError(f"cannot draw a unique code for row {int(np.max(idx))}: only {modulus} codes exist")
    a, b = affine_permutation(stream, modulus)
    return (np.asarray(idx, dtype=np.int64) * a + b) % modulus
