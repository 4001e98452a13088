"""Receptive fields: every neuron of the first hidden layer as the image of its incoming weights.

Tile j shows w^2_j, the weights from every input pixel to neuron j of layer 2, laid out as the
input image (28×28 for MNIST, 8×8 for the digits) on the edges' diverging map: red where ink
in that pixel excites the neuron, blue where it inhibits it. A second mode shows the current
mini-batch's ∂C/∂w^2_j instead: where this batch pushes each neuron's weights (SGD moves them
against it).

All tiles are one ``QImage`` made by one vectorised gather per frame: the values' colour bins,
then a precomputed map from every image pixel to the value (or the background) it shows. The
layout (how many tiles per row, how large) is recomputed only when the widget's size or the
number of tiles changes.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QToolTip, QVBoxLayout, QWidget

from bpstudio.gui.colors import BACKGROUND, DivergingMap, nice_ceiling, robust_scale
from bpstudio.gui.model import DrawsWhenSeen, paints_every_pixel

#: What the tiles can show, by key, with the chooser's text.
MODES = {
    "w": "weights w",
    "dw": "Δw since start",
    "nabla": "∂C/∂w (batch)",
}
#: Pixels between tiles; the selected tile's outline is drawn in them.
GAP = 4
OUTLINE = 2
SELECTED_COLOUR = QColor(20, 20, 20)


def grid_layout(n: int, width: int, height: int, gap: int = GAP) -> tuple[int, int, int]:
    """The ``(columns, rows, tile side)`` that gives ``n`` square tiles the largest side.

    Returns
    -------
    tuple of int
        The tile side is at least 1 pixel even when the space is too small.
    """
    best = (n, 1, 0)
    for cols in range(1, n + 1):
        rows = -(-n // cols)
        side = min((width - (cols - 1) * gap) // cols, (height - (rows - 1) * gap) // rows)
        if side > best[2]:
            best = (cols, rows, side)
    return best[0], best[1], max(1, best[2])


def gather_map(n: int, image_shape, cols: int, rows: int, side: int, gap: int = GAP):
    """For every pixel of the tiles' image, the index of the value it shows.

    Value ``t * r * c + p * c + q`` is pixel ``(p, q)`` of tile ``t``; index ``n * r * c``
    stands for the background (gaps and unused cells). Tile pixels map to image pixels by
    nearest neighbour, so a side that is not a multiple of ``r`` still shows every pixel.

    Returns
    -------
    numpy.ndarray
        ``intp`` of shape ``(height, width)`` of the image.
    """
    r, c = image_shape

    def axis(count: int, size: int):
        pos = np.arange(count * side + (count - 1) * gap)
        tile, offset = np.divmod(pos, side + gap)
        inside = offset < side
        return tile, offset * size // side, inside

    tile_row, p, in_row = axis(rows, r)
    tile_col, q, in_col = axis(cols, c)
    tile = tile_row[:, None] * cols + tile_col[None, :]
    index = tile * (r * c) + (p * c)[:, None] + q[None, :]
    shown = in_row[:, None] & in_col[None, :] & (tile < n)
    return np.where(shown, index, n * r * c).astype(np.intp)


class TileGrid(QWidget):
    """The tiles themselves; emits ``tile_clicked(j)`` when tile ``j`` is clicked."""

    tile_clicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        paints_every_pixel(self)
        self.setObjectName("receptiveFieldsTiles")
        self.setMinimumSize(120, 100)
        self._values: np.ndarray | None = None  # (n, r * c)
        self._shape: tuple[int, int] | None = None
        self._cmap: DivergingMap | None = None
        self._selected: int | None = None
        self._message = ""
        self._layout = (0, 0, 0)
        self._gather: np.ndarray | None = None
        self._buffer: np.ndarray | None = None
        self._image: QImage | None = None

    def sizeHint(self) -> QSize:
        return QSize(480, 370)

    def show_message(self, text: str) -> None:
        """Show ``text`` instead of tiles (no image data, no gradient yet, ...)."""
        self._values, self._message = None, text
        self._image = None
        self.update()

    def set_tiles(self, values, image_shape, cmap: DivergingMap, selected: int | None) -> None:
        """Show ``values[j]`` (shape ``(n, rows * cols)``) as tile ``j`` on ``cmap``."""
        shape = tuple(image_shape)
        if self._values is None or self._values.shape != values.shape or shape != self._shape:
            self._gather = None
        self._values, self._shape, self._cmap = values, shape, cmap
        self._selected, self._message = selected, ""
        self._render()
        self.update()

    def set_selected(self, j: int | None) -> None:
        if j != self._selected:
            self._selected = j
            self.update()

    @property
    def columns(self) -> int:
        return self._layout[0]

    def tile_rect(self, j: int) -> QRect:
        """Where tile ``j`` is drawn, in this widget's coordinates."""
        cols, _, side = self._layout
        row, col = divmod(j, cols)
        return QRect(self._left() + col * (side + GAP), OUTLINE + row * (side + GAP), side, side)

    def _left(self) -> int:
        """Where the tiles' image starts: centred across the widget."""
        cols, _, side = self._layout
        return max(OUTLINE, (self.width() - (cols * (side + GAP) - GAP)) // 2)

    def pixel_rect(self, j: int, p: int, q: int) -> QRect:
        """The block of tile ``j`` that shows image pixel ``(p, q)`` (value ``p * cols + q``)."""
        tile, side = self.tile_rect(j), self._layout[2]
        r, c = self._shape
        x0, x1 = -(-q * side // c), -(-(q + 1) * side // c)  # the offsets v with v * c // side == q
        y0, y1 = -(-p * side // r), -(-(p + 1) * side // r)
        return QRect(tile.x() + x0, tile.y() + y0, max(1, x1 - x0), max(1, y1 - y0))

    def tile_at(self, pos: QPoint) -> int | None:
        """The tile under ``pos``, or ``None`` (a gap, outside, no tiles)."""
        if self._values is None:
            return None
        cols, rows, side = self._layout
        x = pos.x() - self._left()
        col, dx = divmod(x, side + GAP)
        y = pos.y() - OUTLINE
        row, dy = divmod(y, side + GAP)
        j = row * cols + col
        if x < 0 or y < 0 or dx >= side or dy >= side or col >= cols or row >= rows:
            return None
        return j if j < len(self._values) else None

    def _render(self) -> None:
        values, (r, c) = self._values, self._shape
        if self._gather is None:
            # A margin of OUTLINE all round leaves room for the selected tile's outline.
            self._layout = grid_layout(
                len(values), self.width() - 2 * OUTLINE, self.height() - 2 * OUTLINE
            )
            self._gather = gather_map(len(values), (r, c), *self._layout)
        bins = np.empty(values.size + 1, dtype=np.intp)
        self._cmap.index(values.ravel(), out=bins[:-1])
        bins[-1] = len(self._lut32) - 1  # the background entry
        colours = self._lut32.take(bins)  # one colour per value, then one gather per pixel
        if self._buffer is None or self._buffer.shape != self._gather.shape:
            self._buffer = np.empty(self._gather.shape, np.uint32)
            self._image = None
        np.take(colours, self._gather, out=self._buffer, mode="clip")
        if self._image is None:  # drawn from the buffer, which later frames overwrite
            h, w = self._buffer.shape
            self._image = QImage(self._buffer, w, h, 4 * w, QImage.Format.Format_RGB32)

    @property
    def _lut32(self) -> np.ndarray:
        lut = self._cmap.lut32
        if getattr(self, "_lut_key", None) is not lut:
            r, g, b = BACKGROUND
            self._lut_ext = np.append(lut, np.uint32(0xFF000000 | (r << 16) | (g << 8) | b))
            self._lut_key = lut
        return self._lut_ext

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self._values is not None:
            self._gather = None
            self._render()

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(*BACKGROUND))
        if self._image is None:
            painter.setPen(QColor(90, 90, 90))
            flags = Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap
            painter.drawText(self.rect().adjusted(12, 12, -12, -12), flags, self._message)
            return
        painter.drawImage(self._left(), OUTLINE, self._image)
        j = self._selected
        if j is not None and 0 <= j < len(self._values):
            t = self.tile_rect(j).adjusted(-OUTLINE, -OUTLINE, OUTLINE, OUTLINE)
            for strip in (
                QRect(t.x(), t.y(), t.width(), OUTLINE),
                QRect(t.x(), t.bottom() - OUTLINE + 1, t.width(), OUTLINE),
                QRect(t.x(), t.y(), OUTLINE, t.height()),
                QRect(t.right() - OUTLINE + 1, t.y(), OUTLINE, t.height()),
            ):
                painter.fillRect(strip, SELECTED_COLOUR)

    def mousePressEvent(self, event) -> None:
        j = self.tile_at(event.position().toPoint())
        if event.button() == Qt.MouseButton.LeftButton and j is not None:
            self.tile_clicked.emit(j)
            event.accept()
            return
        super().mousePressEvent(event)

    def event(self, event) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            j = self.tile_at(event.pos())
            if j is None:
                QToolTip.hideText()
            else:
                QToolTip.showText(event.globalPos(), f"neuron {j} of layer 2 (click to select)")
            return True
        return super().event(event)


class ReceptiveFields(DrawsWhenSeen, QWidget):
    """Dock contents: the tiles, what they show (:data:`MODES`), the colour scale in words.

    The modes: the weights w^2 themselves; Δw, their change since the session's first snapshot
    (with the book's standard-normal start, what training has learned shows here long before
    it stands out of the random start in w); and the current mini-batch's ∂C/∂w^2.

    Parameters
    ----------
    model : ViewModel
        Followed for snapshots and the selection; clicking a tile selects ``("n", 2, j)``.
    """

    def __init__(self, model, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("receptiveFields")
        self._model = model
        self._scale = 1.0
        self._tiles = TileGrid(self)
        self._start: np.ndarray | None = None  # w^2 of the session's first snapshot
        self._start_text = "the start"
        self._mode = QComboBox()
        self._mode.setObjectName("receptiveFieldsMode")
        for key, text in MODES.items():
            self._mode.addItem(text, key)
        self._mode.setToolTip(
            "w: the weights; Δw: what training changed since the session began (or was reset "
            "or opened); ∂C/∂w: where this mini-batch pushes each neuron's weights"
        )
        self._scale_label = QLabel()
        self._scale_label.setObjectName("receptiveFieldsScale")
        self._caption = QLabel()
        self._caption.setObjectName("receptiveFieldsCaption")
        self._caption.setWordWrap(True)
        top = QHBoxLayout()
        top.addWidget(self._mode)
        top.addStretch(1)
        top.addWidget(self._scale_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self._tiles, 1)
        layout.addWidget(self._caption)
        model.session_changed.connect(self._on_session_changed)
        model.snapshot_changed.connect(self._on_snapshot_changed)
        model.selection_changed.connect(self._on_selection_changed)
        self._tiles.tile_clicked.connect(self._on_tile_clicked)
        self._mode.currentIndexChanged.connect(self._on_snapshot_changed)
        if model.snapshot is not None:
            self._on_session_changed(model.snapshot, "this view opened")
        self._on_snapshot_changed()

    def sizeHint(self) -> QSize:
        return QSize(480, 400)

    @property
    def tiles(self) -> TileGrid:
        """The widget that draws the tiles (for its geometry: ``tile_rect``, ``pixel_rect``)."""
        return self._tiles

    @property
    def scale(self) -> float:
        """The colour scale: values at ±scale get the map's end colours."""
        return self._scale

    @property
    def mode(self) -> str:
        """What the tiles show: a key of :data:`MODES`."""
        return self._mode.currentData()

    def set_mode(self, key: str) -> None:
        if key not in MODES:
            raise ValueError(f"the tiles show one of {', '.join(MODES)}, not {key!r}")
        self._mode.setCurrentIndex(list(MODES).index(key))

    def _on_session_changed(self, snap, since: str = "the session began, was reset or opened"):
        # Only a reference to the snapshot's read-only array: nothing is copied per session.
        self._start = None if snap is None or snap.image_shape is None else snap.weights[0]
        self._start_text = since

    def _on_snapshot_changed(self, *_args) -> None:
        if not self.seen_or_later(self._on_snapshot_changed):
            return  # drawn when shown: a hidden dock costs nothing per frame
        values, what = self._values()
        if values is None:
            self._tiles.show_message(what)
            self._scale_label.setText("")
            self._caption.setText("")
            return
        self._scale = nice_ceiling(robust_scale(values))
        cmap = DivergingMap(self._scale)
        self._tiles.set_tiles(values, self._model.snapshot.image_shape, cmap, self._selected())
        self._scale_label.setText(_scale_text(what, self._scale, cmap))
        self._caption.setText(_caption(what, len(values), self._start_text))

    def _values(self) -> tuple[np.ndarray | None, str]:
        snap = self._model.snapshot
        if snap is None:
            return None, "No network yet."
        if snap.image_shape is None:
            return None, (
                "Receptive fields need image data (MNIST or the 8×8 digits): each tile shows a "
                "neuron's weights laid out as the input image."
            )
        if self.mode == "w":
            return np.asarray(snap.weights[0]), "w"
        if self.mode == "dw":
            w = np.asarray(snap.weights[0])
            if self._start is None or self._start.shape != w.shape:
                self._start = w
            return w - self._start, "Δw"
        trace = snap.trace
        nabla = None if trace is None or trace.nabla_w is None else trace.nabla_w[0]
        if nabla is None:
            return None, "No ∂C/∂w yet: run a mini-batch, or step it through BP3 and BP4."
        return np.asarray(nabla), "∂C/∂w"

    def _selected(self) -> int | None:
        sel = self._model.selection
        if sel is not None and sel[1] == 2 and sel[0] in ("n", "w"):
            return int(sel[2])
        return None

    def _on_selection_changed(self, _selection) -> None:
        self._tiles.set_selected(self._selected())

    def _on_tile_clicked(self, j: int) -> None:
        self._model.set_selection(("n", 2, j))


def _scale_text(what: str, scale: float, cmap: DivergingMap) -> str:
    low, high = (cmap.qcolor(v).darker(130).name() for v in (-scale, scale))
    number = f"{scale:g}"
    return (
        f"colour: {what} from −{number} (<span style='color:{low}'><b>blue</b></span>) "
        f"to +{number} (<span style='color:{high}'><b>red</b></span>)"
    )


def _caption(what: str, n: int, since: str) -> str:
    if what == "w":
        return (
            f"Each of the {n} tiles is one neuron of layer 2: its weight from every input pixel, "
            "laid out as the image. Red: ink there excites the neuron; blue: it inhibits it. "
            "Click a tile to select the neuron."
        )
    if what == "Δw":
        return (
            f"Each of the {n} tiles is what training has changed in one neuron's weights since "
            f"{since}: red weights grew, blue ones shrank. Click a tile to select the neuron."
        )
    return (
        f"Each of the {n} tiles is ∂C/∂w for one neuron of layer 2 over this mini-batch: the "
        "update w → w − η ∂C/∂w lowers the red weights and raises the blue ones."
    )
