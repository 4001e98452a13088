"""Where every neuron and every edge of the network view sits, in data coordinates.

Pure NumPy, no Qt: the geometry and the vectorised hit tests can be tested on their own.

Conventions
-----------
* Book layer number ``l`` runs from 1 (input) to ``L`` (output); ``sizes[l - 1]`` is ``n_l``.
* ``weights[l - 2]`` is ``w^l`` of shape ``(n_l, n_(l-1))``; ``w[j, k]`` joins neuron ``k`` of
  layer ``l - 1`` to neuron ``j`` of layer ``l``.
* Edges are numbered globally in the order of ``np.concatenate([w.ravel() for w in weights])``:
  edge ``e = offsets[l - 2] + j * n_(l-1) + k``.
* Data coordinates: layers are columns from left to right; ``y`` grows downwards (the view
  inverts its y axis) so that image rows and neuron ``j = 0`` are at the top.
* A layer too large for legible circles (more than :data:`MAX_CIRCLES` neurons) is drawn as a
  :class:`Grid` of square cells, row-major (neuron ``j`` in row ``j // cols``, column
  ``j % cols``), as an image input is. Edges run between the grids' borders.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

#: Height of the band in which each column of neurons is centred.
COLUMN_HEIGHT = 100.0
#: Largest distance between neighbouring neurons and largest node radius (data units).
MAX_SPACING = 12.0
MAX_RADIUS = 3.8
#: Height of the input image grid (data units).
IMAGE_HEIGHT = 60.0
#: The whole network aims at this width; the gaps between layers stay in ``GAP_LIMITS``.
TARGET_WIDTH = 175.0
GAP_LIMITS = (55.0, 110.0)
#: Layers with more neurons than this are drawn as a grid of cells rather than circles.
MAX_CIRCLES = 40
#: Smallest side of a grid cell (data units); a grid has at most ``COLUMN_HEIGHT / GRID_CELL``
#: rows and grows columns beyond that.
GRID_CELL = 2.0


@dataclass(frozen=True)
class Grid:
    """A layer drawn as ``rows x cols`` cells in the rectangle ``(left, top, width, height)``."""

    left: float
    top: float
    width: float
    height: float
    rows: int
    cols: int

    @property
    def rect(self) -> tuple[float, float, float, float]:
        return (self.left, self.top, self.width, self.height)

    @property
    def shape(self) -> tuple[int, int]:
        return (self.rows, self.cols)

    def cell_at(self, x: float, y: float) -> int | None:
        """Row-major cell number under data point ``(x, y)``, or ``None`` outside the grid."""
        u, v = (x - self.left) / self.width, (y - self.top) / self.height
        if 0 <= u < 1 and 0 <= v < 1:
            return int(v * self.rows) * self.cols + int(u * self.cols)
        return None


@dataclass(frozen=True)
class NetworkLayout:
    """Geometry of one architecture.

    Attributes
    ----------
    sizes : tuple of int
        ``(n_1, ..., n_L)``.
    image_shape : tuple of int or None
        ``(rows, cols)`` when the input layer is drawn as an image grid.
    x : numpy.ndarray
        ``(L,)`` column position of each layer (the image centre for an image input).
    centres : tuple of numpy.ndarray
        ``centres[l - 1]`` is the ``(n_l, 2)`` array of node (or image cell) centres.
    radius : numpy.ndarray
        ``(L,)`` node radius per layer (half a cell for an image input).
    image_rect : tuple of float or None
        ``(left, top, width, height)`` of the image grid.
    offsets : numpy.ndarray
        ``(L,)``: edges of ``w^l`` are ``offsets[l - 2] : offsets[l - 1]``.
    segments : numpy.ndarray
        ``(n_edges, 4)`` rows ``(x0, y0, x1, y1)`` from the source centre to the target centre.
    span_x : numpy.ndarray
        ``(L - 1, 2)``: the x interval in which the edges of each ``w^l`` are visible (from a
        grid's right border, or a column, to the next grid's left border or column).
    grids : tuple of (Grid or None)
        ``grids[l - 1]``: the grid layer ``l`` is drawn as, or ``None`` for circles. For an
        image input, ``grids[0]`` is the image.
    """

    sizes: tuple[int, ...]
    image_shape: tuple[int, int] | None
    x: np.ndarray
    centres: tuple[np.ndarray, ...]
    radius: np.ndarray
    image_rect: tuple[float, float, float, float] | None
    offsets: np.ndarray
    segments: np.ndarray
    span_x: np.ndarray
    grids: tuple[Grid | None, ...] = ()

    @property
    def n_edges(self) -> int:
        """Number of weights in the network."""
        return int(self.offsets[-1])

    def bounds(self) -> tuple[float, float, float, float]:
        """Return ``(left, top, right, bottom)`` around every node and the image grid."""
        # Items ask for this on every paint; the layout never changes, so compute it once.
        cached = self.__dict__.get("_bounds")
        if cached is None:
            cached = self.__dict__["_bounds"] = self._compute_bounds()
        return cached

    def _compute_bounds(self) -> tuple[float, float, float, float]:
        pts = np.concatenate(self.centres)
        r = float(self.radius.max())
        left, top = pts.min(axis=0) - r
        right, bottom = pts.max(axis=0) + r
        for g in self.grids:
            if g is not None:
                left, top = min(left, g.left), min(top, g.top)
                right, bottom = max(right, g.left + g.width), max(bottom, g.top + g.height)
        return float(left), float(top), float(right), float(bottom)

    def edge_id(self, l: int, j: int, k: int) -> int:
        """Return the global edge number of ``w^l_jk`` (raises ``IndexError`` if out of range)."""
        if not 2 <= l <= len(self.sizes):
            raise IndexError(f"layer l = {l} has no incoming weights (2 <= l <= {len(self.sizes)})")
        n_in, n_out = self.sizes[l - 2], self.sizes[l - 1]
        if not (0 <= j < n_out and 0 <= k < n_in):
            raise IndexError(f"w^{l}_jk needs 0 <= j < {n_out} and 0 <= k < {n_in}")
        return int(self.offsets[l - 2]) + j * n_in + k

    def edge_ljk(self, e: int) -> tuple[int, int, int]:
        """Return ``(l, j, k)`` of global edge number ``e``."""
        p = int(np.searchsorted(self.offsets, e, side="right")) - 1
        j, k = divmod(int(e) - int(self.offsets[p]), self.sizes[p])
        return p + 2, j, k

    def edges_of_neuron(self, l: int, j: int) -> np.ndarray:
        """Return the global numbers of every edge into and out of neuron ``j`` of layer ``l``."""
        parts = []
        if l >= 2:
            n_in = self.sizes[l - 2]
            parts.append(int(self.offsets[l - 2]) + j * n_in + np.arange(n_in))
        if l < len(self.sizes):
            n_out = self.sizes[l]
            parts.append(int(self.offsets[l - 1]) + np.arange(n_out) * self.sizes[l - 1] + j)
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.intp)

    def edge_point(self, e: int, t: float) -> tuple[float, float]:
        """Return the data point at fraction ``t`` from the source to the target of edge ``e``."""
        x0, y0, x1, y1 = self.segments[e]
        return float(x0 + t * (x1 - x0)), float(y0 + t * (y1 - y0))


def _column(n: int, x: float) -> tuple[np.ndarray, float]:
    """Centres of ``n`` neurons in a column at ``x`` and their radius."""
    spacing = min(COLUMN_HEIGHT / n, MAX_SPACING)
    y = COLUMN_HEIGHT / 2 + (np.arange(n) - (n - 1) / 2) * spacing
    return np.column_stack([np.full(n, x), y]), min(0.45 * spacing, MAX_RADIUS)


def _image_grid(shape: tuple[int, int], x: float) -> Grid:
    """The grid of an image input, ``IMAGE_HEIGHT`` tall, centred at ``x``."""
    rows, cols = shape
    cell = IMAGE_HEIGHT / rows
    width = cell * cols
    return Grid(x - width / 2, (COLUMN_HEIGHT - IMAGE_HEIGHT) / 2, width, IMAGE_HEIGHT, rows, cols)


def _cell_grid(n: int, x: float) -> Grid:
    """The grid of a large layer: cells at least ``GRID_CELL`` wide, the column's full height."""
    cols = math.ceil(n / math.floor(COLUMN_HEIGHT / GRID_CELL))
    rows = math.ceil(n / cols)
    cell = COLUMN_HEIGHT / rows
    return Grid(x - cols * cell / 2, 0.0, cols * cell, rows * cell, rows, cols)


