"""Entities created over time with creation times increasing with their index.

Monotone creation times make "which parents existed at time t" an index prefix, so a child can
pick a parent that already existed without looking at the parent table.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from mock_pipeline.engine.random import Stream


@dataclass(frozen=True)
class Cohort:
    """`n` entities: the first `ceil(old_share * n)` (the launch set) created in
    [launch_start, launch_end), the rest spread over [launch_end, end)."""

    n: int
    launch_start: int
    launch_end: int
    end: int
    old_share: float = 0.8

    @property
    def old(self) -> int:
        return max(1, min(self.n, math.ceil(self.old_share * self.n)))

    @property
    def new(self) -> int:
        return self.n - self.old

    def created(self, stream: Stream, local: np.ndarray, key: np.ndarray) -> np.ndarray:
        """Epoch seconds of creation for local indices; `key` addresses the jitter draw."""
        local = np.asarray(local, dtype=np.int64)
        jitter = stream.uniform(key)
        old_step = (self.launch_end - self.launch_start) / self.old
        new_step = (self.end - self.launch_end) / max(self.new, 1)
        is_old = local < self.old
        at_old = self.launch_start + (local + jitter) * old_step
        at_new = self.launch_end + (local - self.old + jitter) * new_step
        return np.floor(np.where(is_old, at_old, at_new)).astype(np.int64)

    def existing(self, t: np.ndarray) -> np.ndarray:
        """How many entities (an index prefix) were created before time t."""
        t = np.asarray(t, dtype=np.float64)
        old_step = (self.launch_end - self.launch_start) / self.old
        before = np.clip(np.floor((t - self.launch_start) / old_step), 0, self.old)
        if self.new == 0:
            return before.astype(np.int64)
        new_step = (self.end - self.launch_end) / self.new
        grown = np.clip(np.floor((t - self.launch_end) / new_step), 0, self.new)
        return np.where(t >= self.launch_end, self.old + grown, before).astype(np.int64)
