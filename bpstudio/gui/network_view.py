"""The network drawn as a layered graph: layers left to right, every weight an edge.

Edge colour shows ``w^l_jk`` (diverging map, opacity growing with ``|w|``), node colour a value
per neuron (``δ`` by default) with a colour bar. An image input is drawn as its pixel grid.
Edges are painted from an ID image (:mod:`bpstudio.gui.edge_raster`), so a full recolour of
79,400 edges costs a few milliseconds. Layer numbers follow the book: ``l = 1`` is the input,
``weights[l - 2]`` is ``w^l`` of shape ``(n_l, n_(l-1))`` (see :mod:`network_layout`).

Mouse positions (``edge_widget_pos``, ``neuron_widget_pos``, and ``QPoint`` arguments of
``edge_at`` / ``neuron_at``) are in the coordinates of :attr:`NetworkView.mouse_widget`, the
viewport of the inner ``pyqtgraph.GraphicsView``: that is the widget that receives mouse events.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Collection, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Signal
from PySide6.QtGui import QColor, QPalette, QPen
from PySide6.QtWidgets import QHBoxLayout, QLayout, QVBoxLayout, QWidget

from bpstudio.gui.colors import (
    BACKGROUND,
    NEUTRAL_GREY,
    DivergingMap,
    EdgeColours,
    diverging_lut,
    edge_lut,
    grey_rgb,
    node_maps,
)
from bpstudio.gui.edge_raster import EdgeRasterItem
from bpstudio.gui.network_decor import (
    ColorBar,
    LayerDecorations,
    edge_title,
    phase_band,
    scale_text,
)
from bpstudio.gui.network_export import NetworkDrawing
from bpstudio.gui.network_items import INK, CellGridItem, NodeItem, SelectedEdgeItem
from bpstudio.gui.network_layout import NetworkLayout, make_layout
from bpstudio.gui.network_mouse import PICK_TOLERANCE_PX as PICK_TOLERANCE_PX  # re-exported
from bpstudio.gui.network_mouse import NetworkMouse, NetworkPicking

#: Live frames over which a held node colour scale keeps its peak (about a second).
HOLD_FRAMES = 30
#: A large layer drawn as a grid of cells shows circles once a cell is this wide on screen.
CIRCLES_FROM_PX = 14.0
#: Shown in an image input before there is an example to show.
INPUT_PLACEHOLDER = "the input appears\nafter the first step"
SELECTED_PEN = QPen(INK, 3.0)
HOVER_PEN = QPen(QColor(230, 120, 0), 2.5)
for _pen in (SELECTED_PEN, HOVER_PEN):
    _pen.setCosmetic(True)


class _GraphicsView(pg.GraphicsView):
    """pyqtgraph's view that says when it has painted (the window times frames by it)."""

    painted = Signal()

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().paintEvent(event)
        self.painted.emit()


