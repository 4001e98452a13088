"""The graphics items that draw nodes, the input image and the selected edge of the network view.

Colours are never made per frame: every item holds prebuilt ``QBrush``/``QPen`` palettes indexed
by the LUT bins of :mod:`bpstudio.gui.colors`.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QLineF, QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QImage, QPainter, QPen, QPixmap, QTransform

from bpstudio.gui.colors import (
    BACKGROUND,
    NEUTRAL_GREY,
    diverging_lut,
    pack_rgb32,
    sequential_lut,
)

INK = QColor(40, 40, 40)
OUTLINE = QColor(110, 110, 110)
RING = QColor(20, 20, 20)


def _cosmetic_pen(color: QColor, width: float, style=Qt.PenStyle.SolidLine) -> QPen:
    pen = QPen(color, width, style)
    pen.setCosmetic(True)
    return pen


def _brushes(lut: np.ndarray) -> list[QBrush]:
    return [QBrush(QColor(int(r), int(g), int(b))) for r, g, b, _ in lut]


class NodeItem(pg.GraphicsObject):
    """Circles for every neuron of every layer drawn as a column, on top of the edges."""

    def __init__(self) -> None:
        super().__init__()
        self.diverging = _brushes(diverging_lut())
        self.sequential = _brushes(sequential_lut())
        self.grey = [QBrush(QColor(g, g, g)) for g in range(256)]
        self.neutral = QBrush(QColor(*NEUTRAL_GREY))
        self._centres: list[list[QPointF]] = []
        self._radius: list[float] = []
        self._fills: list[list[QBrush]] = []
        self._rings: list[list[int]] = []
        self._emphasis: dict[tuple[int, int], QPen] = {}
        self._bounds = QRectF()
        self._layers: list[int] = []
        self._sprite_cache: list[dict] = []  # per layer: fill -> QPixmap at the current zoom
        self._corner_key: tuple | None = None  # the view the node positions were worked out for
        self._corner_list: list[list[QPointF]] = []

    def set_layout(self, layout) -> None:
        """Take node centres and radii from a :class:`NetworkLayout` (not the grid layers)."""
        self.prepareGeometryChange()
        self._layers = [i for i, g in enumerate(layout.grids) if g is None]
        self._centres = [
            [QPointF(x, y) for x, y in layout.centres[i].tolist()] for i in self._layers
        ]
        self._radius = [float(layout.radius[i]) for i in self._layers]
        self._fills = [[self.neutral] * len(c) for c in self._centres]
        self._rings = [[] for _ in self._layers]
        self._emphasis = {}
        self._sprite_cache = []
        self._corner_key = None  # the node positions are worked out again at the next paint
        left, top, right, bottom = layout.bounds()
        pad = 3 * float(layout.radius.max()) + 2
        self._bounds = QRectF(left - pad, top - pad, right - left + 2 * pad, bottom - top + 2 * pad)
        self.update()

    def _slot(self, l: int) -> int:
        return self._layers.index(l - 1)

    def set_fill(self, l: int, palette: list[QBrush] | None, bins: np.ndarray | None) -> None:
        """Fill layer ``l`` with ``palette[bins[j]]`` per neuron, or neutral grey if ``None``."""
        slot = self._slot(l)
        n = len(self._centres[slot])
        if palette is None or bins is None:
            fills = [self.neutral] * n
        else:
            fills = [palette[b] for b in bins.tolist()]
        if fills != self._fills[slot]:
            self._fills[slot] = fills
            self.update()

    def brush_color(self, l: int, j: int) -> QColor:
        """Fill colour of neuron ``j`` of layer ``l``."""
        return QColor(self._fills[self._slot(l)][j].color())

    def set_rings(self, l: int, mask: np.ndarray | None) -> None:
        """Mark neurons of layer ``l`` where ``mask`` is true (saturated) with a dashed ring."""
        rings = [] if mask is None else np.flatnonzero(mask).tolist()
        slot = self._slot(l)
        if rings != self._rings[slot]:
            self._rings[slot] = rings
            self.update()

    def set_emphasis(self, nodes: dict[tuple[int, int], QPen]) -> None:
        """Outline the given ``(l, j)`` neurons with the given pens (selection, hover)."""
        self._emphasis = {k: v for k, v in nodes.items() if k[0] - 1 in self._layers}
        self.update()

    def has_layer(self, l: int) -> bool:
        """Whether layer ``l`` is drawn as circles by this item."""
        return l - 1 in self._layers

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt name)
        return self._bounds

    def paint(self, painter: QPainter, *args) -> None:
        transform = painter.worldTransform()
        pixel = 1.0 / max(abs(transform.m11()), 1e-9)  # data units per pixel
        dpr = painter.device().devicePixelRatioF()
        painter.save()
        painter.resetTransform()
        for slot, corners in enumerate(self._corners(transform, pixel, dpr)):
            sprites = self._sprite_cache[slot]
            for corner, brush in zip(corners, self._fills[slot], strict=True):
                sprite = sprites.get(id(brush)) or self._sprite(sprites, brush)
                painter.drawPixmap(corner, sprite)
        painter.restore()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(_cosmetic_pen(RING, 1.6, Qt.PenStyle.DashLine))
        for slot, rings in enumerate(self._rings):
            ring = self._radius[slot] + 3 * pixel
            for j in rings:
                painter.drawEllipse(self._centres[slot][j], ring, ring)
        for (l, j), pen in self._emphasis.items():
            slot = self._slot(l)
            painter.setPen(pen)
            r = self._radius[slot] + 1.5 * pixel
            painter.drawEllipse(self._centres[slot][j], r, r)

    def _corners(self, transform: QTransform, pixel: float, dpr: float) -> list[list[QPointF]]:
        """Per layer, where each node's sprite goes in device pixels; kept while the view does
        not move (frames while training runs only change the fills)."""
        key = (*(transform.map(QPointF(x, x)).toTuple() for x in (0.0, 1.0)), dpr)
        if self._corner_key != key:
            self._corner_key = key
            self._corner_list = []
            for slot, centres in enumerate(self._centres):
                half = self._sprites_for(slot, self._radius[slot] / pixel, dpr)["half"]
                self._corner_list.append([transform.map(c) - half for c in centres])
        return self._corner_list

    def _sprites_for(self, slot: int, radius_px: float, dpr: float) -> dict:
        """The sprite cache of one layer, emptied when the zoom changes the node size."""
        key = (round(radius_px * 8) / 8, dpr)
        while len(self._sprite_cache) <= slot:
            self._sprite_cache.append({"key": None})
        sprites = self._sprite_cache[slot]
        if sprites["key"] != key:
            size = 2 * math.ceil(radius_px + 1.5)
            sprites.clear()
            sprites.update(
                key=key, radius=radius_px, size=size, dpr=dpr, half=QPointF(size / 2, size / 2)
            )
        return sprites

    def _sprite(self, sprites: dict, brush: QBrush) -> QPixmap:
        """Render (once per zoom) one antialiased node of this fill."""
        size, dpr, r = sprites["size"], sprites["dpr"], sprites["radius"]
        pixmap = QPixmap(math.ceil(size * dpr), math.ceil(size * dpr))
        pixmap.setDevicePixelRatio(dpr)
        pixmap.fill(Qt.GlobalColor.transparent)
        p = QPainter(pixmap)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        p.setPen(_cosmetic_pen(OUTLINE, 1.0 if r > 4 else 0.5))
        p.setBrush(brush)
        p.drawEllipse(QPointF(size / 2, size / 2), r, r)
        p.end()
        sprites[id(brush)] = pixmap
        return pixmap


class CellGridItem(pg.GraphicsObject):
    """A layer drawn as a grid of cells, one per neuron, row-major (an image input, a large layer).

    Cells past the layer's ``n`` neurons (a last row not filled) show the background.
    """

    def __init__(self) -> None:
        super().__init__()
        self._rect = QRectF()
        self._shape = (1, 1)
        self._n = 1
        self._rgba = np.zeros((1, 1, 4), np.uint8)
        self._rgb32 = np.zeros((1, 1), np.uint32)
        self._qimage: QImage | None = None
        self._marks: list[int] = []
        self._emphasis: dict[int, QPen] = {}
        #: Colour of every cell when there is nothing to show (the input before any example).
        self.empty = np.array([235, 235, 235, 255], np.uint8)
        #: Draw circles instead of square cells once a cell is this many pixels wide (``None``:
        #: always cells, as for an image input).
        self.circles_from_px: float | None = None
        #: Text shown over the grid while it has nothing to show (``set_rgba(None)``).
        self.placeholder = ""
        self._showing_empty = True

    def set_geometry(
        self, rect: tuple[float, float, float, float], shape: tuple[int, int], n: int | None = None
    ) -> None:
        """Place ``n`` cells (all by default) of a ``shape = (rows, cols)`` grid in ``rect``.

        ``rect`` is ``(left, top, width, height)`` in data coordinates.
        """
        self.prepareGeometryChange()
        self._rect, self._shape = QRectF(*rect), shape
        self._n = shape[0] * shape[1] if n is None else int(n)
        self._marks, self._emphasis = [], {}
        self.set_rgba(None)

    def set_rgba(self, rgba: np.ndarray | None) -> None:
        """Show ``(n, 4)`` opaque ``uint8`` colours (one per cell), or ``empty`` if ``None``."""
        rows, cols = self._shape
        full = np.empty((rows * cols, 4), np.uint8)
        full[:] = (*BACKGROUND, 255)
        full[: self._n] = self.empty if rgba is None else np.reshape(rgba, (self._n, 4))
        self._showing_empty = rgba is None
        self._rgba = full.reshape(rows, cols, 4)
        # Opaque 0xFFRRGGBB pixels: Qt scales those up without blending, ~4x faster per frame.
        self._rgb32 = pack_rgb32(self._rgba.reshape(-1, 4)).reshape(rows, cols)
        self._qimage = QImage(self._rgb32, cols, rows, 4 * cols, QImage.Format.Format_RGB32)
        self.update()

    def colours(self) -> np.ndarray:
        """``(n, 4)`` ``uint8`` colour of every cell, row-major (a copy)."""
        return self._rgba.reshape(-1, 4)[: self._n].copy()

    def cell_color(self, k: int) -> QColor:
        """Colour of cell ``k`` (row-major)."""
        r, g, b, a = (int(v) for v in self._rgba.reshape(-1, 4)[k])
        return QColor(r, g, b, a)

    def set_marks(self, mask: np.ndarray | None) -> None:
        """Outline the cells where ``mask`` is true (saturated), or none."""
        marks = [] if mask is None else np.flatnonzero(mask).tolist()
        if marks != self._marks:
            self._marks = marks
            self.update()

    def set_emphasis(self, cells: dict[int, QPen]) -> None:
        """Outline the given cells with the given pens (selection, hover)."""
        self._emphasis = dict(cells)
        self.update()

    def cell_rect(self, k: int) -> QRectF:
        """Rectangle of cell ``k`` in data coordinates."""
        rows, cols = self._shape
        w, h = self._rect.width() / cols, self._rect.height() / rows
        r, c = divmod(k, cols)
        return QRectF(self._rect.left() + c * w, self._rect.top() + r * h, w, h)

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt name)
        return self._rect.adjusted(-2, -2, 2, 2)

    def paint(self, painter: QPainter, *args) -> None:
        if self._qimage is None:
            return
        cell_px = abs(painter.worldTransform().m11()) * self._rect.width() / self._shape[1]
        circles = self.circles_from_px is not None and cell_px >= self.circles_from_px
        if circles:
            self._paint_circles(painter)
        else:
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)  # crisp
            painter.drawImage(self._rect, self._qimage)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(_cosmetic_pen(OUTLINE, 1.0))
        painter.drawRect(self._rect)
        if self._showing_empty and self.placeholder:
            self._paint_placeholder(painter)
        outline = painter.drawEllipse if circles else painter.drawRect
        painter.setPen(_cosmetic_pen(RING, 1.2, Qt.PenStyle.DotLine))
        for k in self._marks:
            outline(self.cell_rect(k))
        for k, pen in self._emphasis.items():
            painter.setPen(pen)
            outline(self.cell_rect(k))

    def _paint_placeholder(self, painter: QPainter) -> None:
        """The placeholder text, centred in the grid, at the font's own pixel size."""
        rect = painter.worldTransform().mapRect(self._rect)
        painter.save()
        painter.resetTransform()
        painter.setPen(INK)
        painter.drawText(
            rect, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.placeholder
        )
        painter.restore()

    def _paint_circles(self, painter: QPainter) -> None:
        """Zoomed in: each neuron as a circle in its cell (only the cells in view are drawn)."""
        painter.fillRect(self._rect, QColor(*BACKGROUND))
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setPen(_cosmetic_pen(OUTLINE, 1.0))
        seen = painter.worldTransform().inverted()[0].mapRect(QRectF(painter.viewport()))
        colours = self._rgba.reshape(-1, 4)
        for k in range(self._n):
            cell = self.cell_rect(k)
            if not seen.intersects(cell):
                continue
            painter.setBrush(QColor(*(int(c) for c in colours[k, :3])))
            r = 0.42 * cell.width()
            painter.drawEllipse(cell.center(), r, r)


