"""Colour bars and layer decorations (labels, highlight band, arrow) of the network view."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QBrush, QColor, QImage, QPainter, QPen
from PySide6.QtWidgets import QGraphicsRectItem, QWidget

from bpstudio.gui.network_items import INK, OUTLINE
from bpstudio.gui.network_layout import NetworkLayout

BAND_BRUSH = QBrush(QColor(255, 200, 60, 60))
BAND_BRUSHES = {
    "pass": BAND_BRUSH,
    "gradients": QBrush(QColor(60, 190, 90, 55)),
    "update": QBrush(QColor(150, 90, 220, 50)),
}
ARROWS = {"forward": "→ forward", "backward": "← backward", None: ""}


class LayerDecorations:
    """Layer labels at the bottom, a band behind the active layer and an arrow above it.

    Parameters
    ----------
    box : pyqtgraph.ViewBox
        The view box to draw in (data coordinates of a :class:`NetworkLayout`).
    z : float
        Z value of the band (labels and arrow go above everything).
    """

    def __init__(self, box: pg.ViewBox, z: float) -> None:
        self._box = box
        self._layout: NetworkLayout | None = None
        self._band = QGraphicsRectItem()
        self._band.setBrush(BAND_BRUSH)
        self._band.setPen(QPen(Qt.PenStyle.NoPen))
        self._band.setZValue(z)
        self._arrow = pg.TextItem("", color=INK, anchor=(0.5, 1.0))
        self._arrow.setZValue(100)
        self._labels: list[pg.TextItem] = []
        for item in (self._band, self._arrow):
            box.addItem(item, ignoreBounds=True)

    def set_layout(self, layout: NetworkLayout) -> None:
        """Label the layers of a new layout: ``l = 1 (input, 784)``, ``l = 2 (30)``, ..."""
        self._layout = layout
        for item in self._labels:
            self._box.removeItem(item)
        bottom = layout.bounds()[3] + 3
        self._labels = []
        for i in range(len(layout.sizes)):
            label = pg.TextItem(_label_text(i, layout.sizes), color=INK, anchor=(0.5, 0.0))
            label.setPos(float(layout.x[i]), bottom)
            label.setZValue(100)
            self._box.addItem(label, ignoreBounds=True)
            self._labels.append(label)
        self.highlight(None)

    def set_scales(self, texts) -> None:
        """Write a second line under each layer's label (its own colour scale), or none."""
        for i, (item, extra) in enumerate(zip(self._labels, texts, strict=True)):
            text = _label_text(i, self._layout.sizes) + (f"\n{extra}" if extra else "")
            if item.toPlainText() != text:
                item.setText(text)
                _centre_lines(item)

    def label_margin(self, bounds, width: int, height: int, fm) -> float:
        """Data units to add at each side of ``bounds = (left, top, right, bottom)`` so that
        the end labels (a fixed size in pixels) fit a ``width x height`` view, however narrow.
        ``fm`` is the labels' ``QFontMetrics``."""
        left, top, right, bottom = bounds
        labels = self.labels()
        half = [
            max(fm.horizontalAdvance(t) for t in text.split("\n")) / 2 + 6 for text, _, _ in labels
        ]
        (x0, h0), (x1, h1) = (labels[0][1], half[0]), (labels[-1][1], half[-1])
        width, height, margin = max(width, 50), max(height, 50), 16.0
        for _ in range(3):  # the pixels per data unit depend on the margin: settle it
            scale = min(width / (right - left + 2 * margin), height / (bottom - top + 22))
            margin = max(16.0, left - (x0 - h0 / scale), x1 + h1 / scale - right)
        return margin

    def labels(self) -> list[tuple[str, float, float]]:
        """``(text, x, y)`` of every layer label, in data coordinates (the text's top centre)."""
        return [(item.toPlainText(), item.pos().x(), item.pos().y()) for item in self._labels]

    def band(self) -> tuple[tuple[float, float, float, float], str, tuple[int, ...]] | None:
        """``((left, top, width, height), arrow text, RGBA)`` of the highlight, or ``None``.

        The rectangle is in data coordinates.
        """
        if not self._band.isVisible():
            return None
        r = self._band.rect()
        rgba = self._band.brush().color().getRgb()
        return (r.left(), r.top(), r.width(), r.height()), self._arrow.toPlainText(), rgba

    def highlight(self, l: int | None, direction: str | None = None) -> None:
        """Band behind layer ``l`` and an arrow naming the pass; ``None`` hides both."""
        if direction not in ARROWS:
            raise ValueError(f"direction must be 'forward', 'backward' or None, not {direction!r}")
        if l is None:
            self.highlight_layers(None)
        else:
            self.highlight_layers(l, l, ARROWS[direction])

    def highlight_layers(
        self, first: int | None, last: int | None = None, text: str = "", kind: str = "pass"
    ) -> None:
        """Band behind layers ``first`` to ``last`` (and the weights between), ``text`` above.

        ``kind`` picks the band's colour: ``"pass"`` (amber: feedforward, BP1, BP2),
        ``"gradients"`` (green: BP3, BP4) or ``"update"`` (violet: the SGD step). ``first =
        None`` hides the band and the text.
        """
        if first is None:
            if self._band.isVisible():  # (re-setting the same text would still repaint it)
                self._band.setVisible(False)
                self._arrow.setText("")
            return
        lay = self._layout
        last = first if last is None else last
        for l in (first, last):
            if not 1 <= l <= len(lay.sizes):
                raise IndexError(f"no layer l = {l} (1 <= l <= {len(lay.sizes)})")
        _, top, _, bottom = lay.bounds()
        left = float(lay.x[first - 1]) - self._half_width(first)
        right = float(lay.x[last - 1]) + self._half_width(last)
        self._band.setRect(QRectF(left, top - 4, right - left, bottom - top + 8))
        self._band.setBrush(BAND_BRUSHES[kind])
        self._band.setVisible(True)
        self._arrow.setText(text)
        self._arrow.setPos((left + right) / 2, top - 5)

    def _half_width(self, l: int) -> float:
        lay = self._layout
        grid = lay.grids[l - 1]
        return grid.width / 2 + 4 if grid is not None else 3 * float(lay.radius[l - 1]) + 4