def _grid_centres(grid: Grid, n: int) -> np.ndarray:
    """Centres of cells ``0 .. n - 1`` of a grid, row-major."""
    r, c = np.divmod(np.arange(n), grid.cols)
    w, h = grid.width / grid.cols, grid.height / grid.rows
    return np.column_stack([grid.left + (c + 0.5) * w, grid.top + (r + 0.5) * h])


def _layer_grid(i: int, n: int, image_shape) -> Grid | None:
    if i == 0 and image_shape is not None:
        return _image_grid(image_shape, 0.0)
    return _cell_grid(n, 0.0) if n > MAX_CIRCLES else None


def make_layout(sizes: Sequence[int], image_shape: tuple[int, int] | None = None) -> NetworkLayout:
    """Compute the geometry of a network.

    Parameters
    ----------
    sizes : sequence of int
        Neurons per layer, input first; at least two layers.
    image_shape : tuple of int, optional
        ``(rows, cols)`` with ``rows * cols == sizes[0]``: draw the input layer as that grid.

    Returns
    -------
    NetworkLayout
    """
    sizes = tuple(int(n) for n in sizes)
    if len(sizes) < 2 or min(sizes) < 1:
        raise ValueError(f"sizes must list at least two positive layer sizes, got {sizes}")
    if image_shape is not None:
        image_shape = (int(image_shape[0]), int(image_shape[1]))
        if image_shape[0] * image_shape[1] != sizes[0]:
            raise ValueError(f"image_shape {image_shape} does not hold {sizes[0]} input neurons")
    shapes = [_layer_grid(i, n, image_shape) for i, n in enumerate(sizes)]
    half = [0.0 if g is None else g.width / 2 for g in shapes]
    n_gaps = len(sizes) - 1
    gap = float(np.clip((TARGET_WIDTH - 2 * sum(half) + half[0]) / n_gaps, *GAP_LIMITS))
    xs = [0.0]
    for i in range(1, len(sizes)):
        xs.append(xs[-1] + half[i - 1] + gap + half[i])
    grids, centres, radius = [], [], []
    for n, x, g in zip(sizes, xs, shapes, strict=True):
        if g is None:
            c, r = _column(n, x)
        else:
            g = Grid(g.left + x, g.top, g.width, g.height, g.rows, g.cols)
            c, r = _grid_centres(g, n), g.width / g.cols / 2
        grids.append(g)
        centres.append(c)
        radius.append(r)
    offsets = np.concatenate([[0], np.cumsum([a * b for a, b in zip(sizes, sizes[1:])])])
    segments = _segments(centres)
    span_x = np.array([(xs[p] + half[p], xs[p + 1] - half[p + 1]) for p in range(n_gaps)])
    return NetworkLayout(
        sizes,
        image_shape,
        np.array(xs),
        tuple(centres),
        np.array(radius),
        None if image_shape is None else grids[0].rect,
        offsets.astype(np.intp),
        segments,
        span_x,
        tuple(grids),
    )