class NetworkView(NetworkPicking, NetworkDrawing, QWidget):
    """Layered drawing of the network with picking, focus, filtering and a colour bar."""

    weight_selected = Signal(int, int, int)
    neuron_selected = Signal(int, int)
    selection_cleared = Signal()
    edge_hovered = Signal(int, int, int)
    neuron_hovered = Signal(int, int)
    painted = Signal()  # the drawing reached the screen

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("networkView")
        self._graphics = _GraphicsView(background=QColor(*BACKGROUND))
        self._graphics.setObjectName("networkGraphics")
        self._graphics.painted.connect(self.painted)
        self._box = pg.ViewBox(lockAspect=True, invertY=True, enableMenu=False)
        self._graphics.setCentralItem(self._box)
        self._colours = EdgeColours(0)
        self._raster = EdgeRasterItem()
        self._overlay = SelectedEdgeItem(self._colours)
        self._nodes = NodeItem()
        for z, item in enumerate((self._raster, self._overlay, self._nodes)):
            item.setZValue(2 * z)  # the highlight band goes at z = 1: above edges, below nodes
            self._box.addItem(item, ignoreBounds=True)
        self._grids: dict[int, CellGridItem] = {}  # book layer -> the grid that draws it
        self._decorations = LayerDecorations(self._box, z=1)
        self._edge_quantity = "w"
        self._edge_bar = ColorBar(edge_title("w"), edge_lut())
        self._node_bar = ColorBar("δ", diverging_lut())
        bars = QHBoxLayout()
        bars.addWidget(self._edge_bar)
        bars.addStretch(1)
        bars.addWidget(self._node_bar)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 4)
        # A top-level NetworkView must not push size hints to the window (the offscreen
        # platform warns about that, and Qt warnings fail the tests).
        outer.setSizeConstraint(QLayout.SizeConstraint.SetNoConstraint)
        self.setAutoFillBackground(True)
        palette = self.palette()
        palette.setColor(QPalette.ColorRole.Window, QColor(*BACKGROUND))
        self.setPalette(palette)
        outer.addWidget(self._graphics, 1)
        outer.addLayout(bars)
        self._box.sigTransformChanged.connect(self._on_view_changed)
        self._mouse = NetworkMouse(self, self._graphics)
        self._layout: NetworkLayout | None = None
        self.set_architecture([2, 2])
        self.set_tooltip_provider(None)

    # -- architecture and data ------------------------------------------------------------
    @property
    def mouse_widget(self) -> QWidget:
        """The widget that receives mouse events; all widget positions here are in its pixels."""
        return self._graphics.viewport()

    def set_architecture(self, sizes: Sequence[int], image_shape: tuple[int, int] | None = None):
        """Lay out a new network (``sizes`` input first) and fit it in view.

        Parameters
        ----------
        sizes : sequence of int
            ``(n_1, ..., n_L)``.
        image_shape : tuple of int, optional
            ``(rows, cols)``: draw the input layer as an image grid, cell ``k = r * cols + c``.
        """
        lay = make_layout(sizes, image_shape)
        self._layout = lay
        self._colours = EdgeColours(lay.n_edges)
        self._raster.set_layout(lay, self._colours)
        self._overlay.set_layout(lay, self._colours)
        self._nodes.set_layout(lay)
        self._make_grids(lay)
        self._values: list[np.ndarray | None] = [None] * len(lay.sizes)
        self._node_map = DivergingMap(1.0)
        self._layer_maps = [self._node_map] * len(lay.sizes)
        self._per_layer, self._node_label = False, "δ"
        self._peaks: deque[np.ndarray] = deque(maxlen=HOLD_FRAMES)  # per call: peak per layer
        self._pixels: np.ndarray | None = None
        self._selection: tuple | None = None
        self._hover: tuple[int, int] | None = None
        self._focus: tuple[int, int] | None = None
        self._focus_state: tuple = (None, None)  # (hover, selected neuron) last drawn
        self._decorations.set_layout(lay)
        self._refresh_nodes()
        self.fit()

    def set_weights(self, weights: Sequence[np.ndarray], quantity: str = "w") -> None:
        """Recolour every edge from ``weights`` (``weights[l - 2]`` is ``w^l``); copied at once.

        ``quantity`` names what the edges show (the colour bar and the hover text say it): the
        weights ``"w"`` by default, or any per-weight quantity of the same shapes, e.g.
        ``"∂C/∂w"`` (``trace.nabla_w``) while phase stepping shows BP4.
        """
        lay = self._layout
        if len(weights) != len(lay.sizes) - 1:
            raise ValueError(f"expected {len(lay.sizes) - 1} weight matrices, got {len(weights)}")
        for p, w in enumerate(weights):
            shape = (lay.sizes[p + 1], lay.sizes[p])
            if np.shape(w) != shape:
                raise ValueError(f"w^{p + 2} has shape {np.shape(w)}, expected {shape}")
        first = not self._colours.has_weights or quantity != self._edge_quantity
        self._colours.set_weights(weights)
        if first:  # the strongest on top: by |w|, or by the new quantity's size
            self._raster.set_draw_order(np.abs(self._colours.weights))
        if quantity != self._edge_quantity:
            self._edge_quantity = quantity
            self._edge_bar.set_title(edge_title(quantity))
        self._edge_bar.set_scale(self._colours.map.scale)
        self._raster.colours_changed()
        self._overlay.update()
        self._mouse.refresh_tooltip()

    def set_node_values(
        self,
        values: Sequence[np.ndarray | None],
        label: str = "δ",
        neutral_layers: Collection[int] = (),
        hold: bool = False,
        signed: bool | None = True,
        per_layer: bool = False,
    ) -> None:
        """Colour nodes by a value per neuron on the scale ``±nice_ceiling(max|value|)``.

        One-signed quantities (σ′(z) ≥ 0, a = σ(z) in (0, 1)) get a sequential map on
        ``0 … nice_ceiling(max value)`` instead, with its own colour bar.

        Parameters
        ----------
        values : sequence of (numpy.ndarray or None)
            ``values[l - 1]`` has shape ``(n_l,)``; ``None`` draws layer ``l`` neutral grey.
        label : str
            Title of the node colour bar, e.g. ``"δ (mean over mini-batch)"``.
        neutral_layers : collection of int
            Book layer numbers to draw neutral (not computed yet in this pass).
        hold : bool
            For live frames: the scale covers the largest value of the last
            :data:`HOLD_FRAMES` calls that held, so the colours keep their meaning from frame to
            frame while the mini-batches' values jump about (and the colour bar stays readable).
            Without it the scale is this call's alone.
        signed : bool or None
            ``True`` (the default): the diverging map on ``±scale``; ``False``: the sequential
            map on ``0 … scale`` (negative values get its first colour), for quantities that
            are never negative (σ′(z); a for σ = sigmoid or ReLU); ``None``: sequential when
            no value given is negative (a map that may switch between frames).
        per_layer : bool
            Give every layer its own scale (its own round number above its largest value),
            written under its label; the colour bar then reads in fractions of that scale.
            Hidden δ of deep networks are 10-100x smaller than the output's: on one scale they
            would all be the zero colour.
        """
        kept = self._checked_values(values, neutral_layers)
        finite = [None if v is None else v[np.isfinite(v)] for v in kept]
        if signed is None:
            signed = any(a is not None and a.size and float(a.min()) < 0 for a in finite)
        peaks = [float(np.abs(a).max()) if a is not None and a.size else 0.0 for a in finite]
        self._values = kept
        if not hold or signed != self._node_map.signed or per_layer != self._per_layer:
            self._peaks.clear()
        self._peaks.append(np.array(peaks))
        self._per_layer, self._node_label = per_layer, label
        self._node_map, self._layer_maps = node_maps(
            np.max(np.stack(self._peaks), axis=0), signed, per_layer
        )
        shown = [
            scale_text(m, v is not None) if per_layer else ""
            for m, v in zip(self._layer_maps, kept)
        ]
        self._decorations.set_scales(shown)
        self._node_bar.set_title(
            f"{label.split(' (')[0]} ÷ the scale under its layer" if per_layer else label
        )
        self._node_bar.set_map(self._node_map.lut, self._node_map.low, self._node_map.scale)
        self._refresh_nodes()
        self._mouse.refresh_tooltip()

    def _checked_values(self, values, neutral_layers) -> list[np.ndarray | None]:
        """``values`` as float arrays of the layers' sizes; ``None`` for neutral layers."""
        sizes = self._layout.sizes
        if len(values) != len(sizes):
            raise ValueError(f"expected {len(sizes)} layers of node values, got {len(values)}")
        kept: list[np.ndarray | None] = []
        for i, v in enumerate(values):
            if v is None or (i + 1) in neutral_layers:
                kept.append(None)
                continue
            arr = np.array(v, dtype=float).reshape(-1)
            if arr.shape != (sizes[i],):
                raise ValueError(f"values for layer l = {i + 1} need shape ({sizes[i]},)")
            kept.append(arr)
        return kept

    def set_input_image(self, pixels: np.ndarray | None) -> None:
        """Show the current input example, ``(n_1,)`` values in ``[0, 1]`` (``None`` clears)."""
        if pixels is not None:
            pixels = np.array(pixels, dtype=float).reshape(-1)
            if pixels.shape != (self._layout.sizes[0],):
                raise ValueError(f"the input needs {self._layout.sizes[0]} values")
        self._pixels = pixels
        self._refresh_nodes(layers=(1,))

    def _make_grids(self, lay: NetworkLayout) -> None:
        """One :class:`CellGridItem` per layer drawn as a grid (image input, large layers)."""
        for item in self._grids.values():
            self._box.removeItem(item)
        self._grids = {}
        for l, grid in enumerate(lay.grids, start=1):
            if grid is None:
                continue
            item = CellGridItem()
            item.setZValue(4)  # above the edges and the selected edge, like the nodes
            item.set_geometry(grid.rect, grid.shape, lay.sizes[l - 1])
            if l > 1 or lay.image_shape is None:
                item.empty = np.array([*NEUTRAL_GREY, 255], np.uint8)
                item.circles_from_px = CIRCLES_FROM_PX
            else:
                item.placeholder = INPUT_PLACEHOLDER
            self._box.addItem(item, ignoreBounds=True)
            self._grids[l] = item

    def _refresh_nodes(self, layers: Collection[int] | None = None) -> None:
        for l in layers or range(1, len(self._layout.sizes) + 1):
            v = self._values[l - 1]
            if l in self._grids:
                self._grids[l].set_rgba(self._grid_colours(l, v))
            elif v is not None:
                palette = self._nodes.diverging if self._node_map.signed else self._nodes.sequential
                self._nodes.set_fill(l, palette, self._layer_maps[l - 1].index(v))
            elif l == 1 and self._pixels is not None:
                self._nodes.set_fill(1, self._nodes.grey, grey_rgb(self._pixels))
            else:
                self._nodes.set_fill(l, None, None)

    def _grid_colours(self, l: int, values: np.ndarray | None) -> np.ndarray | None:
        """RGBA per cell of a grid layer: its values, the input's grey levels, or ``None``."""
        if values is not None:
            return self._layer_maps[l - 1].rgba(values)
        if l == 1 and self._pixels is not None:
            grey = grey_rgb(self._pixels)
            return np.column_stack([grey, grey, grey, np.full_like(grey, 255)])
        return None

    # -- decorations ------------------------------------------------------------------------
    def set_highlight_layer(self, l: int | None, direction: str | None = None) -> None:
        """Put a light band behind layer ``l`` and an arrow ``"forward"``/``"backward"`` above."""
        self._decorations.highlight(l, direction)

    def set_phase(self, phase) -> None:
        """Show what a backprop phase computed: a band over its layers, its name above.

        Parameters
        ----------
        phase : Phase or None
            Anything with ``kind`` and ``layer`` as :class:`bpstudio.core.trace.Phase`:
            ``"feedforward"`` bands every layer, input to output (z^l, a^l for l = 2 … L);
            ``"output_error"`` (BP1) layer L; ``"backpropagate"`` (BP2) its layer;
            ``"gradients"`` (BP3, BP4) every layer and weight, in green; ``"update"`` every
            layer and weight, in violet. ``None`` hides the band.
        """
        if phase is None:
            self._decorations.highlight_layers(None)
        else:
            self._decorations.highlight_layers(*phase_band(phase, len(self._layout.sizes)))

    def highlight(self) -> tuple[tuple[int, int, int, int], str] | None:
        """The highlight band as ``((x, y, width, height), text)`` in :attr:`mouse_widget`
        pixels, or ``None`` when no band is shown."""
        band = self._decorations.band()
        if band is None:
            return None
        (left, top, width, height), text, _ = band
        a, b = self._widget_point(left, top), self._widget_point(left + width, top + height)
        return (a.x(), a.y(), b.x() - a.x(), b.y() - a.y()), text

    def set_saturation_marks(self, mask: Sequence[np.ndarray | None] | None) -> None:
        """Ring the neurons where ``mask[l - 1]`` is true (e.g. ``|z|`` large); ``None`` clears."""
        sizes = self._layout.sizes
        masks = [None] * len(sizes) if mask is None else list(mask)
        if len(masks) != len(sizes):
            raise ValueError(f"expected {len(sizes)} layers of marks, got {len(masks)}")
        for l, m in enumerate(masks, start=1):
            m = None if m is None else np.asarray(m, dtype=bool).reshape(-1)
            if self._nodes.has_layer(l):
                self._nodes.set_rings(l, m)
            else:
                self._grids[l].set_marks(m)

    def set_edge_filter(self, fraction: float | None) -> None:
        """Show only the strongest ``fraction`` of edges by ``|w|`` (``None``: all)."""
        if fraction is not None and not 0.0 < fraction <= 1.0:
            raise ValueError(f"the edge filter fraction must be in (0, 1], not {fraction}")
        self._colours.fraction = fraction
        self._colours.recolour()
        if self._colours.has_weights:  # strongest exactly on top, from the next ID image
            self._raster.set_draw_order(np.abs(self._colours.weights))
        self._raster.colours_changed()
        self._overlay.update()

    def fit(self) -> None:
        """Fit the whole network, its labels and the arrow in view."""
        left, top, right, bottom = self._layout.bounds()
        viewport = self._graphics.viewport()
        margin = self._decorations.label_margin(
            (left, top, right, bottom), viewport.width(), viewport.height(), self.fontMetrics()
        )
        rect = QRectF(left - margin, top - 12, right - left + 2 * margin, bottom - top + 22)
        self._box.setRange(rect, padding=0)
        if self._colours.has_weights:
            self._raster.set_draw_order(np.abs(self._colours.weights))

    # -- selection and focus ----------------------------------------------------------------
    def select_weight(self, l: int, j: int, k: int) -> None:
        """Highlight edge ``w^l_jk`` and emit :attr:`weight_selected`."""
        e = self._layout.edge_id(l, j, k)
        self._selection = ("weight", l, j, k)
        self._overlay.set_selected(e)
        self._apply_focus()
        self.weight_selected.emit(l, j, k)

    def select_neuron(self, l: int, j: int) -> None:
        """Focus neuron ``j`` of layer ``l`` (its edges in front, the rest faded); emit."""
        if not (1 <= l <= len(self._layout.sizes) and 0 <= j < self._layout.sizes[l - 1]):
            raise IndexError(f"no neuron j = {j} in layer l = {l}")
        self._selection = ("neuron", l, j)
        self._overlay.set_selected(None)
        self._apply_focus()
        self.neuron_selected.emit(l, j)

    def clear_selection(self) -> None:
        """Drop the selection and emit :attr:`selection_cleared`."""
        self._selection = None
        self._overlay.set_selected(None)
        self._apply_focus()
        self.selection_cleared.emit()

    def set_highlight_edges(self, edges) -> None:
        """Draw these weights' edges ``(l, j, k)`` in front, in orange (``None``: none) — the
        paths of the sum over paths."""
        lay = self._layout
        ids = [] if not edges else [lay.edge_id(l, j, k) for l, j, k in edges]
        self._overlay.set_path_edges(ids)

    @property
    def highlighted_edges(self) -> list[tuple[int, int, int]]:
        """The ``(l, j, k)`` of the edges drawn as highlighted paths."""
        return [self._layout.edge_ljk(int(e)) for e in self._overlay.path_edges]

    def set_focus_neuron(self, l: int | None, j: int | None = None) -> None:
        """Hover focus on neuron ``(l, j)`` (like a selected neuron); ``None`` clears it."""
        self._hover = None if l is None or j is None else (int(l), int(j))
        self._apply_focus()

    def _apply_focus(self) -> None:
        selected = (
            self._selection[1:] if self._selection and self._selection[0] == "neuron" else None
        )
        focus = self._hover or selected
        if (self._hover, selected) == self._focus_state:
            return
        self._focus_state = (self._hover, selected)
        emphasis = {n: pen for n, pen in ((selected, SELECTED_PEN), (self._hover, HOVER_PEN)) if n}
        self._nodes.set_emphasis(emphasis)
        for g, item in self._grids.items():
            item.set_emphasis({j: pen for (l, j), pen in emphasis.items() if l == g})
        if focus == self._focus:
            return
        self._focus = focus
        edges = None if focus is None else self._layout.edges_of_neuron(*focus)
        self._colours.focus = edges
        self._colours.recolour()
        self._raster.set_front(edges)

    def node_color(self, l: int, j: int) -> QColor:
        """The fill colour currently used for neuron ``j`` of layer ``l`` (or input cell ``j``)."""
        return (
            self._nodes.brush_color(l, j)
            if self._nodes.has_layer(l)
            else self._grids[l].cell_color(j)
        )

    def value_to_color(self, value: float, l: int | None = None) -> QColor:
        """The node colour of ``value`` on the current node scale (layer ``l``'s own scale
        when each layer has one)."""
        return (self._node_map if l is None else self._layer_maps[l - 1]).qcolor(value)

    def raster_is_current(self) -> bool:
        """Whether the edge ID image matches the current view (no rebuild pending)."""
        return not self._raster.rebuild_pending()

    def refresh_now(self) -> None:
        """Rebuild a pending edge ID image immediately (tests, screenshots, benchmarks)."""
        if self._raster.rebuild_pending():
            self._raster.rebuild_now()
            self._raster.update()

    def build_seconds(self) -> float:
        """Seconds the last ID image took to build."""
        return self._raster.build_seconds

    # -- mouse ------------------------------------------------------------------------------
    def set_tooltip_provider(self, provider: Callable[[tuple], str] | None) -> None:
        """Use ``provider((kind, indices)) -> str`` for hover tooltips (``None``: the default).

        ``kind`` is ``"weight"`` with ``indices = (l, j, k)`` or ``"neuron"`` with ``(l, j)``.
        """
        self._mouse.tooltip_provider = provider or self.default_tooltip

    def default_tooltip(self, hit: tuple) -> str:
        """Tooltip text of a hover hit: ``w`` with its indices, or the neuron and its value."""
        kind, idx = hit
        if kind == "weight":
            l, j, k = idx
            w = self._colours.weights[self._layout.edge_id(l, j, k)]
            name = self._edge_quantity
            return f"{name}^{l}_{j},{k} = {w:.4g}\n(l = {l}, j = {j}, k = {k})"
        l, j = idx
        values = self._values[l - 1]
        text = f"neuron j = {j} of layer l = {l}"
        return text if values is None else f"{text}\n{self._node_label} = {values[j]:.4g}"

    def _on_view_changed(self, *_args) -> None:
        self._raster.schedule_rebuild()
