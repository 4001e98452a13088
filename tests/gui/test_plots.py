"""The plots: bounded memory over long runs, the running mean, the accuracy curves."""

import numpy as np
import pytest

from bpstudio.core.session import EpochRecord
from bpstudio.gui.plots import MAX_QUEUED, AccuracyPlot, CostPlot, DecimatingSeries


def test_decimating_series_stays_bounded_and_keeps_recent_points_exact():
    s = DecimatingSeries(capacity=100)
    x = np.arange(10_000, dtype=float)
    y = np.sin(x / 50)
    for start in range(0, len(x), 37):  # in uneven chunks, as snapshots bring them
        s.extend(x[start : start + 37], y[start : start + 37])
    assert len(s) <= 100
    assert np.all(np.diff(s.x) > 0)  # still ordered
    assert s.x[-1] == 9999 and s.y[-1] == y[-1]
    n_exact = 40
    assert np.array_equal(s.x[-n_exact:], x[-n_exact:])  # the newest stay at full resolution
    # Older points are averages of neighbours: they stay on the curve's range.
    assert s.y.min() >= -1 and s.y.max() <= 1


def test_cost_plot_running_mean_matches_an_independent_mean(qtbot):
    plot = CostPlot(window=5)
    qtbot.addWidget(plot)
    costs = np.random.default_rng(0).random(23)
    plot.add_costs(0, costs[:10])
    plot.add_costs(10, costs[10:])  # carried across calls
    want = [costs[max(0, i - 4) : i + 1].mean() for i in range(23)]
    assert np.allclose(plot.mean.y, want, rtol=1e-12)
    assert np.array_equal(plot.raw.x, np.arange(23))
    plot.clear_data()
    assert len(plot.raw) == 0 and len(plot.mean) == 0


def test_cost_plot_memory_is_bounded_over_a_long_run(qtbot):
    plot = CostPlot()
    qtbot.addWidget(plot)
    for start in range(0, 200_000, 1000):
        plot.add_costs(start, np.full(1000, 0.5), draw=False)
        assert plot.queued_costs < MAX_QUEUED * 1000  # bounded even without a redraw
    plot.flush()
    assert len(plot.raw) <= plot.raw.capacity and plot.raw.x[-1] == 199_999


def test_accuracy_plot_shows_both_curves_in_percent(qtbot):
    plot = AccuracyPlot()
    qtbot.addWidget(plot)
    records = [EpochRecord(e, 100 * (e + 1), 0.8 + e / 100, 0.75 + e / 100, 0, 1) for e in range(3)]
    plot.set_records(records)
    xs, ys = plot._train.getData()
    assert list(xs) == [0, 1, 2] and np.allclose(ys, [80, 81, 82])
    assert np.allclose(plot._val.getData()[1], [75, 76, 77])


def test_cost_axes_end_on_round_numbers_until_the_user_zooms(qtbot):
    plot = CostPlot()
    qtbot.addWidget(plot)
    box = plot.getPlotItem().getViewBox()

    def x_end():
        return box.viewRange()[0][1]

    plot.add_costs(0, np.full(1100, 0.3))
    assert x_end() == pytest.approx(1200 * 1.02, rel=0.01)  # 1,099 batches -> 0..1,200
    assert box.viewRange()[1][1] == pytest.approx(0.3 * 1.02, rel=0.01)
    box.sigRangeChangedManually.emit([True, True])  # what a wheel zoom or a drag sends
    shown = x_end()
    plot.add_costs(1100, np.full(1000, 0.3))
    assert x_end() == shown  # the user's view is kept
    box.enableAutoRange()  # the plot's "A" button
    plot.add_costs(2100, np.full(10, 0.3))
    assert x_end() == pytest.approx(2500 * 1.02, rel=0.01)  # round numbers again