def _segments(centres) -> np.ndarray:
    """Segments of every edge, source centre to target centre, in global edge order."""
    segments = []
    for p in range(len(centres) - 1):
        src, dst = centres[p], centres[p + 1]
        a = np.tile(src, (len(dst), 1))
        b = np.repeat(dst, len(src), axis=0)
        segments.append(np.column_stack([a, b]))
    return np.concatenate(segments)


def segment_distance(px: float, py: float, segments: np.ndarray) -> np.ndarray:
    """Distance from a point to each segment, vectorised.

    Parameters
    ----------
    px, py : float
        The point.
    segments : numpy.ndarray
        ``(n, 4)`` rows ``(x0, y0, x1, y1)`` in the same coordinates as the point.

    Returns
    -------
    numpy.ndarray
        ``(n,)`` Euclidean distances to the closest point of each segment.
    """
    x0, y0, x1, y1 = segments.T
    dx, dy = x1 - x0, y1 - y0
    length2 = dx * dx + dy * dy
    with np.errstate(invalid="ignore", divide="ignore"):
        t = ((px - x0) * dx + (py - y0) * dy) / length2
    t = np.clip(np.nan_to_num(t, nan=0.0), 0.0, 1.0)
    return np.hypot(x0 + t * dx - px, y0 + t * dy - py)


