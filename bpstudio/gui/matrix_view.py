"""Every weight matrix as a heatmap: w^l with rows j (neurons of layer l) and columns k (l − 1).

The matrices are stacked top to bottom, ``w^2`` first, each stretched to the widget's width (its
height shared by the number of rows), coloured exactly like the network view's edges: the edge
colour table of :mod:`bpstudio.gui.colors` on the scale ``nice_ceiling(robust_scale(all w))``,
so a cell has the colour its edge has in the network view. Clicking a cell selects that weight
through the :class:`~bpstudio.gui.model.ViewModel`; the selected weight is outlined, and a
selected neuron outlines its row of ``w^l`` and its column of ``w^(l+1)``.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, QPoint, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPen
from PySide6.QtWidgets import QLayout, QToolTip, QVBoxLayout, QWidget

from bpstudio.gui.colors import BACKGROUND, DivergingMap, edge_lut, nice_ceiling, robust_scale
from bpstudio.gui.model import DrawsWhenSeen, paints_every_pixel
from bpstudio.gui.network_decor import ColorBar
from bpstudio.gui.network_items import INK, OUTLINE

#: Pixels between two heatmaps, and the least height (stacked) or width (side by side) of one.
GAP = 6
MIN_HEIGHT = 24
MIN_WIDTH = 140


class _Heatmaps(QWidget):
    """The painted part: one image per weight matrix, with titles, outlines and picking."""

    def __init__(self, owner: MatrixView) -> None:
        super().__init__(owner)
        paints_every_pixel(self)
        self._owner = owner
        self.setMouseTracking(True)
        self.setMinimumSize(160, 120)

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt name)
        return QSize(480, 360)

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt name)
        owner = self._owner
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(*BACKGROUND))
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        for i, (title, rect) in enumerate(owner.panel_rects()):
            painter.setPen(INK)
            fm = self.fontMetrics()
            painter.drawText(
                QRectF(rect.left(), rect.top() - self._title_height(), rect.width(), 20),
                Qt.AlignmentFlag.AlignLeft,
                fm.elidedText(title, Qt.TextElideMode.ElideRight, int(rect.width())),
            )
            k0, width = owner.column_window(i + 2)
            source = QRectF(k0, 0, width, owner.image(i).height())
            painter.drawImage(rect, owner.image(i), source)
            painter.setPen(OUTLINE)
            painter.drawRect(rect)
        painter.setPen(QPen(INK, 2.0))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        for rect in owner.outlines():
            painter.drawRect(rect)
        painter.end()

    def wheelEvent(self, event) -> None:  # noqa: N802 (Qt name)
        pos = event.position().toPoint()
        hit = self._owner.cell_at(pos)
        if hit is None:
            return
        factor = 0.8 ** (event.angleDelta().y() / 120)
        self._owner.zoom_columns(hit[0], factor, about=pos.x())
        event.accept()

    def mouseDoubleClickEvent(self, event) -> None:  # noqa: N802 (Qt name)
        self._owner.reset_zoom()

    def _title_height(self) -> int:
        return self.fontMetrics().height() + 2

    def mousePressEvent(self, event) -> None:  # noqa: N802 (Qt name)
        if event.button() != Qt.MouseButton.LeftButton:
            return
        hit = self._owner.cell_at(event.position().toPoint())
        if hit is not None:
            self._owner.model.set_selection(("w", *hit))

    def event(self, event) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            text = self._owner.tooltip_at(event.pos())
            if text is None:
                QToolTip.hideText()
            else:
                QToolTip.showText(event.globalPos(), text, self)
            return True
        return super().event(event)


class MatrixView(DrawsWhenSeen, QWidget):
    """Heatmaps of w^2 … w^L that follow a :class:`~bpstudio.gui.model.ViewModel`.

    The mouse wheel over a heatmap zooms into its columns (784 of them do not fit a dock's
    width); a double click shows all again.

    Parameters
    ----------
    model : ViewModel
        Supplies snapshots (``weights``, ``sizes``) and the selection; clicking a cell calls
        ``model.set_selection(("w", l, j, k))``.
    """

    def __init__(self, model, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("matrixView")
        self.model = model
        self._sizes: tuple[int, ...] = ()
        self._weights: tuple[np.ndarray, ...] = ()
        self._images: list[QImage] = []
        self._windows: list[list[float]] = []  # per matrix: first column shown, columns shown
        self._buffers: list[np.ndarray] = []  # the pixels the QImages point into
        self._map = DivergingMap(1.0, edge_lut())
        self._heatmaps = _Heatmaps(self)
        self._bar = ColorBar("w (as the edges: ends ≥ 99th percentile of |w|)", edge_lut())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSizeConstraint(QLayout.SizeConstraint.SetNoConstraint)  # as NetworkView
        layout.addWidget(self._heatmaps, 1)
        layout.addWidget(self._bar)
        model.snapshot_changed.connect(self._on_snapshot)
        model.selection_changed.connect(self._on_selection)
        if model.snapshot is not None:
            self._on_snapshot(model.snapshot)

    # -- model --------------------------------------------------------------------------------
    def _on_snapshot(self, snap) -> None:
        # A hidden tab costs nothing per frame: the newest snapshot is drawn when shown.
        if self.seen_or_later(lambda: self._on_snapshot(self.model.snapshot)):
            self.set_weights(snap.weights)

    def _on_selection(self, _selection) -> None:
        self._heatmaps.update()

    def set_weights(self, weights) -> None:
        """Show ``weights[l - 2]`` = w^l of shape ``(n_l, n_(l-1))`` (copied into the images)."""
        weights = tuple(np.asarray(w) for w in weights)
        sizes = (weights[0].shape[1], *(w.shape[0] for w in weights)) if weights else ()
        flat = np.concatenate([w.ravel() for w in weights]) if weights else np.zeros(1)
        self._map = self._map.rescaled(nice_ceiling(robust_scale(flat)))
        if sizes != self._sizes:
            self._sizes = sizes
            self._buffers = [np.empty(w.shape, np.uint32) for w in weights]
            self._images = [
                QImage(b, b.shape[1], b.shape[0], 4 * b.shape[1], QImage.Format.Format_RGB32)
                for b in self._buffers
            ]
            self._windows = [[0.0, float(w.shape[1])] for w in weights]
        for w, buf in zip(weights, self._buffers, strict=True):
            np.take(self._map.lut32, self._map.index(w), out=buf)
        self._weights = weights
        self._bar.set_scale(self._map.scale)
        self._heatmaps.update()

    # -- geometry -----------------------------------------------------------------------------
    @property
    def mouse_widget(self) -> QWidget:
        """The widget that receives clicks; :meth:`cell_pos` and :meth:`cell_at` use its pixels."""
        return self._heatmaps

    def image(self, i: int) -> QImage:
        """The heatmap image of ``w^(i + 2)`` (one pixel per weight)."""
        return self._images[i]

    def panel_rects(self) -> list[tuple[str, QRectF]]:
        """``(title, rectangle)`` of each heatmap, ``w^2`` first, in :attr:`mouse_widget` pixels.

        Stacked top to bottom (heights shared by rows) in a tall widget, side by side (widths
        shared by columns, at least :data:`MIN_WIDTH` each) in a wide one, such as a bottom dock.
        """
        if not self._weights:
            return []
        widget = self._heatmaps
        title = widget.fontMetrics().height() + 2
        width, height = widget.width() - 1.0, widget.height() - 1.0
        n = len(self._weights)
        if width > 1.5 * height:
            cols = [w.shape[1] for w in self._weights]
            widths = _shares(width - (n - 1) * GAP, cols, MIN_WIDTH)
            lefts = np.concatenate([[0.0], np.cumsum(np.add(widths, GAP))])[:n]
            rects = [QRectF(0.5 + x, title, w, height - title) for x, w in zip(lefts, widths)]
        else:
            rows = [w.shape[0] for w in self._weights]
            heights = _shares(height - n * (title + GAP), rows, MIN_HEIGHT)
            tops = title + np.concatenate([[0.0], np.cumsum(np.add(heights, title + GAP))])[:n]
            rects = [QRectF(0.5, y, width, h) for y, h in zip(tops, heights)]
        out = []
        for l, (w, rect) in enumerate(zip(self._weights, rects, strict=True), start=2):
            rows_, cols_ = w.shape
            name = f"w^{l} ({rows_} × {cols_}): rows j (layer {l}), columns k (layer {l - 1})"
            k0, shown = self._windows[l - 2] if self._windows else (0.0, cols_)
            if shown < cols_:  # zoomed in with the wheel
                name += f", k = {int(k0)}…{min(cols_, int(np.ceil(k0 + shown))) - 1} in view"
            out.append((name, rect))
        return out

    def column_window(self, l: int) -> tuple[float, float]:
        """``(first column, number of columns)`` of ``w^l`` in view (all unless zoomed)."""
        k0, width = self._windows[l - 2]
        return k0, width

    def zoom_columns(self, l: int, factor: float, about: float | None = None) -> None:
        """Show ``factor`` times as many columns of ``w^l`` (< 1 zooms in), keeping the column
        under widget x ``about`` in place; cells at most 12 pixels wide."""
        rect = self.panel_rects()[l - 2][1]
        cols = self._weights[l - 2].shape[1]
        k0, width = self._windows[l - 2]
        new = min(float(cols), max(width * factor, min(cols, rect.width() / 12.0)))
        x = rect.center().x() if about is None else about
        at = k0 + (x - rect.left()) / rect.width() * width  # the column under x stays there
        k0 = at - (x - rect.left()) / rect.width() * new
        self._windows[l - 2] = [min(max(0.0, k0), cols - new), new]
        self._heatmaps.update()

    def reset_zoom(self) -> None:
        """Show every column of every matrix again."""
        self._windows = [[0.0, float(w.shape[1])] for w in self._weights]
        self._heatmaps.update()

    def _cell_rect(self, l: int, j: int, k: int) -> QRectF:
        rect = self.panel_rects()[l - 2][1]
        rows = self._weights[l - 2].shape[0]
        k0, width = self._windows[l - 2]
        w, h = rect.width() / width, rect.height() / rows
        return QRectF(rect.left() + (k - k0) * w, rect.top() + j * h, w, h)

    def cell_pos(self, l: int, j: int, k: int) -> QPoint:
        """The :attr:`mouse_widget` pixel at the centre of the cell of ``w^l_jk``."""
        c = self._cell_rect(l, j, k).center()
        return QPoint(int(c.x()), int(c.y()))

    def cell_at(self, pos: QPoint) -> tuple[int, int, int] | None:
        """``(l, j, k)`` of the cell under a :attr:`mouse_widget` pixel, or ``None``."""
        x, y = pos.x() + 0.5, pos.y() + 0.5
        for l, (_, rect) in enumerate(self.panel_rects(), start=2):
            if rect.contains(x, y):
                rows, cols = self._weights[l - 2].shape
                k0, width = self._windows[l - 2]
                k = min(cols - 1, int(k0 + (x - rect.left()) / rect.width() * width))
                j = min(rows - 1, int((y - rect.top()) / rect.height() * rows))
                return l, j, k
        return None

    def cell_color(self, l: int, j: int, k: int) -> QColor:
        """The colour the cell of ``w^l_jk`` is drawn in."""
        return QColor.fromRgb(int(self._buffers[l - 2][j, k]) & 0xFFFFFF)

    def outlines(self) -> list[QRectF]:
        """Rectangles outlined for the model's selection (at least 4 pixels across)."""
        sel = self.model.selection
        if sel is None or not self._weights:
            return []
        try:
            if sel[0] == "w":
                rects = [self._cell_rect(*sel[1:])]
            else:
                rects = self._neuron_outlines(*sel[1:])
        except IndexError:
            return []
        # a zoomed heatmap shows some columns only: outline what is in view
        return [_at_least(r, 4.0) for r in rects if _in_view(r, self)]

    def _neuron_outlines(self, l: int, j: int) -> list[QRectF]:
        rects = []
        panels = self.panel_rects()
        if l >= 2:  # its incoming weights: row j of w^l
            rect = panels[l - 2][1]
            h = rect.height() / self._weights[l - 2].shape[0]
            rects.append(QRectF(rect.left(), rect.top() + j * h, rect.width(), h))
        if l <= len(self._weights):  # its outgoing weights: column j of w^(l+1)
            cell = self._cell_rect(l + 1, 0, j)
            rect = panels[l - 1][1]
            rects.append(QRectF(cell.left(), rect.top(), cell.width(), rect.height()))
        return rects

    def tooltip_at(self, pos: QPoint) -> str | None:
        """Hover text: the weight under ``pos`` from the newest snapshot, or ``None``."""
        hit = self.cell_at(pos)
        if hit is None:
            return None
        l, j, k = hit
        return f"w^{l}_{j},{k} = {self._weights[l - 2][j, k]:.4g}\n(l = {l}, j = {j}, k = {k})"


def _shares(total: float, weights, least: float) -> list[float]:
    """Split ``total`` in proportion to ``weights``, each part at least ``least``."""
    parts = np.maximum(least, total * np.asarray(weights, float) / max(1, sum(weights)))
    fixed = parts == least
    if fixed.any() and not fixed.all():  # shrink the others so that the parts still add up
        rest = total - least * fixed.sum()
        parts[~fixed] *= max(rest, 0.0) / parts[~fixed].sum()
    return parts.tolist()


def _in_view(rect: QRectF, view: MatrixView) -> bool:
    """Whether ``rect`` overlaps one of the heatmaps' rectangles."""
    return any(rect.intersects(panel) for _, panel in view.panel_rects())


def _at_least(rect: QRectF, size: float) -> QRectF:
    """``rect`` grown about its centre to at least ``size`` pixels in each direction."""
    w, h = max(rect.width(), size), max(rect.height(), size)
    c = rect.center()
    return QRectF(c.x() - w / 2, c.y() - h / 2, w, h)
