"""pyqtgraph plots of the cost per mini-batch and the accuracy per epoch.

Long runs keep memory bounded without losing the start of the run: :class:`CostBuckets` keeps
exact statistics (count, sum, min, max) of the costs in buckets of equal width that cover every
batch from 0; when the buckets are all used, neighbouring pairs merge and the width doubles.
Old and new stretches of the curve are treated alike, and the band between each bucket's
smallest and largest cost shows the true spread at any length of run.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QHBoxLayout, QSizePolicy, QWidget

from bpstudio.core.cost_buckets import CostBuckets
from bpstudio.gui.colors import nice_ceiling

#: Buckets a cost plot keeps at most: at least two per pixel column at any window width, few
#: enough that redrawing stays cheap. 4 numbers a bucket: 128 KiB in all.
#: Chunks, and costs, kept waiting for the next redraw before they are folded in regardless.
MAX_QUEUED = 32
MAX_QUEUED_COSTS = 65_536
#: Curve colours (Okabe–Ito, distinguishable with colour-blindness). All opaque, pens one pixel
#: wide and no grid: translucent or wide pens and pyqtgraph's grid take Qt's slow paths (a grid
#: alone cost 10 ms per repaint of the cost plot).
PLOT_COLORS = {
    "cost_raw": (166, 206, 227),
    "cost_mean": (0, 114, 178),
    "train": (230, 159, 0),
    "validation": (0, 158, 115),
}


class CostPlot(pg.PlotWidget):
    """The cost of the mini-batches: each bucket's range (light) and the running mean (bold)."""

    def __init__(self, parent: QWidget | None = None, window: int = 50) -> None:
        super().__init__(parent, axisItems={"bottom": _CountAxis("bottom")})
        self.setObjectName("costPlot")
        self.setBackground("w")
        self.window = window
        plot = self.getPlotItem()
        plot.setLabel("bottom", "mini-batch")
        plot.setLabel("left", "cost C")
        plot.getAxis("bottom").enableAutoSIPrefix(False)
        plot.getAxis("left").enableAutoSIPrefix(False)
        # Draw about two points per pixel column (keeping each column's extremes).
        plot.setDownsampling(auto=True, mode="peak")
        plot.setClipToView(True)
        self.series = CostBuckets()
        self.band_curve = plot.plot(pen=pg.mkPen(PLOT_COLORS["cost_raw"], width=1))
        self.mean_curve = plot.plot(pen=pg.mkPen(PLOT_COLORS["cost_mean"], width=1))
        self.legend = _LegendBelow(plot)
        self.legend.addItem(self.band_curve, "C per mini-batch")
        self.legend.addItem(self.mean_curve, f"running mean ({window})")
        self._labels = ("", "")
        self._queued: list[tuple[int, Sequence[float]]] = []
        self._queued_costs = 0
        self._pending = False
        self._follow = _RoundRanges(plot)

    @property
    def batches(self) -> int:
        """Mini-batch costs received so far."""
        return self.series.batches + self._queued_costs

    @property
    def last_cost(self) -> float:
        """The cost of the newest mini-batch received (NaN before the first)."""
        if self._queued:
            return float(self._queued[-1][1][-1])
        return self.series.last_cost

    @property
    def raw(self) -> _Newest:
        """Compatibility view for the main window: ``len(raw)`` and ``raw.y[-1]``.

        Deprecated: read :attr:`batches` and :attr:`last_cost` instead.
        """
        return _Newest(self.batches, self.last_cost)

    @property
    def buffer_bytes(self) -> int:
        """Memory held by the plot's own copy of the costs (statistics and queued chunks)."""
        return self.series.nbytes + 8 * self.queued_costs

    def clear_data(self) -> None:
        self.series.clear()
        self._queued, self._queued_costs = [], 0
        self._redraw()

    def add_costs(self, first_index: int, costs: Sequence[float], *, draw: bool = True) -> None:
        """Add the costs of batches ``first_index``, ``first_index + 1``, …

        With ``draw=False`` the costs are only queued, and the curve is redrawn by the next
        :meth:`flush`: the window redraws plots a few times a second while training runs, and
        folding the costs in once per redraw rather than once per frame saves frame time.
        """
        if len(costs) == 0:
            return
        self._queued.append((first_index, costs))
        self._queued_costs += len(costs)
        # No flush for a while (e.g. the window is minimised): fold them in now.
        if len(self._queued) >= MAX_QUEUED or self._queued_costs >= MAX_QUEUED_COSTS:
            self._absorb()
        self._pending = True
        if draw:
            self.flush()

    @property
    def queued_costs(self) -> int:
        """Costs received but not yet folded into the series (bounded; see :data:`MAX_QUEUED`)."""
        return self._queued_costs

    def _absorb(self) -> None:
        queued, self._queued, self._queued_costs = self._queued, [], 0
        if all(f + len(c) == g for (f, c), (g, _) in zip(queued, queued[1:])):
            # Consecutive chunks, as snapshots bring them: folded in at once.
            queued = [(queued[0][0], np.concatenate([c for _, c in queued]))] if queued else []
        for first, costs in queued:
            self.series.extend(first, costs)

    def flush(self) -> None:
        """Redraw if costs arrived since the last drawing."""
        if self._pending:
            self._redraw()

    def _redraw(self) -> None:
        self._pending = False
        self._absorb()
        s = self.series
        x = s.x
        low, high = s.envelope()
        # One line through each bucket's minimum and maximum: the band of the costs' spread,
        # and the exact curve while each bucket holds a single batch.
        self.band_curve.setData(np.repeat(x, 2), np.column_stack([low, high]).ravel())
        means, span = s.running_mean(self.window)
        self.mean_curve.setData(x, means)
        labels = (
            "C per mini-batch" if s.width == 1 else f"C per mini-batch, min–max of {s.width:,}",
            f"running mean ({span})" if s.width < span else f"mean per {span:,} batches",
        )
        if labels != self._labels:  # changes only when the buckets widen
            self._labels = labels
            for curve, label in zip((self.band_curve, self.mean_curve), labels):
                self.legend.getLabel(curve).setText(label)
        top = np.nanmax(high) if len(s) and np.isfinite(high).any() else 1.0
        top = min(top, 1e300)  # a diverged run's costs reach 1e308: a round ceiling above is inf
        self._follow.show(float(s.end - 1) if s.batches else 1.0, (0.0, nice_ceiling(top)))


