"""Drawing tens of thousands of edges in a few milliseconds: an ID image plus one gather per frame.

How it works
------------
1. *Once per view (zoom, pan, resize)*: :func:`rasterise_spans` draws every edge as a 1-pixel
   line into an integer image at the widget's pixel resolution; each pixel holds ``edge + 1`` of
   the edge drawn last there (0 is background). Edges are drawn weakest first, so at a crossing
   the pixel belongs to the edge with the larger ``|w|`` (as it was when the image was built).
   The rasteriser is vectorised over edges and loops over pixel columns: all edges of one weight
   matrix share the same x interval, so each column is one NumPy scatter.
2. *Every frame*: :class:`EdgeColours` turns the weights into one packed colour per edge (a LUT
   look-up), and :class:`EdgeRasterItem` gathers ``colour_table[id_image]`` into a preallocated
   buffer wrapped by a ``QImage`` and blits it. No Python loop over edges, no large allocation.
While a new ID image is pending after a view change, the old one is drawn scaled. A focused
neuron's edges are rasterised on their own and stamped over the ID image (about 10 ms per focus
change), so they come in front without adding any per-frame work.
"""

from __future__ import annotations

import math
import time
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, QTimer
from PySide6.QtGui import QImage, QTransform

from bpstudio.gui.colors import (
    EdgeColours,
)
from bpstudio.gui.network_layout import NetworkLayout

#: Milliseconds of quiet after a view change before the ID image is rebuilt.
REBUILD_DELAY_MS = 50


def line_thickness(n_edges: int) -> int:
    """Pixel width of the edges of one weight matrix: thin when there are many of them."""
    return 3 if n_edges <= 100 else 2 if n_edges <= 2000 else 1


@dataclass(frozen=True)
class Span:
    """Edges that cross the same pixel columns, in device pixels.

    Every edge ``i`` is the line ``y = y0[i] + slope[i] * (x - x0[i])``; it is drawn in the
    columns whose centre lies in ``[xa, xb)`` and, if ``starts`` is given, right of
    ``starts[i]`` only. ``ids[i] > 0`` is written along it, in array order (later edges cover
    earlier ones).
    """

    xa: float
    xb: float
    x0: np.ndarray
    y0: np.ndarray
    slope: np.ndarray
    ids: np.ndarray
    thickness: int = 1
    starts: np.ndarray | None = None


def rasterise_spans(spans, width: int, height: int) -> np.ndarray:
    """Draw edges into an ID image.

    Parameters
    ----------
    spans : iterable of Span
        The edges, grouped by the pixel columns they cross.
    width, height : int
        Image size in pixels.

    Returns
    -------
    numpy.ndarray
        ``int32`` image of shape ``(height, width)``. Pixel ``(r, c)`` covers device
        ``[c, c + 1) x [r, r + 1)``; a column is hit where the line passes its centre ``c + 0.5``.
    """
    # Transposed, with a guard row above and below that absorbs writes outside the image.
    id_t = np.zeros((width, height + 2), dtype=np.int32)
    for span in spans:
        _draw_span(id_t, span)
    return np.ascontiguousarray(id_t[:, 1:-1].T)