#: The colour of the edges of highlighted paths (the sum over paths).
PATH_INK = QColor(230, 120, 0)


class SelectedEdgeItem(pg.GraphicsObject):
    """The selected edge, drawn in front of the raster: thicker, with a contrasting outline."""

    def __init__(self, colours) -> None:
        super().__init__()
        self.colours = colours
        self._segments = np.zeros((0, 4))
        self._selected: int | None = None
        self._paths: list[QLineF] = []  # edges of highlighted paths (the sum over paths)
        self.path_edges = np.zeros(0, int)
        self._bounds = QRectF()

    def set_layout(self, layout, colours) -> None:
        """Use a new geometry and its :class:`~bpstudio.gui.colors.EdgeColours`."""
        self.prepareGeometryChange()
        self.colours, self._segments = colours, layout.segments
        self._paths, self.path_edges = [], np.zeros(0, int)
        left, top, right, bottom = layout.bounds()
        self._bounds = QRectF(left, top, right - left, bottom - top).adjusted(-5, -5, 5, 5)
        self.set_selected(None)

    def set_selected(self, edge: int | None) -> None:
        """Highlight one global edge number (``None``: none)."""
        self._selected = edge
        self.update()

    def selected(self) -> int | None:
        """The highlighted global edge number, if any."""
        return self._selected

    def set_path_edges(self, edges) -> None:
        """Highlight these global edge numbers as paths (``None`` or empty: none)."""
        ids = np.zeros(0, int) if edges is None else np.asarray(edges, int).reshape(-1)
        self._paths = [QLineF(*seg) for seg in self._segments[ids].tolist()]
        self.path_edges = ids
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt name)
        return self._bounds

    def paint(self, painter: QPainter, *args) -> None:
        # Opaque pens only: translucent wide antialiased lines are ~20x slower in Qt.
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        if self._paths:
            painter.setPen(_cosmetic_pen(PATH_INK, 2.0))
            painter.drawLines(self._paths)
        if self._selected is None:
            return
        line = QLineF(*self._segments[self._selected].tolist())
        painter.setPen(_cosmetic_pen(INK, 6.0))
        painter.drawLine(line)
        painter.setPen(_cosmetic_pen(QColor(255, 255, 255), 3.5))
        painter.drawLine(line)
        rgb = self.colours.colour_of(self._selected)[:3]
        painter.setPen(_cosmetic_pen(QColor(*(int(c) for c in rgb)), 2.5))
        painter.drawLine(line)
