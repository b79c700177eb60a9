"""Dense integer keys (1..n, no gaps) for tables whose rows live in a sparse slot space.

A table with a variable number of rows per parent uses fixed slots per parent (order g has item
slots 4g..4g+3) and drops empty slots, so `slot + 1` would leave gaps a database sequence never
makes. `DenseKeys` numbers the present slots in slot order instead: key(slot) = 1 + the number of
present slots before it. Presence is a pure function of the slot, so the key is too: it does not
depend on the chunk size, the partitioning or the process, and a child can compute its parent's
key from the parent's slot without reading the parent table.

Counts are kept per fixed block of slots and computed once, lazily and in order; a key needs the
counts of the blocks before it (O(blocks)) and the presence of its own block.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable

import numpy as np

BLOCK_SLOTS = 1 << 16
_CACHED_BLOCKS = 8


class DenseKeys:
    """Keys 1..n for the present slots of [0, slots).

    `present(lo, hi)` returns a boolean array of length hi - lo: which slots of [lo, hi) hold a row.
    """

    def __init__(self, present: Callable[[int, int], np.ndarray], slots: int, block: int = BLOCK_SLOTS) -> None:
        self._present = present
        self.slots = int(slots)
        self.block = int(block)
        self._counts = np.zeros(-(-self.slots // self.block) if self.slots else 0, dtype=np.int64)
        self._known = 0  # blocks [0, _known) have their counts in _counts
        self._ranks: OrderedDict[int, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def _block_mask(self, b: int) -> np.ndarray:
        lo = b * self.block
        return np.asarray(self._present(lo, min(lo + self.block, self.slots)), dtype=bool)

    def _before_block(self, b: int) -> int:
        """Present slots in blocks [0, b)."""
        with self._lock:
            known = self._known
        if known < b:
            counts = [int(self._block_mask(k).sum()) for k in range(known, b)]
            with self._lock:
                if self._known < b:
                    self._counts[known:b] = counts
                    self._known = b
        return int(self._counts[:b].sum())

    def _ranks_of(self, b: int) -> np.ndarray:
        """Present slots of block b before each of its slots (exclusive prefix count)."""
        with self._lock:
            if b in self._ranks:
                self._ranks.move_to_end(b)
                return self._ranks[b]
        mask = self._block_mask(b)
        ranks = np.cumsum(mask) - mask
        with self._lock:
            self._ranks[b] = ranks
            while len(self._ranks) > _CACHED_BLOCKS:
                self._ranks.popitem(last=False)
        return ranks

    def offset(self, lo: int) -> int:
        """The number of present slots before slot `lo`: the first key of a chunk starting at lo is offset + 1."""
        if lo >= self.slots:
            return self.total
        b, within = divmod(int(lo), self.block)
        before = self._before_block(b)
        if within == 0:
            return before
        mask = np.asarray(self._present(b * self.block, lo), dtype=bool)
        return before + int(mask.sum())

    def keys(self, slots: np.ndarray) -> np.ndarray:
        """The keys of present slots (meaningless for absent ones)."""
        slots = np.asarray(slots, dtype=np.int64)
        out = np.empty(len(slots), dtype=np.int64)
        if not len(slots):
            return out
        blocks = slots // self.block
        for b in np.unique(blocks):
            sel = blocks == b
            out[sel] = self._before_block(int(b)) + self._ranks_of(int(b))[slots[sel] - b * self.block] + 1
        return out

    @property
    def total(self) -> int:
        return self._before_block(len(self._counts))