def edge_title(quantity: str) -> str:
    """The edge colour bar's title for a per-weight quantity, e.g. ``"w"`` or ``"∂C/∂w"``."""
    return f"{quantity} (edge colour; ends ≥ 99th percentile of |{quantity}|)"


def scale_text(node_map, shown: bool) -> str:
    """What a layer's own colour scale reads under its label: ``±0.0003`` or ``0 … 0.25``."""
    if not shown:
        return ""
    return f"±{node_map.scale:.3g}" if node_map.signed else f"0 … {node_map.scale:.3g}"


def _centre_lines(item: pg.TextItem) -> None:
    """Centre every line of a text item on its anchor (Qt left-aligns them)."""
    text = item.textItem
    text.setTextWidth(-1)
    doc = text.document()
    option = doc.defaultTextOption()
    option.setAlignment(Qt.AlignmentFlag.AlignHCenter)
    doc.setDefaultTextOption(option)
    text.setTextWidth(doc.idealWidth())
    item.updateTextPos()


def _label_text(i: int, sizes) -> str:
    """``l = 1 (input, 784)``, ``l = 2 (30)``, ``l = 3 (output, 10)``: layer index ``i = l - 1``."""
    role = "input, " if i == 0 else "output, " if i == len(sizes) - 1 else ""
    return f"l = {i + 1} ({role}{sizes[i]})"