class _CountAxis(pg.AxisItem):
    """An axis of batch numbers: 2,500,000 rather than 2.5e+06."""

    def tickStrings(self, values, scale, spacing):  # noqa: N802 (pyqtgraph's name)
        if spacing * scale < 1:
            return super().tickStrings(values, scale, spacing)
        return [f"{v * scale:,.0f}" for v in values]


class _Newest:
    """What the main window reads from :attr:`CostPlot.raw`: a length and the newest cost."""

    def __init__(self, batches: int, last_cost: float) -> None:
        self._batches = batches
        self.y = np.array([last_cost]) if batches else np.empty(0)

    def __len__(self) -> int:
        return self._batches


#: Beyond this many epochs the accuracy curves drop their dots: they merge into a line anyway,
#: and drawing hundreds of symbols costs the window more than all else in the plot.
SYMBOL_LIMIT = 100


class AccuracyPlot(pg.PlotWidget):
    """Accuracy on the training and validation data at the end of every epoch, in percent.

    Each epoch is a dot while there are at most :data:`SYMBOL_LIMIT`; hovering over the plot
    shows the nearest epoch's numbers.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("accuracyPlot")
        self.setBackground("w")
        plot = self.getPlotItem()
        plot.setLabel("bottom", "epoch (from 0, as the book)")
        plot.setLabel("left", "accuracy (%)")
        plot.getAxis("bottom").enableAutoSIPrefix(False)
        plot.getAxis("left").enableAutoSIPrefix(False)
        self.training_curve, self.validation_curve = (
            plot.plot(pen=pg.mkPen(c, width=1), symbolBrush=c, symbol="o", symbolSize=6)
            for c in (PLOT_COLORS["train"], PLOT_COLORS["validation"])
        )
        self._train, self._val = self.training_curve, self.validation_curve
        self.legend = _LegendBelow(plot)
        self.legend.addItem(self.training_curve, "training")
        self.legend.addItem(self.validation_curve, "validation")
        self._cursor = pg.InfiniteLine(angle=90, pen=pg.mkPen((190, 190, 190), width=1))
        self._readout = pg.TextItem(
            color=(40, 40, 40), fill=pg.mkBrush(255, 255, 255), border=pg.mkPen(160, 160, 160)
        )
        for item in (self._cursor, self._readout):
            item.setZValue(20)
            item.hide()
            plot.addItem(item, ignoreBounds=True)
        self._mouse: QPointF | None = None
        self.epochs: tuple = ()
        self._epoch_x = np.empty(0)
        self._follow = _RoundRanges(plot)

    @property
    def hover_text(self) -> str:
        """The numbers shown for the epoch under the mouse ("" when none is shown)."""
        return self._readout.toPlainText() if self._readout.isVisible() else ""

    def set_records(self, records: Sequence) -> None:
        """Show every :class:`~bpstudio.core.session.EpochRecord` so far."""
        if len(records) == len(self.epochs):
            return
        self.epochs = tuple(records)
        self._epoch_x = x = np.array([r.epoch for r in records], float)
        train = [100 * r.training_accuracy for r in records]
        val = [100 * r.validation_accuracy for r in records]
        dots = len(records) <= SYMBOL_LIMIT
        for curve, y in ((self.training_curve, train), (self.validation_curve, val)):
            if (curve.opts["symbol"] is not None) != dots:
                curve.setSymbol("o" if dots else None)
            curve.setData(x, y)
        values = np.array(train + val)
        values = values[np.isfinite(values)]
        low, high = (values.min(), values.max()) if values.size else (0.0, 100.0)
        # Whole tens of percent around the data: 91-95 % shows as 90-100 %.
        y_range = (10.0 * np.floor(low / 10), min(100.0, 10.0 * np.floor(high / 10) + 10))
        self._follow.show(max(1, len(records) - 1), y_range)
        self._show_readout()  # the numbers under a resting mouse follow the new records

    def mouseMoveEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        # Every move, not the scene's sigMouseMoved: pyqtgraph drops moves closer than 10 ms
        # together, and the last one (where the mouse rests) must not be lost.
        super().mouseMoveEvent(event)
        self._mouse = self.mapToScene(event.position().toPoint())
        self._show_readout()

    def leaveEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        self._mouse = None
        self._show_readout()
        super().leaveEvent(event)

    def _show_readout(self) -> None:
        box = self.getPlotItem().getViewBox()
        record, mouse = None, self._mouse
        if mouse is not None and self.epochs and box.sceneBoundingRect().contains(mouse):
            at = box.mapSceneToView(mouse).x()
            i = int(np.argmin(np.abs(self._epoch_x - at)))
            record = self.epochs[i] if abs(self._epoch_x[i] - at) <= 0.5 else None
        self._cursor.setVisible(record is not None)
        self._readout.setVisible(record is not None)
        if record is None:
            return
        self._readout.setText(epoch_text(record))
        (x0, x1), (y0, y1) = box.viewRange()
        # Beside the cursor, on the side with room, and a quarter of the height away from
        # the epoch's points.
        values = [100 * v for v in (record.training_accuracy, record.validation_accuracy)]
        values = [v for v in values if np.isfinite(v)]
        high = bool(values) and np.mean(values) > (y0 + y1) / 2
        right = record.epoch > (x0 + x1) / 2
        self._readout.setAnchor((1.0 if right else 0.0, 0.5))
        self._readout.setPos(record.epoch, y0 + (0.25 if high else 0.75) * (y1 - y0))
        self._cursor.setPos(record.epoch)


def epoch_text(record) -> str:
    """One epoch's accuracies as the hover readout says them."""

    def percent(value: float) -> str:
        return f"{100 * value:.2f}%" if np.isfinite(value) else "—"

    return (
        f"epoch {record.epoch}: validation {percent(record.validation_accuracy)}, "
        f"training {percent(record.training_accuracy)}"
    )


class _LegendBelow(pg.LegendItem):
    """A one-row legend under the plot's x axis, outside the data area: it covers no point.

    It stays there: pyqtgraph's legends can be dragged, and a drag would anchor it on the data.
    """

    def __init__(self, plot: pg.PlotItem) -> None:
        super().__init__(colCount=4, labelTextSize="8pt", horSpacing=12)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.layout.setContentsMargins(0, 0, 0, 0)
        plot.layout.addItem(self, 4, 1)
        plot.layout.setAlignment(self, Qt.AlignmentFlag.AlignRight)

    def hoverEvent(self, ev) -> None:  # noqa: N802 (pyqtgraph's names)
        pass  # accepts no drags

    def mouseDragEvent(self, ev) -> None:  # noqa: N802
        ev.ignore()


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