def pick_neuron(layout: NetworkLayout, transform, px: float, py: float, tolerance: float):
    """The neuron (or input cell) under a point, in pixel coordinates.

    Parameters
    ----------
    layout : NetworkLayout
    transform : tuple of float
        ``(sx, sy, dx, dy)``: pixel ``x = sx * x_data + dx``, ``y = sy * y_data + dy``.
    px, py : float
        The point, in pixels.
    tolerance : float
        Nodes smaller than this many pixels are hit within this radius.

    Returns
    -------
    tuple of int or None
        ``(l, j)`` of the nearest node whose disc (or the tolerance) holds the point.
    """
    sx, sy, dx, dy = transform
    x, y = (px - dx) / sx, (py - dy) / sy
    best, hit = np.inf, None
    for l, grid in enumerate(layout.grids, start=1):
        if grid is None:
            continue
        cell = grid.cell_at(x, y)
        if cell is not None:
            return (l, cell) if cell < layout.sizes[l - 1] else None
    for l in range(1, len(layout.sizes) + 1):
        if layout.grids[l - 1] is not None:
            continue
        c = layout.centres[l - 1]
        d = np.hypot(sx * c[:, 0] + dx - px, sy * c[:, 1] + dy - py)
        j = int(np.argmin(d))
        reach = max(abs(sx) * layout.radius[l - 1], tolerance) + 0.5
        if d[j] <= reach and d[j] < best:
            best, hit = float(d[j]), (l, j)
    return hit


def pick_edge(
    layout: NetworkLayout,
    transform,
    px,
    py,
    tolerance,
    visible,
    front=(),
    on_top=None,
    candidates=None,
):
    """The edge under a point, in pixel coordinates.

    Parameters
    ----------
    layout : NetworkLayout
    transform : tuple of float
        ``(sx, sy, dx, dy)`` as in :func:`pick_neuron`.
    px, py : float
        The point, in pixels.
    tolerance : float
        Largest distance in pixels from the point to a picked edge.
    visible : numpy.ndarray
        ``(n_edges,)`` bool; hidden edges are never picked.
    front : sequence of numpy.ndarray
        Groups of edge numbers drawn in front (selected, focused), tried first, in order.
    on_top : int or None
        The edge that owns the pixel in the ID image, if known: taken when visible.
    candidates : numpy.ndarray or None
        If given, the only edges the nearest-edge search looks at (those drawn near the point,
        from the ID image): a few instead of all 794,000 of [784, 1000, 10].

    Returns
    -------
    int or None
        Global edge number: from the first front group within ``tolerance``, else ``on_top``,
        else the nearest visible edge within ``tolerance``.
    """
    scale = np.array([transform[0], transform[1]] * 2)
    shift = np.array([transform[2], transform[3]] * 2)
    for group in front:
        group = np.asarray(group, np.intp)
        group = group[visible[group]]
        if group.size:
            d = segment_distance(px, py, layout.segments[group] * scale + shift)
            if d.min() <= tolerance:
                return int(group[np.argmin(d)])
    if on_top is not None and visible[on_top]:
        return int(on_top)
    if layout.n_edges == 0:
        return None
    if candidates is None:
        candidates = np.arange(layout.n_edges)
    candidates = np.asarray(candidates, np.intp)
    candidates = candidates[visible[candidates]]
    if candidates.size == 0:
        return None
    d = segment_distance(px, py, layout.segments[candidates] * scale + shift)
    i = int(np.argmin(d))
    return int(candidates[i]) if d[i] <= tolerance else None