def phase_band(phase, L: int) -> tuple[int, int, str, str]:
    """``(first, last, text, kind)`` of the band that shows what ``phase`` computed.

    ``phase`` has ``kind`` and ``layer`` as :class:`bpstudio.core.trace.Phase`; ``L`` is the
    number of layers. Feedforward bands every layer, input to output; BP1 layer L; BP2 its
    layer; BP3/BP4 (``kind = "gradients"``) and the update every layer and weight.
    """
    l = phase.layer
    span, kind = (1, L), "pass"
    if phase.kind == "feedforward":
        text = "→ forward: z^l, a^l for l = 2 … L"
    elif phase.kind == "output_error":
        span, text = (L, L), f"← backward: BP1, δ^{L}"
    elif phase.kind == "backpropagate":
        span, text = (l, l), f"← backward: BP2, δ^{l} from δ^{l + 1}"
    elif phase.kind == "gradients":
        text, kind = "BP3, BP4: ∂C/∂b^l and ∂C/∂w^l, l = 2 … L", "gradients"
    elif phase.kind == "update":
        text, kind = "update: w → w − (η/m) Σ ∂C/∂w, b → b − (η/m) Σ ∂C/∂b", "update"
    else:
        raise ValueError(f"unknown phase kind {phase.kind!r}")
    return (*span, text, kind)


class ColorBar(QWidget):
    """A horizontal colour bar with a title and the numbers at both ends and in the middle.

    Parameters
    ----------
    title : str
        Text above the bar, e.g. ``"δ (mean over mini-batch)"``.
    lut : numpy.ndarray
        ``(n, 4)`` ``uint8`` colours from the most negative to the most positive value.
    """

    def __init__(self, title: str, lut: np.ndarray, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._title, self._scale, self._signed = title, 1.0, True
        self._set_lut(lut)

    def _set_lut(self, lut: np.ndarray) -> None:
        self._row = np.ascontiguousarray(lut[None, :, :].astype(np.uint8))
        self._image = QImage(
            self._row, lut.shape[0], 1, 4 * lut.shape[0], QImage.Format.Format_RGBA8888
        )

    def set_map(self, lut: np.ndarray, low: float, high: float) -> None:
        """Show ``lut`` from ``low`` to ``high``: ``low = -high`` (diverging) or ``0``."""
        signed = low < 0
        if signed != self._signed or not np.array_equal(lut, self._row[0]):
            self._signed = signed
            self._set_lut(lut)
            self.update()
        self.set_scale(high)

    def set_title(self, title: str) -> None:
        """Change the text above the bar."""
        if title != self._title:
            self._title = title
            self.update()

    def set_scale(self, scale: float) -> None:
        """Show ``-scale`` at the left end and ``+scale`` at the right end."""
        # Repaint only when the printed numbers change: this is called on every frame.
        changed = f"{float(scale):.3g}" != f"{self._scale:.3g}"
        self._scale = float(scale)
        if changed:
            self.update()

    def lut(self) -> np.ndarray:
        """``(n, 4)`` ``uint8`` colours of the bar, left to right."""
        return self._row[0].copy()

    def low(self) -> float:
        """The value at the left end of the bar."""
        return -self._scale if self._signed else 0.0

    def title(self) -> str:
        """The text above the bar."""
        return self._title

    def scale(self) -> float:
        """The value at the right end of the bar."""
        return self._scale

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt name)
        fm = self.fontMetrics()
        return QSize(max(260, fm.horizontalAdvance(self._title) + 20), 2 * fm.height() + 16)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt name)
        return QSize(160, self.sizeHint().height())

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt name)
        painter = QPainter(self)
        fm = self.fontMetrics()
        line = fm.height()
        margin = fm.horizontalAdvance("−0.000e-00") // 2
        bar = QRectF(margin, line + 3, max(10, self.width() - 2 * margin), line * 0.8)
        painter.setPen(INK)
        painter.drawText(
            QRectF(0, 0, self.width(), line), Qt.AlignmentFlag.AlignHCenter, self._title
        )
        painter.drawImage(bar, self._image)
        painter.setPen(OUTLINE)
        painter.drawRect(bar)
        painter.setPen(INK)
        y = bar.bottom() + 2
        if self._signed:
            ends = ((0.0, f"−{self._scale:.3g}"), (0.5, "0"), (1.0, f"+{self._scale:.3g}"))
        else:
            ends = ((0.0, "0"), (0.5, f"{self._scale / 2:.3g}"), (1.0, f"{self._scale:.3g}"))
        for frac, text in ends:
            x = bar.left() + frac * bar.width()
            rect = QRectF(x - margin, y, 2 * margin, line)
            painter.drawText(rect, Qt.AlignmentFlag.AlignHCenter, text)
        painter.end()
