"""The plane of the decision-region view: a grid of colours over the unit square, the points
on top, and clicks turned into data coordinates.

The grid's cells are gathered onto the screen's pixels in one NumPy indexing step (each pixel
shows the cell its centre falls in), so the colour of a pixel is exactly that of one cell.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, QPointF, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPen
from PySide6.QtWidgets import QToolTip, QWidget

from bpstudio.core.data.points import MAX_CLASSES
from bpstudio.core.regions import REGION_BOUNDS
from bpstudio.gui.colors import pack_rgb32
from bpstudio.gui.model import paints_every_pixel

#: Class colours (Tableau 10): distinct on white and from each other.
CLASS_COLOURS = np.array(
    [
        (31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
        (140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207),
    ],
    dtype=np.uint8,
)  # fmt: skip
POINT_RADIUS = 4.5
OUTLINE = QColor(40, 40, 40)
#: A right-click removes the nearest point within this many pixels.
REMOVE_RADIUS = 20.0
MARGIN = (26, 8, 8, 22)  # left, top, right, bottom: room for the axis labels


class RegionPlane(QWidget):
    """The coloured plane and the points; emits clicks in data coordinates."""

    #: A left click at data coordinates (x, y).
    left_clicked = Signal(float, float)
    #: A right click near point i (numbered as :meth:`shown_points` numbers them).
    point_right_clicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        paints_every_pixel(self)
        self.setObjectName("decisionRegionsPlane")
        self.setMinimumSize(200, 200)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self._cells: np.ndarray | None = None  # (n, n) uint32 RGB32
        self._buffer: np.ndarray | None = None
        self._image: QImage | None = None
        self._overlay: QImage | None = None
        self._message = ""
        #: Set by the owner: the hover text for data coordinates (x, y), or None for none.
        self.describe = None
        empty = np.zeros((0, 2))
        self._points = (empty, np.zeros(0, np.int64), empty, np.zeros(0, np.int64))

    def sizeHint(self) -> QSize:
        return QSize(440, 440)

    def plane_rect(self) -> QRect:
        """The square, in this widget's pixels, that shows the plane ``REGION_BOUNDS``."""
        left, top, right, bottom = MARGIN
        side = max(1, min(self.width() - left - right, self.height() - top - bottom))
        return QRect(left, top, side, side)

    def data_to_pixel(self, x: float, y: float) -> QPointF:
        """Where the point ``(x, y)`` is drawn (continuous pixel coordinates)."""
        r, (x0, x1, y0, y1) = self.plane_rect(), REGION_BOUNDS
        return QPointF(
            r.x() + (x - x0) / (x1 - x0) * r.width(), r.y() + (y1 - y) / (y1 - y0) * r.height()
        )

    def pixel_to_data(self, px: float, py: float) -> tuple[float, float]:
        """The data coordinates of the centre of pixel ``(px, py)``."""
        r, (x0, x1, y0, y1) = self.plane_rect(), REGION_BOUNDS
        x = x0 + (px + 0.5 - r.x()) / r.width() * (x1 - x0)
        y = y1 - (py + 0.5 - r.y()) / r.height() * (y1 - y0)
        return x, y

    def show_message(self, text: str) -> None:
        self._cells, self._image, self._message = None, None, text
        self.update()

    def set_cells(self, rgb: np.ndarray) -> None:
        """Show ``rgb`` (``(n, n, 3)`` uint8, row 0 at the top) over the plane."""
        n = rgb.shape[0]
        rgba = np.empty((n * n, 4), np.uint8)
        rgba[:, :3] = rgb.reshape(-1, 3)
        self._cells = pack_rgb32(rgba).reshape(n, n)
        self._message = ""
        self._render()
        self.update()

    def set_points(self, train_xy, train_labels, test_xy, test_labels) -> None:
        self._points = tuple(np.asarray(a) for a in (train_xy, train_labels, test_xy, test_labels))
        self._overlay = None
        self.update()

    @property
    def points(self) -> tuple[np.ndarray, ...]:
        """``(train_xy, train_labels, test_xy, test_labels)`` as last set."""
        return self._points

    def shown_points(self) -> tuple[np.ndarray, np.ndarray]:
        """All points drawn, training first then test: ``(xy (k, 2), labels (k,))``."""
        train_xy, train_labels, test_xy, test_labels = self._points
        return (
            np.concatenate((np.reshape(train_xy, (-1, 2)), np.reshape(test_xy, (-1, 2)))),
            np.concatenate((np.ravel(train_labels), np.ravel(test_labels))).astype(np.int64),
        )

    def nearest_point(self, px: float, py: float) -> int | None:
        """Index (in :meth:`shown_points`) of the point nearest pixel ``(px, py)``, if close."""
        xy, _ = self.shown_points()
        if len(xy) == 0:
            return None
        r, (x0, x1, y0, y1) = self.plane_rect(), REGION_BOUNDS
        sx = r.x() + (xy[:, 0] - x0) / (x1 - x0) * r.width()
        sy = r.y() + (y1 - xy[:, 1]) / (y1 - y0) * r.height()
        d = np.hypot(sx - px - 0.5, sy - py - 0.5)
        i = int(np.argmin(d))
        return i if d[i] <= REMOVE_RADIUS else None

    def _render(self) -> None:
        # One gather from the grid's cells to the screen's pixels (nearest cell, exactly).
        r, n = self.plane_rect(), self._cells.shape[0]
        rows = ((np.arange(r.height()) + 0.5) * n / r.height()).astype(np.intp)
        cols = ((np.arange(r.width()) + 0.5) * n / r.width()).astype(np.intp)
        self._buffer = np.ascontiguousarray(self._cells[rows[:, None], cols[None, :]])
        h, w = self._buffer.shape
        self._image = QImage(self._buffer, w, h, 4 * w, QImage.Format.Format_RGB32)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self._cells is not None:
            self._render()

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(255, 255, 255))
        r = self.plane_rect()
        if self._image is None:
            painter.setPen(QColor(90, 90, 90))
            flags = Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap
            painter.drawText(r.adjusted(10, 10, -10, -10), flags, self._message)
            return
        painter.drawImage(r.topLeft(), self._image)
        if self._overlay is None or self._overlay.size() != self.size():
            self._overlay = self._draw_overlay()
        painter.drawImage(0, 0, self._overlay)

    def _draw_overlay(self) -> QImage:
        # The frame, the axes and the points change far less often than the colours: they are
        # drawn once into a transparent image, so a frame costs two image blits.
        overlay = QImage(self.size(), QImage.Format.Format_ARGB32_Premultiplied)
        overlay.fill(Qt.GlobalColor.transparent)
        painter = QPainter(overlay)
        r = self.plane_rect()
        painter.setPen(QColor(150, 150, 150))
        painter.drawRect(r.adjusted(0, 0, -1, -1))
        self._paint_axes(painter, r)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        train_xy, train_labels, test_xy, test_labels = self._points
        self._paint_points(painter, train_xy, train_labels, hollow=False)
        self._paint_points(painter, test_xy, test_labels, hollow=True)
        painter.end()
        return overlay

    def _paint_axes(self, painter: QPainter, r: QRect) -> None:
        painter.setPen(QColor(70, 70, 70))
        x0, x1, y0, y1 = REGION_BOUNDS
        below = r.bottom() + 3
        painter.drawText(
            QRect(r.left() - 10, below, 20, 16), Qt.AlignmentFlag.AlignHCenter, f"{x0:g}"
        )
        painter.drawText(
            QRect(r.right() - 10, below, 20, 16), Qt.AlignmentFlag.AlignHCenter, f"{x1:g}"
        )
        painter.drawText(
            QRect(r.center().x() - 20, below, 40, 16), Qt.AlignmentFlag.AlignHCenter, "x₁"
        )
        right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        painter.drawText(QRect(0, r.bottom() - 14, r.left() - 4, 16), right, f"{y0:g}")
        painter.drawText(QRect(0, r.top() - 2, r.left() - 4, 16), right, f"{y1:g}")
        painter.drawText(QRect(0, r.center().y() - 8, r.left() - 4, 16), right, "x₂")

    def _paint_points(self, painter: QPainter, xy, labels, *, hollow: bool) -> None:
        colours = [QColor(*CLASS_COLOURS[i % len(CLASS_COLOURS)]) for i in range(MAX_CLASSES)]
        outline = QPen(OUTLINE, 1.0)
        for (x, y), label in zip(np.reshape(xy, (-1, 2)), np.ravel(labels)):
            centre = self.data_to_pixel(float(x), float(y))
            colour = colours[int(label) % len(colours)]
            if hollow:
                painter.setPen(QPen(OUTLINE, 3.2))
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.drawEllipse(centre, POINT_RADIUS, POINT_RADIUS)
                painter.setPen(QPen(colour, 1.8))
            else:
                painter.setPen(outline)
                painter.setBrush(colour)
            painter.drawEllipse(centre, POINT_RADIUS, POINT_RADIUS)

    def event(self, event) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            pos = event.pos()
            text = None
            if self._image is not None and self.describe is not None:
                if self.plane_rect().contains(pos):
                    text = self.describe(*self.pixel_to_data(pos.x(), pos.y()))
            if text:
                QToolTip.showText(event.globalPos(), text, self)
            else:
                QToolTip.hideText()
            return True
        return super().event(event)

    def mousePressEvent(self, event) -> None:
        pos = event.position()
        if self._image is None or not QRectF(self.plane_rect()).contains(pos):
            return super().mousePressEvent(event)
        x, y = self.pixel_to_data(pos.x(), pos.y())
        x, y = (float(np.clip(v, 0.0, 1.0)) for v in (x, y))
        if event.button() == Qt.MouseButton.LeftButton:
            self.left_clicked.emit(x, y)
        elif event.button() == Qt.MouseButton.RightButton:
            i = self.nearest_point(pos.x(), pos.y())
            if i is not None:
                self.point_right_clicked.emit(i)
        event.accept()
