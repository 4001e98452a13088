"""The plots: exact bucket statistics from batch 0, the running mean, the accuracy curves,
their hover readout and a legend that covers no point."""

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QPoint, QPointF, QRectF, Qt

from bpstudio.core.cost_buckets import MAX_BUCKETS, CostBuckets
from bpstudio.core.session import EpochRecord
from bpstudio.gui.plots import MAX_QUEUED, SYMBOL_LIMIT, AccuracyPlot, CostPlot


def steep_drop_and_noise(n, seed=0):
    """Costs that fall steeply over the first few hundred batches, then stay noisy."""
    i = np.arange(n)
    noise = np.random.default_rng(seed).normal(0.0, 0.02, n)
    return 0.1 + 2.0 * np.exp(-i / 150) + noise


def feed(target, costs, seed=1):
    """Add ``costs`` in uneven chunks, as snapshots bring them."""
    rng = np.random.default_rng(seed)
    start = 0
    while start < len(costs):
        size = int(rng.integers(1, 700))
        target(start, costs[start : start + size])
        start += size


def independent_buckets(costs, width):
    """Per-bucket (min, max, mean) of consecutive runs of ``width`` costs from batch 0."""
    pad = (-len(costs)) % width
    full = np.concatenate([costs, np.full(pad, np.nan)]).reshape(-1, width)
    return np.nanmin(full, axis=1), np.nanmax(full, axis=1), np.nanmean(full, axis=1)


def test_buckets_keep_exact_statistics_from_batch_0_after_65000_batches():
    costs = steep_drop_and_noise(70_001)
    s = CostBuckets()
    feed(s.extend, costs)
    assert s.width == 32 and len(s) <= s.capacity  # the smallest width that holds them all
    low, high = s.envelope()
    want_low, want_high, want_mean = independent_buckets(costs, s.width)
    assert np.array_equal(low, want_low) and np.array_equal(high, want_high)
    assert np.allclose(s.mean, want_mean, rtol=1e-12)
    assert s.x[0] <= s.width  # the plot starts at batch 0 ...
    assert high[0] == costs[: s.width].max() == costs.max()  # ... with the steep start's top
    assert s.x[-1] == 70_000 - (70_001 % 32 - 1) / 2  # the newest, partly filled bucket
    assert s.batches == 70_001 and s.last_cost == costs[-1]


def test_old_and_new_buckets_show_the_same_spread_of_stationary_noise():
    costs = np.random.default_rng(2).normal(0.5, 0.05, 200_000)
    s = CostBuckets()
    feed(s.extend, costs)
    low, high = s.envelope()
    spread = (high - low)[:-1]  # complete buckets only
    old, new = spread[:300].mean(), spread[-300:].mean()
    # Expected range of 64 normal samples: about 4.8 standard deviations, old or new alike.
    assert s.width == 64
    assert old == pytest.approx(new, rel=0.05)
    assert old == pytest.approx(4.8 * 0.05, rel=0.1)


def test_non_finite_costs_leave_a_gap_but_are_counted():
    s = CostBuckets(capacity=4)
    s.extend(0, [1.0, np.inf, np.nan, 3.0, 2.0, 5.0, np.nan, np.nan])
    assert s.width == 2 and s.batches == 8 and np.isnan(s.last_cost)
    low, high = s.envelope()
    assert np.array_equal(low[:3], [1.0, 3.0, 2.0]) and np.isnan(low[3])
    assert np.array_equal(high[:3], [1.0, 3.0, 5.0])


def test_a_diverging_run_is_drawn_without_errors(qtbot):
    plot = CostPlot()
    qtbot.addWidget(plot)
    plot.add_costs(0, [0.5, 1e135, 1e308, 1.7e308, np.inf, np.nan])  # no overflow, no warning
    assert np.nanmax(plot.series.envelope()[1]) == 1.7e308 and np.isnan(plot.last_cost)
    assert plot.batches == 6


def test_cost_plot_draws_the_envelope_from_batch_0(qtbot):
    plot = CostPlot()
    qtbot.addWidget(plot)
    costs = steep_drop_and_noise(65_536 + 5)
    feed(lambda i, c: plot.add_costs(i, c, draw=False), costs)
    plot.flush()
    x, y = plot.band_curve.getOriginalDataset()
    width = plot.series.width
    assert x[0] <= width
    first = x < width
    assert y[first].max() == costs[:width].max() and y[first].min() == costs[:width].min()
    assert np.nanmax(y) == costs.max() and np.nanmin(y) == costs.min()
    assert plot.batches == len(costs) and plot.last_cost == costs[-1]
    box = plot.getPlotItem().getViewBox()
    (x0, x1), (y0, y1) = box.viewRange()
    assert x0 <= 0 and x1 >= len(costs) and y1 >= costs.max()  # the whole run is in view


