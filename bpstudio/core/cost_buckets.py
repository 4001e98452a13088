"""Exact statistics of a long run's mini-batch costs in bounded memory (NumPy only).

:class:`CostBuckets` keeps, for buckets of consecutive mini-batches, the count, sum, smallest
and largest cost; when a cost falls beyond its buckets, neighbours merge in pairs and the width
doubles, so the memory stays fixed however long the run. The cost plot draws from one, and a
session keeps one for the costs past its exact limit (:class:`~bpstudio.core.session.CostLog`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

MAX_BUCKETS = 4096


class CostBuckets:
    """Exact statistics of every mini-batch's cost, in at most ``capacity`` buckets.

    Bucket ``i`` holds batches ``i * width`` to ``(i + 1) * width - 1`` (numbered from 0 over the
    whole run). Non-finite costs (a diverged run) are counted in :attr:`batches` but left out of
    the statistics; a bucket with no finite cost shows as a gap.

    Parameters
    ----------
    capacity : int
        Most buckets kept; when a cost falls beyond them, pairs merge and the width doubles.
    """

    def __init__(self, capacity: int = MAX_BUCKETS) -> None:
        self.capacity = max(2, capacity - capacity % 2)
        self.count = np.zeros(self.capacity, np.int64)  # finite costs per bucket
        self.total = np.zeros(self.capacity)  # their sum
        self.low = np.full(self.capacity, np.inf)
        self.high = np.full(self.capacity, -np.inf)
        self.clear()

    def clear(self) -> None:
        self.width = 1
        self.batches = 0  # costs received, finite or not
        self.last_cost = float("nan")
        self._n = 0  # buckets in use
        self._start, self._end = 0, 0  # batch numbers received: [start, end)
        self._reset(0)

    def __len__(self) -> int:
        """Buckets in use."""
        return self._n

    @property
    def _arrays(self) -> tuple[np.ndarray, ...]:
        return self.count, self.total, self.low, self.high

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in self._arrays)

    def _reset(self, first: int) -> None:
        self.count[first:], self.total[first:] = 0, 0.0
        self.low[first:], self.high[first:] = np.inf, -np.inf

    def extend(self, first_index: int, costs: Sequence[float]) -> None:
        """Add the costs of batches ``first_index``, ``first_index + 1``, …"""
        y = np.asarray(costs, dtype=float).reshape(-1)
        if y.size == 0:
            return
        last = first_index + y.size - 1
        while last // self.width >= self.capacity:
            self._halve()
        w, b0 = self.width, first_index // self.width
        # Where each bucket touched begins, as offsets into y.
        offsets = np.r_[0, np.arange((b0 + 1) * w, last + 1, w) - first_index]
        span = slice(b0, b0 + offsets.size)
        finite = np.isfinite(y)
        self.count[span] += np.add.reduceat(finite.astype(np.int64), offsets)
        self.total[span] += np.add.reduceat(np.where(finite, y, 0.0), offsets)
        low = np.minimum.reduceat(np.where(finite, y, np.inf), offsets)
        high = np.maximum.reduceat(np.where(finite, y, -np.inf), offsets)
        np.minimum(self.low[span], low, out=self.low[span])
        np.maximum(self.high[span], high, out=self.high[span])
        self._start = first_index if self.batches == 0 else min(self._start, first_index)
        self._end = max(self._end, last + 1)
        self._n = max(self._n, span.stop)
        self.batches += y.size
        self.last_cost = float(y[-1])

    def _halve(self) -> None:
        n = self._n + self._n % 2  # an empty bucket pads an odd count
        half = n // 2
        for arr, merge in zip(self._arrays, (np.add, np.add, np.minimum, np.maximum)):
            arr[:half] = merge(arr[0:n:2], arr[1:n:2])
        self._reset(half)
        self._n, self.width = half, 2 * self.width

    @property
    def end(self) -> int:
        """One past the newest batch number received."""
        return self._end

    @property
    def x(self) -> np.ndarray:
        """Each bucket's centre: the mean of the batch numbers it holds."""
        first = np.arange(self._n) * self.width
        last = np.minimum(first + self.width - 1, self._end - 1)
        return (np.maximum(first, self._start) + last) / 2.0

    @property
    def mean(self) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.total[: self._n] / self.count[: self._n]

    def envelope(self) -> tuple[np.ndarray, np.ndarray]:
        """Smallest and largest cost of each bucket (NaN where it holds no finite cost)."""
        empty = self.count[: self._n] == 0
        return (
            np.where(empty, np.nan, self.low[: self._n]),
            np.where(empty, np.nan, self.high[: self._n]),
        )

    def running_mean(self, window: int) -> tuple[np.ndarray, int]:
        """Mean over the last ``k`` buckets at each bucket, ``k * width`` batches ≥ ``window``.

        Returns the means and the number of batches ``k * width`` each one averages (fewer at
        the start of the run). With a width of 1 this is the running mean of ``window`` batches.
        """
        k = max(1, -(-window // self.width))
        if self._n == 0:
            return np.empty(0), k * self.width
        kernel = np.ones(k)
        sums = np.convolve(self.total[: self._n], kernel)[: self._n]
        counts = np.convolve(self.count[: self._n].astype(float), kernel)[: self._n]
        with np.errstate(invalid="ignore", divide="ignore"):
            return sums / counts, k * self.width

    # -- plain values (session files) -----------------------------------------------------------
    def state(self) -> tuple[np.ndarray, dict]:
        """The buckets in use as a (4, n) array (count, sum, low, high) and their bookkeeping."""
        n = self._n
        stats = np.stack(
            [self.count[:n].astype(float), self.total[:n], self.low[:n], self.high[:n]]
        )
        info = {
            "width": self.width,
            "batches": self.batches,
            "start": self._start,
            "end": self._end,
            "capacity": self.capacity,
            "last_cost": self.last_cost,
        }
        return stats, info

    @classmethod
    def from_state(cls, stats: np.ndarray, info: dict) -> CostBuckets:
        """The buckets :meth:`state` described; ValueError if they do not fit together."""
        capacity, width = int(info["capacity"]), int(info["width"])
        stats = np.asarray(stats, dtype=float)
        if stats.ndim != 2 or stats.shape[0] != 4 or stats.shape[1] > capacity or width < 1:
            raise ValueError("cost buckets of the wrong shape")
        out = cls(capacity)
        n = stats.shape[1]
        out.count[:n] = stats[0].astype(np.int64)
        out.total[:n], out.low[:n], out.high[:n] = stats[1], stats[2], stats[3]
        out._n, out.width = n, width
        out.batches, out._start, out._end = (
            int(info["batches"]),
            int(info["start"]),
            int(info["end"]),
        )
        out.last_cost = float(info["last_cost"])
        return out
