"""Every mini-batch's cost, in memory that stays bounded however long a run goes on.

The first :data:`EXACT_LIMIT` costs of a run are kept exactly (float64, 8 bytes a mini-batch:
134 MB at the limit, reached after about an hour at the fastest the built-in digits train).
Past the limit the costs go into exact per-bucket statistics (count, sum, smallest, largest;
:class:`~bpstudio.core.cost_buckets.CostBuckets`, a fixed size) and the newest :data:`RECENT`
are kept exactly for the views. Session files, the history export and replays say which part
is which.
"""

from __future__ import annotations

import numpy as np

from bpstudio.core.cost_buckets import CostBuckets

#: Mini-batch costs kept exactly from the start of a run.
EXACT_LIMIT = 1 << 24
#: Newest costs kept exactly past the limit (what snapshots hand the views).
RECENT = 1 << 16
#: Costs past the limit gathered before they are added to the buckets in one go.
PENDING = 4096


class CostLog:
    """The costs of a run's mini-batches, as a read-only sequence of the exact ones.

    ``len(log)`` counts every mini-batch; indexing, iteration and :meth:`array` see the exact
    part (the first ``min(len, limit)``); :attr:`beyond` holds the statistics of the rest.
    """

    def __init__(self, costs=(), *, limit: int = EXACT_LIMIT, beyond: CostBuckets | None = None,
                 total: int | None = None) -> None:
        exact = np.asarray(costs, dtype=np.float64).reshape(-1)
        self.limit = int(limit)
        if exact.size > self.limit:
            raise ValueError(f"more exact costs ({exact.size}) than the limit ({self.limit})")
        self._data = np.empty(max(1024, exact.size))
        self._data[: exact.size] = exact
        self._exact = exact.size
        self._n = exact.size if total is None else int(total)
        if self._n > self._exact and (self._exact < self.limit or beyond is None):
            raise ValueError("costs past the exact ones need their buckets, after a full limit")
        self._beyond = beyond
        self._pending: list[float] = []
        self._ring = np.empty(RECENT)
        self._ring_len = 0

    # -- adding -----------------------------------------------------------------------------------
    def append(self, cost: float) -> None:
        if self._n < self.limit:
            if self._exact == self._data.size:
                grown = np.empty(min(self._data.size * 2, self.limit))
                grown[: self._exact] = self._data[: self._exact]
                self._data = grown
            self._data[self._exact] = cost
            self._exact += 1
            self._n += 1
            return
        self._pending.append(cost)
        self._ring[self._n % RECENT] = cost
        self._ring_len = min(self._ring_len + 1, RECENT)
        self._n += 1
        if len(self._pending) >= PENDING:
            self._flush()

    def _flush(self) -> None:
        if not self._pending:
            return
        if self._beyond is None:
            self._beyond = CostBuckets()
        first = self._n - len(self._pending) - self.limit
        self._beyond.extend(first, self._pending)
        self._pending = []

    # -- reading ----------------------------------------------------------------------------------
    @property
    def exact_count(self) -> int:
        """How many costs, from the first, are kept exactly."""
        return self._exact

    @property
    def beyond(self) -> CostBuckets | None:
        """Statistics of the costs past the exact limit (batch numbers counted from the limit),
        or None while the run has not reached it."""
        self._flush()
        return self._beyond

    def array(self) -> np.ndarray:
        """The exact costs as a read-only float64 view."""
        view = self._data[: self._exact]
        view.flags.writeable = False
        return view

    def since(self, first: int) -> tuple[int, tuple[float, ...]]:
        """The costs from mini-batch ``first`` on that are still at hand, and where they start.

        Exact ones come first (up to the limit); past it, the newest :data:`RECENT`.
        """
        first = max(0, int(first))
        if first >= self._n:
            return self._n, ()
        if first < self._exact:
            return first, tuple(self._data[first : self._exact].tolist())
        start = max(first, self._n - self._ring_len)
        idx = np.arange(start, self._n) % RECENT
        return start, tuple(self._ring[idx].tolist())

    def recent(self, k: int) -> np.ndarray:
        """The newest ``k`` costs (fewer if not at hand), oldest first."""
        if self._n <= self._exact:
            return self._data[max(0, self._exact - k) : self._exact].copy()
        start, values = self.since(self._n - k)
        return np.asarray(values)

    @property
    def nbytes(self) -> int:
        beyond = self._beyond.nbytes if self._beyond is not None else 0
        return self._data.nbytes + self._ring.nbytes + beyond + 8 * len(self._pending)

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, index):
        exact = self._data[: self._exact]
        if isinstance(index, slice):
            return exact[index].tolist()
        return float(exact[index])

    def __iter__(self):
        return iter(self._data[: self._exact].tolist())

    def __eq__(self, other) -> bool:
        if isinstance(other, CostLog):
            return len(self) == len(other) and list(self) == list(other)
        try:
            return list(self) == list(other) and len(self) == len(other)
        except TypeError:
            return NotImplemented

    __hash__ = None
