"""pyqtgraph plots of the cost per mini-batch and the accuracy per epoch.

Long runs keep memory bounded: :class:`DecimatingSeries` holds at most a fixed number of points
and, when full, averages neighbouring pairs of the older half, so old stretches of the curve get
coarser while the recent ones stay exact.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QHBoxLayout, QWidget

from bpstudio.gui.colors import nice_ceiling

#: Points a cost curve keeps at most (per curve): enough for a smooth curve at any window width,
#: few enough that redrawing it stays cheap.
MAX_POINTS = 4_000
#: Chunks of costs kept waiting for the next redraw before they are folded in regardless.
MAX_QUEUED = 32
#: Curve colours (Okabe–Ito, distinguishable with colour-blindness). All opaque, pens one pixel
#: wide and no grid: translucent or wide pens and pyqtgraph's grid take Qt's slow paths (a grid
#: alone cost 10 ms per repaint of the cost plot).
PLOT_COLORS = {
    "cost_raw": (166, 206, 227),
    "cost_mean": (0, 114, 178),
    "train": (230, 159, 0),
    "validation": (0, 158, 115),
}


class DecimatingSeries:
    """An (x, y) series of bounded length: full resolution for the newest points.

    Parameters
    ----------
    capacity : int
        Most points kept; when reached, the older half is averaged in pairs.
    """

    def __init__(self, capacity: int = MAX_POINTS) -> None:
        self.capacity = max(4, capacity - capacity % 2)
        self._x = np.empty(self.capacity)
        self._y = np.empty(self.capacity)
        self._n = 0

    def __len__(self) -> int:
        return self._n

    def clear(self) -> None:
        self._n = 0

    def extend(self, x: Sequence[float], y: Sequence[float]) -> None:
        """Append points; x must increase."""
        x, y = np.asarray(x, float), np.asarray(y, float)
        while len(x):
            if self._n == self.capacity:
                self._halve_older_half()
            take = min(len(x), self.capacity - self._n)
            self._x[self._n : self._n + take] = x[:take]
            self._y[self._n : self._n + take] = y[:take]
            self._n += take
            x, y = x[take:], y[take:]

    def _halve_older_half(self) -> None:
        half = self.capacity // 2
        for arr in (self._x, self._y):
            arr[: half // 2] = arr[:half].reshape(-1, 2).mean(axis=1)
            arr[half // 2 : half // 2 + half] = arr[half:]
        self._n = half // 2 + half

    @property
    def x(self) -> np.ndarray:
        return self._x[: self._n]

    @property
    def y(self) -> np.ndarray:
        return self._y[: self._n]


class CostPlot(pg.PlotWidget):
    """Cost of every mini-batch (faint) and its running mean (bold), against the batch number."""

    def __init__(self, parent: QWidget | None = None, window: int = 50) -> None:
        super().__init__(parent)
        self.setObjectName("costPlot")
        self.setBackground("w")
        self.window = window
        plot = self.getPlotItem()
        plot.setLabel("bottom", "mini-batch")
        plot.setLabel("left", "cost C")
        plot.getAxis("left").enableAutoSIPrefix(False)
        plot.addLegend(offset=(-10, 10))
        # Draw about two points per pixel column (keeping each column's extremes), not all 4,000.
        plot.setDownsampling(auto=True, mode="peak")
        plot.setClipToView(True)
        self._raw = DecimatingSeries()
        self._mean = DecimatingSeries()
        self._raw_curve = plot.plot(
            pen=pg.mkPen(PLOT_COLORS["cost_raw"], width=1), name="C per mini-batch"
        )
        self._mean_curve = plot.plot(
            pen=pg.mkPen(PLOT_COLORS["cost_mean"], width=1), name=f"running mean ({window})"
        )
        self._recent = np.empty(0)
        self._queued: list[tuple[int, Sequence[float]]] = []
        self._pending = False
        self._follow = _RoundRanges(plot)

    @property
    def raw(self) -> DecimatingSeries:
        """Cost of every mini-batch received (older stretches averaged, see the module)."""
        self._absorb()
        return self._raw

    @property
    def mean(self) -> DecimatingSeries:
        """Running mean of the cost over the last :attr:`window` mini-batches."""
        self._absorb()
        return self._mean

    def clear_data(self) -> None:
        self._raw.clear()
        self._mean.clear()
        self._recent = np.empty(0)
        self._queued = []
        self._redraw()

    def add_costs(self, first_index: int, costs: Sequence[float], *, draw: bool = True) -> None:
        """Append the costs of batches ``first_index``, ``first_index + 1``, …

        With ``draw=False`` the costs are only queued, and the curve is redrawn by the next
        :meth:`flush`: the window redraws plots a few times a second while training runs, and
        doing the running mean once per redraw rather than once per frame saves frame time.
        """
        if len(costs) == 0:
            return
        self._queued.append((first_index, costs))
        if len(self._queued) >= MAX_QUEUED:  # no flush for a while (e.g. window minimised)
            self._absorb()
        self._pending = True
        if draw:
            self.flush()

    @property
    def queued_costs(self) -> int:
        """Costs received but not yet folded into the series (bounded; see :data:`MAX_QUEUED`)."""
        return sum(len(c) for _, c in self._queued)

    def _absorb(self) -> None:
        """Append the queued costs and their running means to the series."""
        if not self._queued:
            return
        x = np.concatenate([np.arange(i, i + len(c), dtype=float) for i, c in self._queued])
        costs = np.concatenate([np.asarray(c, float) for _, c in self._queued])
        self._queued = []
        # Running mean over the last `window` batches, carried across calls; non-finite costs
        # are left out of it.
        joined = np.concatenate([self._recent, costs])
        finite = np.isfinite(joined)
        kernel = np.ones(self.window)
        sums = np.convolve(np.where(finite, joined, 0.0), kernel)[: len(joined)]
        counts = np.convolve(finite.astype(float), kernel)[: len(joined)]
        with np.errstate(invalid="ignore", divide="ignore"):
            means = (sums / counts)[len(self._recent) :]
        self._recent = joined[-(self.window - 1) :] if self.window > 1 else np.empty(0)
        self._raw.extend(x, costs)
        self._mean.extend(x, means)

    def flush(self) -> None:
        """Redraw if costs arrived since the last drawing."""
        if self._pending:
            self._redraw()

    def _redraw(self) -> None:
        self._pending = False
        raw = self.raw
        self._raw_curve.setData(raw.x, raw.y)
        self._mean_curve.setData(self.mean.x, self.mean.y)
        finite = raw.y[np.isfinite(raw.y)]
        top = float(finite.max()) if finite.size else 1.0
        self._follow.show(float(raw.x[-1]) if len(raw) else 1.0, (0.0, nice_ceiling(top)))


class AccuracyPlot(pg.PlotWidget):
    """Accuracy on the training and validation data at the end of every epoch, in percent."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("accuracyPlot")
        self.setBackground("w")
        plot = self.getPlotItem()
        plot.setLabel("bottom", "epoch")
        plot.setLabel("left", "accuracy (%)")
        plot.getAxis("bottom").enableAutoSIPrefix(False)
        plot.getAxis("left").enableAutoSIPrefix(False)
        plot.addLegend(offset=(10, 10))  # top left: accuracy rises to the right, from below
        symbol = {"symbol": "o", "symbolSize": 6}
        self._train = plot.plot(
            pen=pg.mkPen(PLOT_COLORS["train"], width=1),
            symbolBrush=PLOT_COLORS["train"],
            name="training",
            **symbol,
        )
        self._val = plot.plot(
            pen=pg.mkPen(PLOT_COLORS["validation"], width=1),
            symbolBrush=PLOT_COLORS["validation"],
            name="validation",
            **symbol,
        )
        self.epochs: tuple = ()
        self._follow = _RoundRanges(plot)

    def set_records(self, records: Sequence) -> None:
        """Show every :class:`~bpstudio.core.session.EpochRecord` so far."""
        if len(records) == len(self.epochs):
            return
        self.epochs = tuple(records)
        x = np.array([r.epoch for r in records], float)
        train = [100 * r.training_accuracy for r in records]
        val = [100 * r.validation_accuracy for r in records]
        self._train.setData(x, train)
        self._val.setData(x, val)
        values = np.array(train + val)
        values = values[np.isfinite(values)]
        low, high = (values.min(), values.max()) if values.size else (0.0, 100.0)
        # Whole tens of percent around the data: 91-95 % shows as 90-100 %.
        y_range = (10.0 * np.floor(low / 10), min(100.0, 10.0 * np.floor(high / 10) + 10))
        self._follow.show(max(1, len(records) - 1), y_range)


