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

#: Points a cost curve keeps at most (per curve): enough for a smooth curve at any window width,
#: few enough that redrawing it stays cheap.
MAX_POINTS = 4_000
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
        self.raw = DecimatingSeries()
        self.mean = DecimatingSeries()
        self._raw_curve = plot.plot(
            pen=pg.mkPen(PLOT_COLORS["cost_raw"], width=1), name="C per mini-batch"
        )
        self._mean_curve = plot.plot(
            pen=pg.mkPen(PLOT_COLORS["cost_mean"], width=1), name=f"running mean ({window})"
        )
        self._recent: list[float] = []
        self._pending = False

    def clear_data(self) -> None:
        self.raw.clear()
        self.mean.clear()
        self._recent = []
        self._redraw()

    def add_costs(self, first_index: int, costs: Sequence[float], *, draw: bool = True) -> None:
        """Append the costs of batches ``first_index``, ``first_index + 1``, …

        With ``draw=False`` the curve is only redrawn by the next :meth:`flush` (the window
        redraws plots a few times a second while training runs: they need no more).
        """
        if len(costs) == 0:
            return
        costs = np.asarray(costs, float)
        x = np.arange(first_index, first_index + len(costs), dtype=float)
        # Running mean over the last `window` batches, carried across calls.
        joined = np.concatenate([self._recent, costs])
        finite = np.where(np.isfinite(joined), joined, np.nan)
        kernel = np.ones(self.window)
        sums = np.convolve(np.nan_to_num(finite), kernel)[: len(joined)]
        counts = np.convolve(np.isfinite(finite).astype(float), kernel)[: len(joined)]
        with np.errstate(invalid="ignore", divide="ignore"):
            means = (sums / counts)[len(self._recent) :]
        self._recent = list(joined[-(self.window - 1) :]) if self.window > 1 else []
        self.raw.extend(x, costs)
        self.mean.extend(x, means)
        self._pending = True
        if draw:
            self.flush()

    def flush(self) -> None:
        """Redraw if costs arrived since the last drawing."""
        if self._pending:
            self._redraw()

    def _redraw(self) -> None:
        self._pending = False
        self._raw_curve.setData(self.raw.x, self.raw.y)
        self._mean_curve.setData(self.mean.x, self.mean.y)


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
        plot.addLegend(offset=(-10, -10))
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

    def set_records(self, records: Sequence) -> None:
        """Show every :class:`~bpstudio.core.session.EpochRecord` so far."""
        if len(records) == len(self.epochs):
            return
        self.epochs = tuple(records)
        x = np.array([r.epoch for r in records], float)
        self._train.setData(x, [100 * r.training_accuracy for r in records])
        self._val.setData(x, [100 * r.validation_accuracy for r in records])
        self.getPlotItem().setXRange(0, max(1, len(records) - 1), padding=0.05)


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