def test_cost_plot_running_mean_matches_an_independent_mean(qtbot):
    plot = CostPlot(window=5)
    qtbot.addWidget(plot)
    costs = np.random.default_rng(0).random(23)
    plot.add_costs(0, costs[:10])
    plot.add_costs(10, costs[10:])  # carried across calls
    want = [costs[max(0, i - 4) : i + 1].mean() for i in range(23)]
    x, y = plot.mean_curve.getOriginalDataset()
    assert np.allclose(y, want, rtol=1e-12)
    assert np.array_equal(x, np.arange(23))
    plot.clear_data()
    assert plot.batches == 0 and len(plot.series) == 0 and np.isnan(plot.last_cost)


def test_running_mean_over_wide_buckets_averages_whole_buckets(qtbot):
    plot = CostPlot(window=50)
    qtbot.addWidget(plot)
    costs = np.random.default_rng(3).random(3 * MAX_BUCKETS)  # width 4: 13 buckets, 52 batches
    plot.add_costs(0, costs)
    means, span = plot.series.running_mean(50)
    assert plot.series.width == 4 and span == 52
    i = 1000
    assert means[i] == pytest.approx(costs[(i + 1) * 4 - 52 : (i + 1) * 4].mean(), rel=1e-12)
    assert np.allclose(plot.mean_curve.getOriginalDataset()[1], means, equal_nan=True)


def test_chunks_with_a_gap_between_them_leave_a_gap(qtbot):
    plot = CostPlot()
    qtbot.addWidget(plot)
    plot.add_costs(0, [1.0, 2.0], draw=False)
    plot.add_costs(5, [4.0, 3.0], draw=False)  # batches 2-4 never arrived
    plot.flush()
    low, high = plot.series.envelope()
    assert np.array_equal(high, [1, 2, np.nan, np.nan, np.nan, 4, 3], equal_nan=True)
    assert plot.batches == 4 and plot.last_cost == 3.0


def test_the_legend_says_what_wide_buckets_show(qtbot):
    plot = CostPlot(window=50)
    qtbot.addWidget(plot)
    plot.add_costs(0, np.zeros(10))
    labels = [label.text for _, label in plot.legend.items]
    assert labels == ["C per mini-batch", "running mean (50)"]
    plot.add_costs(10, np.zeros(100 * MAX_BUCKETS))  # width 128 > 50
    labels = [label.text for _, label in plot.legend.items]
    assert labels == ["C per mini-batch, min–max of 128", "mean per 128 batches"]


def test_queued_costs_stay_bounded_without_a_redraw(qtbot):
    plot = CostPlot()
    qtbot.addWidget(plot)
    for start in range(0, 200_000, 1000):
        plot.add_costs(start, np.full(1000, 0.5), draw=False)
        assert plot.queued_costs < MAX_QUEUED * 1000  # bounded even without a redraw
    assert plot.last_cost == 0.5
    plot.flush()
    assert plot.batches == 200_000 and plot.series.end == 200_000


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


def records_for(n):
    return [
        EpochRecord(e, 100 * (e + 1), 0.8 + e / 100, 0.75 + e / 100 + 1e-4 * e, 0, 10_000)
        for e in range(n)
    ]


def test_accuracy_plot_shows_both_curves_in_percent_from_epoch_0(qtbot):
    plot = AccuracyPlot()
    qtbot.addWidget(plot)
    plot.set_records(records_for(3))
    xs, ys = plot.training_curve.getData()
    assert list(xs) == [0, 1, 2] and np.allclose(ys, [80, 81, 82])
    assert np.allclose(plot.validation_curve.getData()[1], [75, 76.01, 77.02])
    assert "from 0" in plot.getPlotItem().getAxis("bottom").labelText


def shown_plot(qtbot, records):
    plot = AccuracyPlot()
    qtbot.addWidget(plot)
    plot.resize(520, 230)
    plot.set_records(records)
    plot.show()
    qtbot.waitExposed(plot)
    return plot


def scene_point(plot, x, y):
    return plot.getPlotItem().getViewBox().mapViewToScene(QPointF(x, y))


def hover(qtbot, plot, scene_pos, shows):
    """Move the mouse over ``scene_pos`` and wait until the readout says ``shows``."""
    qtbot.mouseMove(plot.viewport(), plot.mapFromScene(scene_pos))
    qtbot.waitUntil(lambda: plot.hover_text.startswith(shows), timeout=2000)
    return plot.hover_text


