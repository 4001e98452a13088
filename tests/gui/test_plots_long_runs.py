"""The cost plot over runs of hours: millions of mini-batches in bounded memory, still exact."""

import tracemalloc

import numpy as np
import pytest

from bpstudio.core.cost_buckets import MAX_BUCKETS
from bpstudio.gui.plots import MAX_QUEUED_COSTS, CostPlot

#: The plot's own copy of the costs, whatever the length of the run: 4 numbers of 8 bytes for
#: each of MAX_BUCKETS buckets (128 KiB), and fewer than MAX_QUEUED_COSTS costs waiting for the
#: next redraw (512 KiB).
BUFFER_BOUND = 32 * MAX_BUCKETS + 8 * MAX_QUEUED_COSTS
#: Everything the plot allocates and keeps, pyqtgraph's copies of the drawn curves included.
TRACED_BOUND = 2 * 2**20

N = 4_000_000  # some hours of training at full speed
CHUNK = 5_000


@pytest.fixture(scope="module")
def costs():
    """A steep early drop, then stationary noise (vectorised, float64: 32 MB)."""
    i = np.arange(N)
    return 0.1 + 2.0 * np.exp(-i / 2000) + np.random.default_rng(0).normal(0, 0.02, N)


@pytest.fixture(scope="module")
def fed(costs, qapp):
    """A plot fed ``costs`` in chunks and redrawn every 20 chunks, as the window does."""
    plot = CostPlot()
    buffers = []
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for k, start in enumerate(range(0, N, CHUNK)):
            plot.add_costs(start, costs[start : start + CHUNK], draw=False)
            buffers.append(plot.buffer_bytes)
            if k % 20 == 19:
                plot.flush()
        plot.flush()
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    yield plot, max(buffers), kept
    plot.deleteLater()


def test_memory_stays_bounded_over_millions_of_batches(fed):
    plot, most_buffered, kept = fed
    assert plot.batches == N and plot.series.end == N
    assert most_buffered < BUFFER_BOUND  # at every step of the run
    assert kept < TRACED_BOUND  # 32 MB of costs went in


def test_millions_of_batches_keep_the_start_and_exact_envelope(fed, costs):
    plot, _, _ = fed
    s = plot.series
    w = s.width
    assert w == 1024 and len(s) == -(-N // w)  # the smallest width that holds them
    assert s.x[0] <= w  # the plot still starts at batch 0
    low, high = s.envelope()
    full = costs[: len(s) * w - w].reshape(-1, w)  # the complete buckets
    assert np.array_equal(high[:-1], full.max(axis=1))
    assert np.array_equal(low[:-1], full.min(axis=1))
    assert high[-1] == costs[(len(s) - 1) * w :].max()
    assert high[0] == costs[:w].max()  # the top of the steep start
    x, y = plot.band_curve.getOriginalDataset()
    assert x[0] <= w and np.nanmax(y) == costs.max()  # and it is drawn


def test_old_and_new_buckets_of_a_long_run_show_the_same_noise(fed):
    plot, _, _ = fed
    low, high = plot.series.envelope()
    spread = (high - low)[:-1]
    old, new = spread[100:400].mean(), spread[-300:].mean()  # after the early drop
    assert old == pytest.approx(new, rel=0.03)