def _draw_span(id_t: np.ndarray, span: Span) -> None:
    """Scatter one span's edges into the transposed, guarded ID image."""
    width, height = id_t.shape[0], id_t.shape[1] - 2
    c0, c1 = max(0, math.ceil(span.xa - 0.5)), min(width, math.ceil(span.xb - 0.5)) - 1
    if c1 < c0 or span.ids.size == 0:
        return
    slope = span.slope
    first = span.y0 + slope * (c0 + 0.5 - span.x0)
    last = first + slope * (c1 - c0)
    low, high = -span.thickness, height + span.thickness
    keep = (np.maximum(first, last) >= low) & (np.minimum(first, last) <= high)
    slope, first, ids = slope[keep], first[keep], span.ids[keep].astype(np.int32)
    starts = None if span.starts is None else span.starts[keep]
    if ids.size == 0:
        return
    # Steep lines get several samples per column so that they stay connected.
    steps = int(min(16, max(1, math.ceil(float(np.abs(slope).max())))))
    y = first + 1.0 + slope * (0.5 / steps - 0.5)  # +1: the guard row
    inc = slope / steps
    offsets = range(-((span.thickness - 1) // 2), span.thickness // 2 + 1)
    clipped, rows = np.empty_like(y), np.empty(y.shape, dtype=np.intp)
    before = None if starts is None else np.empty(y.shape, dtype=bool)
    for c in range(c0, c1 + 1):
        column = id_t[c]
        if before is not None:
            np.less(c + 0.5, starts, out=before)
        for _ in range(steps):
            for d in offsets:
                np.clip(y + d if d else y, 0.0, height + 1.5, out=clipped)
                np.copyto(rows, clipped, casting="unsafe")
                if before is not None:
                    rows[before] = 0
                column[rows] = ids
            y += inc


class EdgeRasterItem(pg.GraphicsObject):
    """Graphics item that paints every edge from the ID image (see the module docstring).

    Add it to a ``ViewBox`` with ``ignoreBounds=True``; its coordinates are the layout's data
    coordinates.
    """

    def __init__(self) -> None:
        super().__init__()
        self._layout: NetworkLayout | None = None
        self._colours: EdgeColours | None = None
        self._base_shown: np.ndarray | None = None  # edges owning a pixel of the base image
        self._magnitude: np.ndarray | None = None
        self._base: np.ndarray | None = None  # ID image of all edges (compact region)
        self._ids: np.ndarray | None = None  # the same with the front edges stamped on top
        self._front: np.ndarray | None = None
        self._buf: np.ndarray | None = None
        self._qimage: QImage | None = None
        self._origin = (0, 0)
        self._built: tuple | None = None  # (QTransform data->device pixels, width, height)
        self._order_stale = False
        self._dirty = True
        self._pixel_scale = 1.0  # > 1 while an export renders at a higher resolution
        self.build_seconds = 0.0
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REBUILD_DELAY_MS)
        self._timer.timeout.connect(self._on_rebuild_timer)

    # -- state ---------------------------------------------------------------------------
    def set_layout(self, layout: NetworkLayout, colours: EdgeColours) -> None:
        """Use a new geometry and its :class:`EdgeColours` (told which edges are shown)."""
        self.prepareGeometryChange()
        self._layout, self._colours, self._magnitude = layout, colours, None
        self._base_shown = None
        self._base = self._ids = self._buf = self._qimage = self._built = self._front = None
        self._dirty = True
        self.update()

    def set_draw_order(self, magnitude: np.ndarray | None) -> None:
        """Draw edges weakest first by ``magnitude`` (``(n_edges,)``) from the next rebuild on."""
        self._magnitude = None if magnitude is None else np.array(magnitude, dtype=float)
        self._order_stale = True
        self.schedule_rebuild()

    def set_front(self, edges: np.ndarray | None) -> None:
        """Draw these global edge numbers in front of all others (``None``: none).

        They are rasterised on their own and stamped over the ID image (a few milliseconds),
        so the per-frame cost stays one gather.
        """
        self._front = None if edges is None else np.asarray(edges, np.intp)
        if self._base is not None:
            self._stamp_front()
        self.colours_changed()

    def _stamp_front(self) -> None:
        if self._front is None or self._front.size == 0 or self._base.size == 0:
            self._ids = self._base
        else:
            (c0, r0), (h, w) = self._origin, self._base.shape
            shifted = self._built[0] * QTransform.fromTranslate(-c0, -r0)
            front = rasterise_spans(self._device_spans(shifted, self._front), w, h)
            self._ids = np.where(front > 0, front, self._base)
        self._tell_shown()

    def _tell_shown(self) -> None:
        """Let the colours be computed for the edges in the ID image only (a few thousand)."""
        if self._base_shown is None:
            n = self._layout.n_edges
            self._base_shown = np.flatnonzero(np.bincount(self._base.ravel(), minlength=n + 1)[1:])
        shown = self._base_shown
        if self._front is not None and self._front.size:
            shown = np.union1d(shown, self._front)
        self._colours.set_shown(shown)

    def colours_changed(self) -> None:
        """The colour table changed: gather again at the next paint."""
        self._dirty = True
        self.update()

    def schedule_rebuild(self) -> None:
        """Rebuild the ID image after ``REBUILD_DELAY_MS`` of quiet (restarts the timer)."""
        self._timer.start()

    @contextmanager
    def scaled(self, scale: float):
        """Within the ``with`` block, paint from an ID image built at ``scale`` times the
        view's pixel density (an export at 2x gets 2x crisp edges); the screen's image after."""
        saved = (self._base, self._ids, self._buf, self._qimage, self._origin, self._built)
        shown = self._base_shown
        self._pixel_scale = float(scale)
        try:
            self.rebuild_now()
            yield
        finally:
            self._pixel_scale = 1.0
            self._base, self._ids, self._buf, self._qimage, self._origin, self._built = saved
            self._base_shown = shown
            if self._base is not None:
                self._tell_shown()
            self._dirty = True
            self.update()

    def rebuild_pending(self) -> bool:
        """Whether the ID image is out of date for the current view or draw order."""
        return self._timer.isActive() or not self.is_current()

    # -- geometry ------------------------------------------------------------------------
    def device_transform(self) -> tuple[QTransform, int, int] | None:
        """Return (data -> device-pixel transform, width, height) of the current view."""
        view = self.getViewWidget()
        if view is None or self._layout is None:
            return None
        box = self.getViewBox()
        if box is not None:
            box.updateMatrix()  # pyqtgraph defers it to the next paint after a range change
        dpr = view.viewport().devicePixelRatioF() * self._pixel_scale
        transform = (
            self.sceneTransform() * view.viewportTransform() * QTransform.fromScale(dpr, dpr)
        )
        size = view.viewport().size()
        if abs(transform.determinant()) < 1e-12 or size.isEmpty():
            return None
        return transform, round(size.width() * dpr), round(size.height() * dpr)

    def is_current(self) -> bool:
        """Whether the ID image was built for the current view and draw order."""
        if self._built is None or self._order_stale:
            return False
        now = self.device_transform()
        if now is None:
            return True  # no view to compare with: keep what was built
        (a, wa, ha), (b, wb, hb) = self._built, now
        same = all(
            math.isclose(x, y, abs_tol=1e-6)
            for x, y in zip(_coefficients(a), _coefficients(b), strict=True)
        )
        return same and (wa, ha) == (wb, hb)

    def edge_at_pixel(self, px: int, py: int) -> int | None:
        """Return the edge drawn at device pixel ``(px, py)`` of a current ID image, or ``None``."""
        if self._ids is None or not self.is_current():
            return None
        r, c = py - self._origin[1], px - self._origin[0]
        if 0 <= r < self._ids.shape[0] and 0 <= c < self._ids.shape[1]:
            e = int(self._ids[r, c])
            return e - 1 if e > 0 else None
        return None

    def edges_near_pixel(self, px: int, py: int, radius: int) -> np.ndarray | None:
        """Edges drawn within ``radius`` device pixels of ``(px, py)`` (a square window), or
        ``None`` when the ID image is not current (then nothing can be said)."""
        if self._ids is None or not self.is_current():
            return None
        r, c = py - self._origin[1], px - self._origin[0]
        window = self._ids[
            max(0, r - radius) : max(0, r + radius + 1), max(0, c - radius) : max(0, c + radius + 1)
        ]
        found = np.unique(window)
        return found[found > 0] - 1

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt name)
        if self._layout is None:
            return QRectF()
        left, top, right, bottom = self._layout.bounds()
        return QRectF(left, top, right - left, bottom - top)

    # -- building ------------------------------------------------------------------------
    def _on_rebuild_timer(self) -> None:
        if not self.is_current():
            self.rebuild_now()
            self.update()

    def rebuild_now(self) -> bool:
        """Build the ID image for the current view now; return ``False`` if there is no view."""
        now = self.device_transform()
        if now is None:
            return False
        transform, width, height = now
        self._timer.stop()
        start = time.perf_counter()
        ids = rasterise_spans(self._device_spans(transform), width, height)
        rows, cols = np.flatnonzero(ids.any(axis=1)), np.flatnonzero(ids.any(axis=0))
        if rows.size:
            r0, r1, c0, c1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
            self._base = np.ascontiguousarray(ids[r0:r1, c0:c1], dtype=np.intp)
            self._origin = (int(c0), int(r0))
        else:
            self._base, self._origin = np.zeros((0, 0), np.intp), (0, 0)
        self._built = (transform, width, height)
        self._base_shown = None
        self._stamp_front()
        self._buf = np.empty(self._ids.shape, dtype=np.uint32)
        h, w = self._buf.shape
        self._qimage = QImage(self._buf, w, h, 4 * w, QImage.Format.Format_RGB32) if w else None
        self._order_stale, self._dirty = False, True
        self.build_seconds = time.perf_counter() - start
        return True

    def _device_spans(self, transform: QTransform, subset: np.ndarray | None = None):
        """The layout's edges (or a ``subset``) as :class:`Span` in device pixels, weakest first."""
        lay = self._layout
        sx, sy, dx, dy = transform.m11(), transform.m22(), transform.dx(), transform.dy()
        for p in range(len(lay.sizes) - 1):
            start, stop = int(lay.offsets[p]), int(lay.offsets[p + 1])
            order = np.arange(start, stop)
            if subset is not None:
                order = np.sort(subset[(subset >= start) & (subset < stop)])
            if self._magnitude is not None:
                order = order[np.argsort(self._magnitude[order], kind="stable")]
            if order.size == 0:
                continue
            x0, y0, x1, y1 = (
                sx * lay.segments[order, 0] + dx,
                sy * lay.segments[order, 1] + dy,
                sx * lay.segments[order, 2] + dx,
                sy * lay.segments[order, 3] + dy,
            )
            slope = (y1 - y0) / (x1 - x0)
            xa, xb = sorted(sx * lay.span_x[p] + dx)
            ids, thick = (order + 1).astype(np.int32), line_thickness(stop - start)
            if lay.grids and lay.grids[p] is not None:
                # Edges that leave a grid through its top or bottom show before its right side.
                _, top, _, height = lay.grids[p].rect
                top, bottom = sorted((sy * top + dy, sy * (top + height) + dy))
                y_right = y0 + slope * (xa - x0)
                out = (y_right < top) | (y_right > bottom)
                if out.any():
                    yield Span(
                        float(x0[out].min()),
                        xa,
                        x0[out],
                        y0[out],
                        slope[out],
                        ids[out],
                        thick,
                        starts=x0[out],
                    )
            yield Span(xa, xb, x0, y0, slope, ids, thick)

    # -- painting ------------------------------------------------------------------------
    def paint(self, painter, *args) -> None:
        if self._layout is None:
            return
        if self._built is None and not self.rebuild_now():
            return
        if not self.is_current() and not self._timer.isActive():
            self.schedule_rebuild()
        if self._qimage is None:
            return
        if self._dirty:
            np.take(self._colours.table, self._ids, out=self._buf, mode="clip")
            self._dirty = False
        built_inverse, _ = self._built[0].inverted()
        painter.save()
        painter.setTransform(built_inverse * painter.worldTransform())
        painter.drawImage(QPointF(*self._origin), self._qimage)
        painter.restore()


def _coefficients(t: QTransform) -> tuple[float, ...]:
    return (t.m11(), t.m12(), t.m21(), t.m22(), t.dx(), t.dy())