class _RoundRanges:
    """Keeps a plot's axes on round numbers that contain the data, until the user takes over.

    pyqtgraph's auto-range moves the axes on every redraw while a run grows, and every move
    re-lays out the tick labels (half the cost of a redraw); round ends move only now and then,
    and the axes stay readable. Zooming or panning by hand hands the axes to the user; the plot's
    "A" (auto-range) button hands them back.
    """

    def __init__(self, plot: pg.PlotItem) -> None:
        self._box = plot.getViewBox()
        self._following = True
        self._shown: tuple | None = None
        self._box.sigRangeChangedManually.connect(self._on_manual)

    def _on_manual(self, *args) -> None:
        self._following = False

    def show(self, x_end: float, y_range: tuple[float, float]) -> None:
        """Show x from 0 to ``x_end`` rounded up to a round number, and ``y_range``."""
        box = self._box
        if any(box.autoRangeEnabled()):  # at first, or the user pressed the "A" button
            box.disableAutoRange()
            self._following, self._shown = True, None
        if not self._following:
            return
        wanted = (nice_ceiling(max(x_end, 1.0)), *y_range)
        if wanted != self._shown:
            self._shown = wanted
            box.setRange(xRange=(0, wanted[0]), yRange=y_range, padding=0.02)


class PlotsPanel(QWidget):
    """The two plots side by side (the panel docks below the network)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("plotsPanel")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        self.cost = CostPlot(self)
        self.accuracy = AccuracyPlot(self)
        layout.addWidget(self.cost, 3)
        layout.addWidget(self.accuracy, 2)