def test_hovering_over_an_epoch_shows_its_numbers(qtbot):
    plot = shown_plot(qtbot, records_for(8))
    for epoch, val in ((3, 0.7803), (6, 0.8106)):
        shown = hover(qtbot, plot, scene_point(plot, epoch, 100 * val), f"epoch {epoch}:")
        assert shown == f"epoch {epoch}: validation {100 * val:.2f}%, training {80 + epoch:.2f}%"
    # Between two epochs, nearer to epoch 5, and below the points: epoch 5's numbers.
    assert hover(qtbot, plot, scene_point(plot, 5.3, 72), "epoch 5:") == (
        "epoch 5: validation 80.05%, training 85.00%"
    )
    # Over the axis, outside the data area, nothing is shown.
    hover(qtbot, plot, plot.getPlotItem().getAxis("bottom").sceneBoundingRect().center(), "")
    qtbot.waitUntil(lambda: plot.hover_text == "", timeout=2000)


def test_dots_go_beyond_the_symbol_limit_and_come_back_and_hover_still_reads(qtbot):
    few = records_for(40)
    plot = shown_plot(qtbot, few)
    assert plot.validation_curve.opts["symbol"] == "o"
    assert len(plot.validation_curve.scatter.data) == 40  # a dot for each epoch
    plot.set_records(records_for(SYMBOL_LIMIT + 1))
    assert plot.validation_curve.opts["symbol"] is None
    assert not plot.validation_curve.scatter.isVisible()
    assert hover(qtbot, plot, scene_point(plot, 57, 81), "epoch 57:").startswith("epoch 57:")
    plot.set_records(())
    plot.set_records(few)  # a reset run starts again with few epochs: dots again
    assert plot.validation_curve.opts["symbol"] == "o"
    assert plot.validation_curve.scatter.isVisible()


def test_the_readout_follows_new_records_under_a_resting_mouse(qtbot):
    plot = shown_plot(qtbot, records_for(4))
    hover(qtbot, plot, scene_point(plot, 3, 78), "epoch 3:")
    changed = records_for(4)[:3] + [EpochRecord(3, 400, 0.5, 0.25, 0, 10_000)]
    plot.set_records(())
    plot.set_records(changed)
    assert plot.hover_text == "epoch 3: validation 25.00%, training 50.00%"


def test_the_cost_legend_is_outside_the_data_area(qtbot):
    plot = CostPlot()
    qtbot.addWidget(plot)
    plot.resize(700, 230)
    plot.add_costs(0, steep_drop_and_noise(20_000))
    plot.show()
    qtbot.waitExposed(plot)
    legend = plot.legend.sceneBoundingRect()
    assert legend.width() > 20 and legend.height() > 5
    assert not legend.intersects(plot.getPlotItem().getViewBox().sceneBoundingRect())


@pytest.mark.parametrize(
    "accuracies",
    [
        [(0.8 + e / 100, 0.75 + e / 100) for e in range(30)],  # rising, as usual
        [(0.99 - e / 40, 0.01 + e / 40) for e in range(30)],  # into every corner
        [(1.0, 1.0), (0.0, 0.0), (1.0, 0.0), (0.0, 1.0)],
    ],
)
def test_the_legend_covers_no_point(qtbot, accuracies):
    records = [EpochRecord(e, e, t, v, 0, 1) for e, (t, v) in enumerate(accuracies)]
    plot = shown_plot(qtbot, records)
    legend = plot.legend.sceneBoundingRect()
    assert legend.width() > 20 and legend.height() > 5  # it is there, and readable
    assert not legend.intersects(plot.getPlotItem().getViewBox().sceneBoundingRect())
    for r in records:
        for value in (r.training_accuracy, r.validation_accuracy):
            point = scene_point(plot, r.epoch, 100 * value)
            dot = QRectF(point.x() - 4, point.y() - 4, 8, 8)  # the 6-pixel symbol, and a margin
            assert not legend.intersects(dot), (r.epoch, value)


@pytest.mark.qt_log_ignore("Mouse event .* not accepted")  # the legend takes no drags
def test_dragging_the_legend_leaves_it_below_the_data(qtbot, monkeypatch):
    monkeypatch.setitem(pg.CONFIG_OPTIONS, "mouseRateLimit", 0)  # every move reaches the scene
    plot = shown_plot(qtbot, records_for(5))
    box = plot.getPlotItem().getViewBox().sceneBoundingRect()
    before = plot.legend.sceneBoundingRect()
    start = plot.mapFromScene(before.center())
    end = start - QPoint(150, 100)  # up and left, into the data
    qtbot.mousePress(plot.viewport(), Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(plot.viewport(), start - QPoint(75, 50))
    qtbot.mouseMove(plot.viewport(), end)
    qtbot.mouseRelease(plot.viewport(), Qt.MouseButton.LeftButton, pos=end)
    assert plot.legend.sceneBoundingRect() == before
    assert not plot.legend.sceneBoundingRect().intersects(box)
